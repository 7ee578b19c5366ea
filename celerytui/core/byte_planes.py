"""Fixed-width values as their byte planes: byte 0 of every value, then byte 1, ... (close
timestamps and small ints share their high bytes, which deflate then packs as long runs).
Both ways are C-level slice copies. Used by the journal's event chunks (codec 3) and the
state snapshots' number columns."""

from __future__ import annotations


def planes(data: bytes, width: int) -> bytes:
    """``data`` (values of ``width`` bytes each) plane by plane."""
    return b"".join([data[k::width] for k in range(width)])


def unplanes(data: bytes | bytearray | memoryview, width: int) -> bytes:
    """The values ``planes`` was given, back; a length that is not whole values is a
    ValueError (a cut column)."""
    if len(data) % width:
        raise ValueError(f"a cut column: {len(data)} bytes are not values of {width}")
    n = len(data) // width
    out = bytearray(len(data))
    for k in range(width):
        out[k::width] = data[k * n : (k + 1) * n]
    return bytes(out)
