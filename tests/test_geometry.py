"""Camera geometry (world/geometry.py): CIRN conventions, projection both ways, scaling, files."""

from __future__ import annotations

import dataclasses
import io
import json
import math

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from intake_webcoos import GeometryError, open_images
from intake_webcoos.cube.decode import decode_image
from intake_webcoos.server.cameras import CAMERAS
from intake_webcoos.world.geometry import CameraGeometry

from .helpers import CAMERA as CAMERA_SLUG
from .helpers import STILLS, TOKEN

#: A realistic beach camera: 25 m up, looking 76 degrees from nadir, mild distortion.
CAMERA = CameraGeometry(
    width=1280, height=720, cx=641.3, cy=357.8, fx=1310.0, fy=1302.0,
    k1=-0.12, k2=0.03, k3=-0.004, p1=0.0008, p2=-0.0005,
    x=12.0, y=-150.0, z=25.0, azimuth=8.0, tilt=76.0, roll=1.5,
    latitude=35.25, longitude=-75.5, bearing=100.0, name="test camera")


def ground_grid(geometry: CameraGeometry, z: float = 0.4) -> tuple[np.ndarray, ...]:
    """World points on the plane `z` that the camera sees, from 40 m to 400 m away."""
    u, v = np.meshgrid(np.linspace(0, geometry.width - 1, 17),
                       np.linspace(geometry.height * 0.15, geometry.height - 1, 11))
    x, y = geometry.pixel_to_world(u, v, z)
    assert np.isfinite(x).all()
    return x, y, np.full_like(x, z)


def test_world_to_pixel_to_world_round_trip_within_a_millimetre():
    x, y, z = ground_grid(CAMERA)
    distance = np.hypot(x - CAMERA.x, y - CAMERA.y)
    assert distance.min() < 60 and distance.max() > 200

    u, v = CAMERA.world_to_pixel(x, y, z)
    x_back, y_back = CAMERA.pixel_to_world(u, v, z)

    assert np.isfinite(u).all()
    np.testing.assert_allclose(x_back, x, atol=1e-3)
    np.testing.assert_allclose(y_back, y, atol=1e-3)


def test_pixel_to_world_inverts_the_distortion_to_a_millionth_of_a_pixel():
    u, v = np.meshgrid(np.linspace(0.0, 1279.0, 33), np.linspace(200.0, 719.0, 21))
    x, y = CAMERA.pixel_to_world(u, v, 1.0)
    u_back, v_back = CAMERA.world_to_pixel(x, y, 1.0)

    assert np.abs(u_back - u).max() < 1e-6 and np.abs(v_back - v).max() < 1e-6


def test_the_distortion_is_cirns():
    """A point at normalised (0.3, -0.2) goes where CIRN's distortUV puts it."""
    geometry = dataclasses.replace(CAMERA, azimuth=0.0, tilt=90.0, roll=0.0, x=0.0, y=0.0, z=0.0)
    xn, yn = 0.3, -0.2  # camera coordinates p = (-xn * d, -yn * d, d), d ahead along +y
    depth = 50.0
    # At azimuth 0, tilt 90: p = (-dx, dz, dy), so xn = dx / dy and yn = -dz / dy.
    u, v = geometry.world_to_pixel(xn * depth, depth, -yn * depth)
    r2 = xn**2 + yn**2
    radial = 1 + CAMERA.k1 * r2 + CAMERA.k2 * r2**2 + CAMERA.k3 * r2**3
    xd = xn * radial + 2 * CAMERA.p1 * xn * yn + CAMERA.p2 * (r2 + 2 * xn**2)
    yd = yn * radial + CAMERA.p1 * (r2 + 2 * yn**2) + 2 * CAMERA.p2 * xn * yn

    assert u == pytest.approx(CAMERA.cx + CAMERA.fx * xd, abs=1e-9)
    assert v == pytest.approx(CAMERA.cy + CAMERA.fy * yd, abs=1e-9)


def pinhole(**extrinsics: float) -> CameraGeometry:
    return CameraGeometry(width=101, height=81, cx=50.0, cy=40.0, fx=100.0, fy=100.0,
                          **extrinsics)


