"""Globs of the filesystem that open only the day folders their date parts match.

fsspec's glob walks everything under the pattern's first magic part, so
``cam/prod/2025/09/1?/*-18*.jpg`` would list every day of September.  Here the
year, month and day parts are matched level by level against folder names
(which come without listing any element), and only the matching days are listed.
"""

from __future__ import annotations

import asyncio
import fnmatch
import re
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from intake_webcoos import paths
from intake_webcoos.paths import FILE_DEPTH

#: A glob character (fsspec's glob syntax: ``*``, ``?``, ``[...]``).
MAGIC = re.compile(r"[*?\[]")


async def day_folders(ls: Callable[..., Awaitable[list]], pattern: str) -> list[str] | None:
    """The day folders a file pattern ``asset/product/Y/M/D/file`` can match.

    ``ls`` is the filesystem's ``_ls``.  None for other patterns (``**``, magic in
    the camera or product, another depth, no magic at all): fsspec's glob reads them.
    """
    parts = pattern.split("/")
    if len(parts) != FILE_DEPTH or "**" in pattern or MAGIC.search(parts[0] + parts[1]) \
            or not MAGIC.search(pattern):
        return None
    folders = [paths.join(parts[0], parts[1])]
    for part in parts[2:FILE_DEPTH - 1]:
        children = await asyncio.gather(*(ls(f, detail=False) for f in folders),
                                        return_exceptions=True)
        # A folder that does not exist matches nothing, as in fsspec's glob.
        folders = [name for names in children if not isinstance(names, BaseException)
                   for name in names if fnmatch.fnmatchcase(name.rsplit("/", 1)[1], part)]
    return folders


def matching(pattern: str, entries: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The entries whose file name matches the pattern's last part, sorted by path."""
    last = pattern.rsplit("/", 1)[1]
    return sorted((e for e in entries if fnmatch.fnmatchcase(e["name"].rsplit("/", 1)[1], last)),
                  key=lambda e: e["name"])
