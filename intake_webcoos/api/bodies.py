"""Reading answer bodies: JSON, bytes, files and error details.

Used by the transport (:mod:`intake_webcoos.api.http`) once a response is known
to be a success or a failure worth describing.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import os
from collections.abc import Iterator
from typing import Any, BinaryIO

import aiohttp
import orjson

from intake_webcoos.errors import ResponseFormatError, TruncatedDownloadError


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


#: Bytes of an error answer kept for its message.
DETAIL_BYTES = 2**16
_CHUNK = 2**16


async def detail(response: aiohttp.ClientResponse) -> str:
    """The ``detail`` of an error body, or its first characters (read within a small limit)."""
    try:
        text = (await _head(response, DETAIL_BYTES)).decode("utf-8", errors="replace")
    except (aiohttp.ClientError, TimeoutError):
        return response.reason or ""
    try:
        payload = json.loads(text)
    except ValueError:
        return text[:200]
    if isinstance(payload, dict) and isinstance(payload.get("detail"), str):
        return payload["detail"]
    return text[:200]


async def _head(response: aiohttp.ClientResponse, limit: int) -> bytes:
    """At most the first ``limit`` bytes of a body (the rest is left unread)."""
    data = bytearray()
    async for chunk in response.content.iter_chunked(_CHUNK):
        data += chunk[: limit - len(data)]
        if len(data) >= limit:
            break
    return bytes(data)


async def read_limited(response: aiohttp.ClientResponse, limit: int) -> bytes:
    """The whole body, read in chunks; None of it beyond ``limit`` bytes.

    The limit counts bytes after decompression, so a compressed bomb is refused
    as soon as it passes it.

    Raises
    ------
    BodyTooLarge
        The body is longer than ``limit`` bytes.
    """
    data = bytearray()
    async for chunk in response.content.iter_chunked(_CHUNK):
        if len(data) + len(chunk) > limit:
            raise BodyTooLarge(limit)
        data += chunk
    return bytes(data)


class BodyTooLarge(Exception):
    """A body went past the bytes allowed for it (turned into a typed error by the caller)."""

    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.limit = limit


def oversized_file(url: object, limit: int) -> TruncatedDownloadError:
    """The error for a file host that sends more than the ``limit`` bytes a file may have."""
    return TruncatedDownloadError(
        f"{url} sends more than the {limit:,} bytes it should have (its listed size, or the "
        "range asked); nothing was kept. Report it to WebCOOS if it persists.")


def decode_json(body: bytes, url: object) -> Any:
    """JSON from an answer's body.

    Raises
    ------
    ResponseFormatError
        The body is not JSON (an HTML error page at status 200, a cut body...);
        its first bytes are quoted.
    """
    try:
        with gc_paused():
            return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        shown = body[:120].decode("utf-8", errors="replace")
        raise ResponseFormatError(
            f"{url} answered 200 with a body that is not JSON ({len(body)} bytes, starting "
            f"{shown!r}). A proxy or an error page may be in the way; try again later."
        ) from exc


async def stream_to(response: aiohttp.ClientResponse, out: BinaryIO, written: int,
                    limit: int, callback: Any) -> int:
    """Append a body to ``out``; returns the bytes in the file (``written`` before).

    Raises
    ------
    BodyTooLarge
        The file would pass ``limit`` bytes.
    """
    async for chunk in response.content.iter_chunked(2**18):
        if written + len(chunk) > limit:
            raise BodyTooLarge(limit)
        out.write(chunk)
        written += len(chunk)
        if callback is not None:
            callback.relative_update(len(chunk))
    return written


def write_atomically(target: str | os.PathLike, data: bytes, tag: str) -> None:
    """Write ``data`` to ``target`` through its temporary name, so no partial file is seen."""
    temporary = temporary_path(os.fspath(target), tag)
    try:
        with open(temporary, "wb") as out:
            out.write(data)
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def temporary_path(target: str, tag: str) -> str:
    """The hidden name a download is written under before it is complete.

    ``.{name}.{tag}.part`` beside the target, within the 255 bytes a file name
    may have: a long name is cut (on a character boundary) and a digest of the
    whole name keeps two long names apart.
    """
    folder, name = os.path.split(target)
    suffix = f".{tag}.part"
    room = 255 - 1 - len(suffix)
    encoded = name.encode()
    if len(encoded) > room:
        digest = hashlib.sha1(encoded, usedforsecurity=False).hexdigest()[:8]
        name = encoded[: room - 9].decode("utf-8", errors="ignore") + "-" + digest
    return os.path.join(folder, f".{name}{suffix}")
