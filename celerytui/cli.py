"""The `celerytui` command: the TUI by default, and the headless subcommands.

Subcommands are imported only when run, so `celerytui --help` stays fast.
"""

from __future__ import annotations

import importlib

import click

from celerytui import __version__
from celerytui.cli_options import cluster_options, settings_from

# name -> (module:attribute, one-line help)
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("celerytui.commands.demo:demo", "Run the whole seed system on an embedded Redis."),
    "exporter": ("celerytui.commands.exporter:exporter", "Serve Prometheus metrics."),
    "status": ("celerytui.commands.status:status", "Print one snapshot of the cluster."),
    "tail": ("celerytui.commands.tail:tail", "Stream task events, one line each."),
    "fire": ("celerytui.commands.fire:fire", "Send a task to the cluster."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx):
        return sorted(SUBCOMMANDS)

    def get_command(self, ctx, name):
        if name not in SUBCOMMANDS:
            return None
        target, short_help = SUBCOMMANDS[name]
        module_name, attr = target.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise

            @click.command(name=name, help=short_help, context_settings={"ignore_unknown_options": True})
            @click.argument("args", nargs=-1, type=click.UNPROCESSED)
            def not_built(args):
                raise click.ClickException(f"`celerytui {name}` is not built yet.")

            return not_built
        return getattr(module, attr)

    def format_commands(self, ctx, formatter):
        rows = [(name, SUBCOMMANDS[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, invoke_without_command=True)
@cluster_options
@click.version_option(__version__, prog_name="celerytui")
@click.pass_context
def main(ctx: click.Context, **options) -> None:
    """A terminal dashboard for live Celery clusters.

    With no command, opens the dashboard on the configured cluster.
    """
    ctx.obj = options
    if ctx.invoked_subcommand is not None:
        return
    settings = settings_from(ctx)
    try:
        from celerytui.app import make_app
    except ModuleNotFoundError as exc:
        if exc.name != "celerytui.app":
            raise
        raise click.ClickException("the dashboard is not built yet.") from None
    make_app(settings).run()
