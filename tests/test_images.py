"""Image cubes, the xarray engine and the coastal products, against the stand-in."""

from __future__ import annotations

import io
import pickle

import dask
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from PIL import Image

from intake_webcoos import open_images
from intake_webcoos.api import EmptyRangeError
from intake_webcoos.api.errors import FrameDecodeError, FrameShapeError, ServerError
from intake_webcoos.server import StandIn

from .conftest import TOKEN

CAMERA, STILLS = "waikiki_sheraton", "one-minute-stills"
START, END = "2025-09-10T18:00:00Z", "2025-09-10T18:59:59Z"


def cube(standin, *args, **kwargs) -> xr.Dataset:
    return open_images(*args, token=TOKEN, base_url=standin.api_url, **kwargs)


def pillow_frames(standin, urls, scale=1, mode="RGB") -> np.ndarray:
    """The frames decoded one by one with Pillow, straight from the stand-in's bytes."""
    frames = []
    for url in urls:
        image = Image.open(io.BytesIO(standin.file_bytes(url)))
        if scale != 1 or mode != "RGB":
            image.draft(mode, (int(image.width * scale), int(image.height * scale)))
        frames.append(np.asarray(image.convert(mode)))
    stacked = np.stack(frames)
    return stacked[..., None] if stacked.ndim == 3 else stacked


@pytest.fixture(scope="module")
def hour(standin):
    return cube(standin, CAMERA, STILLS, START, END)


def test_dataset_contract(hour, standin):
    truth = standin.elements(CAMERA, STILLS, START, END)
    assert hour["image"].dims == ("time", "y", "x", "band")
    assert hour["image"].dtype == np.uint8
    assert hour["image"].shape == (len(truth), 180, 320, 3)
    assert isinstance(hour["image"].data, dask.array.Array)
    assert hour["image"].data.chunks[0] == (1,) * len(truth)
    assert hour["time"].dtype == np.dtype("datetime64[ns]")
    expected_times = pd.to_datetime([e["data"]["extents"]["temporal"]["min"] for e in truth])
    np.testing.assert_array_equal(hour["time"].values,
                                  expected_times.tz_localize(None).to_numpy())
    assert list(hour["url"].values) == [e["data"]["properties"]["url"] for e in truth]
    assert list(hour["filename"].values) == [e["data"]["common"]["label"] for e in truth]
    assert list(hour["band"].values) == ["red", "green", "blue"]
    attrs = hour.attrs
    assert attrs["camera"] == CAMERA and attrs["camera_label"] == "Beachfront, Waikiki, HI"
    assert (attrs["latitude"], attrs["longitude"]) == (21.276763, -157.83024)
    assert attrs["camera_timezone"] == "US/Hawaii" and attrs["product"] == STILLS
    assert attrs["service"] == "waikiki_sheraton-one-minute-stills-s3"
    assert "WebCOOS 2025" in attrs["citation"] and "SECOORA" in attrs["citation"]
    assert "UTC" in attrs["time_note"]
    assert all(TOKEN not in str(v) for v in attrs.values())


def test_opening_is_lazy(standin):
    standin.clear_requests()
    ds = cube(standin, CAMERA, STILLS, START, END)
    assert len(standin.requests_to("files")) == 1  # one frame, for its size
    standin.clear_requests()
    ds.isel(time=slice(3, 5)).image.compute()
    assert len(standin.requests_to("files")) <= 16  # one fetch batch, not the hour
    standin.clear_requests()
    ds.image.compute()
    assert len(standin.requests_to("files")) == ds.sizes["time"]
    standin.clear_requests()
    cube(standin, CAMERA, STILLS, START, END, coerce_shape=(180, 320))
    assert standin.requests_to("files") == []  # the size is given: nothing to read


def test_values_equal_pillow_decodes(hour, standin):
    np.testing.assert_array_equal(hour["image"].values,
                                  pillow_frames(standin, hour["url"].values))


@pytest.mark.parametrize("scale", [1 / 2, 1 / 4, 1 / 8])
def test_scale_matches_pillow_draft(standin, scale):
    ds = cube(standin, CAMERA, STILLS, START, "2025-09-10T18:09:59Z", scale=scale)
    assert ds.sizes["y"] == int(np.ceil(180 * scale)) and ds.sizes["x"] == int(320 * scale)
    np.testing.assert_array_equal(ds["image"].values,
                                  pillow_frames(standin, ds["url"].values, scale))


def test_grayscale_matches_pillow(standin):
    ds = cube(standin, CAMERA, STILLS, START, "2025-09-10T18:09:59Z", grayscale=True,
              scale=1 / 2)
    assert ds.sizes["band"] == 1 and list(ds["band"].values) == ["gray"]
    np.testing.assert_array_equal(ds["image"].values,
                                  pillow_frames(standin, ds["url"].values, 1 / 2, "L"))


def test_bad_scale(standin):
    with pytest.raises(ValueError, match="1/8"):
        cube(standin, CAMERA, STILLS, START, END, scale=0.3)


