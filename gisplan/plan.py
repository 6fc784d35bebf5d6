"""Annual renovation plan (年度计划) and multi-year rollout (滚动实施).

* :func:`priority` — a weighted score per candidate community from five terms, each
  normalised to 0–1: age, safety-hazard items (gas, drainage, fire …), life-circle gap
  score, households benefiting and residents' consent (POLICY.md §2, §6);
* :func:`annual_plan` — next year's plan: the exact 0/1 integer program (HiGHS through
  :func:`scipy.optimize.milp`) that maximises the summed priority of the chosen communities
  within the year's government budget and organising capacity (communities, m²), after the
  consent gate;
* :func:`rollout` — :func:`annual_plan` repeated year by year on the communities not yet
  chosen; each chosen community moves 储备 → 新开工 (its plan year) → 在建 → 竣工 (plan year
  + ``build_years``); counts, buildings, households and m² started and completed per year,
  and whether a target such as Linyi's ("all pre-2000 and ≥ 85% of pre-2005 by 2025") is met.

Only communities whose eligibility status (:func:`gisplan.eligibility.assess`) is
``"eligible"`` enter the plan; ``"eligible_waiting_consent"`` enter too when
:attr:`PlanLimits.require_consent` is ``False`` ("成熟一个、改造一个"). Every other
community is listed with the reason it was left out.

Chinese headers (with units) of the output columns come from :mod:`gisplan.vocabulary`.
No function modifies its inputs; outputs are sorted deterministically.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy.optimize import Bounds, LinearConstraint, milp

from gisplan._milp import solver_status
from gisplan._text import is_number, is_whole
from gisplan.errors import InfeasibleError, LayerError, ScenarioError, SchemaError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

__all__ = [
    "ROLLOUT_STATES",
    "PlanLimits",
    "PriorityWeights",
    "annual_plan",
    "candidates",
    "priority",
    "rollout",
]

logger = logging.getLogger(__name__)

#: Project states of a community in the rollout (POLICY.md §6); ``未纳入`` = cannot enter.
ROLLOUT_STATES: tuple[str, ...] = ("储备", "新开工", "在建", "竣工", "未纳入", "待表决")

#: Where a community's renovation stands today: the communities layer's ``status`` (储备 =
#: not in any plan yet; a blank cell counts as 储备).
PROJECT_STATES: tuple[str, ...] = ("储备", "新开工", "在建", "竣工")
#: States of a renovation already started or done: never planned again for the same
#: content (a second central-subsidy application is an audit finding — MOHURD 2021 底线(十);
#: 不得重复建设 — Litong 2023 三(一)1).
_UNDER_WAY: tuple[str, ...] = ("新开工", "在建", "竣工")
#: Priority of a scope tier of :func:`gisplan.eligibility.assess` (core, then the second
#: tier, then communities past a cut-off that is only a priority).
_SCOPE_SCORE: dict[str, float] = {"core": 1.0, "tier2": 0.5, "later": 0.0}

#: Eligibility statuses that may enter the plan (the second only without the consent gate).
_ENTER = "eligible"
_WAITING = "eligible_waiting_consent"
_KNOWN_STATUSES = frozenset({_ENTER, _WAITING, "not_eligible", "unknown"})
_PRIORITY_DECIMALS = 6
#: Solver objective = _SCALE * priority + tie-break bonus: one unit of the scaled objective
#: is the smallest step of a rounded priority (1e-6), and all bonuses together add less than
#: _TIE_TOTAL of it, so a bonus never outweighs a real difference in priority.
_SCALE = 10.0**_PRIORITY_DECIMALS
_TIE_TOTAL = 0.5
_MAX_LISTED = 10


# --------------------------------------------------------------------------- options


@dataclass(frozen=True, kw_only=True, slots=True)
class PriorityWeights:
    """Weights of the priority score; each term is normalised to 0–1 first.

    Parameters
    ----------
    age
        Weight of age: ``min((plan_year - built_year) / age_span_years, 1)`` (0 if built
        after the plan year or the year is missing). Default 1.
    safety
        Weight of safety-hazard items (``safety_items``: gas, drainage, fire …) divided by
        the largest count among the candidates. Default 1.
    gap
        Weight of the life-circle gap score (``gap_score``, 0–1, from
        :func:`gisplan.gaps.community_gaps`). Default 1.
    households
        Weight of households benefiting, divided by the largest among the candidates.
        Default 1.
    consent
        Weight of consent: the mean of ``participation_rate`` and ``approval_rate``
        (0–1). Default 0.5 — consent is mainly a gate (:attr:`PlanLimits.require_consent`),
        so it counts half.
    scope
        Weight of the scope tier of :func:`gisplan.eligibility.assess` (``scope``): core
        1, tier2 0.5, later 0 — Linxia's 重点改造2000年底前建成, Tongnan's 主要 and 逐步.
        Default 1.
    conditions
        Weight of the qualifying conditions met (``conditions_met``: 失养失修失管, 市政配套
        设施不完善, 服务设施不健全, 意愿强烈 …) divided by the largest count among the
        candidates. Default 0.5.
    age_span_years
        Age at which the age term reaches 1. Default 50 years.

    Raises
    ------
    ScenarioError
        If a weight is negative or not a number, or ``age_span_years`` is not > 0 (every
        problem listed).

    Examples
    --------
    >>> PriorityWeights(consent=0.0).consent
    0.0
    >>> PriorityWeights(age=-1)
    Traceback (most recent call last):
    ...
    gisplan.errors.ScenarioError: PriorityWeights.age = -1 is not a weight >= 0; ...
    """

    age: float = 1.0
    safety: float = 1.0
    gap: float = 1.0
    households: float = 1.0
    consent: float = 0.5
    scope: float = 1.0
    conditions: float = 0.5
    age_span_years: float = 50.0

    def __post_init__(self) -> None:
        """Check weights (>= 0) and the age span (> 0); raise once listing all problems."""
        problems: list[tuple[str, str, str]] = [
            (key, f"{getattr(self, key)!r} is not a weight >= 0", "write a number such as 1.0")
            for key in ("age", "safety", "gap", "households", "consent", "scope", "conditions")
            if not (
                is_number(getattr(self, key))
                and math.isfinite(float(getattr(self, key)))
                and float(getattr(self, key)) >= 0
            )
        ]
        span = self.age_span_years
        if not (is_number(span) and math.isfinite(float(span)) and float(span) > 0):
            problems.append(
                ("age_span_years", f"{span!r} is not a number of years > 0", "write e.g. 50")
            )
        ScenarioError.check("PriorityWeights", "plan.weights", problems)


@dataclass(frozen=True, kw_only=True, slots=True)
class PlanLimits:
    """What one year's plan can carry.

    Parameters
    ----------
    budget_wan_yuan
        Government budget of the year in 万元; bounds the summed
        ``government_cost_wan_yuan`` of the chosen communities. 0 gives an empty plan
        (explained, not an error).
    max_communities
        Organising capacity: at most this many communities a year (``None``: no limit).
    max_floor_area_m2
        Organising capacity: at most this much floor area a year (``None``: no limit).
    require_consent
        Consent gate (national notice item 7): only ``"eligible"`` communities enter when
        ``True`` (default); ``"eligible_waiting_consent"`` enter too when ``False``.

    Raises
    ------
    ScenarioError
        If the budget is negative or not a number, or a capacity is negative (every
        problem listed).

    Examples
    --------
    >>> PlanLimits(budget_wan_yuan=4900, max_communities=20).max_communities
    20
    >>> PlanLimits(budget_wan_yuan=-1)
    Traceback (most recent call last):
    ...
    gisplan.errors.ScenarioError: PlanLimits.budget_wan_yuan = -1 is negative; ...
    """

    budget_wan_yuan: float
    max_communities: int | None = None
    max_floor_area_m2: float | None = None
    require_consent: bool = True

    def __post_init__(self) -> None:
        """Check the budget and capacities; raise once listing all problems."""
        problems: list[tuple[str, str, str]] = []
        budget = self.budget_wan_yuan
        if not (is_number(budget) and math.isfinite(float(budget))):
            problems.append(
                ("budget_wan_yuan", f"{budget!r} is not a number", "write 万元 such as 4900")
            )
        elif float(budget) < 0:
            problems.append(
                ("budget_wan_yuan", f"{budget!r} is negative", "write a budget >= 0 in 万元")
            )
        count = self.max_communities
        if count is not None and not (is_whole(count) and count >= 0):
            problems.append(
                (
                    "max_communities",
                    f"{count!r} is not a whole number >= 0",
                    "write e.g. 20, or leave it out for no limit",
                )
            )
        area = self.max_floor_area_m2
        if area is not None and not (
            is_number(area) and math.isfinite(float(area)) and float(area) >= 0
        ):
            problems.append(
                (
                    "max_floor_area_m2",
                    f"{area!r} is not an area >= 0",
                    "write m² such as 160000, or leave it out for no limit",
                )
            )
        consent: object = self.require_consent
        if not isinstance(consent, bool):
            problems.append(
                ("require_consent", f"{consent!r} is not true/false", "write true or false")
            )
        ScenarioError.check("PlanLimits", "plan", problems)


_DEFAULT_WEIGHTS = PriorityWeights()


# --------------------------------------------------------------------------- input checks


def _listed(values: Sequence[object]) -> str:
    items = [str(v) for v in values]
    more = f" and {len(items) - _MAX_LISTED} more" if len(items) > _MAX_LISTED else ""
    return ", ".join(items[:_MAX_LISTED]) + more


def _require(frame: pd.DataFrame, columns: Sequence[str], *, fix: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise SchemaError(
            f"candidates: column(s) {', '.join(map(repr, missing))} missing (columns: "
            f"{', '.join(map(str, frame.columns))}); {fix}"
        )
    dup = frame["community_id"][frame["community_id"].duplicated()].unique()
    if len(dup):
        raise LayerError(f"candidates: community_id not unique: {_listed(list(dup))}; keep one")


def _numbers(
    frame: pd.DataFrame,
    column: str,
    problems: list[str],
    *,
    upper: float | None = None,
    hint: str = "",
) -> pd.Series[float]:
    """Return ``column`` as float (NaN where blank or absent); note bad cells in ``problems``."""
    if column not in frame.columns:
        absent: pd.Series[float] = pd.Series(np.nan, index=frame.index, dtype="float64")
        return absent
    raw = frame[column]
    values = pd.to_numeric(raw, errors="coerce").astype("float64")
    unreadable = values.isna() & raw.notna()
    if unreadable.any():
        problems.append(f"{column}: not a number in rows {_listed(list(raw.index[unreadable]))}")
    bad = (values < 0) | ~np.isfinite(values.fillna(0.0))
    if upper is not None:
        bad |= values > upper
    if bad.any():
        limit = f"between 0 and {upper:g}" if upper is not None else ">= 0"
        problems.append(
            f"{column}: not {limit} in rows {_listed(list(raw.index[bad]))}"
            + (f" ({hint})" if hint else "")
        )
    return values


def _raise_problems(problems: list[str]) -> None:
    if problems:
        raise LayerError("candidates: bad values:\n  " + "\n  ".join(problems))


def _share_of_max(values: pd.Series[float]) -> pd.Series[float]:
    filled = values.fillna(0.0)
    top = float(filled.max()) if len(filled) else 0.0
    return filled / top if top > 0 else filled * 0.0


# --------------------------------------------------------------------------- candidates


def candidates(
    communities: pd.DataFrame,
    *,
    eligibility: pd.DataFrame,
    schemes: pd.DataFrame,
    community_gaps: pd.DataFrame | None = None,
    funding: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Assemble the candidates table of :func:`annual_plan` from the earlier steps' tables.

    Parameters
    ----------
    communities
        The communities layer: ``community_id`` and, when present, ``built_year,
        households, floor_area_m2, buildings, participation_rate, approval_rate``, the
        project's current state ``status`` (储备/新开工/在建/竣工, given as
        ``project_status``) with ``start_year`` and ``completion_year``, and the pre-works
        scheme vote ``scheme_vote_passed`` and the written confirmation of the property
        management model and fees ``property_fee_agreed``.
    eligibility
        Table of :func:`gisplan.eligibility.assess`; gives ``status`` and, when present,
        the scope tier ``scope`` and ``conditions_met``.
    schemes
        Table of :func:`gisplan.catalogue.build_schemes`: ``scheme_items`` counts a
        community's items (0: nothing decided yet — every item 待核实 or none needed — so it
        cannot enter a plan), ``safety_items`` those flagged as safety hazards (gas,
        drainage, fire …), ``government_cost_wan_yuan`` sums the items the government pays.
    community_gaps
        Table of :func:`gisplan.gaps.community_gaps`; gives ``gap_score`` (left out without).
    funding
        Table of :func:`gisplan.finance.fund`: the government cost is then less what revenue
        projects pay (大片区统筹 / 跨片区组合), and 0 for a community that balances itself
        (小区内自求平衡).

    Returns
    -------
    pandas.DataFrame
        One row per community of the eligibility table, in the order of ``communities``
        (those that may not enter are listed by the plan as left out, with why).

    Examples
    --------
    >>> comm = pd.DataFrame({"community_id": ["C1", "C2"], "households": [100, 50]})
    >>> elig = pd.DataFrame({"community_id": ["C1", "C2"], "status": ["eligible", "not_eligible"]})
    >>> schemes = pd.DataFrame({"community_id": ["C1", "C1"], "item": [1, 2],
    ...     "payer": ["government", "utility"], "cost_yuan": [30_000.0, 5_000.0],
    ...     "safety": [True, False]})
    >>> candidates(comm, eligibility=elig, schemes=schemes).values.tolist()
    [['C1', 100, 'eligible', 2, 1, 3.0], ['C2', 50, 'not_eligible', 0, 0, nan]]
    """
    from gisplan.finance import AREA_SOURCES  # noqa: PLC0415 - finance imports the solvers

    gov = schemes[schemes["payer"] == "government"].groupby("community_id")["cost_yuan"].sum()
    if funding is not None:
        area = funding[funding["source"].isin(AREA_SOURCES)]
        gov = gov.sub(area.groupby("community_id")["amount_yuan"].sum(), fill_value=0.0)
        gov[gov.index.isin(funding.loc[funding["mode"] == "self_balance", "community_id"])] = 0.0
        gov = gov.clip(lower=0.0)
    safety = schemes[schemes["safety"].astype(bool)].groupby("community_id")["item"].nunique()
    columns = ["community_id", "built_year", "households", "floor_area_m2", "buildings"]
    columns += ["participation_rate", "approval_rate", "start_year", "completion_year"]
    columns += ["scheme_vote_passed", "property_fee_agreed"]
    table = pd.DataFrame(communities[[c for c in columns if c in communities.columns]])
    ids = table["community_id"].astype(str)
    by_id = eligibility.set_index("community_id")
    table["status"] = ids.map(by_id["status"]).to_numpy()
    for column in ("scope", "conditions_met"):
        if column in by_id.columns:
            table[column] = ids.map(by_id[column]).to_numpy()
    if "status" in communities.columns:  # the layer's status is where the project stands
        table["project_status"] = communities["status"].to_numpy(dtype=object)
    if community_gaps is not None:
        score = community_gaps.set_index("community_id")["gap_score"]
        table["gap_score"] = ids.map(score).to_numpy()
    items = schemes.groupby(schemes["community_id"].astype(str))["item"].nunique()
    table["scheme_items"] = ids.map(items).fillna(0).astype(int).to_numpy()
    table["safety_items"] = ids.map(safety).fillna(0).astype(int).to_numpy()
    table["government_cost_wan_yuan"] = (ids.map(gov) / 10_000).round(2).to_numpy()
    out: pd.DataFrame = table.reset_index(drop=True)
    return out


