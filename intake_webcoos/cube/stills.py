"""Stills as a cube: a camera's one-minute (or other) stills, lazy and labelled.

``open_images`` lists the elements (one API query per UTC day), reads at most
one frame to learn the frame size, and builds a dask graph of one task per chunk
of frames (:func:`frames_per_chunk`): the task fetches its files concurrently and
decodes each, as soon as it has arrived, straight into the chunk, so HTTP latency
hides behind decoding and decoding spreads over threads or workers.  The Dataset
follows the contract of :mod:`intake_webcoos.cube.contract`.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from intake_webcoos.api.models import Asset
from intake_webcoos.api.times import TimeLike
from intake_webcoos.cube.contract import (
    MAX_FRAMES,
    CubeOptions,
    assemble_cube,
    decode_fetched,
    decode_still,
    fit,
    frames_per_chunk,
    learn_shape,
    time_chunks,
)
from intake_webcoos.cube.selection import CUBE_KEYWORDS, Selection, document
from intake_webcoos.fs.element_files import listed_sizes
from intake_webcoos.fs.prefetch import Prefetcher


@document(*CUBE_KEYWORDS)
def open_images(
    camera: str | Sequence[str] | None = None, product: str | None = None,
    start: TimeLike | None = None, end: TimeLike | None = None, *,
    every: str | pd.Timedelta | None = None, sample: str | pd.Timedelta | None = None,
    fps: float | None = None, keyframes: bool = False, decode_threads: int = 1,
    scale: float = 1, grayscale: bool = False,
    chunks: int | dict[str, int] | None = None, coerce_shape: tuple[int, int] | None = None,
    on_error: str = "raise", cache: bool = False, max_frames: int = MAX_FRAMES,
    token: str | None = None, base_url: str | None = None, **client_options: Any,
) -> xr.Dataset:
    """Open a camera's still images as a lazy ``(time, y, x, band)`` cube.

    The keywords are those of every face (:mod:`intake_webcoos.cube.selection`):
    :func:`~intake_webcoos.open_video` takes the same.

    Parameters
    ----------
    {parameters}
    chunks : int or dict, optional
        Frames per chunk along ``time``, e.g. ``{"time": 10}`` (default: about
        64 MiB of pixels, 8 to 64 frames; ``-1``: every frame in one chunk); other
        dimensions given in a dict are rechunked afterwards.
    on_error : {"raise", "mask"}
        ``"mask"`` turns unreadable or missing frames into zeros marked False
        in a boolean ``valid`` coordinate; the ``.webcoos`` products skip them.

    Returns
    -------
    xarray.Dataset
        The cube of :mod:`intake_webcoos.cube.contract`. :class:`EmptyRangeError` says why a
        selection holds nothing; :class:`ProductKindError` names the reader of clips
        and results; :class:`ArgumentTypeError` names a keyword it does not take.
    """
    selection = Selection.build("image", camera, product, start, end, every=every,
                                sample=sample, fps=fps, keyframes=keyframes,
                                decode_threads=decode_threads, cache=cache, max_frames=max_frames,
                                token=token, base_url=base_url, client_options=client_options)
    options = CubeOptions.from_arguments(scale=scale, grayscale=grayscale,
                                         coerce_shape=coerce_shape, on_error=on_error,
                                         client_options=dict(selection.client_options))
    listing, found, product = _listing(selection)
    if options.shape is None:
        options = learn_shape(listing, options)
    return _cube(listing, found, product, options, chunks)


def _listing(selection: Selection) -> tuple[pd.DataFrame, Asset, str]:
    """The stills to open (``time, url, filename, service, size``), their camera and product."""
    frame, camera, product, services = selection.listing()
    listing = frame[["time", "url", "filename", "service", "size"]]
    selection.check_size(services, len(listing))
    return listing, camera, product


def load_chunk(urls: tuple[str, ...], sizes: tuple[int | None, ...], options: CubeOptions,
               prefetcher: Prefetcher | None = None, index: int = 0
               ) -> tuple[np.ndarray, np.ndarray]:
    """Frames ``urls`` as a ``(time, y, x, band)`` block, and their validity.

    The files are fetched concurrently and each is decoded as soon as it has
    arrived, straight into the block.  They are claimed from the cube's
    ``prefetcher`` as its chunk ``index``, which may have started them already
    and starts the next chunks' files meanwhile
    (:class:`~intake_webcoos.fs.prefetch.Prefetcher`).
    """
    assert options.shape is not None
    prefetcher = prefetcher or Prefetcher((), options.client)
    frames = np.empty((len(urls), *options.shape, options.bands), dtype=np.uint8)
    valid = np.ones(len(urls), dtype=bool)
    # Closed here, not by the collector: an error leaves no fetch running on.
    with contextlib.closing(prefetcher.files(index, urls, sizes)) as fetched:
        for i, (data, url) in enumerate(zip(fetched, urls, strict=True)):
            frame = decode_fetched(data, url, options, functools.partial(decode_still,
                                                                         out=frames[i]))
            if frame is None:
                valid[i], frames[i] = False, 0
            elif not np.may_share_memory(frame, frames[i]):
                # A frame of another size is never masked: it is readable, the cube is wrong.
                frames[i] = fit(frame, options.shape, url, options.coerce)
    return frames, valid


def _cube(listing: pd.DataFrame, camera: Asset, product: str, options: CubeOptions,
          chunks: int | dict[str, int] | None) -> xr.Dataset:
    per_chunk, other_chunks = time_chunks(chunks, default=frames_per_chunk(options))
    urls, sizes = tuple(listing["url"]), listed_sizes(listing)
    per_chunk = per_chunk or len(urls)
    parts = [(urls[i:i + per_chunk], sizes[i:i + per_chunk])
             for i in range(0, len(urls), per_chunk)]
    prefetcher = Prefetcher(parts, options.client)  # shared by the cube's tasks
    blocks = [((load_chunk, *part, options, prefetcher, c), len(part[0]))
              for c, part in enumerate(parts)]
    ds = assemble_cube({}, blocks, listing, camera, product, options)
    return ds.chunk(other_chunks) if other_chunks else ds
