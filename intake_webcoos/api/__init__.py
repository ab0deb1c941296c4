"""The WebCOOS data API: the HTTP client, its typed records, and (re-exported) the errors."""

from intake_webcoos.api.client import AsyncClient
from intake_webcoos.api.config import Settings
from intake_webcoos.api.elements import Element, Page
from intake_webcoos.api.inventory import InventoryBin, parse_inventory
from intake_webcoos.api.models import Asset, ElementStats, Feed, Product, Service, parse_api_time
from intake_webcoos.api.sync import Client
from intake_webcoos.errors import *  # noqa: F403
from intake_webcoos.errors import __all__ as _errors

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
