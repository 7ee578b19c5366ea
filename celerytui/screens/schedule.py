"""Screen 6, Schedule: the app's beat schedule with each entry's next run time.

Known when the app is: ``-A proj`` or celerytui's own (built from the settings when only a
broker is given). A crontab's next run is computed by the schedule itself
(``remaining_estimate``) in the app's timezone. An interval runs an interval after beat's last
run, which only beat knows: the screen takes the last send of that entry it has seen (a task
of the entry's name and args) plus the interval; with none seen yet it shows "~" and the
latest time it can be (an interval from now). Last run and the missed / late counts are the
monitor's BeatWatch (core/beat_watch.py); where the app sends no task-sent events the screen
says so and shows "-" rather than guess.
"""

from __future__ import annotations

import ast
import contextlib
import copy
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from celery.schedules import schedule as celery_schedule
from textual.app import ComposeResult
from textual.widgets import Footer, Static

from celerytui.core.beat_watch import BeatWatch
from celerytui.core.model import Changes, Task
from celerytui.core.monitor_view import MonitorView
from celerytui.screens.live import LiveScreen
from celerytui.text_safety import literal
from celerytui.widgets.ages import short_age
from celerytui.widgets.header_bar import HeaderBar
from celerytui.widgets.keyed_table import KeyedTable
from celerytui.widgets.task_tail import short_name

if TYPE_CHECKING:
    from celery import Celery

COLUMNS = (
    ("name", "Entry"),
    ("task", "Task"),
    ("schedule", "Schedule"),
    ("args", "Args"),
    ("last", "Last run"),
    ("next", "Next run"),
    ("runs", "Miss/late"),
)


def describe_schedule(schedule: Any) -> str:
    """``cron */5 * * * *``, ``every 5m``, ``every 30s`` — or its repr."""
    if isinstance(schedule, int | float):
        schedule = timedelta(seconds=schedule)
    if isinstance(schedule, timedelta):
        return f"every {_span(schedule.total_seconds())}"
    if hasattr(schedule, "_orig_minute"):
        return "cron " + " ".join(
            str(getattr(schedule, f"_orig_{part}"))
            for part in ("minute", "hour", "day_of_month", "month_of_year", "day_of_week")
        )
    run_every = getattr(schedule, "run_every", None)
    if isinstance(run_every, timedelta):
        return f"every {_span(run_every.total_seconds())}"
    return repr(schedule)


