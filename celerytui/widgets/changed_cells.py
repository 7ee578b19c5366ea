"""Which cells of a line changed between two draws, so a widget repaints only those.

Textual writes to the terminal what a refresh marks dirty, whole lines when a widget refreshes
all of itself. Idle, the dashboard's only news each second is an age ("hb 3s ago" -> "hb 4s
ago"): repainting just those cells keeps an SSH session's output at a few dozen bytes a
second instead of kilobytes (benchmarks/terminal_bytes.py).
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len
from textual.content import Content
from textual.geometry import Region
from textual.widget import Widget


def changed_span(old: Content | None, new: Content) -> tuple[int, int] | None:
    """(first cell, end cell) that differ between ``old`` and ``new`` as drawn from column 0,
    or None when they look the same; text and styles both count."""
    if old is None:
        return (0, max(1, cell_len(new.plain)))
    a, b = old.plain, new.plain
    old_spans, new_spans = set(old.spans), set(new.spans)
    if a == b and old_spans == new_spans:
        return None
    shortest = min(len(a), len(b))
    start = 0
    while start < shortest and a[start] == b[start]:
        start += 1
    suffix = 0
    if cell_len(a) == cell_len(b):  # else what follows the change has moved: repaint it all
        while suffix < shortest - start and a[-1 - suffix] == b[-1 - suffix]:
            suffix += 1
    end_a, end_b = len(a) - suffix, len(b) - suffix
    if a == b:  # styles only: start from the first span that differs
        start, end_a, end_b = len(a), 0, 0
    for span in old_spans ^ new_spans:
        start = min(start, span.start)
        end_a, end_b = max(end_a, span.end), max(end_b, span.end)
    end_a, end_b = min(end_a, len(a)), min(end_b, len(b))
    first = cell_len(b[:start])
    last = max(cell_len(a[:end_a]), cell_len(b[:end_b]))
    if last <= first:
        return None
    return (first, last)


def refresh_changed(widget: Widget, old: Sequence[Content], new: Sequence[Content]) -> None:
    """Repaint ``widget`` (drawn as ``new``, one Content a line, from its top) where it differs
    from ``old``: a layout only when the number of lines changes (a layout pass of the whole
    screen costs tens of milliseconds), else just the changed cells of the changed lines."""
    if len(old) != len(new):
        widget.refresh(layout=True)
        return
    for y, (before, after) in enumerate(zip(old, new, strict=True)):
        span = changed_span(before, after)
        if span is not None:
            widget.refresh(Region(span[0], y, span[1] - span[0], 1))
