"""The cameras table (api/tables.py ``cameras_frame``, ``Client.cameras``) and api/geo.py.

Checked against the stand-in's own catalogue and payloads: one row per camera,
positions, states and regions, the span of the data from the service
statistics, ``near=`` distances and order, ``within=`` boxes, and bad points and
boxes refused before any request.
"""

from __future__ import annotations

import math
from datetime import datetime

import pandas as pd
import pytest

from intake_webcoos import Client, InvalidLocationError
from intake_webcoos.api.geo import EARTH_RADIUS_KM, as_box, as_point, box_around, in_box
from intake_webcoos.api.models import Asset
from intake_webcoos.api.sync import mirrored_methods
from intake_webcoos.api.tables import CAMERA_COLUMNS, cameras_frame
from intake_webcoos.intake.catalog import build_catalog
from intake_webcoos.server.cameras import CAMERAS

from .helpers import TOKEN, http, raw_asset

SPECS = {camera.slug: camera for camera in CAMERAS}
#: A metre-exact distance by hand: a degree of a great circle on the 6371 km sphere.
KM_PER_DEGREE = 6371.0 * math.pi / 180  # 111.19492664455873


def _payload_span(standin, slug: str) -> tuple[datetime | None, datetime | None]:
    """The earliest first and latest last start of a camera's S3 services, from the raw JSON."""
    asset = http(f"{standin.api_url}/assets/{slug}/", TOKEN).json()
    stats = [service["elements"] for feed in asset["feeds"] for product in feed["products"]
             for service in product["services"] if service["data"]["type"] == "S3Service"]
    firsts = [datetime.fromisoformat(s["first_starting"]) for s in stats if s["first_starting"]]
    lasts = [datetime.fromisoformat(s["last_starting"]) for s in stats if s["last_starting"]]
    return (min(firsts) if firsts else None), (max(lasts) if lasts else None)


# -- the table ------------------------------------------------------------------------------
def test_one_row_per_camera_with_the_documented_columns(cameras_table):
    assert list(cameras_table["slug"]) == [camera.slug for camera in CAMERAS]  # the API's order
    assert dict(cameras_table.dtypes) == CAMERA_COLUMNS  # strings: pandas' default dtype
    assert isinstance(cameras_table.index, pd.RangeIndex)


def test_positions_names_and_places_are_the_stand_ins(cameras_table):
    for row in cameras_table.itertuples():
        spec = SPECS[row.slug]
        assert (row.label, row.latitude, row.longitude) == (spec.label, spec.latitude,
                                                            spec.longitude)
        assert (row.timezone, row.disposition) == (spec.timezone, spec.disposition)
        for column, expected in (("state", spec.state), ("region", spec.region)):
            value = getattr(row, column)
            assert pd.isna(value) if expected is None else value == expected, (row.slug, column)
    waikiki = cameras_table.set_index("slug").loc["waikiki_sheraton"]
    assert (waikiki["state"], waikiki["region"]) == ("HI", "PACIOOS")
    # The stand-in leaves madeira's out, as older payloads do: the table says so.
    madeira = cameras_table.set_index("slug").loc["madeira_beach_camera_1"]
    assert pd.isna(madeira["state"]) and pd.isna(madeira["region"])


def test_products_are_those_with_files(cameras_table):
    products = dict(zip(cameras_table["slug"], cameras_table["products"], strict=True))
    assert products["waikiki_sheraton"] == "one-minute-stills,video-archive"  # no video-streams
    # westerly's video-archive holds a stream and an S3 service: it has files.
    assert products["westerly"] == "one-minute-stills,video-archive"
    assert products["stevens_hoboken"] == "10-minute-stills"


def test_first_and_last_are_the_service_statistics(standin, cameras_table):
    for row in cameras_table.itertuples():
        first, last = _payload_span(standin, row.slug)
        assert (row.first, row.last) == (pd.Timestamp(first), pd.Timestamp(last)), row.slug
    buxton = cameras_table.set_index("slug").loc["buxtoncoastalcam"]
    assert buxton["last"] == pd.Timestamp("2021-01-03T23:54:53Z")  # archived in 2021


