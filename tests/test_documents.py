"""Official tables on a hand-made plan of four communities in two streets, and on the demo.

Fixture (numbers checked on paper):

==== ====== ====== ==== ======== ====== ====== ======= ============== ==========
id   street county year selected start  bldgs  hh      floor m²       cost 万元
==== ====== ====== ==== ======== ====== ====== ======= ============== ==========
A1   东街   甲县    1990 yes      2027   2      40      3000           126
A2   东街   甲县    1995 yes      2027   3      60      5000           72
B1   西街   (none) 1985 no       2027   4      80      6000           20
B2   西街   乙县    1980 no       2028   1      10      800            300
==== ====== ====== ==== ======== ====== ====== ======= ============== ==========

The 2027 plan is A1, A2 (selected) and B1 (starts 2027); B2 is not in it.
"""

from __future__ import annotations

import shutil
import warnings
from importlib import resources
from pathlib import Path

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest
from shapely.geometry import box

from gisplan import check_layer, run_scenario
from gisplan.documents import (
    LAYOUT_FILES,
    official_tables,
    physical_indicators,
    read_layout,
    write_official_workbook,
)
from gisplan.errors import GisplanWarning, ScenarioError


@pytest.fixture
def communities() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "community_id": ["A1", "A2", "B1", "B2"],
            "name": ["甲一小区", "甲二小区", "乙一小区", "乙二小区"],
            "street": ["东街", "东街", "西街", "西街"],
            "district": ["甲县", "甲县", None, "乙县"],
            "built_year": [1990, 1995, 1985, 1980],
            "buildings": [2, 3, 4, 1],
            "households": [40, 60, 80, 10],
            "floor_area_m2": [3000.0, 5000.0, 6000.0, 800.0],
        }
    )


@pytest.fixture
def frames() -> dict[str, pd.DataFrame]:
    schemes = pd.DataFrame(
        [
            ("A1", 1, "basic", "供水管网和设施设备改造", 40.0, 6.0),
            ("A1", 28, "complete", "增设电梯", 2.0, 120.0),
            ("A2", 5, "basic", "供热管网和设施设备改造", 5000.0, 10.0),
            ("A2", 23, "complete", "建设停车位（场）", 60.0, 12.0),
            ("A2", 31, "improve", "完善养老设施", 1.0, 50.0),
            ("B1", 2, "basic", "供电线路和设施设备改造", 80.0, 12.0),
            ("B1", 26, "complete", "建设非机动车停车棚及充电设施", 80.0, 8.0),
            ("B2", 28, "complete", "增设电梯", 5.0, 300.0),
        ],
        columns=["community_id", "item", "class", "name_zh", "quantity", "cost_wan_yuan"],
    )
    funding = pd.DataFrame(
        [
            ("A1", "central_special_fund", "committed", 50.0),
            ("A1", "utility", "committed", 6.0),
            ("A1", "residents", "assumed", 30.0),
            ("A1", "shortfall", "gap", 70.0),
            ("A2", "local_budget", "committed", 72.0),
            ("A2", "shortfall", "gap", 0.0),
            ("B1", "large_area_project", "committed", 20.0),
            ("B2", "local_budget", "committed", 300.0),
        ],
        columns=["community_id", "source", "funding_status", "amount_wan_yuan"],
    )
    return {
        "plan": pd.DataFrame(
            {"community_id": ["A1", "A2", "B1", "B2"], "selected": [True, True, False, False]}
        ),
        "rollout": pd.DataFrame(
            {
                "community_id": ["A1", "A2", "B1", "B2"],
                "start_year": [2027.0, 2027.0, 2027.0, 2028.0],
                "completion_year": [2028.0, 2028.0, 2027.0, 2029.0],
            }
        ),
        "schemes": schemes,
        "scheme_costs": pd.DataFrame(
            {"community_id": ["A1", "A2", "B1", "B2"], "cost_wan_yuan": [126.0, 72.0, 20.0, 300.0]}
        ),
        "funding": funding,
        "bundle_members": pd.DataFrame(
            {
                "bundle_id": ["B001", "B001", "B001"],
                "unit_id": ["A2", "B1", "P01"],
                "unit_kind": ["community", "community", "project"],
            }
        ),
        "sites_chosen": pd.DataFrame(
            {"type": ["elderly_day_care", "nursery", "community_health_station"]}
        ),
        "targets": pd.DataFrame(
            {
                "description_zh": ["2000年底前建成的老旧小区到2030年底全部完成改造"],
                "communities": [4],
                "completed": [1],
                "required": [1.0],
                "achieved": [0.25],
                "met": [False],
                "missing_zh": ["还需竣工3个小区"],
            }
        ),
    }


