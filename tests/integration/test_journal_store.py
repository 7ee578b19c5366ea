"""The journal store on real SQLite files and a real PostgreSQL: what is written is what a
reader gets back (events in time order, task search, alerts, checkpoints), one writer per
store, a newer schema refused, retention pruning."""

from __future__ import annotations

import os
import sqlite3
import time

import pytest

from benchmarks.synthetic import generate_events
from celerytui.core import state_snapshot
from celerytui.core.journal import (
    AlertRow,
    JournalLeaseError,
    JournalSchemaError,
    open_store,
    task_row,
)
from celerytui.core.model import FAILURE
from celerytui.core.state import ClusterState
from tests.support.services import wait_for


def _recorded(spec: str, n: int = 20_000):
    """A store holding `n` synthetic events, their task rows and a checkpoint midway; returns
    (events, state) as a live monitor would have them."""
    state = ClusterState(max_tasks=100_000)
    events: list[dict] = []
    store = open_store(spec, cluster="test", write=True)
    checkpoint_at = None
    for batch in generate_events(n, batch=500):
        events.extend(batch)
        changes = state.apply(batch)
        store.append(batch)
        store.upsert_tasks(task_row(state.tasks[u]) for u in changes.tasks)
        if checkpoint_at is None and len(events) >= n // 2:
            checkpoint_at = batch[-1]["local_received"]
            store.write_checkpoint(checkpoint_at, state_snapshot.dump(state))
        store.flush()
    store.close()
    return events, state, checkpoint_at


