"""Events <-> one compressed chunk, column by column (what makes ~20-40 bytes an event).

A chunk groups its events by shape (their keys, in order). Each shape's values are stored
column by column: floats as the deltas of their IEEE bit patterns (lossless, and small for
the close timestamps of one chunk), ints as deltas, strings as indexes into one string
table per chunk (a uuid, hostname or task name is written once), anything else as JSON.
Codec 3 (schema 5) stores the ints and string indexes
byte plane by byte plane (every value's first byte, then every second byte, ...): their high
bytes are zeros, which deflate then packs as long runs (the synthetic stream: 19.5 -> 17.7
bytes an event, and encodes no slower; floats stay whole, planes made theirs bigger). Codec
2 (the same without planes) is what schemas 1-4 wrote; it is still read.
Then the whole is zlib-compressed. Decoding rebuilds the dicts with C-level zips, so replay
reads hundreds of thousands of events a second. Events are given back exactly as received.

Codec 1 (JSON lines, zlib) is the fallback for what the columns cannot hold (non-string
keys, values JSON cannot write as they are).
"""

from __future__ import annotations

import json
import struct
import zlib
from array import array
from itertools import accumulate, compress, count, filterfalse, repeat
from operator import eq, sub
from typing import Any

from celerytui.core.byte_planes import planes as _planes
from celerytui.core.byte_planes import unplanes as _unplanes

CODEC_JSON = 1
CODEC_COLUMNS = 2  # read only: what schemas 1-4 wrote
CODEC_PLANES = 3
LEVEL = 6  # zlib: 9 saves ~3% for twice the time
_HEAD = struct.Struct("<I")
_I64_MIN, _I64_MAX = -(2**63), 2**63 - 1
_MASK = 2**64
_HALF = 2**63
_DICT, _FLOAT, _INT, _TEXT = {dict}, {float}, {int}, {str, type(None)}


def encode(events: list[dict[str, Any]]) -> tuple[int, bytes]:
    """(codec, data) for a list of events (their order is kept)."""
    try:
        return CODEC_PLANES, _encode_columns(events)
    except _NotColumnar:
        text = json.dumps(events, separators=(",", ":"), default=repr)
        return CODEC_JSON, zlib.compress(text.encode(), LEVEL)


def decode(codec: int, data: bytes) -> list[dict[str, Any]]:
    """The events of a chunk, in the order they were encoded."""
    return decode_inflated(codec, zlib.decompress(data))


def decode_inflated(codec: int, raw: bytes) -> list[dict[str, Any]]:
    """``decode`` of data already decompressed."""
    if codec == CODEC_JSON:
        events: list[dict[str, Any]] = json.loads(raw)
        return events
    if codec == CODEC_PLANES:
        return _decode_columns(raw, True)
    if codec == CODEC_COLUMNS:
        return _decode_columns(raw, False)
    raise ValueError(f"unknown chunk codec {codec}")


class Chunk:
    """The events of one stored chunk, decoded only when asked (``events``): a replay's
    reader thread fetches and inflates it (``inflate``: zlib lets go of the GIL), the thread
    that applies the events decodes it, so only one of them does Python work per event.
    ``t0``/``t1`` are the local_received of its first and last event, ``n`` how many."""

    __slots__ = ("_codec", "_data", "_events", "_inflated", "n", "t0", "t1")

    def __init__(self, t0: float, t1: float, n: int, codec: int, data: bytes) -> None:
        self.t0, self.t1, self.n = t0, t1, n
        self._codec, self._data = codec, data
        self._inflated = False
        self._events: list[dict[str, Any]] | None = None

    def inflate(self) -> Chunk:
        if not self._inflated:
            self._data, self._inflated = zlib.decompress(self._data), True
        return self

    def events(self) -> list[dict[str, Any]]:
        """Its events (decoded once; the list is the caller's to change)."""
        if self._events is None:
            self.inflate()
            self._events = decode_inflated(self._codec, self._data)
            self._data = b""
        return self._events


class _NotColumnar(Exception):
    pass


