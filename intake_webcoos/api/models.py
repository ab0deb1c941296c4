"""Typed records for the objects of the WebCOOS data API.

Every record is a frozen, slotted dataclass built by a ``from_json`` classmethod
from one decoded JSON node.  Parsing is tolerant of what the API is known (or
likely) to vary: optional fields may be absent or ``null``, unknown fields are
ignored, times may carry ``Z`` or any UTC offset, and byte sizes may arrive as
numbers or strings.  Anything of the wrong shape raises
:class:`~intake_webcoos.errors.ResponseFormatError` naming the offending
field, never a bare ``KeyError``/``TypeError`` from deep inside the parser.

All times are returned as timezone-aware :class:`datetime.datetime` in UTC.

Every ``from_json`` takes a keyword ``where``: the position of ``obj`` inside a
larger payload (e.g. ``"results[17]"``), only used to name fields in errors.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from math import isfinite, isnan
from typing import Any
from urllib.parse import unquote, urlsplit

from ..errors import ResponseFormatError

__all__ = [
    "Asset",
    "Element",
    "ElementStats",
    "Feed",
    "InventoryBin",
    "Page",
    "Product",
    "Service",
    "parse_api_time",
    "parse_inventory",
]

# Spellings of "no value" seen in (or expected from) pandas-backed payloads.
_NO_TIME = frozenset({"", "NaT"})
_NO_NUMBER = frozenset({"", "None", "null", "NaN", "nan"})


# ---------------------------------------------------------------- helpers


def _join(where: str, name: str) -> str:
    """Path of a field for error messages (``feeds[0].data.common.slug``)."""
    if not where:
        return name
    if not name or name.startswith("["):
        return where + name
    return f"{where}.{name}"


def _bad(name: str, expected: str, value: Any) -> ResponseFormatError:
    shown = repr(value)
    if len(shown) > 80:
        shown = shown[:77] + "..."
    got = "nothing (missing or null)" if value is None else f"{type(value).__name__} {shown}"
    return ResponseFormatError(
        f"Unexpected WebCOOS response: {name!r} should be {expected}, got {got}. "
        "The API may have changed; update intake_webcoos or report this payload."
    )


def _obj(value: Any, name: str) -> Mapping[str, Any]:
    """A required JSON object."""
    if type(value) is dict or isinstance(value, Mapping):
        return value
    raise _bad(name, "an object", value)


def _opt_obj(value: Any, name: str) -> Mapping[str, Any]:
    """An optional JSON object; absent or null gives an empty mapping."""
    if type(value) is dict or isinstance(value, Mapping):
        return value
    if value is None:
        return {}
    raise _bad(name, "an object or null", value)


def _opt_list(value: Any, name: str) -> Sequence[Any]:
    """An optional JSON array; absent or null gives an empty sequence."""
    if type(value) is list or isinstance(value, tuple):
        return value
    if value is None:
        return ()
    raise _bad(name, "an array or null", value)


def _str(value: Any, name: str) -> str:
    """A required, non-empty string."""
    if type(value) is str and value:
        return value
    raise _bad(name, "a non-empty string", value)


def _opt_str(value: Any, name: str) -> str | None:
    if value is None or type(value) is str:
        return value
    raise _bad(name, "a string or null", value)


def _opt_int(value: Any, name: str) -> int | None:
    """A count or byte size: int, numeric string or integral float; blanks give None."""
    kind = type(value)
    if kind is int:
        return value
    if value is None:
        return None
    if kind is str:
        text = value.strip()
        if text in _NO_NUMBER:
            return None
        try:
            return int(text)
        except ValueError:
            pass
        try:
            number = float(text)  # "1e3", "123.0"
        except ValueError:
            raise _bad(name, "an integer", value) from None
    elif kind is float:
        number = value
    else:
        # bool is an int subclass but never a count; lists and dicts are wrong too
        raise _bad(name, "an integer", value)
    if number.is_integer():
        return int(number)
    raise _bad(name, "an integer", value)  # a fraction, NaN or infinity


def _opt_float(value: Any, name: str) -> float | None:
    """A real number: int, float or numeric string; blanks and NaN give None."""
    kind = type(value)
    if kind is float or kind is int:
        number = float(value)
    elif value is None:
        return None
    elif kind is str:
        text = value.strip()
        if text in _NO_NUMBER:
            return None
        try:
            number = float(text)
        except ValueError:
            raise _bad(name, "a number", value) from None
    else:
        raise _bad(name, "a number", value)
    if isnan(number):
        return None
    if not isfinite(number):
        raise _bad(name, "a finite number", value)
    return number


def parse_api_time(value: Any, field: str) -> datetime | None:
    """Parse a time from an API payload into an aware UTC datetime.

    Parameters
    ----------
    value : str or None
        An ISO 8601 time as the API writes it: ``"2025-09-17T21:57:28Z"``,
        ``"2022-06-14T21:44:15.667000Z"``, ``"2022-06-02 00:00:00+00:00"`` (space
        separator, inventories) or with any other UTC offset.  A time without an
        offset is taken as UTC.
    field : str
        Name of the field, used in the error message.

    Returns
    -------
    datetime or None
        Aware datetime in UTC, or None for ``None``, ``""`` and ``"NaT"``.

    Raises
    ------
    ResponseFormatError
        If ``value`` is not a string or not a time.
    """
    if type(value) is str:
        try:
            # Python >= 3.11 reads "Z", fractions and a space separator natively.
            when = datetime.fromisoformat(value)
        except ValueError:
            text = value.strip()
            if text in _NO_TIME:
                return None
            try:
                when = datetime.fromisoformat(text)
            except ValueError:
                raise _bad(field, "an ISO 8601 time", value) from None
    elif value is None:
        return None
    else:
        raise _bad(field, "an ISO 8601 time string", value)
    tz = when.tzinfo
    if tz is UTC:
        return when
    if tz is None:
        return when.replace(tzinfo=UTC)
    try:
        return when.astimezone(UTC)
    except OverflowError:
        raise _bad(field, "a time within datetime's range in UTC", value) from None


def _required_time(value: Any, name: str) -> datetime:
    when = parse_api_time(value, name)
    if when is None:
        raise _bad(name, "an ISO 8601 time", value)
    return when


def _envelope(obj: Any, where: str) -> tuple[str, Mapping[str, Any], Mapping[str, Any], str, str]:
    """Read the envelope every asset/feed/product/service node shares.

    Returns ``(uuid, data, common, slug, label)``; the label defaults to the slug.
    """
    obj = _obj(obj, where or "<payload>")
    uuid = _str(obj.get("uuid"), _join(where, "uuid"))
    data = _obj(obj.get("data"), _join(where, "data"))
    common = _obj(data.get("common"), _join(where, "data.common"))
    slug = _str(common.get("slug"), _join(where, "data.common.slug"))
    label = _opt_str(common.get("label"), _join(where, "data.common.label")) or slug
    return uuid, data, common, slug, label


def _children(
    obj: Mapping[str, Any], key: str, where: str, parse: Callable[..., Any]
) -> tuple[Any, ...]:
    """Parse the optional child array ``obj[key]`` with ``parse(node, where=...)``."""
    name = _join(where, key)
    return tuple(
        parse(child, where=f"{name}[{i}]") for i, child in enumerate(_opt_list(obj.get(key), name))
    )


# ---------------------------------------------------------------- records


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
        obj = _opt_obj(obj, where)

        def time(key: str) -> datetime | None:
            return parse_api_time(obj.get(key), _join(where, key))

        return cls(
            count=_opt_int(obj.get("count"), _join(where, "count")) or 0,
            size=_opt_int(obj.get("size"), _join(where, "size")),
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
        uuid, data, _, slug, label = _envelope(obj, where)
        props_name = _join(where, "data.properties")
        props = _opt_obj(data.get("properties"), props_name)
        freq_name = _join(props_name, "frequency")
        freq = _opt_obj(props.get("frequency"), freq_name)
        conn_name = _join(props_name, "connections")
        connections = tuple(
            # copied so the record does not share mutable state with the payload
            dict(_obj(conn, f"{conn_name}[{i}]"))
            for i, conn in enumerate(_opt_list(props.get("connections"), conn_name))
        )

        def prop(key: str) -> str | None:
            return _opt_str(props.get(key), _join(props_name, key))

        return cls(
            uuid=uuid,
            slug=slug,
            label=label,
            type=_opt_str(data.get("type"), _join(where, "data.type")),
            url=prop("url"),
            path=prop("path"),
            bucket=prop("bucket"),
            region=prop("region"),
            base_url=prop("base_url"),
            frequency_type=_opt_str(freq.get("type"), _join(freq_name, "type")),
            frequency_value=_opt_str(freq.get("value"), _join(freq_name, "value")),
            stats=ElementStats.from_json(obj.get("elements"), where=_join(where, "elements")),
            connections=connections,
        )


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
    def s3_services(self) -> tuple[Service, ...]:
        """The services that hold element files, in payload order."""
        return tuple(s for s in self.services if s.is_s3)

    @classmethod
    def from_json(cls, obj: Any, *, where: str = "") -> Product:
        """Build from a product node as nested in an asset."""
        uuid, _, _, slug, label = _envelope(obj, where)
        return cls(uuid, slug, label, _children(obj, "services", where, Service.from_json))


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
        uuid, _, _, slug, label = _envelope(obj, where)
        return cls(uuid, slug, label, _children(obj, "products", where, Product.from_json))


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
        uuid, data, common, slug, label = _envelope(obj, where)
        props_name = _join(where, "data.properties")
        props = _opt_obj(data.get("properties"), props_name)

        latitude = longitude = None
        loc_name = _join(props_name, "location")
        location = _opt_obj(props.get("location"), loc_name)
        if location.get("coordinates") is not None:
            coords_name = _join(loc_name, "coordinates")
            coords = _opt_list(location["coordinates"], coords_name)
            if len(coords) < 2:
                raise _bad(coords_name, "[longitude, latitude]", coords)
            longitude = _opt_float(coords[0], f"{coords_name}[0]")
            latitude = _opt_float(coords[1], f"{coords_name}[1]")

        thumbs_name = _join(props_name, "thumbnails")
        thumbs = _opt_obj(props.get("thumbnails"), thumbs_name)
        base_name = _join(thumbs_name, "base")
        base = _opt_obj(thumbs.get("base"), base_name)
        thumbnails = {
            size: url
            for size, url in base.items()
            # lqip is an inline base64 JPEG, not a URL
            if size != "lqip" and _opt_str(url, _join(base_name, str(size))) is not None
        }

        disposition = obj.get("disposition")
        if disposition is None or type(disposition) is str:
            disposition_slug = disposition
        else:
            disp_name = _join(where, "disposition")
            disposition_slug = _opt_str(
                _obj(disposition, disp_name).get("slug"), _join(disp_name, "slug")
            )

        def text(key: str, node: Mapping[str, Any], node_name: str) -> str | None:
            return _opt_str(node.get(key), _join(node_name, key))

        return cls(
            uuid=uuid,
            slug=slug,
            label=label,
            description=text("description", common, _join(where, "data.common")),
            group=text("group", props, props_name),
            source=text("source", props, props_name),
            latitude=latitude,
            longitude=longitude,
            timezone=text("timezone", props, props_name),
            disposition=disposition_slug,
            thumbnails=thumbnails,
            feeds=_children(obj, "feeds", where, Feed.from_json),
        )


@dataclass(frozen=True, slots=True)
class Element:
    """One element (file) of a service: a still, a clip or a result file.

    Attributes
    ----------
    uuid : str
        Element id.
    label : str
        File name (``"waikiki_sheraton-2025-09-17-215728Z.jpg"``), always one path
        component; defaults to the percent-decoded basename of ``url``.
    time : datetime
        Start (capture) time, UTC, from ``data.extents.temporal.min``.
    end : datetime or None
        End time, from ``data.extents.temporal.max`` when present.
    url : str
        Public download URL (no token needed).
    size : int or None
        Bytes, when the API gives them.
    duration : float or None
        Seconds for clips; None for stills.
    thumbnail : str or None
        URL of the medium thumbnail.
    """

    uuid: str
    label: str
    time: datetime
    end: datetime | None
    url: str
    size: int | None
    duration: float | None
    thumbnail: str | None

    @property
    def filename(self) -> str:
        """File name of the element (its label)."""
        return self.label

    @classmethod
    def from_json(cls, obj: Any, *, where: str = "") -> Element:
        """Build from one element object (an item of ``/elements/`` or a latest-element body).

        Called tens of thousands of times per listing, so the common case uses
        direct type checks and dict access and only calls the helpers for odd values.
        """
        if type(obj) is not dict:
            obj = _obj(obj, where or "<element>")
        uuid = obj.get("uuid")
        if type(uuid) is not str or not uuid:
            uuid = _str(uuid, _join(where, "uuid"))
        data = obj.get("data")
        if type(data) is not dict:
            data = _obj(data, _join(where, "data"))
        props = data.get("properties")
        if type(props) is not dict:
            props = _obj(props, _join(where, "data.properties"))
        url = props.get("url")
        if type(url) is not str or not url:
            url = _str(url, _join(where, "data.properties.url"))

        extents = data.get("extents")
        if type(extents) is not dict:
            extents = _obj(extents, _join(where, "data.extents"))
        temporal = extents.get("temporal")
        if type(temporal) is not dict:
            temporal = _obj(temporal, _join(where, "data.extents.temporal"))
        start = temporal.get("min")
        try:
            time = datetime.fromisoformat(start)
            if time.tzinfo is not UTC:
                raise ValueError  # naive or another offset: let the general parser convert
        except (TypeError, ValueError):
            time = _required_time(start, _join(where, "data.extents.temporal.min"))
        end = temporal.get("max")
        if end is not None:
            end = parse_api_time(end, _join(where, "data.extents.temporal.max"))

        size = props.get("size")
        if type(size) is not int:
            size = _opt_int(size, _join(where, "data.properties.size"))
        duration = props.get("duration")
        if duration is not None and (type(duration) is not float or not isfinite(duration)):
            duration = _opt_float(duration, _join(where, "data.properties.duration"))

        thumbs = props.get("thumbnails")
        base = thumbs.get("base") if type(thumbs) is dict else None
        thumbnail = base.get("rect_medium") if type(base) is dict else None
        if type(thumbnail) is not str and thumbs is not None:
            # some level is null or oddly typed: let the checked path decide
            thumbnail = _element_thumbnail(thumbs, where)

        common = data.get("common")
        label = common.get("label") if type(common) is dict else None
        if type(label) is not str or not label or "/" in label or "\\" in label \
                or "\x00" in label or label in _DOT_NAMES:  # not one plain file name
            label = _element_label(common, url, where)
        return cls(uuid, label, time, end, url, size, duration, thumbnail)


def _element_thumbnail(thumbs: Any, where: str) -> str | None:
    """``thumbnails.base.rect_medium`` of an element where some level is null or odd."""
    name = _join(where, "data.properties.thumbnails")
    base = _opt_obj(_opt_obj(thumbs, name).get("base"), name + ".base")
    return _opt_str(base.get("rect_medium"), name + ".base.rect_medium")


_DOT_NAMES = frozenset({".", ".."})


def _file_name(label: str) -> str:
    """``label`` as one path component: separators and NUL become ``-``; dot names go."""
    name = label.replace("/", "-").replace("\\", "-").replace("\x00", "-")
    return "" if name in _DOT_NAMES else name


def _element_label(common: Any, url: str, where: str) -> str:
    """Label of an element whose ``data.common.label`` is absent, empty or odd.

    Labels name files (in ``webcoos://`` paths and on disk), so one that holds a
    folder (``../x.jpg``, ``/etc/x``) is flattened into a single name, and an
    empty or dot name falls back to the URL's basename.
    """
    common = _opt_obj(common, _join(where, "data.common"))
    label = _file_name(_opt_str(common.get("label"), _join(where, "data.common.label")) or "")
    if label:
        return label
    label = _file_name(unquote(urlsplit(url).path.rpartition("/")[2]))
    if not label:
        raise _bad(_join(where, "data.common.label"), "a file name (the URL has none)", url)
    return label


@dataclass(frozen=True, slots=True)
class InventoryBin:
    """One time bin of a service inventory (``/services/{id}/inventory/``).

    Attributes
    ----------
    starting, ending : datetime
        Bin bounds, UTC.  Daily bins end at the next midnight; monthly bins end
        at the *start* of the month's last day (the API's convention).
    has_data : bool
        Whether any element starts in the bin.
    count : int
        Number of elements in the bin.
    size : int
        Bytes of those elements.
    data_starting, data_ending : datetime or None
        First and last element start in the bin; None for empty bins and for
        the older five-column inventories.
    """

    starting: datetime
    ending: datetime
    has_data: bool
    count: int
    size: int
    data_starting: datetime | None = None
    data_ending: datetime | None = None

    @classmethod
    def from_json(cls, obj: Any, *, where: str = "") -> InventoryBin:
        """Build from one row as a mapping of column name to value.

        The API sends rows as arrays; :func:`parse_inventory` names their
        columns from ``meta.fields`` before calling this.
        """
        obj = _obj(obj, where or "<inventory row>")
        for column in ("starting", "ending", "count", "size"):
            if column not in obj:
                raise _bad(_join(where, column), "an inventory column", None)

        def number(column: str) -> int:
            # an empty bin may plausibly come as null instead of 0
            return _opt_int(obj[column], _join(where, column)) or 0

        count = number("count")
        return cls(
            starting=_required_time(obj["starting"], _join(where, "starting")),
            ending=_required_time(obj["ending"], _join(where, "ending")),
            has_data=(
                _flag(obj["has_data"], _join(where, "has_data")) if "has_data" in obj else count > 0
            ),
            count=count,
            size=number("size"),
            data_starting=parse_api_time(obj.get("data_starting"), _join(where, "data_starting")),
            data_ending=parse_api_time(obj.get("data_ending"), _join(where, "data_ending")),
        )


_FLAGS: dict[Any, bool] = {1: True, 0: False, "1": True, "0": False, "true": True, "false": False}


def _flag(value: Any, name: str) -> bool:
    """``has_data``: typed bool but sent as 1/0; accept true/false and their strings."""
    if type(value) is bool:
        return value
    if type(value) is str:
        value = value.strip().lower()
    if type(value) in (int, str) and value in _FLAGS:
        return _FLAGS[value]
    raise _bad(name, "1, 0, true or false", value)


def parse_inventory(payload: Any) -> dict[str, tuple[InventoryBin, ...]]:
    """Parse a service inventory into bins per resolution.

    Parameters
    ----------
    payload : dict or list
        The ``/services/{id}/inventory/`` response, ``{"results": [...]}``, or
        the bare ``results`` list.  Each result names its columns in
        ``meta.fields``; they are matched by name, so both the seven-column form
        and the older five-column form (no ``data_*``) work.

    Returns
    -------
    dict of str to tuple of InventoryBin
        Bins keyed by the result's ``name`` (``"daily"``, ``"weekly"``,
        ``"monthly"``), in payload order; empty when the service has no data.

    Raises
    ------
    ResponseFormatError
        If the payload does not have this shape.
    """
    if type(payload) is list:
        results, where = payload, ""
    else:
        payload = _obj(payload, "<inventory>")
        results = _opt_list(payload.get("results"), "results")
        where = "results"

    inventory: dict[str, tuple[InventoryBin, ...]] = {}
    for i, result in enumerate(results):
        at = f"{where}[{i}]"
        result = _obj(result, at)
        name = _str(result.get("name"), _join(at, "name"))
        if name in inventory:
            raise _bad(_join(at, "name"), "a name not used by an earlier result", name)
        fields_name = _join(at, "meta.fields")
        meta = _obj(result.get("meta"), _join(at, "meta"))
        columns = []
        for j, spec in enumerate(_opt_list(meta.get("fields"), fields_name)):
            # tolerate the abbreviated form where a field is just its name
            column = spec if type(spec) is str else _obj(spec, f"{fields_name}[{j}]").get("name")
            columns.append(_str(column, f"{fields_name}[{j}].name"))
        rows = []
        values_name = _join(at, "values")
        for j, row in enumerate(_opt_list(result.get("values"), values_name)):
            row_name = f"{values_name}[{j}]"
            if not isinstance(row, list | tuple) or len(row) != len(columns):
                raise _bad(row_name, f"an array of {len(columns)} values (meta.fields)", row)
            record = dict(zip(columns, row, strict=True))
            rows.append(InventoryBin.from_json(record, where=row_name))
        inventory[name] = tuple(rows)
    return inventory


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a list response (``/elements/``, ``/assets/``).

    The API nests paging in a ``pagination`` block (up to nine fields: count,
    page, total_pages, start_index, end_index, next, previous, next_page,
    previous_page).  Only ``count``, ``start_index``, ``end_index`` and ``next``
    are known to be sent everywhere, so every other field is optional; DRF-style
    top-level ``count``/``next``/``previous`` are read when there is no block.

    Attributes
    ----------
    results : list
        The raw result objects, to be parsed by the caller.
    count : int or None
        Total matches over all pages; None when the response does not say.
    page, total_pages : int or None
        1-based page number and number of pages.
    start_index, end_index : int or None
        1-based, inclusive positions of this page's first and last result.
    next, previous : str or None
        Absolute URLs of the neighbouring pages; None at the ends.
    """

    results: list[Any]
    count: int | None = None
    page: int | None = None
    total_pages: int | None = None
    start_index: int | None = None
    end_index: int | None = None
    next: str | None = None
    previous: str | None = None

    @classmethod
    def from_json(cls, obj: Any, *, where: str = "") -> Page:
        """Build from a list response ``{"results": [...], "pagination": {...}}``."""
        obj = _obj(obj, where or "<page>")
        results = obj.get("results")
        if type(results) is not list:
            raise _bad(_join(where, "results"), "an array", results)
        block_name = _join(where, "pagination")
        block = obj.get("pagination")
        if block is None:
            # no nested block: DRF's default top-level keys, or nothing at all
            block, block_name = obj, where
        else:
            block = _obj(block, block_name)

        def integer(key: str) -> int | None:
            return _opt_int(block.get(key), _join(block_name, key))

        def link(key: str) -> str | None:
            return _opt_str(block.get(key), _join(block_name, key)) or None

        return cls(
            results=results,
            count=integer("count"),
            page=integer("page"),
            total_pages=integer("total_pages"),
            start_index=integer("start_index"),
            end_index=integer("end_index"),
            next=link("next"),
            previous=link("previous"),
        )
