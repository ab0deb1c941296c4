"""Bulk downloads to a local tree: concurrent, resumable, atomic, safe names.

Layout: ``DEST/{asset}/{product}/YYYY/MM/DD/{file}`` (UTC dates), names made
safe by :func:`~intake_webcoos.paths.safe_name`.  Each file is streamed to a
hidden temporary name, ``.{file}.{run id}.part`` beside it, and renamed only
when complete and of the listed size, so an interrupted run (even SIGKILL)
leaves no file with a final name that is not whole.

Each run has a run id (8 hex digits) and holds an exclusive lock on
``DEST/.intake-webcoos/runs/{run id}.lock`` (:mod:`filelock`) from its start to
its end.  The operating system releases such a lock when its process dies,
however it dies, so a run can tell a live run's temporary files from a dead
one's: at its start it removes, in the ``asset/product`` folders it downloads
to, the temporary files whose run is dead (its lock is free, or it has no lock
file), and the lock files of dead runs.  Two runs can share a destination.

Ctrl-C or a cancelled coroutine stops every transfer of the run, removes their
temporary files and releases the lock before the call ends; a rerun skips the
files already complete.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import secrets
import time
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from filelock import FileLock, Timeout

from intake_webcoos.api.bridge import run
from intake_webcoos.api.client import AsyncClient
from intake_webcoos.errors import FolderLockError, WebcoosError
from intake_webcoos.paths import distinct_name, local_path, product_folder, safe_name

#: Where the runs' lock files are, under the destination.
RUNS = Path(".intake-webcoos", "runs")
_TEMPORARY = re.compile(r"^\..+\.(?P<run>[0-9a-f]{8})\.part$")
_LOCK = re.compile(r"^(?P<run>[0-9a-f]{8})\.lock$")
_Job = tuple[str, Path, int | None]


@dataclass
class DownloadReport:
    """What a download run did.

    Attributes
    ----------
    downloaded, downloaded_bytes : int
        Files written by this run, and their bytes.
    skipped, skipped_bytes : int
        Files already complete (of their listed size), left as they were.
    failed : list of (str, str)
        The URL and the reason of each file that failed.
    removed_temporary : int
        Temporary files of dead runs that this run's start removed.
    seconds : float
        How long the run took.
    why_empty : str
        Why there was nothing to download, when the selection was empty.
    """

    downloaded: int = 0
    downloaded_bytes: int = 0
    skipped: int = 0
    skipped_bytes: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    removed_temporary: int = 0
    seconds: float = 0.0
    why_empty: str = ""

    def summary(self) -> str:
        """A few lines for people: counts, sizes, the rate and up to ten failures."""
        mb = self.downloaded_bytes / 1e6
        rate = mb / self.seconds if self.seconds else 0.0
        lines = [f"downloaded {self.downloaded} files ({mb:.1f} MB) in {self.seconds:.1f} s "
                 f"({rate:.1f} MB/s); {self.skipped} already complete "
                 f"({self.skipped_bytes / 1e6:.1f} MB); {len(self.failed)} failed"]
        if self.why_empty:
            lines.append(f"nothing was selected: {self.why_empty}")
        if self.removed_temporary:
            lines.append(f"removed {self.removed_temporary} temporary files of an interrupted run")
        lines += [f"  failed: {url}: {why}" for url, why in self.failed[:10]]
        if len(self.failed) > 10:
            lines.append(f"  ... and {len(self.failed) - 10} more")
        return "\n".join(lines)


class _Progress:
    """An fsspec-style callback feeding a shared byte counter (a tqdm bar)."""

    def __init__(self, bar: Any) -> None:
        self.bar = bar
        self.counted = 0

    def set_size(self, size: int | None) -> None:
        pass

    def absolute_update(self, value: int) -> None:  # a retry starts over
        self.bar.update(value - self.counted)
        self.counted = value

    def relative_update(self, inc: int = 1) -> None:
        self.absolute_update(self.counted + inc)


def _lock(path: Path) -> FileLock:
    # Not thread-local: a run's lock may be taken and let go on different threads.
    return FileLock(path, thread_local=False)


class _RunLock:
    """A new run id, and the lock that shows its run is alive (a context manager)."""

    def __init__(self, root: Path) -> None:
        self.folder = root / RUNS
        self.held: FileLock | None = None

    def __enter__(self) -> str:
        self.folder.mkdir(parents=True, exist_ok=True)
        for _ in range(100):
            run_id = secrets.token_hex(4)
            path = self.folder / f"{run_id}.lock"
            if os.path.lexists(path):
                continue
            lock = _lock(path)
            try:
                lock.acquire(timeout=0)
            except Timeout:  # another run's sweep is trying the new file: it will remove it
                continue
            if os.path.exists(path):
                self.held = lock
                return run_id
            lock.release()  # a sweep removed the file between its creation and our lock
        raise FolderLockError(f"no run lock could be taken in {self.folder}: each new lock file "
                              "was taken by another process at once")

    def __exit__(self, *exc: object) -> None:
        if self.held is not None:
            self.held.release()
            with contextlib.suppress(OSError):
                os.unlink(self.held.lock_file)
            self.held = None


class _Sweep:
    """Which runs are dead, asked once per run id; dead runs' locks are held until closed."""

    def __init__(self, root: Path, run_id: str | None) -> None:
        self.runs = root / RUNS
        self.verdicts: dict[str, bool] = {} if run_id is None else {run_id: False}
        self.claimed: list[FileLock] = []

    def dead(self, owner: str) -> bool:
        """Whether the run ``owner`` is dead: its lock is free at once, or it has none."""
        if owner not in self.verdicts:
            self.verdicts[owner] = self._claim(self.runs / f"{owner}.lock")
        return self.verdicts[owner]

    def _claim(self, path: Path) -> bool:
        if not os.path.lexists(path):
            return True
        lock = _lock(path)
        try:
            lock.acquire(timeout=0)
        except (Timeout, OSError):  # held by a live run, or not ours to judge (a symlink...)
            return False
        self.claimed.append(lock)
        return True

    def close(self) -> None:
        """Remove the lock files of the dead runs (their files are gone), then let go."""
        for lock in self.claimed:
            with contextlib.suppress(OSError):
                os.unlink(lock.lock_file)
            lock.release()
        self.claimed.clear()


