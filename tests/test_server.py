"""The stand-in WebCOOS server (server/), route by route, over real HTTP on loopback.

Its catalogue, auth, element listings, inventories and file origin; its security
(loopback only, constant-time token checks, no token echoed); its faults; the
waits tests use instead of sleeps; and starting it from the shell.
"""

from __future__ import annotations

import hmac
import io
import json
import subprocess
import sys
import threading
import time
import urllib.parse
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from PIL import Image

from intake_webcoos.server import Faults, StandIn
from intake_webcoos.server.cameras import CAMERAS

from .helpers import TOKEN, http, listening, requires_proc, url_of

SAMPLES = Path(__file__).parent / "data"
WAIKIKI = "waikiki_sheraton-one-minute-stills-s3"
DAY = "2025-09-10"


def api(standin, path: str, token: str | None = TOKEN, **params):
    query = ("?" + urllib.parse.urlencode(params)) if params else ""
    return http(f"{standin.api_url}{path}{query}", token)


def walk(standin, **params) -> list[dict]:
    """Every element of a listing, following ``next`` links to the end."""
    answer = api(standin, "/elements/", **params)
    assert answer.status == 200, answer.body
    payload = answer.json()
    elements = list(payload["results"])
    while payload["pagination"]["next"]:
        answer = http(payload["pagination"]["next"], TOKEN)
        assert answer.status == 200
        payload = answer.json()
        elements.extend(payload["results"])
    return elements


# -- catalog -------------------------------------------------------------------
def test_assets_lists_the_real_cameras(standin):
    answer = api(standin, "/assets/", source="webcoos", type="webcoos.camera", _nocache="true")
    assert answer.status == 200
    payload = answer.json()
    slugs = [a["data"]["common"]["slug"] for a in payload["results"]]
    for required in ("waikiki_sheraton", "currituck_hampton_inn", "walton_lighthouse",
                     "stevens_hoboken", "buxtoncoastalcam", "tmmc_prls",
                     "madeira_beach_camera_1", "kasitsna_dock"):
        assert required in slugs
    assert payload["pagination"]["count"] == len(slugs)
    assert payload["pagination"]["next"] is None


def test_assets_give_state_and_region_where_known_and_wedges_where_real(standin):
    props = {a["data"]["common"]["slug"]: a["data"]["properties"]
             for a in api(standin, "/assets/").json()["results"]}
    assert (props["waikiki_sheraton"]["state_or_territory"],
            props["waikiki_sheraton"]["region"]) == ("HI", "PACIOOS")
    assert (props["stevens_hoboken"]["state_or_territory"],
            props["stevens_hoboken"]["region"]) == ("NJ", "MARACOOS")
    # Left out where unsure, as older payloads leave them out.
    assert "state_or_territory" not in props["madeira_beach_camera_1"]
    assert "region" not in props["madeira_beach_camera_1"]
    assert "wedge" not in props["walton_lighthouse"]  # as in reality
    ring = props["waikiki_sheraton"]["wedge"]["coordinates"][0]
    assert ring[0] == ring[-1] == [-157.83024, 21.276763]  # from the camera, closed


def test_asset_detail_is_the_bare_object_and_unknown_is_404(standin):
    answer = api(standin, "/assets/kasitsna_dock/")
    assert answer.status == 200
    asset = answer.json()
    assert asset["data"]["common"]["slug"] == "kasitsna_dock"
    assert asset["data"]["properties"]["timezone"] == "America/Anchorage"
    assert asset["data"]["properties"]["location"]["coordinates"] == [-151.5525, 59.4684]
    assert api(standin, "/assets/kasitsna_dock").status == 200  # older clients omit the slash
    missing = api(standin, "/assets/no_such_camera/")
    assert missing.status == 404 and missing.json() == {"detail": "Not found."}


