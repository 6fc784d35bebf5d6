"""Tests for gisplan.plan: priority scores, the annual plan (0/1 program) and the rollout.

Knapsack fixture (plan year 2026, weights on households only, so priority = households / 100):

==  ==========  ========  ====  ===============
id  households  priority  cost  floor area (m²)
==  ==========  ========  ====  ===============
A   100         1.0       60    6000
B   90          0.9       50    5000
C   80          0.8       40    4000
D   70          0.7       30    3000
E   60          0.6       20    2000
F   50          0.5       10    1000
==  ==========  ========  ====  ===============

Budget 100 万元: the four cheapest (C, D, E, F) cost exactly 100 and score 2.6; no set of three
reaches it (best three: A+D+F = B+C+F = B+D+E = 2.2), so {C, D, E, F} is the unique optimum,
while taking by priority (A, then C) gives only 1.8. With at most 3 communities the three
2.2-plans tie and the earliest id (A) wins: {A, D, F}.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pandas.testing import assert_frame_equal

from gisplan import plan
from gisplan.errors import LayerError, ScenarioError, SchemaError
from gisplan.plan import (
    ROLLOUT_STATES,
    PlanLimits,
    PriorityWeights,
    annual_plan,
    priority,
    rollout,
)
from gisplan.vocabulary import column_label

HOUSEHOLDS_ONLY = PriorityWeights(age=0.0, safety=0.0, gap=0.0, households=1.0, consent=0.0)


def knapsack() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "community_id": list("ABCDEF"),
            "built_year": 1990,
            "households": [100, 90, 80, 70, 60, 50],
            "status": "eligible",
            "government_cost_wan_yuan": [60.0, 50.0, 40.0, 30.0, 20.0, 10.0],
            "floor_area_m2": [6000.0, 5000.0, 4000.0, 3000.0, 2000.0, 1000.0],
        },
        index=pd.Index([10, 11, 12, 13, 14, 15], name="row"),
    )


def brute_force(
    frame: pd.DataFrame, score: pd.Series, budget: float, max_count: int | None = None
) -> tuple[float, set[str]]:
    """Best (objective, ids) over every subset; ties go to the sorted-first id tuple."""
    ids = frame["community_id"].tolist()
    cost = dict(zip(ids, frame["government_cost_wan_yuan"], strict=True))
    value = dict(zip(ids, score, strict=True))
    best: tuple[float, tuple[str, ...]] = (0.0, ())
    for k in range(len(ids) + 1):
        if max_count is not None and k > max_count:
            break
        for subset in itertools.combinations(sorted(ids), k):
            if sum(cost[i] for i in subset) <= budget + 1e-9:
                total = round(sum(value[i] for i in subset), 9)
                if total > best[0] + 1e-9 or (abs(total - best[0]) <= 1e-9 and subset < best[1]):
                    best = (total, subset)
    return best[0], set(best[1])


def chosen(table: pd.DataFrame) -> set[str]:
    return set(table.loc[table["selected"], "community_id"])


# --------------------------------------------------------------------------- options


def test_weights_defaults_and_errors() -> None:
    w = PriorityWeights()
    assert (w.age, w.safety, w.gap, w.households, w.consent, w.age_span_years) == (
        1.0,
        1.0,
        1.0,
        1.0,
        0.5,
        50.0,
    )
    with pytest.raises(ScenarioError, match=r"PriorityWeights\.age = -1 is not a weight") as err:
        PriorityWeights(age=-1, age_span_years=0)
    assert [p[0] for p in err.value.problems] == ["plan.weights.age", "plan.weights.age_span_years"]
    with pytest.raises(ScenarioError, match="consent"):
        PriorityWeights(consent=float("nan"))
    assert hash(w) == hash(PriorityWeights())


def test_limits_errors() -> None:
    assert PlanLimits().budget_wan_yuan is None  # no overall cap
    with pytest.raises(ScenarioError, match=r"budget_wan_yuan = -1 is negative"):
        PlanLimits(budget_wan_yuan=-1)
    with pytest.raises(ScenarioError, match="budget_wan_yuan = nan is not a number"):
        PlanLimits(budget_wan_yuan=float("nan"))
    with pytest.raises(ScenarioError, match="max_communities") as err:
        PlanLimits(budget_wan_yuan=10, max_communities=-2, max_floor_area_m2=-5.0)
    assert len(err.value.problems) == 2
    with pytest.raises(ScenarioError, match=r"max_communities = 2\.5"):
        PlanLimits(budget_wan_yuan=10, max_communities=2.5)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- priority


def test_priority_by_hand() -> None:
    df = pd.DataFrame(
        {
            "community_id": ["C1", "C2", "C3"],
            "built_year": [1976, 2001, 2030],
            "households": [300, 150, 0],
            "safety_items": [4, 2, 0],
            "gap_score": [0.5, np.nan, 1.0],
            "participation_rate": [0.8, np.nan, 1.0],
            "approval_rate": [0.9, 0.6, 1.0],
        },
        index=["x", "y", "z"],
    )
    before = df.copy()
    out = priority(df, plan_year=2026)
    # C1: age 1 + safety 1 + gap 0.5 + households 1 + 0.5 * (0.8 + 0.9) / 2 = 3.925
    # C2: age 25/50 + safety 2/4 + gap 0 + households 150/300 + 0.5 * (0 + 0.6) / 2 = 1.65
    # C3: built after 2026 → age 0; safety 0; gap 1; households 0; consent 0.5 * 1 = 1.5
    assert out.tolist() == pytest.approx([3.925, 1.65, 1.5])
    assert out.name == "priority"
    assert out.index.tolist() == ["x", "y", "z"]
    assert_frame_equal(df, before)
    w = PriorityWeights(age=2.0, safety=0.0, gap=0.0, households=0.0, consent=0.0)
    assert priority(df, plan_year=2026, weights=w).tolist() == pytest.approx([2.0, 1.0, 0.0])


def test_priority_optional_columns_absent_score_zero() -> None:
    df = knapsack()[["community_id", "built_year", "households"]]
    # age 36/50 = 0.72, households share, no safety/gap/consent columns
    assert priority(df, plan_year=2026).iloc[0] == pytest.approx(1.72)
    assert priority(df, plan_year=2026).iloc[5] == pytest.approx(1.22)


def test_priority_bad_values() -> None:
    df = knapsack().assign(participation_rate=[67, 0.7, 0.7, 0.7, 0.7, 0.7])
    with pytest.raises(
        LayerError, match=r"participation_rate: not between 0 and 1 in rows 10.*0\.67"
    ):
        priority(df, plan_year=2026)
    with pytest.raises(LayerError, match="households: not >= 0"):
        priority(knapsack().assign(households=[-1, 1, 1, 1, 1, 1]), plan_year=2026)
    with pytest.raises(LayerError, match="built_year: not a year"):
        priority(knapsack().assign(built_year=["1990", "x", 1, 1, 1, 1]), plan_year=2026)
    with pytest.raises(SchemaError, match="'households' missing"):
        priority(knapsack().drop(columns="households"), plan_year=2026)
    with pytest.raises(LayerError, match="not unique: A"):
        priority(knapsack().assign(community_id=list("AACDEF")), plan_year=2026)
    with pytest.raises(ScenarioError, match="plan_year"):
        priority(knapsack(), plan_year=2026.5)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- annual plan


def test_knapsack_matches_enumeration() -> None:
    df = knapsack()
    table, info = annual_plan(
        df, limits=PlanLimits(budget_wan_yuan=100), weights=HOUSEHOLDS_ONLY, plan_year=2026
    )
    score = priority(df, plan_year=2026, weights=HOUSEHOLDS_ONLY)
    best, ids = brute_force(df, score, 100)
    assert best == pytest.approx(2.6)
    assert ids == {"C", "D", "E", "F"}
    assert chosen(table) == ids
    assert info["objective"] == pytest.approx(best)
    assert info["status"] == "optimal"
    assert info["mip_gap"] == pytest.approx(0.0, abs=1e-9)
    assert info["chosen"] == 4
    assert info["entered"] == 6
    assert info["budget_used_wan_yuan"] == pytest.approx(100.0)
    assert info["floor_area_used_m2"] == pytest.approx(10000.0)
    assert info["binding"] == ["budget"]
    assert info["note"] == ""
    assert table["community_id"].tolist() == list("ABCDEF")  # priority descending
    assert table["selection_code"].tolist() == ["over_budget"] * 2 + ["selected"] * 4
    # A (60) and B (50) each break the budget on top of C+D+E+F (100 of 100 万元)
    assert table["selection_reason"].tolist() == [
        "超出年度预算：可用 100.00 万元，已用 100.00 万元，本小区需 60.00 万元",
        "超出年度预算：可用 100.00 万元，已用 100.00 万元，本小区需 50.00 万元",
        *["已选入"] * 4,
    ]
    assert table["priority"].tolist() == pytest.approx([1.0, 0.9, 0.8, 0.7, 0.6, 0.5])
    assert table.index.tolist() == list(range(6))
    assert table.columns.tolist() == [
        "community_id",
        "priority",
        "selected",
        "selection_reason",
        "selection_code",
        "status",
        "project_status",
        "government_cost_wan_yuan",
        "floor_area_m2",
    ]
    assert table["selected"].dtype == bool


def test_knapsack_default_weights_matches_enumeration() -> None:
    df = knapsack().assign(
        built_year=[1985, 1999, 1970, 2003, 1992, 1980],
        safety_items=[1, 0, 3, 2, 0, 1],
        gap_score=[0.2, 0.9, 0.0, 0.5, np.nan, 0.4],
        participation_rate=0.8,
        approval_rate=[0.7, 0.9, 0.8, 0.75, 0.95, 0.7],
        government_cost_wan_yuan=[55.0, 23.0, 41.0, 37.0, 18.0, 29.0],
    )
    table, info = annual_plan(df, limits=PlanLimits(budget_wan_yuan=110), plan_year=2026)
    best, ids = brute_force(df, priority(df, plan_year=2026), 110)
    assert chosen(table) == ids
    assert info["objective"] == pytest.approx(best)


def test_max_communities_binding_and_tie_broken_by_id() -> None:
    df = knapsack()
    limits = PlanLimits(budget_wan_yuan=100, max_communities=3)
    table, info = annual_plan(df, limits=limits, weights=HOUSEHOLDS_ONLY, plan_year=2026)
    score = priority(df, plan_year=2026, weights=HOUSEHOLDS_ONLY)
    best, ids = brute_force(df, score, 100, max_count=3)
    assert best == pytest.approx(2.2)
    assert ids == {"A", "D", "F"}  # A+D+F, B+C+F, B+D+E all 2.2; earliest id wins
    assert chosen(table) == ids
    assert info["chosen"] == 3
    assert info["objective"] == pytest.approx(2.2)
    assert info["binding"] == ["budget", "max_communities"]
    # the same candidates in another row order give the same plan
    shuffled, _ = annual_plan(
        df.iloc[[5, 3, 1, 0, 4, 2]], limits=limits, weights=HOUSEHOLDS_ONLY, plan_year=2026
    )
    assert_frame_equal(shuffled, table)


def test_max_floor_area() -> None:
    limits = PlanLimits(budget_wan_yuan=1000, max_floor_area_m2=7000)
    table, info = annual_plan(knapsack(), limits=limits, weights=HOUSEHOLDS_ONLY, plan_year=2026)
    # area = 100 m² per 万元 here, so 7000 m² acts as a budget of 70: C+E+F = 0.8+0.6+0.5
    assert chosen(table) == {"C", "E", "F"}
    assert info["objective"] == pytest.approx(1.9)
    assert info["floor_area_used_m2"] == pytest.approx(7000.0)
    assert info["binding"] == ["max_floor_area"]


def test_waiting_for_consent_gate() -> None:
    df = knapsack()
    df.loc[12, "status"] = "eligible_waiting_consent"  # C
    df.loc[14, "status"] = "not_eligible"  # E
    df.loc[15, "status"] = "unknown"  # F
    gated, info = annual_plan(
        df, limits=PlanLimits(budget_wan_yuan=100), weights=HOUSEHOLDS_ONLY, plan_year=2026
    )
    # A, B, D may enter: A+D = 1.7 (90), B+D = 1.6, A alone 1.0 …
    assert chosen(gated) == {"A", "D"}
    assert info["entered"] == 3
    code = dict(zip(gated["community_id"], gated["selection_code"], strict=True))
    assert code == {
        "A": "selected",
        "B": "over_budget",
        "C": "waiting_consent",
        "D": "selected",
        "E": "not_eligible",
        "F": "eligibility_unknown",
    }
    reason = dict(zip(gated["community_id"], gated["selection_reason"], strict=True))
    assert reason["C"].startswith("待居民同意：")
    assert reason["E"] == "不符合条件：按改造资格规则不纳入"
    assert reason["F"] == "不符合条件：资格待核实，需补充调查"
    open_gate, info = annual_plan(
        df,
        limits=PlanLimits(budget_wan_yuan=100, require_consent=False),
        weights=HOUSEHOLDS_ONLY,
        plan_year=2026,
    )
    # A, B, C, D may enter: A+C = 1.8 (100) beats B+C (1.7), C+D (1.5), A+D (1.7)
    assert chosen(open_gate) == {"A", "C"}
    assert info["entered"] == 4


def test_budget_zero_is_empty_with_note() -> None:
    table, info = annual_plan(
        knapsack(), limits=PlanLimits(budget_wan_yuan=0), weights=HOUSEHOLDS_ONLY, plan_year=2026
    )
    assert not table["selected"].any()
    assert set(table["selection_code"]) == {"over_budget"}
    assert info["chosen"] == 0
    assert info["status"] == "optimal"  # solved: nothing with a public cost fits 0 万元
    assert info["objective"] == 0.0
    assert "0 万元" in str(info["note"])
    assert "empty" in str(info["note"])
    # a community with no public cost (it balances itself) still fits a budget of 0
    free = knapsack().assign(government_cost_wan_yuan=[60.0, 50.0, 40.0, 30.0, 20.0, 0.0])
    table, info = annual_plan(free, limits=PlanLimits(budget_wan_yuan=0), plan_year=2026)
    assert chosen(table) == {"F"}
    assert info["note"] == ""


def test_no_budget_means_no_cap() -> None:
    table, info = annual_plan(
        knapsack(), limits=PlanLimits(max_communities=2), weights=HOUSEHOLDS_ONLY, plan_year=2026
    )
    assert chosen(table) == {"A", "B"}
    assert info["budget_wan_yuan"] is None
    assert info["budget_used_wan_yuan"] == pytest.approx(110.0)
    assert info["binding"] == ["max_communities"]
    # a community without a cost may enter when nothing caps the money
    df = knapsack()
    df.loc[10, "government_cost_wan_yuan"] = np.nan
    table, _ = annual_plan(df, limits=PlanLimits(), plan_year=2026)
    assert table["selected"].all()


def test_nothing_fits_or_nothing_enters() -> None:
    table, info = annual_plan(knapsack(), limits=PlanLimits(budget_wan_yuan=5), plan_year=2026)
    assert not table["selected"].any()
    assert info["status"] == "optimal"
    assert "no community fits" in str(info["note"])
    df = knapsack().assign(status="not_eligible")
    _, info = annual_plan(df, limits=PlanLimits(budget_wan_yuan=100), plan_year=2026)
    assert "no candidate may enter" in str(info["note"])
    assert info["entered"] == 0


def test_negative_budget_is_an_error() -> None:
    with pytest.raises(ScenarioError, match="negative"):
        annual_plan(knapsack(), limits=PlanLimits(budget_wan_yuan=-100), plan_year=2026)


def test_annual_plan_bad_input() -> None:
    limits = PlanLimits(budget_wan_yuan=100)
    with pytest.raises(SchemaError, match="'government_cost_wan_yuan' missing"):
        annual_plan(knapsack().drop(columns="government_cost_wan_yuan"), limits=limits, plan_year=1)
    with pytest.raises(LayerError, match="status maybe not understood"):
        annual_plan(knapsack().assign(status="maybe"), limits=limits, plan_year=2026)
    df = knapsack()
    df.loc[11, "government_cost_wan_yuan"] = np.nan
    with pytest.raises(LayerError, match="government_cost_wan_yuan: missing in rows 11"):
        annual_plan(df, limits=limits, plan_year=2026)
    df.loc[11, "status"] = "not_eligible"  # a cost is not needed for one that cannot enter
    table, _ = annual_plan(df, limits=limits, plan_year=2026)
    assert np.isnan(table.set_index("community_id").loc["B", "government_cost_wan_yuan"])
    with pytest.raises(LayerError, match="government_cost_wan_yuan: not >= 0"):
        annual_plan(knapsack().assign(government_cost_wan_yuan=-1.0), limits=limits, plan_year=2026)


def test_annual_plan_deterministic_and_input_untouched() -> None:
    df = knapsack()
    before = df.copy()
    limits = PlanLimits(budget_wan_yuan=100)
    first = annual_plan(df, limits=limits, plan_year=2026)
    second = annual_plan(df, limits=limits, plan_year=2026)
    assert_frame_equal(first[0], second[0])
    assert first[1] == second[1]
    assert_frame_equal(df, before)


@settings(max_examples=30, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.integers(1950, 2010),
            st.integers(1, 500),
            st.integers(0, 5),
            st.integers(1, 80),
        ),
        min_size=1,
        max_size=7,
    ),
    budget=st.integers(0, 200),
    max_count=st.none() | st.integers(0, 4),
)
def test_plan_is_optimal_property(
    rows: list[tuple[int, int, int, int]], budget: int, max_count: int | None
) -> None:
    df = pd.DataFrame(
        {
            "community_id": [f"C{i}" for i in range(len(rows))],
            "built_year": [r[0] for r in rows],
            "households": [r[1] for r in rows],
            "safety_items": [r[2] for r in rows],
            "status": "eligible",
            "government_cost_wan_yuan": [float(r[3]) for r in rows],
            "floor_area_m2": 1000.0,
        }
    )
    limits = PlanLimits(budget_wan_yuan=budget, max_communities=max_count)
    table, info = annual_plan(df, limits=limits, plan_year=2026)
    best, _ = brute_force(df, priority(df, plan_year=2026), budget, max_count)
    if budget == 0:
        assert info["chosen"] == 0
    else:
        assert info["objective"] == pytest.approx(best, abs=1e-6)
    assert info["budget_used_wan_yuan"] <= budget + 1e-9  # type: ignore[operator]
    if max_count is not None:
        assert int(table["selected"].sum()) <= max_count


# --------------------------------------------------------------------------- rollout


def rollout_fixture() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "community_id": ["A", "B", "C", "D"],
            "built_year": [1990, 2003, 1995, 1998],
            "households": [100, 90, 80, 70],
            "buildings": [3, 2, 4, 1],
            "status": ["eligible", "eligible", "eligible_waiting_consent", "not_eligible"],
            "government_cost_wan_yuan": [60.0, 50.0, 30.0, 10.0],
            "floor_area_m2": [6000.0, 5000.0, 4000.0, 3000.0],
            "scheme_vote_passed": [True, True, True, True],
            "property_fee_agreed": [True, True, True, True],
        },
        index=pd.Index(["r1", "r2", "r3", "r4"]),
    )


def test_rollout_two_years_build_two_by_hand() -> None:
    df = rollout_fixture()
    before = df.copy()
    comm, per_year = rollout(
        df,
        years=[2026, 2027],
        limits_per_year=PlanLimits(budget_wan_yuan=60),
        build_years=2,
        weights=HOUSEHOLDS_ONLY,
    )
    assert_frame_equal(df, before)
    # 2026: A (60) or B (50) alone fit; A has more households. 2027: B. C waits for consent.
    assert comm.index.tolist() == ["r1", "r2", "r3", "r4"]
    assert comm["start_year"].tolist() == [2026, 2027, pd.NA, pd.NA]
    assert comm["completion_year"].tolist() == [2028, 2029, pd.NA, pd.NA]
    states = comm[[f"status_{y}" for y in range(2026, 2030)]].to_numpy().tolist()
    assert states == [
        ["新开工", "在建", "竣工", "竣工"],
        ["储备", "新开工", "在建", "竣工"],
        ["储备", "储备", "储备", "储备"],
        ["未纳入", "未纳入", "未纳入", "未纳入"],
    ]
    assert set(np.ravel(states)) <= set(ROLLOUT_STATES)
    assert comm["priority"].iloc[:2].tolist() == pytest.approx([1.0, 0.9 / 0.9])
    assert per_year["year"].tolist() == [2026, 2027, 2028, 2029]
    assert per_year["planned"].tolist() == [True, True, False, False]
    assert per_year["plan_status"].tolist() == ["optimal", "optimal", "", ""]
    assert per_year["budget_used_wan_yuan"].tolist() == [60.0, 50.0, 0.0, 0.0]
    assert per_year["budget_wan_yuan"].iloc[:2].tolist() == [60.0, 60.0]
    assert per_year["communities_started"].tolist() == [1, 1, 0, 0]
    assert per_year["buildings_started"].tolist() == [3, 2, 0, 0]
    assert per_year["households_started"].tolist() == [100, 90, 0, 0]
    assert per_year["floor_area_m2_started"].tolist() == [6000.0, 5000.0, 0.0, 0.0]
    assert per_year["communities_in_construction"].tolist() == [0, 1, 1, 0]
    assert per_year["communities_completed"].tolist() == [0, 0, 1, 1]
    assert per_year["buildings_completed"].tolist() == [0, 0, 3, 2]
    assert per_year["households_completed"].tolist() == [0, 0, 100, 90]
    assert per_year["floor_area_m2_completed"].tolist() == [0.0, 0.0, 6000.0, 5000.0]
    assert "targets" not in per_year.attrs


def test_rollout_linyi_style_targets() -> None:
    df = rollout_fixture()
    limits = {
        2026: PlanLimits(budget_wan_yuan=90, require_consent=False),
        2027: PlanLimits(budget_wan_yuan=60),
    }
    targets = {"all_built_before": 2000, "share_built_before": (2005, 0.85), "by_year": 2028}
    comm, per_year = rollout(
        df,
        years=[2026, 2027],
        limits_per_year=limits,
        build_years=2,
        weights=HOUSEHOLDS_ONLY,
        targets=targets,
    )
    # 2026 (gate open, 90): A+C = 1.0 + 0.8; 2027: B. D is not eligible and not counted.
    assert comm["start_year"].tolist() == [2026, 2027, 2026, pd.NA]
    assert comm["completion_year"].tolist() == [2028, 2029, 2028, pd.NA]
    report = {t["target"]: t for t in per_year.attrs["targets"]}
    pre2000 = report["all_built_before"]  # A, C (D out of scope): both done in 2028
    assert (pre2000["communities"], pre2000["completed"], pre2000["met"]) == (2, 2, True)
    assert pre2000["share"] == pytest.approx(1.0)
    assert pre2000["margin_share"] == pytest.approx(0.0)
    assert pre2000["shortfall_communities"] == 0
    pre2005 = report["share_built_before"]  # A, B, C: 2 of 3 by 2028 < 85%
    assert (pre2005["communities"], pre2005["completed"], pre2005["met"]) == (3, 2, False)
    assert pre2005["share"] == pytest.approx(2 / 3)
    assert pre2005["margin_share"] == pytest.approx(2 / 3 - 0.85)
    assert pre2005["shortfall_communities"] == 1  # ceil(0.85 * 3) = 3 needed
    assert per_year["done_share_built_by_2000"].tolist() == pytest.approx([0, 0, 1, 1])
    assert per_year["done_share_built_by_2005"].tolist() == pytest.approx([0, 0, 2 / 3, 1])
    # one year later every target is met
    _, later = rollout(
        df,
        years=[2026, 2027],
        limits_per_year=limits,
        build_years=2,
        weights=HOUSEHOLDS_ONLY,
        targets={**targets, "by_year": 2029},
    )
    assert [t["met"] for t in later.attrs["targets"]] == [True, True]
    assert later.attrs["targets"][1]["margin_share"] == pytest.approx(0.15)


def test_rollout_deterministic() -> None:
    df = rollout_fixture()
    kwargs = {
        "years": range(2026, 2029),
        "limits_per_year": PlanLimits(budget_wan_yuan=70, max_communities=1),
        "targets": {"all_built_before": 2000, "by_year": 2027},
    }
    a = rollout(df, **kwargs)  # type: ignore[arg-type]
    b = rollout(df, **kwargs)  # type: ignore[arg-type]
    assert_frame_equal(a[0], b[0])
    assert_frame_equal(a[1], b[1])
    assert a[1].attrs == b[1].attrs


def test_rollout_bad_options() -> None:
    df = rollout_fixture()
    limits = PlanLimits(budget_wan_yuan=60)
    with pytest.raises(ScenarioError, match="build_years = 0"):
        rollout(df, years=[2026], limits_per_year=limits, build_years=0)
    with pytest.raises(ScenarioError, match="years"):
        rollout(df, years=[], limits_per_year=limits)
    with pytest.raises(ScenarioError, match="repeat a year"):
        rollout(df, years=[2026, 2026], limits_per_year=limits)
    with pytest.raises(ScenarioError, match="no limits for 2027"):
        rollout(df, years=[2026, 2027], limits_per_year={2026: limits})
    with pytest.raises(ScenarioError, match="all_before = 2000 under an unknown key"):
        rollout(
            df, years=[2026], limits_per_year=limits, targets={"all_before": 2000, "by_year": 1}
        )
    with pytest.raises(ScenarioError, match="share_built_before"):
        rollout(
            df,
            years=[2026],
            limits_per_year=limits,
            targets={"share_built_before": (2005, 85), "by_year": 2025},
        )
    with pytest.raises(ScenarioError, match="by_year"):
        rollout(df, years=[2026], limits_per_year=limits, targets={"all_built_before": 2000})


def test_rollout_without_buildings_column() -> None:
    _, per_year = rollout(
        rollout_fixture().drop(columns="buildings"),
        years=[2026],
        limits_per_year=PlanLimits(budget_wan_yuan=60),
    )
    assert per_year["buildings_started"].isna().all()
    assert per_year["buildings_started"].dtype == "Int64"


def test_labels_cover_outputs() -> None:
    table, _ = annual_plan(knapsack(), limits=PlanLimits(budget_wan_yuan=100), plan_year=2026)
    comm, per_year = rollout(
        rollout_fixture(), years=[2026], limits_per_year=PlanLimits(budget_wan_yuan=60)
    )
    columns = [*table.columns, *comm.columns, *per_year.columns]
    assert [c for c in columns if column_label(c) == c] == []
    assert column_label("budget_used_wan_yuan") == "使用预算（万元）"
    assert column_label("status_2026") == "2026年状态"
    assert plan.__all__ == sorted(plan.__all__, key=lambda s: (not s.isupper(), s))


# --------------------------------------------------------------------------- current status


def test_renovations_under_way_are_never_planned_again() -> None:
    df = rollout_fixture().assign(
        project_status=["在建", None, "储备", "竣工"],
        start_year=[2025, np.nan, np.nan, np.nan],
        completion_year=[np.nan, np.nan, np.nan, 2022],
        status=["eligible", "eligible", "eligible", "eligible"],
    )
    table, info = annual_plan(df, limits=PlanLimits(budget_wan_yuan=1000), plan_year=2026)
    reasons = dict(zip(table["community_id"], table["selection_reason"], strict=True))
    assert reasons["A"] == "已在建（2025）：不再重复纳入计划（不得重复建设）"
    assert reasons["D"] == "已竣工（2022）：不再重复纳入计划（不得重复建设）"
    assert reasons["B"] == reasons["C"] == "已选入"  # a blank status counts as 储备
    codes = dict(zip(table["community_id"], table["selection_code"], strict=True))
    assert (codes["A"], codes["D"]) == ("under_way", "under_way")
    assert info["chosen"] == 2
    assert table.set_index("community_id").loc["B", "project_status"] == "储备"
    with pytest.raises(LayerError, match="project_status 完工 not understood"):
        annual_plan(
            df.assign(project_status="完工"), limits=PlanLimits(budget_wan_yuan=9), plan_year=2026
        )


def test_rollout_starts_from_the_current_state_and_counts_what_is_done() -> None:
    df = rollout_fixture().assign(
        project_status=["在建", "储备", "储备", "竣工"],
        start_year=[2025, np.nan, np.nan, 2021],
        completion_year=[np.nan, np.nan, np.nan, 2022],
        status=["eligible", "eligible", "eligible", "not_eligible"],
    )
    comm, per_year = rollout(
        df,
        years=[2026, 2027],
        limits_per_year=PlanLimits(budget_wan_yuan=60),
        build_years=2,
        weights=HOUSEHOLDS_ONLY,
        targets={"all_built_before": 2000, "by_year": 2027},
    )
    rows = comm.set_index("community_id")
    # A was started in 2025 and finishes 2027 (2 years); it is never re-planned
    assert rows.loc["A", ["start_year", "completion_year"]].tolist() == [2025, 2027]
    assert rows.loc["A", ["status_2026", "status_2027"]].tolist() == ["在建", "竣工"]
    # 2026: B (50) and C (30) compete for 60 万元: B has more households, C in 2027
    assert rows.loc["B", "start_year"] == 2026
    assert rows.loc["C", "start_year"] == 2027
    assert rows.loc["D", "status_2026"] == "竣工"  # done in 2022, never restarted
    # built by 2000: A (1990), C (1995) and D (1998, 竣工: counts though not eligible now)
    [target] = per_year.attrs["targets"]
    assert (target["communities"], target["completed"]) == (3, 2)  # A 2027, D 2022; C 2029
    assert per_year["communities_completed"].tolist()[:2] == [0, 1]  # A in 2027


def test_the_scheme_vote_gates_the_start() -> None:
    df = rollout_fixture().assign(
        scheme_vote_passed=[None, True, True, True], property_fee_agreed=True
    )
    comm, per_year = rollout(
        df,
        years=[2026, 2027],
        limits_per_year=PlanLimits(budget_wan_yuan=60),
        weights=HOUSEHOLDS_ONLY,
    )
    rows = comm.set_index("community_id")
    # A is chosen for 2026 but no passed vote is recorded: 待表决, not 新开工
    assert rows.loc["A", ["status_2026", "start_year"]].tolist() == ["待表决", 2026]
    assert per_year.loc[0, ["communities_started", "communities_awaiting_vote"]].tolist() == [0, 1]
    # its years are an estimate that assumes the vote passes in time, and the sheet says so
    assert rows.loc["A", "note"] == (
        "改造方案尚未经居民书面（线上）表决同意（住建部2021 底线(七)）；"
        "开工、竣工年份按当年完成表决和确认估算（本工具假设）"
    )
    assert rows.loc["B", "note"] == ""
    # the second gate of 底线(八): the property management model and fees confirmed in writing
    comm, per_year = rollout(
        df.assign(scheme_vote_passed=True, property_fee_agreed=[None, True, True, True]),
        years=[2026, 2027],
        limits_per_year=PlanLimits(budget_wan_yuan=60),
        weights=HOUSEHOLDS_ONLY,
    )
    rows = comm.set_index("community_id")
    assert rows.loc["A", "status_2026"] == "待表决"
    assert rows.loc["A", "note"].startswith(
        "物业管理模式、物业服务费用尚未经居民书面（线上）确认（住建部2021 底线(八)）；"
    )
    assert rows.loc["B", ["status_2027", "note"]].tolist() == ["新开工", ""]  # later years: in time
    assert per_year["communities_awaiting_vote"].tolist()[:2] == [1, 0]
    # a vote recorded as failed keeps the community out of the plan
    failed = rollout_fixture().assign(scheme_vote_passed=[False, True, True, True])
    table, _ = annual_plan(failed, limits=PlanLimits(budget_wan_yuan=60), plan_year=2026)
    row = table.set_index("community_id").loc["A"]
    assert row["selection_reason"] == "方案表决未通过：表决通过前不纳入计划"
    assert row["selection_code"] == "vote_failed"


def test_a_community_with_nothing_decided_is_listed_not_planned() -> None:
    comm = pd.DataFrame(
        {
            "community_id": ["C1", "C2", "C3"],
            "households": [100, 50, 80],
            "floor_area_m2": [8000.0, 4000.0, 6000.0],
        }
    )
    elig = pd.DataFrame(
        {"community_id": ["C1", "C2", "C3"], "status": ["eligible", "eligible", "unknown"]}
    )
    schemes = pd.DataFrame(
        {
            "community_id": ["C1"],
            "item": [1],
            "payer": ["government"],
            "cost_yuan": [30_000.0],
            "safety": [False],
        }
    )
    table = plan.candidates(comm, eligibility=elig, schemes=schemes)
    # C2 is eligible but its survey decided no item yet (all 待核实): still a candidate row
    assert table[["community_id", "scheme_items"]].to_numpy().tolist() == [
        ["C1", 1],
        ["C2", 0],
        ["C3", 0],
    ]
    plan_table, info = annual_plan(
        table.assign(built_year=1990), limits=PlanLimits(budget_wan_yuan=10), plan_year=2026
    )
    reasons = plan_table.set_index("community_id")["selection_reason"]
    assert reasons["C1"] == "已选入"
    assert reasons["C2"] == "方案未确定：改造内容待核实，摸底确定前不纳入计划"
    assert reasons["C3"] == "不符合条件：资格待核实，需补充调查"  # the first reason stays
    assert info["entered"] == 1


# --------------------------------------------------------------------------- money (issue 14)
#
# Three pools, plan year 2026, households only (priority = households / 100):
#
# ==  ========  ===  ===  ===  =====================================================
# id  priority  cbi  lb   lt   (cbi central_budget_investment, lb local_budget,
# ==  ========  ===  ===  ===   lt land_transfer; 万元 drawn from each pool)
# A   1.0       20   10   20
# B   0.9       40   30   0
# C   0.8       10   0    10
# D   0.7       20   0    0
# E   0.6       10   20   0
# F   0.5       20   20   10
# ==  ========  ===  ===  ===
#
# Available: cbi 60, lb 40, lt 30. {A, C, D, E} draws cbi 60, lb 30, lt 30 and scores 3.1, the
# unique optimum (next best {C, D, E, F} 2.6); taking by priority (A, then B) fills cbi and lb
# at 1.9. B would break cbi (60 + 40) and lb (30 + 30); F all three.

POOLS = ("central_budget_investment", "local_budget", "land_transfer")
CAPS = {"central_budget_investment": 60.0, "local_budget": 40.0, "land_transfer": 30.0}


def pooled() -> pd.DataFrame:
    draws = {
        "central_budget_investment": [20.0, 40.0, 10.0, 20.0, 10.0, 20.0],
        "local_budget": [10.0, 30.0, 0.0, 0.0, 20.0, 20.0],
        "land_transfer": [20.0, 0.0, 10.0, 0.0, 0.0, 10.0],
    }
    df = knapsack()
    for source, values in draws.items():
        df[plan.pool_column(source)] = values
    df["government_cost_wan_yuan"] = sum(np.asarray(v) for v in draws.values())
    return df


def brute_force_pools(
    frame: pd.DataFrame,
    score: pd.Series,
    caps: dict[str, float],
    *,
    max_count: int | None = None,
    first: set[str] | None = None,
) -> tuple[float, set[str]]:
    """Best (objective, ids) over every subset under per-source caps.

    With ``first``: the best summed priority of ``first`` communities, then the best total
    (lexicographic). Ties go to the sorted-first id tuple.
    """
    ids = frame["community_id"].tolist()
    value = dict(zip(ids, score, strict=True))
    draw = {s: dict(zip(ids, frame[plan.pool_column(s)], strict=True)) for s in caps}
    best: tuple[tuple[float, float], tuple[str, ...]] = ((0.0, 0.0), ())
    for k in range(len(ids) + 1):
        if max_count is not None and k > max_count:
            break
        for subset in itertools.combinations(sorted(ids), k):
            if any(sum(draw[s][i] for i in subset) > cap + 1e-9 for s, cap in caps.items()):
                continue
            lead = round(sum(value[i] for i in subset if first is None or i in first), 9)
            key = (lead if first is not None else 0.0, round(sum(value[i] for i in subset), 9))
            ahead = key[0] > best[0][0] + 1e-9 or (
                abs(key[0] - best[0][0]) <= 1e-9 and key[1] > best[0][1] + 1e-9
            )
            tied = all(abs(a - b) <= 1e-9 for a, b in zip(key, best[0], strict=True))
            if ahead or (tied and subset < best[1]):
                best = (key, subset)
    return best[0][1], set(best[1])


def test_limits_pools_and_gap_options() -> None:
    limits = PlanLimits(pools={"local_budget": 300, "land_transfer": 0})
    assert dict(limits.pools or {}) == {"local_budget": 300.0, "land_transfer": 0.0}
    assert hash(limits) == hash(PlanLimits(pools={"land_transfer": 0.0, "local_budget": 300.0}))
    assert (limits.allow_gap, limits.sequence_built_before) == (False, None)
    with pytest.raises(ScenarioError, match=r"pools\.shortfall = is not a funding source") as err:
        PlanLimits(pools={"shortfall": 1, "central_subsidy": 1, "local_budget": -5})
    assert [p[0] for p in err.value.problems] == [
        "plan.pools.shortfall",
        "plan.pools.central_subsidy",
        "plan.pools.local_budget",
    ]
    with pytest.raises(ScenarioError, match="allow_gap = 'yes' is not true/false"):
        PlanLimits(allow_gap="yes")  # type: ignore[arg-type]
    with pytest.raises(ScenarioError, match=r"sequence_built_before = 2000\.5 is not a year"):
        PlanLimits(sequence_built_before=2000.5)  # type: ignore[arg-type]


def test_pools_optimum_matches_enumeration() -> None:
    df = pooled()
    table, info = annual_plan(
        df, limits=PlanLimits(pools=CAPS), weights=HOUSEHOLDS_ONLY, plan_year=2026
    )
    score = priority(df, plan_year=2026, weights=HOUSEHOLDS_ONLY)
    best, ids = brute_force_pools(df, score, CAPS)
    assert (best, ids) == (pytest.approx(3.1), {"A", "C", "D", "E"})
    assert chosen(table) == ids
    assert info["objective"] == pytest.approx(3.1)
    assert info["pools"] == {
        "central_budget_investment": {"available_wan_yuan": 60.0, "used_wan_yuan": 60.0},
        "local_budget": {"available_wan_yuan": 40.0, "used_wan_yuan": 30.0},
        "land_transfer": {"available_wan_yuan": 30.0, "used_wan_yuan": 30.0},
    }
    assert info["binding"] == ["pool:central_budget_investment", "pool:land_transfer"]
    # B breaks cbi and lb, F all three: lb keeps them out although 10 万元 of it are left
    assert info["limiting"] == {
        "pool:central_budget_investment": 2,
        "pool:local_budget": 2,
        "pool:land_transfer": 1,
    }
    assert info["budget_wan_yuan"] is None
    assert info["budget_used_wan_yuan"] == pytest.approx(50 + 20 + 20 + 30)  # public money
    rows = table.set_index("community_id")
    assert rows.loc["B", "selection_code"] == "over_pool"
    assert rows.loc["B", "selection_reason"] == (
        "超出年度资金：中央预算内投资 可用 60.00 万元，已用 60.00 万元，本小区需 40.00 万元；"
        "超出年度资金：市县财政资金 可用 40.00 万元，已用 30.00 万元，本小区需 30.00 万元"
    )
    assert rows.loc["F", "selection_reason"].count("超出年度资金") == 3  # all three pools
    assert [c for c in table.columns if c.startswith("pool_")] == [
        plan.pool_column(s) for s in ("central_budget_investment", "local_budget", "land_transfer")
    ]
    # a budget on top caps the public money too: {A, C, D} (90) beats {C, D, E} (70)…
    capped, info = annual_plan(
        df,
        limits=PlanLimits(pools=CAPS, budget_wan_yuan=90),
        weights=HOUSEHOLDS_ONLY,
        plan_year=2026,
    )
    assert chosen(capped) == {"A", "C", "D"}
    assert info["binding"] == ["pool:land_transfer", "budget"]


@settings(max_examples=40, deadline=None)
@given(
    case=st.fixed_dictionaries(
        {
            "draws": st.lists(
                st.tuples(st.integers(0, 40), st.integers(0, 40), st.integers(0, 40)),
                min_size=1,
                max_size=7,
            ),
            "households": st.lists(st.integers(1, 300), min_size=7, max_size=7),
            "built": st.lists(st.integers(1990, 2008), min_size=7, max_size=7),
            "caps": st.tuples(st.integers(0, 80), st.integers(0, 80), st.integers(0, 80)),
            "n_pools": st.integers(2, 3),
            "max_count": st.none() | st.integers(0, 4),
            "sequence": st.booleans(),
        }
    )
)
def test_pools_plan_is_optimal_property(case: dict[str, Any]) -> None:
    draws, households, built, caps = case["draws"], case["households"], case["built"], case["caps"]
    n_pools, max_count, sequence = case["n_pools"], case["max_count"], case["sequence"]
    n = len(draws)
    df = pd.DataFrame(
        {
            "community_id": [f"C{i}" for i in range(n)],
            "built_year": built[:n],
            "households": households[:n],
            "status": "eligible",
            "floor_area_m2": 1000.0,
        }
    )
    sources = POOLS[:n_pools]
    for k, source in enumerate(sources):
        df[plan.pool_column(source)] = [float(d[k]) for d in draws]
    df["government_cost_wan_yuan"] = df[[plan.pool_column(s) for s in sources]].sum(axis=1)
    available = {s: float(caps[k]) for k, s in enumerate(sources)}
    limits = PlanLimits(
        pools=available,
        max_communities=max_count,
        sequence_built_before=2000 if sequence else None,
    )
    table, info = annual_plan(df, limits=limits, plan_year=2026)
    score = priority(df, plan_year=2026)
    old = (df["built_year"] <= 2000).to_numpy(bool)
    first = set(df.loc[old, "community_id"]) if sequence else None
    best, _ = brute_force_pools(df, score, available, max_count=max_count, first=first)
    assert info["objective"] == pytest.approx(best, abs=1e-6)
    selected = table.set_index("community_id")["selected"].reindex(df["community_id"])
    picked = selected.to_numpy(bool)
    if first is not None:  # the older communities first: their best sum is kept
        best_old, _ = brute_force_pools(df[old], score[old], available, max_count=max_count)
        assert float(score[picked & old].sum()) == pytest.approx(best_old, abs=1e-6)
    pools: Any = info["pools"]
    for source in sources:
        used = float(df.loc[picked, plan.pool_column(source)].sum())
        assert pools[source]["used_wan_yuan"] == pytest.approx(used)
        assert used <= available[source] + 1e-9
    # every community left out names a limit it would break, true by the numbers
    for row in table.loc[~table["selected"]].itertuples():
        assert row.selection_code == "not_chosen" or all(
            c in {"over_pool", "over_max_communities"} for c in row.selection_code.split("+")
        )


def test_a_community_with_a_gap_is_never_planned_unless_allowed() -> None:
    df = knapsack().assign(gap_wan_yuan=[0.0, 0.0, 44.04, 0.0, 0.0, 0.0])
    limits = PlanLimits(budget_wan_yuan=100)
    table, info = annual_plan(df, limits=limits, weights=HOUSEHOLDS_ONLY, plan_year=2026)
    # without C: A+D+F = B+D+E = 2.2 (100 万元), the earliest id wins
    score = priority(df, plan_year=2026, weights=HOUSEHOLDS_ONLY)
    rest = df["community_id"] != "C"
    assert brute_force(df[rest], score[rest], 100) == (pytest.approx(2.2), {"A", "D", "F"})
    assert chosen(table) == {"A", "D", "F"}
    assert info["entered"] == 5
    row = table.set_index("community_id").loc["C"]
    assert (row["selection_code"], row["selection_reason"]) == (
        "funding_gap",
        "资金缺口 44.04 万元",
    )
    assert row["gap_wan_yuan"] == pytest.approx(44.04)
    for budget in (0, 10, 100, 1000):  # never planned, whatever the money
        gapped, _ = annual_plan(df, limits=PlanLimits(budget_wan_yuan=budget), plan_year=2026)
        assert "C" not in chosen(gapped)
    allowed, info = annual_plan(
        df,
        limits=PlanLimits(budget_wan_yuan=100, allow_gap=True),
        weights=HOUSEHOLDS_ONLY,
        plan_year=2026,
    )
    assert chosen(allowed) == {"C", "D", "E", "F"}  # the plain optimum again
    row = allowed.set_index("community_id").loc["C"]
    assert row["selection_code"] == "selected_with_gap"
    assert row["selection_reason"] == "已选入（资金缺口 44.04 万元；情景允许带缺口纳入 allow_gap）"
    assert info["chosen_with_gap"] == 1


def test_a_draw_on_a_pool_with_no_money_is_a_gap() -> None:
    df = pooled()
    only_two = {"central_budget_investment": 60.0, "local_budget": 40.0}  # no land_transfer
    table, info = annual_plan(
        df, limits=PlanLimits(pools=only_two), weights=HOUSEHOLDS_ONLY, plan_year=2026
    )
    rows = table.set_index("community_id")
    # A, C and F draw on land_transfer, which has no money: unfunded. Of B, D, E: B + D
    # (cbi 60, lb 30) = 1.6 beats D + E = 1.3; B + E breaks lb, B + D + E cbi.
    assert info["entered"] == 3
    assert chosen(table) == {"B", "D"}
    assert rows.loc["A", "selection_code"] == "pool_unavailable"
    assert rows.loc["A", "selection_reason"] == (
        "资金缺口：土地出让收益无2026年可用资金（需 20.00 万元）"
    )
    assert rows.loc["E", "selection_code"] == "over_pool"
    allowed, info = annual_plan(
        df,
        limits=PlanLimits(pools=only_two, allow_gap=True),
        weights=HOUSEHOLDS_ONLY,
        plan_year=2026,
    )
    # all enter; cbi and lb only: A + C + D + E (cbi 60, lb 30) = 3.1
    flagged = allowed.set_index("community_id")
    assert chosen(allowed) == {"A", "C", "D", "E"}
    assert flagged.loc[["A", "C", "D", "E"], "selection_code"].tolist() == [
        "selected_with_gap",
        "selected_with_gap",
        "selected",
        "selected",
    ]
    assert flagged.loc["A", "selection_reason"] == (
        "已选入（资金缺口：土地出让收益无2026年可用资金（需 20.00 万元）；"
        "情景允许带缺口纳入 allow_gap）"
    )
    assert info["chosen_with_gap"] == 2


def test_money_year_gate() -> None:
    df = knapsack().assign(money_year=pd.array([2026, None, 2027, 2025, None, None], "Int64"))
    table, _ = annual_plan(
        df, limits=PlanLimits(budget_wan_yuan=100), weights=HOUSEHOLDS_ONLY, plan_year=2026
    )
    row = table.set_index("community_id").loc["C"]
    assert (row["selection_code"], row["selection_reason"]) == ("money_year", "资金2027年到位")
    assert chosen(table) == {"A", "D", "F"}
    later, _ = annual_plan(
        df, limits=PlanLimits(budget_wan_yuan=100), weights=HOUSEHOLDS_ONLY, plan_year=2027
    )
    assert chosen(later) == {"C", "D", "E", "F"}  # the money is there in 2027
    assert later["money_year"].dtype == "Int64"
    # a gap and late money: both named, even when gaps are allowed for the gap
    both = df.assign(gap_wan_yuan=[0.0, 0.0, 5.0, 0.0, 0.0, 0.0])
    table, _ = annual_plan(both, limits=PlanLimits(budget_wan_yuan=100), plan_year=2026)
    row = table.set_index("community_id").loc["C"]
    assert row["selection_code"] == "funding_gap+money_year"
    assert row["selection_reason"] == "资金缺口 5.00 万元；资金2027年到位"
    table, _ = annual_plan(
        both, limits=PlanLimits(budget_wan_yuan=100, allow_gap=True), plan_year=2026
    )
    assert table.set_index("community_id").loc["C", "selection_code"] == "money_year"


def test_reasons_count_cap_area_cap_pool_and_several() -> None:
    def reasons(limits: PlanLimits, frame: pd.DataFrame | None = None) -> pd.DataFrame:
        table, _ = annual_plan(
            knapsack() if frame is None else frame,
            limits=limits,
            weights=HOUSEHOLDS_ONLY,
            plan_year=2026,
        )
        return table.set_index("community_id")[["selected", "selection_code", "selection_reason"]]

    count = reasons(PlanLimits(max_communities=2))  # A + B
    assert count.loc["C"].tolist() == [
        False,
        "over_max_communities",
        "超出数量上限（max_communities）：每年最多 2 个小区，已选 2 个",
    ]
    area = reasons(PlanLimits(max_floor_area_m2=7000))  # C + E + F, 7000 m²
    assert area.loc["A"].tolist() == [
        False,
        "over_max_floor_area",
        "超出面积上限（max_floor_area_m2）：每年最多 7,000 m²，已选 7,000 m²，本小区 6,000 m²",
    ]
    local = knapsack().assign(pool_local_budget_wan_yuan=knapsack()["government_cost_wan_yuan"])
    pool = reasons(PlanLimits(pools={"local_budget": 100}), local)  # C + D + E + F, 100 万元
    assert pool.loc["A"].tolist() == [
        False,
        "over_pool",
        "超出年度资金：市县财政资金 可用 100.00 万元，已用 100.00 万元，本小区需 60.00 万元",
    ]
    several = reasons(PlanLimits(pools={"local_budget": 100}, max_communities=4), local)
    assert several.loc["B", "selection_code"] == "over_pool+over_max_communities"
    assert several.loc["B", "selection_reason"] == (
        "超出年度资金：市县财政资金 可用 100.00 万元，已用 100.00 万元，本小区需 50.00 万元；"
        "超出数量上限（max_communities）：每年最多 4 个小区，已选 4 个"
    )
    # the count cap alone keeps E and F out although money is left: not "over budget"
    roomy = reasons(PlanLimits(budget_wan_yuan=1000, max_communities=4))
    assert set(roomy.loc[~roomy["selected"], "selection_code"]) == {"over_max_communities"}


def test_sequence_built_before_puts_older_communities_first() -> None:
    df = knapsack().assign(built_year=[2003, 1995, 2004, 1998, 2002, 1999])
    plain, _ = annual_plan(
        df, limits=PlanLimits(budget_wan_yuan=100), weights=HOUSEHOLDS_ONLY, plan_year=2026
    )
    assert chosen(plain) == {"C", "D", "E", "F"}
    table, info = annual_plan(
        df,
        limits=PlanLimits(budget_wan_yuan=100, sequence_built_before=2000),
        weights=HOUSEHOLDS_ONLY,
        plan_year=2026,
    )
    # built by 2000: B (50), D (30), F (10) fit together (2.1); 10 万元 left fits no one else
    score = priority(df, plan_year=2026, weights=HOUSEHOLDS_ONLY)
    df_pools = df.assign(pool_local_budget_wan_yuan=df["government_cost_wan_yuan"])
    best, ids = brute_force_pools(df_pools, score, {"local_budget": 100.0}, first={"B", "D", "F"})
    assert ids == {"B", "D", "F"}
    assert chosen(table) == ids
    assert info["objective"] == pytest.approx(best)
    assert info["sequence_built_before"] == 2000
    assert table.set_index("community_id").loc["E", "selection_code"] == "over_budget"


def funding_fixture() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Four communities; C4 has no funding row. Amounts in 万元 (the contract's table).

    ``counted`` as finance writes it when the scenario counts assumed money.
    """
    comm = pd.DataFrame(
        {
            "community_id": ["C1", "C2", "C3", "C4"],
            "built_year": [1990, 1995, 1998, 1999],
            "households": [100, 90, 80, 70],
            "floor_area_m2": [5000.0, 4000.0, 3000.0, 2000.0],
        },
        index=pd.Index([7, 8, 9, 10]),
    )
    elig = pd.DataFrame({"community_id": comm["community_id"], "status": "eligible"})
    schemes = pd.DataFrame(
        {
            "community_id": ["C1", "C2", "C3", "C4"],
            "item": [1, 1, 1, 1],
            "payer": "government",
            "cost_yuan": [450_000.0, 405_000.0, 400_000.0, 300_000.0],
            "safety": False,
        }
    )
    rows = [
        # community, source, status, pool, 万元, year
        ("C1", "central_budget_investment", "committed", True, 30.0, 2026),
        ("C1", "local_budget", "assumed", True, 10.0, None),
        ("C1", "residents", "committed", False, 5.0, 2025),
        ("C2", "local_budget", "committed", True, 20.0, 2027),
        ("C2", "utility", "assumed", False, 8.0, None),
        ("C2", "shortfall", "gap", False, 12.5, None),
        ("C3", "community_revenue", "committed", False, 40.0, 2026),
    ]
    columns = ["community_id", "source", "funding_status", "pool", "amount_wan_yuan", "year"]
    funding = pd.DataFrame(rows, columns=columns).assign(
        year=lambda f: f["year"].astype("Int64"),
        amount_yuan=lambda f: f["amount_wan_yuan"] * 10_000,
        source_zh="",
        funding_status_zh="",
        counted=lambda f: f["funding_status"] != "gap",
        payer_name="",
        reference="",
        rule="",
        mode="government_led",
    )
    return comm, elig, schemes, funding


