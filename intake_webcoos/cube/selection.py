"""One selection for every face that opens WebCOOS files.

``open_images``, ``open_video``, ``read_results``, the xarray engine and the
intake readers all take the same keywords (:data:`KEYWORDS`, then client
options, any field of :class:`~intake_webcoos.api.config.Settings`).  Each face
builds a :class:`Selection`, which checks them once, refuses by name what that
face cannot take, and lists the files: from a camera's product between
``start`` and ``end``, or from a ``webcoos://`` glob or a list of
``webcoos://`` file paths.
"""

from __future__ import annotations

import dataclasses
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from intake_webcoos import paths
from intake_webcoos.api.config import Settings
from intake_webcoos.api.models import Asset, Service
from intake_webcoos.api.sync import Client
from intake_webcoos.api.tables import thin
from intake_webcoos.api.times import TimeLike, to_timedelta
from intake_webcoos.cube.contract import check_unbounded
from intake_webcoos.cube.kinds import check_kind
from intake_webcoos.errors import ArgumentTypeError, EmptyRangeError, InvalidArgumentError
from intake_webcoos.fs.filesystem import WebcoosFileSystem

#: The keywords every face takes, in this order (client options follow as ``**``).
KEYWORDS = ("camera", "product", "start", "end", "every", "sample", "fps", "scale",
            "grayscale", "chunks", "coerce_shape", "on_error", "cache", "max_frames",
            "token", "base_url")
#: Client options a face passes on to its client (``cache`` is a face keyword of its own).
CLIENT_OPTIONS = tuple(f.name for f in dataclasses.fields(Settings)
                       if f.name not in ("token", "base_url", "cache"))
#: Clip time per sampled frame when neither ``sample`` nor ``fps`` is given.
DEFAULT_SAMPLE = "500ms"
#: The product a camera's clips come from when none is named.
DEFAULT_VIDEO_PRODUCT = "video-archive"
#: The faces that refuse the keywords of video sampling, and what they thin with instead.
_NOT_SAMPLED = {"image": "stills", "results": "results"}
_FACES = {"image": "open_images", "video": "open_video", "results": "read_results"}
#: The shared keywords the cube faces document (``open_images``, ``open_video``).
CUBE_KEYWORDS = ("camera", "start", "every", "sample", "scale", "coerce_shape", "cache",
                 "max_frames", "token")
#: The numpy-style text of each shared keyword, written once for every face.
_DOCS = {
    "camera": """camera, product : str
    Camera slug or label and product slug; or, as ``camera`` alone, a
    ``webcoos://`` glob or a list of ``webcoos://`` file paths of one camera product.""",
    "start": """start, end : str, datetime, Timestamp or datetime64, optional
    Inclusive UTC bounds (naive means UTC).""",
    "every": """every : str or Timedelta, optional
    Keep the first file (still, clip, results file) of each UTC bin of this width.""",
    "sample": """sample, fps : str, Timedelta or float, optional
    Video only (other faces refuse them by name): keep one frame per ``sample`` of
    clip time (default ``"500ms"``, 2 Hz, as coastal imaging samples its bursts),
    or ``fps`` frames per second.""",
    "scale": """scale, grayscale : {1, 1/2, 1/4, 1/8}, bool
    Decode frames at reduced size; one band of luminance instead of RGB.""",
    "coerce_shape": """coerce_shape : (ny, nx), optional
    Crop or zero-pad every frame to this size (after scaling), for cameras that
    changed resolution; also spares reading a file at opening to learn the size.""",
    "cache": """cache : bool
    Keep the files in the on-disk cache and read them from it next time.""",
    "max_frames": """max_frames : int
    Without ``start`` or ``end``, refuse more frames than this (a day of stills).""",
    "token": """token, base_url, **client_options
    API token and root (default: ``WEBCOOS_API_TOKEN``, ``WEBCOOS_API_URL``) and
    client settings (``retries``, ``timeout``...: the fields of
    :class:`~intake_webcoos.api.config.Settings`), also used by the file reads on
    the workers, which never need the token: element files are public.""",
}


