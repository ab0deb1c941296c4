"""Bulk downloads (download.py): safe, distinct names inside the destination; nothing short.

Labels from the user's frame or from a hostile API never leave the destination
and never merge two files; truncated bodies leave no file at all.  Resuming
after SIGKILL is in ``test_cli.py`` and ``test_faults.py``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from aiohttp import web

from intake_webcoos import Client
from intake_webcoos.download import download
from intake_webcoos.fs import WebcoosFileSystem
from intake_webcoos.server import Faults

from .helpers import API_PREFIX, CAMERA, DAY, MINUTES, QUICK, STILLS, TOKEN, fronted, upstream

TEN_MINUTES = ("2025-09-10T18:00Z", "2025-09-10T18:09:59Z")
HOSTILE_LABELS = ["../../../escaped.jpg", "/tmp/absolute.jpg", "..", ".", "",
                  "a/b/c.jpg", "back\\slash.jpg", "C:drive.jpg", "nul\x00byte.jpg"]


def files_under(folder: Path) -> list[Path]:
    """Every file below ``folder``, hidden temporary files included."""
    return sorted(p for p in folder.rglob("*") if not p.is_dir())


def test_escaping_labels_stay_inside_the_destination(standin, tmp_path):
    frame = Client(TOKEN, standin.api_url).elements(CAMERA, STILLS, *TEN_MINUTES).iloc[:5].copy()
    frame["filename"] = ["../../escaped.jpg", "/etc/absolute.jpg", "a:b:c.jpg", "", ".."]
    report = download(frame, tmp_path / "dest", progress=False)
    assert report.failed == [] and report.downloaded == 5
    written = [p.relative_to(tmp_path) for p in files_under(tmp_path)]
    assert all(str(p).startswith("dest/waikiki_sheraton/one-minute-stills/2025/09/10/")
               for p in written)
    names = {p.name for p in written}
    assert {"escaped.jpg", "absolute.jpg", "a-b-c.jpg"} <= names and len(names) == 5
    assert not (tmp_path / "escaped.jpg").exists()


def test_labels_that_collide_once_made_safe_keep_every_file(standin, tmp_path):
    frame = Client(TOKEN, standin.api_url).elements(CAMERA, STILLS, *MINUTES).copy()
    frame["filename"] = ["x.jpg", "../x.jpg", "a:b.jpg", "a-b.jpg", "/abs/x.jpg"]
    first = download(frame, tmp_path, token=TOKEN, base_url=standin.api_url, progress=False)
    assert first.failed == [] and first.downloaded == 5
    files = files_under(tmp_path)
    assert len(files) == 5  # nothing overwritten
    assert sorted(standin.file_bytes(u) for u in frame["url"]) == \
        sorted(p.read_bytes() for p in files)
    again = download(frame, tmp_path, token=TOKEN, base_url=standin.api_url, progress=False)
    assert again.skipped == 5 and again.downloaded == 0  # the same names on a rerun
    assert pd.Series([p.parent for p in files]).nunique() == 1


def test_hostile_labels_from_the_api_stay_inside_every_destination(standin, tmp_path):
    """Labels from the API name files: they are flattened to one name at parse time."""
    existed_before = Path("/tmp/absolute.jpg").exists()

    async def elements(request: web.Request) -> web.Response:
        payload = upstream(standin, request)
        for row, label in zip(payload["results"], HOSTILE_LABELS, strict=False):
            row["data"]["common"]["label"] = label
        return web.json_response(payload)

    with fronted(standin, elements) as other:
        base_url = f"{other.url}{API_PREFIX}"
        frame = Client(TOKEN, base_url).elements(CAMERA, STILLS, *DAY)
        names = frame["filename"].iloc[:len(HOSTILE_LABELS)].tolist()
        assert all("/" not in n and "\\" not in n and "\x00" not in n and n not in (".", "..")
                   and n for n in names), names
        assert frame["path"].str.count("/").eq(7).all()  # webcoos:// + 6 components
        fs = WebcoosFileSystem(token=TOKEN, base_url=base_url, skip_instance_cache=True)
        listed = fs.ls(f"{CAMERA}/{STILLS}/2025/09/10", detail=False)
        assert len(listed) == len(frame) and all(p.count("/") == 5 for p in listed)
        inner = tmp_path / "a" / "b"
        fs.get(listed[:len(HOSTILE_LABELS) + 3], str(inner / "get") + "/")
        report = download(frame.iloc[:len(HOSTILE_LABELS) + 3], inner / "download",
                          token=TOKEN, base_url=base_url, progress=False)
    assert report.failed == [] and report.downloaded == len(HOSTILE_LABELS) + 3
    written = files_under(tmp_path)
    assert len(written) == 2 * (len(HOSTILE_LABELS) + 3)  # every element kept, none merged
    for path in written:
        assert inner in path.parents, path  # nothing outside the destinations
        url = frame.loc[frame["filename"] == path.name, "url"]
        if len(url):  # the download command makes colons safe; fs.get keeps the name
            assert path.read_bytes() == standin.file_bytes(url.iloc[0])
    assert not Path("/tmp/absolute.jpg").exists() or existed_before


def test_truncated_bodies_are_never_kept(standin, tmp_path):
    frame = Client(TOKEN, standin.api_url).elements(CAMERA, STILLS, *MINUTES).iloc[:4]
    with standin.faults(files=Faults(truncate_rate=1.0)):
        report = download(frame, tmp_path, token=TOKEN, base_url=standin.api_url,
                          progress=False, **QUICK)
    assert len(report.failed) == 4 and report.downloaded == 0
    assert all("ClientPayloadError" in why or "failed after" in why for _, why in report.failed)
    # No file at all, temporary or final, anywhere under the destination.
    assert files_under(tmp_path) == []
