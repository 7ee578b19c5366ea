"""The checks: each HTTP target UP/DOWN with response time and history, each disk host's use."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from textual.content import Content

from celerytui.core.model import DiskCheck, HttpCheck
from celerytui.text_safety import literal_content
from celerytui.widgets.ages import short_age
from celerytui.widgets.content_lines import ContentLines
from celerytui.widgets.sparkline_text import meter, sparkline


def _size(n: int | None) -> str:
    if n is None:
        return "?"
    value = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{value:.0f}{unit}" if unit == "B" else f"{value:.1f}{unit}"
        value /= 1024
    return f"{value:.1f}TB"


def http_line(check: HttpCheck, now: float, width: int) -> Content:
    up = check.status == "UP"
    status = ("▲ UP  ", "bold $success") if up else ("▼ DOWN", "bold $error")
    rt = f"{check.response_time * 1000:.0f}ms" if check.response_time is not None else "-"
    history = [rt_ * 1000 if (ok and rt_) else 0 for _t, ok, rt_ in check.history]
    spark_w = min(20, width - 40) if width >= 50 else 0
    tail = Content(f" {short_age(now - check.checked_at)}") if check.checked_at else Content("")
    if not up:
        # the detail goes last: a narrow panel cuts it (ellipsis), never the URL or the age
        url = literal_content(check.url, max_len=max(10, min(len(check.url), width - 20)))
        room = max(4, width - 8 - len(url.plain) - len(tail.plain))
        detail = literal_content(
            check.error or (f"HTTP {check.status_code}" if check.status_code else "down"),
            style="$error",
            max_len=room,
        )
        return Content.assemble(status, " ", url, tail, " ", detail)
    url = literal_content(check.url, max_len=max(10, width - 19 - spark_w))
    return Content.assemble(
        status,
        " ",
        url,
        f" {rt:>6}",
        " " if spark_w else "",
        (sparkline(history, spark_w), "$accent"),
        tail,
    )


def _http_inputs(check: HttpCheck, now: float, width: int) -> tuple:
    """Everything http_line reads (a new result moves checked_at and the history's end):
    a line is made again only when one of them moved, not for each of fifty every tick."""
    history = check.history
    age = short_age(now - check.checked_at) if check.checked_at else ""
    return (
        "http",
        check.url,
        check.status,
        check.status_code,
        check.response_time,
        check.error,
        check.checked_at,
        len(history),
        history[-1] if history else None,
        age,
        width,
    )


def _disk_inputs(disk: DiskCheck, now: float) -> tuple:
    age = short_age(now - disk.checked_at) if disk.checked_at else ""
    return (
        "disk",
        disk.host,
        disk.status,
        disk.mount,
        disk.avail_bytes,
        disk.use_percent,
        disk.error,
        disk.checked_at,
        age,
    )


def disk_line(disk: DiskCheck, now: float, width: int, threshold: float) -> Content:
    name = literal_content(disk.host, style="bold", max_len=16)
    if disk.status != "OK":
        return Content.assemble(
            ("✖ ", "bold $error"),
            name,
            "  ",
            literal_content(
                disk.error or "check failed", style="$error", max_len=max(10, width - 22)
            ),
        )
    pct = disk.use_percent
    style = "bold $error" if pct is not None and pct >= threshold else "$success"
    bar_w = max(5, min(20, width - 40))
    pct_text = f"{pct:3.0f}%" if pct is not None else "  ?%"
    line = Content.assemble(
        ("● ", style),
        name,
        " ",
        literal_content(disk.mount or "/", max_len=10),
        " ",
        (pct_text, style),
        " ",
        (meter(pct, bar_w), style),
    )
    for extra in (
        f" {_size(disk.avail_bytes)} free",
        f" {short_age(now - disk.checked_at)}" if disk.checked_at else "",
    ):
        if len(line.plain) + len(extra) <= width:
            line = Content.assemble(line, extra)
    return line


class ChecksPanel(ContentLines):
    """Renders the newest check results; configured targets not yet checked show as such
    (a line rendered only when it changed: ContentLines)."""

    DEFAULT_CSS = """
    ChecksPanel { height: auto; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._lines = [Content("no checks yet (h: HTTP check, d: disk check)")]
        self._strips = [None]
        self._made: dict[tuple, Content] = {}  # a line's inputs -> the line (one tick's worth)
        self._plain: tuple[str, ...] = ()
        self.stale = True  # the width changed: the next tick must redraw

    def on_resize(self) -> None:
        self.stale = True

    def show(
        self,
        http: Mapping[str, HttpCheck],
        disks: Mapping[str, DiskCheck],
        configured_urls: Iterable[str],
        configured_hosts: Iterable[str],
        now: float,
        disk_threshold: float = 90.0,
    ) -> None:
        width = self.size.width or 40
        made, self._made = self._made, {}
        lines: list[Content] = [Content.styled("HTTP", "bold underline")]
        for check in http.values():
            key = _http_inputs(check, now, width)
            line = made[key] if key in made else http_line(check, now, width)
            self._made[key] = line
            lines.append(line)
        lines.extend(
            Content.assemble(
                ("· ", "dim"), literal_content(url, max_len=width - 16), ("  not checked", "dim")
            )
            for url in configured_urls
            if url not in http
        )
        lines.append(Content.styled("Disk", "bold underline"))
        for disk in disks.values():
            key = (*_disk_inputs(disk, now), width, disk_threshold)
            line = made[key] if key in made else disk_line(disk, now, width, disk_threshold)
            self._made[key] = line
            lines.append(line)
        lines.extend(
            Content.assemble(
                ("· ", "dim"), literal_content(host, max_len=20), ("  not checked", "dim")
            )
            for host in configured_hosts
            if host not in disks
        )
        self.stale = False
        plain = tuple(line.plain for line in lines)
        if plain != self._plain:
            self._plain = plain
            self.set_lines(lines)
