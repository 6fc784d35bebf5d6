"""Units as data (issue 15 items 1, 7, 15): values with units are converted or refused."""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import box

from gisplan import run_scenario, validate_scenario
from gisplan.layers import check_layer

from _fixtures import CRS, X0, Y0, communities, write_project

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from gisplan.validation import ValidationReport


def squares(n: int) -> list[object]:
    """``n`` 100 m squares, 200 m apart."""
    return [box(X0 + 200 * i, Y0, X0 + 200 * i + 100, Y0 + 100) for i in range(n)]


def projects(cost: Sequence[object], *, header: str = "cost_wan_yuan") -> gpd.GeoDataFrame:
    """Projects with the given costs (revenue 100 万元 each)."""
    n = len(cost)
    return gpd.GeoDataFrame(
        {
            "project_id": [f"P{i + 1}" for i in range(n)],
            "kind": ["other"] * n,
            header: cost,
            "revenue_wan_yuan": [100] * n,
        },
        geometry=squares(n),
        crs=CRS,
    )


def survey(**columns: Sequence[object]) -> gpd.GeoDataFrame:
    """Communities C1, C2 … with the given columns (households 300 unless given)."""
    n = len(next(iter(columns.values())))
    data: dict[str, Sequence[object]] = {
        "community_id": [f"C{i + 1}" for i in range(n)],
        "name": [f"小区{i + 1}" for i in range(n)],
        "built_year": [1995] * n,
        "households": [300] * n,
    }
    data.update(columns)
    return gpd.GeoDataFrame(data, geometry=squares(n), crs=CRS)


def lines(report: ValidationReport) -> list[str]:
    return [issue.format() for issue in report]


# -- item 1: money and area units are converted -----------------------------------------------


def test_money_units_are_converted_to_wan_yuan() -> None:
    cells = ["15000000元", "1500万", "1500万元", "0.3亿元", "2亿", "800千元", "1,500"]
    clean, report = check_layer(projects(cells), "projects")
    assert lines(report) == []
    assert clean["cost_wan_yuan"].tolist() == [1500.0, 1500.0, 1500.0, 3000.0, 20000.0, 80.0, 1500]


def test_area_units_are_converted_to_m2() -> None:
    cells = ["2.15万㎡", "21500平方米", "21500平米", "21500m²", "21500㎡", "2.15万平方米", "21500"]
    clean, report = check_layer(survey(floor_area_m2=cells), "communities")
    assert lines(report) == []
    assert clean["floor_area_m2"].tolist() == [21500.0] * 7


def test_counts_accept_their_own_unit_and_wan() -> None:
    clean, report = check_layer(
        survey(households=["320户", "1.2万户", "80"], buildings=["8栋", "3幢", "2座"]),
        "communities",
    )
    assert report.ok
    assert clean["households"].tolist() == [320, 12000, 80]
    assert clean["buildings"].tolist() == [8, 3, 2]


def test_units_that_do_not_belong_are_refused_naming_row_column_and_fix() -> None:
    _, report = check_layer(survey(households=["1200人", "1500栋", "300"]), "communities")
    assert [i.format() for i in report.errors] == [
        (
            "[error] communities · C1 · households: households (户数) '1200人' is in 人, not 户 → "
            "write 户数 in 户 (a bare number, or with one of 户, 万户, converted to 户); a number "
            "in 人 belongs in population (人口)"
        ),
        (
            "[error] communities · C2 · households: households (户数) '1500栋' is in 栋, not 户 → "
            "write 户数 in 户 (a bare number, or with one of 户, 万户, converted to 户); a number "
            "in 栋 belongs in buildings (楼栋数)"
        ),
    ]
    _, report = check_layer(projects(["1200户", "3200"]), "projects")
    assert [i.format() for i in report.errors] == [
        (
            "[error] projects · P1 · cost_wan_yuan: cost_wan_yuan (项目成本) '1200户' is in 户, "
            "not 万元 → write 项目成本 in 万元 (a bare number, or with one of 元, 万元 (or 万), "
            "亿元, converted to 万元)"
        ),
    ]
    _, report = check_layer(survey(floor_area_m2=["21500元", "9000"]), "communities")
    assert [(i.row, i.column) for i in report.errors] == [("C1", "floor_area_m2")]


