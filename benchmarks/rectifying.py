"""Case 12: rectifying an hour of frames at scale 1/4, against decoding the same frames.

Both sides open the same hour at ``scale=1/4`` and stream every frame through
dask's default (threaded) scheduler into a sink that keeps nothing, so the same
threads fetch and decode on both sides; the rectified side also resamples each
frame onto a 200 m x 200 m grid at 0.5 m (401 x 401 cells).  Peak memory is
measured in fresh processes for few and many frames.

``python -m benchmarks.rectifying API_URL WIDTH HEIGHT FRAMES START END`` prints
one JSON line (the memory measurement).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import Any

import dask.array as da
import numpy as np
import pandas as pd

from intake_webcoos import open_images
from intake_webcoos.server.scene import SceneRenderer
from intake_webcoos.world.geometry import CameraGeometry
from intake_webcoos.world.rectify import Grid

from .harness import TOKEN, median_time, peak_rss_mib

CAMERA, PRODUCT = "waikiki_sheraton", "one-minute-stills"
SCALE = 1 / 4
#: Where the frames are taken from: an hour inside the stand-in's span (see cases.py).
HOUR = ("2025-09-15T18:00:00Z", "2025-09-15T18:59:59Z")


def geometry(width: int, height: int) -> CameraGeometry:
    """The true camera model of the stand-in's frames of this size."""
    return SceneRenderer(width, height).geometry(CAMERA)


def grid() -> Grid:
    """200 m x 200 m at 0.5 m: the beach and surf zone in front of the camera."""
    return Grid(-130.0, 70.0, -100.0, 100.0, 0.5)


class _Sink:
    """A target for :func:`dask.array.store` that keeps nothing."""

    def __setitem__(self, key: Any, value: np.ndarray) -> None:
        pass


def _stream(array: da.Array) -> None:
    da.store(array, _Sink(), lock=False)


def _cube(api_url: str, start: str, end: str, frames: int | None = None):
    cube = open_images(CAMERA, PRODUCT, start, end, token=TOKEN, base_url=api_url, scale=SCALE)
    return cube if frames is None else cube.isel(time=slice(0, frames))


def rectifying(server: Any, sizes: Any, results: Any) -> None:
    """Ratio of rectifying to decoding an hour of frames, and peak memory for N and 4N frames."""
    width, height = sizes.frame_size
    cube = _cube(server.api_url, *HOUR)
    camera, cells = geometry(width, height), grid()
    plan = cube.webcoos.rectify(camera, cells)
    n = cube.sizes["time"]
    _stream(cube["image"].data)  # warm the stand-in's frames for both sides
    t_decode, _ = median_time(lambda: _stream(cube["image"].data), sizes.repeat)
    t_rectify, _ = median_time(lambda: _stream(plan["image"].data), sizes.repeat)
    ny, nx = cells.shape
    results.add("12 rectify", f"floor: decoding {n} frames at scale 1/4 "
                f"({cube.sizes['x']}x{cube.sizes['y']})", n / t_decode, "frames/s")
    results.add("12 rectify", f"ours: rectifying them onto {nx}x{ny} cells at 0.5 m",
                n / t_rectify, "frames/s")
    ratio = t_rectify / t_decode
    results.add("12 rectify", "ours / floor (time)", ratio, "x")
    results.target("rectify an hour at scale 1/4 within 2x of decoding it", f"{ratio:.2f}x",
                   ratio <= 2.0)
    peaks = {}
    for frames in sizes.rectify_frames:
        end = pd.Timestamp(HOUR[0]) + pd.Timedelta(minutes=frames)
        out = subprocess.run(
            [sys.executable, "-m", "benchmarks.rectifying", server.api_url, str(width),
             str(height), str(frames), HOUR[0], end.isoformat()],
            capture_output=True, text=True, check=True, timeout=3600)
        measured = json.loads(out.stdout.strip().splitlines()[-1])
        peaks[frames] = measured["peak_rss_mib"]
        results.add("12 rectify", f"rectifying {measured['frames']} frames: peak RSS "
                    f"({measured['seconds']:.1f} s)", peaks[frames], "MiB")
    few, many = sizes.rectify_frames
    growth = peaks[many] / peaks[few]
    results.target(f"rectify peak RSS, {many} vs {few} frames, within 20 %", f"{growth:.2f}x",
                   growth <= 1.2)


def main(api_url: str, width: int, height: int, frames: int, start: str, end: str) -> None:
    cube = _cube(api_url, start, end, frames)
    plan = cube.webcoos.rectify(geometry(width, height), grid())
    before = peak_rss_mib()
    started = time.perf_counter()
    _stream(plan["image"].data)
    print(json.dumps({"frames": int(cube.sizes["time"]), "seconds": time.perf_counter() - started,
                      "peak_rss_mib": peak_rss_mib(), "rss_before_mib": before}))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5],
         sys.argv[6])
