"""Tests for gisplan.standards: packaged table, user tables, lookups and OSM rules."""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import math
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gisplan import standards
from gisplan.errors import GisplanWarning, StandardsError
from gisplan.standards import (
    LEVELS,
    LevelDistances,
    facility_codes,
    load_standard,
    match_osm,
    osm_rules,
    resolve_type,
    suggest_codes,
    validate_standard,
)

REFERENCE_CSV = (
    Path(__file__).resolve().parents[2] / "shared" / "reference" / "life_circle_standard.csv"
)
HEADER = "facility_code,name_zh,level,service_radius_m,osm_tags,source,verified,note\n"


def _write(path: Path, body: str, *, encoding: str = "utf-8") -> Path:
    path.write_text(HEADER + body, encoding=encoding)
    return path


# ----------------------------------------------------------------------------- LevelDistances


def test_level_distances_defaults() -> None:
    levels = LevelDistances()
    assert [levels.for_level(level) for level in LEVELS] == [1000.0, 500.0, 300.0, 300.0]
    assert levels.min15_strict_m == 800.0


def test_level_distances_unknown_level() -> None:
    with pytest.raises(StandardsError, match="unknown life-circle level '20min'"):
        LevelDistances().for_level("20min")


@pytest.mark.parametrize("bad", [0.0, -1.0, math.nan, math.inf])
def test_level_distances_rejects_non_positive(bad: float) -> None:
    with pytest.raises(StandardsError, match="min10_m"):
        LevelDistances(min10_m=bad)


def test_level_distances_frozen_and_hashable() -> None:
    levels = LevelDistances()
    with pytest.raises(dataclasses.FrozenInstanceError):
        levels.min5_m = 1.0  # type: ignore[misc]
    assert hash(levels) == hash(LevelDistances())


# ----------------------------------------------------------------------------- packaged table


def test_packaged_table_shape_and_types() -> None:
    table = load_standard()
    assert len(table) == 31
    assert table.index.name == "facility_code"
    assert table.index.is_unique
    assert list(table.columns) == [
        "name_zh",
        "level",
        "service_radius_m",
        "osm_tags",
        "source",
        "verified",
        "note",
        "group",
        "icon",
        "colour",
        "gap_service",
        "radius_m",
        "radius_source",
    ]
    assert table["verified"].dtype == bool
    assert table["service_radius_m"].dtype == float
    assert set(table["level"]) == set(LEVELS)
    assert table["radius_m"].notna().all()
    assert (table["radius_m"] > 0).all()


def test_packaged_radii() -> None:
    table = load_standard()
    assert table.loc["kindergarten", "radius_m"] == 300.0
    assert table.loc["kindergarten", "radius_source"] == "standard"
    assert math.isnan(table.loc["fresh_market", "service_radius_m"])
    assert table.loc["fresh_market", "radius_m"] == 500.0
    assert table.loc["fresh_market", "radius_source"] == "level"
    assert table.loc["community_health_center", "radius_m"] == 1000.0
    assert table.loc["community_health_center", "radius_source"] == "level"
    assert table.loc["garbage_collection_point", "radius_m"] == 70.0
    assert table.loc["convenience_store", "radius_m"] == 300.0  # neighbourhood assumption
    assert (table["radius_source"] == "standard").sum() == 13


def test_level_fallback_follows_parameters() -> None:
    table = load_standard(levels=LevelDistances(min15_m=800.0, neighbourhood_m=150.0))
    assert table.loc["community_health_center", "radius_m"] == 800.0
    assert table.loc["convenience_store", "radius_m"] == 150.0
    assert table.loc["middle_school", "radius_m"] == 1000.0  # from the standard, not the level


def test_packaged_verified_flags_are_honest() -> None:
    table = load_standard()
    assert sorted(table.index[table["verified"]]) == [
        "community_service_center",
        "cultural_activity_center",
        "sub_district_office",
    ]
    unverified = table.loc[~table["verified"], "note"]
    assert len(unverified) == 28
    assert unverified.str.startswith("Unverified").all()


