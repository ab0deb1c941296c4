"""Listing elements: the WebCOOS calls that read ``/elements/``.

:class:`ElementLister` lists a camera's product by windows from
:mod:`~intake_webcoos.api.windows`, pages from :mod:`~intake_webcoos.api.pagination`,
days kept in the cache once settled, and finds the newest element.
:class:`~intake_webcoos.api.client.AsyncClient` holds one and delegates its
``elements``, ``iter_elements`` and ``latest`` to it (their docstrings are there).
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import orjson
import pandas as pd
from yarl import URL

from intake_webcoos.api.bodies import gc_paused
from intake_webcoos.api.cache import ClientCache
from intake_webcoos.api.config import Settings
from intake_webcoos.api.elements import Element
from intake_webcoos.api.http import Transport
from intake_webcoos.api.inventory import Inventories
from intake_webcoos.api.models import Asset, Product, Service
from intake_webcoos.api.pagination import (
    WindowListing,
    count,
    parse_window,
    warn_skipped,
    window_rows,
)
from intake_webcoos.api.tables import elements_frame, thin
from intake_webcoos.api.times import TimeLike, time_range, to_timedelta, to_utc
from intake_webcoos.api.windows import (
    DAY,
    MICROSECOND,
    Window,
    bounded,
    clip,
    day_windows,
    extent,
    tail,
)
from intake_webcoos.errors import InvalidArgumentError, NotFoundError, ResponseFormatError

#: ``resolve(camera, product)``: the camera, its product and that product's S3 services.
Resolver = Callable[[Any, Any], Awaitable[tuple[Asset, Product, list[Service]]]]


class ElementLister:
    """Lists the elements of cameras' products, and finds the newest.

    Parameters
    ----------
    settings : Settings
        Page size, concurrency, page limit, late uploads.
    transport : Transport
        How the API is asked.
    cache : ClientCache
        Where settled days are kept.
    inventories : Inventories
        Which days are known to be empty (not listed).
    url : callable
        The API URL of a path relative to the API root (``"elements/"``).
    resolve : callable
        ``await resolve(camera, product)``: the camera's :class:`Asset`, the
        :class:`Product` and its S3 services (raising the client's lookup errors).
    """

    def __init__(self, settings: Settings, transport: Transport, cache: ClientCache,
                 inventories: Inventories, url: Callable[[str], URL],
                 resolve: Resolver) -> None:
        self.settings = settings
        self.transport = transport
        self.cache = cache
        self.inventories = inventories
        self.url = url
        self.resolve = resolve

    async def latest(self, camera: str | Asset, product: str | Product) -> Element:
        """See :meth:`AsyncClient.latest <intake_webcoos.api.client.AsyncClient.latest>`."""
        found, prod, services = await self.resolve(camera, product)
        if prod.kind in ("image", "video"):
            try:
                payload = await self.transport.get_json(
                    self.url(f"assets/{found.slug}/elements/latest/{prod.kind}/"))
                element = Element.from_json(payload, where="latest")
            except (NotFoundError, ResponseFormatError):
                element = None
            if element is not None and any(_holds(s, element) for s in services):
                return element
        newest = [e for s in services for e in [await self._newest(s, found)] if e is not None]
        if newest:
            return max(newest, key=lambda e: e.time)
        reported = sum(s.stats.count for s in services)
        why = (f"the service reports {reported} but none could be listed near its last one"
               if reported else "the service reports none")
        raise NotFoundError(f"{found.slug}/{prod.slug} has no elements: {why}.")

    async def _newest(self, service: Service, asset: Asset) -> Element | None:
        """The newest element of one service, listed from its last day to now."""
        known = extent(service)
        if known is None:
            return None
        now = pd.Timestamp.now(tz="UTC")
        window = Window(service, known[1].floor("D"), max(now, known[1]) + DAY)
        listing = await self._list(window, "starting", strict=False)
        return max(listing.elements, key=lambda e: e.time, default=None)

    async def iter_elements(
        self, camera: str | Asset, product: str | Product, start: TimeLike | None = None,
        end: TimeLike | None = None, *, ordering: str = "starting", strict: bool = False,
        refresh: bool = False,
    ) -> AsyncIterator[WindowListing]:
        """See :meth:`AsyncClient.iter_elements`."""
        if ordering not in ("starting", "-starting"):
            raise InvalidArgumentError(f"ordering must be 'starting' or '-starting', not "
                                       f"{ordering!r}")
        found, _, services = await self.resolve(camera, product)
        lo, hi = _bounds(start, end)
        windows = self._windows(found, services, lo, hi, ordering == "-starting")
        async for listing in bounded(lambda w: self._list(w, ordering, strict, refresh),
                                      windows,
                                      2 * self.settings.api_concurrency):
            yield listing

    def _windows(self, asset: Asset, services: list[Service], start: pd.Timestamp | None,
                 end: pd.Timestamp | None, newest_first: bool) -> Iterator[Window]:
        now = pd.Timestamp.now(tz="UTC")
        for service in services:
            span = clip(service, start, end)
            empty = self.inventories.empty_days(service)
            days = day_windows(service, *span, newest_first=newest_first,
                               empty_days=empty) if span else iter(())
            after = tail(service, start, end, now, asset.disposition)
            tails = [after] if after is not None else []
            yield from (itertools.chain(tails, days) if newest_first
                        else itertools.chain(days, tails))

    async def _list(self, window: Window, ordering: str, strict: bool,
                    refresh: bool = False) -> WindowListing:
        """One window's listing; a window longer than a day is counted first, then split."""
        if window.stop - window.start <= DAY:
            rows = await self._rows(window, ordering, refresh)
            return parse_window(rows, window, strict=strict)
        whole = WindowListing(window)
        if await count(self.transport.get_json, self.url("elements/"), window):
            last = window.stop - MICROSECOND
            for day in day_windows(window.service, window.start, last,
                                   newest_first=ordering == "-starting"):
                part = await self._list(day, ordering, strict, refresh)
                whole.elements.extend(part.elements)
                whole.skipped.extend(part.skipped)
        return whole

    async def _rows(self, window: Window, ordering: str, refresh: bool) -> list[Any]:
        """A day window's raw records: from the cache once the day has settled (it ended
        ``late_uploads`` ago, so no late upload can change it), else from the API."""
        settled = window.stop + pd.Timedelta(seconds=self.settings.late_uploads) \
            < pd.Timestamp.now(tz="UTC")
        key = (window.service.slug, window.start.isoformat(), window.stop.isoformat())
        if settled and not refresh:
            kept = await self.cache.get("listing", key)
            if kept is not None:
                with gc_paused():
                    return orjson.loads(kept)
        rows = await window_rows(self.transport.get_json, self.url("elements/"), window,
                                 self.settings.page_size, ordering=ordering,
                                 max_pages=self.settings.max_pages)
        if settled:
            await self.cache.put("listing", key,
                                 orjson.dumps([Element.essentials(row) for row in rows]))
        return rows

    async def elements(
        self, camera: str | Asset, product: str | Product, start: TimeLike | None = None,
        end: TimeLike | None = None, *, ordering: str = "starting",
        every: str | pd.Timedelta | None = None, strict: bool = False, refresh: bool = False,
    ) -> pd.DataFrame:
        """See :meth:`AsyncClient.elements`."""
        step = to_timedelta(every) if every is not None else None
        found, prod, services = await self.resolve(camera, product)
        rows: list[tuple[str, Element]] = []
        skipped: dict[Any, dict[str, Any]] = {}
        async for listing in self.iter_elements(found, prod, start, end, ordering=ordering,
                                                strict=strict, refresh=refresh):
            rows.extend((listing.window.service.slug, e) for e in listing.elements)
            skipped.update({(r["uuid"] or r["window"], r["position"]): r
                            for r in listing.skipped})
        with gc_paused():
            frame = elements_frame(rows, found.slug, prod.slug,
                                   descending=ordering == "-starting")
        frame.attrs["skipped_records"] = list(skipped.values())
        if skipped:
            warn_skipped(found.slug, prod.slug, list(skipped.values()))
        if frame.empty:
            frame.attrs["why_empty"] = why_empty(found, services, *_bounds(start, end))
        return thin(frame, step) if step is not None else frame


def why_empty(asset: Asset, services: list[Service], start: pd.Timestamp | None,
              end: pd.Timestamp | None) -> str:
    """Why a selection holds no element, and which span has data.

    Outside the service's extent, or (inside it) most often night at the camera:
    the cameras record in daylight only.
    """
    spans = [known for known in map(extent, services) if known is not None]
    if not spans:
        return f"{asset.slug} holds no element at all (its service reports none)."
    first, last = min(s[0] for s in spans), max(s[1] for s in spans)
    holds = (f"the service holds elements from {first:%Y-%m-%d %H:%M} to "
             f"{last:%Y-%m-%d %H:%M} UTC")
    if (end is not None and end < first) or (start is not None and start > last):
        return f"The range is outside the data: {holds}."
    local = ""
    if asset.timezone and start is not None and end is not None:
        local = (f" ({start.tz_convert(asset.timezone):%H:%M} to "
                 f"{end.tz_convert(asset.timezone):%H:%M} at the camera, {asset.timezone})")
    return (f"Nothing in that range{local}: the cameras record in daylight only, so nights "
            f"(and outages) have no elements; {holds}.")


def _bounds(start: TimeLike | None, end: TimeLike | None
            ) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """The user's inclusive bounds in UTC (either may be open), checked to be in order."""
    if start is not None and end is not None:
        return time_range(start, end)
    return (None if start is None else to_utc(start, "start"),
            None if end is None else to_utc(end, "end"))


def _holds(service: Service, element: Element) -> bool:
    """Whether ``element``'s file lies under ``service``'s element folder."""
    return bool(service.url) and element.url.startswith(service.url.rstrip("/") + "/")
