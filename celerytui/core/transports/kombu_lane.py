"""The kombu lane: celery's EventReceiver over a kombu connection, for any broker.

Guarded so that one bad message never ends a session: events go through EventStamper, a body
kombu cannot decode is counted (``on_decode_error``), and on kombu's virtual transports (Redis)
a message whose envelope is unreadable is counted and skipped. A broker that keeps the socket
open but answers nothing is noticed by AMQP heartbeats (``heartbeat``) or, where the transport
has none, by a ``Watchdog`` that asks it something (``pinger``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from celerytui.core.hung_sockets import cut_socket
from celerytui.core.transports.base import LaneHost
from celerytui.core.transports.lane_parts import (
    HUNG_AFTER,
    PING_EVERY,
    POLL_INTERVAL,
    BrokerNotAnswering,
    EventStamper,
    quietly,
    receiver_connection,
    utcoffset_hours,
)


class Pinger(Protocol):
    """Asks the broker something on a connection of its own; raises when it gets no answer."""

    def ping(self) -> None: ...
    def close(self) -> None: ...


class KombuEventLane:
    """One session per connect; raises on connection errors (the stream retries)."""

    def __init__(
        self,
        stream: LaneHost,
        *,
        heartbeat: float | None = None,
        pinger: Pinger | None = None,
        queue: Callable[[Any], Any] | None = None,
    ) -> None:
        self.stream = stream
        self.queue = queue  # receiver -> the kombu Queue to consume (None: celery's own)
        self.app = stream.app
        self.heartbeat = heartbeat
        self.pinger = pinger
        self.stamper = EventStamper()
        self.here = utcoffset_hours()
        self.watchdog: Watchdog | None = None

    @property
    def hung(self) -> BaseException | None:
        return self.watchdog.hung if self.watchdog is not None else None

    def run(self) -> None:
        """Connect, consume until stopped; raises on connection errors (the stream retries)."""
        stream = self.stream
        conn = receiver_connection(self.app, heartbeat=self.heartbeat)
        watchdog = None
        try:
            conn.ensure_connection(max_retries=0)
            receiver = self.app.events.Receiver(conn, handlers={"*": stream.offer})
            if self.queue is not None:  # e.g. the recorder's named durable queue
                receiver.queue = self.queue(receiver)
            receiver.create_connection = lambda: conn  # consume on the connection we checked
            receiver.connect_max_retries = 0
            receiver.wakeup_workers = lambda channel=None: self._on_ready(receiver, channel)
            receiver._receive = self._receive  # get_consumers() hands this to the Consumer
            receiver.on_decode_error = lambda message, exc: stream.count_malformed()
            _guard_virtual_transport(conn, stream.count_malformed)
            if self.heartbeat is not None:
                conn.heartbeat_check = _hang_check(conn, stream)
            if self.pinger is not None:
                watchdog = self.watchdog = Watchdog(stream, self.pinger)
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
            for _ in receiver.consume(
                limit=None, timeout=None, safety_interval=POLL_INTERVAL, wakeup=True
            ):
                if stream.stopping or self.hung is not None:
                    receiver.should_stop = True
            if self.hung is not None and not stream.stopping:
                raise self.hung
        finally:
            if watchdog is not None:
                watchdog.stop()
            elif self.pinger is not None:
                quietly(self.pinger.close)
            quietly(conn.release)

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

    def __init__(self, stream: LaneHost, pinger: Pinger) -> None:
        self.stream = stream
        self.pinger = pinger
        self.hung: BaseException | None = None
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name="celerytui-watchdog", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        """Never waits on a ping in flight: the thread closes its connection as it leaves."""
        self._done.set()
        if self._thread is None:
            quietly(self.pinger.close)

    def _run(self) -> None:
        try:
            self._watch()
        finally:
            quietly(self.pinger.close)

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


def _hang_check(conn: Any, stream: LaneHost) -> Callable[..., None]:
    """``conn.heartbeat_check`` for a lane with AMQP heartbeats (kombu's consume loop calls it
    too). Missed heartbeats mean a broker that keeps the socket open but answers nothing: say so
    at once (``not_answering``), then cut the socket, since kombu's way out of the session
    (cancel the consumer, close the channel and connection) waits for answers that never come.
    """
    check = conn.heartbeat_check

    def hang_check(rate: int = 2) -> None:
        try:
            check(rate)
        except conn.connection_errors as exc:  # ConnectionForced: too many heartbeats missed
            hung = BrokerNotAnswering()
            stream.not_answering(hung)
            cut_socket(conn)
            raise hung from exc

    return hang_check


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
