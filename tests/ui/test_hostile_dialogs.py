"""Hostile cluster text (a task name, a worker hostname, a queue, a task id holding Rich/Textual
markup, OSC title/clipboard escapes, BEL, U+2028 and U+200B) is inert in every dialog, detail
screen, toast and palette entry: the app lives, the text is shown spelled out, the titles stay
as they were and nothing but Textual's own sequences reaches the terminal.

The app runs over a synthetic cluster with a driver that records every byte Textual writes to
the terminal (the headless driver writes nothing); tests/ui/test_hostile_tmux.py runs the real
``celerytui`` in tmux against a real worker with a hostile hostname and task name.
"""

from __future__ import annotations

import re

import pytest
from textual.command import CommandPalette
from textual.drivers.headless_driver import HeadlessDriver
from textual.widgets import Input, OptionList
from textual.widgets._toast import Toast

from celerytui.core.queues import QueueDepth
from celerytui.screens.dialogs import ConfirmDialog, PromptDialog, TaskPickerDialog
from celerytui.screens.task_detail import TaskDetailScreen
from celerytui.screens.worker_detail import WorkerDetailScreen, inspect_text
from tests.support import hostile_app as hostile
from tests.support.screens_ui import mounted_screen, until
from tests.ui import snapshot_app
from tests.ui.screen_text import screen_text
from tests.ui.synthetic_cluster import NOW

NAME, SHOWN_NAME = hostile.TASK_NAME, hostile.SHOWN_TASK_NAME
HOST, SHOWN_HOST = hostile.WORKER_NAME + "@evil", hostile.SHOWN_WORKER_NAME + "@evil"
UUID = "[@click=app.quit]" + hostile.TAIL + "-0001"
SHOWN_UUID = r"[@click=app.quit]" + hostile.SHOWN_TAIL + "-0001"
QUEUE = "q[i]x[/i]" + hostile.TAIL
SHOWN_QUEUE = r"q[i]x[/i]" + hostile.SHOWN_TAIL

# what Textual itself writes: CSI sequences (cursor, colours, modes) and the pointer shape
_OWN = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\]22;[a-z-]*\x07")
_RAW = ("\x1b", "\x07", "\u2028", "\u2029", "\u200b")


