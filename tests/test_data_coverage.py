"""Data coverage vs service gaps, and study-area edge flags (gaps.data_coverage, edge_effects)."""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, box

from gisplan import run_scenario
from gisplan._extent import data_extent, osm_bounds
from gisplan.errors import CRSError, LayerError, StandardsError
from gisplan.gaps import (
    GapOptions,
    community_gaps,
    coverage_by_type,
    data_coverage,
    edge_effects,
    gap_table,
    with_edge_effect,
)
from tests._fixtures import CRS, X0, Y0, write_access_project

KG, PS, BUS = "kindergarten", "primary_school", "bus_stop"  # radii 300, 500, 500 m
OSM_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "osm"


def _squares() -> gpd.GeoDataFrame:
    """The three 100 m squares at x = 0, 200, 400, at the origin (EPSG:4548)."""
    return gpd.GeoDataFrame(
        {"community_id": ["c1", "c2", "c3"], "households": [120, 300, 80]},
        geometry=[box(x, 0, x + 100, 100) for x in (0, 200, 400)],
        crs=CRS,
    )


def _facilities(bus_x: float) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"facility_id": ["f1", "f2"], "type": [KG, BUS]},
        geometry=[Point(50, 50), Point(bus_x, 50)],
        crs=CRS,
    )


def test_data_coverage_three_statuses() -> None:
    # study area = hull of the squares, x 0..500; the bus stop at x=1100 is 600 m > 500 m away
    out = data_coverage(_facilities(1100.0), _squares(), types=[BUS, PS, KG])
    assert out["type"].tolist() == [PS, KG, BUS]  # standard order
    assert out["data_status"].tolist() == ["absent_in_data", "present", "absent_within_buffer"]
    assert out["data_status_zh"].tolist() == ["数据缺失 — 需核实", "数据中有", "缓冲区内无"]
    assert out["n_facilities"].tolist() == [0, 1, 1]
    assert out["n_facilities_near"].tolist() == [0, 1, 0]
    assert out["radius_m"].tolist() == [500.0, 300.0, 500.0]


def test_data_coverage_radius_edge_is_inclusive_and_overridable() -> None:
    # x=1000 is exactly 500 m from the hull's edge at x=500: within
    assert data_coverage(_facilities(1000.0), _squares(), types=[BUS])["data_status"].tolist() == [
        "present"
    ]
    options = GapOptions(radius_overrides={BUS: 499.0})
    out = data_coverage(_facilities(1000.0), _squares(), types=[BUS], options=options)
    assert out["data_status"].tolist() == ["absent_within_buffer"]


def test_data_coverage_errors_and_no_mutation() -> None:
    fac, com = _facilities(1100.0), _squares()
    saved = fac.copy()
    with pytest.raises(StandardsError, match="kindergarden"):
        data_coverage(fac, com, types=["kindergarden"])
    with pytest.raises(CRSError, match="projected"):
        data_coverage(fac.to_crs(4326), com, types=[KG])
    pd.testing.assert_frame_equal(fac, saved)


def _gap() -> pd.DataFrame:
    """c1: kindergarten at 250 m (covered), no primary school in the data, bus stop 700 m."""
    distances = pd.DataFrame(
        {"community_id": "c1", "type": [KG, PS, BUS], "dist_m": [250.0, math.nan, 700.0]}
    )
    status = {KG: "present", PS: "absent_in_data", BUS: "absent_within_buffer"}
    return gap_table(distances, _squares().iloc[:1], data_status=status)


def test_absent_in_data_is_left_out_of_the_gap_score() -> None:
    gap = _gap()
    # rows in standard order: primary school, kindergarten, bus stop
    assert gap["data_status"].tolist() == ["absent_in_data", "present", "absent_within_buffer"]
    assert "数据缺失 — 需核实" in gap.loc[0, "note"]
    assert "数据缺失" not in gap.loc[2, "note"]
    out = community_gaps(gap, _squares().iloc[:1])
    # counted: kindergarten (weight 2, covered) and bus stop (weight 1, missing) -> 1/3
    assert int(out.loc[0, "n_types"]) == 2
    assert int(out.loc[0, "n_missing"]) == 1
    assert out.loc[0, "missing_types"] == "公交车站"
    assert out.loc[0, "types_no_data"] == "小学"
    assert out.loc[0, "gap_score"] == pytest.approx(1 / 3)


