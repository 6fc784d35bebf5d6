"""Tests for gisplan.finance: money by source and status, self-balance, debt, modes, checks.

Rules of the fixture (shares of the public cost, i.e. of the items paid by government):
中央财政专项资金 min(3 000 元/household, 0.5 x eligible basic+complete items), 中央预算内投资
0.5 x the networks' public part, provincial 0.1, local 0.3, land transfer 0, owner unit 0.1,
residents 200 元/household. No commitments: every amount is 测算 (assumed).

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

public 700 000; central investment 0 (no network item); special fund = min(3 000 x 100 =
300 000, 0.5 x (300 000 + 100 000) = 200 000) = 200 000 (items 8 and 20; 17 is the
residents'); provincial 70 000; local 210 000; owner unit 70 000; residents 200 x 100 =
20 000 for the public cost, and their item 17 (50 000); uncovered 700 000 - 570 000 =
130 000; total 750 000.

B (80 households, no owner unit): item 2 utility 80 000 (a network: the utility bears 100 %);
items 8 and 13 government 100 000 and 20 000. public 120 000; special fund min(240 000,
60 000) = 60 000; provincial 12 000; local 36 000; residents min(16 000, 12 000 left) =
12 000; utility 80 000; nothing uncovered; total 200 000.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pandas.testing import assert_frame_equal

from gisplan import finance
from gisplan._funding import read_commitments
from gisplan.errors import LayerError, ScenarioError, SchemaError
from gisplan.finance import (
    AREA_SOURCES,
    MODE_ZH,
    SOURCES,
    SOURCES_ZH,
    AreaMoney,
    FundingRules,
    RevenueFacility,
    fund,
    fund_by_modes,
    modes,
    revenue_pv,
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


def _amounts(funding: pd.DataFrame, cid: str, status: str | None = None) -> dict[str, float]:
    """Amount per source (all statuses added up, or one status), zero rows left out."""
    part = funding[funding["community_id"] == cid]
    if status is not None:
        part = part[part["funding_status"] == status]
    sums = part.groupby("source", sort=False)["amount_yuan"].sum()
    return {k: float(v) for k, v in sums.items() if v}


EXPECTED_A = {
    "central_special_fund": 200_000.0,
    "provincial_budget": 70_000.0,
    "local_budget": 210_000.0,
    "owner_unit": 70_000.0,
    "residents": 70_000.0,
    "shortfall": 130_000.0,
}
EXPECTED_B = {
    "central_special_fund": 60_000.0,
    "provincial_budget": 12_000.0,
    "local_budget": 36_000.0,
    "residents": 12_000.0,
    "utility": 80_000.0,
}


def _commitments(rows: list[dict[str, object]]) -> pd.DataFrame:
    base = {"payer_name": "县财政局", "reference": "示范财〔2026〕1号", "year": 2027}
    return pd.DataFrame([{**base, **r} for r in rows])


# --------------------------------------------------------------------------- fund


def test_fund_two_communities_exact_amounts() -> None:
    out = fund(_schemes(), _communities(), rules=RULES)
    assert out.columns.tolist() == [
        "community_id",
        "source",
        "source_zh",
        "funding_status",
        "funding_status_zh",
        "pool",
        "amount_yuan",
        "amount_wan_yuan",
        "counted",
        "year",
        "payer_name",
        "reference",
        "rule",
        "mode",
    ]
    assert _amounts(out, "A") == EXPECTED_A
    assert _amounts(out, "B") == EXPECTED_B
    # no commitments: every amount is 测算, nothing counts, the rest is uncovered
    assert set(out["funding_status"]) == {"assumed", "gap"}
    assert not out["counted"].any()
    assert out.groupby("community_id")["source"].last().tolist() == ["shortfall", "shortfall"]
    assert out.index.equals(pd.RangeIndex(len(out)))


def test_fund_rules_text_and_wan_yuan() -> None:
    out = fund(_schemes(), _communities(), rules=RULES)
    rule = out.set_index(["community_id", "source"])["rule"]
    amount = out.groupby(["community_id", "source"])["amount_wan_yuan"].sum()
    assert amount[("A", "central_special_fund")] == 20.0
    assert amount[("A", "shortfall")] == 13.0
    assert (
        out.loc[out["source"] == "central_special_fund", "source_zh"].iloc[0] == "中央财政专项资金"
    )
    assert "第1、3项已获中央补助" in rule[("A", "central_special_fund")]
    assert rule[("A", "central_special_fund")].endswith("（测算）")
    assert "临沂纺织厂" in rule[("A", "owner_unit")]
    residents = out[(out["community_id"] == "A") & (out["source"] == "residents")]["rule"]
    assert any("第17项" in r for r in residents)
    assert "第2项" in rule[("B", "utility")]
    assert "（测算，未签协议）" in rule[("B", "utility")]
    assert set(out.loc[out["community_id"] == "A", "mode"]) == {"shortfall"}
    assert set(out.loc[out["community_id"] == "B", "mode"]) == {"shortfall"}  # nothing committed


def test_subsidised_items_argument_same_as_column() -> None:
    comm = _communities().drop(columns="subsidised_items")
    out = fund(_schemes(), comm, rules=RULES, subsidised_items={"A": (1, 3)})
    assert _amounts(out, "A") == EXPECTED_A


def test_without_subsidised_items_central_takes_all_items() -> None:
    comm = _communities().drop(columns="subsidised_items")
    out = fund(_schemes(), comm, rules=RULES)
    # central = min(300 000, 0.5 x 700 000) = 300 000; uncovered 130 000 - 100 000
    assert _amounts(out, "A")["central_special_fund"] == 300_000.0
    assert _amounts(out, "A")["shortfall"] == 30_000.0


def test_central_per_m2_cap() -> None:
    comm = _communities().assign(floor_area_m2=[4000.0, 1000.0])
    rules = dataclasses.replace(RULES, central_per_m2_yuan=25.0)
    out = fund(_schemes(), comm, rules=rules)
    # A: min(300 000, 200 000, 25 x 4 000 = 100 000); B: min(240 000, 60 000, 25 000)
    assert _amounts(out, "A")["central_special_fund"] == 100_000.0
    assert _amounts(out, "B")["central_special_fund"] == 25_000.0


def test_order_decides_who_fills_first() -> None:
    rules = dataclasses.replace(RULES, order=("residents", "local_budget"))
    out = fund(_schemes(), _communities(), rules=rules)
    # residents 16 000 first, then local 0.3 x 120 000 = 36 000; the rest is uncovered
    assert _amounts(out, "B") == {
        "residents": 16_000.0,
        "local_budget": 36_000.0,
        "utility": 80_000.0,
        "shortfall": 68_000.0,
    }


def test_two_central_channels_never_pay_one_item() -> None:
    """中央预算内投资 takes the networks' public part; the special fund the other items."""
    catalogue = pd.DataFrame(
        {"utility_kind": ["water", "", ""], "gap_service": ["", "", ""]}, index=[1, 8, 13]
    )
    schemes = pd.DataFrame(
        {
            "community_id": ["C"] * 3,
            "item": [1, 8, 13],
            "class": ["basic"] * 3,
            "cost_yuan": [100_000.0, 60_000.0, 40_000.0],
            "payer": ["utility", "government", "government"],
        }
    )
    comm = pd.DataFrame({"community_id": ["C"], "households": [50]})
    rules = FundingRules(preset="linxia", provincial_share=0, local_share=0)
    out = fund(schemes, comm, rules=rules, catalogue=catalogue)
    # Linxia: the water company bears 50 % of item 1 (50 000); the county's 50 000 is public.
    # budget investment 0.5 x 50 000 = 25 000 on item 1 only; the special fund
    # min(50 x 10 000, 0.5 x (60 000 + 40 000)) = 50 000 on items 8 and 13, never item 1
    # land transfer 0.05 x 150 000 = 7 500; uncovered 150 000 - 25 000 - 50 000 - 7 500
    assert _amounts(out, "C") == {
        "central_budget_investment": 25_000.0,
        "central_special_fund": 50_000.0,
        "land_transfer": 7_500.0,
        "utility": 50_000.0,
        "shortfall": 67_500.0,
    }
    rule = out.set_index("source")["rule"]
    assert "第1项已由中央预算内投资支持，不重复" in rule["central_special_fund"]
    assert "临夏2020 四(三)" in rule["utility"]
    assert "50%为本工具假设" in rule["utility"]


