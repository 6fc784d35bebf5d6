"""Annual renovation plan (年度计划) and multi-year rollout (滚动实施).

* :func:`candidates` — one row per community from the earlier steps' tables: eligibility,
  scheme items, and from the funding table of :mod:`gisplan.finance` the money gap
  (``gap_wan_yuan``), the year the committed money is there (``money_year``) and the draw on
  each shared pool of public money (``pool_<source>_wan_yuan``);
* :func:`priority` — a weighted score per candidate community from its terms, each
  normalised to 0–1: age, safety-hazard items (gas, drainage, fire …), life-circle gap
  score, households benefiting and residents' consent (POLICY.md §2, §6);
* :func:`annual_plan` — next year's plan: the exact 0/1 integer program (HiGHS through
  :func:`scipy.optimize.milp`) that maximises the summed priority of the chosen communities
  within what the year can pay — each pool source's money available that year
  (:attr:`PlanLimits.pools`), optionally an overall cap on public money — and organise
  (communities, m²), after the gates (consent, status, money gap, money year); every community
  left out gets its true reason in Chinese (``selection_reason``, code ``selection_code``);
* :func:`rollout` — :func:`annual_plan` repeated year by year on the communities not yet
  chosen, with each year's pool money plus what earlier years left unused; each chosen
  community moves 储备 → 新开工 (its plan year) → 在建 → 竣工 (plan year + ``build_years``);
  counts, buildings, households and m² started and completed per year, and whether targets
  such as Linyi's ("all pre-2000 and ≥ 85% of pre-2005 by 2025") or Tongnan's yearly counts
  and m² are met (:func:`targets_table`).

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
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy.optimize import Bounds, LinearConstraint

from gisplan._frozen import FrozenMap
from gisplan._milp import quiet_milp, solver_status
from gisplan._text import is_number, is_whole
from gisplan.errors import InfeasibleError, LayerError, ScenarioError, SchemaError
from gisplan.vocabulary import codes, labels

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = [
    "ROLLOUT_STATES",
    "PlanLimits",
    "PriorityWeights",
    "annual_plan",
    "candidates",
    "limit_label",
    "pool_column",
    "pool_money",
    "priority",
    "rollout",
    "targets_table",
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

#: The statuses of the funding table (:mod:`gisplan.finance`): a draw is committed or
#: assumed; ``gap`` rows are what neither covers.
_FUNDING_STATUSES = ("committed", "assumed", "gap")
_FUNDING_COLUMNS = ("community_id", "source", "pool", "amount_wan_yuan", "year")
#: The funding table's status column: ``funding_status`` as :mod:`gisplan.finance` writes it
#: (``status`` alone means the eligibility status in our tables), or ``status``.
_STATUS_COLUMNS = ("funding_status", "status")
_POOL_COLUMN = re.compile(r"^pool_(?P<source>[a-z0-9_]+?)_wan_yuan$")
#: Money is compared to 1e-6 万元 (one 分 is 1e-6 万元).
_MONEY_DECIMALS = 6


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
    """What one year's plan can pay for and organise.

    Parameters
    ----------
    budget_wan_yuan
        Optional overall cap, in 万元, on the summed ``government_cost_wan_yuan`` (public
        money: the pool draws) of the chosen communities; ``None`` (default): no overall
        cap, only the pools bound the money. 0 lets in only communities with no public
        cost (an empty plan is explained in ``info["note"]``, not an error).
    max_communities
        Organising capacity: at most this many communities a year (``None``: no limit).
    max_floor_area_m2
        Organising capacity: at most this much floor area a year (``None``: no limit).
    require_consent
        Consent gate (national notice item 7): only ``"eligible"`` communities enter when
        ``True`` (default); ``"eligible_waiting_consent"`` enter too when ``False``.
    pools
        Money available in the plan year per pool source (source code → 万元), normally
        the finance step's ``funding_pools`` (see :func:`pool_money`): one constraint
        ``sum(x_i · pool_<source>_wan_yuan_i) <= pools[source]`` per source. ``None``
        (default): no per-source constraint (the pool draws count only through
        ``budget_wan_yuan``). When a mapping is given, a draw on a pool source it does not
        name has no money behind it: that draw is **unfunded, treated like a money gap**
        (the community does not enter unless ``allow_gap``; its reason names the source).
        This holds even when the finance rules count assumed money
        (``FundingRules.count_assumed``): that lets assumed money of the other payers
        (utilities, residents …) close a gap, but public pool money enters a plan only
        through the pool's money of the year.
    allow_gap
        ``False`` (default): a community with a money gap (``gap_wan_yuan > 0``, or an
        unfunded pool draw) does not enter. ``True``: it may enter, and its
        ``selection_reason`` flags the gap (code ``selected_with_gap``).
    require_ready
        Readiness gate, ``False`` (default). ``True``: only communities whose 项目储备库
        row is 就绪 (scheme drafted, publicised, voted, reviewed, funds committed,
        approvals done: the ``ready`` column :func:`gisplan.register.apply_register` adds)
        enter — 项目等钱, not 钱等项目 (Litong 2023 五(二) "实施一批，谋划一批，储备一批",
        "成熟一个、改造一个").
    sequence_built_before
        A year Y, or ``None`` (default). With Y, the plan first takes the communities
        built in or before Y (``built_year <= Y``) with the highest summed priority the
        year can carry, then fills what is left with the others (a lexicographic objective:
        two exact solves). Linyi 2020 一(三) 改造目标: "在完成2000年前建成的老旧小区改造
        基础上，确保完成2005年前建成老旧小区改造任务的85%以上" — pre-2000 first (Y = 2000);
        that the others fill the remaining capacity is our reading.

    Raises
    ------
    ScenarioError
        If the budget or a capacity is negative or not a number, a pool is not a funding
        source code or its money not >= 0, ``allow_gap`` is not true/false, or
        ``sequence_built_before`` is not a year (every problem listed).

    Examples
    --------
    >>> PlanLimits(budget_wan_yuan=4900, max_communities=20).max_communities
    20
    >>> PlanLimits(pools={"local_budget": 300}).pools["local_budget"]
    300.0
    >>> PlanLimits(budget_wan_yuan=-1)
    Traceback (most recent call last):
    ...
    gisplan.errors.ScenarioError: PlanLimits.budget_wan_yuan = -1 is negative; ...
    """

    budget_wan_yuan: float | None = None
    max_communities: int | None = None
    max_floor_area_m2: float | None = None
    require_consent: bool = True
    pools: Mapping[str, float] | None = None
    allow_gap: bool = False
    require_ready: bool = False
    sequence_built_before: int | None = None

    def __post_init__(self) -> None:
        """Check every limit; raise once listing all problems; freeze ``pools``."""
        problems: list[tuple[str, str, str]] = []
        budget = self.budget_wan_yuan
        if budget is not None and not (is_number(budget) and math.isfinite(float(budget))):
            problems.append(
                ("budget_wan_yuan", f"{budget!r} is not a number", "write 万元 such as 4900")
            )
        elif budget is not None and float(budget) < 0:
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
        for key in ("require_consent", "allow_gap", "require_ready"):
            flag: object = getattr(self, key)
            if not isinstance(flag, bool):
                problems.append((key, f"{flag!r} is not true/false", "write true or false"))
        year = self.sequence_built_before
        if year is not None and not is_whole(year):
            problems.append(
                (
                    "sequence_built_before",
                    f"{year!r} is not a year",
                    "write e.g. 2000 (Linyi: pre-2000 first), or leave it out",
                )
            )
        if self.pools is not None:
            problems.extend(_pool_problems(self.pools))
        ScenarioError.check("PlanLimits", "plan", problems)
        if self.pools is not None:
            frozen = FrozenMap({str(k): float(v) for k, v in self.pools.items()})
            object.__setattr__(self, "pools", frozen)


def _pool_problems(pools: object) -> list[tuple[str, str, str]]:
    """Problems of a ``pools`` mapping: source codes and 万元 >= 0."""
    if not isinstance(pools, Mapping):
        return [("pools", f"{pools!r} is not a mapping", "write {local_budget: 300, ...}")]
    from gisplan.finance import SOURCES  # noqa: PLC0415 - finance imports the solvers

    known = list(SOURCES)
    problems = []
    for source, money in pools.items():
        if source not in known:
            problems.append(
                (
                    f"pools.{source}",
                    "is not a funding source that commits money",
                    f"use one of {', '.join(known)}",
                )
            )
        elif not (is_number(money) and math.isfinite(float(money)) and float(money) >= 0):
            problems.append((f"pools.{source}", f"{money!r} is not 万元 >= 0", "write e.g. 300"))
    return problems


def pool_column(source: str) -> str:
    """Return the candidates column of the draws on a pool source (``pool_<source>_wan_yuan``).

    Examples
    --------
    >>> pool_column("local_budget")
    'pool_local_budget_wan_yuan'
    """
    return f"pool_{source}_wan_yuan"


def _pool_sources(frame: pd.DataFrame) -> list[str]:
    """Pool sources with a draw column in ``frame``, in the vocabulary's order."""
    found = [m["source"] for c in frame.columns if (m := _POOL_COLUMN.match(str(c)))]
    return _source_order(found)


