"""A store made by schema 1 (text task rows, the journal's first release) opens in a
recorder, is migrated to schema 2 (small task rows), and gives the same tasks back; a reader
alone refuses it in one line until a recorder has migrated it. A store of schema 4 (event
chunks of codec 2, an index of all task rows by time) is brought to 5 and gives every event
back, old chunks and new, and its rows by time from the two partial indexes, merged."""

from __future__ import annotations

import pytest

from benchmarks.synthetic import generate_events
from celerytui.core.journal import JournalSchemaError, TaskRow, chunks, is_postgres, open_store
from celerytui.core.journal.rows import TASK_COLUMNS
from celerytui.core.journal.schema import MIGRATIONS, SCHEMA_VERSION
from tests.support.journal_stores import write_old_schema

BASE = 1_767_225_600.0
ROWS = [
    TaskRow(
        "0f8fad5b-d9cb-469f-a165-70867728950e",
        "proj.tasks.add",
        "FAILURE",
        "celery@w1",
        "celery",
        BASE + 1.0,
        BASE + 1.25,
        BASE + 1.5,
        BASE + 2.125,
        0.625,
        2,
        "ValueError('boom')",
        "Traceback (most recent call last):\n" + "  File 'x.py', line 1\n" * 40,
        "0f8fad5b-d9cb-469f-a165-70867728950e",
        None,
        "(1, 2)",
        "{'k': 'v'}",
        None,
        BASE + 1.75,
    ),
    TaskRow("not-a-uuid [bold]x[/]", "proj.tasks.échec", "SUCCESS", "celery@w2", result="3"),
    TaskRow(
        "7c9e6679-7425-40de-944b-e07fc1f90ae7",
        None,
        "STARTED",
        "celery@w1",
        started=BASE + 5.0,
        root_id="0f8fad5b-d9cb-469f-a165-70867728950e",
        parent_id="exactly-15-char",
    ),
]


def _old_store(spec: str) -> None:
    """What the journal of schema 1 wrote: its own SQL, with three task rows."""
    if is_postgres(spec):
        from celerytui.core.journal.postgres_db import PostgresDb as Driver

        db = Driver(spec, write=True)
    else:
        from pathlib import Path

        from celerytui.core.journal.sqlite_db import SqliteDb

        db = SqliteDb(Path(spec), write=True)  # type: ignore[assignment]
    db.begin()
    for statement in MIGRATIONS[1]:
        db.execute(statement.format(blob=db.blob, id=db.id_column))
    db.execute("INSERT INTO meta (key, value) VALUES ('schema_version', '1')")
    columns = ", ".join((*TASK_COLUMNS, "at"))
    marks = ", ".join("?" for _ in range(len(TASK_COLUMNS) + 1))
    for i, row in enumerate(ROWS):
        at = row.at if row.at is not None else BASE + 10 + i
        values = [getattr(row, c) for c in TASK_COLUMNS]
        db.execute(f"INSERT INTO tasks ({columns}) VALUES ({marks})", (*values, at))
    db.commit()
    db.close()


def test_a_schema_1_store_is_migrated_and_keeps_its_tasks(journal_spec):
    _old_store(journal_spec)
    with pytest.raises(JournalSchemaError) as refused:
        open_store(journal_spec, cluster="test", write=False)
    assert "schema 1" in str(refused.value) and "\n" not in str(refused.value)

    writer = open_store(journal_spec, cluster="test", write=True)
    writer.upsert_tasks([TaskRow("b4a1c6f0-0000-4000-8000-000000000001", "proj.tasks.add")])
    writer.close()
    reader = open_store(journal_spec, cluster="test", write=False)
    try:
        for old in ROWS:
            assert reader.get_task(old.uuid) == old  # every field, times to the millisecond
        failed = reader.find_tasks(states=["FAILURE"], names=["proj.tasks.add"])
        assert [r.uuid for r in failed] == [ROWS[0].uuid]
        assert [r.uuid for r in reader.find_tasks(text="[BOLD]")] == [ROWS[1].uuid]
        assert len(reader.find_tasks()) == len(ROWS) + 1
    finally:
        reader.close()


