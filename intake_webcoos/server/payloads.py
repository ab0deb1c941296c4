"""JSON payloads of the stand-in, shaped like the real WebCOOS API's.

Envelopes (``uuid, created_at, updated_at, attrs, data{kind, type, uuid,
common, system, version, uuid_slug, uuid_type, properties}``) follow the real
``/assets/`` response; the element object follows the fields the notes mark
confirmed, with guessed values where nothing public shows them (``kind``,
``type``, ``system`` and ``uuid_type`` of elements, the thumbnail URLs).
Where the record allows several readings, :class:`~.variants.Variants` picks one.
"""

from __future__ import annotations

import json
import math
import re
import uuid as uuidlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from yarl import URL

from intake_webcoos.server.archive import (
    Archive,
    Holdings,
    InventoryRow,
    format_api_time,
    inventory_rows,
)
from intake_webcoos.server.cameras import CameraSpec, ProductSpec, made_up_uuid
from intake_webcoos.server.origins import FileOrigins
from intake_webcoos.server.variants import NOT_A_TIME, Variants

CREATED_AT = "2022-06-14T21:44:15.667000Z"
UPDATED_AT = "2025-09-22T05:40:39.922336Z"
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_THUMBNAIL_SIZES = {
    "rect_large": (800, 400),
    "rect_small": (200, 100),
    "rect_medium": (400, 200),
    "square_large": (800, 800),
    "square_small": (200, 200),
    "square_medium": (400, 400),
}
INVENTORY_FIELDS = [
    {"name": "starting", "type": "datetime", "label": "Bin Start"},
    {"name": "has_data", "type": "bool", "label": "Has Data?"},
    {"name": "ending", "type": "datetime", "label": "Bin End"},
    {"name": "count", "type": "int", "label": "Count"},
    {"name": "size", "type": "int", "label": "Bytes"},
    {"name": "data_starting", "type": "datetime", "label": "Data Start"},
    {"name": "data_ending", "type": "datetime", "label": "Data End"},
]


def uuid_slug(value: str) -> str:
    """An 8-character slug from a uuid, like the API's ``uuid_slug``."""
    n = uuidlib.UUID(value).int
    chars = []
    for _ in range(8):
        n, r = divmod(n, len(_ALPHABET))
        chars.append(_ALPHABET[r])
    return "".join(chars)