def test_candidates_read_the_funding_contract() -> None:
    comm, elig, schemes, funding = funding_fixture()
    before = funding.copy()
    table = plan.candidates(comm, eligibility=elig, schemes=schemes, funding=funding)
    assert_frame_equal(funding, before)
    rows = table.set_index("community_id")
    assert rows["gap_wan_yuan"].tolist() == [0.0, 12.5, 0.0, 0.0]
    # assumed money not counted (FundingRules.count_assumed false) is in the gap:
    # C1 its assumed local_budget 10, C2 its assumed utility 8 + the gap row 12.5
    strict = funding.assign(counted=funding["funding_status"] == "committed")
    gaps = plan.candidates(comm, eligibility=elig, schemes=schemes, funding=strict)
    assert gaps["gap_wan_yuan"].tolist() == [10.0, 20.5, 0.0, 0.0]
    # a table without finance's ``counted`` column: the gap rows only
    bare = funding.drop(columns="counted")
    assert plan.candidates(comm, eligibility=elig, schemes=schemes, funding=bare)[
        "gap_wan_yuan"
    ].tolist() == [0.0, 12.5, 0.0, 0.0]
    assert rows["money_year"].tolist() == [2026, 2027, 2026, pd.NA]  # committed rows only
    assert rows["money_year"].dtype == "Int64"
    assert rows["pool_central_budget_investment_wan_yuan"].tolist() == [30.0, 0.0, 0.0, 0.0]
    assert rows["pool_local_budget_wan_yuan"].tolist() == [10.0, 20.0, 0.0, 0.0]  # assumed too
    # public money = the pool draws: C3 balances itself, C4 has no funding row
    assert rows["government_cost_wan_yuan"].tolist()[:3] == [40.0, 20.0, 0.0]
    assert np.isnan(rows.loc["C4", "government_cost_wan_yuan"])
    pools = [c for c in table.columns if c.startswith("pool_")]
    assert pools == ["pool_central_budget_investment_wan_yuan", "pool_local_budget_wan_yuan"]
    named = plan.candidates(
        comm,
        eligibility=elig,
        schemes=schemes,
        funding=funding,
        pools=["land_transfer", "utility", "shortfall"],  # a utility's framework agreement
    )  # is a pool too; "shortfall" is no source: no column
    assert [c for c in named.columns if c.startswith("pool_")] == [
        *pools,
        "pool_land_transfer_wan_yuan",
        "pool_utility_wan_yuan",
    ]
    assert named["pool_land_transfer_wan_yuan"].tolist() == [0.0] * 4
    # the spec's column name ``status`` is read too
    spec = funding.rename(columns={"funding_status": "status"})
    assert_frame_equal(
        plan.candidates(comm, eligibility=elig, schemes=schemes, funding=spec), table
    )
    # without funding: the government-paid items, as before
    plain = plan.candidates(comm, eligibility=elig, schemes=schemes)
    assert plain["government_cost_wan_yuan"].tolist() == [45.0, 40.5, 40.0, 30.0]
    assert "gap_wan_yuan" not in plain.columns
    # the plan: C2 has a gap, C4 no public cost known but nothing caps it
    table = table[table["community_id"] != "C4"]
    out, info = annual_plan(
        table,
        limits=PlanLimits(pools={"central_budget_investment": 30, "local_budget": 10}),
        plan_year=2027,
    )
    codes = dict(zip(out["community_id"], out["selection_code"], strict=True))
    assert codes == {"C1": "selected", "C2": "funding_gap", "C3": "selected"}
    assert info["binding"] == ["pool:central_budget_investment", "pool:local_budget"]
    assert info["limiting"] == {}  # nobody past the gates was kept out


