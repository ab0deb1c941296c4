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
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from pathvalidate import sanitize_filename

from intake_webcoos.errors import InvalidArgumentError, PathNotFoundError, ResponseFormatError

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
            raise InvalidArgumentError(f"{self} is not a date folder")
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


#: The most bytes (UTF-8) a file name may have on the common file systems.
NAME_BYTES = 255
#: What pathvalidate leaves alone and we replace: control characters beyond ASCII (C1;
#: it replaces the ASCII ones), format characters (bidi overrides such as U+202E,
#: zero-width characters, U+FEFF), lone surrogates (no file system can store them) and
#: the line and paragraph separators.
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def _cut(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` UTF-8 bytes, on a character boundary."""
    return text.encode()[:max(limit, 0)].decode("utf-8", errors="ignore")


def _clean(label: str) -> str:
    """One pass of :func:`safe_name` (``""`` when nothing is left)."""
    name = label.replace("\\", "/").rsplit("/", 1)[-1]
    # Hand-written: sanitize_filename keeps these characters (see _HIDDEN_CATEGORIES).
    name = "".join("-" if unicodedata.category(c) in _HIDDEN_CATEGORIES else c for c in name)
    name = sanitize_filename(name.strip(" ."), replacement_text="-", platform="universal",
                             max_len=NAME_BYTES)
    # Hand-written too: Windows also reads "CON .jpg" as the device (spaces before the dot).
    word, dot, rest = name.partition(".")
    core = word.rstrip(" ")
    if core != word and sanitize_filename(core, platform="universal") != core:
        name = f"{core}_{word[len(core):]}{dot}{rest}"
    # A reserved name gains "_" after the cut, so cut again; strip what a cut uncovers.
    return _cut(name, NAME_BYTES).strip(" .")


def safe_name(label: str, fallback: str) -> str:
    """A file name that cannot leave its folder and works on every OS.

    The mapping, in this order:

    1. Only the last component is kept: the text after the last ``/`` or ``\\``
       (``../../etc/passwd`` becomes ``passwd``, ``C:\\x\\y.jpg`` becomes ``y.jpg``).
    2. Control characters (Unicode category Cc), format characters (Cf: bidi
       controls such as U+202E RIGHT-TO-LEFT OVERRIDE, zero-width characters,
       U+FEFF), line and paragraph separators (Zl, Zp) and lone surrogates (Cs)
       become ``-``.
    3. Dots and spaces at either end are removed: no hidden file, never ``.``
       or ``..``, nothing that Windows would trim (``.hidden`` becomes ``hidden``).
    4. :func:`pathvalidate.sanitize_filename` with ``platform="universal"``: each
       character that Windows forbids, ``< > : " / \\ | ? *`` (colons included:
       WebCOOS uses them in some names), becomes ``-`` (``a:b.jpg`` becomes
       ``a-b.jpg``); a name that Windows reserves (``CON``, ``PRN``, ``AUX``,
       ``NUL``, ``CLOCK$``, ``COM0`` to ``COM9``, ``LPT0`` to ``LPT9`` and
       ``COM¹``... ``LPT³``, in any case, with or without an extension) gets ``_``
       after the reserved word: ``CON.jpg`` becomes ``CON_.jpg``, ``nul.jpg``
       ``nul_.jpg``, ``COM1`` ``COM1_``; also when spaces stand between the word
       and its extension, which Windows reads as the device too (``CON .jpg``
       becomes ``CON_ .jpg``: ours, pathvalidate leaves it).
    5. The name is cut to 255 bytes (UTF-8, on a character boundary), and dots
       and spaces left at either end are removed again.
    6. An empty result becomes ``fallback``, made safe the same way (``_`` if
       that is empty too).

    Two labels can map to one name (``a:b.jpg`` and ``a-b.jpg``); the download
    keeps both files, the second with :func:`distinct_name`.
    """
    return _clean(label) or _clean(fallback) or "_"


def distinct_name(name: str, tag: str) -> str:
    """``name`` with ``-{tag}`` before its extension, within 255 bytes.

    ``name`` is a safe name (:func:`safe_name`) that another file already has;
    ``tag`` (an element's uuid) tells them apart.  The stem is cut if needed, so
    the result is a safe name too: ``x.jpg`` and ``u1`` give ``x-u1.jpg``.
    """
    stem, extension = os.path.splitext(name)
    if len(extension.encode()) > 32:  # not an extension: part of the name
        stem, extension = name, ""
    suffix = f"-{safe_name(_cut(tag, 64), '_')}{extension}"
    return _cut(stem, NAME_BYTES - len(suffix.encode())).rstrip(" .") + suffix


def product_folder(root: Path, asset: str, product: str) -> Path:
    """``root/asset/product``: where the files of one camera's product go."""
    return root.joinpath(safe_name(asset, "asset"), safe_name(product, "product"))


def local_path(root: Path, asset: str, product: str, time: pd.Timestamp, label: str,
               uuid: str) -> Path:
    """Where an element goes under ``root``: ``root/asset/product/YYYY/MM/DD/name``.

    The name is :func:`safe_name` of the label; without one, the uuid (and the
    label's extension).

    Raises
    ------
    ResponseFormatError
        The name would leave ``root`` (never for names made by :func:`safe_name`).
    """
    folder = product_folder(root, asset, product).joinpath(
        f"{time.year:04d}", f"{time.month:02d}", f"{time.day:02d}")
    extension = os.path.splitext(label)[1]
    fallback = uuid + (extension if re.fullmatch(r"\.\w{1,5}", extension) else "")
    path = folder / safe_name(label, fallback)
    if root.resolve() not in path.resolve().parents:
        raise ResponseFormatError(f"element name {label!r} would leave {root}")
    return path
