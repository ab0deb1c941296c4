"""intake 2 readers for WebCOOS (named in the ``intake.imports`` entry point).

``import intake`` imports this module, so it imports nothing heavy: the
client, pandas, xarray and dask load only when a reader reads.

* :class:`WebcoosCatalogReader` -> ``intake.readers.entry:Catalog``, one entry
  per camera x product with files (``"waikiki_sheraton/one-minute-stills"``),
  an ``"{camera}/{product}/elements"`` listing entry for each, and an
  ``"{camera}"`` entry holding that camera's products together;
* :class:`WebcoosImagesReader` -> ``xarray:Dataset`` (the image cube),
  :class:`WebcoosVideoReader` -> ``xarray:Dataset`` (frames of clips),
  :class:`WebcoosElementsReader` and :class:`WebcoosResultsReader` ->
  ``pandas:DataFrame``.

The API token never sits in a reader's arguments: readers take it from
``WEBCOOS_API_TOKEN`` (or ``token=``, kept aside), and saved entries carry
``{env(WEBCOOS_API_TOKEN)}`` instead of its value.
"""

from __future__ import annotations

from typing import Any

from intake.readers import datatypes
from intake.readers.readers import BaseReader

TOKEN_TEMPLATE = "{env(WEBCOOS_API_TOKEN)}"
#: The keywords of ``Client.elements`` the elements reader passes to it; the rest
#: (``cache`` and client options) go to the client.
ELEMENTS_KEYWORDS = ("start", "end", "ordering", "every", "strict", "refresh")


class WebcoosAPI(datatypes.Service):
    """The WebCOOS data API; ``url`` is its root (``.../webcoos/api/v1``)."""

    structure = {"catalog"}


