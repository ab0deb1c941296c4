"""Bad input at the faces ``test_bad_input.py`` leaves out, and broken elements in cubes.

``test_bad_input.py`` runs its table through the client, ``open_images``, the
xarray engine, the intake readers and ``intake-webcoos elements``.  Here: tokens
at the filesystem, the xarray engine, the intake images reader, the v1 driver
and the command line; empty and out-of-range selections at every face (typed
error, or an empty result of the right shape); elements that are not JPEGs;
and labels that collide once made safe for a disk.
"""

from __future__ import annotations

import intake
import pandas as pd
import pytest
import xarray as xr
from click.testing import CliRunner

from intake_webcoos import Client, open_images
from intake_webcoos.api.errors import (
    EmptyRangeError,
    FrameDecodeError,
    InvalidTokenError,
    MissingTokenError,
)
from intake_webcoos.api.tables import ELEMENT_COLUMNS
from intake_webcoos.cli import main
from intake_webcoos.download import download
from intake_webcoos.fs import WebcoosFileSystem
from intake_webcoos.intake_readers import WebcoosElementsReader, WebcoosImagesReader
from intake_webcoos.server import StandIn

from .conftest import TOKEN

CAMERA, STILLS = "waikiki_sheraton", "one-minute-stills"
MINUTES = ("2025-09-10T18:00:00Z", "2025-09-10T18:04:59Z")
NIGHT = ("2025-09-10T09:00:00Z", "2025-09-10T11:00:00Z")  # 23:00-01:00 in Honolulu
BEYOND = ("2030-01-01T00:00:00Z", "2030-01-01T23:59:59Z")


@pytest.fixture
def env(standin, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBCOOS_API_TOKEN", TOKEN)
    monkeypatch.setenv("WEBCOOS_API_URL", standin.api_url)


FACES = {
    "filesystem": lambda: WebcoosFileSystem(skip_instance_cache=True).ls(
        f"{CAMERA}/{STILLS}/2025/09"),
    "xarray engine": lambda: xr.open_dataset(f"webcoos://{CAMERA}/{STILLS}", engine="webcoos",
                                             start=MINUTES[0], end=MINUTES[1]),
    "intake images": lambda: WebcoosImagesReader(
        asset=CAMERA, product=STILLS, options=dict(zip(("start", "end"), MINUTES,
                                                       strict=True))).read(),
    "intake v1 driver": lambda: intake.open_webcoos_images(CAMERA, STILLS, *MINUTES).read(),
}


@pytest.mark.parametrize("face", list(FACES))
def test_missing_and_invalid_token(standin, monkeypatch, face):
    monkeypatch.setenv("WEBCOOS_API_URL", standin.api_url)
    monkeypatch.delenv("WEBCOOS_API_TOKEN", raising=False)
    with pytest.raises(MissingTokenError, match="WEBCOOS_API_TOKEN"):
        FACES[face]()
    monkeypatch.setenv("WEBCOOS_API_TOKEN", "not-the-token")
    with pytest.raises(InvalidTokenError, match="Copy a fresh token"):
        FACES[face]()


def test_command_line_with_a_wrong_token(standin, monkeypatch, tmp_path):
    monkeypatch.setenv("WEBCOOS_API_TOKEN", "not-the-token")
    result = CliRunner().invoke(main, ["download", CAMERA, STILLS, "--start", MINUTES[0],
                                       "--end", MINUTES[1], "--base-url", standin.api_url,
                                       str(tmp_path)])
    assert result.exit_code == 1 and result.output.startswith("Error: ")
    assert "Copy a fresh token" in result.output and "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []


# -- selections that are legitimately empty --------------------------------------------------
@pytest.mark.parametrize("span", [NIGHT, BEYOND], ids=["night", "beyond the data"])
def test_empty_selections_at_every_face(env, tmp_path, span):
    frame = WebcoosElementsReader(asset=CAMERA, product=STILLS,
                                  options=dict(zip(("start", "end"), span, strict=True))).read()
    assert frame.empty and list(frame.columns) == list(ELEMENT_COLUMNS)
    assert str(frame["time"].dtype) == "datetime64[ns, UTC]"
    for open_cube in (
        lambda: xr.open_dataset(f"webcoos://{CAMERA}/{STILLS}", engine="webcoos",
                                start=span[0], end=span[1]),
        lambda: WebcoosImagesReader(asset=CAMERA, product=STILLS, options=dict(
            zip(("start", "end"), span, strict=True))).read(),
    ):
        with pytest.raises(EmptyRangeError, match="check the inventory"):
            open_cube()
    fs = WebcoosFileSystem(skip_instance_cache=True)
    day = f"{CAMERA}/{STILLS}/{span[0][:4]}/{span[0][5:7]}/{span[0][8:10]}"
    hour = span[0][11:13]
    if span is NIGHT:  # the day exists, the night hours hold no file
        assert fs.glob(f"{day}/*-{hour}????Z.jpg") == []
    else:
        with pytest.raises(FileNotFoundError, match="no files on that UTC day"):
            fs.ls(day)
        with pytest.raises(FileNotFoundError, match="no data in that period"):
            fs.ls(day.rsplit("/", 2)[0])
    result = CliRunner().invoke(main, ["download", CAMERA, STILLS, "--start", span[0],
                                       "--end", span[1], "--quiet", str(tmp_path)])
    assert result.exit_code == 0 and "downloaded 0 files" in result.output
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


# -- elements that are not JPEGs -----------------------------------------------------------------
@pytest.fixture(scope="module")
def broken():
    """A stand-in of its own (damage cannot be undone) with one corrupt still."""
    with StandIn(token=TOKEN, frame_size=(64, 36), span_days=2, daylight=(7, 9)) as s:
        truth = s.elements("stevens_hoboken", "10-minute-stills")
        urls = [e["data"]["properties"]["url"] for e in truth]
        s.damage(urls[2], "corrupt")
        yield s, truth, urls


def test_a_corrupt_element_names_itself_and_says_what_to_do(broken):
    """Not a JPEG: the error names the file and points at on_error='mask'."""
    s, truth, urls = broken
    first, last = (truth[i]["data"]["extents"]["temporal"]["min"] for i in (0, 5))
    cube = open_images("stevens_hoboken", "10-minute-stills", first, last, token=TOKEN,
                       base_url=s.api_url)
    with pytest.raises(FrameDecodeError) as info:
        cube["image"].values  # noqa: B018  (compute)
    assert info.value.url == urls[2] and urls[2] in str(info.value)
    assert "on_error='mask'" in str(info.value) or 'on_error="mask"' in str(info.value)
    masked = open_images("stevens_hoboken", "10-minute-stills", first, last, token=TOKEN,
                         base_url=s.api_url, on_error="mask")
    assert masked["valid"].values.tolist() == [True, True, False, True, True, True]


@pytest.mark.parametrize("product,hint", [("video-archive", "open_video"),
                                          ("rip-detection-results", "read_results")])
def test_a_product_of_other_files_says_which_reader_to_use(env, product, hint):
    """open_images on clips or result files: a typed error that names the right reader."""
    camera = "walton_lighthouse" if product.endswith("-results") else CAMERA
    with pytest.raises((FrameDecodeError, ValueError)) as info:
        open_images(camera, product, "2025-09-10T18:00Z", "2025-09-10T18:30Z")
    assert hint in str(info.value), str(info.value)


# -- labels that collide once made safe ----------------------------------------------------
def test_labels_that_collide_once_made_safe_keep_every_file(standin, tmp_path):
    frame = Client(TOKEN, standin.api_url).elements(CAMERA, STILLS, *MINUTES).copy()
    frame["filename"] = ["x.jpg", "../x.jpg", "a:b.jpg", "a-b.jpg", "/abs/x.jpg"]
    first = download(frame, tmp_path, token=TOKEN, base_url=standin.api_url, progress=False)
    assert first.failed == [] and first.downloaded == 5
    files = sorted(p for p in tmp_path.rglob("*") if p.is_file())
    assert len(files) == 5  # nothing overwritten
    assert sorted(standin.file_bytes(u) for u in frame["url"]) == \
        sorted(p.read_bytes() for p in files)
    again = download(frame, tmp_path, token=TOKEN, base_url=standin.api_url, progress=False)
    assert again.skipped == 5 and again.downloaded == 0  # the same names on a rerun
    assert pd.Series([p.parent for p in files]).nunique() == 1
