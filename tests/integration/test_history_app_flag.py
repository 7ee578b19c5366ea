"""`-A proj` names the journal by proj's broker for readers as it does for writers: what
`celerytui -A proj record` recorded, `celerytui -A proj history` and `replay --summary` find
(they looked for the default broker's journal and said there was none)."""

from __future__ import annotations

import json
import signal
import subprocess
import uuid

import pytest
import redis

from tests.support.commands import CELERYTUI, LineReader, celerytui, command_env
from tests.support.event_wire import channel_of, event_message, good_task, wait_subscribed
from tests.support.services import wait_for

pytestmark = pytest.mark.redis


def test_history_and_replay_of_an_app_read_the_journal_its_recorder_wrote(redis_urls, tmp_path):
    broker, backend = redis_urls
    (tmp_path / "proj.py").write_text(
        "from celery import Celery\n"
        f"celery_app = Celery('proj', broker={broker!r}, backend={backend!r})\n"
    )
    env = command_env(XDG_DATA_HOME=str(tmp_path / "data"))
    record = subprocess.Popen(
        [*CELERYTUI, "-A", "proj", "record"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
        start_new_session=True,
    )
    said = LineReader(record.stderr)
    uuids = [f"proj-{uuid.uuid4().hex}" for _ in range(3)]

    def history() -> list[dict]:
        run = celerytui("-A", "proj", "history", "--json", env=env, cwd=tmp_path)
        assert run.returncode == 0, run.stderr  # not "no journal at ..." (the default broker's)
        return [json.loads(line) for line in run.stdout.splitlines()]

    try:
        said.wait_for(lambda line: "celerytui record: journal" in line, 30, what="the recorder")
        client = redis.Redis.from_url(broker)
        wait_subscribed(client, broker)
        events = [e for u in uuids for e in good_task(u, name="proj.add")]
        client.publish(channel_of(broker), event_message(events))
        rows = wait_for(
            lambda: (
                (found := [r for r in history() if r["uuid"] in uuids])
                and len(found) == 3
                and found
            ),
            30,
            what="the recorded tasks in `-A proj history`",
        )
    finally:
        record.send_signal(signal.SIGTERM)
        record.wait(timeout=20)
    assert {r["uuid"]: (r["name"], r["state"]) for r in rows} == {
        u: ("proj.add", "SUCCESS") for u in uuids
    }
    summary = celerytui("-A", "proj", "replay", "--summary", "--json", env=env, cwd=tmp_path)
    assert summary.returncode == 0, summary.stderr
    assert json.loads(summary.stdout)["by_name"].get("proj.add") == 3
