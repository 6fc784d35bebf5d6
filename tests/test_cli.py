from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from gisplan import ScenarioError, __version__
from gisplan.cli import _echo_funding, _echo_plan, main

from _fixtures import communities, write_access_project, write_project


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(argv)
    captured = capsys.readouterr()
    code = info.value.code
    return (code if isinstance(code, int) else 0), captured.out, captured.err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(["--version"], capsys)
    assert code == 0
    assert out.strip() == f"gisplan {__version__}"


def test_run_then_refuse_to_overwrite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    yaml_path = write_project(tmp_path / "in")
    out = tmp_path / "out"
    code, stdout, _ = _run(["run", str(yaml_path), "--out", str(out), "--no-progress"], capsys)
    assert code == 0
    assert "EPSG:4548" in stdout
    assert "communities" in stdout
    assert (out / "results.gpkg").is_file()
    code, _, err = _run(["run", str(yaml_path), "--out", str(out)], capsys)
    assert code == 2
    assert "already exists" in err
    assert "Traceback" not in err


def test_validate_ok_and_failing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    yaml_path = write_project(tmp_path / "ok")
    code, out, _ = _run(["validate", str(yaml_path)], capsys)
    assert code == 0
    assert "OK: 0 error(s)" in out

    bad = communities()
    bad.loc[0, "built_year"] = 2099
    bad.loc[2, "households"] = -3
    yaml_path = write_project(tmp_path / "bad", communities_gdf=bad)
    code, out, _ = _run(["validate", str(yaml_path)], capsys)
    assert code == 1
    assert "FAILED: 2 error(s)" in out
    assert "built_year" in out
    assert "households" in out


def test_validate_reports_table_problems(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    yaml_path = write_project(tmp_path / "in")
    (tmp_path / "in" / "资金落实.csv").write_text(
        "资金落实编号,资金来源,出资单位,金额（万元）,到位年份,文号/协议编号\n"
        "ZJ1,市县财政资金,县财政局,120,2026,纪要〔2026〕5号\n"
        "ZJ2,财政拨款,县财政局,80,2026,纪要〔2026〕5号\n"
        "ZJ3,专项债,县财政局,-5,2026,示财债〔2026〕1号\n",
        encoding="utf-8",
    )
    with yaml_path.open("a", encoding="utf-8") as f:
        f.write("  commitments: 资金落实.csv\n")
    code, out, _ = _run(["validate", str(yaml_path)], capsys)
    assert code == 1
    assert "FAILED: 2 error(s), 0 warning(s)" in out
    assert "commitments:\n  [error] ZJ2 · source: source '财政拨款' is not a known 资金来源" in out
    assert "[error] ZJ3 · amount_wan_yuan: amount_wan_yuan (金额) is -5" in out


def test_scenario_error_is_one_readable_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    yaml_path = write_project(tmp_path / "in")
    yaml_path.write_text("layers: {comunities: 小区.gpkg}", encoding="utf-8")
    code, _, err = _run(["run", str(yaml_path), "--out", str(tmp_path / "o")], capsys)
    assert code == 2
    assert "did you mean 'communities'" in err
    assert "Traceback" not in err
    assert not (tmp_path / "o").exists()


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError):
        main(["--debug", "run", str(tmp_path / "missing.yaml")])


def test_run_prints_the_coverage_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    yaml_path = write_access_project(tmp_path / "in")
    code, out, _ = _run(["run", str(yaml_path), "--out", str(tmp_path / "o")], capsys)
    assert code == 0
    lines = {line.split()[1]: line.split()[2:] for line in out.splitlines() if "%" in line}
    # radius, share of communities, households, residents (no population column: –)
    assert lines["kindergarten"] == ["300", "66.7%", "84.0%", "–"]
    assert lines["primary_school"] == ["500", "66.7%", "76.0%", "–"]


def test_map_redraws_a_finished_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    yaml_path = write_access_project(tmp_path / "in")
    out = tmp_path / "o"
    assert _run(["run", str(yaml_path), "--out", str(out)], capsys)[0] == 0
    code, stdout, _ = _run(["map", str(out), "--theme", "gaps", "--online"], capsys)
    assert code == 0
    assert stdout.split() == [str(out / "maps" / "gaps.html")]
    html = (out / "maps" / "gaps.html").read_text(encoding="utf-8")
    assert "leaflet" in html
    assert "c1" in html
    # a misspelt basemap or theme: one readable message naming the key, no traceback
    code, _, err = _run(["map", str(out), "--basemap", "gaod"], capsys)
    assert code == 2
    assert "maps" in err
    assert "gaode" in err
    assert "Traceback" not in err
    code, _, err = _run(["map", str(out), "--theme", "gap"], capsys)
    assert code == 2
    assert "themes" in err
    assert "Traceback" not in err