def test_a_camera_without_elements_has_no_span_and_one_without_position_no_distance():
    raw = raw_asset("waikiki_sheraton")
    for product in raw["feeds"][0]["products"]:
        for service in product["services"]:
            service["elements"] = None
    raw["data"]["properties"]["location"] = None
    frame = cameras_frame([Asset.from_json(raw)], near=(0, 0))
    assert pd.isna(frame.loc[0, "first"]) and pd.isna(frame.loc[0, "last"])
    assert math.isnan(frame.loc[0, "latitude"]) and math.isnan(frame.loc[0, "distance_km"])


def test_the_sync_client_has_cameras():
    assert "cameras" in mirrored_methods()
    assert Client.cameras.__doc__ and "distance_km" in Client.cameras.__doc__


# -- near= -----------------------------------------------------------------------------------
def test_near_sorts_by_great_circle_distance(standin_client, cameras_table):
    spec = SPECS["waikiki_sheraton"]
    nearby = standin_client.cameras(near=(spec.latitude, spec.longitude))
    assert list(nearby.columns) == [*CAMERA_COLUMNS, "distance_km"]
    assert nearby.loc[0, "slug"] == "waikiki_sheraton" and nearby.loc[0, "distance_km"] == 0.0
    assert nearby["distance_km"].is_monotonic_increasing
    assert sorted(nearby["slug"]) == sorted(cameras_table["slug"])
    assert isinstance(nearby.index, pd.RangeIndex)


def test_distances_match_hand_computed_ones(standin_client):
    spec = SPECS["waikiki_sheraton"]
    # One degree due north of a camera: along a meridian, exactly a degree of arc.
    north = standin_client.cameras(near=(spec.latitude + 1, spec.longitude)).set_index("slug")
    assert north.loc["waikiki_sheraton", "distance_km"] == pytest.approx(KM_PER_DEGREE, rel=1e-12)
    # Waikiki to Walton Lighthouse, by the spherical law of cosines (another formula).
    walton = SPECS["walton_lighthouse"]
    phi1, phi2 = math.radians(spec.latitude), math.radians(walton.latitude)
    dlon = math.radians(walton.longitude - spec.longitude)
    expected = EARTH_RADIUS_KM * math.acos(math.sin(phi1) * math.sin(phi2)
                                           + math.cos(phi1) * math.cos(phi2) * math.cos(dlon))
    got = standin_client.cameras(near=(spec.latitude, spec.longitude)).set_index("slug")
    assert got.loc["walton_lighthouse", "distance_km"] == pytest.approx(expected, rel=1e-9)
    assert 3850 < expected < 3870  # about 3,860 km across the Pacific


# -- within= -----------------------------------------------------------------------------------
def test_within_keeps_the_cameras_in_the_box(standin_client):
    california = standin_client.cameras(within=(-125, 35, -120, 39))
    assert list(california["slug"]) == ["walton_lighthouse", "tmmc_prls"]
    assert isinstance(california.index, pd.RangeIndex)
    empty = standin_client.cameras(within=(0, 0, 1, 1))
    assert empty.empty and list(empty.columns) == list(CAMERA_COLUMNS)


def test_a_box_includes_its_edges(standin_client):
    spec = SPECS["kasitsna_dock"]
    edge = standin_client.cameras(within=(spec.longitude, spec.latitude, spec.longitude + 1,
                                  spec.latitude + 1))
    assert list(edge["slug"]) == ["kasitsna_dock"]


def test_within_and_near_together(standin_client):
    east = standin_client.cameras(near=(40.7, -74.0), within=(-80, 30, -60, 45))
    assert list(east["slug"][:2]) == ["stevens_hoboken", "westerly"]
    assert set(east["slug"]) == {"stevens_hoboken", "westerly", "currituck_hampton_inn",
                                 "buxtoncoastalcam"}
    assert east["distance_km"].is_monotonic_increasing