def remove_temporary(root: str | os.PathLike, folders: Iterable[str | os.PathLike], *,
                     run_id: str | None = None) -> int:
    """Remove the temporary files that dead runs left in ``folders``.

    A temporary file ``.{name}.{run id}.part`` is removed only if its run is
    dead: the lock ``root/.intake-webcoos/runs/{run id}.lock`` can be taken at
    once (a process that dies, even by SIGKILL, lets go of its locks) or does
    not exist.  Files of live runs, of ``run_id`` (the caller's own run) and
    everything outside ``folders`` are left alone.  Then the lock files of the
    dead runs (found in ``folders`` or in ``.intake-webcoos/runs``) are removed.

    Parameters
    ----------
    root : path
        The destination of the downloads (it holds ``.intake-webcoos/runs``).
    folders : iterable of path
        The folders to clean, with their subfolders: the ``asset/product``
        folders of a run.
    run_id : str, optional
        The caller's own run, never counted as dead.

    Returns
    -------
    int
        How many temporary files were removed.
    """
    sweep = _Sweep(Path(root), run_id)
    removed = 0
    try:
        for path, owner in _temporary_files(folders):
            if sweep.dead(owner):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)
                    removed += 1
        runs = sweep.runs
        for name in sorted(os.listdir(runs)) if runs.is_dir() else ():
            if found := _LOCK.match(name):  # dead runs without temporary files here
                sweep.dead(found["run"])
    finally:
        sweep.close()
    return removed


def _temporary_files(folders: Iterable[str | os.PathLike]) -> Iterator[tuple[str, str]]:
    """``(path, run id)`` of each download's temporary file in ``folders`` and below."""
    for folder in folders:
        for place, _, names in os.walk(folder):  # symbolic links to folders are not followed
            for name in names:
                if found := _TEMPORARY.match(name):
                    yield os.path.join(place, name), found["run"]


async def adownload(elements: pd.DataFrame, root: str | os.PathLike, *,
                    token: str | None = None, base_url: str | None = None,
                    progress: bool = True, **client_options: Any) -> DownloadReport:
    """Download the files of an elements frame under ``root`` (a coroutine).

    The same as :func:`download`, on the running event loop.

    Parameters
    ----------
    elements, root, token, base_url, progress, **client_options
        As for :func:`download`.

    Returns
    -------
    DownloadReport
        Counts, bytes and failures.

    Raises
    ------
    asyncio.CancelledError
        When cancelled: by then every transfer is stopped and its temporary file
        removed, the progress bars are closed and the run's lock is released.
    """
    root = Path(root)
    started = time.perf_counter()
    report = DownloadReport(why_empty=elements.attrs.get("why_empty", "") if elements.empty
                            else "")
    with _RunLock(root) as run_id:
        jobs = await asyncio.to_thread(_prepare, elements, root, run_id, report)
        client = AsyncClient(token, base_url, **client_options)
        try:
            await _transfer(client, jobs, run_id, report, progress)
        finally:
            await client.close()
    report.seconds = time.perf_counter() - started
    return report


