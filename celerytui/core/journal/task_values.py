"""A TaskRow <-> the values of its row in the `tasks` table (schema 2): what makes a task
row ~60 bytes on disk instead of ~500.

- uuid, root_id, parent_id: a canonical uuid as its 16 bytes; any other id as a marker byte
  and its UTF-8 (never 16 bytes long, so the two cannot be confused). A root_id equal to the
  task's own uuid (what Celery sends for a task without parent) is the empty blob.
- name, state, worker, queue: small ints of the `names` table (names.py).
- times: integer milliseconds. `at` (TaskRow.at, what since/until and pruning compare) is
  counted from the store's epoch (meta `time_epoch`: the first task's time, so it takes 4
  bytes for weeks); sent/received/started/finished/retried are what they are before `at`
  (0 to a few thousand: 0 to 2 bytes). runtime in microseconds.
- traceback and result (never searched): a marker byte, then UTF-8, zlib-compressed when
  that is shorter. args, kwargs and exception stay text: the text search reads them.

Times come back to the millisecond (what the screens show), the rest exactly.
"""

from __future__ import annotations

import zlib
from typing import Any

from celerytui.core.journal.rows import TaskRow

RAW, ZLIB = 0, 1  # first byte of a stored traceback / result
COMPRESS_FROM = 64  # bytes; shorter texts are kept raw
_OTHER, _OTHER_PADDED = 0, 1  # first byte of an id that is no canonical uuid
_HEX = frozenset("0123456789abcdef")

# the columns of `tasks` after uuid, in the order values() gives them
VALUE_COLUMNS = (
    "name",
    "state",
    "worker",
    "queue",
    "at",
    "sent",
    "received",
    "started",
    "finished",
    "retried",
    "runtime",
    "retries",
    "exception",
    "traceback",
    "root_id",
    "parent_id",
    "args",
    "kwargs",
    "result",
)
COLUMNS = ("uuid", *VALUE_COLUMNS)


def id_bytes(text: str) -> bytes:
    """A task id as stored: 16 bytes for a canonical (lowercase, dashed) uuid."""
    if (
        len(text) == 36
        and text[8] == "-"
        and text[13] == "-"
        and text[18] == "-"
        and text[23] == "-"
    ):
        digits = text.replace("-", "")
        if len(digits) == 32 and _HEX.issuperset(digits):
            return bytes.fromhex(digits)
    raw = text.encode("utf-8", "surrogatepass")
    if len(raw) == 15:  # 1 + 15 would read back as a uuid
        return bytes((_OTHER_PADDED, 0)) + raw
    return bytes((_OTHER,)) + raw


def id_text(data: bytes) -> str:
    """The task id `id_bytes` stored."""
    data = bytes(data)
    if len(data) == 16:
        h = data.hex()
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
    start = 2 if data[:1] == bytes((_OTHER_PADDED,)) else 1
    return data[start:].decode("utf-8", "surrogatepass")


def pack_text(text: str | None) -> bytes | None:
    if text is None:
        return None
    raw = text.encode("utf-8", "surrogatepass")
    if len(raw) >= COMPRESS_FROM:
        packed = zlib.compress(raw, 6)
        if len(packed) < len(raw):
            return bytes((ZLIB,)) + packed
    return bytes((RAW,)) + raw


def unpack_text(data: bytes | None) -> str | None:
    if data is None:
        return None
    data = bytes(data)
    body = zlib.decompress(data[1:]) if data[0] == ZLIB else data[1:]
    return body.decode("utf-8", "surrogatepass")


def ms(t: float, epoch: int) -> int:
    """Epoch seconds -> milliseconds after the store's epoch (what `at` holds)."""
    return round((t - epoch) * 1000)


def _before(at_ms: int, t: float | None, epoch: int) -> int | None:
    return None if t is None else at_ms - round((t - epoch) * 1000)


def _back(at_ms: int, delta: int | None, epoch: int) -> float | None:
    return None if delta is None else epoch + (at_ms - delta) / 1000


def values(row: TaskRow, epoch: int, name_id: Any, at: float) -> tuple[Any, ...]:
    """The row's values in COLUMNS order; `name_id(text)` interns a name (None -> None)."""
    at_ms = ms(at, epoch)
    uuid = row.uuid
    root = row.root_id
    return (
        id_bytes(uuid),
        name_id(row.name),
        name_id(row.state),
        name_id(row.worker),
        name_id(row.queue),
        at_ms,
        _before(at_ms, row.sent, epoch),
        _before(at_ms, row.received, epoch),
        _before(at_ms, row.started, epoch),
        _before(at_ms, row.finished, epoch),
        _before(at_ms, row.retried, epoch),
        None if row.runtime is None else round(row.runtime * 1_000_000),
        row.retries,
        row.exception,
        pack_text(row.traceback),
        None if root is None else b"" if root == uuid else id_bytes(root),
        None if row.parent_id is None else id_bytes(row.parent_id),
        row.args,
        row.kwargs,
        pack_text(row.result),
    )


def task_row(stored: tuple[Any, ...], epoch: int, name: Any) -> TaskRow:
    """The TaskRow of a row read in COLUMNS order; `name(id)` is the interned text."""
    (
        uuid_b,
        name_i,
        state_i,
        worker_i,
        queue_i,
        at_ms,
        sent,
        received,
        started,
        finished,
        retried,
        runtime,
        retries,
        exception,
        traceback,
        root,
        parent,
        args,
        kwargs,
        result,
    ) = stored
    uuid = id_text(uuid_b)
    return TaskRow(
        uuid,
        name(name_i),
        name(state_i) or "PENDING",
        name(worker_i),
        name(queue_i),
        _back(at_ms, sent, epoch),
        _back(at_ms, received, epoch),
        _back(at_ms, started, epoch),
        _back(at_ms, finished, epoch),
        None if runtime is None else runtime / 1_000_000,
        int(retries),
        exception,
        unpack_text(traceback),
        None if root is None else uuid if len(root) == 0 else id_text(root),
        None if parent is None else id_text(parent),
        args,
        kwargs,
        unpack_text(result),
        _back(at_ms, retried, epoch),
    )
