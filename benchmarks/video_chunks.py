"""Timex of one clip: ``open_video`` (default chunks, one chunk per clip) vs plain PyAV.

``python -m benchmarks.video_chunks [--seconds 120] [--fps 20] [--width 1280]
[--height 720]``: the stand-in (own process) serves clips of that size; each case
runs in a fresh process (so its peak RSS is its own) and prints its best time of
two, its CPU time (all threads) and its peak RSS above the process before computing:

* ``floor``: PyAV decodes the clip's bytes (already in memory) and keeps a
  running float64 sum of the frames sampled at 2 Hz, converted to RGB;
  ``floor-threaded`` the same with PyAV's frame and slice threads;
* ``default``: ``open_video(..., sample="500ms").webcoos.timex().compute()``,
  default chunks (about 64 MiB);
* ``whole``: the same with ``chunks={"time": -1}`` (one chunk per clip, the old default).
"""

from __future__ import annotations

import argparse
import functools
import io
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import av
import numpy as np

from intake_webcoos import Client, open_video

from .harness import TOKEN, Server, peak_rss_mib

STEP = 0.5


def floor(path: str, threaded: bool = False) -> int:
    """PyAV alone: decode every frame, add the first of each 0.5 s to a running sum."""
    data = Path(path).read_bytes()
    total, kept, wanted = None, 0, 0.0
    with av.open(io.BytesIO(data)) as container:
        if threaded:
            container.streams.video[0].thread_type = "AUTO"  # frames and slices
        for frame in container.decode(video=0):
            if frame.time >= wanted - 1e-3:
                rgb = frame.to_ndarray(format="rgb24")
                total = rgb.astype(np.float64) if total is None else total + rgb
                kept, wanted = kept + 1, wanted + STEP
    return kept


def one(mode: str, api_url: str, start: str, end: str, path: str) -> None:
    """One case in this process, best of 2, printed as a JSON line."""
    if mode.startswith("floor"):
        chunks, run = 0, functools.partial(floor, path, threaded=mode == "floor-threaded")
    else:
        cube = open_video("waikiki_sheraton", "video-archive", start, end, sample="500ms",
                          chunks={"time": -1} if mode == "whole" else None, token=TOKEN,
                          base_url=api_url)
        chunks, work = len(cube["image"].data.chunks[0]), cube.webcoos.timex()
        run = work.compute  # the graph is built (and products imported) before timing
    before = peak_rss_mib()
    times, cpu = [], []
    for _ in range(2):
        started, used = time.perf_counter(), time.process_time()
        run()
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - used)  # all threads: the work, whatever the load
    print(json.dumps({"mode": mode, "chunks": chunks, "seconds": round(min(times), 2),
                      "cpu_seconds": round(min(cpu), 2),
                      "peak_above_mib": round(peak_rss_mib() - before)}))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.video_chunks")
    for name, default in (("seconds", 120), ("fps", 20), ("width", 1280), ("height", 720)):
        parser.add_argument(f"--{name}", type=int, default=default)
    args = parser.parse_args()
    server = Server.start(span_days=1, width=320, height=180, api_latency=0.0,
                          files_latency=0.0, extra=[
                              "--clip-seconds", str(args.seconds), "--clip-fps", str(args.fps),
                              "--clip-width", str(args.width), "--clip-height",
                              str(args.height)])
    try:
        client = Client(TOKEN, server.api_url)
        clips = client.elements("waikiki_sheraton", "video-archive").iloc[:1]
        start = clips["time"].iloc[0].isoformat()
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "clip.mp4"
            started = time.perf_counter()
            path.write_bytes(client.fetch(clips["url"].iloc[0]))  # encoded once, then served
            print(f"one clip of {args.seconds} s at {args.fps} fps, {args.width}x{args.height}, "
                  f"{path.stat().st_size / 1e6:.0f} MB (encoded and fetched in "
                  f"{time.perf_counter() - started:.0f} s), timex at 2 Hz:")
            # Two rounds, interleaved: the spread tells how busy the machine is.
            for mode in ("floor", "floor-threaded", "default", "whole") * 2:
                out = subprocess.run([sys.executable, "-m", "benchmarks.video_chunks", "--one",
                                      mode, server.api_url, start, start, str(path)],
                                     check=True, capture_output=True, text=True).stdout
                print("  " + out.strip())
    finally:
        server.stop()


if __name__ == "__main__":
    if sys.argv[1:2] == ["--one"]:
        one(*sys.argv[2:7])
    else:
        main()
