"""UI responsiveness while ingesting: event-loop lag and key-to-screen latency.

    .venv/bin/python benchmarks/ui_lag.py                 # 10k events/s, 200 workers, 10 s
    .venv/bin/python benchmarks/ui_lag.py --rate 20000 --seconds 20 --size 160x48
    .venv/bin/python benchmarks/ui_lag.py --journal --seconds 30   # recording into a journal too
    .venv/bin/python benchmarks/ui_lag.py --journal-in-process --seconds 30   # the old way

The real app runs headless (``run_test``) over a real ClusterState inside a Monitor stand-in
whose ``pump()`` applies synthetic events (benchmarks/synthetic.py: task events and heartbeats
from 200 workers) at the requested rate, stamped with the real clock — the same pump thread and
redraw path as against a broker. Measured:

* event-loop lag: a repeating 10 ms timer on the UI loop; lag = actual firing - expected;
* key-to-screen: press ``p`` and time until the composed screen shows (or stops showing)
  "paused" in its top line (the header; the compositor renders that line only:
  ``--whole-screen-poll`` renders the whole screen at each 1 ms check, as this benchmark did
  until issue 11, itself 10-20 ms of the loop per check at 10k events/s);
* CPU seconds per second of the UI loop's thread and the pump's (load-independent, unlike
  the lag).

Where the time goes: ``--stalls MS`` samples every thread's stack while the loop is MS ms
late, ``--slow-callbacks MS`` times the loop's callbacks and lists those over MS ms
(benchmarks/loop_stalls.py).

``--journal`` records as the TUI does now: a child process (celerytui/journal_child.py's
``record``, started by celerytui/journal_process.py) with its own stand-in Monitor fed the same
stream at the same rate, so the two processes share the machine's cores as they would on a
broker. ``--journal-in-process`` is the old way (before the child): a Recorder on a thread of
this process, fed by the pump — the figure the child was built to remove.

Prints figures; asserts nothing about time (target: lag p99 <= 50 ms).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import statistics
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from textual import events
from textual.geometry import Region
from textual.strip import Strip

from benchmarks.loop_stalls import LoopStalls, SlowCallbacks
from benchmarks.synthetic import generate_events
from celerytui.app import make_app
from celerytui.config import Settings
from celerytui.core.alerts import AlertBook
from celerytui.core.model import Changes, StreamStatus
from celerytui.core.state import ClusterState

TIMER_INTERVAL = 0.010


class FeedMonitor:
    """A Monitor stand-in fed from a pre-generated stream at ``rate`` events per second."""

    def __init__(self, events: list[dict], rate: float, max_tasks: int):
        self.state = ClusterState(max_tasks=max_tasks)
        self.clock = time.time
        self.lock = threading.RLock()
        self.alerts = AlertBook()
        self.events = SimpleNamespace(
            status=StreamStatus(connected=True, since=time.time(), broker="synthetic://")
        )
        self.controller = None
        self.app = None
        self.broker_display = "synthetic://"
        self._stream = events
        self._pos = 0
        self._rate = rate
        self._began: float | None = None
        self.applied = 0
        self.pump_seconds: list[float] = []
        self.note_seconds: list[float] = []  # --journal: Recorder.note's part of each pump
        self.journal = None  # --journal: a Recorder fed each pump, as Monitor.pump does
        self.thread: int | None = None  # the pump thread's ident (its CPU time is read)

    def start(self):
        return self

    def stop(self, timeout: float = 2.0) -> None:
        return None

    def begin(self) -> None:
        self._began = time.monotonic()

    def pump(self, max_events: int = 100_000) -> Changes:
        if self._began is None:
            return Changes()
        self.thread = threading.get_ident()
        t0 = time.perf_counter()
        due = min(len(self._stream), int((time.monotonic() - self._began) * self._rate))
        batch = self._stream[self._pos : due]
        self._pos = due
        now = time.time()
        for ev in batch:
            ev["local_received"] = now
            ev["timestamp"] = now
        changes = self.state.apply(batch)
        changes.merge(self.state.tick(now))
        self.alerts.evaluate(self.state, changes, now=now, stream_status=self.events.status)
        if self.journal is not None:
            t1 = time.perf_counter()
            self.journal.note(batch, changes, self.state, self.alerts)
            self.note_seconds.append(time.perf_counter() - t1)
        self.applied += len(batch)
        self.pump_seconds.append(time.perf_counter() - t0)
        return changes

    def events_per_second(self) -> float:
        if self._began is None:
            return 0.0
        return self.applied / max(1e-6, time.monotonic() - self._began)


class ChildFeed(FeedMonitor):
    """--journal's child: the stand-in Monitor the journal child records from, pumped on a
    thread of its own every 0.1 s as Monitor.run_in_thread does."""

    def __init__(self, events: list[dict], rate: float, max_tasks: int):
        super().__init__(events, rate, max_tasks)
        self.app = SimpleNamespace(conf=SimpleNamespace(broker_url="synthetic://"))
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_in_thread(self, interval: float = 0.1) -> None:
        def loop() -> None:
            while not self._stop.wait(interval):
                with self.lock:
                    self.pump()

        self.begin()
        self._thread = threading.Thread(target=loop, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        if self.journal is not None:
            self.journal.stop(max(timeout, 5.0))


def synthetic_stream(args) -> list[dict]:
    stream: list[dict] = []
    total = int(args.rate * args.seconds) + args.prefill
    for batch in generate_events(total, workers=args.workers, seed=7, batch=1000):
        stream.extend(batch)
    return stream


def prefilled(monitor: FeedMonitor, stream: list[dict], prefill: int) -> None:
    now = time.time()
    for ev in stream[:prefill]:
        ev["local_received"] = now
        ev["timestamp"] = now
    monitor.state.apply(stream[:prefill])


def feed_child(args) -> int:
    """`ui_lag.py --feed-child ...`: the journal child, its monitor fed the synthetic stream
    (the TUI's stand-in gets the same one); started by JournalProcess, like the real one."""
    from celerytui import journal_child

    def make_monitor(settings):
        stream = synthetic_stream(args)
        monitor = ChildFeed(stream[args.prefill :], args.rate, args.max_tasks)
        prefilled(monitor, stream, args.prefill)
        gc.freeze()
        return monitor

    stop = threading.Event()
    request = json.loads(sys.stdin.readline())
    threading.Thread(
        target=journal_child._watch_parent, args=(sys.stdin.buffer, stop), daemon=True
    ).start()
    return journal_child.record(
        journal_child.settings_from_json(request["settings"]),
        sys.stdout,
        stop,
        make_monitor=make_monitor,
        checkpoint_every=args.checkpoint_every,
        checkpoint_events=1,
        task_events=0,
    )


def child_command(args) -> list[str]:
    return [
        sys.executable,
        str(Path(__file__).resolve()),
        "--feed-child",
        *("--rate", str(args.rate), "--seconds", str(args.seconds + 5)),
        *("--workers", str(args.workers), "--prefill", str(args.prefill)),
        *("--max-tasks", str(args.max_tasks), "--checkpoint-every", str(args.checkpoint_every)),
    ]


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a running process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


writer_parts: dict[str, list[float]] = {}  # --journal: seconds the writer spent, by step


def time_writer_parts(store) -> None:
    """Time what the recorder's writer thread does (it shares the GIL with the UI loop): the
    store's flush (events encoded into chunks, SQL) and each checkpoint's encoding."""
    from celerytui.core import state_snapshot

    def timed(name, fn):
        def call(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                writer_parts.setdefault(name, []).append(time.perf_counter() - t0)

        return call

    store.flush = timed("store.flush", store.flush)
    state_snapshot.encode = timed("state_snapshot.encode", state_snapshot.encode)


def thread_cpu(ident: int) -> float:
    """CPU seconds a thread of this process has run (Linux, macOS)."""
    return time.clock_gettime(time.pthread_getcpuclockid(ident))


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def screen_has(app, text: str) -> bool:
    """The composed screen shows ``text`` (the whole screen rendered: ``--whole-screen-poll``,
    as this benchmark did before: a render of every line each millisecond while waiting,
    10-20 ms of the loop per check at 10k events/s, more than the app's own redraw)."""
    strips = app.screen._compositor.render_strips()
    return any(text in "".join(seg.text for seg in strip) for strip in strips)


def header_has(app, text: str) -> bool:
    """The composed screen's top line (the header, where "paused" shows) holds ``text``: the
    compositor renders that line only, as a terminal update of it would."""
    compositor = app.screen._compositor
    chops = compositor._render_chops(Region(0, 0, compositor.size.width, 1), lambda y: y == 0)
    return text in "".join(seg.text for seg in Strip.join(chops[0].values()))


async def run(args) -> None:
    total = int(args.rate * args.seconds)
    print(f"generating {total + args.prefill:,} synthetic events from {args.workers} workers ...")
    stream = synthetic_stream(args)
    monitor = FeedMonitor(stream[args.prefill :], args.rate, args.max_tasks)
    if args.prefill:
        prefilled(monitor, stream, args.prefill)
    journal_dir = None
    child = None
    settings = Settings(cluster_name="bench", broker_url="synthetic://")
    if args.journal:
        import tempfile

        from celerytui.journal_process import JournalProcess

        journal_dir = tempfile.TemporaryDirectory(prefix="celerytui-ui-lag-")
        settings.store = f"{journal_dir.name}/journal.sqlite3"
        child = JournalProcess(settings, command=child_command(args)).start()
        print("waiting for the journal child (it builds the same stream) ...")
        deadline = time.monotonic() + 300
        while not child.status.recording and time.monotonic() < deadline:
            if child.ended.wait(0.2):
                sys.exit(f"the journal child ended: {child.take_notices()}")
        child_cpu0 = cpu_seconds(child.pid)
    if args.journal_in_process:
        import tempfile

        from celerytui.core.journal import open_store
        from celerytui.core.journal.recorder import Recorder

        journal_dir = tempfile.TemporaryDirectory(prefix="celerytui-ui-lag-")
        store = open_store(f"{journal_dir.name}/journal.sqlite3", cluster="bench", write=True)
        # a checkpoint every --checkpoint-every s (in use: >= 60 s and 5 events a task apart)
        # so a short run pays for some
        time_writer_parts(store)
        monitor.journal = Recorder(
            store, checkpoint_every=args.checkpoint_every, checkpoint_events=1, task_events=0
        ).start()
    gc.freeze()  # the pre-generated stream is the benchmark's, not the app's: keep GC off it
    print(f"state before: {len(monitor.state.tasks):,} tasks, {len(monitor.state.workers)} workers")
    width, height = (int(v) for v in args.size.split("x"))
    app = make_app(settings, monitor=monitor)
    if child is not None:
        app._recorder = child  # its notices, as _start_recording would (the TUI's path)
    draws: list[float] = []
    on_pumped = app._on_pumped

    def timed_on_pumped(changes):
        t0 = time.perf_counter()
        on_pumped(changes)
        draws.append(time.perf_counter() - t0)

    app._on_pumped = timed_on_pumped
    lags: list[float] = []
    keys: list[float] = []
    stalls = LoopStalls(threshold=args.stalls / 1000).start() if args.stalls else None
    slow = SlowCallbacks(args.slow_callbacks / 1000).start() if args.slow_callbacks else None
    async with app.run_test(size=(width, height)) as pilot:
        await pilot.pause(0.3)
        monitor.begin()
        stop = time.monotonic() + args.seconds

        async def sample_lag() -> None:
            expected = time.perf_counter() + TIMER_INTERVAL
            while time.monotonic() < stop:
                await asyncio.sleep(TIMER_INTERVAL)
                now = time.perf_counter()
                lags.append(max(0.0, now - expected))
                expected = now + TIMER_INTERVAL
                if stalls is not None:
                    stalls.beat()

        sampler = asyncio.create_task(sample_lag())
        ui_cpu0 = time.thread_time()
        pump_cpu0: float | None = None
        paused = False
        shows = screen_has if args.whole_screen_poll else header_has
        while time.monotonic() < stop - 0.5:
            await asyncio.sleep(0.25)
            t0 = time.perf_counter()
            app.post_message(events.Key("p", "p"))  # as the terminal driver delivers it
            paused = not paused
            while shows(app, "paused") != paused:
                await asyncio.sleep(0.001)
                if time.perf_counter() - t0 > 5:
                    break
            keys.append(time.perf_counter() - t0)
            if pump_cpu0 is None and monitor.thread is not None:
                pump_cpu0 = thread_cpu(monitor.thread)
        await sampler
        ui_cpu = time.thread_time() - ui_cpu0
        pump_cpu = thread_cpu(monitor.thread) - (pump_cpu0 or 0.0) if monitor.thread else 0.0
        if paused:
            app.post_message(events.Key("p", "p"))
        applied = monitor.applied
    if stalls is not None:
        stalls.stop()
    if slow is not None:
        slow.stop()
    ms = 1000
    print(
        f"ingested {applied:,} events in {args.seconds:.0f} s "
        f"({applied / args.seconds:,.0f}/s; target {args.rate:,.0f}/s); "
        f"state: {len(monitor.state.tasks):,} tasks, {len(monitor.state.workers)} workers"
    )
    print(
        f"CPU seconds per second of the run: UI loop thread {ui_cpu / args.seconds:.2f}, "
        f"pump thread {pump_cpu / args.seconds:.2f}   (load {os.getloadavg()[0]:.2f})"
    )
    pumps = monitor.pump_seconds
    print(
        f"pump (apply+tick+alerts, off the UI loop): p50 {pct(pumps, 0.5) * ms:.1f} ms"
        f"  p99 {pct(pumps, 0.99) * ms:.1f} ms"
    )
    print(
        f"redraw per tick (refresh_view, on the UI loop): p50 {pct(draws, 0.5) * ms:.1f} ms"
        f"  p99 {pct(draws, 0.99) * ms:.1f} ms"
    )
    print(
        f"event-loop lag ({len(lags)} samples of a {TIMER_INTERVAL * ms:.0f} ms timer): "
        f"p50 {pct(lags, 0.5) * ms:.1f} ms  p99 {pct(lags, 0.99) * ms:.1f} ms  "
        f"p999 {pct(lags, 0.999) * ms:.1f} ms  "
        f"max {max(lags, default=0) * ms:.1f} ms   (target p99 <= 50 ms)"
    )
    print(
        f"key-to-screen ('p', {len(keys)} presses): p50 {pct(keys, 0.5) * ms:.1f} ms  "
        f"p99 {pct(keys, 0.99) * ms:.1f} ms  "
        f"mean {statistics.fmean(keys) * ms if keys else 0:.1f} ms"
    )
    if stalls is not None:
        stalls.report()
    if slow is not None:
        slow.report()
    if monitor.journal is not None:
        notes = monitor.note_seconds
        print(
            f"  of which the journal's note (incl. a checkpoint's capture): p50 "
            f"{pct(notes, 0.5) * ms:.1f} ms  p99 {pct(notes, 0.99) * ms:.1f} ms  max "
            f"{max(notes, default=0) * ms:.1f} ms"
        )
        for name, spent in sorted(writer_parts.items()):
            print(
                f"  journal writer thread, {name}: {len(spent)} calls, total "
                f"{sum(spent):.2f} s, max {max(spent) * ms:.0f} ms"
            )
        monitor.journal.stop(30)
        st = monitor.journal.status
        print(
            f"journal: {st.events_recorded:,} events recorded, {st.events_dropped:,} dropped, "
            f"{st.checkpoints} checkpoints, last error {st.last_error}"
        )
        journal_dir.cleanup()
    if child is not None:
        cpu = cpu_seconds(child.pid) - child_cpu0
        child.stop()
        child.wait(30)
        st = child.status
        print(
            f"journal child process (pid {child.pid}): {cpu:.1f} CPU s during the run; "
            f"{st.events_recorded:,} events recorded, {st.events_dropped:,} dropped, "
            f"{st.checkpoints} checkpoints, last error {st.last_error}; "
            f"notices {child.take_notices()}"
        )
        assert journal_dir is not None
        journal_dir.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=10_000, help="events per second")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=200)
    parser.add_argument(
        "--prefill",
        type=int,
        default=200_000,
        help="events applied before measuring (fills the state)",
    )
    parser.add_argument("--max-tasks", type=int, default=100_000)
    parser.add_argument("--size", default="80x24", help="terminal WIDTHxHEIGHT")
    parser.add_argument(
        "--journal",
        action="store_true",
        help="record into a SQLite journal from a child process (as the TUI does)",
    )
    parser.add_argument(
        "--journal-in-process",
        action="store_true",
        help="record into a SQLite journal from a thread of this process (the old way)",
    )
    parser.add_argument(
        "--stalls",
        type=float,
        default=0.0,
        metavar="MS",
        help="sample every thread's stack while the loop is MS ms late (benchmarks/loop_stalls.py)",
    )
    parser.add_argument(
        "--slow-callbacks",
        type=float,
        default=0.0,
        metavar="MS",
        help="time the loop's callbacks, report those over MS ms (benchmarks/loop_stalls.py)",
    )
    parser.add_argument(
        "--whole-screen-poll",
        action="store_true",
        help="key-to-screen: render the whole screen at each check (the old way), not the header",
    )
    parser.add_argument("--feed-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--checkpoint-every",
        type=float,
        default=15.0,
        help="--journal: seconds between checkpoints",
    )
    args = parser.parse_args()
    if args.feed_child:
        sys.exit(feed_child(args))
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
