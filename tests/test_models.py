"""Parsing of WebCOOS API payloads into typed records (intake_webcoos.api.models)."""

from __future__ import annotations

import copy
import dataclasses
import json
import pickle
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from intake_webcoos.api import (
    Asset,
    Element,
    ElementStats,
    InventoryBin,
    Page,
    ResponseFormatError,
    Service,
    parse_api_time,
    parse_inventory,
)

DATA = Path(__file__).parent / "data"


def load(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


RAW_ASSETS = load("assets_results_excerpt_prod_2025-09.json")
RAW_STAGE_SERVICES = load("services_stage_2022_currituck_sailfish_from_storybook.json")
INVENTORY_7COL = load("inventory_northinlet_stills_7col.json")
INVENTORY_HAMPTON_5COL = load("inventory_currituck_hampton_inn_stills_5col.json")
INVENTORY_SAILFISH_5COL = load("inventory_currituck_sailfish_video_5col.json")

STILLS_URL = (
    "https://s3.us-west-2.amazonaws.com/webcoos/media/sources/webcoos/groups/uh/assets/"
    "waikiki_sheraton/feeds/raw-video-data/products/one-minute-stills/elements/2025/09/17/"
)


def make_element(**temporal: Any) -> dict[str, Any]:
    """An element as the API is known to send it (notes §4.5)."""
    name = "waikiki_sheraton-2025-09-17-215728Z.jpg"
    return {
        "uuid": "7a0c3d4e-1b2f-4c5d-8e9f-0a1b2c3d4e5f",
        "data": {
            "kind": "Element",
            "type": "S3Element",
            "uuid": "7a0c3d4e-1b2f-4c5d-8e9f-0a1b2c3d4e5f",
            "common": {
                "slug": "waikiki_sheraton-2025-09-17-215728z-jpg",
                "label": name,
                "comments": "",
                "description": "",
                "access_level": "public",
                "statistics_level": "visible",
            },
            "system": "webcoos.s3element",
            "version": "1.0.0",
            "uuid_slug": "549iVqZg",
            "uuid_type": "element",
            "extents": {"temporal": temporal or {"min": "2025-09-17T21:57:28Z"}},
            "properties": {
                "url": STILLS_URL + name,
                "size": 261433,
                "duration": None,
                "thumbnails": {
                    "base": {
                        "lqip": "/9j/4AAQSkZJRg",
                        "rect_small": STILLS_URL + "thumb-200x100.jpg",
                        "rect_medium": STILLS_URL + "thumb-400x200.jpg",
                    }
                },
            },
        },
    }


def raw_asset(slug: str) -> dict[str, Any]:
    return copy.deepcopy(next(a for a in RAW_ASSETS if a["data"]["common"]["slug"] == slug))


@pytest.fixture(scope="module")
def assets() -> dict[str, Asset]:
    parsed = [Asset.from_json(a, where=f"[{i}]") for i, a in enumerate(RAW_ASSETS)]
    return {a.slug: a for a in parsed}


# ------------------------------------------------------------ parse_api_time


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


# ------------------------------------------------------------ real assets


def test_all_real_assets_parse_every_node(assets: dict[str, Asset]) -> None:
    assert list(assets) == ["buxtoncoastalcam", "waikiki_sheraton", "walton_lighthouse"]
    for raw in RAW_ASSETS:
        asset = assets[raw["data"]["common"]["slug"]]
        assert asset.uuid == raw["uuid"]
        assert [f.uuid for f in asset.feeds] == [f["uuid"] for f in raw["feeds"]]
        raw_products = [p for f in raw["feeds"] for p in f["products"]]
        assert [p.uuid for p in asset.products] == [p["uuid"] for p in raw_products]
        for product, raw_product in zip(asset.products, raw_products, strict=True):
            assert product.slug == raw_product["data"]["common"]["slug"]
            assert [s.uuid for s in product.services] == [
                s["uuid"] for s in raw_product["services"]
            ]
            for service, raw_service in zip(product.services, raw_product["services"], strict=True):
                assert service.slug == raw_service["data"]["common"]["slug"]
                assert service.stats.count == raw_service["elements"]["count"]
                assert service.stats.size == raw_service["elements"]["size"]


def test_waikiki(assets: dict[str, Asset]) -> None:
    w = assets["waikiki_sheraton"]
    assert w.label == "Beachfront, Waikiki, HI"
    assert (w.latitude, w.longitude) == (21.276763, -157.83024)
    assert w.timezone == "US/Hawaii"
    assert (w.group, w.source) == ("uh", "webcoos")
    assert w.disposition == "up" and not w.archived
    assert w.description == ""  # blanked in the test data, but read
    assert [f.slug for f in w.feeds] == ["raw-video-data"]
    assert [p.slug for p in w.products] == ["one-minute-stills", "video-archive", "video-streams"]

    assert set(w.thumbnails) == {
        "rect_large",
        "rect_small",
        "rect_medium",
        "square_large",
        "square_small",
        "square_medium",
    }
    assert w.thumbnails["rect_medium"].endswith(
        "waikiki_sheraton_highlight-crop-c0-5__0-5-400x200-70.jpg"
    )

    stills = w.product("one-minute-stills")
    assert stills is not None
    (service,) = stills.s3_services
    assert service.slug == "waikiki_sheraton-one-minute-stills-s3"
    assert service.label == "image-gallery"
    assert service.is_s3 and service.type == "S3Service"
    assert service.bucket == "webcoos" and service.region == "us-west-2"
    assert service.base_url == "https://s3.us-west-2.amazonaws.com"
    assert service.url == service.base_url + "/webcoos/" + service.path
    assert (service.frequency_type, service.frequency_value) == ("periodic", "PT1M")
    assert service.stats == ElementStats(
        count=815553,
        size=212756168779,
        first_starting=utc(2022, 6, 20, 18, 35, 1),
        last_starting=utc(2025, 9, 17, 21, 57, 28),
        first_ending=None,
        last_ending=None,
    )
    assert w.product("video-archive").services[0].frequency_value == "PT10M"

    streams = w.product("video-streams")
    assert streams.s3_services == ()
    (stream,) = streams.services
    assert stream.type == "StreamingService" and not stream.is_s3
    assert stream.stats == ElementStats(0, None, None, None, None, None)
    assert (stream.url, stream.path, stream.bucket, stream.region, stream.base_url) == (None,) * 5
    assert (stream.frequency_type, stream.frequency_value) == ("static", None)
    assert [c["protocol"] for c in stream.connections] == ["dash", "hls"]
    assert stream.connections[1]["url"].endswith("/hls.m3u8")

    assert w.product("time-lapse") is None


def test_walton_lighthouse_without_wedge_and_with_result_products(assets: dict[str, Asset]) -> None:
    assert "wedge" not in raw_asset("walton_lighthouse")["data"]["properties"]
    w = assets["walton_lighthouse"]
    assert (w.latitude, w.longitude) == (36.960695, -122.0022)
    assert [p.slug for p in w.products] == [
        "annotated-image",
        "object-detection-results",
        "one-minute-stills",
        "rip-detection-results",
        "video-archive",
        "video-streams",
    ]
    rip = w.product("rip-detection-results").services[0].stats
    assert rip.first_ending == rip.first_starting == utc(2024, 5, 31, 21, 28, 38)
    assert rip.last_ending == rip.last_starting == utc(2025, 9, 13, 0, 29, 15)
    objects = w.product("object-detection-results").services[0].stats
    assert objects.first_ending == utc(2024, 6, 19, 20, 5, 25)
    assert w.product("one-minute-stills").services[0].stats.first_ending is None
    # newer services: frequency present but without a value
    assert w.product("one-minute-stills").services[0].frequency_type == "periodic"
    assert w.product("one-minute-stills").services[0].frequency_value is None


def test_buxton_is_archived_surfline(assets: dict[str, Asset]) -> None:
    b = assets["buxtoncoastalcam"]
    assert b.archived and b.disposition == "archived"
    (service,) = b.product("video-archive").s3_services
    assert (service.bucket, service.region, service.path) == ("surfline", "", "/")
    assert service.stats.size == 10053163165101  # > 2**32, stays an exact int
    assert service.stats.last_starting == utc(2021, 1, 4, 1, 50)


def test_stage_2022_services_without_frequency_or_access_level() -> None:
    stills, video, stream = (
        Service.from_json(s, where=f"[{i}]") for i, s in enumerate(RAW_STAGE_SERVICES)
    )
    assert "frequency" not in RAW_STAGE_SERVICES[0]["data"]["properties"]
    assert (stills.frequency_type, stills.frequency_value) == (None, None)
    assert stills.slug == "currituck_sailfish-image-stills-s3"
    assert stills.url == RAW_STAGE_SERVICES[0]["data"]["properties"]["url"]  # "…" kept as is
    assert (stills.stats.count, stills.stats.size) == (106, 23533771)
    assert stills.stats.first_starting == utc(2022, 2, 3, 0, 4, 56)
    assert video.is_s3 and (video.stats.count, video.stats.size) == (14, 881965275)
    assert stream.slug == "currituck-streams" and not stream.is_s3
    assert stream.stats.count == 0 and stream.stats.size is None
    assert [c["name"] for c in stream.connections] == ["Dash", "HLS"]


def test_records_are_frozen_slotted_and_pickle(assets: dict[str, Asset]) -> None:
    w = assets["waikiki_sheraton"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        w.slug = "other"  # type: ignore[misc]
    assert not hasattr(w, "__dict__")
    assert pickle.loads(pickle.dumps(w)) == w
    element = Element.from_json(make_element())
    assert pickle.loads(pickle.dumps(element)) == element


def test_connections_do_not_alias_the_payload() -> None:
    raw = raw_asset("waikiki_sheraton")
    stream = Asset.from_json(raw).product("video-streams").services[0]
    raw_stream = raw["feeds"][0]["products"][2]["services"][0]
    raw_stream["data"]["properties"]["connections"][0]["url"] = "x"
    assert stream.connections[0]["url"].endswith("manifest.mpd")


# ------------------------------------------------------------ tolerant assets


def test_asset_minimal_envelope_defaults() -> None:
    asset = Asset.from_json({"uuid": "u-1", "data": {"common": {"slug": "cam"}}})
    assert asset.label == "cam"
    assert asset.feeds == () and asset.products == ()
    assert (asset.latitude, asset.longitude, asset.timezone, asset.description) == (None,) * 4
    assert asset.disposition is None and not asset.archived
    assert dict(asset.thumbnails) == {}


def test_asset_null_and_unknown_fields_tolerated() -> None:
    raw = raw_asset("waikiki_sheraton")
    props = raw["data"]["properties"]
    props["thumbnails"] = {"base": None}
    props["location"] = None
    props["state_or_territory"] = "HI"  # newer API only
    raw["disposition"] = None
    raw["feeds"][0]["products"][0]["services"][0]["elements"] = None
    raw["brand_new_block"] = {"anything": [1, 2, 3]}
    asset = Asset.from_json(raw)
    assert dict(asset.thumbnails) == {}
    assert asset.latitude is None and asset.longitude is None
    assert asset.disposition is None
    assert asset.products[0].services[0].stats == ElementStats(0, None, None, None, None, None)


def test_service_label_defaults_to_slug() -> None:
    raw = copy.deepcopy(RAW_STAGE_SERVICES[0])
    del raw["data"]["common"]["label"]
    assert Service.from_json(raw).label == "currituck_sailfish-image-stills-s3"


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda a: a["data"]["common"].__setitem__("slug", 42), "data.common.slug"),
        (lambda a: a["data"]["common"].pop("slug"), "data.common.slug"),
        (lambda a: a.pop("uuid"), "uuid"),
        (lambda a: a.__setitem__("data", []), "data"),
        (lambda a: a.__setitem__("feeds", {"raw-video-data": {}}), "feeds"),
        (
            lambda a: a["feeds"][0]["products"][1].__setitem__(
                "services", [["not", "a", "service"]]
            ),
            "feeds[0].products[1].services[0]",
        ),
        (
            lambda a: a["feeds"][0]["products"][0]["services"][0]["elements"].__setitem__(
                "first_starting", "soon"
            ),
            "feeds[0].products[0].services[0].elements.first_starting",
        ),
        (
            lambda a: a["feeds"][0]["products"][0]["services"][0]["elements"].__setitem__(
                "count", "many"
            ),
            "feeds[0].products[0].services[0].elements.count",
        ),
        (
            lambda a: a["data"]["properties"]["location"].__setitem__("coordinates", [1.0]),
            "data.properties.location.coordinates",
        ),
        (
            lambda a: a["data"]["properties"]["location"].__setitem__("coordinates", ["w", 2]),
            "data.properties.location.coordinates[0]",
        ),
        (lambda a: a["data"]["properties"].__setitem__("timezone", 10), "data.properties.timezone"),
    ],
)
def test_asset_wrong_shape_names_the_field(mutate: Any, field: str) -> None:
    raw = raw_asset("waikiki_sheraton")
    mutate(raw)
    with pytest.raises(ResponseFormatError) as info:
        Asset.from_json(raw, where="results[4]")
    assert f"'results[4].{field}'" in str(info.value)


