"""The token where ``test_security.py`` does not look, and the stand-in's own security.

* failures: tracebacks rendered with their local variables (``pytest -l``,
  rich, error trackers), formatted log records with ``exc_info``, pickled
  exceptions, the command line's one-line errors;
* the stand-in: it listens on 127.0.0.1 only, and its token check is made by
  ``hmac.compare_digest`` (constant time), whatever the token's length.
"""

from __future__ import annotations

import hmac
import logging
import pickle
import traceback

import pytest
from aiohttp import web
from click.testing import CliRunner

from intake_webcoos import Client
from intake_webcoos.api.errors import (
    ForeignOriginError,
    InvalidTokenError,
    ServerError,
    WebcoosError,
)
from intake_webcoos.cli import main
from intake_webcoos.fs import WebcoosFileSystem
from intake_webcoos.server import Faults

from .conftest import TOKEN, http
from .test_client import OtherServer
from .test_faults_by_origin import client_defaults

CAMERA, STILLS = "waikiki_sheraton", "one-minute-stills"
HOUR = (CAMERA, STILLS, "2025-09-10T18:00Z", "2025-09-10T18:59:59Z")
QUICK = {"retries": 2, "backoff": 0.01, "max_backoff": 0.05}
WRONG = "wrong-but-still-secret-0123456789"  # a mistyped token is a secret too


def failures(standin) -> list[WebcoosError]:
    """Errors raised with the token in hand, through the client and the filesystem."""
    found: list[WebcoosError] = []
    with standin.faults(api=Faults(error_rate=1.0)):
        try:
            Client(TOKEN, standin.api_url, **QUICK).elements(*HOUR)
        except ServerError as exc:
            found.append(exc)
    with standin.faults(api=Faults(drop_rate=1.0)):
        try:
            WebcoosFileSystem(token=TOKEN, base_url=standin.api_url, skip_instance_cache=True,
                              **QUICK).ls(f"{CAMERA}/{STILLS}/2025/09/10")
        except ServerError as exc:
            found.append(exc)
    try:
        Client(WRONG, standin.api_url).assets()
    except InvalidTokenError as exc:
        found.append(exc)

    async def away(request: web.Request) -> web.Response:
        raise web.HTTPFound(f"{standin.files_url}/somewhere")

    with OtherServer({"/u/api/me/": away}) as other:
        try:
            Client(TOKEN, f"{other.url}/webcoos/api/v1").me()
        except ForeignOriginError as exc:
            found.append(exc)
    assert [type(e) for e in found] == [ServerError, ServerError, InvalidTokenError,
                                        ForeignOriginError]
    return found


def test_tracebacks_rendered_with_locals_hold_no_token(standin):
    """``pytest -l``, rich and error trackers print every frame's variables."""
    for exc in failures(standin):
        text = "".join(traceback.TracebackException.from_exception(
            exc, capture_locals=True).format())
        assert "get_json" in text  # the frame that builds the Authorization header
        assert TOKEN not in text and WRONG not in text, type(exc).__name__


def test_logged_failures_and_pickled_errors_hold_no_token(standin, caplog):
    with caplog.at_level(logging.DEBUG):  # every logger, every level
        for exc in failures(standin):
            logging.getLogger("user.code").exception("it failed", exc_info=exc)
            assert TOKEN.encode() not in pickle.dumps(exc)
            assert WRONG.encode() not in pickle.dumps(exc)
    assert "Traceback" in caplog.text and len(caplog.records) > 4
    assert TOKEN not in caplog.text and WRONG not in caplog.text


def test_command_line_errors_hold_no_token(standin, monkeypatch):
    monkeypatch.delenv("WEBCOOS_API_TOKEN", raising=False)
    result = CliRunner().invoke(main, ["cameras", "--token", WRONG, "--base-url",
                                       standin.api_url])
    assert result.exit_code == 1 and "refused the token" in result.output
    assert WRONG not in result.output
    monkeypatch.setenv("WEBCOOS_API_TOKEN", TOKEN)
    with standin.faults(api=Faults(error_rate=1.0, error_statuses=(502,))), \
            client_defaults(QUICK):
        result = CliRunner().invoke(main, ["latest", CAMERA, STILLS, "--base-url",
                                           standin.api_url])
    assert result.exit_code == 1 and "failed after" in result.output
    assert TOKEN not in result.output


# -- the stand-in -----------------------------------------------------------------------------
def listening(port: int) -> list[str]:
    """Local addresses (hex, as the kernel writes them) listening on ``port``."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            next(f)
            for line in f:
                fields = line.split()
                address, hex_port = fields[1].rsplit(":", 1)
                if fields[3] == "0A" and int(hex_port, 16) == port:
                    found.append(address)
    return found


def test_standin_listens_on_loopback_only(standin):
    for port in (standin.api_port, standin.files_port):
        assert listening(port) == ["0100007F"]  # 127.0.0.1, and no IPv6 or wildcard socket
    assert standin.api_url.startswith("http://127.0.0.1:")
    assert standin.files_url.startswith("http://127.0.0.1:")


def test_standin_checks_tokens_with_compare_digest(standin, monkeypatch):
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    url = f"{standin.api_url}/assets/"
    for given in (TOKEN[:-1] + "x", TOKEN[:3], TOKEN + "-longer", ""):
        wrong = http(url, token=given)  # every wrong token, whatever its length (403: DRF)
        assert wrong.status == 403 and wrong.json() == {"detail": "Invalid token."}
    assert http(url, token=TOKEN).status == 200
    assert calls == [(g.encode(), TOKEN.encode()) for g in
                     (TOKEN[:-1] + "x", TOKEN[:3], TOKEN + "-longer", "", TOKEN)]
    # The decision is compare_digest's alone (no == or early exit before it).
    monkeypatch.setattr(hmac, "compare_digest", lambda a, b: True)
    assert http(url, token="anything").status == 200
    assert http(url).status == 403  # no header at all is refused before any comparison


@pytest.mark.parametrize("origin", ["api", "files"])
def test_standin_never_echoes_the_token(standin, origin):
    """Error bodies and headers of the stand-in hold no token (it sees them in every request)."""
    url = f"{standin.api_url}/elements/?service=nope" if origin == "api" else \
        f"{standin.files_url}/no/such/key.jpg"
    with standin.faults(**{origin: Faults(error_rate=0.5, throttle_rate=0.5, seed=5)}):
        answers = [http(url, token=TOKEN) for _ in range(6)]
    answers.append(http(url, token=TOKEN))
    assert {a.status for a in answers} >= {429, 400 if origin == "api" else 404}
    for answer in answers:
        assert TOKEN.encode() not in answer.body
        assert all(TOKEN not in v for v in answer.headers.values())