def test_publish_needs_a_plan(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    yaml_path = write_access_project(tmp_path / "in")
    out = tmp_path / "o"
    assert _run(["run", str(yaml_path), "--out", str(out)], capsys)[0] == 0
    code, _, err = _run(["publish", str(out), "--to", str(tmp_path / "site")], capsys)
    assert code == 2
    assert "Traceback" not in err
    assert not (tmp_path / "site").exists()
    code, _, err = _run(
        ["publish", str(out), "--to", str(tmp_path / "site"), "--basemap", "gaode"], capsys
    )
    assert code == 2
    assert "publish: PublishOptions.basemap" in err


def test_plan_line_pools_and_targets(capsys: pytest.CaptureFixture[str]) -> None:
    info = {
        "plan_year": "2027",
        "chosen": "1",
        "budget_used_wan_yuan": "223.84",
        "budget_wan_yuan": "None",
        "status": "optimal",
        "mip_gap": "0.0",
        "binding": "",
        "limiting": "中央财政专项资金年度资金 1 个小区",
        "pool_central_special_fund_available_wan_yuan": "130.0",
        "pool_central_special_fund_used_wan_yuan": "122.3",
    }
    targets = pd.DataFrame(
        {
            "description_zh": ["2000年底前建成的老旧小区到2029年底全部完成改造"],
            "met": [False],
            "missing_zh": ["还需竣工1个小区（2个中已竣工1个；2029年底前未竣工：c1）"],
        }
    )
    _echo_plan(info, targets)
    assert capsys.readouterr().out.splitlines() == [
        "年度计划 plan 2027: 1 个小区，公共资金 223.84 万元 (optimal, MIP gap 0.0)",
        "  资金池 中央财政专项资金: 已用 122.30 / 可用 130.00 万元",
        "  因限额未选入 limiting: 中央财政专项资金年度资金 1 个小区",
        "改造目标 targets:",
        (
            "  [未达成] 2000年底前建成的老旧小区到2029年底全部完成改造："
            "还需竣工1个小区（2个中已竣工1个；2029年底前未竣工：c1）"
        ),
    ]
    _echo_plan(
        {**info, "budget_wan_yuan": "300.0", "limiting": "", "binding": "年度小区数量上限"}, None
    )
    assert capsys.readouterr().out.splitlines() == [
        "年度计划 plan 2027: 1 个小区，公共资金 223.84 / 300.00 万元 (optimal, MIP gap 0.0)",
        "  资金池 中央财政专项资金: 已用 122.30 / 可用 130.00 万元",
        "  用尽的限额 binding: 年度小区数量上限",
    ]


def test_funding_lines_show_pools_short_and_debt(capsys: pytest.CaptureFixture[str]) -> None:
    modes = pd.DataFrame(
        {
            "mode_zh": ["资金缺口", "小区内自求平衡"],
            "committed_wan_yuan": [40.0, 121.68],
            "assumed_wan_yuan": [9.34, 0.0],
            "shortfall_wan_yuan": [9.34, 0.0],
        }
    )
    summary = pd.DataFrame(
        {
            "source_zh": ["专营单位", "中央财政专项资金", "居民出资"],
            "pool_drawn_wan_yuan": [8781.93, 180.0, 0.0],
            "pool_wan_yuan": [4000.0, 2400.0, float("nan")],
        }
    )
    debt = pd.DataFrame({"unit_id": ["C065", "C150"], "passed": [False, True]})
    _echo_funding(modes, debt, summary)
    assert capsys.readouterr().out.splitlines() == [
        (
            "资金 funding: 资金缺口 1，小区内自求平衡 1；已落实 161.68 万元，测算 9.34 万元，"
            "资金缺口合计 9.34 万元"
        ),
        (
            "  资金池 专营单位: 各小区按规则分摊 8,781.93 万元，资金池已落实 4,000.00 万元"
            "（年度计划按年安排，其余顺延）"
        ),
        "  债务测试 debt check: 2 项，否决 1 项（C065）",
    ]
