"""`celerytui demo`: the whole seed system on this machine — embedded Redis, two workers, beat,
a local HTTP server to check, and a workload — started and stopped as one.

Never imports textual: the TUI is opened by `celerytui.commands.demo`, the headless run uses
only this package and the core.
"""
