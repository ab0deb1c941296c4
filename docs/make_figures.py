"""Pictures for the documentation, drawn from the stand-in server at build time.

``docs/conf.py`` calls :func:`make_figures` when Sphinx starts, so the
pictures always show what the current code computes and no binary file is
committed.  ``python docs/make_figures.py OUTDIR`` writes them without
building the docs.

Everything comes from a fresh :class:`~intake_webcoos.server.StandIn` with
640x360 stills: one hour of one-minute stills of ``waikiki_sheraton`` for the
single-image products, the daylight of one day at 5-minute steps for the tide
timestack, one two-minute video clip sampled at 2 Hz for the wave timestack,
its camera list for the maps of the cameras (drawn as the demo draws them), and
a tidal cycle of stills every 2 minutes for the shoreline in metres.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

CAMERA, STILLS, VIDEO = "waikiki_sheraton", "one-minute-stills", "video-archive"
HOUR = ("2025-09-10T18:00:00Z", "2025-09-10T18:59:59Z")
#: Daylight in Waikiki (UTC-10) on 2025-09-10: 07:00 to 19:00 local time.
DAYLIGHT = ("2025-09-10T17:00:00Z", "2025-09-11T04:59:59Z")
FRAME_SIZE = (640, 360)
#: Pixel column of the cross-shore transect (the middle of the frame).
TRANSECT_X = FRAME_SIZE[0] // 2

FIGURES = ("frame.png", "timex.png", "variance.png", "brightest.png", "darkest.png",
           "timex_10min.png", "timestack.png", "wave_timestack.png", "cameras.png",
           "camera.png", "plan_view.png", "shoreline.png")
#: The plan-view grid of the rectified pictures (stand-in frame: x alongshore, y seaward).
BEACH = dict(x=(-75, 15), y=(-35, 35), spacing=0.5)
#: One M2 tidal cycle of daylight, one still every 2 minutes, for the shoreline.
TIDAL_CYCLE = ("2025-09-10T17:00:00Z", "2025-09-11T05:25:00Z")


def _png(array: np.ndarray, path: Path) -> None:
    """Save an image array (values 0-255, ``(y, x, band)``) as a PNG, pixel for pixel."""
    from PIL import Image

    pixels = np.clip(np.rint(array), 0, 255).astype(np.uint8)
    Image.fromarray(pixels.squeeze(-1) if pixels.shape[-1] == 1 else pixels).save(path)


def _figure_products(cube, out: Path) -> None:
    """The first frame and the four single-image products of one hour."""
    import dask
    import matplotlib.pyplot as plt

    # One pass over the frames computes all four products.
    timex, brightest, darkest, variance = dask.compute(
        cube.webcoos.timex(), cube.webcoos.brightest(), cube.webcoos.darkest(),
        cube.webcoos.variance().mean("band"))
    _png(cube["image"].isel(time=0).values, out / "frame.png")
    _png(timex.values, out / "timex.png")
    _png(brightest.values, out / "brightest.png")
    _png(darkest.values, out / "darkest.png")
    # The variance (a standard deviation per pixel and band) in false colour:
    # the mean over the bands, scaled to its own range.
    variance = variance.values
    colours = plt.get_cmap("magma")(variance / max(float(variance.max()), 1e-6))
    _png(colours[..., :3] * 255, out / "variance.png")


def _figure_bins(cube, out: Path) -> None:
    """A timex per 10-minute bin, side by side."""
    import matplotlib.pyplot as plt

    bins = cube.webcoos.timex(freq="10min").compute()
    fig, axes = plt.subplots(2, 3, figsize=(9, 3.6), layout="constrained")
    for ax, start in zip(axes.flat, bins["time"].values, strict=False):
        ax.imshow(bins.sel(time=start).values.astype(np.uint8))
        ax.set_title(f"{np.datetime_as_string(start, unit='m')[11:]} UTC", fontsize=9)
        ax.set_axis_off()
    fig.savefig(out / "timex_10min.png", dpi=100)
    plt.close(fig)


def _figure_timestack(day, out: Path) -> None:
    """A cross-shore timestack over a day's daylight: the tide moves the shoreline."""
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    stack = day.webcoos.timestack([(TRANSECT_X, 0), (TRANSECT_X, day.sizes["y"] - 1)])
    stack = stack.compute()
    times = mdates.date2num(stack["time"].values)
    fig, ax = plt.subplots(figsize=(8, 3.6), layout="constrained")
    ax.imshow(np.swapaxes(stack.values, 0, 1), aspect="auto", interpolation="nearest",
              extent=(times[0], times[-1], stack["distance"].values[-1], 0))
    ax.xaxis.set_major_locator(mdates.HourLocator(interval=2))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M"))
    ax.set_xlabel("time (UTC), 2025-09-10/11")
    ax.set_ylabel("image row (0 = top)")
    ax.set_title(f"{day.attrs['camera_label']}: column x={TRANSECT_X}, one still every 5 minutes",
                 fontsize=10)
    fig.savefig(out / "timestack.png", dpi=100)
    plt.close(fig)


