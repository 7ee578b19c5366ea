"""Lost tasks: what a worker held when it went offline or stopped sending heartbeats.

celery's State leaves such a task RECEIVED or STARTED forever, though no worker will ever say
more about it (an OOM-killed worker sends nothing). ClusterState calls `lose_tasks` when a
worker goes offline (worker-offline) or is found lost (its heartbeats stopped: the liveness
tick); every task that worker had RECEIVED or STARTED becomes LOST, a state of our own. Any
later word from a worker on the task (its task-succeeded after all, a redelivery's
task-received on another worker) replaces LOST as usual (state._decided), so the count
corrects itself: `lost_tasks` reads the tasks still LOST, never a stale tally.

Rare (a worker dies), so finding its tasks scans the kept tasks once instead of indexing every
event on the hot path.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from celerytui.core.model import LOST, RECEIVED, STARTED, Changes, Task
from celerytui.core.series_caps import SeriesCaps

HELD = frozenset({RECEIVED, STARTED})  # what a worker held: lost with it
OFFLINE = "worker offline"  # why: worker-offline (a shutdown that left tasks behind)
NO_HEARTBEAT = "no heartbeat"  # why: heartbeats stopped (killed, OOM, network)


@dataclass(slots=True)
class LostEntry:
    """When and why a task was declared lost, and what it was before (the differential test
    maps LOST back to it: celery's State has no LOST)."""

    hostname: str
    lost_at: float  # the monitor's clock
    was: str  # RECEIVED or STARTED
    why: str  # OFFLINE or NO_HEARTBEAT


class _Transitions(Protocol):
    """What lose_tasks needs of ClusterState."""

    tasks: dict[str, Task]
    series: SeriesCaps
    lost: LostTasks

    def _transition(
        self, task: Task, new: str, ts: float | None, host: str | None, force: bool = False
    ) -> bool: ...


class LostTasks:
    """Tasks declared LOST, by uuid; entries of tasks that left LOST (or were evicted) are
    dropped at the next loss, so this holds at most one dead worker's tasks beyond those
    still lost."""

    def __init__(self) -> None:
        self.entries: dict[str, LostEntry] = {}
        self.declared = 0  # tasks declared lost since the state was created
        # workers that sent worker-offline in the batch being applied: their tasks are lost
        # at its end (lose_offline), in one scan
        self.offline: dict[str, str] = {}
        self.offline_at = 0.0

    def entry(self, uuid: str) -> LostEntry | None:
        return self.entries.get(uuid)

    def prune(self, tasks: dict[str, Task]) -> None:
        """Forget tasks no longer LOST (a worker spoke of them after all) or evicted."""
        stale = [u for u in self.entries if (t := tasks.get(u)) is None or t.state != LOST]
        for uuid in stale:
            del self.entries[uuid]


def lose_tasks(state: _Transitions, gone: dict[str, str], now: float, ch: Changes) -> int:
    """Every task a worker of `gone` (hostname -> why) had RECEIVED or STARTED becomes LOST;
    returns how many. One scan of the kept tasks for all of them (a cluster restart loses
    hundreds of workers in one batch). Each task is counted once in the exporter's `lost`
    counter and named in ch.new_lost and ch.tasks."""
    if not gone:
        return 0
    lost = state.lost
    lost.prune(state.tasks)
    held = [t for t in state.tasks.values() if t.state in HELD and t.worker in gone]
    for task in held:
        was, hostname = task.state, task.worker or ""
        # host None: no worker's clock stamped this, so no timestamp ever compares with it
        state._transition(task, LOST, task.state_ts, None, True)
        lost.entries[task.uuid] = LostEntry(hostname, now, was, gone[hostname])
        queue = task.series_queue
        if queue is None:
            queue = task.series_queue = task.queue or task.routing_key or ""
        state.series.count("lost", state.series.labels(task.name, hostname, queue, now))
        ch.tasks.add(task.uuid)
        ch.new_lost.append(task.uuid)
    lost.declared += len(held)
    return len(held)


def lose_offline(state: _Transitions, ch: Changes) -> int:
    """The end of an apply batch: the tasks of the workers that went offline in it."""
    gone, state.lost.offline = state.lost.offline, {}
    return lose_tasks(state, gone, state.lost.offline_at, ch)


def lost_tasks(tasks: dict[str, Task], lost: LostTasks) -> Iterator[tuple[Task, LostEntry]]:
    """The tasks LOST right now, with why, oldest loss first."""
    for uuid, entry in lost.entries.items():
        task = tasks.get(uuid)
        if task is not None and task.state == LOST:
            yield task, entry


def lost_by_worker(
    tasks: dict[str, Task], lost: LostTasks
) -> dict[str, list[tuple[Task, LostEntry]]]:
    """hostname -> its tasks LOST right now (what the alert counts)."""
    out: dict[str, list[tuple[Task, LostEntry]]] = {}
    for task, entry in lost_tasks(tasks, lost):
        out.setdefault(entry.hostname, []).append((task, entry))
    return out
