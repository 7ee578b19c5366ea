"""ClusterState's handlers, one per event type, and the merge of result-backend metas.

Kept apart from state.py so each file stays readable; ClusterState inherits these. Every
handler validates what it reads before it changes anything, so a malformed event (which
raises Malformed or any other exception, counted by `apply`) leaves the state consistent.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from sys import intern
from typing import TYPE_CHECKING, Any

from celerytui.core import check_records as checks
from celerytui.core.model import (
    FAILURE,
    PENDING,
    RECEIVED,
    REJECTED,
    RETRY,
    REVOKED,
    STARTED,
    SUCCESS,
    Task,
)

if TYPE_CHECKING:
    from celerytui.core.state import ClusterState

TEXT_MAX = 4_096  # args / kwargs / result reprs (celery cuts them near 1 kB anyway)
TRACEBACK_MAX = 32_768
ID_MAX = 256
SENT_I, RECEIVED_I, STARTED_I, SUCCEEDED_I, FAILED_I, RETRIED_I = range(6)  # throughput rows
KNOWN_STATES = frozenset({PENDING, RECEIVED, STARTED, SUCCESS, FAILURE, RETRY, REVOKED,
                          REJECTED})
_RUNNING = frozenset({STARTED, RETRY})  # what a later attempt's task-received replaces


# one `'key': value` of a flat dict repr, value a plain string, number, None, True or False
_PAIR = re.compile(r"""\s*'([^'\\]*)'\s*:\s*(?:'([^'\\]*)'|"([^"\\]*)"|"""
                   r"""(-?\d+(?:\.\d+)?(?:e[-+]?\d+)?)|(None|True|False))\s*(?:,|$)""")
_WORDS = {"None": None, "True": True, "False": False}


def parse_check_repr(text: object) -> Any:
    """checks.parse_repr, with a fast way for what check tasks return: a flat dict of plain
    strings and numbers (literal_eval compiles each one: the most costly step of ingest)."""
    if text.__class__ is not str or len(text) >= checks.REPR_MAX or text[:1] != "{" \
            or text[-1:] != "}":
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


class Malformed(Exception):
    """An event we count and skip."""


def text_of(value: object, limit: int = TEXT_MAX) -> str | None:
    """A string for display: reprs of non-strings, cut at `limit`."""
    if value is None:
        return None
    if value.__class__ is not str:
        try:
            value = repr(value)
        except Exception:
            return None
    return value if len(value) <= limit else value[:limit]


def id_of(value: object) -> str | None:
    """A plausible id / hostname / name, else None."""
    return value if value.__class__ is str and 0 < len(value) <= ID_MAX else None


def int_of(value: object) -> int | None:
    return value if value.__class__ is int and 0 <= value < 2**62 else None


def number_of(value: object) -> float | None:
    if (value.__class__ is float or value.__class__ is int) and -1e12 < value < 1e12:
        return float(value)
    return None


def parse_date_done(value: object) -> float | None:
    """The backend's ISO date_done as epoch seconds (naive means UTC, as celery stores it)."""
    if value.__class__ is not str or len(value) > 64:
        return number_of(value)
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


def exception_text(result: object) -> str | None:
    """`ValueError('boom')` from the backend's {"exc_type", "exc_message"} dict."""
    if not isinstance(result, dict) or "exc_type" not in result:
        return text_of(result) if result is not None else None
    exc_type = text_of(result.get("exc_type"), ID_MAX)
    message = result.get("exc_message")
    parts = message if isinstance(message, list | tuple) else [message]
    inner = ", ".join(repr(m) if m.__class__ is str else (text_of(m) or "None") for m in parts)
    return text_of(f"{exc_type}({inner})")


