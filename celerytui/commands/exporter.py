"""`celerytui exporter`: Prometheus metrics for a Celery cluster on /metrics, health on /healthz.

One process follows the cluster's events (the core's Monitor, pumping in a thread); a scrape
computes every value from ClusterState under the monitor's lock. /metrics is prometheus_client's
own WSGI app (gzip, OpenMetrics when the scraper asks for it) on a server whose threads are
bounded and whose requests time out (metrics_http.py). Binds 127.0.0.1 by default: a metrics
port is not for the internet. With alert_webhook / alert_webhooks set, it also delivers every
alert to them (core/alert_delivery.py), so on-call hears of it without a TUI open.
"""

from __future__ import annotations

import json
import signal
import threading
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

import click
from prometheus_client import CollectorRegistry, generate_latest, make_wsgi_app

from celerytui.cli_options import cluster_options, settings_from
from celerytui.commands.errors import EXIT_OK, CommandError, check_broker, handle_errors
from celerytui.commands.metrics_http import BoundedWSGIServer
from celerytui.redaction import redact


@click.command()
@cluster_options
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=9808,
    show_default=True,
    help="Port to serve /metrics and /healthz on.",
)
@click.option(
    "--worker-timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    metavar="SECONDS",
    help="A worker silent this long is down (celery_worker_up 0). "
    "[default: worker_timeout setting, 60]",
)
@click.option(
    "--purge-offline-after",
    "worker_purge",
    default=None,
    metavar="SECONDS",
    type=click.FloatRange(min=0, min_open=True),
    help="Drop a silent worker's series after this long. [default: worker_purge setting, 600]",
)
@click.option(
    "--max-series",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="Label sets (name, hostname, queue_name) the task metrics keep; events "
    "beyond go under 'other' (celerytui_series_folded_total). [default: 2000]",
)
@click.option(
    "--no-webhooks",
    "no_webhooks",
    is_flag=True,
    help="Do not POST alerts to alert_webhook / alert_webhooks (another process does: "
    "`celerytui record`, say).",
)
@click.pass_context
@handle_errors
def exporter(
    ctx: click.Context,
    host: str,
    port: int,
    worker_timeout: float | None,
    worker_purge: float | None,
    max_series: int | None,
    no_webhooks: bool,
    **options: Any,
) -> None:
    """Serve Prometheus metrics (celery-exporter compatible) until SIGTERM or Ctrl+C."""
    from celerytui.commands.app_loader import load_app

    settings = settings_from(ctx, **options)
    if worker_timeout is not None:
        settings.worker_timeout = worker_timeout
    if worker_purge is not None:
        settings.worker_purge = worker_purge
    app = load_app(settings)
    check_broker(app)
    service = MetricsService(settings, app, max_series=max_series, webhooks=not no_webhooks)
    try:
        server = service.serve(host, port)
    except OSError as exc:
        raise CommandError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    bound_host, bound_port = server.server_address[:2]
    click.echo(
        f"celerytui exporter: http://{bound_host}:{bound_port}/metrics "
        f"(broker {redact(app.conf.broker_url)})",
        err=True,
    )
    delivery = service.monitor.delivery
    if delivery is not None:  # the hooks' paths are their tokens: shown masked
        click.echo(f"celerytui exporter: alerts to {', '.join(delivery.targets)}", err=True)
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        service.close()
    click.echo("celerytui exporter: stopped", err=True)
    ctx.exit(EXIT_OK)


class MetricsService:
    """The Monitor, the collector over its state, and the HTTP server, started together."""

    def __init__(
        self, settings: Any, app: Any, max_series: int | None = None, webhooks: bool = True
    ) -> None:
        from celerytui.core.metrics import ClusterCollector, queue_snapshot
        from celerytui.core.monitor import Monitor

        self.monitor = Monitor(settings, app=app)
        monitor = self.monitor
        if max_series is not None:
            monitor.state.series.max_series = max_series
        self.collector = ClusterCollector(
            monitor.state,
            lock=monitor.lock,
            stream_status=lambda: monitor.events.status,
            queues=lambda: queue_snapshot(monitor.queue_depths, monitor.state.workers.values()),
            worker_timeout=settings.worker_timeout,
            worker_purge=settings.worker_purge,
            clock=monitor.clock,
            beats=lambda: monitor.beats,
            queue_waits=lambda: monitor.queue_waits,
            delivery=lambda: monitor.delivery.stats if monitor.delivery is not None else None,
        )
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(self.collector)
        self.server: BoundedWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self.webhooks = webhooks

    def serve(self, host: str, port: int) -> BoundedWSGIServer:
        """Start following the cluster and serving HTTP; returns the bound server."""
        self.server = BoundedWSGIServer((host, port), wsgi_app(self))
        if self.webhooks:  # headless: alerts reach the webhooks with no TUI open
            self.monitor.deliver_alerts()
        self.monitor.start()
        self.monitor.run_in_thread()
        self._thread = threading.Thread(
            target=self.server.serve_forever,
            name="exporter-http",
            kwargs={"poll_interval": 0.2},
            daemon=True,
        )
        self._thread.start()
        return self.server

    def close(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
        self.monitor.stop()

    def metrics(self) -> bytes:
        return generate_latest(self.registry)

    def health(self) -> tuple[int, dict[str, Any]]:
        status = self.monitor.events.status
        body = {
            "status": "ok" if status.connected else "broker unreachable",
            "broker": status.broker or self.monitor.broker_display,
            "connected": status.connected,
            "last_error": status.last_error,
            "events_received": status.events_received,
            "events_dropped": status.events_dropped,
        }
        return (200 if status.connected else 503), body


def wsgi_app(service: MetricsService) -> Callable[..., Iterable[bytes]]:
    """/metrics through prometheus_client's own app; /healthz and / are ours."""
    metrics = make_wsgi_app(service.registry)

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/metrics":
            return metrics(environ, start_response)
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            return _answer(start_response, 405, b"GET only\n", "text/plain")
        if path == "/healthz":
            code, body = service.health()
            return _answer(start_response, code, json.dumps(body).encode(), "application/json")
        if path == "/":
            return _answer(
                start_response, 200, b"celerytui exporter: /metrics /healthz\n", "text/plain"
            )
        return _answer(start_response, 404, b"not found\n", "text/plain")

    return app


def _answer(
    start_response: Callable[..., Any], code: int, body: bytes, content_type: str
) -> list[bytes]:
    start_response(f"{code} {HTTPStatus(code).phrase}", [("Content-Type", content_type)])
    return [body]
