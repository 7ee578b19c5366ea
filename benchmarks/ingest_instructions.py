"""Ingest cost in machine instructions: ClusterState.apply against celery's State.event, counted
by valgrind (callgrind), same stream, same run.

    .venv/bin/python benchmarks/ingest_instructions.py               # 100k events
    .venv/bin/python benchmarks/ingest_instructions.py --events 50000 --skip-celery

benchmarks/ingest.py times the two in CPU seconds, which a shared machine moves by 10 % from
one minute to the next; an instruction count moves by well under 0.1 % (hash seeds fixed), so
it tells whether a change to the hot path made it cheaper, on any machine, busy or not. It is
a proxy: it leaves out what memory costs (cache misses, above all in the garbage collector's
passes over 100k tasks), so its ratio is not ingest.py's; the events/s figures are those.

Each count runs in a child under ``valgrind --tool=callgrind`` (about 50x slower than native):
one that only generates the stream, one that generates and applies it to ClusterState, one
that generates and feeds it to celery's State. Instructions per event are (applied -
generated) / events. Needs valgrind (Debian's ``valgrind``). Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MODES = ("generate", "ours", "celery")
_COLLECTED = re.compile(r"Collected\s*:\s*(\d+)")


def child(mode: str, events: int, workers: int, seed: int, max_tasks: int) -> None:
    """What one count runs: both states imported (every child pays the same imports), the
    stream made whole, then (unless ``generate``) fed to one of them."""
    from celery.events.state import State

    from benchmarks.synthetic import generate_events
    from celerytui.core.state import ClusterState

    batches = list(generate_events(events, workers=workers, seed=seed))
    if mode == "ours":
        state = ClusterState(max_tasks=max_tasks)
        for batch in batches:
            state.apply(batch)
    elif mode == "celery":
        event = State(max_tasks_in_memory=max_tasks).event
        for batch in batches:
            for ev in batch:
                event(ev)


def count(mode: str, args: argparse.Namespace) -> int:
    """Instructions callgrind counted for one child."""
    command = [
        "valgrind",
        "--tool=callgrind",
        "--callgrind-out-file=/dev/null",
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        mode,
        *("--events", str(args.events), "--workers", str(args.workers)),
        *("--seed", str(args.seed), "--max-tasks", str(args.max_tasks)),
    ]
    env = {**os.environ, "PYTHONHASHSEED": "0", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    found = _COLLECTED.findall(done.stderr)
    if done.returncode != 0 or not found:
        tail = done.stderr.strip().splitlines()[-1:] or ["no output"]
        raise SystemExit(f"the {mode} count failed (exit {done.returncode}): {tail[0]}")
    return int(found[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-tasks", type=int, default=100_000)
    parser.add_argument("--skip-celery", action="store_true", help="count ClusterState only")
    parser.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.events, args.workers, args.seed, args.max_tasks)
        return 0
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (Debian: apt-get install valgrind)")
    print(
        f"stream: {args.events:,} events, {args.workers} workers, seed {args.seed}, "
        f"max_tasks {args.max_tasks:,}; instructions counted by callgrind, PYTHONHASHSEED=0"
    )
    base = count("generate", args)
    ours = (count("ours", args) - base) / args.events
    print(f"ClusterState.apply : {ours:>10,.0f} instructions/event")
    if args.skip_celery:
        return 0
    theirs = (count("celery", args) - base) / args.events
    print(f"celery State.event : {theirs:>10,.0f} instructions/event")
    print(f"ratio              : {theirs / ours:.2f}x  (in instructions: not the events/s ratio)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
