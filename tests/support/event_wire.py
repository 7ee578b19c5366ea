"""Celery events put straight onto a Redis broker's event channel, as kombu's fanout does.

A worker's event is a PUBLISH on ``/{db}.celeryev/<routing key>`` of a JSON envelope whose
``body`` is the base64 JSON event (or a list of them for ``task.multi``). Tests use this to send
exactly the events they want, good or malformed, and count what the monitor made of them.
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass

GOOD_NAME = "wire.good"


def channel_of(broker_url: str, routing_key: str = "task.multi") -> str:
    return f"/{broker_url.rsplit('/', 1)[1]}.celeryev/{routing_key}"


def envelope(data: bytes, content_type: str = "application/json", **changes) -> bytes:
    """A kombu Redis fanout message carrying ``data`` (base64), as a worker publishes it;
    ``changes`` replace its top-level fields."""
    message = {
        "body": base64.b64encode(data).decode(),
        "content-encoding": "utf-8",
        "content-type": content_type,
        "headers": {},
        "properties": {
            "delivery_mode": 2,
            "priority": 0,
            "body_encoding": "base64",
            "delivery_info": {"exchange": "celeryev", "routing_key": "task.multi"},
            "delivery_tag": "tag",
        },
    }
    message.update(changes)
    return json.dumps(message).encode()


def event_message(events: object) -> bytes:
    return envelope(json.dumps(events).encode())


def good_task(uuid: str, name: str = GOOD_NAME, host: str = "wire@test") -> list[dict]:
    """The four events of one task that ran and succeeded (a task.multi batch)."""
    now = time.time()
    base = {"uuid": uuid, "hostname": host, "utcoffset": 0, "pid": 1}
    return [
        {
            **base,
            "type": "task-received",
            "name": name,
            "args": "(1,)",
            "kwargs": "{}",
            "timestamp": now,
            "clock": 1,
        },
        {**base, "type": "task-started", "timestamp": now + 0.001, "clock": 2},
        {
            **base,
            "type": "task-succeeded",
            "runtime": 0.002,
            "result": "2",
            "timestamp": now + 0.002,
            "clock": 3,
        },
    ]


@dataclass(frozen=True)
class Malformed:
    label: str
    payload: bytes
    counted: int  # malformed messages / events the lane itself must count


def malformed_messages() -> list[Malformed]:
    """Every kind of bad message we know of. ``counted`` is what the lanes must count; the
    wrong-field events pass the lane (their uuid is a string) and the state decides."""
    deep = b"[" * 100_000 + b"]" * 100_000
    wrong_fields = {
        "type": "task-succeeded",
        "uuid": "wire-wrong-fields",
        "hostname": 7,
        "timestamp": "yesterday",
        "utcoffset": [],
        "clock": "x",
        "runtime": "fast",
        "name": 123,
        "args": {},
        "retries": "x",
        "result": {"a": [1]},
    }
    return [
        Malformed("not json", b"\x00\xffnot json at all", 1),
        Malformed("envelope is a list", b"[1, 2]", 1),
        Malformed("envelope without properties", json.dumps({"body": "e30="}).encode(), 1),
        Malformed("bad base64", envelope(b"", body="%%%not base64%%"), 1),
        Malformed("body not json", envelope(b"{broken"), 1),
        Malformed("pickle body", envelope(b"\x80\x04K\x01.", "application/x-python-serialize"), 1),
        Malformed("deep json body", envelope(deep), 1),
        Malformed("deep json envelope", deep, 1),
        Malformed("huge garbage body", envelope(b"x" * (8 << 20)), 1),
        Malformed("body a string", event_message("just a string"), 1),
        Malformed("type a list", event_message({"type": ["x"], "uuid": "u"}), 1),
        Malformed("uuid a list", event_message({"type": "task-succeeded", "uuid": ["x"]}), 1),
        Malformed("uuid a dict", event_message({"type": "task-started", "uuid": {"a": 1}}), 1),
        Malformed("uuid missing", event_message({"type": "task-received", "name": "n"}), 1),
        Malformed(
            "hostname a list",
            event_message({"type": "worker-heartbeat", "hostname": ["h"], "freq": 2}),
            1,
        ),
        Malformed(
            "multi with bad members",
            event_message([{"type": 5}, "x", None, {"type": "task-failed", "uuid": 5}]),
            4,
        ),
        Malformed("wrong types in every other field", event_message([wrong_fields]), 0),
        Malformed(
            "huge clock and timestamp",
            event_message(
                [
                    {
                        "type": "task-started",
                        "uuid": "wire-huge",
                        "hostname": "w@x",
                        "clock": 2**63,
                        "timestamp": 1e308,
                        "utcoffset": -1e308,
                    }
                ]
            ),
            0,
        ),
    ]


def publish_fuzz(client, broker_url: str, prefix: str) -> tuple[list[str], int]:
    """Each malformed message with a good task before and after it; returns the good uuids
    (in order) and how many malformed messages / events the lane must count."""
    channel = channel_of(broker_url)
    uuids = []
    counted = 0
    bad = malformed_messages()
    for i, message in enumerate([*bad, None]):
        uuid = f"{prefix}-{i:02d}"
        uuids.append(uuid)
        client.publish(channel, event_message(good_task(uuid)))
        if message is not None:
            client.publish(channel, message.payload)
            counted += message.counted
    # one huge but good task: args far past what the state keeps
    big = f"{prefix}-big"
    events = good_task(big)
    events[0]["args"] = "(" + "9" * (4 << 20) + ",)"
    client.publish(channel, event_message(events))
    uuids.append(big)
    return uuids, counted


def wait_subscribed(client, broker_url: str, timeout: float = 15.0) -> None:
    """Until a subscriber hears the event channel (PUBLISH says how many did): a worker
    heartbeat from a host nobody else uses, harmless to every consumer."""
    from tests.support.services import wait_for

    heartbeat = event_message(
        {
            "type": "worker-heartbeat",
            "hostname": "probe@wire",
            "freq": 60.0,
            "timestamp": time.time(),
            "utcoffset": 0,
        }
    )
    wait_for(
        lambda: client.publish(channel_of(broker_url), heartbeat) > 0,
        timeout,
        interval=0.2,
        what="a subscriber on the event channel",
    )
