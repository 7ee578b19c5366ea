"""The deploy files name only metrics the exporter really exposes, and the exporter exposes
everything celery-exporter's users (and our alert rules and dashboard) rely on."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from celery import Celery
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from celerytui.config import Thresholds
from celerytui.core.beat_watch import BeatWatch
from celerytui.core.metrics import ClusterCollector, QueueSnapshot
from celerytui.core.model import StreamStatus
from celerytui.core.queue_wait import queue_waits
from celerytui.core.state import ClusterState

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
NOW = 1_790_000_000.0

# celery-exporter (danihodovic) names a user's existing dashboards and alerts rely on.
CELERY_EXPORTER_NAMES = {
    "celery_task_sent_total",
    "celery_task_received_total",
    "celery_task_started_total",
    "celery_task_succeeded_total",
    "celery_task_failed_total",
    "celery_task_rejected_total",
    "celery_task_revoked_total",
    "celery_task_retried_total",
    "celery_worker_up",
    "celery_worker_tasks_active",
    "celery_task_runtime_bucket",
    "celery_task_runtime_sum",
    "celery_task_runtime_count",
    "celery_queue_length",
    "celery_active_consumer_count",
}

# Words a PromQL expression (or a Grafana query) may contain that are not metric names.
PROMQL_WORDS = {
    "sum",
    "count",
    "avg",
    "min",
    "max",
    "topk",
    "bottomk",
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "and",
    "or",
    "unless",
    "bool",
    "offset",
    "rate",
    "irate",
    "increase",
    "delta",
    "histogram_quantile",
    "clamp_min",
    "clamp_max",
    "absent",
    "vector",
    "time",
    "label_values",
    "le",
    "humanizePercentage",
    "humanizeDuration",
    "value",
    "labels",
}
PROMETHEUS_OWN = {"up"}  # series Prometheus itself records for every scrape target


def _events() -> list[dict]:
    """A small cluster's worth of events: every kind of task event, a worker, two checks."""
    host, t = "w1@host", NOW - 5

    def ev(kind: str, uuid: str | None = None, **fields) -> dict:
        base = {"type": kind, "hostname": host, "timestamp": t, "local_received": t}
        if uuid:
            base["uuid"] = uuid
        return {**base, **fields}

    http_result = repr(
        {"url": "https://example.com", "status": "UP", "status_code": 200, "response_time": 0.12}
    )
    disk_result = repr(
        {
            "host": "db1",
            "status": "OK",
            "filesystem": "/dev/sda1",
            "size_bytes": 1000,
            "used_bytes": 930,
            "avail_bytes": 70,
            "use_percent": 93.0,
            "mount": "/",
        }
    )
    return [
        ev("worker-online", freq=2.0),
        ev("worker-heartbeat", freq=2.0, active=1, processed=4),
        ev(
            "task-sent",
            "u1",
            name="proj.add",
            args="(1, 2)",
            kwargs="{}",
            queue="celery",
            routing_key="celery",
        ),
        ev(
            "task-received", "u1", name="proj.add", args="(1, 2)", kwargs="{}", routing_key="celery"
        ),
        ev("task-started", "u1"),
        ev("task-succeeded", "u1", result="3", runtime=0.2),
        ev("task-received", "u2", name="proj.div", args="(1, 0)", kwargs="{}"),
        ev("task-started", "u2"),
        ev(
            "task-failed",
            "u2",
            exception="ZeroDivisionError('division by zero')",
            traceback="Traceback ...\nZeroDivisionError: division by zero",
        ),
        ev("task-received", "u3", name="proj.flaky", args="()", kwargs="{}"),
        ev("task-retried", "u3", exception="IOError('again')"),
        ev("task-received", "u4", name="proj.slow", args="()", kwargs="{}"),
        ev("task-revoked", "u4", terminated=False),
        ev("task-received", "u5", name="proj.bad", args="()", kwargs="{}"),
        ev("task-rejected", "u5"),
        ev(
            "task-received",
            "u6",
            name="celerytui.tasks.check_http_endpoint",
            args="('https://example.com',)",
            kwargs="{}",
        ),
        ev("task-succeeded", "u6", result=http_result, runtime=0.13),
        ev(
            "task-received",
            "u7",
            name="celerytui.tasks.check_disk_usage",
            args="('db1',)",
            kwargs="{}",
        ),
        ev("task-succeeded", "u7", result=disk_result, runtime=0.5),
    ]


@pytest.fixture(scope="module")
def exposed() -> dict[str, list]:
    """sample name -> samples, from a real scrape's text over the small cluster."""
    state = ClusterState(clock=lambda: NOW)
    state.apply(_events())
    app = Celery("proj", set_as_current=False)
    app.conf.beat_schedule = {"add": {"task": "proj.add", "schedule": 60.0, "args": (1, 2)}}
    app.conf.task_send_sent_event = True
    beats = BeatWatch.from_app(app, Thresholds(), NOW - 10)
    beats.observe(state.tasks, list(state.tasks))  # u1 is its run
    waits = queue_waits(state.tasks.values(), NOW, sends_seen=True)
    collector = ClusterCollector(
        state,
        stream_status=lambda: StreamStatus(connected=True, events_received=19),
        queues=lambda: QueueSnapshot({"celery": 3}, {"celery": 1}),
        clock=lambda: NOW,
        beats=lambda: beats,
        queue_waits=lambda: waits,
    )
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    text = generate_latest(registry).decode()
    samples: dict[str, list] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append(sample)
    return samples


