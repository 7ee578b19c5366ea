"""Pause, read-only, re-run and quit on a real Redis with a real worker."""

from __future__ import annotations

import time

import pytest
from textual.command import CommandPalette

from celerytui.config import load_settings
from celerytui.screens.dialogs import PromptDialog
from tests.ui.conftest import wait_until
from tests.ui.screen_text import screen_text

pytestmark = pytest.mark.redis


@pytest.fixture
def client(ui_cluster):
    """A plain Celery client on the shared cluster (sends without going through the UI)."""
    from celerytui.tasks import make_celery_app

    broker, backend, _worker = ui_cluster
    app = make_celery_app(load_settings(broker_url=broker, result_backend=backend))
    yield app
    app.close()


def _task(app, uuid):
    with app.monitor.lock:
        return app.monitor.state.tasks.get(uuid)


def _row(app, short: str, state: str) -> str | None:
    return next(
        (line for line in screen_text(app).splitlines() if short in line and state in line), None
    )


async def _connected(pilot, app):
    await wait_until(pilot, lambda: app.monitor.events.status.connected, what="connected")


async def test_p_pauses_redraws_while_ingestion_goes_on(ui_settings, client):
    from celerytui.app import make_app

    app = make_app(ui_settings())
    async with app.run_test(size=(80, 24)) as pilot:
        await _connected(pilot, app)
        await pilot.press("p")
        await wait_until(pilot, lambda: "paused — 0 new" in screen_text(app), what="paused")
        frozen = screen_text(app).splitlines()[1:]
        uuid = client.send_task("celerytui.tasks.send_email", args=["p@example.com", "x"]).id
        await wait_until(
            pilot,
            lambda: (t := _task(app, uuid)) and t.state == "SUCCESS",
            what="the task to finish in the state (ingestion goes on)",
        )
        await wait_until(pilot, lambda: "paused — 1 new" in screen_text(app), what="1 new")
        assert screen_text(app).splitlines()[1:] == frozen  # nothing below the header moved
        assert uuid[:8] not in screen_text(app)
        await pilot.press("p")
        await wait_until(pilot, lambda: _row(app, uuid[:8], "SUCCESS"), what="row after resume")
        assert "paused" not in screen_text(app).splitlines()[0]


async def test_read_only_hides_and_refuses_every_dispatch(ui_settings):
    from celerytui.app import make_app

    app = make_app(ui_settings(read_only=True))
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await _connected(pilot, app)
        header = screen_text(app).splitlines()[0]
        assert "read-only" in header
        footer = screen_text(app).splitlines()[-1]
        assert "HTTP" not in footer and "Order" not in footer
        for key in "hdoetR":
            await pilot.press(key)
            await pilot.pause(0.05)
            assert not isinstance(app.screen, PromptDialog)
        # through the command palette: listed, but it answers with a notice
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette), what="palette")
        await pilot.press(*"order chain")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_until(
            pilot,
            lambda: "read-only: Fire the order chain" in screen_text(app),
            what="the read-only notice (a toast)",
        )
        assert "refused" in screen_text(app)
        assert not isinstance(app.screen, PromptDialog)


async def test_R_reruns_the_selected_task_with_the_same_args(ui_settings, client):
    from celerytui.app import make_app

    app = make_app(ui_settings())
    async with app.run_test(size=(80, 24)) as pilot:
        await _connected(pilot, app)
        uuid = client.send_task("celerytui.tasks.send_email", args=["r@example.com", "again"]).id
        await wait_until(pilot, lambda: _row(app, uuid[:8], "SUCCESS"), what="first run")
        assert app.screen.selected_task() == uuid  # the tail follows the newest row
        await pilot.press("R")

        def rerun():
            with app.monitor.lock:
                return next(
                    (
                        t
                        for t in app.monitor.state.tasks.values()
                        if t.uuid != uuid
                        and t.args
                        and "r@example.com" in t.args
                        and t.state == "SUCCESS"
                    ),
                    None,
                )

        again = await wait_until(pilot, rerun, what="the re-run to succeed")
        assert again.args == _task(app, uuid).args
        await wait_until(
            pilot, lambda: _row(app, again.uuid[:8], "SUCCESS"), what="the re-run's row"
        )  # drawn at the next tick, not at once


@pytest.mark.parametrize("key", ["q", "ctrl+c"])
async def test_q_quits_at_once(ui_settings, key):
    from celerytui.app import make_app

    app = make_app(ui_settings())
    async with app.run_test(size=(80, 24)) as pilot:
        await _connected(pilot, app)
        began = time.monotonic()
        await pilot.press(key)
        await wait_until(pilot, lambda: app._exit, timeout=5, what="the app to exit")
        assert time.monotonic() - began < 2.5
