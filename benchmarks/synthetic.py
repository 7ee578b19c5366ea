"""A deterministic synthetic Celery event stream, shaped exactly like EventReceiver's output.

Benchmarks and tests reuse it to feed ClusterState (or celery's own State) without a broker:
`generate_events(n, workers=8, seed=1)` yields batches (lists) of fresh event dicts — the same
seed gives the same stream. Fields follow celery 5: task-sent from the client
(celery/app/amqp.py), task-received (celery/worker/strategy.py), the others from
celery/worker/request.py, worker-heartbeat from celery/worker/heartbeat.py; the dispatcher adds
hostname, utcoffset, pid, clock, timestamp, and the receiver adds local_received.

The mix: ~82% of tasks succeed, 5% fail, 8% retry (then run again), 1% are revoked, 1% rejected,
~10% of new tasks start an order chain of three linked tasks; every worker sends a heartbeat
every `heartbeat_every` simulated seconds.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

START = 1_767_225_600.0  # 2026-01-01T00:00:00Z: a fixed epoch so streams are reproducible
CLIENT = "client@bastion"
CHAIN = (
    "celerytui.tasks.validate_order",
    "celerytui.tasks.process_payment",
    "celerytui.tasks.ship_order",
)
SEED_TASKS = (
    "celerytui.tasks.send_email",
    "celerytui.tasks.check_http_endpoint",
    "celerytui.tasks.check_disk_usage",
    "celerytui.tasks.risky_operation",
)
QUEUES = {
    "celerytui.tasks.check_http_endpoint": "http",
    "celerytui.tasks.check_disk_usage": "disk",
    "celerytui.tasks.process_payment": "secure",
}
TRACEBACK = (
    'Traceback (most recent call last):\n  File "celery/app/trace.py", line 453, in '
    'trace_task\n    R = retval = fun(*args, **kwargs)\n  File "proj/tasks.py", line 42,'
    " in {name}\n    raise {exc}\n{exc}\n"
)


class _Sim:
    """The simulation's state: clock, workers, tasks in flight."""

    def __init__(
        self, workers: int, seed: int, rate: float, names: int, heartbeat_every: float, start: float
    ) -> None:
        self.rng = random.Random(seed)
        self.now = start
        self.step = 1.0 / rate
        self.hosts = [f"celery@worker-{i:02d}" for i in range(max(1, workers))]
        self.pids = {h: 1000 + i for i, h in enumerate(self.hosts)}
        self.processed = dict.fromkeys(self.hosts, 0)
        self.active = dict.fromkeys(self.hosts, 0)
        self.clock = 0
        self.names = list(SEED_TASKS) + [f"proj.tasks.job_{k:03d}" for k in range(names)]
        self.heartbeat_every = heartbeat_every
        self.next_heartbeat = start
        self.inflight: list[dict] = []  # {"uuid", "name", "host", "stage", "retries", ...}
        self.tasks_started = 0

    def uuid(self) -> str:
        h = f"{self.rng.getrandbits(128):032x}"
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"

    def event(self, type_: str, hostname: str, **fields: object) -> dict:
        self.now += self.step
        self.clock += 1
        fields.update(
            hostname=hostname,
            utcoffset=0,
            pid=self.pids.get(hostname, 4242),
            clock=self.clock,
            timestamp=self.now - 0.0005,
            type=type_,
            local_received=self.now,
        )
        return fields

    def new_task(
        self,
        name: str | None = None,
        root: str | None = None,
        parent: str | None = None,
        host: str | None = None,
    ) -> dict:
        rng = self.rng
        if name is None:
            name = CHAIN[0] if rng.random() < 0.10 else rng.choice(self.names)
        uuid = self.uuid()
        self.tasks_started += 1
        return {
            "uuid": uuid,
            "name": name,
            "root": root or uuid,
            "parent": parent,
            "host": host or rng.choice(self.hosts),
            "stage": 0,
            "retries": 0,
            "args": self.args_for(name),
            "sender": CLIENT if parent is None else host,
        }

    def args_for(self, name: str) -> str:
        n = self.rng.randrange(100_000)
        if name.endswith("check_http_endpoint"):
            return f"('https://service-{n % 40}.example.com/health',)"
        if name.endswith("check_disk_usage"):
            return f"('db-{n % 12}.internal',)"
        if name.endswith("send_email"):
            return f"('user{n}@example.com', 'Your order {n} has shipped')"
        return f"({n}, {{'order_id': {n}, 'items': [{n % 7}, {n % 11}]}})"

    def result_for(self, task: dict) -> str:
        name, rng = task["name"], self.rng
        if name.endswith("check_http_endpoint"):
            up = rng.random() < 0.9
            url = task["args"][2:-3]
            return repr(
                {
                    "url": url,
                    "status": "UP" if up else "DOWN",
                    "status_code": 200 if up else 503,
                    "response_time": round(rng.uniform(0.01, 0.8), 4),
                }
            )
        if name.endswith("check_disk_usage"):
            used = rng.randrange(10, 95)
            return repr(
                {
                    "host": task["args"][2:-3],
                    "status": "OK",
                    "filesystem": "/dev/sda1",
                    "size_bytes": 100 * 2**30,
                    "used_bytes": used * 2**30,
                    "avail_bytes": (100 - used) * 2**30,
                    "use_percent": float(used),
                    "mount": "/",
                }
            )
        return repr({"ok": True, "value": rng.randrange(1_000_000)})

    def advance(self, task: dict) -> list[dict]:
        """The next event(s) of one task; sets task["stage"] = -1 when it is done."""
        rng, uuid, name, host = self.rng, task["uuid"], task["name"], task["host"]
        stage = task["stage"]
        task["stage"] = stage + 1
        if stage == 0:
            queue = QUEUES.get(name, "celery")
            return [
                self.event(
                    "task-sent",
                    task["sender"],
                    uuid=uuid,
                    root_id=task["root"],
                    parent_id=task["parent"],
                    name=name,
                    args=task["args"],
                    kwargs="{}",
                    retries=task["retries"],
                    eta=None,
                    expires=None,
                    queue=queue,
                    exchange="",
                    routing_key=queue,
                )
            ]
        if stage == 1:
            return [
                self.event(
                    "task-received",
                    host,
                    uuid=uuid,
                    name=name,
                    args=task["args"],
                    kwargs="{}",
                    root_id=task["root"],
                    parent_id=task["parent"],
                    retries=task["retries"],
                    eta=None,
                    expires=None,
                )
            ]
        if stage == 2:
            self.active[host] += 1
            return [self.event("task-started", host, uuid=uuid)]
        task["stage"] = -1
        self.active[host] = max(0, self.active[host] - 1)
        self.processed[host] += 1
        roll = rng.random()
        if (
            name.endswith("risky_operation") and task["retries"] < 3 and roll < 0.6
        ) or 0.82 <= roll < 0.90:
            exc = "ConnectionError('upstream timed out')"
            out = [
                self.event(
                    "task-retried",
                    host,
                    uuid=uuid,
                    exception=exc,
                    traceback=TRACEBACK.format(name=name.rsplit(".", 1)[-1], exc=exc),
                )
            ]
            task["retries"] += 1
            task["stage"] = 0 if task["retries"] < 4 else -1
            task["sender"] = host
            return out
        if roll < 0.82:
            out = [
                self.event(
                    "task-succeeded",
                    host,
                    uuid=uuid,
                    result=self.result_for(task),
                    runtime=round(rng.lognormvariate(-2.5, 1.0), 6),
                )
            ]
            if name in CHAIN[:2]:  # the worker sends the chain's next link
                nxt = self.new_task(
                    CHAIN[CHAIN.index(name) + 1],
                    root=task["root"],
                    parent=uuid,
                    host=rng.choice(self.hosts),
                )
                nxt["sender"] = host
                self.inflight.append(nxt)
            return out
        if roll < 0.95:
            exc = f"ValueError('bad input {rng.randrange(100)}')"
            return [
                self.event(
                    "task-failed",
                    host,
                    uuid=uuid,
                    exception=exc,
                    traceback=TRACEBACK.format(name=name.rsplit(".", 1)[-1], exc=exc),
                )
            ]
        if roll < 0.97:
            return [
                self.event(
                    "task-revoked", host, uuid=uuid, terminated=False, signum=None, expired=False
                )
            ]
        return [self.event("task-rejected", host, uuid=uuid, requeue=False)]

    def heartbeats(self) -> list[dict]:
        out = []
        for host in self.hosts:
            out.append(
                self.event(
                    "worker-heartbeat",
                    host,
                    freq=2.0,
                    sw_ident="py-celery",
                    sw_ver="5.5.3",
                    sw_sys="Linux",
                    active=self.active[host],
                    processed=self.processed[host],
                    loadavg=[round(self.rng.uniform(0, 4), 2) for _ in range(3)],
                )
            )
        return out


def generate_events(
    n: int,
    workers: int = 8,
    seed: int = 1,
    batch: int = 100,
    rate: float = 20_000.0,
    names: int = 20,
    concurrency: int = 64,
    heartbeat_every: float = 2.0,
    start: float = START,
) -> Iterator[list[dict]]:
    """Yield lists of up to `batch` fresh event dicts, `n` events in all.

    `rate` is simulated events per second (timestamps advance by 1/rate per event);
    `concurrency` is how many tasks are in flight at once (more means more interleaving).
    """
    sim = _Sim(workers, seed, rate, names, heartbeat_every, start)
    rng = sim.rng
    produced = 0
    out: list[dict] = []
    online = [
        sim.event(
            "worker-online",
            h,
            freq=heartbeat_every,
            sw_ident="py-celery",
            sw_ver="5.5.3",
            sw_sys="Linux",
            active=0,
            processed=0,
            loadavg=[0.0, 0.0, 0.0],
        )
        for h in sim.hosts
    ]
    pending = online
    while produced < n:
        if sim.now >= sim.next_heartbeat:
            sim.next_heartbeat += heartbeat_every
            pending = pending + sim.heartbeats()
        while len(sim.inflight) < concurrency:
            sim.inflight.append(sim.new_task())
        i = rng.randrange(len(sim.inflight))
        task = sim.inflight[i]
        pending = pending + sim.advance(task)
        if task["stage"] == -1:
            sim.inflight[i] = sim.inflight[-1]
            sim.inflight.pop()
        for ev in pending:
            out.append(ev)
            produced += 1
            if len(out) >= batch or produced >= n:
                yield out
                out = []
            if produced >= n:
                return
        pending = []
    if out:
        yield out
