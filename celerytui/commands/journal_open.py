"""Opening the journal for a reading command (`history`, `replay`): the store named by
``--store``, else the ``store`` setting, else the cluster's default SQLite file; one line
(URL redacted) when it cannot be opened or is empty."""

from __future__ import annotations

from typing import Any

import click

from celerytui.commands.errors import CommandError
from celerytui.redaction import one_line, redact

STORE_HELP = "Journal: a SQLite path or postgresql:// URL [default: the cluster's own file]."


def store_option(func: Any) -> Any:
    return click.option("--store", "store", metavar="URL|PATH", help=STORE_HELP)(func)


def apply_store_flag(ctx: click.Context, settings: Any, given: str | None) -> None:
    """``--store`` (the command's, else the group's: `celerytui --store X history`) over the
    ``store`` setting, checked like every setting."""
    from celerytui.cli import journal_flags

    journal_flags(settings, store=given or (ctx.find_root().obj or {}).get("store"))


def open_reader(settings: Any) -> Any:
    """The settings' journal store (``store``, else the cluster's default file), opened for
    reading; CommandError (one line, URL redacted) when it cannot be."""
    from celerytui.core.journal import JournalError, open_store
    from celerytui.core.journal.recorder import journal_cluster

    spec = settings.store or None
    try:
        return open_store(
            spec, cluster=journal_cluster(settings, _broker_of(settings)), write=False
        )
    except JournalError as exc:
        raise CommandError(one_line(exc, secrets=_secrets(spec))) from None


def _broker_of(settings: Any) -> str | None:
    """The broker the journal is named by: under ``-A`` the app's (unless ``--broker``), as
    the recorder names it (core/journal/recorder.py attach), else the settings'."""
    if not settings.app:
        return None
    from celerytui.commands.app_loader import load_app

    return str(load_app(settings).conf.broker_url or "") or None  # AppLoadError: one line


def store_label(store: Any) -> str:
    """How the journal is named on screen (redacted)."""
    return f"journal {redact(str(store.display))}"


def parse_when(text: str | None, option: str, now: float | None = None) -> float | None:
    """A --from / --to / --since / --until value as epoch seconds (None when not given)."""
    if text is None:
        return None
    from celerytui.core.journal.times import TimeError, parse_time

    try:
        return parse_time(text, now)
    except TimeError as exc:
        raise CommandError(f"{option}: {exc}") from None


def _secrets(spec: str | None) -> tuple[str, ...]:
    if not spec:
        return ()
    from celerytui.redaction import url_secrets

    return tuple(url_secrets(spec))
