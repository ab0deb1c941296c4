"""Tests of the synthetic coastal webcam scene."""

from __future__ import annotations

import datetime as dt
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from intake_webcoos.server.scene import M2_PERIOD_S, SceneRenderer

CAMERAS = ["ucf_shoreline", "oakisland_west", "currituck_hampton_inn"]
CAMERA = CAMERAS[0]
NOON = dt.datetime(2024, 6, 1, 12, tzinfo=dt.UTC)
T0 = NOON.timestamp()
NOISE_MEAN_ABS_DIFF = 2.9  # E|n1 - n2| for two independent N(0, 2.5) pixels is 2.8


@pytest.fixture(scope="module")
def small() -> SceneRenderer:
    return SceneRenderer(320, 180)


def centre_column(renderer: SceneRenderer, frame: np.ndarray) -> np.ndarray:
    return frame[:, renderer.width // 2].astype(float)


def waterline_row(renderer: SceneRenderer, frame: np.ndarray) -> int:
    """Last row of the centre column that is bluer than red: the edge of the sea."""
    column = centre_column(renderer, frame)
    return int(np.nonzero(column[:, 2] > column[:, 0])[0].max())


def grey_frames_over_wave_periods(renderer: SceneRenderer, camera: str) -> np.ndarray:
    """100 grey frames over 24 s: two or more wave periods, while the tide moves < 0.1 row."""
    frames = np.stack([renderer.render(camera, T0 + 0.24 * i) for i in range(100)])
    return frames.astype(np.float32).mean(axis=-1)


def mean_abs_diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(float) - b.astype(float)).mean())


def test_same_camera_and_time_give_identical_frames_and_jpeg_bytes(small):
    fresh = SceneRenderer(320, 180)  # its caches are cold, the module fixture's may be warm

    assert np.array_equal(small.render(CAMERA, T0), fresh.render(CAMERA, T0))
    assert small.jpeg(CAMERA, T0) == fresh.jpeg(CAMERA, T0) == small.jpeg(CAMERA, T0)


def test_jpeg_is_a_plain_jpeg_of_the_frame_size(small):
    data = small.jpeg(CAMERA, T0, quality=85)

    assert data[:2] == b"\xff\xd8" and data[-2:] == b"\xff\xd9"
    assert b"Exif" not in data
    assert len(small.jpeg(CAMERA, T0, quality=30)) < len(data)
    with pytest.raises(ValueError):
        small.jpeg(CAMERA, T0, quality=0)


def test_different_cameras_give_different_frames(small):
    frames = [small.render(camera, T0) for camera in CAMERAS]

    for i, first in enumerate(frames):
        for second in frames[i + 1 :]:
            assert mean_abs_diff(first, second) > 5


def test_datetime_and_unix_seconds_for_the_same_instant_give_the_same_frame(small):
    instant = NOON + dt.timedelta(seconds=17, microseconds=250_000)
    same_instant_elsewhere = instant.astimezone(dt.timezone(dt.timedelta(hours=-5)))
    expected = small.render(CAMERA, instant.timestamp())

    assert np.array_equal(small.render(CAMERA, instant), expected)
    assert np.array_equal(small.render(CAMERA, same_instant_elsewhere), expected)
    assert small.shoreline_row(CAMERA, instant) == small.shoreline_row(CAMERA, T0 + 17.25)


