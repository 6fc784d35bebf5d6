"""Walking graph: network lines as a compact sparse graph, and snapping points onto it.

:func:`build_graph` turns a layer of street/path lines (in a metric CRS) into a
:class:`WalkGraph`: nodes where lines end or share a vertex, edges between them with their
lengths in metres, a symmetric :class:`scipy.sparse.csr_array` for shortest paths and a
connected-component label per node. Walking is undirected (``oneway`` is ignored).

:func:`snap_points` attaches points (facilities, community entrances) to their nearest
**edge**: the projected point, its distance along the edge from both ends and the
straight snap distance, which is part of every walking distance gisplan reports.

Everything is vectorised with numpy/shapely/scipy; a graph of a million segments builds in
seconds. Nothing is silently dropped: zero-length lines, empty rows, duplicate edges and
disconnected pieces are counted in :attr:`WalkGraph.report`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pyproj
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import connected_components

from gisplan.crs import require_metric_crs
from gisplan.errors import CRSError, LayerError
from gisplan.validation import ValidationReport

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = ["Snap", "WalkGraph", "build_graph", "network_pieces", "snap_points"]

logger = logging.getLogger(__name__)

_LINE_TYPES = (shapely.GeometryType.LINESTRING, shapely.GeometryType.LINEARRING)


@dataclass(frozen=True, eq=False)
class WalkGraph:
    """An undirected walking graph in a metric CRS (build it with :func:`build_graph`).

    Attributes
    ----------
    crs
        The metric CRS of the network.
    node_xy
        ``(n_nodes, 2)`` node coordinates.
    edge_u, edge_v
        Node index of each edge's start and end (never equal).
    edge_length_m
        Edge length along its geometry, metres (always > 0).
    edge_geometry
        One shapely LineString per edge, oriented from ``edge_u`` to ``edge_v``.
    edge_source
        Row position (0-based) of the input network row each edge came from.
    matrix
        ``(n_nodes, n_nodes)`` symmetric CSR matrix of edge lengths; for node pairs joined
        by several edges the shortest length.
    component
        Connected-component ("piece") label per node: 0 is the **main piece**, the one with
        the most walkable length, then by length descending, ties by more nodes, then by
        lowest node index.
    report
        Warnings found while building: disconnected pieces, zero-length lines, duplicate
        edges, empty or non-line rows.
    """

    crs: pyproj.CRS
    node_xy: NDArray[np.float64]
    edge_u: NDArray[np.int64]
    edge_v: NDArray[np.int64]
    edge_length_m: NDArray[np.float64]
    edge_geometry: NDArray[np.object_]
    edge_source: NDArray[np.int64]
    matrix: sp.csr_array
    component: NDArray[np.int32]
    report: ValidationReport

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return int(self.node_xy.shape[0])

    @property
    def n_edges(self) -> int:
        """Number of edges."""
        return int(self.edge_u.shape[0])

    @cached_property
    def edge_tree(self) -> shapely.STRtree:
        """STRtree over :attr:`edge_geometry` (built on first use, then kept)."""
        return shapely.STRtree(self.edge_geometry)

    @cached_property
    def edge_piece(self) -> NDArray[np.int32]:
        """Piece (component) of each edge; 0 is the main piece."""
        return np.asarray(self.component[self.edge_u], dtype=np.int32)

    @cached_property
    def main_edges(self) -> NDArray[np.int64]:
        """Indices of the edges of the main piece (piece 0)."""
        return np.flatnonzero(self.edge_piece == 0).astype(np.int64)

    @cached_property
    def main_edge_tree(self) -> shapely.STRtree:
        """STRtree over the main piece's edges (positions index :attr:`main_edges`)."""
        return shapely.STRtree(self.edge_geometry[self.main_edges])

    @cached_property
    def component_sizes(self) -> NDArray[np.int64]:
        """Number of nodes in each component (index = component label)."""
        return np.bincount(self.component).astype(np.int64)

    def edges_frame(self) -> gpd.GeoDataFrame:
        """Return the edges as a GeoDataFrame.

        Returns
        -------
        geopandas.GeoDataFrame
            One row per edge: ``u, v, length_m, component, source_row, geometry``.
        """
        return gpd.GeoDataFrame(
            {
                "u": self.edge_u,
                "v": self.edge_v,
                "length_m": self.edge_length_m,
                "component": self.component[self.edge_u],
                "source_row": self.edge_source,
            },
            geometry=gpd.GeoSeries(self.edge_geometry, crs=self.crs),
            crs=self.crs,
        )

    def nodes_frame(self) -> gpd.GeoDataFrame:
        """Return the nodes as a GeoDataFrame.

        Returns
        -------
        geopandas.GeoDataFrame
            One row per node: ``node, component, degree`` (number of edges touching it,
            duplicates included), ``geometry``.
        """
        degree = np.bincount(
            np.concatenate([self.edge_u, self.edge_v]), minlength=self.n_nodes
        ).astype(np.int64)
        return gpd.GeoDataFrame(
            {
                "node": np.arange(self.n_nodes, dtype=np.int64),
                "component": self.component,
                "degree": degree,
            },
            geometry=shapely.points(self.node_xy),
            crs=self.crs,
        )