def test_utility_reward_where_the_networks_are_not_theirs() -> None:
    """Linyi 四(五): not the utility's network → 以奖代补 share of their part is public."""
    comm = _communities().assign(utility_network_owned=[None, False])
    rules = dataclasses.replace(RULES, utility_reward_share=0.25)
    out = fund(_schemes(), comm, rules=rules)
    # B: utility part 80 000, 25 % (20 000) paid by the government as 以奖代补
    assert _amounts(out, "B")["utility"] == 60_000.0
    owned = fund(_schemes(), comm.assign(utility_network_owned=[None, True]), rules=rules)
    assert _amounts(owned, "B")["utility"] == 80_000.0


def test_department_provident_and_maintenance_funds() -> None:
    catalogue = pd.DataFrame(
        {
            "utility_kind": ["", "", ""],
            "gap_service": ["elderly_care", "", ""],
            "quantity_field": ["", "lift_units", "buildings"],
        },
        index=[31, 28, 16],
    )
    schemes = pd.DataFrame(
        {
            "community_id": ["D"] * 3,
            "item": [31, 28, 16],
            "class": ["improve", "complete", "basic"],
            "cost_yuan": [300_000.0, 1_200_000.0, 100_000.0],
            "payer": ["government", "residents", "government"],
        }
    )
    comm = pd.DataFrame(
        {
            "community_id": ["D"],
            "households": [40],
            "lift_units": [2],
            "maintenance_fund_wan_yuan": [30.0],
        }
    )
    rules = FundingRules(
        central_per_household_yuan=0,
        provincial_share=0,
        local_share=0,
        land_transfer_share=0,
        department_share=0.6,
        maintenance_fund_share=0.5,
        provident_per_lift_unit_yuan=200_000,
    )
    got = _amounts(fund(schemes, comm, rules=rules, catalogue=catalogue), "D")
    # 部门资金: 0.6 x item 31 (300 000) = 180 000; 维修资金 0.5 x 300 000 = 150 000, first
    # for the residents' lift (item 28), 公积金 2 x 200 000 = 400 000 for the lifts; the
    # residents still owe 1 200 000 - 150 000 - 400 000 = 650 000; uncovered: 120 000 of item
    # 31 and item 16 (100 000)
    assert got == {
        "department_funds": 180_000.0,
        "maintenance_fund": 150_000.0,
        "provident_fund": 400_000.0,
        "residents": 650_000.0,
        "shortfall": 220_000.0,
    }


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


