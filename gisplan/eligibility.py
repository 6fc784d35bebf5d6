"""Eligibility for old-community renovation (纳入改造范围): who qualifies and why.

:func:`assess` checks every community against the rules of POLICY.md §1–2 and returns one
row per community with a status, the reason codes of the rules that decided it, Chinese
reason text, and the outcome (``"pass"`` / ``"fail"`` / ``"unknown"``) of each rule:

* ``rule_built_year`` — built on or before the cut-off: ``built_year <= cutoff.year``;
* ``rule_land`` — on urban state-owned land (``land_tenure == "国有"``; ``集体`` fails,
  ``其他`` and blanks are unknown);
* ``rule_expropriation`` — no expropriation planned up to ``plan_year + N``; a blank
  ``planned_expropriation_year`` cell means "none planned" (as the layer schema defines it),
  a missing column means "not surveyed" (unknown);
* ``rule_demolition`` — no demolish-and-rebuild planned;
* ``rule_shantytown`` — not already rebuilt under shantytown renovation;
* ``rule_consent`` — participation and approval rates reach the thresholds (national notice
  item 7); blanks are unknown;
* ``rule_property_mgmt`` — property-management model agreed (national notice item 8): a gate
  before works start, not before the plan, so it never changes the status, only adds a note.

Status, by priority: any scope or exclusion rule (built year, land, expropriation,
demolition, shantytown) fails → ``not_eligible``; else any of them unknown → ``unknown``
(待核实, needs a survey — missing data never passes silently); else consent below the
thresholds or missing → ``eligible_waiting_consent``; else ``eligible``.

Communities already renovated with central subsidy (``subsidised_items``) stay eligible, but
those catalogue items cannot take central subsidy again (Linxia); ``central_subsidy_note``
lists them.

Every threshold is a field of :class:`EligibilityRules`; :data:`PRESETS` hold the seed
cities' values, each with its source sentence in :data:`PRESET_SOURCES`.
No function modifies its inputs.
"""

from __future__ import annotations

import datetime as dt
import difflib
import logging
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from gisplan._text import is_blank, is_number
from gisplan.errors import LayerError, ScenarioError, SchemaError
from gisplan.vocabulary import labels

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

__all__ = [
    "OUTCOMES",
    "OUTCOME_ZH",
    "PRESETS",
    "PRESET_SOURCES",
    "REASONS",
    "RULE_COLUMNS",
    "STATUSES",
    "STATUS_ZH",
    "EligibilityRules",
    "assess",
    "preset",
]

logger = logging.getLogger(__name__)

Outcome = Literal["pass", "fail", "unknown"]
#: Outcomes of one rule for one community.
OUTCOMES: tuple[str, ...] = ("pass", "fail", "unknown")

#: Statuses, in the order of the decision (first match wins, read bottom-up).
STATUSES: tuple[str, ...] = ("eligible", "eligible_waiting_consent", "not_eligible", "unknown")

#: Chinese text of every status.
STATUS_ZH: Mapping[str, str] = labels("eligibility_status")

#: Rule outcome columns of :func:`assess`, in output order.
RULE_COLUMNS: tuple[str, ...] = (
    "rule_built_year",
    "rule_land",
    "rule_expropriation",
    "rule_demolition",
    "rule_shantytown",
    "rule_consent",
    "rule_property_mgmt",
)
#: Rules whose failure excludes a community (scope and exclusions; consent is a gate).
_SCOPE_RULES: tuple[str, ...] = RULE_COLUMNS[:5]

