"""Synthetic coastal webcam frames, deterministic from (camera slug, time).

Every frame shows a fixed camera looking out to sea.  From top to bottom:

* sky: a light-blue gradient, brightest at the horizon;
* the horizon row, where the sea starts;
* the sea: blue/green, darker far away, with swell crests that travel shoreward;
* the surf zone: white foam where the crests break, plus a foam band just
  seaward of the shoreline whose width pulses with the waves;
* the shoreline, which moves up and down the beach with the M2 tide;
* sand: tan with a fixed texture, darker where it is wet near the water.

The layout of each camera (horizon, mean shoreline, tilt, tide phase and
amplitude, wave period, colours) is drawn once from a generator seeded with the
SHA-256 of its slug, so a camera looks the same at every image size.

Tide sign convention
--------------------
Rows count downwards from the top of the image.  The shoreline row at the
centre column is ``mean + amplitude * sin(2*pi*t / 12.42 h + phase)`` with ``t``
in seconds since the Unix epoch, so the tide *level* is proportional to
``-sin(...)``: high water is the minimum row (the shoreline furthest up the
image, towards the horizon) and low water the maximum row.

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

__all__ = ["M2_PERIOD_S", "SceneRenderer", "encode_jpeg"]

M2_PERIOD_S = 12.42 * 3600
"""Period of the principal lunar semidiurnal (M2) tide, seconds."""

_US_PER_S = 1_000_000
_M2_PERIOD_US = round(M2_PERIOD_S * _US_PER_S)
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

_WIDTH_RANGE = (16, 2688)
_HEIGHT_RANGE = (16, 1520)

_GRAVITY = 9.81  # m/s2
_BEACH_SLOPE = 0.02  # depth gained per metre seaward
_BORE_DEPTH_M = 0.8  # keeps the wave speed finite at the waterline

# Look-up tables are sampled this many times per row so that sub-pixel motion
# of crests and shoreline survives the row quantisation.
_SAMPLES_PER_ROW = 4

_NOISE_SIGMA = 2.5  # grey levels
_NOISE_PAD = 32  # a frame's noise is a window into one field, offset by up to this

_FOAM_RGB = np.array([226.0, 236.0, 242.0])  # bluish white: blue stays above red in foam
_WET_SAND_DARKENING = 0.4


@dataclass(frozen=True)
class _Camera:
    """Size-independent layout and dynamics of one camera.

    Rows are fractions of the image height; ``tilt`` is the shoreline row change
    from the left to the right edge, also as a fraction of the height.
    """

    horizon: float
    shoreline_mean: float
    tilt: float
    tide_amplitude: float
    tide_phase: float
    wave_period_us: int
    shoreline_distance_m: float  # camera-to-waterline distance at mean tide
    breaker_distance_m: float  # waves break this far seaward of the waterline
    surf_foam_width_m: float
    sky_top_rgb: np.ndarray
    sky_horizon_rgb: np.ndarray
    sea_far_rgb: np.ndarray
    sea_near_rgb: np.ndarray
    sand_rgb: np.ndarray
    seed: int


@functools.lru_cache(maxsize=512)
def _camera(slug: str) -> _Camera:
    """Draw the layout of the camera called `slug` from a hash of the slug."""
    seed = int.from_bytes(hashlib.sha256(slug.encode()).digest()[:8], "little")
    rng = np.random.default_rng(seed)
    uniform = rng.uniform
    return _Camera(
        horizon=uniform(0.25, 0.35),
        shoreline_mean=uniform(0.60, 0.70),
        tilt=uniform(-0.04, 0.04),
        tide_amplitude=uniform(0.04, 0.06),
        tide_phase=uniform(0.0, 2.0 * math.pi),
        wave_period_us=int(uniform(8.0, 12.0) * _US_PER_S),
        shoreline_distance_m=uniform(120.0, 180.0),
        breaker_distance_m=uniform(50.0, 80.0),
        surf_foam_width_m=uniform(10.0, 16.0),
        sky_top_rgb=np.array([95.0, 148.0, 212.0]) + uniform(-8, 8, 3),
        sky_horizon_rgb=np.array([200.0, 220.0, 238.0]) + uniform(-5, 5, 3),
        sea_far_rgb=np.array([26.0, 66.0, 96.0]) + uniform(-5, 5, 3),
        sea_near_rgb=np.array([44.0, 112.0, 126.0]) + uniform(-6, 6, 3),
        sand_rgb=np.array([194.0, 174.0, 130.0]) + uniform(-8, 8, 3),
        seed=seed,
    )


@dataclass(frozen=True)
class _Layers:
    """Static arrays of one (camera, size); read-only so renders cannot alter them."""

    horizon_row: int
    sky: np.ndarray  # (horizon_row, 1, 3) float32
    sand: np.ndarray  # (height - horizon_row, width, 3) float32, textured sand colour
    lut_index: np.ndarray  # (height - horizon_row, width) int32, into the per-frame tables
    lut_rows: np.ndarray  # (n,) float64, centre-column row each table sample stands for
    noise: np.ndarray  # (height + pad, width + pad, 3) int8


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

    def horizon_row(self, camera: str) -> int:
        """First row of sea below the sky.

        Parameters
        ----------
        camera
            Camera slug.

        Returns
        -------
        int
            Row index, 25-35 % of the height down from the top.
        """
        return round(_camera(camera).horizon * self.height)

    def shoreline_row(self, camera: str, when: float | dt.datetime) -> float:
        """Wave-averaged shoreline row at the centre column (``width // 2``).

        Sea is above this row and sand below it.  The row follows the M2 tide:
        smaller rows (further up the image) mean higher water.

        Parameters
        ----------
        camera
            Camera slug.
        when
            Unix seconds, or a datetime (naive means UTC).

        Returns
        -------
        float
            Fractional row index, 60-70 % of the height down on average.
        """
        return self._shoreline_row(_camera(camera), _epoch_microseconds(when))

    def _shoreline_row(self, cam: _Camera, microseconds: int) -> float:
        tide_angle = 2.0 * math.pi * (microseconds % _M2_PERIOD_US) / _M2_PERIOD_US
        row = cam.shoreline_mean + cam.tide_amplitude * math.sin(tide_angle + cam.tide_phase)
        return row * self.height

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
        layers = self._layers.get(camera)
        if layers is None:
            layers = self._layers.setdefault(camera, self._build_layers(cam))
        sea_rgb, sand_weight = self._profiles(cam, layers, microseconds)

        horizon = layers.horizon_row
        frame = np.empty((self.height, self.width, 3), dtype=np.float32)
        frame[:horizon] = layers.sky
        below = frame[horizon:]
        np.take(sea_rgb, layers.lut_index, axis=0, out=below)
        below += layers.sand * np.take(sand_weight, layers.lut_index)[..., np.newaxis]

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

    def _build_layers(self, cam: _Camera) -> _Layers:
        height, width = self.height, self.width
        horizon = round(cam.horizon * height)
        rng = np.random.default_rng(cam.seed)

        sky_fraction = (np.arange(horizon, dtype=np.float64) / max(horizon - 1, 1)) ** 1.6
        sky_rows = _blend(cam.sky_top_rgb, cam.sky_horizon_rgb, sky_fraction)
        sky = sky_rows[:, np.newaxis, :]

        # Grain plus blotches, stretched sideways because the beach is seen obliquely.
        ground_rows = height - horizon
        texture = 1.0 + 0.035 * rng.standard_normal((ground_rows, width), dtype=np.float32)
        cell_rows = max(2, height // 60)
        texture += 0.035 * _smooth_texture(rng, ground_rows, width, (cell_rows, 3 * cell_rows))
        sand = cam.sand_rgb.astype(np.float32) * texture[..., np.newaxis]

        # Shoreline-parallel coordinate: a pixel's row minus the shoreline tilt at
        # its column is the centre-column row at the same distance from the shore.
        slope = cam.tilt * height / width
        tilt = slope * (np.arange(width) - width // 2)  # zero at the centre column
        rows = np.arange(horizon, height, dtype=np.float64)[:, np.newaxis]
        samples = np.floor((rows - tilt) * _SAMPLES_PER_ROW).astype(np.int32)
        first = samples.min()
        lut_rows = (np.arange(first, samples.max() + 1) + 0.5) / _SAMPLES_PER_ROW

        noise_shape = (height + _NOISE_PAD, width + _NOISE_PAD, 3)
        noise = rng.standard_normal(noise_shape, dtype=np.float32) * _NOISE_SIGMA
        np.rint(np.clip(noise, -4 * _NOISE_SIGMA, 4 * _NOISE_SIGMA), out=noise)

        return _Layers(
            horizon_row=horizon,
            sky=_read_only(sky.astype(np.float32)),
            sand=_read_only(sand),
            lut_index=_read_only(samples - first),
            lut_rows=_read_only(lut_rows),
            noise=_read_only(noise.astype(np.int8)),
        )

    def _profiles(
        self, cam: _Camera, layers: _Layers, microseconds: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per-frame tables over the shoreline-parallel coordinate.

        Returns the sea-and-foam colour (zero on land) and the weight of the
        textured sand (zero at sea, below one where the sand is wet).
        """
        rows = layers.lut_rows
        horizon = layers.horizon_row
        shoreline = self._shoreline_row(cam, microseconds)
        landward = rows - shoreline  # rows past the waterline, negative at sea

        # Flat ground seen from above: distance is inversely proportional to the
        # number of rows below the horizon.
        scale = cam.shoreline_distance_m * (cam.shoreline_mean * self.height - horizon)
        rows_below_horizon = np.maximum(rows - horizon, 0.5)
        distance = scale / rows_below_horizon
        seaward = np.maximum(distance - scale / (shoreline - horizon), 0.0)

        # Shallow-water waves slow down as the depth decreases towards the shore;
        # a crest reaches the waterline after `travel` seconds.
        depth = _BORE_DEPTH_M + _BEACH_SLOPE * seaward
        speed = np.sqrt(_GRAVITY * depth)
        travel = 2.0 * (speed - math.sqrt(_GRAVITY * _BORE_DEPTH_M)) / (_GRAVITY * _BEACH_SLOPE)
        period_s = cam.wave_period_us / _US_PER_S
        wave_phase = (microseconds % cam.wave_period_us) / cam.wave_period_us
        cycles = wave_phase + travel / period_s
        behind_crest = (cycles + 0.5) % 1.0 - 0.5  # positive: seaward of the nearest crest

        # Fade detail whose wavelength is too few pixels to draw (near the horizon).
        pixels_per_wave = speed * period_s * rows_below_horizon / distance
        resolved = np.clip((pixels_per_wave - 4.0) / 8.0, 0.0, 1.0)

        swell = 1.0 + 0.08 * resolved * np.cos(2.0 * math.pi * behind_crest)
        sea_fraction = np.clip((rows - horizon) / (shoreline - horizon), 0.0, 1.0) ** 0.7
        sea = _blend(cam.sea_far_rgb, cam.sea_near_rgb, sea_fraction) * swell[:, np.newaxis]

        foam = _foam(cam, seaward, behind_crest, resolved, wave_phase)
        land = np.clip(landward + 0.5, 0.0, 1.0)  # one-row soft waterline
        sea_colour = _blend(sea, _FOAM_RGB, foam) * (1.0 - land)[:, np.newaxis]
        wet_rows = 0.025 * self.height
        wetness = 1.0 / (1.0 + np.exp(np.minimum((landward - wet_rows) / (0.2 * wet_rows), 50.0)))
        sand_weight = land * (1.0 - _WET_SAND_DARKENING * wetness)
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
