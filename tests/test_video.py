"""Video clips (cube/video.py): the stand-in's MP4s and ``open_video``'s cubes of sampled frames.

Sampling counts from the first frame and survives dropped frames, chunks seek to
the keyframe before them, truncated and damaged clips are raised or masked.
"""

from __future__ import annotations

import io
import itertools
import sys

import av
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from intake_webcoos import open_video
from intake_webcoos.cube.contract import CHUNK_BYTES
from intake_webcoos.errors import (
    ArgumentTypeError,
    FrameDecodeError,
    InvalidArgumentError,
    MissingDependencyError,
    MissingVariableError,
)
from intake_webcoos.server import Variants
from intake_webcoos.server.scene import SceneRenderer

from .helpers import TOKEN, clear_file_requests, damaged_standin, http, label_of, size_of, time_of

CAMERA = "waikiki_sheraton"
START, END = "2025-09-10T18:00:00Z", "2025-09-10T18:59:59Z"


def clips(standin, start=START, end=END):
    return standin.elements(CAMERA, "video-archive", start, end)


def video(standin, *args, **kwargs):
    return open_video(CAMERA, "video-archive", *args, token=TOKEN, base_url=standin.api_url,
                      **kwargs)


def test_clips_are_real_mp4_of_the_listed_size(standin):
    settings = standin.bodies.video
    listed = clips(standin)
    assert len(listed) == 6
    for element in listed[:2]:
        props = element["data"]["properties"]
        assert props["duration"] == settings.seconds
        body = http(props["url"])
        assert body.status == 200 and body.headers["Content-Type"] == "video/mp4"
        assert len(body.body) == props["size"]
        with av.open(io.BytesIO(body.body)) as container:
            stream = container.streams.video[0]
            assert stream.codec_context.name == "h264"
            frames = list(container.decode(video=0))
        assert len(frames) == settings.frames
        assert (frames[0].width, frames[0].height) == (settings.width, settings.height)
    starts = pd.to_datetime([time_of(e) for e in listed])
    assert (starts.second != 0).any()  # not aligned to the minute, as in the real archive


def test_decoded_frames_match_the_scene(standin):
    ds = video(standin, START, "2025-09-10T18:10Z")
    settings = standin.bodies.video
    assert ds.sizes["time"] == settings.seconds / 0.5
    renderer = SceneRenderer(settings.width, settings.height)
    start = pd.Timestamp(time_of(clips(standin)[0]))
    for k in (0, 7, 39):
        expected = renderer.render(CAMERA, start.timestamp() + 0.5 * k).astype(float)
        got = ds["image"].isel(time=k).values.astype(float)
        assert np.abs(got - expected).mean() < 6  # H.264 error on a noisy scene
    assert ds["time"].values[1] - ds["time"].values[0] == np.timedelta64(500, "ms")
    assert ds["time"].values[0] == np.datetime64(start.tz_localize(None))
    assert set(ds["clip"].values) == {label_of(clips(standin)[0])}


def test_clips_without_a_duration_are_counted_from_their_container(standin):
    with standin.variants(Variants(null_durations=True)):
        assert all(e["data"]["properties"]["duration"] is None for e in clips(standin))
        standin.clear_requests()
        ds = video(standin, START, "2025-09-10T18:30Z")
        reads = [r for r in standin.requests_to("files")]
    expected = video(standin, START, "2025-09-10T18:30Z")
    assert ds.sizes == expected.sizes and (ds["time"].values == expected["time"].values).all()
    # The header was read by ranges: never a whole clip beyond the one that gives the size.
    assert sum("Range" not in r.headers for r in reads) <= 1
    assert any("Range" in r.headers for r in reads)
    assert np.array_equal(ds["image"].isel(time=-1).values,
                          expected["image"].isel(time=-1).values)


@pytest.mark.parametrize("options,per_clip", [({"fps": 1}, 20), ({"sample": "250ms"}, 80),
                                              ({"sample": "2s"}, 10)])
def test_sampling_rates(standin, options, per_clip):
    ds = video(standin, START, "2025-09-10T18:10Z", **options)
    assert ds.sizes["time"] == per_clip
    frames = ds["image"].values
    assert frames.mean() > 10 and not (frames[0] == frames[-1]).all()  # the waves move


def test_chunks_of_n_frames_within_clips(standin):
    whole = video(standin, START, "2025-09-10T18:20Z")
    split = video(standin, START, "2025-09-10T18:20Z", chunks={"time": 15})
    assert split["image"].data.chunks[0] == (15, 15, 10, 15, 15, 10)  # never across clips
    clear_file_requests(standin)
    middle = split["image"].isel(time=slice(16, 29)).values  # one chunk, after a seek
    assert len(standin.requests_to("files")) == 1
    np.testing.assert_array_equal(middle, whole["image"].isel(time=slice(16, 29)).values)
    np.testing.assert_array_equal(split["image"].values, whole["image"].values)


