"""Firing tasks from the keyboard against a real Redis and a real worker: each key's task
shows up in the dashboard's task tail and reaches its end state there."""

from __future__ import annotations

import pytest
from textual.widgets import Input

from celerytui.app import make_app
from celerytui.screens.dialogs import PromptDialog, TaskPickerDialog
from tests.ui.conftest import wait_until
from tests.ui.screen_text import screen_text

pytestmark = pytest.mark.redis


def _task_named(app, suffix: str):
    with app.monitor.lock:
        for task in reversed(app.monitor.state.tasks.values()):
            if (task.name or "").endswith(suffix):
                return task
    return None


async def _fired_row_shows(pilot, app, suffix: str, state: str = "SUCCESS"):
    """Wait for the fired task to exist, then for its tail row to show ``state``."""
    task = await wait_until(pilot, lambda: _task_named(app, suffix), what=f"{suffix} task")
    short = task.uuid[:8]

    def row() -> str | None:
        for line in screen_text(app).splitlines():
            if short in line and state in line:
                return line
        return None

    return await wait_until(pilot, row, what=f"{suffix} {short} {state} on screen")


async def _dialog(pilot, app) -> PromptDialog:
    return await wait_until(
        pilot,
        lambda: isinstance(app.screen, PromptDialog) and app.screen.query("Input") and app.screen,
        what="the prompt dialog, composed",
    )


async def _connected(pilot, app):
    await wait_until(
        pilot,
        lambda: "connected" in screen_text(app).splitlines()[0],
        what="header to say connected",
    )


async def test_h_fires_an_http_check_prefilled_with_the_configured_target(ui_settings, httpserver):
    httpserver.expect_request("/health").respond_with_data("ok")
    url = httpserver.url_for("/health")
    app = make_app(ui_settings(http_targets=[url]))
    async with app.run_test(size=(80, 24)) as pilot:
        await _connected(pilot, app)
        await pilot.press("h")
        dialog = await _dialog(pilot, app)
        assert dialog.query_one(Input).value == url
        await pilot.press("enter")
        line = await _fired_row_shows(pilot, app, ".check_http_endpoint")
        assert "check_http" in line
        # the checks panel shows the target UP
        await wait_until(pilot, lambda: "▲ UP" in screen_text(app), what="checks panel UP")


async def test_d_fires_a_disk_check_on_local(ui_settings):
    app = make_app(ui_settings())
    async with app.run_test(size=(80, 24)) as pilot:
        await _connected(pilot, app)
        await pilot.press("d")
        dialog = await _dialog(pilot, app)
        assert dialog.query_one(Input).value == "local"
        await pilot.press("enter")
        await _fired_row_shows(pilot, app, ".check_disk_usage")
        await wait_until(
            pilot,
            lambda: "free" in screen_text(app) and "local" in screen_text(app),
            what="disk use of local in the checks panel",
        )


async def test_o_fires_the_order_chain_to_shipping(ui_settings):
    app = make_app(ui_settings())
    async with app.run_test(size=(80, 24)) as pilot:
        await _connected(pilot, app)
        await pilot.press("o")
        dialog = await _dialog(pilot, app)
        dialog.query_one(Input).value = "4242"
        await pilot.press("enter")
        for step in (".validate_order", ".process_payment", ".ship_order"):
            await _fired_row_shows(pilot, app, step)


async def test_e_fires_send_email_and_notifies_its_id_then_its_result(ui_settings):
    app = make_app(ui_settings())
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await _connected(pilot, app)
        await pilot.press("e")
        await wait_until(
            pilot, lambda: isinstance(app.screen, PromptDialog) and app.screen.query("Input")
        )
        await pilot.press("enter")  # both fields are prefilled
        task = await wait_until(pilot, lambda: _task_named(app, ".send_email"), what="task")
        await wait_until(pilot, lambda: task.uuid[:8] in screen_text(app), what="sent toast")
        await wait_until(
            pilot,
            lambda: "Email to ops@example.com" in screen_text(app),
            what="the result in a notification",
        )
        line = await _fired_row_shows(pilot, app, ".send_email")
        assert "ops@example" in line  # the args column


async def test_t_picks_a_registered_task_and_validates_json(ui_settings):
    app = make_app(ui_settings())
    async with app.run_test(size=(80, 24)) as pilot:
        await _connected(pilot, app)
        await pilot.press("t")
        picker = await wait_until(
            pilot,
            lambda: (
                isinstance(app.screen, TaskPickerDialog)
                and app.screen.query("#name")
                and app.screen
            ),
            what="the task picker, composed",
        )
        assert "celerytui.tasks.send_email" in picker._names
        picker.query_one("#name", Input).value = "celerytui.tasks.send_email"
        picker.query_one("#args", Input).value = '["t@example.com", '  # broken JSON
        picker.query_one("#kwargs", Input).focus()
        await pilot.press("enter")
        await wait_until(
            pilot, lambda: "args: invalid JSON" in screen_text(app), what="the one-line JSON error"
        )
        assert isinstance(app.screen, TaskPickerDialog)  # still open, nothing sent
        picker.query_one("#args", Input).value = '["t@example.com", "from t"]'
        await pilot.press("enter")
        line = await _fired_row_shows(pilot, app, ".send_email")
        assert "t@example.com" in line or "t@example" in line
