"""The dashboard's workers: a block of lines per worker (three, or one when they do not fit),
in one scrolling widget that renders only the visible lines.

Two hundred workers as two hundred widgets made every layout pass cost tens of milliseconds;
as lines in one ScrollView they cost nothing until they are on screen.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from rich.segment import Segment
from textual.content import Content
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from celerytui.core.model import WORKER_LOST, WORKER_OFFLINE, Worker
from celerytui.widgets.changed_cells import changed_span
from celerytui.widgets.worker_pane import worker_lines

FULL_PANE_HEIGHT = 3
STATUS_RANK = {WORKER_LOST: 0, WORKER_OFFLINE: 2}
EMPTY = Content.styled("no workers seen yet", "$text-muted")
BLANK = Content(" ")


def natural_key(hostname: str) -> list:
    """w2 before w10: digits compare as numbers."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", hostname)]


class WorkerGrid(ScrollView, can_focus=True):
    """Every worker's pane as lines; lost workers first, then by name."""

    DEFAULT_CSS = """
    WorkerGrid { height: 1fr; background: $background; overflow-x: hidden; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._blocks: dict[str, list[Content]] = {}  # hostname -> its pane's lines
        self._order: list[str] = []
        self._lines: list[Content] = []
        self._second = -1
        self._compact = False
        self._width = 0
        self._repaint_all = True  # the next show() refreshes everything (first draw, resize)

    def show(
        self,
        workers: dict[str, Worker],
        series: Callable[[str], Sequence[int]],
        now: float,
        changed: set[str] | None,
    ) -> None:
        """Sync with ``workers``; ``changed`` None repaints all (ages move once a second)."""
        width = self.scrollable_content_region.width or self.size.width or 78
        height = self.size.height or 10
        compact = len(workers) * FULL_PANE_HEIGHT > height
        second = int(now)
        if (
            changed is not None
            and not changed
            and second == self._second
            and compact == self._compact
            and width == self._width
        ):
            return  # every worker change is named in ``changed``: nothing moved this tick
        order = sorted(
            workers, key=lambda h: (STATUS_RANK.get(workers[h].status, 1), natural_key(h))
        )
        everything = (
            changed is None
            or second != self._second
            or compact != self._compact
            or width != self._width
            or order != self._order
        )
        self._second, self._compact, self._width = second, compact, width
        targets = order if everything else [h for h in changed or () if h in workers]
        dirty = everything
        for hostname in targets:
            lines = worker_lines(workers[hostname], series(hostname), now, width, compact)
            old = self._blocks.get(hostname)
            if old is None or [c.plain for c in old] != [c.plain for c in lines] or everything:
                self._blocks[hostname] = lines
                dirty = True
        if not dirty:
            return
        for gone in set(self._blocks) - set(workers):
            del self._blocks[gone]
        self._order = order
        old, self._lines = self._lines, [line for h in order for line in self._blocks[h]] or [EMPTY]
        if len(old) != len(self._lines) or self._repaint_all:
            self._repaint_all = False
            self.virtual_size = Size(1, len(self._lines))  # lines are cut to width: no x scroll
            self.refresh()
            return
        self._refresh_changed(old)

    def _refresh_changed(self, old: list[Content]) -> None:
        """Mark dirty only the visible cells that differ from what was drawn (an age, a count):
        idle, that is a few cells a second, not every line of every pane."""
        top = self.scroll_offset.y
        for index in range(top, min(len(self._lines), top + (self.size.height or 0))):
            span = changed_span(old[index], self._lines[index])
            if span is not None:
                start, end = span
                self.refresh(Region(start, index - top, end - start, 1))

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.scrollable_content_region.width
        line = self._lines[index] if index < len(self._lines) else BLANK
        base = self.visual_style
        parse = self.app.stylesheet.parse_style
        segments = [
            Segment(text, style.rich_style if style else None)
            for text, style in line.render(base, end="", parse_style=parse)
        ]
        return Strip(segments).crop_extend(scroll_x, scroll_x + width, self.rich_style)

    def on_resize(self) -> None:
        self._width = -1  # next show() rebuilds every line at the new width
        self._repaint_all = True
