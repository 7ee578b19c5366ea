"""Bounded statistics ClusterState keeps: per task name, per second, per worker.

Everything here has a fixed size (rings, windows, capped key sets) so a monitor that runs for
weeks uses the same memory on day 30 as on day 1.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections import deque

# prometheus_client's (and celery-exporter's) default histogram buckets, in seconds.
DEFAULT_BUCKETS: tuple[float, ...] = (
    0.005,
    0.01,
    0.025,
    0.05,
    0.075,
    0.1,
    0.25,
    0.5,
    0.75,
    1.0,
    2.5,
    5.0,
    7.5,
    10.0,
    float("inf"),
)
RUNTIME_WINDOW = 1_000  # runtimes kept per task name for p50 / p95 / max
THROUGHPUT_KINDS = ("sent", "received", "started", "succeeded", "failed", "retried")
THROUGHPUT_SECONDS = 900  # 15 minutes
WORKER_SERIES_SECONDS = 120


class TaskStats:
    """Per task name: tasks in memory by state, and a sliding window of runtimes.

    The sorted window is cached until the next runtime arrives, so a table reading p50, p95
    and max of every name on each refresh sorts each window at most once.
    """

    __slots__ = ("_sorted", "counts", "name", "runtimes")

    def __init__(self, name: str, window: int = RUNTIME_WINDOW) -> None:
        self.name = name
        self.counts: dict[str, int] = {}
        self.runtimes: deque[float] = deque(maxlen=window)
        self._sorted: list[float] | None = None

    def add_runtime(self, runtime: float) -> None:
        self.runtimes.append(runtime)
        self._sorted = None

    def _ordered(self) -> list[float]:
        if self._sorted is None or len(self._sorted) != len(self.runtimes):
            self._sorted = sorted(self.runtimes)
        return self._sorted

    def _quantile(self, q: float) -> float | None:
        if not self.runtimes:
            return None
        return _nearest_rank(self._ordered(), q)

    @property
    def p50(self) -> float | None:
        return self._quantile(0.50)

    @property
    def p95(self) -> float | None:
        return self._quantile(0.95)

    @property
    def p99(self) -> float | None:
        return self._quantile(0.99)

    @property
    def max(self) -> float | None:
        return self._ordered()[-1] if self.runtimes else None

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def __repr__(self) -> str:
        return f"TaskStats({self.name!r}, counts={self.counts}, p50={self.p50}, p95={self.p95})"


class RuntimeHistogram:
    """A Prometheus-style histogram of task runtimes (cumulative since the state began)."""

    __slots__ = ("_per_bucket", "buckets", "count", "sum")

    def __init__(self, buckets: tuple[float, ...] = DEFAULT_BUCKETS) -> None:
        self.buckets = buckets
        self._per_bucket = [0] * len(buckets)
        self.sum = 0.0
        self.count = 0

    def observe(self, value: float) -> None:
        self._per_bucket[bisect_left(self.buckets, value)] += 1
        self.sum += value
        self.count += 1

    @property
    def counts(self) -> list[int]:
        """Cumulative: counts[i] is how many runtimes were <= buckets[i]."""
        out, running = [], 0
        for n in self._per_bucket:
            running += n
            out.append(running)
        return out


class SecondRing:
    """Counts per second for the last `size` seconds, in fixed arrays (one per kind).

    Slot i holds second `seconds[i]`; a slot is zeroed when a newer second claims it, so the
    ring never grows and old seconds read as 0.
    """

    __slots__ = ("counts", "newest", "seconds", "size")

    def __init__(self, kinds: int, size: int) -> None:
        self.size = size
        self.seconds = [-1] * size
        self.counts = [[0] * size for _ in range(kinds)]
        self.newest = -1

    def slot(self, second: int) -> int:
        """The slot index for `second`, claiming it if needed; -1 if too old to keep."""
        size = self.size
        i = second % size
        held = self.seconds[i]
        if held == second:
            return i
        if second <= self.newest - size or held > second:
            return -1
        self.seconds[i] = second
        for row in self.counts:
            row[i] = 0
        if second > self.newest:
            self.newest = second
        return i

    def series(self, kind: int, now_second: int, seconds: int) -> list[int]:
        """`seconds` values, oldest first, the last one is `now_second`."""
        seconds = max(0, min(seconds, self.size))
        row, held, size = self.counts[kind], self.seconds, self.size
        out = []
        for s in range(now_second - seconds + 1, now_second + 1):
            i = s % size
            out.append(row[i] if held[i] == s else 0)
        return out


def percentile_summary(stats: TaskStats) -> tuple[float | None, float | None, float | None]:
    """(p50, p95, max) sorting the window once — for tables showing all three."""
    return stats.p50, stats.p95, stats.max


def _nearest_rank(ordered: list[float], q: float) -> float:
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]
