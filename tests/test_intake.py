"""intake 2 readers and catalog, and the intake v1 drivers (intake/catalog.py,
intake/readers.py, intake/sources.py), against the stand-in.  The token in readers is in
``test_token.py``."""

from __future__ import annotations

from pathlib import Path

import dask.array
import intake
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from intake_webcoos.intake.catalog import build_catalog
from intake_webcoos.intake.readers import (
    WebcoosAPI,
    WebcoosCatalogReader,
    WebcoosElementsReader,
    WebcoosImagesReader,
)

from .helpers import TOKEN, fresh_python

CATALOGS = Path(__file__).parent.parent / "catalogs"
pytestmark = pytest.mark.usefixtures("api_env")


@pytest.fixture(scope="module")
def cat(standin):
    return WebcoosCatalogReader(WebcoosAPI(standin.api_url), token=TOKEN).read()


def test_import_intake_is_cheap():
    code = ("import sys, intake; heavy = ['aiohttp', 'xarray', 'dask', "
            "'intake_webcoos.api.client', 'intake_webcoos.intake.catalog', "
            "'intake_webcoos.products.reductions', "
            "'intake_webcoos.server']; "
            "print([m for m in heavy if m in sys.modules]); "
            "print('intake_webcoos.intake.readers' in sys.modules)")
    out = fresh_python(code).split("\n")
    assert out[0] == "[]"
    assert out[1] == "True"  # the entry point was imported, and cost nothing heavy


def test_one_entry_per_camera_product_with_files(cat, standin):
    names = list(cat)
    expected = set()
    for camera in standin.state.archive.cameras.values():
        for product in camera.products:
            if product.service_uuid is not None:
                expected |= {f"{camera.slug}/{product.slug}",
                             f"{camera.slug}/{product.slug}/elements"}
        expected.add(camera.slug)
    assert set(names) == expected
    assert "waikiki_sheraton/video-streams" not in names  # a stream has no files
    assert "waikiki_sheraton/one-minute-stills" in cat._ipython_key_completions_()
    assert "waikiki_sheraton/one-minute-stills" in dir(cat)


def test_entry_metadata(cat, standin):
    entry = cat.get_entity("waikiki_sheraton/one-minute-stills")
    meta = entry.metadata
    holdings = standin.holdings("waikiki_sheraton", "one-minute-stills")
    assert meta["label"] == "Beachfront, Waikiki, HI" and meta["timezone"] == "US/Hawaii"
    assert (meta["latitude"], meta["longitude"]) == (21.276763, -157.83024)
    assert meta["service"] == "waikiki_sheraton-one-minute-stills-s3"
    assert meta["count"] == holdings.starts.size and meta["bytes"] == holdings.sizes.sum()
    assert pd.Timestamp(meta["first_time"]) == pd.Timestamp(int(holdings.starts[0]), unit="s",
                                                             tz="UTC")
    assert pd.Timestamp(meta["last_time"]) == pd.Timestamp(int(holdings.starts[-1]), unit="s",
                                                           tz="UTC")
    assert meta["thumbnail"].startswith(standin.files_url)
    assert set(entry.user_parameters) == {"start", "end", "every", "scale", "grayscale",
                                          "on_error"}
    assert entry.reader.endswith("WebcoosImagesReader")
    assert cat.get_entity("walton_lighthouse/rip-detection-results").reader.endswith(
        "WebcoosResultsReader")
    assert cat.get_entity("waikiki_sheraton/video-archive").reader.endswith(
        "WebcoosVideoReader")


