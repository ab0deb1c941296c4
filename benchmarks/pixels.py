"""The benchmark cases of pixels: decoding cubes, the products, their memory and graphs.

Every case runs ours and its floor (``benchmarks/floors.py``: the same fetch,
the same decoder, the same threads) side by side, alternating, and reports the
medians and their ratio.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import dask
import pandas as pd

from intake_webcoos import Client, open_images
from intake_webcoos.cube.decode import BACKEND

from . import floors, peers
from .cases import CAMERA, PRODUCT, Results, Sizes, window
from .harness import TOKEN, Server, median_time


def _stills(server: Server, frames: int, days: int = 3) -> pd.DataFrame:
    start, end = window(days)
    return Client(TOKEN, server.api_url).elements(CAMERA, PRODUCT, start, end).iloc[:frames]


def _cube(server: Server, listing: pd.DataFrame, **options):
    first, last = listing["time"].iloc[0].isoformat(), listing["time"].iloc[-1].isoformat()
    return open_images(CAMERA, PRODUCT, first, last, token=TOKEN, base_url=server.api_url,
                       **options)


def _side_by_side(ours, floor, repeat: int) -> tuple[float, float]:
    """Medians of ``ours`` and ``floor``, run alternately (so drifts hit both alike)."""
    ours(), floor()  # warm: the stand-in's frames, the sessions
    times: dict[str, list[float]] = {"ours": [], "floor": []}
    for _ in range(repeat):
        for name, run in (("ours", ours), ("floor", floor)):
            times[name].append(median_time(run, 1)[0])
    return (sorted(times["ours"])[len(times["ours"]) // 2],
            sorted(times["floor"])[len(times["floor"]) // 2])


def decoding(server: Server, sizes: Sizes, results: Results, workdir: Path) -> None:
    """Case 3: ``open_images(...).compute()`` against fetch + the same decoder."""
    listing = _stills(server, sizes.decode_frames)
    urls, n = list(listing["url"]), len(listing)
    seconds = {}
    for scale in (1, 0.25):
        cube = _cube(server, listing, scale=scale)
        seconds[scale] = _side_by_side(lambda c=cube: c["image"].compute(),
                                       lambda s=scale: floors.fetch_decode(urls, s),
                                       sizes.repeat)
        for who, t in zip(("ours: open_images(...).compute()",
                           f"floor: aiohttp fetch + {BACKEND}, {floors.THREADS} threads"),
                          seconds[scale], strict=True):
            results.add("3 decode", f"{who}, scale {scale:g} ({n} frames)", n / t, "frames/s")
    blobs = [Client(TOKEN, server.api_url).fetch(u) for u in urls]
    pillow, _ = median_time(lambda: floors.pillow_cube(blobs), sizes.repeat)
    results.add("3 decode", f"reference: Pillow loop over bytes in memory, 1 thread, scale 1 "
                f"({n} frames)", n / pillow, "frames/s")
    local = workdir / "decode"
    shutil.rmtree(local, ignore_errors=True)
    local.mkdir(parents=True)
    for url, data in zip(urls, blobs, strict=True):
        (local / url.rsplit("/", 1)[1]).write_bytes(data)
    peer, _ = median_time(lambda: peers.intake_xarray_cube(local), sizes.repeat)
    results.add("3 decode", f"peer: intake-xarray ImageReader, local files, scale 1 ({n} "
                "frames)", n / peer, "frames/s")
    ratio = seconds[1][0] / seconds[1][1]
    results.target("decode within 1.1x of fetch + the same decoder", f"{ratio:.2f}x",
                   ratio <= 1.1)
    gain = seconds[1][0] / seconds[0.25][0]
    results.target("scale=1/4 >= 3x faster than full size", f"{gain:.1f}x", gain >= 3)


def products(server: Server, sizes: Sizes, results: Results) -> None:
    """Case 8: timex, variance and all four statistics at 1/4 against the streaming floor."""
    listing = _stills(server, sizes.decode_frames)
    urls, n = list(listing["url"]), len(listing)
    cube = _cube(server, listing, scale=0.25)
    limits = {"timex": 1.2, "variance": 1.3, "stats": 1.4}
    for keep, limit in limits.items():
        product = cube.webcoos.stats() if keep == "stats" else getattr(cube.webcoos, keep)()
        ours, floor = _side_by_side(product.compute,
                                    lambda k=keep: floors.fetch_decode(urls, 0.25, keep=k),
                                    sizes.repeat + 2)
        results.add("8 products", f"ours: {keep}, {n} stills at 1/4", ours, "s")
        results.add("8 products", f"floor: fetch + {BACKEND} + running sums, {keep}", floor, "s")
        results.target(f"{keep} within {limit}x of the streaming floor",
                       f"{ours / floor:.2f}x", ours / floor <= limit)


def day_of_products(server: Server, sizes: Sizes, results: Results) -> None:
    """Case 9: hourly timex and variance over a day of full-size stills, in a fresh process."""
    start, end = window(sizes.day_days)
    listing = Client(TOKEN, server.api_url).elements(CAMERA, PRODUCT, start, end)
    urls, n = list(listing["url"]), len(listing)
    bins = list(pd.DatetimeIndex(listing["time"]).floor("1h").factorize()[0])
    def floor() -> object:
        return floors.fetch_decode(urls, 1, keep="variance", bins=bins)

    floor()  # warm: the stand-in renders these frames once
    measured = _fresh("day", server, start, end)
    seconds, _ = median_time(floor, sizes.repeat)
    results.add("9 day", f"ours: hourly timex + variance, {n} full-size stills "
                f"({measured['peak_rss_mib']:.0f} MiB peak RSS)", measured["seconds"], "s")
    results.add("9 day", f"floor: fetch + {BACKEND} + hourly running sums", seconds, "s")
    ratio = measured["seconds"] / seconds
    results.target("hourly timex + variance of a day within 1.5x of decoding, under 1 GiB",
                   f"{ratio:.2f}x, {measured['peak_rss_mib']:.0f} MiB",
                   ratio <= 1.5 and measured["peak_rss_mib"] < 1024)


def memory(server: Server, sizes: Sizes, results: Results) -> None:
    """Case 4: peak RSS of a full-size timex over few and many frames, in fresh processes."""
    start, end = window(4)
    peaks = {}
    for frames in sizes.memory_frames:
        measured = _fresh("timex", server, start, end, frames)
        peaks[frames] = measured["peak_rss_mib"]
        results.add("4 memory", f"timex over {measured['frames']} frames: peak RSS "
                    f"({measured['seconds']:.1f} s)", measured["peak_rss_mib"], "MiB")
    few, many = sizes.memory_frames
    growth = peaks[many] / peaks[few]
    results.target(f"timex peak RSS, {many} vs {few} frames, within 20 %", f"{growth:.2f}x",
                   growth <= 1.2)


def graph(server: Server, sizes: Sizes, results: Results) -> None:
    """Case 10: the graph of a timex over many frames: tasks and time to build and optimise."""
    start, end = window(sizes.span_days - 1)
    cube = open_images(CAMERA, PRODUCT, start, end, token=TOKEN, base_url=server.api_url,
                       coerce_shape=(sizes.frame_size[1], sizes.frame_size[0]))
    began = time.perf_counter()
    timex = cube.webcoos.timex()
    built = time.perf_counter() - began
    began = time.perf_counter()
    (optimised,) = dask.optimize(timex.data)
    tasks = len(dict(optimised.__dask_graph__()))
    took = time.perf_counter() - began
    frames, chunks = cube.sizes["time"], cube["image"].data.numblocks[0]
    results.add("10 graph", f"timex over {frames} frames in {chunks} chunks: tasks", tasks,
                "tasks")
    results.add("10 graph", "time to build and optimise it", built + took, "s")
    # Chunks hold about 64 MiB: 24 frames of 1280x720, 8 of 2688x1520.
    results.target("a graph of chunks, not frames (at most 3 tasks per chunk)",
                   f"{tasks} tasks for {chunks} chunks of {frames} frames", tasks <= 3 * chunks)


def camera_stills(server: Server, sizes: Sizes, results: Results) -> None:
    """Case 13: the timex of two hours of stills at the server's size (the cameras' 2688x1520
    in full runs), scale 1 and 1/4, against the streaming floor, each in a fresh process."""
    listing = _stills(server, sizes.timex_frames)
    first, last = listing["time"].iloc[0].isoformat(), listing["time"].iloc[-1].isoformat()
    width, height = sizes.frame_size
    floors.fetch_decode(list(listing["url"]), 1, keep="timex")  # warm: the stand-in renders
    for scale in (1, 0.25):
        runs: dict[str, list[dict]] = {"ours": [], "floor": []}
        for _ in range(sizes.repeat):
            for who, mode in (("ours", "stills"), ("floor", "floor")):
                runs[who].append(_fresh(mode, server, first, last, scale=scale))
        (ours, ours_rss), (floor, floor_rss) = (_summary(runs[w]) for w in ("ours", "floor"))
        what = f"timex of {len(listing)} stills {width}x{height}, scale {scale:g}"
        results.add("13 camera stills", f"ours: {what} (peak RSS +{ours_rss:.0f} MiB)",
                    ours, "s")
        results.add("13 camera stills", f"floor: fetch + {BACKEND}, {floors.THREADS} threads "
                    f"+ running sum (peak RSS +{floor_rss:.0f} MiB)", floor, "s")
        ratio = ours / floor
        results.target(f"{what}: within 1.2x of the floor, peak RSS <= 512 MiB above the "
                       "process before", f"{ratio:.2f}x, +{ours_rss:.0f} MiB",
                       ratio <= 1.2 and ours_rss <= 512)


def _summary(runs: list[dict]) -> tuple[float, float]:
    """The median time of fresh runs and the largest growth of peak RSS among them."""
    seconds = sorted(r["seconds"] for r in runs)[len(runs) // 2]
    return seconds, max(r["peak_rss_mib"] - r["rss_before_mib"] for r in runs)


def cli_start(results: Results) -> None:
    """Case 11: ``intake-webcoos --help`` in a fresh interpreter."""
    command = str(Path(sys.executable).with_name("intake-webcoos"))

    def run() -> None:
        subprocess.run([command, "--help"], check=True, capture_output=True)

    seconds, _ = median_time(run, 5)
    bare, _ = median_time(lambda: subprocess.run([sys.executable, "-c", "pass"], check=True), 5)
    results.add("11 CLI", "intake-webcoos --help, fresh interpreter", seconds, "s")
    results.add("11 CLI", "floor: python -c pass", bare, "s")
    results.target("--help within 0.3 s of a bare interpreter", f"+{seconds - bare:.2f} s",
                   seconds - bare <= 0.3)


def _fresh(mode: str, server: Server, start: str, end: str, frames: int = 0,
           scale: float = 1) -> dict:
    out = subprocess.run([sys.executable, "-m", "benchmarks.memory", mode, server.api_url,
                          start, end, str(frames), str(scale)], capture_output=True, text=True,
                         check=True, timeout=3600)
    return json.loads(out.stdout.strip().splitlines()[-1])
