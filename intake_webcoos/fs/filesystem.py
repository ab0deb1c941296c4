"""``webcoos://``: the WebCOOS archive as a read-only fsspec filesystem.

Paths are ``{asset}/{product}/{YYYY}/{MM}/{DD}/{filename}`` with UTC dates.
Cameras, products, years, months and days come from the camera list and the
daily inventory (no file listing); the files of one day come from one elements
query.  Files are read from their public URLs by HTTP range requests, on the
same session (and event loop) as the API client, never with the token.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import os
from contextvars import ContextVar
from typing import Any

import pandas as pd
from fsspec.asyn import AsyncFileSystem
from fsspec.callbacks import DEFAULT_CALLBACK
from fsspec.spec import AbstractFileSystem, make_instance

from intake_webcoos import paths
from intake_webcoos.api.bridge import blocking, run
from intake_webcoos.api.client import AsyncClient
from intake_webcoos.api.models import Asset
from intake_webcoos.api.sync import Client
from intake_webcoos.api.windows import MICROSECOND
from intake_webcoos.errors import (
    NotAFileError,
    NotFoundError,
    PathNotFoundError,
    ReadOnlyError,
    TruncatedDownloadError,
)
from intake_webcoos.fs.dircache import ListingCache
from intake_webcoos.fs.entries import asset_totals, directory, file_info, service_totals, total
from intake_webcoos.fs.file import WebcoosFile
from intake_webcoos.fs.folders import days_with_data
from intake_webcoos.fs.glob import day_folders, matching
from intake_webcoos.paths import FILE_DEPTH, PROTOCOL, ArchivePath

#: The transfer tasks of the ``get`` under way in this context (see ``_get``).
_TRANSFERS: ContextVar[set[asyncio.Task] | None] = ContextVar("_TRANSFERS", default=None)


def _not_found(path: str, why: str = "") -> PathNotFoundError:
    return PathNotFoundError(f"{paths.archive_url(path)} does not exist"
                             + (f": {why}" if why else "."))


class WebcoosFileSystem(AsyncFileSystem):
    """The WebCOOS archive as a read-only filesystem.

    Parameters
    ----------
    token : str, optional
        API token; default ``$WEBCOOS_API_TOKEN``. Never stored in
        ``storage_options``, ``to_json()``, pickles or reprs.
    base_url : str, optional
        API root; default ``$WEBCOOS_API_URL`` or the real API.
    listings_expiry_time : float, optional
        Seconds a listing stays cached; listings of past UTC days never expire.
        None keeps every listing for good.
    use_listings_cache : bool
        Set False to list afresh every time.
    **client_options
        Options of the API client (timeouts, retries, concurrency): see
        :class:`~intake_webcoos.api.config.Settings`.

    Examples
    --------
    >>> import fsspec                                                    # doctest: +SKIP
    >>> fs = fsspec.filesystem("webcoos")                                # doctest: +SKIP
    >>> fs.ls("waikiki_sheraton/one-minute-stills/2025/09")             # doctest: +SKIP
    >>> with fs.open("waikiki_sheraton/one-minute-stills/2025/09/10/"
    ...              "waikiki_sheraton-2025-09-10-180004Z.jpg") as f:   # doctest: +SKIP
    ...     header = f.read(2)
    """

    protocol = PROTOCOL
    root_marker = ""
    async_impl = True

    def __init__(self, token: str | None = None, base_url: str | None = None, *,
                 listings_expiry_time: float | None = 600.0, use_listings_cache: bool = True,
                 asynchronous: bool = False, loop: asyncio.AbstractEventLoop | None = None,
                 batch_size: int | None = None, **client_options: Any) -> None:
        super().__init__(asynchronous=asynchronous, loop=loop, batch_size=batch_size)
        self.aclient = AsyncClient(token, base_url, **client_options)
        self._listings: dict[tuple[asyncio.AbstractEventLoop, str], asyncio.Future] = {}
        self.dircache = ListingCache(use_listings_cache=use_listings_cache,
                                     listings_expiry_time=listings_expiry_time)

    def __reduce__(self):
        # The listings travel with a pickled filesystem: the files of the days it
        # listed have public URLs, so a dask worker reads them without the token.
        return (_restore_filesystem, (type(self), self.storage_args, self.storage_options,
                                      self.dircache.snapshot()))

    # The token must never reach storage_options (pickles, to_json, fs tokens).
    @property
    def storage_options(self) -> dict[str, Any]:
        return self._storage_options

    @storage_options.setter
    def storage_options(self, value: dict[str, Any]) -> None:
        self._storage_options = {k: v for k, v in value.items() if k != "token"}

    def __repr__(self) -> str:
        return f"<WebcoosFileSystem {self.aclient.settings.base_url}>"

    @property
    def client(self) -> Client:
        """A synchronous API client sharing this filesystem's session and caches."""
        return Client.from_async(self.aclient)

    @classmethod
    def _strip_protocol(cls, path):
        if isinstance(path, list):
            return [cls._strip_protocol(p) for p in path]
        return paths.strip_protocol(path)

    @staticmethod
    def _get_kwargs_from_urls(path: str) -> dict[str, Any]:
        return {}

    # -- resolving paths --------------------------------------------------------
    async def _asset(self, path: str, slug: str) -> Asset:
        try:
            return await self.aclient.asset(slug)
        except NotFoundError as exc:
            raise _not_found(path, str(exc)) from exc

    async def _services(self, path: str, asset: str, product: str):
        try:
            return await self.aclient.services(asset, product)
        except NotFoundError as exc:  # unknown camera or product, or a stream only
            raise _not_found(path, str(exc)) from exc

    async def _days_inside(self, where: ArchivePath) -> pd.DataFrame:
        """The days with data inside a date folder (all of them for a product)."""
        services = await self._services(str(where), where.asset, where.product)
        days = await days_with_data(self.aclient, where, services, self._ls)
        if where.date and days.empty:
            raise _not_found(str(where), "no data in that period")
        return days

    # -- listing -----------------------------------------------------------------
    async def _ls(self, path: str, detail: bool = True, refresh: bool = False,
                  **kwargs: Any) -> list:
        where = paths.parse(path)
        path = str(where)
        if not refresh:
            try:
                listing = self.dircache[path]
            except KeyError:
                listing = None
            if listing is not None:
                return listing if detail else [e["name"] for e in listing]
        if where.is_file:
            info = await self._info(path)
            return [info] if detail else [info["name"]]
        listing, permanent = await self._list_shared(where)
        self.dircache.put(path, listing, permanent=permanent)
        return listing if detail else [e["name"] for e in listing]

    async def _list_shared(self, where: ArchivePath) -> tuple[list[dict], bool]:
        """:meth:`_list`, run once for all concurrent callers of one path.

        ``get``/``cat`` of many files of one day look up every file at once, and
        each lookup needs the day's listing: without sharing, a day of files
        would list the day once per file.
        """
        key = (asyncio.get_running_loop(), str(where))
        task = self._listings.get(key)
        if task is None:
            task = self._listings[key] = asyncio.ensure_future(self._list(where))

            def forget(done: asyncio.Future) -> None:
                self._listings.pop(key, None)
                if not done.cancelled():
                    done.exception()  # retrieved here even if every caller went away

            task.add_done_callback(forget)
        # One caller giving up (cancelled) must not cancel the others' listing.
        return await asyncio.shield(task)

    async def _list(self, where: ArchivePath) -> tuple[list[dict], bool]:
        """The entries of a directory, and whether that listing can never change."""
        if where.asset is None:
            assets = await self.aclient.assets()
            return [directory(a.slug, *asset_totals(a), label=a.label) for a in assets], False
        if where.product is None:
            asset = await self._asset(str(where), where.asset)
            return [
                directory(paths.join(asset.slug, p.slug), *service_totals(p.s3_services))
                for p in asset.products if p.s3_services
            ], False
        if len(where.date) == 3:
            return await self._list_day(where)
        days = await self._days_inside(where)
        keys = paths.folder_key(days["starting"], len(where.date) + 1).to_numpy()
        entries = [directory(paths.join(where.asset, where.product, key), total(group["size"]),
                              total(group["count"])) for key, group in days.groupby(keys)]
        return entries, False

    async def _list_day(self, where: ArchivePath) -> tuple[list[dict], bool]:
        start, stop = where.period()
        end = stop - MICROSECOND
        await self._services(str(where), where.asset, where.product)
        entries = []
        async for listing in self.aclient.iter_elements(where.asset, where.product, start, end):
            entries.extend(file_info(str(where), e, listing.window.service.slug)
                           for e in listing.elements)
        if not entries:
            raise _not_found(str(where), "no files on that UTC day (night, outage or out of "
                             "range)")
        entries.sort(key=lambda e: (e["time"], e["name"]))
        over = end < pd.Timestamp.now(tz="UTC")
        return entries, over

    async def _info(self, path: str, **kwargs: Any) -> dict[str, Any]:
        where = paths.parse(path)
        path = str(where)
        if where.asset is None:
            return directory("")
        if where.is_file:
            for entry in await self._ls(where.folder):
                if entry["name"] == path:
                    return entry
            raise _not_found(path)
        asset = await self._asset(path, where.asset)
        if where.product is None:
            return directory(asset.slug, *asset_totals(asset), label=asset.label)
        services = await self._services(path, where.asset, where.product)
        if not where.date:
            return directory(path, *service_totals(services))
        inside = await self._days_inside(where)
        return directory(path, total(inside["size"]), total(inside["count"]))

    async def _walk(self, path: str, maxdepth: int | None = None, **kwargs: Any):
        # Every day under `path` is listed concurrently first; fsspec's own walk
        # (and find, glob, get, du built on it) then reads them from the cache.
        if not kwargs.pop("_prefetched", False):
            await self._prefetch_days(path, maxdepth)
        async for item in super()._walk(path, maxdepth=maxdepth, _prefetched=True, **kwargs):
            yield item

    async def _glob(self, path: str, maxdepth: int | None = None, **kwargs: Any):
        pattern = self._strip_protocol(path)
        days = await day_folders(self._ls, pattern)
        if days is None:
            return await super()._glob(path, maxdepth=maxdepth, **kwargs)
        listings = await asyncio.gather(*(self._ls(day) for day in days))
        found = matching(pattern, (e for listing in listings for e in listing))
        return {e["name"]: e for e in found} if kwargs.get("detail") else \
            [e["name"] for e in found]

    async def _prefetch_days(self, path: str, maxdepth: int | None) -> None:
        try:
            where = paths.parse(path)
        except FileNotFoundError:
            return  # the walk reports it as it would anyway
        if where.asset is None or len(where.date) == 3 or where.is_file:
            return  # the whole archive, a single day, or a file: nothing to batch
        if maxdepth is not None and where.depth + maxdepth < FILE_DEPTH:
            return  # the walk stops above the files
        try:
            if where.product is None:
                products = [paths.parse(e["name"]) for e in await self._ls(path)]
            else:
                products = [where]
            days = []
            for product in products:
                inside = await self._days_inside(product)
                days.extend(paths.day_folder(product.asset, product.product, day)
                            for day in inside["starting"])
        except FileNotFoundError:
            return  # the walk reports it as it would anyway
        missing = [d for d in days if d not in self.dircache]
        await asyncio.gather(*(self._ls(d) for d in missing), return_exceptions=True)

    async def _du(self, path: str, total: bool = True, maxdepth: int | None = None,
                  **kwargs: Any):
        if total and maxdepth is None and not kwargs.get("withdirs"):
            # From the statistics or the inventory, when they know it: no file is listed.
            size = (await self._info(path))["size"]
            if size is not None:
                return size
        return await super()._du(path, total=total, maxdepth=maxdepth, **kwargs)

    # -- reading -----------------------------------------------------------------
    async def _cat_file(self, path: str, start: int | None = None, end: int | None = None,
                        **kwargs: Any) -> bytes:
        info = await self._file(path)
        size = info["size"]
        if (start is not None and start < 0) or (end is not None and end < 0):
            if size is None:  # rare: fetched once, whole, and cut here
                return (await self.aclient.fetch(info["url"]))[start:end]
            start = max(size + start, 0) if start is not None and start < 0 else start
            end = size + end if end is not None and end < 0 else end
        data = await self.aclient.fetch(info["url"], start, end, size=size)
        if start is None and end is None and size is not None and len(data) != size:
            raise TruncatedDownloadError(
                f"{paths.archive_url(info['name'])} arrived with {len(data)} bytes; the "
                f"listing says {size}.")
        return data

    async def _get(self, *args: Any, **kwargs: Any) -> Any:
        # fsspec lets the other transfers of a get run on after it was cancelled (Ctrl-C)
        # or, before 2026.4, after it raised, their temporary files still there: they are
        # cancelled and awaited here.
        reset = _TRANSFERS.set(transfers := set())
        try:
            return await super()._get(*args, **kwargs)
        except BaseException:
            running = transfers - {asyncio.current_task()}
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
            raise
        finally:
            _TRANSFERS.reset(reset)

    async def _get_file(self, rpath: str, lpath: str, callback=DEFAULT_CALLBACK,
                        **kwargs: Any) -> None:
        if (transfers := _TRANSFERS.get()) is not None:
            transfers.add(asyncio.current_task())
        info = await self._info(rpath)
        if info["type"] == "directory":  # recursive get lists folders too
            os.makedirs(lpath, exist_ok=True)
            return
        # Through the client: with cache_files, a kept file costs no request.
        await self.aclient.download(info["url"], lpath, size=info["size"], callback=callback)

    async def _file(self, path: str) -> dict[str, Any]:
        info = await self._info(path)
        return _a_file(info)

    def _open(self, path: str, mode: str = "rb", block_size: int | None = None,
              autocommit: bool = True, cache_type: str = "readahead",
              cache_options: dict | None = None, **kwargs: Any) -> WebcoosFile:
        if mode != "rb":
            _read_only()
        info = _a_file(self.info(path))
        return WebcoosFile(self, info, block_size=block_size, cache_type=cache_type,
                           cache_options=cache_options)

    def modified(self, path: str) -> dt.datetime:
        """Start time of the element (UTC); WebCOOS keeps no modification times."""
        return self._file_sync(path)["time"]

    def created(self, path: str) -> dt.datetime:
        """Start time of the element (UTC)."""
        return self._file_sync(path)["time"]

    def ukey(self, path: str) -> str:
        """A key that changes when the file does: its uuid and size."""
        info = self._file_sync(path)
        return hashlib.sha256(f"{info['uuid']}:{info['size']}".encode()).hexdigest()

    def _file_sync(self, path: str) -> dict[str, Any]:
        return run(self._file, path, loop=self.loop)

    # -- the blocking faces: each through the one bridge (Ctrl-C cancels the work) ----
    ls = blocking(_ls, doc=AbstractFileSystem.ls.__doc__)
    info = blocking(_info, doc=AbstractFileSystem.info.__doc__)
    cat_file = blocking(_cat_file, doc=AbstractFileSystem.cat_file.__doc__)
    cat = blocking(AsyncFileSystem._cat, doc=AbstractFileSystem.cat.__doc__)
    cat_ranges = blocking(AsyncFileSystem._cat_ranges, doc=AbstractFileSystem.cat_ranges.__doc__)
    get_file = blocking(_get_file, doc=AbstractFileSystem.get_file.__doc__)
    get = blocking(_get, doc=AbstractFileSystem.get.__doc__)
    find = blocking(AsyncFileSystem._find, doc=AbstractFileSystem.find.__doc__)
    glob = blocking(_glob, doc=AbstractFileSystem.glob.__doc__)
    du = blocking(_du, doc=AbstractFileSystem.du.__doc__)
    exists = blocking(AsyncFileSystem._exists, doc=AbstractFileSystem.exists.__doc__)
    isdir = blocking(AsyncFileSystem._isdir, doc=AbstractFileSystem.isdir.__doc__)
    isfile = blocking(AsyncFileSystem._isfile, doc=AbstractFileSystem.isfile.__doc__)
    size = blocking(AsyncFileSystem._size, doc=AbstractFileSystem.size.__doc__)
    sizes = blocking(AsyncFileSystem._sizes, doc=AbstractFileSystem.sizes.__doc__)
    expand_path = blocking(AsyncFileSystem._expand_path,
                           doc=AbstractFileSystem.expand_path.__doc__)

    def walk(self, path: str, maxdepth: int | None = None, topdown: bool = True,
             on_error: str = "omit", **kwargs: Any):
        """As :meth:`fsspec.spec.AbstractFileSystem.walk`; the days are listed concurrently."""
        walking = self._walk(path, maxdepth=maxdepth, topdown=topdown, on_error=on_error,
                             **kwargs)
        try:
            while True:
                try:
                    yield run(walking.__anext__, loop=self.loop)
                except StopAsyncIteration:
                    return
        finally:
            run(walking.aclose, loop=self.loop)

    # -- WebCOOS is read-only -------------------------------------------------------
    async def _read_only_async(self, *args: Any, **kwargs: Any) -> None:
        _read_only()

    def _read_only_sync(self, *args: Any, **kwargs: Any) -> None:
        _read_only()

    _rm_file = _rm = _cp_file = _pipe_file = _put_file = _mkdir = _makedirs = _mv_file = (
        _read_only_async
    )
    rmdir = touch = mv = _read_only_sync


# fsspec builds the blocking methods from the async ones at class creation, before
# the read-only overrides above exist; point those at the refusals too.
for _name in ("rm_file", "rm", "cp_file", "pipe_file", "put_file", "mkdir", "makedirs",
              "copy", "cp", "put", "pipe", "mv_file"):
    setattr(WebcoosFileSystem, _name, WebcoosFileSystem._read_only_sync)


def _restore_filesystem(cls: type, args: tuple, options: dict[str, Any],
                        listings: dict[str, Any]) -> WebcoosFileSystem:
    fs = make_instance(cls, args, options)
    fs.dircache.restore(listings)
    return fs


def _a_file(info: dict[str, Any]) -> dict[str, Any]:
    """``info`` if it describes a file; NotAFileError (an IsADirectoryError) for a folder."""
    if info["type"] != "file":
        raise NotAFileError(f"{paths.archive_url(info['name'])} is a directory, not a file.")
    return info


def _read_only() -> None:
    raise ReadOnlyError(
        "WebCOOS is read-only: webcoos:// paths can be listed and read, not written, "
        "copied within, moved or deleted. Copy files to local disk with fs.get(...)."
    )


__all__ = ["ListingCache", "WebcoosFile", "WebcoosFileSystem"]
