"""Frames of video-archive clips as a lazy image cube (the same contract as stills).

Each clip is fetched by one task (public URL, no token) whose bytes (tens of MB,
never decoded frames) its decode tasks share.  A decode task fills one chunk:
by default about 64 MiB of pixels (:func:`~intake_webcoos.cube.contract.frames_per_chunk`,
the rule of stills), or N sampled frames with ``chunks={"time": N}``; chunks never
span clips.  Each seeks to the keyframe before its first sample and decodes
forward to its last, so the chunks of a clip decode it about once in all (one
keyframe interval more per chunk at most), and the kept frames go straight into
the chunk's array.  PyAV decodes every packet but converts to arrays only the
frames it keeps, one per ``sample`` interval of clip time.  Frame times are the
clip's start (from the API) plus the sample's offset in the clip, so cubes are
lazy: the number of frames per clip comes from the element's ``duration``.
"""

from __future__ import annotations

import io
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from dask.base import tokenize

from intake_webcoos.api.times import TimeLike
from intake_webcoos.cube.contract import (
    MAX_FRAMES,
    CubeOptions,
    assemble_cube,
    decode_fetched,
    fit,
    frames_per_chunk,
    learn_shape,
    time_chunks,
)
from intake_webcoos.cube.selection import CUBE_KEYWORDS, Selection, document
from intake_webcoos.errors import FrameDecodeError, MissingDependencyError
from intake_webcoos.fs.element_files import element_files, fetch_batch

#: Frames this close (seconds) before a sample time count as at it (rounded timestamps).
TIME_SLACK = 1e-3

logger = logging.getLogger("intake_webcoos.cube")


def _av():
    try:
        import av
    except ImportError as exc:  # also an installed PyAV that fails to load: say why
        raise MissingDependencyError("PyAV", "video", "Decoding video clips") from exc
    return av


def _unreadable_clip(url: str, exc: Exception) -> FrameDecodeError:
    """The error for a clip PyAV cannot decode (``exc`` is PyAV's complaint)."""
    return FrameDecodeError(url, f"not a readable video clip ({exc!r}).")


def _pixels(frame: Any, options: CubeOptions) -> np.ndarray:
    """A decoded PyAV frame as a ``(y, x, band)`` array, scaled and converted by swscale."""
    width = max(1, round(frame.width * options.scale))
    height = max(1, round(frame.height * options.scale))
    resize = {} if options.scale == 1 else {"width": width, "height": height}
    array = frame.to_ndarray(format="gray" if options.grayscale else "rgb24", **resize)
    return array.reshape(height, width, options.bands)


def first_frame(data: bytes, options: CubeOptions, url: str) -> np.ndarray:
    """The first frame of a clip (to learn the cube's frame size)."""
    av = _av()
    try:
        with av.open(io.BytesIO(data)) as container:
            return _pixels(next(container.decode(video=0)), options)
    except (av.error.FFmpegError, OSError, ValueError, StopIteration) as exc:
        raise _unreadable_clip(url, exc) from exc


def _samples(data: bytes, options: CubeOptions, url: str, *, first: int, count: int,
             step: float) -> tuple[np.ndarray, np.ndarray]:
    assert options.shape is not None
    av = _av()
    frames = np.zeros((count, *options.shape, options.bands), dtype=np.uint8)
    valid = np.zeros(count, dtype=bool)
    rate, decoded = None, 0
    try:
        with av.open(io.BytesIO(data)) as container:
            stream = container.streams.video[0]
            rate = stream.average_rate
            # Offsets count from the clip's first frame: recordings often start at pts > 0.
            origin = stream.start_time or 0
            if first:
                container.seek(origin + int(first * step / stream.time_base), stream=stream,
                               backward=True)
            for frame in container.decode(stream):
                decoded += 1
                if frame.pts is None:
                    raise FrameDecodeError(url, "a frame of the clip has no timestamp.")
                seconds = float((frame.pts - origin) * stream.time_base)
                k = math.floor((seconds + TIME_SLACK) / step) - first
                if k >= count:
                    break
                if k < 0 or valid[k]:
                    continue  # before the chunk, or not the first frame of its interval
                frames[k] = fit(_pixels(frame, options), options.shape, url, options.coerce)
                valid[k] = True
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        if not options.mask:
            raise _unreadable_clip(url, exc) from exc
        # Masking keeps the samples decoded before the damage.
    # The frames decoded per chunk show what seeking costs (one keyframe interval at most).
    logger.debug("decoded %d frames for samples %d to %d of %s", decoded, first,
                 first + count - 1, url)
    if not valid.all() and not options.mask:
        missing = np.flatnonzero(~valid) + first
        raise FrameDecodeError(
            url, f"{missing.size} samples (one per {step:g} s; first missing: sample "
            f"{missing[0]}, at {missing[0] * step:g} s) have no frame: the clip is shorter "
            f"than its duration says (truncated?), or sampled faster than its "
            f"{float(rate or 0):g} frames per second. on_error='mask' keeps the others.")
    return frames, valid