def test_candidates_funding_errors() -> None:
    comm, elig, schemes, funding = funding_fixture()
    with pytest.raises(SchemaError, match=r"funding column\(s\) 'year' missing"):
        plan.candidates(
            comm, eligibility=elig, schemes=schemes, funding=funding.drop(columns="year")
        )
    bad = funding.assign(funding_status=["committed", "maybe", *funding["funding_status"][2:]])
    bad.loc[3, "amount_wan_yuan"] = -1.0
    with pytest.raises(LayerError, match=r"funding_status: maybe in rows 1") as err:
        plan.candidates(comm, eligibility=elig, schemes=schemes, funding=bad)
    assert "amount_wan_yuan: blank, not a number or negative in rows 3" in str(err.value)


def pool_rollout_fixture() -> tuple[pd.DataFrame, pd.DataFrame]:
    df = (
        rollout_fixture()
        .iloc[:3]
        .assign(status="eligible", pool_local_budget_wan_yuan=[60.0, 50.0, 30.0])
    )
    df["government_cost_wan_yuan"] = df["pool_local_budget_wan_yuan"]
    funding_pools = pd.DataFrame(
        {
            "source": "local_budget",
            "source_zh": "市县财政资金",
            "year": [2025, 2026, 2027, 2028],
            "committed_wan_yuan": [20.0, 50.0, 40.0, 100.0],
            "references": "",
        }
    )
    return df, funding_pools


