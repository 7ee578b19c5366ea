"""The SQLite side of a journal store: one file, WAL, so readers never wait for the writer.

`synchronous=NORMAL` in WAL survives a killed process (SIGKILL) without losing a committed
transaction; only a power cut may lose the last ones. Deleted pages are given back with
incremental vacuum after pruning, so the file follows its size limit.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from celerytui.core.journal.errors import JournalError

BUSY_TIMEOUT_MS = 5_000


class SqliteDb:
    dialect = "sqlite"
    blob = "BLOB"
    id_column = "INTEGER PRIMARY KEY"
    errors: tuple[type[BaseException], ...] = (sqlite3.Error,)

    def __init__(self, path: Path, *, write: bool) -> None:
        self.path = path
        self.display = str(path)
        self.write = write
        self.conn = self._connect()

    def _connect(self) -> sqlite3.Connection:
        path, write = self.path, self.write
        try:
            if write:
                path.parent.mkdir(parents=True, exist_ok=True)
                fresh = not path.exists() or path.stat().st_size == 0
                conn = sqlite3.connect(
                    path, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False
                )
                if fresh:  # only an empty file takes auto_vacuum without a VACUUM
                    conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = NORMAL")
                if fresh:
                    os.chmod(path, 0o600)  # events carry args: not for other users
            else:
                if not path.exists():
                    raise JournalError(f"no journal at {path} (nothing recorded there yet)")
                conn = sqlite3.connect(
                    f"{path.as_uri()}?mode=ro",
                    uri=True,
                    timeout=BUSY_TIMEOUT_MS / 1000,
                    check_same_thread=False,
                )
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            conn.isolation_level = None  # transactions are ours: BEGIN / COMMIT
        except sqlite3.Error as exc:
            raise JournalError(f"cannot open journal {path}: {exc}") from None
        return conn

    def begin(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE" if self.write else "BEGIN")

    def commit(self) -> None:
        if self.conn.in_transaction:
            self.conn.execute("COMMIT")

    def rollback(self) -> None:
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self.conn.execute(sql, params).fetchall()

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self.conn.executemany(sql, rows)

    def size_bytes(self) -> int:
        """Bytes in use (pages not on the free list), the WAL included."""
        pages = self.conn.execute("PRAGMA page_count").fetchone()[0]
        free = self.conn.execute("PRAGMA freelist_count").fetchone()[0]
        size = self.conn.execute("PRAGMA page_size").fetchone()[0]
        return int((pages - free) * size)

    def live_bytes(self) -> int:
        """What the size limit counts: size_bytes (free pages are not counted already)."""
        return self.size_bytes()

    def after_flush(self, task_writes: int) -> None:
        """SQLite reuses the pages of deleted rows at once: nothing to do."""

    def after_prune(self) -> None:
        self.conn.execute("PRAGMA incremental_vacuum")
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def reconnect(self) -> None:
        """SQLite needs none: a failed write leaves the connection usable."""

    def close(self) -> None:
        self.conn.close()
