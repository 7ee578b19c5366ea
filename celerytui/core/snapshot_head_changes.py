"""The big parts of a format-4 delta's head as changes since its base (core/state_snapshot.py).

A delta (the tasks changed since the checkpoint before it) used to carry the rest of the
state in full, and three parts of it are big and change little between two checkpoints:
the runtimes of each task name (a window of the newest 1000), the failure list (each uuid
once, newest last, the oldest dropped) and each http check's history (a window of 60). A
format-4 delta holds, for each, what changed since its base's capture:

- a window (runtimes, a history): ``[dropped, appended]``, the window being
  ``base[dropped:] + appended``; one missing from the base counts as empty;
- the failures: ``[front, others, appended]``: the base's first ``front`` and those at the
  positions ``others`` are gone, the rest keep their order, ``appended`` follow (new, or
  moved to the end by a retry).

``window_change`` compares by identity (the values of a capture are the state's own
objects, so the base's values are those of the new window): exact for NaN and -0.0, and a
window that matches nothing is sent whole (``dropped`` = all of the base). Loading applies
the changes piece by piece along the chain (``apply_*``), with C-level list work.
"""

from __future__ import annotations

from itertools import compress, count, repeat
from operator import is_
from typing import Any

TRIES = 4  # places in the base a window's first value is looked for (identical objects)


def window_change(old: list[Any], new: list[Any]) -> list[Any]:
    """``[dropped, appended]`` with ``new == old[dropped:] + appended`` (by identity)."""
    if old and new:
        first = new[0]
        starts = compress(count(), map(is_, old, repeat(first)))
        for _, dropped in zip(range(TRIES), starts, strict=False):
            kept = len(old) - dropped
            if kept <= len(new) and all(map(is_, old[dropped:], new[:kept])):
                return [dropped, new[kept:]]
    return [len(old), new]


def apply_window(old: list[Any], change: list[Any]) -> list[Any]:
    dropped, appended = change
    if not 0 <= dropped <= len(old) or appended.__class__ is not list:
        raise ValueError("a state snapshot's change of a window past its base")
    values: list[Any] = old[dropped:] + appended
    return values


def ordered_change(old: list[str], new: list[str]) -> list[Any]:
    """``[front, others, appended]`` for an ordered set of unique values (see the module
    docstring): the longest start of ``new`` in the base's order is kept."""
    where = dict(zip(old, range(len(old)), strict=False))
    last, kept = -1, 0
    for value in new:
        at = where.get(value)
        if at is None or at < last:
            break
        last, kept = at, kept + 1
    held = set(new[:kept])
    gone = [i for i, value in enumerate(old) if value not in held]
    front = 0
    while front < len(gone) and gone[front] == front:
        front += 1
    return [front, gone[front:], new[kept:]]


def apply_ordered(old: list[str], change: list[Any]) -> list[str]:
    front, others, appended = change
    if not 0 <= front <= len(old) or appended.__class__ is not list:
        raise ValueError("a state snapshot's change of the failures past its base")
    kept = old[front:]
    if others:
        gone = set(others)
        kept = [v for i, v in enumerate(kept, front) if i not in gone]
    values: list[str] = kept + appended
    return values


def head_changes(head: dict[str, Any], base: dict[str, Any], http_at: int) -> dict[str, Any]:
    """What ``head``'s runtimes, failures and http histories (``http_at``: the history's
    place in a check's row) changed since ``base`` (the parts of the capture before)."""
    old_runtimes, old_history = base["runtimes"], base["http"]
    return {
        "runtimes": {
            name: window_change(old_runtimes.get(name, []), values)
            for name, values in head["runtimes"].items()
        },
        "failures": ordered_change(base["failures"], head["failures"]),
        "http": [window_change(old_history.get(row[0], []), row[http_at]) for row in head["http"]],
    }


def base_parts(head: dict[str, Any], http_at: int) -> dict[str, Any]:
    """The parts of a (full) head that the next delta's changes are on."""
    return {
        "runtimes": head["runtimes"],
        "failures": head["failures"],
        "http": {row[0]: row[http_at] for row in head["http"]},
    }


def apply_changes(parts: dict[str, Any], changes: dict[str, Any], head: dict[str, Any]) -> None:
    """``parts`` (base_parts of the piece before) moved on by a delta's ``changes``; its
    ``head`` names the checks (rows without their history)."""
    old_runtimes, old_history = parts["runtimes"], parts["http"]
    parts["runtimes"] = {
        name: apply_window(old_runtimes.get(name, []), change)
        for name, change in changes["runtimes"].items()
    }
    parts["failures"] = apply_ordered(parts["failures"], changes["failures"])
    if len(changes["http"]) != len(head["http"]):
        raise ValueError("a state snapshot's http changes do not match its checks")
    parts["http"] = {
        row[0]: apply_window(old_history.get(row[0], []), change)
        for row, change in zip(head["http"], changes["http"], strict=True)
    }
