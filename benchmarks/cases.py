"""The benchmark cases of the API and files: ours and the peers side by side, in one run.

The cases of pixels are in :mod:`benchmarks.pixels`."""

from __future__ import annotations

import json
import math
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import orjson
import pandas as pd
import requests

from intake_webcoos import Client
from intake_webcoos.api.bodies import gc_paused
from intake_webcoos.api.elements import Element, Page
from intake_webcoos.api.tables import elements_frame
from intake_webcoos.cli.download import download
from intake_webcoos.fs.filesystem import WebcoosFileSystem

from . import peers
from .harness import TOKEN, Server, median_time

CAMERA, PRODUCT = "waikiki_sheraton", "one-minute-stills"
SERVICE = f"{CAMERA}-{PRODUCT}-s3"
SPAN_END = pd.Timestamp("2025-09-17T00:00Z")


@dataclass(frozen=True)
class Sizes:
    listing_days: int
    downloads: int
    decode_frames: int
    memory_frames: tuple[int, int]
    day_days: int
    repeat: int
    frame_size: tuple[int, int]
    #: Frames rectified in the two memory runs of case 12.
    rectify_frames: tuple[int, int] = (60, 240)
    #: Stills of the timex of case 13: two hours of one-minute stills.
    timex_frames: int = 120

    @property
    def span_days(self) -> int:
        return max(self.listing_days + 1, 5)


#: Full runs: stills at the cameras' size (2688x1520, 4 MP, 0.5-0.9 MB each), in the counts
#: the cases need (a cube of 120 of them is 1.5 GB; the stand-in renders one in 0.1 s).
FULL = Sizes(listing_days=30, downloads=500, decode_frames=120, memory_frames=(120, 480),
             day_days=1, repeat=3, frame_size=(2688, 1520))
QUICK = Sizes(listing_days=2, downloads=20, decode_frames=20, memory_frames=(20, 40),
              day_days=1, repeat=1, frame_size=(320, 180), rectify_frames=(10, 20),
              timex_frames=20)


@dataclass
class Row:
    """One line of the results table."""

    case: str
    measure: str
    value: float
    unit: str
    note: str = ""


@dataclass
class Results:
    rows: list[Row] = field(default_factory=list)
    targets: list[tuple[str, str, bool]] = field(default_factory=list)

    def add(self, *args, **kwargs) -> None:
        self.rows.append(Row(*args, **kwargs))

    def target(self, what: str, detail: str, met: bool) -> None:
        self.targets.append((what, detail, met))


def window(days: int) -> tuple[str, str]:
    start = SPAN_END - pd.Timedelta(days=days)
    return start.isoformat(), (SPAN_END - pd.Timedelta(seconds=1)).isoformat()


def parsing(server: Server, sizes: Sizes, results: Results) -> float:
    """Case 5: elements JSON to the DataFrame (our parser and frame), elements per second."""
    start, end = window(sizes.listing_days)
    headers = {"Authorization": f"Token {TOKEN}"}
    bodies = []
    url = f"{server.api_url}/elements/"
    params: dict | None = {"service": SERVICE, "starting_after": start, "starting_before": end,
                           "page_size": "1000"}
    while url:
        response = requests.get(url, params=params, headers=headers, timeout=600)
        bodies.append(response.content)
        url, params = response.json()["pagination"]["next"], None
    count = sum(len(json.loads(b)["results"]) for b in bodies)

    def parse() -> pd.DataFrame:
        # The client's own steps: decode, records, frame (with the collector paused).
        rows = []
        with gc_paused():
            for body in bodies:
                page = Page.from_json(orjson.loads(body))
                rows.extend((SERVICE, Element.from_json(r)) for r in page.results)
            return elements_frame(rows, CAMERA, PRODUCT)

    seconds, _ = median_time(parse, max(sizes.repeat, 5))
    rate = count / seconds
    results.add("5 parsing", f"JSON -> elements frame ({count} elements)", rate, "elements/s")
    results.target("parsing >= 200,000 elements/s", f"{rate:,.0f}/s", rate >= 200_000)
    return rate


