"""What a transport module provides (``Transport``), what its event lanes may call on the
EventStream that runs them (``LaneHost``) and its result receivers on the ResultWatcher
(``ResultHost``). Typing only: nothing here connects anywhere.
"""

from __future__ import annotations

import threading
from typing import Any, Protocol

from celerytui.core.queue_depth import QueueDepth


class LaneHost(Protocol):
    """The EventStream side a lane sees, on the receiver thread (core/events.py)."""

    app: Any
    max_pending: int
    enable_interval: float
    events_received: int
    events_dropped: int
    drained: threading.Event  # set when the consumer drained: a lane may wait for it

    @property
    def pending(self) -> int: ...
    @property
    def stopping(self) -> bool: ...
    def offer(self, event: dict[str, Any]) -> None: ...
    def offer_batch(self, events: list[dict[str, Any]]) -> None: ...
    def count_malformed(self, n: int = 1) -> None: ...
    def connected(self) -> None: ...
    def not_answering(self, exc: BaseException) -> None: ...
    def broadcast_wakeup(self) -> None: ...
    def broadcast_enable(self) -> None: ...


class EventLane(Protocol):
    """One connected session: ``run()`` receives until the host is stopping, and raises on
    any connection error (the EventStream backs off and makes a new lane)."""

    def run(self) -> None: ...


class ResultHost(Protocol):
    """The ResultWatcher side a result receiver sees, on the watcher's thread (core/results.py)."""

    @property
    def backend(self) -> Any:
        """The app's result backend."""
        ...

    @property
    def stopping(self) -> bool: ...
    @property
    def resync_requested(self) -> bool: ...
    def subscribed(self) -> None: ...
    def decode(self, data: Any) -> dict[str, Any] | None: ...
    def queue(self, metas: list[dict[str, Any]]) -> None: ...
    def take_resync_requests(self) -> list[str]: ...
    def retry_resync(self, ids: list[str]) -> None: ...


class ResultReceiver(Protocol):
    """One subscribed session of pushed results: ``run()`` calls ``host.subscribed()`` once
    it listens, queues metas until the host is stopping, and raises on any connection error
    (the watcher backs off, reconnects and asks for a resync)."""

    def run(self) -> None: ...


class Transport(Protocol):
    """One broker family: which URLs it reads, its event lanes, its queue depths, and whether a
    result backend URL of its kind pushes stored results (ResultWatcher's pub/sub)."""

    name: str
    schemes: tuple[str, ...]  # celerytui/url_schemes.py: what the config checks accept

    def supports(self, url: str) -> bool:
        """Is ``url`` (a broker URL, maybe a ``;`` failover list) one this transport reads?"""
        ...

    def lane_name(self, url: str, fast: bool) -> str:
        """The lane ``make_lane`` builds for ``url`` ("redis", "kombu"); ``fast=False`` asks
        for kombu's reader even where a faster one exists."""
        ...

    def make_lane(self, host: LaneHost, lane: str) -> EventLane: ...

    def queue_depths(self, conn: Any, names: list[str]) -> list[QueueDepth]:
        """Depths on an open kombu connection; raises QueueError when the broker fails."""
        ...

    def pushes_results(self, backend_url: str) -> bool:
        """Does a result backend at this URL push stored results?"""
        ...

    def result_receiver(self, host: ResultHost) -> ResultReceiver:
        """The receiver of pushed results (only asked where ``pushes_results`` is True)."""
        ...
