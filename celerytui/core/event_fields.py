"""Reading one field of an event (or a result-backend meta) safely: ids, numbers, texts.

ClusterState's handlers validate what they read before they change anything; these are the
checks they share, kept apart so the handler modules import them without importing the state.
"""

from __future__ import annotations

from datetime import UTC, datetime

TEXT_MAX = 4_096  # args / kwargs / result reprs (celery cuts them near 1 kB anyway)
TRACEBACK_MAX = 32_768
ID_MAX = 256
TS_MIN, TS_MAX = 0.0, 1e11  # plausible epoch seconds; rejects nan, inf and garbage


class Malformed(Exception):
    """An event we count and skip."""


def text_of(value: object, limit: int = TEXT_MAX) -> str | None:
    """A string for display: reprs of non-strings, cut at `limit`."""
    if value is None:
        return None
    if value.__class__ is not str:
        try:
            value = repr(value)
        except Exception:
            return None
    return value if len(value) <= limit else value[:limit]


def id_of(value: object) -> str | None:
    """A plausible id / hostname / name, else None."""
    return value if value.__class__ is str and 0 < len(value) <= ID_MAX else None


def int_of(value: object) -> int | None:
    return value if value.__class__ is int and 0 <= value < 2**62 else None


def number_of(value: object) -> float | None:
    if (value.__class__ is float or value.__class__ is int) and -1e12 < value < 1e12:
        return float(value)
    return None


def parse_date_done(value: object) -> float | None:
    """The backend's ISO date_done as epoch seconds (naive means UTC, as celery stores it)."""
    if value.__class__ is not str or len(value) > 64:
        return number_of(value)
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


def exception_text(result: object) -> str | None:
    """`ValueError('boom')` from the backend's {"exc_type", "exc_message"} dict."""
    if not isinstance(result, dict) or "exc_type" not in result:
        return text_of(result) if result is not None else None
    exc_type = text_of(result.get("exc_type"), ID_MAX)
    message = result.get("exc_message")
    parts = message if isinstance(message, list | tuple) else [message]
    inner = ", ".join(repr(m) if m.__class__ is str else (text_of(m) or "None") for m in parts)
    return text_of(f"{exc_type}({inner})")
