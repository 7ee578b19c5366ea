"""HTTP and disk check results become the records the checks panel shows."""

from __future__ import annotations

from celerytui.core.state import ClusterState
from tests.support.cluster_events import T0, failed, received, succeeded

HTTP_TASK = "celerytui.tasks.check_http_endpoint"
DISK_TASK = "celerytui.tasks.check_disk_usage"
URL = "https://shop.example.com/health"
DISK_RESULT = {
    "host": "db-1",
    "status": "OK",
    "filesystem": "/dev/sda1",
    "size_bytes": 100_000,
    "used_bytes": 42_000,
    "avail_bytes": 58_000,
    "use_percent": 42.0,
    "mount": "/",
}


def http_meta(task_id: str, status: str, date_done: str, **extra: object) -> dict:
    result = {
        "url": URL,
        "status": status,
        "status_code": 200 if status == "UP" else 503,
        "response_time": 0.123,
    }
    return {
        "task_id": task_id,
        "status": "SUCCESS",
        "result": result,
        "traceback": None,
        "date_done": date_done,
        **extra,
    }


def test_http_results_from_the_backend_update_status_and_history():
    state = ClusterState()
    state.apply([received("h1", T0, name=HTTP_TASK, args=f"('{URL}',)")])
    ch = state.apply_results([http_meta("h1", "UP", "2026-01-01T00:00:01+00:00")])
    check = state.http_checks[URL]
    assert ch.checks == {URL}
    assert (check.status, check.status_code, check.response_time) == ("UP", 200, 0.123)
    assert check.checked_at == T0 + 1 and check.task_id == "h1"
    # with result_extended the name comes in the meta itself: no event needed
    state.apply_results([http_meta("h2", "DOWN", "2026-01-01T00:05:01+00:00", name=HTTP_TASK)])
    assert check.status == "DOWN" and check.status_code == 503
    assert list(check.history) == [(T0 + 1, True, 0.123), (T0 + 301, False, 0.123)]


def test_a_users_own_check_task_matches_by_name_suffix():
    state = ClusterState()
    state.apply([received("d1", T0, name="myproj.monitoring.check_disk_usage")])
    ch = state.apply_results(
        [
            {
                "task_id": "d1",
                "status": "SUCCESS",
                "result": DISK_RESULT,
                "date_done": "2026-01-01T00:00:02",
            }
        ]
    )
    disk = state.disk_checks["db-1"]
    assert ch.checks == {"db-1"}
    assert (disk.status, disk.use_percent, disk.used_bytes, disk.mount) == ("OK", 42.0, 42_000, "/")


def test_results_of_other_tasks_are_not_checks():
    state = ClusterState()
    state.apply(
        [
            received("x", T0, name="proj.check_http_endpoint_v2"),
            succeeded("x", T0 + 1, result=repr({"url": URL, "status": "UP"})),
        ]
    )
    assert state.http_checks == {} and state.disk_checks == {}


def test_check_records_from_event_reprs_when_there_is_no_backend():
    state = ClusterState()
    result = {"url": URL, "status": "UP", "status_code": 200, "response_time": 0.05}
    ch = state.apply(
        [
            received("h1", T0, name=HTTP_TASK),
            succeeded("h1", T0 + 1, result=repr(result)),
            received("d1", T0, name=DISK_TASK),
            succeeded("d1", T0 + 2, result=repr(DISK_RESULT)),
        ]
    )
    assert ch.checks == {URL, "db-1"}
    assert state.http_checks[URL].status == "UP"
    assert state.http_checks[URL].checked_at == T0 + 1
    assert state.disk_checks["db-1"].use_percent == 42.0


def test_a_full_backend_result_wins_over_the_events_repr_in_either_order():
    state = ClusterState()
    state.apply(
        [
            received("h1", T0, name=HTTP_TASK),
            succeeded(
                "h1", T0 + 1, result=repr({"url": URL, "status": "UP", "response_time": 0.5})
            ),
        ]
    )
    state.apply_results(
        [
            {
                "task_id": "h1",
                "status": "SUCCESS",
                "date_done": None,
                "result": {"url": URL, "status": "UP", "response_time": 0.25},
            }
        ]
    )
    check = state.http_checks[URL]
    assert check.response_time == 0.25 and len(check.history) == 1  # replaced, not doubled
    state.apply_results(
        [
            {
                "task_id": "h2",
                "status": "SUCCESS",
                "name": HTTP_TASK,
                "date_done": "2026-01-01T00:00:09",
                "result": {"url": URL, "status": "DOWN", "response_time": 3.0},
            }
        ]
    )
    state.apply(
        [
            received("h2", T0 + 8, name=HTTP_TASK),
            succeeded("h2", T0 + 9, result=repr({"url": URL, "status": "UP"})),
        ]
    )
    assert check.status == "DOWN" and check.response_time == 3.0


def test_long_or_unparsable_reprs_are_ignored():
    state = ClusterState()
    huge = repr({"url": URL, "status": "UP", "pad": "x" * 20_000})
    state.apply(
        [
            received("a", T0, name=HTTP_TASK),
            succeeded("a", T0 + 1, result=huge),
            received("b", T0, name=HTTP_TASK),
            succeeded("b", T0 + 1, result="{'url': 'https://x', 'status': 'UP', ..."),
        ]
    )
    assert state.http_checks == {} and state.malformed == 0


def test_a_check_task_that_raised_shows_down_with_the_error():
    state = ClusterState()
    state.apply(
        [
            received("h", T0, name=HTTP_TASK),
            succeeded("h", T0 + 1, result=repr({"url": URL, "status": "UP"})),
            received("h2", T0 + 300, name=HTTP_TASK, args=f"('{URL}',)"),
            failed("h2", T0 + 301, exception="ConnectionError('refused')"),
            received("d", T0, name=DISK_TASK, args="()", kwargs="{'host': 'db-2'}"),
            failed("d", T0 + 2, exception="SSHException('host key mismatch')"),
        ]
    )
    assert state.http_checks[URL].status == "DOWN"
    assert state.http_checks[URL].error == "ConnectionError('refused')"
    assert state.disk_checks["db-2"].status == "ERROR"
    assert "host key" in state.disk_checks["db-2"].error


def test_an_older_check_result_arriving_late_does_not_hide_the_newer_one():
    state = ClusterState()
    state.apply_results(
        [
            {
                "task_id": "new",
                "status": "SUCCESS",
                "name": DISK_TASK,
                "result": DISK_RESULT,
                "date_done": "2026-01-01T00:10:00",
            },
            {
                "task_id": "old",
                "status": "SUCCESS",
                "name": DISK_TASK,
                "result": {**DISK_RESULT, "use_percent": 99.0},
                "date_done": "2026-01-01T00:00:00",
            },
        ]
    )
    assert state.disk_checks["db-1"].use_percent == 42.0
