"""The filesystem's cache of directory listings, some of which never expire."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, MutableMapping
from typing import Any

Listing = list[dict[str, Any]]
#: Listings with when each was made (``math.inf``: never expires), as pickles carry them.
Snapshot = dict[str, tuple[Listing, float]]


class ListingCache(MutableMapping[str, Listing]):
    """Directory listings by path (what fsspec keeps as ``fs.dircache``), some kept for good.

    The files of a UTC day that is over do not change, so their listings are
    kept for good (:meth:`put` with ``permanent=True``); everything else (today,
    and every level built from the camera list or the inventory) expires after
    ``listings_expiry_time`` seconds (None: never).  The expiry times are this
    class's own, not fsspec's.

    Parameters
    ----------
    use_listings_cache : bool
        False keeps nothing (every listing is made afresh).
    listings_expiry_time : float, optional
        Seconds a listing stays valid; None keeps every listing for good.
    """

    def __init__(self, use_listings_cache: bool = True,
                 listings_expiry_time: float | None = None) -> None:
        self.use_listings_cache = use_listings_cache
        self.listings_expiry_time = listings_expiry_time
        self._entries: dict[str, tuple[Listing, float]] = {}

    def _expired(self, made: float) -> bool:
        return (self.listings_expiry_time is not None
                and time.time() - made > self.listings_expiry_time)

    def __getitem__(self, path: str) -> Listing:
        listing, made = self._entries[path]
        if self._expired(made):
            del self._entries[path]
            raise KeyError(path)
        return listing

    def __setitem__(self, path: str, listing: Listing) -> None:
        self.put(path, listing, permanent=False)

    def put(self, path: str, listing: Listing, *, permanent: bool) -> None:
        """Keep ``listing`` of ``path``; a ``permanent`` one never expires."""
        if self.use_listings_cache:
            self._entries[path] = (listing, math.inf if permanent else time.time())

    def __delitem__(self, path: str) -> None:
        del self._entries[path]

    def __iter__(self) -> Iterator[str]:
        return iter([path for path in list(self._entries) if path in self])

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __reduce__(self):
        return (ListingCache, (self.use_listings_cache, self.listings_expiry_time))

    def snapshot(self) -> Snapshot:
        """The listings still valid, with when each was made (to pickle them)."""
        return {path: self._entries[path] for path in self}

    def restore(self, snapshot: Snapshot) -> None:
        """Take listings from a :meth:`snapshot`, keeping their age (and permanence)."""
        if not self.use_listings_cache:
            return
        for path, (listing, made) in snapshot.items():
            if path not in self and not self._expired(made):
                self._entries[path] = (listing, made)
