"""The transport (api/http.py): the one loop of attempts, origin rules, file requests.

* retries: each fault kind survived, persistent failures raised as ``ServerError``
  naming the route and the attempts, ``Retry-After`` honoured;
* origins: the token goes to the API's own origin only; ``next`` links and
  redirects that lead elsewhere are refused before anything is sent;
* files: fetched without the token, ranges cut, short bodies never kept.
"""

from __future__ import annotations

import time

import pandas as pd
import pytest
from aiohttp import web
from hypothesis import given, settings
from hypothesis import strategies as st

from intake_webcoos import Client
from intake_webcoos.api.bridge import run
from intake_webcoos.api.http import retry_after
from intake_webcoos.cli.download import download
from intake_webcoos.errors import (
    ForeignOriginError,
    InvalidTokenError,
    NotFoundError,
    ServerError,
    TruncatedDownloadError,
    WebcoosError,
)
from intake_webcoos.fs.filesystem import WebcoosFileSystem
from intake_webcoos.server import Faults

from .helpers import (
    API_PREFIX,
    CAMERA,
    DAY,
    STILLS,
    TOKEN,
    OtherServer,
    fronted,
    upstream,
    url_of,
)

BODY = b"\xff\xd8 not much"
THREE_MINUTES = ("2025-09-10T18:00Z", "2025-09-10T18:02:59Z")


# -- the loop of attempts -----------------------------------------------------------------
@pytest.mark.parametrize("faults", [
    Faults(error_rate=0.2, seed=1),
    Faults(throttle_rate=0.2, retry_after="0", seed=2),
    Faults(drop_rate=0.2, seed=3),
    Faults(truncate_rate=0.2, seed=4),
    Faults(error_rate=0.1, throttle_rate=0.05, retry_after="0", drop_rate=0.05, seed=5),
], ids=["5xx", "429", "drop", "truncate", "mixed"])
def test_a_multi_day_listing_survives_each_fault(standin, faults):
    clean = Client(token=TOKEN, base_url=standin.api_url, page_size=100)
    expected = clean.elements(CAMERA, STILLS, "2025-09-09", "2025-09-11")
    faulty = Client(token=TOKEN, base_url=standin.api_url, page_size=100, retries=8,
                    backoff=0.01, max_backoff=0.05)
    with standin.faults(api=faults):
        got = faulty.elements(CAMERA, STILLS, "2025-09-09", "2025-09-11")
        injected = sum(standin.fault_counts("api").values())
    assert injected > 0
    pd.testing.assert_frame_equal(got, expected)


def test_persistent_failure_raises_a_server_error_after_the_configured_attempts(standin):
    """The typed error of a dead API says which route failed, how often, and what to do."""
    client = Client(token=TOKEN, base_url=standin.api_url, retries=3, backoff=0.01)
    client.assets()
    standin.clear_requests()
    with standin.faults(api=Faults(error_rate=1.0, error_statuses=(503,))), \
            pytest.raises(ServerError) as info:
        client.elements(CAMERA, STILLS, *DAY)
    message = str(info.value)
    assert info.value.status == 503 and info.value.attempts == 3
    assert f"{standin.api_url}/elements/" in message and "503" in message
    assert "retries=" in message and "try again later" in message
    assert isinstance(info.value, WebcoosError)
    assert len(standin.requests_to("api")) == 3


def test_retry_after_is_honoured(standin):
    client = Client(token=TOKEN, base_url=standin.api_url, retries=2, backoff=0.0)
    with standin.faults(api=Faults(throttle_rate=1.0, retry_after="0.3")):
        t0 = time.perf_counter()
        with pytest.raises(ServerError) as info:
            client.me()
        assert time.perf_counter() - t0 >= 0.3  # it paused as told (a lower bound only)
    assert info.value.status == 429


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40) | st.sampled_from([
    "nan", "inf", "-1", "1e999", "Wed, 21 Oct 2015 07:28:00 GMT", "Fri, 31 Dec 9999 23:59:59 GMT",
    "Wed, 21 Oct 2015 07:28:00 +9999", "Mon, 32 Foo 2025 99:99:99 GMT"]))
