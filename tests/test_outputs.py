"""The run folder: the registry of result tables, the writers and the one reader."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import geopandas as gpd
import openpyxl
import pandas as pd
import pyogrio
import pytest

from gisplan import outputs, run_scenario
from gisplan.errors import LayerError, OutputError
from gisplan.layers import LAYER_KINDS
from gisplan.report import is_rate
from gisplan.vocabulary import column_label

from _fixtures import write_access_project


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished run of the three-square access project (no maps: no assets needed)."""
    folder = tmp_path_factory.mktemp("outputs")
    out = folder / "运行结果"
    run_scenario(write_access_project(folder / "in"), out=out)
    return out


def test_registry_is_complete_and_consistent() -> None:
    tables = outputs.result_tables()
    assert list(tables)[:3] == ["eligibility", "scheme_costs", "schemes"]  # workbook order
    sheets = [t.sheet_zh for t in tables.values() if t.sheet_zh]
    assert len(sheets) == len(set(sheets))  # one table per sheet
    assert all(len(s) <= 31 for s in sheets)  # Excel's limit
    assert {t.step for t in tables.values()} == {
        "access",
        "siting",
        "eligibility",
        "schemes",
        "finance",
        "plan",
    }
    assert not set(tables) & set(LAYER_KINDS)  # a result never shadows an input layer
    for spec in tables.values():
        assert spec.description_zh, spec.key
        assert all(column_label(c) != c for c in spec.totals), spec.key
        # 合计 adds money, areas and counts — never a rate, share or score
        assert not [c for c in spec.totals if "per_" in c or "share" in c], spec.key
    assert "cost_per_m2_yuan" not in tables["scheme_costs"].totals
    assert not [c for spec in tables.values() for c in spec.totals if is_rate(c)]
    # the scheme-cost rate is weighted in 合计: total cost over total floor area
    assert tables["scheme_costs"].weighted == (("cost_per_m2_yuan", "cost_yuan", "floor_area_m2"),)


def test_for_people_drops_code_twins_and_shows_labels() -> None:
    table = pd.DataFrame(
        {
            "community_id": ["C1"],
            "status": ["eligible"],
            "status_zh": ["符合条件"],
            "rule_land": ["fail"],
            "class": ["basic"],
            "mode": ["large_area"],
            "selection_code": ["over_budget"],
            "selection_reason": ["超出预算"],
            "payer": ["someone_else"],  # not a code of the domain: kept as it is
        }
    )
    shown = outputs.for_people(table)
    assert list(shown.columns) == [
        "community_id",
        "status_zh",
        "rule_land",
        "class",
        "mode",
        "selection_reason",
        "payer",
    ]
    assert shown.iloc[0].tolist() == [
        "C1",
        "符合条件",
        "不符合",
        "基础类",
        "大片区统筹平衡",
        "超出预算",
        "someone_else",
    ]
    assert table["status"].tolist() == ["eligible"]  # the input is left alone


def test_write_and_read_back_a_run(run: Path) -> None:
    result = outputs.read_run(run)
    assert result.scenario is None
    assert result.parameters["name"] == "t"
    assert result.title == "t"
    assert result.crs.to_epsg() == 4548
    assert set(result.layers) == {"communities", "facilities", "network", "entrances"}
    assert set(result.results) == {
        "origins",
        "network_pieces",
        "gaps",
        "community_gaps",
        "coverage",
    }
    gaps = result.results["gaps"]
    assert list(gaps.columns) == pd.read_csv(run / "tables" / "gaps.csv").columns.tolist()
    assert isinstance(result.results["community_gaps"], gpd.GeoDataFrame)
    assert result.section("access")["types"] == ["kindergarten", "primary_school"]
    assert result.section("siting") == {}
    assert sorted(result.frames())[:2] == ["communities", "community_gaps"]


