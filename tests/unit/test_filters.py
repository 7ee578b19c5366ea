"""The filter language a user types after `/` in the TUI or in `tail --filter`."""

from __future__ import annotations

import pytest

from celerytui.core.filters import FilterError, compile_filter
from celerytui.core.model import FAILURE, RETRY, STARTED, SUCCESS, Task

TASKS = [
    Task(
        "aaaa-1111",
        name="celerytui.tasks.check_http_endpoint",
        state=SUCCESS,
        args="('https://example.com',)",
        kwargs="{}",
        worker="http@host1",
        queue="http",
    ),
    Task(
        "bbbb-2222",
        name="celerytui.tasks.check_disk_usage",
        state=FAILURE,
        args="('db1',)",
        kwargs="{}",
        worker="disk@host2",
        queue="disk",
        exception="SSHException('host key unknown')",
    ),
    Task(
        "cccc-3333",
        name="celerytui.tasks.risky_operation",
        state=RETRY,
        args="()",
        kwargs="{'order': 1001}",
        worker="http@host1",
        queue="celery",
    ),
    Task(
        "dddd-4444",
        name="celerytui.tasks.send_email",
        state=STARTED,
        args="('ops@example.com', 'disk full')",
        kwargs="{}",
        worker="http@host1",
        queue="celery",
    ),
]


def matching(expr: str) -> list[str]:
    predicate = compile_filter(expr)
    return [t.uuid for t in TASKS if predicate(t)]


def test_empty_filter_keeps_everything():
    assert matching("") == [t.uuid for t in TASKS]
    assert matching("   ") == [t.uuid for t in TASKS]


def test_bare_regex_searches_name_args_kwargs_uuid_exception_case_insensitively():
    assert matching("HTTP_ENDPOINT") == ["aaaa-1111"]
    assert matching("example\\.com") == ["aaaa-1111", "dddd-4444"]
    assert matching("order.: 1001") == ["cccc-3333"]
    assert matching("^bbbb") == ["bbbb-2222"]
    assert matching("unknown key") == ["bbbb-2222"]  # two terms: "unknown" AND "key" ...
    assert matching('"unknown key"') == []  # ... quoted: one regex, with the space
    assert matching('"key unknown"') == ["bbbb-2222"]


def test_field_terms_search_one_field_only():
    assert matching("name:disk") == ["bbbb-2222"]  # not send_email, whose args say "disk"
    assert matching("args:disk") == ["dddd-4444"]
    assert matching("args:1001") == ["cccc-3333"]  # kwargs count as args
    assert matching("worker:^disk@") == ["bbbb-2222"]
    assert matching("queue:^celery$") == ["cccc-3333", "dddd-4444"]


def test_state_matches_exactly_or_by_prefix_in_any_case():
    assert matching("state:failure") == ["bbbb-2222"]
    assert matching("state:FAIL") == ["bbbb-2222"]
    assert matching("state:s") == ["aaaa-1111", "dddd-4444"]  # SUCCESS, STARTED
    assert matching("state:failure,retry") == ["bbbb-2222", "cccc-3333"]
    assert matching("state:failure|retry") == ["bbbb-2222", "cccc-3333"]


def test_bang_negates_a_term_and_terms_are_anded():
    assert matching("!state:success") == ["bbbb-2222", "cccc-3333", "dddd-4444"]
    assert matching("worker:http !name:email") == ["aaaa-1111", "cccc-3333"]
    assert matching("!check") == ["cccc-3333", "dddd-4444"]


def test_unknown_prefix_is_a_plain_regex():
    assert matching("https://example") == ["aaaa-1111"]


def test_task_with_missing_fields_never_raises():
    bare = Task("eeee-5555")
    for expr in ("name:x", "worker:x", "args:x", "queue:x", "state:pending", "!name:x", "x"):
        compile_filter(expr)(bare)
    assert compile_filter("state:pending")(bare)
    assert compile_filter("!name:x")(bare)


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("name:(unclosed", "bad regex '(unclosed'"),
        ("[a-", "bad regex '[a-'"),
        ('args:"open', "unclosed quote"),
        ("!", "`!` must be followed"),
        ("state:", "state: needs a state"),
    ],
)
def test_bad_filters_raise_one_line_errors(expr, message):
    with pytest.raises(FilterError) as info:
        compile_filter(expr)
    text = str(info.value)
    assert message in text
    assert "\n" not in text
