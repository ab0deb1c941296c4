"""A stand-in WebCOOS server: the real API's routes and payloads over loopback.

Tests, the demo and the benchmarks run against it; nothing in the library
imports it.  Start it with ``with StandIn() as s:`` (background thread) or
``python -m intake_webcoos.server`` (foreground).
"""

from .faults import Faults
from .standin import StandIn
from .video import VideoSettings

__all__ = ["Faults", "StandIn", "VideoSettings"]
