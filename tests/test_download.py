"""Bulk downloads (cli/download.py): safe, distinct names inside the destination; nothing short.

Labels from the user's frame or from a hostile API never leave the destination
and never merge two files; truncated bodies leave no file at all.  Ctrl-C and
cancellation stop every transfer and leave no temporary file; two runs share a
destination, and a run removes only the temporary files of dead runs.  Resuming
after SIGKILL is in ``test_cli.py`` and ``test_faults.py``.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import ClassVar

import pandas as pd
import pytest
import tqdm.auto
from aiohttp import web
from filelock import FileLock

from intake_webcoos import Client
from intake_webcoos.cli.download import RUNS, adownload, download
from intake_webcoos.fs.filesystem import WebcoosFileSystem
from intake_webcoos.server import Faults

from .helpers import (
    API_PREFIX,
    CAMERA,
    DAY,
    HOUR,
    INTERRUPTING,
    MINUTES,
    NIGHT,
    QUICK,
    QUIET_AFTER,
    STILLS,
    TOKEN,
    assert_stopped_cleanly,
    cli_env,
    console_script,
    fronted,
    label_of,
    signal_after_file_requests,
    temporary_files,
    upstream,
    url_of,
)

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


# -- names at the limits ------------------------------------------------------------------
def test_names_of_250_and_255_bytes_download_under_those_names(standin, tmp_path):
    """The temporary names (``.{name}.{run id}.part``) are cut to fit; the final ones are not."""
    frame = Client(TOKEN, standin.api_url).elements(CAMERA, STILLS, *MINUTES).copy()
    labels = ["a" * 246 + ".jpg", "b" * 251 + ".jpg", "\u00e9" * 125 + "x.jpg",
              "c" * 250 + ":.jpg", "c" * 250 + "-.jpg"]  # the last two: one name once safe
    assert [len(label.encode()) for label in labels] == [250, 255, 255, 255, 255]
    frame["filename"] = labels
    report = download(frame, tmp_path, token=TOKEN, base_url=standin.api_url, progress=False)
    assert report.failed == [] and report.downloaded == 5
    written = {p.name: p for p in tmp_path.rglob("*") if p.is_file()}
    assert set(labels[:3]) | {"c" * 250 + "-.jpg"} < set(written) and len(written) == 5
    assert all(len(name.encode()) <= 255 for name in written)
    (marked,) = set(written) - set(labels)  # the second of the pair: marked with its uuid
    assert marked.endswith(f"-{frame['uuid'].iloc[4]}.jpg")
    for row in frame.itertuples():
        name = marked if row.Index == 4 else labels[row.Index].replace(":", "-")
        assert written[name].read_bytes() == standin.file_bytes(row.url)


def test_reserved_and_invisible_names_are_mapped_and_every_file_kept(standin, tmp_path):
    frame = Client(TOKEN, standin.api_url).elements(CAMERA, STILLS, *MINUTES).copy()
    frame["filename"] = ["CON.jpg", "con_.jpg", "aux.txt", "evil\u202egpj.exe", "COM1"]
    report = download(frame, tmp_path, token=TOKEN, base_url=standin.api_url, progress=False)
    assert report.failed == [] and report.downloaded == 5
    names = sorted(p.name for p in tmp_path.rglob("*") if p.is_file())
    # "con_.jpg" is "CON_.jpg" on a case-insensitive disk: kept apart by its uuid.
    assert names == sorted(["CON_.jpg", f"con_-{frame['uuid'].iloc[1]}.jpg", "aux_.txt",
                            "evil-gpj.exe", "COM1_"])


# -- Ctrl-C and cancellation -----------------------------------------------------------------
#: A program that downloads a frame (DEST CAMERA PRODUCT START END) and says when Ctrl-C
#: interrupts it.
INTERRUPTED_RUN = """
import sys
from intake_webcoos import Client
from intake_webcoos.cli.download import download
frame = Client().elements(*sys.argv[2:6])
try:
    download(frame, sys.argv[1], progress=False, file_concurrency=4)
except KeyboardInterrupt:
    print("KeyboardInterrupt")
    sys.exit(3)