@pytest.mark.parametrize(("options", "per_chunk"), [
    ({"coerce_shape": (1080, 1920)}, (10, 10, 10, 10)),  # 5.9 MiB a frame
    ({"coerce_shape": (1520, 2688), "sample": "250ms"}, (8,) * 10),  # the least of 8
    ({"sample": "250ms"}, (64, 16)),  # small frames: the most of 64, then the clip's rest
])
def test_default_chunks_hold_about_64_mib_and_never_span_clips(standin, options, per_chunk):
    ds = video(standin, START, "2025-09-10T18:20Z", **options)
    chunks = ds["image"].data.chunks[0]
    assert chunks == per_chunk * 2  # two clips, split alike
    frame = ds["image"].nbytes / ds.sizes["time"]
    assert max(chunks) * frame <= 1.5 * CHUNK_BYTES
    assert max(chunks) == 64 or max(chunks) * frame >= CHUNK_BYTES / 2
    bounds = np.cumsum((0, *chunks))
    for lo, hi in itertools.pairwise(bounds):
        assert len(set(ds["clip"].values[lo:hi])) == 1


def test_chunked_cube_equals_one_chunk_per_clip(standin):
    whole = video(standin, START, "2025-09-10T18:20Z", sample="250ms", chunks={"time": -1})
    assert whole["image"].data.chunks[0] == (80, 80)
    split = video(standin, START, "2025-09-10T18:20Z", sample="250ms")
    assert split["image"].data.numblocks[0] == 4
    clear_file_requests(standin)
    frames = split["image"].values
    assert len(standin.requests_to("files")) == 2  # each clip fetched once for its chunks
    np.testing.assert_array_equal(frames, whole["image"].values)
    for chunks in (None, {"time": 7}):
        xr.testing.assert_equal(video(standin, START, "2025-09-10T18:20Z", sample="250ms",
                                      chunks=chunks).webcoos.timex(),
                                whole.webcoos.timex())


@pytest.mark.parametrize("threads", [0, 2])
def test_threaded_decoding_gives_the_same_frames(standin, threads):
    one = video(standin, START, END, chunks={"time": -1}).isel(time=slice(0, 80))
    threaded = video(standin, START, END, chunks={"time": -1}, decode_threads=threads)
    np.testing.assert_array_equal(threaded["image"].isel(time=slice(0, 80)).values,
                                  one["image"].values)


@pytest.mark.parametrize(("value", "error"), [(-1, InvalidArgumentError),
                                              (1.5, InvalidArgumentError),
                                              (True, InvalidArgumentError)])
def test_decode_threads_must_be_a_count(standin, value, error):
    with pytest.raises(error, match="decode_threads must be a whole number >= 0"):
        video(standin, START, END, decode_threads=value)


def test_sampling_faster_than_the_clip(standin):
    with pytest.raises(FrameDecodeError, match="faster than its 4 frames per second"):
        video(standin, START, "2025-09-10T18:10Z", sample="100ms")["image"].compute()
    masked = video(standin, START, "2025-09-10T18:10Z", sample="100ms", on_error="mask")
    assert masked.sizes["time"] == 200
    # Frames every 0.25 s fill the 0.1 s samples they fall in, no other.
    assert np.flatnonzero(masked["valid"].values[:10]).tolist() == [0, 2, 5, 7]


def test_laziness_scale_and_gray(standin):
    standin.clear_requests()
    ds = video(standin, START, END, scale=0.5, grayscale=True)
    assert len(standin.requests_to("files")) == 1  # the first clip, for the frame size
    assert dict(ds.sizes) == {"time": 240, "y": 48, "x": 80, "band": 1}
    clear_file_requests(standin)
    ds.isel(time=slice(0, 3)).image.compute()
    assert len(standin.requests_to("files")) == 1


def test_timex_per_ten_minutes(standin):
    ds = video(standin, START, END)
    timex = ds.webcoos.timex(freq="10min")
    assert timex.sizes["time"] == 6
    first = ds["image"].isel(time=slice(0, 40)).values.astype(float).mean(axis=0)
    np.testing.assert_allclose(timex.isel(time=0).values, first, atol=1e-3)
    assert "clip" not in timex.coords


def test_products_per_clip_are_labelled_by_the_clip_start(standin):
    listed = clips(standin)
    ds = video(standin, START, END, chunks={"time": 15})  # chunks across no clip edge
    frames = ds["image"].values.astype(float).reshape(len(listed), -1, *ds["image"].shape[1:])
    for name, reference in (("timex", frames.mean(axis=1)), ("variance", frames.std(axis=1)),
                            ("brightest", frames.max(axis=1)), ("darkest", frames.min(axis=1))):
        product = getattr(ds.webcoos, name)(per="clip")
        assert product.dims == ("time", "y", "x", "band")
        starts = pd.to_datetime([time_of(e) for e in listed]).tz_convert(None)
        assert (product["time"].values == starts.to_numpy()).all()
        assert product["clip"].values.tolist() == [label_of(e) for e in listed]
        np.testing.assert_allclose(product.values, reference, atol=1e-3)
    both = ds.webcoos.stats(per="clip")
    xr.testing.assert_allclose(both["timex"], ds.webcoos.timex(per="clip"))


