"""The WebCOOS data API: the HTTP client, its typed records, and (re-exported) the errors."""

from ..errors import *  # noqa: F403
from ..errors import __all__ as _errors
from .client import AsyncClient
from .config import Settings
from .models import (
    Asset,
    Element,
    ElementStats,
    Feed,
    InventoryBin,
    Page,
    Product,
    Service,
    parse_api_time,
    parse_inventory,
)
from .sync import Client

__all__ = [
    "Asset",
    "AsyncClient",
    "Client",
    "Element",
    "ElementStats",
    "Feed",
    "InventoryBin",
    "Page",
    "Product",
    "Service",
    "Settings",
    "parse_api_time",
    "parse_inventory",
    *_errors,
]
