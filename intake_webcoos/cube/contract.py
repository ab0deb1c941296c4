"""The image-cube contract, shared by its two producers (stills and video clips).

A cube is an :class:`xarray.Dataset` with variable ``image`` of dims ``(time,
y, x, band)``, uint8, dask-backed; ``time`` is naive UTC; per-frame ``url`` and
``filename`` coordinates (and ``valid`` when masking); camera metadata and the
citation WebCOOS asks for in ``attrs``.  :mod:`intake_webcoos.cube.stills` and
:mod:`intake_webcoos.cube.video` build the chunk tasks; this module holds the options
they share, the decode-or-mask rule, and the assembly of the Dataset.
See ``docs/design.md``.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import dask.array as da
import numpy as np
import pandas as pd
import xarray as xr
from dask.base import tokenize
from dask.highlevelgraph import HighLevelGraph

from intake_webcoos.api.models import Asset, Service
from intake_webcoos.api.times import TimeLike, to_utc
from intake_webcoos.api.windows import extent
from intake_webcoos.cube.decode import check_scale, decode_image
from intake_webcoos.errors import (
    FrameError,
    FrameShapeError,
    InvalidArgumentError,
    SelectionTooLargeError,
    WebcoosError,
    one_of,
)
from intake_webcoos.fs.element_files import ClientOptions, fetch_batch, listed_sizes

CITATION = (
    "WebCOOS {years}. Imagery from the {label} camera ({slug}) of the Web Camera "
    "Coastal Observation System, https://webcoos.org. SECOORA is acknowledged for "
    "leading the WebCOOS program."
)
ON_ERROR = ("raise", "mask")
#: Frames a cube opened without ``start`` or ``end`` may hold: a day of one-minute stills.
MAX_FRAMES = 1440
#: Bytes of pixels a chunk holds by default (see :func:`frames_per_chunk`): tasks
#: long enough that scheduling costs nothing beside decoding, and a few chunks per
#: thread in memory at once.
CHUNK_BYTES = 64 * 2**20


@dataclass(frozen=True)
class CubeOptions:
    """How the frames of a cube are decoded and checked.

    Parameters
    ----------
    scale : float
        1, 1/2, 1/4 or 1/8: the fraction of the size frames are decoded at.
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
        check_scale(self.scale)

    @classmethod
    def from_arguments(cls, *, scale: float, grayscale: bool,
                       coerce_shape: tuple[int, int] | None, on_error: str,
                       client_options: dict[str, Any]) -> CubeOptions:
        """The options from the keywords of ``open_images`` / ``open_video``."""
        one_of("on_error", on_error, ON_ERROR)
        return cls(scale=scale, grayscale=grayscale, coerce=coerce_shape is not None,
                   mask=on_error == "mask",
                   shape=tuple(coerce_shape) if coerce_shape is not None else None,
                   client=tuple(sorted(client_options.items())))

    @property
    def bands(self) -> int:
        return 1 if self.grayscale else 3


def decode_still(data: bytes, options: CubeOptions, url: str,
                 out: np.ndarray | None = None) -> np.ndarray:
    """One still as a ``(y, x, band)`` frame, at the cube's scale and bands.

    Decoded straight into ``out`` (a frame of a chunk) when it has the still's size.
    """
    return decode_image(data, scale=options.scale, grayscale=options.grayscale, url=url,
                        out=out)


Decoder = Callable[[bytes, CubeOptions, str], Any]


def decode_fetched(data: bytes | Exception, url: str, options: CubeOptions,
                   decoder: Decoder = decode_still) -> Any:
    """Decode what a fetch returned; None for an unreadable or missing file when masking.

    Without masking, the fetch's typed error or the decode error is raised.
    ``decoder(data, options, url)`` reads the bytes (a still by default; video
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


def learn_shape(listing: pd.DataFrame, options: CubeOptions,
                decoder: Decoder = decode_still) -> CubeOptions:
    """Read files (the first readable one when masking) to learn the cube's frame size."""
    for url, size in zip(listing["url"], listed_sizes(listing), strict=True):
        (data,) = fetch_batch((url,), options.client, (size,))
        frame = decode_fetched(data, url, options, decoder)
        if frame is not None:
            return replace(options, shape=frame.shape[:2])
    raise FrameError(listing["url"].iloc[0], "no frame of the selection could be read; "
                     "nothing to learn the frame size from (pass coerce_shape=(ny, nx)).")


