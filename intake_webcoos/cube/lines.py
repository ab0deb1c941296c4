"""Pixels of a line in frames of video clips, decoded straight from the clips.

A timestack of every frame of a burst (20 Hz, for run-up and wave periods) needs
a line of pixels per frame, not the frames: the cube's chunks of about 64 MiB
would be half a second of 1080p clip each, and each would seek back to a key
frame.  A cube of clips therefore carries a :class:`ClipSource` (in its
``image`` variable's ``encoding``, beside the graph, never the token), from
which :func:`clip_line` builds tasks that decode runs of a clip (a minute,
:data:`RUN_SECONDS`) and keep only the line's pixels: a clip is decoded once
(and a key frame interval per run), and a task holds at most
:data:`~intake_webcoos.cube.contract.CHUNK_BYTES` of line pixels.  It serves any
selection of the cube's frames (``isel``/``sel`` along ``time``), while a cube
whose pixels were changed (cropped, scaled, persisted, computed upon) gets
None, and the caller slices the decoded frames instead.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass

import dask.array as da
import numpy as np
import xarray as xr
from dask.base import tokenize
from dask.highlevelgraph import HighLevelGraph

from intake_webcoos.cube.clips import ClipDecoding, decode_shared
from intake_webcoos.cube.contract import CHUNK_BYTES, CubeOptions
from intake_webcoos.fs.shared_files import LocalFile, share

#: The key of the :class:`ClipSource` in a video cube's ``image.encoding``.
ENCODING_KEY = "webcoos_clips"
#: Seconds of clip a task decodes at most: a 10-minute burst is ten tasks, which
#: threads and workers share, each seeking back one key frame interval at most.
RUN_SECONDS = 60.0


@dataclass(frozen=True)
class ClipSource:
    """The clips a video cube decodes and how: what its tasks were built from.

    Attributes
    ----------
    share_name : str
        The name of the share tasks (one per clip: :func:`~intake_webcoos.fs.shared_files.
        share`), shared with the cube's graph.
    urls, sizes, starts : tuple
        Per clip: its URL, its listed size (or None), its start (ns since the epoch, UTC).
    step : float
        Seconds of clip time per sample.
    options : CubeOptions
        Scale, bands, frame shape, masking and client options of the cube.
    decoding : ClipDecoding
        Key frames only or all, and FFmpeg's threads.
    """

    share_name: str
    urls: tuple[str, ...]
    sizes: tuple[int | None, ...]
    starts: tuple[int, ...]
    step: float
    options: CubeOptions
    decoding: ClipDecoding

    def share_task(self, i: int) -> tuple:
        """The task sharing clip ``i`` in its process (the cube's: computing both shares it)."""
        return (share, self.urls[i], self.sizes[i], self.options.client)


def source_of(image: xr.DataArray) -> ClipSource | None:
    """The cube's :class:`ClipSource` if ``image`` still holds its decoded pixels, else None.

    ``image`` may be any selection along ``time`` of the cube's image; cropped,
    scaled, persisted or computed arrays (another graph, or other pixels) get None.
    """
    source = image.encoding.get(ENCODING_KEY)
    if not isinstance(source, ClipSource) or not isinstance(image.data, da.Array):
        return None
    # The share tasks are in the graph of the cube's frames and of selections of them,
    # not in that of a persisted cube (whose chunks are arrays already).
    if (source.share_name, 0) not in image.data.dask or "url" not in image.coords:
        return None
    ny, nx = source.options.shape or (0, 0)
    if image.dims != ("time", "y", "x", "band") or image.shape[1:] != (ny, nx,
                                                                      source.options.bands):
        return None
    bands = ["gray"] if source.options.grayscale else ["red", "green", "blue"]
    if not (np.array_equal(image["y"].values, np.arange(ny))
            and np.array_equal(image["x"].values, np.arange(nx))
            and list(image["band"].values) == bands):
        return None
    return source


def _positions(image: xr.DataArray, source: ClipSource) -> tuple[np.ndarray, np.ndarray] | None:
    """Each frame's clip (index into the source) and sample in it; None for a stranger."""
    index = {url: i for i, url in enumerate(source.urls)}
    urls = image["url"].values
    if not all(url in index for url in urls):
        return None
    clip = np.fromiter((index[url] for url in urls), dtype=np.int64, count=len(urls))
    offset = image["time"].values.astype("datetime64[ns]").astype(np.int64) \
        - np.asarray(source.starts, dtype=np.int64)[clip]
    return clip, np.rint(offset / (source.step * 1e9)).astype(np.int64)


def _line_of(clip: LocalFile, first: int, count: int, step: float, options: CubeOptions,
             decoding: ClipDecoding, pick: tuple[np.ndarray, np.ndarray], keep: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray]:
    """The picked pixels of the samples ``first + keep`` of a clip, and their validity."""
    pixels, valid = decode_shared(clip, first, count, step, options, decoding, pick)
    return pixels[keep], valid[keep]


def clip_line(image: xr.DataArray, rows: np.ndarray, columns: np.ndarray
              ) -> tuple[da.Array, da.Array] | None:
    """The pixels ``(rows[i], columns[i])`` of each frame of a video cube, decoded from its clips.

    Returns
    -------
    (pixels, valid) or None
        ``(time, pixel, band)`` uint8 and ``(time,)`` bool dask arrays in the
        frames' order; None when ``image`` is not (a selection along ``time`` of)
        a cube of clips (see :func:`source_of`).
    """
    source = source_of(image)
    positions = None if source is None else _positions(image, source)
    if positions is None:
        return None
    clip, sample = positions
    order = np.lexsort((sample, clip))  # by clip, then by sample: each clip read forward
    pick = (np.asarray(rows, dtype=np.intp), np.asarray(columns, dtype=np.intp))
    per_task = max(1, min(CHUNK_BYTES // (len(pick[0]) * source.options.bands),
                          round(RUN_SECONDS / source.step)))
    token = tokenize(source, clip, sample, pick)
    name, graph, sizes = f"webcoos-line-{token}", {}, []
    for i in np.unique(clip):
        graph[(source.share_name, int(i))] = source.share_task(int(i))
        wanted = np.sort(sample[clip == i])
        at = 0
        while at < len(wanted):  # runs of at most per_task samples of the clip
            stop = int(np.searchsorted(wanted, wanted[at] + per_task))
            first, keep = int(wanted[at]), wanted[at:stop] - wanted[at]
            graph[(name, len(sizes))] = (_line_of, (source.share_name, int(i)), first,
                                         int(keep[-1]) + 1, source.step, source.options,
                                         source.decoding, pick, keep)
            sizes.append(len(keep))
            at = stop
    pixels, valid = _arrays(graph, name, tuple(sizes), len(pick[0]), source.options.bands)
    if not np.array_equal(order, np.arange(len(order))):
        back = np.argsort(order)
        pixels, valid = pixels[back], valid[back]
    return pixels, valid


def _arrays(graph: dict, name: str, sizes: tuple[int, ...], points: int, bands: int
            ) -> tuple[da.Array, da.Array]:
    """The pixels and validity arrays of the ``name`` tasks (one chunk each)."""
    layer = {(f"{name}-pixels", c, 0, 0): (operator.getitem, (name, c), 0)
             for c in range(len(sizes))}
    flags = {(f"{name}-valid", c): (operator.getitem, (name, c), 1) for c in range(len(sizes))}
    graph = {**graph, **layer, **flags}
    pixels = da.Array(HighLevelGraph.from_collections(f"{name}-pixels", graph),
                      f"{name}-pixels", chunks=(sizes, (points,), (bands,)), dtype=np.uint8)
    valid = da.Array(HighLevelGraph.from_collections(f"{name}-valid", graph), f"{name}-valid",
                     chunks=(sizes,), dtype=bool)
    return pixels, valid
