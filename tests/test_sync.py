"""The synchronous Client (api/sync.py): its pickles."""

from __future__ import annotations

import pickle

from intake_webcoos import Client

from .helpers import TOKEN, fresh_python


def test_pickled_client_reads_the_token_in_another_process(standin):
    blob = pickle.dumps(Client(token=TOKEN, base_url=standin.api_url))
    code = ("import pickle, sys; c = pickle.loads(sys.stdin.buffer.read()); "
            "print(c.me()['username'])")
    assert fresh_python(code, stdin=blob, WEBCOOS_API_TOKEN=TOKEN).strip() == "standin"
