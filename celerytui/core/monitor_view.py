"""MonitorView: what the TUI's app, screens and widgets read from a Monitor.

``core.monitor.Monitor`` satisfies it; the snapshot tests' fake (tests/ui/synthetic_cluster.py)
implements it explicitly. A screen is typed against this, never against Monitor, so anything a
screen needs from the monitor is a member here, not a ``getattr`` probe.

Reading rules (see ``celerytui.app``): ``state`` is read on the UI thread while the pump is
parked, or under ``lock``; ``queue_depths`` and ``queue_history`` are replaced whole by the
poller, so a reader takes one reference and keeps it.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from celery import Celery

    from celerytui.core.alerts import AlertBook
    from celerytui.core.beat_watch import BeatWatch
    from celerytui.core.control import Controller
    from celerytui.core.model import Changes, StreamStatus
    from celerytui.core.queue_wait import QueueWaits
    from celerytui.core.queues import QueueDepth
    from celerytui.core.state import ClusterState


class StatusSource(Protocol):
    """The part of an event source the UI reads: its connection status."""

    @property
    def status(self) -> StreamStatus: ...


@runtime_checkable
class MonitorView(Protocol):
    """The monitor as the UI sees it."""

    state: ClusterState
    alerts: AlertBook
    lock: threading.RLock
    clock: Callable[[], float]
    broker_display: str  # the broker URL, password redacted
    queue_depths: list[QueueDepth]  # newest poll, replaced whole
    queue_history: dict[str, deque[tuple[float, int]]]  # queue -> (time, messages)
    queue_waits: QueueWaits  # each queue's oldest task sent, not received (once a tick, whole)

    @property
    def beats(self) -> BeatWatch:
        """The beat schedule's runs as the events tell them: last, missed, late per entry."""
        ...

    @property
    def events(self) -> StatusSource:
        """The event lane; the UI reads only ``events.status``."""
        ...

    @property
    def app(self) -> Celery | None:
        """The watched Celery app (its name, tasks, beat schedule); None when not known."""
        ...

    @property
    def controller(self) -> Controller:
        """Control calls and task sends; the app reaches it only via ``controller_call``."""
        ...

    def start(self) -> Any:
        """Start receiving (the app calls it once, off the UI thread)."""
        ...

    def stop(self, timeout: float = ...) -> None: ...

    def pump(self, max_events: int = ...) -> Changes:
        """Apply what arrived since the last call; returns what changed."""
        ...

    def events_per_second(self) -> float:
        """Events received per second over the last few seconds (for the header)."""
        ...

    def watch_result(self, task_id: str) -> None:
        """Make sure the task's full result arrives, whatever the backend."""
        ...