def test_data_complete_counts_absent_types_as_gaps() -> None:
    out = community_gaps(_gap(), _squares().iloc[:1], options=GapOptions(data_complete=True))
    # kindergarten 2 (covered) + primary school 1 + bus stop 1 (both missing) -> 2/4
    assert int(out.loc[0, "n_types"]) == 3
    assert int(out.loc[0, "n_missing"]) == 2
    assert out.loc[0, "missing_types"] == "小学、公交车站"
    assert out.loc[0, "types_no_data"] == ""
    assert out.loc[0, "gap_score"] == pytest.approx(0.5)


def test_coverage_carries_the_data_status() -> None:
    cov = coverage_by_type(_gap())
    assert cov["data_status"].tolist() == ["absent_in_data", "present", "absent_within_buffer"]
    assert cov["data_status_zh"].tolist() == ["数据缺失 — 需核实", "数据中有", "缓冲区内无"]
    assert cov["share_communities"].tolist() == [0.0, 1.0, 0.0]


def test_gap_table_without_status_is_not_checked() -> None:
    distances = pd.DataFrame({"community_id": ["c1"], "type": [KG], "dist_m": [250.0]})
    gap = gap_table(distances, _squares().iloc[:1])
    assert gap["data_status"].tolist() == ["not_checked"]
    with pytest.raises(StandardsError, match="data_status"):
        gap_table(distances, _squares().iloc[:1], data_status={KG: "gone"})


def test_edge_effects_flag_catchments_crossing_the_extent() -> None:
    # catchments (500 m): c1 x -500..600, c2 -300..800, c3 -100..1000 > 950; y -500..600
    extent = box(-600, -600, 950, 700)
    out = edge_effects(_squares(), extent, buffer_m=500.0)
    assert out["edge_effect"].tolist() == [False, False, True]
    assert out["edge_effect_zh"].tolist() == ["", "", "边缘效应"]
    # y: 100 + 500 = 600 > 550 flags every community
    assert edge_effects(_squares(), box(-600, -600, 2000, 550), buffer_m=500.0)["edge_effect"].all()
    with pytest.raises(LayerError, match="buffer_m"):
        edge_effects(_squares(), extent, buffer_m=-1.0)
    with pytest.raises(CRSError, match="projected"):
        edge_effects(_squares().to_crs(4326), extent, buffer_m=1.0)


def test_with_edge_effect_keeps_index_order_and_geometry() -> None:
    com = _squares().iloc[[2, 0, 1]]
    edges = edge_effects(_squares(), box(-600, -600, 950, 700), buffer_m=500.0)
    out = with_edge_effect(community_gaps(_gap(), com), edges)
    assert isinstance(out, gpd.GeoDataFrame)
    assert out.index.tolist() == com.index.tolist()
    assert out["edge_effect"].tolist() == [True, False, False]
    assert out.columns[-3:].tolist() == ["edge_effect", "edge_effect_zh", "geometry"]


def test_osm_bounds_and_extent(tmp_path: Path) -> None:
    osm = tmp_path / "区.osm"
    osm.write_text(
        '<?xml version="1.0"?>\n<osm version="0.6">\n'
        ' <bounds minlat="35.0" minlon="117.0" maxlat="35.01" maxlon="117.01"/>\n</osm>\n',
        encoding="utf-8",
    )
    assert osm_bounds(osm) == (117.0, 35.0, 117.01, 35.01)
    extent, source = data_extent(_facilities(1100.0), target=gpd.GeoSeries(crs=CRS).crs,
                                 facilities_path=osm)  # fmt: skip
    assert source == "osm_bounds"
    # 117E is the zone's central meridian: x = 500 km there; 0.01° of latitude ≈ 1109 m
    minx, miny, _, maxy = extent.bounds
    assert minx == pytest.approx(500_000.0, abs=0.01)
    assert maxy - miny == pytest.approx(1109.0, abs=2.0)
    no_bounds = tmp_path / "b.osm"
    no_bounds.write_text('<osm version="0.6"></osm>', encoding="utf-8")
    assert osm_bounds(no_bounds) is None
    hull, source = data_extent(_facilities(1100.0), target=CRS, facilities_path=no_bounds)
    assert source == "facilities_hull"
    assert hull is not None
    assert hull.length == pytest.approx(1050.0)  # two points: their hull is a 1050 m line
    # a bureau's own layers (no OSM extract, no stated boundary): the edge is unknown and
    # nothing is flagged — a survey of the whole jurisdiction has no clipped edge
    assert data_extent(_facilities(1100.0), target=CRS) == (None, "unknown")
    assert not edge_effects(_squares(), None, buffer_m=500.0)["edge_effect"].any()