class RecordingDriver(HeadlessDriver):
    """The headless driver, except that the app renders to it and it keeps every write."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.written: list[str] = []

    @property
    def is_headless(self) -> bool:
        return False

    def write(self, data: str) -> None:
        self.written.append(data)


def hostile_app(**monitor_extra):
    app = snapshot_app.build(workers=0, tasks=0)
    app.driver_class = RecordingDriver
    monitor = app.monitor
    monitor.state.apply(
        [
            {
                "type": "worker-heartbeat",
                "hostname": HOST,
                "timestamp": NOW - 1,
                "local_received": NOW - 1,
                "freq": 2.0,
                "active": 0,
                "processed": 1,
                "loadavg": [0.1, 0.1, 0.1],
            },
            {
                "type": "task-received",
                "uuid": UUID,
                "name": NAME,
                "args": "(1,)",
                "kwargs": "{}",
                "hostname": HOST,
                "timestamp": NOW - 1,
                "local_received": NOW - 1,
                "routing_key": QUEUE,
            },
        ]
    )
    for key, value in monitor_extra.items():
        setattr(monitor, key, value)
    return app


def stray_escapes(app) -> list[str]:
    """Raw control characters in what the app wrote to the terminal, once Textual's own
    sequences are taken out (an OSC 0/2 title, OSC 52 clipboard or OSC 8 link is stray)."""
    out = _OWN.sub("", "".join(app._driver.written))
    return [repr(out[max(0, i - 20) : i + 20]) for i, ch in enumerate(out) if ch in _RAW][:5]


def region_text(app, widget) -> str:
    """What the user reads inside ``widget`` (its lines joined, so wrapping does not matter)."""
    region = widget.content_region
    lines = screen_text(app).splitlines()[region.y : region.bottom]
    return "".join(line[region.x : region.right].strip() for line in lines)


def toast_text(app) -> str:
    return " ".join(region_text(app, toast) for toast in app.screen.query(Toast))


async def open_mode(pilot, key: str, table: str):
    app = pilot.app
    await snapshot_app.until_drawn(pilot)
    await pilot.press(key)
    return await until(
        pilot,
        lambda: (
            app.screen.query(table)
            and app.screen.query_one(table).row_count
            and app.screen.query_one(table)
        ),
        what=f"the {table} with its row",
    )


async def still_inert(pilot) -> None:
    """The app lives, the app's and the screen's titles are their own (no cluster text), and
    the terminal got nothing stray."""
    app = pilot.app
    await pilot.pause(0.1)
    assert app.is_running and app.return_code is None
    assert (app.title, app.sub_title) == ("celerytui", "")
    screen = app.screen
    assert (screen.title, screen.sub_title) == (type(screen).TITLE, type(screen).SUB_TITLE)
    assert stray_escapes(app) == []


TASK_DIALOGS = [
    ("L", PromptDialog, SHOWN_NAME),
    ("X", ConfirmDialog, SHOWN_UUID),
    ("x", ConfirmDialog, SHOWN_NAME),  # "Revoke task UUID (NAME, STATE)?"
]
WORKER_DIALOGS = [
    ("a", PromptDialog, SHOWN_HOST),
    ("c", PromptDialog, SHOWN_HOST),
    ("C", PromptDialog, SHOWN_HOST),
    ("S", ConfirmDialog, SHOWN_HOST),
    ("minus", ConfirmDialog, SHOWN_HOST),
]


@pytest.mark.parametrize(
    "key, dialog, shown", TASK_DIALOGS, ids=["L-rate-limit", "X-terminate", "x-revoke"]
)
async def test_task_dialogs_show_a_hostile_task_literally(key, dialog, shown):
    app = hostile_app()
    async with app.run_test(size=(120, 36), headless=False) as pilot:
        await open_mode(pilot, "2", "TaskTable")
        await pilot.press(key)
        screen = await mounted_screen(pilot, app, dialog, f"the {key} dialog")
        await until(
            pilot,
            lambda: shown in region_text(app, screen.query_one(".dialog-box")),
            what="the hostile text spelled out in the dialog",
        )
        await still_inert(pilot)
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, dialog), what="dialog closed")
        await still_inert(pilot)


@pytest.mark.parametrize(
    "key, dialog, shown",
    WORKER_DIALOGS,
    ids=["a-autoscale", "c-consume", "C-cancel-consumer", "S-shutdown", "minus-shrink"],
)
async def test_worker_dialogs_show_a_hostile_hostname_literally(key, dialog, shown):
    app = hostile_app()
    async with app.run_test(size=(120, 36), headless=False) as pilot:
        await open_mode(pilot, "4", "WorkerTable")
        await pilot.press(key)
        screen = await mounted_screen(pilot, app, dialog, f"the {key} dialog")
        await until(
            pilot,
            lambda: shown in region_text(app, screen.query_one(".dialog-box")),
            what="the hostile hostname spelled out in the dialog",
        )
        await still_inert(pilot)
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, dialog), what="dialog closed")
        await still_inert(pilot)


async def test_purge_confirm_shows_a_hostile_queue_literally():
    app = hostile_app(queue_depths=[QueueDepth(name=QUEUE, messages=3)])
    async with app.run_test(size=(120, 36), headless=False) as pilot:
        await open_mode(pilot, "5", "QueueTable")
        await pilot.press("P")
        screen = await mounted_screen(pilot, app, ConfirmDialog, "the purge confirm")
        await until(
            pilot,
            lambda: SHOWN_QUEUE in region_text(app, screen.query_one(".dialog-box")),
            what="the hostile queue spelled out",
        )
        await still_inert(pilot)


async def test_task_and_worker_detail_show_hostile_text_literally():
    app = hostile_app()
    async with app.run_test(size=(120, 36), headless=False) as pilot:
        await open_mode(pilot, "2", "TaskTable")
        await pilot.press("enter")
        screen = await mounted_screen(pilot, app, TaskDetailScreen, "task detail")
        fields = screen.query_one("#task-fields")
        for shown in (SHOWN_UUID, SHOWN_NAME, SHOWN_HOST, SHOWN_QUEUE):
            await until(
                pilot,
                lambda shown=shown: shown in region_text(app, fields),
                what=f"{shown[:20]} in the task's fields",
            )
        await still_inert(pilot)
        await pilot.press("escape")
        await pilot.press("4")
        await until(
            pilot,
            lambda: (
                app.screen.query("WorkerTable") and app.screen.query_one("WorkerTable").row_count
            ),
            what="workers",
        )
        await pilot.press("enter")
        screen = await mounted_screen(pilot, app, WorkerDetailScreen, "worker detail")
        record = screen.query_one("#worker-record")
        await until(
            pilot,
            lambda: SHOWN_HOST in region_text(app, record),
            what="the hostname in the worker's record",
        )
        await still_inert(pilot)


@pytest.mark.parametrize(
    "key, mode, table, shown",
    [
        ("x", "2", "TaskTable", "revoke " + SHOWN_UUID[:8]),  # the toast names the id's first 8
        ("R", "2", "TaskTable", SHOWN_NAME),  # "re-run NAME failed: ..."
        ("plus", "4", "WorkerTable", SHOWN_HOST),  # "pool grow HOST failed: ..."
    ],
    ids=["x-revoke", "R-rerun", "plus-grow"],
)
async def test_toasts_about_hostile_tasks_and_workers_are_literal(key, mode, table, shown):
    """No broker here: each call fails, and its error toast names the task or worker."""
    app = hostile_app()
    async with app.run_test(size=(120, 36), headless=False, notifications=True) as pilot:
        await open_mode(pilot, mode, table)
        await pilot.press(key)
        if key == "x":  # a revoke asks first
            await mounted_screen(pilot, app, ConfirmDialog, "the revoke confirm")
            await pilot.press("y")
        await until(pilot, lambda: shown in toast_text(app), what="the toast, spelled out")
        await still_inert(pilot)


async def test_task_picker_lists_a_hostile_registered_name_spelled_out():
    app = hostile_app(app=hostile.app)  # the app -A names: its tasks are offered
    async with app.run_test(size=(120, 36), headless=False, notifications=True) as pilot:
        await snapshot_app.until_drawn(pilot)
        await pilot.press("t")
        screen = await mounted_screen(pilot, app, TaskPickerDialog, "the task picker")
        await pilot.press(*"x[link")  # the filter narrows the list to the hostile task
        names = screen.query_one("#names", OptionList)
        await until(pilot, lambda: names.option_count == 1, what="the filtered list")
        await until(pilot, lambda: SHOWN_NAME in region_text(app, names), what="the name listed")
        await pilot.press("enter")  # the name box takes the highlighted task's name
        await until(
            pilot,
            lambda: screen.query_one("#name", Input).value == SHOWN_NAME,
            what="the name box shows the name spelled out",
        )
        await still_inert(pilot)


async def test_palette_entries_and_the_dialog_they_open_stay_literal():
    app = hostile_app()
    async with app.run_test(size=(120, 36), headless=False) as pilot:
        await open_mode(pilot, "2", "TaskTable")
        await pilot.press("ctrl+p")
        palette = await mounted_screen(pilot, app, CommandPalette, "the command palette")
        await pilot.press(*"Rate limit")
        await until(
            pilot,
            lambda: "Rate limit (L)" in region_text(app, palette),
            what="the rate-limit entry",
        )
        await still_inert(pilot)
        await pilot.press("enter")
        screen = await mounted_screen(pilot, app, PromptDialog, "the rate-limit prompt")
        await until(
            pilot,
            lambda: SHOWN_NAME in region_text(app, screen.query_one(".dialog-box")),
            what="the hostile name spelled out",
        )
        await still_inert(pilot)


def test_a_workers_stats_naming_a_hostile_task_spell_its_label_out():
    """inspect stats counts tasks by name: the name becomes a label of Worker detail."""
    shown = inspect_text("stats", {"pid": 7, "total": {NAME: 5}}).plain
    assert "done quit]" + hostile.SHOWN_TAIL + "  5" in shown
    assert not any(ch in shown for ch in _RAW)
