"""Element files read without the API: public URLs and plain settings, in any process.

Dask tasks hold URLs (public, no token) and client settings, so graphs pickle
and run on any worker.  :func:`element_files` gives each process one token-less
:class:`ElementFiles` per set of settings, so its tasks share one HTTP session on
fsspec's IO loop (and the file cache, when the settings keep files).
"""

from __future__ import annotations

import asyncio
import os
import threading
from typing import Any

import fsspec.asyn
import pandas as pd

from intake_webcoos.api.bridge import run
from intake_webcoos.api.client import AsyncClient
from intake_webcoos.errors import WebcoosError
from intake_webcoos.fs.file import WebcoosFile

#: Client settings as sorted ``(name, value)`` pairs (retries, timeouts, concurrency, cache).
ClientOptions = tuple[tuple[str, Any], ...]
Sizes = tuple[int | None, ...]


class ElementFiles:
    """The element files of one process and one set of settings: fetched, or opened.

    Files never need the token, so none is held; see :func:`element_files`.
    """

    def __init__(self, options: ClientOptions = ()) -> None:
        self.options = options
        self.aclient = AsyncClient(token=None, **dict(options))
        self.loop = fsspec.asyn.get_loop()

    async def fetch_one(self, url: str, size: int | None) -> bytes | Exception:
        """The bytes of ``url``, or the typed error that kept them (held in its place)."""
        try:
            return await self.aclient.fetch(url, size=size)
        except (WebcoosError, FileNotFoundError) as exc:
            return exc

    async def fetch_all(self, urls: tuple[str, ...], sizes: Sizes) -> list[bytes | Exception]:
        return await asyncio.gather(*(self.fetch_one(u, s) for u, s in
                                      zip(urls, sizes or (None,) * len(urls), strict=True)))

    def open(self, url: str, size: int | None, **options: Any) -> WebcoosFile:
        """``url`` as a seekable file of ranged reads (``size`` None: fetched once, whole)."""
        return WebcoosFile(self, {"name": url, "url": url, "size": size}, **options)


_instances: dict[tuple[int, ClientOptions], ElementFiles] = {}
_instances_lock = threading.Lock()


def element_files(options: ClientOptions = ()) -> ElementFiles:
    """This process's :class:`ElementFiles` for client settings ``options``."""
    key = (os.getpid(), options)
    with _instances_lock:
        files = _instances.get(key)
        if files is None:
            files = _instances[key] = ElementFiles(options)
        return files


def fetch_batch(urls: tuple[str, ...], client_options: ClientOptions = (),
                sizes: Sizes = ()) -> list[bytes | Exception]:
    """The bytes of ``urls``, fetched concurrently.

    ``sizes`` (the listed sizes, aligned with ``urls``) bound what each may send.
    A file that cannot be had is kept in place as its typed exception, so that
    only the chunk holding it fails (or masks it), not its neighbours.
    """
    files = element_files(client_options)
    return run(files.fetch_all, urls, sizes, loop=files.loop)


def listed_sizes(listing: pd.DataFrame) -> Sizes:
    """The ``size`` column of a listing as plain ints (None where the API gives none)."""
    return tuple(None if pd.isna(size) else int(size) for size in listing["size"])


__all__ = ["ClientOptions", "ElementFiles", "element_files", "fetch_batch", "listed_sizes"]
