"""The journal's tables, one list of statements per schema version (the migrations).

Written once for both SQLite and PostgreSQL: `{blob}` and `{id}` are filled per dialect.
A store records its version in `meta`; one made by a newer celerytui is refused.

Schema 2 makes task rows small (task_values.py, names.py): the v1 table is renamed
`tasks_v1` here and its rows are copied over by the store (JournalStore._copy_v1_tasks),
which then drops it. Schema 3 moves the tasks that succeeded into compressed blocks
(task_blocks.py): the store moves the old rows (JournalStore._block_old_rows). Schema 4
drops PostgreSQL's GIN index of the blocks' task keys (DIALECT_STEPS): ~37 bytes a blocked
task, a quarter of a PostgreSQL store; a writer finds a task's block by time instead.
Schema 5 writes event chunks in codec 3 (chunks.py: ints and string indexes byte plane by
byte plane, ~9% smaller; older chunks stay codec 2 and are read as they are), which a
celerytui of schema 4 cannot read: the version tells it to upgrade. On PostgreSQL it also
stores the deflated columns (chunks, blocks, checkpoints) and the blocks' keys STORAGE
EXTERNAL: out of line without a pglz attempt that cannot shrink them (new rows; the bytes
on disk are the same, the write is cheaper). And `tasks` is made anew (the old table renamed
`tasks_v4`, copied over by JournalStore._copy_v4_tasks, dropped): what SQL reads in columns,
the rest in one blob (task_values.pack_data), and its index by time holds only the rows not
in tasks_trouble_at (nearly all rows left are failures: they were in both).

PostgreSQL bytes per event of the synthetic stream (benchmarks/history.py --events 300000
--no-firehose): schema 4 39.6-42.1 (chunks 20.7, task_blocks 9.9, tasks 8.5-11.0: the last
from a dictionary made by luck, see task_values.make_dict), schema 5 35.8-35.9 (chunks
18.7, task_blocks 9.9, tasks 6.7-6.8); SQLite 36.6-39.7 -> 34.2-34.4.
"""

from __future__ import annotations

from celerytui.core.journal.names import LIVE_SQL, TROUBLE_SQL, seed_statements

