"""Stills as a cube: a camera's one-minute (or other) stills, lazy and labelled.

``open_images`` lists the elements (one API query per UTC day), reads at most
one frame to learn the frame size, and builds a dask graph in which every
frame is its own chunk by default.  Frames are fetched in concurrent batches
(HTTP latency overlaps) and decoded one task per chunk, so decoding spreads over
threads or workers while only JPEG bytes wait in memory.  The Dataset follows
the contract of :mod:`intake_webcoos.cube`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from dask.base import tokenize

from . import paths
from .api.models import Asset
from .api.sync import Client
from .api.tables import thin
from .api.times import TimeLike, to_timedelta
from .cube import (
    MAX_FRAMES,
    CubeOptions,
    assemble_cube,
    check_unbounded,
    decode_fetched,
    fit,
    learn_shape,
    time_chunks,
)
from .errors import EmptyRangeError
from .fetch import fetch_batch, listed_sizes
from .fs import WebcoosFileSystem
from .kinds import check_kind

#: Frames fetched together by one task: enough to hide HTTP latency behind
#: decoding, few enough that only a few MB of JPEG bytes wait at a time.
FETCH_BATCH = 16


def open_images(
    asset: str | Sequence[str] | None = None, product: str | None = None,
    start: TimeLike | None = None, end: TimeLike | None = None, *,
    every: str | pd.Timedelta | None = None, scale: float = 1, grayscale: bool = False,
    chunks: int | dict[str, int] | None = None, coerce_shape: tuple[int, int] | None = None,
    on_error: str = "raise", cache: bool = False, max_frames: int = MAX_FRAMES,
    token: str | None = None, base_url: str | None = None, **client_options: Any,
) -> xr.Dataset:
    """Open a camera's still images as a lazy ``(time, y, x, band)`` cube.

    Parameters
    ----------
    asset, product : str
        Camera slug or label and product slug (``"one-minute-stills"``); or, alone,
        a ``webcoos://`` glob or a list of ``webcoos://`` file paths.
    start, end : str, datetime, Timestamp or datetime64
        Inclusive UTC bounds (naive means UTC).
    every : str or Timedelta, optional
        Keep the first frame of each UTC bin of this width (``"10min"``).
    scale : {1, 1/2, 1/4, 1/8}
        Decode at reduced size with JPEG DCT scaling (several times faster).
    grayscale : bool
        One band of luminance instead of RGB.
    chunks : int or dict, optional
        Frames per chunk along ``time`` (default 1), e.g. ``{"time": 10}``;
        other dimensions given in a dict are rechunked afterwards.
    coerce_shape : (ny, nx), optional
        Crop or zero-pad every frame to this size (after scaling), for cameras
        that changed resolution; also spares reading a frame at opening.
    on_error : {"raise", "mask"}
        ``"mask"`` turns unreadable or missing frames into zeros marked False
        in a boolean ``valid`` coordinate; the ``.webcoos`` products skip them.
    cache : bool
        Keep the stills in the on-disk cache and read them from it next time.
    max_frames : int
        Without ``start`` or ``end``, refuse more frames than this (a day of stills).
    token, base_url, **client_options
        API token and root (default: ``WEBCOOS_API_TOKEN``, ``WEBCOOS_API_URL``) and
        client settings (``retries``, ``timeout``...), also used by the file reads on
        the workers, which never need the token: element files are public.

    Returns
    -------
    xarray.Dataset
        The cube of :mod:`intake_webcoos.cube`. :class:`EmptyRangeError` says why a
        selection holds nothing; :class:`ProductKindError` names the reader of clips
        and results.
    """
    if cache:
        client_options = {**client_options, "cache": True, "cache_files": True}
    options = CubeOptions.from_arguments(scale=scale, grayscale=grayscale,
                                         coerce_shape=coerce_shape, on_error=on_error,
                                         client_options=client_options)
    listing, camera, product = _listing(asset, product, start, end, every, max_frames, token,
                                        base_url, client_options)
    if options.shape is None:
        options = learn_shape(listing, options)
    return _cube(listing, camera, product, options, chunks)


def _listing(asset, product, start, end, every, max_frames, token, base_url,
             client_options: dict[str, Any]) -> tuple[pd.DataFrame, Asset, str]:
    """The stills to open (``time, url, filename, service, size``), their camera and product."""
    if _are_paths(asset):
        if product is not None or start is not None or end is not None:
            raise ValueError("give either webcoos:// paths or asset, product, start and end")
        listing, camera, product = _from_paths(asset, every, token, base_url, client_options)
        why = f"No file matches {asset!r}."
    elif asset is None or product is None:
        raise ValueError("open_images needs a camera and a product (or webcoos:// paths)")
    else:
        client = Client(token, base_url, **client_options)
        camera = client.asset(asset)
        services = client.services(camera.slug, product)  # a stream only: NoFilesError
        check_kind(camera.slug, product, "image")
        check_unbounded(services, start, end, max_frames)
        elements = client.elements(camera.slug, product, start, end, every=every)
        listing = elements[["time", "url", "filename", "service", "size"]]
        check_unbounded(services, start, end, max_frames, len(listing))
        why = elements.attrs.get("why_empty", "")
    if listing.empty:
        raise EmptyRangeError(f"No {product} of {camera.slug} between {start} and {end} "
                              f"(UTC). {why}")
    check_kind(camera.slug, product, "image", listing["url"].iloc[0])
    return listing, camera, product


def _are_paths(value: Any) -> bool:
    if isinstance(value, str):
        return paths.is_archive_url(value)
    return isinstance(value, (list, tuple)) and bool(value) and all(
        paths.is_archive_url(v) for v in value)


def _from_paths(targets: str | Sequence[str], every, token, base_url,
                client_options: dict[str, Any]) -> tuple[pd.DataFrame, Asset, str]:
    """The listing of a glob or of explicit paths, and the camera they belong to."""
    fs = WebcoosFileSystem(token=token, base_url=base_url, **client_options)
    if isinstance(targets, str):
        infos = list(fs.glob(targets, detail=True).values())
    else:
        infos = [fs.info(p) for p in targets]
    infos = [i for i in infos if i["type"] == "file"]
    parsed = [paths.parse(i["name"]) for i in infos]
    owners = {(p.asset, p.product) for p in parsed}
    if len(owners) > 1:
        raise ValueError(f"the paths span several camera products {sorted(owners)}: "
                         "open each separately and combine the cubes with xarray")
    if not owners:
        raise EmptyRangeError(f"No file matches {targets!r}.")
    (asset, product), = owners
    listing = pd.DataFrame({
        "time": pd.DatetimeIndex([i["time"] for i in infos]).tz_convert("UTC"),
        "url": [i["url"] for i in infos],
        "filename": [p.filename for p in parsed],
        "service": [i["service"] for i in infos],
        "size": pd.array([i["size"] for i in infos], dtype="Int64"),
    }).sort_values("time", kind="stable").reset_index(drop=True)
    if every is not None:
        listing = thin(listing, to_timedelta(every))
    return listing, fs.client.asset(asset), product


def decode_frames(fetched: list[bytes | Exception], first: int, stop: int,
                  urls: tuple[str, ...], options: CubeOptions
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


def _cube(listing: pd.DataFrame, camera: Asset, product: str, options: CubeOptions,
          chunks: int | dict[str, int] | None) -> xr.Dataset:
    per_chunk, other_chunks = time_chunks(chunks)
    assert per_chunk is not None
    urls, sizes = tuple(listing["url"]), listed_sizes(listing)
    n = len(urls)
    # Fetch batches hold whole chunks, so a chunk's frames come from one batch.
    batch = per_chunk * math.ceil(FETCH_BATCH / per_chunk)
    fetch_name = f"webcoos-fetch-{tokenize(urls)}"
    graph: dict[Any, Any] = {}
    for b, first in enumerate(range(0, n, batch)):
        graph[(fetch_name, b)] = (fetch_batch, urls[first : first + batch], options.client,
                                  sizes[first : first + batch])
    blocks = []
    for first in range(0, n, per_chunk):
        stop = min(first + per_chunk, n)
        b, offset = divmod(first, batch)
        blocks.append(((decode_frames, (fetch_name, b), offset, offset + stop - first,
                        urls[first:stop], options), stop - first))
    ds = assemble_cube(graph, blocks, listing, camera, product, options)
    return ds.chunk(other_chunks) if other_chunks else ds
