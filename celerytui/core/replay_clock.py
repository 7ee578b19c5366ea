"""ReplayClock: the replayed moment of a journal replay — where it is, how fast it moves.

The replay's time runs on the wall clock (monotonic) times ``speed`` while playing and stands
still while paused; a seek moves it at once. Everything that asks "what time is it?" during a
replay (ClusterState's liveness and throughput, the alert rules, the TUI's "12s ago") reads
``now`` instead of ``time.time``, so every screen shows the cluster as it was at that moment.

Thread-safe: the TUI's keys change it on the UI thread while the journal source and the pump
read it on theirs. ``generation`` counts seeks, so a reader knows when to restore.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

# the + / - ladder; 1x is real time
SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 1024.0)


class ReplayClock:
    """Replayed time between ``start`` and ``end`` (None: open-ended, follows the journal)."""

    def __init__(
        self,
        start: float,
        end: float | None = None,
        *,
        speed: float = 1.0,
        playing: bool = True,
        wall: Callable[[], float] = time.monotonic,
        horizon: Callable[[], float] | None = None,
    ) -> None:
        if speed <= 0:
            raise ValueError(f"speed must be above 0, not {speed}")
        if end is not None and end < start:
            raise ValueError("the replay's end is before its start")
        self.start = start
        self.end = end
        self._wall = wall
        self._horizon = horizon  # open-ended: never past this (time.time: never the future)
        self._lock = threading.Lock()
        self._position = start  # replayed time at _anchor
        self._anchor = wall()
        self._speed = float(speed)
        self._playing = playing
        self.changed = threading.Event()  # set by every control (seek, play, speed...)
        self.generation = 0  # seeks so far
        self.rebuilt = 0  # times the replay monitor swapped in a state rebuilt for a seek
        self.settled = -1  # the seek (generation) whose state is the one shown

    # -- reading -----------------------------------------------------------------------------
    def now(self) -> float:
        """The replayed moment (epoch seconds); stops at ``end``."""
        with self._lock:
            return self._now_locked()

    def _now_locked(self) -> float:
        at = self._position
        if self._playing:
            at += (self._wall() - self._anchor) * self._speed
        if self.end is not None and at > self.end:
            at = self.end
        elif self._horizon is not None:
            at = min(at, self._horizon())
        return at

    __call__ = now  # a clock is a callable, as Monitor(clock=...) takes it

    @property
    def speed(self) -> float:
        return self._speed

    @property
    def playing(self) -> bool:
        """True while time moves (not paused, end not reached)."""
        with self._lock:
            return self._playing and (self.end is None or self._now_locked() < self.end)

    @property
    def seeking(self) -> bool:
        """A seek whose state is not shown yet (the journal source is rebuilding it)."""
        return self.settled != self.generation

    @property
    def at_end(self) -> bool:
        return self.end is not None and self.now() >= self.end

    # -- controls ----------------------------------------------------------------------------
    def _rebase(self) -> None:
        self._position = self._now_locked()
        self._anchor = self._wall()
        self.changed.set()

    def play(self) -> None:
        with self._lock:
            self._rebase()
            self._playing = True

    def pause(self) -> None:
        with self._lock:
            self._rebase()
            self._playing = False

    def toggle(self) -> bool:
        """Play <-> pause; returns whether it now plays. At the end, play starts over."""
        with self._lock:
            self._rebase()
            if not self._playing and self.end is not None and self._position >= self.end:
                self._position = self.start
                self.generation += 1
            self._playing = not self._playing
            return self._playing

    def seek(self, at: float) -> float:
        """Go to ``at`` (kept within start..end); returns where it landed."""
        with self._lock:
            at = max(self.start, at)
            if self.end is not None:
                at = min(self.end, at)
            self._position = at
            self._anchor = self._wall()
            self.generation += 1
            self.changed.set()  # the journal source's feeder wakes at once
            return at

    def step(self, seconds: float) -> float:
        """Seek ``seconds`` forward (negative: back) from now."""
        return self.seek(self.now() + seconds)

    def set_speed(self, speed: float) -> float:
        if speed <= 0:
            raise ValueError(f"speed must be above 0, not {speed}")
        with self._lock:
            self._rebase()
            self._speed = float(speed)
            return self._speed

    def faster(self) -> float:
        """The next speed up the ladder (SPEEDS)."""
        return self.set_speed(next((s for s in SPEEDS if s > self._speed), SPEEDS[-1]))

    def slower(self) -> float:
        return self.set_speed(next((s for s in reversed(SPEEDS) if s < self._speed), SPEEDS[0]))


def speed_text(speed: float) -> str:
    """ "x4", "x0.25" — how the header shows a speed."""
    return f"x{speed:g}"
