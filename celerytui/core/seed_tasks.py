"""The seed's tasks behind h / d / o / e and ``fire http|disk|order|email``, and whether an app
registers them.

Those keys send ``celerytui.tasks.*`` by name. Under ``-A proj`` (someone else's app) proj's
workers discard such messages as unregistered, so the TUI offers a key only where the app it
watches registers every task the key sends; ``t`` (any registered task) is always offered.
"""

from __future__ import annotations

from typing import Any

from celerytui.cluster_spec import DISK_CHECK_TASK, EMAIL_TASK, HTTP_CHECK_TASK, ORDER_TASKS

SEED_TASKS: dict[str, tuple[str, ...]] = {
    "http": (HTTP_CHECK_TASK,),
    "disk": (DISK_CHECK_TASK,),
    "order": ORDER_TASKS,
    "email": (EMAIL_TASK,),
}


def unregistered_seed_tasks(app: Any, kind: str) -> list[str]:
    """The tasks behind ``kind`` (a SEED_TASKS key) that ``app`` does not register."""
    registered = getattr(app, "tasks", None) or {}
    return [name for name in SEED_TASKS[kind] if name not in registered]
