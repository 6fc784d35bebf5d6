"""Scheme publicity (公示) periods counted in Chinese working days.

Renovation schemes are publicised in the community for at least five **working days**
before they are submitted (Linyi plan; POLICY.md §2). Working days follow the State
Council's holiday schedule, including the make-up working weekends (调休) around Spring
Festival and Golden Week, taken from the maintained ``chinesecalendar`` package. Years the
package does not cover raise an error instead of a guess.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING

import chinese_calendar
import pandas as pd

from gisplan.errors import ScenarioError

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = [
    "MIN_WORKING_DAYS",
    "PUBLICITY_COLUMNS",
    "is_working_day",
    "publicity_period",
    "publicity_schedule",
]

logger = logging.getLogger(__name__)

#: Columns of :func:`publicity_schedule`'s table.
PUBLICITY_COLUMNS = (
    "community_id",
    "publicity_start",
    "publicity_end",
    "working_days",
    "calendar_days",
)
#: Minimum publicity period (Linyi implementation plan: 公示 not less than 5 working days).
MIN_WORKING_DAYS = 5


def is_working_day(day: dt.date) -> bool:
    """Return whether ``day`` is a working day in mainland China (调休 included).

    Raises
    ------
    ScenarioError
        If the holiday schedule of that year is not known to ``chinesecalendar``.

    Examples
    --------
    >>> is_working_day(dt.date(2025, 9, 28)), is_working_day(dt.date(2025, 10, 2))
    (True, False)
    """
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError as err:
        msg = (
            f"the official holiday schedule of {day.year} is not known ({err}); choose a "
            "publicity start in a covered year, or upgrade the chinesecalendar package once "
            "the State Council has published that year's schedule"
        )
        raise ScenarioError(msg) from err


def publicity_period(
    start: dt.date, *, working_days: int = MIN_WORKING_DAYS
) -> tuple[dt.date, dt.date]:
    """Return the first and last day of a publicity period of ``working_days`` working days.

    The period starts on the first working day on or after ``start``.

    Parameters
    ----------
    start
        Earliest day the notice can be posted.
    working_days
        Length in working days (at least 1; the policy minimum is 5).

    Returns
    -------
    tuple of datetime.date
        First and last day (both working days).

    Raises
    ------
    ScenarioError
        If ``working_days`` < 1 or the period runs into a year without a known schedule.

    Examples
    --------
    >>> publicity_period(dt.date(2025, 9, 26))  # across Golden Week 2025
    (datetime.date(2025, 9, 26), datetime.date(2025, 10, 9))
    """
    if working_days < 1:
        raise ScenarioError(f"publicity: working_days must be 1 or more, got {working_days}")
    if working_days < MIN_WORKING_DAYS:
        logger.warning(
            "publicity: %d working days is shorter than the %d the policy asks for",
            working_days,
            MIN_WORKING_DAYS,
        )
    day = start
    while not is_working_day(day):
        day += dt.timedelta(days=1)
    first, counted = day, 1
    while counted < working_days:
        day += dt.timedelta(days=1)
        counted += is_working_day(day)
    return first, day


def publicity_schedule(
    community_ids: Iterable[str],
    start: dt.date,
    *,
    working_days: int = MIN_WORKING_DAYS,
) -> pd.DataFrame:
    """Return the publicity start and end date of every community of a plan.

    All communities of one plan are publicised together from ``start``.

    Returns
    -------
    pandas.DataFrame
        ``community_id, publicity_start, publicity_end, working_days, calendar_days``.

    Examples
    --------
    >>> row = publicity_schedule(["C1"], dt.date(2025, 9, 26)).iloc[0]
    >>> row["publicity_start"], row["publicity_end"], int(row["calendar_days"])
    (datetime.date(2025, 9, 26), datetime.date(2025, 10, 9), 14)
    """
    first, last = publicity_period(start, working_days=working_days)
    ids = list(community_ids)
    table: pd.DataFrame = pd.DataFrame(
        {
            "community_id": ids,
            "publicity_start": [first] * len(ids),
            "publicity_end": [last] * len(ids),
            "working_days": [working_days] * len(ids),
            "calendar_days": [(last - first).days + 1] * len(ids),
        }
    )
    return table
