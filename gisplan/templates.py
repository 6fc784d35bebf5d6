"""Blank templates a street office (街道) fills in from its survey (摸底调查).

:func:`write_templates` writes three files into one folder:

* ``survey_template.xlsx`` — sheets 小区 (one row = one community), 设施 (one row = one
  facility), 资金落实 (one row = one commitment of money: who pays how much, when, by which
  document) and 经营性设施 (one row = one revenue facility of a community) with Chinese
  headers, an example row, header comments, drop-downs, plus a sheet 说明 (how to fill it)
  and a sheet 设施类型 (the facility codes of the life-circle standard);
* ``layers_template.gpkg`` — one empty layer per kind with the canonical columns, in
  CGCS2000 geographic coordinates (EPSG:4490), for those who draw in QGIS/ArcGIS; the table
  kinds (commitments, revenues) are empty attribute tables (no geometry, no CRS);
* ``scenario.yaml`` — a commented scenario (Chinese and English) that reads the workbook.

Every header is ``label_zh`` of ``gisplan/data/layer_schema.csv`` with its unit in
full-width brackets (``建筑面积（m²）``); :mod:`gisplan.layers` maps it back to the canonical
column, so a filled workbook is read with
``gisplan.layers.read_layer(path, "communities", layer="小区", datum="CGCS2000")``.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd
import pyogrio
from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from gisplan._text import display_width
from gisplan.errors import LayerError, OutputError
from gisplan.layers import LAYER_KINDS, layer_schema
from gisplan.standards import load_standard

if TYPE_CHECKING:
    from collections.abc import Callable

    from openpyxl.worksheet.worksheet import Worksheet

    from gisplan.estimate import EstimateAssumptions
    from gisplan.layers import ColumnSpec
    from gisplan.poi import Provider

__all__ = [
    "DATA_ROWS",
    "LAYERS_FILE",
    "SCENARIO_FILE",
    "SHEETS",
    "SURVEY_FILE",
    "TEMPLATE_CRS",
    "header_label",
    "write_osm_scenario",
    "write_poi_scenario",
    "write_templates",
]

logger = logging.getLogger(__name__)

#: File names written by :func:`write_templates`.
SURVEY_FILE = "survey_template.xlsx"
LAYERS_FILE = "layers_template.gpkg"
SCENARIO_FILE = "scenario.yaml"
#: Sheet of the workbook for each layer kind it holds.
SHEETS: dict[str, str] = {
    "communities": "小区",
    "facilities": "设施",
    "commitments": "资金落实",
    "revenues": "经营性设施",
}
#: CRS of the GeoPackage template and datum of the workbook's coordinates.
TEMPLATE_CRS = "EPSG:4490"
#: Rows (below the header) that get drop-downs in the workbook.
DATA_ROWS = 2000

_COORD_HEADERS: dict[str, tuple[str, ...]] = {
    "communities": ("经度", "纬度", "wkt"),
    "facilities": ("经度", "纬度"),
}
_COORD_NOTES = {
    "经度": "经度（东经，十进制度），CGCS2000 坐标系，如 117.912345；小区可填大门或中心点",
    "纬度": "纬度（北纬，十进制度），CGCS2000 坐标系，如 35.101234",
    "wkt": (
        "可选：小区边界的 WKT 多边形（CGCS2000 经纬度），如 "
        "POLYGON((117.90 35.10, 117.91 35.10, 117.91 35.11, 117.90 35.10))；"
        "注意：填写了 wkt 列时以 wkt 为准"
    ),
}
_EXAMPLE_LONLAT = {"communities": (117.9012, 35.1023), "facilities": (117.9034, 35.1011)}
#: Geometry type of each GeoPackage layer; ``None``: an attribute table (the table kinds).
_GEOMETRY_TYPE: dict[str, str | None] = {
    "communities": "Polygon",
    "facilities": "Point",
    "network": "LineString",
    "projects": "Polygon",
    "sites": "Polygon",
    "entrances": "Point",
    "buildings": "Polygon",
    "barriers": "LineString",
    "commitments": None,
    "revenues": None,
}
_PANDAS_DTYPE = {
    "str": "object",
    "enum": "object",
    "list": "object",
    "int": "int64",
    "year": "int64",
    "date": "datetime64[ns]",
    "float": "float64",
    "rate": "float64",
    "bool": "bool",
}
_DTYPE_ZH = {
    "str": "文本",
    "enum": "文本（下拉选择）",
    "list": "清单编号（顿号分隔）",
    "int": "整数",
    "year": "年份（四位数）",
    "date": "日期（如 2026-10-09）",
    "float": "数值",
    "rate": "百分数（0–100）或小数（0–1）",
    "bool": "是 / 否（下拉选择）",
}
_HEADER_FONT = Font(bold=True)
_REQUIRED_FILL = PatternFill("solid", fgColor="FFF2CC")
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_EXAMPLE_FONT = Font(italic=True, color="808080")


def header_label(spec: ColumnSpec) -> str:
    """Return the workbook header of a column: Chinese label, unit in full-width brackets.

    Parameters
    ----------
    spec
        A column of :func:`gisplan.layers.layer_schema`.

    Returns
    -------
    str
        ``label_zh`` alone, or ``label_zh（unit）`` when the column has a unit.

    Examples
    --------
    >>> schema = gisplan.layers.layer_schema("communities")
    >>> [header_label(schema.column(c)) for c in ("name", "floor_area_m2")]
    ['小区名称', '建筑面积（m²）']
    """
    return f"{spec.label_zh}（{spec.unit}）" if spec.unit else spec.label_zh


def _example_value(spec: ColumnSpec) -> str | float | None:
    """Return the schema example as the cell value of its type (numbers stay numbers)."""
    text = spec.example
    if not text:
        return None
    if spec.dtype in {"int", "year"}:
        return int(text)
    if spec.dtype in {"float", "rate"}:
        number = float(text)
        return int(number) if number.is_integer() else number
    return text


def _data_sheet(book: Workbook, kind: str) -> None:
    """Add the sheet of one layer kind: header, example row, comments, drop-downs."""
    schema = layer_schema(kind)
    ws: Worksheet = book.create_sheet(SHEETS[kind])
    specs = schema.columns
    coords = _COORD_HEADERS.get(kind, ())  # the table kinds have no coordinates
    headers = [header_label(s) for s in specs] + list(coords)
    example = [_example_value(s) for s in specs] + list(_EXAMPLE_LONLAT.get(kind, ()))
    ws.append(headers)
    ws.append(example)
    last = DATA_ROWS + 1
    for col, spec in enumerate(specs, start=1):
        cell = ws.cell(row=1, column=col)
        lines = [spec.description_zh or spec.label_zh, f"字段名：{spec.name}"]
        lines.append(f"类型：{_DTYPE_ZH[spec.dtype]}")
        if spec.unit:
            lines.append(f"单位：{spec.unit}")
        if spec.allowed:
            lines.append(f"可选值：{' / '.join(spec.choices)}")
        lines.append("必填" if spec.required else "选填")
        cell.comment = Comment("\n".join(lines), "gisplan", height=160, width=260)
        cell.fill = _REQUIRED_FILL if spec.required else _HEADER_FILL
        letter = get_column_letter(col)
        if spec.allowed:  # a vocabulary column offers its Chinese labels (资金来源)
            dv = DataValidation(
                type="list", formula1='"' + ",".join(spec.choices) + '"', allow_blank=True
            )
            dv.error = f"请从下拉列表中选择：{' / '.join(spec.choices)}"
            dv.errorTitle = spec.label_zh
            ws.add_data_validation(dv)
            dv.add(f"{letter}2:{letter}{last}")
        if kind == "facilities" and spec.name == "type":
            codes = len(load_standard())
            dv = DataValidation(
                type="list", formula1=f"'设施类型'!$A$2:$A${codes + 1}", allow_blank=True
            )
            dv.showErrorMessage = False  # Chinese names (幼儿园) are accepted too
            ws.add_data_validation(dv)
            dv.add(f"{letter}2:{letter}{last}")
    first_coord = len(specs) + 1
    for offset, name in enumerate(coords):
        cell = ws.cell(row=1, column=first_coord + offset)
        cell.comment = Comment(_COORD_NOTES[name], "gisplan", height=120, width=260)
        cell.fill = _HEADER_FILL
    for col, text in enumerate(headers, start=1):
        head = ws.cell(row=1, column=col)
        head.font = _HEADER_FONT
        head.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        ws.cell(row=2, column=col).font = _EXAMPLE_FONT
        ws.column_dimensions[get_column_letter(col)].width = max(display_width(text) + 4.0, 10.0)
    if "wkt" in coords:
        ws.column_dimensions[get_column_letter(len(headers))].width = 40.0
    ws.freeze_panes = "A2"


def _codes_sheet(book: Workbook) -> None:
    """Add the sheet listing the facility codes of the packaged life-circle standard."""
    table = load_standard()
    ws: Worksheet = book.create_sheet("设施类型")
    ws.append(["设施类型代码", "设施名称", "生活圈层级", "服务半径（m）"])
    for code, row in table.iterrows():
        radius = row["radius_m"]
        ws.append([str(code), str(row["name_zh"]), str(row["level"]), float(radius)])
    for col, width in enumerate((28, 48, 14, 14), start=1):
        ws.column_dimensions[get_column_letter(col)].width = width
        ws.cell(row=1, column=col).font = _HEADER_FONT
    ws.freeze_panes = "A2"


_INSTRUCTIONS = (
    "老旧小区摸底调查表 填写说明（gisplan）",
    "",
    (
        "1. 本工作簿有四张数据表：「小区」一行 = 一个小区；「设施」一行 = 一个设施；"
        "「资金落实」一行 = 一笔已落实的资金（出资单位、金额、到位年份、文号或协议编号）；"
        "「经营性设施」一行 = 小区内一处有收益的设施"
        "（停车、电梯、商铺、养老、托育、充电、广告等）。"
    ),
    (
        "2. 第 1 行是表头，请勿修改、删除或调换顺序；第 2 行（灰色斜体）是示例，"
        "填写时请直接覆盖或删除该行。"
    ),
    "3. 浅黄色表头为必填项，浅蓝色为选填项；鼠标停在表头上可看说明、单位和可选值。",
    (
        "4. 坐标系（datum）：CGCS2000（国家 2000 大地坐标系，EPSG:4490）经纬度，十进制度，"
        "如 经度 117.912345、纬度 35.101234。"
    ),
    "   小区可只填大门或中心点的经度/纬度；如有边界，请在 wkt 列填 WKT 多边形（同一坐标系），如",
    "   POLYGON((117.90 35.10, 117.91 35.10, 117.91 35.11, 117.90 35.10))；",
    "   填写了 wkt 列时以 wkt 为准。",
    (
        "   不要直接粘贴高德/腾讯（GCJ-02）或百度（BD-09）地图拾取的坐标；"
        "若只能用这些坐标，请在 scenario.yaml 中把 datum 改为 GCJ-02 或 BD-09。"
    ),
    "5. 数值列只填数字，单位见表头括号（户、人、m²、万元、%），不要写单位或文字说明。",
    "6. 是/否、土地性质、项目状态、资金来源、经营类型等列请用下拉选择。",
    "7. 清单编号（改造需求、已获中央补助改造内容）用顿号分隔，如 1、3、5；编号见改造内容清单。",
    "8. 居民参与率、同意率填百分数（如 75 表示 75%），也可填 0–1 的小数。",
    "9. 设施类型填「设施类型」表中的代码（如 kindergarten）或中文名称（如 幼儿园）。",
    "10. 调查中确实不知道的数值留空即可，不要填 0。",
    (
        "    金额一律填万元（如 120 表示 120 万元），不要填元；「资金落实」只填已有文件、协议或"
        "会议纪要的资金，小区编号留空表示全县统筹的资金。"
    ),
    "11. 检查：在命令行运行 gisplan validate scenario.yaml，可一次列出所有需要修改的地方。",
    "",
    "English: one row = one community (小区) or one facility (设施); 资金落实 lists committed",
    "money (one commitment per row, 万元) and 经营性设施 the revenue facilities of communities",
    "(both without coordinates). Row 1 is the header, row 2 an example to overwrite.",
    "Coordinates are CGCS2000 (EPSG:4490) longitude/latitude in decimal",
    "degrees, or a WKT polygon in the 'wkt' column (it wins when filled). Numbers only in numeric",
    "columns; units are in the header brackets.",
    "",
    "字段一览：",
)


def _instructions_sheet(book: Workbook) -> None:
    """Add the sheet 说明: how to fill the workbook and every column's meaning."""
    ws: Worksheet = book.create_sheet("说明", 0)
    for line in _INSTRUCTIONS:
        ws.append([line])
    ws.cell(row=1, column=1).font = Font(bold=True, size=14)
    header = ["工作表", "表头", "字段名", "必填", "类型", "单位", "可选值", "说明", "示例"]
    ws.append(header)
    for col in range(1, len(header) + 1):
        ws.cell(row=ws.max_row, column=col).font = _HEADER_FONT
    for kind, sheet in SHEETS.items():
        for spec in layer_schema(kind).columns:
            ws.append(
                [
                    sheet,
                    header_label(spec),
                    spec.name,
                    "是" if spec.required else "否",
                    _DTYPE_ZH[spec.dtype],
                    spec.unit,
                    " / ".join(spec.choices),
                    spec.description_zh,
                    spec.example,
                ]
            )
        for name in _COORD_HEADERS.get(kind, ()):
            ws.append(
                [sheet, name, name, "是" if name != "wkt" else "否", "", "", "", _COORD_NOTES[name]]
            )
    for col, width in enumerate((10, 28, 28, 6, 18, 8, 22, 60, 14), start=1):
        ws.column_dimensions[get_column_letter(col)].width = width


