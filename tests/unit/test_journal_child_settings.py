"""The settings the TUI hands its journal child (over a pipe, as JSON) come back whole: the
child records exactly the TUI's cluster, thresholds, store and retention included."""

from __future__ import annotations

import json

from celerytui.config import Settings, Thresholds
from celerytui.journal_child import settings_from_json, settings_json
from celerytui.settings_model import DiskHost


def test_settings_survive_the_pipe() -> None:
    settings = Settings(
        broker_url="redis://:pw@10.0.0.5:6380/3",
        app="proj.celery",
        read_only=True,
        thresholds=Thresholds(queue_backlog=7, stuck_floor=12.5),
        disk_hosts=[DiskHost(name="db1", port=2222, key_file="/k")],
        store="/tmp/x.sqlite3",
        retention=3600.0,
        max_size=5 * 10**6,
        security_key_password="s3cret",
        keymap={"quit": "ctrl+q"},
        sources={"store": "flag --store"},
    )
    back = settings_from_json(json.loads(json.dumps(settings_json(settings))))
    assert back == settings
    assert back.thresholds == settings.thresholds and back.disk_hosts == settings.disk_hosts
    assert back.security_key_password == "s3cret" and back.sources == settings.sources


def test_the_tui_apps_beat_schedule_reaches_the_childs_beat_rule() -> None:
    """The demo's schedule lives on the TUI's app only (no -A name the child could load): it
    crosses the pipe, and the child's Monitor judges the same entries."""
    from datetime import timedelta

    from celery.schedules import crontab

    from celerytui.journal_child import _schedule_from, cluster_monitor, schedule_blob

    schedule = {
        "http-every-10s": {"task": "celerytui.tasks.check_http", "schedule": timedelta(10)},
        "disk-nightly": {"task": "celerytui.tasks.check_disk", "schedule": crontab(minute=5)},
    }
    request = json.loads(json.dumps({"beat_schedule": schedule_blob(schedule)}))
    settings = Settings(broker_url="redis://127.0.0.1:1/0", result_backend="redis://127.0.0.1:1/0")
    monitor = cluster_monitor(settings, beat_schedule=_schedule_from(request["beat_schedule"]))
    assert sorted(monitor.beats.entries) == ["disk-nightly", "http-every-10s"]
    assert not cluster_monitor(settings).beats.entries  # celerytui's client app has none
    assert schedule_blob({"bad": {"task": "t", "schedule": lambda: 1}}) is None
    assert _schedule_from("not base64 pickle") is None
