"""A ClusterState as bytes and back: the journal's checkpoints, so a replay reaches any
moment from the newest checkpoint before it instead of from the first event.

Never pickle: a shared store (PostgreSQL) must not be a way to run code in every reader. What
a snapshot holds: the tasks in memory (every field, in insertion order), workers, checks, the
failure list, per-name runtimes, the per-second rings and the counts. What is derived (counts
by state and name, chain members, orphan links) is rebuilt on load. The exporter's cumulative
series are not kept (replay serves no /metrics).

Format 2 (written now) keeps the tasks column by column, because loading is what a seek
waits for: floats as packed doubles, strings as indexes into one table per column (a task
name or hostname is written once), ints packed, the timeline flattened; a column that does
not fit its kind is kept as JSON. Then one zlib stream. It loads several times faster than
format 1 (one JSON document of per-task rows, zlib), which still loads.

`capture(state)` copies what is needed (fast, on the consumer thread that owns the state);
`encode(captured)` compresses it on any thread; `dump = encode(capture(...))`.
"""

from __future__ import annotations

import gc
import json
import struct
import zlib
from array import array
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import fields
from itertools import accumulate, chain, pairwise
from operator import attrgetter
from typing import Any

import orjson

from celerytui.core.model import NO_CHILDREN, DiskCheck, HttpCheck, Task, Worker
from celerytui.core.state import ClusterState
from celerytui.core.task_stats import SecondRing

FORMAT = 2  # what dump writes
FORMATS = (1, 2)  # what load reads
MAGIC = b"CTS\x02"  # format 2; format 1 is a bare zlib stream (it starts with 0x78)
LEVEL = 6  # zlib
_HEAD = struct.Struct("<I")
_TASK = tuple(f.name for f in fields(Task))
_WORKER = tuple(f.name for f in fields(Worker))
_HTTP = tuple(f.name for f in fields(HttpCheck))
_DISK = tuple(f.name for f in fields(DiskCheck))
_I64_MIN, _I64_MAX = -(2**63), 2**63 - 1
_NONE = type(None)
_MASK = 2**64 - 1
_IDS = ("root_id", "parent_id")  # mostly the uuid of another task in the snapshot
_SEP = "\x00"  # between the strings of a column's table (a column holding it: JSON)


def capture(state: ClusterState) -> dict[str, Any]:
    """A detached copy of what a snapshot holds (lists of values, no live objects).

    The cyclic GC is held off meanwhile: the copy makes a few objects per task that all
    survive, and a collection in the middle would only scan them (it doubles the time)."""
    with _gc_off():
        return _capture(state)


@contextmanager
def _gc_off() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _capture(state: ClusterState) -> dict[str, Any]:
    fields_of = attrgetter(*_TASK)  # one C call a task: this runs on the consumer thread
    children = _TASK.index("children")  # the timeline is a tuple: the consumer replaces it
    tasks = []
    for task in state.tasks.values():
        row = list(fields_of(task))
        row[children] = row[children][:]  # the consumer goes on changing this list
        tasks.append(row)
    ring = state._ring
    return {
        "format": FORMAT,
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
        "seq": state._seq,
        "events_applied": state.events_applied,
        "malformed": state.malformed,
    }


def encode(captured: dict[str, Any]) -> bytes:
    """The capture as format 2: a JSON head (all but the task columns' packed data), the
    packed columns, one zlib stream. The work is per column (C-level packing, zlib lets go
    of the GIL), so the UI is never held up for long while the recorder encodes."""
    with _gc_off():
        return _encode(captured)


def _encode(captured: dict[str, Any]) -> bytes:
    tasks = captured["tasks"]
    head = {key: value for key, value in captured.items() if key != "tasks"}
    head["format"] = FORMAT
    head["fields"] = list(_TASK)
    head["count"] = len(tasks)
    blobs: list[bytes] = []
    columns = []
    by_field = zip(*tasks, strict=True) if tasks else [()] * len(_TASK)
    uuids: dict[Any, int] = {}
    for name, values in zip(_TASK, by_field, strict=True):
        if name == "uuid":
            uuids = {uuid: i for i, uuid in enumerate(values)}
        columns.append(_encode_column(name, list(values), blobs, uuids))
    head["columns"] = columns
    text = json.dumps(head, separators=(",", ":"), default=repr).encode()
    body = b"".join([_HEAD.pack(len(text)), text, *blobs])
    return MAGIC + zlib.compress(body, LEVEL)


