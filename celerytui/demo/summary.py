"""What `celerytui demo --headless` prints at the end: what the monitor saw of the demo.

Built from the same ClusterState the TUI reads, fed by the cluster's events and results, so
the summary is evidence that the monitor works, not the workload's own bookkeeping.
"""

from __future__ import annotations

import json
from typing import Any

# counters kinds (see ClusterState.counters) shown as "events seen"
EVENT_KINDS = ("sent", "received", "started", "succeeded", "failed", "retried", "revoked")


def build_summary(
    state,
    *,
    duration: float,
    broker: str,
    log_dir: str,
    pids: dict[str, int],
    sent: dict[str, int],
    alerts_received: int,
    signing: str = "",
) -> dict[str, Any]:
    """A JSON-able dict of the run; read `state` only while holding the monitor's lock."""
    events = dict.fromkeys(EVENT_KINDS, 0)
    for key, n in state.counters.items():
        if key and key[0] in events:
            events[key[0]] += n
    http: dict[str, dict[str, Any]] = {}
    totals = {"UP": 0, "DOWN": 0}
    for url, check in state.http_checks.items():
        up = sum(1 for entry in check.history if entry[1])
        down = len(check.history) - up
        if not check.history:  # no history kept: count the newest result alone
            up, down = (1, 0) if check.status == "UP" else (0, 1)
        totals["UP"] += up
        totals["DOWN"] += down
        http[url] = {
            "latest": check.status,
            "up": up,
            "down": down,
            "response_time": check.response_time,
        }
    disk = {
        host: {
            "status": check.status,
            "use_percent": check.use_percent,
            "mount": check.mount,
            "error": check.error,
        }
        for host, check in state.disk_checks.items()
    }
    return {
        "duration": round(duration, 1),
        "broker": broker,
        "log_dir": log_dir,
        "pids": dict(pids),
        "workers": {host: worker.status for host, worker in state.workers.items()},
        "tasks_by_state": dict(sorted(state.counts_by_state().items())),
        "events": events,
        "http_checks": http,
        "checks": totals,
        "disk_checks": disk,
        "sent_by_workload": dict(sent),
        "alerts_received": alerts_received,
        "signing": signing or None,  # "signed" under demo --signed (celerytui.signing)
    }


def format_summary(summary: dict[str, Any]) -> str:
    """The summary as a few aligned lines for people."""
    lines = [f"celerytui demo: {summary['duration']:g} s on {summary['broker']}"]
    if summary.get("signing"):
        lines[0] += f" ({summary['signing']})"
    workers = summary["workers"]
    lines.append(
        f"  workers seen   {len(workers)}: "
        + (", ".join(f"{host} ({status})" for host, status in sorted(workers.items())) or "none")
    )
    states = summary["tasks_by_state"]
    lines.append(
        "  tasks by state "
        + (", ".join(f"{name} {n}" for name, n in states.items() if n) or "none")
    )
    events = summary["events"]
    lines.append("  events         " + ", ".join(f"{k} {v}" for k, v in events.items()))
    checks = summary["checks"]
    lines.append(f"  http checks    UP {checks['UP']}, DOWN {checks['DOWN']}")
    for url, check in sorted(summary["http_checks"].items()):
        lines.append(f"    {url}  now {check['latest']}  (UP {check['up']}, DOWN {check['down']})")
    for host, check in sorted(summary["disk_checks"].items()):
        pct = check["use_percent"]
        used = f"{pct:.0f}% used" if isinstance(pct, int | float) else check["error"] or "?"
        lines.append(f"  disk {host:<9} {check['status']}  {used}")
    sent = summary["sent_by_workload"]
    lines.append(
        "  workload sent  " + (", ".join(f"{k} {v}" for k, v in sorted(sent.items())) or "nothing")
    )
    lines.append(f"  alerts         {summary['alerts_received']} failure webhook POSTs received")
    lines.append(
        "  processes      "
        + ", ".join(f"{name} {pid}" for name, pid in summary["pids"].items())
        + " (all stopped)"
    )
    return "\n".join(lines)


def summary_json(summary: dict[str, Any]) -> str:
    return json.dumps(summary, indent=2, sort_keys=False, default=str)
