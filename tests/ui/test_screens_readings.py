"""Small readings that were wrong: the header's name under -A, a failed task's Result, one
time per task in every table, and plurals. The real app over a fixed synthetic cluster."""

from __future__ import annotations

import pytest

from celerytui.app import make_app
from celerytui.config import load_settings
from celerytui.core.queues import QueueDepth
from celerytui.widgets.header_bar import cluster_label
from tests.support.proj_app import make_proj_app
from tests.ui.screen_text import screen_text
from tests.ui.snapshot_app import build, until_drawn
from tests.ui.synthetic_cluster import NOW, build_monitor, fixed_clock, snapshot_settings

FAILED_TASK = "00000003-aaaa-bbbb-cccc-000000000003"  # ValueError('card declined')


async def _mode(pilot, key: str) -> None:
    await until_drawn(pilot)
    await pilot.press(key)
    await until_drawn(pilot)
    await pilot.pause(0.2)


async def test_header_names_the_watched_app_under_dash_a():
    monitor = build_monitor()
    monitor.app = make_proj_app("redis://127.0.0.1:1/0")
    settings = load_settings(
        broker_url="redis://127.0.0.1:1/0", app="tests.support.proj_app", env={}
    )
    app = make_app(settings, monitor, start_monitor=False, clock=fixed_clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await until_drawn(pilot)
        assert screen_text(app).splitlines()[0].startswith(" proj · Dashboard")


def test_a_cluster_name_that_was_set_wins_over_the_apps_name():
    proj = make_proj_app("redis://127.0.0.1:1/0")
    named = load_settings(broker_url="redis://x:1/0", app="proj", cluster_name="prod", env={})
    plain = load_settings(broker_url="redis://x:1/0", env={})
    assert cluster_label(named, proj) == "prod"
    assert cluster_label(plain, None) == "celery"  # no -A: celerytui's own app, as before


async def test_a_failed_tasks_result_says_it_raised_not_none_yet():
    app = build()
    async with app.run_test(size=(100, 40)) as pilot:
        await until_drawn(pilot)
        app.show_task(FAILED_TASK)
        await until_drawn(pilot)
        await pilot.pause(0.3)
        text = screen_text(app)
        assert "none: it raised ValueError('card declined')" in text
        assert "none yet" not in text


async def test_the_dashboard_and_the_tasks_screen_show_one_time_per_task():
    monitor = build_monitor(tasks=0)
    uuid = "5105105105-slow-0000-0000-000000000000"
    monitor.state.apply(
        [
            {
                "type": "task-sent",
                "uuid": uuid,
                "name": "proj.slow",
                "args": "(1,)",
                "kwargs": "{}",
                "hostname": "gen1@client",
                "timestamp": NOW - 100,
                "local_received": NOW - 100,
            },
            {
                "type": "task-received",
                "uuid": uuid,
                "name": "proj.slow",
                "args": "(1,)",
                "kwargs": "{}",
                "hostname": "w1@node1",
                "timestamp": NOW - 99,
                "local_received": NOW - 99,
            },
            {
                "type": "task-succeeded",
                "uuid": uuid,
                "hostname": "w1@node1",
                "result": "1",
                "runtime": 59.0,
                "timestamp": NOW - 40,
                "local_received": NOW - 40,
            },
        ]
    )
    app = make_app(snapshot_settings(), monitor, start_monitor=False, clock=fixed_clock)

    def time_of_row() -> list[str]:
        return [
            line.split()[0]
            for line in screen_text(app).splitlines()
            if uuid[:8] in line or ("slow" in line and "SUCCESS" in line)
        ]

    async with app.run_test(size=(160, 48)) as pilot:
        await until_drawn(pilot)
        on_dashboard = time_of_row()
        await _mode(pilot, "2")
        on_tasks = time_of_row()
    assert on_dashboard and on_tasks
    assert set(on_dashboard) == set(on_tasks) == {"22:16:40"}  # sent: NOW - 100


@pytest.mark.parametrize(
    ("depths", "line"),
    [
        ([QueueDepth("celery", 1, None, {0: 1})], "1 queue, 1 message waiting"),
        (
            [QueueDepth("celery", 0, None, {0: 0}), QueueDepth("http", 2, None, {0: 2})],
            "2 queues, 2 messages waiting",
        ),
    ],
)
async def test_queue_counts_read_as_english(depths, line):
    monitor = build_monitor()
    monitor.queue_depths = depths
    app = make_app(snapshot_settings(), monitor, start_monitor=False, clock=fixed_clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await _mode(pilot, "5")
        assert line in screen_text(app)