#: Reason code → (Chinese template, English template); fields are filled by :func:`assess`.
REASONS: dict[str, tuple[str, str]] = {
    "BUILT_BY_CUTOFF": (
        "建成于{built_year}年，不晚于改造范围截止时间{cutoff_zh}（{source_zh}）",
        "built in {built_year}, not after the cut-off {cutoff} ({source_zh})",
    ),
    "BUILT_AFTER_CUTOFF": (
        "建成于{built_year}年，晚于改造范围截止时间{cutoff_zh}（{source_zh}）",
        "built in {built_year}, after the cut-off {cutoff} ({source_zh})",
    ),
    "BUILT_YEAR_MISSING": (
        "建成年份缺失，需补充调查",
        "built year missing; survey needed",
    ),
    "STATE_LAND": ("位于城镇国有土地", "on urban state-owned land"),
    "COLLECTIVE_LAND": (
        "土地性质为集体土地，不属于城镇国有土地上的住宅小区",
        "on collective land, not urban state-owned land",
    ),
    "LAND_OTHER": (
        "土地性质为“其他”，需核实是否为国有土地",
        "land tenure 'other'; check whether it is state-owned",
    ),
    "LAND_MISSING": ("土地性质缺失，需补充调查", "land tenure missing; survey needed"),
    "EXPROPRIATION_PLANNED": (
        (
            "计划于{expropriation_year}年征收，在{plan_year}年计划起{years}年内"
            "（{limit_year}年及以前），不纳入改造范围"
        ),
        (
            "expropriation planned in {expropriation_year}, within {years} years of the "
            "{plan_year} plan (up to {limit_year}); excluded"
        ),
    ),
    "NO_EXPROPRIATION_SOON": (
        "{limit_year}年及以前无征收计划",
        "no expropriation planned up to {limit_year}",
    ),
    "EXPROPRIATION_UNKNOWN": (
        "征收计划未调查，需补充调查",
        "expropriation plans not surveyed; survey needed",
    ),
    "DEMOLITION_PLANNED": (
        "拟以拆除新建（含改建、扩建、翻建）方式实施改造，不纳入改造范围",
        "demolish-and-rebuild planned; excluded",
    ),
    "NO_DEMOLITION": ("无拆除新建计划", "no demolish-and-rebuild planned"),
    "DEMOLITION_UNKNOWN": (
        "是否拟拆除重建未填写，需补充调查",
        "demolition plans missing; survey needed",
    ),
    "SHANTYTOWN_RENOVATED": (
        "已实施过城镇棚户区改造，不纳入改造范围",
        "already rebuilt under shantytown renovation; excluded",
    ),
    "NOT_SHANTYTOWN": ("未实施过棚户区改造", "not rebuilt under shantytown renovation"),
    "SHANTYTOWN_UNKNOWN": (
        "是否已实施棚改未填写，需补充调查",
        "shantytown renovation unknown; survey needed",
    ),
    "CONSENT_MET": (
        "居民参与率{participation_pct}、同意率{approval_pct}，均达到{threshold_zh}",
        "participation {participation_pct} and approval {approval_pct} reach {threshold}",
    ),
    "PARTICIPATION_BELOW": (
        "居民参与率{participation_pct}，低于{min_participation_pct}，暂不纳入年度计划",
        "participation {participation_pct} below {min_participation_pct}; not yet in the plan",
    ),
    "APPROVAL_BELOW": (
        "居民同意率{approval_pct}，低于{min_approval_pct}，暂不纳入年度计划",
        "approval {approval_pct} below {min_approval_pct}; not yet in the plan",
    ),
    "CONSENT_MISSING": (
        "居民参与率或同意率未调查，待征求居民意愿",
        "participation or approval rate not surveyed; consult residents",
    ),
    "PROPERTY_MGMT_PENDING": (
        "改造后物业管理模式尚未经居民确认，开工前须确认",
        "property-management model not yet agreed; required before works start",
    ),
    "CENTRAL_SUBSIDY_USED": (
        "清单第{items}项已获中央补助改造，同一内容不得重复使用中央补助资金",
        "catalogue item(s) {items} already centrally subsidised; no central subsidy again",
    ),
}

#: Chinese text of a rule outcome (for the Excel export).
OUTCOME_ZH: Mapping[str, str] = labels("rule_outcome")

_MAX_LISTED = 10


# --------------------------------------------------------------------------- rules