# --------------------------------------------------------------------------- commitments


def test_committed_and_assumed_totals() -> None:
    """A pool allocation, a utility agreement and a named investor: 已落实 vs 测算."""
    commitments = _commitments(
        [
            # the year's central allocation to the county (a pool): B's draw becomes 已落实
            {
                "commitment_id": "K1",
                "source": "central_special_fund",
                "payer_name": "财政部、住房城乡建设部",
                "reference": "财建〔2026〕100号",
                "amount_wan_yuan": 500.0,
            },
            # the power company signs for B's item 2
            {
                "commitment_id": "K2",
                "source": "utility",
                "payer_name": "国网示范县供电公司",
                "reference": "协议2026-07",
                "amount_wan_yuan": 8.0,
                "community_id": "B",
                "items": "2",
            },
            # A's owner unit gives 100 000 元, and commits it in 2028
            {
                "commitment_id": "K3",
                "source": "owner_unit",
                "payer_name": "临沂纺织厂",
                "reference": "捐资承诺书",
                "amount_wan_yuan": 10.0,
                "community_id": "A",
                "year": 2028,
            },
        ]
    )
    out = fund(_schemes(), _communities(), rules=RULES, commitments=commitments)
    committed_b = _amounts(out, "B", "committed")
    assert committed_b == {"utility": 80_000.0, "central_special_fund": 60_000.0}
    assert _amounts(out, "B", "assumed") == {
        "provincial_budget": 12_000.0,
        "local_budget": 36_000.0,
        "residents": 12_000.0,
    }
    # A: the owner unit's 100 000 is committed first and is more than the owner-unit rule's
    # 0.1 x 700 000, so the rule adds nothing; the special fund still pays 200 000
    assert _amounts(out, "A", "committed") == {
        "owner_unit": 100_000.0,
        "central_special_fund": 200_000.0,
    }
    assert _amounts(out, "A", "assumed") == {
        "provincial_budget": 70_000.0,
        "local_budget": 210_000.0,
        "residents": 70_000.0,
    }
    assert _amounts(out, "A", "gap") == {"shortfall": 100_000.0}
    m = modes(out).set_index("community_id")
    # gap = cost - committed: A 750 000 - 300 000; B 200 000 - 140 000
    assert m.loc[
        "A", ["committed_wan_yuan", "assumed_wan_yuan", "shortfall_wan_yuan"]
    ].tolist() == [
        30.0,
        35.0,
        45.0,
    ]
    assert m.loc[
        "B", ["committed_wan_yuan", "assumed_wan_yuan", "shortfall_wan_yuan"]
    ].tolist() == [
        14.0,
        6.0,
        6.0,
    ]
    assert m.loc["A", "money_year"] == 2028
    row = out[(out["community_id"] == "B") & (out["source"] == "utility")].iloc[0]
    assert (row["payer_name"], row["reference"], row["year"]) == (
        "国网示范县供电公司",
        "协议2026-07",
        2027,
    )
    assert row["rule"] == "已落实：国网示范县供电公司（协议2026-07），2027年到位，用于第2项"
    pool = out[(out["community_id"] == "B") & (out["source"] == "central_special_fund")]
    assert pool["pool"].tolist() == [True]
    # a what-if that counts the assumed money too
    what_if = modes(
        fund(
            _schemes(),
            _communities(),
            rules=dataclasses.replace(RULES, count_assumed=True),
            commitments=commitments,
        )
    ).set_index("community_id")
    assert what_if["shortfall_wan_yuan"].tolist() == [10.0, 0.0]
    assert what_if.loc["B", "mode"] == "government_led"