def document(*names: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Write the shared keywords ``names`` where a face's docstring says ``{parameters}``.

    Every face documents them alike, from one text (:data:`_DOCS`).
    """
    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        text = textwrap.indent("\n".join(_DOCS[name] for name in names), "    ")
        func.__doc__ = (func.__doc__ or "").replace("    {parameters}", text)
        return func

    return decorate


@dataclass(frozen=True)
class Selection:
    """Which files a face opens, and how its client reaches them.

    Built by :meth:`build` from a face's keywords; never put in a task graph
    (the token stays here, out of reprs and comparisons).

    Attributes
    ----------
    kind : {"image", "video", "results"}
        What the face reads.
    camera, product : str or None
        Camera slug or label and product slug; None when ``targets`` select.
    start, end : optional
        Inclusive UTC bounds.
    targets : str or tuple of str, or None
        A ``webcoos://`` glob, or ``webcoos://`` file paths.
    every : Timedelta or None
        Keep the first file of each UTC bin of this width.
    step : float or None
        Seconds of clip time per sampled frame (video only).
    max_frames : int or None
        Without ``start`` or ``end``, refuse more frames than this (None: no limit).
    client_options : tuple of (str, value)
        Client settings, sorted (what :class:`~intake_webcoos.cube.contract.CubeOptions`
        hands to the tasks).
    """

    kind: str
    camera: str | None
    product: str | None
    start: TimeLike | None = None
    end: TimeLike | None = None
    targets: str | tuple[str, ...] | None = None
    every: pd.Timedelta | None = None
    step: float | None = None
    max_frames: int | None = None
    base_url: str | None = None
    client_options: tuple[tuple[str, Any], ...] = ()
    token: str | None = field(default=None, repr=False, compare=False)

    @classmethod
    def build(cls, kind: str, camera: Any, product: str | None, start: TimeLike | None,
              end: TimeLike | None, *, every: Any = None, sample: Any = None,
              fps: float | None = None, cache: bool = False, max_frames: int | None = None,
              token: str | None = None, base_url: str | None = None,
              client_options: dict[str, Any] | None = None) -> Selection:
        """Check a face's keywords and hold them.

        Raises
        ------
        ArgumentTypeError
            A keyword the face cannot take (named, with what to use instead), an
            unknown client option, or paths given together with a camera selection.
        InvalidArgumentError
            A value out of its range (``fps`` not positive, ``every`` not a duration).
        """
        face, client_options = _FACES[kind], dict(client_options or {})
        # A face without sample/fps parameters (read_results) gets them among the options.
        given = {"sample": sample, "fps": fps, **client_options}
        for name in ("sample", "fps"):
            if kind in _NOT_SAMPLED and given.get(name) is not None:
                raise ArgumentTypeError(f"{face}: {name}= picks frames inside video clips; "
                                        f"{_NOT_SAMPLED[kind]} are thinned with every=.")
        options = _client_options(face, client_options, cache)
        step = _step(sample, fps) if kind == "video" else None
        targets = _targets(camera)
        if targets is not None:
            if product is not None or start is not None or end is not None:
                raise ArgumentTypeError(f"{face}: give either webcoos:// paths or camera, "
                                        "product, start and end; paths select by themselves")
            camera = None
        elif kind == "video" and product is None:
            product = DEFAULT_VIDEO_PRODUCT
        if targets is None and (not isinstance(camera, str) or product is None):
            raise ArgumentTypeError(f"{face} needs a camera and a product (or webcoos:// "
                                    f"paths), not camera={camera!r}, product={product!r}")
        return cls(kind, camera, product, start, end, targets,
                   None if every is None else to_timedelta(every, "every"), step,
                   max_frames, base_url, options, token)

    def client(self) -> Client:
        """A client with this selection's token, root and options."""
        return Client(self.token, self.base_url, **dict(self.client_options))

    def listing(self) -> tuple[pd.DataFrame, Asset, str, list[Service] | None]:
        """The selected files, oldest first, their camera, product and S3 services.

        The frame has the columns of :meth:`Client.elements
        <intake_webcoos.api.client.AsyncClient.elements>` that paths give too
        (``time, asset, product, url, filename, service, size, duration``); the
        services are None when paths selected.

        Raises
        ------
        EmptyRangeError
            Nothing is selected (saying why).
        ProductKindError
            The files are not of this face's kind (naming the face that reads them).
        """
        if self.targets is not None:
            frame, camera, product = self._from_targets()
            services, why = None, f"No file matches {self.targets!r}."
        else:
            assert self.camera is not None and self.product is not None
            client = self.client()
            camera, product = client.asset(self.camera), self.product
            services = client.services(camera.slug, product)  # a stream only: NoFilesError
            check_kind(camera.slug, product, self.kind)
            self.check_size(services)
            frame = client.elements(camera.slug, product, self.start, self.end,
                                    every=self.every)
            why = frame.attrs.get("why_empty", "")
        if frame.empty:
            raise EmptyRangeError(f"No {product} of {camera.slug} between {self.start} and "
                                  f"{self.end} (UTC). {why}")
        check_kind(camera.slug, product, self.kind, frame["url"].iloc[0])
        return frame, camera, product, services

    def check_size(self, services: list[Service] | None, frames: int | None = None) -> None:
        """Refuse an unbounded selection of more than ``max_frames`` frames.

        See :func:`~intake_webcoos.cube.contract.check_unbounded`; paths (no
        services) and faces without a limit pass.
        """
        if services is not None and self.max_frames is not None:
            check_unbounded(services, self.start, self.end, self.max_frames, frames)

    def _from_targets(self) -> tuple[pd.DataFrame, Asset, str]:
        """The files of a glob or of explicit paths, and the camera product they belong to."""
        fs = WebcoosFileSystem(token=self.token, base_url=self.base_url,
                               **dict(self.client_options))
        if isinstance(self.targets, str):
            infos = list(fs.glob(self.targets, detail=True).values())
        else:
            infos = [fs.info(p) for p in self.targets or ()]
        infos = [i for i in infos if i["type"] == "file"]
        parsed = [paths.parse(i["name"]) for i in infos]
        owners = {(p.asset, p.product) for p in parsed}
        if len(owners) > 1:
            raise ArgumentTypeError(f"the paths span several camera products {sorted(owners)}: "
                                    "open each separately and combine the results")
        if not owners:
            raise EmptyRangeError(f"No file matches {self.targets!r}.")
        (camera, product), = owners
        frame = pd.DataFrame({
            "time": pd.DatetimeIndex([i["time"] for i in infos]).tz_convert("UTC"),
            "asset": camera, "product": product,
            "url": [i["url"] for i in infos],
            "filename": [p.filename for p in parsed],
            "service": [i["service"] for i in infos],
            "size": pd.array([i["size"] for i in infos], dtype="Int64"),
            "duration": pd.array([i.get("duration") for i in infos], dtype="float64"),
        }).sort_values("time", kind="stable").reset_index(drop=True)
        if self.every is not None:
            frame = thin(frame, self.every)
        return frame, fs.client.asset(camera), product


def _targets(camera: Any) -> str | tuple[str, ...] | None:
    """A ``webcoos://`` glob or file paths given in place of a camera, else None."""
    if isinstance(camera, str):
        return camera if paths.is_archive_url(camera) else None
    if isinstance(camera, Sequence) and camera and all(map(paths.is_archive_url, camera)):
        return tuple(camera)
    return None


def _step(sample: Any, fps: float | None) -> float:
    """Seconds of clip time per sampled frame, from ``fps`` or ``sample``."""
    if fps is not None:
        if sample is not None:
            raise ArgumentTypeError("open_video: give sample= or fps=, not both")
        if not isinstance(fps, (int, float)) or not fps > 0:
            raise InvalidArgumentError(f"fps must be a positive number, not {fps!r}")
        return 1 / fps
    return to_timedelta(DEFAULT_SAMPLE if sample is None else sample, "sample").total_seconds()


def _client_options(face: str, given: dict[str, Any], cache: bool
                    ) -> tuple[tuple[str, Any], ...]:
    """The client options, checked by name; ``cache=True`` keeps files in the cache too.

    ``cache_files=True`` (how the xarray engine, whose ``cache=`` xarray keeps,
    asks for it) means the same.
    """
    unknown = sorted(set(given) - set(CLIENT_OPTIONS))
    if unknown:
        hint = " (the camera is camera=)" if "asset" in unknown else ""
        raise ArgumentTypeError(
            f"{face} got unexpected keywords {unknown}{hint}: beside its parameters it "
            f"takes client options ({', '.join(CLIENT_OPTIONS)}).")
    options = dict(given)
    if cache or options.get("cache_files"):  # files kept need the cache on (the engine's way)
        options.update(cache=True, cache_files=True)
    return tuple(sorted(options.items()))
