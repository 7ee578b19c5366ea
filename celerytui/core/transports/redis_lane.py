"""The Redis fast lane: Celery events read straight off Redis pub/sub, without kombu's consumer.

Why: kombu's EventReceiver on Redis tops out near 40k events/s with no processing at all, and a
subscriber that falls behind is cut off by Redis (pub/sub output buffer) and loses everything in
flight. Workers publish events through kombu's Redis fanout, i.e. ``PUBLISH`` on
``{global_keyprefix}/{db}.celeryev/<routing_key>`` of a JSON envelope whose ``body`` holds the
(base64) JSON event, or a JSON list of events for ``task.multi``. This lane ``PSUBSCRIBE``s the
same channels with redis-py (hiredis parser), decodes the envelope and body with orjson, stamps
``local_received`` and the Lamport clock as celery's EventReceiver does, and hands off in batches.

The kombu channel itself still works out the connection parameters and the channel name from the
app's transport options, so both lanes read exactly what kombu would.

Who holds a burst: a relay process (redis_relay.py, stdlib only) owns the subscribed socket and
reads it the moment bytes arrive, whatever our GIL is doing; a pump thread moves its bytes into
this process; the receiver thread parses (hiredis) and decodes only as fast as the consumer
takes events. Past RAW_LIMIT bytes waiting, messages are dropped and counted, never left to
Redis. Figures: benchmarks/firehose.py.
"""

from __future__ import annotations

import base64
import contextlib
import os
import select
import ssl
import threading
import time
from collections import deque
from typing import Any

import hiredis
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

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
from celerytui.core.transports.redis_relay import RedisRelay

try:
    from orjson import loads as json_loads  # several times faster on event bodies
except ImportError:  # pragma: no cover - orjson is a dependency; json still works
    from json import loads as json_loads  # type: ignore[assignment]


READ_SIZE = 4 << 20  # bytes asked of one recv()
DECODE_ROUND = 8  # messages decoded per hand-off
DECODE_AHEAD = 20_000  # decoded events waiting for the consumer before decoding pauses
RAW_LIMIT = 256 * 1024 * 1024  # bytes of undecoded messages held before dropping
USE_RELAY = os.environ.get("CELERYTUI_EVENTS_RELAY", "1") != "0"
JSON = "application/json"
PING = b"*1\r\n$4\r\nPING\r\n"  # answered with ["pong", ""] on a subscribed connection


class EventDecoder(EventStamper):
    """kombu's fanout envelope -> celery event dicts, as EventReceiver.event_from_message does."""

    def __init__(self, accept: set[str] | None = None) -> None:
        super().__init__()
        from kombu.serialization import prepare_accept_content

        accept_types = prepare_accept_content(accept or {"json"})  # type: ignore[no-untyped-call]
        self.accept = accept_types  # names -> content types

    def decode(self, data: bytes, now: float, here: float) -> list[dict[str, Any]]:
        """One pub/sub payload -> its events (empty, and counted as malformed, if unreadable).

        ``here`` is the local UTC offset in hours (celery's utcoffset()), computed once per batch.
        """
        try:
            payload = self._body(data)
        except Exception:  # anything unreadable is counted and skipped, never raised
            self.malformed += 1
            return []
        return self.stamp(payload, now, here)

    def _body(self, data: bytes) -> Any:
        envelope = json_loads(data)
        body = envelope["body"]
        props = envelope.get("properties") or {}
        encoding = props.get("body_encoding")
        if encoding == "base64":
            body = base64.b64decode(body)
        elif encoding and encoding.lower() != "utf-8":
            raise ValueError(f"unknown body encoding {encoding!r}")
        content_type = envelope.get("content-type")
        headers = envelope.get("headers") or {}
        if content_type == JSON and not headers.get("compression") and b'"__type__"' not in body:
            return json_loads(body)
        return self._slow_body(body, content_type, envelope.get("content-encoding"), headers)

    def _slow_body(
        self,
        body: bytes | str,
        content_type: str | None,
        content_encoding: str | None,
        headers: dict[str, Any],
    ) -> Any:
        """Compressed bodies, other accepted serializers, kombu's typed JSON: kombu decodes."""
        from kombu.compression import decompress
        from kombu.serialization import loads

        if headers.get("compression"):
            body = decompress(body, headers["compression"])  # type: ignore[no-untyped-call]
        return loads(body, content_type, content_encoding, accept=self.accept)  # type: ignore[no-untyped-call]


def channel_pattern(kombu_channel: Any, exchange: str) -> str:
    """The PSUBSCRIBE pattern kombu's own Redis fanout consumer would use for ``exchange``."""
    topic: str = kombu_channel._get_publish_topic(exchange, "*")
    prefix: str = getattr(kombu_channel, "global_keyprefix", "")
    return prefix + topic


