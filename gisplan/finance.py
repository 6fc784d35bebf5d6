"""Funding of renovation schemes (资金筹措): who pays what, per community and source.

Linyi's "4+N" financing modes (POLICY.md §4) decide how a community's scheme is paid for.
This module implements two of them per community; the two bundling modes (大片区统筹平衡,
跨片区组合平衡) are chosen by :mod:`gisplan.bundles` and enter here as ``area_funding``: money from
revenue projects paying (part of) a community's public cost, in the sources of
:data:`AREA_SOURCES`.

* :func:`self_balance` — 小区内自求平衡: the net present value of revenue facilities built in
  the community (parking, lifts, shops, elderly care) over ``horizon_years`` at
  ``discount_rate``, minus their build cost, against the renovation cost;
* :func:`fund` — one row per community x source. Items whose ``payer`` is ``utility``,
  ``residents`` or ``social_capital`` are paid by that payer (专营单位 pay their networks,
  Linyi 四(五)). The rest — the **public cost**, items paid by ``government`` — is paid by
  the ``self_balance_source`` when the community balances itself, otherwise filled from
  the sources in ``FundingRules.order``, each up to its cap (政府引导的多元化投入); what
  no source covers is reported as source ``"shortfall"``. With ``area_funding`` the
  project money is taken first (``area_first``, the default order self-balance → bundles →
  government-led) or after the sources of ``order`` (then it only closes the shortfall);
* :func:`modes` — one row per community: mode, cost, covered, shortfall, ``bundle_mode``.

Caps (all of the public cost unless stated):

=====================  ==========================================================================
source                 cap
=====================  ==========================================================================
central_subsidy        min(households x ``central_per_household_yuan``, ``central_cap_share`` x
                       cost of the items of ``central_classes`` not already centrally
                       subsidised, floor area x ``central_per_m2_yuan`` when set)
provincial_budget      ``provincial_share`` x public cost
local_budget           ``local_share`` x public cost
land_transfer          ``land_transfer_share`` x public cost
special_bonds          ``special_bonds_share`` x public cost, only for communities with income
                       (a revenue facility with positive net income)
utility                0 (utilities pay their own items only)
owner_unit             ``owner_unit_share`` x public cost, where ``owner_unit`` is set
residents              households x ``resident_per_household_yuan``
social_capital         ``social_capital_share`` x public cost
credit                 ``credit_share`` x public cost
=====================  ==========================================================================

Amounts are computed in whole fen (0.01 元), every cap rounded down, so the sources of a
community add up to its cost exactly. No function modifies its inputs.
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from gisplan._text import is_blank, is_number
from gisplan.bundles import BundleOptions, CrossOptions, cross_area, large_area
from gisplan.bundles._common import (
    _DEFAULT_CROSS,
    _DEFAULT_OPTIONS,
    _members_frame,
    _need,
    _pairs_frame,
    _units,
)
from gisplan.bundles._common import _listed as _listed_ids
from gisplan.bundles._instance import _empty_inst
from gisplan.bundles._large import _bundle_tables
from gisplan.errors import LayerError, ScenarioError, SchemaError
from gisplan.outputs import info_table
from gisplan.vocabulary import labels

if TYPE_CHECKING:
    from collections.abc import Collection, Mapping, Sequence

    import geopandas as gpd
    import networkx as nx

    from gisplan.bundles import BundleResult, CrossResult

__all__ = [
    "AREA_SOURCES",
    "MODES",
    "MODE_ORDER",
    "MODE_ZH",
    "REVENUE_KINDS",
    "SHARE_FIELDS",
    "SOURCES",
    "SOURCES_ZH",
    "FinancingOptions",
    "FinancingPlan",
    "FundingRules",
    "RevenueFacility",
    "fund",
    "fund_by_modes",
    "modes",
    "plan_financing",
    "self_balance",
]

logger = logging.getLogger(__name__)

#: Funding sources, in display order (POLICY.md §4 "sources to track per community").
SOURCES: tuple[str, ...] = (
    "central_subsidy",
    "provincial_budget",
    "local_budget",
    "land_transfer",
    "special_bonds",
    "utility",
    "owner_unit",
    "residents",
    "social_capital",
    "credit",
)

#: Chinese name of every source, and of the ``"shortfall"`` row (from :mod:`gisplan.vocabulary`).
SOURCES_ZH: Mapping[str, str] = labels("funding_source")

#: Sources of the bundling modes: revenue projects of a large-area bundle (大片区统筹平衡) and
#: non-adjacent projects paired with a community (跨片区组合平衡); see :mod:`gisplan.bundles`.
AREA_SOURCES: tuple[str, ...] = ("large_area_project", "cross_area_project")

#: The financing modes, in the default order: the one definition of the mode codes (labels and
#: map colours: the ``financing_mode`` domain of :mod:`gisplan.vocabulary`). Linyi 2020
#: 三(一)–(四): 大片区统筹平衡, 跨片区组合平衡, 小区内自求平衡, 政府引导的多元化投入; the
#: revenue-project modes are tried before government-led funding fills what is left.
MODE_ORDER: tuple[str, ...] = ("self_balance", "large_area", "cross_area", "government_led")

#: Financing modes of a community, decided by :func:`fund`: the modes of
#: :data:`MODE_ORDER` and ``"shortfall"`` (资金缺口: no mode covers the whole public cost).
MODES: tuple[str, ...] = (*MODE_ORDER, "shortfall")

#: Chinese name of every mode (Linyi 2020 三(一)–(四) wording; :mod:`gisplan.vocabulary`).
MODE_ZH: Mapping[str, str] = labels("financing_mode")

#: Kinds of revenue facility built in a community.
REVENUE_KINDS: tuple[str, ...] = ("parking", "lift", "shop", "elderly_care", "other")

#: Fields of :class:`FundingRules` that are shares (0–1) of the public cost; they may not
#: add up to more than 1.
SHARE_FIELDS: tuple[str, ...] = (
    "central_cap_share",
    "provincial_share",
    "local_share",
    "land_transfer_share",
    "special_bonds_share",
    "owner_unit_share",
    "social_capital_share",
    "credit_share",
)

_CLASSES: tuple[str, ...] = ("basic", "complete", "improve")
_PAYERS: tuple[str, ...] = ("government", "utility", "residents", "social_capital")
_DIRECT_PAYERS: tuple[str, ...] = ("utility", "residents", "social_capital")
_PAYER_ZH = labels("payer")
_CLASS_ZH = labels("scheme_class")
_FUNDING_COLUMNS = [
    "community_id",
    "source",
    "source_zh",
    "amount_yuan",
    "amount_wan_yuan",
    "rule",
    "mode",
]
_MODE_COLUMNS = [
    "community_id",
    "mode",
    "mode_zh",
    "cost_yuan",
    "cost_wan_yuan",
    "covered_yuan",
    "covered_wan_yuan",
    "shortfall_yuan",
    "shortfall_wan_yuan",
    "bundle_mode",
]
_LIST_SPLIT = re.compile(r"[、,，;；\s]+")
_MAX_LISTED = 10
_EPS = 1e-6


# --------------------------------------------------------------------------- options


def _amount_problem(key: str, value: object) -> tuple[str, str, str] | None:
    if not (is_number(value) and math.isfinite(float(value))):  # type: ignore[arg-type]
        return (key, f"{value!r} is not a number", "write an amount in 元 such as 1000")
    if float(value) < 0:  # type: ignore[arg-type]
        return (key, f"{value!r} is negative", "write an amount >= 0")
    return None


def _share_problem(key: str, value: object) -> tuple[str, str, str] | None:
    if not (is_number(value) and math.isfinite(float(value))):  # type: ignore[arg-type]
        return (key, f"{value!r} is not a number", "write a fraction such as 0.3")
    share = float(value)  # type: ignore[arg-type]
    if share > 1:
        return (
            key,
            f"{value!r} is above 1; shares are fractions 0–1",
            f"write {share / 100:g}, not {value!r}",
        )
    if share < 0:
        return (key, f"{value!r} is negative", "write a fraction between 0 and 1")
    return None


@dataclass(frozen=True, kw_only=True, slots=True)
class FundingRules:
    """Rules and caps of the funding step (``finance:`` in a scenario).

    The seeds (POLICY.md §4) name the sources but give **no amounts or shares**: every
    default below is an indicative planning assumption, to be replaced by the year's
    allocation notices and local budget. Shares are fractions 0–1 of a community's public
    cost (items paid by ``government``).

    Parameters
    ----------
    central_per_household_yuan
        Central subsidy cap per household. Default 10 000 元 (indicative assumption, not
        from the seeds; Litong 2023 asks central and regional funds for 楼体改造 but states
        no rate).
    central_per_m2_yuan
        Optional central subsidy cap per m² of floor area (``None``: not used; when set,
        the community needs ``floor_area_m2``).
    central_cap_share
        Central subsidy at most this share of the cost of eligible items. Default 0.5
        (indicative).
    central_classes
        Catalogue classes central subsidy may pay for. Default ``("basic",)``: Linxia —
        中央和省级财政补助资金主要用于市政配套基础设施改造提升以及小区内建筑物屋面、外墙、
        楼梯等公共部位维修 (the 基础类 items).
    provincial_share, local_share
        Provincial and city/county budget caps. Defaults 0.1 and 0.25 (indicative; Linyi
        三、四(三) 各级财政在预算中统筹安排资金).
    land_transfer_share
        Cap from land-transfer income. Default 0.05 (indicative; Linyi 四(二) 市级财政每年
        从土地出让金中拿出一定比例资金).
    special_bonds_share
        Cap from special-purpose bonds, only for communities with income (Linyi 四(三)
        专项债券用于有收益的公益性资本支出). Default 0 (opt in).
    owner_unit_share
        Original owner unit's share, where the community's ``owner_unit`` is set. Default
        0.1 (indicative; Litong 四 原产权单位出资, no rate).
    resident_per_household_yuan
        Residents' contribution per household (maintenance fund, public income, direct
        payment; 谁受益、谁出资). Default 0 (the seeds give no amount; set it locally).
    social_capital_share, credit_share
        Caps from social capital and credit for the public cost. Default 0 (opt in).
    order
        Sources filling the public cost, first to last; a source left out is not used.
        Default :data:`SOURCES`.
    self_balance_source
        Source pre-financing a community that balances itself (repaid from its facilities'
        income). Default ``"social_capital"``.
    discount_rate
        Annual discount rate of the self-balance NPV (fraction). Default 0.04 (indicative).
    horizon_years
        Years of facility income counted. Default 15 (indicative).

    Raises
    ------
    ScenarioError
        If a share is outside 0–1 (a value above 1: "write 0.3, not 30"), the shares add up
        to more than 1 (they are named), or another field is invalid (every problem listed).

    Examples
    --------
    >>> FundingRules(local_share=0.2).local_share
    0.2
    >>> FundingRules(local_share=30)
    Traceback (most recent call last):
    ...
    gisplan.errors.ScenarioError: FundingRules.local_share = 30 is above 1; ...
    """

    central_per_household_yuan: float = 10_000.0
    central_per_m2_yuan: float | None = None
    central_cap_share: float = 0.5
    central_classes: tuple[str, ...] = ("basic",)
    provincial_share: float = 0.1
    local_share: float = 0.25
    land_transfer_share: float = 0.05
    special_bonds_share: float = 0.0
    owner_unit_share: float = 0.1
    resident_per_household_yuan: float = 0.0
    social_capital_share: float = 0.0
    credit_share: float = 0.0
    order: tuple[str, ...] = SOURCES
    self_balance_source: str = "social_capital"
    discount_rate: float = 0.04
    horizon_years: int = 15

    def __post_init__(self) -> None:
        """Check every field; raise once listing all problems."""
        problems = _amount_problems(self) + _share_problems(self) + _choice_problems(self)
        problems += _rate_problems(self)
        ScenarioError.check("FundingRules", "finance", problems)
        object.__setattr__(self, "order", tuple(self.order))
        object.__setattr__(self, "central_classes", tuple(self.central_classes))


def _amount_problems(rules: FundingRules) -> list[tuple[str, str, str]]:
    keys = ["central_per_household_yuan", "resident_per_household_yuan"]
    if rules.central_per_m2_yuan is not None:
        keys.append("central_per_m2_yuan")
    return [p for k in keys if (p := _amount_problem(k, getattr(rules, k)))]


def _share_problems(rules: FundingRules) -> list[tuple[str, str, str]]:
    problems = [p for k in SHARE_FIELDS if (p := _share_problem(k, getattr(rules, k)))]
    if problems:
        return problems
    total = sum(float(getattr(rules, k)) for k in SHARE_FIELDS)
    if total > 1 + 1e-9:
        named = ", ".join(
            f"{k} {float(getattr(rules, k)):g}"
            for k in SHARE_FIELDS
            if float(getattr(rules, k)) > 0
        )
        problems.append(
            (
                "shares",
                f"add up to {total:.0%} ({named}), over 100% of the public cost",
                "lower some so that they add up to at most 1",
            )
        )
    return problems


def _choice_problems(rules: FundingRules) -> list[tuple[str, str, str]]:
    problems = [
        ("central_classes", f"{c!r} is unknown", f"use {', '.join(_CLASSES)}")
        for c in rules.central_classes
        if c not in _CLASSES
    ]
    problems += [
        ("order", f"{s!r} is not a source", f"use {', '.join(SOURCES)}")
        for s in rules.order
        if s not in SOURCES
    ]
    repeated = sorted({s for s in rules.order if list(rules.order).count(s) > 1})
    if repeated:
        problems.append(("order", f"{', '.join(repeated)} listed twice", "name each source once"))
    if rules.self_balance_source not in SOURCES:
        problems.append(
            (
                "self_balance_source",
                f"{rules.self_balance_source!r} is not a source",
                f"use one of {', '.join(SOURCES)}",
            )
        )
    return problems


def _rate_problems(rules: FundingRules) -> list[tuple[str, str, str]]:
    problems: list[tuple[str, str, str]] = []
    rate = rules.discount_rate
    if not (is_number(rate) and math.isfinite(float(rate))) or float(rate) < 0:
        problems.append(("discount_rate", f"{rate!r} is not a rate >= 0", "write 0.04"))
    elif float(rate) >= 1:
        problems.append(
            (
                "discount_rate",
                f"{rate!r} is 100% or more; rates are fractions",
                f"write {float(rate) / 100:g}, not {rate!r}",
            )
        )
    years = rules.horizon_years
    if not isinstance(years, (int, np.integer)) or isinstance(years, bool) or years < 1:
        problems.append(("horizon_years", f"{years!r} is not a whole number >= 1", "write 15"))
    return problems


@dataclass(frozen=True, kw_only=True, slots=True)
class RevenueFacility:
    """A revenue-earning facility built or extended in a community (小区内自求平衡).

    Parameters
    ----------
    kind
        One of :data:`REVENUE_KINDS`.
    build_cost_yuan
        Cost of building it (>= 0), not part of the renovation scheme.
    annual_net_income_yuan
        Income minus operating cost per year (may be negative).

    Raises
    ------
    ScenarioError
        If the kind is unknown or an amount is not a number (every problem listed).

    Examples
    --------
    >>> RevenueFacility(kind="parking", build_cost_yuan=0, annual_net_income_yuan=1e4).kind
    'parking'
    """

    kind: str
    build_cost_yuan: float
    annual_net_income_yuan: float

    def __post_init__(self) -> None:
        """Check kind and amounts."""
        problems: list[tuple[str, str, str]] = []
        if self.kind not in REVENUE_KINDS:
            problems.append(
                ("kind", f"{self.kind!r} is unknown", f"use {', '.join(REVENUE_KINDS)}")
            )
        problem = _amount_problem("build_cost_yuan", self.build_cost_yuan)
        if problem:
            problems.append(problem)
        income = self.annual_net_income_yuan
        if not (is_number(income) and math.isfinite(float(income))):
            problems.append(
                ("annual_net_income_yuan", f"{income!r} is not a number", "write 元 per year")
            )
        ScenarioError.check("RevenueFacility", "finance", problems)


_DEFAULT_RULES = FundingRules()


# --------------------------------------------------------------------------- self-balance


def _annuity_factor(rate: float, years: int) -> float:
    """Present value of 1 元 a year for ``years`` years, paid at each year's end."""
    if rate == 0:
        return float(years)
    return (1 - (1 + rate) ** -years) / rate


