"""RecordedEvents: an EventSource (celerytui.core.event_source) that hands over a list of
events given up front, as a recorded journal would, for running the Monitor without a broker."""

from __future__ import annotations

import dataclasses
import threading
from collections import deque

from celerytui.core.model import StreamStatus


class RecordedEvents:
    def __init__(self, events: list[dict], broker: str = "recording") -> None:
        self._events = list(events)
        self._pending: deque[dict] = deque()
        self._ready = threading.Event()
        self._status = StreamStatus(broker=broker)

    def start(self) -> None:
        self._pending.extend(self._events)
        self._events.clear()
        self._status.connected = True
        self._status.events_received += len(self._pending)
        self._ready.set()

    def stop(self, timeout: float = 2.0) -> None:
        self._status.connected = False

    def drain(self, max_events: int | None = None) -> list[dict]:
        n = len(self._pending) if max_events is None else min(max_events, len(self._pending))
        batch = [self._pending.popleft() for _ in range(n)]
        if not self._pending:
            self._ready.clear()
        return batch

    def wait(self, timeout: float | None = None) -> bool:
        return self._ready.wait(timeout)

    @property
    def pending(self) -> int:
        return len(self._pending)

    @property
    def status(self) -> StreamStatus:
        return dataclasses.replace(self._status)

    def push(self, events: list[dict]) -> None:
        """More events, as if they arrived now (after start)."""
        self._pending.extend(events)
        self._status.events_received += len(events)
        self._ready.set()
