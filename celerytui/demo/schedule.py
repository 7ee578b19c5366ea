"""The demo's beat schedule: fast enough to watch — HTTP checks every 10 s, the local disk every
30 s — instead of the seed's every 5 minutes and daily at 03:00. Beat runs it
(`celerytui.demo.beat`) and the demo's dashboard shows it (the Schedule screen)."""

from __future__ import annotations

from celerytui.cluster_spec import DISK_CHECK_TASK, HTTP_CHECK_TASK

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
        "task": DISK_CHECK_TASK,
        "schedule": DISK_EVERY,
        "args": (DEMO_DISK_HOST,),
    }
    return schedule
