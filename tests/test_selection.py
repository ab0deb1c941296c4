"""One selection signature (cube/selection.py): every face takes the same keywords.

``open_images``, ``open_video``, the xarray engine and the intake readers take the
same camera/product/start/end/sampling/scale/cache and client options, accept
``webcoos://`` globs and paths, and refuse by name what they cannot take.
"""

from __future__ import annotations

import inspect
from pathlib import Path

import intake
import pytest
import xarray as xr

from intake_webcoos import open_images, open_video, read_results
from intake_webcoos.cube.backend import WebcoosBackendEntrypoint
from intake_webcoos.cube.selection import CLIENT_OPTIONS, KEYWORDS
from intake_webcoos.errors import ArgumentTypeError, InvalidArgumentError, WebcoosError
from intake_webcoos.intake.readers import (
    WebcoosAPI,
    WebcoosCatalogReader,
    WebcoosElementsReader,
    WebcoosImagesReader,
    WebcoosResultsReader,
    WebcoosVideoReader,
)

from .helpers import HOUR, TOKEN, label_of

CAMERA, STILLS, VIDEO = "waikiki_sheraton", "one-minute-stills", "video-archive"
CLIPS = "webcoos://waikiki_sheraton/video-archive/2025/09/10"
OLD_CATALOG = Path(__file__).resolve().parent.parent / "catalogs" / "webcoos.yaml"
READERS = (WebcoosImagesReader, WebcoosVideoReader, WebcoosResultsReader,
           WebcoosElementsReader)


def _named(func) -> list[str]:
    return [p.name for p in inspect.signature(func).parameters.values()
            if p.kind is not inspect.Parameter.VAR_KEYWORD]


def test_every_face_takes_the_same_keywords():
    images, video = inspect.signature(open_images), inspect.signature(open_video)
    assert images.parameters == video.parameters  # names, kinds and defaults
    assert tuple(_named(open_images)) == KEYWORDS
    assert list(images.parameters.values())[-1].kind is inspect.Parameter.VAR_KEYWORD
    # read_results takes those that apply to results, in the same order.
    assert _named(read_results) == [k for k in KEYWORDS if k in _named(read_results)]
    assert {"camera", "product", "start", "end", "every", "cache", "token"} \
        <= set(_named(read_results))
    # The engine lists them all (its URL gives camera and product; xarray applies chunks),
    # client options included.
    engine = set(WebcoosBackendEntrypoint.open_dataset_parameters)
    assert set(KEYWORDS) - {"camera", "product", "chunks", "cache"} <= engine
    assert {"retries", "timeout", "cache_dir", "file_concurrency"} <= set(CLIENT_OPTIONS) <= engine
    for reader in READERS:  # readers name the camera and pass everything else on
        parameters = inspect.signature(reader._read).parameters
        assert list(parameters)[1:3] == ["camera", "product"], reader
        assert "asset" in parameters and parameters["overrides"].kind.name == "VAR_KEYWORD"


@pytest.mark.parametrize(("call", "words"), [
    (lambda: open_images(CAMERA, STILLS, *HOUR, sample="1s"),
     "sample= picks or decodes frames of video clips; stills are thinned with every="),
    (lambda: open_images(CAMERA, STILLS, *HOUR, fps=2), "fps= picks or decodes frames of video"),
    (lambda: open_images(CAMERA, STILLS, *HOUR, keyframes=True), "keyframes= picks or decodes"),
    (lambda: read_results(CAMERA, "rip-detection-results", decode_threads=2),
     "decode_threads= picks or decodes frames of video clips; results are thinned"),
    (lambda: open_video(CAMERA, keyframes="yes"), "keyframes must be True or False"),
    (lambda: read_results(CAMERA, "rip-detection-results", sample="1s"),
     "results are thinned with every="),
    (lambda: open_images(asset=CAMERA, product=STILLS), "the camera is camera="),
    (lambda: open_video(CAMERA, retry=3), "unexpected keywords ['retry']"),
    (lambda: open_video(f"{CLIPS}/*.mp4", start=HOUR[0]), "either webcoos:// paths or camera"),
    (lambda: open_images(None, STILLS), "needs a camera and a product"),
    (lambda: open_video(CAMERA, sample="1s", fps=2), "sample= or fps=, not both"),
])
def test_what_a_face_cannot_take_is_refused_by_name(call, words):
    with pytest.raises(ArgumentTypeError) as raised:
        call()
    assert words in str(raised.value)
    assert isinstance(raised.value, TypeError) and isinstance(raised.value, WebcoosError)


def test_values_out_of_range_are_refused():
    with pytest.raises(InvalidArgumentError, match="fps must be a positive number"):
        open_video(CAMERA, fps=0)


