"""Walking accessibility: community origins, nearest facilities, catchments, service areas.

Distances are exact network distances in metres on a :class:`~gisplan.network.WalkGraph`:
a point's straight snap distance to its nearest edge, plus the walk along that edge to one
of its ends, plus the shortest path through the graph, and the same at the other end. A
community's distance to a facility type is the minimum over its origins (entrances).

:func:`nearest_facilities` runs **one** multi-source Dijkstra per facility type
(:func:`scipy.sparse.csgraph.dijkstra` with ``min_only=True``) from one virtual node per
facility, joined to both ends of the facility's edge; an origin and a facility on the same
edge are also measured directly along the edge. Nothing loops in Python over nodes, edges
or points. Unreachable pairs are NaN with a note saying why; nothing is silently dropped.

A straight-line distance times a detour factor is used only when asked for
(``AccessOptions(straight_line_factor=1.3)`` or :func:`straight_line_nearest`), and every
row it produces says so in ``method``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from gisplan.crs import offset_hint, require_metric_crs
from gisplan.errors import CRSError, ScenarioError, SchemaError
from gisplan.network import Snap, WalkGraph, snap_points

if TYPE_CHECKING:
    from collections.abc import Sequence

    from numpy.typing import NDArray

__all__ = [
    "AccessOptions",
    "NearestSearch",
    "building_distances",
    "community_origins",
    "facility_catchments",
    "k_nearest_within",
    "nearest_facilities",
    "service_areas",
    "straight_line_nearest",
]

logger = logging.getLogger(__name__)

#: Derived entrances of one community are at least about this far apart along its boundary.
ENTRANCE_GAP_M = 50.0
#: Distance-matrix cells held at once by the batched searches (8 bytes each).
_BATCH_CELLS = 16_000_000
#: Street pieces shorter than this are left out of service areas.
_MIN_PIECE_M = 1e-9
_RESULT_COLUMNS = [
    "community_id",
    "type",
    "dist_m",
    "facility_id",
    "origin_id",
    "origin_snap_m",
    "facility_snap_m",
    "method",
    "note",
]
NOTE_NO_FACILITY = "数据中无此类设施"


@dataclass(frozen=True, kw_only=True, slots=True)
class AccessOptions:
    """Options of the accessibility steps.

    Parameters
    ----------
    max_snap_m
        Points farther than this from every walkable edge are flagged and unreachable.
    snap_tolerance_m
        A point whose nearest edge is on a minor (disconnected) piece of the network is
        snapped to the main piece instead when that is at most this much farther
        (:func:`gisplan.network.snap_points`); 0 = always the nearest edge.
    polygon_boundary
        Facilities (and candidate sites) given as polygons are measured from their boundary,
        not from their representative point (off by default until siting adopts it).
    limit_m
        Optional search limit in metres; ``None`` gives exact distances everywhere.
    entrance_near_m
        Derived entrances: boundary points within this of a network edge.
    max_entrances
        Derived entrances per community at most (spread around the boundary).
    straight_line_factor
        Only when explicitly requested: distance = straight distance x factor (>= 1).

    Raises
    ------
    ScenarioError
        Listing every option out of range, by field name.

    Examples
    --------
    >>> gisplan.access.AccessOptions(max_snap_m=-5)
    Traceback (most recent call last):
    ...
    gisplan.errors.ScenarioError: access options: max_snap_m must be a positive number ...
    """

    max_snap_m: float = 200.0
    snap_tolerance_m: float = 50.0
    polygon_boundary: bool = False
    limit_m: float | None = None
    entrance_near_m: float = 30.0
    max_entrances: int = 6
    straight_line_factor: float | None = None

    def __post_init__(self) -> None:
        """Check every option; raise once listing all problems."""
        problems: list[tuple[str, str, str]] = []

        def positive(name: str, value: object, *, allow_zero: bool = False) -> None:
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            ok = ok and math.isfinite(float(value))  # type: ignore[arg-type]
            ok = ok and (float(value) >= 0 if allow_zero else float(value) > 0)  # type: ignore[arg-type]
            if not ok:
                what = "zero or a positive" if allow_zero else "a positive"
                problems.append(
                    (name, f"{name} must be {what} number of metres, got {value!r}", "fix it")
                )

        positive("max_snap_m", self.max_snap_m)
        positive("snap_tolerance_m", self.snap_tolerance_m, allow_zero=True)
        if self.limit_m is not None:
            positive("limit_m", self.limit_m)
        positive("entrance_near_m", self.entrance_near_m, allow_zero=True)
        if (
            not isinstance(self.max_entrances, (int, np.integer))
            or isinstance(self.max_entrances, bool)
            or self.max_entrances < 1
        ):
            problems.append(
                (
                    "max_entrances",
                    f"max_entrances must be a whole number >= 1, got {self.max_entrances!r}",
                    "fix it",
                )
            )
        f = self.straight_line_factor
        if f is not None and not (
            isinstance(f, (int, float)) and not isinstance(f, bool) and 1.0 <= f < math.inf
        ):
            problems.append(
                (
                    "straight_line_factor",
                    f"straight_line_factor must be a detour factor >= 1 (e.g. 1.3), got {f!r}",
                    "fix it",
                )
            )
        if problems:
            raise ScenarioError("access options: " + "; ".join(p for _, p, _ in problems), problems)


# --------------------------------------------------------------------------- checks


def _require_columns(gdf: pd.DataFrame, what: str, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in gdf.columns]
    if missing:
        raise SchemaError(
            f"{what}: column(s) {', '.join(map(repr, missing))} missing; "
            f"{what} needs {', '.join(columns)}"
        )


def _check_layer(
    gdf: gpd.GeoDataFrame, graph: WalkGraph, what: str, columns: Sequence[str]
) -> None:
    require_metric_crs(gdf, what=what)
    if not pyproj.CRS.from_user_input(gdf.crs).equals(graph.crs):
        raise CRSError(
            f"{what}: CRS {gdf.crs} differs from the network's {graph.crs}; "
            "project both into the run's metric CRS with gisplan.crs.to_metric"
        )
    _require_columns(gdf, what, columns)


def _fmt_m(value: float) -> str:
    return f"{value:,.0f} m"


# --------------------------------------------------------------------------- origins


def community_origins(
    communities: gpd.GeoDataFrame,
    graph: WalkGraph | None,
    *,
    entrances: gpd.GeoDataFrame | None = None,
    options: AccessOptions | None = None,
) -> gpd.GeoDataFrame:
    """Return the points a community is walked from: its entrances.

    Entrances given in ``entrances`` are used for their communities. For the others,
    entrances are derived where the boundary crosses a network edge or comes within
    ``entrance_near_m`` of one: candidates are grouped when less than
    :data:`ENTRANCE_GAP_M` apart along the boundary, each group gives its point nearest the
    network, and at most ``max_entrances`` are kept, one per equal arc of the boundary. A
    community with no such point gets its representative point (``"centroid"``).

    Without a graph (straight-line estimates, :func:`straight_line_nearest`) every community
    is walked from its representative point and ``entrances`` are not used.

    Parameters
    ----------
    communities
        Polygons with ``community_id``, in the graph's CRS (in metres without a graph).
    graph
        The walking graph, or ``None`` for straight-line estimates.
    entrances
        Optional points with ``community_id`` (and ``entrance_id``, used as origin id).
    options
        :class:`AccessOptions`.

    Returns
    -------
    geopandas.GeoDataFrame
        Points with ``community_id, origin_id`` (``C001-E1`` / ``C001-b1`` / ``C001-c``),
        ``origin_source`` (``entrance`` / ``boundary`` / ``centroid``), ``piece`` (the
        network piece it is snapped to, 0 = main; <NA> without a graph or a location) and
        ``snap_m`` (its straight distance to that piece, NaN likewise), sorted by
        community_id then origin_id. A community without geometry gets one ``centroid`` row
        with an empty point.

    Raises
    ------
    CRSError
        If a layer is not in the graph's metric CRS.
    SchemaError
        If ``community_id`` is missing.

    Examples
    --------
    >>> from shapely.geometry import LineString
    >>> net = gpd.GeoDataFrame(geometry=[LineString([(50, -100), (50, 200)])], crs=4548)
    >>> g = gisplan.network.build_graph(net)
    >>> c = gpd.GeoDataFrame({"community_id": ["C1"]}, geometry=[box(0, 0, 100, 100)], crs=4548)
    >>> o = gisplan.access.community_origins(c, g)
    >>> o["origin_id"].tolist(), [(p.x, p.y) for p in o.geometry]
    (['C1-b1', 'C1-b2'], [(50.0, 100.0), (50.0, 0.0)])
    """
    options = options or AccessOptions()
    if graph is None:
        require_metric_crs(communities, what="communities")
        _require_columns(communities, "communities", ["community_id"])
    else:
        _check_layer(communities, graph, "communities", ["community_id"])
    ids = communities["community_id"].astype(str).to_numpy()
    geoms = np.asarray(communities.geometry.array, dtype=object)
    frames: list[pd.DataFrame] = []
    have: set[str] = set()
    if graph is not None:
        if entrances is not None:
            ent = _given_entrances(entrances, graph, set(ids.tolist()))
            frames.append(ent)
            have = set(ent["community_id"].tolist())
        todo = np.array([i not in have for i in ids], dtype=bool)
        derived = _boundary_entrances(ids[todo], geoms[todo], graph, options)
        frames.append(derived)
        have |= set(derived["community_id"].tolist())
    rest = np.array([i not in have for i in ids], dtype=bool)
    empty = shapely.is_missing(geoms[rest]) | shapely.is_empty(geoms[rest])
    centre = np.asarray(geoms[rest], dtype=object).copy()
    centre[~empty] = shapely.point_on_surface(centre[~empty])
    centre[empty] = shapely.Point()
    if empty.any():
        logger.warning(
            "communities: %d community(ies) have no geometry; they get no distance: %s",
            int(empty.sum()),
            ", ".join(ids[rest][empty][:10]),
        )
    frames.append(
        pd.DataFrame(
            {
                "community_id": ids[rest],
                "origin_id": [f"{i}-c" for i in ids[rest]],
                "origin_source": "centroid",
                "geometry": centre,
            }
        )
    )
    out = pd.concat([f for f in frames if len(f)], ignore_index=True) if frames else None
    if out is None or out.empty:
        out = pd.DataFrame(columns=["community_id", "origin_id", "origin_source", "geometry"])
    out = out.sort_values(["community_id", "origin_id"], kind="stable").reset_index(drop=True)
    counts = out["origin_source"].value_counts()
    logger.info(
        "origins: %d for %d communities (%s)",
        len(out),
        len(ids),
        ", ".join(f"{k} {v}" for k, v in sorted(counts.items())),
    )
    crs = graph.crs if graph is not None else communities.crs
    result = gpd.GeoDataFrame(out, geometry="geometry", crs=crs)
    piece = pd.array([pd.NA] * len(result), dtype="Int64")
    snap_m = np.full(len(result), np.nan)
    if graph is not None and len(result):
        snap = _snap(graph, result, options)
        piece = pd.array(np.where(snap.edge >= 0, snap.component, 0), dtype="Int64")
        piece[snap.edge < 0] = pd.NA
        snap_m = snap.snap_m
    result.insert(3, "piece", piece)
    result.insert(4, "snap_m", snap_m)
    return result


def _given_entrances(entrances: gpd.GeoDataFrame, graph: WalkGraph, ids: set[str]) -> pd.DataFrame:
    _check_layer(entrances, graph, "entrances", ["community_id"])
    cid = entrances["community_id"].astype(str)
    geoms = np.asarray(entrances.geometry.array, dtype=object)
    bad_geom = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    unknown = ~cid.isin(ids).to_numpy()
    if bad_geom.any():
        logger.warning(
            "entrances: %d row(s) without geometry ignored (their communities fall back to "
            "derived entrances if they have no other)",
            int(bad_geom.sum()),
        )
    if unknown.any():
        logger.warning(
            "entrances: %d row(s) name communities not in the communities layer, ignored: %s",
            int(unknown.sum()),
            ", ".join(sorted(set(cid[unknown].tolist()))[:10]),
        )
    keep = ~bad_geom & ~unknown
    cid = cid[keep]
    if "entrance_id" in entrances.columns:
        eid = entrances["entrance_id"][keep]
        number = cid.groupby(cid, sort=False).cumcount() + 1
        auto = cid + "-E" + number.astype(str)
        oid = eid.astype("string").fillna(auto.astype("string")).astype(str)
    else:
        number = cid.groupby(cid, sort=False).cumcount() + 1
        oid = cid + "-E" + number.astype(str)
    pts = geoms[keep].copy()
    not_point = shapely.get_type_id(pts) != int(shapely.GeometryType.POINT)
    pts[not_point] = shapely.point_on_surface(pts[not_point])
    return _frame(
        {
            "community_id": cid.to_numpy(),
            "origin_id": oid.to_numpy(),
            "origin_source": "entrance",
            "geometry": pts,
        }
    )


def _frame(data: pd.DataFrame | dict[str, Any]) -> pd.DataFrame:
    """``pd.DataFrame(data)``, typed."""
    frame: pd.DataFrame = pd.DataFrame(data)
    return frame


def _take(values: NDArray[np.object_], idx: NDArray[np.int64]) -> NDArray[np.object_]:
    """``values[idx]`` with None where ``idx < 0``."""
    out = np.full(len(idx), None, dtype=object)
    ok = idx >= 0
    out[ok] = values[idx[ok]]
    return out


def _best_rows(comm_code: NDArray[np.int64], key: NDArray[np.float64]) -> NDArray[np.int64]:
    """Row with the smallest ``key`` per community (ties: first row), in community order."""
    order = np.lexsort((np.arange(len(key)), key, comm_code))
    return np.asarray(order[_first_of_groups(comm_code[order])], dtype=np.int64)


def _first_of_groups(*keys: NDArray[np.generic]) -> NDArray[np.bool_]:
    """For rows already sorted by ``keys``, mark the first row of each group."""
    n = len(keys[0])
    first = np.zeros(n, dtype=bool)
    if n:
        first[0] = True
        for k in keys:
            first[1:] |= k[1:] != k[:-1]
    return first


def _boundary_entrances(
    ids: NDArray[np.object_], geoms: NDArray[np.object_], graph: WalkGraph, options: AccessOptions
) -> pd.DataFrame:
    """Derive entrances where boundaries cross or come near network edges (vectorised)."""
    cols = ["community_id", "origin_id", "origin_source", "geometry"]
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    boundary = np.full(len(geoms), None, dtype=object)
    boundary[ok] = shapely.boundary(geoms[ok])
    if not ok.any():
        return _frame({c: [] for c in cols})
    ci, ei = graph.edge_tree.query(
        boundary, predicate="dwithin", distance=max(options.entrance_near_m, 1e-9)
    )
    if len(ci) == 0:
        return _frame({c: [] for c in cols})
    b, e = boundary[ci], graph.edge_geometry[ei]
    inter = shapely.intersection(b, e)
    crossing = ~shapely.is_empty(inter)
    # crossings: every point (or vertex of an overlap); near misses: nearest boundary point
    xy_c, k_c = shapely.get_coordinates(inter[crossing], return_index=True)
    pair_c = np.flatnonzero(crossing)[k_c]
    near = ~crossing
    shortest = shapely.shortest_line(b[near], e[near])
    xy_n = shapely.get_coordinates(shapely.get_point(shortest, 0))
    pair = np.concatenate([pair_c, np.flatnonzero(near)])
    xy = np.concatenate([xy_c, xy_n])
    dist = np.concatenate([np.zeros(len(xy_c)), shapely.length(shortest)])
    comm = ci[pair]
    pts = shapely.points(xy)
    s = shapely.line_locate_point(boundary[comm], pts)
    perim = shapely.length(boundary)[comm]

    order = np.lexsort((dist, s, comm))
    comm, s, dist, xy, perim = comm[order], s[order], dist[order], xy[order], perim[order]
    new_comm = _first_of_groups(comm)
    gap = np.ones(len(s), dtype=bool)
    gap[1:] = new_comm[1:] | (s[1:] - s[:-1] > ENTRANCE_GAP_M)
    cluster = np.cumsum(gap) - 1
    # the boundary is a ring: join the last group to the first when they meet across s = 0
    first_idx = np.flatnonzero(new_comm)
    last_idx = np.append(first_idx[1:], len(s)) - 1
    wrap = (perim[last_idx] - s[last_idx] + s[first_idx] <= ENTRANCE_GAP_M) & (
        cluster[last_idx] != cluster[first_idx]
    )
    remap = np.arange(cluster.max() + 1)
    remap[cluster[last_idx[wrap]]] = cluster[first_idx[wrap]]
    cluster = remap[cluster]
    # one point per group: nearest to the network, then lowest s
    order = np.lexsort((s, dist, cluster))
    rep = order[_first_of_groups(cluster[order])]
    comm, s, dist, xy, perim = comm[rep], s[rep], dist[rep], xy[rep], perim[rep]
    # at most max_entrances: one per equal arc of the boundary
    k = options.max_entrances
    arc = np.minimum(np.floor(s / (perim / k)), k - 1).astype(np.int64)
    order = np.lexsort((s, dist, arc, comm))
    keep = order[_first_of_groups(comm[order], arc[order])]
    keep = keep[np.lexsort((s[keep], comm[keep]))]
    comm, xy = comm[keep], xy[keep]
    starts = np.flatnonzero(_first_of_groups(comm))
    number = np.arange(len(comm)) - starts.repeat(np.diff(np.append(starts, len(comm))))
    cid = ids[comm].astype(str)
    oid = np.char.add(np.char.add(cid, "-b"), (number + 1).astype(str))
    return _frame(
        {
            "community_id": cid,
            "origin_id": oid.astype(object),
            "origin_source": "boundary",
            "geometry": shapely.points(xy),
        }
    )


# --------------------------------------------------------------------------- shared machinery


def _augment(
    graph: WalkGraph, snap: Snap, sel: NDArray[np.int64]
) -> tuple[sp.csr_array, NDArray[np.int64]]:
    """Return the graph with one virtual node per selected point, and those nodes' indices.

    Each virtual node has two outgoing edges, to its edge's ends, weighted by the snap
    distance plus the along-edge offset. Only outgoing: searches start there, never pass.
    """
    m = graph.matrix
    n, k = graph.n_nodes, len(sel)
    e = snap.edge[sel]
    targets = np.column_stack([graph.edge_u[e], graph.edge_v[e]]).ravel()
    weights = np.column_stack(
        [snap.snap_m[sel] + snap.dist_u_m[sel], snap.snap_m[sel] + snap.dist_v_m[sel]]
    ).ravel()
    indptr = np.concatenate([m.indptr, m.indptr[-1] + 2 * np.arange(1, k + 1)])
    aug = sp.csr_array(
        (
            np.concatenate([m.data, weights]),
            np.concatenate([m.indices, targets]).astype(m.indices.dtype, copy=False),
            indptr.astype(m.indptr.dtype, copy=False),
        ),
        shape=(n + k, n + k),
    )
    return aug, np.arange(n, n + k, dtype=np.int64)


def _same_edge(
    o_snap: Snap, o_idx: NDArray[np.int64], f_snap: Snap, f_idx: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
    """Every (origin position, facility position, distance) pair sharing an edge."""
    fe = f_snap.edge[f_idx]
    order = np.argsort(fe, kind="stable")
    fe_sorted = fe[order]
    oe = o_snap.edge[o_idx]
    lo = np.searchsorted(fe_sorted, oe, side="left")
    hi = np.searchsorted(fe_sorted, oe, side="right")
    count = hi - lo
    op = np.repeat(np.arange(len(o_idx)), count)
    offset = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
    fp = order[np.repeat(lo, count) + offset]
    o, f = o_idx[op], f_idx[fp]
    d = o_snap.snap_m[o] + f_snap.snap_m[f] + np.abs(o_snap.dist_u_m[o] - f_snap.dist_u_m[f])
    return op.astype(np.int64), fp.astype(np.int64), d


def _origin_offsets(
    graph: WalkGraph, o_snap: Snap, o_idx: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
    e = o_snap.edge[o_idx]
    s = o_snap.snap_m[o_idx]
    return (
        graph.edge_u[e],
        graph.edge_v[e],
        s + o_snap.dist_u_m[o_idx],
        s + o_snap.dist_v_m[o_idx],
    )


def _types(facilities: pd.DataFrame, types: Sequence[str] | None) -> list[str]:
    present = sorted(set(facilities["type"].dropna().astype(str).tolist()))
    return present if types is None else list(dict.fromkeys(str(t) for t in types))


def _radius_of(radius_m: float | Mapping[str, float], t: str) -> float | None:
    r = radius_m.get(t) if isinstance(radius_m, Mapping) else radius_m
    if r is None:
        return None
    if not (isinstance(r, (int, float)) and math.isfinite(r) and r > 0):
        raise ScenarioError(
            f"access: radius_m for {t!r} must be a positive number of metres, got {r!r}",
            [(f"radius_m.{t}", f"must be > 0, got {r!r}", "fix it")],
        )
    return float(r)


def _sorted_origins(origins: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    o = origins.copy()
    o["community_id"] = o["community_id"].astype(str)
    o["origin_id"] = o["origin_id"].astype(str)
    return o.sort_values(["community_id", "origin_id"], kind="stable").reset_index(drop=True)


def _sorted_facilities(facilities: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    f = facilities.copy()
    f["facility_id"] = f["facility_id"].astype(str)
    f["type"] = f["type"].astype("string")
    return f.sort_values("facility_id", kind="stable").reset_index(drop=True)


# --------------------------------------------------------------------------- nearest


class NearestSearch:
    """Origins and facilities snapped once, then one exact search per facility type.

    :func:`nearest_facilities` is built on it; use it directly to ask many questions of the
    same points (e.g. several types in a loop, or in a benchmark) without the table.

    Parameters
    ----------
    graph
        The walking graph.
    origins
        Points with ``community_id, origin_id``; kept sorted by those (``.origins``).
    facilities
        Points with ``facility_id, type``; kept sorted by id (``.facilities``).
    options
        :class:`AccessOptions` (``max_snap_m``, ``limit_m``).

    Examples
    --------
    >>> from shapely.geometry import LineString
    >>> g = gisplan.network.build_graph(
    ...     gpd.GeoDataFrame(geometry=[LineString([(0, 0), (200, 0)])], crs=4548))
    >>> o = gpd.GeoDataFrame({"community_id": ["C1"], "origin_id": ["C1-E1"]},
    ...                      geometry=[Point(20, 5)], crs=4548)
    >>> f = gpd.GeoDataFrame({"facility_id": ["F1"], "type": ["kindergarten"]},
    ...                      geometry=[Point(180, -10)], crs=4548)
    >>> dist, fac = gisplan.access.NearestSearch(g, o, f).nearest("kindergarten")
    >>> dist.tolist(), fac.tolist()
    ([175.0], [0])
    """

    def __init__(
        self,
        graph: WalkGraph,
        origins: gpd.GeoDataFrame,
        facilities: gpd.GeoDataFrame,
        *,
        options: AccessOptions | None = None,
    ) -> None:
        options = options or AccessOptions()
        _check_layer(origins, graph, "origins", ["community_id", "origin_id"])
        _check_layer(facilities, graph, "facilities", ["facility_id", "type"])
        self.graph = graph
        self.origins = _sorted_origins(origins)
        self.facilities = _sorted_facilities(facilities)
        self.origin_snap = _snap(graph, self.origins, options)
        self.facility_snap = _snap(graph, self.facilities, options)
        _log_far(self.origins, self.origin_snap, "origins", "origin_id", options)
        _log_far(self.facilities, self.facility_snap, "facilities", "facility_id", options)
        _log_minor(self.origins, self.origin_snap, "origins", "origin_id", options)
        _log_minor(self.facilities, self.facility_snap, "facilities", "facility_id", options)
        self.limit = np.inf if options.limit_m is None else float(options.limit_m)
        self._valid = np.flatnonzero(~self.origin_snap.far)
        self._ends = _origin_offsets(graph, self.origin_snap, self._valid)
        self._ftype = self.facilities["type"].to_numpy(dtype=object)

    def nearest(self, facility_type: str) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
        """Return, per origin (in ``.origins`` order), the distance and nearest facility.

        Returns
        -------
        dist, facility
            Metres (``inf`` when unreachable) and the facility's position in
            ``.facilities`` (-1 when unreachable).
        """
        graph, f_snap, valid_o = self.graph, self.facility_snap, self._valid
        n = len(self.origins)
        dist = np.full(n, np.inf)
        fac = np.full(n, -1, dtype=np.int64)
        sel = np.flatnonzero((self._ftype == facility_type) & ~f_snap.far)
        if not (len(sel) and len(valid_o)):
            return dist, fac
        u, v, off_u, off_v = self._ends
        aug, virtual = _augment(graph, f_snap, sel)
        d_node, _, src = dijkstra(
            aug,
            directed=True,
            indices=virtual,
            min_only=True,
            return_predecessors=True,
            limit=self.limit,
        )
        du, dv = d_node[u] + off_u, d_node[v] + off_v
        best = np.minimum(du, dv)
        source = np.where(dv < du, src[v], src[u])
        fpos = np.where(np.isfinite(best), source - graph.n_nodes, -1)
        op, fp, d_same = _same_edge(self.origin_snap, valid_o, f_snap, sel)
        if len(op):
            # same-edge pairs: keep the shortest per origin, ties to the lowest id
            order = np.lexsort((fp, d_same, op))
            first = order[_first_of_groups(op[order])]
            op1, fp1, d1 = op[first], fp[first], d_same[first]
            better = (d1 < best[op1]) | ((d1 == best[op1]) & (fp1 < fpos[op1]))
            best[op1[better]] = d1[better]
            fpos[op1[better]] = fp1[better]
        best[best > self.limit] = np.inf
        dist[valid_o] = best
        fac[valid_o] = np.where(np.isfinite(best), sel[np.maximum(fpos, 0)], -1)
        return dist, fac


def nearest_facilities(
    graph: WalkGraph,
    origins: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    *,
    types: Sequence[str] | None = None,
    options: AccessOptions | None = None,
) -> pd.DataFrame:
    """Return each community's walking distance to the nearest facility of each type.

    Parameters
    ----------
    graph
        The walking graph.
    origins
        Points with ``community_id, origin_id`` (from :func:`community_origins`).
    facilities
        Points with ``facility_id, type``.
    types
        Facility types to report; ``None`` = every type present. A type with no facility
        gets NaN rows noted ``"数据中无此类设施"``.
    options
        :class:`AccessOptions`; with ``straight_line_factor`` set, distances are straight
        lines times that factor (:func:`straight_line_nearest`).

    Returns
    -------
    pandas.DataFrame
        One row per community x type, sorted by community_id, type: ``community_id, type,
        dist_m`` (NaN = unreachable), ``facility_id`` (<NA> when NaN), ``origin_id`` (the
        entrance achieving it), ``origin_snap_m, facility_snap_m, method`` (``network``),
        ``note`` (empty, or why the distance is NaN).

    Raises
    ------
    CRSError
        If a layer is not in the graph's metric CRS.
    SchemaError
        If a required column is missing.

    Examples
    --------
    >>> from shapely.geometry import LineString
    >>> g = gisplan.network.build_graph(
    ...     gpd.GeoDataFrame(geometry=[LineString([(0, 0), (100, 0), (200, 0)])], crs=4548))
    >>> o = gpd.GeoDataFrame({"community_id": ["C1"], "origin_id": ["C1-E1"]},
    ...                      geometry=[Point(20, 5)], crs=4548)
    >>> f = gpd.GeoDataFrame({"facility_id": ["F1"], "type": ["kindergarten"]},
    ...                      geometry=[Point(180, -10)], crs=4548)
    >>> r = gisplan.access.nearest_facilities(g, o, f)
    >>> r[["type", "dist_m", "facility_id"]].values.tolist()
    [['kindergarten', 175.0, 'F1']]
    """
    options = options or AccessOptions()
    if options.straight_line_factor is not None:
        return straight_line_nearest(
            origins, facilities, factor=options.straight_line_factor, types=types
        )
    search = NearestSearch(graph, origins, facilities, options=options)
    _warn_offset(graph, search.facilities)
    o, f, o_snap, f_snap = (
        search.origins,
        search.facilities,
        search.origin_snap,
        search.facility_snap,
    )
    comm_code, comm_ids = pd.factorize(o["community_id"], sort=True)
    comm_code = np.asarray(comm_code, dtype=np.int64)
    ftype = f["type"].to_numpy(dtype=object)
    fid = f["facility_id"].to_numpy(dtype=object)
    frames = []
    for t in _types(f, types):
        dist, fac = search.nearest(t)
        frames.append(
            _community_rows(
                t,
                o,
                o_snap=o_snap,
                f_snap=f_snap,
                comm_code=comm_code,
                dist=dist,
                fac=fac,
                fid=fid,
                sel=np.flatnonzero((ftype == t) & ~f_snap.far),
                graph=graph,
                options=options,
                any_of_type=bool((ftype == t).any()),
            )
        )
    out = _concat_results(frames)
    out["community_id"] = np.asarray(comm_ids, dtype=object)[
        out.pop("_comm").to_numpy(dtype=np.int64)
    ]
    out = out[_RESULT_COLUMNS].sort_values(["community_id", "type"], kind="stable")
    out = out.reset_index(drop=True)
    logger.info(
        "nearest facilities: %d communities x %d types, %d unreachable",
        len(comm_ids),
        len(frames),
        int(out["dist_m"].isna().sum()),
    )
    return _frame(out)


def _warn_offset(graph: WalkGraph, facilities: gpd.GeoDataFrame) -> None:
    """Warn when a map datum offset (see :func:`gisplan.crs.offset_hint`) explains the snaps."""
    hint = offset_hint(facilities, lambda pts: snap_points(graph, pts).snap_m, what="facilities")
    if hint is not None:
        logger.warning("%s", hint)


def _snap(graph: WalkGraph, points: gpd.GeoDataFrame, options: AccessOptions) -> Snap:
    return snap_points(
        graph,
        points,
        max_snap_m=options.max_snap_m,
        snap_tolerance_m=options.snap_tolerance_m,
        polygon_boundary=options.polygon_boundary,
    )


def _log_minor(
    frame: pd.DataFrame, snap: Snap, what: str, id_col: str, options: AccessOptions
) -> None:
    """Warn about points left on a minor piece, and log those moved to the main piece."""
    moved = snap.moved & ~snap.far
    if moved.any():
        logger.info(
            "%s: %d point(s) nearest to a minor network piece were snapped to the main piece "
            "(within snap_tolerance_m = %s)",
            what,
            int(moved.sum()),
            _fmt_m(options.snap_tolerance_m),
        )
    minor = (snap.component > 0) & ~snap.far
    if minor.any():
        logger.warning(
            "%s: %d point(s) are snapped to a minor network piece (no main-piece edge within "
            "snap_tolerance_m = %s farther) and reach only that piece: %s; join the piece to "
            "the network, or raise snap_tolerance_m",
            what,
            int(minor.sum()),
            _fmt_m(options.snap_tolerance_m),
            ", ".join(
                f"{i} (piece {c}, snap {_fmt_m(s)})"
                for i, c, s in zip(
                    frame[id_col].to_numpy()[minor][:10],
                    snap.component[minor][:10],
                    snap.snap_m[minor][:10],
                    strict=True,
                )
            ),
        )


def _log_far(
    frame: pd.DataFrame, snap: Snap, what: str, id_col: str, options: AccessOptions
) -> None:
    far = snap.far & (snap.edge >= 0)
    if far.any():
        logger.warning(
            "%s: %d point(s) are more than max_snap_m = %s from the network and are treated "
            "as unreachable: %s",
            what,
            int(far.sum()),
            _fmt_m(options.max_snap_m),
            ", ".join(
                f"{i} ({_fmt_m(s)})"
                for i, s in zip(
                    frame[id_col].to_numpy()[far][:10], snap.snap_m[far][:10], strict=True
                )
            ),
        )
    missing = snap.edge < 0
    if missing.any():
        logger.warning(
            "%s: %d row(s) have no geometry and are unreachable: %s",
            what,
            int(missing.sum()),
            ", ".join(map(str, frame[id_col].to_numpy()[missing][:10])),
        )


def _concat_results(frames: list[pd.DataFrame]) -> pd.DataFrame:
    if frames:
        return pd.concat(frames, ignore_index=True)
    empty = pd.DataFrame({c: pd.Series(dtype=object) for c in _RESULT_COLUMNS})
    empty["_comm"] = pd.Series(dtype=np.int64)
    empty["dist_m"] = empty["dist_m"].astype(float)
    return _frame(empty)


def _community_rows(
    t: str,
    o: pd.DataFrame,
    *,
    o_snap: Snap,
    f_snap: Snap,
    comm_code: NDArray[np.int64],
    dist: NDArray[np.float64],
    fac: NDArray[np.int64],
    fid: NDArray[np.object_],
    sel: NDArray[np.int64],
    graph: WalkGraph,
    options: AccessOptions,
    any_of_type: bool,
) -> pd.DataFrame:
    """Reduce per-origin distances to one row per community, with notes for NaN."""
    pos = np.arange(len(o))
    best = _best_rows(comm_code, dist)
    # for unreachable communities, report the origin nearest to the network
    snap_key = np.where(o_snap.edge >= 0, o_snap.snap_m, np.inf)
    order2 = np.lexsort((pos, snap_key, comm_code))
    nearest = order2[_first_of_groups(comm_code[order2])]
    reach = np.isfinite(dist[best])
    row = np.where(reach, best, nearest)
    fsel = np.where(reach, fac[row], -1)
    facility = pd.array(_take(fid, fsel), dtype="string")
    fsnap = np.full(len(fsel), np.nan)
    fsnap[fsel >= 0] = f_snap.snap_m[fsel[fsel >= 0]]
    note = np.full(len(row), "", dtype=object)
    if (~reach).any():
        note[~reach] = _notes(
            row[~reach],
            o_snap=o_snap,
            f_snap=f_snap,
            comm_code=comm_code,
            sel=sel,
            graph=graph,
            options=options,
            any_of_type=any_of_type,
        )
    return _frame(
        {
            "_comm": comm_code[row],
            "type": t,
            "dist_m": np.where(reach, dist[row], np.nan),
            "facility_id": facility,
            "origin_id": pd.array(o["origin_id"].to_numpy()[row], dtype="string"),
            "origin_snap_m": o_snap.snap_m[row],
            "facility_snap_m": fsnap,
            "method": "network",
            "note": note,
        }
    )


def _notes(
    row: NDArray[np.int64],
    *,
    o_snap: Snap,
    f_snap: Snap,
    comm_code: NDArray[np.int64],
    sel: NDArray[np.int64],
    graph: WalkGraph,
    options: AccessOptions,
    any_of_type: bool,
) -> NDArray[np.object_]:
    """Say why each unreachable community (given by its origin nearest the network) is NaN."""
    n = len(row)
    if not any_of_type:
        return np.full(n, NOTE_NO_FACILITY, dtype=object)
    if len(sel) == 0:
        return np.full(
            n,
            f"此类设施全部不在步行网络上（距网络超过{_fmt_m(options.max_snap_m)}）",
            dtype=object,
        )
    notes = np.full(n, "", dtype=object)
    edge = o_snap.edge[row]
    snap = o_snap.snap_m[row]
    no_geom = edge < 0
    notes[no_geom] = "小区无位置（几何为空）"
    off = ~no_geom & o_snap.far[row]
    notes[off] = [f"小区不在步行网络上（吸附距离{_fmt_m(s)}）" for s in snap[off]]
    rest = ~no_geom & ~off
    if rest.any():
        fcomp = np.unique(f_snap.component[sel])
        # does any usable origin of the community sit on a piece holding such a facility?
        usable = ~o_snap.far & np.isin(o_snap.component, fcomp)
        has = np.bincount(comm_code, weights=usable, minlength=int(comm_code.max()) + 1) > 0
        on_piece = rest & has[comm_code[row]]
        sizes = graph.component_sizes
        comp = o_snap.component[row]
        lone = rest & ~on_piece
        notes[lone] = [
            f"所在路网片段没有此类设施（片段{c}：{graph.n_nodes:,}个节点中的{sizes[c]:,}个）"
            for c in comp[lone]
        ]
        notes[on_piece] = (
            f"距离计算上限（limit_m）{_fmt_m(float(options.limit_m or 0))}内没有此类设施"
        )
    return notes


# --------------------------------------------------------------------------- straight line


def straight_line_nearest(
    origins: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    *,
    factor: float,
    types: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Return straight-line distances times a detour factor (only when explicitly asked).

    Parameters
    ----------
    origins
        Points with ``community_id, origin_id``, metric CRS.
    facilities
        Points with ``facility_id, type``, same CRS.
    factor
        Detour factor (>= 1); every row's ``method`` is ``"straight line x{factor:.2f}"``.
    types
        As :func:`nearest_facilities`.

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`nearest_facilities`; snap columns are NaN.

    Raises
    ------
    CRSError
        If the layers are not in one metric CRS.
    ScenarioError
        If ``factor`` is below 1.

    Examples
    --------
    >>> o = gpd.GeoDataFrame({"community_id": ["C1"], "origin_id": ["C1-c"]},
    ...                      geometry=[Point(0, 0)], crs=4548)
    >>> f = gpd.GeoDataFrame({"facility_id": ["F1"], "type": ["park"]},
    ...                      geometry=[Point(300, 400)], crs=4548)
    >>> r = gisplan.access.straight_line_nearest(o, f, factor=1.3)
    >>> r[["dist_m", "method"]].values.tolist()
    [[650.0, 'straight line x1.30']]
    """
    AccessOptions(straight_line_factor=factor)
    require_metric_crs(origins, what="origins")
    require_metric_crs(facilities, what="facilities")
    if not pyproj.CRS.from_user_input(origins.crs).equals(facilities.crs):
        raise CRSError(
            f"facilities: CRS {facilities.crs} differs from the origins' {origins.crs}; "
            "project both into the run's metric CRS with gisplan.crs.to_metric"
        )
    _require_columns(origins, "origins", ["community_id", "origin_id"])
    _require_columns(facilities, "facilities", ["facility_id", "type"])
    o = _sorted_origins(origins)
    f = _sorted_facilities(facilities)
    og = np.asarray(o.geometry.array, dtype=object)
    o_ok = ~(shapely.is_missing(og) | shapely.is_empty(og))
    oxy = np.full((len(o), 2), np.nan)
    oxy[o_ok] = shapely.get_coordinates(shapely.point_on_surface(og[o_ok]))
    fg = np.asarray(f.geometry.array, dtype=object)
    f_ok = ~(shapely.is_missing(fg) | shapely.is_empty(fg))
    fxy = np.full((len(f), 2), np.nan)
    fxy[f_ok] = shapely.get_coordinates(shapely.point_on_surface(fg[f_ok]))
    comm_code, comm_ids = pd.factorize(o["community_id"], sort=True)
    comm_code = np.asarray(comm_code, dtype=np.int64)
    ftype = f["type"].to_numpy(dtype=object)
    fid = f["facility_id"].to_numpy(dtype=object)
    method = f"straight line x{factor:.2f}"
    oid = o["origin_id"].to_numpy(dtype=object)
    frames = []
    for t in _types(f, types):
        sel = np.flatnonzero((ftype == t) & f_ok)
        dist = np.full(len(o), np.inf)
        fac = np.full(len(o), -1, dtype=np.int64)
        if len(sel) and o_ok.any():
            d, k = cKDTree(fxy[sel]).query(oxy[o_ok], k=1)
            dist[o_ok] = np.asarray(d) * factor
            fac[o_ok] = sel[np.asarray(k)]
        best = _best_rows(comm_code, dist)
        reach = np.isfinite(dist[best])
        note = np.full(len(best), "", dtype=object)
        if not (ftype == t).any():
            note[~reach] = NOTE_NO_FACILITY
        elif len(sel) == 0:
            note[~reach] = "此类设施均无位置（几何为空）"
        else:
            note[~reach] = "小区无位置（几何为空）"
        fsel = np.where(reach, fac[best], -1)
        frames.append(
            pd.DataFrame(
                {
                    "_comm": comm_code[best],
                    "type": t,
                    "dist_m": np.where(reach, dist[best], np.nan),
                    "facility_id": pd.array(_take(fid, fsel), dtype="string"),
                    "origin_id": pd.array(oid[best], dtype="string"),
                    "origin_snap_m": np.nan,
                    "facility_snap_m": np.nan,
                    "method": method,
                    "note": note,
                }
            )
        )
    out = _concat_results(frames)
    out["community_id"] = np.asarray(comm_ids, dtype=object)[
        out.pop("_comm").to_numpy(dtype=np.int64)
    ]
    out = out[_RESULT_COLUMNS].sort_values(["community_id", "type"], kind="stable")
    return _frame(out.reset_index(drop=True))


