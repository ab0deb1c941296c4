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
import orjson
from yarl import URL

from ..errors import (
    ForeignOriginError,
    InvalidTokenError,
    MissingTokenError,
    NotFoundError,
    PathNotFoundError,
    RequestError,
    ServerError,
    TruncatedDownloadError,
)
from .bodies import detail, gc_paused, stream_to
from .config import Settings
from .sessions import LoopResources, close_session

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
            body = await response.read()
            try:
                with gc_paused():
                    return orjson.loads(body)
            except orjson.JSONDecodeError:
                raise _Retry(response.status, "the answer was not valid JSON") from None

        self.api_requests += 1
        return await self._attempts(request, read, self._here().api_slots)

    async def fetch(self, url: str, start: int | None = None, end: int | None = None) -> bytes:
        """The bytes of an element file, or of ``[start, end)`` of it, without the token.

        Element files are public (S3), so nothing but the URL is sent.  A body
        shorter than its ``Content-Length`` is retried like a dropped connection.

        Raises
        ------
        PathNotFoundError
            The file host has no such file.
        """
        headers = {}
        if start is not None or end is not None:
            first = start or 0
            if end is not None and end <= first:
                return b""
            headers["Range"] = f"bytes={first}-{'' if end is None else end - 1}"
        request = _Request(URL(url), api=False, headers=headers, timeout=self._timeout(None),
                           ok=frozenset({200, 206, 416}))

        async def read(response: aiohttp.ClientResponse) -> bytes:
            if response.status == 416:  # the range starts past the end of the file
                return b""
            data = await response.read()
            if response.status == 200 and headers:  # the host ignored Range: cut locally
                return data[start or 0 : end]
            return data

        return await self._attempts(request, read, self._here().file_slots)

    async def download(self, url: str, path: str | os.PathLike, *, size: int | None = None,
                       callback: Any = None, chunk_size: int = 2**18) -> int:
        """Stream an element file to ``path`` atomically; returns the bytes written.

        The bytes go to a hidden temporary file beside ``path``, which is renamed
        to ``path`` only when complete and, if ``size`` is given, of that size.
        Whatever fails, no partial file is left under either name.

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

        Raises
        ------
        TruncatedDownloadError
            The file arrived with another size than the listing announced.
        PathNotFoundError
            The file host has no such file.
        """
        target = os.fspath(path)
        folder, name = os.path.split(target)
        request = _Request(URL(url), api=False, timeout=self._timeout(None))

        async def save(response: aiohttp.ClientResponse) -> int:
            temporary = os.path.join(folder, f".{name}.{secrets.token_hex(4)}.part")
            try:
                written = await stream_to(response, temporary, size, callback, chunk_size)
                if size is not None and written != size:
                    raise TruncatedDownloadError(
                        f"{url} arrived with {written} bytes, but the listing says {size}; "
                        "nothing was written. Try again; if it persists, report it to WebCOOS."
                    )
                os.replace(temporary, target)
                return written
            finally:
                if os.path.exists(temporary):
                    os.unlink(temporary)

        return await self._attempts(request, save, self._here().file_slots)

    # -- the one loop of attempts ------------------------------------------------
    async def _attempts(self, request: _Request,
                        consume: Callable[[aiohttp.ClientResponse], Awaitable[_T]],
                        slots: asyncio.Semaphore) -> _T:
        """Open ``request`` and ``consume`` its answer until that succeeds.

        429/5xx answers, dropped connections, broken bodies and timeouts are
        retried with backoff; every other failure raises at once.
        """
        status: int | None = None
        reason = ""
        retries = self.settings.retries
        for n in range(1, retries + 1):
            wait: float | None = None
            async with slots:
                if request.api:  # element files come from a public bucket: not paced
                    await self._here().api_pace.acquire()
                try:
                    async with self._open(request) as response:
                        return await consume(response)
                except _Retry as retry:
                    status, reason, wait = retry.status, retry.reason, retry.wait
                except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError,
                        TimeoutError) as exc:
                    status, reason = None, f"{type(exc).__name__}: {exc}".rstrip(": ")
            logger.info("attempt %d of %d at %s failed: %s %s", n, retries,
                        request.url.with_query(None), status or "", reason)
            if n < retries:
                await asyncio.sleep(self._pause(n, wait))
        raise ServerError(str(request.url), status, retries, reason)

    @contextlib.asynccontextmanager
    async def _open(self, request: _Request) -> AsyncIterator[aiohttp.ClientResponse]:
        """The answer to ``request`` once it is a success, redirects followed by hand.

        API redirects are followed only within the API's origin (token and all);
        file redirects may lead to any host, and never carry the token.
        """
        session = self._here().session
        target, query = request.url, request.params
        for _ in range(MAX_REDIRECTS + 1):
            logger.debug("GET %s %s", target, query or "")
            async with session.get(target, params=query, headers=request.headers,
                                   allow_redirects=False, timeout=request.timeout) as response:
                location = response.headers.get("Location")
                if 300 <= response.status < 400 and location:
                    target, query = target.join(URL(location)), None
                    if request.api:
                        self._check_origin(target, f"{request.url} redirects there.")
                    continue
                await self._check_status(response, target, request)
                yield response
                return
        raise ServerError(str(request.url), None, 1, "too many redirects")

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
                    f"The WebCOOS API refused the token (HTTP {status}: {text}). Copy a "
                    "fresh token from your profile page at https://app.webcoos.org and pass "
                    "it as token=... or WEBCOOS_API_TOKEN.")
            if status == 404:
                raise NotFoundError(f"{url} does not exist (HTTP 404: {text}).")
        elif status in (403, 404):  # S3 answers 403 for a missing key without list rights
            raise PathNotFoundError(f"No file at {url} (HTTP {status}).")
        raise RequestError(str(url), status, text)

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
