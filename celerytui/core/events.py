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

Both lanes put every event through ``EventStamper`` (the checks and stamps of celery's
``event_from_message``, minus its crashes): one malformed event is counted and skipped, it never
ends a session. Both lanes also notice a broker that keeps the socket open but answers nothing
(a hung or SIGSTOPped server): after ``HUNG_AFTER`` seconds without an answer the session ends
with ``BrokerNotAnswering`` and the stream reconnects.
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
PING_EVERY = 2.0  # seconds of silence from the broker before a lane asks it something
HUNG_AFTER = 6.0  # seconds of silence, a question asked, after which the broker is down
AMQP_HEARTBEAT = 3.0  # AMQP lanes: two missed heartbeats (6 s) end the session
MAX_CLOCK = 2**62  # a Lamport clock past this is nonsense; ours is used instead

class BrokerNotAnswering(TimeoutError):
    """The broker keeps the connection open but answers nothing (hung, or stopped)."""

    def __init__(self) -> None:
        super().__init__(f"broker not answering for {HUNG_AFTER:g} s")


class EventStamper:
    """Decoded bodies -> the event dicts celery's EventReceiver hands a handler: task.multi
    lists flattened, the Lamport clock and ``local_received`` stamped, timestamps localized.

    Unlike ``EventReceiver.event_from_message`` it never raises. What every consumer relies on
    is checked: a dict with a string ``type``, a task event's ``uuid`` and a worker event's
    ``hostname`` non-empty strings; anything else is counted in ``malformed`` and skipped. A
    clock, timestamp or offset of the wrong type is left for ClusterState (which ignores it).
    """

    def __init__(self) -> None:
        self.clock = 0  # Lamport clock of what we have seen; only the receiver thread uses it
        self.malformed = 0

    def stamp(self, payload: Any, now: float, here: float) -> list[dict]:
        """``here`` is the local UTC offset in hours (celery's utcoffset()), once per batch."""
        events = payload if payload.__class__ is list else [payload]
        out = []
        clock = self.clock
        for event in events:
            # checks inlined: this runs for every event of a firehose
            kind = event.get("type") if event.__class__ is dict else None
            if kind.__class__ is not str:
                self.malformed += 1
                continue
            if kind.startswith("task-"):
                key = event.get("uuid")
            elif kind.startswith("worker-"):
                key = event.get("hostname")
            else:
                key = kind
            if key.__class__ is not str or not key:
                self.malformed += 1
                continue
            if kind == "task-sent":
                # clients never sync their clock, so theirs is not used (as celery does)
                sent_clock = event["clock"] = (clock or 1) - 1
                clock = max(clock, sent_clock) + 1
            else:
                other = event.get("clock")
                if other.__class__ is int and 0 <= other < MAX_CLOCK:
                    clock = max(clock, other) + 1
                else:
                    clock += 1
                    event["clock"] = clock
            offset = event.get("utcoffset")
            timestamp = event.get("timestamp")
            if offset is not None and timestamp is not None:
                try:  # noqa: SIM105 (suppress() costs 6x more, and this runs per event)
                    event["timestamp"] = timestamp - (offset - here) * 3600
                except (TypeError, ValueError, OverflowError):
                    pass  # not numbers: ClusterState falls back to local_received
            event["local_received"] = now
            out.append(event)
        self.clock = clock
        return out


def utcoffset_hours() -> float:
    from celery.utils.time import utcoffset

    return utcoffset()


def broker_url_of(app: Any) -> str:
    """The broker URL the app's connections use (as a string, possibly with a password)."""
    url = app.conf.broker_url or app.conf.broker_read_url
    if isinstance(url, (list, tuple)):
        url = ";".join(url)
    if not url:
        with app.connection_for_read() as conn:
            url = conn.as_uri(include_password=True)
    return str(url)


