"""OSM review rules (gisplan/data/osm_rules.csv), each on a hand-made .osm fixture."""

from __future__ import annotations

from pathlib import Path

import pytest

from gisplan.osm import read_osm, read_osm_communities, read_osm_entrances, read_osm_facilities
from gisplan.standards import load_osm_rules, match_osm

Tags = dict[str, str]


def _xml(
    nodes: dict[int, tuple[float, float, Tags]], ways: list[tuple[int, list[int], Tags]]
) -> str:
    out = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6">']
    for nid, (lon, lat, tags) in sorted(nodes.items()):
        kv = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items())
        out.append(f'<node id="{nid}" lat="{lat}" lon="{lon}">{kv}</node>')
    for wid, refs, tags in ways:
        nd = "".join(f'<nd ref="{r}"/>' for r in refs)
        kv = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items())
        out.append(f'<way id="{wid}">{nd}{kv}</way>')
    out.append("</osm>")
    return "\n".join(out)


def _square(
    nodes: dict[int, tuple[float, float, Tags]], first: int, x: float, y: float, side: float
) -> list[int]:
    corners = [(x, y), (x + side, y), (x + side, y + side), (x, y + side)]
    for i, (lon, lat) in enumerate(corners):
        nodes[first + i] = (lon, lat, {})
    return [first, first + 1, first + 2, first + 3, first]


@pytest.fixture
def rules_osm(tmp_path: Path) -> Path:
    n: dict[int, tuple[float, float, Tags]] = {}
    hosp = {"amenity": "hospital", "name": "学院路社区卫生服务中心"}
    n[1] = (116.300, 39.990, hosp)
    n[2] = (
        116.301,
        39.990,
        {"amenity": "doctors", "name": "学院路社区卫生服务中心石油大院社区卫生服务站"},
    )
    n[3] = (116.302, 39.990, {"amenity": "hospital", "name": "北京大学校医院"})
    n[4] = (116.303, 39.990, {"highway": "bus_stop", "name": "五道口公交场站"})
    n[5] = (116.304, 39.990, {"highway": "bus_stop", "name": "五道口"})
    n[6] = (116.305, 39.990, {"amenity": "parking", "access": "private", "name": "公交停车场"})
    n[7] = (116.306, 39.990, {"amenity": "parking", "access": "private"})  # unit's lot
    n[8] = (116.307, 39.990, {"amenity": "parking", "access": "customers"})
    n[9] = (116.308, 39.990, {"amenity": "parking"})
    n[10] = (116.3105, 39.9805, {"amenity": "parking", "access": "private"})  # in 小区 w60
    n[11] = (116.3205, 39.9805, {"leisure": "pitch"})  # in campus w70
    n[12] = (116.330, 39.990, {"leisure": "pitch"})  # public
    n[13] = (116.3110, 39.9800, {"barrier": "gate", "name": "南门"})  # on w60 outline
    n[14] = (116.3120, 39.9820, {"entrance": "main"})  # w60 outline, north edge
    n[15] = (116.3115, 39.9810, {"barrier": "gate"})  # inside w60: not on the outline
    ways: list[tuple[int, list[int], Tags]] = []
    land = _square(n, 100, 116.310, 39.980, 0.002)
    # gate nodes 13 and 14 are vertices of the outline (south and north edges)
    land = [100, 13, 101, 102, 14, 103, 100]
    ways.append((60, land, {"landuse": "residential", "name": "荷清苑"}))
    ways.append((61, _square(n, 110, 116.3102, 39.9802, 0.0001), {"building": "residential"}))
    ways.append((70, _square(n, 120, 116.320, 39.980, 0.002), {"amenity": "university"}))
    ways.append((71, _square(n, 130, 116.3202, 39.9802, 0.0001), {"building": "residential"}))
    ways.append((72, _square(n, 140, 116.3210, 39.9810, 0.0001), {"building": "residential"}))
    ways.append((80, _square(n, 150, 116.340, 39.980, 0.0001), {"building": "dormitory"}))
    ways.append((81, _square(n, 160, 116.350, 39.980, 0.0001),
                 {"building": "residential", "name": "紫荆学生公寓1号楼"}))  # fmt: skip
    ways.append((82, _square(n, 170, 116.360, 39.980, 0.0001),
                 {"building": "residential", "name": "化工厂宿舍3号楼"}))  # fmt: skip
    ways.append((90, _square(n, 180, 116.370, 39.980, 0.002),
                 {"landuse": "residential", "name": "清华大学学生公寓区"}))  # fmt: skip
    path = tmp_path / "rules.osm"
    path.write_text(_xml(n, ways), encoding="utf-8")
    return path


def test_rules_table_has_notes() -> None:
    rules = load_osm_rules()
    assert len({r.rule_id for r in rules}) == len(rules)
    assert all(len(r.note) > 40 for r in rules)


