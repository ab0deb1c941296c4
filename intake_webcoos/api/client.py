"""The WebCOOS API client: the only code that speaks HTTP to the API.

:class:`AsyncClient` works on one :class:`aiohttp.ClientSession`; :class:`Client`
is a synchronous facade that runs it on fsspec's IO loop, so that the
``webcoos://`` filesystem and the client share one loop and one connection pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import gc
import itertools
import json
import logging
import os
import random
import secrets
import threading
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime
from typing import Any, TypeVar

import aiohttp
import orjson
import pandas as pd
from yarl import URL

from .config import Settings
from .errors import (
    ForeignOriginError,
    IncompleteListingError,
    InvalidTokenError,
    MissingTokenError,
    NoFilesError,
    NotFoundError,
    RequestError,
    ResponseFormatError,
    ServerError,
    TruncatedDownloadError,
    UnknownAssetError,
    UnknownProductError,
)
from .frames import elements_frame, inventory_frame, thin
from .models import Asset, Element, Page, Product, Service, parse_inventory
from .times import TimeLike, api_time, time_range, to_timedelta

logger = logging.getLogger("intake_webcoos.api")

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
INVENTORY_FREQUENCIES = ("daily", "weekly", "monthly")
_MAX_REDIRECTS = 5
_T = TypeVar("_T")


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


async def _detail(response: aiohttp.ClientResponse) -> str:
    """The ``detail`` of an error body, or its first characters."""
    try:
        text = await response.text()
    except (aiohttp.ClientError, UnicodeDecodeError, TimeoutError):
        return response.reason or ""
    try:
        payload = json.loads(text)
    except ValueError:
        return text[:200]
    if isinstance(payload, dict) and isinstance(payload.get("detail"), str):
        return payload["detail"]
    return text[:200]


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many acyclic objects.

    Parsing a page of elements creates tens of thousands of dicts and strings
    and no reference cycles; without the pause, CPython's collector walks the
    growing heap again and again and parsing runs at half speed.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class _Hidden(str):
    """A header value that never shows in a repr (tracebacks with locals, debuggers)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "'<hidden>'"


class _Retry(Exception):
    """An attempt failed in a way that another attempt may fix."""

    def __init__(self, status: int | None, reason: str, wait: float | None = None) -> None:
        super().__init__(reason)
        self.status, self.reason, self.wait = status, reason, wait


def day_windows(start: pd.Timestamp, end: pd.Timestamp) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """Split ``[start, end]`` at UTC midnights into inclusive windows.

    Neighbouring windows share their boundary instant (so an element exactly at
    midnight is listed twice and de-duplicated, never missed).
    """
    cuts = pd.date_range(start.floor("D") + pd.Timedelta(days=1), end, freq="D", tz="UTC")
    bounds = [start, *[c for c in cuts if start < c < end], end]
    return list(itertools.pairwise(bounds)) or [(start, end)]


class _LoopResources:
    """The session and request slots of one event loop (aiohttp objects are loop-bound)."""

    def __init__(self, settings: Settings) -> None:
        self.loop = asyncio.get_running_loop()
        connector = aiohttp.TCPConnector(
            limit=settings.api_concurrency + settings.file_concurrency, ttl_dns_cache=300
        )
        self.session = aiohttp.ClientSession(connector=connector, trust_env=False)
        self.api_slots = asyncio.Semaphore(settings.api_concurrency)
        self.file_slots = asyncio.Semaphore(settings.file_concurrency)


