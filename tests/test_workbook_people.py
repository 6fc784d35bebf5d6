"""Issue 17: results.xlsx is for people — names and 街道 on every community row, no English."""

from __future__ import annotations

import re
from pathlib import Path

import openpyxl
import pytest

#: The demo writes maps and pages that embed the fetched map scripts.
pytestmark = pytest.mark.assets

#: ASCII words a person may meet in the workbook: the names of methods (2SFCA, the siting models).
ALLOWED = {"SFCA", "MCLP", "LSCP"}
#: Runs of three or more ASCII letters: English left behind.
_WORD = re.compile(r"[A-Za-z]{3,}")
#: Document numbers and citations in the demo data (kept as typed by the bureau).
_CITATIONS = re.compile(r"GB\s?\d+-\d{4}")


@pytest.fixture(scope="module")
def book(demo: Path) -> openpyxl.Workbook:
    """The demo's workbook (the demo runs once per session: tests/conftest.py)."""
    return openpyxl.load_workbook(demo / "results.xlsx")


def _rows(book: openpyxl.Workbook, sheet: str) -> list[dict[str, object]]:
    rows = list(book[sheet].iter_rows(values_only=True))
    header = [str(c) for c in rows[0]]
    return [dict(zip(header, row, strict=True)) for row in rows[1:] if row[0] != "合计"]


def test_every_community_row_has_its_name_and_street(book: openpyxl.Workbook) -> None:
    with_ids = []
    for ws in book.worksheets[1:]:
        header = [c.value for c in ws[1]]
        if "小区编号" not in header:
            continue
        rows = _rows(book, ws.title)
        if any("," in str(r["小区编号"] or "") for r in rows):
            continue  # a list of communities (a bundle's members), not one community a row
        with_ids.append(ws.title)
        at = header.index("小区编号")
        assert header[at + 1 : at + 3] == ["小区名称", "街道"], ws.title
        for row in rows:
            if row["小区编号"]:
                assert row["小区名称"], (ws.title, row["小区编号"])
                assert row["街道"], (ws.title, row["小区编号"])
    assert {"改造资格", "改造方案造价", "资金来源", "年度计划", "缺口明细", "公示安排"} <= set(
        with_ids
    )
    # by hand from layers/demo.gpkg
    plan = {r["小区编号"]: r for r in _rows(book, "年度计划")}
    assert (plan["C001"]["小区名称"], plan["C001"]["街道"]) == ("北环路4号院", "城关街道")
    assert (plan["C003"]["小区名称"], plan["C003"]["街道"]) == ("凤凰苑", "东城街道")
    costs = {r["小区编号"]: r for r in _rows(book, "改造方案造价")}
    assert (costs["C065"]["小区名称"], costs["C065"]["街道"]) == ("翠苑家园", "西关街道")


def test_bundle_members_name_communities_and_projects(book: openpyxl.Workbook) -> None:
    header = [c.value for c in book["片区项目成员"][1]]
    at = header.index("单元编号")
    assert header[at + 1 : at + 3] == ["名称", "街道"]
    members = {r["单元编号"]: r for r in _rows(book, "片区项目成员")}
    assert members["P01"]["名称"] == "县纺织厂旧厂区更新"
    assert members["P01"]["单元类型"] == "项目"
    assert not members["P01"]["街道"]  # a project has no 街道 in the layer
    assert members["C021"]["单元类型"] == "小区"
    assert members["C021"]["名称"]
    assert members["C021"]["街道"]


def _english(text: str) -> list[str]:
    return [w for w in _WORD.findall(_CITATIONS.sub("", text)) if w not in ALLOWED]


def test_no_english_in_any_header_or_cell(book: openpyxl.Workbook) -> None:
    found = [
        f"{ws.title}!{cell.coordinate}: {cell.value[:100]}"
        for ws in book.worksheets
        for row in ws.iter_rows()
        for cell in row
        if isinstance(cell.value, str) and _english(cell.value)
    ]
    assert not found, f"{len(found)} cells with English:\n" + "\n".join(found[:60])


def test_the_check_flags_english() -> None:
    assert _english("site shared by 2 types") == ["site", "shared", "types"]
    assert _english("两步移动搜索法（2SFCA）；GB 50180-2018；C001；元/m²") == []
