"""The cluster options every command shares, and how they become one Settings."""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any

import click

from celerytui.config import ConfigError, ConfigWarning, Settings, known_contexts, load_settings

# the signing settings (celerytui.signing) that have flags; the key's password has none: a
# command line is readable by every user (`ps`), so it comes by file or environment only
SIGNING_FLAGS = ("signed", "security_key", "security_certificate", "security_cert_store")
CLUSTER_OPTIONS = (
    "broker",
    "result_backend",
    "app",
    "config",
    "read_only",
    "context",
    *SIGNING_FLAGS,
)


class SettingsError(click.ClickException):
    """A bad setting: shown as one line ``Error: ...`` (no usage dump) and exit status 2."""

    exit_code = 2


# `celerytui serve` hands its URL flags to each browser session through these (never argv:
# the page and the server's log show the session's command); a session reads them as flags
SESSION_URL_ENV = {
    "broker": "_CELERYTUI_SESSION_BROKER",
    "result_backend": "_CELERYTUI_SESSION_RESULT_BACKEND",
}


def cluster_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add -b/--broker, --result-backend, -A/--app, --config, --context and --read-only to a
    command."""

    @click.option(
        "-b",
        "--broker",
        "broker",
        metavar="URL",
        envvar=SESSION_URL_ENV["broker"],
        help="Broker URL (redis://, amqp://). Env: CELERY_BROKER_URL.",
    )
    @click.option(
        "--result-backend",
        "result_backend",
        metavar="URL",
        envvar=SESSION_URL_ENV["result_backend"],
        help="Result backend URL. Env: CELERY_RESULT_BACKEND.",
    )
    @click.option("-A", "--app", "app", metavar="MODULE", help="Your Celery app module (proj).")
    @click.option(
        "--config",
        "config",
        metavar="PATH",
        help="TOML config file [default: $CELERYTUI_CONFIG, else ~/.config/celerytui/config.toml].",
    )
    @click.option(
        "--context",
        "context",
        metavar="NAME",
        help="The config file's [contexts.NAME] to use. Env: CELERYTUI_CONTEXT.",
    )
    @click.option(
        "--read-only",
        "read_only",
        is_flag=True,
        default=None,
        help="Refuse every action that changes the cluster.",
    )
    @click.option(
        "--signed",
        "signed",
        is_flag=True,
        default=None,
        help="The cluster takes only signed task messages (also implied by --security-*).",
    )
    @click.option(
        "--security-key",
        "security_key",
        metavar="PATH",
        help="PEM private key that signs tasks (its password: env or config file only).",
    )
    @click.option(
        "--security-certificate", "security_certificate", metavar="PATH", help="PEM certificate."
    )
    @click.option(
        "--security-cert-store",
        "security_cert_store",
        metavar="PATH",
        help="Directory of trusted certificates.",
    )
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        return func(*args, **kwargs)

    return wrapper


def settings_from(ctx: click.Context, **local: Any) -> Settings:
    """Merge the group's options with a subcommand's own (the subcommand's win).

    A bad setting exits with one ``Error:`` line; a risky one (a password in a file others
    can read) prints one ``Warning:`` line on stderr and goes on.
    """
    merged = given_options(ctx, **local)
    config_path = merged.pop("config", None)
    flags = {}
    if "broker" in merged:
        flags["broker_url"] = merged["broker"]
    if "result_backend" in merged:
        flags["result_backend"] = merged["result_backend"]
    if "app" in merged:
        flags["app"] = merged["app"]
    if merged.get("read_only"):
        flags["read_only"] = True
    if merged.get("signed"):
        flags["signed"] = True
    for key in SIGNING_FLAGS[1:]:
        if key in merged:
            flags[key] = merged[key]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConfigWarning)
        try:
            settings = load_settings(
                config_path=config_path, context=merged.get("context"), **flags
            )
        except ConfigError as exc:
            raise SettingsError(str(exc)) from None
        finally:
            for warning in caught:
                if issubclass(warning.category, ConfigWarning):
                    click.echo(f"Warning: {warning.message}", err=True)
                else:
                    warnings.showwarning(
                        warning.message, warning.category, warning.filename, warning.lineno
                    )
    return settings


def given_options(ctx: click.Context, **local: Any) -> dict[str, Any]:
    """The cluster options given on the command line: the group's, then the subcommand's."""
    merged: dict[str, Any] = {}
    root = ctx.find_root()
    if root.obj:
        merged.update({k: v for k, v in root.obj.items() if v is not None})
    merged.update({k: v for k, v in local.items() if v is not None and k in CLUSTER_OPTIONS})
    return merged


class ContextLoader:
    """How the TUI finds and loads the other contexts: as ``--context NAME`` would, keeping
    --config and --read-only but not -b / --result-backend / -A (those named the first cluster
    only). Both methods raise ConfigError (one line)."""

    def __init__(self, config_path: str | None = None, read_only: bool = False) -> None:
        self.config_path = config_path
        self.read_only = True if read_only else None

    def names(self) -> list[str]:
        return known_contexts(self.config_path)

    def load(self, name: str) -> Settings:
        with warnings.catch_warnings():  # the start said it once
            warnings.simplefilter("ignore", ConfigWarning)
            return load_settings(
                config_path=self.config_path, context=name, read_only=self.read_only
            )


def context_loader(ctx: click.Context, **local: Any) -> ContextLoader:
    """The ContextLoader for the options given on the command line."""
    given = given_options(ctx, **local)
    return ContextLoader(given.get("config"), bool(given.get("read_only")))
