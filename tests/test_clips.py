"""Decoding clips (cube/clips.py): sampling, seeking, key frames only, damage.

The clips are made here with PyAV (tiny, gray, known values per frame), so each
sample's frame is known.
"""

from __future__ import annotations

import io
import logging
import re
from dataclasses import replace

import av
import numpy as np
import pytest

from intake_webcoos.cube.clips import ClipDecoding, decode_clip
from intake_webcoos.cube.contract import CubeOptions
from intake_webcoos.errors import FrameDecodeError, FrameShapeError


def _decoded(caplog) -> list[int]:
    return [int(re.match(r"decoded (\d+) frames", r.getMessage())[1]) for r in caplog.records
            if r.name == "intake_webcoos.cube" and r.getMessage().startswith("decoded")]


@pytest.mark.parametrize("per_chunk", [3, 5, 12])
def test_chunks_decode_a_clip_about_once(caplog, per_chunk):
    gop = 6  # a keyframe every 1.5 s, as cameras write
    clip = mp4([k * 4 for k in range(60)], range(60), gop=gop)
    with caplog.at_level(logging.DEBUG, logger="intake_webcoos.cube"):
        whole, _ = decode_clip([clip], "u", 0, 30, 0.5, GRAY)
        (once,) = _decoded(caplog)
        caplog.clear()
        parts = [decode_clip([clip], "u", first, min(per_chunk, 30 - first), 0.5, GRAY)[0]
                 for first in range(0, 30, per_chunk)]
        decoded = _decoded(caplog)
    assert once == 60
    np.testing.assert_array_equal(np.concatenate(parts), whole)
    # Each chunk decodes its own frames, at most a keyframe interval before them, and
    # the one frame after them that ends it.
    assert sum(decoded) <= once + len(parts) * gop
    assert max(decoded) <= 2 * per_chunk + gop + 1


def mp4(values, pts, fps=4, gop=None):
    """A small clip of flat gray frames (``values``) at the given pts (1/fps units)."""
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 32, 16, "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "10", **({"g": str(gop)} if gop else {})}
        for value, t in zip(values, pts, strict=True):
            frame = av.VideoFrame.from_ndarray(np.full((16, 32, 3), value, np.uint8), "rgb24")
            frame.pts = t
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return buffer.getvalue()


GRAY = CubeOptions(grayscale=True, shape=(16, 32))


def test_sample_times_count_from_the_first_frame_and_survive_dropped_frames():
    # pts start at 10 s (as in recordings); frame 4 (1.0 s) is dropped.
    ticks = [t for t in range(40, 56) if t != 44]
    clip = mp4([(t - 40) * 15 for t in ticks], ticks)
    frames, valid = decode_clip([clip], "u", 0, 8, 0.5, GRAY)
    assert valid.all()
    # Sample k is the first frame at or after k/2 s: frame 2k, and frame 5 for sample 2.
    assert frames[:, 0, 0, 0].tolist() == pytest.approx([0, 30, 75, 90, 120, 150, 180, 210],
                                                        abs=3)
    ticks = [t for t in range(40, 56) if t not in (44, 45)]  # nothing in [1.0, 1.5) s
    clip = mp4([(t - 40) * 15 for t in ticks], ticks)
    with pytest.raises(FrameDecodeError, match="first missing: sample 2, at 1 s"):
        decode_clip([clip], "u", 0, 8, 0.5, GRAY)
    frames, valid = decode_clip([clip], "u", 0, 8, 0.5, replace(GRAY, mask=True))
    assert valid.tolist() == [True, True, False, True, True, True, True, True]
    assert not frames[2].any()


def test_chunks_seek_to_the_keyframe_before_them():
    clip = mp4([k * 8 for k in range(24)], range(24), gop=4)
    whole, _ = decode_clip([clip], "u", 0, 12, 0.5, GRAY)
    part, valid = decode_clip([clip], "u", 5, 4, 0.5, GRAY)
    assert valid.all()
    np.testing.assert_array_equal(part, whole[5:9])


