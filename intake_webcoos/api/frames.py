"""Element listings and inventories as pandas DataFrames.

The elements frame is the contract of DESIGN.md: one row per element, sorted by
``time``, a default RangeIndex, and exactly these columns and dtypes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from .models import Element, InventoryBin

#: Column name -> dtype of the elements frame, in order.
ELEMENT_COLUMNS: dict[str, str] = {
    "time": "datetime64[ns, UTC]",
    "end": "datetime64[ns, UTC]",
    "asset": "str",
    "product": "str",
    "service": "str",
    "filename": "str",
    "url": "str",
    "path": "str",
    "size": "Int64",
    "duration": "float64",
    "uuid": "str",
}

INVENTORY_COLUMNS: dict[str, str] = {
    "starting": "datetime64[ns, UTC]",
    "ending": "datetime64[ns, UTC]",
    "has_data": "bool",
    "count": "int64",
    "size": "int64",
    "data_starting": "datetime64[ns, UTC]",
    "data_ending": "datetime64[ns, UTC]",
}


def webcoos_path(asset: str, product: str, element: Element) -> str:
    """The ``webcoos://asset/product/YYYY/MM/DD/filename`` path of an element (UTC date)."""
    t = element.time
    return f"webcoos://{asset}/{product}/{t.year:04d}/{t.month:02d}/{t.day:02d}/{element.label}"


def _utc_ns(times: Sequence) -> np.ndarray:
    """Aware datetimes (or None) -> datetime64[ns] values (NaT for None)."""
    micros = np.array(
        [round(t.timestamp() * 1_000_000) if t is not None else np.iinfo(np.int64).min
         for t in times], dtype=np.int64,
    )
    out = micros.astype("datetime64[us]").astype("datetime64[ns]")
    out[micros == np.iinfo(np.int64).min] = np.datetime64("NaT")
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
    frame = pd.DataFrame(
        {
            "time": _utc_column(_utc_ns([e.time for e in elements])),
            "end": _utc_column(_utc_ns([e.end for e in elements])),
            "asset": pd.array([asset] * len(rows), dtype="str"),
            "product": pd.array([product] * len(rows), dtype="str"),
            "service": pd.array([s for s, _ in rows], dtype="str"),
            "filename": pd.array([e.label for e in elements], dtype="str"),
            "url": pd.array([e.url for e in elements], dtype="str"),
            "path": pd.array([webcoos_path(asset, product, e) for e in elements], dtype="str"),
            "size": pd.array([e.size for e in elements], dtype="Int64"),
            "duration": np.array([np.nan if e.duration is None else e.duration
                                  for e in elements], dtype="float64"),
            "uuid": pd.array([e.uuid for e in elements], dtype="str"),
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
