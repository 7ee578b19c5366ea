"""Prometheus metrics computed from ClusterState at scrape time.

Nothing here runs per event: the exporter's consumer thread applies events to ClusterState, and
a scrape walks the state's cumulative counters once, under the monitor's lock. Names and labels
follow danihodovic/celery-exporter so its dashboards and alerts keep working.

Task counters are capped (celerytui/core/series_caps.py): what a cap folded is counted in
celerytui_series_folded_total{kind}, and a scrape frees the label sets of hosts gone longer
than worker_purge. Every label value has its control characters spelt out.

Queue depths need broker round trips, which can block: the Monitor's poller thread fetches them
every few seconds and the collector only reads its last answer.
"""

from __future__ import annotations

import contextlib
import functools
import math
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)

from celerytui.core.alert_delivery import DeliveryStats
from celerytui.core.beat_watch import BeatWatch
from celerytui.core.model import WORKER_OFFLINE, StreamStatus
from celerytui.core.queue_wait import QueueWaits
from celerytui.core.series_caps import FOLD_KINDS, label_text
from celerytui.core.watch_metrics import beat_families, delivery_families, queue_wait_families

TASK_LABELS = ("name", "hostname", "queue_name")

# counter kind in ClusterState.counters -> celery-exporter's metric (without "_total")
TASK_COUNTERS = {
    "sent": "celery_task_sent",
    "received": "celery_task_received",
    "started": "celery_task_started",
    "succeeded": "celery_task_succeeded",
    "failed": "celery_task_failed",
    "rejected": "celery_task_rejected",
    "revoked": "celery_task_revoked",
    "retried": "celery_task_retried",
}


@dataclass(slots=True)
class QueueSnapshot:
    """The queue poller's last answer: depth and consumer count per queue name."""

    lengths: dict[str, int] = field(default_factory=dict)
    consumers: dict[str, int] = field(default_factory=dict)
    polled_at: float | None = None
    error: str | None = None


