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
without frames (night) do not appear.  With ``per="clip"`` (cubes of
:func:`~intake_webcoos.open_video`) a product is computed per clip, i.e. per
burst as Argus stations and WebCOOS make them, labelled by the clip's start.
"""

from __future__ import annotations

from collections.abc import Sequence

import dask.array as da
import numpy as np
import pandas as pd
import xarray as xr

from intake_webcoos.api.times import to_timedelta
from intake_webcoos.errors import ArgumentTypeError, MissingVariableError, one_of
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


def _bins(image: xr.DataArray, freq: str | None, per: str | None
          ) -> tuple[np.ndarray | None, dict[str, xr.DataArray]]:
    """Each frame's bin number and the bins' coordinates (None and {} for one product).

    Frames are sorted by time (see :func:`_streamed`), so a clip's frames are one
    run and each clip is a bin labelled by its first frame's time, its start.
    """
    if per is not None:
        one_of("per", per, ("clip",))
        if freq is not None:
            raise ArgumentTypeError("give freq= (UTC bins) or per='clip' (one product per "
                                    "clip), not both")
        if "clip" not in image.coords:
            raise MissingVariableError("per='clip' needs a cube of video clips (open_video), "
                                       "whose 'clip' coordinate names each frame's clip; "
                                       "for stills, use freq='10min'")
        clips = image["clip"].values
        labels, names = pd.factorize(clips)
        starts = pd.DatetimeIndex(image["time"].values)[np.unique(labels, return_index=True)[1]]
        return labels, {
            "time": xr.DataArray(starts.as_unit("ns"), dims="time", attrs={
                "timezone": "UTC", "note": "start of each clip, UTC"}),
            "clip": xr.DataArray(np.asarray(names, dtype=object), dims="time")}
    if freq is None:
        return None, {}
    labels, starts = bin_labels(pd.DatetimeIndex(image["time"].values),
                                to_timedelta(freq, "freq"))
    return labels, {"time": xr.DataArray(starts, dims="time", attrs={
        "timezone": "UTC", "bin_width": str(freq), "note": "start of each bin, UTC"})}


def _streamed(image: xr.DataArray, stats: Sequence[str], freq: str | None,
              per: str | None) -> dict[str, xr.DataArray]:
    """The statistics of an integer image, from one pass (:mod:`.statistics`)."""
    image = image.transpose("time", ...)
    if not image.indexes["time"].is_monotonic_increasing:
        image = image.sortby("time")
    labels, bins = _bins(image, freq, per)
    data = da.asarray(image.data)
    valid = da.asarray(image["valid"].data).astype(bool) if "valid" in image.coords else None
    arrays = streaming_statistics(data, valid, labels, stats)
    dims = image.dims[1:] if labels is None else image.dims
    coords = {name: coord for name, coord in image.coords.items() if "time" not in coord.dims}
    coords.update(bins)
    return {stat: xr.DataArray(arrays[stat], dims=dims, coords=coords) for stat in stats}


def _reduced(image: xr.DataArray, stat: str, freq: str | None, per: str | None
             ) -> xr.DataArray:
    """One statistic of a float image, by xarray (skipping NaN and invalid frames)."""
    how = STATISTICS[stat][0]
    if not image.indexes["time"].is_monotonic_increasing:
        image = image.sortby("time")
    data = image.where(image["valid"]) if "valid" in image.coords else image
    labels, bins = _bins(image, freq, per)
    if labels is None:
        out = getattr(data, how)("time")
    else:
        grouped = data.drop_vars("clip", errors="ignore").assign_coords(
            time_bin=("time", labels)).groupby("time_bin")
        out = getattr(grouped, how)("time").rename(time_bin="time").assign_coords(bins)
    if how in ("mean", "std"):
        out = out.astype(np.float32)
    per_frame = [c for c in image.coords if image[c].dims == ("time",) and c not in bins]
    return out.drop_vars([c for c in per_frame if c in out.coords and c != "time"])


def _products(obj: xr.Dataset | xr.DataArray, stats: Sequence[str], freq: str | None,
              per: str | None) -> dict[str, xr.DataArray]:
    """The statistics ``stats`` over ``time`` (whole series, per ``freq`` bin or per clip)."""
    image = image_of(obj)
    if np.issubdtype(image.dtype, np.integer):
        out = _streamed(image, stats, freq, per)
    else:
        out = {stat: _reduced(image, stat, freq, per) for stat in stats}
    for stat, product in out.items():
        product.name = stat
        product.attrs = {**image.attrs, "product": stat, "description": STATISTICS[stat][1]}
        product.attrs.pop("long_name", None)
    return out


def timex(obj, freq: str | None = None, *, per: str | None = None) -> xr.DataArray:
    """Time-exposure image: the mean of each pixel over the frames (float32).

    Parameters
    ----------
    obj : xarray.Dataset or xarray.DataArray
        An image cube (its ``image`` variable) or an image ``DataArray``.
    freq : str, optional
        One image per UTC bin of this width (``"10min"``, ``"1h"``), labelled by
        the bin's start; bins without frames do not appear.
    per : {"clip"}, optional
        One image per video clip (a burst), labelled by the clip's start, with a
        ``clip`` coordinate naming it; not with ``freq``.

    Returns
    -------
    xarray.DataArray
        ``(y, x, band)``, or ``(time, y, x, band)`` with ``freq`` or ``per``.
    """
    return _products(obj, ["timex"], freq, per)["timex"]


def variance(obj, freq: str | None = None, *, per: str | None = None) -> xr.DataArray:
    """The standard deviation of each pixel over the frames (float32).

    Coastal imaging calls this image "variance"; it is the standard deviation,
    which keeps the units of the image.

    ``freq`` and ``per`` as for :func:`timex`.
    """
    return _products(obj, ["variance"], freq, per)["variance"]


def brightest(obj, freq: str | None = None, *, per: str | None = None) -> xr.DataArray:
    """The brightest value of each pixel and band over the frames.

    ``freq`` and ``per`` as for :func:`timex`.
    """
    return _products(obj, ["brightest"], freq, per)["brightest"]


def darkest(obj, freq: str | None = None, *, per: str | None = None) -> xr.DataArray:
    """The darkest value of each pixel and band over the frames.

    ``freq`` and ``per`` as for :func:`timex`.
    """
    return _products(obj, ["darkest"], freq, per)["darkest"]


def stats(obj, freq: str | None = None, *, per: str | None = None) -> xr.Dataset:
    """All four statistics (``timex``, ``variance``, ``brightest``, ``darkest``) at once.

    They come from one read of each frame: computing the Dataset decodes every
    frame once, not four times.  ``freq`` and ``per`` as for :func:`timex`.
    """
    products = _products(obj, list(STATISTICS), freq, per)
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
