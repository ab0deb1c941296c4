"""Lines decoded straight from clips (cube/lines.py): the timestacks of video cubes.

A timestack of a cube of clips decodes each clip once, in runs of at most
CHUNK_BYTES of line pixels, never the cube's chunks; it equals slicing the
decoded frames for any selection along time, masks what the cube masks, and
leaves cubes whose pixels changed to the slicing path.
"""

from __future__ import annotations

import logging
import pickle

import numpy as np
import pytest
import xarray as xr

from intake_webcoos import CameraGeometry, open_video
from intake_webcoos.cube import lines
from intake_webcoos.cube.lines import source_of

from .helpers import TOKEN, damaged_standin
from .test_clips import _decoded

CAMERA, VIDEO = "waikiki_sheraton", "video-archive"
START, END = "2025-09-10T18:00:00Z", "2025-09-10T18:59:59Z"
LINE = [(80, 10), (80, 90)]  # a column of the 160x96 clips: x = 80, y = 10..90


def cube(standin, **options):
    return open_video(CAMERA, VIDEO, START, END, fps=4, token=TOKEN, base_url=standin.api_url,
                      **options)


def sliced(ds: xr.Dataset) -> np.ndarray:
    return ds["image"].values[:, 10:91, 80]


def _layers(array: xr.DataArray) -> list[str]:
    return list(array.data.dask.layers)


def test_a_timestack_decodes_each_clip_once_and_equals_the_sliced_frames(standin, caplog):
    ds = cube(standin)
    stack = ds.webcoos.timestack(LINE)
    assert not any(name.startswith("webcoos-decode") for name in _layers(stack))
    with caplog.at_level(logging.DEBUG, logger="intake_webcoos.cube"):
        values = stack.values
    assert _decoded(caplog) == [80] * 6  # one task per clip: 20 s at 4 fps, once
    np.testing.assert_array_equal(values, sliced(ds))
    xr.testing.assert_identical(stack.drop_vars([]), ds["image"].isel(
        x=xr.DataArray(np.full(81, 80), dims="distance"),
        y=xr.DataArray(np.arange(10, 91), dims="distance")).assign_coords(
            distance=("distance", np.arange(81.0))).copy(data=values)
        .assign_attrs(stack.attrs).rename("timestack"))
    assert TOKEN.encode() not in pickle.dumps(dict(stack.data.dask))


@pytest.mark.parametrize("select", [
    lambda ds: ds.isel(time=slice(None, None, -7)),
    lambda ds: ds.isel(time=[5, 5, 200, 3]),
    lambda ds: ds.sel(time=slice("2025-09-10T18:25", "2025-09-10T18:40:10")),
])
def test_any_selection_along_time_decodes_only_its_clips(standin, select):
    part = select(cube(standin))
    stack = part.webcoos.timestack(LINE)
    assert any(name.startswith("webcoos-line") for name in _layers(stack))
    np.testing.assert_array_equal(stack.values, sliced(part))


@pytest.mark.parametrize(("limit", "value", "most"), [("CHUNK_BYTES", 81 * 3 * 25, 25),
                                                      ("RUN_SECONDS", 5.0, 20)])
def test_runs_hold_at_most_chunk_bytes_of_pixels_and_run_seconds_of_clip(standin, monkeypatch,
                                                                         limit, value, most):
    monkeypatch.setattr(lines, limit, value)
    ds = cube(standin)
    stack = ds.webcoos.timestack(LINE)
    assert max(stack.data.chunks[0]) == most and sum(stack.data.chunks[0]) == 480
    np.testing.assert_array_equal(stack.values, sliced(ds))


@pytest.mark.parametrize("change", [
    lambda ds: ds.isel(x=slice(1, None)),
    lambda ds: ds.isel(band=[2, 1, 0]),
    lambda ds: ds.persist(),
    lambda ds: ds.assign(image=ds["image"] // 2),
])
def test_cubes_whose_pixels_changed_are_sliced_instead(standin, change):
    ds = change(cube(standin))
    assert source_of(ds["image"]) is None
    stack = ds.webcoos.timestack(LINE)
    assert not any(name.startswith("webcoos-line") for name in _layers(stack))
    np.testing.assert_array_equal(stack.values, ds["image"].values[:, 10:91, 80])


def test_masked_clips_give_invalid_rows_as_the_cube_does():
    with damaged_standin(CAMERA, VIDEO, (START, END), 1, 2, frame_size=(64, 36)) as (s, _):
        ds = open_video(CAMERA, VIDEO, START, END, fps=4, on_error="mask", token=TOKEN,
                        base_url=s.api_url)
        stack = ds.webcoos.timestack(LINE)
        valid = stack["valid"].values
        assert valid.reshape(6, 80).all(axis=1).tolist() == [True, False, False, True, True,
                                                            True]
        np.testing.assert_array_equal(valid, ds["valid"].values)
        np.testing.assert_array_equal(stack.values, sliced(ds))
        assert not stack.values[~valid].any()


#: A camera 15 m up looking along +y, 75 degrees from nadir, for the clips' 160x96 frames.
GEOMETRY = CameraGeometry(width=160, height=96, cx=79.5, cy=47.5, fx=145.0, fy=145.0,
                          x=0.0, y=-5.0, z=15.0, azimuth=0.0, tilt=75.0, roll=0.0)


def test_a_world_line_is_sampled_from_the_clip_pixels_it_needs(standin):
    ds = cube(standin, on_error="mask")
    line = [(0, 60), (0, 120), (200, 120)]  # its far end is beside the view: NaN there
    fast = ds.webcoos.timestack(world=line, geometry=GEOMETRY, spacing=0.5)
    assert any(name.startswith("webcoos-line") for name in _layers(fast))
    slow = ds.persist().webcoos.timestack(world=line, geometry=GEOMETRY, spacing=0.5)
    assert not any(name.startswith("webcoos-line") for name in _layers(slow))
    fast, slow = fast.compute(), slow.compute()
    assert np.isnan(fast.values[:, -1]).all() and not np.isnan(fast.values[:, 0]).any()
    xr.testing.assert_allclose(fast, slow, atol=1e-4)
    levels = np.linspace(0, 1, ds.sizes["time"])  # one elevation per frame: sliced instead
    tide = ds.webcoos.timestack(world=line, geometry=GEOMETRY, spacing=0.5, z=levels)
    assert not any(name.startswith("webcoos-line") for name in _layers(tide))
