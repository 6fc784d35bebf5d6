"""gisplan init --from-osm: a ready scenario whose households are estimated (估算) and that runs."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
import yaml
from openpyxl import load_workbook
from pyproj import Geod
from shapely.geometry import box

from gisplan import run_scenario, validate_scenario
from gisplan.cli import main
from gisplan.crs import gcj02_to_wgs84
from gisplan.errors import LayerError
from gisplan.estimate import EstimateAssumptions, estimate_households, read_osm_buildings

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "osm"

# One landuse=residential square (lon 116.3000–116.3020, lat 40.0000–40.0020) with two
# buildings of 0.0003° × 0.0003° (about 25.6 m × 33.3 m = 853 m²): w10 apartments with
# building:levels=5, w11 building=yes without levels (6 by default); a footway through it
# and a kindergarten node beside it.
_OSM = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6" generator="hand">
  <bounds minlat="39.999" minlon="116.299" maxlat="40.003" maxlon="116.303"/>
  <node id="1" lat="40.0000" lon="116.3000"/><node id="2" lat="40.0000" lon="116.3020"/>
  <node id="3" lat="40.0020" lon="116.3020"/><node id="4" lat="40.0020" lon="116.3000"/>
  <node id="11" lat="40.0005" lon="116.3005"/><node id="12" lat="40.0005" lon="116.3008"/>
  <node id="13" lat="40.0008" lon="116.3008"/><node id="14" lat="40.0008" lon="116.3005"/>
  <node id="21" lat="40.0012" lon="116.3012"/><node id="22" lat="40.0012" lon="116.3015"/>
  <node id="23" lat="40.0015" lon="116.3015"/><node id="24" lat="40.0015" lon="116.3012"/>
  <node id="31" lat="40.0010" lon="116.2990"/><node id="32" lat="40.0010" lon="116.3030"/>
  <node id="40" lat="40.0011" lon="116.3025"><tag k="amenity" v="kindergarten"/></node>
  <way id="1"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="4"/><nd ref="1"/>
    <tag k="landuse" v="residential"/><tag k="name" v="测试小区"/></way>
  <way id="10"><nd ref="11"/><nd ref="12"/><nd ref="13"/><nd ref="14"/><nd ref="11"/>
    <tag k="building" v="apartments"/><tag k="building:levels" v="5"/></way>
  <way id="11"><nd ref="21"/><nd ref="22"/><nd ref="23"/><nd ref="24"/><nd ref="21"/>
    <tag k="building" v="yes"/></way>
  <way id="20"><nd ref="31"/><nd ref="32"/><tag k="highway" v="footway"/></way>
</osm>
"""


def _osm(tmp_path: Path) -> Path:
    path = tmp_path / "src" / "hand.osm"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_OSM, encoding="utf-8")
    return path


def _init(folder: Path, osm: Path) -> None:
    with pytest.raises(SystemExit) as done:
        main(["init", str(folder), "--from-osm", str(osm)])
    assert done.value.code in {0, None}


def _footprint_m2(lon: float, lat: float) -> float:
    """Geodesic area of a 0.0003° square (independent of the projection gisplan picks)."""
    area, _ = Geod(ellps="GRS80").polygon_area_perimeter(
        [lon, lon + 0.0003, lon + 0.0003, lon], [lat, lat, lat + 0.0003, lat + 0.0003]
    )
    return abs(area)


def test_buildings_read_with_levels(tmp_path: Path) -> None:
    buildings = read_osm_buildings(_osm(tmp_path)).set_index("building_id")
    assert buildings.loc["osm:w10", "building"] == "apartments"
    assert buildings.loc["osm:w10", "levels"] == 5.0
    assert buildings.loc["osm:w11", "building"] == "yes"
    assert buildings["levels"].isna().sum() == 1


def test_households_estimated_from_footprints_and_levels(tmp_path: Path) -> None:
    path = _osm(tmp_path)
    from gisplan.osm import read_osm_communities  # noqa: PLC0415

    out = estimate_households(read_osm_communities(path), read_osm_buildings(path))
    row = out.set_index("community_id").loc["osm:w1"]
    floor = _footprint_m2(116.3005, 40.0005) * 5 + _footprint_m2(116.3012, 40.0012) * 6
    assert floor == pytest.approx(9382, rel=2e-3)  # 853 m² × 5 + 853 m² × 6 by hand
    assert float(row["est_floor_area_m2"]) == pytest.approx(floor, rel=1e-3)
    assert int(row["households"]) == 104  # 9382 / 90 = 104.2
    assert int(row["population"]) == 272  # 104 × 2.62 = 272.5 → 272 (rint: 272.48)
    assert row["households_source"] == "估算"
    assert int(row["est_buildings"]) == 2
    assert int(row["est_buildings_default_levels"]) == 1


