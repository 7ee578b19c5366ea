"""Task text printed to a plain terminal, with nothing in it that can drive the terminal.

Args, results and exceptions are written by whoever sends tasks; an ESC in them could move the
cursor, retitle the window or hide lines. Every control character is spelled out instead
(ESC shows as the four characters ``\\x1b``), exactly as the TUI spells it: the same set,
including U+2028/U+2029 (line breaks) and U+200B (invisible), from ``celerytui.text_safety``.
"""

from __future__ import annotations

from typing import Any

from celerytui.text_safety import escape_controls


def printable(value: Any) -> str:
    """``value`` as one line of text with every control character shown as an escape."""
    return escape_controls(value)
