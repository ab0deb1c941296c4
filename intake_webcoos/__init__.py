"""intake_webcoos: the WebCOOS coastal webcam archive as PyData objects.

Importing the package is cheap: the client and the other faces load on first
use, because ``import intake`` imports our intake entry point, and with it
this package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0.dev0"

_LAZY = {
    "Client": "intake_webcoos.api.sync",
    "AsyncClient": "intake_webcoos.api.client",
    "WebcoosFileSystem": "intake_webcoos.fs",
    "open_images": "intake_webcoos.images",
}

if TYPE_CHECKING:
    from .api.client import AsyncClient
    from .api.sync import Client
    from .fs import WebcoosFileSystem
    from .images import open_images

__all__ = ["AsyncClient", "Client", "WebcoosFileSystem", "__version__", "open_images"]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'intake_webcoos' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