def _key_sets(obj, path="", out=None) -> dict[str, set[str]]:
    """Keys found at each level (lists folded into their items; free-form maps skipped)."""
    out = {} if out is None else out
    if isinstance(obj, dict):
        if path.endswith(("thumbnails.base", ".wedge", ".location")):
            return out
        out.setdefault(path, set()).update(obj)
        for k, v in obj.items():
            _key_sets(v, f"{path}.{k}", out)
    elif isinstance(obj, list):
        for item in obj:
            _key_sets(item, f"{path}[]", out)
    return out


def test_key_sets_cover_the_real_payloads(standin):
    real = json.loads((SAMPLES / "assets_results_excerpt_prod_2025-09.json").read_text())
    ours = api(standin, "/assets/").json()["results"]
    real_keys, our_keys = _key_sets(real), _key_sets(ours)
    for level, keys in real_keys.items():
        assert level in our_keys, level
        assert keys <= our_keys[level], (level, keys - our_keys[level])


def test_stream_and_s3_services(standin):
    waikiki = standin.asset_json("waikiki_sheraton")
    products = {p["data"]["common"]["slug"]: p for p in waikiki["feeds"][0]["products"]}
    (stream,) = products["video-streams"]["services"]
    assert stream["data"]["type"] == "StreamingService"
    assert stream["elements"] == {"count": 0, "size": None, "first_starting": None,
                                  "last_starting": None, "first_ending": None,
                                  "last_ending": None}
    westerly = standin.asset_json("westerly")
    video = next(p for p in westerly["feeds"][0]["products"]
                 if p["data"]["common"]["slug"] == "video-archive")
    assert sorted(s["data"]["type"] for s in video["services"]) == ["S3Service",
                                                                      "StreamingService"]
    buxton = standin.asset_json("buxtoncoastalcam")
    assert buxton["disposition"]["slug"] == "archived"
    stats = buxton["feeds"][0]["products"][0]["services"][0]["elements"]
    assert stats["last_starting"] < "2021-01-05" and stats["count"] > 0


def test_result_products_have_end_times(standin):
    walton = standin.asset_json("walton_lighthouse")
    services = {s["data"]["common"]["slug"]: s for p in walton["feeds"][0]["products"]
                for s in p["services"]}
    rip = services["walton_lighthouse-rip-detection-results-s3"]["elements"]
    assert rip["first_ending"] == rip["first_starting"] is not None
    element = walk(standin, service="walton_lighthouse-rip-detection-results-s3",
                   starting_after=f"{DAY}T00:00:00Z", starting_before=f"{DAY}T23:59:59Z")[0]
    assert element["data"]["extents"]["temporal"]["max"] == \
        element["data"]["extents"]["temporal"]["min"]


def test_me_is_at_the_host_root(standin):
    answer = http(f"{standin.origin}/u/api/me/", TOKEN)
    assert answer.status == 200
    assert {"username", "email", "last_login"} <= set(answer.json())


# -- auth ----------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/assets/", "/assets/waikiki_sheraton/",
                                  f"/services/{WAIKIKI}/inventory/",
                                  f"/elements/?service={WAIKIKI}"])
def test_auth_on_every_api_route(standin, path):
    missing = http(standin.api_url + path)
    assert missing.status == 403
    assert missing.json() == {"detail": "Authentication credentials were not provided."}
    wrong = http(standin.api_url + path, "not-the-token")
    assert wrong.status == 403 and wrong.json() == {"detail": "Invalid token."}  # DRF
    assert "WWW-Authenticate" not in wrong.headers
    bearer = http(standin.api_url + path, Authorization=f"Bearer {TOKEN}")
    assert bearer.status == 403
    assert http(f"{standin.origin}/u/api/me/").status == 403


