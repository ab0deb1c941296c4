"""JSON payloads of the stand-in, shaped like the real WebCOOS API's.

Envelopes (``uuid, created_at, updated_at, attrs, data{kind, type, uuid,
common, system, version, uuid_slug, uuid_type, properties}``) follow the real
``/assets/`` response; the element object follows the fields the notes mark
confirmed, with guessed values where nothing public shows them (``kind``,
``type``, ``system`` and ``uuid_type`` of elements, the thumbnail URLs).
"""

from __future__ import annotations

import json
import math
import re
import uuid as uuidlib
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from .archive import Archive, Holdings, InventoryRow, format_api_time, inventory_rows
from .cameras import CameraSpec, ProductSpec, made_up_uuid

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
    """

    def __init__(self, archive: Archive, lqip) -> None:
        self.archive = archive
        self._lqip = lqip
        self._assets: dict[str, dict[str, Any]] = {}
        self._element_templates: dict[str, str] = {}

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
    def asset(self, slug: str) -> dict[str, Any] | None:
        """The full asset object (with feeds, products, services), or None."""
        camera = self.archive.cameras.get(slug)
        if camera is None:
            return None
        if slug not in self._assets:
            self._assets[slug] = self._build_asset(camera)
        return self._assets[slug]

    def assets(self) -> list[dict[str, Any]]:
        return [self.asset(slug) for slug in self.archive.cameras]

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
        return props

    def _build_asset(self, camera: CameraSpec) -> dict[str, Any]:
        asset = envelope(
            camera.uuid, "Asset", "Camera", "webcoos.camera", "camera", camera.slug,
            camera.label, self._camera_properties(camera, self._camera_thumbnails(camera)),
        )
        feed_uuid = camera.feed_uuid or made_up_uuid(camera.slug, "raw-video-data")
        feed = envelope(feed_uuid, "Feed", "GenericFeed", "webcoos.genericfeed", "feed",
                        "raw-video-data", "raw-video-data", {"status": "unknown"})
        feed["products"] = [self._product(camera, p) for p in camera.products]
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

    def _product(self, camera: CameraSpec, product: ProductSpec) -> dict[str, Any]:
        obj = envelope(product.uuid, "Product", "GenericProduct", "webcoos.genericproduct",
                       "product", product.slug, product.slug, {})
        services = []
        if product.stream_uuid is not None:
            services.append(self._stream_service(camera, product))
        if product.service_uuid is not None:
            services.append(self.s3_service(self.archive.holdings(product.service_uuid)))
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

    def s3_service(self, holdings: Holdings) -> dict[str, Any]:
        service = holdings.service
        kind = service.kind
        legacy = service.camera.bucket != "webcoos"
        props = {
            "url": service.url,
            "path": service.path,
            "bucket": service.camera.bucket,
            "region": "" if legacy else "us-west-2",
            "base_url": self.archive.files_url,
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
    def element(self, holdings: Holdings, index: int) -> dict[str, Any]:
        """The element object the API lists and the latest routes return."""
        return json.loads(self.element_json(holdings, index))

    def element_json(self, holdings: Holdings, index: int) -> str:
        """:meth:`element` as JSON text, filled into a per-service template (fast)."""
        template = self._element_templates.get(holdings.service.slug)
        if template is None:
            template = self._element_templates[holdings.service.slug] = (
                self._element_template(holdings)
            )
        epoch = int(holdings.starts[index])
        uid = holdings.element_uuid(epoch)
        service = holdings.service
        stamp = format_api_time(epoch)
        thumb = self.element_thumbnail(holdings, epoch, (0, 0))[: -len("-0x0-70.jpg")]
        return template % {
            "uuid": uid,
            "slug": uuid_slug(uid),
            "label": service.filename(epoch),
            "stamp": stamp,
            "updated": format_api_time(epoch + 30)[:-1] + ".000000Z",
            "url": service.element_url(epoch),
            "size": int(holdings.sizes[index]),
            "thumb": thumb,
        }

    def _element_template(self, holdings: Holdings) -> str:
        """The JSON of an element with ``%(name)s`` fields where elements differ."""
        service = holdings.service
        temporal = {"min": "@stamp@"}
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
                "extents": {"temporal": temporal},
                "properties": {
                    "url": "@url@",
                    "size": "@size@",
                    "duration": holdings.duration,
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


def pagination(request_url, count: int, page: int, page_size: int) -> dict[str, Any]:
    """The nine-field pagination block; ``next``/``previous`` keep every query parameter."""
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
    return {
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
