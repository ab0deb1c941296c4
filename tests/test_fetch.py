"""Files fetched in chunk tasks: each once, the next chunk's ahead, a lone chunk alone."""

from __future__ import annotations

import gc
import time
import tracemalloc
from collections import Counter

import pytest

from intake_webcoos import open_images
from intake_webcoos.api.sync import Client
from intake_webcoos.cube import fetch
from intake_webcoos.cube.contract import CubeOptions
from intake_webcoos.cube.fetch import _ahead, fetch_each
from intake_webcoos.cube.stills import load_chunk
from intake_webcoos.errors import FrameShapeError

from .helpers import CAMERA, DAY, STILLS, TOKEN, size_of


def _fetched(standin) -> Counter:
    return Counter(r.path.rsplit("/", 1)[-1] for r in standin.requests_to("files"))


def _wait_for(standin, count: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while len(standin.requests_to("files")) < count and time.monotonic() < deadline:
        time.sleep(0.01)


def test_a_computation_fetches_each_file_once_also_when_repeated(standin):
    cube = open_images(CAMERA, STILLS, "2025-09-10T19:00Z", "2025-09-10T19:39:59Z",
                       token=TOKEN, base_url=standin.api_url, chunks=4)
    for scheduler in ("threads", "sync"):
        standin.clear_requests()
        cube["image"].compute(scheduler=scheduler)
        fetched = _fetched(standin)
        assert len(fetched) == cube.sizes["time"] and set(fetched.values()) == {1}


def test_the_next_chunk_is_fetched_ahead_once_the_direction_is_known(standin):
    frame = Client(TOKEN, standin.api_url).elements(CAMERA, STILLS, *DAY).iloc[100:112]
    urls, names = tuple(frame["url"]), list(frame["filename"])
    nothing = (None,) * 4
    standin.clear_requests()
    list(fetch_each(urls[0:4]))  # chunk 0 done
    list(fetch_each(urls[4:8], (), nothing, (urls[0:4], nothing), (urls[8:12], nothing)))
    _wait_for(standin, 12)
    assert sorted(_fetched(standin)) == sorted(names)  # chunk 2 was started by chunk 1
    standin.clear_requests()
    list(fetch_each(urls[8:12]))
    assert _fetched(standin) == Counter()  # and chunk 2 found its files there


def test_a_lone_chunk_fetches_only_its_own_files(standin):
    frame = Client(TOKEN, standin.api_url).elements(CAMERA, STILLS, *DAY).iloc[200:212]
    urls = tuple(frame["url"])
    nothing = (None,) * 4
    standin.clear_requests()
    list(fetch_each(urls[4:8], (), nothing, (urls[0:4], nothing), (urls[8:12], nothing)))
    time.sleep(0.2)
    assert sorted(_fetched(standin)) == sorted(frame["filename"].iloc[4:8])


def test_a_failing_chunk_releases_its_files_at_once(standin):
    """The chunk closes its fetches when a frame fails, not the garbage collector later."""
    frame = Client(TOKEN, standin.api_url).elements(CAMERA, STILLS, *DAY).iloc[300:306]
    urls = tuple(frame["url"])
    wrong = CubeOptions(shape=(7, 7))  # every frame is of another size: the first one fails
    with pytest.raises(FrameShapeError):
        load_chunk(urls, (None,) * len(urls), wrong)
    assert not {key for key in _ahead.claimed if key[1] in urls}


def test_files_fetched_ahead_and_never_claimed_are_dropped(standin, monkeypatch):
    monkeypatch.setattr(fetch, "AHEAD_SECONDS", 0.2)
    frame = Client(TOKEN, standin.api_url).elements(CAMERA, STILLS, *DAY).iloc[400:412]
    urls = tuple(frame["url"])
    nothing = (None,) * 4
    list(fetch_each(urls[0:4]))
    list(fetch_each(urls[4:8], (), nothing, (urls[0:4], nothing), (urls[8:12], nothing)))
    assert {key[1] for key in _ahead.waiting} >= set(urls[8:12])  # fetched ahead
    time.sleep(0.6)
    assert not {key[1] for key in _ahead.waiting} & set(urls[8:12])  # and let go


def test_a_computation_keeps_no_file_bytes_after_it(standin):
    """Nothing (a timer of a fetch ahead, say) holds the bytes of files once decoded."""
    cube = open_images(CAMERA, STILLS, "2025-09-11T19:00Z", "2025-09-11T19:59:59Z",
                       token=TOKEN, base_url=standin.api_url, chunks=4)
    cube.webcoos.timex().compute(scheduler="sync")  # warm: sessions, the stand-in's frames
    files = sum(size_of(e) for e in standin.elements(CAMERA, STILLS, "2025-09-11T19:00Z",
                                                     "2025-09-11T19:59:59Z"))
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        cube.webcoos.timex().compute(scheduler="sync")
        gc.collect()
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    # What our code allocated and still holds (the stand-in in this process is left out).
    ours = [tracemalloc.Filter(True, "*intake_webcoos*"),
            tracemalloc.Filter(False, "*intake_webcoos*server*")]
    kept = sum(d.size_diff for d in after.filter_traces(ours).compare_to(
        before.filter_traces(ours), "filename"))
    assert kept < files / 10, (kept, files)


def test_a_claimed_fetch_that_was_let_go_is_fetched_again(standin, monkeypatch):
    frame = Client(TOKEN, standin.api_url).elements(CAMERA, STILLS, *DAY).iloc[500:504]
    urls = tuple(frame["url"])
    claim = _ahead.claim

    def cancelled_first(*args):  # as if the limit had dropped it just as it was claimed
        futures = claim(*args)
        assert futures[0].cancel()
        return futures

    monkeypatch.setattr(_ahead, "claim", cancelled_first)
    fetched = list(fetch_each(urls))
    assert all(isinstance(data, bytes) and data[:2] == b"\xff\xd8" for data in fetched)
    assert [len(d) for d in fetched] == [size_of(e) for e in standin.elements(
        CAMERA, STILLS, *DAY)[500:504]]


def test_forgetting_drops_the_files_fetched_ahead(standin):
    frame = Client(TOKEN, standin.api_url).elements(CAMERA, STILLS, *DAY).iloc[600:612]
    urls, nothing = tuple(frame["url"]), (None,) * 4
    list(fetch_each(urls[0:4]))
    list(fetch_each(urls[4:8], (), nothing, (urls[0:4], nothing), (urls[8:12], nothing)))
    assert {key[1] for key in _ahead.waiting} >= set(urls[8:12])
    fetch.forget_fetched_ahead()
    assert not _ahead.waiting and not _ahead.done
