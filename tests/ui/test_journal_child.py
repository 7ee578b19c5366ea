"""The TUI's recording runs in a child process (celerytui/journal_child.py), on real parts: a
real worker, `celerytui record`, a second dashboard in a pseudo-terminal, a full tmpfs.

What a user sees or gets: the events land in the journal, written by the child (the lease
names its pid), with no secret on its command line; `q` leaves no process; another writer
holding the store gives the one notice "...records this cluster; this TUI only reads it";
the child dies with a SIGKILLed TUI; a full disk is one notice, and its end another."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import uuid
from pathlib import Path

import redis

from celerytui.app import make_app
from celerytui.config import load_settings
from celerytui.core.journal import open_store
from celerytui.tasks import make_celery_app
from tests.support.commands import CELERYTUI, ROOT, command_env
from tests.support.event_wire import channel_of, event_message, good_task, wait_subscribed
from tests.support.services import stop_process, wait_for
from tests.support.small_disk import fill, small_tmpfs
from tests.support.tui_process import TuiProcess, alive, cmdline
from tests.ui.conftest import wait_until

SECRET = "Tk9HookSecret"  # a webhook token: in the settings the child gets, never on its argv


def _notices(app) -> list[str]:
    """Every notice the app has shown (toasts expire; this list keeps them)."""
    said = getattr(app, "_said", None)
    if said is None:
        said = app._said = []
        notify = app.notify

        def keep(message: str, **kwargs) -> None:
            said.append(message)
            notify(message, **kwargs)

        app.notify = keep
    return said


def _lease(store: str) -> tuple[str, int] | None:
    """(holder, pid) of the store's writer, as the lease row says."""
    db = sqlite3.connect(store)
    try:
        row = db.execute("SELECT holder, pid FROM lease WHERE id = 1").fetchone()
    except sqlite3.OperationalError:
        return None
    finally:
        db.close()
    return (row[0], row[1]) if row else None


def _recording(app) -> bool:
    recorder = app._recorder
    return recorder is not None and recorder.status.recording


def _recorded(store: str, uuids: list[str]) -> bool:
    reader = open_store(store, cluster="x", write=False)
    try:
        return {r.uuid for r in reader.find_tasks(limit=1000)} >= set(uuids)
    finally:
        reader.close()


async def test_the_child_records_keeps_secrets_off_argv_and_q_stops_it(ui_settings, tmp_path):
    store = str(tmp_path / "journal.sqlite3")
    settings = ui_settings(store=store, alert_webhook=f"http://127.0.0.1:9/hook/{SECRET}")
    client = make_celery_app(settings)
    app = make_app(settings, record=True)
    _notices(app)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_until(pilot, lambda: _recording(app), 30, "the recorder process")
            recorder = app._recorder
            pid = recorder.pid
            argv = cmdline(pid)
            assert argv[1:] == ["-m", "celerytui.journal_child"]
            environ = Path(f"/proc/{pid}/environ").read_bytes()
            assert SECRET.encode() not in environ and SECRET not in " ".join(argv)
            assert app.monitor.journal is None  # this process encodes and writes nothing
            assert _lease(store) == ("celerytui TUI", pid)
            sent = [client.tasks["celerytui.tasks.validate_order"].delay(i).id for i in range(3)]
            await wait_until(pilot, lambda: _recorded(store, sent), 30, "the tasks recorded")
            await app.action_quit()
            assert recorder.ended.is_set() and not alive(pid)  # q left no process
        assert _lease(store) is None or not alive(_lease(store)[1])
        assert not [n for n in _notices(app) if "not recording" in n]
    finally:
        client.close()


async def test_a_running_record_command_keeps_the_store(ui_settings, tmp_path):
    store = str(tmp_path / "journal.sqlite3")
    settings = ui_settings(store=store)
    recorder_cmd = subprocess.Popen(
        [
            *CELERYTUI,
            "record",
            "--broker",
            settings.broker_url,
            "--result-backend",
            settings.result_backend,
            "--store",
            store,
        ],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env=command_env(),
        cwd=ROOT,
    )
    try:
        assert recorder_cmd.stderr is not None
        assert "celerytui record: journal" in recorder_cmd.stderr.readline()
        holder = _lease(store)
        assert holder is not None and holder[1] == recorder_cmd.pid
        app = make_app(settings, record=True)
        _notices(app)
        async with app.run_test(size=(120, 40), notifications=True) as pilot:
            expected = "celerytui record (pid"
            await wait_until(
                pilot,
                lambda: any(
                    expected in n and n.endswith("this TUI only reads it") for n in _notices(app)
                ),
                30,
                "the lease notice",
            )
            await wait_until(pilot, lambda: app._recorder.ended.is_set(), 10, "the child gone")
            assert _lease(store) == holder  # the record command still holds it
            await app.action_quit()
    finally:
        stop_process(recorder_cmd)


