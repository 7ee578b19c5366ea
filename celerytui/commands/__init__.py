"""The headless commands: exporter, status, tail, fire (the TUI and demo live elsewhere)."""
