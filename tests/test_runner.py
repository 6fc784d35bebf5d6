from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import geopandas as gpd
import openpyxl
import pandas as pd
import pyogrio
import pytest
from shapely.geometry import Point, box

from gisplan import OutputError, ScenarioError, ValidationError, run_scenario, validate_scenario
from gisplan.runner import load_context

from _fixtures import X0, Y0, communities, write_access_project, write_project


def test_run_writes_outputs_in_metric_crs(tmp_path: Path) -> None:
    yaml_path = write_project(tmp_path / "in")
    out = tmp_path / "out"
    result = run_scenario(yaml_path, out=out)
    assert result.out_dir == out.resolve()
    assert sorted(p.name for p in out.iterdir()) == [
        "results.gpkg",
        "run.json",
        "run.log",
        "validation_issues.csv",
    ]
    assert result.crs.to_epsg() == 4548  # CGCS2000 3-degree GK zone of 117E
    comm = result.layers["communities"]
    assert comm.crs.to_epsg() == 4548
    assert comm.loc[comm["community_id"] == "c2", "geometry"].area.iloc[0] == pytest.approx(
        10_000.0
    )
    record = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert record["crs"]["metric"] == "EPSG:4548"
    assert record["layers"] == {"communities": 3, "facilities": 2}
    assert sorted(record["outputs"]) == ["results.gpkg", "validation_issues.csv"]
    assert all(len(h) == 64 for h in record["outputs"].values())
    assert {i["kind"] for i in record["inputs"]} == {"communities", "facilities", "standards"}
    assert all(len(i["sha256"]) == 64 for i in record["inputs"])
    assert record["scenario"]["parameters"]["name"] == "t"
    assert "geopandas" in record["versions"]
    assert "timings_s" in record
    assert "metric CRS for the run: EPSG:4548" in (out / "run.log").read_text(encoding="utf-8")
    # no temporary folders left beside the output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "out"]


def test_same_inputs_give_byte_identical_gpkg(tmp_path: Path) -> None:
    yaml_path = write_project(tmp_path / "in")
    run_scenario(yaml_path, out=tmp_path / "a")
    run_scenario(yaml_path, out=tmp_path / "b")
    a = (tmp_path / "a" / "results.gpkg").read_bytes()
    b = (tmp_path / "b" / "results.gpkg").read_bytes()
    assert a == b


def test_existing_output_needs_overwrite(tmp_path: Path) -> None:
    yaml_path = write_project(tmp_path / "in")
    out = tmp_path / "out"
    run_scenario(yaml_path, out=out)
    (out / "old.txt").write_text("from an earlier run", encoding="utf-8")
    with pytest.raises(OutputError, match="--overwrite"):
        run_scenario(yaml_path, out=out)
    assert (out / "old.txt").is_file()
    # a file run.json does not list is named, and kept unless forced
    with pytest.raises(OutputError, match=r"did not write or that changed since: old\.txt;"):
        run_scenario(yaml_path, out=out, overwrite=True)
    assert (out / "old.txt").is_file()
    run_scenario(yaml_path, out=out, overwrite=True, force=True)
    assert not (out / "old.txt").exists()
    assert (out / "results.gpkg").is_file()
    assert oct(out.stat().st_mode & 0o777) != oct(0o700)  # not private like a mkdtemp folder
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "out"]


def test_overwrite_never_deletes_a_folder_gisplan_did_not_make(tmp_path: Path) -> None:
    yaml_path = write_project(tmp_path / "in")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "keep.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(OutputError, match="not a gisplan output"):
        run_scenario(yaml_path, out=mine, overwrite=True)
    assert (mine / "keep.txt").read_text(encoding="utf-8") == "mine"


def test_overwrite_never_deletes_the_inputs(tmp_path: Path) -> None:
    yaml_path = write_project(tmp_path / "in")
    (tmp_path / "in" / "run.json").write_text("{}", encoding="utf-8")  # even if it looks like one
    with pytest.raises(OutputError, match=r"holds inputs of the run \(t\.yaml, 小区\.gpkg\)"):
        run_scenario(yaml_path, out=tmp_path / "in", overwrite=True)
    assert yaml_path.is_file()
    assert (tmp_path / "in" / "小区.gpkg").is_file()


