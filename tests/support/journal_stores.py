"""Journal stores for tests: a SQLite file in the test's tmp dir, or a schema of its own on
the machine's PostgreSQL (127.0.0.1:5432, db test), dropped at the end of the session.

PostgreSQL missing: the test is skipped locally and fails under CELERYTUI_REQUIRE_SERVICES=1
(tests/support/services.py's rule).
"""

from __future__ import annotations

import os
import uuid

from tests.support.services import port_answers, service_missing

PG_BASE = os.environ.get("CELERYTUI_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def pg_url(schema: str, base: str = PG_BASE) -> str:
    """`base` with its tables in `schema` (search_path)."""
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}"


class PgSchemas:
    """Fresh schemas on one PostgreSQL, all dropped by `drop_all`."""

    def __init__(self, base: str = PG_BASE) -> None:
        self.base = base
        self.prefix = f"celerytui_t{os.getpid()}_{uuid.uuid4().hex[:6]}"
        self.made: list[str] = []

    def available(self) -> bool:
        import psycopg

        if not port_answers("127.0.0.1", 5432):
            return False
        try:
            psycopg.connect(self.base, connect_timeout=3).close()
        except psycopg.Error:
            return False
        return True

    def fresh(self) -> str:
        """The URL of a new, empty schema."""
        import psycopg

        name = f"{self.prefix}_{len(self.made)}"
        with psycopg.connect(self.base, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{name}"')
        self.made.append(name)
        return pg_url(name, self.base)

    def drop_all(self) -> None:
        import psycopg

        if not self.made:
            return
        with psycopg.connect(self.base, autocommit=True) as conn:
            for name in self.made:
                conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        self.made.clear()


def store_spec(kind: str, tmp_path, schemas: PgSchemas) -> str:
    """A fresh store of `kind` ("sqlite" or "postgresql")."""
    if kind == "sqlite":
        return str(tmp_path / f"journal-{uuid.uuid4().hex[:6]}.sqlite3")
    if not schemas.available():
        service_missing("PostgreSQL at 127.0.0.1:5432 (db test)")
    return schemas.fresh()


def tasks_as_schema_4(db) -> None:
    """Give an open store's `tasks` the table of schemas 2-4 back (20 columns, task_values
    .COLUMNS, and their indexes: tasks_at of every row), the same rows in it: what a store
    made before schema 5 holds, for a test that sets an older version on a store it wrote."""
    from celerytui.core.journal import task_values as tv
    from celerytui.core.journal.schema import MIGRATIONS

    for index in ("tasks_uuid", "tasks_live_at", "tasks_trouble_name_at", "tasks_trouble_at"):
        db.execute(f"DROP INDEX {index}")
    db.execute("ALTER TABLE tasks RENAME TO tasks_v5")
    for statement in MIGRATIONS[2]:
        if "EXISTS tasks (" in statement or " ON tasks " in statement:
            db.execute(statement.format(blob=db.blob, id=db.id_column))
    rows = db.execute(f"SELECT {', '.join(tv.ROW_COLUMNS)} FROM tasks_v5")
    marks = ", ".join("?" for _ in tv.COLUMNS)
    db.executemany(
        f"INSERT INTO tasks ({', '.join(tv.COLUMNS)}) VALUES ({marks})",
        [tv.v2_values(tuple(r)) for r in rows],
    )
    db.execute("DROP TABLE tasks_v5")


def old_store_driver(spec: str):
    """A writable driver of the store at ``spec`` (SQLite path or PostgreSQL URL), with no
    migration run: for tests that build a store as an older celerytui left it."""
    from celerytui.core.journal import is_postgres

    if is_postgres(spec):
        from celerytui.core.journal.postgres_db import PostgresDb

        return PostgresDb(spec, write=True)
    from pathlib import Path

    from celerytui.core.journal.sqlite_db import SqliteDb

    return SqliteDb(Path(spec), write=True)


def write_old_schema(db, version: int, epoch: int, rows) -> None:
    """In ``db`` (begun): the tables and indexes of schema ``version`` by its own statements
    (MIGRATIONS and DIALECT_STEPS up to it), and ``rows`` as the task rows of 20 columns that
    schemas 2-4 wrote (task_values.values), their names interned as those schemas did."""
    from celerytui.core.journal import task_values as tv
    from celerytui.core.journal.names import FIRST_FREE, STATE_IDS
    from celerytui.core.journal.schema import DIALECT_STEPS, MIGRATIONS

    for step in range(1, version + 1):
        for statement in MIGRATIONS[step]:
            db.execute(statement.format(blob=db.blob, id=db.id_column))
        for statement in DIALECT_STEPS.get(step, {}).get(db.dialect, ()):
            db.execute(statement)
    db.execute("DROP TABLE tasks_v1")
    db.execute("INSERT INTO meta (key, value) VALUES ('schema_version', ?)", (str(version),))
    db.execute("INSERT INTO meta (key, value) VALUES ('time_epoch', ?)", (str(epoch),))
    ids: dict[str, int] = {}

    def name_id(text: str | None) -> int | None:
        if text is None:
            return None
        if text in STATE_IDS:
            return STATE_IDS[text]
        if text not in ids:
            ids[text] = FIRST_FREE + len(ids)
            db.execute("INSERT INTO names (id, value) VALUES (?, ?)", (ids[text], text))
        return ids[text]

    marks = ", ".join("?" for _ in tv.COLUMNS)
    for row in rows:
        values = tv.values(row, epoch, name_id, row.at or epoch, tv.Packer())
        db.execute(f"INSERT INTO tasks ({', '.join(tv.COLUMNS)}) VALUES ({marks})", values)
