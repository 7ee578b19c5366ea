"""A ContentLines widget (a line rendered only when it changed) draws exactly what Textual's
own render of the whole text draws: same characters, same styles, line for line; a line wider
than the widget wraps as Textual wraps it; a changed line shows at once."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.content import Content
from textual.widget import Widget

from celerytui.widgets.content_lines import ContentLines
from tests.ui.conftest import wait_until


class Lines(ContentLines):
    DEFAULT_CSS = "Lines { width: 30; height: auto; }"


class Whole(Widget):
    """The reference: Textual's plain whole-widget render of the same lines."""

    DEFAULT_CSS = "Whole { width: 30; height: auto; }"

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[Content] = []

    def render(self) -> Content:
        return Content("\n").join(self.lines)


class Pair(App):
    def compose(self) -> ComposeResult:
        yield Lines()
        yield Whole()

    def show(self, lines: list[Content]) -> None:
        self.query_one(Lines).set_lines(lines)
        whole = self.query_one(Whole)
        whole.lines = lines
        whole.refresh(layout=True)


def drawn(widget: Widget) -> list[list[tuple[str, object]]]:
    return [
        [(seg.text, seg.style) for seg in widget.render_line(y)] for y in range(widget.size.height)
    ]


def lines_of(*texts: str) -> list[Content]:
    return [
        Content.assemble(("▲ UP  ", "bold $success"), " ", text, ("", "$accent"), " 10s")
        for text in texts
    ]


async def test_lines_drawn_as_textual_draws_the_whole_text():
    app = Pair()
    async with app.run_test(size=(80, 12)) as pilot:
        app.show(lines_of("https://a.example", "https://b.example"))
        mine, whole = app.query_one(Lines), app.query_one(Whole)
        await wait_until(pilot, lambda: mine.size.height == 2, what="two lines")
        await pilot.pause()
        assert drawn(mine) == drawn(whole)  # the empty span dropped, styles and offsets alike

        app.show(lines_of("https://a.example", "https://c.example"))
        await wait_until(pilot, lambda: "c.example" in mine.render_line(1).text, what="a change")
        await pilot.pause()
        assert drawn(mine) == drawn(whole)

        wide = "https://a-name-far-wider-than-thirty-cells.example"
        app.show(lines_of(wide, "https://b.example"))  # wraps: Textual's own render
        await wait_until(pilot, lambda: mine.size.height > 2, what="the wrapped line")
        await pilot.pause()
        assert drawn(mine) == drawn(whole)
        assert "https://b.example" in mine.render_line(mine.size.height - 1).text
