"""``xr.open_dataset("webcoos://camera/product", engine="webcoos", start=..., end=...)``."""

from __future__ import annotations

import os
from typing import Any

from xarray.backends import BackendEntrypoint

from intake_webcoos import paths
from intake_webcoos.cube.kinds import kind_of
from intake_webcoos.cube.selection import CLIENT_OPTIONS, KEYWORDS
from intake_webcoos.cube.stills import open_images
from intake_webcoos.cube.video import open_video
from intake_webcoos.errors import InvalidArgumentError

#: What the engine passes on: every keyword of the faces but those its URL gives
#: (camera, product) and those xarray keeps for itself (``chunks``, ``cache``); then
#: client options, ``cache_files`` among them.
ENGINE_KEYWORDS = tuple(k for k in KEYWORDS
                        if k not in ("camera", "product", "chunks", "cache"))


class WebcoosBackendEntrypoint(BackendEntrypoint):
    """Open a WebCOOS camera product (or a ``webcoos://`` glob) as an image cube.

    Stills open with :func:`intake_webcoos.open_images`, clips with
    :func:`intake_webcoos.open_video`; every keyword of theirs is passed on,
    client options (``retries``, ``timeout``...) included. The dataset is lazy
    and dask-backed whatever ``chunks`` xarray is given. xarray keeps ``cache=``
    for itself: ``cache_files=True`` keeps the files in the on-disk cache (what
    ``cache=True`` does for the faces). Name the engine
    (``engine="webcoos"``): xarray asks its netCDF4 backend first, and that
    claims every URL when netCDF4 is installed.
    """

    description = "WebCOOS webcam images as a lazy (time, y, x, band) cube"
    url = "https://webcoos.org"
    open_dataset_parameters = ("filename_or_obj", "drop_variables", *ENGINE_KEYWORDS,
                               *CLIENT_OPTIONS)

    def open_dataset(self, filename_or_obj: str | os.PathLike, *,  # type: ignore[override]
                     drop_variables: Any = None, **keywords: Any):
        target = str(filename_or_obj)
        is_glob = any(c in target for c in "*?[")
        product = paths.strip_protocol(target).split("/")[1:2]
        face = open_video if product and kind_of(product[0]) == "video" else open_images
        where = None if is_glob else paths.parse(target)
        if where is None or where.is_file:
            ds = face(target if is_glob else [paths.archive_url(target)], **keywords)
        elif where.depth == 2:
            ds = face(where.asset, where.product, **keywords)  # or says why not
        else:
            raise InvalidArgumentError(f"{target!r}: give webcoos://camera/product with "
                                       "start= and end=, or a webcoos:// glob or file path")
        return ds.drop_vars(drop_variables or [], errors="ignore")

    def guess_can_open(self, filename_or_obj: Any) -> bool:
        return paths.is_archive_url(filename_or_obj)