class EventHandlers:
    """Mixin for ClusterState: what each event type does to a task or worker."""

    # ---- task events (see celery/worker/request.py and celery/app/amqp.py for fields) -------

    def _on_sent(self: ClusterState, ev: dict) -> None:
        task, ts, lr, _ = self._task(ev, "task-sent")
        duplicate = task.sent == ts
        if task.received is None:  # RECEIVED's name/args/kwargs win over the client's
            name = ev.get("name")
            if name != task.name:
                self._set_name(task, name)
            if task.args is None:
                task.args = text_of(ev.get("args"))
            if task.kwargs is None:
                task.kwargs = text_of(ev.get("kwargs"))
        retries = ev.get("retries")
        if retries.__class__ is not int or not 0 <= retries < 2**62:
            retries = 0
        if retries > task.attempt and retries >= task.retries:
            # no task-received of this attempt yet: the sender's eta / expires stand for now
            eta, expires = ev.get("eta"), ev.get("expires")
            task.eta = None if eta is None else id_of(eta)
            task.expires = None if expires is None else id_of(expires)
        if retries > task.retries:
            task.retries = retries
        self._set_ids(task, ev)
        self._set_route(task, ev)
        if task.exchange is None:
            exchange = id_of(ev.get("exchange"))
            if exchange is not None:
                task.exchange = intern(exchange)
        task.sent = ts
        if not duplicate:
            self._timeline(task, ts, "task-sent")
            # the client's name is gen<pid>@machine, a new one per process: label the machine
            client = ev.get("hostname")
            if client.__class__ is str:
                client = client.rpartition("@")[2]
            self._count("sent", task, client, SENT_I, lr)

    def _set_route(self: ClusterState, task: Task, ev: dict) -> None:
        queue, routing_key = id_of(ev.get("queue")), id_of(ev.get("routing_key"))
        if queue is not None:
            task.queue = intern(queue)
        if routing_key is not None:
            task.routing_key = intern(routing_key)
            if task.queue is None:
                task.queue = task.routing_key

    def _on_received(self: ClusterState, ev: dict) -> None:
        task, ts, lr, host = self._task(ev, "task-received")
        duplicate = task.received == ts
        name = ev.get("name")
        if name != task.name:
            self._set_name(task, name)
        args, kwargs = ev.get("args"), ev.get("kwargs")
        if args is not None:
            task.args = args if args.__class__ is str and len(args) <= TEXT_MAX \
                else text_of(args)
        if kwargs is not None:
            task.kwargs = kwargs if kwargs.__class__ is str and len(kwargs) <= TEXT_MAX \
                else text_of(kwargs)
        retries = ev.get("retries")
        if retries.__class__ is not int or not 0 <= retries < 2**62:
            retries = 0
        if retries > task.retries:
            task.retries = retries
        # a later attempt than any received so far: its worker now holds the task, whatever an
        # earlier attempt said (its task-retried may be late, or lost) - unless the state came
        # after this event on its own worker (this attempt's task-started, delivered first)
        newer = retries > task.attempt and (retries > 0 or task.attempt >= 0) \
            and task.state in _RUNNING and (
            host != task.state_host or task.state_ts is None or task.state_ts <= ts
            or (task.state == RETRY and (task.started is None or task.started < ts)))
        if retries > task.attempt or (retries == task.attempt and ts >= (task.received or 0)):
            # the newest attempt's eta / expires, even when it has none (a retry with no delay)
            task.attempt = retries
            task.attempt_host = host
            eta, expires = ev.get("eta"), ev.get("expires")
            task.eta = None if eta is None else id_of(eta)
            task.expires = None if expires is None else id_of(expires)
            task.received = ts
        self._set_ids(task, ev)
        if task.queue is None:
            self._set_route(task, ev)
        self._transition(task, RECEIVED, ts, host, newer)
        if not duplicate:
            self._timeline(task, ts, "task-received")
            self._count("received", task, ev.get("hostname"), RECEIVED_I, lr)

    def _on_started(self: ClusterState, ev: dict) -> None:
        task, ts, lr, host = self._task(ev, "task-started")
        duplicate = task.started == ts
        self._transition(task, STARTED, ts, host)
        task.started = ts
        if not duplicate:
            self._timeline(task, ts, "task-started")
            self._count("started", task, ev.get("hostname"), STARTED_I, lr)

    def _on_succeeded(self: ClusterState, ev: dict) -> None:
        task, ts, lr, host = self._task(ev, "task-succeeded")
        duplicate = task.succeeded == ts
        runtime = number_of(ev.get("runtime"))
        if not task.result_is_full:  # a full backend result always wins over a repr
            task.result = text_of(ev.get("result"))
        if runtime is not None and runtime >= 0:
            task.runtime = runtime
        self._transition(task, SUCCESS, ts, host)
        task.succeeded = ts
        if duplicate:
            return
        self._timeline(task, ts, "task-succeeded")
        labels = self._count("succeeded", task, ev.get("hostname"), SUCCEEDED_I, lr)
        self._processed(task.worker, lr)
        if runtime is not None and runtime >= 0:
            if task.name is not None:
                self._stats_for(task.name).add_runtime(runtime)
            self._observe_runtime(labels, runtime)
        kind = checks.check_kind(task.name)
        if kind is not None and not task.result_is_full:
            self._record_check(kind, parse_check_repr(task.result), ts, task.uuid)

    def _on_failed(self: ClusterState, ev: dict) -> None:
        task, ts, lr, host = self._task(ev, "task-failed")
        duplicate = task.failed == ts
        self._set_exception(task, ev, self._transition(task, FAILURE, ts, host))
        task.failed = ts
        if duplicate:
            return
        self._timeline(task, ts, "task-failed")
        labels = self._count("failed", task, ev.get("hostname"), FAILED_I, lr)
        self._processed(task.worker, lr)
        self._count_exception(task, labels)
        kind = checks.check_kind(task.name)
        if kind is not None:
            result = checks.failed_check_result(kind, task.args, task.kwargs, task.exception)
            self._record_check(kind, result, ts, task.uuid)

    def _on_retried(self: ClusterState, ev: dict) -> None:
        task, ts, lr, host = self._task(ev, "task-retried")
        duplicate = task.retried == ts
        # celery's task-retried carries no retries count (the next attempt's task-received,
        # often delivered before this event, does); take one only if an event has it
        retries = int_of(ev.get("retries"))
        if retries is not None and retries > task.retries:
            task.retries = retries
        self._set_exception(task, ev, self._transition(task, RETRY, ts, host))
        task.retried = ts
        if not duplicate:
            self._timeline(task, ts, "task-retried")
            self._count("retried", task, ev.get("hostname"), RETRIED_I, lr)

    def _on_revoked(self: ClusterState, ev: dict) -> None:
        task, ts, lr, host = self._task(ev, "task-revoked")
        duplicate = task.revoked == ts
        if ev.get("expired") is True and task.exception is None:
            task.exception = "expired"
        elif ev.get("terminated") is True and task.exception is None:
            task.exception = "terminated"
        self._transition(task, REVOKED, ts, host)
        task.revoked = ts
        if not duplicate:
            self._timeline(task, ts, "task-revoked")
            self._count("revoked", task, ev.get("hostname"), None, lr)

    def _on_rejected(self: ClusterState, ev: dict) -> None:
        task, ts, lr, host = self._task(ev, "task-rejected")
        duplicate = task.rejected == ts
        self._transition(task, REJECTED, ts, host)
        task.rejected = ts
        if not duplicate:
            self._timeline(task, ts, "task-rejected")
            self._count("rejected", task, ev.get("hostname"), None, lr)

    def _on_other(self: ClusterState, ev: dict) -> None:
        """Custom task events (task-progress, ...) go on the timeline; anything else is bad."""
        kind = ev.get("type")
        if kind.__class__ is not str or not kind.startswith("task-") or len(kind) > 64:
            raise Malformed
        task, ts, _, host = self._task(ev, kind)
        if task.worker is None:
            task.worker = host
        self._timeline(task, ts, intern(kind))

    @staticmethod
    def _set_exception(task: Task, ev: dict, won: bool) -> None:
        """A task-failed / task-retried's exception lands unless the task's state came from
        another failure or retry that is newer (a late retry never replaces the failure)."""
        if won or (task.state != FAILURE and task.state != RETRY):
            task.exception = text_of(ev.get("exception")) or task.exception
            task.traceback = text_of(ev.get("traceback"), TRACEBACK_MAX) or task.traceback

    # ---- result-backend metas ---------------------------------------------------------------

    def _merge_meta(self: ClusterState, meta: Any) -> None:
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
                kind, meta.get("args", task.args), meta.get("kwargs", task.kwargs),
                task.exception)
            self._record_check(kind, failed, when, uuid)

    def _record_check(self: ClusterState, kind: str, result: Any, when: float | None,
                      task_id: str) -> None:
        if result is None:
            return
        if kind == checks.HTTP:
            key = checks.record_http(self.http_checks, result, when, task_id)
        else:
            key = checks.record_disk(self.disk_checks, result, when, task_id)
        if key is not None:
            self._ch.checks.add(key)
