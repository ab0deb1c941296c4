"""Every user-facing entry point against every kind of bad input (table-driven).

Each case gives its typed error with a message that says what to do, or, where
the answer is legitimately empty, an empty result of the right shape.
"""

from __future__ import annotations

import string

import pandas as pd
import pytest
import xarray as xr
from click.testing import CliRunner
from fsspec.asyn import get_loop, sync
from hypothesis import given, settings
from hypothesis import strategies as st

from intake_webcoos import Client, open_images
from intake_webcoos.api import (
    EmptyRangeError,
    InvalidTimeError,
    InvalidTokenError,
    MissingTokenError,
    NoFilesError,
    NotFoundError,
    UnknownAssetError,
    UnknownProductError,
    WebcoosError,
)
from intake_webcoos.api.tables import ELEMENT_COLUMNS
from intake_webcoos.api.times import time_range, to_timedelta, to_utc
from intake_webcoos.cli import main
from intake_webcoos.fs import WebcoosFileSystem
from intake_webcoos.intake_readers import WebcoosElementsReader, WebcoosImagesReader

from .conftest import TOKEN

GOOD = ("waikiki_sheraton", "one-minute-stills", "2025-09-10T18:00Z", "2025-09-10T18:09:59Z")
CASES = {
    "unknown camera": (("waikiki_sheraten", *GOOD[1:]), UnknownAssetError,
                       "Did you mean 'waikiki_sheraton'"),
    "unknown product": ((GOOD[0], "one-minute-still", *GOOD[2:]), UnknownProductError,
                        "one-minute-stills"),
    "stream only": ((GOOD[0], "video-streams", *GOOD[2:]), NoFilesError, "stream"),
    "start after end": ((*GOOD[:2], GOOD[3], GOOD[2]), InvalidTimeError, "swap them"),
    "unparseable date": ((*GOOD[:2], "next tuesday", GOOD[3]), InvalidTimeError, "ISO 8601"),
    "ambiguous date": ((*GOOD[:2], "10/09/2025", GOOD[3]), InvalidTimeError, "ISO 8601"),
}
EMPTY = {
    "night": (*GOOD[:2], "2025-09-10T09:00Z", "2025-09-10T11:00Z"),
    "beyond the data": (*GOOD[:2], "2030-01-01", "2030-01-02"),
}


@pytest.fixture
def env(standin, monkeypatch):
    monkeypatch.setenv("WEBCOOS_API_TOKEN", TOKEN)
    monkeypatch.setenv("WEBCOOS_API_URL", standin.api_url)


def entry_points():
    """name -> callable(asset, product, start, end) for every face."""
    return {
        "Client": lambda a, p, s, e: Client().elements(a, p, s, e),
        "open_images": lambda a, p, s, e: open_images(a, p, s, e),
        "xarray engine": lambda a, p, s, e: xr.open_dataset(
            f"webcoos://{a}/{p}", engine="webcoos", start=s, end=e),
        "intake images": lambda a, p, s, e: WebcoosImagesReader(
            asset=a, product=p, options={"start": s, "end": e}).read(),
        "intake elements": lambda a, p, s, e: WebcoosElementsReader(
            asset=a, product=p, options={"start": s, "end": e}).read(),
    }


@pytest.mark.parametrize("face", list(entry_points()))
@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_gives_typed_errors(env, face, case):
    args, error, message = CASES[case]
    with pytest.raises(error, match=message):
        entry_points()[face](*args)


@pytest.mark.parametrize("case", list(CASES))
def test_cli_bad_input_is_one_line(env, case):
    (asset, product, start, end), _, message = CASES[case]
    result = CliRunner().invoke(main, ["elements", asset, product, "--start", start,
                                       "--end", end])
    assert result.exit_code == 1 and result.output.startswith("Error: ")
    assert message in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("case", list(EMPTY))
