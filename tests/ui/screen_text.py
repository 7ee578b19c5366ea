"""Reading what the user sees: the active screen as plain text lines."""

from __future__ import annotations

from textual.app import App


def screen_text(app: App) -> str:
    """The whole terminal picture as text, one line a row (what a user reads)."""
    strips = app.screen._compositor.render_strips()
    return "\n".join("".join(seg.text for seg in strip) for strip in strips)