def _write_workbook(path: Path) -> None:
    book = Workbook()
    default = book.active
    if default is not None:
        book.remove(default)
    for kind in SHEETS:
        _data_sheet(book, kind)
    _instructions_sheet(book)
    _codes_sheet(book)
    for ws in book.worksheets:  # printed on A4 landscape, one page wide (the survey goes on paper)
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.page_setup.orientation = ws.ORIENTATION_LANDSCAPE
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
    book.active = 1  # open on 小区
    book.save(path)


def _empty_layer(kind: str) -> gpd.GeoDataFrame | pd.DataFrame:
    """Return an empty frame with the canonical columns of ``kind`` in their storage types.

    A table kind gets a plain DataFrame (written as a GeoPackage attribute table).
    """
    schema = layer_schema(kind)
    data = {s.name: pd.Series([], dtype=_PANDAS_DTYPE[s.dtype]) for s in schema.columns}
    if schema.is_table:
        return pd.DataFrame(data)
    return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries([], crs=TEMPLATE_CRS), crs=TEMPLATE_CRS)


def _write_geopackage(path: Path) -> None:
    for kind in LAYER_KINDS:
        pyogrio.write_dataframe(
            _empty_layer(kind),
            path,
            layer=kind,
            driver="GPKG",
            geometry_type=_GEOMETRY_TYPE[kind],
            promote_to_multi=False,
        )


