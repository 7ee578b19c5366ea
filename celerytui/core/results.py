"""ResultWatcher: full task results from the result backend, as they are stored.

Events carry reprs cut at a few hundred characters; a backend that pushes stored results (the
Redis backend PUBLISHes each meta: core/transports/redis_results.py) is listened to by a
receiver thread, which decodes each meta and queues it for the consumer (``drain()``), never
blocking on the consumer: when the queue is full, metas are dropped and counted. A reconnect may
miss results, so it sets ``resync_needed``; the consumer answers with ``request_resync(ids)``
and the watcher thread fetches those keys (Redis: one MGET).

Other backends have no push: ``watch(task_id)`` polls one result off the caller's thread.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections import deque
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from celery import Celery

from celerytui.core.model import StreamStatus
from celerytui.core.transports import ResultReceiver, pushes_results, result_transport_for
from celerytui.core.transports.redis_results import CLIENT_NAME
from celerytui.redaction import one_line, redact

BACKOFF_START = 0.1
BACKOFF_MAX = 5.0  # seconds between reconnect attempts, at most
META_FIELDS = (
    "task_id",
    "status",
    "result",
    "traceback",
    "date_done",
    "children",
    "name",
    "args",
    "kwargs",
    "worker",
    "retries",
    "queue",
)

__all__ = ["CLIENT_NAME", "ResultWatcher"]  # CLIENT_NAME: the Redis receiver's CLIENT SETNAME


class ResultWatcher:
    """Receives result metas a backend pushes (Redis), or polls other backends."""

    def __init__(
        self,
        app: Celery,
        *,
        max_pending: int = 100_000,
        watch_timeout: float = 3600.0,
        watch_interval: float = 0.5,
    ) -> None:
        self.app = app
        self.max_pending = max_pending
        self.watch_timeout = watch_timeout
        self.watch_interval = watch_interval
        self._backend = app.backend
        transport = result_transport_for(app.conf.result_backend or "")
        self._receiver: ResultReceiver | None = (
            transport.result_receiver(self) if transport is not None else None
        )
        self._pushed = self._receiver is not None  # pushed results (Redis), else polled
        self._pending: deque[dict[str, Any]] = deque()
        self._lock = threading.Lock()
        self._has_pending = threading.Event()
        self._stop = threading.Event()
        self._resync_requests: deque[list[str]] = deque()
        self._resync_needed = False
        self._thread: threading.Thread | None = None
        self._subscribed_before = False  # a later subscription is a reconnect
        self._session_ok = False
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
        if self._pushed and self._thread is None:
            self._thread = threading.Thread(target=self._run, name="celerytui-results", daemon=True)
            self._thread.start()
        if not self._pushed and self._pool is None:
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

    def drain(self, max_items: int | None = None) -> list[dict[str, Any]]:
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
        if self._pushed:
            self._resync_requests.append(ids)
        else:
            for task_id in ids:
                self.watch(task_id)

    def watch(self, task_id: str) -> None:
        """Queue this task's meta when it is ready. Redis: one fetch now (pub/sub does the
        rest); other backends: poll with AsyncResult on the pool until ready or timeout."""
        if self._pushed:
            self._resync_requests.append([str(task_id)])
            return
        if self._pool is None:
            self.start()
        assert self._pool is not None
        self._pool.submit(self._poll_one, str(task_id))

    # --- hand-off ----------------------------------------------------------------------

    def queue(self, metas: list[dict[str, Any]]) -> None:
        """Hand metas to the consumer; what does not fit under max_pending is counted dropped."""
        with self._lock:
            self._status.events_received += len(metas)
            room = self.max_pending - len(self._pending)
            if room < len(metas):
                self._status.events_dropped += len(metas) - max(room, 0)
                metas = metas[: max(room, 0)]
            self._pending.extend(metas)
            if self._pending:
                self._has_pending.set()

    def _set_status(self, **fields: Any) -> None:
        with self._lock:
            for key, value in fields.items():
                setattr(self._status, key, value)

    # --- the receiver thread (pushed results) -------------------------------------------

    @property
    def backend(self) -> Any:
        return self._backend

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    @property
    def resync_requested(self) -> bool:
        return bool(self._resync_requests)

    def take_resync_requests(self) -> list[str]:
        ids: list[str] = []
        while self._resync_requests:
            ids.extend(self._resync_requests.popleft())
        return list(dict.fromkeys(ids))

    def retry_resync(self, ids: list[str]) -> None:
        self._resync_requests.appendleft(ids)

    def subscribed(self) -> None:
        """The receiver listens: connected; after a reconnect, results may have been missed."""
        with self._lock:
            if self._subscribed_before:
                self._status.reconnects += 1
                self._resync_needed = True
            self._status.connected = True
            self._status.since = time.time()
            self._status.attempts = 0
        self._subscribed_before = self._session_ok = True

    def _run(self) -> None:
        assert self._receiver is not None
        delay = BACKOFF_START
        self._subscribed_before = False
        while not self._stop.is_set():
            self._session_ok = False
            try:
                self._receiver.run()
            except Exception as exc:  # any failure: report, back off, reconnect
                with self._lock:
                    if self._status.connected or self._status.since is None:
                        self._status.since = time.time()
                    self._status.connected = False
                    self._status.attempts += 1
                    self._status.last_error = one_line(exc, with_type=True)
                if self._session_ok:
                    delay = BACKOFF_START  # a session that worked: retry soon after it broke
                self._stop.wait(delay)
                delay = min(delay * 2, BACKOFF_MAX)

    def decode(self, data: Any) -> dict[str, Any] | None:
        """One stored meta, by the backend's serializer; None (counted dropped) if unreadable."""
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
                self.queue([_plain_meta(task_id, meta)])
                return
            self._stop.wait(self.watch_interval)


def _plain_meta(task_id: str, meta: dict[str, Any]) -> dict[str, Any]:
    """A backend's decoded meta as JSON-like data (exceptions become exc_type/exc_message)."""
    out = {k: meta[k] for k in META_FIELDS if k in meta}
    out["task_id"] = task_id
    result = out.get("result")
    if isinstance(result, BaseException):
        out["result"] = {
            "exc_type": type(result).__name__,
            "exc_message": [str(a) for a in result.args],
        }
    date_done = out.get("date_done")
    if date_done is not None and not isinstance(date_done, str):
        out["date_done"] = (
            date_done.isoformat() if hasattr(date_done, "isoformat") else str(date_done)
        )
    return out
