"""Positions and boxes given by the user: checked, tested for containment, measured.

One implementation of each, shared by :meth:`AsyncClient.cameras
<intake_webcoos.api.client.AsyncClient.cameras>` (``near=``, ``within=``), the
catalog's ``bbox=`` and the command line's ``--near``/``--within``.  Points are
``(latitude, longitude)``, as a scientist writes a site; boxes are
``(lon_min, lat_min, lon_max, lat_max)``, the GeoJSON/shapely ``bbox`` order.
Distances are great-circle distances on a sphere of radius
:data:`EARTH_RADIUS_KM` (haversine), within about 0.5% of the ellipsoid's.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from numbers import Real
from typing import Any

import numpy as np

from intake_webcoos.errors import InvalidLocationError

#: Mean Earth radius (km), the sphere of the haversine distances.
EARTH_RADIUS_KM = 6371.0

Point = tuple[float, float]
Box = tuple[float, float, float, float]


def _numbers(value: Any, name: str, form: str) -> tuple[float, ...]:
    """The finite real numbers of an ordered collection of ``form``'s length, or a clear error.

    Tuples, lists, arrays and Series are ordered; strings, mappings and sets are not numbers
    in a known order.
    """
    count = form.count(",") + 1
    ordered = isinstance(value, Iterable) \
        and not isinstance(value, str | bytes | Mapping | AbstractSet)
    items = tuple(value) if ordered else ()
    if len(items) != count:
        raise InvalidLocationError(f"{name} must be {form}: {count} numbers, got {value!r}")
    numbers = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, Real) \
                or not math.isfinite(float(item)):
            raise InvalidLocationError(
                f"{name} must be {form}: {count} finite numbers, got {value!r}")
        numbers.append(float(item))
    return tuple(numbers)


def _check_range(name: str, what: str, value: float, limit: float) -> None:
    if not -limit <= value <= limit:
        raise InvalidLocationError(
            f"{name}: {what} {value:g} is outside -{limit:g} to {limit:g} degrees")


def as_point(value: Any, name: str = "near") -> Point | None:
    """Check a ``(latitude, longitude)`` pair; None passes through.

    Parameters
    ----------
    value : (latitude, longitude) or None
        Degrees, as a tuple, list, array or Series.
    name : str
        What the user called it (``"near"``, ``"--near"``), for the message.

    Returns
    -------
    (float, float) or None

    Raises
    ------
    InvalidLocationError
        Not two finite numbers, or a latitude outside ±90 or longitude outside ±180.
    """
    if value is None:
        return None
    lat, lon = _numbers(value, name, "(latitude, longitude)")
    _check_range(name, "latitude", lat, 90)
    _check_range(name, "longitude", lon, 180)
    return lat, lon


def as_box(value: Any, name: str = "within") -> Box | None:
    """Check a ``(lon_min, lat_min, lon_max, lat_max)`` box; None passes through.

    Parameters
    ----------
    value : (lon_min, lat_min, lon_max, lat_max) or None
        Degrees, edges included.
    name : str
        What the user called it (``"within"``, ``"bbox"``, ``"--within"``), for the message.

    Returns
    -------
    (float, float, float, float) or None

    Raises
    ------
    InvalidLocationError
        Not four finite numbers, a coordinate out of range, or a minimum above
        its maximum (a box across the antimeridian is not supported).
    """
    if value is None:
        return None
    box = _numbers(value, name, "(lon_min, lat_min, lon_max, lat_max)")
    lon_min, lat_min, lon_max, lat_max = box
    for what, number, limit in (("lon_min", lon_min, 180), ("lat_min", lat_min, 90),
                                ("lon_max", lon_max, 180), ("lat_max", lat_max, 90)):
        _check_range(name, what, number, limit)
    for axis, low, high in (("lon", lon_min, lon_max), ("lat", lat_min, lat_max)):
        if low > high:
            raise InvalidLocationError(
                f"{name}: {axis}_min {low:g} is greater than {axis}_max {high:g}")
    return box


def box_around(point: Point, km: float) -> Box:
    """The box reaching ``km`` north, south, east and west of a point.

    Parameters
    ----------
    point : (latitude, longitude)
        The centre, in degrees.
    km : float
        The half-width, along the meridian and along the parallel of the centre.

    Returns
    -------
    (lon_min, lat_min, lon_max, lat_max)
        Clipped to the globe's range of coordinates.
    """
    lat, lon = as_point(point, "point")
    if not km > 0:
        raise InvalidLocationError(f"the half-width of a box must be positive, not {km!r} km")
    dlat = math.degrees(km / EARTH_RADIUS_KM)
    # A degree of longitude shrinks with the cosine of the latitude.
    dlon = min(dlat / max(math.cos(math.radians(lat)), 1e-9), 180.0)
    return (max(lon - dlon, -180.0), max(lat - dlat, -90.0),
            min(lon + dlon, 180.0), min(lat + dlat, 90.0))


def in_box(latitude: float | None, longitude: float | None, box: Box) -> bool:
    """Whether a position lies in ``box`` (edges included); an unknown position does not."""
    if latitude is None or longitude is None:
        return False
    lon_min, lat_min, lon_max, lat_max = box
    return lon_min <= longitude <= lon_max and lat_min <= latitude <= lat_max


def distance_km(point: Point, latitudes: Any, longitudes: Any) -> np.ndarray:
    """Great-circle distances (km) from ``point`` to each position (haversine).

    Parameters
    ----------
    point : (latitude, longitude)
        Where the distances are measured from, in degrees.
    latitudes, longitudes : array-like of float
        The positions; NaN gives a NaN distance.

    Returns
    -------
    numpy.ndarray of float64
    """
    lat0, lon0 = np.radians(point[0]), np.radians(point[1])
    lat = np.radians(np.asarray(latitudes, dtype=float))
    lon = np.radians(np.asarray(longitudes, dtype=float))
    a = np.sin((lat - lat0) / 2) ** 2 \
        + np.cos(lat0) * np.cos(lat) * np.sin((lon - lon0) / 2) ** 2
    # Rounding can push a hair above 1 for antipodes.
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
