"""The entries of ``webcoos://`` listings: folders and files as fsspec's ``info`` dicts."""

from __future__ import annotations

from typing import Any

import pandas as pd

from intake_webcoos import paths
from intake_webcoos.api.elements import Element
from intake_webcoos.api.models import Asset


def directory(name: str, size: int | None = 0, count: int | None = 0,
              **extra: Any) -> dict[str, Any]:
    """A folder's entry: its total bytes and files (None when unknown)."""
    return {"name": name, "type": "directory", "size": size if size is None else int(size),
            "count": count if count is None else int(count), **extra}


def total(values: pd.Series) -> int | None:
    """The sum of a folder's days, or None when some are unknown (only the extent is)."""
    return None if values.isna().any() else int(values.sum())


def file_info(folder: str, element: Element, service: str) -> dict[str, Any]:
    """The entry of an element's file in ``folder`` (its day)."""
    return {"name": paths.join(folder, element.label), "type": "file", "size": element.size,
            "url": element.url, "time": element.time, "end": element.end,
            "duration": element.duration, "uuid": element.uuid, "service": service}


def service_totals(services) -> tuple[int, int]:
    """Bytes and files of services, from their statistics."""
    return (sum(s.stats.size or 0 for s in services), sum(s.stats.count for s in services))


def asset_totals(asset: Asset) -> tuple[int, int]:
    """Bytes and files of a camera's services that have files."""
    return service_totals([s for p in asset.products for s in p.s3_services])
