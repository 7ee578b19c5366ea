"""The Schedule screen's readings of beat entries: readable schedules and next run times in
the app's timezone, the way beat computes them; an interval entry's next run from the last
send of it seen (synthetic beat sends through a real ClusterState), else "~" at the latest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from celery.schedules import crontab, schedule

from celerytui.config import load_settings
from celerytui.core.state import ClusterState
from celerytui.screens.schedule import (
    BeatSends,
    describe_schedule,
    next_run,
    next_text,
    schedule_rows,
)
from celerytui.tasks import make_celery_app
from tests.support.proj_app import ADD_EVERY, make_proj_app
from tests.ui.screen_text import screen_text
from tests.ui.snapshot_app import until_drawn
from tests.ui.synthetic_cluster import NOW, build_monitor, fixed_clock, snapshot_settings


def test_schedules_read_like_cron_lines_and_intervals():
    assert describe_schedule(crontab(minute="*/5")) == "cron */5 * * * *"
    assert describe_schedule(crontab(hour=3, minute=0)) == "cron 0 3 * * *"
    assert describe_schedule(300) == "every 5m"
    assert describe_schedule(timedelta(hours=2)) == "every 2h"
    assert describe_schedule(schedule(timedelta(seconds=90))) == "every 90s"


def test_next_run_of_a_daily_0300_crontab_is_0300_in_the_apps_timezone():
    app = make_celery_app(
        load_settings(
            broker_url="redis://127.0.0.1:1/0",
            timezone="Asia/Shanghai",
            http_targets=["https://example.com/health"],
            disk_hosts='[{"name": "db1"}]',
        )
    )
    now = datetime(2026, 1, 10, 12, 0, tzinfo=UTC).timestamp()  # 20:00 in Shanghai
    rows = {
        name: (task, sched, args, when)
        for name, task, sched, args, when, _estimated in schedule_rows(app, now)
    }
    task, sched, args, when = rows["disk-check db1"]
    assert task.endswith("check_disk_usage") and sched == "cron 0 3 * * *"
    assert args == "('db1',)"
    # 03:00 Shanghai on the 11th is 19:00 UTC on the 10th: 7 hours after now
    assert datetime.fromtimestamp(when, UTC) == datetime(2026, 1, 10, 19, 0, tzinfo=UTC)
    _task, _sched, _args, http_when = rows["http-check https://example.com/health"]
    assert http_when - now == 300


def test_next_run_of_an_interval_is_one_interval_from_now():
    now = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
    assert next_run(timedelta(seconds=30), now) == now + timedelta(seconds=30)


# -- interval entries: the last send seen + the interval, else "~" at the latest -----------


def _sent(uuid: str, name: str, args: str, at: float, kind: str = "task-sent") -> dict:
    return {
        "type": kind,
        "uuid": uuid,
        "name": name,
        "args": args,
        "kwargs": "{}",
        "hostname": "gen7@beat-host",
        "timestamp": at,
        "local_received": at,
    }


def _rows(app, state, now):
    sends = BeatSends(dict(app.conf.beat_schedule))
    for task in state.tasks.values():
        sends.observe(task)
    return {row[0]: row for row in schedule_rows(app, now, sends)}


def test_an_interval_entry_runs_an_interval_after_its_last_send_seen():
    proj = make_proj_app("redis://127.0.0.1:1/0")
    state = ClusterState(clock=fixed_clock)
    state.apply(
        [
            _sent("beat-1", "proj.add", "(2, 2)", NOW - 42),
            _sent("beat-2", "proj.add", "(2, 2)", NOW - 12),
            _sent("by-hand", "proj.add", "(1, 1)", NOW - 2),
        ]
    )  # not beat's: other args
    *_, when, estimated = _rows(proj, state, NOW)["add-every-30s"]
    assert (when, estimated) == (NOW - 12 + ADD_EVERY, False)
    # a worker's task-received (args as a list) is a send seen too
    state.apply([_sent("beat-3", "proj.add", "[2, 2]", NOW - 5, kind="task-received")])
    *_, when, _estimated = _rows(proj, state, NOW)["add-every-30s"]
    assert when == NOW - 5 + ADD_EVERY


def test_an_interval_entry_with_no_send_seen_is_an_estimate_at_the_latest():
    proj = make_proj_app("redis://127.0.0.1:1/0")
    *_, when, estimated = _rows(proj, ClusterState(clock=fixed_clock), NOW)["add-every-30s"]
    assert (when, estimated) == (NOW + ADD_EVERY, True)

    def fmt(ts):
        return datetime.fromtimestamp(ts, UTC).strftime("%H:%M:%S")

    assert next_text(when, True, NOW, fmt) == "~22:18:50 (≤30s)"
    assert next_text(NOW + 18, False, NOW, fmt) == "22:18:38 (in 18s)"
    assert next_text(NOW - 40, False, NOW, fmt) == "22:17:40 (late 40s)"


def _proj_schedule_app(events: list[dict]):
    from celerytui.app import make_app

    monitor = build_monitor()
    monitor.app = make_proj_app("redis://127.0.0.1:1/0")
    monitor.state.apply(events)
    settings = snapshot_settings(app="tests.support.proj_app")
    return make_app(settings, monitor, start_monitor=False, clock=fixed_clock)


async def test_schedule_screen_shows_the_next_run_from_beats_last_send():
    app = _proj_schedule_app([_sent("beat-1", "proj.add", "(2, 2)", NOW - 12)])
    async with app.run_test(size=(100, 24)) as pilot:
        await until_drawn(pilot)
        await pilot.press("6")
        await until_drawn(pilot)
        row = next(line for line in screen_text(app).splitlines() if "add-every-30s" in line)
        assert "every 30s" in row and "22:18:38 (in 18s)" in row


@pytest.mark.parametrize("width", [80, 100])
async def test_schedule_hint_line_fits_and_says_one_entry(width):
    app = _proj_schedule_app([])
    async with app.run_test(size=(width, 24)) as pilot:
        await until_drawn(pilot)
        await pilot.press("6")
        await until_drawn(pilot)
        status = screen_text(app).splitlines()[1].strip()
        parts = [
            "1 beat entry of tests.support.proj_app",
            "times in UTC",
            "~ no send seen yet: at the latest",
        ]
        shown = parts[:2] if width == 80 else parts
        assert status == " · ".join(shown)  # whole parts, nothing cut mid-word
        row = next(line for line in screen_text(app).splitlines() if "add-every-30s" in line)
        assert "~22:18:50 (≤30s)" in row
