"""The webcoos:// filesystem (fs/filesystem.py) against the stand-in.

Listing every level (from inventories where it can), paths that do not exist and
why, find/walk/glob (and a differential test against fsspec's LocalFileSystem),
reading, atomic ``get``, listing caches, read-only refusals, pickles.  That the
token never reaches a file host is in ``test_token.py``.
"""

from __future__ import annotations

import fnmatch
import io
import os
import pickle
import time
from datetime import UTC, datetime, timedelta
from itertools import product as combinations
from pathlib import Path

import fsspec
import imageio.v3 as iio
import numpy as np
import pytest
from fsspec.callbacks import Callback
from fsspec.implementations.local import LocalFileSystem, make_path_posix
from PIL import Image

from intake_webcoos.errors import ReadOnlyError, ServerError
from intake_webcoos.fs.filesystem import WebcoosFileSystem
from intake_webcoos.server import Faults, StandIn, Variants

from .helpers import CAMERA, STILLS, TOKEN, elements_requests, fresh_python, label_of, url_of

PRODUCT = "waikiki_sheraton/one-minute-stills"
DAY = f"{PRODUCT}/2025/09/10"


def new_fs(standin, **options) -> WebcoosFileSystem:
    """A filesystem with empty caches (fsspec would otherwise reuse instances)."""
    return WebcoosFileSystem(token=TOKEN, base_url=standin.api_url, skip_instance_cache=True,
                             backoff=0.01, max_backoff=0.05, **options)


@pytest.fixture
def fs(standin):
    return new_fs(standin)


# -- listing ------------------------------------------------------------------
def test_ls_every_level(fs, standin):
    assets = fs.ls("")
    assert {"waikiki_sheraton", "stevens_hoboken"} <= {a["name"] for a in assets}
    assert all(a["type"] == "directory" for a in assets)
    assert fs.ls("waikiki_sheraton", detail=False) == [PRODUCT, "waikiki_sheraton/video-archive"]
    assert fs.ls(PRODUCT, detail=False) == [f"{PRODUCT}/2025"]
    assert fs.ls(f"{PRODUCT}/2025", detail=False) == [f"{PRODUCT}/2025/09"]
    days = fs.ls(f"{PRODUCT}/2025/09", detail=False)
    assert days == [f"{PRODUCT}/2025/09/{d:02d}" for d in range(3, 17)]
    files = fs.ls(DAY)
    truth = standin.elements("waikiki_sheraton", "one-minute-stills", "2025-09-10",
                             "2025-09-10T23:59:59")
    assert [f["name"].rsplit("/", 1)[1] for f in files] == [label_of(e) for e in truth]
    assert [f["size"] for f in files] == [e["data"]["properties"]["size"] for e in truth]
    assert all(f["type"] == "file" for f in files)
    assert fs.ls(f"webcoos://{DAY}/", detail=False) == [f["name"] for f in files]


def test_inventory_levels_need_no_file_listing(fs, standin):
    standin.clear_requests()
    fs.ls(f"{PRODUCT}/2025/09")
    info = fs.info(f"{PRODUCT}/2025/09/10")
    assert fs.du(PRODUCT) == standin.holdings("waikiki_sheraton", "one-minute-stills").sizes.sum()
    assert elements_requests(standin) == []
    holdings = standin.holdings("waikiki_sheraton", "one-minute-stills")
    day = (holdings.starts >= 1757462400) & (holdings.starts < 1757462400 + 86400)
    assert info == {"name": f"{PRODUCT}/2025/09/10", "type": "directory",
                    "size": int(holdings.sizes[day].sum()), "count": int(day.sum())}


def test_one_elements_query_per_day(fs, standin):
    standin.clear_requests()
    fs.ls(DAY)
    fs.ls(DAY)
    (request,) = elements_requests(standin)
    # Asked a second wider on each side (right under either reading of the bounds),
    # then filtered to the day.
    assert request.query["starting_after"] == "2025-09-09T23:59:59Z"
    assert request.query["starting_before"] == "2025-09-11T00:00:01Z"