def self_balance(
    cost_yuan: float,
    revenues: Sequence[RevenueFacility],
    *,
    rules: FundingRules = _DEFAULT_RULES,
) -> tuple[bool, float]:
    """Return whether revenue facilities pay for a renovation (小区内自求平衡).

    The NPV of each facility is its annual net income over ``rules.horizon_years`` years
    (paid at each year's end) discounted at ``rules.discount_rate``, minus its build cost:
    ``income x (1 - (1 + r)^-n) / r - build_cost`` (``income x n`` when ``r = 0``).

    Parameters
    ----------
    cost_yuan
        Renovation cost to balance (>= 0).
    revenues
        Facilities built in the community; none means no balance.
    rules
        :class:`FundingRules` (discount rate and horizon).

    Returns
    -------
    tuple of (bool, float)
        ``(balances, npv_surplus_yuan)``: the facilities' total NPV minus ``cost_yuan``,
        and whether it is >= 0 with at least one facility.

    Raises
    ------
    ScenarioError
        If ``cost_yuan`` is negative or not a number.

    Examples
    --------
    >>> park = RevenueFacility(kind="parking", build_cost_yuan=0, annual_net_income_yuan=100)
    >>> ok, surplus = self_balance(500, [park], rules=FundingRules(discount_rate=0))
    >>> ok, round(surplus, 2)
    (True, 1000.0)
    """
    problem = _amount_problem("cost_yuan", cost_yuan)
    if problem:
        ScenarioError.check("self_balance", "finance", [problem])
    factor = _annuity_factor(float(rules.discount_rate), int(rules.horizon_years))
    npv = sum(float(f.annual_net_income_yuan) * factor - float(f.build_cost_yuan) for f in revenues)
    surplus = npv - float(cost_yuan)
    return (bool(revenues) and surplus >= 0, surplus)


