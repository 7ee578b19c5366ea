"""A dialog pushed while Textual holds an update batch open (a Footer's recompose does, across
awaits) must still reach the terminal: once in eleven tries the Workers screen's `C` confirm
was on the stack, taking keys, but never drawn.

Pilot's own pauses force a repaint, so these tests wait with plain sleeps and read what the
app sends to its driver (``App._display``, the one place Textual writes to the terminal, which
drops what it is given while a batch is open).
"""

from __future__ import annotations

import asyncio
import time

import pytest
from textual.widgets import Input

from celerytui.app import make_app
from celerytui.config import load_settings
from celerytui.screens.dialogs import ConfirmDialog, PromptDialog
from celerytui.screens.workers import WorkersScreen
from celerytui.widgets.worker_table import WorkerTable
from tests.support.screens_ui import connected, module_worker, until
from tests.ui.snapshot_app import build, until_drawn

TRIES = 5


def painted(app) -> list:
    """The screens whose pictures the app sends to the terminal from now on."""
    screens: list = []
    display = app._display

    def spy(screen, renderable):
        if renderable is not None and not app._batch_count:  # in a batch, _display drops it
            screens.append(screen)
        return display(screen, renderable)

    app._display = spy
    return screens


async def drawn_within(screens: list, dialog, seconds: float = 2.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if dialog in screens:
            return True
        await asyncio.sleep(0.02)  # not pilot.pause(): it repaints by itself
    return False


async def test_a_confirm_pushed_inside_an_update_batch_is_drawn_every_time():
    app = build()
    async with app.run_test(size=(80, 24)) as pilot:
        await until_drawn(pilot)
        await pilot.press("4")
        await until_drawn(pilot)
        screens = painted(app)
        for attempt in range(TRIES):
            dialog = ConfirmDialog(f"Stop w1@node1 consuming from q{attempt}?")
            with app.batch_update():  # what Footer.recompose holds while the dialog lays out
                app.push_screen(dialog)
                await asyncio.sleep(0.3)
            assert await drawn_within(screens, dialog), f"try {attempt}: never drawn"
            await pilot.press("n")
            await until(pilot, lambda: isinstance(app.screen, WorkersScreen), what="back")


@pytest.mark.redis
async def test_workers_cancel_consumer_confirm_is_drawn_every_time(redis_target, tmp_path):
    with module_worker(redis_target, tmp_path, "painted") as (broker, backend, _app, worker):
        app = make_app(load_settings(broker_url=broker, result_backend=backend))
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: connected(app), what="the event stream to connect")
            await pilot.press("4")
            screen = await until(
                pilot,
                lambda: isinstance(app.screen, WorkersScreen) and app.screen,
                what="the Workers screen",
            )
            table = screen.query_one(WorkerTable)
            await until(
                pilot,
                lambda: worker.hostname in {str(k.value) for k in table.rows},
                what="the worker's row",
            )
            screens = painted(app)
            for attempt in range(TRIES):
                await pilot.press("C")
                prompt = await until(
                    pilot,
                    lambda: (
                        isinstance(app.screen, PromptDialog)
                        and app.screen.query(Input)
                        and app.screen
                    ),
                    what="the queue prompt",
                )
                prompt.query_one(Input).value = f"q{attempt}"
                with app.batch_update():
                    await pilot.press("enter")
                    await asyncio.sleep(0.3)
                dialog = app.screen
                assert isinstance(dialog, ConfirmDialog)
                assert await drawn_within(screens, dialog), f"try {attempt}: never drawn"
                await pilot.press("n")
                await until(pilot, lambda: isinstance(app.screen, WorkersScreen), what="back")
