"""Frames of video-archive clips as a lazy image cube (the same contract as stills).

Each clip is one chunk: its task fetches the MP4 (public URL, no token),
decodes it with PyAV and converts to arrays only the frames it keeps, one per
``sample`` interval of clip time.  Frame times are the clip's start (from the
API) plus the sample's offset in the clip, so cubes are lazy: the number of
frames per clip comes from the element's ``duration``.
"""

from __future__ import annotations

import io
import math
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from fsspec.asyn import get_loop, sync

from . import products as _products  # noqa: F401  (registers the .webcoos accessor)
from .api.errors import (
    EmptyRangeError,
    FrameDecodeError,
    MissingDependencyError,
    WebcoosError,
)
from .api.sync import Client
from .api.times import TimeLike, to_timedelta
from .decode import DecodeOptions, file_client, fit
from .images import assemble_cube


def _av():
    try:
        import av
    except ImportError:
        raise MissingDependencyError("PyAV", "video", "Decoding video clips") from None
    return av


def _fetch(url: str, options: DecodeOptions) -> bytes:
    return sync(get_loop(), file_client(options.client).fetch, url)


def _frame_size(options: DecodeOptions, width: int, height: int) -> tuple[int, int]:
    return max(1, round(width * options.scale)), max(1, round(height * options.scale))


def decode_clip(url: str, count: int, step: float, options: DecodeOptions
                ) -> tuple[np.ndarray, np.ndarray]:
    """``count`` frames sampled every ``step`` seconds of a clip, and their validity.

    Every packet is decoded (H.264 frames depend on each other), but only the
    kept frames are converted to RGB or gray arrays.
    """
    av = _av()
    assert options.shape is not None
    frames = np.zeros((count, *options.shape, options.bands), dtype=np.uint8)
    valid = np.zeros(count, dtype=bool)
    try:
        with av.open(io.BytesIO(_fetch(url, options))) as container:
            k = 0
            for frame in container.decode(video=0):
                if k >= count:
                    break
                # Keep the first frame at or after each sample time (1 ms of slack).
                if frame.time is not None and frame.time < k * step - 1e-3:
                    continue
                width, height = _frame_size(options, frame.width, frame.height)
                resize = {} if options.scale == 1 else {"width": width, "height": height}
                array = frame.to_ndarray(format="gray" if options.grayscale else "rgb24",
                                         **resize)
                frames[k] = fit(array.reshape(height, width, options.bands), options.shape,
                                url, options.coerce)
                valid[k] = True
                k += 1
    except (WebcoosError, FileNotFoundError):
        if not options.mask:
            raise
        return frames, valid
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        if not options.mask:
            raise FrameDecodeError(url, f"not a readable video clip ({exc}).") from None
        return frames, valid
    if not valid.all() and not options.mask:
        raise FrameDecodeError(url, f"the clip holds {int(valid.sum())} of the {count} frames "
                               "its duration promises (truncated?); on_error='mask' keeps "
                               "the others.")
    return frames, valid


def open_video(asset: str, product: str = "video-archive", start: TimeLike | None = None,
               end: TimeLike | None = None, *, sample: str | pd.Timedelta | None = "500ms",
               fps: float | None = None, scale: float = 1, grayscale: bool = False,
               chunks: dict[str, int] | None = None, coerce_shape: tuple[int, int] | None = None,
               on_error: str = "raise", token: str | None = None,
               base_url: str | None = None, **client_options: Any) -> xr.Dataset:
    """Open the frames of a camera's video clips as a lazy ``(time, y, x, band)`` cube.

    Parameters
    ----------
    asset, product : str
        Camera and video product (``"video-archive"``).
    start, end : optional
        Inclusive UTC bounds on the clips' start times.
    sample : str or Timedelta
        Keep one frame per this much clip time (default ``"500ms"``: 2 Hz, as
        coastal imaging samples its 10-minute bursts).
    fps : float, optional
        Frames per second to keep, instead of ``sample``.
    scale, grayscale, coerce_shape, on_error, token, base_url
        As :func:`intake_webcoos.open_images` (``scale`` resamples decoded frames).
    **client_options
        Client settings (``retries``, ``timeout``...), here and on the workers.
    chunks : dict, optional
        Rechunking after opening; one chunk per clip by default.

    Returns
    -------
    xarray.Dataset
        The image-cube contract, with a ``clip`` coordinate naming each frame's
        source file and ``time`` = clip start + the frame's offset.
    """
    av = _av()
    if on_error not in ("raise", "mask"):
        raise ValueError(f"on_error must be 'raise' or 'mask', not {on_error!r}")
    step = 1 / fps if fps else to_timedelta(sample, "sample").total_seconds()
    options = DecodeOptions(scale=scale, grayscale=grayscale, coerce=coerce_shape is not None,
                            mask=on_error == "mask",
                            shape=tuple(coerce_shape) if coerce_shape else None,
                            client=tuple(sorted(client_options.items())))
    client = Client(token, base_url, **client_options)
    camera = client.asset(asset)
    clips = client.elements(camera.slug, product, start, end)
    if clips.empty:
        raise EmptyRangeError(f"No {product} clips of {camera.slug} between {start} and {end}.")
    if clips["duration"].isna().any():
        raise FrameDecodeError(clips["url"][clips["duration"].isna()].iloc[0],
                               "the API gives no duration for this clip, so its frames "
                               "cannot be counted before decoding.")
    if options.shape is None:
        # The size of the first clip's frames; reading it costs one clip.
        with av.open(io.BytesIO(_fetch(clips["url"].iloc[0], options))) as container:
            first = next(container.decode(video=0))
            width, height = _frame_size(options, first.width, first.height)
        options = replace(options, shape=(height, width))
    rows, blocks, clip_names = [], [], []
    for clip in clips.itertuples(index=False):
        count = max(1, math.ceil(clip.duration / step - 1e-9))
        offsets = pd.to_timedelta(np.arange(count) * step, unit="s")
        rows.append(pd.DataFrame({"time": clip.time + offsets, "url": clip.url,
                                  "filename": clip.filename, "service": clip.service}))
        clip_names.extend([clip.filename] * count)
        blocks.append(((decode_clip, clip.url, count, step, options), count))
    frames = pd.concat(rows, ignore_index=True)
    ds = assemble_cube({}, blocks, frames, camera, product, options,
                       extra_coords={"clip": np.asarray(clip_names, dtype=object)})
    ds.attrs["sample_seconds"] = step
    ds.attrs["time_note"] = ("time is the clip start (from the API) plus the frame's offset in "
                             "the clip, UTC (naive datetime64, xarray convention)")
    return ds.chunk(chunks) if chunks else ds


__all__ = ["decode_clip", "open_video"]