# --------------------------------------------------------------------------- priority


def _scope_scores(candidates: pd.DataFrame, problems: list[str]) -> pd.Series[float]:
    """Scope tier → 0–1 (:data:`_SCOPE_SCORE`); 0 without a ``scope`` column or value."""
    if "scope" not in candidates.columns:
        none: pd.Series[float] = pd.Series(0.0, index=candidates.index)
        return none
    text = candidates["scope"].astype("string").fillna("")
    unknown = sorted(set(text) - {"", *_SCOPE_SCORE})
    if unknown:
        problems.append(f"scope: {', '.join(unknown)} not a tier; use {', '.join(_SCOPE_SCORE)}")
    scores: pd.Series[float] = text.map(_SCOPE_SCORE).fillna(0.0).astype("float64")
    return scores


def priority(
    candidates: pd.DataFrame,
    *,
    plan_year: int,
    weights: PriorityWeights = _DEFAULT_WEIGHTS,
) -> pd.Series[float]:
    """Return the priority score of every candidate community.

    ``score = age·w_age + safety·w_safety + gap·w_gap + households·w_households +
    consent·w_consent``, each term 0–1 (see :class:`PriorityWeights`). Households and
    safety items are divided by their largest value **among the given candidates**, so a
    score compares communities of one table. A blank or absent value scores 0 on its term
    (logged). The score is rounded to 6 decimals, so equal inputs give equal scores.

    Parameters
    ----------
    candidates
        ``community_id`` (unique), ``built_year`` and ``households`` are required;
        ``gap_score`` (0–1), ``safety_items`` (count >= 0), ``participation_rate`` and
        ``approval_rate`` (fractions 0–1), ``scope`` (core/tier2/later) and
        ``conditions_met`` (count >= 0) are read when present.
    plan_year
        Year of the plan; the age is ``plan_year - built_year``.
    weights
        Weights of the five terms; default :class:`PriorityWeights` ().

    Returns
    -------
    pandas.Series
        Float scores named ``"priority"``, same index and order as ``candidates``.

    Raises
    ------
    SchemaError
        If a required column is missing.
    LayerError
        If ids repeat, or a value is not a number, negative, or (gap score, rates) above 1
        — rates written as percentages (67) are refused; every bad cell is listed.

    Examples
    --------
    >>> df = pd.DataFrame({"community_id": ["A", "B"], "built_year": [1976, 2001],
    ...                    "households": [200, 100], "safety_items": [2, 1]})
    >>> gisplan.plan.priority(df, plan_year=2026).tolist()
    [3.0, 1.5]
    """
    if not is_whole(plan_year):
        raise ScenarioError(f"plan_year = {plan_year!r} is not a year; write e.g. 2026")
    _require(
        candidates,
        ["community_id", "built_year", "households"],
        fix="read the layer with gisplan.read_layer (maps 建成年份/户数) or add the columns",
    )
    problems: list[str] = []
    built = pd.to_numeric(candidates["built_year"], errors="coerce").astype("float64")
    unreadable = built.isna() & candidates["built_year"].notna()
    if unreadable.any():
        rows = _listed(list(candidates.index[unreadable]))
        problems.append(f"built_year: not a year in rows {rows}")
    households = _numbers(candidates, "households", problems)
    safety = _numbers(candidates, "safety_items", problems)
    gap = _numbers(candidates, "gap_score", problems, upper=1.0)
    rate_hint = "rates are fractions: write 0.67, not 67"
    participation = _numbers(candidates, "participation_rate", problems, upper=1.0, hint=rate_hint)
    approval = _numbers(candidates, "approval_rate", problems, upper=1.0, hint=rate_hint)
    conditions = _numbers(candidates, "conditions_met", problems)
    scope = _scope_scores(candidates, problems)
    _raise_problems(problems)
    blanks = {
        name: int(series.isna().sum())
        for name, series in (
            ("built_year", built),
            ("households", households),
            ("safety_items", safety),
            ("gap_score", gap),
            ("participation_rate", participation),
            ("approval_rate", approval),
        )
        if series.isna().any()
    }
    if blanks:
        logger.info("priority: blank or absent values score 0 on their term: %s", blanks)
    span = float(weights.age_span_years)
    age = ((plan_year - built) / span).clip(lower=0.0, upper=1.0).fillna(0.0)
    consent = (participation.fillna(0.0) + approval.fillna(0.0)) / 2.0
    score = (
        float(weights.age) * age
        + float(weights.safety) * _share_of_max(safety)
        + float(weights.gap) * gap.fillna(0.0)
        + float(weights.households) * _share_of_max(households)
        + float(weights.consent) * consent
        + float(weights.scope) * scope
        + float(weights.conditions) * _share_of_max(conditions)
    )
    result: pd.Series[float] = score.round(_PRIORITY_DECIMALS).astype("float64")
    result.name = "priority"
    return result


