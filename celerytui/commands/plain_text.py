"""Task text printed to a plain terminal, with nothing in it that can drive the terminal.

Args, results and exceptions are written by whoever sends tasks; an ESC in them could move the
cursor, retitle the window or hide lines. Every control character is spelled out instead
(ESC shows as the four characters ``\\x1b``).
"""

from __future__ import annotations

import re
from typing import Any

# C0 controls, DEL, C1 controls, and the bidi overrides/isolates that reorder text.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _spell(match: re.Match[str]) -> str:
    char = match.group(0)
    code = ord(char)
    return _NAMED.get(char) or (f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}")


def printable(value: Any) -> str:
    """``value`` as one line of text with every control character shown as an escape."""
    text = value if isinstance(value, str) else ("" if value is None else str(value))
    return _CONTROL.sub(_spell, text)
