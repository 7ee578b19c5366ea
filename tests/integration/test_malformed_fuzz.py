"""Malformed events never end a command: the same bad messages, put straight onto a real Redis
broker's event channel between good ones, go through both lanes, `celerytui tail`,
`status --json`, the exporter and the TUI. Each keeps running, shows every good task, and
counts the bad ones."""

from __future__ import annotations

import json
import urllib.request

import pytest
import redis
from prometheus_client.parser import text_string_to_metric_families

from celerytui.config import load_settings
from celerytui.core.events import EventStream
from celerytui.tasks import make_celery_app
from tests.support.commands import LineReader, start_celerytui
from tests.support.event_wire import publish_fuzz, wait_subscribed
from tests.support.services import free_port, stop_process, wait_for

pytestmark = pytest.mark.redis

LANES = [pytest.param(False, id="kombu"), pytest.param(True, id="fast")]


@pytest.fixture
def broker(redis_urls):
    """(broker_url, backend_url, a redis client on the broker's server)."""
    broker_url, backend_url = redis_urls
    client = redis.Redis.from_url(broker_url)
    yield broker_url, backend_url, client
    client.close()


@pytest.mark.parametrize("fast", LANES)
def test_both_lanes_count_bad_messages_and_keep_their_session(fast, broker):
    broker_url, backend_url, client = broker
    app = make_celery_app(load_settings(broker_url=broker_url, result_backend=backend_url))
    stream = EventStream(app, read_only=True, fast_redis=fast)
    stream.start()
    try:
        wait_for(lambda: stream.status.connected, 15, what="stream connected")
        wait_subscribed(client, broker_url)
        uuids, counted = publish_fuzz(client, broker_url, "lane")
        seen: set[str] = set()

        def all_good_arrived() -> bool:
            seen.update(e["uuid"] for e in stream.drain() if e["type"] == "task-succeeded")
            return set(uuids) <= seen

        wait_for(all_good_arrived, 30, what="every good task after the bad messages")
        wait_for(lambda: stream.malformed >= counted, 10, what="the bad messages counted")
        status = stream.status
        assert status.malformed == counted  # each bad message or event counted once
        # one session throughout: no bad message ended it (events in a reconnect gap are lost)
        assert status.connected and status.reconnects == 0 and status.last_error is None
    finally:
        stream.stop()
        app.close()


def test_tail_shows_the_good_tasks_and_notes_the_bad_ones(broker):
    broker_url, backend_url, client = broker
    proc = start_celerytui("tail", "-b", broker_url, "--result-backend", backend_url)
    out, err = LineReader(proc.stdout), LineReader(proc.stderr)
    try:
        err.wait_for(lambda line: "following" in line, 20, what="tail to follow")
        wait_subscribed(client, broker_url)
        uuids, counted = publish_fuzz(client, broker_url, "tail")
        for uuid in uuids:
            out.wait_for(
                lambda line, u=uuid: u in line and "SUCCESS" in line,
                30,
                what=f"the SUCCESS line of {uuid}",
            )
        # "celerytui tail: skipped 3 malformed events (19 in all)", at most every 5 s
        err.wait_for(
            lambda line: "malformed" in line and _in_all(line) >= counted,
            15,
            what=f"a note of at least {counted} malformed events",
        )
        assert proc.poll() is None  # still following
    finally:
        stop_process(proc)
    assert not any("Traceback" in line for line in err.lines)


def _in_all(note: str) -> int:
    return int(note.rsplit("(", 1)[1].split()[0])


def test_status_json_counts_the_bad_ones(broker):
    broker_url, backend_url, client = broker
    proc = start_celerytui(
        "status", "--json", "--listen", "12", "-b", broker_url, "--result-backend", backend_url
    )
    try:
        wait_subscribed(client, broker_url, timeout=10)
        uuids, counted = publish_fuzz(client, broker_url, "status")
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        stop_process(proc)
    report = json.loads(stdout)
    assert report["broker"]["reachable"] is True
    assert report["tasks"]["by_name"]["wire.good"]["SUCCESS"] == len(uuids)
    assert report["tasks"]["malformed"] >= counted
    assert "Traceback" not in stderr


def _metrics(port: int) -> dict[str, float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    values: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if (
                sample.name == "celery_task_succeeded_total"
                and sample.labels.get("name") != "wire.good"
            ):
                continue
            values[sample.name] = values.get(sample.name, 0.0) + sample.value
    return values


def test_exporter_counts_the_bad_ones_and_stays_healthy(broker):
    broker_url, backend_url, client = broker
    port = free_port()
    proc = start_celerytui(
        "exporter", "--port", str(port), "-b", broker_url, "--result-backend", backend_url
    )
    err = LineReader(proc.stderr)
    try:
        err.wait_for(
            lambda line: f"127.0.0.1:{port}/metrics" in line, 20, what="exporter to listen"
        )
        wait_for(
            lambda: _metrics(port).get("celerytui_broker_connected") == 1,
            15,
            what="exporter connected",
        )
        wait_subscribed(client, broker_url)
        uuids, counted = publish_fuzz(client, broker_url, "exporter")
        wait_for(
            lambda: _metrics(port).get("celery_task_succeeded_total") == len(uuids),
            30,
            what="every good task counted",
        )
        metrics = wait_for(
            lambda: (m := _metrics(port))["celerytui_events_malformed_total"] >= counted and m,
            10,
            what="the bad messages counted",
        )
        assert metrics["celerytui_broker_connected"] == 1
        assert metrics["celerytui_broker_reconnects_total"] == 0
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
            assert response.status == 200
        assert proc.poll() is None
    finally:
        stop_process(proc)


async def test_tui_header_counts_the_bad_ones(broker):
    from celerytui.app import make_app
    from tests.ui.conftest import wait_until
    from tests.ui.screen_text import screen_text

    broker_url, backend_url, client = broker
    app = make_app(load_settings(broker_url=broker_url, result_backend=backend_url, read_only=True))
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_until(
            pilot, lambda: "● connected" in screen_text(app), timeout=15, what="connected"
        )
        wait_subscribed(client, broker_url)
        uuids, counted = publish_fuzz(client, broker_url, "tui")
        await wait_until(
            pilot,
            lambda: all(u in app.monitor.state.tasks for u in uuids),
            timeout=30,
            what="every good task in the TUI's state",
        )

        def header_count() -> int:
            header = screen_text(app).splitlines()[0]
            if " malformed" not in header:
                return 0
            return int(header.split(" malformed")[0].split()[-1].replace(",", ""))

        await wait_until(
            pilot,
            lambda: header_count() >= counted,
            timeout=10,
            what="the header's malformed figure",
        )
        await pilot.press("2")  # still answering keys: the tasks screen lists the good tasks
        await wait_until(
            pilot, lambda: "wire.good" in screen_text(app), timeout=10, what="the good tasks listed"
        )
        assert "● connected" in screen_text(app)