def test_rollout_carries_unused_pool_money_by_hand() -> None:
    df, funding_pools = pool_rollout_fixture()
    comm, per_year = rollout(
        df,
        years=[2026, 2027],
        limits_per_year=PlanLimits(),
        weights=HOUSEHOLDS_ONLY,
        funding_pools=funding_pools,
    )
    # 2026: 20 (2025, before the plan) + 50 = 70: A (60) beats B (50) and C (30); A + C is 90.
    # 2027: 40 new + 10 left = 50: B fits exactly (40 alone would take C instead).
    # 2028's 100 is after the last plan year: not counted.
    assert comm["start_year"].tolist() == [2026, 2027, pd.NA]
    assert per_year.attrs["pools"] == [
        {
            "year": 2026,
            "source": "local_budget",
            "source_zh": "市县财政资金",
            "pool_committed_wan_yuan": 70.0,
            "carried_in_wan_yuan": 0.0,
            "pool_available_wan_yuan": 70.0,
            "pool_used_wan_yuan": 60.0,
            "carried_out_wan_yuan": 10.0,
        },
        {
            "year": 2027,
            "source": "local_budget",
            "source_zh": "市县财政资金",
            "pool_committed_wan_yuan": 40.0,
            "carried_in_wan_yuan": 10.0,
            "pool_available_wan_yuan": 50.0,
            "pool_used_wan_yuan": 50.0,
            "carried_out_wan_yuan": 0.0,
        },
    ]
    assert per_year["pools_available_wan_yuan"].tolist()[:2] == [70.0, 50.0]
    assert per_year["pools_used_wan_yuan"].tolist()[:2] == [60.0, 50.0]
    assert np.isnan(per_year["pools_available_wan_yuan"].iloc[2])  # 2028: not a plan year
    # without the carry-over 2027 has only 40: C, not B
    assert plan.pool_money(funding_pools, [2026, 2027]) == {
        2026: {"local_budget": 70.0},
        2027: {"local_budget": 40.0},
    }
    # the same yearly money given as PlanLimits.pools carries over too
    comm2, per_year2 = rollout(
        df,
        years=[2026, 2027],
        limits_per_year={
            2026: PlanLimits(pools={"local_budget": 70}),
            2027: PlanLimits(pools={"local_budget": 40}),
        },
        weights=HOUSEHOLDS_ONLY,
    )
    assert comm2["start_year"].tolist() == [2026, 2027, pd.NA]
    assert per_year2.attrs["pools"] == per_year.attrs["pools"]
    with pytest.raises(ScenarioError, match="pool money given twice"):
        rollout(
            df,
            years=[2026],
            limits_per_year=PlanLimits(pools={"local_budget": 1}),
            funding_pools=funding_pools,
        )
    # a utility's county-wide framework agreement is a pool of its own; a code that is no
    # funding source is left out
    utility = pd.DataFrame(
        {"source": ["utility", "shortfall"], "year": [2026, 2026], "committed_wan_yuan": [9.0, 5.0]}
    )
    with_utility = pd.concat([funding_pools, utility], ignore_index=True)
    assert plan.pool_money(with_utility, [2026]) == {2026: {"local_budget": 70.0, "utility": 9.0}}
    with pytest.raises(LayerError, match="committed_wan_yuan: not 万元 >= 0 in rows 1"):
        plan.pool_money(funding_pools.assign(committed_wan_yuan=[1.0, -1.0, 1.0, 1.0]), [2026])