_SCENARIO = """\
# gisplan 方案文件 / scenario file
# 一个文件 = 一次可复现的运行；路径相对于本文件所在文件夹。
# One file = one reproducible run; paths are relative to this file's folder.
# 运行 / run:    gisplan validate scenario.yaml   然后 / then   gisplan run scenario.yaml

name: my_district              # 方案名称，输出到 outputs/<name>/ ；scenario name, output folder
title: 某某县老旧小区改造        # 显示标题（可选）；display title (optional)

# 没有自带坐标系的图层（Excel/CSV）所用坐标系：WGS84、CGCS2000、GCJ-02（高德/腾讯）、
# BD-09（百度）或 EPSG:xxxx。调查表要求填 CGCS2000 经纬度。
# Datum of layers without a CRS of their own (Excel/CSV). The survey workbook asks for
# CGCS2000 longitude/latitude.
datum: CGCS2000

# 计算距离所用的投影坐标系（米）：auto 自动选 CGCS2000 3 度带，或写 EPSG:4548 等。
# Metric CRS for distances: auto picks the CGCS2000 3-degree Gauss-Kruger zone, or EPSG:xxxx.
metric_crs: auto

layers:
  communities:                 # 小区；communities
    path: survey_template.xlsx
    layer: 小区                 # 工作表名（或 GeoPackage 图层名）；sheet or GeoPackage layer
    datum: CGCS2000            # 可选，覆盖上面的 datum；optional, overrides the top-level datum
    columns: {}                # 可选：自己的列名 -> 标准列名；optional: your column -> canonical
  facilities: {path: survey_template.xlsx, layer: 设施}   # 设施；facilities

  # 在 QGIS/ArcGIS 中绘制的图层可放入 layers_template.gpkg（EPSG:4490），填好后取消注释：
  # Layers drawn in QGIS/ArcGIS go into layers_template.gpkg (EPSG:4490); uncomment when filled:
  # network: {path: layers_template.gpkg, layer: network}       # 路网；walking network
  # projects: {path: layers_template.gpkg, layer: projects}     # 片区项目；revenue projects
  # sites: {path: layers_template.gpkg, layer: sites}           # 备选用地；candidate sites
  # entrances: {path: layers_template.gpkg, layer: entrances}   # 小区出入口；community gates
  # communities: {path: layers_template.gpkg, layer: communities}   # 用边界代替调查表坐标

  # 资金落实表和经营性设施表（没有坐标），填好调查表中的两张表后取消注释：
  # Tables without coordinates; uncomment once their sheets are filled:
  # commitments: {path: survey_template.xlsx, layer: 资金落实}   # 已落实资金；committed money
  # revenues: {path: survey_template.xlsx, layer: 经营性设施}    # 经营性设施；revenue facilities

standards: null                # 可选：自定义生活圈标准表 CSV；optional own life-circle standard CSV

outputs:
  dir: null                    # 默认 outputs/<name>/ ；default outputs/<name>/
"""


