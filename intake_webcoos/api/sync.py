"""The synchronous :class:`Client`: :class:`~intake_webcoos.api.client.AsyncClient`, made blocking.

Every public coroutine method of the async client is declared here as a class
attribute made by :func:`~intake_webcoos.api.bridge.blocking` (same name,
signature, docstring and return value), which runs it on fsspec's IO loop, the
loop the ``webcoos://`` filesystem also uses, so both share one connection pool.
Nothing is retyped, and a test checks that the two list the same methods.
"""

from __future__ import annotations

import inspect
from typing import Any

from intake_webcoos.api.bridge import blocking
from intake_webcoos.api.client import AsyncClient
from intake_webcoos.api.config import Settings


def mirrored_methods(cls: type = AsyncClient) -> list[str]:
    """Names of the public coroutine methods of ``cls`` (what :class:`Client` mirrors)."""
    return [name for name, member in inspect.getmembers(cls, inspect.iscoroutinefunction)
            if not name.startswith("_")]


def blocking_methods(cls: type) -> list[str]:
    """Names of the methods of ``cls`` made by :func:`~intake_webcoos.api.bridge.blocking`."""
    return sorted(name for name in dir(cls) if getattr(getattr(cls, name), "__blocking__", False))

class Client:
    """Synchronous client of the WebCOOS data API.

    It has every public method of :class:`~intake_webcoos.api.client.AsyncClient`
    (``assets``, ``elements``, ``inventory``, ``latest``...), blocking, with the
    same arguments and results.

    Parameters
    ----------
    token : str, optional
        API token; default ``$WEBCOOS_API_TOKEN``.
    base_url : str, optional
        API root; default ``$WEBCOOS_API_URL`` or ``https://app.webcoos.org/webcoos/api/v1``.
    **options
        Timeouts, retries, concurrency limits: see
        :class:`~intake_webcoos.api.config.Settings`.

    Examples
    --------
    >>> from intake_webcoos import Client                          # doctest: +SKIP
    >>> client = Client()                                          # doctest: +SKIP
    >>> client.elements("waikiki_sheraton", "one-minute-stills",
    ...                 "2025-09-10", "2025-09-10T23:59:59", every="10min")  # doctest: +SKIP
    """

    def __init__(self, token: str | None = None, base_url: str | None = None,
                 **options: Any) -> None:
        self.aclient = AsyncClient(token, base_url, **options)

    @classmethod
    def from_async(cls, aclient: AsyncClient) -> Client:
        """A facade over an existing async client (sharing its session and caches)."""
        client = cls.__new__(cls)
        client.aclient = aclient
        return client

    @property
    def settings(self) -> Settings:
        """The client's :class:`~intake_webcoos.api.config.Settings` (the token hidden)."""
        return self.aclient.settings

    def __repr__(self) -> str:
        token = "set" if self.settings.token else "missing"
        return f"<Client {self.settings.base_url} token={token}>"

    def __reduce__(self):
        return (Client.from_async, (self.aclient,))

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # One line per public coroutine method of AsyncClient (tests/test_sync.py checks the set).
    asset = blocking(AsyncClient.asset, via="aclient")
    assets = blocking(AsyncClient.assets, via="aclient")
    cameras = blocking(AsyncClient.cameras, via="aclient")
    close = blocking(AsyncClient.close, via="aclient")
    download = blocking(AsyncClient.download, via="aclient")
    elements = blocking(AsyncClient.elements, via="aclient")
    fetch = blocking(AsyncClient.fetch, via="aclient")
    inventory = blocking(AsyncClient.inventory, via="aclient")
    latest = blocking(AsyncClient.latest, via="aclient")
    me = blocking(AsyncClient.me, via="aclient")
    product = blocking(AsyncClient.product, via="aclient")
    products = blocking(AsyncClient.products, via="aclient")
    services = blocking(AsyncClient.services, via="aclient")


__all__ = ["Client", "blocking_methods", "mirrored_methods"]
