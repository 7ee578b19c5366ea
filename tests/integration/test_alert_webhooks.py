"""Alerts delivered to a real local webhook server by the Monitor's delivery thread: one JSON
shape; raised once, repeats folded into the count, sent again after the resend interval,
cleared once. A webhook that never answers does not hold up ingestion: every event is applied
while the server still holds the first POST; the POST fails after the short timeout, logged
without the hook's token; payloads beyond the bounded queue are dropped and counted. And
`celerytui record` delivers them headless."""

from __future__ import annotations

import logging
import signal

from celerytui.config import Settings, Thresholds
from celerytui.core.alert_delivery import AlertDelivery
from celerytui.core.monitor import Monitor
from tests.support.cluster_events import T0, FakeClock, failed, received
from tests.support.commands import LineReader, command_env, start_celerytui
from tests.support.recorded_source import RecordedEvents
from tests.support.services import stop_process, wait_for
from tests.support.webhook_server import WebhookServer

TOKEN = "T0KEN-s3cret"


def _failure(uuid: str, name: str, at: float) -> list[dict]:
    return [received(uuid, at, name=name), failed(uuid, at + 0.1)]


def _monitor(hook: WebhookServer, clock: FakeClock, **settings) -> tuple[Monitor, RecordedEvents]:
    source = RecordedEvents([])
    monitor = Monitor(
        Settings(
            broker_url="redis://127.0.0.1:1/0",
            result_backend="redis://127.0.0.1:1/1",
            alert_webhook=hook.url(f"/hooks/{TOKEN}"),
            cluster_name="prod",
            **settings,
        ),
        clock=clock,
        source=source,
    )
    source.start()
    monitor.deliver_alerts()
    return monitor, source


def test_raised_once_repeats_folded_resent_after_the_interval_and_cleared_once():
    hook = WebhookServer().start()
    clock = FakeClock(T0)
    monitor, source = _monitor(
        hook, clock, alert_resend=60.0, thresholds=Thresholds(failure_window=300.0)
    )
    try:
        source.push(_failure("f1", "proj.fail", T0))
        monitor.pump()
        wait_for(lambda: hook.bodies("task-failed:proj.fail"), 10, what="the first POST")
        first = hook.bodies("task-failed:proj.fail")[0]
        assert first == {
            "rule": "task-failed",
            "key": "task-failed:proj.fail",
            "severity": "error",
            "summary": "proj.fail failed",
            "detail": "ValueError('boom')",
            "labels": first["labels"],
            "first_seen": "2026-01-01T00:00:00Z",
            "last_seen": "2026-01-01T00:00:00Z",
            "count": 1,
            "cleared": False,
            "cluster": "prod",
        }
        clock.advance(5)
        source.push(_failure("f2", "proj.fail", T0 + 5))  # a repeat: folded, not sent
        monitor.pump()
        clock.advance(5)
        source.push(_failure("o1", "proj.other", T0 + 10))  # sent after the fold, in order
        monitor.pump()
        wait_for(lambda: hook.bodies("task-failed:proj.other"), 10, what="the other alert")
        assert len(hook.bodies("task-failed:proj.fail")) == 1
        assert monitor.delivery is not None and monitor.delivery.stats.folded == 1

        clock.advance(60)  # the resend interval: sent again, with its count
        monitor.pump()
        wait_for(lambda: len(hook.bodies("task-failed:proj.fail")) == 2, 10, what="the resend")
        resent = hook.bodies("task-failed:proj.fail")[1]
        assert (resent["count"], resent["cleared"]) == (2, False)
        assert resent["last_seen"] == "2026-01-01T00:00:05Z"

        clock.advance(300)  # quiet for the failure window: cleared, once
        monitor.pump()
        clock.advance(2)
        monitor.pump()
        wait_for(lambda: len(hook.bodies("task-failed:proj.fail")) == 3, 10, what="the clear")
        cleared = hook.bodies("task-failed:proj.fail")[2]
        assert (cleared["count"], cleared["cleared"]) == (2, True)
        clock.advance(2)
        monitor.pump()
        assert all(path == f"/hooks/{TOKEN}" for path, _ in hook.posts)
        stats = monitor.delivery.stats
        assert stats.failed == 0 and stats.dropped == 0
        wait_for(lambda: monitor.delivery.stats.sent == len(hook.posts), 5, what="counted")
    finally:
        monitor.stop()
        hook.close()


