"""`celerytui fire`: send one of the seed's tasks, or any registered task, from a shell.

Prints the task id; with --wait, the result as JSON (exit 1 when the task failed). Refused
under --read-only.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import click

from celerytui.cli_options import cluster_options, settings_from
from celerytui.commands.errors import (
    EXIT_ERROR,
    EXIT_OK,
    CommandError,
    check_broker,
    handle_errors,
)
from celerytui.redaction import one_line

EXIT_TASK_FAILED = 1


def _wait_options(func: Any) -> Any:
    func = click.option(
        "--timeout",
        type=click.FloatRange(min=0, min_open=True),
        default=60.0,
        show_default=True,
        metavar="SECONDS",
        help="How long --wait waits for the result.",
    )(func)
    func = click.option("--wait", is_flag=True, help="Wait for the result and print it as JSON.")(
        func
    )
    return cluster_options(func)


@click.group()
@cluster_options
@click.pass_context
def fire(ctx: click.Context, **options: Any) -> None:
    """Send a task to the cluster and print its id."""
    ctx.obj = {k: v for k, v in options.items() if v is not None}


@fire.command("http")
@click.argument("url")
@_wait_options
@click.pass_context
@handle_errors
def fire_http(ctx: click.Context, url: str, wait: bool, timeout: float, **options: Any) -> None:
    """Check an HTTP endpoint (check_http_endpoint URL)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise CommandError(f"not an http(s) URL: {url!r}")
    _send(ctx, options, wait, timeout, _seed("http", lambda ctl: ctl.fire_http(url)))


@fire.command("disk")
@click.argument("host")
@_wait_options
@click.pass_context
@handle_errors
def fire_disk(ctx: click.Context, host: str, wait: bool, timeout: float, **options: Any) -> None:
    """Check a host's disk over SSH (check_disk_usage HOST)."""
    if not host.strip():
        raise CommandError("HOST must not be empty")
    _send(ctx, options, wait, timeout, _seed("disk", lambda ctl: ctl.fire_disk(host)))


@fire.command("order")
@click.argument("order_id")
@_wait_options
@click.pass_context
@handle_errors
def fire_order(
    ctx: click.Context, order_id: str, wait: bool, timeout: float, **options: Any
) -> None:
    """Run the order chain validate_order -> process_payment -> ship_order."""
    value: Any = int(order_id) if order_id.lstrip("-").isdigit() else order_id
    _send(ctx, options, wait, timeout, _seed("order", lambda ctl: ctl.fire_order(value)))


@fire.command("email")
@click.argument("to")
@click.argument("content")
@_wait_options
@click.pass_context
@handle_errors
def fire_email(
    ctx: click.Context, to: str, content: str, wait: bool, timeout: float, **options: Any
) -> None:
    """Send the demo email (send_email TO CONTENT)."""
    _send(ctx, options, wait, timeout, _seed("email", lambda ctl: ctl.fire_email(to, content)))


@fire.command("task")
@click.argument("name")
@click.option("--args", "args_json", default="[]", metavar="JSON", help="Positional args: a list.")
@click.option(
    "--kwargs", "kwargs_json", default="{}", metavar="JSON", help="Keyword args: an object."
)
@click.option("--queue", metavar="QUEUE", help="Queue to send to (default: the app's routes).")
@click.option(
    "--countdown",
    type=click.FloatRange(min=0),
    metavar="SECONDS",
    help="Run no earlier than this many seconds from now.",
)
@_wait_options
@click.pass_context
@handle_errors
def fire_task(
    ctx: click.Context,
    name: str,
    args_json: str,
    kwargs_json: str,
    queue: str | None,
    countdown: float | None,
    wait: bool,
    timeout: float,
    **options: Any,
) -> None:
    """Send any registered task by name, with JSON args and kwargs."""
    args = _json_arg("--args", args_json, list)
    kwargs = _json_arg("--kwargs", kwargs_json, dict)

    def send(ctl: Any) -> str:
        _check_registered(ctl, name)
        return ctl.send_task(name, args=args, kwargs=kwargs, queue=queue, countdown=countdown)

    _send(ctx, options, wait, timeout, send)


def _seed(kind: str, send: Any) -> Any:
    """``send``, after checking the app (or a worker) registers the seed tasks it sends: under
    ``-A proj`` they are refused as ``fire task`` refuses unknown names, before anything is
    sent, instead of ending as NotRegistered on proj's workers."""

    def checked(ctl: Any) -> Any:
        from celerytui.core.seed_tasks import SEED_TASKS

        _check_registered(ctl, *SEED_TASKS[kind])
        return send(ctl)

    return checked


def _json_arg(flag: str, text: str, kind: type) -> Any:
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise CommandError(f"{flag} is not valid JSON: {exc}") from None
    if not isinstance(value, kind):
        wanted = "a JSON list" if kind is list else "a JSON object"
        raise CommandError(f"{flag} must be {wanted}, not {type(value).__name__}")
    return value


def _check_registered(ctl: Any, *names: str) -> None:
    """Refuse names no worker (and not the -A app) knows, before sending a message that would
    sit in a queue or be rejected."""
    local = {n for n in ctl.app.tasks if not n.startswith("celery.")}
    unknown = [name for name in names if name not in local]
    if not unknown:
        return
    name = unknown[0]
    registered = ctl.inspect("registered")
    if not registered:
        if local:
            raise CommandError(
                f"unknown task {name!r}: the app does not define it and no "
                "worker answered `inspect registered` to confirm it"
            )
        raise CommandError(f"cannot check task {name!r}: no worker answered `inspect registered`")
    known = {str(n).split(" ", 1)[0] for names in registered.values() for n in names or ()}
    for name in unknown:
        if name not in known:
            raise CommandError(f"unknown task {name!r}: no worker has it registered")


def _send(ctx: click.Context, options: dict, wait: bool, timeout: float, send: Any) -> None:
    from celerytui.commands.app_loader import load_app
    from celerytui.core.control import Controller

    parent = ctx.parent.obj if ctx.parent is not None else None
    merged = {**(parent or {}), **{k: v for k, v in options.items() if v is not None}}
    settings = settings_from(ctx, **merged)
    if settings.read_only:
        raise CommandError("read-only mode: `fire` would change the cluster; refused")
    app = load_app(settings)
    controller = Controller(app, read_only=False, timeout=1.0)
    controller.refuse_unsigned()  # a signed cluster and no key: one line, nothing sent
    check_broker(app)
    task_id = send(controller)
    click.echo(str(task_id))
    if not wait:
        ctx.exit(EXIT_OK)
    ctx.exit(_wait_for(app, str(task_id), timeout))


def _wait_for(app: Any, task_id: str, timeout: float) -> int:
    result = app.AsyncResult(task_id)
    try:
        value = result.get(timeout=timeout, propagate=False, interval=0.1)
    except Exception as exc:  # celery's TimeoutError, or the backend went away
        name = type(exc).__name__
        if name == "TimeoutError":
            raise CommandError(
                f"task {task_id} has no result after {timeout:g}s (state {result.state})"
            ) from None
        raise CommandError(f"waiting for {task_id}: {one_line(exc)}") from None
    if result.failed():
        error = f"{type(value).__name__}: {value}" if isinstance(value, BaseException) else value
        click.echo(json.dumps({"id": task_id, "state": result.state, "error": str(error)}))
        return EXIT_TASK_FAILED
    try:
        click.echo(json.dumps(value))
    except (TypeError, ValueError):
        click.echo(json.dumps(repr(value)))
    return EXIT_OK if result.successful() else EXIT_ERROR
