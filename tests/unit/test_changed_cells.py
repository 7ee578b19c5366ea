"""Which cells a widget repaints when a line changes: only those that differ, so an idle
dashboard writes a few bytes a second to an SSH terminal, not every line."""

from __future__ import annotations

from textual.content import Content

from celerytui.widgets.changed_cells import changed_span


def line(*parts: str | tuple[str, str]) -> Content:
    return Content.assemble(*parts)


def test_an_age_that_ticks_repaints_from_its_digits_on():
    before = line(("● ", "bold $success"), ("w1@host", "bold"), "  online  hb 9s ago")
    after = line(("● ", "bold $success"), ("w1@host", "bold"), "  online  hb 10s ago")
    start, end = changed_span(before, after)
    assert after.plain[start:end] == "10s ago"  # what follows moved one cell: drawn again
    before, after = Content("load 0.52 0.40"), Content("load 0.62 0.40")
    start, end = changed_span(before, after)
    assert after.plain[start:end] == "6"  # same length: only the cells that differ
    assert changed_span(after, after) is None


def test_a_status_that_changes_repaints_all_that_moved():
    before = line(
        ("● ", "bold $success"), ("w1", "bold"), ("  online", "bold $success"), "  hb 9s ago"
    )
    after = line(("○ ", "dim"), ("w1", "bold"), ("  offline", "dim"), "  hb 14s ago")
    assert changed_span(before, after) == (0, len(after.plain))


def test_a_shorter_line_also_repaints_the_cells_it_no_longer_covers():
    before, after = Content("load 10.25 9.50"), Content("load 1.25")
    start, end = changed_span(before, after)
    assert start == len("load 1") and end == len(before.plain)


def test_a_style_alone_counts_and_wide_characters_count_as_two_cells():
    assert changed_span(line(("UP", "$success")), line(("UP", "$error"))) == (0, 2)
    start, end = changed_span(Content("名前 1s"), Content("名前 2s"))
    assert (start, end) == (5, 6)  # two wide characters and a space before the digit
    assert changed_span(None, Content("new")) == (0, 3)
