"""A synchronous facade over :class:`~intake_webcoos.api.client.AsyncClient`.

It runs the async client on fsspec's IO loop (a daemon thread), which the
``webcoos://`` filesystem also uses, so both share one loop and one
connection pool.
"""

from __future__ import annotations

from typing import Any

import fsspec.asyn
import pandas as pd

from .client import AsyncClient
from .models import Asset, Element, Product, Service
from .times import TimeLike


class Client:
    """Synchronous client of the WebCOOS data API.

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
    def settings(self):
        """The client's :class:`~intake_webcoos.api.config.Settings` (the token hidden)."""
        return self.aclient.settings

    @property
    def loop(self):
        return fsspec.asyn.get_loop()

    def _run(self, method, *args: Any, **kwargs: Any) -> Any:
        return fsspec.asyn.sync(self.loop, method, *args, **kwargs)

    def __repr__(self) -> str:
        token = "set" if self.settings.token else "missing"
        return f"<Client {self.settings.base_url} token={token}>"

    def __reduce__(self):
        return (Client.from_async, (self.aclient,))

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP session."""
        self._run(self.aclient.close)

    def me(self) -> dict[str, Any]:
        """The profile of the token's owner: a cheap check that the token works."""
        return self._run(self.aclient.me)

    def assets(self, *, refresh: bool = False) -> list[Asset]:
        """Every camera (cached on the client; ``refresh=True`` asks again)."""
        return self._run(self.aclient.assets, refresh=refresh)

    def asset(self, name: str) -> Asset:
        """One camera by slug or label."""
        return self._run(self.aclient.asset, name)

    def products(self, asset: str) -> list[Product]:
        """The products of a camera, streams included."""
        return self._run(self.aclient.products, asset)

    def services(self, asset: str, product: str) -> list[Service]:
        """The S3 services (with files) of a camera's product."""
        return self._run(self.aclient.services, asset, product)[2]

    def inventory(self, asset: str, product: str, freq: str = "daily") -> pd.DataFrame:
        """Counts and bytes per ``"daily"``, ``"weekly"`` or ``"monthly"`` bin (UTC)."""
        return self._run(self.aclient.inventory, asset, product, freq)

    def latest(self, asset: str, product: str) -> Element:
        """The newest element of a camera's product."""
        return self._run(self.aclient.latest, asset, product)

    def elements(self, asset: str, product: str, start: TimeLike | None = None,
                 end: TimeLike | None = None, *, ordering: str = "starting",
                 every: str | pd.Timedelta | None = None) -> pd.DataFrame:
        """Elements with ``start <= time <= end`` as the elements frame.

        See :meth:`AsyncClient.elements <intake_webcoos.api.client.AsyncClient.elements>`.
        """
        return self._run(self.aclient.elements, asset, product, start, end,
                         ordering=ordering, every=every)

    def fetch(self, url: str, start: int | None = None, end: int | None = None) -> bytes:
        """The bytes of an element file (or ``[start, end)`` of it); no token is sent."""
        return self._run(self.aclient.fetch, url, start, end)
