from __future__ import annotations

import datetime as dt

import pytest

from gisplan.errors import ScenarioError
from gisplan.publicity import is_working_day, publicity_period, publicity_schedule


def test_plain_week() -> None:
    # Mon 2025-03-03 .. Fri 2025-03-07
    assert publicity_period(dt.date(2025, 3, 3)) == (dt.date(2025, 3, 3), dt.date(2025, 3, 7))
    # starting on a Saturday moves to Monday, then Mon..Fri
    assert publicity_period(dt.date(2025, 3, 1)) == (dt.date(2025, 3, 3), dt.date(2025, 3, 7))


def test_across_golden_week_2025() -> None:
    # Fri 26 Sep, Sun 28 Sep (make-up working day), Mon 29, Tue 30, then 1-8 Oct holidays,
    # Thu 9 Oct is the fifth working day
    assert is_working_day(dt.date(2025, 9, 28))
    assert not is_working_day(dt.date(2025, 10, 8))
    first, last = publicity_period(dt.date(2025, 9, 26))
    assert (first, last) == (dt.date(2025, 9, 26), dt.date(2025, 10, 9))
    # starting in the holiday: Thu 9, Fri 10, Sat 11 Oct (make-up working day), Mon 13, Tue 14
    first, last = publicity_period(dt.date(2025, 10, 2))
    assert (first, last) == (dt.date(2025, 10, 9), dt.date(2025, 10, 14))


def test_schedule_table() -> None:
    table = publicity_schedule(["C1", "C2"], dt.date(2025, 9, 26), working_days=7)
    assert table["community_id"].tolist() == ["C1", "C2"]
    assert table["publicity_end"].tolist() == [dt.date(2025, 10, 11)] * 2  # Sat make-up day
    assert table["calendar_days"].tolist() == [16, 16]


def test_uncovered_year_and_bad_length() -> None:
    with pytest.raises(ScenarioError, match="holiday schedule of 2031 is not known"):
        publicity_period(dt.date(2031, 5, 6))
    with pytest.raises(ScenarioError, match="working_days must be 1 or more"):
        publicity_period(dt.date(2025, 3, 3), working_days=0)
