"""Image time series: a camera's frames as one lazy, labelled xarray cube.

``open_images`` lists the elements (one API query per UTC day), reads at most
one frame to learn the frame size, and builds a dask graph in which every
frame is its own chunk.  Frames are fetched in concurrent batches (HTTP
latency overlaps) and decoded one task per chunk, so decoding spreads over
threads or workers while only JPEG bytes wait in memory.
"""

from __future__ import annotations

import math
import operator
import os
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

import dask.array as da
import numpy as np
import pandas as pd
import xarray as xr
from dask.base import tokenize
from dask.highlevelgraph import HighLevelGraph

from . import imaging as _imaging  # noqa: F401  (registers the .webcoos accessor)
from .api.errors import EmptyRangeError, FrameDecodeError, FrameError
from .api.tables import thin
from .api.models import Asset
from .api.sync import Client
from .api.times import TimeLike, to_timedelta
from .decode import DecodeOptions, decode, decode_fetched, decode_frames, fetch_batch
from .fs import WebcoosFileSystem

#: Frames fetched together by one task: enough to hide HTTP latency behind
#: decoding, few enough that only a few MB of JPEG bytes wait at a time.
FETCH_BATCH = 16
CITATION = (
    "WebCOOS {years}. Imagery from the {label} camera ({slug}) of the Web Camera "
    "Coastal Observation System, https://webcoos.org. SECOORA is acknowledged for "
    "leading the WebCOOS program."
)


def open_images(
    asset: str | Sequence[str] | None = None,
    product: str | None = None,
    start: TimeLike | None = None,
    end: TimeLike | None = None,
    *,
    every: str | pd.Timedelta | None = None,
    scale: float = 1,
    grayscale: bool = False,
    chunks: int | dict[str, int] | None = None,
    coerce_shape: tuple[int, int] | None = None,
    on_error: str = "raise",
    token: str | None = None,
    base_url: str | None = None,
    **client_options: Any,
) -> xr.Dataset:
    """Open a camera's still images as a lazy ``(time, y, x, band)`` cube.

    Parameters
    ----------
    asset : str or list of str
        Camera slug or label; or a ``webcoos://`` glob, or a list of
        ``webcoos://`` file paths (then ``product``, ``start`` and ``end`` are
        not given).
    product : str
        Product slug, e.g. ``"one-minute-stills"``.
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
    token, base_url : str, optional
        API token and root (default: ``WEBCOOS_API_TOKEN``, ``WEBCOOS_API_URL``).
        Workers never need the token: element files are public.
    **client_options
        Client settings (``retries``, ``timeout``, ``file_concurrency``...),
        used for the listing here and for the file reads on the workers.

    Returns
    -------
    xarray.Dataset
        Variable ``image`` (uint8, dask, one chunk per frame); coordinates
        ``time`` (naive UTC), ``url``, ``filename`` (and ``valid``); camera
        metadata and the citation WebCOOS asks for in ``attrs``.

    Raises
    ------
    EmptyRangeError
        No element in the selection (night, an outage, outside the data).
    """
    if on_error not in ("raise", "mask"):
        raise ValueError(f"on_error must be 'raise' or 'mask', not {on_error!r}")
    options = DecodeOptions(scale=scale, grayscale=grayscale,
                            coerce=coerce_shape is not None, mask=on_error == "mask",
                            shape=tuple(coerce_shape) if coerce_shape is not None else None,
                            client=tuple(sorted(client_options.items())))
    if _are_paths(asset):
        if product is not None or start is not None or end is not None:
            raise ValueError("give either webcoos:// paths or asset, product, start and end")
        listing, camera, product = _from_paths(asset, every, token, base_url, client_options)
    else:
        if asset is None or product is None:
            raise ValueError("open_images needs a camera and a product (or webcoos:// paths)")
        client = Client(token, base_url, **client_options)
        camera = client.asset(asset)
        elements = client.elements(camera.slug, product, start, end, every=every)
        listing = elements[["time", "url", "filename", "service"]]
    if listing.empty:
        raise EmptyRangeError(
            f"No {product} of {camera.slug} between {start} and {end} (UTC): the cameras "
            "record in daylight only (local time); check the inventory for days with data.")
    _check_stills(listing, camera.slug, product)
    if options.shape is None:
        options = learn_shape(listing, options)
    return _cube(listing, camera, product, options, chunks)


