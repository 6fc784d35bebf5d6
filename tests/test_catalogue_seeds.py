"""Tests for the packaged per-city catalogues: Linyi, Linxia, Tongnan and the national classes.

Each catalogue follows its seed text (``../shared/seeds``): the class boundaries, item names
and standard clauses are the seed's; costs are reused from the Linyi item covering the same
works, or are stated assumptions (``gisplan/data/CATALOGUE_NOTE.md``).
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pandas as pd
import pytest

from gisplan.catalogue import (
    PACKAGED_CATALOGUES,
    build_schemes,
    load_catalogue,
    validate_catalogue,
)

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
DATA = Path(__file__).resolve().parents[1] / "gisplan" / "data"
SEED_FILES = {
    "linyi": "linyi_2020_implementation_plan.txt",
    "linxia": "linxia_2020_implementation_plan.txt",
    "tongnan": "tongnan_2021_implementation_plan.txt",
    "national": "litong_2023_implementation_plan_draft.txt",
}
NEW = ("linxia", "tongnan", "national")

# Item names in item order, checked by hand against each seed's enumeration.
NAMES = {
    "linxia": [
        # 基础类 (三(二)1): 其中…供水…移动通信, 以及光纤入户、架空线规整（入地）; 屋面、外墙、楼梯
        *("供水", "排水", "供电", "弱电", "道路", "供气", "供热", "消防", "安防"),
        *("生活垃圾分类", "移动通信", "光纤入户", "架空线规整（入地）", "屋面", "外墙", "楼梯"),
        # 完善类 (三(二)2): 其中…拆除违法建设…物业用房; 建筑节能改造、加装电梯、5G、光纤到户
        *("拆除违法建设", "绿化", "照明", "适老设施", "无障碍设施", "停车库（场）"),
        *("电动自行车及汽车充电设施", "智能快件箱", "智能信包箱", "文化休闲设施"),
        *("体育健身设施", "物业用房", "建筑节能改造", "加装电梯", "5G移动通信基础设施"),
        "光纤到户",
        # 提升类 (三(二)3)
        *("社区综合服务设施", "卫生服务站", "幼儿园", "周界防护", "高空抛物监测", "养老"),
        *("托育", "助餐", "家政保洁", "便民市场", "便利店", "邮政快递末端综合服务站"),
    ],
    "tongnan": [
        # 基础类 (二(二)1): 水电气讯 split into four
        *("供水", "供电", "供气", "通信", "排水管网", "化粪池", "道路", "消防设施"),
        *("安防设施", "外墙", "屋顶", "楼道护栏", "雨棚", "生活垃圾分类"),
        # 完善类 (二(二)2)
        *("绿化", "照明", "围墙", "停车场", "充电设施", "文体设施", "物业用房"),
        # 提升类 (二(二)3)
        *("社区综合服务设施", "公共卫生设施", "养老", "托幼", "助餐", "家政保洁", "菜市场"),
        "便利店",
    ],
    "national": [
        # Litong 2023 draft 三(二)1 (no 光纤入户、架空线规整 in its quotation)
        *("供水", "排水", "供电", "弱电", "道路", "供气", "供热", "消防", "安防"),
        *("生活垃圾分类", "移动通信", "屋面", "外墙", "楼梯"),
        # 三(二)2 (拆除违法建筑; no 5G or 光纤到户)
        *("拆除违法建筑", "绿化", "照明", "适老设施", "无障碍设施", "停车库（场）"),
        *("电动自行车及汽车充电设施", "智能快件箱", "智能信包箱", "文化休闲设施"),
        *("体育健身设施", "物业用房", "建筑节能改造", "加装电梯"),
        # 三(二)3 (周界防护 only)
        *("社区综合服务设施", "卫生服务站", "幼儿园", "周界防护", "养老", "托育", "助餐"),
        *("家政保洁", "便民市场", "便利店", "邮政快递末端综合服务站"),
    ],
}


def _seed_text(name: str) -> str:
    """Return the seed of a catalogue with all whitespace removed; skip when seeds are absent."""
    if not SEEDS.is_dir():
        pytest.skip(f"seed texts not found at {SEEDS}")
    return re.sub(r"\s+", "", (SEEDS / SEED_FILES[name]).read_text(encoding="utf-8"))


def _by_name(name: str) -> pd.DataFrame:
    cat = load_catalogue(name)
    assert cat["name_zh"].is_unique
    return cat.reset_index().set_index("name_zh")


def _where(name: str, column: str) -> dict[str, str]:
    """Return ``name_zh -> value`` of the rows whose ``column`` is not empty."""
    cat = load_catalogue(name)
    return {n: v for n, v in zip(cat["name_zh"], cat[column], strict=True) if v}


def _flagged(name: str, column: str) -> set[str]:
    cat = load_catalogue(name)
    return set(cat.loc[cat[column], "name_zh"])


# ----------------------------------------------------------------------------- loading


@pytest.mark.parametrize(
    ("name", "counts"),
    [
        ("linyi", {"basic": 19, "complete": 11, "improve": 6}),
        ("linxia", {"basic": 16, "complete": 16, "improve": 12}),
        ("tongnan", {"basic": 14, "complete": 7, "improve": 8}),
        ("national", {"basic": 14, "complete": 14, "improve": 11}),
    ],
)
def test_loads_with_class_counts(name: str, counts: dict[str, int]) -> None:
    cat = load_catalogue(name)
    assert cat["class"].value_counts().to_dict() == counts
    assert validate_catalogue(cat).ok
    # items 1..N, 基础类 first, then 完善类, then 提升类
    assert cat.index.tolist() == list(range(1, sum(counts.values()) + 1))


@pytest.mark.parametrize("name", NEW)
def test_columns_as_linyi(name: str) -> None:
    def header(file: str) -> list[str]:
        with (DATA / file).open(encoding="utf-8", newline="") as f:
            return next(csv.reader(f))

    assert header(PACKAGED_CATALOGUES[name]) == header(PACKAGED_CATALOGUES["linyi"])


@pytest.mark.parametrize("name", NEW)
def test_item_names_in_seed_order(name: str) -> None:
    assert load_catalogue(name)["name_zh"].tolist() == NAMES[name]


# ----------------------------------------------------------------------------- seed wording


@pytest.mark.parametrize("name", list(SEED_FILES))
def test_names_and_standards_are_verbatim(name: str) -> None:
    text = _seed_text(name)
    cat = load_catalogue(name)
    for column in ("name_zh", "standard_zh"):
        missing = [
            (item, value)
            for item, value in cat[column].items()
            if re.sub(r"\s+", "", value) not in text
        ]
        assert missing == [], f"{name}: {column} not in {SEED_FILES[name]}"


@pytest.mark.parametrize("name", NEW)
def test_standard_clause_names_the_item(name: str) -> None:
    cat = load_catalogue(name)
    tongnan_split = {"供水", "供电", "供气", "通信"}  # 水电气讯
    for item, row in cat.iterrows():
        if name == "tongnan" and row["name_zh"] in tongnan_split:
            assert "水电气讯" in row["standard_zh"], item
        else:
            assert row["name_zh"] in row["standard_zh"], item


def test_linxia_missing_attachment_is_noted() -> None:
    text = _seed_text("linxia")
    assert "详见附件1" in text
    assert "附件2" in text  # the only attachment the seed carries (领导小组名单)
    note = (DATA / "CATALOGUE_NOTE.md").read_text(encoding="utf-8")
    assert "附件1" in note
    assert "not in the seed" in note


# ----------------------------------------------------------------------------- class boundaries


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "linyi",
            {
                "拆除违法建设": "basic",
                "绿化增建、补建": "basic",
                "完善公共照明": "basic",
                "完善无障碍、适老化设施": "basic",
                "改建、新建便民市场、便利店": "complete",
                "外墙保温": "complete",
            },
        ),
        (
            "linxia",
            {
                "拆除违法建设": "complete",
                "绿化": "complete",
                "照明": "complete",
                "适老设施": "complete",
                "无障碍设施": "complete",
                "外墙": "basic",
                "屋面": "basic",
                "5G移动通信基础设施": "complete",
                "光纤入户": "basic",
                "光纤到户": "complete",
                "便民市场": "improve",
                "便利店": "improve",
            },
        ),
        (
            "tongnan",
            {
                "化粪池": "basic",
                "外墙": "basic",
                "屋顶": "basic",
                "楼道护栏": "basic",
                "雨棚": "basic",
                "绿化": "complete",
                "照明": "complete",
                "围墙": "complete",
                "菜市场": "improve",
            },
        ),
        (
            "national",
            {
                "拆除违法建筑": "complete",
                "绿化": "complete",
                "照明": "complete",
                "适老设施": "complete",
                "无障碍设施": "complete",
                "外墙": "basic",
                "便民市场": "improve",
            },
        ),
    ],
)
def test_class_boundaries(name: str, expected: dict[str, str]) -> None:
    cat = _by_name(name)
    assert {n: cat.loc[n, "class"] for n in expected} == expected


def test_items_a_seed_does_not_list() -> None:
    tongnan = set(load_catalogue("tongnan")["name_zh"])
    assert not tongnan & {"供热", "拆除违法建设", "加装电梯", "建筑节能改造", "幼儿园"}
    national = set(load_catalogue("national")["name_zh"])
    assert not national & {"光纤入户", "架空线规整（入地）", "高空抛物监测", "5G移动通信基础设施"}


# ----------------------------------------------------------------------------- flags


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("linyi", {"供热管网和设施设备改造", "外墙保温"}),
        ("linxia", {"供热", "建筑节能改造"}),
        ("tongnan", set()),
        ("national", {"供热", "建筑节能改造"}),
    ],
)
def test_heating_zone_only(name: str, expected: set[str]) -> None:
    assert _flagged(name, "heating_zone_only") == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "linyi",
            {
                "拆除违法建设": "demolition",
                "整修小区道路": "trees",
                "完善车行、人行交通系统": "trees",
                "建设停车位（场）": "trees",
            },
        ),
        ("linxia", {"拆除违法建设": "demolition", "道路": "trees", "停车库（场）": "trees"}),
        ("tongnan", {"道路": "trees", "围墙": "trees", "停车场": "trees"}),
        ("national", {"道路": "trees", "拆除违法建筑": "demolition", "停车库（场）": "trees"}),
    ],
)
def test_affects(name: str, expected: dict[str, str]) -> None:
    assert _where(name, "affects") == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "linyi",
            {
                "完善养老设施": "elderly_care",
                "完善抚幼设施": "childcare",
                "完善医疗卫生设施": "health",
                "完善公共活动场地": "activity_space",
                "建设便民消费服务中心": "daily_shopping",
            },
        ),
        (
            "linxia",
            {
                "文化休闲设施": "activity_space",
                "体育健身设施": "activity_space",
                "卫生服务站": "health",
                "幼儿园": "childcare",
                "养老": "elderly_care",
                "托育": "childcare",
                "助餐": "elderly_care",
                "便民市场": "daily_shopping",
                "便利店": "daily_shopping",
            },
        ),
        (
            "tongnan",
            {
                "文体设施": "activity_space",
                "公共卫生设施": "health",
                "养老": "elderly_care",
                "托幼": "childcare",
                "助餐": "elderly_care",
                "菜市场": "daily_shopping",
                "便利店": "daily_shopping",
            },
        ),
        (
            "national",
            {
                "文化休闲设施": "activity_space",
                "体育健身设施": "activity_space",
                "卫生服务站": "health",
                "幼儿园": "childcare",
                "养老": "elderly_care",
                "托育": "childcare",
                "助餐": "elderly_care",
                "便民市场": "daily_shopping",
                "便利店": "daily_shopping",
            },
        ),
    ],
)
def test_gap_service(name: str, expected: dict[str, str]) -> None:
    assert _where(name, "gap_service") == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "linxia",
            {
                "供水": "water",
                "供电": "power",
                "弱电": "telecom",
                "供气": "gas",
                "供热": "heat",
                "移动通信": "telecom",
                "光纤入户": "telecom",
                "架空线规整（入地）": "telecom",
                "5G移动通信基础设施": "telecom",
                "光纤到户": "telecom",
            },
        ),
        ("tongnan", {"供水": "water", "供电": "power", "供气": "gas", "通信": "telecom"}),
        (
            "national",
            {
                "供水": "water",
                "供电": "power",
                "弱电": "telecom",
                "供气": "gas",
                "供热": "heat",
                "移动通信": "telecom",
            },
        ),
    ],
)
def test_utility_items(name: str, expected: dict[str, str]) -> None:
    assert _where(name, "utility_kind") == expected
    cat = load_catalogue(name)
    assert set(cat.loc[cat["payer"] == "utility", "name_zh"]) == set(expected)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("linxia", {"排水", "供电", "供气", "消防", "拆除违法建设"}),
        ("tongnan", {"供电", "供气", "排水管网", "化粪池", "消防设施"}),
        ("national", {"排水", "供电", "供气", "消防", "拆除违法建筑"}),
    ],
)
def test_safety_items(name: str, expected: set[str]) -> None:
    assert _flagged(name, "safety") == expected


@pytest.mark.parametrize("name", NEW)
def test_lift_is_the_only_per_unit_item(name: str) -> None:
    cat = load_catalogue(name)
    per_unit = cat[cat["cost_basis"] == "per_unit"]
    assert per_unit["name_zh"].tolist() == ([] if name == "tongnan" else ["加装电梯"])
    assert per_unit["quantity_field"].tolist() == ([] if name == "tongnan" else ["lift_units"])


# ----------------------------------------------------------------------------- costs

_REUSED = re.compile(r"cost: (as|half of) Linyi item (\d+) \(CATALOGUE_NOTE\.md\)")
_ASSUMED = "cost: assumption, not calibrated"


@pytest.mark.parametrize("name", NEW)
def test_source_note_names_the_cost(name: str) -> None:
    linyi = load_catalogue("linyi")
    cat = load_catalogue(name)
    for item, row in cat.iterrows():
        found = _REUSED.search(row["source_note"])
        if found is None:
            assert _ASSUMED in row["source_note"], (name, item)
            continue
        assert _ASSUMED not in row["source_note"], (name, item)
        ref = linyi.loc[int(found[2])]
        share = 0.5 if found[1] == "half of" else 1.0
        assert row["cost_basis"] == ref["cost_basis"], (name, item)
        assert row["unit_cost_yuan"] == ref["unit_cost_yuan"] * share, (name, item)
        assert row["quantity_field"] == ref["quantity_field"], (name, item)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "linxia",
            {
                "移动通信",
                "光纤入户",
                "外墙",
                "5G移动通信基础设施",
                "光纤到户",
                "社区综合服务设施",
                "周界防护",
                "高空抛物监测",
                "家政保洁",
                "邮政快递末端综合服务站",
            },
        ),
        ("tongnan", {"化粪池", "外墙", "楼道护栏", "雨棚", "围墙", "社区综合服务设施", "家政保洁"}),
        (
            "national",
            {
                "移动通信",
                "外墙",
                "社区综合服务设施",
                "周界防护",
                "家政保洁",
                "邮政快递末端综合服务站",
            },
        ),
    ],
)
def test_assumed_costs(name: str, expected: set[str]) -> None:
    cat = load_catalogue(name)
    assert set(cat.loc[cat["source_note"].str.contains(_ASSUMED), "name_zh"]) == expected


def test_reused_costs_spot_checks() -> None:
    tongnan = _by_name("tongnan")
    assert tongnan.loc["屋顶", "unit_cost_yuan"] == 25.0  # Linyi 18 屋顶防水及美化
    assert "as Linyi item 18" in tongnan.loc["屋顶", "source_note"]
    assert tongnan.loc["通信", "unit_cost_yuan"] == 600.0  # Linyi 3
    linxia = _by_name("linxia")
    # Linyi 15 (无障碍、适老化) and 25 (信报箱、快递柜) each split over two listed items
    assert linxia.loc["适老设施", "unit_cost_yuan"] == 10000.0
    assert linxia.loc["无障碍设施", "unit_cost_yuan"] == 10000.0
    assert linxia.loc["智能快件箱", "unit_cost_yuan"] == 75.0
    assert linxia.loc["弱电", "unit_cost_yuan"] == 300.0  # shares Linyi 3 with 架空线规整
    assert _by_name("national").loc["弱电", "unit_cost_yuan"] == 600.0


# ----------------------------------------------------------------------------- schemes


def _wanting_all(catalogue: pd.DataFrame) -> pd.DataFrame:
    """One community with space that asks for childcare and shops, its basic systems sound."""
    basic = tuple(int(i) for i in catalogue.index[catalogue["class"] == "basic"])
    wanted = catalogue["gap_service"].isin(["childcare", "daily_shopping"])
    return pd.DataFrame(
        {
            "community_id": ["c1"],
            "households": [100],
            "needs": [tuple(int(i) for i in catalogue.index[wanted])],
            "sound_items": [basic],
            "space_available": [True],
        }
    )


def test_gap_proposes_the_city_items() -> None:
    gaps = pd.DataFrame(
        {"community_id": ["c1", "c1"], "type": ["nursery", "fresh_market"], "covered": [False] * 2}
    )
    # the gap's service picks each city's own items, whatever their numbers (Tongnan's
    # item 28 is 菜市场, Linyi's is 增设电梯): 托育 and 便民消费 items
    tongnan = load_catalogue("tongnan")
    schemes = build_schemes(_wanting_all(tongnan), catalogue=tongnan, gaps=gaps)
    assert schemes["name_zh"].tolist() == ["托幼", "菜市场", "便利店"]
    assert schemes["cost_yuan"].tolist() == [300000.0, 25000.0, 25000.0]
    assert set(schemes["menu"]) == {"conditional"}
    national = load_catalogue("national")
    schemes = build_schemes(_wanting_all(national), catalogue=national, gaps=gaps)
    assert schemes["name_zh"].tolist() == ["幼儿园", "托育", "便民市场", "便利店"]
