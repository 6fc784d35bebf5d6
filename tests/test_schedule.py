from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import pandas as pd
import pytest

from gisplan.errors import GisplanWarning, ScenarioError
from gisplan.schedule import (
    CALENDAR_COLUMNS,
    OUTPUT_COLUMNS,
    gantt_figure,
    programme_calendar,
    read_calendar,
)

D = dt.date


def _starts() -> pd.DataFrame:
    # C3 was never chosen (no start_year): left out
    return pd.DataFrame(
        {"community_id": ["C2", "C1", "C3"], "start_year": pd.array([2026, 2026, None], "Int64")}
    )


def _by_code(table: pd.DataFrame, community: str = "C1") -> pd.DataFrame:
    return table[table["community_id"] == community].set_index("milestone")


def test_linyi_2026_hand_checked_dates() -> None:
    starts = _starts()
    saved = starts.copy()
    table = programme_calendar(starts, preset="linyi")
    pd.testing.assert_frame_equal(starts, saved)  # input untouched
    assert list(table.columns) == list(OUTPUT_COLUMNS)
    assert table["community_id"].unique().tolist() == ["C2", "C1"]  # input order, C3 dropped
    assert len(table) == 2 * 13
    cal = _by_code(table)
    # Linyi 2020 二(一): next year's plan submitted by end of September
    assert cal.loc["submission", "end_date"] == D(2025, 9, 30)
    # 5 working days ending by 30 Sep 2025: Tue 30, Mon 29, Sun 28 (make-up working day),
    # Fri 26, Thu 25 (Sat 27 is a rest day)
    assert (cal.loc["publicity", "start_date"], cal.loc["publicity", "end_date"]) == (
        D(2025, 9, 25),
        D(2025, 9, 30),
    )
    assert cal.loc["publicity", "working_days"] == 5
    assert not cal.loc["publicity", "assumed"]
    assert cal.loc["publicity", "basis"] == "临沂2020 二(一)3"
    assert (cal.loc["construction", "start_date"], cal.loc["construction", "end_date"]) == (
        D(2026, 4, 1),
        D(2026, 10, 31),
    )
    assert cal.loc["roof_facade", "end_date"] == D(2026, 7, 31)
    assert cal.loc["acceptance", "end_date"] == D(2026, 11, 30)
    # Tongnan: 备案 within 15 (calendar) days of 验收
    assert (cal.loc["filing", "start_date"], cal.loc["filing", "end_date"]) == (
        D(2026, 12, 1),
        D(2026, 12, 15),
    )
    # 表决 ends the day before works start; 14 days is our assumption
    assert (cal.loc["vote", "start_date"], cal.loc["vote", "end_date"]) == (
        D(2026, 3, 18),
        D(2026, 3, 31),
    )
    assert cal.loc["management", "end_date"] is None
    # Linyi dates none of these: borrowed and labelled
    for code in ("survey", "selection", "construction", "acceptance", "filing", "handover"):
        assert cal.loc[code, "assumed"], code
    assert "假设" in cal.loc["construction", "note"]
    assert cal["seq"].is_monotonic_increasing


def test_own_seed_not_assumed() -> None:
    starts = pd.DataFrame({"community_id": ["A"], "start_year": [2026]})
    litong = _by_code(programme_calendar(starts, preset="litong"), "A")
    assert not litong.loc["construction", "assumed"]
    assert litong.loc["submission", "end_date"] == D(2025, 12, 31)
    # Thu 25, Fri 26, Mon 29, Tue 30, Wed 31 Dec 2025
    assert litong.loc["publicity", "start_date"] == D(2025, 12, 25)
    assert litong.loc["publicity", "assumed"]  # the 5 days come from Linyi
    tongnan = _by_code(programme_calendar(starts, preset="tongnan"), "A")
    assert not tongnan.loc["filing", "assumed"]
    national = programme_calendar(starts, preset="national")
    assert national["assumed"].all()


def test_build_years_and_working_days_override() -> None:
    starts = pd.DataFrame({"community_id": ["A"], "start_year": [2025]})
    cal = _by_code(
        programme_calendar(starts, preset="linyi", build_years=2, publicity_working_days=7), "A"
    )
    assert cal.loc["construction", "end_date"] == D(2026, 10, 31)
    assert cal.loc["filing", "end_date"] == D(2026, 12, 15)
    # 7 working days ending Mon 30 Sep 2024: 30, 29 (Sun, make-up), 27, 26, 25, 24, 23
    assert cal.loc["publicity", "start_date"] == D(2024, 9, 23)
    assert cal.loc["publicity", "working_days"] == 7


def test_publicity_start_too_late_warns(caplog: pytest.LogCaptureFixture) -> None:
    starts = pd.DataFrame({"community_id": ["A", "B"], "start_year": [2026, 2027]})
    with (
        caplog.at_level(logging.WARNING, logger="gisplan.schedule"),
        pytest.warns(
            GisplanWarning, match=r"2025-10-09至2025-10-14）晚于提报下年度计划截止日2025-09-30"
        ),
    ):
        table = programme_calendar(starts, preset="linyi", publicity_start=D(2025, 10, 9))
    assert "2025-09-30" in caplog.text
    a = _by_code(table, "A")
    # Thu 9, Fri 10, Sat 11 (make-up working day), Mon 13, Tue 14 Oct
    assert (a.loc["publicity", "start_date"], a.loc["publicity", "end_date"]) == (
        D(2025, 10, 9),
        D(2025, 10, 14),
    )
    # the later year keeps the rule
    b = _by_code(table, "B")
    assert b.loc["publicity", "end_date"] == D(2026, 9, 30)


