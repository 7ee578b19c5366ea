"""Screen 6, Schedule: the app's beat schedule with each entry's next run time.

Known when the app is: ``-A proj`` or celerytui's own (built from the settings when only a
broker is given). The next run is computed by the schedule itself (``remaining_estimate``)
from the app's clock in settings.timezone; for a plain interval it is "an interval from now"
since beat's own last-run times are not visible from here.
"""

from __future__ import annotations

import contextlib
import copy
from datetime import UTC, datetime, timedelta
from typing import Any

from textual.app import ComposeResult
from textual.widgets import Footer, Static

from celerytui.core.model import Changes
from celerytui.screens.live import LiveScreen
from celerytui.text_safety import literal
from celerytui.widgets.ages import short_age
from celerytui.widgets.header_bar import HeaderBar
from celerytui.widgets.keyed_table import KeyedTable
from celerytui.widgets.task_tail import short_name

COLUMNS = (("name", "Entry"), ("task", "Task"), ("schedule", "Schedule"), ("args", "Args"),
           ("next", "Next run"))


def describe_schedule(schedule: Any) -> str:
    """``cron */5 * * * *``, ``every 5m``, ``every 30s`` — or its repr."""
    if isinstance(schedule, int | float):
        schedule = timedelta(seconds=schedule)
    if isinstance(schedule, timedelta):
        return f"every {_span(schedule.total_seconds())}"
    if hasattr(schedule, "_orig_minute"):
        return "cron " + " ".join(str(getattr(schedule, f"_orig_{part}")) for part in (
            "minute", "hour", "day_of_month", "month_of_year", "day_of_week"))
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


def schedule_rows(app: Any, now_ts: float) -> list[tuple[str, str, str, str, float | None]]:
    """(entry, task, schedule, args, next run epoch) for each beat_schedule entry."""
    entries = dict(getattr(app.conf, "beat_schedule", None) or {})
    now = datetime.fromtimestamp(now_ts, UTC)
    with contextlib.suppress(Exception):  # crontabs count in the app's timezone, as beat does
        now = now.astimezone(app.timezone)
    rows = []
    for name, entry in sorted(entries.items()):
        entry = entry if isinstance(entry, dict) else {}
        schedule = entry.get("schedule")
        when = next_run(schedule, now, app) if schedule is not None else None
        args = entry.get("args") or ()
        kwargs = entry.get("kwargs") or {}
        shown_args = repr(tuple(args)) + (f" {kwargs!r}" if kwargs else "")
        rows.append((str(name), str(entry.get("task", "?")),
                     describe_schedule(schedule) if schedule is not None else "?",
                     shown_args, when.timestamp() if when else None))
    return rows


class ScheduleTable(KeyedTable):
    """One row a beat entry, keyed by its name."""

    COLUMNS = COLUMNS

    def column_widths(self, space: int) -> dict[str, int]:
        fixed = {"schedule": 16, "next": 18}
        free = space - sum(fixed.values())
        entry_w = max(8, free * 2 // 5)
        task_w = max(8, free * 7 // 20)
        return {**fixed, "name": entry_w, "task": task_w,
                "args": max(4, free - entry_w - task_w)}

    def show(self, name: str, values: tuple[str, ...]) -> None:
        """Add the entry's row, or update the cells that changed."""
        self._put_row(name, values, lambda _i, value: literal(value, max_len=120))


class ScheduleScreen(LiveScreen):
    """The beat schedule; next-run countdowns move once a second."""

    TITLE = "Schedule"

    def __init__(self) -> None:
        super().__init__()
        self._second = -1

    def compose(self) -> ComposeResult:
        yield HeaderBar()
        yield Static("", id="schedule-status", classes="screen-status")
        yield ScheduleTable(id="schedule-table")
        yield Footer()

    def draw(self, monitor: Any, changes: Changes | None) -> None:
        now = self.app.now()
        if changes is not None and int(now) == self._second:
            return
        self._second = int(now)
        status = self.query_one("#schedule-status", Static)
        table = self.query_one(ScheduleTable)
        app = getattr(monitor, "app", None)
        rows = schedule_rows(app, now) if app is not None else []
        table.display = bool(rows)
        if app is None:
            status.update("Schedule unknown: start celerytui with -A your.app to see its "
                          "beat schedule.")
            return
        if not rows:
            owner = self.app.settings.app or "celerytui.tasks"
            status.update(literal(f"{owner} has no beat_schedule entries (celerytui.tasks "
                                  "schedules its http_targets and disk_hosts; -A for yours)."))
            return
        owner = self.app.settings.app or "celerytui.tasks (-A for yours)"
        status.update(literal(f"{len(rows)} beat entries of {owner} · times in "
                              f"{self.app.settings.timezone or 'local time'}"))
        for name, task, schedule, args, when in rows:
            shown = "?" if when is None else \
                f"{self.app.format_time(when)} (in {short_age(when - now)})"
            table.show(name, (name, short_name(task), schedule, args, shown))
