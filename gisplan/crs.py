"""Coordinate systems: stated datums, GCJ-02/BD-09 offsets and the metric working CRS.

Planners state the datum of every layer (``datum: CGCS2000`` in the scenario, or
``datum=...`` in code); nothing is guessed silently. This module

* parses a stated datum (:func:`parse_datum`): WGS84, CGCS2000, GCJ-02 (高德/腾讯,
  "火星坐标"), BD-09 (百度), or any EPSG code, WKT or PROJ string;
* removes the GCJ-02 / BD-09 obfuscation offsets (:func:`to_wgs84`). These offsets
  are the *only* place in gisplan that knows such offsets exist;
* picks one metric CRS for a run (:func:`choose_metric_crs`: the CGCS2000 3-degree
  Gauss-Kruger zone, or WGS84 UTM outside China) and projects into it (:func:`to_metric`);
* guards every measuring function (:func:`require_metric_crs`) and finds rows whose
  coordinates cannot be right for the stated datum, e.g. swapped lon/lat
  (:func:`implausible_rows`).

GCJ-02 is the published reverse-engineered algorithm (as in the ``eviltransform`` and
``coordtransform`` projects: ``a = 6378245.0``, ``ee = 0.00669342162296594323``),
identity outside the rectangle of :func:`out_of_china`. Its inverse,
:func:`gcj02_to_wgs84`, iterates the forward formula to a fixed point, so round trips
agree to well below 0.01 m. BD-09 adds Baidu's ``x_pi = pi * 3000 / 180``
rotation-and-shift on top of GCJ-02; the published closed-form inverse leaves a residual
of up to about 0.25 m (mean about 0.06 m, measured on 10**6 random points over China's
rectangle), so :func:`bd09_to_gcj02` refines it by the same fixed-point iteration.
These are the widely used public formulas, not the official implementation; they do not
make the maps' own data more accurate than it is.

All functions return new objects and never modify their inputs.
"""

from __future__ import annotations

import functools
import logging
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, TypeVar, cast, get_args

import geopandas as gpd
import numpy as np
import pyproj
import shapely
from pyproj.exceptions import CRSError as _PyprojCRSError

from gisplan.errors import CRSError

if TYPE_CHECKING:
    from collections.abc import Callable

    import numpy.typing as npt

