"""The TUI's journal recorder, in a process of its own: `python -m celerytui.journal_child`.

The TUI (celerytui/journal_process.py) starts it so that no journal encoding or writing runs
under the TUI's GIL. It is `celerytui record`'s core — its own Monitor on the same cluster, a
Recorder, the store's lease — and talks over its standard streams only:

- stdin: one line of JSON, ``{"settings": {...}, "sys_path": [...], "holder": "...",
  "beat_schedule": B64}`` (the settings carry passwords: a pipe, never argv or the
  environment; ``beat_schedule``, optional, is the TUI app's schedule pickled, for an app the
  child cannot load by name — the demo's: its missed-beat alerts are journaled too); then
  nothing. EOF on
  stdin (the TUI quit, switched cluster or was SIGKILLed) stops it: what is buffered is
  written and the lease given back.
- stdout: one line of JSON per message: ``{"lease": HOLDER}`` (another writer holds the store:
  nothing recorded), ``{"failed": LINE}`` (the store or the app cannot be opened), then
  ``{"status": {...}}`` (RecorderStatus's fields) once a second, and once more at the end.
"""

from __future__ import annotations

import base64
import functools
import json
import pickle
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import asdict, fields
from typing import IO, Any

from celerytui.commands.record_loop import STATUS_EVERY
from celerytui.config import Settings, Thresholds
from celerytui.redaction import one_line
from celerytui.settings_model import DiskHost


def settings_json(settings: Settings) -> dict[str, Any]:
    """The settings as JSON-ready data (every field: the child records exactly this cluster)."""
    return asdict(settings)


def settings_from_json(data: dict[str, Any]) -> Settings:
    names = {f.name for f in fields(Settings)}
    plain = {k: v for k, v in data.items() if k in names and k not in ("thresholds", "disk_hosts")}
    return Settings(
        **plain,
        thresholds=Thresholds(**data.get("thresholds", {})),
        disk_hosts=[DiskHost(**host) for host in data.get("disk_hosts", [])],
    )


def say(out: IO[str], **message: Any) -> None:
    try:
        out.write(json.dumps(message) + "\n")
        out.flush()
    except (OSError, ValueError):  # the TUI is gone: EOF on stdin stops us next
        pass


def schedule_blob(schedule: Any) -> str | None:
    """The TUI app's beat_schedule for the child, or None (none, or not picklable)."""
    if not schedule:
        return None
    try:
        return base64.b64encode(pickle.dumps(dict(schedule))).decode()
    except Exception:  # a lambda in an entry...: the child records without the beat rule
        return None


def _schedule_from(blob: Any) -> dict[str, Any] | None:
    """The schedule the TUI sent (its own pipe: trusted as the TUI is), or None."""
    if not isinstance(blob, str):
        return None
    try:
        schedule = pickle.loads(base64.b64decode(blob))  # our parent wrote it
    except Exception:
        return None
    return schedule if isinstance(schedule, dict) else None


def cluster_monitor(settings: Settings, beat_schedule: dict[str, Any] | None = None) -> Any:
    """The child's Monitor: the app the settings name; an app with no schedule of its own
    takes the one the TUI's app carries (the demo's), so the beat rule judges the same."""
    from celerytui.commands.app_loader import load_app
    from celerytui.core.monitor import Monitor

    app = load_app(settings)
    if beat_schedule and not app.conf.beat_schedule:
        app.conf.beat_schedule = beat_schedule
    return Monitor(settings, app=app)


def record(
    settings: Settings,
    out: IO[str],
    stop: threading.Event,
    *,
    holder: str = "celerytui TUI",
    make_monitor: Callable[[Settings], Any] = cluster_monitor,
    every: float = STATUS_EVERY,
    **recorder_options: Any,
) -> int:
    """Record until `stop` is set (or the lease is lost); the messages go to `out`."""
    from celerytui.commands.record_loop import record_until
    from celerytui.core.journal import JournalError, JournalLeaseError
    from celerytui.core.journal.recorder import attach

    try:
        monitor = make_monitor(settings)
    except Exception as exc:  # a bad -A, a broker URL kombu rejects: one line
        say(out, failed=one_line(exc))
        return 1
    if stop.is_set():  # the TUI quit while we started: nothing to record, no lease to take
        return 0
    try:
        recorder = attach(monitor, settings, holder=holder, **recorder_options)
    except JournalLeaseError as exc:
        say(out, lease=exc.holder)
        return 0
    except JournalError as exc:
        say(out, failed=one_line(exc))
        return 1
    final = record_until(
        monitor, recorder, stop, lambda status: say(out, status=asdict(status)), every=every
    )
    say(out, status=asdict(final))
    return 0


def _watch_parent(stdin: IO[bytes], stop: threading.Event) -> None:
    """EOF on stdin: the TUI closed it, or died (the kernel closes a killed process's pipes)."""
    try:
        while stdin.read(4096):
            pass
    except OSError:
        pass
    stop.set()


def main() -> int:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the TUI's terminal is not ours
    line = sys.stdin.buffer.readline()
    try:
        request = json.loads(line)
        settings = settings_from_json(request["settings"])
    except (ValueError, KeyError, TypeError) as exc:
        say(sys.stdout, failed=f"journal recorder: bad start request ({one_line(exc)})")
        return 2
    for entry in reversed(request.get("sys_path", [])):  # the TUI's -A app resolves here too
        if entry not in sys.path:
            sys.path.insert(0, entry)
    threading.Thread(
        target=_watch_parent, args=(sys.stdin.buffer, stop), name="parent-watch", daemon=True
    ).start()
    make_monitor = functools.partial(
        cluster_monitor, beat_schedule=_schedule_from(request.get("beat_schedule"))
    )
    holder = request.get("holder", "celerytui TUI")
    return record(settings, sys.stdout, stop, holder=holder, make_monitor=make_monitor)


if __name__ == "__main__":
    sys.exit(main())
