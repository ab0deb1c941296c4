"""Synthetic coastal webcam frames: a 3-D beach seen through a real camera.

The scene lives in the local frame of :class:`~intake_webcoos.world.geometry.CameraGeometry`,
in metres, with ``x`` alongshore, ``y`` cross-shore (positive seaward) and ``z``
up from the tidal datum (mean sea level):

* the beach is the plane ``z = -slope * y``, so the waterline at mean tide is ``y = 0``;
* the sea surface is the horizontal plane ``z = tide(t)``, an M2 tide
  ``amplitude * sin(2*pi*t / 12.42 h + phase)`` with ``t`` in seconds since the
  Unix epoch; the waterline, where the two planes meet, is at
  ``y = -tide(t) / slope`` (see :meth:`SceneRenderer.waterline`);
* swell crests are lines of constant ``y`` travelling shoreward at the
  shallow-water speed ``sqrt(g * depth)``; they whiten from the breakpoint (a
  camera's ``breaker_distance_m`` seaward of the waterline) and a band of
  residual foam next to the waterline widens each time a bore arrives;
* the sand is tan with a fixed texture, darker in a wet band landward of the waterline;
* the sky (rays that do not come down) is a light-blue gradient, brightest at the horizon.

Each camera (its geometry: height, setback, angles, focal length, distortion;
its beach: slope, tide, waves, colours) is drawn once from a generator seeded
with the SHA-256 of its slug, and looks the same at every image size: the
geometry of a smaller frame is :meth:`CameraGeometry.scaled` of a larger one's.
Cameras stand 10-40 m above the datum, 80 +/- 3 degrees from nadir (so that
the horizon is in a 16:9 frame with ``fx`` about the width), and look roughly
seaward.

**Rendering.** The beach does not change alongshore, so the colour of a pixel depends only on
the angle its ray comes down at in the cross-shore ``(y, z)`` plane, its
*depression* ``atan2(-dz, dy)``: the ray meets a horizontal plane of height
``h`` at ``y = y_camera + (z_camera - h) / tan(depression)``, and the beach
plane too.  Each pixel's depression is found once per (camera, size) by
casting its ray through the camera's lens, and quantised into an index of
look-up tables; each frame computes the colours over the tables only (a few
thousand samples) and spreads them to the pixels with ``np.take``.

Times are handled as integer microseconds since the epoch, so wave and tide
phases are exact whether a time is given as a float or a datetime.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import io
import math
import operator
from dataclasses import dataclass

import numpy as np
from PIL import Image

from intake_webcoos.world.geometry import CameraGeometry

__all__ = ["M2_PERIOD_S", "SceneRenderer", "encode_jpeg"]

M2_PERIOD_S = 12.42 * 3600
"""Period of the principal lunar semidiurnal (M2) tide, seconds."""

_US_PER_S = 1_000_000
_M2_PERIOD_US = round(M2_PERIOD_S * _US_PER_S)
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

_WIDTH_RANGE = (16, 2688)
_HEIGHT_RANGE = (16, 1520)

_GRAVITY = 9.81  # m/s2
_BORE_DEPTH_M = 0.8  # keeps the wave speed finite at the waterline

# Look-up tables are sampled this many times per pixel of depression (1 / fy
# radians) so that sub-pixel motion of crests and waterline survives.
_SAMPLES_PER_ROW = 4

_NOISE_SIGMA = 2.5  # grey levels
_NOISE_PAD = 32  # a frame's noise is a window into one field, offset by up to this

_FOAM_RGB = np.array([226.0, 236.0, 242.0])  # bluish white: blue stays above red in foam
_WET_SAND_DARKENING = 0.4
_ASPECT = 9 / 16  # of the frame the camera layouts are drawn for


@dataclass(frozen=True)
class _Camera:
    """Size-independent geometry, beach and dynamics of one camera.

    ``focal`` and ``centre_offset`` are in units of the image width; angles in degrees.
    """

    focal: float
    centre_offset: tuple[float, float]
    distortion: tuple[float, float, float, float, float]  # k1, k2, k3, p1, p2
    position_m: tuple[float, float, float]
    azimuth: float
    tilt: float
    roll: float
    bearing: float  # of the seaward (+y) direction
    beach_slope: float
    tide_amplitude_m: float
    tide_phase: float
    wave_period_us: int
    breaker_distance_m: float  # waves break this far seaward of the waterline
    surf_foam_width_m: float
    wet_band_m: float
    sky_top_rgb: np.ndarray
    sky_horizon_rgb: np.ndarray
    sea_far_rgb: np.ndarray
    sea_near_rgb: np.ndarray
    sand_rgb: np.ndarray
    seed: int


@functools.lru_cache(maxsize=512)
def _camera(slug: str) -> _Camera:
    """Draw the camera called `slug` from a hash of the slug."""
    seed = int.from_bytes(hashlib.sha256(slug.encode()).digest()[:8], "little")
    rng = np.random.default_rng(seed)
    uniform = rng.uniform
    # The first draws are in the order of the stand-in's earlier, image-space
    # scene, so each camera keeps its tide, waves and colours.
    horizon, waterline = uniform(0.20, 0.30), uniform(0.57, 0.67)  # fractions of the height
    roll, tide_swing = uniform(-1.5, 1.5), uniform(0.04, 0.06)  # half range, of the height
    tide_phase = uniform(0.0, 2.0 * math.pi) + math.pi  # high water where it was
    wave_period_us = int(uniform(8.0, 12.0) * _US_PER_S)
    height_m, breaker_distance_m, surf_foam_width_m = (
        uniform(10.0, 40.0), uniform(50.0, 80.0), uniform(10.0, 16.0))
    colours = [base + uniform(-spread, spread, 3) for base, spread in _COLOURS]
    focal = uniform(0.85, 1.05)
    centre_offset = (uniform(-0.01, 0.01), uniform(-0.01, 0.01))
    distortion = (uniform(-0.15, -0.05), uniform(0.0, 0.03), 0.0,
                  uniform(-1e-3, 1e-3), uniform(-1e-3, 1e-3))
    azimuth = uniform(-12.0, 12.0)
    # The tilt and setback that put the horizon and the mean waterline at their
    # fractions of a 16:9 frame (ignoring distortion and roll).
    above_centre = math.atan((0.5 - horizon) * _ASPECT / focal)
    below_centre = math.atan((waterline - 0.5) * _ASPECT / focal)
    depression = above_centre + below_centre
    setback = height_m / math.tan(depression) * math.cos(math.radians(azimuth))
    # The tide that moves the waterline `tide_swing` of the height up and down the
    # frame: a row is (z / tan(depression)**2) / fy metres of beach there.
    beach_slope = uniform(0.025, 0.04)
    excursion_m = tide_swing * _ASPECT / focal * height_m / math.tan(depression) ** 2
    return _Camera(
        focal=focal, centre_offset=centre_offset, distortion=distortion,
        position_m=(uniform(-50.0, 50.0), -setback, height_m),
        azimuth=azimuth % 360.0, tilt=90.0 - math.degrees(above_centre), roll=roll,
        bearing=uniform(0.0, 360.0), beach_slope=beach_slope,
        tide_amplitude_m=beach_slope * excursion_m, tide_phase=tide_phase,
        wave_period_us=wave_period_us,
        breaker_distance_m=breaker_distance_m, surf_foam_width_m=surf_foam_width_m,
        wet_band_m=uniform(4.0, 8.0),
        sky_top_rgb=colours[0], sky_horizon_rgb=colours[1], sea_far_rgb=colours[2],
        sea_near_rgb=colours[3], sand_rgb=colours[4], seed=seed,
    )


#: Base colour and spread of the sky (top, horizon), the sea (far, near) and the sand.
_COLOURS = (
    (np.array([95.0, 148.0, 212.0]), 8), (np.array([200.0, 220.0, 238.0]), 5),
    (np.array([26.0, 66.0, 96.0]), 5), (np.array([44.0, 112.0, 126.0]), 6),
    (np.array([194.0, 174.0, 130.0]), 8),
)


def _geometry(slug: str, cam: _Camera, width: int, height: int) -> CameraGeometry:
    """The camera's geometry for frames of ``width`` x ``height`` (square pixels)."""
    k1, k2, k3, p1, p2 = cam.distortion
    x, y, z = cam.position_m
    return CameraGeometry(
        width=width, height=height,
        cx=width / 2 - 0.5 + cam.centre_offset[0] * width,
        cy=height / 2 - 0.5 + cam.centre_offset[1] * width,
        fx=cam.focal * width, fy=cam.focal * width, k1=k1, k2=k2, k3=k3, p1=p1, p2=p2,
        x=x, y=y, z=z, azimuth=cam.azimuth, tilt=cam.tilt, roll=cam.roll,
        bearing=cam.bearing, name=slug)