@dataclass(frozen=True, kw_only=True, slots=True)
class EligibilityRules:
    """Thresholds of the eligibility step; defaults are the national ones (POLICY.md §1–2).

    Parameters
    ----------
    cutoff
        Built on or before this date; compared by year (``built_year <= cutoff.year``)
        because layers record years. Default end of 2000 (国办发〔2020〕23号, Linxia,
        Tongnan).
    expropriation_within_years
        A community with expropriation planned in a year ``<= plan_year + N`` is excluded
        (Linxia: 五年内拟征收补偿安置的不纳入). Default 5; must be >= 0.
    plan_year
        Year the plan is for. ``None`` (default) means next year: the current year + 1, read
        when :func:`assess` runs (and logged). Name it in scenarios for reproducible runs.
    min_participation, min_approval
        Participation and approval thresholds as fractions 0–1 (national notice item 7;
        "双三分之二" locally). Default 2/3. A value above 1 is refused: write 0.67, not 67.
    require_state_land
        Require ``land_tenure == "国有"`` (default ``True``). ``False`` skips the rule
        (every community passes it).
    require_property_mgmt_before_works
        Note communities whose property-management model is not yet agreed (national
        notice item 8). A gate before works, so it never changes the status.
    source_zh
        Short Chinese name of the rules' source, quoted in the reason text.

    Raises
    ------
    ScenarioError
        If a threshold is out of range (every problem listed).

    Examples
    --------
    >>> EligibilityRules(min_participation=0.8).min_participation
    0.8
    >>> EligibilityRules(min_approval=67)
    Traceback (most recent call last):
    ...
    gisplan.errors.ScenarioError: EligibilityRules.min_approval = 67 is above 1; ...
    """

    cutoff: dt.date = dt.date(2000, 12, 31)
    expropriation_within_years: int = 5
    plan_year: int | None = None
    min_participation: float = 2 / 3
    min_approval: float = 2 / 3
    require_state_land: bool = True
    require_property_mgmt_before_works: bool = True
    source_zh: str = "国办发〔2020〕23号"

    def __post_init__(self) -> None:
        """Check every field; raise once listing all problems."""
        problems: list[tuple[str, str, str]] = []
        if not isinstance(self.cutoff, dt.date) or isinstance(self.cutoff, dt.datetime):
            problems.append(
                ("cutoff", f"{self.cutoff!r} is not a date", "write a date such as 2000-12-31")
            )
        years = self.expropriation_within_years
        if not isinstance(years, (int, np.integer)) or isinstance(years, bool) or years < 0:
            problems.append(
                (
                    "expropriation_within_years",
                    f"{years!r} is not a whole number of years >= 0",
                    "write a number of years such as 5",
                )
            )
        if self.plan_year is not None and (
            not isinstance(self.plan_year, (int, np.integer)) or isinstance(self.plan_year, bool)
        ):
            problems.append(
                ("plan_year", f"{self.plan_year!r} is not a year", "write a year such as 2026")
            )
        for key in ("min_participation", "min_approval"):
            value = getattr(self, key)
            if not (is_number(value) and math.isfinite(float(value))):
                problems.append(
                    (key, f"{value!r} is not a number", "write a fraction such as 0.67")
                )
            elif float(value) > 1:
                problems.append(
                    (
                        key,
                        f"{value!r} is above 1; rates are fractions 0–1",
                        f"write {float(value) / 100:.2f}, not {value!r}",
                    )
                )
            elif float(value) < 0:
                problems.append((key, f"{value!r} is negative", "write a fraction between 0 and 1"))
        if problems:
            raise ScenarioError(
                "\n".join(f"EligibilityRules.{k} = {p}; {fix}" for k, p, fix in problems),
                [(f"eligibility.{k}", p, fix) for k, p, fix in problems],
            )

    def resolved_plan_year(self) -> int:
        """Return :attr:`plan_year`, or the current year + 1 when it is ``None``."""
        if self.plan_year is not None:
            return int(self.plan_year)
        return dt.datetime.now(tz=dt.timezone.utc).year + 1


_DEFAULT_RULES = EligibilityRules()


def _preset(cutoff: dt.date, source_zh: str) -> EligibilityRules:
    return EligibilityRules(cutoff=cutoff, source_zh=source_zh)


#: Rules of the seed cities and the national floor.
PRESETS: dict[str, EligibilityRules] = {
    "national": _preset(dt.date(2000, 12, 31), "国办发〔2020〕23号"),
    "linxia": _preset(dt.date(2000, 12, 31), "临夏州实施方案"),
    "tongnan": _preset(dt.date(2000, 12, 31), "潼南区实施方案"),
    "linyi": _preset(dt.date(2005, 12, 31), "临沂市实施方案"),
}

