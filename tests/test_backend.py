"""The xarray engine (cube/backend.py): ``xr.open_dataset("webcoos://...", engine="webcoos")``."""

from __future__ import annotations

import pytest
import xarray as xr

from intake_webcoos.cube.backend import WebcoosBackendEntrypoint

from .helpers import HOUR, TOKEN

STILLS_URL = "webcoos://waikiki_sheraton/one-minute-stills"


def test_the_engine_opens_the_same_cube_as_open_images(standin, stills_hour):
    ds = xr.open_dataset(STILLS_URL, engine="webcoos", start=HOUR[0], end=HOUR[1], token=TOKEN,
                         base_url=standin.api_url)
    xr.testing.assert_identical(ds, stills_hour)
    reduced = xr.open_dataset(STILLS_URL, engine="webcoos", start=HOUR[0],
                              end="2025-09-10T18:04:59Z", scale=0.25, token=TOKEN,
                              base_url=standin.api_url)
    assert reduced.sizes["x"] == 80 and reduced.sizes["time"] == 5


def test_the_engine_opens_globs_and_refuses_folders_above_a_product(standin):
    globbed = xr.open_dataset(f"{STILLS_URL}/2025/09/10/*-1800??Z.jpg", engine="webcoos",
                              token=TOKEN, base_url=standin.api_url)
    assert globbed.sizes["time"] == 1
    with pytest.raises(ValueError, match="camera/product"):
        xr.open_dataset("webcoos://waikiki_sheraton", engine="webcoos", token=TOKEN,
                        base_url=standin.api_url)


def test_the_engine_claims_webcoos_urls_only():
    # Without engine=, xarray asks each backend; ours claims webcoos:// (but netCDF4,
    # when installed, claims every URL first, so naming the engine is the safe way).
    backend = WebcoosBackendEntrypoint()
    assert backend.guess_can_open(STILLS_URL)
    assert not backend.guess_can_open("https://example.org/data.nc")
    assert not backend.guess_can_open("local.jpg")


def test_the_engine_opens_video(standin):
    ds = xr.open_dataset("webcoos://waikiki_sheraton/video-archive", engine="webcoos",
                         start=HOUR[0], end="2025-09-10T18:10Z", fps=1, token=TOKEN,
                         base_url=standin.api_url)
    assert ds.sizes["time"] == 20 and "clip" in ds.coords
