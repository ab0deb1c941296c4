"""Listing windows (intake_webcoos.api.windows): clipped to the extent, lazy, a day at most."""

from __future__ import annotations

import itertools
import time
from dataclasses import replace

import pandas as pd
import pytest

from intake_webcoos.api.models import Asset
from intake_webcoos.api.windows import DAY, Window, clip, day_windows, extent, tail

from .helpers import raw_asset

T = pd.Timestamp


def service(first: str | None = "2025-09-03T17:00:05Z", last: str | None = "2025-09-16T04:59:50Z",
            count: int = 10_000):
    """waikiki's stills service, with the extent given."""
    real = Asset.from_json(raw_asset("waikiki_sheraton")).products[0].s3_services[0]
    stats = replace(real.stats, count=count,
                    first_starting=None if first is None else T(first).to_pydatetime(),
                    last_starting=None if last is None else T(last).to_pydatetime())
    return replace(real, stats=stats)


def test_a_span_is_clipped_to_the_days_of_the_extent():
    lo, hi = clip(service(), T("2000-01-01", tz="UTC"), T("2100-01-01", tz="UTC"))
    assert lo == T("2025-09-03", tz="UTC")
    assert hi == T("2025-09-17", tz="UTC") - pd.Timedelta(microseconds=1)
    assert clip(service(), None, None) == (lo, hi)
    inside = (T("2025-09-05T12:00Z"), T("2025-09-06T12:00Z"))
    assert clip(service(), *inside) == inside
    assert clip(service(), T("2026-01-01", tz="UTC"), None) is None  # misses the extent
    assert clip(service(count=0), None, None) is None
    assert extent(service(first=None)) is None


def test_day_windows_are_half_open_days_and_lazy():
    start, end = T("2025-09-01T12:00Z"), T("2025-09-03T06:00Z")
    windows = list(day_windows(service(), start, end))
    assert [(str(w.start), str(w.stop)) for w in windows] == [
        ("2025-09-01 12:00:00+00:00", "2025-09-02 00:00:00+00:00"),
        ("2025-09-02 00:00:00+00:00", "2025-09-03 00:00:00+00:00"),
        ("2025-09-03 00:00:00+00:00", "2025-09-03 06:00:00.000001+00:00"),
    ]
    assert all(w.stop - w.start <= DAY for w in windows)
    newest = list(day_windows(service(), start, end, newest_first=True))
    assert newest == windows[::-1]
    # 2.9 million days: nothing is made until asked for.
    started = time.perf_counter()
    huge = day_windows(service(), T("2000-01-01", tz="UTC"), T("9999-12-31", tz="UTC"))
    first_three = list(itertools.islice(huge, 3))
    assert time.perf_counter() - started < 1 and first_three[0].start == T("2000-01-01", tz="UTC")


def test_empty_days_of_an_inventory_are_skipped():
    windows = day_windows(service(), T("2025-09-01", tz="UTC"), T("2025-09-03T23:00Z"),
                          empty_days={pd.Timestamp("2025-09-02").date()})
    assert [w.start.day for w in windows] == [1, 3]


def test_windows_are_asked_a_second_wider_and_filtered_locally():
    window = Window(service(), T("2025-09-10T00:00:00.5Z"), T("2025-09-11T00:00Z"))
    assert window.params() == {"starting_after": "2025-09-09T23:59:59Z",
                               "starting_before": "2025-09-11T00:00:01Z"}
    assert window.holds(T("2025-09-10T00:00:00.5Z").to_pydatetime())
    assert not window.holds(T("2025-09-10T00:00:00Z").to_pydatetime())
    assert not window.holds(T("2025-09-11T00:00:00Z").to_pydatetime())  # the next day's
    assert window.holds(T("2025-09-10T23:59:59.999Z").to_pydatetime())


@pytest.mark.parametrize("disposition, expected", [("up", True), ("abnormal", True),
                                                   (None, True), ("archived", False)])
def test_the_tail_after_the_extent_is_checked_for_cameras_still_recording(disposition,
                                                                          expected):
    now = T("2025-09-18T10:00Z")
    after = tail(service(), None, None, now, disposition)
    assert (after is not None) == expected
    if after is not None:
        assert after.start == T("2025-09-17", tz="UTC")  # the day after the last day
        assert after.stop == now + pd.Timedelta(microseconds=1)
    assert tail(service(), None, T("2025-09-16T12:00Z"), now, "up") is None  # ends before
    assert tail(service(), T("2025-09-17T06:00Z"), None, now, "up").start == \
        T("2025-09-17T06:00Z")
