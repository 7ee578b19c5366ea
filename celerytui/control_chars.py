"""Control characters spelled out: the one rule for every place that shows cluster text.

Pure (stdlib only), so the headless core can use it without Rich or Textual;
``celerytui.text_safety`` builds the TUI's literal text on it.
"""

from __future__ import annotations

import re
from typing import Any

# C0 controls, DEL, C1 controls, the Unicode bidi marks/overrides/isolates that reorder text,
# the line and paragraph separators (U+2028/U+2029 break lines like a newline) and the invisible
# zero-width space, word joiner and BOM (they hide inside a name that looks like another).
_UNICODE = "\u200b\u200e\u200f\u2028\u2029\u202a-\u202e\u2060\u2066-\u2069\ufeff"
_CONTROL = re.compile(f"[\x00-\x1f\x7f-\x9f{_UNICODE}]")
_CONTROL_KEEP_NEWLINES = re.compile(f"[\x00-\x09\x0b-\x1f\x7f-\x9f{_UNICODE}]")
_NAMED = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _escape(match: re.Match[str]) -> str:
    char = match.group(0)
    named = _NAMED.get(char)
    if named:
        return named
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def escape_controls(value: Any, keep_newlines: bool = False) -> str:
    """``value`` as a str with every control character shown as a visible escape."""
    text = value if isinstance(value, str) else ("" if value is None else str(value))
    pattern = _CONTROL_KEEP_NEWLINES if keep_newlines else _CONTROL
    return pattern.sub(_escape, text)
