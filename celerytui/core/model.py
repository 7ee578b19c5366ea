"""The records every part of the monitor shares: tasks, workers, checks, alerts, changes.

Plain dataclasses with slots: ClusterState owns and mutates them on the consumer thread;
readers (TUI, exporter, status, tail) only read them.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import MISSING, dataclass, field, fields
from itertools import chain
from typing import Any

# Celery's task states, with the precedence celery.states uses to merge out-of-order events.
PENDING = "PENDING"
RECEIVED = "RECEIVED"
STARTED = "STARTED"
SUCCESS = "SUCCESS"
FAILURE = "FAILURE"
REVOKED = "REVOKED"
REJECTED = "REJECTED"
RETRY = "RETRY"
IGNORED = "IGNORED"
# derived, not celery's: RECEIVED / STARTED on a worker that went offline or was lost, with no
# final event (celerytui/core/state_lost.py); any later word from a worker on the task wins
LOST = "LOST"
READY_STATES = frozenset({SUCCESS, FAILURE, REVOKED, REJECTED, IGNORED})
ALL_STATES = (PENDING, RECEIVED, STARTED, RETRY, SUCCESS, FAILURE, REVOKED, REJECTED, LOST)

WORKER_ONLINE = "online"
WORKER_LOST = "lost"  # heartbeats stopped without a worker-offline event
WORKER_OFFLINE = "offline"  # clean shutdown (worker-offline received)

TIMELINE_MAX = 16  # events kept per task for the detail view (Task.timeline: twice the items)


def timeline_pairs(flat: Sequence[float | str]) -> list[tuple[float, str]]:
    """A flat timeline (Task.timeline) as (timestamp, event type) pairs."""
    return list(zip(flat[0::2], flat[1::2], strict=True))  # type: ignore[arg-type]


def flat_timeline(pairs: Iterable[Sequence[Any]]) -> tuple[Any, ...]:
    """(timestamp, event type) pairs as a flat timeline (Task.timeline)."""
    return tuple(chain.from_iterable(pairs))


class _NoChildren(list[str]):
    """The one empty `children` list that ClusterState's tasks share until they get a child
    (most never do): a list fewer per task to keep, and for the garbage collector to walk on
    each full pass. It refuses to grow: whoever adds a child gives the task its own list."""

    __slots__ = ()

    def _shared(self, *_: object) -> None:
        raise TypeError("NO_CHILDREN is shared by many tasks: give the task its own list")

    append = extend = insert = __iadd__ = __setitem__ = _shared  # type: ignore[assignment]


NO_CHILDREN: list[str] = _NoChildren()


@dataclass(slots=True)
class Task:
    uuid: str
    name: str | None = None
    state: str = PENDING
    args: str | None = None  # repr as the event carries it (cut by celery at ~1 kB)
    kwargs: str | None = None
    result: str | None = None  # repr from the event, replaced by the full one from the backend
    result_full: Any = None  # JSON-decoded full result from the result backend, when known
    result_is_full: bool = False
    exception: str | None = None
    traceback: str | None = None
    worker: str | None = None  # hostname
    queue: str | None = None
    routing_key: str | None = None
    exchange: str | None = None
    series_queue: str | None = None  # the exporter's queue_name label, decided once
    # times: event timestamps (epoch seconds, the worker's clock)
    sent: float | None = None
    received: float | None = None
    started: float | None = None
    succeeded: float | None = None
    failed: float | None = None
    retried: float | None = None
    revoked: float | None = None
    rejected: float | None = None
    date_done: float | None = None  # from the result backend
    runtime: float | None = None
    retries: int = 0
    eta: str | None = None
    expires: str | None = None
    root_id: str | None = None
    parent_id: str | None = None
    children: list[str] = field(default_factory=list)
    # flat, oldest first: (timestamp, event type, timestamp, event type, ...), at most
    # TIMELINE_MAX events; read it with timeline_pairs(). One tuple of floats and strings,
    # replaced at each event: no (timestamp, type) pair per event for the garbage collector
    # to count (each brought a young collection nearer) and the collector stops tracking it
    timeline: tuple[float | str, ...] = ()
    seq: int = 0  # ClusterState's insertion counter: newest task has the highest seq
    # the event that set `state`: its timestamp and the host that stamped it (None: the result
    # backend, or not known). Timestamps of one host compare; those of two hosts may not.
    state_ts: float | None = None
    state_host: str | None = None
    attempt: int = -1  # `retries` of the newest task-received (-1: none seen yet)
    attempt_host: str | None = None  # the worker that received that attempt

    @property
    def ready(self) -> bool:
        return self.state in READY_STATES

    def timeline_pairs(self) -> list[tuple[float, str]]:
        """The timeline as (timestamp, event type) pairs, oldest first."""
        return timeline_pairs(self.timeline)

    @property
    def timestamp(self) -> float | None:
        """The time of the newest thing that happened to this task."""
        return max(
            (
                t
                for t in (
                    self.sent,
                    self.received,
                    self.started,
                    self.succeeded,
                    self.failed,
                    self.retried,
                    self.revoked,
                    self.rejected,
                )
                if t
            ),
            default=None,
        )


def _task_maker() -> Callable[[str, int], Task]:
    """`new_task(uuid, seq)`: what `Task(uuid=uuid, seq=seq, children=NO_CHILDREN)` gives, in
    about half its time (ClusterState makes one per new task, and the dataclass __init__ binds
    keywords to its 40 fields). Written from the dataclass's fields, so it keeps in step."""
    names: dict[str, Any] = {"_new": object.__new__, "Task": Task, "NO_CHILDREN": NO_CHILDREN}
    lines = ["def new_task(uuid, seq):", "    task = _new(Task)"]
    for f in fields(Task):
        if f.name in ("uuid", "seq"):
            value = f.name
        elif f.name == "children":
            value = "NO_CHILDREN"
        elif f.default is not MISSING:
            value = f"_{f.name}"
            names[value] = f.default
        else:  # a new field with a default factory: spell it out above
            raise TypeError(f"Task.{f.name}: new_task does not know its default")
        lines.append(f"    task.{f.name} = {value}")
    lines.append("    return task")
    exec("\n".join(lines), names)  # as dataclasses writes __init__
    maker: Callable[[str, int], Task] = names["new_task"]
    return maker


