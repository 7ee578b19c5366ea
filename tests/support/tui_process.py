"""The dashboard as a user runs it: `celerytui ...` in a pseudo-terminal, its screen drained,
and the processes it started (found in /proc)."""

from __future__ import annotations

import os
import pty
import subprocess
import threading
from pathlib import Path

from tests.support.commands import CELERYTUI, ROOT, command_env


class TuiProcess:
    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.args = args
        self.env = {**(env or command_env()), "TERM": "xterm-256color", "COLUMNS": "120"}
        self.proc: subprocess.Popen[bytes] | None = None
        self._master = -1
        self.output = bytearray()  # what it drew (escape sequences and all)

    def start(self) -> TuiProcess:
        master, slave = pty.openpty()
        os.set_inheritable(slave, False)
        self.proc = subprocess.Popen(
            [*CELERYTUI, *self.args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=self.env,
            cwd=ROOT,
            start_new_session=True,
        )
        os.close(slave)
        self._master = master
        threading.Thread(target=self._drain, daemon=True).start()  # a full pty blocks it
        return self

    def _drain(self) -> None:
        while True:
            try:
                data = os.read(self._master, 65536)
            except OSError:
                return
            if not data:
                return
            self.output += data

    def press(self, keys: str) -> None:
        os.write(self._master, keys.encode())

    def children(self) -> list[int]:
        """The pids whose parent is the dashboard."""
        assert self.proc is not None
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == self.proc.pid:
                    found.append(int(entry.name))
        return found

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        if self._master >= 0:
            os.close(self._master)
            self._master = -1


def cmdline(pid: int) -> list[str]:
    """A process's argv as `ps` shows it ([] once it is gone)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")[:-1]
    except OSError:
        return []


def alive(pid: int) -> bool:
    """Running (not gone, not a zombie)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"