def test_video_by_glob_and_by_paths(standin):
    listed = standin.elements(CAMERA, VIDEO, *HOUR)
    first, second = (label_of(e) for e in listed[:2])
    by_paths = open_video([f"{CLIPS}/{first}", f"{CLIPS}/{second}"], token=TOKEN,
                          base_url=standin.api_url, fps=1)
    assert by_paths.sizes["time"] == 40 and list(dict.fromkeys(by_paths["clip"].values)) \
        == [first, second]
    by_glob = open_video(f"{CLIPS}/{first[:-8]}*.mp4", token=TOKEN, base_url=standin.api_url)
    assert set(by_glob["clip"].values) == {first}
    engine = xr.open_dataset(f"{CLIPS}/{first}", engine="webcoos", token=TOKEN,
                             base_url=standin.api_url, fps=1)
    xr.testing.assert_identical(engine, by_paths.isel(time=slice(0, 20)))


def test_every_thins_clips(standin):
    ds = open_video(CAMERA, VIDEO, *HOUR, every="20min", fps=1, token=TOKEN,
                    base_url=standin.api_url)
    starts = [label_of(e) for e in standin.elements(CAMERA, VIDEO, *HOUR)]
    assert len(starts) == 6
    kept = list(dict.fromkeys(ds["clip"].values))
    assert len(kept) == 3 and set(kept) <= set(starts) and ds.sizes["time"] == 60


def test_cached_video_costs_no_file_request_the_second_time(standin, tmp_path):
    def opened():
        return open_video(CAMERA, VIDEO, HOUR[0], "2025-09-10T18:10Z", fps=1, cache=True,
                          cache_dir=str(tmp_path), token=TOKEN, base_url=standin.api_url)

    first = opened().compute()
    standin.clear_requests()
    again = opened().compute()
    assert standin.requests_to("files") == []
    xr.testing.assert_identical(first, again)


def test_the_engine_passes_client_options_through(standin, tmp_path):
    url = f"webcoos://{CAMERA}/{STILLS}"
    window = dict(start=HOUR[0], end="2025-09-10T18:02:59Z", token=TOKEN,
                  base_url=standin.api_url)
    with pytest.raises(ArgumentTypeError, match="asset"):
        xr.open_dataset(url, engine="webcoos", asset=CAMERA, **window)
    with pytest.raises(ValueError, match="retries"):  # reached the client's settings
        xr.open_dataset(url, engine="webcoos", retries=0, **window)
    # xarray keeps cache= for itself: the client option cache_files is what cache=True sets.
    options = dict(engine="webcoos", cache_files=True, cache_dir=str(tmp_path), retries=2,
                   timeout=30, **window)
    first = xr.open_dataset(url, **options).compute()
    assert any(tmp_path.rglob("*"))
    standin.clear_requests()
    again = xr.open_dataset(url, **options).compute()
    assert standin.requests_to("files") == [] and first.sizes["time"] == 3
    xr.testing.assert_identical(first, again)


def test_the_readers_pass_every_keyword_on(api_env, tmp_path):
    window = {"start": HOUR[0], "end": "2025-09-10T18:29:59Z"}
    cube = WebcoosImagesReader(camera=CAMERA, product=STILLS, options=window)(
        every="10min", scale=0.25, grayscale=True, chunks={"time": 2}, cache=True,
        cache_dir=str(tmp_path), retries=2, max_frames=100).read()
    assert dict(cube.sizes) == {"time": 3, "y": 45, "x": 80, "band": 1}
    assert cube["image"].data.chunks[0] == (2, 1)
    clips = WebcoosVideoReader(camera=CAMERA, product=VIDEO, options=window)(
        every="20min", fps=1, coerce_shape=[48, 80]).read()
    assert clips.sizes["time"] == 40 and clips.sizes["x"] == 80
    with pytest.raises(ArgumentTypeError, match="sample= picks or decodes frames"):
        WebcoosImagesReader(camera=CAMERA, product=STILLS, options=window)(
            sample="1s").read()
    listing = WebcoosElementsReader(camera=CAMERA, product=STILLS, options=window)(
        every="10min", retries=2, cache=True).read()
    assert len(listing) == 3


def test_a_catalog_saved_with_asset_still_reads(api_env, tmp_path):
    # The catalog shipped before the rename, as users saved theirs: kwargs say asset:.
    saved = tmp_path / "old.yaml"
    saved.write_text(OLD_CATALOG.read_text().replace("camera: waikiki_sheraton\n      product",
                                                     "asset: waikiki_sheraton\n      product"))
    assert "asset: waikiki_sheraton" in saved.read_text()
    cube = intake.open_catalog(str(saved))["waikiki_stills"](
        start=HOUR[0], end="2025-09-10T18:04:59Z").read()
    assert cube.sizes["time"] == 5 and cube.attrs["camera"] == CAMERA
    group = WebcoosCatalogReader(WebcoosAPI(api_env.api_url), assets=[CAMERA],
                                 groups=False).read()
    assert list(group) and all(name.startswith(f"{CAMERA}/") for name in group)
    v1 = intake.open_webcoos_images(asset=CAMERA, product=STILLS, start=HOUR[0],
                                    end="2025-09-10T18:01:59Z").to_dask()
    assert v1.sizes["time"] == 2