__all__ = [
    "DATUM_NAMES",
    "STUDY_AREA_RADIUS_M",
    "Datum",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "choose_metric_crs",
    "convert_offset",
    "distance_crs_problem",
    "far_rows",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "implausible_rows",
    "is_metric",
    "offset_hint",
    "out_of_china",
    "parse_datum",
    "require_metric",
    "require_metric_crs",
    "study_centre",
    "to_metric",
    "to_wgs84",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

logger = logging.getLogger(__name__)

Offset = Literal["gcj02", "bd09"]
OffsetSystem = Literal["wgs84", "gcj02", "bd09"]

_GeoT = TypeVar("_GeoT", bound="gpd.GeoDataFrame | gpd.GeoSeries")

# --- published GCJ-02 / BD-09 constants -------------------------------------------------
_A = 6378245.0  # semi-major axis used by GCJ-02 (Krasovsky 1940)
_EE = 0.00669342162296594323  # eccentricity squared used by GCJ-02
_X_PI = math.pi * 3000.0 / 180.0  # BD-09 rotation constant
# eviltransform's rectangle: GCJ-02 is the identity outside it
_CHINA_LON = (72.004, 137.8347)
_CHINA_LAT = (0.8293, 55.8271)
_CHINA_MARGIN_DEG = 0.5  # tolerance around the rectangle in implausible_rows
_PROJECTED_MARGIN_M = 50_000.0  # tolerance around a projected CRS's area of use
_TOL_DEG = 1e-9  # inversions stop once the remaining error is below this: ~0.1 mm
_MAX_ITER = 30
# Lipschitz bounds of the offsets as functions of lon/lat (max row sum of the Jacobian,
# measured over the whole rectangle: GCJ-02 0.0074, BD-09 rotation 0.022), rounded up.
# A fixed-point step of size s then leaves an error of at most s * L / (1 - L).
_GCJ_CONTRACTION = 0.01
_BD_CONTRACTION = 0.03

# Working CRS plausibility (distance_crs_problem): a conformal projection shows no angular
# distortion (PROJ reports ~1e-6 degrees of rounding); the scale at the study area may be
# off by at most 1 % (15 m on a 15-minute walk).
_MAX_ANGULAR_DISTORTION_DEG = 0.1
_MAX_SCALE_ERROR = 0.01
_AREA_GRID = 7  # points per side of the grid over a CRS's area of use
_DISTANCE_CRS_FIX = (
    "use metric_crs: auto (the CGCS2000 3-degree Gauss-Kruger zone of the data) or a "
    "UTM / Gauss-Kruger EPSG code such as EPSG:4548"
)

STUDY_AREA_RADIUS_M = 50_000.0
"""Features farther than this from the median centre of the communities are flagged.

A county-level plan fits well inside 50 km; a community or facility beyond it almost always
has wrong coordinates (a typo, swapped lon/lat, another city's data, a wrong datum)."""

# offset_hint: removing the offset must bring the upper quartile of the snapping distances
# down to 60 % or less and by at least 10 m (on the demo's dense streets: 44 m -> 16 m)
_HINT_MIN_POINTS = 5
_HINT_QUANTILE = 75.0
_HINT_RATIO = 0.6
_HINT_MIN_GAIN_M = 10.0

_EPSG_WGS84 = 4326
_EPSG_CGCS2000 = 4490
_EPSG_GK3_FIRST = 4534  # CGCS2000 / 3-degree Gauss-Kruger CM 75E
_CM_FIRST, _CM_LAST = 75, 135  # central meridians of EPSG 4534 ... 4554


@dataclass(frozen=True, kw_only=True, slots=True)
class Datum:
    """A stated datum: the CRS coordinates are written in, plus any Chinese map offset.

    Parameters
    ----------
    name : str
        Display label, e.g. ``"WGS84"``, ``"CGCS2000"``, ``"GCJ-02"``, ``"BD-09"``
        or ``"EPSG:4548"``.
    crs : pyproj.CRS
        CRS the coordinates are written in; for GCJ-02 and BD-09 this is EPSG:4326
        (lon/lat) and ``offset`` says which obfuscation to remove.
    offset : {"gcj02", "bd09"} or None
        The offset applied to the coordinates, if any.

    Raises
    ------
    CRSError
        If ``offset`` is not one of the names above, or is set on a projected CRS.

    Examples
    --------
    >>> d = gisplan.crs.parse_datum("高德")
    >>> (d.name, d.crs.to_epsg(), d.offset)
    ('GCJ-02', 4326, 'gcj02')
    """

    name: str
    crs: pyproj.CRS
    offset: Offset | None = None

    def __post_init__(self) -> None:
        """Check that an offset is known and sits on a geographic CRS."""
        if self.offset is not None and self.offset not in get_args(Offset):
            raise CRSError(
                f"datum {self.name!r}: unknown offset {self.offset!r}; use 'gcj02', 'bd09' or None"
            )
        if self.offset is not None and not self.crs.is_geographic:
            raise CRSError(
                f"datum {self.name!r}: offset {self.offset!r} needs a geographic (lon/lat) CRS, "
                f"got {_crs_label(self.crs)}"
            )

    def __str__(self) -> str:
        """Return the display label."""
        return self.name


_WGS84_CRS = pyproj.CRS.from_epsg(_EPSG_WGS84)
_WGS84 = Datum(name="WGS84", crs=_WGS84_CRS)
_CGCS2000 = Datum(name="CGCS2000", crs=pyproj.CRS.from_epsg(_EPSG_CGCS2000))
_GCJ02 = Datum(name="GCJ-02", crs=_WGS84_CRS, offset="gcj02")
_BD09 = Datum(name="BD-09", crs=_WGS84_CRS, offset="bd09")

_ALIASES: dict[Datum, tuple[str, ...]] = {
    _WGS84: ("WGS84", "WGS 84", "WGS-84", "WGS1984", "EPSG:4326"),
    _CGCS2000: ("CGCS2000", "CGCS 2000", "EPSG:4490"),
    _GCJ02: (
        "GCJ-02",
        "GCJ02",
        "gcj",
        "gaode",
        "amap",
        "tencent",
        "高德",
        "腾讯",
        "火星坐标",
        "火星坐标系",
    ),
    _BD09: ("BD-09", "BD09", "baidu", "百度", "百度坐标"),
}

DATUM_NAMES: tuple[str, ...] = tuple(name for names in _ALIASES.values() for name in names)
"""Every datum name :func:`parse_datum` accepts besides EPSG codes, WKT and PROJ strings."""


def _norm(name: str) -> str:
    return "".join(ch for ch in name.casefold() if ch not in " -_\t")


_LOOKUP: dict[str, Datum] = {
    _norm(name): datum for datum, names in _ALIASES.items() for name in names
}

_ACCEPTED_HINT = (
    "use WGS84, CGCS2000, GCJ-02 (gaode, amap, tencent, 高德, 火星坐标), BD-09 (baidu, 百度), "
    "or an EPSG code such as EPSG:4548 (CGCS2000 / 3-degree Gauss-Kruger CM 117E), "
    "a WKT or a PROJ string"
)


def _crs_label(crs: pyproj.CRS | None) -> str:
    """Short label for messages: ``EPSG:xxxx`` when known, else the CRS name."""
    if crs is None:
        return "None"
    epsg = crs.to_epsg()
    return f"EPSG:{epsg}" if epsg is not None else str(crs.name)


def _same_crs(a: pyproj.CRS, b: pyproj.CRS) -> bool:
    """Tell whether two CRSs are equivalent (axis order ignored, or the same EPSG code).

    The EPSG fallback catches ESRI WKT (shapefile ``.prj``) that PROJ does not call equal.
    """
    if a.equals(b, ignore_axis_order=True):
        return True
    code = a.to_epsg()
    return code is not None and code == b.to_epsg()


#: Earth's equatorial radius (GRS 80 / WGS 84), m; a stated datum's ellipsoid must be within 1 %.
_EARTH_A_M = 6_378_137.0


@functools.lru_cache(maxsize=64)
def _transformer(source: pyproj.CRS, target: pyproj.CRS) -> pyproj.Transformer:
    """Return the (cached) x/y-ordered transformer: building one costs PROJ ~0.3 s."""
    return pyproj.Transformer.from_crs(source, target, always_xy=True)


def _datum_from_crs(crs: pyproj.CRS) -> Datum:
    a = crs.ellipsoid.semi_major_metre if crs.ellipsoid is not None else _EARTH_A_M
    if abs(a - _EARTH_A_M) > 0.01 * _EARTH_A_M:
        raise CRSError(
            f"datum {_crs_label(crs)} is not an Earth datum (its ellipsoid's radius is {a:,.0f} m, "
            f"Earth's {_EARTH_A_M:,.0f} m); {_ACCEPTED_HINT}"
        )
    epsg = crs.to_epsg()
    if epsg == _EPSG_WGS84:
        return Datum(name="WGS84", crs=crs)
    if epsg == _EPSG_CGCS2000:
        return Datum(name="CGCS2000", crs=crs)
    return Datum(name=_crs_label(crs), crs=crs)


def parse_datum(value: str | int | pyproj.CRS | Datum) -> Datum:
    """Turn a stated datum (name, EPSG code, WKT, PROJ string or CRS) into a :class:`Datum`.

    Names are matched ignoring case, spaces, dashes and underscores; see
    :data:`DATUM_NAMES`.

    Parameters
    ----------
    value : str, int, pyproj.CRS or Datum
        ``"WGS84"``, ``"CGCS2000"``, ``"GCJ-02"`` (``"gaode"``, ``"amap"``,
        ``"tencent"``, ``"高德"``, ``"火星坐标"``), ``"BD-09"`` (``"baidu"``, ``"百度"``),
        an EPSG code (``4548`` or ``"EPSG:4548"``), a WKT or PROJ string, or a CRS.

    Returns
    -------
    Datum
        The parsed datum; a :class:`Datum` is returned unchanged.

    Raises
    ------
    CRSError
        If the value names no known datum or CRS; the message lists the accepted names.

    Examples
    --------
    >>> gisplan.crs.parse_datum("wgs 84").name
    'WGS84'
    >>> gisplan.crs.parse_datum("Baidu").offset
    'bd09'
    >>> gisplan.crs.parse_datum(4548).name
    'EPSG:4548'
    """
    if isinstance(value, Datum):
        return value
    if isinstance(value, pyproj.CRS):
        return _datum_from_crs(value)
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return _datum_from_crs(pyproj.CRS.from_epsg(value))
        except _PyprojCRSError as err:
            raise CRSError(f"unknown datum EPSG code {value}; {_ACCEPTED_HINT}") from err
    if not isinstance(value, str) or not value.strip():
        raise CRSError(f"unknown datum {value!r}; {_ACCEPTED_HINT}")
    known = _LOOKUP.get(_norm(value))
    if known is not None:
        return known
    text = value.strip()
    try:
        crs = pyproj.CRS.from_epsg(int(text)) if text.isdigit() else pyproj.CRS(text)
    except _PyprojCRSError as err:
        raise CRSError(f"unknown datum {value!r}; {_ACCEPTED_HINT}") from err
    return _datum_from_crs(crs)


# --- the published offset formulas (vectorised) -----------------------------------------


def _as_lonlat(
    lon: npt.ArrayLike, lat: npt.ArrayLike
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    x, y = np.broadcast_arrays(np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64))
    return x.copy(), y.copy()


def out_of_china(lon: npt.ArrayLike, lat: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    """Tell which points lie outside the rectangle where GCJ-02 applies.

    The rectangle of the published algorithm: lon 72.004-137.8347 E, lat 0.8293-55.8271 N.
    NaN coordinates count as outside.

    Parameters
    ----------
    lon, lat : array_like
        Longitudes and latitudes in degrees (broadcast together).

    Returns
    -------
    numpy.ndarray of bool
        True where the point is outside China's rectangle.

    Examples
    --------
    >>> gisplan.crs.out_of_china([116.39, 24.94], [39.91, 60.17]).tolist()
    [False, True]
    """
    x, y = _as_lonlat(lon, lat)
    inside = (
        (x >= _CHINA_LON[0]) & (x <= _CHINA_LON[1]) & (y >= _CHINA_LAT[0]) & (y <= _CHINA_LAT[1])
    )
    return np.asarray(~inside, dtype=np.bool_)


def _gcj_delta(
    x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Return the GCJ-02 offset in degrees (dlon, dlat) at WGS84 ``x``, ``y`` (no China test).

    The published formula term by term; ``sin(3t)`` is taken as ``s * (3 - 4 s**2)`` with
    ``s = sin(t)`` (exact identity), which saves four of fourteen sines.
    """
    dx = x - 105.0
    dy = y - 35.0
    sin_x3 = np.sin(dx * (np.pi / 3.0))  # sin(pi x / 3); sin(pi x) by the triple angle
    sin_2x = np.sin(dx * (2.0 * np.pi))  # sin(2 pi x); sin(6 pi x) by the triple angle
    sin_y3 = np.sin(dy * (np.pi / 3.0))
    common = 20.0 * (sin_2x * (3.0 - 4.0 * sin_2x * sin_2x)) + 20.0 * sin_2x
    t_lat = common + 20.0 * (sin_y3 * (3.0 - 4.0 * sin_y3 * sin_y3)) + 40.0 * sin_y3
    t_lat += 160.0 * np.sin(dy * (np.pi / 12.0)) + 320.0 * np.sin(dy * (np.pi / 30.0))
    t_lon = common + 20.0 * (sin_x3 * (3.0 - 4.0 * sin_x3 * sin_x3)) + 40.0 * sin_x3
    t_lon += 150.0 * np.sin(dx * (np.pi / 12.0)) + 300.0 * np.sin(dx * (np.pi / 30.0))
    sqrt_abs = np.sqrt(np.abs(dx))
    dxdy = 0.1 * dx * dy
    t_lat = t_lat * (2.0 / 3.0) + (-100.0 + 2.0 * dx + 3.0 * dy + 0.2 * dy * dy)
    t_lat += dxdy + 0.2 * sqrt_abs
    t_lon = t_lon * (2.0 / 3.0) + (300.0 + dx + 2.0 * dy + 0.1 * dx * dx)
    t_lon += dxdy + 0.1 * sqrt_abs
    sin_lat = np.sin(y * (np.pi / 180.0))
    sin2_lat = sin_lat * sin_lat
    cos_lat = np.sqrt(1.0 - sin2_lat)  # |lat| < 90
    magic = 1.0 - _EE * sin2_lat
    sqrt_magic = np.sqrt(magic)
    dlat = (t_lat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (t_lon * 180.0) / (_A / sqrt_magic * cos_lat * np.pi)
    return dlon, dlat


def wgs84_to_gcj02(
    lon: npt.ArrayLike, lat: npt.ArrayLike
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Apply the GCJ-02 offset (高德/腾讯 "火星坐标") to WGS84 lon/lat.

    The published algorithm (``eviltransform`` / ``coordtransform``); identity outside
    the rectangle of :func:`out_of_china`.

    Parameters
    ----------
    lon, lat : array_like
        WGS84 longitudes and latitudes in degrees (broadcast together).

    Returns
    -------
    tuple of numpy.ndarray
        GCJ-02 longitudes and latitudes (new arrays).

    Examples
    --------
    >>> lon, lat = gisplan.crs.wgs84_to_gcj02(116.391263, 39.907577)
    >>> round(float(lon), 6), round(float(lat), 6)
    (116.397504, 39.908978)
    """
    x, y = _as_lonlat(lon, lat)
    inside = ~out_of_china(x, y)
    if inside.any():
        dlon, dlat = _gcj_delta(x[inside], y[inside])
        x[inside] += dlon
        y[inside] += dlat
    return x, y


def _invert(
    forward: Callable[
        [npt.NDArray[np.float64], npt.NDArray[np.float64]],
        tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]],
    ],
    target_x: npt.NDArray[np.float64],
    target_y: npt.NDArray[np.float64],
    start: tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]],
    *,
    contraction: float,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Solve ``forward(x, y) == target`` by fixed-point iteration from ``start``.

    ``forward`` is the identity plus a small offset whose Lipschitz constant is at most
    ``contraction``; a point stops once its last step bounds the remaining error below
    ``_TOL_DEG``. Only points still moving are recomputed. Works on flat arrays.
    """
    x, y = start[0].copy(), start[1].copy()
    step_tol = _TOL_DEG * (1.0 - contraction) / contraction
    active = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
    for _ in range(_MAX_ITER):
        if active.size == 0:
            break
        fx, fy = forward(x[active], y[active])
        ex = fx - target_x[active]
        ey = fy - target_y[active]
        x[active] -= ex
        y[active] -= ey
        active = active[(np.abs(ex) >= step_tol) | (np.abs(ey) >= step_tol)]
    if active.size:
        logger.debug(
            "offset inversion: %d points not converged after %d iterations", active.size, _MAX_ITER
        )
    return x, y


def _gcj_forward(
    x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    dlon, dlat = _gcj_delta(x, y)
    return x + dlon, y + dlat


def gcj02_to_wgs84(
    lon: npt.ArrayLike, lat: npt.ArrayLike
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Remove the GCJ-02 offset: GCJ-02 lon/lat to WGS84.

    Inverts :func:`wgs84_to_gcj02` by fixed-point iteration until the remaining error
    is below 1e-9 degrees (about 0.1 mm); three iterations are typical, at most 30.
    Identity where the GCJ-02 point is outside :func:`out_of_china`.

    Parameters
    ----------
    lon, lat : array_like
        GCJ-02 longitudes and latitudes in degrees (broadcast together).

    Returns
    -------
    tuple of numpy.ndarray
        WGS84 longitudes and latitudes (new arrays).

    Examples
    --------
    >>> lon, lat = gisplan.crs.gcj02_to_wgs84(116.397504, 39.908978)
    >>> round(float(lon), 6), round(float(lat), 6)
    (116.391263, 39.907577)
    """
    x, y = _as_lonlat(lon, lat)
    inside = ~out_of_china(x, y)
    if inside.any():
        gx, gy = x[inside], y[inside]
        x[inside], y[inside] = _invert(_gcj_forward, gx, gy, (gx, gy), contraction=_GCJ_CONTRACTION)
    return x, y


