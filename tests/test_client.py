"""The API client against the stand-in, over loopback HTTP."""

from __future__ import annotations

import asyncio
import logging
import pickle
import subprocess
import sys
import threading

import numpy as np
import pandas as pd
import pytest
from aiohttp import web

from intake_webcoos import AsyncClient, Client
from intake_webcoos.api import (
    ForeignOriginError,
    IncompleteListingError,
    InvalidTimeError,
    InvalidTokenError,
    MissingTokenError,
    NoFilesError,
    ServerError,
    UnknownAssetError,
    UnknownProductError,
)
from intake_webcoos.api.client import day_windows
from intake_webcoos.api.tables import ELEMENT_COLUMNS
from intake_webcoos.server import Faults

from .conftest import TOKEN

CAMERA, STILLS = "waikiki_sheraton", "one-minute-stills"
DAY_START, DAY_END = "2025-09-10T00:00:00Z", "2025-09-10T23:59:59Z"


@pytest.fixture
def client(standin, monkeypatch):
    monkeypatch.delenv("WEBCOOS_API_TOKEN", raising=False)
    monkeypatch.delenv("WEBCOOS_API_URL", raising=False)
    c = Client(token=TOKEN, base_url=standin.api_url, backoff=0.01, max_backoff=0.05)
    yield c
    c.close()


def truth_frame(standin, asset, product, start, end) -> pd.DataFrame:
    """What the stand-in holds, shaped by hand (not by our frame builder)."""
    rows = standin.elements(asset, product, start, end)
    return pd.DataFrame({
        "time": pd.to_datetime([e["data"]["extents"]["temporal"]["min"] for e in rows], utc=True),
        "filename": [e["data"]["common"]["label"] for e in rows],
        "url": [e["data"]["properties"]["url"] for e in rows],
        "size": [e["data"]["properties"]["size"] for e in rows],
        "uuid": [e["uuid"] for e in rows],
    })


def assert_same_elements(frame: pd.DataFrame, truth: pd.DataFrame) -> None:
    assert len(frame) == len(truth)
    assert (frame["time"].to_numpy() == truth["time"].to_numpy()).all()
    for column in ("filename", "url", "uuid"):
        assert frame[column].tolist() == truth[column].tolist(), column
    assert frame["size"].tolist() == truth["size"].tolist()


# -- catalog -----------------------------------------------------------------
def test_me_and_assets(client, standin):
    assert client.me()["username"] == "standin"
    assets = client.assets()
    assert {a.slug for a in assets} >= {"waikiki_sheraton", "stevens_hoboken", "kasitsna_dock"}
    waikiki = client.asset("Beachfront, Waikiki, HI")
    assert waikiki.slug == CAMERA and waikiki.timezone == "US/Hawaii"
    assert client.asset("WAIKIKI_SHERATON").slug == CAMERA
    assert [p.slug for p in client.products(CAMERA)] == ["one-minute-stills", "video-archive",
                                                         "video-streams"]
    (service,) = client.services(CAMERA, STILLS)
    assert service.slug == "waikiki_sheraton-one-minute-stills-s3" and service.is_s3


def test_assets_are_cached(client, standin):
    client.assets()
    before = len(standin.requests_to("api"))
    for _ in range(3):
        client.asset(CAMERA)
        client.products("stevens_hoboken")
    assert len(standin.requests_to("api")) == before
    client.assets(refresh=True)
    assert len(standin.requests_to("api")) == before + 1


def test_product_with_stream_and_s3_picks_s3(client):
    (service,) = client.services("westerly", "video-archive")
    assert service.type == "S3Service" and service.slug == "westerly-video-archive-s3"


# -- elements ----------------------------------------------------------------
def test_elements_frame_contract(client, standin):
    frame = client.elements(CAMERA, STILLS, DAY_START, DAY_END)
    assert list(frame.columns) == list(ELEMENT_COLUMNS)
    for column, dtype in ELEMENT_COLUMNS.items():
        assert str(frame[column].dtype) == dtype, column
    assert isinstance(frame.index, pd.RangeIndex)
    assert frame["time"].is_monotonic_increasing
    assert frame["end"].isna().all() and frame["duration"].isna().all()
    assert (frame["asset"] == CAMERA).all() and (frame["product"] == STILLS).all()
    first = frame.iloc[0]
    assert first["path"] == f"webcoos://{CAMERA}/{STILLS}/2025/09/10/{first['filename']}"
    assert_same_elements(frame, truth_frame(standin, CAMERA, STILLS, DAY_START, DAY_END))


