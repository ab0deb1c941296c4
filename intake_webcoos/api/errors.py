"""The error family lives in :mod:`intake_webcoos.errors`; this name keeps older imports working."""

from ..errors import *  # noqa: F403
from ..errors import __all__  # noqa: F401
