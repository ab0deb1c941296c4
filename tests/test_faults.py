"""The fault matrix: every consumer under every fault, on the API origin, the file origin, both.

Each survivable scenario (a fault at a rate that retries outlast) must give
exactly the fault-free result: the listing frame equal, files and frames
byte-identical to the stand-in's.  Each fatal one (every request failing) must
raise a typed error naming the URL that failed, with nothing short left behind.
The table of outcomes is printed at the end of the pytest run (``-- fault matrix --``).
A download killed twice while faults break its transfers completes on the third run.
"""

from __future__ import annotations

import hashlib
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from intake_webcoos import Client, open_images
from intake_webcoos.cli.download import download
from intake_webcoos.cli.main import main
from intake_webcoos.errors import IncompleteListingError, ServerError, TruncatedDownloadError
from intake_webcoos.fs.filesystem import WebcoosFileSystem
from intake_webcoos.server import Faults

from .helpers import (
    CAMERA,
    HOUR,
    MINUTES,
    STILLS,
    TOKEN,
    Section,
    cli_env,
    client_defaults,
    console_script,
    kill_after_file_requests,
    label_of,
    section,
    url_of,
)

TIMEOUT, SLOW = 0.25, 4.0  # a slow body sends a piece every SLOW/10 s > TIMEOUT: it times out
# 16 attempts: a request fails for good at a 30 % rate with probability 0.3**16 ~ 4e-9.
PATIENT = {"retries": 16, "backoff": 0.01, "max_backoff": 0.05, "timeout": TIMEOUT,
           "inventory_timeout": TIMEOUT, "page_size": 10}
IMPATIENT = {**PATIENT, "retries": 2}
TYPED = (ServerError, TruncatedDownloadError, IncompleteListingError)

SURVIVABLE = {
    "5xx 10%": Faults(error_rate=0.1, seed=31),
    "5xx 30%": Faults(error_rate=0.3, seed=32),
    # Retry-After of 1 s is capped by max_backoff (0.05 s): CI never sleeps a second.
    "429 30% Retry-After 1": Faults(throttle_rate=0.3, retry_after="1", seed=33),
    "drop 30%": Faults(drop_rate=0.3, seed=34),
    "truncate 30%": Faults(truncate_rate=0.3, seed=35),
    "slow past timeout 30%": Faults(slow_rate=0.3, slow_seconds=SLOW, seed=36),
    "all together (30%)": Faults(error_rate=0.1, throttle_rate=0.05, retry_after="1",
                                 drop_rate=0.05, truncate_rate=0.05, slow_rate=0.05,
                                 slow_seconds=SLOW, seed=37),
}
FATAL = {
    "5xx 100%": Faults(error_rate=1.0, error_statuses=(503,)),
    "drop 100%": Faults(drop_rate=1.0),
    "truncate 100%": Faults(truncate_rate=1.0),
    "slow past timeout 100%": Faults(slow_rate=1.0, slow_seconds=SLOW),
}
CONSUMERS = ("listing", "fs.get", "intake-webcoos download", "open_images().compute()")


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# -- the table --------------------------------------------------------------------------
@dataclass
class Row:
    scenario: str
    origin: str
    outcomes: dict[str, str] = field(default_factory=dict)
    files: int = 0
    file_bytes: int = 0
    frames: int = 0
    injected: int = 0


class MatrixReport:
    """The rows so far, printed as a Markdown table in the terminal summary."""

    def __init__(self, out: Section) -> None:
        self.rows: list[Row] = []
        self.out = out

    def add(self, row: Row) -> None:
        self.rows.append(row)
        head = ["scenario", "origin", *CONSUMERS, "files checked", "bytes checked",
                "frames checked", "faults injected"]
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for r in self.rows:
            cells = [r.scenario, r.origin, *(r.outcomes.get(c, "") for c in CONSUMERS),
                     str(r.files), f"{r.file_bytes:,}", str(r.frames), str(r.injected)]
            lines.append("| " + " | ".join(cells) + " |")
        self.out.lines[:] = lines