def test_cirn_angles_nadir_camera_sees_a_map_with_north_up():
    nadir = pinhole(z=10.0, tilt=0.0)
    u, v = nadir.world_to_pixel([0.0, 1.0, 0.0], [0.0, 0.0, 1.0], 0.0)

    np.testing.assert_allclose(u, [50.0, 60.0, 50.0])  # east is right
    np.testing.assert_allclose(v, [40.0, 40.0, 30.0])  # north is up


@pytest.mark.parametrize(("azimuth", "ahead"), [(0.0, (0.0, 100.0)), (90.0, (100.0, 0.0)),
                                                (180.0, (0.0, -100.0)), (-90.0, (-100.0, 0.0))])
def test_azimuth_is_clockwise_from_plus_y_and_tilt_90_is_level(azimuth, ahead):
    level = pinhole(z=10.0, azimuth=azimuth, tilt=90.0)
    u, v = level.world_to_pixel(*ahead, 10.0)
    assert (u, v) == (pytest.approx(50.0), pytest.approx(40.0))
    # Right of the view direction is right in the image; lower is lower.
    right = np.array([ahead[1], -ahead[0]]) / 10
    u, v = level.world_to_pixel(ahead[0] + right[0], ahead[1] + right[1], 5.0)
    assert u == pytest.approx(60.0) and v == pytest.approx(45.0)


def test_roll_turns_the_image_about_the_view_axis():
    rolled = pinhole(z=10.0, tilt=90.0, roll=10.0)
    # A level line through the principal point appears at 10 degrees to the rows.
    u, v = rolled.world_to_pixel([-10.0, 10.0], 100.0, 10.0)
    assert math.degrees(math.atan2(abs(v[1] - v[0]), abs(u[1] - u[0]))) == pytest.approx(10.0)


def test_points_behind_the_camera_or_outside_the_image_are_nan():
    level = pinhole(z=10.0, tilt=90.0)
    behind = level.world_to_pixel(0.0, -100.0, 10.0)
    outside = level.world_to_pixel(200.0, 100.0, 10.0)
    unclipped = level.world_to_pixel(200.0, 100.0, 10.0, within_image=False)

    assert np.isnan(behind).all() and np.isnan(outside).all()
    assert unclipped == (pytest.approx(250.0), pytest.approx(40.0))
    corner = level.world_to_pixel(-50.4, 100.0, 10.0 + 40.4)  # the top-left pixel's corner
    assert corner == (pytest.approx(-0.4), pytest.approx(-0.4))
    assert np.isnan(level.world_to_pixel(-50.6, 100.0, 10.0)).all()


def test_rays_above_the_horizon_do_not_reach_the_plane():
    x, y = CAMERA.pixel_to_world([640.0, 640.0, 640.0], [0.0, 719.0, 500.0], [0.0, 0.0, 30.0])
    assert np.isnan(x[0]) and np.isnan(y[0])  # sky
    assert np.isfinite(x[1]) and np.isfinite(y[1])
    assert np.isnan(x[2])  # a plane above the camera is reached by rays going up only


def test_arrays_broadcast():
    u, v = CAMERA.world_to_pixel(np.linspace(-20, 20, 5)[:, None], np.array([0.0, 50.0]), 0.0)
    assert u.shape == v.shape == (5, 2)
    x, y = CAMERA.pixel_to_world(np.arange(3)[:, None, None], np.array([600.0, 700.0]), 0.0)
    assert x.shape == y.shape == (3, 1, 2)


@pytest.mark.parametrize("factor", [1 / 2, 1 / 4, 1 / 8, 0.3])
def test_scaled_geometry_puts_a_point_where_the_scaled_image_has_it(factor):
    x, y, z = ground_grid(CAMERA)
    u, v = CAMERA.world_to_pixel(x, y, z)
    small = CAMERA.scaled(factor)
    us, vs = small.world_to_pixel(x, y, z)

    np.testing.assert_allclose(us, (u + 0.5) * factor - 0.5, atol=1e-9)
    np.testing.assert_allclose(vs, (v + 0.5) * factor - 0.5, atol=1e-9)
    assert (small.x, small.tilt, small.k1) == (CAMERA.x, CAMERA.tilt, CAMERA.k1)


