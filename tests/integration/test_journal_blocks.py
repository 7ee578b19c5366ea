"""Tasks that succeeded live in compressed blocks (schema 3), on real SQLite files and a real
PostgreSQL: a reader gets every task back exactly once, rows and blocks merged in time
order; a task updated after it was finished (a late event, LOST then SUCCESS, a retry) ends
right; retention drops blocks; a schema 2 store is migrated and keeps its tasks; a schema 3
store is brought to 4 (PostgreSQL: no GIN index of the blocks' keys) and finds them all."""

from __future__ import annotations

import random

import pytest

from celerytui.core.journal import JournalSchemaError, TaskRow, is_postgres, open_store
from celerytui.core.journal.schema import SCHEMA_VERSION, TASK_IDS
from celerytui.core.journal.task_blocks import BLOCK_TASKS
from tests.support.journal_stores import old_store_driver, tasks_as_schema_4, write_old_schema

BASE = 1_767_225_600.0
SCHEMA_3_GIN = TASK_IDS["postgresql"][1]  # the index schema 4 drops


def _uuid(i: int) -> str:
    return f"{i:08x}-0000-4000-8000-{i:012x}"


def _done(i: int, t: float, state: str = "SUCCESS", **more) -> TaskRow:
    fields = dict(
        name=f"proj.tasks.job_{i % 7}",
        state=state,
        worker=f"celery@w{i % 3}",
        queue="celery",
        sent=t - 0.5,
        received=t - 0.4,
        started=t - 0.3,
        finished=t if state not in ("STARTED", "RETRY", "LOST") else None,
        runtime=0.3,
        args=f"({i}, 'x')",
        kwargs="{}",
        result=f"{i * 2}" if state == "SUCCESS" else None,
        root_id=_uuid(i),
    )
    fields.update(more)
    return TaskRow(_uuid(i), **fields)


def _write(spec: str, *batches: list[TaskRow]) -> None:
    store = open_store(spec, cluster="test", write=True)
    for rows in batches:
        store.upsert_tasks(rows)
        store.flush()
    store.close()


def _block_count(spec: str) -> int:
    store = open_store(spec, cluster="test", write=False)
    try:
        return int(store.db.execute("SELECT COUNT(*) FROM task_blocks")[0][0])
    finally:
        store.close()


