"""The peers, built as faithfully as we can to how they work.

* ``next_link_listing``: how existing WebCOOS clients (pywebcoos, 0.1.1) page:
  ``requests.get`` of ``/elements/`` with the service and both bounds and no
  ``page_size`` (so the API's 100), then ``requests.get`` of
  ``pagination.next`` until it is null, one page at a time, without a session.
* ``sequential_download``: pywebcoos's download loop: ``requests.get(url,
  stream=True)`` per file, one after another, written to disk.
* ``fsspec_http_get``: fsspec's ``HTTPFileSystem`` bulk ``get`` of the same URLs
  (its own concurrency, aiohttp underneath).
* ``intake_xarray_cube``: intake-xarray's ``ImageReader`` over the same files on
  local disk, with ``imageio.v3.imread`` as its ``imread`` (what scikit-image's
  default plugin calls), computed with dask's default scheduler.
"""

from __future__ import annotations

from pathlib import Path

import requests


def next_link_listing(api_url: str, token: str, service: str, start: str, end: str
                      ) -> list[dict]:
    headers = {"Authorization": f"Token {token}", "Accept": "application/json"}
    response = requests.get(f"{api_url}/elements/", headers=headers, timeout=600,
                            params={"service": service, "starting_after": start,
                                    "starting_before": end})
    response.raise_for_status()
    payload = response.json()
    elements = list(payload["results"])
    while payload["pagination"]["next"]:
        response = requests.get(payload["pagination"]["next"], headers=headers, timeout=600)
        response.raise_for_status()
        payload = response.json()
        elements.extend(payload["results"])
    return elements


def sequential_download(urls: list[str], folder: Path) -> None:
    for url in urls:
        response = requests.get(url, stream=True, timeout=600)
        response.raise_for_status()
        with open(folder / url.rsplit("/", 1)[1], "wb") as out:
            for chunk in response.iter_content(chunk_size=2**16):
                out.write(chunk)


def fsspec_http_get(urls: list[str], folder: Path) -> None:
    import fsspec

    fs = fsspec.filesystem("http", skip_instance_cache=True)
    fs.get(urls, str(folder) + "/")


def intake_xarray_cube(folder: Path):
    import imageio.v3 as iio
    from intake_xarray.image import ImageReader

    return ImageReader(urlpath=str(folder / "*.jpg")).read(imread=iio.imread).compute()
