"""Record types of the settings that config.py and config_checks.py both build.

Kept apart so config_checks (which validates them) does not import config (which uses the
checks): ``celerytui.config`` re-exports them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(slots=True)
class DiskHost:
    """One SSH disk-check host. ``name`` is what tasks are called with (``local`` = no SSH)."""

    name: str
    host: str | None = None  # defaults to name
    port: int = 22
    user: str = "monitor"
    key_file: str | None = None
    known_hosts: str | None = None  # defaults to ~/.ssh/known_hosts
    accept_unknown_host_key: bool = False
    path: str = "/"
    timeout: float = 10.0


# ---- the journal (history): `store`, `record`, `retention`, `max_size` -------------------
# Durations and sizes are read here (stdlib only) so the settings checks and the journal's
# commands (core/journal/times.py re-exports them) agree.


class TimeError(ValueError):
    """A time, duration or size that cannot be read; the message is one line."""


RETENTION_DEFAULT = 48 * 3600.0
MAX_SIZE_DEFAULT = 10**9
STORE_SCHEMES = ("postgresql", "postgres")


def journal_store(value: object) -> str:
    """A SQLite file path or a postgresql:// URL (the journal's `store` setting)."""
    if not isinstance(value, str) or not value.strip():
        raise TimeError("a file path or a postgresql:// URL")
    text = value.strip()
    scheme = text.split("://", 1)[0].lower() if "://" in text else ""
    if scheme and scheme not in STORE_SCHEMES:
        raise TimeError(f"a file path or a postgresql:// URL, not {scheme}://")
    return text


_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])", re.IGNORECASE)
_SIZE_UNITS = {"": 1, "b": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12}
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([kmgt]?)(i?)b?", re.IGNORECASE)


def parse_duration(text: str) -> float:
    """`2h`, `90m`, `30s`, `1d`, `1h30m`, or plain seconds -> seconds."""
    raw = text.strip()
    try:
        seconds = float(raw)
    except ValueError:
        pass
    else:
        if not 0 <= seconds < float("inf"):
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
