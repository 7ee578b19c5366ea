"""The AlertBook: runs the registered rules over ClusterState and keeps the alerts the banners
and the exporter show.

An alert is identified by a key (rule + subject). Repeats fold into one record (count, last
seen); an alert clears when its condition clears. Alerts of event rules (failures, exhausted
retries) clear after a quiet window; those of periodic rules (worker lost, check down,
backlog, ...) clear as soon as the rule stops finding them. The rules are in rules/.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from celerytui.config import Thresholds
from celerytui.core.alerts.registry import registered
from celerytui.core.alerts.rule import Context, Finding, Rule
from celerytui.core.model import SEVERITY_ORDER, Alert, Changes, StreamStatus

if TYPE_CHECKING:
    from celerytui.core.beat_watch import BeatWatch
    from celerytui.core.queue_wait import QueueWaits
    from celerytui.core.state import ClusterState

MAX_ALERTS = 500  # a flood of distinct task names must not grow this without bound


class AlertBook:
    """Evaluates the rules and keeps the current alerts, folded by key."""

    def __init__(
        self,
        thresholds: Thresholds | None = None,
        clock: Callable[[], float] = time.time,
        rules: Iterable[Rule] | None = None,
    ) -> None:
        self.thresholds = thresholds or Thresholds()
        self.clock = clock
        self.rules: tuple[Rule, ...] = tuple(rules) if rules is not None else registered()
        self._alerts: dict[str, Alert] = {}
        self._event_keys: set[str] = set()  # raised by an event rule: clear after a quiet window

    # -- reading -------------------------------------------------------------------------
    def active(self, include_acknowledged: bool = True) -> list[Alert]:
        """Current alerts, most severe first, then the most recently seen."""
        alerts = [
            a
            for a in self._alerts.values()
            if a.active and (include_acknowledged or not a.acknowledged)
        ]
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
        beats: BeatWatch | None = None,
        queue_waits: QueueWaits | None = None,
    ) -> list[Alert]:
        """Apply every rule; returns the alerts raised (new or re-raised) by this call."""
        now = self.clock() if now is None else now
        context = Context(
            state=state,
            thresholds=self.thresholds,
            now=now,
            changes=changes,
            queue_depths=tuple(queue_depths),
            stream_status=stream_status,
            beats=beats,
            queue_waits=queue_waits,
        )
        raised: list[Alert] = []
        live: set[str] = set()  # condition alerts that hold right now
        for rule in self.rules:
            for found in rule.evaluate(context):
                if rule.kind == "event":
                    self._event_keys.add(found.key)
                    self._occur(raised, found, now)
                else:
                    live.add(found.key)
                    self._hold(raised, found, now)
        self._clear(live, now)
        return raised

    # -- internals -----------------------------------------------------------------------
    def _occur(self, raised: list[Alert], found: Finding, now: float) -> None:
        """An event-driven alert: each call is one more occurrence."""
        alert = self._alerts.get(found.key)
        if alert is not None and alert.active:
            alert.count += 1
            alert.last_seen = now
            alert.detail = found.detail or alert.detail
            alert.labels = found.labels or alert.labels
            alert.acknowledged = False  # something new happened: show it again
            return
        self._new(raised, found, now)

    def _hold(self, raised: list[Alert], found: Finding, now: float) -> None:
        """A condition alert: raised once while the condition holds, refreshed each pass."""
        alert = self._alerts.get(found.key)
        if alert is not None and alert.active:
            alert.last_seen = now
            alert.title, alert.detail = found.title, found.detail
            alert.labels = found.labels
            return
        self._new(raised, found, now)

    def _new(self, raised: list[Alert], found: Finding, now: float) -> None:
        if found.key not in self._alerts and len(self._alerts) >= MAX_ALERTS:
            self._evict()
        alert = Alert(
            key=found.key,
            severity=found.severity,
            title=found.title,
            detail=found.detail,
            first_seen=now,
            last_seen=now,
            labels=found.labels,
        )
        self._alerts[found.key] = alert
        raised.append(alert)

    def _clear(self, live: set[str], now: float) -> None:
        window = self.thresholds.failure_window
        for key, alert in list(self._alerts.items()):
            if not alert.active:
                continue
            if key in self._event_keys:
                if now - alert.last_seen > window:
                    alert.active = False
            elif key not in live:
                alert.active = False

    def _evict(self) -> None:
        inactive = [k for k, a in self._alerts.items() if not a.active]
        victims = inactive or sorted(self._alerts, key=lambda k: self._alerts[k].last_seen)
        del self._alerts[victims[0]]
        self._event_keys.discard(victims[0])
