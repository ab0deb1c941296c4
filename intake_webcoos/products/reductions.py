"""Per-pixel statistics of image cubes: the coastal-imaging products of a burst.

* ``timex``: time-exposure, the mean of each pixel over the frames;
* ``variance``: the standard deviation of each pixel (coastal imaging calls the
  std image "variance");
* ``brightest`` / ``darkest``: per-pixel (and per-band) maximum / minimum;
* ``to_gray``: luminance, ITU-R 601 weights (as Pillow's "L");
* ``stats``: the first four at once, from one read of each frame.

All are lazy.  The statistics of integer images (the cubes of ``open_images``
and ``open_video``) stream over the chunks of frames in one pass
(:mod:`intake_webcoos.products.statistics`), so their memory does not grow with the
number of frames; float images are reduced by xarray.  Frames marked False in
a ``valid`` coordinate are skipped.  With ``freq`` a product is computed per UTC
bin (``"10min"``, ``"1h"``...), whose start labels the new ``time`` axis; bins
without frames (night) do not appear.
"""

from __future__ import annotations

from collections.abc import Sequence

import dask.array as da
import numpy as np
import pandas as pd
import xarray as xr

from intake_webcoos.api.times import to_timedelta
from intake_webcoos.errors import MissingVariableError
from intake_webcoos.products.statistics import bin_labels, streaming_statistics

#: Luminance weights of R, G, B (ITU-R BT.601).
GRAY_WEIGHTS = (0.299, 0.587, 0.114)


def image_of(obj: xr.Dataset | xr.DataArray) -> xr.DataArray:
    """The ``image`` variable of a cube (with the cube's attrs), or ``obj`` if it is one."""
    if isinstance(obj, xr.Dataset):
        if "image" not in obj:
            raise MissingVariableError("this Dataset has no 'image' variable: open it with "
                                       "open_images()")
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
    image = image_of(obj)
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
    image = image_of(obj)
    if image.sizes["band"] == 1:
        return image
    weights = xr.DataArray(np.array(GRAY_WEIGHTS, dtype=np.float32), dims="band")
    gray = (image.astype(np.float32) * weights).sum("band").round().clip(0, 255)
    gray = gray.astype(np.uint8).expand_dims(band=["gray"], axis=-1)
    gray.attrs = image.attrs
    gray.name = image.name
    return gray