def decode_clip(fetched: list[bytes | Exception], url: str, first: int, count: int,
                step: float, options: CubeOptions) -> tuple[np.ndarray, np.ndarray]:
    """Samples ``first`` to ``first + count`` of a clip, and their validity.

    Sample k is the first frame whose time since the clip's first frame lies in
    ``[k * step, (k + 1) * step)``.  A sample without such a frame (a dropped
    frame, a truncated clip, sampling faster than the frame rate) is an error,
    or with masking stays zero and invalid.

    Parameters
    ----------
    fetched : list
        ``[bytes or exception]``, what :func:`~intake_webcoos.fs.element_files.fetch_batch`
        returned for the clip.
    url : str
        The clip's URL (for messages).
    first, count : int
        The chunk's first sample and its number of samples.
    step : float
        Seconds of clip time per sample.
    options : CubeOptions
        Scale, grayscale, frame shape and masking.

    Returns
    -------
    frames : numpy.ndarray
        ``(count, y, x, band)`` uint8.
    valid : numpy.ndarray
        ``(count,)`` bool.
    """
    (data,) = fetched
    block = decode_fetched(data, url, options,
                           partial(_samples, first=first, count=count, step=step))
    if block is None:  # a missing or unreadable clip, masked
        assert options.shape is not None
        return (np.zeros((count, *options.shape, options.bands), dtype=np.uint8),
                np.zeros(count, dtype=bool))
    return block


@document(*CUBE_KEYWORDS)
def open_video(
    camera: str | Sequence[str] | None = None, product: str | None = None,
    start: TimeLike | None = None, end: TimeLike | None = None, *,
    every: str | pd.Timedelta | None = None, sample: str | pd.Timedelta | None = None,
    fps: float | None = None, scale: float = 1, grayscale: bool = False,
    chunks: int | dict[str, int] | None = None, coerce_shape: tuple[int, int] | None = None,
    on_error: str = "raise", cache: bool = False, max_frames: int = MAX_FRAMES,
    token: str | None = None, base_url: str | None = None, **client_options: Any,
) -> xr.Dataset:
    """Open the frames of a camera's video clips as a lazy ``(time, y, x, band)`` cube.

    The keywords are those of every face (:mod:`intake_webcoos.cube.selection`):
    :func:`~intake_webcoos.open_images` takes the same. The product defaults to
    ``"video-archive"``; ``start``, ``end`` and ``every`` select clips by their start.

    Parameters
    ----------
    {parameters}
    chunks : int or dict, optional
        Sampled frames per chunk along ``time`` (``{"time": 120}``); chunks never
        span clips. Default: about 64 MiB of pixels, 8 to 64 frames (10 frames of
        1920x1080), as for stills; ``{"time": -1}``: one chunk per clip (1200 frames
        of a 10-minute clip at 2 Hz, 7.5 GB at 1920x1080). The chunks of a clip
        share its fetched bytes and decode it about once in all.
    on_error : {"raise", "mask"}
        ``"mask"`` turns frames of missing, unreadable or short clips into zeros
        marked False in a boolean ``valid`` coordinate.

    Returns
    -------
    xarray.Dataset
        The cube of :mod:`intake_webcoos.cube.contract`, with a ``clip`` coordinate naming
        each frame's source file and ``time`` = clip start + the sample's offset.
        Raises :class:`MissingDependencyError` without PyAV (the ``video`` extra),
        :class:`EmptyRangeError` (saying why) when no clip is selected.
    """
    _av()
    selection = Selection.build("video", camera, product, start, end, every=every,
                                sample=sample, fps=fps, cache=cache, max_frames=max_frames,
                                token=token, base_url=base_url, client_options=client_options)
    options = CubeOptions.from_arguments(scale=scale, grayscale=grayscale,
                                         coerce_shape=coerce_shape, on_error=on_error,
                                         client_options=dict(selection.client_options))
    found, product, clips = _clips(selection, options)
    if options.shape is None:  # a few ranged reads of a header (coerce_shape spares them)
        options = _frame_size(clips, options)
    assert selection.step is not None
    # After the frame size is known: the default chunk holds about 64 MiB of its pixels.
    per_chunk, other_chunks = time_chunks(chunks, default=frames_per_chunk(options))
    ds = _clips_cube(clips, found, product, selection.step, per_chunk, options)
    return ds.chunk(other_chunks) if other_chunks else ds