@pytest.mark.parametrize("size", [(1280, 720), (320, 180), (100, 75)])
@pytest.mark.parametrize("factor", [1 / 2, 1 / 4, 1 / 8])
def test_scaled_size_is_the_decoders(size, factor):
    buffer = io.BytesIO()
    Image.new("RGB", size, (90, 120, 150)).save(buffer, format="JPEG")
    decoded = decode_image(buffer.getvalue(), scale=factor)
    geometry = dataclasses.replace(CAMERA, width=size[0], height=size[1])

    scaled = geometry.scaled(factor)
    assert (scaled.height, scaled.width) == decoded.shape[:2]


def test_file_round_trip_json_and_yaml_with_cirn_names(tmp_path):
    for name in ("camera.json", "camera.yaml"):
        path = tmp_path / name
        CAMERA.save(path)
        assert CameraGeometry.load(path) == CAMERA
    data = json.loads((tmp_path / "camera.json").read_text())
    assert set(data["intrinsics"]) == {"NU", "NV", "c0U", "c0V", "fx", "fy",
                                       "d1", "d2", "d3", "t1", "t2"}
    assert data["extrinsics"] == {"x": 12.0, "y": -150.0, "z": 25.0, "azimuth": 8.0,
                                  "tilt": 76.0, "swing": 1.5}
    assert data["origin"]["latitude"] == 35.25
    no_origin = dataclasses.replace(CAMERA, latitude=None, longitude=None, bearing=0.0, name=None)
    assert "origin" not in no_origin.to_dict() and "name" not in no_origin.to_dict()
    assert CameraGeometry.from_dict(no_origin.to_dict()) == no_origin
    turned = dataclasses.replace(no_origin, bearing=30.0)  # a bearing alone is kept
    assert CameraGeometry.from_dict(turned.to_dict()) == turned


def write(tmp_path, data, name="camera.json"):
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def without(section: str, key: str) -> dict:
    data = CAMERA.to_dict()
    del data[section][key]
    return data


def changed(section: str, key: str, value: object) -> dict:
    data = CAMERA.to_dict()
    data[section][key] = value
    return data


@pytest.mark.parametrize(("data", "match"), [
    (without("intrinsics", "fx"), r"'intrinsics\.fx' is missing"),
    (without("extrinsics", "swing"), r"'extrinsics\.swing' is missing"),
    (changed("intrinsics", "c0U", "640"), r"'cx' \(file field 'intrinsics\.c0U'\) must be a num"),
    (changed("extrinsics", "tilt", None), r"'tilt' \(file field 'extrinsics\.tilt'\)"),
    (changed("intrinsics", "NU", 0), r"'width' \(file field 'intrinsics\.NU'\) must be a whole"),
    (changed("intrinsics", "NV", 719.5), r"'intrinsics\.NV'"),
    (changed("intrinsics", "fy", -1000), r"'intrinsics\.fy'\) must be positive"),
    (changed("extrinsics", "roll", 2.0), r"unknown camera geometry field 'extrinsics\.roll'"),
    (changed("origin", "latitude", 95.0), r"'origin\.latitude'\) must be between"),
    ({"intrinsics": [1280, 720]}, r"'intrinsics' must be a mapping"),
    ([1, 2, 3], "must be a mapping"),
    ("{not json", "not a readable camera geometry file"),
])
def test_bad_files_raise_geometry_errors_naming_the_field(tmp_path, data, match):
    with pytest.raises(GeometryError, match=match) as caught:
        CameraGeometry.load(write(tmp_path, data))
    assert isinstance(caught.value, ValueError)
    assert "camera.json" in str(caught.value)


def test_bad_yaml_and_half_an_origin_are_refused(tmp_path):
    with pytest.raises(GeometryError, match="not a readable"):
        CameraGeometry.load(write(tmp_path, "intrinsics: [1, 2\n", "camera.yml"))
    data = CAMERA.to_dict()
    del data["origin"]["longitude"]
    with pytest.raises(GeometryError, match="both latitude and longitude"):
        CameraGeometry.from_dict(data)
    with pytest.raises(GeometryError, match=r"'fx'.* must be finite"):
        dataclasses.replace(CAMERA, fx=math.inf)


