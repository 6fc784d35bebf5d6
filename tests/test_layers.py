"""Tests for gisplan.layers: reading every format, alias mapping, validation at once.

Fixtures are 100 m squares at x = 0, 200, 400 m east of (X0, Y0) in EPSG:4548
(CGCS2000 3-degree Gauss-Kruger CM 117E; near 117E 35N, so coordinates are plausible).
"""

from __future__ import annotations

import csv
import io
import math
import sys
from importlib import resources
from pathlib import Path
from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import pytest
from geopandas.testing import assert_geodataframe_equal
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import MultiPoint, Point, Polygon, box

from gisplan import layers, vocabulary
from gisplan.errors import GisplanError, GisplanWarning, LayerError, ValidationError
from gisplan.layers import (
    LAYER_KINDS,
    check_layer,
    layer_schema,
    read_file,
    read_layer,
    validate_layer,
)

CRS = "EPSG:4548"
X0, Y0 = 500_000.0, 3_875_000.0
BEIJING = (116.3975, 39.9087)  # lon, lat of Tian'anmen


def square(x: float, size: float = 100.0) -> Polygon:
    return box(X0 + x, Y0, X0 + x + size, Y0 + size)


def bow_tie(x: float) -> Polygon:
    """Self-intersecting 100 m square: two triangles of 2500 m² each, signed area 0."""
    return Polygon([(X0 + x, Y0), (X0 + x + 100, Y0 + 100), (X0 + x + 100, Y0), (X0 + x, Y0 + 100)])


def communities(**overrides: object) -> gpd.GeoDataFrame:
    data: dict[str, object] = {
        "community_id": ["C1", "C2", "C3"],
        "name": ["幸福里小区", "纺织厂宿舍", "建设路12号院"],
        "built_year": [1985, 1998, 2003],
        "households": [120, 300, 80],
    }
    geometry = overrides.pop("geometry", [square(x) for x in (0, 200, 400)])
    data.update(overrides)
    return gpd.GeoDataFrame(data, geometry=geometry, crs=CRS)


def short_communities(**overrides: object) -> gpd.GeoDataFrame:
    """Communities with column names that fit a Shapefile (10 characters)."""
    return communities(**overrides).rename(columns={"community_id": "编号"})


def messages(report: object) -> list[str]:
    return [issue.format() for issue in report]  # type: ignore[attr-defined]


def errors(report: object) -> list[str]:
    return [i.format() for i in report.errors]  # type: ignore[attr-defined]


def warns(report: object) -> list[str]:
    return [i.format() for i in report.warnings]  # type: ignore[attr-defined]


# --- schema ----------------------------------------------------------------------------


def test_layer_schema_from_csv() -> None:
    assert LAYER_KINDS == (
        "communities",
        "facilities",
        "network",
        "projects",
        "sites",
        "entrances",
        "buildings",
        "barriers",
        "commitments",
        "revenues",
    )
    assert layer_schema("barriers").geometry == "line_or_polygon"
    schema = layer_schema("communities")
    assert schema.geometry == "polygon"
    assert schema.id_column == "community_id"
    built = schema.column("built_year")
    assert (built.dtype, built.required, built.label_zh) == ("year", True, "建成年份")
    assert "建成年代" in built.aliases
    assert layer_schema("sites").geometry == "point_or_polygon"
    assert layer_schema("network").id_column is None


def test_unknown_kind_lists_kinds() -> None:
    with pytest.raises(LayerError, match=r"unknown layer kind 'schools'.*communities, facilities"):
        layer_schema("schools")


# --- reading ---------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.gpkg"
    with pytest.raises(LayerError, match=r"nope\.gpkg: file not found; check the path in the"):
        read_file(path)


