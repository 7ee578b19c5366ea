"""The recording loop that `celerytui record` and the TUI's journal child share: start the
monitor, wait for its event lane, look at the recorder's status every second until told to stop
(or the recorder has stopped recording), then stop the monitor, which writes what is buffered
and gives the store's lease back."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from celerytui.commands.errors import wait_connected

STATUS_EVERY = 1.0  # seconds between looks at the recorder's status
LISTEN_WAIT = 5.0  # seconds the first look waits for the event lane to subscribe


def record_until(
    monitor: Any,
    recorder: Any,
    stop: threading.Event,
    report: Callable[[Any], None],
    *,
    connected: Callable[[], None] | None = None,
    every: float = STATUS_EVERY,
) -> Any:
    """Record until ``stop`` is set or the recorder stops recording; ``report(status)`` at
    each look (the first right after the lane has subscribed, once ``connected()`` has run);
    the recorder's last status."""
    try:
        monitor.start()
        monitor.run_in_thread()
        wait_connected(monitor.events, LISTEN_WAIT)  # what is sent after this is recorded
        if connected is not None:
            connected()
        while True:
            status = recorder.status
            report(status)
            if not status.recording or stop.wait(every):
                break
    finally:
        monitor.stop()  # the recorder writes what is buffered, gives the lease back
    return recorder.status