SCHEMA_VERSION = 5

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
    2: (
        "DROP INDEX IF EXISTS tasks_at",
        "DROP INDEX IF EXISTS tasks_name_state_at",
        "DROP INDEX IF EXISTS tasks_state_at",
        "DROP INDEX IF EXISTS tasks_worker_at",
        "ALTER TABLE tasks RENAME TO tasks_v1",
        "CREATE TABLE IF NOT EXISTS names (id INTEGER PRIMARY KEY, value TEXT NOT NULL UNIQUE)",
        *seed_statements(),
        # one row per task (task_values.py): ids as bytes, names as ints, times as ms
        "CREATE TABLE IF NOT EXISTS tasks (uuid {blob} NOT NULL UNIQUE, name INTEGER,"
        " state INTEGER NOT NULL, worker INTEGER, queue INTEGER, at BIGINT NOT NULL,"
        " sent BIGINT, received BIGINT, started BIGINT, finished BIGINT, retried BIGINT,"
        " runtime BIGINT, retries INTEGER NOT NULL, exception {blob}, traceback {blob},"
        " root_id {blob}, parent_id {blob}, args {blob}, kwargs {blob}, result {blob})",
        "CREATE INDEX IF NOT EXISTS tasks_at ON tasks (at)",
        # failures are few: partial indexes keep them (by name, and all of them) at little cost
        f"CREATE INDEX IF NOT EXISTS tasks_trouble_name_at ON tasks (name, at) WHERE {TROUBLE_SQL}",
        f"CREATE INDEX IF NOT EXISTS tasks_trouble_at ON tasks (at) WHERE {TROUBLE_SQL}",
    ),
    3: (
        # finished tasks, BLOCK_TASKS at a time; at0/at1 the first/last `at` of its tasks
        "CREATE TABLE IF NOT EXISTS task_blocks (id {id}, at0 BIGINT NOT NULL,"
        " at1 BIGINT NOT NULL, n INTEGER NOT NULL, data {blob} NOT NULL)",
        # searches list them in (at1, id) or (at0, id) order, a page at a time
        "CREATE INDEX IF NOT EXISTS task_blocks_at0 ON task_blocks (at0, id)",
        "CREATE INDEX IF NOT EXISTS task_blocks_at1 ON task_blocks (at1, id)",
    ),
    4: (),  # PostgreSQL only (DIALECT_STEPS)
    # chunks of codec 3 (chunks.py); PostgreSQL: STORAGE EXTERNAL (DIALECT_STEPS). The rows
    # left in `tasks` are nearly all failures (the others are in flight; those that succeed
    # go into blocks), which tasks_trouble_at holds already: tasks_at becomes the index of
    # the others only; a search of all rows by time merges the two (store_reads._find_rows)
    # And a task row keeps in columns only what SQL reads, the rest in one blob (task_values
    # .pack_data): the table is made anew as `tasks`, the old one renamed `tasks_v4` and
    # copied over by the store (JournalStore._copy_v4_tasks), which then drops it.
    5: (
        "DROP INDEX IF EXISTS tasks_at",
        "DROP INDEX IF EXISTS tasks_trouble_name_at",
        "DROP INDEX IF EXISTS tasks_trouble_at",
        "ALTER TABLE tasks RENAME TO tasks_v4",
        # 8-byte `at` first, then the ints: no padding (PostgreSQL); 6 columns: a 1-byte null
        # bitmap keeps a PostgreSQL row header at 24 bytes
        "CREATE TABLE IF NOT EXISTS tasks (at BIGINT NOT NULL, name INTEGER,"
        " state INTEGER NOT NULL, worker INTEGER, uuid {blob} NOT NULL, data {blob} NOT NULL)",
        # named, not a constraint: tasks_v4's tasks_uuid_key is still there (PostgreSQL)
        "CREATE UNIQUE INDEX IF NOT EXISTS tasks_uuid ON tasks (uuid)",
        f"CREATE INDEX IF NOT EXISTS tasks_live_at ON tasks (at) WHERE {LIVE_SQL}",
        f"CREATE INDEX IF NOT EXISTS tasks_trouble_name_at ON tasks (name, at) WHERE {TROUBLE_SQL}",
        f"CREATE INDEX IF NOT EXISTS tasks_trouble_at ON tasks (at) WHERE {TROUBLE_SQL}",
    ),
}

# where the block of a task is found (by task_blocks.id_key, which a few tasks may share),
# made with schema 3: on SQLite a table that is its own key (~18 bytes a task); on PostgreSQL
# the keys of each block in its row (a table there would take ~85 bytes a task), with a GIN
# index of them until schema 4 (~37 bytes a task: more than the block itself)
TASK_IDS: dict[str, tuple[str, ...]] = {
    "sqlite": (
        "CREATE TABLE IF NOT EXISTS task_ids (key INTEGER NOT NULL, block INTEGER NOT NULL,"
        " PRIMARY KEY (key, block)) WITHOUT ROWID",
    ),
    "postgresql": (
        "ALTER TABLE task_blocks ADD COLUMN IF NOT EXISTS keys INTEGER[] NOT NULL DEFAULT '{}'",
        "CREATE INDEX IF NOT EXISTS task_blocks_keys ON task_blocks USING GIN (keys)"
        " WITH (fastupdate = off)",
    ),
}

# version -> dialect -> the statements of that version that only one dialect has
DIALECT_STEPS: dict[int, dict[str, tuple[str, ...]]] = {
    3: TASK_IDS,
    4: {"sqlite": (), "postgresql": ("DROP INDEX IF EXISTS task_blocks_keys",)},
    # deflated already (and the keys are random ints): pglz would try and give up
    5: {
        "sqlite": (),
        "postgresql": (
            "ALTER TABLE chunks ALTER COLUMN data SET STORAGE EXTERNAL",
            "ALTER TABLE task_blocks ALTER COLUMN data SET STORAGE EXTERNAL,"
            " ALTER COLUMN keys SET STORAGE EXTERNAL",
            "ALTER TABLE checkpoints ALTER COLUMN data SET STORAGE EXTERNAL",
        ),
    },
}