def _span(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"


def next_run(schedule: Any, now: datetime, app: Any = None) -> datetime | None:
    """When ``schedule`` fires next after ``now`` (None when it cannot say). Bound to ``app``
    as beat binds it, so a crontab counts in the app's timezone."""
    if isinstance(schedule, int | float):
        return now + timedelta(seconds=schedule)
    if isinstance(schedule, timedelta):
        return now + schedule
    try:
        clone = copy.copy(schedule)
        clone.nowfun = lambda: now
        if app is not None:
            clone.app = app
        remaining = clone.remaining_estimate(now)
    except Exception:
        return None
    if remaining is None:
        return None
    return now + max(remaining, timedelta(0))


def interval_of(schedule: Any) -> float | None:
    """Seconds between runs of a plain interval schedule (None for a crontab or solar)."""
    if isinstance(schedule, int | float):
        return float(schedule)
    if isinstance(schedule, timedelta):
        return schedule.total_seconds()
    if isinstance(schedule, celery_schedule):  # crontab and solar are not subclasses
        return schedule.run_every.total_seconds()
    return None


def _as_tuple(text: str | None) -> tuple | None:
    """An event's args repr as a tuple ("(2, 2)" and "[2, 2]" alike); None if not readable."""
    try:
        value = ast.literal_eval(text) if text else ()
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
    return tuple(value) if isinstance(value, list | tuple) else None


class BeatSends:
    """The newest send seen of each interval entry: a task with the entry's name and args."""

    def __init__(self, entries: dict[str, dict]) -> None:
        self._by_task: dict[str, list[tuple[str, tuple]]] = {}
        for name, entry in entries.items():
            if isinstance(entry, dict) and interval_of(entry.get("schedule")) is not None:
                args = tuple(entry.get("args") or ())
                self._by_task.setdefault(str(entry.get("task")), []).append((name, args))
        self.last: dict[str, float] = {}  # entry name -> newest send time seen

    def observe(self, task: Task) -> None:
        candidates = self._by_task.get(task.name or "")
        when = task.sent or task.received
        if not candidates or not when:
            return
        args = _as_tuple(task.args)
        if args is not None:  # the same task sent by hand with other args is not beat's
            entry = next((name for name, wanted in candidates if wanted == args), None)
        else:  # args cut short in the event: the name alone, when only one entry has it
            entry = candidates[0][0] if len(candidates) == 1 else None
        if entry is None:
            return
        if when > self.last.get(entry, 0.0):
            self.last[entry] = when


def interval_next(every: float, last_sent: float | None, now: float) -> tuple[float, bool]:
    """(next run, estimated): last send seen + interval, or at the latest now + interval."""
    if last_sent is None:
        return now + every, True
    return last_sent + every, False


def schedule_rows(
    app: Celery,
    now_ts: float,
    sends: BeatSends | None = None,
) -> list[tuple[str, str, str, str, float | None, bool]]:
    """(entry, task, schedule, args, next run epoch, estimated) per beat_schedule entry."""
    entries = dict(app.conf.beat_schedule or {})
    now = datetime.fromtimestamp(now_ts, UTC)
    with contextlib.suppress(Exception):  # crontabs count in the app's timezone, as beat does
        now = now.astimezone(app.timezone)
    rows: list[tuple[str, str, str, str, float | None, bool]] = []
    for name, entry in sorted(entries.items()):
        entry = entry if isinstance(entry, dict) else {}
        schedule = entry.get("schedule")
        every = interval_of(schedule)
        estimated = False
        when_ts: float | None
        if every is not None:
            last = sends.last.get(str(name)) if sends is not None else None
            when_ts, estimated = interval_next(every, last, now_ts)
        else:
            when = next_run(schedule, now, app) if schedule is not None else None
            when_ts = when.timestamp() if when else None
        args = entry.get("args") or ()
        kwargs = entry.get("kwargs") or {}
        shown_args = repr(tuple(args)) + (f" {kwargs!r}" if kwargs else "")
        rows.append(
            (
                str(name),
                str(entry.get("task", "?")),
                describe_schedule(schedule) if schedule is not None else "?",
                shown_args,
                when_ts,
                estimated,
            )
        )
    return rows


def next_text(when: float | None, estimated: bool, now: float, fmt_time) -> str:
    """``12:05:00 (in 4m)``; ``~12:05:00 (≤5m)`` at the latest; ``12:00:30 (late 40s)``."""
    if when is None:
        return "?"
    if estimated:
        return f"~{fmt_time(when)} (≤{short_age(when - now)})"
    if when < now - 1:
        return f"{fmt_time(when)} (late {short_age(now - when)})"
    return f"{fmt_time(when)} (in {short_age(max(0.0, when - now))})"


def fit(parts: list[str], width: int) -> str:
    """The parts joined by " · ", dropping trailing ones that would not fit ``width``."""
    text = parts[0]
    for part in parts[1:]:
        if len(text) + 3 + len(part) > width:
            break
        text += f" · {part}"
    return text


class ScheduleTable(KeyedTable):
    """One row a beat entry, keyed by its name."""

    COLUMNS = COLUMNS

    def column_widths(self, space: int) -> dict[str, int]:
        if space < 80:  # 80 columns: the entry's name first, the args squeezed
            fixed = {"schedule": 10, "last": 8, "next": 17, "runs": 5}
            free = space - sum(fixed.values())
            entry_w = max(8, free * 11 // 20)
            task_w = max(4, free - entry_w - 4)
            return {**fixed, "name": entry_w, "task": task_w, "args": 4}
        fixed = {"schedule": 14, "last": 8, "next": 19, "runs": 9}
        free = space - sum(fixed.values())
        entry_w = max(8, free * 2 // 5)
        task_w = max(8, free * 7 // 20)
        return {**fixed, "name": entry_w, "task": task_w, "args": max(4, free - entry_w - task_w)}

    def show(self, name: str, values: tuple[str, ...]) -> None:
        """Add the entry's row, or update the cells that changed."""
        self._put_row(name, values, lambda _i, value: literal(value, max_len=120))


class ScheduleScreen(LiveScreen):
    """The beat schedule; next-run countdowns move once a second."""

    TITLE = "Schedule"

    def __init__(self) -> None:
        super().__init__()
        self._second = -1
        self._sends: BeatSends | None = None
        self._entries: dict | None = None

    def compose(self) -> ComposeResult:
        yield HeaderBar()
        yield Static("", id="schedule-status", classes="screen-status")
        yield ScheduleTable(id="schedule-table")
        yield Footer()

    def _observe(self, monitor: MonitorView, app: Celery, changes: Changes | None) -> None:
        """Follow the entries' sends: every kept task on a full redraw, else the changed."""
        entries = dict(app.conf.beat_schedule or {})
        if self._sends is None or entries != self._entries:
            self._sends, self._entries, changes = BeatSends(entries), entries, None
        tasks = monitor.state.tasks
        if changes is None:
            for task in tasks.values():
                self._sends.observe(task)
            return
        for uuid in changes.tasks:
            changed = tasks.get(uuid)
            if changed is not None:
                self._sends.observe(changed)

    def draw(self, monitor: MonitorView, changes: Changes | None) -> None:
        now = self.app.now()
        app = monitor.app
        if app is not None:
            self._observe(monitor, app, changes)
        if changes is not None and int(now) == self._second:
            return
        self._second = int(now)
        status = self.query_one("#schedule-status", Static)
        table = self.query_one(ScheduleTable)
        rows = schedule_rows(app, now, self._sends) if app is not None else []
        table.display = bool(rows)
        width = max(40, self.app.size.width - 2)
        if app is None:
            status.update(
                "Schedule unknown: start celerytui with -A your.app to see its beat schedule."
            )
            return
        given = self.app.settings.app
        owner = given or "celerytui.tasks"
        hint = [] if given else ["-A your.app for yours"]
        if not rows:
            ours = [] if given else ["it schedules its http_targets and disk_hosts"]
            status.update(
                literal(fit([f"{owner} has no beat_schedule entries", *ours, *hint], width))
            )
            return
        count = "1 beat entry" if len(rows) == 1 else f"{len(rows)} beat entries"
        tz = self.app.settings.timezone or "local time"
        guess = ["~ no send seen yet: at the latest"] if any(r[5] for r in rows) else []
        beats = monitor.beats
        judged, later = _judged_status(beats, owner)
        parts = [f"{count} of {owner}", *judged, f"times in {tz}", *guess, *hint, *later]
        status.update(literal(fit(parts, width)))
        for name, task, schedule, args, when, estimated in rows:
            shown = next_text(when, estimated, now, self.app.format_time)
            entry = beats.entries.get(name) if beats.sends_events else None
            last = self.app.format_time(entry.last_run) if entry and entry.last_run else "-"
            runs = f"{entry.missed}/{entry.late}" if entry is not None else "-"
            if entry is not None and entry.missing:
                runs += " !"
            values = (name, short_name(task), schedule, args, last, shown, runs)
            table.show(name, values)


def _judged_status(beats: BeatWatch, owner: str) -> tuple[list[str], list[str]]:
    """What the screen can say of missed and late runs, plainly: (first, last) parts."""
    if not beats.sends_events:
        off = (
            f"{owner} sends no task-sent events (task_send_sent_event off): "
            "missed and late runs cannot be seen"
        )
        return [off], []
    missing = sum(1 for entry in beats.entries.values() if entry.missing)
    if missing:
        return [f"{missing} missing now"], []
    if not beats.sends_seen:
        return [], ["no task-sent event seen yet"]
    return [], []
