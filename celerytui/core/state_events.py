"""ClusterState's handlers, one per event type, and the merge of result-backend metas.

Kept apart from state.py so each file stays readable; ClusterState inherits these. Every
handler validates what it reads before it changes anything, so a malformed event (which
raises Malformed or any other exception, counted by `apply`) leaves the state consistent.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from sys import intern
from typing import Any

from celerytui.core import check_records as checks
from celerytui.core.event_fields import (
    ID_MAX,
    TEXT_MAX,
    TRACEBACK_MAX,
    TS_MAX,
    TS_MIN,
    Malformed,
    exception_text,
    id_of,
    int_of,
    number_of,
    parse_date_done,
    text_of,
)
from celerytui.core.model import (
    FAILURE,
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
    Task,
)
from celerytui.core.series_caps import COUNT_AT, LABELS_AT, LAST_AT
from celerytui.core.state_parts import StateParts

SENT_I, RECEIVED_I, STARTED_I, SUCCEEDED_I, FAILED_I, RETRIED_I = range(6)  # throughput rows
KNOWN_STATES = frozenset({PENDING, RECEIVED, STARTED, SUCCESS, FAILURE, RETRY, REVOKED, REJECTED})
_RUNNING = frozenset({STARTED, RETRY})  # what a later attempt's task-received replaces
UNKNOWN_KIND: Any = object()  # a name not in ClusterState._check_kinds yet
_TIMELINE_ITEMS = 2 * TIMELINE_MAX  # a full Task.timeline: (timestamp, kind) flat
SENT_AT = COUNT_AT["sent"]  # task-sent's count in a label set's cell (series_caps.py)
# what each worker-side task event says (EventHandlers._on_step): its kind, the state it says
# (one of the model's constants: compared by identity), the Task field it stamps (also the
# name of its counter), its throughput row, and for each current state whether the event's
# state replaces it when no timestamp can tell (ClusterState's decision table), and where its
# counter is in a label set's cell (series_caps.COUNT_AT), and whether it says more than its
# state (a result, an exception: not task-received or task-started)
Step = tuple[str, str, str, int | None, dict[str, bool | None], int, bool]
STEP_KINDS: dict[str, tuple[str, str, int | None]] = {
    "task-received": (RECEIVED, "received", RECEIVED_I),
    "task-started": (STARTED, "started", STARTED_I),
    "task-succeeded": (SUCCESS, "succeeded", SUCCEEDED_I),
    "task-failed": (FAILURE, "failed", FAILED_I),
    "task-retried": (RETRY, "retried", RETRIED_I),
    "task-revoked": (REVOKED, "revoked", None),
    "task-rejected": (REJECTED, "rejected", None),
}

__all__ = [
    "ID_MAX",
    "TEXT_MAX",
    "TRACEBACK_MAX",
    "EventHandlers",
    "Malformed",
    "id_of",
    "int_of",
    "number_of",
    "parse_check_repr",
    "text_of",
]


# one `'key': value` of a flat dict repr, value a plain string, number, None, True or False
_PAIR = re.compile(
    r"""\s*'([^'\\]*)'\s*:\s*(?:'([^'\\]*)'|"([^"\\]*)"|"""
    r"""(-?\d+(?:\.\d+)?(?:e[-+]?\d+)?)|(None|True|False))\s*(?:,|$)"""
)
_WORDS = {"None": None, "True": True, "False": False}


def parse_check_repr(text: object) -> Any:
    """checks.parse_repr, with a fast way for what check tasks return: a flat dict of plain
    strings and numbers (literal_eval compiles each one: the most costly step of ingest)."""
    if (
        text.__class__ is not str
        or len(text) >= checks.REPR_MAX
        or text[:1] != "{"
        or text[-1:] != "}"
    ):
        return checks.parse_repr(text)
    out: dict[str, Any] = {}
    body, pos, end = text[1:-1], 0, len(text) - 2
    while pos < end:
        m = _PAIR.match(body, pos)
        if m is None:
            return checks.parse_repr(text)  # escapes, nesting, ...: the slow, complete way
        key, single, double, number, word = m.groups()
        if number is not None:
            out[key] = float(number) if "." in number or "e" in number else int(number)
        elif word is not None:
            out[key] = _WORDS[word]
        else:
            out[key] = single if single is not None else double
        pos = m.end()
    return out


