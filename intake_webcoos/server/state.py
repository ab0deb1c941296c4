"""What the stand-in's origins share: holdings, faults, variants, what they received.

Both aiohttp applications (the API origin and the file origin) take one
:class:`StandInState`; :class:`~intake_webcoos.server.StandIn` reads it to
answer tests' questions (requests seen, peak concurrency, ground truth).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web

from intake_webcoos.server.archive import Archive
from intake_webcoos.server.faults import FaultState
from intake_webcoos.server.files import FileBodies
from intake_webcoos.server.origins import FileOrigins
from intake_webcoos.server.payloads import Payloads
from intake_webcoos.server.variants import Variants

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the stand-in received it (for tests to inspect)."""

    origin: str
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    #: When it arrived (``time.monotonic()`` in the server's process).
    time: float = field(default_factory=time.monotonic)


@dataclass
class StandInState:
    """What the applications share.

    ``variants`` is replaced whole (never mutated), so a handler that reads it
    once sees one consistent reading for its whole answer.
    """

    archive: Archive
    payloads: Payloads
    bodies: FileBodies
    origins: FileOrigins
    token: str
    variants: Variants = field(default_factory=Variants)
    api_faults: FaultState = field(default_factory=FaultState)
    file_faults: FaultState = field(default_factory=FaultState)
    record: Callable[[RecordedRequest], None] = lambda r: None
    in_flight: dict[str, int] = field(default_factory=lambda: {"api": 0, "files": 0})
    #: Requests in flight, and their peak, among those that arrived since the requests
    #: were last cleared (a request still held from before does not count).
    fresh_in_flight: dict[str, int] = field(default_factory=lambda: {"api": 0, "files": 0})
    peak_in_flight: dict[str, int] = field(default_factory=lambda: {"api": 0, "files": 0})
    generation: int = 0

    def clear_peaks(self) -> None:
        """Start counting concurrent requests afresh."""
        self.generation += 1
        self.fresh_in_flight = dict.fromkeys(self.fresh_in_flight, 0)
        self.peak_in_flight = dict.fromkeys(self.peak_in_flight, 0)


def recorder(origin: str, state: StandInState):
    """A middleware that records each request and counts how many are in flight at once."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        state.record(RecordedRequest(origin, request.method, request.path,
                                     dict(request.query), dict(request.headers)))
        generation = state.generation
        state.in_flight[origin] += 1
        state.fresh_in_flight[origin] += 1
        state.peak_in_flight[origin] = max(state.peak_in_flight[origin],
                                           state.fresh_in_flight[origin])
        try:
            return await handler(request)
        finally:
            state.in_flight[origin] -= 1
            if generation == state.generation:
                state.fresh_in_flight[origin] -= 1

    return middleware
