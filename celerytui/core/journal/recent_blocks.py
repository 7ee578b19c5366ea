"""Where a PostgreSQL writer finds the blocks that may hold the tasks it writes.

Schema 4 keeps no index of the blocks' task keys on PostgreSQL (a GIN index of them took
~37 bytes a task, more than the block itself). Each task the writer writes may have been
blocked before (a late event, a retry: it must leave that block), so it looks for them in:
- the blocks it wrote itself lately (RecentBlocks: their keys in memory, KEEP_MS of `at`);
- the other blocks (older, or an earlier writer's) whose `at` range meets the rows' window:
  a task went into its block at its newest time `at`, after its `finished` time, and its
  times only grow; MARGIN_MS either side for a time set anew (a task retried after it
  succeeded). Their keys are read from their rows and joined with the rows' keys by a hash.
A block found that does not hold the task costs a decode, nothing else (the uuid is checked).
What this misses: a task whose times all moved on by more than MARGIN_MS after it went into
a block (the same task run again much later under its id) keeps its older copy there too;
reads give each task once, the newest (store_reads._once), unless a filter (state, worker)
matches only the older copy.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Sequence

from celerytui.core.journal.rows import TaskRow
from celerytui.core.journal.task_values import ms

MARGIN_MS = 60_000
# of `at` behind the newest block whose keys stay in memory (~60 bytes a task: 2 minutes
# of a writer of 4,000 tasks a second, ~30 MB)
KEEP_MS = 2 * MARGIN_MS

# the keys of the blocks in [lo, hi] of `at` not kept in memory, that are among the wanted
OLDER_SQL = (
    "SELECT w.key, b.id FROM task_blocks b CROSS JOIN LATERAL unnest(b.keys) AS k(key)"
    " JOIN unnest(?::integer[]) AS w(key) ON w.key = k.key"
    " WHERE b.at1 >= ? AND b.at0 <= ? AND b.id < ?"
)


def window(rows: Iterable[TaskRow], epoch: int, now: float) -> tuple[int, int] | None:
    """[lo, hi] of `at` (ms) where a block holding an earlier version of one of `rows` lies
    (None: no rows). A row with no time at all went into its block at the time of the flush
    that put it there (task_blocks.at_ms): `now` stands for it, as it does for `at`."""
    lo: int | None = None
    hi: int | None = None
    for r in rows:
        at = r.at
        if at is None:
            at = now
        a = ms(r.finished or at, epoch) - MARGIN_MS
        b = ms(at, epoch) + MARGIN_MS
        lo = a if lo is None or a < lo else lo
        hi = b if hi is None or b > hi else hi
    if lo is None or hi is None:
        return None
    return lo, hi


class RecentBlocks:
    """The keys of the blocks this writer made lately: key -> block (a few keys are shared
    by two tasks: `more`). Blocks are added as they are made (ids grow), so those no longer
    kept are exactly the ids below `first()`. What it holds may be more than the truth (a
    block rewritten with fewer tasks, a flush rolled back): a lookup then decodes for nothing."""

    def __init__(self) -> None:
        self.keys: dict[int, int] = {}
        self.more: dict[int, set[int]] = {}
        self.blocks: dict[int, tuple[int, array[int]]] = {}  # block -> (at1, its keys)

    def first(self) -> int | None:
        """The smallest block id held (None: none)."""
        return next(iter(self.blocks), None)

    def holds(self, block: int) -> bool:
        return block in self.blocks

    def add(self, block: int, at1: int, keys: Sequence[int]) -> None:
        """A block made (or one held, rewritten) with these keys, its tasks up to `at1`."""
        held = self.blocks.get(block)
        new = array("i", keys)
        if held is not None:
            at1, new = max(at1, held[0]), array("i", sorted({*new, *held[1]}))
        self.blocks[block] = (at1, new)
        for key in new:
            other = self.keys.setdefault(key, block)
            if other != block:
                self.more.setdefault(key, set()).add(block)
        self._forget_before(at1 - KEEP_MS)

    def _forget_before(self, at: int) -> None:
        while self.blocks:
            block, (at1, keys) = next(iter(self.blocks.items()))
            if at1 >= at:
                return
            del self.blocks[block]
            for key in keys:
                others = self.more.get(key)
                if self.keys.get(key) == block:
                    if others:
                        self.keys[key] = others.pop()
                    else:
                        del self.keys[key]
                elif others is not None:
                    others.discard(block)
                if others is not None and not others:
                    del self.more[key]

    def find(self, keys: Iterable[int]) -> list[tuple[int, int]]:
        """(key, block) of the held blocks that may hold a task of these keys."""
        out = []
        for key in keys:
            block = self.keys.get(key)
            if block is not None:
                out.append((key, block))
                out.extend((key, b) for b in self.more.get(key, ()))
        return out
