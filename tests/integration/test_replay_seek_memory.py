"""Seeks in one replay leave nothing behind for the garbage collector: on a real SQLite
journal with full and delta checkpoints, each state a seek replaced goes, with its lazily
restored tasks and the snapshot rows they fill from, by refcounting, in the pumps after the
seek. Before, every replaced state was garbage only a full collection could free, and a
replay freezes what a rebuild makes: the process grew by a state a seek."""

from __future__ import annotations

import gc
import random
import weakref

from benchmarks.synthetic import generate_events
from celerytui.config import load_settings
from celerytui.core import state_snapshot
from celerytui.core.journal import open_store
from celerytui.core.journal.checkpoint_plan import CheckpointPlan
from celerytui.core.journal_source import RESTORE_GAP, JournalSource, event_time
from celerytui.core.replay_clock import ReplayClock
from celerytui.core.replay_monitor import ReplayMonitor
from celerytui.core.snapshot_lazy import LazyTask
from celerytui.core.state import ClusterState
from tests.support.services import wait_for

MAX_TASKS = 1_500


def _record(spec: str) -> None:
    """As the recorder writes it: batches, and a checkpoint every 10 batches by its plan
    (a full one, then deltas on it)."""
    store = open_store(spec, cluster="memory", write=True)
    live, plan = ClusterState(max_tasks=MAX_TASKS), CheckpointPlan()
    try:
        for i, batch in enumerate(generate_events(20_000, batch=100, rate=500.0, seed=6)):
            plan.note(live.apply([dict(e) for e in batch]).tasks)
            store.append(batch)
            if i % 10 == 9:
                at = event_time(batch[-1])
                store.write_checkpoint(at, state_snapshot.encode(plan.capture(live, at)))
                store.flush()
        store.flush()
    finally:
        store.close()


def test_seeks_free_the_states_they_replace_without_the_collector(tmp_path) -> None:
    spec = str(tmp_path / "memory.sqlite3")
    _record(spec)
    reader = open_store(spec, cluster="memory", write=False)
    t0, t1 = reader.time_range()
    assert any(len(reader.checkpoint_chain(t0 + (t1 - t0) * k / 10)) > 2 for k in range(11))
    clock = ReplayClock(t0, t1, playing=False)
    # every seek restores (a short step ahead would feed the events through instead)
    source = JournalSource(reader, clock, max_tasks=MAX_TASKS, restore_gap=0.0)
    monitor = ReplayMonitor(load_settings(env={}), source, clock, "memory test")
    was_enabled = gc.isenabled()
    gc.disable()  # what is not freed by refcounting stays: nothing collects it here
    try:
        monitor.start()
        assert monitor.wait_restored(30)

        def pumped(idle: bool) -> bool:
            source.wait(0.05)
            with monitor.lock:
                monitor.pump()
            return not clock.seeking and (not idle or not len(source.retired))

        replaced = []
        rng = random.Random(2)
        for i in range(8):
            replaced.append(weakref.ref(monitor.state))
            clock.seek(rng.uniform(t0, t1))
            # half of them back to back: the state replaced while its tasks are still lazy
            idle = i % 2 == 1
            wait_for(lambda idle=idle: pumped(idle), timeout=30, what="the seek (and pumps after)")
        assert monitor.resets == 9
        assert [r() for r in replaced] == [None] * 8  # every replaced state is gone
        lazy = sum(1 for o in gc.get_objects() if isinstance(o, LazyTask))
        assert lazy == 0  # (the pumps filled the shown state's; the others went with theirs)
        assert monitor.state.events_applied > 0
    finally:
        monitor.stop()
        reader.close()
        if was_enabled:
            gc.enable()


def test_a_step_past_a_checkpoints_spacing_restores_a_shorter_one_feeds_through(
    tmp_path,
) -> None:
    """A seek ahead by more than RESTORE_GAP (about the checkpoints' spacing) restores: at
    500 events/s (this journal) a step of 15 s would feed 7,500 events through the pump; one
    of 5 s feeds through. Either way the state shown is the one at the target."""
    spec = str(tmp_path / "memory.sqlite3")
    _record(spec)
    reader = open_store(spec, cluster="memory", write=False)
    t0, t1 = reader.time_range()
    clock = ReplayClock(t0, t1, playing=False)
    source = JournalSource(reader, clock, max_tasks=MAX_TASKS)
    monitor = ReplayMonitor(load_settings(env={}), source, clock, "memory test")
    assert RESTORE_GAP < 15.0
    events = list(reader.iter_events(t0 - 1.0))
    try:
        monitor.start()
        assert monitor.wait_restored(30)

        def shown(expected: dict[str, str]) -> bool:
            source.wait(0.05)
            with monitor.lock:
                monitor.pump()
                states = {u: t.state for u, t in monitor.state.tasks.items()}
            return not clock.seeking and not source.pending and states == expected

        for step, restores in ((15.0, 2), (5.0, 2), (15.0, 3)):
            target = clock.step(step)
            state = ClusterState(max_tasks=MAX_TASKS)
            state.apply([dict(e) for e in events if event_time(e) <= target])
            expected = {u: t.state for u, t in state.tasks.items()}
            wait_for(lambda e=expected: shown(e), timeout=30, what=f"the state {step} s on")
            assert source.restores == restores, step
    finally:
        monitor.stop()
        reader.close()
