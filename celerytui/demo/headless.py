"""`celerytui demo --headless`: the demo without the TUI, for tests and pipes.

A Monitor watches the demo cluster exactly as the TUI would; after `duration` seconds (from
ready) everything stops and the summary of what the monitor saw is printed on stdout.
"""

from __future__ import annotations

import contextlib
import time

from celerytui import signing
from celerytui.demo.cluster import find_demo_processes
from celerytui.demo.session import (
    DemoInterrupted,
    DemoSession,
    raise_on_signals,
    restore_signals,
    say,
)
from celerytui.demo.summary import build_summary, format_summary, summary_json

SETTLE = 0.5  # seconds for the last results to reach the monitor before the summary


def run_headless(session: DemoSession, duration: float, as_json: bool = False) -> int:
    """Run for `duration` seconds, print the summary; the exit code (0, or 128+signal, or 1
    when a demo process died). Raises DemoStartError (after cleaning up) on a failed start."""
    previous = raise_on_signals()
    code = 0
    summary = None
    log_dir = str(session.log_dir)
    pids: dict[str, int] = {}
    try:
        try:
            session.start()
            monitor = session.monitor
            assert monitor is not None  # start() made it
            monitor.run_in_thread()
            pids = session.cluster.pids()
            say(session.ready_line())
            code = _wait(session, duration)
        except DemoInterrupted as stop:
            say(f"{stop} received, stopping")
            code = stop.exit_code
        if session.started_at is not None:
            monitor = session.monitor
            assert monitor is not None  # started_at is set after the monitor
            if code == 0:
                time.sleep(SETTLE)
            with monitor.lock:
                summary = build_summary(
                    monitor.state,
                    duration=time.monotonic() - session.started_at,
                    broker=session.cluster.broker_display,
                    log_dir=log_dir,
                    pids=pids,
                    sent=dict(session.workload.sent) if session.workload else {},
                    alerts_received=session.http.alerts_received(),
                    signing=signing.state_of(monitor.app).label,
                )
    finally:
        session.stop()
        restore_signals(previous)
    leftovers = find_demo_processes(log_dir)
    if leftovers:
        say(
            f"warning: {len(leftovers)} demo processes survived: "
            + ", ".join(str(p.pid) for p in leftovers)
        )
        code = code or 1
    if summary is not None:
        with contextlib.suppress(BrokenPipeError):  # `| head` is fine
            print(summary_json(summary) if as_json else format_summary(summary), flush=True)
    return code


def _wait(session: DemoSession, duration: float) -> int:
    """Sleep until the duration ends (a signal interrupts it); 1 if a demo process died."""
    deadline = time.monotonic() + duration
    while (left := deadline - time.monotonic()) > 0:
        time.sleep(min(0.5, left))
        died = session.cluster.check_alive()
        if died:
            say(f"error: {died}")
            return 1
    return 0
