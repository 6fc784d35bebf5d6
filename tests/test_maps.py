"""Maps of a run: classes and legend counts, escaping, basemaps, GCJ-02, sizes, bad input."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import pytest
from geopandas.testing import assert_geodataframe_equal
from shapely.geometry import GeometryCollection, LineString, MultiPolygon, Point, Polygon, box

from gisplan import assets, maps
from gisplan.crs import wgs84_to_gcj02
from gisplan.errors import CRSError, LayerError, OutputError, ScenarioError
from gisplan.outputs import read_run

from _fixtures import CRS, X0, Y0, communities, facilities

XSS = "<img src=x onerror=alert(1)>"


def run_layers() -> dict[str, pd.DataFrame]:
    """Three 100 m squares (c2 named with HTML) and the tables a full run adds."""
    comm = communities()
    comm.loc[1, "name"] = XSS
    comm.loc[2, "name"] = "He said \"hi\" & 'bye'"
    ids = ["c1", "c2", "c3"]
    return {
        "communities": comm,
        "facilities": facilities(),
        "eligibility": pd.DataFrame(
            {"community_id": ids, "status": ["eligible", "eligible", "not_eligible"]}
        ),
        "community_gaps": pd.DataFrame(
            {"community_id": ids, "gap_score": [0.1, 0.5, 0.9], "n_missing": [1, 5, 9]}
        ),
        "funding_modes": pd.DataFrame(
            {"community_id": ["c1", "c2"], "mode": ["shortfall", "self_balance"]}
        ),
        "rollout": pd.DataFrame({"community_id": ids, "start_year": [2027, np.nan, 2028]}),
        "bundles": gpd.GeoDataFrame(
            {"bundle_id": ["B1", "B2"], "balance_wan_yuan": [120.5, -30.0],
             "mode": ["large_area"] * 2},
            geometry=[box(X0, Y0, X0 + 300, Y0 + 100), box(X0 + 400, Y0, X0 + 500, Y0 + 100)],
            crs=CRS,
        ),
        # mixed geometry: a point and a polygon
        "sites_chosen": gpd.GeoDataFrame(
            {"site_id": ["S1", "S2"], "type": ["nursery", "community_canteen"],
             "cost_wan_yuan": [86.2, 40.0], "residents_newly_covered": [1200, 300]},
            geometry=[Point(X0 + 150, Y0 + 50), box(X0 + 300, Y0 + 120, X0 + 340, Y0 + 160)],
            crs=CRS,
        ),
    }  # fmt: skip


def specs(m: object) -> dict[str, dict[str, object]]:
    """The view specs of a rendered map, by label."""
    html = m.get_root().render()  # type: ignore[attr-defined]
    out = {}
    decoder = json.JSONDecoder()
    for match in re.finditer(r"gisplan\.view\(", html):
        spec, _ = decoder.raw_decode(html, match.end())
        out[spec["label"]] = spec
    return out


def legend(spec: dict[str, object]) -> list[tuple[str, int]]:
    return [(c["label"], n) for c, n in zip(spec["classes"], spec["counts"], strict=True)]


def data_args(html: str, key: str) -> list[object]:
    """The arguments of gisplan.addData(key, geoms, scale, rows, fields, title)."""
    start = html.index(f'gisplan.addData("{key}",') + len(f'gisplan.addData("{key}",')
    decoder = json.JSONDecoder()
    args: list[object] = []
    pos = start
    for _ in range(5):
        value, pos = decoder.raw_decode(html, pos)
        args.append(value)
        pos += 1  # the comma
    return args


def decode(code: list, scale: float) -> object:
    """Python twin of the page's decoder."""

    def line(a: list[int]) -> list[list[float]]:
        xy = np.cumsum(np.array(a, dtype=np.int64).reshape(-1, 2), axis=0)
        return (xy / scale).tolist()

    kind = code[0]
    if kind == 1:
        return ("Point", [code[1] / scale, code[2] / scale])
    if kind in {2, 4}:
        return (kind, line(code[1]))
    if kind in {3, 5}:
        return (kind, [line(r) for r in code[1]])
    return (kind, [[line(r) for r in p] for p in code[1]])


