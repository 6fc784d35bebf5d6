"""Tests for gisplan.finance: funding per source, self-balance, modes and rule checks.

Rules of the fixture (shares of the public cost, i.e. of the items paid by government):
central subsidy min(3 000 元/household, 0.5 x eligible basic+complete items), provincial
0.1, local 0.3, land transfer 0, owner unit 0.1, residents 200 元/household.

A (100 households, owner unit 临沂纺织厂, items 1 and 3 already centrally subsidised):

====  ========  ==========  ========
item  class     payer       cost 元
====  ========  ==========  ========
1     basic     government  200 000   (already subsidised)
3     basic     government  100 000   (already subsidised)
8     basic     government  300 000
20    complete  government  100 000
17    basic     residents    50 000
====  ========  ==========  ========

public 700 000; central = min(3 000 x 100 = 300 000, 0.5 x (300 000 + 100 000) = 200 000)
= 200 000; provincial 70 000; local 210 000; owner unit 70 000; residents 200 x 100 =
20 000 + their item 50 000 = 70 000; shortfall 700 000 - 570 000 = 130 000; total 750 000.

B (80 households, no owner unit): item 2 utility 80 000; items 8 and 13 government 100 000
and 20 000. public 120 000; central = min(240 000, 60 000) = 60 000; provincial 12 000;
local 36 000; residents min(200 x 80 = 16 000, 120 000 - 108 000 = 12 000) = 12 000;
utility 80 000; no shortfall; total 200 000.
"""

from __future__ import annotations

import dataclasses
import math

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pandas.testing import assert_frame_equal

from gisplan import finance
from gisplan.errors import LayerError, ScenarioError, SchemaError
from gisplan.finance import (
    AREA_SOURCES,
    MODE_ZH,
    SOURCES,
    SOURCES_ZH,
    FundingRules,
    RevenueFacility,
    fund,
    modes,
    self_balance,
)
from gisplan.vocabulary import column_label

from _fixtures import line_layers

RULES = FundingRules(
    central_per_household_yuan=3000,
    central_cap_share=0.5,
    central_classes=("basic", "complete"),
    provincial_share=0.1,
    local_share=0.3,
    land_transfer_share=0.0,
    owner_unit_share=0.1,
    resident_per_household_yuan=200,
)


def _schemes() -> pd.DataFrame:
    rows = [
        ("A", 1, "basic", 200_000.0, "government"),
        ("A", 3, "basic", 100_000.0, "government"),
        ("A", 8, "basic", 300_000.0, "government"),
        ("A", 20, "complete", 100_000.0, "government"),
        ("A", 17, "basic", 50_000.0, "residents"),
        ("B", 2, "basic", 80_000.0, "utility"),
        ("B", 8, "basic", 100_000.0, "government"),
        ("B", 13, "basic", 20_000.0, "government"),
    ]
    out = pd.DataFrame(rows, columns=["community_id", "item", "class", "cost_yuan", "payer"])
    out["cost_wan_yuan"] = (out["cost_yuan"] / 1e4).round(2)
    return out


def _communities() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "community_id": ["A", "B"],
            "households": [100, 80],
            "owner_unit": ["临沂纺织厂", None],
            "subsidised_items": ["1、3", ""],
        }
    )


def _amounts(funding: pd.DataFrame, cid: str) -> dict[str, float]:
    part = funding[funding["community_id"] == cid]
    return dict(zip(part["source"], part["amount_yuan"], strict=True))


EXPECTED_A = {
    "central_subsidy": 200_000.0,
    "provincial_budget": 70_000.0,
    "local_budget": 210_000.0,
    "land_transfer": 0.0,
    "special_bonds": 0.0,
    "utility": 0.0,
    "owner_unit": 70_000.0,
    "residents": 70_000.0,
    "social_capital": 0.0,
    "credit": 0.0,
    "shortfall": 130_000.0,
}
EXPECTED_B = {
    "central_subsidy": 60_000.0,
    "provincial_budget": 12_000.0,
    "local_budget": 36_000.0,
    "land_transfer": 0.0,
    "special_bonds": 0.0,
    "utility": 80_000.0,
    "owner_unit": 0.0,
    "residents": 12_000.0,
    "social_capital": 0.0,
    "credit": 0.0,
    "shortfall": 0.0,
}


# --------------------------------------------------------------------------- fund


