"""The stand-in's two aiohttp applications: the API origin and the file origin.

Routes, envelopes, status codes and error bodies follow the real API as far as
the public record shows (``webcoos-api-notes.md``); where it is silent the
choice is documented on the handler.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import re
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from aiohttp import web

from .archive import Archive, Holdings
from .faults import FaultState, fault_middleware
from .files import FileBodies
from .payloads import Payloads, pagination

API_PREFIX = "/webcoos/api/v1"
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
# Which product the latest-element routes pick, best first.
LATEST_PRODUCTS = {
    "image": ("one-minute-stills", "10-minute-stills", "image-stills", "annotated-image"),
    "video": ("video-archive",),
}
_THUMBNAIL = re.compile(r".*-(\d+)x(\d+)(?:-\d+)?\.jpg$")


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the stand-in received it (for tests to inspect)."""

    origin: str
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]


@dataclass
class StandInState:
    """What both applications share."""

    archive: Archive
    payloads: Payloads
    bodies: FileBodies
    token: str
    api_faults: FaultState = field(default_factory=FaultState)
    file_faults: FaultState = field(default_factory=FaultState)
    record: Callable[[RecordedRequest], None] = lambda r: None
    in_flight: dict[str, int] = field(default_factory=lambda: {"api": 0, "files": 0})
    peak_in_flight: dict[str, int] = field(default_factory=lambda: {"api": 0, "files": 0})


def json_error(status: int, detail: str, **headers: str) -> web.Response:
    return web.json_response({"detail": detail}, status=status, headers=headers or None)


def parse_query_time(value: str, name: str) -> float:
    """Seconds since the epoch of an ISO time; ``Z`` or any offset; naive means UTC."""
    value = value.strip()
    if "T" in value and " " in value:
        # An unencoded "+00:00" in a query string arrives as " 00:00".
        value = value.replace(" ", "+", 1)
    try:
        t = datetime.fromisoformat(value)
    except ValueError:
        raise web.HTTPBadRequest(
            text=f'{{"detail": "Enter a valid date/time for {name}."}}',
            content_type="application/json",
        ) from None
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return t.timestamp()


def _recorder(origin: str, state: StandInState):
    """Records each request and counts how many are in flight at once."""

    @web.middleware
    async def middleware(request: web.Request, handler):
        state.record(RecordedRequest(origin, request.method, request.path,
                                     dict(request.query), dict(request.headers)))
        state.in_flight[origin] += 1
        state.peak_in_flight[origin] = max(state.peak_in_flight[origin], state.in_flight[origin])
        try:
            return await handler(request)
        finally:
            state.in_flight[origin] -= 1

    return middleware


def _auth(state: StandInState):
    """``Authorization: Token <t>``: 403 when absent (as the real API), 401 when wrong."""

    @web.middleware
    async def middleware(request: web.Request, handler):
        header = request.headers.get("Authorization", "")
        scheme, _, given = header.partition(" ")
        if not header:
            return json_error(403, "Authentication credentials were not provided.")
        if scheme != "Token" or not hmac.compare_digest(given.strip().encode(),
                                                        state.token.encode()):
            return json_error(401, "Invalid token.", **{"WWW-Authenticate": "Token"})
        return await handler(request)

    return middleware


