"""`celerytui demo` as a user runs it: a subprocess that brings up the whole seed system, shows
(here: prints) what the monitor saw, and leaves nothing behind however it ends."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import psutil
import pytest

from tests.support.services import free_port, port_answers, wait_for

ROOT = Path(__file__).resolve().parents[2]
DEMO_DIR_ENV = "CELERYTUI_DEMO_DIR"


def demo_cmd(*args: str) -> list[str]:
    return [sys.executable, "-c", "from celerytui.cli import main; main()", "demo", *args]


def demo_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CELERYTUI_", "CELERY_"))}
    env["PYTHONPATH"] = str(ROOT)
    return env


class DemoProcess:
    """The demo in the background, its stderr collected line by line as it comes."""

    def __init__(self, *args: str):
        self.proc = subprocess.Popen(
            demo_cmd(*args),
            cwd=ROOT,
            env=demo_env(),
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.err_lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.proc.stderr:
            self.err_lines.append(line.rstrip("\n"))

    def line(self, pattern: str) -> re.Match | None:
        for line in list(self.err_lines):
            if m := re.search(pattern, line):
                return m
        return None

    def finish(self, timeout: float) -> tuple[int, str, str]:
        out = self.proc.stdout.read() if self.proc.stdout else ""
        code = self.proc.wait(timeout)
        self._reader.join(5)
        return code, out, "\n".join(self.err_lines)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)

    def wait_ready(self, timeout: float = 40) -> tuple[int, str, dict[str, int]]:
        """The ready line's (redis port, demo dir, pids); fails showing stderr if the demo
        exits before it is ready."""
        ready = wait_for(
            lambda: self.line(READY) or self.proc.poll() is not None,
            timeout,
            what="the demo's ready line",
        )
        assert isinstance(ready, re.Match), "\n".join(self.err_lines)
        return ready_fields(ready)


def demo_processes(demo_dir: str) -> list[psutil.Process]:
    """Live processes the demo started: they carry its temp dir in their environment."""
    found = []
    for proc in psutil.process_iter(["pid"]):
        try:
            if (
                proc.environ().get(DEMO_DIR_ENV) == demo_dir
                and proc.status() != psutil.STATUS_ZOMBIE
            ):
                found.append(proc)
        except (psutil.Error, OSError):
            continue
    return found


def describe(procs: list[psutil.Process]) -> str:
    """pid, status and command line of each, for a failure message."""
    out = []
    for proc in procs:
        try:
            out.append(f"{proc.pid} {proc.status()} {' '.join(proc.cmdline())[:120]}")
        except psutil.Error:
            continue
    return "; ".join(out) or "nothing"


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def assert_cleaned_up(demo_dir: str, pids: dict[str, int], redis_port: int | None) -> None:
    assert not [p for p in pids.values() if alive(p)], f"demo processes left: {pids}"
    assert demo_processes(demo_dir) == [], "processes carrying the demo's marker survived"
    assert not Path(demo_dir).exists(), f"temp dir {demo_dir} not removed"
    if redis_port is not None:
        assert not port_answers("127.0.0.1", redis_port), f"port {redis_port} still answers"


READY = r"ready: broker redis://127\.0\.0\.1:(\d+)/0, .*logs in (\S+) \((.*)\)"


def parse_pids(text: str) -> dict[str, int]:
    return {name: int(pid) for name, pid in re.findall(r"([\w-]+) (\d+)", text)}


def ready_fields(ready: re.Match) -> tuple[int, str, dict[str, int]]:
    """(redis port, demo dir, {name: pid}) from a match of READY."""
    return int(ready.group(1)), ready.group(2), parse_pids(ready.group(3))


@pytest.mark.timeout(90)
def test_headless_demo_shows_every_outcome_and_leaves_nothing_behind():
    demo = DemoProcess("--headless", "--duration", "20", "--json", "--seed", "7")
    try:
        code, out, err = demo.finish(timeout=80)
    finally:
        demo.kill()
    assert code == 0, err
    summary = json.loads(out)

    workers = summary["workers"]
    assert len(workers) >= 2, summary
    assert any(h.startswith("demo-http@") for h in workers)
    assert any(h.startswith("demo-disk@") for h in workers)
    events = summary["events"]
    assert events["succeeded"] > 0, events
    assert events["failed"] > 0, events
    assert events["retried"] > 0, events
    assert summary["tasks_by_state"].get("SUCCESS", 0) > 0
    assert summary["tasks_by_state"].get("FAILURE", 0) > 0
    assert summary["checks"]["UP"] > 0 and summary["checks"]["DOWN"] > 0, summary["http_checks"]
    urls = sorted(summary["http_checks"])
    assert [u.rsplit("/", 1)[1] for u in urls] == ["flaky", "healthy"]
    assert summary["disk_checks"]["local"]["status"] == "OK"
    assert summary["alerts_received"] > 0  # the failure webhook reached the demo's server

    ready = re.search(READY, err)
    assert ready, err
    assert_cleaned_up(summary["log_dir"], summary["pids"], int(ready.group(1)))
    assert set(summary["pids"]) == {"redis", "worker-http", "worker-disk", "beat"}


@pytest.mark.timeout(60)
def test_sigterm_midway_stops_everything():
    demo = DemoProcess("--headless", "--duration", "120")
    try:
        port, demo_dir, pids = demo.wait_ready()
        assert len(pids) == 4 and all(alive(p) for p in pids.values())
        demo.proc.send_signal(signal.SIGTERM)
        code, _out, err = demo.finish(timeout=30)
    finally:
        demo.kill()
    assert code == 128 + signal.SIGTERM, err
    assert "SIGTERM received" in err
    assert_cleaned_up(demo_dir, pids, port)


@pytest.mark.timeout(60)
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_sigkilled_demo_leaves_no_process_and_the_next_demo_removes_its_files():
    demo = DemoProcess("--headless", "--duration", "120")
    try:
        port, demo_dir, pids = demo.wait_ready()
        demo.proc.kill()  # no handler runs: only the kernel's parent-death signal helps
        demo.proc.wait(5)
    finally:
        demo.kill()
    try:
        wait_for(
            lambda: not [p for p in pids.values() if alive(p)] and not demo_processes(demo_dir),
            30,
            what="the SIGKILLed demo's children to exit",
        )
    except AssertionError as exc:
        raise AssertionError(
            f"{exc}; still running: {describe(demo_processes(demo_dir))}"
        ) from None
    assert not port_answers("127.0.0.1", port)
    assert Path(demo_dir).exists()  # nobody was left to remove it...

    with socket.socket() as taken:  # ...until the next demo starts (here: and fails at once)
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        after = DemoProcess("--headless", "--port", str(taken.getsockname()[1]))
        try:
            code, _out, err = after.finish(timeout=20)
        finally:
            after.kill()
    assert code == 2, err
    assert not Path(demo_dir).exists()


@pytest.mark.timeout(30)
def test_port_taken_is_one_clear_line_and_exit_2():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        demo = DemoProcess("--headless", "--port", str(port))
        try:
            code, _out, err = demo.finish(timeout=20)
        finally:
            demo.kill()
    assert code == 2, err
    assert "Traceback" not in err
    error = [line for line in err.splitlines() if "error:" in line]
    assert len(error) == 1 and f"port {port} is already in use" in error[0], err
    demo_dir = re.search(r"logs in (\S+?)\)", err).group(1)
    assert not Path(demo_dir).exists()
    assert demo_processes(demo_dir) == []


@pytest.mark.timeout(40)
def test_workers_that_never_come_up_fail_naming_the_log():
    dead_broker = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    demo = DemoProcess("--headless", "-b", dead_broker, "--start-timeout", "3")
    try:
        code, _out, err = demo.finish(timeout=30)
    finally:
        demo.kill()
    assert code == 2, err
    assert "Traceback" not in err
    error = [line for line in err.splitlines() if "error:" in line]
    assert len(error) == 1 and "did not come up within 3 s" in error[0], err
    log = Path(re.search(r"see its log: (\S+)", error[0]).group(1))
    try:
        assert "celery" in log.read_text().lower()  # the worker's own output, kept for reading
    finally:
        log.unlink(missing_ok=True)
    demo_dir = re.search(r"logs in (\S+?)\)", err).group(1)
    assert not Path(demo_dir).exists()
    assert demo_processes(demo_dir) == []


CRASHING_TUI = """
import celerytui.app
def crash_on_mount(self):
    raise RuntimeError("injected TUI crash")
celerytui.app.CeleryTUI.on_mount = crash_on_mount
from celerytui.cli import main
main(["demo"])
"""


@pytest.mark.timeout(60)
def test_a_crashing_tui_still_stops_everything():
    """The TUI (Textual, no terminal here) dies in on_mount; the demo cleans up anyway."""
    proc = subprocess.run(
        [sys.executable, "-c", CRASHING_TUI],
        cwd=ROOT,
        env=demo_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=50,
    )
    err = proc.stderr
    assert proc.returncode != 0
    assert "injected TUI crash" in err + proc.stdout  # Textual's own crash report
    ready = re.search(READY, err)
    assert ready, err[-2000:]
    assert "stopped every process it started" in err
    port, demo_dir, pids = ready_fields(ready)
    assert_cleaned_up(demo_dir, pids, port)
