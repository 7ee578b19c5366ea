"""The journal's readers on a real store (SQLite file, and a schema of the machine's
PostgreSQL): a known stream recorded as the recorder records it, then

- `replay --summary --json` over the whole journal gives exactly what the live monitor
  counted (by state, by name, every task's final state), and over a window the final states
  at the window's end of the tasks seen in it;
- the JournalSource, played through the ReplayMonitor, ends where the live monitor ended; a
  seek back rebuilds the cluster as it was then (nearest checkpoint + the events after it);
- `history --failures --json` lists every failure with its fields, `--filter` narrows it,
  text output is literal (no escape sequence reaches the terminal).
"""

from __future__ import annotations

import json
import threading
from collections import Counter

import pytest

from celerytui.config import load_settings
from celerytui.core.history_search import HistoryQuery, search
from celerytui.core.journal import open_store
from celerytui.core.journal_source import JournalSource, load_snapshots
from celerytui.core.replay_clock import ReplayClock
from celerytui.core.replay_monitor import ReplayMonitor
from celerytui.core.replay_summary import summarize
from tests.support.commands import celerytui, command_env
from tests.support.replay_journals import (
    HOSTILE_NAME,
    HOSTILE_UUID,
    Recorded,
    record_synthetic,
    store_url,
)
from tests.support.services import wait_for


@pytest.fixture(params=["sqlite", "postgres"], scope="module")
def recorded(request, tmp_path_factory):
    with store_url(request.param, tmp_path_factory.mktemp(request.param)) as spec:
        yield record_synthetic(spec, n=20_000)


def _env(tmp_path):
    return command_env(XDG_DATA_HOME=str(tmp_path / "data"))


def test_summary_matches_the_live_counts(recorded: Recorded, tmp_path) -> None:
    t0, t1 = recorded.span
    live = {uuid: task.state for uuid, task in recorded.live.tasks.items()}
    run = celerytui(
        "replay", "--store", recorded.spec, "--summary", "--json", "--per-task", env=_env(tmp_path)
    )
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout)
    assert summary["tasks"] == live
    assert summary["by_state"] == dict(Counter(live.values()))
    names = Counter(task.name or "?" for task in recorded.live.tasks.values())
    assert summary["by_name"] == dict(names)
    assert summary["events"] == len(recorded.events)
    assert set(summary["workers"]) == {h for h in recorded.live.workers if h != "client@bastion"}
    # a window: the tasks with an event in it, by their state at its end
    lo, hi = t0 + (t1 - t0) * 0.4, t0 + (t1 - t0) * 0.6
    at_hi = recorded.state_at(hi)
    in_window = {
        e["uuid"] for e in recorded.events if lo <= e["local_received"] <= hi and "uuid" in e
    }
    window = summarize(open_store(recorded.spec, cluster="x", write=False), lo, hi, per_task=True)
    assert window["tasks"] == {u: at_hi.tasks[u].state for u in in_window}
    assert 0 < window["tasks_seen"] < len(live)


def test_played_through_and_seeking_back(recorded: Recorded) -> None:
    t0, t1 = recorded.span
    reader = open_store(recorded.spec, cluster="x", write=False)
    clock = ReplayClock(t0, t1, speed=1024.0)
    source = JournalSource(reader, clock, max_tasks=10**9)
    monitor = ReplayMonitor(load_settings(env={}), source, clock, "journal test")
    assert monitor.settings.read_only and monitor.results is None
    monitor.start()
    try:

        def pumped_to(at: float) -> bool:
            source.wait(0.1)
            with monitor.lock:
                monitor.pump()
            return source.cursor >= at and not source.pending and monitor.resets > 0

        wait_for(lambda: pumped_to(t1), timeout=60, what="the replay to reach the end")
        states = {u: t.state for u, t in monitor.state.tasks.items()}
        assert states == {u: t.state for u, t in recorded.live.tasks.items()}
        assert monitor.state.counts_by_state() == recorded.live.counts_by_state()
        # back to the middle: rebuilt from the checkpoint before it, then the events after
        clock.pause()
        middle = t0 + (t1 - t0) / 2
        clock.seek(middle)
        assert clock.seeking  # the header says so until the rebuilt state is shown
        wait_for(lambda: pumped_to(middle) and monitor.resets >= 2, timeout=30, what="the seek")
        assert not clock.seeking
        expected = recorded.state_at(middle)
        assert {u: t.state for u, t in monitor.state.tasks.items()} == {
            u: t.state for u, t in expected.tasks.items()
        }
        assert any(at <= middle for at in recorded.checkpoints)
        assert monitor.clock() == middle  # every screen's "now" is the replayed moment
    finally:
        monitor.stop()
        reader.close()


