"""Bounded load on loopback: many listings and frame reads through one client."""

from __future__ import annotations

import asyncio
import hashlib
import random

from intake_webcoos import AsyncClient
from intake_webcoos.server import Faults

from .conftest import TOKEN

CAMERA, STILLS = "waikiki_sheraton", "one-minute-stills"


def rss_mib() -> float:
    with open("/proc/self/status") as f:
        return int(next(line for line in f if line.startswith("VmRSS:")).split()[1]) / 1024


def test_50_listings_and_500_frame_reads(standin):
    days = [f"2025-09-{d:02d}" for d in range(3, 17)]
    rng = random.Random(0)
    windows = [(day + "T18:00Z", day + f"T{rng.randint(18, 23)}:59:59Z")
               for day in rng.choices(days, k=50)]
    urls = [e["data"]["properties"]["url"]
            for e in standin.elements(CAMERA, STILLS, "2025-09-09", "2025-09-10T23:59:59")][:500]
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
    assert len(standin.requests_to("files")) == 3 * 500
