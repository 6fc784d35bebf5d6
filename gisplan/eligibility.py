"""Eligibility for old-community renovation (纳入改造范围): who qualifies, in which tier, and why.

:func:`assess` checks every community against the rules of one seed city (a preset, see
:data:`PRESETS`) and returns one row per community with a status, the reason codes of the
rules that decided it, Chinese reason text, the outcome (``"pass"`` / ``"fail"`` /
``"unknown"``) of each rule, the scope tier and the count of qualifying conditions met.

Scope rules (a failure excludes the community, ``not_eligible``):

* ``rule_built_year`` — the build-year cut-off. ``cutoff_mode="hard"``: built after
  ``cutoff`` fails (Linyi: 2005年12月31日前…建成). ``"priority"``: it never excludes; the
  community is in the ``later`` tier (Linxia: 重点改造2000年底前建成). A second tier
  (``tier2_cutoff`` with ``tier2_conditions``, Tongnan: 逐步对2005年底前建成的居住条件较差的
  城镇老旧小区实施改造提升) takes communities built after the cut-off, by the tier-2 cut-off,
  whose conditions hold; a blank condition there is unknown under a hard cut-off;
* ``rule_land`` — on urban state-owned land (``land_tenure == "国有"``; ``集体`` fails,
  ``其他`` and blanks are unknown);
* ``rule_expropriation`` — no expropriation planned up to ``plan_year + N`` (Linxia), or none
  planned at all (``expropriation_within_years="any"``, Litong); a blank cell means "none
  planned", a missing column "not surveyed" (unknown);
* ``rule_demolition`` — no demolish-and-rebuild planned;
* ``rule_shantytown`` — not already rebuilt under shantytown renovation;
* ``rule_conditions`` — the qualifying conditions the preset's scope sentence requires
  (失养失修失管, 市政配套设施不完善, 公共服务设施不健全, 居民改造意愿强烈, Litong's 管理机制不健全):
  ``conditions_all`` must all hold, at least one of ``conditions_any`` must; a blank required
  condition is unknown (待核实), never a silent pass;
* ``rule_prior_subsidy`` — earlier central subsidy: ``repeat_subsidised="not_again"`` (Litong
  三(一)1, 不得重复建设) fails a community with a ``subsidy_year``; ``"no_central_money"``
  (Linxia, national) keeps it, and ``central_subsidy_note`` lists the items that cannot take
  central money again; ``repeat_conditions`` are the conditions a community renovated before
  (``subsidy_year``, ``subsidised_items`` or ``other_program_items``) must still meet (Linxia:
  依然存在市政配套设施不完善、社会服务设施不健全、居民改造意愿强烈的…纳入改造计划).

Plan-entry gates (they never exclude; unmet, the status is ``eligible_waiting_consent``):

* ``rule_consent`` — national notice 底线要求(七): 参与率、同意率达到当地规定比例的，方可纳入改造
  计划; locally "双三分之二". Participation is ``participating_owners / owners`` (``owners``
  blank → ``households``) AND ``participating_area_m2 / floor_area_m2``; approval is
  ``approving_owners / participating_owners`` AND ``approving_area_m2 /
  participating_area_m2``; each must reach its threshold (default exactly 2/3, compared as
  :class:`fractions.Fraction`: 200 of 300 passes, 199 fails). Without counts the rate columns
  (by number only) are read, and the area criterion is unknown unless ``consent_by_area`` is
  ``False``. ``floor_area_m2`` stands in for the owners' total exclusive area (conservative
  where it includes shared parts). Inconsistent counts or areas (approving > participating,
  participating > owners, an area above the floor area, a negative count) make the status
  ``unknown`` with the reason;
* ``rule_property_mgmt`` — notice 底线要求(八), first sentence: 居民就结合改造工作同步完善小区长效
  管理机制形成共识的，方可纳入改造计划 (``property_mgmt_agreed``; false or blank holds the
  community back while ``require_mgmt_consensus``, on in every preset).

Two later gates are not checked here: the scheme vote of (七) (改造方案应经法定比例以上居民书面
(线上)表决同意后，方可开工改造) and the second sentence of (八) (物业管理模式、物业服务费用…书面
(线上)确认的，方可开工改造) come before works start, and :func:`gisplan.plan.rollout` owns them.

Status, by priority: any scope rule fails → ``not_eligible``; else any is unknown →
``unknown`` (待核实, needs a survey); else inconsistent consent data → ``unknown``; else a gate
unmet or unknown → ``eligible_waiting_consent``; else ``eligible``.

Besides the rules, each row carries ``scope`` (``core`` built by the cut-off, ``tier2``,
``later`` after a priority cut-off; ``""`` when not eligible or the tier is undecided) and its
label ``scope_zh``, ``conditions_met`` (how many of the preset's conditions the survey answers
是, for ranking), ``no_repeat_items`` (三供一业 items not to be built again, Litong 三(一)3) and
``protection_zh`` (historic buildings and old trees: 严禁随意拆除老建筑、砍伐老树).

Every threshold is a field of :class:`EligibilityRules`; :data:`PRESETS` hold the seed
cities' values, :data:`PRESET_SOURCES` the sentences behind each preset and
:data:`RULE_SOURCES` the seed file and section of every rule, per preset. Litong's ban on
disguised real-estate development (不得以城镇老旧小区改造之名变相搞房地产开发) is the flag
:attr:`EligibilityRules.no_real_estate`, for the scheme and financing steps to read.
No function modifies its inputs.
"""

from __future__ import annotations

import datetime as dt
import difflib
import logging
import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from gisplan._text import is_blank, is_number, is_whole
from gisplan.errors import LayerError, ScenarioError, SchemaError
from gisplan.vocabulary import labels

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

