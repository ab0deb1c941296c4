"""Which time windows a listing asks the API for: the cost of a listing follows the data.

A listing is split into windows of at most one UTC day (the real service is
slow on long ranges), clipped to the service's own extent (``first_starting`` /
``last_starting`` of the camera list), so that an absurd span costs no more
than the data it holds.  Windows are made lazily, one at a time, and days that a
cached inventory shows empty are skipped.

Each window is half-open, ``[start, stop)``, and is *asked* a little wider than
that (a second before and after, on whole seconds) and filtered locally, so the
listing is right whether the server reads ``starting_after`` and
``starting_before`` as inclusive or exclusive bounds (the official page and the
one client test that shows it disagree) and whatever precision it parses.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Set
from dataclasses import dataclass
from functools import cached_property
from typing import Any, TypeVar

import pandas as pd

from intake_webcoos.api.models import Service
from intake_webcoos.api.times import api_time

# Made from datetime.timedelta, so in microseconds on every pandas: pandas 2 makes
# pd.Timedelta(days=1) nanoseconds, and a time past 2262 plus that overflows.
DAY = pd.Timedelta(dt.timedelta(days=1))
SECOND = pd.Timedelta(dt.timedelta(seconds=1))
MICROSECOND = pd.Timedelta(dt.timedelta(microseconds=1))
_T = TypeVar("_T")
#: Dispositions of cameras that record no more: nothing is newer than their extent.
STOPPED = frozenset({"archived"})


@dataclass(frozen=True)
class Window:
    """One query of a listing: elements of ``service`` with ``start <= time < stop``."""

    service: Service
    start: pd.Timestamp
    stop: pd.Timestamp

    def params(self) -> dict[str, str]:
        """``starting_after`` / ``starting_before`` a second wider than the window."""
        return {"starting_after": api_time(self.start.floor("s") - SECOND),
                "starting_before": api_time(self.stop.ceil("s") + SECOND)}

    def holds(self, time: dt.datetime) -> bool:
        """Whether an element starting at ``time`` belongs to this window."""
        return self._bounds[0] <= time < self._bounds[1]

    @cached_property
    def _bounds(self) -> tuple[dt.datetime, dt.datetime]:
        return self.start.to_pydatetime(), self.stop.to_pydatetime()

    def __str__(self) -> str:
        return f"{self.service.slug} [{self.start.isoformat()}, {self.stop.isoformat()})"


def extent(service: Service) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """``[first, last]`` element starts of a service, from its statistics (None if unknown)."""
    stats = service.stats
    if stats.count == 0 or stats.first_starting is None or stats.last_starting is None:
        return None
    return pd.Timestamp(stats.first_starting), pd.Timestamp(stats.last_starting)


def clip(service: Service, start: pd.Timestamp | None, end: pd.Timestamp | None
         ) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """The part of the inclusive range ``[start, end]`` on the UTC days of the service's extent.

    An open bound defaults to the extent's.  None when nothing can be there: the
    service is empty, or the range misses its extent.
    """
    known = extent(service)
    if known is None:
        return None
    first, last = known[0].floor("D"), known[1].floor("D") + DAY - MICROSECOND
    lo = first if start is None else max(start, first)
    hi = last if end is None else min(end, last)
    return (lo, hi) if lo <= hi else None


def tail(service: Service, start: pd.Timestamp | None, end: pd.Timestamp | None,
         now: pd.Timestamp, disposition: str | None) -> Window | None:
    """The window after the extent's last day up to ``end``, where the statistics may be stale.

    The camera list is fetched (and cached) before a listing, so elements newer
    than its ``last_starting`` may exist.  For a camera still recording, the span
    from the day after it to ``min(end, now)`` is checked; None when there is
    nothing to check.
    """
    known = extent(service)
    if known is None or disposition in STOPPED:
        return None
    begin = known[1].floor("D") + DAY
    begin = begin if start is None else max(begin, start)
    stop = now if end is None else min(end, now)
    if stop < begin:
        return None
    return Window(service, begin, stop + MICROSECOND)


def day_windows(service: Service, start: pd.Timestamp, end: pd.Timestamp, *,
                newest_first: bool = False, empty_days: Set[dt.date] = frozenset()
                ) -> Iterator[Window]:
    """Windows of at most one UTC day covering the inclusive range ``[start, end]``.

    Made lazily, so a range of millions of days costs nothing until listed.
    Days in ``empty_days`` (a cached inventory's empty days) are skipped.
    """
    stop = end + MICROSECOND  # the user's end is inclusive
    first_day, last_day = start.floor("D"), end.floor("D")
    count = (last_day - first_day) // DAY + 1
    steps = range(count - 1, -1, -1) if newest_first else range(count)
    for k in steps:
        day = first_day + k * DAY
        if day.date() in empty_days:
            continue
        yield Window(service, max(start, day), min(stop, day + DAY))


async def bounded(func: Callable[[Any], Awaitable[_T]], items: Iterator[Any], limit: int
                   ) -> AsyncIterator[_T]:
    """``func(item)`` for each item, at most ``limit`` at once, results as they complete.

    Items are drawn lazily; a failure (or an early exit) cancels the rest.
    """
    pending: set[asyncio.Future] = set()
    try:
        while True:
            for item in itertools.islice(items, limit - len(pending)):
                pending.add(asyncio.ensure_future(func(item)))
            if not pending:
                return
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                yield task.result()
    finally:
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
