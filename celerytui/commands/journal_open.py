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


def store_spec(settings: Any, given: str | None) -> str | None:
    return given or getattr(settings, "store", None) or None


def open_reader(settings: Any, given: str | None) -> Any:
    """The journal store, opened for reading; CommandError (one line) when it cannot be."""
    from celerytui.core.journal import JournalError, cluster_name, open_store

    spec = store_spec(settings, given)
    try:
        return open_store(spec, cluster=cluster_name(settings.broker_url), write=False)
    except JournalError as exc:
        raise CommandError(one_line(exc, secrets=_secrets(spec))) from None


def store_label(store: Any, given: str | None) -> str:
    """How the journal is named on screen (redacted)."""
    where = getattr(store, "display", None) or given or "default"
    return f"journal {redact(str(where))}"


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
