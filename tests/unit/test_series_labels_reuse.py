"""SeriesCaps answers a label set it saw before from memory: folds are still counted per
event, and a release of a host gives its slot (and the raw values' sets) back."""

from __future__ import annotations

from celerytui.core.series_caps import OTHER, SeriesCaps


def test_a_folded_event_counts_each_time_and_a_release_frees_the_slot() -> None:
    caps = SeriesCaps(max_hosts=1)
    assert caps.labels("proj.add", "celery@a", "celery", 1.0) == ("proj.add", "celery@a", "celery")
    assert caps.labels("proj.add", "celery@a", "celery", 2.0) == ("proj.add", "celery@a", "celery")
    for now in (3.0, 4.0, 5.0):  # no hostname slot left for b: folded, every time
        assert caps.labels("proj.add", "celery@b", "celery", now) == ("proj.add", OTHER, "celery")
    assert caps.folded["hostname"] == 3
    assert caps.release_hosts(["celery@a"]) == 1
    assert caps.labels("proj.add", "celery@b", "celery", 6.0) == ("proj.add", "celery@b", "celery")
    # a is gone: the same raw values now fold, they are not answered from before the release
    assert caps.labels("proj.add", "celery@a", "celery", 7.0) == ("proj.add", OTHER, "celery")
    assert caps.folded["hostname"] == 4
    assert caps.idle_hosts(before=6.5) == {"celery@b"}


def test_counters_are_what_was_counted_and_a_released_host_takes_its_counts_along() -> None:
    caps = SeriesCaps()
    a = caps.count_event("received", "proj.add", "celery@a", "celery", 1.0)
    caps.count_event("received", "proj.add", "celery@a", "celery", 2.0)
    caps.count_event("succeeded", "proj.add", "celery@a", "celery", 3.0)
    caps.count_event("sent", "proj.add", "bastion", "celery", 3.0)
    assert caps.counters == {
        ("received", *a): 2,
        ("succeeded", *a): 1,
        ("sent", "proj.add", "bastion", "celery"): 1,
    }
    assert caps.release_hosts(["celery@a"]) == 1
    assert caps.counters == {("sent", "proj.add", "bastion", "celery"): 1}
    caps.count("lost", a)  # its tasks declared lost after the release: still counted
    assert caps.count_event("received", "proj.add", "celery@a", "celery", 4.0) == a
    caps.count("lost", a)  # and once its label set is back
    caps.count("custom", a)  # a kind of its own
    assert caps.counters == {
        ("sent", "proj.add", "bastion", "celery"): 1,
        ("received", *a): 1,
        ("lost", *a): 2,
        ("custom", *a): 1,
    }
