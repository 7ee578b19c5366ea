"""A task's events in order, with their times and the gap from the first one."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.text import Text
from textual.widgets import Static

from celerytui.text_safety import escape_controls


def timeline_text(
    timeline: Sequence[tuple[float, str]], fmt_time: Callable[[float | None], str]
) -> Text:
    """One line an event: ``22:14:20.123  +0.100s  task-started``."""
    text = Text(end="")
    if not timeline:
        text.append("no events yet", style="dim")
        return text
    first = timeline[0][0]
    for i, (ts, kind) in enumerate(timeline):
        if i:
            text.append("\n")
        millis = int(ts * 1000) % 1000
        text.append(f"{fmt_time(ts)}.{millis:03d}  ")
        text.append(f"+{ts - first:7.3f}s  ", style="dim")
        text.append(escape_controls(kind))
    return text


class EventTimeline(Static):
    """Redraws only when the timeline grows."""

    def __init__(self, **kwargs) -> None:
        super().__init__("", **kwargs)
        self._shown: tuple = ()

    def show(
        self, timeline: Sequence[tuple[float, str]], fmt_time: Callable[[float | None], str]
    ) -> None:
        key = tuple(timeline)
        if key != self._shown or not self._shown:
            self._shown = key
            self.update(timeline_text(timeline, fmt_time))
