"""Image bytes to arrays: the only module that decodes pictures.

JPEGs are decoded by Pillow with ``draft``, which makes libjpeg scale by 1/2,
1/4 or 1/8 in the DCT and produce grayscale directly, so reduced and gray cubes
cost a fraction of a full decode.
"""

from __future__ import annotations

import io
import math

import numpy as np
from PIL import Image, UnidentifiedImageError

from .errors import FrameDecodeError

#: JPEG DCT scaling factors libjpeg (and so Pillow's ``draft``) supports.
SCALES = (1, 1 / 2, 1 / 4, 1 / 8)


def check_scale(scale: float) -> float:
    """``scale`` if it is one of :data:`SCALES`, else a ValueError saying which are."""
    if scale not in SCALES:
        raise ValueError(f"scale must be one of 1, 1/2, 1/4 or 1/8, not {scale!r}")
    return scale


def decode_image(data: bytes, *, scale: float = 1, grayscale: bool = False,
                 url: str = "<bytes>") -> np.ndarray:
    """Decode image bytes (JPEG, PNG...) to a ``(y, x, band)`` uint8 array.

    Parameters
    ----------
    data : bytes
        The file's bytes.
    scale : {1, 1/2, 1/4, 1/8}
        Decode at this fraction of the size (DCT scaling for JPEG).
    grayscale : bool
        One band of luminance instead of RGB.
    url : str
        Where the bytes came from, for the error message.

    Raises
    ------
    FrameDecodeError
        The bytes are not a readable image.
    """
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
        why = "no image format Pillow knows" if isinstance(exc, UnidentifiedImageError) \
            else str(exc)
        raise FrameDecodeError(url, f"not a readable image ({why}). Pass on_error='mask' to "
                               "keep the other frames (this one becomes zeros, valid=False)."
                               ) from None
    return frame.reshape(frame.shape[0], frame.shape[1], 1 if grayscale else 3)