def test_eligibility_classes_counts_and_tooltips() -> None:
    layers = run_layers()
    m = maps.explore(layers, "eligibility", basemap="none")
    (spec,) = specs(m).values()
    # c1, c2 eligible; c3 not eligible
    assert legend(spec) == [("符合条件", 2), ("不符合条件", 1)]
    assert spec["cls"] == [0, 0, 1]
    assert spec["countUnit"] == "个"


def test_gap_plan_and_funding_classes() -> None:
    layers = run_layers()
    gaps = specs(maps.explore(layers, "gaps", basemap="none"))
    # 0.1 -> 0–0.2, 0.5 -> 0.4–0.6, 0.9 -> 0.8–1
    assert legend(gaps["小区：配套设施缺口指数"]) == [
        ("缺口指数 0–0.2", 1),
        ("缺口指数 0.4–0.6", 1),
        ("缺口指数 0.8–1", 1),
    ]
    # facilities by type, each with its own icon; service areas absent here
    fac = gaps["现状公共服务设施"]
    assert legend(fac) == [("小学", 1), ("幼儿园", 1)]  # in the standard's table order
    assert [c["icon"] for c in fac["classes"]] == ["school", "child"]
    plan = specs(maps.explore(layers, "plan", basemap="none"))["小区：计划开工年份"]
    assert legend(plan) == [("2027年开工", 1), ("2028年开工", 1), ("未纳入计划", 1)]
    funding = specs(maps.explore(layers, "funding", basemap="none"))
    assert legend(funding["小区：资金平衡模式"]) == [
        ("小区内自求平衡", 1),
        ("资金缺口", 1),
        ("未测算资金", 1),
    ]
    # bundles: B1 balance 120.5 >= 0, B2 -30 < 0
    assert legend(funding["统筹片区：收支平衡"]) == [("收支结余 ≥ 0", 1), ("收支结余 < 0", 1)]


def test_nullable_columns_as_a_runner_result_has_them() -> None:
    layers = run_layers()
    layers["rollout"] = layers["rollout"].astype({"start_year": "Int64"})
    gaps = layers["community_gaps"].astype({"gap_score": "Float64"})
    gaps.loc[1, "gap_score"] = pd.NA
    layers["community_gaps"] = gaps
    layers["bundles"] = layers["bundles"].astype({"balance_wan_yuan": "Float64"})
    found = specs(maps.explore(layers, "overview", basemap="none"))
    assert legend(found["小区：计划开工年份"]) == [
        ("2027年开工", 1),
        ("2028年开工", 1),
        ("未纳入计划", 1),
    ]
    assert legend(found["小区：配套设施缺口指数"]) == [
        ("缺口指数 0–0.2", 1),
        ("缺口指数 0.8–1", 1),
        ("无缺口数据", 1),
    ]
    assert legend(found["统筹片区：收支平衡"]) == [("收支结余 ≥ 0", 1), ("收支结余 < 0", 1)]


def test_overview_has_every_theme_as_a_layer_and_only_one_shown() -> None:
    m = maps.explore(run_layers(), "overview", basemap="none")
    labels = list(specs(m))
    assert labels == [
        "小区：改造资格",
        "小区：配套设施缺口指数",
        "小区：资金平衡模式",
        "小区：计划开工年份",
        "统筹片区：收支平衡",
        "现状公共服务设施",
        "新增设施选址",
    ]
    html = m.get_root().render()
    shown = re.findall(r"(gisplan_view_\w+)\.addTo\(", html)
    assert len(set(shown)) == 1  # eligibility only; the rest wait in the layer control


