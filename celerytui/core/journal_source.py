"""JournalSource: a recorded journal as an EventSource, paced by a ReplayClock.

The Monitor reads it as it reads the live stream (``Monitor(settings, source=...)``): events
come out of ``drain`` oldest first, each once its receipt time (``local_received``) has been
reached by the replayed clock. A feeder thread does the reading, so the pump never waits on
the store.

A seek (the clock's ``generation`` moves) back in time, or far ahead, rebuilds the cluster as
it was at the target: the nearest checkpoints before it (a full one and the deltas after it,
``state_snapshot.load_chain``), then the events from the last to the target, applied on the
feeder thread to a ClusterState of its own. The rebuilt state waits in ``take_restored``
until the consumer swaps it in (see ``core/replay_monitor.py``); until then ``drain`` hands
over nothing, so no event of the new timeline is applied to the old state. A short seek
ahead just feeds the events in between.

A checkpoint taken at ``at`` holds every event received at or before ``at``; iteration after
it starts strictly after ``at``.
"""

from __future__ import annotations

import dataclasses
import gc
import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from itertools import islice
from typing import Any, Protocol

from celerytui.core.model import StreamStatus
from celerytui.core.replay_clock import ReplayClock
from celerytui.core.state import ClusterState
from celerytui.redaction import one_line

log = logging.getLogger(__name__)

RESTORE_GAP = 120.0  # seconds ahead past which a seek restores instead of feeding through
APPLY_BATCH = 5_000  # events applied at once while rebuilding
FEED_IDLE = 0.02  # seconds the feeder sleeps when nothing is due
MAX_PENDING = 200_000  # events fed ahead of the consumer before the feeder waits
FEED_BATCH = 5_000  # events handed over at once (one lock, one seek check)


class JournalReader(Protocol):
    """What a replay reads from a journal store (celerytui.core.journal's JournalStore)."""

    def time_range(self) -> tuple[float, float] | None: ...

    def iter_events(self, start: float, end: float | None = None) -> Iterator[dict[str, Any]]: ...

    def checkpoint_chain(self, at: float) -> list[tuple[float, bytes]]: ...


def event_time(event: dict[str, Any]) -> float:
    """When the monitor received an event (the journal's time axis); 0.0 when unknown."""
    for key in ("local_received", "timestamp"):
        value = event.get(key)
        if value.__class__ in (int, float):
            return float(value)
    return 0.0


def load_snapshots(chain: list[tuple[float, bytes]], max_tasks: int) -> tuple[float, ClusterState]:
    """A chain of checkpoints as (its time, the ClusterState) (state_snapshot.load_chain)."""
    from celerytui.core import state_snapshot

    return state_snapshot.load_chain(chain, max_tasks)


