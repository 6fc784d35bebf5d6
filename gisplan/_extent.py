"""The data extent of a study area: where the input data stops (for edge-effect flags).

Three sources, in order of preference (:func:`data_extent`):

* a stated boundary polygon layer (``access: boundary:``);
* the ``<bounds>`` of an OpenStreetMap extract (``.osm``/``.osm.pbf``) the facilities came
  from — read from the file header only (:func:`osm_bounds`);
* else, for an OSM extract without ``<bounds>`` (an Overpass export), the convex hull of
  its facilities: an extract is clipped, so a facility outside its hull cannot be known.

A bureau's own layers (a survey, a POI export of the whole jurisdiction) have no such edge
unless a boundary is stated: then the extent is unknown and nothing is flagged.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

import geopandas as gpd
import shapely
from shapely.geometry import box

from gisplan import crs as gcrs
from gisplan.errors import LayerError

if TYPE_CHECKING:
    from pathlib import Path

    import pyproj
    from shapely.geometry.base import BaseGeometry

__all__ = ["data_extent", "osm_bounds"]

logger = logging.getLogger(__name__)

_OSM_SUFFIXES = (".osm", ".osm.pbf", ".pbf", ".osm.xml")
_BOUNDS = re.compile(r"<bounds\b([^>]*)/?>")
_ATTR = re.compile(r'(minlat|minlon|maxlat|maxlon)\s*=\s*["\']([-+0-9.eE]+)["\']')
_HEADER_BYTES = 65536
#: Box edges are densified every this many degrees before projection (straight in degrees,
#: slightly curved in a Gauss-Krüger zone).
_DENSIFY_DEG = 0.0005


def _is_osm(path: Path) -> bool:
    return path.name.lower().endswith(_OSM_SUFFIXES)


def _pbf_bounds(path: Path) -> tuple[float, float, float, float] | None:
    try:
        import osmium  # noqa: PLC0415 - optional, only .osm.pbf extents
    except ImportError:
        logger.info("%s: osmium not installed, the <bounds> of a .pbf is not read", path)
        return None
    try:
        reader = osmium.io.Reader(str(path), osmium.osm.osm_entity_bits.NOTHING)
        try:
            bounds = reader.header().box()
        finally:
            reader.close()
    except RuntimeError as err:
        logger.info("%s: header not readable (%s); no <bounds>", path, err)
        return None
    if not bounds.valid():
        return None
    lower, upper = bounds.bottom_left, bounds.top_right
    return (float(lower.lon), float(lower.lat), float(upper.lon), float(upper.lat))


def osm_bounds(path: Path) -> tuple[float, float, float, float] | None:
    """Return ``(min_lon, min_lat, max_lon, max_lat)`` of an OSM file header, or ``None``.

    Only the header is read: the first 64 KB of an ``.osm`` XML file (``<bounds>`` comes
    right after ``<osm>``), osmium's header reader for ``.pbf`` (``None`` without osmium).
    ``None`` when the file states no valid bounds.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.osm"
    >>> _ = p.write_text('<osm><bounds minlat="1" minlon="2" maxlat="3" maxlon="4"/></osm>')
    >>> osm_bounds(p)
    (2.0, 1.0, 4.0, 3.0)
    """
    if path.name.lower().endswith(".pbf"):
        return _pbf_bounds(path)
    with path.open("rb") as handle:
        head = handle.read(_HEADER_BYTES).decode("utf-8", errors="replace")
    found = _BOUNDS.search(head)
    if found is None:
        return None
    values = {k: float(v) for k, v in _ATTR.findall(found.group(1))}
    if (
        set(values) != {"minlat", "minlon", "maxlat", "maxlon"}
        or values["minlon"] >= values["maxlon"]
        or values["minlat"] >= values["maxlat"]
    ):
        return None
    return (values["minlon"], values["minlat"], values["maxlon"], values["maxlat"])


def _polygons(geometry: BaseGeometry) -> BaseGeometry:
    parts = [
        g
        for g in shapely.get_parts(geometry)
        if g.geom_type in {"Polygon", "MultiPolygon"} and not g.is_empty
    ]
    return shapely.union_all(parts)


def data_extent(
    facilities: gpd.GeoDataFrame,
    *,
    target: pyproj.CRS,
    boundary: gpd.GeoDataFrame | None = None,
    facilities_path: Path | None = None,
) -> tuple[BaseGeometry | None, str]:
    """Return the data extent in ``target`` (a metric CRS) and where it came from.

    Parameters
    ----------
    facilities
        The facilities layer, already in ``target``.
    target
        The run's metric CRS.
    boundary
        A stated study-area boundary (polygons, in any CRS it carries); wins when given.
    facilities_path
        The file the facilities were read from; its ``<bounds>`` is used for an OSM file.

    Returns
    -------
    tuple
        ``(extent, source)``: a polygon in ``target`` and ``"boundary"``, ``"osm_bounds"``
        or ``"facilities_hull"`` (an OSM extract without bounds); ``(None, "unknown")`` for
        other data without a stated boundary.

    Raises
    ------
    LayerError
        If the boundary holds no polygon, or the facilities layer is empty and no other
        extent is known.
    """
    if boundary is not None:
        projected = gcrs.to_metric(boundary, target=target, what="access.boundary")
        extent = _polygons(shapely.union_all(projected.geometry.to_numpy()))
        if extent.is_empty:
            msg = (
                "access.boundary: the layer holds no polygon; give the study-area boundary as "
                "a polygon layer (or remove boundary: to use the data's own extent)"
            )
            raise LayerError(msg)
        return extent, "boundary"
    if facilities_path is not None and _is_osm(facilities_path):
        bounds = osm_bounds(facilities_path)
        if bounds is not None:
            frame = gpd.GeoDataFrame(
                geometry=[shapely.segmentize(box(*bounds), _DENSIFY_DEG)], crs=4326
            )
            projected = gcrs.to_metric(frame, target=target, what="OSM <bounds>")
            return projected.geometry.iloc[0], "osm_bounds"
        logger.info(
            "%s: no <bounds> in the header; extent = hull of the facilities", facilities_path
        )
    else:
        return None, "unknown"
    geometry = facilities.geometry[~facilities.geometry.is_empty & facilities.geometry.notna()]
    if geometry.empty:
        msg = (
            "facilities: the layer is empty, so the data extent is unknown; add facilities "
            "or state the study area with access: boundary: <polygon layer>"
        )
        raise LayerError(msg)
    return shapely.union_all(geometry.to_numpy()).convex_hull, "facilities_hull"