def _tables(
    frames: dict[str, pd.DataFrame], communities: pd.DataFrame, **kw: object
) -> dict[str, pd.DataFrame]:
    return official_tables(
        frames, communities, plan_year=2027, title="示范县", district="示范县", **kw
    )


def _rows(table: pd.DataFrame, key: str) -> pd.DataFrame:
    body = table[table["序号"] != "合计"]
    return body.set_index(key)


def _total(table: pd.DataFrame) -> pd.Series:
    last = table.iloc[-1]
    assert last["序号"] == "合计"
    return last


def test_annual_plan_lists_the_plan_year_communities(frames, communities) -> None:
    plan = _tables(frames, communities)["年度改造计划表"]
    body = _rows(plan, "小区名称")
    assert list(body.index) == ["甲一小区", "甲二小区", "乙一小区"]  # 甲县 before 示范县
    assert body.loc["乙一小区", "县区"] == "示范县"  # blank district: the one passed
    assert body.loc["甲一小区", "改造内容：基础类"] == "供水管网和设施设备改造"
    assert body.loc["甲二小区", "改造内容：提升类"] == "完善养老设施"
    assert body.loc["甲一小区", "资金来源：中央补助（万元）"] == pytest.approx(50.0)
    assert body.loc["甲一小区", "资金来源：居民出资（万元）"] == pytest.approx(30.0)
    assert body.loc["甲一小区", "计划开工（年月）"] == "2027年4月"
    assert body.loc["甲一小区", "计划竣工（年月）"] == "2028年10月"
    total = _total(plan)
    assert total["总投资（万元）"] == pytest.approx(218.0)
    assert total["户数（户）"] == 180
    assert total["建筑面积（m²）"] == pytest.approx(14000.0)
    assert total["其中：测算未落实（万元）"] == pytest.approx(30.0)
    # a rate is weighted, never summed: 218 万元 × 10000 / 14000 m²
    assert total["单方造价（元/m²）"] == pytest.approx(155.71)
    assert total["计划开工（年月）"] is None
    assert any("利通区2023" in n for n in plan.attrs["notes"])


def test_funding_table_keeps_committed_and_assumed_apart(frames, communities) -> None:
    table = _tables(frames, communities)["资金筹措表"]
    body = _rows(table, "小区名称")
    assert body.loc["甲一小区", "已落实：中央补助（万元）"] == pytest.approx(50.0)
    assert body.loc["甲一小区", "测算：居民出资（万元）"] == pytest.approx(30.0)
    assert body.loc["甲一小区", "已落实：居民出资（万元）"] == pytest.approx(0.0)
    total = _total(table)
    assert total["已落实：小计（万元）"] == pytest.approx(148.0)
    assert total["测算：小计（万元）"] == pytest.approx(30.0)
    assert total["资金缺口（总投资−已落实）（万元）"] == pytest.approx(70.0)


def test_central_subsidy_table_is_marked_reconstructed(frames, communities) -> None:
    table = _tables(frames, communities)["中央补助支持计划表"]
    assert _total(table)["申请中央补助资金（万元）"] == pytest.approx(50.0)
    assert _total(table)["单位/管线出资（万元）"] == pytest.approx(6.0)
    assert _total(table)["社会资本（万元）"] == pytest.approx(0.0)
    assert _total(table)["片区统筹及经营收益（万元）"] == pytest.approx(20.0)  # B1's bundle
    assert any("重构" in n for n in table.attrs["notes"])


def test_summaries_by_street_and_county(frames, communities) -> None:
    tables = _tables(frames, communities)
    street = _rows(tables["分街道汇总"], "街道/乡镇")
    assert street.loc["东街", "小区数（个）"] == 2
    assert street.loc["东街", "栋数（栋）"] == 5
    assert street.loc["东街", "总投资（万元）"] == pytest.approx(198.0)
    assert street.loc["东街", "已落实资金（万元）"] == pytest.approx(128.0)
    assert street.loc["东街", "资金缺口（万元）"] == pytest.approx(70.0)
    assert street.loc["东街", "单方造价（元/m²）"] == pytest.approx(247.5)
    assert street.loc["西街", "户数（户）"] == 80
    assert _total(tables["分街道汇总"])["单方造价（元/m²）"] == pytest.approx(155.71)
    county = _rows(tables["分县区汇总"], "县区")
    assert county.loc["甲县", "总投资（万元）"] == pytest.approx(198.0)
    assert county.loc["示范县", "总投资（万元）"] == pytest.approx(20.0)


