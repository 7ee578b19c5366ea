"""Worker detail (enter on a worker): the live record, and what inspect says — stats, pool,
registered tasks, queues, active / reserved / scheduled tasks — fetched off the UI thread."""

from __future__ import annotations

from functools import partial
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Footer, Static

from celerytui.core.model import Changes, Worker
from celerytui.core.monitor_view import MonitorView
from celerytui.screens.live import LiveScreen
from celerytui.screens.worker_actions import WORKER_ACTION_BINDINGS, WorkerActions
from celerytui.text_safety import labelled_lines, literal
from celerytui.widgets.header_bar import HeaderBar

INSPECT_SECTIONS = (
    ("stats", "Stats"),
    ("registered", "Registered tasks"),
    ("active_queues", "Queues consumed"),
    ("active", "Active tasks"),
    ("reserved", "Reserved tasks"),
    ("scheduled", "Scheduled tasks"),
)


def record_text(worker: Worker | None, hostname: str, fmt_age) -> Text:
    if worker is None:
        return literal(f"{hostname}: no events from this worker yet")
    load = " ".join(f"{x:.2f}" for x in worker.loadavg[:3]) if worker.loadavg else "-"
    rows = [
        ("hostname", worker.hostname),
        ("status", worker.status),
        (
            "heartbeat",
            "off (processed from inspect stats)"
            if worker.heartbeats_off
            else fmt_age(worker.last_heartbeat),
        ),
        ("clock", clock_text(worker.clock_offset)),
        ("load", load),
        ("active", worker.active),
        ("processed", worker.processed),
        ("pid", worker.pid),
        (
            "software",
            " ".join(filter(None, (worker.sw_ident, worker.sw_ver, worker.sw_sys))) or None,
        ),
    ]
    return _rows_text(rows)


def clock_text(offset: float | None) -> str | None:
    """The worker's clock against the monitor's, from its heartbeats (transit included, so
    in step means within about half a second)."""
    if offset is None:
        return None
    if abs(offset) < 0.5:
        return "in step with the monitor's"
    side = "behind" if offset > 0 else "ahead of"
    return f"{abs(offset):.1f}s {side} the monitor's (its times are shown as it stamped them)"


def _rows_text(rows: list[tuple[str, Any]]) -> Text:
    return labelled_lines(rows, 12)


def _task_line(entry: Any) -> str:
    """One line for an active / reserved / scheduled entry (scheduled wraps a request)."""
    if not isinstance(entry, dict):
        return str(entry)
    request = entry.get("request")
    if not isinstance(request, dict):
        request = entry
    line = (
        f"{str(request.get('id', '?'))[:8]}  {request.get('name', '?')}  {request.get('args', '')}"
    )
    if "eta" in entry:
        line += f"  eta {entry['eta']}"
    return line


def inspect_text(method: str, reply: Any) -> Text:
    """A readable rendering of one worker's reply to ``inspect <method>``."""
    if reply is None:
        return Text("no reply (worker busy, gone, or not answering)", style="dim")
    if method == "stats" and isinstance(reply, dict):
        pool = reply.get("pool") or {}
        broker = reply.get("broker") or {}
        totals = reply.get("total") or {}
        rows = [
            ("pid", reply.get("pid")),
            ("uptime", f"{reply.get('uptime', '?')}s"),
            (
                "pool",
                f"{pool.get('implementation', '?')} "
                f"max-concurrency {pool.get('max-concurrency', '?')}",
            ),
            ("processes", ", ".join(str(p) for p in pool.get("processes", []) or [])),
            ("prefetch", reply.get("prefetch_count")),
            (
                "broker",
                f"{broker.get('transport', '?')}://{broker.get('hostname', '?')}"
                f":{broker.get('port', '?')}",
            ),
        ]
        rows += [
            (f"done {name.rsplit('.', 1)[-1]}", count) for name, count in sorted(totals.items())
        ]
        return _rows_text(rows)
    if method == "active_queues" and isinstance(reply, list):
        lines = [
            f"{q.get('name')}  (exchange {(q.get('exchange') or {}).get('name', '?')}, "
            f"routing key {q.get('routing_key', '?')})"
            for q in reply
            if isinstance(q, dict)
        ]
        return literal("\n".join(lines) or "none", keep_newlines=True)
    if isinstance(reply, list):
        lines = [_task_line(e) if method != "registered" else str(e) for e in reply]
        return literal("\n".join(lines) or "none", keep_newlines=True)
    return literal(reply, keep_newlines=True)


class WorkerDetailScreen(WorkerActions, LiveScreen):
    """One worker; ``r`` asks inspect again; esc goes back."""

    TITLE = "Worker"
    BINDINGS = [
        Binding("escape", "back", "Back", id="worker-detail-back"),
        Binding("r", "inspect", "Re-inspect", id="worker-detail-inspect"),
        *WORKER_ACTION_BINDINGS,
    ]

    def __init__(self, hostname: str) -> None:
        super().__init__()
        self.hostname = hostname
        self.replies: dict[str, Any] = {}
        self._second = -1

    def compose(self) -> ComposeResult:
        yield HeaderBar()
        with VerticalScroll(id="worker-detail"):
            yield Static("", id="worker-record")
            for method, title in INSPECT_SECTIONS:
                yield Static(title, classes="detail-heading")
                yield Static(
                    Text("asking…", style="dim"), id=f"inspect-{method}", classes="detail-body"
                )
        yield Footer()

    def on_mount(self) -> None:
        self.action_inspect()

    def action_inspect(self) -> None:
        """Ask every inspect method of this worker, each in its own thread."""
        for method, _title in INSPECT_SECTIONS:
            self.app.controller_call(
                "inspect",
                method,
                self.hostname,
                mutating=False,
                label=f"inspect {method}",
                on_done=partial(self._answered, method),
            )

    def _answered(self, method: str, replies: Any) -> None:
        reply = (replies or {}).get(self.hostname) if isinstance(replies, dict) else None
        self.replies[method] = reply
        if self.is_mounted:
            self.query_one(f"#inspect-{method}", Static).update(inspect_text(method, reply))

    def draw(self, monitor: MonitorView, changes: Changes | None) -> None:
        second = int(self.app.now())
        if changes is not None and self.hostname not in changes.workers and second == self._second:
            return
        self._second = second
        worker = monitor.state.workers.get(self.hostname)
        self.query_one("#worker-record", Static).update(
            record_text(worker, self.hostname, self.app.format_age)
        )

    def selected_worker(self) -> str | None:
        return self.hostname

    def action_back(self) -> None:
        self.app.pop_screen()
