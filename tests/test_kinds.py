"""Products given to the wrong reader (cube/kinds.py), and cubes opened without bounds."""

from __future__ import annotations

import pytest
import xarray as xr

from intake_webcoos import open_images, open_video, read_results
from intake_webcoos.cube.kinds import kind_of
from intake_webcoos.errors import ProductKindError, SelectionTooLargeError

from .helpers import CAMERA, HOUR, STILLS, elements_requests

WALTON = "walton_lighthouse"
HOUR_WALTON = ("2025-09-10T18:00:00Z", "2025-09-10T18:59:59Z")


@pytest.mark.parametrize("reader, product, names", [
    (open_video, STILLS, "open_images"),
    (read_results, STILLS, "open_images"),
    (open_images, "rip-detection-results", "read_results"),
    (open_images, "video-archive", "open_video"),
    (read_results, "video-archive", "open_video"),
    (open_video, "rip-detection-results", "read_results"),
])
def test_the_wrong_reader_names_the_right_one(api_env, reader, product, names):
    api_env.clear_requests()
    with pytest.raises(ProductKindError, match=rf"intake_webcoos\.{names}\("):
        reader(WALTON, product, *HOUR_WALTON)
    assert elements_requests(api_env) == []  # told from the product's name, before listing


def test_the_xarray_engine_routes_by_kind(api_env):
    with pytest.raises(ProductKindError, match="read_results"):
        xr.open_dataset(f"webcoos://{WALTON}/rip-detection-results", engine="webcoos",
                        start=HOUR_WALTON[0], end=HOUR_WALTON[1])


def test_a_name_that_says_nothing_is_told_by_its_files():
    assert kind_of("mystery", "https://h/a/b/x-2025.JPG") == "image"
    assert kind_of("mystery", "https://h/a/b/x-2025.mp4?sig=1") == "video"
    assert kind_of("mystery", "https://h/a/b/x.jsonl") == "results"
    assert kind_of("mystery") == "other" and kind_of("time-lapse") == "video"


def test_a_cube_without_bounds_is_refused_before_any_listing(api_env):
    api_env.clear_requests()
    with pytest.raises(SelectionTooLargeError, match=r"start=.*end=.*max_frames") as info:
        xr.open_dataset(f"webcoos://{CAMERA}/{STILLS}", engine="webcoos")
    assert elements_requests(api_env) == []
    assert "2025-09-16T23:00:00+00:00" in str(info.value)  # the last hour of data, to paste
    with pytest.raises(SelectionTooLargeError):
        open_images(CAMERA, STILLS, end="2025-09-10")  # most of the data, before the end


def test_a_bound_on_one_side_or_a_larger_limit_opens(api_env):
    last_day = open_images(CAMERA, STILLS, start="2025-09-16")
    assert 500 < last_day.sizes["time"] <= 1440
    everything = open_images(CAMERA, STILLS, max_frames=20_000)
    assert everything.sizes["time"] == api_env.holdings(CAMERA, STILLS).starts.size
    both = open_images(CAMERA, STILLS, *HOUR, max_frames=10)  # bounds given: no limit
    assert both.sizes["time"] == 60
