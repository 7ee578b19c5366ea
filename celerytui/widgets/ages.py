"""Relative ages ("12s ago") the way every widget shows them."""

from __future__ import annotations


def short_age(seconds: float) -> str:
    """12s, 3m, 2h, 4d."""
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.0f}s"
    if seconds < 3600:
        return f"{seconds // 60:.0f}m"
    if seconds < 86400:
        return f"{seconds // 3600:.0f}h"
    return f"{seconds // 86400:.0f}d"


def format_age(seconds: float) -> str:
    """12s ago, 3m ago, ..."""
    return f"{short_age(seconds)} ago"
