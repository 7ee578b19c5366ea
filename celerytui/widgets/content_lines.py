"""A widget drawn as lines of Content, each line rendered once until it changes.

Textual renders a plain widget whole whenever any part of it is refreshed (``render()``, then
every line of it to strips). The checks panel holds a line per HTTP target and disk host (fifty
in benchmarks/ui_lag.py, eight in view) and some check changes every tick at 10k events/s:
each tick re-rendered all fifty lines, 5.5 ms of the UI loop, five times a second. Here the
compositor asks for the lines it repaints (``render_line``) and only a line whose Content
changed since it was last drawn is rendered again; the strips are the ones Textual's own
whole render makes (each line is wrapped and styled the same way, on its own).
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.content import Content
from textual.geometry import Region
from textual.strip import Strip
from textual.visual import Visual
from textual.widget import Widget

from celerytui.widgets.changed_cells import changed_span

NEWLINE = Content("\n")


class ContentLines(Widget):
    """Subclasses call ``set_lines()``; ``render()`` stays the whole text (for the height,
    text selection and the tests that read it)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._lines: list[Content] = []
        self._strips: list[Strip | None] = []  # per line, None until drawn
        self._strips_width = -1
        self._wraps: bool | None = None  # some line is wider than the widget (None: not known)
        self._whole_stale = True  # Textual's whole render (the fallback) is of older lines

    def set_lines(self, lines: Sequence[Content]) -> None:
        """Show ``lines``; repaint only the cells that changed (changed_cells). A line that
        is the very Content drawn before (a subclass made it once) is not compared at all."""
        old, strips = self._lines, self._strips
        wrapped = self._wraps
        self._lines, self._wraps, self._whole_stale = list(lines), None, True
        width = self.size.width
        if (
            len(old) != len(self._lines)
            or wrapped
            or any(line.cell_length > width for line in self._lines)
        ):
            self._strips = [None] * len(self._lines)
            self.refresh(layout=True)  # the height may change: lines added, gone or wrapped
            return
        kept: list[Strip | None] = []
        for y, (before, after) in enumerate(zip(old, self._lines, strict=True)):
            if before is after:
                kept.append(strips[y])
                continue
            span = changed_span(before, after)
            kept.append(strips[y] if span is None else None)
            if span is not None:
                self.refresh(Region(span[0], y, span[1] - span[0], 1))
        self._strips = kept

    def render(self) -> Content:
        return NEWLINE.join(self._lines)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if width != self._strips_width:
            self._strips_width, self._wraps, self._whole_stale = width, None, True
            self._strips = [None] * len(self._lines)
        if self._wraps is None:
            self._wraps = any(line.cell_length > width for line in self._lines)
        if self._wraps or self.text_selection is not None:
            return self._whole(y)  # lines move down as others wrap; a selection spans lines
        if not 0 <= y < len(self._lines):
            return Strip.blank(width, self.visual_style.rich_style)
        strip = self._strips[y]
        if strip is None:
            strip = self._strips[y] = self._line_strip(y, width)
            if strip is None:
                self._wraps = True
                return self._whole(y)
        self._dirty_regions.clear()  # (what Textual's whole render clears once it has drawn)
        return strip

    def _whole(self, y: int) -> Strip:
        """Textual's own render of the whole text, made again (set dirty) once the lines or
        the width changed since it was last made (this widget clears what Textual reads)."""
        if self._whole_stale:
            self._whole_stale = False
            self._dirty_regions.add(self.size.region)
        return super().render_line(y)

    def _line_strip(self, y: int, width: int) -> Strip | None:
        """Line ``y`` as Textual's render of the whole text draws it: its empty spans dropped
        (as the text's split into lines drops them), the selection offsets of row ``y``;
        None if it takes more than one row."""
        line = self._lines[y]
        if any(span.end <= span.start for span in line.spans):
            spans = [span for span in line.spans if span.end > span.start]
            line = Content(line.plain, spans, line.cell_length)
        strips = Visual.to_strips(self, line, width, None, self.visual_style)
        return strips[0].apply_offsets(0, y) if len(strips) == 1 else None
