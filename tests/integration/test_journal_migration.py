"""A store made by schema 1 (text task rows, the journal's first release) opens in a
recorder, is migrated to schema 2 (small task rows), and gives the same tasks back; a reader
alone refuses it in one line until a recorder has migrated it."""

from __future__ import annotations

import pytest

from celerytui.core.journal import JournalSchemaError, TaskRow, is_postgres, open_store
from celerytui.core.journal.rows import TASK_COLUMNS
from celerytui.core.journal.schema import MIGRATIONS

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
