"""Flags beat the environment for what is really used, not only for what `config` prints.

Cluster A is named by $CELERY_BROKER_URL / $CELERY_RESULT_BACKEND, cluster B by --broker /
--result-backend. Celery itself reads those variables before an app's own broker, so every
command (fire, status, tail, exporter, the TUI, and all of them with -A) must be checked to
talk to B only: B's queues get the messages, A gets not one connection.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import textwrap
import urllib.request

import pytest
import redis

from celerytui.config import load_settings
from tests.support.commands import LineReader, celerytui, command_env, start_celerytui
from tests.support.services import RedisServer, free_port, service_missing, wait_for

pytestmark = pytest.mark.redis

EMAIL = "celerytui.tasks.send_email"


class Cluster:
    """One Redis server seen as a cluster: its URLs, and what happened on it."""

    def __init__(self, broker: str, backend: str) -> None:
        self.broker, self.backend = broker, backend
        self.client = redis.Redis.from_url(broker)

    def queued(self, queue: str = "celery") -> int:
        """Messages waiting in ``queue`` (kombu's Redis lists, all priority steps)."""
        names = [self.client.keys(queue), self.client.keys(f"{queue}\x06\x16*")]
        return sum(self.client.llen(name) for found in names for name in found)

    def connections(self) -> int:
        """Connections the server has ever accepted (this client's own one counted once)."""
        return self.client.info("stats")["total_connections_received"]

    def push(self, count: int) -> None:
        """``count`` messages that nobody consumes, sent by a client made for this cluster."""
        from celerytui.tasks import make_celery_app

        app = make_celery_app(load_settings(broker_url=self.broker, result_backend=self.backend))
        try:
            for i in range(count):
                app.send_task(EMAIL, args=[f"u{i}@example.com", "queued"])
        finally:
            app.close()


@pytest.fixture(scope="module")
def server_a():
    try:
        server = RedisServer().start()
    except (ImportError, AssertionError, OSError) as exc:
        service_missing(f"embedded redis-server ({exc})")
    yield server
    server.cleanup()


@pytest.fixture
def clusters(server_a, redis_urls):
    """(A, B): A on its own server (named by the environment), B on the session's (the
    databases the start_worker fixture uses)."""
    a = Cluster(f"redis://127.0.0.1:{server_a.port}/0", f"redis://127.0.0.1:{server_a.port}/1")
    a.client.flushall()
    a.push(3)  # A has a backlog of its own, so a report of A's queue cannot pass for B's
    b = Cluster(*redis_urls)
    yield a, b
    a.client.close()
    b.client.close()


def _env(a: Cluster) -> dict[str, str]:
    return command_env(CELERY_BROKER_URL=a.broker, CELERY_RESULT_BACKEND=a.backend)


def _flags(b: Cluster) -> list[str]:
    return ["--broker", b.broker, "--result-backend", b.backend]


def _untouched(a: Cluster, before: int) -> None:
    assert a.connections() == before, "something connected to cluster A"
    assert a.queued() == 3


def test_fire_enqueues_on_the_flag_broker(clusters):
    a, b = clusters
    before = a.connections()
    result = celerytui("fire", "email", "ops@example.com", "hi", *_flags(b), env=_env(a))
    assert result.returncode == 0, result.stderr
    assert b.queued() == 1
    _untouched(a, before)


def test_fire_wait_reads_the_result_from_the_flag_backend(clusters, start_worker):
    a, b = clusters
    start_worker("w1")
    before = a.connections()
    result = celerytui(
        "fire", "email", "ops@example.com", "hi", "--wait", *_flags(b), env=_env(a), timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[1]) == "Email to ops@example.com sent: hi..."
    _untouched(a, before)


def test_status_reports_the_flag_broker(clusters):
    a, b = clusters
    b.push(2)
    before = a.connections()
    result = celerytui("status", "--json", "--listen", "0", *_flags(b), env=_env(a))
    report = json.loads(result.stdout)
    assert report["broker"]["url"] == b.broker
    assert {q["name"]: q["messages"] for q in report["queues"]}["celery"] == 2
    assert result.returncode == 1  # no worker on B: degraded, not unreachable
    _untouched(a, before)


def test_config_names_the_flag_broker(clusters):
    a, b = clusters
    result = celerytui("config", *_flags(b), env=_env(a))
    assert result.returncode == 0, result.stderr
    rows = {line.split()[0]: line.split()[1:] for line in result.stdout.splitlines()[1:]}
    assert rows["broker_url"] == [b.broker, "flag", "--broker"]
    assert rows["result_backend"] == [b.backend, "flag", "--result-backend"]


def test_tail_follows_the_flag_broker(clusters):
    a, b = clusters
    before = a.connections()
    proc = start_celerytui("tail", *_flags(b), env=_env(a))
    try:
        err, out = LineReader(proc.stderr), LineReader(proc.stdout)
        err.wait_for(lambda line: "following" in line, what="tail to subscribe")
        assert err.lines[-1].endswith(f"following {b.broker}")
        b.push(1)  # the client sends a task-sent event on B
        out.wait_for(lambda line: "send_email" in line, what="the task sent on B")
        _untouched(a, before)
    finally:
        _stop(proc)


def test_exporter_measures_the_flag_broker(clusters):
    a, b = clusters
    b.push(2)
    before = a.connections()
    port = free_port()
    proc = start_celerytui("exporter", "--port", str(port), *_flags(b), env=_env(a))
    try:
        LineReader(proc.stderr).wait_for(
            lambda line: f"127.0.0.1:{port}/metrics" in line, what="exporter to listen"
        )

        def celery_queue_length() -> float | None:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
                for line in resp.read().decode().splitlines():
                    if line.startswith('celery_queue_length{queue_name="celery"}'):
                        return float(line.split()[-1])
            return None

        assert (
            wait_for(celery_queue_length, 20, interval=0.3, what="the exporter to measure a queue")
            == 2.0
        )
        _untouched(a, before)
    finally:
        _stop(proc)


@pytest.fixture
def proj(tmp_path, clusters, monkeypatch):
    """A user's app module whose own broker is A: `-A flagproj` from ``tmp_path``."""
    a, _b = clusters
    name = f"flagproj_{os.getpid()}_{id(tmp_path)}"
    (tmp_path / f"{name}.py").write_text(
        textwrap.dedent(f"""
        from celery import Celery

        app = Celery("proj", broker={a.broker!r}, backend={a.backend!r})

        @app.task(name="proj.add")
        def add(x, y):
            return x + y
    """)
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    return name


def test_dash_a_app_fires_and_reports_on_the_flag_broker(clusters, proj, tmp_path):
    a, b = clusters
    before = a.connections()
    fired = celerytui(
        "-A",
        proj,
        "fire",
        "task",
        "proj.add",
        "--args",
        "[1, 2]",
        *_flags(b),
        env=_env(a),
        cwd=tmp_path,
    )
    assert fired.returncode == 0, fired.stderr
    assert b.queued() == 1
    status = celerytui(
        "-A", proj, "status", "--json", "--listen", "0", *_flags(b), env=_env(a), cwd=tmp_path
    )
    report = json.loads(status.stdout)
    assert report["broker"]["url"] == b.broker
    assert {q["name"]: q["messages"] for q in report["queues"]}["celery"] == 1
    _untouched(a, before)


def test_dash_a_app_without_flags_keeps_its_own_broker(clusters, proj, tmp_path):
    a, _b = clusters
    fired = celerytui("-A", proj, "fire", "task", "proj.add", "--args", "[1, 2]", cwd=tmp_path)
    assert fired.returncode == 0, fired.stderr
    assert a.queued() == 4  # the app's own broker, A


async def test_tui_fires_and_watches_on_the_flag_broker(clusters, proj, monkeypatch):
    a, b = clusters
    b.push(2)
    monkeypatch.setenv("CELERY_BROKER_URL", a.broker)
    monkeypatch.setenv("CELERY_RESULT_BACKEND", a.backend)
    before = a.connections()
    await _fire_an_order_from_the_tui(
        b, load_settings(broker_url=b.broker, result_backend=b.backend)
    )
    await _fire_an_order_from_the_tui(
        b, load_settings(broker_url=b.broker, result_backend=b.backend, app=proj)
    )
    _untouched(a, before)


async def _fire_an_order_from_the_tui(b: Cluster, settings) -> None:
    """The dashboard's header names B, its queue depths are B's, `o` (or `t` under -A) enqueues
    on B."""
    from textual.widgets import Input

    from celerytui.app import make_app
    from celerytui.screens.dialogs import PromptDialog, TaskPickerDialog
    from tests.ui.conftest import wait_until
    from tests.ui.screen_text import screen_text

    assert settings.source_of("broker_url") == "flag --broker"
    app = make_app(settings)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(
            pilot,
            lambda: "connected" in screen_text(app).splitlines()[0],
            what="header to say connected",
        )
        assert b.broker in screen_text(app).splitlines()[0]
        depths = await wait_until(
            pilot,
            lambda: {d.name: d.messages for d in app.monitor.queue_depths},
            what="queue depths",
        )
        queued = b.queued()
        assert depths["celery"] == queued
        if settings.app:  # proj registers no seed task: `t` sends one of its own
            await pilot.press("t")
            picker = await wait_until(
                pilot,
                lambda: (
                    isinstance(app.screen, TaskPickerDialog)
                    and app.screen.query("#name")
                    and app.screen
                ),
                what="the task picker",
            )
            picker.query_one("#name", Input).value = "proj.add"
            picker.query_one("#args", Input).value = "[1, 2]"
            picker._submit()
        else:
            await pilot.press("o")
            dialog = await wait_until(
                pilot,
                lambda: (
                    isinstance(app.screen, PromptDialog)
                    and app.screen.query("Input")
                    and app.screen
                ),
                what="the order dialog",
            )
            dialog.query_one(Input).value = "4242"
            await pilot.press("enter")
        await wait_until(pilot, lambda: b.queued() == queued + 1, what="the order on B")
        await pilot.press("q")


def _stop(proc) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except Exception:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
