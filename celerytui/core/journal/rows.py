"""The journal's records: one TaskRow per task (kept current), one AlertRow per alert raised.

`task_row(task)` turns the monitor's Task into its row on the consumer thread (a Task is
mutated there, so a writer thread must never read one).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from typing import Any

from celerytui.core.model import Task

TRACEBACK_MAX = 8_000  # characters kept of a traceback (its end, where the error is)
RESULT_MAX = 2_000  # of a result's repr or JSON


@dataclass(slots=True)
class TaskRow:
    uuid: str
    name: str | None = None
    state: str = "PENDING"
    worker: str | None = None
    queue: str | None = None
    sent: float | None = None
    received: float | None = None
    started: float | None = None
    finished: float | None = None  # succeeded, failed, revoked or rejected
    runtime: float | None = None
    retries: int = 0
    exception: str | None = None
    traceback: str | None = None
    root_id: str | None = None
    parent_id: str | None = None
    args: str | None = None
    kwargs: str | None = None
    result: str | None = None
    retried: float | None = None  # the newest task-retried

    @property
    def at(self) -> float | None:
        """The time of the newest thing that happened to it: what since/until compare."""
        return max(
            (t for t in (self.finished, self.retried, self.started, self.received, self.sent) if t),
            default=None,
        )


TASK_COLUMNS = tuple(f.name for f in fields(TaskRow))


@dataclass(slots=True)
class AlertRow:
    rule: str  # the alert's key, e.g. "task-failed:proj.tasks.add" (its rule is the prefix)
    severity: str
    summary: str
    labels: dict[str, Any] = field(default_factory=dict)
    raised_at: float = 0.0
    cleared_at: float | None = None
    count: int = 1


def task_row(task: Task) -> TaskRow:
    """The journal's row for a task, as the monitor knows it now."""
    finished = task.succeeded or task.failed or task.revoked or task.rejected
    if finished is None and task.ready:
        finished = task.date_done
    result = task.result
    if task.result_is_full and task.result_full is not None:
        try:
            result = json.dumps(task.result_full, default=repr)
        except (TypeError, ValueError):
            result = repr(task.result_full)
    traceback = task.traceback
    if traceback is not None and len(traceback) > TRACEBACK_MAX:
        traceback = "..." + traceback[-TRACEBACK_MAX:]
    return TaskRow(
        task.uuid,
        task.name,
        task.state,
        task.worker,
        task.queue or task.routing_key,
        task.sent,
        task.received,
        task.started,
        finished,
        task.runtime,
        task.retries,
        task.exception,
        traceback,
        task.root_id,
        task.parent_id,
        task.args,
        task.kwargs,
        result[:RESULT_MAX] if result is not None else None,
        task.retried,
    )
