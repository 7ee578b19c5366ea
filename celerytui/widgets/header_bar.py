"""The one-line header every screen shows: cluster, broker, connection, rate, paused."""

from __future__ import annotations

from dataclasses import dataclass

from textual.content import Content
from textual.widget import Widget

from celerytui.text_safety import literal_content


@dataclass(slots=True, frozen=True)
class HeaderInfo:
    """What the header shows; the app builds one per tick and hands it to every header."""

    cluster: str
    broker: str  # already redacted
    connected: bool
    connection_note: str  # "connected" / "reconnecting 5s" / "connecting"
    events_per_second: float
    paused: bool
    paused_new: int
    read_only: bool
    screen_title: str = ""


class HeaderBar(Widget):
    """Renders a HeaderInfo; redraws only when it changes."""

    DEFAULT_CSS = """
    HeaderBar { height: 1; dock: top; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._info: HeaderInfo | None = None

    def show(self, info: HeaderInfo) -> None:
        """Take the newest header facts; repaint only if they differ."""
        if info != self._info:
            self._info = info
            self.refresh()

    def render(self) -> Content:
        info = self._info
        if info is None:
            return Content.styled(" celerytui", "bold")
        parts: list = [" ", literal_content(info.cluster, style="bold", max_len=20)]
        if info.screen_title:
            parts.append(f" · {info.screen_title}")
        parts += ["  ", literal_content(info.broker, max_len=40), "  "]
        if info.connected:
            parts.append(("● " + info.connection_note, "bold $success"))
        else:
            parts.append(("○ " + info.connection_note, "bold $error"))
        parts.append(f"  {info.events_per_second:,.0f} ev/s")
        if info.read_only:
            parts.append(("  read-only", "bold $warning"))
        if info.paused:
            parts += ["  ", (f" paused — {info.paused_new} new ", "bold reverse $warning")]
        return Content.assemble(*parts)