# --------------------------------------------------------------------------- annual plan


def _project_states(candidates: pd.DataFrame) -> pd.Series[str]:
    """Return the checked ``project_status`` column (储备 for blanks or without it)."""
    if "project_status" not in candidates.columns:
        return pd.Series("储备", index=candidates.index, dtype=object)
    text = candidates["project_status"].astype("string").fillna("储备").str.strip()
    text = text.where(text != "", "储备")
    unknown = sorted(set(text) - set(PROJECT_STATES))
    if unknown:
        raise LayerError(
            f"candidates: project_status {', '.join(unknown)} not understood; write one of "
            f"{' / '.join(PROJECT_STATES)} (the communities layer's status column)"
        )
    states: pd.Series[str] = text.astype(object)
    return states


def _under_way_reasons(candidates: pd.DataFrame) -> pd.Series[str]:
    """Why a community already started or done may not enter again (``""`` if it may)."""
    states = _project_states(candidates)
    started = _optional_years(candidates, "start_year")
    completed = _optional_years(candidates, "completion_year")
    reasons = []
    for state, start, done in zip(states, started, completed, strict=True):
        if state not in _UNDER_WAY:
            reasons.append("")
            continue
        year = done if state == "竣工" else start
        since = "" if pd.isna(year) else f" ({int(year)})"
        reasons.append(f"already {state}{since}: not planned again (不得重复建设)")
    return pd.Series(reasons, index=candidates.index, dtype=object)


