"""Where catalogs saved before version 0.1 look for the readers (kept for them alone).

Saved intake 2 catalogs name a reader by its module; those written before the
readers moved to :mod:`intake_webcoos.intake.readers` say ``intake_webcoos.intake_readers``.
"""

from intake_webcoos.intake.readers import (
    WebcoosAPI,
    WebcoosCatalogReader,
    WebcoosElementsReader,
    WebcoosImagesReader,
    WebcoosResultsReader,
    WebcoosVideoReader,
)

__all__ = ["WebcoosAPI", "WebcoosCatalogReader", "WebcoosElementsReader", "WebcoosImagesReader",
           "WebcoosResultsReader", "WebcoosVideoReader"]