def test_pools_table() -> None:
    commitments = read_commitments(
        _commitments(
            [
                {"commitment_id": "K1", "source": "local_budget", "amount_wan_yuan": 800.0},
                {
                    "commitment_id": "K2",
                    "source": "local_budget",
                    "amount_wan_yuan": 200.0,
                    "reference": "示范财〔2026〕9号",
                },
                {
                    "commitment_id": "K3",
                    "source": "local_budget",
                    "amount_wan_yuan": 900.0,
                    "year": 2028,
                },
                {
                    "commitment_id": "K4",
                    "source": "owner_unit",
                    "amount_wan_yuan": 5.0,
                    "community_id": "A",
                },
            ]
        ),
        sources=SOURCES,
        communities={"A"},
        projects=set(),
        years=(2027, 2030),
    )
    table = finance.pools(commitments)
    assert table[["source", "year", "committed_wan_yuan"]].to_numpy().tolist() == [
        ["local_budget", 2027, 1000.0],
        ["local_budget", 2028, 900.0],
    ]
    assert table["references"].iloc[0] == "示范财〔2026〕1号、示范财〔2026〕9号"


@pytest.mark.parametrize(
    ("row", "said"),
    [
        ({"community_id": "Z"}, "community Z is not in the communities layer"),
        ({"project_id": "P9"}, "project P9 is not in the projects layer"),
        ({"year": 2035}, "year 2035 is outside the plan period 2027–2030"),
        ({"source": "lottery"}, "source 'lottery' is not a funding source"),
        ({"reference": None}, "no reference"),
        ({"amount_wan_yuan": -1}, "is not an amount >= 0"),
        ({"year": "next"}, "year 'next' is not a year"),
    ],
)
def test_bad_commitments_named(row: dict[str, object], said: str) -> None:
    table = _commitments(
        [{"commitment_id": "K7", "source": "local_budget", "amount_wan_yuan": 10.0, **row}]
    )
    with pytest.raises(LayerError, match="commitments · K7") as err:
        read_commitments(
            table, sources=SOURCES, communities={"A", "B"}, projects={"P1"}, years=(2027, 2030)
        )
    assert said in str(err.value)


def test_commitment_larger_than_its_items() -> None:
    table = _commitments(
        [
            {
                "commitment_id": "K8",
                "source": "utility",
                "amount_wan_yuan": 9.0,
                "community_id": "B",
                "items": "2",
            }
        ]
    )
    with pytest.raises(
        LayerError,
        match=r"K8: 90,000\.00 元 for B is more than what items 2 still cost \(80,000\.00 元\)",
    ):
        fund(_schemes(), _communities(), rules=RULES, commitments=table)


def test_commitment_over_an_incomplete_cost_names_the_unpriced_items() -> None:
    # B's item 20 has no cost (priced per m², floor_area_m2 missing): its priced public cost is
    # 120,000 元, so an owner unit's 15 万元 is too much — the message says the cost is
    # incomplete rather than only that the commitment is too large
    schemes = pd.concat(
        [
            _schemes(),
            pd.DataFrame(
                [("B", 20, "complete", math.nan, "government")],
                columns=["community_id", "item", "class", "cost_yuan", "payer"],
            ),
        ],
        ignore_index=True,
    )
    table = _commitments(
        [{"commitment_id": "K9", "source": "owner_unit", "amount_wan_yuan": 15.0,
          "community_id": "B"}]
    )  # fmt: skip
    with pytest.raises(LayerError, match=r"K9: 150,000\.00 元 for B is more than") as err:
        fund_by_modes(schemes, _communities(), rules=RULES, commitments=table)
    assert "the cost of B（1 项） is incomplete" in str(err.value)
    assert "floor_area_m2" in str(err.value)


