"""A stand-in WebCOOS server: the real API's routes and payloads over loopback.

Tests, the demo and the benchmarks run against it; nothing in the library
imports it.  Start it with ``with StandIn() as s:`` (background thread) or
``python -m intake_webcoos.server`` (foreground).  :class:`Faults` make it
misbehave; :class:`Variants` pick among the readings of the real API that the
public record leaves open (:data:`VARIANT_MATRIX` names one per switch).
"""

from intake_webcoos.server.faults import Faults
from intake_webcoos.server.standin import StandIn
from intake_webcoos.server.variants import VARIANT_MATRIX, Variants
from intake_webcoos.server.video import VideoSettings

__all__ = ["VARIANT_MATRIX", "Faults", "StandIn", "Variants", "VideoSettings"]