def _optional_years(candidates: pd.DataFrame, column: str) -> pd.Series[float]:
    years: pd.Series[float] = (
        pd.to_numeric(candidates[column], errors="coerce").astype("float64")
        if column in candidates.columns
        else pd.Series(np.nan, index=candidates.index, dtype="float64")
    )
    return years


def _vote_failed(candidates: pd.DataFrame) -> np.ndarray[Any, np.dtype[np.bool_]]:
    """Communities whose scheme vote is recorded as failed (表决未通过)."""
    if "scheme_vote_passed" not in candidates.columns:
        return np.zeros(len(candidates), dtype=bool)
    vote = candidates["scheme_vote_passed"].astype("boolean")
    return (vote == False).fillna(value=False).to_numpy(bool)  # noqa: E712 - nullable


def _entry_reasons(candidates: pd.DataFrame, *, require_consent: bool) -> pd.Series[str]:
    """Return ``""`` for communities that may enter, else why they may not."""
    text = candidates["status"].astype("string")
    unknown = sorted({str(s) for s in text.dropna() if s not in _KNOWN_STATUSES})
    if text.isna().any() or unknown:
        shown = [*unknown, *(["<blank>"] if text.isna().any() else [])]
        raise LayerError(
            f"candidates: status {', '.join(shown)} not understood; write one of "
            f"{', '.join(sorted(_KNOWN_STATUSES))} (run gisplan.eligibility.assess)"
        )
    reasons = {
        _ENTER: "",
        _WAITING: "" if not require_consent else "waiting for consent",
        "not_eligible": "not eligible: excluded by the eligibility rules",
        "unknown": "not eligible: unknown — needs survey",
    }
    out = text.map(reasons).astype(object)
    out[_vote_failed(candidates)] = (
        "scheme vote failed (方案表决未通过): not planned until it passes"
    )
    if "scheme_items" in candidates.columns:
        empty = pd.to_numeric(candidates["scheme_items"], errors="coerce").eq(0).to_numpy(bool)
        open_ = out.isin(["", "waiting for consent"]).to_numpy(bool)
        out[empty & open_] = (
            "no scheme items yet (方案未确定：改造内容待核实): not planned until the survey "
            "decides them"
        )
    under_way = _under_way_reasons(candidates)
    out = out.where(under_way == "", under_way)
    result: pd.Series[str] = out.astype(str)
    return result


def _solve(
    score: np.ndarray[Any, np.dtype[np.float64]],
    ids: Sequence[object],
    rows: list[tuple[str, np.ndarray[Any, np.dtype[np.float64]], float]],
) -> tuple[np.ndarray[Any, np.dtype[np.bool_]], dict[str, object]]:
    """Solve max score·x s.t. each row's ``a·x <= b``, x in {0, 1}, ties by id order."""
    n = len(score)
    rank = np.empty(n, dtype=float)
    rank[np.argsort(np.asarray([str(i) for i in ids], dtype=object), kind="stable")] = np.arange(n)
    # The bonus halves with each step in id order: each id outweighs all later ids together,
    # so among plans of equal priority the one holding the earliest id wins (lexicographic).
    tie = _TIE_TOTAL * 0.5 ** (rank + 1)
    objective = -(_SCALE * score + tie)
    constraints = [
        LinearConstraint(np.vstack([a for _, a, _ in rows]), -np.inf, [b for *_, b in rows])
    ]
    res = milp(
        objective,
        integrality=np.ones(n),
        bounds=Bounds(0, 1),
        constraints=constraints,
        options={"mip_rel_gap": 0.0},
    )
    if res.x is None:
        raise InfeasibleError(f"annual plan: HiGHS found no plan ({res.message})")
    chosen = np.asarray(res.x, dtype=float) > 0.5  # noqa: PLR2004 — 0/1 rounding
    gap = getattr(res, "mip_gap", None)
    return chosen, {
        "status": solver_status(res),
        "solver_message": str(res.message),
        "mip_gap": None if gap is None else float(gap),
    }


