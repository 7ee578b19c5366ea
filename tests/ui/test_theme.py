"""`theme = "..."` from a real config file, the palette's theme picker, and the pick
remembered across a restart in the state file (never in the config file)."""

from __future__ import annotations

from pathlib import Path

from textual.command import CommandPalette

from celerytui.app import make_app
from celerytui.config import load_settings
from celerytui.theme_memory import ThemeMemory, default_state_path
from tests.support.commands import celerytui, command_env
from tests.support.screens_ui import until
from tests.ui import snapshot_app
from tests.ui.synthetic_cluster import build_monitor, fixed_clock


def _app(config: Path, memory: ThemeMemory):
    settings = load_settings(config_path=str(config), env={})
    return make_app(
        settings, build_monitor(2, 10), clock=fixed_clock, start_monitor=False, theme_memory=memory
    )


async def _pick_in_palette(pilot, theme: str) -> None:
    app = pilot.app
    await pilot.press("ctrl+p")
    await until(pilot, lambda: isinstance(app.screen, CommandPalette), what="the palette")
    await pilot.press(*"theme")
    await pilot.pause(0.4)
    await pilot.press("enter")  # Textual's "Theme" command: the theme picker
    await until(pilot, lambda: isinstance(app.screen, CommandPalette), what="the theme picker")
    await pilot.pause(0.3)
    await pilot.press(*theme)
    await pilot.pause(0.4)
    await pilot.press("enter")
    await until(pilot, lambda: not isinstance(app.screen, CommandPalette), what="picker closed")


async def test_the_config_theme_applies_and_a_palette_pick_survives_a_restart(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('theme = "nord"\n')
    memory = ThemeMemory(tmp_path / "state" / "theme.json")

    app = _app(config, memory)
    async with app.run_test(size=(100, 30)) as pilot:
        await snapshot_app.until_drawn(pilot)
        assert app.theme == "nord"
        await _pick_in_palette(pilot, "dracula")
        assert app.theme == "dracula"
    assert config.read_text() == 'theme = "nord"\n'  # the user's file is never written
    assert memory.path.is_file()

    app = _app(config, memory)  # a restart: the pick wins over the config's theme
    async with app.run_test(size=(100, 30)) as pilot:
        await snapshot_app.until_drawn(pilot)
        assert app.theme == "dracula"

    config.write_text('theme = "gruvbox"\n')  # the user edits the config: the file wins again
    app = _app(config, memory)
    async with app.run_test(size=(100, 30)) as pilot:
        await snapshot_app.until_drawn(pilot)
        assert app.theme == "gruvbox"


def test_an_unknown_theme_stops_with_one_line_naming_valid_ones(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('broker_url = "redis://127.0.0.1:1/0"\ntheme = "nrod"\n')
    done = celerytui("--config", str(config), env=command_env())
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("Error: theme: unknown theme 'nrod'; try nord")
    assert lines[0].endswith(f"(from {config})")


def test_the_state_file_lives_in_the_user_state_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert default_state_path() == tmp_path / "celerytui" / "theme.json"
