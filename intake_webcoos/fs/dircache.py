"""The filesystem's cache of directory listings, some of which never expire."""

from __future__ import annotations

import math
from typing import Any

from fsspec.dircache import DirCache


class ListingCache(DirCache):
    """A :class:`~fsspec.dircache.DirCache` in which some listings never expire.

    The files of a UTC day that is over do not change, so their listings are
    kept for good; everything else (today, and every level built from the
    camera list or the inventory) expires after ``listings_expiry_time``.
    """

    def put(self, path: str, listing: list[dict[str, Any]], *, permanent: bool) -> None:
        self[path] = listing
        if permanent and self.use_listings_cache and self.listings_expiry_time is not None:
            self._times[path] = math.inf

    def __reduce__(self):
        return (ListingCache, (self.use_listings_cache, self.listings_expiry_time,
                               self.max_paths))

    def snapshot(self) -> dict[str, tuple[list[dict[str, Any]], float | None]]:
        """The listings still valid, with when each was made (to pickle them)."""
        return {path: (self[path], self._times.get(path)) for path in list(self)}

    def restore(self, snapshot: dict[str, tuple[list[dict[str, Any]], float | None]]) -> None:
        """Take listings from a :meth:`snapshot`, keeping their age (and permanence)."""
        for path, (listing, made) in snapshot.items():
            if path not in self:
                self[path] = listing
                if made is not None and self.listings_expiry_time is not None:
                    self._times[path] = made