def test_fund_two_communities_exact_amounts() -> None:
    out = fund(_schemes(), _communities(), rules=RULES)
    assert out.columns.tolist() == [
        "community_id",
        "source",
        "source_zh",
        "amount_yuan",
        "amount_wan_yuan",
        "rule",
        "mode",
    ]
    assert out["community_id"].tolist() == ["A"] * 11 + ["B"] * 11
    assert out["source"].tolist()[:11] == [*SOURCES, "shortfall"]
    assert _amounts(out, "A") == EXPECTED_A
    assert _amounts(out, "B") == EXPECTED_B
    assert out.index.equals(pd.RangeIndex(22))


def test_fund_rules_text_and_wan_yuan() -> None:
    out = fund(_schemes(), _communities(), rules=RULES).set_index(["community_id", "source"])
    assert out.loc[("A", "central_subsidy"), "amount_wan_yuan"] == 20.0
    assert out.loc[("A", "shortfall"), "amount_wan_yuan"] == 13.0
    assert out.loc[("A", "central_subsidy"), "source_zh"] == "中央补助资金"
    assert "第1、3项已获中央补助" in out.loc[("A", "central_subsidy"), "rule"]
    assert "临沂纺织厂" in out.loc[("A", "owner_unit"), "rule"]
    assert "第17项" in out.loc[("A", "residents"), "rule"]
    assert "实际12000.00元" in out.loc[("B", "residents"), "rule"]
    assert "第2项" in out.loc[("B", "utility"), "rule"]
    assert out.loc[("B", "owner_unit"), "rule"] == "无原产权单位"
    assert "不得使用专项债券" in out.loc[("B", "special_bonds"), "rule"]
    assert set(out["mode"].xs("A", level="community_id")) == {"shortfall"}
    assert set(out["mode"].xs("B", level="community_id")) == {"government_led"}


def test_subsidised_items_argument_same_as_column() -> None:
    comm = _communities().drop(columns="subsidised_items")
    out = fund(_schemes(), comm, rules=RULES, subsidised_items={"A": (1, 3)})
    assert _amounts(out, "A") == EXPECTED_A


def test_without_subsidised_items_central_takes_all_items() -> None:
    comm = _communities().drop(columns="subsidised_items")
    out = fund(_schemes(), comm, rules=RULES)
    # central = min(300 000, 0.5 x 700 000) = 300 000; shortfall 130 000 - 100 000
    assert _amounts(out, "A")["central_subsidy"] == 300_000.0
    assert _amounts(out, "A")["shortfall"] == 30_000.0


def test_central_per_m2_cap() -> None:
    comm = _communities().assign(floor_area_m2=[4000.0, 1000.0])
    rules = dataclasses.replace(RULES, central_per_m2_yuan=25.0)
    out = fund(_schemes(), comm, rules=rules)
    # A: min(300 000, 200 000, 25 x 4 000 = 100 000); B: min(240 000, 60 000, 25 000)
    assert _amounts(out, "A")["central_subsidy"] == 100_000.0
    assert _amounts(out, "B")["central_subsidy"] == 25_000.0


def test_order_decides_who_fills_first() -> None:
    rules = dataclasses.replace(RULES, order=("residents", "local_budget"))
    out = fund(_schemes(), _communities(), rules=rules)
    b = _amounts(out, "B")
    # residents 16 000 first, then local 0.3 x 120 000 = 36 000; the rest is short
    assert b["residents"] == 16_000.0
    assert b["local_budget"] == 36_000.0
    assert b["central_subsidy"] == 0.0
    assert b["shortfall"] == 68_000.0
    rule = out.set_index(["community_id", "source"]).loc[("B", "credit"), "rule"]
    assert rule == "未列入筹资顺序"


def test_special_bonds_only_with_income() -> None:
    rules = dataclasses.replace(RULES, local_share=0.2, special_bonds_share=0.1)
    shop = RevenueFacility(kind="shop", build_cost_yuan=0, annual_net_income_yuan=1000)
    out = fund(_schemes(), _communities(), rules=rules, revenues={"B": [shop]})
    assert _amounts(out, "A")["special_bonds"] == 0.0
    assert _amounts(out, "B")["special_bonds"] == 12_000.0