def test_local_to_lonlat_uses_the_local_radii_of_curvature():
    at_45 = dataclasses.replace(CAMERA, latitude=45.0, longitude=10.0, bearing=0.0)
    lon, lat = at_45.local_to_lonlat(0.0, 1000.0)
    # A degree of latitude is 111,131.78 m at 45 degrees on WGS84
    # (111132.954 - 559.822 cos 2φ + 1.175 cos 4φ).
    assert lat - 45.0 == pytest.approx(1000.0 / 111_131.78, rel=1e-6) and lon == 10.0
    lon, lat = at_45.local_to_lonlat(1000.0, 0.0)
    # A degree of longitude is 78,846.84 m there.
    assert lon - 10.0 == pytest.approx(1000.0 / 78_846.84, rel=1e-6) and lat == 45.0

    facing_east = dataclasses.replace(at_45, bearing=90.0)  # +y points east, +x south
    lon, lat = facing_east.local_to_lonlat([0.0, 1000.0], [1000.0, 0.0])
    assert lon[0] - 10.0 == pytest.approx(1000.0 / 78_846.84, rel=1e-6)
    assert lat[1] - 45.0 == pytest.approx(-1000.0 / 111_131.78, rel=1e-6)
    x, y = facing_east.lonlat_to_local(lon, lat)
    np.testing.assert_allclose([x, y], [[0.0, 1000.0], [1000.0, 0.0]], atol=1e-6)


def test_local_to_lonlat_needs_an_origin():
    with pytest.raises(GeometryError, match=r"origin\.latitude"):
        dataclasses.replace(CAMERA, latitude=None, longitude=None).local_to_lonlat(0.0, 0.0)


# -- the stand-in's cameras, over loopback ------------------------------------------------------
def test_the_stand_in_gives_each_camera_its_geometry_placed_where_the_api_lists_it(standin,
                                                                                  tmp_path):
    geometry = standin.geometry(CAMERA_SLUG)
    spec = next(c for c in CAMERAS if c.slug == CAMERA_SLUG)

    assert (geometry.width, geometry.height, geometry.name) == (320, 180, CAMERA_SLUG)
    longitude, latitude = geometry.local_to_lonlat(geometry.x, geometry.y)
    assert (longitude, latitude) == (pytest.approx(spec.longitude, abs=1e-7),
                                     pytest.approx(spec.latitude, abs=1e-7))
    geometry.save(tmp_path / "camera.json")
    assert CameraGeometry.load(tmp_path / "camera.json") == geometry
    with pytest.raises(KeyError):
        standin.geometry("no_such_camera")


@pytest.mark.parametrize("scale", [1, 1 / 2, 1 / 4])
def test_waterlines_seen_in_stand_in_stills_project_onto_the_true_waterline(standin, scale):
    day = open_images(CAMERA_SLUG, STILLS, "2025-09-10T17:00Z", "2025-09-11T04:59Z",
                      every="2h", scale=scale, token=TOKEN, base_url=standin.api_url)
    geometry = standin.geometry(CAMERA_SLUG).scaled(scale)
    renderer = standin.bodies.renderer
    assert (day.sizes["x"], day.sizes["y"]) == (geometry.width, geometry.height)
    columns = np.arange(8, geometry.width, geometry.width // 8)
    truths = []
    for when, frame in zip(pd.to_datetime(day["time"].values, utc=True),
                           day["image"].values, strict=True):
        sea = frame[:, columns, 2].astype(int) > frame[:, columns, 0].astype(int)
        edge = frame.shape[0] - 1 - np.argmax(sea[::-1], axis=0) + 0.5
        tide = renderer.tide_level(CAMERA_SLUG, when)
        _, y = geometry.pixel_to_world(columns, edge, tide)
        # The metres of beach one row spans there (metres at 320x180, more when scaled).
        _, ends = geometry.pixel_to_world(columns, [edge - 0.5, edge + 0.5], tide)
        row = np.median(np.abs(ends[1] - ends[0]))
        truths.append(renderer.waterline(CAMERA_SLUG, when))
        assert np.abs(np.median(y) - truths[-1]) < 0.6 * row
    assert np.ptp(truths) > 10  # the tide moved the waterline across the beach
