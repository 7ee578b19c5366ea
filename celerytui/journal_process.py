"""The TUI's side of its journal recorder, which runs in a child process
(celerytui/journal_child.py), so the TUI itself encodes and writes nothing.

`JournalProcess(settings).start()` launches the child with the settings on its stdin (a pipe:
no password on argv or in the environment, so `ps` shows none); the child dies with the TUI
(EOF on that pipe, also after a SIGKILL). A reader thread turns the child's status lines into
`status` (a RecorderStatus) and into the notices the TUI shows once each (`take_notices`):
another writer holds the store, the store cannot be opened, a write fails (disk full...),
writing again, the recorder ended on its own.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
from dataclasses import fields, replace
from pathlib import Path
from typing import Any, Literal

from celerytui.config import Settings
from celerytui.core.journal.recorder import RecorderStatus
from celerytui.redaction import one_line

Severity = Literal["information", "warning", "error"]
Notice = tuple[str, Severity]
STOP_WAIT = 6.0  # seconds a stop waits for the child to write what it holds (Recorder: 5 s)
_STATUS_FIELDS = {f.name for f in fields(RecorderStatus)}


class JournalProcess:
    def __init__(
        self,
        settings: Settings,
        holder: str = "celerytui TUI",
        command: list[str] | None = None,  # benchmarks/ui_lag.py: a child fed synthetic events
        beat_schedule: Any = None,  # the TUI app's, for an app the child cannot load by name
    ) -> None:
        self.settings = settings
        self.beat_schedule = beat_schedule
        self.holder = holder
        self.command = command or [sys.executable, "-m", "celerytui.journal_child"]
        self._lock = threading.Lock()
        self._status = RecorderStatus()
        self._notices: list[Notice] = []
        self._shown_error: str | None = None
        self._stopping = False
        self._said_why = False  # a lease or failed line came: the exit needs no notice
        self._proc: subprocess.Popen[bytes] | None = None
        self._reader: threading.Thread | None = None
        self.lease_holder: str | None = None  # another writer holds the store
        self.ended = threading.Event()  # the child has exited and been reaped

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def start(self) -> JournalProcess:
        from celerytui.journal_child import schedule_blob, settings_json

        package_root = str(Path(__file__).resolve().parents[1])  # this celerytui, not another
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (package_root, env.get("PYTHONPATH", "")) if p
        )
        request = {
            "settings": settings_json(self.settings),
            "sys_path": [p for p in sys.path if p],
            "holder": self.holder,
        }
        if (blob := schedule_blob(self.beat_schedule)) is not None:
            request["beat_schedule"] = blob
        self._proc = subprocess.Popen(
            self.command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,  # the TUI owns the terminal; problems come as JSON
            env=env,
            start_new_session=True,  # the terminal's signals are the TUI's to handle
        )
        assert self._proc.stdin is not None
        try:
            self._proc.stdin.write(json.dumps(request).encode() + b"\n")
            self._proc.stdin.flush()
        except OSError:  # it died at once: the reader says so
            pass
        self._reader = threading.Thread(
            target=self._read, name="celerytui-journal-status", daemon=True
        )
        self._reader.start()
        return self

    # ---- what the TUI reads ------------------------------------------------------------

    @property
    def status(self) -> RecorderStatus:
        with self._lock:
            return replace(self._status)

    def take_notices(self) -> list[Notice]:
        with self._lock:
            notices, self._notices = self._notices, []
        return notices

    # ---- stopping ------------------------------------------------------------------------

    def stop(self) -> None:
        """Ask the child to stop (it writes what it holds, gives the lease back); no wait."""
        self._stopping = True
        proc = self._proc
        if proc is not None and proc.stdin is not None:
            with contextlib.suppress(OSError):
                proc.stdin.close()

    def wait(self, timeout: float = STOP_WAIT) -> bool:
        """Wait until the child has exited; past `timeout` it is killed. True if it ended."""
        if self._proc is None:
            return True
        if self.ended.wait(timeout):
            return True
        self._proc.kill()
        return self.ended.wait(1.0)

    # ---- the reader thread ---------------------------------------------------------------

    def _read(self) -> None:
        proc = self._proc
        assert proc is not None and proc.stdout is not None
        try:
            for raw in proc.stdout:
                try:
                    message = json.loads(raw)
                except ValueError:
                    continue  # not ours (a library printing): ignored
                if isinstance(message, dict):
                    self._take(message)
        except (OSError, ValueError):
            pass
        code = proc.wait()
        with self._lock:
            self._status.recording = False
            if code and not (self._stopping or self._said_why):
                line = f"not recording: the journal recorder exited (code {code})"
                self._notices.append((line, "warning"))
        self.ended.set()

    def _take(self, message: dict[str, Any]) -> None:
        with self._lock:
            if "lease" in message:
                self._said_why = True
                self.lease_holder = holder = str(message["lease"])
                line = f"journal: {holder} records this cluster; this TUI only reads it"
                self._notices.append((line, "information"))
            elif "failed" in message:
                self._said_why = True
                self._notices.append((f"not recording: {one_line(message['failed'])}", "warning"))
            elif isinstance(status := message.get("status"), dict):
                self._status = RecorderStatus(
                    **{k: v for k, v in status.items() if k in _STATUS_FIELDS}
                )
                error = self._status.last_error
                if error != self._shown_error:  # a problem once, and its end once
                    if error:
                        self._notices.append((error, "error"))
                    elif self._shown_error:
                        self._notices.append(("journal: writing again", "information"))
                    self._shown_error = error