def api_app(state: StandInState) -> web.Application:
    """The API origin: ``/webcoos/api/v1/...`` and ``/u/api/me/``."""
    app = web.Application(middlewares=[_recorder("api", state), fault_middleware(state.api_faults),
                                       _auth(state)])
    archive, payloads = state.archive, state.payloads
    # Pages are pure functions of their URL: a repeated listing costs the server
    # (which must never be a benchmark's bottleneck) a lookup.
    page_cache = _PageCache()

    async def me(request: web.Request) -> web.Response:
        return web.json_response({"username": "standin", "email": "standin@example.invalid",
                                  "last_login": "2025-09-17T00:00:00.000000Z",
                                  "first_name": "", "last_name": ""})

    async def assets(request: web.Request) -> web.Response:
        # source, type and _nocache are accepted and ignored, as the notes advise.
        results = payloads.assets()
        return web.json_response({"results": results, "pagination": {
            "count": len(results), "page": 1, "total_pages": 1, "start_index": 1,
            "end_index": len(results), "next": None, "previous": None, "next_page": None,
            "previous_page": None}})

    async def asset(request: web.Request) -> web.Response:
        obj = payloads.asset(request.match_info["slug"])
        if obj is None:
            return json_error(404, "Not found.")
        return web.json_response(obj)

    def service_or_404(ident: str) -> Holdings:
        holdings = archive.holdings(ident)
        if holdings is None:
            raise web.HTTPNotFound(text='{"detail": "Not found."}',
                                   content_type="application/json")
        return holdings

    async def inventory(request: web.Request) -> web.Response:
        holdings = service_or_404(request.match_info["service"])
        return web.json_response(payloads.inventory(holdings))

    def latest(holdings: Holdings | None) -> web.Response:
        if holdings is None or holdings.starts.size == 0:
            return json_error(404, "Not found.")
        return web.json_response(payloads.element(holdings, holdings.starts.size - 1))

    async def service_latest(request: web.Request) -> web.Response:
        return latest(service_or_404(request.match_info["service"]))

    async def asset_latest(request: web.Request) -> web.Response:
        slug, kind = request.match_info["slug"], request.match_info["kind"]
        if slug not in archive.cameras or kind not in LATEST_PRODUCTS:
            return json_error(404, "Not found.")
        for product in LATEST_PRODUCTS[kind]:
            holdings = archive.holdings_for(slug, product)
            if holdings is not None:
                return latest(holdings)
        return json_error(404, "Not found.")

    async def elements(request: web.Request) -> web.Response:
        q = request.query
        # Without a known service nothing can be listed; the real behaviour is not
        # public, so the stand-in answers 400 with a detail that says why.
        if "service" not in q:
            return json_error(400, "The 'service' parameter is required.")
        holdings = archive.holdings(q["service"])
        if holdings is None:
            return json_error(400, f"Select a valid service: {q['service']!r} is not one.")
        start, end = (parse_query_time(q[name], name) if name in q else None
                      for name in ("starting_after", "starting_before"))
        page_size = _int_or(q.get("page_size"), DEFAULT_PAGE_SIZE)
        page_size = min(max(page_size, 1), MAX_PAGE_SIZE)
        try:
            page = int(q.get("page", "1"))
        except ValueError:
            page = 0
        lo, hi = holdings.index_range(start, end)
        count = hi - lo
        total_pages = max(1, -(-count // page_size))
        if not 1 <= page <= total_pages:
            return json_error(404, "Invalid page.")
        # DRF's OrderingFilter ignores unknown fields; so does the stand-in.
        descending = q.get("ordering", "starting") == "-starting"
        offset = (page - 1) * page_size
        if descending:
            indices = range(hi - 1 - offset, max(hi - 1 - offset - page_size, lo - 1), -1)
        else:
            indices = range(lo + offset, min(lo + offset + page_size, hi))
        key = str(request.url)
        body = page_cache.get(key)
        if body is None:
            results = ",".join(payloads.element_json(holdings, i) for i in indices)
            block = json.dumps(pagination(request.url, count, page, page_size))
            body = page_cache.put(key, f'{{"results": [{results}], "pagination": {block}}}')
        return web.Response(text=body, content_type="application/json")

    for path, handler in (
        ("/u/api/me/", me),
        (f"{API_PREFIX}/assets/", assets),
        (f"{API_PREFIX}/assets/{{slug}}/", asset),
        (f"{API_PREFIX}/assets/{{slug}}", asset),
        (f"{API_PREFIX}/assets/{{slug}}/elements/latest/{{kind}}/", asset_latest),
        (f"{API_PREFIX}/assets/{{slug}}/elements/latest/{{kind}}", asset_latest),
        (f"{API_PREFIX}/services/{{service}}/inventory/", inventory),
        (f"{API_PREFIX}/services/{{service}}/elements/latest", service_latest),
        (f"{API_PREFIX}/services/{{service}}/elements/latest/", service_latest),
        (f"{API_PREFIX}/elements/", elements),
    ):
        app.router.add_get(path, handler)
    return app


class _PageCache:
    """The JSON text of recently served element pages, least recently used out."""

    def __init__(self, limit_bytes: int = 256 * 2**20) -> None:
        self.limit = limit_bytes
        self.size = 0
        self.pages: OrderedDict[str, str] = OrderedDict()

    def get(self, key: str) -> str | None:
        body = self.pages.get(key)
        if body is not None:
            self.pages.move_to_end(key)
        return body

    def put(self, key: str, body: str) -> str:
        self.pages[key] = body
        self.size += len(body)
        while self.size > self.limit and len(self.pages) > 1:
            _, old = self.pages.popitem(last=False)
            self.size -= len(old)
        return body


def _int_or(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


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


_CONTENT_TYPES = {"jpg": "image/jpeg", "mp4": "video/mp4", "json": "application/json",
                  "jsonl": "application/x-ndjson"}


def files_app(state: StandInState) -> web.Application:
    """The file origin: public S3-style object keys, no auth, HEAD and Range."""
    app = web.Application(middlewares=[_recorder("files", state),
                                       fault_middleware(state.file_faults)])
    archive, bodies = state.archive, state.bodies

    async def thumbnail(request: web.Request, key: str) -> web.Response:
        m = _THUMBNAIL.fullmatch(key)
        parts = key.split("/")
        if m is None or len(parts) < 3:
            return web.Response(status=404)
        width, height = int(m.group(1)), int(m.group(2))
        if not (16 <= width <= 800 and 16 <= height <= 800):
            return web.Response(status=404)
        if "/elements/" in key:
            holdings = archive.holdings(parts[-2])
            if holdings is None:
                return web.Response(status=404)
            camera, epoch = holdings.service.camera.slug, float(parts[-1].split("-")[0])
        else:
            camera, epoch = parts[-2], archive.span_end.timestamp() - 86400 / 2
            if camera not in archive.cameras:
                return web.Response(status=404)
        loop = asyncio.get_running_loop()
        data = await loop.run_in_executor(None, bodies.thumbnail, camera, epoch, width, height)
        return web.Response(body=data, content_type="image/jpeg")

    async def get_object(request: web.Request) -> web.StreamResponse:
        key = request.match_info["key"]
        if key.startswith("static-assets/"):
            return await thumbnail(request, key)
        found = archive.find_key(key)
        if found is None:
            return _s3_error(404, "NoSuchKey", "The specified key does not exist.")
        holdings, index = found
        if bodies.damaged.get((holdings.service.slug, index)) == "missing":
            return _s3_error(404, "NoSuchKey", "The specified key does not exist.")
        size = int(holdings.sizes[index])
        epoch = int(holdings.starts[index])
        ext = key.rsplit(".", 1)[-1]
        headers = {
            "Accept-Ranges": "bytes",
            "Content-Type": _CONTENT_TYPES.get(ext, "application/octet-stream"),
            "Last-Modified": datetime.fromtimestamp(epoch + 30, UTC).strftime(
                "%a, %d %b %Y %H:%M:%S GMT"),
        }
        if not bodies.serves(holdings.service):
            # Clips need PyAV (pip install intake_webcoos[video]).
            return _s3_error(404, "NoSuchKey", "The stand-in does not serve this product's "
                             "files here (clips need PyAV: pip install intake_webcoos[video]).")
        headers["ETag"] = bodies.etag(holdings, index)
        if request.method == "HEAD":
            # Sizes are known without rendering: HEAD never costs a frame.
            headers["Content-Length"] = str(size)
            return web.Response(headers=headers)
        loop = asyncio.get_running_loop()
        data = await loop.run_in_executor(None, bodies.body, holdings, index)
        byte_range = parse_range(request.headers.get("Range", ""), size)
        if byte_range is None:
            return web.Response(body=data, headers=headers)
        first, last = byte_range
        headers["Content-Range"] = f"bytes {first}-{last}/{size}"
        return web.Response(status=206, body=data[first : last + 1], headers=headers)

    app.router.add_get("/{key:.+}", get_object)
    return app


def _s3_error(status: int, code: str, message: str) -> web.Response:
    body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
            f"<Message>{message}</Message></Error>")
    return web.Response(status=status, text=body, content_type="application/xml")
