"""The demo's workload: a thread that keeps the cluster busy at a modest, watchable rate.

E-mails, orders through the chain, and risky operations that fail `fail_times` times before
succeeding (risky_operation retries 3 times, so fail_times 4-5 exhaust it and fail). The first
round is fixed — one retry that recovers, one that exhausts, one HTTP check of each target and
a disk check — so every kind of outcome shows within seconds; the rest is random.
"""

from __future__ import annotations

import logging
import random
import threading
from collections import Counter

from celery import Celery

from celerytui.cluster_spec import (
    DISK_CHECK_TASK,
    EMAIL_TASK,
    HTTP_CHECK_TASK,
    LOCAL_HOST,
    RISKY_TASK,
    order_chain,
)
from celerytui.redaction import one_line

log = logging.getLogger(__name__)

RECIPIENTS = ("ops@example.com", "alice@example.com", "bob@example.com", "oncall@example.com")
SUBJECTS = (
    "Disk almost full",
    "Nightly report",
    "Order shipped",
    "Password reset",
    "Weekly digest",
    "Payment received",
)


class Workload:
    """Send tasks every `interval` seconds (jittered) until stop(); counts what it sent."""

    def __init__(
        self, app: Celery, http_targets: list[str], interval: float = 0.8, seed: int | None = None
    ):
        self.app = app
        self.http_targets = list(http_targets)
        self.interval = interval
        self.random = random.Random(seed)
        self.sent: Counter[str] = Counter()  # kind -> n sent
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._next_order = 1001  # the seed's first order id

    def start(self) -> Workload:
        self._thread = threading.Thread(
            target=self._run, name="celerytui-demo-workload", daemon=True
        )
        self._thread.start()
        return self

    def stop(self, timeout: float = 3.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    # -- the loop ---------------------------------------------------------------------------
    def _run(self) -> None:
        self._safely(self.first_round)
        while not self._stop.wait(self.interval * self.random.uniform(0.5, 1.5)):
            self._safely(self.one_step)

    def _safely(self, step) -> None:
        """A broker hiccup costs one step, never the thread."""
        try:
            step()
        except Exception as exc:
            log.debug("workload step failed: %s", one_line(exc))

    def first_round(self) -> None:
        """One of everything, so succeeded, retried, failed, UP and DOWN all show early."""
        for url in self.http_targets:
            self.http_check(url)
        self.disk_check()
        self.risky(1)  # retries once, then succeeds
        self.email()
        self.order()
        self.risky(5)  # exhausts its 3 retries: FAILURE

    def one_step(self) -> None:
        kind = self.random.choices(("email", "order", "risky"), weights=(4, 3, 3))[0]
        if kind == "email":
            self.email()
        elif kind == "order":
            self.order()
        else:
            self.risky(self.random.randint(0, 5))

    # -- one task each ----------------------------------------------------------------------
    def email(self) -> str:
        to = self.random.choice(RECIPIENTS)
        result = self.app.send_task(EMAIL_TASK, args=(to, self.random.choice(SUBJECTS)))
        self.sent["email"] += 1
        return result.id

    def order(self) -> str:
        order_id = self._next_order
        self._next_order += 1
        result = order_chain(self.app, order_id).apply_async()
        self.sent["order"] += 1
        return result.id

    def risky(self, fail_times: int) -> str:
        result = self.app.send_task(RISKY_TASK, kwargs={"fail_times": fail_times})
        self.sent["risky"] += 1
        return result.id

    def http_check(self, url: str) -> str:
        result = self.app.send_task(HTTP_CHECK_TASK, args=(url,))
        self.sent["http_check"] += 1
        return result.id

    def disk_check(self) -> str:
        result = self.app.send_task(DISK_CHECK_TASK, args=(LOCAL_HOST,))
        self.sent["disk_check"] += 1
        return result.id
