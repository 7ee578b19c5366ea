"""Make a Celery app use the broker and backend celerytui chose, whatever the environment says.

Celery's settings read ``$CELERY_BROKER_URL`` (and ``$CELERY_BROKER_READ_URL`` /
``$CELERY_BROKER_WRITE_URL``) and ``$CELERY_RESULT_BACKEND`` *before* the app's own
configuration, so ``Celery(broker=B)`` still connects to the environment's broker A. celerytui
has already weighed the environment against its config file and flags (``load_settings``);
``pin_urls`` makes the app's ``conf`` answer with that result for every reader: connections
for reading and writing, the result backend, and every message that shows the URL.
"""

from __future__ import annotations

import functools
from typing import Any

from celery import Celery


def pin_urls(
    app: Celery, broker_url: str | None = None, result_backend: str | None = None
) -> Celery:
    """Set ``app``'s broker and/or result backend URL so that no environment variable overrides
    them (None leaves that one to Celery's usual rules). Returns ``app``."""
    if broker_url is None and result_backend is None:
        return app
    conf = app.conf  # still lazy: the keys below join the app's own configuration
    if broker_url is not None:
        conf.update(broker_url=broker_url, broker_read_url=broker_url, broker_write_url=broker_url)
    if result_backend is not None:
        conf.update(result_backend=result_backend)
    base = type(conf)
    unpinned: type = getattr(base, "unpinned", base)
    pinned = _pinned_class(
        unpinned,
        broker_url is not None or getattr(base, "pins_broker", False),
        result_backend is not None or getattr(base, "pins_backend", False),
    )
    # conf's own __setattr__ stores keys; swap the class of that very object (Celery keeps it
    # when the lazy configuration is loaded), so every holder of app.conf sees the pin
    object.__setattr__(conf, "__class__", pinned)
    return app


@functools.cache
def _pinned_class(base: type, broker: bool, backend: bool) -> type:
    """A subclass of Celery's ``Settings`` whose URL properties skip the environment."""
    namespace: dict[str, Any] = {
        "unpinned": base,
        "pins_broker": broker,
        "pins_backend": backend,
        "__slots__": (),
        "__module__": __name__,
    }
    if broker:
        namespace.update(
            broker_url=property(lambda self: self.first("broker_url", "broker_host")),
            broker_read_url=property(lambda self: self.get("broker_read_url") or self.broker_url),
            broker_write_url=property(lambda self: self.get("broker_write_url") or self.broker_url),
        )
    if backend:
        namespace["result_backend"] = property(
            lambda self: self.first("result_backend", "CELERY_RESULT_BACKEND")
        )
    return type(f"Pinned{base.__name__}", (base,), namespace)


__all__ = ["pin_urls"]
