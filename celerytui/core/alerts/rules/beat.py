"""Rules over the beat schedule: an entry's run did not come, or came late (core/beat_watch.py
judges the runs; these only read what it found)."""

from __future__ import annotations

from datetime import datetime, tzinfo

from celerytui.core.alerts.registry import register
from celerytui.core.alerts.rule import Context, Finding, Rule


def clock_time(ts: float, tz: tzinfo) -> str:
    """``03:00`` for a time on the minute, else ``03:00:04``, in the schedule's timezone."""
    when = datetime.fromtimestamp(ts, tz)
    return when.strftime("%H:%M" if when.second == 0 else "%H:%M:%S")


@register
class BeatMissed(Rule):
    """ "missed: ENTRY expected 03:00": nothing was sent within the grace window of an entry's
    time; held until the entry runs again."""

    name = "beat-missed"
    kind = "periodic"
    watches = "task-sent events against the app's beat schedule"
    settings = ("beat_grace", "beat_grace_share")
    order = 45

    def evaluate(self, context: Context) -> list[Finding]:
        beats = context.beats
        if beats is None or not beats.sends_events:
            return []
        found: list[Finding] = []
        for entry in beats.entries.values():
            if entry.missing_since is None:
                continue
            expected = clock_time(entry.missing_since, beats.tz)
            n = entry.missed_in_streak
            detail = f"{n} run{'s' if n != 1 else ''} missed"
            if entry.last_run is not None:
                detail += f"; last run {clock_time(entry.last_run, beats.tz)}"
            found.append(
                Finding(
                    f"beat-missed:{entry.name}",
                    "error",
                    f"missed: {entry.name} expected {expected}",
                    detail,
                    subject=entry.name,
                    labels={"entry": entry.name, "task": entry.task, "missed": str(n)},
                )
            )
        return found


@register
class BeatLate(Rule):
    """An entry's newest run was sent more than ``beat_late`` after its time; held until a
    run comes on time."""

    name = "beat-late"
    kind = "periodic"
    watches = "task-sent events against the app's beat schedule"
    settings = ("beat_late",)
    order = 46

    def evaluate(self, context: Context) -> list[Finding]:
        beats = context.beats
        if beats is None or not beats.sends_events:
            return []
        found: list[Finding] = []
        for entry in beats.entries.values():
            if not entry.last_run_late or entry.missing or entry.last_run is None:
                continue
            late = entry.last_lateness or 0.0
            found.append(
                Finding(
                    f"beat-late:{entry.name}",
                    "warning",
                    f"late: {entry.name} ran {late:.0f}s late",
                    f"sent at {clock_time(entry.last_run, beats.tz)}; {entry.late} late run(s)",
                    subject=entry.name,
                    labels={"entry": entry.name, "task": entry.task, "late_seconds": f"{late:.1f}"},
                )
            )
        return found