def test_publicity_start_in_time_is_silent() -> None:
    starts = pd.DataFrame({"community_id": ["A"], "start_year": [2026]})
    table = programme_calendar(starts, preset="linyi", publicity_start=D(2025, 9, 1))
    assert _by_code(table, "A").loc["publicity", "end_date"] == D(2025, 9, 5)


def test_uncovered_year() -> None:
    starts = pd.DataFrame({"community_id": ["A"], "start_year": [2031]})
    with pytest.raises(
        ScenarioError, match=r"公示初步改造方案 \(publicity\).*2031.*2030 is not known"
    ):
        programme_calendar(starts, preset="linyi")


def test_user_calendar(tmp_path: Path) -> None:
    table = read_calendar()
    assert set(CALENDAR_COLUMNS) == set(table.columns)
    mine = table[table["preset"] == "default"].assign(preset="省级")
    mine.loc[mine["milestone"] == "filing", "offset"] = "30"
    path = tmp_path / "日程.csv"
    mine.to_csv(path, index=False, encoding="utf-8-sig")
    starts = pd.DataFrame({"community_id": ["A"], "start_year": [2026]})
    cal = _by_code(programme_calendar(starts, preset="省级", calendar=path), "A")
    assert cal.loc["filing", "end_date"] == D(2026, 12, 30)


def test_user_calendar_missing_columns(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    read_calendar().drop(columns=["source", "assumed"]).to_csv(path, index=False)
    starts = pd.DataFrame({"community_id": ["A"], "start_year": [2026]})
    with pytest.raises(ScenarioError, match="column\\(s\\) source, assumed missing") as info:
        programme_calendar(starts, preset="linyi", calendar=path)
    assert [p[0] for p in info.value.problems] == ["calendar.source", "calendar.assumed"]


def test_user_calendar_bad_values(tmp_path: Path) -> None:
    table = read_calendar()
    table.loc[0, "start_md"] = "8月1日"
    table.loc[1, "unit"] = "weeks"
    table.loc[1, "offset"] = "3"
    table.loc[1, "end_md"] = ""
    table.loc[1, "end_anchor"] = ""
    path = tmp_path / "bad.csv"
    table.to_csv(path, index=False)
    with pytest.raises(ScenarioError) as info:
        read_calendar(path)
    text = str(info.value)
    assert "line 2: default/survey: start_md '8月1日'; write MM-DD" in text
    assert "line 3: default/selection: unit 'weeks'" in text


def test_missing_starts_column() -> None:
    with pytest.raises(ScenarioError, match="lacks column\\(s\\) start_year"):
        programme_calendar(pd.DataFrame({"community_id": ["A"]}), preset="linyi")


def test_gantt_is_byte_identical(tmp_path: Path) -> None:
    table = programme_calendar(_starts(), preset="linyi")
    one = gantt_figure(table, 2026, tmp_path / "一.png", title="改造实施计划")
    two = gantt_figure(table, 2026, tmp_path / "二.png", title="改造实施计划")
    assert one.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert one.read_bytes() == two.read_bytes()
    assert b"Software" not in one.read_bytes()
    with pytest.raises(
        ScenarioError, match="no community starts works in 2030; years in the table: 2026"
    ):
        gantt_figure(table, 2030, tmp_path / "x.png", title="x")


def _write(table: pd.DataFrame, path: Path) -> Path:
    table.to_csv(path, index=False, encoding="utf-8")
    return path


def test_calendar_error_paths(tmp_path: Path) -> None:
    starts = pd.DataFrame({"community_id": ["A"], "start_year": [2026]})
    with pytest.raises(ScenarioError, match="not found"):
        read_calendar(tmp_path / "无.csv")
    own = read_calendar()
    only_linyi = _write(own[own["preset"] == "linyi"], tmp_path / "linyi.csv")
    with pytest.raises(
        ScenarioError, match=r"no rows for preset 'tongnan'.*presets in the file: linyi"
    ):
        programme_calendar(starts, preset="tongnan", calendar=only_linyi)
    # linyi's own rows point at milestones only the default rows define
    with pytest.raises(ScenarioError, match=r"publicity: by:submission names an unknown milestone"):
        programme_calendar(
            starts,
            preset="linyi",
            calendar=_write(own[own["milestone"] != "submission"], tmp_path / "a.csv"),
        )
    circle = own[own["preset"] == "default"].copy()
    circle.loc[
        circle["milestone"] == "acceptance",
        ["start_anchor", "start_md", "end_anchor", "end_md", "offset", "unit"],
    ] = ["after:filing", "", "", "", "30", "days"]
    with pytest.raises(ScenarioError, match=r"circle \(acceptance -> filing -> acceptance\)"):
        programme_calendar(starts, preset="default", calendar=_write(circle, tmp_path / "c.csv"))
    with pytest.raises(ScenarioError, match="build_years must be 1 or more"):
        programme_calendar(starts, preset="linyi", build_years=0)
    with pytest.raises(ScenarioError, match="publicity_working_days must be 1 or more"):
        programme_calendar(starts, preset="linyi", publicity_working_days=0)
