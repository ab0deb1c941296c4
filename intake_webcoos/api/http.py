"""The transport: the only code in the package that opens connections.

A :class:`Transport` owns, per event loop, one :class:`aiohttp.ClientSession`
and the slots that bound concurrent requests, and it runs every request
through the same loop of attempts: redirects followed by hand, statuses
sorted into retry / typed error / success in one place, and backoff that
honours ``Retry-After``.

Two kinds of request go through it:

* **API requests** (:meth:`Transport.get_json`) carry the token, and only to
  the API's own origin: a URL or a redirect that leads elsewhere is refused
  before anything is sent.
* **File requests** (:meth:`Transport.fetch`, :meth:`Transport.download`) go to
  the public element hosts and never carry the token.

See ``docs/design.md`` for how this layer sits under the WebCOOS calls.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import logging
import os
import random
import secrets
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import aiohttp
from yarl import URL

from intake_webcoos.api.bodies import (
    BodyTooLarge,
    decode_json,
    detail,
    oversized_file,
    read_limited,
    temporary_path,
)
from intake_webcoos.api.config import Settings
from intake_webcoos.api.partial import Partial
from intake_webcoos.api.sessions import LoopResources, close_session
from intake_webcoos.errors import (
    ForeignOriginError,
    InvalidTokenError,
    MissingTokenError,
    NotFoundError,
    PathNotFoundError,
    RequestError,
    ResponseFormatError,
    ServerError,
)

logger = logging.getLogger("intake_webcoos.api")

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})

MAX_REDIRECTS = 5
_T = TypeVar("_T")


def retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class _Hidden(str):
    """A header value that never shows in a repr (tracebacks with locals, debuggers)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "'<hidden>'"


class _Retry(Exception):
    """An attempt failed in a way that another attempt may fix."""

    def __init__(self, status: int | None, reason: str, wait: float | None = None) -> None:
        super().__init__(reason)
        self.status, self.reason, self.wait = status, reason, wait


@dataclass(frozen=True)
class _Request:
    """What one request asks for: where, with what, and what counts as success."""

    url: URL
    api: bool
    params: dict[str, str] | None = None
    headers: dict[str, str] | None = None
    timeout: aiohttp.ClientTimeout | None = None
    ok: frozenset[int] = frozenset({200})


