"""Maps of the cameras as PNG pictures, drawn with Pillow (no plotting library needed).

:func:`draw_cameras` draws the rows of :meth:`Client.cameras
<intake_webcoos.api.client.AsyncClient.cameras>` on an equirectangular map:
a graticule with degree labels, each camera as a dot labelled with its slug,
and its view wedge as a translucent polygon.  No coastline data ships with the
package (nor can be fetched offline), so the graticule and the labelled
points carry the geography; open the numbers in a GIS for a basemap.
:func:`draw_around` maps the neighbourhood of one camera, wedge included.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from PIL import Image, ImageDraw, ImageFont

from intake_webcoos.api.geo import as_box, box_around
from intake_webcoos.errors import InvalidArgumentError, InvalidLocationError

if TYPE_CHECKING:
    from intake_webcoos.api.models import Asset
    from intake_webcoos.api.sync import Client

BACKGROUND = (247, 249, 251)
GRID = (215, 221, 229)
GRID_TEXT = (105, 114, 125)
TEXT = (25, 30, 38)
DOT = (200, 35, 45)
HIGHLIGHT = (235, 125, 0)
BOX = (120, 130, 145)
#: The wedges' fill: translucent, so that overlapping wedges and the grid show through.
WEDGE = (30, 110, 200, 80)
WEDGE_EDGE = (30, 110, 200, 200)
DOT_RADIUS, HIGHLIGHT_RADIUS = 5, 7
#: Room around the plot: degree labels left and below, the title above, the note below.
MARGINS = {"left": 72, "right": 16, "top": 40, "bottom": 48}

Vertices = Sequence[tuple[float, float]]


@dataclass(frozen=True)
class MapView:
    """Where a lon/lat box lands in a picture (equirectangular, true at mid-latitude).

    Attributes
    ----------
    lon_min, lat_min, lon_max, lat_max : float
        The degrees shown.
    left, top, width, height : int
        The plot area, in pixels of the picture.
    """

    lon_min: float
    lat_min: float
    lon_max: float
    lat_max: float
    left: int
    top: int
    width: int
    height: int

    def pixel(self, lon: float, lat: float) -> tuple[float, float]:
        """The picture's ``(x, y)`` of a position (y grows downwards)."""
        x = self.left + (lon - self.lon_min) / (self.lon_max - self.lon_min) * self.width
        y = self.top + (self.lat_max - lat) / (self.lat_max - self.lat_min) * self.height
        return x, y

    def shows(self, x: float, y: float) -> bool:
        """Whether a pixel lies in the plot area."""
        return self.left <= x <= self.left + self.width and self.top <= y <= self.top + self.height


def fit_view(points: Iterable[tuple[float, float]], size: tuple[int, int],
             bbox: Sequence[float] | None = None) -> MapView:
    """The view of a picture of ``size`` pixels: of ``bbox``, or of ``points`` with a margin.

    The area grows along one axis so that a kilometre east-west and one
    north-south take the same pixels at its middle latitude.

    Parameters
    ----------
    points : iterable of (lon, lat)
        What must be seen when no ``bbox`` is given (non-finite ones are ignored;
        with none, the whole globe).
    size : (width, height)
        Of the picture, margins included.
    bbox : (lon_min, lat_min, lon_max, lat_max), optional
        The area to show, already checked.

    Raises
    ------
    InvalidArgumentError
        The picture is too small to hold a plot.
    """
    width = size[0] - MARGINS["left"] - MARGINS["right"]
    height = size[1] - MARGINS["top"] - MARGINS["bottom"]
    if width < 50 or height < 50:
        raise InvalidArgumentError(f"a map of {size[0]}x{size[1]} pixels leaves no room to draw")
    if bbox is not None:
        lon_min, lat_min, lon_max, lat_max = bbox
    else:
        lons, lats = np.array([p for p in points if all(map(math.isfinite, p))]
                              or [(-180.0, -90.0), (180.0, 90.0)], dtype=float).T
        # 8% of room around the cameras, and at least ~5 km for a single camera.
        pad_lon, pad_lat = max(np.ptp(lons) * 0.08, 0.05), max(np.ptp(lats) * 0.08, 0.05)
        lon_min, lon_max = float(lons.min() - pad_lon), float(lons.max() + pad_lon)
        lat_min, lat_max = float(lats.min() - pad_lat), float(lats.max() + pad_lat)
    shrink = max(math.cos(math.radians((lat_min + lat_max) / 2)), 0.05)
    lon_span, lat_span = max(lon_max - lon_min, 1e-6), max(lat_max - lat_min, 1e-6)
    if lon_span * shrink / lat_span < width / height:
        lon_span = lat_span * width / height / shrink
    else:
        lat_span = lon_span * shrink * height / width
    lon_mid, lat_mid = (lon_min + lon_max) / 2, (lat_min + lat_max) / 2
    return MapView(max(lon_mid - lon_span / 2, -180.0), max(lat_mid - lat_span / 2, -90.0),
                   min(lon_mid + lon_span / 2, 180.0), min(lat_mid + lat_span / 2, 90.0),
                   MARGINS["left"], MARGINS["top"], width, height)


