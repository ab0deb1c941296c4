"""Per-pixel statistics over time in one streaming pass over the frames.

The four coastal-imaging statistics (mean, standard deviation, maximum and
minimum of each pixel over time) come from the same partial results of each
chunk of frames: the count, the sum and the sum of squares (exact, in
integers), the maximum and the minimum.  Each chunk is reduced where it is
decoded, the partials of a bin are added to a running total a few at a time
(a chain of combines of :data:`SPLIT_EVERY` partials, in time order), and only
then turned into the statistics: memory stays flat in the number of frames, at
most a few chunks per worker thread.

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

#: The statistics this module computes, all from the same partials.
STATS = ("timex", "variance", "brightest", "darkest")
#: Partials a combine adds to the running total (see :func:`_chain`): two, so that few
#: partials (each as large as a frame's sums, 49 MB at 2688x1520) wait to be added.
SPLIT_EVERY = 2


@dataclass
class Partial:
    """What a run of frames contributes to one bin: counts, sums and extremes.

    ``sum`` and ``sumsq`` are uint32 for a chunk and int64 once combined, ``max`` and
    ``min`` keep the image's dtype; all are None for no frame.
    """

    count: int
    sum: np.ndarray | None = None
    sumsq: np.ndarray | None = None
    max: np.ndarray | None = None
    min: np.ndarray | None = None


#: What each statistic needs from the frames of a chunk.
NEEDS = {"timex": ("sum",), "variance": ("sum", "sumsq"), "brightest": ("max",),
         "darkest": ("min",)}
#: uint16 holds the sum of this many uint8 frames (255 * 257 = 65535): half the
#: memory traffic of uint32 sums, which :func:`_sum` adds these partial sums into.
_NARROW_RUN = 257


def needs_of(stats: Sequence[str]) -> tuple[str, ...]:
    """The partial fields (``sum``, ``sumsq``, ``max``, ``min``) that ``stats`` need."""
    return tuple(field for field in ("sum", "sumsq", "max", "min")
                 if any(field in NEEDS[stat] for stat in stats))


def _sum(frames: np.ndarray) -> np.ndarray:
    """The uint32 sum of uint8 frames, frame by frame through uint16 runs.

    Frame by frame, never a temporary the size of the block; for other integer
    dtypes, numpy's own sum.
    """
    if frames.dtype != np.uint8:
        return frames.sum(axis=0, dtype=np.uint32)
    total = np.zeros(frames.shape[1:], dtype=np.uint32)
    run = np.empty(frames.shape[1:], dtype=np.uint16)
    for start in range(0, len(frames), _NARROW_RUN):
        np.copyto(run, frames[start])
        for frame in frames[start + 1:start + _NARROW_RUN]:
            np.add(run, frame, out=run)
        total += run
    return total


def _sum_of_squares(frames: np.ndarray) -> np.ndarray:
    # Frame by frame: a square of the whole block at once would double its memory.
    # uint32 holds the squares of 66,000 uint8 frames: more than a chunk ever has.
    total = np.zeros(frames.shape[1:], dtype=np.uint32)
    square = np.empty(frames.shape[1:], dtype=np.uint32)
    for frame in frames:
        np.square(frame, out=square, dtype=np.uint32)
        total += square
    return total


def partial(frames: np.ndarray, needs: Sequence[str] = ("sum", "sumsq", "max", "min")
            ) -> Partial:
    """The partial of ``frames`` (``(time, ...)``, integers): count, and the fields ``needs``.

    Only what the asked statistics need is computed (:func:`needs_of`): a timex
    reads each frame once to add it, ``stats()`` computes all four fields.
    """
    part = Partial(len(frames))
    if not len(frames):
        return part
    # uint32 is exact for 16 million frames of uint8, twice as fast and half the
    # memory of int64; totals over chunks are int64 (see combine).
    if "sum" in needs:
        part.sum = _sum(frames)
    if "sumsq" in needs:
        part.sumsq = _sum_of_squares(frames)
    if "max" in needs:
        part.max = frames.max(axis=0)
    if "min" in needs:
        part.min = frames.min(axis=0)
    return part


def chunk_partials(block: np.ndarray, valid: np.ndarray | None,
                   segments: Sequence[tuple[int, int]], needs: Sequence[str]) -> list[Partial]:
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


#: The most frames whose squares of uint8 values uint32 sums hold (255**2 * n < 2**32).
NARROW_FRAMES = (2**32 - 1) // 255**2


def combine(parts: Iterable[Partial], wide: bool = True) -> Partial:
    """The partial of the union of the frames of ``parts``.

    Sums are int64 when ``wide``, else uint32 (enough for :data:`NARROW_FRAMES`
    frames, and half the memory: a bin of an hour of stills needs no more).
    """
    dtype = np.int64 if wide else np.uint32

    def add(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.add(a, b, dtype=dtype)

    total = Partial(0)
    for part in parts:
        total = Partial(total.count + part.count, _merge(total.sum, part.sum, add),
                        _merge(total.sumsq, part.sumsq, add),
                        _merge(total.max, part.max, np.maximum),
                        _merge(total.min, part.min, np.minimum))
    return total


def _deviation(part: Partial, n: int) -> np.ndarray:
    """The standard deviation from exact integer sums, in place (few full-size temporaries)."""
    spread = part.sumsq.astype(np.int64)  # the sums of a bin of few frames are uint32
    spread *= n
    square = part.sum.astype(np.int64)
    spread -= np.multiply(square, square, out=square)
    return np.divide(np.sqrt(spread, out=spread.view(np.float64), casting="unsafe"), n,
                     dtype=np.float32)


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
            value = np.divide(part.sum, n, dtype=np.float32)
        else:  # n * sumsq - sum**2 is exact in integers; one division at the end
            value = _deviation(part, n)
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


def _chain(parts: list[Any], graph: dict, name: str, where: tuple, wide: bool) -> Any:
    """A task combining ``parts`` (tasks, in time order) :data:`SPLIT_EVERY` at a time.

    A chain, not a tree: each combine adds the next few partials to the total so
    far, so the partials of early frames are let go before later frames are
    read, and dask runs the chunks in time order.  The combines are additions,
    cheap beside decoding, so the chain costs no parallelism.
    """
    total: list[Any] = []
    rest, step = list(parts), 0
    while len(rest) > SPLIT_EVERY:
        key = (name, step, *where)
        graph[key] = (combine, total + rest[:SPLIT_EVERY], wide)
        total, rest, step = [key], rest[SPLIT_EVERY:], step + 1
    return (combine, total + rest, wide)


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
        Names from :data:`STATS`.

    Returns
    -------
    dict of str to dask.array.Array
        Each statistic, shaped ``(bins, ...)`` (or ``(...)`` without ``labels``),
        one chunk per bin and the input's chunks along the other axes.
    """
    binned = labels is not None
    labels = labels if binned else np.zeros(image.shape[0], dtype=np.int64)
    if valid is not None:
        valid = valid.rechunk((image.chunks[0],))
    bins = int(labels.max()) + 1 if len(labels) else int(not binned)
    segments, contributors = bin_segments(labels, image.chunks[0], bins)
    frames = np.bincount(labels, minlength=bins)
    needs = needs_of(stats)
    # The fields are part of the name: products computed together share partials only
    # when they need the same fields (``stats()`` computes all four in one pass).
    token = tokenize(image, valid, labels.tobytes(), needs)
    pname, cname = f"webcoos-partial-{token}", f"webcoos-combine-{token}"
    fname = f"webcoos-stats-{tokenize(token, sorted(stats))}"
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
            graph[(fname, b, *where)] = (finish, _chain(parts, graph, cname, (b, *where),
                                                        frames[b] > NARROW_FRAMES),
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
