"""Sparklines and meters as plain strings, so a whole pane stays one cheap line of text."""

from __future__ import annotations

from collections.abc import Sequence

BLOCKS = " ▁▂▃▄▅▆▇█"


def sparkline(values: Sequence[float], width: int) -> str:
    """The newest ``width`` values as block characters, scaled to their own maximum."""
    if width <= 0:
        return ""
    tail = list(values)[-width:]
    if len(tail) < width:
        tail = [0.0] * (width - len(tail)) + tail
    peak = max(tail) if tail else 0
    if peak <= 0:
        return BLOCKS[1] * width if any(v == 0 for v in tail) else " " * width
    top = len(BLOCKS) - 1
    return "".join(
        BLOCKS[max(1, min(top, round(v / peak * top)))] if v > 0 else BLOCKS[1] for v in tail
    )


def meter(percent: float | None, width: int) -> str:
    """A bar like ``█████░░░░░`` for a percentage (0-100); blank when unknown."""
    if width <= 0:
        return ""
    if percent is None:
        return "·" * width
    filled = round(max(0.0, min(100.0, percent)) / 100 * width)
    return "█" * filled + "░" * (width - filled)
