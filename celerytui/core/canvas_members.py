"""A group (or chord header) sent from a plain client, found as one canvas.

Celery's events carry no group id, and a client sends no root_id: each member of
``group(...).apply_async()`` from a script is its own root. Its membership is still written
down elsewhere: the result backend's metas name their ``group_id`` (finished members, and
running ones where workers track STARTED), and on a Redis broker every message still queued
or delivered-but-unacked carries a ``group`` header (canvas_broker.py). ``CanvasFinder.find``
reads both, on demand and bounded, off the UI thread; what it learns is kept (members stay
members after their messages are gone), for the last ``KEEP_GROUPS`` groups.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from celery import Celery

from celerytui.core.canvas_broker import SCAN_LIMIT, BrokerReadError, BrokerScan, scan_broker
from celerytui.core.canvas_results import ResultReader, ResultReadError, results_readable

KEEP_GROUPS = 64
CANDIDATES = 2000  # tasks whose metas are read to find finished members, at most
# a group id that JSON writes as itself: messages not holding it are skipped undecoded
_PLAIN = re.compile(r"[A-Za-z0-9_.:-]{8,255}")
FINISHED = frozenset(("SUCCESS", "FAILURE", "REVOKED", "REJECTED", "IGNORED"))


@dataclass(slots=True)
class Member:
    """One member of a group as the backend and the broker tell it (events may know more)."""

    id: str
    name: str | None = None
    index: int | None = None  # group_index
    status: str | None = None  # the stored meta's (or chord part's) state
    queued: bool = False  # in a queue's list
    reserved: bool = False  # in the unacked hash
    parent_id: str | None = None
    found_by: set[str] = field(default_factory=set)  # "results", "broker"


@dataclass(slots=True)
class GroupMembership:
    group_id: str
    kind: str = "group"  # "chord" when the backend keeps a chord size for it
    members: dict[str, Member] = field(default_factory=dict)
    expected: int | None = None  # chord size, saved GroupResult size, or highest index + 1
    notes: list[str] = field(default_factory=list)  # cut scans, unreadable sources

    def copy(self) -> GroupMembership:
        members = {k: replace(m, found_by=set(m.found_by)) for k, m in self.members.items()}
        return replace(self, members=members, notes=list(self.notes))

    def member(self, task_id: str) -> Member:
        found = self.members.get(task_id)
        if found is None:
            found = self.members[task_id] = Member(task_id)
        return found


class CanvasFinder:
    """Finds the group a task belongs to, and its members, from the backend and the broker."""

    def __init__(self, app: Celery, *, timeout: float = 1.0, scan_limit: int = SCAN_LIMIT) -> None:
        self.app = app
        self.timeout = timeout
        self.scan_limit = scan_limit
        self._groups: OrderedDict[str, GroupMembership] = OrderedDict()
        self._group_of: dict[str, str] = {}
        self._lock = threading.Lock()
        self.unlisted: str | None = None  # why waiting members cannot be listed (AMQP), if so
        self.problems: list[str] = []  # the last find's failed reads (unreachable, hung)

    def find(
        self, task_id: str, candidates: list[str], queues: list[str]
    ) -> GroupMembership | None:
        """The group of ``task_id`` (None: in no group any source knows of). ``candidates``:
        task ids (newest first) whose stored metas may name the group; ``queues``: the queues
        to scan. Blocks for up to a few timeouts: never call it on the UI thread. Calls from
        two threads take turns (the groups kept are shared)."""
        with self._lock:
            return self._find(task_id, candidates, queues)

    def _find(
        self, task_id: str, candidates: list[str], queues: list[str]
    ) -> GroupMembership | None:
        notes: list[str] = []
        self.problems = []
        readable = results_readable(self.app)
        metas: dict[str, dict[str, Any]] = {}
        if readable:
            metas = self._read(lambda r: r.metas([task_id, *candidates[:CANDIDATES]])) or {}
            if len(candidates) > CANDIDATES:
                notes.append(f"results of the newest {CANDIDATES} tasks read")
        else:
            notes.append("result backend not Redis (or off): finished members are not read")
        group_id = self._group_of.get(task_id) or _text(metas.get(task_id, {}).get("group_id"))

        if group_id is None and _PLAIN.fullmatch(task_id):
            # its own message first, found by its id without decoding the others
            own = self._scan(queues, task_id, [])
            held = own.reserved + own.queued if own is not None else []
            group_id = next((h.group for h in held if h.id == task_id), None)
            if group_id is None:
                return None
        needle = group_id if group_id and _PLAIN.fullmatch(group_id) else None
        scan = self._scan(queues, needle, notes)
        headers = {h.id: h for h in scan.queued} if scan else {}
        reserved = {h.id: h for h in scan.reserved} if scan else {}
        mine = reserved.get(task_id) or headers.get(task_id)
        if group_id is None and mine is not None:
            group_id = mine.group
        if group_id is None:
            return None
        gid = group_id
        results_up = readable and not any(p.startswith("result backend") for p in self.problems)
        group_keys = self._read(lambda r: r.group(gid)) if results_up else None  # one wait, not 2

        group = self._groups.pop(group_id, None) or GroupMembership(group_id)
        self._groups[group_id] = group
        while len(self._groups) > KEEP_GROUPS:
            _, dropped = self._groups.popitem(last=False)
            for member_id in dropped.members:
                self._group_of.pop(member_id, None)
        group.notes = notes + self.problems
        for member in group.members.values():  # the broker is read afresh
            member.queued = member.reserved = False
        for where, found in (("queued", headers), ("reserved", reserved)):
            for h in found.values():
                if h.group != group_id:
                    continue
                member = group.member(h.id)
                member.name = member.name or h.task
                if h.group_index is not None:
                    member.index = h.group_index
                member.parent_id = member.parent_id or h.parent_id
                setattr(member, where, True)
                member.found_by.add("broker")
        for member_id, meta in metas.items():
            if _text(meta.get("group_id")) != group_id:
                continue
            member = group.member(member_id)
            member.status = _text(meta.get("status")) or member.status
            member.name = member.name or _text(meta.get("name"))
            member.parent_id = member.parent_id or _text(meta.get("parent_id"))
            member.found_by.add("results")
        if group_keys is not None:
            if group_keys.chord_size is not None:
                group.kind = "chord"
                group.expected = group_keys.chord_size
            for member_id in group_keys.saved_ids:
                group.member(member_id).found_by.add("results")
            if group_keys.saved_ids and group.expected is None:
                group.expected = len(group_keys.saved_ids)
            for member_id, status in group_keys.joined.items():
                member = group.member(member_id)
                member.status = member.status if member.status in FINISHED else status
                member.found_by.add("results")
        # a chord's body is frozen with the header's group id too, but it is sent by the last
        # header member to finish (its parent_id): a child of a member, not a member
        for member_id in [m.id for m in group.members.values() if m.parent_id in group.members]:
            del group.members[member_id]
            group.kind = "chord"  # its size key is gone once the header finished
        indexes = [m.index for m in group.members.values() if m.index is not None]
        if group.expected is None and indexes:
            group.expected = max(indexes) + 1  # at least: the last ones may be gone already
        if group.expected is not None:
            group.expected = max(group.expected, len(group.members))
        for member_id in group.members:
            self._group_of[member_id] = group_id
        return group.copy()  # the UI thread reads it while the next find updates the kept one

    def _scan(self, queues: list[str], needle: str | None, notes: list[str]) -> BrokerScan | None:
        """The broker's messages (those holding ``needle``); None (and a problem) if it failed.
        What cut the scan short goes into ``notes``."""
        try:
            scan = scan_broker(
                self.app, queues, timeout=self.timeout, limit=self.scan_limit, needle=needle
            )
        except BrokerReadError as exc:
            self.problems.append(str(exc))
            return None
        self.unlisted = scan.notes[0] if not scan.readable else None
        notes += scan.notes
        if scan.malformed:
            n = scan.malformed
            notes.append(f"{n} unreadable message{'s' if n > 1 else ''} skipped")
        return scan

    def _read(self, what: Callable[[ResultReader], Any]) -> Any:
        """``what`` on one short result backend session; None (and a problem) if it failed."""
        try:
            with ResultReader(self.app, self.timeout).session() as reader:
                return what(reader)
        except ResultReadError as exc:
            self.problems.append(str(exc))
            return None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and 0 < len(value) <= 255 else None
