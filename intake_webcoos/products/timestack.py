"""Timestacks: the pixels along a line in every frame, ``(time, distance, band)``.

On a cube of video clips (or any selection of its frames along ``time``) the
line is decoded straight from the clips (:mod:`intake_webcoos.cube.lines`): a
20 Hz timestack of a 10-minute burst decodes each clip once and never holds
its frames; on other cubes the line is sliced from the decoded frames.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr

from intake_webcoos.cube.lines import clip_line
from intake_webcoos.errors import InvalidArgumentError
from intake_webcoos.products.reductions import image_of


def line_points(points: Sequence[Sequence[float]], spacing: float = 1.0
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sample a polyline every ``spacing`` (its own units): ``(distance, x, y)``."""
    vertices = np.asarray(points, dtype=float)
    if vertices.ndim != 2 or vertices.shape[1] != 2 or len(vertices) < 2:
        raise InvalidArgumentError("points must be a sequence of at least two (x, y) positions")
    if spacing <= 0:
        raise InvalidArgumentError("spacing must be positive")
    steps = np.diff(vertices, axis=0)
    lengths = np.hypot(steps[:, 0], steps[:, 1])
    along = np.concatenate([[0.0], np.cumsum(lengths)])
    distance = np.arange(0.0, along[-1] + 1e-9, spacing)
    return (distance, np.interp(distance, along, vertices[:, 0]),
            np.interp(distance, along, vertices[:, 1]))


def line_pixels(points: Sequence[Sequence[float]], spacing: float = 1.0
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sample a polyline every ``spacing`` pixels: ``(distance, x, y)`` (x, y rounded)."""
    distance, x, y = line_points(points, spacing)
    return distance, np.rint(x).astype(int), np.rint(y).astype(int)


def timestack(obj, points: Sequence[Sequence[float]], spacing: float = 1.0) -> xr.DataArray:
    """The pixels along a polyline in every frame: ``(time, distance, band)``.

    Parameters
    ----------
    points : sequence of (x, y)
        Vertices of the line in pixel coordinates of the cube (``x`` = column,
        ``y`` = row), e.g. a cross-shore transect ``[(600, 250), (600, 700)]``.
    spacing : float
        Distance between samples along the line, in pixels (nearest pixel).
    """
    image = image_of(obj)
    distance, x, y = line_pixels(points, spacing)
    ny, nx = image.sizes["y"], image.sizes["x"]
    if x.min() < 0 or y.min() < 0 or x.max() >= nx or y.max() >= ny:
        raise InvalidArgumentError(f"the line leaves the {nx}x{ny} frame")
    stack = image.isel(x=xr.DataArray(x, dims="distance"), y=xr.DataArray(y, dims="distance"))
    line = clip_line(image, y, x)
    if line is not None:  # the same DataArray, its pixels decoded from the clips
        pixels, valid = line
        stack = stack.copy(data=pixels)
        if "valid" in stack.coords:
            stack = stack.assign_coords(valid=("time", valid))
    stack = stack.assign_coords(distance=("distance", distance))
    stack.name = "timestack"
    stack.attrs = {**image.attrs, "product": "timestack",
                   "description": "pixels along a line in every frame",
                   "points": np.asarray(points, dtype=float).ravel().tolist(),
                   "spacing": spacing}
    return stack
