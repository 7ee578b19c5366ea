"""The Schedule screen's readings of beat entries: readable schedules and next run times in
the app's timezone, the way beat computes them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from celery.schedules import crontab, schedule

from celerytui.config import load_settings
from celerytui.screens.schedule import describe_schedule, next_run, schedule_rows
from celerytui.tasks import make_celery_app


def test_schedules_read_like_cron_lines_and_intervals():
    assert describe_schedule(crontab(minute="*/5")) == "cron */5 * * * *"
    assert describe_schedule(crontab(hour=3, minute=0)) == "cron 0 3 * * *"
    assert describe_schedule(300) == "every 5m"
    assert describe_schedule(timedelta(hours=2)) == "every 2h"
    assert describe_schedule(schedule(timedelta(seconds=90))) == "every 90s"


def test_next_run_of_a_daily_0300_crontab_is_0300_in_the_apps_timezone():
    app = make_celery_app(load_settings(broker_url="redis://127.0.0.1:1/0",
                                        timezone="Asia/Shanghai",
                                        http_targets=["https://example.com/health"],
                                        disk_hosts='[{"name": "db1"}]'))
    now = datetime(2026, 1, 10, 12, 0, tzinfo=UTC).timestamp()  # 20:00 in Shanghai
    rows = {name: (task, sched, args, when) for name, task, sched, args, when
            in schedule_rows(app, now)}
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