def _step(span: float, lines: int) -> float:
    """A round step (1, 2 or 5 times a power of ten) giving about ``lines`` lines."""
    raw = span / max(lines, 1)
    power = 10.0 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw * 0.999)


def _degrees(value: float, step: float, axis: str) -> str:
    """``157.8°W``: as many decimals as the step needs, and the hemisphere."""
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    text = f"{abs(value):.{decimals}f}"
    if float(text) == 0:
        return f"{text}°"
    return text + "°" + ("NS" if axis == "lat" else "EW")[int(value < 0)]


def _graticule(draw: ImageDraw.ImageDraw, view: MapView, font: Any) -> None:
    """Lines every round number of degrees, labelled in the margins."""
    right, bottom = view.left + view.width, view.top + view.height
    for axis, low, high, lines in (("lon", view.lon_min, view.lon_max, view.width // 120),
                                   ("lat", view.lat_min, view.lat_max, view.height // 70)):
        step = _step(high - low, lines)
        for k in range(math.ceil(low / step), math.floor(high / step) + 1):
            label = _degrees(k * step, step, axis)
            if axis == "lon":
                x, _ = view.pixel(k * step, view.lat_min)
                draw.line([(x, view.top), (x, bottom)], fill=GRID)
                draw.text((x, bottom + 4), label, fill=GRID_TEXT, font=font, anchor="mt")
            else:
                _, y = view.pixel(view.lon_min, k * step)
                draw.line([(view.left, y), (right, y)], fill=GRID)
                draw.text((view.left - 6, y), label, fill=GRID_TEXT, font=font, anchor="rm")


def _wedges(image: Image.Image, view: MapView, shapes: Iterable[Vertices]) -> None:
    """Translucent polygons, clipped to the plot area."""
    layer = Image.new("RGBA", (view.width, view.height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    for vertices in shapes:
        pixels = [view.pixel(lon, lat) for lon, lat in vertices]
        draw.polygon([(x - view.left, y - view.top) for x, y in pixels], fill=WEDGE,
                     outline=WEDGE_EDGE)
    image.alpha_composite(layer, dest=(view.left, view.top))


def _overlaps(box: tuple[float, ...], taken: list[tuple[float, ...]]) -> bool:
    return any(box[0] < t[2] and t[0] < box[2] and box[1] < t[3] and t[1] < box[3]
               for t in taken)


def _labels(draw: ImageDraw.ImageDraw, view: MapView, dots: list[tuple[str, float, float, int]],
            font: Any) -> int:
    """Each slug beside its dot where it overlaps no dot nor label; returns how many did not fit."""
    taken = [(x - r, y - r, x + r, y + r) for _, x, y, r in dots]
    hidden = 0
    for slug, x, y, r in dots:
        left, top, right, bottom = draw.textbbox((0, 0), slug, font=font)
        w, h = right - left, bottom - top
        # Right of the dot, then left, above, below and the corners: the first free place.
        for bx, by in ((x + r + 4, y - h / 2), (x - r - 4 - w, y - h / 2),
                       (x - w / 2, y - r - 3 - h), (x - w / 2, y + r + 3),
                       (x - w, y - r - 3 - h), (x - w, y + r + 3),
                       (x, y - r - 3 - h), (x, y + r + 3)):
            box = (bx - 1, by - 1, bx + w + 1, by + h + 1)
            if view.shows(box[0], box[1]) and view.shows(box[2], box[3]) \
                    and not _overlaps(box, taken):
                draw.text((bx - left, by - top), slug, fill=TEXT, font=font, stroke_width=2,
                          stroke_fill=BACKGROUND)
                taken.append(box)
                break
        else:
            hidden += 1
    return hidden


def draw_cameras(frame: pd.DataFrame, path: str | os.PathLike, *,
                 wedges: Mapping[str, Vertices | None] | None = None,
                 bbox: Sequence[float] | None = None, size: tuple[int, int] = (1200, 700),
                 highlight: str | Collection[str] | None = None,
                 title: str | None = None) -> MapView:
    """Draw the cameras of ``frame`` on a map and save it as a PNG picture.

    An equirectangular map (true to scale at its middle latitude) with a light
    graticule labelled in degrees, each camera as a dot labelled with its slug
    (a label that would cover another dot or label goes to another side of its
    dot, or is left out when no side is free) and its view wedge as a
    translucent polygon.  There is no coastline: no map data ships
    with the package or can be had offline, so the graticule and the labelled
    points carry the geography.

    Parameters
    ----------
    frame : pandas.DataFrame
        Rows of :meth:`Client.cameras` (``slug``, ``latitude``, ``longitude``);
        cameras without a position are left out.
    path : path
        The PNG file to write.
    wedges : mapping of str to (lon, lat) vertices, optional
        View wedges by camera slug, e.g. :func:`camera_wedges` of ``client.assets()``.
    bbox : (lon_min, lat_min, lon_max, lat_max), optional
        The area to show (outlined, and widened to the picture's shape); by
        default, all the cameras with a margin.
    size : (width, height)
        Of the picture, in pixels.
    highlight : str or collection of str, optional
        Slugs drawn larger, in another colour, and labelled first.
    title : str, optional
        Above the map; by default the number of cameras.

    Returns
    -------
    MapView
        Where the map's degrees landed in the picture (``view.pixel(lon, lat)``).
    """
    bbox = as_box(bbox, "bbox")
    marked = {highlight} if isinstance(highlight, str) else set(highlight or ())
    rows = frame[np.isfinite(frame["latitude"]) & np.isfinite(frame["longitude"])]
    shapes = [w for w in (dict(wedges or {}).get(s) for s in rows["slug"]) if w]
    view = fit_view([*zip(rows["longitude"], rows["latitude"], strict=True),
                     *(v for w in shapes for v in w)], size, bbox)
    image = Image.new("RGBA", size, (*BACKGROUND, 255))
    draw = ImageDraw.Draw(image)
    _graticule(draw, view, _font(12))
    _wedges(image, view, shapes)
    shown, hidden = _dots(draw, view, rows, marked)
    _furniture(draw, view, bbox, title or f"WebCOOS cameras ({shown})", hidden)
    image.convert("RGB").save(path, format="PNG")
    return view


@functools.lru_cache
def _font(size: int) -> Any:
    """Pillow's own scalable font: no font file needs to be installed."""
    return ImageFont.load_default(size=size)


def _dots(draw: ImageDraw.ImageDraw, view: MapView, rows: pd.DataFrame,
          marked: Collection[str]) -> tuple[int, int]:
    """A labelled dot per camera in view; returns how many, and how many labels did not fit."""
    dots = [(slug, *view.pixel(lon, lat), HIGHLIGHT_RADIUS if slug in marked else DOT_RADIUS)
            for slug, lon, lat in zip(rows["slug"], rows["longitude"], rows["latitude"],
                                      strict=True)]
    # The highlighted cameras first, so that theirs are the labels always drawn.
    dots = sorted((d for d in dots if view.shows(d[1], d[2])), key=lambda d: d[0] not in marked)
    for slug, x, y, r in reversed(dots):  # the highlighted ones on top
        draw.ellipse((x - r, y - r, x + r, y + r), outline=(255, 255, 255),
                     fill=HIGHLIGHT if slug in marked else DOT)
    return len(dots), _labels(draw, view, dots, _font(14))


def _furniture(draw: ImageDraw.ImageDraw, view: MapView, bbox: Sequence[float] | None,
               title: str, hidden: int) -> None:
    """The asked box's outline, the plot's frame, the title and the note of the view."""
    if bbox is not None:
        (x0, y1), (x1, y0) = view.pixel(bbox[0], bbox[1]), view.pixel(bbox[2], bbox[3])
        draw.rectangle((x0, y0, x1, y1), outline=BOX)
    bottom = view.top + view.height
    draw.rectangle((view.left, view.top, view.left + view.width, bottom), outline=GRID_TEXT)
    draw.text((view.left, 12), title, fill=TEXT, font=_font(16))
    step = _step(view.lon_max - view.lon_min, 100)
    note = (f"view {_degrees(view.lon_min, step, 'lon')} to {_degrees(view.lon_max, step, 'lon')}"
            f", {_degrees(view.lat_min, step, 'lat')} to {_degrees(view.lat_max, step, 'lat')}"
            " (equirectangular; no coastline data offline)"
            + ("; outlined: the box asked" if bbox is not None else "")
            + (f"; {hidden} labels left out where they would overlap" if hidden else ""))
    draw.text((view.left, bottom + MARGINS["bottom"] - 18), note, fill=GRID_TEXT, font=_font(12))


def camera_wedges(assets: Iterable[Asset]) -> dict[str, Vertices]:
    """The view wedges of the cameras that have one, by slug (for :func:`draw_cameras`)."""
    return {asset.slug: asset.wedge for asset in assets if asset.wedge}


def draw_around(client: Client, camera: str, path: str | os.PathLike, *, km: float = 5.0,
                size: tuple[int, int] = (1200, 700)) -> MapView:
    """Map ``km`` around a camera: its wedge, and the cameras nearby.

    Parameters
    ----------
    client : Client
        Where the cameras come from.
    camera : str
        Slug or label of the camera at the centre (highlighted).
    path : path
        The PNG file to write.
    km : float
        How far the map reaches north, south, east and west of the camera.
    size : (width, height)
        Of the picture, in pixels.

    Returns
    -------
    MapView
        Where the map's degrees landed in the picture.

    Raises
    ------
    InvalidLocationError
        The camera has no position, or ``km`` is not positive.
    """
    asset = client.asset(camera)
    if asset.latitude is None or asset.longitude is None:
        raise InvalidLocationError(f"camera {asset.slug!r} has no position to map around")
    box = box_around((asset.latitude, asset.longitude), km)
    return draw_cameras(client.cameras(within=box), path, wedges=camera_wedges(client.assets()),
                        bbox=box, size=size, highlight=asset.slug,
                        title=f"{asset.label} ({asset.slug}): {km:g} km around")
