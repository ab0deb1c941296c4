"""What each kind of product holds, and which function reads it.

WebCOOS names its products by what they hold (``one-minute-stills``,
``video-archive``, ``rip-detection-results``...); :func:`product_kind
<intake_webcoos.api.models.product_kind>` reads that naming, and the file
extension settles a name it does not know.  A product given to the wrong reader
gets an error that names the right one.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

from intake_webcoos.api.models import product_kind
from intake_webcoos.errors import ProductKindError

#: The function that reads each kind of product, as the error shows it.
READERS = {
    "image": "intake_webcoos.open_images(camera, product, start, end) (stills as a cube)",
    "video": "intake_webcoos.open_video(camera, product, start, end) (frames of clips)",
    "results": "intake_webcoos.read_results(camera, product, start, end) (a table of "
               "detections)",
}
HOLDS = {"image": "stills", "video": "video clips", "results": "detection results"}
_EXTENSIONS = {".jpg": "image", ".jpeg": "image", ".png": "image", ".mp4": "video",
               ".mov": "video", ".json": "results", ".jsonl": "results"}


def kind_of(product: str, url: str | None = None) -> str:
    """The kind of a product: by its name, else by the extension of one of its files."""
    kind = product_kind(product)
    if kind == "other" and url is not None:
        extension = os.path.splitext(urlsplit(url).path)[1].lower()
        kind = _EXTENSIONS.get(extension, "other")
    return kind


def check_kind(camera: str, product: str, wanted: str, url: str | None = None) -> None:
    """Refuse, naming the right function, a product that is not of the ``wanted`` kind.

    A product whose kind cannot be told (``other``, no file to look at) passes.

    Raises
    ------
    ProductKindError
        The product holds another kind of file.
    """
    kind = kind_of(product, url)
    if kind in (wanted, "other"):
        return
    raise ProductKindError(
        f"{camera}/{product} holds {HOLDS[kind]}, not {HOLDS[wanted]}: read it with "
        f"{READERS[kind]}.")
