"""An environment with no celerytui settings in it, so config tests see only what they set."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SETTINGS_VARS_PREFIXES = ("CELERYTUI_", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND")


def clean_environ(home: Path) -> dict[str, str]:
    """os.environ without celerytui/Celery settings, with HOME and XDG_CONFIG_HOME under home."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(SETTINGS_VARS_PREFIXES)}
    env["HOME"] = str(home)
    env["XDG_CONFIG_HOME"] = str(home / ".config")
    return env


@pytest.fixture
def clean_settings_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Strip settings from os.environ and point the per-user config dir into tmp_path/home."""
    home = tmp_path / "home"
    home.mkdir()
    for name in list(os.environ):
        if name.startswith(SETTINGS_VARS_PREFIXES):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    return home
