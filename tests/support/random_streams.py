"""Random, realistic celery event streams with what really happened, for differential tests.

`make_stream(StreamConfig(seed=...))` simulates a small cluster in real time: a client sends
tasks (some with an eta, some as 3-task chains), several workers receive and run them; a task
succeeds, fails, is revoked (before it starts, by expiry, or terminated), rejected, or retried
(the retry's next message is sent - and often received - before the old attempt's
task-retried, as celery does). Each worker stamps its events with its own clock (`skew`: a
constant offset per host, up to ±skew seconds); the monitor receives them a few ms later, so
neighbours arrive out of order; on top, `shuffle` swaps neighbours, `duplicates` delivers some
events twice and `drops` loses some. The stream stops at a horizon, so some tasks are still in
flight. Heartbeats, worker-online and worker-offline (with processed / loadavg) come too.

Each delivered event has a `Meta` (the attempt it belongs to, its real time) so
`truth(metas_and_events)` can say what a user should see: the state of the logically newest
event (a later attempt is newer than anything of an earlier one), its worker, the largest
retries, the newest attempt's eta, the result and the newest exception. Event dicts are fresh
and shaped like EventReceiver's output; celery's State mutates them, so give it copies.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime

START = 1_767_225_600.0
CLIENT = "gen4242@bastion"
NAMES = ("proj.tasks.add", "proj.tasks.send_email", "proj.tasks.resize", "proj.tasks.sync")
CHAIN = ("proj.tasks.validate", "proj.tasks.pay", "proj.tasks.ship")
EVENT_STATE = {
    "task-received": "RECEIVED",
    "task-started": "STARTED",
    "task-succeeded": "SUCCESS",
    "task-failed": "FAILURE",
    "task-retried": "RETRY",
    "task-revoked": "REVOKED",
    "task-rejected": "REJECTED",
}


@dataclass(frozen=True)
class StreamConfig:
    seed: int
    workers: int = 6
    skew: float = 0.0  # each host's clock is off by a constant in [-skew, +skew] seconds
    tasks: int = 150
    shuffle: float = 0.0  # chance an event swaps places with its next neighbour
    duplicates: float = 0.0  # chance an event is delivered twice (a little later)
    drops: float = 0.0  # chance an event is lost
    horizon: float = 0.95  # fraction of the simulated time that is delivered


@dataclass(frozen=True)
class Meta:
    uuid: str | None  # None for worker events
    attempt: int
    real: float  # when it happened, by the true clock


@dataclass
class Stream:
    events: list[dict] = field(default_factory=list)
    metas: list[Meta] = field(default_factory=list)
    hosts: list[str] = field(default_factory=list)


class _Sim:
    def __init__(self, cfg: StreamConfig) -> None:
        self.cfg = cfg
        self.rng = random.Random(cfg.seed)
        self.hosts = [f"celery@w{i}" for i in range(cfg.workers)]
        skew = cfg.skew
        self.offset = {h: self.rng.uniform(-skew, skew) for h in [*self.hosts, CLIENT]}
        self.clock = 0
        self.raw: list[tuple[float, dict, Meta]] = []  # (real time, event, meta)
        self.processed = dict.fromkeys(self.hosts, 0)

    def uuid(self) -> str:
        return f"{self.rng.getrandbits(128):032x}"

    def emit(
        self, real: float, kind: str, host: str, uuid: str | None, attempt: int, **fields: object
    ) -> None:
        self.clock += 1
        ev = {
            "type": kind,
            "hostname": host,
            "utcoffset": 0,
            "pid": 100 + len(host),
            "clock": self.clock,
            "timestamp": real + self.offset.get(host, 0.0),
            **fields,
        }
        if uuid is not None:
            ev["uuid"] = uuid
        self.raw.append((real, ev, Meta(uuid, attempt, real)))

    def eta(self, when: float) -> str:
        return datetime.fromtimestamp(when, UTC).isoformat()

    def task(
        self,
        t: float,
        name: str,
        root: str | None = None,
        parent: str | None = None,
        sender: str = CLIENT,
    ) -> None:
        rng, uuid = self.rng, self.uuid()
        root = root or uuid
        args = f"({rng.randrange(1000)},)"
        eta = self.eta(t + 0.5) if rng.random() < 0.1 else None
        expires = self.eta(t + 60) if rng.random() < 0.05 else None
        common = {"name": name, "args": args, "kwargs": "{}", "root_id": root, "parent_id": parent}
        attempt, host = 0, rng.choice(self.hosts)
        self.emit(
            t,
            "task-sent",
            sender,
            uuid,
            0,
            retries=0,
            eta=eta,
            expires=expires,
            queue="celery",
            exchange="",
            routing_key="celery",
            **common,
        )
        t += rng.uniform(0.001, 0.02)
        while True:
            self.emit(
                t,
                "task-received",
                host,
                uuid,
                attempt,
                retries=attempt,
                eta=eta,
                expires=expires,
                **common,
            )
            roll = rng.random()
            if roll < 0.02:
                self.emit(
                    t + 0.001,
                    "task-revoked",
                    host,
                    uuid,
                    attempt,
                    terminated=False,
                    signum=None,
                    expired=expires is not None,
                )
                return
            if roll < 0.03:
                self.emit(t + 0.001, "task-rejected", host, uuid, attempt, requeue=False)
                return
            t = max(t + rng.uniform(0.0005, 0.01), START if eta is None else _real(eta))
            self.emit(t, "task-started", host, uuid, attempt)
            t += rng.uniform(0.002, 0.2)
            roll = rng.random()
            if roll < 0.7 or (roll < 0.85 and attempt >= 3):
                self.processed[host] += 1
                self.emit(
                    t,
                    "task-succeeded",
                    host,
                    uuid,
                    attempt,
                    result=repr({"value": rng.randrange(10**6)}),
                    runtime=round(rng.uniform(0.002, 0.2), 6),
                )
                if name in CHAIN[:2]:
                    nxt = CHAIN[CHAIN.index(name) + 1]
                    self.task(t + rng.uniform(0.0005, 0.005), nxt, root, uuid, host)
                return
            if roll < 0.85:
                self.processed[host] += 1
                exc = f"ValueError('bad input {rng.randrange(100)}')"
                self.emit(
                    t,
                    "task-failed",
                    host,
                    uuid,
                    attempt,
                    exception=exc,
                    traceback=f"Traceback (most recent call last):\n{exc}\n",
                )
                return
            if roll < 0.87:
                self.emit(
                    t,
                    "task-revoked",
                    host,
                    uuid,
                    attempt,
                    terminated=True,
                    signum=15,
                    expired=False,
                )
                return
            # retry: the next message goes out first, task-retried follows a little later
            self.processed[host] += 1
            attempt += 1
            eta = self.eta(t + rng.uniform(0.05, 0.3)) if rng.random() < 0.5 else None
            self.emit(
                t,
                "task-sent",
                host,
                uuid,
                attempt,
                retries=attempt,
                eta=eta,
                expires=expires,
                queue="celery",
                exchange="",
                routing_key="celery",
                **common,
            )
            exc = f"ConnectionError('attempt {attempt - 1} timed out')"
            self.emit(
                t + rng.uniform(0.0, 0.03),
                "task-retried",
                host,
                uuid,
                attempt - 1,
                exception=exc,
                traceback=f"Traceback (most recent call last):\n{exc}\n",
            )
            host = rng.choice(self.hosts)
            t += rng.uniform(0.001, 0.02)

    def workers(self, end: float) -> None:
        rng = self.rng
        for host in self.hosts:
            self.emit(
                START,
                "worker-online",
                host,
                None,
                0,
                freq=2.0,
                sw_ident="py-celery",
                sw_ver="5.5.3",
                sw_sys="Linux",
                active=0,
                processed=0,
                loadavg=[0.0, 0.0, 0.0],
            )
            t = START + rng.uniform(0.5, 2.0)
            while t < end:
                self.emit(
                    t,
                    "worker-heartbeat",
                    host,
                    None,
                    0,
                    freq=2.0,
                    sw_ident="py-celery",
                    sw_ver="5.5.3",
                    sw_sys="Linux",
                    active=rng.randrange(4),
                    processed=rng.randrange(500),
                    loadavg=[round(rng.uniform(0, 4), 2) for _ in range(3)],
                )
                t += 2.0
            if rng.random() < 0.3:
                self.emit(
                    end - 0.01,
                    "worker-offline",
                    host,
                    None,
                    0,
                    freq=2.0,
                    sw_ident="py-celery",
                    sw_ver="5.5.3",
                    sw_sys="Linux",
                    active=0,
                    processed=self.processed[host] + 1000,
                    loadavg=[round(rng.uniform(0, 4), 2) for _ in range(3)],
                )


def _real(eta: str) -> float:
    return datetime.fromisoformat(eta).timestamp()


def make_stream(cfg: StreamConfig) -> Stream:
    """The delivered events of one simulated run, in arrival order, with their metas."""
    sim = _Sim(cfg)
    rng = sim.rng
    t = START + 0.01
    for _ in range(cfg.tasks):
        name = CHAIN[0] if rng.random() < 0.15 else rng.choice(NAMES)
        sim.task(t, name)
        t += rng.expovariate(1 / 0.02)
    end = START + (t - START) * cfg.horizon
    sim.workers(end)
    arrivals = []
    for real, ev, meta in sim.raw:
        if real >= end:
            continue
        arrive = real + rng.uniform(0.0, 0.005)
        arrivals.append((arrive, ev, meta))
        if rng.random() < cfg.duplicates:
            arrivals.append((arrive + rng.uniform(0.0, 0.05), dict(ev), meta))
    arrivals.sort(key=lambda a: a[0])
    for i in range(len(arrivals) - 1):
        if rng.random() < cfg.shuffle:
            arrivals[i], arrivals[i + 1] = arrivals[i + 1], arrivals[i]
    stream = Stream(hosts=list(sim.hosts))
    for arrive, ev, meta in arrivals:
        if rng.random() < cfg.drops:
            continue
        ev["local_received"] = arrive
        stream.events.append(ev)
        stream.metas.append(meta)
    return stream


@dataclass
class Truth:
    state: str = "PENDING"
    worker: str | None = None
    retries: int = 0
    eta: str | None = None
    result: str | None = None
    exception: str | None = None


def truth(pairs: list[tuple[Meta, dict]]) -> Truth:
    """What a user should see for one task, from the events of it a monitor got."""
    out = Truth()
    newest = newest_received = newest_sent = newest_exc = None
    reason = None
    for meta, ev in pairs:
        kind = ev["type"]
        if kind == "task-revoked":  # why it was revoked, when nothing else says
            reason = "expired" if ev["expired"] else "terminated" if ev["terminated"] else None
        key = (meta.attempt, meta.real)
        if kind in ("task-sent", "task-received"):
            out.retries = max(out.retries, ev["retries"])
        if kind == "task-sent":
            if newest_sent is None or key >= newest_sent[0]:
                newest_sent = (key, ev)
            continue
        if kind == "task-received" and (newest_received is None or key >= newest_received[0]):
            newest_received = (key, ev)
        if kind in ("task-failed", "task-retried") and (newest_exc is None or key >= newest_exc[0]):
            newest_exc = (key, ev)
        if kind == "task-succeeded":
            out.result = ev["result"]
        if newest is None or key >= newest[0]:
            newest = (key, ev)
    if newest is not None:
        out.state = EVENT_STATE[newest[1]["type"]]
        out.worker = newest[1]["hostname"]
    if newest_received is not None and (
        newest_sent is None or newest_received[0][0] >= newest_sent[0][0]
    ):
        out.eta = newest_received[1]["eta"]
    elif newest_sent is not None:
        out.eta = newest_sent[1]["eta"]
    out.exception = newest_exc[1]["exception"] if newest_exc is not None else reason
    return out