def _source_order(sources: Sequence[str]) -> list[str]:
    order = {code: i for i, code in enumerate(codes("funding_source"))}
    return sorted(set(sources), key=lambda s: (order.get(s, len(order)), s))


def _source_zh(source: str) -> str:
    return labels("funding_source").get(source, source)


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
    pools: Sequence[str] | None = None,
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
        The funding table of :mod:`gisplan.finance`: one row per community x source x
        status with ``community_id, source, funding_status`` (committed / assumed / gap;
        a column named ``status`` is read when there is no ``funding_status``), ``pool``
        (bool: a shared pool of public money), ``amount_wan_yuan`` and ``year`` (when the
        money is there; blank if unknown). It adds, per community:

        * ``gap_wan_yuan`` — 资金缺口 = need − committed − (assumed, only where the
          scenario counts it): the sum of its ``gap`` rows and, when the table has finance's
          ``counted`` column, of its rows not counted (assumed money while
          ``FundingRules.count_assumed`` is false); 0 when none;
        * ``money_year`` — the latest ``year`` of its ``committed`` rows (Int64, <NA> when
          none has a year);
        * ``pool_<source>_wan_yuan`` — per pool source, the sum of its ``committed`` and
          ``assumed`` rows with ``pool`` true (0 when none); a column for every pool
          source some community draws on, and for every source in ``pools``;
        * ``government_cost_wan_yuan`` — the sum of its pool draws (public money), NaN for
          a community with no funding row at all.

        Other columns of the table (``source_zh``, ``payer_name``, ``reference``, ``rule``,
        ``mode`` …) are not read. Whether assumed money counts is decided by finance
        (``counted``), while a pool draw always needs the pool's money of the year
        (:attr:`PlanLimits.pools`).

        Without ``funding`` (``None``), the government cost is the sum of the scheme items
        the government pays and none of the columns above is added. A funding table of the
        earlier contract (no status or ``pool`` column: ``source, amount_yuan, mode``) still
        works: the government cost is then less what revenue projects pay (大片区统筹 /
        跨片区组合), and 0 for a community that balances itself (小区内自求平衡).
    pools
        Pool sources that get a ``pool_<source>_wan_yuan`` column even when no community
        draws on them (e.g. the sources of the finance step's ``funding_pools``); names
        that are not funding source codes are ignored.

    Returns
    -------
    pandas.DataFrame
        One row per community of the eligibility table, in the order of ``communities``
        (those that may not enter are listed by the plan as left out, with why).

    Raises
    ------
    SchemaError
        If a column of the funding contract is missing.
    LayerError
        If a funding status is not committed/assumed/gap, or an amount is blank, not a
        number or negative (every bad row listed).

    Examples
    --------
    >>> comm = pd.DataFrame({"community_id": ["C1", "C2"], "households": [100, 50]})
    >>> elig = pd.DataFrame({"community_id": ["C1", "C2"], "status": ["eligible", "not_eligible"]})
    >>> schemes = pd.DataFrame({"community_id": ["C1", "C1"], "item": [1, 2],
    ...     "payer": ["government", "utility"], "cost_yuan": [30_000.0, 5_000.0],
    ...     "safety": [True, False]})
    >>> table = candidates(comm, eligibility=elig, schemes=schemes)
    >>> table.columns.tolist()[:4], table["floor_area_m2"].isna().all()  # unknown, not 0 m²
    (['community_id', 'households', 'floor_area_m2', 'status'], np.True_)
    >>> table.drop(columns="floor_area_m2").values.tolist()
    [['C1', 100, 'eligible', 2, 1, 3.0], ['C2', 50, 'not_eligible', 0, 0, nan]]
    """
    money: pd.DataFrame | None = None
    if funding is not None and {"pool", *_STATUS_COLUMNS} & set(funding.columns):
        money = _funding_terms(funding, pools=pools)
    safety = schemes[schemes["safety"].astype(bool)].groupby("community_id")["item"].nunique()
    columns = ["community_id", "built_year", "households", "floor_area_m2", "buildings"]
    columns += ["participation_rate", "approval_rate", "start_year", "completion_year"]
    columns += ["scheme_vote_passed", "property_fee_agreed", "ready"]
    table = _survey_columns(communities, columns)
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
    if money is None:
        gov = _scheme_government_cost(schemes, funding)
        table["government_cost_wan_yuan"] = (ids.map(gov) / 10_000).round(2).to_numpy()
    else:
        funded = ids.isin(money.index).to_numpy(bool)
        for column in money.columns:
            values = ids.map(money[column])
            if column == "money_year":
                table[column] = pd.array(values.to_numpy(float), dtype="Float64").astype("Int64")
            elif column == "government_cost_wan_yuan":
                table[column] = values.astype("float64").to_numpy()
            else:
                table[column] = np.where(funded, values.to_numpy(dtype=float), 0.0)
    out: pd.DataFrame = table.reset_index(drop=True)
    return out


def _survey_columns(communities: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Return the communities' columns the plan reads; an absent floor_area_m2 is NaN."""
    table: pd.DataFrame = pd.DataFrame(
        communities[[c for c in columns if c in communities.columns]]
    )
    if "floor_area_m2" not in table.columns:  # optional in the layer: unknown, not a crash
        logger.info("candidates: no floor_area_m2 column; the plan's floor areas are unknown")
        table.insert(min(3, len(table.columns)), "floor_area_m2", np.nan)
    return table


def _scheme_government_cost(
    schemes: pd.DataFrame, funding: pd.DataFrame | None
) -> pd.Series[float]:
    """Return the government cost in 元 per community (without the funding contract).

    Its government-paid items, less (earlier funding contract) what revenue projects pay; 0
    for a community that balances itself.
    """
    gov: pd.Series[float] = (
        schemes[schemes["payer"] == "government"].groupby("community_id")["cost_yuan"].sum()
    )
    if funding is None:
        return gov
    from gisplan.finance import AREA_SOURCES  # noqa: PLC0415 - finance imports the solvers

    area = funding[funding["source"].isin(AREA_SOURCES)]
    gov = gov.sub(area.groupby("community_id")["amount_yuan"].sum(), fill_value=0.0)
    gov[gov.index.isin(funding.loc[funding["mode"] == "self_balance", "community_id"])] = 0.0
    out: pd.Series[float] = gov.clip(lower=0.0)
    return out


def _funding_terms(funding: pd.DataFrame, *, pools: Sequence[str] | None) -> pd.DataFrame:
    """Per community (index, text): gap, money year, pool draws and their sum (see candidates)."""
    status_column = next((c for c in _STATUS_COLUMNS if c in funding.columns), "funding_status")
    missing = [c for c in (*_FUNDING_COLUMNS, status_column) if c not in funding.columns]
    if missing:
        raise SchemaError(
            f"candidates: funding column(s) {', '.join(map(repr, missing))} missing (columns: "
            f"{', '.join(map(str, funding.columns))}); pass the funding table of "
            "gisplan.finance (community_id, source, funding_status, pool, amount_wan_yuan, "
            "year, ...)"
        )
    problems: list[str] = []
    status = funding[status_column].astype("string").str.strip()
    bad = status.isna() | ~status.isin(_FUNDING_STATUSES)
    if bad.any():
        shown = sorted({"<blank>" if pd.isna(v) else str(v) for v in status[bad]})
        problems.append(
            f"{status_column}: {', '.join(shown)} in rows {_listed(list(funding.index[bad]))}; "
            f"write one of {' / '.join(_FUNDING_STATUSES)}"
        )
    amount = pd.to_numeric(funding["amount_wan_yuan"], errors="coerce").astype("float64")
    wrong = amount.isna() | (amount < 0) | ~np.isfinite(amount.fillna(0.0))
    if wrong.any():
        problems.append(
            f"amount_wan_yuan: blank, not a number or negative in rows "
            f"{_listed(list(funding.index[wrong]))}"
        )
    year = pd.to_numeric(funding["year"], errors="coerce").astype("float64")
    unreadable = year.isna() & funding["year"].notna()
    if unreadable.any():
        problems.append(f"year: not a year in rows {_listed(list(funding.index[unreadable]))}")
    _raise_problems(problems)
    counted = (
        funding["counted"].astype("boolean").fillna(value=False).to_numpy(bool)
        if "counted" in funding.columns
        else np.ones(len(funding), dtype=bool)
    )
    rows = pd.DataFrame(
        {
            "counted": counted,
            "key": funding["community_id"].astype(str).to_numpy(),
            "source": funding["source"].astype(str).to_numpy(),
            "status": status.to_numpy(dtype=object),
            "pool": funding["pool"].astype("boolean").fillna(value=False).to_numpy(bool),
            "amount": amount.to_numpy(float),
            "year": year.to_numpy(float),
        }
    )
    draws = rows[rows["pool"] & rows["status"].isin(["committed", "assumed"])]
    from gisplan.finance import POOL_SOURCES, SOURCES  # noqa: PLC0415 - finance imports solvers

    named = [s for s in pools or [] if s in SOURCES]
    sources = _source_order([*draws.loc[draws["amount"] > 0, "source"], *named])
    out: pd.DataFrame = pd.DataFrame(index=pd.Index(sorted(set(rows["key"])), name="community_id"))
    gap = rows[(rows["status"] == "gap") | ~rows["counted"]].groupby("key")["amount"].sum()
    out["gap_wan_yuan"] = gap.reindex(out.index).fillna(0.0).round(_MONEY_DECIMALS)
    committed = rows[(rows["status"] == "committed") & rows["year"].notna()]
    out["money_year"] = committed.groupby("key")["year"].max().reindex(out.index)
    by_source = draws.pivot_table(
        index="key", columns="source", values="amount", aggfunc="sum", fill_value=0.0
    )
    for src in sources:
        drawn = by_source[src] if src in by_source.columns else pd.Series(dtype=float)
        out[pool_column(src)] = drawn.reindex(out.index).fillna(0.0).round(_MONEY_DECIMALS)
    public = draws[draws["source"].isin(POOL_SOURCES)]
    total = public.groupby("key")["amount"].sum().reindex(out.index).fillna(0.0)
    out["government_cost_wan_yuan"] = total.round(_MONEY_DECIMALS)
    logger.info(
        "candidates: funding of %d communities: gap on %d, pool sources %s",
        len(out),
        int((out["gap_wan_yuan"] > 0).sum()),
        ", ".join(sources) or "none",
    )
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
        since = "" if pd.isna(year) else f"（{int(year)}）"
        reasons.append(f"已{state}{since}：不再重复纳入计划（不得重复建设）")
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


#: Why a community may not enter the plan: eligibility status → (code, Chinese reason).
_STATUS_REASONS: dict[str, tuple[str, str]] = {
    _WAITING: (
        "waiting_consent",
        "待居民同意：居民参与率、同意率或长效管理共识尚未达到要求（住建部2021 底线(七)、(八)）",
    ),
    "not_eligible": ("not_eligible", "不符合条件：按改造资格规则不纳入"),
    "unknown": ("eligibility_unknown", "不符合条件：资格待核实，需补充调查"),
}
_VOTE_FAILED = ("vote_failed", "方案表决未通过：表决通过前不纳入计划")
_NO_ITEMS = ("no_scheme_items", "方案未确定：改造内容待核实，摸底确定前不纳入计划")
_NOT_READY = (
    "not_ready",
    (
        "项目未就绪：项目储备库中方案编制、公示、表决、联合审查、资金或审批尚未全部完成"
        "（利通区2023 五(二) 成熟一个、改造一个）"
    ),
)
_SELECTED = ("selected", "已选入")
_NOT_CHOSEN = (
    "not_chosen",
    "未选入：加入后不超出任何上限，但不提高计划的总优先级",
)
#: Codes of the limits a left-out community would break, by constraint row.
_LIMIT_CODES = {
    "budget": "over_budget",
    "max_communities": "over_max_communities",
    "max_floor_area": "over_max_floor_area",
}
#: Chinese names of the plan's limits (the constraint rows; pools are ``pool:<source>``).
_LIMIT_ZH = {
    "budget": "公共资金总额上限",
    "max_communities": "年度小区数量上限",
    "max_floor_area": "年度改造面积上限",
}


def limit_label(name: str) -> str:
    """Return the Chinese name of a plan limit (``info["binding"]`` / ``info["limiting"]``).

    Examples
    --------
    >>> limit_label("pool:utility"), limit_label("max_communities")
    ('专营单位年度资金', '年度小区数量上限')
    """
    if name.startswith("pool:"):
        return f"{_source_zh(name.removeprefix('pool:'))}年度资金"
    return _LIMIT_ZH.get(name, name)


_Array = np.ndarray[Any, np.dtype[Any]]
_Row = tuple[str, np.ndarray[Any, np.dtype[np.float64]], float]


def _entry_reasons(
    candidates: pd.DataFrame, *, require_consent: bool, require_ready: bool = False
) -> tuple[_Array, _Array]:
    """Return (code, Chinese reason) per community: ``""`` for those that may enter."""
    text = candidates["status"].astype("string")
    unknown = sorted({str(s) for s in text.dropna() if s not in _KNOWN_STATUSES})
    if text.isna().any() or unknown:
        shown = [*unknown, *(["<blank>"] if text.isna().any() else [])]
        raise LayerError(
            f"candidates: status {', '.join(shown)} not understood; write one of "
            f"{', '.join(sorted(_KNOWN_STATUSES))} (run gisplan.eligibility.assess)"
        )
    code = np.full(len(candidates), "", dtype=object)
    reason = np.full(len(candidates), "", dtype=object)
    for status, (status_code, status_reason) in _STATUS_REASONS.items():
        if status == _WAITING and not require_consent:
            continue
        mask = (text == status).to_numpy(bool)
        code[mask], reason[mask] = status_code, status_reason
    if require_ready:
        if "ready" not in candidates.columns:
            raise ScenarioError(
                "plan.require_ready: the communities carry no readiness (就绪); name last "
                "year's 项目储备库 in plan.register_file, or set require_ready: false"
            )
        ready = candidates["ready"].astype("boolean").fillna(value=False).to_numpy(bool)
        waiting = ~ready & (code == "")
        code[waiting], reason[waiting] = _NOT_READY
    failed = _vote_failed(candidates)
    code[failed], reason[failed] = _VOTE_FAILED
    if "scheme_items" in candidates.columns:
        empty = pd.to_numeric(candidates["scheme_items"], errors="coerce").eq(0).to_numpy(bool)
        open_ = (code == "") | (code == _STATUS_REASONS[_WAITING][0])
        code[empty & open_], reason[empty & open_] = _NO_ITEMS
    under_way = _under_way_reasons(candidates).to_numpy(dtype=object)
    busy = under_way != ""
    code[busy], reason[busy] = "under_way", under_way[busy]
    return code, reason


def _money_gates(
    candidates: pd.DataFrame,
    *,
    limits: PlanLimits,
    plan_year: int,
    gap: np.ndarray[Any, np.dtype[np.float64]],
    draws: Mapping[str, np.ndarray[Any, np.dtype[np.float64]]],
) -> tuple[_Array, _Array, _Array]:
    """Return (code, reason) of the money gates per community, and the gap flags.

    A money gap (``gap_wan_yuan > 0``) and a draw on a pool with no money given in
    ``limits.pools`` block the community unless ``limits.allow_gap`` (then they are the
    flag); money that arrives after the plan year (``money_year``) always blocks.
    """
    late = _optional_years(candidates, "money_year").to_numpy(float)
    unfunded = [] if limits.pools is None else [s for s in draws if s not in limits.pools]
    n = len(candidates)
    code = np.full(n, "", dtype=object)
    reason = np.full(n, "", dtype=object)
    flag = np.full(n, "", dtype=object)
    for i in range(n):
        gaps: list[tuple[str, str]] = []
        if gap[i] > 0:
            gaps.append(("funding_gap", f"资金缺口 {gap[i]:,.2f} 万元"))
        gaps.extend(
            (
                "pool_unavailable",
                f"资金缺口：{_source_zh(s)}无{plan_year}年可用资金（需 {draws[s][i]:,.2f} 万元）",
            )
            for s in unfunded
            if draws[s][i] > 0
        )
        blocks = [] if limits.allow_gap else list(gaps)
        if late[i] > plan_year:
            blocks.append(("money_year", f"资金{int(late[i])}年到位"))
        code[i] = "+".join(dict.fromkeys(c for c, _ in blocks))
        reason[i] = "；".join(r for _, r in blocks)
        flag[i] = "；".join(r for _, r in gaps) if limits.allow_gap else ""
    return code, reason, flag


def _breaks(row: _Row, picked: _Array, j: int) -> bool:
    """Whether candidate ``j`` added to ``picked`` breaks the constraint ``row``."""
    _, a, b = row
    return bool(float(a[picked].sum()) + float(a[j]) > b + 1e-9 * max(1.0, abs(b)))


def _limit_reasons(rows: list[_Row], picked: _Array, j: int) -> tuple[str, str]:
    """Return the code and Chinese reason of every limit ``j`` breaks when added to ``picked``."""
    broken: list[tuple[str, str]] = []
    for name, a, b in (row for row in rows if _breaks(row, picked, j)):
        used = float(a[picked].sum())
        if name.startswith("pool:"):
            source = _source_zh(name.removeprefix("pool:"))
            broken.append(
                (
                    "over_pool",
                    (
                        f"超出年度资金：{source} 可用 {b:,.2f} 万元，已用 {used:,.2f} 万元，"
                        f"本小区需 {a[j]:,.2f} 万元"
                    ),
                )
            )
        elif name == "budget":
            broken.append(
                (
                    _LIMIT_CODES[name],
                    (
                        f"超出年度预算：可用 {b:,.2f} 万元，已用 {used:,.2f} 万元，"
                        f"本小区需 {a[j]:,.2f} 万元"
                    ),
                )
            )
        elif name == "max_communities":
            broken.append(
                (
                    _LIMIT_CODES[name],
                    f"超出数量上限（max_communities）：每年最多 {b:.0f} 个小区，已选 {used:.0f} 个",
                )
            )
        else:
            broken.append(
                (
                    _LIMIT_CODES[name],
                    (
                        f"超出面积上限（max_floor_area_m2）：每年最多 {b:,.0f} m²，"
                        f"已选 {used:,.0f} m²，本小区 {a[j]:,.0f} m²"
                    ),
                )
            )
    if not broken:
        return _NOT_CHOSEN
    return "+".join(dict.fromkeys(c for c, _ in broken)), "；".join(r for _, r in broken)


def _solve(
    score: np.ndarray[Any, np.dtype[np.float64]],
    ids: Sequence[object],
    rows: list[_Row],
    *,
    first: np.ndarray[Any, np.dtype[np.bool_]] | None = None,
) -> tuple[np.ndarray[Any, np.dtype[np.bool_]], dict[str, object]]:
    """Solve max score·x s.t. each row's ``a·x <= b``, x in {0, 1}, ties by id order.

    With ``first``: lexicographic — the best summed priority of the ``first`` candidates,
    then the best total among the plans that keep it (two exact solves).
    """
    n = len(score)
    rank = np.empty(n, dtype=float)
    rank[np.argsort(np.asarray([str(i) for i in ids], dtype=object), kind="stable")] = np.arange(n)
    # The bonus halves with each step in id order: each id outweighs all later ids together,
    # so among plans of equal priority the one holding the earliest id wins (lexicographic).
    tie = _TIE_TOTAL * 0.5 ** (rank + 1)
    objective = -(_SCALE * score + tie)
    constraints = (
        [LinearConstraint(np.vstack([a for _, a, _ in rows]), -np.inf, [b for *_, b in rows])]
        if rows
        else []
    )
    if first is not None and first.any() and not first.all():
        stage = _binary_program(np.where(first, objective, 0.0), constraints)
        points = np.where(first, np.round(_SCALE * score), 0.0)  # integers: 6-decimal scores
        kept = float(points[np.asarray(stage.x, dtype=float) > 0.5].sum())  # noqa: PLR2004
        constraints = [*constraints, LinearConstraint(points[None, :], kept - 0.5, np.inf)]
    res = _binary_program(objective, constraints)
    chosen = np.asarray(res.x, dtype=float) > 0.5  # noqa: PLR2004 — 0/1 rounding
    gap = getattr(res, "mip_gap", None)
    return chosen, {
        "status": solver_status(res),
        "solver_message": str(res.message),
        "mip_gap": None if gap is None else float(gap),
    }


def _binary_program(
    objective: np.ndarray[Any, np.dtype[np.float64]], constraints: list[LinearConstraint]
) -> Any:  # noqa: ANN401 - scipy's OptimizeResult
    """Solve the 0/1 program exactly (HiGHS, no MIP gap); raise when it finds no plan."""
    res = quiet_milp(
        objective,
        integrality=np.ones(len(objective)),
        bounds=Bounds(0, 1),
        constraints=constraints,
        options={"mip_rel_gap": 0.0},
    )
    if res.x is None:
        raise InfeasibleError(f"annual plan: HiGHS found no plan ({res.message})")
    return res


def annual_plan(
    candidates: pd.DataFrame,
    *,
    limits: PlanLimits,
    weights: PriorityWeights = _DEFAULT_WEIGHTS,
    plan_year: int,
) -> tuple[pd.DataFrame, dict[str, object]]:
    """Choose one year's communities: the highest summed priority the year can pay and carry.

    Exact 0/1 integer program (HiGHS via :func:`scipy.optimize.milp`, relative MIP gap 0)::

        maximise   sum(priority_i x_i)
        subject to sum(pool_<s>_wan_yuan_i x_i)     <= pools[s]           (each s in pools)
                   sum(government_cost_wan_yuan_i x_i) <= budget_wan_yuan (if set)
                   sum(x_i)                         <= max_communities   (if set)
                   sum(floor_area_m2_i x_i)         <= max_floor_area_m2 (if set)

    over the communities past the gates: eligibility and consent, status (never planned
    again once started), scheme vote, scheme items, money gap (``gap_wan_yuan > 0`` or a
    draw on a pool with no money in ``limits.pools``; both let in, flagged, with
    ``allow_gap``) and money year (``money_year > plan_year``: the money is not there
    yet). With :attr:`PlanLimits.sequence_built_before` the objective is lexicographic
    (communities built by that year first). Among plans of equal priority (scores are
    rounded to 6 decimals) the one holding the earliest ``community_id`` (text order) wins:
    each candidate gets a tiny id-ordered bonus that halves with each step in id order, all
    bonuses together worth less than 1e-6 of priority. HiGHS stops within an absolute gap of
    1e-6 of that bonus scale, so the bonus decides reliably among roughly the first 18 ids in
    text order; a tie further down is HiGHS's own (still deterministic) choice. The solver's
    status and MIP gap are reported as they are.

    Every community gets its true reason in Chinese (``selection_reason``) and an English
    code (``selection_code``). A community that passed the gates but was not chosen is
    told **every limit it would break if added to the chosen set** (each pool by name with
    the money available and used, the budget, ``max_communities``, ``max_floor_area_m2``):

    ================================  ================================================
    selection_code                    selection_reason (Chinese)
    ================================  ================================================
    selected                          已选入
    selected_with_gap                 已选入（资金缺口 …；情景允许带缺口纳入 allow_gap）
    over_pool                         超出年度资金：{来源} 可用 X 万元，已用 Y 万元，…
    over_budget                       超出年度预算：可用 X 万元，已用 Y 万元，…
    over_max_communities              超出数量上限（max_communities）：…
    over_max_floor_area               超出面积上限（max_floor_area_m2）：…
    funding_gap                       资金缺口 X 万元
    pool_unavailable                  资金缺口：{来源}无{年}年可用资金（需 X 万元）
    money_year                        资金{year}年到位
    waiting_consent                   待居民同意：…
    not_eligible                      不符合条件：按改造资格规则不纳入
    eligibility_unknown               不符合条件：资格待核实，需补充调查
    vote_failed                       方案表决未通过：表决通过前不纳入计划
    no_scheme_items                   方案未确定：改造内容待核实，摸底确定前不纳入计划
    not_ready                         项目未就绪：项目储备库中…尚未全部完成（require_ready）
    under_way                         已在建（2025）：不再重复纳入计划（不得重复建设）
    not_chosen                        未选入：加入后不超出任何上限，但不提高计划的总优先级
    ================================  ================================================

    Several limits or money gates are joined with ``+`` (codes) and ``；`` (reasons).

    Parameters
    ----------
    candidates
        The columns of :func:`priority`, plus ``status`` (eligibility status of
        :func:`gisplan.eligibility.assess`), ``government_cost_wan_yuan`` (public money, >=
        0; required for communities that may enter when ``budget_wan_yuan`` is set) and
        ``floor_area_m2`` (required for them when ``max_floor_area_m2`` is set).
        Optional: the money columns of :func:`candidates` (``gap_wan_yuan``,
        ``money_year``, ``pool_<source>_wan_yuan``; blank counts as 0 / no year),
        ``project_status`` (储备/新开工/在建/竣工; a community already 新开工, 在建 or 竣工
        never enters), ``start_year``/``completion_year`` (named in its reason),
        ``scheme_vote_passed`` (``False``: the residents voted the scheme down, so it does
        not enter) and ``scheme_items`` (0: no item decided yet, so it does not enter).
    limits
        Money, capacities and gates of the year.
    weights
        Weights of :func:`priority`.
    plan_year
        Year of the plan.

    Returns
    -------
    table : pandas.DataFrame
        One row per candidate, sorted by priority (descending) then ``community_id``,
        RangeIndex: ``community_id, priority, selected`` (bool), ``selection_reason``,
        ``selection_code``, ``status``, ``project_status`` (储备/新开工/在建/竣工),
        ``government_cost_wan_yuan``, ``floor_area_m2``, and the money columns of the
        candidates when present (``gap_wan_yuan``, ``money_year``,
        ``pool_<source>_wan_yuan``).
    info : dict
        ``plan_year``; ``status`` (``"optimal"``, ``"limit reached (not proven
        optimal)"``, …, or ``"not solved"`` when nothing could be chosen);
        ``solver_message``; ``mip_gap`` (HiGHS's, ``None`` if not solved); ``objective``
        (summed priority of the chosen); ``chosen`` (count); ``entered`` (candidates past
        the gates); ``budget_wan_yuan`` (``None``: no cap), ``budget_used_wan_yuan``
        (public money of the chosen), ``floor_area_used_m2``; ``pools`` (source →
        ``{"available_wan_yuan", "used_wan_yuan"}``); ``allow_gap``, ``chosen_with_gap``;
        ``sequence_built_before``; ``binding`` (limits some candidate draws on, met with
        equality: ``pool:<source>``, ``budget``, ``max_communities``, ``max_floor_area``);
        ``limiting`` (each limit that keeps out a community past the gates → how many: a
        limit can keep a community out without being used up); ``note`` (why the plan is
        empty, else "").

    Raises
    ------
    SchemaError
        If a required column is missing.
    LayerError
        If ids repeat, a status is not an eligibility status, or a cost, area, gap or pool
        draw is not a number or negative, or missing where needed (every bad cell listed).
    ScenarioError
        If ``plan_year`` is not a year (bad limits already fail in :class:`PlanLimits`).

    Examples
    --------
    >>> df = pd.DataFrame({"community_id": ["A", "B"], "built_year": [1976, 2001],
    ...                    "households": [200, 100], "status": "eligible",
    ...                    "government_cost_wan_yuan": [60.0, 50.0],
    ...                    "floor_area_m2": [9000.0, 4000.0]})
    >>> table, info = gisplan.plan.annual_plan(
    ...     df, limits=gisplan.plan.PlanLimits(budget_wan_yuan=100), plan_year=2026)
    >>> table[["community_id", "selection_code"]].to_numpy().tolist(), info["status"]
    ([['A', 'selected'], ['B', 'over_budget']], 'optimal')
    >>> table.loc[1, "selection_reason"]
    '超出年度预算：可用 100.00 万元，已用 60.00 万元，本小区需 50.00 万元'
    """
    _require(
        candidates,
        ["community_id", "status", "government_cost_wan_yuan", "floor_area_m2"],
        fix="add the eligibility status (gisplan.eligibility.assess) and the costs",
    )
    score = priority(candidates, plan_year=plan_year, weights=weights).to_numpy(float)
    inp = _plan_inputs(candidates, limits=limits, plan_year=plan_year)
    idx = np.flatnonzero(inp.enter)
    pools = dict(limits.pools or {})
    rows = _constraint_rows(inp, limits, idx)
    info: dict[str, object] = {
        "plan_year": int(plan_year),
        "status": "not solved",
        "solver_message": "",
        "mip_gap": None,
        "objective": 0.0,
        "chosen": 0,
        "entered": len(idx),
        "budget_wan_yuan": inp.budget,
        "budget_used_wan_yuan": 0.0,
        "floor_area_used_m2": 0.0,
        "pools": {},
        "allow_gap": limits.allow_gap,
        "chosen_with_gap": 0,
        "sequence_built_before": limits.sequence_built_before,
        "binding": [],
        "limiting": {},
        "note": "",
    }
    chosen = np.zeros(len(candidates), dtype=bool)
    picked = np.zeros(len(idx), dtype=bool)
    if len(idx):
        first = None
        if limits.sequence_built_before is not None:
            built = pd.to_numeric(candidates["built_year"], errors="coerce").to_numpy(float)
            first = (built <= limits.sequence_built_before)[idx]
        ids = candidates["community_id"].to_numpy(dtype=object)[idx].tolist()
        picked, solved = _solve(score[idx], ids, rows, first=first)
        info.update(solved)
        chosen[idx[picked]] = True
        info["binding"] = [
            name
            for name, a, b in rows
            if (a > 0).any() and math.isclose(float(a[picked].sum()), b, rel_tol=1e-9, abs_tol=1e-9)
        ]
    info["limiting"] = _final_reasons(inp, rows, idx=idx, picked=picked, chosen=chosen)
    used_cost = float(np.nansum(inp.cost[chosen]))
    info.update(
        objective=round(float(score[chosen].sum()), _PRIORITY_DECIMALS),
        chosen=int(chosen.sum()),
        budget_used_wan_yuan=used_cost,
        floor_area_used_m2=float(np.nansum(inp.area[chosen])),
        pools={
            s: {
                "available_wan_yuan": float(pools[s]),
                "used_wan_yuan": round(
                    float(inp.draws[s][chosen].sum()) if s in inp.draws else 0.0, _MONEY_DECIMALS
                ),
            }
            for s in _source_order(list(pools))
        },
        chosen_with_gap=int((inp.code == "selected_with_gap").sum()),
    )
    if not chosen.any():
        info["note"] = _empty_note(inp.code, inp.enter, budget=inp.budget, plan_year=plan_year)
    result = _plan_table(candidates, score, inp, chosen)
    logger.info(
        "annual plan %s: %s, %d of %d entered chosen, %.2f 万元 public money (cap %s), "
        "pools %s, binding %s",
        plan_year,
        info["status"],
        info["chosen"],
        info["entered"],
        used_cost,
        inp.budget,
        info["pools"],
        info["binding"],
    )
    return result, info


@dataclass(frozen=True, slots=True)
class _Inputs:
    """The checked numbers of the candidates and where each stands after the gates."""

    cost: np.ndarray[Any, np.dtype[np.float64]]
    area: np.ndarray[Any, np.dtype[np.float64]]
    gap: np.ndarray[Any, np.dtype[np.float64]]
    draws: dict[str, np.ndarray[Any, np.dtype[np.float64]]]
    code: _Array  # "" while a community may enter; completed by _final_reasons
    reason: _Array
    flag: _Array  # the money gap let in by allow_gap, to flag
    enter: np.ndarray[Any, np.dtype[np.bool_]]
    budget: float | None


def _plan_inputs(candidates: pd.DataFrame, *, limits: PlanLimits, plan_year: int) -> _Inputs:
    """Read and check the numbers; apply the entry and money gates (every problem listed)."""
    entry_code, entry_reason = _entry_reasons(
        candidates, require_consent=limits.require_consent, require_ready=limits.require_ready
    )
    problems: list[str] = []
    cost = _numbers(candidates, "government_cost_wan_yuan", problems)
    area = _numbers(candidates, "floor_area_m2", problems)
    gap = _numbers(candidates, "gap_wan_yuan", problems).fillna(0.0).to_numpy(float)
    draws = {
        s: _numbers(candidates, pool_column(s), problems).fillna(0.0).to_numpy(float)
        for s in _pool_sources(candidates)
    }
    _raise_problems(problems)
    money_code, money_reason, flag = _money_gates(
        candidates, limits=limits, plan_year=plan_year, gap=gap, draws=draws
    )
    open_ = entry_code == ""
    code = np.where(open_, money_code, entry_code).astype(object)
    enter = (code == "").astype(bool)
    budget = None if limits.budget_wan_yuan is None else float(limits.budget_wan_yuan)
    needed = [("government_cost_wan_yuan", cost)] if budget is not None else []
    if limits.max_floor_area_m2 is not None:
        needed.append(("floor_area_m2", area))
    for name, values in needed:
        blank = values.isna().to_numpy(bool) & enter
        if blank.any():
            where = _listed(list(candidates.index[blank]))
            problems.append(f"{name}: missing in rows {where}, which may enter the plan")
    _raise_problems(problems)
    return _Inputs(
        cost=cost.to_numpy(float),
        area=area.to_numpy(float),
        gap=gap,
        draws=draws,
        code=code,
        reason=np.where(open_, money_reason, entry_reason).astype(object),
        flag=np.where(open_, flag, "").astype(object),
        enter=enter,
        budget=budget,
    )


def _constraint_rows(
    inp: _Inputs, limits: PlanLimits, idx: np.ndarray[Any, np.dtype[np.intp]]
) -> list[_Row]:
    """Return the constraints over the entering candidates ``idx``: pools, budget, capacity."""
    pools = dict(limits.pools or {})
    rows: list[_Row] = [
        (f"pool:{s}", inp.draws.get(s, np.zeros(len(inp.cost)))[idx], float(pools[s]))
        for s in _source_order(list(pools))
    ]
    if inp.budget is not None:
        rows.append(("budget", inp.cost[idx], inp.budget))
    if limits.max_communities is not None:
        rows.append(("max_communities", np.ones(len(idx)), float(limits.max_communities)))
    if limits.max_floor_area_m2 is not None:
        rows.append(("max_floor_area", inp.area[idx], float(limits.max_floor_area_m2)))
    return rows


def _final_reasons(
    inp: _Inputs,
    rows: list[_Row],
    *,
    idx: np.ndarray[Any, np.dtype[np.intp]],
    picked: np.ndarray[Any, np.dtype[np.bool_]],
    chosen: np.ndarray[Any, np.dtype[np.bool_]],
) -> dict[str, int]:
    """Fill the codes and reasons of the entering candidates (chosen or not) in place.

    Return each limit that keeps some of them out, with how many (in constraint order).
    """
    code, reason, flag = inp.code, inp.reason, inp.flag
    limiting = dict.fromkeys((name for name, *_ in rows), 0)
    for j, i in enumerate(idx):
        if not picked[j]:
            code[i], reason[i] = _limit_reasons(rows, picked, j)
            for row in rows:
                limiting[row[0]] += _breaks(row, picked, j)
            if flag[i]:
                reason[i] += f"；另有{flag[i]}"
    gapped = chosen & (flag != "")
    code[chosen], reason[chosen] = _SELECTED
    code[gapped] = "selected_with_gap"
    for i in np.flatnonzero(gapped):
        reason[i] = f"已选入（{flag[i]}；情景允许带缺口纳入 allow_gap）"
    return {name: n for name, n in limiting.items() if n}


def _plan_table(
    candidates: pd.DataFrame,
    score: np.ndarray[Any, np.dtype[np.float64]],
    inp: _Inputs,
    chosen: np.ndarray[Any, np.dtype[np.bool_]],
) -> pd.DataFrame:
    """Return the plan table, sorted by priority (descending) then id."""
    table = pd.DataFrame(
        {
            "community_id": candidates["community_id"].to_numpy(),
            "priority": score,
            "selected": chosen,
            "selection_reason": inp.reason,
            "selection_code": inp.code,
            "status": candidates["status"].astype(str).to_numpy(dtype=object),
            "project_status": _project_states(candidates).to_numpy(dtype=object),
            "government_cost_wan_yuan": inp.cost,
            "floor_area_m2": inp.area,
        }
    )
    if "gap_wan_yuan" in candidates.columns:
        table["gap_wan_yuan"] = inp.gap
    if "money_year" in candidates.columns:
        late = _optional_years(candidates, "money_year").to_numpy(float)
        table["money_year"] = pd.array(late, dtype="Float64").astype("Int64")
    for s, values in inp.draws.items():
        table[pool_column(s)] = values
    table["community_id"] = table["community_id"].astype(candidates["community_id"].dtype)
    table["_key"] = table["community_id"].astype(str)
    table = table.sort_values(["priority", "_key"], ascending=[False, True], kind="stable")
    result: pd.DataFrame = table.drop(columns="_key").reset_index(drop=True)
    return result


def _empty_note(code: _Array, enter: _Array, *, budget: float | None, plan_year: int) -> str:
    """Why a plan is empty."""
    if budget == 0 and enter.any():
        return (
            f"budget for {plan_year} is 0 万元: only communities with no public cost fit, the "
            "plan is empty; set plan.budget_wan_yuan to the year's cap, or leave it out"
        )
    if not enter.any():
        counts: dict[str, int] = {}
        for value in code:
            for part in str(value).split("+"):
                counts[part] = counts.get(part, 0) + 1
        gates = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
        return f"no candidate may enter the plan (gates: {gates}); see the selection_reason column"
    return "no community fits the year's money (pools, budget) and capacity; the plan is empty"


# --------------------------------------------------------------------------- rollout


@dataclass(frozen=True, slots=True)
class _Target:
    """One target: a share completed, or a yearly amount.

    ``measure`` ``share``: of the communities built by ``built_by``, completed by
    ``by_year``; else ``started``, ``started_m2``, ``completed`` or ``completed_m2`` in year
    ``by_year``.
    """

    name: str
    built_by: int | None
    share: float
    by_year: int
    measure: str = "share"
    required: float = 0.0


#: Yearly target keys → (per_year column, Chinese wording, unit).
_YEARLY: dict[str, tuple[str, str, str]] = {
    "started": ("communities_started", "新开工", "个"),
    "started_m2": ("floor_area_m2_started", "新开工建筑面积", "m²"),
    "completed": ("communities_completed", "竣工", "个"),
    "completed_m2": ("floor_area_m2_completed", "竣工建筑面积", "m²"),
}


def _year(value: object) -> int | None:
    """Return ``value`` as a year, or ``None`` if it is not a whole number."""
    return (
        int(value) if isinstance(value, (int, np.integer)) and not isinstance(value, bool) else None
    )


def _yearly_targets(value: object) -> tuple[list[_Target], list[tuple[str, str, str]]]:
    """Parse ``yearly: [{year: 2022, started: 38, started_m2: 620000, completed: 99}]``."""
    problems: list[tuple[str, str, str]] = []
    items = list(value) if isinstance(value, (list, tuple)) else None
    if items is None:
        fix = "write [{year: 2022, started: 38, started_m2: 620000, completed: 99}]"
        return [], [("yearly", f"{value!r} is not a list", fix)]
    out: list[_Target] = []
    for k, item in enumerate(items):
        where = f"yearly[{k}]"
        if not isinstance(item, Mapping):
            problems.append((where, f"{item!r} is not a mapping", "write {year: 2022, ...}"))
            continue
        year = _year(item.get("year"))
        if year is None:
            problems.append((f"{where}.year", f"{item.get('year')!r} is not a year", "write 2022"))
        unknown = [str(key) for key in item if key not in {"year", *_YEARLY}]
        problems.extend(
            (f"{where}.{key}", "unknown key", f"use year, {', '.join(_YEARLY)}") for key in unknown
        )
        given = [key for key in _YEARLY if key in item]
        if not given:
            problems.append((where, "no amount given", f"add one of {', '.join(_YEARLY)}"))
        for key in given:
            amount = item[key]
            whole = _YEARLY[key][2] == "个"
            ok = is_whole(amount) if whole else is_number(amount)
            if not (ok and math.isfinite(float(amount)) and float(amount) >= 0):
                kind = "a count" if whole else "m²"
                problems.append((f"{where}.{key}", f"{amount!r} is not {kind} >= 0", "write 38"))
            elif year is not None:
                out.append(_Target(f"{key}_{year}", None, 1.0, year, key, float(amount)))
    return out, problems


def _targets(targets: Mapping[str, object] | None, *, first_year: int) -> list[_Target]:
    if not targets:
        return []
    known = {"all_built_before", "share_built_before", "by_year", "yearly"}
    problems: list[tuple[str, str, str]] = [
        (str(k), f"{v!r} under an unknown key", f"use {', '.join(sorted(known))}")
        for k, v in targets.items()
        if k not in known
    ]
    by_year = _year(targets.get("by_year"))
    built_targets = {"all_built_before", "share_built_before"} & set(targets)
    if by_year is None and (built_targets or "yearly" not in targets):
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
    yearly: list[_Target] = []
    if "yearly" in targets:
        yearly, more = _yearly_targets(targets["yearly"])
        problems.extend(more)
    if not out and not yearly and not problems:
        problems.append(
            ("keys", "no target given", "add all_built_before, share_built_before or yearly")
        )
    early = [t.name for t in yearly if t.by_year < first_year]
    if early:
        problems.append(
            (
                "yearly",
                f"{_listed(early)} before the first plan year {first_year}",
                "the rollout counts plan years only; drop past years",
            )
        )
    ScenarioError.check("targets", "plan.targets", problems)
    built = [_Target(name, built_by, share, by_year or 0) for name, built_by, share in out]
    return [*built, *yearly]


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


def pool_money(funding_pools: pd.DataFrame, years: Sequence[int]) -> dict[int, dict[str, float]]:
    """Return the new pool money of each plan year: year → source → 万元.

    A plan year's money is the sum of ``committed_wan_yuan`` of the rows of its pool
    source dated after the previous plan year and up to it; the first plan year also gets
    the money of every earlier year (committed before the plan starts and not spent by any
    plan the tool knows of). Money dated after the last plan year is left out. Every source
    of the table is in every year (0 when none), so a year without money still caps it.
    Every row is county-wide money (a budget, a quota, or a utility's framework agreement);
    rows whose source is not a funding source code are left out (logged).

    Parameters
    ----------
    funding_pools
        The finance step's ``funding_pools`` table: ``source``, ``year`` (whole) and
        ``committed_wan_yuan`` (>= 0); other columns are not read.
    years
        The plan years.

    Returns
    -------
    dict
        For each plan year (ascending), the money of each source, sources in the
        vocabulary's order.

    Raises
    ------
    SchemaError
        If a column is missing.
    LayerError
        If a year is not a whole number or an amount is not >= 0 (every bad row listed).

    Examples
    --------
    >>> pools = pd.DataFrame({"source": ["local_budget", "local_budget", "land_transfer"],
    ...                       "year": [2025, 2027, 2027], "committed_wan_yuan": [50, 80, 30]})
    >>> pool_money(pools, [2026, 2027])
    {2026: {'local_budget': 50.0, 'land_transfer': 0.0}, 2027: {'local_budget': 80.0, 'land_transfer': 30.0}}
    """  # noqa: E501 - the doctest's output line
    missing = [c for c in ("source", "year", "committed_wan_yuan") if c not in funding_pools]
    if missing:
        raise SchemaError(
            f"funding_pools: column(s) {', '.join(map(repr, missing))} missing; pass the "
            "funding_pools table of gisplan.finance (source, year, committed_wan_yuan)"
        )
    problems: list[str] = []
    year = pd.to_numeric(funding_pools["year"], errors="coerce")
    bad_year = year.isna() | (year.fillna(0) % 1 != 0)
    if bad_year.any():
        problems.append(f"year: not a year in rows {_listed(list(funding_pools.index[bad_year]))}")
    money = pd.to_numeric(funding_pools["committed_wan_yuan"], errors="coerce")
    bad_money = money.isna() | (money < 0) | ~np.isfinite(money.fillna(0.0))
    if bad_money.any():
        rows = _listed(list(funding_pools.index[bad_money]))
        problems.append(f"committed_wan_yuan: not 万元 >= 0 in rows {rows}")
    if problems:
        raise LayerError("funding_pools: bad values:\n  " + "\n  ".join(problems))
    plan_years = sorted(int(y) for y in years)
    from gisplan.finance import SOURCES  # noqa: PLC0415 - finance imports the solvers

    source = funding_pools["source"].astype(str)
    other = sorted(set(source) - set(SOURCES))
    if other:
        logger.info("funding_pools: %s are not funding sources; their rows are left out", other)
    pooled = source.isin(SOURCES).to_numpy(bool)
    sources = _source_order(source[pooled].tolist())
    out: dict[int, dict[str, float]] = {}
    previous: float = -math.inf
    for plan_year in plan_years:
        now = ((year > previous) & (year <= plan_year)).to_numpy(bool) & pooled
        given = money[now].groupby(source[now]).sum()
        out[plan_year] = {s: round(float(given.get(s, 0.0)), _MONEY_DECIMALS) for s in sources}
        previous = plan_year
    return out


def _plan_years(years: Sequence[int], build_years: int) -> list[int]:
    """Return the plan years ascending; check them and ``build_years`` (every problem listed)."""
    plan_years = list(years)
    problems: list[tuple[str, str, str]] = []
    if not plan_years or not all(is_whole(y) for y in plan_years):
        problems.append(("years", f"{plan_years!r} are not whole years", "write [2026, 2027]"))
    elif len(set(plan_years)) != len(plan_years):
        problems.append(("years", f"{plan_years!r} repeat a year", "list each year once"))
    if not (is_whole(build_years) and build_years >= 1):
        problems.append(("build_years", f"{build_years!r} is not >= 1", "write e.g. 2"))
    ScenarioError.check("rollout", "plan", problems)
    return sorted(int(y) for y in plan_years)


def _carry_over(
    year: int, new: Mapping[str, float], carry: dict[str, float], info: Mapping[str, object]
) -> list[dict[str, object]]:
    """Return the year's pool rows and update ``carry`` to what the year left unused."""
    rows = []
    pools: Any = info["pools"]
    for source, pool in pools.items():
        rest = round(pool["available_wan_yuan"] - pool["used_wan_yuan"], _MONEY_DECIMALS)
        rows.append(
            {
                "year": year,
                "source": source,
                "source_zh": _source_zh(source),
                "pool_committed_wan_yuan": float(new.get(source, 0.0)),
                "carried_in_wan_yuan": carry.get(source, 0.0),
                "pool_available_wan_yuan": pool["available_wan_yuan"],
                "pool_used_wan_yuan": pool["used_wan_yuan"],
                "carried_out_wan_yuan": rest,
            }
        )
        carry[source] = rest
    return rows


def _add_pool_totals(per_year: pd.DataFrame, pool_rows: list[dict[str, object]]) -> None:
    """Add the pool money available and used per year (all sources) and the rows as attrs."""
    frame = pd.DataFrame.from_records(pool_rows)
    totals = frame.groupby("year")[["pool_available_wan_yuan", "pool_used_wan_yuan"]].sum()
    for column in ("available", "used"):
        per_year[f"pools_{column}_wan_yuan"] = (
            per_year["year"].map(totals[f"pool_{column}_wan_yuan"]).astype("float64")
        )
    per_year.attrs["pools"] = pool_rows


def _year_money(
    plan_years: list[int],
    limits: dict[int, PlanLimits],
    funding_pools: pd.DataFrame | None,
) -> dict[int, dict[str, float]] | None:
    """Return the new pool money per plan year: ``funding_pools``, or the limits' ``pools``."""
    given = [y for y in plan_years if limits[y].pools is not None]
    if funding_pools is not None and given:
        raise ScenarioError(
            f"rollout: pool money given twice (funding_pools and PlanLimits.pools of "
            f"{_listed(given)}); give it once"
        )
    if funding_pools is not None:
        return pool_money(funding_pools, plan_years)
    if not given:
        return None
    return {y: dict(limits[y].pools or {}) for y in given}


def rollout(
    candidates: pd.DataFrame,
    *,
    years: Sequence[int],
    limits_per_year: PlanLimits | Mapping[int, PlanLimits],
    build_years: int = 1,
    weights: PriorityWeights = _DEFAULT_WEIGHTS,
    targets: Mapping[str, object] | None = None,
    funding_pools: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Plan year after year and follow each community to completion.

    For each year in ``years`` (ascending), :func:`annual_plan` runs on the communities
    not chosen in an earlier year (priorities are recomputed for that year and those
    communities). A community chosen in year ``y`` is 新开工 in ``y``, 在建 until
    ``y + build_years - 1`` and 竣工 from ``y + build_years``; before ``y`` it is 储备.
    An eligible community not chosen (or waiting for consent) stays 储备; a community
    that is ``not_eligible`` or ``unknown`` is 未纳入 (not in the programme).

    **Pool money over the years.** A plan year's pool money is that year's new money plus
    what the earlier plan years left unused: ``available(y) = new(y) + available(y_prev) -
    used(y_prev)`` per pool source. The new money comes from ``funding_pools`` (the finance
    step's pool commitments by year; see :func:`pool_money` for the years between and
    before plan years) or, without it, from each year's :attr:`PlanLimits.pools` (read as
    that year's new money). A year whose limits give no pools and without
    ``funding_pools`` has no per-source constraint. ``per_year.attrs["pools"]`` shows the
    money year by year.

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

    Targets: built-by targets (Linyi 2020 一(三): ``{"all_built_before": 2000,
    "share_built_before": (2005, 0.85), "by_year": 2025}``) count **communities
    completed** (竣工 in or before ``by_year``) among those **built in or before** the
    named year (``built_year <= year``), leaving out those ``not_eligible`` (outside the
    programme by rule); ``unknown`` ones stay in the count, since a survey may still
    qualify them. Yearly targets (Tongnan 2021 一(三): ``{"yearly": [{"year": 2022,
    "started": 38, "started_m2": 620000, "completed": 99}]}``) compare the year's
    ``communities_started``, ``floor_area_m2_started``, ``communities_completed`` or
    ``floor_area_m2_completed`` (keys ``started``, ``started_m2``, ``completed``,
    ``completed_m2``) with the amount; their year must not be before the first plan year.
    :func:`targets_table` gives the table.

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
        Optional targets (keys above); ``by_year`` is required with a built-by target.
    funding_pools
        The finance step's ``funding_pools`` table (``source, year,
        committed_wan_yuan``), or ``None``. Not together with ``PlanLimits.pools``.

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
        ``budget_wan_yuan`` (NaN: no cap), ``budget_used_wan_yuan`` (public money used),
        ``communities_started``, ``buildings_started``, ``households_started``,
        ``floor_area_m2_started``, ``communities_in_construction``,
        ``communities_awaiting_vote``, ``communities_completed``, ``buildings_completed``,
        ``households_completed``, ``floor_area_m2_completed`` (buildings <NA> without a
        ``buildings`` column). With pool money, ``pools_available_wan_yuan`` and
        ``pools_used_wan_yuan`` (all sources) and ``per_year.attrs["pools"]``: one dict per
        plan year and source with ``year, source, source_zh, pool_committed_wan_yuan``
        (new money), ``carried_in_wan_yuan``, ``pool_available_wan_yuan``,
        ``pool_used_wan_yuan``, ``carried_out_wan_yuan``. With targets, a column
        ``done_share_built_by_<year>`` (cumulative share completed) per built-by target and
        ``per_year.attrs["targets"]``: one dict per target with the columns of
        :func:`targets_table`, plus ``required_share``, ``margin_share`` (share -
        required) and ``shortfall_communities`` (for built-by targets).

    Raises
    ------
    ScenarioError
        If ``years``, ``build_years``, ``limits_per_year`` or ``targets`` are not valid, or
        pool money is given twice (every problem listed).
    SchemaError, LayerError
        As for :func:`annual_plan`, and for a bad ``funding_pools``.

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
    plan_years = _plan_years(years, build_years)
    limits = _limits_for(plan_years, limits_per_year)
    wanted = _targets(targets, first_year=plan_years[0])
    money = _year_money(plan_years, limits, funding_pools)
    _require(
        candidates,
        ["community_id", "status", "households", "floor_area_m2", "built_year"],
        fix="add the columns (see gisplan.plan.annual_plan)",
    )
    ids = candidates["community_id"].tolist()
    start: dict[object, int] = {}
    prio: dict[object, float] = {}
    plans: dict[int, dict[str, object]] = {}
    carry: dict[str, float] = {}
    pool_rows: list[dict[str, object]] = []
    for year in plan_years:
        left = candidates[~candidates["community_id"].isin(list(start))]
        year_limits = limits[year]
        new = None if money is None else money.get(year)
        if new is not None:  # the year's new pool money plus what earlier years left
            sources = _source_order([*new, *carry])
            available = {s: new.get(s, 0.0) + carry.get(s, 0.0) for s in sources}
            year_limits = replace(
                year_limits, pools={s: round(v, _MONEY_DECIMALS) for s, v in available.items()}
            )
        table, info = annual_plan(left, limits=year_limits, weights=weights, plan_year=year)
        plans[year] = info
        if new is not None:
            pool_rows.extend(_carry_over(year, new, carry, info))
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
    last = max([last, *(t.by_year for t in wanted if t.measure != "share")])
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
    if pool_rows:
        _add_pool_totals(per_year, pool_rows)
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
            "budget_wan_yuan": (
                np.nan
                if info is None or info["budget_wan_yuan"] is None
                else info["budget_wan_yuan"]
            ),
            "budget_used_wan_yuan": 0.0 if info is None else info["budget_used_wan_yuan"],
        }
        started = (starts == year) & ~awaiting
        for suffix, mask in (("started", started), ("completed", done == year)):
            record[f"communities_{suffix}"] = int(mask.sum())
            record[f"buildings_{suffix}"] = (
                int(np.nansum(buildings[mask])) if has_buildings else pd.NA
            )
            record[f"households_{suffix}"] = int(np.nansum(households[mask]))
            known = ~np.isnan(area[mask])  # no area known at all: unknown, not 0 m²
            record[f"floor_area_m2_{suffix}"] = (
                float(np.nansum(area[mask])) if known.any() or not mask.any() else math.nan
            )
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


