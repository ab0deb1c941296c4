"""An element of ``webcoos://`` opened for reading: range requests on its public URL."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fsspec.asyn import sync
from fsspec.spec import AbstractBufferedFile

if TYPE_CHECKING:
    from intake_webcoos.fs.filesystem import WebcoosFileSystem


class WebcoosFile(AbstractBufferedFile):
    """A WebCOOS element opened for reading: range requests on its public URL.

    A host that answers range requests with the whole file (it ignores ``Range``)
    is read once, whole, and the reads are served from that copy: otherwise every
    block would cost the file up to its end again.
    """

    def __init__(self, fs: WebcoosFileSystem, info: dict[str, Any], *,
                 block_size: int | None = None, cache_type: str = "readahead",
                 cache_options: dict | None = None) -> None:
        self.url = info["url"]
        size = info["size"]
        if size is None:  # rare: ask the file host
            size = len(sync(fs.loop, fs.aclient.fetch, self.url))
        super().__init__(fs, info["name"], mode="rb", block_size=block_size or 2**20,
                         cache_type=cache_type, cache_options=cache_options, size=size)
        self.details = info
        self._whole: bytes | None = None

    def _fetch_range(self, start: int, end: int) -> bytes:
        aclient = self.fs.aclient
        if self._whole is None and aclient.transport.ignores_range(self.url):
            self._whole = sync(self.fs.loop, aclient.fetch, self.url, size=self.size)
        if self._whole is not None:
            return self._whole[start:end]
        return sync(self.fs.loop, aclient.fetch, self.url, start, end, size=self.size)