def annual_plan(
    candidates: pd.DataFrame,
    *,
    limits: PlanLimits,
    weights: PriorityWeights = _DEFAULT_WEIGHTS,
    plan_year: int,
) -> tuple[pd.DataFrame, dict[str, object]]:
    """Choose one year's communities: the highest summed priority the year can carry.

    Exact 0/1 integer program (HiGHS via :func:`scipy.optimize.milp`, relative MIP gap 0)::

        maximise   sum(priority_i x_i)
        subject to sum(government_cost_wan_yuan_i x_i) <= budget_wan_yuan
                   sum(x_i)                         <= max_communities   (if set)
                   sum(floor_area_m2_i x_i)         <= max_floor_area_m2 (if set)

    over the communities that pass the consent gate. Among plans of equal priority (scores
    are rounded to 6 decimals) the one holding the earliest ``community_id`` (text order)
    wins: each candidate gets a tiny id-ordered bonus that halves with each step in id
    order, all bonuses together worth less than 1e-6 of priority. HiGHS stops within an
    absolute gap of 1e-6 of that bonus scale, so the bonus decides reliably among roughly
    the first 18 ids in text order; a tie further down is HiGHS's own (still
    deterministic) choice. The solver's status and MIP gap are reported as they are.

    Parameters
    ----------
    candidates
        The columns of :func:`priority`, plus ``status`` (eligibility status of
        :func:`gisplan.eligibility.assess`), ``government_cost_wan_yuan`` (the
        government's share of the cost, >= 0; required for communities that may enter)
        and ``floor_area_m2`` (required for them when ``max_floor_area_m2`` is set).
        Optional: ``project_status`` (储备/新开工/在建/竣工; a community already 新开工,
        在建 or 竣工 never enters), ``start_year``/``completion_year`` (named in its
        reason), ``scheme_vote_passed`` (``False``: the residents voted the scheme down,
        so it does not enter) and ``scheme_items`` (0: no item decided yet, so it does not
        enter).
    limits
        Budget, capacities and consent gate of the year.
    weights
        Weights of :func:`priority`.
    plan_year
        Year of the plan.

    Returns
    -------
    table : pandas.DataFrame
        One row per candidate, sorted by priority (descending) then ``community_id``,
        RangeIndex: ``community_id, priority, selected`` (bool), ``selection_reason``
        (``"selected"``, ``"over budget"`` — left out by the year's budget or capacity —,
        ``"waiting for consent"``, ``"not eligible: …"``, ``"already 在建 (2025): not
        planned again …"`` for a renovation already started or done, ``"scheme vote
        failed …"`` or ``"no scheme items yet …"``), ``status``, ``project_status``
        (储备/新开工/在建/竣工), ``government_cost_wan_yuan``, ``floor_area_m2``.
    info : dict
        ``plan_year``; ``status`` (``"optimal"``, ``"limit reached (not proven
        optimal)"``, …, or ``"not solved"`` when nothing could be chosen);
        ``solver_message``; ``mip_gap`` (HiGHS's, ``None`` if not solved); ``objective``
        (summed priority of the chosen); ``chosen`` (count); ``entered`` (candidates past
        the gate); ``budget_wan_yuan``, ``budget_used_wan_yuan``, ``floor_area_used_m2``;
        ``binding`` (limits met with equality); ``note`` (why the plan is empty, else "").

    Raises
    ------
    SchemaError
        If a required column is missing.
    LayerError
        If ids repeat, a status is not an eligibility status, or a cost or area is
        missing or negative where needed (every bad cell listed).
    ScenarioError
        If ``plan_year`` is not a year (a negative budget already fails in
        :class:`PlanLimits`).

    Examples
    --------
    >>> df = pd.DataFrame({"community_id": ["A", "B"], "built_year": [1976, 2001],
    ...                    "households": [200, 100], "status": "eligible",
    ...                    "government_cost_wan_yuan": [60.0, 50.0],
    ...                    "floor_area_m2": [9000.0, 4000.0]})
    >>> table, info = gisplan.plan.annual_plan(
    ...     df, limits=gisplan.plan.PlanLimits(budget_wan_yuan=100), plan_year=2026)
    >>> table[["community_id", "selection_reason"]].to_numpy().tolist(), info["status"]
    ([['A', 'selected'], ['B', 'over budget']], 'optimal')
    """
    _require(
        candidates,
        ["community_id", "status", "government_cost_wan_yuan", "floor_area_m2"],
        fix="add the eligibility status (gisplan.eligibility.assess) and the costs",
    )
    score = priority(candidates, plan_year=plan_year, weights=weights)
    reasons = _entry_reasons(candidates, require_consent=limits.require_consent)
    enter = (reasons == "").to_numpy(bool)
    problems: list[str] = []
    cost = _numbers(candidates, "government_cost_wan_yuan", problems)
    area = _numbers(candidates, "floor_area_m2", problems)
    needed = [("government_cost_wan_yuan", cost)]
    if limits.max_floor_area_m2 is not None:
        needed.append(("floor_area_m2", area))
    for name, values in needed:
        blank = values.isna().to_numpy(bool) & enter
        if blank.any():
            where = _listed(list(candidates.index[blank]))
            problems.append(f"{name}: missing in rows {where}, which may enter the plan")
    _raise_problems(problems)

    budget = float(limits.budget_wan_yuan)
    info: dict[str, object] = {
        "plan_year": int(plan_year),
        "status": "not solved",
        "solver_message": "",
        "mip_gap": None,
        "objective": 0.0,
        "chosen": 0,
        "entered": int(enter.sum()),
        "budget_wan_yuan": budget,
        "budget_used_wan_yuan": 0.0,
        "floor_area_used_m2": 0.0,
        "binding": [],
        "note": "",
    }
    chosen = np.zeros(len(candidates), dtype=bool)
    if budget == 0:
        info["note"] = (
            f"budget for {plan_year} is 0 万元: no community can be funded, the plan is empty; "
            "set plan.budget_wan_yuan to the year's government budget"
        )
    elif not enter.any():
        info["note"] = (
            "no candidate may enter the plan (none is eligible"
            + (" with consent" if limits.require_consent else "")
            + "); see the selection_reason column"
        )
    else:
        rows: list[tuple[str, np.ndarray[Any, np.dtype[np.float64]], float]] = [
            ("budget", cost.to_numpy(float)[enter], budget)
        ]
        if limits.max_communities is not None:
            rows.append(("max_communities", np.ones(int(enter.sum())), limits.max_communities))
        if limits.max_floor_area_m2 is not None:
            rows.append(
                ("max_floor_area", area.to_numpy(float)[enter], float(limits.max_floor_area_m2))
            )
        ids = candidates["community_id"].to_numpy(dtype=object)[enter].tolist()
        picked, solved = _solve(score.to_numpy(float)[enter], ids, rows)
        info.update(solved)
        chosen[np.flatnonzero(enter)[picked]] = True
        info["binding"] = [
            name
            for name, a, b in rows
            if math.isclose(float(a[picked].sum()), b, rel_tol=1e-9, abs_tol=1e-9)
        ]
    used_cost = float(cost.to_numpy(float)[chosen].sum())
    info.update(
        objective=round(float(score.to_numpy(float)[chosen].sum()), _PRIORITY_DECIMALS),
        chosen=int(chosen.sum()),
        budget_used_wan_yuan=used_cost,
        floor_area_used_m2=float(np.nansum(area.to_numpy(float)[chosen])),
    )
    if info["note"] == "" and not chosen.any():
        info["note"] = "no community fits the year's budget and capacity; the plan is empty"
    reason = np.where(chosen, "selected", np.where(enter, "over budget", reasons.to_numpy(str)))
    table = pd.DataFrame(
        {
            "community_id": candidates["community_id"].to_numpy(),
            "priority": score.to_numpy(float),
            "selected": chosen,
            "selection_reason": reason.astype(object),
            "status": candidates["status"].astype(str).to_numpy(dtype=object),
            "project_status": _project_states(candidates).to_numpy(dtype=object),
            "government_cost_wan_yuan": cost.to_numpy(float),
            "floor_area_m2": area.to_numpy(float),
        }
    )
    table["community_id"] = table["community_id"].astype(candidates["community_id"].dtype)
    table["_key"] = table["community_id"].astype(str)
    table = table.sort_values(["priority", "_key"], ascending=[False, True], kind="stable")
    result: pd.DataFrame = table.drop(columns="_key").reset_index(drop=True)
    logger.info(
        "annual plan %s: %s, %d of %d entered chosen, %.2f of %.2f 万元",
        plan_year,
        info["status"],
        info["chosen"],
        info["entered"],
        used_cost,
        budget,
    )
    return result, info