def _schema_4_store(spec: str, events: list[dict], rows: list[TaskRow], monkeypatch) -> None:
    """What schema 4 wrote, by its own statements: its tables and indexes (tasks_at of every
    row), task rows of 20 columns (task_values.values) and event chunks of codec 2."""
    db = _driver(spec)
    db.begin()
    write_old_schema(db, 4, int(BASE), rows)
    with monkeypatch.context() as patched:
        patched.setattr(chunks, "_planes", lambda blob, width: blob)  # codec 2: no planes
        for start in range(0, len(events), 1000):
            part = events[start : start + 1000]
            _, data = chunks.encode(part)
            db.execute(
                "INSERT INTO chunks (t0, t1, n, codec, data) VALUES (?, ?, ?, ?, ?)",
                (
                    part[0]["local_received"],
                    part[-1]["local_received"],
                    len(part),
                    chunks.CODEC_COLUMNS,
                    data,
                ),
            )
    db.commit()
    db.close()


def _driver(spec: str):
    if is_postgres(spec):
        from celerytui.core.journal.postgres_db import PostgresDb

        return PostgresDb(spec, write=True)
    from pathlib import Path

    from celerytui.core.journal.sqlite_db import SqliteDb

    return SqliteDb(Path(spec), write=True)


def _task_indexes_of(spec: str) -> list[str]:
    db = _driver(spec)
    try:
        return _task_indexes(db, spec)
    finally:
        db.close()


def _task_indexes(db, spec: str) -> list[str]:
    if is_postgres(spec):
        sql = (
            "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"
            " AND tablename = 'tasks' ORDER BY 1"
        )
    else:
        sql = (
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'tasks' ORDER BY 1"
        )
    return [r[0] for r in db.execute(sql)]


def _codecs(reader) -> set[int]:
    return {int(r[0]) for r in reader.db.execute("SELECT DISTINCT codec FROM chunks")}


def test_a_schema_4_store_is_brought_to_5_and_gives_every_event_back(journal_spec, monkeypatch):
    events = [e for batch in generate_events(6_000) for e in batch]
    old, new = events[:3_000], events[3_000:]
    _schema_4_store(journal_spec, old, ROWS, monkeypatch)
    before = _task_indexes_of(journal_spec)
    assert "tasks_at" in before and "tasks_live_at" not in before
    with pytest.raises(JournalSchemaError) as refused:
        open_store(journal_spec, cluster="test", write=False)
    assert "has schema 4" in str(refused.value) and "\n" not in str(refused.value)

    writer = open_store(journal_spec, cluster="test", write=True)  # migrates
    writer.append(new)
    writer.close()
    reader = open_store(journal_spec, cluster="test", write=False)
    try:
        version = reader.db.execute("SELECT value FROM meta WHERE key = 'schema_version'")
        assert version[0][0] == str(SCHEMA_VERSION) == "5"
        assert _codecs(reader) == {chunks.CODEC_COLUMNS, chunks.CODEC_PLANES}
        assert list(reader.iter_events(0)) == events
        for row in ROWS:
            assert reader.get_task(row.uuid) == row
        assert _task_indexes(reader.db, journal_spec) == [
            "tasks_live_at",
            "tasks_trouble_at",
            "tasks_trouble_name_at",
            "tasks_uuid",
        ]
        if is_postgres(journal_spec):
            storage = reader.db.execute(
                "SELECT c.relname, a.attname, a.attstorage FROM pg_attribute a"
                " JOIN pg_class c ON c.oid = a.attrelid"
                " WHERE c.relnamespace = current_schema()::regnamespace"
                " AND c.relname IN ('chunks', 'task_blocks', 'checkpoints')"
                " AND a.attname IN ('data', 'keys')"
                " ORDER BY 1, 2"
            )
            assert [tuple(r) for r in storage] == [
                ("checkpoints", "data", "e"),
                ("chunks", "data", "e"),
                ("task_blocks", "data", "e"),
                ("task_blocks", "keys", "e"),
            ]
    finally:
        reader.close()


