"""Which date folders of ``webcoos://`` exist: the UTC days that hold files.

The service inventory names them at once, but on the real service it can take
minutes or fail (HTTP 504).  So it is used only when it answers within
``inventory_wait`` seconds (and is then cached); otherwise the days come from
the service's extent (``first_starting`` to ``last_starting``) and, for a month
or a day, from the day listings themselves, which the filesystem caches anyway.

Without the inventory, year and month folders are those that overlap the
extent (their sizes are unknown, so None); a month with no data in the middle
of the extent then shows as a folder that lists as empty.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from typing import Any

import pandas as pd

from intake_webcoos import paths
from intake_webcoos.api.client import AsyncClient
from intake_webcoos.api.models import Service
from intake_webcoos.api.windows import extent
from intake_webcoos.paths import ArchivePath

#: ``list_day(path)``: the file entries of one day folder (FileNotFoundError when none).
ListDay = Callable[[str], Awaitable[list[dict[str, Any]]]]
COLUMNS = ["starting", "count", "size"]


async def days_with_data(client: AsyncClient, where: ArchivePath, services: list[Service],
                         list_day: ListDay) -> pd.DataFrame:
    """The days with files inside a product or date folder: ``starting`` (UTC), ``count``, ``size``.

    ``count`` and ``size`` are missing (NA) where only the extent is known.
    """
    inventory = await client.inventory(where.asset, where.product, "daily",
                                       wait=client.settings.inventory_wait)
    if inventory is not None:
        days = inventory.loc[inventory["has_data"], COLUMNS]
        return _inside(days, where)
    days = _inside(_extent_days(services), where)
    if len(where.date) >= 2:  # a month or a day: at most 31 listings, cached by the fs
        days = await _listed(days, where, list_day)
    return days


def _extent_days(services: list[Service]) -> pd.DataFrame:
    spans = [known for known in map(extent, services) if known is not None]
    starts = [pd.date_range(first.floor("D"), last.floor("D"), freq="D") for first, last in spans]
    days = functools.reduce(pd.DatetimeIndex.union, starts, pd.DatetimeIndex([], tz="UTC"))
    return pd.DataFrame({"starting": days, "count": pd.array([pd.NA] * len(days), "Int64"),
                         "size": pd.array([pd.NA] * len(days), "Int64")})


def _inside(days: pd.DataFrame, where: ArchivePath) -> pd.DataFrame:
    if not where.date:
        return days.reset_index(drop=True)
    start, end = where.period()
    inside = (days["starting"] >= start) & (days["starting"] < end)
    return days[inside.to_numpy()].reset_index(drop=True)


async def _listed(days: pd.DataFrame, where: ArchivePath, list_day: ListDay) -> pd.DataFrame:
    """``days`` with counts and sizes from their listings; days without files dropped."""

    async def one(day: pd.Timestamp) -> list[dict[str, Any]]:
        try:
            return await list_day(paths.day_folder(where.asset, where.product, day))
        except FileNotFoundError:
            return []

    listings = await asyncio.gather(*(one(day) for day in days["starting"]))
    counts = [len(files) for files in listings]
    sizes = [sum(f["size"] or 0 for f in files) for files in listings]
    listed = pd.DataFrame({"starting": days["starting"], "count": counts, "size": sizes})
    return listed[listed["count"] > 0].reset_index(drop=True)