def redis_connection(kombu_channel: Any) -> Any:
    """A redis-py Connection made from kombu's channel parameters (host, db, TLS, unix socket,
    credentials), so the fast lane reaches exactly the server kombu would."""
    params = dict(kombu_channel._connparams())
    cls = params.pop("connection_class", None) or redis.Connection
    for key in ("max_connections", "health_check_interval"):
        params.pop(key, None)
    params["retry"] = Retry(NoBackoff(), 0)  # errors surface at once; EventStream retries
    params["protocol"] = 2  # RESP2: messages are plain arrays
    if params.get("socket_keepalive") is None:
        params["socket_keepalive"] = True  # notice a broker that vanished without a FIN
    return cls(**params)


class RedisEventLane:
    """One connected session of the fast lane; raises on any connection error.

    Read first, decode second. Reading is one ``recv`` of up to 4 MB into memory; parsing and
    decoding the events costs a hundred times more per byte. If decoding came first, a burst
    would pile up in Redis's output buffer for this client and Redis would cut us off at 32 MB
    (client-output-buffer-limit pubsub). Read first, and the backlog waits in this process
    instead, up to ``raw_limit`` bytes; past that, messages are parsed but not decoded: dropped,
    their events counted (from the running average of events per message).
    """

    def __init__(self, stream: LaneHost) -> None:
        self.stream = stream
        self.app = stream.app
        conf = self.app.conf
        self.exchange = conf.event_exchange or "celeryev"
        self.decoder = EventDecoder({conf.event_serializer or "json", "json"})
        self.raw_limit = RAW_LIMIT
        self.use_relay = USE_RELAY
        self._relay: RedisRelay | None = None
        self.messages = 0  # decoded so far, and their events: the average sizes a drop
        self.events_decoded = 0
        self.max_backlog = 0  # most bytes ever waiting undecoded here
        self._chunks: deque[tuple[float, bytes]] = deque()  # (time received, bytes) unparsed
        self._bytes_in = 0  # bytes received (by _pump) and handed to the parser: their
        self._bytes_out = 0  # difference is the backlog waiting in memory
        self._arrived = threading.Event()
        self._pump_stop = False
        self._pump_error: BaseException | None = None
        self._received = time.time()  # when the chunk being parsed arrived: local_received
        self._here = 0.0  # the local UTC offset in hours, refreshed now and then
        self._reader: Any = None

    def run(self) -> None:
        """Subscribe, announce ourselves to the workers, then read until stopped."""
        stream = self.stream
        kconn = receiver_connection(self.app)
        conn = relay = None
        try:
            kconn.ensure_connection(max_retries=0)
            channel = kconn.default_channel
            pattern = channel_pattern(channel, self.exchange)
            conn = redis_connection(channel)
            conn.connect()  # AUTH, SELECT, CLIENT SETNAME: redis-py's handshake
            conn.send_command("PSUBSCRIBE", pattern)
            sock = conn._sock  # from here on, we read the socket ourselves
            sock.setblocking(False)
            reader = hiredis.Reader()
            self._await_subscribed(sock, reader)
            if self.use_relay and RedisRelay.possible(sock):
                # the relay stops reading at twice our limit: by then we drop, and it drains
                relay = self._relay = RedisRelay(sock, 2 * self.raw_limit)
                sock = relay.sock
            stream.connected()
            stream.broadcast_wakeup()
            self._read(sock, reader, conn._sock)
        finally:
            stream.count_malformed(self.decoder.malformed)
            self.decoder.malformed = 0
            if relay is not None:
                relay.close()
            if conn is not None:
                quietly(conn.disconnect)
            quietly(kconn.release)

    def _await_subscribed(self, sock: Any, reader: Any) -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not self.stream.stopping:
            if _readable(sock, POLL_INTERVAL):
                for chunk in _recv_all(sock, 1 << 16):
                    reader.feed(chunk)
                reply = reader.gets()
                if isinstance(reply, list) and reply and reply[0] == b"psubscribe":
                    return
                if isinstance(reply, Exception):
                    raise reply
        if not self.stream.stopping:
            raise TimeoutError("no PSUBSCRIBE confirmation from Redis")

    def _read(self, sock: Any, reader: Any, redis_sock: Any = None) -> None:
        """Decode on this thread while a second thread (_pump) does nothing but recv().

        A thread blocked in recv() wakes as soon as bytes arrive and needs the GIL only for a
        moment; with the relay in front, even a pump starved of the GIL costs nothing but
        memory in the relay.
        """
        stream = self.stream
        self._reader = reader
        interval = stream.enable_interval
        next_enable = time.monotonic() + interval
        self._here = utcoffset_hours()
        mono = time.monotonic
        pump = threading.Thread(
            target=self._pump, args=(sock, redis_sock), name="celerytui-events-recv", daemon=True
        )
        pump.start()
        try:
            ahead = min(DECODE_AHEAD, stream.max_pending)
            while not stream.stopping:
                if mono() >= next_enable:
                    next_enable = mono() + interval
                    self._here = utcoffset_hours()
                    stream.broadcast_enable()
                backlog = self._bytes_in - self._bytes_out
                if self._relay is not None:
                    backlog += self._relay.backlog()
                broken = self._pump_error is not None
                if (
                    not broken
                    and ahead <= stream.pending < stream.max_pending
                    and backlog <= self.raw_limit
                ):
                    # the consumer has plenty to do: decoding more now would only take the GIL
                    # from the pump (and the consumer); the bytes wait, compact
                    stream.drained.wait(POLL_INTERVAL)
                    stream.drained.clear()
                    continue
                if not self._decode_round(backlog > self.raw_limit):
                    if self._pump_error is not None and not self._chunks:
                        raise self._pump_error  # after handing over all that arrived
                    self._arrived.wait(POLL_INTERVAL)
                    self._arrived.clear()
        finally:
            self._pump_stop = True
            pump.join(2 * POLL_INTERVAL + 1)

    def _pump(self, sock: Any, redis_sock: Any = None) -> None:
        """Move bytes from the socket into memory until stopped or the connection breaks.

        Liveness: after PING_EVERY seconds with nothing read, PING Redis (on its own socket,
        whoever reads it) every PING_EVERY seconds; the "pong" comes back as bytes like any
        message. Nothing at all for HUNG_AFTER seconds: the broker is hung.
        """
        chunks, arrived, wall, mono = self._chunks, self._arrived, time.time, time.monotonic
        redis_sock = sock if redis_sock is None else redis_sock
        heard = asked = mono()
        try:
            while not (self._pump_stop or self.stream.stopping):
                if not _readable(sock, POLL_INTERVAL):
                    now = mono()
                    if now - heard >= HUNG_AFTER:
                        raise BrokerNotAnswering()
                    if now - heard >= PING_EVERY and now - asked >= PING_EVERY:
                        asked = now
                        _send_quietly(redis_sock, PING)
                    continue
                got = _recv_all(sock, READ_SIZE)
                heard = mono()
                now = wall()
                for chunk in got:
                    chunks.append((now, chunk))
                    self._bytes_in += len(chunk)
                backlog = self._bytes_in - self._bytes_out
                if backlog > self.max_backlog:
                    self.max_backlog = backlog
                arrived.set()
        except Exception as exc:  # handed to the decoding thread, which raises it
            self._pump_error = exc
            if isinstance(exc, BrokerNotAnswering):
                self.stream.not_answering(exc)  # at once, whatever the decoder is doing
            arrived.set()

    def _decode_round(self, drop: bool) -> int:
        """Parse up to DECODE_ROUND messages, feeding the parser from the backlog as needed;
        decode and hand them off (or drop them, when the backlog is over the limit)."""
        gets, chunks = self._reader.gets, self._chunks
        decode, here = self.decoder.decode, self._here
        batch: list[dict[str, Any]] = []
        n = 0
        while n < DECODE_ROUND:
            reply = gets()
            if reply is False:
                if not chunks:
                    break
                self._received, chunk = chunks.popleft()
                self._bytes_out += len(chunk)
                self._reader.feed(chunk)
                continue
            n += 1
            if type(reply) is list and len(reply) == 4 and reply[0] == b"pmessage":
                if drop:
                    self._drop_messages(1)
                else:
                    batch += decode(reply[3], self._received, here)
                    self.messages += 1
            elif isinstance(reply, Exception):
                raise reply
        if batch:
            self.events_decoded += len(batch)
            self.stream.offer_batch(batch)
        if self.decoder.malformed:
            self.stream.count_malformed(self.decoder.malformed)
            self.decoder.malformed = 0
        return n

    def _drop_messages(self, n: int) -> None:
        per_message = self.events_decoded / self.messages if self.messages else 1.0
        events = max(1, round(n * per_message))
        self.stream.events_received += events
        self.stream.events_dropped += events


def _readable(sock: Any, timeout: float) -> bool:
    """Is there something to read (TLS may hold decrypted bytes the kernel no longer sees)?"""
    pending = getattr(sock, "pending", None)
    if pending is not None and pending():
        return True
    return bool(select.select([sock], [], [], timeout)[0])


def _recv_all(sock: Any, size: int) -> list[bytes]:
    """Everything the non-blocking socket holds right now, in chunks; raises if it closed."""
    chunks: list[bytes] = []
    while True:
        try:
            chunk = sock.recv(size)
        except (BlockingIOError, InterruptedError, ssl.SSLWantReadError):
            return chunks
        if not chunk:
            raise redis.ConnectionError("Connection closed by server.")
        chunks.append(chunk)
        if len(chunk) < size:
            return chunks


def _send_quietly(sock: Any, data: bytes) -> None:
    """A few bytes on a non-blocking socket; a full send buffer only means no answer soon."""
    with contextlib.suppress(
        BlockingIOError, InterruptedError, ssl.SSLWantWriteError, ssl.SSLWantReadError
    ):
        sock.send(data)
