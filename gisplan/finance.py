"""Funding of renovation schemes (资金筹措): who pays what, and whether the money is there.

A county finance office reads two things apart: money **committed** (已落实: a named payer, a
document or agreement, the year it is there — the ``commitments`` table a bureau fills in) and
money **assumed** by a rule (测算 / 拟争取: a share of a channel the seeds name but do not
quantify). 资金缺口 is the need less the committed money (less the assumed money too, only
when the scenario says assumed money counts: ``FundingRules.count_assumed``).

Every channel of the seeds is a source (:data:`SOURCES`, the ``funding_source`` vocabulary
with the sentence behind each): the two central channels (中央预算内投资 for the 配套基础设施
items, 中央财政专项资金 for the 基础类 public parts; never both for one item, never again for an
item centrally subsidised before), provincial and county budgets, the land-transfer share,
integrated department funds (民政、卫生、体育、商务… for the service items), 国有住房出售收入
存量资金, special bonds and credit (only against a revenue stream, at most what it services at the
coverage ratio: no hidden debt), the utility companies (their networks, shared with the county
where the seed says so), original owner units, residents by item (谁受益、谁出资), the housing
maintenance fund, the provident fund (lifts), social capital (已落实 only with a named
investor) and a community's own revenue (小区内自求平衡).

Linyi's "4+N" financing modes (Linyi 2020 三) decide how a community is paid for: the two
bundling modes (大片区统筹平衡, 跨片区组合平衡) are chosen by :mod:`gisplan.bundles` and enter as
project money (:data:`AREA_SOURCES`) — a bundle whose revenue arrives after the plan year only
if bridging it passes the debt test —, 小区内自求平衡 when a community's revenue services its
public cost, and 政府引导的多元化投入 for the rest.

* :func:`fund` — one row per community, source and status, adding up to the cost to the fen;
* :func:`modes` — one row per community: mode, cost, committed, assumed, gap, money year;
* :func:`pools` — the committed county-wide money per source and year (the plan's limits);
* :func:`fund_by_modes` — the whole chain, with the commitments checked and the debt tests.

Amounts are computed in whole fen (0.01 元), every cap rounded down. No function modifies its
inputs.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from gisplan._frozen import FrozenMap
from gisplan._funding import (
    Commitment,
    Purse,
    fen,
    item_list,
    listed,
    parts,
    read_commitments,
    wan,
)
from gisplan._text import is_blank, is_number, is_whole
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
    from collections.abc import Callable, Collection, Iterable, Mapping, Sequence

    import geopandas as gpd
    import networkx as nx

    from gisplan.bundles import BundleResult, CrossResult

__all__ = [
    "AREA_SOURCES",
    "DEFAULT_ORDER",
    "FUNDING_PRESETS",
    "MODES",
    "MODE_ORDER",
    "MODE_ZH",
    "POOL_SOURCES",
    "REVENUE_KINDS",
    "REVENUE_ZH",
    "SHARE_FIELDS",
    "SOURCES",
    "SOURCES_ZH",
    "STATUSES",
    "STATUS_ZH",
    "AreaMoney",
    "FinancingOptions",
    "FinancingPlan",
    "FundingRules",
    "RevenueFacility",
    "debt_capacity",
    "fund",
    "fund_by_modes",
    "modes",
    "plan_financing",
    "pools",
    "revenue_pv",
    "self_balance",
    "summary",
]

logger = logging.getLogger(__name__)

#: Funding sources, in display order: every channel the seeds name (labels, seed sentences:
#: the ``funding_source`` domain of :mod:`gisplan.vocabulary`).
SOURCES: tuple[str, ...] = (
    "central_budget_investment",
    "central_special_fund",
    "provincial_budget",
    "local_budget",
    "land_transfer",
    "department_funds",
    "housing_sale_funds",
    "special_bonds",
    "credit",
    "utility",
    "owner_unit",
    "residents",
    "maintenance_fund",
    "provident_fund",
    "social_capital",
    "community_revenue",
)

#: Sources that are shared money of a year (a county-wide pool: allocations, budgets, bond
#: quota, credit line), not tied to one community. The annual plan checks that the communities
#: it chooses draw no more from each than its committed money of the year.
POOL_SOURCES: tuple[str, ...] = SOURCES[:9]

#: Chinese name of every source, and of the ``"shortfall"`` row (from :mod:`gisplan.vocabulary`).
SOURCES_ZH: Mapping[str, str] = labels("funding_source")

#: Status of an amount: ``committed`` (已落实: a named payer, a document, a year),
#: ``assumed`` (测算: a rule of the scenario) or ``gap`` (资金缺口).
STATUSES: tuple[str, ...] = ("committed", "assumed", "gap")

#: Chinese name of every status.
STATUS_ZH: Mapping[str, str] = labels("funding_status")

#: Sources of the bundling modes: revenue projects of a large-area bundle (大片区统筹平衡) and
#: non-adjacent projects paired with a community (跨片区组合平衡); see :mod:`gisplan.bundles`.
AREA_SOURCES: tuple[str, ...] = ("large_area_project", "cross_area_project")

#: The financing modes, in the default order: the one definition of the mode codes (labels and
#: map colours: the ``financing_mode`` domain of :mod:`gisplan.vocabulary`). Linyi 2020
#: 三(一)–(四): 大片区统筹平衡, 跨片区组合平衡, 小区内自求平衡, 政府引导的多元化投入; the
#: revenue-project modes are tried before government-led funding fills what is left.
MODE_ORDER: tuple[str, ...] = ("self_balance", "large_area", "cross_area", "government_led")

#: Financing modes of a community, decided by :func:`fund`: the modes of
#: :data:`MODE_ORDER` and ``"shortfall"`` (资金缺口: the counted money does not cover the cost).
MODES: tuple[str, ...] = (*MODE_ORDER, "shortfall")

#: Chinese name of every mode (Linyi 2020 三(一)–(四) wording; :mod:`gisplan.vocabulary`).
MODE_ZH: Mapping[str, str] = labels("financing_mode")

#: Kinds of revenue facility built in a community (vocabulary domain ``revenue_kind``).
REVENUE_KINDS: tuple[str, ...] = tuple(labels("revenue_kind"))

#: Chinese name of every revenue kind.
REVENUE_ZH: Mapping[str, str] = labels("revenue_kind")

#: Fields of :class:`FundingRules` that are shares (0–1) of a community's public cost; they
#: may not add up to more than 1.
SHARE_FIELDS: tuple[str, ...] = (
    "provincial_share",
    "local_share",
    "land_transfer_share",
    "housing_sale_share",
    "special_bonds_share",
    "credit_share",
    "owner_unit_share",
    "social_capital_share",
)

#: Other fields that are fractions 0–1 (of eligible items, of a balance, of an item).
_FRACTION_FIELDS: tuple[str, ...] = (
    "central_cap_share",
    "central_investment_share",
    "department_share",
    "maintenance_fund_share",
    "utility_share",
    "utility_reward_share",
)

#: Default order in which the sources fill a community's public cost.
DEFAULT_ORDER: tuple[str, ...] = (
    "central_budget_investment",
    "central_special_fund",
    "provincial_budget",
    "local_budget",
    "land_transfer",
    "department_funds",
    "housing_sale_funds",
    "owner_unit",
    "residents",
    "maintenance_fund",
    "special_bonds",
    "credit",
    "social_capital",
)

#: The utility companies' share of their networks per seed city, and the sentence behind it.
#: A share the seed leaves to the county is our assumption and says so wherever it shows.
FUNDING_PRESETS: dict[str, tuple[dict[str, Any], str]] = {
    "national": (
        {"utility_share": 1.0},
        "住建部2021 (四)：落实专业经营单位责任",
    ),
    "linyi": (
        {"utility_share": 1.0},
        "临沂2020 四(五)：产权属于专营单位的由其负责改造，不属于的由其主动承担费用、政府以奖代补",
    ),
    "linxia": (
        {"utility_share": 0.5},
        (
            "临夏2020 四(三)：管线迁改、规整费用由专业经营单位和县市共同承担，"
            "具体比例由各县市研究确定（50%为本工具假设）"
        ),
    ),
    "tongnan": (
        {"utility_share": 1.0},
        "潼南2021 四(二)：管线单位承担相关管线设施设备的改造资金",
    ),
    "litong": (
        {"utility_share": 0.5},
        "利通2023 四(三)：管线单位承担相关行业改造的部分资金（50%为本工具假设）",
    ),
}

#: Why bonds and credit need a revenue stream (MOHURD 2021 底线(三); Linyi 2020 三).
_NO_DEBT = (
    "无经营性收益作偿债来源，不得举债（不增加政府隐性债务：住建部2021 底线(三)，临沂2020 三）"
)

_CLASSES: tuple[str, ...] = ("basic", "complete", "improve")
_PAYERS: tuple[str, ...] = ("government", "utility", "residents", "social_capital")
_PAYER_ZH = labels("payer")
_CLASS_ZH = labels("scheme_class")
_FUNDING_COLUMNS = [
    "community_id",
    "source",
    "source_zh",
    "funding_status",
    "funding_status_zh",
    "pool",
    "amount_yuan",
    "amount_wan_yuan",
    "counted",
    "year",
    "payer_name",
    "reference",
    "rule",
    "mode",
]
_MODE_COLUMNS = [
    "community_id",
    "mode",
    "mode_zh",
    "cost_yuan",
    "cost_wan_yuan",
    "committed_wan_yuan",
    "assumed_wan_yuan",
    "covered_yuan",
    "covered_wan_yuan",
    "shortfall_yuan",
    "shortfall_wan_yuan",
    "money_year",
    "bundle_mode",
]


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

    The seeds name the channels but give **no amounts or shares**: every share below is a
    planning assumption of the scenario (the funding table calls the money it yields 测算),
    and only the commitments table makes money 已落实. Shares are fractions 0–1 of a
    community's public cost (items paid by ``government``) unless stated.

    Parameters
    ----------
    central_per_household_yuan
        中央财政专项资金 cap per household. Default 10 000 元 (indicative assumption, not
        from the seeds).
    central_per_m2_yuan
        Optional cap of the special fund per m² of floor area (``None``: not used).
    central_cap_share
        中央财政专项资金 at most this share of the eligible items (``central_classes``, not
        centrally subsidised before, not paid by the budget investment). Default 0.5.
    central_investment_share
        中央预算内投资 at most this share of the public cost of the 配套基础设施 items (those
        with a ``utility_kind`` in the catalogue: the networks; Linyi 2020 五(一)2). Default 0.5.
        The two central channels never pay the same item, nor an item centrally subsidised
        before (Linxia 2020 三(一)).
    central_classes
        Catalogue classes central money may pay for. Default ``("basic",)``: Linxia 2020 四(二)
        中央和省级财政补助资金主要用于市政配套基础设施改造提升以及小区内建筑物屋面、外墙、楼梯等
        公共部位维修.
    provincial_share, local_share, land_transfer_share
        Provincial, city/county budget and land-transfer caps. Defaults 0.1, 0.25, 0.05.
    department_share
        部门资金整合 (民政、卫生、体育、商务…; Linyi 2020 四(三), Tongnan 2021 四(四)) at most this
        share of the 提升类 items that provide a life-circle service (the catalogue's
        ``gap_service``). Default 0.
    housing_sale_share
        国有住房出售收入存量资金 (Linxia 2020 四(二)). Default 0.
    special_bonds_share, credit_share
        Caps of special bonds and credit; both are further capped by what the community's
        revenue stream can service at ``coverage_ratio`` (none without one). Default 0.
    owner_unit_share
        Original owner unit's share, where ``owner_unit`` is set. Default 0.1.
    resident_per_household_yuan
        Residents' contribution to the public cost per household. Default 0.
    maintenance_fund_share
        Share of the community's 住宅专项维修资金 balance (``maintenance_fund_wan_yuan``) used,
        first for the residents' part, then for the common parts. Default 0.
    provident_per_lift_unit_yuan
        住房公积金 drawn per lift unit (``lift_units``) for the residents' part of a lift
        (Linxia 2020 四(一), Tongnan 2021 四(一)). Default 0.
    social_capital_share
        Social capital for the public cost (测算; 已落实 only with a named investor in the
        commitments). Default 0.
    utility_share
        Share of the utility items (catalogue payer ``utility``) the utility companies bear;
        the rest is public. Default 1.0; a preset sets its seed's value.
    utility_item_shares
        Per-item override of ``utility_share`` (item number -> share).
    utility_reward_share
        Where the networks are not the utilities' (``utility_network_owned`` false), the share
        of their part the government pays as 以奖代补 (Linyi 2020 四(五); no rate in the seed).
        Default 0.
    resident_item_shares
        Item number -> share of its public part the residents pay (谁受益、谁出资: Linxia 2020
        四(一) 门窗更换、水表电表改造). Default none.
    order
        Sources filling the public cost, first to last; a source left out is not used.
        Default :data:`DEFAULT_ORDER`.
    self_balance_source
        Source of a community that balances itself (its revenue). Default
        ``"community_revenue"``.
    discount_rate
        Annual discount rate of the revenue NPVs (fraction). Default 0.04 (indicative).
    horizon_years
        Years of income of a facility that states none. Default 15 (indicative).
    coverage_ratio
        本息覆盖倍数: debt (bonds, credit, bridging a late project revenue) at most the
        present value of the revenue that services it divided by this ratio (>= 1). Default
        1.2 (our assumption; the seeds only forbid hidden debt).
    count_assumed
        Count assumed (测算) money against the gap. Default ``False``: 资金缺口 = need −
        committed; ``True`` (a what-if) also subtracts the assumed money.
    preset
        Seed city whose utility rule applies (:data:`FUNDING_PRESETS`); fields given
        explicitly win. ``""`` (default): none.

    Raises
    ------
    ScenarioError
        If a share is outside 0–1 (a value above 1: "write 0.3, not 30"), the public-cost
        shares add up to more than 1 (they are named), the coverage ratio is below 1, or
        another field is invalid (every problem listed).

    Examples
    --------
    >>> FundingRules(local_share=0.2).local_share
    0.2
    >>> FundingRules(preset="linxia").utility_share
    0.5
    >>> FundingRules(coverage_ratio=0.8)
    Traceback (most recent call last):
    ...
    gisplan.errors.ScenarioError: FundingRules.coverage_ratio = 0.8 is below 1; ...
    """

    central_per_household_yuan: float = 10_000.0
    central_per_m2_yuan: float | None = None
    central_cap_share: float = 0.5
    central_investment_share: float = 0.5
    central_classes: tuple[str, ...] = ("basic",)
    provincial_share: float = 0.1
    local_share: float = 0.25
    land_transfer_share: float = 0.05
    department_share: float = 0.0
    housing_sale_share: float = 0.0
    special_bonds_share: float = 0.0
    credit_share: float = 0.0
    owner_unit_share: float = 0.1
    resident_per_household_yuan: float = 0.0
    maintenance_fund_share: float = 0.0
    provident_per_lift_unit_yuan: float = 0.0
    social_capital_share: float = 0.0
    utility_share: float | None = None
    utility_item_shares: Mapping[str, float] = field(default_factory=dict)
    utility_reward_share: float = 0.0
    resident_item_shares: Mapping[str, float] = field(default_factory=dict)
    order: tuple[str, ...] = DEFAULT_ORDER
    self_balance_source: str = "community_revenue"
    discount_rate: float = 0.04
    horizon_years: int = 15
    coverage_ratio: float = 1.2
    count_assumed: bool = False
    preset: str = ""

    def __post_init__(self) -> None:
        """Check every field; apply the preset; raise once listing all problems."""
        problems = _preset_problems(self)
        if self.utility_share is None:
            preset = FUNDING_PRESETS.get(self.preset, ({"utility_share": 1.0}, ""))[0]
            object.__setattr__(self, "utility_share", float(preset["utility_share"]))
        problems += _amount_problems(self) + _share_problems(self) + _choice_problems(self)
        problems += _rate_problems(self) + _item_share_problems(self)
        ScenarioError.check("FundingRules", "finance", problems)
        object.__setattr__(self, "order", tuple(self.order))
        object.__setattr__(self, "central_classes", tuple(self.central_classes))
        for key in ("utility_item_shares", "resident_item_shares"):
            given = getattr(self, key)
            object.__setattr__(self, key, FrozenMap({int(k): float(v) for k, v in given.items()}))

    @property
    def utility_note(self) -> str:
        """The seed sentence behind the utility share (``""`` without a preset)."""
        return FUNDING_PRESETS[self.preset][1] if self.preset in FUNDING_PRESETS else ""


