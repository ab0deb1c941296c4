"""Shared fixtures: a stand-in WebCOOS server on loopback, and a tiny HTTP helper."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass

import pytest

from intake_webcoos.server import StandIn

TOKEN = "test-token-0123456789"


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


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body)


def http(url: str, token: str | None = None, method: str = "GET", timeout: float = 30,
         **headers: str) -> Answer:
    """One plain HTTP request with the standard library (independent of our client)."""
    if token is not None:
        headers["Authorization"] = f"Token {token}"
    request = urllib.request.Request(url, method=method,
                                     headers={k.replace("_", "-"): v for k, v in headers.items()})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as r:
            return Answer(r.status, dict(r.headers), r.read())
    except urllib.error.HTTPError as e:
        return Answer(e.code, dict(e.headers), e.read())
