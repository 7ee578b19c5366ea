"""Small things users hit: `python -m celerytui`, a crashing TUI's exit code, the demo's kept
log in the shared temp dir, and `status` on a broker that accepts connections but never
answers."""

from __future__ import annotations

import socket
import stat
import subprocess
import sys
import tempfile
import time

import pytest

from tests.support.commands import ROOT, celerytui, command_env


def _python_m(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "celerytui", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=command_env(),
        cwd=ROOT,
    )


def test_python_m_celerytui_is_the_console_script():
    for args in (["--version"], ["--help"], ["config", "-b", "redis://h:1/3"]):
        module, script = _python_m(*args), celerytui(*args)
        assert module.returncode == script.returncode == 0, module.stderr
        assert module.stdout == script.stdout
    assert _python_m("--help").stdout.startswith("Usage: celerytui ")
    bad = _python_m("--config", "/nonexistent/celerytui.toml", "config")
    assert bad.returncode == 2
    assert bad.stderr.strip() == "Error: config file not found: /nonexistent/celerytui.toml"


# The dashboard as the console script runs it (cli.main), with its first screen made to raise.
CRASHING_TUI = """
import sys
import celerytui.app

def crash_on_mount(self):
    raise RuntimeError("injected TUI crash")

if sys.argv[1] == "crash":
    celerytui.app.CeleryTUI.on_mount = crash_on_mount
from celerytui.cli import main
main(["-b", sys.argv[2]], prog_name="celerytui")
"""


def _tui(mode: str, **env: str) -> subprocess.CompletedProcess:
    dead = f"redis://127.0.0.1:{_closed_port()}/0"
    return subprocess.run(
        [sys.executable, "-c", CRASHING_TUI, mode, dead],
        cwd=ROOT,
        env=command_env(**env),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_crashing_tui_exits_non_zero():
    crashed = _tui("crash")
    assert crashed.returncode == 1
    assert "injected TUI crash" in crashed.stdout + crashed.stderr  # Textual's crash report


def test_a_tui_quit_with_q_exits_zero():
    quit_ = _tui("quit", TEXTUAL_PRESS="q")
    assert quit_.returncode == 0, quit_.stderr[-2000:]
    assert "Traceback" not in quit_.stdout + quit_.stderr


def test_demo_failed_start_log_never_writes_through_a_planted_symlink(tmp_path, monkeypatch):
    from celerytui.demo.cluster import Child, DemoCluster

    shared_tmp = tmp_path / "tmp"  # stands for /tmp: anyone may create names in it
    shared_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(shared_tmp))
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    (shared_tmp / "celerytui-demo-failed-http.log").symlink_to(victim)  # the old fixed name
    cluster = DemoCluster(broker="redis://127.0.0.1:1/0")
    try:
        log = cluster.dir / "http.log"
        log.write_text("worker http: consumer: Cannot connect\n")
        proc = subprocess.Popen([sys.executable, "-c", "pass"])
        proc.wait(10)
        child = Child("http", proc, log)

        first = cluster.keep_log(child)
        assert victim.read_text() == "precious\n"
        assert first.parent == shared_tmp and not first.is_symlink()
        assert first.read_text() == "worker http: consumer: Cannot connect\n"
        assert stat.S_IMODE(first.stat().st_mode) == 0o600  # the log is nobody else's to read

        second = cluster.keep_log(child)  # a second failure replaces the first copy
        assert second != first and second.exists() and not first.exists()
        assert (shared_tmp / "celerytui-demo-failed-http.log").is_symlink()  # left alone
        assert victim.read_text() == "precious\n"
    finally:
        cluster.stop()


@pytest.fixture
def silent_broker():
    """A TCP port that accepts connections (the kernel's backlog) and never says a word."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(50)
        yield server.getsockname()[1]


def _timed_status(url: str, *args: str) -> tuple[float, subprocess.CompletedProcess]:
    started = time.monotonic()
    result = celerytui("status", "-b", url, *args)
    return time.monotonic() - started, result


@pytest.mark.parametrize("scheme", ["redis://127.0.0.1:{}/0", "amqp://guest@127.0.0.1:{}//"])
def test_status_on_a_silent_broker_answers_in_the_documented_2_s(silent_broker, scheme):
    url = scheme.format(silent_broker)
    # the same command on a refused port: the time it takes to start and to say so
    baseline, refused = _timed_status(scheme.format(_closed_port()))
    assert refused.returncode == 2
    elapsed, silent = _timed_status(url)
    assert silent.returncode == 2
    assert silent.stderr.splitlines() == [
        f"Error: broker unreachable ({url}): no answer within 2 s"
    ]
    # 2 s counted from the process start, so what it adds to a prompt failure stays under 2 s
    assert elapsed - baseline < 2.0, (elapsed, baseline)
    _elapsed, as_json = _timed_status(url, "--json")
    assert as_json.returncode == 2 and '"health": "unreachable"' in as_json.stdout


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