def test_keyframes_only_decodes_the_key_frames(caplog):
    # 24 frames at 4 fps, a key frame every 4 (each second): frame k has value 8k.
    clip = mp4([k * 8 for k in range(24)], range(24), gop=4)
    with caplog.at_level(logging.DEBUG, logger="intake_webcoos.cube"):
        frames, valid = decode_clip([clip], "u", 0, 6, 1.0, GRAY, ClipDecoding(keyframes=True))
    assert valid.all()
    assert frames[:, 0, 0, 0].tolist() == pytest.approx([0, 32, 64, 96, 128, 160], abs=3)
    assert _decoded(caplog) == [6]  # the 18 other frames were never decoded
    part, _ = decode_clip([clip], "u", 2, 3, 1.0, GRAY, ClipDecoding(keyframes=True))
    np.testing.assert_array_equal(part, frames[2:5])


def test_keyframes_only_faster_than_the_key_frames_is_an_error_that_says_so():
    clip = mp4([k * 8 for k in range(24)], range(24), gop=4)
    with pytest.raises(FrameDecodeError, match=r"key frames are further apart than sample=0\.5"):
        decode_clip([clip], "u", 0, 12, 0.5, GRAY, ClipDecoding(keyframes=True))
    _, valid = decode_clip([clip], "u", 0, 12, 0.5, replace(GRAY, mask=True),
                           ClipDecoding(keyframes=True))
    assert valid.tolist() == [True, False] * 6


def test_truncated_clip_raises_or_keeps_the_samples_before_the_cut(tmp_path):
    # moov first (faststart), as streaming recorders write, so a cut clip still opens.
    path = tmp_path / "clip.mp4"
    rng = np.random.default_rng(0)
    with av.open(str(path), mode="w", format="mp4", options={"movflags": "+faststart"}) as out:
        stream = out.add_stream("libx264", rate=4)
        stream.width, stream.height, stream.pix_fmt = 32, 16, "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "10"}
        for k in range(16):
            frame = av.VideoFrame.from_ndarray(rng.integers(0, 255, (16, 32, 3), np.uint8),
                                               "rgb24")
            frame.pts = k
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    cut = path.read_bytes()[: int(path.stat().st_size * 0.6)]
    with pytest.raises(FrameDecodeError, match="not a readable video clip") as info:
        decode_clip([cut], "http://x/clip.mp4", 0, 8, 0.5, GRAY)
    assert info.value.url == "http://x/clip.mp4"
    _, valid = decode_clip([cut], "u", 0, 8, 0.5, replace(GRAY, mask=True))
    assert valid[:2].all() and not valid[-2:].any()


def test_a_clip_of_another_frame_size_raises_is_coerced_or_masked():
    clip = mp4([k * 8 for k in range(8)], range(8))  # 32x16 frames
    smaller = replace(GRAY, shape=(8, 24))
    with pytest.raises(FrameShapeError, match=r"coerce_shape=\(8, 24\)"):
        decode_clip([clip], "u", 0, 4, 0.5, smaller)
    whole, _ = decode_clip([clip], "u", 0, 4, 0.5, GRAY)
    cropped, valid = decode_clip([clip], "u", 0, 4, 0.5, replace(smaller, coerce=True))
    assert valid.all()
    np.testing.assert_array_equal(cropped, whole[:, :8, :24])
    masked, valid = decode_clip([clip], "u", 0, 4, 0.5, replace(smaller, mask=True))
    assert not valid.any() and not masked.any()  # one bad clip is one bad clip
    line, _ = decode_clip([clip], "u", 0, 4, 0.5, replace(smaller, coerce=True),
                          pick=(np.array([0, 7]), np.array([3, 20])))
    np.testing.assert_array_equal(line, cropped[:, [0, 7], [3, 20]])