def _figure_wave_timestack(clip, out: Path) -> None:
    """A cross-shore timestack of one clip at 2 Hz: wave crests run towards the beach."""
    import matplotlib.pyplot as plt

    ny = clip.sizes["y"]
    x = clip.sizes["x"] // 2
    stack = clip.webcoos.timestack([(x, ny // 4), (x, ny - 1)]).compute()
    seconds = (stack["time"].values - stack["time"].values[0]) / np.timedelta64(1, "s")
    distance = stack["distance"].values
    fig, ax = plt.subplots(figsize=(8, 3), layout="constrained")
    ax.imshow(np.swapaxes(stack.values, 0, 1), aspect="auto", interpolation="nearest",
              extent=(seconds[0], seconds[-1], ny // 4 + distance[-1], ny // 4))
    ax.set_xlabel("seconds into the clip (2 frames per second)")
    ax.set_ylabel("image row")
    ax.set_title(f"{clip.attrs['camera_label']}: one video clip, column x={x}", fontsize=10)
    fig.savefig(out / "wave_timestack.png", dpi=100)
    plt.close(fig)


def _figure_plan_view(cube, geometry, out: Path) -> None:
    """The timex of the hour as the camera sees it, next to its plan view in metres."""
    import matplotlib.pyplot as plt

    timex = cube.webcoos.timex().compute()
    plan = timex.webcoos.rectify(geometry, BEACH)
    fig, (oblique, above) = plt.subplots(1, 2, figsize=(10, 3.4), layout="constrained",
                                         width_ratios=(16 / 9, 90 / 70))
    oblique.imshow(timex.values.astype(np.uint8))
    oblique.set_title("timex, as the camera sees it (pixels)", fontsize=10)
    oblique.set_axis_off()
    (plan / 255).fillna(1.0).plot.imshow(ax=above, rgb="band")
    above.set_title("plan view at 0.5 m (metres; sea at the top)", fontsize=10)
    above.set_aspect("equal")
    fig.savefig(out / "plan_view.png", dpi=100)
    plt.close(fig)


def _figure_shoreline(cycle, geometry, renderer, out: Path) -> None:
    """The shoreline of 10-minute timexes over a tidal cycle, with the true waterline."""
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt
    import pandas as pd

    bins = cycle.webcoos.timex(freq="10min")
    middle = pd.DatetimeIndex(bins["time"].values) + pd.Timedelta("5min")
    tide = [renderer.tide_level(CAMERA, t.tz_localize("UTC")) for t in middle]
    shoreline = bins.webcoos.rectify(geometry, BEACH, z=tide).webcoos.shoreline("y_world")
    found = shoreline.median("x_world").compute()
    truth = [renderer.waterline(CAMERA, t.tz_localize("UTC")) for t in middle]
    fig, ax = plt.subplots(figsize=(8, 3.2), layout="constrained")
    ax.plot(middle, truth, color="0.6", lw=4, label="true waterline (the stand-in's scene)")
    ax.plot(middle, found.values, "o", ms=3.5, label="shoreline of each 10-minute timex")
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M"))
    ax.set_xlabel("time (UTC), 2025-09-10/11")
    ax.set_ylabel("cross-shore position y (m)")
    ax.legend(fontsize=8)
    fig.savefig(out / "shoreline.png", dpi=100)
    plt.close(fig)


def _figure_maps(client, out: Path) -> None:
    """All the cameras, and the view of one: the maps of the demo."""
    from intake_webcoos.cli.demo import AROUND_KM
    from intake_webcoos.cli.maps import camera_wedges, draw_around, draw_cameras

    draw_cameras(client.cameras(), out / "cameras.png", wedges=camera_wedges(client.assets()))
    draw_around(client, CAMERA, out / "camera.png", km=AROUND_KM)


def make_figures(out: Path, *, echo=None) -> dict[str, float]:
    """Draw every picture of the documentation into ``out``.

    Parameters
    ----------
    out : pathlib.Path
        Folder for the PNG files (created if needed).
    echo : callable, optional
        Told one line per picture, with the seconds it took.

    Returns
    -------
    dict
        Seconds spent per step.
    """
    import matplotlib

    matplotlib.use("Agg")

    from intake_webcoos import Client, open_images, open_video
    from intake_webcoos.server import StandIn, VideoSettings

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}

    def timed(name, function, *args):
        started = time.perf_counter()
        function(*args)
        timings[name] = time.perf_counter() - started
        if echo is not None:
            echo(f"{name}: {timings[name]:.1f} s")

    # Two-minute clips at 2 frames per second, so a clip shows about a dozen waves.
    video = VideoSettings(seconds=120, fps=2, width=320, height=180)
    with StandIn(frame_size=FRAME_SIZE, video=video) as s:
        options = {"token": s.token, "base_url": s.api_url}
        cube = open_images(CAMERA, STILLS, *HOUR, **options)
        timed("hour products", _figure_products, cube, out)
        timed("10-minute bins", _figure_bins, cube, out)
        day = open_images(CAMERA, STILLS, *DAYLIGHT, every="5min", **options)
        timed("tide timestack", _figure_timestack, day, out)
        clip = open_video(CAMERA, VIDEO, HOUR[0], "2025-09-10T18:09:59Z", sample="500ms",
                          **options)
        timed("wave timestack", _figure_wave_timestack, clip, out)
        with Client(**options) as client:
            timed("camera maps", _figure_maps, client, out)
        geometry = s.geometry(CAMERA)
        timed("plan view", _figure_plan_view, cube, geometry, out)
        cycle = open_images(CAMERA, STILLS, *TIDAL_CYCLE, every="2min", **options)
        timed("shoreline", _figure_shoreline, cycle, geometry, s.bodies.renderer, out)
    return timings


if __name__ == "__main__":
    make_figures(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/_generated"), echo=print)