def test_retry_after_values_are_a_pause_or_nothing(value: str) -> None:
    pause = retry_after(value)
    assert pause is None or (isinstance(pause, float) and pause >= 0)


def test_a_page_the_server_says_does_not_exist(standin):
    client = Client(TOKEN, standin.api_url)
    with pytest.raises(NotFoundError, match="Invalid page"):
        run(client.aclient.transport.get_json, f"{standin.api_url}/elements/",
            {"service": "waikiki_sheraton-one-minute-stills-s3", "page": "9999"})


# -- origins --------------------------------------------------------------------------------
def test_foreign_next_link_of_the_cameras_is_refused(standin):
    async def assets(request):
        return web.json_response({"results": [], "pagination": {
            "count": 2, "next": f"{standin.files_url}{API_PREFIX}/assets/?page=2"}})

    with OtherServer({f"{API_PREFIX}/assets/": assets}) as other:
        client = Client(token=TOKEN, base_url=f"{other.url}{API_PREFIX}")
        standin.clear_requests()
        with pytest.raises(ForeignOriginError, match="Refusing to send the WebCOOS token"):
            client.assets()
    assert standin.requests == []  # not even a request without the token


def test_foreign_next_link_in_an_element_listing_is_never_followed(standin):
    """A page without a count (so ``next`` is followed) whose ``next`` names another origin."""
    foreign_seen: list[dict[str, str]] = []

    async def trap(request: web.Request) -> web.Response:
        foreign_seen.append(dict(request.headers))
        return web.json_response({"results": [], "pagination": {"count": 0}})

    with OtherServer({f"{API_PREFIX}/elements/": trap}) as foreign:
        async def elements(request: web.Request) -> web.Response:
            payload = upstream(standin, request)
            block = payload["pagination"]
            assert block["count"] > 50
            return web.json_response({"results": payload["results"][:50], "pagination": {
                "next": f"{foreign.url}{API_PREFIX}/elements/?page=2"}})

        with fronted(standin, elements) as other:
            client = Client(TOKEN, f"{other.url}{API_PREFIX}", backoff=0.01)
            with pytest.raises(ForeignOriginError, match="Refusing to send the WebCOOS token"):
                client.elements(CAMERA, STILLS, *DAY)
    assert foreign_seen == []  # not even a request without the token


def test_redirect_to_another_origin_is_refused(standin):
    async def me(request):
        raise web.HTTPFound(f"{standin.files_url}/u/api/me/")

    with OtherServer({"/u/api/me/": me}) as other:
        client = Client(token=TOKEN, base_url=f"{other.url}{API_PREFIX}")
        standin.clear_requests()
        with pytest.raises(ForeignOriginError):
            client.me()
    assert standin.requests == []


def test_redirects_stay_on_the_api_origin(standin):
    """A same-origin redirect is followed (token and all); one to another scheme is not."""
    seen: list[str | None] = []

    async def moved(request: web.Request) -> web.Response:
        raise web.HTTPMovedPermanently(f"{API_PREFIX}/me-now/")

    async def me_now(request: web.Request) -> web.Response:
        seen.append(request.headers.get("Authorization"))
        return web.json_response({"username": "moved"})

    async def to_https(request: web.Request) -> web.Response:
        raise web.HTTPFound(str(request.url.with_scheme("https").with_path("/u/api/me/")))

    with OtherServer({"/u/api/me/": moved, f"{API_PREFIX}/me-now/": me_now,
                      f"{API_PREFIX}/assets/": to_https}) as other:
        client = Client(TOKEN, f"{other.url}{API_PREFIX}", retries=1)
        assert client.me() == {"username": "moved"}
        with pytest.raises(ForeignOriginError):
            client.assets()
    assert seen == [f"Token {TOKEN}"]


