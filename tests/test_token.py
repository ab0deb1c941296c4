"""The API token across every face: what each says when it is missing or wrong, where it goes.

* a missing or refused token gives the typed error, saying what to do, at every face;
* the token is sent to the API only, never to a file host;
* it is never written down: reprs, JSON, YAML, pickles, dask graphs, logs, tracebacks
  rendered with their local variables (``pytest -l``, rich, error trackers),
  pickled exceptions, messages of the command line.
"""

from __future__ import annotations

import logging
import pickle
import traceback

import cloudpickle
import pytest
from aiohttp import web
from click.testing import CliRunner

from intake_webcoos import Client, open_images
from intake_webcoos.cli.download import download
from intake_webcoos.cli.main import main
from intake_webcoos.errors import (
    ForeignOriginError,
    InvalidTokenError,
    MissingTokenError,
    ServerError,
    WebcoosError,
)
from intake_webcoos.fs.filesystem import WebcoosFileSystem
from intake_webcoos.intake.catalog import build_catalog
from intake_webcoos.intake.readers import WebcoosImagesReader
from intake_webcoos.server import Faults

from .helpers import (
    API_PREFIX,
    CAMERA,
    FACES,
    HOUR,
    MINUTES,
    QUICK,
    STILLS,
    TOKEN,
    OtherServer,
    client_defaults,
)

QUARTER = (CAMERA, STILLS, "2025-09-10T18:00Z", "2025-09-10T18:14:59Z")
WRONG = "wrong-but-still-secret-0123456789"  # a mistyped token is a secret too


# -- missing or refused --------------------------------------------------------------------
@pytest.mark.parametrize("face", list(FACES))
def test_missing_and_refused_tokens_say_what_to_do_at_every_face(no_token, monkeypatch, face):
    with pytest.raises(MissingTokenError, match="WEBCOOS_API_TOKEN"):
        FACES[face](CAMERA, STILLS, *MINUTES)
    monkeypatch.setenv("WEBCOOS_API_TOKEN", WRONG)
    with pytest.raises(InvalidTokenError, match=r"refused the token.*Copy a fresh token") as info:
        FACES[face](CAMERA, STILLS, *MINUTES)
    assert WRONG not in str(info.value)


def test_command_line_without_a_token_is_one_line(no_token):
    result = CliRunner().invoke(main, ["cameras", "--base-url", no_token.api_url])
    assert result.exit_code == 1 and "WEBCOOS_API_TOKEN" in result.output
    assert "Traceback" not in result.output


def test_command_line_with_a_wrong_token_writes_nothing(standin, monkeypatch, tmp_path):
    monkeypatch.setenv("WEBCOOS_API_TOKEN", WRONG)
    result = CliRunner().invoke(main, ["download", CAMERA, STILLS, "--start", MINUTES[0],
                                       "--end", MINUTES[1], "--base-url", standin.api_url,
                                       str(tmp_path)])
    assert result.exit_code == 1 and result.output.startswith("Error: ")
    assert "Copy a fresh token" in result.output and "Traceback" not in result.output
    assert WRONG not in result.output
    assert list(tmp_path.iterdir()) == []


# -- where it goes ---------------------------------------------------------------------------
def test_a_whole_session_sends_the_token_only_to_the_api(no_token, tmp_path, caplog):
    standin = no_token
    standin.clear_requests()
    with caplog.at_level(logging.DEBUG):
        client = Client(TOKEN, standin.api_url)
        frame = client.elements(*QUARTER)
        fs = WebcoosFileSystem(token=TOKEN, base_url=standin.api_url, skip_instance_cache=True)
        fs.get([p.removeprefix("webcoos://") for p in frame["path"][:3]], str(tmp_path) + "/")
        fs.cat_file(frame["path"].iloc[4])
        with fs.open(frame["path"].iloc[0], block_size=100) as f:
            f.read()
        download(frame.iloc[:3], tmp_path / "cli", token=TOKEN, base_url=standin.api_url,
                 progress=False)
        cube = open_images(*QUARTER, token=TOKEN, base_url=standin.api_url)
        cube.webcoos.timex().compute()
        with standin.faults(api=Faults(error_rate=0.5, seed=3)):
            Client(TOKEN, standin.api_url, backoff=0.01).elements(*QUARTER)
    files = standin.requests_to("files")
    api = standin.requests_to("api")
    assert len(files) > 10 and len(api) > 5
    assert all("Authorization" not in r.headers for r in files)
    assert all(r.headers.get("Authorization") == f"Token {TOKEN}" for r in api)
    assert caplog.records and all(TOKEN not in r.getMessage() for r in caplog.records)


