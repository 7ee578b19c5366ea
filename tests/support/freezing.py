"""Freezing a process (SIGSTOP) as a hung server is frozen, and thawing it (SIGCONT).

``kill(pid, SIGSTOP)`` returns once the signal is queued, not once the process has stopped: one
thread must first take the signal and then stop the others, and on a loaded machine that can
take milliseconds, in which a multi-threaded server (RabbitMQ's VM above all) still answers a
request sent right after the kill. ``freeze`` returns only when every thread of the process is
stopped, so what a test sends next meets a server that cannot answer.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

STOPPED = frozenset("Tt")  # /proc state letters: stopped by a signal, stopped by a tracer


def thread_states(pid: int) -> list[str]:
    """The state letter of each thread of ``pid`` (empty once the process is gone)."""
    states = []
    for stat in Path(f"/proc/{pid}/task").glob("*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # the thread ended meanwhile
            continue
        states.append(text.rpartition(")")[2].split()[0])  # the field after "(comm)"
    return states


def freeze(pid: int, *, group: bool = False, timeout: float = 10.0) -> float:
    """SIGSTOP ``pid`` (its process group with ``group``); returns ``time.monotonic()`` once
    every thread of ``pid`` is stopped. AssertionError if that takes longer than ``timeout``."""
    from tests.support.services import wait_for  # (services uses this module: not at the top)

    if group:
        os.killpg(pid, signal.SIGSTOP)
    else:
        os.kill(pid, signal.SIGSTOP)
    wait_for(
        lambda: (states := thread_states(pid)) and all(state in STOPPED for state in states),
        timeout,
        interval=0.001,
        what=f"every thread of pid {pid} to stop",
    )
    return time.monotonic()


def thaw(pid: int, *, group: bool = False) -> float:
    """SIGCONT ``pid`` (its process group with ``group``); returns ``time.monotonic()``."""
    if group:
        os.killpg(pid, signal.SIGCONT)
    else:
        os.kill(pid, signal.SIGCONT)
    return time.monotonic()
