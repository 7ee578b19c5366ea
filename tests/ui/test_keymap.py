"""`[keymap]` from a real config file: the new keys act, the old ones no longer do, `?` and the
palette name the new keys, the read-only guard follows them; a bad keymap is one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from celerytui.app import make_app
from celerytui.config import load_settings
from celerytui.keymaps import binding_scopes
from celerytui.screens.dialogs import HelpScreen
from celerytui.screens.palette import action_commands
from celerytui.screens.tasks import TasksScreen
from tests.support.commands import celerytui, command_env
from tests.support.screens_ui import notices, until
from tests.ui import snapshot_app
from tests.ui.screen_text import screen_text
from tests.ui.synthetic_cluster import build_monitor, fixed_clock

KEYMAP = """
[keymap]
mode-tasks = "w"          # was 2
tasks-filter = "F"        # was / (a screen's key)
task-revoke = "v"         # was x (a key read-only refuses)
help = "f1,?"             # two keys
"""


def _app(tmp_path: Path, text: str, **flags):
    config = tmp_path / "config.toml"
    config.write_text('broker_url = "redis://broker.example:6379/0"\n' + text)
    settings = load_settings(config_path=str(config), env={}, **flags)
    return make_app(settings, build_monitor(3, 40), clock=fixed_clock, start_monitor=False)


def _focused(app) -> str | None:
    return app.focused.id if app.focused is not None else None


async def test_the_keymap_moves_keys_and_help_and_palette_show_the_new_ones(tmp_path):
    app = _app(tmp_path, KEYMAP)
    async with app.run_test(size=(100, 40)) as pilot:
        await snapshot_app.until_drawn(pilot)
        await pilot.press("2")  # the old key: nothing
        await pilot.pause(0.2)
        assert "Dashboard" in screen_text(app).splitlines()[0]
        await pilot.press("w")
        await until(pilot, lambda: isinstance(app.screen, TasksScreen), what="w opens Tasks")
        assert "Tasks" in screen_text(app).splitlines()[0]

        await pilot.press("slash")  # the old filter key: no filter input
        await pilot.pause(0.2)
        assert _focused(app) != "tasks-filter-input"
        await pilot.press("F")
        await until(pilot, lambda: _focused(app) == "tasks-filter-input", what="F: the filter")
        await pilot.press("escape")
        await pilot.pause(0.2)

        palette = {c.title for c in action_commands(app, app.screen)}
        assert "Filter (F)" in palette and "Revoke (v)" in palette and "Tasks (w)" in palette

        await pilot.press("f1")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), what="f1 opens the help")
        help_text = screen_text(app)
        for line in ("w  Tasks", "F  Filter", "v  Revoke", "1  Dashboard"):
            assert line in help_text, line
        for old in ("2  Tasks", "/  Filter", "x  Revoke"):
            assert old not in help_text, old
        await pilot.press("escape")
        await pilot.pause(0.2)
        await pilot.press("question_mark")  # the keymap's second key for help
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), what="? opens the help")


async def test_read_only_refuses_the_moved_key_and_ignores_the_old_one(tmp_path):
    app = _app(tmp_path, KEYMAP, read_only=True)
    async with app.run_test(size=(100, 40), notifications=True) as pilot:
        await snapshot_app.until_drawn(pilot)
        await pilot.press("w")
        await until(pilot, lambda: isinstance(app.screen, TasksScreen), what="Tasks")
        await pilot.press("x")
        await pilot.pause(0.3)
        assert not [n for n in notices(app) if "refused" in n]
        await pilot.press("v")
        await until(pilot, lambda: "read-only: revoke refused" in notices(app),
                    what="the refusal on the new key")  # fmt: skip


def test_every_binding_of_celerytui_has_an_id_to_remap_it_by():
    missing = [
        f"{scope.__name__}: {binding.key} -> {binding.action}"
        for scope in binding_scopes()
        for binding in scope.__dict__.get("BINDINGS", ())
        if not binding.id
    ]
    assert not missing


@pytest.mark.parametrize(
    ("keymap", "line"),
    [
        (
            'fire-htp = "ctrl+h"',
            "keymap.fire-htp: no binding has this id, did you mean 'fire-http'?",
        ),
        (
            'tasks-sort = "r"',
            "keymap.tasks-sort: 'r' is already 'tasks-reverse' in TasksScreen; move that one "
            "too or pick another key",
        ),
        ('pause = "ctlr+p"', "keymap.pause: 'ctlr+p' is not a key"),
        ('fire-http = "p"', "keymap.fire-http: 'p' is already 'pause' in CeleryTUI"),
    ],
)
def test_a_bad_keymap_stops_the_dashboard_with_one_line(tmp_path, keymap, line):
    config = tmp_path / "config.toml"
    config.write_text(f'broker_url = "redis://127.0.0.1:1/0"\n[keymap]\n{keymap}\n')
    done = celerytui("--config", str(config), env=command_env())
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: {line}"), lines
    assert lines[0].endswith(f"(from {config})")


def test_a_swap_is_no_clash(tmp_path):
    app = _app(tmp_path, '[keymap]\ntasks-sort = "r"\ntasks-reverse = "s"\n')
    assert app.keymap == {"tasks-sort": "r", "tasks-reverse": "s"}