@pytest.mark.parametrize("payload", [[], "waikiki_sheraton", None, 3])
def test_asset_payload_not_an_object(payload: Any) -> None:
    with pytest.raises(ResponseFormatError):
        Asset.from_json(payload)


# ------------------------------------------------------------ elements


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
    parent = raw
    for key in path[:-1]:
        parent = parent[key]
    del parent[path[-1]]
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
    parent = raw
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    with pytest.raises(ResponseFormatError) as info:
        Element.from_json(raw)
    assert f"'{field}'" in str(info.value)


@pytest.mark.parametrize("payload", [None, [], "element", 5])
def test_element_payload_not_an_object(payload: Any) -> None:
    with pytest.raises(ResponseFormatError):
        Element.from_json(payload)


# ------------------------------------------------------------ inventory


def test_inventory_7col() -> None:
    inventory = parse_inventory(INVENTORY_7COL)
    assert list(inventory) == ["daily", "weekly", "monthly"]
    assert inventory["daily"] == (
        InventoryBin(
            starting=utc(2022, 6, 2),
            ending=utc(2022, 6, 3),
            has_data=True,
            count=3,
            size=1453882,
            data_starting=utc(2022, 6, 2, 18, 37, 59),
            data_ending=utc(2022, 6, 2, 18, 39, 59),
        ),
        InventoryBin(
            starting=utc(2022, 6, 3),
            ending=utc(2022, 6, 4),
            has_data=True,
            count=4,
            size=1061838,
            data_starting=utc(2022, 6, 3, 14, 50, 30),
            data_ending=utc(2022, 6, 3, 16, 28, 32),
        ),
    )
    (week,) = inventory["weekly"]
    assert week.starting == utc(2022, 5, 29) and week.starting.weekday() == 6  # Sunday
    assert (week.count, week.size) == (7, 2515720)
    (month,) = inventory["monthly"]
    assert (month.starting, month.ending) == (utc(2022, 6, 1), utc(2022, 6, 30))
    assert month.data_ending == utc(2022, 6, 3, 16, 28, 32)