def _preset_problems(rules: FundingRules) -> list[tuple[str, str, str]]:
    if rules.preset and rules.preset not in FUNDING_PRESETS:
        return [
            ("preset", f"{rules.preset!r} is not a seed city", f"use {', '.join(FUNDING_PRESETS)}")
        ]
    return []


def _amount_problems(rules: FundingRules) -> list[tuple[str, str, str]]:
    keys = [
        "central_per_household_yuan",
        "resident_per_household_yuan",
        "provident_per_lift_unit_yuan",
    ]
    if rules.central_per_m2_yuan is not None:
        keys.append("central_per_m2_yuan")
    return [p for k in keys if (p := _amount_problem(k, getattr(rules, k)))]


def _share_problems(rules: FundingRules) -> list[tuple[str, str, str]]:
    keys = (*SHARE_FIELDS, *_FRACTION_FIELDS)
    problems = [p for k in keys if (p := _share_problem(k, getattr(rules, k)))]
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


def _item_share_problems(rules: FundingRules) -> list[tuple[str, str, str]]:
    problems: list[tuple[str, str, str]] = []
    for key in ("utility_item_shares", "resident_item_shares"):
        for item, share in getattr(rules, key).items():
            if not (is_number(item) or str(item).isdigit()):
                problems.append((key, f"{item!r} is not an item number", "write e.g. 28: 0.5"))
            elif problem := _share_problem(f"{key}.{item}", share):
                problems.append(problem)
    return problems