# -- never written down ------------------------------------------------------------------------
def test_nothing_written_down_holds_the_token(no_token, tmp_path):
    standin = no_token
    client = Client(TOKEN, standin.api_url)
    fs = WebcoosFileSystem(token=TOKEN, base_url=standin.api_url, skip_instance_cache=True)
    cube = open_images(*QUARTER, token=TOKEN, base_url=standin.api_url)
    product = cube.webcoos.timex()
    catalog = build_catalog(standin.api_url, TOKEN, search="waikiki")
    catalog.to_yaml_file(str(tmp_path / "cat.yaml"))
    texts = [repr(client), str(client), repr(client.aclient), repr(client.settings), repr(fs),
             fs.to_json(), repr(cube), str(cube.attrs), (tmp_path / "cat.yaml").read_text()]
    assert all(TOKEN not in t for t in texts)
    assert "token" not in fs.storage_options
    blobs = [pickle.dumps(client), pickle.dumps(fs), pickle.dumps(cube),
             cloudpickle.dumps(dict(cube.__dask_graph__())),
             cloudpickle.dumps(dict(product.__dask_graph__()))]
    assert all(TOKEN.encode() not in b for b in blobs)
    assert all(pickle.loads(b) is not None for b in blobs)  # and they load again
    assert pickle.loads(blobs[0]).settings.token is None  # nothing in the environment


def test_intake_readers_hold_no_token(standin):
    reader = WebcoosImagesReader(camera=CAMERA, product=STILLS,
                                 options={"start": "2025-09-10T18:00Z",
                                          "end": "2025-09-10T18:01:59Z"},
                                 base_url=standin.api_url, token="another-secret")
    assert "another-secret" not in repr(reader.kwargs) and "token" not in reader.kwargs
    assert b"another-secret" not in pickle.dumps(reader)
    assert "another-secret" not in str(reader.to_entry().kwargs)
    assert "another-secret" not in str(reader(scale=0.5).kwargs)


def test_error_messages_hold_no_token(standin):
    secret = "a-wrong-but-secret-token"
    with pytest.raises(InvalidTokenError) as info:
        Client(secret, standin.api_url).assets()
    assert secret not in str(info.value)
    with standin.faults(api=Faults(error_rate=1.0)), pytest.raises(ServerError) as info:
        Client(TOKEN, standin.api_url, retries=2, backoff=0.01).assets(refresh=True)
    assert TOKEN not in str(info.value) and TOKEN not in repr(info.value)


def failures(standin) -> list[WebcoosError]:
    """Errors raised with the token in hand, through the client and the filesystem."""
    found: list[WebcoosError] = []
    with standin.faults(api=Faults(error_rate=1.0)):
        try:
            Client(TOKEN, standin.api_url, **QUICK).elements(CAMERA, STILLS, *HOUR)
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
            Client(TOKEN, f"{other.url}{API_PREFIX}").me()
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


def test_a_token_pasted_with_a_line_break_is_cleaned(standin):
    assert Client(f"  {TOKEN}\n", standin.api_url).assets()  # works: stripped
    with pytest.raises(InvalidTokenError, match="character 5 of") as info:
        Client("abcd\nefgh", standin.api_url)
    assert "abcd" not in str(info.value) and "efgh" not in str(info.value)


def test_the_command_line_cleans_the_token_too(standin):
    result = CliRunner().invoke(main, ["cameras", "--token", TOKEN + "\r\n", "--base-url",
                                       standin.api_url])
    assert result.exit_code == 0 and CAMERA in result.output
    bad = CliRunner().invoke(main, ["cameras", "--token", "ab\x07cd", "--base-url",
                                    standin.api_url])
    assert bad.exit_code == 1 and "control or space character" in bad.output
    assert "header injection" not in bad.output