"""


def test_ctrl_c_during_download_stops_every_transfer(standin, tmp_path):
    dest = tmp_path / "dest"
    command = [sys.executable, "-c", INTERRUPTED_RUN, str(dest), CAMERA, STILLS, *HOUR]
    with standin.faults(files=INTERRUPTING):
        ended = signal_after_file_requests(standin, command, QUIET_AFTER, signal.SIGINT,
                                           deadline=5,
                                           until=lambda: bool(temporary_files(dest)))
    assert (ended.returncode, ended.stdout.strip()) == (3, "KeyboardInterrupt"), ended.stderr
    assert "Traceback" not in ended.stderr
    truth = {label_of(e): url_of(e) for e in standin.elements(CAMERA, STILLS, *HOUR)}
    assert 0 < assert_stopped_cleanly(standin, dest, ended.at, truth) < len(truth)


class _Bar(tqdm.auto.tqdm):
    """A progress bar that remembers being made and closed."""

    made: ClassVar[list[_Bar]] = []

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.closed = False
        _Bar.made.append(self)

    def close(self) -> None:
        self.closed = True
        super().close()


def test_cancelling_the_coroutine_stops_every_transfer(standin, tmp_path, monkeypatch):
    monkeypatch.setattr(tqdm.auto, "tqdm", _Bar)
    monkeypatch.setattr(_Bar, "made", [])
    frame = Client(TOKEN, standin.api_url).elements(CAMERA, STILLS, *HOUR)
    truth = dict(zip(frame["filename"], frame["url"], strict=True))
    dest = tmp_path / "dest"

    async def interrupted() -> int:
        task = asyncio.create_task(adownload(frame, dest, token=TOKEN, base_url=standin.api_url,
                                             progress=True, file_concurrency=4))
        target = QUIET_AFTER
        while await asyncio.to_thread(standin.wait_for_requests, "files", target, 60):
            if temporary_files(dest):
                break
            target += 1
        assert temporary_files(dest), "no transfer was under way"
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        ended = time.monotonic()
        # Checked while the loop still runs, so that a transfer left running would show.
        return await asyncio.to_thread(assert_stopped_cleanly, standin, dest, ended, truth)

    standin.clear_requests()
    with standin.faults(files=INTERRUPTING):
        complete = asyncio.run(interrupted())
    assert 0 < complete < len(truth)
    assert len(_Bar.made) == 2 and all(bar.closed for bar in _Bar.made)


# -- two runs, one destination; what the sweep removes -----------------------------------------
def test_two_runs_into_one_destination_at_once(standin, tmp_path):
    """A run started while another one's files trickle in leaves them be; both end whole."""
    frame = Client(TOKEN, standin.api_url).elements(CAMERA, STILLS, *HOUR)
    command = [console_script(), "download", CAMERA, STILLS, "--start", HOUR[0], "--end",
               HOUR[1], "--concurrency", "4", "--quiet", str(tmp_path)]
    standin.clear_requests()
    with standin.faults(files=Faults(slow_rate=0.5, slow_seconds=4.0, seed=5)):
        first = subprocess.Popen(command, env=cli_env(standin), stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
        try:
            target = 10
            while not temporary_files(tmp_path):  # until the first run has files under way
                assert standin.wait_for_requests("files", target, timeout=60)
                target += 1
            standin.set_faults(files=Faults())  # new transfers are quick, the slow ones go on
            second = download(frame.iloc[:10], tmp_path, token=TOKEN,
                              base_url=standin.api_url, progress=False)
            out, err = first.communicate(timeout=120)
        finally:
            if first.poll() is None:
                first.kill()
                first.communicate()
    assert first.returncode == 0 and "downloaded 60 files" in out and "0 failed" in out, err
    assert second.failed == [] and second.removed_temporary == 0
    # The first ten had all been asked for: those not complete were the first run's under way.
    assert second.downloaded > 0 and second.downloaded + second.skipped == 10
    files = sorted(p for p in tmp_path.rglob("*") if p.is_file())  # no lock, no temporary
    assert [p.name for p in files] == sorted(frame["filename"])
    for path, url in zip(files, frame.sort_values("filename")["url"], strict=True):
        assert path.read_bytes() == standin.file_bytes(url)


def test_the_sweep_removes_only_what_dead_runs_left_in_its_folders(standin, tmp_path):
    frame = Client(TOKEN, standin.api_url).elements(CAMERA, STILLS, *MINUTES)
    runs, ours = tmp_path / RUNS, tmp_path / CAMERA / STILLS
    leftovers = {
        "dead run": ours / "2025/09/10/.x.jpg.0000dead.part",  # its lock file is free
        "no lock file": ours / "2024/01/01/.y.jpg.0badc0de.part",
        "live run": ours / "2025/09/10/.z.jpg.0000a11e.part",  # its lock is held
        "other product": tmp_path / CAMERA / "video-archive/.x.deadbeef.part",
        "not a download": tmp_path / "notes/.x.deadbeef.part",
        "no run id": ours / "2025/09/10/.x.jpg.part",
    }
    for path in [*leftovers.values(), runs / "0000dead.lock", runs / "5ca1ab1e.lock"]:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"left over")
    live = FileLock(runs / "0000a11e.lock")
    with live:
        report = download(frame, tmp_path, token=TOKEN, base_url=standin.api_url,
                          progress=False)
    assert report.removed_temporary == 2 and report.downloaded == 5 and report.failed == []
    assert {name for name, path in leftovers.items() if path.exists()} == {
        "live run", "other product", "not a download", "no run id"}
    # Dead runs' lock files go too (5ca1ab1e left no temporary file); the live one stays.
    assert sorted(p.name for p in runs.iterdir()) == ["0000a11e.lock"]


def test_an_empty_download_says_why(standin, tmp_path):
    frame = Client(TOKEN, standin.api_url).elements(CAMERA, STILLS, *NIGHT)
    report = download(frame, tmp_path, token=TOKEN, base_url=standin.api_url, progress=False)
    assert report.downloaded == 0 and "daylight only" in report.why_empty
    assert "nothing was selected: Nothing in that range (23:00 to 01:00 at the camera" in \
        report.summary()
