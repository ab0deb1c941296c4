"""Read-ahead for a cube's chunks: the next chunk's files in flight while one decodes.

A :class:`Prefetcher` belongs to one cube: it knows the cube's chunks in order
(their URLs and listed sizes).  A chunk task claims its files from it and gets
the fetches already started for them; once a neighbour of the chunk has run,
the computation is known to move away from it, and the files of the chunks on
the other side are started for the tasks that will claim them.  What it holds
is bounded in bytes, by the files' listed sizes, not in files (a still of a
4 MP camera is seven times one of 1280x720): a claim starts at most ``ahead``
bytes of files beyond its chunk, the unclaimed fetches hold at most ``limit``
bytes (the oldest are cancelled), and any not claimed within ``seconds`` are
let go (checked at each claim: no timers).

With the threaded scheduler every task of the cube shares the one instance.  A
pickled prefetcher (dask.distributed, whose neighbouring chunks may run on other
workers) arrives empty and fetches only each chunk's own files.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Sequence

from dask.base import tokenize

from intake_webcoos.api.bridge import Pending, start
from intake_webcoos.fs.element_files import ClientOptions, Sizes, element_files

#: The files of one chunk: URLs and listed sizes.
Chunk = tuple[tuple[str, ...], Sizes]
#: Bytes of files a claim starts beyond its chunk, by default: the next chunks' files
#: arrive while the running ones decode (two chunks of eight 4 MP stills).
AHEAD_BYTES = 32 * 2**20
#: Bytes of unclaimed fetches held at most, by default.
LIMIT_BYTES = 64 * 2**20
#: What a file the listing gives no size for counts in those bounds.
UNKNOWN_SIZE = 2**20


class Prefetcher:
    """Fetches of a cube's element files, claimed chunk by chunk (see the module).

    Parameters
    ----------
    chunks : sequence of (urls, sizes)
        The cube's chunks in order.
    options : tuple of (name, value)
        Client settings of the file reads (:func:`~intake_webcoos.fs.element_files.element_files`).
    ahead : int
        Bytes of files of the chunks beyond a claimed chunk started at most
        (nearest first; listed sizes, :data:`UNKNOWN_SIZE` for a file without one).
    limit : int
        Bytes of unclaimed fetches held at most.
    seconds : float
        How long an unclaimed fetch is held.
    """

    def __init__(self, chunks: Sequence[Chunk], options: ClientOptions = (), *,
                 ahead: int = AHEAD_BYTES, limit: int = LIMIT_BYTES,
                 seconds: float = 30.0) -> None:
        self.chunks, self.options = tuple(chunks), options
        self.ahead, self.limit, self.seconds = ahead, limit, seconds
        self._lock = threading.Lock()
        # URL -> (fetch, when started, bytes counted): oldest first.
        self._waiting: OrderedDict[str, tuple[Pending, float, int]] = OrderedDict()
        self._running: set[int] = set()
        self._done: set[int] = set()
        self._token: str | None = None

    def __reduce__(self):
        # The in-flight fetches stay here; a copy elsewhere fetches each chunk's own files.
        return (Prefetcher, ((), self.options))

    def __dask_tokenize__(self) -> str:
        # Once: every task of the cube holds this prefetcher, and its chunks are all the URLs.
        if self._token is None:
            self._token = tokenize(self.chunks, self.options)
        return self._token

    @property
    def waiting(self) -> list[str]:
        """URLs fetched ahead and not claimed yet, oldest first."""
        with self._lock:
            return list(self._waiting)

    def files(self, index: int, urls: tuple[str, ...], sizes: Sizes
              ) -> Iterator[bytes | Exception]:
        """The bytes of chunk ``index`` (``urls``), in order, each as soon as it has arrived.

        A file that cannot be had comes as its typed exception.  Fetches not yet
        consumed are cancelled when the iterator is closed.
        """
        sizes = sizes or (None,) * len(urls)
        pending = self._claim(index, urls, sizes)
        try:
            for fetch in pending:
                yield fetch.result()
        finally:
            for fetch in pending:
                fetch.cancel()
            with self._lock:
                self._running.discard(index)
                self._done.add(index)

    def _start(self, url: str, size: int | None) -> Pending:
        files = element_files(self.options)
        return start(files.fetch_one, url, size, loop=files.loop)

    def _claim(self, index: int, urls: tuple[str, ...], sizes: Sizes) -> list[Pending]:
        now = time.monotonic()
        with self._lock:
            if index in self._done:
                self._done.clear()  # a new computation of the same chunks: all is to come
            for url, (fetch, started, _) in list(self._waiting.items()):
                if now - started > self.seconds:  # nobody came for it: its bytes would wait
                    del self._waiting[url]
                    fetch.cancel()
            pending = [self._waiting.pop(u, (None,))[0] or self._start(u, s)
                       for u, s in zip(urls, sizes, strict=True)]
            self._running.add(index)
            for url, size in self._ahead_of(index):
                if url not in self._waiting:
                    self._waiting[url] = (self._start(url, size), now, _counted(size))
            held = sum(counted for _, _, counted in self._waiting.values())
            while held > self.limit:
                fetch, _, counted = self._waiting.popitem(last=False)[1]
                fetch.cancel()
                held -= counted
        return pending

    def _ahead_of(self, index: int) -> Iterator[tuple[str, int | None]]:
        """The files to start for the chunks beyond ``index``, away from a neighbour that ran."""
        seen = self._running | self._done
        for step in (1, -1):
            if index - step in seen and 0 <= index - step < len(self.chunks):
                yield from self._beyond(index, step, seen)

    def _beyond(self, index: int, step: int, seen: set[int]
                ) -> Iterator[tuple[str, int | None]]:
        """Files of the chunks after ``index`` going ``step``, nearest first, ``ahead`` bytes."""
        started, i = 0, index + step
        while 0 <= i < len(self.chunks) and i not in seen:
            for url, size in zip(*self.chunks[i], strict=True):
                started += _counted(size)
                if started > self.ahead:
                    return
                yield url, size
            i += step


def _counted(size: int | None) -> int:
    """The bytes a file counts for in the bounds: its listed size, if any."""
    return UNKNOWN_SIZE if size is None else size


__all__ = ["Prefetcher"]
