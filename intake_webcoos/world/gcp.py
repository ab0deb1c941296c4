"""Extrinsics from ground control points: the camera's position and angles by least squares.

Given the intrinsics of a camera and ``N >= 3`` points of known world
position seen at known pixels, :func:`solve_extrinsics` finds ``x, y, z,
azimuth, tilt, roll`` minimising the reprojection error, as CIRN's
``C_singleExtrinsicSolution`` does, with :func:`scipy.optimize.least_squares`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Collection
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import OptimizeResult, least_squares

from intake_webcoos.errors import GeometryError
from intake_webcoos.world.geometry import CameraGeometry

__all__ = ["EXTRINSICS", "SolveReport", "solve_extrinsics"]

#: The attributes of :class:`CameraGeometry` that :func:`solve_extrinsics` finds.
EXTRINSICS = ("x", "y", "z", "azimuth", "tilt", "roll")

_STARTS = 8  # azimuths tried when no initial geometry is given
_START_TILT_DEG = 70.0


@dataclass(frozen=True)
class SolveReport:
    """How well the solved extrinsics reproject the ground control points.

    Attributes
    ----------
    rms : float
        Root mean square of the residuals, pixels, over both coordinates of
        every point: an estimate of the standard deviation of the pixel error.
    residuals : numpy.ndarray
        ``(N, 2)`` projected minus observed ``(u, v)``, pixels.
    n_points : int
        Number of control points.
    converged : bool
        Whether the least-squares solver met its tolerances.
    message : str
        The solver's account of how it stopped.
    uncertainty : dict of str to float
        One standard error of each solved extrinsic (metres, degrees) from the
        Jacobian at the solution; NaN when there are no more residuals than
        unknowns.
    """

    rms: float
    residuals: np.ndarray
    n_points: int
    converged: bool
    message: str
    uncertainty: dict[str, float]

    @property
    def errors(self) -> np.ndarray:
        """``(N,)`` reprojection distance of each point, pixels."""
        return np.hypot(self.residuals[:, 0], self.residuals[:, 1])


def solve_extrinsics(intrinsics: CameraGeometry, world_points: ArrayLike, pixels: ArrayLike,
                     initial: CameraGeometry | None = None,
                     fixed: Collection[str] = ()) -> tuple[CameraGeometry, SolveReport]:
    """Solve the camera position and angles from ground control points.

    Parameters
    ----------
    intrinsics : CameraGeometry
        Its intrinsics (size, principal point, focal lengths, distortion),
        origin and name are kept; its extrinsics are not used.
    world_points : array_like
        ``(N, 3)`` local-frame ``x, y, z`` of the points, metres.
    pixels : array_like
        ``(N, 2)`` observed ``u, v`` of the points, ``(0, 0)`` the centre of the
        top-left pixel, in an image of ``intrinsics``' size.
    initial : CameraGeometry, optional
        Extrinsics to start from.  By default the solver starts from cameras
        at eight compass points around the points' centroid, looking at it from
        about twice the points' spread and 20 degrees above the horizon, and
        keeps the best solution.
    fixed : collection of str
        Extrinsics (of :data:`EXTRINSICS`) held at their `initial` value, as
        for a surveyed camera position; needs `initial`.

    Returns
    -------
    geometry : CameraGeometry
        `intrinsics` with the solved extrinsics.
    report : SolveReport
        Reprojection error, residuals and convergence.

    Raises
    ------
    GeometryError
        If there are fewer than 3 points, the arrays have the wrong shapes or
        are not finite, or `fixed` names something else or comes without `initial`.
    """
    world, observed = _check_points(world_points, pixels)
    free = _free_parameters(fixed, initial)
    if 2 * len(world) < len(free):
        raise GeometryError(f"{len(world)} points give {2 * len(world)} residuals, fewer than "
                            f"the {len(free)} extrinsics to solve: add points or fix some")
    starts = [initial] if initial is not None else _default_starts(intrinsics, world)
    best = None
    for start in starts:
        result = _solve_from(intrinsics, start, free, world, observed)
        if best is None or result[1].cost < best[1].cost:
            best = result
    geometry, result = best
    residuals = result.fun.reshape(-1, 2)
    return geometry, SolveReport(
        rms=float(np.sqrt(np.mean(residuals**2))), residuals=residuals, n_points=len(world),
        converged=bool(result.success) and bool(np.isfinite(result.fun).all()),
        message=str(result.message), uncertainty=_uncertainty(result, free))


def _check_points(world_points: ArrayLike, pixels: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    world = np.asarray(world_points, dtype=np.float64)
    observed = np.asarray(pixels, dtype=np.float64)
    if world.ndim != 2 or world.shape[1] != 3:
        raise GeometryError(f"world_points must have shape (N, 3), not {world.shape}")
    if observed.shape != (len(world), 2):
        raise GeometryError(f"pixels must have shape ({len(world)}, 2) like world_points' "
                            f"(N, 3), not {observed.shape}")
    if len(world) < 3:
        raise GeometryError(f"solving the extrinsics needs at least 3 ground control points, "
                            f"not {len(world)}")
    if not (np.isfinite(world).all() and np.isfinite(observed).all()):
        raise GeometryError("world_points and pixels must be finite (no NaN or inf)")
    return world, observed


def _free_parameters(fixed: Collection[str], initial: CameraGeometry | None) -> list[str]:
    if isinstance(fixed, str):
        fixed = [fixed]
    unknown = sorted(set(fixed) - set(EXTRINSICS))
    if unknown:
        raise GeometryError(f"fixed names {unknown[0]!r}, not one of {', '.join(EXTRINSICS)}")
    if fixed and initial is None:
        raise GeometryError("fixed extrinsics are held at their initial value: give initial=")
    return [name for name in EXTRINSICS if name not in fixed]


def _default_starts(intrinsics: CameraGeometry, world: np.ndarray) -> list[CameraGeometry]:
    """Cameras around the centroid looking at it, one per compass point."""
    centroid = world.mean(axis=0)
    spread = max(float(np.linalg.norm(world[:, :2] - centroid[:2], axis=1).max()), 10.0)
    distance = 2.0 * spread
    height = distance / math.tan(math.radians(_START_TILT_DEG))
    starts = []
    for azimuth in np.arange(_STARTS) * 360.0 / _STARTS:
        a = math.radians(azimuth)
        starts.append(dataclasses.replace(
            intrinsics, x=centroid[0] - distance * math.sin(a),
            y=centroid[1] - distance * math.cos(a), z=centroid[2] + height,
            azimuth=float(azimuth), tilt=_START_TILT_DEG, roll=0.0))
    return starts


def _solve_from(intrinsics: CameraGeometry, start: CameraGeometry, free: list[str],
                world: np.ndarray, observed: np.ndarray) -> tuple[CameraGeometry, OptimizeResult]:
    base = dataclasses.replace(intrinsics, **{name: getattr(start, name) for name in EXTRINSICS})
    # A point behind the camera has no pixel: count it as a large, constant miss.
    miss = float(np.hypot(intrinsics.width, intrinsics.height))

    def geometry_of(parameters: np.ndarray) -> CameraGeometry:
        return dataclasses.replace(base, **dict(zip(free, map(float, parameters), strict=True)))

    def residuals(parameters: np.ndarray) -> np.ndarray:
        u, v = geometry_of(parameters).world_to_pixel(*world.T, within_image=False)
        return np.nan_to_num(np.stack([u, v], axis=-1) - observed, nan=miss).ravel()

    x0 = np.array([getattr(base, name) for name in free])
    result = least_squares(residuals, x0, x_scale="jac", xtol=1e-12, ftol=1e-12, gtol=1e-12)
    geometry = geometry_of(result.x)
    # One spelling of the same camera: azimuth in [0, 360), roll in [-180, 180).
    geometry = dataclasses.replace(geometry, azimuth=geometry.azimuth % 360.0,
                                   roll=(geometry.roll + 180.0) % 360.0 - 180.0)
    result.fun = residuals(np.array([getattr(geometry, name) for name in free]))
    return geometry, result


def _uncertainty(result: OptimizeResult, free: list[str]) -> dict[str, float]:
    """One standard error per free parameter from ``s**2 (J^T J)^-1``."""
    residuals, jacobian = result.fun, result.jac
    dof = residuals.size - len(free)
    if dof <= 0:
        return dict.fromkeys(free, math.nan)
    variance = float(residuals @ residuals) / dof
    covariance = np.linalg.pinv(jacobian.T @ jacobian) * variance
    return {name: float(math.sqrt(max(c, 0.0))) for name, c in zip(free, np.diag(covariance),
                                                                    strict=True)}