def _access_yaml(tmp_path: Path, extra: str) -> Path:
    yaml_path = write_access_project(tmp_path / "in")
    gpd.GeoDataFrame(geometry=[box(X0 - 600, Y0 - 600, X0 + 950, Y0 + 700)], crs=CRS).to_file(
        yaml_path.parent / "boundary.gpkg"
    )
    yaml_path.write_text(
        "name: t\nlayers:\n  communities: 小区.gpkg\n  facilities: 小区.gpkg\n"
        "  network: 小区.gpkg\n  entrances: 小区.gpkg\n"
        "access:\n  types: [kindergarten, primary_school, bus_stop]\n"
        "  boundary: boundary.gpkg\n" + extra,
        encoding="utf-8",
    )
    return yaml_path


def test_run_reports_missing_data_and_edge_effects(tmp_path: Path) -> None:
    result = run_scenario(_access_yaml(tmp_path, ""), out=tmp_path / "out")
    com = result.results["community_gaps"].set_index("community_id")
    assert com["types_no_data"].tolist() == ["公交车站"] * 3
    assert com["n_types"].tolist() == [2, 2, 2]
    # buffer = largest radius (500 m): only c3's catchment reaches x = 1000 > 950
    assert com["edge_effect"].tolist() == [False, False, True]
    cov = result.results["coverage"].set_index("type")
    assert cov.loc[BUS, "data_status"] == "absent_in_data"
    assert cov.loc[KG, "data_status"] == "present"
    gaps = result.results["gaps"]
    assert gaps.loc[gaps["community_id"] == "c3", "edge_effect"].all()
    complete = run_scenario(_access_yaml(tmp_path / "b", "  data_complete: true\n"),
                            out=tmp_path / "out_b")  # fmt: skip
    com_b = complete.results["community_gaps"].set_index("community_id")
    assert com_b["n_types"].tolist() == [3, 3, 3]
    assert (com_b["n_missing"] == com["n_missing"] + 1).all()
    assert com_b["types_no_data"].tolist() == ["", "", ""]


@pytest.mark.osm
def test_beijing_extract_coverage_and_edges() -> None:
    path = OSM_DIR / "beijing_wudaokou_2017" / "map.osm"
    if not path.exists():
        pytest.skip("../shared/data/osm not present")
    from gisplan import crs as gcrs  # noqa: PLC0415
    from gisplan.osm import read_osm  # noqa: PLC0415
    from gisplan.standards import load_standard  # noqa: PLC0415

    layers = read_osm(path)
    metric = gcrs.choose_metric_crs(layers.communities)
    com = gcrs.to_metric(layers.communities, target=metric)
    fac = gcrs.to_metric(layers.facilities, target=metric)
    types = [str(c) for c in load_standard().index]
    status = data_coverage(fac, com, types=types)
    counts = status["data_status"].value_counts().to_dict()
    extent, source = data_extent(fac, target=metric, facilities_path=path)
    assert source == "osm_bounds"
    edges = edge_effects(com, extent, buffer_m=float(status["radius_m"].max()))
    print(  # noqa: T201 - the figures for the issue note
        f"\nBeijing: {len(types)} types {counts}; "
        f"{int(edges['edge_effect'].sum())} of {len(com)} communities at the edge"
    )
    assert counts.get("absent_in_data", 0) > 0
    assert sum(counts.values()) == len(types)