# -- elements ------------------------------------------------------------------
@pytest.mark.parametrize("ordering", ["starting", "-starting"])
def test_pagination_walk_visits_every_element_once(standin, ordering):
    bounds = {"starting_after": f"{DAY}T00:00:00Z", "starting_before": f"{DAY}T23:59:59Z"}
    first = api(standin, "/elements/", service=WAIKIKI, page_size=37, ordering=ordering,
                **bounds).json()
    pagination = first["pagination"]
    assert set(pagination) == {"count", "page", "total_pages", "start_index", "end_index",
                               "next", "previous", "next_page", "previous_page"}
    assert pagination["start_index"] == 1 and pagination["end_index"] == 37
    assert pagination["next_page"] == 2 and pagination["previous"] is None
    assert pagination["total_pages"] == -(-pagination["count"] // 37)
    next_query = urllib.parse.parse_qs(urllib.parse.urlsplit(pagination["next"]).query)
    assert next_query["ordering"] == [ordering] and next_query["page_size"] == ["37"]
    assert next_query["starting_after"] == [bounds["starting_after"]]
    assert pagination["next"].startswith(standin.api_url)

    elements = walk(standin, service=WAIKIKI, page_size=37, ordering=ordering, **bounds)
    truth = standin.elements("waikiki_sheraton", "one-minute-stills", f"{DAY}T00:00:00",
                             f"{DAY}T23:59:59")
    assert len(elements) == pagination["count"] == len(truth) > 300
    uuids = [e["uuid"] for e in elements]
    assert len(set(uuids)) == len(uuids)
    expected = truth if ordering == "starting" else truth[::-1]
    assert elements == expected


def test_bounds_default_to_after_inclusive_before_exclusive_and_accept_offsets(standin):
    truth = standin.elements("waikiki_sheraton", "one-minute-stills", f"{DAY}T00:00:00",
                             f"{DAY}T06:00:00")
    t0 = truth[10]["data"]["extents"]["temporal"]["min"]
    t1 = truth[20]["data"]["extents"]["temporal"]["min"]
    exact = walk(standin, service=WAIKIKI, starting_after=t0, starting_before=t1)
    assert [e["uuid"] for e in exact] == [e["uuid"] for e in truth[10:20]]
    start = datetime.fromisoformat(t0)
    stop = datetime.fromisoformat(t1)
    for after, before in [
        (start.isoformat(), stop.isoformat()),  # +00:00
        (start.astimezone(ZoneInfo("America/New_York")).isoformat(),
         stop.astimezone(ZoneInfo("America/New_York")).isoformat()),  # -04:00
        (start.replace(tzinfo=None).isoformat(), stop.replace(tzinfo=None).isoformat()),  # naive
    ]:
        got = walk(standin, service=WAIKIKI, starting_after=after, starting_before=before)
        assert [e["uuid"] for e in got] == [e["uuid"] for e in exact], (after, before)
    # A "+" left unencoded in a query string arrives as a space.
    raw = http(f"{standin.api_url}/elements/?service={WAIKIKI}&starting_after="
               f"{start.isoformat().replace('+', '%20')}&starting_before={t1}", TOKEN)
    assert raw.json()["pagination"]["count"] == 10


def test_service_by_uuid_and_page_size_limits(standin):
    by_uuid = api(standin, "/elements/", service="6d540882-750e-4de6-afce-e1b660f17cbc")
    payload = by_uuid.json()
    assert by_uuid.status == 200 and len(payload["results"]) == 100  # default page size
    big = api(standin, "/elements/", service=WAIKIKI, page_size=5000).json()  # no cap
    assert len(big["results"]) == 5000 and big["pagination"]["end_index"] == 5000
    assert big["pagination"]["count"] == payload["pagination"]["count"] > 5000
    everything = api(standin, "/elements/", service=WAIKIKI, page_size=100_000).json()
    assert len(everything["results"]) == everything["pagination"]["count"]
    assert everything["pagination"]["next"] is None
    runaway = api(standin, "/elements/", service=WAIKIKI, page_size=100_001)
    assert runaway.status == 400 and "100000" in runaway.json()["detail"]


def test_bad_requests(standin):
    past = api(standin, "/elements/", service=WAIKIKI, page=10_000)
    assert past.status == 404 and past.json() == {"detail": "Invalid page."}
    assert api(standin, "/elements/", service=WAIKIKI, page="zero").status == 404
    bad_date = api(standin, "/elements/", service=WAIKIKI, starting_after="yesterday")
    assert bad_date.status == 400 and "starting_after" in bad_date.json()["detail"]
    unknown = api(standin, "/elements/", service="nope-s3")
    assert unknown.status == 400 and "nope-s3" in unknown.json()["detail"]
    assert api(standin, "/services/nope-s3/inventory/").status == 404


def test_empty_night_window(standin):
    # 10:00 UTC is midnight in Hawaii.
    night = api(standin, "/elements/", service=WAIKIKI, starting_after=f"{DAY}T09:00:00Z",
                starting_before=f"{DAY}T11:00:00Z").json()
    assert night["results"] == []
    assert night["pagination"]["count"] == 0 and night["pagination"]["next"] is None
    assert night["pagination"]["start_index"] == 0


def test_latest_routes(standin):
    image = api(standin, "/assets/waikiki_sheraton/elements/latest/image/")
    assert image.status == 200
    truth = standin.elements("waikiki_sheraton", "one-minute-stills")
    assert image.json() == truth[-1]
    video = api(standin, "/assets/waikiki_sheraton/elements/latest/video")
    assert video.json()["data"]["properties"]["duration"] == standin.bodies.video.seconds == 20.0
    by_service = api(standin, f"/services/{WAIKIKI}/elements/latest")
    assert by_service.json() == truth[-1]
    # stevens_hoboken has no video, and unknown cameras have nothing.
    assert api(standin, "/assets/stevens_hoboken/elements/latest/video/").status == 404
    assert api(standin, "/assets/nobody/elements/latest/image/").status == 404


def test_daylight_only_in_local_time():
    with StandIn(token=TOKEN, frame_size=(64, 48), span_days=3) as s:
        checked = 0
        for camera in CAMERAS:
            tz = ZoneInfo(camera.timezone)
            for product in camera.products:
                if product.service_uuid is None:
                    continue
                times = s.element_times(camera.slug, product.slug).astype(np.int64)
                assert times.size > 0, (camera.slug, product.slug)
                hours = {datetime.fromtimestamp(int(t), tz).hour for t in times}
                assert min(hours) >= 7 and max(hours) < 19, (camera.slug, hours)
                assert max(hours) >= 17  # and they do record through the afternoon
                checked += 1
        assert checked >= 20


def test_cadence_and_jitter(standin):
    times = standin.element_times("waikiki_sheraton", "one-minute-stills").astype(np.int64)
    gaps = np.diff(times)
    within_day = gaps[gaps < 3600]
    assert within_day.min() >= 54 and within_day.max() <= 66
    assert len(set(times % 60)) > 3  # jittered, not aligned to the minute


# -- inventory and statistics -------------------------------------------------
def _inventory(standin, service):
    payload = api(standin, f"/services/{service}/inventory/").json()["results"]
    out = {}
    for result in payload:
        names = [f["name"] for f in result["meta"]["fields"]]
        out[result["name"]] = [dict(zip(names, row, strict=True)) for row in result["values"]]
    return out


@pytest.mark.parametrize("asset,product", [("waikiki_sheraton", "one-minute-stills"),
                                           ("westerly", "one-minute-stills"),
                                           ("walton_lighthouse", "rip-detection-results")])
def test_inventory_and_statistics_match_the_elements(standin, asset, product):
    service = f"{asset}-{product}-s3"
    elements = walk(standin, service=service, page_size=1000)
    sizes = [e["data"]["properties"]["size"] for e in elements]
    starts = [e["data"]["extents"]["temporal"]["min"] for e in elements]
    stats = next(s["elements"] for p in standin.asset_json(asset)["feeds"][0]["products"]
                 for s in p["services"] if s["data"]["common"]["slug"] == service)
    assert stats["count"] == len(elements) and stats["size"] == sum(sizes)
    assert stats["first_starting"] == starts[0] and stats["last_starting"] == starts[-1]

    inventory = _inventory(standin, service)
    assert list(inventory) == ["daily", "weekly", "monthly"]
    for name, rows in inventory.items():
        assert sum(r["count"] for r in rows) == len(elements), name
        assert sum(r["size"] for r in rows) == sum(sizes), name
    by_day: dict[str, list[int]] = {}
    for start, size in zip(starts, sizes, strict=True):
        by_day.setdefault(start[:10], []).append(size)
    for row in inventory["daily"]:
        day = row["starting"][:10]
        assert row["starting"] == f"{day} 00:00:00+00:00"
        assert row["count"] == len(by_day.get(day, [])) and row["size"] == sum(by_day.get(day, []))
        assert row["has_data"] == (1 if row["count"] else 0)
        if row["count"] == 0:
            assert row["data_starting"] == row["data_ending"] == "NaT"
    for row in inventory["weekly"]:
        assert datetime.fromisoformat(row["starting"]).weekday() == 6  # Sunday
    for row in inventory["monthly"]:
        ending = datetime.fromisoformat(row["ending"])
        assert (ending + timedelta(days=1)).day == 1  # the last day of the month


def test_outage_day_is_an_empty_inventory_bin(standin):
    daily = _inventory(standin, "westerly-one-minute-stills-s3")["daily"]
    empty = [r for r in daily if not r["has_data"]]
    assert [r["starting"] for r in empty] == ["2025-09-13 00:00:00+00:00"]
    assert empty[0]["data_starting"] == "NaT" and daily[-1]["has_data"] == 1


# -- the file origin ----------------------------------------------------------
def _first_url(standin, asset="waikiki_sheraton", product="one-minute-stills"):
    return standin.elements(asset, product, f"{DAY}T00:00:00", f"{DAY}T23:59:59")[0][
        "data"]["properties"]


def test_files_need_no_token_and_match_their_size(standin):
    props = _first_url(standin)
    answer = http(props["url"])
    assert answer.status == 200
    assert int(answer.headers["Content-Length"]) == len(answer.body) == props["size"]
    assert answer.headers["Content-Type"] == "image/jpeg" and answer.headers["ETag"]
    image = Image.open(io.BytesIO(answer.body))
    assert image.size == (320, 180) and image.format == "JPEG"
    image.load()
    assert answer.body == standin.file_bytes(props["url"])


def test_range_requests(standin):
    props = _first_url(standin)
    url, size = props["url"], props["size"]
    full = standin.file_bytes(url)
    for header, first, last in [("bytes=0-9", 0, 9), (f"bytes={size - 5}-", size - 5, size - 1),
                                ("bytes=-7", size - 7, size - 1),
                                (f"bytes=100-{size + 50}", 100, size - 1)]:
        answer = http(url, Range=header)
        assert answer.status == 206, header
        assert answer.body == full[first : last + 1]
        assert answer.headers["Content-Range"] == f"bytes {first}-{last}/{size}"
    unsatisfiable = http(url, Range=f"bytes={size}-")
    assert unsatisfiable.status == 416
    assert unsatisfiable.headers["Content-Range"] == f"bytes */{size}"


def test_head_and_etag(standin):
    props = _first_url(standin)
    head = http(props["url"], method="HEAD")
    get = http(props["url"])
    assert head.status == 200 and head.body == b""
    assert int(head.headers["Content-Length"]) == props["size"]
    assert head.headers["ETag"] == get.headers["ETag"]
    other = _first_url(standin, "walton_lighthouse")
    assert http(other["url"], method="HEAD").headers["ETag"] != head.headers["ETag"]


def test_unknown_keys_are_404(standin):
    props = _first_url(standin)
    assert http(props["url"].replace(".jpg", ".png")).status == 404
    assert http(standin.files_url + "/webcoos/nothing/here.jpg").status == 404


def test_colons_in_file_names(standin):
    element = standin.elements("stevens_hoboken", "10-minute-stills", f"{DAY}T12:00:00",
                               f"{DAY}T23:59:59")[0]
    label = element["data"]["common"]["label"]
    assert label.startswith("stevens_hoboken_2025-09-10_") and label.count(":") == 2
    url = url_of(element)
    assert "%3A" in url and urllib.parse.unquote(url).endswith(label)
    answer = http(url)
    assert answer.status == 200 and len(answer.body) == element["data"]["properties"]["size"]


def test_frame_bytes_are_deterministic():
    with StandIn(frame_size=(160, 90)) as a, StandIn(frame_size=(160, 90)) as b:
        ea = a.elements("tmmc_prls", "one-minute-stills", f"{DAY}T18:00:00", f"{DAY}T18:05:00")
        eb = b.elements("tmmc_prls", "one-minute-stills", f"{DAY}T18:00:00", f"{DAY}T18:05:00")
        assert [e["uuid"] for e in ea] == [e["uuid"] for e in eb] and len(ea) >= 4
        for x, y in zip(ea, eb, strict=True):
            bx = http(url_of(x)).body
            by = http(url_of(y)).body
            assert bx == by and len(bx) == x["data"]["properties"]["size"]
        frames = {http(url_of(x)).body for x in ea}
        assert len(frames) == len(ea)  # the waves move: every minute is a new picture


def test_thumbnails_are_served(standin):
    asset = standin.asset_json("waikiki_sheraton")
    thumb = asset["data"]["properties"]["thumbnails"]["base"]["rect_small"]
    answer = http(thumb)
    assert answer.status == 200 and Image.open(io.BytesIO(answer.body)).size == (200, 100)
    props = _first_url(standin)
    medium = http(props["thumbnails"]["base"]["rect_medium"])
    assert Image.open(io.BytesIO(medium.body)).size == (400, 200)


@requires_proc("/proc/net/tcp")
def test_listens_on_loopback_only(standin):
    for port in (standin.api_port, standin.files_port):
        assert listening(port) == ["0100007F"]  # 127.0.0.1, and no IPv6 or wildcard socket
    assert standin.api_url.startswith("http://127.0.0.1:")
    assert standin.files_url.startswith("http://127.0.0.1:")


def test_checks_tokens_with_compare_digest(standin, monkeypatch):
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    url = f"{standin.api_url}/assets/"
    for given in (TOKEN[:-1] + "x", TOKEN[:3], TOKEN + "-longer", ""):
        wrong = http(url, token=given)  # every wrong token, whatever its length (403: DRF)
        assert wrong.status == 403 and wrong.json() == {"detail": "Invalid token."}
    assert http(url, token=TOKEN).status == 200
    assert calls == [(g.encode(), TOKEN.encode()) for g in
                     (TOKEN[:-1] + "x", TOKEN[:3], TOKEN + "-longer", "", TOKEN)]
    # The decision is compare_digest's alone (no == or early exit before it).
    monkeypatch.setattr(hmac, "compare_digest", lambda a, b: True)
    assert http(url, token="anything").status == 200
    assert http(url).status == 403  # no header at all is refused before any comparison


@pytest.mark.parametrize("origin", ["api", "files"])
def test_never_echoes_the_token(standin, origin):
    """Error bodies and headers of the stand-in hold no token (it sees them in every request)."""
    url = f"{standin.api_url}/elements/?service=nope" if origin == "api" else \
        f"{standin.files_url}/no/such/key.jpg"
    with standin.faults(**{origin: Faults(error_rate=0.5, throttle_rate=0.5, seed=5)}):
        answers = [http(url, token=TOKEN) for _ in range(6)]
    answers.append(http(url, token=TOKEN))
    assert {a.status for a in answers} >= {429, 400 if origin == "api" else 404}
    for answer in answers:
        assert TOKEN.encode() not in answer.body
        assert all(TOKEN not in v for v in answer.headers.values())


# -- faults --------------------------------------------------------------------
@pytest.mark.parametrize("origin", ["api", "files"])
@pytest.mark.parametrize("kind", ["error", "throttle", "drop", "truncate"])
def test_each_fault_at_its_rate(standin, origin, kind):
    rate, n = 0.3, 150
    faults = Faults(seed=7, retry_after="2", **{f"{kind}_rate": rate})
    url = (f"{standin.origin}/u/api/me/" if origin == "api" else _first_url(standin)["url"])
    token = TOKEN if origin == "api" else None
    seen = 0
    with standin.faults(**{origin: faults}):
        for _ in range(n):
            try:
                answer = http(url, token, timeout=10)
            except Exception:  # dropped or cut short: the client sees a broken connection
                assert kind in ("drop", "truncate")
                seen += 1
                continue
            if kind == "error" and answer.status in (500, 502, 503, 504):
                seen += 1
            elif kind == "throttle" and answer.status == 429:
                assert answer.headers["Retry-After"] == "2"
                seen += 1
            else:
                assert answer.status == 200
        counted = standin.fault_counts(origin)
    assert counted == {kind: seen}
    assert abs(seen / n - rate) < 0.1, seen


def test_latency_and_slow_bodies(standin):
    url = _first_url(standin)["url"]
    with standin.faults(files=Faults(latency=0.2)):
        t0 = time.perf_counter()
        assert http(url).status == 200
        assert time.perf_counter() - t0 >= 0.2
    with standin.faults(api=Faults(slow_rate=1.0, slow_seconds=0.5)):
        t0 = time.perf_counter()
        answer = http(f"{standin.origin}/u/api/me/", TOKEN)
        assert answer.status == 200 and answer.json()["username"]
        assert time.perf_counter() - t0 >= 0.5
    assert http(f"{standin.origin}/u/api/me/", TOKEN).status == 200  # restored


def test_fault_rates_are_validated():
    with pytest.raises(ValueError):
        Faults(error_rate=0.7, drop_rate=0.5)
    with pytest.raises(ValueError):
        Faults(latency=-1)


# -- waiting for requests ------------------------------------------------------------------------
def test_wait_for_requests_wakes_when_enough_have_arrived(standin):
    url = _first_url(standin)["url"]
    standin.clear_requests()
    assert not standin.wait_for_requests("files", 1, timeout=0.01)  # none yet: times out
    requests = threading.Thread(target=lambda: [http(url) for _ in range(3)])
    requests.start()
    try:
        assert standin.wait_for_requests("files", 3, timeout=30)
    finally:
        requests.join()
    assert len(standin.requests_to("files")) == 3
    assert standin.wait_for_requests("files", 2, timeout=0)  # already there: at once
    assert not standin.wait_for_requests("files", 4, timeout=0.01)
    assert not standin.wait_for_requests("api", 1, timeout=0.01)  # counted per origin
    standin.clear_requests()
    assert not standin.wait_for_requests("files", 1, timeout=0.01)  # counted from the clear


def test_wait_for_requests_counts_every_attempt(standin):
    standin.clear_requests()
    with standin.faults(api=Faults(error_rate=1.0)):
        for _ in range(2):
            assert http(f"{standin.origin}/u/api/me/", TOKEN).status >= 500
    assert standin.wait_for_requests("api", 2, timeout=0)
    assert not standin.wait_for_requests("api", 3, timeout=0)


# -- starting it from the shell -------------------------------------------------
def test_python_m_server_prints_its_urls():
    proc = subprocess.Popen(
        [sys.executable, "-m", "intake_webcoos.server", "--port", "0", "--files-port", "0",
         "--token", "shell-token", "--width", "64", "--height", "48"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        lines = [proc.stdout.readline() for _ in range(3)]
        api_url = lines[1].split()[-1]
        assert api_url.startswith("http://127.0.0.1:") and api_url.endswith("/webcoos/api/v1")
        assert http(f"{api_url}/assets/", "shell-token").status == 200
    finally:
        proc.terminate()
        proc.wait(10)


def test_serve_gives_stills_at_the_cameras_size_by_default():
    """Real WebCOOS stills are 2688x1520: the server a person starts serves them so."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "intake_webcoos.server", "--port", "0", "--files-port", "0",
         "--token", "shell-token", "--span-days", "1"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        api_url = [proc.stdout.readline() for _ in range(3)][1].split()[-1]
        query = urllib.parse.urlencode({"service": "waikiki_sheraton-one-minute-stills-s3",
                                        "page_size": "1"})
        (element,) = http(f"{api_url}/elements/?{query}", "shell-token").json()["results"]
        still = http(url_of(element))
        assert still.status == 200
        assert Image.open(io.BytesIO(still.body)).size == (2688, 1520)
    finally:
        proc.terminate()
        proc.wait(10)
