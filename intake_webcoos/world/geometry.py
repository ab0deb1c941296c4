"""Camera geometry: where a point of the world appears in an image, and back.

:class:`CameraGeometry` holds the intrinsics and extrinsics of a fixed camera
with the conventions of the CIRN Quantitative Coastal Imaging toolbox
(Bruder and Brodie, 2020), in degrees instead of CIRN's radians.

**Field mapping.** The attributes have readable names; files (JSON or YAML) use CIRN's names:

============  ======================  ==================================================
attribute     file field              meaning
============  ======================  ==================================================
width         intrinsics.NU           image width, pixels
height        intrinsics.NV           image height, pixels
cx            intrinsics.c0U          principal point, column (pixels)
cy            intrinsics.c0V          principal point, row (pixels)
fx            intrinsics.fx           focal length, horizontal, pixels
fy            intrinsics.fy           focal length, vertical, pixels
k1, k2, k3    intrinsics.d1, d2, d3   radial distortion coefficients
p1, p2        intrinsics.t1, t2       tangential distortion coefficients
x, y, z       extrinsics.x, y, z      camera position in the local frame, metres
azimuth       extrinsics.azimuth      view direction, degrees clockwise from +y
tilt          extrinsics.tilt         degrees from nadir: 0 straight down, 90 horizontal
roll          extrinsics.swing        degrees of rotation about the view axis
latitude      origin.latitude         of the local frame's origin (optional)
longitude     origin.longitude        of the local frame's origin (optional)
bearing       origin.bearing          compass bearing of the local +y axis (default 0)
name          name                    free text (optional)
============  ======================  ==================================================

**Conventions.**

* The local frame is right-handed and metric: ``z`` is up (elevation above
  the datum), and ``+y`` points along the compass bearing ``bearing`` (north
  by default, when ``+x`` is east).
* Pixel coordinates ``(u, v)`` are column and row with ``(0, 0)`` the centre
  of the top-left pixel, so the image spans ``-0.5 <= u <= width - 0.5``: the
  integer ``x`` and ``y`` coordinates of an image cube are pixel centres.  This
  is the convention of Bouguet's Caltech calibration toolbox, which CIRN's
  calibrations come from; subtract 1 from ``c0U, c0V`` obtained by code that
  counts pixels from 1.
* The rotation is CIRN's ``CIRNangles2R``.  With ``a, t, s`` the azimuth,
  tilt and swing (roll), the rows of ``R`` are::

      [-cos a cos s - sin a cos t sin s,  cos s sin a - sin s cos t cos a, -sin s sin t]
      [-sin s cos a + cos s cos t sin a,  sin s sin a + cos s cos t cos a,  cos s sin t]
      [ sin t sin a,                      sin t cos a,                     -cos t     ]

  A world point ``X`` has camera coordinates ``p = R (X - C)`` with ``C`` the
  camera position; ``p[2]`` is the depth along the view direction
  ``(sin t sin a, sin t cos a, -cos t)`` and is positive in front of the camera.
  The projection is CIRN's ``P = K R [I | -C]`` with ``K = [[-fx, 0, c0U],
  [0, -fy, c0V], [0, 0, 1]]``: at zero roll, ``+u`` (right) is to the right of
  the view direction and ``+v`` (down) is down.
* Distortion is CIRN's ``distortUV`` (the same model as OpenCV's with five
  coefficients), applied to the normalised coordinates ``x = -p[0] / p[2]``,
  ``y = -p[1] / p[2]`` with ``r2 = x**2 + y**2``::

      x_d = x (1 + d1 r2 + d2 r2**2 + d3 r2**3) + 2 t1 x y + t2 (r2 + 2 x**2)
      y_d = y (1 + d1 r2 + d2 r2**2 + d3 r2**3) + t1 (r2 + 2 y**2) + 2 t2 x y

  then ``u = c0U + fx x_d`` and ``v = c0V + fy y_d``.  The model holds only
  where the radial term grows with the radius; points beyond are NaN both
  ways, as in CIRN's ``xyz2DistUV``.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from intake_webcoos.errors import GeometryError
from intake_webcoos.world import geometry_files
from intake_webcoos.world.geometry_files import FIELDS, finite, invalid

__all__ = ["CameraGeometry"]

# WGS84, for the radii of curvature of the local tangent plane.
_WGS84_A = 6_378_137.0
_WGS84_E2 = 6.694379990141317e-3

_UNDISTORT_STEPS = 20
_UNDISTORT_TOLERANCE_PX = 1e-7


@dataclass(frozen=True)
class CameraGeometry:
    """Intrinsics and extrinsics of a fixed camera (CIRN conventions, degrees).

    See the module docstring for the conventions and the names in files.

    Parameters
    ----------
    width, height : int
        Image size in pixels (CIRN ``NU``, ``NV``).
    cx, cy : float
        Principal point in pixels, ``(0, 0)`` the centre of the top-left pixel
        (CIRN ``c0U``, ``c0V``).
    fx, fy : float
        Focal lengths in pixels.
    k1, k2, k3 : float
        Radial distortion (CIRN ``d1, d2, d3``).
    p1, p2 : float
        Tangential distortion (CIRN ``t1, t2``).
    x, y, z : float
        Camera position in the local frame, metres (``z`` up).
    azimuth : float
        Degrees clockwise from the local ``+y`` axis to the view direction.
    tilt : float
        Degrees from nadir: 0 looks straight down, 90 at the horizon.
    roll : float
        Degrees of rotation about the view axis (CIRN's swing).
    latitude, longitude : float, optional
        Position of the local frame's origin (degrees, WGS84).
    bearing : float
        Compass bearing of the local ``+y`` axis, degrees clockwise from north.
    name : str, optional
        Free text, e.g. the camera's slug.

    Raises
    ------
    GeometryError
        If a value is not a finite number, the size is not positive whole
        pixels, a focal length is not positive, or only one of latitude and
        longitude is given.
    """

    width: int
    height: int
    cx: float
    cy: float
    fx: float
    fy: float
    k1: float = 0.0
    k2: float = 0.0
    k3: float = 0.0
    p1: float = 0.0
    p2: float = 0.0
    x: float = 0.0
    y: float = 0.0
    z: float = 0.0
    azimuth: float = 0.0
    tilt: float = 0.0
    roll: float = 0.0
    latitude: float | None = None
    longitude: float | None = None
    bearing: float = 0.0
    name: str | None = None

    def __post_init__(self) -> None:
        for attribute, _, _, default in FIELDS:
            value = getattr(self, attribute)
            if value is None and default is None:
                continue
            object.__setattr__(self, attribute, finite(attribute, value))
        for attribute in ("width", "height"):
            value = getattr(self, attribute)
            if value != int(value) or value < 1:
                raise invalid(attribute, "must be a whole number of pixels, at least 1", value)
            object.__setattr__(self, attribute, int(value))
        for attribute in ("fx", "fy"):
            if getattr(self, attribute) <= 0:
                raise invalid(attribute, "must be positive", getattr(self, attribute))
        if (self.latitude is None) != (self.longitude is None):
            raise GeometryError("give both latitude and longitude (origin.latitude and "
                                "origin.longitude) of the local frame's origin, or neither")
        if self.latitude is not None and not -90 <= self.latitude <= 90:
            raise invalid("latitude", "must be between -90 and 90 degrees", self.latitude)
        if self.name is not None and not isinstance(self.name, str):
            raise invalid("name", "must be a string", self.name)

    # -- matrices -----------------------------------------------------------
    @functools.cached_property
    def rotation(self) -> np.ndarray:
        """CIRN's ``R`` (``CIRNangles2R``): world offsets to camera coordinates, (3, 3)."""
        a, t, s = np.radians([self.azimuth, self.tilt, self.roll])
        sa, ca, st, ct, ss, cs = np.sin(a), np.cos(a), np.sin(t), np.cos(t), np.sin(s), np.cos(s)
        return np.array([
            [-ca * cs - sa * ct * ss, cs * sa - ss * ct * ca, -ss * st],
            [-ss * ca + cs * ct * sa, ss * sa + cs * ct * ca, cs * st],
            [st * sa, st * ca, -ct],
        ])

    @property
    def position(self) -> np.ndarray:
        """Camera position ``(x, y, z)`` in the local frame, metres."""
        return np.array([self.x, self.y, self.z])

    @functools.cached_property
    def _max_r2(self) -> float:
        """Largest squared normalised radius where the radial distortion is monotonic.

        ``d(r f(r))/dr = 1 + 3 d1 r2 + 5 d2 r2**2 + 7 d3 r2**3`` first reaching zero.
        """
        roots = np.polynomial.Polynomial([1.0, 3 * self.k1, 5 * self.k2, 7 * self.k3]).roots()
        positive = [root.real for root in roots if abs(root.imag) < 1e-12 and root.real > 0]
        return min(positive, default=math.inf)

    # -- projection ---------------------------------------------------------
    def world_to_pixel(self, x: ArrayLike, y: ArrayLike, z: ArrayLike, *,
                       within_image: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """Pixel coordinates of world points, with the lens distortion applied.

        Parameters
        ----------
        x, y, z : array_like
            Local-frame coordinates in metres; they broadcast together.
        within_image : bool
            Make points that fall outside the image NaN (the default).

        Returns
        -------
        u, v : numpy.ndarray
            Column and row, ``(0, 0)`` the centre of the top-left pixel, of the
            broadcast shape.  NaN for points behind the camera or in its plane
            (depth <= 0), beyond the radius where the distortion model is valid,
            and, with `within_image`, outside ``[-0.5, width - 0.5] x [-0.5,
            height - 0.5]``.
        """
        offsets = np.stack(np.broadcast_arrays(*(np.asarray(c, dtype=np.float64)
                                                 for c in (x, y, z))), axis=-1)
        camera = (offsets - self.position) @ self.rotation.T
        depth = camera[..., 2]
        with np.errstate(divide="ignore", invalid="ignore"):
            xn, yn = -camera[..., 0] / depth, -camera[..., 1] / depth
        valid = (depth > 0) & (xn * xn + yn * yn <= self._max_r2)
        xd, yd = self._distort(xn, yn)
        u, v = self.cx + self.fx * xd, self.cy + self.fy * yd
        if within_image:
            valid &= (u >= -0.5) & (u <= self.width - 0.5) & (v >= -0.5) & (v <= self.height - 0.5)
        return np.where(valid, u, np.nan), np.where(valid, v, np.nan)

    def pixel_to_world(self, u: ArrayLike, v: ArrayLike,
                       z: ArrayLike = 0.0) -> tuple[np.ndarray, np.ndarray]:
        """Where the rays through pixels meet the horizontal plane of elevation `z`.

        The distortion is inverted by Newton's method to better than 1e-7
        pixel; pixels outside the image are projected too.

        Parameters
        ----------
        u, v : array_like
            Column and row, ``(0, 0)`` the centre of the top-left pixel.
        z : array_like
            Elevation of the plane, metres; broadcasts with `u` and `v`.

        Returns
        -------
        x, y : numpy.ndarray
            Local-frame coordinates, metres.  NaN where the ray does not reach
            the plane in front of the camera (above the horizon, for a camera
            above the plane) or where the distortion cannot be inverted.
        """
        u, v, z = np.broadcast_arrays(*(np.asarray(c, dtype=np.float64) for c in (u, v, z)))
        ray = self.rays(u, v)
        with np.errstate(divide="ignore", invalid="ignore"):
            distance = (z - self.z) / ray[..., 2]
        valid = np.isfinite(distance) & (distance > 0)
        distance = np.where(valid, distance, np.nan)
        return self.x + distance * ray[..., 0], self.y + distance * ray[..., 1]

    def rays(self, u: ArrayLike, v: ArrayLike) -> np.ndarray:
        """World-frame directions of the rays through pixels, lens distortion removed.

        Parameters
        ----------
        u, v : array_like
            Column and row, ``(0, 0)`` the centre of the top-left pixel; they broadcast.

        Returns
        -------
        numpy.ndarray
            ``(..., 3)`` directions ``(dx, dy, dz)`` with unit depth along the
            view axis (not unit length); NaN where the distortion cannot be inverted.
        """
        u, v = np.broadcast_arrays(np.asarray(u, dtype=np.float64), np.asarray(v, dtype=np.float64))
        xn, yn = self._undistort((u - self.cx) / self.fx, (v - self.cy) / self.fy)
        # Camera coordinates (-xn, -yn, 1) turned into the world frame by R's transpose.
        return np.stack([-xn, -yn, np.ones_like(xn)], axis=-1) @ self.rotation

    def _distort(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """CIRN ``distortUV`` on normalised coordinates."""
        r2 = x * x + y * y
        radial = 1.0 + r2 * (self.k1 + r2 * (self.k2 + r2 * self.k3))
        xd = x * radial + 2.0 * self.p1 * x * y + self.p2 * (r2 + 2.0 * x * x)
        yd = y * radial + self.p1 * (r2 + 2.0 * y * y) + 2.0 * self.p2 * x * y
        return xd, yd

    def _undistort(self, xd: np.ndarray, yd: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Invert :meth:`_distort` by Newton's method; NaN where it does not converge."""
        x, y = xd.copy(), yd.copy()
        k1, k2, k3, p1, p2 = self.k1, self.k2, self.k3, self.p1, self.p2
        tolerance = _UNDISTORT_TOLERANCE_PX / max(self.fx, self.fy)
        for _ in range(_UNDISTORT_STEPS):
            fx_, fy_ = self._distort(x, y)
            ex, ey = fx_ - xd, fy_ - yd
            if not (np.abs(ex) > tolerance).any() and not (np.abs(ey) > tolerance).any():
                break
            r2 = x * x + y * y
            radial = 1.0 + r2 * (k1 + r2 * (k2 + r2 * k3))
            slope = k1 + r2 * (2.0 * k2 + 3.0 * k3 * r2)  # d radial / d r2
            jxx = radial + 2.0 * x * x * slope + 2.0 * p1 * y + 6.0 * p2 * x
            jxy = 2.0 * x * y * slope + 2.0 * p1 * x + 2.0 * p2 * y
            jyy = radial + 2.0 * y * y * slope + 6.0 * p1 * y + 2.0 * p2 * x
            with np.errstate(divide="ignore", invalid="ignore"):
                det = jxx * jyy - jxy * jxy  # the Jacobian is symmetric
                x, y = x - (jyy * ex - jxy * ey) / det, y - (jxx * ey - jxy * ex) / det
        fx_, fy_ = self._distort(x, y)
        converged = (np.abs(fx_ - xd) <= tolerance) & (np.abs(fy_ - yd) <= tolerance)
        converged &= x * x + y * y <= self._max_r2
        return np.where(converged, x, np.nan), np.where(converged, y, np.nan)

    # -- other images and frames -----------------------------------------------
    def scaled(self, factor: float) -> CameraGeometry:
        """The geometry of the image scaled by `factor` (a cube opened with ``scale=``).

        The size is rounded up, ``ceil(width * factor)``, as libjpeg's DCT
        scaling (which :func:`intake_webcoos.cube.decode.decode_image` uses) rounds
        it; pixel ``i`` of the scaled image covers full-size pixels
        ``[i / factor, (i + 1) / factor)``, so a point at full-size ``u`` is
        at ``(u + 0.5) * factor - 0.5``.

        Parameters
        ----------
        factor : float
            Positive scale, e.g. 1/2, 1/4 or 1/8.

        Returns
        -------
        CameraGeometry
            Same extrinsics; size, principal point and focal lengths scaled.
        """
        factor = finite("factor", factor)
        if factor <= 0:
            raise invalid("factor", "must be positive", factor)

        def size(pixels: int) -> int:
            # round() first: 1280 * (1/3) must not become 427 by a last-bit excess.
            return max(1, math.ceil(round(pixels * factor, 9)))

        return dataclasses.replace(
            self, width=size(self.width), height=size(self.height),
            cx=(self.cx + 0.5) * factor - 0.5, cy=(self.cy + 0.5) * factor - 0.5,
            fx=self.fx * factor, fy=self.fy * factor)

    def local_to_lonlat(self, x: ArrayLike, y: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        """Longitude and latitude of local-frame points (a local tangent plane).

        The plane touches the WGS84 ellipsoid at the origin, with its radii of
        curvature there; the error grows as the square of the distance from the
        origin, about 0.1 m at 1 km and 10 m at 10 km.

        Parameters
        ----------
        x, y : array_like
            Local-frame coordinates, metres.

        Returns
        -------
        longitude, latitude : numpy.ndarray
            Degrees.

        Raises
        ------
        GeometryError
            If the geometry has no latitude and longitude.
        """
        meridional, normal = self._radii()
        east, north = self._rotate_to_compass(np.asarray(x, float), np.asarray(y, float), 1.0)
        latitude = self.latitude + np.degrees(north / meridional)
        longitude = self.longitude + np.degrees(east / (normal * math.cos(
            math.radians(self.latitude))))
        return longitude, latitude

    def lonlat_to_local(self, longitude: ArrayLike,
                        latitude: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        """Local-frame ``(x, y)`` in metres of positions in degrees; inverse of
        :meth:`local_to_lonlat`, with the same accuracy.

        Raises
        ------
        GeometryError
            If the geometry has no latitude and longitude.
        """
        meridional, normal = self._radii()
        north = np.radians(np.asarray(latitude, float) - self.latitude) * meridional
        east = (np.radians(np.asarray(longitude, float) - self.longitude) * normal
                * math.cos(math.radians(self.latitude)))
        return self._rotate_to_compass(east, north, -1.0)

    def _radii(self) -> tuple[float, float]:
        """Meridional and prime-vertical radii of curvature at the origin, metres."""
        if self.latitude is None:
            raise GeometryError("this camera geometry has no origin.latitude and "
                                "origin.longitude: give them to place the local frame")
        w = 1.0 - _WGS84_E2 * math.sin(math.radians(self.latitude)) ** 2
        return _WGS84_A * (1.0 - _WGS84_E2) / w**1.5, _WGS84_A / math.sqrt(w)

    def _rotate_to_compass(self, a: np.ndarray, b: np.ndarray,
                           sign: float) -> tuple[np.ndarray, np.ndarray]:
        """Local (x, y) to (east, north) with sign 1; back with sign -1."""
        bearing = math.radians(self.bearing) * sign
        cos, sin = math.cos(bearing), math.sin(bearing)
        return a * cos + b * sin, b * cos - a * sin

    # -- files (geometry_files.py) ---------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The geometry as a JSON-ready dict with CIRN's field names (angles in degrees)."""
        return geometry_files.to_dict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CameraGeometry:
        """Build a geometry from :meth:`to_dict`'s layout.

        Distortion coefficients, the origin and the name may be left out.

        Raises
        ------
        GeometryError
            Naming the field (``intrinsics.fx``...) that is missing, unknown or invalid.
        """
        return cls(**geometry_files.from_dict(data))

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the geometry to `path`: YAML if it ends in ``.yaml`` or ``.yml``, else JSON."""
        geometry_files.write(path, self.to_dict())

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> CameraGeometry:
        """Read a geometry written by :meth:`save` (or by hand, with CIRN's names).

        Raises
        ------
        GeometryError
            If the file is not valid JSON/YAML or a field is missing or invalid.
        FileNotFoundError
            If there is no file at `path`.
        """
        data = geometry_files.read(path)
        try:
            return cls.from_dict(data)
        except GeometryError as exc:
            raise GeometryError(f"{path}: {exc}") from None
