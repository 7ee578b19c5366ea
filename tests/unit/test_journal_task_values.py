"""Task rows as stored (schema 2): every id, text and time comes back as it went in (times to
the millisecond), whatever the cluster sent; the store's dictionary packs its failures small
whatever order its first rows came in."""

from __future__ import annotations

import random

from celerytui.core.journal.rows import TaskRow
from celerytui.core.journal.task_values import (
    DICT_SIZE,
    Packer,
    id_bytes,
    id_text,
    make_dict,
    read_row,
    stored_row,
    task_row,
    values,
)

IDS = [
    "0f8fad5b-d9cb-469f-a165-70867728950e",  # canonical: 16 bytes
    "0F8FAD5B-D9CB-469F-A165-70867728950E",  # upper case: kept as text, exactly
    "0f8fad5bd9cb469fa16570867728950e",  # uuid.hex: 17 bytes
    "0f8fad5bd9cb469fa16570867728950E",
    "exactly-15-char",  # 1 + 15 bytes would read as a uuid
    "sixteen-chars-id",
    "\x00\x1b[31m[bold]é\udcff",  # NUL, an escape, markup, a lone surrogate
    "",
]


def test_ids_come_back_exactly():
    for task_id in IDS:
        stored = id_bytes(task_id)
        assert id_text(stored) == task_id
    assert len(id_bytes(IDS[0])) == 16 and all(len(id_bytes(i)) != 16 for i in IDS[1:])


def test_a_row_comes_back_with_its_texts_and_times():
    names: dict[str, int] = {}
    texts: dict[int, str] = {}

    def intern(text):
        if text is None:
            return None
        if text not in names:
            names[text] = len(names) + 1
            texts[names[text]] = text
        return names[text]

    packer = Packer()
    packer.zdict = b"Traceback (most recent call last):\n('user@example.com',){'ok': True}"
    row = TaskRow(
        IDS[0],
        "proj.tasks.\x1b]8;;x\x07",
        "RETRY",
        "celery@w",
        None,
        sent=1000.001,
        received=1000.25,
        started=None,
        finished=1003.5,
        runtime=3.25,
        retries=3,
        exception="ValueError('x' * 200)" * 5,
        traceback="Traceback (most recent call last):\n" * 50,
        root_id=IDS[0],
        parent_id=IDS[2],
        args="('user@example.com',)",
        kwargs="{}",
        result=None,
        retried=1002.0,
    )
    stored = values(row, 1000, intern, row.at, packer)
    assert len(stored[14]) < 100  # the traceback, deflated
    back = task_row(stored, 1000, texts.get, Packer(lambda: packer.zdict))
    assert back == row


def test_the_dictionary_packs_failures_small_whatever_the_order_of_its_samples():
    # a first flush: many successes with texts of their own, a few failures that repeat
    traceback = (
        'Traceback (most recent call last):\n  File "celery/app/trace.py", line 453, in '
        'trace_task\n    R = retval = fun(*args, **kwargs)\n  File "proj/tasks.py", line '
        "42, in job_{n}\n    raise ValueError('boom')\nValueError: boom\n"
    )
    samples = [(f"({i}, {i * 7})", False) for i in range(300)]
    samples += [(f"{{'ok': True, 'value': {i * 13}}}", False) for i in range(300)]
    for n in range(40):
        samples += [(traceback.format(n=n % 4), True), ("ValueError('boom')", True)]
    failure = traceback.format(n=2)
    for seed in range(8):
        random.Random(seed).shuffle(samples)
        zdict = make_dict(samples)
        assert len(zdict) <= DICT_SIZE
        packer = Packer()
        packer.zdict = zdict
        assert len(packer.pack(failure) or b"") < 40  # of 220 characters


def test_a_row_of_schema_5_comes_back_whatever_its_values():
    names = {"proj.tasks.add": 16, "FAILURE": 5, "PENDING": 1, "celery@w": 17, "q": 18}
    texts = {v: k for k, v in names.items()}
    packer = Packer()
    rows = [
        TaskRow(IDS[0]),  # nothing but an id: no times at all
        TaskRow(
            IDS[2],
            "proj.tasks.add",
            "FAILURE",
            "celery@w",
            "q",
            sent=1000.001,
            received=999.0,  # before sent: a skewed clock, a negative delta
            started=1000.5,
            finished=5_000_000.0,  # weeks after: a delta of many bytes
            runtime=-0.000001,
            retries=2**40,
            exception="E" * 300,  # a length of two bytes
            traceback="",
            root_id=IDS[2],  # the task's own id: an empty blob
            parent_id=IDS[6],
            args="()",
            kwargs=None,
            result=None,
            retried=1000.75,
        ),
    ]
    for row in rows:
        stored = stored_row(row, 1000, names.get, row.at or 1000.0, packer)
        assert stored[0] == (round((row.at - 1000) * 1000) if row.at else 0)
        assert read_row(stored, 1000, texts.get, packer) == row
    assert len(stored_row(rows[0], 1000, names.get, 1000.0, packer)[5]) == 16  # 15 Nones