# --------------------------------------------------------------------------- catchments


def _batches(n_sources: int, width: int) -> list[slice]:
    step = max(1, _BATCH_CELLS // max(width, 1))
    return [slice(i, min(i + step, n_sources)) for i in range(0, n_sources, step)]


def building_distances(
    graph: WalkGraph,
    buildings: gpd.GeoDataFrame,
    communities: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    *,
    weight: str | None = "population",
    radius_m: float | Mapping[str, float] | None = None,
    types: Sequence[str] | None = None,
    options: AccessOptions | None = None,
) -> pd.DataFrame:
    """Return population-weighted walking distances over each community's buildings.

    Every building footprint is an origin of its own (its representative point, snapped to
    the nearest street); buildings belong to the community whose polygon contains that
    point. Per community and type the result gives the weighted mean distance, the nearest
    and farthest building, and, with ``radius_m``, the share of the weight (residents) within
    the radius — a finer answer than the distance from the gates alone.

    Parameters
    ----------
    graph
        The walking graph.
    buildings
        Building footprints (polygons) in the graph's CRS.
    communities
        Community polygons with ``community_id``.
    facilities
        Points with ``facility_id, type``.
    weight
        Column of ``buildings`` weighting each building (residents, households, floor
        area); missing values and ``None`` count each building once.
    radius_m
        Optional radius (one, or per type) for ``share_within_radius``.
    types, options
        As for :func:`nearest_facilities`.

    Returns
    -------
    pandas.DataFrame
        ``community_id, type, dist_weighted_m, dist_min_m, dist_max_m, n_buildings,
        weight_total, share_within_radius`` (NaN without ``radius_m``), sorted by
        community_id, type. Buildings outside every community are left out (logged);
        unreachable buildings are left out of the means and counted in ``n_unreachable``.

    Examples
    --------
    >>> from shapely.geometry import LineString
    >>> g = gisplan.network.build_graph(
    ...     gpd.GeoDataFrame(geometry=[LineString([(0, 0), (400, 0)])], crs=4548))
    >>> c = gpd.GeoDataFrame({"community_id": ["C1"]}, geometry=[box(0, 5, 400, 105)], crs=4548)
    >>> b = gpd.GeoDataFrame({"population": [30, 10]},
    ...     geometry=[box(10, 10, 30, 30), box(310, 10, 330, 30)], crs=4548)
    >>> f = gpd.GeoDataFrame({"facility_id": ["F1"], "type": ["kindergarten"]},
    ...                      geometry=[Point(20, 0)], crs=4548)
    >>> r = gisplan.access.building_distances(g, b, c, f, radius_m=300)
    >>> r[["dist_weighted_m", "dist_min_m", "dist_max_m", "share_within_radius"]].values.tolist()
    [[95.0, 20.0, 320.0, 0.75]]
    """
    options = options or AccessOptions()
    _check_layer(communities, graph, "communities", ["community_id"])
    _check_layer(buildings, graph, "buildings", [])
    points = gpd.GeoDataFrame(
        {
            "_weight": (
                pd.to_numeric(buildings[weight], errors="coerce").fillna(1.0).to_numpy()
                if weight is not None and weight in buildings.columns
                else np.ones(len(buildings))
            )
        },
        geometry=buildings.geometry.representative_point().to_numpy(),
        crs=buildings.crs,
    )
    joined = gpd.sjoin(
        points, communities[["community_id", communities.geometry.name]], predicate="within"
    )
    joined = joined[~joined.index.duplicated(keep="first")]  # overlapping communities: first
    if len(joined) < len(points):
        logger.warning(
            "buildings: %d of %d lie outside every community and are left out",
            len(points) - len(joined),
            len(points),
        )
    origins = gpd.GeoDataFrame(
        {
            "community_id": joined["community_id"].astype(str).to_numpy(),
            "origin_id": [f"b{i}" for i in joined.index],
            "_weight": joined["_weight"].to_numpy(),
        },
        geometry=joined.geometry.to_numpy(),
        crs=buildings.crs,
    )
    search = NearestSearch(graph, origins, facilities, options=options)
    o = search.origins
    rows = []
    for t in _types(search.facilities, types):
        dist, _ = search.nearest(t)
        radius = None if radius_m is None else _radius_of(radius_m, t)
        frame = pd.DataFrame(
            {
                "community_id": o["community_id"].to_numpy(),
                "w": o["_weight"].to_numpy(dtype=float),
                "d": np.where(np.isfinite(dist), dist, np.nan),
            }
        )
        frame["reach"] = frame["d"].notna()
        frame["wd"] = frame["w"] * frame["d"]
        frame["w_reach"] = frame["w"].where(frame["reach"], 0.0)
        frame["w_in"] = frame["w"].where(frame["d"] <= radius, 0.0) if radius else np.nan
        g = frame.groupby("community_id", sort=True)
        part = pd.DataFrame(
            {
                "dist_weighted_m": g["wd"].sum(min_count=1) / g["w_reach"].sum(),
                "dist_min_m": g["d"].min(),
                "dist_max_m": g["d"].max(),
                "n_buildings": g.size(),
                "n_unreachable": g["reach"].apply(lambda r: int((~r).sum())),
                "weight_total": g["w"].sum(),
                "share_within_radius": (g["w_in"].sum(min_count=1) / g["w"].sum())
                if radius
                else np.nan,
            }
        )
        part.insert(0, "type", t)
        rows.append(part.reset_index())
    columns = [
        "community_id", "type", "dist_weighted_m", "dist_min_m", "dist_max_m", "n_buildings",
        "n_unreachable", "weight_total", "share_within_radius",
    ]  # fmt: skip
    if not rows:
        return _frame(pd.DataFrame(columns=columns))
    out = pd.concat(rows, ignore_index=True)[columns]
    out["n_buildings"] = out["n_buildings"].astype("Int64")
    out["n_unreachable"] = out["n_unreachable"].astype("Int64")
    out = out.sort_values(["community_id", "type"], kind="stable")
    return _frame(out.reset_index(drop=True))


def k_nearest_within(catchments: pd.DataFrame, *, k: int = 3) -> pd.DataFrame:
    """Summarise catchment pairs: how many facilities within the radius, and the k nearest.

    Parameters
    ----------
    catchments
        The pairs from :func:`facility_catchments` (``community_id, facility_id, type,
        dist_m``, all within the radius).
    k
        How many of the nearest to list.

    Returns
    -------
    pandas.DataFrame
        ``community_id, type, n_within, nearest_ids`` (``"F3、F1"``, nearest first, ties by
        id) and ``nearest_dist_m`` (a tuple of metres), sorted by community_id, type.

    Examples
    --------
    >>> pairs = pd.DataFrame({"community_id": ["C1", "C1", "C1"], "facility_id": ["F1", "F2", "F3"],
    ...                       "type": ["kindergarten"] * 3, "dist_m": [250.0, 90.0, 120.0]})
    >>> row = gisplan.access.k_nearest_within(pairs, k=2).iloc[0]
    >>> int(row["n_within"]), row["nearest_ids"], row["nearest_dist_m"]
    (3, 'F2、F3', (90.0, 120.0))
    """
    if k < 1:
        raise ScenarioError(f"k_nearest_within: k must be 1 or more, got {k}")
    ordered = catchments.sort_values(
        ["community_id", "type", "dist_m", "facility_id"], kind="stable"
    )
    g = ordered.groupby(["community_id", "type"], sort=True)
    out = pd.DataFrame(
        {
            "n_within": g.size().astype("Int64"),
            "nearest_ids": g["facility_id"].agg(lambda s: "、".join(map(str, s.iloc[:k]))),
            "nearest_dist_m": g["dist_m"].agg(lambda s: tuple(float(x) for x in s.iloc[:k])),
        }
    )
    result: pd.DataFrame = out.reset_index()
    return result


def facility_catchments(
    graph: WalkGraph,
    origins: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    *,
    radius_m: float | Mapping[str, float],
    options: AccessOptions | None = None,
) -> pd.DataFrame:
    """Return every community-facility pair within walking radius.

    One limited Dijkstra per facility, run in memory-bounded batches; a community's
    distance to a facility is the minimum over its origins.

    Parameters
    ----------
    graph
        The walking graph.
    origins
        Points with ``community_id, origin_id``.
    facilities
        Points with ``facility_id, type``.
    radius_m
        One radius for every type, or a radius per type (types not in the mapping are
        skipped, and logged).
    options
        :class:`AccessOptions` (``max_snap_m``).

    Returns
    -------
    pandas.DataFrame
        ``community_id, facility_id, type, dist_m`` with ``dist_m <= radius``, sorted by
        community_id, type, dist_m, facility_id.

    Raises
    ------
    CRSError
        If a layer is not in the graph's metric CRS.
    ScenarioError
        If a radius is not positive.

    Examples
    --------
    >>> from shapely.geometry import LineString
    >>> g = gisplan.network.build_graph(
    ...     gpd.GeoDataFrame(geometry=[LineString([(0, 0), (1000, 0)])], crs=4548))
    >>> o = gpd.GeoDataFrame({"community_id": ["C1"], "origin_id": ["C1-c"]},
    ...                      geometry=[Point(0, 0)], crs=4548)
    >>> f = gpd.GeoDataFrame({"facility_id": ["F1", "F2"], "type": ["park", "park"]},
    ...                      geometry=[Point(200, 0), Point(900, 0)], crs=4548)
    >>> gisplan.access.facility_catchments(g, o, f, radius_m=500)["facility_id"].tolist()
    ['F1']
    """
    options = options or AccessOptions()
    _check_layer(origins, graph, "origins", ["community_id", "origin_id"])
    _check_layer(facilities, graph, "facilities", ["facility_id", "type"])
    o = _sorted_origins(origins)
    f = _sorted_facilities(facilities)
    o_snap = _snap(graph, o, options)
    f_snap = _snap(graph, f, options)
    comm = o["community_id"].to_numpy(dtype=object)
    fid = f["facility_id"].to_numpy(dtype=object)
    ftype = f["type"].to_numpy(dtype=object)
    valid_o = np.flatnonzero(~o_snap.far)
    u, v, off_u, off_v = _origin_offsets(graph, o_snap, valid_o)
    frames: list[pd.DataFrame] = []
    for t in _types(f, None):
        r = _radius_of(radius_m, t)
        if r is None:
            logger.info("catchments: no radius for type %r; its facilities are skipped", t)
            continue
        sel = np.flatnonzero((ftype == t) & ~f_snap.far)
        if not len(sel) or not len(valid_o):
            continue
        aug, virtual = _augment(graph, f_snap, sel)
        op_all, fp_all, d_all = _same_edge(o_snap, valid_o, f_snap, sel)
        for b in _batches(len(sel), max(aug.shape[0], len(valid_o))):
            d_node = dijkstra(aug, directed=True, indices=virtual[b], limit=r)
            d = np.minimum(d_node[:, u] + off_u, d_node[:, v] + off_v)
            in_b = (fp_all >= b.start) & (fp_all < b.stop)
            np.minimum.at(d, (fp_all[in_b] - b.start, op_all[in_b]), d_all[in_b])
            fi, oi = np.nonzero(d <= r)
            if len(fi):
                frames.append(
                    pd.DataFrame(
                        {
                            "community_id": comm[valid_o[oi]],
                            "facility_id": fid[sel[b.start + fi]],
                            "type": t,
                            "dist_m": d[fi, oi],
                        }
                    )
                )
    cols = ["community_id", "facility_id", "type", "dist_m"]
    if not frames:
        return _frame({c: pd.Series(dtype=float if c == "dist_m" else object) for c in cols})
    pairs = pd.concat(frames, ignore_index=True)
    pairs = pairs.groupby(["community_id", "facility_id", "type"], as_index=False, sort=False).agg(
        {"dist_m": "min"}
    )
    pairs = pairs.sort_values(["community_id", "type", "dist_m", "facility_id"], kind="stable")
    return _frame(pairs[cols].reset_index(drop=True))


# --------------------------------------------------------------------------- service areas


def _substrings(
    lines: NDArray[np.object_], start: NDArray[np.float64], end: NDArray[np.float64]
) -> NDArray[np.object_]:
    """Vectorised :func:`shapely.ops.substring` for ``0 <= start < end <= length``."""
    coords, idx = shapely.get_coordinates(lines, return_index=True)
    seg = np.zeros(len(coords))
    seg[1:] = np.hypot(*(coords[1:] - coords[:-1]).T)
    first = _first_of_groups(idx)
    seg[first] = 0.0
    cum = np.cumsum(seg)
    cum -= cum[np.flatnonzero(first)][np.cumsum(first) - 1]
    inside = (cum > start[idx]) & (cum < end[idx])
    p0 = shapely.get_coordinates(shapely.line_interpolate_point(lines, start))
    p1 = shapely.get_coordinates(shapely.line_interpolate_point(lines, end))
    k = np.arange(len(lines))
    xy = np.concatenate([p0, coords[inside], p1])
    which = np.concatenate([k, idx[inside], k])
    pos = np.concatenate([start, cum[inside], end])
    order = np.lexsort((pos, which))
    return np.asarray(shapely.linestrings(xy[order], indices=which[order]), dtype=object)


def _reached_pieces(
    graph: WalkGraph,
    f_snap: Snap,
    fb: NDArray[np.int64],
    d_node: NDArray[np.float64],
    r: float,
) -> tuple[NDArray[np.object_], NDArray[np.int64]]:
    """Street pieces reached within ``r`` from facilities ``fb`` (rows of ``d_node``)."""
    length = graph.edge_length_m
    left_u = r - d_node[:, graph.edge_u]
    left_v = r - d_node[:, graph.edge_v]
    fi, ei = np.nonzero((left_u > 0) | (left_v > 0))
    a = np.clip(left_u[fi, ei], 0.0, length[ei])
    c = length[ei] - np.clip(left_v[fi, ei], 0.0, length[ei])
    full = a >= c
    head = ~full & (a > 0)
    tail = ~full & (c < length[ei])
    owner = fb[fi]
    # the facility's own edge, both ways from its snap point
    left = r - f_snap.snap_m[fb]
    ok = left > 0
    e0 = f_snap.edge[fb][ok]
    s0 = np.concatenate(
        [
            np.zeros(int(full.sum() + head.sum())),
            c[tail],
            np.maximum(f_snap.dist_u_m[fb][ok] - left[ok], 0.0),
        ]
    )
    s1 = np.concatenate(
        [
            length[ei[full]],
            a[head],
            length[ei[tail]],
            np.minimum(f_snap.dist_u_m[fb][ok] + left[ok], length[e0]),
        ]
    )
    ee = np.concatenate([ei[full], ei[head], ei[tail], e0])
    ow = np.concatenate([owner[full], owner[head], owner[tail], fb[ok]])
    keep = s1 - s0 > _MIN_PIECE_M
    return _substrings(graph.edge_geometry[ee[keep]], s0[keep], s1[keep]), ow[keep]


def service_areas(
    graph: WalkGraph,
    facilities: gpd.GeoDataFrame,
    *,
    radius_m: float | Mapping[str, float],
    buffer_m: float = 20.0,
    simplify_m: float = 1.0,
    options: AccessOptions | None = None,
) -> gpd.GeoDataFrame:
    """Return each facility's walkable area within its radius.

    The reached streets (edges reached within the radius, partly reached edges cut at
    the exact point, the facility's own edge both ways from its snap point) are buffered by
    ``buffer_m`` and dissolved into one polygon per facility.

    Parameters
    ----------
    graph
        The walking graph.
    facilities
        Points with ``facility_id, type``.
    radius_m
        One radius for every type, or a radius per type (types not in the mapping are
        skipped, and logged).
    buffer_m
        Half-width of the area around reached streets.
    simplify_m
        Outlines are simplified to this tolerance (and buffered with few segments per
        quarter circle) so that a city's service areas stay small enough for web maps;
        0 keeps every vertex.
    options
        :class:`AccessOptions` (``max_snap_m``).

    Returns
    -------
    geopandas.GeoDataFrame
        ``facility_id, type, radius_m, geometry`` sorted by facility_id; an empty polygon
        for a facility off the network.

    Raises
    ------
    CRSError
        If the layer is not in the graph's metric CRS.
    ScenarioError
        If a radius or ``buffer_m`` is not positive.

    Examples
    --------
    >>> from shapely.geometry import LineString
    >>> g = gisplan.network.build_graph(
    ...     gpd.GeoDataFrame(geometry=[LineString([(-1000, 0), (1000, 0)])], crs=4548))
    >>> f = gpd.GeoDataFrame({"facility_id": ["F1"], "type": ["park"]},
    ...                      geometry=[Point(0, 0)], crs=4548)
    >>> a = gisplan.access.service_areas(g, f, radius_m=300, buffer_m=10)
    >>> a.geometry.bounds.round(1).values.tolist()
    [[-310.0, -10.0, 310.0, 10.0]]
    """
    options = options or AccessOptions()
    _check_layer(facilities, graph, "facilities", ["facility_id", "type"])
    if not (math.isfinite(buffer_m) and buffer_m > 0):
        raise ScenarioError(
            f"service areas: buffer_m must be a positive number of metres, got {buffer_m!r}",
            [("buffer_m", f"must be > 0, got {buffer_m!r}", "fix it")],
        )
    f = _sorted_facilities(facilities)
    f_snap = _snap(graph, f, options)
    ftype = f["type"].to_numpy(dtype=object)
    radius = np.full(len(f), np.nan)
    owner_parts: list[NDArray[np.int64]] = []
    line_parts: list[NDArray[np.object_]] = []
    for t in _types(f, None):
        r = _radius_of(radius_m, t)
        if r is None:
            logger.info("service areas: no radius for type %r; its facilities are skipped", t)
            continue
        of_type = ftype == t
        radius[of_type] = r
        sel = np.flatnonzero(of_type & ~f_snap.far)
        if not len(sel):
            continue
        aug, virtual = _augment(graph, f_snap, sel)
        for b in _batches(len(sel), max(aug.shape[0], graph.n_edges)):
            d_node = dijkstra(aug, directed=True, indices=virtual[b], limit=r)
            lines, owner = _reached_pieces(graph, f_snap, sel[b], d_node, r)
            line_parts.append(lines)
            owner_parts.append(owner)
    geoms = np.array([shapely.Polygon()] * len(f), dtype=object)
    has = np.zeros(0, dtype=np.int64)
    if line_parts:
        lines = np.concatenate(line_parts)
        owner = np.concatenate(owner_parts)
        order = np.argsort(owner, kind="stable")
        # facilities off the network (or without a radius) own no pieces: number the owners
        # densely, as shapely wants consecutive indices, then put each area back in its row
        has, dense = np.unique(owner[order], return_inverse=True)
        multi = shapely.multilinestrings(lines[order], indices=dense)
        areas = shapely.buffer(np.asarray(multi), buffer_m, quad_segs=4)
        if simplify_m > 0:
            areas = shapely.simplify(areas, simplify_m, preserve_topology=True)
        geoms[has] = areas
    n_empty = len(f) - len(has)
    if n_empty:
        logger.info(
            "service areas: %d facility(ies) got an empty area (off the network or no radius)",
            n_empty,
        )
    return gpd.GeoDataFrame(
        {"facility_id": f["facility_id"].to_numpy(), "type": ftype.astype(str), "radius_m": radius},
        geometry=geoms,
        crs=graph.crs,
    )
