"""Where the stand-in's element files are served, and how their URLs are spelled.

The first file origin is path-style S3: ``http://127.0.0.1:PORT1/<bucket>/<key>``.
With :attr:`Variants.file_origins` 2, a second origin serves every other camera
(odd positions in the catalog, ``webcoos`` bucket only) in the legacy
virtual-host style, where the host is the bucket: ``http://127.0.0.1:PORT2/<key>``.
Like S3, each origin serves every object in its addressing style; the variants
only decide which URL the API shows.  Keys are always stored path-style
(:meth:`~intake_webcoos.server.archive.Service.key`).
"""

from __future__ import annotations

from urllib.parse import quote, unquote

from intake_webcoos.server.archive import Archive, Service
from intake_webcoos.server.variants import Variants

#: The bucket that the second (virtual-host style) origin stands for.
HOST_STYLE_BUCKET = "webcoos"


class FileOrigins:
    """The base URLs of the file origins and the URLs of elements on them.

    Parameters
    ----------
    archive : Archive
        The holdings; its ``files_url`` is the first (path-style) origin.
    """

    def __init__(self, archive: Archive) -> None:
        self.urls = [archive.files_url]
        self._host_style_cameras = {
            slug for position, (slug, camera) in enumerate(archive.cameras.items())
            if position % 2 == 1 and camera.bucket == HOST_STYLE_BUCKET
        }

    def add(self, url: str) -> None:
        """Register the second origin's base URL once it listens."""
        self.urls.append(url.rstrip("/"))

    def host_style(self, service: Service, variants: Variants) -> bool:
        """Whether the API points at the second origin for this service's files."""
        return variants.file_origins == 2 and service.camera.slug in self._host_style_cameras

    def base_url(self, service: Service, variants: Variants) -> str:
        """The service's ``properties.base_url``: the origin its files come from."""
        return self.urls[1] if self.host_style(service, variants) else self.urls[0]

    def service_url(self, service: Service, variants: Variants) -> str:
        """The service's ``properties.url``: where its element keys start."""
        if self.host_style(service, variants):
            return f"{self.urls[1]}/{service.path}"
        return service.url

    def element_url(self, service: Service, epoch: int, variants: Variants) -> str:
        """The element's ``properties.url`` as the API lists it under ``variants``."""
        key = service.key(epoch)
        if self.host_style(service, variants):
            base, key = self.urls[1], key.removeprefix(f"{HOST_STYLE_BUCKET}/")
        else:
            base = self.urls[0]
        return f"{base}/{quote(key, safe='/:' if variants.raw_colons else '/')}"

    def canonical_key(self, origin: int, key: str) -> str:
        """The stored (path-style) key that a request for ``key`` on origin ``origin`` names."""
        return key if origin == 0 else f"{HOST_STYLE_BUCKET}/{key}"

    def locate(self, url: str) -> str | None:
        """The stored key of a file URL on any origin (either spelling), or None."""
        for origin, base in enumerate(self.urls):
            if url.startswith(base + "/"):
                return self.canonical_key(origin, unquote(url[len(base) + 1:]))
        return None
