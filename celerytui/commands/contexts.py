"""`celerytui contexts`: the config file's clusters, the one in effect marked.

Each row is what ``--context NAME`` would connect to (the file and the environment, no
``-b``): broker and backend with passwords masked, the app, and whether it is read-only.
No broker is contacted, so it answers at once.
"""

from __future__ import annotations

import json
import warnings
from typing import Any

import click

from celerytui.cli_options import SettingsError, cluster_options, given_options, settings_from
from celerytui.commands.plain_text import printable
from celerytui.config import ConfigError, ConfigWarning, config_file, known_contexts, load_settings
from celerytui.redaction import redact


@click.command(name="contexts")
@cluster_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON: one object per context.")
@click.pass_context
def contexts(ctx: click.Context, as_json: bool, **options: Any) -> None:
    """List the config file's [contexts.NAME]; * marks the one in effect.

    Pick one with --context NAME, CELERYTUI_CONTEXT or current_context in the file.
    """
    current = settings_from(ctx, **options).context  # also says a bad name in one line
    config_path = given_options(ctx, **options).get("config")
    path = config_file(config_path)
    rows = [_row(name, name == current, config_path) for name in _names(config_path)]
    if as_json:
        click.echo(json.dumps({"config_file": path, "current": current, "contexts": rows}))
        return
    if not rows:
        click.echo(f"no contexts: add [contexts.NAME] tables to {path or 'a config file'}")
        return
    width = max(len(printable(row["name"])) for row in rows)
    for row in rows:
        mark = "*" if row["current"] else " "
        flags = "  read-only" if row["read_only"] else ""
        app = f"  -A {printable(row['app'])}" if row["app"] else ""
        click.echo(
            f"{mark} {printable(row['name']):<{width}}  {printable(row['broker_url'])}"
            f"  results {printable(row['result_backend'])}{app}{flags}"
        )


def _names(config_path: str | None) -> list[str]:
    try:
        return known_contexts(config_path)
    except ConfigError as exc:
        raise SettingsError(str(exc)) from None


def _row(name: str, current: bool, config_path: str | None) -> dict[str, Any]:
    try:
        with warnings.catch_warnings():  # settings_from has warned once already
            warnings.simplefilter("ignore", ConfigWarning)
            settings = load_settings(config_path=config_path, context=name)
    except ConfigError as exc:
        raise SettingsError(str(exc)) from None
    return {
        "name": name,
        "current": current,
        "broker_url": redact(settings.broker_url),
        "result_backend": redact(settings.result_backend),
        "app": settings.app,
        "read_only": settings.read_only,
    }
