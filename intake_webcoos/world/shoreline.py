"""The shoreline of a rectified image, by the colour contrast of sand and water.

Method
------
Dry and wet sand are reddish, water (and the foam on it) bluish, so the
*red minus blue* difference of a time-exposure separates them, as in the
colour-based shoreline detectors of the Argus tradition (the pixel intensity
clustering and colour channel divergence models compared by Plant, Aarninkhof,
Turner and Kingston 2007) and in CoastSnap (Harley et al. 2019):

1. ``contrast = red - blue`` in every cell of the plan view;
2. one threshold per image: Otsu's (1979), the value that best splits the
   histogram of the contrast into two classes (maximum between-class variance);
3. along each cross-shore transect (a line of cells along the cross-shore
   dimension, one per alongshore cell), the sand/water boundary that
   misclassifies the fewest cells (a one-step fit, robust to isolated noisy
   cells), placed where the contrast crosses the threshold between the two
   cells either side of it (linear interpolation);
4. the same fit again within ``window`` metres of that boundary, with the
   threshold half-way between the median contrast of the sand and of the water
   there: the image-wide threshold sits between *dry* sand and *open* water,
   while at the waterline wet sand meets foamy water, and an edge blurred over a
   pixel or two (a few metres of a distant beach) is crossed at its middle by
   the local half-way level.

Which end of the transects is the sea is found per image (the side where the
water cells lie), or given with ``sea=``.

References
----------
* Otsu, N. (1979). A threshold selection method from gray-level histograms.
  IEEE Transactions on Systems, Man, and Cybernetics, 9(1), 62-66.
* Plant, N. G., Aarninkhof, S. G. J., Turner, I. L. and Kingston, K. S. (2007).
  The performance of shoreline detection models applied to video imagery.
  Journal of Coastal Research, 23(3), 658-670.
* Aarninkhof, S. G. J., Turner, I. L., Dronkers, T. D. T., Caljouw, M. and
  Nipius, L. (2003). A video-based technique for mapping intertidal beach
  bathymetry. Coastal Engineering, 49(4), 275-289.
* Harley, M. D., Kinsela, M. A., Sánchez-García, E. and Vos, K. (2019).
  Shoreline change mapping using crowd-sourced smartphone images. Coastal
  Engineering, 150, 175-189.
"""

from __future__ import annotations

import warnings

import numpy as np
import xarray as xr

from intake_webcoos.errors import InvalidArgumentError, one_of
from intake_webcoos.products.reductions import image_of

SEA = (None, "low", "high")


def otsu_threshold(values: np.ndarray, bins: int = 256) -> float:
    """Otsu's (1979) threshold of ``values`` (NaN ignored); NaN without two classes.

    The threshold is the edge of the histogram bins that maximises the
    between-class variance ``w0 w1 (mu0 - mu1)**2`` (the middle of the edges
    that do, when several do).
    """
    finite = values[np.isfinite(values)]
    if finite.size < 2 or finite.min() == finite.max():
        return float("nan")
    counts, edges = np.histogram(finite, bins)
    centres = (edges[:-1] + edges[1:]) / 2
    below = np.cumsum(counts)[:-1]  # split after bin k: classes [0, k] and (k, end]
    above = finite.size - below
    total = np.cumsum(counts * centres)
    with np.errstate(divide="ignore", invalid="ignore"):
        between = below * above * (total[:-1] / below - (total[-1] - total[:-1]) / above) ** 2
    # Splits anywhere in an empty stretch of the histogram are equally good: its middle.
    best = np.flatnonzero(between >= np.nanmax(between) * (1 - 1e-9))
    return float((edges[best[0] + 1] + edges[best[-1] + 1]) / 2)