@pytest.fixture
def local_time_is_new_york(monkeypatch):
    """Make the process's local time zone differ from UTC, so naive-as-local would show."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.skipif(not hasattr(time, "tzset"), reason="needs time.tzset (Unix)")
@pytest.mark.usefixtures("local_time_is_new_york")
def test_naive_datetime_is_utc(small):
    naive = dt.datetime(2024, 6, 1, 12, 0, 17)

    assert np.array_equal(small.render(CAMERA, naive), small.render(CAMERA, T0 + 17))
    assert not np.array_equal(small.render(CAMERA, naive), small.render(CAMERA, T0 + 18))


def test_rendered_frames_are_independent_of_each_other(small):
    first = small.render(CAMERA, T0)
    expected = first.copy()
    first[:] = 0

    assert np.array_equal(small.render(CAMERA, T0), expected)


def test_concurrent_renders_on_cold_caches_match_sequential_ones():
    jobs = [(camera, T0 + 0.05 * i) for camera in CAMERAS for i in range(4)]
    sequential = [SceneRenderer(160, 90).render(*job) for job in jobs]

    shared = SceneRenderer(160, 90)
    with ThreadPoolExecutor(max_workers=4) as pool:
        concurrent = list(pool.map(lambda job: shared.render(*job), jobs))

    for expected, got in zip(sequential, concurrent, strict=True):
        assert np.array_equal(expected, got)


@pytest.mark.parametrize(("width", "height"), [(320, 180), (16, 16), (2688, 1520), (100, 700)])
def test_frames_have_the_requested_size(width, height):
    renderer = SceneRenderer(width, height)
    frame = renderer.render(CAMERA, T0)

    assert (renderer.width, renderer.height) == (width, height)
    assert frame.shape == (height, width, 3)
    assert frame.dtype == np.uint8


@pytest.mark.parametrize(("width", "height"), [(15, 180), (2689, 720), (320, 15), (320, 1521)])
def test_out_of_range_sizes_are_rejected(width, height):
    with pytest.raises(ValueError):
        SceneRenderer(width, height)


@pytest.mark.parametrize("camera", CAMERAS)
def test_layout_rows_lie_in_their_bands(small, camera):
    height = small.height

    assert 0.18 * height <= small.horizon_row(camera) <= 0.32 * height
    assert 0.52 * height <= small.shoreline_row(camera, T0) <= 0.74 * height


@pytest.mark.parametrize("camera", CAMERAS)
def test_cameras_are_realistic(small, camera):
    geometry = small.geometry(camera)

    assert (geometry.width, geometry.height, geometry.name) == (320, 180, camera)
    assert 10 <= geometry.z <= 40 and 75 <= geometry.tilt <= 85
    assert 0.8 * 320 <= geometry.fx <= 1.1 * 320 and geometry.fy == geometry.fx
    assert -0.2 < geometry.k1 < 0 and abs(geometry.p1) < 0.01
    # Landward of the waterline, looking seaward (+y).
    assert geometry.y < 0 and (geometry.azimuth < 20 or geometry.azimuth > 340)
    waterline = small.waterline(camera, T0)
    assert 30 < waterline - geometry.y < 250


@pytest.mark.parametrize("camera", CAMERAS)
def test_a_camera_looks_the_same_at_every_size(camera):
    large, small = SceneRenderer(1280, 720), SceneRenderer(320, 180)
    expected = large.geometry(camera).scaled(1 / 4)

    for name, value in vars(small.geometry(camera)).items():
        if name in {"width", "height", "cx", "cy", "fx", "fy"}:
            assert value == pytest.approx(getattr(expected, name), abs=1e-9), name
    assert small.geometry(camera, 1280, 720) == large.geometry(camera)
    ratio = small.shoreline_row(camera, T0) / large.shoreline_row(camera, T0)
    assert ratio == pytest.approx(0.25, abs=0.01)


@pytest.mark.parametrize("camera", CAMERAS)
def test_sky_sea_and_sand_have_their_colours_at_the_centre_column(small, camera):
    column = centre_column(small, small.render(camera, T0))
    horizon = small.horizon_row(camera)
    shoreline = small.shoreline_row(camera, T0)
    sky = column[: horizon - 3].mean(axis=0)
    open_sea = column[horizon + 3 : round((horizon + shoreline) / 2)].mean(axis=0)
    sand = column[round(shoreline) + 4 :].mean(axis=0)

    assert sky.mean() > open_sea.mean() + 50
    assert sky[2] > open_sea[2] + 50
    assert open_sea[2] > open_sea[0] + 30
    assert sand[0] > sand[2] + 30
    assert sand[1] > sand[2]


@pytest.mark.parametrize("camera", CAMERAS)
def test_sky_is_above_the_horizon_row_and_sand_below_the_shoreline_row(small, camera):
    frame = small.render(camera, T0)
    middle = slice(small.width // 2 - 2, small.width // 2 + 3)
    horizon = small.horizon_row(camera)
    shoreline = round(small.shoreline_row(camera, T0))
    sky = frame[: horizon - 2, middle].astype(int)
    sea = frame[horizon + 2 : shoreline - 2, middle].astype(int)
    sand = frame[shoreline + 3 :, middle].astype(int)

    assert (sky[..., 2] > sky[..., 0] + 20).all() and (sky.mean(axis=-1) > 110).all()
    assert (sea[..., 2] > sea[..., 0] + 5).all()
    assert (sand[..., 0] > sand[..., 2] + 20).all()


def test_tide_and_waterline_follow_an_m2_sinusoid_and_move_the_shoreline_row(small):
    times = T0 + np.linspace(0.0, M2_PERIOD_S, 721)
    tide = np.array([small.tide_level(CAMERA, t) for t in times])
    waterline = np.array([small.waterline(CAMERA, t) for t in times])
    rows = np.array([small.shoreline_row(CAMERA, t) for t in times])

    assert 0.05 <= (tide.max() - tide.min()) / 2 <= 1.0  # metres
    assert abs(tide.max() + tide.min()) < 1e-3  # about mean sea level, the datum
    for t in times[::60]:
        assert small.tide_level(CAMERA, t + M2_PERIOD_S) == pytest.approx(
            small.tide_level(CAMERA, t), abs=1e-9)
        assert small.tide_level(CAMERA, t + M2_PERIOD_S / 2) == pytest.approx(
            -small.tide_level(CAMERA, t), abs=1e-9)
    # The waterline runs up the beach (landward, smaller y) as the tide rises ...
    slope = -np.polyfit(waterline, tide, 1)[0]
    assert 0.01 < slope < 0.1
    np.testing.assert_allclose(waterline, -tide / slope, atol=1e-9)
    # ... towards the camera, so down the image (larger rows), by a few percent of the height.
    assert np.corrcoef(rows, tide)[0, 1] > 0.99
    assert rows.max() - rows.min() > 0.03 * small.height


@pytest.mark.parametrize("renderer", [SceneRenderer(320, 180), SceneRenderer(640, 360)])
@pytest.mark.parametrize("camera", CAMERAS)
def test_rendered_waterline_tracks_shoreline_row_through_the_tide(renderer, camera):
    times = T0 + np.linspace(0.0, M2_PERIOD_S, 9)[:-1]
    rows = np.array([renderer.shoreline_row(camera, t) for t in times])
    detected = np.array([waterline_row(renderer, renderer.render(camera, t)) for t in times])

    assert rows.max() - rows.min() > 0.03 * renderer.height
    assert np.abs(detected - rows).max() <= 2


@pytest.mark.parametrize("camera", CAMERAS)
def test_waves_move_the_sea_while_the_sky_only_shows_noise(small, camera):
    horizon = small.horizon_row(camera)
    shoreline = small.shoreline_row(camera, T0)
    # The nearer half of the sea (farther off, a 320-pixel frame cannot draw a
    # swell), clear of the shoreline everywhere across the slightly rolled frame.
    sea = slice(round((horizon + shoreline) / 2), round(shoreline - 0.05 * small.height))
    sky = slice(0, horizon - 2)
    start = small.render(camera, T0)

    for later in (T0 + 1, T0 + 60):
        frame = small.render(camera, later)
        assert mean_abs_diff(frame[sky], start[sky]) < NOISE_MEAN_ABS_DIFF
        assert mean_abs_diff(frame[sea], start[sea]) > 2 * NOISE_MEAN_ABS_DIFF


def test_crests_travel_shoreward(small):
    horizon = small.horizon_row(CAMERA)
    shoreline = round(small.shoreline_row(CAMERA, T0))
    surf = slice(horizon + (shoreline - horizon) // 2, shoreline - 3)
    middle = slice(small.width // 2 - 20, small.width // 2 + 21)  # averages the noise out

    def profile(when: float) -> np.ndarray:
        rows = small.render(CAMERA, when)[surf, middle].astype(float).mean(axis=(1, 2))
        return rows - rows.mean()

    before, after = profile(T0), profile(T0 + 1.5)
    lags = range(-4, 5)
    score = [np.dot(before[4:-4], np.roll(after, -lag)[4:-4]) for lag in lags]
    assert lags[int(np.argmax(score))] > 0  # the pattern moved to larger rows


@pytest.mark.parametrize("camera", CAMERAS)
def test_timex_and_variance_show_the_surf_zone_next_to_the_shoreline(small, camera):
    grey = grey_frames_over_wave_periods(small, camera)
    timex, variance = grey.mean(axis=0), grey.std(axis=0)
    column = small.width // 2
    horizon = small.horizon_row(camera)
    shoreline = small.shoreline_row(camera, T0)
    open_sea = slice(horizon + 2, round((horizon + shoreline) / 2))
    surf = slice(round(shoreline - 0.1 * small.height), int(shoreline))

    assert timex[surf, column].mean() > timex[open_sea, column].mean() + 40
    brightest_sea_row = horizon + int(np.argmax(timex[horizon : int(shoreline), column]))
    assert shoreline - 0.1 * small.height <= brightest_sea_row <= shoreline
    assert variance[surf, column].mean() > 10
    assert variance[: horizon - 2, column].mean() < 3.5


@pytest.mark.parametrize("camera", CAMERAS)
def test_darkest_image_keeps_a_foam_band_at_the_shoreline(small, camera):
    darkest = grey_frames_over_wave_periods(small, camera).min(axis=0)[:, small.width // 2]
    horizon = small.horizon_row(camera)
    shoreline = int(small.shoreline_row(camera, T0))
    open_sea = darkest[horizon + 2 : (horizon + shoreline) // 2].mean()

    assert darkest[shoreline - 3 : shoreline].mean() > open_sea + 30


# -- the truth behind the pictures: geometry, tide and waterline --------------------------------
def sea_edges(frame: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """Per column, the row boundary (a half-integer) below the last pixel bluer than red."""
    sea = frame[:, columns, 2].astype(int) > frame[:, columns, 0].astype(int)
    last = frame.shape[0] - 1 - np.argmax(sea[::-1], axis=0)
    return last + 0.5


@pytest.mark.parametrize("camera", CAMERAS)
def test_the_rendered_waterline_projects_onto_the_true_waterline(camera):
    renderer = SceneRenderer(1280, 720)
    geometry = renderer.geometry(camera)
    columns = np.arange(40, 1280, 100)
    stages = T0 + np.linspace(0.0, M2_PERIOD_S, 6, endpoint=False)
    waterlines = []
    for when in stages:
        tide = renderer.tide_level(camera, when)
        x, y = geometry.pixel_to_world(columns, sea_edges(renderer.render(camera, when), columns),
                                       tide)
        truth = renderer.waterline(camera, when)
        waterlines.append(truth)
        assert np.isfinite(x).all()
        # Within a metre everywhere (a row is up to a metre of beach there), and half on average.
        assert np.abs(y - truth).max() < 1.0, f"{camera} at {when}: {y - truth}"
        assert abs(np.median(y) - truth) < 0.5
    assert np.ptp(waterlines) > 5  # the stages span the tide: metres of beach


def test_world_to_pixel_to_world_on_a_stand_in_camera_within_a_centimetre_at_100_m(small):
    geometry = SceneRenderer(1280, 720).geometry(CAMERA)
    bearing = np.radians(geometry.azimuth + np.linspace(-25, 25, 11))
    x = geometry.x + 100.0 * np.sin(bearing)
    y = geometry.y + 100.0 * np.cos(bearing)
    u, v = geometry.world_to_pixel(x, y, 0.3)
    x_back, y_back = geometry.pixel_to_world(u, v, 0.3)

    assert np.isfinite(u).all() and np.isfinite(v).all()
    assert np.hypot(x_back - x, y_back - y).max() < 0.01
