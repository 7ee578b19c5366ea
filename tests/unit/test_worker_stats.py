"""Workers without heartbeats (--without-heartbeat, celery.contrib.pytest's worker) known from
inspect stats: ClusterState.note_stats, fed as the Monitor's poller feeds it."""

from __future__ import annotations

from celerytui.core.model import WORKER_LOST, WORKER_ONLINE
from celerytui.core.state import ClusterState

T0 = 1_700_000_000.0
POLL = 5.0


def _state(now: list[float]) -> ClusterState:
    return ClusterState(clock=lambda: now[0])


def _heartbeat(host: str, at: float, **fields) -> dict:
    return {
        "type": "worker-heartbeat",
        "hostname": host,
        "timestamp": at,
        "local_received": at,
        "freq": 2.0,
        **fields,
    }


def test_a_worker_only_inspect_knows_is_listed_then_marked_heartbeats_off():
    now = [T0]
    state = _state(now)
    assert state.note_stats({"quiet@h": 7}, T0, every=POLL) == {"quiet@h"}
    worker = state.workers["quiet@h"]
    assert worker.status == WORKER_ONLINE and not worker.heartbeats_off  # not yet: grace
    assert worker.processed == 0
    now[0] = T0 + 6
    assert state.note_stats({"quiet@h": 9}, now[0], every=POLL) == {"quiet@h"}
    assert worker.heartbeats_off and worker.processed == 9
    # alive while it answers: two polls' worth, then lost
    assert not state.tick(T0 + 6 + 2 * POLL - 0.5).workers_lost
    assert state.tick(T0 + 6 + 2 * POLL).workers_lost == ["quiet@h"]
    assert worker.status == WORKER_LOST
    now[0] = T0 + 30
    state.note_stats({"quiet@h": 9}, now[0], every=POLL)
    assert worker.status == WORKER_ONLINE


def test_a_heartbeat_asked_for_by_the_heartbeat_command_is_not_the_workers_own():
    now = [T0]
    state = _state(now)
    # celery's `heartbeat` control command answers with freq and software info only
    state.apply([_heartbeat("quiet@h", T0, freq=5.0, sw_ident="py-celery")])
    now[0] = T0 + 6
    state.note_stats({"quiet@h": 4}, now[0], every=POLL)
    worker = state.workers["quiet@h"]
    assert worker.heartbeats_off and worker.processed == 4


def test_a_worker_with_its_own_heartbeats_keeps_their_counts():
    now = [T0]
    state = _state(now)
    state.apply([_heartbeat("busy@h", T0, active=1, processed=120)])
    now[0] = T0 + 60
    assert state.note_stats({"busy@h": 3}, now[0], every=POLL) == set()
    worker = state.workers["busy@h"]
    assert not worker.heartbeats_off and worker.processed == 120 and worker.freq == 2.0
    # heartbeats that come back after being off take over again
    state.note_stats({"late@h": 1}, T0, every=POLL)
    state.note_stats({"late@h": 1}, T0 + 6, every=POLL)
    assert state.workers["late@h"].heartbeats_off
    state.apply([_heartbeat("late@h", T0 + 7, active=0, processed=2)])
    assert not state.workers["late@h"].heartbeats_off
    assert state.workers["late@h"].processed == 2