def test_self_balancing_community() -> None:
    park = RevenueFacility(kind="parking", build_cost_yuan=200_000, annual_net_income_yuan=50_000)
    out = fund(_schemes(), _communities(), rules=RULES, revenues={"B": [park]})
    b = _amounts(out, "B")
    assert b["social_capital"] == 120_000.0
    assert b["utility"] == 80_000.0
    assert b["central_subsidy"] == 0.0
    assert b["shortfall"] == 0.0
    m = modes(out).set_index("community_id")
    assert m.loc["B", "mode"] == "self_balance"
    assert m.loc["B", "mode_zh"] == "小区内自求平衡"


def test_communities_without_scheme_are_left_out() -> None:
    comm = pd.concat(
        [pd.DataFrame({"community_id": ["Z"], "households": [5]}), _communities()],
        ignore_index=True,
    )
    out = fund(_schemes(), comm, rules=RULES)
    assert list(dict.fromkeys(out["community_id"])) == ["A", "B"]


def test_fund_does_not_mutate_inputs() -> None:
    schemes, comm = _schemes(), _communities()
    saved_s, saved_c = schemes.copy(), comm.copy()
    fund(schemes, comm, rules=RULES)
    assert_frame_equal(schemes, saved_s)
    assert_frame_equal(comm, saved_c)


# --------------------------------------------------------------------------- modes


def test_modes_per_community() -> None:
    funding = fund(_schemes(), _communities(), rules=RULES)
    saved = funding.copy()
    m = modes(funding)
    assert_frame_equal(funding, saved)
    assert m["community_id"].tolist() == ["A", "B"]
    a, b = m.iloc[0], m.iloc[1]
    assert (a["mode"], a["mode_zh"]) == ("shortfall", "资金缺口")
    assert (a["cost_yuan"], a["covered_yuan"], a["shortfall_yuan"]) == (750_000, 620_000, 130_000)
    assert (a["cost_wan_yuan"], a["covered_wan_yuan"], a["shortfall_wan_yuan"]) == (75, 62, 13)
    assert (b["mode"], b["mode_zh"]) == ("government_led", MODE_ZH["government_led"])
    assert (b["cost_wan_yuan"], b["shortfall_wan_yuan"]) == (20.0, 0.0)
    assert m["bundle_mode"].tolist() == ["", ""]


def test_modes_needs_fund_columns() -> None:
    with pytest.raises(SchemaError, match="mode"):
        modes(pd.DataFrame({"community_id": ["A"], "source": ["utility"], "amount_yuan": [1.0]}))


def test_labels_cover_every_column() -> None:
    funding = fund(_schemes(), _communities(), rules=RULES)
    columns = [*funding.columns, *modes(funding).columns]
    assert [c for c in columns if column_label(c) == c] == []
    assert set(SOURCES_ZH) == {*SOURCES, *AREA_SOURCES, "shortfall"}


# --------------------------------------------------------------------------- area funding


def _paid(funding: pd.DataFrame, cid: str) -> dict[str, float]:
    part = funding[(funding["community_id"] == cid) & (funding["amount_yuan"] > 0)]
    return dict(zip(part["source"], part["amount_yuan"], strict=True))


def test_area_funding_first_pays_the_whole_public_cost() -> None:
    # A: public cost 200k + 100k + 300k + 100k = 700,000 元; residents pay item 17 (50,000 元).
    # A large-area bundle paying 700,000 元 leaves nothing for the government sources.
    area = {"A": {"large_area_project": 700_000.0}}
    funding = fund(_schemes(), _communities(), rules=RULES, area_funding=area)
    assert _paid(funding, "A") == {"residents": 50_000.0, "large_area_project": 700_000.0}
    # every community gets the two area rows once area funding is given
    assert funding.groupby("community_id").size().tolist() == [13, 13]
    m = modes(funding).set_index("community_id")
    assert (m.loc["A", "mode"], m.loc["A", "mode_zh"]) == ("large_area", "大片区统筹平衡")
    assert m.loc["A", "bundle_mode"] == "大片区统筹平衡"
    assert (m.loc["B", "mode"], m.loc["B", "bundle_mode"]) == ("government_led", "")