def test_a_unit_in_the_header_converts_bare_numbers() -> None:
    gdf = projects([32_000_000, "2800万元"], header="总投资（元）")
    clean, report = check_layer(gdf, "projects")
    assert lines(report) == []
    assert clean["cost_wan_yuan"].tolist() == [3200.0, 2800.0]
    gdf = survey(**{"建筑面积（万㎡）": [2.15, "9000㎡"]})
    clean, report = check_layer(gdf, "communities")
    assert report.ok
    assert clean["floor_area_m2"].tolist() == [21500.0, 9000.0]


def test_a_header_unit_of_another_kind_is_an_error() -> None:
    _, report = check_layer(
        survey(**{"户数（人）": [300, 200]}).drop(columns="households"), "communities"
    )
    assert [i.format() for i in report.errors] == [
        (
            "[error] communities · households: the header of households (户数) says 人, which is "
            "not a unit of 户数 (户) → check that the column is the right one; write 户数 in 户 "
            "(accepted: 户, 万户) and correct the header"
        ),
    ]


def test_conversions_are_logged_once_per_column_with_the_count(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="gisplan.layers"):
        check_layer(projects(["15000000元", "3000000元", "1500万", "0.3亿"]), "projects")
    converted = [r.getMessage() for r in caplog.records if "converted" in r.getMessage()]
    assert converted == [
        "projects: cost_wan_yuan: 1 value(s) in 亿 converted to 万元",
        "projects: cost_wan_yuan: 2 value(s) in 元 converted to 万元",
    ]


# -- item 1: money that looks like 元 -------------------------------------------------------------


def test_a_money_column_all_in_yuan_warns() -> None:
    # the whole projects layer in 元: no value stands out from the others, the median does
    _, report = check_layer(projects([32_000_000, 28_000_000, 52_000_000]), "projects")
    assert lines(report) == [
        (
            "[warning] projects · cost_wan_yuan: cost_wan_yuan (项目成本): the median of the "
            "column is 32,000,000 万元 (3,200 亿元 a row): it looks like 元, not 万元 → divide the "
            "column by 10,000 (write 3,200 for 32,000,000), or write the unit in each cell (元) or "
            "in the header (项目成本（元）) and gisplan converts it"
        ),
    ]
    # one large value of two is not the median: only the other check may flag it
    _, report = check_layer(projects([3200, 32_000_000]), "projects")
    assert [i.row for i in report.warnings] == ["P2"]


def _budget_project(folder: Path, plan: str, *, floor_area: bool = True) -> Path:
    yaml_path = _surveyed_project(folder, floor_area=floor_area)
    text = yaml_path.read_text(encoding="utf-8")
    text += "eligibility: {preset: tongnan, plan_year: 2027}\n"
    text += "schemes: {classes: [basic, complete], exclude: [28, 30], heating_zone: false}\n"
    text += f"plan: {plan}\n"
    yaml_path.write_text(text, encoding="utf-8")
    return yaml_path


def _surveyed_project(folder: Path, *, floor_area: bool = True) -> Path:
    """The three squares with every survey field the eligibility rules read."""
    surveyed = communities().assign(
        floor_area_m2=[9_000.0, 24_000.0, 6_000.0],
        buildings=[3, 8, 2],
        land_tenure=["国有"] * 3,
        demolition_planned=[False] * 3,
        shantytown_renovated=[False] * 3,
        planned_expropriation_year=[None] * 3,
        owners=[120, 300, 80],
        participating_owners=[96, 240, 64],
        approving_owners=[87, 216, 58],
        property_mgmt_agreed=[True] * 3,
        poor_conditions=[False] * 3,
    )
    if not floor_area:  # consent by the rates instead of by floor area
        surveyed = surveyed.drop(columns=["floor_area_m2", "owners"]).assign(
            participation_rate=[0.8] * 3,
            approval_rate=[0.9] * 3,
            scheme_vote_passed=[True] * 3,
            property_fee_agreed=[True] * 3,
        )
    return write_project(folder, communities_gdf=surveyed)


