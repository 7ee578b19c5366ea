"""QueueDepth and QueueError: what a transport answers about its queues (core/queues.py asks)."""

from __future__ import annotations

from dataclasses import dataclass, field


class QueueError(Exception):
    """The broker could not be asked at all (unreachable, refused). One line, no secrets."""


@dataclass(slots=True)
class QueueDepth:
    name: str
    messages: int = 0
    consumers: int | None = None  # None where the broker does not know (Redis)
    by_priority: dict[int, int] = field(default_factory=dict)  # Redis: priority step -> count
    error: str | None = None  # e.g. the queue does not exist (AMQP)
