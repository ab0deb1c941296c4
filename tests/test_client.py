"""The WebCOOS calls (api/client.py) against the stand-in, over loopback HTTP.

Cameras and their products, element listings (the frame contract, day windows,
pages, ``every``), inventories, latest elements; listings from servers whose pages
do not add up; user mistakes named with what to do.
"""

from __future__ import annotations

import asyncio
import json
import urllib.error

import pandas as pd
import pytest
from aiohttp import web

from intake_webcoos import AsyncClient, Client, MalformedRecordsWarning
from intake_webcoos.api.config import Settings
from intake_webcoos.api.tables import ELEMENT_COLUMNS
from intake_webcoos.errors import (
    IncompleteListingError,
    InvalidArgumentError,
    InvalidTimeError,
    ResponseFormatError,
    ServerError,
    SlowServiceError,
    UnknownAssetError,
    UnknownProductError,
)
from intake_webcoos.server import Faults, Variants

from .helpers import (
    API_PREFIX,
    CAMERA,
    DAY,
    STILLS,
    TOKEN,
    elements_requests,
    fronted,
    label_of,
    requires_proc,
    rss_mib,
    size_of,
    time_of,
    upstream,
    url_of,
)

PANDAS_3 = int(pd.__version__.split(".")[0]) >= 3

DAY_START, DAY_END = DAY


@pytest.fixture
def client(no_token):
    c = Client(token=TOKEN, base_url=no_token.api_url, backoff=0.01, max_backoff=0.05)
    yield c
    c.close()


