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
