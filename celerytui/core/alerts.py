"""Alert rules over ClusterState: the records the banners, the exporter and `status` share.

An alert is identified by a key (rule + subject). Repeats fold into one record (count, last
seen); an alert clears when its condition clears. Event-driven rules (failures, exhausted
retries) clear after a quiet window; condition rules (worker lost, check down, backlog, ...)
clear as soon as the condition no longer holds.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from celerytui.config import Thresholds
from celerytui.core.model import (
    FAILURE,
    SEVERITY_ORDER,
    WORKER_LOST,
    Alert,
    Changes,
    StreamStatus,
)

if TYPE_CHECKING:
    from celerytui.core.state import ClusterState

MAX_ALERTS = 500  # a flood of distinct task names must not grow this without bound


class AlertBook:
    """Evaluates the rules and keeps the current alerts, folded by key."""

    def __init__(self, thresholds: Thresholds | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.thresholds = thresholds or Thresholds()
        self.clock = clock
        self._alerts: dict[str, Alert] = {}

    # -- reading -------------------------------------------------------------------------
    def active(self, include_acknowledged: bool = True) -> list[Alert]:
        """Current alerts, most severe first, then the most recently seen."""
        alerts = [a for a in self._alerts.values()
                  if a.active and (include_acknowledged or not a.acknowledged)]
        alerts.sort(key=lambda a: (SEVERITY_ORDER.get(a.severity, 9), -a.last_seen))
        return alerts

    def get(self, key: str) -> Alert | None:
        return self._alerts.get(key)

    def acknowledge(self, key: str | None = None) -> int:
        """Mark one alert (or all, with key=None) acknowledged; returns how many changed."""
        n = 0
        for alert in self._alerts.values():
            if (key is None or alert.key == key) and alert.active and not alert.acknowledged:
                alert.acknowledged = True
                n += 1
        return n

    # -- evaluating ----------------------------------------------------------------------
    def evaluate(
        self,
        state: ClusterState,
        changes: Changes | None = None,
        now: float | None = None,
        queue_depths: Iterable[Any] = (),
        stream_status: StreamStatus | None = None,
    ) -> list[Alert]:
        """Apply every rule; returns the alerts raised (new or re-raised) by this call."""
        now = self.clock() if now is None else now
        raised: list[Alert] = []
        live: set[str] = set()  # condition alerts that hold right now
        t = self.thresholds

        if changes is not None:
            for uuid in changes.new_failures:
                task = state.tasks.get(uuid)
                if task is None or task.state != FAILURE:
                    continue
                name = task.name or "unknown task"
                exc = (task.exception or "").strip()
                self._occur(raised, f"task-failed:{name}", "error", f"{name} failed",
                            exc, now)
                if task.retries:
                    self._occur(raised, f"retries-exhausted:{name}", "error",
                                f"{name}: retries exhausted after {task.retries}", exc, now)

        for hostname, worker in state.workers.items():
            if worker.status == WORKER_LOST:
                key = f"worker-lost:{hostname}"
                live.add(key)
                age = now - worker.last_heartbeat if worker.last_heartbeat else None
                detail = f"no heartbeat for {age:.0f}s" if age is not None else "no heartbeat"
                self._hold(raised, key, "critical", f"worker lost: {hostname}", detail, now)

        for depth in queue_depths:
            messages = getattr(depth, "messages", None)
            if messages is not None and messages > t.queue_backlog:
                key = f"queue-backlog:{depth.name}"
                live.add(key)
                self._hold(raised, key, "warning", f"queue {depth.name}: {messages} waiting",
                           f"over the threshold of {t.queue_backlog}", now)

        window = state.throughput(seconds=max(1, int(t.failure_window)))
        failed = sum(window.get("failed", ()))
        finished = failed + sum(window.get("succeeded", ()))
        if finished >= t.min_finished_for_rate and failed / finished > t.failure_rate:
            live.add("failure-rate")
            self._hold(raised, "failure-rate", "warning",
                       f"failure rate {failed / finished:.0%} over {t.failure_window:.0f}s",
                       f"{failed} of {finished} finished tasks failed", now)

        for url, check in state.http_checks.items():
            if check.status != "UP":
                key = f"check-down:{url}"
                live.add(key)
                detail = check.error or (f"HTTP {check.status_code}" if check.status_code else "")
                self._hold(raised, key, "error", f"DOWN: {url}", detail, now)

        for host, disk in state.disk_checks.items():
            if disk.status != "OK":
                key = f"disk-error:{host}"
                live.add(key)
                self._hold(raised, key, "warning", f"disk check failed: {host}",
                           disk.error or "", now)
            elif disk.use_percent is not None and disk.use_percent >= t.disk_percent:
                key = f"disk-full:{host}"
                live.add(key)
                self._hold(raised, key, "warning",
                           f"disk {disk.use_percent:.0f}% used: {host} {disk.mount or ''}".strip(),
                           f"over the threshold of {t.disk_percent:.0f}%", now)

        if stream_status is not None and not stream_status.connected and stream_status.attempts:
            live.add("broker")
            self._hold(raised, "broker", "critical", "broker unreachable, retrying",
                       stream_status.last_error or "", now)

        self._clear(live, now)
        return raised

    # -- internals -----------------------------------------------------------------------
    def _occur(self, raised: list[Alert], key: str, severity: str, title: str, detail: str,
               now: float) -> None:
        """An event-driven alert: each call is one more occurrence."""
        alert = self._alerts.get(key)
        if alert is not None and alert.active:
            alert.count += 1
            alert.last_seen = now
            alert.detail = detail or alert.detail
            alert.acknowledged = False  # something new happened: show it again
            return
        self._new(raised, key, severity, title, detail, now)

    def _hold(self, raised: list[Alert], key: str, severity: str, title: str, detail: str,
              now: float) -> None:
        """A condition alert: raised once while the condition holds, refreshed each pass."""
        alert = self._alerts.get(key)
        if alert is not None and alert.active:
            alert.last_seen = now
            alert.title, alert.detail = title, detail
            return
        self._new(raised, key, severity, title, detail, now)

    def _new(self, raised: list[Alert], key: str, severity: str, title: str, detail: str,
             now: float) -> None:
        if key not in self._alerts and len(self._alerts) >= MAX_ALERTS:
            self._evict()
        alert = Alert(key=key, severity=severity, title=title, detail=detail,
                      first_seen=now, last_seen=now)
        self._alerts[key] = alert
        raised.append(alert)

    def _clear(self, live: set[str], now: float) -> None:
        window = self.thresholds.failure_window
        for key, alert in list(self._alerts.items()):
            if not alert.active:
                continue
            event_driven = key.startswith(("task-failed:", "retries-exhausted:"))
            if event_driven:
                if now - alert.last_seen > window:
                    alert.active = False
            elif key not in live:
                alert.active = False

    def _evict(self) -> None:
        inactive = [k for k, a in self._alerts.items() if not a.active]
        victims = inactive or sorted(self._alerts, key=lambda k: self._alerts[k].last_seen)
        del self._alerts[victims[0]]