@pytest.fixture(scope="module")
def matrix(request: pytest.FixtureRequest) -> MatrixReport:
    return MatrixReport(section(request, "fault matrix"))


# -- fault-free truth and the consumers --------------------------------------------------
@dataclass
class Truth:
    frame: pd.DataFrame
    cube: np.ndarray
    digests: dict[str, str]  # file name -> sha256
    urls: dict[str, str]  # file name -> url


@pytest.fixture(scope="module")
def truths(standin) -> dict[tuple[str, str], Truth]:
    out = {}
    for span in (HOUR, MINUTES):
        frame = Client(TOKEN, standin.api_url).elements(CAMERA, STILLS, *span)
        cube = open_images(CAMERA, STILLS, *span, token=TOKEN,
                           base_url=standin.api_url)["image"].values
        out[span] = Truth(frame, cube,
                          {n: digest(standin.file_bytes(u))
                           for n, u in zip(frame["filename"], frame["url"], strict=True)},
                          dict(zip(frame["filename"], frame["url"], strict=True)))
    return out


def check_folder(folder: Path, truth: Truth, complete: bool) -> tuple[int, int]:
    """Every file in ``folder`` is whole and named as listed; with ``complete``, all are there.

    Returns the files and bytes checked.
    """
    files = [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []
    names = [p.name for p in files]
    assert set(names) <= set(truth.digests), names  # no temporary or stray file
    if complete:
        assert sorted(names) == sorted(truth.digests)
    total = 0
    for path in files:
        data = path.read_bytes()
        assert digest(data) == truth.digests[path.name], f"{path.name} is not the served file"
        total += len(data)
    return len(files), total


class CommandFailed(Exception):
    """The download command exited 1, naming what failed in one line per failure."""


def names_what_failed(text: str, standin, truth: Truth) -> bool:
    """A message names the API route that failed (``assets/``, ``elements/``) or a file."""
    return f"{standin.api_url}/" in text or any(u in text for u in truth.urls.values())


def run_consumers(standin, truth: Truth, span: tuple[str, str], options: dict[str, Any],
                  folder: Path, row: Row, origin: str) -> dict[str, BaseException | None]:
    """Each consumer once; records outcomes in ``row``; returns each one's error (or None)."""
    errors: dict[str, BaseException | None] = {}

    def attempt(name: str, call) -> None:
        try:
            call()
        except (*TYPED, CommandFailed) as exc:
            assert names_what_failed(str(exc), standin, truth), str(exc)
            errors[name] = exc
            row.outcomes[name] = ("exit 1, failures named" if isinstance(exc, CommandFailed)
                                  else f"raised {type(exc).__name__}")
        else:
            errors[name] = None
            row.outcomes[name] = "identical"

    if origin != "files":  # the listing never touches the file origin
        def listing() -> None:
            got = Client(TOKEN, standin.api_url, **options).elements(CAMERA, STILLS, *span)
            pd.testing.assert_frame_equal(got, truth.frame)  # never silently short
        attempt("listing", listing)
    else:
        row.outcomes["listing"] = "n/a (no file request)"

    def fs_get() -> None:
        fs = WebcoosFileSystem(token=TOKEN, base_url=standin.api_url, skip_instance_cache=True,
                               **options)
        paths = [p.removeprefix("webcoos://") for p in truth.frame["path"]]
        try:
            fs.get(paths, str(folder / "get") + "/")
        finally:  # whatever happened, nothing short is left
            files, size = check_folder(folder / "get", truth, complete=False)
            row.files, row.file_bytes = row.files + files, row.file_bytes + size
        check_folder(folder / "get", truth, complete=True)
    attempt("fs.get", fs_get)

    def command() -> None:
        with client_defaults(options):
            result = CliRunner().invoke(main, [
                "download", CAMERA, STILLS, "--start", span[0], "--end", span[1],
                "--concurrency", "16", "--quiet", str(folder / "cli")])
        files, size = check_folder(folder / "cli", truth, complete=False)
        row.files, row.file_bytes = row.files + files, row.file_bytes + size
        if result.exit_code == 0:
            assert f"downloaded {len(truth.frame)} files" in result.output, result.output
            assert "0 failed" in result.output
            check_folder(folder / "cli", truth, complete=True)
            return
        # Each failed file is named with its reason; a failed listing is one line.
        assert result.exit_code == 1 and "Traceback" not in result.output, result.output
        assert "failed after" in result.output, result.output
        raise CommandFailed(result.output)
    attempt("intake-webcoos download", command)

    def cube() -> None:
        values = open_images(CAMERA, STILLS, *span, token=TOKEN, base_url=standin.api_url,
                             **options)["image"].values
        np.testing.assert_array_equal(values, truth.cube)  # every frame, in its place
        row.frames += len(values)
    attempt("open_images().compute()", cube)
    return errors


def run_row(standin, matrix: MatrixReport, truth: Truth, span: tuple[str, str],
            options: dict[str, Any], folder: Path, origin: str, scenario: str,
            faults: Faults) -> tuple[Row, dict[str, BaseException | None], dict[str, int]]:
    """The consumers under ``faults`` on ``origin`` ("api", "files" or "both"): one row.

    Returns the row, each consumer's error (or None) and the faults injected per origin.
    """
    row = Row(scenario, origin)
    hit = ("api", "files") if origin == "both" else (origin,)
    with standin.faults(**dict.fromkeys(hit, faults)):
        errors = run_consumers(standin, truth, span, options, folder, row, origin)
        injected = {o: sum(standin.fault_counts(o).values()) for o in hit}
    row.injected = sum(injected.values())
    matrix.add(row)
    return row, errors, injected


@pytest.mark.parametrize("origin", ["api", "files", "both"])
@pytest.mark.parametrize("scenario", list(SURVIVABLE))
def test_survivable_faults_give_exactly_the_fault_free_result(
        standin, truths, matrix, api_env, tmp_path, origin, scenario):
    truth = truths[HOUR]
    row, errors, injected = run_row(standin, matrix, truth, HOUR, PATIENT, tmp_path, origin,
                                    scenario, SURVIVABLE[scenario])
    # The faults were met (on both origins, the files see hundreds of requests; the
    # API only a few, its listings shared and cached, so a 10 % rate may miss it).
    assert injected.get("files", row.injected) > 0
    assert {k: v for k, v in errors.items() if v is not None} == {}  # 16 attempts suffice
    assert row.frames == len(truth.frame)
    assert row.files == 2 * len(truth.frame)


@pytest.mark.parametrize("origin", ["api", "files"])
@pytest.mark.parametrize("scenario", list(FATAL))
def test_persistent_faults_raise_typed_errors_and_leave_nothing_short(
        standin, truths, matrix, api_env, tmp_path, origin, scenario):
    row, errors, _ = run_row(standin, matrix, truths[MINUTES], MINUTES, IMPATIENT, tmp_path,
                             origin, scenario, FATAL[scenario])
    for name, error in errors.items():
        assert error is not None, f"{name} did not fail: {row.outcomes[name]}"
    # Nothing at all arrives when every transfer breaks (partial files never get a name).
    assert row.files == 0 and row.frames == 0
    assert not any(p.is_file() for p in tmp_path.rglob("*"))


def test_persistent_file_failures_raise_naming_the_file_and_leave_nothing(standin, truths,
                                                                          tmp_path):
    truth = truths[MINUTES]
    fs = WebcoosFileSystem(token=TOKEN, base_url=standin.api_url, skip_instance_cache=True,
                           **IMPATIENT)
    paths = [p.removeprefix("webcoos://") for p in truth.frame["path"]]
    fs.ls(paths[0].rsplit("/", 1)[0])
    cube = open_images(CAMERA, STILLS, *MINUTES, token=TOKEN, base_url=standin.api_url,
                       coerce_shape=(180, 320), **IMPATIENT)
    with standin.faults(files=Faults(error_rate=1.0, error_statuses=(503,))):
        with pytest.raises(ServerError, match="503") as info:
            fs.get(paths, str(tmp_path / "get") + "/")
        assert info.value.url in set(truth.frame["url"])
        report = download(truth.frame, tmp_path / "cli", token=TOKEN, base_url=standin.api_url,
                          progress=False, **IMPATIENT)
        assert len(report.failed) == len(truth.frame) and report.downloaded == 0
        with pytest.raises(ServerError) as info:
            cube["image"].isel(time=0).compute()
        assert info.value.url == truth.frame["url"].iloc[0]
    assert [p for p in tmp_path.rglob("*") if not p.is_dir()] == []


def test_a_server_error_keeps_the_network_failure_behind_it(standin):
    """Dropped connections: the aiohttp error is the cause; a 5xx answer has none to give."""
    import aiohttp

    client = Client(TOKEN, standin.api_url, cache=False, **IMPATIENT)
    with standin.faults(api=Faults(drop_rate=1.0)), pytest.raises(ServerError) as dropped:
        client.cameras()
    assert dropped.value.status is None and dropped.value.attempts == IMPATIENT["retries"]
    assert isinstance(dropped.value.__cause__, aiohttp.ClientConnectionError)
    assert type(dropped.value.__cause__).__name__ in str(dropped.value)
    with standin.faults(api=Faults(error_rate=1.0, error_statuses=(503,))), \
            pytest.raises(ServerError, match="HTTP 503") as refused:
        client.cameras(refresh=True)
    assert refused.value.__cause__ is None


# -- SIGKILL in the middle, under faults, twice -------------------------------------------
def test_download_killed_twice_under_faults_then_completes(standin, tmp_path):
    """Killed twice while files trickle in through faults; the third run completes.

    Differs from ``test_cli.test_download_killed_and_resumed``: transfers also
    fail and break (5xx, truncation) and the kill lands while temporary files
    exist, so the rerun has to remove them.
    """
    command = [console_script(), "download", CAMERA, STILLS, "--start", HOUR[0], "--end",
               HOUR[1], "--concurrency", "4", "--quiet", str(tmp_path)]
    truth = {label_of(e): url_of(e) for e in standin.elements(CAMERA, STILLS, *HOUR)}
    hostile = Faults(latency=0.02, error_rate=0.1, truncate_rate=0.1, slow_rate=0.3,
                     slow_seconds=1.0, seed=41)

    def finals() -> list[Path]:
        return [p for p in tmp_path.rglob("*.jpg") if p.is_file()]

    def parts() -> list[Path]:
        return [p for p in tmp_path.rglob("*.part") if p.is_file()]

    left_over = 0
    with standin.faults(files=hostile):
        for requests in (12, 24):  # each run, killed at a file request while parts exist
            kill_after_file_requests(standin, command, requests, until=lambda: bool(parts()))
            left_over = len(parts())
            for path in finals():  # whatever has its final name is whole
                assert path.read_bytes() == standin.file_bytes(truth[path.name]), path
    assert left_over > 0  # the last kill left temporary files for the rerun to remove
    complete_before = len(finals())
    assert 0 < complete_before < len(truth)
    with standin.faults(files=Faults(error_rate=0.05, truncate_rate=0.05, seed=42)):
        rerun = subprocess.run(command, env=cli_env(standin), capture_output=True, text=True,
                               timeout=120)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert f"{complete_before} already complete" in rerun.stdout
    assert f"removed {left_over} temporary files" in rerun.stdout
    files = sorted(p for p in tmp_path.rglob("*") if p.is_file())
    assert [p.name for p in files] == sorted(truth)  # all there, no temporary file
    for path in files:
        assert path.read_bytes() == standin.file_bytes(truth[path.name])
