"""The journal when its storage fails: a full disk (a small tmpfs) and a PostgreSQL that goes
down (a throwaway cluster of our own, never the machine's). The live view goes on, the error is
one clear line, what cannot be buffered is counted as dropped, and writing resumes by itself."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest
import redis

from benchmarks.synthetic import generate_events
from celerytui.config import load_settings
from celerytui.core.journal import open_store
from celerytui.core.journal.recorder import Recorder, attach
from celerytui.core.monitor import Monitor
from celerytui.core.state import ClusterState
from tests.support.event_wire import channel_of, event_message, good_task, wait_subscribed
from tests.support.services import free_port, service_missing, wait_for
from tests.support.small_disk import fill, small_tmpfs


@pytest.fixture
def small_disk():
    """A 2 MB tmpfs, unmounted after the test."""
    with small_tmpfs("2m") as where:
        yield where


def test_a_full_disk_pauses_the_journal_not_the_live_view(small_disk, redis_urls):
    broker, backend = redis_urls
    spec = str(small_disk / "journal.sqlite3")
    settings = load_settings(broker_url=broker, result_backend=backend, store=spec)
    monitor = Monitor(settings)
    recorder = attach(monitor, settings, holder="test", flush_interval=0.2)
    monitor.start(poll=False)
    monitor.run_in_thread()
    client = redis.Redis.from_url(broker)
    sent: list[str] = []

    def publish(n: int, tag: str) -> None:
        for _ in range(n):
            uuids = [f"{tag}-{uuid.uuid4().hex}" for _ in range(5)]
            events = [e for u in uuids for e in good_task(u, name=f"disk.{os.urandom(8).hex()}")]
            for event in events:
                event["args"] = repr(os.urandom(100).hex())  # incompressible
            client.publish(channel_of(broker), event_message(events))
            sent.extend(uuids)

    try:
        wait_subscribed(client, broker)
        publish(20, "before")
        wait_for(lambda: recorder.status.events_recorded >= 300, 15, what="first events written")
        fill(small_disk / "filler")
        publish(60, "full")
        wait_for(lambda: recorder.status.last_error, 20, what="the journal to say the disk is full")
        error = recorder.status.last_error
        assert "full" in error and "\n" not in error and spec in error
        # the live view goes on: the monitor has every task, the journal holds them for later
        wait_for(lambda: sent[-1] in monitor.state.tasks, 15, what="the live view to go on")
        assert recorder.status.pending > 0 and recorder.status.events_dropped == 0
        (small_disk / "filler").unlink()  # space is back
        wait_for(
            lambda: recorder.status.last_error is None and recorder.status.pending == 0,
            20,
            what=f"writing to resume ({recorder.status})",
        )
    finally:
        monitor.stop()
    check = sqlite3.connect(spec)
    assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    check.close()
    reader = open_store(spec, cluster="x", write=False)
    recorded = {e["uuid"] for e in reader.iter_events(0) if "uuid" in e}
    rows = {r.uuid for r in reader.find_tasks(limit=10**6)}
    reader.close()
    assert set(sent) <= recorded and set(sent) <= rows  # nothing lost, nothing corrupt


class ThrowawayPostgres:
    """A PostgreSQL cluster of our own (initdb as the postgres user) on a free port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="ctui-pg-"))
        self.data = self.dir / "data"
        shutil.chown(self.dir, "postgres", "postgres")

    def _as_postgres(self, *argv: str, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["runuser", "-u", "postgres", "--", *argv],
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def init(self) -> None:
        done = self._as_postgres("initdb", "-A", "trust", "-U", "postgres", "-D", str(self.data))
        if done.returncode != 0:
            service_missing(f"initdb ({done.stderr.strip()[-200:]})")

    def start(self) -> None:
        opts = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        done = self._as_postgres(
            "pg_ctl", "-D", str(self.data), "-o", opts, "-w", "-l", str(self.dir / "log"), "start"
        )
        assert done.returncode == 0, done.stderr + (self.dir / "log").read_text()[-500:]

    def stop(self) -> None:
        self._as_postgres("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"


@pytest.fixture
def throwaway_pg():
    if os.geteuid() != 0 or not shutil.which("pg_ctl") or not shutil.which("runuser"):
        service_missing("pg_ctl and root (a throwaway PostgreSQL cluster)")
    pg = ThrowawayPostgres()
    try:
        pg.init()
        pg.start()
        yield pg
    finally:
        pg.cleanup()


def test_postgresql_down_buffers_drops_and_reconnects(throwaway_pg):
    store = open_store(throwaway_pg.url, cluster="x", write=True)
    recorder = Recorder(store, max_pending=3_000, flush_interval=0.2).start()
    state = ClusterState()
    batches = list(generate_events(12_000, batch=500))
    noted = 0

    def note(some: list) -> None:
        nonlocal noted
        for events in some:
            recorder.note(events, state.apply(events), state)
            noted += len(events)

    try:
        note(batches[:4])
        wait_for(lambda: recorder.status.events_recorded == noted, 15, what="first writes")
        throwaway_pg.stop()
        note(batches[4:6])
        wait_for(lambda: recorder.status.last_error, 20, what="the journal to notice")
        assert throwaway_pg.url.split("@")[1] in recorder.status.last_error
        note(batches[6:])  # far more than the buffer holds
        status = recorder.status
        assert status.pending <= 3_000  # bounded
        assert status.events_dropped >= noted - 2_000 - 3_000  # counted, never blocking
        throwaway_pg.start()
        wait_for(
            lambda: recorder.status.last_error is None and recorder.status.pending == 0,
            30,
            what="a reconnect and the buffer written",
        )
        note(batches[-1:])  # and it goes on
        wait_for(lambda: recorder.status.pending == 0, 15, what="new events written")
    finally:
        recorder.stop()
    status = recorder.status
    reader = open_store(throwaway_pg.url, cluster="x", write=False)
    in_store = sum(1 for _ in reader.iter_events(0))
    reader.close()
    assert in_store == status.events_recorded == noted - status.events_dropped
    assert status.events_dropped > 0