def test_other_assumptions_and_bad_ones() -> None:
    crs = "EPSG:4548"
    comm = gpd.GeoDataFrame({"community_id": ["c1"]}, geometry=[box(0, 0, 100, 100)], crs=crs)
    bldg = gpd.GeoDataFrame(
        {"building": ["residential"], "levels": [float("nan")]},
        geometry=[box(10, 10, 30, 40)],  # 600 m²
        crs=crs,
    )
    rules = EstimateAssumptions(
        default_levels=3, floor_area_per_household_m2=60.0, persons_per_household=3.0
    )
    row = estimate_households(comm, bldg, assumptions=rules).iloc[0]
    assert (int(row["households"]), int(row["population"])) == (30, 90)  # 1800 m² / 60
    with pytest.raises(LayerError, match="default_levels = 0"):
        EstimateAssumptions(default_levels=0)


def test_init_from_osm_writes_a_scenario_that_runs(tmp_path: Path) -> None:
    path = _osm(tmp_path)
    folder = tmp_path / "我的片区"
    _init(folder, path)
    scenario = folder / "scenario.yaml"
    text = scenario.read_text(encoding="utf-8")
    assert "估算" in text
    assert "../src/hand.osm" in text  # referenced, not copied
    assert "  polygon_boundary: true" in text  # OSM areas measured from their boundary
    assert not list(folder.glob("*.osm"))
    sheet = load_workbook(folder / "survey_households.xlsx")["小区"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][3] == "户数（估算，户）"
    assert rows[1][0] == "osm:w1"
    assert rows[1][3] == 104
    report = validate_scenario(scenario)
    assert report.ok, report.format()
    run_scenario(scenario, write=False)
    communities = gpd.read_file(folder / "communities.gpkg")
    assert communities["households_source"].tolist() == ["估算"]


@pytest.mark.skipif(not (SHARED / "beijing_wudaokou_2017" / "map.osm").is_file(), reason="no data")
def test_beijing_extract_runs_end_to_end(tmp_path: Path) -> None:
    folder = tmp_path / "wudaokou"
    _init(folder, SHARED / "beijing_wudaokou_2017" / "map.osm")
    communities = gpd.read_file(folder / "communities.gpkg")
    assert len(communities) > 0
    assert (communities["households_source"] == "估算").all()
    assert validate_scenario(folder / "scenario.yaml").ok
    run_scenario(folder / "scenario.yaml", write=False)


# Four Gaode POIs (GCJ-02) beside the footway of _OSM: their WGS84 positions are
# (116.3005, 40.0011), (116.3010, 40.0009), (116.3018, 40.0011), (116.3024, 40.0009).
_GAODE = """name,type,typecode,location
城关幼儿园,科教文化服务;学校;幼儿园,141204,"116.306586,40.002365"
海淀实验小学,科教文化服务;学校;小学,141203,"116.307087,40.002166"
东升社区卫生服务中心,医疗保健服务;综合医院;综合医院,090100,"116.307889,40.002367"
北京大学东门(公交站),交通设施服务;公交车站;普通公交站,150702,"116.308490,40.002168"
"""


def test_init_from_osm_and_poi_runs_with_the_poi_facilities(tmp_path: Path) -> None:
    osm = _osm(tmp_path)
    poi = tmp_path / "src" / "gaode.csv"
    poi.write_text(_GAODE, encoding="utf-8")
    folder = tmp_path / "osm_poi"
    with pytest.raises(SystemExit) as done:
        main(["init", str(folder), "--from-osm", str(osm), "--from-poi", str(poi)])
    assert done.value.code in {0, None}
    scenario = folder / "scenario.yaml"
    layers = yaml.safe_load(scenario.read_text(encoding="utf-8"))["layers"]
    assert layers["facilities"] == {"path": "facilities.gpkg", "layer": "facilities"}
    assert layers["network"] == {"path": "../src/hand.osm"}
    assert layers["communities"]["path"] == "communities.gpkg"
    written = gpd.read_file(folder / "facilities.gpkg", layer="facilities")
    assert written.crs == "EPSG:4326"
    lon, lat = gcj02_to_wgs84(116.306586, 40.002365)
    point = written.set_index("name").loc["城关幼儿园", "geometry"]
    assert (point.x, point.y) == pytest.approx((float(lon), float(lat)), abs=1e-12)
    assert (point.x, point.y) == pytest.approx((116.3005, 40.0011), abs=1e-6)
    assert validate_scenario(scenario).ok
    result = run_scenario(scenario, write=False)
    facilities = result.layers["facilities"].set_index("name")
    assert facilities["type"].to_dict() == {  # the POI ones; OSM's kindergarten node is not read
        "城关幼儿园": "kindergarten",
        "海淀实验小学": "primary_school",
        "东升社区卫生服务中心": "community_health_center",
        "北京大学东门(公交站)": "bus_stop",
    }
    assert facilities["facility_id"].str.startswith("gaode:").all()
    network = result.layers["network"]
    assert len(network) > 0
    assert network.to_crs("EPSG:4326").total_bounds == pytest.approx(
        [116.2990, 40.0010, 116.3030, 40.0010], abs=1e-9
    )  # the OSM footway
    gaps = result.results["gaps"].set_index("type")
    assert gaps.loc["kindergarten", "facility_id"] == "gaode:1"
    assert gaps["facility_id"].dropna().str.startswith("gaode:").all()
    communities = result.layers["communities"]
    assert communities["community_id"].tolist() == ["osm:w1"]
    assert communities["households_source"].tolist() == ["估算"]
