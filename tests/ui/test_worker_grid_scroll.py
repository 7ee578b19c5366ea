"""The dashboard's worker grid makes the text of the workers in view only: scrolling a long
list still shows every worker it reaches, at once or by the next tick."""

from __future__ import annotations

from celerytui.app import make_app
from celerytui.widgets.worker_grid import WorkerGrid
from tests.ui.conftest import wait_until
from tests.ui.screen_text import screen_text
from tests.ui.synthetic_cluster import build_monitor, fixed_clock, snapshot_settings


async def test_scrolling_eighty_workers_shows_the_ones_reached():
    app = make_app(
        snapshot_settings(),
        build_monitor(workers=80, tasks=40),
        start_monitor=False,
        clock=fixed_clock,
        pump_interval=0.02,
    )
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: "w1@node1 " in screen_text(app), what="the first worker")
        assert "w60@node60" not in screen_text(app)  # far below: not in view
        app.screen.query_one(WorkerGrid).focus()
        await wait_until(pilot, lambda: isinstance(app.focused, WorkerGrid), what="focus")
        await pilot.press("end")
        await wait_until(
            pilot, lambda: "w79@node79" in screen_text(app), what="the last workers after end"
        )
        await pilot.press("pageup")
        grid = app.screen.query_one(WorkerGrid)
        top = grid.scroll_offset.y
        await wait_until(
            pilot,
            lambda: all(grid.render_line(y).text.strip() for y in range(grid.size.height)),
            what="every line in view drawn after a page up",
        )
        assert grid.scroll_offset.y == top
        await pilot.press("home")
        await wait_until(pilot, lambda: "w1@node1 " in screen_text(app), what="back at the top")
