"""Asking a running exporter over HTTP: a status and body, or one metric's summed value."""

from __future__ import annotations

import urllib.error
import urllib.request

from prometheus_client.parser import text_string_to_metric_families


def get(url: str, timeout: float = 5.0) -> tuple[int, str]:
    """(status, body) of a GET; an HTTP error status is an answer, not an exception."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def metric(port: int, sample_name: str, **labels: str) -> float:
    """The sum of ``sample_name``'s samples whose labels include ``labels``, from /metrics."""
    status, text = get(f"http://127.0.0.1:{port}/metrics")
    assert status == 200
    return sum(
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == sample_name and all(s.labels.get(k) == v for k, v in labels.items())
    )
