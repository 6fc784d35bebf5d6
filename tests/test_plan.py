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
    assert table["selection_reason"].tolist() == ["over budget"] * 2 + ["selected"] * 4
    assert table["priority"].tolist() == pytest.approx([1.0, 0.9, 0.8, 0.7, 0.6, 0.5])
    assert table.index.tolist() == list(range(6))
    assert table.columns.tolist() == [
        "community_id",
        "priority",
        "selected",
        "selection_reason",
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
    reason = dict(zip(gated["community_id"], gated["selection_reason"], strict=True))
    assert reason == {
        "A": "selected",
        "B": "over budget",
        "C": "waiting for consent",
        "D": "selected",
        "E": "not eligible: excluded by the eligibility rules",
        "F": "not eligible: unknown — needs survey",
    }
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
    assert set(table["selection_reason"]) == {"over budget"}
    assert info["chosen"] == 0
    assert info["status"] == "not solved"
    assert info["objective"] == 0.0
    assert "0 万元" in str(info["note"])
    assert "empty" in str(info["note"])


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
    assert reasons["A"] == "already 在建 (2025): not planned again (不得重复建设)"
    assert reasons["D"] == "already 竣工 (2022): not planned again (不得重复建设)"
    assert reasons["B"] == reasons["C"] == "selected"  # a blank status counts as 储备
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
    reason = table.set_index("community_id").loc["A", "selection_reason"]
    assert reason.startswith("scheme vote failed (方案表决未通过)")


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
    assert reasons["C1"] == "selected"
    assert reasons["C2"] == (
        "no scheme items yet (方案未确定：改造内容待核实): not planned until the survey "
        "decides them"
    )
    assert reasons["C3"] == "not eligible: unknown — needs survey"  # the first reason stays
    assert info["entered"] == 1
