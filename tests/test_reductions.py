"""Coastal-imaging products and the ``.webcoos`` accessor (products/reductions.py,
products/timestack.py, accessor.py).

timex, variance, brightest, darkest, gray and timestacks equal numpy's on the
same frames, stay lazy, bin by time, and show the stand-in's scene (sea above
sand, the tide moving the shoreline).  The accessor is registered on xarray's
objects however xarray and intake_webcoos are imported.
"""

from __future__ import annotations

import dask
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from intake_webcoos import open_images
from intake_webcoos.errors import InvalidArgumentError, InvalidTimeError, MissingVariableError

from .helpers import CAMERA, STILLS, TOKEN, fresh_python


def test_products_equal_numpy(stills_hour):
    frames = stills_hour["image"].values.astype(np.float64)
    np.testing.assert_allclose(stills_hour.webcoos.timex().values, frames.mean(axis=0), atol=1e-3)
    np.testing.assert_allclose(stills_hour.webcoos.variance().values, frames.std(axis=0), atol=1e-3)
    np.testing.assert_array_equal(stills_hour.webcoos.brightest().values, frames.max(axis=0))
    np.testing.assert_array_equal(stills_hour.webcoos.darkest().values, frames.min(axis=0))
    assert stills_hour.webcoos.brightest().dtype == np.uint8
    assert stills_hour.webcoos.timex().dtype == np.float32
    gray = stills_hour.webcoos.to_gray()
    expected = np.rint(frames @ np.array([0.299, 0.587, 0.114], dtype=np.float32))
    np.testing.assert_allclose(gray.values[..., 0], expected, atol=1)
    # The DataArray accessor gives the same as the Dataset's.
    xr.testing.assert_allclose(stills_hour["image"].webcoos.timex(), stills_hour.webcoos.timex())


def test_products_are_lazy(stills_hour):
    products = stills_hour.webcoos
    for product in (products.timex(), products.variance("10min"), products.brightest(),
                    products.timestack([(10, 0), (10, 179)])):
        assert isinstance(product.data, dask.array.Array)


def test_products_per_bin(stills_hour):
    binned = stills_hour.webcoos.timex("10min")
    assert binned.dims == ("time", "y", "x", "band") and binned.sizes["time"] == 6
    np.testing.assert_array_equal(binned["time"].values,
                                  pd.date_range("2025-09-10T18:00", periods=6, freq="10min"))
    first = stills_hour["image"].sel(time=slice("2025-09-10T18:00", "2025-09-10T18:09:59"))
    np.testing.assert_allclose(binned.isel(time=0).values,
                               first.values.astype(float).mean(axis=0), atol=1e-3)
    bright = stills_hour.webcoos.brightest("20min")
    assert bright.sizes["time"] == 3 and bright.dtype == np.uint8


def test_timestack_sampling(stills_hour):
    stack = stills_hour.webcoos.timestack([(100, 10), (100, 170), (300, 170)], spacing=2)
    assert stack.dims == ("time", "distance", "band")
    assert stack["distance"].values[-1] == pytest.approx(360, abs=2)
    np.testing.assert_array_equal(stack.isel(distance=0).values,
                                  stills_hour["image"].isel(x=100, y=10).values)
    np.testing.assert_array_equal(stack.isel(distance=80).values,
                                  stills_hour["image"].isel(x=100, y=170).values)
    with pytest.raises(InvalidArgumentError, match="leaves the 320x180 frame"):
        stills_hour.webcoos.timestack([(0, 0), (400, 0)])


def test_a_dataset_without_images_is_refused_as_a_missing_variable(stills_hour):
    """A KeyError for those who catch one, printed as written (not quoted as KeyError's)."""
    with pytest.raises(MissingVariableError) as info:
        stills_hour.drop_vars("image").webcoos.timex()
    assert str(info.value) == ("this Dataset has no 'image' variable: open it with "
                               "open_images()")


def test_timestack_shows_sea_above_sand_and_the_tide(standin):
    day = open_images(CAMERA, STILLS, "2025-09-10T17:00Z", "2025-09-11T05:00Z", every="20min",
                      token=TOKEN, base_url=standin.api_url)
    column = 160
    stack = day.webcoos.timestack([(column, 0), (column, 179)]).values.astype(int)
    renderer = standin.bodies.renderer
    horizon = renderer.horizon_row(CAMERA)
    measured, expected = [], []
    for t, profile in zip(day["time"].values, stack, strict=True):
        when = pd.Timestamp(t).tz_localize("UTC").to_pydatetime()
        sea = profile[:, 2] > profile[:, 0]  # blue above red
        waterline = np.nonzero(sea)[0].max()
        measured.append(waterline)
        expected.append(renderer.shoreline_row(CAMERA, when))
        assert sea[horizon + 3 : int(expected[-1]) - 3].all()  # sea below the horizon
        assert not sea[int(expected[-1]) + 4 :].any()  # sand below the shoreline
    measured, expected = np.array(measured), np.array(expected)
    assert np.abs(measured - expected).max() <= 3
    assert np.ptp(measured) >= 0.03 * 180  # the tide moves the shoreline
    assert np.corrcoef(measured, expected)[0, 1] > 0.95


# -- the accessor's registration ---------------------------------------------------------------
@pytest.mark.parametrize("imports", [
    "import intake_webcoos; import xarray as xr",
    "import xarray as xr; import intake_webcoos",
    "import intake; import xarray as xr",  # intake imports our entry point, nothing more
], ids=["package first", "xarray first", "through intake"])
def test_the_accessor_is_registered_whatever_the_import_order(imports):
    code = (f"{imports}; import sys; "
            "print(type(xr.Dataset().webcoos).__name__, type(xr.DataArray().webcoos).__name__, "
            "'intake_webcoos.accessor' in sys.modules)")
    out = fresh_python(code).split()
    assert out[:2] == ["WebcoosAccessor", "WebcoosAccessor"] and out[2] == "True"


def test_freq_takes_the_same_spellings_as_every(stills_hour):
    words = stills_hour.webcoos.timex(freq="hourly")
    assert words.sizes["time"] == 1
    assert (words.values == stills_hour.webcoos.timex(freq="1h").values).all()
    with pytest.raises(InvalidTimeError, match="freq='10' has no unit"):
        stills_hour.webcoos.timex(freq="10")
