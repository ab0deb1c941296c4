"""Fixtures shared by the test modules, and the ``--live`` option.

Plain helpers (constants, the ``http`` helper, hostile servers, payloads) are in
``helpers.py``; no test module imports another.
"""

from __future__ import annotations

import os

import pytest

from intake_webcoos import Client, open_images
from intake_webcoos.server import StandIn

from .helpers import CAMERA, HOUR, STILLS, TOKEN

# The stand-in is ours to load: tests pace API requests at 500/s instead of the default
# 5/s (set here, so that the CLI's subprocesses inherit it). test_http checks the pace.
os.environ.setdefault("WEBCOOS_API_RATE", "500")
# Tests count the requests the stand-in receives: the on-disk cache is off unless a test
# (test_cache.py) turns it on with a folder of its own.
os.environ.setdefault("WEBCOOS_CACHE", "off")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--live", action="store_true",
                     help="also run tests that talk to the real WebCOOS API")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--live"):
        return
    deselected = [item for item in items if "live" in item.keywords]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if "live" not in item.keywords]


@pytest.fixture(scope="session")
def standin():
    """A fault-free stand-in shared by the session (small frames keep tests fast).

    Tests that inject faults use ``standin.faults(...)`` as a context manager,
    which restores the fault-free state afterwards.
    """
    with StandIn(token=TOKEN, frame_size=(320, 180)) as s:
        yield s


@pytest.fixture(scope="session")
def standin_client(standin) -> Client:
    """A client of the shared stand-in."""
    return Client(TOKEN, standin.api_url)


@pytest.fixture(scope="session")
def cameras_table(standin_client):
    """The stand-in's ``Client.cameras()`` table (one row per camera, in the API's order)."""
    return standin_client.cameras()


@pytest.fixture
def api_env(standin, monkeypatch: pytest.MonkeyPatch):
    """``WEBCOOS_API_TOKEN`` and ``WEBCOOS_API_URL`` name the stand-in (as a user sets them)."""
    monkeypatch.setenv("WEBCOOS_API_TOKEN", TOKEN)
    monkeypatch.setenv("WEBCOOS_API_URL", standin.api_url)
    return standin


@pytest.fixture
def no_token(standin, monkeypatch: pytest.MonkeyPatch):
    """No ``WEBCOOS_API_TOKEN`` in the environment; ``WEBCOOS_API_URL`` names the stand-in."""
    monkeypatch.delenv("WEBCOOS_API_TOKEN", raising=False)
    monkeypatch.setenv("WEBCOOS_API_URL", standin.api_url)
    return standin


@pytest.fixture(scope="session")
def stills_hour(standin):
    """The lazy cube of an hour of CAMERA's stills (60 frames of 320x180)."""
    return open_images(CAMERA, STILLS, *HOUR, token=TOKEN, base_url=standin.api_url)
