"""An element file opened for reading: range requests on its public URL."""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

from fsspec.spec import AbstractBufferedFile

from intake_webcoos.api.bridge import run
from intake_webcoos.api.client import AsyncClient


class FileSource(Protocol):
    """What a :class:`WebcoosFile` reads through: a client and the loop it runs on."""

    aclient: AsyncClient
    loop: asyncio.AbstractEventLoop


class WebcoosFile(AbstractBufferedFile):
    """A WebCOOS element opened for reading: range requests on its public URL.

    A file of unknown size is fetched once, whole (bounded by ``max_file_bytes``),
    and every read is served from that copy; so is a file whose host answers
    range requests with the whole file (it ignores ``Range``): otherwise every
    block would cost the file up to its end again.  A read of the whole file is
    one plain request, served from the file cache when the client keeps files.

    Parameters
    ----------
    fs : WebcoosFileSystem or ElementFiles
        Where the client and its loop come from (see :class:`FileSource`).
    info : dict
        ``name``, ``url`` and ``size`` (None when unknown) of the file.
    """

    def __init__(self, fs: FileSource, info: dict[str, Any], *,
                 block_size: int | None = None, cache_type: str = "readahead",
                 cache_options: dict | None = None) -> None:
        self.url = info["url"]
        self._whole: bytes | None = None
        size = info["size"]
        if size is None:  # rare: read once, whole
            self._whole = run(fs.aclient.fetch, self.url, loop=fs.loop)
            size = len(self._whole)
        super().__init__(fs, info["name"], mode="rb", block_size=block_size or 2**20,
                         cache_type=cache_type, cache_options=cache_options, size=size)
        self.details = {**info, "size": size}  # (setting details sets size too)

    def _fetch_range(self, start: int, end: int) -> bytes:
        aclient, loop = self.fs.aclient, self.fs.loop
        if self._whole is None and (aclient.transport.ignores_range(self.url)
                                    or (start <= 0 and end >= self.size)):
            self._whole = run(aclient.fetch, self.url, size=self.size, loop=loop)
        if self._whole is not None:
            return self._whole[start:end]
        return run(aclient.fetch, self.url, start, end, size=self.size, loop=loop)
