"""`celerytui serve`: the very same dashboard in a web browser, with textual-serve.

textual-serve runs one command per browser session (a `celerytui` process whose terminal is
the page's xterm.js). That command is the same for every session and carries no settings: the
page shows it as its title and the server prints it, so a broker password on it would leak.
The URL flags travel in the environment instead (``session_env``), where the session's
`celerytui` reads them as its own flags (``cli_options.SESSION_URL_ENV``); the options that
hold no secret (--config, --context, -A, --read-only) are on the command.

Anyone who reaches the port drives the dashboard, so it binds loopback by default (reach it
through ``ssh -L 8000:127.0.0.1:8000 bastion``); any other address needs --read-only, or
--allow-actions to say that actions from the browser are wanted.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import shlex
import sys
from typing import Any, TextIO

import click

from celerytui.cli_options import SESSION_URL_ENV, SettingsError, cluster_options, settings_from
from celerytui.config import ConfigError, Settings
from celerytui.redaction import redact_text


def is_loopback(host: str) -> bool:
    """``localhost``, 127.0.0.0/8 or ::1: only this machine (and SSH tunnels) reach it."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False


def exposure_problem(host: str, read_only: bool, allow_actions: bool) -> str | None:
    """Why binding ``host`` is refused, or None."""
    if is_loopback(host) or read_only or allow_actions:
        return None
    return (
        f"--host {host} is not a loopback address and whoever reaches it could change the "
        "cluster: add --read-only (or --allow-actions if browsers may act)"
    )


def session_env(given: dict[str, Any]) -> dict[str, str]:
    """The URL flags `serve` was given, for each session to read as its own flags."""
    return {env: str(given[name]) for name, env in SESSION_URL_ENV.items() if given.get(name)}


def session_command(given: dict[str, Any], settings: Settings) -> str:
    """The shell command textual-serve runs per session: the options that hold no secret
    (config, context, app, read-only), the same for every session."""
    argv = [sys.executable, "-m", "celerytui"]
    if given.get("config"):
        argv += ["--config", os.path.abspath(given["config"])]
    if given.get("context"):
        argv += ["--context", str(given["context"])]
    if given.get("app"):
        argv += ["-A", str(given["app"])]
    if settings.read_only:
        argv.append("--read-only")
    return shlex.join(argv)


class RedactedStream:
    """A text stream that masks passwords in URLs before they are written: textual-serve
    copies a failed session's stderr (tracebacks, settings) to its own stdout."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(redact_text(text))
        return len(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


class _RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact_text(super().format(record))


def _server_class() -> type:
    from textual_serve.server import Server

    class CeleryServer(Server):
        """textual-serve's server with plain, redacted logs (its own handler prints the local
        variables of a traceback, which may hold the sessions' environment)."""

        def initialize_logging(self) -> None:
            handler = logging.StreamHandler(sys.stderr)
            handler.setFormatter(_RedactingFormatter("%(levelname)s %(name)s: %(message)s"))
            logging.basicConfig(level=logging.DEBUG if self.debug else logging.INFO)
            root = logging.getLogger()
            root.handlers[:] = [handler]

    return CeleryServer


@click.command(name="serve")
@cluster_options
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="TCP port."
)
@click.option(
    "--allow-actions",
    is_flag=True,
    help="Let browsers change the cluster on a non-loopback --host (else --read-only is needed).",
)
@click.option(
    "--public-url",
    metavar="URL",
    help="The address browsers use, behind a proxy or on 0.0.0.0 [default: http://HOST:PORT].",
)
@click.pass_context
def serve(
    ctx: click.Context,
    host: str,
    port: int,
    allow_actions: bool,
    public_url: str | None,
    **options: Any,
) -> None:
    """Serve the dashboard to web browsers (one live session per browser tab).

    Binds 127.0.0.1 unless told otherwise: reach it through an SSH tunnel,
    `ssh -L 8000:127.0.0.1:8000 bastion`, then open http://127.0.0.1:8000.
    """
    settings = settings_from(ctx, **options)
    problem = exposure_problem(host, settings.read_only, allow_actions)
    if problem:
        raise SettingsError(problem)
    _check_look(settings)
    root = ctx.find_root().obj or {}
    given = {k: v for k, v in {**root, **options}.items() if v is not None}
    os.environ.update(session_env(given))  # the sessions inherit this environment
    sys.stdout = RedactedStream(sys.stdout)  # type: ignore[assignment]
    server = _server_class()(
        session_command(given, settings),
        host=host,
        port=port,
        title="celerytui",
        public_url=public_url,
    )
    server.serve()


def _check_look(settings: Settings) -> None:
    """The keymap and theme checks each session would run: fail here, once, instead."""
    from celerytui.keymaps import check_keymap
    from celerytui.theme_memory import starting_theme

    try:
        check_keymap(settings.keymap, settings.source_of("keymap"))
        starting_theme(settings, None)
    except ConfigError as exc:
        raise SettingsError(str(exc)) from None