def _write_files(folder: Path) -> list[Path]:
    paths = [folder / SURVEY_FILE, folder / LAYERS_FILE, folder / SCENARIO_FILE]
    _write_workbook(paths[0])
    _write_geopackage(paths[1])
    paths[2].write_text(_SCENARIO, encoding="utf-8")
    return paths


def _staged(
    directory: str | Path, write: Callable[[Path], list[Path]], *, overwrite: bool
) -> list[Path]:
    """Write files with ``write`` into a staging folder, then move them into ``directory``."""
    target = Path(directory)
    if target.exists() and not target.is_dir():
        raise OutputError(
            f"{target} is a file, not a folder; choose another folder for the templates"
        )
    if target.is_dir() and any(target.iterdir()) and not overwrite:
        raise OutputError(
            f"{target} already exists and is not empty; use --overwrite (overwrite=True) "
            "to replace the template files in it, or choose another folder"
        )
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = target.parent / f".{target.name}.{secrets.token_hex(4)}.tmp"
        staging.mkdir()
    except OSError as err:
        raise OutputError(
            f"{target}: cannot create the folder ({err}); choose another folder"
        ) from err
    try:
        written = write(staging)
        if target.is_dir():
            for path in written:
                path.replace(target / path.name)
            staging.rmdir()
        else:
            staging.rename(target)
    except OSError as err:
        raise OutputError(
            f"{target}: cannot write the templates ({err}); choose another folder"
        ) from err
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return [target / p.name for p in written]


