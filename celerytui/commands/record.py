"""`celerytui record`: the headless recorder — the cluster's events, tasks, alerts and
checkpoints into the journal (the same core as the exporter: a Monitor pumping in a thread,
a Recorder writing on its own).

One writer per store: a second recorder (or a TUI recording there) is refused with one line
naming who holds it. SIGTERM or Ctrl+C: what is buffered is written, the lease is given back.
"""

from __future__ import annotations

import signal
import threading
from typing import Any

import click

from celerytui.cli import journal_flags
from celerytui.cli_options import cluster_options, settings_from
from celerytui.commands.errors import EXIT_OK, CommandError, check_broker, handle_errors
from celerytui.commands.record_loop import record_until
from celerytui.redaction import redact


@click.command()
@cluster_options
@click.option(
    "--store",
    metavar="PATH|URL",
    help="A SQLite file or a postgresql:// URL. Env: CELERYTUI_STORE. "
    "[default: one SQLite file per cluster in the user data dir]",
)
@click.option(
    "--retention",
    metavar="DURATION",
    help="Keep this long (48h, 90m, 7d). [default: retention setting, 48h]",
)
@click.option(
    "--max-size",
    "max_size",
    metavar="SIZE",
    help="Prune the oldest past this size (1GB, 500MB). [default: max_size setting, 1GB]",
)
@click.option(
    "--durable-queue",
    "durable_queue",
    metavar="NAME",
    help="AMQP only: consume events from this named durable queue (bounded), so events "
    "sent while the recorder is down are recorded when it is back.",
)
@click.option(
    "--no-webhooks",
    "no_webhooks",
    is_flag=True,
    help="Do not POST alerts to alert_webhook / alert_webhooks (another process does: "
    "the exporter, say).",
)
@click.pass_context
@handle_errors
def record(
    ctx: click.Context,
    store: str | None,
    retention: str | None,
    max_size: str | None,
    durable_queue: str | None,
    no_webhooks: bool,
    **options: Any,
) -> None:
    """Record the cluster into the journal until SIGTERM or Ctrl+C."""
    from celerytui.commands.app_loader import load_app
    from celerytui.core.journal import JournalError
    from celerytui.core.journal.recorder import attach
    from celerytui.core.monitor import Monitor

    settings = settings_from(ctx, **options)
    store = store or (ctx.find_root().obj or {}).get("store")
    journal_flags(settings, store=store, retention=retention, max_size=max_size)
    app = load_app(settings)
    check_broker(app)
    source = None
    if durable_queue:
        from celerytui.core.journal.durable_queue import DurableEventStream

        try:
            source = DurableEventStream(app, durable_queue, read_only=settings.read_only)
        except JournalError as exc:
            raise CommandError(str(exc)) from None
    monitor = Monitor(settings, app=app, source=source)
    try:
        recorder = attach(monitor, settings, holder="celerytui record")
    except JournalError as exc:
        raise CommandError(str(exc)) from None
    delivery = None if no_webhooks else monitor.deliver_alerts()  # on-call needs no TUI
    where = f" from durable queue {durable_queue!r}" if durable_queue else ""

    def started() -> None:
        click.echo(
            f"celerytui record: journal {recorder.status.store}, broker "
            f"{redact(app.conf.broker_url)}{where}",
            err=True,
        )
        if delivery is not None:  # the hooks' paths are their tokens: shown masked
            click.echo(f"celerytui record: alerts to {', '.join(delivery.targets)}", err=True)

    shown: str | None = None

    def report(status: Any) -> None:
        """Each new problem once, and its end."""
        nonlocal shown
        if status.last_error != shown:
            if status.last_error:
                click.echo(f"Warning: {status.last_error}", err=True)
            elif shown:
                click.echo("celerytui record: writing again", err=True)
            shown = status.last_error

    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        record_until(monitor, recorder, stop, report, connected=started)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
    status = recorder.status
    click.echo(
        f"celerytui record: stopped; {status.events_recorded} events recorded, "
        f"{status.events_dropped} dropped",
        err=True,
    )
    if status.last_error and not status.recording and status.pending:
        raise CommandError(status.last_error)
    ctx.exit(EXIT_OK)
