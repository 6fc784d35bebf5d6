from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal
from shapely.geometry import LineString, MultiLineString, Point

from gisplan.crs import to_metric
from gisplan.errors import CRSError, LayerError
from gisplan.network import build_graph, snap_points
from gisplan.osm import read_osm_network

from _fixtures import CRS, X0, Y0


def _net(*lines: object) -> gpd.GeoDataFrame:
    geoms = [
        None if ln is None else LineString([(X0 + x, Y0 + y) for x, y in ln])  # type: ignore[attr-defined]
        for ln in lines
    ]
    return gpd.GeoDataFrame({"name": [f"s{i}" for i in range(len(geoms))]}, geometry=geoms, crs=CRS)


def test_three_node_line_and_shared_vertex() -> None:
    # one line through (100, 0) and a second line starting there: node at the shared vertex
    net = _net([(0, 0), (100, 0), (200, 0)], [(100, 0), (100, 50)])
    g = build_graph(net)
    assert g.n_nodes == 4
    assert g.n_edges == 3
    assert g.edge_length_m.tolist() == [100.0, 100.0, 50.0]
    assert g.edge_source.tolist() == [0, 0, 1]
    assert (g.edge_u != g.edge_v).all()
    assert g.matrix[0, 1] == 100.0
    assert g.matrix[1, 0] == 100.0
    assert g.matrix.shape == (4, 4)
    assert len(g.report) == 0
    # geometry oriented u -> v
    starts = shapely.get_coordinates(shapely.get_point(g.edge_geometry, 0))
    np.testing.assert_allclose(starts, g.node_xy[g.edge_u])


def test_vertex_not_shared_is_not_a_node() -> None:
    g = build_graph(_net([(0, 0), (50, 0), (100, 0)]))
    assert g.n_nodes == 2
    assert g.edge_length_m.tolist() == [100.0]


def test_crossing_without_shared_vertex_is_not_joined() -> None:
    # a bridge: two lines cross but share no vertex -> two pieces, reported
    g = build_graph(_net([(0, 0), (100, 0)], [(50, -50), (50, 50)]))
    assert g.n_nodes == 4
    assert sorted(g.component.tolist()) == [0, 0, 1, 1]
    assert "2 connected pieces" in g.report.warnings[0].problem


def test_node_tolerance_merges_close_endpoints() -> None:
    g = build_graph(_net([(0, 0), (100, 0)], [(100.001, 0), (200, 0)]))
    assert g.n_nodes == 3
    assert g.component.tolist() == [0, 0, 0]
    g2 = build_graph(_net([(0, 0), (100, 0)], [(100.5, 0), (200, 0)]))
    assert g2.n_nodes == 4


def test_duplicates_keep_min_in_matrix_and_edges_kept() -> None:
    net = _net([(0, 0), (100, 0)], [(0, 0), (50, 50), (100, 0)], [(100, 0), (0, 0)])
    g = build_graph(net)
    assert g.n_nodes == 2
    assert g.n_edges == 3
    assert g.matrix[0, 1] == pytest.approx(100.0)
    assert g.matrix.nnz == 2
    assert any("already joined" in i.problem for i in g.report.warnings)


def test_closed_ring_is_split() -> None:
    g = build_graph(_net([(0, 0), (100, 0), (100, 100), (0, 100), (0, 0)]))
    assert g.n_edges == 2
    assert (g.edge_u != g.edge_v).all()
    assert g.edge_length_m.sum() == pytest.approx(400.0)


def test_zero_length_and_empty_rows_reported() -> None:
    net = _net([(0, 0), (100, 0)], [(5, 5), (5, 5)], None)
    g = build_graph(net)
    assert g.n_edges == 1
    problems = " | ".join(i.problem for i in g.report.warnings)
    assert "1 zero-length line(s)" in problems
    assert "1 row(s) have no geometry" in problems


def test_multilinestring_exploded_and_source_row() -> None:
    ml = MultiLineString(
        [[(X0, Y0), (X0 + 10, Y0)], [(X0 + 10, Y0), (X0 + 10, Y0 + 10)]],
    )
    net = gpd.GeoDataFrame(geometry=[Point(X0, Y0), ml], crs=CRS)
    g = build_graph(net)
    assert g.n_edges == 2
    assert g.edge_source.tolist() == [1, 1]
    assert any("not lines" in i.problem for i in g.report.warnings)