@pytest.mark.parametrize("suffix", [".gpkg", ".shp", ".geojson", ".xlsx"])
def test_corrupt_file(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"bad{suffix}"
    path.write_bytes(b"\x00\x01garbage\xff" * 20)
    if suffix == ".shp":  # with its sidecars, so that the shapefile itself is what is damaged
        for sidecar in (".dbf", ".shx"):
            path.with_suffix(sidecar).write_bytes(b"junk")
    with pytest.raises(LayerError, match=r"cannot read .*bad.*undamaged GeoPackage") as info:
        read_file(path)
    assert info.value.__cause__ is not None


def test_shapefile_missing_dbf_or_shx(tmp_path: Path) -> None:
    path = tmp_path / "comm.shp"
    short_communities().to_file(path, encoding="UTF-8", engine="pyogrio")
    path.with_suffix(".dbf").unlink()
    with pytest.raises(
        LayerError,
        match=r"comm\.dbf is missing: a shapefile needs \.shp, \.shx and \.dbf side by side "
        r"\(and \.prj for its CRS\); copy all of them$",
    ):
        read_file(path)
    path.with_suffix(".shx").unlink()
    with pytest.raises(LayerError, match=r"comm\.dbf and .*comm\.shx are missing: a shapefile"):
        read_layer(path, "communities")


def test_wrong_geopackage_layer_lists_the_layers(tmp_path: Path) -> None:
    path = tmp_path / "data.gpkg"
    communities().to_file(path, layer="communities")
    communities().to_file(path, layer="roads")
    with pytest.raises(
        LayerError,
        match=r"data\.gpkg has no layer '小区'; its layers are: communities, roads "
        r"\(set 'layer:' to one of them\)$",
    ):
        read_layer(path, "communities", layer="小区")
    assert len(read_file(path, layer="Communities")) == 3  # GeoPackage names ignore case


def test_ragged_csv_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "小区.csv"
    path.write_text(
        "小区编号,小区名称,建成年份,户数,经度,纬度\n"
        "C1,幸福里,1995,320,116.39,39.90\n"
        "C2,纺织厂宿舍,二号院,1988,120,116.40,39.91,x\n",
        encoding="utf-8",
    )
    with pytest.raises(
        LayerError,
        match=r"小区\.csv: line 3 has 8 cells but the header has 6: look for a stray or unquoted "
        r"comma \(e\.g\. inside a name\), or quote that cell$",
    ):
        read_file(path)
    _, report = validate_layer(path, "communities")
    assert report.errors[0].problem.endswith(
        "line 3 has 8 cells but the header has 6: look for "
        "a stray or unquoted comma (e.g. inside a name), "
        "or quote that cell"
    )
    # one cell more on every row would silently shift the columns in pandas: also refused
    path.write_text("编号,经度,纬度\nF1,幼儿园,116.39,39.90\n", encoding="utf-8")
    with pytest.raises(LayerError, match="line 2 has 4 cells but the header has 3"):
        read_file(path)


def test_csv_quote_never_closed(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text(
        '编号,名称,经度,纬度\nF1,幸福里,116.39,39.90\nF2,"纺织厂,116.40,39.91\nF3,x,116.4,39.9\n',
        encoding="utf-8",
    )
    with pytest.raises(
        LayerError,
        match=r"f\.csv: line 3 opens a quote \(\"\) that is never closed: close the quote or "
        r'remove the stray " from that line$',
    ):
        read_file(path)


XLS_FIXTURE = Path(__file__).parent / "data" / "layers" / "communities.xls"


def test_xls_with_chinese_headers() -> None:
    # made once with LibreOffice from an openpyxl workbook (sheet 小区); read with calamine
    assert XLS_FIXTURE.stat().st_size < 20_000
    raw = read_file(XLS_FIXTURE)
    assert raw.columns.tolist() == ["小区编号", "小区名称", "建成年份", "户数", "geometry"]
    with pytest.raises(
        LayerError, match=r"communities\.xls has no sheet 'x'; its sheets are: 小区"
    ):
        read_file(XLS_FIXTURE, layer="x")
    with pytest.warns(GisplanWarning, match="community given as a point"):
        gdf = read_layer(XLS_FIXTURE, "communities", layer="小区", datum=CRS)
    assert gdf["community_id"].tolist() == ["C1", "C2"]
    assert gdf["name"].tolist() == ["幸福里", "纺织厂宿舍"]
    assert gdf["built_year"].tolist() == [1995, 1988]
    assert gdf["households"].tolist() == [320, 1200]
    assert gdf.geometry.iloc[1].equals(Point(X0 + 250, Y0 + 50))


def test_unreadable_xls_says_save_as_xlsx(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "old.xls"
    path.write_bytes(b"\x00\x01garbage\xff" * 20)
    with pytest.raises(
        LayerError,
        match=r"cannot read .*old\.xls \(Cannot detect file format\); save it as \.xlsx "
        r"\(Excel or WPS: File → Save As → Excel Workbook\) and use that file$",
    ) as info:
        read_file(path)
    assert info.value.__cause__ is not None
    monkeypatch.setitem(sys.modules, "python_calamine", None)  # not installed
    with pytest.raises(
        LayerError, match=r"reading \.xls needs the python-calamine package \(pip install"
    ):
        read_file(XLS_FIXTURE)


def test_gbk_shapefile_without_cpg(tmp_path: Path) -> None:
    path = tmp_path / "gbk.shp"
    gdf = communities(name=["幸福里小区", "纺织厂宿舍", "城关街道"])
    gdf = gdf.rename(columns={"households": "户数"})
    with (  # community_id -> community_ (the real-world Shapefile name)
        pytest.warns(UserWarning, match="truncated"),
        pytest.warns(RuntimeWarning, match="laundered"),
    ):
        gdf.to_file(path, encoding="GBK", engine="pyogrio")
    path.with_suffix(".cpg").unlink()
    raw = path.with_suffix(".dbf").read_bytes()
    assert "幸福里小区".encode("gbk") in raw  # really GBK bytes, not UTF-8
    assert "幸福里小区".encode() not in raw
    out = read_file(path)
    assert out["name"].tolist() == ["幸福里小区", "纺织厂宿舍", "城关街道"]
    assert "户数" in out.columns
    assert out["户数"].tolist() == [120, 300, 80]
    gdf = read_layer(path, "communities")
    assert gdf["community_id"].tolist() == ["C1", "C2", "C3"]
    assert gdf["name"].tolist() == ["幸福里小区", "纺织厂宿舍", "城关街道"]
    assert gdf["households"].tolist() == [120, 300, 80]


def test_utf8_shapefile_without_cpg(tmp_path: Path) -> None:
    path = tmp_path / "utf8.shp"
    short_communities().to_file(path, encoding="UTF-8", engine="pyogrio")
    path.with_suffix(".cpg").unlink(missing_ok=True)
    assert read_file(path)["name"].tolist() == ["幸福里小区", "纺织厂宿舍", "建设路12号院"]


def test_shapefile_cpg_is_honoured(tmp_path: Path) -> None:
    # Latin-1 text: the no-.cpg fallback (UTF-8, else GB18030) would garble "é";
    # only honouring the .cpg gives it back exactly.
    path = tmp_path / "latin.shp"
    latin = short_communities(name=["Café", "Résidence", "Größe"]).rename(columns={"编号": "id"})
    latin.to_file(path, encoding="cp1252", engine="pyogrio")
    assert path.with_suffix(".cpg").exists()
    assert "Café".encode("cp1252") in path.with_suffix(".dbf").read_bytes()
    assert read_file(path)["name"].tolist() == ["Café", "Résidence", "Größe"]


def test_explicit_encoding_overrides(tmp_path: Path) -> None:
    path = tmp_path / "gbk.shp"
    short_communities().to_file(path, encoding="GBK", engine="pyogrio")
    path.with_suffix(".cpg").unlink()
    assert read_file(path, encoding="gbk")["name"].iloc[0] == "幸福里小区"


CSV_TEXT = "设施编号,设施类型,经度,纬度\nF1,幼儿园,116.3975,39.9087\nF2,kindergarten,116.4,39.91\n"


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gbk"])
def test_csv_encodings_with_lon_lat(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "设施.csv"
    path.write_bytes(CSV_TEXT.encode(encoding))
    raw = read_file(path)
    assert raw.columns.tolist() == ["设施编号", "设施类型", "geometry"]
    assert raw.crs is None
    assert raw.geometry.iloc[0].equals(Point(116.3975, 39.9087))
    gdf = read_layer(path, "facilities", datum="WGS84")
    assert gdf["facility_id"].tolist() == ["F1", "F2"]
    assert gdf["type"].tolist() == ["kindergarten", "kindergarten"]
    assert gdf.crs.to_epsg() == 4326


def test_csv_x_y_arguments_and_text_ids(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text("编号,类型,东,北\n007,kindergarten,500050,3875050\n", encoding="utf-8")
    gdf = read_layer(path, "facilities", x="东", y="北", datum=CRS)
    assert gdf.loc[0, "facility_id"] == "007"  # leading zeros kept
    assert gdf.geometry.iloc[0].equals(Point(X0 + 50, Y0 + 50))
    with pytest.raises(LayerError, match=r"coordinate column.*'lon'.*the columns are: 编号"):
        read_file(path, x="lon", y="北")


def test_csv_semicolon_and_explicit_encoding(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes("编号;类型;经度;纬度\nF1;托儿所;116.4;39.9\n".encode("gbk"))
    gdf = read_file(path, encoding="gbk")
    assert gdf["类型"].tolist() == ["托儿所"]
    assert gdf.geometry.iloc[0].equals(Point(116.4, 39.9))
    with pytest.raises(LayerError, match="unknown encoding 'klingon'"):
        read_file(path, encoding="klingon")
    with pytest.raises(LayerError, match="the text is not utf-8"):
        read_file(path, encoding="utf-8")


def test_csv_without_coordinates(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text("编号,类型\nF1,kindergarten\n", encoding="utf-8")
    with pytest.raises(LayerError, match=r"no coordinates found; add lon/lat \(经度/纬度\)"):
        read_file(path)


def test_csv_wkt_column(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    wkt = square(0).wkt
    path.write_text(
        f'小区编号,小区名称,建成年份,户数,WKT\nC1,幸福里,1990,100,"{wkt}"\n', encoding="utf-8"
    )
    gdf = read_layer(path, "communities", datum=CRS)
    assert gdf.geometry.iloc[0].area == pytest.approx(10_000.0)


def test_xlsx_with_chinese_headers(tmp_path: Path) -> None:
    path = tmp_path / "小区.xlsx"
    frame = pd.DataFrame(
        {
            "小区编号": ["C1", "C2"],
            "小区名称": ["幸福里", "纺织厂宿舍"],
            "建成年代": [1995, "1988年"],
            "户数": [320, "1,200"],
            "是否已实施棚改": ["否", "是"],
            "X坐标": [X0 + 50, X0 + 250],
            "Y坐标": [Y0 + 50, Y0 + 50],
        }
    )
    with pd.ExcelWriter(path) as writer:
        pd.DataFrame({"说明": ["封面"]}).to_excel(writer, sheet_name="说明", index=False)
        frame.to_excel(writer, sheet_name="小区", index=False)
    with pytest.raises(LayerError, match=r"no coordinates found"):
        read_file(path)  # the first sheet is the cover
    with pytest.raises(LayerError, match="no sheet 'x'; its sheets are: 说明, 小区"):
        read_file(path, layer="x")
    with pytest.warns(GisplanWarning, match="community given as a point"):
        gdf = read_layer(path, "communities", layer="小区", datum=CRS)
    assert gdf["built_year"].tolist() == [1995, 1988]
    assert gdf["households"].tolist() == [320, 1200]
    assert str(gdf["households"].dtype) == "Int64"
    assert gdf.geometry.iloc[1].equals(Point(X0 + 250, Y0 + 50))
    assert "是否已实施棚改" in gdf.columns  # unknown columns kept unchanged


def test_geopackage_with_several_layers(tmp_path: Path) -> None:
    path = tmp_path / "data.gpkg"
    communities().to_file(path, layer="小区")
    communities().to_file(path, layer="old")
    with pytest.raises(LayerError, match=r"holds 2 layers \(小区, old\); pass layer=\.\.\."):
        read_file(path)
    assert len(read_file(path, layer="小区")) == 3


def test_chinese_path_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "小区" / "小区.gpkg"
    path.parent.mkdir()
    communities().to_file(path)
    gdf = read_layer(path, "communities")
    assert gdf["name"].tolist() == ["幸福里小区", "纺织厂宿舍", "建设路12号院"]
    assert gdf.geometry.area.tolist() == pytest.approx([10_000.0] * 3)


def test_osm_suffix_needs_read_layer(tmp_path: Path) -> None:
    path = tmp_path / "map.osm"
    path.write_text("<osm/>", encoding="utf-8")
    with pytest.raises(LayerError, match="read_layer"):
        read_file(path)
    with pytest.raises(LayerError, match="not sites"):
        read_layer(path, "sites")


# --- columns ---------------------------------------------------------------------------


def test_missing_required_column() -> None:
    gdf = communities().drop(columns=["built_year"])
    _, report = check_layer(gdf, "communities")
    assert errors(report) == [
        (
            "[error] communities · built_year: column 'built_year' (建成年份) missing → add it or "
            "map your column under 'columns:' in the scenario (aliases accepted: 建成年份, "
            "建成年代, "
            "建成时间, 建设年代, 建成年, 竣工年份, …)"
        )
    ]


def test_chinese_alias_columns() -> None:
    gdf = gpd.GeoDataFrame(
        {
            "小区编号": ["C1", "C2"],
            "小区名称 ": ["幸福里", "纺织厂宿舍"],
            "建成年代": ["1995", "１９９８年"],
            "户数": ["320", " 1,200 "],
            "人口": ["890", "3000"],
            "建筑面积（m²）": ["21500", "80,000.5"],
            "楼栋数": ["8", "20"],
            "街道": ["城关街道", "城关街道"],
            "备注": ["x", "y"],
        },
        geometry=[square(0), square(200)],
        crs=CRS,
    )
    clean, report = check_layer(gdf, "communities")
    assert report.ok, report.format()
    assert clean.columns.tolist() == [
        "community_id",
        "name",
        "built_year",
        "households",
        "population",
        "floor_area_m2",
        "buildings",
        "street",
        "备注",
        "geometry",
    ]
    assert clean["built_year"].tolist() == [1995, 1998]
    assert clean["households"].tolist() == [320, 1200]
    assert clean["floor_area_m2"].tolist() == [21500.0, 80000.5]
    assert str(clean["buildings"].dtype) == "Int64"
    assert str(clean["floor_area_m2"].dtype) == "Float64"
    assert str(clean["name"].dtype) == "string"


@pytest.mark.parametrize(
    "header", ["建筑面积（m²）", "建筑面积(㎡)", " 建筑面积 (平方米)", "FLOOR_AREA_M2"]
)
def test_alias_normalisation(header: str) -> None:
    clean, report = check_layer(communities(**{header: ["1000", "2000", "3000"]}), "communities")
    assert report.ok
    assert clean["floor_area_m2"].tolist() == [1000.0, 2000.0, 3000.0]


def test_facility_alias_and_chinese_type() -> None:
    gdf = gpd.GeoDataFrame(
        {"设施编号": ["F1", "F2"], "设施类型": ["幼儿园", " Kindergarten "]},
        geometry=[Point(X0, Y0), Point(X0 + 10, Y0)],
        crs=CRS,
    )
    clean, report = check_layer(gdf, "facilities")
    assert report.ok
    assert clean["type"].tolist() == ["kindergarten", "kindergarten"]


def test_user_columns_before_aliases() -> None:
    gdf = communities().rename(columns={"households": "住宅套数"})
    clean, report = check_layer(gdf, "communities", columns={"住宅套数": "households"})
    assert report.ok
    assert clean["households"].tolist() == [120, 300, 80]
    # the user's choice wins over an alias ("户数" is an alias of households)
    # and settles the clash: a warning, the alias stays as an extra column
    gdf2 = gdf.assign(户数=[1, 2, 3])
    clean2, report2 = check_layer(gdf2, "communities", columns={"住宅套数": "households"})
    assert clean2["households"].tolist() == [120, 300, 80]
    assert clean2["户数"].tolist() == [1, 2, 3]
    assert errors(report2) == []
    assert warns(report2) == [
        (
            "[warning] communities · households: column '户数' also means 'households' (户数); "
            "'住宅套数' is used (mapped under 'columns:') and '户数' is kept as an extra column "
            "→ nothing to do if '住宅套数' is the right one; otherwise remove or rename '住宅套数'"
        )
    ]


def test_two_aliases_for_one_column() -> None:
    gdf = communities().assign(建成年代=[1990, 1991, 1992]).drop(columns=["built_year"])
    gdf["建成年份"] = [1980, 1981, 1982]
    _, report = check_layer(gdf, "communities")
    assert len(report.errors) == 1
    assert "'建成年代' and '建成年份' both mean 'built_year'" in report.errors[0].problem


def test_two_aliases_error_does_not_pretend_to_choose() -> None:
    gdf = communities().drop(columns=["community_id"]).assign(编号=["1", "2", "3"])
    gdf["小区编号"] = ["C1", "C2", "C3"]
    clean, report = check_layer(gdf, "communities")
    assert errors(report) == [
        (
            "[error] communities · community_id: columns '编号' and '小区编号' both mean "
            "'community_id' (小区编号); which one is it? → rename or remove the other(s), or "
            "name the right one under 'columns:' in the scenario (e.g. columns: {'编号': "
            "community_id})"
        )
    ]
    assert clean["community_id"].tolist() == ["C1", "C2", "C3"]  # the Chinese label ranks first
    _, report = check_layer(gdf, "communities", columns={"编号": "community_id"})
    assert errors(report) == []  # naming one under 'columns:' settles it


def test_arcgis_id_field_is_not_an_alias() -> None:
    # every ArcGIS shapefile has an all-zero 'Id' field
    gdf = communities().drop(columns=["community_id"])
    gdf.insert(0, "Id", [0, 0, 0])
    gdf["小区编号"] = ["C1", "C2", "C3"]
    clean, report = check_layer(gdf, "communities")
    assert messages(report) == []
    assert clean["community_id"].tolist() == ["C1", "C2", "C3"]
    assert clean["Id"].tolist() == [0, 0, 0]  # kept as an extra column
    for kind in LAYER_KINDS:
        for spec in layer_schema(kind).columns:
            assert not {"id", "fid_code"} & {a.lower() for a in spec.aliases}, (kind, spec.name)
    # a user can still say that 'Id' is the id
    clean, report = check_layer(
        gdf.drop(columns=["小区编号"]), "communities", columns={"Id": "community_id"}
    )
    assert "community_id '0' appears 3 times (rows 1, 2, 3)" in errors(report)[0]


def test_canonical_name_wins_over_an_alias_with_a_warning() -> None:
    gdf = communities(小区名称=["甲", "乙", "丙"])
    clean, report = check_layer(gdf, "communities")
    assert errors(report) == []
    assert warns(report) == [
        (
            "[warning] communities · name: column '小区名称' also means 'name' (小区名称); "
            "'name' is used and '小区名称' is kept as an extra column → nothing to do if 'name' "
            "is the right one; otherwise remove or rename 'name'"
        )
    ]
    assert clean["name"].tolist() == ["幸福里小区", "纺织厂宿舍", "建设路12号院"]
    assert clean["小区名称"].tolist() == ["甲", "乙", "丙"]  # unchanged
    # the canonical name also wins over the user's mapping
    gdf = communities(ID=["x", "y", "z"])
    clean, report = check_layer(gdf, "communities", columns={"ID": "community_id"})
    assert errors(report) == []
    assert [i.problem for i in report.warnings] == [
        (
            "column 'ID' also means 'community_id' (小区编号); 'community_id' is used and 'ID' "
            "is kept as an extra column"
        )
    ]
    assert clean["community_id"].tolist() == ["C1", "C2", "C3"]
    assert clean["ID"].tolist() == ["x", "y", "z"]


def test_columns_differing_only_in_case() -> None:
    gdf = communities(Note=["a", "b", "c"], note=["x", "y", "z"])
    clean, report = check_layer(gdf, "communities")
    assert errors(report) == [
        (
            "[error] communities · Note: columns 'Note' and 'note' differ only in case; a "
            "GeoPackage or Shapefile cannot hold both, because its column names ignore case → "
            "rename one of them (e.g. 'note' to 'note_2'), or remove it"
        )
    ]
    assert clean[["Note", "note"]].to_numpy().tolist() == [["a", "x"], ["b", "y"], ["c", "z"]]
    _, report = check_layer(communities(备注=["a", "b", "c"], note=["x", "y", "z"]), "communities")
    assert report.ok


def test_layer_with_no_rows() -> None:
    empty = communities().iloc[:0]
    clean, report = check_layer(empty, "communities")
    assert messages(report) == [
        (
            "[error] communities: the layer has no rows → check that this is the right file (and "
            "layer or sheet) and that it holds the 小区 data, one row per 小区"
        )
    ]
    assert len(clean) == 0
    facilities = gpd.GeoDataFrame(
        {"facility_id": pd.Series([], dtype=str), "type": pd.Series([], dtype=str)},
        geometry=[],
        crs=CRS,
    )
    _, report = check_layer(facilities, "facilities", name="设施")
    assert report.ok
    assert warns(report) == [
        (
            "[warning] 设施: the layer has no rows → check that this is the right file (and layer "
            "or sheet) and that it holds the 设施 data, one row per 设施"
        )
    ]


def test_control_characters_are_escaped_in_messages(tmp_path: Path) -> None:
    path = tmp_path / "junk.csv"
    path.write_text(
        "小区编号,小区名称,建成年份,户数,经度,纬度\n"
        "C1\x00,幸福里,19\x1b[2J95,320,116.39,39.90\n"
        "C1\x00,纺织厂,1990,1\x07,116.40,39.91\n",
        encoding="utf-8",
    )
    _, report = validate_layer(path, "communities", datum="WGS84")
    shown = "\n".join(messages(report))
    assert not any(ch in shown for ch in "\x00\x1b\x07")
    assert (
        "[error] communities · C1\\x00 (row 1) · built_year: built_year '19\\x1b[2J95' is not a "
        "year → write a 4-digit year such as 1995"
    ) in messages(report)
    assert (
        "[error] communities · C1\\x00 · community_id: community_id 'C1\\x00' appears 2 times "
        "(rows 1, 2) → give each 小区 its own community_id"
    ) in messages(report)
    assert "households '1\\x07' is not a whole number" in shown


def test_broken_layer_schema_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "data"
    data.mkdir()
    text = (layers.resources.files("gisplan") / "data" / "layer_schema.csv").read_text("utf-8")
    lines = text.splitlines()
    lines[2] += ",extra"
    (data / "layer_schema.csv").write_text("\n".join(lines), encoding="utf-8")
    monkeypatch.setattr(layers, "resources", SimpleNamespace(files=lambda _: tmp_path))
    layers._schema_table.cache_clear()
    try:
        with pytest.raises(
            LayerError,
            match=r"layer_schema\.csv: line 3 does not have one cell per column; the installed "
            r"gisplan is damaged: reinstall it",
        ):
            layer_schema("communities")
    finally:
        monkeypatch.undo()
        layers._schema_table.cache_clear()


def test_bool_list_enum_rate_coercion() -> None:
    gdf = communities(
        demolition_planned=["是", "no", "无"],
        needs=["1、2、12", "3,4；5", None],
        land_tenure=["国有", "集体", ""],
        status=["储备", "在建", "竣工"],
        participation_rate=["80", "90", "65"],
        approval_rate=["0.5", "85%", None],
    )
    clean, report = check_layer(gdf, "communities")
    assert report.ok, report.format()
    assert clean["demolition_planned"].tolist() == [True, False, False]
    assert str(clean["demolition_planned"].dtype) == "boolean"
    assert clean["needs"].tolist() == [(1, 2, 12), (3, 4, 5), ()]
    assert clean["land_tenure"].tolist()[:2] == ["国有", "集体"]
    assert clean["participation_rate"].tolist() == pytest.approx([0.8, 0.9, 0.65])
    assert clean["approval_rate"].tolist()[:2] == pytest.approx([0.5, 0.85])
    # percentages and fractions are both valid input: no warning
    assert warns(report) == []


def test_small_bare_number_in_a_percent_column_is_doubtful() -> None:
    gdf = communities(participation_rate=["80", "0.9", "65"])
    clean, report = check_layer(gdf, "communities")
    assert clean["participation_rate"].tolist() == pytest.approx([0.8, 0.009, 0.65])
    assert warns(report) == [
        (
            "[warning] communities · C2 · participation_rate: participation_rate 0.9 was read as "
            "0.9 % because the other values of the column are percentages → if you meant 90 %, "
            "write 90"
        )
    ]


def test_rate_out_of_range() -> None:
    clean, report = check_layer(communities(approval_rate=["50", "150", "80"]), "communities")
    assert clean["approval_rate"].tolist()[::2] == pytest.approx([0.5, 0.8])
    assert report.warnings == []  # percent is valid input: converted without a warning
    assert errors(report) == [
        (
            "[error] communities · C2 · approval_rate: approval_rate '150' is outside 0–100 % → "
            "write a rate between 0 and 100 % (or 0 and 1)"
        )
    ]


def test_enum_aliases_from_value_aliases_csv() -> None:
    gdf = gpd.GeoDataFrame(
        {
            "项目编号": ["P1", "P2", "P3"],
            "项目类型": ["棚改", "老厂区", "公园"],
            "总投资（万元）": ["3,200", "100", "-5"],
            "预计收益（万元）": ["5200", "0", "1"],
        },
        geometry=[square(0), square(200), square(400)],
        crs=CRS,
    )
    clean, report = check_layer(gdf, "projects")
    assert clean["kind"].tolist()[:2] == ["shantytown", "old_factory"]
    assert clean["cost_wan_yuan"].tolist()[:2] == [3200.0, 100.0]
    assert errors(report) == [
        (
            "[error] projects · P3 · kind: kind '公园' is not one of shantytown / old_factory / "
            "urban_village / dangerous_housing / building_conversion / land_parcel / other → write "
            "one of: shantytown / old_factory / urban_village / dangerous_housing / "
            "building_conversion / land_parcel / other"
        ),
        (
            "[error] projects · P3 · cost_wan_yuan: cost_wan_yuan (项目成本) is -5; it must be "
            "zero "
            "or more → correct the value (remove a stray minus sign)"
        ),
    ]


def test_sites_area_and_allowed_types() -> None:
    gdf = gpd.GeoDataFrame(
        {
            "site_id": ["S1", "S2"],
            "area_m2": ["0", "1800"],
            "allowed_types": ["养老院、幼儿园", "nursery, kindergarden"],
        },
        geometry=[Point(X0, Y0), square(200)],
        crs=CRS,
    )
    clean, report = check_layer(gdf, "sites")
    assert clean.loc[0, "allowed_types"] == ("nursing_home", "kindergarten")
    assert errors(report) == [
        (
            "[error] sites · S1 · area_m2: area_m2 (用地面积) is 0; it must be greater than 0 → "
            "correct the value (remove a stray minus sign)"
        ),
        (
            "[error] sites · S2 · allowed_types: allowed_types 'kindergarden' is not in the "
            "standards table; did you mean kindergarten? → use codes (or Chinese names) of the "
            "standards table"
        ),
    ]


# --- values ----------------------------------------------------------------------------


def test_duplicate_and_missing_ids() -> None:
    gdf = communities(community_id=["C1", "C2", "C1"])
    gdf.loc[len(gdf)] = [None, "新小区", 2000, 10, square(600)]
    _, report = check_layer(gdf, "communities")
    assert errors(report) == [
        (
            "[error] communities · row 4 · community_id: community_id missing → give every 小区 a "
            "unique community_id"
        ),
        (
            "[error] communities · C1 · community_id: community_id 'C1' appears 2 times (rows 1, "
            "3) "
            "→ give each 小区 its own community_id"
        ),
    ]


def test_bad_built_years() -> None:
    _, report = check_layer(communities(built_year=["2099", "九十年代", "1995"]), "communities")
    assert errors(report) == [
        (
            "[error] communities · C2 · built_year: built_year '九十年代' is not a year → write a "
            "4-digit year such as 1995"
        ),
        (
            "[error] communities · C1 · built_year: built_year 2099 is in the future (after "
            f"{pd.Timestamp.now().year}) → correct the year (a 4-digit year such as 1995)"
        ),
    ]
    assert warns(report) == []  # '九十年代' is not a year, not also "built_year empty"
    # a really empty cell still is
    _, report = check_layer(communities(built_year=["九十年代", None, "1995"]), "communities")
    assert len(report.errors) == 1
    assert warns(report) == [
        (
            "[warning] communities · built_year: built_year (建成年份) empty in 1 row(s): C2 → "
            "fill it in; steps that need it cannot use these rows"
        )
    ]


def test_expropriation_year_may_be_future() -> None:
    year = pd.Timestamp.now().year
    gdf = communities(planned_expropriation_year=[year + 5, None, year + 31])
    _, report = check_layer(gdf, "communities")
    assert [i.row for i in report.errors] == ["C3"]


def test_project_status_and_years_are_checked() -> None:
    gdf = communities(
        status=["在建", "竣工", "完工"],
        start_year=[2025, 2024, None],
        completion_year=[None, 2022, None],
    )
    _, report = check_layer(gdf, "communities")
    assert [(i.row, i.column) for i in report.errors] == [
        ("C3", "status"),
        ("C2", "completion_year"),
    ]
    assert "completion_year 2022 is before start_year 2024" in report.errors[1].problem
    _, report = check_layer(
        communities(status=["储备"] * 3, completion_year=[2020, None, None]), "communities"
    )
    assert [(i.row, i.severity) for i in report.warnings if i.column == "status"] == [
        ("C1", "warning")
    ]


def test_scheme_vote_dates() -> None:
    gdf = communities(scheme_vote_date=["2026-10-09", "2026年3月1日", "下周"])
    out, report = check_layer(gdf, "communities")
    assert out["scheme_vote_date"].dt.strftime("%Y-%m-%d").tolist()[:2] == [
        "2026-10-09",
        "2026-03-01",
    ]
    assert [(i.row, i.problem) for i in report.errors] == [
        ("C3", "scheme_vote_date '下周' is not a date")
    ]


def test_negative_households_and_implausible_area() -> None:
    gdf = communities(households=[-5, 300, 80], floor_area_m2=[1000, 30_000, 200_000])
    _, report = check_layer(gdf, "communities")
    assert errors(report) == [
        (
            "[error] communities · C1 · households: households (户数) is -5; it must be zero or "
            "more "
            "→ correct the value (remove a stray minus sign)"
        )
    ]
    assert warns(report) == [
        (
            "[warning] communities · C3 · floor_area_m2: floor_area_m2 200000 m² for 80 households "
            "is 2500.0 m² per household, which is implausible → check the floor area (m², not "
            "万m²) "
            "and the number of households"
        )
    ]


def test_facility_type_typo_suggestion() -> None:
    gdf = gpd.GeoDataFrame(
        {"facility_id": ["F1"], "type": ["kindergarden"]}, geometry=[Point(X0, Y0)], crs=CRS
    )
    _, report = check_layer(gdf, "facilities")
    assert errors(report) == [
        (
            "[error] facilities · F1 · type: type 'kindergarden' is not in the standards table; "
            "did "
            "you mean kindergarten? → use a code (or the Chinese name) of the standards table"
        )
    ]


# --- geometry --------------------------------------------------------------------------


def test_empty_and_self_intersecting_polygons() -> None:
    gdf = communities(geometry=[Polygon(), bow_tie(200), None])
    clean, report = check_layer(gdf, "communities")
    assert errors(report) == [
        "[error] communities · C1: geometry missing or empty → draw the 小区 or delete the row",
        "[error] communities · C3: geometry missing or empty → draw the 小区 or delete the row",
    ]
    assert warns(report) == [
        (
            "[warning] communities · C2: self-intersecting polygon repaired: area 0.0 -> 5000.0 m² "
            f"(Self-intersection[{X0 + 250:.0f} {Y0 + 50:.0f}]) → check the 小区 boundary and "
            "redraw it if the repair is wrong"
        )
    ]
    assert clean.geometry.iloc[1].geom_type == "MultiPolygon"
    assert clean.geometry.iloc[1].area == pytest.approx(5000.0)


def test_points_where_polygons_expected(tmp_path: Path) -> None:
    gdf = communities(geometry=[Point(X0, Y0), square(200), MultiPoint([(X0, Y0), (X0 + 1, Y0)])])
    _, report = check_layer(gdf, "communities")
    assert errors(report) == [
        (
            "[error] communities · C1: Point where a polygon is expected → draw the 小区 boundary "
            "as a polygon"
        ),
        (
            "[error] communities · C3: MultiPoint where a polygon is expected → draw the 小区 "
            "boundary as a polygon"
        ),
    ]
    path = tmp_path / "c.gpkg"
    communities(geometry=[Point(X0, Y0)] * 3).to_file(path)
    with pytest.raises(ValidationError, match="Point where a polygon is expected") as info:
        read_layer(path, "communities")
    assert len(info.value.report.errors) == 3


def test_facility_polygons_and_multipoints() -> None:
    # facilities may be areas (a school campus), kept as polygons for polygon_boundary
    gdf = gpd.GeoDataFrame(
        {"facility_id": ["F1", "F2", "F3"], "type": ["kindergarten"] * 3},
        geometry=[square(0), MultiPoint([(X0, Y0), (X0 + 5, Y0)]), Point(X0, Y0)],
        crs=CRS,
    )
    clean, report = check_layer(gdf, "facilities")
    assert clean.geometry.iloc[0].equals(square(0))
    assert warns(report) == []
    assert errors(report) == [
        (
            "[error] facilities · F2: MultiPoint where a point or polygon is expected → draw the "
            "设施 as a point or polygon"
        )
    ]


def test_entrance_polygon_becomes_its_representative_point() -> None:
    gdf = gpd.GeoDataFrame({"community_id": ["C1"]}, geometry=[square(0)], crs=CRS)
    clean, report = check_layer(gdf, "entrances")
    assert clean.geometry.iloc[0].geom_type == "Point"
    assert square(0).contains(clean.geometry.iloc[0])
    assert warns(report) == [
        (
            "[warning] entrances · row 1: 出入口 given as a Polygon; its representative point is "
            "used → nothing to do, or give the layer as points"
        )
    ]


def test_overlapping_polygons_warning() -> None:
    gdf = communities(geometry=[square(0), square(50), square(400)])
    _, report = check_layer(gdf, "communities")
    assert report.ok
    assert warns(report) == [
        (
            "[warning] communities · C1: communities C1 and C2 overlap by 5000.0 m² → correct the "
            "boundaries so that each building belongs to one 小区"
        )
    ]


def test_touching_polygons_do_not_overlap() -> None:
    gdf = communities(geometry=[square(0), square(100), square(200)])
    assert len(check_layer(gdf, "communities")[1]) == 0


# --- coordinates -----------------------------------------------------------------------


def test_no_crs_and_no_datum() -> None:
    gdf = communities().set_crs(None, allow_override=True)
    _, report = check_layer(gdf, "communities")
    assert errors(report) == [
        (
            "[error] communities · datum: no coordinate system: the file does not say which datum "
            "its coordinates use → state the datum: add `datum: CGCS2000` (or WGS84, GCJ-02, "
            "BD-09, EPSG:xxxx) to this layer in the scenario"
        )
    ]
    clean, report = check_layer(gdf, "communities", datum="EPSG:4548")
    assert report.ok
    assert clean.crs.to_epsg() == 4548


def test_unknown_datum() -> None:
    _, report = check_layer(communities(), "communities", datum="Beijing-54-ish")
    assert [i.column for i in report.errors] == ["datum"]
    assert "unknown datum 'Beijing-54-ish'" in report.errors[0].problem


def test_lon_lat_swapped(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    lon, lat = BEIJING
    path.write_text(
        f"lon,lat,id,type\n{lat},{lon},F1,kindergarten\n{lon},{lat},F2,nursery\n",
        encoding="utf-8",
    )  # a bare 'id' is no alias (ArcGIS's Id is all 0): it is mapped
    gdf, report = validate_layer(path, "facilities", datum="WGS84", columns={"id": "facility_id"})
    assert gdf is not None
    assert errors(report) == [
        (
            "[error] facilities · F1 · geometry: coordinates outside the plausible area of WGS84 → "
            "check the coordinates: x and y (lon/lat) may be swapped, or the datum is wrong"
        )
    ]


def test_many_implausible_rows_are_capped() -> None:
    gdf = gpd.GeoDataFrame(
        {"facility_id": [f"F{i}" for i in range(25)], "type": ["nursery"] * 25},
        geometry=[Point(39.9, 116.4)] * 25,
    )
    _, report = check_layer(gdf, "facilities", datum="CGCS2000")
    assert len(report.errors) == 21
    assert report.errors[-1].problem.startswith("5 more rows (25 in all)")


def test_gcj02_converted_to_wgs84() -> None:
    gdf = gpd.GeoDataFrame(
        {"facility_id": ["F1"], "type": ["kindergarten"]}, geometry=[Point(*BEIJING)]
    )
    clean, report = check_layer(gdf, "facilities", datum="GCJ-02")
    assert report.ok
    assert clean.crs.to_epsg() == 4326
    moved = clean.geometry.iloc[0]
    _, _, dist = pyproj.Geod(ellps="WGS84").inv(*BEIJING, moved.x, moved.y)
    assert 300 < dist < 800  # the GCJ-02 offset in Beijing is about 500-600 m
    assert gdf.geometry.iloc[0].equals(Point(*BEIJING))  # input untouched


def test_file_crs_kept_when_datum_is_the_same_family() -> None:
    # scenario default datum CGCS2000 and a file in CGCS2000 / GK: no conflict, file's CRS used
    clean, report = check_layer(communities(), "communities", datum="CGCS2000")
    assert len(report) == 0
    assert clean.crs.to_epsg() == 4548


# --- read_layer / validate_layer ------------------------------------------------------


def test_read_layer_raises_with_report_and_warns_once(tmp_path: Path) -> None:
    path = tmp_path / "c.gpkg"
    communities(geometry=[square(0), square(50), bow_tie(400)]).to_file(path)
    with pytest.warns(GisplanWarning, match=r"communities: 2 warning\(s\)") as record:
        gdf = read_layer(path, "communities", target_crs="EPSG:4547")
    assert len(record) == 1
    assert gdf.crs.to_epsg() == 4547
    bad = communities(built_year=["九十年代", 1990, 1990]).astype({"built_year": str})
    bad.to_file(path, layer="bad")
    with pytest.raises(ValidationError, match="九十年代") as info:
        read_layer(path, "communities", layer="bad")
    assert [i.column for i in info.value.report.errors] == ["built_year"]


def test_validate_layer_never_raises_for_bad_files(tmp_path: Path) -> None:
    gdf, report = validate_layer(tmp_path / "missing.shp", "communities", name="小区")
    assert gdf is None
    assert report.errors[0].layer == "小区"
    assert report.errors[0].problem.endswith("missing.shp: file not found")
    bad = tmp_path / "bad.gpkg"
    bad.write_bytes(b"junk")
    gdf, report = validate_layer(bad, "communities")
    assert gdf is None
    assert report.errors[0].problem.startswith("cannot read")


def test_all_problems_reported_at_once() -> None:
    gdf = communities(
        built_year=["九十年代", 1990, 1990],
        households=[10, -1, 5],
        geometry=[None, square(200), square(400)],
    ).drop(columns=["name"])
    _, report = check_layer(gdf, "communities")
    columns = {i.column for i in report.errors}
    assert {"name", "built_year", "households"} <= columns
    assert len(report.errors) >= 4


def test_input_not_mutated() -> None:
    gdf = gpd.GeoDataFrame(
        {
            "编号": ["C1", "C1", "C3"],
            "小区名称": ["a", "b", "c"],
            "建成年代": ["1995年", "x", "2001"],
            "户数": ["1,200", "3", "4"],
            "参与率": ["80", "90", "50"],
        },
        geometry=[bow_tie(0), square(50), Point(X0, Y0)],
        crs=CRS,
        index=[10, 20, 30],
    )
    saved = gdf.copy(deep=True)
    clean, _ = check_layer(gdf, "communities")
    assert_geodataframe_equal(gdf, saved)
    assert clean.index.tolist() == [10, 20, 30]
    assert clean["community_id"].tolist() == ["C1", "C1", "C3"]


# --- properties ------------------------------------------------------------------------

FULL_WIDTH = str.maketrans("0123456789,", "０１２３４５６７８９，")


@settings(max_examples=50, deadline=None)
@given(n=st.integers(min_value=0, max_value=10**7), style=st.sampled_from(["plain", "comma", "fw"]))
def test_text_numbers_parse_exactly(n: int, style: str) -> None:
    text = {"plain": f" {n} ", "comma": f"{n:,}", "fw": f"{n:,}".translate(FULL_WIDTH)}[style]
    clean, report = check_layer(communities(households=[text, "1", "2"]), "communities")
    assert not [i for i in report.errors if i.column == "households"]
    assert int(clean.loc[0, "households"]) == n


@settings(max_examples=30, deadline=None)
@given(
    rates=st.lists(st.floats(min_value=0, max_value=100, allow_nan=False), min_size=3, max_size=3)
)
def test_rates_always_end_between_zero_and_one(rates: list[float]) -> None:
    gdf = communities(approval_rate=[str(r) for r in rates])
    clean, report = check_layer(gdf, "communities")
    assert report.ok
    values = np.asarray(clean["approval_rate"], dtype=float)
    assert ((values >= 0) & (values <= 1)).all()
    if max(rates) > 1:
        assert values.tolist() == pytest.approx([r / 100 for r in rates])
    else:
        assert values.tolist() == pytest.approx(rates)
    assert not math.isnan(values.sum())


def test_pyogrio_listing_used_for_layers(tmp_path: Path) -> None:
    # a GeoPackage with one spatial layer and a non-spatial table needs no layer=
    path = tmp_path / "one.gpkg"
    communities().to_file(path, layer="小区")
    pyogrio.write_dataframe(pd.DataFrame({"a": [1]}), path, layer="notes")
    assert len(read_file(path)) == 3


# --- table kinds: commitments and revenues (no geometry) -------------------------------


def commitments_table(**overrides: object) -> pd.DataFrame:
    """Three commitments with the headers a county bureau types (text cells, as in a CSV)."""
    data: dict[str, object] = {
        "资金落实编号": ["ZJ1", "ZJ2", "ZJ3"],
        "资金来源": ["中央预算内投资", "市县财政资金", "专营单位"],
        "出资单位": ["县发展和改革局", "县财政局", "国网示范县供电公司"],
        "金额（万元）": ["300", "120.5", "45"],
        "到位年份": ["2026", "2026年", "2027"],
        "文号/协议编号": ["示发改投资〔2026〕8号", "县政府常务会议纪要〔2026〕5号", "GD-2026-03"],
        "小区编号": ["", "C1", "C2"],
        "支付改造内容（清单编号）": ["1、2", "", "6"],
    }
    data.update(overrides)
    return pd.DataFrame(data)


def revenues_table(**overrides: object) -> pd.DataFrame:
    """A car park and a lift of community C1 (the lift loses 0.5 万元 a year)."""
    data: dict[str, object] = {
        "经营性设施编号": ["SY1", "SY2"],
        "小区编号": ["C1", "C1"],
        "经营类型": ["停车", "电梯"],
        "建设投资（万元）": ["60", "35"],
        "年净收益（万元）": ["8.5", "-0.5"],
        "开始收益年份": ["2027", "2028"],
        "收益年限": ["15", "20"],
        "运营单位": ["某停车管理公司", "电梯维保公司"],
    }
    data.update(overrides)
    return pd.DataFrame(data)


COMMITTED_SOURCES = ["central_budget_investment", "local_budget", "utility"]
REQUIRED_FIX = (
    "fill it in: every 资金落实记录 needs 资金落实编号, 资金来源, 出资单位, 金额, 到位年份, "
    "文号/协议编号"
)


def test_table_kinds_schema() -> None:
    assert layers.TABLE_KINDS == ("commitments", "revenues")
    for kind, id_column in (("commitments", "commitment_id"), ("revenues", "revenue_id")):
        schema = layer_schema(kind)
        assert (schema.geometry, schema.is_table, schema.id_column) == ("table", True, id_column)
    assert not layer_schema("communities").is_table
    commitments = layer_schema("commitments")
    assert [s.name for s in commitments.columns if s.required] == [
        "commitment_id", "source", "payer_name", "amount_wan_yuan", "year", "reference",
    ]  # fmt: skip
    assert [s.name for s in layer_schema("revenues").columns if not s.required] == [
        "name",
        "operator",
    ]
    source = commitments.column("source")
    refused = {"shortfall", "large_area_project", "cross_area_project", "central_subsidy"}
    assert source.allowed == tuple(
        c for c in vocabulary.codes("funding_source") if c not in refused
    )
    assert source.vocabulary == "funding_source"
    assert source.choices[:2] == ("中央预算内投资", "中央财政专项资金")
    kind = layer_schema("revenues").column("kind")
    assert kind.allowed == vocabulary.codes("revenue_kind")
    assert kind.choices == ("停车", "电梯", "商铺", "养老", "托育", "充电", "广告", "其他")
    assert layer_schema("projects").column("revenue_year").dtype == "year"


def test_commitments_from_chinese_headers_and_labels() -> None:
    table = commitments_table()
    clean, report = check_layer(table, "commitments")
    assert report.issues == []
    assert type(clean) is pd.DataFrame  # a plain table: no geometry, no CRS
    assert clean.columns.tolist() == [
        "commitment_id", "source", "payer_name", "amount_wan_yuan", "year", "reference",
        "community_id", "items",
    ]  # fmt: skip
    assert clean["source"].tolist() == COMMITTED_SOURCES
    assert clean["amount_wan_yuan"].tolist() == [300.0, 120.5, 45.0]
    assert clean["year"].tolist() == [2026, 2026, 2027]
    assert clean["community_id"].isna().tolist() == [True, False, False]  # blank: pool money
    assert clean["items"].tolist() == [(1, 2), (), (6,)]
    pd.testing.assert_frame_equal(table, commitments_table())  # the input is not touched


def test_every_source_label_code_and_alias_maps_to_the_code() -> None:
    allowed = layer_schema("commitments").column("source").allowed
    names = vocabulary.labels("funding_source")
    typed = [names[c] for c in allowed] + list(allowed) + ["专项债", "维修资金", " 公积金 "]
    expected = [*allowed, *allowed, "special_bonds", "maintenance_fund", "provident_fund"]
    n = len(typed)
    table = commitments_table(
        资金落实编号=[f"ZJ{i}" for i in range(n)],
        资金来源=typed,
        出资单位=["县财政局"] * n,
        **{"金额（万元）": ["10"] * n, "文号/协议编号": ["x"] * n},
        到位年份=["2026"] * n,
        小区编号=[""] * n,
        **{"支付改造内容（清单编号）": [""] * n},
    )
    clean, report = check_layer(table, "commitments")
    assert report.ok, report.format()
    assert clean["source"].tolist() == expected
    kinds, report = check_layer(revenues_table(经营类型=["停车场", "lift"]), "revenues")
    assert report.ok, report.format()
    assert kinds["kind"].tolist() == ["parking", "lift"]


def test_value_aliases_of_table_enums_give_allowed_codes() -> None:
    text = (resources.files("gisplan") / "data" / "value_aliases.csv").read_text("utf-8")
    for kind, column, header in (
        ("commitments", "source", "资金来源"),
        ("revenues", "kind", "经营类型"),
    ):
        rows = [
            r
            for r in csv.DictReader(io.StringIO(text))
            if (r["kind"], r["column"]) == (kind, column)
        ]
        typed = [alias for r in rows for alias in r["alias"].split("|")]
        codes = [r["value"] for r in rows for _ in r["alias"].split("|")]
        assert len(set(typed)) == len(typed)  # one alias, one code
        n = len(typed)
        table = commitments_table if kind == "commitments" else revenues_table
        frame = table().iloc[[0] * n].reset_index(drop=True)
        frame[frame.columns[0]] = [f"X{i}" for i in range(n)]
        frame[header] = typed
        clean, report = check_layer(frame, kind)
        assert report.ok, report.format()
        assert clean[column].tolist() == codes


@pytest.mark.parametrize("kind", ["commitments", "revenues"])
@pytest.mark.parametrize("fmt", ["csv", "xlsx", "gpkg"])
def test_tables_read_from_csv_xlsx_and_geopackage(tmp_path: Path, kind: str, fmt: str) -> None:
    table = commitments_table() if kind == "commitments" else revenues_table()
    sheet = {"commitments": "资金落实", "revenues": "经营性设施"}[kind]
    if fmt == "csv":
        path = tmp_path / f"{sheet}.csv"
        table.to_csv(path, index=False, encoding="utf-8-sig")
    elif fmt == "xlsx":  # the sheet of the gisplan init workbook is found by its name
        path = tmp_path / "调查表.xlsx"
        with pd.ExcelWriter(path) as writer:
            pd.DataFrame({"说明": ["封面"]}).to_excel(writer, sheet_name="说明", index=False)
            table.to_excel(writer, sheet_name=sheet, index=False)
    else:  # an attribute table beside spatial layers, found by the kind's name
        path = tmp_path / "资料.gpkg"
        communities().to_file(path, layer="communities")
        pyogrio.write_dataframe(table, path, layer=kind)
    clean = read_layer(path, kind, target_crs="EPSG:4547")  # a table is never projected
    assert type(clean) is pd.DataFrame
    if kind == "commitments":
        assert clean["commitment_id"].tolist() == ["ZJ1", "ZJ2", "ZJ3"]
        assert clean["source"].tolist() == COMMITTED_SOURCES
        assert clean["amount_wan_yuan"].tolist() == [300.0, 120.5, 45.0]
        assert clean["year"].tolist() == [2026, 2026, 2027]
        assert clean["community_id"].tolist()[1:] == ["C1", "C2"]
    else:
        assert clean["revenue_id"].tolist() == ["SY1", "SY2"]
        assert clean["kind"].tolist() == ["parking", "lift"]
        assert clean["build_cost_wan_yuan"].tolist() == [60.0, 35.0]
        assert clean["annual_net_income_wan_yuan"].tolist() == [8.5, -0.5]
        assert clean["start_year"].tolist() == [2027, 2028]
        assert clean["years"].tolist() == [15, 20]


def test_table_kind_needs_no_crs_or_datum(tmp_path: Path) -> None:
    path = tmp_path / "资金.csv"
    commitments_table().to_csv(path, index=False, encoding="utf-8")
    clean, report = validate_layer(path, "commitments", datum="CGCS2000", target_crs=4547)
    assert report.issues == []
    assert type(clean) is pd.DataFrame
    assert "geometry" not in clean.columns


def test_geopackage_of_several_layers_needs_the_table_named(tmp_path: Path) -> None:
    path = tmp_path / "资料.gpkg"
    communities().to_file(path, layer="communities")
    pyogrio.write_dataframe(commitments_table(), path, layer="资金表")
    clean, report = validate_layer(path, "commitments")
    assert clean is None
    assert messages(report) == [
        (
            f"[error] commitments: {path} holds 2 layers (communities, 资金表) → set 'layer:' to "
            "the table to read (e.g. layer: commitments)"
        )
    ]
    assert read_layer(path, "commitments", layer="资金表")["source"].tolist() == COMMITTED_SOURCES


def test_bad_source_names_the_row_and_lists_the_choices(tmp_path: Path) -> None:
    table = commitments_table(资金来源=["中央预算内投资", "财政拨款", "资金缺口"])
    _, report = check_layer(table, "commitments")
    assert [(i.layer, i.row, i.column) for i in report.errors] == [
        ("commitments", "ZJ2", "source"),
        ("commitments", "ZJ3", "source"),
    ]
    unknown, gap = report.errors
    assert unknown.problem == (
        "source '财政拨款' is not a known 资金来源 (neither a Chinese name nor a code)"
    )
    assert unknown.fix.startswith(
        "write one of: 中央预算内投资 (central_budget_investment) / "
        "中央财政专项资金 (central_special_fund) / 省级财政资金 (provincial_budget) / "
    )
    assert unknown.fix.endswith("社会资本 (social_capital) / 小区经营性收益 (community_revenue)")
    assert "资金缺口" not in unknown.fix
    assert gap.problem == (
        "source '资金缺口' is not allowed here: a gap is what gisplan computes (need - committed), "
        "not money anyone commits"
    )
    path = tmp_path / "资金.csv"
    table.to_csv(path, index=False, encoding="utf-8")
    with pytest.raises(ValidationError, match=r"财政拨款") as info:
        read_layer(path, "commitments")
    assert isinstance(info.value, GisplanError)
    assert [i.row for i in info.value.report.errors] == ["ZJ2", "ZJ3"]


@pytest.mark.parametrize(
    ("typed", "why"),
    [
        ("shortfall", "a gap is what gisplan computes"),
        ("跨片区组合项目收益", "project revenue of a bundle is computed from the projects layer"),
        ("large_area_project", "project revenue of a bundle is computed from the projects layer"),
        ("中央补助资金", "中央补助 is two channels: 中央预算内投资 or 中央财政专项资金"),
    ],
)
def test_sources_a_bureau_cannot_commit(typed: str, why: str) -> None:
    _, report = check_layer(
        commitments_table(资金来源=[typed, "市县财政资金", "专营单位"]), "commitments"
    )
    assert len(report.errors) == 1
    assert report.errors[0].row == "ZJ1"
    assert report.errors[0].problem.startswith(f"source '{typed}' is not allowed here: {why}")


def test_bad_revenue_kind_lists_the_chinese_choices() -> None:
    _, report = check_layer(revenues_table(经营类型=["停车", "游泳池"]), "revenues")
    assert errors(report) == [
        (
            "[error] revenues · SY2 · kind: kind '游泳池' is not a known 经营类型 (neither a "
            "Chinese name nor a code) → write one of: 停车 (parking) / 电梯 (lift) / 商铺 (shop) "
            "/ 养老 (elderly_care) / 托育 (childcare) / 充电 (charging) / 广告 (advertising) / "
            "其他 (other)"
        )
    ]


def test_duplicate_commitment_id() -> None:
    _, report = check_layer(commitments_table(资金落实编号=["ZJ1", "ZJ1", "ZJ3"]), "commitments")
    assert errors(report) == [
        (
            "[error] commitments · ZJ1 · commitment_id: commitment_id 'ZJ1' appears 2 times "
            "(rows 1, 2) → give each 资金落实记录 its own commitment_id"
        )
    ]


def test_negative_money_and_too_few_years() -> None:
    _, report = check_layer(
        commitments_table(**{"金额（万元）": ["300", "-120.5", "0"]}), "commitments"
    )
    assert errors(report) == [
        (
            "[error] commitments · ZJ2 · amount_wan_yuan: amount_wan_yuan (金额) is -120.5; it "
            "must be zero or more → correct the value (remove a stray minus sign)"
        )
    ]
    table = revenues_table(**{"建设投资（万元）": ["-60", "35"], "收益年限": ["15", "0"]})
    _, report = check_layer(table, "revenues")
    assert errors(report) == [
        (
            "[error] revenues · SY1 · build_cost_wan_yuan: build_cost_wan_yuan (建设投资) is "
            "-60; it must be zero or more → correct the value (remove a stray minus sign)"
        ),
        (
            "[error] revenues · SY2 · years: years (收益年限) is 0; it must be 1 or more → write "
            "the number of years the facility earns income (such as 15)"
        ),
    ]  # a negative annual net income (SY2, -0.5) is a loss, not an error


def test_missing_required_column_of_a_table() -> None:
    _, report = check_layer(commitments_table().drop(columns="文号/协议编号"), "commitments")
    assert errors(report) == [
        (
            "[error] commitments · reference: column 'reference' (文号/协议编号) missing → add "
            "it or map your column under 'columns:' in the scenario (aliases accepted: "
            "文号/协议编号, 文号, 协议编号, 文件文号, 批复文号, 会议纪要, …)"
        )
    ]


def test_year_that_is_not_a_year() -> None:
    late = pd.Timestamp.now().year + 51
    table = commitments_table(到位年份=["明年", "26", str(late)])
    _, report = check_layer(table, "commitments")
    assert errors(report) == [
        (
            "[error] commitments · ZJ1 · year: year '明年' is not a year → write a 4-digit year "
            "such as 2026"
        ),
        (
            "[error] commitments · ZJ2 · year: year '26' is not a year → write a 4-digit year "
            "such as 2026"
        ),
        (
            f"[error] commitments · ZJ3 · year: year {late} is in the future (after {late - 1}) → "
            "correct the year (a 4-digit year such as 1995)"
        ),
    ]


def test_empty_required_cells_of_a_table_are_errors_per_row() -> None:
    _, report = check_layer(commitments_table(出资单位=["县财政局", "", None]), "commitments")
    assert errors(report) == [
        f"[error] commitments · ZJ2 · payer_name: payer_name (出资单位) empty → {REQUIRED_FIX}",
        f"[error] commitments · ZJ3 · payer_name: payer_name (出资单位) empty → {REQUIRED_FIX}",
    ]


def test_money_in_yuan_is_warned_in_projects_and_commitments() -> None:
    projects = gpd.GeoDataFrame(
        {
            "project_id": ["P1", "P2", "P3"],
            "kind": ["old_factory", "land_parcel", "other"],
            "cost_wan_yuan": [3200, 2800, 32_000_000],  # P3 in 元: 10,667 x the others' median
            "revenue_wan_yuan": [5200, 0, 29_000_000],  # 29e6 / 5200 = 5,577 x: not flagged
        },
        geometry=[square(0), square(200), square(400)],
        crs=CRS,
    )
    _, report = check_layer(projects, "projects")
    assert report.ok
    assert warns(report) == [
        (
            "[warning] projects · P3 · cost_wan_yuan: cost_wan_yuan (项目成本) 32,000,000 is "
            "10,667 times the median of the column's other values (3,000): it looks like 元, not "
            "万元 → divide by 10,000 (write 3,200 万元)"
        )
    ]
    table = commitments_table(**{"金额（万元）": ["300", "3,000,000", "45"]})
    _, report = check_layer(table, "commitments")
    assert report.ok
    assert warns(report) == [
        (
            "[warning] commitments · ZJ2 · amount_wan_yuan: amount_wan_yuan (金额) 3,000,000 is "
            "17,391 times the median of the column's other values (172.5): it looks like 元, not "
            "万元 → divide by 10,000 (write 300 万元)"
        )
    ]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(min_value=-5, max_value=1e9, allow_nan=False), min_size=1, max_size=7))
def test_yuan_warning_is_ten_thousand_times_the_others_median(amounts: list[float]) -> None:
    n = len(amounts)
    table = pd.DataFrame(
        {
            "commitment_id": [f"ZJ{i}" for i in range(n)],
            "source": ["local_budget"] * n,
            "payer_name": ["县财政局"] * n,
            "amount_wan_yuan": [max(a, 0.0) for a in amounts],
            "year": [2026] * n,
            "reference": ["x"] * n,
        }
    )
    _, report = check_layer(table, "commitments")
    values = table["amount_wan_yuan"].tolist()
    expected = [
        f"ZJ{i}"
        for i, v in enumerate(values)
        if v > 0
        and (others := [w for j, w in enumerate(values) if j != i and w > 0])
        and v >= 10_000 * float(np.median(others))
    ]
    assert [i.row for i in report.warnings if i.row is not None] == expected
    positive = sorted(v for v in values if v > 0)
    whole_column = bool(positive) and positive[(len(positive) - 1) // 2] > 1e5
    assert [i.row for i in report.warnings if i.row is None] == [None] * whole_column


def test_geometry_given_to_a_table_is_dropped() -> None:
    gdf = gpd.GeoDataFrame(commitments_table(), geometry=[Point(0, 0)] * 3, crs=CRS)
    clean, report = check_layer(gdf, "commitments")
    assert type(clean) is pd.DataFrame
    assert "geometry" not in clean.columns
    assert warns(report) == [
        (
            "[warning] commitments · geometry: commitments is a table: the geometry of its rows is "
            "ignored → nothing to do, or give the table without geometry (CSV, Excel sheet or a "
            "GeoPackage attribute table)"
        )
    ]


def test_communities_survey_money_columns() -> None:
    gdf = communities(维修资金余额=["12", "0", "-3"], 专营设施产权属专营单位=["是", "否", ""])
    clean, report = check_layer(gdf, "communities")
    assert clean["maintenance_fund_wan_yuan"].tolist()[:2] == [12.0, 0.0]
    assert clean["utility_network_owned"].tolist()[:2] == [True, False]
    assert clean["utility_network_owned"].isna().tolist() == [False, False, True]
    assert errors(report) == [
        (
            "[error] communities · C3 · maintenance_fund_wan_yuan: maintenance_fund_wan_yuan "
            "(住宅专项维修资金余额) is -3; it must be zero or more → correct the value (remove a "
            "stray minus sign)"
        )
    ]


def test_project_revenue_year() -> None:
    projects = gpd.GeoDataFrame(
        {
            "项目编号": ["P1", "P2"],
            "项目类型": ["老厂区", "地块"],
            "总投资（万元）": [3200, 2800],
            "预计收益（万元）": [5200, 4000],
            "收益到位年份": ["2028年", "下一年"],
        },
        geometry=[square(0), square(200)],
        crs=CRS,
    )
    clean, report = check_layer(projects, "projects")
    assert clean["revenue_year"].tolist()[0] == 2028
    assert errors(report) == [
        (
            "[error] projects · P2 · revenue_year: revenue_year '下一年' is not a year → write a "
            "4-digit year such as 2028"
        )
    ]


# --- OpenStreetMap extracts (real data; skipped when ../shared/data/osm is absent) -----------


@pytest.mark.osm
def test_osm_network_and_facilities(osm_dir: Path) -> None:
    path = osm_dir / "beijing_wudaokou_2017" / "map.osm"
    network, report = validate_layer(path, "network")
    assert report.ok, report.format()
    assert network is not None
    assert network.crs.to_epsg() == 4326
    assert set(network.geom_type) <= {"LineString", "MultiLineString"}
    assert len(network) > 1000
    facilities, report = validate_layer(path, "facilities")
    assert report.ok, report.format()
    assert facilities is not None
    assert facilities["facility_id"].is_unique
    # nodes and open ways are points; closed ways and multipolygons keep their area
    assert set(facilities.geom_type) <= {"Point", "Polygon", "MultiPolygon"}
    assert "Polygon" in set(facilities.geom_type)


@pytest.mark.osm
def test_osm_communities_skeleton(osm_dir: Path) -> None:
    path = osm_dir / "beijing_wudaokou_2017" / "map.osm"
    gdf, report = validate_layer(path, "communities")
    assert gdf is not None
    assert report.ok, report.format()
    # built_year and households are empty in an OSM skeleton: warned, not fatal
    assert {"built_year", "households"} <= {i.column for i in report.warnings}
    assert "西王庄小区" in set(gdf["name"].dropna())