def _choice_problems(rules: FundingRules) -> list[tuple[str, str, str]]:
    problems = [
        ("central_classes", f"{c!r} is unknown", f"use {', '.join(_CLASSES)}")
        for c in rules.central_classes
        if c not in _CLASSES
    ]
    fillers = set(DEFAULT_ORDER)
    problems += [
        ("order", f"{s!r} is not a source that fills the public cost", f"use {', '.join(fillers)}")
        for s in rules.order
        if s not in fillers
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
    ratio = rules.coverage_ratio
    if not (is_number(ratio) and math.isfinite(float(ratio))):
        problems.append(("coverage_ratio", f"{ratio!r} is not a number", "write 1.2"))
    elif float(ratio) < 1:
        problems.append(
            (
                "coverage_ratio",
                f"{ratio!r} is below 1",
                "debt must be covered by its revenue at least once (本息覆盖倍数 >= 1); write 1.2",
            )
        )
    return problems


@dataclass(frozen=True, kw_only=True, slots=True)
class RevenueFacility:
    """A revenue-earning facility of a community (小区内自求平衡; 停车、充电、广告…).

    Parameters
    ----------
    kind
        One of :data:`REVENUE_KINDS`.
    build_cost_yuan
        Cost of building it (>= 0), not part of the renovation scheme; spent the year
        before its income starts.
    annual_net_income_yuan
        Income minus operating cost per year (may be negative).
    start_year
        First year of income; ``None``: the year after the plan year.
    years
        Years of income (>= 1); ``None``: the rules' ``horizon_years``.
    name, operator
        What it is and who runs it (shown in the rule text).

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
    start_year: int | None = None
    years: int | None = None
    name: str = ""
    operator: str = ""

    def __post_init__(self) -> None:
        """Check kind, amounts and years."""
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
        if self.years is not None and (not is_whole(self.years) or self.years < 1):
            problems.append(("years", f"{self.years!r} is not a whole number >= 1", "write 10"))
        if self.start_year is not None and not is_whole(self.start_year):
            problems.append(("start_year", f"{self.start_year!r} is not a year", "write 2028"))
        ScenarioError.check("RevenueFacility", "finance", problems)


_DEFAULT_RULES = FundingRules()


# --------------------------------------------------------------------------- self-balance


def revenue_pv(
    revenues: Sequence[RevenueFacility], *, rules: FundingRules, plan_year: int | None = None
) -> tuple[float, float]:
    """Return the present value (元, at the plan year) of the facilities' income and build cost.

    Income of year ``t`` is discounted by ``(1 + r)^(t - plan_year)``; a facility without a
    ``start_year`` earns from the year after the plan year (so its first income is discounted
    once) for ``years`` (default ``rules.horizon_years``); its build cost falls the year
    before its income starts. Without ``plan_year`` every facility counts from now.

    Examples
    --------
    >>> park = RevenueFacility(kind="parking", build_cost_yuan=0, annual_net_income_yuan=100,
    ...                        years=2)
    >>> [round(v, 2) for v in revenue_pv([park], rules=FundingRules(discount_rate=0.1))]
    [173.55, 0.0]
    """
    rate = float(rules.discount_rate)
    base = 0 if plan_year is None else int(plan_year)
    income = build = 0.0
    for f in revenues:
        start = base + 1 if f.start_year is None or plan_year is None else int(f.start_year)
        years = int(f.years) if f.years is not None else int(rules.horizon_years)
        income += sum(
            float(f.annual_net_income_yuan) / (1 + rate) ** max(t - base, 0)
            for t in range(start, start + years)
        )
        build += float(f.build_cost_yuan) / (1 + rate) ** max(start - 1 - base, 0)
    return income, build


def debt_capacity(
    revenues: Sequence[RevenueFacility], *, rules: FundingRules, plan_year: int | None = None
) -> float:
    """Money (元) the facilities' revenue can service: PV(income) / coverage − PV(build cost)."""
    income, build = revenue_pv(revenues, rules=rules, plan_year=plan_year)
    return income / float(rules.coverage_ratio) - build


def self_balance(
    cost_yuan: float,
    revenues: Sequence[RevenueFacility],
    *,
    rules: FundingRules = _DEFAULT_RULES,
    plan_year: int | None = None,
) -> tuple[bool, float]:
    """Return whether revenue facilities pay for a renovation (小区内自求平衡).

    The up-front money (an operator's investment, a loan) is repaid from the facilities'
    income, so it may be at most what that income services at ``rules.coverage_ratio``
    (:func:`debt_capacity`): ``PV(income) / coverage − PV(build cost)`` (see
    :func:`revenue_pv`). The community balances itself when that covers ``cost_yuan``.

    Parameters
    ----------
    cost_yuan
        Renovation cost to balance (>= 0).
    revenues
        Facilities of the community; none means no balance.
    rules
        :class:`FundingRules` (discount rate, horizon, coverage ratio).
    plan_year
        Year the money is needed (the discounting base); ``None``: now.

    Returns
    -------
    tuple of (bool, float)
        ``(balances, surplus_yuan)``: the capacity minus ``cost_yuan``, and whether it is
        >= 0 with at least one facility.

    Raises
    ------
    ScenarioError
        If ``cost_yuan`` is negative or not a number.

    Examples
    --------
    >>> park = RevenueFacility(kind="parking", build_cost_yuan=0, annual_net_income_yuan=100)
    >>> ok, surplus = self_balance(
    ...     500, [park], rules=FundingRules(discount_rate=0, coverage_ratio=1.25))
    >>> ok, round(surplus, 2)
    (True, 700.0)
    """
    problem = _amount_problem("cost_yuan", cost_yuan)
    if problem:
        ScenarioError.check("self_balance", "finance", [problem])
    surplus = debt_capacity(revenues, rules=rules, plan_year=plan_year) - float(cost_yuan)
    return (bool(revenues) and surplus >= 0, surplus)


# --------------------------------------------------------------------------- inputs


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
        raise LayerError("schemes: bad rows:\n  " + listed(problems))


def _number(row: pd.Series[Any], key: str) -> float:
    value = row.get(key, math.nan)
    return float(value) if is_number(value) and math.isfinite(float(value)) else math.nan


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
        items = item_list(row.get("subsidised_items"))
    except (TypeError, ValueError):
        raw = row.get("subsidised_items")
        problems.append(f"{cid} · subsidised_items = {raw!r}: write numbers such as 1、3")
    if subsidised_items is not None and str(cid) in subsidised_items:
        items = items + tuple(int(v) for v in subsidised_items[str(cid)])
    owner = row.get("owner_unit")
    fund_balance = _number(row, "maintenance_fund_wan_yuan")
    if fund_balance < 0:
        problems.append(f"{cid} · maintenance_fund_wan_yuan = {fund_balance!r}: write 万元 >= 0")
    owned = row.get("utility_network_owned")
    return {
        "households": float(households),
        "floor_area_m2": float(area) if is_number(area) else math.nan,
        "owner_unit": None if is_blank(owner) else str(owner).strip(),
        "subsidised": tuple(sorted(set(items))),
        "maintenance_fund_yuan": 0.0 if math.isnan(fund_balance) else fund_balance * 1e4,
        "network_owned": None if is_blank(owned) else bool(owned),
        "lift_units": _number(row, "lift_units"),
    }


def _community_table(
    communities: pd.DataFrame,
    ids: list[Any],
    subsidised_items: Mapping[str, tuple[int, ...]] | None,
    rules: FundingRules,
) -> dict[Any, dict[str, Any]]:
    """Return ``community_id -> {households, floor area, owner unit, subsidised, …}``."""
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
            f"{', '.join(map(str, unknown[:10]))}"
        )
    if problems:
        raise LayerError("communities: bad funding values:\n  " + listed(problems))
    return table


@dataclass(frozen=True, slots=True)
class AreaMoney:
    """Revenue-project money of a bundling mode for one community (元).

    ``committed``: the projects' revenue is committed (a contract in the commitments table);
    ``year``: when it is there (the projects' ``revenue_year``; the plan year when a late
    revenue is bridged by debt that passed the debt check); ``note``: how (Chinese);
    ``payer_name``, ``reference``: who signed the contracts and their numbers.
    """

    amount_yuan: float
    committed: bool = False
    year: int | None = None
    note: str = ""
    payer_name: str = ""
    reference: str = ""


@dataclass(frozen=True, slots=True)
class _Catalogue:
    """What funding needs to know of the catalogue's items."""

    network: frozenset[int]  # 配套基础设施: items with a utility_kind
    services: frozenset[int]  # 提升类 items providing a life-circle service (gap_service)
    lifts: frozenset[int]  # items counted in lift_units


def _catalogue_sets(catalogue: pd.DataFrame | None, schemes: pd.DataFrame) -> _Catalogue:
    if catalogue is None:
        utility = schemes.loc[schemes["payer"] == "utility", "item"]
        improve = schemes.loc[schemes["class"] == "improve", "item"]
        return _Catalogue(
            network=frozenset(int(i) for i in utility),
            services=frozenset(int(i) for i in improve),
            lifts=frozenset(),
        )

    def where(column: str, test: Callable[[object], bool]) -> frozenset[int]:
        if column not in catalogue.columns:
            return frozenset()
        return frozenset(int(str(i)) for i, v in catalogue[column].items() if test(v))

    return _Catalogue(
        network=where("utility_kind", lambda v: not is_blank(v) and str(v) != ""),
        services=where("gap_service", lambda v: not is_blank(v) and str(v) != ""),
        lifts=where("quantity_field", lambda v: str(v) == "lift_units"),
    )


# --------------------------------------------------------------------------- funding


def _items_text(items: Iterable[int]) -> str:
    return "、".join(str(i) for i in sorted(items))


@dataclass(slots=True)
class _Book:
    """One community's funding rows as they are decided (fen)."""

    cid: object
    rows: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[Commitment] = field(default_factory=list)

    def add(
        self,
        source: str,
        status: str,
        amount: int,
        rule: str,
        *,
        pool: bool = False,
        year: int | None = None,
        payer_name: str = "",
        reference: str = "",
    ) -> None:
        if amount <= 0:
            return
        self.rows.append(
            {
                "source": source,
                "status": status,
                "pool": pool,
                "fen": amount,
                "year": year,
                "payer_name": payer_name,
                "reference": reference,
                "rule": rule,
            }
        )

    def total(self, status: str) -> int:
        return sum(r["fen"] for r in self.rows if r["status"] == status)


#: Purses each source may pay from, in order.
_SOURCE_PURSES: dict[str, tuple[str, ...]] = {
    "utility": ("utility",),
    "residents": ("residents", "public"),
    "maintenance_fund": ("residents", "public"),
    "provident_fund": ("residents",),
    "social_capital": ("social", "public"),
    "community_revenue": ("public", "social"),
}
_CENTRAL = ("central_budget_investment", "central_special_fund")
#: Money repaid from a community's revenue: at most what that revenue services.
_DEBT = ("special_bonds", "credit", "community_revenue")


@dataclass(slots=True)
class _Context:
    """Inputs of one community's funding that do not change from source to source."""

    info: dict[str, Any]
    items: pd.DataFrame
    rules: FundingRules
    sets: _Catalogue
    pooled: Mapping[str, Mapping[int, int]]
    plan_year: int | None
    capacity: float  # 元 the community's revenue can service (<= 0: none)
    central_items: set[int] = field(default_factory=set)
    rejected: list[Commitment] = field(default_factory=list)


def _allowed_items(source: str, ctx: _Context) -> set[int] | None:
    """Items a source may pay (``None``: any)."""
    items = {int(i) for i in ctx.items["item"]}
    gov = ctx.items
    if source in _CENTRAL:
        classes = set(gov.loc[gov["class"].isin(ctx.rules.central_classes), "item"].astype(int))
        allowed = (classes & items) - set(ctx.info["subsidised"])
        if source == "central_budget_investment":
            return allowed & set(ctx.sets.network)
        return allowed - ctx.central_items
    if source == "department_funds":
        return items & set(ctx.sets.services)
    if source == "provident_fund":
        return items & set(ctx.sets.lifts)
    return None