def test_info_exists_and_kinds(fs):
    path = fs.ls(DAY, detail=False)[5]
    info = fs.info(path)
    assert info["type"] == "file" and info["url"].startswith("http://127.0.0.1")
    assert set(info) >= {"size", "type", "url", "time", "uuid"}
    assert fs.modified(path) == fs.created(path) == info["time"]
    assert fs.modified(path).tzinfo is not None
    assert fs.ukey(path) != fs.ukey(fs.ls(DAY, detail=False)[6])
    assert fs.isfile(path) and not fs.isdir(path)
    assert fs.isdir(DAY) and fs.isdir(PRODUCT) and fs.isdir("waikiki_sheraton")
    assert fs.exists(path) and fs.exists(DAY)
    assert fs.info("waikiki_sheraton")["count"] > 0
    assert fs.info(PRODUCT)["size"] == fs.du(PRODUCT)


@pytest.mark.parametrize("path", [
    "no_such_camera", "waikiki_sheraton/no-such-product", "waikiki_sheraton/video-streams",
    f"{PRODUCT}/2024", f"{PRODUCT}/2025/13", f"{PRODUCT}/2025/09/31", f"{PRODUCT}/20x5",
    f"{DAY}/no-such-file.jpg", f"{DAY}/a/b",
])
def test_missing_paths(fs, path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        fs.info(path)
    with pytest.raises(FileNotFoundError):
        fs.ls(path)
    assert not fs.exists(path)


def test_empty_day_is_not_found(fs, standin):
    # westerly was down on 2025-09-13: the month lists no such day, and the day is empty.
    assert "westerly/one-minute-stills/2025/09/13" not in fs.ls(
        "westerly/one-minute-stills/2025/09", detail=False)
    with pytest.raises(FileNotFoundError, match="no files on that UTC day"):
        fs.ls("westerly/one-minute-stills/2025/09/13")


def test_close_matches_in_the_message(fs):
    with pytest.raises(FileNotFoundError, match="waikiki_sheraton"):
        fs.ls("waikiki_sheratn")


@pytest.mark.parametrize("path,why", [
    ("waikiki_sheraten", "Did you mean"),
    ("waikiki_sheraton/video-streams", "stream"),
    ("waikiki_sheraton/one-minute-stills/2025/02/30", "not a date"),
    ("waikiki_sheraton/one-minute-stills/2030", "no data"),
])
def test_paths_that_do_not_exist_say_why(api_env, path, why):
    with pytest.raises(FileNotFoundError, match=why):
        WebcoosFileSystem(skip_instance_cache=True).ls(path)


# -- find, walk, glob ------------------------------------------------------------
def test_glob_over_a_month_lists_days_concurrently(standin):
    fs = new_fs(standin, api_concurrency=4)
    with standin.faults(api=Faults(latency=0.05)):
        fs.info(PRODUCT)  # warm the camera list and inventory
        standin.clear_requests()
        found = fs.glob(f"{PRODUCT}/2025/09/*/*.jpg")
        peak = standin.peak_in_flight("api")
    listed = elements_requests(standin)
    assert len(listed) == 14  # one query per day with data
    assert 1 < peak <= 4
    assert len(found) == standin.holdings("waikiki_sheraton", "one-minute-stills").starts.size


def test_find_walk_and_maxdepth(fs):
    files = fs.find(f"{PRODUCT}/2025/09")
    assert len(files) == fs.info(f"{PRODUCT}/2025/09")["count"]
    with_dirs = fs.find(f"{PRODUCT}/2025", withdirs=True, maxdepth=2)
    assert with_dirs[0] == f"{PRODUCT}/2025" and f"{PRODUCT}/2025/09/10" in with_dirs
    assert all(p.count("/") <= 5 for p in with_dirs)
    walked = list(fs.walk(f"{PRODUCT}/2025/09"))
    assert walked[0][0] == f"{PRODUCT}/2025/09" and len(walked) == 15
    assert sum(len(files) for _, _, files in walked) == len(files)
    detailed = fs.find(DAY, detail=True)
    assert all(v["type"] == "file" for v in detailed.values())


# -- a differential test against fsspec's LocalFileSystem ----------------------------
# Patterns after fsspec.tests.abstract.common.GLOB_EDGE_CASES_TESTS, at our depth:
# below a month come day folders, then files (as "subdir*/subfile*" there).
PATTERNS = [
    ("*", False, None), ("*", True, None), ("*", True, 1), ("*", True, 2),
    ("1?", False, None), ("1?", True, None), ("1[5-6]", True, 1), ("*5", True, None),
    ("1?/*0?Z.jpg", False, None), ("1?/*0?Z.jpg", True, 1), ("**", False, None),
    ("**", True, None), ("**", True, 1), ("**", True, 2), ("**/*Z.jpg", False, None),
    ("1[5]/waikiki_sheraton-2025-09-1?-18*", False, None), ("**/*-18[0-1]???Z.jpg", True, 2),
    ("*/*-17[0-2]*", False, None),
]


@pytest.fixture(scope="module")
def two_days(tmp_path_factory):
    """A stand-in holding two UTC days, and a local copy made with get(recursive=True)."""
    # Two hours a day (17:00-19:00 UTC in Hawaii) keep the copies small.
    with StandIn(token=TOKEN, frame_size=(32, 24), span_days=2, daylight=(7, 9)) as s:
        fs = new_fs(s)
        root = tmp_path_factory.mktemp("local") / "2025" / "09"
        fs.get(f"{PRODUCT}/2025/09", str(root), recursive=True)
        yield s, fs, root


def test_get_recursive_copies_bytes(two_days):
    standin, fs, root = two_days
    local = LocalFileSystem()
    names = sorted(local.find(str(root)))
    assert [n.split("/2025/09/")[1][:2] for n in names[:: len(names) - 1]] == ["15", "16"]
    assert len(names) == fs.info(f"{PRODUCT}/2025/09")["count"] > 200
    for path in names[::97]:
        remote = f"{PRODUCT}/2025/09/" + path.split("/2025/09/")[1]
        assert Path(path).read_bytes() == standin.file_bytes(fs.info(remote)["url"])
    assert not [n for n in names if n.endswith(".part")]


@pytest.mark.parametrize("pattern,recursive,maxdepth", PATTERNS)
def test_glob_and_get_agree_with_local(two_days, tmp_path, pattern, recursive, maxdepth):
    _, fs, root = two_days
    local = LocalFileSystem(auto_mkdir=True)
    sources = {fs: f"{PRODUCT}/2025/09", local: make_path_posix(str(root))}
    globbed = {
        which: sorted(p[len(source) + 1:] for p in which.glob(f"{source}/{pattern}",
                                                              maxdepth=maxdepth))
        for which, source in sources.items()
    }
    assert globbed[fs] == globbed[local] and globbed[fs]

    for new_dir, slash in combinations([True, False], [True, False]):
        copied = []
        for which, source in sources.items():
            target = tmp_path / f"{type(which).__name__}-{new_dir}-{slash}"
            target.mkdir()
            t = str(target / "newdir") if new_dir else str(target)
            which.get(f"{source}/{pattern}", t + ("/" if slash else ""), recursive=recursive,
                      maxdepth=maxdepth)
            copied.append(sorted(os.path.relpath(p, target) for p in local.find(str(target))))
        assert copied[0] == copied[1], (new_dir, slash)


# -- reading ---------------------------------------------------------------------
@pytest.fixture
def a_file(fs, standin):
    path = fs.ls(DAY, detail=False)[42]
    return path, standin.file_bytes(fs.info(path)["url"])


def test_cat_file_ranges(fs, a_file):
    path, data = a_file
    size = len(data)
    assert fs.cat_file(path) == data
    assert fs.cat_file(path, 0, 0) == b""
    assert fs.cat_file(path, 0, 1) == data[:1]
    assert fs.cat_file(path, size - 1) == data[-1:]
    assert fs.cat_file(path, size - 10, size + 100) == data[-10:]
    assert fs.cat_file(path, size, size + 5) == b""
    assert fs.cat_file(path, -5) == data[-5:]
    assert fs.cat_file(path, 10, -10) == data[10:-10]
    assert fs.cat_file(path, 100, 200) == data[100:200]


def test_open_read_seek(fs, a_file):
    path, data = a_file
    with fs.open(f"webcoos://{path}", "rb", block_size=1000) as f:
        assert f.size == len(data)
        assert f.read(0) == b"" and f.read(1) == data[:1]
        f.seek(len(data) - 3)
        assert f.read(100) == data[-3:]
        assert f.read(1) == b""  # past EOF
        f.seek(500)
        assert f.read(1500) == data[500:2000]


@pytest.mark.parametrize("chain", ["blockcache", "simplecache", "filecache"])
def test_cache_chains(api_env, a_file, tmp_path, chain):
    standin = api_env
    path, data = a_file
    options = {} if chain == "blockcache" else {chain: {"cache_storage": str(tmp_path)}}
    with fsspec.open(f"{chain}::webcoos://{path}", "rb", **options) as f:
        assert f.read() == data
    if chain != "blockcache":
        standin.clear_requests()
        with fsspec.open(f"{chain}::webcoos://{path}", "rb", **options) as f:
            assert f.read() == data
        assert standin.requests_to("files") == []  # served from the local cache


def test_real_consumers(fs, a_file, api_env):
    path, data = a_file
    with fs.open(path) as f:
        image = Image.open(f)
        image.load()
    assert image.size == (320, 180)
    with fs.open(path) as f:
        array = iio.imread(f, extension=".jpg")
    assert array.shape == (180, 320, 3)
    np.testing.assert_array_equal(array, np.asarray(Image.open(io.BytesIO(data))))
    files = fsspec.open_files(f"webcoos://{DAY}/*-18[0-4]???Z.jpg")
    assert len(files) >= 4
    with files[0] as f:
        assert f.read(2) == b"\xff\xd8"


# -- get ---------------------------------------------------------------------------
class Progress(Callback):
    def __init__(self):
        super().__init__()
        self.updates: list[tuple[int, int]] = []

    def call(self, *args, **kwargs):
        self.updates.append((self.value, self.size))


def test_get_file_reports_progress(fs, a_file, tmp_path):
    path, data = a_file
    progress = Progress()
    fs.get_file(path, str(tmp_path / "one.jpg"), callback=progress)
    assert (tmp_path / "one.jpg").read_bytes() == data
    assert progress.size == len(data) and progress.value == len(data)


def test_get_is_atomic_when_bodies_break(standin, a_file, tmp_path):
    path, data = a_file
    fs = new_fs(standin, retries=2)
    with standin.faults(files=Faults(truncate_rate=1.0)), pytest.raises(ServerError):
        fs.get(path, str(tmp_path / "broken.jpg"))
    assert os.listdir(tmp_path) == []  # no partial file, no temporary file
    with standin.faults(files=Faults(truncate_rate=0.5, seed=3)):
        fs = new_fs(standin, retries=6)
        fs.get(path, str(tmp_path / "ok.jpg"))
    assert (tmp_path / "ok.jpg").read_bytes() == data
    assert os.listdir(tmp_path) == ["ok.jpg"]


def test_bulk_get_is_concurrent(standin, tmp_path):
    fs = new_fs(standin)
    paths = fs.ls(DAY, detail=False)[:60]
    with standin.faults(files=Faults(latency=0.05)):
        standin.clear_requests()
        fs.get(paths, str(tmp_path) + "/")
        peak = standin.peak_in_flight("files")
    assert sorted(os.listdir(tmp_path)) == sorted(p.rsplit("/", 1)[1] for p in paths)
    assert peak > 4


def test_a_days_files_read_at_once_list_the_day_once(standin, tmp_path):
    """``get`` of 60 files looks each one up at once; the day is listed once, not 60 times."""
    fs = new_fs(standin, retries=2)
    truth = standin.elements(CAMERA, STILLS, "2025-09-10T18:00", "2025-09-10T18:59:59")
    paths = [f"{DAY}/{label_of(e)}" for e in truth]
    # A failed shared listing fails every caller, and is not remembered.
    with standin.faults(api=Faults(error_rate=1.0)), pytest.raises(ServerError):
        fs.cat(paths)
    standin.clear_requests()
    fs.get(paths, str(tmp_path) + "/")
    assert len(elements_requests(standin)) == 1  # 720 elements: one page of 1000
    for element in truth:
        local = tmp_path / label_of(element)
        assert local.read_bytes() == standin.file_bytes(url_of(element))


def test_colon_file_names(fs, standin, tmp_path):
    (path, *_) = fs.ls("stevens_hoboken/10-minute-stills/2025/09/10", detail=False)
    assert path.count(":") == 2
    data = fs.cat(path)
    assert data == standin.file_bytes(fs.info(path)["url"])
    fs.get(path, str(tmp_path) + "/")
    assert (tmp_path / path.rsplit("/", 1)[1]).read_bytes() == data


# -- caching -----------------------------------------------------------------------
def test_past_days_never_expire(standin):
    fs = new_fs(standin, listings_expiry_time=0)
    standin.clear_requests()
    fs.ls(DAY)
    fs.ls(DAY)
    assert len(elements_requests(standin)) == 1


def test_today_expires():
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).replace(hour=0, minute=0, second=0,
                                                                microsecond=0)
    with StandIn(token=TOKEN, frame_size=(32, 24), span_end=tomorrow, span_days=2,
                 daylight=(0, 24)) as s:
        today = datetime.now(UTC)
        day = f"{PRODUCT}/{today:%Y/%m/%d}"
        expiring = new_fs(s, listings_expiry_time=0)
        expiring.ls(day)
        expiring.ls(day)
        assert len(first_pages(s)) == 2
        s.clear_requests()
        lasting = new_fs(s, listings_expiry_time=3600)
        lasting.ls(day)
        lasting.ls(day)
        assert len(first_pages(s)) == 1


