"""Cluster text stays literal on every screen, and the Tasks filter reaches 100k kept tasks
while the table stays a bounded window."""

from __future__ import annotations

import time

from celerytui.app import make_app
from celerytui.core.state import ClusterState
from celerytui.screens.task_detail import TaskDetailScreen
from celerytui.screens.tasks import TasksScreen
from celerytui.widgets.chain_tree import ChainTree
from celerytui.widgets.task_table import WINDOW_ROWS
from tests.support.screens_ui import mounted_screen, until
from tests.ui.screen_text import screen_text
from tests.ui.synthetic_cluster import T0, FakeMonitor, fixed_clock, snapshot_settings

EVIL = "evil-0000-aaaa-bbbb-cccc-000000000001"


def _evil_state() -> ClusterState:
    state = ClusterState(clock=fixed_clock)
    host = "[reverse]w1[/]@node"
    state.apply(
        [
            {
                "type": "task-received",
                "uuid": EVIL,
                "name": "[bold red]evil[/]",
                "args": "('\x1b[31mred', '[link=http://x]y[/link]')",
                "kwargs": "{}",
                "hostname": host,
                "timestamp": T0,
                "local_received": T0,
            },
            {
                "type": "task-failed",
                "uuid": EVIL,
                "hostname": host,
                "exception": "ValueError('[b]boom[/b]')",
                "traceback": "Traceback (most recent call last):\n  [i]frame[/i]\nValueError: "
                "[b]boom[/b] \x1b[2J",
                "timestamp": T0 + 1,
                "local_received": T0 + 1,
            },
        ]
    )
    return state


async def test_markup_and_escapes_show_literally_in_table_failures_detail_and_tree():
    app = make_app(
        snapshot_settings(), FakeMonitor(_evil_state()), start_monitor=False, clock=fixed_clock
    )
    async with app.run_test(size=(160, 48)) as pilot:
        for key in ("2", "3"):
            await pilot.press(key)
            await until(
                pilot,
                lambda: "[bold red]evil[/]" in screen_text(app),
                what=f"the literal name on screen {key}",
            )
            text = screen_text(app)
            assert "[reverse]w1[/]" in text  # the hostname, literal (maybe cut short)
            assert "\x1b" not in text
        assert "[b]boom[/b]" in screen_text(app)  # failures: exception and last line
        assert "\\x1b[2J" in screen_text(app)
        app.show_task(EVIL)
        detail = await mounted_screen(pilot, app, TaskDetailScreen, what="detail")
        await until(pilot, lambda: "\\x1b[31mred" in screen_text(app), what="escaped args")
        text = screen_text(app)
        assert "[link=http://x]y[/link]" in text and "[bold red]evil[/]" in text
        assert "[i]frame[/i]" in str(detail.query_one("#task-traceback").render())
        assert "[bold red]evil[/]" in str(detail.query_one(ChainTree).root.label)


def _big_state(n: int) -> ClusterState:
    state = ClusterState(max_tasks=n, clock=fixed_clock)
    names = ("proj.send_email", "proj.validate_order", "proj.process_payment", "proj.ship")
    events = [
        {
            "type": "task-received",
            "uuid": f"{i:08d}-big",
            "name": names[i % 4],
            "args": f"({i},)",
            "kwargs": "{}",
            "hostname": "w1@node",
            "timestamp": T0 + i / 1000,
            "local_received": T0 + i / 1000,
        }
        for i in range(n)
    ]
    for start in range(0, n, 20_000):
        state.apply(events[start : start + 20_000])
    return state


async def test_filter_reaches_100k_kept_tasks_and_the_table_stays_bounded(capsys):
    state = _big_state(100_000)
    app = make_app(snapshot_settings(), FakeMonitor(state), start_monitor=False, clock=fixed_clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2")
        screen = (
            await until(
                pilot,
                lambda: isinstance(app.screen, TasksScreen) and app.screen.table.row_count,
                what="the Tasks screen",
            )
            and app.screen
        )
        assert screen.table.row_count == WINDOW_ROWS
        began = time.perf_counter()
        assert screen.apply_filter("name:email")
        spent = time.perf_counter() - began
        assert screen.table.matching == 25_000
        assert screen.table.row_count == WINDOW_ROWS
        assert screen.table.newest_uuid() == f"{99_996:08d}-big"  # the newest send_email
        assert screen.apply_filter("args:^\\(17,\\)$")  # the oldest tasks are reached too
        assert {str(k.value) for k in screen.table.rows} == {f"{17:08d}-big"}
        assert screen.apply_filter("")
        with app.monitor.lock:
            burst = state.apply([_received(i) for i in range(100_000, 101_000)])
            began = time.perf_counter()
            with app.batch_update():
                screen.refresh_view(app.monitor, burst)
            tick = time.perf_counter() - began
        assert screen.table.row_count == WINDOW_ROWS
        assert screen.table.newest_uuid() == f"{100_999:08d}-big"
        with capsys.disabled():
            print(
                f"\n[figure] Tasks filter rescan of 100k kept tasks: {spent * 1000:.0f} ms; "
                f"a tick of 1000 new tasks: {tick * 1000:.0f} ms"
            )


def _received(i: int, name: str = "proj.send_email") -> dict:
    return {
        "type": "task-received",
        "uuid": f"{i:08d}-big",
        "name": name,
        "args": f"({i},)",
        "kwargs": "{}",
        "hostname": "w1@node",
        "timestamp": T0 + i / 1000,
        "local_received": T0 + i / 1000,
    }


async def test_ticks_keep_the_newest_window_and_drop_rows_that_stop_matching():
    state = _big_state(2_000)
    monitor = FakeMonitor(state)
    app = make_app(snapshot_settings(), monitor, start_monitor=False, clock=fixed_clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2")
        screen = (
            await until(
                pilot,
                lambda: isinstance(app.screen, TasksScreen) and app.screen.table.row_count,
                what="the Tasks screen",
            )
            and app.screen
        )
        table = screen.table
        assert screen.apply_filter("state:received")
        assert table.row_count == WINDOW_ROWS and table.matching == 2_000

        def shown() -> set[str]:
            return {str(k.value) for k in table.rows}

        with monitor.lock:  # a burst four times the window in one tick
            monitor.queued.append(state.apply([_received(i) for i in range(2_000, 4_000)]))
        await until(pilot, lambda: f"{3_999:08d}-big" in shown(), what="the burst's newest")
        assert table.row_count == WINDOW_ROWS
        assert shown() == {f"{i:08d}-big" for i in range(3_500, 4_000)}
        assert table.matching == 4_000

        with monitor.lock:  # a shown task succeeds: it no longer matches state:received
            monitor.queued.append(
                state.apply(
                    [
                        {
                            "type": "task-succeeded",
                            "uuid": f"{3_999:08d}-big",
                            "result": "1",
                            "runtime": 0.1,
                            "hostname": "w1@node",
                            "timestamp": T0 + 5,
                            "local_received": T0 + 5,
                        }
                    ]
                )
            )
        await until(pilot, lambda: f"{3_999:08d}-big" not in shown(), what="the row to go")
        assert table.row_count == WINDOW_ROWS - 1
