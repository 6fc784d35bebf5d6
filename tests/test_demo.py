"""The bundled demo scenario runs end to end and its workbook reads back as a bureau would."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest

from gisplan import read_run, run_scenario

from _manifest import manifest

#: Every test here opens maps or pages that embed the fetched map scripts.
pytestmark = pytest.mark.assets


def test_demo_workbook_reads_back(demo: Path) -> None:
    book = openpyxl.load_workbook(demo / "results.xlsx")
    assert book.sheetnames[:4] == ["目录", "改造资格", "改造方案造价", "改造方案明细"]
    assert {"资金来源", "年度计划", "分年度推进", "公示安排", "覆盖率"} <= set(book.sheetnames)
    plan = book["年度计划"]
    header = [c.value for c in plan[1]]
    selected = header.index("是否纳入计划")
    chosen = [row[selected] for row in plan.iter_rows(min_row=2, values_only=True)]
    assert sum(1 for v in chosen if v == "是") == 9  # the utilities' 2027 money binds in the demo
    costs = book["改造方案造价"]
    assert costs.cell(row=costs.max_row, column=1).value == "合计"
    assert costs.freeze_panes == "A2"


def test_demo_workbook_is_for_people(demo: Path) -> None:
    """Issue 17: an index, Chinese values only, weighted rates in 合计, A4 landscape."""
    book = openpyxl.load_workbook(demo / "results.xlsx")
    index = {r[0]: r for r in book["目录"].iter_rows(min_row=2, values_only=True)}
    assert list(index) == book.sheetnames[1:]  # every sheet, in order
    assert index["年度计划"][2] == 150  # one row per community
    assert all(str(r[1]) and not str(r[1]).isascii() for r in index.values())
    codes = {"pass", "fail", "unknown", "basic", "complete", "improve", "government", "utility"}
    for ws in book:
        for row in ws.iter_rows(min_row=2, values_only=True):
            assert not any(isinstance(v, bool) for v in row), ws.title  # 是/否, no TRUE/FALSE
            assert not codes & set(row), ws.title
        ps = ws.page_setup
        assert (ps.orientation, int(ps.paperSize), ps.fitToWidth, ps.fitToHeight) == (
            "landscape",
            9,
            1,
            0,
        )
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        assert ws.print_title_rows == "$1:$1"
    # no column both as code and in Chinese: 资格状态代码 beside 改造资格 is gone
    eligibility = [c.value for c in book["改造资格"][1]]
    assert "资格状态代码" not in eligibility
    assert "改造资格" in eligibility
    plan = [c.value for c in book["年度计划"][1]]
    assert "纳入或未纳入原因代码" not in plan
    # 合计 of the scheme costs: total 元 over total m², by hand from the same row
    costs = book["改造方案造价"]
    head = [c.value for c in costs[1]]
    total = [c.value for c in costs[costs.max_row]]
    rate = total[head.index("单位面积费用（元/m²）")]
    cost, area = total[head.index("费用（元）")], total[head.index("建筑面积（m²）")]
    assert rate == pytest.approx(cost / area, abs=0.01)
    assert rate == pytest.approx(97.84)  # 220,457,232.11 元 / 2,253,316.57 m²


def test_demo_publicity_ends_by_the_submission_deadline(demo: Path) -> None:
    book = openpyxl.load_workbook(demo / "results.xlsx")
    rows = list(book["公示安排"].iter_rows(min_row=2, values_only=True))
    head = [c.value for c in book["公示安排"][1]]
    start, end = head.index("公示开始"), head.index("公示结束")
    assert len(rows) == 9
    # the latest 5 working days ending by Wed 30 Sep 2026 (Linyi 2020 二(一)3: publicised,
    # then submitted by the end of September); Fri 25 Sep is 中秋节, a holiday
    assert {(r[start].date().isoformat(), r[end].date().isoformat()) for r in rows} == {
        ("2026-09-23", "2026-09-30")
    }


def test_demo_siting_closes_gaps_within_budget(demo: Path) -> None:
    book = openpyxl.load_workbook(demo / "results.xlsx")
    chosen = book["新增设施选址"]
    header = [c.value for c in chosen[1]]
    rows = list(chosen.iter_rows(min_row=2, values_only=True))
    assert rows[-1][0] == "合计"
    cost = header.index("费用（万元）")
    assert sum(r[cost] for r in rows[:-1]) == pytest.approx(rows[-1][cost])
    assert rows[-1][cost] <= 1500  # the demo's siting budget, 万元
    coverage = list(book["选址前后覆盖率"].iter_rows(min_row=2, values_only=True))
    head = [c.value for c in book["选址前后覆盖率"][1]]
    before, after = head.index("现状覆盖小区数（个）"), head.index("规划后覆盖小区数（个）")
    assert len(coverage) == 5  # the five types the demo scenario names
    assert all(r[after] >= r[before] for r in coverage)
    assert sum(r[after] - r[before] for r in coverage) > 0


def test_demo_writes_maps_and_the_consultation_site(demo: Path) -> None:
    maps = sorted(p.name for p in (demo / "maps").glob("*.html"))
    assert {"overview.html", "eligibility.html", "sites.html"} <= set(maps)
    pages = sorted((demo / "site" / "c").glob("*.html"))
    assert len(pages) == 9  # one page per community of the 2027 plan
    index = (demo / "site" / "index.html").read_text(encoding="utf-8")
    assert "renovation@example.org" in index  # the scenario's publish section
    assert "合成" in index  # labelled synthetic
    # run.json lists the site and the maps among the outputs it hashes
    outputs = json.loads((demo / "run.json").read_text(encoding="utf-8"))["outputs"]
    assert "site/index.html" in outputs
    assert "maps/overview.html" in outputs


def test_demo_tables_are_byte_identical_run_to_run(
    demo: Path, repo_root: Path, tmp_path: Path
) -> None:
    again = tmp_path / "again"
    run_scenario(repo_root / "scenarios" / "demo.yaml", out=again)
    assert (again / "results.gpkg").read_bytes() == (demo / "results.gpkg").read_bytes()
    tables = sorted(p.name for p in (demo / "tables").glob("*.csv"))
    assert "siting_info.csv" in tables
    for name in tables:
        assert (again / "tables" / name).read_bytes() == (demo / "tables" / name).read_bytes(), name


def test_demo_bundles_balance_and_feed_the_funding(demo: Path) -> None:
    book = openpyxl.load_workbook(demo / "results.xlsx")
    sheet = book["大片区统筹项目"]
    head = [c.value for c in sheet[1]]
    rows = [r for r in sheet.iter_rows(min_row=2, values_only=True) if r[0] != "合计"]
    assert rows  # the demo has projects next to old communities
    balance = head.index("收支结余（万元）")
    assert all(r[balance] >= 0 for r in rows)  # every bundle pays for itself
    modes = {r[0]: r for r in book["资金平衡方式汇总"].iter_rows(min_row=2, values_only=True)}
    assert {"大片区统筹平衡", "跨片区组合平衡"} <= set(modes)  # the code column is left out
    assert (demo / "maps" / "bundles.html").is_file()


def test_demo_outputs_match_the_recorded_manifest(demo: Path) -> None:
    """results.gpkg table by table and every tables/*.csv equal tests/data/demo_manifest.json.

    A change here is a change of the demo's results: regenerate the manifest only on purpose
    (see tests/_manifest.py) and say which figure changed and why in the commit.
    """
    recorded_path = Path(__file__).parent / "data" / "demo_manifest.json"
    recorded = json.loads(recorded_path.read_text(encoding="utf-8"))
    now = manifest(demo)
    assert sorted(now["gpkg"]) == sorted(recorded["gpkg"])
    assert sorted(now["tables"]) == sorted(recorded["tables"])
    changed = [k for k in recorded["gpkg"] if now["gpkg"][k] != recorded["gpkg"][k]]
    changed += [k for k in recorded["tables"] if now["tables"][k] != recorded["tables"][k]]
    assert changed == []


def test_demo_programme_rules_at_work(demo: Path) -> None:
    """The demo shows each rule of issue 13: status, menu schemes, heritage, consent by area."""
    run = read_run(demo)
    plan = run.results["plan"]
    under_way = plan[plan["project_status"].isin(["新开工", "在建", "竣工"])]
    assert len(under_way) > 0
    assert not under_way["selected"].any()  # never planned again (不得重复建设)
    assert under_way["selection_reason"].str.startswith("已").all()
    assert under_way["selection_reason"].str.endswith("不再重复纳入计划（不得重复建设）").all()
    assert (under_way["selection_code"] == "under_way").all()
    # one scheme per community from the menu, not one package for all (不搞一刀切)
    per_scheme = run.results["schemes"].groupby("community_id").size()
    assert per_scheme.min() < per_scheme.max()
    assert per_scheme.std() > 2
    # C009 has historic buildings and old trees: no demolition, no felling
    review = run.results["scheme_review"].set_index(["community_id", "item"])
    assert review.loc[("C009", 10), "decision"] == "exclude"
    assert "小区涉及历史建筑：不得拆除" in review.loc[("C009", 10), "reason"]
    schemes = run.results["schemes"].set_index(["community_id", "item"])
    assert schemes.loc[("C009", 6), "reason"].endswith(
        "施工不得砍伐古树名木（住建部2021 底线(二)）"
    )
    # C013: 75 % of owners take part, but only 60 % of the floor area (双三分之二)
    elig = run.results["eligibility"].set_index("community_id")
    assert elig.loc["C013", "status"] == "eligible_waiting_consent"
    assert elig.loc["C013", "reasons_zh"] == (
        "参与表决业主专有面积占建筑面积60%，低于66.7%，暂不纳入年度计划"
    )


def test_demo_money_is_really_there(demo: Path) -> None:
    """Issue 14 on the demo: committed vs assumed, self-balance, the debt test, the pools."""
    run = read_run(demo)
    funding = run.results["funding"]
    assert set(funding["funding_status"]) == {"committed", "assumed", "gap"}
    # money is only 已落实 with a payer and a reference (pools: the county's allocations)
    committed = funding[funding["funding_status"] == "committed"]
    assert committed.loc[committed["pool"] == False, "reference"].ne("").all()  # noqa: E712
    # C150 balances itself: the parking operator pre-finances the whole public cost against
    # its parking and lift revenue, which services it at the coverage ratio 1.2
    modes = run.results["funding_modes"].set_index("community_id")
    assert (modes.loc["C150", "mode"], modes.loc["C150", "shortfall_wan_yuan"]) == (
        "self_balance",
        0.0,
    )
    debt = run.results["debt_check"].set_index("unit_id")
    assert bool(debt.loc["C150", "passed"])
    assert debt.loc["C150", "capacity_wan_yuan"] >= debt.loc["C150", "debt_wan_yuan"]
    # C065's special bond has no revenue to service it: refused, not counted
    assert not bool(debt.loc["C065", "passed"])
    rows = funding[funding["community_id"] == "C065"]
    assert "special_bonds" not in set(rows["source"])
    assert "债务测试未通过，不计入" in rows.loc[rows["source"] == "shortfall", "rule"].iloc[0]
    # the bundle of P05 (revenue in 2028) fails the bridging debt test and is bundled again
    rejected = debt[debt.index.str.startswith("否决")]
    assert rejected["project_ids"].tolist() == ["P05"]
    assert not rejected["passed"].any()
    assert "P05" not in ",".join(run.results["bundles"]["project_ids"])
    # the plan: a gap keeps a community out; the utilities' 2027 money binds
    plan = run.results["plan"].set_index("community_id")
    assert plan.loc["C044", "selection_code"] == "funding_gap"
    assert plan.loc["C044", "selection_reason"].startswith("资金缺口 ")
    assert not plan.loc[plan["gap_wan_yuan"] > 0, "selected"].any()
    assert set(plan.index[plan["selection_code"] == "over_pool"]) == {"C131", "C143"}
    assert plan.loc[["C065", "C150"], "selected"].all()
    info = dict(run.results["plan_info"].to_numpy().tolist())
    assert info["limiting"] == "专营单位年度资金 2 个小区"
    for source in ("utility", "central_special_fund", "local_budget"):
        used = float(info[f"pool_{source}_used_wan_yuan"])
        assert used <= float(info[f"pool_{source}_available_wan_yuan"])
    drawn = plan.loc[plan["selected"], "pool_utility_wan_yuan"].sum()
    assert float(info["pool_utility_used_wan_yuan"]) == pytest.approx(drawn, abs=1e-6)
    # the targets are a table of their own, with what is missing
    targets = run.results["targets"]
    assert len(targets) == 2
    assert targets["missing_zh"].str.startswith("还需竣工").all()
