"""JournalSource: a recorded journal as an EventSource, paced by a ReplayClock.

The Monitor reads it as it reads the live stream (``Monitor(settings, source=...)``): events
come out of ``drain`` oldest first, each once its receipt time (``local_received``) has been
reached by the replayed clock. A feeder thread does the reading, so the pump never waits on
the store. The work per event is done by one thread only: a stored chunk that is due as a
whole is handed over as it was read (compressed: ``chunks.Chunk``) and inflated and decoded
in ``drain``, on the thread that applies it; two threads each doing work per event share one
GIL and, on a busy machine, wait for each other at every switch (measured: the feeder with
zlib did no better than without it). Only a chunk the clock is in the middle of (the play
head at a real pace) is decoded here.

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
from typing import Any, Protocol

from celerytui.core.journal.chunks import Chunk
from celerytui.core.model import StreamStatus
from celerytui.core.replay_clock import ReplayClock
from celerytui.core.replay_read_ahead import ReadAhead
from celerytui.core.state import ClusterState
from celerytui.core.state_retire import RetiredStates
from celerytui.redaction import one_line

log = logging.getLogger(__name__)

# seconds ahead past which a seek restores instead of feeding through: about a checkpoint's
# spacing (checkpoint_plan.CHECKPOINT_EVERY), so feeding through applies no more events than
# a restore applies after its checkpoint. It was 120 s: at 2,000 events/s a step of a minute
# or two fed up to 240k events through the pump (1-2 s, the header saying it had arrived
# while the state caught up, and the next seek waiting behind a 100k-event pump)
RESTORE_GAP = 10.0
FEED_IDLE = 0.02  # seconds the feeder sleeps when nothing is due
MAX_PENDING = 200_000  # events fed ahead of the consumer before the feeder waits

Events = list[dict[str, Any]]
Piece = Chunk | Events  # what the store gives (JournalStore.iter_chunks) and the feeder hands


class JournalReader(Protocol):
    """What a replay reads from a journal store (celerytui.core.journal's JournalStore)."""

    def time_range(self) -> tuple[float, float] | None: ...

    def iter_events(self, start: float, end: float | None = None) -> Iterator[dict[str, Any]]: ...

    def iter_chunks(self, start: float, end: float | None = None) -> Iterator[Piece]: ...

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
        self._pending: deque[Piece] = deque()  # oldest first
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
        self._rebuilt = threading.Event()  # set while no rebuild runs
        self._rebuilt.set()
        # states no longer shown (a seek) or never taken (a newer seek came): the consumer
        # frees them between pumps (core/state_retire.py)
        self.retired = RetiredStates()

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
        self.clock.changed.set()  # wakes the feeder
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout)
        self._status.connected = False

    def drain(self, max_events: int | None = None) -> list[dict[str, Any]]:
        with self._lock:
            if self._restored is not None:  # the new timeline waits for its state
                return []
            pending = self._pending
            taken: list[Piece] = []
            room = self._pending_n if max_events is None else min(max_events, self._pending_n)
            got = 0
            while got < room and pending:  # whole pieces: no per-event work here
                first = pending[0]
                size = first.n if isinstance(first, Chunk) else len(first)
                if size <= room - got:
                    taken.append(pending.popleft())
                    got += size
                elif isinstance(first, Chunk):  # cut: decoded here, the rest stays
                    events = first.events()
                    self._pending_n += len(events) - size
                    room = min(room, self._pending_n)
                    pending[0] = events
                else:
                    take = room - got
                    taken.append(first[:take])
                    del first[:take]
                    got += take
            self._pending_n -= got
            if not pending:
                self._ready.clear()
        if len(taken) == 1 and not isinstance(taken[0], Chunk):
            return taken[0]
        batch: list[dict[str, Any]] = []
        for piece in taken:  # the chunks decoded on the caller's thread, out of the lock
            batch += piece.events() if isinstance(piece, Chunk) else piece
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

    def wait_rebuilt(self, timeout: float) -> bool:
        """Block until no rebuild runs (the state it made is in ``take_restored``), at most
        ``timeout`` seconds: a consumer that waits here, not in a loop, leaves the GIL to
        the rebuild (each wake-up of another thread takes it away for a while)."""
        return self._rebuilt.wait(timeout)

    def rebuild(self, target: float) -> ClusterState:
        """The cluster as it was at ``target``: nearest checkpoint, then the events up to it.
        Runs on the caller's thread (the feeder, or a headless command). The state is frozen
        (``_rebuild``) and refers to itself: a caller done with it before the process ends
        hands it to ``retired`` (and frees it with ``retired.free_some``), or the collector
        never frees it."""
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
        pieces: Iterator[Piece] | None = None
        held: deque[Piece] = deque()  # read, but not due yet (oldest first)
        while not self._stop.is_set():
            target = clock.now()
            if clock.generation != generation:
                generation = clock.generation
                if (
                    pieces is None
                    or target < self.cursor
                    or target - self.cursor > self.restore_gap
                ):
                    self.rebuilding = True
                    self._rebuilt.clear()
                    try:
                        state = self._rebuild(target, generation)
                        if clock.generation != generation:
                            self.retired.add(state)
                            continue  # another seek came while rebuilding
                        with self._lock:
                            self._pending.clear()
                            self._pending_n = 0
                            untaken, self._restored = self._restored, state
                            self._restored_generation = generation
                            self._ready.set()
                        if untaken is not None:  # a seek's state the consumer never took
                            self.retired.add(untaken)
                    finally:
                        self.rebuilding = False
                        self._rebuilt.set()
                    self.cursor, pieces = target, None
                    held.clear()
                    self.restores += 1
                else:
                    clock.settled = generation  # a short step ahead: fed through
            if pieces is None and not held:  # (re)open after what was handed over
                pieces = self._pieces_after(self.cursor)
            room = self.max_pending - self._pending_n
            if room <= 0:
                self._idle()
                continue
            if pieces is not None and not held:
                piece = next(pieces, None)
                if piece is None:  # read to the end; a live store may grow
                    pieces = None
                else:  # a Chunk as read: drain() inflates and decodes it
                    held.append(piece)
            due = _due_pieces(held, target, room)
            if due:
                with self._lock:
                    self._pending.extend(due)
                    self._pending_n += sum(map(_size, due))
                    self._ready.set()
                last = due[-1]
                at = last.t1 if isinstance(last, Chunk) else event_time(last[-1])
                self.cursor = max(self.cursor, at)
                self._status.events_received += sum(map(_size, due))
            else:
                self._idle()

    def _idle(self) -> None:
        """Nothing to hand over: wait FEED_IDLE, or less when the clock is moved (a seek)."""
        if self.clock.changed.wait(FEED_IDLE):
            self.clock.changed.clear()  # the loop reads the clock again, whatever moved it

    def _pieces_after(self, at: float, stop: float | None = None) -> Iterator[Piece]:
        """The journal's events received strictly after ``at`` and before ``stop`` (None:
        up to the clock's end), in pieces (JournalStore.iter_chunks)."""
        if stop is None and self.clock.end is not None:
            stop = math.nextafter(self.clock.end, math.inf)  # the store's: exclusive
        pieces = self.store.iter_chunks(at, stop)
        for piece in pieces:  # those at `at` were handed over already
            if isinstance(piece, Chunk) and piece.t0 > at:
                yield piece
                break
            events = piece.events() if isinstance(piece, Chunk) else piece
            for i, event in enumerate(events):
                if event_time(event) > at:
                    yield events[i:] if i else events
                    break
            else:
                continue
            break
        yield from pieces

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
        stop = math.nextafter(target, math.inf)
        chain = self.store.checkpoint_chain(target)
        # the events after the chain's last checkpoint are read while it loads
        ahead = ReadAhead(self._pieces_after(chain[-1][0], stop)) if chain else None
        try:
            if chain:  # a full checkpoint, and the deltas after it
                since, state = self._loader(chain, self.max_tasks)
                state.clock = self.clock.now
            else:
                span = self.store.time_range()
                since = (span[0] if span else target) - 1e-6
                state = ClusterState(max_tasks=self.max_tasks, clock=self.clock.now)
            if ahead is not None and since != chain[-1][0]:  # the chain stopped at a gap
                ahead.cancel()
                ahead = None
            # those at `since` are held by the checkpoint already
            pieces = ahead.pieces() if ahead is not None else self._pieces_after(since, stop)
            for piece in pieces:
                batch = piece.events() if isinstance(piece, Chunk) else piece
                due = _due(batch, target)
                state.apply(due)
                if len(due) < len(batch):
                    break  # past the target (the store's bound is on local_received only)
                if generation is not None and (
                    self.clock.generation != generation or self._stop.is_set()
                ):
                    return state  # abandoned: a newer seek wins
            return state
        finally:
            if ahead is not None:
                ahead.cancel()


def _size(piece: Piece) -> int:
    return piece.n if isinstance(piece, Chunk) else len(piece)


def _due_pieces(held: deque[Piece], target: float, room: int) -> list[Piece]:
    """The leading pieces of ``held`` received at or before ``target``, taken from it, up to
    about ``room`` events: whole chunks as they are; a chunk the target is in the middle of
    is decoded, and only its events up to the target go."""
    out: list[Piece] = []
    while held and room > 0:
        first = held[0]
        if isinstance(first, Chunk):
            if first.t1 <= target:
                out.append(held.popleft())
                room -= first.n
                continue
            if first.t0 > target:
                break
            first = held[0] = first.events()
        due = _due(first[:room], target)
        if not due:
            break
        if len(due) < len(first):
            del first[: len(due)]
            out.append(due)
            break
        out.append(held.popleft())
        room -= len(due)
    return out


def _due(events: list[dict[str, Any]], target: float) -> list[dict[str, Any]]:
    """The leading events of ``events`` received at or before ``target`` (all of them, most
    often: a replay runs ahead of the clock only at low speeds)."""
    if not events or event_time(events[-1]) <= target:
        return events
    for i, event in enumerate(events):
        if event_time(event) > target:
            return events[:i]
    return events
