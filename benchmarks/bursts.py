"""Case 14: 10-minute bursts at real size, against PyAV on the same clip bytes.

The stand-in (own process) serves clips as cameras record them: 600 s at 20 fps,
a key frame a second, 1.2 Mbit/s (about 90 MB), x264's ``veryfast`` preset
(CABAC and deblocking, which cameras use and make decoding cost what it does on
real clips), at 1920x1080 and at 2688x1520
(``--clip-loop-seconds 60``: a minute is encoded and repeated, so the bytes and
the decoding cost are a whole clip's; clips are kept in the stand-in's clip folder,
so later runs make none).  Every measurement runs in a fresh process (its peak RSS
is its own, measured above the process before computing), ours and the floor
interleaved:

* timex at 2 Hz: ``open_video(...).webcoos.timex()`` (default chunks), floor: PyAV
  converting the first frame of each 0.5 s to RGB and adding it to a running
  sum, run with PyAV's frame and slice threads and without (the faster is the
  floor: on these clips, which decode in about 1 ms a frame, frame threads cost
  more than they give);
* ``stats()``: the same floor keeping four running statistics;
* a pixel timestack of every frame (20 Hz): the floor takes the line from each frame;
* key frames only at ``sample="1s"`` (the key frame interval): the floor decodes
  key frames only, and decoding every frame at the same sampling shows the gain;
* six clips on ``LocalCluster(n_workers=2, threads_per_worker=1, memory_limit="2GiB")``:
  per-clip timexes, with restarts, spilled bytes, clip fetches and what moved
  between workers counted; 1 worker against 2.

``python -m benchmarks.bursts [--quick]`` runs this case alone.
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from .cases import Results
from .harness import TOKEN, Server, peak_rss_mib

CAMERA, PRODUCT = "waikiki_sheraton", "video-archive"
#: A cross-shore line of the timestack, in fractions of the frame (x, y).
LINE = ((0.5, 0.35), (0.5, 0.95))


@dataclass(frozen=True)
class Bursts:
    """Clip length, rate and sizes of the case, and the clips of the cluster run."""

    seconds: int
    fps: int
    sizes: tuple[tuple[int, int], ...]
    cluster_clips: int
    loop: int

    def serve_options(self, size: tuple[int, int]) -> list[str]:
        return ["--clip-seconds", str(self.seconds), "--clip-fps", str(self.fps),
                "--clip-width", str(size[0]), "--clip-height", str(size[1]),
                "--clip-keyframe-seconds", "1", "--clip-bitrate", "1200000",
                "--clip-preset", "veryfast", "--clip-loop-seconds", str(self.loop)]


FULL = Bursts(600, 20, ((1920, 1080), (2688, 1520)), 6, 60)
QUICK = Bursts(20, 20, ((320, 180),), 2, 10)


# -- the floors: PyAV alone on the clip's bytes ------------------------------------------
def _frames(path: str, *, threaded: bool = True, keyframes: bool = False):
    with av.open(io.BytesIO(Path(path).read_bytes())) as container:
        stream = container.streams.video[0]
        if threaded:
            stream.thread_type = "AUTO"  # frames and slices, one thread per core
        if keyframes:
            stream.codec_context.skip_frame = "NONKEY"
        yield from container.decode(stream)


def floor_statistics(path: str, step: float, four: bool = False, keyframes: bool = False,
                     threaded: bool = True) -> int:
    """Running sum (and with ``four`` sum of squares, max, min) of a frame per ``step``."""
    kept, wanted, total = 0, 0.0, None
    for frame in _frames(path, keyframes=keyframes, threaded=threaded):
        if frame.time < wanted - 1e-3:
            continue
        rgb = frame.to_ndarray(format="rgb24")
        if total is None:
            total = [np.zeros(rgb.shape, np.uint32) for _ in range(2)] + [rgb.copy(), rgb.copy()]
        np.add(total[0], rgb, out=total[0])
        if four:
            np.add(total[1], np.square(rgb, dtype=np.uint32), out=total[1])
            np.maximum(total[2], rgb, out=total[2])
            np.minimum(total[3], rgb, out=total[3])
        kept, wanted = kept + 1, wanted + step
    return kept


def floor_timestack(path: str, points: np.ndarray, threaded: bool = True) -> int:
    """The pixels of a line in every frame."""
    rows = [frame.to_ndarray(format="rgb24")[points[1], points[0]]
            for frame in _frames(path, threaded=threaded)]
    return len(np.stack(rows))


def _line(width: int, height: int) -> np.ndarray:
    (x0, y0), (x1, y1) = ((round(x * (width - 1)), round(y * (height - 1))) for x, y in LINE)
    n = abs(y1 - y0) + 1
    return np.stack([np.linspace(x0, x1, n).round().astype(int),
                     np.linspace(y0, y1, n).round().astype(int)])


# -- ours --------------------------------------------------------------------------------
def _ours(mode: str, api_url: str, start: str, width: int, height: int):
    """The lazy product of one clip that ``mode`` computes."""
    from intake_webcoos import open_video

    def cube(**options):
        return open_video(CAMERA, PRODUCT, start, start, token=TOKEN, base_url=api_url,
                          **options)

    if mode == "timex":
        return cube(sample="500ms").webcoos.timex()
    if mode == "stats":
        return cube(sample="500ms").webcoos.stats()
    if mode == "timestack":
        return cube(fps=20).webcoos.timestack(_line(width, height).T.tolist())
    if mode == "keyframes":
        return cube(sample="1s", keyframes=True).webcoos.timex()
    raise ValueError(mode)


#: The floors, each run with PyAV's threads and without (the faster is the floor: frame
#: threads cost more than they give on clips that decode fast, on a busy machine).
FLOORS = {
    "timex": lambda path, size, threaded: floor_statistics(path, 0.5, threaded=threaded),
    "stats": lambda path, size, threaded: floor_statistics(path, 0.5, four=True,
                                                           threaded=threaded),
    "timestack": lambda path, size, threaded: floor_timestack(path, _line(*size), threaded),
    "keyframes": lambda path, size, threaded: floor_statistics(path, 1.0, keyframes=True,
                                                               threaded=threaded),
    "every-frame": lambda path, size, threaded: floor_statistics(path, 1.0, threaded=threaded),
}


def one(side: str, mode: str, api_url: str, start: str, path: str, width: str,
        height: str) -> None:
    """One measurement in this process, printed as a JSON line."""
    size = (int(width), int(height))
    if side.startswith("floor"):
        def run():
            return FLOORS[mode](path, size, side == "floor")
    else:
        run = _ours(mode, api_url, start, *size).compute  # graph built before timing
    before = peak_rss_mib()
    started, used = time.perf_counter(), time.process_time()
    run()
    print(json.dumps({"seconds": time.perf_counter() - started,
                      "cpu_seconds": time.process_time() - used,
                      "peak_above_mib": peak_rss_mib() - before}))


def _run(*args: str) -> dict:
    """``python -m benchmarks.bursts ARGS`` in a fresh process: its last JSON line."""
    done = subprocess.run([sys.executable, "-m", "benchmarks.bursts", *args],
                          capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"{' '.join(args[:3])} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _measure(*args: str) -> dict:
    return _run("--one", *args)


# -- the cluster -------------------------------------------------------------------------
def _moved(dask_worker) -> dict[str, int]:
    """What this worker received from others: clip handles (a URL each, reported at the size
    of the bytes they hold where they were made), and the bytes of other results."""
    moved = {"handles": 0, "bytes": 0}
    for entry in dask_worker.transfer_incoming_log:
        for key, nbytes in entry.get("keys", {}).items():
            if "share-clip" in str(key):
                moved["handles"] += 1
            else:
                moved["bytes"] += nbytes
    return moved


def _fetches() -> int:
    from intake_webcoos.fs.shared_files import SHARED

    return SHARED.fetches


def _spilled(dask_worker) -> int:
    spilled = getattr(dask_worker.data, "spilled_total", None)
    return 0 if spilled is None else int(spilled[0])


def cluster(api_url: str, start: str, end: str, workers: str) -> None:
    """Per-clip timexes of the clips from ``start`` to ``end`` on a local cluster."""
    import os

    from distributed import Client, LocalCluster

    from intake_webcoos import open_video

    work = open_video(CAMERA, PRODUCT, start, end, sample="500ms", token=TOKEN,
                      base_url=api_url).webcoos.timex(per="clip")
    with LocalCluster(n_workers=int(workers), threads_per_worker=1, memory_limit="2GiB",
                      dashboard_address=None) as local, Client(local) as client:
        pids = set(client.run(os.getpid).values())
        started = time.perf_counter()
        clips = work.compute().sizes["time"]
        seconds = time.perf_counter() - started
        moved = list(client.run(_moved).values())
        print(json.dumps({
            "clips": clips, "seconds": seconds,
            "restarted": len(pids - set(client.run(os.getpid).values())),
            "spilled": sum(client.run(_spilled).values()),
            "fetches": sum(client.run(_fetches).values()),
            "handles_moved": sum(m["handles"] for m in moved),
            "other_bytes_moved": sum(m["bytes"] for m in moved),
            "worker_peak_mib": max(client.run(peak_rss_mib).values())}))


def _on_cluster(api_url: str, start: str, end: str, workers: int) -> dict:
    return _run("--cluster", api_url, start, end, str(workers))


# -- the case ----------------------------------------------------------------------------
#: Per mode: (what the floor is, time ratio target, peak RSS targets per size in MiB).
TARGETS = {"timex": ("PyAV decode, threaded or not, + running sum", 1.2),
           "stats": ("PyAV decode, threaded or not, + four running statistics", 1.3),
           "timestack": ("PyAV decode, threaded or not, + the line of every frame", 1.2),
           "keyframes": ("PyAV decoding key frames only + running sum", 1.2)}
RSS_TARGETS = {(1920, 1080): 1024, (2688, 1520): 1536}


def _clip(server: Server, folder: Path, count: int = 1) -> tuple[str, str, Path, float]:
    """The first ``count`` clips' start and end times, the first clip saved, and how long
    getting them took (the stand-in makes a clip it has not kept yet)."""
    from intake_webcoos import Client

    client = Client(TOKEN, server.api_url)
    clips = client.elements(CAMERA, PRODUCT).iloc[:count]
    path = folder / "clip.mp4"
    started = time.perf_counter()
    path.write_bytes(client.fetch(clips["url"].iloc[0]))
    for url in clips["url"].iloc[1:]:  # made now, not while a case is timed
        client.fetch(url)
    return (clips["time"].iloc[0].isoformat(), clips["time"].iloc[-1].isoformat(), path,
            time.perf_counter() - started)


def _side_by_side(results: Results, mode: str, api_url: str, start: str, path: Path,
                  size: tuple[int, int]) -> dict[str, dict]:
    args = (api_url, start, str(path), str(size[0]), str(size[1]))
    sides = {side: _measure(side, mode, *args) for side in ("ours", "floor", "floor-1thread")}
    label = f"{mode}, {size[0]}x{size[1]}"
    for side, m in sides.items():
        results.add("14 bursts", f"{label}: {side}", m["seconds"], "s",
                    f"CPU {m['cpu_seconds']:.0f} s, peak RSS +{m['peak_above_mib']:.0f} MiB")
    if mode in TARGETS:
        what, most = TARGETS[mode]
        floor = min(sides["floor"]["seconds"], sides["floor-1thread"]["seconds"])
        ratio = sides["ours"]["seconds"] / floor
        results.target(f"{label} <= {most}x the floor ({what})", f"{ratio:.2f}x",
                       ratio <= most)
    return sides


def bursts(results: Results, quick: bool) -> None:
    """Case 13 (see the module docstring)."""
    plan = QUICK if quick else FULL
    for n, size in enumerate(plan.sizes):
        server = Server.start(span_days=1, width=320, height=180, api_latency=0.0,
                              files_latency=0.0, extra=plan.serve_options(size))
        try:
            with tempfile.TemporaryDirectory() as tmp:
                start, end, path, made = _clip(server, Path(tmp), plan.cluster_clips)
                results.add("14 bursts", f"one {plan.seconds} s clip at {plan.fps} fps, "
                            f"{size[0]}x{size[1]}: size", path.stat().st_size / 1e6, "MB",
                            f"the case's clips made (or read from the clip folder) and "
                            f"fetched in {made:.0f} s")
                for mode in ("timex", "stats", "timestack", "keyframes") if n == 0 else ("timex",):
                    sides = _side_by_side(results, mode, server.api_url, start, path, size)
                    if size in RSS_TARGETS and mode == "timex":
                        peak = sides["ours"]["peak_above_mib"]
                        results.target(f"timex of a {size[0]}x{size[1]} clip: peak RSS <= "
                                       f"{RSS_TARGETS[size]} MiB above the process before",
                                       f"+{peak:.0f} MiB", peak <= RSS_TARGETS[size])
                if n == 0:
                    _keyframe_gain(results, server.api_url, start, path, size)
                    _cluster_case(results, server.api_url, start, end, plan.cluster_clips)
        finally:
            server.stop()


def _keyframe_gain(results: Results, api_url: str, start: str, path: Path,
                   size: tuple[int, int]) -> None:
    args = (api_url, start, str(path), str(size[0]), str(size[1]))
    every = min((_measure(side, "every-frame", *args) for side in ("floor", "floor-1thread")),
                key=lambda m: m["seconds"])
    keys = _measure("ours", "keyframes", *args)
    results.add("14 bursts", "timex at 1 s decoding every frame: floor", every["seconds"], "s")
    gain = every["seconds"] / keys["seconds"]
    results.target("key frames only >= 5x faster than decoding every frame (sample 1 s)",
                   f"{gain:.1f}x", gain >= 5)


def _cluster_case(results: Results, api_url: str, start: str, end: str, clips: int) -> None:
    runs = {workers: _on_cluster(api_url, start, end, workers) for workers in (1, 2)}
    for workers, run in runs.items():
        results.add("14 bursts", f"per-clip timex of {run['clips']} clips, {workers} worker(s)",
                    run["seconds"], "s",
                    f"worker peak RSS {run['worker_peak_mib']:.0f} MiB, restarted "
                    f"{run['restarted']}, spilled {run['spilled']} B, clips fetched "
                    f"{run['fetches']}, clip handles moved {run['handles_moved']} (a URL "
                    f"each, never bytes), other results moved {run['other_bytes_moved']} B")
    two = runs[2]
    results.target(f"{clips} clips on 2 workers of 2 GiB: no restart, no spill, no clip "
                   "bytes between workers (each clip fetched at most once per worker)",
                   f"restarted {two['restarted']}, spilled {two['spilled']} B, "
                   f"{two['fetches']} fetches of {clips} clips",
                   not (two["restarted"] or two["spilled"]) and two["fetches"] <= 2 * clips)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bursts")
    parser.add_argument("--quick", action="store_true")
    results = Results()
    bursts(results, parser.parse_args().quick)
    for row in results.rows:
        print(f"{row.measure}: {row.value:.3g} {row.unit} {row.note}")
    for what, measured, met in results.targets:
        print(f"{'MET' if met else 'NOT MET'}: {what}: {measured}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--one"]:
        one(*sys.argv[2:9])
    elif sys.argv[1:2] == ["--cluster"]:
        cluster(*sys.argv[2:6])
    else:
        main()