#: Columns of :func:`targets_table`.
_TARGET_COLUMNS: tuple[str, ...] = (
    "target",
    "description_zh",
    "built_by",
    "by_year",
    "unit",
    "required",
    "achieved",
    "communities",
    "completed",
    "share",
    "met",
    "missing",
    "missing_zh",
)


def _share_text(share: float) -> str:
    return f"{100 * share:g}%"


def _check_targets(
    candidates: pd.DataFrame,
    wanted: list[_Target],
    per_year: pd.DataFrame,
    done: np.ndarray[Any, np.dtype[np.float64]],
) -> list[dict[str, object]]:
    built = pd.to_numeric(candidates["built_year"], errors="coerce").to_numpy(float)
    under_way = np.isin(_project_states(candidates).to_numpy(dtype=object), _UNDER_WAY)
    in_scope = (candidates["status"].astype(str).to_numpy() != "not_eligible") | under_way
    ids = candidates["community_id"].astype(str).to_numpy(dtype=object)
    report = []
    for target in wanted:
        if target.measure != "share":
            report.append(_check_yearly(target, per_year))
            continue
        built_by = int(target.built_by or 0)
        counted = (built <= built_by) & in_scope
        total = int(counted.sum())
        cumulative = [
            int((counted & (done <= year)).sum()) / total if total else 1.0
            for year in per_year["year"]
        ]
        per_year[f"done_share_built_by_{built_by}"] = np.asarray(cumulative, dtype=float)
        finished = counted & (done <= target.by_year)
        completed = int(finished.sum())
        share = completed / total if total else 1.0
        needed = math.ceil(target.share * total - 1e-9)
        met = completed >= needed
        short = max(needed - completed, 0)
        if target.share >= 1:
            description = f"{built_by}年底前建成的老旧小区到{target.by_year}年底全部完成改造"
        else:
            description = (
                f"{built_by}年底前建成的老旧小区到{target.by_year}年底完成"
                f"{_share_text(target.share)}以上"
            )
        left = sorted(ids[counted & ~finished].tolist())
        shown = "、".join(left[:_MAX_LISTED]) + (
            f"等{len(left)}个" if len(left) > _MAX_LISTED else ""
        )
        missing_zh = (
            "已达成"
            if met
            else f"还需竣工{short}个小区（{total}个中已竣工{completed}个；{target.by_year}年底"
            f"前未竣工：{shown}）"
        )
        report.append(
            {
                "target": target.name,
                "description_zh": description,
                "built_by": built_by,
                "by_year": target.by_year,
                "unit": "比例",
                "required": target.share,
                "achieved": share,
                "communities": total,
                "completed": completed,
                "share": share,
                "met": met,
                "missing": short,
                "missing_zh": missing_zh,
                "required_share": target.share,
                "margin_share": share - target.share,
                "shortfall_communities": short,
            }
        )
        logger.info(
            "target %s (built by %s, %.0f%% by %s): %d of %d completed, %s",
            target.name,
            built_by,
            100 * target.share,
            target.by_year,
            completed,
            total,
            "met" if met else "not met",
        )
    return report