# --------------------------------------------------------------------------- inputs


def _items(value: object) -> tuple[int, ...]:
    """Read a ``subsidised_items`` cell: tuple/list of numbers or text such as ``"1、3"``."""
    if is_blank(value):
        return ()
    if isinstance(value, str):
        parts = [p for p in _LIST_SPLIT.split(value.strip()) if p]
        return tuple(int(p) for p in parts)
    if is_number(value):
        number = float(value)  # type: ignore[arg-type]
        if number != int(number):
            raise ValueError(value)
        return (int(number),)
    return tuple(int(v) for v in value)  # type: ignore[attr-defined]


def _fen(value: float) -> int:
    """Whole fen of a non-negative amount, rounded down (tolerant of float noise)."""
    return math.floor(value * 100 + _EPS)


def _wan(fen: int) -> float:
    return round(fen / 1e6, 2)


def _listed(problems: list[str]) -> str:
    more = len(problems) - _MAX_LISTED
    shown = problems[:_MAX_LISTED] + ([f"... and {more} more"] if more > 0 else [])
    return "\n  ".join(shown)


def _check_schemes(schemes: pd.DataFrame) -> None:
    required = ("community_id", "item", "class", "cost_yuan", "payer")
    missing = [c for c in required if c not in schemes.columns]
    if missing:
        raise SchemaError(
            f"schemes: column(s) {', '.join(missing)} missing; "
            "pass the table of gisplan.catalogue.build_schemes"
        )
    problems: list[str] = []
    for cid, item, cls, cost, payer in zip(
        schemes["community_id"],
        schemes["item"],
        schemes["class"],
        schemes["cost_yuan"],
        schemes["payer"],
        strict=True,
    ):
        where = f"{cid} · item {item}"
        if not is_number(cost) or not math.isfinite(float(cost)):
            problems.append(f"{where}: cost_yuan = {cost!r} unknown; survey its quantity")
        elif float(cost) < 0:
            problems.append(f"{where}: cost_yuan = {cost!r} is negative")
        if payer not in _PAYERS:
            problems.append(f"{where}: payer = {payer!r}; use {', '.join(_PAYERS)}")
        if cls not in _CLASSES:
            problems.append(f"{where}: class = {cls!r}; use {', '.join(_CLASSES)}")
    if problems:
        raise LayerError("schemes: bad rows:\n  " + _listed(problems))


def _community_row(
    row: pd.Series[Any],
    subsidised_items: Mapping[str, tuple[int, ...]] | None,
    rules: FundingRules,
    problems: list[str],
) -> dict[str, Any]:
    """Read one community's funding cells; append bad cells to ``problems``."""
    cid = row["community_id"]
    households = row["households"]
    if not is_number(households) or not math.isfinite(float(households)) or households < 0:
        problems.append(f"{cid} · households = {households!r}: write a number >= 0")
        households = 0
    area = row.get("floor_area_m2", math.nan)
    if rules.central_per_m2_yuan is not None and (
        not is_number(area) or not math.isfinite(float(area)) or area < 0
    ):
        problems.append(f"{cid} · floor_area_m2 = {area!r}: write m² >= 0")
    items: tuple[int, ...] = ()
    try:
        items = _items(row.get("subsidised_items"))
    except (TypeError, ValueError):
        raw = row.get("subsidised_items")
        problems.append(f"{cid} · subsidised_items = {raw!r}: write numbers such as 1、3")
    if subsidised_items is not None and str(cid) in subsidised_items:
        items = items + tuple(int(v) for v in subsidised_items[str(cid)])
    owner = row.get("owner_unit")
    return {
        "households": float(households),
        "floor_area_m2": float(area) if is_number(area) else math.nan,
        "owner_unit": None if is_blank(owner) else str(owner).strip(),
        "subsidised": tuple(sorted(set(items))),
    }


