"""intake_webcoos: the WebCOOS coastal webcam archive as PyData objects.

Importing the package is cheap: the client and the other faces load on first
use, because ``import intake`` imports our intake entry point, and with it
this package.  The error family is importable from here, and the ``.webcoos``
accessor is registered on xarray's objects as soon as xarray is imported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import wrapt

from .errors import *  # noqa: F403
from .errors import __all__ as _errors

__version__ = "0.1.0.dev0"

_LAZY = {
    "Client": "intake_webcoos.api.sync",
    "AsyncClient": "intake_webcoos.api.client",
    "CameraGeometry": "intake_webcoos.geometry",
    "Grid": "intake_webcoos.rectify",
    "WebcoosFileSystem": "intake_webcoos.fs",
    "open_images": "intake_webcoos.images",
    "open_video": "intake_webcoos.video",
    "read_results": "intake_webcoos.results",
    "solve_extrinsics": "intake_webcoos.gcp",
}

if TYPE_CHECKING:
    from .api.client import AsyncClient
    from .api.sync import Client
    from .fs import WebcoosFileSystem
    from .gcp import solve_extrinsics
    from .geometry import CameraGeometry
    from .images import open_images
    from .rectify import Grid
    from .results import read_results
    from .video import open_video

__all__ = [
    "AsyncClient",
    "CameraGeometry",
    "Client",
    "Grid",
    "WebcoosFileSystem",
    "__version__",
    "open_images",
    "open_video",
    "read_results",
    "solve_extrinsics",
    *_errors,
]


def _register_accessor(xarray: Any) -> None:
    from . import imaging  # noqa: F401  (registers .webcoos on import)


# Registered when xarray is imported (at once if it already is), so that
# ``ds.webcoos`` works on any Dataset while ``import intake`` stays light.
wrapt.register_post_import_hook(_register_accessor, "xarray")


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
