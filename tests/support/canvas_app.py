"""The incident tasks (tests/support/incident_app.py) on workers that store STARTED
(``task_track_started``), as the seed's app does: a running member of a group sent from a plain
client then has a stored meta naming its group, after its message was acked. ``WorkerProcess(
app="tests.support.canvas_app")`` takes the broker and backend from the environment."""

from __future__ import annotations

from tests.support.incident_app import make_incident_app

app = make_incident_app()
app.conf.task_track_started = True
