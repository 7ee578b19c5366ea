"""State snapshots of formats 1 and 2 (written by older celerytui): still read.

Format 1: one JSON document, the tasks as rows, zlib. Format 2 (``CTS\\x02``): a JSON head,
then the task columns packed (floats and ints as deltas of their 64-bit patterns, strings as
indexes into one table per column, the timeline flattened), one zlib stream. Both give the
head (everything but the tasks, as core/state_snapshot.py restores it) and the task columns.
"""

from __future__ import annotations

import json
import struct
from array import array
from itertools import accumulate, chain
from typing import Any

import orjson

from celerytui.core.snapshot_columns import unpack, unstrings

MAGIC_2 = b"CTS\x02"
_HEAD = struct.Struct("<I")
_MASK = 2**64 - 1


def rows_format_1(raw: bytes, fields: tuple[str, ...]) -> tuple[dict[str, Any], list[list[Any]]]:
    """(head, columns) of a format-1 snapshot (``raw``: decompressed)."""
    snap = json.loads(raw)
    if not isinstance(snap, dict) or snap.get("format") != 1:
        raise ValueError("not a celerytui state snapshot of a known format")
    rows = snap["tasks"]
    if rows and len(rows[0]) != len(fields):
        raise ValueError("a state snapshot of another Task layout")
    columns = [list(c) for c in zip(*rows, strict=True)] if rows else [[] for _ in fields]
    return snap, columns


def head_of(raw: bytes | memoryview) -> tuple[dict[str, Any], memoryview]:
    """The JSON head of a format-2 or -3 body, and the packed blobs after it."""
    (size,) = _HEAD.unpack_from(raw)
    text = bytes(raw[_HEAD.size : _HEAD.size + size])
    try:
        head = orjson.loads(text)
    except orjson.JSONDecodeError:  # NaN or Infinity somewhere: the stdlib reads them
        head = json.loads(text)
    if not isinstance(head, dict):
        raise ValueError("not a celerytui state snapshot of a known format")
    return head, memoryview(raw)[_HEAD.size + size :]


def columns_format_2(raw: bytes, fields: tuple[str, ...]) -> tuple[dict[str, Any], list[list[Any]]]:
    """(head, columns) of a format-2 snapshot (``raw``: decompressed, after the magic)."""
    head, blobs = head_of(raw)
    if head.get("format") != 2:
        raise ValueError("not a celerytui state snapshot of a known format")
    if head.get("fields") != list(fields):
        raise ValueError("a state snapshot of another Task layout")
    count = int(head["count"])
    columns: list[list[Any]] = []
    for column in head["columns"]:  # uuid first: the id columns refer to it
        values, blobs = _decode_column(column, blobs, count, columns[0] if columns else [])
        columns.append(values)
    return head, columns


def _decode_column(
    column: list[Any], blobs: memoryview, count: int, uuids: list[Any]
) -> tuple[list[Any], memoryview]:
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
        table = [None, *unstrings(parts[1], extra - 1)]
        values = list(map(table.__getitem__, unpack("I", parts[0])))
    elif kind == "u":
        own = [None, *unstrings(parts[1], extra)]
        values = [uuids[c - 1] if c > 0 else own[-c] if c else None for c in unpack("i", parts[0])]
    elif kind == "b":
        values = list(map(bool, parts[0]))
    elif kind == "i":
        values = _undeltas(parts[0], "q")
    elif kind == "t":
        lengths = unpack("I", parts[0])
        kinds = map(extra.__getitem__, unpack("I", parts[2]))
        items = list(chain.from_iterable(zip(_undeltas(parts[1]), kinds, strict=True)))
        ends = list(accumulate(lengths))  # in events: two items each in a flat Task.timeline
        values = [
            tuple(items[2 * (end - n) : 2 * end]) for n, end in zip(lengths, ends, strict=True)
        ]
    else:
        raise ValueError(f"a state snapshot with an unknown column kind {kind!r}")
    if len(values) != count:
        raise ValueError("a state snapshot with a short column")
    return values, blobs


def _undeltas(data: memoryview, code: str = "d") -> list[Any]:
    bits = array("Q", [b & _MASK for b in accumulate(unpack("Q", data))])
    return array(code, bits.tobytes()).tolist()
