"""Tests for gisplan.publish: the static consultation site (公示网站) of a finished run.

The run folder is built by hand (``make_run``): three 100 m squares in EPSG:4548 and these
tables (costs in 元, shown on the pages in 万元 = 元 / 10,000):

==  ===========================  ========  ===============================================
id  name                         selected  scheme items (class, cost 元)
==  ===========================  ========  ===============================================
c1  幸福里小区                   yes       1 basic 1,500,000; 6 basic 300,000;
                                           20 complete 200,000; 31 improve unpriced (NaN)
c2  纺织厂宿舍                   no        1 basic 800,000
c3  <img src=x onerror=alert(1)>  yes       6 basic 123,456.78
==  ===========================  ========  ===============================================

So c1 costs 2,000,000 元 = 200.00 万元 (basic 180.00 + complete 20.00 + improve 0.00, one item
待核实), funded by 专营单位 1,500,000 (75.0%), 中央补助资金 300,000 (15.0%), 市县财政资金
100,000 (5.0%) and a 资金缺口 of 100,000 (5.0%); a 居民出资 row of 0 is left out. Both plan
communities are publicised 2026-10-09 (Friday) to 2026-10-14 (Wednesday): 5 working days
(Mon 12, Tue 13 and Wed 14 after Fri 9 and the 调休 Saturday 10 October 2026), 6 days.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from shapely.geometry import box

import gisplan._atomic
from gisplan import publish as publish_module
from gisplan.errors import LayerError, OutputError, ScenarioError, SchemaError
from gisplan.publish import SITE_JSON, PublishOptions, publish

from _fixtures import CRS, X0, Y0

XSS = "<img src=x onerror=alert(1)>"


def make_run(
    folder: Path,
    *,
    title: str = "测试片区",
    selected: tuple[bool, bool, bool] = (True, False, True),
    drop: tuple[str, ...] = (),
) -> Path:
    """Write a small run folder (run.json + results.gpkg) as ``gisplan run`` does."""
    folder.mkdir(parents=True, exist_ok=True)
    communities = gpd.GeoDataFrame(
        {
            "community_id": ["c1", "c2", "c3"],
            "name": ["幸福里小区", "纺织厂宿舍", XSS],
            "built_year": [1985, 1998, 1995],
            "households": [120, 300, 80],
            "buildings": [4, 10, 2],
            "floor_area_m2": [8000.0, 20000.0, 4000.0],
            "street": ["城关街道", "城关街道", 'A"B街道'],
        },
        geometry=[box(X0 + x, Y0, X0 + x + 100, Y0 + 100) for x in (0, 200, 400)],
        crs=CRS,
    )
    schemes = pd.DataFrame(
        {
            "community_id": ["c1", "c1", "c1", "c1", "c2", "c3"],
            "item": [1, 6, 20, 31, 1, 6],
            "class": ["basic", "basic", "complete", "improve", "basic", "basic"],
            "name_zh": [
                "供水管网和设施设备改造",
                "整修小区道路",
                "建设海绵城市设施",
                "完善养老设施",
                "供水管网和设施设备改造",
                "整修小区道路",
            ],
            "quantity": [120.0, 8000.0, 8000.0, np.nan, 300.0, 4000.0],
            "unit": ["户", "m²", "m²", "项", "户", "m²"],
            "cost_yuan": [1_500_000.0, 300_000.0, 200_000.0, np.nan, 800_000.0, 123_456.78],
            "payer": [
                "utility",
                "government",
                "government",
                "social_capital",
                "utility",
                "government",
            ],
        }
    )
    schemes["cost_wan_yuan"] = (schemes["cost_yuan"] / 1e4).round(2)
    costs = pd.DataFrame(
        {
            "community_id": ["c1", "c2", "c3"],
            "cost_yuan": [2_000_000.0, 800_000.0, 123_456.78],
            "cost_wan_yuan": [200.0, 80.0, 12.35],
        }
    )
    sources = ["utility", "central_special_fund", "local_budget", "residents", "shortfall"]
    funding = pd.DataFrame(
        {
            "community_id": ["c1"] * 5 + ["c2", "c3"],
            "source": [*sources, "utility", "local_budget"],
            "source_zh": [
                *("专营单位", "中央财政专项资金", "市县财政资金", "居民出资", "资金缺口"),
                *("专营单位", "市县财政资金"),
            ],
            "funding_status": [
                *("committed", "assumed", "committed", "assumed", "gap"),
                *("committed", "committed"),
            ],
            "amount_yuan": [
                *(1_500_000.0, 300_000.0, 100_000.0, 0.0, 100_000.0),
                *(800_000.0, 123_456.78),
            ],
            "mode": ["shortfall"] * 5 + ["government_led", "government_led"],
        }
    )
    modes = pd.DataFrame(
        {
            "community_id": ["c1", "c2", "c3"],
            "mode": ["shortfall", "government_led", "government_led"],
            "mode_zh": ["资金缺口", "政府引导的多元化投入", "政府引导的多元化投入"],
            "bundle_mode": ["", "", ""],
        }
    )
    plan = pd.DataFrame(
        {"community_id": ["c1", "c2", "c3"], "selected": list(selected), "priority": [3.0, 2, 1]}
    )
    chosen = [c for c, s in zip(["c1", "c2", "c3"], selected, strict=True) if s]
    publicity = pd.DataFrame(
        {
            "community_id": chosen,
            "publicity_start": ["2026-10-09"] * len(chosen),
            "publicity_end": ["2026-10-14"] * len(chosen),
            "working_days": [5] * len(chosen),
            "calendar_days": [6] * len(chosen),
        }
    )
    plan_info = pd.DataFrame({"key": ["plan_year", "status"], "value": ["2027", "optimal"]})
    gpkg = folder / "results.gpkg"
    pyogrio.write_dataframe(communities, gpkg, layer="communities", driver="GPKG")
    tables = {
        "schemes": schemes,
        "scheme_costs": costs,
        "funding": funding,
        "funding_modes": modes,
        "plan": plan,
        "plan_info": plan_info,
        "publicity": publicity,
    }
    for name, frame in tables.items():
        if name not in drop:
            pyogrio.write_dataframe(frame, gpkg, layer=name, driver="GPKG")
    run = {"scenario": {"parameters": {"name": "t", "title": title, "description": None}}}
    (folder / "run.json").write_text(json.dumps(run, ensure_ascii=False), encoding="utf-8")
    return folder


def read(site: Path, rel: str) -> str:
    return (site / rel).read_text(encoding="utf-8")


def cells(page: str, css_class: str) -> list[str]:
    """Return the unescaped texts of ``<td class="... css_class">`` cells, in order."""
    pattern = rf'<td class="[^"]*\b{css_class}\b[^"]*">([^<]*)</td>'
    return [html.unescape(t) for t in re.findall(pattern, page)]


def wan(text: str) -> float:
    return float(text.replace(",", ""))


def tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    return make_run(tmp_path / "运行结果")  # Chinese folder names must work


@pytest.fixture
def site(run_dir: Path, tmp_path: Path) -> Path:
    return publish(run_dir, tmp_path / "公示网站")


# --------------------------------------------------------------------------- pages


@pytest.mark.assets
def test_pages_for_the_plan_communities_and_a_manifest(site: Path) -> None:
    files = tree(site)
    pages = sorted(k for k in files if k.startswith("c/"))
    assert pages == ["c/c1.html", "c/c3.html"]  # c2 is not selected in the plan
    assert {"index.html", SITE_JSON, "assets/leaflet.js", "assets/leaflet.css"} <= set(files)
    assert {"assets/site.css", "assets/site.js", "assets/LICENSE-leaflet.txt"} <= set(files)
    manifest = json.loads(files[SITE_JSON])
    assert manifest["generator"] == "gisplan publish"
    assert manifest["communities"] == ["c1", "c3"]
    assert manifest["run"]["plan_year"] == 2027
    # the manifest hashes every other file of the site
    assert manifest["files"] == {
        k: hashlib.sha256(v).hexdigest() for k, v in files.items() if k != SITE_JSON
    }


@pytest.mark.assets
def test_community_page_numbers_equal_the_run_tables(site: Path, run_dir: Path) -> None:
    page = read(site, "c/c1.html")
    costs = pyogrio.read_dataframe(run_dir / "results.gpkg", layer="scheme_costs")
    total_yuan = float(costs.loc[costs["community_id"] == "c1", "cost_yuan"].iloc[0])
    total = re.search(r'<span id="total-wan">([^<]*)</span>', page)
    assert total is not None
    assert wan(total.group(1)) == pytest.approx(total_yuan / 1e4) == 200.00
    # items: 150.00 + 30.00 + 20.00 = 200.00 = total; the unpriced item says 待核实
    item_costs = cells(page, "cost")
    assert item_costs == ["150.00", "30.00", "20.00", "待核实"]
    assert sum(wan(c) for c in item_costs if c != "待核实") == pytest.approx(200.00)
    assert "另有 1 项工程量待核实" in page
    subtotals = re.findall(r'<span class="subtotal">([^<]*)</span>', page)
    assert subtotals == ["180.00", "20.00", "0.00"]  # 基础类, 完善类, 提升类
    classes = re.findall(r"<h3 id=\"class-(\w+)\">(\S+?)（(\d+) 项", page)
    assert classes == [
        ("basic", "基础类", "2"),
        ("complete", "完善类", "1"),
        ("improve", "提升类", "1"),
    ]
    assert (
        '估算总投资：</strong><span id="total-wan">200.00</span> 万元（折合 250.00 元/m²）' in page
    )


@pytest.mark.assets
def test_funding_by_source_sums_to_the_cost(site: Path) -> None:
    page = read(site, "c/c1.html")
    rows = re.findall(
        r'<tr(?: class="shortfall")?><td>([^<]*)</td><td class="status">([^<]*)</td>'
        r'<td class="num amount">',
        page,
    )
    amounts = cells(page, "amount")
    # the 0 元 residents row is left out; the shortfall is labelled as still to be found;
    # each amount says whether it is committed (已落实) or only assumed (测算)
    assert rows == [
        ("中央财政专项资金", "测算"),
        ("市县财政资金", "已落实"),
        ("专营单位", "已落实"),
        ("资金缺口（待落实）", ""),
    ]
    assert "测算：按方案设定的比例估算、尚待争取的资金" in page
    assert amounts == ["30.00", "10.00", "150.00", "10.00"]
    assert sum(map(wan, amounts)) == pytest.approx(200.00)
    total = re.search(r'<td class="num" id="funding-total">([^<]*)</td>', page)
    assert total is not None
    assert total.group(1) == "200.00"
    assert ">15.0%<" in page
    assert ">75.0%<" in page
    assert "<strong>资金平衡方式：</strong>资金缺口" in page


@pytest.mark.assets
def test_publicity_period_in_working_days_and_comment_deadline(site: Path) -> None:
    page = read(site, "c/c1.html")
    period = "2026年10月9日（星期五） 至 2026年10月14日（星期三）（5 个工作日，共 6 天）"
    assert f"<strong>公示期：</strong>{period}" in page
    assert "<strong>意见反馈截止：</strong>2026年10月14日（星期三）" in page
    # no contact options: residents are sent to their street office
    assert "请于 2026年10月14日（星期三） 前向城关街道办事处或所在社区居民委员会书面反馈" in page
    index = read(site, "index.html")
    assert f"<strong>公示期：</strong>{period}" in index
    assert "小区共 2 个，涉及居民 200 户，估算总投资 212.35 万元" in index  # 120 + 80 户


@pytest.mark.assets
def test_basic_facts_of_the_community(site: Path) -> None:
    page = read(site, "c/c1.html")
    facts = dict(re.findall(r'<tr><th scope="row">([^<]*)</th><td>([^<]*)</td></tr>', page))
    assert facts == {
        "小区名称": "幸福里小区",
        "小区编号": "c1",
        "所属街道": "城关街道",
        "建成年份": "1985 年",
        "户数": "120 户",
        "楼栋数": "4 栋",
        "建筑面积": "8,000 m²",
    }


@pytest.mark.assets
def test_index_lists_communities_with_links_search_keys_and_map(site: Path) -> None:
    index = read(site, "index.html")
    links = re.findall(r'<a href="(c/[^"]+)"><span class="c-name">([^<]*)</span></a>', index)
    assert [(h, html.unescape(n)) for h, n in links] == [
        ("c/c1.html", "幸福里小区"),
        ("c/c3.html", XSS),
    ]
    assert 'data-search="幸福里小区c1城关街道"' in index
    data = re.search(r'<script type="application/json" id="map-data">(.*?)</script>', index)
    assert data is not None
    features = json.loads(data.group(1))["features"]
    assert [f["properties"]["href"] for f in features] == ["c/c1.html", "c/c3.html"]
    # the 100 m square of c1 in WGS84: 117°E, ~35°N; coordinates rounded to 1e-6 degree
    ring = np.array(features[0]["geometry"]["coordinates"][0])
    assert ring[:, 0].min() == pytest.approx(117.0, abs=0.01)
    assert ring[:, 1].min() == pytest.approx(35.0, abs=0.05)
    assert (ring[:, 0].max() - ring[:, 0].min()) * 111_320 * np.cos(np.radians(35)) == (
        pytest.approx(100, abs=1)
    )
    assert np.all(np.round(ring, 6) == ring)


@pytest.mark.assets
def test_user_text_is_escaped_everywhere(site: Path) -> None:
    for rel in ("index.html", "c/c3.html"):
        page = read(site, rel)
        assert "<img" not in page
        assert "&lt;img src=x onerror=alert(1)&gt;" in page
        # inside the JSON map data no < or > survives either
        assert "\\u003cimg src=x onerror=alert(1)\\u003e" in page
    page = read(site, "c/c3.html")
    assert "<td>A&#34;B街道</td>" in page
    assert "<h1>&lt;img src=x onerror=alert(1)&gt;</h1>" in page


@pytest.mark.assets
def test_synthetic_label_from_the_title_or_the_option(tmp_path: Path) -> None:
    demo = make_run(tmp_path / "demo", title="示范县城关片区（合成数据 synthetic）")
    label = "示例数据：本网站由合成（虚构）数据生成"
    assert label in read(publish(demo, tmp_path / "s1"), "index.html")
    real = make_run(tmp_path / "real")
    assert label not in read(publish(real, tmp_path / "s2"), "c/c1.html")
    forced = publish(real, tmp_path / "s3", options=PublishOptions(synthetic=True))
    assert label in read(forced, "c/c1.html")


@pytest.mark.assets
def test_contact_options_are_shown_and_escaped(run_dir: Path, tmp_path: Path) -> None:
    options = PublishOptions(
        title="城关<片区>",
        contact_address="城关街道办事处 2 楼 <201> 室",
        contact_phone="0539-123 4567",
        contact_email="gaizao@example.cn",
    )
    page = read(publish(run_dir, tmp_path / "s", options=options), "c/c1.html")
    assert "<strong>书面意见送达地址：</strong>城关街道办事处 2 楼 &lt;201&gt; 室" in page
    assert '<a href="tel:05391234567">0539-123 4567</a>' in page
    assert '<a href="mailto:gaizao@example.cn">gaizao@example.cn</a>' in page
    assert "<title>幸福里小区 — 城关&lt;片区&gt;2027年度城镇老旧小区改造方案公示</title>" in page


def test_online_mode_links_the_pinned_cdn_and_osm_basemap(run_dir: Path, tmp_path: Path) -> None:
    options = PublishOptions(offline=False, basemap="osm")
    site = publish(run_dir, tmp_path / "s", options=options)
    page = read(site, "c/c1.html")
    assert '<script src="https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js">' in page
    assert '<script src="../assets/site.js"></script>' in page
    assert not (site / "assets" / "leaflet.js").exists()
    assert '{"basemap":"osm"' in page
    assert "© OpenStreetMap 贡献者" in page


@pytest.mark.assets
def test_offline_pages_reference_only_relative_files(site: Path) -> None:
    for rel in ("index.html", "c/c1.html"):
        page = read(site, rel)
        refs = re.findall(r'(?:src|href)="([^"]+)"', page)
        assert refs
        assert all(not re.match(r"[a-z]+://", r) for r in refs), refs
        for ref in refs:
            assert (site / rel).parent.joinpath(ref).resolve().is_file(), ref


@pytest.mark.assets
def test_same_run_gives_byte_identical_sites(run_dir: Path, tmp_path: Path) -> None:
    first = tree(publish(run_dir, tmp_path / "a"))
    second = tree(publish(run_dir, tmp_path / "b"))
    assert first == second


@pytest.mark.assets
def test_run_folder_is_not_modified(run_dir: Path, tmp_path: Path) -> None:
    before = tree(run_dir)
    publish(run_dir, tmp_path / "s")
    assert tree(run_dir) == before


@pytest.mark.assets
def test_schemed_communities_option(run_dir: Path, tmp_path: Path) -> None:
    site = publish(run_dir, tmp_path / "s", options=PublishOptions(communities="schemed"))
    assert sorted(p.name for p in (site / "c").iterdir()) == ["c1.html", "c2.html", "c3.html"]
    page = read(site, "c/c2.html")
    assert "该小区未纳入本年度改造计划" in page
    assert "<strong>资金平衡方式：</strong>政府引导的多元化投入" in page
    assert "小区共 3 个，涉及居民 500 户，估算总投资 292.35 万元" in read(site, "index.html")


@pytest.mark.assets
def test_schemed_works_without_plan_tables(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run", drop=("plan", "publicity", "funding", "funding_modes"))
    with pytest.raises(LayerError, match=r"table 'plan' missing .*communities='schemed'"):
        publish(run, tmp_path / "s")
    site = publish(run, tmp_path / "s", options=PublishOptions(communities="schemed"))
    page = read(site, "c/c1.html")
    assert "本次测算未包含资金来源" in page
    assert "<strong>公示期：</strong>" not in page


@pytest.mark.assets
def test_scheme_without_items_costs_nothing(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run")
    gpkg = run / "results.gpkg"
    schemes = pyogrio.read_dataframe(gpkg, layer="schemes")
    pyogrio.write_dataframe(schemes[schemes["community_id"] != "c3"], gpkg, layer="schemes")
    costs = pyogrio.read_dataframe(gpkg, layer="scheme_costs")
    costs.loc[costs["community_id"] == "c3", "cost_yuan"] = 0.0
    pyogrio.write_dataframe(costs, gpkg, layer="scheme_costs")
    page = read(publish(run, tmp_path / "s"), "c/c3.html")
    assert '<span id="total-wan">0.00</span> 万元（折合 0.00 元/m²），共 0 项' in page
    assert "<h3" not in page  # no class headings without items


@pytest.mark.assets
def test_empty_plan_says_so(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run", selected=(False, False, False))
    site = publish(run, tmp_path / "s")
    assert not (site / "c").exists()
    index = read(site, "index.html")
    assert "本年度改造计划中暂无小区，目前没有需要公示的改造方案。" in index
    assert 'id="map-data"' not in index
    assert 'id="search"' not in index
    assert json.loads(read(site, SITE_JSON))["communities"] == []


def test_file_names_are_safe() -> None:
    names = publish_module._file_names(["C001", "a/b", "con", "X1", "x1", "c-1", "小区"])
    digest = {k: "c-" + hashlib.sha256(k.encode()).hexdigest()[:12] + ".html" for k in names}
    assert names["C001"] == "C001.html"
    for unsafe in ("a/b", "con", "X1", "x1", "c-1", "小区"):
        assert names[unsafe] == digest[unsafe]
    assert len(set(names.values())) == len(names)


# --------------------------------------------------------------------------- errors


def test_not_a_run_folder(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="does not exist or is not a folder"):
        publish(tmp_path / "nothing", tmp_path / "s")
    (tmp_path / "empty").mkdir()
    with pytest.raises(OutputError, match=r"not a gisplan run folder: run.json and results.gpkg"):
        publish(tmp_path / "empty", tmp_path / "s")
    run = make_run(tmp_path / "run")
    (run / "run.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(OutputError, match=r"run.json: cannot read the scenario parameters"):
        publish(run, tmp_path / "s")
    assert not (tmp_path / "s").exists()


def test_damaged_geopackage(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run")
    (run / "results.gpkg").write_bytes(b"not a geopackage")
    with pytest.raises(LayerError, match=r"results.gpkg: not a readable GeoPackage"):
        publish(run, tmp_path / "s")


def test_missing_tables_and_columns(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run", drop=("schemes",))
    with pytest.raises(LayerError, match=r"table 'schemes' missing \(the scenario has no schemes"):
        publish(run, tmp_path / "s")
    run = make_run(tmp_path / "run2")
    pyogrio.write_dataframe(
        pd.DataFrame({"community_id": ["c1"]}), run / "results.gpkg", layer="scheme_costs"
    )
    with pytest.raises(SchemaError, match=r"'scheme_costs' lacks column\(s\) 'cost_yuan'"):
        publish(run, tmp_path / "s")


def test_plan_selects_a_community_without_scheme(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run")
    plan = pd.DataFrame({"community_id": ["c1", "c9"], "selected": [True, True]})
    pyogrio.write_dataframe(plan, run / "results.gpkg", layer="plan")
    with pytest.raises(LayerError, match="plan selects c9 but scheme_costs has no row"):
        publish(run, tmp_path / "s")


@pytest.mark.assets
def test_overwrite_rules(run_dir: Path, tmp_path: Path) -> None:
    to = tmp_path / "site"
    publish(run_dir, to)
    with pytest.raises(OutputError, match="already exists; pass --overwrite"):
        publish(run_dir, to)
    (to / "stale.txt").write_text("old", encoding="utf-8")
    publish(run_dir, to, overwrite=True)
    assert not (to / "stale.txt").exists()
    assert (to / "index.html").is_file()
    # a folder gisplan did not write is never replaced
    other = tmp_path / "docs"
    other.mkdir()
    (other / "keep.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(OutputError, match="is not a gisplan site"):
        publish(run_dir, other, overwrite=True)
    assert (other / "keep.txt").read_text(encoding="utf-8") == "mine"
    file = tmp_path / "file.html"
    file.write_text("x", encoding="utf-8")
    with pytest.raises(OutputError, match="is not a folder"):
        publish(run_dir, file, overwrite=True)
    with pytest.raises(OutputError, match="holds the run folder"):
        publish(run_dir, tmp_path, overwrite=True)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


@pytest.mark.assets
def test_failed_write_leaves_the_old_site(
    run_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    to = tmp_path / "site"
    publish(run_dir, to)
    before = tree(to)

    def broken(tmp: Path, target: Path) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(gisplan._atomic, "_replace_dir", broken)
    with pytest.raises(OSError, match="disk full"):
        publish(run_dir, to, overwrite=True, options=PublishOptions(title="新标题"))
    assert tree(to) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_options_are_checked_all_at_once() -> None:
    with pytest.raises(ScenarioError) as info:
        PublishOptions(
            basemap="gaode",
            communities="all",
            contact_email="not an address",
            offline="yes",  # type: ignore[arg-type]
            title="  ",
        )
    keys = [k for k, _, _ in info.value.problems]
    assert keys == [
        "publish.title",
        "publish.contact_email",
        "publish.basemap",
        "publish.communities",
        "publish.offline",
    ]
    assert "write one of none, osm" in str(info.value)