def _clips(selection: Selection, options: CubeOptions) -> tuple[Any, str, pd.DataFrame]:
    """The camera, the product and its selected clips, each with a duration.

    The API gives a clip's duration "if available"; where it does not, it is read
    from the clip's container header (a few ranged reads, not the whole clip).
    """
    clips, camera, product, services = selection.listing()
    missing = clips["duration"].isna().to_numpy()
    if missing.any():
        clips = clips.copy()
        clips.loc[missing, "duration"] = [
            clip_seconds(url, None if pd.isna(size) else int(size), options)
            for url, size in zip(clips["url"][missing], clips["size"][missing], strict=True)]
    assert selection.step is not None
    frames = int(np.ceil(clips["duration"].to_numpy() / selection.step - 1e-9).clip(1).sum())
    selection.check_size(services, frames)
    return camera, product, clips


@dataclass(frozen=True)
class ClipHeader:
    """What a clip's container header says: the frame size and, if given, the duration."""

    width: int
    height: int
    seconds: float | None


def read_header(url: str, size: int | None, options: CubeOptions) -> ClipHeader:
    """A clip's :class:`ClipHeader`, by ranged reads when its size is known.

    An MP4's ``moov`` box is a few hundred kB: the whole clip (tens of MB on the
    real archive) is fetched only when the API gives no size to range over.
    """
    av = _av()
    try:
        # No size: the clip is fetched once, whole (bounded by max_file_bytes).
        with element_files(options.client).open(url, size, block_size=2**18,
                                                cache_type="blockcache") as source, \
                av.open(source) as container:
            stream = container.streams.video[0]
            seconds = None
            if stream.duration is not None:
                seconds = float(stream.duration * stream.time_base)
            elif container.duration is not None:
                seconds = container.duration / av.time_base
            return ClipHeader(stream.codec_context.width, stream.codec_context.height, seconds)
    except (av.error.FFmpegError, OSError, ValueError, IndexError) as exc:
        raise FrameDecodeError(url, f"not a readable video clip ({exc!r}).") from None


def clip_seconds(url: str, size: int | None, options: CubeOptions) -> float:
    """How long a clip lasts, from its container header (see :func:`read_header`)."""
    seconds = read_header(url, size, options).seconds
    if seconds is None:
        raise FrameDecodeError(url, "neither the API nor the clip's container gives its "
                               "duration, so its frames cannot be counted before decoding.")
    return seconds


def _frame_size(clips: pd.DataFrame, options: CubeOptions) -> CubeOptions:
    """The options with the cube's frame size, from the first clip's header.

    The size is scaled as :func:`_pixels` scales frames; a header without a size
    falls back to decoding the first frame. With files kept in the cache, the first
    clip is fetched whole instead (and kept), so opening again fetches nothing.
    """
    if dict(options.client).get("cache_files"):
        return learn_shape(clips, options, first_frame)
    first = clips.iloc[0]
    size = None if pd.isna(first["size"]) else int(first["size"])
    try:
        header = read_header(first["url"], size, options)
    except FrameDecodeError:
        if not options.mask:
            raise
        header = ClipHeader(0, 0, None)  # the first readable clip tells, below
    if header.width and header.height:
        return replace(options, shape=(max(1, round(header.height * options.scale)),
                                       max(1, round(header.width * options.scale))))
    return learn_shape(clips, options, first_frame)


def _clips_cube(clips: pd.DataFrame, camera: Any, product: str, step: float,
                per_chunk: int | None, options: CubeOptions) -> xr.Dataset:
    """One fetch task per clip, decode tasks of ``per_chunk`` samples (None: the clip)."""
    fetch_name = f"webcoos-fetch-clip-{tokenize(tuple(clips['url']), options.client)}"
    graph: dict[Any, Any] = {}
    rows, blocks = [], []
    for i, clip in enumerate(clips.itertuples(index=False)):
        count = max(1, math.ceil(clip.duration / step - 1e-9))
        graph[(fetch_name, i)] = (fetch_batch, (clip.url,), options.client,
                                  (None if pd.isna(clip.size) else int(clip.size),))
        size = per_chunk or count
        blocks.extend(((decode_clip, (fetch_name, i), clip.url, first, min(size, count - first),
                        step, options), min(size, count - first))
                      for first in range(0, count, size))
        rows.append(pd.DataFrame({"time": clip.time + pd.to_timedelta(np.arange(count) * step,
                                                                       unit="s"),
                                  "url": clip.url, "filename": clip.filename,
                                  "service": clip.service}))
    frames = pd.concat(rows, ignore_index=True)
    ds = assemble_cube(graph, blocks, frames, camera, product, options,
                       extra_coords={"clip": frames["filename"].to_numpy(dtype=object)})
    ds.attrs["sample_seconds"] = step
    ds.attrs["time_note"] = ("time is the clip start (from the API) plus the sample's offset in "
                             "the clip, UTC (naive datetime64, xarray convention)")
    return ds


__all__ = ["decode_clip", "first_frame", "open_video"]
