"""A server that lies, moves or misbehaves: typed errors, nothing short, nothing leaked.

Each test puts a tiny aiohttp app (``OtherServer`` from ``test_client``) in front
of the stand-in and changes one thing in its answers: page counts, ``next``
links, redirects, labels, error details.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from aiohttp import web

from intake_webcoos import Client
from intake_webcoos.api.errors import (
    ForeignOriginError,
    IncompleteListingError,
    InvalidTokenError,
    TruncatedDownloadError,
)
from intake_webcoos.download import download
from intake_webcoos.fs import WebcoosFileSystem

from .conftest import TOKEN
from .test_client import OtherServer

CAMERA, STILLS = "waikiki_sheraton", "one-minute-stills"
DAY = ("2025-09-10T00:00:00Z", "2025-09-10T23:59:59Z")
PREFIX = "/webcoos/api/v1"
BODY = b"\xff\xd8 not much"


def upstream(standin, request: web.Request) -> dict[str, Any]:
    """The stand-in's answer to the same path and query (with the token)."""
    query = "&".join(f"{k}={v}" for k, v in request.query.items())
    target = f"{standin.origin}{request.path}?{query.replace('+', '%2B')}"
    with urllib.request.urlopen(urllib.request.Request(
            target, headers={"Authorization": f"Token {TOKEN}"}), timeout=30) as r:
        return json.loads(r.read())


def fronted(standin, elements: Callable[[web.Request], Any], **routes: Any) -> OtherServer:
    """A server with the stand-in's camera and inventory, and ``elements`` of our making."""

    async def assets(request: web.Request) -> web.Response:
        return web.json_response({"results": [standin.asset_json(CAMERA)]})

    async def inventory(request: web.Request) -> web.Response:
        return web.json_response(upstream(standin, request))

    return OtherServer({f"{PREFIX}/assets/": assets, f"{PREFIX}/elements/": elements,
                        f"{PREFIX}/services/{{service}}/inventory/": inventory, **routes})


def truth(standin) -> pd.DataFrame:
    return Client(TOKEN, standin.api_url).elements(CAMERA, STILLS, *DAY)


# -- pages the server promised but does not have -------------------------------------------
def test_pages_announced_but_missing_raise_incomplete_listing(standin):
    """total_pages says one more page than there is; that page answers 404 'Invalid page.'"""
    seen: list[str] = []

    async def elements(request: web.Request) -> web.Response:
        seen.append(request.query.get("page", "1"))
        try:
            payload = upstream(standin, request)
        except urllib.error.HTTPError as error:
            return web.json_response(json.loads(error.read()), status=error.code)
        payload["pagination"]["total_pages"] += 1  # the lie
        return web.json_response(payload)

    with fronted(standin, elements) as other:
        client = Client(TOKEN, f"{other.url}{PREFIX}", page_size=100, backoff=0.01)
        with pytest.raises(IncompleteListingError) as info:
            client.elements(CAMERA, STILLS, *DAY)
    message = str(info.value)
    assert "does not exist" in message and "Invalid page" in message
    assert "try again later" in message and "Nothing was returned" in message
    assert seen.count("1") == 3  # listed again before giving up


def test_a_page_that_vanishes_once_is_listed_again(standin):
    """Elements removed between the first page and the last: listed again, nothing lost."""
    first_pages = 0

    async def elements(request: web.Request) -> web.Response:
        nonlocal first_pages
        page = request.query.get("page", "1")
        first_pages += page == "1"
        if page != "1" and first_pages == 1:
            return web.json_response({"detail": "Invalid page."}, status=404)
        return web.json_response(upstream(standin, request))

    with fronted(standin, elements) as other:
        client = Client(TOKEN, f"{other.url}{PREFIX}", page_size=100, backoff=0.01)
        frame = client.elements(CAMERA, STILLS, *DAY)
    expected = truth(standin)
    assert first_pages == 2
    assert frame["uuid"].tolist() == expected["uuid"].tolist()
    assert frame["url"].tolist() == expected["url"].tolist()


# -- links and redirects that lead elsewhere -------------------------------------------------
def test_foreign_next_link_in_an_element_listing_is_never_followed(standin):
    """A page without page numbers whose ``next`` names another origin."""
    foreign_seen: list[dict[str, str]] = []

    async def trap(request: web.Request) -> web.Response:
        foreign_seen.append(dict(request.headers))
        return web.json_response({"results": [], "pagination": {"count": 0}})

    with OtherServer({f"{PREFIX}/elements/": trap}) as foreign:
        async def elements(request: web.Request) -> web.Response:
            payload = upstream(standin, request)
            block = payload["pagination"]
            return web.json_response({"results": payload["results"][:50], "pagination": {
                "count": block["count"], "next": f"{foreign.url}{PREFIX}/elements/?page=2"}})

        with fronted(standin, elements) as other:
            client = Client(TOKEN, f"{other.url}{PREFIX}", backoff=0.01)
            with pytest.raises(ForeignOriginError, match="Refusing to send the WebCOOS token"):
                client.elements(CAMERA, STILLS, *DAY)
    assert foreign_seen == []  # not even a request without the token


