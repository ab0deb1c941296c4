"""Files fetched once per process and read by many tasks there (video clips).

A clip is tens of MB that dozens of chunk tasks decode.  Were its bytes an
ordinary task result, a cluster would copy them to whichever worker ran a chunk
of it (work stealing does, whatever the placement).  So a *share* task per clip
returns a :class:`LocalFile`: the bytes in its own process, released when dask
releases the result (after the clip's last chunk), and reported at their size
(``sys.getsizeof``) so that the scheduler keeps the chunks beside them and
counts their memory.  Pickled, a :class:`LocalFile` carries only its URL: a
worker that receives one (a stolen task, a spilled result) fetches the bytes
itself, once for all its tasks (:class:`SharedFiles`).  Clip bytes never travel
between workers.
"""

from __future__ import annotations

import sys
import threading
import weakref
from typing import Any

from intake_webcoos.fs.element_files import ClientOptions, fetch_batch


class LocalFile:
    """A file's bytes (or the typed error that kept them) in this process; pickles to its URL.

    Parameters
    ----------
    url : str
        The file's public URL.
    size : int or None
        Its listed size (bounds what the server may send).
    options : tuple of (name, value)
        The file client's settings.
    """

    __slots__ = ("__weakref__", "_data", "_here", "options", "size", "url")

    def __init__(self, url: str, size: int | None, options: ClientOptions = (),
                 data: bytes | Exception | None = None) -> None:
        self.url, self.size, self.options, self._data = url, size, options, data
        self._here: LocalFile | None = None  # once unpickled: this process's copy

    def __reduce__(self) -> tuple[Any, ...]:
        return (LocalFile, (self.url, self.size, self.options))  # never the bytes

    def __sizeof__(self) -> int:
        data = self._data if self._here is None else self._here._data
        return object.__sizeof__(self) + (len(data) if isinstance(data, bytes) else 0)

    def __repr__(self) -> str:
        return f"LocalFile({self.url!r}, {sys.getsizeof(self)} bytes here)"

    def data(self) -> bytes | Exception:
        """The bytes, from this object or, once unpickled, from this process's copy
        (fetched by the first task that asks; held while this object is)."""
        if self._data is not None:
            return self._data
        if self._here is None:
            self._here = SHARED.file(self.url, self.size, self.options)
        return self._here.data()


class SharedFiles:
    """The :class:`LocalFile` objects alive in a process, one per URL, each fetched once.

    A fetch in progress is shared by every task that asks for the same file
    meanwhile; a file is kept only while something holds its :class:`LocalFile`.
    """

    def __init__(self) -> None:
        self.fetches = 0  # files fetched, for tests and benchmarks
        self._alive: weakref.WeakValueDictionary[str, LocalFile] = weakref.WeakValueDictionary()
        self._pending: dict[str, threading.Event] = {}
        self._lock = threading.Lock()

    def file(self, url: str, size: int | None, options: ClientOptions = ()) -> LocalFile:
        """``url``'s :class:`LocalFile` in this process, fetched if none is alive."""
        while True:
            with self._lock:
                alive = self._alive.get(url)
                if alive is not None:
                    return alive
                waiting = self._pending.get(url)
                if waiting is None:
                    self._pending[url] = threading.Event()
            if waiting is None:
                return self._fetch(url, size, options)
            waiting.wait()  # another task fetches it: take it, or fetch if it is gone

    def _fetch(self, url: str, size: int | None, options: ClientOptions) -> LocalFile:
        try:
            (data,) = fetch_batch((url,), options, (size,))
            local = LocalFile(url, size, options, data)
            with self._lock:
                self.fetches += 1
                self._alive[url] = local
            return local
        finally:  # also when interrupted: the waiting tasks then fetch it themselves
            with self._lock:
                done = self._pending.pop(url)
            done.set()


#: This process's shared files.
SHARED = SharedFiles()


def share(url: str, size: int | None, options: ClientOptions = ()) -> LocalFile:
    """The share task: ``url``'s bytes in this process, as a :class:`LocalFile`."""
    return SHARED.file(url, size, options)


__all__ = ["SHARED", "LocalFile", "SharedFiles", "share"]
