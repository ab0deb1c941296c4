"""The stand-in's clips at a camera's key frame interval and bitrate (server/video.py).

One stand-in serves clips of 60 s at 20 fps at 640x360, a key frame a second,
at a constant bitrate, kept in a folder of its own; the tests fetch them over
HTTP and read them with PyAV.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import av
import numpy as np
import pytest
from click.testing import CliRunner

from intake_webcoos import Client
from intake_webcoos.server import StandIn, VideoSettings
from intake_webcoos.server.command import serve
from intake_webcoos.server.scene import SceneRenderer
from intake_webcoos.server.video import cache_path, clip_bytes

from .helpers import CAMERA, TOKEN, http

PRODUCT = "video-archive"
SPAN = ("2025-09-10T18:00:00Z", "2025-09-10T18:29:59Z")
SETTINGS = dict(seconds=60.0, fps=20, width=640, height=360, keyframe_seconds=1.0,
                bitrate=600_000)


def listing(standin: StandIn):
    return Client(TOKEN, standin.api_url).elements(CAMERA, PRODUCT, *SPAN)


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("clips")


@pytest.fixture(scope="module")
def served(folder):
    """A stand-in's listing, its clip folder right after, and its first clip fetched."""
    with StandIn(token=TOKEN, video=VideoSettings(**SETTINGS, cache_dir=folder)) as standin:
        elements = listing(standin)
        made_by_listing = sorted(folder.iterdir())
        answer = http(elements["url"].iloc[0])
        yield elements, made_by_listing, answer


def key_packets(data: bytes) -> list[bool]:
    """Whether each packet of a clip's video stream is a key frame."""
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        return [p.is_keyframe for p in container.demux(stream) if p.size]


def test_listing_encodes_nothing_and_sizes_are_the_served_sizes(served, folder):
    elements, made_by_listing, answer = served
    assert len(elements) == 3 and made_by_listing == []
    assert answer.status == 200
    assert len(answer.body) == int(answer.headers["Content-Length"]) == elements["size"].iloc[0]
    # The constant bitrate fills the declared size but for its small bound's slack.
    coded = SETTINGS["bitrate"] * SETTINGS["seconds"] / 8
    assert coded * 0.9 < len(answer.body) < coded * 1.2
    (kept,) = folder.glob("*.mp4")
    assert answer.body.startswith(kept.read_bytes())


def test_key_frames_come_at_the_configured_interval(served):
    keys = key_packets(served[2].body)
    assert len(keys) == 1200
    assert np.flatnonzero(keys).tolist() == list(range(0, 1200, 20))


def test_a_60_s_clip_decodes_to_every_frame_at_its_size_and_rate(served):
    with av.open(io.BytesIO(served[2].body)) as container:
        stream = container.streams.video[0]
        assert stream.average_rate == 20
        assert float(stream.duration * stream.time_base) == pytest.approx(60.0, abs=0.1)
        shapes = [frame.to_ndarray(format="rgb24").shape
                  for frame in container.decode(stream)]
    assert len(shapes) == 1200 and set(shapes) == {(360, 640, 3)}


def test_a_second_stand_in_serves_the_clip_from_the_folder(served, folder):
    first = served[2]
    (kept,) = folder.glob("*.mp4")
    # Mark the kept clip: if the second stand-in encoded it again, the mark would be gone.
    marked = b"\0\0\0\x10free-from-cache" + kept.read_bytes()[16:]
    kept.write_bytes(marked)
    with StandIn(token=TOKEN, video=VideoSettings(**SETTINGS, cache_dir=folder)) as again:
        url = listing(again)["url"].iloc[0]
        body = http(url).body
    assert body.startswith(marked) and len(body) == len(first.body)
    assert [p.suffix for p in folder.iterdir()] == [".mp4"]  # no temporary file left


