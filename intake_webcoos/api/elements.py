"""Typed records of element listings: one :class:`Element` per file, and :class:`Page`.

Element parsing runs tens of thousands of times per listing, so its common
case uses direct type checks and only falls back to the tolerant readers of
:mod:`~intake_webcoos.api.fields` for odd values.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from math import isfinite
from typing import Any
from urllib.parse import unquote, urlsplit

from intake_webcoos.api.fields import (
    as_object,
    as_text,
    bad_field,
    field_name,
    opt_float,
    opt_int,
    opt_object,
    opt_text,
    parse_api_time,
    required_time,
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

    @staticmethod
    def essentials(obj: Any) -> Any:
        """The parts of an element object that :meth:`from_json` reads (what a cache keeps).

        An object of another shape is returned whole, so that it fails (and is
        named) exactly as it would have.
        """
        try:
            data, props = obj["data"], obj["data"]["properties"]
            thumbs = props.get("thumbnails")
            base = thumbs.get("base") if type(thumbs) is dict else None
            kept_props = {k: props[k] for k in ("url", "size", "duration") if k in props}
            if type(base) is dict:
                kept_props["thumbnails"] = {"base": {"rect_medium": base.get("rect_medium")}}
            elif "thumbnails" in props:
                kept_props["thumbnails"] = thumbs
            common = data.get("common")
            label = {"label": common.get("label")} if type(common) is dict else common
            return {"uuid": obj["uuid"], "data": {
                "common": label, "extents": data["extents"], "properties": kept_props}}
        except (KeyError, TypeError, AttributeError):
            return obj

    @classmethod
    def from_json(cls, obj: Any, *, where: str = "") -> Element:
        """Build from one element object (an item of ``/elements/`` or a latest-element body).

        Called tens of thousands of times per listing, so the common case uses
        direct type checks and dict access and only calls the helpers for odd values.
        """
        if type(obj) is not dict:
            obj = as_object(obj, where or "<element>")
        uuid = obj.get("uuid")
        if type(uuid) is not str or not uuid:
            uuid = as_text(uuid, field_name(where, "uuid"))
        data = obj.get("data")
        if type(data) is not dict:
            data = as_object(data, field_name(where, "data"))
        props = data.get("properties")
        if type(props) is not dict:
            props = as_object(props, field_name(where, "data.properties"))
        url = props.get("url")
        if type(url) is not str or not url.startswith(_HTTP):
            url = _http_url(url, field_name(where, "data.properties.url"))

        extents = data.get("extents")
        if type(extents) is not dict:
            extents = as_object(extents, field_name(where, "data.extents"))
        temporal = extents.get("temporal")
        if type(temporal) is not dict:
            temporal = as_object(temporal, field_name(where, "data.extents.temporal"))
        start = temporal.get("min")
        try:
            time = datetime.fromisoformat(start)
        except (TypeError, ValueError):
            time = None
        if time is None or time.tzinfo is not UTC:  # naive or another offset: the general parser
            time = required_time(start, field_name(where, "data.extents.temporal.min"))
        end = temporal.get("max")
        if end is not None:
            end = parse_api_time(end, field_name(where, "data.extents.temporal.max"))

        size = props.get("size")
        if type(size) is not int:
            size = opt_int(size, field_name(where, "data.properties.size"))
        duration = props.get("duration")
        if duration is not None and (type(duration) is not float or not isfinite(duration)):
            duration = opt_float(duration, field_name(where, "data.properties.duration"))

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


_HTTP = ("http://", "https://")


def _http_url(value: Any, name: str) -> str:
    """An element's URL: only http(s) is fetched (never ``file:``, ``ftp:``...)."""
    url = as_text(value, name)
    if not url.startswith(_HTTP):
        raise bad_field(name, "an http(s) URL", url)
    return url


def _element_thumbnail(thumbs: Any, where: str) -> str | None:
    """``thumbnails.base.rect_medium`` of an element where some level is null or odd."""
    name = field_name(where, "data.properties.thumbnails")
    base = opt_object(opt_object(thumbs, name).get("base"), name + ".base")
    return opt_text(base.get("rect_medium"), name + ".base.rect_medium")


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
    common = opt_object(common, field_name(where, "data.common"))
    label = _file_name(opt_text(common.get("label"), field_name(where, "data.common.label")) or "")
    if label:
        return label
    label = _file_name(unquote(urlsplit(url).path.rpartition("/")[2]))
    if not label:
        raise bad_field(field_name(where, "data.common.label"), "a file name (the URL has none)",
                        url)
    return label


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
        obj = as_object(obj, where or "<page>")
        results = obj.get("results")
        if type(results) is not list:
            raise bad_field(field_name(where, "results"), "an array", results)
        block_name = field_name(where, "pagination")
        block = obj.get("pagination")
        if block is None:
            # no nested block: DRF's default top-level keys, or nothing at all
            block, block_name = obj, where
        else:
            block = as_object(block, block_name)

        def integer(key: str) -> int | None:
            return opt_int(block.get(key), field_name(block_name, key))

        def link(key: str) -> str | None:
            return opt_text(block.get(key), field_name(block_name, key)) or None

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
