"""Typed records of the camera catalogue: cameras, feeds, products, services.

Every record is a frozen, slotted dataclass built by a ``from_json`` classmethod
from one decoded JSON node, tolerant of what the API is known (or likely) to
vary (see :mod:`intake_webcoos.api.fields`).  All times are timezone-aware
:class:`datetime.datetime` in UTC.  Every ``from_json`` takes a keyword
``where``: the position of ``obj`` inside a larger payload (e.g.
``"results[17]"``), only used to name fields in errors.

The records of listings (:class:`~intake_webcoos.api.elements.Element`,
:class:`~intake_webcoos.api.elements.Page`) and of inventories
(:class:`~intake_webcoos.api.inventory.InventoryBin`) live in their own modules.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from math import isfinite
from typing import Any

from intake_webcoos.api.fields import (
    as_object,
    bad_field,
    children,
    envelope,
    field_name,
    opt_array,
    opt_float,
    opt_int,
    opt_object,
    opt_text,
    parse_api_time,
)

__all__ = [
    "Asset",
    "ElementStats",
    "Feed",
    "Product",
    "Service",
    "parse_api_time",
    "product_kind",
    "time_span",
]

@dataclass(frozen=True, slots=True)
class ElementStats:
    """Element statistics of one service (its ``elements`` block).

    Attributes
    ----------
    count : int
        Number of elements (0 for streaming services).
    size : int or None
        Total bytes, None when the service has no elements.
    first_starting, last_starting : datetime or None
        Start time (UTC) of the first and of the last element.
    first_ending, last_ending : datetime or None
        End times; only set for result products (detections).
    """

    count: int
    size: int | None
    first_starting: datetime | None
    last_starting: datetime | None
    first_ending: datetime | None
    last_ending: datetime | None

    @classmethod
    def from_json(cls, obj: Any, *, where: str = "") -> ElementStats:
        """Build from an ``elements`` block; a missing (None) block means no elements."""
        where = where or "elements"
        obj = opt_object(obj, where)

        def time(key: str) -> datetime | None:
            return parse_api_time(obj.get(key), field_name(where, key))

        return cls(
            count=opt_int(obj.get("count"), field_name(where, "count")) or 0,
            size=opt_int(obj.get("size"), field_name(where, "size")),
            first_starting=time("first_starting"),
            last_starting=time("last_starting"),
            first_ending=time("first_ending"),
            last_ending=time("last_ending"),
        )


@dataclass(frozen=True, slots=True)
class Service:
    """One service of a product: an S3 file store or a live stream.

    Attributes
    ----------
    uuid, slug, label : str
        Identity; ``slug`` looks like ``"<asset>-<product>-s3"`` or ``"<asset>-streams"``.
        The label is free text (``"image-gallery"``...) and defaults to the slug.
    type : str or None
        ``"S3Service"`` or ``"StreamingService"``.
    url, path, bucket, region, base_url : str or None
        Where an S3 service keeps its element files; None for streams.
    frequency_type : str or None
        ``"periodic"`` or ``"static"``; None for older services without ``frequency``.
    frequency_value : str or None
        ISO 8601 duration such as ``"PT1M"``; often None.
    stats : ElementStats
        Counts, bytes and time range of the service's elements.
    connections : tuple of dict
        Stream endpoints (``url``, ``name``, ``protocol``...) of a streaming service.
    """

    uuid: str
    slug: str
    label: str
    type: str | None
    url: str | None
    path: str | None
    bucket: str | None
    region: str | None
    base_url: str | None
    frequency_type: str | None
    frequency_value: str | None
    stats: ElementStats
    connections: tuple[dict[str, Any], ...] = ()

    @property
    def is_s3(self) -> bool:
        """True when the service holds element files (an ``S3Service``)."""
        return self.type == "S3Service"

    @classmethod
    def from_json(cls, obj: Any, *, where: str = "") -> Service:
        """Build from a service node as nested in an asset."""
        uuid, data, _, slug, label = envelope(obj, where)
        props_name = field_name(where, "data.properties")
        props = opt_object(data.get("properties"), props_name)
        freq_name = field_name(props_name, "frequency")
        freq = opt_object(props.get("frequency"), freq_name)
        conn_name = field_name(props_name, "connections")
        connections = tuple(
            # copied so the record does not share mutable state with the payload
            dict(as_object(conn, f"{conn_name}[{i}]"))
            for i, conn in enumerate(opt_array(props.get("connections"), conn_name))
        )

        def prop(key: str) -> str | None:
            return opt_text(props.get(key), field_name(props_name, key))

        return cls(
            uuid=uuid,
            slug=slug,
            label=label,
            type=opt_text(data.get("type"), field_name(where, "data.type")),
            url=prop("url"),
            path=prop("path"),
            bucket=prop("bucket"),
            region=prop("region"),
            base_url=prop("base_url"),
            frequency_type=opt_text(freq.get("type"), field_name(freq_name, "type")),
            frequency_value=opt_text(freq.get("value"), field_name(freq_name, "value")),
            stats=ElementStats.from_json(obj.get("elements"), where=field_name(where, "elements")),
            connections=connections,
        )


def time_span(services: Sequence[Service]) -> tuple[datetime | None, datetime | None]:
    """The earliest first and the latest last element start over ``services``.

    From the services' statistics; ``(None, None)`` when none has an element.
    """
    firsts = [s.stats.first_starting for s in services if s.stats.first_starting]
    lasts = [s.stats.last_starting for s in services if s.stats.last_starting]
    return min(firsts, default=None), max(lasts, default=None)


def product_kind(slug: str) -> str:
    """What a product's files hold, by the naming WebCOOS uses for its products.

    ``"results"`` (``*-results``: detection results, JSON), ``"video"`` (clips:
    ``video-archive``, ``time-lapse``), ``"image"`` (``*-stills``, ``*-image``)
    or ``"other"``.
    """
    if slug.endswith("-results"):
        return "results"
    if "video" in slug or slug == "time-lapse":
        return "video"
    if "stills" in slug or "image" in slug:
        return "image"
    return "other"


@dataclass(frozen=True, slots=True)
class Product:
    """A product of a camera (``one-minute-stills``, ``video-archive``...).

    Attributes
    ----------
    uuid, slug, label : str
        Identity; the label defaults to the slug.
    services : tuple of Service
        Its services; one product may hold both an S3 and a streaming service.
    """

    uuid: str
    slug: str
    label: str
    services: tuple[Service, ...] = ()

    @property
    def kind(self) -> str:
        """What its files hold: see :func:`product_kind`."""
        return product_kind(self.slug)

    @property
    def s3_services(self) -> tuple[Service, ...]:
        """The services that hold element files, in payload order."""
        return tuple(s for s in self.services if s.is_s3)

    @classmethod
    def from_json(cls, obj: Any, *, where: str = "") -> Product:
        """Build from a product node as nested in an asset."""
        uuid, _, _, slug, label = envelope(obj, where)
        return cls(uuid, slug, label, children(obj, "services", where, Service.from_json))


@dataclass(frozen=True, slots=True)
class Feed:
    """A feed of a camera; in practice always ``raw-video-data``.

    Attributes
    ----------
    uuid, slug, label : str
        Identity; the label defaults to the slug.
    products : tuple of Product
        The feed's products.
    """

    uuid: str
    slug: str
    label: str
    products: tuple[Product, ...] = ()

    @classmethod
    def from_json(cls, obj: Any, *, where: str = "") -> Feed:
        """Build from a feed node as nested in an asset."""
        uuid, _, _, slug, label = envelope(obj, where)
        return cls(uuid, slug, label, children(obj, "products", where, Product.from_json))


@dataclass(frozen=True, slots=True)
class Asset:
    """A camera with its feeds, products and services.

    Attributes
    ----------
    uuid, slug, label : str
        Identity; ``label`` is the human name (defaults to the slug).
    description : str or None
        Free text (Markdown).
    group, source : str or None
        Owning group (``"uh"``, ``"surfline"``...) and source (``"webcoos"``).
    latitude, longitude : float or None
        Camera position, from the GeoJSON point ``[lon, lat]``.
    timezone : str or None
        IANA name of the camera's local time zone (``"US/Hawaii"``...).
    disposition : str or None
        ``"up"``, ``"archived"``, ``"abnormal"``, ``"down"``...
    thumbnails : Mapping of str to str
        Thumbnail URLs by size name (``rect_medium``...); the inline ``lqip`` is left out.
    feeds : tuple of Feed
        The camera's feeds.
    state, region : str or None
        US state or territory (``"HI"``) and IOOS region (``"PACIOOS"``) of the
        camera; newer payloads only, None when absent or blank.
    wedge : tuple of (float, float), or None
        The view cone: the ``(lon, lat)`` vertices of the exterior ring of the
        GeoJSON polygon, as given (closed); None for cameras without one.
    """

    uuid: str
    slug: str
    label: str
    description: str | None
    group: str | None
    source: str | None
    latitude: float | None
    longitude: float | None
    timezone: str | None
    disposition: str | None
    # a plain dict (not a MappingProxyType) so that records pickle for dask workers
    thumbnails: Mapping[str, str] = field(default_factory=dict)
    feeds: tuple[Feed, ...] = ()
    state: str | None = None
    region: str | None = None
    wedge: tuple[tuple[float, float], ...] | None = None

    @property
    def products(self) -> tuple[Product, ...]:
        """All products across the feeds, in payload order."""
        return tuple(p for f in self.feeds for p in f.products)

    @property
    def archived(self) -> bool:
        """True for cameras that only hold past data."""
        return self.disposition == "archived"

    def product(self, slug: str) -> Product | None:
        """Return the first product with this slug, or None."""
        for feed in self.feeds:
            for product in feed.products:
                if product.slug == slug:
                    return product
        return None

    @classmethod
    def from_json(cls, obj: Any, *, where: str = "") -> Asset:
        """Build from one asset object (an item of ``/assets/`` or ``/assets/{slug}/``)."""
        uuid, data, common, slug, label = envelope(obj, where)
        props_name = field_name(where, "data.properties")
        props = opt_object(data.get("properties"), props_name)

        loc_name = field_name(props_name, "location")
        location = opt_object(props.get("location"), loc_name)
        longitude = latitude = None
        if location.get("coordinates") is not None:
            longitude, latitude = _lon_lat(location["coordinates"],
                                           field_name(loc_name, "coordinates"))

        thumbs_name = field_name(props_name, "thumbnails")
        thumbs = opt_object(props.get("thumbnails"), thumbs_name)
        base_name = field_name(thumbs_name, "base")
        base = opt_object(thumbs.get("base"), base_name)
        thumbnails = {
            size: url
            for size, url in base.items()
            # lqip is an inline base64 JPEG, not a URL
            if size != "lqip" and opt_text(url, field_name(base_name, str(size))) is not None
        }

        disposition = obj.get("disposition")
        if disposition is None or type(disposition) is str:
            disposition_slug = disposition
        else:
            disp_name = field_name(where, "disposition")
            disposition_slug = opt_text(
                as_object(disposition, disp_name).get("slug"), field_name(disp_name, "slug")
            )

        def text(key: str, node: Mapping[str, Any], node_name: str) -> str | None:
            return opt_text(node.get(key), field_name(node_name, key))

        return cls(
            uuid=uuid,
            slug=slug,
            label=label,
            description=text("description", common, field_name(where, "data.common")),
            group=text("group", props, props_name),
            source=text("source", props, props_name),
            latitude=latitude,
            longitude=longitude,
            timezone=text("timezone", props, props_name),
            disposition=disposition_slug,
            thumbnails=thumbnails,
            feeds=children(obj, "feeds", where, Feed.from_json),
            state=text("state_or_territory", props, props_name) or None,
            region=text("region", props, props_name) or None,
            wedge=_wedge(props.get("wedge"), field_name(props_name, "wedge")),
        )


def _lon_lat(value: Any, name: str) -> tuple[float | None, float | None]:
    """A GeoJSON position ``[lon, lat, ...]``; a null coordinate gives None."""
    coords = opt_array(value, name)
    if len(coords) < 2:
        raise bad_field(name, "[longitude, latitude]", value)
    return opt_float(coords[0], f"{name}[0]"), opt_float(coords[1], f"{name}[1]")


def _wedge(value: Any, name: str) -> tuple[tuple[float, float], ...] | None:
    """The exterior ring of the view-cone polygon; absent, null or empty gives None."""
    polygon = opt_object(value, name)
    kind = polygon.get("type")
    if kind not in (None, "Polygon"):
        raise bad_field(field_name(name, "type"), "'Polygon'", kind)
    rings_name = field_name(name, "coordinates")
    rings = opt_array(polygon.get("coordinates"), rings_name)
    if not rings:
        return None
    ring_name = f"{rings_name}[0]"
    ring = opt_array(rings[0], ring_name)
    if len(ring) < 3:
        raise bad_field(ring_name, "a ring of at least 3 positions", rings[0])
    vertices = []
    for i, position in enumerate(ring):
        # Finite floats, the usual case, skip the readers (and naming the field).
        if type(position) is list and len(position) >= 2:
            lon, lat = position[0], position[1]
            if type(lon) is float and type(lat) is float and isfinite(lon + lat):
                vertices.append((lon, lat))
                continue
        lon, lat = _lon_lat(position, f"{ring_name}[{i}]")
        if lon is None or lat is None:
            raise bad_field(f"{ring_name}[{i}]", "[longitude, latitude] numbers", position)
        vertices.append((lon, lat))
    return tuple(vertices)
