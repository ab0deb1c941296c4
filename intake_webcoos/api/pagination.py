"""Pages of a list endpoint: fetched, checked against the server's count, parsed.

The page block varies (the nine fields of the official page, or only
``count/start_index/end_index/next/previous``) and a server may serve fewer
rows per page than ``page_size`` asks, silently.  So the number of pages is
worked out from the rows the first page actually holds, the other pages are
fetched concurrently by number, and ``next`` links are followed only when the
server gives no count.  A window whose pages do not add up is listed again,
and never returned short.
"""

from __future__ import annotations

import asyncio
import logging
import math
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from yarl import URL

from intake_webcoos.api.bodies import gc_paused
from intake_webcoos.api.elements import Element, Page
from intake_webcoos.api.windows import Window
from intake_webcoos.errors import (
    IncompleteListingError,
    MalformedRecordsWarning,
    NotFoundError,
    ResponseFormatError,
)

logger = logging.getLogger("intake_webcoos.api")

GetJson = Callable[[URL, dict[str, str] | None], Awaitable[Any]]
#: Empty pages in a row after which a chain of ``next`` links is taken as endless.
EMPTY_PAGES = 3


@dataclass
class WindowListing:
    """The elements of one window, and the records that could not be read.

    Attributes
    ----------
    window : Window
        The window listed.
    elements : list of Element
        Its elements (``window.start <= time < window.stop``), in server order.
    skipped : list of dict
        One ``{"window", "position", "uuid", "problem"}`` per malformed record.
    """

    window: Window
    elements: list[Element] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)


async def follow(get_json: GetJson, url: URL, params: dict[str, str] | None = None, *,
                 max_pages: int = 100) -> AsyncIterator[Page]:
    """Pages of a list endpoint, following ``next`` links one after another.

    Stops when the rows reach the ``count`` the first page gave, or at ``max_pages``.

    Raises
    ------
    ResponseFormatError
        A ``next`` link is relative, leads back to a page already read, or the
        pages go past ``max_pages``.
    """
    visited, rows, count, empty = set(), 0, None, 0
    while url is not None:
        if len(visited) >= max_pages or empty >= EMPTY_PAGES:
            raise ResponseFormatError(f"the API's next links go on without end at {url} "
                                      f"({len(visited)} pages, {empty} empty in a row)")
        page = Page.from_json(await get_json(url, params))
        yield page
        visited.add(str(url))
        rows += len(page.results)
        empty = 0 if page.results else empty + 1
        count = page.count if count is None else count
        if not page.next or (count is not None and rows >= count):
            return
        url, params = _next_link(page.next), None
        if str(url) in visited:
            raise ResponseFormatError(f"the API's next link loops back to {url}")


def _next_link(link: str) -> URL:
    """A ``next`` link as an absolute http(s) URL (its origin is checked when it is asked)."""
    url = URL(link)
    if not url.is_absolute() or url.scheme not in ("http", "https"):
        raise ResponseFormatError(f"the API's next link {link[:200]!r} is not an absolute "
                                  "http(s) URL")
    return url


async def _pages(get_json: GetJson, url: URL, params: dict[str, str], max_pages: int
                 ) -> list[Page]:
    """Every page of one query: by number when the count is known, else by ``next``."""
    first = Page.from_json(await get_json(url, params))
    per_page = len(first.results)
    if first.count is None or per_page == 0:
        if not first.next:
            return [first]
        rest = follow(get_json, _next_link(first.next), max_pages=max_pages - 1)
        return [first, *[p async for p in rest]]
    total = math.ceil(first.count / per_page)
    if total > max_pages:
        raise ResponseFormatError(
            f"{url} claims {first.count:,} elements in one window, {total:,} pages of "
            f"{per_page}: more than max_pages ({max_pages}). Nothing was listed.")
    rest = await asyncio.gather(*(get_json(url, {**params, "page": str(n)})
                                  for n in range(2, total + 1)))
    return [first, *(Page.from_json(p) for p in rest)]


