"""Element listings and the newest element: the WebCOOS calls that read ``/elements/``.

:class:`Listings` is the part of :class:`~intake_webcoos.api.client.AsyncClient`
that lists elements: windows from :mod:`~intake_webcoos.api.windows`, pages from
:mod:`~intake_webcoos.api.pagination`, days kept in the cache once settled.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any

import orjson
import pandas as pd
from yarl import URL

from intake_webcoos.api.bodies import gc_paused
from intake_webcoos.api.elements import Element
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
from intake_webcoos.errors import NotFoundError, ResponseFormatError

if TYPE_CHECKING:
    from intake_webcoos.api.cache import ClientCache
    from intake_webcoos.api.config import Settings
    from intake_webcoos.api.http import Transport
    from intake_webcoos.api.inventory import Inventories


class Listings:
    """Listing elements: mixed into :class:`~intake_webcoos.api.client.AsyncClient`."""

    settings: Settings
    transport: Transport
    cache: ClientCache
    _inventories: Inventories
    _api_url: Callable[[str], URL]
    #: ``_resolve(asset, product)``: the camera, its product and its S3 services.
    _resolve: Callable[..., Awaitable[tuple[Asset, Product, list[Service]]]]

    async def latest(self, asset: str | Asset, product: str | Product) -> Element:
        """The newest element of a camera's product.

        Asks the route production clients use (``/assets/{slug}/elements/latest/
        {image|video}/``); when it answers with another product's element, or not
        at all, lists the newest elements near the end of the service's extent.

        Raises
        ------
        NotFoundError
            The service reports no elements.
        """
        found, prod, services = await self._resolve(asset, product)
        if prod.kind in ("image", "video"):
            try:
                payload = await self.transport.get_json(
                    self._api_url(f"assets/{found.slug}/elements/latest/{prod.kind}/"))
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
        self, asset: str | Asset, product: str | Product, start: TimeLike | None = None,
        end: TimeLike | None = None, *, ordering: str = "starting", strict: bool = False,
        refresh: bool = False,
    ) -> AsyncIterator[WindowListing]:
        """Yield the listing of each window (at most a UTC day) as it completes.

        Windows are clipped to the service's extent and made lazily; a bounded
        number is listed at once.  Each is checked against the count the server
        gave before it is yielded.

        Raises
        ------
        IncompleteListingError
            A window's pages did not add up to the server's count, even after
            listing it again.
        """
        if ordering not in ("starting", "-starting"):
            raise ValueError(f"ordering must be 'starting' or '-starting', not {ordering!r}")
        found, _, services = await self._resolve(asset, product)
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
            empty = self._inventories.empty_days(service)
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
        if await count(self.transport.get_json, self._api_url("elements/"), window):
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
        rows = await window_rows(self.transport.get_json, self._api_url("elements/"), window,
                                 self.settings.page_size, ordering=ordering,
                                 max_pages=self.settings.max_pages)
        if settled:
            await self.cache.put("listing", key,
                                 orjson.dumps([Element.essentials(row) for row in rows]))
        return rows

    async def elements(
        self, asset: str | Asset, product: str | Product, start: TimeLike | None = None,
        end: TimeLike | None = None, *, ordering: str = "starting",
        every: str | pd.Timedelta | None = None, strict: bool = False, refresh: bool = False,
    ) -> pd.DataFrame:
        """The elements of a camera's product with ``start <= time <= end`` as a DataFrame.

        Parameters
        ----------
        asset : str
            Camera slug or label.
        product : str
            Product slug, e.g. ``"one-minute-stills"``.
        start, end : str, datetime, Timestamp or datetime64, optional
            Inclusive bounds; naive means UTC. Default: the service's first and
            last element.
        ordering : {"starting", "-starting"}
            Oldest first (default) or newest first.
        every : str or Timedelta, optional
            Keep only the first element of each UTC bin of this width (``"10min"``).
        strict : bool
            Raise :class:`ResponseFormatError` on a malformed record instead of
            skipping it with a :class:`MalformedRecordsWarning`.
        refresh : bool
            Ask the API for every day, even those kept in the cache.

        Returns
        -------
        pandas.DataFrame
            Columns ``time, end, asset, product, service, filename, url, path,
            size, duration, uuid``: times ``datetime64[ns, UTC]``, ``size``
            nullable ``Int64``, ``duration`` float seconds (NaN for stills).
            ``frame.attrs["skipped_records"]`` names each malformed record skipped.
        """
        step = to_timedelta(every) if every is not None else None
        found, prod, services = await self._resolve(asset, product)
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
