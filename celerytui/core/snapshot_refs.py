"""Format 4's task time columns coded against the other times of the same row.

A task's ``state_ts`` is mostly the time of the event that set its state (its
``succeeded``, ``failed``, ``started``...), and the times on its timeline mostly those of
the event fields of their kind (the newest ``task-started`` is ``started``). Format 3 wrote
each again (a random-looking float: ~3 bytes a row for state_ts, ~13 for a timeline after
zlib); format 4 writes a small code where the value is the same float as another column's
of its row:

- kind ``"r"`` (state_ts): a byte a row, 0: its own value (kept as an "f" column holds its
  values, None elsewhere), k: the value of ``refs[k - 1]`` (a field index) in that row;
- kind ``"T"`` (timeline): the lengths (events a row), the kinds (indexes into a table), a
  byte an event (0: its own time, k: that of ``TIMES[k - 1]`` in its row), and per row how
  many own times it has, then those times.

"The same float" is exact: both floats, equal, and of the same sign (NaN equals nothing,
so it is always written as it is; -0.0 never stands for 0.0). A column of another kind is
never a reference. Decoding picks each value with C-level work for "r" (``zip`` and
``tuple.__getitem__``); a timeline is made row by row, as format 3's were.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Sequence
from itertools import accumulate, chain, compress, repeat
from math import copysign
from operator import eq, itemgetter, mul, not_, sub
from typing import Any

from celerytui.core.snapshot_columns import _floats, _optional_floats, _string_table, _strings

_NONE = type(None)
# the event fields a time may equal, in code order (code k: TIMES[k - 1])
TIMES = ("sent", "received", "started", "succeeded", "failed", "retried", "revoked", "rejected")
STATE_TS_REFS = ("succeeded", "failed", "started", "received", "sent", "retried", "revoked")
KIND_OF = {f"task-{name}": code for code, name in enumerate(TIMES, 1)}

Many = Callable[[Sequence[int]], Sequence[Any]]


def same(a: Any, b: Any) -> bool:
    """Whether ``a`` and ``b`` are the same float, bit for bit (NaN: never)."""
    return (
        a.__class__ is float
        and b.__class__ is float
        and a == b
        and copysign(1, a) == copysign(1, b)
    )


def float_columns(columns: dict[str, list[Any]]) -> dict[str, list[Any]]:
    """Those of ``columns`` that are floats or None only (the ones that may be references)."""
    return {
        name: values
        for name, values in columns.items()
        if {v.__class__ for v in values} <= {float, _NONE}
    }


def encode_refs(
    values: list[Any], refs: dict[str, list[Any]], fields: Sequence[str], blobs: list[bytes]
) -> list[Any] | None:
    """An "r" column for ``values`` (floats or None) coded against ``refs`` (float columns
    by name); None when ``values`` are of another kind. C-level passes, a column each."""
    if not {v.__class__ for v in values} <= {float, _NONE}:
        return None
    names = [n for n in STATE_TS_REFS if n in refs]
    codes: list[int] = [0] * len(values)
    for code in range(len(names), 0, -1):  # the first that matches wins: it goes last
        matches = map(eq, values, refs[names[code - 1]])
        codes = list(map(tuple.__getitem__, zip(codes, repeat(code)), matches))
    if values.count(0.0):  # 0.0 == -0.0: the sign, for those only
        for i in compress(range(len(codes)), codes):
            if not values[i] and not same(values[i], refs[names[codes[i] - 1]][i]):
                codes[i] = 0
    own = list(map(tuple.__getitem__, zip(values, repeat(None)), map(bool, codes)))
    mode, packed = _optional_floats(own)
    packed = [bytes(codes), *packed]
    blobs.extend(packed)
    return ["r", [mode, [fields.index(n) for n in names]], *map(len, packed)]


def encode_timelines(
    values: list[Any], refs: dict[str, list[Any]], blobs: list[bytes]
) -> list[Any] | None:
    """A "T" column for flat timelines (float times, str kinds) coded against the event
    field of its kind in its row (``refs``: float columns by name); None for anything
    else. C-level passes over all events. (Only the field of the event's kind is tried:
    the times it misses, an earlier attempt's events of a retried task, matched no other
    field in a benchmark journal.)"""
    if not {v.__class__ for v in values} <= {tuple} or any(len(v) & 1 for v in values):
        return None
    flat = list(chain.from_iterable(values))
    times, kinds = flat[0::2], flat[1::2]
    if not {t.__class__ for t in times} <= {float} or None in kinds:
        return None
    table, indexes = _string_table(kinds)
    strings = None if table is None else _strings(table[1:])
    if table is None or strings is None:
        return None
    lengths = [len(v) >> 1 for v in values]
    columns = [refs.get(name) for name in TIMES]
    # per row (None, sent, received, ...): code k picks item k
    by_row = list(zip(repeat(None), *(repeat(None) if c is None else c for c in columns)))
    rows = list(chain.from_iterable(map(repeat, range(len(values)), lengths)))
    wanted = list(map(KIND_OF.get, kinds, repeat(0)))
    refs_of = map(tuple.__getitem__, map(by_row.__getitem__, rows), wanted)
    codes = list(map(mul, wanted, map(eq, times, refs_of)))
    if times.count(0.0):  # 0.0 == -0.0: the sign, for those only
        for i in compress(range(len(codes)), codes):
            if not times[i] and not same(times[i], by_row[rows[i]][codes[i]]):
                codes[i] = 0
    own = list(map(not_, codes))
    own_times = list(compress(times, own))
    ends = list(accumulate(lengths))
    owned = [0, *accumulate(own)]
    own_counts = list(map(sub, _take(owned, ends), _take(owned, [0, *ends[:-1]])))
    packed = [
        array("I", lengths).tobytes(),
        indexes,
        bytes(codes),
        array("I", own_counts).tobytes(),
        _floats(own_times),
        strings,
    ]
    blobs.extend(packed)
    return ["T", len(table) - 1, *map(len, packed)]


def refs_reader(codes: bytes, own: Many, refs: list[Many]) -> Many:
    """The values of an "r" column at some rows: ``own`` (the column's own values) and
    ``refs`` (the referred columns) read at those rows, each value picked in C."""

    def many(rows: Sequence[int]) -> list[Any]:
        picked = _take(codes, rows)
        return list(
            map(tuple.__getitem__, zip(own(rows), *(r(rows) for r in refs), strict=True), picked)
        )

    return many


def timelines_reader(
    lengths: array[Any],
    kinds: Callable[[int], Any],
    refs: array[Any],
    codes: bytes,
    own_counts: array[Any],
    own_times: array[Any],
    times: list[Many],
) -> Many:
    """Flat timelines of a "T" column at some rows (``times``: the TIMES fields' readers)."""
    ends = list(accumulate(lengths, initial=0))
    own_ends = list(accumulate(own_counts, initial=0))
    if ends[-1] != len(refs) or ends[-1] != len(codes) or own_ends[-1] != len(own_times):
        raise ValueError("a state snapshot with a cut timeline")
    if codes and max(codes) > len(TIMES):
        raise ValueError("a state snapshot with an unknown time reference")

    def many(rows: Sequence[int]) -> list[Any]:
        fields = list(zip(*(read(rows) for read in times), strict=True))
        out = []
        for row, at in zip(rows, fields, strict=True):
            a, b = ends[row], ends[row + 1]
            own = iter(own_times[own_ends[row] : own_ends[row + 1]].tolist())
            row_times = [at[c - 1] if c else next(own) for c in codes[a:b]]
            out.append(
                tuple(chain.from_iterable(zip(row_times, map(kinds, refs[a:b]), strict=True)))
            )
        return out

    return many


def _take(values: Sequence[Any], rows: Sequence[int]) -> Sequence[Any]:
    if len(rows) > 1:
        return itemgetter(*rows)(values)  # type: ignore[no-any-return]
    return [values[i] for i in rows]
