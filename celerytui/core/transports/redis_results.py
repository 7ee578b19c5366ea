"""Results pushed by a Redis result backend: it stores the whole meta under
``celery-task-meta-<id>`` and PUBLISHes the same value on a channel of that name. One session
pattern-subscribes to those channels and hands each batch of decoded metas to the watcher
(core/results.py, which reconnects and backs off); resync requests are answered with one MGET.
"""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from celerytui.core.transports.base import ResultHost

POLL_INTERVAL = 0.25  # how often the receiver looks at stop / resync requests
CLIENT_NAME = "celerytui-results"  # CLIENT LIST shows the watcher's connections by this name
BATCH = 1000  # metas handed over at once, at most


class RedisResultReceiver:
    """One subscribed session; raises on any connection error."""

    def __init__(self, host: ResultHost) -> None:
        self.host = host
        self.backend = host.backend

    def run(self) -> None:
        client = pubsub = None
        try:
            client = self._client()
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            pubsub.psubscribe(self._pattern())
            self.host.subscribed()
            self._receive(client, pubsub)
        finally:
            # Redis.close() leaves a pool it was given open: disconnect it ourselves
            closers = [c.close for c in (pubsub, client) if c is not None]
            if client is not None:
                closers.append(client.connection_pool.disconnect)
            for close in closers:
                with suppress(Exception):
                    close()

    def _pattern(self) -> bytes:
        keyprefix = self.backend.task_keyprefix
        prefix: bytes = keyprefix.encode() if isinstance(keyprefix, str) else keyprefix
        for ch in b"\\*?[]":
            prefix = prefix.replace(bytes([ch]), b"\\" + bytes([ch]))
        return prefix + b"*"

    def _client(self) -> Any:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        params = dict(self.backend.connparams)
        # short connect (stop stays prompt), health checks to notice a silently dead link
        params.update(
            socket_timeout=5.0,
            socket_connect_timeout=1.0,
            health_check_interval=15,
            retry=Retry(NoBackoff(), 0),
            retry_on_timeout=False,
            client_name=CLIENT_NAME,
        )
        params.pop("max_connections", None)
        return redis.Redis(connection_pool=redis.ConnectionPool(**params))

    def _receive(self, client: Any, pubsub: Any) -> None:
        host = self.host
        while not host.stopping:
            if host.resync_requested:
                self._resync(client)
            message = pubsub.get_message(timeout=POLL_INTERVAL)
            batch: list[dict[str, Any]] = []
            keys: list[bytes] = []
            while message is not None:
                if message.get("type") in ("pmessage", "message"):
                    meta = host.decode(message["data"])
                    if meta is not None:
                        batch.append(meta)
                        keys.append(message["channel"])
                if len(batch) >= BATCH:
                    break
                message = pubsub.get_message(timeout=0)
            if batch:
                host.queue(self._own_database_only(client, batch, keys))

    @staticmethod
    def _own_database_only(
        client: Any, batch: list[dict[str, Any]], keys: list[bytes]
    ) -> list[dict[str, Any]]:
        """Redis pub/sub ignores database numbers: a result published by another app on the
        same server (another db) reaches us too. The backend SETs the key before it
        PUBLISHes, so keeping the metas whose key exists in our database drops the others,
        for one round trip per batch."""
        pipe = client.pipeline(transaction=False)
        for key in keys:
            pipe.exists(key)
        return [meta for meta, found in zip(batch, pipe.execute(), strict=True) if found]

    def _resync(self, client: Any) -> None:
        ids = self.host.take_resync_requests()
        try:
            values = client.mget([self.backend.get_key_for_task(t) for t in ids])
        except Exception:
            self.host.retry_resync(ids)  # asked again after the reconnect
            raise
        decode = self.host.decode
        metas = [m for m in (decode(v) for v in values if v is not None) if m is not None]
        if metas:
            self.host.queue(metas)
