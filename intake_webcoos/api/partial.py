"""A download under way: the bytes written so far, and how to ask for the rest.

When a transfer breaks, the next attempt asks for the bytes after those already
in the temporary file (``Range: bytes=N-``), with ``If-Range`` and the ETag of
the first answer, so an 85 MB clip cut at 80 MB costs 5 MB more, not 85.  A
206 answer is used only if its ``Content-Range`` starts at N and its total is
the listed size; otherwise, or when the host answers 200 (it ignores ``Range``
or the file changed), the file is written again from the start.
"""

from __future__ import annotations

import os
import re
from typing import Any

import aiohttp

from intake_webcoos.api.bodies import BodyTooLarge, oversized_file, stream_to
from intake_webcoos.errors import TruncatedDownloadError

_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")


class Partial:
    """One file being downloaded to a temporary path.

    Parameters
    ----------
    path : str
        The temporary file.
    size : int or None
        The listed size.
    limit : int
        The most bytes the file may have.
    callback : fsspec.callbacks.Callback or None
        Told the size, then each chunk written.
    url : str
        The file's URL (for messages).
    """

    def __init__(self, path: str, size: int | None, limit: int, callback: Any,
                 url: str) -> None:
        self.path, self.size, self.limit = path, size, limit
        self.callback, self.url = callback, url
        self.etag: str | None = None

    @property
    def written(self) -> int:
        """Bytes in the temporary file."""
        return os.path.getsize(self.path) if os.path.exists(self.path) else 0

    def headers(self) -> dict[str, str]:
        """What the next attempt asks for: the rest of the file, if some is written."""
        done = self.written
        if done == 0 or (self.size is not None and done >= self.size):
            return {}
        headers = {"Range": f"bytes={done}-"}
        if self.etag:
            headers["If-Range"] = self.etag
        return headers

    async def save(self, response: aiohttp.ClientResponse) -> int:
        """Write (or append) the answer's body; returns the bytes of the whole file.

        Raises
        ------
        TruncatedDownloadError
            The file is longer, or (once complete) shorter, than its listed size.
        """
        done = self.written
        resumed = response.status == 206
        if resumed and not self._continues(response, done):
            os.unlink(self.path)  # the host resumed somewhere else: start over
            raise aiohttp.ClientPayloadError(f"{self.url}: a resumed transfer did not "
                                             f"continue at byte {done}")
        if not resumed:
            done = 0
            self.etag = response.headers.get("ETag")
        if self.callback is not None:
            self.callback.set_size(self.size or response.content_length)
            self.callback.absolute_update(done)
        with open(self.path, "ab" if resumed else "wb") as out:
            try:
                written = await stream_to(response, out, done, self.limit, self.callback)
            except BodyTooLarge:  # says only the limit, which the error gives
                raise oversized_file(self.url, self.limit) from None
        if self.size is not None and written != self.size:
            raise TruncatedDownloadError(
                f"{self.url} arrived with {written} bytes, but the listing says {self.size}; "
                "nothing was written. Try again; if it persists, report it to WebCOOS.")
        return written

    def _continues(self, response: aiohttp.ClientResponse, done: int) -> bool:
        found = _CONTENT_RANGE.fullmatch(response.headers.get("Content-Range", "").strip())
        if found is None or int(found[1]) != done:
            return False
        etag = response.headers.get("ETag")
        if self.etag and etag and etag != self.etag:
            return False
        return self.size is None or found[3] == "*" or int(found[3]) == self.size
