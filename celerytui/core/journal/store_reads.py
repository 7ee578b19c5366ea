"""The reading half of JournalStore: events by time, tasks by search, alerts, checkpoints.

Works on a read-only store and while another process writes (SQLite WAL, PostgreSQL MVCC).
Events come back chunk by chunk (a chunk is read only when the one before is used up); a read
that fails is one JournalError line.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import json
import threading
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import celerytui.core.journal.chunks as chunks
import celerytui.core.journal.task_blocks as task_blocks
import celerytui.core.journal.task_values as task_values
from celerytui.core.journal.db import Db
from celerytui.core.journal.errors import JournalError
from celerytui.core.journal.names import LIVE_SQL, TROUBLE, TROUBLE_SQL, Names
from celerytui.core.journal.rows import AlertRow, TaskRow
from celerytui.core.state_snapshot import DELTA_MAGIC
from celerytui.redaction import one_line

_INF = float("inf")
TEXT_PAGE = 5_000  # rows a text search reads at a time
BLOCK_PAGE = 32  # task blocks a search lists at a time
BLOCK_SCAN = (8, 1_024)  # task blocks whose keys get_task reads at a time, first and most
KEYS_PER_QUERY = 500  # values of an IN (...) per statement (SQLite)
_SELECT_TASKS = f"SELECT {', '.join(task_values.ROW_COLUMNS)} FROM tasks"  # `at` first

CHUNK_READS = 8  # chunks an event read fetches at once at most (one statement)
CHAIN_MAX = 1_000  # checkpoints looked at for a full one before a time
CHAIN_PAGE = 4  # checkpoints read at a time while looking for it (a chain holds ~5-25)


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
        return task_values.read_rows(found, epoch, self.names.text, self.packer)

    def time_range(self) -> tuple[float, float] | None:
        """(first, last) event time recorded, or None when there is none."""
        with self._lock:
            rows = self._read("SELECT MIN(t0), MAX(t1) FROM chunks")
        if not rows or rows[0][0] is None:
            return None
        return float(rows[0][0]), float(rows[0][1])

    def iter_events(self, start: float, end: float | None = None) -> Iterator[dict[str, Any]]:
        """Events with start <= local_received < end, in time order (chunk by chunk: a
        chunk is read only when the ones before are used up, a few at a time)."""
        for piece in self.iter_chunks(start, end):
            yield from piece.events() if isinstance(piece, chunks.Chunk) else piece

    def iter_chunks(
        self, start: float, end: float | None = None
    ) -> Iterator[chunks.Chunk | list[dict[str, Any]]]:
        """The events of ``iter_events``, a piece at a time: a stored chunk wholly within
        the bounds and apart from its neighbours as a Chunk, not decoded yet (a replay
        decodes it on the thread that applies it); the others as lists of their events,
        cut to the bounds (and merged in time order where chunks overlap: a clock stepped
        back). Chunks are read CHUNK_READS at a time at most, the first alone."""
        stop = _INF if end is None else end
        with self._lock:
            found = self._read(
                "SELECT id, t0, t1 FROM chunks WHERE t1 >= ? AND t0 < ? ORDER BY t0, id",
                (start, stop if stop != _INF else 1e300),
            )
        read: dict[int, tuple[float, float, int, int, bytes]] = {}  # id -> row, read ahead
        ahead = 1
        i = 0
        while i < len(found):
            chunk_id = found[i][0]
            j, group_t1 = i + 1, found[i][2]
            while j < len(found) and found[j][1] < group_t1:  # overlapping: a clock stepped back
                group_t1 = max(group_t1, found[j][2])
                j += 1
            if chunk_id not in read:
                self._read_chunks([row[0] for row in found[i : max(j, i + ahead)]], read)
                ahead = min(2 * ahead, CHUNK_READS)
            timed = []
            for k in range(i, j):
                if found[k][0] not in read:
                    self._read_chunks([found[k][0]], read)
                row = read.pop(found[k][0], None)  # None: pruned meanwhile
                if row is None:
                    continue
                t0, t1, n, codec, data = row  # as read (a tail chunk grows: not as listed)
                if j == i + 1 and t0 >= start and t1 < stop:
                    yield chunks.Chunk(t0, t1, n, codec, data)
                else:
                    timed += _timed(chunks.decode(codec, data))
            if timed:
                timed.sort(key=_first)
                events = list(_between(timed, start, stop))
                if events:
                    yield events
            i = j

    def _read_chunks(
        self, ids: list[int], into: dict[int, tuple[float, float, int, int, bytes]]
    ) -> None:
        """The rows of the chunks ``ids`` into ``into`` (a pruned one is not there)."""
        with self._lock, self._reading():
            rows = self._in("SELECT id, t0, t1, n, codec, data FROM chunks WHERE {}", "id", ids)
        for chunk_id, t0, t1, n, codec, data in rows:
            into[int(chunk_id)] = (float(t0), float(t1), int(n), int(codec), bytes(data))

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
        that each follows on the one before); [] when there is no full one.

        Only the chain's snapshots are read: newest first, CHAIN_PAGE at a time, until a full
        one (a query on the first bytes of every checkpoint before `at` read them all: 0.2 s
        at the end of a 10M-event journal, growing with it)."""
        with self._lock:
            times = self._read(
                "SELECT at FROM checkpoints WHERE at <= ? ORDER BY at DESC LIMIT ?",
                (at, CHAIN_MAX),
            )
        chain: list[tuple[float, bytes]] = []
        for i in range(0, len(times), CHAIN_PAGE):
            page = times[i : i + CHAIN_PAGE]
            with self._lock:
                rows = self._read(
                    "SELECT at, data FROM checkpoints WHERE at <= ? AND at >= ? ORDER BY at DESC",
                    (page[0][0], page[-1][0]),
                )
            for when, data in rows:
                chain.append((float(when), bytes(data)))
                if chain[-1][1][: len(DELTA_MAGIC)] != DELTA_MAGIC:  # a full one: the start
                    chain.reverse()
                    return chain
        return []

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
        args, kwargs or exception (any case). Rows and blocks (task_blocks.py) both."""
        limit = max(0, int(limit))
        states = None if states is None else list(states)
        names = None if names is None else list(names)
        with self._lock, self._reading():
            epoch = self._task_epoch()
            if epoch is None:
                return []
            since_ms = None if since is None else task_values.ms(since, epoch)
            until_ms = None if until is None else task_values.ms(until, epoch)
            window = (since_ms, until_ms)
            rows = self._find_rows(window, states, names, worker, text, limit, newest_first, epoch)
            if rows is None:
                return []  # nothing has that name, state or worker
            if states is not None and not task_blocks.BLOCK_STATES.intersection(states):
                return [r for _, r in rows]
            wanted = _wanted(states, names, worker, text)
            found = self._find_in_blocks(
                since_ms, until_ms, wanted, limit, newest_first, epoch, rows
            )
            return [r for _, r in found]

    def _find_rows(
        self,
        window: tuple[int | None, int | None],
        states: list[str] | None,
        names: list[str] | None,
        worker: str | None,
        text: str | None,
        limit: int,
        newest_first: bool,
        epoch: int,
    ) -> list[tuple[int, TaskRow]] | None:
        """(at, row) of the `tasks` rows that match, in order; None when a name is unknown."""
        since_ms, until_ms = window
        where: list[str] = []
        params: list[Any] = []
        if since_ms is not None:
            where.append("at >= ?")
            params.append(since_ms)
        if until_ms is not None:
            where.append("at <= ?")
            params.append(until_ms)
        for column, values in (("state", states), ("name", names)):
            if values is not None:
                ids = self._name_ids(values)
                if not ids:
                    return None
                where.append(f"{column} IN ({', '.join('?' for _ in ids)})")
                params.extend(ids)
        if worker is not None:
            ids = self._name_ids([worker])
            if not ids:
                return None
            where.append("worker = ?")
            params.append(ids[0])
        # what lets the partial indexes serve it (schema 5: no index of all the rows by time;
        # a search of both reads each by its own index, merged here)
        if states is not None and set(states) <= set(TROUBLE):
            parts = [TROUBLE_SQL]
        elif states is not None and not set(states) & set(TROUBLE):
            parts = [LIVE_SQL]
        else:
            parts = [TROUBLE_SQL, LIVE_SQL]
        found = []
        for part in parts:
            sql = f"{_SELECT_TASKS} WHERE {' AND '.join([*where, part])}"
            sql += f" ORDER BY at {'DESC' if newest_first else 'ASC'} LIMIT ?"
            if text:
                found.append(self._text_search(sql + " OFFSET ?", params, text, limit, epoch))
            else:
                found.append(self._pairs(self._read(sql, (*params, limit)), epoch))
        if len(found) == 1:
            return found[0]
        merged = heapq.merge(*found, key=_at, reverse=newest_first)
        return list(itertools.islice(merged, limit))

    def _find_in_blocks(
        self,
        since_ms: int | None,
        until_ms: int | None,
        wanted: Any,
        limit: int,
        newest_first: bool,
        epoch: int,
        found: list[tuple[int, TaskRow]],
    ) -> list[tuple[int, TaskRow]]:
        """`found` (rows, in order) with the tasks of blocks that match: block by block, from
        the newest (or oldest) until no block can hold a task that comes before the limit."""
        low = -(2**62) if since_ms is None else since_ms
        high = 2**62 if until_ms is None else until_ms
        out = list(found)
        sign = -1 if newest_first else 1
        for block, at0, at1 in self._blocks_in(low, high, newest_first):
            if len(out) >= limit:
                out.sort(key=lambda p: sign * p[0])
                out = _once(out)[:limit]
                edge = out[-1][0] if out else None
                if edge is not None and (at1 < edge if newest_first else at0 > edge):
                    break
                if limit == 0:
                    break
            for at, row in self._block(block, at0, epoch):
                if low <= at <= high and wanted(row):
                    out.append((at, row))
        out.sort(key=lambda p: sign * p[0])
        return _once(out)[:limit]

    def _blocks_in(self, low: int, high: int, newest_first: bool) -> Iterator[tuple[int, int, int]]:
        """(id, at0, at1) of the blocks that overlap [low, high], newest (by at1) or oldest (by
        at0) first, read BLOCK_PAGE at a time: a search mostly needs the first few."""
        if newest_first:
            sql = (
                "SELECT id, at0, at1 FROM task_blocks WHERE at1 >= ? AND at0 <= ?"
                " AND (at1, id) < (?, ?) ORDER BY at1 DESC, id DESC LIMIT ?"
            )
            after = (2**62, 2**62)
        else:
            sql = (
                "SELECT id, at0, at1 FROM task_blocks WHERE at1 >= ? AND at0 <= ?"
                " AND (at0, id) > (?, ?) ORDER BY at0, id LIMIT ?"
            )
            after = (-(2**62), -(2**62))
        while True:
            with self._lock:
                page = self._read(sql, (low, high, *after, BLOCK_PAGE))
            for block, at0, at1 in page:
                yield int(block), int(at0), int(at1)
            if len(page) < BLOCK_PAGE:
                return
            last = page[-1]
            after = (int(last[2] if newest_first else last[1]), int(last[0]))

    def _block(self, block: int, at0: int, epoch: int) -> list[tuple[int, TaskRow]]:
        rows = self._read("SELECT data FROM task_blocks WHERE id = ?", (block,))
        if not rows:
            return []  # pruned or rewritten meanwhile
        return task_blocks.decode(rows[0][0], at0, epoch, self.names.text)

    def _text_search(
        self, sql: str, params: list[Any], text: str, limit: int, epoch: int
    ) -> list[tuple[int, TaskRow]]:
        """Rows with `text` in their uuid, name, args, kwargs or exception (any case): read
        page by page and matched here, as args and kwargs are stored packed."""
        needle = text.casefold()
        out: list[tuple[int, TaskRow]] = []
        offset = 0
        while len(out) < limit:
            page = self._pairs(self._read(sql, (*params, TEXT_PAGE, offset)), epoch)
            out.extend(p for p in page if _has_text(p[1], needle))
            if len(page) < TEXT_PAGE:
                break
            offset += TEXT_PAGE
        return out[:limit]

    def _pairs(self, found: list[tuple[Any, ...]], epoch: int) -> list[tuple[int, TaskRow]]:
        return [(int(r[0]), row) for r, row in zip(found, self._rows(found, epoch), strict=True)]

    def _in(self, sql: str, column: str, values: Sequence[Any], *before: Any) -> list[Any]:
        """`sql` with its `{}` made `column IN values` (params `before` come first): a few
        statements on SQLite, one `= ANY(array)` on PostgreSQL; the rows of them all. Driver
        errors are the caller's (a writer rolls back, a reader says one line: _reading)."""
        if not values:
            return []
        if self.db.dialect == "postgresql":
            return self.db.execute(sql.format(f"{column} = ANY(?)"), (*before, list(values)))
        out: list[Any] = []
        for start in range(0, len(values), KEYS_PER_QUERY):
            part = values[start : start + KEYS_PER_QUERY]
            where = f"{column} IN ({', '.join('?' for _ in part)})"
            out.extend(self.db.execute(sql.format(where), (*before, *part)))
        return out

    def _blocks_of(self, keys: list[int]) -> list[tuple[int, int]]:
        """(key, block) of the blocks that may hold a task of these task_blocks.id_key keys:
        SQLite's task_ids; on PostgreSQL the keys in every block's row (no index of them:
        a task's detail reads them all; the writer reads fewer, recent_blocks.py)."""
        if self.db.dialect != "postgresql":
            found = self._in("SELECT key, block FROM task_ids WHERE {}", "key", keys)
            return [(int(k), int(b)) for k, b in found]
        wanted = set(keys)
        rows = self.db.execute(
            "SELECT id, keys FROM task_blocks WHERE keys && ?::integer[]", (sorted(wanted),)
        )
        return [(k, int(block)) for block, held in rows for k in wanted.intersection(held)]

    def _name_ids(self, values: Iterable[str]) -> list[int]:
        found = (self.names.lookup(v) for v in values)
        return sorted({i for i in found if i is not None})

    def get_task(self, uuid: str) -> TaskRow | None:
        """A task's row, or its place in a block (rows first: a task moves from its row to a
        block when it succeeds)."""
        with self._lock, self._reading():
            epoch = self._task_epoch()
            if epoch is None:
                return None
            found = self._read(_SELECT_TASKS + " WHERE uuid = ?", (task_values.id_bytes(uuid),))
            if found:
                return self._rows(found, epoch)[0]
            for block, at0 in self._blocks_newest_first(task_blocks.id_key(uuid)):
                for _, row in self._block(block, at0, epoch):
                    if row.uuid == uuid:
                        return row
            return None

    def _blocks_newest_first(self, key: int) -> Iterator[tuple[int, int]]:
        """(id, at0) of the blocks that may hold a task of this id_key, the newest first. On
        PostgreSQL (no index of the keys) by id, 8 blocks, then twice as many each time: the
        task looked for is mostly a recent one, found in the first few; one in no block reads
        the keys of them all (~0.2 s for 9M tasks, on a loaded machine)."""
        if self.db.dialect != "postgresql":
            blocks = sorted((b for _, b in self._blocks_of([key])), reverse=True)
            for block in blocks:
                at0 = self._read("SELECT at0 FROM task_blocks WHERE id = ?", (block,))
                if at0:
                    yield block, int(at0[0][0])
            return
        span = self._read("SELECT MIN(id), MAX(id) FROM task_blocks")
        if not span or span[0][0] is None:
            return
        low, high = int(span[0][0]), int(span[0][1]) + 1
        step = BLOCK_SCAN[0]
        while high > low:
            found = self._read(
                "SELECT id, at0 FROM task_blocks WHERE id >= ? AND id < ? AND ? = ANY(keys)"
                " ORDER BY id DESC",
                (high - step, high, key),
            )
            for block, at0 in found:
                yield int(block), int(at0)
            high -= step
            step = min(2 * step, BLOCK_SCAN[1])

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