def test_the_exporter_exposes_celery_exporter_names_and_its_own(exposed):
    ours = {
        "celerytui_events_total",
        "celerytui_events_dropped_total",
        "celerytui_broker_reconnects_total",
        "celerytui_broker_connected",
        "celerytui_check_up",
        "celerytui_check_response_seconds",
        "celerytui_disk_used_ratio",
        "celerytui_beat_missed_total",
        "celerytui_queue_oldest_seconds",
    }
    assert CELERY_EXPORTER_NAMES | ours <= set(exposed)
    (failed,) = exposed["celery_task_failed_total"]
    assert failed.labels == {
        "name": "proj.div",
        "hostname": "w1@host",
        "queue_name": "",
        "exception": "ZeroDivisionError",
    }
    assert failed.value == 1
    (disk,) = exposed["celerytui_disk_used_ratio"]
    assert disk.labels == {"host": "db1", "mount": "/"} and disk.value == pytest.approx(0.93)


def _identifiers(expr: str) -> set[str]:
    """The bare identifiers of a PromQL expression: strings, label matchers, ranges, label
    lists and Grafana variables removed."""
    expr = re.sub(r'"[^"]*"', "", expr)
    expr = re.sub(r"\{[^}]*\}", "", expr)
    expr = re.sub(r"\[[^\]]*\]", "", expr)
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", expr)
    expr = re.sub(r"\$\w+", "", expr)
    expr = re.sub(r"label_values\(([^,()]+),\s*\w+\)", r"\1", expr)  # Grafana: (metric, label)
    return set(re.findall(r"(?<![\w.])[A-Za-z_:][\w:]*", expr))


def _rule_exprs() -> list[str]:
    """Every `expr:` of the alert rules file (single-line or `|` blocks)."""
    lines = (DEPLOY / "prometheus" / "celerytui-alerts.yml").read_text().splitlines()
    exprs = []
    for i, line in enumerate(lines):
        key, _, rest = line.strip().partition(":")
        if key != "expr":
            continue
        if rest.strip() not in ("|", ">"):
            exprs.append(rest.strip())
            continue
        indent = len(line) - len(line.lstrip())
        block = []
        for follow in lines[i + 1 :]:
            if follow.strip() and len(follow) - len(follow.lstrip()) <= indent:
                break
            block.append(follow)
        exprs.append("\n".join(block))
    return exprs


def _dashboard_exprs() -> list[str]:
    dashboard = json.loads((DEPLOY / "grafana" / "celerytui.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    exprs += [v["definition"] for v in dashboard["templating"]["list"]]
    return exprs


@pytest.mark.parametrize("source", ["alert rules", "dashboard"])
def test_deploy_files_name_only_exposed_metrics(exposed, source):
    exprs = _rule_exprs() if source == "alert rules" else _dashboard_exprs()
    assert len(exprs) >= 8
    used = set().union(*(_identifiers(e) for e in exprs))
    unknown = used - set(exposed) - PROMQL_WORDS - PROMETHEUS_OWN
    assert not unknown, f"{source} name metrics the exporter does not expose: {sorted(unknown)}"


def test_the_identifier_check_catches_a_misspelt_metric(exposed):
    used = _identifiers('sum by (name) (rate(celery_tasks_failed_total{job="x"}[5m])) > 0')
    assert used - set(exposed) - PROMQL_WORDS == {"celery_tasks_failed_total"}


def test_alert_rules_cover_the_issue_list():
    text = "\n".join(_rule_exprs())
    for metric in (
        "celery_worker_up",
        "celery_task_failed_total",
        "celery_queue_length",
        "celerytui_check_up",
        "celerytui_disk_used_ratio",
    ):
        assert metric in text
    panels = "\n".join(_dashboard_exprs())
    for needle in (
        "histogram_quantile(0.95",
        "celery_queue_length",
        "celery_worker_up",
        "celerytui_check_up",
        "rate(celery_task_succeeded_total",
    ):
        assert needle in panels


def test_a_silent_worker_goes_down_then_its_series_are_dropped():
    now = [NOW]
    state = ClusterState(clock=lambda: now[0])
    state.apply(
        [
            e
            for e in _events()
            if e["type"] in ("worker-online", "task-received", "task-started", "task-succeeded")
        ]
    )
    collector = ClusterCollector(state, worker_timeout=60, worker_purge=600, clock=lambda: now[0])

    def scrape() -> dict[str, float]:
        registry = CollectorRegistry(auto_describe=False)
        registry.register(collector)
        text = generate_latest(registry).decode()
        return {
            f"{s.name}{sorted(s.labels.items())}": s.value
            for f in text_string_to_metric_families(text)
            for s in f.samples
            if s.labels.get("hostname") == "w1@host"
        }

    up = "celery_worker_up[('hostname', 'w1@host')]"
    assert scrape()[up] == 1
    now[0] = NOW + 120  # silent for two minutes: past --worker-timeout
    seen = scrape()
    assert seen[up] == 0
    assert any(k.startswith("celery_task_succeeded_total") for k in seen)
    now[0] = NOW + 700  # past --purge-offline-after: every series of that worker is gone
    assert scrape() == {}
