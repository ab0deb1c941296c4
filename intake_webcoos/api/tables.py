"""Cameras, element listings and inventories as pandas DataFrames.

The elements frame is the contract of ``docs/design.md``: one row per element, sorted by
``time``, a default RangeIndex, and exactly these columns and dtypes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from intake_webcoos.api.elements import Element
from intake_webcoos.api.geo import as_box, as_point, distance_km, in_box
from intake_webcoos.api.inventory import InventoryBin
from intake_webcoos.api.models import Asset, time_span
from intake_webcoos.paths import archive_url, day_folder


def default_string_dtype() -> object:
    """pandas' default string dtype: the dtype pandas itself gives a column of strings.

    ``str`` (``pd.StringDtype(na_value=nan)``) on pandas 3, plain ``object`` on pandas 2
    (or ``str`` there too when ``future.infer_string`` is on). Asked of pandas, not of
    its version, so the elements frame holds strings as ``pd.DataFrame`` would.
    """
    return pd.Series(["a"]).dtype


#: pandas' default string dtype when this module was imported (see
#: :func:`default_string_dtype`): the dtype of every string column of the elements frame.
STRING_DTYPE = default_string_dtype()

#: Column name -> dtype of the elements frame, in order.
ELEMENT_COLUMNS: dict[str, object] = {
    "time": "datetime64[ns, UTC]",
    "end": "datetime64[ns, UTC]",
    "asset": STRING_DTYPE,
    "product": STRING_DTYPE,
    "service": STRING_DTYPE,
    "filename": STRING_DTYPE,
    "url": STRING_DTYPE,
    "path": STRING_DTYPE,
    "size": "Int64",
    "duration": "float64",
    "uuid": STRING_DTYPE,
}

#: Column name -> dtype of the cameras frame, in order (``distance_km`` only with ``near``).
CAMERA_COLUMNS: dict[str, object] = {
    "slug": STRING_DTYPE,
    "label": STRING_DTYPE,
    "latitude": "float64",
    "longitude": "float64",
    "timezone": STRING_DTYPE,
    "state": STRING_DTYPE,
    "region": STRING_DTYPE,
    "disposition": STRING_DTYPE,
    "products": STRING_DTYPE,
    "first": "datetime64[ns, UTC]",
    "last": "datetime64[ns, UTC]",
}


def _utc_ns(times: Sequence) -> np.ndarray:
    """Aware datetimes (or None) -> datetime64[ns] values (NaT for None)."""
    seconds = np.array([np.nan if t is None else t.timestamp() for t in times], dtype=float)
    out = np.round(np.nan_to_num(seconds) * 1e6).astype(np.int64).astype("datetime64[us]")
    out = out.astype("datetime64[ns]")
    out[np.isnan(seconds)] = np.datetime64("NaT")
    return out


def _utc_column(values: np.ndarray) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(values).tz_localize("UTC")


def elements_frame(rows: Iterable[tuple[str, Element]], asset: str, product: str,
                   *, descending: bool = False) -> pd.DataFrame:
    """The elements frame from ``(service slug, element)`` pairs.

    Parameters
    ----------
    rows : iterable of (str, Element)
        Each element with the slug of the service that listed it.
    asset, product : str
        Slugs, repeated on every row and used in ``path``.
    descending : bool
        Sort newest first instead of oldest first.
    """
    rows = list(rows)
    elements = [e for _, e in rows]
    times = _utc_ns([e.time for e in elements])
    # Elements of one UTC day share their path prefix: build each prefix once.
    days = times.astype("datetime64[D]")
    prefixes = {day: archive_url(day_folder(asset, product, day)) + "/"
                for day in np.unique(days).tolist()}
    frame = pd.DataFrame(
        {
            "time": _utc_column(times),
            "end": _utc_column(_utc_ns([e.end for e in elements])),
            "asset": pd.array([asset] * len(rows), dtype=STRING_DTYPE),
            "product": pd.array([product] * len(rows), dtype=STRING_DTYPE),
            "service": pd.array([s for s, _ in rows], dtype=STRING_DTYPE),
            "filename": pd.array([e.label for e in elements], dtype=STRING_DTYPE),
            "url": pd.array([e.url for e in elements], dtype=STRING_DTYPE),
            "path": pd.array([prefixes[d] + e.label
                              for d, e in zip(days.tolist(), elements, strict=True)],
                             dtype=STRING_DTYPE),
            "size": pd.array([e.size for e in elements], dtype="Int64"),
            "duration": np.array([np.nan if e.duration is None else e.duration
                                  for e in elements], dtype="float64"),
            "uuid": pd.array([e.uuid for e in elements], dtype=STRING_DTYPE),
        }
    )
    frame = frame.sort_values("time", ascending=not descending, kind="stable")
    return frame.reset_index(drop=True)


def thin(frame: pd.DataFrame, every: pd.Timedelta) -> pd.DataFrame:
    """Keep, for each UTC bin of width ``every`` (anchored at the epoch), its first element.

    Works for any cadence, including video whose starts are not aligned to the
    minute; "first" means earliest, whatever the frame's order.
    """
    if frame.empty:
        return frame
    bins = frame["time"].dt.floor(every)
    earliest = frame["time"].groupby(bins).transform("min")
    keep = (frame["time"] == earliest) & ~frame.assign(_bin=bins).duplicated(["_bin", "time"])
    return frame[keep].reset_index(drop=True)


def inventory_frame(bins: Sequence[InventoryBin]) -> pd.DataFrame:
    """One row per inventory bin, times in UTC."""
    return pd.DataFrame(
        {
            "starting": _utc_column(_utc_ns([b.starting for b in bins])),
            "ending": _utc_column(_utc_ns([b.ending for b in bins])),
            "has_data": np.array([b.has_data for b in bins], dtype=bool),
            "count": np.array([b.count for b in bins], dtype=np.int64),
            "size": np.array([b.size for b in bins], dtype=np.int64),
            "data_starting": _utc_column(_utc_ns([b.data_starting for b in bins])),
            "data_ending": _utc_column(_utc_ns([b.data_ending for b in bins])),
        }
    )


def cameras_frame(assets: Sequence[Asset], *, near: Sequence[float] | None = None,
                  within: Sequence[float] | None = None) -> pd.DataFrame:
    """One row per camera: :data:`CAMERA_COLUMNS`, plus ``distance_km`` with ``near``.

    Parameters
    ----------
    assets : sequence of Asset
        The cameras, in the order of the rows (unless ``near`` sorts them).
    near : (latitude, longitude), optional
        Add the great-circle distance (km) to each camera and sort nearest first;
        cameras without a position come last, with NaN.
    within : (lon_min, lat_min, lon_max, lat_max), optional
        Keep the cameras inside this box (edges included).

    Raises
    ------
    InvalidLocationError
        ``near`` or ``within`` is malformed or out of range.
    """
    near, within = as_point(near, "near"), as_box(within, "within")
    if within is not None:
        assets = [a for a in assets if in_box(a.latitude, a.longitude, within)]
    spans = [time_span([s for p in a.products for s in p.s3_services]) for a in assets]

    def text(values: list[str | None]) -> pd.api.extensions.ExtensionArray:
        return pd.array(values, dtype=STRING_DTYPE)

    def number(values: list[float | None]) -> np.ndarray:
        return np.array([np.nan if v is None else v for v in values], dtype="float64")

    frame = pd.DataFrame({
        "slug": text([a.slug for a in assets]),
        "label": text([a.label for a in assets]),
        "latitude": number([a.latitude for a in assets]),
        "longitude": number([a.longitude for a in assets]),
        "timezone": text([a.timezone for a in assets]),
        "state": text([a.state for a in assets]),
        "region": text([a.region for a in assets]),
        "disposition": text([a.disposition for a in assets]),
        "products": text([",".join(p.slug for p in a.products if p.s3_services)
                          for a in assets]),
        "first": _utc_column(_utc_ns([first for first, _ in spans])),
        "last": _utc_column(_utc_ns([last for _, last in spans])),
    })
    if near is not None:
        frame["distance_km"] = distance_km(near, frame["latitude"], frame["longitude"])
        frame = frame.sort_values("distance_km", kind="stable").reset_index(drop=True)
    return frame
