"""`celerytui replay`: the whole TUI driven by the journal instead of the broker, or, with
``--summary``, one headless account of a window of it.

Nothing in a replay reaches the cluster: the monitor is read-only, has no broker connection
(core/replay_monitor.py) and the TUI refuses every action that would change anything.
"""

from __future__ import annotations

import time
from typing import Any

import click

from celerytui.cli_options import SettingsError, cluster_options, settings_from
from celerytui.commands.errors import CommandError, handle_errors
from celerytui.commands.journal_open import (
    apply_store_flag,
    open_reader,
    parse_when,
    store_label,
    store_option,
)


@click.command()
@cluster_options
@store_option
@click.option("--from", "from_", metavar="T", help="Start at T [default: the journal's start].")
@click.option("--to", "to", metavar="T", help="Stop at T [default: follow the journal].")
@click.option("--speed", default=1.0, show_default=True, help="Replayed seconds per second.")
@click.option("--paused", is_flag=True, help="Open paused (space plays).")
@click.option("--summary", is_flag=True, help="Headless: what happened in the window.")
@click.option("--json", "as_json", is_flag=True, help="With --summary: one JSON object.")
@click.option("--per-task", is_flag=True, help="With --summary: every task's final state too.")
@click.pass_context
@handle_errors
def replay(
    ctx: click.Context,
    store: str | None,
    from_: str | None,
    to: str | None,
    speed: float,
    paused: bool,
    summary: bool,
    as_json: bool,
    per_task: bool,
    **options: Any,
) -> None:
    """Replay the journal in the TUI (space, [ ] { }, g, + -), or summarise a window."""
    from celerytui.core.replay_monitor import replay_settings

    if speed <= 0:
        raise CommandError("--speed: must be above 0")
    settings = replay_settings(settings_from(ctx, **options))
    apply_store_flag(ctx, settings, store)
    start, end = parse_when(from_, "--from"), parse_when(to, "--to")
    if start is not None and end is not None and end < start:
        raise CommandError("--to is before --from")
    reader = open_reader(settings)
    try:
        span = reader.time_range()
        if span is None:
            raise CommandError(f"{store_label(reader)} holds no events yet")
        if summary:
            from celerytui.commands.replay_summary import print_summary

            lo = span[0] if start is None else start
            hi = span[1] if end is None else end
            print_summary(reader, settings, lo, hi, as_json=as_json, per_task=per_task)
            return
        _run_tui(settings, reader, store_label(reader), span, start, end, speed, paused)
    finally:
        reader.close()


def _run_tui(
    settings: Any,
    reader: Any,
    label: str,
    span: tuple[float, float],
    start: float | None,
    end: float | None,
    speed: float,
    paused: bool,
) -> None:
    from celerytui.app import make_app
    from celerytui.core.journal_source import JournalSource
    from celerytui.core.replay_clock import ReplayClock
    from celerytui.core.replay_monitor import ReplayMonitor

    clock = ReplayClock(
        span[0] if start is None else start,
        end,
        speed=speed,
        playing=not paused,
        horizon=time.time if end is None else None,  # following the journal: never the future
    )
    source = JournalSource(reader, clock, max_tasks=settings.max_tasks, label=label)
    monitor = ReplayMonitor(settings, source, clock, label)
    from celerytui.config import ConfigError
    from celerytui.theme_memory import ThemeMemory

    try:  # a bad keymap or theme: one Error: line, as for the live dashboard
        app = make_app(settings, monitor, replay=clock, theme_memory=ThemeMemory.default())
    except ConfigError as exc:
        raise SettingsError(str(exc)) from None
    app.run()
    if app.return_code:
        raise SystemExit(app.return_code)
