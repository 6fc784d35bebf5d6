from __future__ import annotations

import itertools

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, Point, box
from shapely.ops import substring

from gisplan.access import (
    AccessOptions,
    _substrings,
    building_distances,
    community_origins,
    facility_catchments,
    k_nearest_within,
    nearest_facilities,
    service_areas,
    straight_line_nearest,
)
from gisplan.crs import to_metric
from gisplan.errors import CRSError, GisplanError, ScenarioError, SchemaError
from gisplan.network import WalkGraph, build_graph, snap_points
from gisplan.osm import read_osm_communities, read_osm_facilities, read_osm_network

from _fixtures import CRS, X0, Y0


def _net(*lines: list[tuple[float, float]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        geometry=[LineString([(X0 + x, Y0 + y) for x, y in ln]) for ln in lines], crs=CRS
    )


def _pts(xy: list[tuple[float, float] | None], ids: list[str], **cols: object) -> gpd.GeoDataFrame:
    geoms = [None if p is None else Point(X0 + p[0], Y0 + p[1]) for p in xy]
    return gpd.GeoDataFrame(dict(cols), geometry=geoms, crs=CRS).assign(_id=ids)


def _origins(
    xy: list[tuple[float, float] | None], ids: list[str] | None = None
) -> gpd.GeoDataFrame:
    ids = ids or [f"C{i}" for i in range(len(xy))]
    o = _pts(xy, ids).drop(columns="_id")
    o.insert(0, "community_id", ids)
    o.insert(1, "origin_id", [f"{i}-E1" for i in ids])
    return o


def _facilities(
    xy: list[tuple[float, float] | None], types: list[str], ids: list[str] | None = None
) -> gpd.GeoDataFrame:
    ids = ids or [f"F{i}" for i in range(len(xy))]
    f = _pts(xy, ids).drop(columns="_id")
    f.insert(0, "facility_id", ids)
    f.insert(1, "type", types)
    return f


def _dist(res: pd.DataFrame, cid: str, t: str = "kindergarten") -> float:
    row = res[(res["community_id"] == cid) & (res["type"] == t)]
    assert len(row) == 1
    return float(row["dist_m"].iloc[0])


# --------------------------------------------------------------------------- reference


def _main_edges(graph: WalkGraph) -> np.ndarray:
    """Edges of the piece with the most length (networkx components, brute force)."""
    g = nx.Graph()
    g.add_edges_from(zip(graph.edge_u.tolist(), graph.edge_v.tolist(), strict=True))
    pieces = [set(c) for c in nx.connected_components(g)]
    metres = [sum(graph.edge_length_m[np.isin(graph.edge_u, list(c))]) for c in pieces]
    main = pieces[int(np.argmax(metres))]
    return np.isin(graph.edge_u, list(main))


def _project(
    graph: WalkGraph, pts: np.ndarray, tolerance: float = 50.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Snapped edge (brute force), along-edge position, snap distance.

    The nearest edge (lowest index on ties), or the main piece's nearest when at most
    ``tolerance`` farther; polygons are measured from their boundary.
    """
    pts = np.array(
        [shapely.boundary(p) if p.geom_type in ("Polygon", "MultiPolygon") else p for p in pts],
        dtype=object,
    )
    d = shapely.distance(pts[:, None], graph.edge_geometry[None, :])
    edge = np.argmin(d, axis=1)
    snap = d[np.arange(len(pts)), edge]
    main = _main_edges(graph)
    d_main = np.where(main[None, :], d, np.inf)
    edge_main = np.argmin(d_main, axis=1)
    snap_main = d_main[np.arange(len(pts)), edge_main]
    switch = ~main[edge] & (snap_main <= snap + tolerance)
    edge = np.where(switch, edge_main, edge)
    snap = np.where(switch, snap_main, snap)
    lines = graph.edge_geometry[edge]
    at = np.array(
        [
            p if p.geom_type == "Point" else shapely.get_point(shapely.shortest_line(p, line), 1)
            for p, line in zip(pts, lines, strict=True)
        ],
        dtype=object,
    )
    along = shapely.line_locate_point(lines, at)
    return edge, along, snap


def _nx_reference(
    graph: WalkGraph,
    origins: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    max_snap_m: float = 200.0,
) -> dict[tuple[str, str], float]:
    """Independent networkx answer: snapped points inserted as nodes splitting their edges."""
    opts = np.asarray(origins.geometry.array)
    fpts = np.asarray(facilities.geometry.array)
    pts = np.concatenate([opts, fpts])
    edge, along, snap = _project(graph, pts)
    names = [("o", i) for i in range(len(opts))] + [("f", i) for i in range(len(fpts))]
    g = nx.Graph()
    g.add_nodes_from(range(graph.n_nodes))

    def add(a: object, b: object, w: float) -> None:
        if g.has_edge(a, b):
            w = min(w, g[a][b]["weight"])
        g.add_edge(a, b, weight=w)

    on_edge: dict[int, list[tuple[float, object]]] = {}
    for k, name in enumerate(names):
        on_edge.setdefault(int(edge[k]), []).append((float(along[k]), ("x", *name)))
        add(name, ("x", *name), float(snap[k]))
    for e in range(graph.n_edges):
        u, v, length = int(graph.edge_u[e]), int(graph.edge_v[e]), float(graph.edge_length_m[e])
        chain = [(0.0, u), *sorted(on_edge.get(e, []), key=lambda p: p[0]), (length, v)]
        for (p0, a), (p1, b) in itertools.pairwise(chain):
            add(a, b, p1 - p0)
    far = snap > max_snap_m
    out: dict[tuple[str, str], float] = {}
    o_far = far[: len(opts)]
    f_far = far[len(opts) :]
    for t in sorted(set(facilities["type"])):
        src = [("f", i) for i in np.flatnonzero((facilities["type"] == t).to_numpy() & ~f_far)]
        dist = nx.multi_source_dijkstra_path_length(g, src, weight="weight") if src else {}
        best: dict[str, float] = {}
        for i, cid in enumerate(origins["community_id"]):
            d = np.inf if o_far[i] else dist.get(("o", i), np.inf)
            best[cid] = min(best.get(cid, np.inf), d)
        out.update({(cid, t): d for cid, d in best.items()})
    return out


def _assert_matches_reference(
    graph: WalkGraph, origins: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame
) -> pd.DataFrame:
    res = nearest_facilities(graph, origins, facilities)
    ref = _nx_reference(graph, origins, facilities)
    got = {
        (c, t): (np.inf if np.isnan(d) else d)
        for c, t, d in res[["community_id", "type", "dist_m"]].itertuples(index=False)
    }
    assert set(got) == set(ref)
    for key, d in ref.items():
        assert got[key] == pytest.approx(d, abs=1e-6), key
    return res


# --------------------------------------------------------------------------- hand cases


def test_three_node_line() -> None:
    g = build_graph(_net([(0, 0), (100, 0)], [(100, 0), (200, 0)]))
    res = nearest_facilities(
        g, _origins([(0, 0), (100, 0)]), _facilities([(200, 0)], ["kindergarten"])
    )
    assert _dist(res, "C0") == pytest.approx(200.0)
    assert _dist(res, "C1") == pytest.approx(100.0)
    assert res["facility_id"].tolist() == ["F0", "F0"]
    assert res["method"].unique().tolist() == ["network"]
    assert res["note"].tolist() == ["", ""]
    assert list(res.columns) == [
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


def test_square_facility_mid_edge_and_snap_added() -> None:
    g = build_graph(
        _net([(0, 0), (100, 0)], [(100, 0), (100, 100)], [(100, 100), (0, 100)], [(0, 100), (0, 0)])
    )
    o = _origins([(0, 0), (100, 0), (50, -10)])
    res = nearest_facilities(g, o, _facilities([(50, 100)], ["kindergarten"]))
    assert _dist(res, "C0") == pytest.approx(150.0)
    assert _dist(res, "C1") == pytest.approx(150.0)
    assert _dist(res, "C2") == pytest.approx(10 + 50 + 100 + 50)
    assert res.loc[res["community_id"] == "C2", "origin_snap_m"].item() == pytest.approx(10.0)


def test_same_edge_case() -> None:
    g = build_graph(_net([(0, 0), (1000, 0)]))
    f = _facilities([(300, -5), (900, 0)], ["kindergarten", "kindergarten"])
    res = nearest_facilities(g, _origins([(100, 5)]), f)
    assert _dist(res, "C0") == pytest.approx(5 + 200 + 5)
    assert res["facility_id"].item() == "F0"
    assert res["facility_snap_m"].item() == pytest.approx(5.0)
    _assert_matches_reference(g, _origins([(100, 5)]), f)


def test_community_distance_is_min_over_entrances() -> None:
    g = build_graph(_net([(0, 0), (1000, 0)]))
    o = _origins([(0, 0), (800, 0)], ["C1", "C1"])
    o["origin_id"] = ["C1-E1", "C1-E2"]
    res = nearest_facilities(g, o, _facilities([(1000, 0)], ["park"]))
    assert len(res) == 1
    assert res["dist_m"].item() == pytest.approx(200.0)
    assert res["origin_id"].item() == "C1-E2"


def test_disconnected_piece_nan_with_note() -> None:
    g = build_graph(_net([(0, 0), (100, 0)], [(500, 0), (600, 0)]))
    res = nearest_facilities(g, _origins([(550, 0)]), _facilities([(10, 0)], ["kindergarten"]))
    assert np.isnan(res["dist_m"].item())
    assert res["facility_id"].isna().item()
    assert res["note"].item() == ("所在路网片段没有此类设施（片段1：4个节点中的2个）")


def test_community_whose_entrances_all_sit_on_tiny_piece() -> None:
    net = _net([(0, 0), (1000, 0)], [(0, 300), (20, 300)])
    g = build_graph(net)
    com = gpd.GeoDataFrame(
        {"community_id": ["C1", "C2"]},
        geometry=[
            box(X0 - 20, Y0 + 290, X0 + 40, Y0 + 350),
            box(X0 + 400, Y0 + 10, X0 + 500, Y0 + 80),
        ],
        crs=CRS,
    )
    o = community_origins(com, g)
    assert set(o.loc[o["community_id"] == "C1", "origin_source"]) == {"boundary"}
    res = nearest_facilities(g, o, _facilities([(900, 0)], ["kindergarten"]))
    c1 = res[res["community_id"] == "C1"]
    assert np.isnan(c1["dist_m"].item())
    assert "片段1" in c1["note"].item()
    assert _dist(res, "C2") == pytest.approx(10 + 400.0)  # entrance at the corner (500, 10)


def test_point_5km_away_flagged() -> None:
    g = build_graph(_net([(0, 0), (100, 0)]))
    o = _origins([(50, 5000), (50, 10)])
    s = snap_points(g, o)
    assert s.far.tolist() == [True, False]
    res = nearest_facilities(g, o, _facilities([(0, 0)], ["kindergarten"]))
    assert np.isnan(_dist(res, "C0"))
    row = res[res["community_id"] == "C0"]
    assert row["note"].item() == "小区不在步行网络上（吸附距离5,000 m）"
    assert row["origin_snap_m"].item() == pytest.approx(5000.0)
    assert _dist(res, "C1") == pytest.approx(60.0)


def test_far_facility_is_unreachable() -> None:
    g = build_graph(_net([(0, 0), (100, 0)]))
    res = nearest_facilities(g, _origins([(0, 0)]), _facilities([(0, 3000)], ["park"]))
    assert np.isnan(res["dist_m"].item())
    assert "不在步行网络上" in res["note"].item()


def test_type_with_no_facility() -> None:
    g = build_graph(_net([(0, 0), (100, 0)]))
    res = nearest_facilities(
        g,
        _origins([(0, 0)]),
        _facilities([(100, 0)], ["kindergarten"]),
        types=["nursery", "kindergarten"],
    )
    assert res["type"].tolist() == ["kindergarten", "nursery"]
    assert _dist(res, "C0") == pytest.approx(100.0)
    assert np.isnan(_dist(res, "C0", "nursery"))
    assert res.loc[res["type"] == "nursery", "note"].item() == "数据中无此类设施"
    empty = nearest_facilities(g, _origins([(0, 0)]), _facilities([], []), types=["nursery"])
    assert empty["note"].tolist() == ["数据中无此类设施"]


def test_empty_geometries() -> None:
    g = build_graph(_net([(0, 0), (100, 0)]))
    o = _origins([None, (0, 0)])
    o.loc[1, "geometry"] = Point()
    o = pd.concat([o, _origins([(10, 0)], ["C9"])], ignore_index=True)
    assert snap_points(g, o).edge.tolist() == [-1, -1, 0]
    f = _facilities([None, (100, 0)], ["park", "park"])
    res = nearest_facilities(g, o, f)
    assert res["note"].tolist()[:2] == ["小区无位置（几何为空）"] * 2
    assert _dist(res, "C9", "park") == pytest.approx(90.0)


def test_limit_m() -> None:
    g = build_graph(_net([(0, 0), (1000, 0)]))
    o = _origins([(0, 0), (700, 0)])
    res = nearest_facilities(
        g, o, _facilities([(1000, 0)], ["park"]), options=AccessOptions(limit_m=500)
    )
    assert np.isnan(_dist(res, "C0", "park"))
    assert res["note"].iloc[0] == "距离计算上限（limit_m）500 m内没有此类设施"
    assert _dist(res, "C1", "park") == pytest.approx(300.0)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("max_snap_m", -1.0),
        ("max_snap_m", 0.0),
        ("limit_m", -5.0),
        ("entrance_near_m", -1.0),
        ("max_entrances", 0),
        ("straight_line_factor", 0.5),
    ],
)
def test_bad_options(field: str, value: float) -> None:
    with pytest.raises(ScenarioError, match=field) as err:
        AccessOptions(**{field: value})
    assert isinstance(err.value, ValueError)
    assert isinstance(err.value, GisplanError)


def test_options_collect_all_problems() -> None:
    with pytest.raises(ScenarioError, match=r"max_snap_m.*max_entrances") as err:
        AccessOptions(max_snap_m=-1, max_entrances=0)
    assert [p[0] for p in err.value.problems] == ["max_snap_m", "max_entrances"]


def test_crs_and_columns_checked() -> None:
    g = build_graph(_net([(0, 0), (100, 0)]))
    f = _facilities([(0, 0)], ["park"])
    with pytest.raises(CRSError, match="projected"):
        nearest_facilities(g, _origins([(0, 0)]).to_crs(4326), f)
    with pytest.raises(SchemaError, match="origin_id"):
        nearest_facilities(g, _origins([(0, 0)]).drop(columns="origin_id"), f)


def test_inputs_not_mutated() -> None:
    g = build_graph(_net([(0, 0), (1000, 0)]))
    o = _origins([(0, 0), (700, 0)])
    f = _facilities([(1000, 0)], ["park"])
    o0, f0 = o.copy(), f.copy()
    nearest_facilities(g, o, f)
    facility_catchments(g, o, f, radius_m=500)
    service_areas(g, f, radius_m=300)
    assert_geodataframe_equal(o, o0)
    assert_geodataframe_equal(f, f0)


def test_straight_line() -> None:
    o = _origins([(0, 0), None])
    f = _facilities([(300, 400), (3000, 0)], ["park", "park"])
    res = straight_line_nearest(o, f, factor=1.3)
    assert _dist(res, "C0", "park") == pytest.approx(650.0)
    assert res["method"].unique().tolist() == ["straight line x1.30"]
    assert np.isnan(_dist(res, "C1", "park"))
    g = build_graph(_net([(0, 0), (100, 0)]))
    via = nearest_facilities(g, o, f, options=AccessOptions(straight_line_factor=1.3))
    pd.testing.assert_frame_equal(via, res)


# --------------------------------------------------------------------------- origins


def _square_community(x: float = 0, y: float = 0, cid: str = "C1") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"community_id": [cid]}, geometry=[box(X0 + x, Y0 + y, X0 + x + 100, Y0 + y + 100)], crs=CRS
    )


def test_origins_where_street_crosses_boundary() -> None:
    g = build_graph(_net([(-100, 50), (200, 50)]))
    o = community_origins(_square_community(), g)
    assert o["origin_source"].tolist() == ["boundary", "boundary"]
    xy = sorted((p.x - X0, p.y - Y0) for p in o.geometry)
    assert xy == [(0.0, 50.0), (100.0, 50.0)]
    assert o["origin_id"].tolist() == ["C1-b1", "C1-b2"]
    assert list(o.columns) == [
        "community_id",
        "origin_id",
        "origin_source",
        "piece",
        "snap_m",
        "geometry",
    ]


def test_origins_near_street_and_far_community() -> None:
    g = build_graph(_net([(-100, -20), (200, -20)]))
    com = pd.concat([_square_community(), _square_community(0, 2000, "C2")], ignore_index=True)
    o = community_origins(com, g)
    c1 = o[o["community_id"] == "C1"]
    assert c1["origin_source"].tolist() == ["boundary"]
    assert c1.geometry.iloc[0].y == pytest.approx(Y0)
    c2 = o[o["community_id"] == "C2"]
    assert c2["origin_source"].tolist() == ["centroid"]
    assert c2["origin_id"].tolist() == ["C2-c"]
    assert c2.geometry.iloc[0].within(com.geometry.iloc[1])


def test_origins_clustered_and_capped() -> None:
    # 9 streets crossing a 400 m square vertically every 40 m -> clusters >= 50 m apart
    lines = [[(x, -50), (x, 450)] for x in range(20, 400, 40)]
    g = build_graph(_net(*lines))
    com = gpd.GeoDataFrame(
        {"community_id": ["C1"]}, geometry=[box(X0, Y0, X0 + 400, Y0 + 400)], crs=CRS
    )
    o = community_origins(com, g, options=AccessOptions(max_entrances=4))
    assert 1 <= len(o) <= 4
    o_all = community_origins(com, g, options=AccessOptions(max_entrances=50))
    # crossings 40 m apart chain into one group per side
    assert len(o_all) == 2
    again = community_origins(com, g, options=AccessOptions(max_entrances=4))
    assert_geodataframe_equal(o, again)


def test_entrances_override_only_their_communities() -> None:
    g = build_graph(_net([(-100, 50), (700, 50)]))
    com = pd.concat([_square_community(), _square_community(300, 0, "C2")], ignore_index=True)
    ent = gpd.GeoDataFrame(
        {"community_id": ["C1", "C9"], "entrance_id": ["C1-E1", "C9-E1"]},
        geometry=[Point(X0 + 50, Y0), Point(X0 + 5000, Y0)],
        crs=CRS,
    )
    com0, ent0 = com.copy(), ent.copy()
    o = community_origins(com, g, entrances=ent)
    assert o["origin_id"].tolist() == ["C1-E1", "C2-b1", "C2-b2"]
    assert o["origin_source"].tolist() == ["entrance", "boundary", "boundary"]
    assert_geodataframe_equal(com, com0)
    assert_geodataframe_equal(ent, ent0)
    no_id = community_origins(com, g, entrances=ent.drop(columns="entrance_id"))
    assert no_id["origin_id"].tolist()[0] == "C1-E1"


def test_community_without_geometry() -> None:
    g = build_graph(_net([(-100, 50), (200, 50)]))
    com = pd.concat([_square_community(), _square_community(cid="C2")], ignore_index=True)
    com.loc[1, "geometry"] = None
    o = community_origins(com, g)
    c2 = o[o["community_id"] == "C2"]
    assert c2["origin_id"].tolist() == ["C2-c"]
    res = nearest_facilities(g, o, _facilities([(200, 50)], ["park"]))
    assert res.loc[res["community_id"] == "C2", "note"].item() == ("小区无位置（几何为空）")


# --------------------------------------------------------------------------- catchments, areas


def test_catchments_agree_with_nearest() -> None:
    g = build_graph(_net([(0, 0), (500, 0)], [(500, 0), (1000, 0)], [(500, 0), (500, 400)]))
    o = _origins([(0, 0), (480, 10), (500, 390)])
    f = _facilities([(100, 0), (700, 0), (500, 200)], ["a", "a", "b"])
    c = facility_catchments(g, o, f, radius_m={"a": 400, "b": 250})
    assert list(c.columns) == ["community_id", "facility_id", "type", "dist_m"]
    pairs = {(r.community_id, r.facility_id): r.dist_m for r in c.itertuples()}
    assert pairs == pytest.approx(
        {
            ("C0", "F0"): 100.0,
            ("C1", "F0"): 390.0,
            ("C1", "F1"): 230.0,
            ("C1", "F2"): 230.0,
            ("C2", "F2"): 190.0,
        }
    )
    near = nearest_facilities(g, o, f)
    best = c.groupby(["community_id", "type"])["dist_m"].min()
    for (cid, t), d in best.items():
        assert _dist(near, cid, t) == pytest.approx(d)


def test_substrings_match_shapely_ops() -> None:
    lines = np.array(
        [LineString([(0, 0), (10, 0), (10, 10), (30, 10)]), LineString([(0, 0), (5, 5)])]
    )
    start = np.array([3.0, 0.0])
    end = np.array([25.0, 7.0])
    got = _substrings(lines, start, end)
    for g, line, a, b in zip(got, lines, start, end, strict=True):
        assert g.equals(substring(line, a, b))


def test_service_area_straight_street() -> None:
    xs = list(range(-1000, 1001, 100))
    g = build_graph(_net(*[[(a, 0), (b, 0)] for a, b in itertools.pairwise(xs)]))
    f = _facilities([(0, 0), (50, 10)], ["park", "shop"])
    a = service_areas(g, f, radius_m={"park": 300, "shop": 300}, buffer_m=20)
    assert a["radius_m"].tolist() == [300.0, 300.0]
    # round caps drawn with 4 segments per quarter circle, as service_areas does for web maps
    want = LineString([(X0 - 300, Y0), (X0 + 300, Y0)]).buffer(20, quad_segs=4)
    # equal up to the polygonal approximation of the round caps
    assert a.geometry.iloc[0].symmetric_difference(want).area < 1e-3 * want.area
    assert a.geometry.iloc[0].buffer(1).contains(want.buffer(-1))
    assert a.geometry.iloc[0].area == pytest.approx(want.area, rel=1e-3)
    # snap 10 m: 290 m each way from (50, 0)
    want2 = LineString([(X0 - 240, Y0), (X0 + 340, Y0)]).buffer(20, quad_segs=4)
    assert a.geometry.iloc[1].symmetric_difference(want2).area < 1e-3 * want2.area
    none = service_areas(g, f, radius_m={"park": 300})
    assert none.geometry.iloc[1].is_empty
    with pytest.raises(ScenarioError, match="radius_m"):
        service_areas(g, f, radius_m=-3)


# --------------------------------------------------------------------------- exactness


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    edges=st.lists(
        st.tuples(st.integers(0, 15), st.sampled_from([1, 4, 5])), min_size=3, max_size=30
    ),
    pts=st.lists(st.tuples(st.floats(-20, 170), st.floats(-20, 170)), min_size=3, max_size=8),
    new=st.tuples(st.floats(-20, 170), st.floats(-20, 170)),
)
def test_random_graphs_exact_and_metric(edges, pts, new) -> None:
    # nodes on a 4x4 grid of 50 m with a little jitter; edges to right/down neighbours
    grid = {i: ((i % 4) * 50 + (i * 7 % 5), (i // 4) * 50 + (i * 3 % 4)) for i in range(20)}
    lines = [[grid[a], grid[a + d]] for a, d in edges if a + d in grid and (d != 1 or a % 4 != 3)]
    if not lines:
        return
    g = build_graph(_net(*lines))
    n = len(pts)
    o = _origins(pts, [f"P{i}" for i in range(n)])
    f = _facilities(pts, [f"t{i}" for i in range(n)], [f"P{i}" for i in range(n)])
    res = _assert_matches_reference(g, o, f)
    d = (
        res.pivot_table(index="community_id", columns="type", values="dist_m", dropna=False)
        .reindex(index=o["community_id"], columns=f["type"])
        .to_numpy()
    )
    d = np.where(np.isnan(d), np.inf, d)
    # symmetry and the triangle inequality
    np.testing.assert_allclose(d, d.T, atol=1e-6)
    for k in range(n):
        assert (d <= d[:, [k]] + d[[k], :] + 1e-6).all()
    # adding a facility never increases a distance
    f2 = pd.concat([f, _facilities([new], ["t0"], ["Z"])], ignore_index=True)
    res2 = nearest_facilities(g, o, f2)
    before = res[res["type"] == "t0"]["dist_m"].fillna(np.inf).to_numpy()
    after = res2[res2["type"] == "t0"]["dist_m"].fillna(np.inf).to_numpy()
    assert (after <= before + 1e-9).all()


@pytest.mark.osm
@pytest.mark.parametrize("name", ["beijing_wudaokou_2017", "nanjing_xinjiekou_2021"])
def test_osm_extracts_match_networkx(osm_dir, name) -> None:
    path = osm_dir / name / "map.osm"
    net = to_metric(read_osm_network(path), datum="WGS84")
    crs = net.crs
    fac = to_metric(read_osm_facilities(path), datum="WGS84", target=crs)
    # areas as their representative point, as the engine measures them by default
    fac = fac.set_geometry(fac.representative_point())
    com = to_metric(read_osm_communities(path), datum="WGS84", target=crs)
    g = build_graph(net)
    origins = community_origins(com, g)
    # each origin compared on its own, plus 60 seeded random points over the extract
    rng = np.random.default_rng(0)
    x0, y0, x1, y1 = net.total_bounds
    extra = gpd.GeoDataFrame(
        {"community_id": [f"R{i:02d}" for i in range(60)]},
        geometry=shapely.points(rng.uniform(x0, x1, 60), rng.uniform(y0, y1, 60)),
        crs=crs,
    )
    pts = pd.concat(
        [origins[["origin_id", "geometry"]].rename(columns={"origin_id": "community_id"}), extra],
        ignore_index=True,
    )
    pts["origin_id"] = pts["community_id"]
    pts = gpd.GeoDataFrame(pts, geometry="geometry", crs=crs)
    res = _assert_matches_reference(g, pts, fac)
    assert res["dist_m"].notna().mean() > 0.5
    # and the community table is the minimum over each community's origins
    by_comm = nearest_facilities(g, origins, fac)
    per_origin = res.merge(
        origins[["origin_id", "community_id"]],
        left_on="community_id",
        right_on="origin_id",
        suffixes=("_o", ""),
    )
    mins = per_origin.groupby(["community_id", "type"])["dist_m"].min()
    got = by_comm.set_index(["community_id", "type"])["dist_m"]
    pd.testing.assert_series_equal(got.loc[mins.index], mins, check_names=False, atol=1e-9)


def test_demo_kindergartens(repo_root) -> None:
    gpkg = repo_root / "layers" / "demo.gpkg"
    net = gpd.read_file(gpkg, layer="network")
    g = build_graph(net)
    com = gpd.read_file(gpkg, layer="communities")
    ent = gpd.read_file(gpkg, layer="entrances")
    fac = gpd.read_file(gpkg, layer="facilities")
    o = community_origins(com, g, entrances=ent)
    assert set(o["community_id"]) == set(com["community_id"])
    res = nearest_facilities(g, o, fac, types=["kindergarten"])
    assert len(res) == len(com)
    assert res["dist_m"].notna().all()
    share = float((res["dist_m"] <= 300).mean())
    assert 0.05 < share < 0.3  # 14 kindergartens, all far from the old core


# --------------------------------------------------------------------------- buildings, k nearest


def test_building_distances_weighted_by_residents(caplog: pytest.LogCaptureFixture) -> None:
    x0, y0 = 500_000.0, 3_875_000.0
    street = gpd.GeoDataFrame(
        geometry=[
            LineString([(x0, y0), (x0 + 400, y0)]),
            LineString([(x0, y0 + 5000), (x0 + 50, y0 + 5000)]),
        ],
        crs=4548,
    )
    graph = build_graph(street)
    comm = gpd.GeoDataFrame(
        {"community_id": ["C1", "C2"]},
        geometry=[box(x0, y0 + 5, x0 + 400, y0 + 105), box(x0, y0 + 4990, x0 + 50, y0 + 5040)],
        crs=4548,
    )
    bld = gpd.GeoDataFrame(
        {"population": [30, 10, None, 7, 99]},
        geometry=[
            box(x0 + 10, y0 + 10, x0 + 30, y0 + 30),  # C1, 20 m from the street at x=20
            box(x0 + 310, y0 + 10, x0 + 330, y0 + 30),  # C1, at x=320
            box(x0 + 110, y0 + 10, x0 + 130, y0 + 30),  # C1, at x=120, unknown residents -> 1
            box(x0 + 10, y0 + 5001, x0 + 20, y0 + 5011),  # C2, on a piece with no facility
            box(x0 + 900, y0 + 900, x0 + 910, y0 + 910),  # in no community
        ],
        crs=4548,
    )
    fac = gpd.GeoDataFrame(
        {"facility_id": ["F1"], "type": ["kindergarten"]}, geometry=[Point(x0 + 20, y0)], crs=4548
    )
    with caplog.at_level("WARNING", logger="gisplan.access"):
        out = building_distances(graph, bld, comm, fac, radius_m={"kindergarten": 150})
    assert "1 of 5 lie outside every community" in caplog.text
    c1 = out.set_index("community_id").loc["C1"]
    # distances 20, 320, 120 (each = 20 m snap + along the street); weights 30, 10, 1
    assert c1["dist_weighted_m"] == pytest.approx((30 * 20 + 10 * 320 + 1 * 120) / 41)
    assert (c1["dist_min_m"], c1["dist_max_m"]) == (pytest.approx(20.0), pytest.approx(320.0))
    assert c1["share_within_radius"] == pytest.approx(31 / 41)
    assert (c1["n_buildings"], c1["n_unreachable"], c1["weight_total"]) == (3, 0, 41.0)
    c2 = out.set_index("community_id").loc["C2"]
    assert np.isnan(c2["dist_weighted_m"])
    assert (c2["n_buildings"], c2["n_unreachable"]) == (1, 1)
    assert c2["share_within_radius"] == 0.0


def test_k_nearest_within_orders_and_ties() -> None:
    pairs = pd.DataFrame(
        {
            "community_id": ["C2", "C1", "C1", "C1", "C1"],
            "facility_id": ["F9", "F4", "F2", "F3", "F1"],
            "type": ["nursery", "kindergarten", "kindergarten", "kindergarten", "nursery"],
            "dist_m": [10.0, 120.0, 90.0, 90.0, 250.0],
        }
    )
    out = k_nearest_within(pairs, k=2)
    assert out[["community_id", "type"]].to_numpy().tolist() == [
        ["C1", "kindergarten"],
        ["C1", "nursery"],
        ["C2", "nursery"],
    ]
    assert out["n_within"].tolist() == [3, 1, 1]
    assert out["nearest_ids"].tolist() == ["F2、F3", "F1", "F9"]  # tie at 90 m -> lower id first
    assert out["nearest_dist_m"].tolist() == [(90.0, 90.0), (250.0,), (10.0,)]
    with pytest.raises(ScenarioError, match="k must be 1 or more"):
        k_nearest_within(pairs, k=0)