def test_area_funding_after_the_sources_closes_the_shortfall() -> None:
    # Without bundles A is 130,000 元 short (test_modes_per_community); a cross-area project
    # taken after the capped sources closes exactly that and leaves their amounts as they were.
    before = _paid(fund(_schemes(), _communities(), rules=RULES), "A")
    area = {"A": {"cross_area_project": 500_000.0}}
    funding = fund(_schemes(), _communities(), rules=RULES, area_funding=area, area_first=False)
    after = _paid(funding, "A")
    assert after.pop("cross_area_project") == 130_000.0
    assert after == {k: v for k, v in before.items() if k != "shortfall"}
    row = funding[(funding["community_id"] == "A") & (funding["source"] == "cross_area_project")]
    assert "实际使用130000.00元" in row["rule"].iloc[0]
    assert modes(funding).set_index("community_id").loc["A", "mode"] == "cross_area"


def test_partial_area_funding_leaves_a_shortfall() -> None:
    # 100,000 元 first: the capped sources (570,000 元 in all) fill 600,000 元 → 30,000 元 short.
    area = {"A": {"large_area_project": 100_000.0}}
    m = modes(fund(_schemes(), _communities(), rules=RULES, area_funding=area))
    a = m.set_index("community_id").loc["A"]
    assert (a["mode"], a["shortfall_yuan"], a["bundle_mode"]) == (
        "shortfall",
        30_000,
        "大片区统筹平衡",
    )


def test_bad_area_funding_is_named() -> None:
    with pytest.raises(ScenarioError, match=r"no scheme for area_funding: Z") as err:
        fund(_schemes(), _communities(), area_funding={"Z": {"large_area_project": 1.0}})
    assert err.value.problems[0][0] == "finance.fund"
    with pytest.raises(ScenarioError, match=r"A · bonds = 1\.0.*A · cross_area_project = -5"):
        fund(
            _schemes(),
            _communities(),
            area_funding={"A": {"bonds": 1.0, "cross_area_project": -5}},
        )


# --------------------------------------------------------------------------- self-balance


def test_self_balance_parking_npv_by_hand() -> None:
    park = RevenueFacility(kind="parking", build_cost_yuan=200_000, annual_net_income_yuan=50_000)
    rules = FundingRules(discount_rate=0.04, horizon_years=15)
    # annuity factor (1 - 1.04^-15) / 0.04 = 11.118387...; NPV = 50 000 x 11.118387 - 200 000
    factor = (1 - 1.04**-15) / 0.04
    assert factor == pytest.approx(11.118387, abs=1e-6)
    npv = 50_000 * factor - 200_000  # 355 919.37
    ok, surplus = self_balance(300_000, [park], rules=rules)
    assert ok
    assert surplus == pytest.approx(55_919.37, abs=0.01)
    assert surplus == pytest.approx(npv - 300_000)
    ok, surplus = self_balance(400_000, [park], rules=rules)
    assert not ok
    assert surplus == pytest.approx(-44_080.63, abs=0.01)


def test_self_balance_zero_rate_and_no_facilities() -> None:
    lift = RevenueFacility(kind="lift", build_cost_yuan=10, annual_net_income_yuan=10)
    assert self_balance(40, [lift], rules=FundingRules(discount_rate=0, horizon_years=5)) == (
        True,
        0.0,
    )
    assert self_balance(0, []) == (False, 0.0)
    with pytest.raises(ScenarioError, match="cost_yuan"):
        self_balance(-1, [lift])


# --------------------------------------------------------------------------- errors


def test_shares_over_100_percent_named() -> None:
    with pytest.raises(ScenarioError, match=r"add up to 120%") as err:
        FundingRules(
            central_cap_share=0.5,
            provincial_share=0.2,
            local_share=0.4,
            land_transfer_share=0.0,
            owner_unit_share=0.1,
        )
    assert "local_share 0.4" in str(err.value)
    assert "provincial_share 0.2" in str(err.value)
    assert err.value.problems[0][0] == "finance.shares"


def test_share_written_as_percent() -> None:
    with pytest.raises(ScenarioError, match=r"write 0\.3, not 30"):
        FundingRules(local_share=30)
    with pytest.raises(ScenarioError, match="negative"):
        FundingRules(provincial_share=-0.1)


def test_other_rule_problems_listed_at_once() -> None:
    with pytest.raises(ScenarioError) as err:
        FundingRules(
            order=("local_budget", "lottery", "local_budget"),
            central_classes=("basics",),
            discount_rate=4,
            horizon_years=0,
            resident_per_household_yuan=-5,
            self_balance_source="bank",
        )
    keys = [k for k, _, _ in err.value.problems]
    assert keys == [
        "finance.resident_per_household_yuan",
        "finance.central_classes",
        "finance.order",
        "finance.order",
        "finance.self_balance_source",
        "finance.discount_rate",
        "finance.horizon_years",
    ]
    assert "write 0.04, not 4" in str(err.value)


