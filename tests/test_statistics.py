"""Per-pixel statistics in one streaming pass: equal to numpy, per bin, masked, lazy."""

from __future__ import annotations

import dask
import dask.array as da
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from intake_webcoos import open_images
from intake_webcoos.products import statistics
from intake_webcoos.products.statistics import SPLIT_EVERY, bin_segments

from .helpers import CAMERA, STILLS, TOKEN

STATS = ("timex", "variance", "brightest", "darkest")


def synthetic(frames: int = 50, chunk: int = 7, seed: int = 1, valid: bool = True
              ) -> xr.DataArray:
    """A uint8 (time, y, x, band) cube with times one minute apart, in odd chunks."""
    rng = np.random.default_rng(seed)
    values = rng.integers(0, 256, (frames, 5, 6, 3), dtype=np.uint8)
    times = pd.date_range("2025-09-10T18:00:30", periods=frames, freq="1min")
    image = xr.DataArray(da.from_array(values, chunks=(chunk, -1, -1, -1)),
                         dims=("time", "y", "x", "band"),
                         coords={"time": times, "y": np.arange(5), "x": np.arange(6),
                                 "band": ["red", "green", "blue"],
                                 "url": ("time", [f"u{i}" for i in range(frames)])},
                         attrs={"camera": "synthetic"}, name="image")
    if not valid:
        mask = np.ones(frames, dtype=bool)
        mask[[0, 3, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19]] = False  # one bin wholly
        image = image.assign_coords(valid=("time", da.from_array(mask, chunks=chunk)))
    return image


def reference(image: xr.DataArray, stat: str, freq: str | None) -> np.ndarray:
    """numpy in float64 over the valid frames of each bin (NaN / 0 for a bin with none)."""
    values = image.values
    keep = image["valid"].values if "valid" in image.coords else np.ones(len(values), bool)
    times = pd.DatetimeIndex(image["time"].values)
    groups = [np.arange(len(values))] if freq is None else [
        np.flatnonzero(times.floor(freq) == start) for start in times.floor(freq).unique()]
    out = []
    for members in groups:
        frames = values[members[keep[members]]].astype(np.float64)
        if not len(frames):
            fill = 0 if stat in ("brightest", "darkest") else np.nan
            out.append(np.full(values.shape[1:], fill))
            continue
        how = {"timex": np.mean, "variance": np.std, "brightest": np.max, "darkest": np.min}
        out.append(how[stat](frames, axis=0))
    return np.stack(out) if freq is not None else out[0]


@pytest.mark.parametrize("valid", [True, False], ids=["all valid", "masked"])
@pytest.mark.parametrize("freq", [None, "10min", "1h", "3min"])
def test_every_statistic_equals_numpy(freq, valid):
    image = synthetic(valid=valid)
    for stat in STATS:
        got = getattr(image.webcoos, stat)(freq=freq).values
        want = reference(image, stat, freq)
        if stat in ("brightest", "darkest"):
            assert got.dtype == np.uint8
            np.testing.assert_array_equal(got, want)
        else:  # exact sums; float32 output, so float32 rounding only
            assert got.dtype == np.float32
            np.testing.assert_allclose(got, want, rtol=2e-7, atol=1e-5, equal_nan=True)


def test_bins_are_labelled_by_their_start_and_night_bins_do_not_appear():
    image = synthetic(frames=50)
    gap = xr.concat([image.isel(time=slice(0, 20)),
                     image.isel(time=slice(20, 50)).assign_coords(
                         time=image["time"][20:].values + np.timedelta64(5, "h"))], "time")
    binned = gap.webcoos.timex(freq="1h")
    assert binned.dims == ("time", "y", "x", "band")
    assert list(pd.DatetimeIndex(binned["time"].values).strftime("%H:%M")) == \
        ["18:00", "23:00"]
    assert binned["time"].attrs == {"timezone": "UTC", "bin_width": "1h",
                                    "note": "start of each bin, UTC"}
    assert "url" not in binned.coords and binned.attrs["product"] == "timex"


def test_stats_gives_all_four_from_one_read_of_each_frame(standin):
    # An hour no other test reads: no file of it was fetched ahead by another test.
    cube = open_images(CAMERA, STILLS, "2025-09-13T21:00Z", "2025-09-13T21:59:59Z",
                       token=TOKEN, base_url=standin.api_url, chunks=8)
    standin.clear_requests()
    together = cube.webcoos.stats(freq="10min").compute()
    assert len(standin.requests_to("files")) == cube.sizes["time"]  # each frame once
    assert set(together.data_vars) == set(STATS)
    lazy = (cube.webcoos.timex("10min"), cube.webcoos.variance("10min"))
    graph = {**lazy[0].data.__dask_graph__(), **lazy[1].data.__dask_graph__()}
    image = cube["image"].data
    chunks = {k for k in graph if isinstance(k, tuple) and k[0] == image.name}
    assert len(chunks) == image.numblocks[0]  # each chunk decoded once for both
    partials = {k[0] for k in graph if isinstance(k, tuple) and "partial" in k[0]}
    assert len(partials) == 2  # each sums only what it needs (no squares for a timex)
    standin.clear_requests()
    timex, variance = dask.compute(*lazy)
    assert len(standin.requests_to("files")) == cube.sizes["time"]
    xr.testing.assert_identical(variance, together["variance"])
    xr.testing.assert_identical(timex, together["timex"])
    for stat in STATS:
        xr.testing.assert_identical(together[stat], getattr(cube.webcoos, stat)("10min")
                                    .compute())