# --------------------------------------------------------------------------- debt and revenue


def test_revenue_pv_by_hand() -> None:
    shop = RevenueFacility(
        kind="shop",
        build_cost_yuan=100_000,
        annual_net_income_yuan=30_000,
        start_year=2029,
        years=3,
    )
    rules = FundingRules(discount_rate=0.05)
    income, build = revenue_pv([shop], rules=rules, plan_year=2027)
    # income 2029, 2030, 2031 discounted 2, 3, 4 years; build cost in 2028 (1 year)
    assert income == pytest.approx(30_000 * (1.05**-2 + 1.05**-3 + 1.05**-4))
    assert income == pytest.approx(77_807.09, abs=0.01)
    assert build == pytest.approx(100_000 / 1.05)


def test_self_balance_npv_by_hand() -> None:
    park = RevenueFacility(kind="parking", build_cost_yuan=200_000, annual_net_income_yuan=50_000)
    rules = FundingRules(discount_rate=0.04, horizon_years=15, coverage_ratio=1.2)
    # annuity factor (1 - 1.04^-15) / 0.04 = 11.118387; PV 555 919.37 / 1.2 - 200 000
    factor = (1 - 1.04**-15) / 0.04
    capacity = 50_000 * factor / 1.2 - 200_000
    assert capacity == pytest.approx(263_266.14, abs=0.01)
    ok, surplus = self_balance(250_000, [park], rules=rules)
    assert ok
    assert surplus == pytest.approx(13_266.14, abs=0.01)
    ok, surplus = self_balance(300_000, [park], rules=rules)
    assert not ok
    assert surplus == pytest.approx(-36_733.86, abs=0.01)


def test_self_balance_zero_rate_and_no_facilities() -> None:
    lift = RevenueFacility(kind="lift", build_cost_yuan=10, annual_net_income_yuan=10)
    rules = FundingRules(discount_rate=0, horizon_years=5, coverage_ratio=1.0)
    assert self_balance(40, [lift], rules=rules) == (True, 0.0)
    assert self_balance(0, []) == (False, 0.0)
    with pytest.raises(ScenarioError, match="cost_yuan"):
        self_balance(-1, [lift])


def test_self_balancing_community() -> None:
    park = RevenueFacility(
        kind="parking", build_cost_yuan=200_000, annual_net_income_yuan=50_000, name="地下停车库"
    )
    out = fund(_schemes(), _communities(), rules=RULES, revenues={"B": [park]})
    b = _amounts(out, "B")
    # B's public cost (120 000) is within what the parking serves (263 266.14): no draw on the
    # budgets; the utility still bears its network
    assert b == {"community_revenue": 120_000.0, "utility": 80_000.0}
    rule = out.set_index(["community_id", "source"]).loc[("B", "community_revenue"), "rule"]
    assert rule.startswith("小区内自求平衡：地下停车库收益现值")
    assert "本息覆盖倍数1.2" in rule
    m = modes(out).set_index("community_id")
    assert (m.loc["B", "mode"], m.loc["B", "mode_zh"]) == ("self_balance", "小区内自求平衡")


def test_self_balance_from_the_revenues_table() -> None:
    table = pd.DataFrame(
        {
            "revenue_id": ["R1", "R2"],
            "community_id": ["B", "B"],
            "kind": ["parking", "lift"],
            "build_cost_wan_yuan": [20.0, 0.0],
            "annual_net_income_wan_yuan": [3.0, 2.0],
            "years": [15, 15],
        }
    )
    out = fund(_schemes(), _communities(), rules=RULES, revenues=table)
    assert modes(out).set_index("community_id").loc["B", "mode"] == "self_balance"


def test_special_bonds_only_against_revenue() -> None:
    rules = dataclasses.replace(
        RULES, local_share=0.2, special_bonds_share=0.1, resident_per_household_yuan=0
    )
    shop = RevenueFacility(kind="shop", build_cost_yuan=0, annual_net_income_yuan=1_000)
    out = fund(_schemes(), _communities(), rules=rules, revenues={"B": [shop]})
    # A has no revenue: no bonds (no hidden debt); B: 24 000 left after the budgets, bonds
    # min(0.1 x 120 000, capacity 1 000 x 11.118387 / 1.2 = 9 265.32)
    assert "special_bonds" not in _amounts(out, "A")
    assert _amounts(out, "B")["special_bonds"] == pytest.approx(9_265.32, abs=0.01)


