"""Building intake catalogs of WebCOOS cameras (the heavy half of ``intake_readers``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from intake.readers.entry import Catalog, ReaderDescription
from intake.readers.user_parameters import SimpleUserParameter

from intake_webcoos.api.geo import as_box, in_box
from intake_webcoos.api.models import Asset, Product, Service, product_kind, time_span
from intake_webcoos.api.sync import Client
from intake_webcoos.api.times import time_range, to_utc
from intake_webcoos.intake.readers import (
    TOKEN_TEMPLATE,
    WebcoosAPI,
    WebcoosCatalogReader,
    WebcoosElementsReader,
    WebcoosImagesReader,
    WebcoosResultsReader,
    WebcoosVideoReader,
)

#: How far back from a product's newest element an entry reads by default:
#: a cube of an hour of stills is a sensible first look, a year of it is not.
DEFAULT_WINDOWS = {
    WebcoosImagesReader: pd.Timedelta(hours=1),
    WebcoosVideoReader: pd.Timedelta(minutes=30),
    WebcoosResultsReader: pd.Timedelta(days=1),
    WebcoosElementsReader: pd.Timedelta(days=1),
}
IMAGE_OPTIONS = {
    "every": (object, None, "keep the first frame of each UTC bin of this width, e.g. '10min'"),
    "scale": (float, 1.0, "decode at 1, 1/2, 1/4 or 1/8 of the size (JPEG DCT scaling)"),
    "grayscale": (bool, False, "one band of luminance instead of RGB"),
    "on_error": (str, "raise", "'raise', or 'mask' unreadable frames (valid=False)"),
}

VIDEO_OPTIONS = {
    "every": (object, None, "keep the first clip of each UTC bin of this width, e.g. '1h'"),
    "sample": (str, "500ms", "keep one frame per this much clip time"),
    "scale": IMAGE_OPTIONS["scale"],
    "grayscale": IMAGE_OPTIONS["grayscale"],
    "on_error": IMAGE_OPTIONS["on_error"],
}


#: The reader of each kind of product (:func:`~intake_webcoos.api.models.product_kind`).
READERS = {"results": WebcoosResultsReader, "video": WebcoosVideoReader,
           "image": WebcoosImagesReader, "other": WebcoosElementsReader}


def reader_for(product: str) -> type:
    """The reader of a product's files, by the naming WebCOOS uses for its products."""
    return READERS[product_kind(product)]


def _stats(services: Sequence[Service]) -> tuple[int, int, pd.Timestamp | None,
                                                 pd.Timestamp | None]:
    first, last = time_span(services)
    return (sum(s.stats.count for s in services), sum(s.stats.size or 0 for s in services),
            pd.Timestamp(first) if first else None, pd.Timestamp(last) if last else None)


def _metadata(asset: Asset, product: Product, services: Sequence[Service]) -> dict[str, Any]:
    count, size, first, last = _stats(services)
    return {
        "camera": asset.slug,
        "label": asset.label,
        "product": product.slug,
        "latitude": asset.latitude,
        "longitude": asset.longitude,
        "timezone": asset.timezone,
        "status": asset.disposition,
        "service": ",".join(s.slug for s in services),
        "count": count,
        "bytes": size,
        "first_time": first.isoformat() if first is not None else None,
        "last_time": last.isoformat() if last is not None else None,
        "thumbnail": asset.thumbnails.get("rect_medium"),
    }


def _entry(reader: type, asset: Asset, product: Product, metadata: dict[str, Any],
           base_url: str | None) -> ReaderDescription:
    """An entry with ``start``/``end`` (and image options) as user parameters."""
    last = pd.Timestamp(metadata["last_time"])
    default_start = (last - DEFAULT_WINDOWS[reader]).isoformat()
    parameters = {
        "start": SimpleUserParameter(str, default=default_start,
                                     description="first time to read (UTC, inclusive)"),
        "end": SimpleUserParameter(str, default=last.isoformat(),
                                   description="last time to read (UTC, inclusive)"),
    }
    if reader is WebcoosImagesReader:
        options = IMAGE_OPTIONS
    elif reader is WebcoosVideoReader:
        options = VIDEO_OPTIONS
    else:
        options = {"every": IMAGE_OPTIONS["every"]} if reader is WebcoosElementsReader else {}
    for name, (dtype, default, description) in options.items():
        parameters[name] = SimpleUserParameter(dtype, default=default, description=description)
    # The values sit in a nested "options" dict: intake 2 would take a top-level
    # keyword named like a parameter as that parameter's new default instead.
    kwargs = {"camera": asset.slug, "product": product.slug, "token": TOKEN_TEMPLATE,
              "options": {name: f"{{{name}}}" for name in parameters}}
    if base_url:
        kwargs["base_url"] = base_url
    return ReaderDescription(reader=reader.qname(), kwargs=kwargs, user_parameters=parameters,
                             metadata=metadata, output_instance=reader.output_instance)


