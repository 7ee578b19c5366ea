"""Soak: does a process left running against a busy cluster keep its memory flat?

    .venv/bin/python benchmarks/soak.py                            # TUI, 10 min, 2,000 events/s
    .venv/bin/python benchmarks/soak.py --target exporter
    .venv/bin/python benchmarks/soak.py --minutes 4 --max-tasks 20000 --tracemalloc 10

An embedded redis-server (its own, on a free port) carries the events; one publisher process
sends what a celery worker publishes (benchmarks/firehose.py captures the envelope from celery's
own EventDispatcher) in bursts: every --burst seconds it PUBLISHes --rate x --burst events as
task.multi messages of 24, stamped with the real clock (benchmarks/synthetic.py's stream). The
target follows them with the real code against the real broker:

* tui: the real app (``make_app`` with its own Monitor) runs headless (``run_test``); a
  repeating 10 ms timer on its event loop measures lag (as benchmarks/ui_lag.py does), and the
  collector's pauses are timed through ``gc.callbacks``;
* exporter: the real MetricsService (Monitor pumping in a thread, HTTP server) scraped every
  15 s on /metrics, as Prometheus would.

Prints RSS each minute (and what glibc's malloc holds: in use, free), the growth per minute
once the task cap is reached (least squares over samples every 5 s, the first minute after the
cap left out to settle), the same from when every kept task has been replaced once (events
received twice those at the cap), the event-loop lag and GC pauses. The second figure is the
steady state: the dict of kept tasks (ClusterState.tasks, dicts alike) doubles its table once
more after the cap, when as many tasks again as 3/4 of the cap have replaced evicted ones
(~+3.6 MB at 100k, at ~6.7 min at 2,000 events/s; flat from then on), and the first figure
counts that step as growth.
``--census N`` ends with the N types of object most found in the cyclic garbage that the frozen
heap kept (what a full pass would free). ``--tracemalloc N`` also snapshots
allocations at the cap and at the end and prints the N sites that grew most (slow: for
finding a leak, not for the figures).
Asserts nothing (target: growth after the cap <= 1 MB/min, lag p99 <= 50 ms).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import ctypes
import ctypes.util
import gc
import json
import multiprocessing as mp
import sys
import threading
import time
import tracemalloc
import urllib.request
import uuid
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.firehose import capture_envelope
from benchmarks.synthetic import generate_events
from tests.support.services import RedisServer

SAMPLE_EVERY = 5.0
TIMER_INTERVAL = 0.010
SCRAPE_EVERY = 15.0
BATCH = 24  # events per task.multi (a worker's buffer_limit)


def rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena", "ordblks", "smblks", "hblks", "hblkhd",
            "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost",
        )
    ]  # fmt: skip


def malloc_mb() -> tuple[float, float] | None:
    """glibc's own view of its heaps (mallinfo2): MB handed out, MB free inside them (what
    RSS holds beyond that is fragmentation or not yet trimmed); None elsewhere than glibc."""
    try:
        function = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallinfo2
    except (OSError, AttributeError):
        return None
    function.restype = _MallInfo2
    info = function()
    return (info.uordblks + info.hblkhd) / 2**20, info.fordblks / 2**20


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (x, y) points; nan for fewer than two."""
    if len(points) < 2:
        return float("nan")
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    var = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / var if var else float("nan")


# -- the publisher (its own process) ---------------------------------------------------------
def publisher(
    port: int, channel: str, envelope: dict, rate: float, burst: float, workers: int, stop
) -> None:
    """PUBLISH the synthetic stream in bursts of rate x burst events until `stop` is set."""
    import redis

    client = redis.Redis(port=port, protocol=2)
    per_burst = max(BATCH, int(rate * burst))
    stream = generate_events(
        10**12, workers=workers, seed=11, batch=per_burst, rate=rate, start=time.time()
    )
    started = time.monotonic()
    for n, chunk in enumerate(stream):
        due = started + n * burst
        while not stop.is_set() and time.monotonic() < due:
            stop.wait(min(0.05, max(0.0, due - time.monotonic())))
        if stop.is_set():
            return
        now = time.time()
        pipe = client.pipeline(transaction=False)
        for i in range(0, len(chunk), BATCH):
            part = chunk[i : i + BATCH]
            for ev in part:
                ev.pop("local_received", None)  # the receiver adds it
                ev["timestamp"] = now
            pipe.publish(channel, payload(envelope, part))
        pipe.execute()


