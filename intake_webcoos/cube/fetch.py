"""Element files fetched inside dask tasks.

Tasks hold URLs (public, no token) and plain settings, so graphs pickle and run
on any worker.  Each worker process keeps one token-less client per set of
settings, so its tasks share one HTTP session on fsspec's IO loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import io
import os
import sys
import threading
import weakref
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from typing import Any

import fsspec.asyn
import pandas as pd
from fsspec.caching import BlockCache

from intake_webcoos.api.client import AsyncClient
from intake_webcoos.api.sync import run
from intake_webcoos.errors import WebcoosError

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


async def _fetch_one(client: AsyncClient, url: str, size: int | None) -> bytes | Exception:
    try:
        return await client.fetch(url, size=size)
    except (WebcoosError, FileNotFoundError) as exc:
        return exc


def fetch_batch(urls: tuple[str, ...], client_options: ClientOptions = (),
                sizes: tuple[int | None, ...] = ()) -> list[bytes | Exception]:
    """The bytes of ``urls``, fetched concurrently.

    ``sizes`` (the listed sizes, aligned with ``urls``) bound what each may send.
    A file that cannot be had is kept in place as its typed exception, so that
    only the chunk holding it fails (or masks it), not its neighbours.
    """
    client = file_client(client_options)

    async def everything() -> list[bytes | Exception]:
        return await asyncio.gather(*(_fetch_one(client, u, s) for u, s in
                                      zip(urls, sizes or [None] * len(urls), strict=True)))

    return run(everything)


#: The files of the chunks on one side of a chunk, nearest first: URLs and sizes.
Side = tuple[tuple[str, ...], tuple[int | None, ...]]
NO_SIDE: Side = ((), ())


class _Ahead:
    """Fetches started for chunks not yet running, claimed by the chunk that needs them.

    A chunk task is given the files of the chunks on both sides of it.  When the
    chunk on one side has started (or is done), the computation is moving the
    other way, and the files of that side are started now, so the next chunk
    finds its first files arrived instead of waiting a round trip.  A lone chunk
    (a frame picked with ``isel``) fetches nothing more.  Files claimed by a
    running chunk, or done in this computation, are not fetched again; at most
    :data:`AHEAD_LIMIT` unclaimed fetches are kept (the oldest are cancelled), for
    :data:`AHEAD_SECONDS` at most.
    On a dask.distributed worker, whose neighbouring chunks may run elsewhere,
    nothing is fetched ahead.
    """

    def __init__(self) -> None:
        # Reentrant: a fetch_each left unclosed may be finalised by the collector while
        # this thread holds the lock (in claim), and its release takes the lock again.
        self.lock = threading.RLock()
        self.waiting: OrderedDict[tuple[ClientOptions, str], concurrent.futures.Future] = \
            OrderedDict()
        self.claimed: set[tuple[ClientOptions, str]] = set()
        self.done: OrderedDict[tuple[ClientOptions, str], None] = OrderedDict()

    def _seen(self, options: ClientOptions, side: Side) -> bool:
        return bool(side[0]) and ((options, side[0][0]) in self.claimed
                                  or (options, side[0][0]) in self.done)

    def claim(self, options: ClientOptions, urls: Sequence[str], sizes: Sequence[int | None],
              before: Side, after: Side) -> list[concurrent.futures.Future]:
        client, loop = file_client(options), fsspec.asyn.get_loop()

        def start(url: str, size: int | None) -> concurrent.futures.Future:
            return asyncio.run_coroutine_threadsafe(_fetch_one(client, url, size), loop)

        with self.lock:
            if any((options, u) in self.done for u in urls):
                self.done.clear()  # a new computation of the same frames: all is to come
            futures = [self.waiting.pop((options, u), None) or start(u, s)
                       for u, s in zip(urls, sizes, strict=True)]
            self.claimed.update((options, u) for u in urls)
            ahead = [side for side, behind in ((before, after), (after, before))
                     if self._seen(options, behind)]
            for url, size in (pair for side in ahead for pair in zip(*side, strict=True)):
                key = (options, url)
                if key not in self.waiting and key not in self.claimed and key not in self.done:
                    self.waiting[key] = future = start(url, size)
                    # A weak reference: the timer must not keep a claimed file's bytes.
                    loop.call_soon_threadsafe(loop.call_later, AHEAD_SECONDS, self._expire,
                                              key, weakref.ref(future))
            while len(self.waiting) > AHEAD_LIMIT:
                self.waiting.popitem(last=False)[1].cancel()
        return futures

    def _expire(self, key: tuple[ClientOptions, str],
                future: weakref.ref[concurrent.futures.Future]) -> None:
        """Drop a fetch nobody claimed in time (its bytes would wait in memory)."""
        with self.lock:
            waiting = self.waiting.get(key)
            if waiting is not None and waiting is future():
                del self.waiting[key]
                waiting.cancel()

    def release(self, options: ClientOptions, urls: Sequence[str]) -> None:
        with self.lock:
            for url in urls:
                self.claimed.discard((options, url))
                self.done[options, url] = None
            while len(self.done) > 8 * AHEAD_LIMIT:
                self.done.popitem(last=False)

    def forget(self) -> None:
        """Drop every fetch ahead and what was done (see :func:`forget_fetched_ahead`)."""
        with self.lock:
            for future in self.waiting.values():
                future.cancel()
            self.waiting.clear()
            self.done.clear()


def forget_fetched_ahead() -> None:
    """Drop the files this process fetched ahead and has not handed out yet.

    Element files never change, so a file fetched ahead is good whenever it is
    claimed.  Where one URL may come to name another file (a test server started
    again on the port of one that stopped), forget them in between.
    """
    _ahead.forget()


def _on_distributed_worker() -> bool:
    """Whether this runs in a task on a dask.distributed worker (never imported for this)."""
    distributed = sys.modules.get("distributed")
    if distributed is None:
        return False
    try:
        distributed.get_worker()
    except ValueError:
        return False
    return True


#: Unclaimed look-ahead fetches a process keeps at most, and for how long (seconds);
#: see :class:`_Ahead`.  Chunk tasks ask for 32 files a side (``images.AHEAD``).
AHEAD_LIMIT = 64
AHEAD_SECONDS = 30.0
_ahead = _Ahead()


def fetch_each(urls: tuple[str, ...], client_options: ClientOptions = (),
               sizes: tuple[int | None, ...] = (), before: Side = NO_SIDE,
               after: Side = NO_SIDE) -> Iterator[bytes | Exception]:
    """The bytes of ``urls`` in order, each given as soon as it has arrived.

    All are fetched concurrently (as :func:`fetch_batch`, whose rules apply), so a
    chunk decodes its first frame while the others are still on the way.  The
    files of the neighbouring chunks (``before``, ``after``) may be started too,
    for the tasks that will claim them (see :class:`_Ahead`).  Fetches not yet
    consumed are cancelled when the iterator is closed.
    """
    if _on_distributed_worker():
        before = after = NO_SIDE
    sizes = sizes or (None,) * len(urls)
    futures = _ahead.claim(client_options, urls, sizes, before, after)
    try:
        for future, url, size in zip(futures, urls, sizes, strict=True):
            try:
                yield future.result()
            except concurrent.futures.CancelledError:
                # A fetch ahead that was let go (over the limit, or late) just as this
                # chunk claimed it: fetched again, not lost.
                yield fetch_batch((url,), client_options, (size,))[0]
    finally:
        for future in futures:
            future.cancel()
        _ahead.release(client_options, urls)


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
