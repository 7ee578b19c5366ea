"""The exporter's task counters, bounded: capped label sets, folded overflow, freed slots.

ClusterState counts every task event under a label set (name, hostname, queue_name), the
labels of celery-exporter's metrics. Left alone, a flood of names x hosts x queues grows one
series per combination and a scrape with it. `SeriesCaps` keeps at most `max_series` label
sets (and at most `max_hosts` / `max_queues` / `max_names` distinct values of each label);
an event that would need one more is counted under "other" instead, and `folded` says how
many events were folded and why. When a host is gone (the exporter's purge), `release_hosts`
drops its label sets so their slots go to the workers that replace it.

Each label set counts in one cell (a list: the set, when it last counted, a count per kind of
COUNTED): an event is a list store and an increment, with no key to build and hash; the
``counters`` dict is made from the cells when read (a scrape, not per event).

Label values are cluster text: control characters are spelt out (``\\x1b``), never raw.
"""

from __future__ import annotations

from collections.abc import Iterable
from sys import intern
from typing import Any

from celerytui.control_chars import escape_controls
from celerytui.core.task_stats import RuntimeHistogram

OTHER = "other"  # the label value of whatever a cap folded
SERIES_MAX = 2_000  # label sets (name, hostname, queue_name); see benchmarks/exporter_flood.py
HOSTS_MAX = 1_000
QUEUES_MAX = 1_000  # e.g. worker_direct's <hostname>.dq queues come and go
NAMES_MAX = 2_000
EXCEPTION_TYPES_MAX = 500
LABEL_MAX = 256  # longer values are folded, not cut (a cut could collide with another)
FOLD_KINDS = ("name", "hostname", "queue_name", "series", "exception")

LabelSet = tuple[str, str, str]
# a label set's cell: [the set, local time it last counted, then a count per COUNTED kind]
Cell = list[Any]
LABELS_AT, LAST_AT = 0, 1
COUNTED: tuple[str, ...] = ("sent", "received", "started", "succeeded", "failed", "retried")
COUNTED += ("revoked", "rejected", "lost")
COUNT_AT = {kind: at for at, kind in enumerate(COUNTED, start=2)}  # a kind's place in a cell


def label_text(value: str) -> str:
    """``value`` with every control character shown as a visible escape (the TUI's rule)."""
    return escape_controls(value)


class _Slots:
    """One label's distinct values, capped: raw value -> label, and how many label sets use
    each label (a label whose last label set is dropped frees its slot)."""

    __slots__ = ("cache", "folded", "kind", "limit", "refs")

    def __init__(self, kind: str, limit: int, folded: dict[str, int]) -> None:
        self.kind, self.limit, self.folded = kind, max(1, limit), folded
        self.cache: dict[str, str] = {}  # raw value -> label, for values in use
        self.refs: dict[str, int] = {}  # label -> label sets using it

    def label(self, raw: str) -> str:
        """The label for a raw value not in the cache: itself escaped, or OTHER if no slot."""
        label = label_text(raw) if len(raw) <= LABEL_MAX else None
        if label is not None and (label in self.refs or len(self.refs) < self.limit):
            return label
        self.folded[self.kind] += 1
        return OTHER

    def take(self, raw: str, label: str) -> None:
        if label == OTHER or not raw:  # a value spelt "other" joins the folded ones
            return
        self.cache[raw] = label
        self.refs[label] = self.refs.get(label, 0) + 1

    def drop(self, label: str) -> None:
        left = self.refs.get(label, 0) - 1
        if left > 0:
            self.refs[label] = left
            return
        if self.refs.pop(label, None) is not None:
            for raw in [r for r, lab in self.cache.items() if lab == label]:
                del self.cache[raw]


