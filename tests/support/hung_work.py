"""A pytest plugin that names the test that left short-lived broker work hung.

``core.short_lived`` marks the monitor's brief broker connections; a thread stuck inside one
(a read with no deadline on a frozen broker, a connection never closed) outlives its test and
shows up much later, in another test, as a freeze that never comes (tests/ui/test_memory.py,
tests/unit/test_gc_policy.py). After each test this looks for work in flight for longer than
``short_lived.HUNG_AFTER`` and reports it once in the terminal summary: the test it began in and
where its thread is now. It also names a monitor thread (``celerytui-*``: a poller whose test
never stopped its Monitor keeps opening short-lived connections) still alive five tests after
the one it was first seen in. It fails nothing itself.
"""

from __future__ import annotations

import sys
import threading
import time
import traceback
from bisect import bisect_right

import pytest

from celerytui.core import short_lived

_began: list[float] = []  # when each test began (monotonic), in run order
_names: list[str] = []
_reported: set[short_lived.Entry] = set()  # entries already reported (a thread and its start)
_reports: list[str] = []
_seen: dict[threading.Thread, tuple[str, int]] = {}  # monitor thread -> first test, tests since
OUTLIVED = 5  # tests a monitor thread may outlive its own (a slow stop) before it is named


def _test_at(moment: float) -> str:
    at = bisect_right(_began, moment) - 1
    return _names[at] if at >= 0 else "(before the first test)"


def _where(thread_id: int | None) -> str:
    frame = sys._current_frames().get(thread_id) if thread_id is not None else None
    if frame is None:
        return "    (its thread has ended)"
    lines = traceback.format_stack(frame)[-10:]
    return "".join(lines).rstrip()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    _began.append(time.monotonic())
    _names.append(item.nodeid)
    yield
    for entry in short_lived.hung():
        if entry in _reported:
            continue
        _reported.add(entry)
        _reports.append(
            f"thread {entry.thread.name!r}, in flight since {_test_at(entry.since)}; now at:\n"
            + _where(entry.thread.ident)
        )
    _note_monitor_threads(item.nodeid)


def _note_monitor_threads(test: str) -> None:
    alive = {t for t in threading.enumerate() if t.name.startswith("celerytui-")}
    for thread in list(_seen):
        if thread not in alive:
            del _seen[thread]
    for thread in alive:
        first, tests = _seen.get(thread, (test, -1))
        _seen[thread] = (first, tests + 1)
        if tests + 1 == OUTLIVED:
            _reports.append(
                f"thread {thread.name!r}, alive since {first} and {OUTLIVED} tests on; now at:\n"
                + _where(thread.ident)
            )


def pytest_terminal_summary(terminalreporter):
    if _reports:
        terminalreporter.section("short-lived broker work left hung")
        for report in _reports:
            terminalreporter.write_line(report)
