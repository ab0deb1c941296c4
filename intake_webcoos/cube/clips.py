"""Decoding video clips with PyAV: the sampled frames of a run of a clip, or pixels of them.

A task decodes one run of consecutive samples of one clip
(:func:`decode_clip`): it seeks to the key frame before the run and decodes
forward, keeping the first frame of each ``step`` of clip time (converted to an
array by libswscale, scaled if asked), or only some pixels of it (a line, for
timestacks).  :class:`ClipDecoding` chooses key frames only, and FFmpeg's
threads.  The cube of clips (:mod:`intake_webcoos.cube.video`) and the lines
decoded straight from clips (:mod:`intake_webcoos.cube.lines`) build their tasks
on it.
"""

from __future__ import annotations

import io
import logging
import math
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

from intake_webcoos.cube.contract import CubeOptions, decode_fetched, fit
from intake_webcoos.errors import (
    ArgumentTypeError,
    FrameDecodeError,
    InvalidArgumentError,
    MissingDependencyError,
)
from intake_webcoos.fs.shared_files import LocalFile

#: Frames this close (seconds) before a sample time count as at it (rounded timestamps).
TIME_SLACK = 1e-3

logger = logging.getLogger("intake_webcoos.cube")


def require_av() -> Any:
    """PyAV, or a MissingDependencyError naming the ``video`` extra."""
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
    av = require_av()
    try:
        with av.open(io.BytesIO(data)) as container:
            return _pixels(next(container.decode(video=0)), options)
    except (av.error.FFmpegError, OSError, ValueError, StopIteration) as exc:
        raise _unreadable_clip(url, exc) from exc


@dataclass(frozen=True)
class ClipDecoding:
    """How PyAV decodes a clip: key frames only or every frame, and its threads.

    Parameters
    ----------
    keyframes : bool
        Decode only key frames (the codec skips the others without decoding them).
    threads : int
        FFmpeg's decoding threads per task (frame and slice threading); 0 lets
        FFmpeg use one per core, 1 decodes in the task's own thread.
    """

    keyframes: bool = False
    threads: int = 1

    def __post_init__(self) -> None:
        if not isinstance(self.keyframes, bool):
            raise ArgumentTypeError(f"keyframes must be True or False, not {self.keyframes!r}")
        if isinstance(self.threads, bool) or not isinstance(self.threads, int) \
                or self.threads < 0:
            raise InvalidArgumentError("decode_threads must be a whole number >= 0 (0: one "
                                       f"per core), not {self.threads!r}")

    def configure(self, stream: Any) -> None:
        """Set up a PyAV video stream before its first packet is decoded."""
        if self.keyframes:
            stream.codec_context.skip_frame = "NONKEY"
        if self.threads != 1:
            stream.thread_type = "AUTO"
            stream.thread_count = self.threads


#: Which pixels of each frame a task keeps: ``(rows, columns)`` index arrays, or None for all.
Pick = tuple[np.ndarray, np.ndarray] | None


def _empty(count: int, options: CubeOptions, pick: Pick) -> np.ndarray:
    """Zeros for ``count`` frames (or the picked pixels of them)."""
    assert options.shape is not None
    pixels = options.shape if pick is None else (len(pick[0]),)
    return np.zeros((count, *pixels, options.bands), dtype=np.uint8)


def _samples(data: bytes, options: CubeOptions, url: str, *, first: int, count: int,
             step: float, decoding: ClipDecoding, pick: Pick = None
             ) -> tuple[np.ndarray, np.ndarray]:
    assert options.shape is not None
    av = require_av()
    frames = _empty(count, options, pick)
    valid = np.zeros(count, dtype=bool)
    rate, decoded = None, 0
    try:
        with av.open(io.BytesIO(data)) as container:
            stream = container.streams.video[0]
            decoding.configure(stream)
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
                pixels = fit(_pixels(frame, options), options.shape, url, options.coerce)
                frames[k] = pixels if pick is None else pixels[pick]
                valid[k] = True
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        if not options.mask:
            raise _unreadable_clip(url, exc) from exc
        # Masking keeps the samples decoded before the damage.
    # The frames decoded per chunk show what seeking costs (one keyframe interval at most).
    logger.debug("decoded %d frames for samples %d to %d of %s", decoded, first,
                 first + count - 1, url)
    if not valid.all() and not options.mask:
        raise _missing_samples(url, np.flatnonzero(~valid) + first, step, rate, decoding)
    return frames, valid


def _missing_samples(url: str, missing: np.ndarray, step: float, rate: Any,
                     decoding: ClipDecoding) -> FrameDecodeError:
    """The error for samples without a frame, saying the likely causes."""
    why = (f"the clip is shorter than its duration says (truncated?), or sampled faster "
           f"than its {float(rate or 0):g} frames per second")
    if decoding.keyframes:
        why += (", or, with keyframes=True, its key frames are further apart than "
                f"sample={step:g} s (sample at least the key frame interval)")
    return FrameDecodeError(
        url, f"{missing.size} samples (one per {step:g} s; first missing: sample "
        f"{missing[0]}, at {missing[0] * step:g} s) have no frame: {why}. "
        "on_error='mask' keeps the others.")


def decode_clip(fetched: list[bytes | Exception], url: str, first: int, count: int,
                step: float, options: CubeOptions, decoding: ClipDecoding = ClipDecoding(),
                pick: Pick = None) -> tuple[np.ndarray, np.ndarray]:
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
    decoding : ClipDecoding
        Key frames only or every frame, and FFmpeg's threads.
    pick : (rows, columns), optional
        Keep only these pixels of each frame (a line, for timestacks).

    Returns
    -------
    frames : numpy.ndarray
        ``(count, y, x, band)`` uint8, or ``(count, pixel, band)`` with ``pick``.
    valid : numpy.ndarray
        ``(count,)`` bool.
    """
    (data,) = fetched
    block = decode_fetched(data, url, options,
                           partial(_samples, first=first, count=count, step=step,
                                   decoding=decoding, pick=pick))
    if block is None:  # a missing or unreadable clip, masked
        return _empty(count, options, pick), np.zeros(count, dtype=bool)
    return block


def decode_shared(clip: LocalFile, first: int, count: int, step: float, options: CubeOptions,
                  decoding: ClipDecoding = ClipDecoding(), pick: Pick = None
                  ) -> tuple[np.ndarray, np.ndarray]:
    """:func:`decode_clip` on a clip's bytes in this process (what its share task returned,
    see :mod:`~intake_webcoos.fs.shared_files`)."""
    return decode_clip([clip.data()], clip.url, first, count, step, options, decoding, pick)


__all__ = ["ClipDecoding", "Pick", "decode_clip", "decode_shared", "first_frame", "require_av"]
