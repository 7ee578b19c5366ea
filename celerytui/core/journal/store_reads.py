"""The reading half of JournalStore: events by time, tasks by search, alerts, checkpoints.

Works on a read-only store and while another process writes (SQLite WAL, PostgreSQL MVCC).
Events come back chunk by chunk (a chunk is read only when the one before is used up); a read
that fails is one JournalError line.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import celerytui.core.journal.chunks as chunks
from celerytui.core.journal.db import Db
from celerytui.core.journal.errors import JournalError
from celerytui.core.journal.rows import TASK_COLUMNS, AlertRow, TaskRow
from celerytui.redaction import one_line

_INF = float("inf")


class StoreReads:
    db: Db
    display: str
    _lock: threading.RLock

    def _rollback_quietly(self) -> None:
        raise NotImplementedError

    def _reconnect_quietly(self) -> None:
        raise NotImplementedError

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
        where: list[str] = []
        params: list[Any] = []
        if since is not None:
            where.append("at >= ?")
            params.append(since)
        if until is not None:
            where.append("at <= ?")
            params.append(until)
        for column, values in (("state", states), ("name", names)):
            if values is not None:
                chosen = list(values)
                if not chosen:
                    return []
                where.append(f"{column} IN ({', '.join('?' for _ in chosen)})")
                params.extend(chosen)
        if worker is not None:
            where.append("worker = ?")
            params.append(worker)
        if text:
            pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            like = self.db.like
            where.append(
                "("
                + " OR ".join(
                    f"{c} {like} ? ESCAPE '\\'"
                    for c in ("uuid", "name", "args", "kwargs", "exception")
                )
                + ")"
            )
            params.extend([pattern] * 5)
        sql = f"SELECT {', '.join(TASK_COLUMNS)} FROM tasks"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += f" ORDER BY at {'DESC' if newest_first else 'ASC'} LIMIT ?"
        params.append(max(0, int(limit)))
        with self._lock:
            rows = self._read(sql, params)
        return [TaskRow(*row) for row in rows]

    def get_task(self, uuid: str) -> TaskRow | None:
        with self._lock:
            rows = self._read(
                f"SELECT {', '.join(TASK_COLUMNS)} FROM tasks WHERE uuid = ?", (uuid,)
            )
        return TaskRow(*rows[0]) if rows else None

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
