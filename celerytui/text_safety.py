"""Showing text that came from the cluster exactly as it is.

Task names, args, results, exceptions, tracebacks and hostnames are written by whoever sends
tasks. Shown through Rich markup they could restyle or hide parts of the screen
(``[bold red]x[/]``), and raw terminal escapes could move the cursor or change the terminal's
state. ``literal`` makes a ``rich.text.Text`` that never parses markup and spells every control
character out (``\\x1b``), so what the user sees is what the cluster sent.

``escape_controls`` lives in ``celerytui.control_chars`` (pure: no Rich, no Textual), where the
headless commands and ``celerytui.core`` (the exporter's label values) take it from.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from celerytui.control_chars import escape_controls

if TYPE_CHECKING:
    from rich.text import Text
    from textual.content import Content


def escaped_cut(value: Any, max_len: int | None = None, keep_newlines: bool = False) -> str:
    """``value`` with controls escaped, cut to ``max_len`` with an ellipsis (after escaping,
    so escapes are never split into something that looks like a different character)."""
    text = escape_controls(value, keep_newlines=keep_newlines)
    if max_len is not None and len(text) > max_len:
        text = text[: max(0, max_len - 1)] + "…"
    return text


def literal(
    value: Any,
    style: str = "",
    max_len: int | None = None,
    keep_newlines: bool = False,
) -> Text:
    """A Text showing ``value`` literally: no markup parsed, controls escaped, optionally cut
    to ``max_len`` with an ellipsis."""
    from rich.text import Text

    text = escaped_cut(value, max_len, keep_newlines)
    return Text(text, style=style, no_wrap=not keep_newlines, end="")


def literal_content(value: Any, style: str = "", max_len: int | None = None) -> Content:
    """Like ``literal`` but a Textual ``Content`` (so styles may use theme variables like
    ``$error``). ``Content(str)`` never parses markup."""
    from textual.content import Content

    text = escaped_cut(value, max_len)
    return Content.styled(text, style) if style else Content(text)


def labelled_lines(rows: Iterable[tuple[str, Any]], label_width: int) -> Text:
    """``label  value`` lines, labels bold and right-aligned in ``label_width``, labels and
    values literal (a label may come from the cluster too: a task's name in a worker's stats);
    rows whose value is None or "" are left out (a detail screen shows only what it knows)."""
    from rich.text import Text

    text = Text(end="")
    for label, value in rows:
        if value is None or value == "":
            continue
        if text:
            text.append("\n")
        text.append(f"{escape_controls(label):>{label_width}}  ", style="bold")
        text.append(escape_controls(value))
    return text
