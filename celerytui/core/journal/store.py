"""JournalStore: the journal of one cluster — events in compressed chunks, one row per task
(those that succeeded in compressed blocks instead: task_blocks.py), alerts, checkpoints — on
SQLite or PostgreSQL (the `db` does the dialect's part). This file
is opening and writing; reading is StoreReads (store_reads.py).

Writes are buffered and land together at `flush()`, in one transaction: a failed flush
(disk full, database gone) rolls back, keeps the buffers and raises JournalWriteError, and
the next flush writes them. Methods lock, so one store may be shared by threads. Reading
works on a read-only store and while another process writes (SQLite WAL, PostgreSQL MVCC).
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import threading
import time
from collections.abc import Iterable, Sequence
from typing import Any

import celerytui.core.journal.chunks as chunks
import celerytui.core.journal.lease as lease
import celerytui.core.journal.recent_blocks as recent_blocks
import celerytui.core.journal.task_blocks as task_blocks
import celerytui.core.journal.task_values as task_values
from celerytui.core.journal.db import Db
from celerytui.core.journal.errors import (
    JournalError,
    JournalLeaseError,
    JournalSchemaError,
    JournalWriteError,
)
from celerytui.core.journal.names import LIVE_SQL, STATE_IDS, TROUBLE, TROUBLE_SQL, Names
from celerytui.core.journal.rows import TASK_COLUMNS, AlertRow, TaskRow
from celerytui.core.journal.schema import DIALECT_STEPS, MIGRATIONS, SCHEMA_VERSION
from celerytui.core.journal.store_reads import StoreReads
from celerytui.core.state_snapshot import DELTA_MAGIC
from celerytui.redaction import one_line

CHUNK_EVENTS = 4_096  # events per chunk, at most (PostgreSQL: twice, _part_size)
CHUNK_SPAN = 60.0  # seconds one chunk covers, at most (a seek decodes one or two)
RETENTION = 48 * 3600.0
MAX_SIZE = 10**9
PRUNE_STEP = 0.05  # of the kept time span dropped per pass when over the size limit
_INF = float("inf")


_TASK_INSERT = (
    f"INSERT INTO tasks ({', '.join(task_values.ROW_COLUMNS)}) VALUES "
    f"({', '.join('?' for _ in task_values.ROW_COLUMNS)}) ON CONFLICT (uuid) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in task_values.ROW_COLUMNS if c != "uuid")
)
# the rows of schemas 2-4 (task_values.COLUMNS), which the migrations to 2 and 3 write and read
_TASK_INSERT_V2 = (
    f"INSERT INTO tasks ({', '.join(task_values.COLUMNS)}) VALUES "
    f"({', '.join('?' for _ in task_values.COLUMNS)})"
)
_SELECT_TASKS_V2 = f"SELECT {', '.join(task_values.COLUMNS)} FROM tasks"  # `at` is the 6th
MIGRATE_BATCH = 10_000  # v1 task rows copied per statement
_ALERT_INSERT = (
    "INSERT INTO alerts (rule, severity, summary, labels, raised_at, cleared_at, count)"
    " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (rule, raised_at) DO UPDATE SET"
    " severity = excluded.severity, summary = excluded.summary, labels = excluded.labels,"
    " cleared_at = excluded.cleared_at, count = excluded.count"
)


def _first(pair: tuple[int, TaskRow]) -> int:
    return pair[0]


class JournalStore(StoreReads):
    """See the module docstring; made by `open_store`."""

    def __init__(
        self,
        db: Db,
        *,
        cluster: str,
        write: bool,
        holder: str = "celerytui",
        retention: float = RETENTION,
        max_size: int = MAX_SIZE,
        lease_ttl: float = lease.LEASE_TTL,
    ) -> None:
        self.db = db
        self.cluster = cluster
        self.write = write
        self.retention = retention
        self.max_size = max_size
        self.lease_ttl = lease_ttl
        self.display = db.display
        self._lock = threading.RLock()
        self._lease = lease.new_lease(holder) if write else None
        self._events: list[dict[str, Any]] = []
        self._times: list[float] = []
        self._tasks: dict[str, TaskRow] = {}
        self._alerts: dict[tuple[str, float], AlertRow] = {}
        self._checkpoints: list[tuple[float, bytes]] = []
        # the newest chunk this writer wrote, while it has room: (id, times, events)
        self._tail: tuple[int, list[float], list[dict[str, Any]]] | None = None
        # the newest task block this writer wrote, while it has room: (id, (at, row) pairs)
        self._block_tail: tuple[int, list[tuple[int, TaskRow]]] | None = None
        self._recent = recent_blocks.RecentBlocks()  # PostgreSQL: keys of the newest blocks
        self._last_renew = 0.0
        self.names = Names(db)
        self.packer = task_values.Packer(self._stored_dict)
        self._dict_unsaved = False
        self._epoch: int | None = None  # meta time_epoch: task times count from it
        self._epoch_unsaved = False
        self._open()

    # ---- opening -----------------------------------------------------------------------

    def _open(self) -> None:
        db = self.db
        try:
            if self.write:
                db.begin()
                version = self._version()
                if version > SCHEMA_VERSION:
                    raise self._newer(version)
                for step in range(version + 1, SCHEMA_VERSION + 1):
                    for statement in MIGRATIONS[step]:
                        db.execute(statement.format(blob=db.blob, id=db.id_column))
                    for statement in DIALECT_STEPS.get(step, {}).get(db.dialect, ()):
                        db.execute(statement)
                    if step == 2:
                        self._copy_v1_tasks()
                    if step == 3:
                        self._block_old_rows()
                    if step == 5:
                        self._copy_v4_tasks()
                    self._set_meta("schema_version", str(step))
                if version == 0:
                    self._set_meta("cluster", self.cluster)
                    self._set_meta("created", repr(time.time()))
                self._load_epoch()
                self.names.load()
                self.packer.zdict = self._stored_dict()
                assert self._lease is not None
                lease.take(db, self._lease, self.lease_ttl)
                db.commit()
                self._last_renew = time.monotonic()
            else:
                version = self._version()
                if version > SCHEMA_VERSION:
                    raise self._newer(version)
                if version < SCHEMA_VERSION:
                    raise JournalSchemaError(
                        f"journal {self.display} has schema {version}; a recorder "
                        f"(celerytui record) brings it to {SCHEMA_VERSION}"
                    )
                self._load_epoch()
                self.names.load()
                self.packer.zdict = self._stored_dict()
        except JournalError:
            self._rollback_quietly()
            db.close()
            raise
        except db.errors as exc:
            self._rollback_quietly()
            db.close()
            raise JournalError(f"cannot open journal {self.display}: {one_line(exc)}") from None

    def _version(self) -> int:
        try:
            rows = self.db.execute("SELECT value FROM meta WHERE key = 'schema_version'")
        except self.db.errors:
            if not self.write:
                raise JournalSchemaError(f"{self.display} is no celerytui journal") from None
            self.db.rollback()
            self.db.begin()
            return 0
        try:
            return int(rows[0][0]) if rows else 0
        except ValueError:
            raise JournalSchemaError(f"{self.display} is no celerytui journal") from None

    def _copy_v1_tasks(self) -> None:
        """Schema 1 -> 2: every row of `tasks_v1` into the new `tasks`, then drop it."""
        db = self.db
        self.names.load()  # the states' fixed ids
        first = db.execute("SELECT MIN(at) FROM tasks_v1")
        if first and first[0][0] is not None:
            self._start_epoch(float(first[0][0]))
        columns = ", ".join(TASK_COLUMNS)
        done = ""
        while True:
            rows = db.execute(
                f"SELECT {columns}, at FROM tasks_v1 WHERE uuid > ? ORDER BY uuid LIMIT ?",
                (done, MIGRATE_BATCH),
            )
            if not rows:
                break
            assert self._epoch is not None
            old = [TaskRow(*r[:-1]) for r in rows]
            self._train(old)
            encoded = [
                task_values.values(row, self._epoch, self.names.intern, r[-1], self.packer)
                for row, r in zip(old, rows, strict=True)
            ]
            self.names.write_pending()
            db.executemany(_TASK_INSERT_V2, encoded)
            done = rows[-1][0]
        db.execute("DROP TABLE tasks_v1")
        self._epoch_unsaved = self._dict_unsaved = False
        self.names.committed()

    def _block_old_rows(self) -> None:
        """Schema 2 -> 3: the rows of tasks that succeeded into blocks, oldest first."""
        db = self.db
        self.names.load()
        self._load_epoch()
        epoch = self._epoch
        if epoch is None:
            return  # no task yet
        states = ", ".join(str(STATE_IDS[s]) for s in task_blocks.BLOCK_STATES)
        after: tuple[int, bytes] = (-(2**62), b"")
        while True:
            found = db.execute(
                f"{_SELECT_TASKS_V2} WHERE state IN ({states})"
                " AND (at > ? OR (at = ? AND uuid > ?)) ORDER BY at, uuid LIMIT ?",
                (after[0], after[0], after[1], task_blocks.BLOCK_TASKS),
            )
            if not found:
                break
            pairs = [
                (int(r[5]), task_values.task_row(r, epoch, self.names.text, self.packer))
                for r in found
            ]
            self._save_block(None, pairs, epoch, [])
            self._in("DELETE FROM tasks WHERE {}", "uuid", [bytes(r[0]) for r in found])
            after = (int(found[-1][5]), bytes(found[-1][0]))
        self.names.write_pending()
        self.names.committed()

    def _copy_v4_tasks(self) -> None:
        """Schema 4 -> 5: every row of `tasks_v4` into the new `tasks` (the same values, in
        ROW_COLUMNS: task_values.row_values), then drop it."""
        db = self.db
        columns = ", ".join(task_values.COLUMNS)
        insert = (
            f"INSERT INTO tasks ({', '.join(task_values.ROW_COLUMNS)}) VALUES "
            f"({', '.join('?' for _ in task_values.ROW_COLUMNS)})"
        )
        done = b""
        while True:
            rows = db.execute(
                f"SELECT {columns} FROM tasks_v4 WHERE uuid > ? ORDER BY uuid LIMIT ?",
                (done, MIGRATE_BATCH),
            )
            if not rows:
                break
            db.executemany(insert, [task_values.row_values(tuple(r)) for r in rows])
            done = bytes(rows[-1][0])
        db.execute("DROP TABLE tasks_v4")

    def _start_epoch(self, first: float) -> None:
        self._epoch = int(first // 1)
        self._set_meta("time_epoch", str(self._epoch))

    def _newer(self, version: int) -> JournalSchemaError:
        return JournalSchemaError(
            f"journal {self.display} was made by a newer celerytui (schema {version}; "
            f"this one knows up to {SCHEMA_VERSION}): upgrade celerytui to read it"
        )

    def _set_meta(self, key: str, value: str) -> None:
        self.db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def _rollback_quietly(self) -> None:
        with contextlib.suppress(*self.db.errors):
            self.db.rollback()

    # ---- writing ------------------------------------------------------------------------

    def append(self, events: Sequence[dict[str, Any]]) -> None:
        """Events as received (stamped), in the order they came; written at flush."""
        self._writable()
        with self._lock:
            now = time.time()
            last = self._times[-1] if self._times else now
            for event in events:
                t = event.get("local_received") if event.__class__ is dict else None
                if t.__class__ is not float and t.__class__ is not int:
                    t = last  # not stamped: it belongs where it came
                self._events.append(event)
                self._times.append(t)
                last = t

    def upsert_tasks(self, rows: Iterable[TaskRow]) -> None:
        """Rows of tasks that changed; the newest row of a uuid wins."""
        self._writable()
        with self._lock:
            pending = self._tasks
            for row in rows:
                pending[row.uuid] = row

    def record_alert(self, row: AlertRow) -> None:
        """An alert raised, or the same one (rule, raised_at) updated or cleared."""
        self._writable()
        with self._lock:
            self._alerts[(row.rule, row.raised_at)] = row

    def write_checkpoint(self, at: float, snapshot: bytes) -> None:
        """A state snapshot (core/state_snapshot.dump) as of time `at`. While writes fail,
        only the newest one waits (a snapshot can be megabytes)."""
        self._writable()
        with self._lock:
            self._checkpoints[:] = [(at, snapshot)]

    @property
    def pending_events(self) -> int:
        """Events appended and not yet written."""
        return len(self._events)

    @property
    def pending_tasks(self) -> int:
        return len(self._tasks)

    def flush(self) -> None:
        """Write everything buffered in one transaction and renew the lease.

        JournalWriteError: nothing of it was written, the buffers are kept for the next try.
        JournalLeaseError: another writer took the store over; this one must stop."""
        self._writable()
        with self._lock:
            db = self.db
            tail, block_tail = self._tail, self._block_tail
            try:
                db.begin()
                assert self._lease is not None
                lease.renew(db, self._lease)
                new_tail = self._write_events()
                if self._tasks:
                    self._write_tasks()
                if self._alerts:
                    db.executemany(
                        _ALERT_INSERT,
                        [
                            (
                                a.rule,
                                a.severity,
                                a.summary,
                                json.dumps(a.labels, default=str),
                                a.raised_at,
                                a.cleared_at,
                                a.count,
                            )
                            for a in self._alerts.values()
                        ],
                    )
                for at, data in self._checkpoints:
                    db.execute(
                        "INSERT INTO checkpoints (at, data) VALUES (?, ?)"
                        " ON CONFLICT (at) DO UPDATE SET data = excluded.data",
                        (at, data),
                    )
                db.commit()
            except JournalLeaseError:
                self._block_tail = block_tail
                self._rollback_quietly()
                self._forget_unsaved()
                raise
            except db.errors as exc:
                self._tail = tail
                self._block_tail = block_tail
                self._rollback_quietly()
                self._forget_unsaved()
                self._reconnect_quietly()
                raise JournalWriteError(
                    f"journal {self.display}: write failed: {one_line(exc)}"
                ) from None
            self._tail = new_tail
            with contextlib.suppress(*db.errors):  # space kept for reuse; it may wait
                db.after_flush(len(self._tasks))
            self.names.committed()
            self._epoch_unsaved = self._dict_unsaved = False
            self._events, self._times = [], []
            self._tasks.clear()
            self._alerts.clear()
            self._checkpoints.clear()
            self._last_renew = time.monotonic()

    def _write_tasks(self) -> None:
        """The pending rows: those that succeeded into blocks, the others as rows (a task
        leaves the block or row it was in before: a late update moves it)."""
        now = time.time()
        pending = list(self._tasks.values())
        if self._epoch is None:
            ats = [a for a in (r.at for r in pending) if a is not None]
            self._start_epoch(min(ats, default=now))
            self._epoch_unsaved = True
        epoch, intern, packer = self._epoch, self.names.intern, self.packer
        assert epoch is not None
        self._take_from_blocks(pending, epoch)
        self._train(pending)
        live = [r for r in pending if r.state not in task_blocks.BLOCK_STATES]
        done = [r for r in pending if r.state in task_blocks.BLOCK_STATES]
        if live:
            self.db.executemany(
                _TASK_INSERT,
                [
                    task_values.stored_row(r, epoch, intern, now if r.at is None else r.at, packer)
                    for r in live
                ],
            )
        if done:
            self._in(
                "DELETE FROM tasks WHERE {}", "uuid", [task_values.id_bytes(r.uuid) for r in done]
            )
            self._add_to_blocks([(task_blocks.at_ms(r, epoch, now), r) for r in done], epoch)
        self.names.write_pending()

    def _take_from_blocks(self, rows: list[TaskRow], epoch: int) -> None:
        """Tasks of `rows` that are in a block already leave it (they are written anew)."""
        by_key: dict[int, set[str]] = {}
        for r in rows:
            by_key.setdefault(task_blocks.id_key(r.uuid), set()).add(r.uuid)
        found: dict[int, set[str]] = {}  # block -> uuids that may be in it
        for key, block in self._blocks_holding(rows, list(by_key), epoch):
            found.setdefault(block, set()).update(by_key[key])
        tail = self._block_tail
        for block, uuids in found.items():
            if tail is not None and tail[0] == block:
                pairs = tail[1]
            else:
                stored = self.db.execute("SELECT at0, data FROM task_blocks WHERE id = ?", (block,))
                if not stored:
                    continue
                pairs = task_blocks.decode(stored[0][1], int(stored[0][0]), epoch, self.names.text)
            keep = [p for p in pairs if p[1].uuid not in uuids]
            if len(keep) == len(pairs):
                continue  # another task with the same key
            if keep:
                self._save_block(block, keep, epoch, pairs)
            else:
                self.db.execute("DELETE FROM task_blocks WHERE id = ?", (block,))
                self._drop_ids(block, pairs, [])
            if tail is not None and tail[0] == block:
                self._block_tail = (block, keep) if keep else None

    def _blocks_holding(self, rows: list[TaskRow], keys: list[int], epoch: int) -> list[Any]:
        """(key, block) of the blocks that may hold an earlier version of a task of `rows`
        (`keys`: their id_keys). PostgreSQL has no index of them: recent_blocks.py."""
        if self.db.dialect != "postgresql":
            return self._blocks_of(keys)
        found = self._recent.find(keys)
        span = recent_blocks.window(rows, epoch, time.time())
        lo, hi = span if span is not None else (-(2**62), 2**62)
        first = self._recent.first()
        found += self.db.execute(
            recent_blocks.OLDER_SQL, (sorted(keys), lo, hi, 2**62 if first is None else first)
        )
        return found

    def _add_to_blocks(self, pairs: list[tuple[int, TaskRow]], epoch: int) -> None:
        """(at, row) pairs into the tail block while it has room, then into new ones; a
        block spans BLOCK_SPAN at most (so retention drops it in time)."""
        tail = self._block_tail
        span = task_blocks.BLOCK_SPAN_MS
        if (
            tail is not None
            and min(a for a, _ in pairs) - min(a for a, _ in tail[1]) < span
            and self._fills(len(tail[1]), len(pairs), task_blocks.BLOCK_TASKS)
        ):
            pairs = tail[1] + pairs
        else:
            tail = None
        pairs.sort(key=_first)
        start = 0
        size = self._part_size(len(pairs), task_blocks.BLOCK_TASKS, tail is not None)
        while start < len(pairs):
            end = min(start + size, len(pairs))
            while end > start + 1 and pairs[end - 1][0] - pairs[start][0] >= span:
                end -= 1  # rare and short, as for chunks
            part = pairs[start:end]
            if tail is not None:
                block = self._save_block(tail[0], part, epoch, tail[1])
                tail = None
            else:
                block = self._save_block(None, part, epoch, [])
            self._block_tail = (block, part) if len(part) < task_blocks.BLOCK_TASKS else None
            start = end

    def _save_block(
        self,
        block: int | None,
        pairs: list[tuple[int, TaskRow]],
        epoch: int,
        was: list[tuple[int, TaskRow]],
    ) -> int:
        """Write a block anew (None: a new one) holding `pairs`, where it held `was`, and
        what finds its tasks; returns its id."""
        at0, at1, data = task_blocks.encode(pairs, epoch, self.names.intern)
        values: tuple[Any, ...] = (at0, at1, len(pairs), data)
        pg = self.db.dialect == "postgresql"
        keys: list[int] = []
        if pg:  # the keys are the block's own (recent_blocks.py finds them)
            keys = sorted({task_blocks.id_key(r.uuid) for _, r in pairs})
            values += (keys,)
        if block is None:
            rows = self.db.execute(
                f"INSERT INTO task_blocks (at0, at1, n, data{', keys' if pg else ''})"
                f" VALUES (?, ?, ?, ?{', ?' if pg else ''}) RETURNING id",
                values,
            )
            block = int(rows[0][0])
            if pg:
                self._recent.add(block, at1, keys)
        else:
            if pg and self._recent.holds(block):
                self._recent.add(block, at1, keys)
            self.db.execute(
                f"UPDATE task_blocks SET at0 = ?, at1 = ?, n = ?, data = ?"
                f"{', keys = ?' if pg else ''} WHERE id = ?",
                (*values, block),
            )
        if not pg:
            had = {r.uuid for _, r in was}
            keys = list({task_blocks.id_key(r.uuid) for _, r in pairs if r.uuid not in had})
            self.db.executemany(
                "INSERT INTO task_ids (key, block) VALUES (?, ?) ON CONFLICT DO NOTHING",
                [(key, block) for key in keys],
            )
            self._drop_ids(block, was, pairs)
        return block

    def _drop_ids(
        self, block: int, was: list[tuple[int, TaskRow]], now: list[tuple[int, TaskRow]]
    ) -> None:
        """task_ids entries of tasks that left a block (SQLite: PostgreSQL keeps a block's
        keys in its row)."""
        if self.db.dialect == "postgresql" or not was:
            return
        left = {r.uuid for _, r in was} - {r.uuid for _, r in now}
        if left:
            kept = {task_blocks.id_key(r.uuid) for _, r in now}
            gone = {task_blocks.id_key(u) for u in left} - kept
            self._in("DELETE FROM task_ids WHERE block = ? AND {}", "key", [*gone], block)

    def _train(self, rows: Iterable[TaskRow]) -> None:
        """The store's dictionary, made once from the texts of its first rows."""
        if self.packer.zdict is not None:
            return
        texts = [
            (t, r.state in TROUBLE)
            for r in rows
            for t in (r.traceback, r.exception, r.args, r.kwargs, r.result)
            if t
        ]
        if len(texts) < task_values.DICT_SAMPLES:
            return
        zdict = task_values.make_dict(texts[-4 * task_values.DICT_SAMPLES :])
        self._set_meta("zdict", base64.b64encode(zdict).decode())
        self.packer.zdict = zdict
        self._dict_unsaved = True

    def _stored_dict(self) -> bytes | None:
        rows = self.db.execute("SELECT value FROM meta WHERE key = 'zdict'")
        return base64.b64decode(rows[0][0]) if rows else None

    def _forget_unsaved(self) -> None:
        """A flush failed: names, the epoch and the dictionary it made were not written."""
        self.names.rollback()
        if self._dict_unsaved:
            self.packer.forget()
            self._dict_unsaved = False
        if self._epoch_unsaved:
            self._epoch, self._epoch_unsaved = None, False

    def _write_events(self) -> tuple[int, list[float], list[dict[str, Any]]] | None:
        """Pending events as chunks (the tail chunk filled up first); returns the new tail."""
        if not self._events:
            return self._tail
        times, events = self._times, self._events
        tail = self._tail
        tail_id = None
        if (
            tail is not None
            and times[0] - tail[1][0] < CHUNK_SPAN
            and self._fills(len(tail[1]), len(times), CHUNK_EVENTS)
        ):
            tail_id = tail[0]
            times, events = tail[1] + times, tail[2] + events
        if any(b < a for a, b in itertools.pairwise(times)):  # a clock stepped back
            order = sorted(range(len(times)), key=times.__getitem__)
            times = [times[i] for i in order]
            events = [events[i] for i in order]
        new_tail = None
        size = self._part_size(len(events), CHUNK_EVENTS, tail_id is not None)
        start = 0
        while start < len(events):
            end = min(start + size, len(events))
            t0 = times[start]
            while end > start + 1 and times[end - 1] - t0 >= CHUNK_SPAN:
                end -= 1  # bisect would do; this is rare and short
            part_t, part_e = times[start:end], events[start:end]
            codec, data = chunks.encode(part_e)
            values = (part_t[0], part_t[-1], len(part_e), codec, data)
            if tail_id is not None:
                self.db.execute(
                    "UPDATE chunks SET t0 = ?, t1 = ?, n = ?, codec = ?, data = ? WHERE id = ?",
                    (*values, tail_id),
                )
                chunk_id = tail_id
                tail_id = None
            else:
                rows = self.db.execute(
                    "INSERT INTO chunks (t0, t1, n, codec, data) VALUES (?, ?, ?, ?, ?)"
                    " RETURNING id",
                    values,
                )
                chunk_id = int(rows[0][0])
            new_tail = (chunk_id, part_t, part_e) if len(part_e) < CHUNK_EVENTS else None
            start = end
        return new_tail

    def _part_size(self, n: int, most: int, filling: bool) -> int:
        """How many of `n` events (or tasks) go into each new chunk (or block). On
        PostgreSQL, which does not rewrite a tail that has no room (_fills), what a flush
        writes anew is cut in equal parts of up to twice `most`: 5,000 events make one
        chunk, not 4,096 and a small one that packs ~25% worse."""
        if filling or self.db.dialect != "postgresql" or n <= most:
            return most
        parts = -(-n // (2 * most))
        return -(-n // parts)

    def _fills(self, tail: int, new: int, most: int) -> bool:
        """Whether `new` items go on in the tail chunk or block holding `tail`. On PostgreSQL
        only when they all fit: a rewritten row leaves its old version behind until a vacuum,
        so a big flush starts a new one rather than rewrite the tail and more."""
        return self.db.dialect != "postgresql" or tail + new <= most

    def renew_lease(self) -> None:
        """Say this writer is alive when there was nothing to flush for a while."""
        self._writable()
        with self._lock:
            try:
                self.db.begin()
                assert self._lease is not None
                lease.renew(self.db, self._lease)
                self.db.commit()
            except JournalLeaseError:
                self._rollback_quietly()
                raise
            except self.db.errors as exc:
                self._rollback_quietly()
                self._reconnect_quietly()
                raise JournalWriteError(
                    f"journal {self.display}: write failed: {one_line(exc)}"
                ) from None
            self._last_renew = time.monotonic()

    def prune(self, now: float | None = None) -> dict[str, int]:
        """Drop what is past the retention, then the oldest until under max_size, in short
        transactions (a writer goes on between them). Returns what was deleted, by table."""
        self._writable()
        now = time.time() if now is None else now
        deleted = dict.fromkeys(("chunks", "tasks", "alerts", "checkpoints"), 0)
        self._prune_before(now - self.retention, deleted)
        for _ in range(int(1 / PRUNE_STEP)):
            with self._lock:
                if self.db.live_bytes() <= self.max_size:
                    break
                span = self.time_range()
                if span is None:
                    break
                cut = span[0] + max((span[1] - span[0]) * PRUNE_STEP, 1.0)
            self._prune_before(cut, deleted)
        if any(deleted.values()):
            with self._lock, contextlib.suppress(*self.db.errors):  # the space is reused
                self.db.after_prune()
        return deleted

    def _prune_before(self, cut: float, deleted: dict[str, int]) -> None:
        with self._lock:
            db = self.db
            try:
                db.begin()
                deleted["chunks"] += len(
                    db.execute("DELETE FROM chunks WHERE t1 < ? RETURNING id", (cut,))
                )
                if self._epoch is not None:
                    cut_ms = task_values.ms(cut, self._epoch)
                    for part in (TROUBLE_SQL, LIVE_SQL):  # each by its partial index
                        deleted["tasks"] += len(
                            db.execute(
                                f"DELETE FROM tasks WHERE at < ? AND {part} RETURNING at",
                                (cut_ms,),
                            )
                        )
                    deleted["tasks"] += self._prune_blocks(cut_ms, self._epoch)
                deleted["alerts"] += len(
                    db.execute(
                        "DELETE FROM alerts WHERE COALESCE(cleared_at, raised_at) < ?"
                        " RETURNING rule",
                        (cut,),
                    )
                )
                # keep the newest full checkpoint before the cut (and the deltas after it):
                # events after them replay from there
                keep = db.execute(
                    "SELECT MAX(at) FROM checkpoints WHERE at < ? AND substr(data, 1, 4) <> ?",
                    (cut, DELTA_MAGIC),
                )
                if keep and keep[0][0] is not None:
                    rows = db.execute(
                        "DELETE FROM checkpoints WHERE at < ? RETURNING at", (keep[0][0],)
                    )
                    deleted["checkpoints"] += len(rows)
                db.commit()
            except db.errors as exc:
                self._rollback_quietly()
                self._reconnect_quietly()
                raise JournalWriteError(
                    f"journal {self.display}: prune failed: {one_line(exc)}"
                ) from None
            if self._tail is not None and self._tail[1][-1] < cut:
                self._tail = None
            block_tail = self._block_tail
            if (
                block_tail is not None
                and self._epoch is not None
                and max(a for a, _ in block_tail[1]) < task_values.ms(cut, self._epoch)
            ):
                self._block_tail = None

    def _prune_blocks(self, cut_ms: int, epoch: int) -> int:
        """Blocks whose tasks are all older than the cut, and their task_ids; returns the
        tasks they held."""
        db = self.db
        gone = 0
        while True:
            found = db.execute(
                "SELECT id, at0, data FROM task_blocks WHERE at1 < ? ORDER BY at1 LIMIT 64",
                (cut_ms,),
            )
            if not found:
                return gone
            for block, at0, data in found:
                pairs = task_blocks.decode(data, int(at0), epoch, self.names.text)
                self._drop_ids(int(block), pairs, [])
                gone += len(pairs)
            db.executemany("DELETE FROM task_blocks WHERE id = ?", [(r[0],) for r in found])

    def _reconnect_quietly(self) -> None:
        with contextlib.suppress(JournalError):  # still down: the next flush tries again
            self.db.reconnect()

    def _writable(self) -> None:
        if not self.write:
            raise JournalError(f"journal {self.display} is open read-only")

    def size_bytes(self) -> int:
        with self._lock:
            return self.db.size_bytes()

    def close(self) -> None:
        """Flush what is buffered (when writing), give the lease back, close."""
        with self._lock:
            try:
                if self.write:
                    try:
                        self.flush()
                    finally:
                        self.db.begin()
                        assert self._lease is not None
                        lease.release(self.db, self._lease)
                        self.db.commit()
            except JournalError:
                self._rollback_quietly()
            except self.db.errors:
                self._rollback_quietly()
            finally:
                self.db.close()
