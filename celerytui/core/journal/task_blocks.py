"""Finished task rows kept together in compressed blocks (schema 3): what makes the task
part of a journal ~10 bytes per event instead of ~40.

A task that succeeded leaves the `tasks` table (one row each, task_values.py) for a block
of up to BLOCK_TASKS tasks in `task_blocks`: its fields column by column in one deflate
stream, the ids (uuid, root, parent: task_values.id_bytes) side by side in binary, the rest
as JSON (names as their `names` ids, times as milliseconds: `at` after the block's first,
the others before `at`, like a row). Failures and unfinished tasks stay rows (the partial
failure indexes serve them fast); `task_ids` (SQLite) or the block's `keys` (PostgreSQL)
finds the block of a uuid by a 32-bit key of it (`id_key`: two tasks may share one, a read
checks the uuid).

Times come back to the millisecond, the rest exactly (as from a row).
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable, Sequence
from typing import Any

from celerytui.core.journal.rows import TaskRow
from celerytui.core.journal.task_values import id_bytes, id_text, ms

BLOCK_TASKS = 1_024  # tasks per block, at most (PostgreSQL: twice, store._part_size)
BLOCK_SPAN_MS = 300_000  # of `at` one block covers, at most (retention drops whole blocks)
BLOCK_STATES = frozenset(("SUCCESS", "IGNORED"))  # what goes into blocks; the rest are rows
FORMAT = 1  # first byte of a block
LEVEL = 6  # deflate level
_NONE, _SAME = -1, -2  # id lengths: no id; a root that is the task's own uuid


def id_key(uuid: str) -> int:
    """The `task_ids` key of a task id: its CRC-32, signed (4 bytes in both stores)."""
    return zlib.crc32(id_bytes(uuid)) - 0x80000000


def blockable(row: TaskRow) -> bool:
    return row.state in BLOCK_STATES


def at_ms(row: TaskRow, epoch: int, now: float) -> int:
    """The row's `at` as stored (TaskRow.at; `now` for a row with no time at all)."""
    at = row.at
    return ms(now if at is None else at, epoch)


def _before(at: int, t: float | None, epoch: int) -> int | None:
    return None if t is None else at - round((t - epoch) * 1000)


def _back(at: int, delta: int | None, epoch: int) -> float | None:
    return None if delta is None else epoch + (at - delta) / 1000


def encode(
    rows: Sequence[tuple[int, TaskRow]], epoch: int, name_id: Callable[[str | None], Any]
) -> tuple[int, int, bytes]:
    """(first at, last at, the block) of (at, row) pairs; `name_id` interns a name."""
    ats = [a for a, _ in rows]
    at0 = min(ats)
    ids = bytearray()
    lengths: list[int] = []
    for _, r in rows:
        uuid = id_bytes(r.uuid)
        ids += uuid
        lengths.append(len(uuid))
        if r.root_id is None:
            lengths.append(_NONE)
        elif r.root_id == r.uuid:
            lengths.append(_SAME)
        else:
            root = id_bytes(r.root_id)
            ids += root
            lengths.append(len(root))
        if r.parent_id is None:
            lengths.append(_NONE)
        else:
            parent = id_bytes(r.parent_id)
            ids += parent
            lengths.append(len(parent))
    rs = [r for _, r in rows]
    columns = {
        "l": lengths,
        "n": [name_id(r.name) for r in rs],
        "s": [name_id(r.state) for r in rs],
        "w": [name_id(r.worker) for r in rs],
        "q": [name_id(r.queue) for r in rs],
        "a": [a - at0 for a in ats],
        "t": [
            [
                _before(a, r.sent, epoch),
                _before(a, r.received, epoch),
                _before(a, r.started, epoch),
                _before(a, r.finished, epoch),
                _before(a, r.retried, epoch),
            ]
            for a, r in rows
        ],
        "r": [None if r.runtime is None else round(r.runtime * 1_000_000) for r in rs],
        "y": [r.retries for r in rs],
        "e": [r.exception for r in rs],
        "b": [r.traceback for r in rs],
        "x": [r.args for r in rs],
        "k": [r.kwargs for r in rs],
        "z": [r.result for r in rs],
    }
    text = json.dumps(columns, separators=(",", ":"), ensure_ascii=False)
    body = len(ids).to_bytes(4, "big") + bytes(ids) + text.encode("utf-8", "surrogatepass")
    return at0, max(ats), bytes((FORMAT,)) + zlib.compress(body, LEVEL)


def decode(
    data: bytes, at0: int, epoch: int, name: Callable[[Any], str | None]
) -> list[tuple[int, TaskRow]]:
    """The (at, row) pairs of a block made by `encode`; `name(id)` is the interned text."""
    data = bytes(data)
    if data[0] != FORMAT:
        raise ValueError(f"unknown task block format {data[0]}")
    body = zlib.decompress(data[1:])
    size = int.from_bytes(body[:4], "big")
    ids = body[4 : 4 + size]
    c = json.loads(body[4 + size :].decode("utf-8", "surrogatepass"))
    lengths = c["l"]
    out: list[tuple[int, TaskRow]] = []
    pos = 0
    columns = [c[key] for key in "nswqatryebxkz"]
    for i, (n, s, w, q, a, t, rt, y, e, b, x, k, z) in enumerate(zip(*columns, strict=True)):
        found: list[str | None] = []
        for length in lengths[3 * i : 3 * i + 3]:
            if length < 0:
                found.append(None if length == _NONE else found[0])
            else:
                found.append(id_text(ids[pos : pos + length]))
                pos += length
        uuid, root, parent = found
        at = at0 + a
        sent, received, started, finished, retried = t
        out.append(
            (
                at,
                TaskRow(
                    uuid or "",
                    name(n),
                    name(s) or "PENDING",
                    name(w),
                    name(q),
                    _back(at, sent, epoch),
                    _back(at, received, epoch),
                    _back(at, started, epoch),
                    _back(at, finished, epoch),
                    None if rt is None else rt / 1_000_000,
                    int(y),
                    e,
                    b,
                    root,
                    parent,
                    x,
                    k,
                    z,
                    _back(at, retried, epoch),
                ),
            )
        )
    return out
