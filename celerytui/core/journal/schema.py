"""The journal's tables, one list of statements per schema version (the migrations).

Written once for both SQLite and PostgreSQL: `{blob}` and `{id}` are filled per dialect.
A store records its version in `meta`; one made by a newer celerytui is refused.
"""

from __future__ import annotations

SCHEMA_VERSION = 1

# version -> the statements that bring a store from the version before to it
MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (
        "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        # one row: who writes this store, and when it last said it was alive
        "CREATE TABLE IF NOT EXISTS lease (id INTEGER PRIMARY KEY, holder TEXT NOT NULL,"
        " host TEXT NOT NULL, pid INTEGER NOT NULL, token TEXT NOT NULL,"
        " heartbeat DOUBLE PRECISION NOT NULL)",
        # events in time-ordered compressed chunks: t0/t1 the first/last local_received
        "CREATE TABLE IF NOT EXISTS chunks (id {id}, t0 DOUBLE PRECISION NOT NULL,"
        " t1 DOUBLE PRECISION NOT NULL, n INTEGER NOT NULL, codec INTEGER NOT NULL,"
        " data {blob} NOT NULL)",
        "CREATE INDEX IF NOT EXISTS chunks_t0 ON chunks (t0)",
        "CREATE INDEX IF NOT EXISTS chunks_t1 ON chunks (t1)",
        # one row per task, kept current; `at` = its newest time (TaskRow.at)
        "CREATE TABLE IF NOT EXISTS tasks (uuid TEXT PRIMARY KEY, name TEXT, state TEXT NOT NULL,"
        " worker TEXT, queue TEXT, sent DOUBLE PRECISION, received DOUBLE PRECISION,"
        " started DOUBLE PRECISION, finished DOUBLE PRECISION, runtime DOUBLE PRECISION,"
        " retries INTEGER NOT NULL, exception TEXT, traceback TEXT, root_id TEXT,"
        " parent_id TEXT, args TEXT, kwargs TEXT, result TEXT, retried DOUBLE PRECISION,"
        " at DOUBLE PRECISION NOT NULL)",
        "CREATE INDEX IF NOT EXISTS tasks_at ON tasks (at)",
        "CREATE INDEX IF NOT EXISTS tasks_name_state_at ON tasks (name, state, at)",
        "CREATE INDEX IF NOT EXISTS tasks_state_at ON tasks (state, at)",
        "CREATE INDEX IF NOT EXISTS tasks_worker_at ON tasks (worker, at)",
        "CREATE TABLE IF NOT EXISTS alerts (rule TEXT NOT NULL, severity TEXT NOT NULL,"
        " summary TEXT NOT NULL, labels TEXT NOT NULL, raised_at DOUBLE PRECISION NOT NULL,"
        " cleared_at DOUBLE PRECISION, count INTEGER NOT NULL, PRIMARY KEY (rule, raised_at))",
        "CREATE INDEX IF NOT EXISTS alerts_raised ON alerts (raised_at)",
        "CREATE TABLE IF NOT EXISTS checkpoints (at DOUBLE PRECISION PRIMARY KEY,"
        " data {blob} NOT NULL)",
    ),
}