def test_read_run_reads_a_layer_only_when_used(run: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = pyogrio.read_dataframe

    def counting(path: Path, layer: str, **kwargs: object) -> pd.DataFrame:
        calls.append(layer)
        return real(path, layer=layer, **kwargs)  # type: ignore[no-any-return]

    monkeypatch.setattr(pyogrio, "read_dataframe", counting)
    result = outputs.read_run(run)
    assert calls == []
    result.results["coverage"]
    result.results["coverage"]
    assert calls == ["coverage"]


def test_workbook_and_csv_follow_the_registry(run: Path) -> None:
    book = openpyxl.load_workbook(run / "results.xlsx")
    assert book.sheetnames == ["目录", "覆盖率", "小区缺口", "缺口明细"]  # index, registry order
    header = [c.value for c in book["缺口明细"][1]]
    # name and 街道 from the communities layer, then the type (its code has a Chinese twin)
    assert header[:4] == ["小区编号", "小区名称", "街道", "设施类型"]
    assert "步行距离（m）" in header
    assert all(not str(h).isascii() for h in header)  # no English header left
    index = list(book["目录"].iter_rows(values_only=True))
    assert index[0] == ("工作表", "内容说明", "行数")
    specs = outputs.result_tables()
    gpkg_rows = {k: len(gpd.read_file(run / "results.gpkg", layer=k)) for k in ("coverage",)}
    assert [r[0] for r in index[1:]] == book.sheetnames[1:]  # every sheet listed, in order
    assert index[1] == ("覆盖率", specs["coverage"].description_zh, gpkg_rows["coverage"])
    for name, _, rows in index[1:]:
        assert book[name].max_row - 1 == rows  # no 合计 row on these sheets
    # origins have no sheet (for maps) but a CSV and a GeoPackage layer
    assert (run / "tables" / "origins.csv").is_file()
    with (run / "tables" / "coverage.csv").open(encoding="utf-8-sig") as f:
        assert next(csv.reader(f))[0] == "type"  # CSV keeps the codes: tables for programs


def test_read_run_errors(tmp_path: Path, run: Path) -> None:
    with pytest.raises(OutputError, match="does not exist or is not a folder"):
        outputs.read_run(tmp_path / "nothing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(OutputError, match=r"run\.json and results\.gpkg missing"):
        outputs.read_run(tmp_path / "empty")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "results.gpkg").write_bytes((run / "results.gpkg").read_bytes())
    (broken / "run.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(OutputError, match=r"run.json: cannot read the scenario parameters"):
        outputs.read_run(broken)
    (broken / "run.json").write_text(json.dumps({"scenario": {"parameters": {}}}), "utf-8")
    (broken / "results.gpkg").write_bytes(b"not a geopackage")
    with pytest.raises(LayerError, match="not a readable GeoPackage"):
        outputs.read_run(broken)


def test_info_table_is_key_value_text() -> None:
    table = outputs.info_table({"status": "optimal", "chosen": 12, "gap": None})
    assert table.to_numpy().tolist() == [["status", "optimal"], ["chosen", "12"], ["gap", "None"]]


def test_for_people_shows_information_tables_in_chinese() -> None:
    info = outputs.info_table(
        {
            "status": "optimal",
            "solver_message": "Optimization terminated successfully.",
            "order": "self_balance,large_area",
            "allow_gap": False,
            "budget_wan_yuan": None,
            "pool_utility_used_wan_yuan": 817.2,
            "large_area_method": "heuristic, proven by the bound",
        }
    )
    shown = outputs.for_people(info).to_numpy().tolist()
    assert shown == [
        ["求解状态", "最优解"],  # the solver's own English message is left out
        ["资金平衡模式顺序", "小区内自求平衡、大片区统筹平衡"],
        ["允许带资金缺口纳入", "否"],
        ["年度预算（万元）", ""],
        ["资金池专营单位已用资金（万元）", "817.2"],
        ["大片区统筹求解方法", "启发式算法（经上界证明最优）"],
    ]


def test_for_people_names_facility_types_and_solver_codes() -> None:
    table = pd.DataFrame(
        {
            "type": ["kindergarten", "own_type"],
            "model": ["mclp", "lscp+capacity"],
            "solver_status": ["optimal", "infeasible"],
            "solved_with": ["kindergarten、nursery", ""],
        }
    )
    names = {"kindergarten": "幼儿园", "nursery": "托儿所"}
    shown = outputs.for_people(table, type_names=names).to_numpy().tolist()
    assert shown == [
        ["幼儿园", "最大覆盖模型（MCLP）", "最优解", "幼儿园、托儿所"],
        ["own_type", "集合覆盖模型（LSCP，含设施容量）", "无可行解", ""],
    ]


def test_workbook_rows_get_community_or_project_names() -> None:
    layers = {
        "communities": pd.DataFrame(
            {"community_id": ["C1", "C2"], "name": ["甲苑", "乙苑"], "street": ["东街道", None]}
        ),
        "projects": pd.DataFrame({"project_id": ["P1"], "name": ["旧厂区更新"]}),
    }
    table = pd.DataFrame({"community_id": ["C2", "C1"], "name": ["旧", "旧"], "x": [1, 2]})
    named = outputs._with_names(table, layers)
    assert named.columns.tolist() == ["community_id", "community_name", "street", "x"]
    assert named.to_numpy().tolist() == [["C2", "乙苑", "", 1], ["C1", "甲苑", "东街道", 2]]
    members = pd.DataFrame({"unit_id": ["C1", "P1", "B9"], "unit_kind": ["c", "p", "b"]})
    named = outputs._with_names(members, layers)
    assert named.columns.tolist() == ["unit_id", "unit_name", "street", "unit_kind"]
    assert named[["unit_name", "street"]].to_numpy().tolist() == [
        ["甲苑", "东街道"],
        ["旧厂区更新", ""],
        ["", ""],
    ]
    assert table.columns.tolist() == ["community_id", "name", "x"]  # input unchanged