def test_debt_rule_rejects_a_bond() -> None:
    shop = RevenueFacility(kind="shop", build_cost_yuan=0, annual_net_income_yuan=1_000, years=10)
    commitments = _commitments(
        [
            {
                "commitment_id": "B1",
                "source": "special_bonds",
                "payer_name": "省财政厅（专项债券）",
                "reference": "示范债〔2027〕3号",
                "amount_wan_yuan": 5.0,
                "community_id": "B",
            }
        ]
    )
    out = fund_by_modes(
        _schemes(),
        _communities(),
        rules=RULES,
        commitments=commitments,
        revenues={"B": [shop]},
        plan_years=(2027, 2030),
    )
    # 50 000 元 of bonds against 1 000 元 a year for 10 years from 2028: PV 8 110.90 / 1.2 =
    # 6 759.08 元
    debt = out["debt_check"].set_index("unit_id").loc["B"]
    assert not debt["passed"]
    assert debt["capacity_wan_yuan"] == 0.68
    assert debt["debt_wan_yuan"] == 5.0
    assert "否决，不计入" in debt["note"]
    funding = out["funding"]
    assert "special_bonds" not in _amounts(funding, "B", "committed")
    gap = funding[(funding["community_id"] == "B") & (funding["source"] == "shortfall")]
    assert "债务测试未通过，不计入" in gap["rule"].iloc[0]


def test_a_bundle_whose_revenue_comes_late_must_pass_the_debt_test() -> None:
    com, pro, _ = line_layers()
    # P1 (cost 100, revenue 160 万元) sells in 2030; P2 (10, 55) in 2027
    pro = pro.assign(revenue_year=[2030, 2027])
    com = com.assign(households=[100, 60, 80])
    schemes = pd.DataFrame(
        {
            "community_id": ["C1", "C2", "C3"],
            "item": [6, 6, 6],
            "class": "basic",
            "cost_yuan": [500_000.0, 300_000.0, 400_000.0],
            "payer": "government",
        }
    )
    rules = FundingRules(
        central_per_household_yuan=0,
        provincial_share=0,
        local_share=0,
        land_transfer_share=0,
        owner_unit_share=0,
    )
    out = fund_by_modes(
        schemes,
        com,
        rules=rules,
        projects=pro,
        options=finance.FinancingOptions(),
        plan_years=(2027, 2030),
    )
    # C1 + P1 must borrow its need and P1's cost (50 + 100 万元) in 2027 against 160 万元 in
    # 2030: PV 160 / 1.04^3 = 142.24, / 1.2 = 118.53 < 150: rejected, C1 bundled no more
    debt = out["debt_check"]
    assert debt[["unit_id", "project_ids", "passed"]].to_numpy().tolist() == [
        ["否决1", "P1", False]
    ]
    assert debt["capacity_wan_yuan"].tolist() == [118.53]
    assert debt["debt_wan_yuan"].tolist() == [150.0]
    mode = out["financing_modes"].set_index("community_id")["mode"]
    assert mode.to_dict() == {"C1": "government_led", "C2": "government_led", "C3": "large_area"}
    money = out["funding"].set_index(["community_id", "source"])
    assert money.loc[("C3", "large_area_project"), "funding_status"] == "assumed"  # no contract
    assert money.loc[("C3", "large_area_project"), "year"] == 2027


def test_project_contract_makes_bundle_money_committed() -> None:
    com, pro, _ = line_layers()
    com = com.assign(households=[100, 60, 80])
    schemes = pd.DataFrame(
        {
            "community_id": ["C3"],
            "item": [6],
            "class": "basic",
            "cost_yuan": [400_000.0],
            "payer": "government",
        }
    )
    contract = _commitments(
        [
            {
                "commitment_id": "K9",
                "source": "land_transfer",
                "payer_name": "示范县自然资源局（土地出让合同）",
                "reference": "出让合同2026-015",
                "amount_wan_yuan": 55.0,
                "project_id": "P2",
            }
        ]
    )
    out = fund_by_modes(
        schemes,
        com,
        rules=FundingRules(
            central_per_household_yuan=0,
            provincial_share=0,
            local_share=0,
            land_transfer_share=0,
            owner_unit_share=0,
        ),
        projects=pro.assign(revenue_year=[2027, 2027]),
        options=finance.FinancingOptions(order=("large_area", "government_led")),
        commitments=contract,
        plan_years=(2027, 2030),
    )
    row = out["funding"].set_index("source").loc["large_area_project"]
    # P2's contract (55) covers what the bundle spends (C3's 40 and P2's cost 10)
    assert (row["funding_status"], row["amount_yuan"]) == ("committed", 400_000.0)
    assert modes(out["funding"]).loc[0, "mode"] == "large_area"


