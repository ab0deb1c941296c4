"""The floors: the least work a result needs, written as plainly and as fast as we can.

Each floor does what ours does, no more: it fetches the files over loopback
(aiohttp, one session, every request in flight at once) and decodes them with
the same decoder ours uses (simplejpeg, DCT scaling), on the same number of
threads ours runs (dask's default: one per core).  What is kept differs:

* ``"cube"``: every frame into one preallocated array (what ``.compute()`` of a
  cube gives);
* ``"timex"``, ``"variance"``, ``"stats"``: running sums per thread (and sums of
  squares, maxima, minima), merged at the end, per bin when ``bins`` is given:
  the streaming floor of a product.

``pillow_cube`` is the Pillow loop over bytes already in memory (one thread),
the floor of the first build, kept to show the decoders side by side.
"""

from __future__ import annotations

import asyncio
import io
import math
import os
import threading
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor

import aiohttp
import numpy as np
import simplejpeg
from PIL import Image

#: Threads of the floors: dask's default for the threaded scheduler.
THREADS = os.cpu_count() or 1
KEEPS = ("cube", "timex", "variance", "stats")


class _Fetcher:
    """Every URL requested at once, on an event loop in a thread of its own."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.session = self._run(self._session())

    def _run(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result()

    @staticmethod
    async def _session() -> aiohttp.ClientSession:
        return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64))

    async def _get(self, url: str) -> bytes:
        async with self.session.get(url) as response:
            response.raise_for_status()
            return await response.read()

    def fetch_all(self, urls: Sequence[str]) -> list[Future]:
        return [asyncio.run_coroutine_threadsafe(self._get(u), self.loop) for u in urls]

    def close(self) -> None:
        self._run(self.session.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()


def _decode(data: bytes, scale: float, out: np.ndarray | None = None) -> np.ndarray:
    height, width, _, _ = simplejpeg.decode_jpeg_header(data)
    least = {} if scale == 1 else {"min_width": math.floor(width * scale),
                                   "min_height": math.floor(height * scale)}
    return simplejpeg.decode_jpeg(data, colorspace="RGB", buffer=out, **least)


class _Sums:
    """One thread's running sums of the frames of each bin."""

    def __init__(self, keep: str) -> None:
        self.keep, self.bins = keep, {}

    def add(self, b: int, frame: np.ndarray) -> None:
        acc = self.bins.get(b)
        if acc is None:
            acc = self.bins[b] = {"n": 0, "sum": np.zeros(frame.shape, np.uint32)}
            if self.keep in ("variance", "stats"):
                acc["sumsq"] = np.zeros(frame.shape, np.uint32)
                acc["square"] = np.empty(frame.shape, np.uint16)
            if self.keep == "stats":
                acc["max"], acc["min"] = frame.copy(), frame.copy()
        acc["n"] += 1
        np.add(acc["sum"], frame, out=acc["sum"], casting="unsafe")
        if "sumsq" in acc:
            np.multiply(frame, frame, out=acc["square"], dtype=np.uint16)
            np.add(acc["sumsq"], acc["square"], out=acc["sumsq"], casting="unsafe")
        if "max" in acc:
            np.maximum(acc["max"], frame, out=acc["max"])
            np.minimum(acc["min"], frame, out=acc["min"])


def _finish(parts: list[_Sums]) -> dict[int, dict[str, np.ndarray]]:
    merged: dict[int, dict[str, np.ndarray]] = {}
    for part in parts:
        for b, acc in part.bins.items():
            into = merged.setdefault(b, {"n": 0})
            into["n"] += acc["n"]
            for key in ("sum", "sumsq"):
                if key in acc:
                    into[key] = into.get(key, 0) + acc[key].astype(np.int64)
            for key, how in (("max", np.maximum), ("min", np.minimum)):
                if key in acc:
                    into[key] = how(into[key], acc[key]) if key in into else acc[key]
    out = {}
    for b, acc in merged.items():
        out[b] = {"timex": acc["sum"] / acc["n"]}
        if "sumsq" in acc:
            out[b]["variance"] = np.sqrt(acc["n"] * acc["sumsq"] - acc["sum"] ** 2) / acc["n"]
    return out


def fetch_decode(urls: Sequence[str], scale: float = 1, keep: str = "cube",
                 bins: Sequence[int] | None = None, threads: int = THREADS) -> object:
    """Fetch and decode ``urls`` on ``threads`` threads, keeping ``keep`` (see above)."""
    fetcher = _Fetcher()
    try:
        futures = fetcher.fetch_all(urls)
        bins = bins if bins is not None else [0] * len(urls)
        if keep == "cube":
            first = _decode(futures[0].result(), scale)
            cube = np.empty((len(urls), *first.shape), dtype=np.uint8)

            def work(k: int) -> None:
                for i in range(k, len(urls), threads):
                    _decode(futures[i].result(), scale, cube[i])
        else:
            sums = [_Sums(keep) for _ in range(threads)]

            def work(k: int) -> None:
                for i in range(k, len(urls), threads):
                    sums[k].add(bins[i], _decode(futures[i].result(), scale))
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(work, range(threads)))
        return cube if keep == "cube" else _finish(sums)
    finally:
        fetcher.close()


def pillow_cube(blobs: list[bytes], scale: float = 1) -> np.ndarray:
    """A plain Pillow decode loop over JPEG bytes in memory, one thread, into one array."""
    first = Image.open(io.BytesIO(blobs[0]))
    width, height = first.size
    cube = None
    for i, data in enumerate(blobs):
        image = Image.open(io.BytesIO(data))
        if scale != 1:
            image.draft("RGB", (int(width * scale), int(height * scale)))
        frame = np.asarray(image.convert("RGB"))
        if cube is None:
            cube = np.empty((len(blobs), *frame.shape), dtype=np.uint8)
        cube[i] = frame
    return cube