def test_targets_table_linyi_by_hand() -> None:
    df = rollout_fixture()
    limits = {
        2026: PlanLimits(budget_wan_yuan=90, require_consent=False),
        2027: PlanLimits(budget_wan_yuan=60),
    }
    # as test_rollout_linyi_style_targets: A, C start 2026, B 2027; done 2028 and 2029
    _, per_year = rollout(
        df,
        years=[2026, 2027],
        limits_per_year=limits,
        build_years=2,
        weights=HOUSEHOLDS_ONLY,
        targets={"all_built_before": 2000, "share_built_before": (2005, 0.85), "by_year": 2028},
    )
    table = plan.targets_table(per_year)
    assert table.columns.tolist() == [
        "target",
        "description_zh",
        "built_by",
        "by_year",
        "unit",
        "required",
        "achieved",
        "communities",
        "completed",
        "share",
        "met",
        "missing",
        "missing_zh",
    ]
    rows = table.set_index("target")
    assert rows.loc["all_built_before"].tolist() == [
        "2000年底前建成的老旧小区到2028年底全部完成改造",
        2000,
        2028,
        "比例",
        1.0,
        1.0,
        2,
        2,
        1.0,
        True,
        0,
        "已达成",
    ]
    share = rows.loc["share_built_before"]
    assert share["description_zh"] == "2005年底前建成的老旧小区到2028年底完成85%以上"
    assert (share["communities"], share["completed"], share["met"], share["missing"]) == (
        3,
        2,
        False,
        1,
    )
    assert share["achieved"] == pytest.approx(2 / 3)
    assert share["missing_zh"] == "还需竣工1个小区（3个中已竣工2个；2028年底前未竣工：B）"
    assert table["met"].dtype == bool
    assert table["built_by"].dtype == "Int64"
    assert [c for c in table.columns if column_label(c) == c] == []