def test_while_a_seek_rebuilds_the_state_shown_is_left_as_it_is(recorded: Recorded) -> None:
    """The pump does nothing to a state about to be replaced (the rebuild has the GIL to
    itself), then swaps in the state of the moment sought."""
    t0, t1 = recorded.span
    reader = open_store(recorded.spec, cluster="x", write=False)
    clock = ReplayClock(t0, t1, speed=1024.0)
    gate, loading = threading.Event(), threading.Event()

    def held_loader(chain, max_tasks):
        if clock.generation:  # a seek's rebuild waits for the gate
            loading.set()
            assert gate.wait(30)
        return load_snapshots(chain, max_tasks)

    source = JournalSource(reader, clock, max_tasks=10**9, loader=held_loader)
    monitor = ReplayMonitor(load_settings(env={}), source, clock, "journal test")
    monitor.start()
    try:

        def pumped_to(at: float) -> bool:
            source.wait(0.1)
            with monitor.lock:
                monitor.pump()
            return source.cursor >= at and not source.pending and monitor.resets > 0

        wait_for(lambda: pumped_to(t1), timeout=60, what="the replay to reach the end")
        clock.pause()
        shown, applied = monitor.state, monitor.state.events_applied
        middle = t0 + (t1 - t0) / 2
        clock.seek(middle)
        wait_for(loading.is_set, timeout=30, what="the rebuild to start")
        assert source.rebuilding and clock.seeking
        with monitor.lock:
            changes = monitor.pump()
        assert not changes.tasks and not changes.workers and not changes.events
        assert monitor.state is shown and shown.events_applied == applied
        gate.set()
        wait_for(lambda: pumped_to(middle) and monitor.resets >= 2, timeout=30, what="the seek")
        assert not source.rebuilding and not clock.seeking
        assert {u: t.state for u, t in monitor.state.tasks.items()} == {
            u: t.state for u, t in recorded.state_at(middle).tasks.items()
        }
    finally:
        gate.set()
        monitor.stop()
        reader.close()


def test_history_failures_fields_filter_and_literal_text(recorded: Recorded, tmp_path) -> None:
    failures = {u: t for u, t in recorded.live.tasks.items() if t.state in ("FAILURE", "RETRY")}
    env = _env(tmp_path)
    run = celerytui(
        "history", "--store", recorded.spec, "--failures", "--json", "--limit", "100000", env=env
    )
    assert run.returncode == 0, run.stderr
    rows = [json.loads(line) for line in run.stdout.splitlines()]
    assert {r["uuid"]: r["state"] for r in rows} == {u: t.state for u, t in failures.items()}
    for row in rows:
        task = failures[row["uuid"]]
        assert {k: row[k] for k in ("name", "worker", "exception")} == {
            "name": task.name,
            "worker": task.worker,
            "exception": task.exception,
        }
    assert [r["timestamp"] for r in rows] == sorted(r["timestamp"] for r in rows)  # oldest first
    # the filter language, with its time terms, narrows the same search
    name = "celerytui.tasks.risky_operation"
    reader = open_store(recorded.spec, cluster="x", write=False)
    t0, t1 = recorded.span
    since = t0 + (t1 - t0) / 2
    found = search(reader, HistoryQuery(expr=f"name:risky since:{since}", failures=True))
    assert {t.uuid for t in found} == {
        u for u, t in failures.items() if t.name == name and (t.timestamp or 0) >= since
    }
    # text: the hostile task's name and error are spelled out, never sent to the terminal
    run = celerytui(
        "history", "--store", recorded.spec, "--failures", "--filter", "hostile", env=env
    )
    assert run.returncode == 0, run.stderr
    assert HOSTILE_UUID in run.stdout and "\x1b" not in run.stdout and "\u2028" not in run.stdout
    assert "\\x1b[2J" in run.stdout and "[bold red]evil[/]" in run.stdout
    assert "ValueError('\\x1b[31mred\\u2028line[/]')" in run.stdout  # the whole error
    assert HOSTILE_NAME not in run.stdout
    bad = celerytui("history", "--store", recorded.spec, "--since", "yesterday-ish", env=env)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "--since" in bad.stderr
    down = "postgresql://ops:s3cret-pw@127.0.0.1:1/test"  # a store that does not answer
    for command in (["history"], ["replay", "--summary"]):
        bad = celerytui(*command, "--store", down, env=env)
        assert bad.returncode == 2 and bad.stderr.count("\n") == 1, bad.stderr
        assert "s3cret-pw" not in bad.stderr and "ops:****@127.0.0.1" in bad.stderr
