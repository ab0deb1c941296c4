"""The persistent cache: what the API and the file hosts answered, kept on disk per user.

Only what does not change, or changes slowly, is kept, each for as long as it
holds: the camera list for an hour, an inventory for a day, the listing of a
window that ended more than ``late_uploads`` ago until it is evicted (today's
never), and element files (when asked for) for good.  Keys name the API root
and what was asked, never the token.

The store is `diskcache <https://grantjenks.com/docs/diskcache/>`_: SQLite
with its writes in transactions and large values in files written before they
are committed, so entries are atomic and several processes (dask workers,
notebooks) share one directory safely; each kind has a size limit and the
least recently used entries go first.  Every value carries a digest of its
bytes, so an entry that was damaged on disk is detected, dropped and fetched
again, never returned.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import struct
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import diskcache
import platformdirs

CACHE_ENV = "WEBCOOS_CACHE"
CACHE_DIR_ENV = "WEBCOOS_CACHE_DIR"
#: The kinds of entry, and the sub-store each lives in.
KINDS = {"catalogue": "api", "inventory": "api", "listing": "api", "file": "files"}
_HEADER = struct.Struct("<16sd")  # digest of the payload, when it was stored (Unix time)
_stores: dict[tuple[str, int, int], Store] = {}
_stores_lock = threading.Lock()


def default_directory() -> Path:
    """Where the cache lives: ``$WEBCOOS_CACHE_DIR``, else the user's cache folder."""
    return Path(os.environ.get(CACHE_DIR_ENV) or platformdirs.user_cache_dir("intake-webcoos"))


def enabled_by_default() -> bool:
    """False when ``WEBCOOS_CACHE`` is ``off`` (or ``0``, ``false``, ``no``)."""
    return os.environ.get(CACHE_ENV, "on").strip().lower() not in ("off", "0", "false", "no")


def _digest(payload: bytes) -> bytes:
    return hashlib.blake2b(payload, digest_size=16).digest()


@dataclass(frozen=True)
class Summary:
    """One kind of entry in the cache: how many, how many bytes, the oldest and newest."""

    kind: str
    count: int
    bytes: int
    oldest: float | None
    newest: float | None


class Store:
    """The cache in one directory, with a size limit per sub-store (API answers, files).

    Use :func:`store` to get the one of a directory (shared in the process).
    """

    def __init__(self, directory: str | os.PathLike, api_bytes: int, file_bytes: int) -> None:
        self.directory = Path(directory)
        limits = {"api": api_bytes, "files": file_bytes}
        # One entry culled per write: diskcache's default of ten can empty a store of
        # large files at once, the file just written included.
        self._caches = {name: diskcache.Cache(str(self.directory / name), size_limit=limit,
                                              eviction_policy="least-recently-used",
                                              cull_limit=1)
                        for name, limit in limits.items()}

    def _cache(self, kind: str) -> diskcache.Cache:
        return self._caches[KINDS[kind]]

    def get(self, kind: str, key: tuple[Any, ...], max_age: float | None = None
            ) -> bytes | None:
        """The payload stored under ``key``, or None (absent, too old, or damaged)."""
        cache = self._cache(kind)
        value = cache.get((kind, *key))
        if value is None:
            return None
        if not isinstance(value, bytes) or len(value) < _HEADER.size:
            cache.delete((kind, *key))
            return None
        digest, stored = _HEADER.unpack_from(value)
        payload = value[_HEADER.size:]
        if _digest(payload) != digest:  # damaged on disk: drop it, fetch it again
            cache.delete((kind, *key))
            return None
        if max_age is not None and time.time() - stored > max_age:
            return None
        return payload

    def put(self, kind: str, key: tuple[Any, ...], payload: bytes) -> None:
        """Keep ``payload`` under ``key`` (atomically; the least used entries may go)."""
        now = time.time()
        self._cache(kind).set((kind, *key), _HEADER.pack(_digest(payload), now) + payload,
                              tag=int(now))

    def summary(self) -> list[Summary]:
        """Count, bytes and age of each kind of entry."""
        found: dict[str, list[tuple[int, int]]] = {kind: [] for kind in KINDS}
        for cache in self._caches.values():
            for key in cache.iterkeys():
                value, stored = cache.get(key, read=True, tag=True)
                if value is not None:
                    found[key[0]].append((_size(value), stored))
        return [Summary(kind, len(rows), sum(size for size, _ in rows),
                        min((s for _, s in rows), default=None),
                        max((s for _, s in rows), default=None))
                for kind, rows in found.items()]

    def clear(self, older_than: float | None = None) -> int:
        """Remove every entry, or those stored more than ``older_than`` seconds ago."""
        if older_than is None:
            return sum(cache.clear() for cache in self._caches.values())
        cutoff = time.time() - older_than
        removed = 0
        for cache in self._caches.values():
            for key in list(cache.iterkeys()):
                _, stored = cache.get(key, read=True, tag=True)
                if stored is not None and stored < cutoff and cache.delete(key):
                    removed += 1
        return removed

    def volume(self) -> int:
        """Bytes the cache takes on disk."""
        return sum(cache.volume() for cache in self._caches.values())


def _size(value: Any) -> int:
    """Bytes of a value diskcache gave with ``read=True``: bytes, or an open file of them."""
    if isinstance(value, bytes):
        return len(value)
    with value:
        return value.seek(0, os.SEEK_END)


def store(directory: str | os.PathLike, api_bytes: int, file_bytes: int) -> Store:
    """The process's :class:`Store` of ``directory`` (opened once, shared by threads)."""
    key = (str(Path(directory).resolve()), api_bytes, file_bytes)
    with _stores_lock:
        found = _stores.get(key)
        if found is None:
            found = _stores[key] = Store(directory, api_bytes, file_bytes)
        return found


class ClientCache:
    """A client's view of the cache: keys under its API root, disk work off the event loop.

    Does nothing when the settings turn the cache off.

    Parameters
    ----------
    settings : Settings
        The client's settings (``cache``, ``cache_dir``, the limits, the API root).
    """

    def __init__(self, settings: Any) -> None:
        self._settings = settings
        self._store: Store | None = None
        self._opened = False

    @property
    def store(self) -> Store | None:
        """The store (opened on first use), or None when the cache is off."""
        if not self._opened:
            self._store, self._opened = self._settings.cache_store(), True
        return self._store

    async def get(self, kind: str, key: tuple[Any, ...], max_age: float | None = None
                  ) -> bytes | None:
        """What is kept under ``key`` for this API root, or None."""
        if self.store is None:
            return None
        return await asyncio.to_thread(self.store.get, kind, self._key(kind, key), max_age)

    async def put(self, kind: str, key: tuple[Any, ...], payload: bytes) -> None:
        """Keep ``payload`` under ``key`` for this API root."""
        if self.store is not None:
            await asyncio.to_thread(self.store.put, kind, self._key(kind, key), payload)

    def _key(self, kind: str, key: tuple[Any, ...]) -> tuple[Any, ...]:
        # Files are public and the same whoever asks; the rest is named by its API root.
        return key if kind == "file" else (self._settings.base_url, *key)