def frames_per_chunk(options: CubeOptions) -> int:
    """The default frames per chunk: about :data:`CHUNK_BYTES` of pixels, 8 to 64 frames."""
    assert options.shape is not None
    frame = options.shape[0] * options.shape[1] * options.bands
    return max(8, min(64, CHUNK_BYTES // max(1, frame)))


def time_chunks(chunks: int | dict[str, int] | None, default: int
                ) -> tuple[int | None, dict[str, int]]:
    """Frames per chunk along ``time`` and the other chunks.

    ``default`` when ``chunks`` gives no size along time; None for ``-1`` (dask's
    "the whole dimension": a whole listing of stills, a whole clip of video).
    """
    other: dict[str, int] = {}
    per_chunk: int | None = default
    if isinstance(chunks, dict):
        other = {k: v for k, v in chunks.items() if k != "time"}
        chunks = chunks.get("time")
    if chunks == -1:
        per_chunk = None
    elif chunks is not None:
        per_chunk = int(chunks)
    if per_chunk is not None and per_chunk < 1:
        raise InvalidArgumentError("chunks along time must be at least 1 frame")
    return per_chunk, other


def assemble_cube(graph: dict[Any, Any], blocks: list[tuple[tuple, int]],
                  frames: pd.DataFrame, camera: Asset, product: str, options: CubeOptions,
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
    coords = _coords(frames, options, extra_coords)
    if options.mask:
        coords["valid"] = ("time", da.Array(HighLevelGraph.from_collections(valid_name, graph),
                                            valid_name, chunks=(sizes,), dtype=bool))
    ds = xr.Dataset({"image": (("time", "y", "x", "band"), image)}, coords=coords,
                    attrs=_attrs(frames, camera, product, options))
    ds["image"].attrs.update(long_name=f"{product} of {camera.label}", units="1",
                             valid_range=[0, 255])
    return ds


def _coords(frames: pd.DataFrame, options: CubeOptions,
            extra: dict[str, np.ndarray] | None) -> dict[str, Any]:
    ny, nx = options.shape
    return {
        "time": ("time", frames["time"].dt.tz_convert("UTC").dt.tz_localize(None)
                 .to_numpy().astype("datetime64[ns]"), {"timezone": "UTC"}),
        "url": ("time", np.asarray(frames["url"], dtype=object)),
        "filename": ("time", np.asarray(frames["filename"], dtype=object)),
        **{name: ("time", values) for name, values in (extra or {}).items()},
        "y": ("y", np.arange(ny)),
        "x": ("x", np.arange(nx)),
        "band": ("band", ["gray"] if options.grayscale else ["red", "green", "blue"]),
    }


def _attrs(listing: pd.DataFrame, camera: Asset, product: str,
           options: CubeOptions) -> dict[str, Any]:
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


def check_unbounded(services: list[Service], start: TimeLike | None, end: TimeLike | None,
                    max_frames: int, frames: int | None = None) -> None:
    """Refuse a cube asked without ``start`` or ``end`` that would pass ``max_frames``.

    Before listing, ``frames`` is left out and estimated from the services'
    statistics (the part of their extent the open range covers); after, it is
    the number listed.

    Raises
    ------
    SelectionTooLargeError
        Too many frames, with how to bound the selection or raise the limit.
    """
    if start is not None and end is not None:
        return
    spans = [(known, s.stats.count) for s in services if (known := extent(s)) is not None]
    if frames is None:
        lo = None if start is None else to_utc(start, "start")
        hi = None if end is None else to_utc(end, "end")
        frames = sum(count * _covered(span, lo, hi) for span, count in spans)
    if frames <= max_frames:
        return
    last = max(span[1] for span, _ in spans)
    hour = (last.floor("h").isoformat(), (last.floor("h") + pd.Timedelta("59min59s")).isoformat())
    raise SelectionTooLargeError(
        f"Without start= and end= this selection holds about {int(frames):,} frames, more "
        f"than max_frames={max_frames:,} (a day of one-minute stills). Pass start= and end= "
        f"(the last hour of data is start={hour[0]!r}, end={hour[1]!r}), or a larger "
        "max_frames= to open it all.")


def _covered(span: tuple[pd.Timestamp, pd.Timestamp], lo: pd.Timestamp | None,
             hi: pd.Timestamp | None) -> float:
    """The fraction of ``span`` inside ``[lo, hi]`` (open ends: all of that side)."""
    first, last = span
    if last <= first:
        return 1.0
    inside = min(hi or last, last) - max(lo or first, first)
    return max(0.0, inside / (last - first))
