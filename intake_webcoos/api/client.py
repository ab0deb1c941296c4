"""The WebCOOS calls: cameras, services, inventories, element listings, latest.

:class:`AsyncClient` speaks to the API only through its
:class:`~intake_webcoos.api.http.Transport`; :class:`~intake_webcoos.api.sync.Client`
is the same client made synchronous, method by method.  See ``docs/design.md``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pandas as pd
from yarl import URL

from intake_webcoos.api.bodies import write_atomically
from intake_webcoos.api.cache import ClientCache
from intake_webcoos.api.config import Settings
from intake_webcoos.api.elements import Element
from intake_webcoos.api.geo import as_box, as_point
from intake_webcoos.api.http import Transport
from intake_webcoos.api.inventory import Inventories
from intake_webcoos.api.lister import ElementLister
from intake_webcoos.api.models import Asset, Product, Service
from intake_webcoos.api.pagination import WindowListing, follow
from intake_webcoos.api.tables import cameras_frame, inventory_frame
from intake_webcoos.api.times import TimeLike
from intake_webcoos.errors import (
    NoFilesError,
    ResponseFormatError,
    UnknownAssetError,
    UnknownProductError,
    one_of,
)

logger = logging.getLogger("intake_webcoos.api")

INVENTORY_FREQUENCIES = ("daily", "weekly", "monthly")


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
        self.cache = ClientCache(self.settings)
        self._inventories = Inventories(self.transport, self._api_url, self.cache)
        self._lister = ElementLister(self.settings, self.transport, self.cache,
                                     self._inventories, self._api_url, self._resolve)

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

    async def fetch(self, url: str, start: int | None = None, end: int | None = None, *,
                    size: int | None = None) -> bytes:
        """The bytes of an element file (or ``[start, end)`` of it); no token is sent.

        ``size``, the listed size, bounds what the file host may send.  With the
        ``cache_files`` setting, whole files are kept in the cache and read from it.
        """
        whole = start is None and end is None and self.settings.cache_files
        if whole:
            kept = await self.cache.get("file", (url,))
            if kept is not None and (size is None or len(kept) == size):
                return kept
        data = await self.transport.fetch(url, start, end, size=size)
        if whole:
            await self.cache.put("file", (url,), data)
        return data

    async def download(self, url: str, path: str | os.PathLike, *, size: int | None = None,
                       callback: Any = None, tag: str | None = None) -> int:
        """Save an element file to ``path`` atomically; returns its bytes.

        See :meth:`Transport.download <intake_webcoos.api.http.Transport.download>`.
        With the ``cache_files`` setting, a file kept in the cache is written from
        it, and a file downloaded is kept.
        """
        if self.settings.cache_files:
            kept = await self.cache.get("file", (url,))
            if kept is not None and (size is None or len(kept) == size):
                await asyncio.to_thread(write_atomically, path, kept, tag or "cached00")
                if callback is not None:
                    callback.set_size(len(kept))
                    callback.absolute_update(len(kept))
                return len(kept)
        written = await self.transport.download(url, path, size=size, callback=callback, tag=tag)
        if self.settings.cache_files:
            await self.cache.put("file", (url,), await asyncio.to_thread(Path(path).read_bytes))
        return written

    # -- catalog ----------------------------------------------------------------
    async def me(self) -> dict[str, Any]:
        """The profile of the token's owner (``/u/api/me/``): a cheap token check."""
        payload = await self.transport.get_json(self.settings.origin.join(URL("/u/api/me/")))
        if not isinstance(payload, dict):
            raise ResponseFormatError("/u/api/me/ did not answer with an object")
        return payload

    async def assets(self, *, refresh: bool = False) -> list[Asset]:
        """Every camera's record, with feeds, products and services.

        The records are :class:`Asset` objects: they model the API's ``/assets/``
        records (WebCOOS calls a camera an asset); everywhere else the package
        says camera.

        Kept on the client for ``assets_ttl`` seconds and in the cache for
        ``catalogue_ttl``; ``refresh=True`` asks the API again.
        """
        now = time.monotonic()
        if not refresh and self._assets and now - self._assets[0] < self.settings.assets_ttl:
            return list(self._assets[1])
        kept = None if refresh else await self.cache.get("catalogue", ("assets",),
                                                          self.settings.catalogue_ttl)
        if kept is not None:
            nodes = orjson.loads(kept)
        else:
            nodes = [node async for page in follow(self.transport.get_json,
                                                   self._api_url("assets/"),
                                                   max_pages=self.settings.max_pages)
                     for node in page.results]
        assets = [Asset.from_json(node, where=f"assets[{i}]") for i, node in enumerate(nodes)]
        if kept is None:
            await self.cache.put("catalogue", ("assets",), orjson.dumps(nodes))
        self._assets = (now, assets)
        return list(assets)

    async def cameras(self, *, near: tuple[float, float] | None = None,
                      within: tuple[float, float, float, float] | None = None,
                      refresh: bool = False) -> pd.DataFrame:
        """The cameras as a table: where they are, what they hold, from when to when.

        Parameters
        ----------
        near : (latitude, longitude), optional
            Add ``distance_km`` and sort the rows by it, nearest first.
        within : (lon_min, lat_min, lon_max, lat_max), optional
            Keep only the cameras inside this box (edges included), the order of
            :func:`~intake_webcoos.intake.catalog.build_catalog`'s ``bbox``.
        refresh : bool
            Ask the API again instead of using the client's or the disk's copy.

        Returns
        -------
        pandas.DataFrame
            One row per camera, in the API's order (or by distance), with columns:

            * ``slug``, ``label`` (str): the camera's names;
            * ``latitude``, ``longitude`` (float64, degrees; NaN when unknown);
            * ``timezone`` (str): IANA name of its local time;
            * ``state``, ``region`` (str): e.g. ``HI`` and ``PACIOOS``; missing
              where the API does not give them (older payloads);
            * ``disposition`` (str): ``up``, ``archived``, ``abnormal``, ``down``...;
            * ``products`` (str): comma-separated slugs of the products with files;
            * ``first``, ``last`` (datetime64[ns, UTC]): start of its earliest and
              of its latest element over those products; NaT when it has none;
            * ``distance_km`` (float64, only with ``near``): great-circle distance
              (haversine on a sphere of radius 6371 km).

        Raises
        ------
        InvalidLocationError
            ``near`` or ``within`` is malformed or out of range (checked before
            any request).

        Examples
        --------
        >>> client.cameras(near=(21.3, -157.8)).head(3)               # doctest: +SKIP
        >>> client.cameras(within=(-125, 35, -120, 39))["slug"]       # doctest: +SKIP
        """
        near, within = as_point(near, "near"), as_box(within, "within")
        return cameras_frame(await self.assets(refresh=refresh), near=near, within=within)

    async def asset(self, name: str | Asset) -> Asset:
        """One camera's record by slug or label (case-insensitive).

        The record is an :class:`Asset`, as the API's ``/assets/`` calls it.

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

    async def products(self, camera: str | Asset) -> list[Product]:
        """The products of a camera (all feeds), streams included."""
        return list((await self.asset(camera)).products)

    async def product(self, camera: str | Asset, product: str | Product
                      ) -> tuple[Asset, Product]:
        """Resolve a camera and one of its products (by slug or label)."""
        found = await self.asset(camera)
        if isinstance(product, Product):
            return found, product
        for p in found.products:
            if product in (p.slug, p.label):
                return found, p
        raise UnknownProductError(found.slug, product, [p.slug for p in found.products])

    async def services(self, camera: str | Asset, product: str | Product) -> list[Service]:
        """The S3 services (those with files) of a camera's product.

        Raises
        ------
        NoFilesError
            The product only has a streaming service.
        """
        return list((await self._resolve(camera, product))[2])

    async def _resolve(self, camera: str | Asset, product: str | Product
                       ) -> tuple[Asset, Product, list[Service]]:
        """A camera, one of its products, and that product's S3 services."""
        found, prod = await self.product(camera, product)
        services = list(prod.s3_services)
        if not services:
            with_files = [p.slug for p in found.products if p.s3_services]
            raise NoFilesError(found.slug, prod.slug, with_files)
        return found, prod, services

    # -- inventory ----------------------------------------------------------------
    async def inventory(self, camera: str | Asset, product: str | Product,
                        freq: str = "daily", *, wait: float | None = None,
                        refresh: bool = False) -> pd.DataFrame | None:
        """Counts and bytes per day, week (from Sunday) or month, times in UTC.

        The inventory is slow on the real API (minutes at times, or HTTP 504), so
        it is given ``inventory_timeout`` seconds in all and cached on the client
        for ``assets_ttl``.  Listings never need it.

        Parameters
        ----------
        freq : {"daily", "weekly", "monthly"}
            The bins.
        wait : float, optional
            Return None instead of waiting longer than this many seconds (or at
            all, for a while after the inventory failed); the request goes on in
            the background, so a later call may find it ready.
        refresh : bool
            Ask the API again instead of using the client's or the disk's copy.

        Raises
        ------
        SlowServiceError
            No inventory came within ``inventory_timeout`` seconds.
        """
        one_of("freq", freq, INVENTORY_FREQUENCIES)
        frames = []
        for service in await self.services(camera, product):
            bins = await self._inventories.get(service, wait, refresh=refresh)
            if bins is None:
                return None
            frames.append(inventory_frame(bins.get(freq, ())))
        frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
        return frame.sort_values("starting", kind="stable").reset_index(drop=True)


    # -- element listings (see :mod:`~intake_webcoos.api.lister`) ----------------------
    async def latest(self, camera: str | Asset, product: str | Product) -> Element:
        """The newest element of a camera's product.

        Asks the route production clients use (``/assets/{slug}/elements/latest/
        {image|video}/``); when it answers with another product's element, or not
        at all, lists the newest elements near the end of the service's extent.

        Raises
        ------
        NotFoundError
            The service reports no elements.
        """
        return await self._lister.latest(camera, product)

    async def iter_elements(
        self, camera: str | Asset, product: str | Product, start: TimeLike | None = None,
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
        async for listing in self._lister.iter_elements(camera, product, start, end,
                                                        ordering=ordering, strict=strict,
                                                        refresh=refresh):
            yield listing

    async def elements(
        self, camera: str | Asset, product: str | Product, start: TimeLike | None = None,
        end: TimeLike | None = None, *, ordering: str = "starting",
        every: str | pd.Timedelta | None = None, strict: bool = False, refresh: bool = False,
    ) -> pd.DataFrame:
        """The elements of a camera's product with ``start <= time <= end`` as a DataFrame.

        Parameters
        ----------
        camera : str
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
        return await self._lister.elements(camera, product, start, end, ordering=ordering,
                                           every=every, strict=strict, refresh=refresh)


def _restore_client(cls: type, options: dict[str, Any]) -> Any:
    return cls(**options)
