"""Pictures for the documentation, drawn from the stand-in at build time.

``python docs/make_figures.py OUTDIR`` writes them without building the docs.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PIL import Image

HOUR = ("2025-09-10T18:00:00Z", "2025-09-10T18:59:59Z")


def _png(array: np.ndarray, path: Path) -> None:
    pixels = np.clip(np.rint(array), 0, 255).astype(np.uint8)
    Image.fromarray(pixels.squeeze(-1) if pixels.shape[-1] == 1 else pixels).save(path)


def make_figures(out: Path) -> None:
    from intake_webcoos import open_images
    from intake_webcoos.server import StandIn

    out.mkdir(parents=True, exist_ok=True)
    with StandIn(frame_size=(640, 360)) as s:
        cube = open_images("waikiki_sheraton", "one-minute-stills", *HOUR, token=s.token,
                           base_url=s.api_url)
        _png(cube["image"].isel(time=0).values, out / "frame.png")
        _png(cube.webcoos.timex().values, out / "timex.png")
        _png(cube.webcoos.brightest().values, out / "brightest.png")
        _png(cube.webcoos.darkest().values, out / "darkest.png")
        variance = cube.webcoos.variance().values
        _png(variance / max(float(variance.max()), 1e-6) * 255, out / "variance.png")
        day = open_images("waikiki_sheraton", "one-minute-stills", "2025-09-10T17:00Z",
                          "2025-09-11T05:00Z", token=s.token, base_url=s.api_url,
                          every="5min")
        stack = day.webcoos.timestack([(320, 0), (320, 359)]).values
        _png(np.repeat(np.swapaxes(stack, 0, 1), 3, axis=1), out / "timestack.png")


if __name__ == "__main__":
    make_figures(Path(sys.argv[1]))