def listing(server: Server, sizes: Sizes, results: Results, parse_rate: float) -> None:
    """Case 1: a month of one-minute stills."""
    start, end = window(sizes.listing_days)
    counts = {}

    def ours(**options) -> None:
        client = Client(TOKEN, server.api_url, **options)
        frame = client.elements(CAMERA, PRODUCT, start, end)
        counts["ours"], counts["requests"] = len(frame), client.aclient.transport.api_requests
        # The pages the data needs: a UTC day per window at most (the real service is slow
        # on long ranges), the largest page the API serves.
        per_day = frame["time"].dt.floor("D").value_counts()
        counts["pages"] = int(sum(math.ceil(n / client.settings.page_size) for n in per_day))

    def theirs() -> None:
        counts["peer"] = len(peers.next_link_listing(server.api_url, TOKEN, SERVICE, start, end))

    ours()  # warm the stand-in's templates
    t_ours, _ = median_time(ours, sizes.repeat)
    t_peer, _ = median_time(theirs, sizes.repeat)
    # The peer does not pace itself: ours unpaced too, to compare like with like.
    t_unpaced, _ = median_time(lambda: ours(api_rate=1000.0, api_burst=1000), sizes.repeat)
    assert counts["ours"] == counts["peer"], counts
    settings = Client(TOKEN, server.api_url).settings
    requests_made = counts["requests"]
    floor = _listing_floor(counts["pages"], settings) + counts["ours"] / parse_rate
    n = counts["ours"]
    results.add("1 listing", f"ours: Client.elements, {n} elements, {requests_made} requests",
                t_ours, "s")
    results.add("1 listing", "ours: the same, unpaced (api_rate=1000)", t_unpaced, "s")
    results.add("1 listing", f"peer: requests following next, {math.ceil(n / 100)} pages",
                t_peer, "s")
    results.add("1 listing", f"floor: the {counts['pages']} pages the data needs at the "
                "polite pace (or pages / concurrency x 50 ms) + parse", floor, "s")
    results.target("listing >= 10x faster than next-link paging (both unpaced)",
                   f"{t_peer / t_unpaced:.1f}x (paced: {t_peer / t_ours:.1f}x)",
                   t_peer / t_unpaced >= 10)
    results.target("listing within 1.5x of the floor", f"{t_ours / floor:.2f}x",
                   t_ours / floor <= 1.5)


def _listing_floor(requests: int, settings) -> float:
    """The least time ``requests`` API requests take at 50 ms each under the client's limits:
    at most ``api_concurrency`` at once, and the pace (a burst, then ``api_rate`` a second)."""
    latency = math.ceil(requests / settings.api_concurrency) * 0.05
    pace = max(0, requests - settings.api_burst) / settings.api_rate
    return max(latency, pace + 0.05)


def wide_span(server: Server, sizes: Sizes, results: Results) -> None:
    """Case 6: a span asked far wider than the data, side by side with the exact extent."""
    counts: dict[str, tuple[int, int]] = {}
    spans = {"wide": ("2000-01-01", "2100-01-01"), "exact": (None, None)}

    def run(name: str) -> None:
        client = Client(TOKEN, server.api_url)
        frame = client.elements(CAMERA, PRODUCT, *spans[name])
        counts[name] = (len(frame), client.aclient.transport.api_requests)

    t_wide, _ = median_time(lambda: run("wide"), sizes.repeat)
    t_exact, _ = median_time(lambda: run("exact"), sizes.repeat)
    (n, wide), (n_exact, exact) = counts["wide"], counts["exact"]
    assert n == n_exact, counts
    asked = (pd.Timestamp("2100-01-01") - pd.Timestamp("2000-01-01")).days + 1
    results.add("6 wide span", f"ours: 2000-01-01 to 2100-01-01, {n} elements, {wide} "
                "requests", t_wide, "s")
    results.add("6 wide span", f"ours: the service's extent, {exact} requests", t_exact, "s")
    results.add("6 wide span", "the first build: one request per UTC day asked (not run)",
                asked, "requests")
    results.target("wide span costs the extent's requests (+2) and time (within 1.2x)",
                   f"{wide} vs {exact} requests, {t_wide / t_exact:.2f}x",
                   wide <= exact + 2 and t_wide / t_exact <= 1.2)


