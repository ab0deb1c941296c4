"""Load on loopback, measured from outside the client: sockets, requests, memory.

``test_load.py`` runs the listings and reads through ``AsyncClient`` and watches
RSS.  Here the same kind of load goes through the filesystem (one
``WebcoosFileSystem``, so one client and one connection pool), and what is
asserted is seen from outside: the kernel's table of TCP connections, the
stand-in's count of requests in flight, and tracemalloc's count of live bytes
(which RSS, holding freed arenas, cannot show).  The stand-in is also given a
burst with no client-side limit at all.  Loops are bounded; all on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import os
import threading
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager

import aiohttp
import pytest
from fsspec.asyn import sync

from intake_webcoos.api.errors import ServerError
from intake_webcoos.fs import WebcoosFileSystem
from intake_webcoos.server import Faults, StandIn

from .conftest import TOKEN
from .summary import section

CAMERA, STILLS = "waikiki_sheraton", "one-minute-stills"
API_LIMIT, FILE_LIMIT = 4, 16
READS, LISTINGS, ROUNDS = 500, 50, 5


def own_sockets() -> set[str]:
    """Inodes of this process's sockets (other processes on the host are not ours to count)."""
    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue  # closed meanwhile
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def established_to(port: int) -> int:
    """This process's TCP connections to ``port``, from the kernel's table."""
    mine = own_sockets()
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            next(f)
            for line in f:
                fields = line.split()
                if fields[3] == "01" and int(fields[2].rsplit(":", 1)[1], 16) == port \
                        and fields[9] in mine:
                    count += 1
    return count


@contextmanager
def socket_peaks(ports: dict[str, int]) -> Iterator[dict[str, int]]:
    """Samples the connections to each port every few milliseconds; yields the maxima."""
    peaks = dict.fromkeys(ports, 0)
    peaks["total"] = 0
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            counts = {name: established_to(port) for name, port in ports.items()}
            for name, n in counts.items():
                peaks[name] = max(peaks[name], n)
            peaks["total"] = max(peaks["total"], sum(counts.values()))
            time.sleep(0.002)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield peaks
    finally:
        stop.set()
        thread.join()


@pytest.fixture(scope="module")
def figures(request: pytest.FixtureRequest):
    return section(request, "load figures")


@pytest.fixture(scope="module")
def quiet_standin():
    """A stand-in of its own: the session's has idle connections of earlier tests' clients."""
    with StandIn(token=TOKEN, frame_size=(320, 180)) as s:
        yield s


def test_listings_and_reads_through_one_filesystem(quiet_standin, figures):
    standin = quiet_standin
    fs = WebcoosFileSystem(token=TOKEN, base_url=standin.api_url, skip_instance_cache=True,
                           api_concurrency=API_LIMIT, file_concurrency=FILE_LIMIT,
                           backoff=0.01, max_backoff=0.05)
    truth = standin.elements(CAMERA, STILLS, "2025-09-09", "2025-09-10T23:59:59")[:READS]
    digests = [hashlib.sha256(standin.file_bytes(e["data"]["properties"]["url"])).digest()
               for e in truth]  # also renders every frame once, outside the measured rounds
    times = [e["data"]["extents"]["temporal"]["min"] for e in truth]
    paths = [f"{CAMERA}/{STILLS}/{t[:4]}/{t[5:7]}/{t[8:10]}/{e['data']['common']['label']}"
             for t, e in zip(times, truth, strict=True)]
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
            sizes = sync(fs.loop, listings)
        api_in_flight = standin.peak_in_flight("api")
        for n in range(ROUNDS):
            standin.clear_requests()  # the stand-in keeps every request it saw: not ours
            if n == 1:
                tracemalloc.start()
            assert sync(fs.loop, reads), f"round {n}: a read differs from the stand-in's file"
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
    assert peaks["total"] <= API_LIMIT + FILE_LIMIT
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
    urls = [e["data"]["properties"]["url"] for e in elements]
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


def test_a_days_files_read_at_once_list_the_day_once(standin, tmp_path):
    """``get`` of 60 files looks each one up at once; the day is listed once, not 60 times."""
    fs = WebcoosFileSystem(token=TOKEN, base_url=standin.api_url, skip_instance_cache=True,
                           retries=2, backoff=0.01, max_backoff=0.05)
    truth = standin.elements(CAMERA, STILLS, "2025-09-10T18:00", "2025-09-10T18:59:59")
    paths = [f"{CAMERA}/{STILLS}/2025/09/10/{e['data']['common']['label']}" for e in truth]
    # A failed shared listing fails every caller, and is not remembered.
    with standin.faults(api=Faults(error_rate=1.0)), pytest.raises(ServerError):
        fs.cat(paths)
    standin.clear_requests()
    fs.get(paths, str(tmp_path) + "/")
    listings = [r for r in standin.requests_to("api") if r.path.endswith("/elements/")]
    assert len(listings) == 1  # 720 elements: one page of 1000
    for element in truth:
        local = tmp_path / element["data"]["common"]["label"]
        assert local.read_bytes() == standin.file_bytes(element["data"]["properties"]["url"])
