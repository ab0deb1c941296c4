"""The archive's path layout (paths.py): ``webcoos://`` paths and local download paths.

Built paths parse back to their parts; paths that are not in the layout (bad
dates, too deep, empty parts) raise ``PathNotFoundError``, a ``FileNotFoundError``;
local paths made from any label stay inside their root.
"""

from __future__ import annotations

import datetime as dt
import os
import string
import unicodedata
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pathvalidate import is_valid_filename

from intake_webcoos.errors import InvalidArgumentError, PathNotFoundError
from intake_webcoos.paths import (
    ArchivePath,
    archive_url,
    day_folder,
    distinct_name,
    file_path,
    is_archive_url,
    local_path,
    parse,
    safe_name,
    strip_protocol,
)

SLUGS = st.text(alphabet=string.ascii_lowercase + string.digits + "_-", min_size=1, max_size=24)
FILENAMES = st.text(st.characters(blacklist_characters="/", blacklist_categories=("Cs",)),
                    min_size=1, max_size=40)
DAYS = st.dates(min_value=dt.date(1970, 1, 1), max_value=dt.date(2200, 12, 31))
ROOT = Path("/nonexistent/webcoos-downloads")


@settings(max_examples=200, deadline=None)
@given(SLUGS, SLUGS, DAYS, FILENAMES)
def test_file_paths_parse_back_to_their_parts(asset, product, day, filename):
    path = file_path(asset, product, day, filename)
    parsed = parse(path)
    assert parsed == ArchivePath(asset, product, (day.year, day.month, day.day), filename)
    assert parsed.is_file and parsed.depth == 6
    assert str(parsed) == path and parsed.folder == day_folder(asset, product, day)
    assert parse(archive_url(path)) == parsed
    assert strip_protocol(archive_url(path)) == path and is_archive_url(archive_url(path))


@settings(max_examples=200, deadline=None)
@given(SLUGS, SLUGS, DAYS, st.integers(min_value=0, max_value=5))
def test_every_level_of_a_folder_round_trips(asset, product, day, depth):
    parts = [asset, product, f"{day.year:04d}", f"{day.month:02d}", f"{day.day:02d}"][:depth]
    text = "/".join(parts)
    parsed = parse(f"webcoos://{text}/")
    assert str(parsed) == text and parsed.depth == depth and not parsed.is_file
    if depth >= 3:  # a date folder: [start, end) holds exactly its dates
        start, end = parsed.period()
        fmt = ("%Y", "%Y/%m", "%Y/%m/%d")[depth - 3]
        folder = "/".join(parts[2:])
        assert start.tz is not None and start.strftime(fmt) == folder
        assert (end - pd.Timedelta("1ns")).strftime(fmt) == folder
        assert end.strftime(fmt) != folder


def test_a_day_folder_covers_its_utc_day():
    day = parse("cam/prod/2024/02/29")
    assert day.period() == (pd.Timestamp("2024-02-29", tz="UTC"),
                            pd.Timestamp("2024-03-01", tz="UTC"))
    assert parse("cam/prod/2024").period()[1] == pd.Timestamp("2025-01-01", tz="UTC")
    with pytest.raises(InvalidArgumentError, match="not a date folder"):
        parse("cam/prod").period()
    assert parse("") == ArchivePath() and parse("webcoos://").depth == 0


@pytest.mark.parametrize("path,fragment", [
    ("cam/prod/2025/02/30", "no such day"),
    ("cam/prod/2025/13", "no such day"),
    ("cam/prod/2025/00", "no such day"),
    ("cam/prod/20x5", "not a date folder"),
    ("cam/prod/2025/9", "not a date folder"),
    ("cam/prod/2025/09/1", "not a date folder"),
    ("cam/prod/2025/09/10/file.jpg/extra", "the layout is"),
    ("webcoos://cam/prod/2025/09/10/a/b", "the layout is"),
    ("cam//prod", "the layout is"),
])
def test_paths_outside_the_layout_are_not_found(path, fragment):
    with pytest.raises(PathNotFoundError, match=fragment) as info:
        parse(path)
    assert isinstance(info.value, FileNotFoundError)
    assert "does not exist" in str(info.value)


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=1, max_value=9999), st.integers(min_value=1, max_value=12),
       st.integers(min_value=1, max_value=31))
def test_only_calendar_days_parse(year, month, day):
    text = f"cam/prod/{year:04d}/{month:02d}/{day:02d}"
    try:
        dt.date(year, month, day)
    except ValueError:
        with pytest.raises(FileNotFoundError, match="no such day"):
            parse(text)
    else:
        assert parse(text).date == (year, month, day)


