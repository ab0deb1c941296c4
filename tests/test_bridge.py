"""Ctrl-C on every blocking face (api/bridge.py): ``fs.ls``, ``f.read``, ``fs.get`` and a cube's
``compute()`` end within the clean-up grace, leave no partial file and send nothing more.

Downloads are checked the same way in test_download.py and test_cli.py.
"""

from __future__ import annotations

import signal
import sys

import pytest

from intake_webcoos.api.bridge import CANCEL_GRACE
from intake_webcoos.server import Faults

from .helpers import CAMERA, HOUR, STILLS, signal_after_file_requests

#: Every file body trickles, every API answer waits, for longer than a test may take (and
#: no longer: the stand-in lets its slow answers finish before it stops).
SLOW_FILES = Faults(slow_rate=1.0, slow_seconds=15.0)
SLOW_API = Faults(latency=15.0)
DAY_FOLDER = f"{CAMERA}/{STILLS}/2025/09/10"

#: Runs ``sys.argv[1]`` (a statement over ``fs``, the webcoos filesystem, and ``dest``, a
#: folder) and says when Ctrl-C interrupts it.
PROGRAM = """
import sys, fsspec
import intake_webcoos
fs = fsspec.filesystem("webcoos", use_listings_cache=False)
dest = sys.argv[2]
try:
    exec(sys.argv[1])
except KeyboardInterrupt:
    print("KeyboardInterrupt")
    sys.exit(3)
"""

CASES = {
    "ls": ("api", SLOW_API, 1, f"fs.ls({DAY_FOLDER!r})"),
    "read": ("files", SLOW_FILES, 1,
             f"fs.open(fs.ls({DAY_FOLDER!r}, detail=False)[600]).read()"),
    "get": ("files", SLOW_FILES, 3,
            f"fs.get(fs.ls({DAY_FOLDER!r}, detail=False)[600:610], dest + '/')"),
    "compute": ("files", SLOW_FILES, 4,
                f"intake_webcoos.open_images({CAMERA!r}, {STILLS!r}, *{HOUR!r}, "
                "coerce_shape=(180, 320), chunks=6)['image'].compute(scheduler='threads')"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_ctrl_c_cancels_the_blocking_call(standin, tmp_path, case):
    origin, faults, count, statement = CASES[case]
    dest = tmp_path / "dest"
    dest.mkdir()
    command = [sys.executable, "-c", PROGRAM, statement, str(dest)]
    with standin.faults(**{origin: faults}):
        ended = signal_after_file_requests(standin, command, count, signal.SIGINT,
                                           deadline=CANCEL_GRACE + 5, origin=origin)
        # Nothing more arrives once the process has ended (the slow answers are cancelled).
        seen = standin.requests_to(origin)
        assert not standin.wait_for_requests(origin, len(seen) + 1, timeout=1.0)
    assert (ended.returncode, ended.stdout.strip()) == (3, "KeyboardInterrupt"), ended.stderr
    assert ended.seconds < CANCEL_GRACE + 2, ended
    assert all(r.time <= ended.at for r in seen)
    assert [p for p in dest.rglob("*") if p.is_file()] == []  # no partial file, any name
