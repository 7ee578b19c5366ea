"""Monitor: the core's parts wired together, for the TUI, the exporter, `status` and `tail`.

The receiving threads (EventStream, ResultWatcher) only receive and hand off. Everything that
touches ClusterState happens in `pump()`, on one consumer thread: the TUI's timer, or the
thread `run_in_thread()` starts for headless commands (which then hold `lock` to read).
Slow cluster calls made only for display (queue depths, inspect stats) run in their own
poller thread and are merged at the next pump.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from celery import Celery

from celerytui import cluster_spec
from celerytui.config import Settings
from celerytui.core.alert_delivery import AlertDelivery
from celerytui.core.alerts import AlertBook
from celerytui.core.alerts.rules.stuck import declared_soft_limits
from celerytui.core.app_urls import pin_urls
from celerytui.core.beat_watch import BeatWatch
from celerytui.core.control import Controller
from celerytui.core.event_source import EventSource
from celerytui.core.events import EventStream
from celerytui.core.model import Changes
from celerytui.core.queue_wait import QueueWaits, queue_waits
from celerytui.core.queues import QueueDepth, QueueInspector
from celerytui.core.results import ResultWatcher
from celerytui.core.state import ClusterState
from celerytui.redaction import one_line, redact

if TYPE_CHECKING:
    from celerytui.core.journal.recorder import Recorder

log = logging.getLogger(__name__)

TICK_INTERVAL = 1.0  # worker liveness and alert rules, at most once a second
POLL_INTERVAL = 5.0  # queue depths and inspect (pool size, queues)
RATE_WINDOW = 5.0  # seconds over which events/s is averaged


def client_app(settings: Settings) -> Celery:
    """A Celery app to watch the cluster with: the seed's configuration (cluster_spec: queues,
    routes, beat schedule) and task names, without the worker side's bodies or signal
    handlers, on the given broker and backend."""
    app = Celery(
        "celerytui",
        broker=settings.broker_url,
        backend=settings.result_backend,
        set_as_current=False,
    )
    cluster_spec.configure(app, settings)
    pin_urls(app, settings.broker_url, settings.result_backend)
    return cluster_spec.declare_tasks(app)


class Monitor:
    def __init__(
        self,
        settings: Settings,
        app: Celery | None = None,
        clock: Callable[[], float] = time.time,
        source: EventSource | None = None,
    ) -> None:
        self.settings = settings
        self.app = app if app is not None else client_app(settings)
        self.clock = clock
        self.broker_display = redact(self.app.conf.broker_url or settings.broker_url)
        self.state = ClusterState(max_tasks=settings.max_tasks, clock=clock)
        self.state.soft_time_limits.update(declared_soft_limits(self.app))  # the stuck rule's
        # where events come from: the broker's live stream, or any EventSource given
        self.events: EventSource = (
            source if source is not None else EventStream(self.app, read_only=settings.read_only)
        )
        self.results = ResultWatcher(self.app) if ResultWatcher.supports(self.app) else None
        self.controller = Controller(self.app, read_only=settings.read_only)
        self.queues = QueueInspector(self.app)
        self.alerts = AlertBook(settings.thresholds, clock=clock)
        # the beat schedule's runs, and each queue's oldest unreceived task (once a tick)
        self.beats = BeatWatch.from_app(self.app, settings.thresholds, clock())
        self.queue_waits = QueueWaits()
        self.delivery: AlertDelivery | None = None  # deliver_alerts() sets it (headless)
        self.lock = threading.RLock()
        self.queue_depths: list[QueueDepth] = []  # newest QueueDepth list from the poller
        # queue -> (time, messages) for sparklines
        self.queue_history: dict[str, deque[tuple[float, int]]] = {}
        # from the poller, merged at pump
        self._worker_info: dict[str, dict[str, Any]] | None = None
        self._worker_totals: dict[str, int | None] | None = None  # inspect stats' totals
        self._last_tick = 0.0
        self._rate_samples: deque[tuple[float, int]] = deque(maxlen=64)  # (time, received)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        # the journal's recorder, fed each pump (core/journal/recorder.py attach())
        self.journal: Recorder | None = None

    # -- life cycle ------------------------------------------------------------------------
    def start(self, poll: bool = True) -> Monitor:
        self.events.start()
        if self.results is not None:
            self.results.start()
        if poll:
            self._spawn(self._poll_loop, "celerytui-poller")
        return self

    def deliver_alerts(self) -> AlertDelivery | None:
        """POST every alert to the settings' webhooks (alert_webhook, alert_webhooks) from a
        thread of its own; None when there is none. The exporter calls it."""
        urls = [u for u in (self.settings.alert_webhook, *self.settings.alert_webhooks) if u]
        if not urls:
            return None
        self.delivery = AlertDelivery(
            urls,
            timeout=self.settings.alert_timeout,
            resend=self.settings.alert_resend,
            cluster=self.settings.cluster_name,
            clock=self.clock,
        ).start()
        return self.delivery

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        if self.delivery is not None:
            self.delivery.stop(timeout)
        self.events.stop(timeout)
        if self.results is not None:
            self.results.stop(timeout)
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()
        if self.journal is not None:
            self.journal.stop(max(timeout, 5.0))

    def run_in_thread(self, interval: float = 0.1) -> None:
        """Headless use: pump in a background thread; readers hold `lock`."""

        def loop() -> None:
            while not self._stop.is_set():
                self.events.wait(interval)
                with self.lock:
                    try:
                        self.pump()
                    except Exception:  # one bad batch must not stop a headless command
                        log.debug("pump failed", exc_info=True)

        self._spawn(loop, "celerytui-pump")

    # -- the consumer step ---------------------------------------------------------------
    def pump(self, max_events: int = 100_000) -> Changes:
        """Apply what arrived since the last call; returns what changed."""
        changes = Changes()
        events = self.events.drain(max_events)
        if events:
            changes.merge(self.state.apply(events))
            if self.beats.entries:
                self.beats.observe(self.state.tasks, changes.tasks)
        if self.results is not None:
            if self.results.resync_needed:
                pending = [uuid for uuid, task in self.state.tasks.items() if not task.ready]
                self.results.request_resync(pending)
            metas = self.results.drain()
            if metas:
                changes.merge(self.state.apply_results(metas))
        totals, self._worker_totals = self._worker_totals, None
        if totals:  # first: a worker without heartbeats is known from these
            changes.workers |= self.state.note_stats(totals, self.clock(), every=POLL_INTERVAL)
        info, self._worker_info = self._worker_info, None
        if info:
            changes.workers |= self._merge_worker_info(info)
        now = self.clock()
        ticked = now - self._last_tick >= TICK_INTERVAL
        if ticked:  # liveness and the rate once a second, not per pump
            self._last_tick = now
            changes.merge(self.state.tick(now))
            self._rate_samples.append((now, self.events.status.events_received))
            self.beats.advance(now)
            self.queue_waits = queue_waits(
                self.state.tasks.values(), now, self._sends_seen(), self._emptied()
            )
        if ticked or changes.new_failures:  # a failure shows in the banners at once
            self.alerts.evaluate(
                self.state,
                changes,
                now=now,
                queue_depths=self.queue_depths,
                stream_status=self.events.status,
                beats=self.beats,
                queue_waits=self.queue_waits,
            )
            if self.delivery is not None:
                self.delivery.observe(self.alerts, now)
        if self.journal is not None:
            self.journal.note(events, changes, self.state, self.alerts)
        return changes

    def _emptied(self) -> dict[str, float]:
        """Queue -> when the poller last counted it empty (for queue_waits)."""
        emptied = {}
        for name, history in list(self.queue_history.items()):
            if history:
                at, messages = history[-1]
                if messages == 0:
                    emptied[name] = at
        return emptied

    def _sends_seen(self) -> bool:
        """Whether any task-sent event arrived (else the events cannot tell waits)."""
        if self.beats.sends_seen:
            return True
        return any(key[0] == "sent" for key in self.state.counters)

    def events_per_second(self) -> float:
        """Events received per second over the last few seconds (for the header)."""
        if len(self._rate_samples) < 2:
            return 0.0
        newest_t, newest_n = self._rate_samples[-1]
        oldest_t, oldest_n = next(s for s in self._rate_samples if s[0] >= newest_t - RATE_WINDOW)
        if newest_t <= oldest_t:
            oldest_t, oldest_n = self._rate_samples[-2]
        return (newest_n - oldest_n) / (newest_t - oldest_t)

    def watch_result(self, task_id: str) -> None:
        """Make sure a task fired from here gets its full result, whatever the backend."""
        if self.results is not None:
            self.results.watch(task_id)

    # -- the poller (blocking calls, off every UI and consumer thread) --------------------
    def _poll_loop(self) -> None:
        while not self._stop.is_set():
            if not self.events.status.connected:  # poll as soon as the broker answers
                self._stop.wait(0.2)
                continue
            try:
                self._poll_once()
            except Exception as exc:  # a broker problem must never kill the poller
                log.debug("poll failed: %s", one_line(exc))
            self._stop.wait(POLL_INTERVAL)

    def _poll_once(self) -> None:
        stats = self.controller.inspect("stats")
        active_queues = self.controller.inspect("active_queues")
        info: dict[str, dict[str, Any]] = {}
        for host, reply in (stats or {}).items():
            pool = (reply or {}).get("pool") or {}
            # the live process count follows pool grow/shrink; max-concurrency does not
            processes = pool.get("processes")
            size = len(processes) if isinstance(processes, list) else pool.get("max-concurrency")
            if isinstance(size, int):
                info.setdefault(host, {})["pool_size"] = size
            timeouts = pool.get("timeouts")  # (soft, hard) the worker was started with; 0: none
            if isinstance(timeouts, list | tuple) and timeouts:
                soft = timeouts[0]
                limit = float(soft) if isinstance(soft, int | float) and soft > 0 else None
                info.setdefault(host, {})["soft_time_limit"] = limit
        for host, reply in (active_queues or {}).items():
            if isinstance(reply, list):
                consumed = [q.get("name") for q in reply if isinstance(q, dict) and q.get("name")]
                info.setdefault(host, {})["queues"] = consumed
        self._worker_totals = {host: _processed(reply) for host, reply in (stats or {}).items()}
        self._worker_info = info
        names = self.queues.known_queues(active_queues)
        depths = self.queues.depths(names)
        now = self.clock()
        for depth in depths:
            history = self.queue_history.setdefault(depth.name, deque(maxlen=120))
            history.append((now, depth.messages))
        self.queue_depths = depths

    def _merge_worker_info(self, info: dict[str, dict[str, Any]]) -> set[str]:
        changed = set()
        for host, fields in info.items():
            worker = self.state.workers.get(host)
            if worker is None:
                continue
            for key, value in fields.items():
                if getattr(worker, key) != value:
                    setattr(worker, key, value)
                    changed.add(host)
        return changed

    def _spawn(self, target: Callable[[], None], name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)


def _processed(stats_reply: Any) -> int | None:
    """Tasks a worker has run, by its ``inspect stats`` totals ({name: count})."""
    totals = (stats_reply or {}).get("total") if isinstance(stats_reply, dict) else None
    if not isinstance(totals, dict):
        return None
    return sum(n for n in totals.values() if isinstance(n, int))