class Transport:
    """Sessions, attempts and origin rules for the API and the element file hosts.

    Parameters
    ----------
    settings : Settings
        Where the API is, the token, timeouts, retries and concurrency limits.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._resources: LoopResources | None = None
        self._range_ignored: set[URL] = set()
        #: API requests started (each may take several attempts), for tests and benchmarks.
        self.api_requests = 0

    def __repr__(self) -> str:
        return f"<Transport {self.settings.base_url}>"

    async def close(self) -> None:
        """Close the HTTP session (a new one opens if the transport is used again)."""
        resources, self._resources = self._resources, None
        if resources is not None and not resources.session.closed:
            await resources.session.close()

    def _here(self) -> LoopResources:
        loop = asyncio.get_running_loop()
        if self._resources is None or self._resources.loop is not loop \
                or self._resources.session.closed:
            self._resources = LoopResources(self.settings)
            weakref.finalize(self, close_session, loop, self._resources.session)
        return self._resources

    @property
    def session(self) -> aiohttp.ClientSession:
        """The session of the running loop."""
        return self._here().session

    def ignores_range(self, url: str) -> bool:
        """Whether the host of ``url`` has answered a range request with the whole file."""
        return URL(url).origin() in self._range_ignored

    # -- the three kinds of request ---------------------------------------------
    async def get_json(self, url: URL | str, params: dict[str, str] | None = None,
                       *, timeout: float | None = None) -> Any:
        """GET an API URL and decode its JSON, with retries and typed errors.

        Parameters
        ----------
        url : URL or str
            Absolute URL on the API's origin (anything else is refused).
        params : dict, optional
            Query parameters.
        timeout : float, optional
            Read timeout (default ``settings.timeout``).

        Raises
        ------
        MissingTokenError, InvalidTokenError
            No token, or the API refused it.
        NotFoundError
            The API answered 404.
        ResponseFormatError
            The answer is not JSON, or larger than ``max_api_bytes``.
        ServerError
            Every attempt failed (5xx, 429, dropped connections, timeouts).
        """
        url = URL(url)
        self._check_origin(url, "The API answered with a link elsewhere.")
        if not self.settings.token:
            raise MissingTokenError()
        # No local variable holds the token: tracebacks rendered with locals show frames.
        request = _Request(url, api=True, params=params, timeout=self._timeout(timeout),
                           headers={"Authorization": _Hidden(f"Token {self.settings.token}"),
                                    "Accept": "application/json"})

        async def read(response: aiohttp.ClientResponse) -> Any:
            try:
                body = await read_limited(response, self.settings.max_api_bytes)
            except BodyTooLarge as exc:  # says only the limit, which the message gives
                raise ResponseFormatError(
                    f"{url} answered with more than {exc.limit:,} bytes (max_api_bytes); "
                    "nothing this large is expected from the API.") from None
            return decode_json(body, url.with_query(None))

        self.api_requests += 1
        return await self._attempts(lambda: request, read, self._here().api_slots)

    async def fetch(self, url: str, start: int | None = None, end: int | None = None, *,
                    size: int | None = None) -> bytes:
        """The bytes of an element file, or of ``[start, end)`` of it, without the token.

        Element files are public (S3), so nothing but the URL is sent.  A body
        shorter than its ``Content-Length`` is retried like a dropped connection;
        one longer than ``size`` (the listed size; ``max_file_bytes`` when not
        known) or than the range asked is refused.  A host that answers a range
        request with the whole file is read only up to the end of the range.

        Raises
        ------
        PathNotFoundError
            The file host has no such file.
        TruncatedDownloadError
            The file is longer than its listed size.
        """
        ranged = start is not None or end is not None
        first = start or 0
        if end is not None and end <= first:
            return b""
        headers = {"Range": f"bytes={first}-{'' if end is None else end - 1}"} if ranged else {}
        request = _Request(URL(url), api=False, headers=headers, timeout=self._timeout(None),
                           ok=frozenset({200, 206, 416}))
        limit = self._file_limit(size)

        async def read(response: aiohttp.ClientResponse) -> bytes:
            if response.status == 416:  # the range starts past the end of the file
                return b""
            if response.status == 200 and ranged:  # Range ignored: read no further than the end
                self._range_ignored.add(request.url.origin())
                stop = limit if end is None else min(end, limit)
                return (await _prefix(response, stop))[first:]
            return await _within(response, (end - first) if ranged and end else limit, url)

        return await self._attempts(lambda: request, read, self._here().file_slots)

    async def download(self, url: str, path: str | os.PathLike, *, size: int | None = None,
                       callback: Any = None, tag: str | None = None) -> int:
        """Stream an element file to ``path`` atomically; returns the bytes written.

        The bytes go to a hidden temporary file beside ``path``
        (:func:`~intake_webcoos.api.bodies.temporary_path` with ``tag``), renamed to
        ``path`` only when complete and, if ``size`` is given, of that size.  A
        transfer that breaks is resumed from the bytes already written (a range
        request guarded by the ETag and the listed size); a host that ignores
        ``Range`` starts it over.  Whatever fails, no partial file is left.

        Parameters
        ----------
        url : str
            The element's public URL (no token is sent).
        path : str or PathLike
            Destination file.
        size : int, optional
            Expected size in bytes (from the listing).
        callback : fsspec.callbacks.Callback, optional
            Told the size, then each chunk written.
        tag : str, optional
            Marks the temporary file (default: random); see :mod:`intake_webcoos.cli.download`.

        Raises
        ------
        TruncatedDownloadError
            The file arrived with another size than the listing announced.
        PathNotFoundError
            The file host has no such file.
        """
        target = os.fspath(path)
        partial = Partial(temporary_path(target, tag or secrets.token_hex(4)), size,
                          self._file_limit(size), callback, url)

        def request() -> _Request:
            return _Request(URL(url), api=False, headers=partial.headers(),
                            timeout=self._timeout(None), ok=frozenset({200, 206}))

        try:
            written = await self._attempts(request, partial.save, self._here().file_slots)
            os.replace(partial.path, target)
            return written
        finally:
            if os.path.exists(partial.path):
                os.unlink(partial.path)

    # -- the one loop of attempts ------------------------------------------------
    async def _attempts(self, make: Callable[[], _Request],
                        consume: Callable[[aiohttp.ClientResponse], Awaitable[_T]],
                        slots: asyncio.Semaphore) -> _T:
        """Open ``make()`` and ``consume`` its answer until that succeeds.

        429/5xx answers, dropped connections, broken bodies and timeouts (each
        attempt has ``deadline`` seconds in all) are retried with backoff; every
        other failure raises at once, as one of the package's errors.
        """
        status: int | None = None
        reason = ""
        # The aiohttp error behind the last failed attempt becomes the ServerError's cause.
        cause: BaseException | None = None
        retries = self.settings.retries
        for n in range(1, retries + 1):
            request = make()
            wait: float | None = None
            async with slots:
                if request.api:  # element files come from a public bucket: not paced
                    await self._here().api_pace.acquire()
                try:
                    async with asyncio.timeout(self.settings.deadline), \
                            self._open(request) as response:
                        return await consume(response)
                except _Retry as retry:
                    status, reason, wait, cause = retry.status, retry.reason, retry.wait, None
                except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError,
                        TimeoutError) as exc:
                    status, reason, cause = None, _described(exc), exc
                except aiohttp.ClientError as exc:  # anything else aiohttp raises: ours now
                    raise ServerError(str(request.url), None, n, _described(exc)) from exc
            logger.info("attempt %d of %d at %s failed: %s %s", n, retries,
                        request.url.with_query(None), status or "", reason)
            if n < retries:
                await asyncio.sleep(self._pause(n, wait))
        raise ServerError(str(request.url), status, retries, reason) from cause

    @contextlib.asynccontextmanager
    async def _open(self, request: _Request) -> AsyncIterator[aiohttp.ClientResponse]:
        """The answer to ``request`` once it is a success, redirects followed by hand.

        API redirects are followed only within the API's origin (token and all);
        file redirects may lead to any http(s) host, and never carry the token.
        """
        session = self._here().session
        target, query = request.url, request.params
        for _ in range(MAX_REDIRECTS + 1):
            _check_http(target, request.url)
            logger.debug("GET %s %s", target, query or "")
            async with session.get(target, params=query, headers=request.headers,
                                   allow_redirects=False, timeout=request.timeout) as response:
                location = response.headers.get("Location")
                if 300 <= response.status < 400 and location:
                    target, query = _redirected(target, location), None
                    if request.api:
                        self._check_origin(target, f"{request.url} redirects there.")
                    continue
                await self._check_status(response, target, request)
                yield response
                return
        raise ResponseFormatError(f"{request.url} redirects more than {MAX_REDIRECTS} times "
                                  "(a redirect loop?).")

    async def _check_status(self, response: aiohttp.ClientResponse, url: URL,
                            request: _Request) -> None:
        """Raise what a status that is not a success means (a retry or a typed error)."""
        status = response.status
        if status in request.ok:
            return
        if status in RETRY_STATUSES:
            raise _Retry(status, response.reason or "",
                         retry_after(response.headers.get("Retry-After")))
        text = await detail(response)
        if request.api:
            if self.settings.token:
                text = text.replace(self.settings.token, "<token>")
            if status in (401, 403):
                raise InvalidTokenError(
                    f"The WebCOOS API refused the token (HTTP {status}: {text}).")
            if status == 404:
                raise NotFoundError(f"{url} does not exist (HTTP 404: {text}).")
        elif status in (403, 404):  # S3 answers 403 for a missing key without list rights
            raise PathNotFoundError(f"No file at {url} (HTTP {status}).")
        raise RequestError(str(url), status, text)

    def _file_limit(self, size: int | None) -> int:
        """The most bytes a file may have: its listed size, else ``max_file_bytes``."""
        return self.settings.max_file_bytes if size is None else size

    def _pause(self, attempt: int, retry_after: float | None) -> float:
        """Exponential backoff with jitter; ``Retry-After`` wins when the server gives it."""
        if retry_after is not None:
            return min(retry_after, self.settings.max_backoff)
        ceiling = min(self.settings.max_backoff, self.settings.backoff * 2 ** (attempt - 1))
        return random.uniform(ceiling / 2, ceiling)

    def _check_origin(self, url: URL, why: str) -> None:
        if url.origin() != self.settings.origin:
            raise ForeignOriginError(
                f"Refusing to send the WebCOOS token to {url.origin()}: only "
                f"{self.settings.origin} is trusted. {why}"
            )

    def _timeout(self, read: float | None) -> aiohttp.ClientTimeout:
        return aiohttp.ClientTimeout(total=None, sock_connect=self.settings.timeout,
                                     sock_read=read or self.settings.timeout)


def _check_http(url: URL, asked: URL) -> None:
    """Refuse a URL that is not absolute http(s) with a host (``ftp:``, ``file:``...)."""
    if url.scheme not in ("http", "https") or not url.host:
        raise ResponseFormatError(f"{asked} leads to {str(url)[:200]!r}, which is not an "
                                  "http(s) URL; it is not followed.")


def _described(exc: BaseException) -> str:
    """``"ClientOSError: [Errno 104] ..."``: the kind of failure and its message."""
    return f"{type(exc).__name__}: {exc}".rstrip(": ")


def _redirected(current: URL, location: str) -> URL:
    try:
        return current.join(URL(location))
    except ValueError as exc:  # yarl says what is wrong with the server's Location
        raise ResponseFormatError(f"{current} redirects to a malformed URL "
                                  f"{location[:200]!r}.") from exc


async def _prefix(response: aiohttp.ClientResponse, stop: int) -> bytes:
    """The first ``stop`` bytes of a body; the rest is never read."""
    data = bytearray()
    async for chunk in response.content.iter_chunked(2**18):
        data += chunk[: stop - len(data)]
        if len(data) >= stop:
            break
    return bytes(data)


async def _within(response: aiohttp.ClientResponse, limit: int, url: str) -> bytes:
    """The whole body of a file, refusing more than ``limit`` bytes."""
    try:
        return await read_limited(response, limit)
    except BodyTooLarge:  # says only the limit, which the error gives
        raise oversized_file(url, limit) from None
