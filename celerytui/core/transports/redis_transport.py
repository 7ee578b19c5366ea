"""Redis (and Sentinel): the fast event lane for a single ``redis://`` / ``rediss://`` broker
(redis_lane.py), kombu's lane with a PING watchdog otherwise; queue depths by LLEN of every
priority list; a Redis result backend pushes stored results (ResultWatcher subscribes)."""

from __future__ import annotations

from typing import Any

from celerytui.core.queue_depth import QueueDepth
from celerytui.core.transports.base import EventLane, LaneHost, ResultHost, ResultReceiver
from celerytui.core.transports.lane_parts import HUNG_AFTER, PING_EVERY, receiver_connection
from celerytui.url_schemes import BROKER_SCHEMES_BY_TRANSPORT, RESULT_PUSH_SCHEMES, scheme_of

FAST_LANE_SCHEMES = ("redis", "rediss")


class RedisTransport:
    name = "redis"
    schemes = BROKER_SCHEMES_BY_TRANSPORT["redis"]

    def supports(self, url: str) -> bool:
        return scheme_of(url) in self.schemes

    def lane_name(self, url: str, fast: bool) -> str:
        return "redis" if fast and fast_lane_possible(url) else "kombu"

    def make_lane(self, host: LaneHost, lane: str) -> EventLane:
        if lane == "redis":
            from celerytui.core.transports.redis_lane import RedisEventLane

            return RedisEventLane(host)
        from celerytui.core.transports.kombu_lane import KombuEventLane

        return KombuEventLane(host, pinger=RedisPinger(host.app))  # Redis has no heartbeats

    def queue_depths(self, conn: Any, names: list[str]) -> list[QueueDepth]:
        """A queue is a list per priority step (kombu keys ``name`` and
        ``name\\x06\\x16<step>``); the depth is the sum of their LLENs, the split is kept."""
        channel = conn.default_channel
        steps = sorted(set(channel.priority_steps))
        with channel.conn_or_acquire() as client, client.pipeline() as pipe:
            # the client adds global_keyprefix to every key itself
            for name in names:
                for step in steps:
                    pipe.llen(channel._q_for_pri(name, step))
            sizes = pipe.execute()
        out = []
        for i, name in enumerate(names):
            row = sizes[i * len(steps) : (i + 1) * len(steps)]
            split = {step: int(n) for step, n in zip(steps, row, strict=True)}
            out.append(QueueDepth(name, messages=sum(split.values()), by_priority=split))
        return out

    def pushes_results(self, backend_url: str) -> bool:
        return backend_url.split("://", 1)[0].lower() in RESULT_PUSH_SCHEMES

    def result_receiver(self, host: ResultHost) -> ResultReceiver:
        from celerytui.core.transports.redis_results import RedisResultReceiver

        return RedisResultReceiver(host)


def fast_lane_possible(url: str) -> bool:
    """A single redis:// or rediss:// broker (no failover list, no sentinel), and redis-py with
    hiredis importable."""
    if ";" in url or url.split("://", 1)[0] not in FAST_LANE_SCHEMES:
        return False
    try:
        import celerytui.core.transports.redis_lane  # noqa: F401
    except ImportError:
        return False
    return True


class RedisPinger:
    """PING on a kombu Redis connection of its own, each bounded by HUNG_AFTER - PING_EVERY."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.conn: Any = None
        self.client: Any = None

    def ping(self) -> None:
        if self.client is None:
            self.conn = receiver_connection(self.app, socket_timeout=HUNG_AFTER - PING_EVERY)
            self.conn.ensure_connection(max_retries=0)
            self.client = self.conn.default_channel.client  # the channel PINGs as it opens
        self.client.ping()

    def close(self) -> None:
        if self.conn is not None:
            self.conn.release()
