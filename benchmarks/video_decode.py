"""Frames per second decoded from clips: ``open_video(...).compute()`` vs PyAV on local files.

``python -m benchmarks.video_decode [--clips N]``: the stand-in (own process) serves
clips of 60 s at 20 fps, 640x360; both sides keep every frame (``sample`` = 1/fps),
convert them to RGB and stack them; best of 3, side by side in one run.
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


def pyav_local(paths: list[Path]) -> int:
    frames = []
    for path in paths:
        with av.open(str(path)) as container:
            frames.extend(f.to_ndarray(format="rgb24") for f in container.decode(video=0))
    return len(np.stack(frames))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.video_decode")
    parser.add_argument("--clips", type=int, default=4)
    args = parser.parse_args()
    server = Server.start(span_days=2, width=320, height=180, api_latency=0.05,
                          files_latency=0.02, extra=["--clip-seconds", "60", "--clip-fps", "20",
                                                     "--clip-width", "640", "--clip-height",
                                                     "360"])
    try:
        client = Client(TOKEN, server.api_url)
        clips = client.elements("waikiki_sheraton", "video-archive", "2025-09-16T00:00Z",
                                "2025-09-16T23:59:59Z").iloc[: args.clips]
        first, last = clips["time"].iloc[0], clips["time"].iloc[-1]
        with tempfile.TemporaryDirectory() as tmp:
            paths = []
            for url in clips["url"]:
                paths.append(Path(tmp) / url.rsplit("/", 1)[1])
                paths[-1].write_bytes(client.fetch(url))
            cube = open_video("waikiki_sheraton", "video-archive", first, last, fps=20,
                              token=TOKEN, base_url=server.api_url)
            ours, theirs = [], []
            for _ in range(3):
                started = time.perf_counter()
                n = cube["image"].compute().shape[0]
                ours.append(n / (time.perf_counter() - started))
                started = time.perf_counter()
                m = pyav_local(paths)
                theirs.append(m / (time.perf_counter() - started))
        print(f"{n} frames from {len(paths)} clips (640x360, 20 fps):")
        print(f"  open_video(...).compute() over HTTP: {max(ours):.0f} frames/s")
        print(f"  PyAV from local disk:                {max(theirs):.0f} frames/s")
        print(f"  ratio (PyAV / ours): {max(theirs) / max(ours):.2f}")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