new_task = _task_maker()


@dataclass(slots=True)
class Worker:
    hostname: str
    status: str = WORKER_ONLINE  # WORKER_ONLINE / WORKER_LOST / WORKER_OFFLINE
    last_heartbeat: float | None = None  # local receipt time (the state's clock)
    freq: float = 2.0  # heartbeat interval the worker announced
    loadavg: tuple[float, ...] | None = None
    active: int = 0
    processed: int = 0
    pid: int | None = None
    sw_ident: str | None = None
    sw_ver: str | None = None
    sw_sys: str | None = None
    # filled from inspect (stats / active_queues) by whoever polls it; None when unknown
    pool_size: int | None = None
    queues: list[str] | None = None
    soft_time_limit: float | None = None  # its pool's default (--soft-time-limit), from stats
    first_seen: float | None = None
    offline_at: float | None = None
    # a worker that sends no heartbeats (--without-heartbeat, celery.contrib.pytest's) is known
    # from inspect stats: processed from its totals, alive while it answers (state.note_stats)
    heartbeat_seen: bool = False  # a worker-heartbeat / worker-online event arrived
    heartbeats_off: bool = False  # it answers inspect stats but has sent no heartbeat
    # its clock against the monitor's: local_received - timestamp of its recent heartbeats
    # (newest last); the smallest is the best estimate (transit only ever adds). clock_offset
    clock_samples: tuple[float, ...] = ()

    @property
    def clock_offset(self) -> float | None:
        """Seconds the monitor's clock is ahead of this worker's (negative: behind), from its
        recent heartbeats; None before the first. Add it to a stamp of this worker's to get
        the monitor's time of the same moment."""
        return min(self.clock_samples) if self.clock_samples else None

    @property
    def alive(self) -> bool:
        return self.status == WORKER_ONLINE