@dataclass(frozen=True)
class _Filters:
    """Which cameras and products a catalog keeps."""

    words: tuple[str, ...] = ()
    bbox: tuple[float, float, float, float] | None = None
    span: tuple[pd.Timestamp, pd.Timestamp] | None = None
    products: tuple[str, ...] = ()
    cameras: tuple[str, ...] = ()
    include_archived: bool = True

    def keeps_asset(self, asset: Asset) -> bool:
        if (self.cameras and asset.slug not in self.cameras) \
                or (asset.archived and not self.include_archived):
            return False
        if self.bbox is not None and not in_box(asset.latitude, asset.longitude, self.bbox):
            return False
        text = " ".join([asset.slug, asset.label, *(p.slug for p in asset.products)]).lower()
        return all(word in text for word in self.words)

    def keeps_product(self, product: Product, metadata: dict[str, Any]) -> bool:
        if (self.products and product.slug not in self.products) or metadata["count"] == 0 \
                or metadata["last_time"] is None:
            return False
        return self.span is None or (to_utc(metadata["first_time"]) <= self.span[1]
                                     and to_utc(metadata["last_time"]) >= self.span[0])


def build_catalog(base_url: str | None = None, token: str | None = None, *,
                  search: str | None = None, bbox: Sequence[float] | None = None,
                  start: Any = None, end: Any = None, products: Sequence[str] | None = None,
                  cameras: Sequence[str] | None = None, include_archived: bool = True,
                  groups: bool = True, store_base_url: bool = True,
                  client: Client | None = None) -> Catalog:
    """An intake Catalog of WebCOOS cameras and their products (one API request).

    Parameters
    ----------
    base_url, token : str, optional
        API root and token (default: the environment, then the real API). The
        token is not stored: entries read ``WEBCOOS_API_TOKEN``.
    search : str, optional
        Words that must all appear in a camera's slug, label or product names.
    bbox : (lon_min, lat_min, lon_max, lat_max), optional
        Keep cameras inside this box (edges included).
    start, end : optional
        Keep products whose data overlap this UTC span (from the service statistics).
    products, cameras : list of str, optional
        Keep only these product slugs / camera slugs.
    include_archived : bool
        Keep archived cameras.
    groups : bool
        Add an entry per camera holding its products together.
    store_base_url : bool
        Write ``base_url`` into the entries; otherwise they read the root from
        ``WEBCOOS_API_URL`` (or use the real API) where the catalog is opened.
    """
    client = client or Client(token, base_url)
    span = None
    if start is not None or end is not None:
        span = time_range(start if start is not None else "1900-01-01",
                          end if end is not None else "2200-01-01")
    bbox = as_box(bbox, "bbox")
    filters = _Filters(tuple(search.lower().split()) if search else (), bbox, span,
                       tuple(products or ()), tuple(cameras or ()), include_archived)
    catalog = Catalog(metadata={
        "description": "WebCOOS webcam archive (https://webcoos.org)",
        "citation": "WebCOOS [year(s) of imagery]; SECOORA is acknowledged for leading the "
                    "WebCOOS program.",
        "filters": {"search": search, "bbox": list(bbox) if bbox else None,
                    "start": str(start) if start is not None else None,
                    "end": str(end) if end is not None else None,
                    "products": list(products) if products else None,
                    "include_archived": include_archived},
    })
    stored_url = (base_url or None) if store_base_url else None
    for asset in client.assets():
        if filters.keeps_asset(asset):
            _add_camera(catalog, asset, filters, stored_url, groups)
    return catalog


def _add_camera(catalog: Catalog, asset: Asset, filters: _Filters, stored_url: str | None,
                groups: bool) -> None:
    """The entries of one camera's products (and of the camera, with ``groups``)."""
    added = False
    for product in asset.products:
        services = list(product.s3_services)
        if not services:
            continue
        metadata = _metadata(asset, product, services)
        if not filters.keeps_product(product, metadata):
            continue
        name = f"{asset.slug}/{product.slug}"
        _add(catalog, name, _entry(reader_for(product.slug), asset, product, metadata,
                                   stored_url))
        _add(catalog, f"{name}/elements",
             _entry(WebcoosElementsReader, asset, product, metadata, stored_url))
        added = True
    if added and groups:
        group = WebcoosCatalogReader(
            WebcoosAPI(stored_url or ""), cameras=[asset.slug], groups=False,
            products=list(filters.products) or None,
            metadata={"camera": asset.slug, "label": asset.label})
        _add(catalog, asset.slug, group)


def _add(catalog: Catalog, name: str, entry: Any) -> None:
    """Add an entry under an alias: intake 2 lists (and tab-completes) aliases only."""
    catalog.aliases[name] = catalog.add_entry(entry)
