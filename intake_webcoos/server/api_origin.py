"""The stand-in's API origin: ``/webcoos/api/v1/...`` and ``/u/api/me/``.

Routes, envelopes, status codes and error bodies follow the real API as far as
the public record shows (``webcoos-api-notes.md``); where it is silent the
choice is documented on the handler, and where it allows several readings
:class:`~intake_webcoos.server.variants.Variants` picks one.
"""

from __future__ import annotations

import asyncio
import hmac
import json
from collections import OrderedDict
from collections.abc import Hashable
from datetime import UTC, datetime
from http import HTTPStatus

from aiohttp import web
from multidict import MultiMapping

from intake_webcoos.server.archive import Holdings
from intake_webcoos.server.faults import fault_middleware
from intake_webcoos.server.payloads import pagination
from intake_webcoos.server.state import Handler, StandInState, recorder
from intake_webcoos.server.variants import Variants

API_PREFIX = "/webcoos/api/v1"
DEFAULT_PAGE_SIZE = 100
#: Not the real API's limit (unknown): a guard against runaway requests.  A larger
#: ``page_size`` is answered 400, never silently cut (that is ``page_size_cap``'s job).
MAX_PAGE_SIZE = 100_000
# Which product the latest-element routes pick, best first.
LATEST_PRODUCTS = {
    "image": ("one-minute-stills", "10-minute-stills", "image-stills", "annotated-image"),
    "video": ("video-archive",),
}


def json_error(status: int, detail: str, **headers: str) -> web.Response:
    """A DRF-style error answer: ``{"detail": ...}`` with ``status``."""
    return web.json_response({"detail": detail}, status=status, headers=headers or None)


def _json_exception(exc_class: type[web.HTTPException], detail: str) -> web.HTTPException:
    """An aiohttp HTTP exception to raise, with a DRF-style JSON body."""
    return exc_class(text=json.dumps({"detail": detail}), content_type="application/json")


def parse_query_time(value: str, name: str) -> float:
    """Seconds since the epoch of an ISO time; ``Z`` or any offset; naive means UTC."""
    value = value.strip()
    if "T" in value and " " in value:
        # An unencoded "+00:00" in a query string arrives as " 00:00".
        value = value.replace(" ", "+", 1)
    try:
        t = datetime.fromisoformat(value)
    except ValueError:
        raise _json_exception(web.HTTPBadRequest, f"Enter a valid date/time for {name}.") from None
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return t.timestamp()


