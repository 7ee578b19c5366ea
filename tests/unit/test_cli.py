"""The `celerytui` front door: help, version, settings errors and warnings as one line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from celerytui import __version__
from celerytui.cli import main
from tests.support.settings_env import clean_environ, clean_settings_env  # noqa: F401

pytestmark = pytest.mark.usefixtures("clean_settings_env")
CELERYTUI = Path(sys.executable).with_name("celerytui")


def run_cli(*args: str, home: Path, **env: str) -> subprocess.CompletedProcess:
    """The installed entry point, in a process of its own, with only the given settings."""
    return subprocess.run(
        [str(CELERYTUI), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**clean_environ(home), **env},
    )


def config_rows(output: str) -> dict[str, tuple[str, str]]:
    """`celerytui config` output as key -> (value, source)."""
    rows = {}
    for line in output.splitlines()[1:]:
        key, value, source = line.split(maxsplit=2)
        rows[key] = (value, source)
    return rows


def test_help_lists_options_and_commands():
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for text in (
        "--broker",
        "--result-backend",
        "--app",
        "--config",
        "--read-only",
        "--version",
        "demo",
        "exporter",
        "status",
        "tail",
        "fire",
        "config",
    ):
        assert text in result.output


def test_version():
    result = CliRunner().invoke(main, ["--version"])
    assert (result.exit_code, result.output) == (0, f"celerytui, version {__version__}\n")


def test_installed_entry_point_help_and_version(tmp_path):
    help_run = run_cli("--help", home=tmp_path)
    assert help_run.returncode == 0, help_run.stderr
    assert help_run.stdout.startswith("Usage: celerytui [OPTIONS] [COMMAND] [ARGS]...")
    assert "  config    Show the settings in effect and their sources." in help_run.stdout
    assert run_cli("--version", home=tmp_path).stdout == f"celerytui, version {__version__}\n"


def test_help_loads_no_heavy_module(tmp_path):
    """--help must stay instant: no Celery, kombu, redis or Textual import on that path."""
    probe = (
        "import sys\n"
        "from celerytui.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = {'celery', 'kombu', 'redis', 'textual', 'platformdirs', 'tomllib'}\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=60,
        env=clean_environ(tmp_path),
    ).stdout
    assert out.splitlines()[-1] == "[]"


def test_subcommand_flag_overrides_the_group_flag():
    result = CliRunner().invoke(
        main,
        [
            "-b",
            "redis://group:6379/0",
            "--result-backend",
            "rpc://",
            "config",
            "-b",
            "redis://sub:6379/0",
        ],
    )
    assert result.exit_code == 0, result.output
    rows = config_rows(result.stdout)
    assert rows["broker_url"] == ("redis://sub:6379/0", "flag --broker")
    assert rows["result_backend"] == ("rpc://", "flag --result-backend")


def test_config_shows_sources_and_hides_secrets(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('max_tasks = 500\nalert_webhook = "https://hooks.example/T0/B0/s3cret"\n')
    path.chmod(0o600)
    result = CliRunner().invoke(
        main,
        ["--config", str(path), "config", "--read-only"],
        env={"CELERY_BROKER_URL": "redis://:s3cret@redis.internal:6379/0"},
    )
    assert result.exit_code == 0, result.output
    assert "s3cret" not in result.output
    assert result.stdout.splitlines()[0] == f"config file: {path}"
    rows = config_rows(result.stdout)
    assert rows["broker_url"] == ("redis://:****@redis.internal:6379/0", "env CELERY_BROKER_URL")
    assert rows["max_tasks"] == ("500", str(path))
    assert rows["alert_webhook"] == ("https://hooks.example/****", str(path))
    assert rows["read_only"] == ("True", "flag --read-only")
    assert rows["cluster_name"] == ("celery", "default")


@pytest.mark.parametrize(
    ("args", "env", "error"),
    [
        (
            ["-b", "htp://:s3cret@localhost", "config"],
            {},
            "Error: broker_url: expected a broker URL like redis://host:6379/0, "
            "got 'htp://:****@localhost' (unknown scheme 'htp') (from flag --broker)",
        ),
        (
            ["config"],
            {"CELERYTUI_MAX_TASKS": "lots"},
            "Error: max_tasks: expected an integer, got 'lots' (from env CELERYTUI_MAX_TASKS)",
        ),
        (
            [],
            {"CELERYTUI_TIMEZONE": "Nowhere/Land"},  # the dashboard itself, before it starts
            "Error: timezone: expected an IANA timezone like 'UTC' or 'Europe/Berlin', "
            "got 'Nowhere/Land' (from env CELERYTUI_TIMEZONE)",
        ),
    ],
)
def test_bad_setting_is_one_error_line_and_exit_2(tmp_path, args, env, error):
    result = run_cli(*args, home=tmp_path, **env)
    assert (result.returncode, result.stderr, result.stdout) == (2, error + "\n", "")


def test_bad_config_file_is_one_error_line(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("[thresholds]\nqueue_backlog = 'many'\n")
    result = run_cli("--config", str(path), "config", home=tmp_path)
    assert result.returncode == 2
    assert result.stderr == (
        f"Error: thresholds.queue_backlog: expected an integer, got 'many' (from {path})\n"
    )


def test_exposed_password_file_warns_in_one_line_and_goes_on(tmp_path):
    path = tmp_path / ".config" / "celerytui" / "config.toml"  # the per-user default file
    path.parent.mkdir(parents=True)
    path.write_text('broker_url = "redis://:s3cret@redis.internal:6379/0"\n')
    path.chmod(0o644)
    result = run_cli("config", home=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == (
        f"Warning: {path} holds a password and other users can read it; run: chmod 600 {path}\n"
    )
    assert config_rows(result.stdout)["broker_url"] == (
        "redis://:****@redis.internal:6379/0",
        str(path),
    )
