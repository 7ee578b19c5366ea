"""celerytui: a terminal dashboard for live Celery clusters, and the system it watches."""

__version__ = "0.1.0"