OTHER_READERS = {
    ".mp4": "video clips: open them with intake_webcoos.open_video(...) or "
            "xr.open_dataset('webcoos://camera/product', engine='webcoos', ...)",
    ".json": "detection results: read them with intake_webcoos.read_results(...)",
    ".jsonl": "detection results: read them with intake_webcoos.read_results(...)",
}


def _check_stills(listing: pd.DataFrame, camera: str, product: str) -> None:
    """Refuse, saying what to use instead, a product whose files are not images."""
    url = listing["url"].iloc[0]
    extension = os.path.splitext(urlsplit(url).path)[1].lower()
    if extension in OTHER_READERS:
        raise FrameDecodeError(url, f"{camera}/{product} holds {OTHER_READERS[extension]}; "
                               "open_images reads stills.")


def _are_paths(value: Any) -> bool:
    if isinstance(value, str):
        return value.startswith("webcoos://")
    return isinstance(value, (list, tuple)) and bool(value) and all(
        isinstance(v, str) and v.startswith("webcoos://") for v in value)


def _from_paths(paths: str | Sequence[str], every, token, base_url,
                client_options: dict[str, Any]) -> tuple[pd.DataFrame, Asset, str]:
    """The listing of a glob or of explicit paths, and the camera they belong to."""
    fs = WebcoosFileSystem(token=token, base_url=base_url, **client_options)
    if isinstance(paths, str):
        infos = list(fs.glob(paths, detail=True).values())
    else:
        infos = [fs.info(p) for p in paths]
    infos = [i for i in infos if i["type"] == "file"]
    owners = {tuple(i["name"].split("/")[:2]) for i in infos}
    if len(owners) > 1:
        raise ValueError(f"the paths span several camera products {sorted(owners)}: "
                         "open each separately and combine the cubes with xarray")
    if not owners:
        raise EmptyRangeError(f"No file matches {paths!r}.")
    (asset, product), = owners
    listing = pd.DataFrame({
        "time": pd.DatetimeIndex([i["time"] for i in infos]).tz_convert("UTC"),
        "url": [i["url"] for i in infos],
        "filename": [i["name"].rsplit("/", 1)[1] for i in infos],
        "service": [i["service"] for i in infos],
    }).sort_values("time", kind="stable").reset_index(drop=True)
    if every is not None:
        listing = thin(listing, to_timedelta(every))
    return listing, fs.client.asset(asset), product


def learn_shape(listing: pd.DataFrame, options: DecodeOptions,
                decoder: Callable[[bytes, DecodeOptions, str], np.ndarray] = decode
                ) -> DecodeOptions:
    """Read files (the first readable one when masking) to learn the cube's frame size.

    ``decoder(data, options, url)`` gives one ``(y, x, band)`` frame of a file.
    """
    for url in listing["url"]:
        (data,) = fetch_batch((url,), options.client)
        frame = decode_fetched(data, url, options, decoder)
        if frame is not None:
            return replace(options, shape=frame.shape[:2])
    raise FrameError(listing["url"].iloc[0], "no frame of the selection could be read; "
                     "nothing to learn the frame size from (pass coerce_shape=(ny, nx)).")


def time_chunks(chunks: int | dict[str, int] | None, default: int | None = 1
                ) -> tuple[int | None, dict[str, int]]:
    """Frames per chunk along ``time`` (``default`` when not given) and the other chunks."""
    other: dict[str, int] = {}
    per_chunk: int | None = default
    if isinstance(chunks, int):
        per_chunk = chunks
    elif chunks is not None:
        other = {k: v for k, v in chunks.items() if k != "time"}
        if chunks.get("time") not in (None, -1):
            per_chunk = int(chunks["time"])
    if per_chunk is not None and per_chunk < 1:
        raise ValueError("chunks along time must be at least 1 frame")
    return per_chunk, other


