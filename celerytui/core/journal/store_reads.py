"""The reading half of JournalStore: events by time, tasks by search, alerts, checkpoints.

Works on a read-only store and while another process writes (SQLite WAL, PostgreSQL MVCC).
Events come back chunk by chunk (a chunk is read only when the one before is used up); a read
that fails is one JournalError line.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import celerytui.core.journal.chunks as chunks
import celerytui.core.journal.task_values as task_values
from celerytui.core.journal.db import Db
from celerytui.core.journal.errors import JournalError
from celerytui.core.journal.names import TROUBLE, TROUBLE_SQL, Names
from celerytui.core.journal.rows import AlertRow, TaskRow
from celerytui.core.state_snapshot import DELTA_MAGIC
from celerytui.redaction import one_line

_INF = float("inf")
TEXT_PAGE = 5_000  # rows a text search reads at a time
_SELECT_TASKS = f"SELECT {', '.join(task_values.COLUMNS)} FROM tasks"

CHAIN_MAX = 1_000  # checkpoints looked at for a full one before a time


class StoreReads:
    db: Db
    display: str
    _lock: threading.RLock
    names: Names
    packer: task_values.Packer
    _epoch: int | None

    def _rollback_quietly(self) -> None:
        raise NotImplementedError

    def _reconnect_quietly(self) -> None:
        raise NotImplementedError

    def _load_epoch(self) -> None:
        rows = self.db.execute("SELECT value FROM meta WHERE key = 'time_epoch'")
        self._epoch = int(rows[0][0]) if rows else None

    def _task_epoch(self) -> int | None:
        """The epoch task times count from; None while the store has no task (a reader
        looks again: the writer sets it with its first task)."""
        if self._epoch is None:
            self._load_epoch()
        return self._epoch

    @contextlib.contextmanager
    def _reading(self) -> Iterator[None]:
        """Driver errors of reads made outside `_read` (names, epoch) as one JournalError."""
        try:
            yield
        except self.db.errors as exc:
            self._rollback_quietly()
            self._reconnect_quietly()
            raise JournalError(f"journal {self.display}: read failed: {one_line(exc)}") from None

    def _rows(self, found: list[tuple[Any, ...]], epoch: int) -> list[TaskRow]:
        text, packer = self.names.text, self.packer
        return [task_values.task_row(r, epoch, text, packer) for r in found]

    def time_range(self) -> tuple[float, float] | None:
        """(first, last) event time recorded, or None when there is none."""
        with self._lock:
            rows = self._read("SELECT MIN(t0), MAX(t1) FROM chunks")
        if not rows or rows[0][0] is None:
            return None
        return float(rows[0][0]), float(rows[0][1])

    def iter_events(self, start: float, end: float | None = None) -> Iterator[dict[str, Any]]:
        """Events with start <= local_received < end, in time order (chunk by chunk: a
        chunk is read only when the one before is used up)."""
        stop = _INF if end is None else end
        with self._lock:
            found = self._read(
                "SELECT id, t0, t1 FROM chunks WHERE t1 >= ? AND t0 < ? ORDER BY t0, id",
                (start, stop if stop != _INF else 1e300),
            )
        i = 0
        while i < len(found):
            chunk_id, t0, t1 = found[i]
            j, group_t1 = i + 1, t1
            while j < len(found) and found[j][1] < group_t1:  # overlapping: a clock stepped back
                group_t1 = max(group_t1, found[j][2])
                j += 1
            if j == i + 1:
                events = self._chunk(chunk_id)
                if t0 >= start and t1 < stop:
                    yield from events
                else:
                    yield from _between(_timed(events), start, stop)
            else:
                timed = [pair for k in range(i, j) for pair in _timed(self._chunk(found[k][0]))]
                timed.sort(key=_first)
                yield from _between(timed, start, stop)
            i = j

    def _chunk(self, chunk_id: int) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._read("SELECT codec, data FROM chunks WHERE id = ?", (chunk_id,))
        if not rows:
            return []  # pruned meanwhile
        return chunks.decode(rows[0][0], bytes(rows[0][1]))

    def checkpoint_before(self, at: float) -> tuple[float, bytes] | None:
        """The newest checkpoint at or before `at`: (its time, the snapshot)."""
        with self._lock:
            rows = self._read(
                "SELECT at, data FROM checkpoints WHERE at <= ? ORDER BY at DESC LIMIT 1", (at,)
            )
        return (float(rows[0][0]), bytes(rows[0][1])) if rows else None

    def checkpoint_chain(self, at: float) -> list[tuple[float, bytes]]:
        """What the state at `at` loads from, oldest first: the newest full checkpoint at or
        before `at`, then those after it up to `at` (deltas: state_snapshot.load_chain checks
        that each follows on the one before); [] when there is no full one."""
        with self._lock:
            kinds = self._read(
                "SELECT at, substr(data, 1, 4) FROM checkpoints WHERE at <= ?"
                " ORDER BY at DESC LIMIT ?",
                (at, CHAIN_MAX),
            )
        start = next((a for a, magic in kinds if bytes(magic) != DELTA_MAGIC), None)
        if start is None:
            return []
        with self._lock:
            rows = self._read(
                "SELECT at, data FROM checkpoints WHERE at >= ? AND at <= ? ORDER BY at",
                (start, at),
            )
        return [(float(a), bytes(data)) for a, data in rows]

    def find_tasks(
        self,
        *,
        since: float | None = None,
        until: float | None = None,
        states: Iterable[str] | None = None,
        names: Iterable[str] | None = None,
        worker: str | None = None,
        text: str | None = None,
        limit: int = 1000,
        newest_first: bool = True,
    ) -> list[TaskRow]:
        """Task rows by their newest time (TaskRow.at); `text`: a substring of the uuid, name,
        args, kwargs or exception (any case)."""
        with self._lock, self._reading():
            epoch = self._task_epoch()
            if epoch is None:
                return []
            where: list[str] = []
            params: list[Any] = []
            if since is not None:
                where.append("at >= ?")
                params.append(task_values.ms(since, epoch))
            if until is not None:
                where.append("at <= ?")
                params.append(task_values.ms(until, epoch))
            for column, values in (("state", states), ("name", names)):
                if values is not None:
                    ids = self._name_ids(values)
                    if not ids:
                        return []  # nothing has that name or state
                    where.append(f"{column} IN ({', '.join('?' for _ in ids)})")
                    params.extend(ids)
            if states is not None and set(states) <= set(TROUBLE):
                where.append(TROUBLE_SQL)  # what lets the partial indexes serve it
            if worker is not None:
                ids = self._name_ids([worker])
                if not ids:
                    return []
                where.append("worker = ?")
                params.append(ids[0])
            sql = _SELECT_TASKS
            if where:
                sql += " WHERE " + " AND ".join(where)
            sql += f" ORDER BY at {'DESC' if newest_first else 'ASC'} LIMIT ?"
            if not text:
                return self._rows(self._read(sql, (*params, max(0, int(limit)))), epoch)
            return self._text_search(sql + " OFFSET ?", params, text, max(0, int(limit)), epoch)

    def _text_search(
        self, sql: str, params: list[Any], text: str, limit: int, epoch: int
    ) -> list[TaskRow]:
        """Rows with `text` in their uuid, name, args, kwargs or exception (any case): read
        page by page and matched here, as args and kwargs are stored packed."""
        needle = text.casefold()
        out: list[TaskRow] = []
        offset = 0
        while len(out) < limit:
            page = self._rows(self._read(sql, (*params, TEXT_PAGE, offset)), epoch)
            out.extend(r for r in page if _has_text(r, needle))
            if len(page) < TEXT_PAGE:
                break
            offset += TEXT_PAGE
        return out[:limit]

    def _name_ids(self, values: Iterable[str]) -> list[int]:
        found = (self.names.lookup(v) for v in values)
        return sorted({i for i in found if i is not None})

    def get_task(self, uuid: str) -> TaskRow | None:
        with self._lock, self._reading():
            epoch = self._task_epoch()
            if epoch is None:
                return None
            found = self._read(_SELECT_TASKS + " WHERE uuid = ?", (task_values.id_bytes(uuid),))
            return self._rows(found, epoch)[0] if found else None

    def alerts_between(self, start: float, end: float) -> list[AlertRow]:
        """Alerts active at some time in [start, end], oldest first."""
        with self._lock:
            rows = self._read(
                "SELECT rule, severity, summary, labels, raised_at, cleared_at, count"
                " FROM alerts WHERE raised_at <= ? AND (cleared_at IS NULL OR cleared_at >= ?)"
                " ORDER BY raised_at, rule",
                (end, start),
            )
        return [
            AlertRow(r[0], r[1], r[2], json.loads(r[3]), float(r[4]), r[5], int(r[6])) for r in rows
        ]

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            return self.db.execute(sql, params)
        except self.db.errors as exc:
            self._rollback_quietly()
            self._reconnect_quietly()
            raise JournalError(f"journal {self.display}: read failed: {one_line(exc)}") from None


def _has_text(row: TaskRow, needle: str) -> bool:
    return any(
        v is not None and needle in v.casefold()
        for v in (row.uuid, row.name, row.args, row.kwargs, row.exception)
    )


def _first(pair: tuple[float, dict[str, Any]]) -> float:
    return pair[0]


def _timed(events: list[dict[str, Any]]) -> list[tuple[float, dict[str, Any]]]:
    """(time, event) pairs; an event with no usable time takes the one before it."""
    out = []
    last = -_INF
    for event in events:
        t = event.get("local_received")
        if t.__class__ is not float and t.__class__ is not int:
            t = last
        out.append((t, event))
        last = t
    return out


def _between(
    pending: list[tuple[float, dict[str, Any]]], start: float, stop: float
) -> Iterator[dict[str, Any]]:
    for t, event in pending:
        if start <= t < stop:
            yield event
