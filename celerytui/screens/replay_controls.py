"""The replay's keys (``celerytui replay``): space play/pause, ``[`` ``]`` 10 s, ``{`` ``}`` a
minute, ``g`` go to a time, ``+`` ``-`` speed — and what the header says about it.

Mixed into ``celerytui.app.CeleryTUI``; the bindings exist on every app but are hidden (and do
nothing) unless the app was given a ReplayClock (``app.replay``). The clock is the monitor's
clock too, so a key moves every screen at once; the journal source notices the seek and the
replay monitor swaps in the rebuilt state at its next pump.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import TYPE_CHECKING

from textual.binding import Binding

from celerytui.core.replay_clock import ReplayClock, speed_text

if TYPE_CHECKING:
    from celerytui.screens.host import ScreenHost as _Host
else:
    _Host = object

REPLAY_GROUP = Binding.Group("replay", compact=True)
REPLAY_BINDINGS = [
    Binding("space", "replay_toggle", "Play/pause", id="replay-play", group=REPLAY_GROUP),
    Binding("left_square_bracket", "replay_step(-10)", "-10s", id="replay-back", key_display="["),
    Binding(
        "right_square_bracket", "replay_step(10)", "+10s", id="replay-forward", key_display="]"
    ),
    Binding(
        "left_curly_bracket", "replay_step(-60)", "-1m", id="replay-back-minute", key_display="{"
    ),
    Binding(
        "right_curly_bracket",
        "replay_step(60)",
        "+1m",
        id="replay-forward-minute",
        key_display="}",
    ),
    Binding("g", "replay_goto", "Go to", id="replay-goto"),
    Binding("plus", "replay_faster", "Faster", id="replay-faster", key_display="+"),
    Binding("minus", "replay_slower", "Slower", id="replay-slower", key_display="-"),
]
REPLAY_ACTIONS = frozenset(b.action.split("(", 1)[0] for b in REPLAY_BINDINGS)
REPLAY_KEYS = frozenset(b.key for b in REPLAY_BINDINGS)


def replay_banner(clock: ReplayClock, tz: tzinfo | None = None) -> str:
    """ "REPLAY 2026-12-01 03:00:12 x4 ▶" — the header's first words during a replay."""
    at = datetime.fromtimestamp(clock.now(), tz).strftime("%Y-%m-%d %H:%M:%S")
    if clock.seeking:
        state = "seeking…"
    else:
        state = "▶" if clock.playing else ("end" if clock.at_end else "paused")
    return f"REPLAY {at} {speed_text(clock.speed)} {state}"


class ReplayControls(_Host):
    """The replay keys' actions; they act only when ``replay`` holds a clock."""

    replay: ReplayClock | None = None
    _replay_resets_seen = 0

    def replay_hides(self, action: str) -> bool:
        """Whether ``check_action`` hides ``action``: a replay key on a live app."""
        return self.replay is None and action.split("(", 1)[0] in REPLAY_ACTIONS

    def replay_redraw_due(self) -> bool:
        """True once after the replay monitor swapped in a rebuilt state (a seek): the
        screens redraw everything rather than the changes."""
        resets = self.replay.rebuilt if self.replay is not None else 0
        if resets != self._replay_resets_seen:
            self._replay_resets_seen = resets
            return True
        return False

    def _refresh_replay(self) -> None:
        """Redraw the header at once (the pump redraws the rest)."""
        refresh = getattr(self, "_refresh_header", None)
        if refresh is not None:
            refresh()

    def action_replay_toggle(self) -> None:
        if self.replay is None:
            return
        self.replay.toggle()
        self._refresh_replay()

    def action_replay_step(self, seconds: float) -> None:
        if self.replay is None:
            return
        self.replay.step(float(seconds))
        self._refresh_replay()

    def action_replay_faster(self) -> None:
        if self.replay is not None:
            self.replay.faster()
            self._refresh_replay()

    def action_replay_slower(self) -> None:
        if self.replay is not None:
            self.replay.slower()
            self._refresh_replay()

    def action_replay_goto(self) -> None:
        clock = self.replay
        if clock is None:
            return
        from celerytui.screens.dialogs import PromptDialog

        current = datetime.fromtimestamp(clock.now()).strftime("%Y-%m-%dT%H:%M:%S")
        label = "time: 2026-12-01T03:00:00, 03:00 (that day), or 2h (ago)"
        dialog = PromptDialog(
            "Go to a time", [("at", label, current)], validate=lambda v: _goto_error(clock, v)
        )

        def done(values: dict[str, str] | None) -> None:
            if values:
                clock.seek(goto_time(clock, values["at"]))
                self._refresh_replay()

        self.push_screen(dialog, done)


def goto_time(clock: ReplayClock, text: str) -> float:
    """What ``g`` was given as epoch seconds: ISO 8601, relative (``2h``: before now), or a
    bare ``HH:MM[:SS]`` on the replayed day. Raises the journal's TimeError."""
    from celerytui.core.journal.times import parse_time

    raw = text.strip()
    if raw[:2].isdigit() and raw[2:3] == ":":  # a time of day: on the day being replayed
        day = datetime.fromtimestamp(clock.now()).strftime("%Y-%m-%d")
        raw = f"{day}T{raw}"
    return parse_time(raw)


def _goto_error(clock: ReplayClock, values: dict[str, str]) -> str | None:
    from celerytui.core.journal.times import TimeError

    try:
        goto_time(clock, values.get("at", ""))
    except TimeError as exc:
        return str(exc)
    return None
