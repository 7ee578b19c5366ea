"""Running `celerytui <command>` as a user would: a subprocess, its exit code and output."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CELERYTUI = [str(Path(sys.executable).parent / "celerytui")]  # the venv's entry point


def command_env(**extra: str) -> dict[str, str]:
    """The environment for a celerytui subprocess: no user config file, fast seed tasks."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CELERYTUI_", "CELERY_"))}
    env.update({"PYTHONPATH": str(ROOT),
                "XDG_CONFIG_HOME": "/nonexistent-celerytui-test", **extra})
    return env


def celerytui(*args: str, timeout: float = 30.0, env: dict | None = None,
              **kwargs) -> subprocess.CompletedProcess:
    """Run `celerytui ARGS...` to completion; text stdout/stderr."""
    return subprocess.run([*CELERYTUI, *args], capture_output=True, text=True, timeout=timeout,
                          env=env or command_env(), cwd=ROOT, **kwargs)


def start_celerytui(*args: str, env: dict | None = None, **kwargs) -> subprocess.Popen:
    """Start `celerytui ARGS...` in the background (its own process group), text pipes."""
    return subprocess.Popen([*CELERYTUI, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env or command_env(),
                            cwd=ROOT, start_new_session=True, **kwargs)