def receiver_connection(app: Any, socket_timeout: float | None = None) -> Any:
    """The app's read connection, with connects bounded so that stop() stays prompt.

    ``socket_timeout`` (when given) bounds every command whatever the transport options say;
    AMQP connections get heartbeats often enough to notice a hung broker."""
    options = dict(app.conf.broker_transport_options or {})
    options.setdefault("socket_connect_timeout", CONNECT_TIMEOUT)  # redis transport
    options.setdefault("socket_timeout", SOCKET_TIMEOUT)  # a broker that accepts, then hangs
    if socket_timeout is not None:
        options["socket_timeout"] = socket_timeout
    timeout = app.conf.broker_connection_timeout
    timeout = min(timeout, CONNECT_TIMEOUT) if timeout else CONNECT_TIMEOUT
    extra = {}
    if str(broker_url_of(app)).split("://", 1)[0] in ("amqp", "amqps", "pyamqp"):
        beat = app.conf.broker_heartbeat
        extra["heartbeat"] = min(beat, AMQP_HEARTBEAT) if beat else AMQP_HEARTBEAT
    return app.connection_for_read(connect_timeout=timeout, transport_options=options, **extra)


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
        self._broadcaster: threading.Thread | None = None
        self._status_lock = threading.Lock()
        self._status = StreamStatus(broker=redact(self._url))
        self._ever_connected = False
        self._session_connected = False
        self.events_received = 0  # written by the receiver thread only
        self.events_dropped = 0
        self.malformed = 0  # messages and events a lane could not decode (counted, skipped)
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
        status.malformed = self.malformed
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
        while the last one still waits is skipped."""
        previous = self._broadcaster
        if previous is not None and previous.is_alive():
            return
        thread = threading.Thread(target=self._send_broadcasts, args=(commands,),
                                  name="celerytui-broadcast", daemon=True)
        self._broadcaster = thread
        thread.start()

    def _send_broadcasts(self, commands: tuple[str, ...]) -> None:
        from celerytui.core.broker_errors import bounded_connection

        try:
            with bounded_connection(self.app, CONNECT_TIMEOUT, write=True,
                                    error=ConnectionError) as conn:
                for command in commands:
                    self.app.control.broadcast(command, connection=conn)
        except Exception as exc:  # the lanes see broker trouble for themselves
            log.debug("broadcast %s failed: %s", commands,
                      one_line(exc, with_type=True, secrets=self._secrets))

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
            # an attempt that waited out a timeout (a hung broker) has waited enough: retry
            # at once, so the stream is back the moment the broker answers again
            if self._stop.wait(max(0.0, delay - (time.monotonic() - began))):
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
    """Any broker: celery's EventReceiver over a kombu connection, one session per connect.

    Guarded so that one bad message never ends a session: events go through EventStamper, a
    body kombu cannot decode is counted (``on_decode_error``), and on kombu's virtual
    transports (Redis) a message whose envelope is unreadable is counted and skipped.
    """

    def __init__(self, stream: EventStream) -> None:
        self.stream = stream
        self.app = stream.app
        self.stamper = EventStamper()
        self.here = utcoffset_hours()
        self.watchdog: Watchdog | None = None

    @property
    def hung(self) -> BaseException | None:
        return self.watchdog.hung if self.watchdog is not None else None

    def run(self) -> None:
        """Connect, consume until stopped; raises on connection errors (the stream retries)."""
        stream = self.stream
        conn = receiver_connection(self.app)
        watchdog = None
        try:
            conn.ensure_connection(max_retries=0)
            receiver = self.app.events.Receiver(conn, handlers={"*": stream.offer})
            receiver.create_connection = lambda: conn  # consume on the connection we checked
            receiver.connect_max_retries = 0
            receiver.wakeup_workers = lambda channel=None: self._on_ready(receiver, channel)
            receiver._receive = self._receive  # get_consumers() hands this to the Consumer
            receiver.on_decode_error = lambda message, exc: stream.count_malformed()
            _guard_virtual_transport(conn, stream.count_malformed)
            if getattr(conn.transport, "driver_type", "") == "redis":
                # AMQP has heartbeats (receiver_connection); Redis needs to be asked
                watchdog = self.watchdog = Watchdog(stream, RedisPinger(self.app))
            next_enable = [time.monotonic() + stream.enable_interval]
            next_beat = [0.0]

            def on_iteration() -> None:
                if stream.stopping or self.hung is not None:
                    receiver.should_stop = True
                    return
                now = time.monotonic()
                if now >= next_beat[0]:  # AMQP: send ours, and raise on missed ones, even busy
                    next_beat[0] = now + 1.0
                    conn.heartbeat_check()
                if now >= next_enable[0]:
                    next_enable[0] = now + stream.enable_interval
                    self.here = utcoffset_hours()
                    stream.broadcast_enable()

            receiver.on_iteration = on_iteration
            for _ in receiver.consume(limit=None, timeout=None, safety_interval=POLL_INTERVAL,
                                      wakeup=True):
                if stream.stopping or self.hung is not None:
                    receiver.should_stop = True
            if self.hung is not None and not stream.stopping:
                raise self.hung
        finally:
            if watchdog is not None:
                watchdog.stop()
            _quietly(conn.release)

    def _receive(self, body: Any, message: Any = None) -> None:
        stamper = self.stamper
        events = stamper.stamp(body, time.time(), self.here)
        if events:
            self.stream.offer_batch(events)
        if stamper.malformed:
            self.stream.count_malformed(stamper.malformed)
            stamper.malformed = 0

    def _on_ready(self, receiver: Any, channel: Any) -> None:
        self.stream.connected()
        self.stream.broadcast_wakeup()
        if self.watchdog is not None:
            self.watchdog.start()


class Watchdog:
    """Asks the broker something, on a connection of its own, whenever the lane has heard
    nothing for PING_EVERY seconds. No answer (or an error) sets ``hung`` and marks the stream
    down at once; the lane sees ``hung`` and ends its session."""

    def __init__(self, stream: EventStream, pinger: Any) -> None:
        self.stream = stream
        self.pinger = pinger
        self.hung: BaseException | None = None
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="celerytui-watchdog",
                                            daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Never waits on a ping in flight: the thread closes its connection as it leaves."""
        self._done.set()
        if self._thread is None:
            _quietly(self.pinger.close)

    def _run(self) -> None:
        try:
            self._watch()
        finally:
            _quietly(self.pinger.close)

    def _watch(self) -> None:
        stream, mono = self.stream, time.monotonic
        heard, quiet_since = stream.events_received, mono()
        while not self._done.wait(POLL_INTERVAL):
            if stream.events_received != heard:  # events prove the broker answers
                heard, quiet_since = stream.events_received, mono()
                continue
            if mono() - quiet_since < PING_EVERY:
                continue
            asked = mono()
            try:
                self.pinger.ping()
            except Exception as exc:
                if self._done.is_set():
                    return
                # kombu wraps redis-py's timeout in OperationalError: tell a hang by the time
                waited = mono() - asked >= HUNG_AFTER - PING_EVERY - POLL_INTERVAL
                self.hung = BrokerNotAnswering() if waited else exc
                stream.not_answering(self.hung)
                return
            quiet_since = mono()