def test_inventory_5col_hampton_inn() -> None:
    inventory = parse_inventory({"results": INVENTORY_HAMPTON_5COL})
    daily = inventory["daily"]
    assert len(daily) == 36
    assert all(b.data_starting is None and b.data_ending is None for b in daily)
    assert all(type(b.has_data) is bool for b in daily)
    assert [b.count for b in daily if b.has_data] == [332, 1308]
    assert all(b.count == 0 and b.size == 0 for b in daily if not b.has_data)
    assert daily[0].has_data is True and daily[1].has_data is False
    assert daily[-1] == InventoryBin(utc(2022, 5, 8), utc(2022, 5, 9), True, 1308, 417307781)
    assert sum(b.count for b in inventory["weekly"]) == 1640
    assert [b.ending for b in inventory["monthly"]] == [utc(2022, 4, 30), utc(2022, 5, 31)]


def test_inventory_5col_sailfish_matches_service_stats() -> None:
    # the 2022 stage service stats and this inventory describe the same video archive
    daily = parse_inventory(INVENTORY_SAILFISH_5COL)["daily"]
    video = Service.from_json(RAW_STAGE_SERVICES[1])
    assert video.uuid == "1d130de0-f99b-436d-b96a-c3929904b335"
    assert sum(b.count for b in daily) == video.stats.count == 14
    assert sum(b.size for b in daily) == video.stats.size
    assert daily[0].starting == utc(2022, 2, 3)
    assert daily[-1].starting.date() == video.stats.last_starting.date()
    assert sum(b.has_data for b in daily) == 2


