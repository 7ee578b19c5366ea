"""`celerytui status`: one snapshot of the cluster, for a shell, a cron job or a health check.

Exit codes: 0 healthy, 1 degraded (a registered status rule fires: no worker answers, or a
queue is over its backlog threshold; or the cluster's journal, fresh, holds an alert open),
2 the broker does not answer (or bad input). The JSON schema is in docs/status-json.md.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import click

from celerytui import signing
from celerytui.cli_options import cluster_options, settings_from
from celerytui.commands.errors import (
    BROKER_TIMEOUT,
    EXIT_DEGRADED,
    EXIT_ERROR,
    EXIT_OK,
    CommandError,
    check_broker,
    handle_errors,
)
from celerytui.commands.journal_alerts import journal_problems, journal_report
from celerytui.commands.journal_open import apply_store_flag, store_option
from celerytui.commands.plain_text import printable
from celerytui.config import Thresholds
from celerytui.core.alerts import Context, status_rules
from celerytui.core.alerts.rules.queues import QueueBacklog
from celerytui.core.model import ALL_STATES
from celerytui.core.state_lost import lost_tasks
from celerytui.redaction import redact

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
INSPECT_TIMEOUT = 1.0
EXIT_MARGIN = 0.2  # seconds kept for printing the answer and leaving the interpreter
MIN_BROKER_WAIT = 1.0  # however slow the start was, the broker itself gets this long
LOST_LISTED = 100  # lost tasks listed in tasks.lost


@click.command()
@cluster_options
@store_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON (docs/status-json.md).")
@click.option(
    "--listen",
    type=click.FloatRange(0, 600),
    default=2.0,
    show_default=True,
    metavar="SECONDS",
    help="How long to count task events.",
)
@click.pass_context
@handle_errors
def status(
    ctx: click.Context, store: str | None, as_json: bool, listen: float, **options: Any
) -> None:
    """Print one snapshot: broker, workers, queues, tasks seen while listening, and the
    alerts open in the cluster's journal (when a recorder or a TUI records it).

    Exit code 0 healthy, 1 degraded (no worker, a queue over its backlog threshold, or an
    alert open in a fresh journal), 2 broker unreachable.
    """
    from celerytui.commands.app_loader import load_app

    settings = settings_from(ctx, **options)
    apply_store_flag(ctx, settings, store)
    settings.read_only = True  # a snapshot never changes the cluster
    app = load_app(settings)
    broker = redact(app.conf.broker_url)
    try:
        _check_broker_in_time(app)
    except CommandError as exc:
        if as_json:
            document = _unreachable(broker, exc.message)
            document["journal"] = journal_report(settings, app.conf.broker_url, time.time())
            click.echo(json.dumps(document, indent=2))
        raise
    report = collect(settings, app, listen)
    if as_json:
        click.echo(json.dumps(report, indent=2, default=str))
    else:
        click.echo(render(report))
    ctx.exit(report["exit_code"])


def _unreachable(broker: str, error: str) -> dict[str, Any]:
    return {
        "schema": SCHEMA_VERSION,
        "generated_at": _now_iso(),
        "health": "unreachable",
        "exit_code": EXIT_ERROR,
        "problems": [error],
        "broker": {"url": broker, "reachable": False, "error": error},
        "workers": [],
        "queues": [],
        "tasks": None,
    }


def _check_broker_in_time(app: Any, timeout: float | None = None) -> None:
    """check_broker with a hard deadline, by default the documented 2 s counted from the start
    of the process: a broker that accepts the connection and then never speaks would otherwise
    hold it for its socket timeouts (a second or more past the budget)."""
    _import_transport(app)  # importing redis-py / amqp is start-up time, not broker time
    if timeout is None:
        timeout = max(MIN_BROKER_WAIT, BROKER_TIMEOUT - EXIT_MARGIN - _seconds_since_start())
    failed: list[BaseException] = []

    def attempt() -> None:
        try:
            # the socket's own timeout a little later than the deadline: a silent broker is
            # always told by the deadline below, in its words, never as a bare "timed out"
            check_broker(app, timeout + 1.0)
        except BaseException as exc:
            failed.append(exc)

    thread = threading.Thread(target=attempt, name="celerytui-broker-check", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():  # left behind: the process exits right after saying so
        raise CommandError(
            f"broker unreachable ({redact(app.conf.broker_url)}): "
            f"no answer within {BROKER_TIMEOUT:g} s"
        )
    if failed:
        raise failed[0]


def _import_transport(app: Any) -> None:
    try:
        connection = app.connection_for_write()
        try:
            connection.transport  # noqa: B018 - resolving it imports the transport's client
        finally:
            connection.release()
    except Exception:  # a bad URL: check_broker says so in its own words
        return


def _seconds_since_start() -> float:
    """How long this process has run (imports, loading the app), to 10 ms; 0 where unknown.
    Linux: /proc/self/stat's start time and the boot-time clock, both counted from boot."""
    try:
        with open("/proc/self/stat") as stat:
            after_name = stat.read().rsplit(")", 1)[1].split()
        started = int(after_name[19]) / os.sysconf("SC_CLK_TCK")  # field 22, starttime
        return max(0.0, time.clock_gettime(time.CLOCK_BOOTTIME) - started)
    except (OSError, ValueError, IndexError, AttributeError):
        return 0.0


