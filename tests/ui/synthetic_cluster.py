"""A fixed, deterministic cluster for snapshots: a real ClusterState fed synthetic events
with a fixed clock, inside a Monitor stand-in that is not connected to anything."""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

from celery import Celery

from celerytui.config import DiskHost, Settings, Thresholds
from celerytui.core.alerts import AlertBook
from celerytui.core.beat_watch import BeatWatch
from celerytui.core.model import Changes, StreamStatus
from celerytui.core.monitor_view import MonitorView
from celerytui.core.queue_wait import QueueWaits, queue_waits
from celerytui.core.queues import QueueDepth
from celerytui.core.state import ClusterState

T0 = 1_700_000_000.0  # 2023-11-14 22:13:20 UTC
NOW = T0 + 300


def fixed_clock() -> float:
    return NOW


def snapshot_settings(**overrides) -> Settings:
    base = dict(
        broker_url="redis://:s3cret@broker.example:6379/0",
        result_backend="redis://broker.example:6379/1",
        cluster_name="prod",
        timezone="UTC",
        http_targets=["https://example.com/health"],
        disk_hosts=[DiskHost(name="local"), DiskHost(name="db1")],
    )
    base.update(overrides)
    return Settings(**base)


class UnconnectedLane:
    """An event source that never connects: only the status the header and banners read."""

    def __init__(self, status: StreamStatus) -> None:
        self.status = status


class FakeMonitor(MonitorView):
    """A MonitorView over a real ClusterState; pump() returns queued Changes (none by
    default), so the picture stays exactly as built."""

    # MonitorView's read-only members, settable here: tests plug in an app or canned replies
    app: Celery | None = None
    controller: Any = None

    def __init__(
        self,
        state: ClusterState,
        clock=fixed_clock,
        connected: bool = True,
        broker: str = "redis://:****@broker.example:6379/0",
    ):
        self.state = state
        self.clock = clock
        self.lock = threading.RLock()
        self.alerts = AlertBook(clock=clock)
        self._lane = UnconnectedLane(StreamStatus(connected=connected, since=T0, broker=broker))
        self.broker_display = broker
        self.queue_depths: list[QueueDepth] = []
        self.queue_history: dict[str, deque[tuple[float, int]]] = {}
        self.queued: list[Changes] = []
        self.queue_waits = QueueWaits()
        self._beats: tuple[object, BeatWatch] | None = None

    @property
    def beats(self) -> BeatWatch:
        """The plugged-in app's schedule, nothing seen of it (built again if the app changes)."""
        if self._beats is None or self._beats[0] is not self.app:
            watch = BeatWatch.from_app(self.app, self.state_thresholds, self.clock())
            watch.observe(self.state.tasks, list(self.state.tasks))  # what the state holds
            self._beats = (self.app, watch)
        return self._beats[1]

    state_thresholds = Thresholds()

    @property
    def events(self) -> UnconnectedLane:
        return self._lane

    def start(self) -> FakeMonitor:
        return self

    def stop(self, timeout: float = 2.0) -> None:
        return None

    def pump(self, max_events: int = 100_000) -> Changes:
        return self.queued.pop(0) if self.queued else Changes()

    def events_per_second(self) -> float:
        return 1234.0

    def watch_result(self, task_id: str) -> None:
        return None


def _heartbeat(host: str, at: float, active: int, processed: int, load=(0.5, 0.4, 0.3)):
    return {
        "type": "worker-heartbeat",
        "hostname": host,
        "timestamp": at,
        "local_received": at,
        "freq": 2.0,
        "active": active,
        "processed": processed,
        "loadavg": list(load),
        "sw_ident": "py-celery",
        "sw_ver": "5.4.0",
    }


