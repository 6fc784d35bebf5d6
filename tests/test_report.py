from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import openpyxl
import pandas as pd
from shapely.geometry import Point

from gisplan.report import write_workbook


def test_workbook_headers_formats_and_values(tmp_path: Path) -> None:
    coverage = pd.DataFrame(
        {
            "type": ["kindergarten", "nursery"],
            "radius_m": [300.0, 300.0],
            "share_households": [0.25, float("nan")],
            "households": [1200, 80],
        }
    )
    gaps = gpd.GeoDataFrame(
        {"community_id": ["C1"], "missing_types": [("幼儿园", "托儿所")], "gap_score": [0.5]},
        geometry=[Point(0, 0)],
    )
    path = tmp_path / "结果.xlsx"
    labels = {"type": "设施类型", "radius_m": "半径（m）", "share_households": "覆盖户数比例"}
    write_workbook(path, {"覆盖率": coverage, "小区缺口": gaps}, labels=labels)

    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["覆盖率", "小区缺口"]
    ws = book["覆盖率"]
    assert [c.value for c in ws[1]] == ["设施类型", "半径（m）", "覆盖户数比例", "households"]
    assert [c.value for c in ws[2]] == ["kindergarten", 300, 0.25, 1200]
    assert ws["C3"].value is None  # NaN -> empty cell
    assert ws["C2"].number_format == "0.0%"
    assert ws["B2"].number_format == "#,##0"
    assert ws.freeze_panes == "A2"
    assert ws["A1"].font.bold
    ws2 = book["小区缺口"]
    # the geometry column is left out
    assert [c.value for c in ws2[1]] == ["community_id", "missing_types", "gap_score"]
    assert [c.value for c in ws2[2]] == ["C1", "幼儿园、托儿所", 0.5]


def test_labels_per_sheet(tmp_path: Path) -> None:
    table = pd.DataFrame({"cost_wan_yuan": [1.5]})
    path = tmp_path / "x.xlsx"
    write_workbook(
        path,
        {"方案": table, "资金": table},
        labels={
            "方案": {"cost_wan_yuan": "费用（万元）"},
            "资金": {"cost_wan_yuan": "总成本（万元）"},
        },
    )
    book = openpyxl.load_workbook(path)
    assert book["方案"]["A1"].value == "费用（万元）"
    assert book["资金"]["A1"].value == "总成本（万元）"


def test_totals_weight_rates_and_never_sum_them(tmp_path: Path) -> None:
    costs = pd.DataFrame(
        {
            "community_id": ["C1", "C2"],
            "cost_yuan": [100_000.0, 300_000.0],
            "floor_area_m2": [1_000.0, 3_000.0],
            "cost_per_m2_yuan": [100.0, 100.0],
            "share_households": [0.5, 0.5],
            "safety": [True, False],
        }
    )
    path = tmp_path / "t.xlsx"
    write_workbook(
        path,
        {"造价": costs},
        totals={"造价": ["cost_yuan", "floor_area_m2", "cost_per_m2_yuan", "share_households"]},
        weighted={"造价": {"cost_per_m2_yuan": ("cost_yuan", "floor_area_m2")}},
    )
    ws = openpyxl.load_workbook(path)["造价"]
    assert [c.value for c in ws[2]][-1] == "是"  # no TRUE/FALSE for a reader
    assert [c.value for c in ws[3]][-1] == "否"
    # 合计: 400,000 元 over 4,000 m² = 100 元/m² (the sum of the rates would be 200); the
    # share is a rate listed by mistake: left empty, never added up
    assert [c.value for c in ws[4]] == ["合计", 400_000, 4_000, 100, None, None]


def test_weighted_rate_without_its_columns_stays_empty(tmp_path: Path) -> None:
    table = pd.DataFrame({"id": ["a"], "cost_per_m2_yuan": [5.0], "floor_area_m2": [0.0]})
    path = tmp_path / "t.xlsx"
    write_workbook(
        path,
        {"表": table},
        totals={"表": ["floor_area_m2"]},
        weighted={"表": {"cost_per_m2_yuan": ("cost_yuan", "floor_area_m2")}},
    )
    assert [c.value for c in openpyxl.load_workbook(path)["表"][3]] == ["合计", None, 0]


def test_print_setup_a4_landscape_one_page_wide(tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    write_workbook(path, {"表": pd.DataFrame({"a": range(3)})})
    ws = openpyxl.load_workbook(path)["表"]
    assert ws.page_setup.orientation == "landscape"
    assert int(ws.page_setup.paperSize) == int(ws.PAPERSIZE_A4) == 9
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) == (1, 0)
    assert ws.print_title_rows == "$1:$1"  # the header row on every printed page
    assert ws.freeze_panes == "A2"