def test_a_hanging_webhook_never_holds_up_ingestion(caplog):
    hook = WebhookServer(hang=True).start()
    clock = FakeClock(T0)
    monitor, source = _monitor(hook, clock, alert_timeout=3.0)
    events = []
    for i in range(2_000):  # 2,000 failures of 40 task names: 40 alerts to deliver
        events += _failure(f"t{i}", f"proj.task{i % 40}", T0 + i * 0.001)
    try:
        with caplog.at_level(logging.WARNING, logger="celerytui.core.alert_delivery"):
            source.push(events[:200])
            monitor.pump()  # the first alerts are queued; the sender blocks on the first POST
            wait_for(lambda: hook.connections == 1, 10, what="the hook to hold a POST")
            for start in range(200, len(events), 200):
                clock.advance(0.5)
                source.push(events[start : start + 200])
                monitor.pump()
            # everything ingested while the hook still holds the first POST unanswered
            assert monitor.state.events_applied == len(events)
            assert hook.connections == 1 and hook.posts == []
            failing = [a for a in monitor.alerts.active() if a.key.startswith("task-failed:")]
            assert len(failing) == 40  # (and the failure-rate alert)
            wait_for(lambda: monitor.delivery.stats.failed >= 1, 15, what="the POST to time out")
        assert any("alert not delivered to http://127.0.0.1:" in r.message for r in caplog.records)
        assert not any(TOKEN in r.getMessage() for r in caplog.records)
    finally:
        monitor.stop()
        hook.close()

    # a sender that cannot keep up drops what its bounded queue cannot hold, and counts it
    delivery = AlertDelivery([hook.url(f"/hooks/{TOKEN}")], max_queued=5)
    raised = len(monitor.alerts.active())
    assert delivery.observe(monitor.alerts, T0) == 5
    assert delivery.stats.dropped == raised - 5 and delivery.stats.pending == 5
    assert delivery.targets == [hook.url("/****")]


def test_celerytui_record_delivers_alerts_headless(redis_urls, celery_app, tmp_path):
    """`celerytui record` (no TUI, no exporter) tells the webhook: a task sent to a queue no
    worker consumes waits past the 1 s threshold -> queue-oldest, POSTed with its labels."""
    broker, backend = redis_urls
    hook = WebhookServer().start()
    env = command_env(
        CELERYTUI_ALERT_WEBHOOK=hook.url(f"/hooks/{TOKEN}"),
        CELERYTUI_THRESHOLDS_QUEUE_OLDEST="1",
    )
    store = tmp_path / "journal.sqlite"
    proc = start_celerytui(
        "record", "--store", str(store), "-b", broker, "--result-backend", backend, env=env
    )
    stderr = LineReader(proc.stderr)
    try:
        line = stderr.wait_for(lambda text: "alerts to" in text, what="the recorder to start")
        assert line.endswith("/****") and TOKEN not in line
        celery_app.send_task("celerytui.tasks.send_email", args=["a@b.c", "x"], queue="nobody")
        wait_for(lambda: hook.bodies("queue-oldest:nobody"), 20, what="the queue-oldest POST")
        body = hook.bodies("queue-oldest:nobody")[0]
        assert body["rule"] == "queue-oldest" and body["labels"]["queue_name"] == "nobody"
        assert body["cleared"] is False and int(body["labels"]["waiting"]) == 1
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        finally:
            stop_process(proc)
            hook.close()
    assert not any(TOKEN in text for text in stderr.lines)
