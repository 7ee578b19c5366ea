"""Running `celerytui <command>` as a user would: a subprocess, its exit code and output."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CELERYTUI = [str(Path(sys.executable).parent / "celerytui")]  # the venv's entry point


def command_env(**extra: str) -> dict[str, str]:
    """The environment for a celerytui subprocess: no user config file, fast seed tasks."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CELERYTUI_", "CELERY_"))}
    pythonpath = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    env.update(
        {"PYTHONPATH": pythonpath, "XDG_CONFIG_HOME": "/nonexistent-celerytui-test", **extra}
    )
    return env


def celerytui(
    *args: str, timeout: float = 30.0, env: dict | None = None, cwd=ROOT, **kwargs
) -> subprocess.CompletedProcess:
    """Run `celerytui ARGS...` to completion (in ``cwd``); text stdout/stderr."""
    return subprocess.run(
        [*CELERYTUI, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env or command_env(),
        cwd=cwd,
        **kwargs,
    )


def start_celerytui(*args: str, env: dict | None = None, **kwargs) -> subprocess.Popen:
    """Start `celerytui ARGS...` in the background (its own process group), text pipes."""
    return subprocess.Popen(
        [*CELERYTUI, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env or command_env(),
        cwd=ROOT,
        start_new_session=True,
        **kwargs,
    )


class LineReader:
    """Collects a pipe's lines in a thread, so a test can wait for a line with a deadline."""

    def __init__(self, stream) -> None:
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream) -> None:
        for line in stream:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def _pull(self, timeout: float) -> bool:
        try:
            line = self._queue.get(timeout=timeout)
        except queue.Empty:
            return True
        if line is None:
            return False
        self.lines.append(line)
        return True

    def wait_for(self, predicate, timeout: float = 15.0, what: str = "a line") -> str:
        """The first line (already read or coming) for which predicate(line) is true."""
        deadline = time.monotonic() + timeout
        seen = 0
        while True:
            for line in self.lines[seen:]:
                if predicate(line):
                    return line
            seen = len(self.lines)
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(
                    f"timed out after {timeout}s waiting for {what}; got:\n"
                    + "\n".join(self.lines[-20:])
                )
            if not self._pull(min(left, 0.2)) and self._queue.empty():
                for line in self.lines[seen:]:
                    if predicate(line):
                        return line
                raise AssertionError(
                    f"stream closed before {what}; got:\n" + "\n".join(self.lines[-20:])
                )
