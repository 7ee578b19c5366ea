"""The ':' command line at 80x24, over the fixed synthetic cluster: the words it offers on an
empty line, and the contexts it completes with (the header names the context in effect)."""

from __future__ import annotations

import pytest
from textual.widgets import Input

from celerytui.app import make_app
from celerytui.cli_options import ContextLoader
from celerytui.screens.command_line import CommandLineScreen
from tests.ui.synthetic_cluster import build_monitor, fixed_clock, snapshot_settings

CONFIG = """\
[contexts.staging]
broker_url = "redis://staging.example:6379/0"
[contexts.prod-eu]
broker_url = "redis://prod-eu.example:6379/0"
read_only = true
[contexts.prod-us]
broker_url = "redis://prod-us.example:6379/0"
read_only = true
"""


def _app(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(CONFIG)
    return make_app(
        snapshot_settings(context="staging"),
        build_monitor(),
        start_monitor=False,
        clock=fixed_clock,
        contexts=ContextLoader(str(config)),
    )


def _typed(text: str):
    async def run_before(pilot) -> None:
        app = pilot.app
        for _ in range(300):  # the first full draw
            if app._drawn_screen is not None and app.ticks >= 4:
                break
            await pilot.pause(0.02)
        await pilot.press("colon", *text)
        for _ in range(300):
            if isinstance(app.screen, CommandLineScreen) and app.screen.is_mounted:
                break
            await pilot.pause(0.02)
        app.screen.query_one(Input).cursor_blink = False
        await pilot.pause(0.3)  # the suggestion is computed in a worker

    return run_before


@pytest.mark.parametrize("typed", ["", "ctx pr"], ids=["empty", "ctx-prefix"])
def test_command_line_snapshot_80x24(snap_compare, tmp_path, typed):
    assert snap_compare(_app(tmp_path), terminal_size=(80, 24), run_before=_typed(typed))