__all__ = [
    "CONDITIONS",
    "CONDITION_ZH",
    "OUTCOMES",
    "OUTCOME_ZH",
    "PRESETS",
    "PRESET_SOURCES",
    "REASONS",
    "RULE_COLUMNS",
    "RULE_SOURCES",
    "SCOPES",
    "SCOPE_ZH",
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

#: Scope tiers, in the order the annual plan ranks them.
SCOPES: tuple[str, ...] = ("core", "tier2", "later")

#: Chinese text of every scope tier.
SCOPE_ZH: Mapping[str, str] = labels("eligibility_scope")

#: Qualifying conditions: survey columns of the communities layer (bool, 是/否).
CONDITIONS: tuple[str, ...] = (
    "neglected",
    "utilities_deficient",
    "services_deficient",
    "residents_willing",
    "management_deficient",
    "poor_conditions",
)

#: Chinese text of every qualifying condition.
CONDITION_ZH: Mapping[str, str] = labels("eligibility_condition")

#: Rule outcome columns of :func:`assess`, in output order.
RULE_COLUMNS: tuple[str, ...] = (
    "rule_built_year",
    "rule_land",
    "rule_expropriation",
    "rule_demolition",
    "rule_shantytown",
    "rule_consent",
    "rule_property_mgmt",
    "rule_conditions",
    "rule_prior_subsidy",
)
#: Rules whose failure excludes a community (scope and exclusions), in reason order.
_SCOPE_RULES: tuple[str, ...] = (
    "rule_built_year",
    "rule_land",
    "rule_expropriation",
    "rule_demolition",
    "rule_shantytown",
    "rule_conditions",
    "rule_prior_subsidy",
)

#: The four conditions of the national definition (国办发〔2020〕23号) and the seeds' scope
#: sentences (Linyi 一(一), Linxia 三(一), Tongnan 二(一)).
_FOUR = ("neglected", "utilities_deficient", "services_deficient", "residents_willing")

CutoffMode = Literal["hard", "priority"]
RepeatMode = Literal["no_central_money", "not_again"]
_CUTOFF_MODES: tuple[str, ...] = ("hard", "priority")
_REPEAT_MODES: tuple[str, ...] = ("no_central_money", "not_again")
_TWO_THIRDS = Fraction(2, 3)
#: Floats are read as the nearest fraction with at most this denominator (see _fraction).
_MAX_DENOMINATOR = 10**6

_MOHURD_7 = "住建部等三部门通知底线要求(七)"
_MOHURD_8 = "住建部等三部门通知底线要求(八)"

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
    "BUILT_AFTER_PRIORITY_CUTOFF": (
        "建成于{built_year}年，晚于重点改造的建成时间{cutoff_zh}，不排除，排在其后（{source_zh}）",
        (
            "built in {built_year}, after the priority cut-off {cutoff}: not excluded, ranked "
            "after ({source_zh})"
        ),
    ),
    "BUILT_IN_TIER2": (
        (
            "建成于{built_year}年，晚于{cutoff_zh}、不晚于{tier2_cutoff_zh}，且{tier2_conditions_zh}，"
            "属逐步改造的第二档（{source_zh}）"
        ),
        (
            "built in {built_year}, after {cutoff} but by {tier2_cutoff}, and "
            "{tier2_conditions_zh}: second tier ({source_zh})"
        ),
    ),
    "TIER2_CONDITIONS_NOT_MET": (
        (
            "建成于{built_year}年，晚于改造范围截止时间{cutoff_zh}，且不属于{tier2_cutoff_zh}前建成的"
            "{tier2_conditions_zh}的小区（{source_zh}）"
        ),
        (
            "built in {built_year}, after the cut-off {cutoff}, and not {tier2_conditions_zh} (the "
            "second tier up to {tier2_cutoff}) ({source_zh})"
        ),
    ),
    "TIER2_CONDITIONS_MISSING": (
        (
            "建成于{built_year}年，晚于{cutoff_zh}、不晚于{tier2_cutoff_zh}，是否{tier2_conditions_zh}"
            "未调查，需补充调查"
        ),
        (
            "built in {built_year}, between {cutoff} and {tier2_cutoff}; {tier2_conditions_zh} not "
            "surveyed; survey needed"
        ),
    ),
    "BUILT_AFTER_TIER2": (
        "建成于{built_year}年，晚于逐步改造范围截止时间{tier2_cutoff_zh}（{source_zh}）",
        "built in {built_year}, after the second-tier cut-off {tier2_cutoff} ({source_zh})",
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
    "EXPROPRIATION_PLANNED_ANY": (
        "计划于{expropriation_year}年征收（拟对居民进行征收补偿安置），不得纳入改造计划（{source_zh}）",
        "expropriation planned in {expropriation_year}; excluded ({source_zh})",
    ),
    "NO_EXPROPRIATION_SOON": (
        "{limit_year}年及以前无征收计划",
        "no expropriation planned up to {limit_year}",
    ),
    "NO_EXPROPRIATION": ("无征收计划", "no expropriation planned"),
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
    "CONDITIONS_MET": (
        "具备改造范围条件：{conditions_held_zh}（{source_zh}）",
        "meets the scope conditions: {conditions_held_zh} ({source_zh})",
    ),
    "CONDITION_NOT_MET": (
        "不具备改造范围条件：{conditions_failed_zh}（调查为“否”），不纳入改造范围（{source_zh}）",
        (
            "scope condition(s) not met: {conditions_failed_zh} (surveyed 'no'); excluded "
            "({source_zh})"
        ),
    ),
    "CONDITIONS_NONE_MET": (
        "{conditions_any_zh}均不具备（须至少具备一项），不纳入改造范围（{source_zh}）",
        "none of {conditions_any_zh} holds (at least one must); excluded ({source_zh})",
    ),
    "CONDITION_MISSING": (
        "改造范围条件“{conditions_blank_zh}”未调查，需补充调查",
        "scope condition(s) {conditions_blank_zh} not surveyed; survey needed",
    ),
    "PRIOR_PLAN_NOT_AGAIN": (
        "已于{subsidy_year}年纳入中央财政补助支持的城镇老旧小区改造计划，不得重复建设（{source_zh}）",
        (
            "already in a centrally subsidised renovation plan ({subsidy_year}); not built again "
            "({source_zh})"
        ),
    ),
    "PRIOR_PLAN_YEAR_MISSING": (
        (
            "已填写获中央补助改造内容（清单第{items}项）但未填写获中央补助年份，需核实是否已纳入过"
            "中央补助改造计划"
        ),
        (
            "centrally subsidised items {items} given but no subsidy year; check whether the "
            "community was in a central plan"
        ),
    ),
    "PRIOR_PLAN_UNKNOWN": (
        "是否已纳入过中央补助改造计划未调查（缺获中央补助年份），需补充调查",
        "whether the community was in a central plan is not surveyed (no subsidy_year column)",
    ),
    "PRIOR_FUNDED_STILL_NEEDED": (
        (
            "已获中央补助或专项改造，依然存在{repeat_held_zh}，在同一改造内容不重复使用中央补助资金"
            "的前提下纳入改造计划（{source_zh}）"
        ),
        (
            "renovated before with central or programme money and still {repeat_held_zh}: may "
            "enter, without central money twice for the same items ({source_zh})"
        ),
    ),
    "PRIOR_FUNDED_NO_NEED": (
        (
            "已获中央补助或专项改造，{repeat_failed_zh}已不成立（调查为“否”），不纳入改造计划"
            "（{source_zh}）"
        ),
        (
            "renovated before with central or programme money and no longer {repeat_failed_zh}; "
            "excluded ({source_zh})"
        ),
    ),
    "PRIOR_FUNDED_MISSING": (
        "已获中央补助或专项改造，是否依然{repeat_blank_zh}未调查，需补充调查",
        (
            "renovated before with central or programme money; whether still {repeat_blank_zh} is "
            "not surveyed"
        ),
    ),
    "CONSENT_MET": (
        "居民参与率{participation_pct}、同意率{approval_pct}，均达到{threshold_zh}",
        "participation {participation_pct} and approval {approval_pct} reach {threshold}",
    ),
    "CONSENT_MET_BY_AREA": (
        (
            "居民参与率按户数{participation_pct}、按面积{participation_area_pct}，同意率按户数"
            "{approval_pct}、按面积{approval_area_pct}，均达到{threshold_zh}"
        ),
        (
            "participation {participation_pct} by owners and {participation_area_pct} by area, "
            "approval {approval_pct} and {approval_area_pct}: all reach {threshold}"
        ),
    ),
    "PARTICIPATION_BELOW": (
        "居民参与率{participation_pct}，低于{min_participation_pct}，暂不纳入年度计划",
        "participation {participation_pct} below {min_participation_pct}; not yet in the plan",
    ),
    "PARTICIPATION_AREA_BELOW": (
        (
            "参与表决业主专有面积占建筑面积{participation_area_pct}，低于{min_participation_pct}，"
            "暂不纳入年度计划"
        ),
        (
            "participating owners' area {participation_area_pct} of the floor area, below "
            "{min_participation_pct}; not yet in the plan"
        ),
    ),
    "APPROVAL_BELOW": (
        "居民同意率{approval_pct}，低于{min_approval_pct}，暂不纳入年度计划",
        "approval {approval_pct} below {min_approval_pct}; not yet in the plan",
    ),
    "APPROVAL_AREA_BELOW": (
        (
            "同意业主专有面积占参与表决面积{approval_area_pct}，低于{min_approval_pct}，"
            "暂不纳入年度计划"
        ),
        (
            "approving owners' area {approval_area_pct} of the participating area, below "
            "{min_approval_pct}; not yet in the plan"
        ),
    ),
    "CONSENT_MISSING": (
        "居民参与率或同意率未调查，待征求居民意愿",
        "participation or approval rate not surveyed; consult residents",
    ),
    "CONSENT_BASE_MISSING": (
        "业主户数与户数均缺失，无法计算参与率，需补充调查",
        "owners and households both missing; participation cannot be computed",
    ),
    "CONSENT_AREA_MISSING": (
        "按专有面积计算的参与率、同意率缺少数据（{area_missing_zh}），待核实",
        "participation or approval by floor area lacks data ({area_missing_zh}); to be checked",
    ),
    "CONSENT_DATA_BAD": (
        "表决数据有误：{consent_problems_zh}，需核实",
        "inconsistent vote data: {consent_problems_zh}; to be checked",
    ),
    "MGMT_CONSENSUS_REACHED": (
        "居民已就同步完善小区长效管理机制形成共识",
        "residents agree on the long-term management of the community",
    ),
    "MGMT_CONSENSUS_NOT_REACHED": (
        f"居民尚未就同步完善小区长效管理机制形成共识，暂不纳入改造计划（{_MOHURD_8}）",
        "no consensus yet on long-term management; not yet in the plan (national notice 8)",
    ),
    "MGMT_CONSENSUS_MISSING": (
        f"居民是否已就长效管理机制形成共识未调查，形成共识后方可纳入改造计划（{_MOHURD_8}）",
        "consensus on long-term management not surveyed; needed before the plan (notice 8)",
    ),
    "CENTRAL_SUBSIDY_USED": (
        "清单第{items}项已获中央补助改造，同一内容不得重复使用中央补助资金",
        "catalogue item(s) {items} already centrally subsidised; no central subsidy again",
    ),
    "OTHER_PROGRAM_NO_CENTRAL": (
        "清单第{other_items}项已由“三供一业”等专项改造，同一内容不得重复使用中央补助资金",
        "catalogue item(s) {other_items} done by 三供一业 etc.; no central subsidy again",
    ),
    "HERITAGE": (
        "涉及历史建筑，严禁随意拆除老建筑，须落实保护修缮要求",
        "historic buildings: no demolition at will; protect and repair",
    ),
    "OLD_TREES": ("有古树名木，严禁砍伐老树", "old or notable trees: no felling"),
}

#: Chinese text of a rule outcome (for the Excel export).
OUTCOME_ZH: Mapping[str, str] = labels("rule_outcome")

_MAX_LISTED = 10


# --------------------------------------------------------------------------- rules


def _fraction(value: object) -> Fraction:
    """Read a threshold or rate as an exact fraction; raises ValueError/TypeError otherwise.

    A :class:`~fractions.Fraction` or an int is exact; text is read by ``Fraction`` (``"2/3"``,
    ``"0.67"``); a float is the nearest fraction with a denominator up to one million, so
    ``0.67`` is 67/100 and ``2 / 3`` (a float) is exactly 2/3.
    """
    if isinstance(value, Fraction):
        return value
    if isinstance(value, str):
        return Fraction(value.strip())
    if is_whole(value):
        return Fraction(int(value))  # type: ignore[call-overload]
    if is_number(value) and math.isfinite(float(value)):  # type: ignore[arg-type]
        return Fraction(float(value)).limit_denominator(_MAX_DENOMINATOR)  # type: ignore[arg-type]
    raise TypeError(value)


def _names_problem(key: str, names: object) -> tuple[str, str, str] | None:
    """Check a tuple of condition names; return ``(key, problem, fix)`` or ``None``."""
    if not isinstance(names, tuple) or not all(isinstance(n, str) for n in names):
        return (key, f"{names!r} is not a list of conditions", f"write e.g. [{_FOUR[0]}]")
    unknown = [n for n in names if n not in CONDITIONS]
    if not unknown:
        return None
    hints = [difflib.get_close_matches(n, CONDITIONS, n=1, cutoff=0.5) for n in unknown]
    said = ", ".join(
        repr(n) + (f" (did you mean {h[0]!r}?)" if h else "")
        for n, h in zip(unknown, hints, strict=True)
    )
    return (key, f"unknown condition {said}", f"conditions: {', '.join(CONDITIONS)}")


def _choice_problem(key: str, value: object, allowed: Sequence[str]) -> tuple[str, str, str] | None:
    if value in allowed:
        return None
    hint = difflib.get_close_matches(str(value), allowed, n=1, cutoff=0.5)
    did = f"did you mean {hint[0]!r}? " if hint else ""
    return (key, f"{value!r} is not one of {', '.join(allowed)}", f"{did}write one of them")


def _date_problem(key: str, value: object, *, optional: bool) -> tuple[str, str, str] | None:
    if optional and value is None:
        return None
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return None
    return (key, f"{value!r} is not a date", "write a date such as 2000-12-31")


@dataclass(frozen=True, kw_only=True, slots=True)
class EligibilityRules:
    """Rules of the eligibility step; defaults are the national ones (``PRESETS["national"]``).

    Parameters
    ----------
    cutoff
        Build-year cut-off; compared by year (``built_year <= cutoff.year``) because layers
        record years. Default end of 2000 (国办发〔2020〕23号: 重点改造2000年底前建成).
    cutoff_mode
        ``"hard"``: built after the cut-off (and not in the second tier) fails the scope rule.
        ``"priority"`` (default): it does not exclude; the community's scope tier is
        ``later``, ranked after ``core`` and ``tier2``.
    tier2_cutoff, tier2_conditions
        Second tier: built after ``cutoff`` but by ``tier2_cutoff``, with every condition of
        ``tier2_conditions`` true (Tongnan: 2005-12-31, ``("poor_conditions",)``). ``None``
        (default) means no second tier; set it equal to ``cutoff`` to drop a preset's tier.
    conditions
        The qualifying conditions the preset's scope sentence names (:data:`CONDITIONS`);
        ``conditions_met`` counts those (with ``conditions_all`` and ``conditions_any``) that
        the survey answers 是. Default the four of 国办发〔2020〕23号.
    conditions_all, conditions_any
        Conditions that must all hold, and of which at least one must hold, for the community
        to be in scope. A blank one makes the rule unknown. Default none (counted only).
    expropriation_within_years
        A community with expropriation planned in a year ``<= plan_year + N`` is excluded
        (Linxia: 五年内拟征收补偿安置的不纳入). ``"any"``: any planned expropriation excludes
        (Litong 三(一)2). Default 5; a number must be >= 0.
    plan_year
        Year the plan is for. ``None`` (default) means next year: the current year + 1, read
        when :func:`assess` runs (and logged). Name it in scenarios for reproducible runs.
    min_participation, min_approval
        Participation and approval thresholds, 0–1 (national notice (七); "双三分之二"
        locally). Default exactly 2/3 (a :class:`~fractions.Fraction`); comparisons are exact.
        Write ``2/3`` (YAML: ``"2/3"`` or ``2/3``, text read by ``Fraction``) for two thirds;
        a decimal is taken as written: ``0.67`` means 67/100, stricter than 2/3 (200 of 300
        owners fail it). A value above 1 is refused: write 0.67, not 67.
    consent_by_area
        Count floor area too (双三分之二: by owners AND by area). Default ``True``; without
        area data the consent rule is then unknown. ``False``: by owners only.
    require_state_land
        Require ``land_tenure == "国有"`` (default ``True``). ``False`` skips the rule
        (every community passes it).
    require_mgmt_consensus
        Plan-entry gate of notice (八): residents agree on long-term management
        (``property_mgmt_agreed``); false or blank → ``eligible_waiting_consent``. Default
        ``True``; ``False`` records the outcome without holding anyone back.
    repeat_subsidised
        A community already in a centrally subsidised plan (``subsidy_year``):
        ``"no_central_money"`` (default; Linxia) keeps it in scope and notes the subsidised
        items (``central_subsidy_note``); ``"not_again"`` (Litong 三(一)1: 不得重复建设)
        excludes it.
    repeat_other_programs
        Items already done by 三供一业 and other programmes (``other_program_items``):
        ``"no_central_money"`` (default; Linxia lists 三供一业 among 其他中央补助资金) notes
        them; ``"not_again"`` (Litong 三(一)3) puts them in ``no_repeat_items``.
    repeat_conditions
        Conditions a community renovated before with central or programme money must still
        meet (Linxia: 依然存在…的…纳入改造计划). Default none.
    no_real_estate
        Litong 三(一)4: 不得以城镇老旧小区改造之名变相搞房地产开发 — a flag for the scheme and
        financing steps; :func:`assess` only records it. Default ``False``.
    source_zh
        Short Chinese name of the rules' source, quoted in the reason text.

    Raises
    ------
    ScenarioError
        If a field is out of range (every problem listed).

    Examples
    --------
    >>> EligibilityRules(min_participation=0.8).min_participation
    0.8
    >>> EligibilityRules(min_approval="2/3").min_approval
    Fraction(2, 3)
    >>> EligibilityRules(min_approval=67)
    Traceback (most recent call last):
    ...
    gisplan.errors.ScenarioError: EligibilityRules.min_approval = 67 is above 1; ...
    """

    cutoff: dt.date = dt.date(2000, 12, 31)
    cutoff_mode: CutoffMode = "priority"
    tier2_cutoff: dt.date | None = None
    tier2_conditions: tuple[str, ...] = ()
    conditions: tuple[str, ...] = _FOUR
    conditions_all: tuple[str, ...] = ()
    conditions_any: tuple[str, ...] = ()
    expropriation_within_years: int | Literal["any"] = 5
    plan_year: int | None = None
    min_participation: Fraction | float | str = _TWO_THIRDS
    min_approval: Fraction | float | str = _TWO_THIRDS
    consent_by_area: bool = True
    require_state_land: bool = True
    require_mgmt_consensus: bool = True
    repeat_subsidised: RepeatMode = "no_central_money"
    repeat_other_programs: RepeatMode = "no_central_money"
    repeat_conditions: tuple[str, ...] = ()
    no_real_estate: bool = False
    source_zh: str = "国办发〔2020〕23号"

    def __post_init__(self) -> None:
        """Check every field (lists become tuples, text thresholds fractions); raise once."""
        for key in (
            "tier2_conditions",
            "conditions",
            "conditions_all",
            "conditions_any",
            "repeat_conditions",
        ):
            if isinstance(getattr(self, key), list):
                object.__setattr__(self, key, tuple(getattr(self, key)))
        problems = [
            p
            for p in (
                _date_problem("cutoff", self.cutoff, optional=False),
                _choice_problem("cutoff_mode", self.cutoff_mode, _CUTOFF_MODES),
                _date_problem("tier2_cutoff", self.tier2_cutoff, optional=True),
                *(
                    _names_problem(key, getattr(self, key))
                    for key in (
                        "tier2_conditions",
                        "conditions",
                        "conditions_all",
                        "conditions_any",
                        "repeat_conditions",
                    )
                ),
                self._years_problem(),
                self._plan_year_problem(),
                *(self._threshold(key) for key in ("min_participation", "min_approval")),
                _choice_problem("repeat_subsidised", self.repeat_subsidised, _REPEAT_MODES),
                _choice_problem("repeat_other_programs", self.repeat_other_programs, _REPEAT_MODES),
            )
            if p is not None
        ]
        if (
            not problems
            and self.tier2_cutoff is not None
            and self.tier2_cutoff.year < self.cutoff.year
        ):
            problems.append(
                (
                    "tier2_cutoff",
                    f"{self.tier2_cutoff} is before the cut-off {self.cutoff}",
                    "the second tier reaches later than the cut-off (Tongnan: 2005-12-31)",
                )
            )
        if problems:
            raise ScenarioError(
                "\n".join(f"EligibilityRules.{k} = {p}; {fix}" for k, p, fix in problems),
                [(f"eligibility.{k}", p, fix) for k, p, fix in problems],
            )

    def _years_problem(self) -> tuple[str, str, str] | None:
        years = self.expropriation_within_years
        if years == "any" or (is_whole(years) and int(years) >= 0):
            return None
        return (
            "expropriation_within_years",
            f"{years!r} is not a whole number of years >= 0 nor 'any'",
            "write a number of years such as 5, or any",
        )

    def _plan_year_problem(self) -> tuple[str, str, str] | None:
        if self.plan_year is None or is_whole(self.plan_year):
            return None
        return ("plan_year", f"{self.plan_year!r} is not a year", "write a year such as 2026")

    def _threshold(self, key: str) -> tuple[str, str, str] | None:
        """Check one consent threshold; text such as ``"2/3"`` is stored as a Fraction."""
        value = getattr(self, key)
        try:
            number = _fraction(value)
        except (TypeError, ValueError, ZeroDivisionError):
            return (key, f"{value!r} is not a number", "write a fraction such as 2/3 or 0.67")
        if isinstance(value, str):
            object.__setattr__(self, key, number)
        if number > 1:
            return (
                key,
                f"{value!r} is above 1; rates are fractions 0–1",
                f"write {float(number) / 100:.2f}, not {value!r} (two thirds: 2/3)",
            )
        if number < 0:
            return (key, f"{value!r} is negative", "write a fraction between 0 and 1")
        return None

    @property
    def participation_threshold(self) -> Fraction:
        """:attr:`min_participation` as an exact fraction."""
        return _fraction(self.min_participation)

    @property
    def approval_threshold(self) -> Fraction:
        """:attr:`min_approval` as an exact fraction."""
        return _fraction(self.min_approval)

    def counted_conditions(self) -> tuple[str, ...]:
        """Return the conditions ``conditions_met`` counts, in :data:`CONDITIONS` order."""
        named = {*self.conditions, *self.conditions_all, *self.conditions_any}
        return tuple(c for c in CONDITIONS if c in named)

    def resolved_plan_year(self) -> int:
        """Return :attr:`plan_year`, or the current year + 1 when it is ``None``."""
        if self.plan_year is not None:
            return int(self.plan_year)
        return dt.datetime.now(tz=dt.timezone.utc).year + 1


_DEFAULT_RULES = EligibilityRules()

_LINXIA_SUBSIDISED = ("utilities_deficient", "services_deficient", "residents_willing")

#: Rules of the seed cities and the national floor.
PRESETS: dict[str, EligibilityRules] = {
    "national": _DEFAULT_RULES,
    "linxia": EligibilityRules(repeat_conditions=_LINXIA_SUBSIDISED, source_zh="临夏州实施方案"),
    "tongnan": EligibilityRules(
        cutoff_mode="hard",
        tier2_cutoff=dt.date(2005, 12, 31),
        tier2_conditions=("poor_conditions",),
        source_zh="潼南区实施方案",
    ),
    "linyi": EligibilityRules(
        cutoff=dt.date(2005, 12, 31),
        cutoff_mode="hard",
        conditions_all=("residents_willing",),
        conditions_any=("neglected", "utilities_deficient", "services_deficient"),
        source_zh="临沂市实施方案",
    ),
    "litong": EligibilityRules(
        conditions=(*_FOUR, "management_deficient"),
        expropriation_within_years="any",
        repeat_subsidised="not_again",
        repeat_other_programs="not_again",
        no_real_estate=True,
        source_zh="利通区实施方案征求意见稿",
    ),
}

_LINXIA = "linxia_2020_implementation_plan.txt"
_TONGNAN = "tongnan_2021_implementation_plan.txt"
_LINYI = "linyi_2020_implementation_plan.txt"
_LITONG = "litong_2023_implementation_plan_draft.txt"
_MOHURD = "mohurd_2021_requirements_notice.txt"

#: Where each preset comes from: the seed sentences behind its fields, and why.
PRESET_SOURCES: dict[str, str] = {
    "national": (
        f"{_MOHURD} 底线要求(二): 严禁将不符合当地城镇老旧小区改造对象范围条件的小区纳入改造计划 "
        "(the scope is local); (七) 参与率、同意率达到当地规定比例的，方可纳入改造计划; (八) 居民"
        "就结合改造工作同步完善小区长效管理机制形成共识的，方可纳入改造计划. The end-2000 year is "
        "国办发〔2020〕23号 (not itself a seed), which asks 各地…合理界定本地区改造对象范围 and "
        "names 2000 as a priority (重点改造2000年底前建成的老旧小区); the seeds quote it that way: "
        f"{_LINXIA} 三(一) 重点改造2000年底前建成, {_TONGNAN} 二(一) 主要是2000年以前建成, and two "
        "seeds (Linyi, Tongnan) reach 2005, impossible under a hard national 2000 line → "
        "cutoff_mode priority. Its four conditions (失养失修失管、市政配套设施不完善、社区服务设施"
        "不健全、居民改造意愿强烈) define a 城镇老旧小区 there; with the scope left to local rules "
        "they are counted (conditions_met), not required. Earlier central subsidy: "
        "no_central_money (Linxia's rule; notice (三): 中央补助资金应严格按有关规定使用)."
    ),
    "linxia": (
        f"{_LINXIA} 三(一) 改造范围: 重点改造2000年底前建成，失养失管失修严重、市政配套设施不完善、"
        "社区服务设施不健全、居民改造意愿强烈的城镇老旧小区 — 重点 (priority) governs the whole "
        "phrase, so neither the year nor the conditions exclude: cutoff_mode priority, conditions "
        "counted. 已享受过其他中央补助资金进行过改造的城镇老旧小区（如节能改造、“三供一业”改造"
        "等），"
        "依然存在市政配套设施不完善、社会服务设施不健全、居民改造意愿强烈的，在同一改造内容不重复使用"
        "中央补助资金的前提下，纳入改造计划 → repeat_subsidised and repeat_other_programs "
        "no_central_money, repeat_conditions those three. 五年内拟对居民进行征收补偿安置的、拟以"
        "拆除新建（含改建、扩建、翻建）方式实施改造的、已实施过城镇棚户区改造…的住宅小区，不纳入改造"
        "范围 → expropriation_within_years 5, demolition and shantytown exclusions."
    ),
    "tongnan": (
        f"{_TONGNAN} 二(一) 实施范围: 主要是2000年以前建成的，房屋失养失修失管、市政配套设施"
        "不完善、"
        "公共服务设施不健全、居民改造意愿强烈的住宅小区（含单栋住宅楼）。结合潼南实际，逐步对2005年"
        "底前建成的居住条件较差的城镇老旧小区实施改造提升 — the second sentence says what 主要 "
        "leaves room for: communities built by end-2005 with poor living conditions (tier2); the "
        "seed names nothing beyond, so other communities after 2000 are out (cutoff_mode hard with "
        "tier2_cutoff 2005-12-31, tier2_conditions poor_conditions). 主要 also governs the "
        "conditions: counted, not required. 一(三) 到2025年，对2005年底前建成的居住条件较差的城镇"
        "老旧小区逐步实施改造提升 confirms the tier."
    ),
    "linyi": (
        f"{_LINYI} 一(一) 改造范围: 2005年12月31日前在城市或县城国有土地上建成，失养失修失管严重、"
        "市政配套设施不完善、公共服务和社会服务设施不健全、居民改造意愿强烈的住宅小区（不含住宅拆除"
        "新建） — a definition without 重点 or 主要: the date is a hard cut-off and the conditions "
        "bind. 居民改造意愿强烈 is required (conditions_all; 二(一) 坚持居民自愿、自下而上). The "
        "three deficiencies need at least one (conditions_any): 一(二) and 二(一)2 let a community "
        "need only 基础类 work (优先推进水电暖气网等政府兜底性的基础设施建设…在此基础上，完善和"
        "提升), "
        "and 一(三) aims at every community built before 2005 (确保完成2005年前建成老旧小区改造任务"
        "的85%以上，力争全部完成), which requiring all three deficiencies would contradict. The "
        "literal reading (all four) is conditions_all: [neglected, utilities_deficient, "
        "services_deficient, residents_willing] with conditions_any: []."
    ),
    "litong": (
        f"{_LITONG} 三(一) 改造对象范围: 严格执行…（国办发〔2020〕23号）…要求明确的城镇老旧小区改造"
        "对象范围规定 → the national scope (2000, priority). 1、对已经纳入过中央财政补助支持"
        "城镇老旧小区改造计划的项目，不得重复建设 → repeat_subsidised not_again. 2、拟对居民进行"
        "征收补偿安置，"
        "或者拟以拆除重建（含改建、扩建、翻建）方式实施改造的住宅小区（含单独住宅楼），不得纳入城镇"
        "老旧小区改造计划 → expropriation_within_years any (no five-year window). 3、对已实施“三供"
        "一业”改造且改造内容相同的项目不得重复建设 → repeat_other_programs not_again "
        "(no_repeat_items). 4、不得以城镇老旧小区改造之名变相搞房地产开发 → no_real_estate. "
        "一 总体要求: 大力改造提升建成年代较早、配套设施不完善、管理机制不健全、社区治理体系"
        "不完善、"
        "居民改造意愿强烈的住宅小区 → management_deficient counted with the national four (社区"
        "治理体系不完善 has no survey column). The 宁建（城）〔2020〕26号 scope it also cites "
        "is not a seed."
    ),
}

_SRC_CONSENT = f"{_MOHURD} 底线要求(七): 参与率、同意率达到当地规定比例的，方可纳入改造计划"
_SRC_MGMT = (
    f"{_MOHURD} 底线要求(八): 居民就结合改造工作同步完善小区长效管理机制形成共识的，"
    "方可纳入改造计划"
)
_SRC_LAND_NONE = (
    "not in this seed (it says 城镇老旧小区); kept from Linyi 一(一) 城市或县城国有土地上建成 — "
    "require_state_land: false switches it off"
)
_SRC_LINXIA_EXCLUDED = (
    f"{_LINXIA} 三(一): 五年内拟对居民进行征收补偿安置的、拟以拆除新建…方式实施改造的、已实施过"
    "城镇棚户区改造…的住宅小区，不纳入改造范围"
)
_SRC_NOT_IN_SEED = f"not in this seed; kept from {_LINXIA} 三(一) (不纳入改造范围)"


def _sources(**own: str) -> dict[str, str]:
    """Rule column → source: the shared ones, then a preset's own (``own``) over them."""
    shared = {
        "rule_expropriation": _SRC_NOT_IN_SEED,
        "rule_demolition": _SRC_NOT_IN_SEED,
        "rule_shantytown": _SRC_NOT_IN_SEED,
        "rule_consent": _SRC_CONSENT,
        "rule_property_mgmt": _SRC_MGMT,
        "rule_land": _SRC_LAND_NONE,
        "rule_prior_subsidy": (
            f"{_LINXIA} 三(一): 在同一改造内容不重复使用中央补助资金的前提下，纳入改造计划"
        ),
    }
    merged = {**shared, **own}
    return {rule: merged[rule] for rule in RULE_COLUMNS}


#: Seed file and section of every rule, per preset (rule column → source).
RULE_SOURCES: dict[str, dict[str, str]] = {
    "national": _sources(
        rule_built_year=(
            "国办发〔2020〕23号 (not a seed) 重点改造2000年底前建成, as quoted by "
            f"{_LINXIA} 三(一) and {_TONGNAN} 二(一): priority"
        ),
        rule_conditions="国办发〔2020〕23号 definition (not a seed): counted, not required",
        rule_expropriation=_SRC_LINXIA_EXCLUDED,
        rule_demolition=_SRC_LINXIA_EXCLUDED,
        rule_shantytown=_SRC_LINXIA_EXCLUDED,
    ),
    "linxia": _sources(
        rule_built_year=f"{_LINXIA} 三(一): 重点改造2000年底前建成 (priority)",
        rule_conditions=f"{_LINXIA} 三(一): 重点…失养失管失修严重、…居民改造意愿强烈 (counted)",
        rule_expropriation=_SRC_LINXIA_EXCLUDED,
        rule_demolition=_SRC_LINXIA_EXCLUDED,
        rule_shantytown=_SRC_LINXIA_EXCLUDED,
        rule_prior_subsidy=(
            f"{_LINXIA} 三(一): 已享受过其他中央补助资金进行过改造的…依然存在市政配套设施不完善、"
            "社会服务设施不健全、居民改造意愿强烈的，在同一改造内容不重复使用中央补助资金的前提下，"
            "纳入改造计划"
        ),
    ),
    "tongnan": _sources(
        rule_built_year=(
            f"{_TONGNAN} 二(一): 主要是2000年以前建成的…；逐步对2005年底前建成的居住条件较差的"
            "城镇老旧小区实施改造提升 (core, tier2; nothing else)"
        ),
        rule_conditions=f"{_TONGNAN} 二(一): 主要是…房屋失养失修失管、…居民改造意愿强烈 (counted)",
    ),
    "linyi": _sources(
        rule_built_year=f"{_LINYI} 一(一) 改造范围: 2005年12月31日前…建成 (hard)",
        rule_land=f"{_LINYI} 一(一) 改造范围: 在城市或县城国有土地上建成",
        rule_conditions=(
            f"{_LINYI} 一(一) 改造范围: 失养失修失管严重、市政配套设施不完善、公共服务和社会服务"
            "设施不健全、居民改造意愿强烈的住宅小区 (意愿 required, one deficiency at least)"
        ),
        rule_demolition=f"{_LINYI} 一(一) 改造范围: （不含住宅拆除新建）",
    ),
    "litong": _sources(
        rule_built_year=(
            f"{_LITONG} 三(一): 严格执行（国办发〔2020〕23号）…改造对象范围规定 → national "
            "(priority 2000)"
        ),
        rule_conditions=(
            f"{_LITONG} 一: 建成年代较早、配套设施不完善、管理机制不健全、社区治理体系不完善、"
            "居民改造意愿强烈 (counted)"
        ),
        rule_expropriation=(
            f"{_LITONG} 三(一)2: 拟对居民进行征收补偿安置…的住宅小区…不得纳入城镇老旧小区改造计划"
        ),
        rule_demolition=(
            f"{_LITONG} 三(一)2: 拟以拆除重建（含改建、扩建、翻建）方式实施改造的住宅小区…不得纳入"
        ),
        rule_prior_subsidy=(
            f"{_LITONG} 三(一)1: 对已经纳入过中央财政补助支持城镇老旧小区改造计划的项目，不得重复"
            "建设; 3: 对已实施“三供一业”改造且改造内容相同的项目不得重复建设"
        ),
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
    >>> gisplan.eligibility.preset("tongnan").cutoff_mode
    'hard'
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


def _number(value: object) -> float | None:
    """Read a numeric cell, ``None`` if blank; raises ValueError/TypeError otherwise."""
    if is_blank(value):
        return None
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(value)
    number = float(str(value).strip()) if isinstance(value, str) else float(value)  # type: ignore[arg-type]
    if not math.isfinite(number):
        raise ValueError(value)
    return number


def _year(value: object) -> int | None:
    """Read a year cell as int, ``None`` if blank; raises ValueError if not a year."""
    number = _number(value)
    if number is None:
        return None
    if not number.is_integer():
        raise ValueError(value)
    return int(number)


_count = _year  # a whole number, possibly negative (a negative count is bad data, not unreadable)


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


def _rate(value: object) -> Fraction | None:
    """Read a rate cell (fraction 0–1) exactly, ``None`` if blank; raises ValueError otherwise."""
    if is_blank(value):
        return None
    if not is_number(value):
        raise ValueError(value)
    number = _fraction(value)
    if not 0 <= number <= 1:
        raise ValueError(value)
    return number


def _items(value: object) -> tuple[int, ...]:
    """Catalogue items as sorted ints; blank → ()."""
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


def _pct(value: Fraction | float, digits: int = 1) -> str:
    """Return a fraction as a percentage, rounded half up: 0.8 → 80%, 2/3 → 66.7%.

    At most ``digits`` decimals; trailing zeros are dropped. Exact (no float rounding):
    159/240 = 66.25% shows as 66.3%.
    """
    scaled = _fraction(value) * 100 * 10**digits
    whole = math.floor(scaled + Fraction(1, 2))
    text = f"{whole / 10**digits:.{digits}f}" if digits else str(whole)
    return (text.rstrip("0").rstrip(".") if digits else text) + "%"


def _pct_below(value: Fraction | None, least: Fraction) -> str:
    """Return ``value`` as a percentage that reads differently from ``least`` when below it.

    66.66% of a 2/3 threshold is shown as 66.66%, not as 66.7% "below 66.7%".
    """
    if value is None:
        return ""
    shown = _pct(value)
    for digits in (2, 3, 4):
        if value >= least or shown != _pct(least):
            break
        shown = _pct(value, digits)
    return shown


def _num(value: float) -> str:
    """Return a count or area as text: 18000.0 → 18000, 1.25 → 1.25."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _threshold_zh(rules: EligibilityRules) -> str:
    if rules.participation_threshold == rules.approval_threshold == _TWO_THIRDS:
        return "三分之二"
    return (
        f"参与率{_pct(rules.participation_threshold)}、同意率{_pct(rules.approval_threshold)}的要求"
    )


def _date_zh(cutoff: dt.date) -> str:
    if (cutoff.month, cutoff.day) == (12, 31):
        return f"{cutoff.year}年底"
    return f"{cutoff.year}年{cutoff.month}月{cutoff.day}日"


def _names_zh(names: Sequence[str]) -> str:
    return "、".join(CONDITION_ZH[n] for n in names)


@dataclass(frozen=True, slots=True)
class _Row:
    """One community's cells, read and checked (``None``: blank or column absent)."""

    built_year: int | None
    land: str | None
    expropriation_year: int | None
    expropriation_known: bool
    demolition: bool | None
    shantytown: bool | None
    participation: Fraction | None
    approval: Fraction | None
    property_mgmt: bool | None
    items: tuple[int, ...]
    other_items: tuple[int, ...]
    subsidy_year: int | None
    subsidy_known: bool
    conditions: Mapping[str, bool | None]
    owners: int | None
    households: int | None
    participating: int | None
    approving: int | None
    floor_area: float | None
    participating_area: float | None
    approving_area: float | None
    heritage: bool | None
    old_trees: bool | None


_FLAG_FIX = "write 是 or 否 (true/false)"
_RATE_FIX = "rates are fractions 0–1: write 0.67, not 67 (gisplan.layers reads 67 or 67% as 0.67)"
_COUNT_FIX = "write a whole number of owners such as 260"
_AREA_FIX = "write square metres as a number such as 18000"
_ITEMS_FIX = "write catalogue numbers separated by 、 or , such as 1、3"

_READERS: dict[str, tuple[Callable[[object], Any], str]] = {
    "built_year": (_year, "write a 4-digit year such as 1995 (or leave blank: unknown)"),
    "planned_expropriation_year": (_year, "write a 4-digit year, or leave blank if none"),
    "demolition_planned": (_flag, _FLAG_FIX),
    "shantytown_renovated": (_flag, _FLAG_FIX),
    "property_mgmt_agreed": (_flag, _FLAG_FIX),
    "participation_rate": (_rate, _RATE_FIX),
    "approval_rate": (_rate, _RATE_FIX),
    "subsidised_items": (_items, _ITEMS_FIX),
    "other_program_items": (_items, _ITEMS_FIX),
    "subsidy_year": (_year, "write a 4-digit year, or leave blank if never subsidised"),
    **dict.fromkeys(CONDITIONS, (_flag, _FLAG_FIX)),
    "owners": (_count, _COUNT_FIX),
    "households": (_count, _COUNT_FIX),
    "participating_owners": (_count, _COUNT_FIX),
    "approving_owners": (_count, _COUNT_FIX),
    "floor_area_m2": (_number, _AREA_FIX),
    "participating_area_m2": (_number, _AREA_FIX),
    "approving_area_m2": (_number, _AREA_FIX),
    "heritage": (_flag, _FLAG_FIX),
    "old_trees": (_flag, _FLAG_FIX),
}


def _try_read(reader: Callable[[object], Any], raw: object) -> tuple[Any, bool]:
    try:
        return reader(raw), True
    except (TypeError, ValueError, ZeroDivisionError):
        return None, False


def _read_lands(frame: pd.DataFrame, ids: list[Any], problems: list[str]) -> list[str | None]:
    if "land_tenure" not in frame.columns:
        return [None] * len(frame)
    lands: list[str | None] = []
    for cid, raw in zip(ids, frame["land_tenure"].tolist(), strict=True):
        text = None if is_blank(raw) else str(raw).strip()
        if text is not None and text not in {"国有", "集体", "其他"}:
            problems.append(f"{cid} · land_tenure = {raw!r}: write 国有, 集体 or 其他")
            text = None
        lands.append(text)
    return lands


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
    lands = _read_lands(frame, ids, problems)
    if problems:
        more = len(problems) - _MAX_LISTED
        shown = problems[:_MAX_LISTED] + ([f"... and {more} more"] if more > 0 else [])
        raise LayerError("communities: bad eligibility values:\n  " + "\n  ".join(shown))
    return [
        _Row(
            built_year=cols["built_year"][i],
            land=lands[i],
            expropriation_year=cols["planned_expropriation_year"][i],
            expropriation_known="planned_expropriation_year" in frame.columns,
            demolition=cols["demolition_planned"][i],
            shantytown=cols["shantytown_renovated"][i],
            participation=cols["participation_rate"][i],
            approval=cols["approval_rate"][i],
            property_mgmt=cols["property_mgmt_agreed"][i],
            items=cols["subsidised_items"][i] or (),
            other_items=cols["other_program_items"][i] or (),
            subsidy_year=cols["subsidy_year"][i],
            subsidy_known="subsidy_year" in frame.columns,
            conditions={c: cols[c][i] for c in CONDITIONS},
            owners=cols["owners"][i],
            households=cols["households"][i],
            participating=cols["participating_owners"][i],
            approving=cols["approving_owners"][i],
            floor_area=cols["floor_area_m2"][i],
            participating_area=cols["participating_area_m2"][i],
            approving_area=cols["approving_area_m2"][i],
            heritage=cols["heritage"][i],
            old_trees=cols["old_trees"][i],
        )
        for i in range(len(frame))
    ]


@dataclass(frozen=True, slots=True)
class _Verdict:
    """Outcome of one rule: the outcome, its reason codes and the text fields they need."""

    outcome: Outcome
    codes: tuple[str, ...] = ()
    fields: Mapping[str, object] = field(default_factory=dict)


def _verdict(outcome: Outcome, *codes: str, **fields: object) -> _Verdict:
    return _Verdict(outcome, codes, fields)


# ------------------------------------------------------------------ scope rules


def _built(row: _Row, rules: EligibilityRules) -> tuple[_Verdict, str]:
    """Judge the build year; return the verdict and the scope tier (``""`` if none)."""
    year = row.built_year
    if year is None:
        return _verdict("unknown", "BUILT_YEAR_MISSING"), ""
    if year <= rules.cutoff.year:
        return _verdict("pass", "BUILT_BY_CUTOFF"), "core"
    return _after_cutoff(row, rules, year)


def _after_cutoff(row: _Row, rules: EligibilityRules, year: int) -> tuple[_Verdict, str]:
    """Judge a community built after the cut-off: tier 2, later, or out (hard cut-off)."""
    tier2 = rules.tier2_cutoff
    in_window = tier2 is not None and year <= tier2.year
    held = [row.conditions[c] for c in rules.tier2_conditions]
    if in_window and all(v is True for v in held):
        return _verdict("pass", "BUILT_IN_TIER2"), "tier2"
    if rules.cutoff_mode == "priority":
        return _verdict("pass", "BUILT_AFTER_PRIORITY_CUTOFF"), "later"
    if not in_window:
        code = "BUILT_AFTER_TIER2" if tier2 is not None else "BUILT_AFTER_CUTOFF"
        return _verdict("fail", code), ""
    if False in held:
        return _verdict("fail", "TIER2_CONDITIONS_NOT_MET"), ""
    return _verdict("unknown", "TIER2_CONDITIONS_MISSING"), ""


_LAND_VERDICTS: dict[str, tuple[Outcome, str]] = {
    "国有": ("pass", "STATE_LAND"),
    "集体": ("fail", "COLLECTIVE_LAND"),
    "其他": ("unknown", "LAND_OTHER"),
}


def _land(row: _Row, rules: EligibilityRules) -> _Verdict:
    if not rules.require_state_land:
        return _verdict("pass")
    outcome, code = _LAND_VERDICTS.get(row.land or "", ("unknown", "LAND_MISSING"))
    return _verdict(outcome, code)


def _expropriation(row: _Row, limit_year: int | None) -> _Verdict:
    """``limit_year`` ``None``: any planned expropriation excludes (Litong)."""
    if not row.expropriation_known:
        return _verdict("unknown", "EXPROPRIATION_UNKNOWN")
    planned = row.expropriation_year
    if limit_year is None:
        if planned is not None:
            return _verdict("fail", "EXPROPRIATION_PLANNED_ANY")
        return _verdict("pass", "NO_EXPROPRIATION")
    if planned is not None and planned <= limit_year:
        return _verdict("fail", "EXPROPRIATION_PLANNED")
    return _verdict("pass", "NO_EXPROPRIATION_SOON")


def _flag_rule(value: bool | None, codes: tuple[str, str, str]) -> _Verdict:
    fail, ok, unknown = codes
    if value is None:
        return _verdict("unknown", unknown)
    return _verdict("fail", fail) if value else _verdict("pass", ok)


def _conditions(row: _Row, rules: EligibilityRules) -> _Verdict:
    """``conditions_all`` must all hold, one of ``conditions_any`` must; blank → unknown."""
    required = rules.conditions_all
    alternatives = rules.conditions_any
    if not required and not alternatives:
        return _verdict("pass")
    values = row.conditions
    failed = [c for c in required if values[c] is False]
    blank = [c for c in required if values[c] is None]
    codes: list[str] = []
    if failed:
        codes.append("CONDITION_NOT_MET")
    any_ok = not alternatives or any(values[c] is True for c in alternatives)
    if not any_ok and all(values[c] is False for c in alternatives):
        codes.append("CONDITIONS_NONE_MET")
    elif not any_ok:
        blank += [c for c in alternatives if values[c] is None]
    fields = {
        "conditions_failed_zh": _names_zh(failed),
        "conditions_any_zh": "“" + "”“".join(CONDITION_ZH[c] for c in alternatives) + "”",
        "conditions_blank_zh": _names_zh(blank),
    }
    if codes:
        return _Verdict("fail", tuple(codes), fields)
    if blank:
        return _Verdict("unknown", ("CONDITION_MISSING",), fields)
    held = [c for c in (*required, *alternatives) if values[c] is True]
    return _verdict("pass", "CONDITIONS_MET", conditions_held_zh=_names_zh(held))


def _prior_funded(row: _Row) -> bool:
    return bool(row.items or row.other_items) or row.subsidy_year is not None


def _not_again(row: _Row) -> _Verdict | None:
    """Litong 三(一)1: fail a community already in a central plan; ``None`` if it is not."""
    if row.subsidy_year is not None:
        return _verdict("fail", "PRIOR_PLAN_NOT_AGAIN")
    if row.items:
        return _verdict("unknown", "PRIOR_PLAN_YEAR_MISSING")
    if not row.subsidy_known:
        return _verdict("unknown", "PRIOR_PLAN_UNKNOWN")
    return None


def _prior_subsidy(row: _Row, rules: EligibilityRules) -> _Verdict:
    """Judge Litong's 不得重复建设 and Linxia's 依然存在…的纳入 for communities renovated before."""
    if rules.repeat_subsidised == "not_again":
        again = _not_again(row)
        if again is not None:
            return again
    wanted = rules.repeat_conditions
    if not wanted or not _prior_funded(row):
        return _verdict("pass")
    values = row.conditions
    failed = [c for c in wanted if values[c] is False]
    blank = [c for c in wanted if values[c] is None]
    if failed:
        return _verdict("fail", "PRIOR_FUNDED_NO_NEED", repeat_failed_zh=_names_zh(failed))
    if blank:
        return _verdict("unknown", "PRIOR_FUNDED_MISSING", repeat_blank_zh=_names_zh(blank))
    return _verdict("pass", "PRIOR_FUNDED_STILL_NEEDED", repeat_held_zh=_names_zh(wanted))


# ------------------------------------------------------------------ gates


@dataclass(frozen=True, slots=True)
class _Consent:
    """Participation and approval shares (by owners, by area) and what is wrong or missing."""

    participation: Fraction | None
    approval: Fraction | None
    participation_area: Fraction | None
    approval_area: Fraction | None
    problems: tuple[str, ...]
    base_missing: bool
    area_missing: tuple[str, ...]


def _consent_problems(row: _Row, *, by_area: bool) -> list[str]:
    """Inconsistent vote data, in Chinese: negative numbers, parts larger than wholes."""
    base_label, base = (
        ("业主户数", row.owners) if row.owners is not None else ("户数", row.households)
    )
    named: list[tuple[str, float | None, str]] = [
        (base_label, base, ""),
        ("参与表决业主数", row.participating, ""),
        ("同意业主数", row.approving, ""),
    ]
    if by_area:
        named += [
            ("建筑面积", row.floor_area, " m²"),
            ("参与表决专有面积", row.participating_area, " m²"),
            ("同意业主专有面积", row.approving_area, " m²"),
        ]
    negative = [f"{label}为负数（{_num(v)}）" for label, v, _ in named if v is not None and v < 0]
    if negative:
        return negative
    out = []
    pairs = [(named[1], named[0], "多于"), (named[2], named[1], "多于")]
    if row.participating is None:
        pairs.append((named[2], named[0], "多于"))
    if by_area:
        pairs += [(named[4], named[3], "大于"), (named[5], named[4], "大于")]
        if row.participating_area is None:
            pairs.append((named[5], named[3], "大于"))
    for (part_label, part, unit), (whole_label, whole, _), verb in pairs:
        if part is not None and whole is not None and part > whole:
            out.append(
                f"{part_label}（{_num(part)}{unit}）{verb}{whole_label}（{_num(whole)}{unit}）"
            )
    return out


def _share(part: float | None, whole: float | None) -> Fraction | None:
    if part is None or whole is None or whole <= 0:
        return None
    return Fraction(part) / Fraction(whole)


def _approval_share(approving: float | None, participating: float | None) -> Fraction | None:
    """Return approving / participating; nobody taking part approves nothing (0)."""
    if participating == 0 and not approving:
        return Fraction(0)
    return _share(approving, participating)


def _consent_figures(row: _Row, rules: EligibilityRules) -> _Consent:
    base = row.owners if row.owners is not None else row.households
    if row.participating is not None:
        participation = _share(row.participating, base)
        base_missing = participation is None
    else:
        participation, base_missing = row.participation, False
    approval = _approval_share(row.approving, row.participating)
    if approval is None and (row.approving is None or row.participating is None):
        approval = row.approval
    area_missing: tuple[str, ...] = ()
    if rules.consent_by_area:
        named = (
            ("建筑面积", row.floor_area),
            ("参与表决专有面积", row.participating_area),
            ("同意业主专有面积", row.approving_area),
        )
        area_missing = tuple(label for label, value in named if value is None)
    return _Consent(
        participation=participation,
        approval=approval,
        participation_area=_share(row.participating_area, row.floor_area),
        approval_area=_approval_share(row.approving_area, row.participating_area),
        problems=tuple(_consent_problems(row, by_area=rules.consent_by_area)),
        base_missing=base_missing,
        area_missing=area_missing,
    )


def _consent(figures: _Consent, rules: EligibilityRules) -> _Verdict:
    p_min, a_min = rules.participation_threshold, rules.approval_threshold
    fields: dict[str, object] = {
        "participation_pct": _pct_below(figures.participation, p_min),
        "approval_pct": _pct_below(figures.approval, a_min),
        "participation_area_pct": _pct_below(figures.participation_area, p_min),
        "approval_area_pct": _pct_below(figures.approval_area, a_min),
        "area_missing_zh": "、".join(figures.area_missing) or "面积为0",
        "consent_problems_zh": "；".join(figures.problems),
    }
    if figures.problems:
        return _Verdict("unknown", ("CONSENT_DATA_BAD",), fields)
    by_area = rules.consent_by_area
    checks = [
        ("PARTICIPATION_BELOW", figures.participation, p_min, True),
        ("PARTICIPATION_AREA_BELOW", figures.participation_area, p_min, by_area),
        ("APPROVAL_BELOW", figures.approval, a_min, True),
        ("APPROVAL_AREA_BELOW", figures.approval_area, a_min, by_area),
    ]
    below = [
        code for code, value, least, used in checks if used and value is not None and value < least
    ]
    missing = []
    if figures.participation is None or figures.approval is None:
        missing.append("CONSENT_BASE_MISSING" if figures.base_missing else "CONSENT_MISSING")
    if by_area and (figures.participation_area is None or figures.approval_area is None):
        missing.append("CONSENT_AREA_MISSING")
    if below:
        return _Verdict("fail", (*below, *missing), fields)
    if missing:
        return _Verdict("unknown", tuple(missing), fields)
    return _Verdict("pass", ("CONSENT_MET_BY_AREA" if by_area else "CONSENT_MET",), fields)


def _mgmt(row: _Row) -> _Verdict:
    if row.property_mgmt is None:
        return _verdict("unknown", "MGMT_CONSENSUS_MISSING")
    if row.property_mgmt:
        return _verdict("pass", "MGMT_CONSENSUS_REACHED")
    return _verdict("fail", "MGMT_CONSENSUS_NOT_REACHED")


# ------------------------------------------------------------------ one community


@dataclass(frozen=True, slots=True)
class _Decision:
    status: str
    codes: tuple[str, ...]
    outcomes: dict[str, Outcome]
    scope: str
    fields: dict[str, object]


def _assess_row(row: _Row, rules: EligibilityRules, plan_year: int) -> _Decision:
    years = rules.expropriation_within_years
    limit_year = None if years == "any" else plan_year + int(years)
    built, scope = _built(row, rules)
    verdicts: dict[str, _Verdict] = {
        "rule_built_year": built,
        "rule_land": _land(row, rules),
        "rule_expropriation": _expropriation(row, limit_year),
        "rule_demolition": _flag_rule(
            row.demolition, ("DEMOLITION_PLANNED", "NO_DEMOLITION", "DEMOLITION_UNKNOWN")
        ),
        "rule_shantytown": _flag_rule(
            row.shantytown, ("SHANTYTOWN_RENOVATED", "NOT_SHANTYTOWN", "SHANTYTOWN_UNKNOWN")
        ),
        "rule_consent": _consent(_consent_figures(row, rules), rules),
        "rule_property_mgmt": _mgmt(row),
        "rule_conditions": _conditions(row, rules),
        "rule_prior_subsidy": _prior_subsidy(row, rules),
    }
    outcomes: dict[str, Outcome] = {k: verdicts[k].outcome for k in RULE_COLUMNS}
    fields = {k: v for verdict in verdicts.values() for k, v in verdict.fields.items()}

    def codes_of(rule_names: Sequence[str], *wanted: Outcome) -> tuple[str, ...]:
        return tuple(c for r in rule_names if outcomes[r] in wanted for c in verdicts[r].codes)

    def decided(status: str, codes: tuple[str, ...], tier: str = scope) -> _Decision:
        return _Decision(status, codes, outcomes, tier, fields)

    if "fail" in (outcomes[r] for r in _SCOPE_RULES):
        return decided("not_eligible", codes_of(_SCOPE_RULES, "fail"), "")
    if "unknown" in (outcomes[r] for r in _SCOPE_RULES):
        return decided("unknown", codes_of(_SCOPE_RULES, "unknown"))
    if "CONSENT_DATA_BAD" in verdicts["rule_consent"].codes:
        return decided("unknown", ("CONSENT_DATA_BAD",))
    gates = (
        ["rule_consent", "rule_property_mgmt"] if rules.require_mgmt_consensus else ["rule_consent"]
    )
    waiting = codes_of(gates, "fail", "unknown")
    if waiting:
        return decided("eligible_waiting_consent", waiting)
    return decided("eligible", codes_of([*_SCOPE_RULES, *gates], "pass"))


def _context(row: _Row, rules: EligibilityRules, plan_year: int) -> dict[str, object]:
    """Text fields every reason template may use."""
    years = rules.expropriation_within_years
    tier2 = rules.tier2_cutoff
    return {
        "built_year": row.built_year,
        "cutoff_zh": _date_zh(rules.cutoff),
        "cutoff": rules.cutoff.isoformat(),
        "tier2_cutoff_zh": "" if tier2 is None else _date_zh(tier2),
        "tier2_cutoff": "" if tier2 is None else tier2.isoformat(),
        "tier2_conditions_zh": _names_zh(rules.tier2_conditions),
        "source_zh": rules.source_zh,
        "expropriation_year": row.expropriation_year,
        "plan_year": plan_year,
        "years": years,
        "limit_year": None if years == "any" else plan_year + int(years),
        "min_participation_pct": _pct(rules.participation_threshold),
        "min_approval_pct": _pct(rules.approval_threshold),
        "threshold_zh": _threshold_zh(rules),
        "threshold": f"{rules.participation_threshold} / {rules.approval_threshold}",
        "items": "、".join(map(str, row.items)),
        "other_items": "、".join(map(str, row.other_items)),
        "subsidy_year": row.subsidy_year,
    }


def _text(code: str, context: Mapping[str, object]) -> str:
    return REASONS[code][0].format(**context)


def _notes(row: _Row, rules: EligibilityRules, context: Mapping[str, object]) -> dict[str, object]:
    """Return the columns for later steps: central-subsidy note, no-repeat items, protection."""
    central = ["CENTRAL_SUBSIDY_USED"] if row.items else []
    if row.other_items and rules.repeat_other_programs == "no_central_money":
        central.append("OTHER_PROGRAM_NO_CENTRAL")
    protection = [c for c, v in (("HERITAGE", row.heritage), ("OLD_TREES", row.old_trees)) if v]
    no_repeat = row.other_items if rules.repeat_other_programs == "not_again" else ()
    return {
        "central_subsidy_note": "；".join(_text(c, context) for c in central),
        "no_repeat_items": tuple(no_repeat),
        "protection_zh": "；".join(_text(c, context) for c in protection),
    }


_OUTPUT_COLUMNS = [
    "community_id",
    "name",
    "status",
    "status_zh",
    "reason_codes",
    "reasons_zh",
    *RULE_COLUMNS,
    "central_subsidy_note",
    "scope",
    "scope_zh",
    "conditions_met",
    "no_repeat_items",
    "protection_zh",
]


def _check_frame(communities: pd.DataFrame) -> None:
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


def assess(communities: pd.DataFrame, *, rules: EligibilityRules = _DEFAULT_RULES) -> pd.DataFrame:
    """Decide, per community, whether it may enter the renovation programme, in which tier, why.

    Parameters
    ----------
    communities
        Communities layer (a GeoDataFrame works; geometry is not used). Columns
        ``community_id`` and ``name`` are required; the survey columns of the layer schema
        are read when present: ``built_year``, ``land_tenure``,
        ``planned_expropriation_year``, ``demolition_planned``, ``shantytown_renovated``,
        the conditions (:data:`CONDITIONS`), ``subsidy_year``, ``subsidised_items``,
        ``other_program_items``, ``owners``, ``households``, ``participating_owners``,
        ``participating_area_m2``, ``approving_owners``, ``approving_area_m2``,
        ``floor_area_m2``, ``participation_rate``, ``approval_rate`` (fractions 0–1),
        ``property_mgmt_agreed``, ``heritage`` and ``old_trees``. A column that is absent
        makes the rules reading it ``"unknown"`` for every community (not surveyed); a blank
        cell does too, except ``planned_expropriation_year`` and ``subsidy_year`` (blank =
        none) and the item lists (blank = none).
    rules
        The rules; default :class:`EligibilityRules` () (national). See :func:`preset`.

    Returns
    -------
    pandas.DataFrame
        One row per community, same index and order: ``community_id``, ``name``,
        ``status`` (:data:`STATUSES`), ``status_zh``, ``reason_codes`` (tuple of
        :data:`REASONS` keys of the rules that decided the status), ``reasons_zh`` (their
        Chinese text joined by "；"), one ``rule_*`` column per rule (``"pass"`` /
        ``"fail"`` / ``"unknown"``, :data:`RULE_COLUMNS`), ``central_subsidy_note`` (items
        that cannot take central subsidy again; ``""`` if none), ``scope`` (:data:`SCOPES`;
        ``""`` when not eligible or the year is unknown), ``scope_zh``, ``conditions_met``
        (int), ``no_repeat_items`` (tuple of catalogue items not to build again) and
        ``protection_zh`` (历史建筑 / 古树名木 note; ``""`` if none).

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
    >>> out = gisplan.eligibility.assess(df, rules=gisplan.eligibility.preset("linyi"))
    >>> out[["status", "rule_built_year", "scope"]].to_numpy().tolist()
    [['unknown', 'pass', 'core'], ['not_eligible', 'fail', '']]
    """
    _check_frame(communities)
    plan_year = rules.resolved_plan_year()
    if rules.plan_year is None:
        logger.info("eligibility: plan_year not given; using next year, %s", plan_year)
    for key in ("min_participation", "min_approval"):
        value = getattr(rules, key)
        near = isinstance(value, float) and abs(value - 2 / 3) < 0.01  # noqa: PLR2004
        if near and _fraction(value) != _TWO_THIRDS:
            logger.info(
                "eligibility: %s = %s is read as %s, not two thirds; write 2/3 for 双三分之二",
                key,
                value,
                _fraction(value),
            )
    absent = [c for c in (*_READERS, "land_tenure") if c not in communities.columns]
    if absent:
        logger.info("eligibility: column(s) %s absent; the rules reading them are unknown", absent)
    counted = rules.counted_conditions()
    records: list[dict[str, object]] = []
    for cid, name, row in zip(
        communities["community_id"].tolist(),
        communities["name"].tolist(),
        _read_rows(communities),
        strict=True,
    ):
        decision = _assess_row(row, rules, plan_year)
        context = {**_context(row, rules, plan_year), **decision.fields}
        records.append(
            {
                "community_id": cid,
                "name": name,
                "status": decision.status,
                "status_zh": STATUS_ZH[decision.status],
                "reason_codes": decision.codes,
                "reasons_zh": "；".join(_text(c, context) for c in decision.codes),
                **decision.outcomes,
                "scope": decision.scope,
                "scope_zh": SCOPE_ZH[decision.scope] if decision.scope else "",
                "conditions_met": sum(row.conditions[c] is True for c in counted),
                **_notes(row, rules, context),
            }
        )
    out: pd.DataFrame = pd.DataFrame.from_records(
        records, index=communities.index, columns=_OUTPUT_COLUMNS
    )
    counts = out["status"].value_counts().to_dict()
    logger.info("eligibility (%s, cut-off %s): %s", rules.source_zh, rules.cutoff, counts)
    return out