def cached_listing(server: Server, sizes: Sizes, results: Results) -> None:
    """Case 7: days of stills listed again from the on-disk cache, against the API."""
    start, end = window(sizes.listing_days)
    with tempfile.TemporaryDirectory() as folder:
        counts: dict[str, int] = {}

        def listing(name: str, refresh: bool) -> None:
            client = Client(TOKEN, server.api_url, cache=True, cache_dir=folder)
            counts[name] = len(client.elements(CAMERA, PRODUCT, start, end, refresh=refresh))
            counts[f"{name} requests"] = client.aclient.transport.api_requests

        t_api, _ = median_time(lambda: listing("api", True), sizes.repeat)
        t_cached, _ = median_time(lambda: listing("cached", False), sizes.repeat)
    assert counts["api"] == counts["cached"], counts
    days = sizes.listing_days
    results.add("7 cache", f"ours: {days} days listed from the API ({counts['api requests']} "
                "requests)", t_api, "s")
    results.add("7 cache", f"ours: the same {days} days from the on-disk cache "
                f"({counts['cached requests']} requests)", t_cached, "s")
    results.target("cached listing under 10 % of the uncached one",
                   f"{t_cached / t_api:.1%}", t_cached / t_api < 0.10)


def downloading(server: Server, sizes: Sizes, results: Results, workdir: Path) -> list[str]:
    """Case 2: downloading stills; returns the local folder's files for case 3."""
    client = Client(TOKEN, server.api_url)
    start, end = window(3)
    frame = client.elements(CAMERA, PRODUCT, start, end).iloc[: sizes.downloads]
    urls = list(frame["url"])
    paths = [p.removeprefix("webcoos://") for p in frame["path"]]
    fs = WebcoosFileSystem(token=TOKEN, base_url=server.api_url, skip_instance_cache=True)
    for day in sorted({p.rsplit("/", 1)[0] for p in paths}):
        fs.ls(day)  # listings are not part of the transfer
    target = workdir / "download"

    def fresh() -> None:
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)

    runs = {
        "ours: fs.get": lambda: fs.get(paths, str(target) + "/"),
        "ours: intake-webcoos download": lambda: download(frame, target, token=TOKEN,
                                                          base_url=server.api_url,
                                                          progress=False),
        "peer: sequential requests": lambda: peers.sequential_download(urls, target),
        "peer: fsspec HTTPFileSystem.get": lambda: peers.fsspec_http_get(urls, target),
    }
    fresh()
    runs["peer: fsspec HTTPFileSystem.get"]()  # warm the stand-in's frames for everyone
    seconds = {}
    for name, run in runs.items():
        seconds[name], _ = median_time(run, sizes.repeat, setup=fresh)
        results.add("2 download", f"{name} ({len(urls)} stills)", seconds[name], "s")
    best = min(seconds["ours: fs.get"], seconds["ours: intake-webcoos download"])
    worst = max(seconds["ours: fs.get"], seconds["ours: intake-webcoos download"])
    speedup = seconds["peer: sequential requests"] / worst
    results.target("download >= 10x faster than sequential", f"{speedup:.1f}x", speedup >= 10)
    ratio = worst / seconds["peer: fsspec HTTPFileSystem.get"]
    results.target("download no slower than fsspec HTTP", f"{ratio:.2f}x (best of ours "
                   f"{best / seconds['peer: fsspec HTTPFileSystem.get']:.2f}x)", ratio <= 1.0)
    fresh()
    peers.fsspec_http_get(urls, target)
    return urls


def timestamp() -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
