"""Hostile and broken servers: memory, time and failures stay contained.

Each test puts a small server of ours on loopback that lies about sizes and
counts, never ends a body, trickles, redirects in circles or sends what is not
JSON, and checks that the client answers with its own error (or a correct
result, with the one bad file reported) within a deadline, its resident memory
growing by less than 200 MB while it does.
"""

from __future__ import annotations

import asyncio
import gzip
import threading
import time
import zlib

import pytest
from aiohttp import web

from intake_webcoos import Client, open_images
from intake_webcoos.api.bridge import run
from intake_webcoos.cli.download import download
from intake_webcoos.errors import ResponseFormatError, ServerError, TruncatedDownloadError
from intake_webcoos.fs.filesystem import WebcoosFile, WebcoosFileSystem

from .helpers import (
    API_PREFIX,
    CAMERA,
    MINUTES,
    STILLS,
    TOKEN,
    OtherServer,
    fronted,
    peak_rss_growth,
    requires_proc,
    upstream,
    url_of,
)

pytestmark = requires_proc("/proc/self/status")
QUICK = {"retries": 2, "backoff": 0.01, "max_backoff": 0.05}
MB = 2**20
GROWTH_MB = 200


def hostile_api(standin, **elements_page) -> OtherServer:
    """An API whose element pages are the stand-in's, with ``elements_page`` merged into
    their pagination block."""

    async def elements(request: web.Request) -> web.Response:
        payload = upstream(standin, request)
        payload["pagination"].update(elements_page)
        return web.json_response(payload)

    return fronted(standin, elements)


def assets_answer(handler) -> OtherServer:
    """An API whose camera list is ``handler``'s answer."""
    return OtherServer({f"{API_PREFIX}/assets/": handler})


def client_of(server: OtherServer, **options) -> Client:
    return Client(TOKEN, f"{server.url}{API_PREFIX}", **{**QUICK, **options})


# -- pages that lie ---------------------------------------------------------------------------
def test_a_billion_total_pages_is_not_believed(standin):
    with hostile_api(standin, total_pages=10**9) as api, peak_rss_growth() as peak:
        frame = client_of(api).elements(CAMERA, STILLS, *MINUTES)
    assert frame["uuid"].tolist() == [e["uuid"] for e in standin.elements(CAMERA, STILLS,
                                                                          *MINUTES)]
    assert peak["MiB"] < GROWTH_MB


def test_a_count_past_the_page_limit_is_refused_at_once(standin):
    with hostile_api(standin, count=10**9) as api, peak_rss_growth() as peak:
        started = time.monotonic()
        with pytest.raises(ResponseFormatError, match="max_pages"):
            client_of(api).elements(CAMERA, STILLS, *MINUTES)
    assert time.monotonic() - started < 30 and peak["MiB"] < GROWTH_MB


def endless_pages(standin, count: int | None) -> OtherServer:
    """Each page holds one element and links to the next, for ever."""
    elements = standin.elements(CAMERA, STILLS, *MINUTES)
    served = []

    async def page(request: web.Request) -> web.Response:
        n = int(request.query.get("page", "1"))
        served.append(n)
        block = {"next": f"{request.url.with_query({**request.query, 'page': str(n + 1)})}"}
        if count is not None:
            block["count"] = count
        return web.json_response({"results": [elements[(n - 1) % len(elements)]],
                                  "pagination": block})

    server = fronted(standin, page)
    server.served = served
    return server


def test_endless_next_links_stop_at_the_count(standin):
    with endless_pages(standin, count=4) as api:
        frame = client_of(api).elements(CAMERA, STILLS, *MINUTES)
    assert len(frame) == 4 and max(api.served) == 4


def test_endless_next_links_without_a_count_stop_at_the_page_limit(standin):
    with endless_pages(standin, count=None) as api, peak_rss_growth() as peak, \
            pytest.raises(ResponseFormatError, match="without end"):
        client_of(api, max_pages=30).elements(CAMERA, STILLS, *MINUTES)
    assert max(api.served) <= 3 * 30  # three listings of the window, each stopped
    assert peak["MiB"] < GROWTH_MB


@pytest.mark.parametrize("link", ["/webcoos/api/v1/assets/?page=2",
                                  "//127.0.0.1:9/webcoos/api/v1/assets/?page=2"])
def test_a_relative_next_link_is_a_format_error(link):
    async def assets(request):
        return web.json_response({"results": [], "pagination": {"next": link}})

    with assets_answer(assets) as api, pytest.raises(ResponseFormatError, match="next link"):
        client_of(api).assets()


# -- bodies that are too big, or not JSON -------------------------------------------------------
async def _stream(request: web.Request, chunks, **headers) -> web.StreamResponse:
    response = web.StreamResponse(headers=headers)
    await response.prepare(request)
    try:
        for chunk in chunks:
            await response.write(chunk)
    except (ConnectionResetError, asyncio.CancelledError):
        pass  # the client hung up: that is the point
    return response