#: File names written by :func:`write_osm_scenario`.
OSM_COMMUNITIES_FILE = "communities.gpkg"
OSM_SURVEY_FILE = "survey_households.xlsx"

_OSM_SCENARIO = """\
# gisplan 方案文件（由 gisplan init --from-osm 生成）/ scenario written by gisplan init --from-osm
# 路径相对于本文件所在文件夹；运行 / run:  gisplan run scenario.yaml
#
# 注意：{sources}，数据可能不全：
# 某类设施在数据中缺失不等于实地缺失。
# 户数、人口为【估算】，不是调查数据（communities.gpkg 中 households_source = 估算）：
#   {assumptions}
#   {n} 个小区，估算共 {households} 户、{population} 人；
#   {default_n} 栋住宅缺 building:levels，按默认层数计。
# 调查后：在 {survey} 中填写调查户数/人口，并在 communities.gpkg（QGIS 打开）中替换
# households、population，把 households_source 改为 调查。
# Households and population are ESTIMATES from building footprints x levels (see above),
# marked households_source = 估算; replace them with the survey's figures.

name: {name}
title: {name}（OSM 底图，户数为估算）
datum: WGS84                   # OSM 为 WGS84 / OSM is WGS84
metric_crs: auto

layers:
  communities: {{path: {communities}, layer: communities}}   # 小区（户数估算）
  facilities: {facilities}
  network: {{path: {osm}}}        # 步行路网，来自 OSM

access:                        # 15 分钟生活圈：设施覆盖与缺口（按估算户数加权）
  types: all
  polygon_boundary: true       # 学校等面状设施从边界量距 / areas measured from their boundary

outputs:
  dir: null                    # 默认 outputs/<name>/
"""

_SURVEY_HEADERS = (
    "小区编号",
    "小区名称",
    "来源",
    "户数（估算，户）",
    "人口（估算，人）",
    "估算建筑面积（m²）",
    "计入住宅楼栋数",
    "其中缺层数楼栋",
    "户数（调查，户）",
    "人口（调查，人）",
    "建成年份（调查）",
    "备注",
)