def test_an_error_detail_that_echoes_the_token_is_redacted(standin):
    async def me(request: web.Request) -> web.Response:
        given = request.headers.get("Authorization", "")
        return web.json_response({"detail": f"Invalid token: {given!r}"}, status=401)

    with OtherServer({"/u/api/me/": me}) as other, pytest.raises(InvalidTokenError) as info:
        Client(TOKEN, f"{other.url}{API_PREFIX}").me()
    assert TOKEN not in str(info.value) and "<token>" in str(info.value)
    assert "fresh token" in str(info.value)


# -- files ----------------------------------------------------------------------------------
def test_fetch_sends_no_token_to_the_file_origin(standin):
    url = url_of(standin.elements(CAMERA, STILLS, *DAY)[0])
    client = Client(token=TOKEN, base_url=standin.api_url)
    standin.clear_requests()
    assert client.fetch(url) == standin.file_bytes(url)
    assert client.fetch(url, 10, 20) == standin.file_bytes(url)[10:20]
    files = standin.requests_to("files")
    assert len(files) == 2
    assert all("Authorization" not in r.headers for r in files)
    assert standin.requests_to("api") == []  # nothing else was asked
    with pytest.raises(FileNotFoundError):
        client.fetch(url.replace(".jpg", ".png"))


def test_element_urls_on_the_api_origin_get_no_token(standin, tmp_path):
    """Element files are fetched without the token even when the URL is the API's own."""
    seen: list[dict[str, str]] = []

    async def elements(request: web.Request) -> web.Response:
        payload = upstream(standin, request)
        for row in payload["results"]:
            row["data"]["properties"]["url"] = f"{other.url}/files/{row['uuid']}.jpg"
            row["data"]["properties"]["size"] = len(BODY)
        return web.json_response(payload)

    async def files(request: web.Request) -> web.Response:
        seen.append(dict(request.headers))
        return web.Response(body=BODY, content_type="image/jpeg")

    with fronted(standin, elements, **{"/files/{name}": files}) as other:
        frame = Client(TOKEN, f"{other.url}{API_PREFIX}").elements(CAMERA, STILLS,
                                                                   *THREE_MINUTES)
        assert frame["url"].str.startswith(other.url).all()
        fs = WebcoosFileSystem(token=TOKEN, base_url=f"{other.url}{API_PREFIX}",
                               skip_instance_cache=True)
        assert fs.cat_file(frame["path"].iloc[0]) == BODY
        download(frame, tmp_path, token=TOKEN, base_url=f"{other.url}{API_PREFIX}",
                 progress=False)
    assert len(seen) == 1 + len(frame)
    assert all("Authorization" not in headers for headers in seen)


def test_a_file_host_that_serves_short_files_cleanly(standin, tmp_path):
    """Complete HTTP answers, but shorter than the listing says: never kept, always named."""
    async def elements(request: web.Request) -> web.Response:
        payload = upstream(standin, request)
        for row in payload["results"]:
            row["data"]["properties"]["url"] = f"{other.url}/files/{row['uuid']}.jpg"
        return web.json_response(payload)

    async def files(request: web.Request) -> web.Response:
        return web.Response(body=b"\xff\xd8\xff\xe0 half a frame", content_type="image/jpeg")

    with fronted(standin, elements, **{"/files/{name}": files}) as other:
        base_url = f"{other.url}{API_PREFIX}"
        frame = Client(TOKEN, base_url).elements(CAMERA, STILLS, *THREE_MINUTES)
        fs = WebcoosFileSystem(token=TOKEN, base_url=base_url, skip_instance_cache=True)
        paths = [p.removeprefix("webcoos://") for p in frame["path"]]
        with pytest.raises(TruncatedDownloadError) as info:
            fs.get(paths, str(tmp_path / "get") + "/")
        assert info.value.args[0].startswith(tuple(frame["url"])) and "listing says" in str(
            info.value)
        with pytest.raises(TruncatedDownloadError, match="listing says"):
            fs.cat_file(paths[0])
        report = download(frame, tmp_path / "download", token=TOKEN, base_url=base_url,
                          progress=False)
    assert report.downloaded == 0 and len(report.failed) == len(frame)
    assert all(url in frame["url"].tolist() and "listing says" in why
               for url, why in report.failed)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []
