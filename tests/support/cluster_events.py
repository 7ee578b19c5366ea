"""Hand-written celery events for ClusterState tests, shaped like EventReceiver's output."""

from __future__ import annotations

T0 = 1_767_225_600.0  # a fixed epoch: 2026-01-01T00:00:00Z


class FakeClock:
    """An injectable clock tests move by hand."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        self.now += seconds
        return self.now


def task_event(
    kind: str,
    uuid: str,
    ts: float,
    hostname: str = "celery@w1",
    local_received: float | None = None,
    **fields: object,
) -> dict:
    """A task-<kind> event at `ts` (local_received defaults to ts)."""
    return {
        "type": f"task-{kind}",
        "uuid": uuid,
        "hostname": hostname,
        "timestamp": ts,
        "local_received": ts if local_received is None else local_received,
        "utcoffset": 0,
        "pid": 4321,
        "clock": int((ts - T0) * 10),
        **fields,
    }


def received(
    uuid: str,
    ts: float,
    name: str = "proj.add",
    args: str = "(2, 3)",
    kwargs: str = "{}",
    retries: int = 0,
    hostname: str = "celery@w1",
    **fields: object,
) -> dict:
    fields.setdefault("root_id", uuid)
    fields.setdefault("parent_id", None)
    return task_event(
        "received",
        uuid,
        ts,
        hostname,
        name=name,
        args=args,
        kwargs=kwargs,
        retries=retries,
        eta=None,
        expires=None,
        **fields,
    )


def sent(
    uuid: str, ts: float, name: str = "proj.add", queue: str = "celery", **fields: object
) -> dict:
    fields.setdefault("root_id", uuid)
    fields.setdefault("parent_id", None)
    fields.setdefault("args", "(2, 3)")
    fields.setdefault("kwargs", "{}")
    return task_event(
        "sent",
        uuid,
        ts,
        "client@bastion",
        name=name,
        queue=queue,
        exchange="",
        routing_key=queue,
        retries=0,
        eta=None,
        expires=None,
        **fields,
    )


def succeeded(
    uuid: str,
    ts: float,
    result: str = "5",
    runtime: float = 0.5,
    hostname: str = "celery@w1",
    **fields: object,
) -> dict:
    return task_event("succeeded", uuid, ts, hostname, result=result, runtime=runtime, **fields)


def failed(
    uuid: str, ts: float, exception: str = "ValueError('boom')", hostname: str = "celery@w1"
) -> dict:
    return task_event(
        "failed",
        uuid,
        ts,
        hostname,
        exception=exception,
        traceback=f"Traceback (most recent call last):\n{exception}\n",
    )


def heartbeat(
    hostname: str,
    local_received: float,
    freq: float = 2.0,
    active: int = 0,
    processed: int = 0,
    kind: str = "heartbeat",
) -> dict:
    return {
        "type": f"worker-{kind}",
        "hostname": hostname,
        "timestamp": local_received,
        "local_received": local_received,
        "utcoffset": 0,
        "pid": 100,
        "clock": 1,
        "freq": freq,
        "sw_ident": "py-celery",
        "sw_ver": "5.5.3",
        "sw_sys": "Linux",
        "active": active,
        "processed": processed,
        "loadavg": [0.5, 0.25, 0.1],
    }
