"""Succeeded and failed per second as two sparklines over the last minutes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from textual.content import Content
from textual.widget import Widget

from celerytui.widgets.changed_cells import refresh_changed
from celerytui.widgets.sparkline_text import sparkline

ROWS = (("succeeded", "ok  ", "$success"), ("failed", "fail", "$error"))


class Throughput(Widget):
    """Two lines: label, sparkline of the newest seconds, the rate of the last full second."""

    DEFAULT_CSS = """
    Throughput { height: 2; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._lines: list[Content] = []
        self._plain: tuple[str, ...] = ()
        self.stale = True  # the width changed: the next tick must redraw

    def on_resize(self) -> None:
        self.stale = True

    def width_wanted(self) -> int:
        return max(10, (self.size.width or 80) - 24)

    def show(self, series: Mapping[str, Sequence[int]]) -> None:
        width = self.width_wanted()
        lines = []
        for key, label, style in ROWS:
            values = list(series.get(key, ()))
            full = values[:-1] if values else []  # the current second is still filling
            last = full[-1] if full else 0
            total = sum(full[-60:])
            lines.append(
                Content.assemble(
                    (label, f"bold {style}"),
                    " ",
                    (sparkline(full, width), style),
                    f" {last:>4}/s {total:>5}/min",
                )
            )
        self.stale = False
        plain = tuple(line.plain for line in lines)
        if plain != self._plain:
            self._plain = plain
            old, self._lines = self._lines, lines
            refresh_changed(self, old, lines)

    def render(self) -> Content:
        return Content("\n").join(self._lines)
