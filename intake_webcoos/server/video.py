"""MP4 (H.264) clips of the synthetic scene for the stand-in's ``video-archive``.

Clips are encoded with PyAV (libx264, ``ultrafast`` unless asked otherwise, one
thread, so the bytes
are the same on every run) from frames rendered at real time steps, so waves
move at their real speed, with a key frame every ``keyframe_seconds`` (scene
cuts off, so the interval is regular, as a camera's).  Like the JPEG stills, a
clip is padded to a size fixed in advance, here with a trailing ISO-BMFF
``free`` box, which players skip.

**Real size is made cheap.**  A clip as a camera records it (600 s at 20 fps,
1920x1080 or 2688x1520, about 1.2 Mbit/s: :meth:`VideoSettings.camera`) is
12,000 frames; rendering each at full size costs more than encoding it.  So
frames wider than :data:`RENDER_MAX_WIDTH` are rendered at an integer fraction
of the size and scaled up by libswscale (bilinear) on the way to YUV: what the
picture gives up is detail finer than two (or three) pixels, i.e. the sensor
noise is coarser and crests and the waterline are softer than a real camera's;
every frame is still rendered at its own time, so waves move as they do.  And
encoded clips are kept in an on-disk folder (:attr:`VideoSettings.cache_dir`,
else ``$WEBCOOS_STANDIN_CACHE``), keyed by everything that changes their bytes
(camera, start, settings, the code of the renderer and encoder, PyAV's
version), written atomically, so later runs, benchmarks and the demo pay nothing.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import io
import math
import os
import tempfile
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path

import platformdirs

from intake_webcoos.server.scene import SceneRenderer

#: x264 quality steps tried in turn until a clip fits its declared size (no bitrate).
CRF_STEPS = (23, 28, 33, 38, 45, 51)
#: The folder of encoded clips when :attr:`VideoSettings.cache_dir` is not given.
CACHE_ENV = "WEBCOOS_STANDIN_CACHE"
#: Frames wider than this are rendered at 1/2, 1/3... of their size and scaled up.
RENDER_MAX_WIDTH = 960
#: A camera's bitrate: 600 s of it is about 90 MB.
CAMERA_BITRATE = 1_200_000
# Bytes of an MP4 beyond its coded frames: header boxes, plus the sample tables
# (size, sync and chunk entries) per frame, with room to spare.
_MP4_FIXED, _MP4_PER_FRAME = 8192, 24


def default_cache_dir() -> Path:
    """Where ``intake-webcoos serve`` keeps clips: ``$WEBCOOS_STANDIN_CACHE``, else the
    user's cache folder (``.../intake-webcoos/standin-clips``)."""
    return Path(os.environ.get(CACHE_ENV)
                or Path(platformdirs.user_cache_dir("intake-webcoos")) / "standin-clips")