def test_revenue_facility_checked() -> None:
    with pytest.raises(ScenarioError, match="garage"):
        RevenueFacility(kind="garage", build_cost_yuan=1, annual_net_income_yuan=1)
    with pytest.raises(ScenarioError, match="build_cost_yuan"):
        RevenueFacility(kind="shop", build_cost_yuan=-1, annual_net_income_yuan=1)


def test_bad_scheme_rows() -> None:
    schemes = _schemes()
    schemes.loc[0, "cost_yuan"] = math.nan
    schemes.loc[1, "cost_yuan"] = -3.0
    schemes.loc[2, "payer"] = "bank"
    with pytest.raises(LayerError, match="survey its quantity") as err:
        fund(schemes, _communities(), rules=RULES)
    assert "negative" in str(err.value)
    assert "payer = 'bank'" in str(err.value)


def test_missing_columns_and_unknown_communities() -> None:
    with pytest.raises(SchemaError, match="payer"):
        fund(_schemes().drop(columns="payer"), _communities())
    with pytest.raises(SchemaError, match="households"):
        fund(_schemes(), _communities().drop(columns="households"))
    with pytest.raises(LayerError, match="not in the communities table: B"):
        fund(_schemes(), _communities().iloc[:1])
    with pytest.raises(LayerError, match="subsidised_items"):
        fund(_schemes(), _communities().assign(subsidised_items=["1、x", ""]))
    park = RevenueFacility(kind="parking", build_cost_yuan=0, annual_net_income_yuan=1)
    with pytest.raises(ScenarioError, match="no scheme for revenues: Q"):
        fund(_schemes(), _communities(), revenues={"Q": [park]})


# --------------------------------------------------------------------------- properties

_ITEM = st.tuples(
    st.integers(1, 36),
    st.sampled_from(["basic", "complete", "improve"]),
    st.integers(0, 10**9),  # fen
    st.sampled_from(["government", "utility", "residents", "social_capital"]),
)


@st.composite
def _rules(draw: st.DrawFn) -> FundingRules:
    weights = draw(st.lists(st.integers(0, 10), min_size=8, max_size=8))
    scale = draw(st.integers(1, 100)) / 100
    total = sum(weights) or 1
    shares = dict(
        zip(finance.SHARE_FIELDS, (w / total * scale for w in weights), strict=True),
    )
    order = draw(st.permutations(SOURCES))
    return FundingRules(
        central_per_household_yuan=draw(st.integers(0, 50_000)),
        resident_per_household_yuan=draw(st.integers(0, 5_000)),
        order=tuple(order[: draw(st.integers(0, len(SOURCES)))]),
        **shares,
    )


@settings(max_examples=60, deadline=None)
@given(
    items=st.lists(st.lists(_ITEM, min_size=1, max_size=6), min_size=1, max_size=4),
    communities=st.lists(
        st.tuples(st.integers(0, 2000), st.booleans(), st.sets(st.integers(1, 36), max_size=5)),
        min_size=4,
        max_size=4,
    ),
    income=st.integers(-10_000, 200_000),
    rules=_rules(),
)
def test_funding_sums_to_cost(
    items: list[list[tuple[int, str, int, str]]],
    communities: list[tuple[int, bool, set[int]]],
    income: int,
    rules: FundingRules,
) -> None:
    rows = [
        (f"c{i}", item, cls, fen / 100, payer)
        for i, group in enumerate(items)
        for item, cls, fen, payer in group
    ]
    schemes = pd.DataFrame(rows, columns=["community_id", "item", "class", "cost_yuan", "payer"])
    comm = pd.DataFrame(
        {
            "community_id": [f"c{i}" for i in range(4)],
            "households": [h for h, _, _ in communities],
            "owner_unit": ["单位" if o else "" for _, o, _ in communities],
            "subsidised_items": [tuple(sorted(s)) for _, _, s in communities],
        }
    )
    facility = RevenueFacility(kind="other", build_cost_yuan=0, annual_net_income_yuan=income)
    out = fund(schemes, comm, rules=rules, revenues={"c0": [facility]})
    assert (out["amount_yuan"] >= 0).all()
    for cid, part in out.groupby("community_id"):
        cost_fen = sum(
            round(c * 100) for c in schemes.loc[schemes["community_id"] == cid, "cost_yuan"]
        )
        assert sum(round(a * 100) for a in part["amount_yuan"]) == cost_fen
    m = modes(out)
    assert (m["covered_yuan"] + m["shortfall_yuan"] - m["cost_yuan"]).abs().max() < 1e-6


