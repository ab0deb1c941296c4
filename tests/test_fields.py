"""The tolerant JSON readers (api/fields.py) under every parser of API payloads.

* ``parse_api_time``: any offset, blank spellings, garbage naming its field;
* any JSON at all, of any shape, given to any parser: a record or
  ``ResponseFormatError``, nothing else;
* random mutations of real payloads: parsed records keep their types, or the error;
* extra fields anywhere in a valid payload change nothing.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from intake_webcoos.api.elements import Element, Page
from intake_webcoos.api.fields import parse_api_time
from intake_webcoos.api.inventory import InventoryBin, parse_inventory
from intake_webcoos.api.models import Asset, Service
from intake_webcoos.errors import ResponseFormatError

from .helpers import INVENTORY_7COL, RAW_STAGE_SERVICES, make_element, raw_asset, utc

PARSERS = {
    "element": Element.from_json,
    "asset": Asset.from_json,
    "service": Service.from_json,
    "page": Page.from_json,
    "inventory": parse_inventory,
    "inventory bin": InventoryBin.from_json,
}
#: Valid payloads of each kind (the ones of real structure).
SAMPLES: dict[str, Any] = {
    "element": make_element(min="2025-09-17T17:57:28-04:00", max="2025-09-17T18:07:28-04:00"),
    "asset": raw_asset("waikiki_sheraton"),
    "service": RAW_STAGE_SERVICES[2],
    "inventory": INVENTORY_7COL,
    "page": {"results": [make_element()],
             "pagination": {"count": 1, "start_index": 1, "next": None}},
}


# -- parse_api_time -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-09-17T21:57:28Z", utc(2025, 9, 17, 21, 57, 28)),
        ("2025-09-17T21:57:28+00:00", utc(2025, 9, 17, 21, 57, 28)),
        ("2022-05-08T00:00:00-04:00", utc(2022, 5, 8, 4)),
        ("2022-05-08T09:30:00+05:30", utc(2022, 5, 8, 4)),
        ("2022-06-14T21:44:15.667000Z", utc(2022, 6, 14, 21, 44, 15, 667000)),
        ("2025-09-17T21:57:28.000Z", utc(2025, 9, 17, 21, 57, 28)),
        ("2022-06-02 00:00:00+00:00", utc(2022, 6, 2)),
        ("2024-06-01T00:00:00", utc(2024, 6, 1)),
        (" 2024-06-01T00:00:00Z ", utc(2024, 6, 1)),
    ],
)
def test_parse_api_time_gives_aware_utc(text: str, expected: datetime) -> None:
    parsed = parse_api_time(text, "t")
    assert parsed == expected
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize("blank", [None, "", "NaT", "  "])
def test_parse_api_time_blank_is_none(blank: Any) -> None:
    assert parse_api_time(blank, "t") is None


@pytest.mark.parametrize(
    "garbage",
    ["yesterday", "2025-13-01T00:00:00Z", "2025-09-17T25:00:00Z", 1726610248, 1.5, True, [], {}],
)
def test_parse_api_time_garbage_names_field(garbage: Any) -> None:
    with pytest.raises(ResponseFormatError, match=r"data\.extents\.temporal\.min"):
        parse_api_time(garbage, "data.extents.temporal.min")


def test_parse_api_time_out_of_range_after_conversion() -> None:
    # astimezone() overflows here; that must not leak as OverflowError
    with pytest.raises(ResponseFormatError, match="when"):
        parse_api_time("9999-12-31T23:59:59-01:00", "when")

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


# -- any JSON ---------------------------------------------------------------------------------
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


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.sampled_from(sorted(PARSERS)), payload=JSON)
def test_any_json_gives_a_record_or_a_response_format_error(kind: str, payload: Any) -> None:
    try:
        PARSERS[kind](payload)
    except ResponseFormatError as exc:
        assert "WebCOOS" in str(exc) or str(exc)  # a message, not a bare KeyError


# -- random mutations of real payloads ----------------------------------------------------------
def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key/index path inside a JSON tree."""
    found = []
    if isinstance(node, dict):
        children = node.items()
    elif isinstance(node, list):
        children = enumerate(node)
    else:
        return found
    for key, child in children:
        found.append((*prefix, key))
        found.extend(_paths(child, (*prefix, key)))
    return found


def _at(node: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        node = node[key]
    return node


JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(
        ["", "NaT", "None", "2025-09-17T21:57:28Z", "2022-06-02 00:00:00-04:00", "1e3"]
    ),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)

@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), kind=st.sampled_from(sorted(SAMPLES)))
def test_random_mutations_parse_or_raise_response_format_error(
    data: st.DataObject, kind: str
) -> None:
    parse = PARSERS[kind]
    mutated = copy.deepcopy(SAMPLES[kind])
    paths = _paths(mutated)
    # half the draws hit an object/array node, so structure is broken often, not just leaves
    containers = [p for p in paths if isinstance(_at(mutated, p), dict | list)]
    for _ in range(data.draw(st.integers(min_value=1, max_value=4), label="mutations")):
        path = data.draw(st.sampled_from(containers) | st.sampled_from(paths), label="path")
        try:
            parent = _at(mutated, path[:-1])
            parent[path[-1]]
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed or replaced this path
        if not isinstance(parent, dict | list):
            continue  # ... or replaced its parent by a string
        if isinstance(parent, dict) and data.draw(st.booleans(), label="delete"):
            del parent[path[-1]]
        else:
            parent[path[-1]] = data.draw(JUNK, label="value")
    try:
        parsed = parse(mutated)
    except ResponseFormatError:
        event(f"{kind}: ResponseFormatError")
        return
    event(f"{kind}: parsed")
    if isinstance(parsed, Element):
        assert parsed.time.tzinfo is UTC and (parsed.end is None or parsed.end.tzinfo is UTC)
        assert isinstance(parsed.label, str) and parsed.label
        assert isinstance(parsed.url, str) and parsed.url
        assert parsed.size is None or type(parsed.size) is int
        assert parsed.duration is None or type(parsed.duration) is float
        assert parsed.thumbnail is None or isinstance(parsed.thumbnail, str)
    elif isinstance(parsed, Asset):
        assert all(isinstance(v, str) for v in parsed.thumbnails.values())
        for product in parsed.products:
            for service in product.services:
                assert type(service.stats.count) is int
    elif isinstance(parsed, Page):
        assert isinstance(parsed.results, list)
        assert parsed.count is None or type(parsed.count) is int


# -- extra fields -----------------------------------------------------------------------------
def _page_parsed(payload: Any) -> tuple:
    """A page as the client uses it: its block, and its results parsed as elements."""
    page = Page.from_json(payload)
    block = {f.name: getattr(page, f.name) for f in dataclasses.fields(page)
             if f.name != "results"}
    return block, [Element.from_json(r) for r in page.results]


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
    parse = _page_parsed if kind == "page" else PARSERS[kind]
    expected = parse(copy.deepcopy(SAMPLES[kind]))
    widened = copy.deepcopy(SAMPLES[kind])
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
