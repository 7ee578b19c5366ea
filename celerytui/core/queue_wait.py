"""How long has it waited? Per queue, the oldest task sent and not yet received, from events.

A broker's depth says how many wait, not for how long; the task-sent event says when each was
sent and to which queue, and task-received says a worker took it. So the oldest task with a
send and nothing after it is the queue's longest wait. Where no task-sent event was ever seen
(the app's ``task_send_sent_event`` off) the events cannot tell: ``known`` is False, and every
reader says so instead of showing 0.

Ages count from the sender's timestamp on the monitor's clock: a client whose clock is off
shifts its tasks' ages by as much. A queue the broker counted empty holds nothing sent before
that count (a purge, a lost task-received): those tasks no longer count. One pass over the
kept tasks, once a second (the Monitor's tick), read by the rule, the Queues screen and the
exporter.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from celerytui.core.model import PENDING, Task

UNKNOWN_QUEUE = ""  # a task-sent without queue or routing key
EMPTY_SLACK = 1.0  # seconds: a send stamped this close before an empty poll may still wait


@dataclass(slots=True)
class QueueWait:
    """The tasks sent to one queue and not yet received."""

    oldest_sent: float  # the oldest one's sent timestamp
    oldest_uuid: str
    waiting: int  # how many sent tasks no worker has received yet

    def age(self, now: float) -> float:
        return max(0.0, now - self.oldest_sent)


@dataclass(slots=True)
class QueueWaits:
    """Every queue's oldest waiting task, as of ``at``."""

    at: float = 0.0
    known: bool = False  # any task-sent event seen: the ages mean something
    queues: dict[str, QueueWait] = field(default_factory=dict)

    def age(self, queue: str, now: float | None = None) -> float | None:
        """Seconds the oldest task sent to ``queue`` has waited; 0 when none waits; None when
        the events cannot tell."""
        if not self.known:
            return None
        wait = self.queues.get(queue)
        return wait.age(self.at if now is None else now) if wait is not None else 0.0


def queue_waits(
    tasks: Iterable[Task],
    now: float,
    sends_seen: bool,
    emptied: Mapping[str, float] | None = None,
) -> QueueWaits:
    """One pass over the kept tasks: the PENDING ones with a send time, per queue.

    ``emptied``: queue -> when the broker last counted it empty (the poller). A task sent to it
    before then is not waiting there any more, whatever the events say: purged, or its
    task-received lost. (One second of slack for the sender's clock.)"""
    waits = QueueWaits(at=now, known=sends_seen)
    if not sends_seen:
        return waits
    found = waits.queues
    emptied = emptied or {}
    for task in tasks:
        if task.state != PENDING or task.sent is None or task.received is not None:
            continue
        queue = task.queue or task.routing_key or UNKNOWN_QUEUE
        empty_at = emptied.get(queue)
        if empty_at is not None and task.sent < empty_at - EMPTY_SLACK:
            continue
        wait = found.get(queue)
        if wait is None:
            found[queue] = QueueWait(task.sent, task.uuid, 1)
            continue
        wait.waiting += 1
        if task.sent < wait.oldest_sent:
            wait.oldest_sent, wait.oldest_uuid = task.sent, task.uuid
    return waits