@dataclass(frozen=True)
class VideoSettings:
    """Length, frame rate, frame size and coding of the stand-in's clips.

    Small by default, for unit tests; :meth:`camera` gives clips as a camera
    records them.

    Parameters
    ----------
    seconds : float
        Length of a clip.
    fps : int
        Frames per second.
    width, height : int
        Frame size (even, 16-2688 by 16-1520).
    keyframe_seconds : float, optional
        Seconds between key frames (x264 ``keyint`` = ``fps * keyframe_seconds``,
        at least one frame; scene-cut key frames are off, so the interval is
        regular).  None (the default) leaves x264's own: every 250 frames and
        at scene cuts, i.e. one key frame in a small clip, which keeps small
        clips small.
    bitrate : int, optional
        Constant bitrate in bit/s (x264 CBR: ``maxrate = bufsize = bitrate``
        with filler data), so a clip's size is known before it is encoded.
        None (the default) codes at constant quality (CRF 23, coarser if a
        clip does not fit the size the listing declared).
    preset : str
        x264's preset: ``"ultrafast"`` (the default: cheap to make and to decode,
        without CABAC or the deblocking filter) or a slower one whose streams
        decode as a camera's do (``"veryfast"``: CABAC, deblocking; B-frames are
        off in every preset, as in most IP cameras).
    loop_seconds : float, optional
        Render and encode only this many seconds, then repeat them (their
        packets, timestamps shifted) to the clip's length: the picture repeats
        every ``loop_seconds`` (waves and all), while the bytes, the key frames
        and the cost of decoding are a whole clip's.  A multiple of
        ``keyframe_seconds``, so every repeat starts on a key frame.  For
        benchmarks of real-size clips, which a render of every frame makes slow
        (about 25 ms a frame at 1920x1080: 5 minutes a clip).
    cache_dir : str or Path, optional
        Folder of encoded clips, shared by runs; None uses
        ``$WEBCOOS_STANDIN_CACHE`` if set, else keeps clips in memory only;
        ``""`` keeps them in memory only whatever the environment says.
        Not part of the clips' identity (equality ignores it).
    """

    seconds: float = 20.0
    fps: int = 4
    width: int = 160
    height: int = 96
    keyframe_seconds: float | None = None
    bitrate: int | None = None
    preset: str = "ultrafast"
    loop_seconds: float | None = None
    cache_dir: str | Path | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        keyframe_seconds = 1.0 if self.keyframe_seconds is None else self.keyframe_seconds
        if self.seconds <= 0 or self.fps <= 0 or keyframe_seconds <= 0:
            raise ValueError("clip seconds, fps and keyframe seconds must be positive")
        if self.width % 2 or self.height % 2:
            raise ValueError("H.264 (yuv420p) needs an even frame width and height")
        if self.bitrate is not None and self.bitrate < 10_000:
            raise ValueError("a clip's bitrate must be at least 10000 bit/s")
        if self.loop_seconds is not None:
            repeats = self.loop_seconds / keyframe_seconds
            if self.keyframe_seconds is None or abs(repeats - round(repeats)) > 1e-9 \
                    or not 0 < self.loop_seconds <= self.seconds:
                raise ValueError("loop_seconds must be a multiple of keyframe_seconds (given), "
                                 "and no longer than the clip")

    @classmethod
    def camera(cls, width: int = 1920, height: int = 1080, **changes: object) -> VideoSettings:
        """Clips as WebCOOS cameras record them: 600 s at 20 fps, a key frame a
        second, 1.2 Mbit/s (about 90 MB a clip), CABAC and deblocking (x264's
        ``veryfast``), cached in :func:`default_cache_dir`."""
        settings = {"seconds": 600.0, "fps": 20, "width": width, "height": height,
                    "keyframe_seconds": 1.0, "bitrate": CAMERA_BITRATE, "preset": "veryfast",
                    "cache_dir": default_cache_dir(), **changes}
        return cls(**settings)

    @property
    def frames(self) -> int:
        return round(self.seconds * self.fps)

    @property
    def keyframe_interval(self) -> int | None:
        """Frames from one key frame to the next (None: x264's choice)."""
        if self.keyframe_seconds is None:
            return None
        return max(1, round(self.fps * self.keyframe_seconds))

    @property
    def render_size(self) -> tuple[int, int]:
        """Size the scene is rendered at before scaling up to ``(width, height)``."""
        shrink = math.ceil(self.width / RENDER_MAX_WIDTH)
        return max(16, round(self.width / shrink)), max(16, round(self.height / shrink))

    def size_bound(self) -> int | None:
        """Bytes a clip cannot exceed at this bitrate (None at constant quality)."""
        if self.bitrate is None:
            return None
        coded = self.bitrate * (self.seconds + 1.0) / 8  # CBR, plus one buffer of slack
        return math.ceil(coded) + _MP4_FIXED + _MP4_PER_FRAME * self.frames

    def folder(self) -> Path | None:
        """The on-disk clip folder in use, if any."""
        chosen = self.cache_dir if self.cache_dir is not None else os.environ.get(CACHE_ENV)
        return Path(chosen) if chosen else None

    def x264_options(self, crf: int) -> dict[str, str]:
        options = {"preset": self.preset, "threads": "1", "bf": "0"}
        if self.keyframe_interval is not None:
            gop = str(self.keyframe_interval)
            options.update(g=gop, keyint_min=gop, sc_threshold="0")
        if self.bitrate is None:
            return {**options, "crf": str(crf)}
        rate = str(self.bitrate)
        return {**options, "b": rate, "maxrate": rate, "bufsize": rate, "nal-hrd": "cbr"}