def gcj02_to_bd09(
    lon: npt.ArrayLike, lat: npt.ArrayLike
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Apply Baidu's BD-09 transform to GCJ-02 lon/lat.

    The published ``x_pi = pi * 3000 / 180`` formula; like the published code it is
    applied everywhere (there is no out-of-China test for BD-09).

    Parameters
    ----------
    lon, lat : array_like
        GCJ-02 longitudes and latitudes in degrees (broadcast together).

    Returns
    -------
    tuple of numpy.ndarray
        BD-09 longitudes and latitudes (new arrays).

    Examples
    --------
    >>> lon, lat = gisplan.crs.gcj02_to_bd09(116.397504, 39.908978)
    >>> round(float(lon), 6), round(float(lat), 6)
    (116.403877, 39.915321)
    """
    x, y = _as_lonlat(lon, lat)
    z = np.hypot(x, y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return np.asarray(z * np.cos(theta) + 0.0065), np.asarray(z * np.sin(theta) + 0.006)


def _bd09_to_gcj02_closed_form(
    x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Apply the published closed-form BD-09 -> GCJ-02 (residual up to about 0.25 m)."""
    x = x - 0.0065
    y = y - 0.006
    z = np.hypot(x, y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def bd09_to_gcj02(
    lon: npt.ArrayLike, lat: npt.ArrayLike
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Remove Baidu's BD-09 transform: BD-09 lon/lat to GCJ-02.

    Starts from the published closed-form approximation, whose residual is up to about
    0.25 m over China (mean about 0.06 m), then iterates :func:`gcj02_to_bd09` to a
    fixed point (remaining error below 1e-9 degrees, about 0.1 mm), so the result is
    exact to well under 0.01 m; one or two iterations are typical.

    Parameters
    ----------
    lon, lat : array_like
        BD-09 longitudes and latitudes in degrees (broadcast together).

    Returns
    -------
    tuple of numpy.ndarray
        GCJ-02 longitudes and latitudes (new arrays).

    Examples
    --------
    >>> lon, lat = gisplan.crs.bd09_to_gcj02(116.403877, 39.915321)
    >>> round(float(lon), 6), round(float(lat), 6)
    (116.397504, 39.908978)
    """
    x, y = _as_lonlat(lon, lat)
    shape = x.shape
    x, y = x.ravel(), y.ravel()
    gx, gy = _invert(
        gcj02_to_bd09,
        x,
        y,
        _bd09_to_gcj02_closed_form(x, y),
        contraction=_BD_CONTRACTION,
    )
    return gx.reshape(shape), gy.reshape(shape)


def wgs84_to_bd09(
    lon: npt.ArrayLike, lat: npt.ArrayLike
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Convert WGS84 lon/lat to BD-09 (via GCJ-02).

    Parameters
    ----------
    lon, lat : array_like
        WGS84 longitudes and latitudes in degrees (broadcast together).

    Returns
    -------
    tuple of numpy.ndarray
        BD-09 longitudes and latitudes (new arrays).

    Examples
    --------
    >>> lon, lat = gisplan.crs.wgs84_to_bd09(116.391263, 39.907577)
    >>> round(float(lon), 6), round(float(lat), 6)
    (116.403877, 39.915322)
    """
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(
    lon: npt.ArrayLike, lat: npt.ArrayLike
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Convert BD-09 lon/lat to WGS84 (via GCJ-02, both steps exact to < 0.01 m).

    Parameters
    ----------
    lon, lat : array_like
        BD-09 longitudes and latitudes in degrees (broadcast together).

    Returns
    -------
    tuple of numpy.ndarray
        WGS84 longitudes and latitudes (new arrays).

    Examples
    --------
    >>> lon, lat = gisplan.crs.bd09_to_wgs84(116.403877, 39.915322)
    >>> round(float(lon), 6), round(float(lat), 6)
    (116.391263, 39.907577)
    """
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


_CONVERTERS: dict[
    tuple[OffsetSystem, OffsetSystem],
    Callable[
        [npt.ArrayLike, npt.ArrayLike], tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]
    ],
] = {
    ("wgs84", "gcj02"): wgs84_to_gcj02,
    ("gcj02", "wgs84"): gcj02_to_wgs84,
    ("gcj02", "bd09"): gcj02_to_bd09,
    ("bd09", "gcj02"): bd09_to_gcj02,
    ("wgs84", "bd09"): wgs84_to_bd09,
    ("bd09", "wgs84"): bd09_to_wgs84,
}


def _transform_geoms(
    geoms: npt.NDArray[np.object_],
    func: Callable[
        [npt.ArrayLike, npt.ArrayLike], tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]
    ],
) -> npt.NDArray[np.object_]:
    """Apply a lon/lat function to every coordinate, keeping any Z values."""

    def apply(coords: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        out: npt.NDArray[np.float64] = np.array(coords, dtype=np.float64)
        out[:, 0], out[:, 1] = func(coords[:, 0], coords[:, 1])
        return out

    has_z = shapely.has_z(geoms)
    result = np.empty_like(geoms)
    result[~has_z] = shapely.transform(geoms[~has_z], apply, include_z=False)
    if has_z.any():
        result[has_z] = shapely.transform(geoms[has_z], apply, include_z=True)
    return result


def convert_offset(data: _GeoT, *, src: OffsetSystem, dst: OffsetSystem) -> _GeoT:
    """Convert every coordinate of a layer between WGS84, GCJ-02 and BD-09.

    Works on all geometry types (points, lines, polygons with holes, multi-parts,
    collections, empty and missing geometries); Z values are kept. Only the active
    geometry column of a GeoDataFrame is converted. The CRS is kept as it is.

    Parameters
    ----------
    data : geopandas.GeoDataFrame or geopandas.GeoSeries
        Layer with lon/lat coordinates (a geographic CRS, or none).
    src, dst : {"wgs84", "gcj02", "bd09"}
        System the coordinates are in, and the one wanted.

    Returns
    -------
    geopandas.GeoDataFrame or geopandas.GeoSeries
        A converted copy of the same type, index and columns.

    Raises
    ------
    CRSError
        If ``src`` or ``dst`` is unknown, or the data has a projected CRS.

    Examples
    --------
    >>> pts = gpd.GeoSeries([Point(116.391263, 39.907577)], crs=4326)
    >>> out = gisplan.crs.convert_offset(pts, src="wgs84", dst="gcj02")
    >>> round(float(out.x.iloc[0]), 6), round(float(out.y.iloc[0]), 6), out.crs.to_epsg()
    (116.397504, 39.908978, 4326)
    """
    systems = get_args(OffsetSystem)
    if src not in systems or dst not in systems:
        raise CRSError(
            f"convert_offset: src={src!r}, dst={dst!r}; each must be one of {', '.join(systems)}"
        )
    crs = data.crs
    if crs is not None and not crs.is_geographic:
        raise CRSError(
            f"convert_offset: {src} -> {dst} needs lon/lat coordinates, got {_crs_label(crs)}; "
            "offsets apply to geographic coordinates only"
        )
    out = data.copy()
    if src == dst:
        return cast("_GeoT", out)
    func = _CONVERTERS[(src, dst)]
    if isinstance(out, gpd.GeoDataFrame):
        geom = out.geometry
        values = _transform_geoms(np.asarray(geom.array, dtype=object), func)
        out[geom.name] = gpd.GeoSeries(values, index=out.index, crs=geom.crs)
        return cast("_GeoT", out)
    values = _transform_geoms(np.asarray(out.array, dtype=object), func)
    return cast("_GeoT", gpd.GeoSeries(values, index=out.index, crs=out.crs, name=out.name))


# --- stated datum -> WGS84 -> metric --------------------------------------------------


def _no_crs_error(what: str) -> CRSError:
    return CRSError(
        f"{what}: no coordinate system: the file has none and no datum was stated; "
        "add `datum: CGCS2000` (or WGS84, GCJ-02, BD-09, EPSG:xxxx) to the layer in the "
        "scenario, or pass datum=..."
    )


def _effective_datum(
    gdf: gpd.GeoDataFrame, datum: str | int | pyproj.CRS | Datum | None, *, what: str
) -> Datum:
    """Resolve the datum of ``gdf``: the stated one wins over the file's CRS (with a log)."""
    file_crs: pyproj.CRS | None = gdf.crs
    if datum is None:
        if file_crs is None:
            raise _no_crs_error(what)
        return _datum_from_crs(file_crs)
    stated = parse_datum(datum)
    if file_crs is None:
        return stated
    if stated.offset is not None:
        if not file_crs.is_geographic:
            raise CRSError(
                f"{what}: datum {stated.name} was stated, but the file's CRS "
                f"{_crs_label(file_crs)} is projected; {stated.name} coordinates are lon/lat "
                "degrees. Check the datum, or export the layer in lon/lat"
            )
        return stated
    if not _same_crs(stated.crs, file_crs):
        logger.warning(
            "%s: the stated datum %s overrides the file's CRS %s",
            what,
            stated.name,
            _crs_label(file_crs),
        )
    return stated


def to_wgs84(
    gdf: gpd.GeoDataFrame,
    *,
    datum: str | int | pyproj.CRS | Datum | None = None,
    what: str = "layer",
) -> gpd.GeoDataFrame:
    """Return a copy in WGS84 lon/lat (EPSG:4326) with any GCJ-02/BD-09 offset removed.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        The layer.
    datum : str, int, pyproj.CRS, Datum or None
        The stated datum (see :func:`parse_datum`). None uses ``gdf.crs``. A stated
        datum overrides the file's CRS (logged as a warning when they differ); for
        GCJ-02/BD-09 the file's CRS, if any, must be geographic.
    what : str
        Name of the layer, used in messages.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy in EPSG:4326, same index, rows and columns.

    Raises
    ------
    CRSError
        If neither the file nor the caller gives a CRS, the datum is unknown, or an
        offset datum is stated for projected coordinates.

    Examples
    --------
    >>> gdf = gpd.GeoDataFrame(geometry=[Point(116.397504, 39.908978)])
    >>> out = gisplan.crs.to_wgs84(gdf, datum="GCJ-02")
    >>> round(float(out.geometry.x.iloc[0]), 6), out.crs.to_epsg()
    (116.391263, 4326)
    """
    stated = _effective_datum(gdf, datum, what=what)
    if stated.offset is not None:
        logger.info("%s: removing the %s offset", what, stated.name)
        return convert_offset(
            gdf.set_crs(_WGS84_CRS, allow_override=True), src=stated.offset, dst="wgs84"
        )
    out = gdf.set_crs(stated.crs, allow_override=True)
    if stated.crs.equals(_WGS84_CRS):
        return out.copy()
    return out.to_crs(_WGS84_CRS)


def _centre_lonlat(
    data: gpd.GeoDataFrame | gpd.GeoSeries | tuple[float, float, float, float],
    crs: str | int | pyproj.CRS | Datum | None,
) -> tuple[float, float]:
    if isinstance(data, tuple):
        bounds = tuple(float(v) for v in data)
        source = parse_datum(crs) if crs is not None else _WGS84
    else:
        bounds = tuple(float(v) for v in data.total_bounds)
        if crs is not None:
            source = parse_datum(crs)
        elif data.crs is not None:
            source = _datum_from_crs(data.crs)
        else:
            raise _no_crs_error("choose_metric_crs")
    if len(bounds) != 4 or not all(math.isfinite(v) for v in bounds):  # noqa: PLR2004
        raise CRSError(
            f"choose_metric_crs: cannot take the centre of bounds {bounds}; "
            "the data is empty or has non-finite coordinates"
        )
    if source.crs.is_geographic:
        west, south, east, north = bounds
    else:
        transformer = _transformer(source.crs, _WGS84_CRS)
        west, south, east, north = transformer.transform_bounds(*bounds, densify_pts=21)
    lon, lat = (west + east) / 2.0, (south + north) / 2.0
    if source.offset is not None:
        wlon, wlat = _CONVERTERS[(source.offset, "wgs84")](lon, lat)
        lon, lat = float(wlon), float(wlat)
    return lon, lat


def choose_metric_crs(
    data: gpd.GeoDataFrame | gpd.GeoSeries | tuple[float, float, float, float],
    *,
    crs: str | int | pyproj.CRS | Datum | None = None,
) -> pyproj.CRS:
    """Pick the metric CRS for a study area: CGCS2000 3-degree Gauss-Kruger, or UTM abroad.

    The centre of the bounds (in lon/lat) decides: in China (see :func:`out_of_china`)
    the CGCS2000 3-degree Gauss-Kruger CM zone with central meridian
    ``3 * round(lon / 3)``, clamped to 75E-135E (EPSG:4534-4554, no zone prefix on the
    easting); elsewhere the WGS84 UTM zone (EPSG:326xx north, 327xx south; the Norway and
    Svalbard exceptions are not applied). The choice is logged at INFO.

    Parameters
    ----------
    data : geopandas.GeoDataFrame, geopandas.GeoSeries or tuple of 4 floats
        The study area, or its bounds ``(minx, miny, maxx, maxy)``.
    crs : str, int, pyproj.CRS, Datum or None
        CRS (or stated datum) of ``data``. Defaults to ``data.crs``; bounds without
        ``crs`` are taken as WGS84 lon/lat.

    Returns
    -------
    pyproj.CRS
        The projected CRS in metres.

    Raises
    ------
    CRSError
        If the data has no CRS and none is given, or has no finite bounds.

    Examples
    --------
    >>> gisplan.crs.choose_metric_crs((116.3, 39.9, 116.5, 40.0)).to_epsg()
    4548
    >>> gisplan.crs.choose_metric_crs((24.9, 60.1, 25.0, 60.2)).to_epsg()
    32635
    """
    lon, lat = _centre_lonlat(data, crs)
    if bool(out_of_china(lon, lat)):
        zone = min(max(math.floor((lon + 180.0) / 6.0) + 1, 1), 60)
        epsg = (32600 if lat >= 0 else 32700) + zone
    else:
        cm = 3 * math.floor(lon / 3.0 + 0.5)
        cm = min(max(cm, _CM_FIRST), _CM_LAST)
        epsg = _EPSG_GK3_FIRST + (cm - _CM_FIRST) // 3
    chosen = pyproj.CRS.from_epsg(epsg)
    logger.info("metric CRS for centre (%.4f, %.4f): EPSG:%d %s", lon, lat, epsg, chosen.name)
    return chosen


def _as_crs(value: object) -> pyproj.CRS | None:
    if value is None:
        return None
    if isinstance(value, (gpd.GeoDataFrame, gpd.GeoSeries)):
        return cast("pyproj.CRS | None", value.crs)
    if isinstance(value, (str, int, pyproj.CRS, Datum)):
        return parse_datum(value).crs
    raise CRSError(f"cannot read a CRS from {type(value).__name__} {value!r}")


def is_metric(crs: str | int | pyproj.CRS | Datum | None) -> bool:
    """Tell whether a CRS is projected with metre axes.

    Parameters
    ----------
    crs : str, int, pyproj.CRS, Datum or None
        The CRS (anything :func:`parse_datum` accepts). None is not metric.

    Returns
    -------
    bool
        True for a projected CRS whose horizontal axes are in metres.

    Examples
    --------
    >>> gisplan.crs.is_metric(4548), gisplan.crs.is_metric("WGS84"), gisplan.crs.is_metric(None)
    (True, False, False)
    """
    resolved = _as_crs(crs)
    if resolved is None or not resolved.is_projected:
        return False
    axes = resolved.axis_info[:2]
    return len(axes) == 2 and all(  # noqa: PLR2004
        axis.unit_name in {"metre", "meter"} for axis in axes
    )


def _horizontal(crs: pyproj.CRS) -> pyproj.CRS:
    """Return the horizontal part of a compound CRS, the source of a bound CRS, else the CRS."""
    if crs.is_compound and crs.sub_crs_list:
        crs = crs.sub_crs_list[0]
    if crs.is_bound and crs.source_crs is not None:
        crs = crs.source_crs
    return crs


def _is_normal_mercator(method: str) -> bool:
    """Mercator, World Mercator and Web (pseudo) Mercator; not transverse or oblique ones."""
    name = method.casefold()
    return "mercator" in name and "transverse" not in name and "oblique" not in name


def _grid(crs: pyproj.CRS) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Lon/lat points over the CRS's area of use (the whole world if it has none)."""
    area = crs.area_of_use
    west, south, east, north = area.bounds if area is not None else (-180.0, -80.0, 180.0, 80.0)
    if east < west:  # across the antimeridian
        east += 360.0
    lon, lat = np.meshgrid(
        np.linspace(west, east, _AREA_GRID), np.linspace(south, north, _AREA_GRID)
    )
    lon = (lon + 180.0) % 360.0 - 180.0
    return lon.ravel(), np.clip(lat.ravel(), -89.0, 89.0)


def _distortion(crs: pyproj.CRS, lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[float, float]:
    """Largest angular distortion (degrees) and scale error (|k - 1|) at the lon/lat points."""
    factors = pyproj.Proj(crs).get_factors(lon, lat, errcheck=False)
    angular = np.atleast_1d(np.asarray(factors.angular_distortion, dtype=np.float64))
    scale = np.concatenate(
        [
            np.atleast_1d(np.asarray(factors.meridional_scale, dtype=np.float64)),
            np.atleast_1d(np.asarray(factors.parallel_scale, dtype=np.float64)),
        ]
    )
    angular, scale = angular[np.isfinite(angular)], scale[np.isfinite(scale)]
    return (
        float(angular.max()) if angular.size else 0.0,
        float(np.abs(scale - 1.0).max()) if scale.size else 0.0,
    )


def distance_crs_problem(
    crs: str | int | pyproj.CRS | Datum | None, *, at: tuple[float, float] | None = None
) -> str | None:
    """Tell why a CRS cannot be the working CRS for distances, or None when it can.

    A working CRS must be projected, in metres and conformal, with a true scale where the
    study area is. Refused are: no CRS; geographic (degree) CRSs; units other than metre
    (feet ...); the normal Mercator family (Web/pseudo Mercator EPSG:3857/900913, World
    Mercator EPSG:3395: the scale grows as 1/cos(latitude), x1.22 at 35N); projections
    that are not conformal (angular distortion over the CRS's area of use, e.g. equal-area
    or equidistant cylindrical ones); and, when ``at`` is given, a scale off by more than
    1 % there (e.g. a UTM zone far from the data). Everything is read from pyproj: axis
    units, the projection method's name and PROJ's scale factors.

    Parameters
    ----------
    crs : str, int, pyproj.CRS, Datum or None
        The CRS (anything :func:`parse_datum` accepts).
    at : tuple of float, optional
        ``(lon, lat)`` of the study area's centre, WGS84 degrees.

    Returns
    -------
    str or None
        One sentence naming the CRS and what is wrong with it; None if it is fine.

    Raises
    ------
    CRSError
        If the CRS itself is unknown.

    Examples
    --------
    >>> gisplan.crs.distance_crs_problem(4548) is None
    True
    >>> gisplan.crs.distance_crs_problem(3857)[:40]
    'EPSG:3857 is a Popular Visualisation Pse'
    """
    resolved = _as_crs(crs)
    if resolved is None:
        return "no coordinate system is given"
    resolved = _horizontal(resolved)
    return _kind_problem(resolved) or _scale_problem(resolved, at)


def _kind_problem(crs: pyproj.CRS) -> str | None:
    """Refuse geographic CRSs, units other than metre and the normal Mercator family."""
    label = _crs_label(crs)
    if not crs.is_projected:
        return f"{label} is not projected: its coordinates are degrees, not metres"
    units = sorted({str(axis.unit_name) for axis in crs.axis_info[:2]})
    if not set(units) <= {"metre", "meter"}:
        return f"{label} measures in {', '.join(units)}, not in metres"
    method = _method(crs)
    if _is_normal_mercator(method):
        return (
            f"{label} is a {method} projection: its scale grows with latitude "
            "(1/cos(latitude), x1.22 at 35N), so every distance and area would be too large"
        )
    return None


def _method(crs: pyproj.CRS) -> str:
    operation = crs.coordinate_operation
    return str(operation.method_name) if operation is not None else ""


def _scale_problem(crs: pyproj.CRS, at: tuple[float, float] | None) -> str | None:
    """Refuse a projection that is not conformal, or not true to scale at ``at``."""
    label, method = _crs_label(crs), _method(crs)
    angular, _ = _distortion(crs, *_grid(crs))
    if angular > _MAX_ANGULAR_DISTORTION_DEG:
        return (
            f"{label} ({method}) is not conformal: it distorts angles by up to {angular:.1f} "
            "degrees over its area of use, so distances depend on their direction"
        )
    if at is not None and all(math.isfinite(v) for v in at):
        angular, scale = _distortion(crs, at[0], at[1])
        if angular > _MAX_ANGULAR_DISTORTION_DEG or scale > _MAX_SCALE_ERROR:
            return (
                f"{label} ({method}) is not true to scale at the study area "
                f"({at[0]:.2f}E, {at[1]:.2f}N): distances are off by {100 * scale:.1f} %"
            )
    return None


def require_metric_crs(
    gdf_or_crs: gpd.GeoDataFrame | gpd.GeoSeries | str | int | pyproj.CRS | Datum | None,
    *,
    what: str,
) -> None:
    """Refuse data that is not in a projected CRS in metres.

    Call it first in every function that measures distance, area or buffers.

    Parameters
    ----------
    gdf_or_crs : GeoDataFrame, GeoSeries, str, int, pyproj.CRS, Datum or None
        The data, or its CRS.
    what : str
        What is being computed, used in the message.

    Raises
    ------
    CRSError
        If the CRS is missing, geographic or not in metres.

    Examples
    --------
    >>> gisplan.crs.require_metric_crs(gpd.GeoSeries([box(0, 0, 1, 1)], crs=4548), what="area")
    >>> gisplan.crs.require_metric_crs(4326, what="area")
    Traceback (most recent call last):
    ...
    gisplan.errors.CRSError: area: need a projected CRS in metres, got EPSG:4326; ...
    """
    crs = _as_crs(gdf_or_crs)
    if not is_metric(crs):
        raise CRSError(
            f"{what}: need a projected CRS in metres, got {_crs_label(crs)}; "
            "run gisplan.crs.to_metric(gdf, datum=...) first"
        )
    problem = _cached_problem(cast("pyproj.CRS", crs))
    if problem is not None:
        raise CRSError(
            f"{what}: cannot measure distances in {_crs_label(crs)}: {problem}; "
            f"{_DISTANCE_CRS_FIX}, and run gisplan.crs.to_metric(gdf, target=...)"
        )


@functools.lru_cache(maxsize=64)
def _cached_problem(crs: pyproj.CRS) -> str | None:
    """:func:`distance_crs_problem` without a study area, once per CRS (a guard runs often)."""
    return distance_crs_problem(crs)


require_metric = require_metric_crs
"""Alias of :func:`require_metric_crs` (the name used in STYLE.md)."""


def to_metric(
    gdf: gpd.GeoDataFrame,
    *,
    datum: str | int | pyproj.CRS | Datum | None = None,
    target: str | int | pyproj.CRS | Datum | None = None,
    what: str = "layer",
) -> gpd.GeoDataFrame:
    """Return a copy projected into a metric CRS, offsets removed.

    The layer goes through :func:`to_wgs84` and then into ``target``, or into
    :func:`choose_metric_crs` of its extent. When the source CRS (the stated datum, or
    else the file's) is already metric and ``target`` is None or the same CRS, the
    coordinates are returned unchanged (as a copy).

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        The layer.
    datum : str, int, pyproj.CRS, Datum or None
        The stated datum (see :func:`to_wgs84`).
    target : str, int, pyproj.CRS, Datum or None
        The metric CRS wanted; one run should use one, from :func:`choose_metric_crs`.
    what : str
        Name of the layer, used in messages.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy in a projected CRS in metres.

    Raises
    ------
    CRSError
        As :func:`to_wgs84`, or if ``target`` is not a projected CRS in metres.

    Examples
    --------
    >>> gdf = gpd.GeoDataFrame(geometry=[Point(117.0, 39.9)])
    >>> out = gisplan.crs.to_metric(gdf, datum="CGCS2000")
    >>> out.crs.to_epsg(), round(float(out.geometry.x.iloc[0]), 3)
    (4548, 500000.0)
    """
    target_crs = None if target is None else parse_datum(target)
    if target_crs is not None and (target_crs.offset is not None or not is_metric(target_crs)):
        raise CRSError(
            f"{what}: target {target_crs.name} is not a projected CRS in metres; "
            "use e.g. EPSG:4548 or gisplan.crs.choose_metric_crs(...)"
        )
    if target_crs is not None and (problem := _cached_problem(target_crs.crs)) is not None:
        raise CRSError(f"{what}: target {target_crs.name} refused: {problem}; {_DISTANCE_CRS_FIX}")
    source = _effective_datum(gdf, datum, what=what)
    if (
        source.offset is None
        and is_metric(source.crs)
        and _cached_problem(source.crs) is None
        and (target_crs is None or _same_crs(target_crs.crs, source.crs))
    ):
        keep = source.crs if target_crs is None else target_crs.crs
        return gdf.set_crs(keep, allow_override=True).copy()
    wgs = to_wgs84(gdf, datum=source, what=what)
    chosen = target_crs.crs if target_crs is not None else choose_metric_crs(wgs)
    return wgs.to_crs(chosen)


def implausible_rows(
    gdf: gpd.GeoDataFrame,
    *,
    datum: str | int | pyproj.CRS | Datum | None = None,
    what: str = "layer",
) -> npt.NDArray[np.intp]:
    """Find rows whose coordinates cannot be right for the stated datum (e.g. swapped lon/lat).

    Geographic datums need lon in [-180, 180] and lat in [-90, 90]; CGCS2000, GCJ-02
    and BD-09 must also fall in China's rectangle (:func:`out_of_china`, 0.5 degree
    margin). Projected CRSs need the bounds inside the CRS's area of use, transformed
    into the CRS, with a 50 km margin. Empty and missing geometries are never flagged;
    non-finite coordinates always are.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        The layer.
    datum : str, int, pyproj.CRS, Datum or None
        The stated datum; None uses ``gdf.crs``.
    what : str
        Name of the layer, used in messages.

    Returns
    -------
    numpy.ndarray of int
        Integer positions (not index labels) of the implausible rows, ascending.

    Raises
    ------
    CRSError
        If neither the file nor the caller gives a CRS.

    Examples
    --------
    >>> gdf = gpd.GeoDataFrame(geometry=[Point(116.31, 39.99), Point(39.99, 116.31)])
    >>> gisplan.crs.implausible_rows(gdf, datum="CGCS2000").tolist()
    [1]
    """
    stated = _effective_datum(gdf, datum, what=what)
    geoms = gdf.geometry
    bounds = np.asarray(geoms.bounds.to_numpy(), dtype=np.float64).reshape(-1, 4)
    present = ~np.asarray(geoms.isna().to_numpy(), dtype=bool)
    present &= ~np.asarray(geoms.is_empty.to_numpy(), dtype=bool)
    crs = stated.crs
    if crs.is_geographic:
        lo_x, lo_y, hi_x, hi_y = -180.0, -90.0, 180.0, 90.0
        china = stated.offset is not None or _is_cgcs2000(crs)
        if china:
            lo_x, hi_x = _CHINA_LON[0] - _CHINA_MARGIN_DEG, _CHINA_LON[1] + _CHINA_MARGIN_DEG
            lo_y, hi_y = _CHINA_LAT[0] - _CHINA_MARGIN_DEG, _CHINA_LAT[1] + _CHINA_MARGIN_DEG
    elif crs.area_of_use is not None:
        transformer = _transformer(_WGS84_CRS, crs)
        lo_x, lo_y, hi_x, hi_y = transformer.transform_bounds(
            *crs.area_of_use.bounds, densify_pts=21
        )
        factor = crs.axis_info[0].unit_conversion_factor or 1.0
        margin = _PROJECTED_MARGIN_M / factor
        lo_x, lo_y, hi_x, hi_y = lo_x - margin, lo_y - margin, hi_x + margin, hi_y + margin
    else:
        logger.debug("%s: %s has no area of use; only finiteness checked", what, stated.name)
        lo_x = lo_y = -math.inf
        hi_x = hi_y = math.inf
    finite = np.isfinite(bounds).all(axis=1)
    inside = (
        (bounds[:, 0] >= lo_x)
        & (bounds[:, 2] <= hi_x)
        & (bounds[:, 1] >= lo_y)
        & (bounds[:, 3] <= hi_y)
    )
    bad = present & ~(finite & inside)
    rows = np.flatnonzero(bad)
    if rows.size:
        logger.debug("%s: %d rows implausible for %s", what, rows.size, stated.name)
    return rows


def _is_cgcs2000(crs: pyproj.CRS) -> bool:
    geodetic = crs.geodetic_crs
    return (
        geodetic is not None
        and geodetic.datum is not None
        and (geodetic.datum.name == "China 2000")
    )


# --- plausibility of the study area ----------------------------------------------------


def _lonlat_points(gdf: gpd.GeoDataFrame | gpd.GeoSeries) -> npt.NDArray[np.float64]:
    """``(n, 2)`` WGS84 lon/lat of each row's representative point (NaN where unusable)."""
    geoms = np.asarray(gdf.geometry.array if isinstance(gdf, gpd.GeoDataFrame) else gdf.array)
    out = np.full((len(geoms), 2), np.nan)
    if gdf.crs is None or not len(geoms):
        return out
    usable = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    points = shapely.point_on_surface(geoms[usable])
    transformer = _transformer(gdf.crs, _WGS84_CRS)
    xy = shapely.get_coordinates(points)
    lon, lat = transformer.transform(xy[:, 0], xy[:, 1], errcheck=False)
    out[usable] = np.column_stack([lon, lat])
    out[~np.isfinite(out).all(axis=1)] = np.nan
    return out


def study_centre(gdf: gpd.GeoDataFrame | gpd.GeoSeries) -> tuple[float, float] | None:
    """Return the median WGS84 lon/lat of the features: the centre of a study area.

    The median of each coordinate of the features' representative points; one feature far
    away (a typo, another city) does not move it.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame or geopandas.GeoSeries
        Usually the communities, in any CRS.

    Returns
    -------
    tuple of float or None
        ``(lon, lat)``; None when no feature has usable coordinates or the CRS is unknown.

    Examples
    --------
    >>> pts = gpd.GeoSeries([Point(117.0, 35.0), Point(117.1, 35.1), Point(2.35, 48.85)],
    ...                     crs=4326)
    >>> gisplan.crs.study_centre(pts)
    (117.0, 35.1)
    """
    lonlat = _lonlat_points(gdf)
    lonlat = lonlat[np.isfinite(lonlat).all(axis=1)]
    if not len(lonlat):
        return None
    lon, lat = np.median(lonlat, axis=0)
    return float(lon), float(lat)


def far_rows(
    gdf: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    centre: tuple[float, float],
    max_m: float = STUDY_AREA_RADIUS_M,
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float64]]:
    """Find rows farther than ``max_m`` from a study area's centre.

    Distances are geodesic from ``centre`` to the nearest point of each geometry (measured
    in an azimuthal equidistant projection centred there). Missing, empty and non-finite
    geometries are never flagged (the layer checks report them).

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame or geopandas.GeoSeries
        A layer in any CRS (nothing is flagged without one).
    centre : tuple of float
        ``(lon, lat)`` in WGS84, e.g. from :func:`study_centre`.
    max_m : float
        Largest plausible distance, metres (default :data:`STUDY_AREA_RADIUS_M`).

    Returns
    -------
    positions, distances : numpy.ndarray
        Integer positions of the far rows (ascending) and their distances in metres.

    Examples
    --------
    >>> pts = gpd.GeoSeries([Point(117.0, 35.0), Point(2.35, 48.85)], crs=4326)
    >>> pos, dist = gisplan.crs.far_rows(pts, centre=(117.0, 35.0))
    >>> pos.tolist(), round(float(dist[0]) / 1e6, 1)
    ([1], 8.7)
    """
    geoms = np.asarray(gdf.geometry.array if isinstance(gdf, gpd.GeoDataFrame) else gdf.array)
    empty = np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.float64)
    if gdf.crs is None or not len(geoms):
        return empty
    lon, lat = centre
    local = pyproj.CRS.from_proj4(
        f"+proj=aeqd +lat_0={lat:.8f} +lon_0={lon:.8f} +datum=WGS84 +units=m +no_defs"
    )
    transformer = _transformer(gdf.crs, local)
    usable = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    moved = shapely.transform(
        geoms[usable],
        lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1], errcheck=False)),
    )
    coords, owner = shapely.get_coordinates(moved, return_index=True)
    finite = np.ones(len(moved), dtype=bool)
    finite[np.unique(owner[~np.isfinite(coords).all(axis=1)])] = False
    dist = np.full(len(geoms), np.nan)
    rows = np.flatnonzero(usable)[finite]
    dist[rows] = shapely.distance(moved[finite], shapely.Point(0.0, 0.0))
    far = np.flatnonzero(dist > max_m)
    return far.astype(np.intp), dist[far]