def _close_session(loop: asyncio.AbstractEventLoop, session: aiohttp.ClientSession) -> None:
    """Close a forgotten client's sockets without blocking (finalizers may run on the loop).

    Closing the connector marks the session closed too, so aiohttp does not warn.
    """
    connector = session.connector
    if connector is None or connector.closed:
        return
    try:
        on_loop = asyncio.get_running_loop() is loop
    except RuntimeError:
        on_loop = False
    if on_loop or not loop.is_running() or loop.is_closed():
        connector._close()
        return
    # Sockets belong to the loop's thread: close them there, waiting only briefly
    # (at interpreter exit the loop may never get to it).
    closed = threading.Event()

    def close() -> None:
        connector._close()
        closed.set()

    loop.call_soon_threadsafe(close)
    closed.wait(0.2)


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
        self._resources: _LoopResources | None = None
        self._assets: tuple[float, list[Asset]] | None = None
        self._inventories: dict[str, tuple[float, dict]] = {}
        #: Requests started (each may take several attempts), for tests and benchmarks.
        self.api_requests = 0
        self.file_requests = 0

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
        resources, self._resources = self._resources, None
        if resources is not None and not resources.session.closed:
            await resources.session.close()

    def _here(self) -> _LoopResources:
        loop = asyncio.get_running_loop()
        if self._resources is None or self._resources.loop is not loop \
                or self._resources.session.closed:
            self._resources = _LoopResources(self.settings)
            weakref.finalize(self, _close_session, loop, self._resources.session)
        return self._resources

    @property
    def session(self) -> aiohttp.ClientSession:
        """The session of the running loop (for file transfers, which need no token)."""
        return self._here().session

    @property
    def file_slots(self) -> asyncio.Semaphore:
        """Bounds concurrent file transfers on the running loop."""
        return self._here().file_slots

    # -- the one place that sends the token ------------------------------------
    def _api_url(self, path: str) -> URL:
        return self.settings.root.join(URL(path.lstrip("/")))

    async def get_json(self, url: URL | str, params: dict[str, str] | None = None,
                       *, timeout: float | None = None) -> Any:
        """GET an API URL and decode its JSON, with retries and typed errors.

        Parameters
        ----------
        url : URL or str
            Absolute URL on the API's origin (anything else is refused).
        params : dict, optional
            Query parameters.
        timeout : float, optional
            Read timeout (default ``settings.timeout``).
        """
        url = URL(url)
        settings = self.settings
        self._check_origin(url, "The API answered with a link elsewhere.")
        if not settings.token:
            raise MissingTokenError()
        headers = {"Authorization": _Hidden(f"Token {settings.token}"),
                   "Accept": "application/json"}
        client_timeout = self._timeout(timeout)
        resources = self._here()

        async def attempt() -> Any:
            target, query = url, params
            for _ in range(_MAX_REDIRECTS + 1):
                logger.debug("GET %s %s", target, query or "")
                async with resources.session.get(
                    target, params=query, headers=headers, allow_redirects=False,
                    timeout=client_timeout,
                ) as response:
                    status = response.status
                    if status == 200:
                        body = await response.read()
                        try:
                            with gc_paused():
                                return orjson.loads(body)
                        except orjson.JSONDecodeError:
                            raise _Retry(status, "the answer was not valid JSON") from None
                    if 300 <= status < 400 and "Location" in response.headers:
                        # Followed by hand: only within the API's origin, token and all.
                        target, query = target.join(URL(response.headers["Location"])), None
                        self._check_origin(target, f"{url} redirects there.")
                        continue
                    if status in RETRY_STATUSES:
                        raise _Retry(status, response.reason or "",
                                     _retry_after(response.headers.get("Retry-After")))
                    detail = (await _detail(response)).replace(settings.token, "<token>")
                    self._raise_for(target, status, detail)
            raise ServerError(str(url), None, 1, "too many redirects")

        self.api_requests += 1
        return await self._with_retries(url, attempt, resources.api_slots)

    async def fetch(self, url: str, start: int | None = None, end: int | None = None) -> bytes:
        """The bytes of an element file, or of ``[start, end)`` of it, without the token.

        Element files are public (S3), so nothing but the URL is sent.  A body
        shorter than its ``Content-Length`` is retried like a dropped connection.

        Raises
        ------
        FileNotFoundError
            The file host has no such file.
        """
        headers = {}
        if start is not None or end is not None:
            first = start or 0
            if end is not None and end <= first:
                return b""
            headers["Range"] = f"bytes={first}-{'' if end is None else end - 1}"
        resources = self._here()
        client_timeout = self._timeout(None)

        async def attempt() -> bytes:
            async with resources.session.get(url, headers=headers, timeout=client_timeout
                                             ) as response:
                status = response.status
                if status in RETRY_STATUSES:
                    raise _Retry(status, response.reason or "",
                                 _retry_after(response.headers.get("Retry-After")))
                if status in (403, 404):  # S3 answers 403 for a missing key without list rights
                    raise FileNotFoundError(f"No file at {url} (HTTP {status}).")
                if status == 416:
                    return b""
                if status not in (200, 206):
                    raise RequestError(url, status, await _detail(response))
                data = await response.read()
            if status == 200 and headers:  # the host ignored Range: cut locally
                return data[start or 0 : end]
            return data

        self.file_requests += 1
        return await self._with_retries(URL(url), attempt, resources.file_slots)

    async def download(self, url: str, path: str | os.PathLike, *, size: int | None = None,
                       callback: Any = None, chunk_size: int = 2**18) -> int:
        """Stream an element file to ``path`` atomically; returns the bytes written.

        The bytes go to a hidden temporary file beside ``path``, which is renamed
        to ``path`` only when complete and, if ``size`` is given, of that size.
        Whatever fails, no partial file is left under either name.

        Parameters
        ----------
        url : str
            The element's public URL (no token is sent).
        path : str or PathLike
            Destination file.
        size : int, optional
            Expected size in bytes (from the listing).
        callback : fsspec.callbacks.Callback, optional
            Told the size, then each chunk written.

        Raises
        ------
        TruncatedDownloadError
            The file arrived with another size than the listing announced.
        FileNotFoundError
            The file host has no such file.
        """
        target = os.fspath(path)
        folder, name = os.path.split(target)
        resources = self._here()
        client_timeout = self._timeout(None)

        async def attempt() -> int:
            temporary = os.path.join(folder, f".{name}.{secrets.token_hex(4)}.part")
            try:
                async with resources.session.get(url, timeout=client_timeout) as response:
                    status = response.status
                    if status in RETRY_STATUSES:
                        raise _Retry(status, response.reason or "",
                                     _retry_after(response.headers.get("Retry-After")))
                    if status in (403, 404):
                        raise FileNotFoundError(f"No file at {url} (HTTP {status}).")
                    if status != 200:
                        raise RequestError(url, status, await _detail(response))
                    if callback is not None:
                        callback.set_size(response.content_length or size)
                        callback.absolute_update(0)
                    written = 0
                    with open(temporary, "wb") as out:
                        async for chunk in response.content.iter_chunked(chunk_size):
                            out.write(chunk)
                            written += len(chunk)
                            if callback is not None:
                                callback.relative_update(len(chunk))
                if size is not None and written != size:
                    raise TruncatedDownloadError(
                        f"{url} arrived with {written} bytes, but the listing says {size}; "
                        "nothing was written. Try again; if it persists, report it to WebCOOS."
                    )
                os.replace(temporary, target)
                return written
            finally:
                if os.path.exists(temporary):
                    os.unlink(temporary)

        self.file_requests += 1
        return await self._with_retries(URL(url), attempt, resources.file_slots)

    def _check_origin(self, url: URL, why: str) -> None:
        if url.origin() != self.settings.origin:
            raise ForeignOriginError(
                f"Refusing to send the WebCOOS token to {url.origin()}: only "
                f"{self.settings.origin} is trusted. {why}"
            )

    def _timeout(self, read: float | None) -> aiohttp.ClientTimeout:
        return aiohttp.ClientTimeout(total=None, sock_connect=self.settings.timeout,
                                     sock_read=read or self.settings.timeout)

    async def _with_retries(self, url: URL, attempt: Callable[[], Awaitable[_T]],
                            slots: asyncio.Semaphore) -> _T:
        """Run ``attempt`` until it succeeds, retrying on 429/5xx, drops and timeouts."""
        status: int | None = None
        reason = ""
        retries = self.settings.retries
        for n in range(1, retries + 1):
            wait: float | None = None
            async with slots:
                try:
                    return await attempt()
                except _Retry as retry:
                    status, reason, wait = retry.status, retry.reason, retry.wait
                except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError,
                        TimeoutError) as exc:
                    status, reason = None, f"{type(exc).__name__}: {exc}".rstrip(": ")
            logger.info("attempt %d of %d at %s failed: %s %s", n, retries, url.with_query(None),
                        status or "", reason)
            if n < retries:
                await asyncio.sleep(self._pause(n, wait))
        raise ServerError(str(url), status, retries, reason)

    def _pause(self, attempt: int, retry_after: float | None) -> float:
        """Exponential backoff with jitter; ``Retry-After`` wins when the server gives it."""
        if retry_after is not None:
            return min(retry_after, self.settings.max_backoff)
        ceiling = min(self.settings.max_backoff, self.settings.backoff * 2 ** (attempt - 1))
        return random.uniform(ceiling / 2, ceiling)

    @staticmethod
    def _raise_for(url: URL, status: int, detail: str) -> None:
        if status in (401, 403):
            raise InvalidTokenError(
                f"The WebCOOS API refused the token (HTTP {status}: {detail}). Copy a fresh "
                "token from your profile page at https://app.webcoos.org and pass it as "
                "token=... or WEBCOOS_API_TOKEN."
            )
        if status == 404:
            raise NotFoundError(f"{url} does not exist (HTTP 404: {detail}).")
        raise RequestError(str(url), status, detail)

    # -- catalog ----------------------------------------------------------------
    async def me(self) -> dict[str, Any]:
        """The profile of the token's owner (``/u/api/me/``): a cheap token check."""
        payload = await self.get_json(self.settings.origin.join(URL("/u/api/me/")))
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
            page = Page.from_json(await self.get_json(url, params))
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

    async def services(self, asset: str | Asset, product: str | Product
                       ) -> tuple[Asset, Product, list[Service]]:
        """The S3 services (those with files) of a camera's product.

        Raises
        ------
        NoFilesError
            The product only has a streaming service.
        """
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
        _, _, services = await self.services(asset, product)
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
        payload = await self.get_json(self._api_url(f"services/{service.slug}/inventory/"),
                                      timeout=self.settings.inventory_timeout)
        bins = parse_inventory(payload)
        self._inventories[service.slug] = (now, bins)
        return bins

    # -- elements -----------------------------------------------------------------
    async def latest(self, asset: str | Asset, product: str | Product) -> Element:
        """The newest element of a camera's product."""
        found, prod, services = await self.services(asset, product)
        newest: Element | None = None
        for service in services:
            try:
                payload = await self.get_json(
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
        _, _, services = await self.services(asset, product)
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
            first = Page.from_json(await self.get_json(url, params))
            pages = [first]
            try:
                if first.total_pages is not None and first.total_pages > 1:
                    rest = await asyncio.gather(*(
                        self.get_json(url, {**params, "page": str(n)})
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
        found, prod, _ = await self.services(asset, product)
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
