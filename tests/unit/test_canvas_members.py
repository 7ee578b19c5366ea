"""Group membership read from a real (embedded) Redis: the canvas headers of the messages in a
queue and in kombu's ``unacked`` hash, hostile and malformed ones among them, the bounded scan,
the result metas naming a group, and the tree and words that show it (literally)."""

from __future__ import annotations

import base64
import json

import pytest
import redis
from celery import Celery

from celerytui.core.canvas_broker import scan_broker
from celerytui.core.canvas_members import CanvasFinder
from celerytui.core.canvas_summary import group_summary
from celerytui.core.chains import group_tree, unfinished
from celerytui.core.model import Task
from celerytui.widgets.chain_tree import node_label

pytestmark = pytest.mark.redis

QUEUE = "canvasq"
HOSTILE = "[red]evil[/red]\x1b[2J\n"


def message(headers: dict | None, body: object = None) -> bytes:
    """A message as kombu's Redis transport LPUSHes it."""
    raw = {
        "body": base64.b64encode(json.dumps(body or [[], {}, {}]).encode()).decode(),
        "content-encoding": "utf-8",
        "content-type": "application/json",
        "properties": {"body_encoding": "base64", "delivery_tag": "t"},
    }
    if headers is not None:
        raw["headers"] = headers
    return json.dumps(raw).encode()


def headers(task_id, group="g1", index=0, task="tasks.add", **more) -> dict:
    return {
        "id": task_id,
        "task": task,
        "group": group,
        "group_index": index,
        "root_id": task_id,
        "parent_id": None,
        **more,
    }


@pytest.fixture
def broker(redis_urls):
    url = redis_urls[0]
    app = Celery("canvas-test", broker=url, backend=redis_urls[1], set_as_current=False)
    client = redis.Redis.from_url(url)
    yield app, client
    client.close()
    app.close()


def test_hostile_and_malformed_messages_in_a_queue_are_skipped_or_kept_inert(broker):
    app, client = broker
    entries = [
        message(headers("a", index=0)),
        message(headers("b", index=1, task=HOSTILE, group=HOSTILE)),
        message(None),  # protocol 1: no headers
        message({"id": 42, "task": "x"}),  # an id that is no string
        message(headers("x" * 300)),  # longer than any id
        message(headers("c", index="2", parent_id=["p"])),  # wrong types: dropped fields
        message(headers("d", index=True)),  # a bool is no group index
        b"\xff\xfe not utf-8",
        b"{not json",
        b"[1, 2, 3]",
        b"[" * 100_000,  # nesting deep enough to break a naive reader
    ]
    for raw in entries:
        client.lpush(QUEUE, raw)
    client.hset(
        "unacked",
        mapping={
            "tag1": json.dumps([json.loads(message(headers("e", index=4))), "", QUEUE]),
            "tag2": b"garbage",
            "tag3": json.dumps([]),
        },
    )

    scan = scan_broker(app, [QUEUE], timeout=1.0)

    queued = {h.id: h for h in scan.queued}
    assert set(queued) == {"a", "b", "c", "d"}
    assert queued["b"].task == HOSTILE and queued["b"].group == HOSTILE  # kept, as text
    assert queued["c"].group_index is None and queued["c"].parent_id is None
    assert queued["d"].group_index is None
    assert [h.id for h in scan.reserved] == ["e"]
    assert scan.malformed == 7 + 2
    assert scan.notes == []


def test_the_scan_is_bounded_and_says_where_it_was_cut(broker):
    app, client = broker
    for i in range(30):
        client.lpush(QUEUE, message(headers(f"m{i}", index=i)))

    scan = scan_broker(app, [QUEUE], timeout=1.0, limit=10)

    assert sorted(h.id for h in scan.queued) == sorted(f"m{i}" for i in range(10))  # oldest
    assert scan.notes == [f"first 10 messages scanned (queue {QUEUE} cut)"]


def test_an_amqp_broker_is_not_read_and_says_only_finished_members_are_known():
    app = Celery("amqp-test", broker="amqp://guest:guest@127.0.0.1:1//", set_as_current=False)
    scan = scan_broker(app, ["celery"], timeout=1.0)
    assert not scan.readable
    assert scan.notes == [
        "broker amqp: queued and reserved members cannot be listed; only members with a "
        "stored result are known"
    ]


