"""One memory measurement in a fresh process: the peak RSS of a timex over N frames.

``python -m benchmarks.memory API_URL FRAMES START END`` prints a JSON line.
"""

from __future__ import annotations

import json
import sys
import time

from intake_webcoos import open_images

from .harness import TOKEN, peak_rss_mib


def main(api_url: str, frames: int, start: str, end: str) -> None:
    cube = open_images("waikiki_sheraton", "one-minute-stills", start, end, token=TOKEN,
                       base_url=api_url).isel(time=slice(0, frames))
    before = peak_rss_mib()
    started = time.perf_counter()
    cube.webcoos.timex().compute()
    print(json.dumps({"frames": int(cube.sizes["time"]), "seconds": time.perf_counter() - started,
                      "peak_rss_mib": peak_rss_mib(), "rss_before_mib": before}))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4])
