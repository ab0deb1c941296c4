"""The camera catalogue records (api/models.py): assets, feeds, products, services.

Parsed from real payloads of the API (``tests/data``) and from tolerant variants of
them; a payload of the wrong shape names the field that is wrong.
"""

from __future__ import annotations

import copy
import dataclasses
import pickle
from typing import Any

import pytest

from intake_webcoos.api.elements import Element
from intake_webcoos.api.models import Asset, ElementStats, Service
from intake_webcoos.errors import ResponseFormatError

from .helpers import RAW_ASSETS, RAW_STAGE_SERVICES, make_element, raw_asset, utc


@pytest.fixture(scope="module")
def assets() -> dict[str, Asset]:
    parsed = [Asset.from_json(a, where=f"[{i}]") for i, a in enumerate(RAW_ASSETS)]
    return {a.slug: a for a in parsed}



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


def test_real_wedges_are_the_polygons_rings(assets: dict[str, Asset]) -> None:
    for slug in ("buxtoncoastalcam", "waikiki_sheraton"):
        ring = raw_asset(slug)["data"]["properties"]["wedge"]["coordinates"][0]
        wedge = assets[slug].wedge
        assert wedge == tuple((lon, lat) for lon, lat in ring)
        assert all(type(lon) is float and type(lat) is float for lon, lat in wedge)
    buxton = assets["buxtoncoastalcam"]
    # The cone starts at the camera and closes there.
    assert buxton.wedge[0] == buxton.wedge[-1] == (buxton.longitude, buxton.latitude)
    assert len(buxton.wedge) == 14
    assert assets["walton_lighthouse"].wedge is None  # the real payload has none


def test_state_and_region_absent_from_the_real_2025_payloads(assets: dict[str, Asset]) -> None:
    for asset in assets.values():
        assert (asset.state, asset.region) == (None, None)


def test_state_and_region_of_newer_payloads() -> None:
    raw = raw_asset("waikiki_sheraton")
    raw["data"]["properties"].update(state_or_territory="HI", region="PACIOOS")
    asset = Asset.from_json(raw)
    assert (asset.state, asset.region) == ("HI", "PACIOOS")
    raw["data"]["properties"].update(state_or_territory="", region=None)
    assert (Asset.from_json(raw).state, Asset.from_json(raw).region) == (None, None)


@pytest.mark.parametrize("wedge", [None, {}, {"type": "Polygon", "coordinates": []},
                                   {"type": "Polygon", "coordinates": None}])
def test_an_empty_or_null_wedge_is_none(wedge: Any) -> None:
    raw = raw_asset("waikiki_sheraton")
    raw["data"]["properties"]["wedge"] = wedge
    assert Asset.from_json(raw).wedge is None


def test_wedge_vertices_may_be_integers_or_numeric_strings_and_carry_an_altitude() -> None:
    raw = raw_asset("waikiki_sheraton")
    raw["data"]["properties"]["wedge"] = {
        "coordinates": [[[0, 0], ["1.5", 0, 12.0], [1, 1], [0, 0]], [[9, 9], [9, 8], [8, 9]]]}
    # No "type" is taken as a Polygon; only the exterior ring is kept.
    assert Asset.from_json(raw).wedge == ((0.0, 0.0), (1.5, 0.0), (1.0, 1.0), (0.0, 0.0))


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
    assert (asset.state, asset.region, asset.wedge) == (None, None, None)


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
        (lambda a: a["data"]["properties"].__setitem__("state_or_territory", 15),
         "data.properties.state_or_territory"),
        (lambda a: a["data"]["properties"].__setitem__("region", ["PACIOOS"]),
         "data.properties.region"),
        (lambda a: a["data"]["properties"].__setitem__("wedge", "cone"), "data.properties.wedge"),
        (lambda a: a["data"]["properties"]["wedge"].__setitem__("type", "Point"),
         "data.properties.wedge.type"),
        (lambda a: a["data"]["properties"]["wedge"].__setitem__("coordinates", {"ring": 1}),
         "data.properties.wedge.coordinates"),
        (lambda a: a["data"]["properties"]["wedge"]["coordinates"].__setitem__(0, 7),
         "data.properties.wedge.coordinates[0]"),
        (lambda a: a["data"]["properties"]["wedge"]["coordinates"].__setitem__(
            0, [[0.0, 0.0], [1.0, 1.0]]), "data.properties.wedge.coordinates[0]"),
        (lambda a: a["data"]["properties"]["wedge"]["coordinates"][0].__setitem__(2, [1.0]),
         "data.properties.wedge.coordinates[0][2]"),
        (lambda a: a["data"]["properties"]["wedge"]["coordinates"][0].__setitem__(2, "x"),
         "data.properties.wedge.coordinates[0][2]"),
        (lambda a: a["data"]["properties"]["wedge"]["coordinates"][0].__setitem__(
            2, [None, 21.0]), "data.properties.wedge.coordinates[0][2]"),
        (lambda a: a["data"]["properties"]["wedge"]["coordinates"][0].__setitem__(
            3, [-157.8, "north"]), "data.properties.wedge.coordinates[0][3][1]"),
        (lambda a: a["data"]["properties"]["wedge"]["coordinates"][0].__setitem__(
            3, [float("inf"), 21.0]), "data.properties.wedge.coordinates[0][3][0]"),
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
