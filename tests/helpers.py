"""Plain helpers shared by the test modules (the fixtures are in ``conftest.py``).

* constants: the stand-in's token, the camera and the spans most tests use;
* readers of element payloads as the stand-in lists them (``url_of``, ``label_of``...);
* ``http``: one request with the standard library, independent of our client;
* ``OtherServer``, ``upstream``, ``fronted``: small servers that break the rules;
* ``client_defaults``: options every client made inside a block uses (the CLI has none);
* ``FACES``: every user-facing way to open a selection;
* fresh interpreters, and the command line as a subprocess signalled (killed,
  interrupted) once the stand-in has seen some requests, and what an interrupted
  download must leave behind;
* API payloads for the parsers: real samples, ``make_element``, ``raw_asset``;
* measurements read from Linux ``/proc`` (skipped where there is none);
* sections added to pytest's terminal summary (fault matrix, load figures).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import gc
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock

import intake
import pytest
import xarray as xr
from aiohttp import web

from intake_webcoos import Client, open_images
from intake_webcoos.api.config import Settings
from intake_webcoos.cli.download import RUNS
from intake_webcoos.fs.filesystem import WebcoosFileSystem
from intake_webcoos.intake.readers import WebcoosElementsReader, WebcoosImagesReader
from intake_webcoos.server import Faults

TOKEN = "test-token-0123456789"
CAMERA, STILLS = "waikiki_sheraton", "one-minute-stills"
HOUR = ("2025-09-10T18:00:00Z", "2025-09-10T18:59:59Z")  # 60 stills of CAMERA
MINUTES = ("2025-09-10T18:00:00Z", "2025-09-10T18:04:59Z")  # 5 stills
DAY = ("2025-09-10T00:00:00Z", "2025-09-10T23:59:59Z")
NIGHT = ("2025-09-10T09:00:00Z", "2025-09-10T11:00:00Z")  # 23:00-01:00 in Honolulu
BEYOND = ("2030-01-01T00:00:00Z", "2030-01-01T23:59:59Z")
API_PREFIX = "/webcoos/api/v1"


# -- element payloads, as the stand-in lists them -------------------------------------------
def url_of(element: dict[str, Any]) -> str:
    return element["data"]["properties"]["url"]


def label_of(element: dict[str, Any]) -> str:
    return element["data"]["common"]["label"]


def time_of(element: dict[str, Any]) -> str:
    return element["data"]["extents"]["temporal"]["min"]


def size_of(element: dict[str, Any]) -> int:
    return element["data"]["properties"]["size"]


@contextlib.contextmanager
def damaged_standin(asset: str, product: str, span: tuple[str, str], corrupt: int,
                    missing: int | None = None, **options: Any) -> Iterator[tuple[Any, list]]:
    """A stand-in of its own (damage cannot be undone) whose listed file number ``corrupt``
    of ``asset/product`` in ``span`` is garbage of its size, and number ``missing`` is gone.

    Yields the stand-in and the URLs of that span.
    """
    from intake_webcoos.server import StandIn

    with StandIn(token=TOKEN, **options) as s:
        urls = [url_of(e) for e in s.elements(asset, product, *span)]
        s.damage(urls[corrupt], "corrupt")
        if missing is not None:
            s.damage(urls[missing], "missing")
        yield s, urls


def elements_requests(standin) -> list:
    """The stand-in's recorded requests of element listings."""
    return [r for r in standin.requests_to("api") if r.path.endswith("/elements/")]


# -- plain HTTP ---------------------------------------------------------------------------
@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body)


def http(url: str, token: str | None = None, method: str = "GET", timeout: float = 30,
         **headers: str) -> Answer:
    """One plain HTTP request with the standard library (independent of our client)."""
    if token is not None:
        headers["Authorization"] = f"Token {token}"
    request = urllib.request.Request(url, method=method,
                                     headers={k.replace("_", "-"): v for k, v in headers.items()})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as r:
            return Answer(r.status, dict(r.headers), r.read())
    except urllib.error.HTTPError as e:
        return Answer(e.code, dict(e.headers), e.read())


