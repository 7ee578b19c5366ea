"""Reading what a textual-serve page shows: its xterm.js terminal, through the browser.

textual.js draws the terminal on a canvas (xterm.js's WebGL or canvas renderer), so the rows
are not in the DOM, and it keeps its ``Terminal`` in a local variable. ``CAPTURE_TERMINAL``
(an init script, run before the page's own scripts) notes that object when textual.js assigns
it to ``this.terminal``; ``screen_text`` then reads the visible rows from its buffer, as a
person would read them on the screen.
"""

from __future__ import annotations

import time

CAPTURE_TERMINAL = """
Object.defineProperty(Object.prototype, "terminal", {
  configurable: true,
  get() { return undefined; },
  set(value) {
    Object.defineProperty(this, "terminal",
      {value, writable: true, configurable: true, enumerable: true});
    if (value && value.buffer) { window.__shownTerminal = value; }
  },
});
"""

_ROWS = """() => {
  const term = window.__shownTerminal;
  if (!term) return "";
  const buffer = term.buffer.active, rows = [];
  for (let y = 0; y < term.rows; y++) {
    const line = buffer.getLine(buffer.viewportY + y);
    rows.push(line ? line.translateToString(true) : "");
  }
  return rows.join("\\n");
}"""


def screen_text(page) -> str:
    """The terminal's visible rows, one line each."""
    return page.evaluate(_ROWS)


def wait_for_text(page, predicate, timeout: float = 20.0, what: str = "text") -> str:
    """Poll the terminal until predicate(text) holds; the last screen in the failure."""
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        text = screen_text(page)
        if predicate(text):
            return text
        page.wait_for_timeout(100)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; the page shows:\n{text}")