def test_targets_table_tongnan_yearly_by_hand() -> None:
    df = rollout_fixture()
    limits = {
        2026: PlanLimits(budget_wan_yuan=90, require_consent=False),
        2027: PlanLimits(budget_wan_yuan=60),
    }
    yearly = [
        {"year": 2026, "started": 2, "started_m2": 12_000},
        {"year": 2027, "started": 2},
        {"year": 2028, "completed": 2, "completed_m2": 10_000},
        {"year": 2031, "completed": 1},  # after the span: nothing happens that year
    ]
    _, per_year = rollout(
        df,
        years=[2026, 2027],
        limits_per_year=limits,
        build_years=2,
        weights=HOUSEHOLDS_ONLY,
        targets={"yearly": yearly},
    )
    # started 2026: A + C (6000 + 4000 m²); 2027: B (5000 m²); completed 2028: A + C
    table = plan.targets_table(per_year).set_index("target")
    assert table.index.tolist() == [
        "started_2026",
        "started_m2_2026",
        "started_2027",
        "completed_2028",
        "completed_m2_2028",
        "completed_2031",
    ]
    assert table["met"].tolist() == [True, False, False, True, True, False]
    assert table["achieved"].tolist() == [2.0, 10_000.0, 1.0, 2.0, 10_000.0, 0.0]
    assert table["required"].tolist() == [2.0, 12_000.0, 2.0, 2.0, 10_000.0, 1.0]
    assert table["unit"].tolist() == ["个", "m²", "个", "个", "m²", "个"]
    assert table["communities"].tolist() == [2, 2, 1, 2, 2, 0]
    assert table["completed"].tolist() == [pd.NA, pd.NA, pd.NA, 2, 2, 0]
    assert table["missing"].tolist() == [0, pd.NA, 1, 0, pd.NA, 1]
    assert table.loc["started_m2_2026", "description_zh"] == "2026年新开工建筑面积1.2万平方米"
    assert table.loc["started_m2_2026", "missing_zh"] == (
        "还差0.20万平方米（计划新开工建筑面积1.00万平方米）"
    )
    assert table.loc["started_2027", "description_zh"] == "2027年新开工2个小区"
    assert table.loc["started_2027", "missing_zh"] == "还差1个小区（计划新开工1个）"
    assert table.loc["started_2027", "share"] == pytest.approx(0.5)
    assert "done_share_built_by_2000" not in per_year.columns
    # Tongnan 2021 一(三): 2022 启动实施38个、62万平方米，完成99个
    tongnan = plan._targets(
        {"yearly": [{"year": 2022, "started": 38, "started_m2": 620_000, "completed": 99}]},
        first_year=2022,
    )
    assert [(t.name, t.required) for t in tongnan] == [
        ("started_2022", 38.0),
        ("started_m2_2022", 620_000.0),
        ("completed_2022", 99.0),
    ]


