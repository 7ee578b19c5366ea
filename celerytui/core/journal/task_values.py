"""A TaskRow <-> the values of its row in the `tasks` table (schema 2): what makes a task
row ~60 bytes on disk instead of ~500.

- uuid, root_id, parent_id: a canonical uuid as its 16 bytes; any other id as a marker byte
  and its 16 bytes (32 lowercase hex digits, uuid.hex) or its UTF-8 (never 16 bytes long in
  all, so it cannot be taken for a uuid). A root_id equal to the
  task's own uuid (what Celery sends for a task without parent) is the empty blob.
- name, state, worker, queue: small ints of the `names` table (names.py).
- times: integer milliseconds. `at` (TaskRow.at, what since/until and pruning compare) is
  counted from the store's epoch (meta `time_epoch`: the first task's time, so it takes 4
  bytes for weeks); sent/received/started/finished/retried are what they are before `at`
  (0 to a few thousand: 0 to 2 bytes). runtime in microseconds.
- args, kwargs, result, exception, traceback: a marker byte, then UTF-8, deflated when that
  is shorter: with the store's dictionary (meta `zdict`, made from its first rows' texts, so
  a 45-character args repr takes ~14 bytes, a traceback ~30) or, before there is one, plain
  zlib. The text search decodes them in Python (store_reads.py).

Times come back to the millisecond (what the screens show), the rest exactly.

Schema 5 keeps in columns only what SQL reads (at, name, state, worker, uuid: ROW_COLUMNS)
and the rest of those values in one `data` blob (`pack_data`: a format byte, varints for the
queue, the times before `at`, runtime and retries, then each id and packed text behind its
length). On PostgreSQL a row of 20 columns took 8 bytes a time even for a 0 ms delta, a null
bitmap that made its header 32 bytes and alignment padding: the synthetic stream's 7,707
failure rows took 1.34 MB of heap, 0.96 MB in this layout (4.45 -> ~3.2 B/event). The cost:
a row read takes ~5.4 µs instead of ~2.6 (unpack_data is Python), which shows in a text
search, read 5,000 rows a page: 2M task rows on PostgreSQL, the first 100 matches 38 -> 50 ms.
`values` and `task_row` are still the schema 2-4 row (COLUMNS), which migrations read and
write.
"""

from __future__ import annotations

import zlib
from typing import Any

from celerytui.core.journal.rows import TaskRow

RAW, ZLIB, ZDICT = 0, 1, 2  # first byte of a stored args / kwargs / result / traceback
COMPRESS_FROM = 64  # bytes; shorter texts are kept raw while there is no dictionary
DICT_FROM = 8  # bytes; with the dictionary, texts from this long are deflated
DICT_SIZE = 2048  # bytes of the store's dictionary (more packs a little smaller, slower)
DICT_SAMPLES = 200  # texts needed to make one
CACHE_MAX = 50_000  # packed texts remembered (a task's args are packed at every update)
UNPACKED_MAX = 20_000  # unpacked texts remembered, of those stored in up to UNPACKED_SIZE
UNPACKED_SIZE = 1_024  # bytes
_OTHER, _OTHER_PADDED, _HEX32 = 0, 1, 2  # first byte of an id that is no canonical uuid
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
# schema 5: the columns of `tasks`, `data` last (pack_data)
ROW_COLUMNS = ("at", "name", "state", "worker", "uuid", "data")
DATA_FORMAT = 1  # first byte of `data`


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
    elif len(text) == 32 and _HEX.issuperset(text):  # uuid.hex: 17 bytes
        return bytes((_HEX32,)) + bytes.fromhex(text)
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
    kind = data[0]
    if kind == _HEX32:
        return data[1:].hex()
    return data[2 if kind == _OTHER_PADDED else 1 :].decode("utf-8", "surrogatepass")


def make_dict(texts: list[tuple[str, bool]]) -> bytes:
    """A deflate dictionary from sample texts, each with whether its row stays a row (a
    failure: what the dictionary packs for as long as the store keeps it; the tasks that
    succeed leave for blocks, which deflate on their own). Distinct texts, those of such rows
    and the most repeated last (what deflate matches best), cut to DICT_SIZE from the end.

    Before, the distinct texts in the order they came: which ones filled the 2 KB then
    depended on the order of a flush's rows (by hash, per process), and one dictionary in six
    packed the synthetic stream's failure rows to 110 bytes of text instead of 37-41
    (tasks 5.9 instead of 3.3-3.6 B/event on SQLite, 11.0 instead of 8.4-8.8 on PostgreSQL).
    Now 35.5-37.5 for the six orders tried."""
    count: dict[str, int] = {}
    stays: set[str] = set()
    for text, row in texts:
        count[text] = count.get(text, 0) + 1
        if row:
            stays.add(text)
    order = sorted(count, key=lambda t: (t in stays, count[t]))  # stable: ties as they came
    return "".join(order).encode("utf-8", "surrogatepass")[-DICT_SIZE:]


