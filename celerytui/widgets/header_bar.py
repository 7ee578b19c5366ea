"""The one-line header every screen shows: cluster, broker, connection, rate, signed,
read-only, paused."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.content import Content
from textual.widget import Widget

from celerytui.text_safety import literal_content

DEFAULT_CLUSTER_NAME = "celery"  # Settings.cluster_name's default


def cluster_label(settings: Any, celery_app: Any) -> str:
    """The name the header shows: the context's name when one is in effect (which cluster
    this is matters most when there are several); else ``cluster_name`` when it was set;
    under ``-A proj`` with none set, the app's own name (``Celery("proj")`` -> "proj")."""
    if getattr(settings, "context", None):
        return str(settings.context)
    name = settings.cluster_name
    if (
        settings.app
        and name == DEFAULT_CLUSTER_NAME
        and settings.source_of("cluster_name") == "default"
    ):
        return str(getattr(celery_app, "main", None) or settings.app)
    return name


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
    malformed: int = 0  # events skipped because they could not be read
    signing: str = ""  # "signed" / "signed, no key" (celerytui.signing.Signing.label)
    replay: str = ""  # `celerytui replay`: "REPLAY <replayed time> <speed> <play state>"


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
        status = [
            ("● " if info.connected else "○ ") + info.connection_note,
            "bold $success" if info.connected else "bold $error",
        ]
        tail: list = ["  ", tuple(status), f"  {info.events_per_second:,.0f} ev/s"]
        if info.replay:  # the moment being shown, in place of the live connection and rate
            tail = ["  ", (f" {info.replay} ", "bold reverse $accent")]
        if info.malformed:
            tail.append((f"  {info.malformed:,} malformed", "$warning"))
        if info.signing:  # a signed cluster; without a key the monitor only watches
            style = "$success" if info.signing == "signed" else "bold $warning"
            tail.append((f"  {info.signing}", style))
        if info.read_only:
            tail.append(("  read-only", "bold $warning"))
        if info.paused:
            tail += ["  ", (f" paused — {info.paused_new} new ", "bold reverse $warning")]
        tail_len = sum(len(p if isinstance(p, str) else p[0]) for p in tail)
        width = self.size.width or 80
        head = f" · {info.screen_title}" if info.screen_title else ""
        cluster = literal_content(info.cluster, style="bold", max_len=20)
        room = width - tail_len - len(cluster.plain) - 3  # leading space + "  " before broker
        if room - len(head) < 16:
            head = ""  # the screen's name goes first: the broker matters more
        broker = literal_content(info.broker, max_len=max(8, room - len(head)))
        return Content.assemble(" ", cluster, head, "  ", broker, *tail)
