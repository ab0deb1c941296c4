"""How ``webcoos://`` reads files (fs/file.py, fs/filesystem.py): every blocking method through
the one bridge, a file of unknown size fetched once, and the file cache on every path."""

from __future__ import annotations

import pickle
import time

import pytest
from aiohttp import web
from fsspec.spec import AbstractFileSystem

from intake_webcoos.api.sync import blocking_methods
from intake_webcoos.fs.dircache import ListingCache
from intake_webcoos.fs.filesystem import WebcoosFileSystem

from .helpers import API_PREFIX, TOKEN, fronted, upstream

DAY = "waikiki_sheraton/one-minute-stills/2025/09/10"
#: What a user calls on a filesystem and waits for.
BLOCKING = {"ls", "info", "cat_file", "cat", "cat_ranges", "get_file", "get", "find", "glob",
            "du", "exists", "isdir", "isfile", "size", "sizes", "expand_path"}


def test_every_blocking_method_is_declared_and_goes_through_the_bridge(standin):
    assert set(blocking_methods(WebcoosFileSystem)) == BLOCKING
    for name in BLOCKING:  # fsspec's docstrings, as its own blocking twins have
        assert getattr(WebcoosFileSystem, name).__doc__ in (
            getattr(AbstractFileSystem, name).__doc__,
            getattr(WebcoosFileSystem, f"_{name}").__doc__)
    fs = WebcoosFileSystem(token=TOKEN, base_url=standin.api_url, skip_instance_cache=True)
    # fsspec adds a blocking twin to an instance for each coroutine the class leaves bare.
    assert [name for name, value in vars(fs).items() if callable(value)] == []
    assert len(list(fs.walk(DAY))) == 1 and fs.exists(DAY)


def _requests(standin) -> int:
    return len(standin.requests_to("files"))


@pytest.fixture
def unsized(standin):
    """A filesystem over an API that gives no file sizes; the path and bytes of a file."""
    async def elements(request: web.Request) -> web.Response:
        payload = upstream(standin, request)
        for element in payload["results"]:
            element["data"]["properties"].pop("size", None)
        return web.json_response(payload)

    with fronted(standin, elements) as other:
        fs = WebcoosFileSystem(token=TOKEN, base_url=f"{other.url}{API_PREFIX}",
                               skip_instance_cache=True)
        path = fs.ls(DAY, detail=False)[42]
        assert fs.info(path)["size"] is None
        yield fs, path, standin.file_bytes(fs.info(path)["url"])


def test_a_file_of_unknown_size_is_fetched_once(standin, unsized):
    fs, path, data = unsized
    standin.clear_requests()
    with fs.open(path, block_size=100) as f:
        assert f.size == len(data)
        assert f.read(10) == data[:10] and f.seek(-10, 2) and f.read() == data[-10:]
    assert _requests(standin) == 1
    standin.clear_requests()
    assert fs.cat_file(path, -10) == data[-10:] and fs.cat_file(path, 5, -5) == data[5:-5]
    assert _requests(standin) == 2  # one each


def test_a_cached_file_costs_no_request_on_any_path(standin, tmp_path):
    fs = WebcoosFileSystem(token=TOKEN, base_url=standin.api_url, skip_instance_cache=True,
                           cache=True, cache_files=True, cache_dir=str(tmp_path / "cache"))
    first, second = fs.ls(DAY, detail=False)[40:42]
    data = standin.file_bytes(fs.info(first)["url"])
    standin.clear_requests()
    fs.get(first, str(tmp_path / "a.jpg"))
    assert _requests(standin) == 1 and (tmp_path / "a.jpg").read_bytes() == data
    fs.get(first, str(tmp_path / "b.jpg"))
    with fs.open(first) as f:
        assert f.read() == data
    assert fs.cat(first) == data and fs.cat_file(first) == data
    assert _requests(standin) == 1 and (tmp_path / "b.jpg").read_bytes() == data
    with fs.open(second) as f:  # read whole: kept, so a get of it costs nothing more
        f.read()
    fs.get_file(second, str(tmp_path / "c.jpg"))
    assert _requests(standin) == 2


def test_the_listing_cache_keeps_its_own_times(standin):
    cache = ListingCache(listings_expiry_time=0.2)
    cache.put("today", [{"name": "a"}], permanent=False)
    cache.put("past", [{"name": "b"}], permanent=True)
    copy = ListingCache(listings_expiry_time=0.2)
    copy.restore(pickle.loads(pickle.dumps(cache.snapshot())))
    assert set(cache) == set(copy) == {"today", "past"} and len(cache) == 2
    time.sleep(0.3)
    assert "today" not in cache and "today" not in copy and cache["past"] == [{"name": "b"}]
    off = ListingCache(use_listings_cache=False)
    off["x"] = []
    assert "x" not in off