def test_empty_ranges(env, case):
    args = EMPTY[case]
    frame = Client().elements(*args)
    assert frame.empty and list(frame.columns) == list(ELEMENT_COLUMNS)
    assert str(frame["time"].dtype) == "datetime64[ns, UTC]"
    with pytest.raises(EmptyRangeError, match="No one-minute-stills"):
        open_images(*args)
    result = CliRunner().invoke(main, ["elements", *args[:2], "--start", args[2],
                                       "--end", args[3]])
    assert result.exit_code == 0 and "0 elements" in result.output


def test_mixed_timezones_mean_the_same_instants(env):
    utc = Client().elements(*GOOD)
    mixed = Client().elements(GOOD[0], GOOD[1], "2025-09-10T08:00:00-10:00",
                              pd.Timestamp("2025-09-10T14:09:59", tz="America/New_York"))
    naive = Client().elements(GOOD[0], GOOD[1], "2025-09-10T18:00", "2025-09-10T18:09:59")
    pd.testing.assert_frame_equal(mixed, utc)
    pd.testing.assert_frame_equal(naive, utc)


@pytest.mark.parametrize("face", ["Client", "open_images", "intake elements"])
def test_missing_and_invalid_tokens(standin, monkeypatch, face):
    monkeypatch.setenv("WEBCOOS_API_URL", standin.api_url)
    monkeypatch.delenv("WEBCOOS_API_TOKEN", raising=False)
    with pytest.raises(MissingTokenError, match="WEBCOOS_API_TOKEN"):
        entry_points()[face](*GOOD)
    monkeypatch.setenv("WEBCOOS_API_TOKEN", "wrong-token")
    with pytest.raises(InvalidTokenError, match="fresh"):
        entry_points()[face](*GOOD)


def test_filesystem_bad_paths(env):
    fs = WebcoosFileSystem(skip_instance_cache=True)
    for path, fragment in [("waikiki_sheraten", "Did you mean"),
                           ("waikiki_sheraton/video-streams", "stream"),
                           ("waikiki_sheraton/one-minute-stills/2025/02/30", "not a date"),
                           ("waikiki_sheraton/one-minute-stills/2030", "no data")]:
        with pytest.raises(FileNotFoundError, match=fragment):
            fs.ls(path)


def test_a_page_the_server_says_does_not_exist(standin):
    client = Client(TOKEN, standin.api_url)
    with pytest.raises(NotFoundError, match="Invalid page"):
        sync(get_loop(), client.aclient.transport.get_json, f"{standin.api_url}/elements/",
                    {"service": "waikiki_sheraton-one-minute-stills-s3", "page": "9999"})


def test_escaping_labels_stay_inside_the_destination(standin, tmp_path):
    from intake_webcoos.download import download

    frame = Client(TOKEN, standin.api_url).elements(*GOOD).iloc[:5].copy()
    frame["filename"] = ["../../escaped.jpg", "/etc/absolute.jpg", "a:b:c.jpg", "", ".."]
    report = download(frame, tmp_path / "dest", progress=False)
    assert report.failed == [] and report.downloaded == 5
    written = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert all(str(p).startswith("dest/waikiki_sheraton/one-minute-stills/2025/09/10/")
               for p in written)
    names = {p.name for p in written}
    assert {"escaped.jpg", "absolute.jpg", "a-b-c.jpg"} <= names and len(names) == 5
    assert not (tmp_path / "escaped.jpg").exists()


# -- property tests: nothing but our typed errors escapes ------------------------------
@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), st.text(alphabet=string.digits + "-:TZ+ ./", max_size=30),
                 st.integers(), st.floats(), st.none(), st.booleans(), st.lists(st.integers()),
                 st.datetimes(), st.dates()))
def test_time_parsing_raises_only_typed_errors(value):
    try:
        stamp = to_utc(value)
    except InvalidTimeError as exc:
        assert str(exc)
    else:
        assert str(stamp.tz) == "UTC"


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=20), st.text(max_size=20))
def test_time_ranges_and_durations_raise_only_typed_errors(a, b):
    for call in (lambda: time_range(a, b), lambda: to_timedelta(a)):
        try:
            call()
        except WebcoosError as exc:
            assert isinstance(exc, InvalidTimeError)
