"""Letting go of a ClusterState that a seek replaced: freed by refcounting, a slice at a time.

A ClusterState refers to itself (its event handlers are its own bound methods), so a
replaced one is garbage that only the cyclic collector can free; and a replay freezes what
a rebuild made (core/journal_source.py), so it waited for a full pass over the whole heap
(GcPolicy's, ~0.5 s with 100k tasks on the pump thread), and the process grew by a state
a seek meanwhile (benchmarks/replay.py: 168 -> 801 MB over 25 seeks of a 500k journal).

``RetiredStates`` breaks that cycle (the state is never applied to again), then frees the
state's tasks a slice at a time (100k tasks freed at once held the GIL ~100 ms: the UI
stood still), and the state itself with the last slice. The pump frees a slice when it
has nothing better to do (core/replay_monitor.py); states no pump got to are freed at
once past ``keep`` of them, so memory stays bounded however fast seeks come.
"""

from __future__ import annotations

import threading
from collections import deque
from itertools import islice

from celerytui.core.state import ClusterState

FREE_SLICE = 20_000  # tasks freed per call of free_some (~20 ms on this machine)
KEEP = 2  # retired states waiting for slices at most; an older one is freed at once


class RetiredStates:
    """States to free (``add``), freed by ``free_some``; thread-safe."""

    def __init__(self, keep: int = KEEP) -> None:
        self.keep = keep
        self._lock = threading.Lock()
        self._states: deque[ClusterState] = deque()

    def __len__(self) -> int:
        return len(self._states)

    def add(self, state: ClusterState) -> None:
        """``state`` is not used any more (nor applied to): free it soon."""
        state.retire()  # the cycle: its handlers are bound methods of the state itself
        with self._lock:
            self._states.append(state)
            over = len(self._states) - self.keep
            dropped = [self._states.popleft() for _ in range(max(0, over))]
        del dropped  # freed here, out of the lock (refcounting: nothing refers to them now)

    def free_some(self, most: int = FREE_SLICE) -> bool:
        """Free up to ``most`` tasks of the oldest retired state (and the state itself once
        its tasks are gone); False when there was nothing to free."""
        with self._lock:
            if not self._states:
                return False
            state = self._states[0]
            tasks = state.tasks
            if len(tasks) <= most:
                self._states.popleft()
                tasks = {}
        if tasks:  # the oldest first, as eviction would (the dict's order)
            deque(map(tasks.__delitem__, list(islice(tasks, most))), 0)
        del state, tasks  # the last slice: the state, and what is left of it, goes here
        return True
