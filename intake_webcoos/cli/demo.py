"""The demo: the whole path a scientist takes, on the stand-in, with timings.

Cameras (as a table and two maps), an inventory, one day of elements, one hour
of frames as a lazy cube, then a timex, a brightest image and a timestack,
written as PNG pictures with a short Markdown report, the camera's geometry as
a JSON file, the timex next to its plan view in metres, and the shoreline over a
tidal cycle as a CSV file.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

CAMERA, PRODUCT = "waikiki_sheraton", "one-minute-stills"
DAY = ("2025-09-10T00:00:00Z", "2025-09-10T23:59:59Z")
HOUR = ("2025-09-10T18:00:00Z", "2025-09-10T18:59:59Z")
#: How far the map around the camera reaches: its view (about 3 km) fits.
AROUND_KM = 5.0
#: The plan-view grid: the stand-in's beach in front of the camera (x alongshore, y seaward).
BEACH = dict(x=(-75, 15), y=(-35, 35), spacing=0.5)
#: One M2 tidal cycle (12.42 h) of daylight, for the shoreline in metres.
TIDAL_CYCLE = ("2025-09-10T17:00:00Z", "2025-09-11T05:25:00Z")


def _png(array: np.ndarray, path: Path) -> None:
    pixels = np.clip(np.rint(array), 0, 255).astype(np.uint8)
    Image.fromarray(pixels.squeeze(-1) if pixels.shape[-1] == 1 else pixels).save(path)


class _Steps:
    """Times each step of the demo and echoes it as it ends."""

    def __init__(self, echo: Callable[[str], Any]) -> None:
        self.echo = echo
        self.rows: list[tuple[str, float, str]] = []

    @contextmanager
    def __call__(self, name: str):
        started = time.perf_counter()
        result: list[str] = []
        yield result
        seconds = time.perf_counter() - started
        self.rows.append((name, seconds, result[0] if result else ""))
        self.echo(f"{name:<48} {seconds:6.2f} s  {result[0] if result else ''}")


def run_demo(output: str | Path, *, frame_size: tuple[int, int] = (1280, 720),
             echo: Callable[[str], Any] = print) -> list[tuple[str, float, str]]:
    """Run the demo against a fresh stand-in; returns ``(step, seconds, result)`` rows.

    Parameters
    ----------
    output : path
        Folder for ``cameras.png``, ``camera.png``, ``timex.png``,
        ``brightest.png``, ``timestack.png``, ``frame.png``, ``geometry.json``
        (the camera's :class:`~intake_webcoos.world.geometry.CameraGeometry`),
        ``plan_view.png``, ``shoreline.csv`` and ``report.md`` (created if needed).
    frame_size : (width, height)
        Size of the stand-in's stills.
    echo : callable
        Where progress lines go.
    """
    from intake_webcoos.api.sync import Client
    from intake_webcoos.server import StandIn

    out = Path(output)
    out.mkdir(parents=True, exist_ok=True)
    step = _Steps(echo)
    with step("start the stand-in WebCOOS server") as r:
        s = StandIn(frame_size=frame_size).start()
        r.append(s.api_url)
    try:
        client = Client(token=s.token, base_url=s.api_url)
        _cameras(client, out, step)
        cube = _catalogue_and_cube(client, s, step)
        _products(cube, out, step)
        with step(f"camera geometry of {CAMERA}") as r:
            # The stand-in's true geometry, for rectifying its frames to metres.
            s.geometry(CAMERA).save(out / "geometry.json")
            r.append("geometry.json")
        _rectified(cube, s, out, step)
    finally:
        s.stop()
    _report(out, step.rows, cube)
    echo(f"\npictures and report.md are in {out.resolve()}")
    return step.rows


def _cameras(client: Any, out: Path, step: _Steps) -> None:
    """The table of cameras, the nearest to the demo camera, and the two maps."""
    from intake_webcoos.cli.maps import camera_wedges, draw_around, draw_cameras

    with step("list the cameras") as r:
        cameras = client.cameras()
        r.append(f"{len(cameras)} cameras")
    with step(f"the cameras nearest to {CAMERA}") as r:
        camera = client.asset(CAMERA)
        # Row 0 is the camera itself, at 0 km.
        nearest = client.cameras(near=(camera.latitude, camera.longitude)).iloc[1]
        r.append(f"{nearest['slug']}, {nearest['distance_km']:,.0f} km away")
    with step("map of the cameras") as r:
        draw_cameras(cameras, out / "cameras.png", wedges=camera_wedges(client.assets()))
        r.append("cameras.png")
    with step(f"map around {CAMERA}, with its view") as r:
        draw_around(client, CAMERA, out / "camera.png", km=AROUND_KM)
        r.append("camera.png")


def _catalogue_and_cube(client: Any, s: Any, step: _Steps) -> Any:
    """An inventory and a day of elements, then an hour of frames as a cube."""
    from intake_webcoos.cube.stills import open_images

    with step(f"inventory of {CAMERA}/{PRODUCT}") as r:
        inventory = client.inventory(CAMERA, PRODUCT)
        r.append(f"{int(inventory['has_data'].sum())} days with data, "
                 f"{int(inventory['count'].sum())} stills")
    with step("one UTC day of elements") as r:
        day = client.elements(CAMERA, PRODUCT, *DAY)
        r.append(f"{len(day)} stills, {day['size'].sum() / 1e6:.0f} MB")
    with step("one hour of frames as a lazy cube") as r:
        cube = open_images(CAMERA, PRODUCT, *HOUR, token=s.token, base_url=s.api_url)
        r.append(" x ".join(f"{k} {v}" for k, v in cube.sizes.items()))
    return cube


def _products(cube: Any, out: Path, step: _Steps) -> None:
    """The timex, brightest image and timestack of the cube, as PNG pictures."""
    with step("timex (mean over the hour)") as r:
        _png(cube.webcoos.timex().values, out / "timex.png")
        r.append("timex.png")
    with step("brightest (max over the hour)") as r:
        _png(cube.webcoos.brightest().values, out / "brightest.png")
        r.append("brightest.png")
    with step("cross-shore timestack") as r:
        x = cube.sizes["x"] // 2
        stack = cube.webcoos.timestack([(x, 0), (x, cube.sizes["y"] - 1)]).values
        # Rows: distance along the line; columns: time, widened to be seen.
        _png(np.repeat(np.swapaxes(stack, 0, 1), 6, axis=1), out / "timestack.png")
        r.append("timestack.png")
    _png(cube["image"].isel(time=0).values, out / "frame.png")


def _rectified(cube: Any, s: Any, out: Path, step: _Steps) -> None:
    """The timex next to its plan view, and the shoreline over a tidal cycle, in metres."""
    import pandas as pd

    from intake_webcoos.cube.stills import open_images
    from intake_webcoos.world.geometry import CameraGeometry

    geometry = CameraGeometry.load(out / "geometry.json")  # as a user would
    with step("timex and its plan view (rectified, 0.5 m)") as r:
        timex = cube.webcoos.timex().compute()
        plan = timex.webcoos.rectify(geometry, BEACH).values
        # Sea at the top (y_world increases upwards), outside the view white.
        plan = np.nan_to_num(plan[::-1], nan=255.0)
        height = timex.sizes["y"]
        width = round(plan.shape[1] * height / plan.shape[0])
        above = np.asarray(Image.fromarray(np.clip(plan, 0, 255).astype(np.uint8)).resize(
            (width, height), Image.Resampling.BILINEAR))
        gap = np.full((height, 8, 3), 255.0)
        _png(np.concatenate([timex.values, gap, above], axis=1), out / "plan_view.png")
        r.append("plan_view.png")
    with step("shoreline over a tidal cycle (metres)") as r:
        cycle = open_images(CAMERA, PRODUCT, *TIDAL_CYCLE, every="5min", scale=1 / 2,
                            token=s.token, base_url=s.api_url)
        bins = cycle.webcoos.timex(freq="10min")
        middle = pd.DatetimeIndex(bins["time"].values).tz_localize("UTC") + pd.Timedelta("5min")
        renderer = s.bodies.renderer
        tide = [renderer.tide_level(CAMERA, t) for t in middle]
        shoreline = bins.webcoos.rectify(geometry, BEACH, z=tide).webcoos.shoreline("y_world")
        table = pd.DataFrame({
            "time": middle, "tide_m": tide,
            "shoreline_y_m": shoreline.median("x_world").values,
            "true_waterline_y_m": [renderer.waterline(CAMERA, t) for t in middle]})
        table.to_csv(out / "shoreline.csv", index=False, float_format="%.3f")
        error = (table["shoreline_y_m"] - table["true_waterline_y_m"]).abs().max()
        r.append(f"shoreline.csv, {len(table)} timexes, within {error:.2f} m of the truth")


def _report(out: Path, steps: list[tuple[str, float, str]], cube) -> None:
    rows = "\n".join(f"| {name} | {seconds:.2f} | {result} |" for name, seconds, result in steps)
    total = sum(seconds for _, seconds, _ in steps[1:])
    (out / "report.md").write_text(f"""# intake_webcoos demo

Camera `{CAMERA}` ({cube.attrs['camera_label']}), product `{PRODUCT}`, served by the
stand-in WebCOOS server (synthetic imagery) on 127.0.0.1.
Frames {HOUR[0]} to {HOUR[1]} (UTC): {cube.sizes['time']} stills of
{cube.sizes['x']}x{cube.sizes['y']} pixels.

| step | seconds | result |
|---|---|---|
{rows}

Total after the server started: {total:.2f} s.

| first frame | timex | brightest |
|---|---|---|
| ![frame](frame.png) | ![timex](timex.png) | ![brightest](brightest.png) |

Where the cameras are (a graticule and no coastline: no map data is available
offline): ![cameras](cameras.png)

The view of `{CAMERA}`, {AROUND_KM:g} km around it: ![camera](camera.png)

Timestack along the centre column (top: horizon, bottom: beach; time runs left to
right): ![timestack](timestack.png)

The timex as the camera sees it, and rectified with the camera's geometry
(`geometry.json`) onto a {BEACH['x'][1] - BEACH['x'][0]} m x
{BEACH['y'][1] - BEACH['y'][0]} m plan view at {BEACH['spacing']} m (sea at the
top): ![plan view](plan_view.png)

The shoreline of 10-minute timexes over a tidal cycle, in metres of the
cross-shore axis, with the stand-in's true waterline: `shoreline.csv`.

{cube.attrs['citation']}
""")
