"""Estimate households and residents of communities from building footprints (估算, not survey).

OSM communities never carry households. Until the survey (摸底调查) fills them in, a run
can weigh gaps by an **estimate**: the floor area of a community's residential buildings
(footprint × levels) divided by a floor area per household, times persons per household.
Every estimate is marked ``households_source = 估算`` and the assumptions travel with it
(:class:`EstimateAssumptions`); it is never survey data.

- :func:`read_osm_buildings` reads building footprints and ``building:levels`` from an OSM file;
- :func:`estimate_households` sums them per community.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import osmium
import pandas as pd
import shapely

from gisplan.crs import choose_metric_crs
from gisplan.errors import LayerError
from gisplan.osm import RESIDENTIAL_BUILDINGS

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = [
    "ESTIMATE_COLUMNS",
    "ESTIMATE_SOURCE",
    "EstimateAssumptions",
    "estimate_households",
    "read_osm_buildings",
]

#: Value of ``households_source`` for an estimate (survey values get 调查).
ESTIMATE_SOURCE = "估算"
#: Columns :func:`estimate_households` adds to the communities.
ESTIMATE_COLUMNS = (
    "households",
    "population",
    "households_source",
    "est_floor_area_m2",
    "est_buildings",
    "est_buildings_default_levels",
    "est_note",
)
_WGS84 = "EPSG:4326"
#: ``building`` values that are not homes (never counted, even inside landuse=residential).
_NOT_HOMES = frozenset(
    {
        "commercial",
        "retail",
        "office",
        "industrial",
        "warehouse",
        "school",
        "university",
        "college",
        "kindergarten",
        "hospital",
        "public",
        "civic",
        "government",
        "church",
        "temple",
        "mosque",
        "garage",
        "garages",
        "parking",
        "roof",
        "shed",
        "hut",
        "kiosk",
        "service",
        "transportation",
        "train_station",
        "construction",
        "sports_hall",
        "stadium",
        "hotel",
    }
)


@dataclass(frozen=True, kw_only=True, slots=True)
class EstimateAssumptions:
    """The stated assumptions of an estimate; written next to every estimate.

    Attributes
    ----------
    default_levels
        Levels of a building without ``building:levels`` (6: the typical 1980s–1990s
        walk-up 多层住宅 of old communities).
    floor_area_per_household_m2
        Gross floor area per household (90 m²: typical old-community 住宅 incl. shared parts).
    persons_per_household
        Persons per household (2.62: 第七次全国人口普查 national average household size).
    """

    default_levels: int = 6
    floor_area_per_household_m2: float = 90.0
    persons_per_household: float = 2.62

    def __post_init__(self) -> None:
        """Refuse assumptions that cannot give a count."""
        values = {
            "default_levels": self.default_levels,
            "floor_area_per_household_m2": self.floor_area_per_household_m2,
            "persons_per_household": self.persons_per_household,
        }
        bad = [f"{k} = {v!r}" for k, v in values.items() if not (math.isfinite(v) and v > 0)]
        if bad:
            raise LayerError(
                f"estimate assumptions: {', '.join(bad)} not a positive number; "
                "state a positive value (defaults: 6 levels, 90 m², 2.62 persons)"
            )

    def text_zh(self) -> str:
        """Return the assumptions as one Chinese sentence (for comments and workbooks).

        Examples
        --------
        >>> EstimateAssumptions().text_zh().split("；")[1]
        '人口 = 户数 × 2.62 人/户'
        """
        return (
            "户数 = 住宅建筑基底面积 × 层数"
            f"（OSM building:levels，缺失按 {self.default_levels} 层）"
            f"÷ 每户 {self.floor_area_per_household_m2:g} m²；"
            f"人口 = 户数 × {self.persons_per_household:g} 人/户"
        )


def _levels(text: str | None) -> float | None:
    """Return ``building:levels`` as a positive number, or ``None`` (absent, 0, unreadable)."""
    if text is None:
        return None
    try:
        value = float(text.strip().replace(",", "."))
    except ValueError:
        return None
    return value if math.isfinite(value) and value > 0 else None


def _buildings(path: Path) -> Iterator[tuple[str, str, float | None, str]]:
    wkb = osmium.geom.WKBFactory()
    processor = (
        osmium.FileProcessor(str(path))
        .with_areas()
        .with_filter(osmium.filter.KeyFilter("building"))
    )
    for obj in processor:
        if not isinstance(obj, osmium.osm.Area):
            continue
        value = str(obj.tags.get("building") or "no").strip().lower()
        if value == "no":
            continue
        kind = "w" if obj.from_way() else "r"
        try:
            geom = wkb.create_multipolygon(obj)
        except RuntimeError:  # an unclosed or broken outline: not measurable
            continue
        yield f"osm:{kind}{obj.orig_id()}", value, _levels(obj.tags.get("building:levels")), geom


def read_osm_buildings(path: str | Path) -> gpd.GeoDataFrame:
    """Read building footprints with their ``building`` value and levels from an OSM file.

    Parameters
    ----------
    path
        An ``.osm`` XML or ``.osm.pbf`` file.

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326 (Multi)Polygons; columns ``building_id`` (``osm:w…``/``osm:r…``),
        ``building`` (the tag value, lower case) and ``levels`` (``building:levels``, NaN
        where absent or not a positive number).

    Raises
    ------
    LayerError
        If the file is missing or unreadable.
    """
    p = Path(path)
    if not p.is_file():
        raise LayerError(f"{p}: OSM file not found; check the path")
    try:
        rows = list(_buildings(p))
    except RuntimeError as err:
        raise LayerError(
            f"{p}: cannot read the OSM file ({err}); check it is .osm or .osm.pbf"
        ) from err
    return gpd.GeoDataFrame(
        {
            "building_id": [r[0] for r in rows],
            "building": [r[1] for r in rows],
            "levels": np.array([np.nan if r[2] is None else r[2] for r in rows], dtype="float64"),
        },
        geometry=shapely.from_wkb([r[3] for r in rows]) if rows else [],
        crs=_WGS84,
    )


def _counted(buildings: gpd.GeoDataFrame, communities: gpd.GeoDataFrame) -> npt.NDArray[np.bool_]:
    """Residential values always; ``building=yes`` only inside a landuse=residential polygon."""
    value = buildings["building"].astype(str)
    homes = value.isin(RESIDENTIAL_BUILDINGS)
    maybe = value.eq("yes")
    if "source" not in communities.columns:
        return np.asarray(homes | maybe, dtype=bool)
    landuse = communities[communities["source"].astype(str).eq("landuse=residential")]
    if not len(landuse) or not maybe.any():
        return np.asarray(homes, dtype=bool)
    inside = buildings.loc[maybe].sjoin(landuse[["geometry"]], predicate="within", how="inner")
    counted: npt.NDArray[np.bool_] = np.array(homes, dtype=bool)
    counted |= np.asarray(buildings.index.isin(inside.index), dtype=bool)
    return counted


def estimate_households(
    communities: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame,
    *,
    assumptions: EstimateAssumptions | None = None,
) -> gpd.GeoDataFrame:
    """Estimate households and residents of each community from its residential buildings.

    A building counts for the community its representative point lies in; counted are the
    residential ``building`` values (:data:`gisplan.osm.RESIDENTIAL_BUILDINGS`) and, inside
    ``landuse=residential`` polygons (``source`` column), ``building=yes``. Floor area is
    footprint (m², in :func:`gisplan.crs.choose_metric_crs`) × levels (``levels``, else
    ``assumptions.default_levels``); households = round(floor area ÷ floor area per
    household), population = round(households × persons per household).

    Parameters
    ----------
    communities
        Polygons with ``community_id`` (e.g. :func:`gisplan.osm.read_osm_communities`).
    buildings
        Footprints with ``building`` and ``levels`` (:func:`read_osm_buildings`).
    assumptions
        The stated assumptions (default :class:`EstimateAssumptions`).

    Returns
    -------
    geopandas.GeoDataFrame
        A copy of ``communities`` with :data:`ESTIMATE_COLUMNS`: ``households`` and
        ``population`` (Int64; 0 where no building is mapped, with ``est_note`` saying so),
        ``households_source`` = 估算, ``est_floor_area_m2``, ``est_buildings`` (counted) and
        ``est_buildings_default_levels`` (of them, without ``building:levels``).

    Examples
    --------
    A 20 m × 30 m footprint with 5 levels: 3000 m² → 33 households (3000 / 90 = 33.3) →
    86 persons (33 × 2.62 = 86.5):

    >>> from shapely.geometry import box
    >>> crs = "EPSG:4548"
    >>> comm = gpd.GeoDataFrame({"community_id": ["c1"]}, geometry=[box(0, 0, 100, 100)], crs=crs)
    >>> bldg = gpd.GeoDataFrame({"building": ["apartments"], "levels": [5.0]},
    ...                         geometry=[box(10, 10, 30, 40)], crs=crs)
    >>> out = estimate_households(comm.set_crs(crs), bldg)
    >>> row = out.iloc[0]
    >>> int(row["households"]), int(row["population"]), row["households_source"]
    (33, 86, '估算')
    >>> float(row["est_floor_area_m2"])
    3000.0
    """
    rules = assumptions or EstimateAssumptions()
    if "community_id" not in communities.columns:
        raise LayerError(
            "communities: column 'community_id' missing; read them with "
            "gisplan.osm.read_osm_communities or add the column"
        )
    out = communities.copy()
    metric = communities.crs if communities.crs and communities.crs.is_projected else None
    metric = metric or choose_metric_crs(communities)
    comm_m = communities.to_crs(metric)[["community_id", "geometry"]].reset_index(drop=True)
    bldg = buildings.to_crs(metric).reset_index(drop=True)
    bldg = bldg[_counted(bldg, communities.to_crs(metric))]
    levels = pd.to_numeric(bldg["levels"], errors="coerce")
    points = gpd.GeoDataFrame(
        {
            "floor_m2": bldg.geometry.area.to_numpy()
            * levels.fillna(rules.default_levels).to_numpy(),
            "default": levels.isna().to_numpy(),
        },
        geometry=bldg.geometry.representative_point().to_numpy(),
        crs=metric,
    )
    joined = points.sjoin(comm_m, predicate="within", how="inner")
    per = joined.groupby("index_right").agg(
        floor=("floor_m2", "sum"), n=("floor_m2", "size"), n_default=("default", "sum")
    )
    per = per.reindex(range(len(comm_m)))
    floor = per["floor"].fillna(0.0).to_numpy()
    households = np.rint(floor / rules.floor_area_per_household_m2)
    out["households"] = pd.array(households.astype("int64"), dtype="Int64")
    population = np.rint(households * rules.persons_per_household).astype("int64")
    out["population"] = pd.array(population, dtype="Int64")
    out["households_source"] = ESTIMATE_SOURCE
    out["est_floor_area_m2"] = np.round(floor, 1)
    out["est_buildings"] = per["n"].fillna(0).astype("int64").to_numpy()
    out["est_buildings_default_levels"] = per["n_default"].fillna(0).astype("int64").to_numpy()
    out["est_note"] = np.where(
        out["est_buildings"].to_numpy() == 0,
        "无住宅建筑轮廓，户数记 0，需调查",
        "由建筑轮廓 × 层数估算，需调查核实",
    )
    return out
