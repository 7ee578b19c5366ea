"""ClusterState: the monitor's picture of a Celery cluster, built from its events.

This is the hot path: every event of a busy cluster goes through `apply`, so it dispatches on
the event type with a dict, keeps records with slots, and never logs per event. Everything it
holds is bounded (tasks, workers, names, rings) so it runs for weeks at the same size.
Events merge like celery's own State: an older event never moves a task back, but its fields
still land (RECEIVED's name/args/kwargs win). Single-threaded: only the consumer calls it.
"""

from __future__ import annotations

import contextlib
import time
from bisect import insort
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from functools import partial
from sys import intern
from typing import Any

from celerytui.core import series_caps
from celerytui.core.chains import ChainNode, build_chain
from celerytui.core.check_records import check_kind
from celerytui.core.event_fields import ID_MAX, TS_MAX, TS_MIN, Malformed, id_of
from celerytui.core.model import (
    ALL_STATES,
    FAILURE,
    LOST,
    NO_CHILDREN,
    PENDING,
    RECEIVED,
    REJECTED,
    RETRY,
    REVOKED,
    STARTED,
    SUCCESS,
    TIMELINE_MAX,
    WORKER_LOST,
    WORKER_ONLINE,
    Changes,
    DiskCheck,
    HttpCheck,
    Task,
    Worker,
    flat_timeline,
    new_task,
    timeline_pairs,
)
from celerytui.core.series_caps import COUNT_AT, SeriesCaps
from celerytui.core.state_events import STEP_KINDS, UNKNOWN_KIND, EventHandlers
from celerytui.core.state_lost import LostTasks, lose_offline
from celerytui.core.state_workers import WorkerTracking
from celerytui.core.task_stats import (
    THROUGHPUT_KINDS,
    THROUGHPUT_SECONDS,
    RuntimeHistogram,
    SecondRing,
    TaskStats,
)

OTHER = series_caps.OTHER  # label for names / hostnames beyond the caps
# celery.states.PRECEDENCE as a lookup: lower wins; an event of a higher number than the
# task's current state "happened before" it and only merges fields. One change: REJECTED is
# finished, ranked with REVOKED (celery ranks it below RECEIVED, so a late task-received
# "un-rejects" a task); a redelivery after it still wins on its own worker's timestamps.
PRECEDENCE = {
    SUCCESS: 0,
    FAILURE: 1,
    REVOKED: 3,
    REJECTED: 3,
    STARTED: 4,
    RECEIVED: 5,
    RETRY: 7,
    PENDING: 8,
    LOST: 6,  # set only by state_lost.lose_tasks; any word but PENDING replaces it (_decided)
}
# states a task can leave again: RETRY for its next attempt, REJECTED for a redelivery
_LOOPS = frozenset({RETRY, REJECTED})
_FINISHED = frozenset({SUCCESS, FAILURE, REVOKED, REJECTED})
# states _note_failure hears of: failures (REJECTED counts as one) and retries
_NOTED = frozenset({FAILURE, REJECTED, RETRY})
# states whose events say more than the state (a result, an exception): EventHandlers._on_step
# skips what only they need for the others (task-received, task-started)
_ENDS = frozenset({SUCCESS, FAILURE, RETRY, REVOKED, REJECTED})


def _decided(cur: str, new: str) -> bool | None:
    """Whether `new` replaces `cur` when no timestamp can tell (see _transition); None when
    timestamps decide: RETRY and REJECTED come and go, and a state said again."""
    if cur == LOST:  # a worker spoke of it after the loss: what it says is the truth
        return new != PENDING
    if new == LOST:  # no event says LOST (state_lost.py forces it)
        return False
    if new == RETRY and cur in _FINISHED:
        return False
    if cur == RETRY and new in _FINISHED:
        return True
    if cur == new or new in _LOOPS or cur in _LOOPS:
        return None
    return PRECEDENCE.get(new, 2) < PRECEDENCE.get(cur, 2)