def _commit(book: _Book, purse: Purse, ctx: _Context, commitments: Sequence[Commitment]) -> None:
    """Take each of the community's commitments; one that is larger than its share fails."""
    problems: list[str] = []
    for c in sorted(commitments, key=lambda c: (c.year, c.commitment_id)):
        allowed = _allowed_items(c.source, ctx)
        if c.items:
            allowed = set(c.items) if allowed is None else allowed & set(c.items)
        purses = _SOURCE_PURSES.get(c.source, ("public",))
        room = purse.total(purses, allowed)
        if c.amount_fen > room:
            what = (
                f"what items {_items_text(c.items)} still cost"
                if c.items
                else f"the part of its cost {c.source} may pay"
            )
            problems.append(
                f"commitments · {c.commitment_id}: {c.amount_fen / 100:,.2f} 元 for "
                f"{c.community_id} is more than {what} ({room / 100:,.2f} 元); "
                "correct the amount or the items"
            )
            continue
        if c.source in _DEBT:
            if c.amount_fen / 100 > ctx.capacity + 1e-9:
                book.rejected.append(c)  # the debt test refuses it; the need stays open
                continue
            ctx.capacity -= c.amount_fen / 100
        taken = purse.take(purses, c.amount_fen, allowed)
        if c.source in _CENTRAL:
            ctx.central_items.update(taken)
        book.add(
            c.source,
            "committed",
            c.amount_fen,
            f"已落实：{c.payer_name}（{c.reference}），{c.year}年到位"
            + (f"，用于第{_items_text(c.items)}项" if c.items else ""),
            year=c.year,
            payer_name=c.payer_name,
            reference=c.reference,
        )
    if problems:
        raise LayerError("commitments: larger than the cost:\n  " + listed(problems))


def _status(source: str, ctx: _Context) -> tuple[str, bool]:
    """Return a rule's status: committed when the source has committed pool money."""
    pool = source in ctx.pooled
    return ("committed" if pool else "assumed"), (pool or source in POOL_SOURCES)


def _share_cap(key: str, label: str, public: int, ctx: _Context) -> tuple[int, str]:
    value = float(getattr(ctx.rules, key))
    cap = math.floor(value * public + 1e-6)
    return cap, f"{label}：公共部分{public / 100:.2f}元×{value:g}={cap / 100:.2f}元"


def _cap(source: str, public: int, purse: Purse, ctx: _Context) -> tuple[int, str]:  # noqa: PLR0911
    """Cap (fen) of a source on the public cost of one community, and why (Chinese)."""
    rules, info = ctx.rules, ctx.info
    if source == "central_budget_investment":
        eligible = purse.total(("public",), _allowed_items(source, ctx))
        cap = math.floor(float(rules.central_investment_share) * eligible + 1e-6)
        return cap, (
            f"中央预算内投资：配套基础设施内容{eligible / 100:.2f}元"
            f"×{float(rules.central_investment_share):g}={cap / 100:.2f}元"
        )
    if source == "central_special_fund":
        return _central_cap(purse, ctx)
    if source == "department_funds":
        eligible = purse.total(("public",), _allowed_items(source, ctx))
        cap = math.floor(float(rules.department_share) * eligible + 1e-6)
        return cap, (
            f"部门资金整合：提升类服务设施{eligible / 100:.2f}元×{float(rules.department_share):g}"
            f"={cap / 100:.2f}元"
        )
    if source in ("special_bonds", "credit"):
        key = f"{source}_share"
        cap, why = _share_cap(key, SOURCES_ZH[source], public, ctx)
        if ctx.capacity <= 0:
            return 0, _NO_DEBT
        room = fen(ctx.capacity)
        return min(cap, room), why + f"；以经营性收益偿还，债务上限{room / 100:.2f}元"
    if source == "owner_unit":
        if info["owner_unit"] is None:
            return 0, "无原产权单位"
        return _share_cap("owner_unit_share", f"原产权单位（{info['owner_unit']}）", public, ctx)
    if source == "residents":
        cap = fen(info["households"] * float(rules.resident_per_household_yuan))
        return cap, (
            f"居民出资每户{float(rules.resident_per_household_yuan):g}元×{info['households']:g}户"
            f"={cap / 100:.2f}元"
        )
    if source == "maintenance_fund":
        cap = fen(info["maintenance_fund_yuan"] * float(rules.maintenance_fund_share))
        return cap, (
            f"住宅专项维修资金余额{info['maintenance_fund_yuan'] / 1e4:.2f}万元"
            f"×{float(rules.maintenance_fund_share):g}={cap / 100:.2f}元"
        )
    labels_ = {
        "provincial_budget": ("provincial_share", "省级财政"),
        "local_budget": ("local_share", "市县财政"),
        "land_transfer": ("land_transfer_share", "土地出让收益"),
        "housing_sale_funds": ("housing_sale_share", "国有住房出售收入存量资金"),
        "social_capital": ("social_capital_share", "社会资本（未确定投资主体）"),
    }
    key, label = labels_[source]
    return _share_cap(key, label, public, ctx)


def _central_cap(purse: Purse, ctx: _Context) -> tuple[int, str]:
    rules, info = ctx.rules, ctx.info
    allowed = _allowed_items("central_special_fund", ctx)
    eligible = purse.total(("public",), allowed)
    households = info["households"]
    by_household = fen(households * float(rules.central_per_household_yuan))
    by_share = math.floor(float(rules.central_cap_share) * eligible + 1e-6)
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
    cap = min(by_household, by_share)
    if rules.central_per_m2_yuan is not None:
        by_area = fen(info["floor_area_m2"] * float(rules.central_per_m2_yuan))
        parts.append(f"每m²{float(rules.central_per_m2_yuan):g}元={by_area / 100:.2f}元")
        cap = min(cap, by_area)
    why = "中央财政专项资金上限取" + "、".join(parts) + "中较小者"
    why += f"（限{'、'.join(_CLASS_ZH[c] for c in rules.central_classes)}内容"
    gov_items = {int(i) for i in ctx.items["item"]}
    repeat = sorted(set(info["subsidised"]) & gov_items)
    if repeat:
        why += f"；第{_items_text(repeat)}项已获中央补助，不重复补助"
    if ctx.central_items:
        why += f"；第{_items_text(ctx.central_items)}项已由中央预算内投资支持，不重复"
    return cap, why + "）"


def _draw(book: _Book, purse: Purse, ctx: _Context, source: str, public: int) -> None:
    """Draw a rule's money from ``source`` for the public cost, up to its cap."""
    if source == "provident_fund":
        return
    cap, why = _cap(source, public, purse, ctx)
    given = sum(r["fen"] for r in book.rows if r["source"] == source)
    if given:  # the rule estimates the source's whole share: its commitments are part of it
        why += f"，已落实{given / 100:.2f}元，另测算{max(cap - given, 0) / 100:.2f}元"
        cap = max(cap - given, 0)
    allowed = _allowed_items(source, ctx)
    purses = ("residents", "public") if source == "maintenance_fund" else ("public",)
    taken = purse.take(purses, cap, allowed)
    amount = sum(taken.values())
    if source in _CENTRAL:
        ctx.central_items.update(taken)
    if source in ("special_bonds", "credit"):
        ctx.capacity -= amount / 100
    status, pool = _status(source, ctx)
    note = "；资金池已落实，年度计划按已落实额度校核" if status == "committed" else "（测算）"
    book.add(source, status, amount, why + note, pool=pool)


def _provident(book: _Book, purse: Purse, ctx: _Context) -> None:
    """住房公积金 for the residents' part of lifts (per lift unit)."""
    units = ctx.info["lift_units"]
    per_unit = float(ctx.rules.provident_per_lift_unit_yuan)
    if per_unit <= 0 or math.isnan(units) or not ctx.sets.lifts:
        return
    cap = fen(units * per_unit)
    taken = purse.take(("residents",), cap, ctx.sets.lifts)
    book.add(
        "provident_fund",
        "assumed",
        sum(taken.values()),
        f"提取住房公积金用于加装电梯：每部{per_unit:g}元×{units:g}部（测算）",
    )


def _leftovers(book: _Book, purse: Purse, ctx: _Context) -> None:
    """Book what the utilities, residents and investors still owe (assumed by the rules)."""
    rules = ctx.rules
    utility = purse.total(("utility",))
    if utility:
        items = _items_text(i for i, v in purse.left["utility"].items() if v)
        note = f"；{rules.utility_note}" if rules.utility_note else ""
        status, pool = _status("utility", ctx)
        book.add(
            "utility",
            status,
            utility,
            f"专营单位承担第{items}项的{float(rules.utility_share or 0):.0%}"
            + _reward_text(ctx)
            + ("（测算，未签协议）" if status == "assumed" else "（按框架协议）")
            + note,
            pool=pool,
        )
        purse.take(("utility",), utility)
    residents = purse.total(("residents",))
    if residents:
        items = _items_text(i for i, v in purse.left["residents"].items() if v)
        book.add(
            "residents",
            "assumed",
            residents,
            f"居民出资：第{items}项（谁受益、谁出资；测算，未收取）",
        )
        purse.take(("residents",), residents)
    social = purse.total(("social",))
    if social:
        items = _items_text(i for i, v in purse.left["social"].items() if v)
        status, pool = _status("social_capital", ctx)
        book.add(
            "social_capital",
            status,
            social,
            f"社会资本：第{items}项"
            + ("（按合作协议）" if status == "committed" else "（未确定投资主体，测算）"),
            pool=pool,
        )
        purse.take(("social",), social)


def _reward_text(ctx: _Context) -> str:
    """Return the 以奖代补 part of the utility rule's text, when it applies to the community."""
    reward = float(ctx.rules.utility_reward_share)
    if ctx.info["network_owned"] is not False or reward <= 0:
        return ""
    return f"，管网产权不属专营单位，其中{reward:.0%}由政府以奖代补（比例为情景设定）"


def _self_balance(
    book: _Book, purse: Purse, ctx: _Context, facilities: Sequence[RevenueFacility]
) -> bool:
    """小区内自求平衡: the revenue services the public cost still open."""
    public = purse.total(("public", "social"))
    if not facilities or public <= 0 or ctx.capacity * 100 < public:
        return False
    rules = ctx.rules
    income, build = revenue_pv(facilities, rules=rules, plan_year=ctx.plan_year)
    names = "、".join(f.name or REVENUE_ZH.get(f.kind, f.kind) for f in facilities)
    purse.take(("public", "social"), public)
    status, pool = _status(rules.self_balance_source, ctx)
    book.add(
        rules.self_balance_source,
        status,
        public,
        f"小区内自求平衡：{names}收益现值{income / 1e4:.2f}万元÷本息覆盖倍数"
        f"{float(rules.coverage_ratio):g}−建设成本现值{build / 1e4:.2f}万元="
        f"{ctx.capacity / 1e4:.2f}万元，足以偿还前期投入{public / 1e6:.2f}万元"
        f"（折现率{float(rules.discount_rate):g}；收益为测算）",
        pool=pool,
    )
    return True


