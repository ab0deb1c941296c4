"""Coastal-imaging products of image cubes, and the ``.webcoos`` xarray accessor.

* ``timex``: time-exposure, the mean of each pixel over the frames;
* ``variance``: the standard deviation of each pixel (coastal imaging calls the
  std image "variance");
* ``brightest`` / ``darkest``: per-pixel (and per-band) maximum / minimum;
* ``timestack``: the pixels along a line (polyline) in every frame, ``(time, distance, band)``;
* ``to_gray``: luminance, ITU-R 601 weights (as Pillow's "L");
* ``stats``: the first four at once, from one read of each frame.

All are lazy.  The statistics of integer images (the cubes of ``open_images``
and ``open_video``) stream over the chunks of frames in one pass
(:mod:`intake_webcoos.statistics`), so their memory does not grow with the
number of frames; float images are reduced by xarray.  Frames marked False in
a ``valid`` coordinate are skipped.  With ``freq`` a product is computed per UTC
bin (``"10min"``, ``"1h"``...), whose start labels the new ``time`` axis; bins
without frames (night) do not appear.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import dask.array as da
import numpy as np
import pandas as pd
import xarray as xr

from .api.times import to_timedelta
from .statistics import bin_labels, streaming_statistics

#: Luminance weights of R, G, B (ITU-R BT.601).
GRAY_WEIGHTS = (0.299, 0.587, 0.114)


def _image(obj: xr.Dataset | xr.DataArray) -> xr.DataArray:
    if isinstance(obj, xr.Dataset):
        if "image" not in obj:
            raise KeyError("this Dataset has no 'image' variable: open it with open_images()")
        image = obj["image"].copy(deep=False)
        image.attrs = {**obj.attrs, **image.attrs}
        return image
    return obj


#: The statistics: (xarray reduction used for non-integer images, description).
STATISTICS = {
    "timex": ("mean", "time-exposure: mean of each pixel over the frames"),
    "variance": ("std", "standard deviation of each pixel over the frames"),
    "brightest": ("max", "maximum of each pixel and band over the frames"),
    "darkest": ("min", "minimum of each pixel and band over the frames"),
}


def _bins(image: xr.DataArray, freq: str | None) -> tuple[np.ndarray | None, xr.DataArray | None]:
    """Each frame's bin number and the bins' ``time`` coordinate (None without ``freq``)."""
    if freq is None:
        return None, None
    labels, starts = bin_labels(pd.DatetimeIndex(image["time"].values),
                                to_timedelta(freq, "freq"))
    return labels, xr.DataArray(starts, dims="time", attrs={
        "timezone": "UTC", "bin_width": str(freq), "note": "start of each bin, UTC"})


def _streamed(image: xr.DataArray, stats: Sequence[str], freq: str | None
              ) -> dict[str, xr.DataArray]:
    """The statistics of an integer image, from one pass (:mod:`.statistics`)."""
    image = image.transpose("time", ...)
    if not image.indexes["time"].is_monotonic_increasing:
        image = image.sortby("time")
    labels, times = _bins(image, freq)
    data = da.asarray(image.data)
    valid = da.asarray(image["valid"].data).astype(bool) if "valid" in image.coords else None
    arrays = streaming_statistics(data, valid, labels, stats)
    dims = image.dims[1:] if freq is None else image.dims
    coords = {name: coord for name, coord in image.coords.items() if "time" not in coord.dims}
    if times is not None:
        coords["time"] = times
    return {stat: xr.DataArray(arrays[stat], dims=dims, coords=coords) for stat in stats}


def _reduced(image: xr.DataArray, stat: str, freq: str | None) -> xr.DataArray:
    """One statistic of a float image, by xarray (skipping NaN and invalid frames)."""
    how = STATISTICS[stat][0]
    data = image.where(image["valid"]) if "valid" in image.coords else image
    if freq is None:
        out = getattr(data, how)("time")
    else:
        labels, times = _bins(image, freq)
        grouped = data.assign_coords(time_bin=("time", labels)).groupby("time_bin")
        out = getattr(grouped, how)("time").rename(time_bin="time").assign_coords(time=times)
    if how in ("mean", "std"):
        out = out.astype(np.float32)
    per_frame = [c for c in image.coords if image[c].dims == ("time",) and c != "time"]
    return out.drop_vars([c for c in per_frame if c in out.coords])


def _products(obj: xr.Dataset | xr.DataArray, stats: Sequence[str], freq: str | None
              ) -> dict[str, xr.DataArray]:
    """The statistics ``stats`` over ``time`` (whole series or per ``freq`` bin), named."""
    image = _image(obj)
    if np.issubdtype(image.dtype, np.integer):
        out = _streamed(image, stats, freq)
    else:
        out = {stat: _reduced(image, stat, freq) for stat in stats}
    for stat, product in out.items():
        product.name = stat
        product.attrs = {**image.attrs, "product": stat, "description": STATISTICS[stat][1]}
        product.attrs.pop("long_name", None)
    return out


def timex(obj, freq: str | None = None) -> xr.DataArray:
    """Time-exposure image: the mean of each pixel over the frames (float32)."""
    return _products(obj, ["timex"], freq)["timex"]


def variance(obj, freq: str | None = None) -> xr.DataArray:
    """The standard deviation of each pixel over the frames (float32).

    Coastal imaging calls this image "variance"; it is the standard deviation,
    which keeps the units of the image.
    """
    return _products(obj, ["variance"], freq)["variance"]


def brightest(obj, freq: str | None = None) -> xr.DataArray:
    """The brightest value of each pixel and band over the frames."""
    return _products(obj, ["brightest"], freq)["brightest"]


def darkest(obj, freq: str | None = None) -> xr.DataArray:
    """The darkest value of each pixel and band over the frames."""
    return _products(obj, ["darkest"], freq)["darkest"]


def stats(obj, freq: str | None = None) -> xr.Dataset:
    """All four statistics (``timex``, ``variance``, ``brightest``, ``darkest``) at once.

    They come from one read of each frame: computing the Dataset decodes every
    frame once, not four times.
    """
    products = _products(obj, list(STATISTICS), freq)
    first = products["timex"]
    return xr.Dataset(products, attrs={k: v for k, v in first.attrs.items()
                                       if k not in ("product", "description")})


def to_gray(obj) -> xr.DataArray:
    """Luminance (ITU-R 601 weights), uint8, with a ``band`` of length 1."""
    image = _image(obj)
    if image.sizes["band"] == 1:
        return image
    weights = xr.DataArray(np.array(GRAY_WEIGHTS, dtype=np.float32), dims="band")
    gray = (image.astype(np.float32) * weights).sum("band").round().clip(0, 255)
    gray = gray.astype(np.uint8).expand_dims(band=["gray"], axis=-1)
    gray.attrs = image.attrs
    gray.name = image.name
    return gray


def line_points(points: Sequence[Sequence[float]], spacing: float = 1.0
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sample a polyline every ``spacing`` (its own units): ``(distance, x, y)``."""
    vertices = np.asarray(points, dtype=float)
    if vertices.ndim != 2 or vertices.shape[1] != 2 or len(vertices) < 2:
        raise ValueError("points must be a sequence of at least two (x, y) positions")
    if spacing <= 0:
        raise ValueError("spacing must be positive")
    steps = np.diff(vertices, axis=0)
    lengths = np.hypot(steps[:, 0], steps[:, 1])
    along = np.concatenate([[0.0], np.cumsum(lengths)])
    distance = np.arange(0.0, along[-1] + 1e-9, spacing)
    return (distance, np.interp(distance, along, vertices[:, 0]),
            np.interp(distance, along, vertices[:, 1]))


