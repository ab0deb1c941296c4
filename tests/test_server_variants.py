"""The stand-in's variants, switch by switch, over real HTTP on loopback.

Each switch is one reading of the real API that the public record leaves open;
these tests check that the stand-in serves exactly that reading, and that the
listings stay consistent with the statistics and the inventory under each.
"""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.parse
from dataclasses import FrozenInstanceError, fields
from datetime import datetime

import pytest
from click.testing import CliRunner

from intake_webcoos.server import VARIANT_MATRIX, Faults, StandIn, Variants
from intake_webcoos.server.cameras import CAMERAS
from intake_webcoos.server.command import serve
from intake_webcoos.server.variants import MALFORMATIONS

from .helpers import TOKEN, http
from .test_server import api, walk

WAIKIKI = "waikiki_sheraton-one-minute-stills-s3"
HOBOKEN = "stevens_hoboken-10-minute-stills-s3"
DAY = "2025-09-10"
BOUNDS = {"starting_after": f"{DAY}T00:00:00Z", "starting_before": f"{DAY}T23:59:59Z"}
FIVE = {"count", "start_index", "end_index", "next", "previous"}


def _start(element: dict) -> str:
    return element["data"]["extents"]["temporal"]["min"]


def _stats(standin, asset: str, service: str) -> dict:
    """The service's ``elements`` statistics, as ``/assets/{asset}/`` states them."""
    obj = api(standin, f"/assets/{asset}/").json()
    return next(s["elements"] for p in obj["feeds"][0]["products"] for s in p["services"]
                if s["data"]["common"]["slug"] == service)


# -- the dataclass ---------------------------------------------------------------
def test_defaults_are_the_best_supported_readings():
    v = Variants()
    assert (v.end_rule, v.pagination, v.page_size_cap, v.null_durations) == \
        ("exclusive", "full", None, False)
    assert (v.inventory_delay, v.inventory_status, v.raw_colons, v.bad_token_status) == \
        (0.0, None, False, 403)
    assert (v.latest_routes, v.assets_pagination, v.malformed_every, v.file_origins) == \
        ("both", True, 0, 1)
    with pytest.raises(FrozenInstanceError):
        v.end_rule = "inclusive"  # type: ignore[misc]


@pytest.mark.parametrize("bad", [{"end_rule": "closed"}, {"pagination": "none"},
                                 {"page_size_cap": 0}, {"bad_token_status": 400},
                                 {"latest_routes": "stage"}, {"file_origins": 3},
                                 {"inventory_delay": -1.0}, {"malformed_every": -2},
                                 {"inventory_status": 200}, {"inventory_status": 599}])
def test_invalid_switches_are_refused(bad):
    with pytest.raises(ValueError):
        Variants(**bad)


def test_matrix_has_one_entry_per_switch_at_a_non_default_reading():
    names = [f.name for f in fields(Variants)]
    assert list(VARIANT_MATRIX) == ["default", *names]
    assert VARIANT_MATRIX["default"] == Variants()
    for name in names:
        changed = [f.name for f in fields(Variants)
                   if getattr(VARIANT_MATRIX[name], f.name) != getattr(Variants(), f.name)]
        assert changed == [name]


def test_variants_block_restores_the_ones_before(standin):
    before = standin.current_variants
    with standin.variants(Variants(pagination="minimal")):
        assert standin.current_variants == Variants(pagination="minimal")
        with pytest.raises(RuntimeError), standin.variants(Variants(end_rule="inclusive")):
            assert standin.current_variants == Variants(end_rule="inclusive")
            raise RuntimeError("inside")
        assert standin.current_variants == Variants(pagination="minimal")
    assert standin.current_variants == before
    standin.set_variants(Variants(raw_colons=True))
    try:
        assert standin.current_variants.raw_colons
    finally:
        standin.set_variants(before)


# -- end_rule --------------------------------------------------------------------
@pytest.mark.parametrize("rule", ["exclusive", "inclusive"])
def test_end_rule_decides_the_element_at_starting_before(standin, rule):
    truth = standin.elements("waikiki_sheraton", "one-minute-stills", f"{DAY}T18:00:00",
                             f"{DAY}T19:00:00")
    t0, t1 = _start(truth[3]), _start(truth[9])
    with standin.variants(Variants(end_rule=rule)):
        got = walk(standin, service=WAIKIKI, starting_after=t0, starting_before=t1)
        same = api(standin, "/elements/", service=WAIKIKI, starting_after=t1,
                   starting_before=t1).json()
    expected = truth[3:10] if rule == "inclusive" else truth[3:9]
    assert [e["uuid"] for e in got] == [e["uuid"] for e in expected]
    assert _start(got[0]) == t0  # starting_after is inclusive under both rules
    assert same["pagination"]["count"] == (1 if rule == "inclusive" else 0)