def _problem(pages: list[Page], rows: list[Any]) -> str:
    """What is wrong with a window's pages ("" when they add up to the count)."""
    count = pages[0].count
    if count is None:
        return ""
    counts = {p.count for p in pages}
    uuids = {r.get("uuid") for r in rows if isinstance(r, dict) and r.get("uuid")}
    named = sum(1 for r in rows if isinstance(r, dict) and r.get("uuid"))
    if counts == {count} and len(rows) == count and len(uuids) == named:
        return ""
    # The listing moved under us (new elements arrived) or came back short.
    return f"{len(rows)} rows ({len(uuids)} distinct) for counts {sorted(counts)}"


def _uuid(row: Any) -> str | None:
    uuid = row.get("uuid") if isinstance(row, dict) else None
    return uuid if isinstance(uuid, str) else None


def parse_window(rows: list[Any], window: Window, *, strict: bool = False) -> WindowListing:
    """Elements of ``window`` from its raw rows; malformed rows are skipped and named.

    Raises
    ------
    ResponseFormatError
        A row is malformed and ``strict`` is true.
    """
    listing = WindowListing(window)
    with gc_paused():
        for position, row in enumerate(rows, start=1):
            try:
                element = Element.from_json(row, where="elements")
            except ResponseFormatError as exc:
                if strict:
                    raise ResponseFormatError(f"{window}, record {position}: {exc}") from None
                listing.skipped.append({"window": str(window), "position": position,
                                        "uuid": _uuid(row), "problem": str(exc)})
                continue
            if window.holds(element.time):
                listing.elements.append(element)
    return listing


async def window_rows(get_json: GetJson, url: URL, window: Window, page_size: int, *,
                      ordering: str = "starting", max_pages: int = 100, attempts: int = 3
                      ) -> list[Any]:
    """The raw records of one window, verified against the server's count.

    Parse them with :func:`parse_window` (they are also what the cache keeps).

    Raises
    ------
    IncompleteListingError
        The pages did not add up to the server's count, even after listing the
        window ``attempts`` times.
    """
    params = {"service": window.service.slug, **window.params(),
              "page_size": str(page_size), "ordering": ordering}
    problem = ""
    for _ in range(attempts):
        try:
            pages = await _pages(get_json, url, params, max_pages)
        except NotFoundError as exc:
            # A page the first one announced is gone ("Invalid page."): elements
            # were removed meanwhile, or the server miscounts. List it again.
            problem = f"a page it announced does not exist ({exc})"
        else:
            rows = [r for page in pages for r in page.results]
            problem = _problem(pages, rows)
            if not problem:
                return rows
        logger.info("listing %s again: %s", window, problem)
    raise IncompleteListingError(
        f"The listing of {window} did not add up to the server's count: {problem}. "
        "Nothing was returned rather than a short listing; try again later."
    )


async def count(get_json: GetJson, url: URL, window: Window) -> int | None:
    """How many elements the server holds in (a little more than) ``window``: one request."""
    params = {"service": window.service.slug, **window.params(), "page_size": "1"}
    page = Page.from_json(await get_json(url, params))
    return page.count if page.count is not None else len(page.results)


def warn_skipped(asset: str, product: str, skipped: list[dict[str, Any]]) -> None:
    """One :class:`MalformedRecordsWarning` for a listing's skipped records (the first named)."""
    shown = "; ".join(f"{r['window']} record {r['position']} (uuid {r['uuid']}): {r['problem']}"
                      for r in skipped[:3])
    more = f"; and {len(skipped) - 3} more" if len(skipped) > 3 else ""
    warnings.warn(MalformedRecordsWarning(
        f"{len(skipped)} malformed element record(s) of {asset}/{product} were skipped: "
        f"{shown}{more}. They are listed in frame.attrs['skipped_records']; pass "
        "strict=True to raise instead."), stacklevel=2)
