"""A block of task rows (task_blocks.py) gives back each row as it was written: every field,
times to the millisecond, any id and hostile text exactly; and it is small."""

from __future__ import annotations

import random

import pytest

from celerytui.core.journal.rows import TaskRow
from celerytui.core.journal.task_blocks import at_ms, decode, encode, id_key

EPOCH = 1_767_225_600


class _Names:
    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.texts: dict[int, str] = {}

    def intern(self, text: str | None) -> int | None:
        if text is None:
            return None
        if text not in self.ids:
            self.ids[text] = len(self.ids) + 16
            self.texts[self.ids[text]] = text
        return self.ids[text]

    def text(self, i: int | None) -> str | None:
        return None if i is None else self.texts[i]


ODD = [
    TaskRow(
        "not-a-uuid [bold]x[/]\x1b[31m",
        "proj.tasks.échec\x00",
        "SUCCESS",
        "celery@w\u202e1",
        None,
        EPOCH + 1.0,
        None,
        EPOCH + 1.5,
        EPOCH + 2.125,
        0.625,
        2,
        "ValueError('\ud800 lone surrogate')",
        "Traceback\n" * 50,
        "exactly-15-char",
        "0f8fad5bd9cb469fa16570867728950e",  # uuid.hex
        "(1, 2)",
        "{'k': 'v'}",
        "3",
        EPOCH + 1.75,
    ),
    TaskRow("7c9e6679-7425-40de-944b-e07fc1f90ae7", state="IGNORED"),  # no times at all
    TaskRow(
        "0f8fad5b-d9cb-469f-a165-70867728950e",
        "a.b",
        "SUCCESS",
        finished=EPOCH + 9.0,
        root_id="0f8fad5b-d9cb-469f-a165-70867728950e",  # its own root
        parent_id="7c9e6679-7425-40de-944b-e07fc1f90ae7",
    ),
]


def test_a_block_gives_its_rows_back_exactly() -> None:
    names = _Names()
    now = EPOCH + 100.0
    pairs = [(at_ms(r, EPOCH, now), r) for r in ODD]
    at0, at1, data = encode(pairs, EPOCH, names.intern)
    assert (at0, at1) == (min(a for a, _ in pairs), max(a for a, _ in pairs))
    back = decode(data, at0, EPOCH, names.text)
    assert back == pairs


def test_finished_tasks_take_a_few_dozen_bytes_each() -> None:
    rng = random.Random(1)
    rows = []
    for i in range(1024):
        t = EPOCH + i * 0.01
        uuid = f"{rng.getrandbits(128):032x}"
        rows.append(
            TaskRow(
                f"{uuid[:8]}-{uuid[8:12]}-{uuid[12:16]}-{uuid[16:20]}-{uuid[20:]}",
                f"proj.tasks.job_{i % 20}",
                "SUCCESS",
                f"celery@worker-{i % 8}",
                "celery",
                t - 0.01,
                t - 0.008,
                t - 0.005,
                t,
                0.005,
                0,
                args=f"({rng.randrange(10**5)}, {{'order_id': {i}}})",
                kwargs="{}",
                result=f"{{'ok': True, 'value': {rng.randrange(10**6)}}}",
            )
        )
    names = _Names()
    _, _, data = encode([(at_ms(r, EPOCH, 0.0), r) for r in rows], EPOCH, names.intern)
    assert len(data) / len(rows) < 50  # a v2 row: ~100 bytes and ~40 more of indexes


@pytest.mark.parametrize("uuid", ["0f8fad5b-d9cb-469f-a165-70867728950e", "x", "é" * 40])
def test_keys_are_stable_32_bit_ints(uuid: str) -> None:
    key = id_key(uuid)
    assert key == id_key(uuid) and -(2**31) <= key < 2**31