#: Where each preset's cut-off comes from: seed file and the sentence.
PRESET_SOURCES: dict[str, str] = {
    "national": (
        "mohurd_2021_requirements_notice.txt (二): 严禁将不符合当地城镇老旧小区改造对象范围条件的"
        "小区纳入改造计划; (七): 参与率、同意率达到当地规定比例的，方可纳入改造计划. The 2000 "
        "cut-off itself is 国办发〔2020〕23号 (原则上指2000年底前建成), cited by "
        "litong_2023_implementation_plan_draft.txt (一) but not itself among the seeds."
    ),
    "linxia": (
        "linxia_2020_implementation_plan.txt: 重点改造2000年底前建成…的城镇老旧小区; "
        "五年内拟对居民进行征收补偿安置的、拟以拆除新建…方式实施改造的、已实施过城镇棚户区改造"
        "…的住宅小区，不纳入改造范围."
    ),
    "tongnan": (
        "tongnan_2021_implementation_plan.txt (一) 实施范围: 主要是2000年以前建成的…住宅小区"
        "（含单栋住宅楼）; 逐步对2005年底前建成的居住条件较差的城镇老旧小区实施改造提升 "
        "(the gradual 2005 extension: use cutoff 2005-12-31)."
    ),
    "linyi": (
        "linyi_2020_implementation_plan.txt (一) 改造范围: 2005年12月31日前在城市或县城国有土地上"
        "建成…的住宅小区（不含住宅拆除新建）."
    ),
}


def preset(name: str) -> EligibilityRules:
    """Return the rules of a seed city (or ``"national"``).

    Parameters
    ----------
    name
        One of the keys of :data:`PRESETS` (case and surrounding spaces ignored).

    Returns
    -------
    EligibilityRules
        The preset; change a field with :func:`dataclasses.replace`.

    Raises
    ------
    ScenarioError
        If the name is not a preset (with the closest names as "did you mean").

    Examples
    --------
    >>> gisplan.eligibility.preset("linyi").cutoff
    datetime.date(2005, 12, 31)
    """
    key = str(name).strip().lower()
    if key in PRESETS:
        return PRESETS[key]
    close = difflib.get_close_matches(key, list(PRESETS), n=3, cutoff=0.5)
    hint = f"did you mean {' or '.join(repr(c) for c in close)}? " if close else ""
    problem = f"unknown eligibility preset {name!r}"
    fix = f"{hint}presets: {', '.join(sorted(PRESETS))}"
    raise ScenarioError(f"{problem}; {fix}", [("eligibility.preset", problem, fix)])


# --------------------------------------------------------------------------- cell readers

_TRUE = {"是", "true", "yes", "y", "1"}
_FALSE = {"否", "false", "no", "n", "0"}


def _year(value: object) -> int | None:
    """Read a year cell as int, ``None`` if blank; raises ValueError if not a year."""
    if is_blank(value):
        return None
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(value)
    number = float(str(value).strip()) if isinstance(value, str) else float(value)  # type: ignore[arg-type]
    if not number.is_integer():
        raise ValueError(value)
    return int(number)


def _flag(value: object) -> bool | None:
    """Read a boolean cell, ``None`` if blank; raises ValueError if not yes/no."""
    if is_blank(value):
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(value)


def _rate(value: object) -> float | None:
    """Read a rate cell (fraction 0–1), ``None`` if blank; raises ValueError otherwise."""
    if is_blank(value):
        return None
    if not is_number(value):
        raise ValueError(value)
    number = float(value)  # type: ignore[arg-type]
    if not 0 <= number <= 1:
        raise ValueError(value)
    return number


def _items(value: object) -> tuple[int, ...]:
    """Subsidised catalogue items as sorted ints; blank → ()."""
    if isinstance(value, (tuple, list, set, frozenset, np.ndarray)):
        raw: list[object] = list(value)
    elif is_blank(value):
        return ()
    elif isinstance(value, str):
        raw = [p for p in value.replace("、", ",").replace("，", ",").split(",") if p.strip()]
    else:
        raw = [value]
    return tuple(sorted({int(float(str(v).strip())) for v in raw}))


# --------------------------------------------------------------------------- assessment


def _pct(value: float) -> str:
    """Return a fraction as a percentage with at most one decimal: 0.8 → 80%, 2/3 → 66.7%."""
    return f"{value * 100:.1f}".rstrip("0").rstrip(".") + "%"


def _threshold_zh(rules: EligibilityRules) -> str:
    if math.isclose(rules.min_participation, 2 / 3) and math.isclose(rules.min_approval, 2 / 3):
        return "三分之二"
    return f"参与率{_pct(rules.min_participation)}、同意率{_pct(rules.min_approval)}的要求"


