"""Recorder: writes what the Monitor ingests into a journal store, on a thread of its own.

The consumer (Monitor.pump) calls `note()` with each batch: the events, the rows of the
tasks that changed (built there, where the Tasks live), alert changes and, now and then, a
state capture for a checkpoint. `note` only appends to a bounded buffer — past `max_pending`
events it drops and counts, it never blocks the monitor. The writer thread flushes at least
every `flush_interval` (so a SIGKILL loses about that much), writes checkpoints (see
CHECKPOINT_EVERY), prunes.
A failing store (disk full, PostgreSQL down) keeps the buffer and retries with capped backoff;
`status` tells what happened, in one line.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from celerytui.core import state_snapshot
from celerytui.core.journal.checkpoint_plan import (
    CHECKPOINT_EVENTS,
    CHECKPOINT_EVERY,
    TASK_EVENTS,
    CheckpointPlan,
    checkpoint_due,
)
from celerytui.core.journal.errors import JournalError, JournalLeaseError
from celerytui.core.journal.rows import AlertRow, TaskRow, task_row
from celerytui.core.journal.store import JournalStore
from celerytui.core.model import Alert, Changes
from celerytui.core.state import ClusterState
from celerytui.redaction import one_line

log = logging.getLogger(__name__)

FLUSH_INTERVAL = 0.5  # seconds between flushes, at most (a SIGKILL loses about this much)
MAX_PENDING = 300_000  # events buffered while the store cannot keep up or is down
MAX_PENDING_TASKS = 200_000  # task rows (one per task: newer rows replace older)
# Checkpoints (core/journal/checkpoint_plan.py): one at least CHECKPOINT_EVERY seconds and
# max(CHECKPOINT_EVENTS, TASK_EVENTS x tasks) events after the last, mostly deltas; a seek
# loads the chain before its target and applies the events after it (benchmarks/replay.py).
PRUNE_EVERY = 60.0
ALERT_SCAN_EVERY = 1.0
RETRY_MAX = 5.0  # seconds between attempts on a failing store, at most
WAKE_AT = 16_384  # buffered events that wake the writer before its interval


@dataclass(slots=True)
class RecorderStatus:
    """What the recorder did; a copy, safe to read from any thread."""

    store: str = ""  # redacted
    recording: bool = False  # False: stopped, or the lease was lost
    events_recorded: int = 0
    events_dropped: int = 0
    tasks_dropped: int = 0
    pending: int = 0  # events buffered, not yet written
    checkpoints: int = 0
    flushes: int = 0
    last_error: str | None = None  # one line; None once a write succeeds again
    error_since: float | None = None
    last_flush: float | None = None


class Recorder:
    def __init__(
        self,
        store: JournalStore,
        *,
        max_pending: int = MAX_PENDING,
        max_pending_tasks: int = MAX_PENDING_TASKS,
        flush_interval: float = FLUSH_INTERVAL,
        checkpoint_every: float = CHECKPOINT_EVERY,
        checkpoint_events: int = CHECKPOINT_EVENTS,
        task_events: float = TASK_EVENTS,
        prune_every: float = PRUNE_EVERY,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.max_pending = max_pending
        self.max_pending_tasks = max_pending_tasks
        self.flush_interval = flush_interval
        self.checkpoint_every = checkpoint_every
        self.checkpoint_events = checkpoint_events
        self.task_events = task_events
        self.prune_every = prune_every
        self.clock = clock
        self._lock = threading.Lock()
        self._events: list[dict[str, Any]] = []
        self._tasks: dict[str, TaskRow] = {}
        self._alerts: list[AlertRow] = []
        self._captures: list[tuple[float, dict[str, Any]]] = []
        self._status = RecorderStatus(store=store.display, recording=True)
        self._unwritten = 0  # events the store holds, not yet flushed (writer's view)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # consumer-side bookkeeping
        self._newest = 0.0  # newest local_received applied: what a checkpoint covers
        self._since_checkpoint = 0
        self._last_checkpoint = clock()
        self._plan = CheckpointPlan()  # full snapshots and deltas
        self._plan_lost = False  # a checkpoint was not written: the next one is full
        self._last_alert_scan = 0.0
        self._alerts_seen: dict[str, tuple[float, int, Alert]] = {}
        self._book: Any = None  # the AlertBook note() was last given

    # ---- the consumer side (Monitor.pump's thread) --------------------------------------

    def note(
        self,
        events: Sequence[dict[str, Any]],
        changes: Changes,
        state: ClusterState,
        alerts: Any = None,
    ) -> None:
        """One pump's worth: never blocks, drops (and counts) past the bounds."""
        if not self._status.recording:
            return
        rows = [task_row(t) for u in changes.tasks if (t := state.tasks.get(u)) is not None]
        now = self.clock()
        if events:
            last = events[-1].get("local_received")
            if (last.__class__ is float or last.__class__ is int) and last > self._newest:
                self._newest = last
            self._since_checkpoint += len(events)
        self._plan.note_changes(changes)
        capture = None
        if (state.tasks or state.workers) and checkpoint_due(
            now - self._last_checkpoint,
            self._since_checkpoint,
            len(state.tasks),
            every=self.checkpoint_every,
            min_events=self.checkpoint_events,
            per_task=self.task_events,
        ):
            if self._plan_lost or self._captures:  # one not written yet would be replaced
                self._plan_lost = False
                self._plan.restart()
            capture = self._plan.capture(state, self._newest or now)
            self._last_checkpoint = now
            self._since_checkpoint = 0
        alert_rows = []
        if alerts is not None:
            self._book = alerts  # for the last scan at stop()
            alert_rows = self._scan_alerts(alerts, now)
        with self._lock:
            status = self._status
            if events:
                if len(self._events) + self._unwritten + len(events) > self.max_pending:
                    status.events_dropped += len(events)
                else:
                    self._events.extend(events)
            tasks = self._tasks
            room = self.max_pending_tasks - self.store.pending_tasks  # a failing store holds some
            for row in rows:
                if row.uuid in tasks or len(tasks) < room:
                    tasks[row.uuid] = row
                else:
                    status.tasks_dropped += 1
            self._alerts.extend(alert_rows)
            if capture is not None:
                self._captures[:] = [(self._newest or now, capture)]  # only the newest
            status.pending = len(self._events) + self._unwritten
            wake = len(self._events) >= WAKE_AT
        if wake:
            self._wake.set()

    def _scan_alerts(self, book: Any, now: float, force: bool = False) -> list[AlertRow]:
        """Alerts raised, re-counted or cleared since the last scan (at most once a second,
        and once more at stop(), so an alert of the last second is not left out)."""
        if not force and now - self._last_alert_scan < ALERT_SCAN_EVERY:
            return []
        self._last_alert_scan = now
        rows = []
        live: dict[str, Alert] = {a.key: a for a in book.active()}
        for key, (first, count, old) in list(self._alerts_seen.items()):
            alert = live.get(key)
            if alert is None or alert.first_seen != first:
                rows.append(_alert_row(old, count, cleared=now))
                del self._alerts_seen[key]
        for key, alert in live.items():
            seen = self._alerts_seen.get(key)
            if seen is None or seen[1] != alert.count:
                copy = replace(alert)
                self._alerts_seen[key] = (alert.first_seen, alert.count, copy)
                rows.append(_alert_row(copy, alert.count))
        return rows

    @property
    def status(self) -> RecorderStatus:
        with self._lock:
            return replace(self._status)

    # ---- the writer thread ----------------------------------------------------------------

    def start(self) -> Recorder:
        self._thread = threading.Thread(target=self._run, name="celerytui-journal", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Write what is buffered (within about `timeout`), give the lease back."""
        if self._book is not None and self._status.recording:
            try:  # the pump has stopped: the alerts of its last second, scanned once more
                rows = self._scan_alerts(self._book, self.clock(), force=True)
            except Exception:  # a book mid-change: the next writer's close_left_open copes
                rows = []
            with self._lock:
                self._alerts.extend(rows)
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        next_prune = time.monotonic() + min(5.0, self.prune_every)
        delay = self.flush_interval
        while True:
            stopping = self._stop.is_set()
            if not stopping:
                self._wake.wait(delay)
                self._wake.clear()
            ok = self._write_once()
            if not self._status.recording or stopping:
                break  # after stop(): one last write of what the consumer noted
            delay = self.flush_interval if ok else min(RETRY_MAX, max(delay * 2, 0.5))
            if ok and time.monotonic() >= next_prune:
                next_prune = time.monotonic() + self.prune_every
                self._prune()
        try:
            self.store.close()
        except Exception as exc:  # closing must not raise out of a thread
            log.debug("journal close failed: %s", one_line(exc))
        with self._lock:
            self._status.recording = False

    def _write_once(self) -> bool:
        with self._lock:
            events, self._events = self._events, []
            tasks, self._tasks = self._tasks, {}
            alerts, self._alerts = self._alerts, []
            captures, self._captures = self._captures, []
            self._unwritten += len(events)
        store = self.store
        store.append(events)
        store.upsert_tasks(tasks.values())
        for row in alerts:
            store.record_alert(row)
        for at, capture in captures:
            store.write_checkpoint(at, state_snapshot.encode(capture))
        written = store.pending_events
        try:
            store.flush()
        except JournalLeaseError as exc:
            self._failed(str(exc), lost=True)
            return False
        except JournalError as exc:
            self._failed(str(exc))
            return False
        with self._lock:
            status = self._status
            status.events_recorded += written
            status.checkpoints += len(captures)
            status.flushes += 1
            status.last_flush = self.clock()
            if status.last_error is not None:
                log.info("journal %s: writing again", store.display)
            status.last_error = status.error_since = None
            self._unwritten = 0
            status.pending = len(self._events)
        return True

    def _failed(self, message: str, lost: bool = False) -> None:
        with self._lock:
            status = self._status
            if status.last_error != message:
                log.info("%s", message)  # the command or the TUI says it to the user
            if status.error_since is None:
                status.error_since = self.clock()
            status.last_error = message
            self._plan_lost = True  # the store keeps only its newest checkpoint meanwhile
            if lost:
                status.recording = False
                status.events_dropped += self.store.pending_events + len(self._events)
                self._events = []
                self._unwritten = 0
            status.pending = len(self._events) + self._unwritten

    def _prune(self) -> None:
        try:
            self.store.prune(self.clock())
        except JournalError as exc:
            self._failed(str(exc))


def _alert_row(alert: Alert, count: int, cleared: float | None = None) -> AlertRow:
    return AlertRow(
        rule=alert.key,
        severity=alert.severity,
        summary=alert.title,
        # the rule's labels (hostname, entry, queue_name, uuids...), and the detail line
        labels={**alert.labels, **({"detail": alert.detail} if alert.detail else {})},
        raised_at=alert.first_seen,
        cleared_at=cleared,
        count=count,
    )


def journal_cluster(settings: Any, broker_url: str | None = None) -> str:
    """The cluster's name in the journal: `cluster_name` when set, else from the broker URL
    (host, port, db or vhost; never the password)."""
    from celerytui.core.journal import cluster_name

    if settings.cluster_name and settings.cluster_name != "celery":
        return str(settings.cluster_name)
    return cluster_name(broker_url or settings.broker_url)


def attach(monitor: Any, settings: Any, *, holder: str, **options: Any) -> Recorder:
    """Open the settings' store for writing (JournalLeaseError when another writer holds it,
    JournalError when it cannot be opened), start a Recorder and hand it to the monitor."""
    from celerytui.core.journal import open_store

    store = open_store(
        settings.store,
        cluster=journal_cluster(settings, monitor.app.conf.broker_url),
        write=True,
        holder=holder,
        retention=settings.retention,
        max_size=settings.max_size,
    )
    close_left_open(store, time.time())
    recorder = Recorder(store, **options).start()
    monitor.journal = recorder
    return recorder


def close_left_open(store: JournalStore, now: float) -> int:
    """Close the alerts an earlier writer left open (it stopped or was killed holding them):
    nobody holds them now, so `status` must not read them as current. They end at the newest
    event recorded before this writer (the last time anybody heard the cluster); what still
    holds, the new recorder raises anew. Buffered: the recorder's first flush writes them."""
    left = [row for row in store.alerts_between(0.0, now) if row.cleared_at is None]
    if left:
        span = store.time_range()
        last = span[1] if span else now
        for row in left:
            store.record_alert(replace(row, cleared_at=max(row.raised_at, last)))
    return len(left)