def test_multi_day_listing_uses_day_windows(client, standin):
    standin.clear_requests()
    frame = client.elements(CAMERA, STILLS, "2025-09-05", "2025-09-12T12:00")
    assert_same_elements(frame, truth_frame(standin, CAMERA, STILLS, "2025-09-05",
                                            "2025-09-12T12:00"))
    listed = [r for r in standin.requests_to("api") if r.path.endswith("/elements/")]
    assert len(listed) == 8  # one request per UTC day (each under 1000 elements)
    assert all(r.query["page_size"] == "1000" for r in listed)
    assert frame["uuid"].is_unique


def test_descending_order(client, standin):
    frame = client.elements(CAMERA, STILLS, "2025-09-09", "2025-09-11", ordering="-starting")
    assert frame["time"].is_monotonic_decreasing
    truth = truth_frame(standin, CAMERA, STILLS, "2025-09-09", "2025-09-11")
    assert_same_elements(frame, truth.iloc[::-1].reset_index(drop=True))


def test_open_bounds_list_the_whole_service(client, standin):
    frame = client.elements("stevens_hoboken", "10-minute-stills")
    assert_same_elements(frame, truth_frame(standin, "stevens_hoboken", "10-minute-stills",
                                            None, None))
    assert frame["filename"].str.contains(":").all()


