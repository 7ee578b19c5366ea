"""Alerts that leave the screen: every alert the AlertBook holds, POSTed to webhooks.

The consumer calls ``observe(book)`` after each evaluation; it only compares and enqueues, so
it never waits on a network. One sender thread POSTs from a bounded queue with a short timeout:
a dead or hanging webhook costs that thread its timeout per POST, fills the queue, and the
payloads past it are dropped and counted (``stats``) — the monitor goes on at full speed.

What is sent (one JSON shape, ``payload``): an alert when it is raised; repeats are folded
(the count grows, nothing is sent) until ``resend`` seconds have passed, when the alert is sent
again with its count; and once with ``cleared: true`` when it clears. Webhook URLs are tokens:
logs and errors show only ``redact_webhook(url)``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from celerytui.core.model import Alert
from celerytui.redaction import one_line, redact_webhook, webhook_secrets

if TYPE_CHECKING:
    from celerytui.core.alerts.book import AlertBook

log = logging.getLogger(__name__)

MAX_QUEUED = 1_000  # payloads waiting for the sender; past that they are dropped and counted
USER_AGENT = "celerytui-alerts"


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def payload(alert: Alert, *, cleared: bool, cluster: str = "") -> dict[str, Any]:
    """The one JSON shape every webhook gets. ``rule`` is the alert key's prefix (the rule's
    name, or the family's name for a rule that raises two kinds, e.g. retries-exhausted)."""
    return {
        "rule": alert.key.split(":", 1)[0],
        "key": alert.key,
        "severity": alert.severity,
        "summary": alert.title,
        "detail": alert.detail,
        "labels": dict(alert.labels),
        "first_seen": iso(alert.first_seen),
        "last_seen": iso(alert.last_seen),
        "count": alert.count,
        "cleared": cleared,
        "cluster": cluster,
    }


@dataclass(slots=True)
class DeliveryStats:
    """What the sender did since it started (a copy; safe from any thread)."""

    queued: int = 0
    sent: int = 0  # POSTs answered 2xx
    failed: int = 0  # POSTs refused, not 2xx, or timed out
    dropped: int = 0  # payloads not queued: the queue was full
    folded: int = 0  # repeats of an alert not sent on their own
    pending: int = 0


@dataclass(slots=True)
class _Sent:
    first_seen: float
    count: int
    at: float  # when it was last enqueued


class AlertDelivery:
    """POSTs the alerts of one AlertBook to ``urls``; start() once, stop() at the end."""

    def __init__(
        self,
        urls: Sequence[str],
        *,
        timeout: float = 3.0,
        resend: float = 3600.0,
        cluster: str = "",
        max_queued: int = MAX_QUEUED,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.urls = tuple(dict.fromkeys(u for u in urls if u))  # each once, in order
        self.timeout = timeout
        self.resend = resend
        self.cluster = cluster
        self.clock = clock
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue(maxsize=max_queued)
        self._sent: dict[str, _Sent] = {}  # active alerts already delivered, by key
        self._stats = DeliveryStats()
        self._stats_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    @property
    def targets(self) -> list[str]:
        """The webhooks, as they may be shown."""
        return [redact_webhook(url) for url in self.urls]

    # -- the consumer's side (never blocks) ------------------------------------------------
    def observe(self, book: AlertBook, now: float | None = None) -> int:
        """Enqueue what changed in the book since the last call; returns how many payloads."""
        if not self.urls:
            return 0
        now = self.clock() if now is None else now
        queued = 0
        active = {alert.key: alert for alert in book.active()}
        for key, alert in active.items():
            sent = self._sent.get(key)
            if sent is None or sent.first_seen != alert.first_seen:
                queued += self._put(payload(alert, cleared=False, cluster=self.cluster))
                self._sent[key] = _Sent(alert.first_seen, alert.count, now)
            elif now - sent.at >= self.resend:
                queued += self._put(payload(alert, cleared=False, cluster=self.cluster))
                sent.count, sent.at = alert.count, now
            elif alert.count != sent.count:
                with self._stats_lock:
                    self._stats.folded += alert.count - sent.count
                sent.count = alert.count
        for key in [k for k in self._sent if k not in active]:
            del self._sent[key]
            gone = book.get(key)
            if gone is not None:
                queued += self._put(payload(gone, cleared=True, cluster=self.cluster))
        return queued

    @property
    def stats(self) -> DeliveryStats:
        with self._stats_lock:
            copy = DeliveryStats(**{f: getattr(self._stats, f) for f in DeliveryStats.__slots__})
        copy.pending = self._queue.qsize()
        return copy

    def _put(self, body: dict[str, Any]) -> int:
        try:
            self._queue.put_nowait(body)
        except queue.Full:
            with self._stats_lock:
                self._stats.dropped += 1
            return 0
        with self._stats_lock:
            self._stats.queued += 1
        return 1

    # -- the sender thread ------------------------------------------------------------------
    def start(self) -> AlertDelivery:
        if self.urls and self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name="celerytui-alert-delivery", daemon=True
            )
            self._thread.start()
        return self

    def stop(self, timeout: float = 2.0) -> None:
        """Stop within about ``timeout`` (a POST under way may finish later, on its daemon
        thread); what is still queued is not sent."""
        self._stop.set()
        with contextlib.suppress(queue.Full):  # a full queue: the flag stops it
            self._queue.put_nowait(None)
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            body = self._queue.get()
            if body is None or self._stop.is_set():
                return
            data = json.dumps(body).encode()
            for url in self.urls:
                ok = self._post(url, data)
                with self._stats_lock:
                    if ok:
                        self._stats.sent += 1
                    else:
                        self._stats.failed += 1

    def _post(self, url: str, data: bytes) -> bool:
        request = urllib.request.Request(
            url,
            data=data,
            method="POST",
            headers={"Content-Type": "application/json", "User-Agent": USER_AGENT},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                if 200 <= answer.status < 300:
                    return True
                problem: object = f"HTTP {answer.status}"
        except urllib.error.HTTPError as exc:
            problem = f"HTTP {exc.code}"
        except Exception as exc:  # refused, timed out, DNS: one line, no token
            problem = exc
        log.warning(
            "alert not delivered to %s: %s",
            redact_webhook(url),
            one_line(problem, with_type=True, secrets=webhook_secrets(url)),
        )
        return False
