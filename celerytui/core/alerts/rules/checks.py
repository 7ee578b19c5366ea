"""Rules over the HTTP and disk check results."""

from __future__ import annotations

from celerytui.core.alerts.registry import register
from celerytui.core.alerts.rule import Context, Finding, Rule


@register
class CheckDown(Rule):
    """An HTTP endpoint's last check was not UP."""

    name = "check-down"
    kind = "periodic"
    watches = "HTTP check results"
    order = 50

    def evaluate(self, context: Context) -> list[Finding]:
        found: list[Finding] = []
        for url, check in context.state.http_checks.items():
            if check.status != "UP":
                detail = check.error or (f"HTTP {check.status_code}" if check.status_code else "")
                found.append(
                    Finding(f"check-down:{url}", "error", f"DOWN: {url}", detail, subject=url)
                )
        return found


@register
class DiskUsage(Rule):
    """A host's disk check failed ("disk-error:<host>"), or its disk is at least
    ``disk_percent`` full ("disk-full:<host>")."""

    name = "disk"
    kind = "periodic"
    watches = "disk check results"
    settings = ("disk_percent",)
    order = 60

    def evaluate(self, context: Context) -> list[Finding]:
        limit = context.thresholds.disk_percent
        found: list[Finding] = []
        for host, disk in context.state.disk_checks.items():
            if disk.status != "OK":
                found.append(
                    Finding(
                        f"disk-error:{host}",
                        "warning",
                        f"disk check failed: {host}",
                        disk.error or "",
                        subject=host,
                    )
                )
            elif disk.use_percent is not None and disk.use_percent >= limit:
                title = f"disk {disk.use_percent:.0f}% used: {host} {disk.mount or ''}".strip()
                found.append(
                    Finding(
                        f"disk-full:{host}",
                        "warning",
                        title,
                        f"over the threshold of {limit:.0f}%",
                        subject=host,
                    )
                )
        return found
