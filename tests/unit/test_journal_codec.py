"""The journal's pure parts: chunks give back exactly the events they were given, times and
sizes are read as a user writes them, a state snapshot restores the state, task rows are
compact, and store URLs never show a password."""

from __future__ import annotations

import copy
import math
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks.synthetic import generate_events
from celerytui.config import ConfigError, load_settings
from celerytui.core import state_snapshot
from celerytui.core.journal import chunks, cluster_name, task_row
from celerytui.core.journal.rows import TRACEBACK_MAX
from celerytui.core.journal.times import TimeError, parse_duration, parse_size, parse_time
from celerytui.core.model import Task
from celerytui.core.state import ClusterState

_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
)
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=6,
)
_events = st.lists(
    st.dictionaries(st.sampled_from(["type", "uuid", "timestamp", "clock", "args", "x"]), _values),
    max_size=30,
)


@settings(max_examples=200, deadline=None)
@given(_events)
def test_any_events_come_back_exactly(events):
    codec, data = chunks.encode(events)
    back = chunks.decode(codec, data)
    assert back == events
    assert [list(e) for e in back] == [list(e) for e in events]  # key order too
    assert [[type(v) for v in e.values()] for e in back] == [
        [type(v) for v in e.values()] for e in events
    ]  # 1 stays int, 1.0 float, True bool


def test_odd_floats_and_keys_survive():
    events = [
        {"t": math.nan, "u": -0.0, "v": math.inf},
        {"t": 1.5, "u": 5e-324, "v": -math.inf},
        {1: "a non-string key"},  # falls back to JSON: still given back
    ]
    codec, data = chunks.encode(events[:2])
    assert codec == chunks.CODEC_PLANES
    assert repr(chunks.decode(codec, data)) == repr(events[:2])
    codec, data = chunks.encode(events)
    assert codec == chunks.CODEC_JSON
    assert chunks.decode(codec, data)[:2].__repr__() == repr(events[:2])


def test_events_that_are_not_mappings_are_kept_as_they_came():
    # a malformed event the monitor counted still goes to the journal as received
    for odd in (["type", "uuid"], "task-failed", 5, None, [1, 2]):
        events = [{"type": "task-sent", "uuid": "u1"}, odd]
        codec, data = chunks.encode(events)
        assert codec == chunks.CODEC_JSON
        assert chunks.decode(codec, data) == events


def test_keys_that_look_like_code_come_back_as_they_were():
    odd = ["'", '"}', "\n", "\x00", "a'b\"c", "__import__('os')", "}: 1, {", "\ud800", "é"]
    events = [
        {key: i for i, key in enumerate(odd)},
        {f"k{i}": float(i) for i in range(300)},  # more arguments than a call takes in 3.6
        {"type": "x", "uuid": None},
        {"uuid": "u", "type": "x"},  # the same keys in another order: another shape
    ]
    codec, data = chunks.encode(events)
    assert codec == chunks.CODEC_PLANES
    back = chunks.decode(codec, data)
    assert back == events
    assert [list(e) for e in back] == [list(e) for e in events]


def test_chunks_of_codec_2_written_by_schemas_1_to_4_still_read(monkeypatch):
    events = [e for batch in generate_events(3_000) for e in batch]
    new_codec, new = chunks.encode(events)
    monkeypatch.setattr(chunks, "_planes", lambda blob, width: blob)  # codec 2: no planes
    _, old = chunks.encode(events)
    monkeypatch.undo()
    assert chunks.decode(chunks.CODEC_COLUMNS, old) == events
    assert chunks.decode(new_codec, new) == events
    assert len(new) < 0.95 * len(old)  # what codec 3 is for


def test_the_synthetic_stream_is_small_in_chunks():
    events = [e for batch in generate_events(20_000) for e in batch]
    original = copy.deepcopy(events)
    size = 0
    for i in range(0, len(events), 4096):
        codec, data = chunks.encode(events[i : i + 4096])
        assert chunks.decode(codec, data) == original[i : i + 4096]
        size += len(data)
    assert events == original  # encoding never touches the events
    print(f"\n{size / len(events):.1f} bytes per event")
    assert size / len(events) <= 40