def test_packaged_table_matches_reference() -> None:
    if not REFERENCE_CSV.is_file():
        pytest.skip(f"reference table not found at {REFERENCE_CSV}")
    with REFERENCE_CSV.open(encoding="utf-8") as f:
        ref = list(csv.DictReader(f))
    table = load_standard()
    assert list(table.index) == [r["facility_code"] for r in ref]
    # deliberate change (LIFE_CIRCLE_NOTE.md): one OSM tag per sports-field size
    sports = {
        "large_sports_field": "leisure=stadium",
        "medium_sports_field": "leisure=sports_centre",
        "small_sports_field": "leisure=pitch",
    }
    for r in ref:
        row = table.loc[r["facility_code"]]
        for col in ("name_zh", "level", "source"):
            assert row[col] == r[col]
        assert row["osm_tags"] == sports.get(r["facility_code"], r["osm_tags"])
        assert bool(row["verified"]) is (r["verified"] == "yes")
        assert r["note"] in row["note"]
        if r["service_radius_m"]:
            assert row["service_radius_m"] == float(r["service_radius_m"])
        else:
            assert math.isnan(row["service_radius_m"])


def test_load_returns_copies() -> None:
    first = load_standard()
    first.loc["kindergarten", "radius_m"] = 1.0
    first.loc["nursery", "name_zh"] = "改了"
    again = load_standard()
    assert again.loc["kindergarten", "radius_m"] == 300.0
    assert again.loc["nursery", "name_zh"] == "托儿所"


def test_packaged_table_validates_clean() -> None:
    report = validate_standard(load_standard())
    assert len(report) == 0


# ----------------------------------------------------------------------------- user tables


def test_user_table_roundtrip_chinese_path(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "南京标准.csv",
        "kindergarten,幼儿园,5min,500,amenity=kindergarten,本地标准,yes,local\n"
        "clinic,社区卫生服务站,5min,,amenity=clinic,,no,\n",
    )
    table = load_standard(path)
    assert list(table.index) == ["kindergarten", "clinic"]
    assert table.loc["kindergarten", "radius_m"] == 500.0
    assert bool(table.loc["kindergarten", "verified"]) is True
    assert table.loc["clinic", "radius_m"] == 300.0
    assert table.loc["clinic", "radius_source"] == "level"
    assert facility_codes(table) == ["kindergarten", "clinic"]


def test_user_table_gbk(tmp_path: Path) -> None:
    path = _write(tmp_path / "gbk.csv", "kindergarten,幼儿园,5min,300,,,否,\n", encoding="gbk")
    table = load_standard(path)
    assert table.loc["kindergarten", "name_zh"] == "幼儿园"
    assert bool(table.loc["kindergarten", "verified"]) is False


def test_user_table_duplicate_and_unknown_level(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "bad.csv",
        "kindergarten,幼儿园,5min,300,,,no,\n"
        "school,小学,10min,500,,,no,\n"
        "kindergarten,幼儿园二,5min,300,,,no,\n"
        "market,菜市场,10 min,,,,no,\n",
    )
    with pytest.raises(StandardsError) as info:
        load_standard(path)
    message = str(info.value)
    assert "bad.csv" in message
    assert "2 error(s)" in message
    assert "duplicate facility_code 'kindergarten' (rows 1 and 3)" in message
    assert "row 3 (kindergarten) · facility_code" in message
    assert "row 4 (market) · level: unknown level '10 min' (did you mean '10min'?)" in message


def test_user_table_every_problem_at_once(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "many.csv",
        ",无编号,5min,300,,,no,\n"
        "a,甲,5min,-5,,,no,\n"
        "b,乙,5min,abc,,,maybe,\n"
        "c,丙,5min,,amenity,,no,\n"
        "d,丁,5min,,name~(,,no,\n",
    )
    with pytest.raises(StandardsError, match="6 error") as info:
        load_standard(path)
    message = str(info.value)
    for expected in (
        "row 1 · facility_code: facility_code is empty",
        "row 2 (a) · service_radius_m: service_radius_m '-5'",
        "row 3 (b) · service_radius_m: service_radius_m 'abc'",
        "row 3 (b) · verified: verified 'maybe' is not yes/no",
        "row 4 (c) · osm_tags: osm_tags: condition 'amenity' has neither '=' nor '~'",
        "row 5 (d) · osm_tags: osm_tags: condition 'name~(': bad regular expression",
    ):
        assert expected in message