def _encode_columns(events: list[dict[str, Any]]) -> bytes:
    # the loops over events and values are C loops (map, compress, zip, dict.fromkeys): this
    # runs for every event the recorder keeps; the bytes are those Python loops wrote
    if set(map(type, events)) != _DICT:  # something else than a mapping (malformed): JSON
        raise _NotColumnar
    shape_of = list(map(tuple, events))
    shapes = {shape: i for i, shape in enumerate(dict.fromkeys(shape_of))}
    if len(shapes) > 65535:
        raise _NotColumnar
    order = array("H", map(shapes.__getitem__, shape_of))
    strings: dict[str | None, int] = {None: 0}
    blobs: list[bytes] = [order.tobytes()]
    columns: list[list[Any]] = []  # per shape: [kind, ...] per key
    for shape, index in shapes.items():
        if not all(key.__class__ is str for key in shape):
            raise _NotColumnar
        group = (
            events if len(shapes) == 1 else list(compress(events, map(eq, order, repeat(index))))
        )
        kinds = []
        for values in zip(*map(dict.values, group), strict=True):  # key by key
            kind, blob = _column(values, strings)
            kinds.append(kind)
            blobs.append(blob)
        columns.append(kinds)
    table = list(strings)[1:]
    head = json.dumps(
        [[list(shape) for shape in shapes], columns, table, [len(b) for b in blobs]],
        separators=(",", ":"),
    ).encode()
    return zlib.compress(b"".join([_HEAD.pack(len(head)), head, *blobs]), LEVEL)


def _column(values: tuple[Any, ...], strings: dict[str | None, int]) -> tuple[str, bytes]:
    """(kind, bytes) for one column: "f" floats, "i" ints, "s" strings or None, "j" JSON."""
    kinds = set(map(type, values))
    if kinds == _FLOAT:
        return "f", _deltas(array("q", array("d", values).tobytes()).tolist())
    if kinds == _INT and min(values) >= _I64_MIN and max(values) <= _I64_MAX:
        return "i", _planes(_deltas(list(values)), 8)
    if kinds <= _TEXT:
        # a new string gets the next index (None is 0), in the order they first come
        new = filterfalse(strings.__contains__, dict.fromkeys(values))
        strings.update(zip(new, count(len(strings))))
        return "s", _planes(array("I", map(strings.__getitem__, values)).tobytes(), 4)
    listed = list(values)
    try:
        text = json.dumps(listed, separators=(",", ":"), allow_nan=True)
    except (TypeError, ValueError):
        raise _NotColumnar from None
    if json.loads(text) != listed:  # tuples, NaN, keys JSON would change
        raise _NotColumnar
    return "j", text.encode()


def _deltas(values: list[int]) -> bytes:
    """Each value minus the one before, the first as it is, as int64 (wrapping)."""
    deltas = [values[0], *map(sub, values[1:], values[:-1])]
    try:
        return array("q", deltas).tobytes()
    except OverflowError:
        return array("q", [(d + _HALF) % _MASK - _HALF for d in deltas]).tobytes()


def _undeltas(blob: bytes | bytearray | memoryview) -> array[int]:
    """The values of ``_deltas`` back, as an int64 array (one C pass for the sums, another
    into the array; only deltas that wrapped take the slow way)."""
    deltas = array("q")
    deltas.frombytes(blob)
    try:
        return array("q", accumulate(deltas))
    except OverflowError:  # the deltas wrapped: so do the sums
        return array("q", [(v + _HALF) % _MASK - _HALF for v in accumulate(deltas)])


def _decode_columns(raw: bytes, planes: bool) -> list[dict[str, Any]]:
    (size,) = _HEAD.unpack_from(raw)
    shapes, columns, table, sizes = json.loads(raw[4 : 4 + size])
    strings: list[str | None] = [None, *table]
    view = memoryview(raw)  # the blobs are slices of it, not copies
    pos = 4 + size
    blobs = []
    for length in sizes:
        blobs.append(view[pos : pos + length])
        pos += length
    order = array("H")
    order.frombytes(blobs[0])
    rows_of: list[list[dict[str, Any]]] = []
    b = 1
    for keys, kinds in zip(shapes, columns, strict=True):
        cols = []
        for kind in kinds:
            cols.append(_values(kind, blobs[b], strings, planes))
            b += 1
        if not keys:  # events with no key at all: zip would give none of them
            rows_of.append([{} for _ in range(order.count(len(rows_of)))])
            continue
        # all in C: dict(zip(keys, row)) for each row of the columns
        rows_of.append(list(map(dict, map(zip, repeat(keys), zip(*cols, strict=True)))))
    if len(rows_of) == 1:
        return rows_of[0]
    # in C too: the next event of the shape `order` names, for each of them
    return list(map(next, map([iter(rows) for rows in rows_of].__getitem__, order)))


def _values(kind: str, blob: memoryview, strings: list[str | None], planes: bool) -> list[Any]:
    if kind == "s":
        refs = array("I")
        refs.frombytes(_unplanes(blob, 4) if planes else blob)
        return list(map(strings.__getitem__, refs))
    if kind == "j":
        values: list[Any] = json.loads(bytes(blob))
        return values
    ints = _undeltas(_unplanes(blob, 8) if planes and kind == "i" else blob)
    if kind == "i":
        return ints.tolist()
    return memoryview(ints).cast("B").cast("d").tolist()  # the bits as the floats they are