def _northinlet_daily_with(*rows: list[Any]) -> list[dict[str, Any]]:
    daily = copy.deepcopy(INVENTORY_7COL[0])
    daily["values"].extend(rows)
    return [daily]


def test_inventory_nat_and_blank_bounds_are_none() -> None:
    rows = [
        ["2022-06-04 00:00:00+00:00", 0, "2022-06-05 00:00:00+00:00", 0, 0, "NaT", "NaT"],
        ["2022-06-05 00:00:00+00:00", 0, "2022-06-06 00:00:00+00:00", 0, 0, None, ""],
    ]
    daily = parse_inventory(_northinlet_daily_with(*rows))["daily"]
    assert len(daily) == 4
    for empty in daily[2:]:
        assert empty.has_data is False
        assert empty.data_starting is None and empty.data_ending is None
    assert daily[1].data_starting is not None


@pytest.mark.parametrize(
    ("flag", "expected"),
    [(1, True), (0, False), (True, True), (False, False), ("true", True), ("0", False)],
)
def test_inventory_has_data_flags(flag: Any, expected: bool) -> None:
    row = ["2022-06-04 00:00:00+00:00", flag, "2022-06-05 00:00:00+00:00", 1, 10, "NaT", "NaT"]
    assert parse_inventory(_northinlet_daily_with(row))["daily"][-1].has_data is expected