def test_popup_text_is_escaped_json_not_html() -> None:
    html = maps.explore(run_layers(), "eligibility", basemap="none").get_root().render()
    assert XSS not in html
    assert "\\u003cimg src=x onerror=alert(1)>" in html
    # the page writes data with textContent only, never innerHTML
    assert "innerHTML" not in html
    _, _, rows, fields, title = data_args(html, "communities")
    assert rows[1][title] == XSS
    assert rows[2][title] == "He said \"hi\" & 'bye'"
    assert [f["l"] for f in fields][:4] == ["小区编号", "小区名称", "建成年份", "户数（户）"]


def test_encoding_round_trips_mixed_geometry() -> None:
    ring = [(0, 0), (10, 0), (10, 10), (0, 10), (0, 0)]
    hole = [(2, 2), (4, 2), (4, 4), (2, 2)]
    geoms = np.array(
        [
            Point(118.123456, 35.5),
            Polygon([(118 + x / 1e4, 35 + y / 1e4) for x, y in ring],
                    [[(118 + x / 1e4, 35 + y / 1e4) for x, y in hole]]),
            LineString([(118.0, 35.0), (118.00002, 35.00001)]),
            MultiPolygon([box(118, 35, 118.001, 35.001), box(118.002, 35, 118.003, 35.001)]),
        ],
        dtype=object,
    )  # fmt: skip
    codes = [json.loads(c) for c in maps._encode(geoms, precision=5, layer="t")]
    assert codes[0] == [1, 11812346, 3550000]  # rounded to 1e-5 degree
    kind, polys = decode(codes[1], 1e5)
    assert kind == 6  # polygons mixed with multipolygons are all written as multipolygons
    (rings,) = polys
    # outer ring without its closing vertex: 4 corners, second one 10e-4 degree east
    assert rings[0] == [[118.0, 35.0], [118.001, 35.0], [118.001, 35.001], [118.0, 35.001]]
    assert codes[1][1][0][0][2:4] == [100, 0]  # deltas, not absolute numbers
    assert len(rings[1]) == 3
    assert decode(codes[2], 1e5) == (2, [[118.0, 35.0], [118.00002, 35.00001]])
    alone = json.loads(maps._encode(geoms[1:2], precision=5, layer="t")[0])
    assert alone[0] == 3  # a plain polygon layer stays polygons
    kind, polys = decode(codes[3], 1e5)
    assert kind == 6
    assert len(polys) == 2


def test_geometry_collections_are_refused() -> None:
    geoms = np.array([GeometryCollection([Point(0, 0), box(0, 0, 1, 1)])], dtype=object)
    with pytest.raises(LayerError, match=r"'bad' holds GEOMETRYCOLLECTION.*explode"):
        maps._encode(geoms, precision=5, layer="bad")


def test_gaode_shifts_overlays_to_gcj02() -> None:
    layers = {"communities": communities()}
    html = maps.explore(layers, "eligibility", basemap="gaode").get_root().render()
    geoms, scale, *_ = data_args(html, "communities")
    # known point: the south-west corner of c1, (X0, Y0) in EPSG:4548
    lon, lat = pyproj.Transformer.from_crs(CRS, 4326, always_xy=True).transform(X0, Y0)
    glon, glat = wgs84_to_gcj02(lon, lat)
    ring = decode(geoms[0], scale)[1][0]
    expected = [round(float(glon), 5), round(float(glat), 5)]
    assert any(v == pytest.approx(expected, abs=1e-9) for v in ring)
    # the GCJ-02 offset near 117E 35N is a few hundred metres
    assert 100 < abs(float(glon) - lon) * 91_000 + abs(float(glat) - lat) * 111_000 < 1000
    assert "webrd0{s}.is.autonavi.com" in html
    assert "GCJ-02" in html
    plain = maps.explore(layers, "eligibility", basemap="osm").get_root().render()
    ring = decode(data_args(plain, "communities")[0][0], 1e5)[1][0]
    assert any(v == pytest.approx([round(lon, 5), round(lat, 5)], abs=1e-9) for v in ring)


