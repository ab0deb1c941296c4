"""One measurement in a fresh process, printed as a JSON line.

``python -m benchmarks.memory MODE API_URL START END [FRAMES]``:

* ``timex``: a timex over the first FRAMES stills between START and END;
* ``day``: hourly timex and variance over every still between START and END.
"""

from __future__ import annotations

import json
import sys
import time

import dask

from intake_webcoos import open_images

from .harness import TOKEN, peak_rss_mib


def main(mode: str, api_url: str, start: str, end: str, frames: int) -> None:
    cube = open_images("waikiki_sheraton", "one-minute-stills", start, end, token=TOKEN,
                       base_url=api_url)
    if mode == "timex":
        cube = cube.isel(time=slice(0, frames))
        work = [cube.webcoos.timex()]
    else:
        work = [cube.webcoos.timex(freq="1h"), cube.webcoos.variance(freq="1h")]
    before = peak_rss_mib()
    started = time.perf_counter()
    dask.compute(*work)
    print(json.dumps({"frames": int(cube.sizes["time"]), "seconds": time.perf_counter() - started,
                      "peak_rss_mib": peak_rss_mib(), "rss_before_mib": before}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
