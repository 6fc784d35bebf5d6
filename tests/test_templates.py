"""Tests for gisplan.templates: survey workbook, empty GeoPackage, scenario."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import openpyxl
import pandas as pd
import pyogrio
import pytest
import yaml
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from shapely.geometry import Point

from gisplan import layers as glayers
from gisplan import run_scenario, validate_scenario
from gisplan.errors import GisplanWarning, OutputError
from gisplan.templates import (
    LAYERS_FILE,
    SCENARIO_FILE,
    SURVEY_FILE,
    header_label,
    write_templates,
)

COMMUNITIES = [
    # id, name, built_year, households, lon, lat (inside the demo district, CGCS2000)
    ("C101", "纺织厂宿舍", 1985, 320, 117.8912, 35.0961),
    ("C102", "粮食局家属院", 1992, 150, 117.8987, 35.1003),
    ("C103", "幸福里小区", 2001, 880, 117.9064, 35.1049),
]
FACILITIES = [("F1", "kindergarten", 117.8950, 35.0990), ("F2", "幼儿园", 117.9030, 35.1020)]


@pytest.fixture
def templates(tmp_path: Path) -> list[Path]:
    return write_templates(tmp_path / "模板")


def _headers(ws: Worksheet) -> list[str]:
    return [str(c.value) for c in ws[1] if c.value is not None]


def _fill(ws: Worksheet, rows: list[dict[str, object]]) -> None:
    """Overwrite the example row and below with ``rows`` keyed by header."""
    headers = _headers(ws)
    for r, values in enumerate(rows, start=2):
        for c, head in enumerate(headers, start=1):
            ws.cell(row=r, column=c).value = values.get(head)


def _square_wkt(lon: float, lat: float) -> str:
    d = 0.0015
    ring = [(lon, lat), (lon + d, lat), (lon + d, lat + d), (lon, lat + d), (lon, lat)]
    return "POLYGON((" + ", ".join(f"{x} {y}" for x, y in ring) + "))"


def test_writes_three_files(tmp_path: Path) -> None:
    out = write_templates(tmp_path / "模板")
    assert [p.name for p in out] == [SURVEY_FILE, LAYERS_FILE, SCENARIO_FILE]
    assert all(p.is_file() for p in out)
    assert sorted(p.name for p in (tmp_path / "模板").iterdir()) == sorted(p.name for p in out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["模板"]  # no staging folder left


def test_workbook_sheets_and_headers(templates: list[Path]) -> None:
    book = openpyxl.load_workbook(templates[0])
    assert book.sheetnames == ["说明", "小区", "设施", "资金落实", "经营性设施", "设施类型"]
    schema = glayers.layer_schema("communities")
    expected = [header_label(s) for s in schema.columns]
    assert _headers(book["小区"]) == [*expected, "经度", "纬度", "wkt"]
    assert "建筑面积（m²）" in expected
    assert "户数（户）" in expected
    fac = [header_label(s) for s in glayers.layer_schema("facilities").columns]
    assert _headers(book["设施"]) == [*fac, "经度", "纬度"]


@pytest.mark.parametrize("kind", ["communities", "facilities"])
def test_every_header_maps_back_to_its_column(kind: str) -> None:
    schema = glayers.layer_schema(kind)
    frame = gpd.GeoDataFrame(
        {header_label(s): [s.example or None] for s in schema.columns},
        geometry=[Point(117.9, 35.1)],
        crs=4490,
    )
    out, _ = glayers.check_layer(frame, kind)
    assert [c for c in out.columns if c != "geometry"] == list(schema.names)


def test_example_row_comments_and_dropdowns(templates: list[Path]) -> None:
    ws = openpyxl.load_workbook(templates[0])["小区"]
    headers = _headers(ws)
    example = {h: ws.cell(row=2, column=i).value for i, h in enumerate(headers, start=1)}
    assert example["小区编号"] == "C001"
    assert example["建成年份（年）"] == 1995
    assert example["户数（户）"] == 320
    assert example["土地性质"] == "国有"
    assert ws.freeze_panes == "A2"
    assert ws.cell(row=1, column=1).font.bold
    assert "唯一编号" in ws.cell(row=1, column=1).comment.text
    tenure = get_letter(headers, "土地性质")
    lists = {dv.formula1: str(dv.sqref) for dv in ws.data_validations.dataValidation}
    assert lists['"国有,集体,其他"'].startswith(f"{tenure}2:")
    assert '"是,否"' in lists
    assert '"储备,新开工,在建,竣工"' in lists
    facilities = openpyxl.load_workbook(templates[0])["设施"]
    formulas = [dv.formula1 for dv in facilities.data_validations.dataValidation]
    assert formulas == ["'设施类型'!$A$2:$A$32"]


def get_letter(headers: list[str], header: str) -> str:
    return str(get_column_letter(headers.index(header) + 1))


def test_instructions_state_datum_and_codes(templates: list[Path]) -> None:
    book = openpyxl.load_workbook(templates[0])
    text = "\n".join(str(r[0].value) for r in book["说明"].iter_rows() if r[0].value)
    assert "CGCS2000" in text
    assert "一行 = 一个小区" in text
    assert "wkt" in text
    codes = [r[0].value for r in book["设施类型"].iter_rows(min_row=2)]
    assert len(codes) == 31
    assert "kindergarten" in codes


def test_filled_workbook_reads_back(templates: list[Path]) -> None:
    book = openpyxl.load_workbook(templates[0])
    _fill(
        book["小区"],
        [
            {
                "小区编号": cid,
                "小区名称": name,
                "建成年份（年）": year,
                "户数（户）": households,
                "wkt": _square_wkt(lon, lat),
            }
            for cid, name, year, households, lon, lat in COMMUNITIES
        ],
    )
    _fill(
        book["设施"],
        [{"设施编号": f, "设施类型": t, "经度": x, "纬度": y} for f, t, x, y in FACILITIES],
    )
    book.save(templates[0])

    comm = glayers.read_layer(templates[0], "communities", layer="小区", datum="CGCS2000")
    assert comm["community_id"].tolist() == ["C101", "C102", "C103"]
    assert comm["name"].tolist() == [c[1] for c in COMMUNITIES]
    assert comm["built_year"].tolist() == [1985, 1992, 2001]
    assert comm["households"].tolist() == [320, 150, 880]
    assert comm.crs.to_epsg() == 4490
    assert comm.geometry.geom_type.eq("Polygon").all()
    assert comm.geometry.iloc[0].bounds[:2] == pytest.approx((117.8912, 35.0961))

    fac = glayers.read_layer(templates[0], "facilities", layer="设施", datum="CGCS2000")
    assert fac["facility_id"].tolist() == ["F1", "F2"]
    assert fac["type"].tolist() == ["kindergarten", "kindergarten"]
    assert (fac.geometry.x.iloc[1], fac.geometry.y.iloc[1]) == pytest.approx((117.903, 35.102))

    # the template's own scenario runs end to end on the filled workbook
    result = run_scenario(templates[2], out=templates[0].parent / "out")
    assert result.report.ok
    assert result.report.warnings == []
    assert result.crs.to_epsg() == 4548  # CGCS2000 3-degree GK zone of 117.9E
    # 0.0015° squares at 35.1°N: 136.8 m (longitude) x 166.4 m (latitude) on the ellipsoid,
    # times the Gauss-Krüger area scale (1.00017 at 0.9° from the central meridian)
    assert result.layers["communities"].area.tolist() == pytest.approx([22_760] * 3, abs=20)
    assert (templates[0].parent / "out" / "results.gpkg").is_file()


def test_unfilled_template_flags_its_example_rows(templates: list[Path]) -> None:
    report = validate_scenario(templates[2])
    assert report.ok  # warnings only
    examples = [(i.layer, i.row) for i in report.warnings if "example row" in i.problem]
    assert examples == [("communities", "C001"), ("facilities", "F001")]


def test_communities_as_lon_lat_points_read_back(templates: list[Path]) -> None:
    book = openpyxl.load_workbook(templates[0])
    _fill(
        book["小区"],
        [
            {
                "小区编号": cid,
                "小区名称": n,
                "建成年份（年）": y,
                "户数（户）": h,
                "经度": x,
                "纬度": la,
            }
            for cid, n, y, h, x, la in COMMUNITIES
        ],
    )
    book.save(templates[0])
    gdf, report = glayers.validate_layer(
        templates[0], "communities", layer="小区", datum="CGCS2000"
    )
    assert report.ok, report.format()
    assert gdf is not None
    assert gdf["households"].tolist() == [320, 150, 880]


def test_geopackage_has_empty_typed_layers(templates: list[Path]) -> None:
    listed = dict(pyogrio.list_layers(templates[1]))
    assert listed == {
        "communities": "Polygon",
        "facilities": "Point",
        "network": "LineString",
        "projects": "Polygon",
        "sites": "Polygon",
        "entrances": "Point",
        "buildings": "Polygon",
        "barriers": "LineString",
        "commitments": None,  # attribute tables: no geometry, no CRS
        "revenues": None,
    }
    for kind in glayers.LAYER_KINDS:
        info = pyogrio.read_info(templates[1], layer=kind)
        assert info["features"] == 0
        assert list(info["fields"]) == list(glayers.layer_schema(kind).names)
        assert info["crs"] == (None if kind in glayers.TABLE_KINDS else "EPSG:4490")
    info = pyogrio.read_info(templates[1], layer="communities")
    dtypes = dict(zip(info["fields"], info["dtypes"], strict=True))
    assert dtypes["built_year"] == "int64"
    assert dtypes["floor_area_m2"] == "float64"
    assert dtypes["demolition_planned"] == "bool"
    assert dtypes["name"] == "object"


def test_table_sheets_headers_examples_and_dropdowns(templates: list[Path]) -> None:
    book = openpyxl.load_workbook(templates[0])
    ws = book["资金落实"]
    headers = _headers(ws)  # a table: no coordinate columns
    assert headers == [header_label(s) for s in glayers.layer_schema("commitments").columns]
    assert headers[:6] == [
        "资金落实编号", "资金来源", "出资单位", "金额（万元）", "到位年份（年）", "文号/协议编号",
    ]  # fmt: skip
    example = {h: ws.cell(row=2, column=i).value for i, h in enumerate(headers, start=1)}
    assert example["资金来源"] == "市县财政资金"
    assert example["金额（万元）"] == 120
    assert example["到位年份（年）"] == 2026
    assert "留空表示全县统筹" in ws.cell(row=1, column=headers.index("小区编号") + 1).comment.text
    lists = {dv.formula1: str(dv.sqref) for dv in ws.data_validations.dataValidation}
    sources = (
        '"中央预算内投资,中央财政专项资金,省级财政资金,市县财政资金,土地出让收益,部门资金整合,'
    )
    sources += "国有住房出售收入存量资金,地方政府专项债券,金融信贷,专营单位,原产权单位,居民出资,"
    sources += '住宅专项维修资金,住房公积金,社会资本,小区经营性收益"'
    assert lists == {sources: "B2:B2001"}
    assert len(sources) <= 255  # Excel's limit for a list typed in the rule
    ws = book["经营性设施"]
    assert _headers(ws) == [header_label(s) for s in glayers.layer_schema("revenues").columns]
    lists = {dv.formula1: str(dv.sqref) for dv in ws.data_validations.dataValidation}
    assert lists == {'"停车,电梯,商铺,养老,托育,充电,广告,其他"': "C2:C2001"}
    survey = _headers(book["小区"])
    assert {"住宅专项维修资金余额（万元）", "专营设施产权属专营单位"} <= set(survey)
    text = "\n".join(str(r[0].value) for r in book["说明"].iter_rows() if r[0].value)
    assert "「资金落实」一行 = 一笔已落实的资金" in text
    assert "金额一律填万元" in text


@pytest.mark.parametrize("kind", ["commitments", "revenues"])
def test_every_table_header_maps_back_to_its_column(kind: str) -> None:
    schema = glayers.layer_schema(kind)
    frame = pd.DataFrame({header_label(s): [s.example or None] for s in schema.columns})
    out, report = glayers.check_layer(frame, kind)
    assert list(out.columns) == list(schema.names)
    other = schema.column("payer_name" if kind == "commitments" else "name").example
    assert [i.problem for i in report.warnings] == [
        f"this is the survey template's example row ({out.iloc[0, 0]} {other})"
    ]
    assert report.ok


def test_filled_table_sheets_are_read_and_run(templates: list[Path]) -> None:
    book = openpyxl.load_workbook(templates[0])
    _fill(
        book["小区"],
        [
            {
                "小区编号": c,
                "小区名称": n,
                "建成年份（年）": y,
                "户数（户）": h,
                "wkt": _square_wkt(x, la),
            }
            for c, n, y, h, x, la in COMMUNITIES
        ],
    )
    _fill(book["设施"], [{"设施编号": "F1", "设施类型": "幼儿园", "经度": 117.895, "纬度": 35.099}])
    _fill(
        book["资金落实"],
        [
            {
                "资金落实编号": "ZJ1",
                "资金来源": "中央财政专项资金",
                "出资单位": "县住房和城乡建设局",
                "金额（万元）": 210,
                "到位年份（年）": 2026,
                "文号/协议编号": "示建发〔2026〕2号",
                "小区编号": "C101",
                "支付改造内容（清单编号）": "1、2",
            },
            {
                "资金落实编号": "ZJ2",
                "资金来源": "地方政府专项债券",
                "出资单位": "县财政局",
                "金额（万元）": 500,
                "到位年份（年）": "2027年",
                "文号/协议编号": "示财债〔2026〕1号",
            },
        ],
    )
    _fill(
        book["经营性设施"],
        [
            {
                "经营性设施编号": "SY1",
                "小区编号": "C103",
                "经营类型": "充电",
                "建设投资（万元）": 40,
                "年净收益（万元）": 6.5,
                "开始收益年份（年）": 2027,
                "收益年限（年）": 10,
            }
        ],
    )
    book.save(templates[0])
    commitments = glayers.read_layer(templates[0], "commitments")  # sheet 资金落实 by name
    assert type(commitments) is pd.DataFrame
    assert commitments["source"].tolist() == ["central_special_fund", "special_bonds"]
    assert commitments["amount_wan_yuan"].tolist() == [210.0, 500.0]
    assert commitments["year"].tolist() == [2026, 2027]
    assert commitments["items"].tolist() == [(1, 2), ()]
    revenues = glayers.read_layer(templates[0], "revenues", layer="经营性设施")
    assert revenues[["revenue_id", "kind", "years"]].to_numpy().tolist() == [
        ["SY1", "charging", 10]
    ]

    scenario = templates[2]
    text = scenario.read_text(encoding="utf-8")
    text = text.replace("  # commitments:", "  commitments:").replace(
        "  # revenues:", "  revenues:"
    )
    scenario.write_text(text, encoding="utf-8")
    result = run_scenario(scenario, out=templates[0].parent / "out")
    assert result.report.ok
    assert result.report.warnings == []
    assert type(result.layers["commitments"]) is pd.DataFrame  # no CRS, never reprojected
    assert result.layers["revenues"]["community_id"].tolist() == ["C103"]
    listed = dict(pyogrio.list_layers(templates[0].parent / "out" / "results.gpkg"))
    assert listed["commitments"] is None  # written as attribute tables
    assert listed["revenues"] is None


def test_unfilled_table_sheets_flag_their_example_rows(templates: list[Path]) -> None:
    scenario = templates[2]
    text = scenario.read_text(encoding="utf-8")
    text = text.replace("  # commitments:", "  commitments:").replace(
        "  # revenues:", "  revenues:"
    )
    scenario.write_text(text, encoding="utf-8")
    report = validate_scenario(scenario)
    assert report.ok
    examples = [(i.layer, i.row) for i in report.warnings if "example row" in i.problem]
    assert examples == [
        ("communities", "C001"),
        ("facilities", "F001"),
        ("commitments", "ZJ001"),
        ("revenues", "SY001"),
    ]


def test_empty_geopackage_tables_read_as_tables(templates: list[Path]) -> None:
    with pytest.warns(GisplanWarning, match="the layer has no rows"):
        table = glayers.read_layer(templates[1], "commitments")
    assert type(table) is pd.DataFrame
    assert list(table.columns) == list(glayers.layer_schema("commitments").names)


def test_scenario_points_at_workbook(templates: list[Path]) -> None:
    text = templates[2].read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    assert data["datum"] == "CGCS2000"
    assert data["layers"]["communities"]["path"] == SURVEY_FILE
    assert data["layers"]["communities"]["layer"] == "小区"
    assert data["layers"]["facilities"] == {"path": SURVEY_FILE, "layer": "设施"}
    assert "方案名称" in text
    assert "scenario name" in text


def test_non_empty_folder_is_left_untouched(tmp_path: Path) -> None:
    folder = tmp_path / "模板"
    folder.mkdir()
    keep = folder / "我的调查.xlsx"
    keep.write_bytes(b"not a template")
    with pytest.raises(OutputError, match=r"not empty.*--overwrite"):
        write_templates(folder)
    assert [p.name for p in folder.iterdir()] == ["我的调查.xlsx"]
    assert keep.read_bytes() == b"not a template"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["模板"]


def test_overwrite_replaces_only_template_files(tmp_path: Path) -> None:
    folder = tmp_path / "模板"
    write_templates(folder)
    (folder / SCENARIO_FILE).write_text("name: edited\n", encoding="utf-8")
    (folder / "notes.txt").write_text("keep me", encoding="utf-8")
    out = write_templates(folder, overwrite=True)
    assert "datum: CGCS2000" in out[2].read_text(encoding="utf-8")
    assert (folder / "notes.txt").read_text(encoding="utf-8") == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["模板"]


def test_existing_empty_folder_is_used(tmp_path: Path) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    out = write_templates(folder)
    assert all(p.parent == folder for p in out)


def test_file_in_the_way_raises(tmp_path: Path) -> None:
    path = tmp_path / "t"
    path.write_text("x", encoding="utf-8")
    with pytest.raises(OutputError, match="is a file"):
        write_templates(path)