def test_every_and_chunks(standin):
    ds = cube(standin, CAMERA, STILLS, START, END, every="10min", chunks={"time": 4})
    assert ds.sizes["time"] == 6
    assert ds["image"].data.chunks[0] == (4, 2)
    np.testing.assert_array_equal(ds["image"].values,
                                  pillow_frames(standin, ds["url"].values))


def test_glob_and_path_list(standin, hour):
    by_glob = cube(standin, "webcoos://waikiki_sheraton/one-minute-stills/2025/09/10/*-18????Z.jpg")
    xr.testing.assert_identical(by_glob.drop_attrs(), hour.drop_attrs())
    assert by_glob.attrs["camera"] == CAMERA
    paths = [f"webcoos://waikiki_sheraton/one-minute-stills/2025/09/10/{f}"
             for f in hour["filename"].values[:5]]
    by_list = cube(standin, paths)
    np.testing.assert_array_equal(by_list["image"].values, hour["image"].values[:5])


def test_empty_range(standin):
    with pytest.raises(EmptyRangeError, match="daylight"):
        cube(standin, CAMERA, STILLS, "2025-09-10T09:00Z", "2025-09-10T11:00Z")


# -- products ------------------------------------------------------------------------
def test_products_equal_numpy(hour):
    frames = hour["image"].values.astype(np.float64)
    np.testing.assert_allclose(hour.webcoos.timex().values, frames.mean(axis=0), atol=1e-3)
    np.testing.assert_allclose(hour.webcoos.variance().values, frames.std(axis=0), atol=1e-3)
    np.testing.assert_array_equal(hour.webcoos.brightest().values, frames.max(axis=0))
    np.testing.assert_array_equal(hour.webcoos.darkest().values, frames.min(axis=0))
    assert hour.webcoos.brightest().dtype == np.uint8
    assert hour.webcoos.timex().dtype == np.float32
    gray = hour.webcoos.to_gray()
    expected = np.rint(frames @ np.array([0.299, 0.587, 0.114], dtype=np.float32))
    np.testing.assert_allclose(gray.values[..., 0], expected, atol=1)
    # The DataArray accessor gives the same as the Dataset's.
    xr.testing.assert_allclose(hour["image"].webcoos.timex(), hour.webcoos.timex())


def test_products_are_lazy(hour):
    for product in (hour.webcoos.timex(), hour.webcoos.variance("10min"),
                    hour.webcoos.brightest(), hour.webcoos.timestack([(10, 0), (10, 179)])):
        assert isinstance(product.data, dask.array.Array)


def test_products_per_bin(hour):
    binned = hour.webcoos.timex("10min")
    assert binned.dims == ("time", "y", "x", "band") and binned.sizes["time"] == 6
    np.testing.assert_array_equal(binned["time"].values,
                                  pd.date_range("2025-09-10T18:00", periods=6, freq="10min"))
    first = hour["image"].sel(time=slice("2025-09-10T18:00", "2025-09-10T18:09:59"))
    np.testing.assert_allclose(binned.isel(time=0).values,
                               first.values.astype(float).mean(axis=0), atol=1e-3)
    bright = hour.webcoos.brightest("20min")
    assert bright.sizes["time"] == 3 and bright.dtype == np.uint8


def test_timestack_sampling(hour):
    stack = hour.webcoos.timestack([(100, 10), (100, 170), (300, 170)], spacing=2)
    assert stack.dims == ("time", "distance", "band")
    assert stack["distance"].values[-1] == pytest.approx(360, abs=2)
    np.testing.assert_array_equal(stack.isel(distance=0).values,
                                  hour["image"].isel(x=100, y=10).values)
    np.testing.assert_array_equal(stack.isel(distance=80).values,
                                  hour["image"].isel(x=100, y=170).values)
    with pytest.raises(ValueError, match="leaves"):
        hour.webcoos.timestack([(0, 0), (400, 0)])


def test_timestack_shows_sea_above_sand_and_the_tide(standin):
    day = cube(standin, CAMERA, STILLS, "2025-09-10T17:00Z", "2025-09-11T05:00Z",
               every="20min")
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


# -- frames that do not fit ------------------------------------------------------------
@pytest.fixture(scope="module")
def resized():
    """kasitsna_dock's camera is replaced on 2025-09-10 at 20:00 UTC by one at 160x100."""
    with StandIn(token=TOKEN, frame_size=(320, 180),
                 resolution_changes={"kasitsna_dock": ("2025-09-10T20:00Z", (160, 100))}) as s:
        yield s


def test_mixed_sizes_without_coerce(resized):
    ds = cube(resized, "kasitsna_dock", STILLS, "2025-09-10T19:50Z", "2025-09-10T20:10Z")
    with pytest.raises(FrameShapeError, match=r"160x100 .* 320x180.*coerce_shape") as info:
        ds["image"].compute()
    assert info.value.url.startswith(resized.files_url)
    assert "20" in info.value.url.rsplit("-", 1)[1][:2]