def line_pixels(points: Sequence[Sequence[float]], spacing: float = 1.0
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sample a polyline every ``spacing`` pixels: ``(distance, x, y)`` (x, y rounded)."""
    distance, x, y = line_points(points, spacing)
    return distance, np.rint(x).astype(int), np.rint(y).astype(int)


def timestack(obj, points: Sequence[Sequence[float]], spacing: float = 1.0) -> xr.DataArray:
    """The pixels along a polyline in every frame: ``(time, distance, band)``.

    Parameters
    ----------
    points : sequence of (x, y)
        Vertices of the line in pixel coordinates of the cube (``x`` = column,
        ``y`` = row), e.g. a cross-shore transect ``[(600, 250), (600, 700)]``.
    spacing : float
        Distance between samples along the line, in pixels (nearest pixel).
    """
    image = _image(obj)
    distance, x, y = line_pixels(points, spacing)
    ny, nx = image.sizes["y"], image.sizes["x"]
    if x.min() < 0 or y.min() < 0 or x.max() >= nx or y.max() >= ny:
        raise ValueError(f"the line leaves the {nx}x{ny} frame")
    stack = image.isel(x=xr.DataArray(x, dims="distance"), y=xr.DataArray(y, dims="distance"))
    stack = stack.assign_coords(distance=("distance", distance))
    stack.name = "timestack"
    stack.attrs = {**image.attrs, "product": "timestack",
                   "description": "pixels along a line in every frame",
                   "points": np.asarray(points, dtype=float).ravel().tolist(),
                   "spacing": spacing}
    return stack


class _Accessor:
    """Coastal-imaging products of a WebCOOS image cube (``ds.webcoos.timex()``...)."""

    def __init__(self, obj: xr.Dataset | xr.DataArray) -> None:
        self._obj = obj

    def timex(self, freq: str | None = None) -> xr.DataArray:
        """Mean of each pixel over time (whole series, or per ``freq`` bin)."""
        return timex(self._obj, freq)

    def variance(self, freq: str | None = None) -> xr.DataArray:
        """Standard deviation of each pixel over time (coastal imaging's "variance")."""
        return variance(self._obj, freq)

    def brightest(self, freq: str | None = None) -> xr.DataArray:
        """Maximum of each pixel and band over time."""
        return brightest(self._obj, freq)

    def darkest(self, freq: str | None = None) -> xr.DataArray:
        """Minimum of each pixel and band over time."""
        return darkest(self._obj, freq)

    def timestack(self, points: Sequence[Sequence[float]] | None = None, spacing: float = 1.0,
                  *, world: Sequence[Sequence[float]] | None = None, geometry: Any = None,
                  z: Any = 0.0) -> xr.DataArray:
        """Pixels along a polyline in every frame, ``(time, distance, band)``.

        Either ``points`` in pixels (nearest pixels every ``spacing`` pixels), or
        ``world=`` vertices in metres with the camera's ``geometry`` (bilinear
        samples every ``spacing`` metres at elevation ``z``; see
        :func:`intake_webcoos.rectify.world_timestack`).
        """
        if world is None:
            if points is None or geometry is not None:
                raise TypeError("give pixel points, or world= vertices and geometry=")
            return timestack(self._obj, points, spacing)
        if points is not None or geometry is None:
            raise TypeError("a world= line takes geometry= (the camera's), and no pixel points")
        from .rectify import world_timestack

        return world_timestack(self._obj, world, geometry, spacing, z)

    def rectify(self, geometry: Any, grid: Any, z: Any = 0.0) -> xr.Dataset | xr.DataArray:
        """Plan view on a grid in metres (see :func:`intake_webcoos.rectify.rectify`)."""
        from .rectify import rectify

        return rectify(self._obj, geometry, grid, z)

    def shoreline(self, cross_shore: str = "x_world", **options: Any) -> xr.DataArray:
        """Shoreline of a rectified image (see :func:`intake_webcoos.shoreline.shoreline`)."""
        from .shoreline import shoreline

        return shoreline(self._obj, cross_shore, **options)

    def stats(self, freq: str | None = None) -> xr.Dataset:
        """Timex, variance, brightest and darkest from one read of each frame."""
        return stats(self._obj, freq)

    def to_gray(self) -> xr.DataArray:
        """Luminance, one band."""
        return to_gray(self._obj)


xr.register_dataset_accessor("webcoos")(_Accessor)
xr.register_dataarray_accessor("webcoos")(_Accessor)
