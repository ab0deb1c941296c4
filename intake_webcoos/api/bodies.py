"""Reading answer bodies: JSON, bytes, files and error details.

Used by the transport (:mod:`intake_webcoos.api.http`) once a response is known
to be a success or a failure worth describing.
"""

from __future__ import annotations

import contextlib
import gc
import json
from collections.abc import Iterator
from typing import Any

import aiohttp


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many acyclic objects.

    Parsing a page of elements creates tens of thousands of dicts and strings
    and no reference cycles; without the pause, CPython's collector walks the
    growing heap again and again and parsing runs at half speed.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


async def detail(response: aiohttp.ClientResponse) -> str:
    """The ``detail`` of an error body, or its first characters."""
    try:
        text = await response.text()
    except (aiohttp.ClientError, UnicodeDecodeError, TimeoutError):
        return response.reason or ""
    try:
        payload = json.loads(text)
    except ValueError:
        return text[:200]
    if isinstance(payload, dict) and isinstance(payload.get("detail"), str):
        return payload["detail"]
    return text[:200]


async def stream_to(response: aiohttp.ClientResponse, path: str, size: int | None,
                     callback: Any, chunk_size: int) -> int:
    """Write a response body to ``path`` chunk by chunk; returns the bytes written."""
    if callback is not None:
        callback.set_size(response.content_length or size)
        callback.absolute_update(0)
    written = 0
    with open(path, "wb") as out:
        async for chunk in response.content.iter_chunked(chunk_size):
            out.write(chunk)
            written += len(chunk)
            if callback is not None:
                callback.relative_update(len(chunk))
    return written
