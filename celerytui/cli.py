"""The `celerytui` command: the TUI by default, and the headless subcommands.

Subcommands are imported only when run, so `celerytui --help` stays fast.
"""

from __future__ import annotations

import importlib

import click

from celerytui import __version__
from celerytui.cli_options import SettingsError, cluster_options, context_loader, settings_from
from celerytui.config import ConfigError, Settings, config_file
from celerytui.redaction import redact, redact_webhook

# name -> (module:attribute, one-line help)
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("celerytui.commands.demo:demo", "Run the whole seed system on an embedded Redis."),
    "exporter": ("celerytui.commands.exporter:exporter", "Serve Prometheus metrics."),
    "status": ("celerytui.commands.status:status", "Print one snapshot of the cluster."),
    "tail": ("celerytui.commands.tail:tail", "Stream task events, one line each."),
    "fire": ("celerytui.commands.fire:fire", "Send a task to the cluster."),
    "record": ("celerytui.commands.record:record", "Record the cluster into the journal."),
    "config": ("celerytui.cli:show_config", "Show the settings in effect and their sources."),
    "contexts": ("celerytui.commands.contexts:contexts", "List the config's clusters (contexts)."),
    "history": ("celerytui.commands.history:history", "Search the journal's tasks."),
    "replay": ("celerytui.commands.replay:replay", "Replay the journal in the TUI."),
    "serve": ("celerytui.commands.serve:serve", "Serve the dashboard to a web browser."),
}


class LazyGroup(click.Group):
    """Imports a subcommand's module only when that subcommand runs (keeps --help fast)."""

    def list_commands(self, ctx):
        return sorted(SUBCOMMANDS)

    def get_command(self, ctx, name):
        if name not in SUBCOMMANDS:
            return None
        module_name, attr = SUBCOMMANDS[name][0].split(":")
        return getattr(importlib.import_module(module_name), attr)

    def format_commands(self, ctx, formatter):
        rows = [(name, SUBCOMMANDS[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, invoke_without_command=True)
@cluster_options
@click.option(
    "--store",
    metavar="PATH|URL",
    help="The journal: a SQLite file or a postgresql:// URL. Env: CELERYTUI_STORE.",
)
@click.option(
    "--no-record",
    "no_record",
    is_flag=True,
    default=None,
    help="Do not record into the journal (setting: record = false).",
)
@click.version_option(__version__, prog_name="celerytui")
@click.pass_context
def main(ctx: click.Context, store: str | None, no_record: bool | None, **options) -> None:
    """A terminal dashboard for live Celery clusters.

    With no command, opens the dashboard on the configured cluster (and records it into the
    journal, unless another recorder does or --no-record).
    """
    ctx.obj = {**options, "store": store}
    if ctx.invoked_subcommand is not None:
        return
    settings = settings_from(ctx)
    journal_flags(settings, store=store, record=False if no_record else None)
    from celerytui.app import make_app
    from celerytui.theme_memory import ThemeMemory

    try:  # a bad keymap or theme: one Error: line, like any bad setting
        app = make_app(
            settings,
            contexts=context_loader(ctx),
            record=settings.record,
            theme_memory=ThemeMemory.default(),
        )
    except ConfigError as exc:
        raise SettingsError(str(exc)) from None
    app.run()
    if app.return_code:  # a crash: Textual printed the traceback, the shell sees the failure
        ctx.exit(app.return_code)


def journal_flags(settings: Settings, **flags: object) -> None:
    """The journal's flags (`--store`, `--no-record`, `--retention`, `--max-size`) over the
    settings, checked like every setting (one `Error:` line, exit 2)."""
    from celerytui.cli_options import SettingsError
    from celerytui.config_checks import FIELD_CHECKS, Invalid

    for key, raw in flags.items():
        if raw is None:
            continue
        flag = "--no-record" if key == "record" else "--" + key.replace("_", "-")
        try:
            value = FIELD_CHECKS[key](raw)
        except Invalid as exc:
            raise SettingsError(f"{key}: {exc} (from flag {flag})") from None
        setattr(settings, key, value)
        settings.sources[key] = f"flag {flag}"


@click.command(name="config")
@cluster_options
@click.pass_context
def show_config(ctx: click.Context, **options) -> None:
    """Show the settings in effect and where each came from (passwords hidden).

    Precedence: defaults < TOML file < environment (CELERYTUI_*, CELERY_BROKER_URL,
    CELERY_RESULT_BACKEND) < command-line flags.
    """
    settings = settings_from(ctx, **options)
    path = config_file(options.get("config") or (ctx.find_root().obj or {}).get("config"))
    click.echo(f"config file: {path or 'none'}")
    for key, value, source in settings_rows(settings):
        click.echo(f"{key:<34} {redact(value):<40} {source}")


def settings_rows(settings: Settings) -> list[tuple[str, str, str]]:
    """(key, value as text, source) for every setting, thresholds as ``thresholds.<name>``."""
    from dataclasses import fields

    rows = []
    for spec in fields(settings):
        value = getattr(settings, spec.name)
        if spec.name == "sources":
            continue
        if spec.name == "thresholds":
            for sub in fields(value):
                key = f"thresholds.{sub.name}"
                rows.append((key, str(getattr(value, sub.name)), settings.source_of(key)))
            continue
        if spec.name == "disk_hosts":
            value = ", ".join(_describe_host(host) for host in value) or "-"
        elif spec.name == "alert_webhook" and value:
            value = redact_webhook(value)
        elif spec.name == "alert_webhooks":
            value = ", ".join(redact_webhook(url) for url in value) or "-"
        elif spec.name == "security_key_password" and value:
            value = "****"
        elif isinstance(value, list):
            value = ", ".join(value) or "-"
        elif isinstance(value, dict):  # the keymap
            value = ", ".join(f"{key}={keys}" for key, keys in value.items()) or "-"
        rows.append(
            (spec.name, "-" if value is None else str(value), settings.source_of(spec.name))
        )
    return rows


def _describe_host(host) -> str:
    return f"{host.name}={host.user}@{host.host or host.name}:{host.port}{host.path}"