# -- servers that break the rules ----------------------------------------------------------
class OtherServer:
    """A tiny aiohttp server on loopback whose answers a test chooses (``{path: handler}``)."""

    def __init__(self, routes: dict[str, Callable]) -> None:
        self.app = web.Application()
        for path, handler in routes.items():
            self.app.router.add_get(path, handler)
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()

    def __enter__(self) -> OtherServer:
        async def start():
            self.runner = web.AppRunner(self.app)
            await self.runner.setup()
            site = web.TCPSite(self.runner, "127.0.0.1", 0)
            await site.start()
            self.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"

        def run():
            self.loop.run_until_complete(start())
            self.ready.set()
            self.loop.run_forever()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        self.ready.wait()
        return self

    def __exit__(self, *exc) -> None:
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()


def upstream(standin, request: web.Request) -> dict[str, Any]:
    """The stand-in's answer to the same path and query (with the token).

    Raises ``urllib.error.HTTPError`` for an answer that is not a success.
    """
    query = "&".join(f"{k}={v}" for k, v in request.query.items())
    target = f"{standin.origin}{request.path}?{query.replace('+', '%2B')}"
    with urllib.request.urlopen(urllib.request.Request(
            target, headers={"Authorization": f"Token {TOKEN}"}), timeout=30) as r:
        return json.loads(r.read())


def fronted(standin, elements: Callable[[web.Request], Any], **routes: Any) -> OtherServer:
    """A server with the stand-in's CAMERA and inventories, and ``elements`` of our making."""

    async def assets(request: web.Request) -> web.Response:
        return web.json_response({"results": [standin.asset_json(CAMERA)]})

    async def inventory(request: web.Request) -> web.Response:
        return web.json_response(upstream(standin, request))

    return OtherServer({f"{API_PREFIX}/assets/": assets, f"{API_PREFIX}/elements/": elements,
                        f"{API_PREFIX}/services/{{service}}/inventory/": inventory, **routes})


# -- client options ------------------------------------------------------------------------
QUICK = {"retries": 2, "backoff": 0.01, "max_backoff": 0.05}


@contextlib.contextmanager
def client_defaults(options: dict[str, Any]) -> Iterator[None]:
    """The command line has no timing options: make ``options`` every client's defaults."""
    resolve = Settings.resolve.__func__

    def with_options(cls, token=None, base_url=None, **given):
        return resolve(cls, token, base_url, **{**options, **given})

    with mock.patch.object(Settings, "resolve", classmethod(with_options)):
        yield


# -- every face that opens a selection ------------------------------------------------------
def _window(start: str, end: str) -> dict[str, str]:
    return {"start": start, "end": end}


#: name -> callable(camera, product, start, end), with the token and URL from the environment.
FACES: dict[str, Callable[[str, str, str, str], Any]] = {
    "Client": lambda a, p, s, e: Client().elements(a, p, s, e),
    "open_images": lambda a, p, s, e: open_images(a, p, s, e),
    "xarray engine": lambda a, p, s, e: xr.open_dataset(f"webcoos://{a}/{p}", engine="webcoos",
                                                        start=s, end=e),
    "intake images": lambda a, p, s, e: WebcoosImagesReader(
        camera=a, product=p, options=_window(s, e)).read(),
    "intake elements": lambda a, p, s, e: WebcoosElementsReader(
        camera=a, product=p, options=_window(s, e)).read(),
    "intake v1 driver": lambda a, p, s, e: intake.open_webcoos_images(a, p, s, e).read(),
    "filesystem": lambda a, p, s, e: WebcoosFileSystem(skip_instance_cache=True).ls(
        f"{a}/{p}/{s[:4]}/{s[5:7]}"),
}


# -- the command line in a subprocess ----------------------------------------------------------
def console_script() -> str:
    """The ``intake-webcoos`` script installed beside this interpreter."""
    return str(Path(sys.executable).parent / "intake-webcoos")