def _tide_m(cam: _Camera, microseconds: int) -> float:
    """Sea level above the datum, metres."""
    angle = 2.0 * math.pi * (microseconds % _M2_PERIOD_US) / _M2_PERIOD_US + cam.tide_phase
    return cam.tide_amplitude_m * math.sin(angle)


@dataclass(frozen=True)
class _Layers:
    """Static arrays of one (camera, size); read-only so renders cannot alter them."""

    geometry: CameraGeometry
    step: float  # radians of depression per look-up sample
    samples: int  # look-up samples below the horizon; the sky's entry follows them
    index: np.ndarray  # (height, width) int32 into the per-frame tables; sky is the last entry
    base: np.ndarray  # (height, width, 3) float32: sky colour, or textured sand colour
    centre_depression: np.ndarray  # (height,) float64, of column width // 2 (NaN in the sky)
    noise: np.ndarray  # (height + pad, width + pad, 3) int8


def _waterline_depression(cam: _Camera, microseconds: int) -> float:
    """Depression of the ray to the waterline, in the cross-shore plane."""
    tide = _tide_m(cam, microseconds)
    _, y_camera, z_camera = cam.position_m
    return math.atan2(z_camera - tide, -tide / cam.beach_slope - y_camera)


def _read_only(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


def _epoch_microseconds(when: float | dt.datetime) -> int:
    """Whole microseconds since the Unix epoch; a naive datetime is taken as UTC."""
    if isinstance(when, dt.datetime):
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        return (when - _EPOCH) // dt.timedelta(microseconds=1)
    if isinstance(when, bool) or not isinstance(when, int | float | np.integer | np.floating):
        raise TypeError(f"when must be Unix seconds or a datetime, not {type(when).__name__}")
    seconds = float(when)
    if not math.isfinite(seconds):
        raise ValueError(f"when must be a finite number of seconds, not {seconds}")
    return round(seconds * _US_PER_S)


def _check_size(name: str, value: int, valid: tuple[int, int]) -> int:
    value = operator.index(value)
    low, high = valid
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low} and {high} pixels, not {value}")
    return value