def offset_hint(
    points: gpd.GeoDataFrame | gpd.GeoSeries,
    distance_m: Callable[[gpd.GeoSeries], npt.NDArray[np.float64]],
    *,
    what: str = "points",
) -> str | None:
    """Name GCJ-02 or BD-09 as the likely cause when points sit off a network by an offset.

    Points recorded on a Chinese web map (高德/腾讯: GCJ-02, 百度: BD-09) but declared as
    WGS84 lie 300-700 m off the true positions, in one direction over a whole town. The
    points are moved as if their offset were removed; if that brings the upper quartile of
    ``distance_m`` (e.g. the snapping distance to the walking network) down to 60 % or less,
    and by at least 10 m, the offset is named. Outside China (no offset there) nothing is
    said.

    Parameters
    ----------
    points : geopandas.GeoDataFrame or geopandas.GeoSeries
        The points (any geometry: its representative point is used), in a projected CRS.
    distance_m : callable
        Distance in metres of each point of a GeoSeries (same CRS) to what it should touch.
    what : str
        Name of the layer, used in the message.

    Returns
    -------
    str or None
        A sentence naming the datum, the shift, the median distances and the fix; None if
        no offset explains the distances.

    Examples
    --------
    >>> from shapely.geometry import LineString
    >>> line = LineString([(116.30, 39.99), (116.32, 39.99)])
    >>> gcj = gisplan.crs.wgs84_to_gcj02([116.305, 116.31, 116.315] * 2, [39.99] * 6)
    >>> pts = gpd.GeoSeries(gpd.points_from_xy(*gcj), crs=4326).to_crs(4548)
    >>> road = gpd.GeoSeries([line], crs=4326).to_crs(4548).iloc[0]
    >>> gisplan.crs.offset_hint(pts, lambda p: p.distance(road).to_numpy())[:44]
    'points: distances look like a GCJ-02 offset:'
    """
    series = points.geometry if isinstance(points, gpd.GeoDataFrame) else points
    geoms = np.asarray(series.array, dtype=object)
    usable = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if series.crs is None or int(usable.sum()) < _HINT_MIN_POINTS:
        return None
    base = gpd.GeoSeries(shapely.point_on_surface(geoms[usable]), crs=series.crs)
    lonlat = _lonlat_points(base)
    ok = np.isfinite(lonlat).all(axis=1) & ~out_of_china(lonlat[:, 0], lonlat[:, 1])
    if int(ok.sum()) < _HINT_MIN_POINTS:
        return None
    base, lonlat = base[ok], lonlat[ok]
    before = float(np.nanpercentile(distance_m(base), _HINT_QUANTILE))
    to_points = _transformer(_WGS84_CRS, series.crs)
    best: tuple[float, str, float] | None = None
    for name, remove in (("GCJ-02", gcj02_to_wgs84), ("BD-09", bd09_to_wgs84)):
        lon, lat = remove(lonlat[:, 0], lonlat[:, 1])
        x, y = to_points.transform(lon, lat, errcheck=False)
        moved = gpd.GeoSeries(gpd.points_from_xy(x, y), index=base.index, crs=series.crs)
        after = float(np.nanpercentile(distance_m(moved), _HINT_QUANTILE))
        shift = float(np.median(shapely.distance(base.to_numpy(), moved.to_numpy())))
        if best is None or after < best[0]:
            best = (after, name, shift)
    if best is None:
        return None
    after, name, shift = best
    if not (after <= _HINT_RATIO * before and before - after >= _HINT_MIN_GAIN_M):
        return None
    source = "高德/腾讯" if name == "GCJ-02" else "百度"
    return (
        f"{what}: distances look like a {name} offset: removing the {name} offset "
        f"(a shift of about {shift:.0f} m) brings the upper quartile of distances to the "
        f"network from {before:.0f} m to {after:.0f} m; the layer is probably {name} "
        f"({source} map) coordinates declared as WGS84 - state `datum: {name}` on this layer "
        "in the scenario"
    )
