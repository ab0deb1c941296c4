"""intake_webcoos: the WebCOOS coastal webcam archive as PyData objects.

Importing the package is cheap: the client and the other faces load on first
use, because ``import intake`` imports our intake entry point, and with it
this package.  The error family is importable from here, and the ``.webcoos``
accessor is registered on xarray's objects as soon as xarray is imported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import wrapt

from intake_webcoos.errors import *  # noqa: F403
from intake_webcoos.errors import __all__ as _errors
from intake_webcoos.version import __version__

_LAZY = {
    "Client": "intake_webcoos.api.sync",
    "AsyncClient": "intake_webcoos.api.client",
    "CameraGeometry": "intake_webcoos.world.geometry",
    "Grid": "intake_webcoos.world.rectify",
    "WebcoosFileSystem": "intake_webcoos.fs",
    "open_images": "intake_webcoos.cube.stills",
    "open_video": "intake_webcoos.cube.video",
    "read_results": "intake_webcoos.cube.results",
    "solve_extrinsics": "intake_webcoos.world.gcp",
}

if TYPE_CHECKING:
    from intake_webcoos.api.client import AsyncClient
    from intake_webcoos.api.sync import Client
    from intake_webcoos.cube.results import read_results
    from intake_webcoos.cube.stills import open_images
    from intake_webcoos.cube.video import open_video
    from intake_webcoos.fs import WebcoosFileSystem
    from intake_webcoos.world.gcp import solve_extrinsics
    from intake_webcoos.world.geometry import CameraGeometry
    from intake_webcoos.world.rectify import Grid

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
    from intake_webcoos import accessor  # noqa: F401  (registers .webcoos on import)


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
