"""Tests for gisplan.eligibility: statuses, reasons per rule, presets and rule checks.

The six-community fixture is planned for 2026 under the Linxia rules (built by end-2000,
no expropriation up to 2026 + 5 = 2031, consent 2/3); every expected value is on paper:

==  ======  ====  ===============================================  =========================
id  built   land  other                                            status
==  ======  ====  ===============================================  =========================
C1  1995    国有  all good                                         eligible
C2  2004    国有  all good (eligible under Linyi, cut-off 2005)    not_eligible (built)
C3  1998    国有  expropriation planned 2029 = 2026 + 3            not_eligible (expropriation)
C4  1992    国有  demolition planned, shantytown renovated         not_eligible (both)
C5  1999    国有  participation 0.60, mgmt not agreed, items 1、3  eligible_waiting_consent
C6  <NA>    国有  all good                                         unknown (built year)
==  ======  ====  ===============================================  =========================
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging

import geopandas as gpd
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pandas.testing import assert_frame_equal
from shapely.geometry import Point

from gisplan import eligibility
from gisplan.eligibility import (
    PRESET_SOURCES,
    PRESETS,
    REASONS,
    RULE_COLUMNS,
    STATUS_ZH,
    EligibilityRules,
    assess,
    preset,
)
from gisplan.errors import LayerError, ScenarioError, SchemaError
from gisplan.vocabulary import column_label

PLAN_YEAR = 2026
LINXIA = dataclasses.replace(preset("linxia"), plan_year=PLAN_YEAR)
LINYI = dataclasses.replace(preset("linyi"), plan_year=PLAN_YEAR)


def _communities() -> pd.DataFrame:
    """C1–C6 of the module docstring, with the dtypes gisplan.layers produces."""
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
            "property_mgmt_agreed": pd.array(
                [True, True, True, True, False, True], dtype="boolean"
            ),
        },
        index=pd.Index([10, 20, 30, 40, 50, 60], name="fid"),
    )


def _one(**changes: object) -> pd.DataFrame:
    """C1 (all good) with some cells changed."""
    frame = _communities().iloc[[0]].copy()
    for column, value in changes.items():
        frame[column] = pd.Series([value], index=frame.index, dtype=object)
    return frame


def _row(frame: pd.DataFrame, rules: EligibilityRules = LINXIA) -> pd.Series:
    return assess(frame, rules=rules).iloc[0]


# --------------------------------------------------------------------------- the fixture


def test_statuses_and_codes_of_the_fixture() -> None:
    out = assess(_communities(), rules=LINXIA)
    assert out["status"].tolist() == [
        "eligible",
        "not_eligible",
        "not_eligible",
        "not_eligible",
        "eligible_waiting_consent",
        "unknown",
    ]
    assert out["reason_codes"].tolist() == [
        (
            "BUILT_BY_CUTOFF",
            "STATE_LAND",
            "NO_EXPROPRIATION_SOON",
            "NO_DEMOLITION",
            "NOT_SHANTYTOWN",
            "CONSENT_MET",
        ),
        ("BUILT_AFTER_CUTOFF",),
        ("EXPROPRIATION_PLANNED",),
        ("DEMOLITION_PLANNED", "SHANTYTOWN_RENOVATED"),
        ("PARTICIPATION_BELOW", "PROPERTY_MGMT_PENDING"),
        ("BUILT_YEAR_MISSING",),
    ]
    assert out["status_zh"].tolist() == [STATUS_ZH[s] for s in out["status"]]
    assert out.loc[60, "status_zh"] == "待核实（需补充调查）"
    assert out.loc[50, "status_zh"] == "符合条件，待居民同意"


def test_rule_outcome_columns() -> None:
    out = assess(_communities(), rules=LINXIA)
    assert out.loc[10, list(RULE_COLUMNS)].tolist() == ["pass"] * 7
    assert out.loc[20, "rule_built_year"] == "fail"
    assert out.loc[30, "rule_expropriation"] == "fail"
    assert out.loc[40, ["rule_demolition", "rule_shantytown"]].tolist() == ["fail", "fail"]
    assert out.loc[50, ["rule_consent", "rule_property_mgmt"]].tolist() == ["fail", "fail"]
    assert out.loc[60, "rule_built_year"] == "unknown"
    assert out.loc[60, "rule_land"] == "pass"


def test_reason_texts_in_chinese() -> None:
    out = assess(_communities(), rules=LINXIA)
    assert (
        out.loc[20, "reasons_zh"] == "建成于2004年，晚于改造范围截止时间2000年底（临夏州实施方案）"
    )
    assert out.loc[30, "reasons_zh"] == (
        "计划于2029年征收，在2026年计划起5年内（2031年及以前），不纳入改造范围"
    )
    assert out.loc[40, "reasons_zh"] == (
        "拟以拆除新建（含改建、扩建、翻建）方式实施改造，不纳入改造范围；"
        "已实施过城镇棚户区改造，不纳入改造范围"
    )
    assert out.loc[50, "reasons_zh"] == (
        "居民参与率60%，低于66.7%，暂不纳入年度计划；改造后物业管理模式尚未经居民确认，开工前须确认"
    )
    assert out.loc[60, "reasons_zh"] == "建成年份缺失，需补充调查"
    assert out.loc[10, "reasons_zh"].startswith(
        "建成于1995年，不晚于改造范围截止时间2000年底（临夏州实施方案）；位于城镇国有土地"
    )
    assert out.loc[10, "reasons_zh"].endswith("居民参与率80%、同意率90%，均达到三分之二")


def test_central_subsidy_note_lists_items_and_keeps_eligibility() -> None:
    out = assess(_communities(), rules=LINXIA)
    assert out.loc[50, "central_subsidy_note"] == (
        "清单第1、3项已获中央补助改造，同一内容不得重复使用中央补助资金"
    )
    assert (out.drop(index=50)["central_subsidy_note"] == "").all()
    subsidised = _row(_one(subsidised_items=(4, 2)))
    assert subsidised["status"] == "eligible"
    assert subsidised["central_subsidy_note"].startswith("清单第2、4项")


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
    ]
    assert [c for c in out.columns if column_label(c) == c] == []


def test_input_not_mutated() -> None:
    frame = _communities()
    saved = frame.copy(deep=True)
    assess(frame, rules=LINYI)
    assert_frame_equal(frame, saved)


def test_geodataframe_input() -> None:
    frame = gpd.GeoDataFrame(_communities(), geometry=[Point(i, 0) for i in range(6)], crs=4547)
    assert assess(frame, rules=LINXIA)["status"].iloc[0] == "eligible"


# --------------------------------------------------------------------------- presets


def test_linyi_cutoff_2005() -> None:
    out = assess(_communities(), rules=LINYI)
    assert out.loc[20, "status"] == "eligible"
    assert out.loc[20, "reasons_zh"].startswith(
        "建成于2004年，不晚于改造范围截止时间2005年底（临沂市实施方案）"
    )
    late = _row(_one(built_year=2008), LINYI)
    assert late["status"] == "not_eligible"
    assert late["reason_codes"] == ("BUILT_AFTER_CUTOFF",)
    assert late["reasons_zh"] == "建成于2008年，晚于改造范围截止时间2005年底（临沂市实施方案）"


def test_2008_not_eligible_under_linxia() -> None:
    row = _row(_one(built_year=2008))
    assert row["reasons_zh"] == "建成于2008年，晚于改造范围截止时间2000年底（临夏州实施方案）"


def test_presets_and_sources() -> None:
    assert set(PRESETS) == {"national", "linxia", "tongnan", "linyi"} == set(PRESET_SOURCES)
    assert {k: v.cutoff for k, v in PRESETS.items()} == {
        "national": dt.date(2000, 12, 31),
        "linxia": dt.date(2000, 12, 31),
        "tongnan": dt.date(2000, 12, 31),
        "linyi": dt.date(2005, 12, 31),
    }
    assert "2005年12月31日前" in PRESET_SOURCES["linyi"]
    assert "2000年底前建成" in PRESET_SOURCES["linxia"]
    assert all(v.min_participation == pytest.approx(2 / 3) for v in PRESETS.values())
    assert preset(" Linyi ") is PRESETS["linyi"]


def test_preset_misspelt() -> None:
    with pytest.raises(
        ScenarioError, match="unknown eligibility preset 'linyl'; did you mean 'linyi'"
    ):
        preset("linyl")
    with pytest.raises(ScenarioError, match="presets: linxia, linyi, national, tongnan") as err:
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
    ("tenure", "status", "codes"),
    [
        ("集体", "not_eligible", ("COLLECTIVE_LAND",)),
        ("其他", "unknown", ("LAND_OTHER",)),
        (None, "unknown", ("LAND_MISSING",)),
    ],
)
def test_land(tenure: str | None, status: str, codes: tuple[str, ...]) -> None:
    row = _row(_one(land_tenure=tenure))
    assert (row["status"], row["reason_codes"]) == (status, codes)


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


def test_consent_gates() -> None:
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
    assert row["reasons_zh"] == "居民参与率80%，低于85%，暂不纳入年度计划"


def test_property_mgmt_changes_detail_not_status() -> None:
    row = _row(_one(property_mgmt_agreed=False))
    assert row["status"] == "eligible"
    assert row["reason_codes"][-1] == "PROPERTY_MGMT_PENDING"
    assert row["rule_property_mgmt"] == "fail"
    off = dataclasses.replace(LINXIA, require_property_mgmt_before_works=False)
    assert "PROPERTY_MGMT_PENDING" not in _row(_one(property_mgmt_agreed=None), off)["reason_codes"]


def test_plan_year_default_is_next_year(caplog: pytest.LogCaptureFixture) -> None:
    rules = preset("linxia")
    assert rules.plan_year is None
    assert rules.resolved_plan_year() == dt.datetime.now(tz=dt.timezone.utc).year + 1
    with caplog.at_level(logging.INFO, logger="gisplan.eligibility"):
        assess(_one(), rules=rules)
    assert "plan_year not given" in caplog.text


def test_default_rules_are_national() -> None:
    row = assess(_one()).iloc[0]
    assert row["status"] == "eligible"
    assert "（国办发〔2020〕23号）" in row["reasons_zh"]


def test_every_code_has_texts_and_labels() -> None:
    out = assess(_communities(), rules=LINXIA)
    assert {c for codes in out["reason_codes"] for c in codes} <= set(REASONS)
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


def test_rate_in_percent_in_data_raises() -> None:
    frame = _communities()
    frame["participation_rate"] = [80, 90, 80, 80, 60, 80]
    with pytest.raises(LayerError, match=r"C1 · participation_rate = 80: .*write 0\.67, not 67"):
        assess(frame, rules=LINXIA)


def test_bad_cells_listed_at_once() -> None:
    frame = _communities()
    frame["built_year"] = ["1995", "old", 1998, 1992, 1999.5, None]
    frame["land_tenure"] = ["国有", "国有", "state", "国有", "国有", "国有"]
    with pytest.raises(LayerError) as err:
        assess(frame, rules=LINXIA)
    text = str(err.value)
    assert "C2 · built_year = 'old'" in text
    assert "C5 · built_year = 1999.5" in text
    assert "C3 · land_tenure = 'state': write 国有, 集体 or 其他" in text
    assert "C1" not in text


def test_required_columns_and_unique_ids() -> None:
    with pytest.raises(SchemaError, match="'name' missing"):
        assess(_communities().drop(columns="name"))
    frame = _communities()
    frame["community_id"] = ["C1", "C1", "C3", "C4", "C5", "C6"]
    with pytest.raises(LayerError, match="community_id not unique: C1"):
        assess(frame)


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
    ),
    min_size=1,
    max_size=8,
)


@settings(max_examples=60, deadline=None)
@given(rows=_rows, early=st.integers(1990, 2010), later_by=st.integers(0, 15))
def test_later_cutoff_never_makes_eligible_ineligible(
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
    ]
    frame = pd.DataFrame(rows, columns=columns, dtype=object)
    frame.insert(0, "community_id", [f"C{i}" for i in range(len(frame))])
    frame.insert(1, "name", "x")
    first = dataclasses.replace(LINXIA, cutoff=dt.date(early, 12, 31))
    second = dataclasses.replace(LINXIA, cutoff=dt.date(early + later_by, 12, 31))
    before = assess(frame, rules=first)["status"]
    after = assess(frame, rules=second)["status"]
    was_eligible = before.isin(["eligible", "eligible_waiting_consent"])
    assert (after[was_eligible] == before[was_eligible]).all()
    assert (before[after == "not_eligible"] == "not_eligible").all()


def test_percent_text_keeps_one_decimal() -> None:
    row = _row(_one(participation_rate=0.666))
    assert row["reasons_zh"] == "居民参与率66.6%，低于66.7%，暂不纳入年度计划"