class RedisPinger:
    """PING on a kombu Redis connection of its own, each bounded by HUNG_AFTER - PING_EVERY."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.conn: Any = None
        self.client: Any = None

    def ping(self) -> None:
        if self.client is None:
            self.conn = receiver_connection(self.app, socket_timeout=HUNG_AFTER - PING_EVERY)
            self.conn.ensure_connection(max_retries=0)
            self.client = self.conn.default_channel.client  # the channel PINGs as it opens
        self.client.ping()

    def close(self) -> None:
        if self.conn is not None:
            self.conn.release()


class _KombuRedisWarning(logging.Filter):
    """kombu's Redis channel logs a traceback per message it cannot parse; we count those."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Cannot process event on channel")


_KOMBU_REDIS_FILTER = _KombuRedisWarning()


def _guard_virtual_transport(conn: Any, count: Any) -> None:
    """kombu's virtual transports (Redis among them) turn the raw envelope into a Message
    before any consumer sees it, and an error there ends drain_events (the session): count and
    skip such a message instead. Redis: a payload that is not JSON is counted too."""
    from queue import Empty

    transport = conn.transport
    deliver = getattr(transport, "_deliver", None)
    if deliver is None:
        return

    def guarded_deliver(message: Any, queue: Any) -> None:
        try:
            deliver(message, queue)
        except Exception:
            count()

    transport._deliver = guarded_deliver
    channel = conn.default_channel
    receive_one = getattr(channel, "_receive_one", None)
    if receive_one is None:
        return
    logging.getLogger("kombu.transport.redis").addFilter(_KOMBU_REDIS_FILTER)  # once: a set

    def guarded_receive_one(client: Any) -> Any:
        try:
            return receive_one(client)
        except Empty:  # kombu's "cannot process event": the payload was not JSON
            count()
            raise
        except RecursionError:  # JSON nested too deep for kombu's json
            count()
            raise Empty() from None

    channel._receive_one = guarded_receive_one


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