# the event's state -> {current state: whether it wins, None where timestamps decide}; every
# state is a key (the hot path subscripts it)
_DECIDED = {new: {cur: _decided(cur, new) for cur in ALL_STATES} for new in ALL_STATES}
HOSTS_COUNTED = series_caps.HOSTS_MAX  # distinct hostnames in the cumulative counters
EXCEPTION_TYPES_COUNTED = series_caps.EXCEPTION_TYPES_MAX
QUEUES_COUNTED = series_caps.QUEUES_MAX
SERIES_COUNTED = series_caps.SERIES_MAX  # label sets (name, hostname, queue) of the counters


class ClusterState(EventHandlers, WorkerTracking):
    """Tasks, workers, checks and statistics of one cluster, merged from its events."""

    def __init__(
        self,
        max_tasks: int = 100_000,
        max_workers: int = 2_000,
        failures_kept: int = 1_000,
        clock: Callable[[], float] = time.time,
        max_names: int = 2_000,
    ) -> None:
        self.max_tasks = max(1, max_tasks)
        self.max_workers = max(1, max_workers)
        self.max_names = max(1, max_names)
        self.clock = clock
        self.tasks: dict[str, Task] = {}
        self.workers: dict[str, Worker] = {}
        self.http_checks: dict[str, HttpCheck] = {}
        self.disk_checks: dict[str, DiskCheck] = {}
        self._failures: OrderedDict[str, None] = OrderedDict()  # newest last, each once
        self._failures_kept = max(1, failures_kept)
        self.events_applied = 0
        self.malformed = 0
        # the exporter's counters, capped label sets (series_caps.py); the dicts are its own
        # (and `counters`, made from its cells when read)
        self.series = SeriesCaps(
            max_series=SERIES_COUNTED,
            max_hosts=HOSTS_COUNTED,
            max_queues=QUEUES_COUNTED,
            max_names=self.max_names,
            max_exception_types=EXCEPTION_TYPES_COUNTED,
        )
        self.failures_by_exception: dict[tuple[str, str, str, str], int] = (
            self.series.failures_by_exception
        )
        self.runtime_hist: dict[tuple[str, str, str], RuntimeHistogram] = self.series.runtime_hist
        self._order: deque[str] = deque()  # uuids in insertion order, for eviction
        self._seq = 0
        self._by_state: dict[str, int] = dict.fromkeys(ALL_STATES, 0)
        self._stats: dict[str, TaskStats] = {}
        self.lost = LostTasks()  # tasks lost with their worker (state_lost.py)
        # task name -> soft time limit (s) the watched app declares (the stuck rule reads it)
        self.soft_time_limits: dict[str, float] = {}
        self._chain_members: dict[str, deque[str]] = {}
        # parent uuid -> children in memory that name it while it is not (never seen, or
        # evicted): linked into its `children` when it shows up again
        self._orphans: dict[str, dict[str, None]] = {}
        self._ring = SecondRing(len(THROUGHPUT_KINDS), THROUGHPUT_SECONDS)
        self._ring_second, self._ring_slot = -1, -1  # the last second looked up, its slot
        self._worker_rings: dict[str, SecondRing] = {}
        self._ch = Changes()
        self._check_kinds: dict[str, str | None] = {}  # task name -> check_kind(name)
        self._handlers: dict[object, Callable[[dict[str, Any]], None]] = {
            "task-sent": self._on_sent,
            "worker-heartbeat": self._on_heartbeat,
            "worker-online": self._on_heartbeat,
            "worker-offline": self._on_offline,
        }
        # task-received and after: one handler, told which step (EventHandlers._on_step)
        self._steps = {
            kind: (kind, new, field, row, _DECIDED[new], COUNT_AT[field], new in _ENDS)
            for kind, (new, field, row) in STEP_KINDS.items()
        }
        for kind, step in self._steps.items():
            self._handlers[kind] = partial(self._on_step, step)

    # ---- applying events -------------------------------------------------------------------

    def apply(self, events: Iterable[dict[str, Any]] | None) -> Changes:
        """Merge a batch of event dicts (as EventReceiver delivers them); say what changed."""
        ch = self._ch = Changes()
        if events is None:
            return ch
        try:
            items = events if events.__class__ is list else list(events)
        except Exception:
            ch.malformed = 1
            self.malformed += 1
            return ch
        handlers, steps, on_step = self._handlers, self._steps, self._on_step
        nested = bad = 0  # applied: the others
        for ev in items:
            try:
                kind = ev["type"]  # no type, or not a dict (TypeError): malformed, or nested
                step = steps.get(kind)
                if step is not None:  # most events: straight to the step handler
                    on_step(step, ev)
                else:
                    handler = handlers.get(kind)
                    if handler is None:
                        self._on_other(ev)
                    else:
                        handler(ev)
            except Exception:
                if ev.__class__ is dict or not isinstance(ev, list | tuple):
                    bad += 1
                    continue
                nested += 1  # a task.multi batch that was not flattened (its ["type"] failed)
                for inner in ev:
                    self._apply_one(inner, ch)
        ch.events += len(items) - nested - bad
        ch.malformed += bad
        self._finish(ch)
        return ch

    def retire(self) -> None:
        """This state is applied to no more (a seek replaced it): drop its one reference to
        itself, the handlers (its own bound methods), so refcounting frees it once nobody
        holds it instead of a full pass of the cyclic collector (core/state_retire.py)."""
        self._handlers = {}

    def _apply_one(self, ev: object, ch: Changes) -> None:
        try:
            if not isinstance(ev, dict):
                raise Malformed
            handler = self._handlers.get(ev.get("type"))
            if handler is None:
                self._on_other(ev)
            else:
                handler(ev)
            ch.events += 1
        except Exception:
            ch.malformed += 1

    def _finish(self, ch: Changes) -> None:
        self.events_applied += ch.events
        self.malformed += ch.malformed
        if self.lost.offline:  # workers went offline in this batch: their tasks are LOST
            lose_offline(self, ch)
        self._drop_removed(ch)

    @staticmethod
    def _drop_removed(ch: Changes) -> None:
        """Tasks evicted in this batch are not reported as changed or new."""
        if ch.removed_tasks:
            ch.tasks -= ch.removed_tasks
            ch.new_tasks = [u for u in ch.new_tasks if u not in ch.removed_tasks]

    def _times(self, ev: dict[str, Any]) -> tuple[float, float]:
        """(timestamp, local_received), both plausible floats — or Malformed."""
        lr = ev.get("local_received")
        if lr is None:
            lr = self.clock()
        elif not (lr.__class__ is float or lr.__class__ is int) or not TS_MIN <= lr < TS_MAX:
            raise Malformed
        ts = ev.get("timestamp")
        if ts is None:
            ts = lr
        elif not (ts.__class__ is float or ts.__class__ is int) or not TS_MIN <= ts < TS_MAX:
            raise Malformed
        return ts, lr

    def _task(
        self, ev: dict[str, Any], worker_side: bool = True
    ) -> tuple[Task, float, float, str | None]:
        """The event's task (created if new), timestamp, local receipt time and worker (None
        unless `worker_side`: task-sent is a client's); or Malformed."""
        try:  # what the receiver always gives (a subscript is cheaper than .get)
            lr, ts = ev["local_received"], ev["timestamp"]
        except KeyError:
            lr = ts = None
        if not (
            lr.__class__ is float
            and ts.__class__ is float
            and TS_MIN <= lr < TS_MAX
            and TS_MIN <= ts < TS_MAX
        ):  # what the receiver gives; else the long way
            ts, lr = self._times(ev)
        uuid: Any = ev.get("uuid")
        task = self.tasks.get(uuid) if uuid.__class__ is str else None
        if task is None:  # a new task: a plausible id?
            if uuid.__class__ is not str or not 0 < len(uuid) <= ID_MAX:
                raise Malformed
            task = self._new_task(uuid)
        self._ch.tasks.add(uuid)
        if not worker_side:
            return task, ts, lr, None
        return task, ts, lr, self._seen(ev.get("hostname"), lr)

    def _seen(self, hostname: object, lr: float) -> str | None:
        """The worker a task event names, heard from at `lr` (created if new); its hostname,
        or None if the name is not a plausible one."""
        worker = self.workers.get(hostname) if hostname.__class__ is str else None
        if worker is None:  # a new worker: a plausible hostname?
            if hostname.__class__ is not str or not 0 < len(hostname) <= ID_MAX:
                return None
            worker = self._new_worker(hostname, lr)
        last = worker.last_heartbeat
        if last is None or lr > last:
            worker.last_heartbeat = lr
        if worker.status == WORKER_LOST:  # a task event: it is alive after all
            worker.status = WORKER_ONLINE
            self._ch.workers.add(worker.hostname)
        return worker.hostname

    def _new_task(self, uuid: str) -> Task:
        self._seq += 1
        task = new_task(uuid, self._seq)  # Task(uuid=, seq=, children=NO_CHILDREN), faster
        self.tasks[uuid] = task
        self._order.append(uuid)
        self._by_state[PENDING] += 1
        self._ch.new_tasks.append(uuid)
        if self._orphans:
            orphans = self._orphans.pop(uuid, None)
            if orphans:
                tasks = self.tasks
                found = [c for c in orphans if c in tasks and tasks[c].parent_id == uuid]
                if found:
                    task.children = found
        if len(self.tasks) > self.max_tasks:
            self._evict_tasks()
        return task

    def _evict_tasks(self) -> None:
        tasks, order, removed = self.tasks, self._order, self._ch.removed_tasks
        while len(tasks) > self.max_tasks and order:
            task = tasks.pop(order.popleft(), None)
            if task is None:
                continue
            removed.add(task.uuid)
            self._by_state[task.state] -= 1
            if task.children or task.parent_id is not None:
                self._unlink(task)
            if task.name is not None:
                counts = self._stats_for(task.name).counts
                counts[task.state] = counts.get(task.state, 0) - 1
            root = task.root_id
            if root is not None and root != task.uuid:
                members = self._chain_members.get(root)
                if members:
                    if members[0] == task.uuid:
                        members.popleft()
                    else:
                        with contextlib.suppress(ValueError):
                            members.remove(task.uuid)
                    if not members:
                        del self._chain_members[root]

    def _unlink(self, task: Task) -> None:
        """An evicted task: its children wait for it as orphans; it is no orphan any more."""
        tasks, orphans = self.tasks, self._orphans
        for child in task.children:
            if child in tasks:
                orphans.setdefault(task.uuid, {})[child] = None
        parent = task.parent_id
        if parent is not None:
            waiting = orphans.get(parent)
            if waiting is not None:
                waiting.pop(task.uuid, None)
                if not waiting:
                    del orphans[parent]

    def _stats_for(self, name: str) -> TaskStats:
        stats = self._stats.get(name)
        if stats is None:
            if len(self._stats) < self.max_names:
                stats = self._stats[name] = TaskStats(name)
            else:
                stats = self._stats.get(OTHER) or self._stats.setdefault(OTHER, TaskStats(OTHER))
        return stats

    def _set_name(self, task: Task, name: object) -> None:
        if name.__class__ is not str or not 0 < len(name) <= ID_MAX or name == task.name:
            return
        name = intern(name)
        if task.name is not None:
            counts = self._stats_for(task.name).counts
            counts[task.state] = counts.get(task.state, 0) - 1
        task.name = name
        counts = (self._stats.get(name) or self._stats_for(name)).counts
        counts[task.state] = counts.get(task.state, 0) + 1

    def _set_ids(self, task: Task, ev: dict[str, Any]) -> None:
        """root_id / parent_id, sharing string objects, and the chain links."""
        tasks = self.tasks
        root = id_of(ev.get("root_id")) if task.root_id is None else None
        if root is not None:
            if root == task.uuid:
                task.root_id = task.uuid
            else:
                known = tasks.get(root)
                task.root_id = known.uuid if known is not None else root
                self._chain_members.setdefault(task.root_id, deque()).append(task.uuid)
        parent = id_of(ev.get("parent_id")) if task.parent_id is None else None
        if parent is not None and parent != task.uuid:
            known = tasks.get(parent)
            if known is not None:
                task.parent_id = known.uuid
                # once: parent_id is set once per task
                if known.children is NO_CHILDREN:
                    known.children = [task.uuid]
                else:
                    known.children.append(task.uuid)
            else:
                task.parent_id = parent
                self._orphans.setdefault(parent, {})[task.uuid] = None

    def _transition(
        self, task: Task, new: str, ts: float | None, host: str | None, force: bool = False
    ) -> bool:
        """Let the event saying `new` (stamped `ts` by `host`) set the task's state if it is
        the newest word on it; True if it did. Otherwise the event only merges fields.

        A finished state (SUCCESS, FAILURE, REVOKED, REJECTED) always replaces RETRY and a
        RETRY never replaces one: nothing of a task happens after it finished, and a task
        retries before its next attempt ends. Otherwise timestamps compare only when one host
        stamped both (clocks of two hosts may be apart): then the newer wins where a task can
        move back and forth (RETRY and its next attempt, REJECTED and a redelivery, the same
        state again). Otherwise celery's precedence decides.
        `force`: a later attempt's task-received, which replaces what earlier ones said.
        EventHandlers._on_step inlines the case the decision table settles as a win.
        """
        cur = task.state
        decided = _DECIDED.get(new)
        wins = True if force else decided.get(cur) if decided is not None else None
        if wins is None:
            wins = _decided(cur, new)  # a state outside ALL_STATES, or timestamps decide
        if wins is None:
            cur_ts = task.state_ts
            if (
                host is not None
                and host == task.state_host
                and cur_ts is not None
                and ts is not None
            ):
                # celery sends a retry's next message before task-retried: the worker may
                # stamp the next attempt's task-received first. A RETRY after it, before that
                # attempt started, is the previous attempt's.
                wins = ts >= cur_ts and not (
                    new == RETRY
                    and cur == RECEIVED
                    and task.attempt > 0
                    and host == task.attempt_host
                )
            else:
                wins = cur == new or PRECEDENCE.get(new, 2) <= PRECEDENCE.get(cur, 2)
        if not wins:
            if task.worker is None and host is not None:
                task.worker = host
            return False
        task.state_ts = ts
        task.state_host = host
        if host is not None:
            task.worker = host
        if cur == new:
            return True
        task.state = new
        by_state = self._by_state  # holds every state: a task's is one of ALL_STATES
        by_state[cur] -= 1
        by_state[new] += 1
        name = task.name
        if name is not None:
            counts = (self._stats.get(name) or self._stats_for(name)).counts
            counts[cur] = counts.get(cur, 0) - 1
            counts[new] = counts.get(new, 0) + 1
        if new in _NOTED:
            self._note_failure(task.uuid, new)
        return True

    def _note_failure(self, uuid: str, new: str) -> None:
        """A task that just became FAILURE, REJECTED (e.g. a message refused for its
        signature) or RETRY: in this batch's changes, remembered."""
        if new != RETRY:
            self._ch.new_failures.append(uuid)
        else:
            self._ch.new_retries.append(uuid)
        self._remember_failure(uuid)

    def _remember_failure(self, uuid: str) -> None:
        """Newest last and each uuid once, so a task that retried 3 times takes one place."""
        failures = self._failures
        if uuid in failures:
            failures.move_to_end(uuid)
            return
        failures[uuid] = None
        if len(failures) > self._failures_kept:
            failures.popitem(last=False)

    def _check_kind(self, name: object) -> str | None:
        """check_records.check_kind, remembered per task name (asked at each result)."""
        kinds = self._check_kinds
        kind = kinds.get(name, UNKNOWN_KIND) if name.__class__ is str else None
        if kind is UNKNOWN_KIND:
            if len(kinds) >= self.max_names:
                kinds.clear()
            kind = kinds[name] = check_kind(name)  # type: ignore[index]
        return kind

    @property
    def failures(self) -> deque[str]:
        """uuids that failed, retried or were rejected, each once, newest last (a copy; may
        name evicted tasks)."""
        return deque(self._failures, maxlen=self._failures_kept)

    def _record(
        self,
        task: Task,
        ts: float,
        lr: float,
        kind: str,
        counter: str | None,
        hostname: object,
        row: int | None,
    ) -> tuple[str, str, str]:
        """One (non-duplicate) event `kind` of `task`: on its timeline, one more in the
        cumulative `counter` (if any) and in the per-second ring `row`; returns its labels.

        The labels are (name, hostname, queue_name). The queue is decided at the task's
        first counted event, from what the events said by then, and kept: one task's counts
        never split over two queue_name values when its result names the queue."""
        self._on_timeline(task, ts, kind)
        if counter is None:  # a custom event: on the timeline only
            return ("", "", "")
        return self._count(task, lr, counter, hostname, row)

    def _count(
        self, task: Task, lr: float, counter: str, hostname: object, row: int | None
    ) -> tuple[str, str, str]:
        """One more event of `task` in the cumulative `counter` and in the per-second ring
        `row` (if any); returns the labels it was counted under."""
        queue = task.series_queue
        if queue is None:
            queue = task.series_queue = task.queue or task.routing_key or ""
        labels = self.series.count_event(counter, task.name, hostname, queue, lr)
        if row is not None:
            second = int(lr)
            if second != self._ring_second:  # most events of a batch share their second
                self._ring_slot = self._ring.slot(second)
                self._ring_second = second
            if self._ring_slot >= 0:
                self._ring.counts[row][self._ring_slot] += 1
        return labels

    @staticmethod
    def _on_timeline(task: Task, ts: float, kind: str) -> None:
        """Event `kind` at `ts` on the task's timeline: the newest TIMELINE_MAX, in time order
        (events come out of order)."""
        timeline = timeline_pairs(task.timeline)
        full = len(timeline) >= TIMELINE_MAX
        if not full or ts >= timeline[0][0]:
            if full:
                del timeline[0]
            if timeline and ts < timeline[-1][0]:
                insort(timeline, (ts, kind))
            else:
                timeline.append((ts, kind))
            task.timeline = flat_timeline(timeline)

    def _count_exception(self, task: Task, labels: tuple[str, str, str]) -> None:
        self.series.count_exception(labels, task.exception)

    # ---- result backend ---------------------------------------------------------------------

    def apply_results(self, metas: Iterable[dict[str, Any]] | None) -> Changes:
        """Merge full results from the result backend (celery-task-meta-* values, decoded)."""
        ch = self._ch = Changes()
        items: list[Any]
        try:
            items = list(metas or ())
        except Exception:
            items = [None]
        for meta in items:
            try:
                self._merge_meta(meta)
                ch.events += 1
            except Exception:
                ch.malformed += 1
        self.malformed += ch.malformed
        self._drop_removed(ch)
        return ch

    # ---- reading ----------------------------------------------------------------------------

    @property
    def counters(self) -> dict[tuple[str, str, str, str], int]:
        """Events counted, ``{(kind, name, hostname, queue): n}`` (series_caps.py): a new dict."""
        return self.series.counters

    def task_stats(self) -> dict[str, TaskStats]:
        """Per task name (capped; the rest under "other"): counts by state, runtimes."""
        return dict(self._stats)

    def counts_by_state(self) -> dict[str, int]:
        """How many tasks in memory are in each state."""
        return dict(self._by_state)

    def throughput(self, seconds: int = THROUGHPUT_SECONDS) -> dict[str, list[int]]:
        """Events per second by kind, oldest first; the last value is the current second."""
        now = int(self.clock())
        return {kind: self._ring.series(i, now, seconds) for i, kind in enumerate(THROUGHPUT_KINDS)}

    def chain(self, uuid: str) -> ChainNode | None:
        """The tree of the chain (or workflow) `uuid` belongs to, from its root."""
        return build_chain(self.tasks, self._chain_members, uuid)
