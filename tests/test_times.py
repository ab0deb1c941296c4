"""Times given by users (api/times.py): parsed strictly to UTC, whatever their spelling.

* property tests: nothing but ``InvalidTimeError`` escapes the parsers; every
  spelling of an instant is that instant, and what the client sends is what the
  stand-in reads; ranges are ordered or refused;
* through the client: every kind of time input lists the same elements.
"""

from __future__ import annotations

import datetime as dt
import string
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from intake_webcoos import Client
from intake_webcoos.api.times import api_time, time_range, to_timedelta, to_utc
from intake_webcoos.errors import InvalidTimeError, WebcoosError
from intake_webcoos.server.api_origin import parse_query_time

from .helpers import CAMERA, STILLS, TOKEN

OFFSETS = st.builds(lambda minutes: dt.timezone(dt.timedelta(minutes=minutes)),
                    st.integers(min_value=-23 * 60 - 59, max_value=23 * 60 + 59))
MOMENTS = st.datetimes(min_value=dt.datetime(1900, 1, 2), max_value=dt.datetime(2200, 1, 1),
                       timezones=st.none() | OFFSETS | st.just(dt.UTC))


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), st.text(alphabet=string.digits + "-:TZ+ ./", max_size=30),
                 st.integers(), st.floats(), st.none(), st.booleans(), st.lists(st.integers()),
                 st.datetimes(), st.dates()))
def test_time_parsing_raises_only_typed_errors(value):
    try:
        stamp = to_utc(value)
    except InvalidTimeError as exc:
        assert str(exc)
    else:
        assert str(stamp.tz) == "UTC"


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=20), st.text(max_size=20))
def test_time_ranges_and_durations_raise_only_typed_errors(a, b):
    for call in (lambda: time_range(a, b), lambda: to_timedelta(a)):
        try:
            call()
        except WebcoosError as exc:
            assert isinstance(exc, InvalidTimeError)


@settings(max_examples=400, deadline=None)
@given(MOMENTS)
def test_every_spelling_of_a_time_is_the_same_instant(moment: dt.datetime) -> None:
    """ISO text (``T`` or space, ``Z`` or offset), datetime, Timestamp, datetime64: one instant."""
    instant = pd.Timestamp(moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC))
    spellings: list[Any] = [moment, pd.Timestamp(moment), moment.isoformat(),
                            moment.isoformat(sep=" ")]
    if moment.tzinfo is None:
        spellings.append(pd.Timestamp(moment).to_datetime64())
    if moment.utcoffset() == dt.timedelta(0):
        spellings.append(moment.replace(tzinfo=None).isoformat() + "Z")
    for spelling in spellings:
        parsed = to_utc(spelling)
        assert parsed == instant and str(parsed.tz) == "UTC", spelling
    # What the client sends is what the stand-in (Python's own parser) reads.
    assert parse_query_time(api_time(instant), "t") == instant.timestamp()


@settings(max_examples=200, deadline=None)
@given(MOMENTS, MOMENTS)
def test_ranges_are_ordered_or_refused(a: dt.datetime, b: dt.datetime) -> None:
    first, last = to_utc(a), to_utc(b)
    try:
        start, end = time_range(a, b)
    except InvalidTimeError as exc:
        assert first > last and "swap them" in str(exc)
    else:
        assert (start, end) == (first, last) and start <= end


# -- through the client -------------------------------------------------------------------
REFERENCE = ("2025-09-10T18:00:00Z", "2025-09-10T20:00:00+00:00")
KINDS = {
    "New York Timestamp and naive text": (pd.Timestamp("2025-09-10T14:00", tz="America/New_York"),
                                          "2025-09-10 20:00"),
    "datetime64 and aware datetime": (np.datetime64("2025-09-10T18:00"),
                                      pd.Timestamp("2025-09-10T20:00Z").to_pydatetime()),
    "Honolulu offset and New York Timestamp": ("2025-09-10T08:00:00-10:00",
                                               pd.Timestamp("2025-09-10T16:00",
                                                            tz="America/New_York")),
    "naive ISO text": ("2025-09-10T18:00", "2025-09-10T20:00:00"),
}


@pytest.fixture(scope="module")
def reference(standin) -> pd.DataFrame:
    frame = Client(TOKEN, standin.api_url).elements(CAMERA, STILLS, *REFERENCE)
    assert len(frame) > 100
    return frame


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_kind_of_time_input_lists_the_same_elements(standin, reference, kind):
    frame = Client(TOKEN, standin.api_url).elements(CAMERA, STILLS, *KINDS[kind])
    pd.testing.assert_frame_equal(frame, reference)


@pytest.mark.parametrize("every", [10, 1.5, "10", "0.5", "NaT", np.timedelta64("NaT"), "-1h",
                                   "0s", "soon"])
def test_a_width_without_a_unit_or_not_a_duration_is_refused(every):
    with pytest.raises(InvalidTimeError, match="every"):
        to_timedelta(every)


def test_a_width_is_refused_before_any_request(standin):
    standin.clear_requests()
    with pytest.raises(InvalidTimeError, match="has no unit"):
        Client(TOKEN, standin.api_url).elements(CAMERA, STILLS, "2025-09-10",
                                                "2025-09-10T23:59", every=10)
    assert standin.requests_to("api") == []


def test_a_local_time_the_clocks_skip_is_refused():
    from zoneinfo import ZoneInfo

    new_york = ZoneInfo("America/New_York")
    with pytest.raises(InvalidTimeError, match="does not exist in America/New_York"):
        to_utc(dt.datetime(2025, 3, 9, 2, 30, tzinfo=new_york), "start")
    # The hour after the gap, and the repeated hour in autumn, are real times.
    assert to_utc(dt.datetime(2025, 3, 9, 3, 30, tzinfo=new_york)) == \
        pd.Timestamp("2025-03-09T07:30Z")
    assert to_utc(dt.datetime(2025, 11, 2, 1, 30, tzinfo=new_york)) == \
        pd.Timestamp("2025-11-02T05:30Z")