def _community_table(
    communities: pd.DataFrame,
    ids: list[Any],
    subsidised_items: Mapping[str, tuple[int, ...]] | None,
    rules: FundingRules,
) -> dict[Any, dict[str, Any]]:
    """Return ``community_id -> {households, floor_area_m2, owner_unit, subsidised}``."""
    needed = ["community_id", "households"]
    if rules.central_per_m2_yuan is not None:
        needed.append("floor_area_m2")
    missing = [c for c in needed if c not in communities.columns]
    if missing:
        raise SchemaError(f"communities: column(s) {', '.join(missing)} missing; add them")
    if communities["community_id"].duplicated().any():
        raise LayerError("communities: community_id repeats; ids must be unique")
    problems: list[str] = []
    table = {
        communities["community_id"].iloc[pos]: _community_row(
            communities.iloc[pos], subsidised_items, rules, problems
        )
        for pos in range(len(communities))
    }
    unknown = [cid for cid in ids if cid not in table]
    if unknown:
        problems.append(
            "schemes name communities not in the communities table: "
            f"{', '.join(map(str, unknown[:_MAX_LISTED]))}"
        )
    if problems:
        raise LayerError("communities: bad funding values:\n  " + _listed(problems))
    return table


# --------------------------------------------------------------------------- funding


def _items_text(items: Sequence[int]) -> str:
    return "、".join(str(i) for i in items)


def _caps(
    info: dict[str, Any],
    items: pd.DataFrame,
    public: int,
    has_income: bool,
    rules: FundingRules,
) -> dict[str, tuple[int, str]]:
    """Return ``source -> (cap in fen, why)`` for the public cost of one community."""
    households = info["households"]
    subsidised = set(info["subsidised"])
    gov = items[items["payer"] == "government"]
    eligible_mask = gov["class"].isin(rules.central_classes) & ~gov["item"].isin(subsidised)
    eligible = int(sum(_fen(float(c)) for c in gov.loc[eligible_mask, "cost_yuan"]))
    by_household = _fen(households * float(rules.central_per_household_yuan))
    by_share = _fen(float(rules.central_cap_share) * eligible / 100)
    parts = [
        (
            f"每户{float(rules.central_per_household_yuan):g}元×{households:g}户"
            f"={by_household / 100:.2f}元"
        ),
        (
            f"可补助内容{eligible / 100:.2f}元×{float(rules.central_cap_share):g}"
            f"={by_share / 100:.2f}元"
        ),
    ]
    central = min(by_household, by_share)
    if rules.central_per_m2_yuan is not None:
        by_area = _fen(info["floor_area_m2"] * float(rules.central_per_m2_yuan))
        parts.append(f"每m²{float(rules.central_per_m2_yuan):g}元={by_area / 100:.2f}元")
        central = min(central, by_area)
    repeat = sorted(subsidised & set(gov["item"].astype(int)))
    why_central = "中央补助上限取" + "、".join(parts) + "中较小者"
    why_central += f"（限{'、'.join(_CLASS_ZH[c] for c in rules.central_classes)}内容"
    if repeat:
        why_central += f"；第{_items_text(repeat)}项已获中央补助，不重复补助"
    why_central += "）"

    def share(key: str, label: str) -> tuple[int, str]:
        value = float(getattr(rules, key))
        cap = _fen(value * public / 100)
        return cap, f"{label}：公共部分{public / 100:.2f}元×{value:g}={cap / 100:.2f}元"

    caps: dict[str, tuple[int, str]] = {
        "central_subsidy": (central, why_central),
        "provincial_budget": share("provincial_share", "省级财政"),
        "local_budget": share("local_share", "市县财政"),
        "land_transfer": share("land_transfer_share", "土地出让收益"),
        "utility": (0, "专营单位只承担其专营设施改造"),
        "social_capital": share("social_capital_share", "社会资本"),
        "credit": share("credit_share", "金融信贷"),
    }
    if has_income:
        caps["special_bonds"] = share("special_bonds_share", "专项债券（有收益项目）")
    else:
        caps["special_bonds"] = (0, "无收益设施，不得使用专项债券")
    if info["owner_unit"] is not None:
        cap, why = share("owner_unit_share", f"原产权单位（{info['owner_unit']}）")
        caps["owner_unit"] = (cap, why)
    else:
        caps["owner_unit"] = (0, "无原产权单位")
    residents = _fen(households * float(rules.resident_per_household_yuan))
    caps["residents"] = (
        residents,
        (
            f"居民出资每户{float(rules.resident_per_household_yuan):g}元×{households:g}户"
            f"={residents / 100:.2f}元"
        ),
    )
    return caps


def _area_why(source: str, fen: int, take: int) -> str:
    if source == "large_area_project":
        what = "大片区统筹平衡：片区内收益项目"
    else:
        what = "跨片区组合平衡：非相邻收益项目"
    why = f"{what}安排{fen / 100:.2f}元"
    return why + (f"，实际使用{take / 100:.2f}元" if take < fen else "")


def _fill(
    public: int,
    caps: dict[str, tuple[int, str]],
    area: Mapping[str, int],
    amounts: dict[str, int],
    rules_text: dict[str, list[str]],
    *,
    order: Sequence[str],
    area_first: bool,
) -> int:
    """Fill ``public`` fen from the area money and the capped sources; return what is left."""
    given = {src: fen for src, fen in area.items() if fen}
    area_order = [src for src in AREA_SOURCES if src in given]
    remaining = public
    for src in [*area_order, *order] if area_first else [*order, *area_order]:
        cap, why = (given[src], "") if src in given else caps[src]
        take = min(cap, remaining)
        remaining -= take
        amounts[src] += take
        if src in given:
            why = _area_why(src, cap, take)
        elif cap or src not in _DIRECT_PAYERS or not rules_text[src]:
            why += f"，实际{take / 100:.2f}元" if take < cap else ""
        else:
            continue
        rules_text[src].append(why)
    return remaining


def _fund_one(
    cid: object,
    items: pd.DataFrame,
    info: dict[str, Any],
    facilities: Sequence[RevenueFacility],
    rules: FundingRules,
    *,
    area: Mapping[str, int] | None = None,
    area_first: bool = True,
) -> list[dict[str, Any]]:
    """Return the source rows of one community (``area``: area-project money in fen)."""
    names = (*SOURCES, *(AREA_SOURCES if area is not None else ()), "shortfall")
    amounts = dict.fromkeys(names, 0)
    rules_text: dict[str, list[str]] = {s: [] for s in names}
    for payer in _DIRECT_PAYERS:
        own = items[items["payer"] == payer]
        if len(own):
            fen = int(sum(_fen(float(c)) for c in own["cost_yuan"]))
            amounts[payer] += fen
            numbers = _items_text(sorted(int(i) for i in own["item"]))
            rules_text[payer].append(
                f"承担清单出资方为{_PAYER_ZH[payer]}的第{numbers}项，{fen / 100:.2f}元"
            )
    gov = items[items["payer"] == "government"]
    public = int(sum(_fen(float(c)) for c in gov["cost_yuan"]))
    balances, surplus = self_balance(public / 100, facilities, rules=rules)
    has_income = any(float(f.annual_net_income_yuan) > 0 for f in facilities)
    if balances:
        mode = "self_balance"
        source = rules.self_balance_source
        amounts[source] += public
        rules_text[source].append(
            f"小区内自求平衡：经营性设施收益净现值扣除改造公共部分{public / 100:.2f}元后"
            f"余{surplus:.2f}元（{rules.horizon_years}年，折现率{float(rules.discount_rate):g}）"
        )
        remaining = 0
        for src in names:
            if not rules_text[src]:
                rules_text[src].append("小区内自求平衡，未使用")
    else:
        caps = _caps(info, items, public, has_income, rules)
        remaining = _fill(
            public,
            caps,
            area or {},
            amounts,
            rules_text,
            order=rules.order,
            area_first=area_first,
        )
        amounts["shortfall"] = remaining
        rules_text["shortfall"].append(
            f"公共部分{public / 100:.2f}元中各来源按上限筹措后仍缺{remaining / 100:.2f}元"
            if remaining
            else "无缺口"
        )
        bundled = [src for src in AREA_SOURCES if amounts.get(src)]
        mode = "shortfall" if remaining else "government_led"
        if bundled and not remaining:
            mode = "large_area" if bundled[0] == "large_area_project" else "cross_area"
    rows = []
    for src in names:
        if not rules_text[src]:
            rules_text[src].append("未列入筹资顺序")
        fen = amounts[src]
        rows.append(
            {
                "community_id": cid,
                "source": src,
                "source_zh": SOURCES_ZH[src],
                "amount_yuan": fen / 100,
                "amount_wan_yuan": _wan(fen),
                "rule": "；".join(rules_text[src]),
                "mode": mode,
            }
        )
    return rows