def test_health_centre_and_station_by_name(rules_osm: Path) -> None:
    fac = read_osm_facilities(rules_osm).set_index("facility_id")
    assert fac.loc["osm:n1", "type"] == "community_health_center"
    assert fac.loc["osm:n2", "type"] == "community_health_station"  # station before centre
    assert "osm:n3" not in fac.index  # a university hospital is no community health centre
    off = read_osm_facilities(rules_osm, review_rules=False).set_index("facility_id")
    assert "osm:n1" not in off.index


def test_bus_terminal_by_name(rules_osm: Path) -> None:
    fac = read_osm_facilities(rules_osm).set_index("facility_id")
    assert fac.loc["osm:n4", "type"] == "bus_terminal"
    assert fac.loc["osm:n5", "type"] == "bus_stop"
    assert fac.loc["osm:n6", "type"] == "bus_terminal"  # a depot is no residents' parking
    assert match_osm({"public_transport": "station", "bus": "yes"}) == "bus_terminal"


def test_parking_not_open_to_residents(rules_osm: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("INFO", logger="gisplan.osm"):
        fac = read_osm_facilities(rules_osm).set_index("facility_id")
    assert "osm:n7" not in fac.index
    assert "osm:n8" not in fac.index
    assert fac.loc["osm:n9", "type"] == "car_parking"
    assert fac.loc["osm:n10", "type"] == "car_parking"  # private inside a 小区: residents'
    assert "parking_not_public 2: osm:n7 (car_parking), osm:n8 (car_parking)" in caplog.text


def test_campus_pitches_excluded(rules_osm: Path) -> None:
    fac = read_osm_facilities(rules_osm).set_index("facility_id")
    assert "osm:n11" not in fac.index
    assert fac.loc["osm:n12", "type"] == "small_sports_field"
    off = read_osm_facilities(rules_osm, review_rules=False).set_index("facility_id")
    assert off.loc["osm:n11", "type"] == "small_sports_field"


def test_dormitories_and_campus_housing_not_communities(
    rules_osm: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("INFO", logger="gisplan.osm"):
        com = read_osm_communities(rules_osm)
    assert com["community_id"].tolist() == ["osm:w60", "osm:bg1"]
    assert com["n_buildings"].tolist() == [1, 1]  # bg1: 化工厂宿舍 (staff housing) stays
    assert "dormitory 1: osm:w80" in caplog.text
    assert "campus_buildings 2: osm:w71, osm:w72" in caplog.text
    assert "student_housing_by_name 1: osm:w81 紫荆学生公寓1号楼" in caplog.text
    assert "osm:w90 清华大学学生公寓区" in caplog.text
    off = read_osm_communities(rules_osm, review_rules=False)
    assert len(off) == 2 + 5  # w60, w90 and five single-building groups


def test_gates_on_outline(rules_osm: Path) -> None:
    ent = read_osm_entrances(rules_osm)
    assert ent.crs == "EPSG:4326"
    assert list(ent.columns) == ["community_id", "entrance_id", "name", "geometry"]
    assert ent["entrance_id"].tolist() == ["osm:n13", "osm:n14"]  # n15 is inside, not on it
    assert ent["community_id"].tolist() == ["osm:w60"] * 2
    assert ent["name"].tolist() == ["南门", None]
    layers = read_osm(rules_osm, layers=("communities",))
    assert layers.entrances is not None
    assert layers.entrances["entrance_id"].tolist() == ["osm:n13", "osm:n14"]
    assert read_osm(rules_osm, layers=("network",)).entrances is None


def test_a_datum_stated_for_an_osm_layer_is_an_error(rules_osm: Path) -> None:
    """OSM is WGS84 by definition: GCJ-02 on an OSM layer used to move it by ~550 m, silently."""
    from gisplan.errors import LayerError  # noqa: PLC0415
    from gisplan.layers import read_layer  # noqa: PLC0415

    with pytest.raises(LayerError, match=r"datum GCJ-02 stated for an OpenStreetMap extract"):
        read_layer(rules_osm, "facilities", datum="GCJ-02")
    plain = read_layer(rules_osm, "facilities")
    wgs84 = read_layer(rules_osm, "facilities", datum="WGS84")  # says what it is: fine
    assert wgs84.geometry.geom_equals(plain.geometry).all()
    # a scenario-wide datum (for the CSV or shapefile layers) does not reach the OSM layer
    from gisplan.scenario import scenario_from_dict  # noqa: PLC0415

    sc = scenario_from_dict(
        {"name": "t", "datum": "GCJ-02", "layers": {"communities": str(rules_osm),
                                                    "network": str(rules_osm),
                                                    "facilities": str(rules_osm)}},
        base_dir=rules_osm.parent,
    )  # fmt: skip
    assert (sc.layer_datum("network"), sc.layer_datum("facilities")) == (None, None)
