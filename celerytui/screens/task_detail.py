"""Task detail (enter on a task): every field, args / kwargs / result in full, the traceback,
the event timeline and the chain tree — live, with revoke / terminate / re-run / rate limit."""

from __future__ import annotations

import json
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Footer, Static

from celerytui.config import Thresholds
from celerytui.core.alerts.rules.stuck import clock_offset_of, soft_limit_of, stuck_reason
from celerytui.core.canvas_summary import group_summary
from celerytui.core.chains import ChainNode, running, unfinished
from celerytui.core.model import LOST, STARTED, Changes, Task
from celerytui.core.monitor_view import MonitorView
from celerytui.core.state import ClusterState
from celerytui.redaction import one_line
from celerytui.screens.canvas_lookup import CanvasLookup
from celerytui.screens.journal_lookup import JournalLookup
from celerytui.screens.live import LiveScreen
from celerytui.screens.task_actions import TASK_ACTION_BINDINGS, TaskActions
from celerytui.text_safety import labelled_lines, literal
from celerytui.widgets.chain_tree import ChainTree
from celerytui.widgets.event_timeline import EventTimeline
from celerytui.widgets.header_bar import HeaderBar

TIME_FIELDS = (
    "sent",
    "received",
    "started",
    "succeeded",
    "failed",
    "retried",
    "revoked",
    "rejected",
    "date_done",
)


def result_text(task: Task) -> tuple[str, str]:
    """(the result in full when the backend gave it, where it came from)."""
    if task.result_is_full:
        value = task.result_full
        if isinstance(value, str):
            return value, "result backend"
        try:
            return json.dumps(value, indent=2, ensure_ascii=False, default=str), "result backend"
        except (TypeError, ValueError):
            return repr(value), "result backend"
    if task.result is not None:
        return task.result, "event repr (may be cut; the backend's copy not seen)"
    return "", ""


def no_result_text(task: Task) -> str:
    """What the Result section says when there is none: "none yet" only while it may come."""
    if not task.ready:
        return "none yet"
    if task.state == "FAILURE":
        return f"none: it raised {task.exception}" if task.exception else "none: it failed"
    return f"none ({task.state.lower()})"


def incident_rows(state: ClusterState, task: Task, thresholds: Thresholds, now: float) -> list:
    """Why the task is LOST or counts as stuck (the alert rules' words), as field rows."""
    rows: list[tuple[str, Any]] = []
    entry = state.lost.entry(task.uuid) if task.state == LOST else None
    if entry is not None:
        rows.append(("lost", f"with worker {entry.hostname} ({entry.why}; it was {entry.was})"))
    name = task.name or "?"
    stats = state.task_stats().get(name) if task.state == STARTED else None
    offset = clock_offset_of(state, task)
    why = stuck_reason(task, stats, soft_limit_of(state, task), thresholds, now, offset)
    if why is not None:
        rows.append(("stuck", f"{why}; X terminates it"))
    return rows


def fields_text(task: Task, fmt_time, notes: list | None = None) -> Text:
    """``label  value`` lines for every scalar field, values literal; `notes` (incident_rows)
    right after the state."""
    rows: list[tuple[str, Any]] = [
        ("uuid", task.uuid),
        ("name", task.name),
        ("state", task.state),
        *(notes or ()),
        ("worker", task.worker),
        ("queue", task.queue),
        ("routing key", task.routing_key),
        ("exchange", task.exchange),
    ]
    for name in TIME_FIELDS:
        ts = getattr(task, name)
        if ts:
            rows.append((name.replace("_", " "), f"{fmt_time(ts)}  ({ts:.3f})"))
    rows += [
        ("runtime", f"{task.runtime:.3f}s" if task.runtime is not None else None),
        ("retries", task.retries),
        ("eta", task.eta),
        ("expires", task.expires),
        ("exception", task.exception),
        ("root id", task.root_id),
        ("parent id", task.parent_id),
        ("children", ", ".join(task.children) if task.children else None),
    ]
    return labelled_lines(rows, 11)