def _osm_survey(path: Path, communities: gpd.GeoDataFrame, assumptions_zh: str) -> None:
    book = Workbook()
    ws = book.active
    if ws is None:  # pragma: no cover - a new workbook always has a sheet
        ws = book.create_sheet()
    ws.title = "小区"
    ws.append(list(_SURVEY_HEADERS))
    for row in communities.itertuples(index=False):
        ws.append(
            [
                str(row.community_id),
                None if pd.isna(row.name) else str(row.name),
                str(row.source) if hasattr(row, "source") else None,
                int(row.households),
                int(row.population),
                float(row.est_floor_area_m2),
                int(row.est_buildings),
                int(row.est_buildings_default_levels),
                None,
                None,
                None,
                str(row.est_note),
            ]
        )
    for col, text in enumerate(_SURVEY_HEADERS, start=1):
        head = ws.cell(row=1, column=col)
        head.font = _HEADER_FONT
        head.fill = _REQUIRED_FILL if "调查" in text else _HEADER_FILL
        head.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        ws.column_dimensions[get_column_letter(col)].width = max(display_width(text) + 4.0, 12.0)
    ws.freeze_panes = "A2"
    notes = book.create_sheet("说明")
    for line in (
        "户数估算说明（gisplan init --from-osm）",
        "",
        "本表的户数、人口是【估算】，不是调查数据，不得作为调查数据上报。",
        f"估算方法：{assumptions_zh}。",
        (
            "计入的楼栋：building=residential/apartments/house/dormitory；"
            "landuse=residential 范围内的 building=yes 也计入。"
        ),
        (
            "请在浅黄色列填写调查户数、人口、建成年份，再替换 communities.gpkg 中的对应值，"
            "并把 households_source 改为 调查。"
        ),
        (
            "English: households/population are estimates (footprint x levels / floor area per "
            "household); fill in the surveyed figures in the yellow columns."
        ),
    ):
        notes.append([line])
    notes.cell(row=1, column=1).font = Font(bold=True, size=14)
    book.save(path)


def write_osm_scenario(
    directory: str | Path,
    osm_path: str | Path,
    *,
    assumptions: EstimateAssumptions | None = None,
    poi_path: str | Path | None = None,
    provider: Provider = "gaode",
    overwrite: bool = False,
) -> list[Path]:
    """Write a ready scenario from one OSM file, with households estimated (估算).

    Writes ``communities.gpkg`` (the OSM community skeleton with
    :func:`gisplan.estimate.estimate_households` columns, EPSG:4326),
    ``survey_households.xlsx`` (the communities with their estimates and empty columns for
    the survey's figures) and ``scenario.yaml`` (communities from the GeoPackage, facilities
    and network from the OSM file — referenced, not copied — and an access step), so
    ``gisplan run DIR/scenario.yaml`` works without editing.

    With ``poi_path``, the facilities come from a map provider's POI export instead of the
    OSM file: :func:`gisplan.poi.read_poi` converts them to WGS84 and they are written to
    ``facilities.gpkg``, which the scenario reads; communities and the walking network
    still come from the OSM file.

    Parameters
    ----------
    directory
        Folder to create (it may exist if empty).
    osm_path
        An ``.osm`` or ``.osm.pbf`` file.
    assumptions
        Estimate assumptions (default :class:`gisplan.estimate.EstimateAssumptions`).
    poi_path
        A POI export (CSV or Excel) for the facilities (default: the OSM file's).
    provider
        With ``poi_path``: ``gaode``, ``baidu`` or ``tencent``.
    overwrite
        Replace the files in an existing, non-empty folder.

    Returns
    -------
    list of pathlib.Path
        The files written: ``communities.gpkg``, ``survey_households.xlsx``,
        ``scenario.yaml``, and ``facilities.gpkg`` with ``poi_path``.

    Raises
    ------
    LayerError
        If the OSM file is missing, unreadable or has no residential community; as
        :func:`gisplan.poi.read_poi`, or if no POI maps to a life-circle type.
    OutputError
        As :func:`write_templates`.
    """
    from gisplan.estimate import (  # noqa: PLC0415 - osmium only for this route
        EstimateAssumptions,
        estimate_households,
        read_osm_buildings,
    )
    from gisplan.osm import read_osm_communities  # noqa: PLC0415

    rules = assumptions or EstimateAssumptions()
    source = Path(osm_path).resolve()
    communities = read_osm_communities(source)
    if not len(communities):
        raise LayerError(
            f"{source}: no residential community (landuse=residential or residential "
            "buildings) in the file; choose a larger extract or start from gisplan init DIR "
            "and the survey workbook"
        )
    facilities = None if poi_path is None else _poi_facilities(poi_path, provider)
    estimated = estimate_households(communities, read_osm_buildings(source), assumptions=rules)
    target = Path(directory).resolve()
    osm_ref = Path(os.path.relpath(source, target)).as_posix()
    osm = json.dumps(osm_ref, ensure_ascii=False)
    if facilities is None:
        sources = f"小区、设施、路网均来自 OpenStreetMap（{source.name}，ODbL）"
        facilities_line = f"{{path: {osm}}}     # 设施，来自 OSM"
    else:
        from gisplan.poi import PROVIDERS  # noqa: PLC0415

        poi_name = Path(poi_path or "").name
        sources = (
            f"小区、路网来自 OpenStreetMap（{source.name}，ODbL），设施来自"
            f"{_PROVIDER_ZH[provider]} POI 导出（{poi_name}，{PROVIDERS[provider]} 已转为 WGS84，"
            f"{len(facilities)} 个设施）"
        )
        facilities_line = (
            f"{{path: {POI_FACILITIES_FILE}, layer: facilities}}"
            f"   # 设施，来自{_PROVIDER_ZH[provider]} POI（WGS84）"
        )
    text = _OSM_SCENARIO.format(
        sources=sources,
        facilities=facilities_line,
        assumptions=rules.text_zh(),
        n=len(estimated),
        households=int(estimated["households"].sum()),
        population=int(estimated["population"].sum()),
        default_n=int(estimated["est_buildings_default_levels"].sum()),
        survey=OSM_SURVEY_FILE,
        name=re.sub(r"[^0-9A-Za-z_\u4e00-\u9fff-]+", "_", target.name) or "osm",
        communities=OSM_COMMUNITIES_FILE,
        osm=osm,
    )

    def write(folder: Path) -> list[Path]:
        paths = [folder / OSM_COMMUNITIES_FILE, folder / OSM_SURVEY_FILE, folder / SCENARIO_FILE]
        pyogrio.write_dataframe(estimated, paths[0], layer="communities", driver="GPKG")
        _osm_survey(paths[1], estimated, rules.text_zh())
        paths[2].write_text(text, encoding="utf-8")
        if facilities is not None:
            paths.append(folder / POI_FACILITIES_FILE)
            pyogrio.write_dataframe(facilities, paths[3], layer="facilities", driver="GPKG")
        return paths

    written = _staged(directory, write, overwrite=overwrite)
    logger.info(
        "wrote an OSM scenario to %s: %d communities, %d households (估算)",
        directory,
        len(estimated),
        int(estimated["households"].sum()),
    )
    return written