def test_user_table_missing_columns(tmp_path: Path) -> None:
    path = tmp_path / "cols.csv"
    path.write_text("facility_code,name_zh\nkindergarten,幼儿园\n", encoding="utf-8")
    with pytest.raises(StandardsError) as info:
        load_standard(path)
    message = str(info.value)
    assert "required column 'level' is missing" in message
    assert "required column 'service_radius_m' is missing" in message


def test_user_table_unused_column_warns(tmp_path: Path) -> None:
    path = tmp_path / "extra.csv"
    path.write_text(
        "facility_code,name_zh,level,service_radius_m,verified,remark\n"
        "kindergarten,幼儿园,5min,300,no,x\n",
        encoding="utf-8",
    )
    with pytest.warns(GisplanWarning, match="column 'remark' is not used"):
        table = load_standard(path)
    assert table.loc["kindergarten", "osm_tags"] == ""
    assert match_osm({"amenity": "kindergarten"}, table) is None


def test_user_table_missing_file(tmp_path: Path) -> None:
    with pytest.raises(StandardsError, match=r"nope\.csv: standards table not found"):
        load_standard(tmp_path / "nope.csv")


def test_user_table_ragged_row(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "南京标准.csv",
        "kindergarten,幼儿园,5min,300,amenity=kindergarten,,yes,\n"
        "clinic,社区卫生服务站,5min,,amenity=clinic,GB 50180,2018,no,\n",
    )
    with pytest.raises(
        StandardsError,
        match=r"南京标准\.csv: line 3 has 9 cells but the header has 8: look for a stray or "
        r"unquoted comma \(e\.g\. inside a name\), or quote that cell$",
    ):
        load_standard(path)


def test_user_table_unterminated_quote(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "quote.csv",
        "kindergarten,幼儿园,5min,300,,,yes,\n"
        'clinic,"社区卫生服务站,5min,,,,no,\n'
        "school,小学,10min,500,,,no,\n",
    )
    with pytest.raises(
        StandardsError,
        match=r"quote\.csv: line 3 opens a quote \(\"\) that is never closed: close the quote "
        r'or remove the stray " from that line$',
    ):
        load_standard(path)


def test_malformed_packaged_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "data").mkdir()
    _write(tmp_path / "data" / "life_circle_standard.csv", "a,甲,5min,300,,,no,,extra\n")
    fake = SimpleNamespace(files=lambda _: tmp_path, as_file=contextlib.nullcontext)
    monkeypatch.setattr(standards, "resources", fake)
    standards._packaged.cache_clear()
    try:
        with pytest.raises(
            StandardsError,
            match=r"packaged life_circle_standard\.csv: line 2 has 9 cells but the header has 8: "
            r".*; the installed gisplan is damaged: reinstall it \(pip install "
            r"--force-reinstall gisplan\), or pass your own table to load_standard\(path\)$",
        ):
            load_standard()
    finally:
        monkeypatch.undo()
        standards._packaged.cache_clear()
    assert len(load_standard()) == 31


def test_control_characters_escaped(tmp_path: Path) -> None:
    path = _write(tmp_path / "junk.csv", "kg\x00,幼儿园,5\x1bmin,300,,,no,\n")
    with pytest.raises(StandardsError) as info:
        load_standard(path)
    message = str(info.value)
    assert "\x00" not in message
    assert "\x1b" not in message
    assert "row 1 (kg\\x00) · level: unknown level '5\\x1bmin'" in message