def _cutoff_zh(cutoff: dt.date) -> str:
    if (cutoff.month, cutoff.day) == (12, 31):
        return f"{cutoff.year}年底"
    return f"{cutoff.year}年{cutoff.month}月{cutoff.day}日"


@dataclass(frozen=True, slots=True)
class _Row:
    """One community's cells, read and checked."""

    built_year: int | None
    land: str | None
    expropriation_year: int | None
    expropriation_known: bool
    demolition: bool | None
    shantytown: bool | None
    participation: float | None
    approval: float | None
    property_mgmt: bool | None
    items: tuple[int, ...]


_READERS: dict[str, tuple[Callable[[object], Any], str]] = {
    "built_year": (_year, "write a 4-digit year such as 1995 (or leave blank: unknown)"),
    "planned_expropriation_year": (_year, "write a 4-digit year, or leave blank if none"),
    "demolition_planned": (_flag, "write 是 or 否 (true/false)"),
    "shantytown_renovated": (_flag, "write 是 or 否 (true/false)"),
    "property_mgmt_agreed": (_flag, "write 是 or 否 (true/false)"),
    "participation_rate": (
        _rate,
        "rates are fractions 0–1: write 0.67, not 67 (gisplan.layers reads 67 or 67% as 0.67)",
    ),
    "approval_rate": (
        _rate,
        "rates are fractions 0–1: write 0.67, not 67 (gisplan.layers reads 67 or 67% as 0.67)",
    ),
    "subsidised_items": (_items, "write catalogue numbers separated by 、 or , such as 1、3"),
}


def _try_read(reader: Callable[[object], Any], raw: object) -> tuple[Any, bool]:
    try:
        return reader(raw), True
    except (TypeError, ValueError):
        return None, False


def _read_rows(frame: pd.DataFrame) -> list[_Row]:
    """Read every cell; collect every bad cell and raise once."""
    problems: list[str] = []
    cols: dict[str, list[Any]] = {}
    ids = frame["community_id"].tolist()
    for column, (reader, fix) in _READERS.items():
        if column not in frame.columns:
            cols[column] = [None] * len(frame)
            continue
        values: list[Any] = []
        for cid, raw in zip(ids, frame[column].tolist(), strict=True):
            value, ok = _try_read(reader, raw)
            if not ok:
                problems.append(f"{cid} · {column} = {raw!r}: {fix}")
            values.append(value)
        cols[column] = values
    lands: list[str | None] = []
    if "land_tenure" in frame.columns:
        for cid, raw in zip(ids, frame["land_tenure"].tolist(), strict=True):
            text = None if is_blank(raw) else str(raw).strip()
            if text is not None and text not in {"国有", "集体", "其他"}:
                problems.append(f"{cid} · land_tenure = {raw!r}: write 国有, 集体 or 其他")
                text = None
            lands.append(text)
    else:
        lands = [None] * len(frame)
    if problems:
        more = len(problems) - _MAX_LISTED
        shown = problems[:_MAX_LISTED] + ([f"... and {more} more"] if more > 0 else [])
        raise LayerError("communities: bad eligibility values:\n  " + "\n  ".join(shown))
    known = "planned_expropriation_year" in frame.columns
    return [
        _Row(
            built_year=cols["built_year"][i],
            land=lands[i],
            expropriation_year=cols["planned_expropriation_year"][i],
            expropriation_known=known,
            demolition=cols["demolition_planned"][i],
            shantytown=cols["shantytown_renovated"][i],
            participation=cols["participation_rate"][i],
            approval=cols["approval_rate"][i],
            property_mgmt=cols["property_mgmt_agreed"][i],
            items=cols["subsidised_items"][i] or (),
        )
        for i in range(len(frame))
    ]


_Verdict = tuple[Outcome, list[str]]


def _built(row: _Row, rules: EligibilityRules) -> _Verdict:
    if row.built_year is None:
        return "unknown", ["BUILT_YEAR_MISSING"]
    if row.built_year <= rules.cutoff.year:
        return "pass", ["BUILT_BY_CUTOFF"]
    return "fail", ["BUILT_AFTER_CUTOFF"]


_LAND_VERDICTS: dict[str, tuple[Outcome, str]] = {
    "国有": ("pass", "STATE_LAND"),
    "集体": ("fail", "COLLECTIVE_LAND"),
    "其他": ("unknown", "LAND_OTHER"),
}


