"""Image bytes to arrays: the only module that decodes pictures.

JPEGs are decoded by the fastest decoder installed: `simplejpeg`_ (libjpeg-turbo,
decoding straight into the caller's array) when it can be imported, else Pillow.
Both scale by 1/2, 1/4 or 1/8 inside the DCT and give luminance directly for
gray, so reduced and gray cubes cost a fraction of a full decode, and both give
the same pixels (libjpeg-turbo's accurate integer DCT and smooth upsampling in
each). Other formats (PNG...) always go through Pillow.

.. _simplejpeg: https://gitlab.com/jfolz/simplejpeg
"""

from __future__ import annotations

import io
import math

import numpy as np
from PIL import Image, UnidentifiedImageError

from intake_webcoos.errors import FrameDecodeError, InvalidArgumentError, one_of

try:  # the fast path; Pillow covers every platform without its wheels
    import simplejpeg
except ImportError:  # pragma: no cover - exercised by forcing backend="pillow"
    simplejpeg = None

#: JPEG DCT scaling factors libjpeg supports.
SCALES = (1, 1 / 2, 1 / 4, 1 / 8)
#: Decoders, fastest first; :data:`BACKEND` is the first one installed.
BACKENDS = ("simplejpeg", "pillow")
BACKEND = "simplejpeg" if simplejpeg is not None else "pillow"
_JPEG_MAGIC = b"\xff\xd8"


def check_scale(scale: float) -> float:
    """``scale`` if it is one of :data:`SCALES`, else an InvalidArgumentError saying which are."""
    if scale not in SCALES:
        raise InvalidArgumentError(f"scale must be one of 1, 1/2, 1/4 or 1/8, not {scale!r}")
    return scale


def _unreadable(url: str, why: str) -> FrameDecodeError:
    return FrameDecodeError(url, f"not a readable image ({why}). Pass on_error='mask' to "
                            "keep the other frames (this one becomes zeros, valid=False).")


def decode_image(data: bytes, *, scale: float = 1, grayscale: bool = False,
                 url: str = "<bytes>", out: np.ndarray | None = None,
                 backend: str = BACKEND) -> np.ndarray:
    """Decode image bytes (JPEG, PNG...) to a ``(y, x, band)`` uint8 array.

    Parameters
    ----------
    data : bytes
        The file's bytes.
    scale : {1, 1/2, 1/4, 1/8}
        Decode at this fraction of the size (DCT scaling for JPEG): a side of
        ``n`` pixels becomes ``ceil(n * scale)``, as libjpeg rounds.
    grayscale : bool
        One band of luminance instead of RGB.
    url : str
        Where the bytes came from, for the error message.
    out : numpy.ndarray, optional
        A C-contiguous uint8 ``(y, x, band)`` array to decode into when the
        picture has its size (saves a copy); otherwise a new array is returned.
    backend : {"simplejpeg", "pillow"}
        The JPEG decoder (default: the fastest installed, :data:`BACKEND`).

    Returns
    -------
    numpy.ndarray
        The frame: ``out`` itself when it was filled.

    Raises
    ------
    FrameDecodeError
        The bytes are not a readable image.
    InvalidArgumentError
        ``backend`` is not one of :data:`BACKENDS`.
    """
    one_of("backend", backend, BACKENDS)
    if backend == "simplejpeg" and simplejpeg is not None and data[:2] == _JPEG_MAGIC:
        try:
            return _simplejpeg(data, scale, grayscale, out)
        except ValueError:
            pass  # what libjpeg-turbo refuses here, Pillow reads or explains
    return _pillow(data, scale, grayscale, url)


def _simplejpeg(data: bytes, scale: float, grayscale: bool,
                out: np.ndarray | None) -> np.ndarray:
    height, width, _, _ = simplejpeg.decode_jpeg_header(data)
    # The largest DCT reduction whose result is at least floor(side * scale),
    # which is the reduction Pillow's draft picks: both decoders agree.
    least = {"min_width": max(1, math.floor(width * scale)),
             "min_height": max(1, math.floor(height * scale))} if scale != 1 else {}
    bands = 1 if grayscale else 3
    shape = (math.ceil(height * scale), math.ceil(width * scale), bands)
    buffer = out if out is not None and out.shape == shape else None
    frame = simplejpeg.decode_jpeg(data, colorspace="GRAY" if grayscale else "RGB",
                                   buffer=buffer, **least)
    return frame.reshape(frame.shape[0], frame.shape[1], bands)


def _pillow(data: bytes, scale: float, grayscale: bool, url: str) -> np.ndarray:
    mode = "L" if grayscale else "RGB"
    try:
        image = Image.open(io.BytesIO(data))
        if scale != 1 or grayscale:
            width, height = image.size
            # Pillow picks the largest DCT reduction whose result is at least this
            # size; libjpeg then rounds up (a 180-row frame at 1/8 has 23 rows).
            image.draft(mode, (max(1, math.floor(width * scale)),
                               max(1, math.floor(height * scale))))
        if image.mode != mode:
            image = image.convert(mode)
        frame = np.asarray(image)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise _unreadable(url, "no image format Pillow knows"
                          if isinstance(exc, UnidentifiedImageError) else str(exc)) from exc
    return frame.reshape(frame.shape[0], frame.shape[1], 1 if grayscale else 3)
