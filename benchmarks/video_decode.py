"""Frames per second decoded from clips: ``open_video(...).compute()`` vs PyAV on local files.

``python -m benchmarks.video_decode [--clips N]``: the stand-in (own process) serves
clips of 60 s at 20 fps, 640x360. Two samplings: every frame (``fps=20``) and
2 Hz (``sample="500ms"``, the coastal-imaging burst rate). For each, both sides
decode the same clips and convert the same frames (the first at or after each
sample time) to RGB and stack them; best of 3, side by side in one run.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import av
import numpy as np

from intake_webcoos import Client, open_video

from .harness import TOKEN, Server

FPS = 20


def pyav_local(paths: list[Path], step: float) -> int:
    """Plain PyAV: decode every packet, convert the first frame of each sample interval."""
    frames = []
    for path in paths:
        with av.open(str(path)) as container:
            wanted = 0.0
            for frame in container.decode(video=0):
                if frame.time >= wanted - 1e-3:
                    frames.append(frame.to_ndarray(format="rgb24"))
                    wanted += step
    return len(np.stack(frames))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.video_decode")
    parser.add_argument("--clips", type=int, default=4)
    args = parser.parse_args()
    server = Server.start(span_days=2, width=320, height=180, api_latency=0.05,
                          files_latency=0.02, extra=["--clip-seconds", "60", "--clip-fps",
                                                     str(FPS), "--clip-width", "640",
                                                     "--clip-height", "360"])
    try:
        client = Client(TOKEN, server.api_url)
        clips = client.elements("waikiki_sheraton", "video-archive", "2025-09-16T00:00Z",
                                "2025-09-16T23:59:59Z").iloc[: args.clips]
        first, last = clips["time"].iloc[0], clips["time"].iloc[-1]
        print(f"{len(clips)} clips of 60 s, 640x360 at {FPS} fps, best of 3:")
        with tempfile.TemporaryDirectory() as tmp:
            paths = []
            for url in clips["url"]:
                paths.append(Path(tmp) / url.rsplit("/", 1)[1])
                paths[-1].write_bytes(client.fetch(url))
            for label, step in (("every frame", 1 / FPS), ("2 Hz", 0.5)):
                cube = open_video("waikiki_sheraton", "video-archive", first, last,
                                  sample=f"{step * 1000:g}ms", token=TOKEN,
                                  base_url=server.api_url)
                ours, theirs = [], []
                for _ in range(3):
                    started = time.perf_counter()
                    n = cube["image"].compute().shape[0]
                    ours.append(n / (time.perf_counter() - started))
                    started = time.perf_counter()
                    m = pyav_local(paths, step)
                    theirs.append(m / (time.perf_counter() - started))
                assert n == m, (n, m)
                print(f"  {label} ({n} frames kept): open_video(...).compute() over HTTP "
                      f"{max(ours):.0f} frames/s, PyAV from local disk {max(theirs):.0f} "
                      f"frames/s (ratio {max(theirs) / max(ours):.2f})")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