def _area(book: _Book, purse: Purse, area: Mapping[str, AreaMoney]) -> None:
    """Take the bundles' project money for the public cost."""
    for source in AREA_SOURCES:
        money = area.get(source)
        if money is None or money.amount_yuan <= 0:
            continue
        taken = purse.take(("public",), fen(money.amount_yuan))
        what = (
            "大片区统筹平衡：片区内收益项目"
            if source == "large_area_project"
            else "跨片区组合平衡：非相邻收益项目"
        )
        status = "committed" if money.committed else "assumed"
        book.add(
            source,
            status,
            sum(taken.values()),
            f"{what}安排{money.amount_yuan / 1e4:.2f}万元"
            + (f"；{money.note}" if money.note else "")
            + ("" if money.committed else "（项目收益为测算，未签合同）"),
            year=money.year,
            payer_name=money.payer_name,
            reference=money.reference,
        )


def _fund_one(
    cid: object,
    ctx: _Context,
    facilities: Sequence[RevenueFacility],
    commitments: Sequence[Commitment],
    *,
    area: Mapping[str, AreaMoney] | None,
    area_first: bool,
) -> list[dict[str, Any]]:
    """Return the funding rows of one community."""
    rules = ctx.rules
    purse = parts(
        ctx.items,
        utility_share=float(rules.utility_share or 0.0),
        utility_item_shares={int(k): v for k, v in rules.utility_item_shares.items()},
        reward_share=float(rules.utility_reward_share),
        network_owned=ctx.info["network_owned"],
        resident_shares={int(k): v for k, v in rules.resident_item_shares.items()},
    )
    book = _Book(cid)
    cost = purse.total()
    public = purse.total(("public",))  # the base of the rules' shares
    _commit(book, purse, ctx, commitments)
    balanced = _self_balance(book, purse, ctx, facilities)
    area = area or {}
    contracted = {k: v for k, v in area.items() if v.committed}
    if area_first:  # contracted project money first; projected revenue never ahead of a pool
        _area(book, purse, contracted)
    if not balanced:
        for source in rules.order:
            _draw(book, purse, ctx, source, public)
        _provident(book, purse, ctx)
    _area(book, purse, {k: v for k, v in area.items() if not (area_first and v.committed)})
    _leftovers(book, purse, ctx)
    open_ = purse.total()
    refused = "；".join(
        f"{SOURCES_ZH[c.source]}{c.amount_fen / 1e6:.2f}万元（{c.reference}）"
        "超出经营性收益的偿债能力，债务测试未通过，不计入"
        for c in book.rejected
    )
    book.rows.append(
        {
            "source": "shortfall",
            "status": "gap",
            "pool": False,
            "fen": open_,
            "year": None,
            "payer_name": "",
            "reference": "",
            "rule": (f"各来源按规则测算后仍无着落{open_ / 100:.2f}元" if open_ else "无")
            + (f"；{refused}" if refused else ""),
        }
    )
    counted = book.total("committed") + (book.total("assumed") if rules.count_assumed else 0)
    gap = cost - counted
    mode = _mode(book, balanced=balanced, gap=gap)
    ctx.rejected.extend(book.rejected)
    rows = []
    for r in book.rows:
        counts = r["status"] == "committed" or (r["status"] == "assumed" and rules.count_assumed)
        rows.append(
            {
                "community_id": cid,
                "source": r["source"],
                "source_zh": SOURCES_ZH[r["source"]],
                "funding_status": r["status"],
                "funding_status_zh": STATUS_ZH[r["status"]],
                "pool": bool(r["pool"]),
                "amount_yuan": r["fen"] / 100,
                "amount_wan_yuan": wan(r["fen"]),
                "counted": bool(counts),
                "year": r["year"],
                "payer_name": r["payer_name"],
                "reference": r["reference"],
                "rule": r["rule"],
                "mode": mode,
            }
        )
    return rows


def _mode(book: _Book, *, balanced: bool, gap: int) -> str:
    pre_financed = any(
        r["source"] == "community_revenue" and r["status"] == "committed" for r in book.rows
    )
    if balanced or (pre_financed and gap <= 0):
        return "self_balance"
    if gap > 0:
        return "shortfall"
    bundled = [r["source"] for r in book.rows if r["source"] in AREA_SOURCES and r["fen"]]
    if bundled:
        return "large_area" if bundled[0] == "large_area_project" else "cross_area"
    return "government_led"


def _facilities(
    revenues: Mapping[str, Sequence[RevenueFacility]] | pd.DataFrame | None,
) -> dict[str, tuple[RevenueFacility, ...]]:
    """Revenue facilities by community id, from a mapping or the ``revenues`` table."""
    if revenues is None:
        return {}
    if not isinstance(revenues, pd.DataFrame):
        return {str(k): tuple(v) for k, v in revenues.items()}
    out: dict[str, list[RevenueFacility]] = {}
    problems: list[str] = []
    for pos in range(len(revenues)):
        row: Any = revenues.iloc[pos]
        where = f"revenues · {row.get('revenue_id', pos + 1)}"
        try:
            facility = RevenueFacility(
                kind=str(row.get("kind")),
                build_cost_yuan=float(row.get("build_cost_wan_yuan", 0.0) or 0.0) * 1e4,
                annual_net_income_yuan=float(row.get("annual_net_income_wan_yuan")) * 1e4,
                start_year=None if is_blank(row.get("start_year")) else int(row["start_year"]),
                years=None if is_blank(row.get("years")) else int(row["years"]),
                name="" if is_blank(row.get("name")) else str(row["name"]),
                operator="" if is_blank(row.get("operator")) else str(row["operator"]),
            )
        except (ScenarioError, TypeError, ValueError) as err:
            problems.append(f"{where}: {err}")
            continue
        out.setdefault(str(row["community_id"]).strip(), []).append(facility)
    if problems:
        raise LayerError("revenues: bad rows:\n  " + listed(problems))
    return {k: tuple(v) for k, v in out.items()}


def pools(commitments: Sequence[Commitment]) -> pd.DataFrame:
    """Return the committed county-wide money per source and year (``funding_pools``).

    A commitment with neither a community nor a project is money of a pool: the year's
    allocation, budget, bond quota or credit line, or a utility's framework agreement.

    Examples
    --------
    >>> from gisplan._funding import Commitment
    >>> c = Commitment("K1", "local_budget", "县财政局", 5_000_000_00, 2027, "县财〔2026〕1号",
    ...                None, None, ())
    >>> pools([c])[["source", "year", "committed_wan_yuan"]].values.tolist()
    [['local_budget', 2027, 500.0]]
    """
    rows: dict[tuple[str, int], list[Commitment]] = {}
    for c in commitments:
        if c.community_id is None and c.project_id is None:
            rows.setdefault((c.source, c.year), []).append(c)
    order = {s: i for i, s in enumerate(SOURCES)}
    out = pd.DataFrame(
        [
            {
                "source": source,
                "source_zh": SOURCES_ZH[source],
                "year": year,
                "committed_wan_yuan": wan(sum(c.amount_fen for c in given)),
                "payer_names": "、".join(dict.fromkeys(c.payer_name for c in given)),
                "references": "、".join(c.reference for c in given),
            }
            for (source, year), given in sorted(
                rows.items(), key=lambda kv: (order.get(kv[0][0], 99), kv[0][1])
            )
        ],
        columns=["source", "source_zh", "year", "committed_wan_yuan", "payer_names", "references"],
    )
    typed: pd.DataFrame = out.astype({"year": "int64"})
    return typed


def _pooled(commitments: Sequence[Commitment]) -> dict[str, dict[int, int]]:
    out: dict[str, dict[int, int]] = {}
    for c in commitments:
        if c.community_id is None and c.project_id is None:
            by_year = out.setdefault(c.source, {})
            by_year[c.year] = by_year.get(c.year, 0) + c.amount_fen
    return out


def _as_commitments(
    commitments: Sequence[Commitment] | pd.DataFrame | None, ids: Collection[str]
) -> list[Commitment]:
    if commitments is None:
        return []
    if isinstance(commitments, pd.DataFrame):
        projects = set(commitments.get("project_id", pd.Series(dtype=object)).dropna().astype(str))
        return read_commitments(
            commitments, sources=SOURCES, communities=ids, projects=projects, years=None
        )
    return list(commitments)