def first_pages(standin) -> list:
    return [r for r in elements_requests(standin) if r.query.get("page", "1") == "1"]


# -- read-only ---------------------------------------------------------------------
@pytest.mark.parametrize("call", [
    lambda fs, p: fs.rm(p), lambda fs, p: fs.rm_file(p), lambda fs, p: fs.pipe(p, b"x"),
    lambda fs, p: fs.pipe_file(p, b"x"), lambda fs, p: fs.mkdir(p + "x"),
    lambda fs, p: fs.makedirs(p + "x"), lambda fs, p: fs.touch(p), lambda fs, p: fs.mv(p, p + "x"),
    lambda fs, p: fs.copy(p, p + "x"), lambda fs, p: fs.put(__file__, p),
    lambda fs, p: fs.open(p, "wb"), lambda fs, p: fs.rmdir(DAY),
], ids=["rm", "rm_file", "pipe", "pipe_file", "mkdir", "makedirs", "touch", "mv", "copy",
        "put", "open-wb", "rmdir"])
def test_writes_are_refused(fs, a_file, call):
    path, _ = a_file
    with pytest.raises(ReadOnlyError, match="read-only"):
        call(fs, path)
    assert fs.exists(path)


# -- fsspec's registry and pickles -----------------------------------------------------------
def test_fsspec_builds_the_filesystem_by_its_protocol(standin):
    fs = fsspec.filesystem("webcoos", token=TOKEN, base_url=standin.api_url)
    assert isinstance(fs, WebcoosFileSystem) and fs.ls(DAY)


