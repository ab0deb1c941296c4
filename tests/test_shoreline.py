"""The shoreline of a rectified image (world/shoreline.py).

Otsu's threshold is checked against the between-class variance computed
directly; the transect fit on plan views of known shorelines; and, on the
stand-in (which renders a beach through a known camera), the shoreline of
rectified 10-minute time-exposures against the true waterline over a tidal cycle.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from intake_webcoos import InvalidArgumentError, open_images
from intake_webcoos.server import StandIn
from intake_webcoos.world.shoreline import otsu_threshold, shoreline

from .helpers import CAMERA, STILLS, TOKEN

SAND, WATER = np.array([190.0, 170.0, 128.0]), np.array([48.0, 110.0, 132.0])


def plan_view(edge: np.ndarray, x: np.ndarray, y: np.ndarray, seed: int = 0,
              sea_low: bool = True) -> xr.DataArray:
    """A plan view with water below ``edge(y)`` along ``x`` (above it when not ``sea_low``)."""
    X = np.broadcast_to(x, (len(y), len(x)))
    land = np.greater(X, edge[:, None]) if sea_low else np.less(X, edge[:, None])
    rgb = np.where(land[..., None], SAND, WATER)
    rgb = rgb + np.random.default_rng(seed).normal(0, 6, rgb.shape)
    return xr.DataArray(rgb.astype(np.float32), dims=("y_world", "x_world", "band"),
                        coords={"y_world": y, "x_world": x, "band": ["red", "green", "blue"]})


def between_class_variance(values: np.ndarray, threshold: float) -> float:
    low, high = values[values <= threshold], values[values > threshold]
    return low.size * high.size * (low.mean() - high.mean()) ** 2 / values.size**2


def test_otsu_threshold_maximises_the_between_class_variance():
    rng = np.random.default_rng(3)
    values = np.concatenate([rng.normal(-60, 15, 3000), rng.normal(40, 25, 1000)])
    threshold = otsu_threshold(values)
    assert -40 < threshold < 30
    candidates = np.linspace(-50, 20, 141)
    best = max(between_class_variance(values, t) for t in candidates)
    assert between_class_variance(values, threshold) >= best * 0.999
    # Two clean clusters: the middle of the gap between them.
    assert otsu_threshold(np.array([-80.0] * 50 + [60.0] * 30)) == pytest.approx(-10, abs=1)
    assert np.isnan(otsu_threshold(np.full(10, 3.0)))
    assert np.isnan(otsu_threshold(np.array([np.nan, 1.0])))


@pytest.mark.parametrize("sea_low", [True, False], ids=["sea at low x", "sea at high x"])
def test_a_known_shoreline_is_found_within_half_a_cell(sea_low):
    x, y = np.arange(-30, 30.01, 0.5), np.arange(0, 40.01, 0.5)
    edge = 4.0 + 6.0 * np.sin(y / 9.0)
    found = shoreline(plan_view(edge, x, y, sea_low=sea_low))
    assert found.dims == ("y_world",) and found.attrs["units"] == "m"
    np.testing.assert_array_equal(found["y_world"].values, y)
    assert np.abs(found.values - edge).max() <= 0.5
    assert -60 < float(found["threshold"]) < 40


def test_transects_along_y_noise_and_gaps():
    x, y = np.arange(0, 50.01, 0.5), np.arange(-20, 20.01, 0.5)
    edge = 10.0 + 0.15 * x
    image = plan_view(edge, y, x).rename(y_world="x_world", x_world="y_world")
    image = image.transpose("y_world", "x_world", "band").copy()
    # Outside the view (NaN) and a few cells of foam-like noise on the sand.
    image[:30, :4] = np.nan
    image.loc[dict(x_world=25.0, y_world=slice(18, 19))] = [220, 230, 240]
    found = shoreline(image, cross_shore="y_world")
    assert found.dims == ("x_world",)
    assert np.abs(found.values - edge).max() <= 0.5
    image[:, 10] = SAND  # a transect of sand only
    assert np.isnan(shoreline(image, cross_shore="y_world").values[10])


def test_one_shoreline_per_time_lazily():
    x, y = np.arange(-20, 20.01, 0.5), np.arange(0, 10.01, 0.5)
    edges = [np.full(y.size, e) for e in (-5.0, 0.0, 7.5)]
    images = xr.concat([plan_view(e, x, y, seed=k) for k, e in enumerate(edges)], "time")
    images = images.assign_coords(time=np.arange(3)).chunk({"time": 1})
    found = images.webcoos.shoreline()
    assert found.dims == ("time", "y_world") and found.chunks is not None
    np.testing.assert_allclose(found.mean("y_world").values, [-5.0, 0.0, 7.5], atol=0.3)
    assert found["threshold"].dims == ("time",)


def test_wrong_inputs_say_what_is_expected():
    image = plan_view(np.zeros(5), np.arange(10.0), np.arange(5.0))
    with pytest.raises(InvalidArgumentError, match="rectify the image first"):
        shoreline(image.rename(x_world="x", y_world="y"), cross_shore="x")
    with pytest.raises(InvalidArgumentError, match="red and blue"):
        shoreline(image.isel(band=[1]))
    with pytest.raises(InvalidArgumentError, match="sea must be None, 'low' or 'high', not 'left'"):
        shoreline(image, sea="left")


# -- on the stand-in: the truth is known -------------------------------------------------------
#: Seven 10-minute windows spread over one M2 tidal cycle (12.42 h), in daylight.
CYCLE = pd.Timestamp("2025-09-10T17:00Z") + pd.to_timedelta(np.arange(7) * 12.42 / 7, "h")
#: The beach in front of the stand-in camera, 0.5 m cells (x alongshore, y seaward).
BEACH = dict(x=(-75, 15), y=(-35, 35), spacing=0.5)


@pytest.fixture(scope="module")
def large_standin():
    """A stand-in with 1280x720 stills, opened at scale 1/2 below (640x360)."""
    with StandIn(token=TOKEN, frame_size=(1280, 720)) as s:
        yield s


def test_shoreline_of_rectified_timexes_is_within_two_cells_of_the_waterline(large_standin):
    """Over a tidal cycle, every transect's shoreline lies within 1 m of the true waterline.

    Each 10-minute timex is rectified onto the plane of the tide level at the
    middle of its window (the waterline lies on that plane), and compared with
    the waterline then.
    """
    renderer, geometry = large_standin.bodies.renderer, large_standin.geometry(CAMERA)
    excursion = []
    for start in CYCLE.floor("min"):
        middle = (start + pd.Timedelta("5min")).to_pydatetime()
        cube = open_images(CAMERA, STILLS, start, start + pd.Timedelta("9min59s"), scale=1 / 2,
                           token=TOKEN, base_url=large_standin.api_url)
        assert cube.sizes["time"] == 10 and cube.sizes["x"] == 640
        plan = cube.webcoos.timex().webcoos.rectify(
            geometry, BEACH, z=renderer.tide_level(CAMERA, middle))
        found = plan.webcoos.shoreline("y_world").values
        truth = renderer.waterline(CAMERA, middle)
        excursion.append(truth)
        assert found.size == 181 and np.isfinite(found).all()
        assert np.abs(found - truth).max() <= 2 * 0.5, (start, truth, found)
    assert np.ptp(excursion) > 30  # the waterline crossed the beach