def test_images_entry_reads_with_parameters(cat, standin):
    ds = cat["waikiki_sheraton/one-minute-stills"](start="2025-09-10T18:00Z",
                                                  end="2025-09-10T18:09:59Z").read()
    assert isinstance(ds, xr.Dataset) and ds.sizes["time"] == 10
    direct = standin.elements("waikiki_sheraton", "one-minute-stills", "2025-09-10T18:00",
                              "2025-09-10T18:09:59")
    assert list(ds["url"].values) == [e["data"]["properties"]["url"] for e in direct]
    reduced = cat["waikiki_sheraton/one-minute-stills"](
        start="2025-09-10T18:00Z", end="2025-09-10T18:09:59Z", scale=0.5, grayscale=True,
        every="5min").read()
    assert dict(reduced.sizes) == {"time": 2, "y": 90, "x": 160, "band": 1}
    # Parameters also work through the entry's description (intake's own route).
    described = cat.get_entity("waikiki_sheraton/one-minute-stills")(
        start="2025-09-10T18:00Z", end="2025-09-10T18:04:59Z").read()
    assert described.sizes["time"] == 5


def test_default_window_is_the_newest_hour(cat, standin):
    ds = cat["waikiki_sheraton/one-minute-stills"].read()
    last = pd.Timestamp(int(standin.holdings("waikiki_sheraton",
                                             "one-minute-stills").starts[-1]), unit="s")
    assert ds["time"].values[-1] == np.datetime64(last)
    assert 55 <= ds.sizes["time"] <= 61


def test_every_elements_entry_reads(cat, standin):
    for name in cat:
        if not name.endswith("/elements"):
            continue
        frame = cat[name].read()
        camera, product, _ = name.split("/")
        assert len(frame) > 0 and (frame["asset"] == camera).all(), name
        assert (frame["product"] == product).all()


def test_every_image_entry_reads(cat):
    for name in cat:
        entity = cat.get_entity(name)
        if not entity.reader.endswith("WebcoosImagesReader"):
            continue
        end = pd.Timestamp(entity.metadata["last_time"])
        ds = cat[name](start=(end - pd.Timedelta("1h")).isoformat(), end=end.isoformat(),
                       scale=0.25).read()
        assert ds["image"].dtype == np.uint8 and ds.sizes["time"] >= 1, name
        assert ds["image"].isel(time=-1).values.mean() > 0


def test_camera_group_entry(cat):
    group = cat["waikiki_sheraton"].read()
    assert set(group) == {"waikiki_sheraton/one-minute-stills",
                          "waikiki_sheraton/one-minute-stills/elements",
                          "waikiki_sheraton/video-archive",
                          "waikiki_sheraton/video-archive/elements"}


@pytest.mark.parametrize("filters,expected", [
    ({"search": "waikiki"}, {"waikiki_sheraton"}),
    ({"search": "rip-detection"}, {"currituck_hampton_inn", "walton_lighthouse"}),
    ({"search": "corolla beachfront"}, {"currituck_hampton_inn"}),
    ({"bbox": [-160, 18, -150, 23]}, {"waikiki_sheraton"}),
    ({"bbox": [-125, 35, -120, 39]}, {"walton_lighthouse", "tmmc_prls"}),
    ({"start": "2020-01-01", "end": "2021-12-31"}, {"buxtoncoastalcam"}),
    ({"products": ["10-minute-stills", "image-stills"]},
     {"stevens_hoboken", "madeira_beach_camera_1"}),
])
def test_filters(standin, filters, expected):
    filtered = build_catalog(standin.api_url, TOKEN, **filters)
    cameras = {name.split("/")[0] for name in filtered}
    assert cameras == expected
    if "products" in filters:
        assert all(name.split("/")[1] in filters["products"] for name in filtered if "/" in name)


def test_archived_cameras_can_be_left_out(standin):
    everything = {n.split("/")[0] for n in build_catalog(standin.api_url, TOKEN)}
    active = {n.split("/")[0] for n in build_catalog(standin.api_url, TOKEN,
                                                      include_archived=False)}
    assert everything - active == {"buxtoncoastalcam"}


def test_catalog_reads_video_and_results(standin):
    cat = build_catalog(standin.api_url, TOKEN, search="walton")
    ds = cat["walton_lighthouse/video-archive"](start="2025-09-10T20:00Z",
                                                end="2025-09-10T20:10Z", sample="1s").read()
    assert ds.sizes["time"] == 20 and ds["image"].dtype == np.uint8
    table = cat["walton_lighthouse/rip-detection-results"](start="2025-09-10",
                                                           end="2025-09-10T12:00").read()
    assert len(table) > 0 and "detection" in table.columns