def test_pickled_fs_works_in_another_process(standin):
    fs = WebcoosFileSystem(token=TOKEN, base_url=standin.api_url)
    path = fs.ls(DAY, detail=False)[0]
    code = ("import pickle, sys; fs = pickle.loads(sys.stdin.buffer.read()); "
            f"print(len(fs.cat_file({path!r})), fs.info({path!r})['size'])")
    got, declared = fresh_python(code, stdin=pickle.dumps(fs), WEBCOOS_API_TOKEN=TOKEN).split()
    assert got == declared == str(fs.info(path)["size"])


def test_a_pickled_fs_reads_the_files_it_listed_without_a_token(standin):
    """What a dask worker does with ``client.submit(lambda fs, p: fs.cat_file(p), fs, p)``."""
    fs = new_fs(standin)
    path = fs.ls(DAY, detail=False)[3]
    code = ("import pickle, sys\nfs = pickle.loads(sys.stdin.buffer.read())\n"
            f"print(len(fs.cat_file({path!r})))\n"
            "try:\n    fs.ls('waikiki_sheraton/one-minute-stills/2025/09/11')\n"
            "except Exception as exc:\n    print(type(exc).__name__, '|', exc)")
    read, failure = fresh_python(code, stdin=pickle.dumps(fs)).strip().split("\n")
    assert int(read) == fs.info(path)["size"]
    assert failure.startswith("MissingTokenError |")
    assert "WEBCOOS_API_TOKEN in the workers' environment" in failure
    assert TOKEN.encode() not in pickle.dumps(fs)


