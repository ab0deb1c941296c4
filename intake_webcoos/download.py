"""Bulk downloads to a local tree: concurrent, resumable, atomic, safe names.

Layout: ``DEST/{asset}/{product}/YYYY/MM/DD/{file}`` (UTC dates).  Each file is
streamed to a hidden temporary name and renamed only when complete and of the
listed size, so an interrupted run (even SIGKILL) leaves no file with a final
name that is not whole; a rerun removes leftover temporary files and skips
files already complete.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .api.client import AsyncClient
from .api.sync import run
from .errors import WebcoosError
from .paths import local_path, safe_name

_TEMPORARY = re.compile(r"^\..+\.[0-9a-f]{8}\.part$")


@dataclass
class DownloadReport:
    """What a download run did."""

    downloaded: int = 0
    downloaded_bytes: int = 0
    skipped: int = 0
    skipped_bytes: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    removed_temporary: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        mb = self.downloaded_bytes / 1e6
        rate = mb / self.seconds if self.seconds else 0.0
        lines = [f"downloaded {self.downloaded} files ({mb:.1f} MB) in {self.seconds:.1f} s "
                 f"({rate:.1f} MB/s); {self.skipped} already complete "
                 f"({self.skipped_bytes / 1e6:.1f} MB); {len(self.failed)} failed"]
        if self.removed_temporary:
            lines.append(f"removed {self.removed_temporary} temporary files of an interrupted run")
        lines += [f"  failed: {url}: {why}" for url, why in self.failed[:10]]
        if len(self.failed) > 10:
            lines.append(f"  ... and {len(self.failed) - 10} more")
        return "\n".join(lines)


class _Progress:
    """An fsspec-style callback feeding a shared byte counter (tqdm bar or None)."""

    def __init__(self, bar: Any) -> None:
        self.bar = bar
        self.counted = 0

    def set_size(self, size: int | None) -> None:
        pass

    def absolute_update(self, value: int) -> None:  # a retry starts over
        if self.bar is not None:
            self.bar.update(value - self.counted)
        self.counted = value

    def relative_update(self, inc: int = 1) -> None:
        self.absolute_update(self.counted + inc)


def remove_temporary(root: Path) -> int:
    """Delete temporary files left by an interrupted run; returns how many."""
    removed = 0
    if root.exists():
        for path in root.rglob(".*.part"):
            if _TEMPORARY.match(path.name):
                path.unlink(missing_ok=True)
                removed += 1
    return removed


def download(elements: pd.DataFrame, root: str | os.PathLike, *, token: str | None = None,
             base_url: str | None = None, progress: bool = True,
             **client_options: Any) -> DownloadReport:
    """Download the files of an elements frame under ``root``.

    Parameters
    ----------
    elements : pandas.DataFrame
        An elements frame (``Client.elements``).
    root : path
        Destination folder (created if needed).
    progress : bool
        Show progress bars (files and bytes) on stderr.
    **client_options
        Client settings, e.g. ``file_concurrency``, ``retries``.

    Returns
    -------
    DownloadReport
        Counts, bytes and failures; files that failed are named with their reason.
    """
    from tqdm.auto import tqdm

    root = Path(root)
    report = DownloadReport(removed_temporary=remove_temporary(root))
    jobs = _plan(elements, root, report)
    files_bar = tqdm(total=len(jobs), unit="file", desc="files", disable=not progress)
    bytes_bar = tqdm(total=sum(size or 0 for _, _, size in jobs), unit="B", unit_scale=True,
                     desc="bytes", disable=not progress)
    client = AsyncClient(token, base_url, **client_options)

    async def one(url: str, path: Path, size: int | None) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            written = await client.transport.download(url, path, size=size,
                                                      callback=_Progress(bytes_bar))
        except (WebcoosError, OSError) as exc:
            report.failed.append((url, str(exc)))
        else:
            report.downloaded += 1
            report.downloaded_bytes += written
        files_bar.update(1)

    async def everything() -> None:
        try:
            await asyncio.gather(*(one(*job) for job in jobs))
        finally:
            await client.close()

    started = time.perf_counter()
    try:
        run(everything)
    finally:
        files_bar.close()
        bytes_bar.close()
    report.seconds = time.perf_counter() - started
    return report


def _plan(elements: pd.DataFrame, root: Path, report: DownloadReport
          ) -> list[tuple[str, Path, int | None]]:
    """``(url, path, size)`` of the files to fetch; complete ones are counted as skipped."""
    jobs = []
    taken: set[Path] = set()
    for row in elements.itertuples(index=False):
        path = local_path(root, row.asset, row.product, row.time, row.filename, row.uuid)
        if path in taken:  # two labels made safe to one name: keep both files
            stem, extension = os.path.splitext(path.name)
            path = path.with_name(f"{stem}-{safe_name(row.uuid, 'element')}{extension}")
        taken.add(path)
        size = None if pd.isna(row.size) else int(row.size)
        if size is not None and path.is_file() and path.stat().st_size == size:
            report.skipped += 1
            report.skipped_bytes += size
            continue
        jobs.append((row.url, path, size))
    return jobs