def test_packages_by_street_and_by_bundle(frames, communities) -> None:
    by_street = _rows(_tables(frames, communities)["分项目汇总"], "项目包")
    assert list(by_street.index) == ["东街", "西街"]
    by_bundle = _rows(
        _tables(frames, communities, project_package="bundle")["分项目汇总"], "项目包"
    )
    assert list(by_bundle.index) == ["B001", "东街（未打捆）"]
    assert by_bundle.loc["B001", "包含小区"] == "甲二小区、乙一小区"
    assert by_bundle.loc["B001", "栋数（栋）"] == 7
    assert by_bundle.loc["B001", "总投资（万元）"] == pytest.approx(92.0)
    assert by_bundle.loc["东街（未打捆）", "总投资（万元）"] == pytest.approx(126.0)
    with pytest.raises(ScenarioError, match="project_package 'county'"):
        _tables(frames, communities, project_package="county")


def test_physical_indicators_from_the_plan_quantities(frames, communities) -> None:
    table = _rows(_tables(frames, communities)["实物工作量表"], "指标")
    # pipes: (40 + 80 households) × 0.01 km + 5000 m² × 0.00015 km = 1.2 + 0.75
    assert table.loc["管网改造长度", "数量"] == pytest.approx(1.95)
    assert table.loc["管网改造长度", "含本工具假设"] == "是"
    assert table.loc["加装电梯", "数量"] == pytest.approx(2.0)  # B2's 5 lifts are not in 2027
    assert table.loc["加装电梯", "含本工具假设"] == "否"
    assert table.loc["新增停车位", "数量"] == pytest.approx(12.0)  # 60 households × 0.2
    assert table.loc["充电设施", "数量"] == pytest.approx(1.0)
    assert table.loc["小区内养老、托育、助餐设施", "数量"] == pytest.approx(1.0)
    assert table.loc["新建养老、托育、助餐设施（补短板选址）", "数量"] == pytest.approx(2.0)
    assert table.loc["改造面积", "数量"] == pytest.approx(1.4)
    assert table.loc["受益户数", "数量"] == pytest.approx(180.0)
    assert table.loc["改造楼栋", "数量"] == pytest.approx(9.0)
    assert table.loc["改造小区", "数量"] == pytest.approx(3.0)


def test_physical_indicators_other_catalogue_and_unknown() -> None:
    schemes = pd.DataFrame({"community_id": ["a", "a"], "item": [30, 28], "quantity": [3.0, 9.0]})
    few = pd.DataFrame({"community_id": ["a"], "buildings": [1], "households": [10]})
    linxia = physical_indicators(schemes, few, catalogue="linxia").set_index("indicator")
    assert linxia.loc["lifts", "value"] == pytest.approx(3.0)  # Linxia 加装电梯 is item 30
    with pytest.raises(ScenarioError, match="catalogue 'mine'"):
        physical_indicators(schemes, few, catalogue="mine")


def test_targets_table(frames, communities) -> None:
    table = _tables(frames, communities)["目标完成情况表"]
    row = table.iloc[0]
    assert row["完成比例（%）"] == pytest.approx(25.0)
    assert row["是否达成"] == "否"
    assert row["差距"] == "还需竣工3个小区"
    assert _total(table)["完成比例（%）"] is None  # a rate is never summed


def test_inputs_are_not_changed(frames, communities) -> None:
    before = {k: v.copy() for k, v in frames.items()}
    saved = communities.copy()
    _tables(frames, communities, project_package="bundle")
    for key, frame in frames.items():
        pd.testing.assert_frame_equal(frame, before[key])
    pd.testing.assert_frame_equal(communities, saved)


def test_unknown_plan_community_is_named(frames, communities) -> None:
    with pytest.raises(ScenarioError, match="A1"):
        _tables(frames, communities[communities["community_id"] != "A1"])


def _layout_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "版式"
    folder.mkdir()
    packaged = resources.files("gisplan").joinpath("data", "layouts")
    for name in LAYOUT_FILES.values():
        with resources.as_file(packaged.joinpath(name)) as path:
            shutil.copy(path, folder / name)
    return folder