def test_integer_ids_and_self_balance_rule_text() -> None:
    schemes = _schemes().assign(community_id=lambda d: d["community_id"].map({"A": 1, "B": 2}))
    comm = _communities().assign(community_id=[1, 2])
    park = RevenueFacility(kind="parking", build_cost_yuan=200_000, annual_net_income_yuan=50_000)
    out = fund(schemes, comm, rules=RULES, revenues={2: [park]})  # type: ignore[dict-item]
    rules = out.set_index(["community_id", "source"])["rule"]
    assert rules[(2, "social_capital")].startswith("小区内自求平衡")
    assert rules[(2, "local_budget")] == "小区内自求平衡，未使用"
    assert "限基础类、完善类内容" in rules[(1, "central_subsidy")]


# --------------------------------------------------------------------------- plan_financing


def test_plan_financing_order() -> None:
    com, pro, need = line_layers()
    # default order: self-balance (C2 keeps it), bundles, cross-area, government-led
    plan = finance.plan_financing(com, pro, need, self_balanced=["C2"])
    modes = plan.modes.set_index("community_id")
    assert modes["mode"].to_dict() == {"C1": "large_area", "C2": "self_balance", "C3": "large_area"}
    assert modes.loc["C1", "bundle_id"] == "B001"
    assert modes.loc["C1", "project_ids"] == "P1"
    assert modes.loc["C3", "bundle_covered_wan_yuan"] == 40.0
    assert modes.loc["C2", "mode_zh"] == "小区内自求平衡"
    totals = plan.totals.set_index("mode")
    assert totals["communities"].to_dict() == {
        "self_balance": 1,
        "large_area": 2,
        "cross_area": 0,
        "government_led": 0,
    }
    assert totals.loc["large_area", "covered_wan_yuan"] == 90.0
    # cross-area before large-area: P1 (60) pays C1 (50), P2 (45) pays C3 (40); C2 (30)
    # fits neither remainder (10, 5), and the bundles see only those remainders
    cross_first = finance.plan_financing(
        com, pro, need, order=("cross_area", "large_area", "government_led")
    )
    assert cross_first.modes["mode"].tolist() == ["cross_area", "government_led", "cross_area"]
    assert cross_first.bundles.empty
    # only government-led
    alone = finance.plan_financing(com, pro, need, order=("government_led",))
    assert set(alone.modes["mode"]) == {"government_led"}
    assert alone.totals.set_index("mode").loc["government_led", "need_wan_yuan"] == 120.0
    with pytest.raises(ScenarioError, match="listed twice"):
        finance.plan_financing(com, pro, need, order=("large_area", "large_area"))
    with pytest.raises(ScenarioError, match="not a financing mode"):
        finance.plan_financing(com, pro, need, order=("magic",))
    with pytest.raises(LayerError, match="self_balanced: C9"):
        finance.plan_financing(com, pro, need, self_balanced=["C9"])


def test_plan_financing_self_balance_after_bundles() -> None:
    com, pro, need = line_layers()
    plan = finance.plan_financing(
        com, pro, need, self_balanced=["C1"], order=("large_area", "self_balance")
    )
    # C1 is bundled first; C2 and C3 left: C3 was bundled with P2
    assert plan.modes.set_index("community_id")["mode"].to_dict() == {
        "C1": "large_area",
        "C2": "government_led",
        "C3": "large_area",
    }
    assert set(plan.info) >= {"order", "large_area_status", "large_area_funded_wan_yuan"}


def test_plan_financing_labels_cover_every_column() -> None:
    com, pro, need = line_layers()
    plan = finance.plan_financing(com, pro, need)
    for frame in (plan.bundles, plan.members, plan.cross_area, plan.modes, plan.totals):
        assert [c for c in frame.columns if column_label(c) == c] == []
