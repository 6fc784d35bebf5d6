"""Adjacency graph of communities and projects (:func:`gisplan.bundles.adjacency`)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import networkx as nx
import numpy as np
import shapely

from gisplan._text import is_blank
from gisplan.bundles._common import (
    _COMMUNITY,
    _PROJECT,
    _check_layer,
    _finite_at_least,
    _units,
)
from gisplan.errors import CRSError, ScenarioError, SchemaError

if TYPE_CHECKING:
    from collections.abc import Sequence

    import geopandas as gpd
    from numpy.typing import NDArray

    from gisplan.bundles._common import _Units

logger = logging.getLogger(__name__)


def _groups(
    communities: gpd.GeoDataFrame, projects: gpd.GeoDataFrame, units: _Units, group_by: str
) -> list[str | None]:
    if group_by not in communities.columns:
        raise SchemaError(
            f"communities: column {group_by!r} (group_by) missing; add it (e.g. 街道 as "
            "'street') or leave group_by out"
        )
    values: dict[str, str | None] = {}
    for frame, column in ((communities, "community_id"), (projects, "project_id")):
        if group_by not in frame.columns:
            continue
        for uid, v in zip(frame[column], frame[group_by], strict=True):
            values[str(uid).strip()] = None if is_blank(v) else str(v).strip()
    return [values.get(u) for u in units.ids]


def _edges(
    units: _Units,
    *,
    tolerance_m: float,
    groups: Sequence[str | None] | None,
    barriers: gpd.GeoDataFrame | None,
) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.float64], dict[str, int]]:
    geoms = units.geometry
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="dwithin", distance=float(tolerance_m))
    keep = left < right
    left, right = left[keep], right[keep]
    order = np.lexsort((right, left))
    left, right = left[order], right[order]
    dropped = {"group": 0, "barrier": 0}
    if groups is not None and len(left):
        g = np.asarray(groups, dtype=object)
        differ = np.asarray(
            [
                a is not None and b is not None and a != b
                for a, b in zip(g[left], g[right], strict=True)
            ],
            dtype=bool,
        )
        dropped["group"] = int(differ.sum())
        left, right = left[~differ], right[~differ]
    if barriers is not None and len(left):
        lines = np.asarray(barriers.geometry.array, dtype=object)
        lines = lines[[g is not None and not shapely.is_empty(g) for g in lines]]
        if len(lines):
            segments = shapely.shortest_line(geoms[left], geoms[right])
            hit, _ = shapely.STRtree(lines).query(segments, predicate="intersects")
            cut = np.zeros(len(left), dtype=bool)
            cut[hit] = True
            dropped["barrier"] = int(cut.sum())
            left, right = left[~cut], right[~cut]
    gap = shapely.distance(geoms[left], geoms[right]).astype(float)
    return left, right, gap, dropped


def adjacency(
    communities: gpd.GeoDataFrame,
    projects: gpd.GeoDataFrame,
    *,
    tolerance_m: float = 30.0,
    group_by: str | None = None,
    barriers: gpd.GeoDataFrame | None = None,
) -> nx.Graph:
    """Return the adjacency graph of communities and projects (who may share a bundle).

    Two units are adjacent when their polygons touch or lie within ``tolerance_m`` of each
    other (found with a spatial index, ``dwithin``), unless ``group_by`` puts them in two
    different groups or the straight segment between their nearest points (shapely
    ``shortest_line``; a single point when they touch) meets a barrier line.

    Parameters
    ----------
    communities
        ``community_id`` (unique) and polygons, in a projected CRS in metres.
    projects
        ``project_id`` (unique, different from every community id), ``cost_wan_yuan`` and
        ``revenue_wan_yuan`` (万元, >= 0), optional ``adjacent_only`` and ``name``; polygons in
        the same CRS as the communities.
    tolerance_m
        Largest gap between two adjacent polygons in metres (default 30 m: communities are
        usually separated by a street). 0 means touching only.
    group_by
        A column of the communities (e.g. ``"street"`` for the 街道): no edge between two
        different values. Projects take their own value when the projects layer has the column;
        a project without it, and any blank value, joins every group.
    barriers
        Lines (rivers, major roads) in the same CRS: no edge across them.

    Returns
    -------
    networkx.Graph
        Nodes are the unit ids, communities first, each kind in id order, with attributes
        ``kind`` (``"community"`` or ``"project"``), ``name``, ``cost_wan_yuan`` and
        ``revenue_wan_yuan`` (0 for communities: their need is given to :func:`large_area`),
        ``surplus_wan_yuan`` (revenue minus cost), ``area_m2`` and ``adjacent_only``. Edges
        carry ``gap_m`` (0 when touching). ``graph.graph`` holds the settings and how many
        edges ``group_by`` and ``barriers`` removed.

    Raises
    ------
    CRSError
        If a layer is not in a projected CRS in metres (a tolerance in degrees), or the two
        layers' CRS differ.
    SchemaError
        If a required column is missing or ids repeat, also across communities and projects.
    LayerError
        If a geometry is missing, or a cost or revenue is negative or not a number.
    ScenarioError
        If ``tolerance_m`` is negative or not a number.

    Examples
    --------
    >>> com = gpd.GeoDataFrame({"community_id": ["C1", "C2"]},
    ...                        geometry=[box(0, 0, 100, 100), box(300, 0, 400, 100)], crs=4548)
    >>> pro = gpd.GeoDataFrame({"project_id": ["P1"], "cost_wan_yuan": [50.0],
    ...                         "revenue_wan_yuan": [90.0]}, geometry=[box(120, 0, 280, 100)],
    ...                        crs=4548)
    >>> sorted(gisplan.bundles.adjacency(com, pro).edges)
    [('C1', 'P1'), ('C2', 'P1')]
    """
    if not _finite_at_least(tolerance_m, 0.0):
        raise ScenarioError(
            f"adjacency: tolerance_m = {tolerance_m!r} is not metres >= 0; write e.g. 30",
            [("bundles.tolerance_m", f"{tolerance_m!r} is not metres >= 0", "write e.g. 30")],
        )
    units = _units(communities, projects)
    groups = None if group_by is None else _groups(communities, projects, units, group_by)
    if barriers is not None:
        _check_layer(barriers, "barriers")
        if barriers.crs != units.crs:
            raise CRSError(
                f"barriers are in {barriers.crs}, communities in {units.crs}; "
                "bring both to one metric CRS with gisplan.crs.to_metric"
            )
    left, right, gap, dropped = _edges(
        units, tolerance_m=float(tolerance_m), groups=groups, barriers=barriers
    )
    graph = nx.Graph(
        tolerance_m=float(tolerance_m),
        group_by=group_by,
        crs=str(units.crs),
        removed_by_group=dropped["group"],
        removed_by_barrier=dropped["barrier"],
    )
    areas = shapely.area(units.geometry)
    for i, uid in enumerate(units.ids):
        graph.add_node(
            uid,
            kind=_PROJECT if units.is_project[i] else _COMMUNITY,
            name=units.names[i],
            cost_wan_yuan=float(units.cost[i]),
            revenue_wan_yuan=float(units.revenue[i]),
            surplus_wan_yuan=float(units.revenue[i] - units.cost[i]),
            area_m2=float(areas[i]),
            adjacent_only=bool(units.adjacent_only[i]),
        )
    graph.add_edges_from(
        (units.ids[a], units.ids[b], {"gap_m": float(g)})
        for a, b, g in zip(left.tolist(), right.tolist(), gap.tolist(), strict=True)
    )
    logger.info(
        "adjacency: %d communities, %d projects, %d edges (tolerance %.1f m; %d cut by group, "
        "%d by barriers)",
        units.n_communities,
        len(units.ids) - units.n_communities,
        graph.number_of_edges(),
        tolerance_m,
        dropped["group"],
        dropped["barrier"],
    )
    return graph
