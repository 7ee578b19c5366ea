"""ReplayMonitor: the Monitor on a recorded journal instead of a broker.

The same Monitor the TUI runs live (so every screen works unchanged), with three differences:
its events come from a JournalSource paced by a ReplayClock, which is also its clock (ages,
liveness and alert rules judge the replayed moment); it is read-only, and it never connects
to anything — no result watcher, no poller, and its Celery app points at kombu's in-process
``memory://`` transport, so even a read-only inspect cannot reach a broker; and after a seek
it swaps in the state the source rebuilt (with fresh alerts) before applying more events,
and makes its lazily restored tasks whole (core/snapshot_lazy.py) over the next pumps.
"""

from __future__ import annotations

import dataclasses
import time
from itertools import filterfalse

from celerytui.config import Settings
from celerytui.core import state_snapshot
from celerytui.core.alerts import AlertBook
from celerytui.core.journal_source import JournalSource
from celerytui.core.model import Changes
from celerytui.core.monitor import Monitor, client_app
from celerytui.core.replay_clock import ReplayClock

OFFLINE_BROKER = "memory://"  # kombu's in-process transport: nothing leaves the process
REBUILD_WAIT = 0.25  # seconds a pump waits for a seek's rebuild at most (then draws, quits)
FILL_SLICE = 10_000  # restored tasks made whole per pump after a seek (~70 ms on this machine)


def replay_settings(settings: Settings) -> Settings:
    """``settings`` for a replay: read-only, whatever the config says."""
    return dataclasses.replace(settings, read_only=True)


class ReplayMonitor(Monitor):
    """A Monitor fed by ``source`` at ``clock``'s pace; ``resets`` counts swapped-in states."""

    def __init__(
        self, settings: Settings, source: JournalSource, clock: ReplayClock, label: str
    ) -> None:
        settings = replay_settings(settings)
        offline = dataclasses.replace(
            settings, broker_url=OFFLINE_BROKER, result_backend="disabled://"
        )
        super().__init__(settings, app=client_app(offline), clock=clock.now, source=source)
        self.source = source
        self.replay_clock = clock
        self.results = None  # nothing is watched: results come from the recorded events
        self.broker_display = label
        self.resets = 0

    def start(self, poll: bool = True) -> Monitor:
        """Start the journal's feeder only: no poller, nothing asks a broker."""
        self.events.start()
        return self

    def pump(self, max_events: int = 100_000) -> Changes:
        restored = self.source.take_restored()
        if restored is None and self.source.rebuilding:
            # the state shown is about to be replaced: no tick, no alert pass over it, and
            # the rebuild has the GIL to itself while this thread waits for it; but first
            # the states earlier seeks replaced are freed, while the rebuild reads and
            # inflates its checkpoints (SQLite and zlib let go of the GIL): seeks back to
            # back left no pump in between to free them, and the next swap paid for it
            while self.source.rebuilding and self.source.retired.free_some():
                pass
            self.source.wait_rebuilt(REBUILD_WAIT)
            restored = self.source.take_restored()
            if restored is None:
                return Changes()
        if restored is None:
            changes = super().pump(max_events)
            # (not while seeking: this state is about to be replaced) the tasks the restore
            # left lazy (state_snapshot.fill_some), a slice a pump; once none is, a slice of
            # the states seeks replaced is freed
            if not self.replay_clock.seeking and not state_snapshot.fill_some(
                self.state, FILL_SLICE
            ):
                self.source.retired.free_some()
            return changes
        held = restored.tasks
        gone = list(filterfalse(held.__contains__, self.state.tasks))  # in C: 100k tasks
        self.source.retired.add(self.state)  # freed by later pumps, not by the collector
        self.state = restored
        self.alerts = AlertBook(self.settings.thresholds, clock=self.clock)
        self._last_tick = 0.0
        self._rate_samples.clear()
        self.resets += 1
        self.replay_clock.rebuilt += 1  # the TUI redraws every screen in full
        changes = super().pump(max_events)
        # a different moment: every task row may have changed, and some are gone
        changes.removed_tasks.update(gone)
        changes.tasks.update(held)
        changes.workers.update(restored.workers)
        return changes

    def wait_restored(self, timeout: float = 10.0) -> bool:
        """Headless use: block until the source's first state is swapped in (pumping)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.resets:
                return True
            self.source.wait(0.05)
            with self.lock:
                self.pump()
        return bool(self.resets)