#: File written by :func:`write_poi_scenario` for the POI facilities.
POI_FACILITIES_FILE = "facilities.gpkg"

_POI_SCENARIO = """\
# gisplan 方案文件（由 gisplan init --from-poi 生成）/ scenario written by gisplan init --from-poi
# 路径相对于本文件所在文件夹；运行 / run:  gisplan validate scenario.yaml，然后 gisplan run
#
# 设施来自 {provider_zh} POI 导出（{poi_name}），已由 {datum} 转为 WGS84，按
# gisplan/data/poi_typecodes.csv 归入生活圈设施类型：{n} 个设施（{types}）。
# 表中大多数编码对应关系未核实（verified = no），请抽查；某类设施在 POI 中缺失不等于实地缺失。
#
# 注意：小区和步行路网须自行提供 —— POI 数据不含小区边界、户数和路网。
#   小区：填写 survey_template.xlsx 的「小区」工作表（CGCS2000 经纬度），或在
#         layers_template.gpkg 的 communities 图层中绘制边界；
#   路网：在 layers_template.gpkg 的 network 图层中绘制，或改用 OSM 文件（path: 某地.osm.pbf）。
# Communities and the walking network are NOT in a POI export: you must supply them
# (survey_template.xlsx sheet 小区, layers_template.gpkg layers communities and network).
# Facilities come from the POI export, converted from {datum} to WGS84.

name: {name}
title: {name}（{provider_zh} POI 设施）
datum: CGCS2000                # 调查表中的经纬度为 CGCS2000；survey workbook coordinates
metric_crs: auto

layers:
  communities: {{path: {survey}, layer: 小区}}   # 小区：须自行填写 / you must fill it in
  facilities: {{path: {facilities}, layer: facilities}}   # 设施，来自 POI（WGS84）
  # network: {{path: {layers}, layer: network}}   # 步行路网：须自行提供，填好后取消注释

# access:                      # 填好小区和路网后取消注释：15 分钟生活圈覆盖与缺口
#   types: all

outputs:
  dir: null                    # 默认 outputs/<name>/
"""
_PROVIDER_ZH = {"gaode": "高德", "baidu": "百度", "tencent": "腾讯"}