def test_layout_missing_column(tmp_path, frames, communities) -> None:
    folder = _layout_copy(tmp_path)
    path = folder / "annual_plan.csv"
    table = pd.read_csv(path, dtype=str, keep_default_na=False).drop(columns=["total"])
    table.to_csv(path, index=False)
    with pytest.raises(ScenarioError, match=r"annual_plan\.csv: column\(s\) total missing"):
        _tables(frames, communities, layouts=folder)


def test_layout_unknown_source(tmp_path, frames, communities) -> None:
    folder = _layout_copy(tmp_path)
    path = folder / "funding.csv"
    text = path.read_text(encoding="utf-8").replace("funding@committed:utility,", "funding:gold,")
    text = text.replace("district,县区,,district,", "district,县区,,county,")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"funding\.csv") as err:
        _tables(frames, communities, layouts=folder)
    message = str(err.value)
    assert "row 3 column 'source': unknown source 'county'" in message
    assert "unknown funding channel(s) gold" in message


def test_layout_headers_carry_units() -> None:
    headers = [c.header for c in read_layout("年度改造计划表")]
    assert "总投资（万元）" in headers
    assert "建筑面积（m²）" in headers
    assert "栋数（栋）" in headers


def test_workbook_reads_back_and_is_deterministic(tmp_path, frames, communities) -> None:
    tables = _tables(frames, communities)
    first, second = tmp_path / "上报表格.xlsx", tmp_path / "again.xlsx"
    for path in (first, second):
        write_official_workbook(
            tables,
            path,
            title="示范县2027年城镇老旧小区改造",
            notes={"年度改造计划表": ["合成数据示例"]},
            unit="示范县住房和城乡建设局",
        )
    assert first.read_bytes() == second.read_bytes()
    book = openpyxl.load_workbook(first)
    assert book.sheetnames == list(LAYOUT_FILES)
    ws = book["年度改造计划表"]
    assert ws["A1"].value == "示范县2027年城镇老旧小区改造年度改造计划表"
    assert ws["A2"].value == "填报单位：示范县住房和城乡建设局"
    headers = [c.value for c in ws[3]]
    assert headers[:4] == ["序号", "县区", "街道/乡镇", "小区名称"]
    total_row = [c.value for c in ws[7]]  # title, unit line, header, 3 communities
    assert total_row[0] == "合计"
    assert total_row[headers.index("总投资（万元）")] == pytest.approx(218.0)
    assert ws.cell(row=7, column=1).font.b
    notes = [ws.cell(row=r, column=1).value for r in range(9, ws.max_row + 1)]
    assert notes[0] == "说明："
    assert notes[-1].endswith("合成数据示例")
    assert ws.page_setup.orientation == "landscape"
    assert ws.page_setup.fitToWidth == 1
    assert ws.print_title_rows == "$1:$3"


@pytest.fixture(scope="module")
def demo_run(repo_root: Path):
    # the demo's data warnings (validation_issues, publicity dates) are not what is tested here
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GisplanWarning)
        return run_scenario(repo_root / "scenarios" / "demo.yaml", write=False)


def test_demo_annual_plan_total_is_the_scheme_costs(demo_run) -> None:
    frames = demo_run.frames()
    tables = official_tables(
        frames, frames["communities"], plan_year=2027, title="示范县城关片区", district="示范县"
    )
    plan = frames["plan"]
    rollout = frames["rollout"]
    ids = set(plan.loc[plan["selected"].astype(bool), "community_id"]) | set(
        rollout.loc[rollout["start_year"] == 2027, "community_id"]
    )
    annual = tables["年度改造计划表"]
    layer = frames["communities"].set_index("community_id")
    assert sorted(annual["小区名称"].iloc[:-1]) == sorted(layer.loc[sorted(ids), "name"])
    costs = frames["scheme_costs"]
    expected = costs.loc[costs["community_id"].isin(ids), "cost_wan_yuan"].sum()
    assert _total(annual)["总投资（万元）"] == pytest.approx(expected, abs=0.01)
    assert _total(tables["分街道汇总"])["总投资（万元）"] == pytest.approx(expected, abs=0.01)


def test_district_column_is_read_under_its_chinese_names() -> None:
    for alias in ("县区", "区县", "所属县区", "县（市、区）"):
        layer = gpd.GeoDataFrame(
            {
                "小区编号": ["C1"],
                "小区名称": ["甲"],
                "建成年份": [1990],
                "户数": [10],
                alias: ["示范县"],
            },
            geometry=[box(500_000, 3_400_000, 500_100, 3_400_100)],
            crs=4547,
        )
        read, _ = check_layer(layer, "communities")
        assert read is not None
        assert read["district"].tolist() == ["示范县"], alias