def collect(settings: Any, app: Any, listen: float) -> dict[str, Any]:
    """Listen to events for ``listen`` seconds while asking the workers and the broker."""
    from celerytui.core.monitor import Monitor

    monitor = Monitor(settings, app=app)
    monitor.start(poll=False)
    monitor.run_in_thread()
    deadline = time.monotonic() + listen
    try:
        workers, active_queues = _workers(monitor.controller)
        queues, depths = _queues(monitor.queues, active_queues)
        remaining = deadline - time.monotonic()
        if remaining > 0:
            threading.Event().wait(remaining)
        with monitor.lock:
            try:
                monitor.pump()
            except Exception:  # what was applied so far still makes the snapshot
                log.debug("pump failed", exc_info=True)
            tasks = _tasks(monitor.state, listen, monitor.events.status.malformed)
            if not monitor.controller.can_ask:  # signed cluster, no key: no ping was sent
                workers = _workers_from_events(monitor.state)
    finally:
        monitor.stop()
    problems, backlogged, found = _assess(monitor.state, settings.thresholds, workers, depths)
    journal = journal_report(settings, app.conf.broker_url, time.time())
    problems += journal_problems(journal, found)
    for row in queues:
        row["over_threshold"] = row["name"] in backlogged
    exit_code = EXIT_DEGRADED if problems else EXIT_OK
    return {
        "schema": SCHEMA_VERSION,
        "generated_at": _now_iso(),
        "health": "degraded" if problems else "healthy",
        "exit_code": exit_code,
        "problems": problems,
        "broker": {"url": redact(app.conf.broker_url), "reachable": True, "error": None},
        "workers": workers,
        "queues": queues,
        "tasks": tasks,
        "signing": signing.state_of(app).label or None,
        "journal": journal,
    }


def _workers_from_events(state: Any) -> list[dict[str, Any]]:
    """Worker rows from the heartbeats heard while listening: what a monitor without a key
    knows of a signed cluster, whose workers drop unsigned ping and inspect messages."""
    return [
        {
            "hostname": worker.hostname,
            "ok": worker.alive,
            "pid": worker.pid,
            "pool": None,
            "concurrency": None,
            "processed": worker.processed,
            "active": worker.active,
            "queues": None,
            "uptime": None,
        }
        for worker in sorted(state.workers.values(), key=lambda w: w.hostname)
    ]


def assess(
    state: Any, thresholds: Thresholds, workers: list[dict[str, Any]], depths: Sequence[Any]
) -> tuple[list[str], set[str]]:
    """Run the registered status rules (alerts.status_rules) on this snapshot: the problem
    lines (any makes the cluster degraded) and the queues found over their backlog."""
    problems, backlogged, _keys = _assess(state, thresholds, workers, depths)
    return problems, backlogged