def fund(
    schemes: pd.DataFrame,
    communities: pd.DataFrame,
    *,
    rules: FundingRules = _DEFAULT_RULES,
    revenues: Mapping[str, Sequence[RevenueFacility]] | pd.DataFrame | None = None,
    subsidised_items: Mapping[str, tuple[int, ...]] | None = None,
    area_funding: Mapping[str, Mapping[str, float | AreaMoney]] | None = None,
    area_first: bool = True,
    commitments: Sequence[Commitment] | pd.DataFrame | None = None,
    catalogue: pd.DataFrame | None = None,
    plan_year: int | None = None,
) -> pd.DataFrame:
    """Return who pays for each community's scheme, and whether the money is really there.

    Each community's cost is split by item into what the utility companies bear of their
    networks (``rules.utility_share``: the seed city's rule), what the residents pay (items
    they own, ``resident_item_shares``), what an investor runs, and the public rest. Then, in
    this order:

    1. **commitments** of the community (已落实: payer, reference, year) pay what they name;
       one larger than what it may pay is an error naming it; bonds or credit beyond what the
       community's revenue services (``coverage_ratio``) are rejected (not counted);
    2. **小区内自求平衡**: when its revenue facilities service the public cost still open;
    3. **area money** of the bundles: when ``area_first``, the money of signed projects
       (已落实) before the sources and the projected (测算) after them, so that revenue nobody
       has contracted never takes the place of committed public money; else all after;
    4. the **sources of** ``rules.order``, each up to its rule cap (see
       :class:`FundingRules`): 已落实 when the source has committed pool money (the annual
       plan then keeps the chosen communities within it), else 测算; central money never
       twice for an item, nor for an item centrally subsidised before;
    5. what the utilities, residents and investors still owe by the rules (测算);
    6. the rest: the ``shortfall`` row (status ``gap``).

    Parameters
    ----------
    schemes
        Table of :func:`gisplan.catalogue.build_schemes` (``community_id, item, class,
        cost_yuan, payer``).
    communities
        ``community_id`` (unique), ``households``; optional ``owner_unit``,
        ``subsidised_items``, ``floor_area_m2``, ``maintenance_fund_wan_yuan``,
        ``utility_network_owned``, ``lift_units``.
    rules
        :class:`FundingRules`.
    revenues
        Revenue facilities: ``community_id -> facilities`` or the ``revenues`` table
        (``community_id, kind, build_cost_wan_yuan, annual_net_income_wan_yuan``,
        optional ``start_year, years, name, operator``).
    subsidised_items
        ``community_id -> items`` already centrally subsidised, added to the column's.
    area_funding
        ``community_id -> {source: amount_yuan or AreaMoney}`` (sources of
        :data:`AREA_SOURCES`): revenue-project money of the bundling modes. A plain amount is
        测算 (no contract) with no year.
    area_first
        Take the signed projects' money before the sources of ``rules.order`` (default;
        projected money always comes after them) or all of it after.
    commitments
        The checked commitments (:func:`gisplan._funding.read_commitments`) or the table.
    catalogue
        The catalogue of the schemes (which items are networks, services, lifts); ``None``:
        the utility-paid items are the networks and the 提升类 items the services.
    plan_year
        The year money is needed (discounting base of revenues).

    Returns
    -------
    pandas.DataFrame
        RangeIndex; ``community_id, source, source_zh, status, status_zh, pool,
        amount_yuan, amount_wan_yuan, counted, year, payer_name, reference, rule, mode``:
        per community (order of ``communities``) its non-zero amounts and one ``shortfall``
        row; amounts add up to the community's cost to the fen. ``counted``: committed, or
        assumed when ``rules.count_assumed``; ``mode``: the community's :data:`MODES` entry
        (``"shortfall"`` when the counted money does not cover the cost).

    Raises
    ------
    SchemaError
        If a required column is missing.
    LayerError
        If a cost is unknown or negative, a payer or class unknown, ids repeat, a community
        of ``schemes`` is not in ``communities``, a community value is bad, or a commitment
        is bad or larger than what it may pay.
    ScenarioError
        If ``revenues`` or ``subsidised_items`` name communities without a scheme.

    Examples
    --------
    >>> s = pd.DataFrame({"community_id": ["c1", "c1"], "item": [1, 2],
    ...     "class": ["basic", "basic"], "cost_yuan": [100_000.0, 20_000.0],
    ...     "payer": ["government", "utility"]})
    >>> c = pd.DataFrame({"community_id": ["c1"], "households": [4]})
    >>> f = fund(s, c)
    >>> f[["source", "funding_status", "amount_yuan"]].values.tolist()
    [['central_special_fund', 'assumed', 40000.0], ['provincial_budget', 'assumed', 10000.0], ['local_budget', 'assumed', 25000.0], ['land_transfer', 'assumed', 5000.0], ['utility', 'assumed', 20000.0], ['shortfall', 'gap', 20000.0]]
    """  # noqa: E501
    _check_schemes(schemes)
    ids = list(dict.fromkeys(schemes["community_id"].tolist()))
    table = _community_table(communities, ids, subsidised_items, rules)
    checked = _as_commitments(commitments, {str(i) for i in ids})
    facilities = _facilities(revenues)
    known = {str(i) for i in ids}
    extra = [
        f"{name}: {cid}"
        for name, mapping in (
            ("revenues", facilities),
            ("subsidised_items", subsidised_items),
            ("area_funding", area_funding),
        )
        if mapping is not None
        for cid in mapping
        if str(cid) not in known
    ]
    bad = [
        f"{cid} · {src} = {amount!r}"
        for cid, given in (area_funding or {}).items()
        for src, amount in given.items()
        if src not in AREA_SOURCES
        or (
            not isinstance(amount, AreaMoney)
            and not (is_number(amount) and math.isfinite(float(amount)) and float(amount) >= 0)
        )
    ]
    problems = [
        ("fund", f"no scheme for {', '.join(extra)}", "check the community ids"),
        (
            "area_funding",
            f"bad entries {', '.join(bad)}",
            f"use sources {' or '.join(AREA_SOURCES)} with amounts in 元 >= 0",
        ),
    ]
    ScenarioError.check(
        "fund", "finance", [p for p, ok in zip(problems, (extra, bad), strict=True) if ok]
    )
    sets = _catalogue_sets(catalogue, schemes)
    pooled = _pooled(checked)
    by_community: dict[str, list[Commitment]] = {}
    for c in checked:
        if c.community_id is not None:
            by_community.setdefault(c.community_id, []).append(c)
    area_by_id = {
        str(k): {
            src: a if isinstance(a, AreaMoney) else AreaMoney(float(a)) for src, a in v.items()
        }
        for k, v in (area_funding or {}).items()
    }
    rows: list[dict[str, Any]] = []
    refused: list[Commitment] = []
    scheme_ids = set(ids)
    for cid in communities["community_id"].tolist():
        if cid not in scheme_ids:
            continue
        own = facilities.get(str(cid), ())
        ctx = _Context(
            info=table[cid],
            items=schemes[schemes["community_id"] == cid],
            rules=rules,
            sets=sets,
            pooled=pooled,
            plan_year=plan_year,
            capacity=debt_capacity(own, rules=rules, plan_year=plan_year) if own else 0.0,
            rejected=refused,
        )
        rows += _fund_one(
            cid,
            ctx,
            own,
            by_community.get(str(cid), []),
            area=None if area_funding is None else area_by_id.get(str(cid), {}),
            area_first=area_first,
        )
    out: pd.DataFrame = pd.DataFrame(rows, columns=_FUNDING_COLUMNS)
    out["year"] = out["year"].astype("Int64")
    out["pool"] = out["pool"].astype(bool)
    out["counted"] = out["counted"].astype(bool)
    out.attrs["refused"] = tuple(refused)  # commitments the debt test refused
    return out


def modes(funding: pd.DataFrame) -> pd.DataFrame:
    """Return each community's financing mode, cost, committed, assumed and gap.

    Parameters
    ----------
    funding
        Table of :func:`fund`.

    Returns
    -------
    pandas.DataFrame
        RangeIndex, communities in the order of ``funding``; columns ``community_id, mode,
        mode_zh, cost_yuan, cost_wan_yuan, committed_wan_yuan`` (已落实),
        ``assumed_wan_yuan`` (测算), ``covered_yuan, covered_wan_yuan`` (the counted money),
        ``shortfall_yuan, shortfall_wan_yuan`` (资金缺口: cost − counted), ``money_year``
        (the latest year of its committed money; <NA> without) and ``bundle_mode`` (the
        bundling modes whose project money it received, else ``""``).

    Raises
    ------
    SchemaError
        If a column of :func:`fund` is missing.

    Examples
    --------
    >>> s = pd.DataFrame({"community_id": ["c1"], "item": [1], "class": ["basic"],
    ...     "cost_yuan": [1000.0], "payer": ["utility"]})
    >>> m = modes(fund(s, pd.DataFrame({"community_id": ["c1"], "households": [4]}),
    ...                rules=FundingRules(count_assumed=True)))
    >>> m[["mode_zh", "cost_yuan", "assumed_wan_yuan", "shortfall_yuan"]].values.tolist()
    [['政府引导的多元化投入', 1000.0, 0.1, 0.0]]
    """
    needed = ("community_id", "source", "amount_yuan", "mode", "funding_status", "counted", "year")
    missing = [c for c in needed if c not in funding]
    if missing:
        raise SchemaError(
            f"funding: column(s) {', '.join(missing)} missing; pass the table of fund()"
        )
    rows = []
    for cid in dict.fromkeys(funding["community_id"].tolist()):
        part = funding[funding["community_id"] == cid]
        amounts = [round(float(a) * 100) for a in part["amount_yuan"]]
        total = sum(amounts)
        by_status = dict.fromkeys(STATUSES, 0)
        counted = 0
        for a, status, counts in zip(amounts, part["funding_status"], part["counted"], strict=True):
            by_status[str(status)] += a
            counted += a if counts else 0
        years = part.loc[part["funding_status"] == "committed", "year"].dropna()
        mode = str(part["mode"].iloc[0])
        area = part[part["source"].isin(AREA_SOURCES) & (part["amount_yuan"] > 0)]
        bundle_mode = "、".join(
            MODE_ZH["large_area" if s == "large_area_project" else "cross_area"]
            for s in dict.fromkeys(area["source"])
        )
        rows.append(
            {
                "community_id": cid,
                "mode": mode,
                "mode_zh": MODE_ZH.get(mode, mode),
                "cost_yuan": total / 100,
                "cost_wan_yuan": wan(total),
                "committed_wan_yuan": wan(by_status["committed"]),
                "assumed_wan_yuan": wan(by_status["assumed"]),
                "covered_yuan": counted / 100,
                "covered_wan_yuan": wan(counted),
                "shortfall_yuan": (total - counted) / 100,
                "shortfall_wan_yuan": wan(total - counted),
                "money_year": int(years.max()) if len(years) else None,
                "bundle_mode": bundle_mode,
            }
        )
    out: pd.DataFrame = pd.DataFrame(rows, columns=_MODE_COLUMNS)
    out["money_year"] = out["money_year"].astype("Int64")
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


def _project_facts(projects: gpd.GeoDataFrame) -> dict[str, dict[str, Any]]:
    """``project_id -> {cost, revenue (万元), revenue_year}``."""
    years = (
        projects["revenue_year"]
        if "revenue_year" in projects.columns
        else pd.Series([None] * len(projects), index=projects.index)
    )
    return {
        str(pid).strip(): {
            "cost": float(cost),
            "revenue": float(revenue),
            "year": None if is_blank(year) else int(year),
        }
        for pid, cost, revenue, year in zip(
            projects["project_id"],
            pd.to_numeric(projects["cost_wan_yuan"]),
            pd.to_numeric(projects["revenue_wan_yuan"]),
            years,
            strict=True,
        )
    }


