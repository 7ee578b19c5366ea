"""JournalSource hands over whole batches: whatever the pace and however the consumer drains,
every recorded event comes out once, in order, none before its time; a journal that grows
while it is replayed (open-ended) gives its new events too, none twice."""

from __future__ import annotations

from benchmarks.synthetic import generate_events
from celerytui.core.journal import open_store
from celerytui.core.journal_source import JournalSource, event_time
from celerytui.core.replay_clock import ReplayClock
from tests.support.services import wait_for


def test_every_event_once_in_order_at_any_pace_and_as_the_journal_grows(tmp_path) -> None:
    spec = str(tmp_path / "grow.sqlite3")
    writer = open_store(spec, cluster="grow", write=True)
    first = [e for b in generate_events(12_000, rate=400.0, seed=9) for e in b]
    writer.append(first)
    writer.flush()
    t0, t1 = event_time(first[0]), event_time(first[-1])
    reader = open_store(spec, cluster="grow", write=False)
    wall = [0.0]
    clock = ReplayClock(t0, None, speed=1.0, wall=lambda: wall[0], horizon=lambda: t1 + 3600)
    source = JournalSource(reader, clock, max_tasks=100_000)
    got: list[dict] = []

    def drained(until: float) -> bool:
        source.wait(0.05)
        source.take_restored()  # the state at the start (what the replay monitor swaps in)
        for event in source.drain(777):  # smaller than a feeder batch: batches are split
            assert event_time(event) <= clock.now()  # never ahead of the replayed moment
            got.append(event)
        return source.cursor >= until and not source.pending

    source.start()
    try:
        half = t0 + (t1 - t0) / 2
        wall[0] = half - t0  # half way: only what is due comes out
        due = [e for e in first if t0 < event_time(e) <= half]  # those at t0: in the state
        wait_for(lambda: drained(event_time(due[-1])), timeout=30, what="the first half")
        assert got == due
        wall[0] = t1 - t0 + 1.0  # past the end of what is recorded
        wait_for(lambda: drained(t1), timeout=30, what="the rest")
        after_start = [e for e in first if event_time(e) > t0]
        assert got == after_start
        more = [e for b in generate_events(3_000, seed=10, start=t1 + 5.0) for e in b]
        writer.append(more)  # the journal grows while it is replayed
        writer.flush()
        wall[0] = event_time(more[-1]) - t0 + 1.0
        wait_for(lambda: drained(event_time(more[-1])), timeout=30, what="the new events")
        assert got == after_start + more
        assert source.restores == 1 and source.status.events_received == len(got)
    finally:
        source.stop()
        reader.close()
        writer.close()
