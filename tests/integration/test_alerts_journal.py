"""Every incident rule lands in the journal, and `status --json` reads it from there.

A real `celerytui record` (its default store, under XDG_DATA_HOME) watches a real cluster: a
real `celery beat` with a fast schedule whose tasks wait in a queue no worker consumes, and a
real worker running two long tasks. The tasks outlive the stuck floor (task-stuck), the beat
tasks wait past the queue threshold (queue-oldest), the worker is SIGKILLed mid-task
(tasks-lost) and beat is stopped (beat-missed). Then: the journal holds each alert; `status
--json` lists the open ones and is degraded by them though its own snapshot is healthy (a
spare worker answers ping); `history --json --filter state:lost` lists the LOST tasks;
`replay --summary --json` over the window has the tasks-lost alert. A journal nobody writes
any more is reported stale and not trusted, and the next recorder closes the alerts the last
one left open; no journal at all is reported as none.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

from celerytui.commands.journal_alerts import STALE_AFTER, journal_problems, journal_report
from celerytui.config import Settings
from celerytui.core.journal import AlertRow, cluster_name, open_store
from tests.support.beat_app import BEAT_QUEUE
from tests.support.commands import ROOT, LineReader, celerytui, command_env, start_celerytui
from tests.support.incident_app import WAIT, incident_worker, make_incident_app
from tests.support.services import stop_process, wait_for
from tests.support.workers import WorkerProcess

RULES = ("task-stuck", "queue-oldest", "tasks-lost", "beat-missed")


def _start_beat(broker: str, tmp_path) -> subprocess.Popen:
    log = open(tmp_path / "beat.log", "ab")  # noqa: SIM115 - closed with the process's end
    beat = ["-A", "tests.support.beat_app", "beat", "-s", str(tmp_path / "beat-schedule")]
    return subprocess.Popen(
        [sys.executable, "-m", "celery", *beat, "-l", "INFO", "--pidfile="],
        env={**command_env(), "CELERY_BROKER_URL": broker},
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _journal_alerts(path) -> dict[str, list[AlertRow]]:
    """The journal's alert rows by rule (the key's prefix), read as another process would."""
    if not path.exists():
        return {}
    store = open_store(str(path), cluster="test", write=False)
    try:
        rows = store.alerts_between(0, time.time() + 60)
    finally:
        store.close()
    found: dict[str, list[AlertRow]] = {}
    for row in rows:
        found.setdefault(row.rule.split(":", 1)[0], []).append(row)
    return found


def test_each_incident_rule_is_journaled_and_status_reads_the_open_ones(redis_urls, tmp_path):
    broker, backend = redis_urls
    data = tmp_path / "data"
    env = command_env(
        XDG_DATA_HOME=str(data),  # the cluster's default store: no --store anywhere
        CELERYTUI_THRESHOLDS_STUCK_FLOOR="3",
        CELERYTUI_THRESHOLDS_QUEUE_OLDEST="6",
        CELERYTUI_THRESHOLDS_BEAT_LATE="0.8",
    )
    store_path = data / "celerytui" / "journal" / f"{cluster_name(broker)}.sqlite3"
    cluster = ("-A", "tests.support.beat_app", "-b", broker, "--result-backend", backend)
    started = time.time()
    record = start_celerytui("record", *cluster, env=env)
    stderr = LineReader(record.stderr)
    app = make_incident_app(broker, backend)
    worker = incident_worker(broker, backend, tmp_path, name="doomed")
    spare = WorkerProcess(broker, backend, tmp_path, name="spare", queues="spare-only")
    beat = None
    try:
        stderr.wait_for(lambda line: "celerytui record: journal" in line, what="the recorder")
        worker.start()
        spare.start()
        beat = _start_beat(broker, tmp_path)
        worker.wait_ready(app)
        spare.wait_ready(app)
        running = [app.send_task(WAIT, args=(120,)).id for _ in range(2)]

        # both run past the 3 s floor; the beat tasks wait past 6 s in a queue nobody reads
        def stuck_and_waiting():
            alerts = _journal_alerts(store_path)
            stuck = {r.rule for r in alerts.get("task-stuck", [])}
            return stuck >= {f"task-stuck:{u}" for u in running} and alerts.get("queue-oldest")

        wait_for(stuck_and_waiting, 40, interval=0.5, what="task-stuck and queue-oldest rows")

        # SIGKILLed mid-task: its two tasks are lost with it; beat stopped: runs are missed
        worker.kill()
        stop_process(beat)

        def lost_and_missed():
            alerts = _journal_alerts(store_path)
            return alerts.get("tasks-lost") and alerts.get("beat-missed")

        wait_for(lost_and_missed, 40, interval=0.5, what="tasks-lost and beat-missed rows")
        alerts = _journal_alerts(store_path)
        lost = alerts["tasks-lost"][0]
        assert lost.rule == f"tasks-lost:{worker.hostname}" and lost.severity == "error"
        assert lost.summary == f"2 tasks lost with worker {worker.hostname}"
        assert lost.labels["hostname"] == worker.hostname
        assert set(lost.labels["uuids"].split(",")) == set(running)
        queue_rows = alerts["queue-oldest"]
        assert queue_rows[0].rule == f"queue-oldest:{BEAT_QUEUE}"
        assert {r.labels["entry"] for r in alerts["beat-missed"]} <= {"tick-add", "tick-mul"}
        # lost, the tasks are no longer running: their stuck alerts cleared
        wait_for(
            lambda: all(r.cleared_at for r in _journal_alerts(store_path)["task-stuck"]),
            10,
            interval=0.5,
            what="the stuck alerts to clear",
        )

        # status: its snapshot is healthy (the spare answers), the journal's alerts are not
        result = celerytui("status", "--json", "--listen", "0", *cluster, env=env)
        report = json.loads(result.stdout)
        journal = report["journal"]
        assert journal["state"] == "fresh" and journal["store"] == str(store_path)
        assert journal["age_seconds"] < STALE_AFTER
        assert journal["writer"]["holder"].startswith("celerytui record (pid ")
        open_keys = {a["key"] for a in journal["alerts"]}
        assert {f"tasks-lost:{worker.hostname}", f"queue-oldest:{BEAT_QUEUE}"} <= open_keys
        assert any(key.startswith("beat-missed:") for key in open_keys)
        assert not any(key.startswith("task-stuck:") for key in open_keys)
        listed = next(a for a in journal["alerts"] if a["rule"] == "tasks-lost")
        assert listed["labels"]["hostname"] == worker.hostname and listed["count"] >= 1
        assert [w["hostname"] for w in report["workers"]] == [spare.hostname]
        assert (report["health"], report["exit_code"], result.returncode) == ("degraded", 1, 1)
        assert f"2 tasks lost with worker {worker.hostname} (journal, since " in "\n".join(
            report["problems"]
        )
        text = celerytui("status", "--listen", "0", *cluster, env=env)
        assert "Journal  " in text.stdout and ": fresh, last event " in text.stdout
        assert f"ALERT  error  2 tasks lost with worker {worker.hostname}" in text.stdout

        # history: the tasks stay LOST in their rows
        found = celerytui("history", "--json", "--filter", "state:lost", *cluster, env=env)
        assert found.returncode == 0, found.stderr
        rows = [json.loads(line) for line in found.stdout.splitlines()]
        assert {r["uuid"] for r in rows} == set(running)
        assert {r["state"] for r in rows} == {"LOST"} and {r["name"] for r in rows} == {WAIT}

        # replay's summary of the window has the tasks-lost alert
        window = ("--from", str(started), "--to", str(time.time()))
        summary = celerytui("replay", "--summary", "--json", *window, *cluster, env=env)
        assert summary.returncode == 0, summary.stderr
        replayed = json.loads(summary.stdout)["alerts"]
        assert f"tasks-lost:{worker.hostname}" in {a["rule"] for a in replayed}

        # the recorder stops: nobody holds its alerts; the next one closes what it left open
        _stop(record)
        stopped = _status(cluster, env)
        assert stopped["journal"]["state"] == "stale" and stopped["journal"]["writer"] is None
        assert stopped["journal"]["alerts"] and stopped["health"] == "healthy"
        record = start_celerytui("record", *cluster, env=env)
        LineReader(record.stderr).wait_for(lambda line: "record: journal" in line, what="again")
        left = f"tasks-lost:{worker.hostname}"
        wait_for(
            lambda: all(r.cleared_at for r in _journal_alerts(store_path)["tasks-lost"]),
            15,
            interval=0.5,
            what="the alerts left open to close",
        )
        again = _status(cluster, env)
        assert again["journal"]["state"] == "fresh" and again["journal"]["alerts"] == []
        assert (again["health"], again["exit_code"]) == ("healthy", 0), again["problems"]
        closed = next(r for r in _journal_alerts(store_path)["tasks-lost"] if r.rule == left)
        assert closed.raised_at < closed.cleared_at <= time.time()
    finally:
        if beat is not None:
            stop_process(beat)
        worker.stop()
        spare.stop()
        _stop(record)


def _status(cluster: tuple[str, ...], env: dict) -> dict:
    return json.loads(celerytui("status", "--json", "--listen", "0", *cluster, env=env).stdout)


def _stop(record: subprocess.Popen) -> None:
    """SIGTERM: the recorder writes what it buffered and gives the lease back."""
    record.send_signal(signal.SIGTERM)
    try:
        record.wait(15)
    finally:
        stop_process(record)


def test_a_journal_nobody_writes_is_stale_and_none_is_none(tmp_path):
    now = time.time()
    path = tmp_path / "old.sqlite3"
    store = open_store(str(path), cluster="old", write=True)
    store.append([{"type": "worker-heartbeat", "hostname": "w@h", "local_received": now - 120}])
    lost = "1 task lost with worker w@h"
    store.record_alert(AlertRow("tasks-lost:w@h", "error", lost, {}, now - 100))  # left open,
    store.record_alert(AlertRow("tasks-lost:w@h", "error", lost, {}, now - 50, now - 40))  # then
    store.record_alert(AlertRow("beat-missed:x", "error", "missed: x", {"entry": "x"}, now - 30))
    store.flush()
    store.close()  # gives the lease back: nobody writes it any more

    stale = journal_report(Settings(store=str(path)), "redis://127.0.0.1:1/0", now)
    assert stale["state"] == "stale" and stale["age_seconds"] >= 120 and stale["writer"] is None
    # raised again and cleared by a later recorder: only what is open now, listed, not trusted
    assert [(a["key"], a["labels"]) for a in stale["alerts"]] == [("beat-missed:x", {"entry": "x"})]
    assert journal_problems(stale, set()) == []

    missing = tmp_path / "none.sqlite3"
    none = journal_report(Settings(store=str(missing)), "redis://127.0.0.1:1/0", now)
    assert (none["state"], none["store"], none["alerts"]) == ("none", str(missing), [])