def download(elements: pd.DataFrame, root: str | os.PathLike, *, token: str | None = None,
             base_url: str | None = None, progress: bool = True,
             **client_options: Any) -> DownloadReport:
    """Download the files of an elements frame under ``root``.

    Files go to ``root/{asset}/{product}/YYYY/MM/DD/`` under safe names; files
    already complete are skipped, and the temporary files of dead runs in those
    ``asset/product`` folders are removed first (see the module's notes).

    Parameters
    ----------
    elements : pandas.DataFrame
        An elements frame (``Client.elements``).
    root : path
        Destination folder (created if needed).
    token, base_url : str, optional
        Passed to the client (element files themselves need no token).
    progress : bool
        Show progress bars (files and bytes) on stderr.
    **client_options
        Client settings, e.g. ``file_concurrency``, ``retries``.

    Returns
    -------
    DownloadReport
        Counts, bytes and failures; files that failed are named with their reason.

    Raises
    ------
    KeyboardInterrupt
        On Ctrl-C, once every transfer is stopped and its temporary file removed.
    """
    return run(adownload, elements, root, token=token, base_url=base_url,
               progress=progress, **client_options)


def _prepare(elements: pd.DataFrame, root: Path, run_id: str,
             report: DownloadReport) -> list[_Job]:
    """Sweep the run's folders, plan its jobs and make their folders (blocking I/O)."""
    pairs = sorted(set(zip(elements.get("asset", ()), elements.get("product", ()),
                           strict=True)))
    report.removed_temporary = remove_temporary(
        root, [product_folder(root, asset, product) for asset, product in pairs],
        run_id=run_id)
    jobs = _plan(elements, root, report)
    for folder in sorted({path.parent for _, path, _ in jobs}):
        folder.mkdir(parents=True, exist_ok=True)
    return jobs


async def _transfer(client: AsyncClient, jobs: list[_Job], run_id: str,
                    report: DownloadReport, progress: bool) -> None:
    """Fetch ``jobs``, ``file_concurrency`` at a time; failures go to ``report``.

    A task group holds the workers: cancelling it (or an unexpected error in
    one worker) cancels every transfer, and waits until each has cleaned up.
    """
    from tqdm.auto import tqdm

    files = tqdm(total=len(jobs), unit="file", desc="files", disable=not progress)
    data = tqdm(total=sum(size or 0 for _, _, size in jobs), unit="B", unit_scale=True,
                desc="bytes", disable=not progress)
    queue = iter(jobs)  # shared by the workers: each job is taken once

    async def worker() -> None:
        for url, path, size in queue:
            try:
                written = await client.download(
                    url, path, size=size, callback=_Progress(data), tag=run_id)
            except (WebcoosError, OSError) as exc:
                report.failed.append((url, str(exc)))
            else:
                report.downloaded += 1
                report.downloaded_bytes += written
            files.update(1)

    try:
        async with asyncio.TaskGroup() as group:
            for _ in range(min(len(jobs), client.settings.file_concurrency)):
                group.create_task(worker())
    finally:
        files.close()
        data.close()


def _plan(elements: pd.DataFrame, root: Path, report: DownloadReport) -> list[_Job]:
    """``(url, path, size)`` of the files to fetch; complete ones are counted as skipped."""
    jobs = []
    taken: set[str] = set()
    for row in elements.itertuples(index=False):
        path = _distinct(local_path(root, row.asset, row.product, row.time, row.filename,
                                    row.uuid), row.uuid, taken)
        size = None if pd.isna(row.size) else int(row.size)
        if size is not None and path.is_file() and path.stat().st_size == size:
            report.skipped += 1
            report.skipped_bytes += size
            continue
        jobs.append((row.url, path, size))
    return jobs


def _distinct(path: Path, uuid: str, taken: set[str]) -> Path:
    """``path``, or, if an earlier element has it, its name marked with ``uuid``.

    Names are compared as a case-insensitive file system would (Unicode NFC,
    case folded), so two labels made safe to one name keep both files everywhere.
    """
    def key(candidate: Path) -> str:
        return unicodedata.normalize("NFC", str(candidate)).casefold()

    candidate, n = path, 1
    while key(candidate) in taken:
        n += 1
        tag = safe_name(str(uuid), "element") + ("" if n == 2 else f"-{n}")
        candidate = path.with_name(distinct_name(path.name, tag))
    taken.add(key(candidate))
    return candidate