def _step(contrast: np.ndarray, position: np.ndarray, threshold: np.ndarray,
          valid: np.ndarray) -> np.ndarray:
    """The water-to-land boundary of each transect (row) with the fewest misclassified cells.

    Rows run from the sea; ``threshold`` has one value per row.  The boundary is
    placed where the contrast crosses the threshold between the cells either
    side of it; NaN for a row without valid cells of both classes.
    """
    land = (contrast > threshold[:, None]) & valid
    water = ~land & valid
    # Errors of a boundary after cell k: land cells up to k plus water cells after it.
    errors = np.cumsum(land, axis=-1) + water.sum(axis=-1, keepdims=True) - np.cumsum(
        water, axis=-1)
    k = np.argmin(errors[:, :-1], axis=-1)
    rows = np.arange(len(k))
    a, b = contrast[rows, k], contrast[rows, k + 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        fraction = np.clip((threshold - a) / (b - a), 0.0, 1.0)
    fraction = np.where(np.isfinite(fraction), fraction, 0.5)  # a NaN neighbour: midway
    found = position[k] + fraction * (position[k + 1] - position[k])
    return np.where(land.any(axis=-1) & water.any(axis=-1), found, np.nan)


def transitions(contrast: np.ndarray, position: np.ndarray, threshold: float,
                sea_low: bool, window: float) -> np.ndarray:
    """Where each row of ``contrast`` (transects) goes from water to land, in ``position``.

    ``contrast`` is ``(transects, cells)`` along increasing ``position``; cells
    above ``threshold`` are land.  The boundary found with ``threshold`` is then
    refined with the threshold half-way between the median sand and water
    contrast within ``window`` of it (0: no refinement).
    """
    if not sea_low:  # walk every transect from the sea
        contrast, position = contrast[:, ::-1], position[::-1]
    valid = np.isfinite(contrast)
    found = _step(contrast, position, np.full(len(contrast), threshold), valid)
    if window <= 0:
        return found
    near = valid & (np.abs(position - found[:, None]) <= window)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a class absent nearby: kept global
        sand = np.nanmedian(np.where(near & (contrast > threshold), contrast, np.nan), -1)
        water = np.nanmedian(np.where(near & (contrast <= threshold), contrast, np.nan), -1)
    local = np.where(np.isfinite(sand + water), (sand + water) / 2, threshold)
    refined = _step(contrast, position, local, near)
    return np.where(np.isfinite(refined), refined, found)


def _one_image(contrast: np.ndarray, position: np.ndarray, sea: str | None, bins: int,
               window: float) -> tuple[np.ndarray, float]:
    """Shoreline positions (one per transect) and the threshold of one image."""
    threshold = otsu_threshold(contrast, bins)
    if np.isnan(threshold):
        return np.full(contrast.shape[0], np.nan), threshold
    if sea is None:
        land = np.where(np.isfinite(contrast), contrast > threshold, np.nan)
        across = np.broadcast_to(position, contrast.shape)
        sea_low = np.nanmean(np.where(land == 0, across, np.nan)) < np.nanmean(
            np.where(land == 1, across, np.nan))
    else:
        sea_low = sea == "low"
    return transitions(contrast, position, threshold, bool(sea_low), window), threshold


def _alongshore(image: xr.DataArray, cross_shore: str, sea: str | None) -> str:
    """The alongshore dimension of a rectified colour image (else says why it has none)."""
    one_of("sea", sea, SEA)
    world = [d for d in image.dims if d in ("x_world", "y_world")]
    if cross_shore not in world or len(world) != 2:
        raise InvalidArgumentError(f"cross_shore must be one of the plan view's dimensions "
                                   f"x_world, y_world (not {cross_shore!r}): rectify the "
                                   "image first")
    if "band" not in image.dims or not {"red", "blue"} <= set(image["band"].values.tolist()):
        raise InvalidArgumentError("the shoreline needs a colour image with bands red and blue")
    return next(d for d in world if d != cross_shore)


def shoreline(obj: xr.Dataset | xr.DataArray, cross_shore: str = "x_world", *,
              sea: str | None = None, window: float = 5.0, bins: int = 256) -> xr.DataArray:
    """The shoreline of a rectified colour image: cross-shore position per alongshore cell.

    Parameters
    ----------
    obj : xarray.Dataset or xarray.DataArray
        A plan view from :func:`intake_webcoos.world.rectify.rectify` with bands
        ``red`` and ``blue``, best a time-exposure (waves averaged out): ``(y_world,
        x_world, band)``, or with a ``time`` (or other) dimension, one shoreline each.
    cross_shore : str
        The dimension the transects run along (``"x_world"`` or ``"y_world"``);
        the other world dimension is alongshore.
    sea : {None, "low", "high"}
        The end of the transects where the sea is (low or high coordinates);
        None finds it in each image.
    window : float
        Half-width, in metres, of the stretch of each transect around the first
        boundary where the local sand and water contrast refine it (0: none).
    bins : int
        Bins of the contrast histogram Otsu's threshold is chosen from.

    Returns
    -------
    xarray.DataArray
        ``shoreline``, metres along ``cross_shore``, over the alongshore dimension
        (and ``time``...), NaN for a transect that does not cross both sand and
        water; coordinate ``threshold``: the red - blue threshold of each image.
        Lazy when the input is.  The method and references are in this module's
        docstring.
    """
    image = image_of(obj)
    along = _alongshore(image, cross_shore, sea)
    contrast = image.sel(band="red").astype(np.float32) - image.sel(band="blue")
    contrast = contrast.drop_vars("band", errors="ignore")
    if contrast.chunks:
        contrast = contrast.chunk({along: -1, cross_shore: -1})
    position, threshold = xr.apply_ufunc(
        _one_image, contrast, input_core_dims=[[along, cross_shore]],
        output_core_dims=[[along], []], vectorize=True, dask="parallelized",
        output_dtypes=[float, float],
        kwargs={"position": image[cross_shore].values, "sea": sea, "bins": bins,
                "window": window})
    position = position.drop_vars([c for c in position.coords
                                   if cross_shore in position[c].dims or c in ("longitude",
                                                                               "latitude")])
    position = position.assign_coords(threshold=threshold.reset_coords(drop=True))
    position.name = "shoreline"
    position.attrs = {"units": "m", "long_name": f"shoreline position along {cross_shore}",
                      "method": "red - blue contrast, Otsu threshold, one-step fit per "
                                "transect (intake_webcoos.world.shoreline)",
                      "camera": image.attrs.get("camera", "")}
    return position
