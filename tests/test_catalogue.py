"""Tests for gisplan.catalogue: packaged catalogue, user tables, schemes and their costs."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from gisplan.catalogue import (
    SchemeOptions,
    build_menu,
    build_schemes,
    load_catalogue,
    scheme_costs,
    validate_catalogue,
)
from gisplan.errors import LayerError, ScenarioError, SchemaError
from gisplan.gaps import gap_table
from gisplan.vocabulary import column_label

HEADER = (
    "item,class,class_zh,name_zh,standard_zh,cost_basis,unit_cost_yuan,payer,utility_kind,safety\n"
)


def _two() -> pd.DataFrame:
    """c1: 100 households, 8,000 m², 4 buildings; c2: 50 households, 5,000 m², 2 buildings."""
    return pd.DataFrame(
        {
            "community_id": ["c1", "c2"],
            "households": [100, 50],
            "floor_area_m2": [8000.0, 5000.0],
            "buildings": [4, 2],
            "needs": [(4,), (1, 7)],
        },
        index=[10, 20],
    )


def _litong() -> pd.DataFrame:
    """Litong 2023 totals over 20 communities: 55 buildings, 160,200 m², 1,845 households."""
    return pd.DataFrame(
        {
            "community_id": [f"L{i:02d}" for i in range(1, 21)],
            "buildings": [3] * 15 + [2] * 5,
            "households": [93] * 5 + [92] * 15,
            "floor_area_m2": [8010.0] * 20,
        }
    )


def _items(schemes: pd.DataFrame, cid: str) -> list[int]:
    return [int(i) for i in schemes.loc[schemes["community_id"] == cid, "item"]]


def _reason(schemes: pd.DataFrame, cid: str, item: int) -> str:
    row = schemes[(schemes["community_id"] == cid) & (schemes["item"] == item)]
    assert len(row) == 1
    return str(row["reason"].iloc[0])


# ----------------------------------------------------------------------------- catalogue


def test_packaged_catalogue_matches_linyi_attachment() -> None:
    cat = load_catalogue()
    assert cat.index.tolist() == list(range(1, 37))
    assert cat.index.dtype == "int64"
    assert cat["class"].value_counts().to_dict() == {"basic": 19, "complete": 11, "improve": 6}
    assert (cat.loc[1:19, "class_zh"] == "基础类").all()
    assert (cat.loc[20:30, "class_zh"] == "完善类").all()
    assert (cat.loc[31:36, "class_zh"] == "提升类").all()
    names = {1: "供水管网和设施设备改造", 19: "修缮楼体雨水管", 20: "建设海绵城市设施"}
    names |= {28: "增设电梯", 30: "抗震加固", 31: "完善养老设施", 32: "完善抚幼设施"}
    names |= {36: "建设智慧住区"}
    assert {i: cat.loc[i, "name_zh"] for i in names} == names
    assert cat.loc[7, "standard_zh"].startswith("对雨污合流管网重新规划设计")
    assert (cat["unit_cost_yuan"] >= 0).all()
    assert (cat["standard_zh"] != "").all()
    assert (cat["source_note"] != "").all()


def test_packaged_payers_utilities_and_safety() -> None:
    cat = load_catalogue()
    utilities = cat[cat["payer"] == "utility"]
    assert utilities["utility_kind"].to_dict() == {
        1: "water",
        2: "power",
        3: "telecom",
        4: "gas",
        5: "heat",
    }
    assert cat.index[cat["safety"]].tolist() == [2, 4, 7, 10, 12, 30]
    assert cat.loc[28, ["cost_basis", "quantity_field", "payer"]].tolist() == [
        "per_unit",
        "lift_units",
        "residents",
    ]
    assert cat.loc[1, "quantity_field"] == "households"
    assert cat.loc[11, "quantity_field"] == ""


def test_load_returns_a_copy() -> None:
    first = load_catalogue()
    first.loc[1, "unit_cost_yuan"] = -1.0
    assert load_catalogue().loc[1, "unit_cost_yuan"] == 1500.0


def test_packaged_validates_clean() -> None:
    assert validate_catalogue(load_catalogue()).ok


def test_note_lists_calibration_figures() -> None:
    note = Path(__file__).resolve().parents[1] / "gisplan" / "data" / "CATALOGUE_NOTE.md"
    text = note.read_text(encoding="utf-8")
    assert "4,900.35万元" in text
    assert "overrides" in text


# ----------------------------------------------------------------------------- user tables


def test_user_catalogue_overrides(tmp_path: Path) -> None:
    path = tmp_path / "清单.csv"
    path.write_text(
        HEADER
        + "1,basic,基础类,供水,标准,per_household,10,utility,water,no\n"
        + "2,improve,提升类,养老,,lump_sum,500,social_capital,,no\n",
        encoding="gbk",
    )
    cat = load_catalogue(path)
    assert cat.index.tolist() == [1, 2]
    comm = _two().drop(columns="needs")
    gaps = pd.DataFrame({"community_id": ["c1"], "type": ["nursery"], "covered": [False]})
    schemes = build_schemes(comm, catalogue=cat, gaps=gaps, options=SchemeOptions(include=(2,)))
    # no gap_service column: a gap proposes nothing; item 1 is 待核实 without a survey
    assert schemes["cost_yuan"].tolist() == [500.0, 500.0]
    estimate = SchemeOptions(unsurveyed="include")
    assert build_schemes(comm, catalogue=cat, options=estimate)["cost_yuan"].tolist() == [
        1000.0,
        500.0,
    ]
    with pytest.raises(LayerError, match=r"'needs' .*item 4.*valid items: 1–2"):
        build_schemes(_two(), catalogue=cat)


def test_negative_unit_cost_names_item(tmp_path: Path) -> None:
    path = tmp_path / "cat.csv"
    path.write_text(
        HEADER
        + "1,basic,基础类,供水,,per_household,10,utility,water,no\n"
        + "2,basic,基础类,燃气,,per_household,-300,utility,gas,yes\n",
        encoding="utf-8",
    )
    with pytest.raises(SchemaError, match=r"cat\.csv.*row 2 \(item 2\) · unit_cost_yuan.*-300"):
        load_catalogue(path)


def test_user_catalogue_every_problem_listed(tmp_path: Path) -> None:
    path = tmp_path / "cat.csv"
    path.write_text(
        HEADER
        + "1,basic,完善类,供水,,per_m3,10,city,oil,maybe\n"
        + "1,extra,,,,lump_sum,abc,government,,no\n",
        encoding="utf-8",
    )
    with pytest.raises(SchemaError) as err:
        load_catalogue(path)
    message = str(err.value)
    for part in (
        "class_zh '完善类' does not match",
        "cost_basis 'per_m3' is unknown",
        "payer 'city' is unknown",
        "utility_kind 'oil' is unknown",
        "safety 'maybe' is not yes/no",
        "duplicate item 1 (rows 1 and 2)",
        "class 'extra' is unknown",
        "name_zh is empty",
        "unit_cost_yuan 'abc' is not a number",
    ):
        assert part in message


def test_user_catalogue_missing_column_and_file(tmp_path: Path) -> None:
    path = tmp_path / "cat.csv"
    path.write_text("item,class,name_zh\n1,basic,供水\n", encoding="utf-8")
    with pytest.raises(SchemaError, match="required column 'cost_basis' is missing"):
        load_catalogue(path)
    with pytest.raises(SchemaError, match="not found"):
        load_catalogue(tmp_path / "none.csv")


def test_per_unit_needs_quantity_field() -> None:
    raw = pd.DataFrame(
        {
            "item": ["1"],
            "class": ["complete"],
            "name_zh": ["电梯"],
            "cost_basis": ["per_unit"],
            "unit_cost_yuan": ["1"],
            "payer": ["residents"],
        }
    )
    assert [i.column for i in validate_catalogue(raw).errors] == ["quantity_field"]


# ----------------------------------------------------------------------------- schemes


def test_two_community_scheme_cost() -> None:
    schemes = build_schemes(_two(), options=SchemeOptions(classes=(), include=(13,)))
    assert schemes.index.tolist() == list(range(5))
    assert schemes[["community_id", "item", "quantity", "cost_yuan"]].to_numpy().tolist() == [
        ["c1", 4, 100.0, 120000.0],  # 100 households x 1,200 元
        ["c1", 13, 1.0, 30000.0],  # lump sum
        ["c2", 1, 50.0, 75000.0],  # 50 households x 1,500 元
        ["c2", 7, 5000.0, 75000.0],  # 5,000 m² x 15 元
        ["c2", 13, 1.0, 30000.0],
    ]
    assert schemes["unit"].tolist() == ["户", "项", "户", "m²", "项"]
    assert schemes["payer"].tolist() == [
        "utility",
        "government",
        "utility",
        "government",
        "government",
    ]
    costs = scheme_costs(schemes)
    assert costs["community_id"].tolist() == ["c1", "c2"]
    assert costs["cost_yuan"].tolist() == [150000.0, 180000.0]
    assert costs["cost_wan_yuan"].tolist() == [15.0, 18.0]
    assert costs["basic_wan_yuan"].tolist() == [15.0, 18.0]
    assert costs["complete_yuan"].tolist() == [0.0, 0.0]
    assert costs["cost_per_m2_yuan"].tolist() == [18.75, 36.0]
    assert costs["n_items"].tolist() == [2, 3]
    assert costs["n_unpriced"].tolist() == [0, 0]


def test_needs_forced_in_and_out() -> None:
    options = SchemeOptions(classes=("basic",), include=(32,), exclude=(3, 7), heating_zone=True)
    schemes, review = build_menu(_two(), options=options)
    basic = [i for i in range(1, 20) if i not in (3, 7)]
    assert _items(schemes, "c1") == [*basic, 32]
    assert _items(schemes, "c2") == [*basic, 32]
    assert _reason(schemes, "c1", 4) == "基础类全部纳入（schemes.classes）；居民申请（可选）"
    assert _reason(schemes, "c1", 5) == "基础类全部纳入（schemes.classes）"
    assert _reason(schemes, "c1", 32) == "强制纳入（schemes.include）"
    assert set(schemes["menu"]) == {"forced"}
    # excluded wins over the needs list (c2 needs 7) — and says so in the review
    assert 7 not in _items(schemes, "c2")
    row = review[(review["community_id"] == "c2") & (review["item"] == 7)].iloc[0]
    assert (row["decision"], row["decision_zh"]) == ("exclude", "不纳入")
    assert row["reason"].endswith("不纳入（schemes.exclude），居民已申请")


def test_order_basic_complete_improve() -> None:
    comm = pd.DataFrame({"community_id": ["a"], "households": [10], "needs": ["36、20，1"]})
    schemes = build_schemes(comm, options=SchemeOptions(classes=()))
    assert schemes["item"].tolist() == [1, 20, 36]
    assert schemes["class"].tolist() == ["basic", "complete", "improve"]


def test_gap_table_proposes_childcare_and_elderly_items() -> None:
    distances = pd.DataFrame(
        {
            "community_id": ["c1", "c1", "c2"],
            "type": ["kindergarten", "elderly_day_care", "kindergarten"],
            "dist_m": [450.0, 100.0, 200.0],  # c2 has no elderly-care distance: unreachable
        }
    )
    gaps = gap_table(distances, _two())
    # 提升类 is 有条件的: a gap, space and the residents' wish
    comm = _two().assign(needs=[(4, 32), (1, 7, 31)], space_available=[True, True])
    schemes, review = build_menu(comm, gaps=gaps)
    assert _items(schemes, "c1") == [4, 32]
    assert _items(schemes, "c2") == [1, 7, 31]
    assert _reason(schemes, "c1", 32) == (
        "生活圈缺口：300 m 内无幼儿园；有可利用空间；居民申请（提升类，有条件的）"
    )
    assert _reason(schemes, "c2", 31).startswith("生活圈缺口：300 m 内无老年人日间照料中心")
    assert schemes.loc[schemes["item"] == 32, "cost_yuan"].tolist() == [300000.0]
    assert schemes.set_index("item").loc[32, "menu_zh"] == "有条件的提升"
    # without space, or not asked for: listed with why, not in the scheme (不搞一刀切)
    schemes, review = build_menu(_two().assign(space_available=[False, None]), gaps=gaps)
    assert 32 not in _items(schemes, "c1")
    why = review.set_index(["community_id", "item"])["reason"]
    assert why["c1", 32] == (
        "生活圈缺口：300 m 内无幼儿园，但无可利用空间、居民未申请（提升类为有条件的，不纳入）"
    )
    assert why["c2", 31].endswith("但可利用空间未调查、居民未申请（提升类为有条件的，不纳入）")


def test_gap_reasons_merge_and_unknown_coverage_ignored() -> None:
    gaps = pd.DataFrame(
        {
            "community_id": ["c1", "c1", "c2", "c2"],
            "type": ["kindergarten", "nursery", "nursery", "fresh_market"],
            "type_zh": ["幼儿园", "托儿所", "托儿所", "菜市场或生鲜超市"],
            "radius_m": [300.0, 300.0, 300.0, 500.0],
            "covered": pd.array([False, False, pd.NA, True], dtype="boolean"),
        }
    )
    options = SchemeOptions(classes=(), gap_items={"kindergarten": (32,), "nursery": (32,)})
    comm = _two().assign(needs=[(4, 32), (1, 7)], space_available=[True, True])
    schemes = build_schemes(comm, gaps=gaps, options=options)
    assert _reason(schemes, "c1", 32) == (
        "生活圈缺口：300 m 内无幼儿园、生活圈缺口：300 m 内无托儿所；有可利用空间；居民申请"
        "（提升类，有条件的）"
    )
    assert 32 not in _items(schemes, "c2")


def test_gaps_missing_column() -> None:
    with pytest.raises(SchemaError, match="'covered'"):
        build_schemes(_two(), gaps=pd.DataFrame({"community_id": ["c1"], "type": ["nursery"]}))


def test_missing_floor_area_gives_nan_with_reason() -> None:
    comm = _two()
    comm.loc[10, "floor_area_m2"] = math.nan
    comm = comm.drop(columns="buildings")
    schemes = build_schemes(comm, options=SchemeOptions(classes=(), include=(7, 12)))
    row7 = schemes[(schemes["community_id"] == "c1") & (schemes["item"] == 7)].iloc[0]
    assert math.isnan(row7["quantity"])
    assert math.isnan(row7["cost_yuan"])
    assert row7["reason"] == (
        "强制纳入（schemes.include）；工程量未知：缺少调查字段「建筑面积（m²）」"
    )
    assert _reason(schemes, "c1", 12).endswith("缺少调查字段「楼栋数（栋）」")
    costs = scheme_costs(schemes)
    assert costs["cost_yuan"].tolist() == [120000.0, 150000.0]  # c1: item 4 only; c2: 1 + 7
    assert costs["n_unpriced"].tolist() == [2, 1]
    assert costs["note"].iloc[0] == "未计价（缺少调查字段）：第7、12项"
    assert math.isnan(costs["cost_per_m2_yuan"].iloc[0])


def test_lift_units_quantity() -> None:
    comm = _two().assign(lift_units=[2, pd.NA])
    schemes = build_schemes(comm, options=SchemeOptions(classes=(), include=(28,), exclude=()))
    lifts = schemes[schemes["item"] == 28]
    assert lifts["cost_yuan"].iloc[0] == 1_200_000.0
    assert math.isnan(lifts["cost_yuan"].iloc[1])
    assert lifts["unit"].tolist() == ["个", "个"]


def test_inputs_not_mutated() -> None:
    comm = _two()
    gaps = pd.DataFrame(
        {"community_id": ["c1"], "type": ["nursery"], "covered": [False], "radius_m": [300.0]}
    )
    cat = load_catalogue()
    saved = (comm.copy(), gaps.copy(), cat.copy())
    schemes = build_schemes(comm, catalogue=cat, gaps=gaps)
    schemes_saved = schemes.copy()
    scheme_costs(schemes)
    pd.testing.assert_frame_equal(comm, saved[0])
    pd.testing.assert_frame_equal(gaps, saved[1])
    pd.testing.assert_frame_equal(cat, saved[2])
    pd.testing.assert_frame_equal(schemes, schemes_saved)


def test_empty_scheme() -> None:
    comm = pd.DataFrame({"community_id": ["a"], "households": [10]})
    schemes = build_schemes(comm, options=SchemeOptions(classes=()))
    assert schemes.empty
    assert scheme_costs(schemes).empty


# ----------------------------------------------------------------------------- bad input


def test_unknown_item_in_options_lists_valid_range() -> None:
    with pytest.raises(ScenarioError, match=r"schemes.include: item 37 .*valid items: 1–36"):
        build_schemes(_two(), options=SchemeOptions(include=(37,)))
    with pytest.raises(ScenarioError, match=r"gap_items.nursery: item 40"):
        build_schemes(_two(), options=SchemeOptions(gap_items={"nursery": (40,)}))


def test_unknown_item_in_needs() -> None:
    comm = _two().assign(needs=[(4, 99), ()])
    with pytest.raises(LayerError, match=r"'needs'.*community c1: item 99.*valid items: 1–36"):
        build_schemes(comm)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"include": (0,)}, r"include: 0 is not an item number"),
        ({"exclude": ("3",)}, r"exclude: '3' is not an item number"),
        ({"classes": ("basics",)}, r"classes: 'basics' is unknown"),
        ({"include": (3,), "exclude": (3,)}, r"item\(s\) 3 both included and excluded"),
        ({"gap_items": {"nursery": (-1,)}}, r"gap_items.nursery: -1"),
    ],
)
def test_scheme_options_rejects(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ScenarioError, match=match):
        SchemeOptions(**kwargs)  # type: ignore[arg-type]


def test_scheme_options_frozen_and_hashable() -> None:
    options = SchemeOptions(gap_items={"nursery": (32,)})
    assert hash(options) == hash(SchemeOptions(gap_items={"nursery": (32,)}))
    assert SchemeOptions().gap_items is None  # matched by gap_service in build_schemes
    with pytest.raises(AttributeError):
        options.include = (1,)  # type: ignore[misc]


def test_communities_without_id_or_with_duplicates() -> None:
    with pytest.raises(SchemaError, match="community_id"):
        build_schemes(pd.DataFrame({"households": [1]}))
    with pytest.raises(LayerError, match="not unique: c1"):
        build_schemes(pd.DataFrame({"community_id": ["c1", "c1"]}))


def test_scheme_costs_missing_columns() -> None:
    with pytest.raises(SchemaError, match="'cost_yuan'"):
        scheme_costs(pd.DataFrame({"community_id": ["c1"], "item": [1], "class": ["basic"]}))


def test_chinese_labels_cover_outputs() -> None:
    schemes = build_schemes(_two())
    columns = [*schemes.columns, *scheme_costs(schemes).columns, *load_catalogue().columns]
    assert [c for c in columns if column_label(c) == c] == []


# ----------------------------------------------------------------------------- calibration


def test_litong_calibration() -> None:
    """Typical basic + complete scheme on Litong 2023: 4,900万元 ± 10 % (≈ 306 元/m²)."""
    comm = _litong()
    assert comm[["buildings", "households", "floor_area_m2"]].sum().tolist() == [
        55,
        1845,
        160200.0,
    ]
    options = SchemeOptions(classes=("basic", "complete"), exclude=(28, 30), heating_zone=True)
    costs = scheme_costs(build_schemes(comm, options=options))
    total_wan = costs["cost_wan_yuan"].sum()
    assert total_wan == pytest.approx(4900.0, rel=0.10)
    assert total_wan == pytest.approx(4900.35, abs=0.01)
    assert costs["cost_yuan"].sum() / 160_200 == pytest.approx(305.89, abs=0.01)
    assert costs["basic_wan_yuan"].sum() == pytest.approx(2999.90, abs=0.01)
    assert costs["complete_wan_yuan"].sum() == pytest.approx(1900.45, abs=0.01)
    assert (costs["n_unpriced"] == 0).all()
    assert (costs["n_items"] == 28).all()


# ----------------------------------------------------------------------------- the menu


def _surveyed() -> pd.DataFrame:
    """Two communities the survey reached differently (c2 not at all).

    c1: 100 households, 8,000 m², 4 buildings; water (1), roads (6) and illegal buildings
    (10) deficient; every other 基础类 item but heating (5) sound; asks for 22 and a lift
    (28, 2 units); historic buildings and old trees. c2: 50 households, nothing surveyed.
    """
    sound = tuple(i for i in range(1, 20) if i not in (1, 5, 6, 10))
    return pd.DataFrame(
        {
            "community_id": ["c1", "c2"],
            "households": [100, 50],
            "floor_area_m2": [8000.0, 5000.0],
            "buildings": [4, 2],
            "lift_units": [2, 0],
            "needs": [(22, 28), ()],
            "deficient_items": [(1, 6, 10), ()],
            "sound_items": [sound, ()],
            "heritage": [True, False],
            "old_trees": [True, False],
        }
    )


def test_menu_follows_the_survey_and_the_requests() -> None:
    schemes, review = build_menu(_surveyed())
    # c1: deficient 1 and 6 are 必选, 22 居民申请; 10 would demolish in a historic area
    assert schemes[["community_id", "item", "menu_zh", "cost_yuan"]].to_numpy().tolist() == [
        ["c1", 1, "必选", 150_000.0],  # 100 households x 1,500 元
        ["c1", 6, "必选", 144_000.0],  # 8,000 m² x 18 元
        ["c1", 22, "居民申请", 150_000.0],  # lump sum
    ]
    assert _reason(schemes, "c1", 6) == (
        "摸底排查存在问题（基础类，必选）；施工不得砍伐古树名木（住建部2021 底线(二)）"
    )
    why = review.set_index(["community_id", "item"])
    assert why.loc[("c1", 10), "decision_zh"] == "不纳入"
    assert why.loc[("c1", 10), "reason"].endswith(
        "小区涉及历史建筑：不得拆除（住建部2021 底线(二)；临夏2020 六(四)）"
    )
    # a lift is asked for, never dropped: 待核实 until the building is appraised (2 x 600,000)
    assert why.loc[("c1", 28), "decision_zh"] == "待核实"
    assert why.loc[("c1", 28), "cost_wan_yuan"] == 120.0
    assert why.loc[("c1", 28), "reason"] == (
        "居民申请（可选）；须以单元或幢为单位评估后决定（有条件的）：待核实"
    )
    # heating (5): not surveyed → 待核实, never assumed
    assert why.loc[("c1", 5), "reason"] == "摸底排查未涉及此项：待核实（不计入造价）"
    # c2: the survey has not reached it: all 19 基础类 items to verify, nothing costed
    assert _items(schemes, "c2") == []
    c2 = review[review["community_id"] == "c2"]
    assert c2["item"].tolist() == list(range(1, 20))
    assert set(c2["decision"]) == {"verify"}
    costs = scheme_costs(schemes, review)
    assert costs["n_items"].tolist() == [3, 0]
    assert costs["cost_wan_yuan"].tolist() == [44.4, 0.0]
    assert costs["n_verify"].tolist() == [2, 19]
    # c1: lift 120 + heating 8,000 m² x 20 元 = 16; not in the total
    assert costs["verify_wan_yuan"].tolist()[0] == 136.0


def test_unsurveyed_include_costs_the_estimate() -> None:
    options = SchemeOptions(unsurveyed="include", heating_zone=True)
    schemes, review = build_menu(_surveyed(), options=options)
    assert _items(schemes, "c1") == [1, 5, 6, 22]
    assert _reason(schemes, "c1", 5) == "摸底排查未涉及此项：按估算纳入（schemes.unsurveyed）"
    assert _items(schemes, "c2") == list(range(1, 20))
    assert review["item"].tolist() == [10, 28]


def test_heating_zone() -> None:
    comm = _surveyed().assign(deficient_items=[(5,), (5,)], needs=[(29,), ()])
    schemes, review = build_menu(comm, options=SchemeOptions(heating_zone=False))
    assert 5 not in schemes["item"].tolist()
    why = review.set_index(["community_id", "item"])["reason"]
    text = (
        "非北方采暖地区：无集中供热，供热和建筑节能改造不纳入（本工具设定 schemes.heating_zone；"
        "住建部2021 底线(五)将北方采暖地区建筑节能改造列为重点内容）"
    )
    assert why["c1", 5].endswith(text)
    assert why["c1", 29].endswith(text)  # external insulation asked for: listed, not dropped
    schemes, _ = build_menu(comm, options=SchemeOptions(heating_zone=True))
    assert _items(schemes, "c1") == [5, 29]
    assert schemes.loc[schemes["item"] == 5, "cost_yuan"].tolist() == [160_000.0, 100_000.0]
    _, review = build_menu(comm)  # not stated: 待核实
    assert review.set_index(["community_id", "item"]).loc[("c2", 5), "reason"] == (
        "摸底排查存在问题（基础类，必选）；是否北方采暖地区未设定（schemes.heating_zone）：待核实"
    )


def test_not_repeated_and_subsidised_items() -> None:
    comm = _surveyed().assign(
        deficient_items=[(1, 2), ()],
        no_repeat_items=[(1,), ()],  # 三供一业 renewed the water (Litong 不得重复建设)
        subsidised_items=["2", None],  # power works had central money before
    )
    schemes, review = build_menu(comm)
    assert _items(schemes, "c1") == [2, 22]
    assert _reason(schemes, "c1", 2).endswith(
        "已获中央补助：同一改造内容不重复使用中央补助资金（临夏2020 三(一)；资金测算不计中央补助）"
    )
    row = review[(review["community_id"] == "c1") & (review["item"] == 1)].iloc[0]
    assert row["decision_zh"] == "不纳入"
    assert row["reason"].endswith("已实施过同一内容：不得重复建设（利通2023 三(一)）")


def test_a_sited_facility_answers_the_gap_once() -> None:
    gaps = pd.DataFrame(
        {
            "community_id": ["c1", "c2"],
            "type": ["kindergarten", "kindergarten"],
            "covered": [False, False],
        }
    )
    comm = _two().assign(needs=[(32,), (32,)], space_available=[True, True])
    sites = pd.DataFrame(
        {"site_id": ["S07"], "type": ["kindergarten"], "newly_covered_ids": ["c1"]}
    )
    schemes, review = build_menu(comm, gaps=gaps, sites_chosen=sites)
    assert 32 not in _items(schemes, "c1")
    assert 32 in _items(schemes, "c2")  # no site reaches c2: the scheme answers its gap
    row = review[(review["community_id"] == "c1") & (review["item"] == 32)].iloc[0]
    assert row["reason"] == "居民申请，由新增设施选址解决（S07），不重复计入改造方案"
    assert row["menu_zh"] == "有条件的提升"
    # 提升类 asked for without a gap: listed with why
    _, review = build_menu(comm)
    assert (
        review.set_index(["community_id", "item"])
        .loc[("c1", 32), "reason"]
        .endswith("居民申请，但生活圈无此缺口（提升类为有条件的，不纳入）")
    )


def test_bad_survey_lists_name_the_community() -> None:
    comm = _surveyed().assign(deficient_items=[(1, 99), ()])
    with pytest.raises(LayerError, match=r"deficient_items.*community c1: item 99.*1–36"):
        build_menu(comm)


def test_menu_columns_of_a_user_catalogue_checked(tmp_path: Path) -> None:
    path = tmp_path / "cat.csv"
    path.write_text(
        HEADER.rstrip("\n") + ",gap_service,affects,heating_zone_only,needs_appraisal\n"
        "1,basic,基础类,供水,,per_household,1500,utility,water,yes,kids,felling,perhaps,no\n"
        "2,improve,提升类,养老,,lump_sum,300000,government,,no,elderly_care,,no,sometimes\n",
        encoding="utf-8",
    )
    with pytest.raises(SchemaError) as err:
        load_catalogue(path)
    message = str(err.value)
    for part in (
        "gap_service 'kids' is unknown",
        "affects 'felling' is unknown",
        "heating_zone_only 'perhaps' is not yes/no",
        "needs_appraisal 'sometimes' is not yes/no",
    ):
        assert part in message
    assert "(item 1) · gap_service" in message
    assert "(item 2) · gap_service" not in message  # elderly_care is a known service