class SeriesCaps:
    """Cumulative task counters keyed by capped label sets.

    ``counters[(kind, name, hostname, queue)]``, ``failures_by_exception[(name, hostname,
    queue, exception_type)]`` and ``runtime_hist[(name, hostname, queue)]`` are what the
    collector exposes; ClusterState exposes the same under the same names.
    """

    def __init__(
        self,
        max_series: int = SERIES_MAX,
        max_hosts: int = HOSTS_MAX,
        max_queues: int = QUEUES_MAX,
        max_names: int = NAMES_MAX,
        max_exception_types: int = EXCEPTION_TYPES_MAX,
    ) -> None:
        self.max_series = max(1, max_series)
        self.max_exception_types = max_exception_types
        self._others: dict[tuple[str, str, str, str], int] = {}  # kinds not in COUNTED
        self.failures_by_exception: dict[tuple[str, str, str, str], int] = {}
        self.runtime_hist: dict[LabelSet, RuntimeHistogram] = {}
        self.folded: dict[str, int] = dict.fromkeys(FOLD_KINDS, 0)
        self._cells: dict[LabelSet, Cell] = {}  # label set -> its cell
        self._names = _Slots("name", max_names, self.folded)
        self._hosts = _Slots("hostname", max_hosts, self.folded)
        self._queues = _Slots("queue_name", max_queues, self.folded)
        self._exception_types: set[str] = set()
        # raw (name, hostname, queue) -> its label set's cell, for raw values holding slots
        self._known: dict[tuple[str | None, object, str], Cell] = {}

    @property
    def counters(self) -> dict[tuple[str, str, str, str], int]:
        """Events counted, ``{(kind, name, hostname, queue): n}`` for every n > 0: a new dict,
        made from the cells."""
        counted: dict[tuple[str, str, str, str], int] = {}
        for (name, host, queue), cell in self._cells.items():
            for kind, n in zip(COUNTED, cell[2:], strict=True):
                if n:
                    counted[(kind, name, host, queue)] = n
        for key, n in self._others.items():  # a set released and made again: both
            counted[key] = counted.get(key, 0) + n
        return counted

    # ---- counting (the hot path: one call per counted event) -------------------------------

    def labels(self, name: str | None, hostname: object, queue: str, now: float) -> LabelSet:
        """The label set one event is counted under; ``now`` is its local receipt time."""
        labels: LabelSet = self.cell(name, hostname, queue, now)[LABELS_AT]
        return labels

    def cell(self, name: str | None, hostname: object, queue: str, now: float) -> Cell:
        """The cell of the label set one event is counted under (``now``: its local receipt
        time, the set's last)."""
        cells = self._cells
        if hostname.__class__ is str:  # the usual case: raw values seen before, a known set
            known = self._known.get((name, hostname, queue))
            if known is not None:
                known[LAST_AT] = now
                return known
        names, hosts, queues = self._names, self._hosts, self._queues
        if not name:
            name, name_label = "", ""
        else:
            name_label = names.cache.get(name) or names.label(name)
        if hostname.__class__ is not str or not hostname:
            hostname, host_label = "", ""
        else:
            host_label = hosts.cache.get(hostname) or hosts.label(hostname)
        queue_label = (queues.cache.get(queue) or queues.label(queue)) if queue else ""
        key = (name_label, host_label, queue_label)
        cell = cells.get(key)
        if cell is not None:
            cell[LAST_AT] = now
            if (
                (name in names.cache or not name)
                and (hostname in hosts.cache or not hostname)
                and (queue in queues.cache or not queue)
            ):
                # each raw value has its slot: the same three give this set until a release
                known_sets = self._known
                if len(known_sets) >= 4 * self.max_series:  # raws spelt alike: stay bounded
                    known_sets.clear()
                known_sets[(name, hostname, queue)] = cell
            return cell
        if len(cells) >= self.max_series and key != _FOLDED:
            self.folded["series"] += 1
            cell = cells.get(_FOLDED) or _new_cell(cells, _FOLDED)
            cell[LAST_AT] = now  # the one label set allowed beyond the cap
            return cell
        cell = _new_cell(cells, key)
        cell[LAST_AT] = now
        names.take(name, name_label)
        hosts.take(hostname, host_label)
        queues.take(queue, queue_label)
        return cell

    def count_event(
        self, kind: str, name: str | None, hostname: object, queue: str, now: float
    ) -> LabelSet:
        """One more event `kind` under the label set of (name, hostname, queue), as `labels`
        finds it; returns that set. One call for the hot path's usual case: a known set."""
        cell = self._known.get((name, hostname, queue)) if hostname.__class__ is str else None
        if cell is None:
            cell = self.cell(name, hostname, queue, now)
        else:
            cell[LAST_AT] = now
        at = COUNT_AT.get(kind)
        if at is not None:
            cell[at] += 1
        else:
            self.count(kind, cell[LABELS_AT])
        labels: LabelSet = cell[LABELS_AT]
        return labels

    def count(self, kind: str, labels: LabelSet) -> None:
        cell = self._cells.get(labels)
        at = COUNT_AT.get(kind)
        if cell is not None and at is not None:
            cell[at] += 1
        else:  # a kind of its own, or a set released since
            key = (kind, *labels)
            self._others[key] = self._others.get(key, 0) + 1

    def observe_runtime(self, labels: LabelSet, runtime: float) -> None:
        hist = self.runtime_hist.get(labels)
        if hist is None:
            hist = self.runtime_hist[labels] = RuntimeHistogram()
        hist.observe(runtime)

    def count_exception(self, labels: LabelSet, exception: str | None) -> None:
        exc_type = (exception or "").split("(", 1)[0].strip()[:LABEL_MAX] or "Exception"
        exc_type = label_text(exc_type)
        types = self._exception_types
        if exc_type not in types:
            if len(types) >= self.max_exception_types:
                exc_type = OTHER
                self.folded["exception"] += 1
            else:
                exc_type = intern(exc_type)
                types.add(exc_type)
        key = (*labels, exc_type)
        self.failures_by_exception[key] = self.failures_by_exception.get(key, 0) + 1

    @property
    def label_sets(self) -> int:
        return len(self._cells)

    # ---- freeing ------------------------------------------------------------------------------

    def hosts(self) -> set[str]:
        """The hostname labels that hold label sets now."""
        return set(self._hosts.refs)

    def idle_hosts(self, before: float) -> set[str]:
        """Hostname labels none of whose label sets counted anything since ``before``."""
        newest: dict[str, float] = {}
        for (_, host, _), cell in self._cells.items():
            seen = cell[LAST_AT]
            if host in self._hosts.refs and seen > newest.get(host, float("-inf")):
                newest[host] = seen
        return {host for host, seen in newest.items() if seen < before}

    def release_hosts(self, hosts: Iterable[str]) -> int:
        """Drop every label set of these hostname labels (gone workers) and free their slots
        (hostname, and the name / queue_name slots no other label set uses). Returns how many
        label sets were dropped."""
        gone = {h for h in hosts if h in self._hosts.refs}
        if not gone:
            return 0
        self._known.clear()
        dropped = [key for key in self._cells if key[1] in gone]
        for key in dropped:  # their counters go with their cells
            del self._cells[key]
            self._names.drop(key[0])
            self._hosts.drop(key[1])
            self._queues.drop(key[2])
        for counted in [k for k in self._others if k[2] in gone]:
            del self._others[counted]
        for failed in [k for k in self.failures_by_exception if k[1] in gone]:
            del self.failures_by_exception[failed]
        for key in [k for k in self.runtime_hist if k[1] in gone]:
            del self.runtime_hist[key]
        return len(dropped)


_FOLDED: LabelSet = (OTHER, OTHER, OTHER)


def _new_cell(cells: dict[LabelSet, Cell], labels: LabelSet) -> Cell:
    cell = cells[labels] = [labels, 0.0, *(0 for _ in COUNTED)]
    return cell