# --------------------------------------------------------------------------- rollout


@dataclass(frozen=True, slots=True)
class _Target:
    name: str
    built_by: int
    share: float
    by_year: int


def _year(value: object) -> int | None:
    """Return ``value`` as a year, or ``None`` if it is not a whole number."""
    return (
        int(value) if isinstance(value, (int, np.integer)) and not isinstance(value, bool) else None
    )


def _targets(targets: Mapping[str, object] | None) -> list[_Target]:
    if not targets:
        return []
    known = {"all_built_before", "share_built_before", "by_year"}
    problems: list[tuple[str, str, str]] = [
        (str(k), f"{v!r} under an unknown key", f"use {', '.join(sorted(known))}")
        for k, v in targets.items()
        if k not in known
    ]
    by_year = _year(targets.get("by_year"))
    if by_year is None:
        problems.append(("by_year", f"{targets.get('by_year')!r} is not a year", "write e.g. 2025"))
    out: list[tuple[str, int, float]] = []
    if "all_built_before" in targets:
        everything = _year(targets["all_built_before"])
        if everything is None:
            problems.append(
                ("all_built_before", f"{targets['all_built_before']!r} is not a year", "write 2000")
            )
        else:
            out.append(("all_built_before", everything, 1.0))
    if "share_built_before" in targets:
        pair = targets["share_built_before"]
        items = list(pair) if isinstance(pair, (tuple, list)) else []
        year = _year(items[0]) if len(items) == 2 else None  # noqa: PLR2004 — (year, share)
        share = items[1] if year is not None else None
        if (
            year is not None
            and isinstance(share, (int, float, np.integer, np.floating))
            and not isinstance(share, bool)
            and 0 <= float(share) <= 1
        ):
            out.append(("share_built_before", year, float(share)))
        else:
            problems.append(
                ("share_built_before", f"{pair!r} is not (year, share 0–1)", "write [2005, 0.85]")
            )
    if not out and not problems:
        problems.append(("keys", "no target given", "add all_built_before or share_built_before"))
    ScenarioError.check("targets", "plan.targets", problems)
    return [_Target(name, built_by, share, by_year or 0) for name, built_by, share in out]


def _limits_for(
    years: Sequence[int], limits_per_year: PlanLimits | Mapping[int, PlanLimits]
) -> dict[int, PlanLimits]:
    if isinstance(limits_per_year, PlanLimits):
        return dict.fromkeys(years, limits_per_year)
    missing = [y for y in years if y not in limits_per_year]
    wrong = [y for y, v in limits_per_year.items() if not isinstance(v, PlanLimits)]
    problems = []
    if missing:
        problems.append(("limits_per_year", f"no limits for {_listed(missing)}", "add them"))
    if wrong:
        problems.append(("limits_per_year", f"{_listed(wrong)} not PlanLimits", "use PlanLimits"))
    ScenarioError.check("rollout", "plan", problems)
    return {y: limits_per_year[y] for y in years}


def _state(year: int, start: float, done: float, enters: bool) -> str:
    if not math.isnan(done) and year >= done:
        return "竣工"
    if math.isnan(start):
        return "储备" if enters else "未纳入"
    if year < start:
        return "储备"
    if year == start:
        return "新开工"
    return "在建"


def _current(
    candidates: pd.DataFrame, first_year: int, build_years: int
) -> tuple[np.ndarray[Any, np.dtype[np.float64]], np.ndarray[Any, np.dtype[np.float64]]]:
    """Start and completion years of the renovations already under way (NaN for the rest).

    Today is the year before the first plan year. 竣工: completed in ``completion_year``,
    else before the first plan year; 在建 and 新开工: started in ``start_year`` (else
    this year) and complete in ``completion_year``, else ``build_years`` later (在建:
    not before the first plan year).
    """
    states = _project_states(candidates).to_numpy(dtype=object)
    given_start = _optional_years(candidates, "start_year").to_numpy(float)
    given_done = _optional_years(candidates, "completion_year").to_numpy(float)
    now = float(first_year - 1)
    start = np.full(len(candidates), np.nan)
    done = np.full(len(candidates), np.nan)
    for i, state in enumerate(states):
        if state not in _UNDER_WAY:
            continue
        start[i] = given_start[i] if not np.isnan(given_start[i]) else now
        if not np.isnan(given_done[i]):
            done[i] = given_done[i]
        elif state == "竣工":
            done[i] = min(start[i] + build_years, now)
        elif state == "在建":
            done[i] = max(start[i] + build_years, float(first_year))
        else:
            done[i] = start[i] + build_years
    return start, done