def test_a_compressed_bomb_is_refused_after_the_limit():
    """10 GiB of zeros, gzip-compressed (about 10 MB on the wire)."""
    sent = []

    def bomb():
        packer = zlib.compressobj(9, zlib.DEFLATED, 31)
        zeros = bytes(MB)
        for _ in range(10 * 1024):
            piece = packer.compress(zeros)
            sent.append(len(piece))
            yield piece

    async def assets(request):
        return await _stream(request, bomb(), **{"Content-Encoding": "gzip",
                                                 "Content-Type": "application/json"})

    with assets_answer(assets) as api, peak_rss_growth() as peak, \
            pytest.raises(ResponseFormatError, match="max_api_bytes"):
        client_of(api).assets()
    assert peak["MiB"] < GROWTH_MB
    assert sum(sent) < 5 * MB  # it stopped reading long before the end


def test_a_500_mb_json_body_is_refused_and_not_retried():
    requests = []

    async def assets(request):
        requests.append(1)
        return await _stream(request, (b'{"results": [' + b"1, " * (MB // 3) for _ in range(500)),
                             **{"Content-Type": "application/json"})

    with assets_answer(assets) as api, peak_rss_growth() as peak, \
            pytest.raises(ResponseFormatError, match="max_api_bytes"):
        client_of(api).assets()
    assert len(requests) == 1 and peak["MiB"] < GROWTH_MB


def test_html_at_200_is_a_format_error_at_once():
    requests = []

    async def assets(request):
        requests.append(1)
        return web.Response(text="<html><body>502 Bad Gateway</body></html>",
                            content_type="text/html")

    with assets_answer(assets) as api, \
            pytest.raises(ResponseFormatError, match=r"not JSON .*<html><body>502"):
        client_of(api).assets()
    assert len(requests) == 1


def test_a_gzip_body_within_the_limit_is_read():
    async def assets(request):
        return web.Response(body=gzip.compress(b'{"results": []}'),
                            headers={"Content-Encoding": "gzip",
                                     "Content-Type": "application/json"})

    with assets_answer(assets) as api:
        assert client_of(api).assets() == []


# -- file hosts that misbehave ---------------------------------------------------------------------
class FileHost(OtherServer):
    """A file host whose files each misbehave in their own way; counts what it sends."""

    def __init__(self, good: bytes) -> None:
        self.streaming = threading.Event()  # set once an endless body has started
        self.sent: dict[str, int] = {}
        self.cookies: list[str] = []
        self.good = good
        routes = {"/endless.jpg": self.endless, "/larger.jpg": self.larger,
                  "/trickle.jpg": self.trickle, "/loop.jpg": self.redirect("/loop.jpg"),
                  "/ftp.jpg": self.redirect("ftp://127.0.0.1/x.jpg"),
                  "/file.jpg": self.redirect("file:///etc/passwd"),
                  "/bad-location.jpg": self.redirect("http://[::1/x.jpg"),
                  "/good.jpg": self.serve_good, "/big.bin": self.ignores_range}
        super().__init__(routes)

    async def endless(self, request):
        self.streaming.set()
        return await _stream(request, (bytes(MB) for _ in range(10**6)))

    async def larger(self, request):  # a body of 5 GB for a listing of a few bytes
        return await _stream(request, (bytes(MB) for _ in range(5000)),
                             **{"Content-Length": str(5000 * MB)})

    async def trickle(self, request):
        async def slowly():
            for _ in range(100):
                yield b"x"
                await asyncio.sleep(0.5)

        response = web.StreamResponse(headers={"Content-Length": "100"})
        await response.prepare(request)
        try:
            async for byte in slowly():
                await response.write(byte)
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        return response

    def redirect(self, location: str):
        async def handler(request):
            raise web.HTTPFound(location)

        return handler

    async def serve_good(self, request):
        self.cookies.append(request.headers.get("Cookie", ""))
        return web.Response(body=self.good, content_type="image/jpeg")

    async def ignores_range(self, request):  # 20 MiB, whatever Range says
        body = bytes(range(256)) * (20 * MB // 256)
        self.sent["big"] = self.sent.get("big", 0) + len(body)
        return web.Response(body=body)


@pytest.fixture
def good_still(standin) -> tuple[str, bytes, int]:
    """One of the stand-in's stills: its URL, bytes and listed size."""
    element = standin.elements(CAMERA, STILLS, *MINUTES)[0]
    data = standin.file_bytes(url_of(element))
    return url_of(element), data, len(data)


def rewired(standin, host: FileHost, names: dict[int, str]) -> OtherServer:
    """The stand-in's elements of MINUTES, with element i's URL at ``host/names[i]``."""

    async def elements(request: web.Request) -> web.Response:
        payload = upstream(standin, request)
        for i, element in enumerate(payload["results"]):
            if i in names:
                element["data"]["properties"]["url"] = f"{host.url}/{names[i]}"
        return web.json_response(payload)

    return fronted(standin, elements)


def test_an_endless_file_is_cut_at_its_listed_size(standin, good_still):
    with FileHost(good_still[1]) as host, rewired(standin, host, {0: "endless.jpg"}) as api, \
            peak_rss_growth() as peak:
        fs = WebcoosFileSystem(TOKEN, f"{api.url}{API_PREFIX}", skip_instance_cache=True,
                               **QUICK)
        (path,) = [p for p in fs.ls(f"{CAMERA}/{STILLS}/2025/09/10", detail=False)][:1]
        with pytest.raises(TruncatedDownloadError, match="sends more than"):
            fs.cat_file(path)
        cube = open_images(CAMERA, STILLS, *MINUTES, token=TOKEN,
                           base_url=f"{api.url}{API_PREFIX}", on_error="mask",
                           coerce_shape=(180, 320), **QUICK)
        valid = cube["valid"].values
    assert valid.tolist() == [False, True, True, True, True]
    assert peak["MiB"] < GROWTH_MB


def test_one_bad_file_is_one_failed_file(standin, good_still, tmp_path):
    bad = {0: "larger.jpg", 1: "trickle.jpg", 2: "loop.jpg", 3: "ftp.jpg", 4: "file.jpg"}
    with FileHost(good_still[1]) as host, rewired(standin, host, bad) as api, \
            peak_rss_growth() as peak:
        frame = client_of(api).elements(CAMERA, STILLS, "2025-09-10T18:00", "2025-09-10T18:06")
        started = time.monotonic()
        report = download(frame, tmp_path, token=TOKEN, base_url=f"{api.url}{API_PREFIX}",
                          progress=False, deadline=2, **QUICK)
    assert time.monotonic() - started < 60
    failed = dict(report.failed)
    assert set(failed) == {f"{host.url}/{name}" for name in bad.values()}
    assert "sends more than" in failed[f"{host.url}/larger.jpg"]
    assert "TimeoutError" in failed[f"{host.url}/trickle.jpg"]
    assert "redirects more than" in failed[f"{host.url}/loop.jpg"]
    assert "not an http(s) URL" in failed[f"{host.url}/ftp.jpg"]
    assert "not an http(s) URL" in failed[f"{host.url}/file.jpg"]
    assert report.downloaded == len(frame) - len(bad)
    assert not [p for p in tmp_path.rglob("*.part")]
    assert peak["MiB"] < GROWTH_MB


def test_a_malformed_redirect_masks_one_frame(standin, good_still):
    with FileHost(good_still[1]) as host, \
            rewired(standin, host, {2: "bad-location.jpg"}) as api:
        cube = open_images(CAMERA, STILLS, *MINUTES, token=TOKEN,
                           base_url=f"{api.url}{API_PREFIX}", on_error="mask",
                           coerce_shape=(180, 320), **QUICK)
        assert cube["valid"].values.tolist() == [True, True, False, True, True]


def test_a_trickling_host_meets_the_deadline(good_still):
    with FileHost(good_still[1]) as host:
        client = Client(TOKEN, "http://127.0.0.1:9/", deadline=1, **QUICK)
        started = time.monotonic()
        with pytest.raises(ServerError, match="TimeoutError"):
            client.fetch(f"{host.url}/trickle.jpg", size=100)
    assert time.monotonic() - started < 10


def test_a_host_that_ignores_range_is_read_once(good_still):
    with FileHost(good_still[1]) as host:
        fs = WebcoosFileSystem(TOKEN, "http://127.0.0.1:9/", skip_instance_cache=True)
        info = {"name": "x/y/2025/09/10/big.bin", "type": "file", "size": 20 * MB,
                "url": f"{host.url}/big.bin"}
        with WebcoosFile(fs, info) as f:
            parts = [f.read(MB) for _ in range(20)]
    assert b"".join(parts) == bytes(range(256)) * (20 * MB // 256)
    assert host.sent["big"] <= 2 * 20 * MB  # not a whole file per block read


def test_cookies_of_the_api_never_reach_a_file_host(standin, good_still):
    async def assets(request):
        response = web.json_response({"results": [standin.asset_json(CAMERA)]})
        response.set_cookie("sessionid", "secret-session")
        return response

    with FileHost(good_still[1]) as host, assets_answer(assets) as api:
        client = client_of(api)
        client.assets(refresh=True)
        client.fetch(f"{host.url}/good.jpg")
    assert host.cookies == [""]


def test_an_interrupted_async_call_leaves_no_transfer_running(standin, good_still, tmp_path):
    """Cancelling the coroutine (what Ctrl-C does through the blocking runner) stops it all."""
    with FileHost(good_still[1]) as host:
        client = Client(TOKEN, "http://127.0.0.1:9/", **QUICK).aclient

        async def transfer():
            task = asyncio.ensure_future(client.transport.download(
                f"{host.url}/endless.jpg", tmp_path / "x.jpg", size=10**9))
            assert await asyncio.to_thread(host.streaming.wait, 10)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

        run(transfer)
    assert list(tmp_path.iterdir()) == []
