"""A ClusterState as bytes and back: the journal's checkpoints, so a replay reaches any
moment from the newest checkpoint before it instead of from the first event.

Never pickle: a shared store (PostgreSQL) must not be a way to run code in every reader. What
a snapshot holds: the tasks in memory (every field, in insertion order), workers, checks, the
failure list, per-name runtimes, the per-second rings, the lost tasks' entries and the counts.
What is derived (counts by state and name, chain members, orphan links) is rebuilt on load.
The exporter's cumulative series are not kept (replay serves no /metrics).

Format 4 (written now): a JSON head (all but the tasks), then the task columns packed so
that they decode with C-level work (core/snapshot_columns.py), one zlib stream. Loading is
what a seek waits for. Two kinds:

- a full snapshot (``CTS\\x04``): every task in memory;
- a delta (``CTD\\x04``): only the tasks changed since the checkpoint taken at ``base`` (its
  predecessor in the journal, full or delta), the runtimes, failures and http histories as
  changes since it (``since_base``, core/snapshot_head_changes.py), the rest of the state
  in full. A chain (a full snapshot, then deltas, each on the one before) loads as the
  state at its last (``load_chain``): tasks only leave a state by eviction, oldest (lowest
  ``seq``) first, so the tasks of the chain's newest versions, cut to the last's count,
  are the state's; the head's changes are applied piece by piece.

What format 4 adds to format 3's columns: canonical uuids as 16 bytes
(core/snapshot_uuids.py), ``state_ts`` and the timeline times as a code where they are the
same float as an event-time field of their row (core/snapshot_refs.py). On a 500k-event
journal of the real policy: checkpoints 39.3 -> 27.2 B/event (benchmarks/replay.py).

Format 3 (``CTS\\x03``/``CTD\\x03``: no head changes, none of those columns) and formats 1
and 2 (core/snapshot_legacy.py) still load, and a chain may mix 3 and 4 (a format-3 delta's
head parts are in full). A recorder starts with a full snapshot anyway (CheckpointPlan has
no base then), so a new recorder never writes a delta on an older one's checkpoint. An
older celerytui does not read format 4: its load raises (zlib.error), and a seek of its
replay on a shared journal ends that replay, saying why (core/journal_source.py).

`capture(state)` copies what is needed (fast, on the consumer thread that owns the state);
`encode(captured)` compresses it on any thread; `dump = encode(capture(...))`.
"""

from __future__ import annotations

import gc
import json
import queue
import struct
import threading
import weakref
import zlib
from bisect import bisect_left
from collections import Counter, deque
from collections.abc import Generator, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import fields
from itertools import chain, compress, repeat
from operator import attrgetter, is_not, ne, sub
from typing import Any

from celerytui.core.model import NO_CHILDREN, DiskCheck, HttpCheck, Task, Worker, flat_timeline
from celerytui.core.snapshot_columns import decode_rows, encode_column, take
from celerytui.core.snapshot_head_changes import apply_changes, base_parts, head_changes
from celerytui.core.snapshot_lazy import PRESET_AT, LazyRows, reader
from celerytui.core.snapshot_legacy import MAGIC_2, columns_format_2, head_of, rows_format_1
from celerytui.core.snapshot_refs import TIMES, encode_refs, encode_timelines, float_columns
from celerytui.core.snapshot_uuids import encode_uuids
from celerytui.core.state import ClusterState
from celerytui.core.state_lost import LostEntry
from celerytui.core.task_stats import SecondRing

FORMAT = 4  # what dump writes
FORMATS = (1, 2, 3, 4)  # what load reads
MAGIC = b"CTS\x04"  # a full snapshot; format 1 is a bare zlib stream (it starts with 0x78)
DELTA_MAGIC = b"CTD\x04"  # a delta on the checkpoint before it
MAGIC_3, DELTA_MAGIC_3 = b"CTS\x03", b"CTD\x03"  # format 3 (no head changes, no "r"/"T")
_PACKED = (MAGIC, DELTA_MAGIC, MAGIC_3, DELTA_MAGIC_3)  # a JSON head and packed columns
_DELTAS = (DELTA_MAGIC, DELTA_MAGIC_3)
LEVEL = 6  # zlib
_HEAD = struct.Struct("<I")
_TASK = tuple(f.name for f in fields(Task))
_WORKER = tuple(f.name for f in fields(Worker))
_HTTP = tuple(f.name for f in fields(HttpCheck))
_DISK = tuple(f.name for f in fields(DiskCheck))
_LOST = tuple(f.name for f in fields(LostEntry))
_SEQ = attrgetter("seq")
_TIMELINE = _TASK.index("timeline")
_SEQ_AT = _TASK.index("seq")
_STATE_AT, _NAME_AT = _TASK.index("state"), _TASK.index("name")
_ROOT_AT, _PARENT_AT = _TASK.index("root_id"), _TASK.index("parent_id")
_CHILDREN_AT = _TASK.index("children")
_HISTORY_AT = _HTTP.index("history")
SUBSET_SHARE = 2 / 3  # a piece of a chain keeping fewer of its rows decodes only those
# restored states whose tasks are not all made yet (fill_some)
_LAZY: weakref.WeakKeyDictionary[ClusterState, LazyRows] = weakref.WeakKeyDictionary()