def test_times_as_users_write_them():
    now = 1_800_000_000.0
    assert parse_time("2h", now) == now - 7200
    assert parse_time("90m", now) == now - 5400
    assert parse_time("1h30m", now) == now - 5400
    assert parse_time("30s", now) == now - 30
    assert parse_time("2026-12-01T03:00:00Z") == datetime(2026, 12, 1, 3, tzinfo=UTC).timestamp()
    assert (
        parse_time("2026-12-01T03:00:00+02:00") == datetime(2026, 12, 1, 1, tzinfo=UTC).timestamp()
    )
    local = parse_time("2026-12-01T03:00:00")  # no offset: local time
    assert local == datetime(2026, 12, 1, 3).timestamp()
    assert parse_time("1800000000.5") == 1_800_000_000.5
    for bad in ("yesterday", "2h later", "", "2026-13-01"):
        with pytest.raises(TimeError) as error:
            parse_time(bad, now)
        assert "\n" not in str(error.value)
    assert parse_duration("48h") == 172_800 and parse_duration("7d") == 604_800
    assert parse_duration("15") == 15
    assert parse_size("1GB") == 10**9 and parse_size("500MB") == 500 * 10**6
    assert parse_size("2GiB") == 2 * 2**30 and parse_size("4096") == 4096
    for bad in ("-1h", "inf", "h"):
        with pytest.raises(TimeError):
            parse_duration(bad)
    with pytest.raises(TimeError):
        parse_size("lots")


def test_a_snapshot_restores_the_state():
    live = ClusterState(max_tasks=5_000)
    batches = list(generate_events(40_000, batch=200))
    half = len(batches) // 2
    for batch in batches[:half]:
        live.apply(batch)
    restored = state_snapshot.load(state_snapshot.dump(live))
    for batch in batches[half:]:  # both go on from there
        live.apply(copy.deepcopy(batch))
        restored.apply(batch)
    assert restored.tasks == live.tasks
    assert restored.workers == live.workers
    assert restored.counts_by_state() == live.counts_by_state()
    assert {n: s.counts for n, s in restored.task_stats().items()} == {
        n: s.counts for n, s in live.task_stats().items()
    }
    assert list(restored.failures) == list(live.failures)
    now = int(max(e["local_received"] for e in batches[-1]))
    live.clock = restored.clock = lambda: now
    assert restored.throughput(60) == live.throughput(60)
    smaller = state_snapshot.load(state_snapshot.dump(live), max_tasks=100)
    assert list(smaller.tasks) == list(live.tasks)[-100:]  # the newest kept
    with pytest.raises(ValueError):
        state_snapshot.load(__import__("zlib").compress(b'{"format": 99}'))


def test_task_rows_are_compact():
    task = Task(uuid="u1", name="a.b", state="FAILURE", traceback="x" * 20_000, failed=5.0)
    task.result_full, task.result_is_full = {"exc_type": "ValueError"}, True
    row = task_row(task)
    assert len(row.traceback) <= TRACEBACK_MAX + 3 and row.traceback.endswith("x")
    assert row.finished == 5.0 and row.at == 5.0
    assert row.result == '{"exc_type": "ValueError"}'


def test_store_urls_never_show_a_password():
    assert cluster_name("redis://:s3cret@redis.internal:6379/0") == "redis-redis.internal-6379-0"
    assert "s3cret" not in cluster_name("amqp://ops:s3cret@mq//prod")
    settings_ = load_settings(env={"CELERYTUI_STORE": "postgresql://ops:s3cret@db/journal"})
    assert settings_.store == "postgresql://ops:s3cret@db/journal"
    assert "s3cret" not in repr(settings_)
    for key, value in (("STORE", "redis://x/0"), ("RETENTION", "soon"), ("MAX_SIZE", "big")):
        with pytest.raises(ConfigError) as error:
            load_settings(env={f"CELERYTUI_{key}": value})
        assert f"env CELERYTUI_{key}" in str(error.value)