def payload(envelope: dict, events: list[dict]) -> bytes:
    """One task.multi message as kombu writes it, with a fresh delivery tag."""
    message = dict(envelope)
    message["properties"] = dict(envelope["properties"], delivery_tag=str(uuid.uuid4()))
    message["body"] = base64.b64encode(json.dumps(events).encode()).decode()
    return json.dumps(message).encode()


# -- what both targets share ----------------------------------------------------------------
class Recorder:
    """RSS samples, per-minute lines, the cap's moment, and optional tracemalloc snapshots."""

    def __init__(self, args, kept, received) -> None:
        self.args = args
        self.kept, self.received = kept, received
        self.t0 = time.monotonic()
        self.samples: list[tuple[float, float]] = []  # (minutes, RSS MB)
        self.capped_at: float | None = None
        self.received_at_cap = 0
        self.turned_over_at: float | None = None  # as many tasks again as the cap: all new
        self.next_minute = 1
        self.first_snapshot = None
        self.first_types: dict[str, int] | None = None
        self.gc_pauses: dict[int, list[float]] = {0: [], 1: [], 2: []}
        self._gc_started = 0.0
        gc.callbacks.append(self._on_gc)

    def _on_gc(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
        else:
            self.gc_pauses[info["generation"]].append(time.perf_counter() - self._gc_started)

    def sample(self) -> None:
        minutes = (time.monotonic() - self.t0) / 60
        rss = rss_mb()
        self.samples.append((minutes, rss))
        kept = self.kept()
        if self.capped_at is None and kept >= self.args.max_tasks:
            self.capped_at = minutes
            self.received_at_cap = self.received()
            print(
                f"  {minutes:5.2f} min  cap reached: {kept:,} tasks kept, RSS {rss:.0f} MB",
                flush=True,
            )
            if self.args.tracemalloc:
                self.first_snapshot = tracemalloc.take_snapshot()
        if (
            self.turned_over_at is None
            and self.capped_at is not None
            and self.received() >= 2 * self.received_at_cap
        ):
            self.turned_over_at = minutes
            print(f"  {minutes:5.2f} min  every kept task replaced once since the cap", flush=True)
        if (
            self.args.census
            and self.first_types is None
            and self.capped_at is not None
            and minutes >= self.capped_at + 1.0
        ):
            self.first_types = live_types()
        if minutes >= self.next_minute:
            self.next_minute += 1
            print(
                f"  {minutes:5.2f} min  RSS {rss:6.1f} MB  tasks kept {kept:>7,}  "
                f"events received {self.received():>10,}  GC-frozen objects "
                f"{gc.get_freeze_count():>9,}{heap_figures()}",
                flush=True,
            )

    def report(self) -> None:
        gc.callbacks.remove(self._on_gc)
        ms = 1000
        if self.capped_at is None:
            print("the cap was never reached: no growth figure (run longer or lower --max-tasks)")
        else:
            settle = self.capped_at + 1.0
            after = [(m, r) for m, r in self.samples if m >= settle]
            if after:
                print(
                    f"RSS after the cap: {after[0][1]:.1f} MB at {after[0][0]:.1f} min -> "
                    f"{after[-1][1]:.1f} MB at {after[-1][0]:.1f} min; growth "
                    f"{slope(after):+.2f} MB/min (least squares, {len(after)} samples; "
                    f"target <= 1 MB/min)"
                )
            else:
                print("too little time after the cap for a growth figure")
        if self.turned_over_at is not None:
            turned = [(m, r) for m, r in self.samples if m >= self.turned_over_at]
            if len(turned) >= 2:
                print(
                    f"RSS once every kept task was replaced: {turned[0][1]:.1f} MB at "
                    f"{turned[0][0]:.1f} min -> {turned[-1][1]:.1f} MB at {turned[-1][0]:.1f} "
                    f"min; growth {slope(turned):+.2f} MB/min (the steady state: the kept "
                    f"tasks' dict has made its last resize)"
                )
        for gen, pauses in self.gc_pauses.items():
            if pauses:
                print(
                    f"GC generation {gen}: {len(pauses)} collections, p99 "
                    f"{pct(pauses, 0.99) * ms:.1f} ms, max {max(pauses) * ms:.1f} ms"
                )
        if self.first_snapshot is not None:
            last = tracemalloc.take_snapshot()
            print(f"tracemalloc: the {self.args.tracemalloc} sites that grew most since the cap")
            for stat in last.compare_to(self.first_snapshot, "traceback")[: self.args.tracemalloc]:
                print(f"  {stat.size_diff / 2**20:+8.2f} MB  {stat.count_diff:+9,} blocks")
                for line in stat.traceback.format()[-8:]:
                    print(f"      {line}")


def heap_figures() -> str:
    """What malloc holds beside RSS (and what tracemalloc traces, when on): RSS growing while
    these stay flat is the allocator's fragmentation, not objects kept."""
    text = ""
    heap = malloc_mb()
    if heap is not None:
        text += f"  malloc in use {heap[0]:6.1f} MB, free in heaps {heap[1]:5.1f} MB"
    if tracemalloc.is_tracing():
        text += f"  traced {tracemalloc.get_traced_memory()[0] / 2**20:6.1f} MB"
    return text


def live_types() -> dict[str, int]:
    """How many objects of each type the collector tracks, frozen ones included (it unfreezes
    and freezes again: a diagnostic, which also freezes the young objects of the moment)."""
    from collections import Counter

    frozen = gc.get_freeze_count() > 0
    gc.unfreeze()
    counts = Counter(type(obj).__qualname__ for obj in gc.get_objects())
    if frozen:
        gc.freeze()
    return dict(counts)


def print_type_growth(before: dict[str, int], after: dict[str, int], top: int) -> None:
    grown = sorted(((after.get(k, 0) - before.get(k, 0), k) for k in after), reverse=True)
    print(f"tracked objects by type, growth since a minute after the cap (top {top}):")
    for diff, name in grown[:top]:
        print(f"  {diff:>+9,}  {name}  (now {after[name]:,})")


def garbage_census(top: int) -> None:
    """Unfreeze and collect once, saving what is freed: the kinds of cyclic garbage that
    freezing kept alive (or that was pending) and would have piled up."""
    from collections import Counter

    gc.unfreeze()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        gc.collect()
        counts = Counter(type(obj).__qualname__ for obj in gc.garbage)
        print(f"cyclic garbage at the end: {len(gc.garbage):,} objects; the most common:")
        for name, count in counts.most_common(top):
            print(f"  {count:>9,}  {name}")
    finally:
        gc.set_debug(0)
        gc.garbage.clear()


# -- the targets ----------------------------------------------------------------------------
async def soak_tui(args, settings) -> None:
    from celerytui.app import make_app

    app = make_app(settings)
    lags: list[float] = []
    width, height = (int(v) for v in args.size.split("x"))
    async with app.run_test(size=(width, height)) as pilot:
        monitor = app.monitor
        recorder = Recorder(
            args, lambda: len(monitor.state.tasks), lambda: monitor.events.status.events_received
        )
        stop = recorder.t0 + args.minutes * 60
        next_sample = recorder.t0
        expected = time.perf_counter() + TIMER_INTERVAL
        while time.monotonic() < stop:
            await asyncio.sleep(TIMER_INTERVAL)
            now = time.perf_counter()
            lags.append(max(0.0, now - expected))
            expected = now + TIMER_INTERVAL
            if time.monotonic() >= next_sample:
                next_sample += SAMPLE_EVERY
                recorder.sample()
                expected = time.perf_counter() + TIMER_INTERVAL  # the sample is ours, not lag
        if args.census:  # while the app still runs: its garbage, not its teardown's
            if recorder.first_types is not None:
                print_type_growth(recorder.first_types, live_types(), args.census)
            garbage_census(args.census)
        await pilot.press("q")
    recorder.report()
    policy = getattr(app, "gc_policy", None)
    if policy is not None:
        print(
            f"the app's full GC passes (unfreeze + collect): {policy.full_passes}; freezes put "
            f"off until a poll had ended: {policy.waits}"
        )
    ms = 1000
    print(
        f"event-loop lag ({len(lags):,} samples of a {TIMER_INTERVAL * ms:.0f} ms timer): "
        f"p50 {pct(lags, 0.5) * ms:.1f} ms  p99 {pct(lags, 0.99) * ms:.1f} ms  "
        f"max {max(lags, default=0) * ms:.1f} ms   (target p99 <= 50 ms)"
    )


def soak_exporter(args, settings) -> None:
    from celerytui.commands.exporter import MetricsService
    from celerytui.tasks import make_celery_app

    service = MetricsService(settings, make_celery_app(settings))
    server = service.serve("127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.server_address[1]}/metrics"
    monitor = service.monitor

    def kept() -> int:
        with monitor.lock:
            return len(monitor.state.tasks)

    recorder = Recorder(args, kept, lambda: monitor.events.status.events_received)
    scrapes: list[float] = []
    failed = 0
    stop = recorder.t0 + args.minutes * 60
    next_sample, next_scrape = recorder.t0, recorder.t0 + SCRAPE_EVERY
    try:
        while time.monotonic() < stop:
            time.sleep(0.1)
            if time.monotonic() >= next_scrape:
                next_scrape += SCRAPE_EVERY
                t0 = time.perf_counter()
                try:
                    with urllib.request.urlopen(url, timeout=30) as response:
                        response.read()
                    scrapes.append(time.perf_counter() - t0)
                except OSError as exc:
                    failed += 1
                    print(f"  scrape failed: {exc}", flush=True)
            if time.monotonic() >= next_sample:
                next_sample += SAMPLE_EVERY
                recorder.sample()
    finally:
        service.close()
    recorder.report()
    if args.census:
        if recorder.first_types is not None:
            print_type_growth(recorder.first_types, live_types(), args.census)
        garbage_census(args.census)
    ms = 1000
    print(
        f"/metrics scrape ({len(scrapes)} every {SCRAPE_EVERY:.0f} s): p50 "
        f"{pct(scrapes, 0.5) * ms:.0f} ms  max {max(scrapes, default=0) * ms:.0f} ms; "
        f"{failed} failed"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", choices=("tui", "exporter"), default="tui")
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=2000.0, help="events per second")
    parser.add_argument(
        "--burst",
        type=float,
        default=0.5,
        help="seconds between bursts (each carries rate x burst events)",
    )
    parser.add_argument("--workers", type=int, default=20, help="simulated celery workers")
    parser.add_argument("--max-tasks", type=int, default=100_000)
    parser.add_argument("--size", default="120x40", help="terminal WIDTHxHEIGHT (tui)")
    parser.add_argument(
        "--tracemalloc",
        type=int,
        default=0,
        metavar="N",
        help="print the N allocation sites that grew most after the cap",
    )
    parser.add_argument(
        "--census",
        type=int,
        default=0,
        metavar="N",
        help="at the end, the N most common types in the cyclic garbage",
    )
    args = parser.parse_args(argv)

    from celerytui.config import load_settings
    from celerytui.tasks import make_celery_app

    server = RedisServer().start()
    stop = mp.get_context("fork").Event()
    proc = None
    try:
        url = f"redis://127.0.0.1:{server.port}/0"
        settings = load_settings(
            broker_url=url,
            result_backend=f"redis://127.0.0.1:{server.port}/1",
            max_tasks=args.max_tasks,
        )
        capture = make_celery_app(settings)
        channel, envelope = capture_envelope(capture, server.port)
        capture.close()
        proc = mp.get_context("fork").Process(
            target=publisher,
            daemon=True,
            args=(server.port, channel, envelope, args.rate, args.burst, args.workers, stop),
        )
        print(
            f"soak: {args.target} for {args.minutes:g} min, {args.rate:,.0f} events/s in "
            f"bursts every {args.burst:g} s from {args.workers} workers, max_tasks "
            f"{args.max_tasks:,}; redis-server on port {server.port}; RSS now "
            f"{rss_mb():.0f} MB",
            flush=True,
        )
        proc.start()
        if args.tracemalloc:  # after the fork: the publisher's allocations are not traced
            tracemalloc.start(12)
        if args.target == "tui":
            asyncio.run(soak_tui(args, settings))
        else:
            threading.current_thread().name = "soak"
            soak_exporter(args, settings)
    finally:
        stop.set()
        if proc is not None:
            proc.join(5)
            if proc.is_alive():
                proc.kill()
        server.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
