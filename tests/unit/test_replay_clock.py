"""ReplayClock: replayed time runs at the set speed, stands still when paused, seeks within
the window; ``generation`` counts seeks (the journal source rebuilds on it)."""

from __future__ import annotations

import pytest

from celerytui.core.replay_clock import SPEEDS, ReplayClock, speed_text


class Wall:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_time_moves_with_speed_pause_and_seek() -> None:
    wall = Wall()
    clock = ReplayClock(1_000.0, 2_000.0, speed=2.0, wall=wall)
    wall.t += 10
    assert clock.now() == 1_020.0  # 10 wall seconds at x2
    clock.pause()
    wall.t += 50
    assert clock.now() == 1_020.0 and not clock.playing
    assert clock.toggle() is True
    clock.set_speed(4.0)
    wall.t += 5
    assert clock.now() == 1_040.0
    assert clock.step(-10) == 1_030.0 and clock.generation == 1
    assert clock.seek(500.0) == 1_000.0  # kept within the window
    assert clock.seek(9e9) == 2_000.0 and clock.at_end and not clock.playing
    wall.t += 100
    assert clock.now() == 2_000.0  # stops at the end
    assert clock.generation == 3


def test_play_at_the_end_starts_over() -> None:
    wall = Wall()
    clock = ReplayClock(10.0, 20.0, wall=wall)
    wall.t += 60
    assert clock.at_end
    clock.pause()
    assert clock.toggle() is True
    assert clock.now() == 10.0 and clock.generation == 1


def test_speed_ladder_and_text() -> None:
    clock = ReplayClock(0.0, speed=1.0)
    assert clock.faster() == 2.0
    assert clock.slower() == 1.0
    assert clock.slower() == 0.5
    for _ in range(len(SPEEDS) + 2):
        clock.faster()
    assert clock.speed == SPEEDS[-1]
    assert speed_text(4.0) == "x4" and speed_text(0.25) == "x0.25"
    with pytest.raises(ValueError):
        clock.set_speed(0)
    with pytest.raises(ValueError):
        ReplayClock(10.0, 5.0)


def test_an_open_ended_replay_never_shows_the_future() -> None:
    wall, now = Wall(), [1_000.0]
    clock = ReplayClock(900.0, None, speed=10.0, wall=wall, horizon=lambda: now[0])
    wall.t += 5
    assert clock.now() == 950.0
    wall.t += 60
    assert clock.now() == 1_000.0  # caught up with the journal's present
    now[0] = 1_002.0
    assert clock.now() == 1_002.0