def _assess(
    state: Any, thresholds: Thresholds, workers: list[dict[str, Any]], depths: Sequence[Any]
) -> tuple[list[str], set[str], set[str]]:
    """assess, and the alert keys found (so the journal's same alert is not said twice)."""
    context = Context(
        state=state,
        thresholds=thresholds,
        now=time.time(),
        queue_depths=tuple(depths),
        pings={w["hostname"]: w["ok"] for w in workers},
    )
    problems: list[str] = []
    backlogged: set[str] = set()
    keys: set[str] = set()
    for rule in status_rules():
        for found in rule.evaluate(context):
            problems.append(found.problem_line)
            keys.add(found.key)
            if rule.name == QueueBacklog.name:
                backlogged.add(found.subject)
    return problems, backlogged, keys


def _workers(controller: Any) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    controller.timeout = INSPECT_TIMEOUT
    pings = controller.ping()
    if not pings:
        return [], {}
    names = sorted(pings)
    stats = controller.inspect("stats", destination=names)
    active = controller.inspect("active", destination=names)
    active_queues = controller.inspect("active_queues", destination=names)
    workers = []
    for host in names:
        info = stats.get(host) or {}
        pool = info.get("pool") or {}
        running = active.get(host)
        queues = active_queues.get(host)
        workers.append(
            {
                "hostname": host,
                "ok": (pings.get(host) or {}).get("ok") == "pong",
                "pid": info.get("pid"),
                "pool": _pool_name(pool.get("implementation")),
                "concurrency": pool.get("max-concurrency"),
                "processed": sum((info.get("total") or {}).values()) if info else None,
                "active": len(running) if isinstance(running, list) else None,
                "queues": sorted(q.get("name") for q in queues if isinstance(q, dict))  # type: ignore[type-var]
                if isinstance(queues, list)
                else None,
                "uptime": info.get("uptime"),
            }
        )
    return workers, active_queues


def _pool_name(implementation: Any) -> str | None:
    """'celery.concurrency.prefork:TaskPool' -> 'prefork'."""
    if not isinstance(implementation, str):
        return None
    return implementation.rsplit(":", 1)[0].rsplit(".", 1)[-1]


def _queues(
    inspector: Any, active_queues: dict[str, Any]
) -> tuple[list[dict[str, Any]], list[Any]]:
    """The queue rows (over_threshold filled in by ``assess``) and the depths they show."""
    names = inspector.known_queues(active_queues or None)
    consumers: dict[str, int] = {}
    for replies in (active_queues or {}).values():
        for queue in replies or ():
            if isinstance(queue, dict) and queue.get("name"):
                consumers[queue["name"]] = consumers.get(queue["name"], 0) + 1
    rows = []
    depths = inspector.depths(names)
    for depth in depths:
        count = depth.consumers if depth.consumers is not None else consumers.get(depth.name, 0)
        rows.append(
            {
                "name": depth.name,
                "messages": depth.messages,
                "consumers": count,
                "by_priority": {str(k): v for k, v in sorted(depth.by_priority.items())},
                "over_threshold": False,
                "error": depth.error,
            }
        )
    return rows, depths


def _tasks(state: Any, listen: float, lane_malformed: int = 0) -> dict[str, Any]:
    by_name = {
        name: {k: n for k, n in sorted(stats.counts.items()) if n}
        for name, stats in sorted(state.task_stats().items())
        if stats.total
    }
    return {
        "listened_seconds": listen,
        "events": state.events_applied,
        # skipped: undecodable on the broker's channel, or with fields of the wrong type
        "malformed": lane_malformed + state.malformed,
        "by_state": {k: n for k, n in sorted(state.counts_by_state().items()) if n},
        "by_name": by_name,
        "lost": _lost(state),
    }


def _lost(state: Any) -> list[dict[str, Any]]:
    """The tasks LOST now (their worker went offline or silent holding them), at most
    LOST_LISTED, oldest loss first; by_state["LOST"] has the full count."""
    rows: list[dict[str, Any]] = []
    for task, entry in lost_tasks(state.tasks, state.lost):
        if len(rows) >= LOST_LISTED:
            break
        rows.append(
            {
                "uuid": task.uuid,
                "name": task.name,
                "worker": entry.hostname,
                "was": entry.was,
                "why": entry.why,
                "lost_at": datetime.fromtimestamp(entry.lost_at, UTC).isoformat(timespec="seconds"),
            }
        )
    return rows


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# -- human output ------------------------------------------------------------------------------


