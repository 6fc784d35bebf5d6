"""The programme calendar (实施步骤): dated milestones of every community, from survey to upkeep.

Each preset's timetable is data, ``gisplan/data/calendar.csv``, one row per preset and
milestone; a province's variant is a CSV of the same columns passed as ``calendar=``.
Rows of preset ``default`` fill every milestone a preset's own seed does not date; they
borrow another seed's stage and say so (``assumed`` = yes, note "参照…（假设）"). Columns:

``preset, milestone, milestone_zh, seq, start_anchor, start_md, end_anchor, end_md, offset,
unit, source, assumed, note``

``start_anchor``
    ``start_year-1`` | ``start_year`` | ``end_year`` (with ``start_md``, ``MM-DD``): a fixed
    day; ``start_year`` is the year works start, ``end_year`` = ``start_year + build_years - 1``.
    ``after:<milestone>``: starts the day (working day, for ``working_days``) after it ends.
    ``by:<milestone>``: ends on or before that milestone's end, as late as possible (公示
    before the 提报 deadline). ``before:<milestone>``: ends the day before it starts (表决
    before 施工).
``end_anchor``, ``end_md``
    The end day as ``start_year-1 | start_year | end_year`` + ``MM-DD``; or leave them empty
    and give ``offset`` with ``unit`` (``working_days`` counted with
    :func:`gisplan.publicity.is_working_day`, or calendar ``days``). With neither the
    milestone is open-ended (``end`` is missing: 长效管理).

Seeds: Linyi 2020 二(一) (9月底前提报下年度计划; 公示不少于5个工作日, 公示结束后提报),
二(四) (竣工验收, 决算, 归档, 移交); Litong 2023 draft 五 (摸底调查 10月底, 确定小区 12月底,
前期工作 3月底, 全面改造 4–10月, 屋面防水/外檐 7月底, 竣工验收 11月底, 移交, 长效管理);
Tongnan 2021 三(四)3 (验收合格15日内备案); MOHURD 2021 (表决同意后方可开工; 专营设施移交).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import warnings
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from gisplan._text import CJK_FONT_FAMILIES
from gisplan.errors import GisplanWarning, ScenarioError
from gisplan.publicity import is_working_day

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "CALENDAR_COLUMNS",
    "OUTPUT_COLUMNS",
    "gantt_figure",
    "programme_calendar",
    "read_calendar",
]

logger = logging.getLogger(__name__)

#: Columns a calendar CSV must have.
CALENDAR_COLUMNS = (
    "preset",
    "milestone",
    "milestone_zh",
    "seq",
    "start_anchor",
    "start_md",
    "end_anchor",
    "end_md",
    "offset",
    "unit",
    "source",
    "assumed",
    "note",
)

#: Columns of :func:`programme_calendar`.
OUTPUT_COLUMNS = (
    "community_id",
    "start_year",
    "milestone",
    "milestone_zh",
    "seq",
    "start_date",
    "end_date",
    "working_days",
    "basis",
    "assumed",
    "note",
)

_YEAR_ANCHORS = {"start_year-1": -1, "start_year": 0}
_RELATIONS = ("after", "by", "before")
_UNITS = ("working_days", "days")
_MD = re.compile(r"^(\d{2})-(\d{2})$")
_BOOL = {"yes": True, "no": False, "true": True, "false": False, "是": True, "否": False}
_PUBLICITY = "publicity"
_SUBMISSION = "submission"


@dataclass(frozen=True, slots=True)
class _Rule:
    milestone: str
    milestone_zh: str
    seq: int
    start_anchor: str
    start_md: str
    end_anchor: str
    end_md: str
    offset: int | None
    unit: str
    source: str
    assumed: bool
    note: str


def read_calendar(calendar: str | Path | None = None) -> pd.DataFrame:
    """Read and check a calendar CSV (the packaged one when ``calendar`` is None).

    Parameters
    ----------
    calendar
        Path of a CSV with the columns :data:`CALENDAR_COLUMNS` (UTF-8, BOM allowed).

    Returns
    -------
    pandas.DataFrame
        The rows as strings (empty cells as ``""``).

    Raises
    ------
    ScenarioError
        Missing columns, or bad anchors, days, units, offsets or ``assumed`` values (every
        problem listed at once, by row).

    Examples
    --------
    >>> table = gisplan.schedule.read_calendar()
    >>> sorted(set(table["preset"]))
    ['default', 'linyi', 'litong', 'tongnan']
    """
    if calendar is None:
        ref = resources.files("gisplan") / "data" / "calendar.csv"
        with resources.as_file(ref) as path:
            table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
        name = "calendar.csv (packaged)"
    else:
        path = Path(calendar)
        if not path.is_file():
            raise ScenarioError(f"calendar: file {path} not found; give the path of a CSV")
        table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        name = str(path)
    missing = [c for c in CALENDAR_COLUMNS if c not in table.columns]
    if missing:
        raise ScenarioError(
            f"calendar {name}: column(s) {', '.join(missing)} missing; a calendar needs "
            f"{', '.join(CALENDAR_COLUMNS)} (see gisplan/data/calendar.csv)",
            [(f"calendar.{c}", "missing", "add the column") for c in missing],
        )
    table = table[list(CALENDAR_COLUMNS)]
    for col in CALENDAR_COLUMNS:
        table[col] = table[col].str.strip()
    problems = [p for i, row in table.iterrows() for p in _row_problems(row, int(str(i)) + 2)]
    if problems:
        raise ScenarioError(
            f"calendar {name}:\n" + "\n".join(f"line {k}: {p}; {fix}" for k, p, fix in problems),
            [(f"calendar line {k}", p, fix) for k, p, fix in problems],
        )
    checked: pd.DataFrame = table
    return checked


def _row_problems(row: pd.Series, line: int) -> list[tuple[int, str, str]]:
    out: list[tuple[int, str, str]] = []
    where = f"{row['preset']}/{row['milestone']}"
    if not row["preset"] or not row["milestone"]:
        out.append((line, "preset or milestone empty", "name both"))
    if not row["seq"].isdigit():
        out.append((line, f"{where}: seq {row['seq']!r} is not a whole number", "give 10, 20, …"))
    if row["assumed"].lower() not in _BOOL:
        out.append((line, f"{where}: assumed {row['assumed']!r}", "write yes or no"))
    return out + _anchor_problems(row, line, where)


def _anchor_problems(row: pd.Series, line: int, where: str) -> list[tuple[int, str, str]]:
    out: list[tuple[int, str, str]] = []
    anchor = row["start_anchor"]
    relation = anchor.split(":", 1)[0]
    if relation in _RELATIONS:
        if ":" not in anchor or not anchor.split(":", 1)[1]:
            out.append((line, f"{where}: start_anchor {anchor!r}", f"write {relation}:<milestone>"))
    elif anchor in _YEAR_ANCHORS or anchor == "end_year":
        if not _MD.match(row["start_md"]):
            out.append((line, f"{where}: start_md {row['start_md']!r}", "write MM-DD"))
    else:
        out.append(
            (
                line,
                f"{where}: start_anchor {anchor!r} unknown",
                "use start_year-1, start_year, end_year, after:X, by:X or before:X",
            )
        )
    return out + _length_problems(row, line, where, relation)


def _length_problems(
    row: pd.Series, line: int, where: str, relation: str
) -> list[tuple[int, str, str]]:
    out: list[tuple[int, str, str]] = []
    has_end = bool(row["end_anchor"] or row["end_md"])
    if has_end and (
        row["end_anchor"] not in (*_YEAR_ANCHORS, "end_year") or not _MD.match(row["end_md"])
    ):
        out.append(
            (
                line,
                f"{where}: end {row['end_anchor']!r} {row['end_md']!r}",
                "give end_anchor start_year-1|start_year|end_year and end_md MM-DD",
            )
        )
    if row["offset"]:
        if not row["offset"].isdigit() or int(row["offset"]) < 1:
            out.append((line, f"{where}: offset {row['offset']!r}", "give a whole number >= 1"))
        if row["unit"] not in _UNITS:
            out.append((line, f"{where}: unit {row['unit']!r}", "write working_days or days"))
        if has_end:
            out.append((line, f"{where}: both an end day and an offset", "keep one of them"))
    if relation in ("by", "before") and not row["offset"]:
        out.append((line, f"{where}: {relation}: needs a length", "give offset and unit"))
    return out


def _rules(table: pd.DataFrame, preset: str) -> dict[str, _Rule]:
    known = sorted(set(table["preset"]) - {"default"})
    if preset != "default" and preset not in set(table["preset"]):
        logger.info("calendar: preset %s has no rows of its own; every date is a default", preset)
    rules: dict[str, _Rule] = {}
    for which in ("default", preset):
        for _, row in table[table["preset"] == which].iterrows():
            rules[row["milestone"]] = _Rule(
                milestone=row["milestone"],
                milestone_zh=row["milestone_zh"],
                seq=int(row["seq"]),
                start_anchor=row["start_anchor"],
                start_md=row["start_md"],
                end_anchor=row["end_anchor"],
                end_md=row["end_md"],
                offset=int(row["offset"]) if row["offset"] else None,
                unit=row["unit"],
                source=row["source"],
                assumed=_BOOL[row["assumed"].lower()],
                note=row["note"],
            )
    if not rules:
        raise ScenarioError(
            f"calendar: no rows for preset {preset!r} and no 'default' rows; "
            f"presets in the file: {', '.join(known) or 'none'}"
        )
    problems = [
        f"{r.milestone}: {r.start_anchor} names an unknown milestone"
        for r in rules.values()
        if ":" in r.start_anchor and r.start_anchor.split(":", 1)[1] not in rules
    ]
    if problems:
        raise ScenarioError(
            f"calendar, preset {preset}: " + "; ".join(problems) + "; fix the milestone code"
        )
    return rules


def _day(anchor: str, md: str, start_year: int, end_year: int) -> dt.date:
    year = end_year if anchor == "end_year" else start_year + _YEAR_ANCHORS[anchor]
    month, day = (int(x) for x in md.split("-"))
    return dt.date(year, month, day)


def _step(day: dt.date, sign: int, unit: str) -> dt.date:
    day += dt.timedelta(days=sign)
    if unit == "working_days":
        while not is_working_day(day):
            day += dt.timedelta(days=sign)
    return day


def _count(day: dt.date, n: int, sign: int, unit: str) -> dt.date:
    """Return the day ``n`` units from ``day`` inclusive (``day`` itself counts as the first)."""
    for _ in range(n - 1):
        day = _step(day, sign, unit)
    return day


def _first(day: dt.date, sign: int, unit: str) -> dt.date:
    """Return ``day`` or the nearest working day in direction ``sign`` (for working_days)."""
    return day if unit != "working_days" or is_working_day(day) else _step(day, sign, unit)


class _Resolver:
    def __init__(self, rules: Mapping[str, _Rule], start_year: int, end_year: int) -> None:
        self.rules = rules
        self.start_year = start_year
        self.end_year = end_year
        self.done: dict[str, tuple[dt.date, dt.date | None]] = {}
        self.fixed: dict[str, tuple[dt.date, dt.date]] = {}

    def get(self, code: str, stack: tuple[str, ...] = ()) -> tuple[dt.date, dt.date | None]:
        if code in self.done:
            return self.done[code]
        if code in stack:
            raise ScenarioError(
                f"calendar: milestones depend on each other in a circle "
                f"({' -> '.join((*stack, code))}); anchor one of them on a year"
            )
        if code in self.fixed:
            self.done[code] = self.fixed[code]
            return self.fixed[code]
        rule = self.rules[code]
        try:
            span = self._resolve(rule, (*stack, code))
        except ScenarioError as err:
            if stack:
                raise
            raise ScenarioError(
                f"{rule.milestone_zh} ({code}) of works starting {self.start_year}: {err}",
                err.problems,
            ) from err
        self.done[code] = span
        return span

    def _resolve(self, rule: _Rule, stack: tuple[str, ...]) -> tuple[dt.date, dt.date | None]:
        relation, _, other = rule.start_anchor.partition(":")
        unit, n = rule.unit, rule.offset
        if relation in ("by", "before"):
            assert n is not None  # noqa: S101 -- checked by read_calendar
            o_start, o_end = self.get(other, stack)
            if relation == "by":
                if o_end is None:
                    raise ScenarioError(f"{other} has no end day to finish by")
                limit = o_end
            else:
                limit = o_start - dt.timedelta(days=1)
            end = _first(limit, -1, unit)
            return _count(end, n, -1, unit), end
        if relation == "after":
            o_end = self.get(other, stack)[1]
            if o_end is None:
                raise ScenarioError(f"{other} is open-ended; nothing can start after it")
            start = _first(o_end + dt.timedelta(days=1), 1, unit)
        else:
            start = _day(relation, rule.start_md, self.start_year, self.end_year)
        if rule.end_md:
            return start, _day(rule.end_anchor, rule.end_md, self.start_year, self.end_year)
        if n is None:
            return start, None
        if relation == "after" and unit == "days":
            return start, _count(start, n, 1, unit)
        return start, _count(_first(start, 1, unit), n, 1, unit)


def programme_calendar(
    starts: pd.DataFrame,
    *,
    preset: str,
    calendar: str | Path | None = None,
    publicity_start: dt.date | None = None,
    publicity_working_days: int | None = None,
    build_years: int = 1,
) -> pd.DataFrame:
    """Return the dated milestones of every community, from 摸底调查 to 长效管理.

    Dates follow the preset's rows of the calendar (its own seed) and the ``default`` rows
    for what that seed does not date (``assumed`` True, the note names the seed borrowed).
    Communities with the same ``start_year`` share every date.

    Parameters
    ----------
    starts
        ``community_id`` and ``start_year`` (the year works start: plan or rollout table).
        Rows without a ``start_year`` (never chosen) are left out, with a log line.
    preset
        ``national``, ``linyi``, ``linxia``, ``tongnan``, ``litong`` or a preset of a user
        calendar; a preset without rows of its own gets the ``default`` rows.
    calendar
        A user calendar CSV of the same columns (see module docstring); None: the packaged one.
    publicity_start
        The day the 公示 notice is posted (scenario ``plan.publicity_start``). It applies to the
        communities of the earliest ``start_year`` (the plan being submitted); later years are
        scheduled by the rule. A 公示 ending after the 提报 deadline is warned about
        (:class:`~gisplan.errors.GisplanWarning` and the log), naming both days. None: every
        公示 is the latest window of working days that ends by the deadline.
    publicity_working_days
        Length of 公示 in working days; None takes the calendar's (5, Linyi 2020 二(一)3).
    build_years
        Years of works; 施工 runs from April of ``start_year`` to October of
        ``start_year + build_years - 1`` (the ``end_year`` anchor).

    Returns
    -------
    pandas.DataFrame
        One row per community and milestone (communities in input order, milestones by
        ``seq``): ``community_id, start_year, milestone, milestone_zh, seq, start, end``
        (``datetime.date``; ``end`` None when open-ended), ``working_days`` (Int64, for
        working-day milestones), ``source`` (seed and section), ``assumed`` (bool), ``note``.

    Raises
    ------
    ScenarioError
        Missing ``starts`` columns, a bad calendar, ``build_years`` < 1, or a working-day
        milestone in a year whose official holidays ``chinesecalendar`` does not know.

    Examples
    --------
    >>> starts = pd.DataFrame({"community_id": ["C1"], "start_year": [2026]})
    >>> cal = gisplan.schedule.programme_calendar(starts, preset="linyi").set_index("milestone")
    >>> str(cal.loc["submission", "end_date"]), str(cal.loc["publicity", "start_date"])
    ('2025-09-30', '2025-09-25')
    """
    missing = [c for c in ("community_id", "start_year") if c not in starts.columns]
    if missing:
        raise ScenarioError(
            f"programme_calendar: starts lacks column(s) {', '.join(missing)}; pass the plan "
            "or rollout table (community_id, start_year)"
        )
    if build_years < 1:
        raise ScenarioError(f"programme_calendar: build_years must be 1 or more, got {build_years}")
    rules = dict(_rules(read_calendar(calendar), preset))
    if publicity_working_days is not None and _PUBLICITY in rules:
        if publicity_working_days < 1:
            raise ScenarioError(
                f"programme_calendar: publicity_working_days must be 1 or more, "
                f"got {publicity_working_days}"
            )
        rules[_PUBLICITY] = replace(rules[_PUBLICITY], offset=publicity_working_days)
    years = pd.to_numeric(starts["start_year"], errors="coerce")
    chosen = starts.loc[years.notna(), ["community_id"]].assign(start_year=years.dropna())
    if len(chosen) < len(starts):
        logger.info(
            "programme calendar: %d communities without start_year left out",
            len(starts) - len(chosen),
        )
    ordered = sorted(rules.values(), key=lambda r: (r.seq, r.milestone))
    first_year = int(chosen["start_year"].min()) if len(chosen) else None
    spans: dict[int, dict[str, tuple[dt.date, dt.date | None]]] = {}
    for year in sorted({int(y) for y in chosen["start_year"]}):
        resolver = _Resolver(rules, year, year + build_years - 1)
        if publicity_start is not None and year == first_year and _PUBLICITY in rules:
            resolver.fixed[_PUBLICITY] = _given_publicity(rules, resolver, publicity_start)
        spans[year] = {r.milestone: resolver.get(r.milestone) for r in ordered}
    records = [
        {
            "community_id": cid,
            "start_year": int(year),
            "milestone": r.milestone,
            "milestone_zh": r.milestone_zh,
            "seq": r.seq,
            "start_date": spans[int(year)][r.milestone][0],
            "end_date": spans[int(year)][r.milestone][1],
            "working_days": r.offset if r.unit == "working_days" else None,
            "basis": r.source,
            "assumed": r.assumed,
            "note": r.note,
        }
        for cid, year in zip(chosen["community_id"], chosen["start_year"], strict=True)
        for r in ordered
    ]
    out = pd.DataFrame(records, columns=list(OUTPUT_COLUMNS))
    out["start_year"] = out["start_year"].astype("int64")
    out["seq"] = out["seq"].astype("int64")
    out["working_days"] = out["working_days"].astype("Int64")
    out["assumed"] = out["assumed"].astype(bool)
    result: pd.DataFrame = out
    return result


def _given_publicity(
    rules: Mapping[str, _Rule], resolver: _Resolver, start: dt.date
) -> tuple[dt.date, dt.date]:
    rule = rules[_PUBLICITY]
    n = rule.offset or 1
    try:
        first = _first(start, 1, "working_days")
        last = _count(first, n, 1, "working_days")
    except ScenarioError as err:
        raise ScenarioError(f"{rule.milestone_zh} ({_PUBLICITY}): {err}") from err
    relation, _, other = rule.start_anchor.partition(":")
    if relation == "by":
        deadline = resolver.get(other)[1]
        if deadline is not None and last > deadline:
            zh = rules[other].milestone_zh if other in rules else other
            msg = (
                f"{rule.milestone_zh}（{first}至{last}）晚于{zh}截止日{deadline}"
                f"（{rule.source}：公示结束后提报），请提前公示或推迟一年开工 — publicity "
                f"{first}..{last} ends after the {other} deadline {deadline} of works starting "
                f"{resolver.start_year}; set plan.publicity_start earlier or start a year later"
            )
            logger.warning("%s", msg)
            warnings.warn(msg, GisplanWarning, stacklevel=3)
    return first, last


def _cjk_fonts() -> list[str]:
    """Return the installed CJK font families to try, then DejaVu Sans (for Latin/digits)."""
    from matplotlib import font_manager  # noqa: PLC0415

    installed = {f.name for f in font_manager.fontManager.ttflist}
    found = [name for name in CJK_FONT_FAMILIES if name in installed]
    if not found:
        logger.warning(
            "gantt: no CJK font installed (tried %s); Chinese labels show as boxes; "
            "install fonts-noto-cjk",
            ", ".join(CJK_FONT_FAMILIES),
        )
    return [*found, "DejaVu Sans"]


def _as_date(value: object) -> dt.date:
    """Return a calendar date from a ``date``, a ``Timestamp`` or ISO text (``2026-09-30``)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def gantt_figure(calendar: pd.DataFrame, year: int, path: Path, *, title: str) -> Path:
    """Draw the programme of the communities whose works start in ``year`` as a Gantt PNG.

    One bar row per milestone, not per community: every date depends only on ``start_year``
    (and the preset), so the communities of one year share every bar and per-community rows
    would repeat the same bar; the bar label gives the number of communities instead.
    Milestones on a borrowed or assumed date are hatched and say 假设 in the legend; an
    open-ended milestone (长效管理) runs to the right edge. The PNG carries no software or
    time stamp, so the same table gives the same bytes.

    Parameters
    ----------
    calendar
        The table of :func:`programme_calendar`.
    year
        The ``start_year`` to draw.
    path
        The PNG to write (its folder must exist).
    title
        Chart title (Chinese is fine: Noto Sans CJK SC is used when installed).

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    ScenarioError
        If no community starts works in ``year``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> starts = pd.DataFrame({"community_id": ["C1", "C2"], "start_year": [2026, 2026]})
    >>> cal = gisplan.schedule.programme_calendar(starts, preset="litong")
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     png = pathlib.Path(folder) / "实施计划.png"
    ...     gisplan.schedule.gantt_figure(cal, 2026, png, title="实施计划").read_bytes()[1:4]
    b'PNG'
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415
    from matplotlib.figure import Figure  # noqa: PLC0415
    from matplotlib.patches import Patch  # noqa: PLC0415

    rows = calendar[calendar["start_year"].astype(int) == year].copy()
    for column in ("start_date", "end_date"):  # dates, or ISO text read back from a run
        rows[column] = [None if pd.isna(v) else _as_date(v) for v in rows[column]]
    if rows.empty:
        have = sorted({int(y) for y in calendar["start_year"]})
        raise ScenarioError(
            f"gantt_figure: no community starts works in {year}; years in the table: "
            f"{', '.join(map(str, have)) or 'none'}"
        )
    n_comm = rows["community_id"].nunique()
    groups = rows.groupby(["seq", "milestone"], sort=True)
    bars = []
    for (_, _code), grp in groups:
        ends = [e for e in grp["end_date"] if e is not None and not pd.isna(e)]
        bars.append(
            (
                str(grp["milestone_zh"].iloc[0]),
                min(grp["start_date"]),
                max(ends) if len(ends) == len(grp) else None,
                bool(grp["assumed"].any()),
            )
        )
    left = min(b[1] for b in bars).replace(day=1)
    right_day = max([b[2] for b in bars if b[2] is not None] + [b[1] for b in bars])
    right = (right_day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)

    def date2num(day: dt.date) -> int:
        return int((day - left).days)

    fonts = _cjk_fonts()
    height = 1.2 + 0.42 * len(bars)
    fig = Figure(figsize=(11, height), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    for i, (_label, start, end, assumed) in enumerate(bars):
        stop = right if end is None else end + dt.timedelta(days=1)
        x0 = date2num(start)
        ax.barh(
            i,
            date2num(stop) - x0,
            left=x0,
            height=0.6,
            color="#f2b880" if assumed else "#3b7dd8",
            hatch="//" if assumed else None,
            edgecolor="#8a5a2b" if assumed else "#1f4f99",
            linewidth=0.6,
        )
        if end is None:
            when = f"{start:%Y-%m-%d}起，持续"
        else:
            when = f"{start:%Y-%m-%d}" + (
                "" if end == start else f"～{end:%m-%d}" if end.year == start.year else f"～{end}"
            )
        ax.text(date2num(stop) + 2, i, when, va="center", fontsize=8, fontfamily=fonts)
    ax.set_yticks(range(len(bars)), [b[0] for b in bars], fontfamily=fonts, fontsize=9)
    ax.invert_yaxis()
    ax.set_xlim(date2num(left), date2num(right) + 75)
    ticks = [
        dt.date(y, m, 1)
        for y in range(left.year, right.year + 1)
        for m in (1, 4, 7, 10)
        if left <= dt.date(y, m, 1) <= right
    ]
    ax.set_xticks([date2num(t) for t in ticks], [f"{t:%Y-%m}" for t in ticks])
    ax.tick_params(axis="x", labelsize=8)
    ax.grid(axis="x", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    ax.set_title(f"{title}（{year}年开工，{n_comm}个小区）", fontfamily=fonts, fontsize=11)
    ax.legend(
        handles=[
            Patch(facecolor="#3b7dd8", edgecolor="#1f4f99", label="本地政策给出日期"),
            Patch(facecolor="#f2b880", edgecolor="#8a5a2b", hatch="//", label="参照他地或假设"),
        ],
        loc="upper right",
        prop={"family": fonts, "size": 8},
    )
    fig.tight_layout()
    fig.savefig(path, format="png", metadata={"Software": None})
    return path
