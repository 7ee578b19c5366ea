"""The headless monitor: events, state, results, control, queues, alerts, metrics.

Never imports Textual: the exporter, `status` and `tail` run it without a terminal UI.
See docs/core-api.md for the contract between its parts.
"""
