"""The dialogs' OK and Cancel buttons (shared by every form dialog): OK sends what was typed or
shows the error in the dialog, Cancel closes it with nothing."""

from __future__ import annotations

import pytest
from textual.app import App
from textual.widgets import Input, Static

from celerytui.screens.dialogs import PromptDialog, TaskPickerDialog


class DialogApp(App):
    def __init__(self, dialog) -> None:
        super().__init__()
        self.dialog = dialog
        self.answers: list = []

    def on_mount(self) -> None:
        self.push_screen(self.dialog, self.answers.append)


def _error_text(dialog) -> str:
    return str(dialog.query_one(".dialog-error", Static).render())


async def test_prompt_ok_sends_the_fields_and_cancel_sends_nothing():
    dialog = PromptDialog("Order chain", [("order_id", "Order id", "1001")])
    app = DialogApp(dialog)
    async with app.run_test() as pilot:
        await pilot.click("#ok")
        await pilot.pause()
        assert app.answers == [{"order_id": "1001"}]

    app = DialogApp(PromptDialog("Order chain", [("order_id", "Order id", "1001")]))
    async with app.run_test() as pilot:
        await pilot.click("#cancel")
        await pilot.pause()
        assert app.answers == [None]


def _host_required(values: dict[str, str]) -> str | None:
    return None if values["host"] else "host is required"


@pytest.mark.parametrize(
    "make_dialog, error",
    [
        (
            lambda: PromptDialog("Disk check", [("host", "Host", "")], validate=_host_required),
            "host is required",
        ),
        # no registered task to complete an empty name from
        (lambda: TaskPickerDialog([]), "pick a task name"),
    ],
    ids=["prompt", "task-picker"],
)
async def test_ok_with_bad_input_shows_the_error_and_stays_open(make_dialog, error):
    dialog = make_dialog()
    app = DialogApp(dialog)
    async with app.run_test() as pilot:
        await pilot.click("#ok")
        await pilot.pause()
        assert app.answers == []
        assert app.screen is dialog
        assert error in _error_text(dialog)


async def test_task_picker_ok_sends_the_name_and_json_args():
    dialog = TaskPickerDialog(["celerytui.tasks.send_email"])
    app = DialogApp(dialog)
    async with app.run_test() as pilot:
        dialog.query_one("#name", Input).value = "celerytui.tasks.send_email"
        dialog.query_one("#args", Input).value = '["a@example.com", "hi"]'
        await pilot.click("#ok")
        await pilot.pause()
        assert app.answers == [
            {"name": "celerytui.tasks.send_email", "args": ["a@example.com", "hi"], "kwargs": {}}
        ]


async def test_task_picker_cancel_sends_nothing():
    app = DialogApp(TaskPickerDialog(["celerytui.tasks.send_email"]))
    async with app.run_test() as pilot:
        await pilot.click("#cancel")
        await pilot.pause()
        assert app.answers == [None]
