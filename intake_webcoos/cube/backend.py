"""``xr.open_dataset("webcoos://camera/product", engine="webcoos", start=..., end=...)``."""

from __future__ import annotations

import os
from typing import Any

from xarray.backends import BackendEntrypoint

from intake_webcoos import paths
from intake_webcoos.cube.contract import MAX_FRAMES
from intake_webcoos.cube.kinds import kind_of
from intake_webcoos.cube.stills import open_images


class WebcoosBackendEntrypoint(BackendEntrypoint):
    """Open a WebCOOS camera product (or a ``webcoos://`` glob) as an image cube.

    The dataset is lazy and dask-backed whatever ``chunks`` xarray is given;
    see :func:`intake_webcoos.open_images` for the keywords (and
    :func:`intake_webcoos.open_video` for ``sample`` and ``fps`` of video). Name the engine
    (``engine="webcoos"``): xarray asks its netCDF4 backend first, and that
    claims every URL when netCDF4 is installed.
    """

    description = "WebCOOS webcam images as a lazy (time, y, x, band) cube"
    url = "https://webcoos.org"
    open_dataset_parameters = (
        "filename_or_obj", "drop_variables", "start", "end", "every", "scale", "grayscale",
        "coerce_shape", "on_error", "max_frames", "token", "base_url", "sample", "fps",
    )

    def open_dataset(self, filename_or_obj: str | os.PathLike, *,
                     drop_variables: Any = None, start: Any = None, end: Any = None,
                     every: Any = None, scale: float = 1, grayscale: bool = False,
                     coerce_shape: tuple[int, int] | None = None, on_error: str = "raise",
                     max_frames: int = MAX_FRAMES, token: str | None = None,
                     base_url: str | None = None, sample: Any = "500ms",
                     fps: float | None = None):
        target = str(filename_or_obj)
        options = dict(every=every, scale=scale, grayscale=grayscale,
                       coerce_shape=coerce_shape, on_error=on_error, max_frames=max_frames,
                       token=token, base_url=base_url)
        is_glob = any(c in target for c in "*?[")
        where = None if is_glob else paths.parse(target)
        if is_glob or where.is_file:
            if start is not None or end is not None:
                raise ValueError("start/end select from a camera product; a glob or a file "
                                 "path selects by itself")
            ds = open_images(target if is_glob else [paths.archive_url(target)], **options)
        elif where.depth == 2 and kind_of(where.product) == "video":
            from intake_webcoos.cube.video import open_video

            options.pop("every")
            ds = open_video(where.asset, where.product, start, end, sample=sample, fps=fps,
                            **options)
        elif where.depth == 2:
            ds = open_images(where.asset, where.product, start, end, **options)  # or says why not
        else:
            raise ValueError(f"{target!r}: give webcoos://camera/product with start= and end=, "
                             "or a webcoos:// glob")
        return ds.drop_vars(drop_variables or [], errors="ignore")

    def guess_can_open(self, filename_or_obj: Any) -> bool:
        return paths.is_archive_url(filename_or_obj)
