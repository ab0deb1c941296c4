"""Running the stand-in in its own process, timing, and describing the machine."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import version

TOKEN = "benchmark-token"


@dataclass
class Server:
    """The stand-in in a subprocess, so that it does not share the client's GIL."""

    api_url: str
    files_url: str
    process: subprocess.Popen

    @classmethod
    def start(cls, *, span_days: int, width: int, height: int, api_latency: float,
              files_latency: float, extra: list[str] | None = None) -> Server:
        command = [sys.executable, "-m", "intake_webcoos.server", "--port", "0",
                   "--files-port", "0", "--token", TOKEN, "--span-days", str(span_days),
                   "--width", str(width), "--height", str(height),
                   "--api-latency", str(api_latency), "--files-latency", str(files_latency),
                   *(extra or [])]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        lines = [process.stdout.readline() for _ in range(3)]
        if not lines[2].strip():
            process.kill()
            raise RuntimeError("the stand-in did not start: " + "".join(lines))
        return cls(lines[1].split()[-1], lines[2].split()[-1], process)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def median_time(run: Callable[[], object], repeat: int, setup: Callable[[], object] | None = None
                ) -> tuple[float, list[float]]:
    """Median wall time of ``run`` over ``repeat`` runs (``setup`` before each, untimed)."""
    times = []
    for _ in range(repeat):
        if setup is not None:
            setup()
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times), times


def peak_rss_mib() -> float:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss, not inherited on fork)."""
    with open("/proc/self/status") as f:
        line = next(line for line in f if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


def machine() -> dict[str, object]:
    """What the numbers were measured on."""
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f
                        if line.startswith("model name")), cpu)
    except OSError:
        pass
    with open("/proc/meminfo") as f:
        memory_kib = int(next(line for line in f if line.startswith("MemTotal")).split()[1])
    packages = ["intake_webcoos", "aiohttp", "fsspec", "pandas", "numpy", "xarray", "dask",
                "pillow", "intake", "intake-xarray", "requests"]
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(memory_kib / 2**20, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": {p: version(p) for p in packages},
    }