def rollout(
    candidates: pd.DataFrame,
    *,
    years: Sequence[int],
    limits_per_year: PlanLimits | Mapping[int, PlanLimits],
    build_years: int = 1,
    weights: PriorityWeights = _DEFAULT_WEIGHTS,
    targets: Mapping[str, object] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Plan year after year and follow each community to completion.

    For each year in ``years`` (ascending), :func:`annual_plan` runs on the communities
    not chosen in an earlier year (priorities are recomputed for that year and those
    communities). A community chosen in year ``y`` is 新开工 in ``y``, 在建 until
    ``y + build_years - 1`` and 竣工 from ``y + build_years``; before ``y`` it is 储备.
    An eligible community not chosen (or waiting for consent) stays 储备; a community
    that is ``not_eligible`` or ``unknown`` is 未纳入 (not in the programme).

    The rollout starts from where each community stands today (the year before the first
    plan year; ``project_status``): a renovation already 新开工, 在建 or 竣工 is never
    planned again (:func:`annual_plan`) and keeps its ``start_year`` and
    ``completion_year`` (when blank: started this year, done ``build_years`` later; 在建
    not before the first plan year; 竣工 already done). Works start only after the
    residents' vote on the scheme (MOHURD 2021 底线(七): 改造方案应经法定比例以上居民书面
    (线上)表决同意后，方可开工改造) and their written confirmation of the property
    management model and fees (底线(八), second sentence: 物业管理模式、缴纳必要的物业服务费用
    等…书面(线上)确认的，方可开工改造). A community chosen for the first plan year without
    ``scheme_vote_passed`` or ``property_fee_agreed`` true (blank or absent counts as not
    yet) is 待表决 in that year, counted in ``communities_awaiting_vote`` and not in
    ``communities_started``; its ``note`` names what is missing. Its completion year — and
    any later plan year's — **assumes** both are done in the plan year (our assumption; the
    seeds set no date).

    Targets (e.g. Linyi's: ``{"all_built_before": 2000, "share_built_before": (2005,
    0.85), "by_year": 2025}``) count **communities completed** (竣工 in or before
    ``by_year``) among those **built in or before** the named year (``built_year <=
    year``), leaving out those ``not_eligible`` (outside the programme by rule);
    ``unknown`` ones stay in the count, since a survey may still qualify them.

    Parameters
    ----------
    candidates
        As for :func:`annual_plan`; ``households``, ``floor_area_m2`` and, when present,
        ``buildings`` are summed per year.
    years
        Plan years, e.g. ``range(2026, 2031)`` (unique whole years).
    limits_per_year
        One :class:`PlanLimits` for every year, or one per year.
    build_years
        Years from start to completion (>= 1). Default 1.
    weights
        Weights of :func:`priority`.
    targets
        Optional targets (keys above); ``by_year`` is required with either.

    Returns
    -------
    communities : pandas.DataFrame
        Same index and order as ``candidates``: ``community_id``, ``status``,
        ``project_status`` (储备/新开工/在建/竣工 today), ``priority`` (in its plan year,
        NaN if never chosen), ``start_year``, ``completion_year`` (Int64, <NA> if never
        chosen), ``status_<year>`` (one of :data:`ROLLOUT_STATES`) for every year from the
        first plan year to the last plan year or last completion, whichever is later, and
        ``note`` (for a 待表决 community: what is missing, and that its years assume it
        comes in time).
    per_year : pandas.DataFrame
        One row per year of that span: ``year``, ``planned`` (a plan year), ``plan_status``,
        ``budget_wan_yuan``, ``budget_used_wan_yuan``, ``communities_started``,
        ``buildings_started``, ``households_started``, ``floor_area_m2_started``,
        ``communities_in_construction``, ``communities_awaiting_vote``,
        ``communities_completed``,
        ``buildings_completed``, ``households_completed``, ``floor_area_m2_completed``
        (buildings <NA> without a ``buildings`` column). With targets, a column
        ``done_share_built_by_<year>`` (cumulative share completed) per target and
        ``per_year.attrs["targets"]``: a list of dicts with ``target``, ``built_by``,
        ``required_share``, ``by_year``, ``communities`` (in the count), ``completed``,
        ``share``, ``met``, ``margin_share`` (share - required) and
        ``shortfall_communities`` (more completions needed; 0 when met).

    Raises
    ------
    ScenarioError
        If ``years``, ``build_years``, ``limits_per_year`` or ``targets`` are not valid
        (every problem listed).
    SchemaError, LayerError
        As for :func:`annual_plan`.

    Examples
    --------
    >>> df = pd.DataFrame({"community_id": ["A", "B"], "built_year": [1976, 2001],
    ...                    "households": [200, 100], "status": "eligible",
    ...                    "government_cost_wan_yuan": [60.0, 50.0],
    ...                    "floor_area_m2": [9000.0, 4000.0], "scheme_vote_passed": True,
    ...                    "property_fee_agreed": True})
    >>> comm, per_year = gisplan.plan.rollout(
    ...     df, years=[2026, 2027], limits_per_year=gisplan.plan.PlanLimits(budget_wan_yuan=60))
    >>> comm[["status_2026", "status_2027", "status_2028"]].to_numpy().tolist()
    [['新开工', '竣工', '竣工'], ['储备', '新开工', '竣工']]
    """
    plan_years = list(years)
    problems: list[tuple[str, str, str]] = []
    if not plan_years or not all(is_whole(y) for y in plan_years):
        problems.append(("years", f"{plan_years!r} are not whole years", "write [2026, 2027]"))
    elif len(set(plan_years)) != len(plan_years):
        problems.append(("years", f"{plan_years!r} repeat a year", "list each year once"))
    if not (is_whole(build_years) and build_years >= 1):
        problems.append(("build_years", f"{build_years!r} is not >= 1", "write e.g. 2"))
    ScenarioError.check("rollout", "plan", problems)
    plan_years = sorted(int(y) for y in plan_years)
    limits = _limits_for(plan_years, limits_per_year)
    wanted = _targets(targets)
    _require(
        candidates,
        ["community_id", "status", "households", "floor_area_m2", "built_year"],
        fix="add the columns (see gisplan.plan.annual_plan)",
    )
    ids = candidates["community_id"].tolist()
    start: dict[object, int] = {}
    prio: dict[object, float] = {}
    plans: dict[int, dict[str, object]] = {}
    for year in plan_years:
        left = candidates[~candidates["community_id"].isin(list(start))]
        table, info = annual_plan(left, limits=limits[year], weights=weights, plan_year=year)
        plans[year] = info
        for cid, p in table.loc[table["selected"], ["community_id", "priority"]].itertuples(
            index=False
        ):
            start[cid] = year
            prio[cid] = float(p)
    starts = np.array([start.get(c, np.nan) for c in ids], dtype=float)
    done = starts + build_years
    current_start, current_done = _current(candidates, plan_years[0], build_years)
    under_way = ~np.isnan(current_done)
    starts[under_way], done[under_way] = current_start[under_way], current_done[under_way]
    awaiting, notes = _awaiting_residents(candidates, starts, plan_years[0])
    last = int(np.nanmax(done)) if (start or under_way.any()) else plan_years[-1]
    span = list(range(plan_years[0], max(plan_years[-1], last) + 1))
    status = candidates["status"].astype(str).to_numpy()
    ever = (status == _ENTER) | (status == _WAITING)

    comm = pd.DataFrame(index=candidates.index)
    comm["community_id"] = candidates["community_id"]
    comm["status"] = status
    comm["project_status"] = _project_states(candidates).to_numpy(dtype=object)
    comm["priority"] = np.array([prio.get(c, np.nan) for c in ids], dtype=float)
    comm["start_year"] = pd.array(starts, dtype="Float64").astype("Int64")
    comm["completion_year"] = pd.array(done, dtype="Float64").astype("Int64")
    for year in span:
        comm[f"status_{year}"] = [
            "待表决" if wait and year == s else _state(year, s, d, bool(e))
            for s, d, e, wait in zip(starts, done, ever, awaiting, strict=True)
        ]

    comm["note"] = notes
    per_year = _per_year(candidates, span, plans, starts=starts, done=done, awaiting=awaiting)
    if wanted:
        per_year.attrs["targets"] = _check_targets(candidates, wanted, per_year, done)
    return comm, per_year


#: What a community chosen for the first plan year may still lack before works start.
_PRE_WORKS: tuple[tuple[str, str], ...] = (
    ("scheme_vote_passed", "改造方案尚未经居民书面（线上）表决同意（住建部2021 底线(七)）"),
    (
        "property_fee_agreed",
        "物业管理模式、物业服务费用尚未经居民书面（线上）确认（住建部2021 底线(八)）",
    ),
)
#: The rollout's assumption for such a community.
_AWAITING_NOTE = "开工、竣工年份按当年完成表决和确认估算（本工具假设）"


def _awaiting_residents(
    candidates: pd.DataFrame, starts: np.ndarray[Any, np.dtype[np.float64]], first_year: int
) -> tuple[np.ndarray[Any, np.dtype[np.bool_]], list[str]]:
    """Chosen for the first plan year but not cleared by the residents to start: mask, notes.

    Later plan years are assumed to hold the vote and the confirmation in time.
    """
    first = starts == first_year
    lacking: list[list[str]] = [[] for _ in range(len(candidates))]
    for column, text in _PRE_WORKS:
        done = (
            candidates[column].astype("boolean").fillna(value=False).to_numpy(bool)
            if column in candidates.columns
            else np.zeros(len(candidates), dtype=bool)
        )
        for i in np.flatnonzero(first & ~done):
            lacking[i].append(text)
    notes = ["；".join([*texts, _AWAITING_NOTE]) if texts else "" for texts in lacking]
    waiting = np.array([bool(texts) for texts in lacking], dtype=bool)
    return waiting, notes


def _per_year(
    candidates: pd.DataFrame,
    span: list[int],
    plans: dict[int, dict[str, object]],
    *,
    starts: np.ndarray[Any, np.dtype[np.float64]],
    done: np.ndarray[Any, np.dtype[np.float64]],
    awaiting: np.ndarray[Any, np.dtype[np.bool_]],
) -> pd.DataFrame:
    households = pd.to_numeric(candidates["households"], errors="coerce").to_numpy(float)
    area = pd.to_numeric(candidates["floor_area_m2"], errors="coerce").to_numpy(float)
    has_buildings = "buildings" in candidates.columns
    buildings = (
        pd.to_numeric(candidates["buildings"], errors="coerce").to_numpy(float)
        if has_buildings
        else np.full(len(candidates), np.nan)
    )
    records = []
    for year in span:
        info = plans.get(year)
        record: dict[str, object] = {
            "year": year,
            "planned": info is not None,
            "plan_status": "" if info is None else info["status"],
            "budget_wan_yuan": np.nan if info is None else info["budget_wan_yuan"],
            "budget_used_wan_yuan": 0.0 if info is None else info["budget_used_wan_yuan"],
        }
        started = (starts == year) & ~awaiting
        for suffix, mask in (("started", started), ("completed", done == year)):
            record[f"communities_{suffix}"] = int(mask.sum())
            record[f"buildings_{suffix}"] = (
                int(np.nansum(buildings[mask])) if has_buildings else pd.NA
            )
            record[f"households_{suffix}"] = int(np.nansum(households[mask]))
            record[f"floor_area_m2_{suffix}"] = float(np.nansum(area[mask]))
        record["communities_in_construction"] = int(((starts < year) & (year < done)).sum())
        record["communities_awaiting_vote"] = int(((starts == year) & awaiting).sum())
        records.append(record)
    columns = [
        "year",
        "planned",
        "plan_status",
        "budget_wan_yuan",
        "budget_used_wan_yuan",
        "communities_started",
        "buildings_started",
        "households_started",
        "floor_area_m2_started",
        "communities_in_construction",
        "communities_awaiting_vote",
        "communities_completed",
        "buildings_completed",
        "households_completed",
        "floor_area_m2_completed",
    ]
    out = pd.DataFrame.from_records(records, columns=columns)
    for col in ("buildings_started", "buildings_completed"):
        out[col] = out[col].astype("Int64")
    out["budget_wan_yuan"] = out["budget_wan_yuan"].astype("float64")
    out["budget_used_wan_yuan"] = out["budget_used_wan_yuan"].astype("float64")
    table: pd.DataFrame = out
    return table


def _check_targets(
    candidates: pd.DataFrame,
    wanted: list[_Target],
    per_year: pd.DataFrame,
    done: np.ndarray[Any, np.dtype[np.float64]],
) -> list[dict[str, object]]:
    built = pd.to_numeric(candidates["built_year"], errors="coerce").to_numpy(float)
    under_way = np.isin(_project_states(candidates).to_numpy(dtype=object), _UNDER_WAY)
    in_scope = (candidates["status"].astype(str).to_numpy() != "not_eligible") | under_way
    report = []
    for target in wanted:
        counted = (built <= target.built_by) & in_scope
        total = int(counted.sum())
        cumulative = [
            int((counted & (done <= year)).sum()) / total if total else 1.0
            for year in per_year["year"]
        ]
        per_year[f"done_share_built_by_{target.built_by}"] = np.asarray(cumulative, dtype=float)
        completed = int((counted & (done <= target.by_year)).sum())
        share = completed / total if total else 1.0
        needed = math.ceil(target.share * total - 1e-9)
        met = completed >= needed
        report.append(
            {
                "target": target.name,
                "built_by": target.built_by,
                "required_share": target.share,
                "by_year": target.by_year,
                "communities": total,
                "completed": completed,
                "share": share,
                "met": met,
                "margin_share": share - target.share,
                "shortfall_communities": max(needed - completed, 0),
            }
        )
        logger.info(
            "target %s (built by %s, %.0f%% by %s): %d of %d completed, %s",
            target.name,
            target.built_by,
            100 * target.share,
            target.by_year,
            completed,
            total,
            "met" if met else "not met",
        )
    return report
