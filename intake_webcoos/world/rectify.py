"""Images resampled at world points: plan-view (rectified) grids and transects in metres.

A calibrated :class:`~intake_webcoos.world.geometry.CameraGeometry` says where each
point of the world appears in the image.  :func:`rectify` projects every cell
of a plan-view :class:`Grid` (on the horizontal plane of elevation ``z``) into
the image once, and then samples each frame there by bilinear interpolation;
:func:`world_timestack` does the same for points along a line drawn in metres.

Conventions
-----------
* The output's world dimensions are ``y_world`` and ``x_world`` (a transect's:
  ``distance``), in metres of the geometry's local frame, cell centres, both
  increasing.  They are named apart from the image's pixel dimensions ``y`` and
  ``x`` (rows and columns), which rectification consumes, so an oblique image and
  its plan view can sit in one Dataset.  ``longitude`` and ``latitude``
  coordinates are added when the geometry knows its origin's position.
* Cells whose point falls outside the image (or behind the camera, or beyond
  the horizon) are NaN; the output is float32 whatever the input's type.
* The geometry may be calibrated at any size: for a cube opened with
  ``scale=1/4`` (or a smaller stand-in frame) it is rescaled with
  :meth:`CameraGeometry.scaled`, from the cube's ``scale`` attribute or from the
  ratio of the image width to the geometry's.
* ``z`` is the elevation of the plane the image is projected onto: a number,
  or one value per ``time`` (e.g. the tide level, so that the waterline lands
  where it is).

Sampling is one sparse matrix of bilinear weights (four per cell, from
:mod:`scipy.sparse`) applied to a chunk of frames at once, inside dask, chunk by
chunk along ``time`` (:data:`FRAMES_PER_TASK` frames a task): memory does not
grow with the number of frames.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr
from numpy.typing import ArrayLike
from scipy import sparse

from intake_webcoos.cube.lines import clip_line
from intake_webcoos.errors import GeometryError, InvalidArgumentError
from intake_webcoos.products.reductions import image_of
from intake_webcoos.products.timestack import line_points
from intake_webcoos.world.geometry import CameraGeometry

#: Names of the plan-view dimensions (the image's own are ``y`` and ``x``).
Y, X = "y_world", "x_world"
GeometryLike = CameraGeometry | str | os.PathLike
#: Frames resampled by one task: input chunks that hold fewer are grouped (a product
#: of the weights with many columns costs less per column), larger ones split (an
#: output chunk of many frames of a large grid would be hundreds of MB).
FRAMES_PER_TASK = 8


@dataclass(frozen=True)
class Grid:
    """A plan-view grid of cell centres in the geometry's local frame, metres.

    Cell centres run from ``x0`` to ``x1`` and from ``y0`` to ``y1`` every
    ``spacing`` (both ends included when they fall on the lattice).

    Parameters
    ----------
    x0, x1, y0, y1 : float
        First and last cell centres along ``x`` and ``y``.
    spacing : float
        Distance between cell centres, metres.

    Examples
    --------
    ``Grid(-100, 100, 50, 250, 0.5)`` or, wherever a grid is asked for,
    ``dict(x=(-100, 100), y=(50, 250), spacing=0.5)``: 401 x 401 cells.
    """

    x0: float
    x1: float
    y0: float
    y1: float
    spacing: float

    def __post_init__(self) -> None:
        values = (self.x0, self.x1, self.y0, self.y1, self.spacing)
        if not all(math.isfinite(v) for v in values) or self.spacing <= 0:
            raise InvalidArgumentError(f"a grid needs finite bounds and a positive spacing, "
                                       f"not {self}")
        if self.x1 < self.x0 or self.y1 < self.y0:
            raise InvalidArgumentError(f"a grid's bounds must increase (x0 <= x1, y0 <= y1), "
                                       f"not {self}")

    @classmethod
    def of(cls, grid: Grid | Mapping[str, Any]) -> Grid:
        """``grid`` itself, or the grid of a ``dict(x=(x0, x1), y=(y0, y1), spacing=s)``."""
        if isinstance(grid, Grid):
            return grid
        try:
            (x0, x1), (y0, y1) = grid["x"], grid["y"]
            return cls(float(x0), float(x1), float(y0), float(y1), float(grid["spacing"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidArgumentError("a grid is a Grid(x0, x1, y0, y1, spacing) or a "
                                       "dict(x=(x0, x1), y=(y0, y1), spacing=s)") from exc

    @property
    def x(self) -> np.ndarray:
        """Cell centres along ``x``, metres."""
        return _axis(self.x0, self.x1, self.spacing)

    @property
    def y(self) -> np.ndarray:
        """Cell centres along ``y``, metres."""
        return _axis(self.y0, self.y1, self.spacing)

    @property
    def shape(self) -> tuple[int, int]:
        """``(ny, nx)``: cells along ``y_world`` and ``x_world``."""
        return len(self.y), len(self.x)


def _axis(first: float, last: float, spacing: float) -> np.ndarray:
    # Multiples of the spacing, not a running sum: 0.5 m steps stay exact.
    count = math.floor((last - first) / spacing + 1e-9) + 1
    return first + spacing * np.arange(count)


def fit_geometry(geometry: GeometryLike, image: xr.DataArray) -> CameraGeometry:
    """The geometry at the size of ``image`` (rescaled for a cube opened at a scale).

    Parameters
    ----------
    geometry : CameraGeometry or path
        The calibration, or a JSON/YAML file of it (:meth:`CameraGeometry.load`).
    image : xarray.DataArray
        Anything with pixel dimensions ``y`` and ``x``.

    Raises
    ------
    GeometryError
        If no scaling of the geometry has the image's size.
    """
    if not isinstance(geometry, CameraGeometry):
        geometry = CameraGeometry.load(geometry)
    ny, nx = image.sizes["y"], image.sizes["x"]
    for factor in (1, image.attrs.get("scale"), nx / geometry.width):
        if factor:
            fitted = geometry.scaled(factor) if factor != 1 else geometry
            if (fitted.width, fitted.height) == (nx, ny):
                return fitted
    raise GeometryError(
        f"the camera geometry is for {geometry.width}x{geometry.height} images, and no "
        f"scaling of it gives these {nx}x{ny} frames (scale={image.attrs.get('scale')}): "
        "is it the calibration of this camera?")


def bilinear_weights(geometry: CameraGeometry, x: np.ndarray, y: np.ndarray,
                     z: float) -> tuple[sparse.csr_matrix, np.ndarray]:
    """The matrix that samples an image at world points by bilinear interpolation.

    Returns ``(weights, outside)``: ``weights @ pixels`` (pixels flattened row
    by row, one column per band or frame) gives the values at the points
    ``(x, y, z)`` (flattened), and ``outside`` indexes the points not in the image.
    """
    u, v = geometry.world_to_pixel(x.ravel(), y.ravel(), z)
    outside = np.isnan(u) | np.isnan(v)
    nx, ny = geometry.width, geometry.height
    # The image reaches half a pixel past the outer centres: clamp (nearest) there.
    u = np.clip(np.where(outside, 0.0, u), 0, nx - 1)
    v = np.clip(np.where(outside, 0.0, v), 0, ny - 1)
    u0 = np.minimum(np.floor(u), nx - 2).astype(np.intp)
    v0 = np.minimum(np.floor(v), ny - 2).astype(np.intp)
    du, dv = u - u0, v - v0
    inside = np.flatnonzero(~outside)
    corner = (v0 * nx + u0)[inside]
    columns = np.concatenate([corner, corner + 1, corner + nx, corner + nx + 1])
    values = np.concatenate([((1 - du) * (1 - dv))[inside], (du * (1 - dv))[inside],
                             ((1 - du) * dv)[inside], (du * dv)[inside]])
    weights = sparse.csr_matrix((values.astype(np.float32), (np.tile(inside, 4), columns)),
                                shape=(u.size, nx * ny))
    return weights, np.flatnonzero(outside)


class _Sampler:
    """Samples blocks of images at fixed world points, for one elevation or one per frame."""

    def __init__(self, geometry: CameraGeometry, x: np.ndarray, y: np.ndarray) -> None:
        self.geometry, self.x, self.y = geometry, x, y
        self._weights: dict[float, tuple[sparse.csr_matrix, np.ndarray]] = {}

    def weights(self, z: float) -> tuple[sparse.csr_matrix, np.ndarray]:
        # Filled by several threads without a lock: an entry may be built twice.
        if z not in self._weights:
            self._weights[z] = bilinear_weights(self.geometry, self.x, self.y, z)
        return self._weights[z]

    def __call__(self, images: np.ndarray, z: np.ndarray) -> np.ndarray:
        """``images`` ``(..., ny, nx)`` -> ``(..., *points shape)`` float32, NaN outside."""
        lead = images.shape[:-2]
        pixels = images.reshape(-1, images.shape[-2] * images.shape[-1])
        levels = np.broadcast_to(z, lead).reshape(-1)
        unique = np.unique(levels)
        if unique.size == 1:
            out = self._apply(pixels, float(unique[0]))
        else:
            out = np.empty((self.x.size, pixels.shape[0]), dtype=np.float32)
            for level in unique:
                rows = np.flatnonzero(levels == level)
                out[:, rows] = self._apply(pixels[rows], float(level))
        return out.T.reshape(*lead, *self.x.shape)

    def _apply(self, pixels: np.ndarray, z: float) -> np.ndarray:
        """``(cells, images)``: one sparse product for every frame and band at this level."""
        weights, outside = self.weights(z)
        values = weights @ np.ascontiguousarray(pixels.T, dtype=np.float32)
        values[outside] = np.nan
        return values


def _levels(z: float | ArrayLike | xr.DataArray, image: xr.DataArray) -> float | xr.DataArray:
    """``z`` as a number, or as a DataArray along the image's ``time``.

    An array gives one value per frame, in order; a DataArray with a ``time``
    coordinate (a tide record) is interpolated to the image's times.
    """
    if np.ndim(z) == 0:
        return float(z)
    if "time" not in image.dims:
        raise InvalidArgumentError("z may be one value per time only for images with a time "
                                   "dimension")
    if isinstance(z, xr.DataArray) and "time" in z.coords:
        # On nanoseconds: xarray's interp gives NaN between datetime64 units (us vs ns).
        known, wanted = (np.asarray(t, dtype="datetime64[ns]").astype(np.int64)
                         for t in (z["time"].values, image["time"].values))
        if z.dims != ("time",) or wanted.min() < known.min() or wanted.max() > known.max():
            raise InvalidArgumentError("z along time must cover the image's times (and have "
                                       "no other dimension)")
        order = np.argsort(known)
        z = xr.DataArray(np.interp(wanted, known[order], z.values.astype(float)[order]),
                         dims="time")
    else:
        z = xr.DataArray(np.asarray(z, dtype=float), dims="time")
        if z.ndim != 1 or z.sizes["time"] != image.sizes["time"]:
            raise InvalidArgumentError(f"z must be a number or one value per time "
                                       f"({image.sizes['time']}), not of shape {z.shape}")
    return z.assign_coords(time=image["time"]).reset_coords(drop=True)


def _time_chunks(sizes: Sequence[int]) -> int | tuple[int, ...]:
    """Frames per resampling task: :data:`FRAMES_PER_TASK`, from smaller chunks grouped or
    larger ones split (within each chunk), so an output chunk stays a few frames of the
    grid whatever the input's chunks."""
    if max(sizes) < FRAMES_PER_TASK:
        return FRAMES_PER_TASK
    return tuple(piece for size in sizes for piece in
                 [FRAMES_PER_TASK] * (size // FRAMES_PER_TASK) + [size % FRAMES_PER_TASK]
                 if piece)


def _sample(image: xr.DataArray, geometry: CameraGeometry, x: np.ndarray, y: np.ndarray,
            z: float | xr.DataArray, dims: Sequence[str]) -> xr.DataArray:
    """``image`` sampled at world points ``(x, y)`` of dims ``dims``, lazily where it is."""
    if image.chunks:
        # Whole images per task, and several frames: one sparse product serves them all.
        batch = {"time": _time_chunks(image.chunksizes["time"])} if "time" in image.dims else {}
        image = image.chunk({"y": -1, "x": -1, **batch})
    sampler = _Sampler(geometry, x, y)
    if np.ndim(z) == 0:
        sampler.weights(z)  # once, here: the tasks share it
    out = xr.apply_ufunc(
        sampler, image, z, input_core_dims=[["y", "x"], []], output_core_dims=[list(dims)],
        dask="parallelized", output_dtypes=[np.float32],
        dask_gufunc_kwargs={"output_sizes": dict(zip(dims, x.shape, strict=True))},
        keep_attrs=True)
    order = [d for d in image.dims if d not in ("y", "x", "band")]
    return out.transpose(*order, *dims, *(["band"] if "band" in image.dims else []))


def _with_lonlat(out: xr.DataArray, geometry: CameraGeometry, x: np.ndarray,
                 y: np.ndarray, dims: Sequence[str]) -> xr.DataArray:
    if geometry.latitude is None:
        return out
    longitude, latitude = geometry.local_to_lonlat(x, y)
    return out.assign_coords(
        longitude=(tuple(dims), longitude, {"units": "degrees_east", "standard_name": "longitude"}),
        latitude=(tuple(dims), latitude, {"units": "degrees_north", "standard_name": "latitude"}))


def _describe(out: xr.DataArray, image: xr.DataArray, geometry: CameraGeometry,
              z: float | xr.DataArray, **more: Any) -> xr.DataArray:
    out.name = image.name
    out.attrs = {**image.attrs, **more,
                 "z": z if isinstance(z, float) else "one value per time (the z coordinate)",
                 "geometry": json.dumps(geometry.to_dict())}
    out.attrs.pop("valid_range", None)  # float32, NaN outside the view
    if isinstance(z, xr.DataArray):
        out = out.assign_coords(z=z)
    return out


def _world_coord(values: np.ndarray, dims: Sequence[str], axis: str) -> tuple:
    return (tuple(dims), values, {"units": "m", "long_name": f"{axis} of the local frame"})


def rectify(obj: xr.Dataset | xr.DataArray, geometry: GeometryLike,
            grid: Grid | Mapping[str, Any], z: float | ArrayLike | xr.DataArray = 0.0
            ) -> xr.Dataset | xr.DataArray:
    """Resample images onto a plan-view grid in metres (lazily, frame by frame).

    Parameters
    ----------
    obj : xarray.Dataset or xarray.DataArray
        A cube (``open_images``, ``open_video``) or any product of one with
        pixel dimensions ``y`` and ``x``: every frame ``(time, y, x, band)``, a
        timex ``(y, x, band)``, per-``freq`` products...
    geometry : CameraGeometry or path
        The camera's calibration (at any image size; see the module notes), or
        its JSON/YAML file.
    grid : Grid or dict
        The plan-view cells: ``Grid(x0, x1, y0, y1, spacing)`` or
        ``dict(x=(x0, x1), y=(y0, y1), spacing=0.5)``, metres of the local frame.
    z : float or array-like
        Elevation of the plane the image is projected onto, metres: one number,
        or one value per ``time`` (the tide level), then kept as coordinate ``z``:
        an array in the frames' order, or a DataArray along ``time`` (a tide
        record), interpolated to the frames' times.

    Returns
    -------
    xarray.Dataset or xarray.DataArray
        Of the input's kind, with ``y``, ``x`` replaced by ``y_world``, ``x_world``
        (cell centres, metres; ``longitude``, ``latitude`` too when the geometry
        has its origin's position): float32, NaN outside the camera's view, lazy
        when the input is (:data:`FRAMES_PER_TASK` frames a task along ``time``).
    """
    image = image_of(obj)
    fitted = fit_geometry(geometry, image)
    grid = Grid.of(grid)
    x, y = np.meshgrid(grid.x, grid.y)
    z = _levels(z, image)
    out = _sample(image, fitted, x, y, z, (Y, X))
    out = out.assign_coords({X: _world_coord(grid.x, (X,), "x"),
                             Y: _world_coord(grid.y, (Y,), "y")})
    out = _with_lonlat(out, fitted, x, y, (Y, X))
    out = _describe(out, image, fitted, z, grid=[grid.x0, grid.x1, grid.y0, grid.y1,
                                                 grid.spacing],
                    rectification="bilinear samples of the image at the grid's cell centres")
    if isinstance(obj, xr.Dataset):
        return obj.drop_dims(["y", "x"]).assign(image=out)
    return out


def _sampled_from_clips(image: xr.DataArray, geometry: CameraGeometry, x: np.ndarray,
                        y: np.ndarray, z: float | xr.DataArray) -> tuple[Any, Any] | None:
    """The line sampled in every frame of a video cube, from only the pixels it needs.

    Those pixels are decoded straight from the clips (:func:`~intake_webcoos.cube.lines.
    clip_line`); None for other cubes, or for one elevation per frame.
    """
    if not isinstance(z, float):
        return None
    weights, outside = bilinear_weights(geometry, x, y, z)
    used = np.unique(weights.indices)
    picked = clip_line(image, used // geometry.width, used % geometry.width)
    if picked is None:
        return None
    pixels, valid = picked
    sub = weights[:, used]

    def sample(block: np.ndarray) -> np.ndarray:
        frames, _, bands = block.shape
        flat = np.ascontiguousarray(block.transpose(1, 0, 2).reshape(len(used), -1),
                                    dtype=np.float32)
        values = sub @ flat
        values[outside] = np.nan
        return values.reshape(-1, frames, bands).transpose(1, 0, 2)

    return pixels.map_blocks(sample, dtype=np.float32,
                             chunks=(pixels.chunks[0], (x.size,), pixels.chunks[2])), valid


def world_timestack(obj: xr.Dataset | xr.DataArray, world: Sequence[Sequence[float]],
                    geometry: GeometryLike, spacing: float = 1.0,
                    z: float | ArrayLike | xr.DataArray = 0.0) -> xr.DataArray:
    """The image along a line drawn in metres, in every frame: ``(time, distance, band)``.

    Parameters
    ----------
    obj : xarray.Dataset or xarray.DataArray
        A cube or product with pixel dimensions ``y`` and ``x``.
    world : sequence of (x, y)
        Vertices of the line (polyline) in the local frame, metres, e.g. a
        cross-shore transect ``[(0, 60), (0, 200)]``.
    geometry : CameraGeometry or path
        The camera's calibration, or its file.
    spacing : float
        Distance between samples along the line, metres (bilinear samples).
    z : float or array-like
        Elevation of the line, metres: a number or one value per ``time``.

    Returns
    -------
    xarray.DataArray
        float32, NaN where the line leaves the view; coordinates ``distance``
        (metres along the line), ``x_world``, ``y_world``, ``longitude``,
        ``latitude`` (when the geometry knows its origin).
    """
    image = image_of(obj)
    fitted = fit_geometry(geometry, image)
    distance, x, y = line_points(world, spacing)
    z = _levels(z, image)
    out = _sample(image, fitted, x, y, z, ("distance",))
    from_clips = _sampled_from_clips(image, fitted, x, y, z)
    if from_clips is not None:  # the same DataArray, its values decoded from the clips
        values, valid = from_clips
        out = out.copy(data=values)
        if "valid" in out.coords:
            out = out.assign_coords(valid=("time", valid))
    out = out.assign_coords(distance=("distance", distance, {"units": "m"}),
                            **{X: _world_coord(x, ("distance",), "x"),
                               Y: _world_coord(y, ("distance",), "y")})
    out = _with_lonlat(out, fitted, x, y, ("distance",))
    out = _describe(out, image, fitted, z, product="timestack",
                    description="the image along a line in metres, in every frame",
                    world=np.asarray(world, dtype=float).ravel().tolist(), spacing=spacing)
    out.name = "timestack"
    return out
