"""A real `celerytui record` process SIGKILLed in the middle of a burst: the store opens, at
most about the last second is missing, a restarted recorder takes over at once (the dead
holder's lease is free) and appends again, and no task has two rows."""

from __future__ import annotations

import os
import signal
import sqlite3
import threading
import time
import uuid

import redis

from celerytui.core.journal import open_store
from tests.support.commands import LineReader, celerytui, command_env, start_celerytui
from tests.support.event_wire import channel_of, event_message, good_task, wait_subscribed
from tests.support.services import stop_process, wait_for

TASKS_PER_MESSAGE = 10  # a task.multi message: 30 events


def _recorder(broker: str, backend: str, store: str, env: dict):
    proc = start_celerytui(
        "record", "-b", broker, "--result-backend", backend, "--store", store, env=env
    )
    err = LineReader(proc.stderr)
    err.wait_for(lambda line: line.startswith("celerytui record: journal"), 30, "record started")
    return proc, err


class Burst:
    """Publishes task.multi messages of finished tasks until stopped; remembers when each
    task was published."""

    def __init__(self, client: redis.Redis, broker: str, tag: str) -> None:
        self.client, self.channel, self.tag = client, channel_of(broker), tag
        self.published: list[tuple[float, str]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            uuids = [f"{self.tag}-{uuid.uuid4().hex}" for _ in range(TASKS_PER_MESSAGE)]
            events = [e for u in uuids for e in good_task(u, name=f"burst.{self.tag}")]
            self.client.publish(self.channel, event_message(events))
            now = time.time()
            self.published.extend((now, u) for u in uuids)
            self._stop.wait(0.002)

    def __enter__(self) -> Burst:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)


def _tasks_in(store: str) -> dict[str, set[str]]:
    """task uuid -> event types recorded for it."""
    reader = open_store(store, cluster="x", write=False)
    try:
        seen: dict[str, set[str]] = {}
        for event in reader.iter_events(0):
            if "uuid" in event:
                seen.setdefault(event["uuid"], set()).add(event["type"])
        return seen
    finally:
        reader.close()


def test_sigkill_mid_burst_then_restart(redis_urls, tmp_path):
    broker, backend = redis_urls
    store = str(tmp_path / "journal.sqlite3")
    env = command_env(XDG_DATA_HOME=str(tmp_path / "data"))
    client = redis.Redis.from_url(broker)
    proc, _ = _recorder(broker, backend, store, env)
    try:
        wait_subscribed(client, broker)
        with Burst(client, broker, "first") as first:
            wait_for(lambda: len(first.published) > 3_000, 30, what="a burst under way")
            time.sleep(1.0)  # mid-burst: let it run at full speed for a moment
            os.killpg(proc.pid, signal.SIGKILL)
            killed_at = time.time()
            proc.wait(10)
        # the store opens, is whole, and holds all but about the last second
        check = sqlite3.connect(store)
        assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        check.close()
        recorded = _tasks_in(store)
        published = {u for _, u in first.published}
        assert set(recorded) <= published
        older = [u for t, u in first.published if t < killed_at - 1.0]
        missing = [u for u in older if u not in recorded]
        assert older and not missing, f"{len(missing)} of {len(older)} tasks lost"
        lost_window = killed_at - min(
            (t for t, u in first.published if u not in recorded), default=killed_at
        )
        print(f"\nSIGKILL lost the last {lost_window:.2f} s of the burst")

        # a new recorder takes over at once (the holder is dead) and appends
        proc, err = _recorder(broker, backend, store, env)
        # one writer per store: a third recorder is refused in one line naming the holder
        third = celerytui(
            "record", "-b", broker, "--result-backend", backend, "--store", store, env=env
        )
        assert third.returncode == 2
        assert third.stderr.strip().count("\n") == 0
        assert f"being written by celerytui record (pid {proc.pid} on" in third.stderr
        wait_subscribed(client, broker)
        with Burst(client, broker, "second") as second:
            wait_for(lambda: len(second.published) > 500, 30, what="a second burst")
        last = second.published[-1][1]
        wait_for(lambda: last in _tasks_in(store), 15, what="the second burst recorded")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
        err.wait_for(lambda line: "events recorded" in line, 5, "the closing line")
        recorded = _tasks_in(store)
        assert all(u in recorded for _, u in second.published)
        assert all(
            recorded[u] == {"task-received", "task-started", "task-succeeded"}
            for _, u in second.published
        )
        reader = open_store(store, cluster="x", write=False)
        rows = reader.find_tasks(limit=10**7)
        reader.close()
        uuids = [r.uuid for r in rows]
        assert len(uuids) == len(set(uuids))  # one row per task, across the restart
        assert set(uuids) == set(recorded)
        assert {r.state for r in rows if r.uuid.startswith("second-")} == {"SUCCESS"}
    finally:
        stop_process(proc)
