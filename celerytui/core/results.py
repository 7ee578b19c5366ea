"""ResultWatcher: full task results from the result backend, as they are stored.

Events carry reprs cut at a few hundred characters; the Redis result backend stores the whole
meta under ``celery-task-meta-<id>`` and PUBLISHes the same value on a channel of that name. A
receiver thread pattern-subscribes to those channels, decodes each meta and queues it for the
consumer (``drain()``), never blocking on the consumer: when the queue is full, metas are dropped
and counted. A reconnect may miss results, so it sets ``resync_needed``; the consumer answers with
``request_resync(ids)`` and the watcher thread fetches those keys with one MGET.

Other backends have no push: ``watch(task_id)`` polls one result off the caller's thread.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections import deque
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from typing import Any

from celery import Celery

from celerytui.core.model import StreamStatus
from celerytui.core.transports import pushes_results
from celerytui.redaction import one_line, redact

BACKOFF_START = 0.1
BACKOFF_MAX = 5.0  # seconds between reconnect attempts, at most
POLL_INTERVAL = 0.25  # how often the receiver looks at stop / resync requests
META_FIELDS = ("task_id", "status", "result", "traceback", "date_done", "children",
               "name", "args", "kwargs", "worker", "retries", "queue")
CLIENT_NAME = "celerytui-results"  # CLIENT LIST shows the watcher's connections by this name


class ResultWatcher:
    """Receives result metas from a Redis result backend (or polls other backends)."""

    def __init__(self, app: Celery, *, max_pending: int = 100_000,
                 watch_timeout: float = 3600.0, watch_interval: float = 0.5) -> None:
        self.app = app
        self.max_pending = max_pending
        self.watch_timeout = watch_timeout
        self.watch_interval = watch_interval
        self._backend = app.backend
        self._redis = self.supports(app)
        self._pending: deque[dict] = deque()
        self._lock = threading.Lock()
        self._has_pending = threading.Event()
        self._stop = threading.Event()
        self._resync_requests: deque[list[str]] = deque()
        self._resync_needed = False
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._status = StreamStatus(broker=redact(app.conf.result_backend or ""))

    # --- what the consumer calls -------------------------------------------------------

    @staticmethod
    def supports(app: Celery) -> bool:
        """True when the app's result backend pushes stored results (plain Redis: pub/sub);
        the transports (core/transports/) say which do."""
        return pushes_results(app.conf.result_backend or "")

    @property
    def status(self) -> StreamStatus:
        with self._lock:
            return dataclasses.replace(self._status)

    @property
    def resync_needed(self) -> bool:
        """Set after a reconnect: results stored during the gap were not received."""
        return self._resync_needed

    def start(self) -> None:
        """Start the receiver thread (Redis) or the small polling pool (other backends)."""
        self._stop.clear()
        if self._redis and self._thread is None:
            self._thread = threading.Thread(target=self._run, name="celerytui-results",
                                            daemon=True)
            self._thread.start()
        if not self._redis and self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="celerytui-watch")

    def stop(self, timeout: float = 2.0) -> None:
        """Stop promptly and join every thread this watcher started."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        with self._lock:
            self._status.connected = False

    def drain(self, max_items: int | None = None) -> list[dict]:
        """Take the queued metas (oldest first); never blocks."""
        with self._lock:
            if max_items is None or max_items >= len(self._pending):
                items = list(self._pending)
                self._pending.clear()
            else:
                items = [self._pending.popleft() for _ in range(max_items)]
            if not self._pending:
                self._has_pending.clear()
        return items

    def wait(self, timeout: float) -> bool:
        """Block until a meta is queued (for headless consumers); True if one is."""
        return self._has_pending.wait(timeout)

    def request_resync(self, task_ids: Iterable[str]) -> None:
        """Ask the watcher thread to fetch these tasks' metas (one MGET) and queue them."""
        ids = [str(t) for t in task_ids]
        self._resync_needed = False
        if not ids:
            return
        if self._redis:
            self._resync_requests.append(ids)
        else:
            for task_id in ids:
                self.watch(task_id)

    def watch(self, task_id: str) -> None:
        """Queue this task's meta when it is ready. Redis: one fetch now (pub/sub does the
        rest); other backends: poll with AsyncResult on the pool until ready or timeout."""
        if self._redis:
            self._resync_requests.append([str(task_id)])
            return
        if self._pool is None:
            self.start()
        assert self._pool is not None
        self._pool.submit(self._poll_one, str(task_id))

    # --- hand-off ----------------------------------------------------------------------

    def _queue(self, metas: list[dict]) -> None:
        with self._lock:
            self._status.events_received += len(metas)
            room = self.max_pending - len(self._pending)
            if room < len(metas):
                self._status.events_dropped += len(metas) - max(room, 0)
                metas = metas[:max(room, 0)]
            self._pending.extend(metas)
            if self._pending:
                self._has_pending.set()

    def _set_status(self, **fields: Any) -> None:
        with self._lock:
            for key, value in fields.items():
                setattr(self._status, key, value)

    # --- Redis receiver thread ---------------------------------------------------------

    def _pattern(self) -> bytes:
        prefix = self._backend.task_keyprefix
        if isinstance(prefix, str):
            prefix = prefix.encode()
        for ch in b"\\*?[]":
            prefix = prefix.replace(bytes([ch]), b"\\" + bytes([ch]))
        return prefix + b"*"

    def _client(self):
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        params = dict(self._backend.connparams)
        # short connect (stop stays prompt), health checks to notice a silently dead link
        params.update(socket_timeout=5.0, socket_connect_timeout=1.0, health_check_interval=15,
                      retry=Retry(NoBackoff(), 0), retry_on_timeout=False,
                      client_name=CLIENT_NAME)
        params.pop("max_connections", None)
        return redis.Redis(connection_pool=redis.ConnectionPool(**params))

    def _run(self) -> None:
        delay = BACKOFF_START
        first = True
        while not self._stop.is_set():
            client = pubsub = None
            try:
                client = self._client()
                pubsub = client.pubsub(ignore_subscribe_messages=True)
                pubsub.psubscribe(self._pattern())
                with self._lock:
                    if not first:
                        self._status.reconnects += 1
                        self._resync_needed = True
                    self._status.connected = True
                    self._status.since = time.time()
                    self._status.attempts = 0
                first = False
                delay = BACKOFF_START
                self._receive(client, pubsub)
            except Exception as exc:  # any failure: report, back off, reconnect
                with self._lock:
                    if self._status.connected or self._status.since is None:
                        self._status.since = time.time()
                    self._status.connected = False
                    self._status.attempts += 1
                    self._status.last_error = one_line(exc, with_type=True)
                self._stop.wait(delay)
                delay = min(delay * 2, BACKOFF_MAX)
            finally:
                # Redis.close() leaves a pool it was given open: disconnect it ourselves
                closers = [c.close for c in (pubsub, client) if c is not None]
                if client is not None:
                    closers.append(client.connection_pool.disconnect)
                for close in closers:
                    with suppress(Exception):
                        close()

    def _receive(self, client, pubsub) -> None:
        while not self._stop.is_set():
            if self._resync_requests:
                self._resync(client)
            message = pubsub.get_message(timeout=POLL_INTERVAL)
            batch: list[dict] = []
            keys: list[bytes] = []
            while message is not None:
                if message.get("type") in ("pmessage", "message"):
                    meta = self._decode(message["data"])
                    if meta is not None:
                        batch.append(meta)
                        keys.append(message["channel"])
                if len(batch) >= 1000:
                    break
                message = pubsub.get_message(timeout=0)
            if batch:
                self._queue(self._own_database_only(client, batch, keys))

    @staticmethod
    def _own_database_only(client, batch: list[dict], keys: list[bytes]) -> list[dict]:
        """Redis pub/sub ignores database numbers: a result published by another app on the
        same server (another db) reaches us too. The backend SETs the key before it
        PUBLISHes, so keeping the metas whose key exists in our database drops the others,
        for one round trip per batch."""
        pipe = client.pipeline(transaction=False)
        for key in keys:
            pipe.exists(key)
        return [meta for meta, found in zip(batch, pipe.execute(), strict=True) if found]

    def _resync(self, client) -> None:
        ids: list[str] = []
        while self._resync_requests:
            ids.extend(self._resync_requests.popleft())
        ids = list(dict.fromkeys(ids))
        try:
            values = client.mget([self._backend.get_key_for_task(t) for t in ids])
        except Exception:
            self._resync_requests.appendleft(ids)  # asked again after the reconnect
            raise
        metas = [m for m in (self._decode(v) for v in values if v is not None) if m is not None]
        if metas:
            self._queue(metas)

    def _decode(self, data: Any) -> dict | None:
        try:
            meta = self._backend.decode(data)
        except Exception:
            with self._lock:
                self._status.events_dropped += 1
            return None
        if not isinstance(meta, dict) or "task_id" not in meta:
            return None
        return meta

    # --- other backends ----------------------------------------------------------------

    def _poll_one(self, task_id: str) -> None:
        deadline = time.monotonic() + self.watch_timeout
        while not self._stop.is_set() and time.monotonic() < deadline:
            try:
                meta = self._backend.get_task_meta(task_id)
            except Exception as exc:
                self._set_status(last_error=one_line(exc, with_type=True))
                meta = None
            if meta and meta.get("status") in ("SUCCESS", "FAILURE", "REVOKED"):
                self._queue([_plain_meta(task_id, meta)])
                return
            self._stop.wait(self.watch_interval)


def _plain_meta(task_id: str, meta: dict) -> dict:
    """A backend's decoded meta as JSON-like data (exceptions become exc_type/exc_message)."""
    out = {k: meta[k] for k in META_FIELDS if k in meta}
    out["task_id"] = task_id
    result = out.get("result")
    if isinstance(result, BaseException):
        out["result"] = {"exc_type": type(result).__name__,
                         "exc_message": [str(a) for a in result.args]}
    date_done = out.get("date_done")
    if date_done is not None and not isinstance(date_done, str):
        out["date_done"] = date_done.isoformat() if hasattr(date_done, "isoformat") \
            else str(date_done)
    return out

