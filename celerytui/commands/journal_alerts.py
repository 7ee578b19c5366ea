"""What `status` reads from the cluster's journal: the alerts open there, and how fresh it is.

A snapshot of a few seconds cannot judge a missed beat, a queue's oldest wait or a task lost
with a worker that died before `status` started; a recorder (`celerytui record`, or a TUI
recording) that watches all along can. So `status` opens the journal read-only and reports
the alerts raised there and not cleared. Only a live journal is trusted: a writer holds its
lease (renewed at every flush) and an event came in the last STALE_AFTER seconds. Otherwise
it is stale: nobody would clear its open alerts, so they are listed but do not make the
cluster degraded. Never raises: a journal that cannot be read is one line in the report.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from celerytui.core.journal.lease import LEASE_TTL
from celerytui.redaction import one_line, redact

STALE_AFTER = 60.0  # seconds without an event: not trusted
ALERTS_LISTED = 100  # open alerts listed, newest first


def journal_report(settings: Any, broker_url: str, now: float) -> dict[str, Any]:
    """The `journal` object of status --json (docs/status-json.md)."""
    from celerytui.core.journal import JournalError, open_store
    from celerytui.core.journal.recorder import journal_cluster

    spec = settings.store or None
    report: dict[str, Any] = {
        "state": "none",
        "store": None,
        "newest_event": None,
        "age_seconds": None,
        "writer": None,
        "error": None,
        "alerts": [],
    }
    try:
        store = open_store(spec, cluster=journal_cluster(settings, broker_url), write=False)
    except JournalError as exc:
        message = one_line(exc, secrets=_secrets(spec))
        if message.startswith("no journal at "):  # nothing recorded for this cluster yet
            report["store"] = message.removeprefix("no journal at ").split(" (", 1)[0]
        else:
            report["state"], report["error"] = "error", message
        return report
    try:
        report["store"] = redact(str(store.display))
        span = store.time_range()
        newest = span[1] if span else None
        report["alerts"] = open_alerts(store.alerts_between(0.0, now))
        writer = _writer(store)
        report["newest_event"] = _iso(newest)
        report["writer"] = (
            {"holder": writer[0], "alive_at": _iso(writer[1])} if writer is not None else None
        )
        if newest is None:
            report["state"] = "empty"
        else:
            report["age_seconds"] = round(max(0.0, now - newest), 1)
            live = writer is not None and now - writer[1] <= LEASE_TTL
            report["state"] = "fresh" if live and now - newest <= STALE_AFTER else "stale"
    except JournalError as exc:
        report["state"], report["error"] = "error", one_line(exc, secrets=_secrets(spec))
    finally:
        store.close()
    return report


def open_alerts(rows: list[Any]) -> list[dict[str, Any]]:
    """The alerts whose newest row is raised and not cleared, newest first (an older row of
    the same key left open by a recorder that stopped is superseded by the newer one)."""
    newest: dict[str, Any] = {}
    for row in rows:
        if row.rule not in newest or row.raised_at >= newest[row.rule].raised_at:
            newest[row.rule] = row
    still_open = [row for row in newest.values() if row.cleared_at is None]
    ordered = sorted(still_open, key=lambda r: r.raised_at, reverse=True)
    return [
        {
            "rule": row.rule.split(":", 1)[0],
            "key": row.rule,
            "severity": row.severity,
            "summary": row.summary,
            "labels": row.labels,
            "raised_at": _iso(row.raised_at),
            "count": row.count,
        }
        for row in ordered[:ALERTS_LISTED]
    ]


def journal_problems(journal: dict[str, Any], found_here: set[str]) -> list[str]:
    """Problem lines for the open alerts of a fresh journal, except those the snapshot found
    itself (same key): each one makes the cluster degraded."""
    if journal.get("state") != "fresh":
        return []
    return [
        f"{alert['summary']} (journal, since {alert['raised_at']})"
        for alert in journal["alerts"]
        if alert["key"] not in found_here
    ]


def _writer(store: Any) -> tuple[str, float] | None:
    """Who holds the store's writer lease and when it last renewed it (each flush, at least
    once a second while recording; a writer that stops gives it back)."""
    db = store.db
    try:
        rows = db.execute("SELECT holder, host, pid, heartbeat FROM lease WHERE id = 1")
    except db.errors:
        return None
    if not rows or rows[0][3] is None:
        return None
    holder, host, pid, heartbeat = rows[0]
    return f"{holder} (pid {pid} on {host})", float(heartbeat)


def _iso(at: float | None) -> str | None:
    if at is None:
        return None
    return datetime.fromtimestamp(at, UTC).isoformat(timespec="seconds")


def _secrets(spec: str | None) -> tuple[str, ...]:
    if not spec:
        return ()
    from celerytui.redaction import url_secrets

    return tuple(url_secrets(spec))