def test_inventory_iso_t_and_z_times() -> None:
    row = ["2022-06-04T00:00:00Z", 1, "2022-06-05T00:00:00Z", 1, 10, "2022-06-04T12:00:00Z", "NaT"]
    last = parse_inventory(_northinlet_daily_with(row))["daily"][-1]
    assert (last.starting, last.ending, last.data_starting) == (
        utc(2022, 6, 4),
        utc(2022, 6, 5),
        utc(2022, 6, 4, 12),
    )


def test_inventory_columns_found_by_name_not_position() -> None:
    original = parse_inventory(INVENTORY_7COL)
    shuffled = copy.deepcopy(INVENTORY_7COL)
    order = [6, 4, 2, 0, 1, 3, 5]
    for result in shuffled:
        result["meta"]["fields"] = [result["meta"]["fields"][i] for i in order]
        result["values"] = [[row[i] for i in order] for row in result["values"]]
    assert parse_inventory(shuffled) == original


@pytest.mark.parametrize("payload", [[], {"results": []}, {"results": None}])
def test_inventory_empty_results(payload: Any) -> None:
    assert parse_inventory(payload) == {}


def test_inventory_empty_values() -> None:
    empty = copy.deepcopy(INVENTORY_7COL)
    empty[0]["values"] = []
    del empty[1]["values"]
    inventory = parse_inventory(empty)
    assert inventory["daily"] == () and inventory["weekly"] == ()
    assert len(inventory["monthly"]) == 1


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda inv: inv[0]["values"][0].pop(), "[0].values[0]"),
        (lambda inv: inv[0]["meta"]["fields"].pop(2), "[0].values[0]"),  # columns no longer fit
        (lambda inv: inv[0].pop("meta"), "[0].meta"),
        (lambda inv: inv[0].__setitem__("name", None), "[0].name"),
        (lambda inv: inv[1].__setitem__("name", "daily"), "[1].name"),
        (lambda inv: inv[0]["values"][1].__setitem__(3, "four"), "[0].values[1].count"),
        (lambda inv: inv[0]["values"][1].__setitem__(1, 2), "[0].values[1].has_data"),
        (lambda inv: inv[0]["values"][1].__setitem__(0, "NaT"), "[0].values[1].starting"),
        (lambda inv: inv[0]["values"][1].__setitem__(5, "dawn"), "[0].values[1].data_starting"),
        (lambda inv: inv[0]["values"].__setitem__(0, "row"), "[0].values[0]"),
        (lambda inv: inv.__setitem__(2, "monthly"), "[2]"),
    ],
)
def test_inventory_wrong_shape_names_the_field(mutate: Any, field: str) -> None:
    inventory = copy.deepcopy(INVENTORY_7COL)
    mutate(inventory)
    with pytest.raises(ResponseFormatError) as info:
        parse_inventory(inventory)
    assert f"'{field}'" in str(info.value)


def test_inventory_missing_required_column_is_named() -> None:
    inventory = copy.deepcopy(INVENTORY_HAMPTON_5COL)
    del inventory[0]["meta"]["fields"][2]  # "ending"
    inventory[0]["values"] = [row[:2] + row[3:] for row in inventory[0]["values"]]
    with pytest.raises(ResponseFormatError, match=r"'\[0\]\.values\[0\]\.ending'"):
        parse_inventory(inventory)


@pytest.mark.parametrize("payload", ["daily", 3, None, {"results": {"daily": []}}])
def test_inventory_payload_of_wrong_shape(payload: Any) -> None:
    with pytest.raises(ResponseFormatError):
        parse_inventory(payload)


# ------------------------------------------------------------ pages

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


# ------------------------------------------------------------ random mutations


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

SAMPLES = {
    "element": (
        make_element(min="2025-09-17T17:57:28-04:00", max="2025-09-17T18:07:28-04:00"),
        Element.from_json,
    ),
    "asset": (raw_asset("waikiki_sheraton"), Asset.from_json),
    "service": (RAW_STAGE_SERVICES[2], Service.from_json),
    "inventory": (INVENTORY_7COL, parse_inventory),
    "page": (
        {"results": [make_element()], "pagination": {"count": 1, "start_index": 1, "next": None}},
        Page.from_json,
    ),
}


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), kind=st.sampled_from(sorted(SAMPLES)))
def test_random_mutations_parse_or_raise_response_format_error(
    data: st.DataObject, kind: str
) -> None:
    sample, parse = SAMPLES[kind]
    mutated = copy.deepcopy(sample)
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
