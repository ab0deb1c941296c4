"""Files fetched in chunk tasks (fs/prefetch.py): each once, the next chunk's ahead within a
bound in bytes, a lone chunk alone, nothing held after, and a pickled prefetcher empty."""

from __future__ import annotations

import gc
import pickle
import time
import tracemalloc
from collections import Counter

import pytest
from dask.base import tokenize

from intake_webcoos import open_images
from intake_webcoos.api.sync import Client
from intake_webcoos.cube.contract import CubeOptions
from intake_webcoos.cube.stills import load_chunk
from intake_webcoos.errors import FrameShapeError
from intake_webcoos.fs.element_files import listed_sizes
from intake_webcoos.fs.prefetch import UNKNOWN_SIZE, Prefetcher

from .helpers import CAMERA, DAY, STILLS, TOKEN, size_of


def _fetched(standin) -> Counter:
    return Counter(r.path.rsplit("/", 1)[-1] for r in standin.requests_to("files"))


def _wait_for(standin, count: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while len(standin.requests_to("files")) < count and time.monotonic() < deadline:
        time.sleep(0.01)


def _chunks(standin, first: int, count: int = 3, per_chunk: int = 4):
    """``count`` chunks of files from the ``first``-th still of DAY, with their listed sizes."""
    frame = Client(TOKEN, standin.api_url).elements(CAMERA, STILLS, *DAY)
    frame = frame.iloc[first:first + count * per_chunk]
    urls, sizes = tuple(frame["url"]), listed_sizes(frame)
    parts = [(urls[i:i + per_chunk], sizes[i:i + per_chunk])
             for i in range(0, len(urls), per_chunk)]
    return parts, list(frame["filename"])


def _claim(prefetcher: Prefetcher, parts, index: int) -> list:
    return list(prefetcher.files(index, *parts[index]))


def test_a_computation_fetches_each_file_once_also_when_repeated(standin):
    cube = open_images(CAMERA, STILLS, "2025-09-10T19:00Z", "2025-09-10T19:39:59Z",
                       token=TOKEN, base_url=standin.api_url, chunks=4)
    for scheduler in ("threads", "sync"):
        standin.clear_requests()
        cube["image"].compute(scheduler=scheduler)
        fetched = _fetched(standin)
        assert len(fetched) == cube.sizes["time"] and set(fetched.values()) == {1}


def test_the_next_chunk_is_fetched_ahead_once_the_direction_is_known(standin):
    parts, names = _chunks(standin, 100)
    prefetcher = Prefetcher(parts)
    standin.clear_requests()
    _claim(prefetcher, parts, 0)  # alone: nothing ahead yet
    _claim(prefetcher, parts, 1)  # after chunk 0: the computation moves forward
    _wait_for(standin, 12)
    assert sorted(_fetched(standin)) == sorted(names)  # chunk 2 was started by chunk 1
    standin.clear_requests()
    assert all(isinstance(d, bytes) for d in _claim(prefetcher, parts, 2))
    assert _fetched(standin) == Counter()  # and chunk 2 found its files there


def test_backwards_the_chunks_before_are_fetched_ahead(standin):
    parts, names = _chunks(standin, 150)
    prefetcher = Prefetcher(parts)
    standin.clear_requests()
    _claim(prefetcher, parts, 2)
    _claim(prefetcher, parts, 1)
    _wait_for(standin, 12)
    assert sorted(_fetched(standin)) == sorted(names)
    assert prefetcher.waiting == list(parts[0][0])


def test_a_lone_chunk_fetches_only_its_own_files(standin):
    parts, names = _chunks(standin, 200)
    standin.clear_requests()
    _claim(Prefetcher(parts), parts, 1)
    time.sleep(0.2)
    assert sorted(_fetched(standin)) == sorted(names[4:8])


def test_a_failing_chunk_releases_its_files_at_once(standin):
    """The chunk closes its fetches when a frame fails, not the garbage collector later."""
    parts, _ = _chunks(standin, 300, count=1)
    prefetcher = Prefetcher(parts)
    wrong = CubeOptions(shape=(7, 7))  # every frame is of another size: the first one fails
    with pytest.raises(FrameShapeError):
        load_chunk(*parts[0], wrong, prefetcher, 0)
    assert not prefetcher._running and prefetcher._done == {0}


def test_files_fetched_ahead_and_never_claimed_are_dropped(standin):
    parts, _ = _chunks(standin, 400, count=4)
    prefetcher = Prefetcher(parts, seconds=0.2)
    _claim(prefetcher, parts, 0)
    _claim(prefetcher, parts, 1)
    assert set(prefetcher.waiting) >= set(parts[2][0])  # fetched ahead
    time.sleep(0.4)
    _claim(prefetcher, parts, 3)  # a claim looks at their age: too old, let go
    assert not set(prefetcher.waiting) & set(parts[2][0])


def test_at_most_limit_bytes_wait_the_oldest_let_go(standin):
    parts, _ = _chunks(standin, 450, count=4)
    prefetcher = Prefetcher(parts, limit=sum(parts[3][1][1:]))
    _claim(prefetcher, parts, 0)
    _claim(prefetcher, parts, 1)  # starts chunks 2 and 3 (8 files): the newest 3 fit
    assert prefetcher.waiting == list(parts[3][0][1:])


def test_the_look_ahead_is_bounded_in_bytes_as_the_standin_serves_them(standin):
    """Through a computation in order, the files the stand-in was asked for beyond the
    chunks claimed so far never pass ``ahead`` bytes, and reach it where files remain."""
    parts, _ = _chunks(standin, 520, count=6)
    sizes = {url: size for urls, listed in parts for url, size in zip(urls, listed, strict=True)}
    ahead = sum(parts[1][1]) + parts[2][1][0]  # a chunk and one file of the next
    prefetcher = Prefetcher(parts, ahead=ahead)
    standin.clear_requests()
    claimed: set[str] = set()
    for index, (urls, _) in enumerate(parts):
        assert all(isinstance(d, bytes) for d in _claim(prefetcher, parts, index))
        claimed.update(urls)
        started = set(prefetcher.waiting)
        _wait_for(standin, len(claimed | started))
        asked = {r.path.rsplit("/", 1)[-1] for r in standin.requests_to("files")}
        beyond = [url for url in sizes if url not in claimed and url.rsplit("/", 1)[-1] in asked]
        in_flight = sum(sizes[url] for url in beyond)
        assert set(beyond) == started and in_flight <= ahead
        if index >= 1 and index + 2 < len(parts):  # the direction is known, files remain
            assert in_flight > ahead - max(sizes.values())
    assert sum(_fetched(standin).values()) == len(sizes)  # and each file was fetched once


def test_files_of_unknown_size_count_as_unknown_size_in_the_bounds(standin):
    parts, _ = _chunks(standin, 580, count=4)
    unsized = [(urls, (None,) * len(urls)) for urls, _ in parts]
    prefetcher = Prefetcher(unsized, ahead=5 * UNKNOWN_SIZE)
    _claim(prefetcher, unsized, 0)
    _claim(prefetcher, unsized, 1)
    assert prefetcher.waiting == [*unsized[2][0], unsized[3][0][0]]


def test_a_pickled_prefetcher_arrives_empty_and_fetches_only_its_chunk(standin):
    parts, names = _chunks(standin, 500)
    prefetcher = Prefetcher(parts)
    _claim(prefetcher, parts, 0)
    copy = pickle.loads(pickle.dumps(prefetcher))
    assert copy.chunks == () and copy.waiting == []
    assert tokenize(prefetcher) == tokenize(Prefetcher(parts)) != tokenize(Prefetcher(parts[1:]))
    standin.clear_requests()
    fetched = _claim(copy, parts, 1)
    time.sleep(0.2)
    assert sorted(_fetched(standin)) == sorted(names[4:8])
    assert [len(d) for d in fetched] == [size_of(e) for e in standin.elements(
        CAMERA, STILLS, *DAY)[504:508]]


def test_a_computation_keeps_no_file_bytes_after_it(standin):
    """Nothing (a fetch ahead, say) holds the bytes of files once decoded."""
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