def _poi_facilities(poi_path: str | Path, provider: Provider) -> gpd.GeoDataFrame:
    """Read the life-circle facilities of a POI export (WGS84); refuse an export with none."""
    from gisplan.poi import read_poi  # noqa: PLC0415

    source = Path(poi_path).resolve()
    facilities = read_poi(source, provider)
    if not len(facilities):
        raise LayerError(
            f"{source}: no POI maps to a life-circle facility type; check --provider and "
            "that the export holds the typecode/category column"
        )
    return facilities


def write_poi_scenario(
    directory: str | Path,
    poi_path: str | Path,
    *,
    provider: Provider = "gaode",
    overwrite: bool = False,
) -> list[Path]:
    """Write a scenario whose facilities come from a map provider's POI export.

    Writes ``facilities.gpkg`` (:func:`gisplan.poi.read_poi`, EPSG:4326), the survey
    workbook and empty GeoPackage of :func:`write_templates` for the communities and the
    network the user must supply, and ``scenario.yaml`` reading all three.

    Parameters
    ----------
    directory
        Folder to create (it may exist if empty).
    poi_path
        The POI export (CSV or Excel).
    provider
        ``gaode``, ``baidu`` or ``tencent``.
    overwrite
        Replace the files in an existing, non-empty folder.

    Returns
    -------
    list of pathlib.Path
        ``facilities.gpkg``, ``survey_template.xlsx``, ``layers_template.gpkg``,
        ``scenario.yaml``.

    Raises
    ------
    LayerError
        As :func:`gisplan.poi.read_poi`, or if no POI maps to a life-circle type.
    OutputError
        As :func:`write_templates`.
    """
    from gisplan.poi import PROVIDERS  # noqa: PLC0415

    source = Path(poi_path).resolve()
    facilities = _poi_facilities(source, provider)
    target = Path(directory).resolve()
    counts = facilities["type"].value_counts()
    text = _POI_SCENARIO.format(
        provider_zh=_PROVIDER_ZH[provider],
        poi_name=source.name,
        datum=PROVIDERS[provider],
        n=len(facilities),
        types="、".join(f"{t} {c}" for t, c in counts.items()),
        name=re.sub(r"[^0-9A-Za-z_\u4e00-\u9fff-]+", "_", target.name) or "poi",
        survey=SURVEY_FILE,
        facilities=POI_FACILITIES_FILE,
        layers=LAYERS_FILE,
    )

    def write(folder: Path) -> list[Path]:
        paths = [
            folder / POI_FACILITIES_FILE,
            folder / SURVEY_FILE,
            folder / LAYERS_FILE,
            folder / SCENARIO_FILE,
        ]
        pyogrio.write_dataframe(facilities, paths[0], layer="facilities", driver="GPKG")
        _write_workbook(paths[1])
        _write_geopackage(paths[2])
        paths[3].write_text(text, encoding="utf-8")
        return paths

    written = _staged(directory, write, overwrite=overwrite)
    logger.info("wrote a POI scenario to %s: %d facilities", directory, len(facilities))
    return written


def write_templates(directory: str | Path, *, overwrite: bool = False) -> list[Path]:
    """Write the survey workbook, the empty GeoPackage and a scenario into a folder.

    The files are written into a temporary sibling folder first and moved into place only
    when all three are complete, so a failure never leaves a half-written template.

    Parameters
    ----------
    directory
        Folder to create. It may exist if it is empty.
    overwrite
        Replace the three template files in an existing, non-empty folder (other files in
        it are left alone).

    Returns
    -------
    list of pathlib.Path
        ``survey_template.xlsx``, ``layers_template.gpkg`` and ``scenario.yaml`` in
        ``directory``.

    Raises
    ------
    OutputError
        If ``directory`` is a file, or a non-empty folder and ``overwrite`` is false, or it
        cannot be written.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp()) / "调查模板"
    >>> [p.name for p in gisplan.templates.write_templates(folder)]
    ['survey_template.xlsx', 'layers_template.gpkg', 'scenario.yaml']
    """
    target = Path(directory)
    written = _staged(target, _write_files, overwrite=overwrite)
    logger.info("wrote survey templates to %s", target)
    return written
