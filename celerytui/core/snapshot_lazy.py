"""Tasks of a restored snapshot that are made in full only when first used.

A seek restores up to 100k tasks; decoding every field of each and making its Task was most
of what a seek waited for, and a screen shows a few dozen of them. So a restored task starts
as a ``LazyTask``: a Task whose fields that the state's own bookkeeping reads without looking
further (``PRESET``: identity, state, name, links) are set, the others not yet. The first
read of another field, or any write, fills it from its snapshot row (under a lock: the UI
and the pump thread may both touch it) and turns it into a plain Task (``__class__``), so
it is a Task like any other from then on: equal, printed, captured field by field.
``fill_some`` turns them into Tasks in the background, a slice at a time.

Nothing here makes a reference cycle, so a state a seek replaced goes with its last
reference (refcounting), at once: a lazy task finds its rows through one of its own unset
fields (``HOLDER``, read through a property until it is filled), and the rows know their
tasks only by uuid. Before, each restore made a LazyTask class of its own that held the
rows, which held every task: a class always refers to itself, so all of it (100k tasks and
the snapshot's bytes) waited for the collector; and a replay freezes what a rebuild made
(core/journal_source.py), so it waited for a full pass: the process grew ~50 MB a seek.

The rows are read with C-level work where the column kind allows it (an index into a table,
a number out of an array); a kind this module does not know is decoded whole, once, as
``snapshot_columns.decode_rows`` decodes it. Blob sizes are checked on load; what a blob
holds (indexes within their table, UTF-8) when its column is first read, as a whole decode
would, and the error is raised where the value was asked for.
"""

from __future__ import annotations

import threading
from bisect import bisect_right
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import fields
from itertools import accumulate, chain, repeat
from typing import Any, Protocol

from celerytui.core.byte_planes import unplanes as unshuffle
from celerytui.core.model import Task
from celerytui.core.snapshot_columns import take, unpack, unstrings
from celerytui.core.snapshot_refs import TIMES, refs_reader, timelines_reader

TASK_FIELDS = tuple(f.name for f in fields(Task))
# what ClusterState reads of a task it does not otherwise touch: counts, eviction, links
PRESET = ("uuid", "seq", "state", "name", "children", "root_id", "parent_id")
PRESET_AT = tuple(TASK_FIELDS.index(name) for name in PRESET)
_LAZY_AT = tuple(i for i in range(len(TASK_FIELDS)) if i not in PRESET_AT)
_TIMES_AT = tuple(TASK_FIELDS.index(name) for name in TIMES)  # what format 4 refers to
SETTERS = tuple(Task.__dict__[name].__set__ for name in TASK_FIELDS)  # the slots, directly
HOLDER = "args"  # the field (not PRESET) whose slot holds a lazy task's rows until filled
_HOLDER_AT = TASK_FIELDS.index(HOLDER)
_rows_of_task = Task.__dict__[HOLDER].__get__  # the slot itself, past LazyTask's property
_FILLING = threading.Lock()
_new = object.__new__
_set_class = object.__setattr__

Many = Callable[[Sequence[int]], Sequence[Any]]  # the values of a field at some rows


class Columns(Protocol):
    """What state_snapshot's _Columns gives: a field whole, or its format-3 spec and blobs."""

    count: int

    def __getitem__(self, field: int) -> Any: ...

    def packed(self, field: int) -> tuple[list[Any], list[memoryview]] | None: ...


