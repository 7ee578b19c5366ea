"""The task columns of a format-3 state snapshot, packed so that decoding is C-level work.

A seek waits for the decoding (core/state_snapshot.py), so every kind decodes without a
Python step per value where it can: numbers are byte-shuffled (byte k of every value, then
byte k+1...: close timestamps share their high bytes, which zlib packs well) and come back
with slice assignments and ``array.tolist``; strings, ids and event kinds are indexes into a
table, looked up with ``map``; the timelines (flat: time, kind, time, kind...) are cut into
tuples with ``map(islice, ...)``. The bytes are those format 3 wrote while a timeline was a
tuple of (time, kind) pairs (an event count a task, the times, the kinds; as JSON, pairs): a
checkpoint written then loads now, and one written now loads in a celerytui of then.
Only the minority of a column's values (the Nones of a mostly-set column, or the values of
a mostly-None one) and the non-empty children lists take a Python step each.

``encode_column`` returns [kind, extra, blob sizes...] and appends the blobs; a column that
fits no kind is kept as JSON (kind "j") in the head. Exact for every value. ``decode_rows``
gives the values of some rows only (a chain's newest versions) with as little as it can.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator, Sequence
from itertools import accumulate, chain, islice, repeat
from operator import add, itemgetter, mul, sub
from typing import Any

from celerytui.core.byte_planes import planes as _shuffle
from celerytui.core.byte_planes import unplanes as _unshuffle
from celerytui.core.model import NO_CHILDREN, timeline_pairs
from celerytui.core.snapshot_uuids import decode_uuids

_NONE = type(None)
_I64_MIN, _I64_MAX = -(2**63), 2**63 - 1
_SEP = "\x00"  # between the strings of a table (a column holding it: JSON)
IDS = ("root_id", "parent_id")  # mostly the uuid of another task in the snapshot


def encode_column(name: str, values: list[Any], blobs: list[bytes], uuids: dict[Any, int]) -> Any:
    """[kind, extra, blob sizes...] for one task field; its packed data goes to ``blobs``."""
    packed: list[bytes] | None = None
    extra: Any = None
    kinds = {v.__class__ for v in values}
    if name == "timeline" and kinds <= {tuple}:  # flat: (time, kind, time, kind, ...)
        kind = "t"
        flat = list(chain.from_iterable(values))
        times, what = flat[0::2], flat[1::2]
        if not any(len(v) & 1 for v in values) and {t.__class__ for t in times} <= {float}:
            kinds_table, indexes = _string_table(what)
            if kinds_table is not None and None not in what:
                strings = _strings(kinds_table[1:])
                if strings is not None:
                    extra = len(kinds_table) - 1
                    lengths = [len(v) >> 1 for v in values]  # in events, as format 3 was
                    packed = [_ints(lengths, "I"), _floats(times), indexes, strings]
    elif kinds <= {float, _NONE}:
        kind = "f"
        extra, packed = _optional_floats(values)
    elif name == "children" and kinds <= {list} and uuids:
        kind = "c"
        extra, packed = _children(values, uuids)
    elif kinds <= {str, _NONE} and name in IDS and uuids:
        kind = "u"
        table: dict[str, int] = {}
        base = len(uuids) + 1  # codes: 0 None, 1..n a task of the snapshot, then its own
        codes = [0 if v is None else uuids.get(v, -1) + 1 or base + _code(table, v) for v in values]
        strings = _strings(list(table))
        if strings is not None:
            extra, packed = len(table), [_ints(codes, "I"), strings]
    elif kinds <= {str, _NONE}:
        kind = "s"
        table_list, indexes = _string_table(values)
        strings = None if table_list is None else _strings(table_list[1:])  # [0] is None
        if table_list is not None and strings is not None:
            extra, packed = len(table_list), [indexes, strings]
    elif kinds == {bool}:
        kind, packed = "b", [bytes(values)]
    elif kinds == {int} and min(values) >= _I64_MIN and max(values) <= _I64_MAX:
        kind, packed = "i", [_shuffle(array("q", values).tobytes(), 8)]
    if packed is None:  # anything else (result_full, odd values), as JSON
        if name == "timeline":  # in (time, kind) pairs, as format 3 wrote it before
            values = [timeline_pairs(v) for v in values]
        return ["j", values]
    blobs.extend(packed)
    return [kind, extra, *map(len, packed)]


def decode_rows(
    column: list[Any],
    parts: list[memoryview],
    count: int,
    uuids: list[Any],
    rows: Sequence[int] | None = None,
) -> Sequence[Any]:
    """The values at ``rows`` (ascending; None: all) of one task field of ``count`` values
    (``parts``: its blobs). A seek keeps only the newest version of each task of a chain:
    the kinds that cost the most make a Python object only for the rows asked (an index is
    picked before the string it names, the events of other rows' timelines are skipped)."""
    kind, extra = column[0], column[1]
    if rows is None or len(rows) == count:
        values: list[Any] = _decode(kind, extra, parts, count, uuids)
        return values
    if kind in ("s", "u"):
        own = unstrings(parts[1], extra - 1 if kind == "s" else extra)
        table = [None, *own] if kind == "s" else [None, *uuids, *own]
        refs = _counted(unpack("I", parts[0]), count)
        return list(map(table.__getitem__, take(refs, rows)))
    if kind == "i":
        return take(_counted(unpack("q", _unshuffle(parts[0], 8)), count), rows)
    if kind == "f" and extra == 0:  # no None
        return take(_counted(unpack("d", _unshuffle(parts[1], 8)), count), rows)
    if kind == "t":
        timelines: list[Any] = _timelines_at(extra, parts, count, rows)
        return timelines
    return take(_decode(kind, extra, parts, count, uuids), rows)


def take(values: Sequence[Any], rows: Sequence[int]) -> Sequence[Any]:
    """``[values[i] for i in rows]``, picked in C (a tuple)."""
    if len(rows) > 1:
        return itemgetter(*rows)(values)  # type: ignore[no-any-return]
    return [values[i] for i in rows]


def _counted(values: array[Any], count: int) -> array[Any]:
    if len(values) != count:
        raise ValueError("a state snapshot with a short column")
    return values


def _timelines_at(extra: int, parts: list[memoryview], count: int, rows: Sequence[int]) -> Any:
    lengths = _counted(unpack("I", parts[0]), count)
    table = [None, *unstrings(parts[3], extra)]
    times, refs = _unfloats(parts[1]), unpack("I", parts[2])
    if not len(times) == len(refs) == sum(lengths):
        raise ValueError("a state snapshot with a cut timeline")
    ends = list(accumulate(lengths))
    first, last = take([0, *ends[:-1]], rows), take(ends, rows)
    skips = list(map(sub, first, [0, *last[:-1]]))  # the events of the rows not asked
    stops = map(add, skips, map(sub, last, first))
    items = _flat_events(times, map(table.__getitem__, refs))
    return list(map(tuple, map(islice, repeat(items), _doubled(skips), _doubled(stops))))


def _decode(kind: str, extra: Any, parts: list[memoryview], count: int, uuids: list[Any]) -> Any:
    values: list[Any]
    if kind == "j":
        values = extra
    elif kind == "f":
        values = _unoptional_floats(extra, parts, count)
    elif kind == "s":
        table = [None, *unstrings(parts[1], extra - 1)]
        values = list(map(table.__getitem__, unpack("I", parts[0])))
    elif kind == "u":
        table = [None, *uuids, *unstrings(parts[1], extra)]
        values = list(map(table.__getitem__, unpack("I", parts[0])))
    elif kind == "c":
        values = _unchildren(extra, parts, count, uuids)
    elif kind == "h":  # format 4: canonical uuids as 16 bytes (core/snapshot_uuids.py)
        values = decode_uuids(parts[0], count)
    elif kind == "b":
        values = list(map(bool, parts[0]))
    elif kind == "i":
        values = unpack("q", _unshuffle(parts[0], 8)).tolist()
    elif kind == "t":
        lengths = unpack("I", parts[0])
        table = [None, *unstrings(parts[3], extra)]
        times, refs = _unfloats(parts[1]), unpack("I", parts[2])
        if not len(times) == len(refs) == sum(lengths):
            raise ValueError("a state snapshot with a cut timeline")
        items = _flat_events(times, map(table.__getitem__, refs))  # 2 * `length` a task
        values = list(map(tuple, map(islice, repeat(items), _doubled(lengths))))
    else:
        raise ValueError(f"a state snapshot with an unknown column kind {kind!r}")
    if len(values) != count:
        raise ValueError("a state snapshot with a short column")
    return values


def _flat_events(times: Iterable[float], kinds: Iterable[Any]) -> Iterator[Any]:
    """time, kind, time, kind...: the items of the flat timelines (Task.timeline) end to end."""
    return chain.from_iterable(zip(times, kinds, strict=True))


def _doubled(counts: Iterable[int]) -> Iterator[int]:
    """Events counted as items of a flat timeline (two each)."""
    return map(mul, counts, repeat(2))


def _code(table: dict[str, int], value: str) -> int:
    return table.setdefault(value, len(table))


def _optional_floats(values: list[Any]) -> tuple[int, list[bytes]]:
    """(mode, blobs): mode 0 no None; 1 the None positions, then every value (0.0 for
    None); 2 the positions of the values, then those values only (a mostly-None column)."""
    nones = [i for i, v in enumerate(values) if v is None]
    if not nones:
        return 0, [b"", _floats(values)]
    if 2 * len(nones) <= len(values):
        return 1, [_ints(nones, "I"), _floats([0.0 if v is None else v for v in values])]
    where = [i for i, v in enumerate(values) if v is not None]
    return 2, [_ints(where, "I"), _floats([values[i] for i in where])]


def _unoptional_floats(mode: int, parts: list[memoryview], count: int) -> list[Any]:
    numbers: list[Any] = _unfloats(parts[1])
    if mode == 0:
        return numbers
    positions = unpack("I", parts[0])
    if mode == 1:
        for i in positions:
            numbers[i] = None
        return numbers
    values: list[Any] = [None] * count
    for i, number in zip(positions, numbers, strict=True):
        values[i] = number
    return values


def _children(values: list[list[Any]], uuids: dict[Any, int]) -> tuple[Any, list[bytes]] | Any:
    """The non-empty lists only: their positions, lengths and members (as "u" codes)."""
    where = [i for i, v in enumerate(values) if v]
    members = [c for i in where for c in values[i]]
    if not {c.__class__ for c in members} <= {str}:
        return None, None
    table: dict[str, int] = {}
    base = len(uuids) + 1
    codes = [uuids.get(c, -1) + 1 or base + _code(table, c) for c in members]
    strings = _strings(list(table))
    if strings is None:
        return None, None
    lengths = [len(values[i]) for i in where]
    return len(table), [_ints(where, "I"), _ints(lengths, "I"), _ints(codes, "I"), strings]


def _unchildren(extra: int, parts: list[memoryview], count: int, uuids: list[Any]) -> list[Any]:
    table = [None, *uuids, *unstrings(parts[3], extra)]
    members = list(map(table.__getitem__, unpack("I", parts[2])))
    values: list[Any] = [NO_CHILDREN] * count
    at = 0
    for i, n in zip(unpack("I", parts[0]), unpack("I", parts[1]), strict=True):
        values[i] = members[at : at + n]
        at += n
    return values


def _floats(values: Any) -> bytes:
    return _shuffle(array("d", values).tobytes(), 8)


def _unfloats(data: memoryview) -> list[float]:
    return unpack("d", _unshuffle(data, 8)).tolist()


def _ints(values: Any, code: str) -> bytes:
    return array(code, values).tobytes()


def unpack(code: str, data: memoryview | bytes) -> array[Any]:
    values = array(code)
    if len(data) % values.itemsize:
        raise ValueError("a state snapshot with a cut column")
    values.frombytes(data)
    return values


def _strings(strings: list[Any]) -> bytes | None:
    """One blob for a table's strings (joined by _SEP), or None when one holds _SEP."""
    text = _SEP.join(strings)
    if text.count(_SEP) != max(0, len(strings) - 1):
        return None
    return text.encode("utf-8", "surrogatepass")


def unstrings(data: memoryview, count: int) -> list[str]:
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