def test_redirects_stay_on_the_api_origin(standin):
    """A same-origin redirect is followed (token and all); one to another scheme is not."""
    seen: list[str | None] = []

    async def moved(request: web.Request) -> web.Response:
        raise web.HTTPMovedPermanently(f"{PREFIX}/me-now/")

    async def me_now(request: web.Request) -> web.Response:
        seen.append(request.headers.get("Authorization"))
        return web.json_response({"username": "moved"})

    async def to_https(request: web.Request) -> web.Response:
        raise web.HTTPFound(str(request.url.with_scheme("https").with_path("/u/api/me/")))

    with OtherServer({"/u/api/me/": moved, f"{PREFIX}/me-now/": me_now,
                      f"{PREFIX}/assets/": to_https}) as other:
        client = Client(TOKEN, f"{other.url}{PREFIX}", retries=1)
        assert client.me() == {"username": "moved"}
        with pytest.raises(ForeignOriginError):
            client.assets()
    assert seen == [f"Token {TOKEN}"]


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
        frame = Client(TOKEN, f"{other.url}{PREFIX}").elements(
            CAMERA, STILLS, "2025-09-10T18:00Z", "2025-09-10T18:02:59Z")
        assert frame["url"].str.startswith(other.url).all()
        fs = WebcoosFileSystem(token=TOKEN, base_url=f"{other.url}{PREFIX}",
                               skip_instance_cache=True)
        assert fs.cat_file(frame["path"].iloc[0]) == BODY
        download(frame, tmp_path, token=TOKEN, base_url=f"{other.url}{PREFIX}",
                 progress=False)
    assert len(seen) == 1 + len(frame)
    assert all("Authorization" not in headers for headers in seen)


def test_an_error_detail_that_echoes_the_token_is_redacted(standin):
    async def me(request: web.Request) -> web.Response:
        given = request.headers.get("Authorization", "")
        return web.json_response({"detail": f"Invalid token: {given!r}"}, status=401)

    with OtherServer({"/u/api/me/": me}) as other, pytest.raises(InvalidTokenError) as info:
        Client(TOKEN, f"{other.url}{PREFIX}").me()
    assert TOKEN not in str(info.value) and "<token>" in str(info.value)
    assert "fresh token" in str(info.value)


# -- labels that try to leave the folder -----------------------------------------------------
HOSTILE_LABELS = ["../../../escaped.jpg", "/tmp/absolute.jpg", "..", ".", "",
                  "a/b/c.jpg", "back\\slash.jpg", "C:drive.jpg", "nul\x00byte.jpg"]


def test_hostile_labels_stay_inside_every_destination(standin, tmp_path):
    """Labels from the API name files: they are flattened to one name at parse time."""
    existed_before = Path("/tmp/absolute.jpg").exists()

    async def elements(request: web.Request) -> web.Response:
        payload = upstream(standin, request)
        for row, label in zip(payload["results"], HOSTILE_LABELS, strict=False):
            row["data"]["common"]["label"] = label
        return web.json_response(payload)

    with fronted(standin, elements) as other:
        base_url = f"{other.url}{PREFIX}"
        frame = Client(TOKEN, base_url).elements(CAMERA, STILLS, *DAY)
        names = frame["filename"].iloc[:len(HOSTILE_LABELS)].tolist()
        assert all("/" not in n and "\\" not in n and "\x00" not in n and n not in (".", "..")
                   and n for n in names), names
        assert frame["path"].str.count("/").eq(7).all()  # webcoos:// + 6 components
        fs = WebcoosFileSystem(token=TOKEN, base_url=base_url, skip_instance_cache=True)
        day = f"{CAMERA}/{STILLS}/2025/09/10"
        listed = fs.ls(day, detail=False)
        assert len(listed) == len(frame) and all(p.count("/") == 5 for p in listed)
        inner = tmp_path / "a" / "b"
        fs.get(listed[:len(HOSTILE_LABELS) + 3], str(inner / "get") + "/")
        report = download(frame.iloc[:len(HOSTILE_LABELS) + 3], inner / "download",
                          token=TOKEN, base_url=base_url, progress=False)
    assert report.failed == [] and report.downloaded == len(HOSTILE_LABELS) + 3
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(written) == 2 * (len(HOSTILE_LABELS) + 3)  # every element kept, none merged
    for path in written:
        assert inner in path.parents, path  # nothing outside the destinations
        url = frame.loc[frame["filename"] == path.name, "url"]
        if len(url):  # the download command makes colons safe; fs.get keeps the name
            assert path.read_bytes() == standin.file_bytes(url.iloc[0])
    assert not Path("/tmp/absolute.jpg").exists() or existed_before


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
        base_url = f"{other.url}{PREFIX}"
        frame = Client(TOKEN, base_url).elements(CAMERA, STILLS, "2025-09-10T18:00Z",
                                                 "2025-09-10T18:02:59Z")
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