def _explode_lines(
    network: gpd.GeoDataFrame, report: ValidationReport
) -> tuple[NDArray[np.object_], NDArray[np.int64]]:
    """Return single-part lines and the input row position each came from."""
    geoms = np.asarray(network.geometry.array, dtype=object)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if missing.any():
        report.add(
            "network",
            f"{int(missing.sum())} row(s) have no geometry (empty or missing) and were skipped",
            "delete them or draw their lines",
            severity="warning",
            row=", ".join(f"row {i + 1}" for i in np.flatnonzero(missing)[:10]),
        )
    kinds = shapely.get_type_id(geoms)
    if np.all(kinds[~missing] == int(shapely.GeometryType.LINESTRING)):
        src = np.flatnonzero(~missing)
        parts = geoms[src]
    else:
        parts, src = shapely.get_parts(geoms, return_index=True)
    kind = shapely.get_type_id(parts)
    lines = np.isin(kind, [int(t) for t in _LINE_TYPES]) & ~shapely.is_empty(parts)
    other = ~lines & ~shapely.is_empty(parts)
    if other.any():
        names = sorted({str(t) for t in shapely.get_type_id(parts[other])})
        report.add(
            "network",
            f"{int(other.sum())} part(s) are not lines (geometry type ids {', '.join(names)}) "
            "and were skipped",
            "keep only LineString/MultiLineString rows in the network layer",
            severity="warning",
        )
    return parts[lines], src[lines].astype(np.int64)


def _vertex_keys(coords: NDArray[np.float64], tol: float) -> NDArray[np.int64]:
    """Return one integer key per coordinate, equal for coordinates in the same tol-cell."""
    cells = np.rint((coords - coords.min(axis=0)) / tol).astype(np.int64)
    span = cells.max(axis=0) + 1
    if float(span[0]) * float(span[1]) < 2.0**62:
        return np.asarray(cells[:, 0] * span[1] + cells[:, 1], dtype=np.int64)
    _, inverse = np.unique(cells, axis=0, return_inverse=True)
    return np.asarray(inverse.reshape(-1), dtype=np.int64)


