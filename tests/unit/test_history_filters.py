"""The filter language's time terms (since: / until:), shared by `/`, `tail --filter` and
`history --filter`, and the window they give a journal query."""

from __future__ import annotations

import pytest

from celerytui.core.filters import FilterError, compile_filter, time_bounds
from celerytui.core.model import Task


def _task(at: float) -> Task:
    return Task("u", name="proj.add", state="SUCCESS", received=at - 1, succeeded=at)


def test_since_and_until_compare_the_newest_event() -> None:
    now = 10_000.0
    window = compile_filter("since:1767225600 until:1767225700 name:add")
    assert window(_task(1_767_225_650.0))
    assert not window(_task(1_767_225_750.0)) and not window(_task(1_767_225_500.0))
    assert not compile_filter("!until:1767225700")(_task(1_767_225_650.0))
    assert time_bounds("since:2h name:x", now=now) == (now - 7200, None)
    assert time_bounds("since:2h since:1h until:30m", now=now) == (now - 3600, now - 1800)
    assert time_bounds("!since:2h", now=now) == (None, None)  # a negation bounds nothing
    assert time_bounds("", now=now) == (None, None)


def test_a_bad_time_is_one_line() -> None:
    with pytest.raises(FilterError) as caught:
        compile_filter("since:tuesday-ish")
    assert "\n" not in str(caught.value) and "tuesday-ish" in str(caught.value)
