"""`celerytui demo`: the seed system, live, in one command — then the TUI on it.

Everything the demo starts it also stops, whichever way it ends: `q`, Ctrl+C, SIGTERM or
SIGHUP, a crash of the TUI, or a failed start.
"""

from __future__ import annotations

import contextlib
import threading
import time

import click

from celerytui.cli_options import cluster_options, settings_from

EXIT_START_FAILED = 2
TUI_EXIT_GRACE = 5.0  # seconds the TUI gets to quit after a signal before we clean up anyway


@click.command()
@cluster_options
@click.option("--headless", is_flag=True, help="No TUI: run, then print a summary.")
@click.option(
    "--duration",
    type=click.FloatRange(min=1),
    default=30.0,
    show_default=True,
    metavar="SECONDS",
    help="With --headless: how long to run once ready.",
)
@click.option("--json", "as_json", is_flag=True, help="With --headless: the summary as JSON.")
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    metavar="PORT",
    help="Port for the embedded Redis (default: a free one).",
)
@click.option(
    "--start-timeout",
    type=click.FloatRange(min=1),
    default=20.0,
    show_default=True,
    metavar="SECONDS",
    help="How long the workers get to come up.",
)
@click.option("--seed", type=int, help="Seed the workload's randomness.")
@click.pass_context
def demo(
    ctx: click.Context,
    headless: bool,
    duration: float,
    as_json: bool,
    port: int | None,
    start_timeout: float,
    seed: int | None,
    **options,
) -> None:
    """Run the whole seed system on an embedded Redis and watch it.

    Starts Redis (or uses --broker), two workers (celery,http and disk,secure), beat with a
    fast schedule, a local HTTP server with a healthy and a flaky endpoint, and a workload
    of e-mails, orders and risky operations; then opens the dashboard on it. Quitting stops
    all of it and removes its temp files. With --signed, the cluster takes only signed task
    messages: a throwaway key, certificate and store are made in the temp dir.
    """
    from celerytui.demo.cluster import DemoStartError
    from celerytui.demo.session import DemoSession, say

    given = {**(ctx.find_root().obj or {}), **{k: v for k, v in options.items() if v is not None}}
    if given.get("app"):
        raise click.UsageError("demo runs celerytui's own tasks; -A/--app is not supported.")
    from_command_line = click.core.ParameterSource.COMMANDLINE
    if not headless and (as_json or ctx.get_parameter_source("duration") == from_command_line):
        raise click.UsageError("--duration and --json go with --headless.")
    broker = given.get("broker")
    if broker and port:
        raise click.UsageError("--port is for the embedded Redis; it makes no sense with --broker.")
    base = settings_from(ctx, **options)
    try:
        session = DemoSession(
            base,
            broker=broker,
            result_backend=given.get("result_backend"),
            port=port,
            start_timeout=start_timeout,
            seed=seed,
        )
    except OSError as exc:
        raise click.ClickException(f"could not start the demo's HTTP server: {exc}") from None
    try:
        if headless:
            from celerytui.demo.headless import run_headless

            code = run_headless(session, duration, as_json=as_json)
        else:
            code = _run_tui(session)
    except DemoStartError as exc:
        session.stop()
        say(f"error: {exc}")
        ctx.exit(EXIT_START_FAILED)
    finally:
        session.stop()
    if not headless:
        say("stopped every process it started and removed its temp files")
    ctx.exit(code)


def _run_tui(session) -> int:
    """Start the cluster, then the TUI on it; a signal asks the TUI to quit, and if it does
    not within a few seconds, the cleanup runs anyway (finally in the caller)."""
    from celerytui.demo.session import (
        DemoInterrupted,
        raise_on_signals,
        restore_signals,
        say,
    )

    previous = raise_on_signals()
    try:
        try:
            session.start()
        except DemoInterrupted as stop:
            say(f"{stop} received during start, stopping")
            return stop.exit_code
        say(session.ready_line())
        try:
            from celerytui.app import make_app
        except ModuleNotFoundError as exc:
            if exc.name != "celerytui.app":
                raise
            raise click.ClickException(
                "the dashboard is not built yet; try `celerytui demo --headless`."
            ) from None
        app = _make_demo_app(make_app, session)
        pending = _exit_app_on_signals(app)
        stopped = threading.Event()
        threading.Thread(target=_announce, args=(app, session, stopped), daemon=True).start()
        try:
            app.run()
        except DemoInterrupted as stop:
            return stop.exit_code
        finally:
            stopped.set()
            for timer in pending:
                timer.cancel()
        return getattr(app, "return_code", 0) or 0
    finally:
        restore_signals(previous)


def _make_demo_app(make_app, session):
    """The dashboard on the demo's own Monitor (already receiving since before the workers
    came up, so nothing is missed); the app pumps it, the session stops it."""
    notice = (
        f"demo cluster {session.cluster.broker_display} · logs in {session.log_dir}"
        " · q stops every demo process"
    )
    return make_app(
        session.settings,
        monitor=session.monitor,
        start_monitor=False,
        notice=notice,
        record=session.settings.record,  # into the demo's temp dir: history and replay work
    )


def _announce(app, session, stopped: threading.Event) -> None:
    """Tell the user, inside the TUI, where the demo's logs are (a toast once it is up)."""
    message = (
        f"Demo cluster on {session.cluster.broker_display}. Logs: {session.log_dir}. "
        "q quits and stops every demo process."
    )
    deadline = time.monotonic() + 15
    while not stopped.wait(0.3) and time.monotonic() < deadline:
        try:
            app.call_from_thread(app.notify, message, title="celerytui demo", timeout=20)
            return
        except Exception:  # not running or no screen yet: try again shortly
            continue


def _exit_app_on_signals(app) -> list[threading.Timer]:
    """SIGTERM/SIGINT/SIGHUP while the TUI runs: ask it to exit from a helper thread (the
    thread-safe way into Textual), so the terminal is restored before we clean up."""
    import signal

    from celerytui.demo.session import HANDLED_SIGNALS, DemoInterrupted

    asked = threading.Event()
    timers: list[threading.Timer] = []  # the caller cancels them once the TUI has quit

    def ask_exit(signum: int) -> None:
        with contextlib.suppress(Exception):
            app.call_from_thread(app.exit, None, 128 + signum)

    def handler(signum, frame):
        if asked.is_set():
            raise DemoInterrupted(signum)  # second signal: stop now
        asked.set()
        threading.Thread(target=ask_exit, args=(signum,), daemon=True).start()
        timer = threading.Timer(TUI_EXIT_GRACE, _interrupt_main, args=(signum,))
        timer.daemon = True
        timers.append(timer)
        timer.start()

    for sig in HANDLED_SIGNALS:
        signal.signal(sig, handler)
    return timers


def _interrupt_main(signum: int) -> None:
    """The TUI did not quit in time: deliver the signal again, which now raises."""
    import os
    import signal

    os.kill(os.getpid(), signal.Signals(signum))
