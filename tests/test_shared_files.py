"""Files shared by the tasks of a process (fs/shared_files.py): a share task's result holds a
clip's bytes where it ran, pickles to its URL, and a process fetches a file once for all its
tasks, keeping it only while a task's result holds it.
"""

from __future__ import annotations

import gc
import pickle
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from intake_webcoos import Client
from intake_webcoos.fs.shared_files import SHARED, LocalFile, share

from .helpers import TOKEN, clear_file_requests

CAMERA, VIDEO = "waikiki_sheraton", "video-archive"


@pytest.fixture
def clip(standin) -> tuple[str, int]:
    """The URL and size of a clip no other test of this module reads."""
    first = Client(TOKEN, standin.api_url).elements(CAMERA, VIDEO, "2025-09-12T18:00Z",
                                                    "2025-09-12T18:09:59Z").iloc[0]
    return first["url"], int(first["size"])


def test_a_shared_file_holds_its_bytes_and_pickles_to_its_url(standin, clip):
    url, size = clip
    clear_file_requests(standin)
    local = share(url, size)
    assert isinstance(local.data(), bytes) and len(local.data()) == size
    assert sys.getsizeof(local) >= size  # what dask counts in memory, and weighs to move it
    assert len(pickle.dumps(local)) < 1000  # the bytes never travel
    assert share(url, size) is local  # alive: not fetched again
    assert len(standin.requests_to("files")) == 1


def test_copies_elsewhere_fetch_once_for_all_their_tasks_and_let_go_when_done(standin, clip):
    url, size = clip
    copies = [pickle.loads(pickle.dumps(LocalFile(url, size))) for _ in range(8)]
    gc.collect()
    standin.clear_requests()
    fetched = SHARED.fetches
    with ThreadPoolExecutor(8) as pool:  # eight tasks of a worker, at once
        results = list(pool.map(LocalFile.data, copies))
    assert len(set(results)) == 1 and len(results[0]) == size
    assert SHARED.fetches == fetched + 1 and len(standin.requests_to("files")) == 1
    del copies, results
    gc.collect()  # nothing holds the bytes any more: the next task fetches them again
    assert isinstance(share(url, size).data(), bytes)
    assert SHARED.fetches == fetched + 2


def test_a_missing_file_is_shared_as_its_typed_error(standin, clip):
    url, _ = clip
    missing = share(url.replace(".mp4", "-gone.mp4"), None)
    assert isinstance(missing.data(), FileNotFoundError)
    assert sys.getsizeof(missing) < 1000
