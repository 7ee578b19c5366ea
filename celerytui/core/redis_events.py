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
"""

from __future__ import annotations

import base64
import contextlib
import logging
import time
from typing import Any

import orjson
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from celerytui.core.events import POLL_INTERVAL, EventStream

log = logging.getLogger(__name__)

MAX_BATCH_MESSAGES = 2_000  # pub/sub messages decoded before one hand-off
JSON = "application/json"


class FastLaneUnsupported(Exception):
    """The broker's settings need kombu's own consumer (e.g. a non-JSON event serializer)."""


class EventDecoder:
    """kombu's fanout envelope -> celery event dicts, as EventReceiver.event_from_message does."""

    def __init__(self, accept: set[str] | None = None) -> None:
        self.clock = 0  # Lamport clock of what we have seen; only the receiver thread uses it
        self.accept = accept or {"json"}
        self.malformed = 0

    def decode(self, data: bytes, now: float, here: float) -> list[dict]:
        """One pub/sub payload -> its events (empty, and counted as malformed, if unreadable).

        ``here`` is the local UTC offset in hours (celery's utcoffset()), computed once per batch.
        """
        try:
            payload = self._body(data)
        except Exception:  # anything unreadable is counted and skipped, never raised
            self.malformed += 1
            return []
        events = payload if isinstance(payload, list) else [payload]
        out = []
        clock = self.clock
        for event in events:
            if not isinstance(event, dict) or not isinstance(event.get("type"), str):
                self.malformed += 1
                continue
            if event["type"] == "task-sent":
                # clients never sync their clock, so theirs is not used (as celery does)
                sent_clock = event["clock"] = (clock or 1) - 1
                clock = max(clock, sent_clock) + 1
            else:
                other = event.get("clock")
                if isinstance(other, int):
                    clock = max(clock, other) + 1
                else:
                    clock += 1
                    event["clock"] = clock
            offset = event.get("utcoffset")
            timestamp = event.get("timestamp")
            if offset is not None and timestamp is not None:
                with contextlib.suppress(TypeError):
                    event["timestamp"] = timestamp - (offset - here) * 3600
            event["local_received"] = now
            out.append(event)
        self.clock = clock
        return out

    def _body(self, data: bytes) -> Any:
        envelope = orjson.loads(data)
        body = envelope["body"]
        props = envelope.get("properties") or {}
        encoding = props.get("body_encoding")
        if encoding == "base64":
            body = base64.b64decode(body)
        elif encoding and encoding.lower() != "utf-8":
            raise ValueError(f"unknown body encoding {encoding!r}")
        content_type = envelope.get("content-type")
        headers = envelope.get("headers") or {}
        if content_type == JSON and not headers.get("compression") \
                and b'"__type__"' not in body:
            return orjson.loads(body)
        return self._slow_body(body, content_type, envelope.get("content-encoding"), headers)

    def _slow_body(self, body: bytes | str, content_type: str | None,
                   content_encoding: str | None, headers: dict) -> Any:
        """Compressed bodies, other accepted serializers, kombu's typed JSON: kombu decodes."""
        from kombu.compression import decompress
        from kombu.serialization import loads

        if headers.get("compression"):
            body = decompress(body, headers["compression"])
        return loads(body, content_type, content_encoding, accept=self.accept)


def channel_pattern(kombu_channel: Any, exchange: str) -> str:
    """The PSUBSCRIBE pattern kombu's own Redis fanout consumer would use for ``exchange``."""
    topic = kombu_channel._get_publish_topic(exchange, "*")
    return getattr(kombu_channel, "global_keyprefix", "") + topic


def redis_params(kombu_channel: Any) -> dict[str, Any]:
    """redis-py connection parameters from kombu's channel (host, db, TLS, credentials...)."""
    params = dict(kombu_channel._connparams())
    params.pop("max_connections", None)
    params["health_check_interval"] = 0  # we read continuously; pings would interleave
    params["retry"] = Retry(NoBackoff(), 0)  # errors surface at once; EventStream retries
    params["protocol"] = 2  # RESP2: messages are plain arrays (RESP3 pushes take a detour)
    if params.get("socket_keepalive") is None:
        params["socket_keepalive"] = True  # notice a broker that vanished without a FIN
    return params


class RedisEventLane:
    """One connected session of the fast lane; raises on any connection error."""

    def __init__(self, stream: EventStream) -> None:
        self.stream = stream
        self.app = stream.app
        conf = self.app.conf
        self.exchange = conf.event_exchange or "celeryev"
        self.decoder = EventDecoder({conf.event_serializer or "json", "json"})

    def run(self) -> None:
        """Subscribe, announce ourselves to the workers, then read until stopped."""
        stream = self.stream
        kconn = self.app.connection_for_read()
        client = pubsub = None
        try:
            kconn.ensure_connection(max_retries=0)
            channel = kconn.default_channel
            pattern = channel_pattern(channel, self.exchange)
            client = redis.Redis(connection_pool=redis.ConnectionPool(**redis_params(channel)))
            pubsub = client.pubsub()
            pubsub.psubscribe(pattern)
            conn = pubsub.connection
            self._await_subscribed(conn)
            stream.connected()
            stream.broadcast_wakeup(kconn)
            self._read(conn, kconn)
        finally:
            stream.count_malformed(self.decoder.malformed)
            self.decoder.malformed = 0
            if pubsub is not None:
                _quietly(pubsub.close)
            if client is not None:
                _quietly(client.close)
            _quietly(kconn.release)

    def _await_subscribed(self, conn: Any) -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not self.stream.stopping:
            if conn.can_read(timeout=POLL_INTERVAL):
                reply = conn.read_response()
                if isinstance(reply, list) and reply and reply[0] == b"psubscribe":
                    return
        if not self.stream.stopping:
            raise TimeoutError("no PSUBSCRIBE confirmation from Redis")

    def _read(self, conn: Any, kconn: Any) -> None:
        stream = self.stream
        decode = self.decoder.decode
        offer_batch = stream.offer_batch
        can_read = conn.can_read
        read = conn.read_response
        interval = stream.enable_interval
        next_enable = time.monotonic() + interval
        here = _utcoffset()
        while not stream.stopping:
            if not can_read(timeout=POLL_INTERVAL):
                now = time.monotonic()
                if now >= next_enable:
                    next_enable = now + interval
                    here = _utcoffset()
                    stream.broadcast_enable(kconn)
                continue
            batch: list[dict] = []
            now = time.time()
            for _ in range(MAX_BATCH_MESSAGES):
                reply = read()
                if type(reply) is list and len(reply) == 4 and reply[0] == b"pmessage":
                    batch += decode(reply[3], now, here)
                if not can_read(timeout=0):
                    break
            if batch:
                offer_batch(batch)
            if self.decoder.malformed:
                stream.count_malformed(self.decoder.malformed)
                self.decoder.malformed = 0
            mono = time.monotonic()
            if mono >= next_enable:
                next_enable = mono + interval
                here = _utcoffset()
                stream.broadcast_enable(kconn)


def _utcoffset() -> float:
    from celery.utils.time import utcoffset

    return utcoffset()


def _quietly(fn: Any) -> None:
    try:
        fn()
    except Exception:  # closing a dead connection may fail; nothing to do
        log.debug("ignored error while closing", exc_info=True)