def test_rows_failed_and_in_flight_come_back_merged_in_time_order(journal_spec):
    # failures (tasks_trouble_at) and tasks in flight (tasks_live_at), interleaved in time
    rows = []
    for i in range(40):
        state = ("FAILURE", "STARTED", "REVOKED", "RECEIVED")[i % 4]
        rows.append(
            TaskRow(
                f"{i:08x}-0000-4000-8000-{i:012x}",
                "proj.tasks.add",
                state,
                f"celery@w{i % 3}",
                received=BASE + i,
                started=BASE + i + 0.5 if state != "RECEIVED" else None,
                finished=BASE + i + 0.75 if state in ("FAILURE", "REVOKED") else None,
                args=f"({i}, 'needle')" if i % 5 == 0 else f"({i},)",
            )
        )
    writer = open_store(journal_spec, cluster="test", write=True)
    writer.upsert_tasks(rows)
    writer.close()
    reader = open_store(journal_spec, cluster="test", write=False)
    try:
        newest = list(reversed(rows))
        assert reader.find_tasks(limit=7) == newest[:7]
        assert reader.find_tasks(limit=100) == newest
        assert reader.find_tasks(limit=9, newest_first=False) == rows[:9]
        assert reader.find_tasks(since=BASE + 10, until=BASE + 20.9) == newest[19:30]
        assert (
            reader.find_tasks(worker="celery@w1", limit=5)
            == [r for r in newest if r.worker == "celery@w1"][:5]
        )
        assert (
            reader.find_tasks(text="needle", limit=5)
            == [r for r in newest if "needle" in (r.args or "")][:5]
        )
        mixed = reader.find_tasks(states=["FAILURE", "RECEIVED"], limit=6)
        assert mixed == [r for r in newest if r.state in ("FAILURE", "RECEIVED")][:6]
        assert reader.find_tasks(states=["STARTED"]) == [r for r in newest if r.state == "STARTED"]
    finally:
        reader.close()
    writer = open_store(journal_spec, cluster="test", write=True)
    assert writer.prune(now=BASE + 20 + 48 * 3600)["tasks"] == 20  # both kinds, by their index
    writer.close()
    reader = open_store(journal_spec, cluster="test", write=False)
    try:
        assert reader.find_tasks(limit=100) == newest[:20]
    finally:
        reader.close()


def test_a_postgresql_writer_gives_its_task_rows_statistics(pg_journal_spec, monkeypatch):
    # without them (autovacuum off, a new store) the planner reads a failure search of a
    # big table as a sort of all its rows (postgres_db.ANALYZE_TASK_WRITES); SQLite plans
    # without statistics
    journal_spec = pg_journal_spec
    import celerytui.core.journal.postgres_db as postgres_db

    monkeypatch.setattr(postgres_db, "VACUUM_TASK_WRITES", 50)
    monkeypatch.setattr(postgres_db, "ANALYZE_TASK_WRITES", 200)
    writer = open_store(journal_spec, cluster="test", write=True)
    analyzed = (
        "SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables WHERE relid = 'tasks'::regclass"
    )
    for flush in range(4):  # 50 task rows each: the 4th reaches 200
        assert writer.db.execute(analyzed) == [(False,)]
        writer.upsert_tasks(
            TaskRow(
                f"{i:08x}-0000-4000-8000-{i:012x}", "proj.tasks.add", "FAILURE", finished=BASE + i
            )
            for i in range(50 * flush, 50 * flush + 50)
        )
        writer.flush()
    assert writer.db.execute(analyzed) == [(True,)]
    writer.close()
