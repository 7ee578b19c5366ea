"""Where the threads are while the UI loop stalls: a watchdog thread for ui_lag.py ``--stalls``.

The loop beats (``beat()``, from its 10 ms lag timer); a daemon thread wakes every ``period``
and, when the last beat is older than ``threshold``, takes ``sys._current_frames()``: the
innermost frames of every thread, counted by stack. Each sample stands for ``period`` of stall,
so the counts say where the stalled time went: the loop thread inside a callback (a redraw),
or waiting for the GIL while the pump thread (or a C call) holds it. Garbage collections are
timed too (``gc.callbacks``), with the thread that ran them.

The watchdog needs the GIL to take a sample, so a C call that holds the GIL for 40 ms shows up
as the frame that made it, sampled once it returns.
"""

from __future__ import annotations

import collections
import gc
import sys
import threading
import time
from pathlib import Path
from types import FrameType

ROOT = str(Path(__file__).resolve().parents[1])


def _short(frame: FrameType) -> str:
    name = frame.f_code.co_filename
    for prefix in (ROOT + "/", "site-packages/", "lib/python3."):
        if prefix in name:
            name = name.split(prefix, 1)[1]
    return f"{name}:{frame.f_lineno} {frame.f_code.co_name}"


def _task(frame: FrameType | None) -> str:
    """What the loop thread is busy with: the deepest celerytui frame (else the innermost),
    under which of the loop's callbacks (the frame the asyncio handle called)."""
    innermost = _short(frame) if frame is not None else "?"
    ours = None
    callback = None
    while frame is not None:
        name = frame.f_code.co_filename
        if ours is None and "/celerytui/" in name:
            ours = _short(frame)
        caller = frame.f_back
        if (
            caller is not None
            and caller.f_code.co_name == "_run"
            and "asyncio" in (caller.f_code.co_filename)
        ):
            callback = _short(frame)
        frame = caller
    return f"{callback or 'the loop itself'} | {ours or innermost}"


def _where(frame: FrameType | None, depth: int) -> str:
    parts: list[str] = []
    while frame is not None and len(parts) < depth:
        code = frame.f_code
        name = code.co_filename
        for prefix in (ROOT + "/", "site-packages/"):
            if prefix in name:
                name = name.split(prefix, 1)[1]
        parts.append(f"{name}:{frame.f_lineno} {code.co_name}")
        frame = frame.f_back
    return "\n      ".join(parts)