class _WebcoosReader(BaseReader):
    """Keeps the token out of ``kwargs`` (and so out of entries, reprs and pickles)."""

    imports = {"aiohttp", "pandas"}

    def __init__(self, *args: Any, token: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._api_token = None if token in (None, "", TOKEN_TEMPLATE) else token

    def __call__(self, *args: Any, **kwargs: Any) -> _WebcoosReader:
        token = kwargs.pop("token", self._api_token)
        new = super().__call__(*args, **kwargs)
        new._api_token = token
        return new

    def to_entry(self):
        entry = super().to_entry()
        entry.kwargs = {**entry.kwargs, "token": TOKEN_TEMPLATE}
        return entry

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_api_token"] = None
        return state


class WebcoosCatalogReader(_WebcoosReader):
    """Cameras and products of the WebCOOS API as an intake Catalog.

    ``WebcoosCatalogReader().read()`` lists the API at ``$WEBCOOS_API_URL`` (or
    the real one); ``WebcoosCatalogReader(url=...)`` or a :class:`WebcoosAPI`
    argument names another root. The parameters below go to ``read`` or to
    the constructor.

    Parameters
    ----------
    search : str, optional
        Words that must all appear in a camera's slug, label or products.
    bbox : (lon_min, lat_min, lon_max, lat_max), optional
        Keep cameras inside this box.
    start, end : str, optional
        Keep products with data between these UTC times.
    products : list of str, optional
        Keep only these product slugs.
    cameras : list of str, optional
        Keep only these cameras.
    include_archived : bool
        Keep archived cameras (default True).
    """

    implements = {WebcoosAPI}
    output_instance = "intake.readers.entry:Catalog"
    func = "intake_webcoos.intake.catalog:build_catalog"

    def _read(self, data: WebcoosAPI | None = None, url: str | None = None, **kwargs: Any):
        # ``func`` names build_catalog, which itself builds entries of these readers:
        # resolved by name here, so neither module imports the other's.
        base_url = data.url if data is not None else url
        if "assets" in kwargs:  # the filter's name in catalogs saved before 0.1
            kwargs["cameras"] = kwargs.pop("assets")
        return self._func(base_url=base_url or None, token=self._api_token, **kwargs)


class WebcoosElementsReader(_WebcoosReader):
    """The elements (files) of a camera's product as a DataFrame.

    Takes the keywords of :meth:`Client.elements
    <intake_webcoos.api.client.AsyncClient.elements>`, ``cache`` and client options.
    """

    output_instance = "pandas:DataFrame"
    func = "intake_webcoos.api.sync:Client.elements"

    def _read(self, camera: str | None = None, product: str | None = None,
              options: dict[str, Any] | None = None, base_url: str | None = None,
              asset: str | None = None, **overrides: Any):
        from intake_webcoos.api.sync import Client

        params = _parameters(options, overrides)
        listing = {k: params.pop(k) for k in ELEMENTS_KEYWORDS if k in params}
        if params.pop("cache", False):
            params["cache"] = True
        client = Client(self._api_token, base_url or None, **params)
        return client.elements(_camera(camera, asset), product, **listing)


class WebcoosImagesReader(_WebcoosReader):
    """A camera's stills as a lazy ``(time, y, x, band)`` xarray Dataset.

    Takes every keyword of :func:`intake_webcoos.open_images`.
    """

    imports = {"aiohttp", "pandas", "xarray", "dask", "PIL"}
    output_instance = "xarray:Dataset"
    func = "intake_webcoos.cube.stills:open_images"

    def _read(self, camera: Any = None, product: str | None = None,
              options: dict[str, Any] | None = None, base_url: str | None = None,
              asset: str | None = None, **overrides: Any):
        from intake_webcoos.cube.stills import open_images

        return open_images(_camera(camera, asset), product, token=self._api_token,
                           base_url=base_url or None, **_parameters(options, overrides))


class WebcoosVideoReader(_WebcoosReader):
    """Frames sampled from a camera's video clips as a lazy xarray Dataset.

    Takes every keyword of :func:`intake_webcoos.open_video`.
    """

    imports = {"aiohttp", "pandas", "xarray", "dask", "av"}
    output_instance = "xarray:Dataset"
    func = "intake_webcoos.cube.video:open_video"

    def _read(self, camera: Any = None, product: str | None = None,
              options: dict[str, Any] | None = None, base_url: str | None = None,
              asset: str | None = None, **overrides: Any):
        from intake_webcoos.cube.video import open_video

        return open_video(_camera(camera, asset), product, token=self._api_token,
                          base_url=base_url or None, **_parameters(options, overrides))


class WebcoosResultsReader(_WebcoosReader):
    """Detection results (JSON/JSONL files) as a DataFrame, one row per detection.

    Takes every keyword of :func:`intake_webcoos.read_results`.
    """

    output_instance = "pandas:DataFrame"
    func = "intake_webcoos.cube.results:read_results"

    def _read(self, camera: Any = None, product: str | None = None,
              options: dict[str, Any] | None = None, base_url: str | None = None,
              asset: str | None = None, **overrides: Any):
        from intake_webcoos.cube.results import read_results

        return read_results(_camera(camera, asset), product, token=self._api_token,
                            base_url=base_url or None, **_parameters(options, overrides))


def _camera(camera: Any, asset: str | None) -> Any:
    """The camera, given as ``camera=``, or as ``asset=`` by catalogs saved before 0.1.

    Saved entries (the catalogs users wrote with ``to_yaml_file``) carry ``asset:``
    in their kwargs; new ones are written with ``camera:``.
    """
    return asset if camera is None else camera


def _parameters(options: dict[str, Any] | None, overrides: dict[str, Any]) -> dict[str, Any]:
    """The entry's user-parameter values (``options``), overridden by keywords given later.

    intake 2 fills ``{start}``-style templates inside ``options``; a keyword
    given to the reader (``entry(start=...)``) replaces the parameter's value.
    YAML has lists where Python wants tuples, and None means "not given".
    """
    params = {k: v for k, v in {**(options or {}), **overrides}.items() if v is not None}
    if "coerce_shape" in params:
        params["coerce_shape"] = tuple(params["coerce_shape"])
    return params