def bare_env(**extra: str) -> dict[str, str]:
    """A near-empty environment for a subprocess (no token or URL), and ``extra``.

    It keeps ``PYTHONPATH``, so the subprocess imports the package under test, and
    the tests' API pace and cache switch (``WEBCOOS_API_RATE``, ``WEBCOOS_CACHE``: see
    conftest).
    """
    kept = {k: os.environ[k] for k in ("PYTHONPATH", "WEBCOOS_API_RATE", "WEBCOOS_CACHE")
            if k in os.environ}
    return {"PATH": "/usr/bin:/bin", **kept, **extra}


def fresh_python(code: str, *args: str, stdin: bytes | None = None, **env: str) -> str:
    """What ``python -c code args`` prints in a fresh interpreter (``bare_env(**env)``).

    Fails the test with the interpreter's stderr if it exits with an error.
    """
    run = subprocess.run([sys.executable, "-c", code, *args], input=stdin, capture_output=True,
                         env=bare_env(**env), timeout=120)
    assert run.returncode == 0, run.stderr.decode()
    return run.stdout.decode()


def clear_file_requests(standin) -> None:
    """Forget the stand-in's requests, and let go of the clips this process still shares
    (fs/shared_files.py keeps a clip while anything holds it, such as the garbage cycles
    of an earlier test), so that the next computation fetches what it needs."""
    gc.collect()
    standin.clear_requests()


def cli_env(standin) -> dict[str, str]:
    """This process's environment, pointed at ``standin`` with its token."""
    return {**os.environ, "WEBCOOS_API_TOKEN": TOKEN, "WEBCOOS_API_URL": standin.api_url}


@dataclass
class Ended:
    """How a command ended after a signal: its status, output and timing."""

    returncode: int
    stdout: str
    stderr: str
    #: Seconds from the signal to the end of the process.
    seconds: float
    #: ``time.monotonic()`` once it had ended (the stand-in records arrivals on this clock).
    at: float


#: Runs ``sys.argv[1:]`` with Ctrl-C as in a terminal, even when the tests run as a
#: background job (whose shell ignores SIGINT, a disposition children inherit and Python
#: keeps): SIGINT back to its default, then exec, which keeps a default disposition.  Not a
#: ``preexec_fn``: Python code between fork and exec can deadlock on a lock another thread
#: of the test process (the stand-in's) held at the fork, and the Popen never returns.
_INTERRUPTIBLE = ("import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
                  "os.execvp(sys.argv[1], sys.argv[1:])")