def fund(
    schemes: pd.DataFrame,
    communities: pd.DataFrame,
    *,
    rules: FundingRules = _DEFAULT_RULES,
    revenues: Mapping[str, Sequence[RevenueFacility]] | None = None,
    subsidised_items: Mapping[str, tuple[int, ...]] | None = None,
    area_funding: Mapping[str, Mapping[str, float]] | None = None,
    area_first: bool = True,
) -> pd.DataFrame:
    """Return who pays for each community's scheme: one row per community x source.

    Items paid by ``utility``, ``residents`` or ``social_capital`` (the scheme's ``payer``)
    go to that source. The public cost (``payer == "government"``) goes to
    ``rules.self_balance_source`` when :func:`self_balance` holds for the community's
    ``revenues``; otherwise the sources of ``rules.order`` fill it in turn, each up to its
    cap (see the module docstring), and what is left is the ``"shortfall"`` row. Central
    subsidy never pays for items already centrally subsidised (the ``subsidised_items``
    column of ``communities`` and the ``subsidised_items`` argument, merged).

    Parameters
    ----------
    schemes
        Table of :func:`gisplan.catalogue.build_schemes`: ``community_id, item, class,
        cost_yuan, payer`` are used.
    communities
        ``community_id`` (unique), ``households``; optional ``owner_unit`` (name of the
        original owner unit; blank = none), ``subsidised_items`` (tuple or text such as
        ``"1、3"``), ``floor_area_m2`` (needed when ``rules.central_per_m2_yuan`` is set).
    rules
        :class:`FundingRules`; defaults are indicative.
    revenues
        ``community_id -> revenue facilities`` for the self-balance test.
    subsidised_items
        ``community_id -> items`` already centrally subsidised, added to the column's.
    area_funding
        ``community_id -> {source: amount_yuan}`` with sources of :data:`AREA_SOURCES`:
        revenue-project money of the bundling modes (:func:`plan_financing`)
        for the public cost, at most what is left of it. With it every community gets a
        row per area source too, and a community whose public cost the project money
        closes has mode ``"large_area"`` or ``"cross_area"``. It never applies to a
        community that balances itself.
    area_first
        Take the project money before the sources of ``rules.order`` (default: the
        bundles pay first, 政府引导 fills the rest) or after them (it only closes the
        shortfall).

    Returns
    -------
    pandas.DataFrame
        RangeIndex; columns ``community_id, source, source_zh, amount_yuan,
        amount_wan_yuan, rule, mode``: for every community with scheme rows (in the order
        of ``communities``) one row per :data:`SOURCES` entry and a ``"shortfall"`` row.
        Amounts are >= 0 and add up to the community's cost (to the fen); ``amount_wan_yuan``
        has two decimals; ``rule`` says why (Chinese); ``mode`` is the community's
        :data:`MODES` entry.

    Raises
    ------
    SchemaError
        If a required column is missing.
    LayerError
        If a cost is unknown or negative, a payer or class unknown, ids repeat, a
        community of ``schemes`` is not in ``communities``, or a community value is bad.
    ScenarioError
        If ``revenues`` or ``subsidised_items`` name communities without a scheme.

    Examples
    --------
    >>> s = pd.DataFrame({"community_id": ["c1", "c1"], "item": [1, 2],
    ...     "class": ["basic", "basic"], "cost_yuan": [100_000.0, 20_000.0],
    ...     "payer": ["government", "utility"]})
    >>> c = pd.DataFrame({"community_id": ["c1"], "households": [4]})
    >>> f = fund(s, c)
    >>> f.loc[f["amount_yuan"] > 0, ["source", "amount_yuan"]].values.tolist()
    [['central_subsidy', 40000.0], ['provincial_budget', 10000.0], ['local_budget', 25000.0], ['land_transfer', 5000.0], ['utility', 20000.0], ['shortfall', 20000.0]]
    """  # noqa: E501
    _check_schemes(schemes)
    ids = list(dict.fromkeys(schemes["community_id"].tolist()))
    table = _community_table(communities, ids, subsidised_items, rules)
    known = {str(i) for i in ids}
    extra = [
        f"{name}: {cid}"
        for name, mapping in (
            ("revenues", revenues),
            ("subsidised_items", subsidised_items),
            ("area_funding", area_funding),
        )
        if mapping is not None
        for cid in mapping
        if str(cid) not in known
    ]
    problems = [("fund", f"no scheme for {', '.join(extra)}", "check the community ids")]
    bad = [
        f"{cid} · {src} = {amount!r}"
        for cid, given in (area_funding or {}).items()
        for src, amount in given.items()
        if src not in AREA_SOURCES
        or not (is_number(amount) and math.isfinite(float(amount)) and float(amount) >= 0)
    ]
    problems.append(
        (
            "area_funding",
            f"bad entries {', '.join(bad)}",
            f"use sources {' or '.join(AREA_SOURCES)} with amounts in 元 >= 0",
        )
    )
    ScenarioError.check(
        "fund", "finance", [p for p, ok in zip(problems, (extra, bad), strict=True) if ok]
    )
    revenue_by_id = {str(k): tuple(v) for k, v in (revenues or {}).items()}
    area_by_id = {
        str(k): {src: _fen(float(a)) for src, a in v.items()}
        for k, v in (area_funding or {}).items()
    }
    rows: list[dict[str, Any]] = []
    scheme_ids = set(ids)
    for cid in communities["community_id"].tolist():
        if cid not in scheme_ids:
            continue
        items = schemes[schemes["community_id"] == cid]
        facilities = revenue_by_id.get(str(cid), ())
        area = None if area_funding is None else area_by_id.get(str(cid), {})
        rows += _fund_one(
            cid, items, table[cid], facilities, rules, area=area, area_first=area_first
        )
    out: pd.DataFrame = pd.DataFrame(rows, columns=_FUNDING_COLUMNS)
    return out


