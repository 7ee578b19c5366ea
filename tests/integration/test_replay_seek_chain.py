"""A seek through checkpoint chains (a full snapshot, then deltas) gives exactly the state
that every event from the start gives: the real Recorder writes the checkpoints into a real
SQLite journal while a stream runs (tasks evicted past max_tasks, a worker going offline so
its tasks are LOST), then JournalSource.rebuild at moments all over the stream is compared,
dump by dump, with a fresh state fed every event up to the moment."""

from __future__ import annotations

import random
import time

from benchmarks.synthetic import generate_events
from celerytui.core import state_snapshot
from celerytui.core.journal import open_store
from celerytui.core.journal.checkpoint_plan import CHAIN_ROWS
from celerytui.core.journal.recorder import Recorder
from celerytui.core.journal_source import JournalSource, event_time, load_snapshots
from celerytui.core.model import LOST
from celerytui.core.replay_clock import ReplayClock
from celerytui.core.state import ClusterState

MAX_TASKS = 400
GONE = "celery@worker-03"  # sends worker-offline midway, and nothing after


def _stream() -> list[list[dict]]:
    batches, offline_at = [], None
    for i, batch in enumerate(generate_events(30_000, batch=100, rate=500.0, seed=5)):
        if offline_at is not None:
            batch = [e for e in batch if e.get("hostname") != GONE]
        batches.append(batch)
        if i == 150:  # the worker goes away, its tasks still RECEIVED or STARTED
            offline_at = event_time(batch[-1]) + 0.001
            batches.append([_offline(offline_at)])
    return batches


def _offline(at: float) -> dict:
    return {
        "type": "worker-offline",
        "hostname": GONE,
        "timestamp": at,
        "local_received": at,
        "utcoffset": 0,
        "pid": 1003,
        "clock": 1,
    }


def _record(spec: str, batches: list[list[dict]]) -> None:
    """As a monitor records: each batch applied, then noted; every checkpoint written before
    the next batch (so none is replaced while the writer is behind)."""
    store = open_store(spec, cluster="chain", write=True)
    now = [event_time(batches[0][0])]
    recorder = Recorder(
        store,
        flush_interval=0.01,
        checkpoint_every=0.4,
        checkpoint_events=200,
        task_events=0,
        clock=lambda: now[0],
    ).start()
    live = ClusterState(max_tasks=MAX_TASKS)
    for batch in batches:
        changes = live.apply([dict(e) for e in batch])
        now[0] = event_time(batch[-1])
        recorder.note(batch, changes, live)
        deadline = time.monotonic() + 10
        while recorder.status.pending and time.monotonic() < deadline:
            time.sleep(0.002)
    recorder.stop()


def _state_at(batches: list[list[dict]], at: float) -> ClusterState:
    state = ClusterState(max_tasks=MAX_TASKS)
    for batch in batches:
        due = [dict(e) for e in batch if event_time(e) <= at]
        if due:
            state.apply(due)
    return state


def _dump(state: ClusterState) -> dict:
    captured = state_snapshot.capture(state)
    captured["derived"] = [  # counts of 0 (a state no task of a name is in now) left out
        state.counts_by_state(),
        {name: {k: n for k, n in s.counts.items() if n} for name, s in state.task_stats().items()},
        {root: list(members) for root, members in state._chain_members.items()},
        state._orphans,
        list(state._order),
    ]
    return captured


def test_seeking_through_deltas_gives_the_state_of_every_event(tmp_path) -> None:
    batches = _stream()
    spec = str(tmp_path / "chain.sqlite3")
    _record(spec, batches)
    reader = open_store(spec, cluster="chain", write=False)
    try:
        t0, t1 = reader.time_range()
        chains = [reader.checkpoint_chain(t0 + (t1 - t0) * k / 40) for k in range(41)]
        assert max(map(len, chains)) >= 3  # full snapshots, and deltas on deltas after them
        assert any(not state_snapshot.is_delta(c[0][1]) for c in chains if c)
        source = JournalSource(reader, ReplayClock(t0, t1, playing=False), max_tasks=MAX_TASKS)
        offline = event_time(next(b[0] for b in batches if b[0]["type"] == "worker-offline"))
        rng = random.Random(11)
        moments = [t0 - 1, t0 + 0.5, offline, offline + 0.3, t1] + [
            rng.uniform(t0, t1) for _ in range(25)
        ]
        moments += [at for chain in chains[::4] for at, _ in chain[-2:]]  # at a checkpoint
        lost_seen = 0
        for at in moments:
            expected = _state_at(batches, at)
            rebuilt = source.rebuild(at)
            assert _dump(rebuilt) == _dump(expected), f"at {at - t0:.3f} s"
            lost_seen += sum(t.state == LOST for t in rebuilt.tasks.values())
        assert lost_seen  # the offline worker's tasks, as LOST, survived the checkpoints
        assert len(_state_at(batches, t1).tasks) == MAX_TASKS  # evicted along the way
    finally:
        reader.close()


def test_a_chain_cut_short_reads_the_events_from_where_it_stopped(tmp_path) -> None:
    """The events after the chain's last checkpoint are read while it loads
    (core/replay_read_ahead.py); a chain that stops earlier (a gap: here the loader keeps
    the full snapshot only) is followed by the events from where it stopped instead."""
    batches = _stream()
    spec = str(tmp_path / "chain.sqlite3")
    _record(spec, batches)
    reader = open_store(spec, cluster="chain", write=False)
    try:
        t0, t1 = reader.time_range()
        clock = ReplayClock(t0, t1, playing=False)
        loaded: list[int] = []

        def full_only(chain, max_tasks):
            loaded.append(len(chain))
            return load_snapshots(chain[:1], max_tasks)

        cut = JournalSource(reader, clock, max_tasks=MAX_TASKS, loader=full_only)
        whole = JournalSource(reader, clock, max_tasks=MAX_TASKS)
        for k in range(1, 10):
            at = t0 + (t1 - t0) * k / 10
            expected = _dump(_state_at(batches, at))
            assert _dump(cut.rebuild(at)) == expected, f"at {at - t0:.3f} s (cut short)"
            assert _dump(whole.rebuild(at)) == expected, f"at {at - t0:.3f} s"
        assert max(loaded) >= 3  # chains with deltas the loader left out
    finally:
        reader.close()


def test_a_seek_loads_a_bounded_chain(tmp_path) -> None:
    """The recorder starts a new full checkpoint once the deltas since the last hold
    CHAIN_ROWS rows per task kept: whatever moment a seek goes to, what it loads is one
    full snapshot and deltas holding fewer rows than that (the long chains were the
    slowest seeks: checkpoint_plan.py)."""
    batches = _stream()
    spec = str(tmp_path / "chain.sqlite3")
    _record(spec, batches)
    reader = open_store(spec, cluster="chain", write=False)
    try:
        t0, t1 = reader.time_range()
        chains = [reader.checkpoint_chain(t0 + (t1 - t0) * k / 80) for k in range(81)]
        fulls = {c[0][0] for c in chains if c}
        assert len(fulls) >= 3 and max(map(len, chains)) >= 3  # fulls, and deltas between
        for chain in chains[1:]:
            heads = [state_snapshot._decode(data) for _, data in chain]
            kept = max(int(head["kept"]) for head, _ in heads)
            rows = sum(columns.count for _, columns in heads[1:])
            assert rows < CHAIN_ROWS * kept, f"{len(chain)} checkpoints, {rows} rows in deltas"
    finally:
        reader.close()
