"""Frames of video-archive clips as a lazy image cube (the same contract as stills).

Each clip is fetched by one share task (public URL, no token), whose result
holds its bytes in its process (tens of MB, never decoded frames) for the
clip's decode tasks, which run beside it; the bytes never travel between
workers (:mod:`~intake_webcoos.fs.shared_files`).  A decode task fills one
chunk: by default about 64 MiB of pixels
(:func:`~intake_webcoos.cube.contract.frames_per_chunk`, the rule of stills), or
N sampled frames with ``chunks={"time": N}``; chunks never span clips.  Each
seeks to the keyframe before its first sample and decodes forward to its last
(:mod:`~intake_webcoos.cube.clips`), so the chunks of a clip decode it about
once in all (one keyframe interval more per chunk at most), and the kept frames
go straight into the chunk's array.  Frame times are the clip's start (from the
API) plus the sample's offset in the clip, so cubes are lazy: the number of
frames per clip comes from the element's ``duration``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from dask.base import tokenize

from intake_webcoos.api.times import TimeLike
from intake_webcoos.cube.clips import ClipDecoding, decode_shared, first_frame, require_av
from intake_webcoos.cube.contract import (
    MAX_FRAMES,
    CubeOptions,
    assemble_cube,
    frames_per_chunk,
    learn_shape,
    time_chunks,
)
from intake_webcoos.cube.lines import ENCODING_KEY, ClipSource
from intake_webcoos.cube.selection import CUBE_KEYWORDS, Selection, document
from intake_webcoos.errors import FrameDecodeError
from intake_webcoos.fs.element_files import element_files


@document(*CUBE_KEYWORDS)
def open_video(
    camera: str | Sequence[str] | None = None, product: str | None = None,
    start: TimeLike | None = None, end: TimeLike | None = None, *,
    every: str | pd.Timedelta | None = None, sample: str | pd.Timedelta | None = None,
    fps: float | None = None, keyframes: bool = False, decode_threads: int = 1,
    scale: float = 1, grayscale: bool = False,
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
    require_av()
    decoding = ClipDecoding(keyframes, decode_threads)
    selection = Selection.build("video", camera, product, start, end, every=every,
                                sample=sample, fps=fps, keyframes=keyframes,
                                decode_threads=decode_threads, cache=cache, max_frames=max_frames,
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
    ds = _clips_cube(clips, found, product, selection.step, per_chunk, options, decoding)
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
    av = require_av()
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
                per_chunk: int | None, options: CubeOptions, decoding: ClipDecoding
                ) -> xr.Dataset:
    """One fetch task per clip, decode tasks of ``per_chunk`` samples (None: the clip).

    The image carries its :class:`~intake_webcoos.cube.lines.ClipSource`, so that
    timestacks decode lines straight from the clips.
    """
    source = ClipSource(
        f"webcoos-share-clip-{tokenize(tuple(clips['url']), options.client)}",
        tuple(clips["url"]), tuple(None if pd.isna(n) else int(n) for n in clips["size"]),
        tuple(int(t.value) for t in clips["time"]), step, options, decoding)
    graph: dict[Any, Any] = {}
    rows, blocks = [], []
    for i, clip in enumerate(clips.itertuples(index=False)):
        count = max(1, math.ceil(clip.duration / step - 1e-9))
        graph[(source.share_name, i)] = source.share_task(i)
        size = per_chunk or count
        blocks.extend(((decode_shared, (source.share_name, i), first,
                        min(size, count - first), step, options, decoding),
                       min(size, count - first))
                      for first in range(0, count, size))
        rows.append(pd.DataFrame({"time": clip.time + pd.to_timedelta(np.arange(count) * step,
                                                                       unit="s"),
                                  "url": clip.url, "filename": clip.filename,
                                  "service": clip.service}))
    frames = pd.concat(rows, ignore_index=True)
    ds = assemble_cube(graph, blocks, frames, camera, product, options,
                       extra_coords={"clip": frames["filename"].to_numpy(dtype=object)})
    ds["image"].encoding[ENCODING_KEY] = source
    ds.attrs["sample_seconds"] = step
    ds.attrs["keyframes_only"] = int(decoding.keyframes)
    ds.attrs["time_note"] = ("time is the clip start (from the API) plus the sample's offset in "
                             "the clip, UTC (naive datetime64, xarray convention)")
    return ds


__all__ = ["open_video"]