class Packer:
    """Packs and unpacks the texts of task rows; `zdict` is the store's dictionary (None
    until it has one: `load_dict` is asked when a row needs it)."""

    def __init__(self, load_dict: Any = None) -> None:
        self._zdict: bytes | None = None
        self._deflate: Any = None  # a compressor primed with the dictionary, copied per text
        self._load_dict = load_dict
        self._cache: dict[str, bytes] = {}
        # texts unpacked, by what was stored: failures repeat their exceptions and
        # tracebacks, and a dictionary's inflate costs more than the rest of the row
        self._unpacked: dict[bytes, str] = {}

    @property
    def zdict(self) -> bytes | None:
        return self._zdict

    @zdict.setter
    def zdict(self, value: bytes | None) -> None:
        self._zdict = value
        self._deflate = None
        self._unpacked.clear()
        if value is not None:
            self._deflate = zlib.compressobj(
                6, zlib.DEFLATED, -15, 8, zlib.Z_DEFAULT_STRATEGY, value
            )

    def pack(self, text: str | None) -> bytes | None:
        if text is None:
            return None
        found = self._cache.get(text)
        if found is not None:
            return found
        raw = text.encode("utf-8", "surrogatepass")
        packed = bytes((RAW,)) + raw
        if self._deflate is not None and len(raw) >= DICT_FROM:
            z = self._deflate.copy()
            deflated = z.compress(raw) + z.flush()
            if len(deflated) < len(raw):
                packed = bytes((ZDICT,)) + deflated
        elif len(raw) >= COMPRESS_FROM:
            deflated = zlib.compress(raw, 6)
            if len(deflated) < len(raw):
                packed = bytes((ZLIB,)) + deflated
        if len(self._cache) >= CACHE_MAX:
            self._cache.clear()
        self._cache[text] = packed
        return packed

    def unpack(self, data: bytes | None) -> str | None:
        if data is None:
            return None
        data = bytes(data)
        found = self._unpacked.get(data)
        if found is not None:
            return found
        kind = data[0]
        if kind == ZDICT:
            if self.zdict is None and self._load_dict is not None:
                self.zdict = self._load_dict()
            z = zlib.decompressobj(-15, self.zdict or b"")
            body = z.decompress(data[1:]) + z.flush()
        elif kind == ZLIB:
            body = zlib.decompress(data[1:])
        else:
            body = data[1:]
        text = body.decode("utf-8", "surrogatepass")
        if len(data) <= UNPACKED_SIZE:
            if len(self._unpacked) >= UNPACKED_MAX:
                self._unpacked.clear()
            self._unpacked[data] = text
        return text

    def forget(self) -> None:
        """The dictionary was not written after all (its flush failed)."""
        self.zdict = None
        self._cache.clear()
        self._unpacked.clear()


def ms(t: float, epoch: int) -> int:
    """Epoch seconds -> milliseconds after the store's epoch (what `at` holds)."""
    return round((t - epoch) * 1000)


def _before(at_ms: int, t: float | None, epoch: int) -> int | None:
    return None if t is None else at_ms - round((t - epoch) * 1000)


def values(row: TaskRow, epoch: int, name_id: Any, at: float, packer: Packer) -> tuple[Any, ...]:
    """The row's values in COLUMNS order; `name_id(text)` interns a name (None -> None)."""
    pack = packer.pack
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
        pack(row.exception),
        pack(row.traceback),
        None if root is None else b"" if root == uuid else id_bytes(root),
        None if row.parent_id is None else id_bytes(row.parent_id),
        pack(row.args),
        pack(row.kwargs),
        pack(row.result),
    )


def task_row(stored: tuple[Any, ...], epoch: int, name: Any, packer: Packer) -> TaskRow:
    """The TaskRow of a row read in COLUMNS order; `name(id)` is the interned text."""
    return task_rows([stored], epoch, name, packer)[0]