def encode_clip(renderer: SceneRenderer, camera: str, start: float,
                settings: VideoSettings, crf: int = CRF_STEPS[0]) -> bytes:
    """An MP4 clip of ``camera`` from ``start`` (Unix seconds), frame k at ``start + k/fps``.

    ``renderer`` is used when it has :attr:`VideoSettings.render_size`; else one
    of that size is made.  ``crf`` applies at constant quality only.  With
    :attr:`VideoSettings.loop_seconds`, the loop is encoded and repeated.
    """
    loop = settings.loop_seconds
    if loop is None or loop >= settings.seconds:
        return _encode(renderer, camera, start, settings, crf)
    part = _encode(renderer, camera, start, replace(settings, seconds=loop, loop_seconds=None),
                   crf)
    return _repeat(part, settings.frames, round(loop * settings.fps), settings.fps)


def _repeat(data: bytes, frames: int, period: int, fps: int) -> bytes:
    """The packets of an MP4 of ``period`` frames, repeated to ``frames`` frames."""
    import av

    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as out:
        target = None
        for first in range(0, frames, period):
            with av.open(io.BytesIO(data)) as source:
                stream = source.streams.video[0]
                if target is None:  # PyAV 14 renamed add_stream(template=)
                    from_template = getattr(out, "add_stream_from_template", None)
                    target = (from_template(stream) if from_template
                              else out.add_stream(template=stream))
                shift = round(Fraction(first, fps) / stream.time_base)
                for k, packet in enumerate(p for p in source.demux(stream) if p.size):
                    if first + k >= frames:
                        break
                    packet.pts += shift
                    packet.dts += shift
                    packet.stream = target
                    out.mux(packet)
    return buffer.getvalue()


def _encode(renderer: SceneRenderer, camera: str, start: float, settings: VideoSettings,
            crf: int) -> bytes:
    """Every frame of a clip, rendered and encoded."""
    import av  # the stand-in serves video only when PyAV is installed

    if (renderer.width, renderer.height) != settings.render_size:
        renderer = SceneRenderer(*settings.render_size)
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=settings.fps)
        stream.width, stream.height = settings.width, settings.height
        stream.pix_fmt = "yuv420p"
        stream.options = settings.x264_options(crf)
        for k in range(settings.frames):
            rgb = renderer.render(camera, start + k / settings.fps)
            # One libswscale pass scales up (if rendered smaller) and converts to YUV.
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(
                settings.width, settings.height, "yuv420p")
            frame.pts = k
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return buffer.getvalue()


@functools.cache
def _code_version() -> str:
    """Digest of what makes a clip's bytes besides its settings: this code, the
    renderer's, and PyAV's (hence FFmpeg's and x264's) version."""
    import av

    digest = hashlib.sha256(av.__version__.encode())
    for source in (inspect.getsourcefile(SceneRenderer), __file__):
        digest.update(Path(source).read_bytes())
    return digest.hexdigest()


def cache_path(folder: Path, camera: str, start: float, settings: VideoSettings,
               crf: int) -> Path:
    """The file of one encoded clip in ``folder``, named by all that changes its bytes."""
    ident = (f"{_code_version()}|{camera}|{start!r}|{settings.seconds!r}|{settings.fps}|"
             f"{settings.width}x{settings.height}|{settings.keyframe_seconds!r}|"
             f"{settings.bitrate}|{crf if settings.bitrate is None else ''}|"
             f"{settings.loop_seconds!r}|{settings.preset}")
    name = hashlib.sha256(ident.encode()).hexdigest()[:32]
    return folder / f"{name}.mp4"


def clip_bytes(renderer: SceneRenderer, camera: str, start: float,
               settings: VideoSettings, crf: int = CRF_STEPS[0]) -> bytes:
    """:func:`encode_clip`, through the on-disk folder of encoded clips if one is in use."""
    folder = settings.folder()
    if folder is None:
        return encode_clip(renderer, camera, start, settings, crf)
    path = cache_path(folder, camera, start, settings, crf)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    data = encode_clip(renderer, camera, start, settings, crf)
    folder.mkdir(parents=True, exist_ok=True)
    # Written whole under another name, then renamed: readers never see half a clip.
    fd, temporary = tempfile.mkstemp(dir=folder, prefix=path.stem, suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return data


def pad_mp4(data: bytes, size: int) -> bytes:
    """Append a ``free`` box so that the file is exactly ``size`` bytes.

    Raises ValueError when the padding would be 1 to 7 bytes (too small for a box)
    or negative.
    """
    pad = size - len(data)
    if pad == 0:
        return data
    if pad < 8:
        raise ValueError(f"cannot pad a {len(data)}-byte MP4 to {size} bytes")
    return data + pad.to_bytes(4, "big") + b"free" + bytes(pad - 8)
