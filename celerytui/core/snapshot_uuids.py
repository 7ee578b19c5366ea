"""Format 4's uuid column: canonical task ids as their 16 bytes.

Celery's task ids are uuid4 strings (``8-4-4-4-12`` lowercase hex): 36 characters that
zlib packed to ~22.7 bytes, 122 random bits each. Format 4 writes such a column (kind
``"h"``) as the 16 bytes of each id, when every value of it is one, exactly: the column is
written this way only when its text comes back the same, character for character;
anything else (another id scheme, uppercase, one None) stays a string table ("s").

Decoding is C-level: the bytes in hex, then 32 strided slice assignments put its
characters between the dashes of one buffer (an id and a NUL each), split at the NULs.
"""

from __future__ import annotations

from typing import Any

_WIDTH = 37  # an id's text and a NUL
# where each hex digit of an id goes in its text (after the dashes at 8, 13, 18 and 23)
_AT = [k + (k >= 8) + (k >= 12) + (k >= 16) + (k >= 20) for k in range(32)]


def encode_uuids(values: list[Any], blobs: list[bytes]) -> list[Any] | None:
    """An "h" column, or None when a value is no canonical uuid text."""
    if not values or {v.__class__ for v in values} != {str}:
        return None
    text = "".join(values)
    if len(text) != 36 * len(values) or not text.isascii():
        return None
    try:
        raw = bytes.fromhex(text.replace("-", ""))
    except ValueError:
        return None
    if len(raw) != 16 * len(values) or _text(raw, len(values)) != "\x00".join(values):
        return None
    blobs.append(raw)
    return ["h", None, len(raw)]


def decode_uuids(data: memoryview | bytes, count: int) -> list[str]:
    """The ids of an "h" column of ``count`` values."""
    if len(data) != 16 * count:
        raise ValueError("a state snapshot with a short column")
    return _text(bytes(data), count).split("\x00") if count else []


def _text(raw: bytes, count: int) -> str:
    digits = raw.hex().encode("ascii")
    out = bytearray(b"-" * (_WIDTH * count))
    for k, at in enumerate(_AT):
        out[at::_WIDTH] = digits[k::32]
    out[36::_WIDTH] = bytes(count)
    return out[:-1].decode("ascii")