def test_the_catalog_filters_by_the_same_box(standin, standin_client):
    catalog = build_catalog(standin.api_url, TOKEN, bbox=(-125, 35, -120, 39), groups=False,
                            client=standin_client)
    cameras = {name.split("/")[0] for name in catalog}
    assert cameras == set(standin_client.cameras(within=(-125, 35, -120, 39))["slug"])


# -- bad points and boxes ------------------------------------------------------------------------
BAD = {
    "near, one number": ("near", (21.3,), "2 numbers"),
    "near, three numbers": ("near", (21.3, -157.8, 0), "2 numbers"),
    "near, a string": ("near", "21.3,-157.8", "2 numbers"),
    "near, not numbers": ("near", ("a", "b"), "finite numbers"),
    "near, NaN": ("near", (math.nan, 0), "finite numbers"),
    "near, latitude beyond 90": ("near", (95, 0), "latitude 95 is outside -90 to 90"),
    "near, longitude beyond 180": ("near", (0, -181), "longitude -181 is outside -180 to 180"),
    "within, three numbers": ("within", (0, 0, 1), "4 numbers"),
    "within, lon_min above lon_max": ("within", (10, 0, 5, 1),
                                      "lon_min 10 is greater than lon_max 5"),
    "within, lat_min above lat_max": ("within", (0, 10, 1, 5),
                                      "lat_min 10 is greater than lat_max 5"),
    "within, longitude beyond 180": ("within", (-190, 0, 0, 1), "lon_min -190 is outside"),
    "within, latitude beyond 90": ("within", (0, -91, 1, 0), "lat_min -91 is outside"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_points_and_boxes_are_refused_before_any_request(standin, case):
    argument, value, message = BAD[case]
    client = Client(TOKEN, standin.api_url)
    standin.clear_requests()
    with pytest.raises(InvalidLocationError, match=message) as raised:
        client.cameras(**{argument: value})
    assert str(raised.value).startswith(argument)  # names the argument
    assert isinstance(raised.value, ValueError)
    assert standin.requests_to("api") == []


def test_a_bad_catalog_bbox_is_refused(standin, standin_client):
    with pytest.raises(InvalidLocationError, match="bbox: lon_min 10 is greater"):
        build_catalog(standin.api_url, TOKEN, bbox=(10, 0, 5, 1), client=standin_client)


# -- the geometry by itself --------------------------------------------------------------------
def test_points_and_boxes_are_checked_and_returned_as_floats():
    assert as_point((21, -157)) == (21.0, -157.0)
    assert as_point(None) is None and as_box(None) is None
    assert as_box([-1, -2, 3, 4]) == (-1.0, -2.0, 3.0, 4.0)
    with pytest.raises(InvalidLocationError, match="finite numbers"):
        as_point((True, 0))  # a bool is not a coordinate


def test_in_box():
    box = (-10.0, -5.0, 10.0, 5.0)
    assert in_box(0, 0, box) and in_box(5, 10, box) and in_box(-5, -10, box)  # edges
    assert not in_box(6, 0, box) and not in_box(0, 11, box)
    assert not in_box(None, 0, box) and not in_box(0, None, box)


def test_box_around_reaches_the_distance_each_way():
    lon_min, lat_min, lon_max, lat_max = box_around((0, 0), KM_PER_DEGREE)
    assert (lon_min, lat_min, lon_max, lat_max) == pytest.approx((-1, -1, 1, 1))
    # At 60°N a degree of longitude is half as long, so the box is twice as wide.
    lon_min, lat_min, lon_max, lat_max = box_around((60, 10), KM_PER_DEGREE)
    assert (lon_max - lon_min, lat_max - lat_min) == pytest.approx((4, 2))
    assert box_around((89.9, 0), 100)[3] == 90.0  # clipped to the globe
    with pytest.raises(InvalidLocationError, match="positive"):
        box_around((0, 0), 0)
