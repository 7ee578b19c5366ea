"""`celerytui history`: search the journal's tasks, headless — `tail`'s lines for the past.

`celerytui history --failures --since 2h`, `history --filter 'name:order state:fail' --json |
jq`. One line per task, oldest first (the newest ``--limit`` of them); task text printed
literally with control characters spelled out, as `tail` prints it. Reads the store only: no
broker is contacted.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import click

from celerytui.cli_options import cluster_options, settings_from
from celerytui.commands.errors import CommandError, handle_errors
from celerytui.commands.journal_open import (
    apply_store_flag,
    open_reader,
    parse_when,
    store_option,
)
from celerytui.commands.plain_text import printable
from celerytui.core.model import Task

ARGS_SHOWN = 120  # characters of args/kwargs on a text line (JSON carries them whole)


@click.command()
@cluster_options
@store_option
@click.option("--failures", is_flag=True, help="Only failed and retried tasks, with the error.")
@click.option("--since", "since", metavar="T", help="From T: ISO 8601 (local) or 2h, 90m, 30s ago.")
@click.option("--until", "until", metavar="T", help="Up to T (same forms as --since).")
@click.option(
    "--filter",
    "filter_expr",
    metavar="EXPR",
    help="Regex, or name: state: worker: args: queue: since: until: terms; ! negates.",
)
@click.option("--limit", default=1000, show_default=True, help="At most this many tasks.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object a line (NDJSON).")
@click.pass_context
@handle_errors
def history(
    ctx: click.Context,
    store: str | None,
    failures: bool,
    since: str | None,
    until: str | None,
    filter_expr: str | None,
    limit: int,
    as_json: bool,
    **options: Any,
) -> None:
    """Tasks from the journal: time, state, name, id, worker, runtime or error."""
    from celerytui.core.history_search import HistoryQuery, search

    if limit < 1:
        raise CommandError("--limit: must be 1 or more")
    settings = settings_from(ctx, **options)
    apply_store_flag(ctx, settings, store)
    query = HistoryQuery(
        expr=filter_expr or "",
        failures=failures,
        since=parse_when(since, "--since"),
        until=parse_when(until, "--until"),
        limit=limit,
    )
    reader = open_reader(settings)
    try:
        tasks = search(reader, query)
    finally:
        reader.close()
    for task in reversed(tasks):  # oldest first, as a log reads
        click.echo(json_line(task) if as_json else text_line(task, failures))


def _when(task: Task) -> float | None:
    return task.timestamp or task.date_done


def _error(task: Task) -> str | None:
    """The traceback's last line ("ValueError: bad input"), else the exception repr."""
    # split on newlines only: a U+2028 inside the message is part of it (shown as \u2028)
    for line in reversed((task.traceback or "").split("\n")):
        if line.strip():
            return line.strip()
    return task.exception


def text_line(task: Task, failures: bool = False) -> str:
    """One aligned human line for one task (dates: the journal spans days)."""
    when = _when(task)
    stamp = (
        datetime.fromtimestamp(when).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
        if when
        else "----------- --:--:--.---"
    )
    parts = [stamp, f"{task.state:<8}", printable(task.name or "?"), task.uuid]
    parts.append(printable(task.worker or "-"))
    if task.state in ("FAILURE", "RETRY"):
        parts.append(printable((_error(task) if failures else task.exception) or _error(task)))
    elif task.state == "SUCCESS" and task.runtime is not None:
        parts.append(f"{task.runtime:.3f}s")
    else:
        args = printable(f"{task.args or '()'} {task.kwargs or '{}'}")
        parts.append(args if len(args) <= ARGS_SHOWN else args[: ARGS_SHOWN - 1] + "…")
    return "  ".join(str(p) for p in parts if p is not None)


def json_line(task: Task) -> str:
    """One NDJSON object for one task (json escapes every control character)."""
    when = _when(task)
    failed = task.state in ("FAILURE", "RETRY")
    record = {
        "time": datetime.fromtimestamp(when).astimezone().isoformat() if when else None,
        "timestamp": when,
        "uuid": task.uuid,
        "name": task.name,
        "state": task.state,
        "worker": task.worker,
        "queue": task.queue,
        "exception": task.exception,
        "error": _error(task) if failed else None,
        "traceback": task.traceback,
        "args": task.args,
        "kwargs": task.kwargs,
        "result": task.result,
        "runtime": task.runtime,
        "retries": task.retries,
        "sent": task.sent,
        "received": task.received,
        "started": task.started,
        "finished": task.succeeded or task.failed or task.revoked or task.rejected,
        "root_id": task.root_id,
        "parent_id": task.parent_id,
    }
    return json.dumps(record, default=str)