def truth_frame(standin, asset, product, start, end) -> pd.DataFrame:
    """What the stand-in holds, shaped by hand (not by our frame builder)."""
    rows = standin.elements(asset, product, start, end)
    return pd.DataFrame({
        "time": pd.to_datetime([time_of(e) for e in rows], utc=True),
        "filename": [label_of(e) for e in rows],
        "url": [url_of(e) for e in rows],
        "size": [size_of(e) for e in rows],
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
        assert frame[column].dtype == dtype, column
    # String columns have pandas' default string dtype: "str" on pandas 3, object before.
    default = pd.DataFrame({"s": ["x"]})["s"].dtype
    assert str(default) == ("str" if PANDAS_3 else "object")
    for column in ("asset", "product", "service", "filename", "url", "path", "uuid"):
        assert frame[column].dtype == default, column
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
    listed = elements_requests(standin)
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
    pages = elements_requests(standin)
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


def test_result_products_have_end_times(client):
    frame = client.elements("walton_lighthouse", "rip-detection-results", DAY_START, DAY_END)
    assert len(frame) > 0 and (frame["end"] == frame["time"]).all()


def test_async_iterator_yields_pages(standin):
    async def collect():
        async with AsyncClient(TOKEN, standin.api_url) as aclient:
            return [listing async for listing in aclient.iter_elements(
                CAMERA, STILLS, "2025-09-08", "2025-09-10T23:59:59")]

    listings = asyncio.run(collect())
    assert sorted(str(x.window.start.date()) for x in listings) == [
        "2025-09-08", "2025-09-09", "2025-09-10"]  # one window per UTC day
    assert all(x.window.holds(e.time) for x in listings for e in x.elements)
    uuids = [e.uuid for listing in listings for e in listing.elements]
    truth = standin.elements(CAMERA, STILLS, "2025-09-08", "2025-09-10T23:59:59")
    assert sorted(uuids) == sorted(e["uuid"] for e in truth)


def test_latest(client, standin):
    latest = client.latest(CAMERA, STILLS)
    assert latest.uuid == standin.elements(CAMERA, STILLS)[-1]["uuid"]


def test_latest_uses_the_production_route(standin):
    with standin.variants(Variants(latest_routes="production")):
        standin.clear_requests()
        latest = Client(TOKEN, standin.api_url).latest(CAMERA, STILLS)
        paths = [r.path for r in standin.requests_to("api")]
    assert latest.uuid == standin.elements(CAMERA, STILLS)[-1]["uuid"]
    assert f"{API_PREFIX}/assets/{CAMERA}/elements/latest/image/" in paths
    assert not any(p.endswith("/elements/") for p in paths)  # the route was enough


@pytest.mark.parametrize("product", ["annotated-image", "rip-detection-results"])
def test_latest_of_a_product_the_route_does_not_give_is_listed(client, standin, product):
    """The image route gives the camera's newest still; other products are listed."""
    latest = client.latest("walton_lighthouse", product)
    assert latest.uuid == standin.elements("walton_lighthouse", product)[-1]["uuid"]


# -- the cost of a listing follows the data ------------------------------------------
def test_a_wide_span_costs_what_the_data_costs(client, standin):
    exact = client.elements(CAMERA, STILLS)  # the service's own extent
    standin.clear_requests()
    wide = Client(TOKEN, standin.api_url).elements(CAMERA, STILLS, "2000-01-01", "2100-01-01")
    assert len(standin.requests_to("api")) <= 20  # 14 days of data, not 36,525 asked
    assert wide.equals(exact)


@requires_proc("/proc/self/status")
def test_an_end_in_the_year_9999_costs_nothing_more(client, standin):
    before = rss_mib()
    standin.clear_requests()
    frame = client.elements(CAMERA, STILLS, "2025-09-16", "9999-12-31")
    assert rss_mib() - before < 300
    assert len(standin.requests_to("api")) <= 4  # the last day, and one look past the extent
    assert frame["uuid"].tolist() == [e["uuid"] for e in standin.elements(
        CAMERA, STILLS, "2025-09-16", None)]


def test_a_wide_listing_survives_transient_errors(client, standin):
    exact = client.elements(CAMERA, STILLS)
    with standin.faults(api=Faults(error_rate=0.2, seed=7)):
        wide = Client(TOKEN, standin.api_url, retries=8, backoff=0.01, max_backoff=0.05
                      ).elements(CAMERA, STILLS, "2000-01-01", "2100-01-01")
        assert standin.fault_counts("api").get("error", 0) > 0
    assert wide.equals(exact)


def test_days_a_cached_inventory_shows_empty_are_not_listed(client, standin):
    inventory = client.inventory("westerly", STILLS)
    empty = inventory.loc[~inventory["has_data"], "starting"]
    assert [str(d.date()) for d in empty] == ["2025-09-13"]  # the stand-in's outage day
    standin.clear_requests()
    frame = client.elements("westerly", STILLS, "2025-09-12", "2025-09-14T23:59:59")
    asked = sorted(r.query["starting_after"][:10] for r in elements_requests(standin))
    assert asked == ["2025-09-11", "2025-09-13"]  # the days of the 12th and the 14th
    assert_same_elements(frame, truth_frame(standin, "westerly", STILLS, "2025-09-12",
                                            "2025-09-14T23:59:59"))


def test_page_size_has_no_hard_cap(standin):
    standin.clear_requests()
    Client(TOKEN, standin.api_url, page_size=5000).elements(CAMERA, STILLS, *DAY)
    assert {r.query["page_size"] for r in elements_requests(standin)} == {"5000"}


def test_malformed_records_are_skipped_and_named_in_one_warning(client, standin):
    with standin.variants(Variants(malformed_every=10)):
        served = standin.elements(CAMERA, STILLS, *DAY)
        broken = [e["uuid"] for e in served
                  if not isinstance(e["data"]["extents"], dict) or url_of(e) is None
                  or time_of(e) == "NaT"]
        with pytest.warns(MalformedRecordsWarning) as caught:
            frame = client.elements(CAMERA, STILLS, *DAY)
        with pytest.raises(ResponseFormatError, match="record"):
            client.elements(CAMERA, STILLS, *DAY, strict=True)
    assert len(caught) == 1 and f"{len(broken)} malformed" in str(caught[0].message)
    skipped = frame.attrs["skipped_records"]
    assert sorted(r["uuid"] for r in skipped) == sorted(broken) and len(broken) >= 3
    assert all(r["position"] >= 1 and r["window"] and r["problem"] for r in skipped)
    assert len(frame) == len(served) - len(broken)
    assert not set(broken) & set(frame["uuid"])


# -- manners ------------------------------------------------------------------------------
def test_every_request_says_who_sends_it(client, standin):
    standin.clear_requests()
    frame = client.elements(CAMERA, STILLS, *DAY)
    client.fetch(frame["url"].iloc[0])
    agents = {r.origin: r.headers.get("User-Agent", "") for r in standin.requests}
    assert set(agents) == {"api", "files"}
    assert all(a.startswith("intake-webcoos/") and "aiohttp/" in a for a in agents.values())


def test_api_requests_are_paced_by_a_leaky_bucket(standin):
    defaults = Settings()
    assert (defaults.api_rate, defaults.api_burst, defaults.api_concurrency) == (5.0, 10, 4)
    standin.clear_requests()
    Client(TOKEN, standin.api_url, api_rate=20, api_burst=4).elements(
        CAMERA, STILLS, "2025-09-04", "2025-09-15T23:59:59")
    times = sorted(r.time for r in standin.requests_to("api"))
    assert len(times) >= 12
    # Four may start at once; request k then waits for (k - 3) / 20 s to have passed.
    late = [k for k, t in enumerate(times) if t - times[0] < (k - 3) / 20 - 0.02]
    assert late == []
    assert times[-1] - times[0] >= (len(times) - 4) / 20 - 0.02


def test_the_pace_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("WEBCOOS_API_RATE", "2.5")
    assert Client(TOKEN, "http://127.0.0.1:1/").settings.api_rate == 2.5
    monkeypatch.setenv("WEBCOOS_API_RATE", "fast")
    with pytest.raises(InvalidArgumentError, match="WEBCOOS_API_RATE"):
        Client(TOKEN, "http://127.0.0.1:1/")


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


# -- listings from servers whose pages do not add up ---------------------------------------
def test_next_links_without_page_numbers_are_followed(standin):
    """A server that only gives count/next (no page numbers), backed by the stand-in."""
    async def elements(request):
        payload = upstream(standin, request)
        block = payload["pagination"]
        nxt = block["next"] and block["next"].replace(standin.origin, other.url)
        return web.json_response({"results": payload["results"], "pagination": {
            "count": block["count"], "start_index": block["start_index"],
            "end_index": block["end_index"], "next": nxt}})

    with fronted(standin, elements) as other:
        client = Client(token=TOKEN, base_url=f"{other.url}{API_PREFIX}", page_size=90)
        frame = client.elements(CAMERA, STILLS, DAY_START, DAY_END)
    assert_same_elements(frame, truth_frame(standin, CAMERA, STILLS, DAY_START, DAY_END))


def test_short_listing_raises(standin):
    """A server whose pages do not add up to its count: an error, never a short frame."""
    async def elements(request):
        return web.json_response({"results": [], "pagination": {"count": 5, "next": None}})

    with fronted(standin, elements) as other:
        client = Client(token=TOKEN, base_url=f"{other.url}{API_PREFIX}")
        with pytest.raises(IncompleteListingError, match="did not add up"):
            client.elements(CAMERA, STILLS, DAY_START, DAY_END)


def test_pages_announced_but_missing_raise_incomplete_listing(standin):
    """The count says one more page than there is; that page answers 404 'Invalid page.'"""
    seen: list[str] = []

    async def elements(request: web.Request) -> web.Response:
        seen.append(request.query.get("page", "1"))
        try:
            payload = upstream(standin, request)
        except urllib.error.HTTPError as error:
            return web.json_response(json.loads(error.read()), status=error.code)
        payload["pagination"]["count"] += 100  # the lie (a page of 100 more)
        return web.json_response(payload)

    with fronted(standin, elements) as other:
        client = Client(TOKEN, f"{other.url}{API_PREFIX}", page_size=100, backoff=0.01)
        with pytest.raises(IncompleteListingError) as info:
            client.elements(CAMERA, STILLS, *DAY)
    message = str(info.value)
    assert "does not exist" in message and "Invalid page" in message
    assert "try again later" in message and "Nothing was returned" in message
    assert seen.count("1") == 3  # listed again before giving up


def test_a_total_pages_that_disagrees_with_the_count_is_not_trusted(standin):
    """Pages are worked out from the count and the rows a page holds, not total_pages."""

    async def elements(request: web.Request) -> web.Response:
        payload = upstream(standin, request)
        payload["pagination"]["total_pages"] += 5  # pages that do not exist
        return web.json_response(payload)

    with fronted(standin, elements) as other:
        client = Client(TOKEN, f"{other.url}{API_PREFIX}", page_size=100, backoff=0.01)
        frame = client.elements(CAMERA, STILLS, *DAY)
    assert_same_elements(frame, truth_frame(standin, CAMERA, STILLS, *DAY))


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
        client = Client(TOKEN, f"{other.url}{API_PREFIX}", page_size=100, backoff=0.01)
        frame = client.elements(CAMERA, STILLS, *DAY)
    expected = Client(TOKEN, standin.api_url).elements(CAMERA, STILLS, *DAY)
    assert first_pages == 2
    assert frame["uuid"].tolist() == expected["uuid"].tolist()
    assert frame["url"].tolist() == expected["url"].tolist()


# -- user mistakes -------------------------------------------------------------
def test_unknown_camera_names_close_matches(client):
    with pytest.raises(UnknownAssetError) as info:
        client.elements("waikiki_sheraten", STILLS, DAY_START, DAY_END)
    assert "waikiki_sheraton" in str(info.value) and info.value.suggestions


def test_unknown_product_lists_the_products(client):
    with pytest.raises(UnknownProductError) as info:
        client.elements(CAMERA, "one-minute-still", DAY_START, DAY_END)
    assert "one-minute-stills" in str(info.value) and "video-archive" in str(info.value)


@pytest.mark.parametrize("start,end", [("yesterday", DAY_END), (DAY_START, 12)])
def test_bad_dates(client, start, end):
    with pytest.raises(InvalidTimeError):
        client.elements(CAMERA, STILLS, start, end)


def test_every_must_be_a_duration(client):
    with pytest.raises(InvalidTimeError):
        client.elements(CAMERA, STILLS, DAY_START, DAY_END, every="sometimes")


def test_environment_configuration(api_env):
    assert Client().me()["username"] == "standin"


def test_a_slow_inventory_ends_in_a_typed_error_in_its_own_time(standin):
    with standin.variants(Variants(inventory_delay=3)):
        slow = Client(TOKEN, standin.api_url, inventory_timeout=0.5)
        with pytest.raises(SlowServiceError, match=r"did not answer within 0.5 s"):
            slow.inventory(CAMERA, STILLS)
        assert slow.inventory(CAMERA, STILLS, wait=0.1) is None  # it failed a moment ago


def test_a_failing_inventory_is_a_server_error_and_listings_do_not_need_it(standin):
    with standin.variants(Variants(inventory_status=504)):
        failing = Client(TOKEN, standin.api_url, retries=2, backoff=0.01)
        with pytest.raises(ServerError, match="504"):
            failing.inventory(CAMERA, STILLS)
        assert len(failing.elements(CAMERA, STILLS, *DAY)) > 0