class TaskDetailScreen(CanvasLookup, TaskActions, LiveScreen):
    """One task, live; esc goes back."""

    TITLE = "Task"
    BINDINGS = [
        Binding("escape", "back", "Back", id="detail-back"),
        Binding("T", "to_traceback", "Traceback", id="detail-traceback"),
        *TASK_ACTION_BINDINGS,
    ]

    def __init__(self, uuid: str, at_traceback: bool = False) -> None:
        super().__init__()
        self.uuid = uuid
        self.at_traceback = at_traceback
        self._scrolled = False
        self._asked_result = False
        self._journal_task: Task | None = None  # the journal's row, when memory lacks it
        self._journal_asked = False

    def compose(self) -> ComposeResult:
        yield HeaderBar()
        with VerticalScroll(id="task-detail"):
            yield Static(literal(f"task {self.uuid}: not seen (yet)"), id="task-fields")
            yield Static("Args", classes="detail-heading")
            yield Static("", id="task-args", classes="detail-body")
            yield Static("Kwargs", classes="detail-heading")
            yield Static("", id="task-kwargs", classes="detail-body")
            yield Static("Result", id="task-result-heading", classes="detail-heading")
            yield Static("", id="task-result", classes="detail-body")
            yield Static("Traceback", classes="detail-heading")
            yield Static("", id="task-traceback", classes="detail-body")
            yield Static("Events", classes="detail-heading")
            yield EventTimeline(id="task-timeline", classes="detail-body")
            yield Static("Chain", id="task-chain-heading", classes="detail-heading")
            yield ChainTree(id="task-chain")
        yield Footer()

    def draw(self, monitor: MonitorView, changes: Changes | None) -> None:
        chain_tree = self.query_one(ChainTree)
        if (
            changes is not None
            and self.uuid not in changes.tasks
            and not (chain_tree.members & changes.tasks)
        ):
            return
        state = monitor.state
        task = state.tasks.get(self.uuid)
        if task is None:
            task = self._from_journal()
        if task is None:
            self.query_one("#task-fields", Static).update(
                literal(f"task {self.uuid}: not in the kept tasks (evicted or not seen yet)")
            )
            return
        live = task is not self._journal_task
        fmt = self.app.format_time
        notes = incident_rows(state, task, self.app.settings.thresholds, monitor.clock())
        fields = fields_text(task, fmt, notes)
        if task is self._journal_task:  # memory no longer has it: the journal's row
            fields = Text.assemble(
                Text("from the journal (no longer in memory)\n", style="italic"), fields
            )
        self.query_one("#task-fields", Static).update(fields)
        self._body("#task-args", task.args, "()")
        self._body("#task-kwargs", task.kwargs, "{}")
        result, source = result_text(task)
        self.query_one("#task-result-heading", Static).update(
            f"Result ({source})" if source else "Result"
        )
        self._body("#task-result", result, no_result_text(task))
        self._body("#task-traceback", task.traceback, "none")
        self.query_one(EventTimeline).show(task.timeline_pairs(), fmt)
        chain = self.canvas_of(state)
        chain_tree.show(chain, self.uuid)
        heading = literal(canvas_heading(chain, self.unlisted_note()), keep_newlines=True)
        self.query_one("#task-chain-heading", Static).update(heading)
        if task.ready and not task.result_is_full and not self._asked_result and live:
            self._asked_result = True
            try:
                monitor.watch_result(self.uuid)
            except Exception as exc:  # a backend hiccup: the event's repr stays shown
                self.log.warning(f"watch_result failed: {one_line(exc)}")
        if live:
            self.ask_group_once()
        if self.at_traceback and not self._scrolled:
            self._scrolled = True
            self.call_after_refresh(self.action_to_traceback)

    # -- a task memory no longer has: its journal row, read in a thread worker -------------
    def _from_journal(self) -> Task | None:
        if self._journal_task is None and not self._journal_asked:
            self._journal_asked = True
            journal = self.app.journal
            if journal is not None:
                self._read_journal(journal)
        return self._journal_task

    @work(thread=True, exclusive=True, group="detail-journal", exit_on_error=False)
    def _read_journal(self, journal: JournalLookup) -> None:
        try:
            task = journal.task(self.uuid)
        except Exception as exc:  # the journal is only a fallback: say so in the log
            self.log.warning(f"journal lookup failed: {one_line(exc)}")
            return
        if task is not None:
            self.app.call_from_thread(self._show_journal_task, task)

    def _show_journal_task(self, task: Task) -> None:
        self._journal_task = task
        monitor = self.app.monitor
        with monitor.lock:
            self.refresh_view(monitor, None)

    def _body(self, selector: str, value: Any, empty: str) -> None:
        if value is None or value == "":
            self.query_one(selector, Static).update(literal(empty, style="dim"))
        else:
            self.query_one(selector, Static).update(literal(value, keep_newlines=True))

    def action_to_traceback(self) -> None:
        self.query_one("#task-detail", VerticalScroll).scroll_to_widget(
            self.query_one("#task-traceback"), top=True, animate=False
        )

    def action_back(self) -> None:
        self.app.pop_screen()

    def selected_task(self) -> str | None:
        return self.uuid


def canvas_heading(chain: ChainNode | None, unlisted: str | None = None) -> str:
    """The Chain heading: with the canvas's keys when there is one to act on; ``unlisted``:
    why a group sent from a client may not show (CanvasLookup.unlisted_note)."""
    if chain is not None and chain.group is not None:
        group = chain.group
        keys = "; on the tree: x revokes the unfinished, X terminates the running"
        left = len(unfinished(chain))
        return (
            f"{group.kind.capitalize()} {group.group_id[:8]} ({group_summary(chain)}"
            f"{keys if left else ''})"
        )
    if chain is None or len(chain) < 2:
        return f"Chain (no group found; {unlisted})" if unlisted else "Chain"
    left, busy = len(unfinished(chain)), len(running(chain))
    if not left:
        return f"Chain ({len(chain)} tasks, all finished)"
    return (
        f"Chain ({len(chain)} tasks, {left} unfinished, {busy} running; on the tree: "
        "x revokes the unfinished, X terminates the running)"
    )
