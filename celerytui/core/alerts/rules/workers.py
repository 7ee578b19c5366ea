"""Rules over workers: one stops sending heartbeats; none answers a ping."""

from __future__ import annotations

from celerytui.core.alerts.registry import register
from celerytui.core.alerts.rule import Context, Finding, Rule
from celerytui.core.model import WORKER_LOST


@register
class WorkerLost(Rule):
    """A worker missed its heartbeats without saying goodbye (a clean shutdown raises
    nothing); clears when it beats again."""

    name = "worker-lost"
    kind = "periodic"
    watches = "worker heartbeats (the state's liveness tick)"
    order = 20

    def evaluate(self, context: Context) -> list[Finding]:
        found: list[Finding] = []
        for hostname, worker in context.state.workers.items():
            if worker.status != WORKER_LOST:
                continue
            age = context.now - worker.last_heartbeat if worker.last_heartbeat else None
            detail = f"no heartbeat for {age:.0f}s" if age is not None else "no heartbeat"
            found.append(
                Finding(
                    f"worker-lost:{hostname}",
                    "critical",
                    f"worker lost: {hostname}",
                    detail,
                    subject=hostname,
                )
            )
        return found


@register
class NoWorkerAnswers(Rule):
    """A ping went out and no worker answered it. Only `status` pings (the live book watches
    heartbeats instead), so without ping answers in the context this finds nothing."""

    name = "no-worker-answers"
    kind = "periodic"
    watches = "answers to a broadcast ping"
    order = 25
    in_status = True

    def evaluate(self, context: Context) -> list[Finding]:
        if context.pings is None or any(context.pings.values()):
            return []
        return [Finding("no-worker-answers", "critical", "no worker answered ping")]
