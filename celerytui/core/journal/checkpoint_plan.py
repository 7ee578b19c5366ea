"""When a checkpoint is written, and of which kind: a full state snapshot now and then, and
between them deltas (the tasks changed since the checkpoint before, core/state_snapshot.py).

A seek loads the chain before its target (the full snapshot, then its deltas) and applies
the events after the last: the spacing of checkpoints bounds the events a seek applies, the
rows of a chain bound what it decodes. A delta costs a row per task changed since the one
before (~80 bytes a task, about what its events take), a full snapshot a row per task kept:
a full one is written once the chain since the last holds ``chain_rows`` rows per task kept.
Measured (benchmarks/replay.py, 10M synthetic events, 100k tasks, one quiet 2-core machine):
checkpoints 42.6 B/event (format 2 every 60 s: 61.7), a seek as the TUI does it median 1.9 s,
max 2.2-2.5 s (format 2: 4.2 s, 4.5 s): still above the 1 s the issue asks. Later, on a
shared 2-core machine (load ~4), 14 random minutes, interleaved runs: CPU a seek median 1.28 s
-> 1.04-1.13 s, max 1.58-1.64 -> 1.24-1.30 s (the chain read without the other checkpoints,
only the kept rows decoded, the pump idle meanwhile); wall 2.7 s -> 2.2-2.4 s: loading 100k
tasks (zlib, columns, a Task each) is most of it.

``chain_rows`` was 1.0 (a chain of up to ~23 checkpoints, 200k rows, on 10M events); with
the seeks' other costs cut (lazy tasks, replaced states freed, deltas inflated meanwhile)
the longest chains were the slowest seeks. 10M events, TUI path, 25 seeks a run, shared
2-core machine (load 1.0-1.9): at 1.0 median 0.71-0.90 s, max 0.92-1.09 s (3 runs); at 0.5
(chains of at most 10) median 0.66-0.79 s, max 0.79-0.97 s (6 runs). The price:
checkpoints 42.0 -> 58.8 B/event, the whole store 62.4 -> 79.3. It stays 1.0: with the
default size cap (1 GB) a store 27 % bigger keeps 27 % less history, for ~0.1 s off the
slowest seeks. ``CheckpointPlan(chain_rows=...)`` (and ``benchmarks/replay.py --chain-rows``)
moves the balance.

Format 4 (core/state_snapshot.py) shrinks what both kinds cost: a delta's runtimes,
failures and http histories are changes since the capture before it, whose lists the plan
keeps for that (``_parts``: references, as big as the state's own), and the task rows
are ~30 % smaller. 500k events, this policy (benchmarks/replay.py, shared 2-core machine):
checkpoints 19.6 MB, 39.3 B/event -> 13.6 MB, 27.2 B/event; the whole store 59.8 -> 47.7.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from celerytui.core import state_snapshot
from celerytui.core.model import Changes
from celerytui.core.state import ClusterState

CHECKPOINT_EVERY = 10.0  # seconds of the stream between two checkpoints, at least
CHECKPOINT_EVENTS = 10_000  # events between two checkpoints, at least ...
TASK_EVENTS = 0.2  # ... and this many per task in memory (20k at 100k tasks)
CHAIN_ROWS = 1.0  # a full snapshot once the deltas since the last hold this many rows a task


def checkpoint_due(
    seconds: float,
    events: int,
    tasks: int,
    *,
    every: float = CHECKPOINT_EVERY,
    min_events: int = CHECKPOINT_EVENTS,
    per_task: float = TASK_EVENTS,
) -> bool:
    """Whether a checkpoint is due ``seconds`` and ``events`` after the last, with ``tasks``
    in memory (the policy above; benchmarks/replay.py writes its journal by it too)."""
    return seconds >= every and events >= max(min_events, per_task * tasks)


class CheckpointPlan:
    """The consumer side's bookkeeping for deltas: the tasks changed since the last checkpoint
    (``note`` each batch's changed uuids), and whether the next is full or a delta."""

    def __init__(self, chain_rows: float = CHAIN_ROWS) -> None:
        self.chain_rows = chain_rows
        self._changed: set[str] = set()
        self._base: float | None = None  # the last checkpoint's time; None: the next is full
        self._rows = 0  # task rows in the deltas since the last full snapshot
        # what the next delta's head changes are on: the last capture's runtimes, failures
        # and http histories (references to its lists: as big as a state holds of them)
        self._parts: dict[str, Any] | None = None

    def note(self, changed: Iterable[str]) -> None:
        """uuids of tasks a batch changed (Changes.tasks: new, updated, lost)."""
        if self._base is not None:
            self._changed.update(changed)

    def note_changes(self, changes: Changes) -> None:
        """A batch's changes: its changed tasks, and those it evicted too. A task evicted
        and then seen again in the same batch is a new task (a new seq) that Changes.tasks
        leaves out (it is among removed_tasks): the next delta must hold it, or a chain
        loads an older task in its place. (capture keeps only the tasks still held.)"""
        self.note(changes.tasks)
        self.note(changes.removed_tasks)

    def restart(self) -> None:
        """The next checkpoint is full: one before it was lost (a failed or dropped write)."""
        self._base = None
        self._changed = set()
        self._parts = None

    def capture(self, state: ClusterState, at: float) -> dict[str, Any]:
        """The checkpoint at ``at`` (state_snapshot.capture): a delta on the last one, or a
        full snapshot when there is none or the chain is long enough."""
        changed, self._changed = self._changed, set()
        if self._base is not None and at > self._base:  # (the same time: it would replace it)
            tasks = state.tasks
            # a child names its parent, which lists it among its children: changed too
            parents = {p for u in changed if (t := tasks.get(u)) is not None and (p := t.parent_id)}
            changed |= parents
            rows = sum(1 for u in changed if u in tasks)
            if self._rows + rows < self.chain_rows * max(1, len(tasks)):
                captured = state_snapshot.capture(
                    state, only=changed, base=self._base, previous=self._parts
                )
                self._rows += rows
                self._base = at
                self._parts = state_snapshot.parts(captured)
                return captured
        self._rows = 0
        self._base = at
        captured = state_snapshot.capture(state)
        self._parts = state_snapshot.parts(captured)
        return captured