def test_targets_errors() -> None:
    df = rollout_fixture()
    limits = PlanLimits(budget_wan_yuan=60)
    with pytest.raises(ScenarioError, match="before the first plan year 2026"):
        rollout(
            df,
            years=[2026],
            limits_per_year=limits,
            targets={"yearly": [{"year": 2022, "started": 38}]},
        )
    with pytest.raises(ScenarioError, match="unknown key") as err:
        rollout(
            df,
            years=[2026],
            limits_per_year=limits,
            targets={"yearly": [{"year": 2026, "begun": 3, "started": 1.5}]},
        )
    assert [p[0] for p in err.value.problems] == [
        "plan.targets.yearly[0].begun",
        "plan.targets.yearly[0].started",
    ]
    empty = plan.targets_table(rollout(df, years=[2026], limits_per_year=limits)[1])
    assert empty.empty
    assert "met" in empty.columns


def test_require_ready_plans_only_what_the_register_says_is_ready() -> None:
    """项目等钱: with require_ready, a community not 就绪 in the register stays out."""
    df = rollout_fixture().assign(ready=[False, True, True, True])
    limits = PlanLimits(budget_wan_yuan=60, require_ready=True)
    table, _ = annual_plan(df, limits=limits, plan_year=2026)
    rows = table.set_index("community_id")
    # A (60 万元, most households) would fill the budget alone; not ready, B (50) goes in
    assert rows.loc["A", "selection_code"] == "not_ready"
    assert rows.loc["A", "selection_reason"].startswith("项目未就绪：项目储备库中")
    assert rows.loc["B", "selected"]
    assert not rows.loc["A", "selected"]
    # without the gate A is chosen (the test can fail)
    free, _ = annual_plan(df, limits=PlanLimits(budget_wan_yuan=60), plan_year=2026)
    assert free.set_index("community_id").loc["A", "selected"]
    # the gate with no readiness at all names the fix
    with pytest.raises(ScenarioError, match=r"plan\.register_file"):
        annual_plan(rollout_fixture(), limits=limits, plan_year=2026)