async def test_two_tuis_the_second_reads_and_a_sigkilled_tui_takes_its_child(ui_settings, tmp_path):
    store = str(tmp_path / "journal.sqlite3")
    settings = ui_settings(store=store)
    first = TuiProcess(
        "--broker",
        settings.broker_url,
        "--result-backend",
        settings.result_backend,
        "--store",
        store,
    ).start()
    try:

        def first_child() -> int | None:
            kids = [p for p in first.children() if "celerytui.journal_child" in cmdline(p)]
            lease = _lease(store)
            return kids[0] if kids and lease and lease[1] == kids[0] else None

        child = wait_for(first_child, 60, what="the first dashboard's recorder holding the store")
        second = make_app(settings, record=True)
        _notices(second)
        async with second.run_test(size=(120, 40), notifications=True) as pilot:
            line = f"journal: celerytui TUI (pid {child} on "
            await wait_until(
                pilot,
                lambda: any(
                    n.startswith(line) and n.endswith("this TUI only reads it")
                    for n in _notices(second)
                ),
                30,
                "the second dashboard's notice",
            )
            await second.action_quit()
        assert first.proc is not None
        os.kill(first.proc.pid, signal.SIGKILL)
        first.proc.wait(10)
        wait_for(lambda: not alive(child), 15, what="the child to die with its dashboard")
    finally:
        first.close()


async def test_a_full_disk_is_said_once_and_its_end(redis_urls):
    broker, backend = redis_urls
    with small_tmpfs("2m") as disk:
        store = str(disk / "journal.sqlite3")
        settings = load_settings(broker_url=broker, result_backend=backend, store=store)
        app = make_app(settings, record=True)
        _notices(app)
        client = redis.Redis.from_url(broker)

        def publish(n: int) -> None:
            for _ in range(n):
                events = [e for _ in range(5) for e in good_task(uuid.uuid4().hex)]
                for event in events:
                    event["args"] = repr(os.urandom(100).hex())  # incompressible
                client.publish(channel_of(broker), event_message(events))

        try:
            async with app.run_test(size=(120, 40), notifications=True) as pilot:
                await wait_until(pilot, lambda: _recording(app), 30, "the recorder process")
                wait_subscribed(client, broker)
                publish(20)
                await wait_until(
                    pilot, lambda: app._recorder.status.events_recorded >= 300, 20, "written"
                )
                fill(disk / "filler")
                publish(60)

                def full() -> list[str]:
                    return [n for n in _notices(app) if "full" in n and store in n]

                await wait_until(pilot, full, 30, "the disk-full notice")
                (disk / "filler").unlink()  # space is back
                await wait_until(
                    pilot,
                    lambda: "journal: writing again" in _notices(app),
                    30,
                    "writing again",
                )
                assert len(full()) == 1  # said once, not once a retry
                await app.action_quit()
        finally:
            client.close()


async def test_a_context_switch_stops_the_old_child_and_records_the_new_cluster(
    redis_target, tmp_path
):
    from celerytui.cli_options import ContextLoader
    from tests.support.screens_ui import connected, until

    stores, brokers, lines = {}, {}, ['current_context = "a"']
    for name in ("a", "b"):
        broker_db, backend_db = redis_target.fresh_dbs(2)
        brokers[name] = redis_target.url(broker_db)
        stores[name] = str(tmp_path / f"{name}.sqlite3")
        lines += [f"[contexts.{name}]", f'broker_url = "{brokers[name]}"']
        lines += [f'result_backend = "{redis_target.url(backend_db)}"']
        lines += [f'store = "{stores[name]}"', f"read_only = {str(name == 'b').lower()}"]
    config = tmp_path / "config.toml"
    config.write_text("\n".join(lines) + "\n")
    app = make_app(load_settings(str(config)), contexts=ContextLoader(str(config)), record=True)
    _notices(app)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: _recording(app), 30, "a's recorder")
        old = app._recorder
        assert _lease(stores["a"]) == ("celerytui TUI", old.pid)
        await pilot.press("colon", *"ctx b", "enter")
        await until(
            pilot,
            lambda: app.settings.context == "b" and app.switching_to is None and connected(app),
            timeout=30,
            what="the switch to b",
        )
        await wait_until(pilot, lambda: app._recorder is not None, 30, "b's recorder")
        new = app._recorder
        await wait_until(pilot, lambda: new.status.recording, 30, "b's recorder recording")
        assert old.ended.is_set() and not alive(old.pid)  # the old cluster's child is gone
        assert _lease(stores["b"]) == ("celerytui TUI", new.pid)  # read-only still records
        client = redis.Redis.from_url(brokers["b"])
        try:
            wait_subscribed(client, brokers["b"])
            sent = uuid.uuid4().hex
            client.publish(channel_of(brokers["b"]), event_message(good_task(sent)))
        finally:
            client.close()
        await wait_until(pilot, lambda: _recorded(stores["b"], [sent]), 30, "b's task recorded")
        assert not _recorded(stores["a"], [sent])
        await app.action_quit()
    assert not alive(new.pid)
    assert not [n for n in _notices(app) if "not recording" in n or "only reads" in n]