def render(report: dict[str, Any]) -> str:
    """The report as aligned plain-text tables."""
    broker = report["broker"]
    lines = [
        f"Broker  {broker['url']}  {'answers' if broker['reachable'] else 'UNREACHABLE'}",
        f"Health  {report['health'].upper()}",
    ]
    lines += [f"  ! {printable(problem)}" for problem in report["problems"]]
    if report.get("signing") == "signed, no key":
        lines.append("Signed  no key: workers as their heartbeats say (ping/inspect need a key)")
    elif report.get("signing"):
        lines.append("Signed  task and control messages are signed")
    lines.append("")
    worker_rows = [
        [
            printable(w["hostname"]),
            "ok" if w["ok"] else "no pong",
            _cell(w["pool"]),
            _cell(w["concurrency"]),
            _cell(w["processed"]),
            _cell(w["active"]),
            printable(",".join(w["queues"] or [])) or "-",
        ]
        for w in report["workers"]
    ]
    if worker_rows:
        lines += table(
            ["WORKER", "STATUS", "POOL", "CONC", "PROCESSED", "ACTIVE", "QUEUES"],
            worker_rows,
            numeric={3, 4, 5},
        )
    else:
        lines.append("No worker answered ping.")
    lines.append("")
    queue_rows = [
        [
            printable(q["name"]),
            _cell(q["messages"]),
            _cell(q["consumers"]),
            q["error"] or ("BACKLOG" if q["over_threshold"] else ""),
        ]
        for q in report["queues"]
    ]
    if queue_rows:
        lines += table(["QUEUE", "MESSAGES", "CONSUMERS", ""], queue_rows, numeric={1, 2})
    lines.append("")
    tasks = report["tasks"] or {}
    by_name = tasks.get("by_name") or {}
    title = f"TASKS SEEN IN {tasks.get('listened_seconds', 0):g}s"
    if by_name:
        states = [s for s in ALL_STATES if any(s in counts for counts in by_name.values())]
        rows = [
            [printable(name), *(_cell(counts.get(s, 0)) for s in states)]
            for name, counts in by_name.items()
        ]
        lines += table([title, *states], rows, numeric=set(range(1, len(states) + 1)))
    else:
        lines.append(f"{title}: none")
    for row in tasks.get("lost") or ():
        lines.append(
            f"LOST  {printable(row['name'] or '?')}  {row['uuid']}  with "
            f"{printable(row['worker'])} ({row['why']}, was {row['was']})"
        )
    if tasks.get("malformed"):
        lines.append(f"{tasks['malformed']} malformed events skipped")
    lines += ["", *_journal_lines(report.get("journal"))]
    return "\n".join(lines).rstrip()


def _journal_lines(journal: dict[str, Any] | None) -> list[str]:
    """The journal's part: where, how fresh, and the alerts open there."""
    if not journal:
        return []
    state, store = journal["state"], printable(journal.get("store") or "-")
    if state == "none":
        return ["Journal  none (no recorder or TUI records this cluster: `celerytui record`)"]
    if state == "error":
        return [f"Journal  {store}: {printable(journal['error'])}"]
    if state == "empty":
        return [f"Journal  {store}: nothing recorded yet"]
    age = journal["age_seconds"]
    head = f"Journal  {store}: {state}, last event {age:g}s ago"
    if state == "stale":
        head += (
            " (not trusted: nobody records it now)"
            if journal["writer"] is None
            else " (not trusted: is the recorder hearing the broker?)"
        )
    lines = [head]
    for alert in journal["alerts"]:
        lines.append(
            f"ALERT  {alert['severity']}  {printable(alert['summary'])}  since {alert['raised_at']}"
        )
    return lines


def table(
    headers: list[str], rows: list[list[str]], numeric: set[int] | frozenset[int] = frozenset()
) -> list[str]:
    """Aligned columns: text left, numbers right, two spaces between."""
    widths = [max(len(str(row[i])) for row in [headers, *rows]) for i in range(len(headers))]
    out = []
    for row in [headers, *rows]:
        cells = [
            str(v).rjust(w) if i in numeric else str(v).ljust(w)
            for i, (v, w) in enumerate(zip(row, widths, strict=True))
        ]
        out.append("  ".join(cells).rstrip())
    return out


def _cell(value: Any) -> str:
    return "-" if value is None else str(value)
