"""The one home of the archive's path layout, remote and local.

Remote: ``webcoos://{asset}/{product}/{YYYY}/{MM}/{DD}/{filename}``, dates in UTC.
Local (downloads): ``DEST/{asset}/{product}/YYYY/MM/DD/{safe filename}``.

Every module that names or reads such a path goes through here, so the layout is
written once.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .errors import PathNotFoundError

PROTOCOL = "webcoos"
PREFIX = f"{PROTOCOL}://"
#: Components of a file path: asset / product / year / month / day / filename.
FILE_DEPTH = 6
_DATE_WIDTHS = (4, 2, 2)
_DATE_FORMATS = ("%Y", "%Y/%m", "%Y/%m/%d")


def strip_protocol(path: str) -> str:
    """``path`` without ``webcoos://`` (or ``webcoos::``) and without outer slashes."""
    path = str(path)
    for prefix in (PREFIX, f"{PROTOCOL}::"):
        if path.startswith(prefix):
            path = path[len(prefix):]
            break
    return path.strip("/")


def is_archive_url(value: object) -> bool:
    """Whether ``value`` is a string naming a ``webcoos://`` path."""
    return isinstance(value, str) and value.startswith(PREFIX)


@dataclass(frozen=True)
class ArchivePath:
    """A parsed ``webcoos://`` path: each level that is present, the rest None or empty.

    Attributes
    ----------
    asset, product : str or None
        Camera and product slugs.
    date : tuple of int
        ``(year,)``, ``(year, month)`` or ``(year, month, day)`` of a date folder (UTC).
    filename : str or None
        The element's file name.
    """

    asset: str | None = None
    product: str | None = None
    date: tuple[int, ...] = ()
    filename: str | None = None

    @property
    def depth(self) -> int:
        """How many components the path has (0 for the root, 6 for a file)."""
        return sum(x is not None for x in (self.asset, self.product, self.filename)) \
            + len(self.date)

    @property
    def is_file(self) -> bool:
        return self.filename is not None

    def __str__(self) -> str:
        date = [f"{n:0{w}d}" for n, w in zip(self.date, _DATE_WIDTHS, strict=False)]
        parts = [self.asset, self.product, *date, self.filename]
        return "/".join(p for p in parts if p is not None)

    @property
    def folder(self) -> str:
        """The path of the folder holding this one (``""`` at the top)."""
        return str(self).rpartition("/")[0]

    def period(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        """``[start, end)`` in UTC of a date folder's year, month or day."""
        if not self.date:
            raise ValueError(f"{self} is not a date folder")
        year, month, day = (*self.date, 1, 1)[:3]
        start = pd.Timestamp(year, month, day, tz="UTC")
        step = (pd.DateOffset(years=1), pd.DateOffset(months=1), pd.DateOffset(days=1))
        return start, start + step[len(self.date) - 1]


def _date(parts: Sequence[str], path: str) -> tuple[int, ...]:
    if any(len(p) != w or not p.isdigit() for p, w in zip(parts, _DATE_WIDTHS, strict=False)):
        raise PathNotFoundError(f"{PREFIX}{path} does not exist: not a date folder "
                                "(YYYY/MM/DD, UTC).")
    numbers = tuple(int(p) for p in parts)
    if not numbers:
        return ()
    try:
        dt.date(*(*numbers, 1, 1)[:3])
    except ValueError:
        raise PathNotFoundError(f"{PREFIX}{path} does not exist: not a date (no such day "
                                "in the calendar).") from None
    return numbers


def parse(path: str) -> ArchivePath:
    """Read a ``webcoos://`` path (with or without the protocol).

    Raises
    ------
    PathNotFoundError
        The path is deeper than a file, or its date components are not a date.
    """
    path = strip_protocol(path)
    parts = path.split("/") if path else []
    if len(parts) > FILE_DEPTH or any(not p for p in parts):
        raise PathNotFoundError(f"{PREFIX}{path} does not exist: the layout is "
                                "camera/product/YYYY/MM/DD/file.")
    asset, product = [*parts, None, None][:2]
    return ArchivePath(asset, product, _date(parts[2:5], path),
                       parts[5] if len(parts) == FILE_DEPTH else None)


def folder_key(time: pd.Timestamp | pd.Series, depth: int) -> str | pd.Series:
    """``YYYY``, ``YYYY/MM`` or ``YYYY/MM/DD`` (``depth`` 1 to 3) of UTC times."""
    if isinstance(time, pd.Series):
        return time.dt.strftime(_DATE_FORMATS[depth - 1])
    return time.strftime(_DATE_FORMATS[depth - 1])


def join(*parts: str) -> str:
    """Path components joined into one archive path (``asset/product/2025/09``)."""
    return "/".join(parts)


def day_folder(asset: str, product: str, day: dt.date | pd.Timestamp) -> str:
    """``{asset}/{product}/YYYY/MM/DD`` of a UTC day."""
    return join(asset, product, f"{day.year:04d}", f"{day.month:02d}", f"{day.day:02d}")


def file_path(asset: str, product: str, time: dt.date | pd.Timestamp, filename: str) -> str:
    """``{asset}/{product}/YYYY/MM/DD/{filename}`` of an element starting at ``time`` (UTC)."""
    return join(day_folder(asset, product, time), filename)


def archive_url(path: str) -> str:
    """``webcoos://`` + ``path``."""
    return PREFIX + strip_protocol(path)


_UNSAFE = re.compile(r'[\x00-\x1f<>:"/\\|?*]')


def safe_name(label: str, fallback: str) -> str:
    """A file name that cannot leave its folder and works on every OS.

    Path separators, ``..``, colons (Windows reserves them; WebCOOS uses them in
    some names), control characters and leading dots are replaced; an empty
    result becomes ``fallback``.
    """
    name = label.replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("-", name).strip(" .")
    return name or fallback


def local_path(root: Path, asset: str, product: str, time: pd.Timestamp, label: str,
               uuid: str) -> Path:
    """Where an element goes under ``root``: ``root/asset/product/YYYY/MM/DD/name``.

    Raises
    ------
    ValueError
        The name would leave ``root`` (never for names made by :func:`safe_name`).
    """
    folder = root.joinpath(safe_name(asset, "asset"), safe_name(product, "product"),
                           f"{time.year:04d}", f"{time.month:02d}", f"{time.day:02d}")
    extension = os.path.splitext(label)[1]
    fallback = uuid + (extension if re.fullmatch(r"\.\w{1,5}", extension) else "")
    path = folder / safe_name(label, fallback)
    if root.resolve() not in path.resolve().parents:
        raise ValueError(f"element name {label!r} would leave {root}")
    return path