def _check_yearly(target: _Target, per_year: pd.DataFrame) -> dict[str, object]:
    """Check a yearly target against the rollout's per-year figures (0 after the span)."""
    column, verb, unit = _YEARLY[target.measure]
    row = per_year[per_year["year"] == target.by_year]
    achieved = float(row[column].iloc[0]) if len(row) else 0.0
    counted_column = column.replace("floor_area_m2", "communities")
    communities = int(row[counted_column].iloc[0]) if len(row) else 0
    met = achieved >= target.required - 1e-9
    gap = max(target.required - achieved, 0.0)
    if unit == "个":
        description = f"{target.by_year}年{verb}{target.required:.0f}个小区"
        missing_zh = "已达成" if met else f"还差{gap:.0f}个小区（计划{verb}{achieved:.0f}个）"
        missing: int | None = math.ceil(gap - 1e-9)
    else:
        description = f"{target.by_year}年{verb}{target.required / 10_000:g}万平方米"
        missing_zh = (
            "已达成"
            if met
            else f"还差{gap / 10_000:,.2f}万平方米（计划{verb}{achieved / 10_000:,.2f}万平方米）"
        )
        missing = None
    logger.info(
        "target %s: %s of %s %s, %s",
        target.name,
        achieved,
        target.required,
        unit,
        "met" if met else "not met",
    )
    return {
        "target": target.name,
        "description_zh": description,
        "built_by": None,
        "by_year": target.by_year,
        "unit": unit,
        "required": target.required,
        "achieved": achieved,
        "communities": communities,
        "completed": communities if target.measure.startswith("completed") else None,
        "share": achieved / target.required if target.required > 0 else 1.0,
        "met": met,
        "missing": missing,
        "missing_zh": missing_zh,
        "required_share": None,
        "margin_share": None,
        "shortfall_communities": missing,
    }


def targets_table(per_year: pd.DataFrame) -> pd.DataFrame:
    """Return the targets of a rollout as a table (改造目标), one row per target.

    Parameters
    ----------
    per_year
        The second table of :func:`rollout`, run with ``targets``.

    Returns
    -------
    pandas.DataFrame
        ``target`` (code: ``all_built_before``, ``share_built_before``, ``started_<year>``,
        ``started_m2_<year>``, ``completed_<year>``, ``completed_m2_<year>``),
        ``description_zh`` (the target in Chinese), ``built_by`` (Int64: the built-by
        year, <NA> for yearly targets), ``by_year`` (the deadline, or the target's year),
        ``unit`` (比例 / 个 / m²), ``required`` and ``achieved`` (in ``unit``),
        ``communities`` (Int64: built-by targets — communities in the count; yearly —
        communities started or completed that year), ``completed`` (Int64: completed by
        ``by_year``, or that year; <NA> for started targets), ``share`` (achieved /
        required for yearly targets), ``met`` (bool), ``missing`` (Int64: communities still
        needed; <NA> for m² targets) and ``missing_zh`` (已达成, else what is missing, with
        the ids of the communities not completed for a built-by target). Empty (with these
        columns) when the rollout had no targets.

    Examples
    --------
    >>> df = pd.DataFrame({"community_id": ["A", "B"], "built_year": [1976, 2001],
    ...                    "households": [200, 100], "status": "eligible",
    ...                    "government_cost_wan_yuan": [60.0, 50.0],
    ...                    "floor_area_m2": [9000.0, 4000.0], "scheme_vote_passed": True,
    ...                    "property_fee_agreed": True})
    >>> _, per_year = rollout(df, years=[2026], limits_per_year=PlanLimits(budget_wan_yuan=60),
    ...     targets={"all_built_before": 2000, "yearly": [{"year": 2026, "started": 2}],
    ...              "by_year": 2027})
    >>> targets_table(per_year)[["target", "met", "missing_zh"]].to_numpy().tolist()
    [['all_built_before', True, '已达成'], ['started_2026', False, '还差1个小区（计划新开工1个）']]
    """
    records = per_year.attrs.get("targets", [])
    table = pd.DataFrame.from_records(records, columns=list(_TARGET_COLUMNS))
    for column in ("built_by", "by_year", "communities", "completed", "missing"):
        table[column] = pd.array(
            [pd.NA if v is None or pd.isna(v) else int(v) for v in table[column]], dtype="Int64"
        )
    for column in ("required", "achieved", "share"):
        table[column] = table[column].astype("float64")
    table["met"] = table["met"].astype(bool)
    result: pd.DataFrame = table
    return result
