"""One measurement in a fresh process, printed as a JSON line.

``python -m benchmarks.memory MODE API_URL START END [FRAMES] [SCALE]``:

* ``timex``: a timex over the first FRAMES stills between START and END;
* ``day``: hourly timex and variance over every still between START and END;
* ``stills``: ``open_images(..., scale=SCALE).webcoos.timex()`` of the stills
  between START and END;
* ``floor``: the floor of ``stills`` (:func:`benchmarks.floors.fetch_decode`:
  aiohttp fetch + simplejpeg on the same threads + a running sum).

The process's peak resident memory is read before the computation (after
imports, listing, opening the cube, and dask's look for a distributed client)
and after it: its growth is what the computation costs.
"""

from __future__ import annotations

import json
import sys
import time

import dask

from intake_webcoos import Client, open_images

from . import floors
from .harness import TOKEN, peak_rss_mib


def main(mode: str, api_url: str, start: str, end: str, frames: int, scale: float = 1) -> None:
    if mode == "floor":
        urls = list(Client(TOKEN, api_url).elements("waikiki_sheraton", "one-minute-stills",
                                                    start, end)["url"])
        count = len(urls)

        def run() -> object:
            return floors.fetch_decode(urls, scale, keep="timex")
    else:
        cube = open_images("waikiki_sheraton", "one-minute-stills", start, end, token=TOKEN,
                           base_url=api_url, scale=scale)
        if mode == "timex":
            cube = cube.isel(time=slice(0, frames))
        work = ([cube.webcoos.timex(freq="1h"), cube.webcoos.variance(freq="1h")]
                if mode == "day" else [cube.webcoos.timex()])
        count = int(cube.sizes["time"])

        def run() -> object:
            return dask.compute(*work)
    # Dask's first compute in a process imports dask.distributed to look for a client
    # (0.3 s, tens of MiB): once a process, not the computation's cost.
    dask.base.get_scheduler()
    before = peak_rss_mib()
    started = time.perf_counter()
    run()
    print(json.dumps({"frames": count, "seconds": time.perf_counter() - started,
                      "peak_rss_mib": peak_rss_mib(), "rss_before_mib": before}))

if __name__ == "__main__":
    main(*sys.argv[1:5], int(sys.argv[5]) if len(sys.argv) > 5 else 0,
         float(sys.argv[6]) if len(sys.argv) > 6 else 1)
