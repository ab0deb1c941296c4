"""Records of element listings (api/elements.py): ``Element`` and ``Page``.

Times of any offset become UTC, numbers sent as strings are read, absent optional
fields are tolerated; anything else raises ``ResponseFormatError`` naming the field.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from intake_webcoos.api.elements import Element, Page
from intake_webcoos.errors import ResponseFormatError

from .helpers import STILLS_URL, make_element, set_at, utc

# -- elements --------------------------------------------------------------------


def test_element_happy_path() -> None:
    element = Element.from_json(make_element())
    assert element == Element(
        uuid="7a0c3d4e-1b2f-4c5d-8e9f-0a1b2c3d4e5f",
        label="waikiki_sheraton-2025-09-17-215728Z.jpg",
        time=utc(2025, 9, 17, 21, 57, 28),
        end=None,
        url=STILLS_URL + "waikiki_sheraton-2025-09-17-215728Z.jpg",
        size=261433,
        duration=None,
        thumbnail=STILLS_URL + "thumb-400x200.jpg",
    )
    assert element.filename == element.label
    assert element.time.tzinfo is UTC


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        ("2025-09-17T21:57:28Z", utc(2025, 9, 17, 21, 57, 28)),
        ("2025-09-17T21:57:28+00:00", utc(2025, 9, 17, 21, 57, 28)),
        ("2025-09-17T17:57:28-04:00", utc(2025, 9, 17, 21, 57, 28)),
        ("2025-09-17T23:57:28-04:00", utc(2025, 9, 18, 3, 57, 28)),  # crosses the UTC day
        ("2025-09-17T21:57:28", utc(2025, 9, 17, 21, 57, 28)),
        ("2025-09-17 21:57:28.500000+00:00", utc(2025, 9, 17, 21, 57, 28, 500000)),
    ],
)
def test_element_time_any_offset_becomes_utc(start: str, expected: datetime) -> None:
    element = Element.from_json(make_element(min=start))
    assert element.time == expected
    assert element.time.utcoffset() == timedelta(0) and element.time.tzinfo is UTC


def test_element_end_from_temporal_max() -> None:
    element = Element.from_json(
        make_element(min="2025-09-17T21:57:28Z", max="2025-09-17T18:07:28-04:00")
    )
    assert element.end == utc(2025, 9, 17, 22, 7, 28)
    assert Element.from_json(make_element(min="2025-09-17T21:57:28Z", max=None)).end is None


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        (261433, 261433),
        ("123", 123),
        (" 123 ", 123),
        (123.0, 123),
        ("1e3", 1000),
        (2**53 + 1, 2**53 + 1),
        (None, None),
        ("", None),
        ("None", None),
    ],
)
def test_element_size_coercion(size: Any, expected: int | None) -> None:
    raw = make_element()
    raw["data"]["properties"]["size"] = size
    assert Element.from_json(raw).size == expected


@pytest.mark.parametrize("size", ["big", 12.5, True, [1], {"bytes": 1}, float("inf")])
def test_element_bad_size(size: Any) -> None:
    raw = make_element()
    raw["data"]["properties"]["size"] = size
    with pytest.raises(ResponseFormatError, match=r"data\.properties\.size"):
        Element.from_json(raw)


@pytest.mark.parametrize(
    ("duration", "expected"),
    [
        (600, 600.0),
        (599.95, 599.95),
        ("600.5", 600.5),
        (None, None),
        ("", None),
        (float("nan"), None),
    ],
)
def test_element_duration(duration: Any, expected: float | None) -> None:
    raw = make_element()
    raw["data"]["properties"]["duration"] = duration
    assert Element.from_json(raw).duration == expected


@pytest.mark.parametrize("duration", ["ten minutes", False, [600]])
def test_element_bad_duration(duration: Any) -> None:
    raw = make_element()
    raw["data"]["properties"]["duration"] = duration
    with pytest.raises(ResponseFormatError, match=r"data\.properties\.duration"):
        Element.from_json(raw)


def test_element_unknown_fields_ignored() -> None:
    raw = make_element()
    raw["created_at"] = "2025-09-17T21:57:40.123456Z"
    raw["brand_new"] = [{"x": 1}]
    raw["data"]["extents"]["spatial"] = {"type": "Point", "coordinates": [0, 0]}
    raw["data"]["extents"]["temporal"]["resolution"] = "PT1S"
    raw["data"]["properties"]["mime_type"] = "image/jpeg"
    raw["data"]["properties"]["thumbnails"]["base"]["rect_huge"] = "https://example.org/h.jpg"
    assert Element.from_json(raw) == Element.from_json(make_element())


def test_element_missing_optional_fields() -> None:
    raw = make_element()
    for key in ("common", "kind", "type", "system", "uuid_slug"):
        del raw["data"][key]
    for key in ("size", "duration", "thumbnails"):
        del raw["data"]["properties"][key]
    element = Element.from_json(raw)
    assert (element.size, element.duration, element.thumbnail, element.end) == (None,) * 4
    assert element.label == "waikiki_sheraton-2025-09-17-215728Z.jpg"  # from the URL


@pytest.mark.parametrize(
    "thumbnails",
    [None, {}, {"base": None}, {"base": {"lqip": "abc"}}, {"base": {"rect_medium": None}}],
)
def test_element_thumbnail_absent_at_any_level(thumbnails: Any) -> None:
    raw = make_element()
    raw["data"]["properties"]["thumbnails"] = thumbnails
    assert Element.from_json(raw).thumbnail is None


@pytest.mark.parametrize("thumbnails", ["x.jpg", {"base": []}, {"base": {"rect_medium": 7}}])
def test_element_bad_thumbnail(thumbnails: Any) -> None:
    raw = make_element()
    raw["data"]["properties"]["thumbnails"] = thumbnails
    with pytest.raises(ResponseFormatError, match=r"data\.properties\.thumbnails"):
        Element.from_json(raw)


@pytest.mark.parametrize("label", [None, ""])
def test_element_label_defaults_to_decoded_basename(label: Any) -> None:
    raw = make_element()
    raw["data"]["common"]["label"] = label
    raw["data"]["properties"]["url"] = (
        "https://s3.example.org/elements/2025/10/30/stevens_hoboken_2025-10-30_11%3A23%3A00Z.jpg"
        "?versionId=3"
    )
    element = Element.from_json(raw)
    assert element.label == "stevens_hoboken_2025-10-30_11:23:00Z.jpg"
    assert element.filename == element.label


def test_element_label_without_any_file_name() -> None:
    raw = make_element()
    del raw["data"]["common"]["label"]
    raw["data"]["properties"]["url"] = "https://s3.example.org/elements/"
    with pytest.raises(ResponseFormatError, match=r"data\.common\.label"):
        Element.from_json(raw)


@pytest.mark.parametrize(
    ("path", "field"),
    [
        (("uuid",), "uuid"),
        (("data",), "data"),
        (("data", "extents"), "data.extents"),
        (("data", "extents", "temporal"), "data.extents.temporal"),
        (("data", "extents", "temporal", "min"), "data.extents.temporal.min"),
        (("data", "properties"), "data.properties"),
        (("data", "properties", "url"), "data.properties.url"),
    ],
)
def test_element_missing_required_field(path: tuple[str, ...], field: str) -> None:
    raw = make_element()
    set_at(raw, path, delete=True)
    with pytest.raises(ResponseFormatError) as info:
        Element.from_json(raw, where="results[7]")
    assert f"'results[7].{field}'" in str(info.value)


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("uuid",), 17, "uuid"),
        (("uuid",), "", "uuid"),
        (("data",), ["x"], "data"),
        (("data", "properties"), "url", "data.properties"),
        (("data", "properties", "url"), 12, "data.properties.url"),
        (("data", "properties", "url"), {"href": "x"}, "data.properties.url"),
        (("data", "extents", "temporal"), [], "data.extents.temporal"),
        (("data", "extents", "temporal", "min"), 1726610248, "data.extents.temporal.min"),
        (("data", "extents", "temporal", "min"), "NaT", "data.extents.temporal.min"),
        (("data", "extents", "temporal", "min"), "17 Sept 2025", "data.extents.temporal.min"),
        (("data", "extents", "temporal", "max"), "later", "data.extents.temporal.max"),
        (("data", "common"), "label", "data.common"),
        (("data", "common", "label"), 5, "data.common.label"),
    ],
)
def test_element_wrong_type(path: tuple[str, ...], value: Any, field: str) -> None:
    raw = make_element()
    set_at(raw, path, value)
    with pytest.raises(ResponseFormatError) as info:
        Element.from_json(raw)
    assert f"'{field}'" in str(info.value)


@pytest.mark.parametrize("payload", [None, [], "element", 5])
def test_element_payload_not_an_object(payload: Any) -> None:
    with pytest.raises(ResponseFormatError):
        Element.from_json(payload)



# -- pages -----------------------------------------------------------------------

NEXT = "https://app.webcoos.org/webcoos/api/v1/elements/?page=2&page_size=2&service=x"
PREVIOUS = "https://app.webcoos.org/webcoos/api/v1/elements/?page=1&page_size=2&service=x"


def test_page_nine_field_block() -> None:
    results = [make_element(), make_element()]
    payload = {
        "results": results,
        "pagination": {
            "count": 16,
            "page": 2,
            "total_pages": 8,
            "start_index": 3,
            "end_index": 4,
            "next": NEXT,
            "previous": PREVIOUS,
            "next_page": 3,
            "previous_page": 1,
        },
    }
    page = Page.from_json(payload)
    assert page == Page(results, 16, 2, 8, 3, 4, NEXT, PREVIOUS)
    assert page.results is results  # raw, left for the caller to parse


def test_page_four_field_block() -> None:
    payload = {
        "results": [make_element()],
        "pagination": {"count": 412, "start_index": 1, "end_index": 100, "next": NEXT},
    }
    page = Page.from_json(payload)
    assert (page.count, page.start_index, page.end_index, page.next) == (412, 1, 100, NEXT)
    assert (page.page, page.total_pages, page.previous) == (None, None, None)


@pytest.mark.parametrize("block", [{}, {"pagination": None}])
def test_page_without_block(block: dict[str, Any]) -> None:
    page = Page.from_json({"results": [], **block})
    assert page == Page([], None, None, None, None, None, None, None)


def test_page_drf_top_level() -> None:
    page = Page.from_json({"count": "3", "next": NEXT, "previous": None, "results": [1, 2]})
    assert (page.count, page.next, page.previous, page.results) == (3, NEXT, None, [1, 2])
    assert page.start_index is None


def test_page_last_page_empty_next_is_none() -> None:
    page = Page.from_json({"results": [], "pagination": {"count": 0, "next": "", "previous": None}})
    assert page.count == 0 and page.next is None


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"pagination": {"count": 1}}, "results"),
        ({"results": {"a": 1}}, "results"),
        ({"results": None}, "results"),
        ({"results": [], "pagination": [1]}, "pagination"),
        ({"results": [], "pagination": {"count": "lots"}}, "pagination.count"),
        ({"results": [], "pagination": {"next": 2}}, "pagination.next"),
    ],
)
def test_page_wrong_shape(payload: dict[str, Any], field: str) -> None:
    with pytest.raises(ResponseFormatError, match=f"'{field}'"):
        Page.from_json(payload)


@pytest.mark.parametrize("payload", [[], "page", None])
def test_page_payload_not_an_object(payload: Any) -> None:
    with pytest.raises(ResponseFormatError):
        Page.from_json(payload)


@pytest.mark.parametrize("url", ["ftp://s3.example/x.jpg", "file:///etc/passwd", "x.jpg",
                                 "//host/x.jpg"])
def test_element_urls_other_than_http_are_malformed(url: str) -> None:
    element = make_element()
    set_at(element, ("data", "properties", "url"), url)
    with pytest.raises(ResponseFormatError, match=r"an http\(s\) URL"):
        Element.from_json(element)


@pytest.mark.parametrize("change", [(), (("data", "properties", "thumbnails"), None),
                                    (("data", "properties", "size"), "12"),
                                    (("data", "common"), None), (("data", "extents"), None),
                                    (("data",), "oops")])
def test_essentials_parse_as_the_whole_object(change) -> None:
    """What the cache keeps of a record reads exactly as the record (or fails alike)."""
    element = make_element()
    if change:
        set_at(element, *change)

    def read(obj):
        try:
            return Element.from_json(obj)
        except ResponseFormatError as exc:
            return str(exc)

    kept = Element.essentials(element)
    assert read(kept) == read(element)
    assert len(json.dumps(kept)) <= len(json.dumps(element))