def modes(funding: pd.DataFrame) -> pd.DataFrame:
    """Return each community's financing mode, cost, covered amount and shortfall.

    Parameters
    ----------
    funding
        Table of :func:`fund`.

    Returns
    -------
    pandas.DataFrame
        RangeIndex, communities in the order of ``funding``; columns ``community_id, mode,
        mode_zh, cost_yuan, cost_wan_yuan, covered_yuan, covered_wan_yuan, shortfall_yuan,
        shortfall_wan_yuan, bundle_mode``. ``mode`` is ``"self_balance"`` (小区内自求平衡),
        ``"large_area"`` (大片区统筹平衡), ``"cross_area"`` (跨片区组合平衡),
        ``"government_led"`` (政府引导的多元化投入) or ``"shortfall"`` (资金缺口);
        ``bundle_mode`` names the bundling modes whose project money the community received
        (also when it was not enough and the mode is ``"shortfall"``), else ``""``.

    Raises
    ------
    SchemaError
        If a column of :func:`fund` is missing.

    Examples
    --------
    >>> s = pd.DataFrame({"community_id": ["c1"], "item": [1], "class": ["basic"],
    ...     "cost_yuan": [1000.0], "payer": ["utility"]})
    >>> m = modes(fund(s, pd.DataFrame({"community_id": ["c1"], "households": [4]})))
    >>> m[["mode_zh", "cost_yuan", "shortfall_yuan"]].values.tolist()
    [['政府引导的多元化投入', 1000.0, 0.0]]
    """
    missing = [c for c in ("community_id", "source", "amount_yuan", "mode") if c not in funding]
    if missing:
        raise SchemaError(
            f"funding: column(s) {', '.join(missing)} missing; pass the table of fund()"
        )
    rows = []
    for cid in dict.fromkeys(funding["community_id"].tolist()):
        part = funding[funding["community_id"] == cid]
        fen = [round(float(a) * 100) for a in part["amount_yuan"]]
        short = sum(f for f, s in zip(fen, part["source"], strict=True) if s == "shortfall")
        total = sum(fen)
        mode = str(part["mode"].iloc[0])
        area = part[part["source"].isin(AREA_SOURCES) & (part["amount_yuan"] > 0)]
        bundle_mode = "、".join(
            MODE_ZH["large_area" if s == "large_area_project" else "cross_area"]
            for s in area["source"]
        )
        rows.append(
            {
                "community_id": cid,
                "mode": mode,
                "mode_zh": MODE_ZH.get(mode, mode),
                "cost_yuan": total / 100,
                "cost_wan_yuan": _wan(total),
                "covered_yuan": (total - short) / 100,
                "covered_wan_yuan": _wan(total - short),
                "shortfall_yuan": short / 100,
                "shortfall_wan_yuan": _wan(short),
                "bundle_mode": bundle_mode,
            }
        )
    out: pd.DataFrame = pd.DataFrame(rows, columns=_MODE_COLUMNS)
    return out


# --------------------------------------------------------------------------- financing modes


#: Columns of :attr:`FinancingPlan.modes` and :attr:`FinancingPlan.totals`.
_PLAN_MODE_COLUMNS = [
    "community_id",
    "mode",
    "mode_zh",
    "need_wan_yuan",
    "bundle_covered_wan_yuan",
    "cross_covered_wan_yuan",
    "bundle_id",
    "project_ids",
]
_PLAN_TOTAL_COLUMNS = ["mode", "mode_zh", "communities", "need_wan_yuan", "covered_wan_yuan"]


@dataclass(frozen=True, slots=True)
class FinancingPlan:
    """Result of :func:`plan_financing`.

    Attributes
    ----------
    bundles, members
        As :class:`BundleResult` (empty when ``"large_area"`` is not in the order).
    cross_area
        As :attr:`CrossResult.pairs` (empty when ``"cross_area"`` is not in the order).
    modes
        One row per community of ``need_wan_yuan`` (and every self-balanced one), sorted by
        ``community_id``: ``mode`` (one of :data:`MODE_ORDER`), ``mode_zh``, ``need_wan_yuan``,
        ``bundle_covered_wan_yuan``, ``cross_covered_wan_yuan``, ``bundle_id`` and
        ``project_ids`` (the projects paying it, comma-separated; ``""`` if none).
    totals
        One row per mode in :data:`MODE_ORDER` order: ``mode``, ``mode_zh``, ``communities``
        (count), ``need_wan_yuan``, ``covered_wan_yuan`` (project money; 0 for self-balance,
        whose money is the community's own, and for government-led, which the finance step
        fills).
    info
        Flat: ``order``, ``large_area_*`` and ``cross_area_*`` (method, status, funded or
        covered, bound, gap, reason, time_s) of the steps that ran.
    """

    bundles: gpd.GeoDataFrame
    members: pd.DataFrame
    cross_area: pd.DataFrame
    modes: pd.DataFrame
    totals: pd.DataFrame
    info: dict[str, Any]


def _order_problems(order: Sequence[object]) -> list[tuple[str, str, str]]:
    """Problems of a mode order: unknown modes, modes named twice."""
    items = [str(m) for m in order]
    problems: list[tuple[str, str, str]] = []
    unknown = [m for m in items if m not in MODE_ORDER]
    if unknown:
        fix = f"use {', '.join(MODE_ORDER)}"
        problems.append(("order", f"{_listed_ids(unknown)} not a financing mode", fix))
    twice = sorted({m for m in items if items.count(m) > 1})
    if twice:
        problems.append(("order", f"{_listed_ids(twice)} listed twice", "name each mode once"))
    return problems


def _check_order(order: Sequence[str]) -> tuple[str, ...]:
    ScenarioError.check("plan_financing", "bundles", _order_problems(order))
    return tuple(str(m) for m in order)


def plan_financing(
    communities: gpd.GeoDataFrame,
    projects: gpd.GeoDataFrame,
    need_wan_yuan: pd.Series[float],
    *,
    self_balanced: Collection[str] = (),
    order: Sequence[str] = MODE_ORDER,
    bundle_options: BundleOptions = _DEFAULT_OPTIONS,
    cross_options: CrossOptions = _DEFAULT_CROSS,
    graph: nx.Graph | None = None,
) -> FinancingPlan:
    """Give every community one financing mode, trying the modes in ``order``.

    Each mode works on the communities the earlier ones left:

    * ``"self_balance"`` — the ``self_balanced`` communities (decided by
      :func:`gisplan.finance.self_balance`) keep 小区内自求平衡;
    * ``"large_area"`` — :func:`large_area` bundles the rest with adjacent projects (after
      a cross-area step, with the revenue its pairs took off each project);
    * ``"cross_area"`` — :func:`cross_area` pairs the rest with the surplus of projects not
      in a bundle and not ``adjacent_only``;
    * ``"government_led"`` — 政府引导多元投入: every community no other mode took, wherever
      it stands in ``order`` (its position only tells the caller which need to pass: the
      public cost when the bundling modes come first, or what government-led funding left
      short when it comes before them).

    A mode left out of ``order`` is not used (self-balanced communities are then treated like
    the others).

    Parameters
    ----------
    communities, projects
        As :func:`large_area`.
    need_wan_yuan
        Money each community needs (万元, >= 0), indexed by ``community_id``.
    self_balanced
        Community ids that balance themselves (小区内自求平衡).
    order
        The modes, first to last; default :data:`MODE_ORDER`.
    bundle_options
        Options of :func:`large_area`.
    cross_options
        Options of :func:`cross_area`.
    graph
        Adjacency graph (:func:`adjacency`); built with its defaults when ``None``.

    Returns
    -------
    FinancingPlan
        Bundles, cross-area pairs, one mode per community and totals per mode.

    Raises
    ------
    ScenarioError
        If ``order`` names an unknown mode or one twice.
    CRSError, SchemaError, LayerError
        As :func:`large_area`, and for a self-balanced id that is not a community.

    Examples
    --------
    >>> com = gpd.GeoDataFrame({"community_id": ["C1", "C2", "C3"]},
    ...                        geometry=[box(0, 0, 100, 100), box(300, 0, 400, 100),
    ...                                  box(2000, 0, 2100, 100)], crs=4548)
    >>> pro = gpd.GeoDataFrame({"project_id": ["P1"], "cost_wan_yuan": [50.0],
    ...                         "revenue_wan_yuan": [120.0]}, geometry=[box(120, 0, 280, 100)],
    ...                        crs=4548)
    >>> need = pd.Series({"C1": 30.0, "C2": 25.0, "C3": 10.0})
    >>> plan = gisplan.finance.plan_financing(com, pro, need)
    >>> plan.modes[["community_id", "mode"]].values.tolist()
    [['C1', 'large_area'], ['C2', 'large_area'], ['C3', 'government_led']]
    """
    steps = _check_order(order)
    units = _units(communities, projects)
    need = _need(need_wan_yuan, units)
    index = units.index()
    balanced = sorted({str(c).strip() for c in self_balanced})
    unknown = [c for c in balanced if c not in index or units.is_project[index[c]]]
    if unknown:
        raise LayerError(
            f"self_balanced: {_listed_ids(unknown)} not a community_id of the communities layer"
        )
    rows = sorted({str(k).strip() for k in need_wan_yuan.index} | set(balanced))
    book = _Ledger(
        rows=rows,
        need={c: float(need[index[c]]) for c in rows},
        info={"order": ",".join(steps)},
        bundles=_bundle_tables(units, _empty_inst(), [], bundle_options)[0],
    )
    for step in steps:
        if step == "self_balance":
            for c in balanced:
                book.mode.setdefault(c, "self_balance")
        elif step == "large_area":
            book.take_bundles(
                large_area(
                    communities,
                    book.remaining(projects),
                    book.pool(),
                    graph=graph,
                    options=bundle_options,
                )
            )
        elif step == "cross_area":
            book.take_pairs(
                cross_area(
                    book.pool(),
                    projects,
                    communities=communities,
                    exclude=sorted(book.used_projects),
                    allow_split=cross_options.allow_split,
                    distance_cost_per_km=cross_options.distance_cost_per_km,
                    district_column=cross_options.district_column,
                    district_penalty=cross_options.district_penalty,
                    max_distance_m=cross_options.max_distance_m,
                    time_limit_s=cross_options.time_limit_s,
                )
            )
    table, totals = book.tables()
    logger.info(
        "financing: %s",
        ", ".join(f"{m} {n}" for m, n in zip(totals["mode"], totals["communities"], strict=True)),
    )
    return FinancingPlan(
        bundles=book.bundles,
        members=book.members,
        cross_area=book.pairs,
        modes=table,
        totals=totals,
        info=book.info,
    )