class ClusterCollector:
    """A prometheus_client custom collector over one ClusterState.

    ``lock`` is the monitor's lock (the consumer thread mutates the state under it);
    ``stream_status`` and ``queues`` are callables so the collector reads fresh values without
    knowing where they come from.
    """

    def __init__(
        self,
        state: Any,
        *,
        lock: Any = None,
        stream_status: Callable[[], StreamStatus | None] = lambda: None,
        queues: Callable[[], QueueSnapshot | None] = lambda: None,
        worker_timeout: float = 60.0,
        worker_purge: float = 600.0,
        clock: Callable[[], float] = time.time,
        beats: Callable[[], BeatWatch | None] = lambda: None,
        queue_waits: Callable[[], QueueWaits | None] = lambda: None,
        delivery: Callable[[], DeliveryStats | None] = lambda: None,
    ) -> None:
        self.state = state
        self.beats = beats
        self.queue_waits = queue_waits
        self.delivery = delivery
        self.lock = lock if lock is not None else contextlib.nullcontext()
        self.stream_status = stream_status
        self.queues = queues
        self.worker_timeout = worker_timeout
        self.worker_purge = worker_purge
        self.clock = clock

    def describe(self) -> list[Metric]:
        """Nothing up front: the registry must not call collect() at registration."""
        return []

    def collect(self) -> Iterator[Metric]:
        with self.lock:
            families = self._task_families() + self._worker_and_check_families()
            snapshot = self.queues()
            families += self._queue_families(snapshot)
            families += beat_families(self.beats())
            known = sorted(snapshot.lengths) if snapshot is not None else []
            families += queue_wait_families(self.queue_waits(), known, self.clock())
            malformed = self.state.malformed
        families += delivery_families(self.delivery())
        families += self._stream_families(self.stream_status(), malformed)
        yield from families

    # -- tasks -------------------------------------------------------------------------------

    def _release_gone_hosts(self) -> None:
        """Free the label sets of hosts gone past worker_purge: workers silent that long, and
        hostnames that are no worker (task-sent's client machines, workers dropped from the
        roster) whose label sets counted nothing for that long. The collector already hid
        them; freeing lets the workers that replace them have labels of their own."""
        series = getattr(self.state, "series", None)
        if series is None:
            return
        now = self.clock()
        gone, workers = set(), set()
        for hostname, worker in self.state.workers.items():
            label = label_text(hostname)
            workers.add(label)
            seen = worker.last_heartbeat or worker.first_seen
            if seen is not None and now - seen > self.worker_purge:
                gone.add(label)
        gone |= series.idle_hosts(now - self.worker_purge) - workers
        series.release_hosts(gone)

    def _task_families(self) -> list[Metric]:
        self._release_gone_hosts()
        counters = {
            kind: CounterMetricFamily(
                metric, f"Task {kind} events seen since the exporter started.", labels=TASK_LABELS
            )
            for kind, metric in TASK_COUNTERS.items()
            if kind != "failed"
        }
        failed = CounterMetricFamily(
            "celery_task_failed",
            "Task failures seen since the exporter started.",
            labels=(*TASK_LABELS, "exception"),
        )
        failed_by_key: dict[tuple[str, str, str], int] = {}
        lost_by_key: dict[tuple[str, str], int] = {}  # summed over queues
        for (kind, name, hostname, queue), n in self.state.counters.items():
            key = (name or "", hostname or "", queue or "")
            if kind == "lost":
                lost_key = (name or "", hostname or "")
                lost_by_key[lost_key] = lost_by_key.get(lost_key, 0) + n
            elif kind == "failed":
                failed_by_key[key] = failed_by_key.get(key, 0) + n
            elif kind in counters:
                counters[kind].add_metric(key, n)
        for (name, hostname, queue, exc), n in self.state.failures_by_exception.items():
            key = (name or "", hostname or "", queue or "")
            failed.add_metric([*key, exc or ""], n)
            failed_by_key[key] = failed_by_key.get(key, 0) - n
        for key, rest in failed_by_key.items():
            if rest > 0:  # failures the state counted without an exception type
                failed.add_metric([*key, ""], rest)
        runtime = HistogramMetricFamily(
            "celery_task_runtime",
            "Task runtime in seconds.",
            labels=TASK_LABELS,
        )
        for (name, hostname, queue), hist in self.state.runtime_hist.items():
            runtime.add_metric(
                [name or "", hostname or "", queue or ""], _histogram_buckets(hist), hist.sum
            )
        lost = CounterMetricFamily(
            "celerytui_tasks_lost",
            "Tasks a worker held (received or started) when it went offline or stopped its "
            "heartbeats; a task that reports a final state later stays counted.",
            labels=("name", "hostname"),
        )
        for pair, n in lost_by_key.items():
            lost.add_metric(pair, n)
        return [*counters.values(), failed, runtime, lost, *self._series_families()]

    def _series_families(self) -> list[Metric]:
        series = getattr(self.state, "series", None)
        folded = CounterMetricFamily(
            "celerytui_series_folded",
            "Task events counted under 'other' because a cap was "
            "full (kind: the label capped, or series for the label sets).",
            labels=("kind",),
        )
        label_sets = GaugeMetricFamily(
            "celerytui_series_label_sets",
            "Label sets (name, hostname, queue_name) the task metrics hold now.",
        )
        if series is not None:
            for kind in FOLD_KINDS:
                folded.add_metric([kind], series.folded.get(kind, 0))
            label_sets.add_metric([], series.label_sets)
        return [folded, label_sets]

    # -- workers and checks ------------------------------------------------------------------

    def _worker_and_check_families(self) -> list[Metric]:
        now = self.clock()
        up = GaugeMetricFamily(
            "celery_worker_up", "1 while the worker sends heartbeats.", labels=("hostname",)
        )
        active = GaugeMetricFamily(
            "celery_worker_tasks_active", "Tasks the worker is running now.", labels=("hostname",)
        )
        for hostname, worker in self.state.workers.items():
            seen = worker.last_heartbeat or worker.first_seen
            silent = now - seen if seen is not None else 0.0
            if silent > self.worker_purge:
                continue
            alive = worker.status != WORKER_OFFLINE and silent <= self.worker_timeout
            label = label_text(hostname)
            up.add_metric([label], 1 if alive else 0)
            active.add_metric([label], worker.active if alive else 0)

        check_up = GaugeMetricFamily(
            "celerytui_check_up", "1 when the last HTTP check was UP.", labels=("url",)
        )
        check_rt = GaugeMetricFamily(
            "celerytui_check_response_seconds",
            "Response time of the last HTTP check.",
            labels=("url",),
        )
        for url, check in self.state.http_checks.items():
            label = label_text(url)
            check_up.add_metric([label], 1 if check.status == "UP" else 0)
            if check.response_time is not None:
                check_rt.add_metric([label], check.response_time)
        disk = GaugeMetricFamily(
            "celerytui_disk_used_ratio",
            "Used / size of the checked filesystem (0..1).",
            labels=("host", "mount"),
        )
        for host, check in self.state.disk_checks.items():
            ratio = _disk_ratio(check)
            if ratio is not None:
                disk.add_metric([label_text(host), label_text(check.mount or "")], ratio)
        return [up, active, check_up, check_rt, disk]

    # -- the monitor itself and the queues ---------------------------------------------------

    @staticmethod
    def _stream_families(status: StreamStatus | None, malformed: int = 0) -> list[Metric]:
        status = status or StreamStatus()
        return [
            CounterMetricFamily(
                "celerytui_events_malformed",
                "Events skipped because they could not be read (not JSON, bad "
                "base64, wrong field types).",
                value=status.malformed + malformed,
            ),
            CounterMetricFamily(
                "celerytui_events", "Events received from the broker.", value=status.events_received
            ),
            CounterMetricFamily(
                "celerytui_events_dropped",
                "Events dropped because the consumer fell behind.",
                value=status.events_dropped,
            ),
            CounterMetricFamily(
                "celerytui_broker_reconnects",
                "Times the event stream reconnected to the broker.",
                value=status.reconnects,
            ),
            GaugeMetricFamily(
                "celerytui_broker_connected",
                "1 while the event stream is connected to the broker.",
                value=1 if status.connected else 0,
            ),
        ]

    @staticmethod
    def _queue_families(snapshot: QueueSnapshot | None) -> list[Metric]:
        length = GaugeMetricFamily(
            "celery_queue_length",
            "Messages waiting in the queue (all priorities).",
            labels=("queue_name",),
        )
        consumers = GaugeMetricFamily(
            "celery_active_consumer_count",
            "Workers consuming from the queue.",
            labels=("queue_name",),
        )
        if snapshot is not None:
            for name, n in sorted(snapshot.lengths.items()):
                length.add_metric([label_text(name)], n)
            for name, n in sorted(snapshot.consumers.items()):
                consumers.add_metric([label_text(name)], n)
        return [length, consumers]


