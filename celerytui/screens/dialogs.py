"""Modal dialogs: the prompts behind h/d/o/e/t, a confirm dialog, and the `?` help.

Each dialog dismisses with its value (or None on esc), so callers use
``app.push_screen(Dialog(...), callback)``. Errors show as one line inside the dialog.
Titles, labels and questions often hold cluster text (a task name, a hostname, a queue): every
one is shown literally and wrapped (``wrapped``), never parsed as markup.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from celerytui.text_safety import escape_controls, literal

Validator = Callable[[dict[str, str]], str | None]
Answer = TypeVar("Answer")
REPAINT_EVERY = 0.2  # seconds between a new dialog's own repaints, for its first second
REPAINTS = 5


def wrapped(value: str) -> Text:
    """``value`` literally (no markup, controls spelled out), wrapped to the dialog's width so
    a long task name or hostname is read whole, not cut."""
    return Text(escape_controls(value), end="")


class PaintedModal(ModalScreen[Answer]):
    """A modal that repaints itself a few times just after it opens.

    Textual drops a screen's repaint while any batch is open (``App.batch_update``; a
    Footer's recompose holds one across awaits). A dialog that lays out inside such a window
    and then gets no message of its own is on the stack, taking keys, but never drawn: the
    user sees the old screen "frozen" until a blind answer. Its own timer gives it messages
    until it is surely painted.
    """

    def on_mount(self) -> None:
        self.set_interval(REPAINT_EVERY, self.refresh, repeat=REPAINTS)


class FormDialog(PaintedModal[Answer]):
    """A form with an OK and a Cancel button and a one-line error; subclasses check and send
    what was typed in ``_submit`` (cancel dismisses with None)."""

    def __init__(self) -> None:
        super().__init__(classes="dialog")

    def _submit(self) -> None:
        raise NotImplementedError

    def show_error(self, message: str) -> None:
        self.query_one(".dialog-error", Static).update(literal(message))

    @on(Button.Pressed, "#ok")
    def _ok(self) -> None:
        self._submit()

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class PromptDialog(FormDialog[dict[str, str] | None]):
    """A few labelled inputs; enter (or OK) submits, tab moves between fields, esc cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog-cancel")]

    def __init__(
        self, title: str, fields: Sequence[tuple[str, str, str]], validate: Validator | None = None
    ) -> None:
        super().__init__()
        self._title = title
        self._fields = list(fields)  # (name, label, default)
        self._validate = validate

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Label(wrapped(self._title), classes="dialog-title")
            for name, label, default in self._fields:
                yield Label(wrapped(label))
                yield Input(value=default, id=f"field-{name}")
            yield Static("", classes="dialog-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("OK", variant="primary", id="ok")
                yield Button("Cancel", id="cancel")

    def values(self) -> dict[str, str]:
        return {
            name: self.query_one(f"#field-{name}", Input).value.strip()
            for name, _label, _default in self._fields
        }

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self._submit()  # enter in any field sends (tab moves between fields)

    def _submit(self) -> None:
        values = self.values()
        error = self._validate(values) if self._validate else None
        if error:
            self.show_error(error)
            return
        self.dismiss(values)


def parse_json_args(args_text: str, kwargs_text: str) -> tuple[list, dict]:
    """JSON args (a list) and kwargs (an object); ValueError with a one-line message."""
    try:
        args = json.loads(args_text) if args_text.strip() else []
    except json.JSONDecodeError as exc:
        raise ValueError(f"args: invalid JSON ({exc.msg} at column {exc.colno})") from None
    try:
        kwargs = json.loads(kwargs_text) if kwargs_text.strip() else {}
    except json.JSONDecodeError as exc:
        raise ValueError(f"kwargs: invalid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(args, list):
        raise ValueError("args must be a JSON list, e.g. [1, 2]")
    if not isinstance(kwargs, dict):
        raise ValueError('kwargs must be a JSON object, e.g. {"x": 1}')
    return args, kwargs


class TaskPickerDialog(FormDialog[dict[str, Any] | None]):
    """Pick a registered task by name, give JSON args/kwargs, send.

    Names come from the workers (inspect registered): the list and the name box show each one
    spelled out (``escape_controls``), and a shown name maps back to the real one on send."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="picker-cancel")]

    def __init__(self, names: Sequence[str]) -> None:
        super().__init__()
        self._real = {escape_controls(n): n for n in names}  # shown name -> real name
        self._names = list(self._real)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box task-picker"):
            yield Label("Send a task", classes="dialog-title")
            yield Input(placeholder="task name (type to filter)", id="name")
            yield OptionList(*[Option(literal(n), id=n) for n in self._names], id="names")
            yield Label("args (JSON list)")
            yield Input(value="[]", id="args")
            yield Label("kwargs (JSON object)")
            yield Input(value="{}", id="kwargs")
            yield Static("", classes="dialog-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Send", variant="primary", id="ok")
                yield Button("Cancel", id="cancel")

    @on(Input.Changed, "#name")
    def _filter(self, event: Input.Changed) -> None:
        needle = event.value.strip().lower()
        options = self.query_one("#names", OptionList)
        options.clear_options()
        options.add_options([Option(literal(n), id=n) for n in self._names if needle in n.lower()])

    @on(OptionList.OptionSelected, "#names")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.query_one("#name", Input).value = event.option.id or ""
        self.query_one("#args", Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "name":
            self._complete_name()
            self.query_one("#args", Input).focus()
        elif event.input.id == "args":
            self.query_one("#kwargs", Input).focus()
        else:
            self._submit()

    def _complete_name(self) -> None:
        """A partial name takes the highlighted (or first) matching task's full name."""
        name_input = self.query_one("#name", Input)
        if name_input.value.strip() in self._names:
            return
        options = self.query_one("#names", OptionList)
        if not options.option_count:
            return
        index = options.highlighted if options.highlighted is not None else 0
        name_input.value = options.get_option_at_index(index).id or name_input.value

    def _submit(self) -> None:
        self._complete_name()
        name = self.query_one("#name", Input).value.strip()
        if not name:
            self.show_error("pick a task name")
            return
        try:
            args, kwargs = parse_json_args(
                self.query_one("#args", Input).value, self.query_one("#kwargs", Input).value
            )
        except ValueError as exc:
            self.show_error(str(exc))
            return
        self.dismiss({"name": self._real.get(name, name), "args": args, "kwargs": kwargs})


class ConfirmDialog(PaintedModal[bool]):
    """Yes / no for destructive actions (revoke, terminate, shrink, shutdown)."""

    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="confirm-yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm-no"),
    ]

    def __init__(self, question: str) -> None:
        super().__init__(classes="dialog")
        self._question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Static(wrapped(self._question), classes="dialog-title")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Yes (y)", variant="error", id="yes")
                yield Button("No (n)", id="no")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


class HelpScreen(PaintedModal[None]):
    """Every binding of the app and the screen below, one a line."""

    BINDINGS = [Binding("escape,question_mark,q", "close", "Close", id="help-close")]

    def __init__(self, rows: Sequence[tuple[str, str, str]]) -> None:
        super().__init__(classes="dialog")
        self._rows = list(rows)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box help-box"):
            yield Label("Keys  (esc closes; ctrl+p: every action)", classes="dialog-title")
            with VerticalScroll():
                for key, description, where in self._rows:
                    yield Static(literal(f"{key:>8}  {description}  ({where})"))

    def action_close(self) -> None:
        self.dismiss(None)
