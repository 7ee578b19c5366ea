"""`celerytui tail`: task events as they happen, one line each (or NDJSON with --json).

Made for terminals and pipes: `celerytui tail --failures | tee failures.log`,
`celerytui tail --json | jq`. Task text is printed literally with control characters spelled
out, so a task's args cannot drive the terminal. Ctrl+C, SIGTERM or a closed pipe end it
quietly. A malformed event never ends it: it is skipped and counted in a note on stderr.
"""

from __future__ import annotations

import dataclasses
import json
import signal
import sys
import time
from datetime import datetime
from typing import Any

import click

from celerytui.cli_options import cluster_options, settings_from
from celerytui.commands.errors import (
    EXIT_OK,
    check_broker,
    handle_errors,
    quiet_stdout,
    wait_connected,
)
from celerytui.commands.plain_text import printable
from celerytui.redaction import redact

# event type -> the state shown on its line
EVENT_STATES = {
    "task-sent": "SENT",
    "task-received": "RECEIVED",
    "task-started": "STARTED",
    "task-succeeded": "SUCCESS",
    "task-failed": "FAILURE",
    "task-retried": "RETRY",
    "task-revoked": "REVOKED",
    "task-rejected": "REJECTED",
}
# task-rejected: a message a worker refused (celerytui's workers say why, e.g. its signature)
FAILURE_EVENTS = frozenset({"task-failed", "task-retried", "task-rejected"})
ARGS_SHOWN = 120  # characters of args/kwargs on a line (JSON output carries them whole)
MALFORMED_NOTE_EVERY = 5.0  # seconds between two "malformed events skipped" notes
FINAL_EVENTS = frozenset({"task-succeeded", "task-failed", "task-revoked", "task-rejected"})
RESULTS_WAIT = 2.0  # seconds "following" waits for the result watcher to subscribe too
NAME_WAIT = 1.0  # seconds a batch waits for the stored result of a finished, unnamed task
TICK_EVERY = 1.0  # seconds between two liveness ticks (a silent worker's tasks become LOST)
LOST = "LOST"  # core.model.LOST: the line of a task lost with its worker ("task-lost" in JSON)


class _Stop(Exception):
    """SIGTERM: leave the loop the way Ctrl+C does."""


@click.command()
@cluster_options
@click.option("--failures", is_flag=True, help="Only failures and retries, with the error.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object a line (NDJSON).")
@click.option(
    "--filter",
    "filter_expr",
    metavar="EXPR",
    help="Regex, or name: state: worker: args: queue: terms; ! negates.",
)
@click.pass_context
@handle_errors
def tail(
    ctx: click.Context, failures: bool, as_json: bool, filter_expr: str | None, **options: Any
) -> None:
    """Stream task events, one line each: time, state, name, id, worker, runtime or error."""
    from celerytui.commands.app_loader import load_app
    from celerytui.core.filters import compile_filter

    matches = compile_filter(filter_expr) if filter_expr else None
    settings = settings_from(ctx, **options)
    app = load_app(settings)
    check_broker(app)
    previous = signal.signal(signal.SIGTERM, _raise_stop)
    try:
        _follow(app, settings, matches, failures, as_json)
    except (KeyboardInterrupt, _Stop):
        pass
    except BrokenPipeError:
        quiet_stdout()
    finally:
        signal.signal(signal.SIGTERM, previous)
    ctx.exit(EXIT_OK)


def _raise_stop(signum: int, frame: Any) -> None:
    raise _Stop()


def _follow(app: Any, settings: Any, matches: Any, failures: bool, as_json: bool) -> None:
    from celerytui.core.events import EventStream
    from celerytui.core.results import ResultWatcher
    from celerytui.core.state import ClusterState

    state = ClusterState(max_tasks=min(settings.max_tasks, 20_000))
    stream = EventStream(app, read_only=settings.read_only)
    # a task that started before tail did is known by name only from its stored result
    # (result_extended), which the backend publishes before the worker sends task-succeeded
    results = ResultWatcher(app) if ResultWatcher.supports(app) else None
    stream.start()
    if results is not None:
        results.start()
    connected, ever_connected = False, False
    reported: str | None = None
    malformed = MalformedNotes()
    ticked = 0.0
    try:
        while True:
            stream.wait(0.5)
            events = stream.drain(10_000)
            status = stream.status
            if status.connected != connected:
                connected = status.connected
                if connected:
                    if results is not None:  # then a task finishing now is named
                        wait_connected(results, RESULTS_WAIT)
                    _note(
                        f"{'reconnected to' if ever_connected else 'following'} "
                        f"{status.broker or redact(app.conf.broker_url)}"
                    )
                    ever_connected = True
                else:
                    _note(f"reconnecting: {status.last_error or 'broker connection lost'}")
                    reported = status.last_error
            elif not connected and status.last_error and status.last_error != reported:
                _note(f"waiting for the broker: {status.last_error}")
                reported = status.last_error
            lines = []
            if events:
                lines = _lines(state, results, events, matches, failures, as_json, malformed)
            now = time.time()
            if now - ticked >= TICK_EVERY:  # heartbeats stopped: the tasks held are LOST
                ticked = now
                lines += lost_lines(state, state.tick(now).new_lost, matches, as_json)
            if lines:
                sys.stdout.write("\n".join(lines) + "\n")
                sys.stdout.flush()
            malformed.maybe_note(status.malformed + state.malformed)
    finally:
        stream.stop()
        if results is not None:
            results.stop()


def _lines(
    state: Any,
    results: Any,
    events: list[dict],
    matches: Any,
    failures: bool,
    as_json: bool,
    malformed: MalformedNotes,
) -> list[str]:
    """The lines for one batch; an event that cannot be shown is counted, never raised."""
    try:
        if results is not None:
            state.apply_results(results.drain())
        lost = state.apply(events).new_lost  # worker-offline with tasks held
        if results is not None:
            _name_finished(state, results, events)
    except Exception:  # ClusterState counts its own; this is for a bug there
        malformed.skipped += len(events)
        return []
    lines = []
    # one batch spans a fraction of a second: show it in the order things happened
    for event in sorted((e for e in events if e.__class__ is dict), key=_event_time):
        kind = event.get("type")
        if (
            kind.__class__ is not str
            or kind not in EVENT_STATES
            or (failures and kind not in FAILURE_EVENTS)
        ):
            continue
        uuid = event.get("uuid")
        task = state.tasks.get(uuid) if uuid.__class__ is str else None
        if task is None:
            continue
        try:
            shown = dataclasses.replace(task, state=EVENT_STATES[kind])
            if matches is not None and not matches(shown):
                continue
            lines.append(json_line(event, shown) if as_json else text_line(event, shown, failures))
        except Exception:
            malformed.skipped += 1
    return lines + lost_lines(state, lost, matches, as_json)


def lost_lines(state: Any, uuids: list[str], matches: Any, as_json: bool) -> list[str]:
    """A LOST line for each task just declared lost with its worker (state_lost.py); shown
    with --failures too: a lost task is one that did not finish."""
    lines = []
    for uuid in uuids:
        task, entry = state.tasks.get(uuid), state.lost.entry(uuid)
        if task is None or entry is None or (matches is not None and not matches(task)):
            continue
        event = {"type": "task-lost", "timestamp": entry.lost_at, "hostname": entry.hostname}
        if as_json:
            lines.append(json_line(event, task))
            continue
        when = datetime.fromtimestamp(entry.lost_at).strftime("%H:%M:%S.%f")[:-3]
        parts = [when, f"{LOST:<8}", printable(task.name or "?"), task.uuid]
        parts += [printable(entry.hostname), f"{entry.why}, was {entry.was}"]
        lines.append("  ".join(parts))
    return lines


def _name_finished(state: Any, results: Any, events: list[dict]) -> None:
    """A task that finished with no name known (its task-received came before tail, or its
    result's publish is still on the way) gets one from its stored result: asked for with
    one MGET, waited for at most NAME_WAIT. A line never waits longer than that."""
    unnamed = []
    for event in events:
        if event.__class__ is not dict or event.get("type") not in FINAL_EVENTS:
            continue
        uuid = event.get("uuid")
        task = state.tasks.get(uuid) if uuid.__class__ is str else None
        if task is not None and not task.name:
            unnamed.append(uuid)
    if not unnamed:
        return
    results.request_resync(unnamed)
    deadline = time.monotonic() + NAME_WAIT
    while True:
        state.apply_results(results.drain())
        if all(state.tasks.get(u) is None or state.tasks[u].name for u in unnamed):
            return
        left = deadline - time.monotonic()
        if left <= 0:
            return
        results.wait(min(left, 0.1))


class MalformedNotes:
    """Counts what tail skipped itself, and says how many were skipped in all, now and then."""

    def __init__(self) -> None:
        self.skipped = 0  # events tail could not show (the lanes and the state count theirs)
        self.reported = 0
        self._noted_at = 0.0

    def maybe_note(self, counted_elsewhere: int) -> None:
        total = counted_elsewhere + self.skipped
        now = time.monotonic()
        if total > self.reported and now - self._noted_at >= MALFORMED_NOTE_EVERY:
            _note(
                f"skipped {total - self.reported} malformed "
                f"event{'s' if total - self.reported != 1 else ''} ({total} in all)"
            )
            self.reported, self._noted_at = total, now


def _note(message: str) -> None:
    click.echo(f"celerytui tail: {message}", err=True)


def _event_time(event: dict) -> float:
    value = event.get("timestamp")
    return value if value.__class__ in (int, float) and value == value else 0.0


def _when(event: dict, task: Any) -> float | None:
    """The event's time, else the task's: a number a datetime can hold, else None."""
    for value in (event.get("timestamp"), task.timestamp):
        if value.__class__ in (int, float) and value:
            try:
                datetime.fromtimestamp(value)
            except (ValueError, OverflowError, OSError):
                continue
            return value
    return None


def _error(task: Any) -> str | None:
    """The traceback's last line ("ValueError: bad input"), else the exception repr."""
    if task.traceback:
        lines = [line for line in str(task.traceback).strip().splitlines() if line.strip()]
        if lines:
            return lines[-1].strip()
    return task.exception


def text_line(event: dict, task: Any, failures: bool = False) -> str:
    """One aligned human line for one task event."""
    when = _when(event, task)
    stamp = datetime.fromtimestamp(when).strftime("%H:%M:%S.%f")[:-3] if when else "--:--:--.---"
    kind = event.get("type")
    worker = "-" if kind == "task-sent" else task.worker or event.get("hostname") or "-"
    parts = [stamp, f"{task.state:<8}", printable(task.name or "?"), task.uuid, printable(worker)]
    if kind == "task-succeeded" and task.runtime is not None:
        parts.append(f"{task.runtime:.3f}s")
    elif kind in FAILURE_EVENTS:
        parts.append(printable(_error(task) if failures else task.exception or _error(task)))
    elif kind in ("task-sent", "task-received"):
        args = printable(f"{task.args or '()'} {task.kwargs or '{}'}")
        parts.append(args if len(args) <= ARGS_SHOWN else args[: ARGS_SHOWN - 1] + "…")
    elif kind == "task-revoked" and event.get("terminated"):
        parts.append(f"terminated ({printable(event.get('signum'))})")
    return "  ".join(str(p) for p in parts if p is not None)


def json_line(event: dict, task: Any) -> str:
    """One NDJSON object for one task event (json escapes every control character)."""
    when = _when(event, task)
    record = {
        "time": datetime.fromtimestamp(when).astimezone().isoformat() if when else None,
        "timestamp": when,
        "event": event.get("type"),
        "state": task.state,
        "name": task.name,
        "uuid": task.uuid,
        "worker": None
        if event.get("type") == "task-sent"
        else (task.worker or event.get("hostname")),
        "queue": task.queue or task.routing_key,
        "args": task.args,
        "kwargs": task.kwargs,
        "runtime": task.runtime if event.get("type") == "task-succeeded" else None,
        "retries": task.retries,
        "exception": task.exception if event.get("type") in FAILURE_EVENTS else None,
        "error": _error(task) if event.get("type") in FAILURE_EVENTS else None,
        "traceback": task.traceback if event.get("type") in FAILURE_EVENTS else None,
    }
    return json.dumps(record, default=str)
