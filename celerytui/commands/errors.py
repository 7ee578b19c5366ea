"""One-line errors and exit codes shared by the headless commands.

A user who mistypes a broker URL or a JSON argument gets one line on stderr naming the problem
(passwords masked) and exit code 2, never a traceback.
"""

from __future__ import annotations

import functools
import os
import sys
import time
from collections.abc import Callable
from contextlib import suppress
from typing import Any, TypeVar

import click

from celerytui.config import ConfigError
from celerytui.core.broker_errors import bounded_connection
from celerytui.redaction import one_line, redact, url_secrets

EXIT_OK = 0
EXIT_DEGRADED = 1  # status: no worker, or a queue over its backlog threshold
EXIT_ERROR = 2  # broker unreachable, bad input, refused under --read-only

BROKER_TIMEOUT = 2.0  # seconds to connect to the broker before saying it is unreachable
ERROR_LIMIT = 400  # characters of an Error: line

F = TypeVar("F", bound=Callable[..., Any])


class CommandError(click.ClickException):
    """Printed as one ``Error: <message>`` line (like a bad setting); exits 2."""

    exit_code = EXIT_ERROR

    def __init__(self, message: str) -> None:
        super().__init__(one_line(message, limit=ERROR_LIMIT))


def handle_errors(command: F) -> F:
    """Turn the core's exceptions into one-line errors (exit 2); Ctrl+C exits quietly."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from celerytui.commands.app_loader import AppLoadError
        from celerytui.core.control import ControlError
        from celerytui.core.filters import FilterError

        try:
            return command(*args, **kwargs)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except KeyboardInterrupt:
            raise SystemExit(130) from None
        except BrokenPipeError:
            quiet_stdout()
            raise SystemExit(EXIT_OK) from None
        except (AppLoadError, ConfigError, ControlError, FilterError) as exc:
            raise CommandError(one_line(exc, limit=ERROR_LIMIT)) from None
        except Exception as exc:  # anything else: still one line, never a traceback
            raise CommandError(one_line(exc, with_type=True, limit=ERROR_LIMIT)) from None

    return wrapper  # type: ignore[return-value]


def quiet_stdout() -> None:
    """After a closed pipe (`| head`): point stdout at /dev/null so the interpreter's final
    flush does not print a BrokenPipeError traceback."""
    with suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def check_broker(app: Any, timeout: float = BROKER_TIMEOUT) -> None:
    """Connect once to the app's broker, or raise CommandError naming the redacted URL and
    the cause, within about ``timeout`` seconds."""
    try:
        with bounded_connection(app, timeout, write=True, error=CommandError):
            pass
    except CommandError:
        raise
    except Exception as exc:  # the URL itself is bad: no connection could even be made
        url = app.conf.broker_url
        raise CommandError(
            f"bad broker URL {redact(url)}: {one_line(exc, secrets=url_secrets(url))}"
        ) from None


def wait_connected(source: Any, timeout: float) -> bool:
    """Wait (at most ``timeout`` s) until a lane or watcher's status says connected, so a
    command's first line is true when it is printed; True if it is."""
    deadline = time.monotonic() + timeout
    while not source.status.connected:
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)
    return True
