"""The archive's path layout (paths.py): ``webcoos://`` paths and local download paths.

Built paths parse back to their parts; paths that are not in the layout (bad
dates, too deep, empty parts) raise ``PathNotFoundError``, a ``FileNotFoundError``;
local paths made from any label stay inside their root.
"""

from __future__ import annotations

import datetime as dt
import string
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from intake_webcoos.errors import PathNotFoundError
from intake_webcoos.paths import (
    ArchivePath,
    archive_url,
    day_folder,
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
    with pytest.raises(ValueError):
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
