"""Every face that opens a selection against bad and empty selections (table-driven).

A bad selection (unknown camera or product, a stream, bad times) gives its typed
error with a message that says what to do, at the client, ``open_images``, the
xarray engine, the intake readers and ``intake-webcoos elements`` (one line, no
traceback).  A legitimately empty selection gives an empty frame of the right
shape where a listing is asked for, and ``EmptyRangeError`` where a cube is.
Tokens at every face are in ``test_token.py``; bad paths in ``test_filesystem.py``.
"""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from intake_webcoos.api.tables import ELEMENT_COLUMNS
from intake_webcoos.cli.main import main
from intake_webcoos.errors import (
    EmptyRangeError,
    InvalidTimeError,
    NoFilesError,
    UnknownAssetError,
    UnknownProductError,
)
from intake_webcoos.fs.filesystem import WebcoosFileSystem

from .helpers import BEYOND, CAMERA, FACES, NIGHT, STILLS

GOOD = (CAMERA, STILLS, "2025-09-10T18:00Z", "2025-09-10T18:09:59Z")
CASES = {
    "unknown camera": (("waikiki_sheraten", *GOOD[1:]), UnknownAssetError,
                       "Did you mean 'waikiki_sheraton'"),
    "unknown product": ((GOOD[0], "one-minute-still", *GOOD[2:]), UnknownProductError,
                        "one-minute-stills"),
    "stream only": ((GOOD[0], "video-streams", *GOOD[2:]), NoFilesError, "stream"),
    "start after end": ((*GOOD[:2], GOOD[3], GOOD[2]), InvalidTimeError,
                        r"start.* is after .*end.*: swap them"),
    "unparseable date": ((*GOOD[:2], "next tuesday", GOOD[3]), InvalidTimeError, "ISO 8601"),
    "ambiguous date": ((*GOOD[:2], "10/09/2025", GOOD[3]), InvalidTimeError, "ISO 8601"),
}
SELECTION_FACES = ["Client", "open_images", "xarray engine", "intake images", "intake elements"]
EMPTY = {"night": NIGHT, "beyond the data": BEYOND}


@pytest.mark.parametrize("face", SELECTION_FACES)
@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_gives_typed_errors(api_env, face, case):
    args, error, message = CASES[case]
    with pytest.raises(error, match=message):
        FACES[face](*args)


@pytest.mark.parametrize("case", list(CASES))
def test_cli_bad_input_is_one_line(api_env, case):
    (asset, product, start, end), _, message = CASES[case]
    result = CliRunner().invoke(main, ["elements", asset, product, "--start", start,
                                       "--end", end])
    assert result.exit_code == 1 and result.output.startswith("Error: ")
    assert re.search(message, result.output) and "Traceback" not in result.output


# -- selections that are legitimately empty --------------------------------------------------
@pytest.mark.parametrize("face", ["Client", "intake elements"])
@pytest.mark.parametrize("span", list(EMPTY))
def test_an_empty_selection_lists_an_empty_frame(api_env, face, span):
    frame = FACES[face](CAMERA, STILLS, *EMPTY[span])
    assert frame.empty and list(frame.columns) == list(ELEMENT_COLUMNS)
    assert str(frame["time"].dtype) == "datetime64[ns, UTC]"


#: What an empty selection's error says, by why it is empty.
WHY_EMPTY = {"night": r"23:00 to 01:00 at the camera, US/Hawaii\): the cameras record in "
                      r"daylight only.*holds elements from 2025-09-03",
             "beyond the data": r"outside the data: the service holds elements from "
                                r"2025-09-03 00:00 to 2025-09-16 23:59 UTC"}


@pytest.mark.parametrize("face", ["open_images", "xarray engine", "intake images"])
@pytest.mark.parametrize("span", list(EMPTY))
def test_an_empty_selection_is_no_cube_and_says_why(api_env, face, span):
    with pytest.raises(EmptyRangeError, match=r"No one-minute-stills .*" + WHY_EMPTY[span]):
        FACES[face](CAMERA, STILLS, *EMPTY[span])


def test_an_empty_night_has_no_files_on_the_filesystem(api_env):
    fs = WebcoosFileSystem(skip_instance_cache=True)
    day, hour = f"{CAMERA}/{STILLS}/2025/09/10", NIGHT[0][11:13]
    assert fs.glob(f"{day}/*-{hour}????Z.jpg") == []  # the day exists, its night is empty
    assert fs.ls(day)


def test_days_beyond_the_data_are_not_found_on_the_filesystem(api_env):
    fs = WebcoosFileSystem(skip_instance_cache=True)
    with pytest.raises(FileNotFoundError, match="no files on that UTC day"):
        fs.ls(f"{CAMERA}/{STILLS}/2030/01/01")
    with pytest.raises(FileNotFoundError, match="no data in that period"):
        fs.ls(f"{CAMERA}/{STILLS}/2030")


@pytest.mark.parametrize("span", list(EMPTY))
def test_an_empty_selection_at_the_command_line(api_env, tmp_path, span):
    start, end = EMPTY[span]
    listed = CliRunner().invoke(main, ["elements", CAMERA, STILLS, "--start", start,
                                       "--end", end])
    assert listed.exit_code == 0 and "0 elements" in listed.output
    fetched = CliRunner().invoke(main, ["download", CAMERA, STILLS, "--start", start,
                                        "--end", end, "--quiet", str(tmp_path)])
    assert fetched.exit_code == 0 and "downloaded 0 files" in fetched.output
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []
