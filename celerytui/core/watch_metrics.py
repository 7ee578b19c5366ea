"""The exporter's families for what the Monitor watches beyond the task counters: beat runs
(core/beat_watch.py), each queue's oldest waiting task (core/queue_wait.py) and the alert
webhooks (core/alert_delivery.py). ClusterCollector adds them to every scrape.

Bounded like the task series: at most MAX_ENTRIES beat entries (the app's own schedule, so a
cap is only a guard) and MAX_QUEUES queue names (queue names come from events: hostile text,
control characters spelt out; beyond the cap the oldest wait is kept under ``other``).
"""

from __future__ import annotations

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from celerytui.core.alert_delivery import DeliveryStats
from celerytui.core.beat_watch import BeatWatch
from celerytui.core.queue_wait import QueueWaits
from celerytui.core.series_caps import label_text

MAX_ENTRIES = 500
MAX_QUEUES = 1_000
OTHER = "other"


def beat_families(beats: BeatWatch | None) -> list[Metric]:
    missed = CounterMetricFamily(
        "celerytui_beat_missed",
        "Beat runs of the entry not sent within the grace window of their time.",
        labels=("entry",),
    )
    late_runs = CounterMetricFamily(
        "celerytui_beat_late_runs",
        "Beat runs of the entry sent later than beat_late after their time.",
        labels=("entry",),
    )
    late = GaugeMetricFamily(
        "celerytui_beat_late_seconds",
        "Seconds the entry's newest run was sent after its time (0: on time).",
        labels=("entry",),
    )
    judged = GaugeMetricFamily(
        "celerytui_beat_judged",
        "1 when the app sends task-sent events, so beat runs can be judged.",
    )
    judged.add_metric([], 1 if beats is not None and beats.sends_events else 0)
    if beats is not None and beats.sends_events:
        for entry in list(beats.entries.values())[:MAX_ENTRIES]:
            label = [label_text(entry.name)]
            missed.add_metric(label, entry.missed)
            late_runs.add_metric(label, entry.late)
            if entry.last_lateness is not None:
                late.add_metric(label, entry.last_lateness)
    return [missed, late_runs, late, judged]


def queue_wait_families(waits: QueueWaits | None, queues: list[str], now: float) -> list[Metric]:
    """Every queue the poller knows (0 when nothing waits) and every queue events sent to."""
    oldest = GaugeMetricFamily(
        "celerytui_queue_oldest_seconds",
        "Age of the oldest task sent to the queue that no worker has received yet (from "
        "events; absent when no task-sent event was ever seen).",
        labels=("queue_name",),
    )
    known = GaugeMetricFamily(
        "celerytui_queue_oldest_known",
        "1 when task-sent events arrive, so queue waits can be told.",
    )
    known.add_metric([], 1 if waits is not None and waits.known else 0)
    if waits is None or not waits.known:
        return [oldest, known]
    ages: dict[str, float] = {}
    for name in queues:
        ages.setdefault(label_text(name), 0.0)
    for name, wait in waits.queues.items():
        label = label_text(name)
        if label not in ages and len(ages) >= MAX_QUEUES:
            label = OTHER
        ages[label] = max(ages.get(label, 0.0), wait.age(now))
    for label, age in sorted(ages.items()):
        oldest.add_metric([label], age)
    return [oldest, known]


def delivery_families(stats: DeliveryStats | None) -> list[Metric]:
    posts = CounterMetricFamily(
        "celerytui_alert_webhook_posts",
        "Alert webhook POSTs by result (sent: 2xx; failed: refused, not 2xx, timed out); "
        "dropped: payloads not queued because the sender was behind.",
        labels=("result",),
    )
    pending = GaugeMetricFamily(
        "celerytui_alert_webhook_pending", "Alert payloads waiting for the webhook sender."
    )
    if stats is not None:
        posts.add_metric(["sent"], stats.sent)
        posts.add_metric(["failed"], stats.failed)
        posts.add_metric(["dropped"], stats.dropped)
        pending.add_metric([], stats.pending)
    return [posts, pending]
