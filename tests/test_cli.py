"""The intake-webcoos command line (cli/main.py), against the stand-in.

Bad selections at the command line are in ``test_bad_input.py``, tokens in
``test_token.py``.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess

import intake
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from PIL import Image

from intake_webcoos.api.sync import Client
from intake_webcoos.cli.download import RUNS
from intake_webcoos.cli.main import cli_message, main
from intake_webcoos.errors import InvalidTokenError, MissingTokenError
from intake_webcoos.server import Faults
from intake_webcoos.world.geometry import CameraGeometry

from .helpers import (
    INTERRUPTING,
    QUICK,
    QUIET_AFTER,
    TOKEN,
    assert_stopped_cleanly,
    cli_env,
    client_defaults,
    console_script,
    fresh_python,
    kill_after_file_requests,
    label_of,
    signal_after_file_requests,
    temporary_files,
    url_of,
)

HOUR = ["--start", "2025-09-10T18:00:00Z", "--end", "2025-09-10T18:59:59Z"]


@pytest.fixture
def run(api_env):
    def invoke(*args: str, code: int = 0):
        result = CliRunner().invoke(main, list(args), catch_exceptions=False)
        assert result.exit_code == code, result.output
        return result

    return invoke


def test_cameras(run, standin):
    table = run("cameras").output
    assert "waikiki_sheraton" in table and "US/Hawaii" in table and "PACIOOS" in table
    rows = json.loads(run("cameras", "--format", "json").output)
    assert [r["slug"] for r in rows] == list(Client(TOKEN, standin.api_url).cameras()["slug"])
    waikiki = next(r for r in rows if r["slug"] == "waikiki_sheraton")
    assert waikiki["products"] == "one-minute-stills,video-archive"
    assert waikiki["disposition"] == "up" and waikiki["latitude"] == 21.276763
    assert (waikiki["state"], waikiki["region"]) == ("HI", "PACIOOS")
    assert pd.Timestamp(waikiki["first"]) == pd.Timestamp("2025-09-03T00:00:05Z")
    csv = pd.read_csv(io.StringIO(run("cameras", "--format", "csv", "--search", "hoboken").output))
    assert list(csv["slug"]) == ["stevens_hoboken"]
    both = pd.read_csv(io.StringIO(run("cameras", "--format", "csv", "--search",
                                       "beachfront nc").output))
    assert list(both["slug"]) == ["currituck_hampton_inn", "buxtoncoastalcam"]


def test_cameras_near_and_within(run):
    near = pd.read_csv(io.StringIO(run("cameras", "--near", "36.95,-122.02", "--format",
                                       "csv").output))
    assert list(near["slug"][:2]) == ["walton_lighthouse", "tmmc_prls"]
    assert near["distance_km"].is_monotonic_increasing and near["distance_km"][0] < 3
    # A negative first number follows the option as it is.
    south = pd.read_csv(io.StringIO(run("cameras", "--near", "-33.9,151.2", "--format",
                                        "csv").output))
    assert south["slug"][0] == "waikiki_sheraton"
    box = pd.read_csv(io.StringIO(run("cameras", "--within=-125,35,-120,39", "--near",
                                      "38,-123", "--format", "csv").output))
    assert list(box["slug"]) == ["tmmc_prls", "walton_lighthouse"]
    assert "distance_km" not in run("cameras", "--within", "-125,35,-120,39").output


@pytest.mark.parametrize(("args", "message"), [
    (["--near", "95,-157.8"], "--near: latitude 95 is outside -90 to 90 degrees"),
    (["--near", "21.3"], "--near must be (latitude, longitude): 2 numbers"),
    (["--near", "north,west"], "--near must be numbers separated by commas, got 'north,west'"),
    (["--within", "10,0,5,1"], "--within: lon_min 10 is greater than lon_max 5"),
    (["--within", "-125,35,-120"], "--within must be (lon_min, lat_min, lon_max, lat_max)"),
])
def test_bad_near_or_within_is_one_line_naming_the_option(run, standin, args, message):
    standin.clear_requests()
    result = run("cameras", *args, code=1)
    assert result.output.startswith(f"Error: {message}")
    assert result.output.count("\n") == 1 and "Traceback" not in result.output
    assert standin.requests_to("api") == []  # refused before the API is asked


def test_products_inventory_latest(run, standin):
    products = run("products", "waikiki_sheraton").output
    assert "one-minute-stills" in products and "StreamingService" in products
    weekly = pd.read_csv(io.StringIO(run("inventory", "waikiki_sheraton", "one-minute-stills",
                                         "--freq", "weekly", "--format", "csv").output))
    holdings = standin.holdings("waikiki_sheraton", "one-minute-stills")
    assert weekly["count"].sum() == holdings.starts.size
    latest = run("latest", "waikiki_sheraton", "one-minute-stills").output
    assert label_of(standin.elements("waikiki_sheraton", "one-minute-stills")[-1]) in latest


def test_elements_outputs(run, standin, tmp_path):
    client = Client(TOKEN, standin.api_url)
    expected = client.elements("waikiki_sheraton", "one-minute-stills", HOUR[1], HOUR[3])
    shown = run("elements", "waikiki_sheraton", "one-minute-stills", *HOUR)
    assert expected["filename"].iloc[0] in shown.output and "60 elements" in shown.output
    run("elements", "waikiki_sheraton", "one-minute-stills", *HOUR, "-o", str(tmp_path / "e.csv"))
    from_csv = pd.read_csv(tmp_path / "e.csv")
    assert list(from_csv["uuid"]) == list(expected["uuid"])
    run("elements", "waikiki_sheraton", "one-minute-stills", *HOUR, "--every", "10min",
        "-o", str(tmp_path / "e.parquet"))
    thinned = pd.read_parquet(tmp_path / "e.parquet")
    pd.testing.assert_frame_equal(
        thinned, client.elements("waikiki_sheraton", "one-minute-stills", HOUR[1], HOUR[3],
                                 every="10min"), check_dtype=False)
    bad = run("elements", "waikiki_sheraton", "one-minute-stills", *HOUR, "-o",
              str(tmp_path / "e.txt"), code=2)
    assert ".csv or .parquet" in bad.output


def test_download_layout_resume_and_summary(run, standin, tmp_path):
    first = run("download", "stevens_hoboken", "10-minute-stills", "--start", "2025-09-10T12:00Z",
                "--end", "2025-09-10T14:59:59Z", "--quiet", str(tmp_path))
    assert "downloaded 18 files" in first.output and "0 failed" in first.output
    folder = tmp_path / "stevens_hoboken" / "10-minute-stills" / "2025" / "09" / "10"
    names = sorted(os.listdir(folder))
    assert len(names) == 18 and all(":" not in n for n in names)  # colons made safe
    truth = standin.elements("stevens_hoboken", "10-minute-stills", "2025-09-10T12:00",
                             "2025-09-10T14:59:59")
    for element in truth:
        local = folder / label_of(element).replace(":", "-")
        assert local.read_bytes() == standin.file_bytes(url_of(element))
    again = run("download", "stevens_hoboken", "10-minute-stills", "--start",
                "2025-09-10T12:00Z", "--end", "2025-09-10T14:59:59Z", "--quiet", str(tmp_path))
    assert "downloaded 0 files" in again.output and "18 already complete" in again.output


def test_download_never_leaves_partial_files(run, standin, tmp_path):
    with standin.faults(files=Faults(truncate_rate=1.0)), client_defaults(QUICK):
        result = run("download", "waikiki_sheraton", "one-minute-stills", "--start",
                     "2025-09-10T18:00Z", "--end", "2025-09-10T18:04:59Z", "--quiet",
                     str(tmp_path), code=1)
    assert "5 failed" in result.output and "failed after" in result.output
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_catalog_command(run, tmp_path):
    path = tmp_path / "cameras.yaml"
    run("catalog", "-o", str(path), "--search", "waikiki")
    assert TOKEN not in path.read_text()
    cat = intake.open_catalog(str(path))
    assert "waikiki_sheraton/one-minute-stills" in list(cat)


def test_catalog_writes_the_root_only_when_given_on_the_command_line(run, standin, tmp_path):
    """From WEBCOOS_API_URL, entries read the environment where opened; --base-url is kept."""
    followed, pinned = tmp_path / "followed.yaml", tmp_path / "pinned.yaml"
    run("catalog", "-o", str(followed), "--search", "waikiki")
    run("catalog", "-o", str(pinned), "--search", "waikiki", "--base-url", standin.api_url)
    assert standin.api_url not in followed.read_text()
    assert "base_url:" not in followed.read_text()
    kept = pinned.read_text()
    assert f"base_url: {standin.api_url}" in kept and f"url: {standin.api_url}" in kept
    assert TOKEN not in kept


def test_an_unknown_camera_is_one_line(run):
    result = run("latest", "nobody", "one-minute-stills", code=1)
    assert "Unknown WebCOOS camera" in result.output and "Traceback" not in result.output
    assert result.output.startswith("Error: ")


# -- messages name the command line's options -----------------------------------------------
def test_a_missing_token_names_the_token_option(no_token):
    result = CliRunner().invoke(main, ["cameras"])
    assert result.exit_code == 1 and result.output.startswith("Error: No WebCOOS API token")
    assert "pass --token ... or set the environment variable WEBCOOS_API_TOKEN" in result.output
    assert "token=" not in result.output
    assert "pass token=..." in str(MissingTokenError())  # Python's message is its own


@pytest.mark.parametrize(("options", "named"), [
    (["--every", "10"], "--every '10' has no unit"),
    (["--every", "0min"], "--every '0min' is not a positive duration"),
    (["--start", "2025-09-10T19:00"], "--start 2025-09-10T19:00:00+00:00 is after --end"),
    (["--end", "10/09/2025"], "Cannot read --end '10/09/2025' as a time"),
    (["--base-url", "ftp://example.org"], "--base-url 'ftp://example.org' is not an http(s) URL"),
])
def test_bad_options_are_named_as_options(run, options, named):
    given = dict(zip(HOUR[::2], HOUR[1::2], strict=True)) | dict([options])
    result = run("elements", "waikiki_sheraton", "one-minute-stills",
                 *[word for pair in given.items() for word in pair], code=1)
    assert result.output.startswith("Error: ") and named in result.output, result.output
    assert not any(f" {name}=" in result.output for name in ("every", "start", "end", "base_url"))


@pytest.mark.parametrize(("python", "command_line"), [
    ("pass token=... or set WEBCOOS_API_TOKEN", "pass --token ... or set WEBCOOS_API_TOKEN"),
    ("every='10' has no unit", "--every '10' has no unit"),
    ("start=2025-09-10 is after end=2025-09-09", "--start 2025-09-10 is after --end 2025-09-09"),
    ("(from base_url= or WEBCOOS_API_URL)", "(from --base-url or WEBCOOS_API_URL)"),
    ("ask again with refresh=True.", "ask again with --refresh."),
    ("file_concurrency=8 at most", "--concurrency 8 at most"),
    # Not arguments of ours: identifiers that end like one, URL queries, English words.
    ("raise inventory_timeout= or retries=/timeout=",
     "raise inventory_timeout= or retries=/timeout="),
    ("http://h/elements/?start=1&end=2 failed", "http://h/elements/?start=1&end=2 failed"),
    ("api_rate and every timeout must be positive", "api_rate and every timeout must be positive"),
])
def test_cli_message_names_options_for_python_arguments(python, command_line):
    assert cli_message(python) == command_line


def test_token_messages_name_both_ways_to_give_a_token():
    for error in (MissingTokenError(), InvalidTokenError()):
        assert "token=..." in str(error) and "WEBCOOS_API_TOKEN" in str(error)
        assert "--token ..." in cli_message(str(error)) and "token=" not in cli_message(str(error))


def test_demo_command(tmp_path):
    result = CliRunner().invoke(main, ["demo", "-o", str(tmp_path), "--width", "320",
                                       "--height", "180"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    for name in ("timex.png", "brightest.png", "timestack.png", "frame.png", "cameras.png",
                 "camera.png", "report.md"):
        assert (tmp_path / name).stat().st_size > 0
    assert "timex (mean over the hour)" in result.output
    report = (tmp_path / "report.md").read_text()
    assert "| timex (mean over the hour) |" in report
    assert "| map of the cameras |" in report and "| map around waikiki_sheraton" in report
    geometry = CameraGeometry.load(tmp_path / "geometry.json")
    assert (geometry.name, geometry.width, geometry.height) == ("waikiki_sheraton", 320, 180)
    assert "![plan view](plan_view.png)" in report
    with Image.open(tmp_path / "plan_view.png") as picture:
        assert picture.format == "PNG" and picture.size[1] == 180 and picture.size[0] > 320
    shoreline = pd.read_csv(tmp_path / "shoreline.csv")
    assert list(shoreline.columns) == ["time", "tide_m", "shoreline_y_m", "true_waterline_y_m"]
    assert len(shoreline) > 60 and np.ptp(shoreline["true_waterline_y_m"].to_numpy()) > 30
    # Frames of 160x90 (320x180 at scale 1/2): a few metres per pixel row at the waterline.
    assert (shoreline["shoreline_y_m"] - shoreline["true_waterline_y_m"]).abs().max() < 4
    assert "![cameras](cameras.png)" in report and "![camera](camera.png)" in report
    for name in ("cameras.png", "camera.png"):
        with Image.open(tmp_path / name) as picture:
            assert (picture.format, picture.size) == ("PNG", (1200, 700))


def test_help_lists_every_command_and_serve_has_its_own():
    listed = subprocess.run([console_script(), "--help"], capture_output=True, text=True,
                            check=True, timeout=60).stdout
    commands = listed.split("Commands:")[1].split()
    for name in ("cameras", "catalog", "demo", "download", "elements", "serve"):
        assert name in commands, name
    out = subprocess.run([console_script(), "serve", "--help"], capture_output=True,
                         text=True, check=True, timeout=60).stdout
    assert "--api-error-rate" in out and "--files-latency" in out


def test_the_command_line_does_not_import_the_server():
    """Only ``serve`` needs the stand-in; importing the CLI, or asking for help, must not."""
    code = ("import sys; from click.testing import CliRunner; "
            "import intake_webcoos.cli.main as cli; "
            "imported = [m for m in sys.modules if m.startswith('intake_webcoos.server')]; "
            "r = CliRunner().invoke(cli.main, ['--help']); "
            "helped = [m for m in sys.modules if m.startswith('intake_webcoos.server')]; "
            "print(imported, helped, r.exit_code, 'serve' in r.output)")
    assert fresh_python(code).split() == ["[]", "[]", "0", "True"]


def test_download_killed_and_resumed(standin, tmp_path):
    """SIGKILL in the middle, rerun: complete, byte-identical, no temporary file left."""
    start, end = "2025-09-10T17:00Z", "2025-09-10T19:59:59Z"
    command = [console_script(), "download", "waikiki_sheraton", "one-minute-stills",
               "--start", start, "--end", end, "--concurrency", "4", "--quiet", str(tmp_path)]
    with standin.faults(files=Faults(latency=0.05, slow_rate=0.3, slow_seconds=0.5)):
        # Four at a time: when the 24th file is asked for, at least 20 are complete.
        kill_after_file_requests(standin, command, 24)
    truth = {label_of(e): url_of(e) for e in standin.elements(
        "waikiki_sheraton", "one-minute-stills", start[:-1], end[:-1])}
    partial = [p for p in tmp_path.rglob("*.jpg") if p.is_file()]
    assert 20 <= len(partial) < len(truth)
    assert len(list((tmp_path / RUNS).glob("*.lock"))) == 1  # the killed run's lock file
    for path in partial:  # whatever has a final name is whole
        assert path.read_bytes() == standin.file_bytes(truth[path.name])
    rerun = subprocess.run(command, env=cli_env(standin), capture_output=True, text=True,
                           timeout=120)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    files = sorted(p for p in tmp_path.rglob("*") if p.is_file())
    assert [p.name for p in files] == sorted(truth)  # no lock file or temporary file left
    for path in files:
        assert path.read_bytes() == standin.file_bytes(truth[path.name])
    assert f"{len(partial)} already complete" in rerun.stdout


def test_ctrl_c_stops_the_download_command_with_one_line(standin, tmp_path):
    """SIGINT mid-way: every transfer stopped, no partial file, one line, status 130."""
    start, end = "2025-09-10T18:00Z", "2025-09-10T18:59:59Z"
    command = [console_script(), "download", "waikiki_sheraton", "one-minute-stills",
               "--start", start, "--end", end, "--concurrency", "4", "--quiet", str(tmp_path)]
    with standin.faults(files=INTERRUPTING):
        ended = signal_after_file_requests(standin, command, QUIET_AFTER, signal.SIGINT,
                                           deadline=5,
                                           until=lambda: bool(temporary_files(tmp_path)))
    assert ended.returncode == 130, ended.stderr
    assert ended.stderr.startswith("Interrupted: ") and ended.stderr.count("\n") == 1
    assert "Traceback" not in ended.stderr and ended.stdout == ""
    truth = {label_of(e): url_of(e) for e in standin.elements(
        "waikiki_sheraton", "one-minute-stills", start[:-1], end[:-1])}
    assert 0 < assert_stopped_cleanly(standin, tmp_path, ended.at, truth) < len(truth)


def test_an_empty_listing_says_why(run):
    """A night-time range lists nothing and says it is night at the camera."""
    result = run("elements", "waikiki_sheraton", "one-minute-stills",
                 "--start", "2025-09-10T08:00:00Z", "--end", "2025-09-10T09:00:00Z")
    assert "0 elements" in result.output
    assert "no elements:" in result.output and "daylight only" in result.output
