"""`replay --summary`: print core/replay_summary's account of a window, as JSON or text."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import click

from celerytui.commands.plain_text import printable


def print_summary(
    store: Any, settings: Any, start: float, end: float, *, as_json: bool, per_task: bool
) -> None:
    from celerytui.core.replay_summary import summarize

    summary = summarize(store, start, end, per_task=per_task)
    if as_json:
        click.echo(json.dumps(summary, default=str))
        return
    click.echo(f"from {_stamp(start)} to {_stamp(end)}: {summary['events']:,} events")
    click.echo(f"tasks seen: {summary['tasks_seen']:,}")
    for state, count in summary["by_state"].items():
        click.echo(f"  {state:<10} {count:>8,}")
    click.echo("by name:")
    for name, count in summary["by_name"].items():
        click.echo(f"  {count:>8,}  {printable(name)}")
    click.echo("workers:")
    for host, info in summary["workers"].items():
        click.echo(f"  {printable(host)}  {info['status']}  processed {info['processed']}")
    click.echo(f"alerts: {len(summary['alerts'])}")
    for alert in summary["alerts"]:
        raised = _stamp(alert.get("raised_at"))
        click.echo(f"  {raised}  {alert.get('severity')}  {printable(alert.get('summary'))}")
    if per_task:
        for uuid, state in summary.get("tasks", {}).items():
            click.echo(f"  {uuid}  {state}")


def _stamp(ts: Any) -> str:
    if not isinstance(ts, int | float) or not ts:
        return "-"
    return datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S")