def test_a_budget_in_yuan_warns(tmp_path: Path) -> None:
    yaml_path = _budget_project(tmp_path, "{budget_wan_yuan: 80000000, allow_gap: true}")
    report = validate_scenario(yaml_path)
    assert report.ok
    assert [i.format() for i in report.warnings] == [
        (
            "[warning] scenario · plan.budget_wan_yuan: plan.budget_wan_yuan = 80,000,000 万元 "
            "(8,000 亿元) is implausibly large: it looks like 元, not 万元 → write the budget in "
            "万元 (divide by 10,000: 8,000)"
        ),
    ]


def test_a_plan_budget_above_all_schemes_warns(tmp_path: Path) -> None:
    yaml_path = _budget_project(tmp_path, "{budget_wan_yuan: 50000, allow_gap: true}")
    result = run_scenario(yaml_path, write=False)
    total = float(result.results["scheme_costs"]["cost_yuan"].sum()) / 10_000
    assert 0 < total < 50_000
    warned = [i for i in result.report if i.column == "plan.budget_wan_yuan"]
    assert [i.problem for i in warned] == [
        (
            f"plan.budget_wan_yuan = 50,000 万元 is more than all the schemes together "
            f"({total:,.2f} 万元 for 2 communities): the budget does not limit the plan"
        )
    ]
    yaml_path = _budget_project(tmp_path / "b", f"{{budget_wan_yuan: {total / 2:.2f}}}")
    result = run_scenario(yaml_path, write=False)
    assert not [i for i in result.report if i.column == "plan.budget_wan_yuan"]


# -- item 7: floor_area_m2 is optional -----------------------------------------------------------


def test_run_without_floor_area_plans_with_the_area_unknown(tmp_path: Path) -> None:
    yaml_path = _budget_project(
        tmp_path,
        "{budget_wan_yuan: 200, allow_gap: true, require_consent: false, "
        "rollout_years: [2027, 2028]}",
        floor_area=False,
    )
    assert validate_scenario(yaml_path).ok
    result = run_scenario(yaml_path, write=False)
    plan = result.results["plan"].set_index("community_id")
    assert plan["selected"].sum() >= 1
    assert plan["floor_area_m2"].isna().all()
    assert [(i.layer, i.column) for i in result.report if i.column == "floor_area_m2"] == [
        ("communities", "floor_area_m2")
    ]
    years = result.results["rollout_years"].set_index("year")
    started = years["communities_started"]
    assert started.sum() >= 1
    # no area known: the m² started is unknown, never 0 m²
    assert all(math.isnan(a) for a in years.loc[started > 0, "floor_area_m2_started"])


# -- item 15: plausibility ----------------------------------------------------------------------


def test_zero_households_warns_naming_the_ids() -> None:
    _, report = check_layer(survey(households=[0, 300, 0]), "communities")
    assert report.ok
    assert lines(report) == [
        (
            "[warning] communities · households: households (户数) = 0 in 2 row(s): C1, C3 — a "
            "community with no households? (小区户数为 0) → check the number of households (户数); "
            "leave the cell empty if it is unknown"
        ),
    ]


def test_ids_differing_by_leading_zeros_warn() -> None:
    gdf = survey(households=[300, 200, 100, 50])
    gdf["community_id"] = ["001", "1", "002", "C1"]
    _, report = check_layer(gdf, "communities")
    assert report.ok
    assert lines(report) == [
        (
            "[warning] communities · 1 · community_id: community_id '1' and '001' differ only by "
            "leading zeros: they may be the same id read differently (编号前导零) → if they are "
            "one feature, keep one row; otherwise give ids that differ by more than leading zeros, "
            "and store ids as text (Excel drops the zeros of 001)"
        ),
    ]


def test_input_frame_is_not_changed() -> None:
    gdf = projects(["15000000元", "1500万"])
    before = gdf.copy()
    check_layer(gdf, "projects")
    pd.testing.assert_frame_equal(pd.DataFrame(gdf), pd.DataFrame(before))
