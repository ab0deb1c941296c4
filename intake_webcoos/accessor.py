"""The ``.webcoos`` accessor on xarray objects: a thin face over products and world.

Registered by ``import intake_webcoos`` as soon as xarray is imported (see
``intake_webcoos/__init__.py``), so every Dataset and DataArray has it.  The
methods import what they call: this module is imported while xarray finishes
importing, which may be in the middle of importing a module of ``products``
(they import xarray), and a top-level import of them would then run in a circle.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import xarray as xr

from intake_webcoos.errors import ArgumentTypeError


class WebcoosAccessor:
    """Coastal-imaging products of a WebCOOS image cube (``ds.webcoos.timex()``...)."""

    def __init__(self, obj: xr.Dataset | xr.DataArray) -> None:
        self._obj = obj

    def timex(self, freq: str | None = None, *, per: str | None = None) -> xr.DataArray:
        """Mean of each pixel over time (whole series, per ``freq`` bin or ``per="clip"``)."""
        from intake_webcoos.products.reductions import timex

        return timex(self._obj, freq, per=per)

    def variance(self, freq: str | None = None, *, per: str | None = None) -> xr.DataArray:
        """Standard deviation of each pixel over time (coastal imaging's "variance")."""
        from intake_webcoos.products.reductions import variance

        return variance(self._obj, freq, per=per)

    def brightest(self, freq: str | None = None, *, per: str | None = None) -> xr.DataArray:
        """Maximum of each pixel and band over time."""
        from intake_webcoos.products.reductions import brightest

        return brightest(self._obj, freq, per=per)

    def darkest(self, freq: str | None = None, *, per: str | None = None) -> xr.DataArray:
        """Minimum of each pixel and band over time."""
        from intake_webcoos.products.reductions import darkest

        return darkest(self._obj, freq, per=per)

    def timestack(self, points: Sequence[Sequence[float]] | None = None, spacing: float = 1.0,
                  *, world: Sequence[Sequence[float]] | None = None, geometry: Any = None,
                  z: Any = 0.0) -> xr.DataArray:
        """Pixels along a polyline in every frame, ``(time, distance, band)``.

        Either ``points`` in pixels (nearest pixels every ``spacing`` pixels), or
        ``world=`` vertices in metres with the camera's ``geometry`` (bilinear
        samples every ``spacing`` metres at elevation ``z``; see
        :func:`intake_webcoos.world.rectify.world_timestack`).
        """
        if world is None:
            if points is None or geometry is not None:
                raise ArgumentTypeError("give pixel points, or world= vertices and geometry=")
            from intake_webcoos.products.timestack import timestack

            return timestack(self._obj, points, spacing)
        if points is not None or geometry is None:
            raise ArgumentTypeError("a world= line takes geometry= (the camera's), and no "
                                    "pixel points")
        from intake_webcoos.world.rectify import world_timestack

        return world_timestack(self._obj, world, geometry, spacing, z)

    def rectify(self, geometry: Any, grid: Any, z: Any = 0.0) -> xr.Dataset | xr.DataArray:
        """Plan view on a grid in metres (see :func:`intake_webcoos.world.rectify.rectify`)."""
        from intake_webcoos.world.rectify import rectify

        return rectify(self._obj, geometry, grid, z)

    def shoreline(self, cross_shore: str = "x_world", **options: Any) -> xr.DataArray:
        """Shoreline of a rectified image (see :func:`intake_webcoos.world.shoreline.shoreline`)."""
        from intake_webcoos.world.shoreline import shoreline

        return shoreline(self._obj, cross_shore, **options)

    def stats(self, freq: str | None = None, *, per: str | None = None) -> xr.Dataset:
        """Timex, variance, brightest and darkest from one read of each frame."""
        from intake_webcoos.products.reductions import stats

        return stats(self._obj, freq, per=per)

    def to_gray(self) -> xr.DataArray:
        """Luminance, one band."""
        from intake_webcoos.products.reductions import to_gray

        return to_gray(self._obj)


xr.register_dataset_accessor("webcoos")(WebcoosAccessor)
xr.register_dataarray_accessor("webcoos")(WebcoosAccessor)