def test_products_per_clip_skip_masked_frames_and_follow_time_order(damaged):
    s, _ = damaged
    ds = video(s, START, END, on_error="mask").isel(time=slice(None, None, -1))
    timex = ds.webcoos.timex(per="clip").compute()
    assert timex["time"].to_index().is_monotonic_increasing
    assert np.isnan(timex.values[1:3]).all() and not np.isnan(timex.values[[0, 3, 4, 5]]).any()
    floats = ds["image"].astype(np.float32).assign_coords(valid=ds["valid"])
    xr.testing.assert_allclose(floats.webcoos.timex(per="clip").isel(time=[0, 3]),
                               timex.isel(time=[0, 3]), atol=1e-3)


def test_per_takes_clip_only_and_not_with_freq(standin, stills_hour):
    ds = video(standin, START, END)
    with pytest.raises(InvalidArgumentError, match="per must be 'clip', not 'burst'"):
        ds.webcoos.timex(per="burst")
    with pytest.raises(ArgumentTypeError, match="not both"):
        ds.webcoos.timex(freq="10min", per="clip")
    with pytest.raises(MissingVariableError, match="freq='10min'"):
        stills_hour.webcoos.timex(per="clip")


@pytest.fixture(scope="module")
def damaged():
    """A stand-in of its own whose second clip of the hour is corrupt and third missing."""
    with damaged_standin(CAMERA, "video-archive", (START, END), 1, 2,
                         frame_size=(64, 36)) as damaged:
        yield damaged


@pytest.mark.parametrize("chunks", [None, {"time": 15}])
def test_corrupt_and_missing_clips(damaged, chunks):
    s, urls = damaged
    ds = video(s, START, END, chunks=chunks)
    with pytest.raises(FrameDecodeError, match="not a readable video clip") as info:
        ds["image"].isel(time=slice(40, 80)).compute()
    assert info.value.url == urls[1]
    with pytest.raises(FileNotFoundError, match="No file at"):
        ds["image"].isel(time=slice(80, 120)).compute()
    masked = video(s, START, END, on_error="mask", chunks=chunks)
    valid = masked["valid"].values.reshape(6, 40)
    assert valid.all(axis=1).tolist() == [True, False, False, True, True, True]
    assert not valid[1:3].any()  # every chunk of the bad clips, masked whole
    good = np.delete(masked["image"].values, np.s_[40:120], axis=0).astype(float)
    np.testing.assert_allclose(masked.webcoos.timex().values, good.mean(axis=0), atol=1e-3)


def _fetches() -> int:
    """Clips this process fetched for its tasks (run on each worker)."""
    from intake_webcoos.fs.shared_files import SHARED

    return SHARED.fetches


def test_distributed_timex_over_clips(standin, monkeypatch):
    distributed = pytest.importorskip("distributed")
    monkeypatch.delenv("WEBCOOS_API_TOKEN", raising=False)
    ds = video(standin, START, END, sample="1s")
    local = ds.webcoos.timex(per="clip").compute(scheduler="threads")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        standin.clear_requests()
        remote = ds.webcoos.timex(per="clip").compute()
        fetched = sum(client.run(_fetches).values())
    xr.testing.assert_allclose(remote, local)
    # Each clip fetched by the workers that decode it (once each, at most), never sent
    # from one to the other: the stand-in served every fetch.
    assert 6 <= fetched <= 12 and len(standin.requests_to("files")) == fetched


def test_missing_pyav_names_the_extra(standin, monkeypatch):
    monkeypatch.setitem(sys.modules, "av", None)  # as if PyAV were not installed
    with pytest.raises(MissingDependencyError, match=r"intake_webcoos\[video\]"):
        video(standin, START, END)


def test_opening_reads_only_the_first_clips_header(standin):
    """The frame size comes from ranged reads of the container, not the whole clip."""
    standin.clear_requests()
    ds = video(standin, START, "2025-09-10T18:09:59Z")
    reads = standin.requests_to("files")
    assert reads and all("Range" in r.headers or "range" in r.headers for r in reads)
    fetched = sum(_range_bytes(r.headers.get("Range") or r.headers["range"]) for r in reads)
    assert fetched < size_of(clips(standin)[0])  # less than the clip
    frames = ds["image"].isel(time=slice(0, 2)).values
    assert frames.shape[1:3] == ds["image"].shape[1:3]  # the header told the decoded size


def _range_bytes(header: str) -> int:
    start, end = header.removeprefix("bytes=").split("-")
    return int(end) - int(start) + 1


def test_key_frames_only_at_the_key_frame_interval_gives_the_same_samples(standin):
    # The stand-in's small clips have one key frame, their first: one sample per clip.
    every = video(standin, START, END, sample="20s")
    keys = video(standin, START, END, sample="20s", keyframes=True)
    assert keys.attrs["keyframes_only"] == 1 and every.attrs["keyframes_only"] == 0
    np.testing.assert_array_equal(keys["image"].values, every["image"].values)
    with pytest.raises(FrameDecodeError, match="key frames are further apart"):
        video(standin, START, END, sample="10s", keyframes=True)["image"].compute()
