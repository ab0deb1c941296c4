"""Maps of the cameras (cli/maps.py), read back pixel by pixel.

The pictures are drawn from the stand-in's cameras; each test looks at the
pixels where the projection puts a camera, a wedge or a label.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from PIL import Image, ImageDraw, ImageFilter

from intake_webcoos import InvalidArgumentError, InvalidLocationError
from intake_webcoos.api.geo import box_around
from intake_webcoos.cli.maps import (
    BACKGROUND,
    DOT,
    HIGHLIGHT,
    HIGHLIGHT_RADIUS,
    WEDGE,
    camera_wedges,
    draw_around,
    draw_cameras,
)

CAMERA = "waikiki_sheraton"
#: A wedge over the background: WEDGE blended at its alpha.
WEDGE_ON_BACKGROUND = np.array([b + (w - b) * WEDGE[3] / 255
                                for b, w in zip(BACKGROUND, WEDGE[:3], strict=True)])


def pixels(path) -> np.ndarray:
    with Image.open(path) as picture:
        return np.asarray(picture.convert("RGB")).astype(int)


def at(image: np.ndarray, x: float, y: float) -> tuple[int, ...]:
    return tuple(image[round(y), round(x)])


def dark(image: np.ndarray, x0: float, y0: float, x1: float, y1: float) -> int:
    """How many pixels of the box are dark (label text; the grid's labels are lighter)."""
    box = image[max(round(y0), 0):round(y1), max(round(x0), 0):round(x1)]
    return int((box.sum(axis=-1) < 250).sum())


def wedge_coloured(image: np.ndarray) -> np.ndarray:
    return (np.abs(image - WEDGE_ON_BACKGROUND) <= 2).all(axis=-1)


# -- the picture --------------------------------------------------------------------------------
def test_a_png_of_the_asked_size(standin_client, cameras_table, tmp_path):
    view = draw_cameras(cameras_table, tmp_path / "map.png", size=(900, 560))
    with Image.open(tmp_path / "map.png") as picture:
        assert (picture.format, picture.size, picture.mode) == ("PNG", (900, 560), "RGB")
    assert view.left + view.width < 900 and view.top + view.height < 560
    draw_around(standin_client, CAMERA, tmp_path / "default.png")
    with Image.open(tmp_path / "default.png") as picture:
        assert picture.size == (1200, 700)


def test_every_dot_is_where_the_projection_puts_it(standin_client, cameras_table, tmp_path):
    view = draw_cameras(cameras_table, tmp_path / "map.png", size=(900, 560),
                        wedges=camera_wedges(standin_client.assets()))
    image = pixels(tmp_path / "map.png")
    for row in cameras_table.itertuples():
        x, y = view.pixel(row.longitude, row.latitude)
        assert at(image, x, y) == DOT, row.slug
        # Fitted with a margin: no camera sits on the plot's edge.
        assert view.left + 10 < x < view.left + view.width - 10, row.slug
        assert view.top + 10 < y < view.top + view.height - 10, row.slug
    assert at(image, view.left + 3, view.top + 3) == BACKGROUND


def test_the_projection_is_equirectangular_true_at_mid_latitude(cameras_table, tmp_path):
    view = draw_cameras(cameras_table, tmp_path / "map.png", size=(900, 560))
    assert view.pixel(view.lon_min, view.lat_max) == pytest.approx((view.left, view.top))
    assert view.pixel(view.lon_max, view.lat_min) == pytest.approx(
        (view.left + view.width, view.top + view.height))
    per_lon = view.width / (view.lon_max - view.lon_min)
    per_lat = view.height / (view.lat_max - view.lat_min)
    middle = math.radians((view.lat_min + view.lat_max) / 2)
    assert per_lon / per_lat == pytest.approx(math.cos(middle))


def test_a_camera_at_the_centre_of_its_box_is_at_the_centre_of_the_plot(cameras_table,
                                                                        tmp_path):
    row = cameras_table.set_index("slug").loc["kasitsna_dock"]
    box = box_around((row["latitude"], row["longitude"]), 20)
    view = draw_cameras(cameras_table, tmp_path / "map.png", bbox=box, highlight="kasitsna_dock")
    image = pixels(tmp_path / "map.png")
    assert at(image, view.left + view.width / 2, view.top + view.height / 2) == HIGHLIGHT
    assert view.lon_min <= box[0] and view.lon_max >= box[2]  # the box asked is all shown
    assert view.lat_min <= box[1] and view.lat_max >= box[3]


# -- wedges ---------------------------------------------------------------------------------------
def test_the_zoomed_map_shows_the_camera_s_wedge(standin_client, tmp_path):
    view = draw_around(standin_client, CAMERA, tmp_path / "camera.png", km=5)
    image = pixels(tmp_path / "camera.png")
    wedge = standin_client.asset(CAMERA).wedge
    mask = Image.new("L", (image.shape[1], image.shape[0]), 0)
    ImageDraw.Draw(mask).polygon([view.pixel(lon, lat) for lon, lat in wedge], fill=255)
    inside = np.asarray(mask) > 0
    assert inside.sum() > 5000  # a wedge of ~3 km is large in a 10 km map
    coloured = wedge_coloured(image)
    # Inside: the wedge's colour everywhere but under the grid, the edge and the dot.
    assert coloured[inside].mean() > 0.9
    # Outside (beyond a pixel or two of the edge): none of it.
    near_edge = np.asarray(mask.filter(ImageFilter.MaxFilter(5))) > 0
    assert not coloured[~near_edge].any()


def test_a_camera_without_a_wedge_has_none_drawn(standin_client, tmp_path):
    assert standin_client.asset("walton_lighthouse").wedge is None
    draw_around(standin_client, "walton_lighthouse", tmp_path / "walton.png", km=5)
    assert not wedge_coloured(pixels(tmp_path / "walton.png")).any()


# -- labels ---------------------------------------------------------------------------------------
def test_the_highlighted_camera_is_labelled_beside_its_dot(standin_client, tmp_path):
    view = draw_around(standin_client, CAMERA, tmp_path / "camera.png", km=5)
    image = pixels(tmp_path / "camera.png")
    asset = standin_client.asset(CAMERA)
    x, y = view.pixel(asset.longitude, asset.latitude)
    assert at(image, x, y) == HIGHLIGHT
    r = HIGHLIGHT_RADIUS
    assert dark(image, x + r + 2, y - 10, x + r + 120, y + 10) > 30  # its slug, to the right
    assert dark(image, x + r + 2, y - 40, x + r + 120, y - 15) == 0  # nothing above it


def test_a_label_that_would_overlap_moves_to_a_free_side(cameras_table, tmp_path):
    one = cameras_table[cameras_table["slug"] == CAMERA]
    twins = pd.concat([one, one.assign(slug="waikiki_twin")], ignore_index=True)
    box = box_around((one["latitude"].iloc[0], one["longitude"].iloc[0]), 20)
    views = {name: draw_cameras(frame, tmp_path / f"{name}.png", bbox=box, size=(800, 500))
             for name, frame in (("one", one), ("twins", twins))}
    for name, expected_left in (("one", 0), ("twins", 30)):
        image = pixels(tmp_path / f"{name}.png")
        x, y = views[name].pixel(one["longitude"].iloc[0], one["latitude"].iloc[0])
        assert dark(image, x + 7, y - 10, x + 120, y + 10) > 30, name
        left = dark(image, x - 120, y - 10, x - 7, y + 10)
        assert (left > expected_left) if expected_left else left == 0, name


def test_crowded_cameras_still_draw(cameras_table, tmp_path):
    one = cameras_table[cameras_table["slug"] == CAMERA]
    crowd = pd.concat([one.assign(slug=f"cam_{i}") for i in range(12)], ignore_index=True)
    view = draw_cameras(crowd, tmp_path / "crowd.png", size=(600, 400))
    x, y = view.pixel(one["longitude"].iloc[0], one["latitude"].iloc[0])
    assert at(pixels(tmp_path / "crowd.png"), x, y) == DOT


# -- odd input ------------------------------------------------------------------------------------
def test_cameras_without_a_position_are_left_out(cameras_table, tmp_path):
    frame = cameras_table.copy()
    frame.loc[0, ["latitude", "longitude"]] = np.nan
    view = draw_cameras(frame, tmp_path / "map.png", size=(900, 560))
    image = pixels(tmp_path / "map.png")
    row = frame.iloc[1]
    assert at(image, *view.pixel(row["longitude"], row["latitude"])) == DOT


def test_bad_sizes_and_boxes_are_refused(cameras_table, tmp_path):
    with pytest.raises(InvalidArgumentError, match="no room"):
        draw_cameras(cameras_table, tmp_path / "tiny.png", size=(100, 80))
    with pytest.raises(InvalidLocationError, match="bbox: lon_min 10 is greater"):
        draw_cameras(cameras_table, tmp_path / "bad.png", bbox=(10, 0, 5, 1))
    assert not (tmp_path / "tiny.png").exists() and not (tmp_path / "bad.png").exists()
