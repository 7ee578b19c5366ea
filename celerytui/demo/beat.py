"""The demo's beat app (`celery -A celerytui.demo.beat beat`): celerytui's own app, with a
schedule fast enough to watch — HTTP checks every 10 s, the local disk every 30 s — instead of
the seed's every 5 minutes and daily at 03:00.
"""

from __future__ import annotations

import os

from celerytui.checks import DISK_CHECK_TASK, HTTP_CHECK_TASK
from celerytui.config import load_settings
from celerytui.tasks import make_celery_app

HTTP_EVERY = 10.0  # seconds
DISK_EVERY = 30.0
DEMO_DISK_HOST = "local"  # check_disk_usage's no-SSH host


def demo_schedule(http_targets: list[str]) -> dict[str, dict]:
    """One HTTP check entry per target, and one disk check of the local host."""
    schedule: dict[str, dict] = {
        f"demo-http-check-{i}": {"task": HTTP_CHECK_TASK, "schedule": HTTP_EVERY, "args": (url,)}
        for i, url in enumerate(http_targets)
    }
    schedule["demo-disk-check-local"] = {
        "task": DISK_CHECK_TASK, "schedule": DISK_EVERY, "args": (DEMO_DISK_HOST,),
    }
    return schedule


def _targets_from_env() -> list[str]:
    raw = os.environ.get("CELERYTUI_HTTP_TARGETS", "")
    return [url.strip() for url in raw.split(",") if url.strip()]


settings = load_settings()
app = make_celery_app(settings)
app.conf.beat_schedule = demo_schedule(list(settings.http_targets) or _targets_from_env())