def task_rows(found: list[tuple[Any, ...]], epoch: int, name: Any, packer: Packer) -> list[TaskRow]:
    """``task_row`` of each of ``found``: one loop with its lookups bound once and the time
    columns rebuilt inline (a search hands back thousands: "failures of one name in 24 h"
    over 10M tasks is ~8k rows, and the per-row calls were half of its time)."""
    unpack = packer.unpack
    rows: list[TaskRow] = []
    append = rows.append
    for (
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
    ) in found:
        uuid = id_text(uuid_b)
        append(
            TaskRow(
                uuid,
                name(name_i),
                name(state_i) or "PENDING",
                name(worker_i),
                name(queue_i),
                None if sent is None else epoch + (at_ms - sent) / 1000,
                None if received is None else epoch + (at_ms - received) / 1000,
                None if started is None else epoch + (at_ms - started) / 1000,
                None if finished is None else epoch + (at_ms - finished) / 1000,
                None if runtime is None else runtime / 1_000_000,
                int(retries),
                None if exception is None else unpack(exception),
                None if traceback is None else unpack(traceback),
                None if root is None else uuid if len(root) == 0 else id_text(root),
                None if parent is None else id_text(parent),
                None if args is None else unpack(args),
                None if kwargs is None else unpack(kwargs),
                None if result is None else unpack(result),
                None if retried is None else epoch + (at_ms - retried) / 1000,
            )
        )
    return rows


def _uint(out: bytearray, v: int) -> None:
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)


def _opt_int(out: bytearray, v: int | None) -> None:
    """None as 0, any other int zigzagged and one up."""
    _uint(out, 0 if v is None else (2 * v if v >= 0 else -2 * v - 1) + 1)


def pack_data(stored: tuple[Any, ...]) -> bytes:
    """The `data` of a row of schema 5 from its values in COLUMNS order (`values`)."""
    out = bytearray((DATA_FORMAT,))
    for v in stored[4:5] + stored[6:13]:  # queue, sent .. retried, runtime, retries
        _opt_int(out, v)
    for blob in stored[13:]:  # exception, traceback, root_id, parent_id, args, kwargs, result
        if blob is None:
            out.append(0)
        else:
            _uint(out, len(blob) + 1)
            out += blob
    return bytes(out)


def unpack_data(data: bytes) -> list[Any]:
    """The values `pack_data` was given after name, state, worker and at: queue, sent ..
    result, in COLUMNS order."""
    data = bytes(data)
    if data[0] != DATA_FORMAT:
        raise ValueError(f"unknown task row format {data[0]}")
    out: list[Any] = []
    pos = 1
    for i in range(15):
        v = shift = 0
        while True:
            b = data[pos]
            pos += 1
            v |= (b & 0x7F) << shift
            shift += 7
            if b < 0x80:
                break
        if i < 8:
            out.append(None if v == 0 else (v - 1) // 2 if v % 2 else -(v // 2))
        elif v == 0:
            out.append(None)
        else:
            out.append(data[pos : pos + v - 1])
            pos += v - 1
    return out


def row_values(v2: tuple[Any, ...]) -> tuple[Any, ...]:
    """A row's values in ROW_COLUMNS order from those in COLUMNS order (`values`)."""
    return (v2[5], v2[1], v2[2], v2[3], v2[0], pack_data(v2))


def v2_values(stored: tuple[Any, ...]) -> tuple[Any, ...]:
    """Values in COLUMNS order from a row read in ROW_COLUMNS order."""
    at, name, state, worker, uuid, data = stored
    rest = unpack_data(data)
    return (uuid, name, state, worker, rest[0], at, *rest[1:])


def stored_row(
    row: TaskRow, epoch: int, name_id: Any, at: float, packer: Packer
) -> tuple[Any, ...]:
    """The row's values in ROW_COLUMNS order (see `values`)."""
    return row_values(values(row, epoch, name_id, at, packer))


def read_row(stored: tuple[Any, ...], epoch: int, name: Any, packer: Packer) -> TaskRow:
    """The TaskRow of a row read in ROW_COLUMNS order."""
    return task_row(v2_values(stored), epoch, name, packer)


def read_rows(found: list[tuple[Any, ...]], epoch: int, name: Any, packer: Packer) -> list[TaskRow]:
    """``read_row`` of each of ``found`` (``task_rows`` of their COLUMNS values)."""
    return task_rows(list(map(v2_values, found)), epoch, name, packer)
