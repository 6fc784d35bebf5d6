"""The drafted implementation plan (实施方案（草案）.docx) and its key maps, from the demo run."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import docx
import pandas as pd
import pytest
from docx.text.paragraph import Paragraph

from gisplan import read_run
from gisplan.errors import OutputError
from gisplan.outputs import RunResult
from gisplan.plan_document import (
    CHAPTERS,
    DOCX_NAME,
    PLACEHOLDER,
    key_map_figures,
    write_implementation_plan,
)

#: The demo fixture writes maps that embed the fetched map scripts.
pytestmark = pytest.mark.assets

PLAN_YEAR = 2027  # eligibility.plan_year of scenarios/demo.yaml


@pytest.fixture(scope="module")
def run(demo: Path) -> RunResult:
    return read_run(demo)


@pytest.fixture(scope="module")
def annex(run: RunResult) -> dict[str, pd.DataFrame]:
    frames = run.frames()
    summary = frames["funding_summary"][["source_zh", "committed_wan_yuan", "assumed_wan_yuan"]]
    total = pd.DataFrame(
        [
            {
                "source_zh": "合计",
                "committed_wan_yuan": summary["committed_wan_yuan"].sum(),
                "assumed_wan_yuan": summary["assumed_wan_yuan"].sum(),
            }
        ]
    )
    columns = ["community_id", "name", "status_zh", "scope_zh", "rule_built_year", "rule_land"]
    columns += ["rule_consent", "rule_conditions", "rule_prior_subsidy"]
    wide = frames["eligibility"].head(6)[columns]
    return {"资金来源汇总": pd.concat([summary, total], ignore_index=True), "改造资格": wide}


@pytest.fixture(scope="module")
def written(
    run: RunResult, annex: dict[str, pd.DataFrame], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path, list[tuple[Path, str]]]:
    folder = tmp_path_factory.mktemp("plan_document")
    figures = key_map_figures(run, folder / "figures")
    (folder / "a").mkdir()  # a folder: the file goes inside it under its standard name
    first = write_implementation_plan(
        run, folder / "a", plan_year=PLAN_YEAR, tables=annex, figures=figures
    )
    second = write_implementation_plan(
        run, folder / "b.docx", plan_year=PLAN_YEAR, tables=annex, figures=figures
    )
    return first, second, figures


def _text(path: Path) -> str:
    document = docx.Document(str(path))
    cells = [c.text for t in document.tables for row in t.rows for c in row.cells]
    return "\n".join([p.text for p in document.paragraphs] + cells)


def _style(paragraph: Paragraph) -> str:
    return paragraph.style.name if paragraph.style is not None else ""


def _selected_total(run: RunResult) -> tuple[int, float]:
    frames = run.frames()
    plan = frames["plan"]
    chosen = plan.loc[plan["selected"].astype(bool), "community_id"]
    costs = frames["scheme_costs"]
    return len(chosen), float(costs.loc[costs["community_id"].isin(chosen), "cost_wan_yuan"].sum())


def test_title_and_every_chapter_in_order(written: tuple[Path, Path, list[Any]]) -> None:
    path = written[0]
    assert path.name == DOCX_NAME
    document = docx.Document(str(path))
    headings = [p.text for p in document.paragraphs if _style(p) == "Heading 1"]
    assert headings == list(CHAPTERS)
    title = document.paragraphs[0].text
    assert (
        title
        == f"示范县城关片区（合成数据 synthetic）{PLAN_YEAR}年城镇老旧小区改造实施方案（草案）"
    )
    assert "gisplan" in document.paragraphs[1].text
    assert "【待填写】" in document.paragraphs[1].text


def test_plan_year_numbers_come_from_the_run(
    run: RunResult, written: tuple[Path, Path, list[Any]]
) -> None:
    n, total = _selected_total(run)
    assert (n, round(total, 2)) == (9, 2120.0)  # the demo plan: 9 communities
    text = _text(written[0])
    assert f"{PLAN_YEAR}年计划改造老旧小区{n}个" in text
    assert f"总投资{total:.2f}万元" in text
    eligibility = run.frames()["eligibility"]
    assert f"本次摸底调查小区{len(eligibility)}个" in text
    waiting = int((eligibility["status"] == "eligible_waiting_consent").sum())
    assert f"符合条件，待居民同意{waiting}个" in text
    assert "2005年12月31日前建成" in text  # the linyi preset's cut-off
    assert "临沂2020 一(一)" in text  # its seed


def test_plan_table_totals_the_selected_communities(
    run: RunResult, written: tuple[Path, Path, list[Any]]
) -> None:
    n, total = _selected_total(run)
    document = docx.Document(str(written[0]))
    table = document.tables[0]
    assert len(table.rows) == 1 + n + 1  # header, communities, 合计
    last = [c.text for c in table.rows[-1].cells]
    assert last[0] == "合计"
    assert f"{total:.2f}" in last


def test_money_totals_equal_the_funding_summary(
    run: RunResult, written: tuple[Path, Path, list[Any]]
) -> None:
    summary = run.frames()["funding_summary"]
    committed = float(summary["committed_wan_yuan"].sum())
    assumed = float(summary["assumed_wan_yuan"].sum())
    gap = float(summary["gap_wan_yuan"].sum())
    assert assumed > 0  # the demo assumes money: it must be labelled
    text = _text(written[0])
    assert (
        f"已落实{committed:.2f}万元，测算（假设）{assumed:.2f}万元，资金缺口{gap:.2f}万元" in text
    )
    table = docx.Document(str(written[0])).tables[1]
    assert [c.text for c in table.rows[0].cells][:3] == [
        "资金渠道",
        "已落实（万元）",
        "测算（假设）（万元）",
    ]
    assert [c.text for c in table.rows[-1].cells] == [
        "合计",
        f"{committed:.2f}",
        f"{assumed:.2f}",
        f"{gap:.2f}",
    ]
    for mode in run.frames()["financing_totals"]["mode_zh"]:
        assert f"{mode}：" in text


def test_placeholders_are_marked_and_closed(written: tuple[Path, Path, list[Any]]) -> None:
    document = docx.Document(str(written[0]))
    chapter = ""
    found: dict[str, int] = {}
    for paragraph in document.paragraphs:
        if _style(paragraph) == "Heading 1":
            chapter = paragraph.text
        if chapter and PLACEHOLDER in paragraph.text:
            assert paragraph.text.startswith("【待填写：")
            assert paragraph.text.endswith("】")
            found[chapter] = found.get(chapter, 0) + 1
    # 指导思想, 基本原则; the undated steps; four 保障措施
    assert found == {"一、总体要求": 2, "六、实施步骤与时间安排": 1, "七、保障措施": 4}


def test_annex_tables_and_figures(
    annex: dict[str, pd.DataFrame], written: tuple[Path, Path, list[tuple[Path, str]]]
) -> None:
    document = docx.Document(str(written[0]))
    captions = [p.text for p in document.paragraphs if _style(p) == "Caption"]
    assert captions[-4:] == [
        "附件1 资金来源汇总",
        "附件2 改造资格",
        f"附件3 {written[2][0][1]}",
        f"附件4 {written[2][1][1]}",
    ]
    tables = document.tables[-2:]
    for table, frame in zip(tables, annex.values(), strict=True):
        assert len(table.rows) == len(frame) + 1
        assert len(table.columns) == len(frame.columns)
    assert tables[0].rows[0].cells[0].text == "资金来源"  # Chinese header from the vocabulary
    assert tables[0].rows[-1].cells[0].text == "合计"  # as given
    assert len(document.inline_shapes) == 2
    wide = [s for s in document.sections if (s.page_width or 0) > (s.page_height or 0)]
    assert len(wide) == 1  # the 9-column table is on a landscape page


def test_two_writes_are_byte_identical(written: tuple[Path, Path, list[Any]]) -> None:
    first, second, _ = written
    assert first.read_bytes() == second.read_bytes()
    core = docx.Document(str(first)).core_properties
    assert core.created is not None
    assert core.created.year == 2000  # a fixed date: the same run gives the same bytes


def test_east_asian_fonts_and_a4(written: tuple[Path, Path, list[Any]]) -> None:
    document = docx.Document(str(written[0]))
    qn = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"

    def east_asia(style: str) -> str | None:
        fonts = document.styles[style].element.rPr.find(f"{qn}rFonts")
        return None if fonts is None else fonts.get(f"{qn}eastAsia")

    assert east_asia("Normal") == "仿宋"
    assert east_asia("Heading 1") == "黑体"
    section = document.sections[0]
    assert section.page_width is not None
    assert section.page_height is not None
    assert (round(section.page_width.cm, 1), round(section.page_height.cm, 1)) == (21.0, 29.7)
    assert 'w:instr="PAGE"' in section.footer._element.xml


def test_calendar_milestones_replace_the_placeholder(run: RunResult, tmp_path: Path) -> None:
    calendar = pd.DataFrame(
        {
            "community_id": ["C1", "C2", "C1", "C1"],
            "start_year": [PLAN_YEAR] * 3 + [PLAN_YEAR + 1],
            "milestone_zh": ["摸底调查", "摸底调查", "全面改造", "全面改造"],
            "seq": [10, 10, 50, 50],
            "start_date": ["2026-08-01", "2026-08-03", "2027-04-01", "2028-04-01"],
            "end_date": ["2026-10-31", "2026-10-20", "2027-10-31", "2028-10-31"],
            "basis": ["利通区2023 五(一)", "利通区2023 五(一)", "利通区2023 五(四)", ""],
            "assumed": [True, False, False, False],
        }
    )
    path = write_implementation_plan(
        run, tmp_path / "p.docx", plan_year=PLAN_YEAR, calendar=calendar
    )
    text = _text(path)
    assert (
        "（一）摸底调查：2026年8月1日至2026年10月31日。"
        "（依据：利通区2023 五(一)；时间为参照安排（假设），须核定）" in text
    )
    assert "（二）全面改造：2027年4月1日至2027年10月31日。（依据：利通区2023 五(四)）" in text
    assert "2028年4月1日" not in text  # another start year
    assert text.count(f"{PLACEHOLDER}：") == 6  # 2 in 一, 4 in 七; none in 六


def test_another_plan_year_is_refused(run: RunResult, tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="planned 2027, not 2030"):
        write_implementation_plan(run, tmp_path / "p.docx", plan_year=2030)


def test_key_maps_are_deterministic_pngs(
    run: RunResult, written: tuple[Path, Path, list[tuple[Path, str]]], tmp_path: Path
) -> None:
    figures = written[2]
    assert [p.name for p, _ in figures] == ["图1_改造计划.png", "图2_新增设施选址.png"]
    sites = run.frames()["sites_chosen"]
    assert figures[1][1] == (
        f"新增公共服务设施选址图（{sites['site_id'].nunique()}处，设施{len(sites)}项）"
    )
    again = key_map_figures(run, tmp_path)
    for (a, _), (b, _) in zip(figures, again, strict=True):
        data = a.read_bytes()
        assert data.startswith(b"\x89PNG")
        assert b"Software" not in data
        assert data == b.read_bytes()


def test_renders_to_pdf_with_title_and_investment(
    run: RunResult, written: tuple[Path, Path, list[Any]], tmp_path: Path
) -> None:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) not installed")
    out = tmp_path / "pdf"
    subprocess.run(  # noqa: S603 - fixed arguments
        [
            soffice,
            f"-env:UserInstallation=file://{tmp_path / 'lo'}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(out),
            str(written[0]),
        ],
        check=True,
        capture_output=True,
        timeout=180,
        env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    pdf = out / written[0].with_suffix(".pdf").name
    text = subprocess.run(  # noqa: S603 - fixed arguments
        ["pdftotext", "-layout", str(pdf), "-"],  # noqa: S607 - poppler-utils on PATH
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    flat = "".join(text.split())
    _, total = _selected_total(run)
    assert f"{PLAN_YEAR}年城镇老旧小区改造实施方案（草案）" in flat
    assert f"总投资{total:.2f}万元" in flat
