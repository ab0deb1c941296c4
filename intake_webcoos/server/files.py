"""Bytes of the files the stand-in's file origin serves.

JPEG elements are rendered from the synthetic scene and then padded with JPEG
comment segments to a size fixed in advance, so that the element listing, the
statistics and the inventory can state every file's size without rendering it
(and agree with the served bytes to the byte).  Rendered files are kept in a
bounded LRU cache, so a warm frame costs a dictionary lookup.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import threading
from collections import OrderedDict
from datetime import UTC, datetime

import numpy as np

from intake_webcoos.server.archive import Holdings, Service
from intake_webcoos.server.results import result_bytes
from intake_webcoos.server.scene import SceneRenderer, encode_jpeg
from intake_webcoos.server.video import CRF_STEPS, VideoSettings, clip_bytes, pad_mp4

#: Declared sizes are this many times a typical encoded frame (plus jitter),
#: which leaves room for frames that compress worse than the calibration frame.
SIZE_HEADROOM = (1.30, 0.25)
#: Clips at a constant bitrate are declared their size bound plus up to this fraction.
CLIP_SIZE_SPREAD = 0.02
_COM_MAX = 65535 + 2  # a COM segment's bytes: marker (2) + length field counting itself
_PADDING = b"intake_webcoos stand-in padding. "
_CALIBRATION_TIME = datetime(2025, 1, 1, 12, tzinfo=UTC)


def pad_jpeg(data: bytes, size: int) -> bytes:
    """Insert comment segments after SOI so that the JPEG is exactly ``size`` bytes.

    Raises ValueError when ``size - len(data)`` is 1, 2 or 3 (too small for a
    segment) or negative.
    """
    pad = size - len(data)
    if pad == 0:
        return data
    if pad < 4 or data[:2] != b"\xff\xd8":
        raise ValueError(f"cannot pad a {len(data)}-byte JPEG to {size} bytes")
    n = -(-pad // _COM_MAX)
    lengths = [pad // n] * n
    lengths[0] += pad - sum(lengths)
    segments = []
    for total in lengths:
        payload = (_PADDING * (total // len(_PADDING) + 1))[: total - 4]
        segments.append(b"\xff\xfe" + (total - 2).to_bytes(2, "big") + payload)
    return data[:2] + b"".join(segments) + data[2:]


class FileBodies:
    """Renders, sizes and caches the stand-in's element files and thumbnails.

    Parameters
    ----------
    width, height : int
        Frame size of the JPEG elements.
    quality : int
        JPEG quality of a frame that fits its declared size.
    cache_bytes : int
        Upper bound on the bytes kept in the LRU cache of rendered files.
    """

    def __init__(self, width: int = 1280, height: int = 720, quality: int = 85,
                 cache_bytes: int = 512 * 2**20,
                 resolution_changes: dict[str, tuple[float, tuple[int, int]]] | None = None,
                 video: VideoSettings | None = None) -> None:
        self.renderer = SceneRenderer(width, height)
        self.quality = quality
        self.cache_bytes = cache_bytes
        self.resolution_changes = dict(resolution_changes or {})
        self._cache: OrderedDict[tuple[str, int], bytes] = OrderedDict()
        self._cached_bytes = 0
        self._lock = threading.Lock()
        self._renderers: dict[tuple[int, int], SceneRenderer] = {(width, height): self.renderer}
        self._lqip: dict[str, str] = {}
        self._typical_sizes: dict[tuple[int, int], int] = {}
        self.damaged: dict[tuple[str, int], str] = {}
        self.video = video or VideoSettings()
        self._typical_clip: int | None = None
        # One lock per clip being made, so concurrent requests for it encode it once.
        self._making: dict[tuple[str, int], threading.Lock] = {}

    # -- sizes --------------------------------------------------------------
    def frame_size(self, camera: str, epoch: float) -> tuple[int, int]:
        """``(width, height)`` of a camera's frame at ``epoch`` (cameras change resolution)."""
        change = self.resolution_changes.get(camera)
        if change is not None and epoch >= change[0]:
            return change[1]
        return self.renderer.width, self.renderer.height

    def _renderer(self, size: tuple[int, int]) -> SceneRenderer:
        with self._lock:
            renderer = self._renderers.get(size)
            if renderer is None:
                renderer = self._renderers[size] = SceneRenderer(*size)
        return renderer

    def typical_size(self, size: tuple[int, int]) -> int:
        """Encoded size of a calibration frame of ``size`` at this quality."""
        if size not in self._typical_sizes:
            calibration = self._renderer(size).jpeg("calibration", _CALIBRATION_TIME,
                                                    self.quality)
            self._typical_sizes[size] = len(calibration)
        return self._typical_sizes[size]

    @property
    def video_served(self) -> bool:
        """Whether clips can be encoded here (PyAV, the ``video`` extra, is installed)."""
        return importlib.util.find_spec("av") is not None

    def serves(self, service: Service) -> bool:
        """Whether the file origin serves this service's files."""
        extension = service.kind.extension
        return extension in ("jpg", "json", "jsonl") or (extension == "mp4" and
                                                          self.video_served)

    def typical_clip_size(self) -> int:
        """Encoded size of a calibration clip with the current video settings."""
        if self._typical_clip is None:
            self._typical_clip = len(clip_bytes(self._renderer(self.video.render_size),
                                                "calibration",
                                                _CALIBRATION_TIME.timestamp(), self.video))
        return self._typical_clip

    def clip_sizes(self, uniforms: np.ndarray) -> np.ndarray:
        """Declared sizes of clips, without encoding any at a constant bitrate.

        At a bitrate, a clip's size has a bound known in advance (see
        :meth:`VideoSettings.size_bound`); at constant quality, a calibration
        clip is encoded once (small clips only) and given headroom.
        """
        bound = self.video.size_bound()
        if bound is None:
            low, spread = SIZE_HEADROOM
            return (self.typical_clip_size() * (low + spread * uniforms)).astype(np.int64)
        return (bound * (1.0 + CLIP_SIZE_SPREAD * uniforms)).astype(np.int64) + 8

    def file_sizes(self, service: Service, starts: np.ndarray,
                   uniforms: np.ndarray) -> np.ndarray:
        """Declared sizes of a service's files (see :class:`~.archive.Holdings`).

        JPEGs and clips get a size fixed in advance (a typical encoded size with
        headroom, or a clip's bound at its bitrate: see :meth:`clip_sizes`) and are
        padded to it when served, so a listing never encodes a clip at real size;
        result files are generated here, so their sizes are exact; other files get
        their product's nominal size.
        """
        low, spread = SIZE_HEADROOM
        kind = service.kind
        if kind.is_image:
            typical = np.array([self.typical_size(self.frame_size(service.camera.slug, t))
                                for t in starts.tolist()], dtype=np.float64)
        elif kind.extension == "mp4" and self.video_served:
            return self.clip_sizes(uniforms)
        elif kind.extension in ("json", "jsonl"):
            return np.array([len(result_bytes(service, t)) for t in starts.tolist()],
                            dtype=np.int64)
        else:
            return (kind.nominal_size * (0.85 + 0.3 * uniforms)).astype(np.int64)
        return (typical * (low + spread * uniforms)).astype(np.int64)

    # -- bodies -------------------------------------------------------------
    def body(self, holdings: Holdings, index: int) -> bytes:
        """The bytes of element ``index`` of ``holdings`` (rendered once, then cached)."""
        key = (holdings.service.slug, index)
        if self.damaged.get(key) == "missing":
            raise LookupError(f"{holdings.service.key(int(holdings.starts[index]))} was removed")
        data = self._cached(key)
        if data is not None:
            return data
        if holdings.service.kind.extension != "mp4":
            return self._keep(key, self._render(holdings, index))
        with self._lock:
            making = self._making.setdefault(key, threading.Lock())
        with making:  # a clip takes long to make: the other requests for it wait for it
            data = self._cached(key)
            if data is None:
                data = self._keep(key, self._render(holdings, index))
        with self._lock:
            self._making.pop(key, None)
        return data

    def _cached(self, key: tuple[str, int]) -> bytes | None:
        with self._lock:
            data = self._cache.get(key)
            if data is not None:
                self._cache.move_to_end(key)
            return data

    def _keep(self, key: tuple[str, int], data: bytes) -> bytes:
        with self._lock:
            if key not in self._cache:
                self._cache[key] = data
                self._cached_bytes += len(data)
                while self._cached_bytes > self.cache_bytes and len(self._cache) > 1:
                    _, old = self._cache.popitem(last=False)
                    self._cached_bytes -= len(old)
        return data

    def damage(self, holdings: Holdings, index: int, how: str) -> None:
        """From now on serve an element as garbage (``"corrupt"``) or not at all (``"missing"``)."""
        key = (holdings.service.slug, index)
        with self._lock:
            self.damaged[key] = how
            old = self._cache.pop(key, None)
            if old is not None:
                self._cached_bytes -= len(old)

    def _render(self, holdings: Holdings, index: int) -> bytes:
        service = holdings.service
        if not self.serves(service):
            raise LookupError(f"{service.product.slug} files are not served by the stand-in")
        epoch = float(holdings.starts[index])
        size = int(holdings.sizes[index])
        damage = self.damaged.get((service.slug, index))
        if damage == "corrupt":  # the declared size, but not what it claims to be
            return (b"not a JPEG: corrupt element " * (size // 28 + 1))[:size]
        if service.kind.extension == "mp4":
            return self._clip(service.camera.slug, epoch, size)
        if service.kind.extension in ("json", "jsonl"):
            return result_bytes(service, int(epoch))
        frame = self._renderer(self.frame_size(service.camera.slug, epoch)).render(
            service.camera.slug, epoch)
        for quality in range(self.quality, 0, -5):
            data = encode_jpeg(frame, quality)
            if len(data) == size or len(data) <= size - 4:
                return pad_jpeg(data, size)
        raise RuntimeError(f"frame of {service.slug} at {epoch} does not fit {size} bytes")

    def _clip(self, camera: str, epoch: float, size: int) -> bytes:
        renderer = self._renderer(self.video.render_size)
        # At a bitrate the first try fits (the size was declared from its bound).
        for crf in CRF_STEPS if self.video.bitrate is None else CRF_STEPS[:1]:
            data = clip_bytes(renderer, camera, epoch, self.video, crf)
            if len(data) == size or len(data) <= size - 8:
                return pad_mp4(data, size)
        raise RuntimeError(f"clip of {camera} at {epoch} does not fit {size} bytes")

    def etag(self, holdings: Holdings, index: int) -> str:
        """An entity tag that changes whenever the bytes would (cheap: no rendering)."""
        epoch = int(holdings.starts[index])
        width, height = self.frame_size(holdings.service.camera.slug, epoch)
        damage = self.damaged.get((holdings.service.slug, index))
        ident = (f"{holdings.service.slug}:{epoch}:{int(holdings.sizes[index])}:"
                 f"{width}x{height}:{self.quality}:{damage}")
        return '"' + hashlib.md5(ident.encode(), usedforsecurity=False).hexdigest() + '"'

    # -- previews -----------------------------------------------------------
    def thumbnail(self, camera: str, epoch: float, width: int, height: int) -> bytes:
        """A small rendering of ``camera`` at ``epoch`` (thumbnail URLs point here)."""
        return self._renderer((width, height)).jpeg(camera, epoch, 70)

    def lqip(self, camera: str) -> str:
        """Base64 of a 40x22 JPEG, without a ``data:`` prefix, as the API's ``lqip``."""
        if camera not in self._lqip:
            data = self.thumbnail(camera, _CALIBRATION_TIME.timestamp(), 40, 22)
            self._lqip[camera] = base64.b64encode(data).decode()
        return self._lqip[camera]