def capture(
    state: ClusterState,
    only: Iterable[str] | None = None,
    base: float | None = None,
    previous: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A detached copy of what a snapshot holds (lists of values, no live objects): every
    task, or (a delta on the checkpoint taken at ``base``) the tasks ``only`` names that the
    state still holds; ``previous`` (``parts`` of the capture at ``base``): the delta holds
    the runtimes, failures and http histories as changes since it (snapshot_head_changes).

    The cyclic GC is held off meanwhile: the copy makes a few objects per task that all
    survive, and a collection in the middle would only scan them (it doubles the time)."""
    with _gc_off():
        captured = _capture(state, only, base)
        if base is not None and previous is not None:
            captured["previous"] = previous
        return captured


def parts(captured: dict[str, Any]) -> dict[str, Any]:
    """What a delta on ``captured`` writes its head's changes against (capture's
    ``previous``): references to its lists, no copy."""
    return base_parts(captured, _HISTORY_AT)


@contextmanager
def _gc_off() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _capture(state: ClusterState, only: Iterable[str] | None, base: float | None) -> dict[str, Any]:
    fields_of = attrgetter(*_TASK)  # one C call a task: this runs on the consumer thread
    children = _TASK.index("children")  # the timeline is a tuple: the consumer replaces it
    kept: Iterable[Task] = state.tasks.values()
    if only is not None:  # in the state's order (by seq: tasks are inserted by it)
        held = state.tasks
        kept = sorted((t for u in only if (t := held.get(u)) is not None), key=_SEQ)
    tasks = []
    for task in kept:
        row = list(fields_of(task))
        row[children] = row[children][:]  # the consumer goes on changing this list
        tasks.append(row)
    ring = state._ring
    return {
        "format": FORMAT,
        "base": base,
        "kept": len(state.tasks),
        "max_tasks": state.max_tasks,
        "tasks": tasks,
        "workers": [[getattr(w, n) for n in _WORKER] for w in state.workers.values()],
        "http": [
            [list(c.history) if n == "history" else getattr(c, n) for n in _HTTP]
            for c in state.http_checks.values()
        ],
        "disk": [[getattr(c, n) for n in _DISK] for c in state.disk_checks.values()],
        "failures": list(state._failures),
        "runtimes": {name: list(s.runtimes) for name, s in state._stats.items()},
        "ring": [list(ring.seconds), [list(r) for r in ring.counts], ring.newest],
        "worker_rings": {
            host: [list(r.seconds), [list(c) for c in r.counts], r.newest]
            for host, r in state._worker_rings.items()
        },
        "lost": [[u, *(getattr(e, n) for n in _LOST)] for u, e in state.lost.entries.items()],
        "lost_declared": state.lost.declared,
        "seq": state._seq,
        "events_applied": state.events_applied,
        "malformed": state.malformed,
    }


def encode(captured: dict[str, Any]) -> bytes:
    """The capture as format 3: a JSON head (all but the task columns' packed data), the
    packed columns, one zlib stream. The work is per column (C-level packing, zlib lets go
    of the GIL), so the UI is never held up for long while the recorder encodes."""
    with _gc_off():
        return _encode(captured)


def _encode(captured: dict[str, Any]) -> bytes:
    tasks = captured["tasks"]
    head = {key: value for key, value in captured.items() if key not in ("tasks", "previous")}
    head["format"] = FORMAT
    previous = captured.get("previous")
    if previous is not None and captured.get("base") is not None:
        head["since_base"] = head_changes(head, previous, _HISTORY_AT)
        head["runtimes"], head["failures"] = {}, []
        head["http"] = [[*row[:_HISTORY_AT], [], *row[_HISTORY_AT + 1 :]] for row in head["http"]]
    head["fields"] = list(_TASK)
    head["count"] = len(tasks)
    blobs: list[bytes] = []
    columns = []
    by_field = zip(*tasks, strict=True) if tasks else [()] * len(_TASK)
    by_name = dict(zip(_TASK, map(list, by_field), strict=True))
    uuids = {uuid: i for i, uuid in enumerate(by_name["uuid"])}
    times = float_columns({name: by_name[name] for name in TIMES})
    for name, values in by_name.items():
        column = None
        if name == "uuid":
            column = encode_uuids(values, blobs)
        elif name == "state_ts":
            column = encode_refs(values, times, _TASK, blobs)
        elif name == "timeline":
            column = encode_timelines(values, times, blobs)
        columns.append(column or encode_column(name, values, blobs, uuids))
    head["columns"] = columns
    text = json.dumps(head, separators=(",", ":"), default=repr).encode()
    body = b"".join([_HEAD.pack(len(text)), text, *blobs])
    magic = MAGIC if captured.get("base") is None else DELTA_MAGIC
    return magic + zlib.compress(body, LEVEL)


def dump(state: ClusterState) -> bytes:
    """The state as bytes (see the module docstring)."""
    return encode(capture(state))


def is_delta(data: bytes) -> bool:
    """Whether a checkpoint's bytes are a delta (it needs the checkpoints before it)."""
    return data[: len(DELTA_MAGIC)] in _DELTAS


def load(data: bytes, max_tasks: int | None = None) -> ClusterState:
    """A ClusterState as it was when dumped, keeping at most `max_tasks` (the newest); a
    full snapshot of any format."""
    if is_delta(data):
        raise ValueError("a delta state snapshot needs the checkpoints before it")
    return load_chain([(0.0, data)], max_tasks)[1]


def load_chain(
    checkpoints: Sequence[tuple[float, bytes]], max_tasks: int | None = None
) -> tuple[float, ClusterState]:
    """(time, state) of the newest checkpoint of ``checkpoints`` (``(at, bytes)``, oldest
    first, the first a full snapshot) reachable from the first: each delta on the one
    before it (its ``base``); the chain stops at a gap (a checkpoint lost or pruned)."""
    with _gc_off():  # as in capture: many objects, all kept
        if not checkpoints or is_delta(checkpoints[0][1]):
            raise ValueError("a chain of state snapshots starts with a full one")
        raws = _inflated([data for _, data in checkpoints])
        try:
            pieces = [_decode(checkpoints[0][1], next(raws))]
            newest = _NewestRows(pieces[0][1])  # each piece merged as soon as it is inflated
            at = checkpoints[0][0]
            for later, data in checkpoints[1:]:
                head, columns = _decode(data, next(raws))
                if not is_delta(data) or head.get("base") != at:
                    break
                pieces.append((head, columns))
                newest.add(columns)
                at = later
        finally:
            raws.close()  # (a chain cut short: the deltas after the gap are not waited for)
        return at, _restore(pieces, max_tasks, newest)


def _inflated(snapshots: list[bytes]) -> Generator[bytes | None, None, None]:
    """Each format-3 snapshot decompressed (None for another format), in order: the first
    (the full one, most of the bytes) on this thread, the others meanwhile on a thread of
    their own, in order (zlib lets go of the GIL), each given out once it is ready: the
    caller decodes and merges the full one while the deltas inflate (a chain's deltas hold
    as many rows as the full one: inflating them all first was ~200 ms of a long chain)."""

    if len(snapshots) < 2:
        yield from map(_inflate, snapshots)
        return
    ready: queue.SimpleQueue[tuple[bytes | None, BaseException | None]] = queue.SimpleQueue()
    stop = threading.Event()
    helper = threading.Thread(target=_inflate_all, args=(snapshots[1:], ready, stop), daemon=True)
    helper.start()
    try:
        yield _inflate(snapshots[0])
        for _ in snapshots[1:]:
            raw, error = ready.get()
            if error is not None:
                raise error
            yield raw
    finally:
        stop.set()
        helper.join()


def _inflate(data: bytes) -> bytes | None:
    if data[: len(MAGIC)] not in _PACKED:
        return None
    return zlib.decompress(memoryview(data)[len(MAGIC) :])  # no copy


def _inflate_all(
    snapshots: list[bytes],
    into: queue.SimpleQueue[tuple[bytes | None, BaseException | None]],
    stop: threading.Event,
) -> None:
    """``_inflate`` each of ``snapshots`` into ``into``, in order, until ``stop``; an error
    goes there too (raised again on the caller's thread)."""
    for data in snapshots:
        if stop.is_set():
            return
        try:
            into.put((_inflate(data), None))
        except BaseException as exc:
            into.put((None, exc))
            return


def _decode(data: bytes, raw: bytes | None = None) -> tuple[dict[str, Any], _Columns]:
    """(head, task columns) of one snapshot, of any format (``raw``: a format-3 one's
    bytes decompressed already)."""
    magic = data[: len(MAGIC)]
    if magic in _PACKED:
        if raw is None:
            raw = zlib.decompress(memoryview(data)[len(MAGIC) :])  # no copy
        return _columns_packed(raw, magic[-1])
    if magic == MAGIC_2:
        head, columns = columns_format_2(zlib.decompress(data[len(MAGIC_2) :]), _TASK)
    else:
        head, columns = rows_format_1(zlib.decompress(data), _TASK)
    return head, _Columns(head, len(columns[0]), values=columns)


def _columns_packed(raw: bytes, version: int) -> tuple[dict[str, Any], _Columns]:
    """A format-3 or -4 body (``version``: its magic's)."""
    head, blobs = head_of(raw)
    if head.get("format") != version:
        raise ValueError("not a celerytui state snapshot of a known format")
    if head.get("fields") != list(_TASK) or len(head.get("columns", ())) != len(_TASK):
        raise ValueError("a state snapshot of another Task layout")
    return head, _Columns(head, int(head["count"]), specs=head["columns"], blobs=blobs)


class _Columns:
    """The task columns of one snapshot: format 3 decoded when asked, whole or only some
    rows (snapshot_columns.decode_rows); older formats as they were decoded."""

    def __init__(
        self,
        head: dict[str, Any],
        count: int,
        *,
        specs: list[list[Any]] | None = None,
        blobs: memoryview | None = None,
        values: list[list[Any]] | None = None,
    ) -> None:
        self.count = count
        self._specs = specs or []
        self._parts: list[list[memoryview]] = []
        for spec in self._specs:  # [kind, extra, blob sizes...]
            parts = []
            for size in spec[2:]:
                parts.append(blobs[:size])  # type: ignore[index]
                blobs = blobs[size:]  # type: ignore[index]
            self._parts.append(parts)
        # JSON keeps a timeline as (time, kind) pairs, lists of lists
        self._json_timeline = "columns" not in head or head["columns"][_TIMELINE][0] == "j"
        self._values: list[Any] = [None] * len(_TASK)
        if values is not None:
            self._values = [self._timeline(f, v) for f, v in enumerate(values)]

    def packed(self, field: int) -> tuple[list[Any], list[memoryview]] | None:
        """A format-3 field not decoded yet: its spec and blobs; else None."""
        if self._values[field] is not None or not self._specs:
            return None
        return self._specs[field], self._parts[field]

    def __getitem__(self, field: int) -> Any:
        """Every value of a field (decoded once)."""
        values = self._values[field]
        if values is None:
            values = self._values[field] = self._decode(field, None)
        return values

    def rows(self, field: int, rows: list[int]) -> Any:
        """The values of a field at ``rows`` (ascending)."""
        values = self._values[field]
        if values is None:
            return self._decode(field, rows)
        return values if len(rows) == self.count else take(values, rows)

    def _decode(self, field: int, rows: list[int] | None) -> Any:
        uuids = self[0] if field else []  # the id columns refer to it
        spec = self._specs[field]
        if spec[0] in ("r", "T"):  # format 4's, read against other columns
            return reader(self, field)(range(self.count))
        return self._timeline(field, decode_rows(spec, self._parts[field], self.count, uuids, rows))

    def _timeline(self, field: int, values: Any) -> Any:
        if field == _TIMELINE and self._json_timeline:
            return list(map(flat_timeline, values))
        return values


class _NewestRows:
    """uuid -> the row of its newest version in the pieces of a chain (end to end), in the
    state's order, merged a piece at a time (``add``, the first given to the constructor).
    Only the uuids and seqs of every row are decoded for it."""

    def __init__(self, first: _Columns) -> None:
        self.rows: dict[str, int] = {}
        self.seqs: list[Any] = []
        self.add(first)

    def add(self, columns: _Columns) -> None:
        rows, seqs = self.rows, self.seqs
        uuids, first, seq_column = columns[0], len(seqs), columns[_SEQ_AT]
        if rows:  # a task evicted and seen again since: a new seq, at the end
            seq_of = dict(zip(uuids, seq_column, strict=True))
            for uuid in seq_of.keys() & rows.keys():
                if seqs[rows[uuid]] != seq_of[uuid]:
                    del rows[uuid]
        rows.update(zip(uuids, range(first, first + len(uuids)), strict=True))
        seqs += seq_column


def _restore(
    pieces: list[tuple[dict[str, Any], _Columns]], max_tasks: int | None, newest: _NewestRows
) -> Any:
    """The state of the last piece: tasks merged (newest version of each), cut to its count
    and to ``max_tasks``, derived parts rebuilt; the rest from the last head.

    Only the uuids and seqs of every row are decoded; the PRESET fields only for the rows
    that end up in the state (a chain holds many versions of a task: up to twice as many
    rows as tasks kept), and the others when first used: the tasks are LazyTasks
    (core/snapshot_lazy.py), made plain Tasks field by field as the state is read, or
    by ``fill_some``."""
    last = pieces[-1][0]
    state = ClusterState(max_tasks=max_tasks or int(last["max_tasks"]))
    keep = min(int(last.get("kept", pieces[0][1].count)), state.max_tasks)
    rows = newest.rows  # uuid -> its newest row (in the pieces end to end), in order
    kept = list(rows.values())[max(0, len(rows) - keep) :]  # the newest
    pieces_columns = [columns for _, columns in pieces]
    picked = _picked(pieces_columns, kept, PRESET_AT)  # the other fields: when first used
    uuids = picked[0]
    children = picked[_CHILDREN_AT] = list(picked[_CHILDREN_AT])
    with_children = list(compress(range(len(children)), children))
    held = set(uuids) if with_children else set()
    for i in with_children:  # only the children kept; none: ClusterState's shared list
        children[i] = [c for c in children[i] if c in held] or NO_CHILDREN
    for i in compress(range(len(children)), map(is_not, children, repeat(NO_CHILDREN))):
        if not children[i]:
            children[i] = NO_CHILDREN  # an empty list of an older format
    lazy = LazyRows(pieces_columns, rows)
    tasks = lazy.make([picked[at] for at in PRESET_AT])
    _restore_tasks(state, dict(zip(uuids, tasks, strict=True)), picked)
    _restore_rest(state, _with_changes([head for head, _ in pieces]))
    _LAZY[state] = lazy
    return state


def _with_changes(heads: list[dict[str, Any]]) -> dict[str, Any]:
    """The last of a chain's heads, its runtimes, failures and http histories rebuilt
    piece by piece when a format-4 delta holds them as changes (snapshot_head_changes)."""
    last = heads[-1]
    if "since_base" not in last:
        return last
    held = base_parts(heads[0], _HISTORY_AT)
    for head in heads[1:]:
        changes = head.get("since_base")
        if changes is None:  # a delta of format 3: the parts in full
            held = base_parts(head, _HISTORY_AT)
        else:
            apply_changes(held, changes, head)
    http = held["http"]
    rows = [[*row[:_HISTORY_AT], http[row[0]], *row[_HISTORY_AT + 1 :]] for row in last["http"]]
    return {**last, "runtimes": held["runtimes"], "failures": held["failures"], "http": rows}


def fill_some(state: ClusterState, most: int) -> bool:
    """Make up to ``most`` more of the tasks a restore left lazy (core/snapshot_lazy.py)
    plain Tasks; False once none is left (or there never was one)."""
    lazy = _LAZY.get(state)
    if lazy is None:
        return False
    if not lazy.fill_some(state.tasks, most):  # (the rows go with the last lazy task)
        del _LAZY[state]
        return False
    return True


def _picked(
    pieces: list[_Columns], kept: list[int], only: Sequence[int] = range(len(_TASK))
) -> list[Any]:
    """Each task field at the rows ``kept`` (indexes into the pieces' rows end to end, in
    the state's order), then one C-level pick (itemgetter) puts them in that order. A piece
    that keeps under SUBSET_SHARE of its rows decodes those only (a pick more for each of
    them, but no object for the rest); another decodes them all."""
    ordered = sorted(kept)
    spans: list[list[int] | None] = []  # per piece: its kept rows, ascending; None: all
    where: dict[int, int] = {}  # row (pieces end to end) -> its place in the decoded ones
    first = start = 0
    rows: Sequence[int]
    for columns in pieces:
        end = bisect_left(ordered, first + columns.count, start)
        if end - start >= SUBSET_SHARE * columns.count:
            spans.append(None)
            rows = range(first, first + columns.count)
        else:
            rows = ordered[start:end]
            spans.append(list(map(sub, rows, repeat(first))))
        where.update(zip(rows, range(len(where), len(where) + len(rows)), strict=True))
        first, start = first + columns.count, end
    order: list[int] | None = list(map(where.__getitem__, kept))
    if len(kept) == len(where) and order == list(range(len(kept))):
        order = None  # the decoded rows as they are (a full snapshot alone)
    fields: list[Any] = [None] * len(_TASK)
    for field in only:
        parts = [
            c[field] if span is None else c.rows(field, span)
            for c, span in zip(pieces, spans, strict=True)
            if span is None or span
        ]
        values = parts[0] if len(parts) == 1 else list(chain.from_iterable(parts))
        fields[field] = values if order is None else take(values, order)
    return fields


def _restore_tasks(state: ClusterState, into: dict[str, Task], columns: list[Any]) -> None:
    """Insert ``into`` (oldest first; ``columns``: their PRESET fields, children already
    cut to the tasks kept) and rebuild what is derived from the tasks, looping in Python
    only over the tasks it concerns (``compress``)."""
    if state.tasks:
        state.tasks.update(into)
    else:  # a new state (load): the dict itself, not a copy of its 100k entries
        state.tasks = into
    state._order.extend(into)
    uuids, states, names = columns[0], columns[_STATE_AT], columns[_NAME_AT]
    by_state = state._by_state
    for name, n in Counter(states).items():
        by_state[name] = by_state.get(name, 0) + n
    for (name, task_state), n in Counter(zip(names, states, strict=True)).items():
        if name is not None:
            counts = state._stats_for(name).counts
            counts[task_state] = counts.get(task_state, 0) + n
    members, orphans = state._chain_members, state._orphans
    roots = columns[_ROOT_AT]
    for root, uuid in compress(zip(roots, uuids, strict=True), map(ne, roots, uuids)):
        if root is not None:
            members.setdefault(root, deque()).append(uuid)
    parents = columns[_PARENT_AT]
    for parent, uuid in compress(zip(parents, uuids, strict=True), parents):
        if parent not in into:
            orphans.setdefault(parent, {})[uuid] = None


def _restore_rest(state: ClusterState, snap: dict[str, Any]) -> None:
    """Workers, checks, failures, runtimes, rings, lost entries and counts."""
    for row in snap["workers"]:
        if len(row) > len(_WORKER):
            raise ValueError("a worker row with fields this version does not know")
        # a checkpoint from before a field was added (clock_samples) has a shorter row
        worker = Worker(**dict(zip(_WORKER, row, strict=False)))
        if worker.loadavg is not None:
            worker.loadavg = tuple(worker.loadavg)
        worker.clock_samples = tuple(worker.clock_samples)
        state.workers[worker.hostname] = worker
    for row in snap["http"]:
        check = HttpCheck(**dict(zip(_HTTP, row, strict=True)))
        check.history = deque((tuple(h) for h in check.history), maxlen=60)
        state.http_checks[check.url] = check
    for row in snap["disk"]:
        disk = DiskCheck(**dict(zip(_DISK, row, strict=True)))
        state.disk_checks[disk.host] = disk
    for uuid in snap["failures"]:
        state._remember_failure(uuid)
    for name, runtimes in snap["runtimes"].items():
        stats = state._stats_for(name)
        for runtime in runtimes:
            stats.add_runtime(runtime)
    _fill_ring(state._ring, snap["ring"])
    for host, ring in snap["worker_rings"].items():
        state._worker_rings[host] = _fill_ring(SecondRing(len(ring[1]), len(ring[0])), ring)
    for uuid, *entry in snap.get("lost", ()):  # format 3
        state.lost.entries[uuid] = LostEntry(*entry)
    state.lost.declared = int(snap.get("lost_declared", 0))
    state._seq = int(snap["seq"])
    state.events_applied = int(snap["events_applied"])
    state.malformed = int(snap["malformed"])


def _fill_ring(ring: SecondRing, saved: list[Any]) -> SecondRing:
    seconds, counts, newest = saved
    if len(seconds) == ring.size and len(counts) == len(ring.counts):
        ring.seconds = list(seconds)
        ring.counts = [list(row) for row in counts]
        ring.newest = newest
    return ring