def _blend(start: np.ndarray, end: np.ndarray, fraction: np.ndarray) -> np.ndarray:
    """Colours from `start` to `end`, one per `fraction` (shape (..., 3))."""
    return start + (end - start) * fraction[..., np.newaxis]


def _smooth_texture(
    rng: np.random.Generator, height: int, width: int, cell: tuple[int, int]
) -> np.ndarray:
    """Roughly unit-variance noise that varies over about `cell` (rows, columns) pixels."""
    cell_rows, cell_columns = cell
    coarse_shape = (height // cell_rows + 2, width // cell_columns + 2)
    coarse = rng.standard_normal(coarse_shape, dtype=np.float32)
    image = Image.fromarray(coarse, mode="F").resize((width, height), Image.Resampling.BILINEAR)
    return np.asarray(image, dtype=np.float32)


def _depression(rays: np.ndarray) -> np.ndarray:
    """Angle below the horizontal of each ray in the cross-shore (y, z) plane; NaN for sky."""
    down = rays[..., 2] < 0  # NaN rays (no inverse of the distortion) are sky too
    return np.where(down, np.arctan2(-rays[..., 2], rays[..., 1]), np.nan)


def encode_jpeg(frame: np.ndarray, quality: int = 85) -> bytes:
    """Encode an RGB frame as a baseline JPEG without EXIF; equal frames give equal bytes.

    Parameters
    ----------
    frame
        ``(height, width, 3)`` uint8 RGB array.
    quality
        JPEG quality, 1-100.

    Returns
    -------
    bytes
        The JPEG file.

    Raises
    ------
    ValueError
        If `quality` is out of range.
    """
    if not 1 <= quality <= 100:
        raise ValueError(f"quality must be between 1 and 100, not {quality}")
    buffer = io.BytesIO()
    Image.fromarray(frame).save(buffer, format="JPEG", quality=quality, optimize=False)
    return buffer.getvalue()


class SceneRenderer:
    """Render synthetic frames of fixed coastal webcams looking out to sea.

    Frames are deterministic in (camera slug, time, size).  Static layers are
    built on first use of a (camera, size) and cached; rendering is thread-safe.

    Parameters
    ----------
    width, height
        Frame size in pixels, 16-2688 wide and 16-1520 high.

    Raises
    ------
    ValueError
        If the size is out of range.
    """

    def __init__(self, width: int = 1280, height: int = 720) -> None:
        self.width: int = _check_size("width", width, _WIDTH_RANGE)
        self.height: int = _check_size("height", height, _HEIGHT_RANGE)
        # Filled concurrently without a lock: a layer may be built twice, but
        # each entry is assigned whole, so readers never see a partial one.
        self._layers: dict[str, _Layers] = {}

    # -- the truth behind the pictures ----------------------------------------
    def geometry(self, camera: str, width: int | None = None,
                 height: int | None = None) -> CameraGeometry:
        """The geometry of `camera` for frames of `width` x `height` (the renderer's by default).

        Parameters
        ----------
        camera
            Camera slug.
        width, height
            Frame size in pixels.

        Returns
        -------
        CameraGeometry
            Named after the slug, in the scene's frame (``x`` alongshore, ``y``
            seaward, ``z`` up from mean sea level); ``bearing`` is the compass
            bearing of the seaward direction; no latitude and longitude.
        """
        width = self.width if width is None else _check_size("width", width, _WIDTH_RANGE)
        height = self.height if height is None else _check_size("height", height, _HEIGHT_RANGE)
        return _geometry(camera, _camera(camera), width, height)

    def tide_level(self, camera: str, when: float | dt.datetime) -> float:
        """Sea level above the datum (mean sea level) at `when`, metres; an M2 sinusoid.

        Parameters
        ----------
        camera
            Camera slug.
        when
            Unix seconds, or a datetime (naive means UTC).
        """
        return _tide_m(_camera(camera), _epoch_microseconds(when))

    def waterline(self, camera: str, when: float | dt.datetime) -> float:
        """Cross-shore position ``y`` of the (wave-averaged) waterline at `when`, metres.

        Where the sea surface at :meth:`tide_level` meets the beach plane
        ``z = -slope * y``: 0 at mean tide, negative (landward) at high water.

        Parameters
        ----------
        camera
            Camera slug.
        when
            Unix seconds, or a datetime (naive means UTC).
        """
        cam = _camera(camera)
        return -_tide_m(cam, _epoch_microseconds(when)) / cam.beach_slope

    def horizon_row(self, camera: str) -> int:
        """First row of sea below the sky at the centre column (``width // 2``).

        Parameters
        ----------
        camera
            Camera slug.

        Returns
        -------
        int
            Row index, about 20-30 % of the height down from the top in a 16:9 frame.
        """
        depression = self._layers_of(camera).centre_depression
        return int(np.argmax(np.isfinite(depression)))

    def shoreline_row(self, camera: str, when: float | dt.datetime) -> float:
        """Row of the :meth:`waterline` at the centre column (``width // 2``).

        Sea is above this row and sand below it.  The row follows the M2 tide:
        at high water the waterline is nearer the camera, so lower in the image
        (a larger row).

        Parameters
        ----------
        camera
            Camera slug.
        when
            Unix seconds, or a datetime (naive means UTC).

        Returns
        -------
        float
            Fractional row index, about 60 % of the height down at mean tide.
        """
        layers = self._layers_of(camera)
        depression = layers.centre_depression
        rows = np.nonzero(np.isfinite(depression))[0]
        waterline = _waterline_depression(_camera(camera), _epoch_microseconds(when))
        return float(np.interp(waterline, depression[rows], rows))

    # -- frames -----------------------------------------------------------------
    def render(self, camera: str, when: float | dt.datetime) -> np.ndarray:
        """Render the frame of `camera` at `when`.

        Parameters
        ----------
        camera
            Camera slug; any string gives a plausible, distinct camera.
        when
            Unix seconds (sub-second allowed), or a datetime (naive means UTC).

        Returns
        -------
        numpy.ndarray
            ``(height, width, 3)`` uint8 RGB frame, a new array on every call.
        """
        cam = _camera(camera)
        microseconds = _epoch_microseconds(when)
        layers = self._layers_of(camera)
        sea_rgb, sand_weight = self._profiles(cam, layers, microseconds)

        frame = np.take(sea_rgb, layers.index, axis=0)
        frame += layers.base * np.take(sand_weight, layers.index)[..., np.newaxis]

        digest = hashlib.blake2b(f"{camera}@{microseconds}".encode(), digest_size=8).digest()
        dy, dx = digest[0] % _NOISE_PAD, digest[1] % _NOISE_PAD
        frame += layers.noise[dy : dy + self.height, dx : dx + self.width]
        np.clip(frame, 0.0, 255.0, out=frame)
        return frame.astype(np.uint8)

    def jpeg(self, camera: str, when: float | dt.datetime, quality: int = 85) -> bytes:
        """Render the frame of `camera` at `when` as JPEG bytes (see :func:`encode_jpeg`).

        Parameters
        ----------
        camera
            Camera slug.
        when
            Unix seconds, or a datetime (naive means UTC).
        quality
            JPEG quality, 1-100.

        Returns
        -------
        bytes
            A baseline JPEG file, the same bytes for the same arguments.
        """
        return encode_jpeg(self.render(camera, when), quality)

    # -- static layers ------------------------------------------------------------
    def _layers_of(self, camera: str) -> _Layers:
        layers = self._layers.get(camera)
        if layers is None:
            layers = self._layers.setdefault(camera, self._build_layers(camera))
        return layers

    def _build_layers(self, camera: str) -> _Layers:
        cam = _camera(camera)
        height, width = self.height, self.width
        geometry = _geometry(camera, cam, width, height)
        rng = np.random.default_rng(cam.seed)

        rows, columns = np.mgrid[0:height, 0:width].astype(np.float64)
        rays = geometry.rays(columns, rows)
        depression = _depression(rays)
        sky = np.isnan(depression)
        step = 1.0 / (_SAMPLES_PER_ROW * geometry.fy)
        samples = np.floor(np.nan_to_num(depression, nan=0.0) / step).astype(np.int32)
        count = int(samples.max()) + 1
        samples[sky] = count  # the tables' last entry: no sea, the base layer as it is

        # Sky brightest at the horizon, by the elevation of the ray.
        elevation = np.arctan2(rays[..., 2], np.hypot(rays[..., 0], rays[..., 1]))
        top = max(float(np.nanmax(np.where(sky, elevation, np.nan), initial=0.0)), 1e-6)
        fraction = (1.0 - np.clip(elevation / top, 0.0, 1.0)) ** 1.6
        sky_rgb = _blend(cam.sky_top_rgb, cam.sky_horizon_rgb, fraction)

        # Grain plus blotches, stretched sideways because the beach is seen obliquely.
        texture = 1.0 + 0.035 * rng.standard_normal((height, width), dtype=np.float32)
        cell_rows = max(2, height // 60)
        texture += 0.035 * _smooth_texture(rng, height, width, (cell_rows, 3 * cell_rows))
        sand = cam.sand_rgb * texture[..., np.newaxis]
        base = np.where(sky[..., np.newaxis], sky_rgb, sand).astype(np.float32)

        noise_shape = (height + _NOISE_PAD, width + _NOISE_PAD, 3)
        noise = rng.standard_normal(noise_shape, dtype=np.float32) * _NOISE_SIGMA
        np.rint(np.clip(noise, -4 * _NOISE_SIGMA, 4 * _NOISE_SIGMA), out=noise)

        return _Layers(
            geometry=geometry,
            step=step,
            samples=count,
            index=_read_only(samples),
            base=_read_only(base),
            centre_depression=_read_only(depression[:, width // 2].copy()),
            noise=_read_only(noise.astype(np.int8)),
        )

    # -- per frame ----------------------------------------------------------------
    def _profiles(
        self, cam: _Camera, layers: _Layers, microseconds: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per-frame tables over the depression samples, plus the sky's last entry.

        Returns the sea-and-foam colour (zero on land and in the sky) and the
        weight of the base layer (zero at sea, below one where the sand is wet).
        """
        depression = (np.arange(layers.samples) + 0.5) * layers.step
        sin, cos = np.sin(depression), np.cos(depression)
        _, y_camera, z_camera = cam.position_m
        tide = _tide_m(cam, microseconds)
        slope = cam.beach_slope
        waterline = -tide / slope

        # Where each ray meets the beach plane (landward of the waterline: sand) ...
        with np.errstate(divide="ignore", invalid="ignore"):
            run = (z_camera + slope * y_camera) / (sin - slope * cos)
        beach_y = np.where(run > 0, y_camera + run * cos, np.inf)
        # ... and the sea surface; a one-pixel soft edge between them.
        sea_y = y_camera + (z_camera - tide) * cos / sin
        edge = _waterline_depression(cam, microseconds)
        land = np.clip((depression - edge) / (_SAMPLES_PER_ROW * layers.step) + 0.5, 0.0, 1.0)
        seaward = np.maximum(sea_y - waterline, 0.0)

        # Shallow-water waves slow down as the depth decreases towards the shore;
        # a crest reaches the waterline after `travel` seconds.
        speed = np.sqrt(_GRAVITY * (_BORE_DEPTH_M + slope * seaward))
        travel = 2.0 * (speed - math.sqrt(_GRAVITY * _BORE_DEPTH_M)) / (_GRAVITY * slope)
        period_s = cam.wave_period_us / _US_PER_S
        wave_phase = (microseconds % cam.wave_period_us) / cam.wave_period_us
        behind_crest = (wave_phase + travel / period_s + 0.5) % 1.0 - 0.5  # positive: seaward

        # Fade detail whose wavelength is too few pixels to draw (near the horizon):
        # a pixel of depression spans (z_camera - tide) / sin**2 / fy metres of sea.
        metres_per_row = (z_camera - tide) / (sin * sin) * (_SAMPLES_PER_ROW * layers.step)
        resolved = np.clip((speed * period_s / metres_per_row - 4.0) / 8.0, 0.0, 1.0)

        swell = 1.0 + 0.12 * resolved * np.cos(2.0 * math.pi * behind_crest)
        sea_fraction = np.clip(depression / edge, 0.0, 1.0) ** 0.7
        sea = _blend(cam.sea_far_rgb, cam.sea_near_rgb, sea_fraction) * swell[:, np.newaxis]
        foam = _foam(cam, seaward, behind_crest, resolved, wave_phase)
        sea_colour = _blend(sea, _FOAM_RGB, foam) * (1.0 - land)[:, np.newaxis]

        landward = waterline - beach_y
        wetness = 1.0 / (1.0 + np.exp(np.clip((landward - cam.wet_band_m)
                                              / (0.2 * cam.wet_band_m), -50.0, 50.0)))
        sand_weight = land * (1.0 - _WET_SAND_DARKENING * wetness)
        # The sky's entry: no sea, the base layer as it is.
        sea_colour = np.vstack([sea_colour, np.zeros((1, 3))])
        sand_weight = np.append(sand_weight, 1.0)
        return sea_colour.astype(np.float32), sand_weight.astype(np.float32)


def _foam(cam: _Camera, seaward: np.ndarray, behind_crest: np.ndarray, resolved: np.ndarray,
          wave_phase: float) -> np.ndarray:
    """Foam cover (0-1) over the shoreline-parallel coordinate: breaking crests and surf.

    `seaward` is metres seaward of the waterline, `behind_crest` the wave phase
    relative to the nearest crest (positive seaward of it), `resolved` how far
    waves are drawable there, `wave_phase` the phase of the wave cycle at the shore.
    """
    # A crest is a sharp front with foam trailing seaward of it; it whitens
    # from the breakpoint and gets brighter as it runs up to the shore.
    crest = np.where(
        behind_crest >= 0.0,
        np.exp(-np.maximum(behind_crest - 0.04, 0.0) / 0.25),
        np.exp(-((behind_crest / 0.03) ** 2)),
    )
    breaker_distance = cam.breaker_distance_m
    beyond_breakpoint = (seaward - breaker_distance) / (0.12 * breaker_distance)
    breaking = 1.0 / (1.0 + np.exp(np.minimum(beyond_breakpoint, 50.0)))  # no overflow
    whitening = breaking * (1.0 - 0.3 * np.minimum(seaward / breaker_distance, 1.0))
    crest_foam = 0.95 * resolved * whitening * crest

    # The residual foam next to the shore widens each time a bore arrives.
    surf_width = cam.surf_foam_width_m * (1.0 + 0.35 * math.cos(2.0 * math.pi * wave_phase))
    surf_foam = 0.6 * np.exp(-seaward / surf_width)
    return 1.0 - (1.0 - crest_foam) * (1.0 - surf_foam)