def _once(pairs: list[tuple[int, TaskRow]]) -> list[tuple[int, TaskRow]]:
    """Each task once: a task the writer moved from its row to a block between the two
    reads is in both (the newer wins; the same time: the block's, which comes after)."""
    seen: dict[str, int] = {}
    for i, (at, row) in enumerate(pairs):
        j = seen.get(row.uuid)
        if j is None or at >= pairs[j][0]:
            seen[row.uuid] = i
    if len(seen) == len(pairs):
        return pairs
    keep = set(seen.values())
    return [p for i, p in enumerate(pairs) if i in keep]


def _wanted(
    states: list[str] | None, names: list[str] | None, worker: str | None, text: str | None
) -> Any:
    """The test a task of a block must pass (what the WHERE of a row query asks)."""
    state_set = None if states is None else frozenset(states)
    name_set = None if names is None else frozenset(names)
    needle = text.casefold() if text else None

    def wanted(row: TaskRow) -> bool:
        return (
            (state_set is None or row.state in state_set)
            and (name_set is None or row.name in name_set)
            and (worker is None or row.worker == worker)
            and (needle is None or _has_text(row, needle))
        )

    return wanted


def _has_text(row: TaskRow, needle: str) -> bool:
    return any(
        v is not None and needle in v.casefold()
        for v in (row.uuid, row.name, row.args, row.kwargs, row.exception)
    )


def _at(pair: tuple[int, TaskRow]) -> int:
    return pair[0]


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