def test_pages_are_fetched_concurrently_and_counted(standin):
    client = Client(token=TOKEN, base_url=standin.api_url, page_size=50)
    standin.clear_requests()
    frame = client.elements(CAMERA, STILLS, DAY_START, DAY_END)
    pages = [r for r in standin.requests_to("api") if r.path.endswith("/elements/")]
    assert len(pages) == -(-len(frame) // 50)
    assert sorted(int(r.query.get("page", 1)) for r in pages) == list(range(1, len(pages) + 1))
    assert_same_elements(frame, truth_frame(standin, CAMERA, STILLS, DAY_START, DAY_END))


@pytest.mark.parametrize("every", ["10min", "1h", pd.Timedelta("7min")])
def test_every_keeps_the_first_element_of_each_bin(client, standin, every):
    full = truth_frame(standin, CAMERA, STILLS, DAY_START, DAY_END)
    expected = full.groupby(full["time"].dt.floor(pd.Timedelta(every))).head(1)
    thinned = client.elements(CAMERA, STILLS, DAY_START, DAY_END, every=every)
    assert_same_elements(thinned, expected.reset_index(drop=True))


def test_every_on_unaligned_video(client, standin):
    thinned = client.elements(CAMERA, "video-archive", DAY_START, DAY_END, every="30min")
    bins = thinned["time"].dt.floor("30min")
    assert bins.is_unique and len(thinned) > 10
    assert (thinned["time"].dt.second != 0).any()  # not aligned: minute-modulo would drop them
    assert (thinned["duration"] == standin.bodies.video.seconds).all()


def test_empty_night_range_has_the_right_shape(client):
    frame = client.elements(CAMERA, STILLS, "2025-09-10T09:00Z", "2025-09-10T11:00Z")
    assert frame.empty and list(frame.columns) == list(ELEMENT_COLUMNS)
    assert str(frame["time"].dtype) == "datetime64[ns, UTC]"


def test_result_products_have_end_times(client):
    frame = client.elements("walton_lighthouse", "rip-detection-results", DAY_START, DAY_END)
    assert len(frame) > 0 and (frame["end"] == frame["time"]).all()


def test_async_iterator_yields_pages(standin):
    async def collect():
        async with AsyncClient(TOKEN, standin.api_url) as aclient:
            batches = [b async for _, b in aclient.iter_elements(CAMERA, STILLS, "2025-09-08",
                                                                 "2025-09-10T23:59:59")]
        return batches

    batches = asyncio.run(collect())
    assert len(batches) == 3
    uuids = [e.uuid for batch in batches for e in batch]
    truth = standin.elements(CAMERA, STILLS, "2025-09-08", "2025-09-10T23:59:59")
    assert sorted(uuids) == sorted(e["uuid"] for e in truth)


def test_latest(client, standin):
    latest = client.latest(CAMERA, STILLS)
    assert latest.uuid == standin.elements(CAMERA, STILLS)[-1]["uuid"]


def test_day_windows_share_their_boundaries():
    windows = day_windows(pd.Timestamp("2025-09-01T12:00Z"), pd.Timestamp("2025-09-03T06:00Z"))
    assert [(str(a), str(b)) for a, b in windows] == [
        ("2025-09-01 12:00:00+00:00", "2025-09-02 00:00:00+00:00"),
        ("2025-09-02 00:00:00+00:00", "2025-09-03 00:00:00+00:00"),
        ("2025-09-03 00:00:00+00:00", "2025-09-03 06:00:00+00:00"),
    ]


# -- inventory -----------------------------------------------------------------
@pytest.mark.parametrize("freq", ["daily", "weekly", "monthly"])
def test_inventory(client, standin, freq):
    inventory = client.inventory("westerly", STILLS, freq)
    assert list(inventory.columns) == ["starting", "ending", "has_data", "count", "size",
                                       "data_starting", "data_ending"]
    assert str(inventory["starting"].dtype) == "datetime64[ns, UTC]"
    assert inventory["has_data"].dtype == bool
    truth = standin.holdings("westerly", STILLS)
    assert inventory["count"].sum() == truth.starts.size
    assert inventory["size"].sum() == truth.sizes.sum()
    if freq == "daily":
        empty = inventory[~inventory["has_data"]]
        assert len(empty) == 1 and empty["data_starting"].isna().all()
    if freq == "weekly":
        assert (inventory["starting"].dt.day_of_week == 6).all()


def test_inventory_is_cached(client, standin):
    client.inventory(CAMERA, STILLS)
    before = len(standin.requests_to("api"))
    client.inventory(CAMERA, STILLS, "monthly")
    assert len(standin.requests_to("api")) == before


# -- files -----------------------------------------------------------------
def test_fetch_sends_no_token_to_the_file_origin(client, standin):
    element = standin.elements(CAMERA, STILLS, DAY_START, DAY_END)[0]
    url = element["data"]["properties"]["url"]
    standin.clear_requests()
    assert client.fetch(url) == standin.file_bytes(url)
    assert client.fetch(url, 10, 20) == standin.file_bytes(url)[10:20]
    files = standin.requests_to("files")
    assert len(files) == 2
    assert all("Authorization" not in r.headers for r in files)
    api = [r for r in standin.requests if r.origin == "api"]
    assert api == []  # nothing else was asked
    with pytest.raises(FileNotFoundError):
        client.fetch(url.replace(".jpg", ".png"))


# -- faults ------------------------------------------------------------------
@pytest.mark.parametrize("faults", [
    Faults(error_rate=0.2, seed=1),
    Faults(throttle_rate=0.2, retry_after="0", seed=2),
    Faults(drop_rate=0.2, seed=3),
    Faults(truncate_rate=0.2, seed=4),
    Faults(error_rate=0.1, throttle_rate=0.05, retry_after="0", drop_rate=0.05, seed=5),
], ids=["5xx", "429", "drop", "truncate", "mixed"])
def test_listing_survives_faults(standin, faults):
    clean = Client(token=TOKEN, base_url=standin.api_url, page_size=100)
    expected = clean.elements(CAMERA, STILLS, "2025-09-09", "2025-09-11")
    faulty = Client(token=TOKEN, base_url=standin.api_url, page_size=100, retries=8,
                    backoff=0.01, max_backoff=0.05)
    with standin.faults(api=faults):
        got = faulty.elements(CAMERA, STILLS, "2025-09-09", "2025-09-11")
        injected = sum(standin.fault_counts("api").values())
    assert injected > 0
    pd.testing.assert_frame_equal(got, expected)


def test_persistent_failure_raises_after_the_configured_attempts(standin):
    client = Client(token=TOKEN, base_url=standin.api_url, retries=3, backoff=0.01)
    client.assets()
    standin.clear_requests()
    with standin.faults(api=Faults(error_rate=1.0, error_statuses=(503,))), \
            pytest.raises(ServerError) as info:
        client.elements(CAMERA, STILLS, DAY_START, DAY_END)
    assert info.value.status == 503 and info.value.attempts == 3
    assert "/elements/" in str(info.value) and "503" in str(info.value)
    assert len(standin.requests_to("api")) == 3


def test_retry_after_is_honoured(standin):
    client = Client(token=TOKEN, base_url=standin.api_url, retries=2, backoff=0.0)
    import time

    with standin.faults(api=Faults(throttle_rate=1.0, retry_after="0.3")):
        t0 = time.perf_counter()
        with pytest.raises(ServerError) as info:
            client.me()
        assert time.perf_counter() - t0 >= 0.3
    assert info.value.status == 429


# -- a server that breaks the rules ------------------------------------------------
class OtherServer:
    """A tiny aiohttp server on loopback whose answers a test chooses."""

    def __init__(self, routes) -> None:
        self.app = web.Application()
        for path, handler in routes.items():
            self.app.router.add_get(path, handler)
        self.seen: list[dict] = []
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


def test_foreign_next_link_is_refused(standin):
    async def assets(request):
        return web.json_response({"results": [], "pagination": {
            "count": 2, "next": f"{standin.files_url}/webcoos/api/v1/assets/?page=2"}})

    with OtherServer({"/webcoos/api/v1/assets/": assets}) as other:
        client = Client(token=TOKEN, base_url=f"{other.url}/webcoos/api/v1")
        standin.clear_requests()
        with pytest.raises(ForeignOriginError, match="Refusing to send the WebCOOS token"):
            client.assets()
    assert standin.requests == []  # not even a request without the token


def test_redirect_to_another_origin_is_refused(standin):
    async def me(request):
        raise web.HTTPFound(f"{standin.files_url}/u/api/me/")

    with OtherServer({"/u/api/me/": me}) as other:
        client = Client(token=TOKEN, base_url=f"{other.url}/webcoos/api/v1")
        standin.clear_requests()
        with pytest.raises(ForeignOriginError):
            client.me()
    assert standin.requests == []


def test_next_links_without_page_numbers_are_followed(standin):
    """A server that only gives count/next (no page numbers), backed by the stand-in."""
    import json
    import urllib.request

    async def elements(request):
        query = dict(request.query)
        with urllib.request.urlopen(urllib.request.Request(
                f"{standin.api_url}/elements/?" + "&".join(f"{k}={v}" for k, v in query.items()),
                headers={"Authorization": f"Token {TOKEN}"})) as r:
            payload = json.loads(r.read())
        block = payload["pagination"]
        nxt = block["next"] and block["next"].replace(standin.origin, other.url)
        return web.json_response({"results": payload["results"], "pagination": {
            "count": block["count"], "start_index": block["start_index"],
            "end_index": block["end_index"], "next": nxt}})

    async def assets(request):
        return web.json_response({"results": [standin.asset_json(CAMERA)]})

    with OtherServer({"/webcoos/api/v1/elements/": elements,
                      "/webcoos/api/v1/assets/": assets}) as other:
        client = Client(token=TOKEN, base_url=f"{other.url}/webcoos/api/v1", page_size=90)
        frame = client.elements(CAMERA, STILLS, DAY_START, DAY_END)
    assert_same_elements(frame, truth_frame(standin, CAMERA, STILLS, DAY_START, DAY_END))


def test_short_listing_raises(standin):
    """A server whose pages do not add up to its count: an error, never a short frame."""
    async def elements(request):
        return web.json_response({"results": standin.elements(CAMERA, STILLS, DAY_START,
                                                              DAY_START)[:0],
                                  "pagination": {"count": 5, "next": None}})

    async def assets(request):
        return web.json_response({"results": [standin.asset_json(CAMERA)]})

    with OtherServer({"/webcoos/api/v1/elements/": elements,
                      "/webcoos/api/v1/assets/": assets}) as other:
        client = Client(token=TOKEN, base_url=f"{other.url}/webcoos/api/v1")
        with pytest.raises(IncompleteListingError, match="did not add up"):
            client.elements(CAMERA, STILLS, DAY_START, DAY_END)


# -- user mistakes -------------------------------------------------------------
def test_unknown_camera_names_close_matches(client):
    with pytest.raises(UnknownAssetError) as info:
        client.elements("waikiki_sheraten", STILLS, DAY_START, DAY_END)
    assert "waikiki_sheraton" in str(info.value) and info.value.suggestions


def test_unknown_product_lists_the_products(client):
    with pytest.raises(UnknownProductError) as info:
        client.elements(CAMERA, "one-minute-still", DAY_START, DAY_END)
    assert "one-minute-stills" in str(info.value) and "video-archive" in str(info.value)


def test_stream_only_product(client):
    with pytest.raises(NoFilesError, match="stream"):
        client.elements(CAMERA, "video-streams", DAY_START, DAY_END)


@pytest.mark.parametrize("start,end", [(DAY_END, DAY_START), ("10/09/2025", DAY_END),
                                       ("yesterday", DAY_END), (DAY_START, 12)])
def test_bad_dates(client, start, end):
    with pytest.raises(InvalidTimeError):
        client.elements(CAMERA, STILLS, start, end)


def test_time_inputs_of_every_kind_agree(client):
    kinds = [
        ("2025-09-10T18:00:00Z", "2025-09-10T20:00:00+00:00"),
        (pd.Timestamp("2025-09-10T14:00", tz="America/New_York"), "2025-09-10 20:00"),
        (np.datetime64("2025-09-10T18:00"), pd.Timestamp("2025-09-10T20:00Z").to_pydatetime()),
    ]
    frames = [client.elements(CAMERA, STILLS, a, b) for a, b in kinds]
    for frame in frames[1:]:
        pd.testing.assert_frame_equal(frame, frames[0])
    assert len(frames[0]) > 100


def test_every_must_be_a_duration(client):
    with pytest.raises(InvalidTimeError):
        client.elements(CAMERA, STILLS, DAY_START, DAY_END, every="sometimes")


def test_missing_and_invalid_token(standin, monkeypatch):
    monkeypatch.delenv("WEBCOOS_API_TOKEN", raising=False)
    with pytest.raises(MissingTokenError, match="WEBCOOS_API_TOKEN"):
        Client(base_url=standin.api_url).assets()
    with pytest.raises(InvalidTokenError, match="refused the token"):
        Client(token="wrong", base_url=standin.api_url).assets()


def test_environment_configuration(standin, monkeypatch):
    monkeypatch.setenv("WEBCOOS_API_TOKEN", TOKEN)
    monkeypatch.setenv("WEBCOOS_API_URL", standin.api_url)
    assert Client().me()["username"] == "standin"


# -- the token stays secret ------------------------------------------------------
def test_token_not_in_repr_pickle_or_logs(standin, caplog, monkeypatch):
    monkeypatch.delenv("WEBCOOS_API_TOKEN", raising=False)
    client = Client(token=TOKEN, base_url=standin.api_url)
    with caplog.at_level(logging.DEBUG, logger="intake_webcoos"), \
            standin.faults(api=Faults(error_rate=0.3, seed=9)):
        client.elements(CAMERA, STILLS, DAY_START, DAY_END)
    assert caplog.records  # something was logged, and none of it carries the token
    assert all(TOKEN not in r.getMessage() for r in caplog.records)
    for text in (repr(client), str(client), repr(client.aclient), repr(client.settings)):
        assert TOKEN not in text
    blob = pickle.dumps(client)
    assert TOKEN.encode() not in blob
    assert pickle.loads(blob).settings.token is None  # and nothing in the environment


def test_pickled_client_reads_the_token_in_another_process(standin):
    blob = pickle.dumps(Client(token=TOKEN, base_url=standin.api_url))
    code = ("import pickle, sys; c = pickle.loads(sys.stdin.buffer.read()); "
            "print(c.me()['username'])")
    env = {"WEBCOOS_API_TOKEN": TOKEN, "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], input=blob, capture_output=True,
                         env=env, timeout=60, check=True)
    assert out.stdout.decode().strip() == "standin"