def test_yaml_round_trip(cat, tmp_path):
    path = tmp_path / "webcoos.yaml"
    cat.to_yaml_file(str(path))
    text = path.read_text()
    assert TOKEN not in text and "{env(WEBCOOS_API_TOKEN)}" in text
    again = intake.open_catalog(str(path))
    assert sorted(again) == sorted(cat)
    name = "stevens_hoboken/10-minute-stills"
    assert again.get_entity(name).metadata == cat.get_entity(name).metadata
    window = {"start": "2025-09-10T12:00Z", "end": "2025-09-10T13:00Z"}
    xr.testing.assert_identical(again[name](**window).read(), cat[name](**window).read())


def test_intake_converters_apply(standin):
    reader = WebcoosImagesReader(camera="waikiki_sheraton", product="one-minute-stills",
                                 options={"start": "2025-09-10T18:00Z",
                                          "end": "2025-09-10T18:01:59Z", "scale": 0.125},
                                 base_url=standin.api_url)
    conversions = str(reader.transform)
    for name in ("XarrayToNetCDF", "XarrayToZarr", "ToHvPlot"):
        assert name in conversions
    table = reader.transform.XarrayToPandas().read()
    assert isinstance(table, pd.DataFrame) and len(table) == 2 * 23 * 40 * 3


def test_elements_reader_alone(standin):
    frame = WebcoosElementsReader(camera="stevens_hoboken", product="10-minute-stills",
                                  options={"start": "2025-09-10", "end": "2025-09-11"}).read()
    assert len(frame) == 72 and frame["filename"].str.contains(":").all()


# -- the example catalogs in the repository ----------------------------------------------
def test_example_v2_catalog():
    cat = intake.open_catalog(str(CATALOGS / "webcoos.yaml"))
    assert set(cat) == {"waikiki_sheraton/one-minute-stills",
                        "waikiki_sheraton/one-minute-stills/elements",
                        "stevens_hoboken/10-minute-stills"}
    assert cat["waikiki_sheraton/one-minute-stills"].read().sizes["time"] == 60
    assert len(cat["waikiki_sheraton/one-minute-stills/elements"].read()) == 720
    assert cat["stevens_hoboken/10-minute-stills"].read().sizes["x"] == 160


def test_example_v1_catalog():
    cat = intake.open_catalog(str(CATALOGS / "webcoos_v1.yaml"))
    source = cat.waikiki_hour
    schema = source.discover()
    assert schema["shape"] == (60, 180, 320, 3) and schema["metadata"]["camera"] == \
        "waikiki_sheraton"
    lazy = source.to_dask()
    assert isinstance(lazy["image"].data, dask.array.Array)
    loaded = source.read()
    np.testing.assert_array_equal(loaded["image"].values, lazy["image"].values)
    listing = cat.waikiki_day_listing.read()
    assert len(listing) == 720
    assert len(cat.waikiki_day_listing.to_dask().compute()) == 720
    cameras = cat.all_cameras
    assert "waikiki_sheraton/one-minute-stills" in list(cameras)
    assert cameras["stevens_hoboken/10-minute-stills"].describe()["driver"] == ["webcoos_images"]
    hoboken = cameras["stevens_hoboken/10-minute-stills"](start="2025-09-10T12:00Z",
                                                          end="2025-09-10T12:59:59Z")
    assert hoboken.read()["image"].shape == (6, 180, 320, 3)


def test_v1_openers(standin):
    source = intake.open_webcoos_images("waikiki_sheraton", "one-minute-stills",
                                        start="2025-09-10T18:00Z", end="2025-09-10T18:04:59Z",
                                        token=TOKEN, scale=0.5)
    assert source.read()["image"].shape == (5, 90, 160, 3)
    assert TOKEN not in source.yaml()
    assert intake.open_webcoos_elements("waikiki_sheraton", "one-minute-stills",
                                        start="2025-09-10", end="2025-09-10T01:00").read(
                                        ).shape[1] == 11
    assert len(list(intake.open_webcoos_cat(search="hoboken"))) == 2
