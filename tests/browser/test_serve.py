"""`celerytui serve` in a real browser: Debian's Chromium driven by Playwright, against a real
Redis (with a password) and a real worker; and the guard on the address it binds."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import urllib.request
from pathlib import Path

import pytest

from celerytui.commands.serve import exposure_problem, is_loopback
from tests.support.commands import celerytui, command_env, start_celerytui
from tests.support.services import (
    embedded_redis_binary,
    free_port,
    port_answers,
    service_missing,
    stop_process,
    wait_for,
)
from tests.support.workers import WorkerProcess

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def guarded_redis(tmp_path):
    """A redis-server of this test's own that wants a password: (url of db 0, url of db 1,
    password). A password that leaks anywhere is then a real one."""
    password = "pw-" + secrets.token_hex(8)
    port = free_port()
    proc = subprocess.Popen(
        [embedded_redis_binary(), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(tmp_path), "--requirepass", password],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for(lambda: port_answers("127.0.0.1", port), 10, what="redis-server with a password")
        base = f"redis://:{password}@127.0.0.1:{port}"
        yield f"{base}/0", f"{base}/1", password
    finally:
        stop_process(proc)


def _playwright():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        service_missing("playwright (pip install playwright)")
    if not os.access(CHROMIUM, os.X_OK):
        service_missing(f"chromium at {CHROMIUM} (apt-get install chromium)")
    return sync_playwright


def _session_cmdlines(root_pid: int) -> list[str]:
    """The command lines of every process below ``root_pid`` (the browser sessions)."""
    parents: dict[int, int] = {}
    lines: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
            lines[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        ppid = next(line.split()[1] for line in status.splitlines() if line.startswith("PPid:"))
        parents[int(entry.name)] = int(ppid)

    def below(pid: int) -> bool:
        while pid in parents and pid != root_pid:
            pid = parents[pid]
        return pid == root_pid

    return [lines[pid] for pid in lines if pid != root_pid and below(pid)]


@pytest.mark.timeout(150)
def test_the_browser_shows_the_live_dashboard_read_only_and_no_password(guarded_redis, tmp_path):
    sync_playwright = _playwright()
    from celerytui.config import load_settings
    from celerytui.tasks import make_celery_app
    from tests.browser.xterm_page import CAPTURE_TERMINAL, screen_text, wait_for_text

    broker, backend, password = guarded_redis
    client = make_celery_app(load_settings(broker_url=broker, result_backend=backend))
    worker = WorkerProcess(broker, backend, tmp_path, name="web")
    port = free_port()
    # the password on serve's own command line, the worst case: it must reach no page or log
    server = start_celerytui(
        "serve", "-b", broker, "--result-backend", backend, "--read-only", "--port", str(port),
        env=command_env(XDG_STATE_HOME=str(tmp_path / "state")),
    )  # fmt: skip
    try:
        worker.start(client)
        wait_for(lambda: port_answers("127.0.0.1", port), 20, what="celerytui serve to listen")
        html = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10).read().decode()
        assert "celerytui" in html and password not in html

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
            try:
                page = browser.new_page(viewport={"width": 1100, "height": 700})
                page.add_init_script(CAPTURE_TERMINAL)
                page.goto(f"http://127.0.0.1:{port}/")
                text = wait_for_text(
                    page, lambda t: worker.hostname in t, 45, "the worker on the dashboard"
                )
                header = text.splitlines()[0]
                assert "Dashboard" in header and "read-only" in header
                assert "****@127.0.0.1" in header and password not in page.content()
                # a task sent now, while the page watches
                sent = client.tasks["celerytui.tasks.send_email"].delay("web@example.org", "hi")
                assert sent.get(timeout=30) is not None
                page.click(".xterm-screen")  # the terminal has the keyboard, as after a click

                page.keyboard.press("2")
                text = wait_for_text(
                    page, lambda t: "Tasks" in t.splitlines()[0] and "send_email" in t, 20,
                    "the task table with the sent task",
                )  # fmt: skip
                assert "web@example.org" in text and "SUCCESS" in text

                # read-only: the keys that would send a task open nothing ...
                for key in ("e", "h", "o", "t", "R"):
                    page.keyboard.press(key)
                page.wait_for_timeout(1500)
                text = screen_text(page)
                assert "hello from celerytui" not in text  # the send_email prompt's default
                assert "Tasks" in text.splitlines()[0]
                # ... and a task key on the table says why
                page.keyboard.press("x")
                wait_for_text(page, lambda t: "read-only: revoke refused" in t, 10, "refusal")
                assert password not in screen_text(page)
                sessions = _session_cmdlines(server.pid)
                assert any("celerytui" in line for line in sessions), sessions
                assert not [line for line in sessions if password in line]
            finally:
                browser.close()
        # nothing was sent: the backend holds the one result of the task sent above
        import redis

        stored = redis.Redis.from_url(backend).keys("celery-task-meta-*")
        assert stored == [f"celery-task-meta-{sent.id}".encode()]
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGINT)  # Ctrl+C: the sessions stop with it
        out, err = server.communicate(timeout=20)
        worker.stop()
        client.close()
    assert password not in out + err, "the password reached serve's output"
    assert f"127.0.0.1:{port}" in out


def test_serve_binds_other_addresses_only_read_only_or_when_actions_are_allowed(tmp_path):
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("bastion.example.com")
    assert exposure_problem("127.0.0.2", read_only=False, allow_actions=False) is None
    assert exposure_problem("0.0.0.0", read_only=False, allow_actions=True) is None

    env = command_env(CELERY_BROKER_URL="redis://127.0.0.1:1/0")
    refused = celerytui("serve", "--host", "0.0.0.0", "--port", str(free_port()), env=env)
    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines() == [
        "Error: --host 0.0.0.0 is not a loopback address and whoever reaches it could change "
        "the cluster: add --read-only (or --allow-actions if browsers may act)"
    ]
    assert not refused.stdout

    # read-only in the config file is enough; the server listens on every address
    config = tmp_path / "config.toml"
    config.write_text('read_only = true\nbroker_url = "redis://127.0.0.1:1/0"\n')
    port = free_port()
    server = start_celerytui("serve", "--host", "0.0.0.0", "--port", str(port),
                             "--config", str(config), env=env)  # fmt: skip
    try:
        wait_for(lambda: port_answers("127.0.0.1", port) or server.poll() is not None, 20,
                 what="serve on 0.0.0.0")  # fmt: skip
        assert server.poll() is None, server.communicate()
    finally:
        os.killpg(server.pid, signal.SIGINT)
        server.communicate(timeout=20)


def test_sessions_get_the_url_flags_as_flags_by_env_and_the_rest_on_their_command(tmp_path):
    from celerytui.commands.serve import session_command, session_env
    from celerytui.config import Settings

    given = {
        "broker": "redis://:pw-secret@h:6379/0",
        "result_backend": "redis://:pw-secret@h:6379/1",
        "config": "conf.toml",
        "context": "prod",
        "app": "proj.celery",
    }
    command = session_command(given, Settings(read_only=True))
    assert "pw-secret" not in command
    assert command.endswith(
        f"-m celerytui --config {os.path.abspath('conf.toml')} --context prod -A proj.celery "
        "--read-only"
    )
    env = session_env(given)
    assert sorted(env.values()) == sorted([given["broker"], given["result_backend"]])
    # a session reads them as its flags: they beat a context's broker, as -b does
    config = tmp_path / "config.toml"
    config.write_text('current_context = "a"\n[contexts.a]\nbroker_url = "redis://a:6379/0"\n')
    shown = celerytui("config", "--config", str(config), env=command_env(**env))
    assert shown.returncode == 0, shown.stderr
    broker_row = next(line for line in shown.stdout.splitlines() if line.startswith("broker_url"))
    assert "redis://:****@h:6379/0" in broker_row and "flag --broker" in broker_row
