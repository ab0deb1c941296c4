"""Element files fetched inside dask tasks.

Tasks hold URLs (public, no token) and plain settings, so graphs pickle and run
on any worker.  Each worker process keeps one token-less client per set of
settings, so its tasks share one HTTP session on fsspec's IO loop.
"""

from __future__ import annotations

import asyncio
import os
import threading
from typing import Any

from fsspec.asyn import get_loop, sync

from .api.client import AsyncClient
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


def fetch_batch(urls: tuple[str, ...], client_options: ClientOptions = ()
                ) -> list[bytes | Exception]:
    """The bytes of ``urls``, fetched concurrently.

    A file that cannot be had is kept in place as its typed exception, so that
    only the chunk holding it fails (or masks it), not its neighbours.
    """
    client = file_client(client_options)

    async def one(url: str) -> bytes | Exception:
        try:
            return await client.fetch(url)
        except (WebcoosError, FileNotFoundError) as exc:
            return exc

    async def everything() -> list[bytes | Exception]:
        return await asyncio.gather(*(one(u) for u in urls))

    return sync(get_loop(), everything)
