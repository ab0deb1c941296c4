"""Rectified products (world/rectify.py): plan views and transects in metres.

Frames come from the stand-in over loopback.  The sampling is checked with
``SKETCH``, a camera of arbitrary angles for 320x180 frames, against an
independent bilinear interpolation (``scipy.ndimage.map_coordinates``) at the
pixels the geometry projects to; the stand-in's own camera (it renders a 3-D
beach through it) checks that the beach lands where the truth says.
"""

from __future__ import annotations

import dataclasses

import dask
import dask.array
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy import ndimage

from intake_webcoos import ArgumentTypeError, GeometryError, InvalidArgumentError, open_images
from intake_webcoos.world.geometry import CameraGeometry
from intake_webcoos.world.rectify import Grid, fit_geometry, rectify, world_timestack

from .helpers import CAMERA, MINUTES, STILLS, TOKEN

#: A camera 15 m up looking along +y, 75 degrees from nadir, for 320x180 frames.
SKETCH = CameraGeometry(width=320, height=180, cx=158.7, cy=91.2, fx=290.0, fy=288.0,
                        k1=-0.05, x=3.0, y=-5.0, z=15.0, azimuth=4.0, tilt=75.0, roll=0.5,
                        latitude=21.2766, longitude=-157.8275, bearing=200.0)
#: The ground in front of the camera, and some beyond its view on both sides.
GRID = dict(x=(-60, 60), y=(-10, 120), spacing=0.5)


@pytest.fixture(scope="module")
def minutes(standin):
    """Five stills, two per chunk along time (three chunks)."""
    return open_images(CAMERA, STILLS, *MINUTES, token=TOKEN, base_url=standin.api_url,
                       chunks={"time": 2})


