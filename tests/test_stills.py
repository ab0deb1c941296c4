"""Image cubes (cube/stills.py, cube/contract.py, cube/decode.py) against the stand-in.

The dataset contract, laziness, frames equal to Pillow's decodes (scaled, gray),
``every`` and chunks, globs and path lists, frames that do not fit, damaged
frames (raised or masked), and computing on a dask.distributed cluster.  Empty
selections are in ``test_bad_input.py``, the coastal products in ``test_reductions.py``
and the xarray engine in ``test_backend.py``.
"""

from __future__ import annotations

import io

import dask
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from PIL import Image

from intake_webcoos import open_images
from intake_webcoos.cube.contract import CubeOptions, frames_per_chunk
from intake_webcoos.errors import (
    FrameDecodeError,
    FrameShapeError,
    InvalidArgumentError,
    ServerError,
)
from intake_webcoos.server import StandIn

from .helpers import CAMERA, HOUR, STILLS, TOKEN, damaged_standin, label_of, time_of, url_of

START, END = HOUR


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


def test_dataset_contract(stills_hour, standin):
    truth = standin.elements(CAMERA, STILLS, START, END)
    assert stills_hour["image"].dims == ("time", "y", "x", "band")
    assert stills_hour["image"].dtype == np.uint8
    assert stills_hour["image"].shape == (len(truth), 180, 320, 3)
    assert isinstance(stills_hour["image"].data, dask.array.Array)
    # Default chunks: about 64 MiB of pixels, 8 to 64 frames; 60 small frames make one.
    assert stills_hour["image"].data.chunks[0] == (len(truth),)
    assert stills_hour["time"].dtype == np.dtype("datetime64[ns]")
    expected_times = pd.to_datetime([time_of(e) for e in truth])
    np.testing.assert_array_equal(stills_hour["time"].values,
                                  expected_times.tz_localize(None).to_numpy())
    assert list(stills_hour["url"].values) == [url_of(e) for e in truth]
    assert list(stills_hour["filename"].values) == [label_of(e) for e in truth]
    assert list(stills_hour["band"].values) == ["red", "green", "blue"]
    attrs = stills_hour.attrs
    assert attrs["camera"] == CAMERA and attrs["camera_label"] == "Beachfront, Waikiki, HI"
    assert (attrs["latitude"], attrs["longitude"]) == (21.276763, -157.83024)
    assert attrs["camera_timezone"] == "US/Hawaii" and attrs["product"] == STILLS
    assert attrs["service"] == "waikiki_sheraton-one-minute-stills-s3"
    assert "WebCOOS 2025" in attrs["citation"] and "SECOORA" in attrs["citation"]
    assert "UTC" in attrs["time_note"]
    assert all(TOKEN not in str(v) for v in attrs.values())


def test_opening_is_lazy(standin):
    standin.clear_requests()
    ds = cube(standin, CAMERA, STILLS, START, END, chunks=8)
    assert len(standin.requests_to("files")) == 1  # one frame, for its size
    standin.clear_requests()
    ds.isel(time=slice(3, 5)).image.compute()
    assert len(standin.requests_to("files")) <= 8  # one chunk (of 8 frames), not the hour
    standin.clear_requests()
    ds.image.compute()
    assert len(standin.requests_to("files")) == ds.sizes["time"]
    standin.clear_requests()
    cube(standin, CAMERA, STILLS, START, END, coerce_shape=(180, 320))
    assert standin.requests_to("files") == []  # the size is given: nothing to read


def test_values_equal_pillow_decodes(stills_hour, standin):
    np.testing.assert_array_equal(stills_hour["image"].values,
                                  pillow_frames(standin, stills_hour["url"].values))


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
    with pytest.raises(InvalidArgumentError, match="1/8"):
        cube(standin, CAMERA, STILLS, START, END, scale=0.3)


def test_a_bad_on_error_is_refused_naming_the_choices(standin):
    with pytest.raises(InvalidArgumentError,
                       match="on_error must be 'raise' or 'mask', not 'skip'"):
        cube(standin, CAMERA, STILLS, START, END, on_error="skip")


def test_every_and_chunks(standin):
    ds = cube(standin, CAMERA, STILLS, START, END, every="10min", chunks={"time": 4})
    assert ds.sizes["time"] == 6
    assert ds["image"].data.chunks[0] == (4, 2)
    np.testing.assert_array_equal(ds["image"].values,
                                  pillow_frames(standin, ds["url"].values))