class LoopStalls:
    def __init__(self, threshold: float = 0.030, period: float = 0.002, depth: int = 8):
        self.threshold = threshold
        self.period = period
        self.depth = depth
        self.samples: dict[str, collections.Counter[str]] = collections.defaultdict(
            collections.Counter
        )
        self.stalled_samples = 0
        self.loop_tasks: collections.Counter[str] = collections.Counter()
        self.while_idle: collections.Counter[str] = collections.Counter()  # pump, loop in select
        self.gcs: list[tuple[int, float, float, str]] = []  # (generation, s, CPU s, thread)
        self._beat = time.perf_counter()
        self._stop = threading.Event()
        self._gc_began: dict[int, tuple[float, float]] = {}
        self._thread = threading.Thread(target=self._run, name="loop-stalls", daemon=True)

    def beat(self) -> None:
        self._beat = time.perf_counter()

    def start(self) -> LoopStalls:
        gc.callbacks.append(self._gc)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(2)
        gc.callbacks.remove(self._gc)

    def _gc(self, phase: str, info: dict) -> None:
        ident = threading.get_ident()
        if phase == "start":
            self._gc_began[ident] = (time.perf_counter(), time.thread_time())
        elif ident in self._gc_began:
            wall, cpu = self._gc_began.pop(ident)
            self.gcs.append(
                (
                    info["generation"],
                    time.perf_counter() - wall,
                    time.thread_time() - cpu,
                    threading.current_thread().name,
                )
            )

    def _run(self) -> None:
        me = threading.get_ident()
        while not self._stop.wait(self.period):
            if time.perf_counter() - self._beat < self.threshold:
                continue
            self.stalled_samples += 1
            names = {t.ident: t.name for t in threading.enumerate()}
            frames = sys._current_frames()
            main = frames.get(threading.main_thread().ident)
            if main is not None and main.f_code.co_name == "select":
                # the loop is due but not running: who has the GIL (or the OS the CPU)?
                others = [
                    _short(f)
                    for i, f in frames.items()
                    if i not in (me, threading.main_thread().ident)
                    and names.get(i, "").startswith("asyncio")
                ]
                self.while_idle[" / ".join(others) or "-"] += 1
            for ident, frame in frames.items():
                if ident == me:
                    continue
                name = names.get(ident, str(ident))
                if ident == threading.main_thread().ident:
                    self.loop_tasks[_task(frame)] += 1
                if name.startswith("journal") or "heap-trim" in name:
                    continue
                self.samples[name][_where(frame, self.depth)] += 1

    def report(self, top: int = 6) -> None:
        ms = 1000
        print(
            f"stalls (> {self.threshold * ms:.0f} ms since the loop's last beat): "
            f"{self.stalled_samples} samples x {self.period * ms:.0f} ms"
        )
        print("  the loop thread, by callback | deepest celerytui frame:")
        for where, count in self.loop_tasks.most_common(12):
            print(f"    {count:5d}  {where}")
        print("  the pump thread while the loop thread was in select:")
        for where, count in self.while_idle.most_common(8):
            print(f"    {count:5d}  {where}")
        for name, counter in sorted(self.samples.items()):
            total = sum(counter.values())
            if total < self.stalled_samples * 0.05:
                continue
            print(f"  thread {name}: {total} samples")
            for stack, count in counter.most_common(top):
                print(f"    {count:5d}  {stack}")
        by_gen: dict[tuple[int, str], list[tuple[float, float]]] = collections.defaultdict(list)
        for generation, spent, cpu, thread in self.gcs:
            by_gen[(generation, thread)].append((spent, cpu))
        for (generation, thread), passes in sorted(by_gen.items()):
            wall = sorted(w for w, _ in passes)
            cpu = sorted(c for _, c in passes)
            q = int(0.99 * (len(wall) - 1))
            print(
                f"  gc gen {generation} on {thread}: {len(wall)} passes, wall total "
                f"{sum(wall) * ms:.0f} ms p50 {wall[len(wall) // 2] * ms:.1f} p99 "
                f"{wall[q] * ms:.1f} max {wall[-1] * ms:.1f}; CPU total {sum(cpu) * ms:.0f} ms"
                f" p99 {cpu[q] * ms:.1f} max {cpu[-1] * ms:.1f}"
            )


class SlowCallbacks:
    """Times every callback the asyncio loop runs (``Handle._run``): wall and CPU, grouped by
    what ran (the coroutine or function), to see which ones hold the loop the longest."""

    def __init__(self, over: float = 0.010):
        self.over = over
        self.by_name: dict[str, list[tuple[float, float]]] = collections.defaultdict(list)
        self._original = None

    def start(self) -> SlowCallbacks:
        import asyncio.events

        original = asyncio.events.Handle._run
        self._original = original
        by_name = self.by_name
        over = self.over

        def _run(handle):  # type: ignore[no-untyped-def]
            wall, cpu = time.perf_counter(), time.thread_time()
            try:
                return original(handle)
            finally:
                spent = time.perf_counter() - wall
                if spent > over:
                    by_name[_handle_name(handle)].append((spent, time.thread_time() - cpu))

        asyncio.events.Handle._run = _run  # type: ignore[method-assign]
        return self

    def stop(self) -> None:
        import asyncio.events

        if self._original is not None:
            asyncio.events.Handle._run = self._original  # type: ignore[method-assign]

    def report(self, top: int = 12) -> None:
        ms = 1000
        print(f"loop callbacks over {self.over * ms:.0f} ms (wall): by total wall time")
        rows = sorted(self.by_name.items(), key=lambda item: -sum(w for w, _ in item[1]))
        for name, spent in rows[:top]:
            wall = sorted(w for w, _ in spent)
            cpu = sorted(c for _, c in spent)
            print(
                f"  {len(wall):5d} x  wall p50 {wall[len(wall) // 2] * ms:5.1f} max "
                f"{wall[-1] * ms:6.1f}  CPU p50 {cpu[len(cpu) // 2] * ms:5.1f} max "
                f"{cpu[-1] * ms:6.1f}  {name}"
            )


def _handle_name(handle) -> str:  # type: ignore[no-untyped-def]
    callback = handle._callback
    task = getattr(callback, "__self__", None)
    coro = getattr(task, "get_coro", None)
    if coro is not None:
        c = coro()
        frame = getattr(c, "cr_frame", None)
        code = getattr(c, "cr_code", None) or getattr(c, "gi_code", None)
        where = _short(frame) if frame is not None else ""
        return f"task {getattr(code, 'co_qualname', c)} @ {where}"
    return getattr(callback, "__qualname__", repr(callback))
