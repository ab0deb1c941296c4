"""The synchronous :class:`Client`: :class:`~intake_webcoos.api.client.AsyncClient`, made blocking.

Every public coroutine method of the async client is mirrored here by one
generic wrapper (same name, signature, docstring and return value) that runs it
on fsspec's IO loop, the loop the ``webcoos://`` filesystem also uses, so both
share one connection pool.  Nothing is retyped, so the two cannot drift.

:func:`run` is how every blocking call of the package waits for the IO loop:
Ctrl-C (``KeyboardInterrupt``) cancels the work on the loop, and waits a moment
for its clean-up (temporary files, connections), instead of leaving it running.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import inspect
import threading
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import fsspec.asyn

from intake_webcoos.api.client import AsyncClient
from intake_webcoos.api.config import Settings

_T = TypeVar("_T")
#: Seconds an interrupted call waits for its work on the loop to be cancelled and cleaned up.
CANCEL_GRACE = 5.0


def run(func: Callable[..., Awaitable[_T]], *args: Any, **kwargs: Any) -> _T:
    """``await func(*args, **kwargs)`` on fsspec's IO loop, from a thread outside it.

    Raises
    ------
    KeyboardInterrupt
        After the work on the loop was cancelled and its clean-up ran (or
        :data:`CANCEL_GRACE` seconds passed).
    """
    loop = fsspec.asyn.get_loop()
    try:
        inside = asyncio.get_running_loop() is loop
    except RuntimeError:
        inside = False
    if inside:
        raise NotImplementedError("a blocking call cannot run on the IO loop it waits for")
    finished = threading.Event()

    async def guarded() -> _T:
        try:
            return await func(*args, **kwargs)
        finally:
            finished.set()

    future = asyncio.run_coroutine_threadsafe(guarded(), loop)
    try:
        while True:  # short waits, so that Ctrl-C is seen on every platform
            try:
                return future.result(timeout=0.25)
            except concurrent.futures.TimeoutError:
                continue
    except KeyboardInterrupt:
        loop.call_soon_threadsafe(future.cancel)
        finished.wait(CANCEL_GRACE)
        raise


def mirrored_methods(cls: type = AsyncClient) -> list[str]:
    """Names of the public coroutine methods of ``cls`` (what :class:`Client` mirrors)."""
    return [name for name, member in inspect.getmembers(cls, inspect.iscoroutinefunction)
            if not name.startswith("_")]


def _blocking(name: str, method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def call(self: Client, *args: Any, **kwargs: Any) -> Any:
        return run(getattr(self.aclient, name), *args, **kwargs)

    return call


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


for _name in mirrored_methods():
    setattr(Client, _name, _blocking(_name, getattr(AsyncClient, _name)))
del _name