def test_glob_and_path_list(standin, stills_hour):
    by_glob = cube(standin, "webcoos://waikiki_sheraton/one-minute-stills/2025/09/10/*-18????Z.jpg")
    xr.testing.assert_equal(by_glob, stills_hour)  # values, coords and names; no attrs
    assert by_glob.attrs["camera"] == CAMERA
    paths = [f"webcoos://waikiki_sheraton/one-minute-stills/2025/09/10/{f}"
             for f in stills_hour["filename"].values[:5]]
    by_list = cube(standin, paths)
    np.testing.assert_array_equal(by_list["image"].values, stills_hour["image"].values[:5])


@pytest.mark.parametrize("product,hint", [("video-archive", "open_video"),
                                          ("rip-detection-results", "read_results")])
def test_a_product_of_other_files_says_which_reader_to_use(api_env, product, hint):
    """open_images on clips or result files: a typed error that names the right reader."""
    camera = "walton_lighthouse" if product.endswith("-results") else CAMERA
    with pytest.raises((FrameDecodeError, ValueError)) as info:
        open_images(camera, product, "2025-09-10T18:00Z", "2025-09-10T18:30Z")
    assert hint in str(info.value), str(info.value)


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


@pytest.fixture(scope="module")
def damaged():
    """A stand-in of its own (damage cannot be undone): frame 3 corrupt, frame 7 missing."""
    with damaged_standin(CAMERA, STILLS, HOUR, 3, 7, frame_size=(320, 180)) as damaged:
        yield damaged


def test_corrupt_frame_raises_naming_the_url(damaged):
    s, urls = damaged
    ds = cube(s, CAMERA, STILLS, START, END, chunks=1)  # each frame fails on its own
    with pytest.raises((FrameDecodeError, FileNotFoundError, ServerError)) as info:
        ds["image"].compute()
    assert urls[3] in str(info.value) or urls[7] in str(info.value)
    with pytest.raises(FrameDecodeError, match="not a readable image") as info:
        ds["image"].isel(time=3).compute()
    assert info.value.url == urls[3] and urls[3] in str(info.value)
    assert "on_error='mask'" in str(info.value) or 'on_error="mask"' in str(info.value)
    with pytest.raises(FileNotFoundError, match="No file at"):
        ds["image"].isel(time=7).compute()


def test_corrupt_and_missing_frames_masked(damaged):
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


# -- dask.distributed ----------------------------------------------------------------------
def test_distributed_timex(standin, stills_hour, monkeypatch):
    import distributed

    stills_hour = cube(standin, CAMERA, STILLS, START, END, chunks=6)  # work for both workers
    monkeypatch.delenv("WEBCOOS_API_TOKEN", raising=False)  # workers must not need it
    local = stills_hour.webcoos.timex().compute(scheduler="threads")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        remote = stills_hour.webcoos.timex().compute()
        sessions = client.run(_file_clients)
    xr.testing.assert_allclose(remote, local)
    assert len(sessions) == 2 and all(n == 1 for n in sessions.values())


def _file_clients() -> int:
    from intake_webcoos.fs import element_files

    return len(element_files._instances)


@pytest.mark.parametrize(("shape", "bands", "frames"), [
    ((1520, 2688), 3, 8),     # the largest cameras: 11.7 MiB a frame, the least of 8
    ((720, 1280), 3, 24),     # 64 MiB / 2.6 MiB
    ((360, 640), 3, 64),      # smaller frames: the most of 64
    ((720, 1280), 1, 64),     # gray: a third of the bytes
])
def test_default_chunks_hold_about_64_mib(shape, bands, frames):
    options = CubeOptions(shape=shape, grayscale=bands == 1)
    assert frames_per_chunk(options) == frames


def test_chunks_decode_the_same_frames_as_single_frame_chunks(standin, stills_hour):
    one_by_one = cube(standin, CAMERA, STILLS, START, END, chunks=1)
    assert one_by_one["image"].data.numblocks[0] == stills_hour.sizes["time"]
    np.testing.assert_array_equal(one_by_one["image"].values, stills_hour["image"].values)


def test_chunks_minus_one_is_one_chunk_as_in_dask(standin, stills_hour):
    whole = cube(standin, CAMERA, STILLS, START, END, chunks={"time": -1})
    assert whole["image"].data.chunks[0] == (stills_hour.sizes["time"],)
    np.testing.assert_array_equal(whole["image"].values, stills_hour["image"].values)