def test_outputs_dir_is_relative_to_the_scenario_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    yaml_path = write_project(tmp_path / "in")
    yaml_path.write_text(
        yaml_path.read_text(encoding="utf-8") + "outputs: {dir: 结果}\n", encoding="utf-8"
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    result = run_scenario(yaml_path)
    assert result.out_dir == (tmp_path / "in" / "结果").resolve()
    assert (tmp_path / "in" / "结果" / "run.json").is_file()
    assert list(elsewhere.iterdir()) == []


def test_broken_standards_table_is_reported_not_raised(tmp_path: Path) -> None:
    yaml_path = write_project(tmp_path / "in")
    (tmp_path / "in" / "std.csv").write_text("code,name\nk,幼儿园\n", encoding="utf-8")
    yaml_path.write_text(
        yaml_path.read_text(encoding="utf-8") + "standards: std.csv\n", encoding="utf-8"
    )
    report = validate_scenario(yaml_path)
    assert [i.layer for i in report.errors] == ["standards"]
    assert "facility_code" in report.errors[0].problem
    with pytest.raises(ValidationError, match="standards"):
        run_scenario(yaml_path, out=tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_bad_data_leaves_no_output(tmp_path: Path) -> None:
    bad = communities()
    bad.loc[1, "built_year"] = 2099
    bad.loc[2, "geometry"] = Point(500_450, 3_875_050)
    yaml_path = write_project(tmp_path / "in", communities_gdf=bad)
    out = tmp_path / "outputs" / "t"
    with pytest.raises(ValidationError) as info:
        run_scenario(yaml_path, out=out)
    problems = {(i.row, i.column) for i in info.value.report.errors}
    assert ("c2", "built_year") in problems
    assert any("point" in i.problem.lower() for i in info.value.report.errors)
    # not even the parent folder is created
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]


def test_failed_overwrite_keeps_the_old_output(tmp_path: Path) -> None:
    yaml_path = write_project(tmp_path / "in")
    out = tmp_path / "out"
    run_scenario(yaml_path, out=out)
    before = (out / "results.gpkg").read_bytes()
    bad = communities()
    bad.loc[0, "households"] = -5
    write_project(tmp_path / "in", communities_gdf=bad)
    with pytest.raises(ValidationError, match="households"):
        run_scenario(yaml_path, out=out, overwrite=True)
    assert (out / "results.gpkg").read_bytes() == before


def test_validate_scenario_collects_every_layer(tmp_path: Path) -> None:
    bad = communities()
    bad.loc[0, "built_year"] = 2099
    bad.loc[1, "community_id"] = "c3"
    yaml_path = write_project(tmp_path / "in", communities_gdf=bad)
    report = validate_scenario(yaml_path)
    assert not report.ok
    columns = {i.column for i in report.errors}
    assert {"built_year", "community_id"} <= columns
    assert not (Path.cwd() / "outputs" / "t").exists()


def test_validate_scenario_reports_scenario_errors(tmp_path: Path) -> None:
    yaml_path = write_project(tmp_path / "in")
    yaml_path.write_text("layers: {comunities: 小区.gpkg}", encoding="utf-8")
    report = validate_scenario(yaml_path)
    assert not report.ok
    assert {i.layer for i in report} == {"scenario"}
    assert any("did you mean 'communities'" in i.fix for i in report)


def test_table_layers_stay_tables_in_the_context(tmp_path: Path) -> None:
    yaml_path = write_project(tmp_path / "in")
    revenues = pd.DataFrame(
        {"revenue_id": ["SY1"], "community_id": ["c1"], "kind": ["停车"],
         "build_cost_wan_yuan": [60], "annual_net_income_wan_yuan": [8.5],
         "start_year": [2027], "years": [15]}
    )  # fmt: skip
    pyogrio.write_dataframe(revenues, tmp_path / "in" / "小区.gpkg", layer="revenues")
    with yaml_path.open("a", encoding="utf-8") as f:
        f.write("  revenues: 小区.gpkg\n")  # the GeoPackage's attribute table of that name
    ctx = load_context(yaml_path)
    assert type(ctx.layers["revenues"]) is pd.DataFrame  # not reprojected, no CRS needed
    assert ctx.layers["revenues"]["kind"].tolist() == ["parking"]
    assert ctx.layers["communities"].crs.to_epsg() == 4548
    assert ctx.report.issues == []


def test_entrances_must_reference_communities(tmp_path: Path) -> None:
    yaml_path = write_project(tmp_path / "in")
    gpd.GeoDataFrame(
        {"community_id": ["c1", "c9"]},
        geometry=[Point(500_000, 3_875_050), Point(500_700, 3_875_050)],
        crs="EPSG:4548",
    ).to_file(tmp_path / "in" / "小区.gpkg", layer="entrances")
    yaml_path.write_text(
        "name: t\nlayers:\n  communities: 小区.gpkg\n  entrances: 小区.gpkg\n", encoding="utf-8"
    )
    report = validate_scenario(yaml_path)
    assert [(i.layer, i.row) for i in report.errors] == [("entrances", "row 2")]
    assert "c9" in report.errors[0].problem


def test_access_step_distances_gaps_and_outputs(tmp_path: Path) -> None:
    yaml_path = write_access_project(tmp_path / "in")
    out = tmp_path / "out"
    result = run_scenario(yaml_path, out=out)
    gaps = result.results["gaps"].set_index(["community_id", "type"])
    # gate -> street 10 m, along the street, street -> facility (kindergarten 60 m, school 160 m)
    assert gaps.loc[("c1", "kindergarten"), "dist_m"] == pytest.approx(70.0)
    assert gaps.loc[("c2", "kindergarten"), "dist_m"] == pytest.approx(270.0)
    assert gaps.loc[("c3", "kindergarten"), "dist_m"] == pytest.approx(470.0)
    assert gaps.loc[("c3", "kindergarten"), "shortfall_m"] == pytest.approx(170.0)
    assert gaps.loc[("c1", "primary_school"), "dist_m"] == pytest.approx(570.0)
    assert gaps.loc[("c1", "primary_school"), "shortfall_m"] == pytest.approx(70.0)
    # rows: community, then types in the standard table's order (primary school before kindergarten)
    assert gaps["covered"].tolist() == [False, True, True, True, True, False]
    coverage = result.results["coverage"].set_index("type")
    assert coverage.loc["kindergarten", "share_households"] == pytest.approx(420 / 500)
    assert coverage.loc["primary_school", "share_households"] == pytest.approx(380 / 500)
    assert coverage.loc["kindergarten", "share_communities"] == pytest.approx(2 / 3)
    layers = dict(pyogrio.list_layers(out / "results.gpkg"))
    assert {"gaps", "coverage", "community_gaps", "origins"} <= set(layers)
    assert layers["community_gaps"] == "Polygon"
    book = openpyxl.load_workbook(out / "results.xlsx")
    assert book.sheetnames == ["目录", "覆盖率", "小区缺口", "缺口明细"]
    assert "步行距离（m）" in [c.value for c in book["缺口明细"][1]]
    record = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert record["steps"] == ["layers", "access"]
    assert "access" in record["timings_s"]


def test_access_step_is_deterministic(tmp_path: Path) -> None:
    yaml_path = write_access_project(tmp_path / "in")
    run_scenario(yaml_path, out=tmp_path / "a")
    run_scenario(yaml_path, out=tmp_path / "b")
    a = (tmp_path / "a" / "results.gpkg").read_bytes()
    assert a == (tmp_path / "b" / "results.gpkg").read_bytes()


def test_access_step_2sfca_for_types_with_capacity(tmp_path: Path) -> None:
    yaml_path = write_access_project(tmp_path / "in")
    fac = gpd.read_file(tmp_path / "in" / "小区.gpkg", layer="facilities")
    fac["capacity"] = [60.0, None]  # the kindergarten has 60 places, the school no figure
    fac.to_file(tmp_path / "in" / "小区.gpkg", layer="facilities")
    result = run_scenario(yaml_path, write=False)
    acc = result.results["accessibility_2sfca"]
    assert set(acc["type"]) == {"kindergarten"}  # no capacity figures: no 2SFCA for schools
    # c1 (70 m) and c2 (270 m) share the 60 places; demand = households (no population column)
    by_id = acc.set_index("community_id")["accessibility"]
    assert by_id["c1"] == pytest.approx(60 / 420)
    assert by_id["c2"] == pytest.approx(60 / 420)
    assert by_id["c3"] == 0.0


def test_access_step_with_a_buildings_layer(tmp_path: Path) -> None:
    yaml_path = write_access_project(tmp_path / "in")
    x0, y0 = 500_000.0, 3_875_000.0
    gpd.GeoDataFrame(
        {"居住人口": [10, 30]},
        geometry=[
            box(x0 + 10, y0 + 10, x0 + 30, y0 + 30),  # centre (20, 20): 30 m to the street
            box(x0 + 70, y0 + 60, x0 + 90, y0 + 80),  # centre (80, 70): 80 m to the street
        ],
        crs="EPSG:4548",
    ).to_file(tmp_path / "in" / "小区.gpkg", layer="buildings")
    text = yaml_path.read_text(encoding="utf-8").replace(
        "  entrances: 小区.gpkg\n", "  entrances: 小区.gpkg\n  buildings: 小区.gpkg\n"
    )
    yaml_path.write_text(text, encoding="utf-8")
    result = run_scenario(yaml_path, out=tmp_path / "out")
    rows = result.results["building_access"].set_index(["community_id", "type"])
    kg = rows.loc[("c1", "kindergarten")]
    # street 30 / 80 m, along it 30 m to x=50, then 60 m up to the kindergarten at (50, 50)
    assert (kg["dist_min_m"], kg["dist_max_m"]) == (pytest.approx(120.0), pytest.approx(170.0))
    assert kg["dist_weighted_m"] == pytest.approx((10 * 120 + 30 * 170) / 40)
    assert kg["share_within_radius"] == pytest.approx(1.0)
    book = openpyxl.load_workbook(tmp_path / "out" / "results.xlsx")
    assert "楼栋人口加权距离" in book.sheetnames


def test_eligibility_step(tmp_path: Path) -> None:
    yaml_path = write_project(tmp_path / "in")
    yaml_path.write_text(
        yaml_path.read_text(encoding="utf-8")
        + "eligibility: {preset: tongnan, plan_year: 2027, require_state_land: false}\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    result = run_scenario(yaml_path, out=out)
    table = result.results["eligibility"].set_index("community_id")
    # built 1985 / 1998 / 2003 against Tongnan's end-2000 (2003 would need 居住条件较差: the
    # column is absent, so c3 is unknown); the survey columns of the other rules are absent,
    # so those communities stay "unknown — needs survey", never a silent pass
    assert table["status"].tolist() == ["unknown", "unknown", "unknown"]
    assert table["scope"].tolist()[:2] == ["core", "core"]
    assert table.loc["c1", "rule_built_year"] == "pass"
    book = openpyxl.load_workbook(out / "results.xlsx")
    assert book.sheetnames[:2] == ["目录", "改造资格"]
    record = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert record["steps"] == ["layers", "eligibility"]


def test_schemes_step_after_eligibility(tmp_path: Path) -> None:
    yaml_path = write_project(tmp_path / "in")
    yaml_path.write_text(
        yaml_path.read_text(encoding="utf-8")
        + "eligibility: {preset: linyi, plan_year: 2027, cutoff: 2000-12-31, "
        + "require_state_land: false}\n"
        + "schemes: {classes: [basic, complete], exclude: [28, 30], heating_zone: true}\n",
        encoding="utf-8",
    )
    result = run_scenario(yaml_path, out=tmp_path / "out")
    costs = result.results["scheme_costs"].set_index("community_id")
    assert sorted(costs.index) == ["c1", "c2"]  # c3 (built 2003) is not eligible: no scheme
    c1 = costs.loc["c1"]
    # basic + complete without items 28/30 = 28 items; without floor area or building counts the
    # 8 per-m² and 7 per-building items cannot be priced (never a silent 0)
    assert (c1["n_items"], c1["n_unpriced"]) == (28, 15)
    # per household (1,500+1,500+600+1,200+800+150+400) x 120 + lump sums 375,000 元
    assert c1["cost_wan_yuan"] == pytest.approx((6_150 * 120 + 375_000) / 10_000)
    book = openpyxl.load_workbook(tmp_path / "out" / "results.xlsx")
    assert book.sheetnames[1:] == [
        "改造资格",
        "改造方案造价",
        "改造方案明细",
        "方案待核实与不纳入内容",
    ]
    sheet = book["改造方案造价"]
    last = [c.value for c in sheet[sheet.max_row]]
    header = [c.value for c in sheet[1]]
    assert last[0] == "合计"
    assert last[header.index("费用（万元）")] == pytest.approx(costs["cost_wan_yuan"].sum())
    csv = tmp_path / "out" / "tables" / "scheme_costs.csv"
    assert csv.read_bytes().startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM for Excel
    record = json.loads((tmp_path / "out" / "run.json").read_text(encoding="utf-8"))
    assert "tables/scheme_costs.csv" in record["outputs"]


#: Schemes of every basic and complete item (the one-package calibration yardstick): these
#: tests are about the steps after the schemes, not the menu.
_WHOLE_CLASSES = "schemes: {classes: [basic, complete], exclude: [28, 30], heating_zone: false}\n"


def _surveyed_project(folder: Path) -> Path:
    """The three squares with every survey field the eligibility rules read."""
    surveyed = communities().assign(
        floor_area_m2=[9_000.0, 24_000.0, 6_000.0],
        buildings=[3, 8, 2],
        land_tenure=["国有"] * 3,
        demolition_planned=[False] * 3,
        shantytown_renovated=[False] * 3,
        planned_expropriation_year=[None, None, None],
        owners=[120, 300, 80],
        participating_owners=[96, 240, 64],  # 80 %
        participating_area_m2=[7_200.0, 19_200.0, 4_800.0],  # 80 %
        approving_owners=[87, 216, 58],  # 90 % of them
        approving_area_m2=[6_480.0, 17_280.0, 4_320.0],
        property_mgmt_agreed=[True] * 3,  # 长效管理 consensus: may enter the plan
        poor_conditions=[False] * 3,
    )
    return write_project(folder, communities_gdf=surveyed)


def test_finance_and_plan_steps(tmp_path: Path) -> None:
    yaml_path = _surveyed_project(tmp_path / "in")
    base = yaml_path.read_text(encoding="utf-8")
    base += "eligibility: {preset: tongnan, plan_year: 2027}\n" + _WHOLE_CLASSES
    base += "finance: {rules: {local_share: 0.2}}\n"
    yaml_path.write_text(base, encoding="utf-8")
    first = run_scenario(yaml_path, write=False)
    assert first.results["eligibility"]["status"].tolist() == [
        "eligible",
        "eligible",
        "not_eligible",
    ]
    funding = first.results["funding"]
    public = funding[funding["pool"]].groupby("community_id")["amount_wan_yuan"].sum()
    # room for c2 alone: c2 ranks first (age 29/50 + households 300/300 beats 42/50 + 120/300)
    budget = round(float(public["c2"]) + 1.0, 2)
    # no commitment at all: every community has a money gap, so only allow_gap lets it in
    yaml_path.write_text(
        base
        + f"plan: {{budget_wan_yuan: {budget}, allow_gap: true, publicity_start: 2025-09-26}}\n",
        encoding="utf-8",
    )
    result = run_scenario(yaml_path, out=tmp_path / "out")
    plan = result.results["plan"].set_index("community_id")
    assert plan.index[0] == "c2"
    assert plan["selected"].to_dict() == {"c2": True, "c1": False, "c3": False}
    assert plan.loc["c2", "selection_code"] == "selected_with_gap"
    assert plan.loc["c1", "selection_code"] == "over_budget"
    assert plan.loc["c1", "selection_reason"].startswith("超出年度预算：")
    info = dict(result.results["plan_info"].to_numpy().tolist())
    assert info["status"] == "optimal"
    funding = result.results["funding"].groupby("community_id")["amount_yuan"].sum()
    costs = result.results["scheme_costs"].set_index("community_id")["cost_yuan"]
    assert funding.to_dict() == pytest.approx(costs.to_dict())  # sources add up to the cost
    publicity = result.results["publicity"]
    assert publicity["community_id"].tolist() == ["c2"]
    assert publicity["publicity_end"].tolist() == [dt.date(2025, 10, 9)]  # over Golden Week
    book = openpyxl.load_workbook(tmp_path / "out" / "results.xlsx")
    assert {"资金来源", "资金平衡模式", "年度计划", "公示安排"} <= set(book.sheetnames)


def test_plan_needs_eligibility_and_schemes(tmp_path: Path) -> None:
    yaml_path = write_project(tmp_path / "in")
    yaml_path.write_text(
        yaml_path.read_text(encoding="utf-8") + "plan: {budget_wan_yuan: 100}\n", encoding="utf-8"
    )
    with pytest.raises(ScenarioError, match="plan: needs eligibility and schemes"):
        run_scenario(yaml_path, write=False)


def test_bundles_pay_the_public_cost(tmp_path: Path) -> None:
    yaml_path = _surveyed_project(tmp_path / "in")
    base = yaml_path.read_text(encoding="utf-8")
    base += "eligibility: {preset: tongnan, plan_year: 2027}\n" + _WHOLE_CLASSES + "finance: {}\n"
    yaml_path.write_text(base, encoding="utf-8")
    first = run_scenario(yaml_path, write=False)
    schemes = first.results["schemes"]
    gov = schemes[schemes["payer"] == "government"].groupby("community_id")["cost_yuan"].sum()
    public = {cid: float(v) / 10_000 for cid, v in gov.items()}  # 万元
    # P1 lies 10 m west of c1 (adjacent within 30 m) and pays c1's public cost with 1 万元 to
    # spare; P2 is 5 km away (never adjacent) with a surplus of c2's public cost + 1 万元.
    # c1 and c2 are 100 m apart: not neighbours, so c2 can only be paired across areas.
    projects = gpd.GeoDataFrame(
        {
            "project_id": ["P1", "P2"],
            "kind": ["old_factory", "land_parcel"],
            "cost_wan_yuan": [100.0, 50.0],
            "revenue_wan_yuan": [100.0 + public["c1"] + 1, 50.0 + public["c2"] + 1],
        },
        geometry=[box(X0 - 110, Y0, X0 - 10, Y0 + 100), box(X0 + 5000, Y0, X0 + 5100, Y0 + 100)],
        crs="EPSG:4548",
    )
    projects.to_file(tmp_path / "in" / "小区.gpkg", layer="projects")
    # both projects' revenue is under contract (已落实), so it pays before the government
    pd.DataFrame(
        [
            {"commitment_id": f"H{pid}", "source": "land_transfer", "payer_name": "县自然资源局",
             "amount_wan_yuan": amount, "year": 2027, "reference": f"出让合同{pid}",
             "project_id": pid}
            for pid, amount in (("P1", 100.0 + public["c1"] + 1), ("P2", 50.0 + public["c2"] + 1))
        ]
    ).to_csv(tmp_path / "in" / "commitments.csv", index=False)  # fmt: skip
    # the residents' and utilities' parts are 测算 here (nobody signed): counted, so that the
    # modes show the bundles (without count_assumed both would be 资金缺口)
    yaml_path.write_text(
        base.replace(
            "layers:\n", "layers:\n  projects: 小区.gpkg\n  commitments: commitments.csv\n"
        ).replace("finance: {}\n", "finance: {rules: {count_assumed: true}}\n")
        + "bundles: {large_area: {method: exact}}\n",
        encoding="utf-8",
    )
    result = run_scenario(yaml_path, out=tmp_path / "out")
    bundles = result.results["bundles"]
    assert bundles["community_ids"].tolist() == ["c1"]
    assert bundles["project_ids"].tolist() == ["P1"]
    assert bundles["balance_wan_yuan"].tolist() == pytest.approx([1.0], abs=0.01)
    pairs = result.results["cross_area"]
    assert pairs[["community_id", "project_id"]].to_numpy().tolist() == [["c2", "P2"]]
    funding = result.results["funding"].set_index(["community_id", "source"])["amount_yuan"]
    assert funding[("c1", "large_area_project")] == pytest.approx(float(gov["c1"]), abs=0.01)
    assert funding[("c2", "cross_area_project")] == pytest.approx(float(gov["c2"]), abs=0.01)
    sources = set(result.results["funding"].query("amount_yuan > 0")["source"])
    assert not sources & {"central_budget_investment", "central_special_fund", "local_budget"}
    status = result.results["funding"].set_index(["community_id", "source"])["funding_status"]
    assert status[("c1", "large_area_project")] == "committed"
    modes = result.results["funding_modes"].set_index("community_id")["mode"]
    assert modes.to_dict() == {"c1": "large_area", "c2": "cross_area"}
    totals = result.results["financing_totals"].set_index("mode")["communities"]
    assert (totals["large_area"], totals["cross_area"], totals["government_led"]) == (1, 1, 0)
    book = openpyxl.load_workbook(tmp_path / "out" / "results.xlsx")
    assert {"大片区统筹项目", "跨片区组合平衡", "资金平衡方式汇总"} <= set(book.sheetnames)


def _pool_commitments(folder: Path) -> None:
    """County-wide pool money (no community named) for 2027 and 2028, 万元."""
    rows = [
        ("K1", "central_special_fund", 130.0, 2027),
        ("K2", "provincial_budget", 30.0, 2027),
        ("K3", "local_budget", 60.0, 2027),
        ("K4", "land_transfer", 15.0, 2027),
        ("K5", "central_special_fund", 45.0, 2028),
        ("K6", "provincial_budget", 10.0, 2028),
        ("K7", "local_budget", 30.0, 2028),
        ("K8", "land_transfer", 5.0, 2028),
    ]
    pd.DataFrame(
        [
            {"commitment_id": k, "source": s, "payer_name": "县财政局", "amount_wan_yuan": a,
             "year": y, "reference": "示范财〔2026〕1号"}
            for k, s, a, y in rows
        ]
    ).to_csv(folder / "commitments.csv", index=False)  # fmt: skip


def test_plan_step_fits_the_pool_money_and_shows_the_targets(tmp_path: Path) -> None:
    yaml_path = _surveyed_project(tmp_path / "in")
    _pool_commitments(tmp_path / "in")
    base = yaml_path.read_text(encoding="utf-8") + "  commitments: commitments.csv\n"
    base += "eligibility: {preset: tongnan, plan_year: 2027}\n" + _WHOLE_CLASSES
    base += "finance: {rules: {local_share: 0.2}}\n"
    targets = "{all_built_before: 2000, by_year: 2029, yearly: [{year: 2027, started: 2}]}"
    plan_yaml = f"plan: {{rollout_years: [2027, 2028], targets: {targets}"
    yaml_path.write_text(base + plan_yaml + "}\n", encoding="utf-8")
    strict = run_scenario(yaml_path, write=False)
    plan = strict.results["plan"].set_index("community_id")
    # utility and social capital are only assumed (测算), not counted: a money gap each
    assert not plan["selected"].any()
    assert plan.loc["c2", "selection_code"] == "funding_gap"
    assert plan.loc["c2", "selection_reason"].startswith("资金缺口 ")
    yaml_path.write_text(base + plan_yaml + ", allow_gap: true}\n", encoding="utf-8")
    result = run_scenario(yaml_path, out=tmp_path / "out")
    plan = result.results["plan"].set_index("community_id")
    assert plan["selected"].to_dict() == {"c2": True, "c1": False, "c3": False}
    # 2027's pools hold 130 / 30 / 60 / 15 万元: c2 draws 122.30 / 29.01 / 58.02 / 14.51,
    # c1 (49.30 / 12.91 / 25.82 / 6.46) would break all four
    assert plan.loc["c1", "selection_code"] == "over_pool"
    assert plan.loc["c1", "selection_reason"].startswith(
        "超出年度资金：中央财政专项资金 可用 130.00 万元，已用 122.30 万元，本小区需 49.30 万元；"
    )
    assert plan.loc["c1", "selection_reason"].count("超出年度资金") == 4
    info = dict(result.results["plan_info"].to_numpy().tolist())
    assert info["pool_central_special_fund_available_wan_yuan"] == "130.0"
    assert info["pool_central_special_fund_used_wan_yuan"] == "122.3"
    # 2028: 45 new + 7.70 left of central_special_fund, but 10 + 0.99 provincial < 12.91
    pools = result.results["rollout_pools"].set_index(["year", "source"])
    assert pools.loc[(2028, "central_special_fund"), "pool_available_wan_yuan"] == pytest.approx(
        52.7
    )
    assert pools.loc[(2028, "provincial_budget"), "carried_in_wan_yuan"] == pytest.approx(0.99)
    assert result.results["rollout"].set_index("community_id").loc["c1", "start_year"] is pd.NA
    targets = result.results["targets"].set_index("target")
    assert targets.loc["all_built_before", "missing_zh"] == (
        "还需竣工1个小区（2个中已竣工1个；2029年底前未竣工：c1）"
    )
    assert not targets["met"].any()
    record = json.loads((tmp_path / "out" / "run.json").read_text(encoding="utf-8"))
    assert [t["target"] for t in record["targets"]] == ["all_built_before", "started_2027"]
    assert record["targets"][1]["completed"] is None
    book = openpyxl.load_workbook(tmp_path / "out" / "results.xlsx")
    assert {"改造目标", "年度资金池"} <= set(book.sheetnames)
    assert book["改造目标"]["A1"].value == "改造目标"  # description_zh's header, code left out
