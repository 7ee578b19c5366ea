"""Worker apps for the EventStream tests.

``quiet_app``: celerytui's app with task events off (``worker_send_task_events=False``), as a
worker started without ``-E`` on a stock Celery configuration. celerytui.tasks turns task events
on in its configuration, so ``start_worker(events=False)`` alone still sends them.
Use: ``start_worker(events=False, app="tests.support.events_apps:quiet_app")``.
"""

from __future__ import annotations

from celerytui.config import load_settings
from celerytui.tasks import make_celery_app

quiet_app = make_celery_app(load_settings())
quiet_app.conf.worker_send_task_events = False
