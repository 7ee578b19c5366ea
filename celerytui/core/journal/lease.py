"""One writer per store: the lease row names the writer and when it last said it was alive.

A writer renews it at every flush (at least once a second while recording). A lease whose
heartbeat is older than `ttl`, or whose holder is a process gone from this very host, is
free: the successor of a SIGKILLed recorder takes over without waiting.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from dataclasses import dataclass
from typing import Any, Protocol

from celerytui.core.journal.errors import JournalLeaseError

LEASE_TTL = 15.0  # seconds without a heartbeat after which a lease is free


class _Db(Protocol):
    display: str

    def execute(self, sql: str, params: Any = ()) -> list[tuple[Any, ...]]: ...


@dataclass(slots=True)
class Lease:
    holder: str
    host: str
    pid: int
    token: str

    def describe(self) -> str:
        return f"{self.holder} (pid {self.pid} on {self.host})"


def new_lease(holder: str) -> Lease:
    return Lease(holder, socket.gethostname(), os.getpid(), uuid.uuid4().hex)


def take(db: _Db, lease: Lease, ttl: float = LEASE_TTL, now: float | None = None) -> None:
    """Take the lease inside the caller's transaction, or raise JournalLeaseError."""
    now = time.time() if now is None else now
    rows = db.execute("SELECT holder, host, pid, token, heartbeat FROM lease WHERE id = 1")
    if rows:
        holder, host, pid, token, heartbeat = rows[0]
        if token != lease.token and now - heartbeat < ttl and not _gone(host, pid):
            other = Lease(holder, host, pid, token)
            ago = max(0.0, now - heartbeat)
            raise JournalLeaseError(
                f"journal {db.display} is being written by {other.describe()}, "
                f"alive {ago:.0f}s ago: recording here is off (one writer per store)",
                holder=other.describe(),
            )
        db.execute(
            "UPDATE lease SET holder = ?, host = ?, pid = ?, token = ?, heartbeat = ? WHERE id = 1",
            (lease.holder, lease.host, lease.pid, lease.token, now),
        )
    else:
        db.execute(
            "INSERT INTO lease (id, holder, host, pid, token, heartbeat) VALUES (1, ?, ?, ?, ?, ?)",
            (lease.holder, lease.host, lease.pid, lease.token, now),
        )


def renew(db: _Db, lease: Lease, now: float | None = None) -> None:
    """Say we are alive (inside the caller's transaction); JournalLeaseError if another
    writer took the store over meanwhile (we were silent past the ttl)."""
    now = time.time() if now is None else now
    rows = db.execute("SELECT token, holder, host, pid FROM lease WHERE id = 1")
    if not rows or rows[0][0] != lease.token:
        who = Lease(rows[0][1], rows[0][2], rows[0][3], rows[0][0]).describe() if rows else "?"
        raise JournalLeaseError(
            f"journal {db.display}: the lease was taken over by {who}; stopped writing",
            holder=who,
        )
    db.execute("UPDATE lease SET heartbeat = ? WHERE id = 1", (now,))


def release(db: _Db, lease: Lease) -> None:
    db.execute("DELETE FROM lease WHERE id = 1 AND token = ?", (lease.token,))


def _gone(host: str, pid: int) -> bool:
    """A holder on this host whose process no longer exists."""
    if host != socket.gethostname() or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
