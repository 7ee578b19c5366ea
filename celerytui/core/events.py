"""EventStream: a receiver thread that hands Celery events to a consumer without ever blocking.

Why a thread of its own: the broker does not wait for slow readers. Redis disconnects a pub/sub
subscriber that lags past its output buffer, and the events in it are gone. So this thread only
receives, decodes and appends to an in-memory hand-off; when the consumer falls more than
``max_pending`` events behind, new events are dropped and counted instead of blocking.

``capture()`` raises on a disconnect and never reconnects by itself, so the thread loops with
capped exponential backoff, reports its status, and re-broadcasts ``enable_events`` (unless
read-only) so that workers started without ``-E``, or restarted, send task events.

Two lanes behind one interface: kombu's ``EventReceiver`` for any broker, and for Redis a fast
lane (``redis_events.RedisEventLane``) that reads the pub/sub channels with redis-py directly.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections import deque
from typing import Any

from celerytui.core.model import StreamStatus
from celerytui.redaction import one_line, redact, url_secrets

log = logging.getLogger(__name__)

BACKOFF_FIRST = 0.2  # seconds before the first reconnect attempt
BACKOFF_MAX = 5.0  # never wait longer than this between attempts
POLL_INTERVAL = 0.25  # how often the receiver looks at its stop flag while idle
CONNECT_TIMEOUT = 1.5  # a connect blocks the thread; stop() must still return within 2 s
SOCKET_TIMEOUT = 5.0  # a command (handshake, broadcast) that gets no answer fails after this

def broker_url_of(app: Any) -> str:
    """The broker URL the app's connections use (as a string, possibly with a password)."""
    url = app.conf.broker_url or app.conf.broker_read_url
    if isinstance(url, (list, tuple)):
        url = ";".join(url)
    if not url:
        with app.connection_for_read() as conn:
            url = conn.as_uri(include_password=True)
    return str(url)


def receiver_connection(app: Any) -> Any:
    """The app's read connection, with connects bounded so that stop() stays prompt."""
    options = dict(app.conf.broker_transport_options or {})
    options.setdefault("socket_connect_timeout", CONNECT_TIMEOUT)  # redis transport
    options.setdefault("socket_timeout", SOCKET_TIMEOUT)  # a broker that accepts, then hangs
    timeout = app.conf.broker_connection_timeout
    timeout = min(timeout, CONNECT_TIMEOUT) if timeout else CONNECT_TIMEOUT
    return app.connection_for_read(connect_timeout=timeout, transport_options=options)


class EventStream:
    """Receive a cluster's events in a thread; the consumer drains them in batches.

    ``drain()`` returns flat event dicts (``task.multi`` lists flattened), each with the
    ``local_received`` time the receiver stamped, exactly as celery's EventReceiver hands them
    to a handler.
    """

    def __init__(self, app: Any, *, read_only: bool = False, max_pending: int = 500_000,
                 enable_interval: float = 10.0, fast_redis: bool = True) -> None:
        self.app = app
        self.read_only = read_only
        self.max_pending = max_pending
        self.enable_interval = enable_interval
        self.fast_redis = fast_redis
        self._url = broker_url_of(app)
        self._secrets = tuple(url_secrets(self._url))
        self._pending: deque[dict] = deque()
        self._ready = threading.Event()
        self.drained = threading.Event()  # set by drain(): a lane may wait for the consumer
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._status_lock = threading.Lock()
        self._status = StreamStatus(broker=redact(self._url))
        self._ever_connected = False
        self._session_connected = False
        self.events_received = 0  # written by the receiver thread only
        self.events_dropped = 0
        self.malformed = 0  # messages the fast lane could not decode
        self.lane = "redis" if fast_redis and _fast_lane_possible(self._url) else "kombu"

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
        return status

    @property
    def pending(self) -> int:
        return len(self._pending)

    def drain(self, max_events: int | None = None) -> list[dict]:
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

    def offer(self, event: dict) -> None:
        """Hand one event to the consumer, or drop and count it if the consumer lags."""
        self.events_received += 1
        if len(self._pending) >= self.max_pending:
            self.events_dropped += 1
            return
        self._pending.append(event)
        if not self._ready.is_set():
            self._ready.set()

    def offer_batch(self, events: list[dict]) -> None:
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

    def broadcast_wakeup(self, connection: Any, channel: Any = None) -> None:
        """enable_events (unless read-only), then heartbeat so worker panes fill at once."""
        self.broadcast_enable(connection, channel)
        self.app.control.broadcast("heartbeat", connection=connection, channel=channel)

    def broadcast_enable(self, connection: Any, channel: Any = None) -> None:
        if not self.read_only:
            self.app.control.broadcast("enable_events", connection=connection, channel=channel)

    # -- the thread ----------------------------------------------------------------------

    def _make_lane(self) -> Any:
        if self.lane == "redis":
            from celerytui.core.redis_events import RedisEventLane

            return RedisEventLane(self)
        return KombuEventLane(self)

    def _run(self) -> None:
        delay = BACKOFF_FIRST
        while not self._stop.is_set():
            self._session_connected = False
            with self._status_lock:
                self._status.attempts += 1
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
            if self._stop.wait(delay):
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


class KombuEventLane:
    """Any broker: celery's EventReceiver over a kombu connection, one session per connect."""

    def __init__(self, stream: EventStream) -> None:
        self.stream = stream
        self.app = stream.app

    def run(self) -> None:
        """Connect, consume until stopped; raises on connection errors (the stream retries)."""
        stream = self.stream
        conn = receiver_connection(self.app)
        try:
            conn.ensure_connection(max_retries=0)
            receiver = self.app.events.Receiver(conn, handlers={"*": stream.offer})
            receiver.create_connection = lambda: conn  # consume on the connection we checked
            receiver.connect_max_retries = 0
            receiver.wakeup_workers = lambda channel=None: self._on_ready(receiver, channel)
            next_enable = [time.monotonic() + stream.enable_interval]

            def on_iteration() -> None:
                if stream.stopping:
                    receiver.should_stop = True
                    return
                now = time.monotonic()
                if now >= next_enable[0]:
                    next_enable[0] = now + stream.enable_interval
                    stream.broadcast_enable(conn, receiver.channel)

            receiver.on_iteration = on_iteration
            for _ in receiver.consume(limit=None, timeout=None, safety_interval=POLL_INTERVAL,
                                      wakeup=True):
                if stream.stopping:
                    receiver.should_stop = True
        finally:
            _quietly(conn.release)

    def _on_ready(self, receiver: Any, channel: Any) -> None:
        self.stream.connected()
        self.stream.broadcast_wakeup(receiver.connection, channel)


def _quietly(fn: Any) -> None:
    try:
        fn()
    except Exception:  # closing a dead connection may fail; nothing to do
        log.debug("ignored error while closing", exc_info=True)


def _fast_lane_possible(url: str) -> bool:
    """A single redis:// or rediss:// broker (no failover list, no sentinel)."""
    if ";" in url or url.split("://", 1)[0] not in ("redis", "rediss"):
        return False
    try:
        import celerytui.core.redis_events  # noqa: F401
    except ImportError:
        return False
    return True