# --------------------------------------------------------------------------- modes


def test_modes_per_community() -> None:
    funding = fund(_schemes(), _communities(), rules=dataclasses.replace(RULES, count_assumed=True))
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
    assert m["money_year"].isna().all()


def test_modes_needs_fund_columns() -> None:
    with pytest.raises(SchemaError, match="mode"):
        modes(pd.DataFrame({"community_id": ["A"], "source": ["utility"], "amount_yuan": [1.0]}))


def test_labels_cover_every_column() -> None:
    out = fund_by_modes(_schemes(), _communities(), rules=RULES)
    columns = [
        c
        for name in ("funding", "funding_modes", "funding_pools", "funding_summary", "debt_check")
        for c in out[name].columns
    ]
    assert [c for c in columns if column_label(c) == c] == []
    assert set(SOURCES_ZH) >= {*SOURCES, *AREA_SOURCES, "shortfall"}


def test_summary_by_source_and_status() -> None:
    out = fund_by_modes(_schemes(), _communities(), rules=RULES)
    table = out["funding_summary"].set_index("source")
    assert table.loc["central_special_fund", ["assumed_wan_yuan", "total_wan_yuan"]].tolist() == [
        26.0,
        26.0,
    ]
    assert table.loc["shortfall", "gap_wan_yuan"] == 13.0
    assert table["total_wan_yuan"].sum() == pytest.approx(95.0)  # 75 + 20
    assert table["pool_drawn_wan_yuan"].sum() == 0.0  # no pool: nothing is committed by rule
    assert table["pool_wan_yuan"].isna().all()
    # a county-wide pool of 10 万元 makes both communities' 26 万元 of central money committed
    # draws; the summary puts the draws beside the pool's money (the plan spreads them)
    pool = _commitments([{"commitment_id": "K1", "source": "central_special_fund",
                          "amount_wan_yuan": 10.0}])  # fmt: skip
    out = fund_by_modes(_schemes(), _communities(), rules=RULES, commitments=pool)
    table = out["funding_summary"].set_index("source")
    row = table.loc["central_special_fund"]
    assert row[["committed_wan_yuan", "pool_drawn_wan_yuan", "pool_wan_yuan"]].tolist() == [
        26.0,
        26.0,
        10.0,
    ]
    assert np.isnan(table.loc["local_budget", "pool_wan_yuan"])


# --------------------------------------------------------------------------- area funding


def test_area_funding_first_pays_the_whole_public_cost() -> None:
    # A: public cost 700,000 元; residents owe item 17 (50,000 元). A large-area bundle whose
    # project is signed (已落实) paying 700,000 元 leaves nothing for the government sources.
    area = {"A": {"large_area_project": AreaMoney(700_000.0, committed=True, year=2027)}}
    funding = fund(_schemes(), _communities(), rules=RULES, area_funding=area)
    assert _amounts(funding, "A") == {"residents": 50_000.0, "large_area_project": 700_000.0}
    # projected revenue (a plain amount: 测算, no contract) never comes before committed
    # money: the sources pay first and it takes only the 130,000 元 they leave
    projected = {"A": {"large_area_project": 700_000.0}}
    funding = fund(_schemes(), _communities(), rules=RULES, area_funding=projected)
    assert _amounts(funding, "A")["large_area_project"] == 130_000.0
    m = modes(
        fund(
            _schemes(),
            _communities(),
            area_funding=area,
            rules=dataclasses.replace(RULES, count_assumed=True),
        )
    ).set_index("community_id")
    assert (m.loc["A", "mode"], m.loc["A", "mode_zh"]) == ("large_area", "大片区统筹平衡")
    assert m.loc["A", "bundle_mode"] == "大片区统筹平衡"
    assert (m.loc["B", "mode"], m.loc["B", "bundle_mode"]) == ("government_led", "")


def test_area_funding_after_the_sources_closes_the_shortfall() -> None:
    before = _amounts(fund(_schemes(), _communities(), rules=RULES), "A")
    area = {"A": {"cross_area_project": AreaMoney(500_000.0, committed=True, year=2027)}}
    funding = fund(_schemes(), _communities(), rules=RULES, area_funding=area, area_first=False)
    after = _amounts(funding, "A")
    assert after.pop("cross_area_project") == 130_000.0
    assert after == {k: v for k, v in before.items() if k != "shortfall"}
    row = funding[(funding["community_id"] == "A") & (funding["source"] == "cross_area_project")]
    assert row["funding_status"].tolist() == ["committed"]
    assert row["rule"].iloc[0].startswith("跨片区组合平衡：非相邻收益项目安排50.00万元")


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