@dataclass(slots=True)
class _Ledger:
    """What :func:`plan_financing` has decided so far, per community."""

    rows: list[str]
    need: dict[str, float]
    info: dict[str, Any]
    bundles: gpd.GeoDataFrame
    members: pd.DataFrame = field(default_factory=_members_frame)
    pairs: pd.DataFrame = field(default_factory=_pairs_frame)
    mode: dict[str, str] = field(default_factory=dict)
    bundle_of: dict[str, str] = field(default_factory=dict)
    payers: dict[str, list[str]] = field(default_factory=dict)
    bundle_cover: dict[str, float] = field(default_factory=dict)
    cross_cover: dict[str, float] = field(default_factory=dict)
    used_projects: set[str] = field(default_factory=set)

    def pool(self) -> pd.Series[float]:
        """Need of the communities no mode has taken yet."""
        left = [c for c in self.rows if c not in self.mode and self.need[c] > 0]
        return pd.Series([self.need[c] for c in left], index=left, dtype="float64")

    def take_bundles(self, result: BundleResult) -> None:
        self.bundles, self.members = result.bundles, result.members
        for key in ("method", "status", "funded_wan_yuan", "bound_wan_yuan", "gap", "n_bundles"):
            self.info[f"large_area_{key}"] = result.info[key]
        self.info["large_area_isolated"] = len(result.info["isolated"])
        self.info["large_area_reason"] = result.info["reason"]
        self.info["large_area_time_s"] = result.info["time_s"]
        for bid, comms, projs in zip(
            result.bundles["bundle_id"],
            result.bundles["community_ids"],
            result.bundles["project_ids"],
            strict=True,
        ):
            ids = str(projs).split(",")
            self.used_projects.update(ids)
            for c in str(comms).split(","):
                self.mode[c] = "large_area"
                self.bundle_of[c] = str(bid)
                self.bundle_cover[c] = self.need[c]
                self.payers[c] = ids

    def remaining(self, projects: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        """Projects with what cross-area pairs already took off their revenue."""
        if self.pairs.empty:
            return projects
        paid = self.pairs.groupby("project_id")["amount_wan_yuan"].sum()
        out = projects.copy()
        ids = out["project_id"].astype(str).str.strip()
        out["revenue_wan_yuan"] = pd.to_numeric(out["revenue_wan_yuan"]) - ids.map(paid).fillna(
            0.0
        ).to_numpy(float)
        return out

    def take_pairs(self, result: CrossResult) -> None:
        self.pairs = result.pairs
        for key in ("status", "covered_wan_yuan", "objective_wan_yuan", "bound_wan_yuan", "gap"):
            self.info[f"cross_area_{key}"] = result.info[key]
        self.info["cross_area_reason"] = result.info["reason"]
        self.info["cross_area_time_s"] = result.info["time_s"]
        for c, p, amount in zip(
            result.pairs["community_id"].astype(str),
            result.pairs["project_id"].astype(str),
            result.pairs["amount_wan_yuan"].to_numpy(float),
            strict=True,
        ):
            self.mode[c] = "cross_area"
            self.cross_cover[c] = self.cross_cover.get(c, 0.0) + float(amount)
            self.payers[c] = [*self.payers.get(c, []), p]

    def tables(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        table = pd.DataFrame(
            [
                {
                    "community_id": c,
                    "mode": self.mode.get(c, "government_led"),
                    "mode_zh": MODE_ZH[self.mode.get(c, "government_led")],
                    "need_wan_yuan": self.need[c],
                    "bundle_covered_wan_yuan": self.bundle_cover.get(c, 0.0),
                    "cross_covered_wan_yuan": self.cross_cover.get(c, 0.0),
                    "bundle_id": self.bundle_of.get(c, ""),
                    "project_ids": ",".join(self.payers.get(c, [])),
                }
                for c in self.rows
            ],
            columns=_PLAN_MODE_COLUMNS,
        )
        covered = table["bundle_covered_wan_yuan"] + table["cross_covered_wan_yuan"]
        totals = pd.DataFrame(
            [
                {
                    "mode": m,
                    "mode_zh": MODE_ZH[m],
                    "communities": int((table["mode"] == m).sum()),
                    "need_wan_yuan": float(table.loc[table["mode"] == m, "need_wan_yuan"].sum()),
                    "covered_wan_yuan": float(covered[table["mode"] == m].sum()),
                }
                for m in MODE_ORDER
            ],
            columns=_PLAN_TOTAL_COLUMNS,
        )
        return table, totals


@dataclass(frozen=True, kw_only=True, slots=True)
class FinancingOptions:
    """How the four financing modes are tried (``bundles:`` in a scenario).

    Parameters
    ----------
    order
        Financing modes, first to last (of :data:`MODE_ORDER`); a mode left out is not used.
        The bundling modes before ``government_led`` pay a community's public cost first;
        after it they only close what government-led funding left short.
    tolerance_m
        Units this close count as adjacent (streets between blocks), metres.
    group_by
        Column of the communities and projects (e.g. ``street``) a bundle may not cross.
    use_barriers
        No adjacency across the barriers layer (rivers, railways, expressways).
    large_area
        :class:`gisplan.bundles.BundleOptions` of 大片区统筹平衡.
    cross_area
        :class:`gisplan.bundles.CrossOptions` of 跨片区组合平衡.

    Raises
    ------
    ScenarioError
        If a mode is unknown or named twice, or ``tolerance_m`` is not a distance >= 0.

    Examples
    --------
    >>> FinancingOptions(order=("self_balance", "government_led")).order
    ('self_balance', 'government_led')
    >>> FinancingOptions(order=("large_areas",))
    Traceback (most recent call last):
    ...
    gisplan.errors.ScenarioError: FinancingOptions.order = large_areas not a financing mode; ...
    """

    order: tuple[str, ...] = MODE_ORDER
    tolerance_m: float = 30.0
    group_by: str | None = None
    use_barriers: bool = True
    large_area: BundleOptions = field(default_factory=BundleOptions)
    cross_area: CrossOptions = field(default_factory=CrossOptions)

    def __post_init__(self) -> None:
        """Check the order and the tolerance; raise once listing all problems."""
        problems = _order_problems(self.order)
        tolerance = self.tolerance_m
        if not (is_number(tolerance) and math.isfinite(float(tolerance)) and tolerance >= 0):
            problems.append(
                ("tolerance_m", f"{tolerance!r} is not a distance", "write metres >= 0")
            )
        ScenarioError.check("FinancingOptions", "bundles", problems)

    @property
    def area_first(self) -> bool:
        """Whether a bundling mode comes before government-led funding in :attr:`order`."""
        bundling = [self.order.index(m) for m in ("large_area", "cross_area") if m in self.order]
        if "government_led" not in self.order:
            return True
        return min(bundling, default=0) < self.order.index("government_led")


def _bundle_money(
    schemes: pd.DataFrame,
    communities: gpd.GeoDataFrame,
    projects: gpd.GeoDataFrame,
    funding: pd.DataFrame,
    *,
    barriers: gpd.GeoDataFrame | None,
    options: FinancingOptions,
) -> tuple[dict[str, dict[str, float]], dict[str, pd.DataFrame]]:
    """Bundle communities with revenue projects; return their money (元) and the tables.

    The money each community needs is its public cost (scheme items the government pays)
    when the bundles come before government-led funding, else what that left short (万元
    for :func:`plan_financing`, back to 元 for :func:`fund`).
    """
    from gisplan.bundles import adjacency  # noqa: PLC0415 - solver stack

    by_community = modes(funding).set_index("community_id")
    if options.area_first:
        public = schemes[schemes["payer"] == "government"].groupby("community_id")["cost_yuan"]
        need = public.sum() / 1e4
    else:
        need = by_community["shortfall_yuan"] / 1e4
    self_balanced = by_community.index[by_community["mode"] == "self_balance"]
    need = need[(need > 0) & ~need.index.isin(self_balanced)]
    graph = adjacency(
        communities,
        projects,
        tolerance_m=options.tolerance_m,
        group_by=options.group_by,
        barriers=barriers if options.use_barriers else None,
    )
    plan = plan_financing(
        communities,
        projects,
        need,
        self_balanced=tuple(self_balanced),
        order=options.order,
        bundle_options=options.large_area,
        cross_options=options.cross_area,
        graph=graph,
    )
    money = plan.modes[["community_id", "bundle_covered_wan_yuan", "cross_covered_wan_yuan"]]
    area = {
        str(cid): {"large_area_project": bundle * 1e4, "cross_area_project": cross * 1e4}
        for cid, bundle, cross in money.itertuples(index=False)
        if bundle or cross
    }
    info = {k: v for k, v in plan.info.items() if not k.endswith("time_s")}
    tables = {
        "bundles": plan.bundles,
        "bundle_members": plan.members,
        "cross_area": plan.cross_area,
        "financing_modes": plan.modes,
        "financing_totals": plan.totals,
        "bundles_info": info_table(info),
    }
    return area, tables


def _government_led_covered(
    totals: pd.DataFrame, planned: pd.DataFrame, funded: pd.DataFrame
) -> pd.DataFrame:
    """Fill the government-led row's covered money (its need less what stayed short); 0.01 万元."""
    led = planned.loc[planned["mode"] == "government_led", "community_id"]
    short = funded.loc[funded["community_id"].isin(led), "shortfall_wan_yuan"].sum()
    out: pd.DataFrame = totals.copy()
    row = out["mode"] == "government_led"
    out.loc[row, "covered_wan_yuan"] = out.loc[row, "need_wan_yuan"] - short
    money = ["need_wan_yuan", "covered_wan_yuan"]
    out[money] = out[money].astype(float).round(2)
    return out


def fund_by_modes(
    schemes: pd.DataFrame,
    communities: gpd.GeoDataFrame,
    *,
    rules: FundingRules = _DEFAULT_RULES,
    projects: gpd.GeoDataFrame | None = None,
    barriers: gpd.GeoDataFrame | None = None,
    options: FinancingOptions | None = None,
) -> dict[str, pd.DataFrame]:
    """Fund every scheme by the financing modes in order: the money chain in one call.

    Without ``options`` (or without ``projects``) this is :func:`fund` and :func:`modes`.
    With them, communities are first funded by the capped sources to find what each still
    needs; revenue projects are bundled with them (:func:`plan_financing`:
    大片区统筹平衡 with adjacent projects, 跨片区组合平衡 with non-adjacent surpluses, in
    ``options.order``), and the project money enters the funding table as the sources of
    :data:`AREA_SOURCES` — before the capped sources when a bundling mode precedes
    ``government_led`` in the order, else only to close the shortfall.

    Parameters
    ----------
    schemes
        Table of :func:`gisplan.catalogue.build_schemes`; unpriced items (no ``cost_yuan``)
        are left out.
    communities
        The communities layer (polygons, in a metric CRS when bundling).
    rules
        :class:`FundingRules` of the capped sources.
    projects
        Revenue projects (``project_id, kind, cost_wan_yuan, revenue_wan_yuan``), polygons.
    barriers
        Rivers, railways … no bundle may cross (used when ``options.use_barriers``).
    options
        :class:`FinancingOptions`; ``None`` funds without bundling.

    Returns
    -------
    dict of str to DataFrame
        ``funding`` (:func:`fund`), ``funding_modes`` (:func:`modes`) and, when bundling,
        ``bundles`` (layer), ``bundle_members``, ``cross_area``, ``financing_modes``,
        ``financing_totals`` (money per mode, 万元 to 0.01) and ``bundles_info``.

    Examples
    --------
    >>> s = pd.DataFrame({"community_id": ["c1"], "item": [1], "class": ["basic"],
    ...     "cost_yuan": [1000.0], "payer": ["utility"]})
    >>> out = fund_by_modes(s, pd.DataFrame({"community_id": ["c1"], "households": [4]}))
    >>> list(out), out["funding_modes"]["mode"].tolist()
    (['funding', 'funding_modes'], ['government_led'])
    """
    priced = schemes[schemes["cost_yuan"].notna()]
    funding = fund(priced, communities, rules=rules)
    tables: dict[str, pd.DataFrame] = {}
    if options is not None and projects is not None:
        area, tables = _bundle_money(
            priced, communities, projects, funding, barriers=barriers, options=options
        )
        funding = fund(
            priced, communities, rules=rules, area_funding=area, area_first=options.area_first
        )
    funding_modes = modes(funding)
    if "financing_totals" in tables:
        tables["financing_totals"] = _government_led_covered(
            tables["financing_totals"], tables["financing_modes"], funding_modes
        )
    return {"funding": funding, "funding_modes": funding_modes, **tables}
