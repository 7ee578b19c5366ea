"""One module per family of alert rules; registry.py imports every module here."""
