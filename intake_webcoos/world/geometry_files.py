"""Camera geometry files: CIRN's field names, JSON or YAML, and their validation.

:class:`~intake_webcoos.world.geometry.CameraGeometry` reads and writes through here;
:data:`FIELDS` maps its attributes to the sections and CIRN names of a file.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from intake_webcoos.errors import GeometryError

__all__ = ["FIELDS", "REQUIRED", "SECTIONS", "finite", "from_dict", "invalid", "read",
           "to_dict", "write"]

#: The default of a field a file must give.
REQUIRED = object()
#: (attribute, file section, CIRN name, default or REQUIRED) of every field but the name.
FIELDS: tuple[tuple[str, str, str, Any], ...] = (
    ("width", "intrinsics", "NU", REQUIRED),
    ("height", "intrinsics", "NV", REQUIRED),
    ("cx", "intrinsics", "c0U", REQUIRED),
    ("cy", "intrinsics", "c0V", REQUIRED),
    ("fx", "intrinsics", "fx", REQUIRED),
    ("fy", "intrinsics", "fy", REQUIRED),
    ("k1", "intrinsics", "d1", 0.0),
    ("k2", "intrinsics", "d2", 0.0),
    ("k3", "intrinsics", "d3", 0.0),
    ("p1", "intrinsics", "t1", 0.0),
    ("p2", "intrinsics", "t2", 0.0),
    ("x", "extrinsics", "x", REQUIRED),
    ("y", "extrinsics", "y", REQUIRED),
    ("z", "extrinsics", "z", REQUIRED),
    ("azimuth", "extrinsics", "azimuth", REQUIRED),
    ("tilt", "extrinsics", "tilt", REQUIRED),
    ("roll", "extrinsics", "swing", REQUIRED),
    ("latitude", "origin", "latitude", None),
    ("longitude", "origin", "longitude", None),
    ("bearing", "origin", "bearing", 0.0),
)
SECTIONS = ("intrinsics", "extrinsics", "origin")
_FILE_NAME = {attribute: f"{section}.{key}" for attribute, section, key, _ in FIELDS}


def to_dict(geometry: Any) -> dict[str, Any]:
    """`geometry`'s fields by section and CIRN name; the origin only when it says something."""
    out: dict[str, Any] = {} if geometry.name is None else {"name": geometry.name}
    for section in SECTIONS:
        values = {key: getattr(geometry, attribute) for attribute, where, key, _ in FIELDS
                  if where == section and getattr(geometry, attribute) is not None}
        if section != "origin" or geometry.latitude is not None or geometry.bearing != 0:
            out[section] = values
    return out


def from_dict(data: Mapping[str, Any]) -> dict[str, Any]:
    """The constructor arguments of the geometry `data` describes (defaults filled in).

    Raises
    ------
    GeometryError
        Naming the field that is missing or unknown, or a section that is not a mapping.
    """
    if not isinstance(data, Mapping):
        raise GeometryError(f"a camera geometry must be a mapping, not {type(data).__name__}")
    _refuse_unknown("", data, {"name", *SECTIONS})
    values: dict[str, Any] = {"name": data.get("name")}
    for section in SECTIONS:
        part = data.get(section, {})
        if not isinstance(part, Mapping):
            raise GeometryError(f"camera geometry field {section!r} must be a mapping of "
                                f"fields, not {type(part).__name__}")
        fields = [(attribute, key, default) for attribute, where, key, default in FIELDS
                  if where == section]
        _refuse_unknown(section, part, {key for _, key, _ in fields})
        for attribute, key, default in fields:
            if key not in part and default is REQUIRED:
                raise GeometryError(f"camera geometry field '{section}.{key}' is missing "
                                    f"({attribute}: {_MEANING[attribute]})")
            values[attribute] = part.get(key, default)
    return values


def write(path: str | os.PathLike[str], data: Mapping[str, Any]) -> None:
    """Write `data` to `path`: YAML if it ends in ``.yaml`` or ``.yml``, else JSON."""
    path = Path(path)
    if _is_yaml(path):
        import yaml

        text = yaml.safe_dump(dict(data), sort_keys=False)
    else:
        text = json.dumps(data, indent=2) + "\n"
    path.write_text(text, encoding="utf-8")


def read(path: str | os.PathLike[str]) -> Any:
    """The parsed contents of a JSON or YAML file (by its suffix).

    Raises
    ------
    GeometryError
        If the file does not parse.
    FileNotFoundError
        If there is no file at `path`.
    """
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    if _is_yaml(path):
        import yaml

        parse, parse_errors = yaml.safe_load, (yaml.YAMLError,)
    else:
        parse, parse_errors = json.loads, (ValueError,)
    try:
        return parse(text)
    except parse_errors as exc:
        raise GeometryError(f"{path} is not a readable camera geometry file: {exc}") from exc


_MEANING = {
    "width": "image width in pixels", "height": "image height in pixels",
    "cx": "principal point column", "cy": "principal point row",
    "fx": "focal length in pixels", "fy": "focal length in pixels",
    "x": "camera x in metres", "y": "camera y in metres", "z": "camera elevation in metres",
    "azimuth": "degrees clockwise from +y",
    "tilt": "degrees from nadir", "roll": "degrees about the view axis",
}


def _is_yaml(path: Path) -> bool:
    return path.suffix.lower() in (".yaml", ".yml")


def invalid(attribute: str, why: str, value: Any) -> GeometryError:
    """A GeometryError saying that the field `attribute` (and its file name) is `why`."""
    where = _FILE_NAME.get(attribute)
    named = f"{attribute!r} (file field '{where}')" if where else repr(attribute)
    return GeometryError(f"camera geometry field {named} {why}, not {value!r}")


def finite(attribute: str, value: Any) -> float:
    """`value` as a finite float, else a GeometryError naming the field."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise invalid(attribute, "must be a number", value)
    if not math.isfinite(value):
        raise invalid(attribute, "must be finite", value)
    return float(value)


def _refuse_unknown(section: str, part: Mapping[str, Any], known: set[str]) -> None:
    unknown = sorted(set(part) - known)
    if unknown:
        where = f"{section}.{unknown[0]}" if section else unknown[0]
        raise GeometryError(f"unknown camera geometry field {where!r}; the fields of "
                            f"{section or 'a geometry'} are {', '.join(sorted(known))}")
