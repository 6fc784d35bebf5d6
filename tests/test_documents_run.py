"""The documents a bureau hands in, as the demo run writes them (issue 17).

What a planner opens after ``gisplan run scenarios/demo.yaml``: 报送表格.xlsx, the drafted
实施方案（草案）.docx, figures/ and 项目储备库.xlsx; and the register fed back into the next
run. Numbers are checked against the run's own tables (the demo's plan year 2027 has 9
communities; their schemes cost 2,120.00 万元 together).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import docx
import openpyxl
import pandas as pd
import pytest
import yaml

from gisplan import read_run, run_scenario
from gisplan.outputs import FIGURES_DIR, OFFICIAL_NAME
from gisplan.plan_document import DOCX_NAME
from gisplan.publicity import is_working_day
from gisplan.register import READINESS, REGISTER_NAME, read_register, write_register

pytestmark = pytest.mark.assets

#: ASCII words a reader may see: the method names, the tool, the demo's own title, and the
#: scenario keys and data file a note points to (dotted keys and file names are removed first).
ALLOWED = {"SFCA", "MCLP", "LSCP", "gisplan", "synthetic", "street", "bundle"}
_WORD = re.compile(r"[A-Za-z]{3,}")
_KEYS = re.compile(r"[a-z_]+(?:\.[a-z_]+)+(?::)?|[\w-]+\.csv")


def _workbook(path: Path) -> openpyxl.Workbook:
    """The workbook, loaded whole (a read-only workbook would keep the file open)."""
    with path.open("rb") as file:
        return openpyxl.load_workbook(file, read_only=False)


def _english(text: str) -> list[str]:
    return [w for w in _WORD.findall(_KEYS.sub("", text)) if w not in ALLOWED]


def _sheet(path: Path, name: str) -> pd.DataFrame:
    """A sheet of 报送表格.xlsx as a table: its header is the row after the 填报单位 line."""
    raw = pd.read_excel(path, sheet_name=name, header=None, engine="openpyxl")
    start = int(raw.index[raw[0].astype(str).str.startswith("序号")][0])
    table = raw.iloc[start + 1 :].reset_index(drop=True)
    table.columns = raw.iloc[start].tolist()
    return table


def _plan_cost(demo: Path) -> tuple[list[str], float]:
    run = read_run(demo)
    plan, costs = run.results["plan"], run.results["scheme_costs"]
    ids = plan.loc[plan["selected"].astype(bool), "community_id"].astype(str).tolist()
    cost = costs.loc[costs["community_id"].isin(ids), "cost_wan_yuan"].sum()
    return ids, round(float(cost), 2)


def test_the_demo_writes_every_document(demo: Path) -> None:
    for name in (OFFICIAL_NAME, DOCX_NAME, REGISTER_NAME):
        assert (demo / name).is_file(), name
    figures = sorted(p.name for p in (demo / FIGURES_DIR).glob("*.png"))
    assert figures == ["图1_改造计划.png", "图2_新增设施选址.png", "进度计划_2027.png"]
    sheets = _workbook(demo / OFFICIAL_NAME).sheetnames
    assert sheets == [
        "年度改造计划表",
        "中央补助支持计划表",
        "资金筹措表",
        "实物工作量表",
        "目标完成情况表",
        "分街道汇总",
        "分县区汇总",
        "分项目汇总",
    ]
    assert "实施进度安排" in _workbook(demo / "results.xlsx").sheetnames


def test_the_annual_plan_table_holds_the_plan_year_and_its_money(demo: Path) -> None:
    ids, cost = _plan_cost(demo)
    assert (len(ids), cost) == (9, 2120.0)
    table = _sheet(demo / OFFICIAL_NAME, "年度改造计划表")
    numbered = pd.to_numeric(table["序号"], errors="coerce").notna()
    rows, total = table[numbered], table[table["序号"] == "合计"].iloc[0]
    communities = read_run(demo).layers["communities"].set_index("community_id")
    assert sorted(rows["小区名称"]) == sorted(communities.loc[ids, "name"])
    assert round(float(total["总投资（万元）"]), 2) == cost
    assert int(total["户数（户）"]) == int(communities.loc[ids, "households"].sum())
    # per street, by hand from the same rows: 城关街道 5, 滨河街道 3 communities
    streets = _sheet(demo / OFFICIAL_NAME, "分街道汇总")
    streets = streets[pd.to_numeric(streets["序号"], errors="coerce").notna()]
    streets = streets.set_index("街道/乡镇")
    assert int(streets.loc["城关街道", "小区数（个）"]) == 5
    assert int(streets.loc["滨河街道", "小区数（个）"]) == 3
    by_street = rows.groupby("街道/乡镇")["总投资（万元）"].sum().round(2)
    assert by_street.to_dict() == streets["总投资（万元）"].round(2).to_dict()


def test_the_drafted_plan_carries_the_runs_numbers(demo: Path) -> None:
    ids, cost = _plan_cost(demo)
    document = docx.Document(str(demo / DOCX_NAME))
    text = "\n".join(p.text for p in document.paragraphs)
    assert text.startswith(
        "示范县城关片区（合成数据 synthetic）2027年城镇老旧小区改造实施方案（草案）"
    )
    assert f"{len(ids)}个小区" in text
    assert f"总投资{cost:.2f}万元" in text
    assert "【待填写" in text  # the bureau's own prose is marked, not invented
    # 公示 in the 实施步骤 chapter, with the dates of the run's publicity table
    publicity = read_run(demo).results["publicity"].iloc[0]
    start = dt.date.fromisoformat(str(publicity["publicity_start"])[:10])
    assert f"{start.year}年{start.month}月{start.day}日" in text
    # every official table is an annex table with its 合计 row
    captions = [p.text for p in document.paragraphs if p.style.name == "Caption"]
    assert any("年度改造计划表" in c for c in captions)
    totals = [t for t in document.tables if t.rows[-1].cells[0].text == "合计"]
    assert len(totals) >= 8


def test_publicity_ends_before_the_submission_deadline(demo: Path) -> None:
    """Linyi 2020 二(一)3: 公示 ≥ 5 working days, then submission by 30 September."""
    calendar = read_run(demo).results["calendar"]
    plan_year = calendar[calendar["start_year"] == 2027]
    rows = plan_year.set_index(["community_id", "milestone"])
    first = plan_year["community_id"].iloc[0]
    start = dt.date.fromisoformat(str(rows.loc[(first, "publicity"), "start_date"])[:10])
    end = dt.date.fromisoformat(str(rows.loc[(first, "publicity"), "end_date"])[:10])
    deadline = dt.date.fromisoformat(str(rows.loc[(first, "submission"), "end_date"])[:10])
    assert deadline == dt.date(2026, 9, 30)
    assert end <= deadline
    days = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
    assert sum(map(is_working_day, days)) == 5
    # 2026-09-25 (中秋节) is a holiday: the five working days are 23, 24, 28, 29, 30 September
    assert (start, end) == (dt.date(2026, 9, 23), dt.date(2026, 9, 30))
    assert plan_year["community_id"].nunique() == 9


def test_no_english_in_the_documents(demo: Path) -> None:
    found: list[str] = []
    for name in (OFFICIAL_NAME, REGISTER_NAME):
        for ws in _workbook(demo / name).worksheets:
            for row in ws.iter_rows(values_only=True):
                found += [
                    f"{name}!{ws.title}: {v}" for v in row if isinstance(v, str) and _english(v)
                ]
    document = docx.Document(str(demo / DOCX_NAME))
    cells = [c.text for t in document.tables for r in t.rows for c in r.cells]
    found += [f"docx: {t}" for t in [p.text for p in document.paragraphs] + cells if _english(t)]
    assert found == []


def _next_run(demo: Path, tmp_path: Path, repo_root: Path, ready: set[str]) -> pd.DataFrame:
    """Run the demo again from its register, with only ``ready`` marked 就绪."""
    register = read_register(demo / REGISTER_NAME)
    register = register.set_index("community_id")
    plan = read_run(demo).results["plan"]
    planned = plan.loc[plan["selected"].astype(bool), "community_id"].astype(str)
    # same plan year again: the 2027 starts of the first run go back to 储备 for the test
    register.loc[planned, ["status", "planned_year", "start_year", "completion_year"]] = [
        "储备",
        None,
        None,
        None,
    ]
    for column in READINESS:
        register[column] = [True if cid in ready else None for cid in register.index]
    path = tmp_path / "项目储备库.xlsx"
    write_register(register.reset_index(), path)
    scenario = yaml.safe_load((repo_root / "scenarios" / "demo.yaml").read_text(encoding="utf-8"))
    gpkg = str(repo_root / "layers" / "demo.gpkg")
    scenario["layers"] = {
        kind: ({**v, "path": gpkg} if isinstance(v, dict) else gpkg)
        for kind, v in scenario["layers"].items()
    }
    scenario["plan"].update(register_file=str(path), require_ready=True)
    for section in ("maps", "publish", "documents"):
        scenario.pop(section, None)
    file = tmp_path / "next.yaml"
    file.write_text(yaml.safe_dump(scenario, allow_unicode=True), encoding="utf-8")
    return run_scenario(file, write=False).results["plan"]


def test_the_register_feeds_the_next_run(demo: Path, tmp_path: Path, repo_root: Path) -> None:
    """项目等钱: with require_ready only what the register says is 就绪 enters the plan."""
    plan = _next_run(demo, tmp_path, repo_root, ready={"C065", "C150"})
    rows = plan.set_index("community_id")
    chosen = set(rows.index[rows["selected"].astype(bool)])
    assert chosen == {"C065", "C150"}
    # the first run's other choices stay out, and say why
    assert set(rows.loc[["C148", "C077", "C111"], "selection_code"]) == {"not_ready"}


def test_the_official_tables_print_readably(demo: Path) -> None:
    """Wide tables go on A3 (not shrunk to a quarter of A4); rows are as tall as their text."""
    book = _workbook(demo / OFFICIAL_NAME)
    annual, targets = book["年度改造计划表"], book["目标完成情况表"]
    assert int(annual.page_setup.paperSize) == 8  # A3
    assert int(targets.page_setup.paperSize) == 9  # A4
    assert annual.page_setup.orientation == "landscape"
    widths = [annual.column_dimensions[c].width for c in "ABCDEFGHIJKLMNOPQRSTUVWX"]
    assert max(widths) <= 24  # 改造内容 wraps instead of widening the page
    # the first community's 基础类 list (18 items) takes several lines, and its row shows them
    assert annual.row_dimensions[4].height >= 5 * 14.5
    # 计划开工/竣工: the programme calendar's 施工 span (Litong 2023 五(四): April–October)
    header = [c.value for c in annual[3]]
    row = [c.value for c in annual[4]]
    assert row[header.index("计划开工（年月）")] == "2027年4月"
    assert row[header.index("计划竣工（年月）")] == "2027年10月"


def test_the_drafted_plans_annex_tables_are_laid_out_to_be_read(demo: Path) -> None:
    """The 24-column 年度改造计划表 is an A3 landscape page; numbers are not split over lines."""
    document = docx.Document(str(demo / DOCX_NAME))
    widths_cm = sorted({round(s.page_width.cm, 1) for s in document.sections})
    assert widths_cm == [21.0, 29.7, 42.0]  # portrait text, landscape A4 and A3 annexes
    annual = next(t for t in document.tables if len(t.columns) == 24)
    header = [c.text for c in annual.rows[0].cells]
    money = header.index("总投资（万元）")
    # 2120.00 (7 digits, 8 pt: 7 × 0.141 cm) and the cell padding (2 × 0.19 cm) fit one line
    assert annual.columns[money].width.cm >= 7 * 8 * 0.5 * 0.03528 + 0.38
    items = header.index("改造内容：基础类")
    assert annual.columns[items].width.cm > 3 * annual.columns[money].width.cm


def test_an_empty_plan_still_writes_its_documents(tmp_path: Path, repo_root: Path) -> None:
    """A year with nothing planned: empty 公示 and calendar, documents that say so, no crash."""
    scenario = yaml.safe_load((repo_root / "scenarios" / "demo.yaml").read_text(encoding="utf-8"))
    gpkg = str(repo_root / "layers" / "demo.gpkg")
    scenario["layers"] = {
        kind: ({**v, "path": gpkg} if isinstance(v, dict) else gpkg)
        for kind, v in scenario["layers"].items()
    }
    scenario["plan"]["max_communities"] = 0
    scenario.pop("maps")
    file = tmp_path / "empty.yaml"
    file.write_text(yaml.safe_dump(scenario, allow_unicode=True), encoding="utf-8")
    out = tmp_path / "out"
    run_scenario(file, out=out)
    run = read_run(out)
    assert len(run.results["publicity"]) == 0
    assert not run.results["plan"]["selected"].astype(bool).any()
    annual = _sheet(out / OFFICIAL_NAME, "年度改造计划表")
    assert annual["序号"].tolist()[:1] == ["合计"]  # no community row, only the 合计
    assert (out / DOCX_NAME).is_file()