def test_what_is_written_is_read_back(journal_spec):
    events, state, checkpoint_at = _recorded(journal_spec)
    reader = open_store(journal_spec, cluster="test", write=False)
    try:
        times = [e["local_received"] for e in events]
        assert reader.time_range() == (times[0], times[-1])
        assert list(reader.iter_events(0)) == events  # every event, exactly as received
        lo, hi = times[len(times) // 3], times[2 * len(times) // 3]
        window = list(reader.iter_events(lo, hi))
        assert window == [e for e in events if lo <= e["local_received"] < hi]
        assert window  # the window is not empty by accident

        # one row per task, current: the states the monitor ended with
        rows = reader.find_tasks(limit=10**6)
        assert sorted(r.uuid for r in rows) == sorted(state.tasks)
        for row in rows[:200]:
            task = state.tasks[row.uuid]
            assert (row.state, row.name, row.worker, row.retries) == (
                task.state,
                task.name,
                task.worker,
                task.retries,
            )
        name = next(t.name for t in state.tasks.values() if t.state == FAILURE)
        failed = reader.find_tasks(states=[FAILURE], names=[name])
        expected = [u for u, t in state.tasks.items() if t.state == FAILURE and t.name == name]
        assert sorted(r.uuid for r in failed) == sorted(expected)
        assert [r.at for r in failed] == sorted((r.at for r in failed), reverse=True)
        since = failed[len(failed) // 2].at
        assert all(r.at >= since for r in reader.find_tasks(states=[FAILURE], since=since))
        some = failed[0]
        assert reader.get_task(some.uuid) == some
        assert reader.get_task("no-such-task") is None
        hits = reader.find_tasks(text=some.uuid[:13].upper())
        assert [r.uuid for r in hits] == [some.uuid]  # any case

        # the checkpoint: the state as it was then
        found = reader.checkpoint_before(times[-1])
        assert found is not None and found[0] == checkpoint_at
        assert reader.checkpoint_before(times[0] - 1) is None
        restored = state_snapshot.load(found[1])
        replayed = list(reader.iter_events(checkpoint_at))
        restored.apply([e for e in replayed if e["local_received"] > checkpoint_at])
        assert restored.counts_by_state() == state.counts_by_state()
    finally:
        reader.close()


def test_alerts_raised_and_cleared(journal_spec):
    store = open_store(journal_spec, cluster="test", write=True)
    raised = AlertRow("task-failed:a.b", "error", "a.b failed", {"detail": "x"}, 1000.0)
    store.record_alert(raised)
    store.record_alert(AlertRow("queue-backlog:q", "warning", "q backlog", {}, 1500.0))
    store.flush()
    store.record_alert(
        AlertRow("task-failed:a.b", "error", "a.b failed", {"detail": "x"}, 1000.0, 1200.0, 3)
    )
    store.close()
    reader = open_store(journal_spec, cluster="test", write=False)
    try:
        assert [a.rule for a in reader.alerts_between(1100, 1150)] == ["task-failed:a.b"]
        assert [a.rule for a in reader.alerts_between(1300, 1400)] == []
        both = reader.alerts_between(0, 2000)
        assert [(a.rule, a.cleared_at, a.count) for a in both] == [
            ("task-failed:a.b", 1200.0, 3),
            ("queue-backlog:q", None, 1),
        ]
        assert both[0].labels == {"detail": "x"}
    finally:
        reader.close()


def test_one_writer_per_store(journal_spec):
    first = open_store(journal_spec, cluster="test", write=True, holder="celerytui record")
    with pytest.raises(JournalLeaseError) as refused:
        open_store(journal_spec, cluster="test", write=True, lease_ttl=60)
    message = str(refused.value)
    assert "celerytui record" in message and "one writer" in message
    assert "\n" not in message
    reader = open_store(journal_spec, cluster="test", write=False)  # readers are welcome
    assert reader.time_range() is None
    reader.close()
    first.close()  # gives the lease back
    second = open_store(journal_spec, cluster="test", write=True, lease_ttl=0.5)
    # a writer silent past the lease's ttl loses the store to the next one
    second.append([{"type": "worker-heartbeat", "hostname": "h", "local_received": 5.0}])
    third = wait_for(
        lambda: _try_open(journal_spec, lease_ttl=0.5), timeout=10, what="a stale lease taken"
    )
    with pytest.raises(JournalLeaseError):
        second.flush()
    third.close()
    second.db.close()


def _try_open(spec: str, lease_ttl: float):
    try:
        return open_store(spec, cluster="test", write=True, lease_ttl=lease_ttl)
    except JournalLeaseError:
        return None


def test_a_newer_schema_is_refused_in_one_line(journal_spec):
    store = open_store(journal_spec, cluster="test", write=True)
    store.db.begin()
    store.db.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    store.db.commit()
    store.close()
    for write in (False, True):
        with pytest.raises(JournalSchemaError) as refused:
            open_store(journal_spec, cluster="test", write=write)
        assert "newer celerytui (schema 99" in str(refused.value)


def test_retention_prunes_online(journal_spec):
    now = time.time()
    store = open_store(journal_spec, cluster="test", write=True, retention=3600)
    for hours_ago in (5, 3, 0.5):
        t = now - hours_ago * 3600
        store.append([{"type": "task-sent", "uuid": f"u{hours_ago}", "local_received": t}])
        store.upsert_tasks([task_row_at(f"u{hours_ago}", t)])
        store.write_checkpoint(t, b"snapshot")
        store.flush()
    deleted = store.prune(now)
    assert deleted["chunks"] == 2 and deleted["tasks"] == 2
    assert [e["uuid"] for e in store.iter_events(0)] == ["u0.5"]
    assert [r.uuid for r in store.find_tasks()] == ["u0.5"]
    # the checkpoint before the cut stays: events after it replay from there
    assert store.checkpoint_before(now - 2 * 3600) is not None
    store.append([{"type": "task-sent", "uuid": "after", "local_received": now + 1}])
    store.flush()  # and the writer goes on
    assert [e["uuid"] for e in store.iter_events(0)] == ["u0.5", "after"]
    store.close()


def task_row_at(uuid: str, t: float):
    from celerytui.core.journal import TaskRow

    return TaskRow(uuid, "a.b", "SUCCESS", finished=t)


def test_size_limit_prunes_the_oldest(tmp_path):
    import os

    spec = str(tmp_path / "small.sqlite3")
    store = open_store(spec, cluster="test", write=True, max_size=400_000)
    for i in range(40):  # incompressible args: ~40 KB a batch
        batch = [
            {
                "type": "task-sent",
                "uuid": f"u{i}-{k}",
                "args": os.urandom(200).hex(),
                "local_received": 1_000_000.0 + i * 60 + k * 0.01,
            }
            for k in range(100)
        ]
        store.append(batch)
        store.flush()
    assert store.size_bytes() > 400_000
    deleted = store.prune(1_000_000.0 + 40 * 60)
    assert deleted["chunks"] > 0
    assert store.size_bytes() <= 400_000
    first, last = store.time_range()
    assert last == 1_000_000.0 + 39 * 60 + 0.99 and first > 1_000_000.0  # newest kept
    store.close()
    check = sqlite3.connect(spec)
    assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    check.close()


def test_the_recorder_writes_events_rows_alerts_and_checkpoints(journal_spec):
    from celerytui.config import Thresholds
    from celerytui.core.alerts import AlertBook
    from celerytui.core.journal.recorder import Recorder

    clock = [2_000_000_000.0]
    book = AlertBook(Thresholds(failure_window=30), clock=lambda: clock[0])
    state = ClusterState(max_tasks=200)  # a checkpoint is due after 5 x 200 events
    store = open_store(journal_spec, cluster="test", write=True)
    recorder = Recorder(
        store,
        flush_interval=0.1,
        checkpoint_every=0,
        checkpoint_events=1,
        clock=lambda: clock[0],
    ).start()
    events = [e for batch in generate_events(3_000, batch=300) for e in batch]
    states_at = {}  # the last local_received of each batch -> the state's counts after it
    for i in range(0, len(events), 300):
        batch = events[i : i + 300]
        changes = state.apply(batch)
        states_at[batch[-1]["local_received"]] = state.counts_by_state()
        book.evaluate(state, changes, now=clock[0])
        recorder.note(batch, changes, state, book)
        clock[0] += 1.5  # alerts are looked at once a second
    raised = {a.key for a in book.active()}
    assert any(key.startswith("task-failed:") for key in raised)
    clock[0] += 60  # quiet past the failure window: the event alerts clear
    book.evaluate(state, None, now=clock[0])
    recorder.note([], state.apply([]), state, book)
    recorder.stop()
    status = recorder.status
    assert status.events_recorded == len(events) and status.events_dropped == 0
    assert status.checkpoints >= 1
    reader = open_store(journal_spec, cluster="test", write=False)
    try:
        assert list(reader.iter_events(0)) == events
        # every task seen, also those the monitor's memory let go of
        seen = {e["uuid"] for e in events if e["type"].startswith("task-")}
        assert {r.uuid for r in reader.find_tasks(limit=10**6)} == seen
        assert len(seen) > len(state.tasks)
        alerts = reader.alerts_between(0, 1e12)
        assert {a.rule for a in alerts} >= {k for k in raised if k.startswith("task-failed:")}
        failed = [a for a in alerts if a.rule.startswith("task-failed:")]
        assert all(a.cleared_at is not None and a.count >= 1 for a in failed)
        # the newest checkpoint may be a delta (how many batches a flush took decides): its
        # chain from the full one before it holds every event applied by `at`, no later one
        at, restored = state_snapshot.load_chain(reader.checkpoint_chain(1e12))
        assert at == reader.checkpoint_before(1e12)[0]
        assert restored.counts_by_state() == states_at[at]
    finally:
        reader.close()


def test_a_postgresql_store_over_its_size_limit_keeps_its_newest_history(pg_journal_spec):
    # a DELETE gives PostgreSQL's files nothing back: the limit counts what the rows hold
    # (the SQLite case is the test above)
    journal_spec = pg_journal_spec
    store = open_store(journal_spec, cluster="test", write=True, max_size=10**9)
    for i in range(40):  # incompressible args: ~40 KB a batch, one chunk a minute
        store.append(
            [
                {
                    "type": "task-sent",
                    "uuid": f"u{i}-{k}",
                    "args": os.urandom(200).hex(),
                    "local_received": 1_000_000.0 + i * 60 + k * 0.01,
                }
                for k in range(100)
            ]
        )
        store.flush()
    store.max_size = store.size_bytes() // 2
    deleted = store.prune(1_000_000.0 + 40 * 60)
    assert 0 < deleted["chunks"] < 40
    first, last = store.time_range()
    assert last == 1_000_000.0 + 39 * 60 + 0.99  # the newest kept
    assert 1_000_000.0 < first < 1_000_000.0 + 30 * 60  # and more than the last minutes
    store.close()