def _encode_column(
    name: str, values: list[Any], blobs: list[bytes], uuids: dict[Any, int]
) -> list[Any]:
    """[kind, extra, blob sizes...] for one task field; its packed data goes to ``blobs``."""
    packed: list[bytes] | None = None
    extra: Any = None
    kinds = {v.__class__ for v in values}
    if name == "timeline" and kinds <= {list, tuple}:
        kind = "t"
        flat = list(chain.from_iterable(values))
        if all(p.__class__ is tuple and len(p) == 2 for p in flat):
            times, what = zip(*flat, strict=True) if flat else ((), ())
            if {t.__class__ for t in times} <= {float}:
                extra, indexes = _string_table(what)
                if extra is not None:
                    packed = [array("I", map(len, values)).tobytes(), _deltas(times), indexes]
    elif kinds <= {float, _NONE}:
        kind = "f"
        filled = [0.0 if v is None else v for v in values]
        packed = [bytes(v is None for v in values), _deltas(filled)]
    elif kinds <= {str, _NONE} and name in _IDS and uuids:
        kind = "u"  # mostly another task's uuid: its position (+1), else its own table
        table: dict[str, int] = {}
        codes = [
            0 if v is None else uuids.get(v, -1) + 1 or -table.setdefault(v, len(table) + 1)
            for v in values
        ]
        extra = len(table)
        packed = _strings(list(table))
        if packed is not None:
            packed = [array("i", codes).tobytes(), *packed]
    elif kinds <= {str, _NONE}:
        kind = "s"
        strings, indexes = _string_table(values)
        extra = None if strings is None else len(strings)
        packed = None if strings is None else _strings(strings[1:])  # strings[0] is None
        if packed is not None:
            packed = [indexes, *packed]
    elif kinds == {bool}:
        kind, packed = "b", [bytes(values)]
    elif kinds == {int} and min(values) >= _I64_MIN and max(values) <= _I64_MAX:
        kind, packed = "i", [_deltas(values, "q")]
    if packed is None:
        return ["j", values]  # anything else (children, result_full, odd values), as JSON
    blobs.extend(packed)
    return [kind, extra, *map(len, packed)]


def _deltas(values: Any, code: str = "d") -> bytes:
    """Numbers as the deltas of their 64-bit patterns (mod 2**64): close timestamps give
    small deltas, which zlib packs well; exact, whatever the values."""
    bits = array("Q", array(code, values).tobytes())
    return array("Q", [(b - a) & _MASK for a, b in pairwise(chain((0,), bits))]).tobytes()


def _undeltas(data: memoryview, code: str = "d") -> list[Any]:
    bits = array("Q", [b & _MASK for b in accumulate(_unpack("Q", data))])
    return array(code, bits.tobytes()).tolist()


def _strings(strings: list[Any]) -> list[bytes] | None:
    """One blob for a column's strings (joined by _SEP), or None when one holds _SEP."""
    text = _SEP.join(strings)
    if text.count(_SEP) != max(0, len(strings) - 1):
        return None
    return [text.encode("utf-8", "surrogatepass")]


def _unstrings(data: memoryview, count: int) -> list[str]:
    strings = str(data, "utf-8", "surrogatepass").split(_SEP) if count else []
    if len(strings) != count:
        raise ValueError("a state snapshot with a cut string table")
    return strings


def _string_table(values: Any) -> tuple[list[Any] | None, bytes]:
    """(table, packed indexes) for str-or-None values; (None, b"") for anything else."""
    table: dict[Any, int] = {None: 0}
    try:
        indexes = array("I", [table.setdefault(v, len(table)) for v in values])
    except TypeError:  # an unhashable value: not a string column
        return None, b""
    if not set(map(type, table)) <= {str, _NONE}:
        return None, b""
    return list(table), indexes.tobytes()


def dump(state: ClusterState) -> bytes:
    """The state as bytes (see the module docstring)."""
    return encode(capture(state))


def load(data: bytes, max_tasks: int | None = None) -> ClusterState:
    """A ClusterState as it was when dumped, keeping at most `max_tasks` (the newest)."""
    with _gc_off():  # as in capture: many objects, all kept
        if data[: len(MAGIC)] == MAGIC:
            return _load_columns(zlib.decompress(data[len(MAGIC) :]), max_tasks)
        return _load_rows(zlib.decompress(data), max_tasks)


def _load_rows(raw: bytes, max_tasks: int | None) -> ClusterState:
    """Format 1: one JSON document, the tasks as rows."""
    snap = json.loads(raw)
    if not isinstance(snap, dict) or snap.get("format") != 1:
        raise ValueError("not a celerytui state snapshot of a known format")
    state = ClusterState(max_tasks=max_tasks or int(snap["max_tasks"]))
    rows = snap["tasks"][-state.max_tasks :]
    if rows and len(rows[0]) != len(_TASK):
        raise ValueError("a state snapshot of another Task layout")
    _restore_tasks(state, (Task(*row) for row in rows), json_timelines=True)
    _restore_rest(state, snap)
    return state


