"""The demo's beat app (`celery -A celerytui.demo.beat beat`): celerytui's own app with the
demo's fast schedule (celerytui.demo.schedule)."""

from __future__ import annotations

import os

from celerytui.config import load_settings
from celerytui.demo.schedule import demo_schedule
from celerytui.tasks import make_celery_app


def _targets_from_env() -> list[str]:
    raw = os.environ.get("CELERYTUI_HTTP_TARGETS", "")
    return [url.strip() for url in raw.split(",") if url.strip()]


settings = load_settings()
app = make_celery_app(settings)
app.conf.beat_schedule = demo_schedule(list(settings.http_targets) or _targets_from_env())