def _cube(listing: pd.DataFrame, camera: Asset, product: str, options: DecodeOptions,
          chunks: int | dict[str, int] | None) -> xr.Dataset:
    per_chunk, other_chunks = time_chunks(chunks)
    assert per_chunk is not None
    urls = tuple(listing["url"])
    n = len(urls)
    # Fetch batches hold whole chunks, so a chunk's frames come from one batch.
    batch = per_chunk * math.ceil(FETCH_BATCH / per_chunk)
    fetch_name = f"webcoos-fetch-{tokenize(urls)}"
    graph: dict[Any, Any] = {}
    for b, first in enumerate(range(0, n, batch)):
        graph[(fetch_name, b)] = (fetch_batch, urls[first : first + batch], options.client)
    blocks = []
    for first in range(0, n, per_chunk):
        stop = min(first + per_chunk, n)
        b, offset = divmod(first, batch)
        blocks.append(((decode_frames, (fetch_name, b), offset, offset + stop - first,
                        urls[first:stop], options), stop - first))
    ds = assemble_cube(graph, blocks, listing, camera, product, options)
    return ds.chunk(other_chunks) if other_chunks else ds


def assemble_cube(graph: dict[Any, Any], blocks: list[tuple[tuple, int]],
                  frames: pd.DataFrame, camera: Asset, product: str, options: DecodeOptions,
                  extra_coords: dict[str, np.ndarray] | None = None) -> xr.Dataset:
    """The Dataset of a cube whose chunks come from ``blocks``.

    Parameters
    ----------
    graph : dict
        Tasks the blocks depend on (fetches); the block tasks are added to it.
    blocks : list of (task, frames)
        One task per chunk along time, returning ``(frames, valid)``, and how
        many frames it holds.
    frames : pandas.DataFrame
        One row per frame: ``time`` (UTC), ``url``, ``filename``, ``service``.
    extra_coords : dict, optional
        More per-frame coordinates (e.g. the source clip).
    """
    ny, nx = options.shape
    token = tokenize([task for task, _ in blocks])
    load_name, image_name = f"webcoos-decode-{token}", f"webcoos-image-{token}"
    valid_name = f"webcoos-valid-{token}"
    for c, (task, _) in enumerate(blocks):
        graph[(load_name, c)] = task
        graph[(image_name, c, 0, 0, 0)] = (operator.getitem, (load_name, c), 0)
        graph[(valid_name, c)] = (operator.getitem, (load_name, c), 1)
    sizes = tuple(count for _, count in blocks)
    image = da.Array(HighLevelGraph.from_collections(image_name, graph), image_name,
                     chunks=(sizes, (ny,), (nx,), (options.bands,)), dtype=np.uint8)
    coords: dict[str, Any] = {
        "time": ("time", frames["time"].dt.tz_convert("UTC").dt.tz_localize(None)
                 .to_numpy().astype("datetime64[ns]"), {"timezone": "UTC"}),
        "url": ("time", np.asarray(frames["url"], dtype=object)),
        "filename": ("time", np.asarray(frames["filename"], dtype=object)),
        **{name: ("time", values) for name, values in (extra_coords or {}).items()},
        "y": ("y", np.arange(ny)),
        "x": ("x", np.arange(nx)),
        "band": ("band", ["gray"] if options.grayscale else ["red", "green", "blue"]),
    }
    if options.mask:
        valid = da.Array(HighLevelGraph.from_collections(valid_name, graph), valid_name,
                         chunks=(sizes,), dtype=bool)
        coords["valid"] = ("time", valid)
    ds = xr.Dataset({"image": (("time", "y", "x", "band"), image)}, coords=coords,
                    attrs=_attrs(frames, camera, product, options))
    ds["image"].attrs.update(long_name=f"{product} of {camera.label}", units="1",
                             valid_range=[0, 255])
    return ds


def _attrs(listing: pd.DataFrame, camera: Asset, product: str,
           options: DecodeOptions) -> dict[str, Any]:
    years = sorted({int(y) for y in listing["time"].dt.year})
    span = str(years[0]) if len(years) == 1 else f"{years[0]}-{years[-1]}"
    return {
        "title": f"{camera.label}: {product}",
        "camera": camera.slug,
        "camera_label": camera.label,
        "latitude": camera.latitude,
        "longitude": camera.longitude,
        "camera_timezone": camera.timezone,
        "product": product,
        "service": ",".join(sorted(set(listing["service"]))),
        "scale": options.scale,
        "time_note": "time is the element start in UTC (naive datetime64, xarray convention)",
        "source": "WebCOOS, https://webcoos.org",
        "citation": CITATION.format(years=span, label=camera.label, slug=camera.slug),
    }