def test_tianditu_needs_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TIANDITU_KEY", raising=False)
    with pytest.raises(ScenarioError, match="environment variable TIANDITU_KEY"):
        maps.explore(run_layers(), "eligibility", basemap="tianditu")
    monkeypatch.setenv("TIANDITU_KEY", "k123")
    html = maps.explore(run_layers(), "eligibility", basemap="tianditu").get_root().render()
    assert "LAYER=vec" in html
    assert "LAYER=cva" in html  # Chinese annotation on top
    assert "tk=k123" in html
    img = maps.explore(run_layers(), "plan", basemap="tianditu_img", tianditu_key="p9")
    html = img.get_root().render()
    assert "LAYER=img" in html
    assert "LAYER=cia" in html
    assert "tk=p9" in html


def test_misspelt_basemap_and_theme_suggest_the_right_name() -> None:
    with pytest.raises(ScenarioError, match=r"unknown basemap 'tiandtu'.*did you mean 'tianditu'"):
        maps.explore(run_layers(), "eligibility", basemap="tiandtu")
    with pytest.raises(ScenarioError, match=r"unknown map theme 'gap'.*did you mean 'gaps'"):
        maps.explore(run_layers(), "gap")
    with pytest.raises(ScenarioError, match=r"MapOptions.themes.*did you mean 'funding'"):
        maps.MapOptions(themes=("fundng",))
    with pytest.raises(ScenarioError, match=r"MapOptions.precision"):
        maps.MapOptions(precision=12)
    # aliases
    html = maps.explore(run_layers(), "eligibility", basemap="AMap").get_root().render()
    assert "autonavi" in html


def test_empty_layers_and_missing_geometry() -> None:
    layers = run_layers()
    layers["facilities"] = facilities().iloc[0:0]
    comm = layers["communities"].copy()
    comm.loc[2, "geometry"] = None
    layers["communities"] = comm
    html = maps.explore(layers, "gaps", basemap="none").get_root().render()
    assert "图层 facilities 为空（0 个要素），未绘制" in html
    assert "图层 communities：1 个要素没有几何，未绘制" in html
    assert legend(
        specs(maps.explore(layers, "gaps", basemap="none"))["小区：配套设施缺口指数"]
    ) == [
        ("缺口指数 0–0.2", 1),
        ("缺口指数 0.4–0.6", 1),
    ]
    layers["communities"] = comm.iloc[0:0]
    with pytest.raises(LayerError, match=r"theme 'eligibility' needs the 'communities' layer"):
        maps.explore(layers, "eligibility")
    with pytest.raises(LayerError, match=r"theme 'sites' needs the 'sites_chosen'"):
        maps.explore({"communities": communities()}, "sites")


def test_layer_without_crs_is_refused() -> None:
    comm = communities().set_crs(None, allow_override=True)
    with pytest.raises(CRSError, match=r"layer 'communities' has no CRS"):
        maps.explore({"communities": comm}, "eligibility")


def test_many_features_switch_to_canvas(caplog: pytest.LogCaptureFixture) -> None:
    options = maps.MapOptions(basemap="none", canvas_threshold=4)
    with caplog.at_level(logging.INFO, logger="gisplan.maps"):
        m = maps.explore(run_layers(), "gaps", options=options)
    # 3 communities + 2 facilities = 5 > 4
    assert all(s["canvas"] for s in specs(m).values())
    assert "要素较多（5 个），已切换为 Canvas 渲染" in m.get_root().render()
    assert "5 features > canvas_threshold 4" in caplog.text
    m = maps.explore(run_layers(), "gaps", options=maps.MapOptions(basemap="none"))
    assert not any(s["canvas"] for s in specs(m).values())


def test_fifty_thousand_polygons_do_not_crash() -> None:
    n = 50_000
    xs, ys = np.meshgrid(np.arange(250) * 30.0, np.arange(200) * 30.0)
    comm = gpd.GeoDataFrame(
        {"community_id": [f"c{i}" for i in range(n)], "name": [f"小区{i}" for i in range(n)]},
        geometry=[box(X0 + x, Y0 + y, X0 + x + 30, Y0 + y + 30)
                  for x, y in zip(xs.ravel(), ys.ravel(), strict=True)],
        crs=CRS,
    )  # fmt: skip
    m = maps.explore({"communities": comm}, "eligibility", basemap="none")
    (spec,) = specs(m).values()
    assert spec["canvas"] is True
    assert legend(spec) == [("无资格数据", n)]