def _land(row: _Row, rules: EligibilityRules) -> _Verdict:
    if not rules.require_state_land:
        return "pass", []
    outcome, code = _LAND_VERDICTS.get(row.land or "", ("unknown", "LAND_MISSING"))
    return outcome, [code]


def _expropriation(row: _Row, limit_year: int) -> _Verdict:
    if not row.expropriation_known:
        return "unknown", ["EXPROPRIATION_UNKNOWN"]
    if row.expropriation_year is not None and row.expropriation_year <= limit_year:
        return "fail", ["EXPROPRIATION_PLANNED"]
    return "pass", ["NO_EXPROPRIATION_SOON"]


def _flag_rule(value: bool | None, codes: tuple[str, str, str]) -> _Verdict:
    fail, ok, unknown = codes
    if value is None:
        return "unknown", [unknown]
    return ("fail", [fail]) if value else ("pass", [ok])


def _consent(row: _Row, rules: EligibilityRules) -> _Verdict:
    if row.participation is None or row.approval is None:
        return "unknown", ["CONSENT_MISSING"]
    codes = []
    if row.participation < rules.min_participation:
        codes.append("PARTICIPATION_BELOW")
    if row.approval < rules.min_approval:
        codes.append("APPROVAL_BELOW")
    return ("fail", codes) if codes else ("pass", ["CONSENT_MET"])


def _assess_row(
    row: _Row, rules: EligibilityRules, plan_year: int
) -> tuple[str, list[str], dict[str, Outcome]]:
    limit_year = plan_year + rules.expropriation_within_years
    verdicts: dict[str, _Verdict] = {
        "rule_built_year": _built(row, rules),
        "rule_land": _land(row, rules),
        "rule_expropriation": _expropriation(row, limit_year),
        "rule_demolition": _flag_rule(
            row.demolition, ("DEMOLITION_PLANNED", "NO_DEMOLITION", "DEMOLITION_UNKNOWN")
        ),
        "rule_shantytown": _flag_rule(
            row.shantytown, ("SHANTYTOWN_RENOVATED", "NOT_SHANTYTOWN", "SHANTYTOWN_UNKNOWN")
        ),
        "rule_consent": _consent(row, rules),
    }
    mgmt: Outcome = (
        "unknown" if row.property_mgmt is None else ("pass" if row.property_mgmt else "fail")
    )
    outcomes: dict[str, Outcome] = {k: v[0] for k, v in verdicts.items()}
    outcomes["rule_property_mgmt"] = mgmt

    def codes_of(rule_names: Sequence[str], outcome: Outcome) -> list[str]:
        return [c for r in rule_names if verdicts[r][0] == outcome for c in verdicts[r][1]]

    if "fail" in (outcomes[r] for r in _SCOPE_RULES):
        return "not_eligible", codes_of(_SCOPE_RULES, "fail"), outcomes
    if "unknown" in (outcomes[r] for r in _SCOPE_RULES):
        return "unknown", codes_of(_SCOPE_RULES, "unknown"), outcomes
    pending = ["PROPERTY_MGMT_PENDING"] if rules.require_property_mgmt_before_works else []
    pending = pending if mgmt != "pass" else []
    if outcomes["rule_consent"] != "pass":
        return "eligible_waiting_consent", [*verdicts["rule_consent"][1], *pending], outcomes
    return "eligible", [*codes_of(RULE_COLUMNS[:6], "pass"), *pending], outcomes


def _text(code: str, row: _Row, rules: EligibilityRules, plan_year: int) -> str:
    template = REASONS[code][0]
    return template.format(
        built_year=row.built_year,
        cutoff_zh=_cutoff_zh(rules.cutoff),
        cutoff=rules.cutoff.isoformat(),
        source_zh=rules.source_zh,
        expropriation_year=row.expropriation_year,
        plan_year=plan_year,
        years=rules.expropriation_within_years,
        limit_year=plan_year + rules.expropriation_within_years,
        participation_pct=None if row.participation is None else _pct(row.participation),
        approval_pct=None if row.approval is None else _pct(row.approval),
        min_participation_pct=_pct(rules.min_participation),
        min_approval_pct=_pct(rules.min_approval),
        threshold_zh=_threshold_zh(rules),
        items="、".join(map(str, row.items)),
    )


