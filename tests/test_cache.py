"""The on-disk cache (api/cache.py): reruns cost nothing, and nothing bad is ever returned."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from intake_webcoos import Client, open_images
from intake_webcoos.api.cache import Store, default_directory
from intake_webcoos.api.config import Settings
from intake_webcoos.cli.main import main

from .helpers import CAMERA, DAY, MINUTES, STILLS, TOKEN, bare_env

PAST_DAYS = ("2025-09-05", "2025-09-08T23:59:59")


def cached_client(standin, folder: Path, **options) -> Client:
    return Client(TOKEN, standin.api_url, cache=True, cache_dir=str(folder), **options)


def test_a_rerun_over_past_days_makes_no_api_request(standin, tmp_path):
    first = cached_client(standin, tmp_path).elements(CAMERA, STILLS, *PAST_DAYS)
    standin.clear_requests()
    again = cached_client(standin, tmp_path).elements(CAMERA, STILLS, *PAST_DAYS)
    assert standin.requests_to("api") == []  # the camera list and every day from the disk
    assert again.equals(first) and len(again) > 1000
    refreshed = cached_client(standin, tmp_path).elements(CAMERA, STILLS, *PAST_DAYS,
                                                          refresh=True)
    assert len(standin.requests_to("api")) == 4 and refreshed.equals(first)  # 4 days asked


def test_days_that_may_still_change_are_never_kept(standin, tmp_path):
    """A day is kept only once it ended ``late_uploads`` ago; with 20 years, none has."""
    cached_client(standin, tmp_path, late_uploads=20 * 365 * 86400.0).elements(
        CAMERA, STILLS, *PAST_DAYS)
    standin.clear_requests()
    cached_client(standin, tmp_path).elements(CAMERA, STILLS, *PAST_DAYS)
    days = [r for r in standin.requests_to("api") if r.path.endswith("/elements/")]
    assert len(days) == 4


def test_the_camera_list_and_inventories_are_kept_for_their_time(standin, tmp_path):
    cached_client(standin, tmp_path).inventory(CAMERA, STILLS)
    standin.clear_requests()
    cached_client(standin, tmp_path).inventory(CAMERA, STILLS)
    assert standin.requests_to("api") == []
    cached_client(standin, tmp_path, catalogue_ttl=0.001, inventory_ttl=0.001).inventory(
        CAMERA, STILLS)
    paths = sorted(r.path.rsplit("/", 3)[-3] for r in standin.requests_to("api"))
    assert len(paths) == 2  # the camera list and the inventory, asked again


def test_a_second_read_of_a_cube_fetches_no_file(standin, tmp_path, monkeypatch):
    monkeypatch.setenv("WEBCOOS_CACHE_DIR", str(tmp_path))
    first = open_images(CAMERA, STILLS, *MINUTES, token=TOKEN, base_url=standin.api_url,
                        cache=True)["image"].values
    standin.clear_requests()
    again = open_images(CAMERA, STILLS, *MINUTES, token=TOKEN, base_url=standin.api_url,
                        cache=True)["image"].values
    assert standin.requests_to("files") == [] and standin.requests_to("api") == []
    assert np.array_equal(first, again)


def value_files(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.val"))


@pytest.mark.parametrize("damage", ["flip", "truncate"])
def test_a_damaged_entry_is_dropped_and_fetched_again(standin, tmp_path, damage):
    first = cached_client(standin, tmp_path).elements(CAMERA, STILLS, *DAY)
    (value,) = [v for v in value_files(tmp_path / "api") if v.stat().st_size > 100_000]
    data = bytearray(value.read_bytes())
    if damage == "flip":
        data[len(data) // 2] ^= 0xFF
    else:
        del data[len(data) // 2:]  # as if the writer had died half way
    value.write_bytes(bytes(data))
    standin.clear_requests()
    again = cached_client(standin, tmp_path).elements(CAMERA, STILLS, *DAY)
    assert again.equals(first)
    assert [r.path for r in standin.requests_to("api")][-1].endswith("/elements/")


def test_the_cache_never_holds_the_token(standin, tmp_path):
    client = cached_client(standin, tmp_path, cache_files=True)
    frame = client.elements(CAMERA, STILLS, *MINUTES)
    client.inventory(CAMERA, STILLS)
    client.fetch(frame["url"].iloc[0])
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(files) >= 2
    assert not [p for p in files if TOKEN.encode() in p.read_bytes()]


def test_two_processes_share_one_cache(standin, tmp_path):
    code = (f"from intake_webcoos import Client\n"
            f"c = Client({TOKEN!r}, {standin.api_url!r}, cache=True, cache_dir={str(tmp_path)!r})\n"
            f"print(len(c.elements({CAMERA!r}, {STILLS!r}, '2025-09-03', '2025-09-09')))")
    other = subprocess.Popen([sys.executable, "-c", code], env=bare_env(),
                             stdout=subprocess.PIPE, text=True)
    mine = cached_client(standin, tmp_path).elements(CAMERA, STILLS, "2025-09-03",
                                                     "2025-09-09")
    out, _ = other.communicate(timeout=120)
    assert other.returncode == 0 and int(out) == len(mine)
    truth = standin.elements(CAMERA, STILLS, "2025-09-03", "2025-09-09")
    assert mine["uuid"].tolist() == [e["uuid"] for e in truth]
    assert cached_client(standin, tmp_path).elements(CAMERA, STILLS, "2025-09-03",
                                                     "2025-09-09").equals(mine)


def test_files_are_evicted_least_recently_used_first(tmp_path):
    store = Store(tmp_path, 2**20, 600_000)
    for n in range(12):
        store.put("file", (f"http://host/{n}.jpg",), bytes([n]) * 100_000)
        store.get("file", ("http://host/0.jpg",))  # the first one keeps being used
    assert store.volume() < 2 * 2**20
    kept = [n for n in range(12) if store.get("file", (f"http://host/{n}.jpg",)) is not None]
    assert 0 in kept and 1 not in kept and 11 in kept and len(kept) < 12


def test_where_the_cache_is_and_how_to_turn_it_off(monkeypatch, tmp_path):
    monkeypatch.delenv("WEBCOOS_CACHE_DIR", raising=False)
    monkeypatch.delenv("WEBCOOS_CACHE", raising=False)
    assert Settings.resolve().cache is True and "intake-webcoos" in str(default_directory())
    monkeypatch.setenv("WEBCOOS_CACHE_DIR", str(tmp_path))
    assert Settings.resolve().cache_store().directory == tmp_path
    monkeypatch.setenv("WEBCOOS_CACHE", "off")
    assert Settings.resolve().cache_store() is None
    assert Settings.resolve(cache=True).cache_store() is not None  # an argument wins


def test_cache_info_and_clear_on_the_command_line(standin, tmp_path, monkeypatch):
    monkeypatch.setenv("WEBCOOS_CACHE_DIR", str(tmp_path))
    cached_client(standin, tmp_path).elements(CAMERA, STILLS, *PAST_DAYS)
    info = CliRunner().invoke(main, ["cache", "info"])
    assert info.exit_code == 0 and str(tmp_path) in info.output
    rows = {line.split()[0]: int(line.split()[1]) for line in info.output.splitlines()[2:]}
    assert rows == {"catalogue": 1, "inventory": 0, "listing": 4, "file": 0}
    kept = CliRunner().invoke(main, ["cache", "clear", "--older-than", "1h"])
    assert kept.exit_code == 0 and "removed 0 entries" in kept.output
    cleared = CliRunner().invoke(main, ["cache", "clear"])
    assert "removed 5 entries" in cleared.output
    refused = CliRunner().invoke(main, ["cache", "clear", "--older-than", "7"])
    assert refused.exit_code != 0 and "has no unit" in refused.output


def test_download_copies_from_the_file_cache(standin, tmp_path, monkeypatch):
    monkeypatch.setenv("WEBCOOS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("WEBCOOS_API_TOKEN", TOKEN)
    monkeypatch.setenv("WEBCOOS_API_URL", standin.api_url)
    command = ["download", CAMERA, STILLS, "--start", MINUTES[0], "--end", MINUTES[1],
               "--quiet", "--cache-files"]
    assert CliRunner().invoke(main, [*command, str(tmp_path / "a")]).exit_code == 0
    standin.clear_requests()
    result = CliRunner().invoke(main, [*command, str(tmp_path / "b")])
    assert result.exit_code == 0 and "downloaded 5 files" in result.output
    assert standin.requests_to("files") == []
    for path in (tmp_path / "b").rglob("*.jpg"):
        twin = tmp_path / "a" / path.relative_to(tmp_path / "b")
        assert path.read_bytes() == twin.read_bytes()
    assert len(list((tmp_path / "b").rglob("*.jpg"))) == 5
