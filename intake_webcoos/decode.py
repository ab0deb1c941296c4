"""Fetching and decoding element images inside dask tasks.

Everything here runs on dask workers: functions take URLs (public, no token)
and plain options, so graphs pickle and run anywhere.  Each worker process
keeps one HTTP session (one token-less client on fsspec's IO loop).
"""

from __future__ import annotations

import asyncio
import io
import math
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from fsspec.asyn import get_loop, sync
from PIL import Image, UnidentifiedImageError

from .api.client import AsyncClient
from .api.errors import FrameDecodeError, FrameShapeError, WebcoosError

#: JPEG DCT scaling factors libjpeg (and so Pillow's ``draft``) supports.
SCALES = (1, 1 / 2, 1 / 4, 1 / 8)

ClientOptions = tuple[tuple[str, Any], ...]
_clients: dict[tuple[int, ClientOptions], AsyncClient] = {}
_clients_lock = threading.Lock()


def file_client(options: ClientOptions = ()) -> AsyncClient:
    """This process's token-less client for element files (one session per process).

    ``options`` are client settings as sorted ``(name, value)`` pairs (retries,
    timeouts, concurrency); files never need the token, so none is held.
    """
    key = (os.getpid(), options)
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            client = _clients[key] = AsyncClient(token=None, **dict(options))
        return client


@dataclass(frozen=True)
class DecodeOptions:
    """How frames are decoded and checked.

    Parameters
    ----------
    scale : float
        1, 1/2, 1/4 or 1/8: JPEG DCT scaling while decoding.
    grayscale : bool
        Decode to one band of luminance.
    shape : tuple of int or None
        ``(ny, nx)`` every frame must have (after scaling); None when unknown.
    coerce : bool
        Crop or pad frames of another size to ``shape`` instead of failing.
    mask : bool
        Turn unreadable or missing frames into zeros marked invalid.
    client : tuple of (name, value)
        Settings of the file client on the workers (retries, timeouts...).
    """

    scale: float = 1
    grayscale: bool = False
    shape: tuple[int, int] | None = None
    coerce: bool = False
    mask: bool = False
    client: ClientOptions = ()

    def __post_init__(self) -> None:
        if self.scale not in SCALES:
            raise ValueError(f"scale must be one of 1, 1/2, 1/4 or 1/8, not {self.scale!r}")

    @property
    def bands(self) -> int:
        return 1 if self.grayscale else 3


def decode(data: bytes, options: DecodeOptions, url: str = "<bytes>") -> np.ndarray:
    """Decode image bytes to a ``(y, x, band)`` uint8 array.

    JPEGs are decoded by Pillow with ``draft``, which makes libjpeg scale by
    1/2, 1/4 or 1/8 in the DCT and produce grayscale directly, so reduced and
    gray cubes cost a fraction of a full decode.
    """
    mode = "L" if options.grayscale else "RGB"
    try:
        image = Image.open(io.BytesIO(data))
        if options.scale != 1 or options.grayscale:
            width, height = image.size
            # Pillow picks the largest DCT reduction whose result is at least this
            # size; libjpeg then rounds up (a 180-row frame at 1/8 has 23 rows).
            image.draft(mode, (max(1, math.floor(width * options.scale)),
                               max(1, math.floor(height * options.scale))))
        if image.mode != mode:
            image = image.convert(mode)
        frame = np.asarray(image)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        why = "no image format Pillow knows" if isinstance(exc, UnidentifiedImageError) \
            else str(exc)
        raise FrameDecodeError(url, f"not a readable image ({why}). Pass on_error='mask' to "
                               "keep the other frames (this one becomes zeros, valid=False)."
                               ) from None
    return frame.reshape(frame.shape[0], frame.shape[1], options.bands)


def fit(frame: np.ndarray, shape: tuple[int, int], url: str, coerce: bool) -> np.ndarray:
    """``frame`` at ``shape``: as is, cropped or zero-padded (top-left anchored)."""
    if frame.shape[:2] == shape:
        return frame
    if not coerce:
        raise FrameShapeError(
            url, f"frame is {frame.shape[1]}x{frame.shape[0]} but the cube is "
            f"{shape[1]}x{shape[0]} (the camera changed resolution?). Pass "
            f"coerce_shape=({shape[0]}, {shape[1]}) to crop or pad frames to one size.")
    out = np.zeros((*shape, frame.shape[2]), dtype=frame.dtype)
    ny, nx = min(shape[0], frame.shape[0]), min(shape[1], frame.shape[1])
    out[:ny, :nx] = frame[:ny, :nx]
    return out


def fetch_batch(urls: tuple[str, ...], client_options: ClientOptions = ()
                ) -> list[bytes | Exception]:
    """The bytes of ``urls``, fetched concurrently.

    A file that cannot be had is kept in place as its typed exception, so that
    only the chunk holding it fails (or masks it), not its neighbours.
    """
    client = file_client(client_options)

    async def one(url: str) -> bytes | Exception:
        try:
            return await client.fetch(url)
        except (WebcoosError, FileNotFoundError) as exc:
            return exc

    async def everything() -> list[bytes | Exception]:
        return await asyncio.gather(*(one(u) for u in urls))

    return sync(get_loop(), everything)


def decode_fetched(data: bytes | Exception, url: str, options: DecodeOptions,
                   decoder: Callable[[bytes, DecodeOptions, str], Any] = decode) -> Any:
    """Decode what a fetch returned; None for an unreadable or missing file when masking.

    Without masking, the fetch's typed error or the decode error is raised.
    ``decoder(data, options, url)`` reads the bytes (a JPEG by default; video
    passes its clip decoder).
    """
    try:
        if isinstance(data, Exception):
            raise data
        return decoder(data, options, url)
    except (WebcoosError, FileNotFoundError):
        if not options.mask:
            raise
        return None


def decode_frames(fetched: list[bytes | Exception], first: int, stop: int,
                  urls: tuple[str, ...], options: DecodeOptions
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Frames ``fetched[first:stop]`` as a ``(time, y, x, band)`` block, and their validity."""
    assert options.shape is not None
    decoded = [decode_fetched(data, url, options)
               for data, url in zip(fetched[first:stop], urls, strict=True)]
    valid = np.array([frame is not None for frame in decoded], dtype=bool)
    # A frame of another size is never masked: it is readable, the cube is wrong.
    if len(decoded) == 1 and valid[0]:
        # One frame per chunk (the default): hand over the decoded frame itself;
        # a copy into a fresh block would cost as much again as the decode.
        return fit(decoded[0], options.shape, urls[0], options.coerce)[np.newaxis], valid
    frames = np.zeros((len(decoded), *options.shape, options.bands), dtype=np.uint8)
    for i, (frame, url) in enumerate(zip(decoded, urls, strict=True)):
        if frame is not None:
            frames[i] = fit(frame, options.shape, url, options.coerce)
    return frames, valid
