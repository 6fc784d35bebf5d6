"""Tests for gisplan.eligibility: statuses, reasons per rule, presets, tiers, consent, gates.

The six-community fixture is planned for 2026 under the Linxia rules (重点 2000: a priority
cut-off; no expropriation up to 2026 + 5 = 2031; 双三分之二 by owners and by floor area; the
长效管理 consensus gates the plan); every expected value is on paper. Consent by number comes
from the rate columns, by area from 30,000 m² of floor area; all four qualifying conditions
hold everywhere:

==  ======  ===============================================  ==================================
id  built   other                                            status (Linxia)
==  ======  ===============================================  ==================================
C1  1995    all good (area 24,000 / 21,600 m²: 80%, 90%)     eligible, core
C2  2004    all good (Linxia 重点: after 2000 is not out)     eligible, later (Linyi: core)
C3  1998    expropriation planned 2029 = 2026 + 3            not_eligible (expropriation)
C4  1992    demolition planned, shantytown renovated         not_eligible (both)
C5  1999    participation 0.60, 长效管理 not agreed, items    eligible_waiting_consent
            1、3 (area 21,000 / 18,900 m²: 70%, 90%)
C6  <NA>    all good                                         unknown (built year)
==  ======  ===============================================  ==================================
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from fractions import Fraction

import geopandas as gpd
import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from pandas.testing import assert_frame_equal
from shapely.geometry import Point

from gisplan import eligibility
from gisplan.eligibility import (
    CONDITIONS,
    PRESET_SOURCES,
    PRESETS,
    REASONS,
    RULE_COLUMNS,
    RULE_SOURCES,
    SCOPE_ZH,
    SCOPES,
    STATUS_ZH,
    EligibilityRules,
    assess,
    preset,
)
from gisplan.errors import LayerError, ScenarioError, SchemaError
from gisplan.scenario import EligibilitySection, section_from_dict
from gisplan.vocabulary import codes, column_label

PLAN_YEAR = 2026
LINXIA = dataclasses.replace(preset("linxia"), plan_year=PLAN_YEAR)
LINYI = dataclasses.replace(preset("linyi"), plan_year=PLAN_YEAR)
TONGNAN = dataclasses.replace(preset("tongnan"), plan_year=PLAN_YEAR)
LITONG = dataclasses.replace(preset("litong"), plan_year=PLAN_YEAR)
NATIONAL = dataclasses.replace(preset("national"), plan_year=PLAN_YEAR)

MGMT_NOT_REACHED_ZH = (
    "居民尚未就同步完善小区长效管理机制形成共识，暂不纳入改造计划（住建部等三部门通知底线要求(八)）"
)


def _communities() -> pd.DataFrame:
    """C1–C6 of the module docstring, with the dtypes gisplan.layers produces."""
    yes = pd.array([True] * 6, dtype="boolean")
    return pd.DataFrame(
        {
            "community_id": ["C1", "C2", "C3", "C4", "C5", "C6"],
            "name": ["幸福里", "纺织厂宿舍", "东关小区", "西街小区", "南苑小区", "北园小区"],
            "built_year": pd.array([1995, 2004, 1998, 1992, 1999, None], dtype="Int64"),
            "land_tenure": pd.array(["国有"] * 6, dtype="string"),
            "planned_expropriation_year": pd.array(
                [None, None, 2029, None, None, None], dtype="Int64"
            ),
            "demolition_planned": pd.array(
                [False, False, False, True, False, False], dtype="boolean"
            ),
            "shantytown_renovated": pd.array(
                [False, False, False, True, False, False], dtype="boolean"
            ),
            "subsidised_items": [(), (), (), (), (1, 3), ()],
            "participation_rate": [0.8, 0.9, 0.8, 0.8, 0.6, 0.8],
            "approval_rate": [0.9, 0.9, 0.9, 0.9, 0.9, 0.9],
            "floor_area_m2": [30_000.0] * 6,
            "participating_area_m2": [24_000.0] * 4 + [21_000.0, 24_000.0],
            "approving_area_m2": [21_600.0] * 4 + [18_900.0, 21_600.0],
            "property_mgmt_agreed": pd.array(
                [True, True, True, True, False, True], dtype="boolean"
            ),
            "neglected": yes,
            "utilities_deficient": yes,
            "services_deficient": yes,
            "residents_willing": yes,
        },
        index=pd.Index([10, 20, 30, 40, 50, 60], name="fid"),
    )


def _one(**changes: object) -> pd.DataFrame:
    """C1 (all good) with some cells changed (or added)."""
    frame = _communities().iloc[[0]].copy()
    for column, value in changes.items():
        frame[column] = pd.Series([value], index=frame.index, dtype=object)
    return frame


def _counted(**changes: object) -> pd.DataFrame:
    """C1 with consent as counts instead of rates: 300 owners, 240 take part, 216 agree."""
    counts: dict[str, object] = {
        "owners": 300,
        "participating_owners": 240,
        "approving_owners": 216,
        "floor_area_m2": 30_000.0,
        "participating_area_m2": 24_000.0,
        "approving_area_m2": 21_600.0,
    }
    frame = _one(**{**counts, **changes})
    return frame.drop(columns=["participation_rate", "approval_rate"])


def _row(frame: pd.DataFrame, rules: EligibilityRules = LINXIA) -> pd.Series:
    return assess(frame, rules=rules).iloc[0]


# --------------------------------------------------------------------------- the fixture


def test_statuses_and_codes_of_the_fixture() -> None:
    out = assess(_communities(), rules=LINXIA)
    assert out["status"].tolist() == [
        "eligible",
        "eligible",
        "not_eligible",
        "not_eligible",
        "eligible_waiting_consent",
        "unknown",
    ]
    passed = (
        "STATE_LAND",
        "NO_EXPROPRIATION_SOON",
        "NO_DEMOLITION",
        "NOT_SHANTYTOWN",
        "CONSENT_MET_BY_AREA",
        "MGMT_CONSENSUS_REACHED",
    )
    assert out["reason_codes"].tolist() == [
        ("BUILT_BY_CUTOFF", *passed),
        ("BUILT_AFTER_PRIORITY_CUTOFF", *passed),
        ("EXPROPRIATION_PLANNED",),
        ("DEMOLITION_PLANNED", "SHANTYTOWN_RENOVATED"),
        ("PARTICIPATION_BELOW", "MGMT_CONSENSUS_NOT_REACHED"),
        ("BUILT_YEAR_MISSING",),
    ]
    assert out["status_zh"].tolist() == [STATUS_ZH[s] for s in out["status"]]
    assert out.loc[60, "status_zh"] == "待核实（需补充调查）"
    assert out.loc[50, "status_zh"] == "符合条件，待居民同意"
    assert out["scope"].tolist() == ["core", "later", "", "", "core", ""]
    assert out["scope_zh"].tolist()[:2] == ["核心范围（截止时间前建成）", "截止时间后建成（排后）"]
    assert out["conditions_met"].tolist() == [4] * 6


def test_rule_outcome_columns() -> None:
    out = assess(_communities(), rules=LINXIA)
    assert out.loc[10, list(RULE_COLUMNS)].tolist() == ["pass"] * 9
    assert out.loc[20, "rule_built_year"] == "pass"  # a priority cut-off never fails
    assert out.loc[30, "rule_expropriation"] == "fail"
    assert out.loc[40, ["rule_demolition", "rule_shantytown"]].tolist() == ["fail", "fail"]
    assert out.loc[50, ["rule_consent", "rule_property_mgmt"]].tolist() == ["fail", "fail"]
    assert out.loc[50, "rule_prior_subsidy"] == "pass"  # subsidised, still deficient (Linxia)
    assert out.loc[60, "rule_built_year"] == "unknown"
    assert out.loc[60, "rule_land"] == "pass"


def test_reason_texts_in_chinese() -> None:
    out = assess(_communities(), rules=LINXIA)
    assert out.loc[20, "reasons_zh"].startswith(
        "建成于2004年，晚于重点改造的建成时间2000年底，不排除，排在其后（临夏州实施方案）；"
    )
    assert out.loc[30, "reasons_zh"] == (
        "计划于2029年征收，在2026年计划起5年内（2031年及以前），不纳入改造范围"
    )
    assert out.loc[40, "reasons_zh"] == (
        "拟以拆除新建（含改建、扩建、翻建）方式实施改造，不纳入改造范围；"
        "已实施过城镇棚户区改造，不纳入改造范围"
    )
    assert out.loc[50, "reasons_zh"] == (
        f"居民参与率60%，低于66.7%，暂不纳入年度计划；{MGMT_NOT_REACHED_ZH}"
    )
    assert out.loc[60, "reasons_zh"] == "建成年份缺失，需补充调查"
    assert out.loc[10, "reasons_zh"].startswith(
        "建成于1995年，不晚于改造范围截止时间2000年底（临夏州实施方案）；位于城镇国有土地"
    )
    assert out.loc[10, "reasons_zh"].endswith(
        "居民参与率按户数80%、按面积80%，同意率按户数90%、按面积90%，均达到三分之二；"
        "居民已就同步完善小区长效管理机制形成共识"
    )


def test_central_subsidy_note_lists_items_and_keeps_eligibility() -> None:
    out = assess(_communities(), rules=LINXIA)
    assert out.loc[50, "central_subsidy_note"] == (
        "清单第1、3项已获中央补助改造，同一内容不得重复使用中央补助资金"
    )
    assert (out.drop(index=50)["central_subsidy_note"] == "").all()
    subsidised = _row(_one(subsidised_items=(4, 2)))
    assert subsidised["status"] == "eligible"
    assert subsidised["central_subsidy_note"].startswith("清单第2、4项")
    assert "PRIOR_FUNDED_STILL_NEEDED" in subsidised["reason_codes"]


def test_output_columns_index_and_order() -> None:
    frame = _communities().iloc[::-1]
    out = assess(frame, rules=LINXIA)
    assert out.index.equals(frame.index)
    assert out["community_id"].tolist() == ["C6", "C5", "C4", "C3", "C2", "C1"]
    assert list(out.columns) == [
        "community_id",
        "name",
        "status",
        "status_zh",
        "reason_codes",
        "reasons_zh",
        *RULE_COLUMNS,
        "central_subsidy_note",
        "scope",
        "scope_zh",
        "conditions_met",
        "no_repeat_items",
        "protection_zh",
    ]
    assert [c for c in out.columns if column_label(c) == c] == []


@pytest.mark.parametrize("rules", [LINXIA, LINYI, TONGNAN, LITONG, NATIONAL])
def test_input_not_mutated(rules: EligibilityRules) -> None:
    frame = _communities().assign(other_program_items=[(1,), (), (), (), (), ()])
    saved = frame.copy(deep=True)
    first = assess(frame, rules=rules)
    assert_frame_equal(frame, saved)
    assert_frame_equal(assess(frame, rules=rules), first)  # deterministic


def test_geodataframe_input() -> None:
    frame = gpd.GeoDataFrame(_communities(), geometry=[Point(i, 0) for i in range(6)], crs=4547)
    assert assess(frame, rules=LINXIA)["status"].iloc[0] == "eligible"


# --------------------------------------------------------------------------- scope tiers


def test_linyi_cutoff_is_hard_2005() -> None:
    out = assess(_communities(), rules=LINYI)
    assert (out.loc[20, "status"], out.loc[20, "scope"]) == ("eligible", "core")
    assert out.loc[20, "reasons_zh"].startswith(
        "建成于2004年，不晚于改造范围截止时间2005年底（临沂市实施方案）"
    )
    late = _row(_one(built_year=2008), LINYI)
    assert late["status"] == "not_eligible"
    assert late["reason_codes"] == ("BUILT_AFTER_CUTOFF",)
    assert late["reasons_zh"] == "建成于2008年，晚于改造范围截止时间2005年底（临沂市实施方案）"
    assert (late["scope"], late["scope_zh"]) == ("", "")


@pytest.mark.parametrize("year", [2003, 2008])
def test_linxia_cutoff_is_a_priority(year: int) -> None:
    row = _row(_one(built_year=year))
    assert (row["status"], row["scope"], row["scope_zh"]) == (
        "eligible",
        "later",
        SCOPE_ZH["later"],
    )
    assert row["reason_codes"][0] == "BUILT_AFTER_PRIORITY_CUTOFF"
    assert row["reasons_zh"].startswith(
        f"建成于{year}年，晚于重点改造的建成时间2000年底，不排除，排在其后（临夏州实施方案）"
    )


@pytest.mark.parametrize(
    ("year", "poor", "status", "scope", "code"),
    [
        (1998, None, "eligible", "core", "BUILT_BY_CUTOFF"),
        (2003, True, "eligible", "tier2", "BUILT_IN_TIER2"),
        (2005, True, "eligible", "tier2", "BUILT_IN_TIER2"),
        (2003, False, "not_eligible", "", "TIER2_CONDITIONS_NOT_MET"),
        (2003, None, "unknown", "", "TIER2_CONDITIONS_MISSING"),
        (2006, True, "not_eligible", "", "BUILT_AFTER_TIER2"),
    ],
)
def test_tongnan_two_tiers(
    year: int, poor: bool | None, status: str, scope: str, code: str
) -> None:
    row = _row(_one(built_year=year, poor_conditions=poor), TONGNAN)
    assert (row["status"], row["scope"], row["reason_codes"][0]) == (status, scope, code)


def test_tongnan_texts() -> None:
    tier2 = _row(_one(built_year=2003, poor_conditions=True), TONGNAN)
    assert tier2["reasons_zh"].startswith(
        "建成于2003年，晚于2000年底、不晚于2005年底，且居住条件较差，属逐步改造的第二档"
        "（潼南区实施方案）；"
    )
    assert tier2["scope_zh"] == "第二档（逐步改造）"
    fair = _row(_one(built_year=2003, poor_conditions=False), TONGNAN)
    assert fair["reasons_zh"] == (
        "建成于2003年，晚于改造范围截止时间2000年底，且不属于2005年底前建成的居住条件较差的小区"
        "（潼南区实施方案）"
    )
    blank = _row(_one(built_year=2003), TONGNAN)  # no poor_conditions column at all
    assert blank["reasons_zh"] == (
        "建成于2003年，晚于2000年底、不晚于2005年底，是否居住条件较差未调查，需补充调查"
    )
    late = _row(_one(built_year=2008, poor_conditions=True), TONGNAN)
    assert late["reasons_zh"] == "建成于2008年，晚于逐步改造范围截止时间2005年底（潼南区实施方案）"


def test_priority_cutoff_with_a_second_tier() -> None:
    rules = dataclasses.replace(TONGNAN, cutoff_mode="priority")
    tiers = [
        _row(_one(built_year=y, poor_conditions=p), rules)["scope"]
        for y, p in [(1998, None), (2003, True), (2003, False), (2003, None), (2010, True)]
    ]
    assert tiers == ["core", "tier2", "later", "later", "later"]


def test_national_cutoff_is_a_priority() -> None:
    row = _row(_one(built_year=2010), NATIONAL)
    assert (row["status"], row["scope"]) == ("eligible", "later")
    assert PRESETS["national"].cutoff_mode == "priority"


# --------------------------------------------------------------------------- conditions


def test_linyi_conditions() -> None:
    assert (LINYI.conditions_all, LINYI.conditions_any) == (
        ("residents_willing",),
        ("neglected", "utilities_deficient", "services_deficient"),
    )
    ok = _row(_one(services_deficient=False, neglected=None), LINYI)  # one deficiency is enough
    assert (ok["status"], ok["rule_conditions"]) == ("eligible", "pass")
    assert (
        "具备改造范围条件：居民改造意愿强烈、市政配套设施不完善（临沂市实施方案）"
        in ok["reasons_zh"]
    )
    unwilling = _row(_one(residents_willing=False), LINYI)
    assert (unwilling["status"], unwilling["reason_codes"]) == (
        "not_eligible",
        ("CONDITION_NOT_MET",),
    )
    assert unwilling["reasons_zh"] == (
        "不具备改造范围条件：居民改造意愿强烈（调查为“否”），不纳入改造范围（临沂市实施方案）"
    )
    sound = _row(_one(neglected=False, utilities_deficient=False, services_deficient=False), LINYI)
    assert (sound["status"], sound["reason_codes"]) == ("not_eligible", ("CONDITIONS_NONE_MET",))
    assert sound["reasons_zh"] == (
        "“失养失修失管”“市政配套设施不完善”“公共服务设施不健全”均不具备（须至少具备一项），"
        "不纳入改造范围（临沂市实施方案）"
    )
    literal = dataclasses.replace(
        LINYI,
        conditions_all=(
            "neglected",
            "utilities_deficient",
            "services_deficient",
            "residents_willing",
        ),
        conditions_any=(),
    )
    assert _row(_one(services_deficient=False), literal)["status"] == "not_eligible"


def test_required_condition_blank_is_unknown() -> None:
    blank = _row(_one(residents_willing=None), LINYI)
    assert (blank["status"], blank["reason_codes"]) == ("unknown", ("CONDITION_MISSING",))
    assert blank["reasons_zh"] == "改造范围条件“居民改造意愿强烈”未调查，需补充调查"
    assert blank["rule_conditions"] == "unknown"
    absent = _row(
        _one(utilities_deficient=False).drop(columns=["neglected", "services_deficient"]), LINYI
    )
    assert absent["status"] == "unknown"  # no deficiency known to hold, two not surveyed
    assert (
        absent["reasons_zh"] == "改造范围条件“失养失修失管、公共服务设施不健全”未调查，需补充调查"
    )
    # Linxia only counts them (重点…): a blank one lowers conditions_met, nothing else
    counted = _row(_one(residents_willing=None))
    assert (counted["status"], counted["conditions_met"]) == ("eligible", 3)


def test_conditions_any() -> None:
    rules = dataclasses.replace(
        LINYI,
        conditions_all=("residents_willing",),
        conditions_any=("neglected", "utilities_deficient", "services_deficient"),
    )
    one = _row(_one(neglected=False, utilities_deficient=None, services_deficient=True), rules)
    assert one["status"] == "eligible"
    none = _row(_one(neglected=False, utilities_deficient=False, services_deficient=False), rules)
    assert (none["status"], none["reason_codes"]) == ("not_eligible", ("CONDITIONS_NONE_MET",))
    assert none["reasons_zh"].startswith(
        "“失养失修失管”“市政配套设施不完善”“公共服务设施不健全”均不具备（须至少具备一项）"
    )
    open_ = _row(_one(neglected=False, utilities_deficient=None, services_deficient=False), rules)
    assert (open_["status"], open_["reason_codes"]) == ("unknown", ("CONDITION_MISSING",))


def test_conditions_met_counts_the_presets_conditions() -> None:
    frame = _one(neglected=False, residents_willing=None, management_deficient=True)
    assert _row(frame, NATIONAL)["conditions_met"] == 2
    assert _row(frame, LITONG)["conditions_met"] == 3  # 管理机制不健全 counts in Litong
    assert LITONG.counted_conditions()[-1] == "management_deficient"


# --------------------------------------------------------------------------- earlier subsidy


def test_litong_not_again_after_a_central_plan() -> None:
    row = _row(_one(subsidy_year=2021), LITONG)
    assert (row["status"], row["reason_codes"]) == ("not_eligible", ("PRIOR_PLAN_NOT_AGAIN",))
    assert row["reasons_zh"] == (
        "已于2021年纳入中央财政补助支持的城镇老旧小区改造计划，不得重复建设"
        "（利通区实施方案征求意见稿）"
    )
    assert row["rule_prior_subsidy"] == "fail"
    assert "不得重复建设" in RULE_SOURCES["litong"]["rule_prior_subsidy"]
    assert _row(_one(subsidy_year=None), LITONG)["status"] == "eligible"
    # Linxia and national keep it: no central money twice for the same items, nothing more
    assert _row(_one(subsidy_year=2021), NATIONAL)["status"] == "eligible"


def test_litong_subsidy_unknowns() -> None:
    items_only = _row(_one(subsidy_year=None, subsidised_items=(2,)), LITONG)
    assert (items_only["status"], items_only["reason_codes"]) == (
        "unknown",
        ("PRIOR_PLAN_YEAR_MISSING",),
    )
    absent = _row(_one(), LITONG)  # the fixture has no subsidy_year column: not surveyed
    assert (absent["status"], absent["reason_codes"]) == ("unknown", ("PRIOR_PLAN_UNKNOWN",))


def test_litong_three_supplies_items_not_repeated() -> None:
    row = _row(_one(subsidy_year=None, other_program_items="2、5"), LITONG)
    assert row["status"] == "eligible"
    assert row["no_repeat_items"] == (2, 5)
    assert row["central_subsidy_note"] == ""
    linxia = _row(_one(other_program_items=(2, 5)))
    assert linxia["no_repeat_items"] == ()
    assert linxia["central_subsidy_note"] == (
        "清单第2、5项已由“三供一业”等专项改造，同一内容不得重复使用中央补助资金"
    )


def test_litong_expropriation_without_window_and_no_real_estate() -> None:
    far = _row(_one(subsidy_year=None, planned_expropriation_year=PLAN_YEAR + 12), LITONG)
    assert (far["status"], far["reason_codes"]) == ("not_eligible", ("EXPROPRIATION_PLANNED_ANY",))
    assert far["reasons_zh"].startswith(
        "计划于2038年征收（拟对居民进行征收补偿安置），不得纳入改造计划"
    )
    assert _row(_one(planned_expropriation_year=PLAN_YEAR + 12))["status"] == "eligible"  # Linxia
    assert LITONG.no_real_estate
    assert not any(p.no_real_estate for k, p in PRESETS.items() if k != "litong")


@pytest.mark.parametrize(
    ("value", "status", "code"),
    [
        (True, "eligible", "PRIOR_FUNDED_STILL_NEEDED"),
        (False, "not_eligible", "PRIOR_FUNDED_NO_NEED"),
        (None, "unknown", "PRIOR_FUNDED_MISSING"),
    ],
)
def test_linxia_subsidised_community_must_still_be_deficient(
    value: bool | None, status: str, code: str
) -> None:
    row = _row(_one(subsidy_year=2019, utilities_deficient=value))
    assert row["status"] == status
    assert code in row["reason_codes"]
    not_subsidised = _row(_one(utilities_deficient=value))
    assert not_subsidised["status"] == "eligible"  # the condition binds subsidised ones only


# --------------------------------------------------------------------------- consent


def test_two_thirds_by_owners_not_by_area() -> None:
    # 210 of 300 owners take part (70%) but own 19,000 of 30,000 m² (63.3% < 2/3)
    row = _row(
        _counted(
            participating_owners=210,
            approving_owners=189,
            participating_area_m2=19_000.0,
            approving_area_m2=17_100.0,
        )
    )
    assert (row["status"], row["reason_codes"]) == (
        "eligible_waiting_consent",
        ("PARTICIPATION_AREA_BELOW",),
    )
    assert row["reasons_zh"] == "参与表决业主专有面积占建筑面积63.3%，低于66.7%，暂不纳入年度计划"
    assert row["rule_consent"] == "fail"


@pytest.mark.parametrize(
    ("participating", "status"), [(200, "eligible"), (199, "eligible_waiting_consent")]
)
def test_exactly_two_thirds_passes(participating: int, status: str) -> None:
    row = _row(_counted(participating_owners=participating, approving_owners=participating))
    assert row["status"] == status
    if participating == 199:
        assert row["reason_codes"] == ("PARTICIPATION_BELOW",)
        assert row["reasons_zh"] == "居民参与率66.3%，低于66.7%，暂不纳入年度计划"


def test_exactly_two_thirds_of_area_and_of_approvals_pass() -> None:
    area = _row(_counted(participating_area_m2=20_000.0, approving_area_m2=18_000.0))
    assert area["status"] == "eligible"  # 20,000 of 30,000 m² take part: exactly 2/3
    approvals = _row(
        _counted(
            approving_owners=160,  # 160 of 240 owners agree: exactly 2/3
            participating_area_m2=21_000.0,
            approving_area_m2=14_000.0,  # 14,000 of 21,000 m²: exactly 2/3
        )
    )
    assert approvals["status"] == "eligible"
    below = _row(_counted(approving_owners=159, approving_area_m2=15_999.0))
    assert below["reason_codes"] == ("APPROVAL_BELOW", "APPROVAL_AREA_BELOW")
    assert below["reasons_zh"] == (
        "居民同意率66.3%，低于66.7%，暂不纳入年度计划；"  # 159 / 240 = 66.25%, half up
        "同意业主专有面积占参与表决面积66.66%，低于66.7%，暂不纳入年度计划"  # 15,999 / 24,000
    )


def test_threshold_as_written() -> None:
    frame = _counted(participating_owners=200, approving_owners=200)
    decimal = dataclasses.replace(LINXIA, min_participation=0.67)  # 67/100 > 2/3
    row = _row(frame, decimal)
    assert row["status"] == "eligible_waiting_consent"
    assert row["reasons_zh"] == "居民参与率66.7%，低于67%，暂不纳入年度计划"
    text = dataclasses.replace(LINXIA, min_participation="2/3")
    assert text.min_participation == Fraction(2, 3)
    assert _row(frame, text)["status"] == "eligible"
    as_float = dataclasses.replace(LINXIA, min_participation=2 / 3)  # the float nearest 2/3
    assert as_float.participation_threshold == Fraction(2, 3)
    assert _row(frame, as_float)["status"] == "eligible"


def test_nobody_taking_part() -> None:
    row = _row(
        _counted(
            participating_owners=0,
            approving_owners=0,
            participating_area_m2=0.0,
            approving_area_m2=None,
        )
    )
    assert row["reason_codes"] == (
        "PARTICIPATION_BELOW",
        "PARTICIPATION_AREA_BELOW",
        "APPROVAL_BELOW",
        "APPROVAL_AREA_BELOW",
    )
    assert row["reasons_zh"].startswith("居民参与率0%，低于66.7%")


def test_owners_blank_falls_back_to_households() -> None:
    row = _row(_counted(owners=None, households=360))  # 240 / 360 = 2/3
    assert row["status"] == "eligible"
    fewer = _row(_counted(owners=None, households=361))
    assert fewer["reason_codes"] == ("PARTICIPATION_BELOW",)
    nobody = _row(_counted(owners=None))
    assert (nobody["status"], nobody["reason_codes"]) == (
        "eligible_waiting_consent",
        ("CONSENT_BASE_MISSING",),
    )


def test_rates_without_area_are_unknown_by_area() -> None:
    frame = _one().drop(columns=["participating_area_m2", "approving_area_m2"])
    row = _row(frame)
    assert (row["status"], row["reason_codes"]) == (
        "eligible_waiting_consent",
        ("CONSENT_AREA_MISSING",),
    )
    assert row["rule_consent"] == "unknown"
    assert row["reasons_zh"] == (
        "按专有面积计算的参与率、同意率缺少数据（参与表决专有面积、同意业主专有面积），待核实"
    )
    by_number = dataclasses.replace(LINXIA, consent_by_area=False)
    ok = _row(frame, by_number)
    assert ok["status"] == "eligible"
    assert ok["reasons_zh"].endswith(
        "居民参与率80%、同意率90%，均达到三分之二；居民已就同步完善小区长效管理机制形成共识"
    )


@pytest.mark.parametrize(
    ("changes", "text"),
    [
        ({"approving_owners": 250}, "同意业主数（250）多于参与表决业主数（240）"),
        (
            {"participating_owners": 320, "approving_owners": 300},
            "参与表决业主数（320）多于业主户数（300）",
        ),
        (
            {"participating_area_m2": 31_000.0, "approving_area_m2": 21_600.0},
            "参与表决专有面积（31000 m²）大于建筑面积（30000 m²）",
        ),
        (
            {"approving_area_m2": 25_000.5},
            "同意业主专有面积（25000.5 m²）大于参与表决专有面积（24000 m²）",
        ),
        ({"approving_owners": -3}, "同意业主数为负数（-3）"),
    ],
)
def test_inconsistent_vote_data_is_unknown(changes: dict[str, object], text: str) -> None:
    row = _row(_counted(**changes))
    assert (row["status"], row["reason_codes"]) == ("unknown", ("CONSENT_DATA_BAD",))
    assert row["reasons_zh"] == f"表决数据有误：{text}，需核实"
    assert row["rule_consent"] == "unknown"


def test_approving_more_than_participating_never_passes_with_scope_failure_first() -> None:
    row = _row(_counted(approving_owners=250, built_year=2010), LINYI)
    assert row["status"] == "not_eligible"  # the scope decides first


def test_consent_rates_as_before() -> None:
    below = _row(_one(approval_rate=0.5))
    assert (below["status"], below["reason_codes"]) == (
        "eligible_waiting_consent",
        ("APPROVAL_BELOW",),
    )
    missing = _row(_one(participation_rate=None))
    assert (missing["status"], missing["reason_codes"]) == (
        "eligible_waiting_consent",
        ("CONSENT_MISSING",),
    )
    assert missing["rule_consent"] == "unknown"
    exactly = _row(_one(participation_rate=2 / 3, approval_rate=2 / 3))
    assert exactly["status"] == "eligible"
    stricter = dataclasses.replace(LINXIA, min_participation=0.85)
    row = _row(_one(), stricter)
    assert row["reasons_zh"] == (
        "居民参与率80%，低于85%，暂不纳入年度计划；"
        "参与表决业主专有面积占建筑面积80%，低于85%，暂不纳入年度计划"
    )


@settings(max_examples=80, deadline=None)
@given(owners=st.integers(1, 2000), taking_part=st.integers(0, 2000))
def test_participation_by_owners_is_exact(owners: int, taking_part: int) -> None:
    part = min(owners, taking_part)
    frame = _counted(owners=owners, participating_owners=part, approving_owners=part)
    assert (_row(frame)["status"] == "eligible") == (3 * part >= 2 * owners)


# --------------------------------------------------------------------------- 长效管理 gate


def test_mgmt_consensus_gates_the_plan() -> None:
    no = _row(_one(property_mgmt_agreed=False))
    assert (no["status"], no["reason_codes"]) == (
        "eligible_waiting_consent",
        ("MGMT_CONSENSUS_NOT_REACHED",),
    )
    assert no["reasons_zh"] == MGMT_NOT_REACHED_ZH
    assert no["rule_property_mgmt"] == "fail"
    blank = _row(_one(property_mgmt_agreed=None))
    assert (blank["status"], blank["reason_codes"]) == (
        "eligible_waiting_consent",
        ("MGMT_CONSENSUS_MISSING",),
    )
    absent = _row(_one().drop(columns="property_mgmt_agreed"))
    assert absent["reason_codes"] == ("MGMT_CONSENSUS_MISSING",)
    assert all(p.require_mgmt_consensus for p in PRESETS.values())
    off = dataclasses.replace(LINXIA, require_mgmt_consensus=False)
    row = _row(_one(property_mgmt_agreed=False), off)
    assert (row["status"], row["rule_property_mgmt"]) == ("eligible", "fail")
    assert not any(c.startswith("MGMT") for c in row["reason_codes"])


def test_consent_and_mgmt_reasons_together() -> None:
    row = _row(_one(approval_rate=0.5, property_mgmt_agreed=None))
    assert row["reason_codes"] == ("APPROVAL_BELOW", "MGMT_CONSENSUS_MISSING")


# --------------------------------------------------------------------------- protection


def test_protection_note() -> None:
    row = _row(_one(heritage=True, old_trees="是"))
    assert row["protection_zh"] == (
        "涉及历史建筑，严禁随意拆除老建筑，须落实保护修缮要求；有古树名木，严禁砍伐老树"
    )
    assert row["status"] == "eligible"
    assert _row(_one(heritage=False))["protection_zh"] == ""


# --------------------------------------------------------------------------- presets


def test_presets_and_sources() -> None:
    names = {"national", "linxia", "tongnan", "linyi", "litong"}
    assert set(PRESETS) == names == set(PRESET_SOURCES) == set(RULE_SOURCES)
    assert {k: (v.cutoff, v.cutoff_mode) for k, v in PRESETS.items()} == {
        "national": (dt.date(2000, 12, 31), "priority"),
        "linxia": (dt.date(2000, 12, 31), "priority"),
        "tongnan": (dt.date(2000, 12, 31), "hard"),
        "linyi": (dt.date(2005, 12, 31), "hard"),
        "litong": (dt.date(2000, 12, 31), "priority"),
    }
    assert PRESETS["tongnan"].tier2_cutoff == dt.date(2005, 12, 31)
    assert PRESETS["tongnan"].tier2_conditions == ("poor_conditions",)
    assert {k: v.repeat_subsidised for k, v in PRESETS.items()} == {
        "national": "no_central_money",
        "linxia": "no_central_money",
        "tongnan": "no_central_money",
        "linyi": "no_central_money",
        "litong": "not_again",
    }
    assert PRESETS["litong"].expropriation_within_years == "any"
    assert "2005年12月31日前" in PRESET_SOURCES["linyi"]
    assert "重点改造2000年底前建成" in PRESET_SOURCES["linxia"]
    assert "逐步对2005年底前建成的居住条件较差" in PRESET_SOURCES["tongnan"]
    assert "不得重复建设" in PRESET_SOURCES["litong"]
    assert all(v.participation_threshold == Fraction(2, 3) for v in PRESETS.values())
    assert all(v.min_participation == pytest.approx(2 / 3) for v in PRESETS.values())
    assert preset(" Linyi ") is PRESETS["linyi"]
    assert PRESETS["national"] == EligibilityRules()


def test_every_rule_has_a_seed_per_preset() -> None:
    for name, sources in RULE_SOURCES.items():
        assert list(sources) == list(RULE_COLUMNS), name
        assert all(sources.values()), name
    assert (
        "mohurd_2021_requirements_notice.txt 底线要求(七)" in RULE_SOURCES["linyi"]["rule_consent"]
    )
    assert "(八)" in RULE_SOURCES["tongnan"]["rule_property_mgmt"]
    assert RULE_SOURCES["linyi"]["rule_conditions"].startswith(
        "linyi_2020_implementation_plan.txt 一(一)"
    )
    assert RULE_SOURCES["tongnan"]["rule_built_year"].startswith(
        "tongnan_2021_implementation_plan.txt 二(一)"
    )


def test_vocabulary_of_scopes_and_conditions() -> None:
    assert codes("eligibility_scope") == SCOPES == ("core", "tier2", "later")
    assert codes("eligibility_condition") == CONDITIONS


def test_preset_misspelt() -> None:
    with pytest.raises(
        ScenarioError, match="unknown eligibility preset 'linyl'; did you mean 'linyi'"
    ):
        preset("linyl")
    with pytest.raises(
        ScenarioError, match="presets: linxia, linyi, litong, national, tongnan"
    ) as err:
        preset("beijing")
    assert err.value.problems[0][0] == "eligibility.preset"


# --------------------------------------------------------------------------- single rules


@pytest.mark.parametrize(
    ("year", "status"),
    [
        (PLAN_YEAR + 3, "not_eligible"),
        (PLAN_YEAR + 5, "not_eligible"),
        (PLAN_YEAR + 6, "eligible"),
        (PLAN_YEAR + 7, "eligible"),
        (PLAN_YEAR - 1, "not_eligible"),
    ],
)
def test_expropriation_window(year: int, status: str) -> None:
    assert _row(_one(planned_expropriation_year=year))["status"] == status


def test_expropriation_window_parameter() -> None:
    rules = dataclasses.replace(LINXIA, expropriation_within_years=2)
    assert _row(_one(planned_expropriation_year=PLAN_YEAR + 3), rules)["status"] == "eligible"


def test_expropriation_column_absent_is_unknown_blank_is_none() -> None:
    absent = _row(_one().drop(columns="planned_expropriation_year"))
    assert absent["status"] == "unknown"
    assert absent["reason_codes"] == ("EXPROPRIATION_UNKNOWN",)
    assert _row(_one(planned_expropriation_year=None))["rule_expropriation"] == "pass"


@pytest.mark.parametrize(
    ("tenure", "status", "codes_"),
    [
        ("集体", "not_eligible", ("COLLECTIVE_LAND",)),
        ("其他", "unknown", ("LAND_OTHER",)),
        (None, "unknown", ("LAND_MISSING",)),
    ],
)
def test_land(tenure: str | None, status: str, codes_: tuple[str, ...]) -> None:
    row = _row(_one(land_tenure=tenure))
    assert (row["status"], row["reason_codes"]) == (status, codes_)


def test_state_land_not_required() -> None:
    rules = dataclasses.replace(LINXIA, require_state_land=False)
    row = _row(_one(land_tenure="集体"), rules)
    assert (row["status"], row["rule_land"]) == ("eligible", "pass")
    assert "STATE_LAND" not in row["reason_codes"]


def test_fail_beats_unknown() -> None:
    row = _row(_one(built_year=None, land_tenure="集体"))
    assert (row["status"], row["reason_codes"]) == ("not_eligible", ("COLLECTIVE_LAND",))
    assert row["rule_built_year"] == "unknown"


@pytest.mark.parametrize("column", ["demolition_planned", "shantytown_renovated"])
def test_missing_flag_is_unknown(column: str) -> None:
    assert _row(_one(**{column: None}))["status"] == "unknown"
    assert _row(_one().drop(columns=column))["status"] == "unknown"


def test_flags_as_chinese_text() -> None:
    row = _row(_one(demolition_planned="是", shantytown_renovated="否"))
    assert row["reason_codes"] == ("DEMOLITION_PLANNED",)


def test_plan_year_default_is_next_year(caplog: pytest.LogCaptureFixture) -> None:
    rules = preset("linxia")
    assert rules.plan_year is None
    assert rules.resolved_plan_year() == dt.datetime.now(tz=dt.timezone.utc).year + 1
    with caplog.at_level(logging.INFO, logger="gisplan.eligibility"):
        assess(_one(), rules=rules)
    assert "plan_year not given" in caplog.text


def test_decimal_near_two_thirds_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="gisplan.eligibility"):
        assess(_one(), rules=dataclasses.replace(LINXIA, min_approval=0.67))
    assert "min_approval = 0.67 is read as 67/100, not two thirds" in caplog.text


def test_default_rules_are_national() -> None:
    row = assess(_one()).iloc[0]
    assert row["status"] == "eligible"
    assert "（国办发〔2020〕23号）" in row["reasons_zh"]


def test_every_code_has_texts_and_labels() -> None:
    out = assess(_communities(), rules=LINXIA)
    assert {c for codes_ in out["reason_codes"] for c in codes_} <= set(REASONS)
    assert all(len(v) == 2 and all(v) for v in REASONS.values())
    assert set(eligibility.__all__) >= {"assess", "preset", "EligibilityRules", "REASONS"}


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("key", ["min_participation", "min_approval"])
def test_rates_above_one_raise(key: str) -> None:
    with pytest.raises(ScenarioError, match=r"above 1.*write 0\.67, not 67"):
        EligibilityRules(**{key: 67})


def test_every_bad_rule_listed_at_once() -> None:
    with pytest.raises(ScenarioError) as err:
        EligibilityRules(
            min_participation=-0.1,
            min_approval=float("nan"),
            expropriation_within_years=-1,
            cutoff="2000-12-31",  # type: ignore[arg-type]
            plan_year=2026.5,  # type: ignore[arg-type]
        )
    keys = [p[0] for p in err.value.problems]
    assert keys == [
        "eligibility.cutoff",
        "eligibility.expropriation_within_years",
        "eligibility.plan_year",
        "eligibility.min_participation",
        "eligibility.min_approval",
    ]


def test_bad_modes_and_conditions() -> None:
    with pytest.raises(ScenarioError, match="'strict' is not one of hard, priority") as err:
        EligibilityRules(cutoff_mode="strict")  # type: ignore[arg-type]
    with pytest.raises(ScenarioError, match="did you mean 'hard'"):
        EligibilityRules(cutoff_mode="hrad")  # type: ignore[arg-type]
    assert err.value.problems[0][0] == "eligibility.cutoff_mode"
    with pytest.raises(ScenarioError, match=r"unknown condition 'willing'.*residents_willing"):
        EligibilityRules(conditions_all=("willing",))
    with pytest.raises(ScenarioError, match="repeat_subsidised = 'never'"):
        EligibilityRules(repeat_subsidised="never")  # type: ignore[arg-type]
    with pytest.raises(ScenarioError, match="tier2_cutoff = 1999-12-31 is before the cut-off"):
        EligibilityRules(tier2_cutoff=dt.date(1999, 12, 31))
    with pytest.raises(ScenarioError, match="min_approval = 'two thirds' is not a number"):
        EligibilityRules(min_approval="two thirds")
    assert EligibilityRules(conditions_any=["neglected"]).conditions_any == ("neglected",)  # type: ignore[arg-type]


def test_rate_in_percent_in_data_raises() -> None:
    frame = _communities()
    frame["participation_rate"] = [80, 90, 80, 80, 60, 80]
    with pytest.raises(LayerError, match=r"C1 · participation_rate = 80: .*write 0\.67, not 67"):
        assess(frame, rules=LINXIA)


def test_bad_cells_listed_at_once() -> None:
    frame = _communities()
    frame["built_year"] = ["1995", "old", 1998, 1992, 1999.5, None]
    frame["land_tenure"] = ["国有", "国有", "state", "国有", "国有", "国有"]
    frame["participating_owners"] = [1, 2, 3, "many", 5, 2.5]
    with pytest.raises(LayerError) as err:
        assess(frame, rules=LINXIA)
    text = str(err.value)
    assert "C2 · built_year = 'old'" in text
    assert "C5 · built_year = 1999.5" in text
    assert "C3 · land_tenure = 'state': write 国有, 集体 or 其他" in text
    assert "C4 · participating_owners = 'many': write a whole number" in text
    assert "C6 · participating_owners = 2.5" in text
    assert "C1" not in text


def test_required_columns_and_unique_ids() -> None:
    with pytest.raises(SchemaError, match="'name' missing"):
        assess(_communities().drop(columns="name"))
    frame = _communities()
    frame["community_id"] = ["C1", "C1", "C3", "C4", "C5", "C6"]
    with pytest.raises(LayerError, match="community_id not unique: C1"):
        assess(frame)


# --------------------------------------------------------------------------- scenario section


def test_section_overrides_the_preset() -> None:
    text = "preset: tongnan\nplan_year: 2027\nmin_approval: 2/3\ncutoff_mode: priority\n"
    data = yaml.safe_load(text)
    assert data["min_approval"] == "2/3"  # YAML reads 2/3 as text; Fraction reads the text
    rules = section_from_dict("eligibility", data).rules()
    assert (rules.cutoff_mode, rules.min_approval, rules.plan_year) == (
        "priority",
        Fraction(2, 3),
        2027,
    )
    assert rules.tier2_cutoff == dt.date(2005, 12, 31)  # the preset's, kept
    rules = EligibilitySection(
        preset="litong", plan_year=2027, conditions_all=["residents_willing"]
    ).rules()
    assert rules.conditions_all == ("residents_willing",)
    assert rules.repeat_subsidised == "not_again"


@pytest.mark.parametrize(
    ("given", "key", "said"),
    [
        ({"cutoff_mode": "hrad"}, "eligibility.cutoff_mode", "did you mean 'hard'?"),
        ({"min_participation": 67}, "eligibility.min_participation", "write 0.67, not 67"),
        ({"min_approval": "2/3%"}, "eligibility.min_approval", "write a fraction such as 2/3"),
        (
            {"conditions_all": ["neglectd"]},
            "eligibility.conditions_all",
            "did you mean 'neglected'",
        ),
        ({"repeat_subsidised": "again"}, "eligibility.repeat_subsidised", "not_again"),
        ({"preset": "litnog"}, "eligibility.preset", "did you mean 'litong'"),
        ({"preset": "tongnan", "tier2_cutoff": "1999-12-31"}, "eligibility", "before the cut-off"),
    ],
)
def test_section_bad_values(given: dict[str, object], key: str, said: str) -> None:
    with pytest.raises(ScenarioError) as err:
        section_from_dict("eligibility", {"plan_year": 2027, **given})
    problems = {k: f"{problem} {fix}" for k, problem, fix in err.value.problems}
    assert list(problems) == [key]
    assert said in problems[key]


# --------------------------------------------------------------------------- properties

_rows = st.lists(
    st.tuples(
        st.one_of(st.none(), st.integers(1950, 2020)),
        st.sampled_from(["国有", "集体", "其他", None]),
        st.one_of(st.none(), st.integers(2020, 2040)),
        st.sampled_from([True, False, None]),
        st.sampled_from([True, False, None]),
        st.one_of(st.none(), st.floats(0, 1)),
        st.one_of(st.none(), st.floats(0, 1)),
        st.sampled_from([True, False, None]),
    ),
    min_size=1,
    max_size=8,
)


@settings(max_examples=60, deadline=None)
@given(rows=_rows, early=st.integers(1990, 2010), later_by=st.integers(0, 15))
def test_later_hard_cutoff_never_makes_eligible_ineligible(
    rows: list[tuple[object, ...]], early: int, later_by: int
) -> None:
    columns = [
        "built_year",
        "land_tenure",
        "planned_expropriation_year",
        "demolition_planned",
        "shantytown_renovated",
        "participation_rate",
        "approval_rate",
        "poor_conditions",
    ]
    frame = pd.DataFrame(rows, columns=columns, dtype=object)
    frame.insert(0, "community_id", [f"C{i}" for i in range(len(frame))])
    frame.insert(1, "name", "x")
    hard = dataclasses.replace(LINXIA, cutoff_mode="hard")
    first = dataclasses.replace(hard, cutoff=dt.date(early, 12, 31))
    second = dataclasses.replace(hard, cutoff=dt.date(early + later_by, 12, 31))
    before = assess(frame, rules=first)["status"]
    after = assess(frame, rules=second)["status"]
    was_eligible = before.isin(["eligible", "eligible_waiting_consent"])
    assert (after[was_eligible] == before[was_eligible]).all()
    assert (before[after == "not_eligible"] == "not_eligible").all()
    # a priority cut-off changes the tier only, never the status
    soft = assess(frame, rules=dataclasses.replace(first, cutoff_mode="priority"))
    assert (soft["rule_built_year"] != "fail").all()
    assert set(soft["scope"]) <= {"", *SCOPES}


def test_percent_text_keeps_one_decimal() -> None:
    row = _row(_one(participation_rate=0.666))
    assert row["reasons_zh"] == "居民参与率66.6%，低于66.7%，暂不纳入年度计划"