def test_validate_does_not_mutate() -> None:
    raw = pd.DataFrame(
        {"facility_code": ["a"], "name_zh": ["甲"], "level": ["5min"], "service_radius_m": [""]}
    )
    saved = raw.copy()
    report = validate_standard(raw, name="t.csv")
    pd.testing.assert_frame_equal(raw, saved)
    assert report.ok
    assert [i.column for i in report.warnings] == ["verified"]


# ----------------------------------------------------------------------------- lookups


def test_facility_codes() -> None:
    codes = facility_codes()
    assert len(codes) == 31
    assert codes[:3] == ["middle_school", "primary_school", "kindergarten"]
    assert codes[-1] == "public_toilet"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("kindergarten", "kindergarten"),
        ("  KinderGarten ", "kindergarten"),
        ("幼儿园", "kindergarten"),
        ("社区服务中心\uff08街道级\uff09", "community_service_center"),
        ("社区服务中心", "community_service_center"),
        ("老年人日间照料中心", "elderly_day_care"),
        ("社区食堂/助餐点", "community_canteen"),
        ("kindergarden", None),
        ("幼儿", None),
        ("", None),
    ],
)
def test_resolve_type(value: str, expected: str | None) -> None:
    assert resolve_type(value) == expected


def test_resolve_type_every_code_and_name() -> None:
    table = load_standard()
    for code, name in table["name_zh"].items():
        assert resolve_type(str(code)) == code
        assert resolve_type(name) == code


def test_suggest_codes() -> None:
    assert suggest_codes("kindergarden")[0] == "kindergarten"
    assert suggest_codes("幼儿") == ["kindergarten"]
    assert suggest_codes("school") == ["middle_school", "primary_school"]
    assert suggest_codes("卫生服务", n=2) == ["community_health_center", "community_health_station"]
    assert suggest_codes("zzzz") == []
    assert suggest_codes("kindergarden", n=0) == []


# ----------------------------------------------------------------------------- OSM rules


def test_osm_rules() -> None:
    rules = osm_rules()
    assert len(rules) == 61  # ';'-separated alternatives in the CSV
    assert rules[0] == ("middle_school", [("amenity", "=", "school"), ("isced:level", "=", "2")])
    assert rules[1] == ("middle_school", [("amenity", "=", "school"), ("name", "~", "初中|中学")])
    assert {op for _, alt in rules for _, op, _ in alt} == {"=", "~"}
    assert {code for code, _ in rules} == set(facility_codes())


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        ({"amenity": "school", "name": "清华大学附属小学"}, "primary_school"),
        ({"amenity": "school", "name": "北京市第十九中学"}, "middle_school"),
        ({"amenity": "school", "isced:level": "1"}, "primary_school"),
        # 附小 is a primary school, but name~小学 does not match it: no rule for a bare school
        ({"amenity": "school", "name": "清华附小"}, None),
        ({"amenity": "school"}, None),
        ({"amenity": "kindergarten"}, "kindergarten"),
        ({"amenity": "kindergarten", "name": "阳光托儿所"}, "nursery"),
        ({"amenity": "childcare"}, "nursery"),
        ({"amenity": "childcare", "name": "蓝天幼儿园"}, "kindergarten"),
        ({"amenity": "school;kindergarten"}, "kindergarten"),
        ({"shop": "supermarket"}, "convenience_store"),
        ({"shop": "supermarket", "name": "苏果生鲜"}, "fresh_market"),
        ({"leisure": "pitch"}, "small_sports_field"),
        ({"leisure": "sports_centre"}, "medium_sports_field"),
        ({"leisure": "stadium"}, "large_sports_field"),
        ({"leisure": "pitch", "sport": "multi"}, "outdoor_fitness"),
        (
            {"amenity": "social_facility", "social_facility": "nursing_home", "name": "某护理院"},
            "elderly_care_home",
        ),
        ({"amenity": "social_facility", "social_facility": "nursing_home"}, "nursing_home"),
        ({"highway": "bus_stop"}, "bus_stop"),
        ({"railway": "station", "station": "subway"}, "metro_station"),
        ({"amenity": "toilets"}, "public_toilet"),
        ({"amenity": "restaurant"}, None),
        ({}, None),
    ],
)
def test_match_osm(tags: dict[str, str], expected: str | None) -> None:
    assert match_osm(tags) == expected