def test_inputs_are_not_changed() -> None:
    layers = run_layers()
    before = {k: v.copy() for k, v in layers.items()}
    maps.explore(layers, "overview", basemap="gaode")
    for key, frame in layers.items():
        if isinstance(frame, gpd.GeoDataFrame):
            assert_geodataframe_equal(frame, before[key])
        else:
            pd.testing.assert_frame_equal(frame, before[key])


@pytest.mark.assets
def test_save_offline_is_one_file_without_remote_assets(tmp_path: Path) -> None:
    m = maps.explore(run_layers(), "overview", basemap="osm")
    path = maps.save(m, tmp_path / "地图" / "overview.html")
    html = path.read_text(encoding="utf-8")
    assert assets.remote_urls(html) == []
    assert "bootstrap" not in html.lower().split("</head>")[0] or "bootstrap.min.css" not in html
    assert path.stat().st_size < 1_500_000  # assets ≈ 0.9 MB + three squares
    online = maps.save(m, tmp_path / "online.html", offline=False).read_text(encoding="utf-8")
    assert "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js" in online
    with pytest.raises(OutputError, match="cannot write"):
        maps.save(m, tmp_path / "online.html" / "x.html")


@pytest.mark.assets
def test_write_maps_and_redraw_from_a_run_folder(tmp_path: Path) -> None:
    layers = run_layers()
    out = tmp_path / "run"
    out.mkdir()
    gpkg = out / "results.gpkg"
    for name, frame in layers.items():
        if isinstance(frame, gpd.GeoDataFrame):
            frame.to_file(gpkg, layer=name, engine="pyogrio")
        else:
            pyogrio.write_dataframe(frame, gpkg, layer=name)
    meta = {
        "scenario": {"parameters": {"title": "示范片区", "name": "demo"}},
        "crs": {"metric": CRS},
    }
    (out / "run.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    run = read_run(out)
    assert run.title == "示范片区"
    assert run.crs == pyproj.CRS(CRS)
    assert sorted(run.frames()) == sorted(layers)
    assert sorted(run.layers) == ["communities", "facilities"]  # the input layer kinds
    written = maps.redraw(out, maps.MapOptions(basemap="none"))
    assert [p.name for p in written] == [f"{t}.html" for t in maps.THEMES]
    assert "示范片区 · 改造资格" in (out / "maps" / "eligibility.html").read_text(encoding="utf-8")
    # a run without bundles or sites skips those themes
    only = {"communities": layers["communities"], "eligibility": layers["eligibility"]}
    written = maps.write_maps(only, tmp_path / "small", maps.MapOptions(basemap="none"))
    assert [p.name for p in written] == [
        "overview.html",
        "eligibility.html",
        "gaps.html",
        "funding.html",
        "plan.html",
    ]
    with pytest.raises(OutputError, match=r"does not exist or is not a folder"):
        maps.redraw(tmp_path / "nothing")


def test_unsupported_input_is_named() -> None:
    with pytest.raises(LayerError, match=r"cannot draw a int"):
        maps.explore(3, "eligibility")
    with pytest.raises(LayerError, match=r"\['x'\] are not tables"):
        maps.explore({"x": [1, 2]}, "eligibility")


def test_sites_theme_colours_communities_by_what_the_proposal_adds() -> None:
    chosen = pd.DataFrame(
        {
            "site_id": ["S1", "S2"],
            "type": ["nursery", "elderly_day_care"],
            "type_zh": ["托儿所", "日间照料中心"],
            "newly_covered_ids": ["c1、c2", "c2"],
        }
    )
    ids = pd.Series(["c1", "c2", "c3"])
    gained = maps._newly_covered(ids, chosen)
    assert gained.fillna("").tolist() == ["托儿所", "托儿所、日间照料中心", ""]
