"""Times the journal's commands take (`--since`, `--until`, `--from`, `--to`, `--retention`).

ISO 8601 (`2026-12-01T03:00:00`, local time unless it carries an offset or `Z`) or relative
(`2h`, `90m`, `30s`, `1d`, `1h30m`: that long before now), or epoch seconds. Sizes for
`--max-size` too.
"""

from __future__ import annotations

import re
import time
from datetime import datetime

_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])", re.IGNORECASE)
_RELATIVE = re.compile(r"(?:\s*\d+(?:\.\d+)?\s*[smhdw])+\s*", re.IGNORECASE)
_SIZE_UNITS = {"": 1, "b": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12}
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([kmgt]?)(i?)b?", re.IGNORECASE)


class TimeError(ValueError):
    """A time, duration or size that cannot be read; the message is one line."""


def parse_duration(text: str) -> float:
    """`2h`, `90m`, `30s`, `1d`, `1h30m`, or plain seconds -> seconds."""
    raw = text.strip()
    try:
        seconds = float(raw)
    except ValueError:
        pass
    else:
        if seconds < 0 or seconds != seconds:
            raise TimeError(f"not a duration: {raw!r}")
        return seconds
    pos, total = 0, 0.0
    for match in _DURATION.finditer(raw):
        if raw[pos : match.start()].strip():
            break
        total += float(match.group(1)) * _UNITS[match.group(2).lower()]
        pos = match.end()
    if pos == 0 or raw[pos:].strip():
        raise TimeError(f"not a duration (like 2h, 90m, 30s): {raw!r}")
    return total


def parse_time(text: str, now: float | None = None) -> float:
    """An ISO 8601 time (local unless an offset is given) or a relative one (`2h` = 2 hours
    ago) -> epoch seconds."""
    raw = text.strip()
    if not raw:
        raise TimeError("empty time")
    if _RELATIVE.fullmatch(raw):
        return (time.time() if now is None else now) - parse_duration(raw)
    try:
        return float(raw)  # epoch seconds, for scripts
    except ValueError:
        pass
    iso = raw[:-1] + "+00:00" if raw.endswith(("Z", "z")) else raw
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        raise TimeError(
            f"not a time (ISO 8601 like 2026-12-01T03:00:00, or 2h, 90m, 30s ago): {raw!r}"
        ) from None
    return moment.timestamp()  # naive: local time, as datetime.timestamp() takes it


def parse_size(text: str) -> int:
    """`1GB`, `500MB`, `2GiB`, `1048576` -> bytes."""
    raw = text.strip()
    match = _SIZE.fullmatch(raw)
    if not match:
        raise TimeError(f"not a size (like 1GB, 500MB): {raw!r}")
    number, unit, binary = match.groups()
    scale = _SIZE_UNITS[unit.lower()]
    if binary and unit:
        scale = 1024 ** "kmgt".index(unit.lower()) * 1024
    return int(float(number) * scale)