def test_a_failed_cache_write_leaves_no_file(tmp_path, monkeypatch):
    settings = VideoSettings(seconds=1.0, cache_dir=tmp_path)
    renderer = SceneRenderer(*settings.render_size)

    def full_disk(*_args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(OSError, match="No space"):
        clip_bytes(renderer, CAMERA, 1.7e9, settings)
    assert list(tmp_path.iterdir()) == []
    monkeypatch.undo()
    data = clip_bytes(renderer, CAMERA, 1.7e9, settings)
    assert cache_path(tmp_path, CAMERA, 1.7e9, settings, 23).read_bytes() == data


def test_every_setting_that_changes_the_bytes_names_another_file(tmp_path):
    base = VideoSettings(cache_dir=tmp_path)
    names = {cache_path(tmp_path, CAMERA, 1.7e9, settings, 23)
             for settings in (base, VideoSettings(keyframe_seconds=2.0),
                              VideoSettings(bitrate=50_000), VideoSettings(fps=5),
                              VideoSettings(width=320), VideoSettings(seconds=10.0))}
    names |= {cache_path(tmp_path, "other", 1.7e9, base, 23),
              cache_path(tmp_path, CAMERA, 1.7e9 + 1, base, 23),
              cache_path(tmp_path, CAMERA, 1.7e9, base, 28)}
    assert len(names) == 9
    assert base == VideoSettings(cache_dir=None)  # where clips are kept is not what they are


def test_camera_settings_render_small_and_bound_the_size():
    settings = VideoSettings.camera(1920, 1080, cache_dir="")
    assert (settings.frames, settings.keyframe_interval) == (12_000, 20)
    assert settings.render_size == (960, 540) and settings.folder() is None
    assert VideoSettings.camera(2688, 1520).render_size == (896, 507)
    assert 90e6 < settings.size_bound() < 91e6
    with pytest.raises(ValueError, match="bitrate"):
        VideoSettings(bitrate=100)
    with pytest.raises(ValueError, match="positive"):
        VideoSettings(keyframe_seconds=0)


def test_serve_documents_the_clip_options():
    out = CliRunner().invoke(serve, ["--help"], terminal_width=200).output
    for option in ("--clip-keyframe-seconds", "--clip-bitrate", "--clip-cache",
                   "--no-clip-cache", "WEBCOOS_STANDIN_CACHE"):
        assert option in out


def test_a_looped_clip_repeats_its_loop_with_the_key_frames_and_times_of_a_whole_clip():
    settings = VideoSettings(seconds=6.0, fps=10, width=160, height=96, keyframe_seconds=1.0,
                             bitrate=200_000, loop_seconds=2.0, cache_dir="")
    data = clip_bytes(SceneRenderer(*settings.render_size), CAMERA, 1.757e9, settings)
    assert key_packets(data) == [k % 10 == 0 for k in range(60)]
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        assert float(stream.duration * stream.time_base) == pytest.approx(6.0)
        decoded = [(f.time, f.to_ndarray(format="rgb24")) for f in container.decode(stream)]
    assert [t for t, _ in decoded] == pytest.approx([k / 10 for k in range(60)])
    assert all((decoded[k][1] == decoded[k + 20][1]).all() for k in range(40))
    assert (decoded[3][1] != decoded[4][1]).any()  # waves move within the loop


@pytest.mark.parametrize("changes", [dict(loop_seconds=1.5), dict(loop_seconds=8.0),
                                     dict(loop_seconds=2.0, keyframe_seconds=None)])
def test_a_loop_must_hold_whole_key_frame_intervals(changes):
    settings = {"seconds": 6.0, "fps": 10, "keyframe_seconds": 1.0, **changes}
    with pytest.raises(ValueError, match="loop_seconds must be a multiple of keyframe"):
        VideoSettings(**settings)


@pytest.mark.parametrize(("preset", "profiles"), [("ultrafast", {"Constrained Baseline",
                                                                   "Baseline"}),
                                                  ("veryfast", {"High", "Main"})])
def test_the_preset_decides_how_clips_decode(preset, profiles):
    settings = VideoSettings(seconds=1.0, fps=10, width=160, height=96, keyframe_seconds=1.0,
                             preset=preset, cache_dir="")
    data = clip_bytes(SceneRenderer(*settings.render_size), CAMERA, 1.757e9, settings)
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.profile in profiles
        assert len(list(container.decode(stream))) == 10