def test_from_json_round_trip(api_env):
    fs = WebcoosFileSystem(token=TOKEN, base_url=api_env.api_url)
    again = fsspec.AbstractFileSystem.from_json(fs.to_json())
    assert again.ls(PRODUCT, detail=False) == [f"{PRODUCT}/2025"]


@pytest.mark.parametrize("variants", [Variants(inventory_delay=6), Variants(inventory_status=504)],
                         ids=["slow inventory", "failing inventory"])
def test_folders_without_the_inventory(standin, variants):
    """Years, months and days come from the extent and the day listings instead."""
    fs = new_fs(standin, inventory_wait=0.3)
    with standin.variants(variants):
        started = time.monotonic()
        assert fs.ls(PRODUCT, detail=False) == [f"{PRODUCT}/2025"]
        assert fs.ls(f"{PRODUCT}/2025", detail=False) == [f"{PRODUCT}/2025/09"]
        days = fs.ls(f"{PRODUCT}/2025/09")
        assert time.monotonic() - started < 3  # waits 0.3 s once, never for the 6 s inventory
        assert fs.info(f"{PRODUCT}/2025")["size"] is None  # unknown without the inventory
        assert fs.isdir(DAY) and fs.exists(DAY) and not fs.exists(f"{PRODUCT}/2025/08/30")
        assert fs.glob(f"{PRODUCT}/2025/09/1?/*-18000*Z.jpg")
    truth = standin.element_times(CAMERA, STILLS).astype("datetime64[D]")
    expected = sorted({str(d).replace("-", "/") for d in truth})
    assert [d["name"][-10:] for d in days] == expected
    assert [d["count"] for d in days] == [int((truth == np.datetime64(d.replace("/", "-")))
                                              .sum()) for d in expected]


def test_glob_lists_only_the_days_its_date_parts_match(standin):
    fs = new_fs(standin)
    fs.info(PRODUCT)  # warm the camera list
    standin.clear_requests()
    pattern = f"{PRODUCT}/2025/09/1[01]/*-18????Z.jpg"
    found = fs.glob(pattern)
    listed = {r.query.get("starting_after", "")[:10] for r in elements_requests(standin)}
    # Two days listed, not the month (windows are asked a second wider: the day before).
    assert listed and listed <= {"2025-09-09", "2025-09-10", "2025-09-11"}
    assert len(found) == 120 and all("-18" in p for p in found)
    assert found == sorted(found)
    every = new_fs(standin).glob(f"{PRODUCT}/2025/09/*/*.jpg")
    assert found == [p for p in every if fnmatch.fnmatchcase(p, pattern)]
    detail = fs.glob(pattern, detail=True)
    assert list(detail) == found and detail[found[0]]["type"] == "file"