def test_rows_and_blocks_read_back_as_one_table(journal_spec):
    rng = random.Random(5)
    n = 2 * BLOCK_TASKS + 300
    rows = []
    for i in range(n):
        state = rng.choice(["SUCCESS"] * 8 + ["FAILURE", "STARTED"])
        extra = {"exception": "ValueError('boom [red]')"} if state == "FAILURE" else {}
        rows.append(_done(i, BASE + i, state, **extra))
    _write(journal_spec, rows[: n // 2], rows[n // 2 :])
    assert _block_count(journal_spec) >= 2  # the ones that succeeded are in blocks

    reader = open_store(journal_spec, cluster="test", write=False)
    try:
        every = reader.find_tasks(limit=10 * n)
        assert [r.uuid for r in every] == [r.uuid for r in reversed(rows)]  # newest first
        assert every == list(reversed(rows))  # each field, times to the millisecond
        oldest = reader.find_tasks(limit=50, newest_first=False)
        assert oldest == rows[:50]
        window = reader.find_tasks(since=BASE + 400, until=BASE + 800, limit=40)
        inside = [r for r in reversed(rows) if BASE + 400 <= r.at <= BASE + 800]
        assert window == inside[:40]
        done = reader.find_tasks(states=["SUCCESS"], names=["proj.tasks.job_3"], limit=10 * n)
        assert done == [
            r for r in reversed(rows) if r.state == "SUCCESS" and r.name == "proj.tasks.job_3"
        ]
        by_worker = reader.find_tasks(worker="celery@w1", limit=10 * n)
        assert by_worker == [r for r in reversed(rows) if r.worker == "celery@w1"]
        failed = reader.find_tasks(states=["FAILURE"], limit=10 * n)
        assert failed == [r for r in reversed(rows) if r.state == "FAILURE"]
        found = reader.find_tasks(text=f"({n - 10}, 'X')")  # args, any case, in a block or not
        assert [r.uuid for r in found] == [_uuid(n - 10)]
        for row in (rows[0], rows[n // 2], rows[-1]):
            assert reader.get_task(row.uuid) == row
        assert reader.get_task(_uuid(10 * n)) is None
    finally:
        reader.close()


def test_a_task_updated_after_it_finished_ends_right(journal_spec):
    t = BASE + 50
    first = [_done(i, t + i) for i in range(40)]
    _write(
        journal_spec,
        first,
        # a late event for a task in the tail block; LOST then SUCCESS; a retry of one
        [_done(0, t, worker="celery@late")],
        [_done(1, t + 1, "LOST"), _done(2, t + 2, "RETRY", retries=1)],
        [_done(1, t + 30)],
    )
    # a new writer (no tail of its own) updates tasks blocked by the one before
    _write(
        journal_spec,
        [_done(3, t + 40, "STARTED", retries=1), _done(4, t + 41, exception=None)],
        [_done(4, t + 42, result="late")],
    )
    reader = open_store(journal_spec, cluster="test", write=False)
    try:
        every = reader.find_tasks(limit=1000)
        uuids = [r.uuid for r in every]
        assert sorted(uuids) == sorted({r.uuid for r in first})  # each task once
        expected = {
            _uuid(0): ("SUCCESS", "celery@late"),
            _uuid(1): ("SUCCESS", "celery@w1"),
            _uuid(2): ("RETRY", "celery@w2"),
            _uuid(3): ("STARTED", "celery@w0"),
        }
        for uuid, (state, worker) in expected.items():
            row = reader.get_task(uuid)
            assert row is not None and (row.state, row.worker) == (state, worker)
            assert [r.state for r in every if r.uuid == uuid] == [state]
        assert reader.get_task(_uuid(4)) == _done(4, t + 42, result="late")
        assert reader.get_task(_uuid(1)) == _done(1, t + 30)
        assert [r.uuid for r in reader.find_tasks(states=["RETRY"])] == [_uuid(2)]
    finally:
        reader.close()


def test_retention_drops_old_blocks_and_their_ids(journal_spec):
    now = BASE + 10 * 3600
    store = open_store(journal_spec, cluster="test", write=True, retention=3600)
    old = [_done(i, now - 5 * 3600 + i) for i in range(100)]
    new = [_done(1000 + i, now - 60 + i * 0.1) for i in range(100)]
    for rows in (old, new):
        store.upsert_tasks(rows)
        store.flush()
    deleted = store.prune(now)
    assert deleted["tasks"] == 100
    assert store.get_task(old[0].uuid) is None and store.get_task(new[0].uuid) == new[0]
    if is_postgres(journal_spec):  # a block's keys are in its row
        left = store.db.execute("SELECT SUM(cardinality(keys)) FROM task_blocks")[0][0]
    else:
        left = store.db.execute("SELECT COUNT(*) FROM task_ids")[0][0]
    assert int(left) == 100
    assert [r.uuid for r in store.find_tasks(limit=1000)] == [r.uuid for r in reversed(new)]
    store.close()


def _schema_2_store(spec: str, rows: list[TaskRow]) -> None:
    """What schema 2 wrote: its tables and small task rows (task_values.py), one per task."""
    db = old_store_driver(spec)
    db.begin()
    write_old_schema(db, 2, int(BASE), rows)
    db.commit()
    db.close()


def test_a_schema_2_store_is_migrated_into_blocks(journal_spec):
    rows = [_done(i, BASE + i, "FAILURE" if i % 5 == 0 else "SUCCESS") for i in range(1500)]
    rows.append(TaskRow("not-a-uuid [bold]x[/]", "proj.tasks.échec", "SUCCESS", result="3"))
    _schema_2_store(journal_spec, rows)
    writer = open_store(journal_spec, cluster="test", write=True)
    writer.upsert_tasks([_done(7, BASE + 3000, "SUCCESS", result="again")])
    writer.close()
    assert _block_count(journal_spec) >= 2
    reader = open_store(journal_spec, cluster="test", write=False)
    try:
        rows[7] = _done(7, BASE + 3000, "SUCCESS", result="again")
        for row in rows[:20] + rows[-3:]:
            assert reader.get_task(row.uuid) == row
        every = reader.find_tasks(limit=10_000)
        assert sorted(r.uuid for r in every) == sorted(r.uuid for r in rows)
        failed = reader.find_tasks(states=["FAILURE"], limit=10_000)
        assert len(failed) == 300
        stored = reader.db.execute("SELECT COUNT(*) FROM tasks")[0][0]
        assert int(stored) == 300  # the rows left are the failures
    finally:
        reader.close()


def test_a_search_reads_blocks_page_by_page(journal_spec):
    # one task every 400 s: a block each (a block spans 300 s at most), more than a page
    rows = [_done(i, BASE + 400 * i) for i in range(100)]
    _write(journal_spec, rows[:50], rows[50:])
    assert _block_count(journal_spec) == 100
    reader = open_store(journal_spec, cluster="test", write=False)
    try:
        assert reader.find_tasks(limit=1000) == list(reversed(rows))
        assert reader.find_tasks(limit=1000, newest_first=False) == rows
        assert reader.find_tasks(limit=45) == list(reversed(rows))[:45]
        assert reader.find_tasks(limit=70, newest_first=False) == rows[:70]
        middle = reader.find_tasks(since=BASE + 400 * 20, until=BASE + 400 * 60, limit=1000)
        assert middle == list(reversed(rows[20:61]))
    finally:
        reader.close()


def test_a_schema_3_store_is_brought_to_4_and_finds_its_tasks(journal_spec):
    rows = [_done(i, BASE + i, "FAILURE" if i % 9 == 0 else "SUCCESS") for i in range(1200)]
    _write(journal_spec, rows)
    # what schema 3 left: its version, and on PostgreSQL the GIN index of the blocks' keys
    store = open_store(journal_spec, cluster="test", write=True)
    store.db.begin()
    store.db.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
    tasks_as_schema_4(store.db)  # schemas 2-4 had the same task rows
    if is_postgres(journal_spec):
        store.db.execute(SCHEMA_3_GIN)
    store.db.commit()
    store.close()
    with pytest.raises(JournalSchemaError) as refused:
        open_store(journal_spec, cluster="test", write=False)
    assert "has schema 3" in str(refused.value) and "\n" not in str(refused.value)

    writer = open_store(journal_spec, cluster="test", write=True)  # migrates
    # a late event for a task of a block: the new writer finds it there and moves it
    late = _done(5, BASE + 5, worker="celery@late", result="late")
    writer.upsert_tasks([late])
    writer.close()
    rows[5] = late
    reader = open_store(journal_spec, cluster="test", write=False)
    try:
        version = reader.db.execute("SELECT value FROM meta WHERE key = 'schema_version'")
        assert version[0][0] == str(SCHEMA_VERSION)
        if is_postgres(journal_spec):
            left = reader.db.execute(
                "SELECT COUNT(*) FROM pg_indexes WHERE schemaname = current_schema()"
                " AND indexname = 'task_blocks_keys'"
            )
            assert int(left[0][0]) == 0
        for row in (rows[0], rows[5], rows[700], rows[-1]):
            assert reader.get_task(row.uuid) == row
        every = reader.find_tasks(limit=10_000)
        assert sorted(r.uuid for r in every) == sorted(r.uuid for r in rows)
        assert [r for r in every if r.uuid == late.uuid] == [late]
        assert reader.find_tasks(worker="celery@late") == [late]
        assert late.uuid not in {r.uuid for r in reader.find_tasks(worker="celery@w2")}
        done = reader.find_tasks(states=["SUCCESS"], limit=10_000)
        assert len(done) == len([r for r in rows if r.state == "SUCCESS"])
    finally:
        reader.close()


def test_a_late_event_finds_a_task_blocked_long_before_by_the_same_writer(journal_spec):
    # one writer: tasks an hour apart (on PostgreSQL its memory of recent blocks has let
    # the first ones go), then late events for tasks of the first hour and of the last
    early = [_done(i, BASE + i) for i in range(300)]
    later = [_done(1000 + i, BASE + 3600 + i) for i in range(300)]
    store = open_store(journal_spec, cluster="test", write=True)
    for rows in (early[:150], early[150:], later[:150], later[150:]):
        store.upsert_tasks(rows)
        store.flush()
    moved = [
        _done(7, BASE + 7, worker="celery@late"),  # same times, another worker
        _done(200, BASE + 230, "STARTED", retries=1),  # retried 30 s after it succeeded
        _done(1100, BASE + 3700, result="late"),
    ]
    store.upsert_tasks(moved)
    store.flush()
    store.close()
    reader = open_store(journal_spec, cluster="test", write=False)
    try:
        every = reader.find_tasks(limit=10_000)
        assert sorted(r.uuid for r in every) == sorted(r.uuid for r in early + later)
        for row in moved:
            assert reader.get_task(row.uuid) == row
            assert [r for r in every if r.uuid == row.uuid] == [row]
        assert reader.find_tasks(worker="celery@late") == [moved[0]]
        done = {r.uuid for r in reader.find_tasks(states=["SUCCESS"], limit=10_000)}
        assert moved[1].uuid not in done and moved[2].uuid in done
        assert len(done) == len(early) + len(later) - 1
    finally:
        reader.close()