@dataclass(slots=True)
class HttpCheck:
    """The newest result of check_http_endpoint for one URL, with a short history."""

    url: str
    status: str  # "UP" / "DOWN"
    status_code: int | None = None
    response_time: float | None = None  # seconds
    error: str | None = None
    checked_at: float | None = None
    task_id: str | None = None
    # (checked_at, up, rt)
    history: deque[tuple[Any, ...]] = field(default_factory=lambda: deque(maxlen=60))


@dataclass(slots=True)
class DiskCheck:
    """The newest result of check_disk_usage for one host."""

    host: str
    status: str = "OK"  # "OK" / "ERROR"
    mount: str | None = None
    filesystem: str | None = None
    size_bytes: int | None = None
    used_bytes: int | None = None
    avail_bytes: int | None = None
    use_percent: float | None = None
    error: str | None = None
    checked_at: float | None = None
    task_id: str | None = None


@dataclass(slots=True)
class Alert:
    key: str  # identity for folding repeats, e.g. "task-failed:proj.tasks.add"
    severity: str  # "critical" / "error" / "warning" / "info"
    title: str
    detail: str = ""
    first_seen: float = 0.0
    last_seen: float = 0.0
    count: int = 1
    acknowledged: bool = False
    active: bool = True
    # what a journal row or a webhook needs beyond the title: the subject's fields
    # (hostname, name, uuids...), from the rule's Finding
    labels: dict[str, str] = field(default_factory=dict)


SEVERITY_ORDER = {"critical": 0, "error": 1, "warning": 2, "info": 3}


@dataclass(slots=True)
class Changes:
    """What one apply() changed, so a UI redraws only that."""

    tasks: set[str] = field(default_factory=set)  # uuids changed or added
    new_tasks: list[str] = field(default_factory=list)  # uuids seen for the first time
    removed_tasks: set[str] = field(default_factory=set)  # evicted
    workers: set[str] = field(default_factory=set)  # hostnames changed
    new_failures: list[str] = field(default_factory=list)  # uuids that became FAILURE
    new_retries: list[str] = field(default_factory=list)  # uuids that got task-retried
    workers_lost: list[str] = field(default_factory=list)
    new_lost: list[str] = field(default_factory=list)  # uuids that became LOST (state_lost.py)
    checks: set[str] = field(default_factory=set)  # URLs / disk hosts whose record changed
    events: int = 0  # events applied
    malformed: int = 0  # events counted and skipped

    def __bool__(self) -> bool:
        return bool(self.tasks or self.workers or self.removed_tasks or self.checks)

    def merge(self, other: Changes) -> None:
        self.tasks |= other.tasks
        self.new_tasks.extend(other.new_tasks)
        self.removed_tasks |= other.removed_tasks
        self.workers |= other.workers
        self.new_failures.extend(other.new_failures)
        self.new_retries.extend(other.new_retries)
        self.workers_lost.extend(other.workers_lost)
        self.new_lost.extend(other.new_lost)
        self.checks |= other.checks
        self.events += other.events
        self.malformed += other.malformed


@dataclass(slots=True)
class StreamStatus:
    """EventStream's (and ResultWatcher's) connection status, read by any thread."""

    connected: bool = False
    since: float | None = None  # when the current state (connected / reconnecting) began
    last_error: str | None = None  # one line, secrets redacted
    attempts: int = 0  # connect attempts since the last success
    events_received: int = 0
    events_dropped: int = 0
    reconnects: int = 0
    broker: str = ""  # redacted URL
    malformed: int = 0  # messages / events the lane could not decode, counted and skipped
