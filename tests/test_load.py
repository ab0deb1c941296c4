"""Bounded load on loopback, measured from inside and outside the client.

* 50 listings and 500 frame reads through one ``AsyncClient``, three rounds:
  requests in flight within each limit, resident memory flat;
* the same kind of load through one ``WebcoosFileSystem`` (one client, one pool),
  seen from outside: the kernel's table of TCP connections, the stand-in's count
  of requests in flight, tracemalloc's live bytes (which RSS, holding freed
  arenas, cannot show);
* the stand-in given a burst with no client-side limit at all.

Memory and sockets are read from Linux ``/proc``; those tests are skipped where
there is none.  Loops are bounded; all on 127.0.0.1.  Figures are printed at the
end of the run (``-- load figures --``).
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import random
import time
import tracemalloc

import aiohttp
import pytest

from intake_webcoos import AsyncClient
from intake_webcoos.api.bridge import run
from intake_webcoos.fs.filesystem import WebcoosFileSystem
from intake_webcoos.server import Faults, StandIn

from .helpers import (
    CAMERA,
    STILLS,
    TOKEN,
    label_of,
    requires_proc,
    rss_mib,
    section,
    socket_peaks,
    time_of,
    url_of,
)

API_LIMIT, FILE_LIMIT = 4, 16
READS, LISTINGS, ROUNDS = 500, 50, 5


@requires_proc("/proc/self/status")
def test_50_listings_and_500_frame_reads(standin):
    days = [f"2025-09-{d:02d}" for d in range(3, 17)]
    rng = random.Random(0)
    windows = [(day + "T18:00Z", day + f"T{rng.randint(18, 23)}:59:59Z")
               for day in rng.choices(days, k=50)]
    urls = [url_of(e) for e in standin.elements(CAMERA, STILLS, "2025-09-09",
                                                "2025-09-10T23:59:59")][:READS]
    truth = {u: hashlib.sha256(standin.file_bytes(u)).hexdigest() for u in urls}

    async def run() -> tuple[list[int], list[float]]:
        async with AsyncClient(TOKEN, standin.api_url, api_concurrency=6,
                               file_concurrency=16, backoff=0.01) as client:
            frames = await asyncio.gather(*(client.elements(CAMERA, STILLS, a, b)
                                            for a, b in windows))
            sizes = [len(f) for f in frames]
            memory = []
            for _ in range(3):  # the same 500 reads, three rounds: memory must not grow
                bodies = await asyncio.gather(*(client.fetch(u) for u in urls))
                assert [hashlib.sha256(b).hexdigest() for b in bodies] == \
                    [truth[u] for u in urls]
                del bodies
                memory.append(rss_mib())
            connector = client.transport.session.connector
            assert connector.limit == 6 + 16
            return sizes, memory

    standin.clear_requests()
    with standin.faults(files=Faults(latency=0.01), api=Faults(latency=0.01)):
        sizes, memory = asyncio.run(run())
        peak_api, peak_files = standin.peak_in_flight("api"), standin.peak_in_flight("files")
    expected = [len(standin.elements(CAMERA, STILLS, a, b)) for a, b in windows]
    assert sizes == expected and min(sizes) > 0
    assert 1 < peak_api <= 6 and 8 < peak_files <= 16
    assert memory[2] - memory[1] < 20  # MiB: flat after the first round
    assert len(standin.requests_to("files")) == 3 * READS


@pytest.fixture(scope="module")
def figures(request: pytest.FixtureRequest):
    return section(request, "load figures")


@pytest.fixture(scope="module")
def quiet_standin():
    """A stand-in of its own: the session's has idle connections of earlier tests' clients."""
    with StandIn(token=TOKEN, frame_size=(320, 180)) as s:
        yield s


@requires_proc("/proc/net/tcp", "/proc/self/fd")
def test_listings_and_reads_through_one_filesystem(quiet_standin, figures):
    standin = quiet_standin
    fs = WebcoosFileSystem(token=TOKEN, base_url=standin.api_url, skip_instance_cache=True,
                           api_concurrency=API_LIMIT, file_concurrency=FILE_LIMIT,
                           backoff=0.01, max_backoff=0.05)
    truth = standin.elements(CAMERA, STILLS, "2025-09-09", "2025-09-10T23:59:59")[:READS]
    digests = [hashlib.sha256(standin.file_bytes(url_of(e))).digest()
               for e in truth]  # also renders every frame once, outside the measured rounds
    paths = [f"{CAMERA}/{STILLS}/{time_of(e)[:4]}/{time_of(e)[5:7]}/{time_of(e)[8:10]}/"
             f"{label_of(e)}" for e in truth]
    days = [f"2025-09-{d:02d}" for d in range(3, 17)]
    windows = [(days[i % len(days)] + f"T{17 + i % 5}:00Z",
                days[i % len(days)] + f"T{19 + i % 5}:59:59Z") for i in range(LISTINGS)]

    async def listings() -> list[int]:
        frames = await asyncio.gather(*(fs.aclient.elements(CAMERA, STILLS, a, b)
                                        for a, b in windows))
        return [len(f) for f in frames]

    async def reads() -> bool:
        async def one(path: str) -> bytes:
            return hashlib.sha256(await fs._cat_file(path)).digest()

        return await asyncio.gather(*(one(p) for p in paths)) == digests

    rounds: list[dict[str, float]] = []
    standin.clear_requests()
    with socket_peaks({"api": standin.api_port, "files": standin.files_port}) as peaks:
        # A little latency so that requests overlap on the server and can be counted.
        with standin.faults(api=Faults(latency=0.01)):
            sizes = run(listings, loop=fs.loop)
        api_in_flight = standin.peak_in_flight("api")
        for n in range(ROUNDS):
            standin.clear_requests()  # the stand-in keeps every request it saw: not ours
            if n == 1:
                tracemalloc.start()
            assert run(reads, loop=fs.loop), f"round {n}: a read differs from the stand-in's file"
            files_in_flight = standin.peak_in_flight("files")
            gc.collect()
            current, peak = tracemalloc.get_traced_memory() if n else (0, 0)
            tracemalloc.reset_peak() if n else None
            rounds.append({"in_flight": files_in_flight, "live_mb": current / 2**20,
                           "peak_mb": peak / 2**20})
    tracemalloc.stop()

    assert sizes == [len(standin.elements(CAMERA, STILLS, a, b)) for a, b in windows]
    assert min(sizes) > 0
    # Connections, from the kernel's table, within the pool's limit (api + files);
    # requests in flight, as the stand-in counts them, within each class's limit.
    assert peaks["total"] <= API_LIMIT + FILE_LIMIT, peaks
    assert 1 < api_in_flight <= API_LIMIT
    assert all(8 < r["in_flight"] <= FILE_LIMIT for r in rounds)  # concurrent, and bounded
    # Memory flat: live bytes after a round do not grow with the rounds (a leaked
    # body per read would add ~15 MB a round), nor do the peaks inside them.
    measured = rounds[1:]
    assert measured[-1]["live_mb"] - measured[0]["live_mb"] < 0.5
    assert max(r["peak_mb"] for r in measured) < measured[0]["peak_mb"] + 2
    figures.lines += [
        f"{LISTINGS} concurrent listings through one client: {sum(sizes):,} elements, "
        f"peak API requests in flight {api_in_flight} (limit {API_LIMIT}), "
        f"peak API connections {peaks['api']}",
        f"{READS} concurrent reads x {ROUNDS} rounds through one filesystem: peak file "
        f"connections {peaks['files']} (limit {FILE_LIMIT}), peak in flight "
        f"{max(r['in_flight'] for r in rounds)}, connections in all {peaks['total']} "
        f"(pool limit {API_LIMIT + FILE_LIMIT})",
        "live MiB after rounds 2..5: " + ", ".join(f"{r['live_mb']:.2f}" for r in measured)
        + "; peak MiB within them: " + ", ".join(f"{r['peak_mb']:.2f}" for r in measured),
    ]


def test_the_standin_holds_a_burst_with_no_client_limit(standin, figures):
    """500 file reads and 50 listings at once, from a pool with no connection limit."""
    elements = standin.elements(CAMERA, STILLS, "2025-09-09", "2025-09-10T23:59:59")[:READS]
    urls = [url_of(e) for e in elements]
    bodies = {u: standin.file_bytes(u) for u in urls}
    service = f"{CAMERA}-{STILLS}-s3"
    days = [f"2025-09-{d:02d}" for d in range(3, 17)]
    listings = [(f"{standin.api_url}/elements/", {
        "service": service, "starting_after": f"{days[i % len(days)]}T00:00:00Z",
        "starting_before": f"{days[i % len(days)]}T23:59:59Z", "page_size": "1000"})
        for i in range(LISTINGS)]

    async def burst() -> tuple[list[bool], list[int]]:
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector) as session:
            async def read(url: str) -> bool:
                async with session.get(url) as r:
                    return r.status == 200 and await r.read() == bodies[url]

            async def listing(url: str, params: dict[str, str]) -> int:
                async with session.get(url, params=params,
                                       headers={"Authorization": f"Token {TOKEN}"}) as r:
                    assert r.status == 200
                    return (await r.json())["pagination"]["count"]

            return await asyncio.gather(
                asyncio.gather(*(read(u) for u in urls)),
                asyncio.gather(*(listing(u, p) for u, p in listings)))

    standin.clear_requests()
    started = time.perf_counter()
    files_ok, counts = asyncio.run(burst())
    seconds = time.perf_counter() - started
    peak = standin.peak_in_flight("files")
    assert all(files_ok) and len(files_ok) == READS
    assert counts == [len(standin.elements(CAMERA, STILLS, p["starting_after"][:-1],
                                           p["starting_before"][:-1])) for _, p in listings]
    assert standin.state.in_flight == {"api": 0, "files": 0}  # every request finished
    assert peak > FILE_LIMIT  # it held far more at once than a client would send
    figures.lines.append(
        f"stand-in under a burst with no client limit: {READS} file reads + {LISTINGS} "
        f"listings, all answered correctly, peak file requests in flight {peak}, "
        f"{seconds:.2f} s")
