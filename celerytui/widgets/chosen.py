"""What a table says when the user picks a row (enter or a click): a task or a worker was
chosen. Each table posts its own nested subclass (``TaskTable.TaskChosen``,
``FailureTable.TaskChosen``, ``WorkerTable.WorkerChosen``...); the app handles the base class
once and opens the detail screen, whatever screen the table is on."""

from __future__ import annotations

from typing import ClassVar

from textual.message import Message


class TaskChosen(Message):
    """Open the task ``uuid``."""

    at_traceback: ClassVar[bool] = False  # open it scrolled to its traceback

    def __init__(self, uuid: str) -> None:
        super().__init__()
        self.uuid = uuid


class WorkerChosen(Message):
    """Open the worker ``hostname``."""

    def __init__(self, hostname: str) -> None:
        super().__init__()
        self.hostname = hostname
