"""The stand-in's holdings: which elements exist, when, and how big they are.

Everything here is a pure function of the configuration (span, frame size,
seed), so two stand-ins with the same settings hold the same elements, sizes
and file bytes.  Element start times are kept per service as sorted arrays of
Unix seconds; a range query is a binary search.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property
from urllib.parse import quote
from zoneinfo import ZoneInfo

import numpy as np

from intake_webcoos.server.cameras import (
    CAMERAS,
    CameraSpec,
    ProductKind,
    ProductSpec,
    made_up_uuid,
)

#: The default span ends here, so that every run serves the same data.
DEFAULT_SPAN_END = datetime(2025, 9, 17, tzinfo=UTC)
DEFAULT_SPAN_DAYS = 14
#: Local clock hours (start inclusive, end exclusive) during which cameras record.
DEFAULT_DAYLIGHT = (7, 19)


def stable_seed(*parts: object) -> int:
    """A 64-bit seed from ``parts`` that does not change between runs (unlike ``hash``)."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "little")


def format_api_time(epoch: int | float) -> str:
    """``2025-09-17T21:57:28Z``: how the API writes element and statistics times."""
    return datetime.fromtimestamp(int(epoch), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Service:
    """One S3 service of the stand-in: a camera's product and where its files live."""

    camera: CameraSpec
    product: ProductSpec
    files_url: str

    @property
    def slug(self) -> str:
        return f"{self.camera.slug}-{self.product.slug}-s3"

    @property
    def uuid(self) -> str:
        assert self.product.service_uuid is not None
        return self.product.service_uuid

    @property
    def kind(self) -> ProductKind:
        return self.product.kind

    @property
    def path(self) -> str:
        """The S3 key prefix of the elements (``properties.path``)."""
        if self.camera.bucket != "webcoos":
            return "/"
        return (
            f"media/sources/webcoos/groups/{self.camera.group}/assets/{self.camera.slug}"
            f"/feeds/raw-video-data/products/{self.product.slug}/elements"
        )

    @property
    def url(self) -> str:
        """``properties.url``: the bucket URL plus the key prefix."""
        if self.camera.bucket != "webcoos":
            return f"{self.files_url}/"
        return f"{self.files_url}/webcoos/{self.path}"

    def filename(self, epoch: int) -> str:
        t = datetime.fromtimestamp(epoch, UTC)
        ext = self.kind.extension
        if self.product.filename_style == "colons":
            return f"{self.camera.slug}_{t:%Y-%m-%d_%H:%M:%S}Z.{ext}"
        return f"{self.camera.slug}-{t:%Y-%m-%d-%H%M%S}Z.{ext}"

    def key(self, epoch: int) -> str:
        """The object key (path on the file origin, without the leading slash)."""
        t = datetime.fromtimestamp(epoch, UTC)
        day = f"{t:%Y/%m/%d}"
        if self.camera.bucket != "webcoos":
            return f"{self.camera.bucket}/{self.camera.slug}/{day}/{self.filename(epoch)}"
        return f"webcoos/{self.path}/{day}/{self.filename(epoch)}"

    def element_url(self, epoch: int) -> str:
        """The element's URL on the first file origin, percent-encoded.

        Listings spell URLs as the variants say (:mod:`~intake_webcoos.server.origins`);
        this one names the same file whatever they are (result files refer to it).
        """
        return f"{self.files_url}/{quote(self.key(epoch))}"


class Holdings:
    """Start times and sizes of every element of one service, built on first use.

    Parameters
    ----------
    service : Service
        The service.
    span : tuple of datetime
        ``[start, end)`` of the data, UTC.
    daylight : tuple of int
        Local clock hours ``[first, last)`` during which the camera records.
    file_sizes : callable
        ``file_sizes(service, epochs, uniforms) -> sizes``: the byte sizes of the
        elements' files (they depend on the frame size and the clip settings),
        given one uniform draw in ``[0, 1)`` per element.
    clip_seconds : float or None
        ``duration`` of video elements (the stand-in's clip length).
    seed : int
        Extra seed, so tests can ask for other (still deterministic) data.
    """

    def __init__(
        self,
        service: Service,
        span: tuple[datetime, datetime],
        daylight: tuple[int, int],
        file_sizes: Callable[[Service, np.ndarray, np.ndarray], np.ndarray],
        seed: int = 0,
        clip_seconds: float | None = None,
    ) -> None:
        self.service = service
        self._span = span
        self._daylight = daylight
        self._file_sizes = file_sizes
        self.duration = clip_seconds if service.kind.extension == "mp4" \
            else service.kind.duration
        self._seed = seed
        self._lock = threading.Lock()
        self._built: tuple[np.ndarray, np.ndarray] | None = None
        self._by_key: dict[str, int] | None = None

    @property
    def starts(self) -> np.ndarray:
        """Element start times, Unix seconds (int64), ascending."""
        return self._build()[0]

    @property
    def sizes(self) -> np.ndarray:
        """Element sizes in bytes (int64), aligned with :attr:`starts`."""
        return self._build()[1]

    def _build(self) -> tuple[np.ndarray, np.ndarray]:
        if self._built is None:
            with self._lock:
                if self._built is None:
                    self._built = self._generate()
        return self._built

    def _generate(self) -> tuple[np.ndarray, np.ndarray]:
        kind = self.service.kind
        rng = np.random.default_rng(stable_seed(self.service.slug, self._seed))
        tz = ZoneInfo(self.service.camera.timezone)
        first_hour, last_hour = self._daylight
        span_start, span_end = (int(t.timestamp()) for t in self._span)
        local_day = datetime.fromtimestamp(span_start, tz).date() - timedelta(days=1)
        last_day = datetime.fromtimestamp(span_end, tz).date()
        chunks = []
        while local_day <= last_day:
            midnight = datetime(local_day.year, local_day.month, local_day.day, tzinfo=tz)
            # Wall-clock hours after local midnight (aware + timedelta keeps the wall clock).
            window_start = int((midnight + timedelta(hours=first_hour)).timestamp())
            window_end = int((midnight + timedelta(hours=last_hour)).timestamp())
            slots = np.arange(window_start + kind.offset, window_end, kind.cadence, dtype=np.int64)
            jitter = rng.integers(0, kind.jitter + 1, slots.size) if kind.jitter else 0
            keep = rng.random(slots.size) < kind.keep
            chunks.append((slots + jitter)[keep])
            local_day += timedelta(days=1)
        starts = np.concatenate(chunks) if chunks else np.empty(0, np.int64)
        keep = (starts >= span_start) & (starts < span_end)
        for day in self.service.camera.outage_days:
            keep &= (starts < span_end - day * 86400) | (starts >= span_end - (day - 1) * 86400)
        starts = starts[keep]
        starts = np.unique(starts)  # sorted, and no two elements share a start
        uniforms = np.random.default_rng(stable_seed(self.service.slug, self._seed, "size")).random(
            starts.size
        )
        sizes = self._file_sizes(self.service, starts, uniforms)
        return starts, np.asarray(sizes, dtype=np.int64)

    def index_range(self, start: float | None, end: float | None,
                    end_inclusive: bool = True) -> tuple[int, int]:
        """Indices ``[lo, hi)`` of the elements with ``start <= t <= end`` (None = open).

        With ``end_inclusive`` False, ``t < end`` instead.
        """
        starts = self.starts
        lo = 0 if start is None else int(np.searchsorted(starts, start, "left"))
        if end is None:
            hi = starts.size
        else:
            hi = int(np.searchsorted(starts, end, "right" if end_inclusive else "left"))
        return lo, max(lo, hi)

    def index_of_key(self, key: str) -> int | None:
        """The element whose object key is ``key``, or None."""
        if self._by_key is None:
            with self._lock:
                if self._by_key is None:
                    self._by_key = {self.service.key(int(t)): i for i, t in enumerate(self.starts)}
        return self._by_key.get(key)

    def element_uuid(self, epoch: int) -> str:
        return made_up_uuid(self.service.uuid, str(int(epoch)))


@dataclass(frozen=True)
class InventoryRow:
    """One inventory bin, in the stand-in's own units (Unix seconds, bytes)."""

    starting: int
    ending: int
    count: int
    size: int
    data_starting: int | None
    data_ending: int | None


def inventory_rows(holdings: Holdings, freq: str) -> list[InventoryRow]:
    """Daily, weekly (from Sunday) or monthly bins from the first bin with data to the last.

    Empty bins in between are included with zero count and no data bounds, as the
    real API does.  Monthly bins end on the last day of the month at 00:00.
    """
    starts, sizes = holdings.starts, holdings.sizes
    if starts.size == 0:
        return []
    days = starts.astype("datetime64[s]").astype("datetime64[D]")
    if freq == "daily":
        keys = days
        all_bins = np.arange(keys[0], keys[-1] + 1)
        ends = all_bins + 1
    elif freq == "weekly":
        # 1970-01-01 was a Thursday: (day + 4) % 7 counts days since Sunday.
        keys = days - (days.astype(np.int64) + 4) % 7
        all_bins = np.arange(keys[0], keys[-1] + 7, 7)
        ends = all_bins + 7
    elif freq == "monthly":
        keys = days.astype("datetime64[M]")
        all_bins = np.arange(keys[0], keys[-1] + 1)
        ends = (all_bins + 1).astype("datetime64[D]") - 1
    else:
        raise ValueError(f"unknown inventory frequency {freq!r}")
    keys = keys.astype("datetime64[s]").astype(np.int64)
    bins = all_bins.astype("datetime64[s]").astype(np.int64)
    ends = ends.astype("datetime64[s]").astype(np.int64)
    occupied, first, counts = np.unique(keys, return_index=True, return_counts=True)
    totals = np.add.reduceat(sizes, first)
    by_bin = {int(k): i for i, k in enumerate(occupied)}
    rows = []
    for b, e in zip(bins.tolist(), ends.tolist(), strict=True):
        i = by_bin.get(b)
        if i is None:
            rows.append(InventoryRow(b, e, 0, 0, None, None))
        else:
            lo = int(first[i])
            hi = lo + int(counts[i]) - 1
            rows.append(InventoryRow(b, e, int(counts[i]), int(totals[i]),
                                     int(starts[lo]), int(starts[hi])))
    return rows


class Archive:
    """Every camera, product and service of the stand-in, with their holdings.

    Parameters
    ----------
    files_url : str
        Base URL of the file origin (element URLs point there).
    span_end, span_days : datetime, int
        Data covers ``[span_end - span_days, span_end)``; archived cameras keep
        the same length of data ending at their own (past) end.
    daylight : tuple of int
        Local clock hours ``[first, last)`` during which cameras record.
    file_sizes, clip_seconds
        See :class:`Holdings`.
    seed : int
        Varies the (deterministic) timing jitter and sizes.
    cameras : sequence of CameraSpec
        The catalog (default: :data:`~intake_webcoos.server.cameras.CAMERAS`).
    """

    def __init__(
        self,
        files_url: str,
        *,
        span_end: datetime = DEFAULT_SPAN_END,
        span_days: float = DEFAULT_SPAN_DAYS,
        daylight: tuple[int, int] = DEFAULT_DAYLIGHT,
        file_sizes: Callable[[Service, np.ndarray, np.ndarray], np.ndarray],
        seed: int = 0,
        clip_seconds: float | None = None,
        cameras: tuple[CameraSpec, ...] = CAMERAS,
    ) -> None:
        self.files_url = files_url.rstrip("/")
        self.span_end = span_end
        self.span_days = span_days
        self.cameras = {c.slug: c for c in cameras}
        self._holdings: dict[str, Holdings] = {}
        for camera in cameras:
            end = (
                datetime.fromisoformat(camera.data_end) if camera.data_end else span_end
            )
            span = (end - timedelta(days=span_days), end)
            for product in camera.products:
                if product.service_uuid is None:
                    continue
                service = Service(camera, product, self.files_url)
                holdings = Holdings(service, span, daylight, file_sizes, seed, clip_seconds)
                self._holdings[service.slug] = holdings
                self._holdings[service.uuid] = holdings

    @cached_property
    def services(self) -> list[Holdings]:
        """One :class:`Holdings` per S3 service, in catalog order."""
        seen: dict[str, Holdings] = {}
        for h in self._holdings.values():
            seen.setdefault(h.service.slug, h)
        return list(seen.values())

    def holdings(self, service: str) -> Holdings | None:
        """The holdings of a service given by slug or uuid."""
        return self._holdings.get(service)

    def holdings_for(self, asset: str, product: str) -> Holdings | None:
        return self._holdings.get(f"{asset}-{product}-s3")

    def find_key(self, key: str) -> tuple[Holdings, int] | None:
        """The service and element index that an object key names, or None."""
        for h in self.services:
            prefix = h.service.key(0).rsplit("/", 4)[0] + "/"
            if key.startswith(prefix):
                i = h.index_of_key(key)
                return None if i is None else (h, i)
        return None