# --------------------------------------------------------------------------- errors


def test_shares_over_100_percent_named() -> None:
    with pytest.raises(ScenarioError, match=r"add up to 110%") as err:
        FundingRules(
            provincial_share=0.2,
            local_share=0.4,
            land_transfer_share=0.0,
            owner_unit_share=0.1,
            social_capital_share=0.4,
        )
    assert "local_share 0.4" in str(err.value)
    assert "provincial_share 0.2" in str(err.value)
    assert err.value.problems[0][0] == "finance.shares"


def test_share_written_as_percent() -> None:
    with pytest.raises(ScenarioError, match=r"write 0\.3, not 30"):
        FundingRules(local_share=30)
    with pytest.raises(ScenarioError, match="negative"):
        FundingRules(provincial_share=-0.1)
    with pytest.raises(ScenarioError, match=r"utility_item_shares\.5 = 50"):
        FundingRules(utility_item_shares={5: 50})


def test_coverage_ratio_and_preset() -> None:
    with pytest.raises(ScenarioError, match="below 1") as err:
        FundingRules(coverage_ratio=0.9)
    assert "本息覆盖倍数" in str(err.value)
    with pytest.raises(ScenarioError, match="'chongqing' is not a seed city"):
        FundingRules(preset="chongqing")
    assert FundingRules(preset="tongnan").utility_share == 1.0
    assert FundingRules(preset="litong", utility_share=0.7).utility_share == 0.7


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
    # numpy integers (a table's rows) are whole numbers; 2.5 years and a text year are not
    shop = RevenueFacility(
        kind="shop", build_cost_yuan=0, annual_net_income_yuan=1, years=np.int64(15),
        start_year=np.int64(2028),
    )  # fmt: skip
    assert (shop.years, shop.start_year) == (15, 2028)
    with pytest.raises(ScenarioError, match=r"years = 2\.5 is not a whole number >= 1"):
        RevenueFacility(kind="shop", build_cost_yuan=0, annual_net_income_yuan=1, years=2.5)  # type: ignore[arg-type]
    with pytest.raises(ScenarioError, match="start_year = '2028' is not a year"):
        RevenueFacility(kind="shop", build_cost_yuan=0, annual_net_income_yuan=1, start_year="2028")  # type: ignore[arg-type]
    bad = pd.DataFrame(
        {
            "revenue_id": ["R1"],
            "community_id": ["B"],
            "kind": ["garage"],
            "build_cost_wan_yuan": [1.0],
            "annual_net_income_wan_yuan": [1.0],
        }
    )
    with pytest.raises(LayerError, match="revenues · R1"):
        fund(_schemes(), _communities(), revenues=bad)


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
    order = draw(st.permutations(finance.DEFAULT_ORDER))
    return FundingRules(
        central_per_household_yuan=draw(st.integers(0, 50_000)),
        resident_per_household_yuan=draw(st.integers(0, 5_000)),
        utility_share=draw(st.integers(0, 100)) / 100,
        order=tuple(order[: draw(st.integers(0, len(order)))]),
        count_assumed=draw(st.booleans()),
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
    # the counted money is the committed money, plus the assumed money only when it counts
    counted = out.loc[out["counted"], "amount_yuan"].groupby(out["community_id"]).sum()
    assert (out.loc[out["counted"], "funding_status"] != "gap").all()
    if not rules.count_assumed:
        assert (out.loc[out["counted"], "funding_status"] == "committed").all()
    assert m.set_index("community_id")["covered_yuan"].sub(counted, fill_value=0).abs().max() < 0.01


def test_integer_ids_and_self_balance_rule_text() -> None:
    schemes = _schemes().assign(community_id=lambda d: d["community_id"].map({"A": 1, "B": 2}))
    comm = _communities().assign(community_id=[1, 2])
    park = RevenueFacility(kind="parking", build_cost_yuan=200_000, annual_net_income_yuan=50_000)
    out = fund(schemes, comm, rules=RULES, revenues={2: [park]})  # type: ignore[dict-item]
    rules = out.set_index(["community_id", "source"])["rule"]
    assert rules[(2, "community_revenue")].startswith("小区内自求平衡")
    assert "限基础类、完善类内容" in rules[(1, "central_special_fund")]


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
