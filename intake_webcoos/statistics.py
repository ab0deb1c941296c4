"""Per-pixel statistics over time in one streaming pass over the frames.

The four coastal-imaging statistics (mean, standard deviation, maximum and
minimum of each pixel over time) come from the same partial results of each
chunk of frames: the count, the sum and the sum of squares (exact, in
integers), the maximum and the minimum.  Each chunk is reduced where it is
decoded, the partials of a bin are combined a few at a time (a tree, so no task
holds more than :data:`SPLIT_EVERY` of them), and only then turned into the
statistics: memory stays flat in the number of frames, at most a few chunks per
worker thread.

With ``freq`` the frames are grouped in UTC bins.  A chunk that spans the edge
of a bin gives one partial per bin it touches, so no rechunking or dask
``groupby`` over single frames is needed.  Frames marked False in ``valid`` are
left out of every statistic.

Integer sums make the mean and the variance exact up to the final division
(``n * sumsq - sum**2`` is exact in 64 bits for up to ten million frames), so
results match a float64 reference to its last bit, and a float32 one to float32
rounding.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import dask.array as da
import numpy as np
import pandas as pd
from dask.base import tokenize
from dask.highlevelgraph import HighLevelGraph

#: The statistics, and the partial sums each one needs.
NEEDS: dict[str, frozenset[str]] = {
    "timex": frozenset({"sum"}),
    "variance": frozenset({"sum", "sumsq"}),
    "brightest": frozenset({"max"}),
    "darkest": frozenset({"min"}),
}
#: Partials combined by one task (the fan-in of the reduction tree).
SPLIT_EVERY = 8


@dataclass
class Partial:
    """What a run of frames contributes to one bin: counts, sums and extremes.

    ``sum`` and ``sumsq`` are int64, ``max`` and ``min`` keep the image's dtype;
    those not asked for are None.
    """

    count: int
    sum: np.ndarray | None = None
    sumsq: np.ndarray | None = None
    max: np.ndarray | None = None
    min: np.ndarray | None = None


def _sum_of_squares(frames: np.ndarray) -> np.ndarray:
    # Frame by frame: a square of the whole block at once would double its memory.
    total = np.zeros(frames.shape[1:], dtype=np.int64)
    square = np.empty(frames.shape[1:], dtype=np.uint32)
    for frame in frames:
        np.square(frame, out=square, dtype=np.uint32)
        total += square
    return total


def partial(frames: np.ndarray, needs: frozenset[str]) -> Partial:
    """The partial of ``frames`` (``(time, ...)``, integers), with the sums in ``needs``."""
    part = Partial(len(frames))
    if not len(frames):
        return part
    if "sum" in needs:
        # uint32 is exact for up to 16 million frames of uint8, and twice as fast as int64.
        part.sum = frames.sum(axis=0, dtype=np.uint32).astype(np.int64)
    if "sumsq" in needs:
        part.sumsq = _sum_of_squares(frames)
    if "max" in needs:
        part.max = frames.max(axis=0)
    if "min" in needs:
        part.min = frames.min(axis=0)
    return part


def chunk_partials(block: np.ndarray, valid: np.ndarray | None,
                   segments: Sequence[tuple[int, int]], needs: frozenset[str]
                   ) -> list[Partial]:
    """One partial per segment ``[start, stop)`` of a chunk, its invalid frames left out."""
    parts = []
    for start, stop in segments:
        frames = block[start:stop]
        if valid is not None and not valid[start:stop].all():
            frames = frames[valid[start:stop]]
        parts.append(partial(frames, needs))
    return parts


def _merge(a: np.ndarray | None, b: np.ndarray | None, how: Any) -> np.ndarray | None:
    if a is None or b is None:
        return a if b is None else b
    return how(a, b)


def combine(parts: Iterable[Partial]) -> Partial:
    """The partial of the union of the frames of ``parts``."""
    total = Partial(0)
    for part in parts:
        total = Partial(total.count + part.count, _merge(total.sum, part.sum, np.add),
                        _merge(total.sumsq, part.sumsq, np.add),
                        _merge(total.max, part.max, np.maximum),
                        _merge(total.min, part.min, np.minimum))
    return total


def finish(part: Partial, stats: Sequence[str], shape: tuple[int, ...], dtype: np.dtype,
           leading: tuple[int, ...]) -> dict[str, np.ndarray]:
    """The statistics of a combined partial, each shaped ``leading + shape``.

    A bin without a valid frame gives NaN for the mean and the deviation and 0
    for the extremes (which stay in the image's integer dtype).
    """
    n, out = part.count, {}
    for stat in stats:
        if stat in ("brightest", "darkest"):
            extreme = part.max if stat == "brightest" else part.min
            value = np.zeros(shape, dtype) if n == 0 else extreme
        elif n == 0:
            value = np.full(shape, np.nan, dtype=np.float32)
        elif stat == "timex":
            value = (part.sum / n).astype(np.float32)
        else:  # n * sumsq - sum**2 is exact in integers; one division at the end
            spread = n * part.sumsq - part.sum * part.sum
            value = (np.sqrt(spread) / n).astype(np.float32)
        out[stat] = value.reshape(leading + shape)
    return out


def bin_segments(labels: np.ndarray, chunks: Sequence[int], bins: int
                 ) -> tuple[list[list[tuple[int, int]]], list[list[tuple[int, int]]]]:
    """How the frames of each chunk split into bins.

    Parameters
    ----------
    labels : numpy.ndarray
        The bin number of each frame, non-decreasing.
    chunks : sequence of int
        Frames per chunk.
    bins : int
        How many bins there are.

    Returns
    -------
    segments : list of list of (start, stop)
        Per chunk, its runs of frames of one bin (positions inside the chunk).
    contributors : list of list of (chunk, segment)
        Per bin, the segments that hold its frames.
    """
    segments: list[list[tuple[int, int]]] = []
    contributors: list[list[tuple[int, int]]] = [[] for _ in range(bins)]
    offset = 0
    for c, size in enumerate(chunks):
        own = labels[offset:offset + size]
        edges = [0, *(np.flatnonzero(np.diff(own)) + 1).tolist(), size] if size else [0]
        segments.append(list(pairwise(edges)))
        for s, start in enumerate(edges[:-1]):
            contributors[int(own[start])].append((c, s))
        offset += size
    return segments, contributors


def _tree(parts: list[Any], graph: dict, name: str, where: tuple) -> Any:
    """A task combining ``parts`` (tasks) at most :data:`SPLIT_EVERY` at a time."""
    level = 0
    while len(parts) > SPLIT_EVERY:
        grouped = []
        for g in range(0, len(parts), SPLIT_EVERY):
            key = (name, level, g, *where)
            graph[key] = (combine, parts[g:g + SPLIT_EVERY])
            grouped.append(key)
        parts, level = grouped, level + 1
    return (combine, parts)


def streaming_statistics(image: da.Array, valid: da.Array | None, labels: np.ndarray | None,
                         stats: Sequence[str]) -> dict[str, da.Array]:
    """The statistics ``stats`` of a ``(time, ...)`` integer array, per bin.

    Parameters
    ----------
    image : dask.array.Array
        Frames along the first axis, time-sorted when ``labels`` is given.
    valid : dask.array.Array or None
        Which frames count (one bool per frame).
    labels : numpy.ndarray or None
        The bin number (0, 1, ...) of each frame, non-decreasing; None for one
        statistic over all frames (no leading axis in the result).
    stats : sequence of str
        Names from :data:`NEEDS`.

    Returns
    -------
    dict of str to dask.array.Array
        Each statistic, shaped ``(bins, ...)`` (or ``(...)`` without ``labels``),
        one chunk per bin and the input's chunks along the other axes.
    """
    needs = frozenset().union(*(NEEDS[s] for s in stats))
    binned = labels is not None
    labels = labels if binned else np.zeros(image.shape[0], dtype=np.int64)
    if valid is not None:
        valid = valid.rechunk((image.chunks[0],))
    bins = int(labels.max()) + 1 if len(labels) else int(not binned)
    segments, contributors = bin_segments(labels, image.chunks[0], bins)
    token = tokenize(image, valid, labels.tobytes(), sorted(stats))
    pname, cname, fname = (f"webcoos-{step}-{token}" for step in ("partial", "combine", "stats"))
    graph: dict[Any, Any] = {}
    spatial = list(np.ndindex(*image.numblocks[1:]))
    for c, chunk_segments in enumerate(segments):
        for where in spatial:
            graph[(pname, c, *where)] = (
                chunk_partials, (image.name, c, *where),
                None if valid is None else (valid.name, c), chunk_segments, needs)
    leading = (1,) if binned else ()
    for b, members in enumerate(contributors):
        for where in spatial:
            shape = tuple(image.chunks[1 + axis][i] for axis, i in enumerate(where))
            parts = [(operator.getitem, (pname, c, *where), s) for c, s in members]
            graph[(fname, b, *where)] = (finish, _tree(parts, graph, cname, (b, *where)),
                                         tuple(stats), shape, image.dtype, leading)
    layers = HighLevelGraph.from_collections(
        fname, graph, dependencies=[image] + ([valid] if valid is not None else []))
    return {stat: _extract(layers, fname, stat, image, bins, binned, spatial)
            for stat in stats}


def _extract(layers: HighLevelGraph, fname: str, stat: str, image: da.Array, bins: int,
             binned: bool, spatial: list[tuple[int, ...]]) -> da.Array:
    """The array of one statistic, taken from the dicts the ``fname`` tasks return."""
    name = f"{fname}-{stat}"
    graph = {(name, *((b,) if binned else ()), *where):
             (operator.getitem, (fname, b, *where), stat)
             for b in range(bins) for where in spatial}
    dtype = image.dtype if stat in ("brightest", "darkest") else np.dtype(np.float32)
    chunks = (((1,) * bins,) if binned else ()) + image.chunks[1:]
    merged = HighLevelGraph({**layers.layers, name: graph},
                            {**layers.dependencies, name: {fname}})
    return da.Array(merged, name, chunks=chunks, dtype=dtype)


def bin_labels(times: pd.DatetimeIndex, width: pd.Timedelta
               ) -> tuple[np.ndarray, pd.DatetimeIndex]:
    """The bin number of each (sorted) time, and each bin's start."""
    labels, starts = pd.factorize(times.floor(width), sort=True)
    return labels, pd.DatetimeIndex(starts).as_unit("ns")
