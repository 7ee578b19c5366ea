"""Times the journal's commands take (`--since`, `--until`, `--from`, `--to`, `--retention`).

ISO 8601 (`2026-12-01T03:00:00`, local time unless it carries an offset or `Z`) or relative
(`2h`, `90m`, `30s`, `1d`, `1h30m`: that long before now), or epoch seconds. Sizes for
`--max-size` too.
"""

from __future__ import annotations

import re
import time
from datetime import datetime

from celerytui.settings_model import TimeError, parse_duration, parse_size

__all__ = ["TimeError", "parse_duration", "parse_size", "parse_time"]

_RELATIVE = re.compile(r"(?:\s*\d+(?:\.\d+)?\s*[smhdw])+\s*", re.IGNORECASE)


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
