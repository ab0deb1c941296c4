"""The decoders: simplejpeg and Pillow give the same pixels, into the caller's array."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
from PIL import Image

from intake_webcoos.cube.decode import BACKEND, BACKENDS, SCALES, decode_image
from intake_webcoos.errors import FrameDecodeError, InvalidArgumentError
from intake_webcoos.server.scene import SceneRenderer, encode_jpeg


@pytest.fixture(scope="module")
def jpegs() -> list[bytes]:
    """Stand-in frames of two sizes, one of them not a multiple of 8 (rounding)."""
    return [SceneRenderer(320, 180).jpeg("waikiki_sheraton", 1_757_527_200.0),
            SceneRenderer(250, 131).jpeg("kasitsna_dock", 1_757_530_000.0)]


def test_the_fastest_installed_decoder_is_the_default():
    assert BACKEND == "simplejpeg" == BACKENDS[0]  # a dependency: installed everywhere we test


@pytest.mark.parametrize("grayscale", [False, True])
@pytest.mark.parametrize("scale", SCALES)
def test_backends_give_the_same_pixels(jpegs, scale, grayscale):
    for data in jpegs:
        fast = decode_image(data, scale=scale, grayscale=grayscale, backend="simplejpeg")
        slow = decode_image(data, scale=scale, grayscale=grayscale, backend="pillow")
        width, height = Image.open(io.BytesIO(data)).size
        assert fast.shape == (math.ceil(height * scale), math.ceil(width * scale),
                              1 if grayscale else 3)
        np.testing.assert_array_equal(fast, slow)


def test_decodes_into_the_given_array_when_it_fits(jpegs):
    out = np.zeros((45, 80, 3), dtype=np.uint8)
    frame = decode_image(jpegs[0], scale=1 / 4, out=out)
    assert np.shares_memory(frame, out) and out.any()
    np.testing.assert_array_equal(out, decode_image(jpegs[0], scale=1 / 4))
    wrong = np.zeros((10, 10, 3), dtype=np.uint8)
    assert not np.shares_memory(decode_image(jpegs[0], out=wrong), wrong)
    assert not wrong.any()


@pytest.mark.parametrize("backend", BACKENDS)
def test_other_formats_go_through_pillow(backend):
    picture = np.arange(4 * 6 * 3, dtype=np.uint8).reshape(4, 6, 3)
    png = io.BytesIO()
    Image.fromarray(picture).save(png, format="PNG")
    np.testing.assert_array_equal(decode_image(png.getvalue(), backend=backend), picture)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty"])
def test_unreadable_bytes_are_a_typed_error_naming_the_url(jpegs, backend, damage):
    data = {"garbage": b"\xff\xd8 not a jpeg at all", "truncated": jpegs[0][:200],
            "empty": b""}[damage]
    with pytest.raises(FrameDecodeError, match="not a readable image") as info:
        decode_image(data, url="http://files/x.jpg", backend=backend)
    assert info.value.url == "http://files/x.jpg"


def test_an_unknown_backend_is_refused(jpegs):
    with pytest.raises(InvalidArgumentError,
                       match="backend must be 'simplejpeg' or 'pillow', not 'opencv'"):
        decode_image(jpegs[0], backend="opencv")


def test_quality_of_the_encoder_does_not_matter(jpegs):
    """Heavily compressed frames (other quantisation tables) decode alike too."""
    frame = decode_image(jpegs[0])
    rough = encode_jpeg(frame, quality=20)
    np.testing.assert_array_equal(decode_image(rough, scale=1 / 2, backend="simplejpeg"),
                                  decode_image(rough, scale=1 / 2, backend="pillow"))
