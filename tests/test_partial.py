"""Resumed downloads (api/partial.py): a broken transfer continues where it stopped."""

from __future__ import annotations

import pytest
from aiohttp import web

from intake_webcoos import Client
from intake_webcoos.api.bridge import run
from intake_webcoos.errors import TruncatedDownloadError

from .helpers import TOKEN, OtherServer

BODY = bytes(range(256)) * 4096  # 1 MiB
QUICK = {"retries": 3, "backoff": 0.01, "max_backoff": 0.05}


class Host(OtherServer):
    """Serves BODY; the first answer breaks after ``cut`` bytes. ``mode`` says how it
    answers the range request that follows: "honour", "ignore" (200 with the whole
    file), "elsewhere" (206 from the wrong byte) or "changed" (206 with another ETag)."""

    def __init__(self, mode: str, cut: int = 800_000) -> None:
        self.mode, self.cut = mode, cut
        self.sent = 0
        self.ranges: list[str | None] = []
        super().__init__({"/clip.mp4": self.clip})

    async def clip(self, request: web.Request) -> web.StreamResponse:
        asked = request.headers.get("Range")
        self.ranges.append(asked)
        first_answer = len(self.ranges) == 1
        start = 0
        if asked and self.mode in ("honour", "elsewhere", "changed"):
            start = int(asked.removeprefix("bytes=").split("-")[0])
            start = start - 10 if self.mode == "elsewhere" else start
        etag = '"v2"' if self.mode == "changed" and not first_answer else '"v1"'
        headers = {"ETag": etag, "Content-Length": str(len(BODY) - start)}
        if start:
            headers["Content-Range"] = f"bytes {start}-{len(BODY) - 1}/{len(BODY)}"
        response = web.StreamResponse(status=206 if start else 200, headers=headers)
        await response.prepare(request)
        body = BODY[start:]
        if first_answer:
            await response.write(body[: self.cut])
            self.sent += self.cut
            request.transport.abort()  # the connection drops mid-body
            return response
        await response.write(body)
        self.sent += len(body)
        return response


def fetch_to(host: Host, tmp_path, size: int = len(BODY)) -> int:
    client = Client(TOKEN, "http://127.0.0.1:9/", **QUICK)
    return run(client.aclient.transport.download, f"{host.url}/clip.mp4",
               tmp_path / "clip.mp4", size=size)


def test_a_broken_transfer_resumes_from_the_bytes_written(tmp_path):
    with Host("honour") as host:
        assert fetch_to(host, tmp_path) == len(BODY)
    assert (tmp_path / "clip.mp4").read_bytes() == BODY
    assert host.ranges == [None, "bytes=800000-"]
    assert host.sent == len(BODY)  # 80 % then the last 20 %: nothing sent twice
    assert [p.name for p in tmp_path.iterdir()] == ["clip.mp4"]


@pytest.mark.parametrize("mode", ["ignore", "elsewhere", "changed"])
def test_a_resume_the_host_does_not_honour_starts_over(tmp_path, mode):
    with Host(mode) as host:
        assert fetch_to(host, tmp_path) == len(BODY)
    assert (tmp_path / "clip.mp4").read_bytes() == BODY
    assert host.ranges[1] == "bytes=800000-"
    assert len(host.ranges) == (2 if mode == "ignore" else 3)


def test_a_file_longer_than_listed_is_refused_and_nothing_is_left(tmp_path):
    with Host("honour", cut=len(BODY)) as host, pytest.raises(TruncatedDownloadError):
        fetch_to(host, tmp_path, size=1000)
    assert list(tmp_path.iterdir()) == []