def _histogram_buckets(hist: Any) -> list[tuple[str, float]]:
    buckets = [
        (label, count)
        for label, count in zip(_bound_labels(hist.buckets), hist.counts, strict=False)
        if label is not None
    ]
    buckets.append(("+Inf", hist.count))
    return buckets


@functools.cache
def _bound_labels(bounds: tuple[float, ...]) -> tuple[str | None, ...]:
    """Each bound's `le` label (None for infinity), once per bucket layout, not per scrape."""
    return tuple(None if math.isinf(bound) else repr(float(bound)) for bound in bounds)


def _disk_ratio(check: Any) -> float | None:
    if check.status != "OK":
        return None
    if check.size_bytes and check.used_bytes is not None:
        return float(check.used_bytes / check.size_bytes)
    if check.use_percent is not None:
        return float(check.use_percent / 100.0)
    return None


def queue_snapshot(depths: Sequence[Any], workers: Iterable[Any]) -> QueueSnapshot:
    """Fold the monitor's QueueDepth records into a QueueSnapshot. Where the broker cannot count
    consumers (Redis), count the live workers whose active_queues include the queue."""
    from_workers: dict[str, int] = {}
    for worker in workers:
        if worker.alive:
            for name in worker.queues or ():
                from_workers[name] = from_workers.get(name, 0) + 1
    lengths: dict[str, int] = {}
    consumers: dict[str, int] = {}
    errors = []
    for depth in depths:
        if depth.error:
            errors.append(f"{depth.name}: {depth.error}")
            continue
        lengths[depth.name] = depth.messages
        consumers[depth.name] = (
            depth.consumers if depth.consumers is not None else from_workers.get(depth.name, 0)
        )
    return QueueSnapshot(lengths, consumers, time.time(), "; ".join(errors) or None)
