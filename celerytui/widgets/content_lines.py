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
from textual.strip import Strip
from textual.visual import Visual
from textual.widget import Widget

from celerytui.widgets.changed_cells import changed_span, refresh_changed

NEWLINE = Content("\n")


class ContentLines(Widget):
    """Subclasses call ``set_lines()``; ``render()`` stays the whole text (for the height,
    text selection and the tests that read it)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._lines: list[Content] = []
        self._strips: list[list[Strip] | None] = []  # per line, None until rendered
        self._strips_width = -1
        self._flat: list[Strip] | None = None  # every line's strips, in order

    def set_lines(self, lines: Sequence[Content]) -> None:
        """Show ``lines``; repaint only the cells that changed (changed_cells)."""
        old, strips = self._lines, self._strips
        kept: list[list[Strip] | None] = [
            strips[i] if i < len(old) and changed_span(old[i], line) is None else None
            for i, line in enumerate(lines)
        ]
        self._lines, self._strips, self._flat = list(lines), kept, None
        refresh_changed(self, old, self._lines)

    def render(self) -> Content:
        return NEWLINE.join(self._lines)

    def render_line(self, y: int) -> Strip:
        if self.text_selection is not None:  # a selection spans lines: Textual's whole render
            return super().render_line(y)
        width = self.size.width
        if width != self._strips_width:
            self._strips_width = width
            self._strips = [None] * len(self._lines)
            self._flat = None
        flat = self._flat
        if flat is None:
            flat = self._flat = self._rendered()
        if flat is None:  # a line wraps: Textual's whole render places the rest
            return super().render_line(y)
        self._dirty_regions.clear()  # (what Textual's whole render clears once it has drawn)
        if 0 <= y < len(flat):
            return flat[y]
        return Strip.blank(width, self.visual_style.rich_style)

    def _rendered(self) -> list[Strip] | None:
        """One strip per line, as Textual's render of the whole text draws it (a line's empty
        spans dropped as its split of the text drops them; the selection offsets of line y);
        None when some line takes more than one."""
        width, style = self._strips_width, self.visual_style
        strips = self._strips
        for y, line in enumerate(self._lines):
            if strips[y] is None:
                if any(span.end <= span.start for span in line.spans):
                    spans = [span for span in line.spans if span.end > span.start]
                    line = Content(line.plain, spans, line.cell_length)
                strips[y] = [
                    strip.apply_offsets(0, y)
                    for strip in Visual.to_strips(self, line, width, None, style)
                ]
        flat = [s[0] for s in strips if s is not None and len(s) == 1]
        return flat if len(flat) == len(self._lines) else None
