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
    "open_video": "intake_webcoos.video",
    "read_results": "intake_webcoos.results",
}

if TYPE_CHECKING:
    from .api.client import AsyncClient
    from .api.sync import Client
    from .fs import WebcoosFileSystem
    from .images import open_images
    from .results import read_results
    from .video import open_video

__all__ = [
    "AsyncClient",
    "Client",
    "WebcoosFileSystem",
    "__version__",
    "open_images",
    "open_video",
    "read_results",
]


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
