"""How much the idle TUI writes to its terminal: bytes per second, read through tmux.

    .venv/bin/python benchmarks/terminal_bytes.py                  # 80x24, 100x30, 200x60
    .venv/bin/python benchmarks/terminal_bytes.py --seconds 60 --sizes 100x30

An embedded redis-server (its own, on a free port) and one real ``celery worker -E`` (the
seed's app) sending its heartbeats; no tasks. For each size the real ``celerytui`` runs in a
fresh tmux session of that size; once the dashboard shows the worker and has settled, ``tmux
pipe-pane -o 'cat >> FILE'`` copies what the TUI writes to the terminal for --seconds, and the
file's size over that time is the figure. Over SSH every one of those bytes crosses the link.

Prints KB/s per size; asserts nothing (target: <= 1 KB/s idle at 100x30).
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.services import RedisServer, wait_for  # noqa: E402
from tests.support.workers import WorkerProcess  # noqa: E402

SIZES = ("80x24", "100x30", "200x60")
SOCKET = f"celerytui-termbytes-{os.getpid()}"  # tmux servers of our own, one a size


def tmux(socket: str, *args: str) -> str:
    return subprocess.run(
        ["tmux", "-L", socket, *args], check=True, capture_output=True, text=True, timeout=30
    ).stdout


def pane_text(socket: str, session: str) -> str:
    return tmux(socket, "capture-pane", "-p", "-t", session)


def measure(size: str, broker: str, backend: str, hostname: str, args, work: Path) -> float:
    """KB/s written by the TUI at ``size`` once settled."""
    width, height = size.split("x")
    session = f"termbytes-{uuid.uuid4().hex[:8]}"
    # a server a size: one whose last session just ended may still be exiting
    socket = f"{SOCKET}-{size}"
    config = work / "empty.toml"
    config.write_text("")
    env = {
        "CELERYTUI_CONFIG": str(config),
        "PYTHONPATH": str(ROOT),
        "TERM": "xterm-256color",
        "COLORTERM": "truecolor",
    }
    command = " ".join(
        [
            "env",
            *(f"{k}={shlex.quote(v)}" for k, v in env.items()),
            shlex.quote(sys.executable),
            "-m",
            "celerytui",
            "--broker",
            shlex.quote(broker),
            "--result-backend",
            shlex.quote(backend),
        ]
    )
    out = work / f"bytes-{size}.raw"
    tmux(socket, "new-session", "-d", "-s", session, "-x", width, "-y", height, command)
    try:
        short = hostname.split("@")[0]
        wait_for(
            lambda: all(text in pane_text(socket, session) for text in (short, "connected")),
            timeout=60,
            interval=0.5,
            what=f"the dashboard at {size} to show {hostname}",
        )
        time.sleep(args.settle)  # the first draws (layout, ages starting) are not idle
        tmux(socket, "pipe-pane", "-o", "-t", session, f"cat >> {shlex.quote(str(out))}")
        began = time.monotonic()
        time.sleep(args.seconds)
        tmux(socket, "pipe-pane", "-t", session)  # no command: stop piping
        elapsed = time.monotonic() - began
        time.sleep(0.3)  # let cat write what it has
        written = out.stat().st_size if out.exists() else 0
        if args.keep:
            print(f"  {size}: raw output kept in {out}")
    finally:
        subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True)
    return written / 1024 / elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="measured per size")
    parser.add_argument("--settle", type=float, default=5.0, help="seconds before measuring")
    parser.add_argument("--sizes", default=",".join(SIZES), help="comma-separated WxH")
    parser.add_argument("--keep", action="store_true", help="keep the raw bytes (and say where)")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="celerytui-termbytes-"))
    server = RedisServer().start()
    broker = f"redis://127.0.0.1:{server.port}/0"
    backend = f"redis://127.0.0.1:{server.port}/1"
    worker = WorkerProcess(broker, backend, work, name=f"idle{os.getpid()}", concurrency=1)
    try:
        from celerytui.config import load_settings
        from celerytui.tasks import make_celery_app

        settings = load_settings(broker_url=broker, result_backend=backend)
        worker.start(make_celery_app(settings), timeout=60)
        print(
            f"idle TUI, one worker ({worker.hostname}) sending heartbeats; "
            f"{args.seconds:g} s measured per size after {args.settle:g} s settling"
        )
        for size in args.sizes.split(","):
            rate = measure(size, broker, backend, worker.hostname, args, work)
            print(f"  {size:>7}: {rate:6.2f} KB/s written to the terminal", flush=True)
        print("target: <= 1 KB/s idle (100x30)")
    finally:
        worker.stop()
        server.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