def test_unsorted_times_and_numpy_backed_images_give_the_same():
    image = synthetic()
    shuffled = image.isel(time=np.random.default_rng(3).permutation(image.sizes["time"]))
    in_memory = image.copy(data=image.values)
    for other in (shuffled, in_memory):
        xr.testing.assert_allclose(other.webcoos.variance("10min"), image.webcoos.variance("10min"))


def test_float_images_are_reduced_by_xarray_skipping_nan():
    image = synthetic().astype(np.float64)
    image[0] = np.nan
    timex = image.webcoos.timex("10min")
    np.testing.assert_allclose(timex.values[0], image.values[1:10].mean(axis=0), rtol=1e-6)
    assert timex.dtype == np.float32 and list(timex.dims) == ["time", "y", "x", "band"]


def test_the_graph_is_a_chain_over_chunks_not_frames():
    image = synthetic(frames=200, chunk=4)  # 50 chunks
    timex = image.webcoos.timex()
    tasks = len(dict(timex.data.__dask_graph__()))
    # the chunks, a partial of each, combines of SPLIT_EVERY, one result: no per-frame task
    assert tasks < 50 * 2 + 50 // SPLIT_EVERY + 10 < image.sizes["time"]
    with dask.config.set(scheduler="sync"):
        np.testing.assert_allclose(timex.values, reference(image, "timex", None), rtol=2e-7)


def test_a_chunk_across_bins_gives_one_partial_per_bin():
    labels = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2, 3])
    segments, contributors = bin_segments(labels, [4, 4, 2], 4)
    assert segments == [[(0, 3), (3, 4)], [(0, 1), (1, 4)], [(0, 1), (1, 2)]]
    assert contributors == [[(0, 0)], [(0, 1), (1, 0)], [(1, 1), (2, 0)], [(2, 1)]]


def test_variance_is_exact_where_float32_sums_are_not():
    """A bright, almost constant pixel: sum of squares minus square of sums cancels."""
    values = np.full((4000, 1, 1, 1), 250, dtype=np.uint8)
    values[::2] = 251
    image = xr.DataArray(da.from_array(values, chunks=(500, 1, 1, 1)),
                         dims=("time", "y", "x", "band"),
                         coords={"time": pd.date_range("2025", periods=4000, freq="1s")})
    assert float(image.webcoos.variance().values.squeeze()) == 0.5
    assert float(image.webcoos.timex().values.squeeze()) == 250.5


def test_bins_of_many_frames_sum_in_64_bits_and_agree(monkeypatch):
    frames = np.full((3, 2, 2, 1), 255, dtype=np.uint8)
    parts = [statistics.partial(frames), statistics.partial(frames)]
    assert statistics.combine(parts, wide=True).sumsq.dtype == np.int64
    assert statistics.combine(parts, wide=False).sumsq.dtype == np.uint32
    image = synthetic(frames=50)
    narrow = image.webcoos.stats("10min").compute()
    monkeypatch.setattr(statistics, "NARROW_FRAMES", 5)  # every bin counts as large
    xr.testing.assert_identical(image.webcoos.stats("10min").compute(), narrow)


def test_each_product_computes_only_the_fields_it_needs():
    frames = np.full((600, 2, 3, 1), 255, dtype=np.uint8)  # more than a uint16 run holds
    frames[::3] = 254
    assert statistics.needs_of(["timex"]) == ("sum",)
    assert statistics.needs_of(["darkest", "variance"]) == ("sum", "sumsq", "min")
    part = statistics.partial(frames, statistics.needs_of(["timex"]))
    assert (part.sumsq, part.max, part.min) == (None, None, None)
    assert part.sum.dtype == np.uint32 and (part.sum == 200 * 254 + 400 * 255).all()
    image = xr.DataArray(da.from_array(frames, chunks=(600, 2, 3, 1)),
                         dims=("time", "y", "x", "band"),
                         coords={"time": pd.date_range("2025", periods=600, freq="1s")})
    assert float(image.webcoos.timex().values[0, 0, 0]) == np.float32((200 * 254 + 400 * 255) / 600)