def signal_after_file_requests(standin, command: list[str], count: int,
                               sig: signal.Signals = signal.SIGKILL,
                               until: Callable[[], bool] = lambda: True,
                               deadline: float = 10.0, origin: str = "files") -> Ended:
    """Run ``command``; send it ``sig`` once the stand-in has seen ``count`` file requests
    (or requests to ``origin``: ``"api"``).

    With ``until``, the signal goes at the first file request from the ``count``-th
    on after which ``until()`` holds.  Waits on the stand-in's requests, never on a
    clock; the command must end within ``deadline`` seconds of the signal
    (``subprocess.TimeoutExpired`` otherwise).  Keep its output small (``--quiet``):
    it is read only once the signal has been sent.
    """
    standin.clear_requests()
    proc = subprocess.Popen([sys.executable, "-c", _INTERRUPTIBLE, *command],
                            env=cli_env(standin), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        target = count
        while proc.poll() is None:
            assert standin.wait_for_requests(origin, target, timeout=60), f"no {origin} requests"
            if until():
                break
            target += 1
        sent = time.monotonic()
        proc.send_signal(sig)
        stdout, stderr = proc.communicate(timeout=deadline)
        ended = time.monotonic()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return Ended(proc.returncode, stdout, stderr, ended - sent, ended)


def kill_after_file_requests(standin, command: list[str], count: int,
                             until: Callable[[], bool] = lambda: True) -> None:
    """Run ``command`` and SIGKILL it once the stand-in has seen ``count`` file requests.

    See :func:`signal_after_file_requests` for ``until``.
    """
    ended = signal_after_file_requests(standin, command, count, signal.SIGKILL, until)
    assert ended.returncode == -signal.SIGKILL, "the command finished before it was killed"


#: File faults under which an interruption finds transfers half done beside complete files:
#: half the bodies trickle for 10 s.  With seed 5, file requests 7, 8 and 12 to 14 are the
#: slow ones, so a client fetching four at a time, once the stand-in has seen
#: :data:`QUIET_AFTER` requests, has all four under way trickling and sends nothing more for
#: 10 s: every request it sent has been recorded.
INTERRUPTING = Faults(slow_rate=0.5, slow_seconds=10.0, seed=5)
QUIET_AFTER = 13


def temporary_files(folder: Path) -> list[Path]:
    """The downloads' temporary files (``.{name}.{run id}.part``) anywhere below ``folder``."""
    return sorted(p for p in folder.rglob(".*.part") if p.is_file())


def assert_stopped_cleanly(standin, dest: Path, ended_at: float, truth: dict[str, str]) -> int:
    """What every interrupted download leaves: returns how many files are complete.

    No temporary file and no lock file under ``dest``; no file request arrived
    after ``ended_at`` (nor arrives within a second); every file with its final
    name is whole (``truth``: name -> URL).
    """
    assert temporary_files(dest) == []
    assert list((dest / RUNS).glob("*")) == []  # the run's lock was released and removed
    seen = standin.requests_to("files")
    assert seen and all(r.time <= ended_at for r in seen)
    assert not standin.wait_for_requests("files", len(seen) + 1, timeout=1.0)
    complete = [p for p in dest.rglob("*") if p.is_file()]
    for path in complete:
        assert path.read_bytes() == standin.file_bytes(truth[path.name]), path
    return len(complete)


# -- API payloads for the parsers -------------------------------------------------------------
DATA = Path(__file__).parent / "data"


def load(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


RAW_ASSETS = load("assets_results_excerpt_prod_2025-09.json")
RAW_STAGE_SERVICES = load("services_stage_2022_currituck_sailfish_from_storybook.json")
INVENTORY_7COL = load("inventory_northinlet_stills_7col.json")
INVENTORY_HAMPTON_5COL = load("inventory_currituck_hampton_inn_stills_5col.json")
INVENTORY_SAILFISH_5COL = load("inventory_currituck_sailfish_video_5col.json")

STILLS_URL = (
    "https://s3.us-west-2.amazonaws.com/webcoos/media/sources/webcoos/groups/uh/assets/"
    "waikiki_sheraton/feeds/raw-video-data/products/one-minute-stills/elements/2025/09/17/"
)


def make_element(**temporal: Any) -> dict[str, Any]:
    """An element as the API is known to send it (notes §4.5)."""
    name = "waikiki_sheraton-2025-09-17-215728Z.jpg"
    return {
        "uuid": "7a0c3d4e-1b2f-4c5d-8e9f-0a1b2c3d4e5f",
        "data": {
            "kind": "Element",
            "type": "S3Element",
            "uuid": "7a0c3d4e-1b2f-4c5d-8e9f-0a1b2c3d4e5f",
            "common": {
                "slug": "waikiki_sheraton-2025-09-17-215728z-jpg",
                "label": name,
                "comments": "",
                "description": "",
                "access_level": "public",
                "statistics_level": "visible",
            },
            "system": "webcoos.s3element",
            "version": "1.0.0",
            "uuid_slug": "549iVqZg",
            "uuid_type": "element",
            "extents": {"temporal": temporal or {"min": "2025-09-17T21:57:28Z"}},
            "properties": {
                "url": STILLS_URL + name,
                "size": 261433,
                "duration": None,
                "thumbnails": {
                    "base": {
                        "lqip": "/9j/4AAQSkZJRg",
                        "rect_small": STILLS_URL + "thumb-200x100.jpg",
                        "rect_medium": STILLS_URL + "thumb-400x200.jpg",
                    }
                },
            },
        },
    }


def raw_asset(slug: str) -> dict[str, Any]:
    """A copy of one camera of the real ``/assets/`` sample."""
    return copy.deepcopy(next(a for a in RAW_ASSETS if a["data"]["common"]["slug"] == slug))


def set_at(node: Any, path: tuple, value: Any = None, delete: bool = False) -> None:
    """Set (or delete) the item at ``path`` (keys and indexes) inside a JSON tree."""
    for key in path[:-1]:
        node = node[key]
    if delete:
        del node[path[-1]]
    else:
        node[path[-1]] = value


# -- Linux /proc ------------------------------------------------------------------------------
def requires_proc(*paths: str) -> pytest.MarkDecorator:
    """Skip a test that reads these ``/proc`` files where there are none (not Linux)."""
    missing = [p for p in paths if not Path(p).exists()]
    return pytest.mark.skipif(bool(missing), reason=f"measures from Linux {', '.join(paths)}, "
                              f"which this platform lacks ({', '.join(missing)})")


def _proc(path: str) -> str:
    if not Path(path).exists():
        pytest.skip(f"needs Linux {path}")
    return path


def rss_mib() -> float:
    """This process's resident memory (MiB), from ``/proc/self/status``."""
    with open(_proc("/proc/self/status")) as f:
        return int(next(line for line in f if line.startswith("VmRSS:")).split()[1]) / 1024


@contextlib.contextmanager
def peak_rss_growth(period: float = 0.005) -> Iterator[dict[str, float]]:
    """Samples this process's resident memory while the block runs; ``["MiB"]`` is the
    most it grew above where it started (a sampling period, not a wait for an event)."""
    start = rss_mib()
    found = {"MiB": 0.0}
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(period):
            found["MiB"] = max(found["MiB"], rss_mib() - start)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield found
    finally:
        stop.set()
        thread.join()
        found["MiB"] = max(found["MiB"], rss_mib() - start)


def _tcp_rows() -> Iterator[list[str]]:
    """Rows of the kernel's TCP tables (IPv4 and IPv6), split into fields."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not Path(table).exists():
            continue
        with open(table) as f:
            next(f)
            for line in f:
                yield line.split()


def listening(port: int) -> list[str]:
    """Local addresses (hex, as the kernel writes them) listening on ``port``."""
    _proc("/proc/net/tcp")
    return [fields[1].rsplit(":", 1)[0] for fields in _tcp_rows()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port]


def own_sockets() -> set[str]:
    """Inodes of this process's sockets (other processes on the host are not ours to count)."""
    inodes = set()
    for fd in os.listdir(_proc("/proc/self/fd")):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue  # closed meanwhile
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def established_to(port: int) -> int:
    """This process's TCP connections to ``port``, from the kernel's table."""
    mine = own_sockets()
    return sum(1 for fields in _tcp_rows() if fields[3] == "01"
               and int(fields[2].rsplit(":", 1)[1], 16) == port and fields[9] in mine)


@contextlib.contextmanager
def socket_peaks(ports: dict[str, int]) -> Iterator[dict[str, int]]:
    """Samples the connections to each port every few milliseconds; yields the maxima."""
    _proc("/proc/net/tcp")
    _proc("/proc/self/fd")
    peaks = dict.fromkeys(ports, 0)
    peaks["total"] = 0
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            counts = {name: established_to(port) for name, port in ports.items()}
            for name, n in counts.items():
                peaks[name] = max(peaks[name], n)
            peaks["total"] = max(peaks["total"], sum(counts.values()))
            time.sleep(0.002)  # a sampling period, not a wait for an event

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield peaks
    finally:
        stop.set()
        thread.join()


# -- the terminal summary ------------------------------------------------------------------------
class Section:
    """A pytest plugin registered at run time; prints its lines at the end of the run."""

    def __init__(self, title: str) -> None:
        self.title = title
        self.lines: list[str] = []

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.lines:
            terminalreporter.write_sep("-", self.title)
            for line in self.lines:
                terminalreporter.write_line(line)


def section(request: pytest.FixtureRequest, title: str) -> Section:
    """The summary section named ``title`` (registered once per run)."""
    name = f"intake-webcoos-summary-{title}"
    found = request.config.pluginmanager.get_plugin(name)
    if found is None:
        found = Section(title)
        request.config.pluginmanager.register(found, name)
    return found
