"""Alert banners across the top: broker trouble first, then alerts, most severe first."""

from __future__ import annotations

from collections.abc import Sequence

from textual.content import Content
from textual.widget import Widget

from celerytui.core.model import Alert, StreamStatus
from celerytui.text_safety import literal_content
from celerytui.widgets.ages import short_age
from celerytui.widgets.changed_cells import refresh_changed

MAX_LINES = 3
SEVERITY_STYLE = {
    "critical": "bold $text on $error",
    "error": "bold $error",
    "warning": "bold $warning",
    "info": "$accent",
}


class AlertBanner(Widget):
    """Up to three lines; hidden when there is nothing to say. ``A`` acknowledges alerts."""

    DEFAULT_CSS = """
    AlertBanner { height: auto; max-height: 3; display: none; }
    AlertBanner.-shown { display: block; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._lines: list[Content] = []
        self._key: tuple = ()

    def show(self, alerts: Sequence[Alert], status: StreamStatus | None, now: float) -> None:
        """Take the current alerts and stream status; repaint only when the text changes."""
        lines: list[Content] = []
        broker_down = (
            status is not None
            and not status.connected
            and (status.attempts > 0 or status.last_error is not None)
        )
        if status is not None and broker_down:
            since = f" for {short_age(now - status.since)}" if status.since else ""
            lines.append(
                Content.assemble(
                    (" ✖ broker unreachable, retrying", SEVERITY_STYLE["critical"]),
                    (since, SEVERITY_STYLE["critical"]),
                    "  ",
                    literal_content(status.last_error or "", max_len=80),
                )
            )
        pending = [a for a in alerts if not a.acknowledged and a.key != "broker"]
        room = MAX_LINES - len(lines)
        shown = pending[:room] if len(pending) <= room else pending[: max(0, room - 1)]
        for alert in shown:
            count = f" x{alert.count}" if alert.count > 1 else ""
            lines.append(
                Content.assemble(
                    (f" {alert.severity.upper():<9}", SEVERITY_STYLE.get(alert.severity, "")),
                    literal_content(alert.title, style="bold", max_len=60),
                    count,
                    f"  {short_age(now - alert.last_seen)} ago  ",
                    literal_content(alert.detail, style="dim", max_len=60),
                )
            )
        if len(shown) < len(pending):
            lines.append(Content(f" +{len(pending) - len(shown)} more alerts (A: acknowledge)"))
        key = tuple(line.plain for line in lines)
        if key != self._key:
            self._key = key
            old, self._lines = self._lines, lines
            self.set_class(bool(lines), "-shown")
            refresh_changed(self, old, lines)

    def render(self) -> Content:
        return Content("\n").join(self._lines)
