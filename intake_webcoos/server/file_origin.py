"""The stand-in's file origins: public S3-style object keys, no auth, HEAD and Range.

Element files and the thumbnails of assets and elements are served here; the
bytes come from :class:`~intake_webcoos.server.files.FileBodies`.  Missing keys
answer S3's XML ``NoSuchKey`` error.  The first origin is path-style; a second
one (see :mod:`~intake_webcoos.server.origins`) serves the same objects in the
virtual-host style.  Both record their requests as ``"files"`` and share the
file origin's faults.
"""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime

from aiohttp import web

from intake_webcoos.server.archive import Holdings
from intake_webcoos.server.faults import fault_middleware
from intake_webcoos.server.state import StandInState, recorder

_THUMBNAIL = re.compile(r".*-(\d+)x(\d+)(?:-\d+)?\.jpg$")
_CONTENT_TYPES = {"jpg": "image/jpeg", "mp4": "video/mp4", "json": "application/json",
                  "jsonl": "application/x-ndjson"}


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """``(first, last)`` inclusive for a single ``bytes=`` range, None to send it all.

    Raises ``HTTPRequestRangeNotSatisfiable`` for a range that starts past the end.
    """
    m = re.fullmatch(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*", header)
    if m is None or (not m.group(1) and not m.group(2)):
        return None  # unparseable or multi-range: RFC 9110 lets a server ignore it
    first_s, last_s = m.groups()
    if first_s:
        first = int(first_s)
        last = min(int(last_s), size - 1) if last_s else size - 1
        if first >= size or (last_s and int(last_s) < first):
            raise web.HTTPRequestRangeNotSatisfiable(headers={"Content-Range": f"bytes */{size}"})
    else:
        suffix = int(last_s)
        if suffix == 0:
            raise web.HTTPRequestRangeNotSatisfiable(headers={"Content-Range": f"bytes */{size}"})
        first, last = max(0, size - suffix), size - 1
    return first, last


def _s3_error(status: int, code: str, message: str) -> web.Response:
    body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
            f"<Message>{message}</Message></Error>")
    return web.Response(status=status, text=body, content_type="application/xml")


def _no_such_key(message: str = "The specified key does not exist.") -> web.Response:
    return _s3_error(404, "NoSuchKey", message)


class FileRoutes:
    """A file origin's request handlers: objects by key, and (first origin) thumbnails.

    Parameters
    ----------
    state : StandInState
        What the origins share.
    origin : int
        0 for the first (path-style) origin, 1 for the second (virtual-host style).
    """

    def __init__(self, state: StandInState, origin: int = 0) -> None:
        self.archive = state.archive
        self.bodies = state.bodies
        self.origins = state.origins
        self.origin = origin

    def register(self, app: web.Application) -> None:
        app.router.add_get("/{key:.+}", self.get_object)

    async def get_object(self, request: web.Request) -> web.StreamResponse:
        """GET or HEAD of an object key (aiohttp answers HEAD with a GET route)."""
        key = request.match_info["key"]  # percent-decoded: "%3A" and ":" are the same key
        if self.origin == 0 and key.startswith("static-assets/"):
            return await self.thumbnail(key)
        found = self.archive.find_key(self.origins.canonical_key(self.origin, key))
        if found is None:
            return _no_such_key()
        holdings, index = found
        if self.bodies.damaged.get((holdings.service.slug, index)) == "missing":
            return _no_such_key()
        if not self.bodies.serves(holdings.service):
            # Clips need PyAV (pip install intake_webcoos[video]).
            return _no_such_key("The stand-in does not serve this product's files here "
                                "(clips need PyAV: pip install intake_webcoos[video]).")
        return await self._element(request, holdings, index, key.rsplit(".", 1)[-1])

    async def _element(self, request: web.Request, holdings: Holdings, index: int,
                       ext: str) -> web.Response:
        size = int(holdings.sizes[index])
        epoch = int(holdings.starts[index])
        headers = {
            "Accept-Ranges": "bytes",
            "Content-Type": _CONTENT_TYPES.get(ext, "application/octet-stream"),
            "Last-Modified": datetime.fromtimestamp(epoch + 30, UTC).strftime(
                "%a, %d %b %Y %H:%M:%S GMT"),
            "ETag": self.bodies.etag(holdings, index),
        }
        if request.method == "HEAD":
            # Sizes are known without rendering: HEAD never costs a frame.
            headers["Content-Length"] = str(size)
            return web.Response(headers=headers)
        loop = asyncio.get_running_loop()
        data = await loop.run_in_executor(None, self.bodies.body, holdings, index)
        byte_range = parse_range(request.headers.get("Range", ""), size)
        if byte_range is None:
            return web.Response(body=data, headers=headers)
        first, last = byte_range
        headers["Content-Range"] = f"bytes {first}-{last}/{size}"
        return web.Response(status=206, body=data[first : last + 1], headers=headers)

    async def thumbnail(self, key: str) -> web.Response:
        """A rendering of an asset (at the end of the data) or of an element, at its size."""
        m = _THUMBNAIL.fullmatch(key)
        parts = key.split("/")
        if m is None or len(parts) < 3:
            return web.Response(status=404)
        width, height = int(m.group(1)), int(m.group(2))
        if not (16 <= width <= 800 and 16 <= height <= 800):
            return web.Response(status=404)
        if "/elements/" in key:
            holdings = self.archive.holdings(parts[-2])
            if holdings is None:
                return web.Response(status=404)
            camera, epoch = holdings.service.camera.slug, float(parts[-1].split("-")[0])
        else:
            camera, epoch = parts[-2], self.archive.span_end.timestamp() - 86400 / 2
            if camera not in self.archive.cameras:
                return web.Response(status=404)
        loop = asyncio.get_running_loop()
        data = await loop.run_in_executor(None, self.bodies.thumbnail, camera, epoch, width,
                                          height)
        return web.Response(body=data, content_type="image/jpeg")


def files_app(state: StandInState, origin: int = 0) -> web.Application:
    """A file origin's application: recording and faults around :class:`FileRoutes`."""
    app = web.Application(middlewares=[recorder("files", state),
                                       fault_middleware(state.file_faults)])
    FileRoutes(state, origin).register(app)
    return app