def test_match_osm_user_table_raw_columns() -> None:
    raw = pd.DataFrame(
        {
            "facility_code": ["any_school", "primary"],
            "osm_tags": ["amenity=school", "amenity=school+name~小学|附小"],
        }
    )
    assert match_osm({"amenity": "school", "name": "清华附小"}, raw) == "primary"
    assert match_osm({"amenity": "school", "name": "某某中学"}, raw) == "any_school"


def test_match_osm_bad_rule() -> None:
    raw = pd.DataFrame({"facility_code": ["x"], "osm_tags": ["amenity"]})
    with pytest.raises(StandardsError, match="osm_tags cannot be parsed"):
        match_osm({"amenity": "school"}, raw)
    with pytest.raises(StandardsError, match="osm_tags cannot be parsed"):
        osm_rules(raw)


_RULE_VALUES = sorted({(k, v) for _, alt in osm_rules() for k, op, v in alt if op == "="})
_tag_pairs = st.lists(st.sampled_from(_RULE_VALUES), max_size=4)
_names = st.sampled_from(["", "幼儿园", "小学", "社区卫生服务中心", "生鲜超市", "养护院", "x"])


@given(pairs=_tag_pairs, name=_names, extra=st.text(max_size=5))
def test_match_osm_properties(pairs: list[tuple[str, str]], name: str, extra: str) -> None:
    tags = dict(pairs)
    if name:
        tags["name"] = name
    code = match_osm(tags)
    if code is not None:
        # the returned code has an alternative whose conditions all hold
        assert any(c == code and all(k in tags for k, _, _ in alt) for c, alt in osm_rules())
    # a key no rule uses never changes the answer
    assert match_osm({**tags, "zz_unused": extra}) == code


# ----------------------------------------------------------------------------- facility traits


def test_packaged_traits_are_the_one_list_of_groups_icons_and_gap_services() -> None:
    table = load_standard()
    assert standards.group_codes("children") == ("kindergarten", "nursery")
    assert set(standards.group_codes("elderly")) == {
        "elderly_day_care",
        "nursing_home",
        "elderly_care_home",
        "community_canteen",
    }
    assert standards.group_codes("administrative") == (
        "community_service_center",
        "sub_district_office",
        "police_station",
    )
    assert table.loc["nursery", ["icon", "colour"]].tolist() == ["baby", "blue"]
    assert (table["icon"] != "").all()  # every type has a map icon
    assert standards.gap_services()["community_canteen"] == "elderly_care"
    assert standards.gap_services()["kindergarten"] == "childcare"
    assert "bus_stop" not in standards.gap_services()


def test_user_table_without_traits_takes_the_packaged_ones(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "local.csv",
        "nursery,托儿所,5min,250,,本地,yes,\nclinic,社区卫生服务站,5min,,amenity=clinic,,no,\n",
    )
    table = load_standard(path)
    assert table.loc["nursery", "radius_m"] == 250.0  # the city's radius …
    assert table.loc["nursery", "group"] == "children"  # … and the packaged traits
    assert table.loc["nursery", "gap_service"] == "childcare"
    assert table.loc["clinic", "group"] == ""  # a code of its own has none
    assert standards.group_codes("children", table) == ("nursery",)


def test_user_table_traits_are_checked(tmp_path: Path) -> None:
    path = tmp_path / "traits.csv"
    path.write_text(
        HEADER.rstrip("\n") + ",group,icon,colour,gap_service\n"
        "nursery,托儿所,5min,250,,,yes,,kids,baby,blue,childcare\n"
        "clinic,社区卫生服务站,5min,,,,no,,elderly,,,clinics\n",
        encoding="utf-8",
    )
    with pytest.raises(StandardsError) as info:
        load_standard(path)
    assert "unknown group 'kids'" in str(info.value)
    assert "unknown gap_service 'clinics'" in str(info.value)