def bilinear(frame: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """scipy's order-1 interpolation of every band at (u, v)."""
    return np.stack([ndimage.map_coordinates(frame[..., b].astype(float), [v, u], order=1)
                     for b in range(frame.shape[-1])], axis=-1)


def test_grid_cells():
    grid = Grid.of(dict(x=(-100, 100), y=(0, 200), spacing=0.5))
    assert grid == Grid(-100, 100, 0, 200, 0.5) and grid.shape == (401, 401)
    assert grid.x[0] == -100 and grid.x[-1] == 100 and grid.y[200] == 100
    assert Grid(0, 1, 0, 0.9, 0.5).shape == (2, 3)  # a last centre off the lattice is left out
    for bad in (dict(x=(0, 1), y=(0, 1)), dict(x=(1, 0), y=(0, 1), spacing=1),
                dict(x=(0, 1), y=(0, 1), spacing=0)):
        with pytest.raises(InvalidArgumentError, match="grid"):
            Grid.of(bad)


def test_rectify_is_lazy_with_a_task_per_input_chunk(standin, minutes):
    standin.clear_requests()
    plan = minutes.webcoos.rectify(SKETCH, GRID)
    assert standin.requests_to("files") == []  # nothing fetched on construction
    assert isinstance(plan, xr.Dataset) and isinstance(plan["image"].data, dask.array.Array)
    assert plan["image"].dims == ("time", "y_world", "x_world", "band")
    # Chunks of two frames are resampled together (up to FRAMES_PER_TASK).
    assert plan["image"].data.numblocks == (1, 1, 1, 1)
    assert plan["image"].data.npartitions <= minutes["image"].data.npartitions
    assert plan["image"].dtype == np.float32
    assert plan.sizes["x_world"] == 241 and plan.sizes["y_world"] == 261
    np.testing.assert_array_equal(plan["url"].values, minutes["url"].values)


def test_chunks_of_many_frames_are_split_within_each_chunk(stills_hour):
    tens = stills_hour.chunk({"time": 10})
    plan = tens.webcoos.rectify(SKETCH, GRID)["image"]
    assert plan.data.chunks[0] == (8, 2) * 6  # FRAMES_PER_TASK at most, never across
    np.testing.assert_array_equal(plan.isel(time=slice(8, 12)).values,
                                  stills_hour.isel(time=slice(8, 12)).webcoos.rectify(
                                      SKETCH, GRID)["image"].values)


def test_cells_are_bilinear_samples_at_the_projected_pixels_and_nan_outside(minutes):
    plan = rectify(minutes["image"].isel(time=slice(0, 2)), SKETCH, GRID).values
    x, y = np.meshgrid(Grid.of(GRID).x, Grid.of(GRID).y)
    u, v = SKETCH.world_to_pixel(x, y, 0.0)
    outside = np.isnan(u)
    assert 0.2 < outside.mean() < 0.8  # behind the camera and off to the sides
    assert np.isnan(plan[:, outside]).all() and np.isfinite(plan[:, ~outside]).all()
    frames = minutes["image"].values
    # Inside the outer pixel centres (the half-pixel rim is clamped to the nearest).
    inner = ~outside & (u >= 0) & (u <= 319) & (v >= 0) & (v <= 179)
    for k in range(2):
        expected = bilinear(frames[k], u[inner], v[inner])
        np.testing.assert_allclose(plan[k][inner], expected, atol=2e-3)


def test_rectifying_a_timex_equals_the_timex_of_rectified_frames(stills_hour):
    cube = stills_hour.isel(time=slice(0, 12))
    of_timex = cube.webcoos.timex().webcoos.rectify(SKETCH, GRID)
    of_frames = cube.webcoos.rectify(SKETCH, GRID).webcoos.timex()
    assert of_timex.dims == ("y_world", "x_world", "band")
    xr.testing.assert_allclose(of_timex, of_frames, atol=1e-3)


def test_products_with_a_time_bin_and_gray_cubes(stills_hour, standin):
    binned = stills_hour.webcoos.brightest("20min").webcoos.rectify(SKETCH, GRID)
    assert binned.dims == ("time", "y_world", "x_world", "band") and binned.sizes["time"] == 3
    np.testing.assert_allclose(
        binned.isel(time=1).values,
        rectify(stills_hour.webcoos.brightest("20min").isel(time=1), SKETCH, GRID).values)
    gray = open_images(CAMERA, STILLS, *MINUTES, token=TOKEN, base_url=standin.api_url,
                       grayscale=True)
    plan = gray["image"].webcoos.rectify(SKETCH, GRID)
    assert isinstance(plan, xr.DataArray) and plan.sizes["band"] == 1


def test_the_geometry_follows_the_cube_scale(standin, minutes):
    half = open_images(CAMERA, STILLS, *MINUTES, token=TOKEN, base_url=standin.api_url,
                       scale=1 / 2)
    assert half.attrs["scale"] == 0.5 and half.sizes["x"] == 160
    assert fit_geometry(SKETCH, half["image"]) == SKETCH.scaled(0.5)
    # A calibration made on larger frames fits by the size ratio (no scale attribute).
    large = SKETCH.scaled(4)
    assert "scale" not in minutes["image"].attrs
    assert fit_geometry(large, minutes["image"]).width == 320
    np.testing.assert_allclose(rectify(minutes.isel(time=[0]), large, GRID)["image"].values,
                               rectify(minutes.isel(time=[0]), SKETCH, GRID)["image"].values,
                               atol=1e-2)
    plan = rectify(half.isel(time=[0]), SKETCH, GRID)["image"].values
    full = rectify(minutes.isel(time=[0]), SKETCH, GRID)["image"].values
    assert (np.isnan(plan) == np.isnan(full)).mean() > 0.99
    assert np.nanmean(np.abs(plan - full)) < 6  # the same scene, at half the resolution
    other = dataclasses.replace(SKETCH, width=300, cx=150.0)  # another camera's shape
    with pytest.raises(GeometryError, match="320x180"):
        rectify(minutes, other, GRID)


def test_z_per_time_projects_each_frame_onto_its_own_plane(minutes):
    levels = np.array([-1.0, 0.0, 0.5, 1.0, 1.5])
    plan = rectify(minutes["image"], SKETCH, GRID, z=levels)
    np.testing.assert_array_equal(plan["z"].values, levels)
    for k in (0, 3):
        one = rectify(minutes["image"].isel(time=k), SKETCH, GRID, z=levels[k])
        np.testing.assert_allclose(plan.isel(time=k).values, one.values, atol=1e-4)
    assert not np.allclose(plan.isel(time=0).values, rectify(
        minutes["image"].isel(time=0), SKETCH, GRID).values, equal_nan=True)
    with pytest.raises(InvalidArgumentError, match="one value per time"):
        rectify(minutes["image"], SKETCH, GRID, z=[0.0, 1.0])
    # A tide record along time is interpolated to the frames' times.
    record = xr.DataArray([-1.0, 3.0], dims="time",
                          coords={"time": minutes["time"].values[[0, -1]]})
    seconds = (minutes["time"] - minutes["time"][0]).values / np.timedelta64(1, "s")
    np.testing.assert_allclose(rectify(minutes["image"], SKETCH, GRID, z=record)["z"].values,
                               -1.0 + 4.0 * seconds / seconds[-1])
    # Times of another unit (pandas makes microseconds) are interpolated the same.
    in_us = record.assign_coords(time=record["time"].values.astype("datetime64[us]"))
    np.testing.assert_allclose(rectify(minutes["image"], SKETCH, GRID, z=in_us)["z"].values,
                               -1.0 + 4.0 * seconds / seconds[-1])
    with pytest.raises(InvalidArgumentError, match="cover"):
        rectify(minutes["image"], SKETCH, GRID, z=record.isel(time=[1]))


def test_longitude_and_latitude_when_the_origin_is_known(minutes):
    plan = rectify(minutes["image"], SKETCH, GRID)
    x, y = np.meshgrid(plan["x_world"].values, plan["y_world"].values)
    longitude, latitude = SKETCH.local_to_lonlat(x, y)
    np.testing.assert_array_equal(plan["longitude"].values, longitude)
    np.testing.assert_array_equal(plan["latitude"].values, latitude)
    assert plan["x_world"].attrs["units"] == "m"
    nowhere = CameraGeometry(**{f: getattr(SKETCH, f) for f in (
        "width", "height", "cx", "cy", "fx", "fy", "x", "y", "z", "azimuth", "tilt", "roll")})
    assert "longitude" not in rectify(minutes["image"], nowhere, GRID).coords


def test_world_timestack_samples_the_line_as_the_plan_view_does(minutes):
    stack = minutes.webcoos.timestack(world=[(0, 20), (0, 80), (30, 80)], geometry=SKETCH,
                                      spacing=0.5)
    assert stack.dims == ("time", "distance", "band") and stack.dtype == np.float32
    assert stack.sizes["distance"] == 181  # 90 m every 0.5 m
    np.testing.assert_array_equal(stack["distance"].values, np.arange(181) * 0.5)
    assert stack["y_world"].values[120] == 80 and stack["x_world"].values[180] == 30
    assert stack.attrs["product"] == "timestack" and stack["distance"].attrs["units"] == "m"
    plan = rectify(minutes, SKETCH, GRID)["image"]
    first_leg = plan.sel(x_world=0, y_world=slice(20, 80)).values
    np.testing.assert_allclose(stack.isel(distance=slice(0, 121)).values, first_leg, atol=1e-4)


def test_the_pixel_timestack_is_unchanged_and_arguments_are_checked(minutes):
    pixels = minutes.webcoos.timestack([(100, 10), (100, 170)], spacing=2)
    assert pixels.dtype == np.uint8 and pixels.sizes["distance"] == 81
    with pytest.raises(ArgumentTypeError, match="geometry"):
        minutes.webcoos.timestack(world=[(0, 20), (0, 80)])
    with pytest.raises(ArgumentTypeError, match="pixel points"):
        minutes.webcoos.timestack([(100, 10), (100, 170)], world=[(0, 20), (0, 80)],
                                  geometry=SKETCH)


def test_a_geometry_file_is_read(tmp_path, minutes):
    path = tmp_path / "camera.json"
    SKETCH.save(path)
    stack = world_timestack(minutes["image"], [(0, 20), (0, 40)], path, spacing=1.0)
    expected = world_timestack(minutes["image"], [(0, 20), (0, 40)], SKETCH, spacing=1.0)
    with dask.config.set(scheduler="synchronous"):
        xr.testing.assert_identical(stack.compute(), expected.compute())


def test_the_stand_in_beach_lands_where_its_geometry_says(standin, minutes):
    """The stand-in renders through a known camera: rectified with it, sand lies landward of
    the true waterline and water seaward, and a world transect crosses it there."""
    geometry, renderer = standin.geometry(CAMERA), standin.bodies.renderer
    when = pd.Timestamp(minutes["time"].values[0]).tz_localize("UTC").to_pydatetime()
    z, waterline = renderer.tide_level(CAMERA, when), renderer.waterline(CAMERA, when)
    plan = rectify(minutes["image"].isel(time=0), geometry, dict(
        x=(-75, 15), y=(waterline - 25, waterline + 25), spacing=0.5), z=z)
    reddish = (plan.sel(band="red") > plan.sel(band="blue")).where(plan.notnull().all("band"))
    landward = reddish.sel(y_world=slice(None, waterline - 5))
    seaward = reddish.sel(y_world=slice(waterline + 5, None))
    assert landward.count() > 5000 and seaward.count() > 5000
    assert landward.mean() > 0.99 and seaward.mean() < 0.01
    line = [(-30.0, waterline - 20), (-30.0, waterline + 20)]
    stack = world_timestack(minutes["image"].isel(time=[0]), line, geometry, spacing=0.5, z=z)
    np.testing.assert_allclose(stack["y_world"].values, waterline - 20 + stack["distance"].values)
    assert (stack["x_world"] == -30).all() and stack.sizes["distance"] == 81
    profile = (stack.sel(band="red") - stack.sel(band="blue")).values[0]
    crossing = stack["y_world"].values[np.flatnonzero(profile < 0)[0]]
    assert abs(crossing - waterline) < 3  # a few metres: a pixel row at 320x180
