"""Property tests of what parses server and user input, beyond ``test_models`` mutations.

* any JSON at all, of any shape, given to any parser: a record or
  ``ResponseFormatError``, nothing else;
* extra fields anywhere in a valid payload change nothing;
* header values the server sends (``Retry-After``): a pause or None, never an error;
* times: any aware or naive datetime, written as ISO 8601, means the same instant
  to ``to_utc``, and the client's ``api_time`` reads back the same on the server.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
from typing import Any

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from intake_webcoos.api.errors import InvalidTimeError, ResponseFormatError
from intake_webcoos.api.http import retry_after as _retry_after
from intake_webcoos.api.models import (
    Asset,
    Element,
    InventoryBin,
    Page,
    Service,
    parse_api_time,
    parse_inventory,
)
from intake_webcoos.api.times import api_time, time_range, to_utc
from intake_webcoos.server.api_origin import parse_query_time

from .test_models import INVENTORY_7COL, RAW_STAGE_SERVICES, make_element, raw_asset

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats() | st.text(max_size=20)
    | st.sampled_from(["", "NaT", "2025-09-17T21:57:28Z", "1e3", "results", "pagination"]),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(["results", "pagination", "data", "uuid", "count",
                                       "next", "common", "properties", "extents", "temporal",
                                       "min", "url", "label", "feeds", "slug"])
                      | st.text(max_size=8), children, max_size=5),
    max_leaves=25,
)
PARSERS = {
    "element": Element.from_json,
    "asset": Asset.from_json,
    "service": Service.from_json,
    "page": Page.from_json,
    "inventory": parse_inventory,
    "inventory bin": InventoryBin.from_json,
}
SAMPLES: dict[str, tuple[Any, Any]] = {
    "element": (make_element(min="2025-09-17T17:57:28-04:00", max="2025-09-17T18:07:28-04:00"),
                Element.from_json),
    "asset": (raw_asset("waikiki_sheraton"), Asset.from_json),
    "service": (RAW_STAGE_SERVICES[2], Service.from_json),
    "inventory": (INVENTORY_7COL, parse_inventory),
    "page": ({"results": [make_element()],
              "pagination": {"count": 1, "start_index": 1, "next": None}},
             lambda obj: _page_parsed(Page.from_json(obj))),
}


def _page_parsed(page: Page) -> tuple:
    """A page as the client uses it: its block, and its results parsed as elements."""
    block = {f.name: getattr(page, f.name) for f in dataclasses.fields(page)
             if f.name != "results"}
    return block, [Element.from_json(r) for r in page.results]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.sampled_from(sorted(PARSERS)), payload=JSON)
def test_any_json_gives_a_record_or_a_response_format_error(kind: str, payload: Any) -> None:
    try:
        PARSERS[kind](payload)
    except ResponseFormatError as exc:
        assert "WebCOOS" in str(exc) or str(exc)  # a message, not a bare KeyError


def _objects(node: Any, path: tuple = ()) -> list[tuple]:
    """Paths of every JSON object inside ``node`` (the root included)."""
    found = [path] if isinstance(node, dict) else []
    children = node.items() if isinstance(node, dict) else (
        enumerate(node) if isinstance(node, list) else ())
    for key, child in children:
        found.extend(_objects(child, (*path, key)))
    return found


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), kind=st.sampled_from(sorted(SAMPLES)))
def test_extra_fields_anywhere_change_nothing(data: st.DataObject, kind: str) -> None:
    sample, parse = SAMPLES[kind]
    expected = parse(copy.deepcopy(sample))
    widened = copy.deepcopy(sample)
    # Not records but maps or raw copies by design: thumbnails (size -> URL) and a
    # service's connections (kept as the API gave them).
    objects = [p for p in _objects(widened) if not {"thumbnails", "connections"} & set(p)]
    for _ in range(data.draw(st.integers(1, 6), label="additions")):
        node = widened
        for key in data.draw(st.sampled_from(objects), label="object"):
            node = node[key]
        name = data.draw(st.text(min_size=1, max_size=12).filter(
            lambda k, node=node: k not in node), label="new field")
        node[name] = data.draw(JSON, label="its value")
    assert parse(widened) == expected


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40) | st.sampled_from([
    "nan", "inf", "-1", "1e999", "Wed, 21 Oct 2015 07:28:00 GMT", "Fri, 31 Dec 9999 23:59:59 GMT",
    "Wed, 21 Oct 2015 07:28:00 +9999", "Mon, 32 Foo 2025 99:99:99 GMT"]))
def test_retry_after_values_are_a_pause_or_nothing(value: str) -> None:
    pause = _retry_after(value)
    assert pause is None or (isinstance(pause, float) and pause >= 0)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=40), st.integers(), st.floats(), st.none(), st.booleans(),
                 st.lists(st.text(max_size=3), max_size=2)))
def test_api_times_are_utc_none_or_a_response_format_error(value: Any) -> None:
    try:
        when = parse_api_time(value, "field")
    except ResponseFormatError as exc:
        assert "'field'" in str(exc)
    else:
        assert when is None or when.tzinfo is dt.UTC


OFFSETS = st.builds(lambda minutes: dt.timezone(dt.timedelta(minutes=minutes)),
                    st.integers(min_value=-23 * 60 - 59, max_value=23 * 60 + 59))
MOMENTS = st.datetimes(min_value=dt.datetime(1900, 1, 2), max_value=dt.datetime(2200, 1, 1),
                       timezones=st.none() | OFFSETS | st.just(dt.UTC))


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