def _auth(state: StandInState):
    """``Authorization: Token <t>``: 403 when absent; a wrong one as the variants say.

    A scheme other than ``Token`` counts as a wrong token.
    """

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        header = request.headers.get("Authorization", "")
        scheme, _, given = header.partition(" ")
        if not header:
            return json_error(403, "Authentication credentials were not provided.")
        if scheme != "Token" or not hmac.compare_digest(given.strip().encode(),
                                                        state.token.encode()):
            status = state.variants.bad_token_status
            # DRF sends 401 only with an authenticate header to go with it.
            headers = {"WWW-Authenticate": "Token"} if status == 401 else {}
            return json_error(status, "Invalid token.", **headers)
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
        self.state = state
        self.archive = state.archive
        self.payloads = state.payloads
        # Pages are pure functions of their URL and the variants: a repeated listing
        # costs the server (which must never be a benchmark's bottleneck) a lookup.
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
        variants = self.state.variants
        results = self.payloads.assets(variants)
        body: dict = {"results": results}
        if variants.assets_pagination:  # one page holding every camera
            body["pagination"] = pagination(request.url, len(results), 1, max(len(results), 1),
                                            variants.pagination == "minimal")
        return web.json_response(body)

    async def asset(self, request: web.Request) -> web.Response:
        obj = self.payloads.asset(request.match_info["slug"], self.state.variants)
        if obj is None:
            return json_error(404, "Not found.")
        return web.json_response(obj)

    def _service_or_404(self, ident: str) -> Holdings:
        holdings = self.archive.holdings(ident)
        if holdings is None:
            raise _json_exception(web.HTTPNotFound, "Not found.")
        return holdings

    async def inventory(self, request: web.Request) -> web.Response:
        """The inventory; slow and/or failing (as the real one can be) when the variants say."""
        holdings = self._service_or_404(request.match_info["service"])
        variants = self.state.variants
        if variants.inventory_delay:
            await asyncio.sleep(variants.inventory_delay)
        if variants.inventory_status is not None:
            status = HTTPStatus(variants.inventory_status)
            return json_error(status.value, f"{status.phrase}.")
        return web.json_response(self.payloads.inventory(holdings))

    def _latest(self, holdings: Holdings | None) -> web.Response:
        if holdings is None or holdings.starts.size == 0:
            return json_error(404, "Not found.")
        last = holdings.starts.size - 1
        return web.json_response(self.payloads.element(holdings, last, self.state.variants))

    async def service_latest(self, request: web.Request) -> web.Response:
        if self.state.variants.latest_routes == "production":
            raise web.HTTPNotFound()  # the same answer as a route that does not exist
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
        q, variants = request.query, self.state.variants
        holdings = self._listed_service(q)
        start, end = (parse_query_time(q[name], name) if name in q else None
                      for name in ("starting_after", "starting_before"))
        page_size = _page_size(q.get("page_size"), variants.page_size_cap)
        page = _int_or(q.get("page"), 1, invalid=0)
        window = holdings.index_range(start, end, variants.end_inclusive)
        if not 1 <= page <= max(1, -(-(window[1] - window[0]) // page_size)):
            return json_error(404, "Invalid page.")
        key = (variants, str(request.url))
        body = self.page_cache.get(key)
        if body is None:
            body = self.page_cache.put(key, self._page_json(request, holdings, window, page,
                                                            page_size, variants))
        return web.Response(text=body, content_type="application/json")

    def _listed_service(self, query: MultiMapping[str]) -> Holdings:
        # Without a known service nothing can be listed; the real behaviour is not
        # public, so the stand-in answers 400 with a detail that says why.
        if "service" not in query:
            raise _json_exception(web.HTTPBadRequest, "The 'service' parameter is required.")
        holdings = self.archive.holdings(query["service"])
        if holdings is None:
            raise _json_exception(web.HTTPBadRequest,
                                  f"Select a valid service: {query['service']!r} is not one.")
        return holdings

    def _page_json(self, request: web.Request, holdings: Holdings, window: tuple[int, int],
                   page: int, page_size: int, variants: Variants) -> str:
        """One page of the elements ``window`` (indices ``[lo, hi)``), as JSON text."""
        lo, hi = window
        # DRF's OrderingFilter ignores unknown fields; so does the stand-in.
        descending = request.query.get("ordering", "starting") == "-starting"
        results = ",".join(self.payloads.element_json(holdings, i, variants)
                           for i in _page_indices(lo, hi, page, page_size, descending))
        block = json.dumps(pagination(request.url, hi - lo, page, page_size,
                                      variants.pagination == "minimal"))
        return f'{{"results": [{results}], "pagination": {block}}}'


def api_app(state: StandInState) -> web.Application:
    """The API origin's application: recording, faults and auth around :class:`ApiRoutes`."""
    app = web.Application(middlewares=[recorder("api", state), fault_middleware(state.api_faults),
                                       _auth(state)])
    ApiRoutes(state).register(app)
    return app


def _page_size(value: str | None, cap: int | None) -> int:
    """Elements per page: ``page_size`` (default 100, at least 1), silently cut to ``cap``."""
    size = max(_int_or(value, DEFAULT_PAGE_SIZE), 1)
    if size > MAX_PAGE_SIZE:
        raise _json_exception(web.HTTPBadRequest,
                              f"The stand-in serves at most {MAX_PAGE_SIZE} elements a page.")
    return size if cap is None else min(size, cap)


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
        self.pages: OrderedDict[Hashable, str] = OrderedDict()

    def get(self, key: Hashable) -> str | None:
        body = self.pages.get(key)
        if body is not None:
            self.pages.move_to_end(key)
        return body

    def put(self, key: Hashable, body: str) -> str:
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
