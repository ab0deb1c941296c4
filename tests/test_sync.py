"""The synchronous Client (api/sync.py): a faithful mirror of AsyncClient, and its pickles."""

from __future__ import annotations

import asyncio
import inspect
import pickle

import pandas as pd
import pytest

from intake_webcoos import AsyncClient, Client
from intake_webcoos.api.sync import blocking_methods, mirrored_methods

from .helpers import CAMERA, MINUTES, STILLS, TOKEN, fresh_python, url_of

#: The WebCOOS calls every user relies on; the mirror must hold at least these.
CALLS = {"assets", "asset", "products", "product", "services", "inventory", "latest",
         "elements", "fetch", "me", "close"}


def test_mirrored_methods_are_the_public_coroutines_of_the_async_client():
    public = sorted(name for name in dir(AsyncClient)  # its own and its mixin's
                    if not name.startswith("_")
                    and inspect.iscoroutinefunction(getattr(AsyncClient, name)))
    assert sorted(mirrored_methods()) == public
    assert set(public) >= CALLS


@pytest.mark.parametrize("name", mirrored_methods())
def test_each_method_has_the_same_signature_and_docstring(name):
    blocking, coroutine = getattr(Client, name), getattr(AsyncClient, name)
    assert not inspect.iscoroutinefunction(blocking)
    assert inspect.signature(blocking) == inspect.signature(coroutine)
    assert blocking.__doc__ == coroutine.__doc__ and coroutine.__doc__
    assert blocking.__name__ == name


def _calls(standin) -> dict[str, tuple]:
    url = url_of(standin.elements(CAMERA, STILLS, *MINUTES)[0])
    return {
        "assets": (), "asset": (CAMERA,), "products": (CAMERA,), "product": (CAMERA, STILLS),
        "services": (CAMERA, STILLS), "inventory": (CAMERA, STILLS), "latest": (CAMERA, STILLS),
        "elements": (CAMERA, STILLS, *MINUTES), "fetch": (url,),
    }


def assert_same_value(blocking, awaited) -> None:
    assert type(blocking) is type(awaited)
    if isinstance(blocking, pd.DataFrame):
        pd.testing.assert_frame_equal(blocking, awaited)
        return
    if isinstance(blocking, list | tuple):
        assert [type(x) for x in blocking] == [type(x) for x in awaited]
    assert blocking == awaited


@pytest.mark.parametrize("name", ["assets", "asset", "products", "product", "services",
                                  "inventory", "latest", "elements", "fetch"])
def test_both_clients_return_equal_values_of_the_same_types(standin, name):
    args = _calls(standin)[name]
    with Client(TOKEN, standin.api_url) as client:
        blocking = getattr(client, name)(*args)

    async def run():
        async with AsyncClient(TOKEN, standin.api_url) as aclient:
            return await getattr(aclient, name)(*args)

    awaited = asyncio.run(run())
    assert_same_value(blocking, awaited)
    assert blocking is not None and (not hasattr(blocking, "__len__") or len(blocking))


def test_a_facade_over_an_async_client_shares_it(standin):
    aclient = AsyncClient(TOKEN, standin.api_url)
    client = Client.from_async(aclient)
    assert client.aclient is aclient and client.settings is aclient.settings
    assert client.me()["username"] == "standin"


def test_pickled_client_reads_the_token_in_another_process(standin):
    blob = pickle.dumps(Client(token=TOKEN, base_url=standin.api_url))
    code = ("import pickle, sys; c = pickle.loads(sys.stdin.buffer.read()); "
            "print(c.me()['username'])")
    assert fresh_python(code, stdin=blob, WEBCOOS_API_TOKEN=TOKEN).strip() == "standin"


def test_the_client_declares_one_blocking_method_per_public_coroutine():
    """Declared on the class (IDEs and type checkers see them), with no drift either way."""
    assert blocking_methods(Client) == sorted(mirrored_methods())
    assert set(mirrored_methods()) <= set(vars(Client))