def test_mixed_sizes_with_coerce(resized):
    ds = cube(resized, "kasitsna_dock", STILLS, "2025-09-10T19:50Z", "2025-09-10T20:10Z",
              coerce_shape=(180, 320))
    frames = ds["image"].values
    late = ds["time"].values >= np.datetime64("2025-09-10T20:00")
    assert late.any() and (~late).any()
    small = pillow_frames(resized, ds["url"].values[late])
    np.testing.assert_array_equal(frames[late][:, :100, :160], small)
    assert (frames[late][:, 100:] == 0).all() and (frames[late][:, :, 160:] == 0).all()
    np.testing.assert_array_equal(frames[~late], pillow_frames(resized, ds["url"].values[~late]))
    cropped = cube(resized, "kasitsna_dock", STILLS, "2025-09-10T19:50Z", "2025-09-10T20:10Z",
                   coerce_shape=(50, 60))
    np.testing.assert_array_equal(cropped["image"].values, frames[:, :50, :60])


@pytest.fixture
def damaged():
    with StandIn(token=TOKEN, frame_size=(320, 180)) as s:
        urls = [e["data"]["properties"]["url"] for e in s.elements(CAMERA, STILLS, START, END)]
        s.damage(urls[3], "corrupt")
        s.damage(urls[7], "missing")
        yield s, urls


def test_corrupt_frame_raises_naming_the_url(damaged):
    s, urls = damaged
    ds = cube(s, CAMERA, STILLS, START, END)
    with pytest.raises((FrameDecodeError, FileNotFoundError, ServerError)) as info:
        ds["image"].compute()
    assert urls[3] in str(info.value) or urls[7] in str(info.value)
    with pytest.raises(FrameDecodeError, match="not a readable image") as info:
        ds["image"].isel(time=3).compute()
    assert info.value.url == urls[3]
    with pytest.raises(FileNotFoundError, match="No file at"):
        ds["image"].isel(time=7).compute()


def test_corrupt_and_missing_frames_masked(damaged, hour):
    s, urls = damaged
    ds = cube(s, CAMERA, STILLS, START, END, on_error="mask")
    assert "valid" in ds.coords
    valid = ds["valid"].values
    assert valid.tolist() == [i not in (3, 7) for i in range(len(urls))]
    frames = ds["image"].values
    assert (frames[3] == 0).all() and (frames[7] == 0).all()
    good = np.delete(frames, [3, 7], axis=0).astype(float)
    np.testing.assert_allclose(ds.webcoos.timex().values, good.mean(axis=0), atol=1e-3)
    np.testing.assert_array_equal(ds.webcoos.darkest().values, good.min(axis=0))
    np.testing.assert_array_equal(ds.webcoos.brightest().values, good.max(axis=0))


# -- the xarray engine ---------------------------------------------------------------------
def test_open_dataset_engine(standin, hour):
    ds = xr.open_dataset("webcoos://waikiki_sheraton/one-minute-stills", engine="webcoos",
                         start=START, end=END, token=TOKEN, base_url=standin.api_url)
    xr.testing.assert_identical(ds, hour)
    reduced = xr.open_dataset("webcoos://waikiki_sheraton/one-minute-stills", engine="webcoos",
                              start=START, end="2025-09-10T18:04:59Z", scale=0.25, token=TOKEN,
                              base_url=standin.api_url)
    assert reduced.sizes["x"] == 80 and reduced.sizes["time"] == 5
    # Without engine=, xarray asks each backend; ours claims webcoos:// (but netCDF4,
    # when installed, claims every URL first, so naming the engine is the safe way).
    from intake_webcoos.xarray_backend import WebcoosBackendEntrypoint

    backend = WebcoosBackendEntrypoint()
    assert backend.guess_can_open("webcoos://waikiki_sheraton/one-minute-stills")
    assert not backend.guess_can_open("https://example.org/data.nc")
    assert not backend.guess_can_open("local.jpg")
    globbed = xr.open_dataset("webcoos://waikiki_sheraton/one-minute-stills/2025/09/10/*-1800??Z.jpg",
                              engine="webcoos", token=TOKEN, base_url=standin.api_url)
    assert globbed.sizes["time"] == 1
    with pytest.raises(ValueError, match="camera/product"):
        xr.open_dataset("webcoos://waikiki_sheraton", engine="webcoos", token=TOKEN,
                        base_url=standin.api_url)


# -- dask.distributed ----------------------------------------------------------------------
def test_graph_carries_no_token(hour):
    import cloudpickle

    graph = dict(hour.__dask_graph__())
    blob = cloudpickle.dumps(graph)
    assert TOKEN.encode() not in blob
    assert pickle.loads(blob)  # and it pickles


def test_distributed_timex(standin, hour, monkeypatch):
    distributed = pytest.importorskip("distributed")
    monkeypatch.delenv("WEBCOOS_API_TOKEN", raising=False)  # workers must not need it
    local = hour.webcoos.timex().compute(scheduler="threads")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        remote = hour.webcoos.timex().compute()
        sessions = client.run(_file_clients)
    xr.testing.assert_allclose(remote, local)
    assert len(sessions) == 2 and all(n == 1 for n in sessions.values())


def _file_clients() -> int:
    from intake_webcoos import fetch as decode

    return len(decode._clients)