def _task_events(
    uuid: str,
    name: str,
    host: str,
    at: float,
    state: str,
    args: str = "()",
    result: str = "None",
    exception: str = "",
) -> list[dict]:
    evs = [
        {
            "type": "task-received",
            "uuid": uuid,
            "name": name,
            "args": args,
            "kwargs": "{}",
            "hostname": host,
            "timestamp": at,
            "local_received": at,
            "routing_key": "celery",
        },
        {
            "type": "task-started",
            "uuid": uuid,
            "hostname": host,
            "timestamp": at + 0.1,
            "local_received": at + 0.1,
        },
    ]
    if state == "SUCCESS":
        evs.append(
            {
                "type": "task-succeeded",
                "uuid": uuid,
                "hostname": host,
                "result": result,
                "runtime": 0.2,
                "timestamp": at + 0.3,
                "local_received": at + 0.3,
            }
        )
    elif state == "FAILURE":
        evs.append(
            {
                "type": "task-failed",
                "uuid": uuid,
                "hostname": host,
                "exception": exception,
                "traceback": "Traceback...",
                "timestamp": at + 0.3,
                "local_received": at + 0.3,
            }
        )
    return evs


def build_state(workers: int = 3, tasks: int = 40) -> ClusterState:
    """Workers w1..wN, a mix of tasks over the last minutes, HTTP and disk check results."""
    state = ClusterState(clock=fixed_clock)
    hosts = [f"w{i}@node{i}" for i in range(1, workers + 1)]
    events: list[dict] = []
    for second in range(0, 300, 2):
        for i, host in enumerate(hosts):
            if i == len(hosts) - 1 and workers > 2 and second > 200:
                continue  # the last worker stops sending heartbeats: it goes "lost"
            events.append(_heartbeat(host, T0 + second, active=i % 3, processed=second * (i + 1)))
    names = [
        "celerytui.tasks.send_email",
        "celerytui.tasks.validate_order",
        "celerytui.tasks.process_payment",
        "celerytui.tasks.ship_order",
    ]
    for n in range(tasks):
        at = T0 + 60 + n * 6
        state_ = "FAILURE" if n % 7 == 3 else "SUCCESS"
        events.extend(
            _task_events(
                f"{n:08d}-aaaa-bbbb-cccc-{n:012d}",
                names[n % 4],
                hosts[n % len(hosts)],
                at,
                state_,
                args=f"({1000 + n},)",
                exception="ValueError('card declined')",
            )
        )
    state.apply(events)
    metas = [
        {
            "task_id": "http-0001",
            "status": "SUCCESS",
            "name": "celerytui.tasks.check_http_endpoint",
            "result": {
                "url": "https://example.com/health",
                "status": "UP",
                "status_code": 200,
                "response_time": 0.123,
            },
            "date_done": T0 + 290,
        },
        {
            "task_id": "http-0002",
            "status": "SUCCESS",
            "name": "celerytui.tasks.check_http_endpoint",
            "result": {
                "url": "https://down.example.net/",
                "status": "DOWN",
                "status_code": 503,
                "response_time": 0.5,
                "error": "HTTP 503",
            },
            "date_done": T0 + 295,
        },
        {
            "task_id": "disk-0001",
            "status": "SUCCESS",
            "name": "celerytui.tasks.check_disk_usage",
            "result": {
                "host": "local",
                "status": "OK",
                "filesystem": "/dev/sda1",
                "size_bytes": 100 * 2**30,
                "used_bytes": 42 * 2**30,
                "avail_bytes": 58 * 2**30,
                "use_percent": 42.0,
                "mount": "/",
            },
            "date_done": T0 + 280,
        },
    ]
    state.apply_results(metas)
    state.tick(NOW)
    return state


def build_monitor(workers: int = 3, tasks: int = 40) -> FakeMonitor:
    state = build_state(workers, tasks)
    monitor = FakeMonitor(state)
    sends_seen = any(task.sent is not None for task in state.tasks.values())
    monitor.queue_waits = queue_waits(state.tasks.values(), NOW, sends_seen)
    monitor.alerts.evaluate(state, None, now=NOW, stream_status=monitor.events.status)
    return monitor
