"""Fault injection for the stand-in: latency, error answers, broken bodies.

Off by default.  Each origin (API, files) has its own :class:`Faults` and its
own seeded random stream, so a serial run of requests meets the same faults
every time.  One uniform draw per request picks at most one fault, so the
rates add up (and must not exceed 1).
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field

from aiohttp import web


@dataclass(frozen=True)
class Faults:
    """What goes wrong, and how often, on one origin.

    Parameters
    ----------
    latency : float
        Seconds added before every answer (time to first byte).
    error_rate : float
        Fraction of requests answered with one of ``error_statuses``.
    error_statuses : tuple of int
        Statuses used for ``error_rate`` answers.
    throttle_rate : float
        Fraction answered ``429 Too Many Requests`` with ``Retry-After``.
    retry_after : str
        Value of the ``Retry-After`` header of 429 answers (seconds).
    drop_rate : float
        Fraction of requests whose connection is closed without an answer.
    truncate_rate : float
        Fraction whose body stops short of its ``Content-Length``.
    slow_rate : float
        Fraction whose body trickles out over ``slow_seconds``.
    slow_seconds : float
        How long a slow body takes.
    seed : int
        Seed of this origin's random stream.
    """

    latency: float = 0.0
    error_rate: float = 0.0
    error_statuses: tuple[int, ...] = (500, 502, 503, 504)
    throttle_rate: float = 0.0
    retry_after: str = "1"
    drop_rate: float = 0.0
    truncate_rate: float = 0.0
    slow_rate: float = 0.0
    slow_seconds: float = 5.0
    seed: int = 0

    def __post_init__(self) -> None:
        rates = (self.error_rate, self.throttle_rate, self.drop_rate, self.truncate_rate,
                 self.slow_rate)
        if any(r < 0 for r in rates) or sum(rates) > 1 + 1e-9:
            raise ValueError("fault rates must be >= 0 and add up to at most 1")
        if self.latency < 0 or self.slow_seconds < 0:
            raise ValueError("latency and slow_seconds must be >= 0")


@dataclass
class FaultState:
    """The faults in force on one origin and the random stream that draws them."""

    faults: Faults = field(default_factory=Faults)
    rng: random.Random = field(init=False)
    counts: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.faults.seed)

    def set(self, faults: Faults) -> None:
        self.faults = faults
        self.rng = random.Random(faults.seed)
        self.counts = {}

    def draw(self) -> str | None:
        """The fault for the next request, or None."""
        f = self.faults
        u = self.rng.random()
        for name, rate in (("error", f.error_rate), ("throttle", f.throttle_rate),
                           ("drop", f.drop_rate), ("truncate", f.truncate_rate),
                           ("slow", f.slow_rate)):
            if u < rate:
                self.counts[name] = self.counts.get(name, 0) + 1
                return name
            u -= rate
        return None


def fault_middleware(state: FaultState):
    """An aiohttp middleware that applies ``state``'s faults to every request."""

    @web.middleware
    async def middleware(request: web.Request, handler):
        faults = state.faults
        fault = state.draw()
        if faults.latency:
            await asyncio.sleep(faults.latency)
        if fault == "error":
            status = state.rng.choice(faults.error_statuses)
            return web.json_response({"detail": "Injected server error."}, status=status)
        if fault == "throttle":
            return web.json_response(
                {"detail": "Request was throttled."}, status=429,
                headers={"Retry-After": faults.retry_after},
            )
        if fault == "drop":
            _drop(request)
            raise asyncio.CancelledError  # nothing may be written on a dropped connection
        response = await handler(request)
        if fault in ("truncate", "slow") and isinstance(response, web.Response):
            return await _broken_body(request, response, fault, faults.slow_seconds)
        return response

    return middleware


def _drop(request: web.Request) -> None:
    transport = request.transport
    if transport is not None:
        transport.abort()


async def _broken_body(request: web.Request, response: web.Response, fault: str,
                       slow_seconds: float) -> web.StreamResponse:
    """Send ``response`` with a full ``Content-Length`` but a short or slow body."""
    body = response.body if isinstance(response.body, bytes) else b""
    stream = web.StreamResponse(status=response.status, headers=response.headers)
    stream.content_length = len(body)
    await stream.prepare(request)
    if fault == "truncate":
        await stream.write(body[: len(body) // 2])
        _drop(request)
        raise asyncio.CancelledError
    pieces = 10
    step = -(-len(body) // pieces) or 1
    try:
        for i in range(0, max(len(body), 1), step):
            await asyncio.sleep(slow_seconds / pieces)
            await stream.write(body[i : i + step])
        await stream.write_eof()
    except ConnectionResetError:  # the client gave up waiting: that is the point
        pass
    return stream
