"""CRS plausibility (issue 15, item 6): the working CRS, features far from the study area,
and GCJ-02 points declared as WGS84."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import LineString, Point, box

from gisplan import crs
from gisplan.access import nearest_facilities
from gisplan.errors import CRSError, ScenarioError
from gisplan.network import build_graph
from gisplan.runner import validate_scenario
from gisplan.scenario import load_scenario

from _fixtures import CRS, X0, Y0, write_project

if TYPE_CHECKING:
    from pathlib import Path

# --------------------------------------------------------------------------- working CRS

MERCATORS = [3857, "EPSG:900913", 3395]


@pytest.mark.parametrize("value", MERCATORS)
def test_mercator_family_refused(value: object) -> None:
    problem = crs.distance_crs_problem(value)  # type: ignore[arg-type]
    assert problem is not None
    assert "Mercator" in problem
    assert "x1.22 at 35N" in problem


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (4326, "degrees"),
        (2263, "US survey foot"),  # NY Long Island, a conformal projection in feet
        (4087, "not conformal"),  # World Equidistant Cylindrical, in metres
        ("ESRI:102025", "not conformal"),  # Asia North Albers Equal Area
    ],
)
def test_other_unfit_working_crs_refused(value: object, words: str) -> None:
    problem = crs.distance_crs_problem(value)  # type: ignore[arg-type]
    assert problem is not None
    assert words in problem


@pytest.mark.parametrize("value", [4548, "EPSG:32650", 4586, "ESRI:102012", 2154])
def test_conformal_metric_crs_accepted(value: object) -> None:
    assert crs.distance_crs_problem(value) is None  # type: ignore[arg-type]


def test_scale_checked_at_the_study_area() -> None:
    assert crs.distance_crs_problem(32650, at=(117.0, 35.0)) is None
    problem = crs.distance_crs_problem(32660, at=(117.0, 35.0))  # UTM 60N, 60 degrees east
    assert problem is not None
    assert "not true to scale" in problem


def test_measuring_in_web_mercator_raises() -> None:
    gdf = gpd.GeoDataFrame(geometry=[box(0, 0, 100, 100)], crs=3857)
    with pytest.raises(CRSError, match=r"EPSG:3857.*Mercator.*metric_crs: auto"):
        crs.require_metric_crs(gdf, what="area")
    # data given in Web Mercator is projected into a proper zone, not kept
    out = crs.to_metric(gpd.GeoDataFrame(geometry=[Point(12958000.0, 4852000.0)], crs=3857))
    assert out.crs.to_epsg() == 4548
    with pytest.raises(CRSError, match="Mercator"):
        crs.to_metric(out, target=3857)


@pytest.mark.parametrize("value", ["EPSG:3857", "EPSG:3395", "EPSG:4087"])
def test_scenario_refuses_metric_crs(tmp_path: Path, value: str) -> None:
    yaml_path = write_project(tmp_path)
    text = yaml_path.read_text(encoding="utf-8").replace("layers:", f"metric_crs: {value}\nlayers:")
    yaml_path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"metric_crs.*refused.*auto"):
        load_scenario(yaml_path)
    report = validate_scenario(yaml_path)
    assert [i.column for i in report.errors] == ["metric_crs"]


def test_validate_checks_metric_crs_scale_at_the_communities(tmp_path: Path) -> None:
    yaml_path = write_project(tmp_path)  # communities near 117E 35N
    text = yaml_path.read_text(encoding="utf-8").replace(
        "layers:", "metric_crs: EPSG:32660\nlayers:"
    )
    yaml_path.write_text(text, encoding="utf-8")
    report = validate_scenario(yaml_path)
    assert [(i.layer, i.column) for i in report.errors] == [("scenario", "metric_crs")]
    assert "not true to scale" in report.errors[0].problem


# --------------------------------------------------------------------------- far features


def _lonlat_communities(paris: bool) -> gpd.GeoDataFrame:
    lons = [117.000, 117.003, 117.006, 2.35 if paris else 117.009]
    lats = [35.0, 35.0, 35.0, 48.85 if paris else 35.0]
    return gpd.GeoDataFrame(
        {
            "community_id": ["c1", "c2", "c3", "c4"],
            "name": ["甲", "乙", "丙", "丁"],
            "built_year": [1985, 1998, 2003, 1990],
            "households": [120, 300, 80, 100],
        },
        geometry=[box(x, y, x + 0.001, y + 0.001) for x, y in zip(lons, lats, strict=True)],
        crs=4326,
    )


def test_community_moved_to_paris_is_an_error(tmp_path: Path) -> None:
    yaml_path = write_project(tmp_path, communities_gdf=_lonlat_communities(paris=True))
    report = validate_scenario(yaml_path)
    assert [(i.layer, i.row, i.column) for i in report.errors] == [
        ("communities", "c4", "geometry")
    ]
    assert "km from the centre of the communities" in report.errors[0].problem
    assert validate_scenario(
        write_project(tmp_path / "ok", communities_gdf=_lonlat_communities(paris=False))
    ).ok


def test_far_facility_is_a_warning(tmp_path: Path) -> None:
    yaml_path = write_project(tmp_path)
    gpd.GeoDataFrame(
        {"facility_id": ["f1", "f2"], "type": ["kindergarten", "primary_school"]},
        geometry=[Point(X0 + 50, Y0 + 50), Point(X0 + 80_000, Y0)],  # 80 km east
        crs=CRS,
    ).to_file(tmp_path / "小区.gpkg", layer="facilities")
    report = validate_scenario(yaml_path)
    assert report.ok
    assert [(i.layer, i.row) for i in report.warnings] == [("facilities", "f2")]
    assert report.warnings[0].problem.startswith("80 km from the centre")


def test_far_rows_and_centre() -> None:
    pts = gpd.GeoSeries([Point(X0, Y0), Point(X0 + 49_000, Y0), Point(X0, Y0 + 51_000)], crs=CRS)
    centre = crs.study_centre(pts.iloc[:1])
    assert centre is not None
    pos, dist = crs.far_rows(pts, centre=centre)
    assert pos.tolist() == [2]
    assert dist[0] == pytest.approx(51_000, rel=2e-3)  # Gauss-Kruger vs geodesic metres
    assert crs.far_rows(pts, centre=centre, max_m=10_000)[0].tolist() == [1, 2]


# --------------------------------------------------------------------------- GCJ-02 hint


def _town() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """A 400 m street grid near Beijing's Wudaokou (WGS84), projected to EPSG:4548."""
    lon0, lat0, step_lon, step_lat = 116.30, 39.98, 0.0047, 0.0036  # ~400 m
    lines = [
        LineString([(lon0, lat0 + i * step_lat), (lon0 + 8 * step_lon, lat0 + i * step_lat)])
        for i in range(9)
    ] + [
        LineString([(lon0 + i * step_lon, lat0), (lon0 + i * step_lon, lat0 + 8 * step_lat)])
        for i in range(9)
    ]
    network = gpd.GeoDataFrame(geometry=lines, crs=4326).to_crs(CRS)
    # facilities 8 m off the east-west streets, at varied places along them
    rng = np.random.default_rng(0)
    i = rng.integers(1, 8, 12)
    frac = rng.uniform(0.1, 0.9, 12)
    lon = lon0 + frac * 8 * step_lon
    lat = lat0 + i * step_lat + 8 / 111_000
    origins = gpd.GeoDataFrame(
        {"community_id": ["c1"], "origin_id": ["c1-E1"]},
        geometry=[Point(lon0 + 0.01, lat0 + step_lat)],
        crs=4326,
    ).to_crs(CRS)
    facilities = gpd.GeoDataFrame(
        {"facility_id": [f"F{k:02d}" for k in range(12)], "type": ["kindergarten"] * 12},
        geometry=gpd.points_from_xy(lon, lat),
        crs=4326,
    )
    return network, origins, facilities