class LazyTask(Task):
    """A restored task not filled yet (see the module docstring): the PRESET fields set,
    ``HOLDER``'s slot holding its LazyRows, the other fields unset."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:  # a field not set yet (or no field at all)
        fill(self)
        return object.__getattribute__(self, name)

    def __setattr__(self, name: str, value: Any) -> None:
        fill(self)
        object.__setattr__(self, name, value)

    def __eq__(self, other: object) -> bool:
        fill(self)
        return self == other

    def __repr__(self) -> str:
        fill(self)
        return repr(self)


def fill(task: Task) -> None:
    """Make a lazy task whole from its rows (the slot is read under the lock: another
    thread may have filled it meanwhile, and the slot then holds the field's value)."""
    with _FILLING:
        if task.__class__ is LazyTask:
            _rows_of_task(task).fill_one(task)


def _read_holder(task: Task) -> Any:
    """HOLDER read on a lazy task: filled first (its slot holds the rows until then)."""
    fill(task)
    return getattr(task, HOLDER)


# a data descriptor on the subclass wins over the slot's on Task (set here, not in the class
# body: it is a field of Task's there)
setattr(LazyTask, HOLDER, property(_read_holder))


class LazyRows:
    """The snapshot rows restored tasks fill from: ``pieces`` (their columns), ``where``
    (uuid -> row, the pieces end to end). Held by its lazy tasks, never holding them."""

    def __init__(self, pieces: Sequence[Columns], where: dict[str, int]) -> None:
        self.pieces = pieces
        self.starts = list(accumulate((c.count for c in pieces), initial=0))[:-1]
        self.where = where
        self.uuids: deque[str] = deque()  # of the tasks made lazy, for fill_some
        self._readers: dict[int, list[Many]] = {}
        for columns in pieces:
            for field in _LAZY_AT:
                check(columns, field)

    def make(self, presets: list[Sequence[Any]]) -> list[Task]:
        """LazyTasks with the PRESET fields ``presets`` (one sequence per field)."""
        tasks: list[Task] = list(map(_new, repeat(LazyTask, len(presets[0]))))
        for at, values in zip(PRESET_AT, presets, strict=True):
            deque(map(SETTERS[at], tasks, values), 0)
        deque(map(SETTERS[_HOLDER_AT], tasks, repeat(self)), 0)
        self.uuids.extend(presets[PRESET.index("uuid")])
        return tasks

    def fill_one(self, task: Task) -> None:
        """Fill ``task`` (one of this' lazy tasks; under _FILLING)."""
        row = self.where[task.uuid]
        piece = bisect_right(self.starts, row) - 1
        self._fill([task], piece, [row - self.starts[piece]])

    def fill_some(self, tasks: dict[str, Task], most: int) -> bool:
        """Fill up to ``most`` of the tasks still lazy of those ``tasks`` (a state's) holds,
        piece by piece; False once none is (one evicted meanwhile is left to its first
        use, if anything still holds it)."""
        with _FILLING:
            uuids = self.uuids
            batch: list[Task] = []
            while uuids and len(batch) < most:
                lazy = tasks.get(uuids.popleft())
                if lazy.__class__ is LazyTask and _rows_of_task(lazy) is self:
                    batch.append(lazy)
            by_piece: dict[int, list[tuple[int, Task]]] = {}
            starts, where = self.starts, self.where
            for task in batch:
                row = where[task.uuid]
                piece = bisect_right(starts, row) - 1
                by_piece.setdefault(piece, []).append((row - starts[piece], task))
            for piece, pairs in by_piece.items():
                pairs.sort(key=_first)
                self._fill([t for _, t in pairs], piece, [r for r, _ in pairs])
            return bool(uuids)

    def _fill(self, tasks: list[Task], piece: int, rows: list[int]) -> None:
        readers = self._readers.get(piece)
        if readers is None:
            made: dict[int, Many] = {}  # (format 4's columns read others: made once)
            readers = self._readers[piece] = [
                reader(self.pieces[piece], field, made) for field in _LAZY_AT
            ]
        for at, many in zip(_LAZY_AT, readers, strict=True):
            deque(map(SETTERS[at], tasks, many(rows)), 0)
        deque(map(_set_class, tasks, repeat("__class__"), repeat(Task)), 0)


def _first(pair: tuple[int, Task]) -> int:
    return pair[0]


def check(columns: Columns, field: int) -> None:
    """Raise ValueError now for a packed column of the wrong size (what is inside it is
    read when the column is: an index past its table raises there, as a whole decode's)."""
    packed = columns.packed(field)
    if packed is None:
        return
    (kind, extra, *_), parts = packed
    count = columns.count
    width = {"s": 4, "i": 8, "b": 1, "t": 4}.get(kind)
    if width is not None and len(parts[0]) != width * count:
        raise ValueError("a state snapshot with a short column")
    if kind == "f":
        if extra in (0, 1) and len(parts[1]) != 8 * count:
            raise ValueError("a state snapshot with a short column")
        if extra == 2 and len(parts[0]) * 2 != len(parts[1]):
            raise ValueError("a state snapshot with a short column")
    elif kind == "t":
        if not len(parts[1]) == 2 * len(parts[2]) or len(parts[2]) % 4:
            raise ValueError("a state snapshot with a cut timeline")
    elif kind == "r":  # format 4: a byte a row, then an "f" column's parts
        mode, refs = extra
        if len(parts[0]) != count or not set(refs) <= set(_TIMES_AT) or mode not in (0, 1, 2):
            raise ValueError("a state snapshot with a bad time column")
        if mode in (0, 1) and len(parts[2]) != 8 * count:
            raise ValueError("a state snapshot with a short column")
        if mode == 2 and len(parts[1]) * 2 != len(parts[2]):
            raise ValueError("a state snapshot with a short column")
        if parts[0] and max(parts[0]) > len(refs):
            raise ValueError("a state snapshot with an unknown time reference")
    elif kind == "T":  # format 4: lengths, kinds, codes, own counts, own times, table
        if len(parts[0]) != 4 * count or len(parts[3]) != 4 * count:
            raise ValueError("a state snapshot with a short column")
        if len(parts[1]) != 4 * len(parts[2]) or len(parts[4]) % 8:
            raise ValueError("a state snapshot with a cut timeline")
    elif kind not in ("s", "i", "b"):
        columns[field]  # any other kind: decoded whole now (and kept)


def reader(columns: Columns, field: int, made: dict[int, Many] | None = None) -> Many:
    """The values of one field at some rows (ascending), for ``columns``' rows; ``made``:
    the readers made already for these columns (by field), this one added."""
    if made is None:
        made = {}
    many = made.get(field)
    if many is None:
        many = made[field] = _reader(columns, field, made)
    return many


def _reader(columns: Columns, field: int, made: dict[int, Many]) -> Many:
    packed = columns.packed(field)
    if packed is not None and packed[0][0] in ("r", "T") and field in _TIMES_AT:
        raise ValueError("a state snapshot with a bad time column")  # (it reads those)
    if packed is None:  # decoded already (older formats), or a kind read whole
        values = columns[field]
        return lambda rows: take(values, rows)
    (kind, extra, *_), parts = packed
    if kind == "s":
        table = [None, *unstrings(parts[1], extra - 1)]
        refs = unpack("I", parts[0])
        return lambda rows: list(map(table.__getitem__, take(refs, rows)))
    if kind == "i":
        ints = unpack("q", unshuffle(parts[0], 8))
        return lambda rows: take(ints, rows)
    if kind == "b":
        flags = bytes(parts[0])
        return lambda rows: list(map(bool, take(flags, rows)))
    if kind == "f":
        return _floats(extra, parts, columns.count)
    if kind == "t":
        return _timelines(extra, parts)
    if kind == "r":
        mode, refs = extra
        if not set(refs) <= set(_TIMES_AT):
            raise ValueError("a state snapshot with a bad time column")
        own = _floats(mode, parts[1:], columns.count)
        return refs_reader(bytes(parts[0]), own, [reader(columns, f, made) for f in refs])
    if kind == "T":
        what = [None, *unstrings(parts[5], extra)].__getitem__
        return timelines_reader(
            unpack("I", parts[0]),
            what,
            unpack("I", parts[1]),
            bytes(parts[2]),
            unpack("I", parts[3]),
            unpack("d", unshuffle(parts[4], 8)),
            [reader(columns, f, made) for f in _TIMES_AT],
        )
    values = columns[field]
    return lambda rows: take(values, rows)


def _floats(mode: int, parts: list[memoryview], count: int) -> Many:
    numbers = unpack("d", unshuffle(parts[1], 8))
    if mode == 0:
        return lambda rows: take(numbers, rows)
    positions = unpack("I", parts[0])
    if positions and max(positions) >= count:
        raise ValueError("a state snapshot with a cut column")
    if mode == 1:
        nones = set(positions)
        return lambda rows: [None if r in nones else numbers[r] for r in rows]
    index = dict(zip(positions, range(len(positions)), strict=True))
    return lambda rows: [None if (i := index.get(r)) is None else numbers[i] for r in rows]


def _timelines(extra: int, parts: list[memoryview]) -> Many:
    """Timelines row by row, flat (time, kind, time, kind...: Task.timeline), the events'
    times and kinds out of arrays."""
    ends = list(accumulate(unpack("I", parts[0]), initial=0))
    times = unpack("d", unshuffle(parts[1], 8))
    refs = unpack("I", parts[2])
    if not len(times) == len(refs) == ends[-1]:
        raise ValueError("a state snapshot with a cut timeline")
    what = [None, *unstrings(parts[3], extra)].__getitem__

    def flat(a: int, b: int) -> tuple[Any, ...]:
        events = zip(times[a:b].tolist(), map(what, refs[a:b]), strict=True)
        return tuple(chain.from_iterable(events))

    return _rows_of(flat, ends)


def _rows_of(shape: Callable[[int, int], tuple[Any, ...]], ends: list[int]) -> Many:
    def many(rows: Sequence[int]) -> list[Any]:
        return [shape(ends[r], ends[r + 1]) for r in rows]

    return many
