"""EventSource: where the Monitor's events come from. The live EventStream (core/events.py)
is one; anything else that hands over Celery event dicts the same way (a recorded journal,
a test's list) can stand in for it: ``Monitor(settings, source=...)``.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from celerytui.core.model import StreamStatus


@runtime_checkable
class EventSource(Protocol):
    """Event dicts as celery's EventReceiver hands them to a handler (``task.multi``
    flattened, ``local_received`` stamped), oldest first. ``drain`` and ``wait`` are called on
    the consumer thread; ``status`` from any thread."""

    def start(self) -> None:
        """Begin delivering (returns at once)."""
        ...

    def stop(self, timeout: float = 2.0) -> None:
        """Stop delivering within about ``timeout``; what is pending stays drainable."""
        ...

    def drain(self, max_events: int | None = None) -> list[dict[str, Any]]:
        """The events pending now (at most ``max_events``), oldest first; never blocks."""
        ...

    def wait(self, timeout: float | None = None) -> bool:
        """Block until events are pending (True) or ``timeout`` passes (False)."""
        ...

    @property
    def pending(self) -> int:
        """How many events wait to be drained."""
        ...

    @property
    def status(self) -> StreamStatus:
        """A copy: connected, counts received / dropped / malformed, the last error."""
        ...
