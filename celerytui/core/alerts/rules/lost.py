"""Rule over lost tasks: a worker went offline or silent holding tasks that never finished.

The tasks are marked LOST by the state (celerytui/core/state_lost.py); this rule counts the
ones still LOST per worker, so a task that reports a final state after all drops out of the
count at the next pass, and the alert clears when none is left.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from celerytui.core.alerts.registry import register
from celerytui.core.alerts.rule import Context, Finding, Rule
from celerytui.core.model import Task
from celerytui.core.state_lost import LostEntry, lost_by_worker, lost_tasks

UUIDS_LABELLED = 20  # uuids named in an alert's labels (the journal row); the count is exact
NAMES_SHOWN = 3


@register
class TasksLost(Rule):
    """N tasks lost with worker W: one alert per worker, its count corrected each pass."""

    name = "tasks-lost"
    kind = "periodic"
    watches = "tasks a worker held when it went offline or stopped its heartbeats"
    order = 22

    def evaluate(self, context: Context) -> list[Finding]:
        state = context.state
        if not state.lost.entries:
            return []
        found: list[Finding] = []
        for hostname, held in lost_by_worker(state.tasks, state.lost).items():
            names = Counter(task.name or "?" for task, _ in held)
            shown = ", ".join(
                f"{name} x{n}" if n > 1 else name for name, n in names.most_common(NAMES_SHOWN)
            )
            if len(names) > NAMES_SHOWN:
                shown += f", {len(names) - NAMES_SHOWN} more names"
            why = held[-1][1].why
            n = len(held)
            found.append(
                Finding(
                    f"tasks-lost:{hostname}",
                    "error",
                    f"{n} task{'s' if n != 1 else ''} lost with worker {hostname}",
                    f"{why}: {shown}",
                    subject=hostname,
                    labels={
                        "hostname": hostname,
                        "count": str(n),
                        "why": why,
                        "names": ",".join(sorted(names)),
                        "uuids": ",".join(task.uuid for task, _ in held[:UUIDS_LABELLED]),
                    },
                )
            )
        return found


def failure_payload(task: Task, entry: LostEntry) -> dict[str, Any]:
    """One lost task in the shape of the worker side's failure webhook POST (tasks.py
    alert_on_failure), so a receiver of failure alerts reads lost tasks the same way."""
    return {
        "task": task.name,
        "task_id": task.uuid,
        "exception": f"WorkerLostError: worker {entry.hostname} lost ({entry.why}) "
        f"while the task was {entry.was}",
        "args": task.args,  # the event's repr (a string), not the list the worker sends
        "kwargs": task.kwargs,
        "hostname": entry.hostname,
        "time": datetime.fromtimestamp(entry.lost_at, UTC).isoformat(),
    }


def failure_payloads(context: Context, hostname: str | None = None) -> list[dict[str, Any]]:
    """The failure-webhook payloads of the tasks LOST now (of one worker, or all)."""
    state = context.state
    return [
        failure_payload(task, entry)
        for task, entry in lost_tasks(state.tasks, state.lost)
        if hostname is None or entry.hostname == hostname
    ]