def test_components_labelled_by_size_and_reported() -> None:
    # a 5-node main piece, a 2-node piece and another 2-node piece
    net = _net(
        [(0, 0), (100, 0), (200, 0), (300, 0), (400, 0)],
        [(1000, 0), (1100, 0)],
        [(2000, 0), (2100, 0)],
        [(100, 0), (100, 10)],
        [(200, 0), (200, 10)],
        [(300, 0), (300, 10)],
    )
    g = build_graph(net)
    sizes = np.bincount(g.component)
    assert sizes.tolist() == [8, 2, 2]
    # ties broken by lowest node: piece 1 holds the first-listed small piece
    assert g.component[g.edge_u[4]] == 1
    assert g.component[g.edge_u[5]] == 2
    msg = g.report.warnings[0].problem
    assert "network has 3 connected pieces; the largest has 67 % of nodes" in msg
    frame = g.edges_frame()
    assert list(frame.columns) == ["u", "v", "length_m", "component", "source_row", "geometry"]
    nodes = g.nodes_frame()
    assert list(nodes.columns) == ["node", "component", "degree", "geometry"]
    assert int(nodes["degree"].sum()) == 2 * g.n_edges


def test_degrees_refused() -> None:
    net = gpd.GeoDataFrame(geometry=[LineString([(116, 40), (116.001, 40)])], crs=4326)
    with pytest.raises(CRSError, match="projected"):
        build_graph(net)


def test_no_walkable_lines() -> None:
    with pytest.raises(LayerError, match="no walkable lines"):
        build_graph(gpd.GeoDataFrame(geometry=[None, Point(X0, Y0)], crs=CRS))
    with pytest.raises(LayerError, match="no walkable lines"):
        build_graph(gpd.GeoDataFrame(geometry=[], crs=CRS))
    with pytest.raises(LayerError, match="node_tolerance_m"):
        build_graph(_net([(0, 0), (1, 0)]), node_tolerance_m=-1)


def test_input_not_mutated() -> None:
    net = _net([(0, 0), (100, 0), (200, 0)], [(100, 0), (100, 50)], None)
    saved = net.copy()
    build_graph(net)
    assert_geodataframe_equal(net, saved)


def test_snap_points() -> None:
    g = build_graph(_net([(0, 0), (100, 0)], [(100, 0), (100, 100)]))
    pts = gpd.GeoSeries(
        [
            Point(X0 + 30, Y0 + 40),
            Point(X0 + 100, Y0 + 5000),  # 4.9 km from the end of the network
            None,
            Point(),
            Point(X0 + 120, Y0 - 20),  # equally near both edges (node corner): lowest edge
        ],
        crs=CRS,
    )
    s = snap_points(g, pts)
    assert s.edge.tolist() == [0, 1, -1, -1, 0]
    np.testing.assert_allclose(s.dist_u_m, [30, 100, np.nan, np.nan, 100])
    np.testing.assert_allclose(s.dist_v_m, [70, 0, np.nan, np.nan, 0])
    np.testing.assert_allclose(s.snap_m, [40, 4900, np.nan, np.nan, np.hypot(20, 20)])
    np.testing.assert_allclose(s.xy[0], [X0 + 30, Y0])
    assert s.far.tolist() == [False, True, True, True, False]
    assert s.component.tolist() == [0, 0, -1, -1, 0]
    assert snap_points(g, pts, max_snap_m=10).far.tolist()[0]


def test_snap_points_crs_checked() -> None:
    g = build_graph(_net([(0, 0), (100, 0)]))
    with pytest.raises(CRSError, match="projected"):
        snap_points(g, gpd.GeoSeries([Point(116, 40)], crs=4326))
    with pytest.raises(CRSError, match="differs"):
        snap_points(g, gpd.GeoSeries([Point(X0, Y0)], crs=4547))


@pytest.mark.osm
@pytest.mark.parametrize("name", ["beijing_wudaokou_2017", "nanjing_xinjiekou_2021"])
def test_osm_extract_nodes_match_osm_junctions(osm_dir, name) -> None:
    raw = read_osm_network(osm_dir / name / "map.osm")
    net = to_metric(raw, datum="WGS84")
    g = build_graph(net)
    # every OSM segment end is a node; segments split further only at shared vertices,
    # so the number of distinct OSM end nodes is at most the number of graph nodes
    ends = np.unique(np.concatenate([raw["u"].to_numpy(), raw["v"].to_numpy()]))
    assert g.n_nodes >= len(ends)
    assert g.edge_length_m.sum() == pytest.approx(float(net.length.sum()), rel=1e-9)
    assert (g.edge_u != g.edge_v).all()
    assert (g.edge_length_m > 0).all()