def test_safe_names():
    assert safe_name("../../etc/passwd", "x") == "passwd"
    assert safe_name("/abs/path.jpg", "x") == "path.jpg"
    assert safe_name("a:b:c.jpg", "x") == "a-b-c.jpg"
    assert safe_name("", "fallback.jpg") == "fallback.jpg"
    assert safe_name("..", "fallback") == "fallback"
    assert safe_name(".hidden", "x") == "hidden"
    root = Path("/tmp/dest")
    when = pd.Timestamp("2025-09-10T12:00Z")
    assert local_path(root, "cam", "prod", when, "../../x.jpg", "u") == \
        root / "cam/prod/2025/09/10/x.jpg"
    assert local_path(root, "../cam", "prod", when, "", "uuid") == \
        root / "cam/prod/2025/09/10/uuid"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=30), st.text(max_size=30), st.text(max_size=60),
       st.text(alphabet=string.hexdigits + "-", min_size=1, max_size=36), DAYS)
def test_local_paths_stay_inside_their_root(asset, product, label, uuid, day):
    when = pd.Timestamp(day, tz="UTC")
    path = local_path(ROOT, asset, product, when, label, uuid)
    assert ROOT.resolve() in path.resolve().parents
    relative = path.relative_to(ROOT).parts
    assert len(relative) == 6 and relative[2:5] == (f"{day.year:04d}", f"{day.month:02d}",
                                                   f"{day.day:02d}")
    for part in relative:
        assert part and part not in (".", "..") and not part.startswith(".")
        assert not set(part) & set('/\\:\x00')
        assert is_valid_filename(part, platform="universal")


@pytest.mark.parametrize("label, name", [
    # Windows-reserved names, in any case, with or without an extension
    ("CON.jpg", "CON_.jpg"), ("nul.jpg", "nul_.jpg"), ("COM1", "COM1_"), ("aux.txt", "aux_.txt"),
    ("lpt9.tar.gz", "lpt9_.tar.gz"), ("CON .jpg", "CON_ .jpg"), ("CONSOLE.jpg", "CONSOLE.jpg"),
    # the characters Windows forbids, colons included
    ('a<b>c:d"e|f?g*h.jpg', "a-b-c-d-e-f-g-h.jpg"), ("2025-09-10T18:00:00Z.jpg",
                                                   "2025-09-10T18-00-00Z.jpg"),
    # control, format (bidi, zero-width) and separator characters
    ("tab\there\x00.jpg", "tab-here-.jpg"), ("c1\x85.jpg", "c1-.jpg"),
    ("evil\u202egpj.exe", "evil-gpj.exe"), ("zero\u200bwidth.jpg", "zero-width.jpg"),
    ("\ufeffbom.jpg", "-bom.jpg"), ("line\u2028break.jpg", "line-break.jpg"),
    ("lone\ud800surrogate.jpg", "lone-surrogate.jpg"),
    # dots and spaces at the ends, paths, and nothing at all
    ("  .hidden. ", "hidden"), ("name.jpg...", "name.jpg"), ("..", "fallback"), (".", "fallback"),
    ("", "fallback"), (" \u202e ", "-"), ("a/b/../c.jpg", "c.jpg"), ("C:\\dir\\d.jpg", "d.jpg"),
    ("../", "fallback"), ("\u00e9t\u00e9.jpg", "\u00e9t\u00e9.jpg"),
])
def test_safe_name_mapping(label, name):
    assert safe_name(label, "fallback") == name


def test_an_unusable_fallback_is_made_safe_too():
    assert safe_name("..", "CON") == "CON_" and safe_name("", "../") == "_"


NAMES = st.text(st.characters(exclude_categories=()), max_size=300)


@settings(max_examples=500, deadline=None)
@given(NAMES, NAMES)
def test_safe_names_are_valid_everywhere_and_stable(label, fallback):
    name = safe_name(label, fallback)
    assert is_valid_filename(name, platform="universal"), name
    assert 0 < len(name.encode()) <= 255 and name not in (".", "..")
    assert name[0] not in ". " and name[-1] not in ". "
    assert not {unicodedata.category(c) for c in name} & {"Cc", "Cf", "Cs", "Zl", "Zp"}
    assert safe_name(name, fallback) == name  # a safe name is its own safe name


@settings(max_examples=300, deadline=None)
@given(NAMES, st.text(alphabet=string.hexdigits + "-", min_size=1, max_size=80))
def test_distinct_names_fit_and_stay_safe(label, uuid):
    name = safe_name(label, "x")
    marked = distinct_name(name, uuid)
    assert marked != name and is_valid_filename(marked, platform="universal")
    assert len(marked.encode()) <= 255 and marked == safe_name(marked, "x")
    extension = os.path.splitext(name)[1]
    if len(extension.encode()) <= 32:  # a longer "extension" is part of the name
        assert marked.endswith(extension)


def test_distinct_name_examples():
    assert distinct_name("x.jpg", "u1") == "x-u1.jpg"
    long = "a" * 251 + ".jpg"
    assert distinct_name(long, "u1") == "a" * 248 + "-u1.jpg"
    assert distinct_name("CON_.jpg", "../u") == "CON_-u.jpg"
