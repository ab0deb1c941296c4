"""Run the stand-in WebCOOS server: in a background thread, or in the foreground."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import secrets
import socket
import threading
from collections import deque
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import numpy as np
from aiohttp import web

from intake_webcoos.server.api_origin import API_PREFIX, api_app
from intake_webcoos.server.archive import (
    DEFAULT_DAYLIGHT,
    DEFAULT_SPAN_DAYS,
    DEFAULT_SPAN_END,
    Archive,
    Holdings,
)
from intake_webcoos.server.cameras import CAMERAS
from intake_webcoos.server.faults import Faults
from intake_webcoos.server.file_origin import files_app
from intake_webcoos.server.files import FileBodies
from intake_webcoos.server.origins import FileOrigins
from intake_webcoos.server.payloads import Payloads
from intake_webcoos.server.state import RecordedRequest, StandInState
from intake_webcoos.server.variants import Variants
from intake_webcoos.server.video import VideoSettings
from intake_webcoos.world.geometry import CameraGeometry

HOST = "127.0.0.1"


def _bind(port: int) -> socket.socket:
    """A TCP socket bound to loopback only (never to every interface)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, port))
    return sock


class StandIn:
    """A stand-in WebCOOS API and file host on loopback, with synthetic data.

    Use it as a context manager (it runs in a background thread)::

        with StandIn() as s:
            client = Client(token=s.token, base_url=s.api_url)

    Parameters
    ----------
    token : str, optional
        The API token it accepts (random if not given).
    span_days : float
        Days of data each active camera holds.
    span_end : datetime or str
        End (exclusive, UTC) of the data; fixed by default so runs are reproducible.
    frame_size : tuple of int
        ``(width, height)`` of the JPEG stills, up to the real 2688x1520.
    daylight : tuple of int
        Local clock hours ``[first, last)`` during which cameras record.
    api_faults, file_faults : Faults, optional
        Fault injection on each origin (off by default); change them later
        with :meth:`set_faults` or :meth:`faults`.
    api_port, files_port : int
        Ports to bind on 127.0.0.1 (0 picks free ones).
    seed : int
        Varies timing jitter and sizes (deterministically).
    cache_bytes : int
        Bound on the bytes of rendered files kept in memory.
    record_limit : int
        How many received requests are kept for :attr:`requests`.
    resolution_changes : dict, optional
        ``{camera: (when, (width, height))}``: that camera's stills have another
        frame size from ``when`` on, as when a camera is replaced.
    video : VideoSettings, optional
        Length, frame rate, size, key frame interval, bitrate and on-disk
        folder of the ``video-archive`` clips (small by default; the listing's
        ``duration`` follows); ``VideoSettings.camera(1920, 1080)`` gives clips
        as cameras record them (600 s at 20 fps, about 90 MB each).
    variants : Variants, optional
        Which reading of the real API to serve where the public record is
        unclear (see :class:`Variants`); change them later with
        :meth:`set_variants` or :meth:`variants`.  The switches: ``end_rule``
        (``starting_before`` exclusive or inclusive), ``pagination`` (nine or
        five fields), ``page_size_cap`` (a silent cap on page sizes),
        ``null_durations`` (video ``duration`` null), ``inventory_delay`` and
        ``inventory_status`` (a slow or failing inventory), ``raw_colons``
        (unencoded ``:`` in element URLs), ``bad_token_status`` (403 or 401 for
        a wrong token), ``latest_routes`` (only the asset latest route),
        ``assets_pagination`` (whether ``/assets/`` has a pagination block),
        ``malformed_every`` (every Nth element record broken) and
        ``file_origins`` (a second, virtual-host style file origin; see
        :attr:`files_urls`).
    """

    def __init__(
        self,
        token: str | None = None,
        *,
        span_days: float = DEFAULT_SPAN_DAYS,
        span_end: datetime | str = DEFAULT_SPAN_END,
        frame_size: tuple[int, int] = (1280, 720),
        daylight: tuple[int, int] = DEFAULT_DAYLIGHT,
        api_faults: Faults | None = None,
        file_faults: Faults | None = None,
        api_port: int = 0,
        files_port: int = 0,
        seed: int = 0,
        cache_bytes: int = 512 * 2**20,
        record_limit: int = 100_000,
        resolution_changes: dict[str, tuple[datetime | str, tuple[int, int]]] | None = None,
        video: VideoSettings | None = None,
        variants: Variants | None = None,
    ) -> None:
        if isinstance(span_end, str):
            span_end = datetime.fromisoformat(span_end)
        if span_end.tzinfo is None:
            span_end = span_end.replace(tzinfo=UTC)
        self.token = token if token is not None else secrets.token_hex(20)
        self._span = (span_end, span_days, daylight, seed)
        self._ports = (api_port, files_port)
        changes = {camera: (_epoch(when), size)
                   for camera, (when, size) in (resolution_changes or {}).items()}
        self.bodies = FileBodies(*frame_size, cache_bytes=cache_bytes,
                                 resolution_changes=changes, video=video)
        self._requests: deque[RecordedRequest] = deque(maxlen=record_limit)
        # Requests received per origin since the last clear_requests(), and the condition
        # that wait_for_requests() waits on (notified by _record, in the server's thread).
        self._received = {"api": 0, "files": 0}
        self._arrived = threading.Condition()
        self._initial_faults = (api_faults or Faults(), file_faults or Faults())
        self._initial_variants = variants or Variants()
        self._state: StandInState | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runners: list[web.AppRunner] = []
        self.api_port = self.files_port = 0

    # -- URLs ---------------------------------------------------------------
    @property
    def origin(self) -> str:
        """``http://127.0.0.1:PORT`` of the API (``/u/api/me/`` lives at its root)."""
        return f"http://{HOST}:{self.api_port}"

    @property
    def api_url(self) -> str:
        """Base URL of the API, the value to pass as ``base_url``."""
        return f"{self.origin}{API_PREFIX}"

    @property
    def files_url(self) -> str:
        """Base URL of the first file origin (where element URLs point)."""
        return f"http://{HOST}:{self.files_port}"

    @property
    def files_urls(self) -> list[str]:
        """Base URLs of the file origins the current variants use (:attr:`files_url` first)."""
        return self.state.origins.urls[: self.state.variants.file_origins]

    def __repr__(self) -> str:
        state = f"api={self.api_url} files={self.files_url}" if self.api_port else "stopped"
        return f"<StandIn {state}>"

    # -- life cycle ---------------------------------------------------------
    def start(self) -> StandIn:
        """Start serving in a background thread; returns when both ports are bound."""
        if self._thread is not None:
            return self
        ready = threading.Event()
        failure: list[BaseException] = []
        self._loop = asyncio.new_event_loop()

        def run() -> None:
            asyncio.set_event_loop(self._loop)
            try:
                self._loop.run_until_complete(self._serve())
            except BaseException as exc:  # reported to the starting thread
                failure.append(exc)
                ready.set()
                return
            ready.set()
            self._loop.run_forever()
            self._loop.run_until_complete(self._cleanup())
            self._loop.close()

        self._thread = threading.Thread(target=run, name="webcoos-standin", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            self._thread = None
            raise failure[0]
        return self

    def stop(self) -> None:
        """Stop serving and free the ports."""
        if self._thread is None or self._loop is None:
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._thread = None

    def __enter__(self) -> StandIn:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    async def _serve(self) -> None:
        # Bind first: element URLs name the file origins' ports.
        api_sock, files_sock = (_bind(port) for port in self._ports)
        self.api_port = api_sock.getsockname()[1]
        self.files_port = files_sock.getsockname()[1]
        span_end, span_days, daylight, seed = self._span
        archive = Archive(self.files_url, span_end=span_end, span_days=span_days,
                          daylight=daylight, file_sizes=self.bodies.file_sizes, seed=seed,
                          clip_seconds=self.bodies.video.seconds)
        origins = FileOrigins(archive)
        state = StandInState(archive, Payloads(archive, self.bodies.lqip, origins), self.bodies,
                             origins, self.token, record=self._record)
        state.api_faults.set(self._initial_faults[0])
        state.file_faults.set(self._initial_faults[1])
        self._state = state
        await self._start_site(api_app(state), api_sock)
        await self._start_site(files_app(state), files_sock)
        await self._use_variants(self._initial_variants)

    async def _start_site(self, app: web.Application, sock: socket.socket) -> None:
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        await web.SockSite(runner, sock).start()
        self._runners.append(runner)

    async def _use_variants(self, variants: Variants) -> None:
        """Switch to ``variants``, first starting the second file origin if they need it."""
        state = self.state
        if variants.file_origins > len(state.origins.urls):
            # Started on first need and kept: URLs handed out earlier stay valid.
            sock = _bind(0)
            state.origins.add(f"http://{HOST}:{sock.getsockname()[1]}")
            await self._start_site(files_app(state, origin=1), sock)
        state.variants = variants

    async def _cleanup(self) -> None:
        for runner in self._runners:
            await runner.cleanup()
        self._runners.clear()

    # -- faults -------------------------------------------------------------
    @property
    def state(self) -> StandInState:
        if self._state is None:
            raise RuntimeError("the stand-in is not running; use it in a with block")
        return self._state

    def set_faults(self, api: Faults | None = None, files: Faults | None = None) -> None:
        """Replace the faults of the API and/or file origin (None leaves one as is)."""
        if api is not None:
            self.state.api_faults.set(api)
        if files is not None:
            self.state.file_faults.set(files)

    @contextlib.contextmanager
    def faults(self, api: Faults | None = None, files: Faults | None = None) -> Iterator[None]:
        """Apply faults inside a ``with`` block, then restore the ones before."""
        before = (self.state.api_faults.faults, self.state.file_faults.faults)
        self.set_faults(api, files)
        try:
            yield
        finally:
            self.set_faults(*before)

    def fault_counts(self, origin: str = "api") -> dict[str, int]:
        """How many faults of each kind were injected since the faults were last set."""
        state = self.state.api_faults if origin == "api" else self.state.file_faults
        return dict(state.counts)

    # -- variants -------------------------------------------------------------
    @property
    def current_variants(self) -> Variants:
        """The variants in force."""
        return self.state.variants

    def set_variants(self, variants: Variants) -> None:
        """Serve another reading of the API from now on (call it from outside the server).

        Pages and assets served before keep their URLs valid: a second file
        origin, once started, keeps serving.
        """
        if self._loop is None or self._thread is None:
            raise RuntimeError("the stand-in is not running; start it before switching variants")
        asyncio.run_coroutine_threadsafe(self._use_variants(variants), self._loop).result()

    @contextlib.contextmanager
    def variants(self, variants: Variants) -> Iterator[None]:
        """Serve ``variants`` inside a ``with`` block, then restore the ones before."""
        before = self.state.variants
        self.set_variants(variants)
        try:
            yield
        finally:
            self.set_variants(before)

    # -- what the server saw ------------------------------------------------
    @property
    def requests(self) -> list[RecordedRequest]:
        """Requests received so far (oldest first), with their headers."""
        return list(self._requests)

    def requests_to(self, origin: str) -> list[RecordedRequest]:
        """Received requests of one origin: ``"api"`` or ``"files"``."""
        return [r for r in self._requests if r.origin == origin]

    def clear_requests(self) -> None:
        """Forget the requests received so far (and the peak of concurrent requests)."""
        with self._arrived:
            self._requests.clear()
            self._received = dict.fromkeys(self._received, 0)
        self.state.clear_peaks()

    def wait_for_requests(self, origin: str, count: int, timeout: float) -> bool:
        """Block until ``count`` requests to ``origin`` have arrived since :meth:`clear_requests`.

        For tests that act while a client is mid-way (e.g. kill a download once it
        has asked for some files) without polling.

        Parameters
        ----------
        origin : str
            ``"api"`` or ``"files"``.
        count : int
            How many requests of that origin (each attempt counts).
        timeout : float
            Seconds to wait at most.

        Returns
        -------
        bool
            True once that many have arrived; False if ``timeout`` passed first.
        """
        with self._arrived:
            return self._arrived.wait_for(lambda: self._received[origin] >= count, timeout)

    def _record(self, request: RecordedRequest) -> None:
        """Keep ``request`` (the server's recorder calls this) and wake the waiters."""
        with self._arrived:
            self._requests.append(request)
            self._received[request.origin] += 1
            self._arrived.notify_all()

    def peak_in_flight(self, origin: str) -> int:
        """Most requests of one origin at once, of those since :meth:`clear_requests`."""
        return self.state.peak_in_flight[origin]

    # -- ground truth, without HTTP ------------------------------------------
    def holdings(self, asset: str, product: str) -> Holdings:
        holdings = self.state.archive.holdings_for(asset, product)
        if holdings is None:
            raise KeyError(f"the stand-in has no S3 service for {asset}/{product}")
        return holdings

    def elements(self, asset: str, product: str, start: Any = None,
                 end: Any = None) -> list[dict[str, Any]]:
        """The element objects with ``start <= time <= end``, exactly as the API lists them.

        Both bounds are inclusive whatever ``end_rule`` says; the objects are
        the current variants' (URLs, durations, malformed records).
        """
        holdings = self.holdings(asset, product)
        lo, hi = holdings.index_range(_epoch(start), _epoch(end))
        variants = self.state.variants
        return [self.state.payloads.element(holdings, i, variants) for i in range(lo, hi)]

    def element_times(self, asset: str, product: str) -> np.ndarray:
        """Start times of every element of a product (``datetime64[s]``, UTC)."""
        return self.holdings(asset, product).starts.astype("datetime64[s]")

    def file_bytes(self, url: str) -> bytes:
        """The bytes a file origin serves at ``url`` (any origin, either spelling)."""
        return self.bodies.body(*self._locate(url))

    def damage(self, url: str, how: str = "corrupt") -> None:
        """Serve ``url`` as garbage of its listed size (``"corrupt"``) or as 404 (``"missing"``).

        The listing does not change, as when a file is damaged or deleted on S3.
        """
        if how not in ("corrupt", "missing"):
            raise ValueError("how must be 'corrupt' or 'missing'")
        self.bodies.damage(*self._locate(url), how)

    def _locate(self, url: str) -> tuple[Holdings, int]:
        key = self.state.origins.locate(url)
        found = None if key is None else self.state.archive.find_key(key)
        if found is None:
            raise KeyError(f"no file of this stand-in at {url}")
        return found

    def geometry(self, slug: str, when: Any = None) -> CameraGeometry:
        """The true geometry of the camera whose stills are rendered for `slug`.

        Write it for others with ``.save(path)``.

        Parameters
        ----------
        slug : str
            A camera of the stand-in.
        when : datetime or str, optional
            For a camera that changes resolution, the time of the frames (the
            size before the change by default).

        Returns
        -------
        CameraGeometry
            In the scene's frame (``x`` alongshore, ``y`` seaward, ``z`` up from
            mean sea level, origin on the mean-tide waterline), for the stills'
            frame size, with the latitude and longitude of the frame's origin
            placed so that the camera stands at the position the API lists.

        Raises
        ------
        KeyError
            If the stand-in has no camera `slug`.
        """
        spec = next((camera for camera in CAMERAS if camera.slug == slug), None)
        if spec is None:
            raise KeyError(slug)
        epoch = _epoch(when)
        size = self.bodies.frame_size(slug, -np.inf if epoch is None else epoch)
        geometry = self.bodies.renderer.geometry(slug, *size)
        at_camera = dataclasses.replace(geometry, latitude=spec.latitude,
                                        longitude=spec.longitude)
        longitude, latitude = at_camera.local_to_lonlat(-geometry.x, -geometry.y)
        return dataclasses.replace(geometry, latitude=float(latitude), longitude=float(longitude))

    def asset_json(self, slug: str) -> dict[str, Any]:
        obj = self.state.payloads.asset(slug, self.state.variants)
        if obj is None:
            raise KeyError(slug)
        return obj


def _epoch(value: Any) -> float | None:
    """Seconds since the epoch of a str/datetime (naive = UTC), or None."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()