def build_graph(network: gpd.GeoDataFrame, *, node_tolerance_m: float = 0.01) -> WalkGraph:
    """Build the walking graph of a network layer.

    Nodes are put at line endpoints and at every vertex shared by two or more lines (or
    met twice by one line), after rounding coordinates to ``node_tolerance_m``; each line
    is split at its nodes into edges. A closed ring with no other node is split at its
    middle vertex so that no edge starts and ends at the same node. Lines shorter than the
    tolerance are dropped and counted; node pairs joined by several edges keep every edge
    but the matrix holds the shortest. Walking is undirected (``oneway`` is ignored).

    Parameters
    ----------
    network
        LineString/MultiLineString rows in a projected CRS in metres (for example from
        :func:`gisplan.osm.read_osm_network` then :func:`gisplan.crs.to_metric`).
    node_tolerance_m
        Vertices closer than about this (same grid cell) become one node.

    Returns
    -------
    WalkGraph
        The graph; its ``report`` lists disconnected pieces and dropped rows.

    Raises
    ------
    CRSError
        If the network is not in a projected CRS in metres.
    LayerError
        If the layer holds no walkable line, or ``node_tolerance_m`` is not positive.

    Examples
    --------
    >>> from shapely.geometry import LineString
    >>> net = gpd.GeoDataFrame(geometry=[LineString([(0, 0), (100, 0), (100, 50)]),
    ...                                   LineString([(100, 0), (200, 0)])], crs=4548)
    >>> g = gisplan.network.build_graph(net)
    >>> g.n_nodes, g.n_edges, g.edge_length_m.tolist()
    (4, 3, [100.0, 50.0, 100.0])
    """
    require_metric_crs(network, what="network")
    if not np.isfinite(node_tolerance_m) or node_tolerance_m <= 0:
        raise LayerError(
            f"network: node_tolerance_m must be a positive number of metres, "
            f"got {node_tolerance_m!r}"
        )
    report = ValidationReport()
    lines, line_src = _explode_lines(network, report)
    if len(lines) == 0:
        raise LayerError(
            f"network: no walkable lines ({len(network)} row(s), none a non-empty "
            "LineString/MultiLineString); check the layer and its geometry column"
        )
    coords, cidx = shapely.get_coordinates(lines, return_index=True)
    coords, cidx, keys = _drop_short(coords, cidx, line_src, node_tolerance_m, report)
    node_xy, edge_u, edge_v, geoms, edge_src = _split(coords, cidx, keys, line_src)
    length = np.asarray(shapely.length(geoms), dtype=np.float64)

    n = len(node_xy)
    matrix, n_dup = _matrix(edge_u, edge_v, length, n)
    if n_dup:
        report.add(
            "network",
            f"{n_dup} edge(s) join a pair of nodes already joined by another edge; "
            "the shortest is used for distances",
            "usually harmless (dual carriageways, loops); remove true duplicates if any",
            severity="warning",
        )
    component = _components(matrix, edge_u, length)
    graph = WalkGraph(
        crs=pyproj.CRS.from_user_input(network.crs),
        node_xy=node_xy.astype(np.float64),
        edge_u=edge_u.astype(np.int64),
        edge_v=edge_v.astype(np.int64),
        edge_length_m=length.astype(np.float64),
        edge_geometry=np.asarray(geoms, dtype=object),
        edge_source=edge_src.astype(np.int64),
        matrix=matrix,
        component=component,
        report=report,
    )
    _report_components(graph)
    logger.info(
        "network: %d nodes, %d edges, %.1f km, %d piece(s)",
        graph.n_nodes,
        graph.n_edges,
        float(length.sum()) / 1000.0,
        len(graph.component_sizes),
    )
    return graph


def _drop_short(
    coords: NDArray[np.float64],
    cidx: NDArray[np.int64],
    line_src: NDArray[np.int64],
    tol: float,
    report: ValidationReport,
) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.int64]]:
    """Drop repeated vertices and lines shorter than ``tol``; return coords, line index, keys."""
    keys = _vertex_keys(coords, tol)
    same = np.zeros(len(keys), dtype=bool)
    same[1:] = (keys[1:] == keys[:-1]) & (cidx[1:] == cidx[:-1])
    coords, cidx, keys = coords[~same], cidx[~same], keys[~same]
    n_vertices = np.bincount(cidx, minlength=len(line_src))
    short = n_vertices < 2  # noqa: PLR2004 - a line needs two distinct vertices
    if short.any():
        report.add(
            "network",
            f"{int(short.sum())} zero-length line(s) (shorter than node_tolerance_m, "
            f"{tol:g} m) were dropped",
            "delete them or redraw them",
            severity="warning",
            row=", ".join(f"row {i + 1}" for i in np.unique(line_src[short])[:10]),
        )
        keep = ~short[cidx]
        coords, cidx, keys = coords[keep], cidx[keep], keys[keep]
    if len(coords) == 0:
        raise LayerError(
            "network: no walkable lines (every line is shorter than node_tolerance_m); "
            "check the layer's coordinates and CRS"
        )
    return coords, cidx, keys


