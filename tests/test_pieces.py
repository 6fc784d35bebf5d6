"""Network pieces: piece-aware snapping, the network_pieces layer, polygon facilities.

Every fixture is checked on paper (metres, EPSG:4548):

- main piece: a street (0, 0)-(400, 0) and (400, 0)-(400, 200), 600 m;
- a footbridge piece (100, 100)-(200, 100), 100 m, joined to nothing;
- C1 = box(130, 60, 170, 80), centroid (150, 70): 30 m from the footbridge, 70 m from the
  street (70 <= 30 + 50: snapped to the street);
- C2 = box(140, 115, 160, 135), centroid (150, 125): 25 m from the footbridge, 125 m from
  the street (125 > 25 + 50: left on the footbridge).
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from geopandas.testing import assert_geodataframe_equal
from shapely.geometry import LineString, Point, Polygon, box

from gisplan.access import AccessOptions, community_origins, nearest_facilities
from gisplan.errors import LayerError, ScenarioError
from gisplan.gaps import with_pieces
from gisplan.network import build_graph, network_pieces, snap_points

CRS = 4548
NO_BOUNDARY_ENTRANCES = AccessOptions(entrance_near_m=0)


def _net(*lines: list[tuple[float, float]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(geometry=[LineString(xy) for xy in lines], crs=CRS)


def _bridge_net() -> gpd.GeoDataFrame:
    return _net([(0, 0), (400, 0)], [(400, 0), (400, 200)], [(100, 100), (200, 100)])


def _communities() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"community_id": ["C1", "C2"]},
        geometry=[box(130, 60, 170, 80), box(140, 115, 160, 135)],
        crs=CRS,
    )


def _facilities(rows: list[tuple[str, str, object]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"facility_id": [r[0] for r in rows], "type": [r[1] for r in rows]},
        geometry=[r[2] for r in rows],
        crs=CRS,
    )


def _dist(res: pd.DataFrame, cid: str, t: str) -> float:
    row = res[(res["community_id"] == cid) & (res["type"] == t)]
    assert len(row) == 1
    return float(row["dist_m"].iloc[0])


# --------------------------------------------------------------------------- pieces


def test_main_piece_is_the_longest_not_the_one_with_most_nodes() -> None:
    # a 1000 m street (2 nodes) and a 30 m chain of three paths (4 nodes)
    g = build_graph(_net([(0, 0), (1000, 0)], *[[(x, 500), (x + 10, 500)] for x in (0, 10, 20)]))
    assert g.component[g.edge_u[0]] == 0
    p = network_pieces(g)
    assert p[["piece", "n_edges", "n_nodes", "is_main"]].to_numpy().tolist() == [
        [0, 1, 2, True],
        [1, 3, 4, False],
    ]
    assert p["length_m"].tolist() == pytest.approx([1000.0, 30.0])


def test_network_pieces_layer() -> None:
    g = build_graph(_bridge_net())
    p = network_pieces(g)
    assert p["piece"].tolist() == [0, 1]
    assert p["n_edges"].tolist() == [2, 1]
    assert p["n_nodes"].tolist() == [3, 2]
    assert p["length_m"].tolist() == pytest.approx([600.0, 100.0])
    assert p["is_main"].tolist() == [True, False]
    assert p.crs.equals(g.crs)
    assert p.geometry.iloc[0].geom_type == "MultiLineString"
    assert p.geometry.iloc[0].length == pytest.approx(600.0)
    assert p.geometry.iloc[1].equals(LineString([(100, 100), (200, 100)]))


def test_snap_prefers_main_piece_within_tolerance() -> None:
    g = build_graph(_bridge_net())
    pts = gpd.GeoSeries([Point(150, 70), Point(150, 125), Point(50, -10)], crs=CRS)
    s = snap_points(g, pts)
    assert s.component.tolist() == [0, 1, 0]
    assert s.snap_m.tolist() == pytest.approx([70.0, 25.0, 10.0])
    assert s.moved.tolist() == [True, False, False]
    assert s.xy[0].tolist() == pytest.approx([150.0, 0.0])
    assert s.dist_u_m[0] == pytest.approx(150.0)
    # tolerance 0: always the nearest edge (the footbridge for the first two points)
    s0 = snap_points(g, pts, snap_tolerance_m=0)
    assert s0.component.tolist() == [1, 1, 0]
    assert s0.snap_m.tolist() == pytest.approx([30.0, 25.0, 10.0])
    assert not s0.moved.any()
    # tolerance 100: the second point too (125 <= 25 + 100)
    s100 = snap_points(g, pts, snap_tolerance_m=100)
    assert s100.component.tolist() == [0, 0, 0]
    assert s100.snap_m.tolist() == pytest.approx([70.0, 125.0, 10.0])
    with pytest.raises(LayerError, match="snap_tolerance_m"):
        snap_points(g, pts, snap_tolerance_m=-1)


def test_origins_record_piece_and_snap(caplog: pytest.LogCaptureFixture) -> None:
    g = build_graph(_bridge_net())
    com = _communities()
    saved = com.copy()
    o = community_origins(com, g, options=NO_BOUNDARY_ENTRANCES)
    assert_geodataframe_equal(com, saved)
    assert o["origin_id"].tolist() == ["C1-c", "C2-c"]
    assert o["piece"].tolist() == [0, 1]
    assert o["snap_m"].tolist() == pytest.approx([70.0, 25.0])
    # the old rule (nearest edge) puts C1 on the footbridge
    old = community_origins(com, g, options=AccessOptions(entrance_near_m=0, snap_tolerance_m=0))
    assert old["piece"].tolist() == [1, 1]
    assert old["snap_m"].tolist() == pytest.approx([30.0, 25.0])
    # no graph: the columns are there, empty
    straight = community_origins(com, None)
    assert straight["piece"].isna().all()
    assert straight["snap_m"].isna().all()


def test_distances_through_the_main_piece(caplog: pytest.LogCaptureFixture) -> None:
    g = build_graph(_bridge_net())
    o = community_origins(_communities(), g, options=NO_BOUNDARY_ENTRANCES)
    f = _facilities(
        [
            ("F1", "clinic", Point(400, 150)),  # on the street's second edge, 150 m up
            ("F2", "shop", Point(190, 70)),  # 30 m from the footbridge, 70 m from the street
        ]
    )
    with caplog.at_level(logging.WARNING, logger="gisplan.access"):
        res = nearest_facilities(g, o, f, options=NO_BOUNDARY_ENTRANCES)
    # C1: 70 m to (150, 0), 250 m to (400, 0), 150 m up
    assert _dist(res, "C1", "clinic") == pytest.approx(470.0)
    # C1 and F2 both on the street's first edge: 70 + 40 + 70
    assert _dist(res, "C1", "shop") == pytest.approx(180.0)
    row = res[(res["community_id"] == "C1") & (res["type"] == "shop")].iloc[0]
    assert row["facility_snap_m"] == pytest.approx(70.0)
    # C2 stays on the footbridge: nothing reachable, and the note says why
    assert np.isnan(_dist(res, "C2", "clinic"))
    note = res[(res["community_id"] == "C2") & (res["type"] == "clinic")]["note"].iloc[0]
    assert note.startswith("所在路网片段没有此类设施（片段1")
    warned = [r.getMessage() for r in caplog.records if "minor network piece" in r.getMessage()]
    assert len(warned) == 1
    assert "origins: 1 point(s)" in warned[0]
    assert "C2-c (piece 1, snap 25 m)" in warned[0]
    # the old rule loses C1 too
    old = nearest_facilities(g, o, f, options=AccessOptions(snap_tolerance_m=0))
    assert np.isnan(_dist(old, "C1", "clinic"))


def test_snap_tolerance_option_checked() -> None:
    with pytest.raises(ScenarioError, match="snap_tolerance_m"):
        AccessOptions(snap_tolerance_m=-5)
    assert AccessOptions().snap_tolerance_m == 50.0


# --------------------------------------------------------------------------- polygons


def test_polygon_facility_measured_from_its_boundary() -> None:
    g = build_graph(_net([(0, 0), (400, 0)]))
    o = gpd.GeoDataFrame(
        {"community_id": ["C1"], "origin_id": ["C1-E1"]}, geometry=[Point(0, -10)], crs=CRS
    )
    diamond = Polygon([(250, 20), (300, 70), (250, 120), (200, 70)])  # lowest corner 20 m off
    triangle = Polygon([(350, 0), (380, 40), (320, 40)])  # touches the street at (350, 0)
    f = _facilities(
        [
            ("S1", "school", diamond),
            ("S2", "park", triangle),
            ("P1", "shop", Point(100, 30)),  # a point: unchanged
        ]
    )
    saved = f.copy()
    boundary = AccessOptions(polygon_boundary=True)
    res = nearest_facilities(g, o, f, options=boundary)
    assert_geodataframe_equal(f, saved)
    # 10 m snap + 250 m along + 20 m to the corner (from the interior point it was 330 m)
    assert _dist(res, "C1", "school") == pytest.approx(280.0)
    assert _dist(res, "C1", "park") == pytest.approx(360.0)
    assert _dist(res, "C1", "shop") == pytest.approx(140.0)
    snap = res.set_index("type")["facility_snap_m"]
    assert snap["school"] == pytest.approx(20.0)
    assert snap["park"] == pytest.approx(0.0)
    assert snap["shop"] == pytest.approx(30.0)
    s = snap_points(g, f, polygon_boundary=True)
    assert s.xy[0].tolist() == pytest.approx([250.0, 0.0])
    assert s.xy[1].tolist() == pytest.approx([350.0, 0.0])
    # off (the default): from the diamond's representative point, inside it
    inside = nearest_facilities(g, o, f)
    rep = diamond.point_on_surface()
    assert _dist(inside, "C1", "school") == pytest.approx(10.0 + rep.x + rep.y)
    assert _dist(inside, "C1", "school") > 280.0
    assert _dist(inside, "C1", "shop") == pytest.approx(140.0)


def test_community_gaps_get_the_piece_and_snap_of_their_origins() -> None:
    # main piece when any origin is on it; else the lowest minor piece; smallest snap distance
    origins = pd.DataFrame(
        {
            "community_id": ["a", "a", "b", "b", "c"],
            "piece": pd.array([2, 0, 3, 1, pd.NA], dtype="Int64"),
            "snap_m": [30.0, 45.0, 12.0, 80.0, np.nan],
        }
    )
    table = pd.DataFrame({"community_id": ["c", "a", "b"], "gap_score": [0.1, 0.2, 0.3]})
    table["edge_effect"] = False
    out = with_pieces(table, origins)
    assert list(out.columns) == ["community_id", "gap_score", "piece", "snap_m", "edge_effect"]
    assert out["piece"].tolist() == [pd.NA, 0, 1]
    assert out["snap_m"].tolist()[1:] == [30.0, 12.0]
    assert np.isnan(out["snap_m"].iloc[0])
