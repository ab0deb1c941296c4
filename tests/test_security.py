"""The token goes to the API and nowhere else; it is never written down."""

from __future__ import annotations

import logging
import pickle

import cloudpickle
import pytest

from intake_webcoos import Client, open_images
from intake_webcoos.api import InvalidTokenError, ServerError
from intake_webcoos.catalog import build_catalog
from intake_webcoos.download import download
from intake_webcoos.fs import WebcoosFileSystem
from intake_webcoos.server import Faults

from .conftest import TOKEN

HOUR = ("waikiki_sheraton", "one-minute-stills", "2025-09-10T18:00Z", "2025-09-10T18:14:59Z")


def test_a_whole_session_sends_the_token_only_to_the_api(standin, tmp_path, caplog,
                                                          monkeypatch):
    monkeypatch.delenv("WEBCOOS_API_TOKEN", raising=False)
    standin.clear_requests()
    with caplog.at_level(logging.DEBUG):
        client = Client(TOKEN, standin.api_url)
        frame = client.elements(*HOUR)
        fs = WebcoosFileSystem(token=TOKEN, base_url=standin.api_url, skip_instance_cache=True)
        fs.get([p.removeprefix("webcoos://") for p in frame["path"][:3]], str(tmp_path) + "/")
        with fs.open(frame["path"].iloc[0]) as f:
            f.read()
        download(frame.iloc[:3], tmp_path / "cli", token=TOKEN, base_url=standin.api_url,
                 progress=False)
        cube = open_images(*HOUR, token=TOKEN, base_url=standin.api_url)
        cube.webcoos.timex().compute()
        with standin.faults(api=Faults(error_rate=0.5, seed=3)):
            Client(TOKEN, standin.api_url, backoff=0.01).elements(*HOUR)
    files = standin.requests_to("files")
    api = standin.requests_to("api")
    assert len(files) > 10 and len(api) > 5
    assert all("Authorization" not in r.headers for r in files)
    assert all(r.headers.get("Authorization") == f"Token {TOKEN}" for r in api)
    assert caplog.records and all(TOKEN not in r.getMessage() for r in caplog.records)


def test_nothing_written_down_holds_the_token(standin, tmp_path):
    client = Client(TOKEN, standin.api_url)
    fs = WebcoosFileSystem(token=TOKEN, base_url=standin.api_url, skip_instance_cache=True)
    cube = open_images(*HOUR, token=TOKEN, base_url=standin.api_url)
    product = cube.webcoos.timex()
    catalog = build_catalog(standin.api_url, TOKEN, search="waikiki")
    catalog.to_yaml_file(str(tmp_path / "cat.yaml"))
    texts = [repr(client), str(client), repr(client.aclient), repr(client.settings), repr(fs),
             fs.to_json(), repr(cube), str(cube.attrs), (tmp_path / "cat.yaml").read_text()]
    assert all(TOKEN not in t for t in texts)
    blobs = [pickle.dumps(client), pickle.dumps(fs), pickle.dumps(cube),
             cloudpickle.dumps(dict(cube.__dask_graph__())),
             cloudpickle.dumps(dict(product.__dask_graph__()))]
    assert all(TOKEN.encode() not in b for b in blobs)


def test_error_messages_hold_no_token(standin):
    secret = "a-wrong-but-secret-token"
    with pytest.raises(InvalidTokenError) as info:
        Client(secret, standin.api_url).assets()
    assert secret not in str(info.value)
    with standin.faults(api=Faults(error_rate=1.0)), pytest.raises(ServerError) as info:
        Client(TOKEN, standin.api_url, retries=2, backoff=0.01).assets(refresh=True)
    assert TOKEN not in str(info.value) and TOKEN not in repr(info.value)
