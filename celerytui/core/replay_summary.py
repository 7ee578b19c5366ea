"""What happened in a window of the journal, replayed headless (`replay --summary`).

The cluster is rebuilt as it was at the window's start (nearest checkpoint, then the events
up to it), the window's events are applied on top, and each task that had an event in the
window is counted once, by the state it ended the window in: the same merge the live monitor
did, so the counts are the ones the live view showed at the window's end.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict
from typing import Any

from celerytui.core.journal_source import JournalReader, JournalSource, event_time
from celerytui.core.replay_clock import ReplayClock

APPLY_BATCH = 5_000
UNBOUNDED_TASKS = 1 << 40  # a summary keeps every task it sees: nothing evicted, nothing lost


def summarize(
    store: JournalReader, start: float, end: float, *, per_task: bool = False
) -> dict[str, Any]:
    """``{from, to, events, tasks, by_state, by_name, workers, alerts}`` for start..end
    (``tasks``: uuid -> final state, with ``per_task``)."""
    clock = ReplayClock(start, end, playing=False)
    source = JournalSource(store, clock, max_tasks=UNBOUNDED_TASKS)
    state = source.rebuild(start)
    clock.seek(end)  # liveness and ages at the window's end
    seen: set[str] = set()
    hosts: set[str] = set()
    events = 0
    batch: list[dict[str, Any]] = []
    for event in store.iter_events(start):  # the store's end is exclusive; ours is not
        when = event_time(event)
        if when > end:
            break
        if when < start:
            continue
        events += 1
        kind = str(event.get("type", ""))
        uuid = event.get("uuid")
        if isinstance(uuid, str) and kind.startswith("task-"):
            seen.add(uuid)
        host = event.get("hostname")
        if isinstance(host, str) and kind != "task-sent":  # task-sent's is the client's
            hosts.add(host)
        if when == start:
            continue  # rebuild(start) applied it already
        batch.append(event)
        if len(batch) >= APPLY_BATCH:
            state.apply(batch)
            batch = []
    if batch:
        state.apply(batch)
    finals = {uuid: state.tasks[uuid] for uuid in seen if uuid in state.tasks}
    by_state = Counter(task.state for task in finals.values())
    by_name = Counter(task.name or "?" for task in finals.values())
    workers = {
        host: {
            "status": worker.status,
            "processed": worker.processed,
            "active": worker.active,
        }
        for host, worker in sorted(state.workers.items())
        if host in hosts
    }
    alerts_between = getattr(store, "alerts_between", None)
    alerts = [_alert(row) for row in alerts_between(start, end)] if alerts_between else []
    summary: dict[str, Any] = {
        "from": start,
        "to": end,
        "events": events,
        "tasks_seen": len(finals),
        "by_state": dict(sorted(by_state.items())),
        "by_name": dict(sorted(by_name.items())),
        "workers": workers,
        "alerts": alerts,
    }
    if per_task:
        summary["tasks"] = {uuid: task.state for uuid, task in sorted(finals.items())}
    return summary


def _alert(row: Any) -> dict[str, Any]:
    try:
        return asdict(row)
    except TypeError:
        return dict(vars(row))