def test_gcj02_points_declared_wgs84_named_in_the_warning(caplog: pytest.LogCaptureFixture) -> None:
    network, origins, facilities = _town()
    graph = build_graph(network)
    glon, glat = crs.wgs84_to_gcj02(facilities.geometry.x, facilities.geometry.y)
    gcj = facilities.assign(geometry=gpd.points_from_xy(glon, glat, crs=4326))  # "WGS84"
    with caplog.at_level(logging.WARNING, logger="gisplan"):
        nearest_facilities(graph, origins, gcj.to_crs(CRS), types=["kindergarten"])
    hints = [r.getMessage() for r in caplog.records if "GCJ-02" in r.getMessage()]
    assert len(hints) == 1
    assert "datum: GCJ-02" in hints[0]
    assert "facilities" in hints[0]

    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="gisplan"):
        nearest_facilities(graph, origins, facilities.to_crs(CRS), types=["kindergarten"])
    assert not [r for r in caplog.records if "GCJ-02" in r.getMessage()]


def test_bd09_points_named_too() -> None:
    network, _, facilities = _town()
    graph_lines = network.union_all()
    blon, blat = crs.wgs84_to_bd09(facilities.geometry.x, facilities.geometry.y)
    bd = gpd.GeoSeries(gpd.points_from_xy(blon, blat), crs=4326).to_crs(CRS)
    hint = crs.offset_hint(bd, lambda p: p.distance(graph_lines).to_numpy(), what="pois")
    assert hint is not None
    assert hint.startswith("pois: distances look like a BD-09 offset")
    # outside China there is no offset to blame
    abroad = bd.translate(xoff=-5_000_000)
    assert crs.offset_hint(abroad, lambda p: np.full(len(p), 300.0)) is None


@pytest.mark.parametrize("value", ["Mars2000", "IAU_2015:49900"])
def test_a_datum_of_another_planet_is_refused(value: str) -> None:
    # pyproj knows the IAU planetary CRSs: a typo such as "Mars2000" must not pass as a datum
    with pytest.raises(CRSError, match="is not an Earth datum"):
        crs.parse_datum(value)
    assert crs.parse_datum("CGCS2000").name == "CGCS2000"