def test_finished_members_from_results_and_waiting_ones_from_the_broker_make_one_group(broker):
    app, client = broker
    backend = redis.Redis.from_url(app.conf.result_backend)
    for i, status in enumerate(("SUCCESS", "FAILURE")):
        meta = {"task_id": f"done{i}", "status": status, "result": None, "group_id": "g1"}
        backend.set(f"celery-task-meta-done{i}", json.dumps(meta))
    backend.set(  # another group's member, and a chord body (its parent is a member)
        "celery-task-meta-other",
        json.dumps({"task_id": "other", "status": "SUCCESS", "group_id": "g2"}),
    )
    backend.set(
        "celery-task-meta-body",
        json.dumps({"task_id": "body", "status": "PENDING", "group_id": "g1", "parent_id": "q4"}),
    )
    for i in range(2, 5):
        client.lpush(QUEUE, message(headers(f"q{i}", index=i)))
    client.lpush(QUEUE, message(headers("stranger", group=None)))

    found = CanvasFinder(app).find("q4", ["done0", "done1", "other", "body", "q3"], [QUEUE])

    assert found is not None and found.group_id == "g1"
    assert set(found.members) == {"done0", "done1", "q2", "q3", "q4"}
    assert found.expected == 5
    tree = group_tree(found, lambda uuid: None)  # the monitor saw none of them
    assert [n.task.uuid for n in tree.children] == ["q2", "q3", "q4", "done0", "done1"]
    assert sorted(unfinished(tree)) == ["q2", "q3", "q4"]
    assert group_summary(tree) == "5 members: 2 done (results), 3 queued (broker)"
    backend.close()


def test_a_hostile_group_and_member_name_are_drawn_literally(broker):
    app, client = broker
    client.lpush(QUEUE, message(headers("h1", group=HOSTILE, task=HOSTILE)))
    found = CanvasFinder(app).find("h1", [], [QUEUE])
    assert found is not None
    tree = group_tree(found, lambda uuid: None)
    group_text = node_label(tree, None).plain
    member_text = node_label(tree.children[0], None).plain
    assert "[red]" in group_text and "\x1b" not in group_text
    assert "[red]evil[/red]\\x1b[2J\\n" in member_text
    assert isinstance(tree.children[0].task, Task)


def test_a_hung_redis_costs_a_few_timeouts_and_is_said(tmp_path):
    """SIGSTOPped Redis (sockets open, no answer): the lookup gives up within its timeouts
    and says why, instead of hanging the detail's worker thread."""
    import time

    from tests.support.freezing import freeze, thaw
    from tests.support.services import RedisServer

    server = RedisServer().start()
    url = f"redis://127.0.0.1:{server.port}"
    app = Celery("hung", broker=f"{url}/0", backend=f"{url}/1", set_as_current=False)
    try:
        started = freeze(server.proc.pid)
        finder = CanvasFinder(app, timeout=1.0)
        found = finder.find("t1", ["t2", "t3"], [QUEUE])
        took = time.monotonic() - started
        print(f"\n[figure] lookup on a hung Redis: {took:.2f}s; {finder.problems}")
    finally:
        thaw(server.proc.pid)
        app.close()
        server.stop()
    assert found is None
    assert took < 6, f"the lookup took {took:.1f}s on a hung broker"
    backend_said, broker_said = sorted(finder.problems, key=lambda p: p.startswith("broker"))
    assert broker_said.startswith("broker unreachable (redis://127.0.0.1:")
    assert backend_said.startswith("result backend: ") and "Timeout" in backend_said


def test_with_real_ids_only_messages_naming_the_group_in_their_headers_are_members(broker):
    """Ids as celery makes them: the scan finds the task's own message by its id, then only
    the messages holding the group id are decoded; one that only mentions it (in its args)
    or that is the chord's body (its parent a member) is no member."""
    app, client = broker
    gid, other = "0d7c2a3e-1f4b-4c55-9e2a-6b1d3c4e5f60", "9a8b7c6d-0000-4c55-9e2a-6b1d3c4e5f61"
    ids = [f"{i:08d}-aaaa-4bbb-8ccc-000000000000" for i in range(4)]
    for i, task_id in enumerate(ids):
        client.lpush(QUEUE, message(headers(task_id, group=gid, index=i)))
    client.lpush(QUEUE, message(headers("mentions-it-0001", group=other), body=[[gid], {}, {}]))
    client.lpush(QUEUE, message(headers("body-of-chord-01", group=gid, parent_id=ids[3])))
    client.lpush(QUEUE, b"{not json but " + gid.encode())

    found = CanvasFinder(app).find(ids[2], [], [QUEUE])

    assert found is not None and found.group_id == gid
    assert set(found.members) == set(ids)
    assert found.notes == ["1 unreadable message skipped"]
