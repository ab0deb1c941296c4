"""The WebCOOS calls: cameras, services, inventories, element listings, latest.

:class:`AsyncClient` speaks to the API only through its
:class:`~intake_webcoos.api.http.Transport`; :class:`~intake_webcoos.api.sync.Client`
is the same client made synchronous, method by method.  See ``docs/design.md``.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import AsyncIterator, Awaitable
from typing import Any, TypeVar

import pandas as pd
from yarl import URL

from ..errors import (
    IncompleteListingError,
    NoFilesError,
    NotFoundError,
    ResponseFormatError,
    UnknownAssetError,
    UnknownProductError,
)
from .config import Settings
from .http import Transport, gc_paused
from .inventory import parse_inventory
from .listings import Element, Page
from .models import Asset, Product, Service
from .tables import elements_frame, inventory_frame, thin
from .times import TimeLike, api_time, time_range, to_timedelta

logger = logging.getLogger("intake_webcoos.api")

INVENTORY_FREQUENCIES = ("daily", "weekly", "monthly")
_T = TypeVar("_T")


def day_windows(start: pd.Timestamp, end: pd.Timestamp) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """Split ``[start, end]`` at UTC midnights into inclusive windows.

    Neighbouring windows share their boundary instant (so an element exactly at
    midnight is listed twice and de-duplicated, never missed).
    """
    cuts = pd.date_range(start.floor("D") + pd.Timedelta(days=1), end, freq="D", tz="UTC")
    bounds = [start, *[c for c in cuts if start < c < end], end]
    return list(itertools.pairwise(bounds)) or [(start, end)]


class AsyncClient:
    """Asynchronous client of the WebCOOS data API.

    Parameters
    ----------
    token : str, optional
        API token; default ``$WEBCOOS_API_TOKEN``. It is sent only to the API's
        own origin, never to file hosts or to links that lead elsewhere.
    base_url : str, optional
        API root; default ``$WEBCOOS_API_URL`` or the real API.
    **options
        Any field of :class:`~intake_webcoos.api.config.Settings` (``timeout``,
        ``retries``, ``backoff``, ``api_concurrency``, ``file_concurrency``, ...).

    Examples
    --------
    >>> async with AsyncClient() as client:                       # doctest: +SKIP
    ...     frame = await client.elements("waikiki_sheraton", "one-minute-stills",
    ...                                   "2025-09-10", "2025-09-11")
    """

    def __init__(self, token: str | None = None, base_url: str | None = None,
                 **options: Any) -> None:
        self.settings = Settings.resolve(token, base_url, **options)
        self.transport = Transport(self.settings)
        self._assets: tuple[float, list[Asset]] | None = None
        self._inventories: dict[str, tuple[float, dict]] = {}

    # -- life cycle -----------------------------------------------------------
    def __repr__(self) -> str:
        token = "set" if self.settings.token else "missing"
        return f"<{type(self).__name__} {self.settings.base_url} token={token}>"

    def __reduce__(self):
        # Never pickle the token: the unpickled client reads WEBCOOS_API_TOKEN again.
        return (_restore_client, (type(self), self.settings.public_options()))

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the HTTP session (a new one opens if the client is used again)."""
        await self.transport.close()

    def _api_url(self, path: str) -> URL:
        return self.settings.root.join(URL(path.lstrip("/")))

    async def fetch(self, url: str, start: int | None = None, end: int | None = None) -> bytes:
        """The bytes of an element file (or ``[start, end)`` of it); no token is sent."""
        return await self.transport.fetch(url, start, end)

    # -- catalog ----------------------------------------------------------------
    async def me(self) -> dict[str, Any]:
        """The profile of the token's owner (``/u/api/me/``): a cheap token check."""
        payload = await self.transport.get_json(self.settings.origin.join(URL("/u/api/me/")))
        if not isinstance(payload, dict):
            raise ResponseFormatError("/u/api/me/ did not answer with an object")
        return payload

    async def assets(self, *, refresh: bool = False) -> list[Asset]:
        """Every camera, with feeds, products and services (cached ``assets_ttl`` seconds)."""
        now = time.monotonic()
        if not refresh and self._assets and now - self._assets[0] < self.settings.assets_ttl:
            return list(self._assets[1])
        assets: list[Asset] = []
        async for page in self._follow(self._api_url("assets/")):
            assets.extend(Asset.from_json(obj, where=f"assets[{i}]")
                          for i, obj in enumerate(page.results))
        self._assets = (now, assets)
        return list(assets)

    async def _follow(self, url: URL, params: dict[str, str] | None = None
                      ) -> AsyncIterator[Page]:
        """Pages of a list endpoint, following ``next`` links one after another."""
        visited = set()
        while url is not None:
            page = Page.from_json(await self.transport.get_json(url, params))
            yield page
            visited.add(str(url))
            url, params = (URL(page.next) if page.next else None), None
            if url is not None and str(url) in visited:
                raise ResponseFormatError(f"the API's next link loops back to {url}")

    async def asset(self, name: str | Asset) -> Asset:
        """One camera by slug or label (case-insensitive).

        Raises
        ------
        UnknownAssetError
            No camera matches; the message names the closest slugs and labels.
        """
        if isinstance(name, Asset):
            return name
        assets = await self.assets()
        for match in (lambda a: a.slug == name, lambda a: a.label == name,
                      lambda a: name.lower() in (a.slug.lower(), a.label.lower())):
            found = [a for a in assets if match(a)]
            if found:
                return found[0]
        raise UnknownAssetError(name, [a.slug for a in assets] + [a.label for a in assets])

    async def products(self, asset: str | Asset) -> list[Product]:
        """The products of a camera (all feeds), streams included."""
        return list((await self.asset(asset)).products)

    async def product(self, asset: str | Asset, product: str | Product) -> tuple[Asset, Product]:
        """Resolve a camera and one of its products (by slug or label)."""
        found = await self.asset(asset)
        if isinstance(product, Product):
            return found, product
        for p in found.products:
            if product in (p.slug, p.label):
                return found, p
        raise UnknownProductError(found.slug, product, [p.slug for p in found.products])

    async def services(self, asset: str | Asset, product: str | Product) -> list[Service]:
        """The S3 services (those with files) of a camera's product.

        Raises
        ------
        NoFilesError
            The product only has a streaming service.
        """
        return list((await self._resolve(asset, product))[2])

    async def _resolve(self, asset: str | Asset, product: str | Product
                       ) -> tuple[Asset, Product, list[Service]]:
        """A camera, one of its products, and that product's S3 services."""
        found, prod = await self.product(asset, product)
        services = list(prod.s3_services)
        if not services:
            with_files = [p.slug for p in found.products if p.s3_services]
            raise NoFilesError(found.slug, prod.slug, with_files)
        return found, prod, services

    # -- inventory ----------------------------------------------------------------
    async def inventory(self, asset: str | Asset, product: str | Product,
                        freq: str = "daily") -> pd.DataFrame:
        """Counts and bytes per day, week (from Sunday) or month, times in UTC.

        The inventory is slow on the real API (minutes at times), so it is read
        with ``inventory_timeout`` and cached on the client for ``assets_ttl``.
        """
        if freq not in INVENTORY_FREQUENCIES:
            raise ValueError(f"freq must be one of {INVENTORY_FREQUENCIES}, not {freq!r}")
        services = await self.services(asset, product)
        frames = []
        for service in services:
            bins = await self._inventory(service)
            frames.append(inventory_frame(bins.get(freq, ())))
        frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
        return frame.sort_values("starting", kind="stable").reset_index(drop=True)

    async def _inventory(self, service: Service) -> dict:
        now = time.monotonic()
        cached = self._inventories.get(service.slug)
        if cached and now - cached[0] < self.settings.assets_ttl:
            return cached[1]
        payload = await self.transport.get_json(
            self._api_url(f"services/{service.slug}/inventory/"),
            timeout=self.settings.inventory_timeout)
        bins = parse_inventory(payload)
        self._inventories[service.slug] = (now, bins)
        return bins

    # -- elements -----------------------------------------------------------------
    async def latest(self, asset: str | Asset, product: str | Product) -> Element:
        """The newest element of a camera's product."""
        found, prod, services = await self._resolve(asset, product)
        newest: Element | None = None
        for service in services:
            try:
                payload = await self.transport.get_json(
                    self._api_url(f"services/{service.slug}/elements/latest"))
            except NotFoundError:
                continue
            element = Element.from_json(payload, where="latest")
            if newest is None or element.time > newest.time:
                newest = element
        if newest is None:
            raise NotFoundError(f"{found.slug}/{prod.slug} has no elements yet.")
        return newest

    async def iter_elements(
        self, asset: str | Asset, product: str | Product, start: TimeLike | None = None,
        end: TimeLike | None = None, *, ordering: str = "starting",
    ) -> AsyncIterator[tuple[Service, list[Element]]]:
        """Yield ``(service, elements)`` batches as day windows complete.

        Windows are fetched concurrently; each is checked against the count the
        server gave before it is yielded, and elements already yielded (windows
        share their boundary instant) are dropped.

        Raises
        ------
        IncompleteListingError
            A window's pages did not add up to the server's count, even after
            listing it again.
        """
        if ordering not in ("starting", "-starting"):
            raise ValueError(f"ordering must be 'starting' or '-starting', not {ordering!r}")
        services = await self.services(asset, product)
        jobs = []
        for service in services:
            bounds = _service_range(service, start, end)
            if bounds is None:
                continue
            windows = day_windows(*bounds)
            if ordering == "-starting":
                windows.reverse()
            jobs.extend((service, window) for window in windows)
        seen: set[str] = set()
        async for service, batch in _as_completed(
            [self._window(service, window, ordering) for service, window in jobs],
            [service for service, _ in jobs],
        ):
            fresh = [e for e in batch if e.uuid not in seen]
            seen.update(e.uuid for e in fresh)
            yield service, fresh

    async def _window(self, service: Service, window: tuple[pd.Timestamp, pd.Timestamp],
                      ordering: str, *, attempts: int = 3) -> list[Element]:
        """Every element of one window, verified against the server's count."""
        params = {
            "service": service.slug,
            "starting_after": api_time(window[0]),
            "starting_before": api_time(window[1]),
            "page_size": str(self.settings.page_size),
            "ordering": ordering,
        }
        url = self._api_url("elements/")
        problem = ""
        for _ in range(attempts):
            first = Page.from_json(await self.transport.get_json(url, params))
            pages = [first]
            try:
                if first.total_pages is not None and first.total_pages > 1:
                    rest = await asyncio.gather(*(
                        self.transport.get_json(url, {**params, "page": str(n)})
                        for n in range(2, first.total_pages + 1)))
                    pages.extend(Page.from_json(p) for p in rest)
                elif first.next:
                    pages.extend([p async for p in self._follow(URL(first.next))])
            except NotFoundError as exc:
                # A page the first one announced is gone ("Invalid page."): elements
                # were removed meanwhile, or the server miscounts. List it again.
                problem = f"a page it announced does not exist ({exc})"
                logger.info("listing %s %s again: %s", service.slug, window, problem)
                continue
            rows = [r for page in pages for r in page.results]
            counts = {p.count for p in pages}
            uuids = {r.get("uuid") for r in rows if isinstance(r, dict)}
            if first.count is None or (counts == {first.count} and len(rows) == first.count
                                       and len(uuids) == len(rows)):
                with gc_paused():
                    return [Element.from_json(r, where="elements") for r in rows]
            # The listing moved under us (new elements arrived) or came back short.
            problem = (f"{len(rows)} rows ({len(uuids)} distinct) for counts {sorted(counts)}")
            logger.info("listing %s %s again: %s", service.slug, window, problem)
        raise IncompleteListingError(
            f"The listing of {service.slug} from {params['starting_after']} to "
            f"{params['starting_before']} did not add up to the server's count: {problem}. "
            "Nothing was returned rather than a short listing; try again later."
        )

    async def elements(
        self, asset: str | Asset, product: str | Product, start: TimeLike | None = None,
        end: TimeLike | None = None, *, ordering: str = "starting",
        every: str | pd.Timedelta | None = None,
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

        Returns
        -------
        pandas.DataFrame
            Columns ``time, end, asset, product, service, filename, url, path,
            size, duration, uuid``: times ``datetime64[ns, UTC]``, ``size``
            nullable ``Int64``, ``duration`` float seconds (NaN for stills).
        """
        step = to_timedelta(every) if every is not None else None
        found, prod, _ = await self._resolve(asset, product)
        rows: list[tuple[str, Element]] = []
        async for service, batch in self.iter_elements(found, prod, start, end,
                                                        ordering=ordering):
            rows.extend((service.slug, e) for e in batch)
        with gc_paused():
            frame = elements_frame(rows, found.slug, prod.slug,
                                   descending=ordering == "-starting")
        return thin(frame, step) if step is not None else frame


def _service_range(service: Service, start: TimeLike | None, end: TimeLike | None
                   ) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """The range to list: the user's bounds, defaulting to the service's own extent.

    None when a bound is left open and the service reports no extent (it holds
    no elements, so there is nothing to list).
    """
    start = service.stats.first_starting if start is None else start
    end = service.stats.last_starting if end is None else end
    if start is None or end is None:
        return None
    return time_range(start, end)


async def _tagged(tag: Any, awaitable: Awaitable[_T]) -> tuple[Any, _T]:
    return tag, await awaitable


async def _as_completed(coros: list[Awaitable[_T]], tags: list[Any]
                        ) -> AsyncIterator[tuple[Any, _T]]:
    """``(tag, result)`` in completion order; a failure (or an early exit) cancels the rest."""
    tasks = [asyncio.ensure_future(_tagged(tag, c)) for c, tag in zip(coros, tags, strict=True)]
    try:
        for done in asyncio.as_completed(tasks):
            yield await done
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _restore_client(cls: type, options: dict[str, Any]) -> Any:
    return cls(**options)
