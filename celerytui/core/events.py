"""EventStream: a receiver thread that hands Celery events to a consumer without ever blocking.

Why a thread of its own: the broker does not wait for slow readers. Redis disconnects a pub/sub
subscriber that lags past its output buffer, and the events in it are gone. So this thread only
receives, decodes and appends to an in-memory hand-off; when the consumer falls more than
``max_pending`` events behind, new events are dropped and counted instead of blocking.

``capture()`` raises on a disconnect and never reconnects by itself, so the thread loops with
capped exponential backoff, reports its status, and re-broadcasts ``enable_events`` (unless
read-only) so that workers started without ``-E``, or restarted, send task events.

The lane that reads one session comes from the broker's transport (core/transports/): kombu's
``EventReceiver`` for any broker, and for Redis a fast lane that reads the pub/sub channels
with redis-py directly. Every lane puts every event through ``EventStamper`` (the checks and
stamps of celery's ``event_from_message``, minus its crashes): one malformed event is counted
and skipped, it never ends a session. Every lane also notices a broker that keeps the socket
open but answers nothing (a hung or SIGSTOPped server): after ``HUNG_AFTER`` seconds without an
answer the session ends with ``BrokerNotAnswering`` and the stream reconnects.

EventStream is the live ``EventSource`` (core/event_source.py) the Monitor reads.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections import deque
from typing import Any

from celerytui import signing
from celerytui.core.model import StreamStatus
from celerytui.core.transports import transport_for
from celerytui.core.transports.base import EventLane
from celerytui.core.transports.lane_parts import (
    BACKOFF_FIRST,
    BACKOFF_MAX,
    CONNECT_TIMEOUT,
    broker_url_of,
)
from celerytui.redaction import one_line, redact, url_secrets

log = logging.getLogger(__name__)


class EventStream:
    """Receive a cluster's events in a thread; the consumer drains them in batches.

    ``drain()`` returns flat event dicts (``task.multi`` lists flattened), each with the
    ``local_received`` time the receiver stamped, exactly as celery's EventReceiver hands them
    to a handler.
    """

    def __init__(
        self,
        app: Any,
        *,
        read_only: bool = False,
        max_pending: int = 500_000,
        enable_interval: float = 10.0,
        fast_redis: bool = True,
    ) -> None:
        self.app = app
        self.read_only = read_only
        self.max_pending = max_pending
        self.enable_interval = enable_interval
        self.fast_redis = fast_redis
        self._url = broker_url_of(app)
        self._secrets = tuple(url_secrets(self._url))
        self._pending: deque[dict[str, Any]] = deque()
        self._ready = threading.Event()
        self.drained = threading.Event()  # set by drain(): a lane may wait for the consumer
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._broadcaster: threading.Thread | None = None
        self._status_lock = threading.Lock()
        self._status = StreamStatus(broker=redact(self._url))
        self._ever_connected = False
        self._session_connected = False
        self.events_received = 0  # written by the receiver thread only
        self.events_dropped = 0
        self.malformed = 0  # messages and events a lane could not decode (counted, skipped)
        self.transport = transport_for(self._url)
        self.lane = self.transport.lane_name(self._url, fast_redis)  # "redis" | "kombu"

    # -- the consumer's side -------------------------------------------------------------

    def start(self) -> None:
        """Start the receiver thread (returns at once; connecting happens in the thread)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="celerytui-events", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        """Stop receiving and join the thread; events already pending stay drainable."""
        self._stop.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
            if thread.is_alive():
                log.debug("event receiver did not stop within %.1fs", timeout)
            else:
                self._thread = None
        with self._status_lock:
            self._status.connected = False

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def status(self) -> StreamStatus:
        """A copy of the connection status, safe to read from any thread."""
        with self._status_lock:
            status = dataclasses.replace(self._status)
        status.events_received = self.events_received
        status.events_dropped = self.events_dropped
        status.malformed = self.malformed
        return status

    @property
    def pending(self) -> int:
        return len(self._pending)

    def drain(self, max_events: int | None = None) -> list[dict[str, Any]]:
        """Take the events pending now (at most max_events), oldest first; never blocks."""
        self._ready.clear()
        pending = self._pending
        n = len(pending)
        if max_events is not None:
            n = min(n, max_events)
        popleft = pending.popleft
        batch = [popleft() for _ in range(n)]
        self.drained.set()
        if pending:
            self._ready.set()
        return batch

    def wait(self, timeout: float | None = None) -> bool:
        """Block until events are pending (True) or timeout passes (False)."""
        if self._pending:
            return True
        return self._ready.wait(timeout) or bool(self._pending)

    # -- the receiver's side (called on the receiver thread by the lanes) ---------------

    def offer(self, event: dict[str, Any]) -> None:
        """Hand one event to the consumer, or drop and count it if the consumer lags."""
        self.events_received += 1
        if len(self._pending) >= self.max_pending:
            self.events_dropped += 1
            return
        self._pending.append(event)
        if not self._ready.is_set():
            self._ready.set()

    def offer_batch(self, events: list[dict[str, Any]]) -> None:
        """Hand a batch to the consumer; what does not fit under max_pending is dropped."""
        n = len(events)
        self.events_received += n
        room = self.max_pending - len(self._pending)
        if room < n:
            self.events_dropped += n - max(room, 0)
            if room <= 0:
                return
            events = events[:room]
        self._pending.extend(events)
        if not self._ready.is_set():
            self._ready.set()

    def count_malformed(self, n: int = 1) -> None:
        self.malformed += n

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def not_answering(self, exc: BaseException) -> None:
        """A lane's watchdog: the broker stopped answering; say so now, the session ends soon."""
        self._failed(exc)

    def connected(self) -> None:
        """A lane calls this once it is subscribed and receiving."""
        now = time.time()
        with self._status_lock:
            s = self._status
            if self._ever_connected:
                s.reconnects += 1
            s.connected = True
            s.since = now
            s.attempts = 0
        self._ever_connected = True
        self._session_connected = True

    def broadcast_wakeup(self) -> None:
        """enable_events (unless read-only), then heartbeat so worker panes fill at once."""
        self._broadcast(("heartbeat",) if self.read_only else ("enable_events", "heartbeat"))

    def broadcast_enable(self) -> None:
        if not self.read_only:
            self._broadcast(("enable_events",))

    def _broadcast(self, commands: tuple[str, ...]) -> None:
        """On a thread and a connection of their own: kombu retries a publish until the broker
        answers, and a hung broker must not hold the receiver. One at a time: a broadcast due
        while the last one still waits is skipped. None on a signed cluster this monitor
        cannot sign for: its workers would drop (and log) every one."""
        if signing.state_of(self.app).refusal is not None:
            return
        previous = self._broadcaster
        if previous is not None and previous.is_alive():
            return
        thread = threading.Thread(
            target=self._send_broadcasts, args=(commands,), name="celerytui-broadcast", daemon=True
        )
        self._broadcaster = thread
        thread.start()

    def _send_broadcasts(self, commands: tuple[str, ...]) -> None:
        from celerytui.core.broker_errors import bounded_connection

        try:
            with bounded_connection(
                self.app, CONNECT_TIMEOUT, write=True, error=ConnectionError
            ) as conn:
                for command in commands:
                    self.app.control.broadcast(command, connection=conn)
        except Exception as exc:  # the lanes see broker trouble for themselves
            log.debug(
                "broadcast %s failed: %s",
                commands,
                one_line(exc, with_type=True, secrets=self._secrets),
            )

    # -- the thread ----------------------------------------------------------------------

    def _make_lane(self) -> EventLane:
        return self.transport.make_lane(self, self.lane)

    def _run(self) -> None:
        delay = BACKOFF_FIRST
        while not self._stop.is_set():
            self._session_connected = False
            with self._status_lock:
                self._status.attempts += 1
            began = time.monotonic()
            try:
                self._make_lane().run()
            except Exception as exc:  # any broker error: report, back off, retry
                if self._stop.is_set():
                    break
                self._failed(exc)
            else:
                if self._stop.is_set():
                    break
                self._failed(ConnectionError("event stream ended"))
            if self._session_connected:
                delay = BACKOFF_FIRST  # a session that worked: retry soon after it breaks
            # an attempt that waited out a timeout (a hung broker: connection accepted, no
            # answer) has waited enough: retry at once, so the stream is back within about
            # CONNECT_TIMEOUT of the broker answering again, however long it was frozen
            waited = time.monotonic() - began
            pause = 0.0 if waited >= CONNECT_TIMEOUT else max(0.0, delay - waited)
            if self._stop.wait(pause):
                break
            delay = min(delay * 2, BACKOFF_MAX)

    def _failed(self, exc: BaseException) -> None:
        line = one_line(exc, with_type=True, secrets=self._secrets)
        log.debug("event stream: %s", line)
        with self._status_lock:
            s = self._status
            if s.connected or s.since is None:
                s.since = time.time()
            s.connected = False
            s.last_error = line
