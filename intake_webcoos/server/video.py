"""MP4 (H.264) clips of the synthetic scene for the stand-in's ``video-archive``.

Clips are encoded with PyAV (libx264, one thread, so the bytes are the same
on every run) from frames rendered at real time steps, so waves move at
their real speed.  Like the JPEG stills, a clip is padded to a size fixed in
advance, here with a trailing ISO-BMFF ``free`` box, which players skip.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from intake_webcoos.server.scene import SceneRenderer

#: x264 quality steps tried in turn until a clip fits its declared size.
CRF_STEPS = (23, 28, 33, 38, 45, 51)


@dataclass(frozen=True)
class VideoSettings:
    """Length, frame rate and frame size of the stand-in's clips (small by default)."""

    seconds: float = 20.0
    fps: int = 4
    width: int = 160
    height: int = 96

    def __post_init__(self) -> None:
        if self.seconds <= 0 or self.fps <= 0:
            raise ValueError("clip seconds and fps must be positive")
        if self.width % 2 or self.height % 2:
            raise ValueError("H.264 (yuv420p) needs an even frame width and height")

    @property
    def frames(self) -> int:
        return round(self.seconds * self.fps)


def encode_clip(renderer: SceneRenderer, camera: str, start: float,
                settings: VideoSettings, crf: int = CRF_STEPS[0]) -> bytes:
    """An MP4 clip of ``camera`` from ``start`` (Unix seconds), frame k at ``start + k/fps``."""
    import av  # the stand-in serves video only when PyAV is installed

    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=settings.fps)
        stream.width, stream.height = settings.width, settings.height
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": str(crf), "preset": "ultrafast", "threads": "1"}
        for k in range(settings.frames):
            frame = av.VideoFrame.from_ndarray(renderer.render(camera, start + k / settings.fps),
                                               format="rgb24")
            frame.pts = k
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return buffer.getvalue()


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