def envelope(uid: str, kind: str, type_: str, system: str, uuid_type: str, slug: str,
             label: str, properties: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """The envelope every WebCOOS object shares."""
    return {
        "uuid": uid,
        "created_at": CREATED_AT,
        "updated_at": UPDATED_AT,
        "attrs": {},
        "data": {
            "kind": kind,
            "type": type_,
            "uuid": uid,
            "common": {
                "slug": slug,
                "label": label,
                "comments": "",
                "description": "",
                "access_level": "public",
                "statistics_level": "visible",
            },
            "system": system,
            "version": "1.0.0",
            "uuid_slug": uuid_slug(uid),
            "uuid_type": uuid_type,
            "properties": properties,
            **extra,
        },
    }


class Payloads:
    """Builds the API's JSON objects from an :class:`Archive`.

    Parameters
    ----------
    archive : Archive
        The holdings.
    lqip : callable
        ``lqip(camera_slug) -> str``: base64 of a tiny JPEG preview.
    origins : FileOrigins
        The file origins, which element and service URLs point at.
    """

    def __init__(self, archive: Archive, lqip: Callable[[str], str],
                 origins: FileOrigins) -> None:
        self.archive = archive
        self.origins = origins
        self._lqip = lqip
        self._assets: dict[tuple[str, int], dict[str, Any]] = {}
        self._element_templates: dict[tuple[str, bool, str | None], str] = {}

    # -- thumbnails ---------------------------------------------------------
    def _camera_thumbnails(self, camera: CameraSpec) -> dict[str, str]:
        base = (f"{self.archive.files_url}/static-assets/webcoos/backend/prod/media/cache/"
                f"uploads/camera/{camera.slug}/{camera.slug}_highlight-crop-c0-5__0-5")
        thumbs = {"lqip": self._lqip(camera.slug)}
        for name, (w, h) in _THUMBNAIL_SIZES.items():
            thumbs[name] = f"{base}-{w}x{h}-70.jpg"
        return thumbs

    def element_thumbnail(self, holdings: Holdings, epoch: int, size: tuple[int, int]) -> str:
        w, h = size
        return (f"{self.archive.files_url}/static-assets/webcoos/backend/prod/media/cache/"
                f"elements/{holdings.service.slug}/{epoch}-{w}x{h}-70.jpg")

    # -- catalog ------------------------------------------------------------
    def asset(self, slug: str, variants: Variants) -> dict[str, Any] | None:
        """The full asset object (with feeds, products, services), or None."""
        camera = self.archive.cameras.get(slug)
        if camera is None:
            return None
        # Only the file origin changes an asset (its services' URLs).
        key = (slug, variants.file_origins)
        if key not in self._assets:
            self._assets[key] = self._build_asset(camera, variants)
        return self._assets[key]

    def assets(self, variants: Variants) -> list[dict[str, Any]]:
        return [self.asset(slug, variants) for slug in self.archive.cameras]

    def _camera_properties(self, camera: CameraSpec, thumbnails: dict | None) -> dict[str, Any]:
        props: dict[str, Any] = {"group": camera.group}
        if camera.has_wedge:
            props["wedge"] = _wedge(camera)
        props.update(
            source="webcoos",
            location={"type": "Point", "coordinates": [camera.longitude, camera.latitude]},
            timezone=camera.timezone,
            thumbnails={"base": thumbnails},
        )
        # Newer payloads only (webcoos-api-notes.md, 3.1): absent for cameras without them.
        if camera.state is not None:
            props["state_or_territory"] = camera.state
        if camera.region is not None:
            props["region"] = camera.region
        return props

    def _build_asset(self, camera: CameraSpec, variants: Variants) -> dict[str, Any]:
        asset = envelope(
            camera.uuid, "Asset", "Camera", "webcoos.camera", "camera", camera.slug,
            camera.label, self._camera_properties(camera, self._camera_thumbnails(camera)),
        )
        feed_uuid = camera.feed_uuid or made_up_uuid(camera.slug, "raw-video-data")
        feed = envelope(feed_uuid, "Feed", "GenericFeed", "webcoos.genericfeed", "feed",
                        "raw-video-data", "raw-video-data", {"status": "unknown"})
        feed["products"] = [self._product(camera, p, variants) for p in camera.products]
        asset["feeds"] = [feed]
        package_uuid = camera.package_uuid or made_up_uuid(camera.slug, "package")
        asset["package"] = envelope(
            package_uuid, "Package", "CameraPackage", "webcoos.camerapackage", "camera_package",
            camera.slug, camera.label, self._camera_properties(camera, None),
        )
        asset["disposition"] = {"slug": camera.disposition, "label": camera.disposition,
                                "description": None}
        asset["disposition_note"] = ""
        return asset

    def _product(self, camera: CameraSpec, product: ProductSpec,
                 variants: Variants) -> dict[str, Any]:
        obj = envelope(product.uuid, "Product", "GenericProduct", "webcoos.genericproduct",
                       "product", product.slug, product.slug, {})
        services = []
        if product.stream_uuid is not None:
            services.append(self._stream_service(camera, product))
        if product.service_uuid is not None:
            holdings = self.archive.holdings(product.service_uuid)
            services.append(self.s3_service(holdings, variants))
        obj["services"] = services
        return obj

    def _stream_service(self, camera: CameraSpec, product: ProductSpec) -> dict[str, Any]:
        base = f"https://stream.invalid/stream/adaptive/{camera.group}/{camera.slug}"
        props = {
            "frequency": {"type": "static", "value": None},
            "connections": [
                {"url": f"{base}/manifest.mpd", "name": "Dash", "port": 80, "protocol": "dash",
                 "provider": "ams"},
                {"url": f"{base}/hls.m3u8", "name": "HLS", "port": 80, "protocol": "hls",
                 "provider": "ams"},
            ],
        }
        slug = f"{camera.slug}-streams"
        obj = envelope(product.stream_uuid, "Service", "StreamingService",
                       "webcoos.streamingservice", "service", slug, slug, props)
        obj["elements"] = {"count": 0, "size": None, "first_starting": None,
                           "last_starting": None, "first_ending": None, "last_ending": None}
        return obj

    def s3_service(self, holdings: Holdings, variants: Variants) -> dict[str, Any]:
        service = holdings.service
        kind = service.kind
        legacy = service.camera.bucket != "webcoos"
        props = {
            "url": self.origins.service_url(service, variants),
            "path": service.path,
            "bucket": service.camera.bucket,
            "region": "" if legacy else "us-west-2",
            "base_url": self.origins.base_url(service, variants),
            "frequency": {"type": "periodic", "value": "PT10M" if legacy else kind.frequency},
        }
        label = kind.service_label or service.product.slug
        obj = envelope(service.uuid, "Service", "S3Service", "webcoos.s3service", "service",
                       service.slug, label, props)
        obj["elements"] = self.statistics(holdings)
        return obj

    @staticmethod
    def statistics(holdings: Holdings) -> dict[str, Any]:
        """The service's ``elements`` block, consistent with its elements to the byte."""
        starts, sizes = holdings.starts, holdings.sizes
        if starts.size == 0:
            return {"count": 0, "size": None, "first_starting": None, "last_starting": None,
                    "first_ending": None, "last_ending": None}
        first, last = format_api_time(starts[0]), format_api_time(starts[-1])
        has_end = holdings.service.kind.has_end
        return {
            "count": int(starts.size),
            "size": int(sizes.sum()),
            "first_starting": first,
            "last_starting": last,
            "first_ending": first if has_end else None,
            "last_ending": last if has_end else None,
        }

    # -- elements -----------------------------------------------------------
    def element(self, holdings: Holdings, index: int, variants: Variants) -> dict[str, Any]:
        """The element object the API lists and the latest routes return."""
        return json.loads(self.element_json(holdings, index, variants))

    def element_json(self, holdings: Holdings, index: int, variants: Variants) -> str:
        """:meth:`element` as JSON text, filled into a template per service and shape (fast)."""
        service = holdings.service
        null_duration = variants.null_durations and service.kind.extension == "mp4"
        key = (service.slug, null_duration, variants.malformation(index))
        template = self._element_templates.get(key)
        if template is None:
            template = self._element_templates[key] = self._element_template(holdings, *key[1:])
        epoch = int(holdings.starts[index])
        uid = holdings.element_uuid(epoch)
        stamp = format_api_time(epoch)
        thumb = self.element_thumbnail(holdings, epoch, (0, 0))[: -len("-0x0-70.jpg")]
        return template % {
            "uuid": uid,
            "slug": uuid_slug(uid),
            "label": service.filename(epoch),
            "stamp": stamp,
            "updated": format_api_time(epoch + 30)[:-1] + ".000000Z",
            "url": self.origins.element_url(service, epoch, variants),
            "size": int(holdings.sizes[index]),
            "thumb": thumb,
        }

    def _element_template(self, holdings: Holdings, null_duration: bool,
                          malformation: str | None) -> str:
        """The JSON of an element with ``%(name)s`` fields where elements differ.

        ``malformation`` breaks it in one of the ways of
        :data:`~.variants.MALFORMATIONS` (see :attr:`Variants.malformed_every`).
        """
        service = holdings.service
        temporal = {"min": NOT_A_TIME if malformation == "time" else "@stamp@"}
        if service.kind.has_end:
            temporal["max"] = "@stamp@"
        obj = {
            "uuid": "@uuid@",
            "created_at": "@updated@",
            "updated_at": "@updated@",
            "attrs": {},
            "data": {
                "kind": "Element",
                "type": "S3Element",
                "uuid": "@uuid@",
                "common": {
                    "slug": "@slug@",
                    "label": "@label@",
                    "comments": "",
                    "description": "",
                    "access_level": "public",
                    "statistics_level": "visible",
                },
                "system": "webcoos.s3element",
                "version": "1.0.0",
                "uuid_slug": "@slug@",
                "uuid_type": "element",
                "extents": None if malformation == "extents" else {"temporal": temporal},
                "properties": {
                    "url": None if malformation == "url" else "@url@",
                    "size": "@size@",
                    "duration": None if null_duration else holdings.duration,
                    "thumbnails": {
                        "base": {
                            "lqip": self._lqip(service.camera.slug),
                            "rect_small": "@thumb@-200x100-70.jpg",
                            "rect_medium": "@thumb@-400x200-70.jpg",
                        }
                    },
                },
            },
        }
        text = json.dumps(obj).replace("%", "%%").replace('"@size@"', "%(size)d")
        # The filled-in values are ASCII without quotes or backslashes (slugs, ISO
        # times, percent-encoded URLs), so they need no JSON escaping.
        return re.sub(r"@(\w+)@", r"%(\1)s", text)

    # -- inventory ----------------------------------------------------------
    @staticmethod
    def inventory(holdings: Holdings) -> dict[str, Any]:
        """Daily, weekly and monthly bins in the seven-column form."""
        results = []
        for name in ("daily", "weekly", "monthly"):
            values = [_inventory_values(row) for row in inventory_rows(holdings, name)]
            results.append({"type": "inventory", "meta": {"fields": INVENTORY_FIELDS},
                            "name": name, "values": values})
        return {"results": results}


def _inventory_time(epoch: int | None) -> str:
    if epoch is None:
        return "NaT"
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S+00:00")


def _inventory_values(row: InventoryRow) -> list[Any]:
    return [
        _inventory_time(row.starting),
        1 if row.count else 0,
        _inventory_time(row.ending),
        row.count,
        row.size,
        _inventory_time(row.data_starting),
        _inventory_time(row.data_ending),
    ]


def _wedge(camera: CameraSpec) -> dict[str, Any]:
    """A view cone polygon (the real ones are hand-drawn; this is a plain fan)."""
    lon, lat = camera.longitude, camera.latitude
    ring = [[lon, lat]]
    for k in range(11):
        angle = math.radians(150 + 6 * k)
        ring.append([lon + 0.03 * math.cos(angle), lat + 0.03 * math.sin(angle)])
    ring.append([lon, lat])
    return {"type": "Polygon", "coordinates": [ring]}


#: The pagination fields of :attr:`Variants.pagination` "minimal" (what clients rely on).
MINIMAL_PAGINATION = ("count", "start_index", "end_index", "next", "previous")


def pagination(request_url: URL, count: int, page: int, page_size: int,
               minimal: bool = False) -> dict[str, Any]:
    """The pagination block; ``next``/``previous`` keep every query parameter.

    Nine fields, as the official page shows, or the five of :data:`MINIMAL_PAGINATION`.
    """
    total_pages = max(1, math.ceil(count / page_size))
    start_index = 0 if count == 0 else (page - 1) * page_size + 1
    end_index = 0 if count == 0 else min(page * page_size, count)

    def link(n: int | None) -> str | None:
        if n is None:
            return None
        query = dict(request_url.query)
        query["page"] = str(n)
        return str(request_url.with_query(None)) + "?" + urlencode(query)

    next_page = page + 1 if page < total_pages else None
    previous_page = page - 1 if page > 1 else None
    block = {
        "count": count,
        "page": page,
        "total_pages": total_pages,
        "start_index": start_index,
        "end_index": end_index,
        "next": link(next_page),
        "previous": link(previous_page),
        "next_page": next_page,
        "previous_page": previous_page,
    }
    return {k: block[k] for k in MINIMAL_PAGINATION} if minimal else block
