"""Where the API is, how to authenticate, and how hard to try.

The token is held by :class:`Settings` but never shown: it is excluded from
``repr``, from pickles (a pickled client reads ``WEBCOOS_API_TOKEN`` again
where it is unpickled) and from anything serialised.
"""

from __future__ import annotations

import os
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from yarl import URL

from intake_webcoos.api.cache import (
    CACHE_DIR_ENV,
    Store,
    default_directory,
    enabled_by_default,
    store,
)
from intake_webcoos.errors import InvalidArgumentError, InvalidTokenError

DEFAULT_BASE_URL = "https://app.webcoos.org/webcoos/api/v1"
TOKEN_ENV = "WEBCOOS_API_TOKEN"
BASE_URL_ENV = "WEBCOOS_API_URL"
RATE_ENV = "WEBCOOS_API_RATE"


def clean_token(token: str | None) -> str | None:
    """The token without surrounding whitespace (None when nothing is left).

    Raises
    ------
    InvalidTokenError
        A control character is left inside it (never shown: the message names
        only its position).
    """
    if token is None:
        return None
    token = token.strip()
    for position, character in enumerate(token, start=1):
        if unicodedata.category(character) in ("Cc", "Cf", "Zl", "Zp") or character.isspace():
            raise InvalidTokenError(
                f"The WebCOOS API token holds a control or space character (character "
                f"{position} of {len(token)}): it was probably pasted with a line break or "
                "a tab.")
    return token or None


@dataclass(frozen=True)
class Settings:
    """Configuration of an API client.

    Parameters
    ----------
    base_url : str
        The API root, e.g. ``https://app.webcoos.org/webcoos/api/v1``.
    token : str or None
        The API token (kept out of reprs and pickles).
    timeout : float
        Seconds to wait for any read of an answer (and to connect).
    inventory_timeout : float
        Seconds :meth:`~intake_webcoos.api.client.AsyncClient.inventory` waits in all
        (attempts included) for an inventory, which WebCOOS may take minutes to answer.
    inventory_wait : float
        Seconds the filesystem waits for an inventory to name the folders with data
        before it finds them from the service's extent and day listings instead.
    retries : int
        Attempts per request on 429/5xx, dropped connections and timeouts.
    backoff : float
        First pause between attempts, doubled each time (with jitter).
    max_backoff : float
        Longest pause between attempts (also caps ``Retry-After``).
    api_concurrency : int
        Requests in flight to the API at once.
    api_rate : float
        Sustained API requests per second (default ``$WEBCOOS_API_RATE`` or 5):
        WebCOOS asks bulk users to pace themselves. Attempts count, retries included.
    api_burst : int
        Requests that may start at once before the rate applies (a leaky bucket),
        so a short listing is not slowed while a year-long one is paced.
    file_concurrency : int
        File transfers in flight at once (files come from S3, which copes with more).
    page_size : int
        Elements asked for per page (a server that serves fewer is followed correctly).
    assets_ttl : float
        Seconds the camera list is cached on the client.
    deadline : float
        Seconds one attempt of a request may take in all, body included (a host
        that trickles a byte at a time is cut off).
    max_api_bytes : int
        The largest API answer read (after decompression); more is refused.
    max_file_bytes : int
        The largest element file read when the listing gives no size.
    max_pages : int
        The most pages one window of a listing may have (a day of stills is one).
    late_uploads : float
        Seconds after a UTC day ends during which elements of it may still arrive
        (uploads run late): an inventory's empty day counts as empty only after that,
        and a day's listing is kept in the cache only after that.
    cache : bool
        Keep answers that do not change on disk (default: on, unless
        ``WEBCOOS_CACHE=off``); see :mod:`intake_webcoos.api.cache`.
    cache_dir : str or None
        Where (default ``$WEBCOOS_CACHE_DIR``, else the user's cache folder).
    cache_files : bool
        Keep element files too (they never change), so a second read of a file
        fetches nothing.
    catalogue_ttl, inventory_ttl : float
        Seconds the camera list and an inventory stay valid in the cache.
    cache_api_bytes, cache_file_bytes : int
        Size limits of the cached API answers and element files; the least
        recently used go first.
    """

    base_url: str = DEFAULT_BASE_URL
    token: str | None = field(default=None, repr=False, compare=False)
    timeout: float = 60.0
    inventory_timeout: float = 300.0
    inventory_wait: float = 20.0
    retries: int = 5
    backoff: float = 0.5
    max_backoff: float = 30.0
    api_concurrency: int = 4
    api_rate: float = 5.0
    api_burst: int = 10
    file_concurrency: int = 64
    page_size: int = 1000
    assets_ttl: float = 600.0
    deadline: float = 900.0
    max_api_bytes: int = 64 * 2**20
    max_file_bytes: int = 4 * 2**30
    max_pages: int = 100
    late_uploads: float = 6 * 3600.0
    cache: bool = True
    cache_dir: str | None = None
    cache_files: bool = False
    catalogue_ttl: float = 3600.0
    inventory_ttl: float = 86400.0
    cache_api_bytes: int = 2**30
    cache_file_bytes: int = 10 * 2**30

    def __post_init__(self) -> None:
        # Frozen, but a token pasted with a line break is cleaned once, here.
        object.__setattr__(self, "token", clean_token(self.token))
        url = URL(self.base_url)
        if url.scheme not in ("http", "https") or not url.host:
            raise InvalidArgumentError(
                f"base_url={self.base_url!r} is not an http(s) URL: give the API root, e.g. "
                f"{DEFAULT_BASE_URL} (from base_url= or {BASE_URL_ENV}).")
        if min(self.retries, self.api_concurrency, self.file_concurrency, self.api_burst,
               self.page_size, self.max_pages, self.max_api_bytes, self.max_file_bytes) < 1:
            raise InvalidArgumentError("retries, concurrency limits, api_burst, page_size and "
                                       "the max_* limits must be at least 1")
        if not self.api_rate > 0 or min(self.timeout, self.inventory_timeout,
                                        self.inventory_wait, self.deadline) <= 0:
            raise InvalidArgumentError("api_rate and every timeout must be positive")

    @classmethod
    def resolve(cls, token: str | None = None, base_url: str | None = None,
                **options: Any) -> Settings:
        """Settings from arguments, falling back to the environment, then defaults."""
        if "api_rate" not in options and os.environ.get(RATE_ENV):
            try:
                options["api_rate"] = float(os.environ[RATE_ENV])
            except ValueError:  # float()'s complaint only repeats the value quoted here
                raise InvalidArgumentError(f"{RATE_ENV} must be a number of requests per "
                                           f"second, not {os.environ[RATE_ENV]!r}") from None
        options.setdefault("cache", enabled_by_default())
        options.setdefault("cache_dir", os.environ.get(CACHE_DIR_ENV) or None)
        return cls(
            base_url=(base_url or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL).rstrip("/"),
            token=token or os.environ.get(TOKEN_ENV) or None,
            **options,
        )

    @property
    def origin(self) -> URL:
        """Scheme, host and port of the API: the only place the token is sent."""
        return URL(self.base_url).origin()

    @property
    def root(self) -> URL:
        """The API root with a trailing slash, to join paths onto."""
        return URL(self.base_url.rstrip("/") + "/")

    def cache_store(self) -> Store | None:
        """The on-disk cache these settings name, or None when it is off."""
        if not self.cache:
            return None
        return store(self.cache_dir or default_directory(), self.cache_api_bytes,
                     self.cache_file_bytes)

    def public_options(self) -> dict[str, Any]:
        """Every setting but the token, as keyword arguments."""
        return {k: v for k, v in self.__dict__.items() if k != "token"}
