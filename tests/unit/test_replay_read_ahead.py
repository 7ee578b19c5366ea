"""The events after a seek's checkpoint, read ahead on a thread (core/replay_read_ahead.py):
every piece comes out once and in order, no more than ``most`` events are read ahead, and
a read that fails raises on the thread that asks for the pieces."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from celerytui.core.journal import chunks
from celerytui.core.journal.chunks import Chunk
from celerytui.core.replay_read_ahead import ReadAhead


def _chunk(first: int, n: int) -> Chunk:
    events = [{"type": "worker-heartbeat", "local_received": float(i)} for i in range(n)]
    events = [dict(e, local_received=e["local_received"] + first) for e in events]
    codec, data = chunks.encode(events)
    return Chunk(float(first), float(first + n - 1), n, codec, data)


def test_every_piece_in_order_and_at_most_most_read_ahead() -> None:
    taken: list[int] = []

    def pieces() -> Iterator[Chunk | list[dict]]:
        for i in range(10):
            taken.append(i)
            yield _chunk(i * 100, 100) if i % 2 else [{"local_received": float(i * 100)}]

    ahead = ReadAhead(pieces(), most=250)
    out = ahead.pieces()
    first = next(out)  # the thread is done once the first piece is out
    assert len(taken) == 6  # 1 + 100 + 1 + 100 + 1 + 100 events: past 250 with the sixth
    rest = [first, *out]
    assert len(taken) == 10
    times = [p.events()[0] if isinstance(p, Chunk) else p[0] for p in rest]
    assert [e["local_received"] for e in times] == [float(i * 100) for i in range(10)]


def test_a_failed_read_raises_where_the_pieces_are_asked_for() -> None:
    def pieces() -> Iterator[list[dict]]:
        yield [{"local_received": 1.0}]
        raise OSError("disk went away")

    ahead = ReadAhead(pieces())
    with pytest.raises(OSError, match="disk went away"):
        list(ahead.pieces())


def test_cancelled_it_reads_no_further() -> None:
    taken: list[int] = []

    def pieces() -> Iterator[list[dict]]:
        for i in range(1_000_000):
            taken.append(i)
            yield [{"local_received": float(i)}]

    ahead = ReadAhead(pieces(), most=10**9)
    ahead.cancel()
    n = len(taken)
    assert n < 1_000_000
    ahead.cancel()
    assert len(taken) == n