def _load_columns(raw: bytes, max_tasks: int | None) -> ClusterState:
    """Format 2: a JSON head, then the packed task columns."""
    (size,) = _HEAD.unpack_from(raw)
    text = raw[_HEAD.size : _HEAD.size + size]
    try:
        head = orjson.loads(text)
    except orjson.JSONDecodeError:  # NaN or Infinity somewhere: the stdlib reads them
        head = json.loads(text)
    if not isinstance(head, dict) or head.get("format") != FORMAT:
        raise ValueError("not a celerytui state snapshot of a known format")
    if head.get("fields") != list(_TASK):
        raise ValueError("a state snapshot of another Task layout")
    state = ClusterState(max_tasks=max_tasks or int(head["max_tasks"]))
    count = int(head["count"])
    skip = max(0, count - state.max_tasks)  # the newest are kept
    blobs = memoryview(raw)[_HEAD.size + size :]
    columns: list[list[Any]] = []
    for column in head["columns"]:  # uuid first: the id columns refer to it
        values, blobs = _decode_column(column, blobs, count, columns[0] if columns else [])
        columns.append(values)
    if skip:
        columns = [values[skip:] for values in columns]
    timeline = head["columns"][_TASK.index("timeline")][0]
    rows = zip(*columns, strict=True) if count else ()
    _restore_tasks(state, (Task(*row) for row in rows), json_timelines=timeline == "j")
    _restore_rest(state, head)
    return state


def _decode_column(
    column: list[Any], blobs: memoryview, count: int, uuids: list[Any]
) -> tuple[list[Any], memoryview]:
    """One column's values (``count`` of them), and the blobs after its own."""
    kind, extra, *sizes = column
    parts = []
    for size in sizes:
        parts.append(blobs[:size])
        blobs = blobs[size:]
    values: list[Any]
    if kind == "j":
        values = extra
    elif kind == "f":
        values = _undeltas(parts[1])
        if any(parts[0]):
            values = [None if gone else v for v, gone in zip(values, parts[0], strict=True)]
    elif kind == "s":
        table = [None, *_unstrings(parts[1], extra - 1)]
        values = list(map(table.__getitem__, _unpack("I", parts[0])))
    elif kind == "u":
        own = [None, *_unstrings(parts[1], extra)]
        values = [uuids[c - 1] if c > 0 else own[-c] if c else None for c in _unpack("i", parts[0])]
    elif kind == "b":
        values = list(map(bool, parts[0]))
    elif kind == "i":
        values = _undeltas(parts[0], "q")
    elif kind == "t":
        lengths = _unpack("I", parts[0])
        kinds = map(extra.__getitem__, _unpack("I", parts[2]))
        pairs = list(zip(_undeltas(parts[1]), kinds, strict=True))
        ends = list(accumulate(lengths))
        values = [tuple(pairs[end - n : end]) for n, end in zip(lengths, ends, strict=True)]
    else:
        raise ValueError(f"a state snapshot with an unknown column kind {kind!r}")
    if len(values) != count:
        raise ValueError("a state snapshot with a short column")
    return values, blobs


def _unpack(code: str, data: memoryview) -> array[Any]:
    values = array(code)
    if len(data) % values.itemsize:
        raise ValueError("a state snapshot with a cut column")
    values.frombytes(data)
    return values


def _restore_tasks(state: ClusterState, tasks: Any, *, json_timelines: bool) -> None:
    """Insert ``tasks`` (oldest first) and rebuild what is derived from them."""
    by_state, order, into = state._by_state, state._order, state.tasks
    for task in tasks:
        if json_timelines:  # JSON has no tuples; a timeline is a tuple of (time, kind)
            task.timeline = tuple((t, kind) for t, kind in task.timeline)
        into[task.uuid] = task
        order.append(task.uuid)
        by_state[task.state] = by_state.get(task.state, 0) + 1
        if task.name is not None:
            counts = state._stats_for(task.name).counts
            counts[task.state] = counts.get(task.state, 0) + 1
    for task in into.values():
        kept = [c for c in task.children if c in into] if task.children else None
        task.children = kept or NO_CHILDREN  # as ClusterState's own: shared while empty
        root = task.root_id
        if root is not None and root != task.uuid:
            state._chain_members.setdefault(root, deque()).append(task.uuid)
        parent = task.parent_id
        if parent is not None and parent not in into:
            state._orphans.setdefault(parent, {})[task.uuid] = None


def _restore_rest(state: ClusterState, snap: dict[str, Any]) -> None:
    """Workers, checks, failures, runtimes, rings and counts (the same in both formats)."""
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