class EventHandlers:
    """Mixin for ClusterState: what each event type does to a task or worker.

    The hot path: each task event is one fused handler (find the task and its worker, let
    the state it says win, stamp, count) with the common case inline and the rare ones in
    ClusterState's helpers, so an event costs a few calls, not a dozen."""

    # ---- task events (see celery/worker/request.py and celery/app/amqp.py for fields) -------

    def _on_sent(self: StateParts, ev: dict[str, Any]) -> None:
        uuid: Any
        try:  # what celery's task-sent always holds (subscripts are cheaper than .get)
            lr, ts, uuid, name = ev["local_received"], ev["timestamp"], ev["uuid"], ev["name"]
            args, kwargs, retries, eta = ev["args"], ev["kwargs"], ev["retries"], ev["eta"]
            expires, root, parent, client = (
                ev["expires"],
                ev["root_id"],
                ev["parent_id"],
                ev["hostname"],
            )
            queue, routing_key, exchange = ev["queue"], ev["routing_key"], ev["exchange"]
        except KeyError:  # one missing: each as .get reads it (uuid: below)
            lr, ts, uuid, name = ev.get("local_received"), ev.get("timestamp"), None, ev.get("name")
            args, kwargs, retries, eta = (
                ev.get("args"),
                ev.get("kwargs"),
                ev.get("retries"),
                ev.get("eta"),
            )
            expires, root, parent, client = (
                ev.get("expires"),
                ev.get("root_id"),
                ev.get("parent_id"),
                ev.get("hostname"),
            )
            queue, routing_key, exchange = (
                ev.get("queue"),
                ev.get("routing_key"),
                ev.get("exchange"),
            )
        if not (
            lr.__class__ is float
            and ts.__class__ is float
            and TS_MIN <= lr < TS_MAX
            and TS_MIN <= ts < TS_MAX
        ):  # what the receiver gives; else the long way
            ts, lr = self._times(ev)
        if uuid is None:
            uuid = ev["uuid"]  # none: Malformed, as any implausible id
        task = self.tasks.get(uuid) if uuid.__class__ is str else None
        if task is None:
            task = self._new_task(_new_id(uuid))
        self._ch.tasks.add(uuid)
        duplicate = task.sent == ts
        if task.received is None:  # RECEIVED's name/args/kwargs win over the client's
            if name == task.name:
                pass
            elif task.name is None and name.__class__ is str and 0 < len(name) <= ID_MAX:
                name = task.name = intern(name)  # ClusterState._set_name's usual case, inline
                counts = (self._stats.get(name) or self._stats_for(name)).counts
                counts[task.state] = counts.get(task.state, 0) + 1
            else:
                self._set_name(task, name)
            if task.args is None:
                task.args = (
                    args if args.__class__ is str and len(args) <= TEXT_MAX else text_of(args)
                )
            if task.kwargs is None:
                task.kwargs = (
                    kwargs
                    if kwargs.__class__ is str and len(kwargs) <= TEXT_MAX
                    else text_of(kwargs)
                )
        if retries.__class__ is not int or not 0 <= retries < 2**62:
            retries = 0
        if retries > task.attempt and retries >= task.retries:
            # no task-received of this attempt yet: the sender's eta / expires stand for now
            task.eta = None if eta is None else id_of(eta)
            task.expires = None if expires is None else id_of(expires)
        if retries > task.retries:
            task.retries = retries
        if task.root_id is None and root == uuid and parent is None:
            task.root_id = task.uuid  # a task of its own, the usual: _set_ids' first case
        elif (task.root_id is None and root is not None) or (
            task.parent_id is None and parent is not None
        ):
            self._set_ids(task, ev)
        # _set_route, inline
        if queue.__class__ is str and 0 < len(queue) <= ID_MAX:  # id_of, inline
            task.queue = intern(queue)
        if routing_key.__class__ is str and 0 < len(routing_key) <= ID_MAX:
            task.routing_key = intern(routing_key)
            if task.queue is None:
                task.queue = task.routing_key
        if task.exchange is None and exchange.__class__ is str and 0 < len(exchange) <= ID_MAX:
            task.exchange = intern(exchange)
        task.sent = ts
        if not duplicate:
            # the client's name is gen<pid>@machine, a new one per process: label the machine
            if client.__class__ is str:
                client = client.rpartition("@")[2]
            if task.timeline:
                self._on_timeline(task, ts, "task-sent")
            else:  # the usual: task-sent comes first
                task.timeline = (ts, "task-sent")
            # ClusterState._count, inline
            queue = task.series_queue
            if queue is None:
                queue = task.series_queue = task.queue or task.routing_key or ""
            # SeriesCaps.count_event, its common case (a known label set) inline
            series = self.series
            name = task.name
            cell = series._known.get((name, client, queue)) if client.__class__ is str else None
            if cell is None:
                series.count_event("sent", name, client, queue, lr)
            else:
                cell[LAST_AT] = lr
                cell[SENT_AT] += 1
            second = int(lr)
            if second != self._ring_second:  # most events of a batch share their second
                self._ring_slot = self._ring.slot(second)
                self._ring_second = second
            if self._ring_slot >= 0:
                self._ring.counts[SENT_I][self._ring_slot] += 1

    def _on_step(self: StateParts, step: Step, ev: dict[str, Any]) -> None:
        """A worker-side task event (task-received and after): find the task and its worker,
        let the state it says win (or only merge its fields), stamp its time and, unless it
        is a duplicate, put it on the timeline and count it; then what its kind adds.

        The common case of each step (ClusterState._transition's decided win, _record's
        in-order append) is inline: this runs for most events of a busy cluster."""
        kind, new, field, row, decided, count_at, ends = step
        uuid: Any
        try:  # what the receiver always gives (subscripts are cheaper than .get)
            lr, ts, uuid, hostname = (
                ev["local_received"],
                ev["timestamp"],
                ev["uuid"],
                ev["hostname"],
            )
        except KeyError:
            lr, ts, hostname = ev.get("local_received"), ev.get("timestamp"), ev.get("hostname")
            uuid = None
        if not (
            lr.__class__ is float
            and ts.__class__ is float
            and TS_MIN <= lr < TS_MAX
            and TS_MIN <= ts < TS_MAX
        ):  # what the receiver gives; else the long way
            ts, lr = self._times(ev)
        if uuid is None:
            uuid = ev["uuid"]  # none: Malformed, as any implausible id
        # .get, not a subscript: without task-sent events (celery's default) task-received
        # is every task's first, and a KeyError costs more than .get saves
        task = self.tasks.get(uuid) if uuid.__class__ is str else None
        if task is None:
            task = self._new_task(_new_id(uuid))
        ch = self._ch
        ch.tasks.add(uuid)
        try:
            worker = self.workers[hostname]
        except (KeyError, TypeError):
            worker = None
        if worker is None:
            host = self._seen(hostname, lr)
            label_host = hostname if host is None else host
        else:  # _seen's common case
            host = label_host = worker.hostname
            last = worker.last_heartbeat
            if last is None or lr > last:
                worker.last_heartbeat = lr
            if worker.status == WORKER_LOST:
                worker.status = WORKER_ONLINE
                ch.workers.add(host)
        force = False
        if new is STARTED:  # the commonest two spelt out (getattr / setattr cost more)
            duplicate = task.started == ts
            task.started = ts
        elif new is SUCCESS:
            duplicate = task.succeeded == ts
            task.succeeded = ts
        elif new is RECEIVED:
            duplicate = task.received == ts
            force = self._merge_received(task, ev, ts, host)
        else:
            duplicate = getattr(task, field) == ts
            setattr(task, field, ts)
        # the state: ClusterState._transition, its common case inline
        cur = task.state
        try:
            wins = decided[cur]  # every state is a key: None where timestamps decide
        except KeyError:
            wins = None
        if wins is None or force:
            won = self._transition(task, new, ts, host, force)
        elif wins:
            won = True
            task.state_ts = ts
            task.state_host = host
            if host is not None:
                task.worker = host
            task.state = new
            by_state = self._by_state
            by_state[cur] -= 1
            by_state[new] += 1
            name = task.name
            if name is not None:
                # .get: a name beyond the cap (counted as OTHER) would raise at every event
                counts = (self._stats.get(name) or self._stats_for(name)).counts
                try:  # subscripts: cheaper than .get (and a task's state is counted)
                    counts[cur] -= 1
                except KeyError:
                    counts[cur] = -1
                try:
                    counts[new] += 1
                except KeyError:
                    counts[new] = 1
            if ends and (new is FAILURE or new is RETRY or new is REJECTED):  # _NOTED
                self._note_failure(task.uuid, new)
        else:
            won = False
            if task.worker is None and host is not None:
                task.worker = host
        if not ends:
            pass  # task-received, task-started: nothing beyond their state
        elif new is SUCCESS:
            try:  # what celery's task-succeeded always holds
                runtime, result = ev["runtime"], ev["result"]
            except KeyError:
                runtime, result = ev.get("runtime"), ev.get("result")
            if not (runtime.__class__ is float and 0 <= runtime < 1e12):
                runtime = number_of(runtime)
                if runtime is not None and runtime < 0:
                    runtime = None
            if not task.result_is_full:  # a full backend result always wins over a repr
                task.result = (
                    result
                    if result.__class__ is str and len(result) <= TEXT_MAX
                    else text_of(result)
                )
            if runtime is not None:
                task.runtime = runtime
        elif new is FAILURE or new is RETRY:
            _set_exception(task, ev, won)
            if new is RETRY:
                # celery's task-retried carries no retries count (the next attempt's
                # task-received, often delivered before this event, does); take one only if
                # an event has it
                retries = int_of(ev.get("retries"))
                if retries is not None and retries > task.retries:
                    task.retries = retries
        elif new is REVOKED and task.exception is None:
            if ev.get("expired") is True:
                task.exception = "expired"
            elif ev.get("terminated") is True:
                task.exception = "terminated"
        elif new is REJECTED:
            # celerytui's workers report a message they refused (celerytui/refusal_reporting.py)
            # with its name and why: a missing or bad signature; stock celery sends neither
            if task.name is None:
                self._set_name(task, ev.get("name"))
            if task.exception is None:
                task.exception = text_of(ev.get("exception"))
        if duplicate:
            return
        # on the timeline and counted: ClusterState._record, its common case inline
        timeline = task.timeline
        if timeline and (ts < timeline[-2] or len(timeline) >= _TIMELINE_ITEMS):  # type: ignore[operator]
            self._on_timeline(task, ts, kind)  # out of order, or full
        else:
            task.timeline = timeline + (ts, kind)  # noqa: RUF005 (cheaper than unpacking)
        queue = task.series_queue
        if queue is None:
            queue = task.series_queue = task.queue or task.routing_key or ""
        name = task.name
        # SeriesCaps.count_event, its common case (a known label set) inline
        series = self.series
        # .get: events of label sets beyond the cap (folded) miss at every event
        cell = series._known.get((name, label_host, queue)) if host is not None else None
        if cell is None:
            labels = series.count_event(field, name, label_host, queue, lr)
        else:
            cell[LAST_AT] = lr
            cell[count_at] += 1
            labels = cell[LABELS_AT]
        second = int(lr)
        if row is not None:
            if second != self._ring_second:  # most events of a batch share their second
                self._ring_slot = self._ring.slot(second)
                self._ring_second = second
            if self._ring_slot >= 0:
                self._ring.counts[row][self._ring_slot] += 1
        if not ends:
            return
        if new is SUCCESS:
            try:
                worker_ring = self._worker_rings[host]  # type: ignore[index]
            except KeyError:  # a worker not kept (or no plausible hostname: None)
                worker_ring = None
            if worker_ring is not None and task.worker is host:  # _processed's common case
                i = second % worker_ring.size  # SecondRing.slot's common case inline
                if worker_ring.seconds[i] != second:
                    i = worker_ring.slot(second)
                if i >= 0:
                    worker_ring.counts[0][i] += 1
            else:
                self._processed(task.worker, lr)
            if runtime is not None:
                if name is not None:
                    stats = self._stats.get(name) or self._stats_for(name)
                    stats.runtimes.append(runtime)  # TaskStats.add_runtime, inline
                    stats._sorted = None
                try:
                    hist = series.runtime_hist[labels]
                except KeyError:
                    series.observe_runtime(labels, runtime)
                else:  # RuntimeHistogram.observe, inline
                    hist._per_bucket[bisect_left(hist.buckets, runtime)] += 1
                    hist.sum += runtime
                    hist.count += 1
            if name is not None and not task.result_is_full:
                try:
                    check = self._check_kinds[name]
                except KeyError:
                    check = self._check_kind(name)
                if check is not None:
                    self._record_check(
                        check, parse_check_repr(task.result), task.succeeded, task.uuid
                    )
        elif new is FAILURE:
            self._processed(task.worker, lr)
            self._count_exception(task, labels)
            check = self._check_kind(task.name)
            if check is not None:
                result = checks.failed_check_result(check, task.args, task.kwargs, task.exception)
                self._record_check(check, result, task.failed, task.uuid)

    def _merge_received(
        self: StateParts, task: Task, ev: dict[str, Any], ts: float, host: str | None
    ) -> bool:
        """What task-received says beyond its state: name, args, retries, this attempt's eta
        and ids. True if it is a later attempt whose state replaces what earlier ones said."""
        try:  # what celery's task-received always holds (subscripts are cheaper than .get)
            name, args, kwargs, retries = ev["name"], ev["args"], ev["kwargs"], ev["retries"]
            eta, expires, root, parent = ev["eta"], ev["expires"], ev["root_id"], ev["parent_id"]
        except KeyError:  # one missing: each as .get reads it
            name, args, kwargs, retries = (
                ev.get("name"),
                ev.get("args"),
                ev.get("kwargs"),
                ev.get("retries"),
            )
            eta, expires, root, parent = (
                ev.get("eta"),
                ev.get("expires"),
                ev.get("root_id"),
                ev.get("parent_id"),
            )
        if name != task.name:
            self._set_name(task, name)
        if args is not None:
            task.args = args if args.__class__ is str and len(args) <= TEXT_MAX else text_of(args)
        if kwargs is not None:
            task.kwargs = (
                kwargs if kwargs.__class__ is str and len(kwargs) <= TEXT_MAX else text_of(kwargs)
            )
        if retries.__class__ is not int or not 0 <= retries < 2**62:
            retries = 0
        if retries > task.retries:
            task.retries = retries
        # a later attempt than any received so far: its worker now holds the task, whatever an
        # earlier attempt said (its task-retried may be late, or lost) - unless the state came
        # after this event on its own worker (this attempt's task-started, delivered first)
        attempt = task.attempt
        newer = (
            retries > attempt
            and (retries > 0 or attempt >= 0)
            and task.state in _RUNNING
            and (
                host != task.state_host
                or task.state_ts is None
                or task.state_ts <= ts
                or (task.state == RETRY and (task.started is None or task.started < ts))
            )
        )
        if retries > attempt or (retries == attempt and ts >= (task.received or 0)):
            # the newest attempt's eta / expires, even when it has none (a retry with no delay)
            task.attempt = retries
            task.attempt_host = host
            task.eta = None if eta is None else id_of(eta)
            task.expires = None if expires is None else id_of(expires)
            task.received = ts
        if (task.root_id is None and root is not None) or (
            task.parent_id is None and parent is not None
        ):
            self._set_ids(task, ev)
        if task.queue is None:
            _set_route(task, ev)
        return newer

    def _on_other(self: StateParts, ev: dict[str, Any]) -> None:
        """Custom task events (task-progress, ...) go on the timeline; anything else is bad."""
        kind = ev.get("type")
        if kind.__class__ is not str or not kind.startswith("task-") or len(kind) > 64:
            raise Malformed
        task, ts, _, host = self._task(ev)
        if task.worker is None:
            task.worker = host
        self._record(task, ts, 0.0, intern(kind), None, None, None)

    # ---- result-backend metas ---------------------------------------------------------------

    def _merge_meta(self: StateParts, meta: Any) -> None:
        if not isinstance(meta, dict):
            raise Malformed
        uuid, status = id_of(meta.get("task_id")), meta.get("status")
        if uuid is None or status.__class__ is not str:
            raise Malformed
        done = parse_date_done(meta.get("date_done"))
        if done is not None and not 0 <= done < 1e11:
            done = None
        task = self.tasks.get(uuid) or self._new_task(uuid)
        self._ch.tasks.add(task.uuid)
        if task.name is None:
            self._set_name(task, meta.get("name"))
        if task.args is None and meta.get("args") is not None:
            task.args = text_of(meta.get("args"))
        if task.kwargs is None and meta.get("kwargs") is not None:
            task.kwargs = text_of(meta.get("kwargs"))
        worker = id_of(meta.get("worker"))
        if worker is not None:
            worker = intern(worker)
            if task.worker is None:
                task.worker = worker
        retries = int_of(meta.get("retries"))
        if retries is not None and retries > task.retries:
            task.retries = retries
        queue = id_of(meta.get("queue"))
        if task.queue is None and queue is not None:
            task.queue = intern(queue)
        if done is not None:
            task.date_done = done
        result = meta.get("result")
        traceback = text_of(meta.get("traceback"), TRACEBACK_MAX)
        if status == SUCCESS:
            task.result_full = result
            task.result_is_full = True
            task.result = text_of(result)
        elif status in (FAILURE, RETRY, REVOKED):
            task.exception = exception_text(result) or task.exception
            task.traceback = traceback or task.traceback
        if status in KNOWN_STATES:
            self._transition(task, status, done, worker)
        kind = checks.check_kind(task.name)
        if kind is None:
            return
        when = done if done is not None else (task.timestamp or self.clock())
        if status == SUCCESS:
            self._record_check(kind, result, when, uuid)
        elif status == FAILURE:
            failed = checks.failed_check_result(
                kind, meta.get("args", task.args), meta.get("kwargs", task.kwargs), task.exception
            )
            self._record_check(kind, failed, when, uuid)

    def _record_check(
        self: StateParts, kind: str, result: Any, when: float | None, task_id: str
    ) -> None:
        if result is None:
            return
        if kind == checks.HTTP:
            key = checks.record_http(self.http_checks, result, when, task_id)
        else:
            key = checks.record_disk(self.disk_checks, result, when, task_id)
        if key is not None:
            self._ch.checks.add(key)


def _new_id(uuid: object) -> str:
    """The id of a task not seen yet, if plausible; else Malformed."""
    if uuid.__class__ is not str or not 0 < len(uuid) <= ID_MAX:
        raise Malformed
    return uuid


def _set_route(task: Task, ev: dict[str, Any]) -> None:
    queue, routing_key = ev.get("queue"), ev.get("routing_key")
    if queue.__class__ is str and 0 < len(queue) <= ID_MAX:  # id_of, inline
        task.queue = intern(queue)
    if routing_key.__class__ is str and 0 < len(routing_key) <= ID_MAX:
        task.routing_key = intern(routing_key)
        if task.queue is None:
            task.queue = task.routing_key


def _set_exception(task: Task, ev: dict[str, Any], won: bool) -> None:
    """A task-failed / task-retried's exception lands unless the task's state came from
    another failure or retry that is newer (a late retry never replaces the failure)."""
    if won or (task.state != FAILURE and task.state != RETRY):
        task.exception = text_of(ev.get("exception")) or task.exception
        task.traceback = text_of(ev.get("traceback"), TRACEBACK_MAX) or task.traceback