def _split(
    coords: NDArray[np.float64],
    cidx: NDArray[np.int64],
    keys: NDArray[np.int64],
    line_src: NDArray[np.int64],
) -> tuple[
    NDArray[np.float64],
    NDArray[np.int64],
    NDArray[np.int64],
    NDArray[np.object_],
    NDArray[np.int64],
]:
    """Split lines at their nodes; return node_xy, edge_u, edge_v, edge geometries, sources."""
    # vertex ids in first-appearance order
    uniq, first, vid = np.unique(keys, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    vid = rank[vid.reshape(-1)]
    vertex_xy = coords[first[order]]

    starts = np.ones(len(cidx), dtype=bool)
    starts[1:] = cidx[1:] != cidx[:-1]
    ends = np.ones(len(cidx), dtype=bool)
    ends[:-1] = cidx[1:] != cidx[:-1]
    is_node = starts | ends | (np.bincount(vid, minlength=len(uniq)) >= 2)[vid]  # noqa: PLR2004

    # closed rings with no inner node: split at their middle vertex
    first_pos = np.flatnonzero(is_node & ~ends)
    last_pos = np.flatnonzero(is_node & ~starts)
    loops = vid[first_pos] == vid[last_pos]
    if loops.any():
        is_node[(first_pos[loops] + last_pos[loops]) // 2] = True
        first_pos = np.flatnonzero(is_node & ~ends)
        last_pos = np.flatnonzero(is_node & ~starts)
    eid = np.cumsum(is_node & ~ends) - 1

    # nodes keep first-appearance order (vid is already in that order)
    node_vid = np.unique(vid[is_node])
    vid_to_node = np.full(len(uniq), -1, dtype=np.int64)
    vid_to_node[node_vid] = np.arange(len(node_vid))
    node_xy = vertex_xy[node_vid]
    xy = coords.copy()
    xy[is_node] = node_xy[vid_to_node[vid[is_node]]]

    # inner nodes are the end of one edge and the start of the next: duplicate them
    inner = is_node & ~starts & ~ends
    reps = 1 + inner.astype(np.int64)
    ex_id = np.repeat(eid, reps)
    ex_id[(np.cumsum(reps) - reps)[inner]] -= 1
    geoms = np.asarray(
        shapely.linestrings(np.repeat(xy, reps, axis=0), indices=ex_id), dtype=object
    )
    edge_u = vid_to_node[vid[first_pos]]
    edge_v = vid_to_node[vid[last_pos]]
    return node_xy, edge_u, edge_v, geoms, line_src[cidx[first_pos]]


def _matrix(
    u: NDArray[np.int64], v: NDArray[np.int64], length: NDArray[np.float64], n: int
) -> tuple[sp.csr_array, int]:
    """Return the symmetric CSR matrix (min length per node pair) and the duplicate count."""
    a = np.minimum(u, v)
    b = np.maximum(u, v)
    order = np.lexsort((length, b, a))
    a, b, w = a[order], b[order], length[order]
    keep = np.ones(len(a), dtype=bool)
    keep[1:] = (a[1:] != a[:-1]) | (b[1:] != b[:-1])
    a, b, w = a[keep], b[keep], w[keep]
    rows = np.concatenate([a, b])
    cols = np.concatenate([b, a])
    data = np.concatenate([w, w])
    matrix = sp.csr_array((data, (rows, cols)), shape=(n, n))
    matrix.sort_indices()
    return matrix, int((~keep).sum())


def _components(
    matrix: sp.csr_array, edge_u: NDArray[np.int64], length: NDArray[np.float64]
) -> NDArray[np.int32]:
    """Label components: 0 = most length, then by length, nodes, lowest node."""
    _, labels = connected_components(matrix, directed=False)
    sizes = np.bincount(labels)
    metres = np.bincount(labels[edge_u], weights=length, minlength=len(sizes))
    # nodes are numbered 0..n-1, so a label's first occurrence is its lowest node
    _, first = np.unique(labels, return_index=True)
    order = np.lexsort((first, -sizes, -metres))
    new = np.empty(len(order), dtype=np.int32)
    new[order] = np.arange(len(order), dtype=np.int32)
    return np.asarray(new[labels], dtype=np.int32)


def _report_components(graph: WalkGraph) -> None:
    sizes = graph.component_sizes
    if len(sizes) <= 1:
        return
    share = 100.0 * float(sizes[0]) / float(graph.n_nodes)
    small = int((sizes[1:] < 10).sum())  # noqa: PLR2004
    problem = (
        f"network has {len(sizes)} connected pieces; the largest has {share:.0f} % of nodes "
        f"({int(sizes[0])} of {graph.n_nodes}); the others have "
        f"{int(sizes[1:].sum())} nodes ({small} piece(s) under 10 nodes); points snapped "
        "to a small piece only reach facilities on that piece"
    )
    graph.report.add(
        "network",
        problem,
        "join the pieces where paths really connect (gaps at crossings, missing links), "
        "or accept them; they are kept, not dropped",
        severity="warning",
    )
    logger.warning("%s", problem)


@dataclass(frozen=True, eq=False)
class Snap:
    """Points attached to an edge of a :class:`WalkGraph` (see :func:`snap_points`).

    Attributes
    ----------
    edge
        Edge index, -1 where the point is missing or empty.
    dist_u_m
        Distance along the edge from ``edge_u`` to the projected point (NaN where -1).
    dist_v_m
        Distance along the edge from the projected point to ``edge_v`` (NaN where -1).
    snap_m
        Straight distance from the point (a polygon's boundary) to the edge (NaN where -1).
    xy
        ``(n, 2)`` projected point on the edge (NaN where -1).
    component
        Piece of the edge, 0 = main piece (-1 where -1).
    far
        ``snap_m > max_snap_m``, or no edge.
    moved
        The nearest edge was on a minor piece and the point was snapped to the main piece
        instead (within ``snap_tolerance_m`` farther).
    """

    edge: NDArray[np.int64]
    dist_u_m: NDArray[np.float64]
    dist_v_m: NDArray[np.float64]
    snap_m: NDArray[np.float64]
    xy: NDArray[np.float64]
    component: NDArray[np.int32]
    far: NDArray[np.bool_]
    moved: NDArray[np.bool_]


_POLYGONAL = (int(shapely.GeometryType.POLYGON), int(shapely.GeometryType.MULTIPOLYGON))


def _point_geometries(
    graph: WalkGraph,
    points: gpd.GeoSeries | gpd.GeoDataFrame,
    what: str,
    *,
    polygon_boundary: bool = False,
) -> NDArray[np.object_]:
    """Return what is snapped: points as given, polygons' boundaries, others' surface point."""
    require_metric_crs(points, what=what)
    if not pyproj.CRS.from_user_input(points.crs).equals(graph.crs):
        raise CRSError(
            f"{what}: CRS {points.crs} differs from the network's {graph.crs}; "
            "project both into the run's metric CRS with gisplan.crs.to_metric"
        )
    geoms = np.asarray(points.geometry.array, dtype=object)
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    kind = shapely.get_type_id(geoms)
    polygon = ok & np.isin(kind, _POLYGONAL) & polygon_boundary
    other = ok & ~polygon & (kind != int(shapely.GeometryType.POINT))
    if polygon.any() or other.any():
        geoms = geoms.copy()
        geoms[polygon] = shapely.boundary(geoms[polygon])
        geoms[other] = shapely.point_on_surface(geoms[other])
    return geoms


def _nearest(
    tree: shapely.STRtree, geoms: NDArray[np.object_]
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Nearest tree item per geometry (ties: lowest index) and its distance; -1/NaN if none."""
    n = len(geoms)
    item = np.full(n, -1, dtype=np.int64)
    dist = np.full(n, np.nan)
    if n and len(tree.geometries):
        (qi, ei), d = tree.query_nearest(geoms, return_distance=True, all_matches=True)
        order = np.lexsort((ei, qi))
        qi, ei, d = qi[order], ei[order], d[order]
        first = np.ones(len(qi), dtype=bool)
        first[1:] = qi[1:] != qi[:-1]
        item[qi[first]] = ei[first]
        dist[qi[first]] = d[first]
    return item, dist


def snap_points(
    graph: WalkGraph,
    points: gpd.GeoSeries | gpd.GeoDataFrame,
    *,
    max_snap_m: float = 200.0,
    snap_tolerance_m: float = 50.0,
    polygon_boundary: bool = False,
) -> Snap:
    """Attach points to their nearest edge, preferring the main piece of the network.

    Every point with a geometry is snapped, however far, so its snap distance can be
    reported; points farther than ``max_snap_m`` are flagged ``far``. A point whose nearest
    edge lies on a minor (disconnected) piece is snapped to the nearest edge of the main
    piece (piece 0) instead when that edge is at most ``snap_tolerance_m`` farther: a
    footbridge or an isolated path next to a street must not cut a community off. Ties
    between equally near edges go to the lowest edge index.

    With ``polygon_boundary``, a polygon (a school campus) is measured from its
    **boundary**: it is attached at the point of the network nearest to its boundary (0 m
    where a street touches or crosses it), and ``snap_m`` is that boundary-to-street
    distance. Otherwise, and for other non-points, the representative point is used.

    Parameters
    ----------
    graph
        The walking graph.
    points
        Points (or polygons) in the graph's CRS.
    max_snap_m
        Points farther than this from every edge are flagged ``far``.
    snap_tolerance_m
        How much farther the main piece may be than a minor piece's nearer edge and still
        be chosen; 0 = always the nearest edge.
    polygon_boundary
        Measure polygons from their boundary instead of their representative point.

    Returns
    -------
    Snap
        Arrays aligned with the rows of ``points``.

    Raises
    ------
    CRSError
        If the points are not in a metric CRS or not in the graph's CRS.
    LayerError
        If ``snap_tolerance_m`` is negative or not a number.

    Examples
    --------
    >>> from shapely.geometry import LineString
    >>> net = gpd.GeoDataFrame(geometry=[LineString([(0, 0), (100, 0)])], crs=4548)
    >>> g = gisplan.network.build_graph(net)
    >>> s = gisplan.network.snap_points(g, gpd.GeoSeries([Point(30, 40)], crs=4548))
    >>> s.edge.tolist(), s.dist_u_m.tolist(), s.dist_v_m.tolist(), s.snap_m.tolist()
    ([0], [30.0], [70.0], [40.0])
    """
    if not (np.isfinite(snap_tolerance_m) and snap_tolerance_m >= 0):
        raise LayerError(
            f"snap_tolerance_m must be zero or a positive number of metres, "
            f"got {snap_tolerance_m!r}"
        )
    geoms = _point_geometries(graph, points, "points", polygon_boundary=polygon_boundary)
    n = len(geoms)
    edge, snap = _nearest(graph.edge_tree, geoms)
    moved = np.zeros(n, dtype=bool)
    minor = (edge >= 0) & (graph.edge_piece[np.maximum(edge, 0)] != 0)
    if minor.any():
        pos, d_main = _nearest(graph.main_edge_tree, geoms[minor])
        ok = (pos >= 0) & (d_main <= snap[minor] + snap_tolerance_m)
        idx = np.flatnonzero(minor)[ok]
        edge[idx] = graph.main_edges[pos[ok]]
        snap[idx] = d_main[ok]
        moved[idx] = True
    has = edge >= 0
    lines = graph.edge_geometry[edge[has]]
    at = geoms[has].copy()
    not_point = shapely.get_type_id(at) != int(shapely.GeometryType.POINT)
    if not_point.any():
        # the point of the edge nearest to the boundary
        at[not_point] = shapely.get_point(shapely.shortest_line(at[not_point], lines[not_point]), 1)
    dist_u = np.full(n, np.nan)
    xy = np.full((n, 2), np.nan)
    dist_u[has] = shapely.line_locate_point(lines, at)
    xy[has] = shapely.get_coordinates(shapely.line_interpolate_point(lines, dist_u[has]))
    length = np.full(n, np.nan)
    length[has] = graph.edge_length_m[edge[has]]
    dist_v = np.maximum(length - dist_u, 0.0)
    component = np.full(n, -1, dtype=np.int32)
    component[has] = graph.edge_piece[edge[has]]
    far = ~has | ~(snap <= max_snap_m)
    return Snap(
        edge=edge,
        dist_u_m=dist_u,
        dist_v_m=dist_v,
        snap_m=snap,
        xy=xy,
        component=component,
        far=far,
        moved=moved,
    )


def network_pieces(graph: WalkGraph) -> gpd.GeoDataFrame:
    """Return one row per connected piece of the walking network, for maps and checks.

    Parameters
    ----------
    graph
        The walking graph.

    Returns
    -------
    geopandas.GeoDataFrame
        ``piece`` (0 = main piece, the one with the most length), ``n_edges``, ``n_nodes``,
        ``length_m``, ``is_main``, geometry = its edges as one MultiLineString; sorted by
        piece.

    Examples
    --------
    >>> from shapely.geometry import LineString
    >>> net = gpd.GeoDataFrame(geometry=[LineString([(0, 0), (100, 0)]),
    ...                                   LineString([(0, 50), (30, 50)])], crs=4548)
    >>> p = gisplan.network.network_pieces(gisplan.network.build_graph(net))
    >>> p[["piece", "n_edges", "length_m", "is_main"]].values.tolist()
    [[0, 1, 100.0, True], [1, 1, 30.0, False]]
    """
    n_pieces = len(graph.component_sizes)
    piece = graph.edge_piece
    order = np.argsort(piece, kind="stable")
    lines: NDArray[np.object_] = graph.edge_geometry[order]
    geoms = shapely.multilinestrings(lines, indices=piece[order])
    return gpd.GeoDataFrame(
        {
            "piece": np.arange(n_pieces, dtype=np.int64),
            "n_edges": np.bincount(piece, minlength=n_pieces).astype(np.int64),
            "n_nodes": graph.component_sizes,
            "length_m": np.bincount(piece, weights=graph.edge_length_m, minlength=n_pieces),
            "is_main": np.arange(n_pieces) == 0,
        },
        geometry=gpd.GeoSeries(np.asarray(geoms, dtype=object), crs=graph.crs),
        crs=graph.crs,
    )