# -- pagination ------------------------------------------------------------------
def test_minimal_pagination_has_exactly_five_fields(standin):
    full = walk(standin, service=WAIKIKI, page_size=50, **BOUNDS)
    with standin.variants(Variants(pagination="minimal")):
        first = api(standin, "/elements/", service=WAIKIKI, page_size=50, **BOUNDS).json()
        assets = api(standin, "/assets/").json()
        minimal = walk(standin, service=WAIKIKI, page_size=50, **BOUNDS)
    assert set(first["pagination"]) == FIVE == set(assets["pagination"])
    assert first["pagination"]["start_index"] == 1 and first["pagination"]["end_index"] == 50
    assert assets["pagination"]["next"] is None
    assert minimal == full and len(full) > 300


def test_page_size_cap_makes_consistent_pages(standin):
    whole = walk(standin, service=WAIKIKI, page_size=1000, **BOUNDS)
    with standin.variants(Variants(page_size_cap=7)):
        payload = api(standin, "/elements/", service=WAIKIKI, page_size=1000, **BOUNDS).json()
        pages = [payload]
        while (link := payload["pagination"]["next"]):
            query = urllib.parse.parse_qs(urllib.parse.urlsplit(link).query)
            assert query["page_size"] == ["1000"]  # the link keeps what was asked
            payload = http(link, TOKEN).json()
            pages.append(payload)
        smaller = api(standin, "/elements/", service=WAIKIKI, page_size=5, **BOUNDS).json()
        default = api(standin, "/elements/", service=WAIKIKI, **BOUNDS).json()
        past = api(standin, "/elements/", service=WAIKIKI, page=len(pages) + 1, **BOUNDS)
    count = len(whole)
    assert all(p["pagination"]["count"] == count for p in pages)
    assert len(pages) == -(-count // 7) == pages[0]["pagination"]["total_pages"]
    assert [len(p["results"]) for p in pages[:-1]] == [7] * (len(pages) - 1)
    assert 1 <= len(pages[-1]["results"]) <= 7
    assert [p["pagination"]["start_index"] for p in pages] == list(range(1, count + 1, 7))
    assert [p["pagination"]["end_index"] for p in pages[:-1]] == list(range(7, count, 7))
    assert [e for p in pages for e in p["results"]] == whole
    assert len(smaller["results"]) == 5 and len(default["results"]) == 7
    assert past.status == 404


# -- element records -------------------------------------------------------------
def test_null_durations(standin):
    video = {"service": "waikiki_sheraton-video-archive-s3", **BOUNDS}
    plain = walk(standin, **video)
    stills = walk(standin, service=WAIKIKI, **BOUNDS)
    with standin.variants(Variants(null_durations=True)):
        nulled = walk(standin, **video)
        nulled_stills = walk(standin, service=WAIKIKI, **BOUNDS)
        latest = api(standin, "/assets/waikiki_sheraton/elements/latest/video/").json()
    assert plain and {e["data"]["properties"]["duration"] for e in plain} == {20.0}
    assert [e["data"]["properties"]["duration"] for e in nulled] == [None] * len(plain)
    assert "duration" in nulled[0]["data"]["properties"]  # present, and null
    assert latest["data"]["properties"]["duration"] is None
    for e in plain:
        e["data"]["properties"]["duration"] = None
    assert nulled == plain and nulled_stills == stills


def test_malformed_records_rotate_at_every_nth_index(standin):
    every = 4
    whole = api(standin, "/elements/", service=WAIKIKI, page_size=100_000).json()
    with standin.variants(Variants(malformed_every=every)):
        listed = api(standin, "/elements/", service=WAIKIKI, page_size=100_000).json()
        window = walk(standin, service=WAIKIKI, page_size=9, ordering="-starting", **BOUNDS)
        stats = _stats(standin, "waikiki_sheraton", WAIKIKI)
    good, bad = whole["results"], listed["results"]
    assert listed["pagination"]["count"] == whole["pagination"]["count"] == stats["count"]
    assert len(bad) == len(good) and sum(e["data"]["properties"]["size"] for e in bad) == \
        stats["size"]
    # By the element's index in its service, whatever the window, page or order.
    by_uuid = {e["uuid"]: e for e in bad}
    assert window and all(e == by_uuid[e["uuid"]] for e in window)
    seen = []
    for i, (got, expected) in enumerate(zip(bad, good, strict=True)):
        if (i + 1) % every:
            assert got == expected, i
            continue
        way = MALFORMATIONS[((i + 1) // every - 1) % len(MALFORMATIONS)]
        seen.append(way)
        if way == "extents":
            assert got["data"]["extents"] is None
            got["data"]["extents"] = expected["data"]["extents"]
        elif way == "url":
            assert got["data"]["properties"]["url"] is None
            got["data"]["properties"]["url"] = expected["data"]["properties"]["url"]
        else:
            with pytest.raises(ValueError):
                datetime.fromisoformat(_start(got))
            got["data"]["extents"]["temporal"]["min"] = _start(expected)
        assert got == expected, i  # broken in that one way only
    assert seen[:6] == ["extents", "url", "time"] * 2 and len(seen) == len(good) // every


# -- inventory -------------------------------------------------------------------
def test_slow_inventory(standin):
    path = f"/services/{WAIKIKI}/inventory/"
    quick = api(standin, path)
    with standin.variants(Variants(inventory_delay=0.4)):
        t0 = time.perf_counter()
        slow = api(standin, path)
        elapsed = time.perf_counter() - t0
        t0 = time.perf_counter()
        assert api(standin, "/elements/", service=WAIKIKI, page_size=1).status == 200
        assert time.perf_counter() - t0 < 0.4  # only the inventory is slow
    assert elapsed >= 0.4 and slow.status == 200 and slow.json() == quick.json()


def test_failing_inventory(standin):
    path = f"/services/{WAIKIKI}/inventory/"
    with standin.variants(Variants(inventory_status=504, inventory_delay=0.2)):
        t0 = time.perf_counter()
        failed = api(standin, path)
        elapsed = time.perf_counter() - t0
        unknown = api(standin, "/services/nope-s3/inventory/")
        assert api(standin, "/assets/").status == 200
    assert failed.status == 504 and failed.json() == {"detail": "Gateway Timeout."}
    assert elapsed >= 0.2 and unknown.status == 404
    with standin.variants(Variants(inventory_status=503)):
        assert api(standin, path).json() == {"detail": "Service Unavailable."}
    assert api(standin, path).status == 200


# -- file names and origins --------------------------------------------------------
def test_raw_colons_in_element_urls_and_both_spellings_served(standin):
    window = {"starting_after": f"{DAY}T12:00:00Z", "starting_before": f"{DAY}T14:00:00Z"}
    encoded = walk(standin, service=HOBOKEN, **window)
    stills = walk(standin, service=WAIKIKI, **BOUNDS)
    with standin.variants(Variants(raw_colons=True)):
        raw = walk(standin, service=HOBOKEN, **window)
        truth = standin.elements("stevens_hoboken", "10-minute-stills", f"{DAY}T12:00:00",
                                 f"{DAY}T13:59:59")
        assert walk(standin, service=WAIKIKI, **BOUNDS) == stills  # no colons: no change
    assert raw == truth and len(raw) == len(encoded) > 5
    for r, e in zip(raw, encoded, strict=True):
        raw_url, encoded_url = r["data"]["properties"]["url"], e["data"]["properties"]["url"]
        assert "%3A" in encoded_url and "%3A" not in raw_url
        assert urllib.parse.urlsplit(raw_url).path.count(":") == 2
        assert raw_url == encoded_url.replace("%3A", ":")
    props = raw[0]["data"]["properties"]
    for url in (props["url"], encoded[0]["data"]["properties"]["url"]):
        answer = http(url)
        assert answer.status == 200 and len(answer.body) == props["size"]
        assert answer.body == standin.file_bytes(url)


@pytest.fixture(scope="module")
def two_origins():
    """A stand-in of its own started with two file origins (damage cannot be undone)."""
    with StandIn(token=TOKEN, frame_size=(64, 36), span_days=2,
                 variants=Variants(file_origins=2)) as s:
        yield s


def test_two_file_origins_split_the_cameras(two_origins):
    s = two_origins
    first, second = s.files_urls
    assert first == s.files_url and second != first and second.startswith("http://127.0.0.1:")
    styles = set()
    for position, camera in enumerate(CAMERAS):
        services = {sv["data"]["common"]["slug"]: sv["data"]["properties"]
                    for p in s.asset_json(camera.slug)["feeds"][0]["products"]
                    for sv in p["services"] if sv["data"]["type"] == "S3Service"}
        for slug, props in services.items():
            url = s.elements(camera.slug, slug[len(camera.slug) + 1:-3])[0]["data"][
                "properties"]["url"]
            if position % 2 and camera.bucket == "webcoos":  # the bucket is the host
                assert url.startswith(f"{second}/media/sources/webcoos/groups/"), url
                assert props["base_url"] == second
                assert props["url"] == f"{second}/{props['path']}"
                styles.add("host")
            else:
                assert url.startswith(f"{first}/{camera.bucket}/"), url
                assert props["base_url"] == first
                styles.add("path")
            assert url.startswith(props["url"])
    assert styles == {"host", "path"}


def test_both_origins_serve_their_files_and_record_requests(two_origins):
    s = two_origins
    hosted = s.elements("currituck_hampton_inn", "one-minute-stills")[0]["data"]["properties"]
    pathed = s.elements("waikiki_sheraton", "one-minute-stills")[0]["data"]["properties"]
    first, second = s.files_urls
    assert hosted["url"].startswith(second + "/") and pathed["url"].startswith(first + "/")
    s.clear_requests()
    for props in (hosted, pathed):
        answer = http(props["url"])
        assert answer.status == 200 and len(answer.body) == props["size"]
        assert answer.body == s.file_bytes(props["url"])
        head = http(props["url"], method="HEAD")
        assert int(head.headers["Content-Length"]) == props["size"]
        part = http(props["url"], Range="bytes=0-9")
        assert part.status == 206 and part.body == answer.body[:10]
    recorded = s.requests_to("files")
    assert len(recorded) == 6
    assert {r.headers["Host"] for r in recorded} == \
        {urllib.parse.urlsplit(u).netloc for u in (first, second)}
    assert {r.path.split("/")[1] for r in recorded} == {"webcoos", "media"}
    # S3 serves both addressing styles: the same object, path-style, on the first origin.
    path_style = hosted["url"].replace(second, f"{first}/webcoos", 1)
    assert http(path_style).body == s.file_bytes(hosted["url"])
    assert http(f"{second}/webcoos/{hosted['url'][len(second) + 1:]}").status == 404


def test_damage_and_faults_reach_the_second_origin(two_origins):
    s = two_origins
    urls = [e["data"]["properties"]["url"]
            for e in s.elements("kasitsna_dock", "one-minute-stills")[:3]]
    assert all(u.startswith(s.files_urls[1]) for u in urls)
    s.damage(urls[0], "missing")
    s.damage(urls[1], "corrupt")
    assert http(urls[0]).status == 404
    corrupt = http(urls[1])
    assert corrupt.status == 200 and not corrupt.body.startswith(b"\xff\xd8")
    waikiki = s.elements("waikiki_sheraton", "one-minute-stills")[0]["data"]["properties"]["url"]
    with s.faults(files=Faults(error_rate=1.0)):
        assert http(urls[2]).status in (500, 502, 503, 504)
        assert http(waikiki).status in (500, 502, 503, 504)
        assert s.fault_counts("files") == {"error": 2}


def test_second_origin_starts_when_switched_on_and_keeps_serving(standin):
    assert standin.files_urls == [standin.files_url]
    with standin.variants(Variants(file_origins=2)):
        first, second = standin.files_urls
        assert first == standin.files_url
        props = standin.elements("currituck_hampton_inn", "one-minute-stills",
                                 f"{DAY}T12:00:00", f"{DAY}T23:59:59")[0]["data"]["properties"]
        assert props["url"].startswith(second + "/media/")
        assert http(props["url"]).status == 200
    assert standin.files_urls == [standin.files_url]
    assert http(props["url"]).status == 200  # a URL handed out earlier stays valid
    assert standin.elements("currituck_hampton_inn", "one-minute-stills", f"{DAY}T12:00:00",
                            f"{DAY}T23:59:59")[0]["data"]["properties"]["url"].startswith(
        standin.files_url + "/webcoos/")


# -- auth and routes -------------------------------------------------------------
def test_bad_token_status(standin):
    url = f"{standin.api_url}/assets/"
    wrong = http(url, "not-the-token")
    assert wrong.status == 403 and wrong.json() == {"detail": "Invalid token."}
    assert "WWW-Authenticate" not in wrong.headers
    with standin.variants(Variants(bad_token_status=401)):
        wrong = http(url, "not-the-token")
        missing = http(url)
        assert http(url, TOKEN).status == 200
    assert wrong.status == 401 and wrong.json() == {"detail": "Invalid token."}
    assert wrong.headers["WWW-Authenticate"] == "Token"
    assert missing.status == 403
    assert missing.json() == {"detail": "Authentication credentials were not provided."}


def test_production_latest_routes(standin):
    no_route = http(f"{standin.api_url}/no/such/route/", TOKEN)
    truth = standin.elements("waikiki_sheraton", "one-minute-stills")[-1]
    with standin.variants(Variants(latest_routes="production")):
        by_service = [api(standin, f"/services/{WAIKIKI}/elements/latest{slash}")
                      for slash in ("", "/")]
        by_asset = api(standin, "/assets/waikiki_sheraton/elements/latest/image/")
    assert no_route.status == 404
    for answer in by_service:
        assert (answer.status, answer.body) == (no_route.status, no_route.body)
        assert answer.headers["Content-Type"] == no_route.headers["Content-Type"]
    assert by_asset.status == 200 and by_asset.json() == truth
    assert api(standin, f"/services/{WAIKIKI}/elements/latest").json() == truth


def test_assets_without_pagination(standin):
    paginated = api(standin, "/assets/").json()
    with standin.variants(Variants(assets_pagination=False)):
        bare = api(standin, "/assets/").json()
        elements = api(standin, "/elements/", service=WAIKIKI).json()
    assert list(bare) == ["results"] and bare["results"] == paginated["results"]
    assert paginated["pagination"]["count"] == len(bare["results"])
    assert "pagination" in elements  # only /assets/ loses its block


# -- consistency under every reading ----------------------------------------------------
@pytest.mark.parametrize("name", list(VARIANT_MATRIX))
def test_listing_matches_statistics_and_inventory_under_every_variant(standin, name):
    service = "currituck_hampton_inn-one-minute-stills-s3"
    variants = VARIANT_MATRIX[name]
    with standin.variants(variants):
        elements = walk(standin, service=service, page_size=1000)
        stats = _stats(standin, "currituck_hampton_inn", service)
        inventory = api(standin, f"/services/{service}/inventory/")
    sizes = [e["data"]["properties"]["size"] for e in elements]
    assert len(elements) == stats["count"] > 1000 and sum(sizes) == stats["size"]
    if variants.inventory_status is not None:
        assert inventory.status == variants.inventory_status
        return
    for result in inventory.json()["results"]:
        names = [f["name"] for f in result["meta"]["fields"]]
        rows = [dict(zip(names, row, strict=True)) for row in result["values"]]
        assert sum(r["count"] for r in rows) == len(elements), result["name"]
        assert sum(r["size"] for r in rows) == sum(sizes), result["name"]


# -- the serve command ------------------------------------------------------------------
def test_serve_help_names_every_switch():
    out = CliRunner().invoke(serve, ["--help"]).output
    for option in ("--end-rule", "--pagination", "--page-size-cap", "--null-durations",
                   "--inventory-delay", "--inventory-status", "--raw-colons",
                   "--bad-token-status", "--latest-routes", "--no-assets-pagination",
                   "--malformed-every", "--file-origins"):
        assert option in out, option
    assert len(fields(Variants)) == 12


def test_serve_refuses_an_invalid_switch():
    result = CliRunner().invoke(serve, ["--port", "0", "--files-port", "0",
                                        "--page-size-cap", "0"])
    assert result.exit_code == 2 and "page_size_cap" in result.output
    assert CliRunner().invoke(serve, ["--end-rule", "closed"]).exit_code == 2


def test_serve_with_switches_from_the_shell():
    proc = subprocess.Popen(
        [sys.executable, "-m", "intake_webcoos.server", "--port", "0", "--files-port", "0",
         "--token", "shell-token", "--width", "64", "--height", "48", "--file-origins", "2",
         "--bad-token-status", "401", "--no-assets-pagination", "--end-rule", "inclusive"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        lines = [proc.stdout.readline() for _ in range(4)]
        api_url = lines[1].split()[-1]
        files = [line.split()[-1] for line in lines[2:4]]
        assert all(line.startswith("  files: http://127.0.0.1:") for line in lines[2:4])
        assert files[0] != files[1]
        assert http(f"{api_url}/assets/", "wrong").status == 401
        assets = http(f"{api_url}/assets/", "shell-token").json()
        assert list(assets) == ["results"]
    finally:
        proc.terminate()
        proc.wait(10)
