"""Beat runs judged from task-sent events (core/beat_watch.py) through a real ClusterState:
on time, late, missed (and a miss taken back by a send just after its window), a send by hand
ignored, a crontab's 03:00 missed, and an app without task-sent events not judged at all.
The real beat process is in tests/integration/test_beat_incidents.py."""

from __future__ import annotations

from datetime import UTC, datetime

from celery import Celery
from celery.schedules import crontab

from celerytui.config import Thresholds
from celerytui.core.alerts import AlertBook
from celerytui.core.beat_watch import BeatWatch, cron_after
from celerytui.core.queue_wait import queue_waits
from celerytui.core.state import ClusterState

T = 1_800_000_000.0


def _app(schedule: dict, sent_events: bool = True) -> Celery:
    app = Celery("proj", set_as_current=False)
    app.conf.update(beat_schedule=schedule, task_send_sent_event=sent_events, timezone="UTC")
    return app


def _sent(uuid: str, at: float, name: str = "proj.add", args: str = "(2, 2)", queue="celery"):
    return {
        "type": "task-sent",
        "uuid": uuid,
        "name": name,
        "args": args,
        "kwargs": "{}",
        "queue": queue,
        "hostname": "gen1@beat-host",
        "timestamp": at,
        "local_received": at,
    }


class Feed:
    def __init__(self, app: Celery, thresholds: Thresholds | None = None) -> None:
        self.thresholds = thresholds or Thresholds(beat_grace=5.0, beat_late=1.0)
        self.state = ClusterState()
        self.watch = BeatWatch.from_app(app, self.thresholds, T)
        self.book = AlertBook(self.thresholds)

    def send(self, *events: dict) -> None:
        changes = self.state.apply(list(events))
        self.watch.observe(self.state.tasks, changes.tasks)

    def at(self, now: float) -> dict[str, str]:
        self.watch.advance(now)
        self.book.evaluate(self.state, now=now, beats=self.watch)
        return {a.key: a.title for a in self.book.active()}


def test_interval_runs_on_time_late_missed_and_by_hand():
    feed = Feed(_app({"add": {"task": "proj.add", "schedule": 10.0, "args": (2, 2)}}))
    entry = feed.watch.entries["add"]
    assert entry.grace == 5.0 and entry.late_after == 1.0  # min(60, 0.5 x 10), min(1, 5/2)
    feed.send(_sent("r1", T))  # the first run anchors: nothing expected before it
    feed.send(_sent("r2", T + 10.2))  # on time
    assert feed.at(T + 11) == {} and (entry.missed, entry.late) == (0, 0)
    feed.send(_sent("hand", T + 12, args="(2, 2)"))  # well before T+20.2: fired by hand
    feed.send(_sent("other", T + 13, args="(1, 1)"))  # other args: not this entry
    assert entry.last_uuid == "r2"
    feed.send(_sent("r3", T + 23.2))  # 3 s after its time (T+20.2): late
    alerts = feed.at(T + 24)
    assert alerts == {"beat-late:add": "late: add ran 3s late"}
    assert entry.late == 1 and round(entry.last_lateness, 3) == 3.0
    # nothing by T+33.2 + 5: missed, held until it runs again
    alerts = feed.at(T + 39)
    expected = datetime.fromtimestamp(T + 33.2, UTC).strftime("%H:%M:%S")  # app tz: UTC
    assert alerts == {"beat-missed:add": f"missed: add expected {expected}"}
    assert entry.missed == 1
    assert feed.at(T + 60) and entry.missed == 3  # two more windows closed
    feed.send(_sent("r4", T + 61))  # beat is back: late since its first miss (T+33.2)
    assert feed.at(T + 62) == {"beat-late:add": "late: add ran 28s late"}
    assert (entry.missed, entry.late, entry.next_due) == (3, 2, T + 71)
    feed.send(_sent("r5", T + 71.1))
    assert feed.at(T + 72) == {}  # on time again: both alerts cleared


def test_a_send_just_after_its_window_takes_the_miss_back():
    feed = Feed(_app({"add": {"task": "proj.add", "schedule": 10.0, "args": (2, 2)}}))
    entry = feed.watch.entries["add"]
    feed.send(_sent("r1", T))
    assert "beat-missed:add" in feed.at(T + 15.5) and entry.missed == 1
    feed.send(_sent("r2", T + 14))  # stamped within the window; the event came late
    assert feed.at(T + 16) == {"beat-late:add": "late: add ran 4s late"}
    assert (entry.missed, entry.late, entry.next_due) == (0, 1, T + 24)


def test_a_crontab_at_0300_missed_says_when_it_was_expected():
    start = datetime(2027, 1, 15, 2, 0, tzinfo=UTC).timestamp()
    app = _app({"disk": {"task": "proj.disk", "schedule": crontab(hour=3, minute=0)}})
    thresholds = Thresholds()
    watch = BeatWatch.from_app(app, thresholds, start)
    entry = watch.entries["disk"]
    assert entry.next_due == start + 3600 and entry.grace == 60.0  # min(60, 0.5 x 1 day)
    watch.advance(start + 3600 + 59)
    assert entry.missed == 0
    watch.advance(start + 3600 + 61)
    book = AlertBook(thresholds)
    book.evaluate(ClusterState(), now=start + 3662, beats=watch)
    assert [a.title for a in book.active()] == ["missed: disk expected 03:00"]
    assert entry.next_due == start + 3600 + 86400
    # Sunday is celery's 0: 03:00 on Sundays only, from Friday 15 Jan 2027
    sunday = cron_after(crontab(hour=3, minute=0, day_of_week=0), start, UTC)
    assert datetime.fromtimestamp(sunday, UTC) == datetime(2027, 1, 17, 3, 0, tzinfo=UTC)


def test_without_task_sent_events_nothing_is_judged_or_guessed():
    feed = Feed(_app({"add": {"task": "proj.add", "schedule": 10.0}}, sent_events=False))
    assert feed.watch.sends_events is False
    feed.send(_sent("r1", T))
    assert feed.at(T + 100) == {} and feed.watch.entries["add"].missed == 0
    waits = queue_waits(feed.state.tasks.values(), T + 100, sends_seen=False)
    assert waits.known is False and waits.age("celery") is None


def test_queue_waits_are_the_oldest_sent_and_not_received_per_queue():
    state = ClusterState()
    state.apply(
        [_sent("a", T, queue="q1"), _sent("b", T + 5, queue="q1"), _sent("c", T + 8, queue="q2")]
    )
    state.apply([{"type": "task-received", "uuid": "a", "hostname": "w1", "timestamp": T + 9}])
    waits = queue_waits(state.tasks.values(), T + 20, sends_seen=True)
    assert waits.age("q1") == 15 and waits.queues["q1"].waiting == 1
    assert waits.age("q2") == 12 and waits.age("idle") == 0.0
    book = AlertBook(Thresholds(queue_oldest=13))
    book.evaluate(state, now=T + 20, queue_waits=waits)
    assert [a.title for a in book.active()] == ["queue q1: oldest task waiting 15s"]
    # the broker counted q1 empty at T+12 (purged): what was sent before no longer waits
    waits = queue_waits(state.tasks.values(), T + 21, sends_seen=True, emptied={"q1": T + 12})
    assert waits.age("q1") == 0.0 and waits.age("q2") == 13
    book.evaluate(state, now=T + 21, queue_waits=waits)
    assert [a.title for a in book.active()] == []
