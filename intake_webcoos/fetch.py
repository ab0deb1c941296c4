"""Element files fetched inside dask tasks.

Tasks hold URLs (public, no token) and plain settings, so graphs pickle and run
on any worker.  Each worker process keeps one token-less client per set of
settings, so its tasks share one HTTP session on fsspec's IO loop.
"""

from __future__ import annotations

import asyncio
import io
import os
import threading
from typing import Any

import pandas as pd
from fsspec.caching import BlockCache

from .api.client import AsyncClient
from .api.sync import run
from .errors import WebcoosError

ClientOptions = tuple[tuple[str, Any], ...]
_clients: dict[tuple[int, ClientOptions], AsyncClient] = {}
_clients_lock = threading.Lock()


def file_client(options: ClientOptions = ()) -> AsyncClient:
    """This process's token-less client for element files (one session per process).

    ``options`` are client settings as sorted ``(name, value)`` pairs (retries,
    timeouts, concurrency); files never need the token, so none is held.
    """
    key = (os.getpid(), options)
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            client = _clients[key] = AsyncClient(token=None, **dict(options))
        return client


def listed_sizes(listing: pd.DataFrame) -> tuple[int | None, ...]:
    """The ``size`` column of a listing as plain ints (None where the API gives none)."""
    return tuple(None if pd.isna(size) else int(size) for size in listing["size"])


def fetch_batch(urls: tuple[str, ...], client_options: ClientOptions = (),
                sizes: tuple[int | None, ...] = ()) -> list[bytes | Exception]:
    """The bytes of ``urls``, fetched concurrently.

    ``sizes`` (the listed sizes, aligned with ``urls``) bound what each may send.
    A file that cannot be had is kept in place as its typed exception, so that
    only the chunk holding it fails (or masks it), not its neighbours.
    """
    client = file_client(client_options)

    async def one(url: str, size: int | None) -> bytes | Exception:
        try:
            return await client.fetch(url, size=size)
        except (WebcoosError, FileNotFoundError) as exc:
            return exc

    async def everything() -> list[bytes | Exception]:
        return await asyncio.gather(*(one(u, s) for u, s in
                                      zip(urls, sizes or [None] * len(urls), strict=True)))

    return run(everything)


class RangedFile(io.RawIOBase):
    """A read-only, seekable file over HTTP range requests of an element's public URL.

    Only the parts read are fetched (in blocks, kept by fsspec's ``BlockCache``),
    so reading a container's header costs a few hundred kB, not the whole clip.

    Parameters
    ----------
    url : str
        The element's URL (no token is sent).
    size : int
        Its size in bytes (from the listing).
    client_options : tuple of (name, value)
        Settings of this process's file client.
    block_size : int
        Bytes fetched per request.
    """

    def __init__(self, url: str, size: int, client_options: ClientOptions = (),
                 block_size: int = 2**18) -> None:
        super().__init__()
        self.url, self.size = url, size
        self._client = file_client(client_options)
        self._cache = BlockCache(block_size, self._fetch, size, maxblocks=32)
        self._position = 0

    def _fetch(self, start: int, end: int) -> bytes:
        return run(self._client.fetch, self.url, start, end)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        origin = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self.size}[whence]
        self._position = max(0, origin + offset)
        return self._position

    def readinto(self, buffer: Any) -> int:
        stop = min(self._position + len(buffer), self.size)
        if stop <= self._position:
            return 0
        data = self._cache._fetch(self._position, stop)
        buffer[: len(data)] = data
        self._position += len(data)
        return len(data)
