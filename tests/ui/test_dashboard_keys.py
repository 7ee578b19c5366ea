"""Keys and commands on a fixed synthetic cluster (no broker needed): alerts, help, palette,
time zone, and the errors a user can run into."""

from __future__ import annotations

import click
import pytest
from textual.command import CommandPalette

from celerytui.app import make_app
from celerytui.screens.bindings import each_binding
from celerytui.screens.dialogs import HelpScreen, PromptDialog
from celerytui.screens.palette import action_commands
from celerytui.screens.read_only import is_mutating
from tests.ui import snapshot_app
from tests.ui.screen_text import screen_text
from tests.ui.synthetic_cluster import T0, build_monitor, snapshot_settings


async def test_A_acknowledges_the_alert_banners():
    app = snapshot_app.build()
    async with app.run_test(size=(80, 24)) as pilot:
        await snapshot_app.until_drawn(pilot)
        assert "worker lost: w3@node3" in screen_text(app)
        await pilot.press("A")
        await pilot.pause(0.2)
        text = screen_text(app)
        assert "worker lost" not in text and "DOWN: https://down" not in text
        assert "─Workers" in screen_text(app).splitlines()[1]  # the banner took no room


async def test_question_mark_lists_every_app_binding():
    app = snapshot_app.build()
    async with app.run_test(size=(80, 40)) as pilot:
        await snapshot_app.until_drawn(pilot)
        await pilot.press("question_mark")
        await pilot.pause(0.2)
        assert isinstance(app.screen, HelpScreen)
        text = screen_text(app)
        for line in (
            "h  HTTP",
            "d  Disk",
            "o  Order",
            "e  Email",
            "t  Task",
            "R  Re-run",
            "A  Ack alerts",
            "p  Pause",
            "q  Quit",
            "1  Dashboard",
            "6  Schedule",
        ):
            assert line in text, line
        await pilot.press("escape")
        await pilot.pause(0.1)
        assert not isinstance(app.screen, HelpScreen)


async def test_command_palette_offers_every_app_action():
    app = snapshot_app.build()
    async with app.run_test(size=(80, 24)) as pilot:
        await snapshot_app.until_drawn(pilot)
        commands = {c.help.removeprefix("action: ") for c in action_commands(app, app.screen)}
        bound = {b.action for b in each_binding(app) if not app.replay_hides(b.action)}
        assert bound - {"quit", "command_palette"} <= commands  # quit: the built-in entry
        assert not any(c.startswith("replay_") for c in commands)  # `celerytui replay` only
        mutating = {action for action in bound if is_mutating(action)}
        assert len(mutating) == 6 and commands >= mutating  # h d o e t R
        await pilot.press("ctrl+p")
        await pilot.pause(0.2)
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"http check")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause(0.3)
        assert isinstance(app.screen, PromptDialog)  # the palette ran the h action
        assert "https://example.com/health" in screen_text(app)


async def test_p_marks_the_header_paused_and_resumes():
    app = snapshot_app.build()
    async with app.run_test(size=(80, 24)) as pilot:
        await snapshot_app.until_drawn(pilot)
        await pilot.press("p")
        await pilot.pause(0.1)
        assert "paused — 0 new" in screen_text(app).splitlines()[0]
        await pilot.press("p")
        await pilot.pause(0.1)
        assert "paused" not in screen_text(app).splitlines()[0]


def test_times_show_in_the_configured_time_zone():
    utc = make_app(snapshot_settings(timezone="UTC"), monitor=build_monitor(1, 1))
    shanghai = make_app(snapshot_settings(timezone="Asia/Shanghai"), monitor=build_monitor(1, 1))
    assert utc.format_time(T0) == "22:13:20"
    assert shanghai.format_time(T0) == "06:13:20"
    assert utc.format_time(None) == "--:--:--"


def test_a_bad_app_module_is_a_one_line_error():
    with pytest.raises(click.ClickException) as info:
        make_app(snapshot_settings(app="no_such_module_celerytui_test"))
    assert "\n" not in info.value.format_message()
    assert "no_such_module_celerytui_test" in info.value.format_message()


async def test_rerun_of_a_task_with_cut_args_says_why_and_sends_nothing():
    app = snapshot_app.build()
    app.monitor.state.apply(
        [
            {
                "type": "task-received",
                "uuid": "cut-0001",
                "name": "proj.tasks.big",
                "args": "('aaaa...",
                "kwargs": "{}",
                "hostname": "w1@node1",
                "timestamp": T0,
                "local_received": T0,
            }
        ]
    )
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await snapshot_app.until_drawn(pilot)
        app.rerun_task("cut-0001")
        await pilot.pause(0.2)
        assert "cannot re-run: arguments not" in screen_text(app)


def test_dash_A_app_is_the_one_the_monitor_watches():
    import celerytui.tasks

    app = make_app(snapshot_settings(app="celerytui.tasks:app"))
    assert app.monitor.app is celerytui.tasks.app
    assert "celerytui.tasks.send_email" in app._local_task_names()  # the t picker's names
