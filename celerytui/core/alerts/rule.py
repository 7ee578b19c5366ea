"""What an alert rule is: a small named unit that looks at one snapshot and says what it finds.

A rule never keeps state of its own: the AlertBook folds its findings into alerts (repeats,
clearing, acknowledging), and `celerytui status` turns them into its "degraded" lines.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from celerytui.config import Thresholds
from celerytui.core.model import Changes, StreamStatus

if TYPE_CHECKING:
    from celerytui.core.beat_watch import BeatWatch
    from celerytui.core.queue_wait import QueueWaits
    from celerytui.core.state import ClusterState

Kind = Literal["event", "periodic"]


@dataclass(frozen=True, slots=True)
class Context:
    """Everything a rule may read for one evaluation."""

    state: ClusterState
    thresholds: Thresholds
    now: float
    changes: Changes | None = None  # what the last pump changed (event rules read it)
    queue_depths: Sequence[Any] = ()  # QueueDepth-like: name, messages, error
    stream_status: StreamStatus | None = None  # the event lane's connection
    pings: Mapping[str, bool] | None = None  # status only: hostname -> answered pong
    beats: BeatWatch | None = None  # the beat schedule's runs (the Monitor's)
    queue_waits: QueueWaits | None = None  # each queue's oldest task sent, not yet received


@dataclass(slots=True)  # not frozen: a burst of failures builds thousands, and frozen is slower
class Finding:
    """One thing a rule found; the key names the alert it folds into (rule + subject)."""

    key: str
    severity: str  # "critical" | "error" | "warning" (model.SEVERITY_ORDER)
    title: str
    detail: str = ""
    subject: str = ""  # the worker, queue, URL, host or task name it is about
    problem: str = ""  # the line `status` prints for it; the title when empty
    # the subject's fields for a journal row or a webhook (hostname, name, uuids...)
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def problem_line(self) -> str:
        return self.problem or self.title


class Rule:
    """Base of every alert rule. Subclass, set the class attributes, write ``evaluate``, and
    decorate the class with ``registry.register`` in a module under ``alerts/rules/``.

    kind "event": each finding is one more occurrence (counted); the alert clears after a
    quiet ``failure_window``. kind "periodic": a condition, re-checked every pass; its alert
    clears as soon as the rule stops finding it.
    """

    name: ClassVar[str]  # the rule's name; also the prefix of its alert keys
    kind: ClassVar[Kind]
    watches: ClassVar[str]  # what it reads, in a few words (docs, `rules` listing)
    settings: ClassVar[tuple[str, ...]] = ()  # the Thresholds fields it reads
    order: ClassVar[int] = 100  # evaluation order: ties in the book's list follow it
    in_status: ClassVar[bool] = False  # `celerytui status` calls the cluster degraded on it

    def evaluate(self, context: Context) -> list[Finding]:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<rule {self.name} ({self.kind})>"