def _bridge(
    unit: tuple[str, str, str],
    ids: Sequence[str],
    spent: float,
    facts: Mapping[str, Mapping[str, Any]],
    *,
    rules: FundingRules,
    plan_year: int | None,
) -> dict[str, Any] | None:
    """Return the debt test of money paid before the projects' revenue arrives (or None).

    What the unit spends in the plan year (``spent``, 万元: the projects' cost and the money
    given to communities) is borrowed against the projects' revenue when that arrives later;
    it may be at most the revenue's present value divided by the coverage ratio.
    """
    kind, unit_id, communities = unit
    late = [p for p in ids if plan_year is not None and (facts[p]["year"] or 0) > plan_year]
    if not late:
        return None
    rate = float(rules.discount_rate)
    base = int(plan_year or 0)
    pv = sum(
        facts[p]["revenue"] / (1 + rate) ** max((facts[p]["year"] or base) - base, 0) for p in ids
    )
    capacity = pv / float(rules.coverage_ratio)
    passed = spent <= capacity + 1e-9
    year = max(int(facts[p]["year"]) for p in late)
    return {
        "unit_kind": kind,
        "unit_id": unit_id,
        "community_ids": communities,
        "project_ids": ",".join(ids),
        "revenue_year": year,
        "revenue_pv_wan_yuan": round(pv, 2),
        "coverage_ratio": float(rules.coverage_ratio),
        "capacity_wan_yuan": round(capacity, 2),
        "debt_wan_yuan": round(spent, 2),
        "passed": passed,
        "note": (
            f"项目收益{year}年到位，计划年度{plan_year}年的支出{spent:.2f}万元以项目收益为偿债来源"
            f"过桥融资：收益现值{pv:.2f}万元÷本息覆盖倍数{float(rules.coverage_ratio):g}="
            f"{capacity:.2f}万元"
            + (
                "，通过"
                if passed
                else "，不足以偿还：否决（不增加政府隐性债务，住建部2021 底线(三)）"
            )
        ),
    }


def _debt_tests(
    plan: FinancingPlan,
    facts: Mapping[str, Mapping[str, Any]],
    *,
    rules: FundingRules,
    plan_year: int | None,
) -> list[dict[str, Any]]:
    """Debt tests of the plan's bundles and of the projects paying cross-area pairs."""
    rows: list[dict[str, Any]] = []
    for bid, comms, projs, cost in zip(
        plan.bundles["bundle_id"],
        plan.bundles["community_ids"],
        plan.bundles["project_ids"],
        plan.bundles["cost_wan_yuan"],  # the communities' need and the projects' cost
        strict=True,
    ):
        ids = [p for p in str(projs).split(",") if p]
        row = _bridge(
            ("large_area", str(bid), str(comms)),
            ids,
            float(cost),
            facts,
            rules=rules,
            plan_year=plan_year,
        )
        if row:
            rows.append(row)
    if not plan.cross_area.empty:
        for pid, part in plan.cross_area.groupby("project_id", sort=True):
            paid = float(part["amount_wan_yuan"].sum()) + facts[str(pid)]["cost"]
            row = _bridge(
                ("cross_area", str(pid), ",".join(part["community_id"].astype(str))),
                [str(pid)],
                paid,
                facts,
                rules=rules,
                plan_year=plan_year,
            )
            if row:
                rows.append(row)
    return rows


def _area_money(
    plan: FinancingPlan,
    facts: Mapping[str, Mapping[str, Any]],
    contracts: Mapping[str, Sequence[Commitment]],
    tests: Sequence[Mapping[str, Any]],
    plan_year: int | None,
) -> dict[str, dict[str, AreaMoney]]:
    """Each community's project money with its status, year and contracts."""
    bridged = {(t["unit_kind"], t["unit_id"]) for t in tests if t["passed"]}

    def money(amount: float, kind: str, unit: str, ids: Sequence[str], spent: float) -> AreaMoney:
        years = [facts[p]["year"] for p in ids]
        signed = [c for p in ids for c in contracts.get(p, ())]
        sure = sum(c.amount_fen for c in signed) / 1e6 >= spent - 1e-9
        who = {
            "payer_name": "、".join(dict.fromkeys(c.payer_name for c in signed)) if sure else "",
            "reference": "、".join(c.reference for c in signed) if sure else "",
        }
        note = "、".join(ids)
        if (kind, unit) in bridged:
            year, note = plan_year, f"{note}；收益到位前过桥融资，已通过债务测试"
        elif any(y is None for y in years):
            year, note = None, f"{note}；收益到位年份未填写"
        else:
            year = max(int(y) for y in years if y is not None)
        return AreaMoney(amount * 1e4, sure, year, note, **who)

    out: dict[str, dict[str, AreaMoney]] = {}
    spent_by_bundle = {
        str(b): float(c)
        for b, c in zip(plan.bundles["bundle_id"], plan.bundles["cost_wan_yuan"], strict=True)
    }
    for cid, bundle, amount, projects in zip(
        plan.modes["community_id"].astype(str),
        plan.modes["bundle_id"].astype(str),
        plan.modes["bundle_covered_wan_yuan"].to_numpy(float),
        plan.modes["project_ids"].astype(str),
        strict=True,
    ):
        if amount > 0:
            ids = [p for p in projects.split(",") if p]
            out.setdefault(cid, {})["large_area_project"] = money(
                float(amount), "large_area", bundle, ids, spent_by_bundle.get(bundle, 0.0)
            )
    if not plan.cross_area.empty:
        paid = plan.cross_area.groupby("project_id")["amount_wan_yuan"].sum()
        for cid, part in plan.cross_area.groupby(plan.cross_area["community_id"].astype(str)):
            ids = [str(p) for p in part["project_id"]]
            spent = sum(float(paid[p]) + facts[p]["cost"] for p in ids)
            amount = float(part["amount_wan_yuan"].sum())
            unit = ids[0] if len(ids) == 1 else ""
            out.setdefault(cid, {})["cross_area_project"] = money(
                amount, "cross_area", unit, ids, spent
            )
    return out


def _bundle_money(
    schemes: pd.DataFrame,
    communities: gpd.GeoDataFrame,
    projects: gpd.GeoDataFrame,
    funding: pd.DataFrame,
    *,
    barriers: gpd.GeoDataFrame | None,
    options: FinancingOptions,
    rules: FundingRules,
    plan_year: int | None,
    contracts: Mapping[str, Sequence[Commitment]],
) -> tuple[dict[str, dict[str, AreaMoney]], dict[str, pd.DataFrame]]:
    """Bundle communities with revenue projects; return their money and the tables.

    The money each community needs is its public cost (scheme items the government pays)
    when the bundles come before government-led funding, else what that left uncovered.
    A bundle (or a project paying cross-area pairs) whose revenue arrives after the plan year
    must pass the debt test (:func:`_bridge`); the projects of one that fails are left out
    and the communities bundled again without them, until every bundle passes.
    """
    from gisplan.bundles import adjacency  # noqa: PLC0415 - solver stack

    by_community = modes(funding).set_index("community_id")
    if options.area_first:
        public = schemes[schemes["payer"] == "government"].groupby("community_id")["cost_yuan"]
        need = public.sum() / 1e4
    else:
        gap = funding["funding_status"] == "gap"
        uncovered = funding[gap].groupby("community_id")["amount_yuan"]
        need = uncovered.sum() / 1e4
    self_balanced = by_community.index[by_community["mode"] == "self_balance"]
    need = need[(need > 0) & ~need.index.isin(self_balanced)]
    graph = adjacency(
        communities,
        projects,
        tolerance_m=options.tolerance_m,
        group_by=options.group_by,
        barriers=barriers if options.use_barriers else None,
    )
    facts = _project_facts(projects)
    rejected: list[dict[str, Any]] = []
    usable = projects
    for _ in range(len(projects) + 1):
        plan = plan_financing(
            communities,
            usable,
            need,
            self_balanced=tuple(self_balanced),
            order=options.order,
            bundle_options=options.large_area,
            cross_options=options.cross_area,
            graph=graph,
        )
        tests = _debt_tests(plan, facts, rules=rules, plan_year=plan_year)
        failed = [t for t in tests if not t["passed"]]
        if not failed:
            break
        rejected += [
            {
                **t,
                "unit_id": f"否决{len(rejected) + k + 1}",
                "note": f"原{t['unit_id']}：{t['note']}",
            }
            for k, t in enumerate(failed)
        ]
        out_ids = {p for t in failed for p in str(t["project_ids"]).split(",")}
        usable = usable[~usable["project_id"].astype(str).str.strip().isin(out_ids)]
        graph = graph.subgraph([n for n in graph if str(n) not in out_ids]).copy()
        logger.info("debt test: projects %s left out, bundling again", ", ".join(sorted(out_ids)))
    area = _area_money(plan, facts, contracts, tests, plan_year)
    info = {k: v for k, v in plan.info.items() if not k.endswith("time_s")}
    tables = {
        "bundles": plan.bundles,
        "bundle_members": plan.members,
        "cross_area": plan.cross_area,
        "financing_modes": plan.modes,
        "financing_totals": plan.totals,
        "bundles_info": info_table(info),
        "debt_check": pd.DataFrame([*rejected, *tests], columns=_DEBT_COLUMNS),
    }
    return area, tables


_DEBT_COLUMNS = [
    "unit_kind",
    "unit_id",
    "community_ids",
    "project_ids",
    "revenue_year",
    "revenue_pv_wan_yuan",
    "coverage_ratio",
    "capacity_wan_yuan",
    "debt_wan_yuan",
    "passed",
    "note",
]


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