class JournalSource:
    """Events of ``store`` from the clock's start, as the clock reaches them."""

    def __init__(
        self,
        store: JournalReader,
        clock: ReplayClock,
        *,
        max_tasks: int = 100_000,
        label: str = "journal",
        restore_gap: float = RESTORE_GAP,
        max_pending: int = MAX_PENDING,
        loader: Callable[[list[tuple[float, bytes]], int], tuple[float, ClusterState]] = (
            load_snapshots
        ),
    ) -> None:
        self.store = store
        self.clock = clock
        self.max_tasks = max_tasks
        self.restore_gap = restore_gap
        self.max_pending = max_pending
        self._loader = loader
        self._lock = threading.Lock()
        self._pending: deque[list[dict[str, Any]]] = deque()  # batches, oldest first
        self._pending_n = 0  # events in them
        self._ready = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._restored: ClusterState | None = None
        self._restored_generation = -1
        self._status = StreamStatus(broker=label)
        self.cursor = clock.start  # every event received at or before it was handed over
        self.restores = 0  # rebuilds done (seeks back, or far ahead)
        self.rebuilding = False  # the feeder is rebuilding the state for a seek

    # -- EventSource -----------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._status.connected = True
        self._status.since = time.time()
        self._thread = threading.Thread(target=self._run, name="celerytui-replay", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout)
        self._status.connected = False

    def drain(self, max_events: int | None = None) -> list[dict[str, Any]]:
        with self._lock:
            if self._restored is not None:  # the new timeline waits for its state
                return []
            pending = self._pending
            batch: list[dict[str, Any]] = []
            room = self._pending_n if max_events is None else min(max_events, self._pending_n)
            while len(batch) < room:  # whole batches: no per-event work here
                first = pending[0]
                take = room - len(batch)
                if len(first) <= take:
                    batch += pending.popleft()
                else:
                    batch += first[:take]
                    del first[:take]
            self._pending_n -= len(batch)
            if not pending:
                self._ready.clear()
        return batch

    def wait(self, timeout: float | None = None) -> bool:
        return self._ready.wait(timeout)

    @property
    def pending(self) -> int:
        return self._pending_n

    @property
    def status(self) -> StreamStatus:
        return dataclasses.replace(self._status)

    # -- for the replay monitor --------------------------------------------------------------
    def take_restored(self) -> ClusterState | None:
        """The state rebuilt for the latest seek (once), or None; swap it in, then drain."""
        with self._lock:
            state, self._restored = self._restored, None
            if state is not None:
                self.clock.settled = self._restored_generation
        return state

    def rebuild(self, target: float) -> ClusterState:
        """The cluster as it was at ``target``: nearest checkpoint, then the events up to it.
        Runs on the caller's thread (the feeder, or a headless command)."""
        return self._rebuild(target, generation=None)

    # -- the feeder thread -------------------------------------------------------------------
    def _run(self) -> None:
        try:
            self._feed_loop()
        except Exception as exc:  # a broken store ends the replay, says why, never raises
            log.warning("replay stopped: %s", one_line(exc))
            self._status.last_error = one_line(exc, with_type=True)
            self._status.connected = False

    def _feed_loop(self) -> None:
        clock = self.clock
        generation = -1
        events: Iterator[dict[str, Any]] | None = None
        held: list[dict[str, Any]] = []  # read, but not due yet (oldest first)
        while not self._stop.is_set():
            target = clock.now()
            if clock.generation != generation:
                generation = clock.generation
                if (
                    events is None
                    or target < self.cursor
                    or target - self.cursor > self.restore_gap
                ):
                    self.rebuilding = True
                    try:
                        state = self._rebuild(target, generation)
                    finally:
                        self.rebuilding = False
                    if clock.generation != generation:
                        continue  # another seek came while rebuilding
                    with self._lock:
                        self._pending.clear()
                        self._pending_n = 0
                        self._restored = state
                        self._restored_generation = generation
                        self._ready.set()
                    self.cursor, events, held = target, None, []
                    self.restores += 1
                else:
                    clock.settled = generation  # a short step ahead: fed through
            if events is None and not held:  # (re)open after what was handed over
                events = self._events_after(self.cursor)
            room = min(FEED_BATCH, self.max_pending - self._pending_n)
            if room <= 0:
                self._stop.wait(FEED_IDLE)
                continue
            if events is not None and len(held) < room:
                more = list(islice(events, room - len(held)))
                if len(more) < room - len(held):  # read to the end; a live store may grow
                    events = None
                held += more
            batch = _due(held[:room], target)
            if batch:
                del held[: len(batch)]
                with self._lock:
                    self._pending.append(batch)
                    self._pending_n += len(batch)
                    self._ready.set()
                self.cursor = max(self.cursor, event_time(batch[-1]))
                self._status.events_received += len(batch)
            else:
                self._stop.wait(FEED_IDLE)

    def _events_after(self, at: float) -> Iterator[dict[str, Any]]:
        """The journal's events received strictly after ``at``, up to the clock's end."""
        end = self.clock.end
        stop = None if end is None else math.nextafter(end, math.inf)  # the store's: exclusive
        events = self.store.iter_events(at, stop)
        for event in events:  # those at `at` were handed over already
            if event_time(event) > at:
                yield event
                break
        yield from events

    def _rebuild(self, target: float, generation: int | None) -> ClusterState:
        """Without the cyclic GC meanwhile, then frozen: a rebuild makes a few objects a task
        that all survive, and collections in the middle (up to a full pass over both states,
        the shown one and the new one) held the GIL for as long as the rest of a seek. What
        is frozen is never scanned; the app's GcPolicy unfreezes and collects now and then."""
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            return self._rebuild_state(target, generation)
        finally:
            if was_enabled:
                gc.freeze()
                gc.enable()

    def _rebuild_state(self, target: float, generation: int | None) -> ClusterState:
        chain = self.store.checkpoint_chain(target)
        if chain:  # a full checkpoint, and the deltas after it
            since, state = self._loader(chain, self.max_tasks)
            state.clock = self.clock.now
        else:
            span = self.store.time_range()
            since = (span[0] if span else target) - 1e-6
            state = ClusterState(max_tasks=self.max_tasks, clock=self.clock.now)
        events = self.store.iter_events(since, math.nextafter(target, math.inf))
        first = list(islice(events, APPLY_BATCH))
        batch = [e for e in first if event_time(e) > since]  # held by the checkpoint already
        while batch:
            due = _due(batch, target)
            state.apply(due)
            if len(due) < len(batch):
                break  # past the target (the store's bound is on local_received only)
            if generation is not None and (
                self.clock.generation != generation or self._stop.is_set()
            ):
                return state  # abandoned: a newer seek wins
            batch = list(islice(events, APPLY_BATCH))
        return state


def _due(events: list[dict[str, Any]], target: float) -> list[dict[str, Any]]:
    """The leading events of ``events`` received at or before ``target`` (all of them, most
    often: a replay runs ahead of the clock only at low speeds)."""
    if not events or event_time(events[-1]) <= target:
        return events
    for i, event in enumerate(events):
        if event_time(event) > target:
            return events[:i]
    return events
