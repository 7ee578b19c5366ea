"""Dashboard widgets, one a file. Widgets never talk to the broker: they render what the
screen hands them (records from ``celerytui.core.model``)."""
