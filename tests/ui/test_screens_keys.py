"""Keys of the Tasks and Queues screens on the fixed synthetic cluster: sort, reverse, follow,
and --read-only refusing a purge before anything reaches the broker."""

from __future__ import annotations

from celerytui.app import make_app
from celerytui.core.queues import QueueDepth
from celerytui.screens.dialogs import ConfirmDialog
from celerytui.screens.palette import action_commands
from celerytui.screens.queues import QueuesScreen
from celerytui.screens.tasks import TasksScreen
from tests.support.screens_ui import notices, until
from tests.ui.screen_text import screen_text
from tests.ui.synthetic_cluster import T0, build_monitor, fixed_clock, snapshot_settings


async def _tasks(pilot, app) -> TasksScreen:
    await pilot.press("2")
    return await until(
        pilot,
        lambda: isinstance(app.screen, TasksScreen) and app.screen.table.row_count and app.screen,
        what="Tasks",
    )


def _column(table, index: int) -> list[str]:
    return [table.get_row_at(i)[index].plain for i in range(table.row_count)]


async def test_s_cycles_the_sort_column_and_r_reverses_it():
    app = make_app(snapshot_settings(), build_monitor(), start_monitor=False, clock=fixed_clock)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _tasks(pilot, app)
        table = screen.table
        arrival = [
            app.monitor.state.tasks[str(table.coordinate_to_cell_key((i, 0)).row_key.value)].seq
            for i in range(table.row_count)
        ]
        assert arrival == sorted(arrival)  # in arrival order, the newest at the bottom
        await pilot.press("s")  # -> State
        states = _column(table, 1)
        assert states == sorted(states) and states[0] == "FAILURE"
        assert "sort State ↑" in screen_text(app)
        await pilot.press("r")
        assert _column(table, 1) == sorted(states, reverse=True)
        assert "sort State ↓" in screen_text(app)
        await pilot.press("s")  # -> Task name
        names = _column(table, 2)
        assert names == sorted(names, reverse=True)


async def test_f_toggles_following_the_newest_task():
    monitor = build_monitor()
    app = make_app(snapshot_settings(), monitor, start_monitor=False, clock=fixed_clock)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _tasks(pilot, app)
        table = screen.table
        assert screen.selected_task() == table.newest_uuid()

        def arrive(uuid: str, at: float) -> None:
            with monitor.lock:
                monitor.queued.append(
                    monitor.state.apply(
                        [
                            {
                                "type": "task-received",
                                "uuid": uuid,
                                "name": "proj.late",
                                "args": "()",
                                "kwargs": "{}",
                                "hostname": "w1@node1",
                                "timestamp": at,
                                "local_received": at,
                            }
                        ]
                    )
                )

        arrive("new-1", T0 + 400)
        await until(pilot, lambda: screen.selected_task() == "new-1", what="follow to new-1")
        await pilot.press("f")
        assert "follow off" in screen_text(app)
        arrive("new-2", T0 + 401)
        await until(pilot, lambda: table.newest_uuid() == "new-2", what="new-2's row")
        assert screen.selected_task() == "new-1"  # the cursor stayed
        await pilot.press("f")
        assert screen.selected_task() == "new-2" and "follow on" in screen_text(app)


async def test_read_only_hides_and_refuses_purge():
    monitor = build_monitor()
    monitor.queue_depths = [QueueDepth("celery", 5, None, {0: 5})]
    app = make_app(
        snapshot_settings(read_only=True), monitor, start_monitor=False, clock=fixed_clock
    )
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("5")
        await until(
            pilot,
            lambda: isinstance(app.screen, QueuesScreen) and "celery" in screen_text(app),
            what="the Queues screen",
        )
        assert "Purge" not in screen_text(app).splitlines()[-1]
        await pilot.press("P")
        await until(pilot, lambda: "read-only: purge refused" in notices(app), what="the refusal")
        assert not isinstance(app.screen, ConfirmDialog)
        app.clear_notifications()
        purge = next(c for c in action_commands(app, app.screen) if c.help == "action: purge_queue")
        purge.callback()  # the command palette's entry refuses the same way as the key
        await until(
            pilot, lambda: "read-only: purge refused" in notices(app), what="the palette's refusal"
        )
        assert not isinstance(app.screen, ConfirmDialog)
