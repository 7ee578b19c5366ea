"""ClusterState's workers: heartbeats, liveness (online / lost / offline), bounded roster.

A worker is alive while now < last heartbeat + freq * 2 (celery's HEARTBEAT_EXPIRE_WINDOW).
Heartbeat times are the monitor's own receipt times (local_received, else the state's clock),
so a worker with a skewed clock is judged fairly. Kept apart from state.py to keep it short.
"""

from __future__ import annotations

from sys import intern
from typing import Any

from celerytui.core.event_fields import Malformed, id_of, int_of, number_of
from celerytui.core.model import WORKER_LOST, WORKER_OFFLINE, WORKER_ONLINE, Changes, Worker
from celerytui.core.state_lost import NO_HEARTBEAT, OFFLINE, lose_tasks
from celerytui.core.state_parts import StateParts
from celerytui.core.task_stats import WORKER_SERIES_SECONDS, SecondRing

HEARTBEATS_OFF_AFTER = 5.0  # seconds known without a heartbeat (celery sends one every 2 s)
CLOCK_SAMPLES = 8  # heartbeats the clock offset is judged over (a stepped clock is seen in 16 s)


class WorkerTracking:
    """Mixin for ClusterState: worker events, liveness and per-worker series."""

    # ---- worker events --------------------------------------------------------------------

    def _on_heartbeat(self: StateParts, ev: dict[str, Any]) -> None:
        hostname = id_of(ev.get("hostname"))
        if hostname is None:
            raise Malformed
        ts, lr = self._times(ev)
        freq = number_of(ev.get("freq"))
        active, processed = int_of(ev.get("active")), int_of(ev.get("processed"))
        loadavg = ev.get("loadavg")
        if isinstance(loadavg, list | tuple):
            loadavg = tuple(x for x in map(number_of, loadavg[:3]) if x is not None)
        else:
            loadavg = None
        worker = self.workers.get(hostname) or self._new_worker(hostname, lr)
        if freq is not None and 0 < freq <= 3_600:
            worker.freq = freq
        if active is not None:
            worker.active = active
        if processed is not None:
            worker.processed = processed
        if loadavg is not None:
            worker.loadavg = loadavg
        worker.pid = int_of(ev.get("pid")) or worker.pid
        worker.sw_ident = id_of(ev.get("sw_ident")) or worker.sw_ident
        worker.sw_ver = id_of(ev.get("sw_ver")) or worker.sw_ver
        worker.sw_sys = id_of(ev.get("sw_sys")) or worker.sw_sys
        if worker.last_heartbeat is None or lr >= worker.last_heartbeat:
            worker.last_heartbeat = lr
        if "timestamp" in ev and "local_received" in ev:  # both clocks known: how far apart
            worker.clock_samples = (*worker.clock_samples[1 - CLOCK_SAMPLES :], lr - ts)
        if worker.status != WORKER_ONLINE:
            worker.status = WORKER_ONLINE
            worker.offline_at = None
        if processed is not None:  # the worker's own (a `heartbeat` command's reply has none)
            worker.heartbeat_seen, worker.heartbeats_off = True, False
        self._ch.workers.add(worker.hostname)

    def _on_offline(self: StateParts, ev: dict[str, Any]) -> None:
        hostname = id_of(ev.get("hostname"))
        if hostname is None:
            raise Malformed
        _, lr = self._times(ev)
        worker = self.workers.get(hostname)
        if worker is None or worker.status == WORKER_OFFLINE:
            return
        # its last word: tasks processed and load at shutdown (as celery keeps them)
        processed, loadavg = int_of(ev.get("processed")), ev.get("loadavg")
        if processed is not None:
            worker.processed = processed
        if isinstance(loadavg, list | tuple):
            worker.loadavg = tuple(x for x in map(number_of, loadavg[:3]) if x is not None)
        worker.status = WORKER_OFFLINE
        worker.offline_at = lr
        worker.active = 0
        self._ch.workers.add(worker.hostname)
        self.lost.offline[worker.hostname] = OFFLINE  # its tasks: LOST at the batch's end
        self.lost.offline_at = max(self.lost.offline_at, lr)

    def note_stats(
        self: StateParts, totals: dict[str, int | None], now: float, every: float
    ) -> set[str]:
        """Workers that answered ``inspect stats`` (hostname -> sum of its ``total`` counts),
        polled every ``every`` seconds. Until a worker has sent a heartbeat its replies are
        its signs of life (alive for two polls); one known for HEARTBEATS_OFF_AFTER without
        any heartbeat is marked ``heartbeats_off`` and its processed count comes from these
        totals. Returns the hostnames whose record changed."""
        changed: set[str] = set()
        for raw, processed in totals.items():
            hostname = id_of(raw)
            if hostname is None:
                continue
            worker = self.workers.get(hostname)
            if worker is None:
                worker = self._new_worker(hostname, now)
                changed.add(worker.hostname)
            if worker.heartbeat_seen:
                continue
            before = (worker.status, worker.processed, worker.heartbeats_off)
            worker.freq = every
            worker.last_heartbeat = max(now, worker.last_heartbeat or now)
            if worker.status != WORKER_ONLINE:
                worker.status, worker.offline_at = WORKER_ONLINE, None
            if now - (worker.first_seen or now) >= HEARTBEATS_OFF_AFTER:
                worker.heartbeats_off = True
                if processed is not None:
                    worker.processed = processed
            if (worker.status, worker.processed, worker.heartbeats_off) != before:
                changed.add(worker.hostname)
        return changed

    # ---- workers ----------------------------------------------------------------------------

    def _new_worker(self: StateParts, hostname: str, lr: float) -> Worker:
        hostname = intern(hostname)
        worker = self.workers[hostname] = Worker(
            hostname=hostname, first_seen=lr, last_heartbeat=lr
        )
        self._ch.workers.add(hostname)
        if len(self.workers) > self.max_workers:
            self._evict_worker(keep=hostname)
        return worker

    def _evict_worker(self: StateParts, keep: str) -> None:
        """Drop the worker gone longest (offline or lost first), never `keep`."""

        def gone_since(w: Worker) -> tuple[int, float]:
            online = w.status == WORKER_ONLINE
            return (online, (w.offline_at if w.offline_at is not None else w.last_heartbeat) or 0.0)

        victim = min((w for w in self.workers.values() if w.hostname != keep), key=gone_since)
        del self.workers[victim.hostname]
        self._worker_rings.pop(victim.hostname, None)
        self._ch.workers.add(victim.hostname)

    def tick(self: StateParts, now: float | None = None) -> Changes:
        """Mark workers whose heartbeats stopped (freq * 2 without one) as lost, and the tasks
        they held LOST (state_lost.py)."""
        ch = Changes()
        now = self.clock() if now is None else now
        gone: dict[str, str] = {}
        for worker in self.workers.values():
            if (
                worker.status == WORKER_ONLINE
                and worker.last_heartbeat is not None
                and now >= worker.last_heartbeat + worker.freq * 2
            ):
                worker.status = WORKER_LOST
                ch.workers.add(worker.hostname)
                ch.workers_lost.append(worker.hostname)
                gone[worker.hostname] = NO_HEARTBEAT
        lose_tasks(self, gone, now, ch)
        return ch

    def heartbeat_age(self: StateParts, hostname: str, now: float | None = None) -> float | None:
        """Seconds since the worker's last heartbeat (or task event), by the state's clock."""
        worker = self.workers.get(hostname)
        if worker is None or worker.last_heartbeat is None:
            return None
        return max(0.0, (self.clock() if now is None else now) - worker.last_heartbeat)

    def _processed(self: StateParts, hostname: str | None, lr: float) -> None:
        """One more task done on `hostname` this second (the worker's sparkline)."""
        if hostname is None or hostname not in self.workers:
            return
        ring = self._worker_rings.get(hostname)
        if ring is None:
            ring = self._worker_rings[hostname] = SecondRing(1, WORKER_SERIES_SECONDS)
        i = ring.slot(int(lr))
        if i >= 0:
            ring.counts[0][i] += 1

    def worker_series(self: StateParts, hostname: str, seconds: int = 60) -> list[int]:
        """Tasks the worker finished per second, oldest first (for its sparkline)."""
        ring = self._worker_rings.get(hostname)
        seconds = max(0, min(seconds, WORKER_SERIES_SECONDS))
        if ring is None:
            return [0] * seconds
        return ring.series(0, int(self.clock()), seconds)
