"""BeatWatch: did each beat entry run when it should have?

From the watched app's ``beat_schedule`` (interval and crontab entries) it knows when each
entry is due, and it matches the task-sent events of the entry's task (and args) against that.
Beat itself is never asked: what it sent is what the events say.

- An interval entry is due an interval after its last run seen (beat counts from its own last
  send, so drift follows beat). Before a first send is seen nothing is expected.
- A crontab entry is due at its next cron time after the last run (or after the watch began),
  in the app's timezone.
- A send within the grace window of its time is that run; more than ``late_after`` after it is
  a late run. Nothing by the end of the window: the run is missed (a send that arrives a little
  later still, within the window of the time it missed, takes the miss back). A send after the
  window is a late run too (it re-anchors an interval entry): while runs are missing, a send
  before the next time is late by all the time since the first run missed. Otherwise a send
  well before its time is someone firing the task by hand, and ignored.
- Where the app does not send task-sent events (``task_send_sent_event`` off) nothing is
  judged: ``sends_events`` is False and the screen says so.

Times are the sender's (beat's) clock for runs and the monitor's for "nothing by now": on one
host they agree; across hosts the grace window absorbs a skew smaller than itself.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from celery.schedules import crontab
from celery.schedules import schedule as celery_schedule

from celerytui.config import Thresholds
from celerytui.core.model import Task

CRON_SEARCH_DAYS = 366 * 5  # a crontab that never fires (Feb 30) is given up on after this
MISSES_COUNTED_AT_ONCE = 100_000  # an interval entry silent for ages is counted arithmetically
JUDGED_KEPT = 50_000  # sends remembered as judged (a task's later events do not re-judge it)


@dataclass(slots=True)
class BeatEntry:
    """One beat_schedule entry and what was seen of its runs."""

    name: str
    task: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    every: float | None  # seconds between runs of an interval entry; None for a crontab
    cron: crontab | None
    grace: float  # seconds after its time a run may be sent and still count as that run
    late_after: float  # seconds after its time a run counts as late
    last_run: float | None = None  # sent timestamp of the newest run seen
    last_uuid: str | None = None
    next_due: float | None = None  # when the next run should be sent (None: not known yet)
    missed: int = 0  # runs missed since the watch began
    late: int = 0  # runs sent late since the watch began
    last_lateness: float | None = None  # seconds the newest run came after its time
    missing_since: float | None = None  # the first missed time of the current streak
    last_missed: float | None = None  # the newest missed time (a late event can take it back)
    missed_in_streak: int = 0

    @property
    def missing(self) -> bool:
        """Its last due run (or more) did not come and nothing has run since."""
        return self.missing_since is not None

    @property
    def last_run_late(self) -> bool:
        return self.last_lateness is not None and self.last_lateness > self.late_after


@dataclass(slots=True)
class BeatWatch:
    """The entries of one app's beat schedule, fed the tasks the pump changed."""

    entries: dict[str, BeatEntry] = field(default_factory=dict)
    sends_events: bool = True  # the app's task_send_sent_event
    sends_seen: bool = False  # a task-sent event of any task has been seen
    tz: tzinfo = UTC
    _by_task: dict[str, list[BeatEntry]] = field(default_factory=dict)
    _judged: dict[str, None] = field(default_factory=dict)  # uuids of sends judged, oldest first

    @classmethod
    def from_app(cls, app: Any, thresholds: Thresholds, now: float) -> BeatWatch:
        """The app's beat_schedule (entries it cannot read are left out)."""
        conf = getattr(app, "conf", None)
        raw = dict(getattr(conf, "beat_schedule", None) or {}) if conf is not None else {}
        try:
            tz = app.timezone
        except Exception:
            tz = UTC
        watch = cls(sends_events=bool(getattr(conf, "task_send_sent_event", False)), tz=tz)
        for name, spec in raw.items():
            entry = _entry(str(name), spec, thresholds, tz, now)
            if entry is not None:
                watch.entries[entry.name] = entry
                watch._by_task.setdefault(entry.task, []).append(entry)
        return watch

    # -- feeding --------------------------------------------------------------------------
    def observe(self, tasks: Mapping[str, Task], uuids: Iterable[str]) -> None:
        """Match the sends among these tasks (the pump's changed ones) to entries."""
        for uuid in uuids:
            task = tasks.get(uuid)
            if task is None or task.sent is None:
                continue
            self.sends_seen = True
            candidates = self._by_task.get(task.name or "")
            if not candidates or uuid in self._judged:
                continue  # each send is judged once, not again on its task's later events
            self._judged[uuid] = None
            if len(self._judged) > JUDGED_KEPT:
                del self._judged[next(iter(self._judged))]
            entry = _matching(candidates, task)
            if entry is not None:
                self._ran(entry, task.sent, uuid)

    def advance(self, now: float) -> None:
        """Count the runs whose window closed with nothing sent."""
        if not self.sends_events:
            return
        for entry in self.entries.values():
            due = entry.next_due
            if due is None or now <= due + entry.grace:
                continue
            if entry.every:
                n = min(int((now - entry.grace - due) // entry.every) + 1, MISSES_COUNTED_AT_ONCE)
                self._miss(entry, due, n, due + (n - 1) * entry.every)
                entry.next_due = due + n * entry.every
                continue
            while due is not None and now > due + entry.grace:
                self._miss(entry, due, 1, due)
                due = self._cron_after(entry, due)
            entry.next_due = due

    # -- internals ------------------------------------------------------------------------
    def _ran(self, entry: BeatEntry, sent: float, uuid: str) -> None:
        if uuid == entry.last_uuid or (entry.last_run is not None and sent <= entry.last_run):
            return  # the same send seen again, or an older one arriving late
        due = entry.next_due
        back_late = False
        if entry.last_missed is not None and abs(sent - entry.last_missed) <= entry.grace:
            due = entry.last_missed  # it came after all, just after its window was judged
            self._unmiss(entry)
            if entry.missing_since is not None:  # earlier runs of the streak stay missed
                due, back_late = entry.missing_since, True
        elif entry.missing_since is not None and due is not None and sent < due:
            due, back_late = entry.missing_since, True  # back after missing: late by all of it
        elif due is not None and sent < due - entry.grace:
            return  # well before its time: fired by hand, not beat's run
        if due is not None:
            if entry.cron is not None and not back_late:  # the latest cron time before it
                while True:
                    following = self._cron_after(entry, due)
                    if following is None or following > sent + entry.grace:
                        break
                    due = following
            lateness = max(0.0, sent - due)
            entry.last_lateness = lateness
            if lateness > entry.late_after:
                entry.late += 1
        entry.missing_since, entry.missed_in_streak, entry.last_missed = None, 0, None
        entry.last_run, entry.last_uuid = sent, uuid
        if entry.every:
            entry.next_due = sent + entry.every
        else:
            entry.next_due = self._cron_after(entry, max(sent, due or sent))

    def _miss(self, entry: BeatEntry, due: float, n: int, newest: float) -> None:
        entry.missed += n
        entry.missed_in_streak += n
        if entry.missing_since is None:
            entry.missing_since = due
        entry.last_missed = newest

    def _unmiss(self, entry: BeatEntry) -> None:
        entry.missed -= 1
        entry.missed_in_streak -= 1
        entry.last_missed = None
        if entry.missed_in_streak <= 0:
            entry.missing_since, entry.missed_in_streak = None, 0

    def _cron_after(self, entry: BeatEntry, ts: float) -> float | None:
        return cron_after(entry.cron, ts, self.tz) if entry.cron is not None else None


def cron_after(cron: crontab, ts: float, tz: tzinfo) -> float | None:
    """The first time strictly after ``ts`` that ``cron`` fires, in ``tz`` (None: never)."""
    start = datetime.fromtimestamp(ts, tz).replace(second=0, microsecond=0) + timedelta(minutes=1)
    hours, minutes = sorted(cron.hour), sorted(cron.minute)
    day = start.replace(hour=0, minute=0)
    for _ in range(CRON_SEARCH_DAYS):
        dow = (day.weekday() + 1) % 7  # celery counts Sunday as 0
        if (
            day.month in cron.month_of_year
            and day.day in cron.day_of_month
            and dow in cron.day_of_week
        ):
            for hour in hours:
                for minute in minutes:
                    naive = day.replace(tzinfo=None, hour=hour, minute=minute)
                    when = naive.replace(tzinfo=tz)
                    if when >= start:
                        return when.timestamp()
        day = (day.replace(tzinfo=None) + timedelta(days=1)).replace(tzinfo=tz)
    return None


def _entry(
    name: str, spec: Any, thresholds: Thresholds, tz: tzinfo, now: float
) -> BeatEntry | None:
    if not isinstance(spec, Mapping) or not spec.get("task"):
        return None
    when = spec.get("schedule")
    every: float | None = None
    cron: crontab | None = None
    if isinstance(when, int | float) and not isinstance(when, bool):
        every = float(when)
    elif isinstance(when, timedelta):
        every = when.total_seconds()
    elif isinstance(when, crontab):
        cron = when
    elif isinstance(when, celery_schedule):
        every = when.run_every.total_seconds()
    if (every is None or every <= 0) and cron is None:
        return None  # solar, or a schedule class of its own: not judged
    period = every
    first_due = None
    if cron is not None:
        first_due = cron_after(cron, now, tz)
        second = cron_after(cron, first_due, tz) if first_due is not None else None
        period = (second - first_due) if first_due is not None and second is not None else None
    grace = thresholds.beat_grace
    if period:
        grace = min(grace, thresholds.beat_grace_share * period)
    args = spec.get("args") or ()
    kwargs = spec.get("kwargs") or {}
    return BeatEntry(
        name=name,
        task=str(spec["task"]),
        args=tuple(args) if isinstance(args, list | tuple) else (args,),
        kwargs=dict(kwargs) if isinstance(kwargs, Mapping) else {},
        every=every,
        cron=cron,
        grace=grace,
        late_after=min(thresholds.beat_late, grace / 2),
        next_due=first_due,
    )


def _matching(candidates: list[BeatEntry], task: Task) -> BeatEntry | None:
    """The entry this send is a run of: same args (and kwargs when readable); by the name
    alone when the event's args are cut short and only one entry sends that task."""
    args = _literal(task.args)
    if isinstance(args, list | tuple):
        kwargs = _literal(task.kwargs)
        for entry in candidates:
            if tuple(args) == entry.args and (
                not isinstance(kwargs, dict) or kwargs == entry.kwargs
            ):
                return entry
        return None
    return candidates[0] if len(candidates) == 1 else None


@functools.lru_cache(maxsize=1024)  # beat sends the same args again and again
def _literal(text: str | None) -> Any:
    """An event's args / kwargs repr read back (None when it is not a literal, e.g. cut).
    Callers only compare what it returns, never change it (it is shared by the cache)."""
    if not text:
        return None
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
        return None
