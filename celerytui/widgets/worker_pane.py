"""One worker's pane: status, heartbeat age, load, active/processed, pool, queues and a
processed-per-second sparkline, as lines of text (WorkerGrid draws many of them at once)."""

from __future__ import annotations

from collections.abc import Sequence

from textual.content import Content

from celerytui.core.model import WORKER_LOST, WORKER_ONLINE, Worker
from celerytui.text_safety import literal_content
from celerytui.widgets.ages import short_age
from celerytui.widgets.sparkline_text import sparkline

STATUS_STYLE = {WORKER_ONLINE: "bold $success", WORKER_LOST: "bold $error"}
STATUS_MARK = {WORKER_ONLINE: "●", WORKER_LOST: "✖"}


def worker_lines(
    worker: Worker, series: Sequence[int], now: float, width: int, compact: bool
) -> list[Content]:
    """The pane's text: one line when compact, three otherwise."""
    style = STATUS_STYLE.get(worker.status, "dim")
    mark = STATUS_MARK.get(worker.status, "○")
    hb = short_age(now - worker.last_heartbeat) if worker.last_heartbeat else "-"
    beat_note = f"  hb {hb} ago"
    if worker.heartbeats_off:  # its counts come from inspect stats
        hb, beat_note = "hb off", "  heartbeats off"
    rate = series[-2] if len(series) >= 2 else (series[-1] if series else 0)
    load = " ".join(f"{v:.2f}" for v in worker.loadavg) if worker.loadavg else "-"
    pool = str(worker.pool_size) if worker.pool_size is not None else "?"
    queues = ",".join(worker.queues) if worker.queues is not None else "?"
    if compact:
        head = Content.assemble(
            (f"{mark} ", style),
            literal_content(worker.hostname, style="bold", max_len=max(8, width // 3)),
            (f" {worker.status}", style),
            f" {hb} act {worker.active} proc {worker.processed} ",
        )
        rate_text = f" {rate}/s"
        room = width - len(head.plain) - len(rate_text)
        if room < 6:
            return [head]
        return [Content.assemble(head, (sparkline(series, min(20, room)), "$accent"), rate_text)]
    line1 = Content.assemble(
        (f"{mark} ", style),
        literal_content(worker.hostname, style="bold", max_len=max(12, width - 24)),
        (f"  {worker.status}", style),
        beat_note,
    )
    line2 = Content(f"  active {worker.active}  processed {worker.processed}  pool {pool}")
    one_minute = f"{worker.loadavg[0]:.2f}" if worker.loadavg else "-"
    line3_load = ""
    for load_text in (f"  load {load}", f"  load {one_minute}"):
        if len(line1.plain) + len(load_text) <= width:
            line1 = Content.assemble(line1, load_text)
            break
        if len(line2.plain) + len(load_text) <= width:
            line2 = Content.assemble(line2, load_text)
            break
    else:
        line3_load = f"load {one_minute}  "
    rate_text = f" {rate}/s"
    queue_part = literal_content(f"{line3_load}queues {queues}", max_len=max(10, width // 2))
    spark_width = max(0, min(60, width - len(queue_part.plain) - len(rate_text) - 6))
    line3 = Content.assemble(
        "  ", queue_part, "  ", (sparkline(series, spark_width), "$accent"), rate_text
    )
    return [line1, line2, line3]
