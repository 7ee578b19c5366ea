"""A real `celery beat` with a fast schedule (entries every 4 s and 5 s), watched by a real
`celerytui exporter` that delivers its alerts to a real local webhook: runs on time first;
beat frozen by SIGSTOP -> "missed" for both entries, delivered headless; thawed -> its
overdue runs come late ("late", the missed alerts cleared); stopped -> missed again. The
tasks wait in a queue no worker consumes, so the queue's oldest wait grows past its threshold
(alert, /metrics) until a real worker takes them. The webhook's token is never printed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from tests.support.beat_app import BEAT_QUEUE
from tests.support.commands import ROOT, LineReader, command_env, start_celerytui
from tests.support.freezing import freeze
from tests.support.services import free_port, stop_process, wait_for
from tests.support.webhook_server import WebhookServer
from tests.support.workers import WorkerProcess

TOKEN = "T0KEN-s3cret"
PAYLOAD_KEYS = {
    "rule",
    "key",
    "severity",
    "summary",
    "detail",
    "labels",
    "first_seen",
    "last_seen",
    "count",
    "cleared",
    "cluster",
}


def _samples(port: int) -> dict[tuple[str, tuple], float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
        text = answer.read().decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def _metric(port: int, name: str, **labels: str) -> float | None:
    return _samples(port).get((name, tuple(sorted(labels.items()))))


def _start_beat(broker: str, tmp_path) -> subprocess.Popen:
    log = open(tmp_path / "beat.log", "ab")  # noqa: SIM115 - closed with the process's end
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "tests.support.beat_app",
            "beat",
            "-l",
            "INFO",
            "-s",
            str(tmp_path / "beat-schedule"),
            "--pidfile=",
        ],
        env={**command_env(), "CELERY_BROKER_URL": broker},
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def test_beat_missed_and_late_and_the_queue_wait_reach_metrics_and_the_webhook(
    redis_urls, tmp_path
):
    broker, backend = redis_urls
    hook = WebhookServer().start()
    port = free_port()
    env = command_env(
        CELERYTUI_ALERT_WEBHOOK=hook.url(f"/hooks/{TOKEN}"),
        CELERYTUI_ALERT_RESEND="600",
        CELERYTUI_THRESHOLDS_BEAT_LATE="0.8",  # grace: half of 4 s / 5 s; late past 0.8 s
        CELERYTUI_THRESHOLDS_QUEUE_OLDEST="6",
    )
    exporter = start_celerytui(
        "exporter", "--port", str(port), "-A", "tests.support.beat_app", "-b", broker, env=env
    )
    stderr = LineReader(exporter.stderr)
    beat = worker = None
    try:
        stderr.wait_for(lambda line: f"127.0.0.1:{port}/metrics" in line, what="the exporter")
        alerts_line = stderr.wait_for(lambda line: "alerts to" in line, what="the alerts line")
        assert alerts_line.endswith("alerts to http://127.0.0.1:" + alerts_line.split(":")[-1])
        assert "/****" in alerts_line and TOKEN not in alerts_line
        beat = _start_beat(broker, tmp_path)

        # two runs of each entry seen: the second one is judged (on time)
        def judged():
            return all(
                _metric(port, "celerytui_beat_late_seconds", entry=e) is not None
                for e in ("tick-add", "tick-mul")
            )

        wait_for(judged, 30, interval=0.5, what="two runs of each beat entry")

        def none_missed():  # (a send whose event came after its window was judged is taken
            return all(  # back: on a loaded machine the count may be 1 for a moment)
                _metric(port, "celerytui_beat_missed_total", entry=e) == 0
                and _metric(port, "celerytui_beat_late_seconds", entry=e) < 0.8
                for e in ("tick-add", "tick-mul")
            )

        wait_for(none_missed, 10, interval=0.3, what="the runs on time, none missed")
        assert _metric(port, "celerytui_beat_judged") == 1

        # nobody consumes the queue: its oldest task waits past 6 s
        wait_for(
            lambda: hook.bodies(f"queue-oldest:{BEAT_QUEUE}"), 20, what="the queue-oldest alert"
        )
        assert _metric(port, "celerytui_queue_oldest_seconds", queue_name=BEAT_QUEUE) > 6
        waited = hook.bodies(f"queue-oldest:{BEAT_QUEUE}")[0]
        assert set(waited) == PAYLOAD_KEYS and waited["labels"]["queue_name"] == BEAT_QUEUE
        assert waited["summary"].startswith(f"queue {BEAT_QUEUE}: oldest task waiting")

        # frozen: nothing is sent; each entry's window closes -> missed, delivered headless
        freeze(beat.pid, group=True)
        for entry in ("tick-add", "tick-mul"):
            wait_for(lambda e=entry: hook.bodies(f"beat-missed:{e}"), 20, what=f"{entry} missed")
            body = hook.bodies(f"beat-missed:{entry}")[0]
            assert body["rule"] == "beat-missed" and body["cleared"] is False
            assert body["summary"].startswith(f"missed: {entry} expected ")
            assert body["labels"]["entry"] == entry and body["severity"] == "error"
        # frozen for two of tick-add's windows: late by more than one whole interval
        wait_for(
            lambda: _metric(port, "celerytui_beat_missed_total", entry="tick-add") >= 2,
            20,
            what="a second missed run",
        )

        # thawed: beat sends its overdue runs at once, late; the missed alerts clear
        os.killpg(beat.pid, signal.SIGCONT)

        def late_by_the_freeze():  # late by more than 4 s: since the first missed time
            bodies = hook.bodies("beat-late:tick-add")
            return [b for b in bodies if float(b["labels"]["late_seconds"]) > 4]

        late = wait_for(late_by_the_freeze, 20, what="tick-add late")[0]
        assert late["summary"].startswith("late: tick-add ran ") and late["cleared"] is False
        assert _metric(port, "celerytui_beat_late_runs_total", entry="tick-add") >= 1
        wait_for(
            lambda: any(b["cleared"] for b in hook.bodies("beat-missed:tick-add")),
            20,
            what="the missed alert to clear",
        )

        # a worker takes the waiting tasks: the queue's oldest wait is gone
        worker = WorkerProcess(
            broker, backend, tmp_path, name="beatw", queues=BEAT_QUEUE, app="tests.support.beat_app"
        ).start()
        wait_for(
            lambda: any(b["cleared"] for b in hook.bodies(f"queue-oldest:{BEAT_QUEUE}")),
            40,
            what="the queue-oldest alert to clear",
        )
        assert _metric(port, "celerytui_queue_oldest_seconds", queue_name=BEAT_QUEUE) < 6

        # beat stopped for good: its entries are missed again
        def raised() -> int:
            return len([b for b in hook.bodies("beat-missed:tick-add") if not b["cleared"]])

        before = raised()
        stop_process(beat)
        wait_for(lambda: raised() > before, 20, what="tick-add missed again")
        assert _metric(port, "celerytui_alert_webhook_posts_total", result="sent") >= 6
        assert _metric(port, "celerytui_alert_webhook_posts_total", result="dropped") == 0
        assert all(path == f"/hooks/{TOKEN}" for path, _body in hook.posts)
    finally:
        if beat is not None:
            with_cont = beat.poll() is None
            if with_cont:
                os.killpg(beat.pid, signal.SIGCONT)
            stop_process(beat)
        if worker is not None:
            worker.stop()
        exporter.send_signal(signal.SIGTERM)
        try:
            exporter.wait(10)
        finally:
            stop_process(exporter)
        hook.close()
    assert not any(TOKEN in line for line in stderr.lines)
