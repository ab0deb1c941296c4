"""The client under every reading of the real API the stand-in can show (VARIANT_MATRIX).

Listing, folders, downloads, image cubes and the latest element are checked under
each variant (an exclusive or inclusive end, a minimal pagination block, a silent
page-size cap, null durations, a slow or failing inventory, raw colons, a 401,
latest only on the production route, no block on /assets/, malformed records,
two file origins), against what the stand-in holds, read without our client.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
import pytest
from PIL import Image

from intake_webcoos import Client, MalformedRecordsWarning, open_images
from intake_webcoos.cli.download import download
from intake_webcoos.fs.filesystem import WebcoosFileSystem
from intake_webcoos.server import VARIANT_MATRIX

from .helpers import TOKEN, label_of, time_of, url_of

#: (camera, product, a day, a span inside it): waikiki is served from the first file
#: origin, kasitsna_dock from the second one under ``file_origins=2``.
CASES = [("waikiki_sheraton", "one-minute-stills", "2025-09-10",
          ("2025-09-10T18:00:00Z", "2025-09-10T18:09:59Z")),
         ("kasitsna_dock", "one-minute-stills", "2025-09-10",
          ("2025-09-10T20:00:00Z", "2025-09-10T20:09:59Z"))]


@pytest.fixture(params=list(VARIANT_MATRIX), ids=list(VARIANT_MATRIX))
def variant(request, standin):
    """The session's stand-in showing one variant for the length of a test."""
    with standin.variants(VARIANT_MATRIX[request.param]):
        yield request.param


def well_formed(element: dict) -> bool:
    """Whether a record as served can be read (by hand: not with our parser)."""
    extents = element["data"].get("extents")
    return (isinstance(extents, dict) and url_of(element) is not None
            and time_of(element) not in (None, "NaT"))


def truth(standin, asset, product, start, end) -> list[dict]:
    return [e for e in standin.elements(asset, product, start, end) if well_formed(e)]


def client(standin, **options) -> Client:
    return Client(TOKEN, standin.api_url, retries=2, backoff=0.01, **options)


def quietly(call, *args, **kwargs):
    """Run ``call`` with the malformed-record warning (checked in test_client) silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MalformedRecordsWarning)
        return call(*args, **kwargs)


@pytest.mark.parametrize("asset, product, day, span", CASES, ids=[c[0] for c in CASES])
def test_listing(variant, standin, asset, product, day, span):
    expected = truth(standin, asset, product, *span)
    first, last = time_of(expected[0]), time_of(expected[-1])
    frame = quietly(client(standin).elements, asset, product, first, last)  # exact bounds
    assert frame["uuid"].tolist() == [e["uuid"] for e in expected]
    assert frame["url"].tolist() == [url_of(e) for e in expected]
    one = quietly(client(standin).elements, asset, product, last, last)  # start == end
    assert one["uuid"].tolist() == [expected[-1]["uuid"]]


@pytest.mark.parametrize("asset, product, day, span", CASES, ids=[c[0] for c in CASES])
def test_folders(variant, standin, asset, product, day, span):
    fs = WebcoosFileSystem(TOKEN, standin.api_url, skip_instance_cache=True, retries=2,
                           backoff=0.01, inventory_wait=2)
    folder = f"{asset}/{product}/{day.replace('-', '/')}"
    assert folder in quietly(fs.ls, folder.rsplit("/", 1)[0], detail=False)
    assert quietly(fs.ls, f"{asset}/{product}", detail=False) == [f"{asset}/{product}/2025"]
    names = [name.rsplit("/", 1)[1] for name in quietly(fs.ls, folder, detail=False)]
    assert names == [label_of(e) for e in truth(standin, asset, product, day,
                                                f"{day}T23:59:59Z")]


@pytest.mark.parametrize("asset, product, day, span", CASES, ids=[c[0] for c in CASES])
def test_download(variant, standin, asset, product, day, span, tmp_path):
    frame = quietly(client(standin).elements, asset, product, *span).iloc[:4]
    report = download(frame, tmp_path, token=TOKEN, base_url=standin.api_url, progress=False)
    assert report.downloaded == 4 and not report.failed
    for row in frame.itertuples():
        (path,) = tmp_path.rglob(row.filename.replace(":", "-"))
        assert path.read_bytes() == standin.file_bytes(row.url)


@pytest.mark.parametrize("asset, product, day, span", CASES, ids=[c[0] for c in CASES])
def test_image_cube(variant, standin, asset, product, day, span):
    cube = quietly(open_images, asset, product, *span, token=TOKEN, base_url=standin.api_url,
                   retries=2, backoff=0.01)
    expected = truth(standin, asset, product, *span)
    assert cube.sizes["time"] == len(expected)
    pixels = cube["image"].isel(time=[0, -1]).values
    for frame, element in zip(pixels, (expected[0], expected[-1]), strict=True):
        decoded = np.asarray(Image.open(io.BytesIO(standin.file_bytes(url_of(element)))))
        assert np.array_equal(frame, decoded)


@pytest.mark.parametrize("asset, product, day, span", CASES, ids=[c[0] for c in CASES])
def test_latest(variant, standin, asset, product, day, span):
    newest = truth(standin, asset, product, None, None)[-1]
    element = quietly(client(standin).latest, asset, product)
    assert element.uuid == newest["uuid"] and element.url == url_of(newest)
