"""The journal: a cluster's events, tasks, alerts and checkpoints, kept across restarts.

`open_store(spec, cluster=..., write=...)` opens one: None -> the default SQLite file for
that cluster under the user data dir, a path -> SQLite, `postgresql://` -> PostgreSQL. The
recorder (recorder.py) writes it; history and replay read it. See docs/core-api.md.
"""

from __future__ import annotations

import re
from pathlib import Path

from celerytui.core.journal.db import Db
from celerytui.core.journal.errors import (
    JournalError,
    JournalLeaseError,
    JournalSchemaError,
    JournalWriteError,
)
from celerytui.core.journal.lease import LEASE_TTL
from celerytui.core.journal.rows import AlertRow, TaskRow, task_row
from celerytui.core.journal.store import MAX_SIZE, RETENTION, JournalStore

__all__ = [
    "AlertRow",
    "JournalError",
    "JournalLeaseError",
    "JournalSchemaError",
    "JournalStore",
    "JournalWriteError",
    "TaskRow",
    "cluster_name",
    "default_store_path",
    "is_postgres",
    "open_store",
    "task_row",
]

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def is_postgres(spec: str | None) -> bool:
    return bool(spec) and str(spec).split(":", 1)[0].lower() in ("postgresql", "postgres")


def cluster_name(broker_url: str) -> str:
    """A file name for a cluster, from its broker URL without user or password:
    ``redis://:pw@host:6379/0`` -> ``redis-host-6379-0``."""
    first = re.split(r"[;,\s]", broker_url.strip(), maxsplit=1)[0] if broker_url else ""
    scheme, _, rest = first.partition("://")
    rest = rest.rsplit("@", 1)[-1].split("?", 1)[0]
    name = _UNSAFE.sub("-", f"{scheme}-{rest}").strip("-.") or "default"
    return name[:120]


def default_store_path(cluster: str) -> Path:
    """platformdirs user_data_dir("celerytui")/journal/<cluster>.sqlite3 (XDG_DATA_HOME
    honoured)."""
    from platformdirs import user_data_dir

    safe = _UNSAFE.sub("-", cluster).strip("-.") or "default"
    return Path(user_data_dir("celerytui")) / "journal" / f"{safe}.sqlite3"


def open_store(
    spec: str | None,
    *,
    cluster: str,
    write: bool,
    holder: str = "celerytui",
    retention: float = RETENTION,
    max_size: int = MAX_SIZE,
    lease_ttl: float = LEASE_TTL,
) -> JournalStore:
    """Open (with write=True: create if needed, migrate, and take the lease) a store.

    JournalSchemaError: made by a newer celerytui; JournalLeaseError: another writer holds
    it (write=True); JournalError: cannot open it (one line, URL redacted)."""
    db: Db
    if is_postgres(spec):
        from celerytui.core.journal.postgres_db import PostgresDb

        db = PostgresDb(str(spec), write=write)
    else:
        from celerytui.core.journal.sqlite_db import SqliteDb

        path = default_store_path(cluster) if not spec else Path(spec).expanduser()
        db = SqliteDb(path, write=write)
    return JournalStore(
        db,
        cluster=cluster,
        write=write,
        holder=holder,
        retention=retention,
        max_size=max_size,
        lease_ttl=lease_ttl,
    )
