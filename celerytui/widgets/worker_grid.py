"""The dashboard's workers: a block of lines per worker (three, or one when they do not fit),
in one scrolling widget that renders only the visible lines.

Two hundred workers as two hundred widgets made every layout pass cost tens of milliseconds;
as lines in one ScrollView they cost nothing until they are on screen. Their text is made
only for the workers in view (and a screen's worth either side, for scrolling), since ages
move every second; and only the cells that changed are repainted (an idle terminal over SSH
gets a few bytes a second, not every line).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import lru_cache

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


@lru_cache(maxsize=4096)
def natural_key(hostname: str) -> tuple:
    """w2 before w10: digits compare as numbers."""
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", hostname))


class WorkerGrid(ScrollView, can_focus=True):
    """Every worker's pane as lines; lost workers first, then by name."""

    DEFAULT_CSS = """
    WorkerGrid { height: 1fr; background: $background; overflow-x: hidden; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._blocks: dict[str, list[Content]] = {}  # hostname -> its pane's lines (near view)
        self._order: list[str] = []
        self._per = FULL_PANE_HEIGHT  # lines per worker: 1 when compact
        self._drawn: dict[int, Content] = {}  # line index -> what was drawn there (in view)
        self._second = -1
        self._compact = False
        self._width = 0
        self._top = 0  # the scroll offset the blocks were made for
        self._missed = False  # render_line met a worker whose lines were not made
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
        top = self.scroll_offset.y
        if (
            changed is not None
            and not changed
            and second == self._second
            and compact == self._compact
            and width == self._width
            and top == self._top
            and not self._missed
        ):
            return  # every worker change is named in ``changed``: nothing moved this tick
        order = sorted(
            workers, key=lambda h: (STATUS_RANK.get(workers[h].status, 1), natural_key(h))
        )
        per = 1 if compact else FULL_PANE_HEIGHT
        relaid = (
            self._repaint_all
            or order != self._order
            or compact != self._compact
            or width != self._width
        )
        everything = relaid or changed is None or second != self._second
        self._second, self._compact, self._width, self._top = second, compact, width, top
        self._repaint_all = self._missed = False
        # the workers in view, and a screen's worth either side so a scroll finds them made
        first = max(0, top - height) // per
        last = min(len(order), (top + 2 * height) // per + 1)
        blocks: dict[str, list[Content]] = {}
        for hostname in order[first:last]:
            old = self._blocks.get(hostname)
            if old is None or everything or (changed is not None and hostname in changed):
                old = worker_lines(workers[hostname], series(hostname), now, width, compact)
            blocks[hostname] = old
        self._blocks, self._order, self._per = blocks, order, per
        if relaid:
            self.virtual_size = Size(1, max(1, len(order) * per))  # cut to width: no x scroll
            self.refresh()
            self._drawn = self._in_view(top, height)
            return
        self._refresh_changed(self._in_view(top, height), top)

    def _line(self, index: int) -> Content | None:
        """The text of line ``index``; None when it was not made (out of the made range)."""
        if not self._order:
            return EMPTY if index == 0 else BLANK
        block = index // self._per
        if block >= len(self._order):
            return BLANK
        lines = self._blocks.get(self._order[block])
        if lines is None:
            return None
        return lines[index % self._per] if index % self._per < len(lines) else BLANK

    def _in_view(self, top: int, height: int) -> dict[int, Content]:
        drawn = {}
        for index in range(top, top + height):
            line = self._line(index)
            if line is not None:
                drawn[index] = line
        return drawn

    def _refresh_changed(self, drawn: dict[int, Content], top: int) -> None:
        """Mark dirty only the visible cells that differ from what was drawn (an age, a count):
        idle, that is a few cells a second, not every line of every pane."""
        old = self._drawn
        for index, line in drawn.items():
            span = changed_span(old.get(index), line)
            if span is not None:
                start, end = span
                self.refresh(Region(start, index - top, end - start, 1))
        self._drawn = drawn

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.scrollable_content_region.width
        line = self._line(index)
        if line is None:  # scrolled past what was made: blank until the next tick makes it
            self._missed = True
            line = BLANK
        base = self.visual_style
        parse = self.app.stylesheet.parse_style
        segments = [
            Segment(text, style.rich_style if style else None)
            for text, style in line.render(base, end="", parse_style=parse)
        ]
        return Strip(segments).crop_extend(scroll_x, scroll_x + width, self.rich_style)

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        self._drawn = {}  # a scroll repaints the view: the next tick compares with nothing

    def on_resize(self) -> None:
        self._width = -1  # next show() rebuilds every line at the new width
        self._repaint_all = True
