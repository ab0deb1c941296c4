"""One aiohttp session per event loop, with the slots and pace that bound its requests.

aiohttp sessions, semaphores and limiters belong to the loop they were made
on; a client used from several loops (fsspec's IO loop, ``asyncio.run``) gets
a set on each, and a forgotten one is closed without blocking.
"""

from __future__ import annotations

import asyncio
import threading

import aiohttp
from aiolimiter import AsyncLimiter

from intake_webcoos.api.config import Settings
from intake_webcoos.version import __version__

#: Sent with every request, so that WebCOOS can tell (and reach) this client.
USER_AGENT = (f"intake-webcoos/{__version__} (+https://pypi.org/project/intake-webcoos/) "
              f"aiohttp/{aiohttp.__version__}")

class LoopResources:
    """The session, request slots and API pace of one event loop (all are loop-bound)."""

    def __init__(self, settings: Settings) -> None:
        self.loop = asyncio.get_running_loop()
        connector = aiohttp.TCPConnector(
            limit=settings.api_concurrency + settings.file_concurrency, ttl_dns_cache=300
        )
        # No cookie jar: a cookie the API sets must never reach a file host.
        self.session = aiohttp.ClientSession(connector=connector, trust_env=False,
                                             cookie_jar=aiohttp.DummyCookieJar(),
                                             headers={"User-Agent": USER_AGENT})
        self.api_slots = asyncio.Semaphore(settings.api_concurrency)
        self.file_slots = asyncio.Semaphore(settings.file_concurrency)
        # A leaky bucket: a burst may start at once, then api_rate per second.
        self.api_pace = AsyncLimiter(settings.api_burst, settings.api_burst / settings.api_rate)


def close_session(loop: asyncio.AbstractEventLoop, session: aiohttp.ClientSession) -> None:
    """Close a forgotten transport's sockets without blocking (finalizers may run on the loop).

    Closing the connector marks the session closed too, so aiohttp does not warn.
    """
    connector = session.connector
    if connector is None or connector.closed:
        return
    try:
        on_loop = asyncio.get_running_loop() is loop
    except RuntimeError:
        on_loop = False
    if on_loop or not loop.is_running() or loop.is_closed():
        connector._close()
        return
    # Sockets belong to the loop's thread: close them there, waiting only briefly
    # (at interpreter exit the loop may never get to it).
    closed = threading.Event()

    def close() -> None:
        connector._close()
        closed.set()

    loop.call_soon_threadsafe(close)
    closed.wait(0.2)
