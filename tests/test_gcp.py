"""Extrinsics from ground control points (world/gcp.py)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import intake_webcoos
from intake_webcoos import GeometryError
from intake_webcoos.world.gcp import EXTRINSICS, solve_extrinsics
from intake_webcoos.world.geometry import CameraGeometry

from .helpers import CAMERA
from .test_geometry import CAMERA as TRUTH


def control_points(truth: CameraGeometry, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """`n` points on the ground (0-3 m high) seen anywhere below the horizon."""
    rng = np.random.default_rng(seed)
    u = rng.uniform(40, truth.width - 40, n)
    v = rng.uniform(0.4 * truth.height, truth.height - 20, n)
    z = rng.uniform(0.0, 3.0, n)
    x, y = truth.pixel_to_world(u, v, z)
    return np.stack([x, y, z], axis=1), np.stack([u, v], axis=1)


def assert_extrinsics_close(got: CameraGeometry, truth: CameraGeometry, metres: float,
                            degrees: float) -> None:
    for name in ("x", "y", "z"):
        assert getattr(got, name) == pytest.approx(getattr(truth, name), abs=metres), name
    for name in ("azimuth", "tilt", "roll"):
        assert getattr(got, name) == pytest.approx(getattr(truth, name), abs=degrees), name


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_six_noiseless_points_give_the_extrinsics_from_the_default_start(seed):
    world, pixels = control_points(TRUTH, 6, seed)
    intrinsics = dataclasses.replace(TRUTH, x=0.0, y=0.0, z=0.0, azimuth=0.0, tilt=0.0, roll=0.0)

    solved, report = solve_extrinsics(intrinsics, world, pixels)

    assert_extrinsics_close(solved, TRUTH, metres=0.01, degrees=0.01)
    assert report.converged and report.n_points == 6
    assert report.rms < 1e-4 and report.residuals.shape == (6, 2)
    # Everything but the extrinsics comes from the intrinsics' geometry.
    assert dataclasses.replace(solved, **{n: getattr(TRUTH, n) for n in EXTRINSICS}) == TRUTH


def test_one_pixel_noise_gives_an_rms_near_one_pixel_and_honest_uncertainties():
    world, pixels = control_points(TRUTH, 30, seed=3)
    noisy = pixels + np.random.default_rng(4).normal(0.0, 1.0, pixels.shape)

    solved, report = solve_extrinsics(TRUTH, world, noisy)

    assert report.converged
    assert 0.5 <= report.rms <= 1.5
    np.testing.assert_allclose(report.errors, np.hypot(*report.residuals.T))
    assert_extrinsics_close(solved, TRUTH, metres=0.5, degrees=0.2)
    for name in EXTRINSICS:
        error = abs(getattr(solved, name) - getattr(TRUTH, name))
        assert 0 < report.uncertainty[name] < 0.2
        assert error < 5 * report.uncertainty[name], name


def test_an_initial_geometry_is_the_start_and_fixed_extrinsics_stay_put():
    world, pixels = control_points(TRUTH, 4, seed=5)
    guess = dataclasses.replace(TRUTH, x=20.0, y=-130.0, azimuth=15.0, tilt=72.0, roll=0.0)

    solved, report = solve_extrinsics(TRUTH, world, pixels, initial=guess, fixed=("z",))

    assert solved.z == guess.z
    assert_extrinsics_close(solved, TRUTH, metres=0.01, degrees=0.01)
    assert set(report.uncertainty) == set(EXTRINSICS) - {"z"}


def test_three_points_are_enough_with_three_extrinsics_fixed():
    world, pixels = control_points(TRUTH, 3, seed=6)
    solved, report = solve_extrinsics(TRUTH, world, pixels, initial=dataclasses.replace(
        TRUTH, azimuth=12.0, tilt=74.0, roll=-1.0), fixed=("x", "y", "z"))

    assert report.converged and report.rms < 1e-4
    assert_extrinsics_close(solved, TRUTH, metres=0.0, degrees=0.01)


@pytest.mark.parametrize(("world", "pixels", "options", "match"), [
    (np.zeros((2, 3)), np.zeros((2, 2)), {}, "at least 3 ground control points, not 2"),
    (np.zeros((4, 2)), np.zeros((4, 2)), {}, r"world_points must have shape \(N, 3\)"),
    (np.zeros((4, 3)), np.zeros((3, 2)), {}, r"pixels must have shape \(4, 2\)"),
    (np.full((4, 3), np.nan), np.zeros((4, 2)), {}, "must be finite"),
    (np.zeros((4, 3)), np.zeros((4, 2)), {"fixed": ["swing"]}, "fixed names 'swing'"),
    (np.zeros((4, 3)), np.zeros((4, 2)), {"fixed": ["z"]}, "give initial="),
])
def test_bad_control_points_raise_geometry_errors(world, pixels, options, match):
    with pytest.raises(GeometryError, match=match):
        solve_extrinsics(TRUTH, world, pixels, **options)


def test_the_solver_is_exported_lazily_from_the_package():
    assert intake_webcoos.solve_extrinsics is solve_extrinsics
    assert intake_webcoos.CameraGeometry is CameraGeometry


def test_a_stand_in_camera_is_recovered_from_its_own_control_points(standin):
    truth = standin.geometry(CAMERA)
    world, pixels = control_points(truth, 8, seed=7)

    solved, report = solve_extrinsics(truth, world, pixels)

    assert report.converged
    assert_extrinsics_close(solved, truth, metres=0.01, degrees=0.01)
