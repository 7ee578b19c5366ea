"""Truth: a known workload on a real worker, recorded live by a real `celerytui record`
(restarted halfway, as a TUI or recorder restarts), watched at the same time by a live
Monitor. Then, from the journal alone:

- `replay --summary --json --per-task` over the workload's window gives exactly the live
  counts by state and by name, and every task's final state;
- `history --failures --json` lists every failure of the workload, those recorded before the
  restart included, with its name, worker and exception.
"""

from __future__ import annotations

import json
import signal
import time
from collections import Counter

import redis

from celerytui.config import load_settings
from celerytui.core.monitor import Monitor
from tests.support.commands import LineReader, celerytui, command_env, start_celerytui
from tests.support.event_wire import channel_of, event_message
from tests.support.services import stop_process, wait_for


def _recorder(broker: str, backend: str, store: str, env: dict):
    proc = start_celerytui(
        "record", "-b", broker, "--result-backend", backend, "--store", store, env=env
    )
    err = LineReader(proc.stderr)
    err.wait_for(lambda line: line.startswith("celerytui record: journal"), 30, "record started")
    return proc, err


def _heard_by(client: redis.Redis, broker: str, listeners: int) -> None:
    """Until ``listeners`` subscribers hear the event channel (a harmless probe heartbeat)."""
    probe = {"type": "worker-heartbeat", "hostname": "probe@wire", "freq": 60.0, "utcoffset": 0}

    def heard() -> bool:
        message = event_message({**probe, "timestamp": time.time()})
        return client.publish(channel_of(broker, "worker.heartbeat"), message) >= listeners

    wait_for(heard, 20, 0.2, what=f"{listeners} event subscribers")


def _workload(app, tag: str) -> list[str]:
    """Successes, retries that succeed, retries that end in FAILURE."""
    ids = [app.tasks["celerytui.tasks.send_email"].delay(f"{tag}{i}@x", "hi").id for i in range(5)]
    risky = app.tasks["celerytui.tasks.risky_operation"]
    ids += [risky.delay(fail_times=1).id for _ in range(2)]
    ids += [risky.delay(fail_times=9).id for _ in range(2)]  # 3 retries, then FAILURE
    return ids


def test_replay_summary_and_history_tell_what_the_live_monitor_saw(
    redis_urls, celery_app, start_worker, tmp_path
) -> None:
    broker, backend = redis_urls
    store = str(tmp_path / "journal.sqlite3")
    env = command_env(XDG_DATA_HOME=str(tmp_path / "data"))
    client = redis.Redis.from_url(broker)
    worker = start_worker("truth")
    live = Monitor(load_settings(env={}, broker_url=broker, result_backend=backend))
    live.start(poll=False)
    live.run_in_thread()
    recorder, _err = _recorder(broker, backend, store, env)
    try:
        _heard_by(client, broker, 2)  # the live monitor and the recorder
        began = time.time()

        def final(ids: list[str]) -> bool:
            with live.lock:
                tasks = live.state.tasks
                return all(u in tasks and tasks[u].ready for u in ids)

        first = _workload(celery_app, "a")
        wait_for(lambda: final(first), 60, 0.2, what="the first workload done")
        history = ["history", "--store", store, "--json", "--limit", "1000"]

        def recorded(ids: list[str]) -> bool:
            run = celerytui(*history, env=env)
            rows = {json.loads(line)["uuid"]: json.loads(line) for line in run.stdout.splitlines()}
            with live.lock:
                return all(rows.get(u, {}).get("state") == live.state.tasks[u].state for u in ids)

        wait_for(lambda: recorded(first), 20, 0.5, what="the first workload recorded")
        # the recorder restarts (Redis keeps nothing for an absent listener: wait for it)
        recorder.send_signal(signal.SIGTERM)
        assert recorder.wait(15) == 0
        recorder, _err = _recorder(broker, backend, store, env)
        _heard_by(client, broker, 2)
        second = _workload(celery_app, "b")
        wait_for(lambda: final(second), 60, 0.2, what="the second workload done")
        wait_for(lambda: recorded(first + second), 20, 0.5, what="the second workload recorded")
        ended = time.time()

        with live.lock:
            states = {u: t.state for u, t in live.state.tasks.items()}
            names = Counter(t.name or "?" for t in live.state.tasks.values())
            failures = {
                u: (t.name, t.worker, t.exception)
                for u, t in live.state.tasks.items()
                if t.state == "FAILURE"
            }
        assert set(states) == set(first + second)
        assert Counter(states.values()) == {"SUCCESS": 14, "FAILURE": 4}
        window = ["--from", str(began), "--to", str(ended)]
        run = celerytui(
            "replay", "--store", store, "--summary", "--json", "--per-task", *window, env=env
        )
        assert run.returncode == 0, run.stderr
        summary = json.loads(run.stdout)
        assert summary["tasks"] == states
        assert summary["by_state"] == dict(Counter(states.values()))
        assert summary["by_name"] == dict(names)
        assert worker.hostname in summary["workers"]
        alerts = {a["rule"] for a in summary["alerts"]}  # what the recorder's rules raised
        assert "task-failed:celerytui.tasks.risky_operation" in alerts

        run = celerytui("history", "--store", store, "--failures", "--json", env=env)
        assert run.returncode == 0, run.stderr
        rows = [json.loads(line) for line in run.stdout.splitlines()]
        assert {r["uuid"]: (r["name"], r["worker"], r["exception"]) for r in rows} == failures
        assert {r["uuid"] for r in rows} & set(first)  # from before the restart too
    finally:
        stop_process(recorder)
        live.stop()
        client.close()
