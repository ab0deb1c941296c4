"""The stand-in's API origin: ``/webcoos/api/v1/...`` and ``/u/api/me/``.

Routes, envelopes, status codes and error bodies follow the real API as far as
the public record shows (``webcoos-api-notes.md``); where it is silent the
choice is documented on the handler.
"""

from __future__ import annotations

import hmac
import json
from collections import OrderedDict
from datetime import UTC, datetime

from aiohttp import web

from .archive import Holdings
from .faults import fault_middleware
from .payloads import pagination
from .state import Handler, StandInState, recorder

API_PREFIX = "/webcoos/api/v1"
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
# Which product the latest-element routes pick, best first.
LATEST_PRODUCTS = {
    "image": ("one-minute-stills", "10-minute-stills", "image-stills", "annotated-image"),
    "video": ("video-archive",),
}


def json_error(status: int, detail: str, **headers: str) -> web.Response:
    """A DRF-style error answer: ``{"detail": ...}`` with ``status``."""
    return web.json_response({"detail": detail}, status=status, headers=headers or None)


def _not_found() -> web.HTTPNotFound:
    return web.HTTPNotFound(text='{"detail": "Not found."}', content_type="application/json")


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


def _auth(state: StandInState):
    """``Authorization: Token <t>``: 403 when absent (as the real API), 401 when wrong."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        header = request.headers.get("Authorization", "")
        scheme, _, given = header.partition(" ")
        if not header:
            return json_error(403, "Authentication credentials were not provided.")
        if scheme != "Token" or not hmac.compare_digest(given.strip().encode(),
                                                        state.token.encode()):
            return json_error(401, "Invalid token.", **{"WWW-Authenticate": "Token"})
        return await handler(request)

    return middleware


class ApiRoutes:
    """The API origin's request handlers, one method per route (see :attr:`TABLE`)."""

    #: ``(path under the host, handler method)``; older clients omit some trailing slashes.
    TABLE = (
        ("/u/api/me/", "me"),
        (f"{API_PREFIX}/assets/", "assets"),
        (f"{API_PREFIX}/assets/{{slug}}/", "asset"),
        (f"{API_PREFIX}/assets/{{slug}}", "asset"),
        (f"{API_PREFIX}/assets/{{slug}}/elements/latest/{{kind}}/", "asset_latest"),
        (f"{API_PREFIX}/assets/{{slug}}/elements/latest/{{kind}}", "asset_latest"),
        (f"{API_PREFIX}/services/{{service}}/inventory/", "inventory"),
        (f"{API_PREFIX}/services/{{service}}/elements/latest", "service_latest"),
        (f"{API_PREFIX}/services/{{service}}/elements/latest/", "service_latest"),
        (f"{API_PREFIX}/elements/", "elements"),
    )

    def __init__(self, state: StandInState) -> None:
        self.archive = state.archive
        self.payloads = state.payloads
        # Pages are pure functions of their URL: a repeated listing costs the server
        # (which must never be a benchmark's bottleneck) a lookup.
        self.page_cache = _PageCache()

    def register(self, app: web.Application) -> None:
        for path, name in self.TABLE:
            app.router.add_get(path, getattr(self, name))

    async def me(self, request: web.Request) -> web.Response:
        return web.json_response({"username": "standin", "email": "standin@example.invalid",
                                  "last_login": "2025-09-17T00:00:00.000000Z",
                                  "first_name": "", "last_name": ""})

    async def assets(self, request: web.Request) -> web.Response:
        # source, type and _nocache are accepted and ignored, as the notes advise.
        results = self.payloads.assets()
        return web.json_response({"results": results, "pagination": {
            "count": len(results), "page": 1, "total_pages": 1, "start_index": 1,
            "end_index": len(results), "next": None, "previous": None, "next_page": None,
            "previous_page": None}})

    async def asset(self, request: web.Request) -> web.Response:
        obj = self.payloads.asset(request.match_info["slug"])
        if obj is None:
            return json_error(404, "Not found.")
        return web.json_response(obj)

    def _service_or_404(self, ident: str) -> Holdings:
        holdings = self.archive.holdings(ident)
        if holdings is None:
            raise _not_found()
        return holdings

    async def inventory(self, request: web.Request) -> web.Response:
        holdings = self._service_or_404(request.match_info["service"])
        return web.json_response(self.payloads.inventory(holdings))

    def _latest(self, holdings: Holdings | None) -> web.Response:
        if holdings is None or holdings.starts.size == 0:
            return json_error(404, "Not found.")
        return web.json_response(self.payloads.element(holdings, holdings.starts.size - 1))

    async def service_latest(self, request: web.Request) -> web.Response:
        return self._latest(self._service_or_404(request.match_info["service"]))

    async def asset_latest(self, request: web.Request) -> web.Response:
        slug, kind = request.match_info["slug"], request.match_info["kind"]
        if slug not in self.archive.cameras or kind not in LATEST_PRODUCTS:
            return json_error(404, "Not found.")
        for product in LATEST_PRODUCTS[kind]:
            holdings = self.archive.holdings_for(slug, product)
            if holdings is not None:
                return self._latest(holdings)
        return json_error(404, "Not found.")

    async def elements(self, request: web.Request) -> web.Response:
        q = request.query
        # Without a known service nothing can be listed; the real behaviour is not
        # public, so the stand-in answers 400 with a detail that says why.
        if "service" not in q:
            return json_error(400, "The 'service' parameter is required.")
        holdings = self.archive.holdings(q["service"])
        if holdings is None:
            return json_error(400, f"Select a valid service: {q['service']!r} is not one.")
        start, end = (parse_query_time(q[name], name) if name in q else None
                      for name in ("starting_after", "starting_before"))
        page_size = min(max(_int_or(q.get("page_size"), DEFAULT_PAGE_SIZE), 1), MAX_PAGE_SIZE)
        page = _int_or(q.get("page"), 1, invalid=0)
        lo, hi = holdings.index_range(start, end)
        count = hi - lo
        if not 1 <= page <= max(1, -(-count // page_size)):
            return json_error(404, "Invalid page.")
        key = str(request.url)
        body = self.page_cache.get(key)
        if body is None:
            # DRF's OrderingFilter ignores unknown fields; so does the stand-in.
            descending = q.get("ordering", "starting") == "-starting"
            results = ",".join(self.payloads.element_json(holdings, i) for i in
                               _page_indices(lo, hi, page, page_size, descending))
            block = json.dumps(pagination(request.url, count, page, page_size))
            body = self.page_cache.put(key, f'{{"results": [{results}], "pagination": {block}}}')
        return web.Response(text=body, content_type="application/json")


def api_app(state: StandInState) -> web.Application:
    """The API origin's application: recording, faults and auth around :class:`ApiRoutes`."""
    app = web.Application(middlewares=[recorder("api", state), fault_middleware(state.api_faults),
                                       _auth(state)])
    ApiRoutes(state).register(app)
    return app


def _page_indices(lo: int, hi: int, page: int, page_size: int, descending: bool) -> range:
    """Element indices of one page of the elements ``[lo, hi)``, in listing order."""
    offset = (page - 1) * page_size
    if descending:
        return range(hi - 1 - offset, max(hi - 1 - offset - page_size, lo - 1), -1)
    return range(lo + offset, min(lo + offset + page_size, hi))


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


def _int_or(value: str | None, default: int, invalid: int | None = None) -> int:
    """``int(value)``; ``default`` when absent; ``invalid`` (else ``default``) when not a number."""
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        return default if invalid is None else invalid
