"""intake v1 drivers (``intake.drivers``): thin adapters over the intake 2 readers.

Registered as ``webcoos_cat``, ``webcoos_elements`` and ``webcoos_images``, so
``intake.open_webcoos_images(...)`` and v1 YAML catalogs (``sources:`` with
``driver: webcoos_images``) keep working.  All reading is done by the readers
of :mod:`intake_webcoos.intake.readers`.
"""

from __future__ import annotations

from typing import Any

from intake.catalog.base import Catalog as V1Catalog
from intake.catalog.local import LocalCatalogEntry
from intake.source.base import DataSource, Schema

from intake_webcoos.intake.readers import WebcoosElementsReader, WebcoosImagesReader
from intake_webcoos.version import __version__


class _Source(DataSource):
    """Holds a reader and its output; the token stays out of the captured arguments."""

    version = __version__

    def __init__(self, reader, metadata: dict | None = None) -> None:
        super().__init__(metadata=metadata)
        self._captured_init_kwargs.pop("token", None)  # never serialised by .yaml()
        self._reader = reader
        self._data = None

    def _load(self):
        if self._data is None:
            self._data = self._reader.read()
        return self._data

    def _close(self) -> None:
        self._data = None


class WebcoosImagesSource(_Source):
    """A camera's stills as a lazy xarray Dataset (v1 ``xarray`` container).

    Parameters are those of :func:`intake_webcoos.open_images` (``asset`` is the
    camera's name in catalogs saved before 0.1: kept for them).
    """

    name = "webcoos_images"
    container = "xarray"
    partition_access = True

    def __init__(self, camera: str | None = None, product: str | None = None,
                 start: Any = None, end: Any = None, every: Any = None, scale: float = 1,
                 grayscale: bool = False, chunks: Any = None, coerce_shape: Any = None,
                 on_error: str = "raise", cache: bool = False, max_frames: int | None = None,
                 base_url: str | None = None, token: str | None = None,
                 metadata: dict | None = None, asset: str | None = None,
                 **client_options: Any) -> None:
        options = {"start": start, "end": end, "every": every, "scale": scale,
                   "grayscale": grayscale, "chunks": chunks, "coerce_shape": coerce_shape,
                   "on_error": on_error, "cache": cache, "max_frames": max_frames,
                   **client_options}
        super().__init__(WebcoosImagesReader(camera=camera, product=product, asset=asset,
                                             options=options, base_url=base_url, token=token),
                         metadata)

    def _get_schema(self) -> Schema:
        ds = self._load()
        self.npartitions = ds["image"].data.npartitions
        image = ds["image"]
        structure = {"dims": dict(ds.sizes), "coords": list(ds.coords),
                     "data_vars": {k: list(v.dims) for k, v in ds.data_vars.items()}}
        return Schema(datashape=None, dtype=str(image.dtype), shape=tuple(image.shape),
                      npartitions=self.npartitions,
                      extra_metadata={**dict(ds.attrs), **structure})

    def _get_partition(self, i: int):
        ds = self._load()
        chunks = ds["image"].data.chunks[0]
        first = sum(chunks[:i])
        return ds.isel(time=slice(first, first + chunks[i])).load()

    def read(self):
        """The whole cube, loaded into memory."""
        return self._load().load()

    def to_dask(self):
        """The lazy, dask-backed cube."""
        return self._load()


class WebcoosElementsSource(_Source):
    """The elements (files) of a camera's product (v1 ``dataframe`` container)."""

    name = "webcoos_elements"
    container = "dataframe"

    def __init__(self, camera: str | None = None, product: str | None = None,
                 start: Any = None, end: Any = None, every: Any = None, cache: bool = False,
                 base_url: str | None = None, token: str | None = None,
                 metadata: dict | None = None, asset: str | None = None,
                 **client_options: Any) -> None:
        options = {"start": start, "end": end, "every": every, "cache": cache,
                   **client_options}
        super().__init__(WebcoosElementsReader(camera=camera, product=product, asset=asset,
                                               options=options, base_url=base_url,
                                               token=token), metadata)

    def _get_schema(self) -> Schema:
        frame = self._load()
        return Schema(datashape=None, dtype={k: str(v) for k, v in frame.dtypes.items()},
                      shape=frame.shape, npartitions=1, extra_metadata={})

    def _get_partition(self, i: int):
        return self._load()

    def read(self):
        return self._load()

    def to_dask(self):
        import dask.dataframe as dd

        return dd.from_pandas(self._load(), npartitions=1)


class WebcoosCatalogSource(V1Catalog):
    """WebCOOS cameras as a v1 catalog of ``webcoos_images`` / ``webcoos_elements`` sources.

    Takes the filters of :func:`intake_webcoos.intake.catalog.build_catalog`.
    """

    name = "webcoos_cat"
    version = __version__

    def __init__(self, base_url: str | None = None, token: str | None = None,
                 search: str | None = None, bbox: Any = None, start: Any = None, end: Any = None,
                 products: Any = None, cameras: Any = None, include_archived: bool = True,
                 **kwargs: Any) -> None:
        self._filters = {"search": search, "bbox": bbox, "start": start, "end": end,
                         "products": products, "cameras": cameras,
                         "include_archived": include_archived}
        self._base_url = base_url
        self._api_token = token
        super().__init__(**kwargs)
        self._captured_init_kwargs.pop("token", None)

    def _load(self) -> None:
        from intake_webcoos.intake.catalog import build_catalog

        catalog = build_catalog(self._base_url, self._api_token, groups=False, **self._filters)
        drivers = {WebcoosImagesReader.qname(): "webcoos_images"}
        for name in catalog:
            description = catalog.get_entity(name)
            kwargs = description.kwargs
            driver = drivers.get(description.reader, "webcoos_elements")
            if name.endswith("/elements"):
                driver = "webcoos_elements"
            elif driver == "webcoos_elements" and not name.endswith("/elements"):
                continue  # video and results have no v1 driver; their listings do
            args = {"camera": kwargs["camera"], "product": kwargs["product"],
                    "base_url": self._base_url}
            args.update({k: v.default for k, v in description.user_parameters.items()})
            self._entries[name] = LocalCatalogEntry(
                name=name, description=f"{description.metadata['label']}: "
                f"{description.metadata['product']}", driver=driver, args=args,
                metadata=description.metadata, catalog=self)