def _community_debt(
    funding: pd.DataFrame,
    rules: FundingRules,
    facilities: Mapping[str, Sequence[RevenueFacility]],
    plan_year: int | None,
) -> list[dict[str, Any]]:
    """Debt tests of communities that borrow against their own revenue (or tried to)."""
    rows: list[dict[str, Any]] = []
    borrowing = ("special_bonds", "credit", rules.self_balance_source)
    borrowed = funding[funding["source"].isin(borrowing)]
    refused: dict[str, list[Commitment]] = {}
    for c in funding.attrs.get("refused", ()):
        refused.setdefault(str(c.community_id), []).append(c)
    ids = sorted(set(borrowed["community_id"].astype(str)) | set(refused))
    for cid in ids:
        own = facilities.get(cid, ())
        income, build = revenue_pv(own, rules=rules, plan_year=plan_year)
        capacity = income / float(rules.coverage_ratio) - build
        used = float(borrowed.loc[borrowed["community_id"].astype(str) == cid, "amount_yuan"].sum())
        asked = refused.get(cid, [])
        debt = used + sum(c.amount_fen / 100 for c in asked)
        why = "、".join(
            f"{SOURCES_ZH[c.source]}{c.amount_fen / 1e6:.2f}万元（{c.reference}）" for c in asked
        )
        rows.append(
            {
                "unit_kind": "community",
                "unit_id": cid,
                "community_ids": cid,
                "project_ids": "",
                "revenue_year": None,
                "revenue_pv_wan_yuan": round(income / 1e4, 2),
                "coverage_ratio": float(rules.coverage_ratio),
                "capacity_wan_yuan": round(capacity / 1e4, 2),
                "debt_wan_yuan": round(debt / 1e4, 2),
                "passed": not asked,
                "note": "小区经营性收益偿还前期投入和债务"
                + (
                    f"；{why}超出偿债能力：否决，不计入（不增加政府隐性债务，住建部2021 底线(三)）"
                    if asked
                    else "，通过"
                ),
            }
        )
    return rows


def fund_by_modes(
    schemes: pd.DataFrame,
    communities: gpd.GeoDataFrame,
    *,
    rules: FundingRules = _DEFAULT_RULES,
    projects: gpd.GeoDataFrame | None = None,
    barriers: gpd.GeoDataFrame | None = None,
    options: FinancingOptions | None = None,
    commitments: pd.DataFrame | None = None,
    revenues: pd.DataFrame | Mapping[str, Sequence[RevenueFacility]] | None = None,
    catalogue: pd.DataFrame | None = None,
    plan_years: tuple[int, int] | None = None,
) -> dict[str, pd.DataFrame]:
    """Fund every scheme by the financing modes in order: the money chain in one call.

    The commitments table is checked against the run first (every community and project
    exists, every year lies in ``plan_years``, no commitment pays more than it may). Without
    ``options`` (or without ``projects``) this is :func:`fund` and :func:`modes`. With them,
    communities are first funded to find what each still needs; revenue projects are bundled
    with them (:func:`plan_financing`), each bundle whose revenue arrives after the plan year
    passing the debt test or being left out, and the project money enters the funding table
    as the sources of :data:`AREA_SOURCES` — before the sources of the rules when a bundling
    mode precedes ``government_led`` in the order, else after them.

    Parameters
    ----------
    schemes
        Table of :func:`gisplan.catalogue.build_schemes`; unpriced items are left out.
    communities
        The communities layer (polygons, in a metric CRS when bundling).
    rules
        :class:`FundingRules`.
    projects
        Revenue projects (``project_id, kind, cost_wan_yuan, revenue_wan_yuan``, optional
        ``revenue_year``), polygons.
    barriers
        Rivers, railways … no bundle may cross (used when ``options.use_barriers``).
    options
        :class:`FinancingOptions`; ``None`` funds without bundling.
    commitments, revenues
        The commitments and revenues tables (see :func:`fund`).
    catalogue
        The schemes' catalogue.
    plan_years
        First and last year of the plan period (the first is the plan year).

    Returns
    -------
    dict of str to DataFrame
        ``funding`` (:func:`fund`), ``funding_modes`` (:func:`modes`), ``funding_pools``
        (:func:`pools`), ``funding_summary`` (money per source and status), ``debt_check``
        (every debt test: communities borrowing against their revenue, bundles and projects
        bridging a late revenue) and, when bundling, ``bundles`` (layer),
        ``bundle_members``, ``cross_area``, ``financing_modes``, ``financing_totals`` and
        ``bundles_info``.

    Examples
    --------
    >>> s = pd.DataFrame({"community_id": ["c1"], "item": [1], "class": ["basic"],
    ...     "cost_yuan": [1000.0], "payer": ["utility"]})
    >>> out = fund_by_modes(s, pd.DataFrame({"community_id": ["c1"], "households": [4]}))
    >>> sorted(out), out["funding_modes"]["mode"].tolist()
    (['debt_check', 'funding', 'funding_modes', 'funding_pools', 'funding_summary'], ['shortfall'])
    """
    priced = schemes[schemes["cost_yuan"].notna()]
    ids = {str(i) for i in priced["community_id"]}
    project_ids = set() if projects is None else set(projects["project_id"].astype(str).str.strip())
    checked = (
        []
        if commitments is None
        else read_commitments(
            commitments, sources=SOURCES, communities=ids, projects=project_ids, years=plan_years
        )
    )
    facilities = _facilities(revenues)
    plan_year = None if plan_years is None else plan_years[0]
    kwargs: dict[str, Any] = {
        "rules": rules,
        "revenues": facilities,
        "commitments": checked,
        "catalogue": catalogue,
        "plan_year": plan_year,
    }
    try:
        funding = fund(priced, communities, **kwargs)
    except LayerError as err:
        raise _with_unpriced(err, schemes) from None
    tables: dict[str, pd.DataFrame] = {}
    if options is not None and projects is not None:
        contracts: dict[str, list[Commitment]] = {}
        for c in checked:
            if c.project_id is not None:
                contracts.setdefault(c.project_id, []).append(c)
        area, tables = _bundle_money(
            priced,
            communities,
            projects,
            funding,
            barriers=barriers,
            options=options,
            rules=rules,
            plan_year=plan_year,
            contracts=contracts,
        )
        funding = fund(
            priced, communities, area_funding=area, area_first=options.area_first, **kwargs
        )
    funding_modes = modes(funding)
    if "financing_totals" in tables:
        tables["financing_totals"] = _government_led_covered(
            tables["financing_totals"], tables["financing_modes"], funding_modes
        )
    debt = pd.DataFrame(
        _community_debt(funding, rules, facilities, plan_year),
        columns=_DEBT_COLUMNS,
    )
    if "debt_check" in tables:
        debt = pd.concat([debt, tables.pop("debt_check")], ignore_index=True)
    debt["revenue_year"] = debt["revenue_year"].astype("Int64")
    debt["passed"] = debt["passed"].astype(bool)
    return {
        "funding": funding,
        "funding_modes": funding_modes,
        "funding_pools": (funding_pools := pools(checked)),
        "funding_summary": summary(funding, funding_pools),
        "debt_check": debt,
        **tables,
    }


def _with_unpriced(err: LayerError, schemes: pd.DataFrame) -> LayerError:
    """Add to a commitments error which communities' costs are incomplete (unpriced items).

    A commitment larger than a scheme's cost is often a cost that could not be estimated (an
    item priced per m² without ``floor_area_m2``): the message names them so that the fix is
    to complete the survey, not to cut the commitment.
    """
    unpriced = schemes[schemes["cost_yuan"].isna()]
    named = [str(c) for c in dict.fromkeys(unpriced["community_id"]) if f" {c} " in str(err)]
    if not named:
        return err
    counts = unpriced.groupby(unpriced["community_id"].astype(str)).size()
    detail = "、".join(f"{c}（{int(counts[c])} 项）" for c in named)
    return LayerError(
        f"{err}\n  note: the cost of {detail} is incomplete — items without a cost (e.g. priced "
        "per m² while floor_area_m2 is missing) are left out; complete the survey "
        "(floor_area_m2 …) before checking the commitment against the cost"
    )


def summary(funding: pd.DataFrame, funding_pools: pd.DataFrame | None = None) -> pd.DataFrame:
    """Return the money per source and status (万元): what a finance office reads first.

    A rule's draw on a source with committed pool money is 已落实 for the community (the pool
    exists), but all communities together may draw more than the pools hold: the annual plan
    then spreads them over the years. ``pool_drawn_wan_yuan`` is that committed pool draw and
    ``pool_wan_yuan`` the pools' committed money over the period (``funding_pools``; NaN for a
    source without a pool), so the two can be read side by side.

    Examples
    --------
    >>> s = pd.DataFrame({"community_id": ["c1"], "item": [1], "class": ["basic"],
    ...     "cost_yuan": [10_000.0], "payer": ["utility"]})
    >>> summary(fund(s, pd.DataFrame({"community_id": ["c1"], "households": [4]})))[
    ...     ["source", "committed_wan_yuan", "assumed_wan_yuan", "gap_wan_yuan"]].values.tolist()
    [['utility', 0.0, 1.0, 0.0]]
    """
    order = {s: i for i, s in enumerate((*SOURCES, *AREA_SOURCES, "shortfall"))}
    pooled = (
        pd.Series(dtype=float)
        if funding_pools is None
        else funding_pools.groupby("source")["committed_wan_yuan"].sum()
    )
    rows = []
    for source in sorted(set(funding["source"]), key=lambda s: order.get(s, 99)):
        part = funding[funding["source"] == source]
        fen_by = {
            status: sum(
                round(float(a) * 100)
                for a in part.loc[part["funding_status"] == status, "amount_yuan"]
            )
            for status in STATUSES
        }
        if not any(fen_by.values()):
            continue
        drawn = part.loc[(part["funding_status"] == "committed") & part["pool"].astype(bool)]
        rows.append(
            {
                "source": source,
                "source_zh": SOURCES_ZH[source],
                "committed_wan_yuan": wan(fen_by["committed"]),
                "assumed_wan_yuan": wan(fen_by["assumed"]),
                "gap_wan_yuan": wan(fen_by["gap"]),
                "total_wan_yuan": wan(sum(fen_by.values())),
                "pool_drawn_wan_yuan": wan(
                    sum(round(float(a) * 100) for a in drawn["amount_yuan"])
                ),
                "pool_wan_yuan": round(float(pooled[source]), 2) if source in pooled else math.nan,
            }
        )
    table: pd.DataFrame = pd.DataFrame(
        rows,
        columns=[
            "source",
            "source_zh",
            "committed_wan_yuan",
            "assumed_wan_yuan",
            "gap_wan_yuan",
            "total_wan_yuan",
            "pool_drawn_wan_yuan",
            "pool_wan_yuan",
        ],
    )
    return table