_OUTPUT_COLUMNS = [
    "community_id",
    "name",
    "status",
    "status_zh",
    "reason_codes",
    "reasons_zh",
    *RULE_COLUMNS,
    "central_subsidy_note",
]


def assess(communities: pd.DataFrame, *, rules: EligibilityRules = _DEFAULT_RULES) -> pd.DataFrame:
    """Decide, per community, whether it may enter the renovation programme, and why.

    Parameters
    ----------
    communities
        Communities layer (a GeoDataFrame works; geometry is not used). Columns
        ``community_id`` and ``name`` are required; ``built_year``, ``land_tenure``,
        ``planned_expropriation_year``, ``demolition_planned``, ``shantytown_renovated``,
        ``participation_rate``, ``approval_rate`` (fractions 0–1), ``property_mgmt_agreed``
        and ``subsidised_items`` are read when present. A column that is absent makes its
        rule ``"unknown"`` for every community (not surveyed); a blank cell does too, except
        ``planned_expropriation_year`` (blank = none planned) and ``subsidised_items``
        (blank = none).
    rules
        Thresholds; default :class:`EligibilityRules` () (national, end of 2000). See
        :func:`preset`.

    Returns
    -------
    pandas.DataFrame
        One row per community, same index and order: ``community_id``, ``name``,
        ``status`` (:data:`STATUSES`), ``status_zh``, ``reason_codes`` (tuple of
        :data:`REASONS` keys of the rules that decided the status), ``reasons_zh`` (their
        Chinese text joined by "；"), one ``rule_*`` column per rule (``"pass"`` /
        ``"fail"`` / ``"unknown"``, :data:`RULE_COLUMNS`) and ``central_subsidy_note``
        (catalogue items that cannot take central subsidy again; ``""`` if none).

    Raises
    ------
    SchemaError
        If ``community_id`` or ``name`` is missing.
    LayerError
        If ids repeat or a cell cannot be read (a rate above 1, a year that is not a
        year, ...); every bad cell is listed.

    Examples
    --------
    >>> df = pd.DataFrame({"community_id": ["C1", "C2"], "name": ["甲", "乙"],
    ...                    "built_year": [1995, 2008]})
    >>> out = gisplan.eligibility.assess(df, rules=gisplan.eligibility.preset("linxia"))
    >>> out[["status", "rule_built_year"]].to_numpy().tolist()
    [['unknown', 'pass'], ['not_eligible', 'fail']]
    """
    missing = [c for c in ("community_id", "name") if c not in communities.columns]
    if missing:
        raise SchemaError(
            f"communities: column(s) {', '.join(map(repr, missing))} missing (columns: "
            f"{', '.join(map(str, communities.columns))}); add them or read the layer with "
            "gisplan.layers, which maps aliases such as 小区编号 / 小区名称"
        )
    dup = communities["community_id"][communities["community_id"].duplicated()].unique()
    if len(dup):
        listed = ", ".join(map(str, dup[:_MAX_LISTED]))
        raise LayerError(f"communities: community_id not unique: {listed}; keep one row per id")
    plan_year = rules.resolved_plan_year()
    if rules.plan_year is None:
        logger.info("eligibility: plan_year not given; using next year, %s", plan_year)
    absent = [c for c in (*_READERS, "land_tenure") if c not in communities.columns]
    if absent:
        logger.info("eligibility: column(s) %s absent; their rules are unknown", absent)

    records: list[dict[str, object]] = []
    for cid, name, row in zip(
        communities["community_id"].tolist(),
        communities["name"].tolist(),
        _read_rows(communities),
        strict=True,
    ):
        status, codes, outcomes = _assess_row(row, rules, plan_year)
        note = _text("CENTRAL_SUBSIDY_USED", row, rules, plan_year) if row.items else ""
        records.append(
            {
                "community_id": cid,
                "name": name,
                "status": status,
                "status_zh": STATUS_ZH[status],
                "reason_codes": tuple(codes),
                "reasons_zh": "；".join(_text(c, row, rules, plan_year) for c in codes),
                **outcomes,
                "central_subsidy_note": note,
            }
        )
    out: pd.DataFrame = pd.DataFrame.from_records(
        records, index=communities.index, columns=_OUTPUT_COLUMNS
    )
    counts = out["status"].value_counts().to_dict()
    logger.info("eligibility (%s, cut-off %s): %s", rules.source_zh, rules.cutoff, counts)
    return out
