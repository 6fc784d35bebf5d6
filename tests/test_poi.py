"""POI exports (高德/百度/腾讯): datum removed exactly, codes mapped by the packaged table."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
import yaml

from gisplan.cli import main
from gisplan.crs import bd09_to_wgs84, gcj02_to_wgs84
from gisplan.errors import GisplanWarning, LayerError
from gisplan.poi import load_poi_typecodes, map_poi_type, read_poi
from gisplan.standards import load_standard

# Gaode-style export: name, type, typecode, location "lng,lat" (GCJ-02).
_GAODE = """name,type,typecode,location
城关幼儿园,科教文化服务;学校;幼儿园,141204,"116.3101,39.9902"
海淀实验小学,科教文化服务;学校;小学,141203,"116.3120,39.9915"
东升社区卫生服务中心,医疗保健服务;综合医院;综合医院,090100,"116.3088,39.9890"
北京大学东门(公交站),交通设施服务;公交车站;普通公交站,150702,"116.3150,39.9920"
幸福里老年食堂,餐饮服务;中餐厅;中餐厅,050100,"116.3099,39.9907"
肯德基,餐饮服务;快餐厅;肯德基,050301,"116.3111,39.9911"
"""


def _csv(tmp_path: Path, text: str, name: str = "gaode.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _read(path: Path, provider: str = "gaode") -> gpd.GeoDataFrame:
    with pytest.warns(GisplanWarning, match="050301 ×1"):
        return read_poi(path, provider)  # type: ignore[arg-type]


def test_gaode_rows_mapped_and_converted_exactly(tmp_path: Path) -> None:
    out = _read(_csv(tmp_path, _GAODE)).set_index("name")
    assert out.crs == "EPSG:4326"
    assert out["type"].to_dict() == {
        "城关幼儿园": "kindergarten",
        "海淀实验小学": "primary_school",
        "东升社区卫生服务中心": "community_health_center",
        "北京大学东门(公交站)": "bus_stop",
        "幸福里老年食堂": "community_canteen",
    }
    lon, lat = gcj02_to_wgs84(116.3101, 39.9902)
    point = out.loc["城关幼儿园", "geometry"]
    assert (point.x, point.y) == (float(lon), float(lat))
    assert out.loc["城关幼儿园", "provider_code"] == "141204"
    assert out["facility_id"].tolist()[:2] == ["gaode:1", "gaode:2"]


def test_unknown_code_warned_with_count_and_skipped(tmp_path: Path) -> None:
    text = _GAODE + '麦当劳,餐饮服务;快餐厅;麦当劳,050302,"116.3112,39.9912"\n'
    with pytest.warns(GisplanWarning, match=r"2 POI row\(s\) skipped.*050301 ×1, 050302 ×1"):
        out = read_poi(_csv(tmp_path, text), "gaode")
    assert "肯德基" not in set(out["name"])
    assert len(out) == 5


def test_baidu_row_converted_from_bd09(tmp_path: Path) -> None:
    text = "名称,分类,经度,纬度\n海淀幼儿园,教育培训;幼儿园,116.403877,39.915322\n"
    out = read_poi(_csv(tmp_path, text, "baidu.csv"), "baidu")
    lon, lat = bd09_to_wgs84(116.403877, 39.915322)
    assert out["type"].tolist() == ["kindergarten"]
    assert (out.geometry.x.iloc[0], out.geometry.y.iloc[0]) == (float(lon), float(lat))


def test_tencent_categories_with_colon(tmp_path: Path) -> None:
    text = (
        "title,category,lng,lat\n"
        "某中学,教育学校:中学,116.31,39.99\n"
        "某高级中学,教育学校:中学,116.32,39.99\n"
    )
    out = read_poi(_csv(tmp_path, text, "tencent.csv"), "tencent")
    assert out["type"].tolist() == ["middle_school"]  # 高级中学 is no 初中: left out


@pytest.mark.parametrize(
    ("provider", "code", "name", "expected"),
    [
        ("gaode", "090300", "花园路社区卫生服务站", "community_health_station"),
        ("gaode", "090100", "北医三院", "-"),
        ("gaode", "141204", "阳光托育园", "nursery"),
        ("gaode", "150700", "马甸公交场站", "bus_terminal"),
        ("gaode", "060400", "钱大妈生鲜超市", "fresh_market"),
        ("gaode", "060200", "7-11", "convenience_store"),
        ("baidu", "生活服务;家政服务", "和平里日间照料中心", "elderly_day_care"),
        ("baidu", "医疗;诊所", "和平里社区卫生服务站", "community_health_station"),
        ("gaode", "070000", "北太平庄社区助餐点", "community_canteen"),
        ("gaode", "061000", "某某服装店", None),
    ],
)
def test_name_patterns_separate_what_codes_cannot(
    provider: str, code: str, name: str, expected: str | None
) -> None:
    assert map_poi_type(provider, code, name) == expected


def test_table_types_exist_in_the_standard() -> None:
    codes = set(load_standard().index) | {"-"}
    rules = load_poi_typecodes()
    assert {r.facility_type for r in rules} <= codes
    assert {r.verified for r in rules} <= {"yes", "no", "n/a"}


def test_bad_location_names_the_row(tmp_path: Path) -> None:
    text = _GAODE.replace('"116.3120,39.9915"', '"116.3120"')
    with pytest.raises(LayerError, match=r"row 2 \(海淀实验小学\): '116.3120'"):
        read_poi(_csv(tmp_path, text), "gaode")


def test_swapped_location_refused(tmp_path: Path) -> None:
    text = _GAODE.replace('"116.3120,39.9915"', '"39.9915,116.3120"')
    with pytest.raises(LayerError, match=r"row 2 \(海淀实验小学\): latitude and longitude"):
        read_poi(_csv(tmp_path, text), "gaode")


def test_excel_export_keeps_leading_zero(tmp_path: Path) -> None:
    path = tmp_path / "gaode.xlsx"
    frame = gpd.pd.DataFrame(
        {"名称": ["好邻居便利店"], "typecode": [60200], "经度": [116.31], "纬度": [39.99]}
    )
    frame.to_excel(path, index=False)
    out = read_poi(path, "gaode")
    assert out["provider_code"].tolist() == ["060200"]
    assert out["type"].tolist() == ["convenience_store"]


def test_init_from_poi_writes_facilities_and_scenario(tmp_path: Path) -> None:
    folder = tmp_path / "district"
    with pytest.raises(SystemExit) as done, pytest.warns(GisplanWarning):
        main(
            ["init", str(folder), "--from-poi", str(_csv(tmp_path, _GAODE)), "--provider", "gaode"]
        )
    assert done.value.code in {0, None}
    facilities = gpd.read_file(folder / "facilities.gpkg", layer="facilities")
    assert facilities.crs == "EPSG:4326"
    assert len(facilities) == 5
    text = (folder / "scenario.yaml").read_text(encoding="utf-8")
    scenario = yaml.safe_load(text)
    assert scenario["layers"]["facilities"]["path"] == "facilities.gpkg"
    assert scenario["layers"]["communities"]["path"] == "survey_template.xlsx"
    assert "须自行提供" in text
    assert (folder / "survey_template.xlsx").is_file()
    assert (folder / "layers_template.gpkg").is_file()
