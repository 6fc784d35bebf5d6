"""Renovation catalogue (改造内容清单) and one scheme per community (一小区一方案).

The packaged table ``gisplan/data/renovation_catalogue.csv`` holds the 36 items of the Linyi
2020 plan, attachment 2 (19 基础类, 11 完善类, 6 提升类) with a cost basis, an **indicative**
unit cost, a default payer, the utility network concerned and a safety flag (see
``gisplan/data/CATALOGUE_NOTE.md`` for where every figure comes from). A city's own table
with the same columns overrides it and is checked the same way (every problem at once).

* :func:`load_catalogue` — the packaged or a user table, validated, indexed by ``item``;
* :func:`build_schemes` — one row per community x item, from the community's ``needs`` list,
  the classes chosen (default basic + complete), life-circle gaps and forced items, ordered
  basic → complete → improve ("先雪中送炭、再锦上添花");
* :func:`scheme_costs` — cost per community by class, in 元 and 万元, and per m².

A missing survey field (floor area, households, buildings) gives a NaN quantity and a reason
that says so, never a silent 0. No function modifies its inputs.
"""

from __future__ import annotations

import functools
import logging
import math
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from gisplan._frozen import FrozenMap
from gisplan._text import cell_text, printable, read_text_table
from gisplan.errors import LayerError, ScenarioError, SchemaError
from gisplan.standards import gap_services
from gisplan.validation import ValidationReport
from gisplan.vocabulary import codes, column_label, labels

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "CLASSES",
    "CLASSES_ZH",
    "COST_BASES",
    "DECISION_ZH",
    "HEATING_ZONES",
    "MENU_ROLE_ZH",
    "PAYERS",
    "UTILITY_KINDS",
    "SchemeOptions",
    "build_menu",
    "build_schemes",
    "load_catalogue",
    "scheme_costs",
    "validate_catalogue",
]

logger = logging.getLogger(__name__)

#: Item classes in scheme order: 基础类, 完善类, 提升类 ("先雪中送炭、再锦上添花").
CLASSES: tuple[str, ...] = ("basic", "complete", "improve")
#: Chinese name of each class.
CLASSES_ZH: Mapping[str, str] = labels("scheme_class")
#: Cost bases, with the community field that gives the quantity and the unit shown.
COST_BASES: dict[str, tuple[str, str]] = {
    "per_m2_floor": ("floor_area_m2", "m²"),
    "per_household": ("households", "户"),
    "per_building": ("buildings", "栋"),
    "per_unit": ("", "个"),
    "lump_sum": ("", "项"),
}
#: Default payers: government, utility company (专营单位), residents, social capital.
PAYERS: tuple[str, ...] = ("government", "utility", "residents", "social_capital")
#: Utility networks (水电气暖信) whose items the utility company (专营单位) pays and does.
UTILITY_KINDS: tuple[str, ...] = ("water", "power", "gas", "heat", "telecom")

REQUIRED_COLUMNS: tuple[str, ...] = (
    "item",
    "class",
    "name_zh",
    "cost_basis",
    "unit_cost_yuan",
    "payer",
)
OPTIONAL_COLUMNS: tuple[str, ...] = (
    "class_zh",
    "standard_zh",
    "utility_kind",
    "safety",
    "quantity_field",
    "source_note",
    "gap_service",
    "heating_zone_only",
    "affects",
    "needs_appraisal",
)
#: What an item may touch that a community flag protects: ``demolition`` (forbidden where
#: the community has historic buildings, 历史建筑) and ``trees`` (noted where it has old and
#: famous trees, 古树名木: 严禁…砍伐老树, MOHURD 2021 底线(二); Linxia 六(四)).
AFFECTS: tuple[str, ...] = ("demolition", "trees")
#: What a 基础类 item the survey is silent about becomes (:attr:`SchemeOptions.unsurveyed`).
_UNSURVEYED: tuple[str, ...] = ("verify", "include")
#: How an item got into a scheme: ``forced`` (schemes.include / classes), ``required``
#: (基础类 the survey found deficient: 必选), ``conditional`` (有条件的提升类), ``requested``
#: (asked for by residents: 可选). Labels from :mod:`gisplan.vocabulary`.
MENU_ROLE_ZH: Mapping[str, str] = labels("menu_role")
#: What became of an item listed for a community: ``include`` (in the scheme), ``verify``
#: (待核实) or ``exclude`` (不纳入, with the reason).
DECISION_ZH: Mapping[str, str] = labels("scheme_decision")
#: Whether each packaged catalogue's city lies in the northern heating zone (北方采暖地区,
#: MOHURD 2021 底线(五)): Linyi (Shandong), Linxia (Gansu) yes; Tongnan (Chongqing) no; the
#: national list has no city. The default of :attr:`SchemeOptions.heating_zone` for a scenario
#: that names the catalogue.
#: Why heating and energy retrofit stay out of a scheme outside the heating zone. The notice
#: only makes 北方采暖地区建筑节能改造 a priority; leaving them out elsewhere is our reading.
_OUTSIDE_HEATING_ZONE = (
    "非北方采暖地区：无集中供热，供热和建筑节能改造不纳入（本工具设定 schemes.heating_zone；"
    "住建部2021 底线(五)将北方采暖地区建筑节能改造列为重点内容）"
)
HEATING_ZONES: dict[str, bool | None] = {
    "linyi": True,
    "linxia": True,
    "tongnan": False,
    "national": None,
}
#: Packaged catalogues by seed city (file in ``gisplan/data``); see ``CATALOGUE_NOTE.md``.
PACKAGED_CATALOGUES: dict[str, str] = {
    "linyi": "renovation_catalogue.csv",
    "linxia": "renovation_catalogue_linxia.csv",
    "tongnan": "renovation_catalogue_tongnan.csv",
    "national": "renovation_catalogue_national.csv",
}
_COLUMNS = REQUIRED_COLUMNS[1:] + OPTIONAL_COLUMNS
_TRUE = frozenset({"yes", "true", "是", "1"})
#: Yes/no columns of a catalogue.
_FLAGS: tuple[str, ...] = ("safety", "heating_zone_only", "needs_appraisal")
_FALSE = frozenset({"no", "false", "否", "0", ""})
_LIST_SPLIT = re.compile(r"[、,，;；\s]+")


# --------------------------------------------------------------------------- validation


def _item_number(text: str) -> int | None:
    if re.fullmatch(r"\d+(\.0+)?", text) and int(float(text)) >= 1:
        return int(float(text))
    return None


_ENUMS: dict[str, tuple[tuple[str, ...], str]] = {
    "class": (CLASSES, ""),
    "cost_basis": (tuple(COST_BASES), ""),
    "payer": (PAYERS, ""),
    "utility_kind": (("", *UTILITY_KINDS), " or leave it empty"),
    "affects": (("", *AFFECTS), " or leave it empty"),
}


def _cost_problem(text: str) -> tuple[str, str] | None:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        return (f"unit_cost_yuan '{text}' is not a number", "write the cost in 元")
    if value < 0:
        return (f"unit_cost_yuan {text} is negative", "write a cost in 元 >= 0")
    return None


def _cell_problem(column: str, text: str, row: Mapping[Any, Any]) -> tuple[str, str] | None:
    """Return ``(problem, fix)`` for one cell of a catalogue, or ``None`` if it is fine."""
    if column in _ENUMS:
        allowed, tail = _ENUMS[column]
        if text in allowed:
            return None
        return (
            f"{column} '{text}' is unknown",
            f"use one of {', '.join(a for a in allowed if a)}{tail}",
        )
    cls = cell_text(row.get("class"))
    problem: tuple[str, str] | None = None
    if column == "class_zh" and text and cls in CLASSES_ZH and text != CLASSES_ZH[cls]:
        problem = (f"class_zh '{text}' does not match the class", f"write {CLASSES_ZH[cls]}")
    elif column == "name_zh" and not text:
        problem = ("name_zh is empty", "give the item its Chinese name")
    elif column == "unit_cost_yuan":
        problem = _cost_problem(text)
    elif column in _FLAGS and text.lower() not in _TRUE | _FALSE:
        problem = (f"{column} '{text}' is not yes/no", "write yes or no")
    elif column == "gap_service" and text and text not in codes("gap_service"):
        problem = (
            f"gap_service '{text}' is unknown",
            f"use one of {', '.join(codes('gap_service'))}, or leave it empty",
        )
    elif column == "quantity_field" and cell_text(row.get("cost_basis")) == "per_unit" and not text:
        problem = (
            "a per_unit item needs a quantity_field",
            "name the community column that counts the units (e.g. lift_units)",
        )
    return problem


def validate_catalogue(df: pd.DataFrame, *, name: str = "catalogue") -> ValidationReport:
    """Check a catalogue table and return every problem found.

    Checks: required columns (``item, class, name_zh, cost_basis, unit_cost_yuan, payer``);
    items whole numbers >= 1 and unique; ``class`` one of :data:`CLASSES` (and ``class_zh``
    matching it); ``cost_basis`` one of :data:`COST_BASES`; ``unit_cost_yuan`` a number >= 0;
    ``payer`` one of :data:`PAYERS`; ``utility_kind`` empty or one of
    :data:`UTILITY_KINDS`; ``safety`` yes/no; ``quantity_field`` given for ``per_unit``.
    Rows are named ``row N (item I)``, data rows counted from 1.

    Parameters
    ----------
    df
        Raw table (text cells) or a table from :func:`load_catalogue`.
    name
        Label of the table in the report (file name).

    Returns
    -------
    ValidationReport

    Examples
    --------
    >>> raw = pd.DataFrame({"item": ["1", "2"], "class": ["basic", "basic"],
    ...     "name_zh": ["供水", "供电"], "cost_basis": ["lump_sum", "lump_sum"],
    ...     "unit_cost_yuan": ["10", "-5"], "payer": ["government", "utility"]})
    >>> [(i.row, i.column) for i in validate_catalogue(raw).errors]
    [('row 2 (item 2)', 'unit_cost_yuan')]
    """
    report = ValidationReport()
    if "item" not in df.columns and df.index.name == "item":
        df = df.reset_index()
    for col in REQUIRED_COLUMNS:
        if col not in df.columns:
            report.add(
                name,
                f"required column '{col}' is missing",
                f"add a '{col}' column (columns: {', '.join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)})",
                column=col,
            )
    checked = [c for c in _COLUMNS if c in df.columns or c == "quantity_field"]
    seen: dict[int, int] = {}
    for n, row in enumerate(df.to_dict("records"), start=1):
        raw_item = cell_text(row.get("item"))
        number = _item_number(raw_item)
        where = f"row {n} (item {printable(raw_item)})" if raw_item else f"row {n}"
        if "item" in df.columns and number is None:
            report.add(
                name,
                f"item '{printable(raw_item)}' is not a whole number >= 1",
                "number the items 1, 2, 3, ...",
                row=where,
                column="item",
            )
        elif number is not None and number in seen:
            report.add(
                name,
                f"duplicate item {number} (rows {seen[number]} and {n})",
                "keep one row per item",
                row=where,
                column="item",
            )
        elif number is not None:
            seen[number] = n
        for column in checked:
            found = _cell_problem(column, cell_text(row.get(column)), row)
            if found is not None:
                report.add(name, printable(found[0]), found[1], row=where, column=column)
    return report


# --------------------------------------------------------------------------- loading


def _build(raw: pd.DataFrame) -> pd.DataFrame:
    """Turn a validated raw table into the typed catalogue, indexed by ``item``, sorted."""
    if "item" not in raw.columns and raw.index.name == "item":
        raw = raw.reset_index()
    out = pd.DataFrame(
        index=pd.Index([int(float(cell_text(v))) for v in raw["item"]], name="item", dtype="int64")
    )
    out["class"] = [cell_text(v) for v in raw["class"]]
    out["class_zh"] = [CLASSES_ZH[c] for c in out["class"]]
    for col in ("name_zh", "standard_zh", "cost_basis"):
        values = raw[col] if col in raw.columns else [""] * len(raw)
        out[col] = [cell_text(v) for v in values]
    out["unit_cost_yuan"] = [float(cell_text(v)) for v in raw["unit_cost_yuan"]]
    out["payer"] = [cell_text(v) for v in raw["payer"]]
    for col in ("utility_kind",):
        values = raw[col] if col in raw.columns else [""] * len(raw)
        out[col] = [cell_text(v) for v in values]
    for col in _FLAGS:
        flags = raw[col] if col in raw.columns else [""] * len(raw)
        out[col] = [cell_text(v).lower() in _TRUE for v in flags]
    for col in ("gap_service", "affects"):
        values = raw[col] if col in raw.columns else [""] * len(raw)
        out[col] = [cell_text(v) for v in values]
    fields_ = raw["quantity_field"] if "quantity_field" in raw.columns else [""] * len(raw)
    out["quantity_field"] = [
        cell_text(f) or COST_BASES[b][0] for f, b in zip(fields_, out["cost_basis"], strict=True)
    ]
    notes = raw["source_note"] if "source_note" in raw.columns else [""] * len(raw)
    out["source_note"] = [cell_text(v) for v in notes]
    rank = out["class"].map({c: i for i, c in enumerate(CLASSES)})
    order = np.lexsort((out.index.to_numpy(), rank.to_numpy()))
    result: pd.DataFrame = out.iloc[order]
    return result


def _read_csv(source: Path, label: str) -> pd.DataFrame:
    """Read a catalogue CSV as text cells (UTF-8, else GBK); ``SchemaError`` if malformed."""
    return read_text_table(source, label, error=SchemaError, what="item")


def _checked(raw: pd.DataFrame, label: str) -> pd.DataFrame:
    report = validate_catalogue(raw, name=label)
    if not report.ok:
        raise SchemaError(
            f"{label}: the catalogue has problems; fix every line below and load again\n"
            + report.format(fatal_only=True)
        )
    return _build(raw)


@functools.lru_cache(maxsize=len(PACKAGED_CATALOGUES))
def _packaged(name: str) -> pd.DataFrame:
    """Load a packaged catalogue once; callers must not mutate the result."""
    file = PACKAGED_CATALOGUES[name]
    with resources.as_file(resources.files("gisplan") / "data" / file) as path:
        raw = _read_csv(Path(path), f"packaged {file}")
    return _checked(raw, file)


def load_catalogue(path: str | Path | None = None) -> pd.DataFrame:
    """Load the renovation catalogue (改造内容清单).

    Parameters
    ----------
    path
        The name of a packaged catalogue (:data:`PACKAGED_CATALOGUES`: ``linyi``,
        ``linxia``, ``tongnan``, ``national`` — each seed's classes and item names), or a
        CSV with the packaged table's columns (UTF-8, else GBK); ``None`` loads the Linyi
        catalogue (``gisplan/data/renovation_catalogue.csv``; unit costs indicative: see
        ``CATALOGUE_NOTE.md``).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``item`` (int), ordered basic → complete → improve then item; columns
        ``class, class_zh, name_zh, standard_zh, cost_basis, unit_cost_yuan`` (float),
        ``payer, utility_kind, safety`` (bool), ``quantity_field`` (the community column
        giving the quantity; empty for a lump sum), ``source_note``, ``gap_service`` (the
        life-circle service the item provides, or empty), ``heating_zone_only`` (bool:
        heating and energy retrofit, only in northern heated cities) and ``affects``
        (:data:`AFFECTS`, or empty).

    Raises
    ------
    SchemaError
        If the file is missing or unreadable, or listing every problem of an invalid table
        (file, row, column), e.g. a negative unit cost naming its item.

    Examples
    --------
    >>> cat = load_catalogue()
    >>> len(cat), cat["class"].value_counts().to_dict()
    (36, {'basic': 19, 'complete': 11, 'improve': 6})
    >>> cat.loc[32, ["name_zh", "payer"]].tolist()
    ['完善抚幼设施', 'social_capital']
    """
    if path is None or str(path) in PACKAGED_CATALOGUES:
        packaged: pd.DataFrame = _packaged(str(path or "linyi")).copy()
        return packaged
    path = Path(path)
    if not path.is_file():
        raise SchemaError(f"{path}: catalogue not found; check the path")
    table = _checked(_read_csv(path, str(path)), str(path))
    logger.info("loaded %d catalogue items from %s", len(table), path)
    return table


def _catalogue(catalogue: pd.DataFrame | None) -> pd.DataFrame:
    if catalogue is None:
        return _packaged("linyi")
    return _checked(catalogue, "catalogue")


# --------------------------------------------------------------------------- options


def _is_item(value: object) -> bool:
    return bool(isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= 1)


@dataclass(frozen=True, kw_only=True, slots=True)
class SchemeOptions:
    """Options of the scheme step (``schemes:`` in a scenario).

    Parameters
    ----------
    include
        Items forced into every community's scheme (reason ``"forced in"``).
    exclude
        Items taken out of every scheme, whatever proposed them; listed with the reason
        where a community asked for them (default none). Items that need a building
        appraisal first (the catalogue's ``needs_appraisal``: lifts, 增设电梯 "有条件的，以
        单元或幢为单位"; seismic retrofit) are 待核实 when asked for, whatever this says.
    classes
        Classes whose every item enters each scheme whatever the survey says — the old
        one-package-for-all (一刀切) the seeds reject; default ``()``: schemes are built from
        the menu (see :func:`build_menu`).
    gap_items
        Facility code of the life-circle standard → items proposed when that type is not
        covered. Default ``None``: the items of the catalogue whose ``gap_service`` is the
        type's (the standards table's ``gap_service`` column: 养老 types → the catalogue's
        养老 items, 托育 → 抚幼 …), whatever the catalogue's numbering.
    unsurveyed
        A 基础类 item the survey says nothing about: ``"verify"`` (default: 待核实, listed
        for review and not costed — never assumed) or ``"include"`` (costed as an estimate
        before the survey; its reason says so).
    heating_zone
        Whether the city is in the northern heating zone (北方采暖地区): heating networks and
        building energy retrofit (items with ``heating_zone_only``) are only done there. The
        notice (MOHURD 2021 底线(五)) makes 北方采暖地区建筑节能改造 a priority; that it
        excludes them elsewhere is **our reading** (no central heating to renovate), and the
        reason says so. ``None`` (default): not stated — those items are 待核实.

    Raises
    ------
    ScenarioError
        If an item is not a whole number >= 1, a class is unknown, or an item is both
        included and excluded (every problem listed). Item numbers are checked against the
        catalogue by :func:`build_schemes`.

    Examples
    --------
    >>> SchemeOptions(include=(31,), classes=("basic",), gap_items={"nursery": (32,)}).gap_items
    {'nursery': (32,)}
    >>> SchemeOptions(classes=("basics",))
    Traceback (most recent call last):
    ...
    gisplan.errors.ScenarioError: SchemeOptions.classes: 'basics' is unknown; ...
    """

    include: tuple[int, ...] = ()
    exclude: tuple[int, ...] = ()
    classes: tuple[str, ...] = ()
    gap_items: Mapping[str, tuple[int, ...]] | None = None
    unsurveyed: str = "verify"
    heating_zone: bool | None = None

    def __post_init__(self) -> None:
        """Check items and classes; store read-only copies."""
        problems: list[tuple[str, str, str]] = []
        problems += [
            (f"schemes.{key}", f"{value!r} is not an item number", "write 1–36")
            for key in ("include", "exclude")
            for value in getattr(self, key)
            if not _is_item(value)
        ]
        problems += [
            ("schemes.classes", f"{c!r} is unknown", f"use {', '.join(CLASSES)}")
            for c in self.classes
            if c not in CLASSES
        ]
        if self.unsurveyed not in _UNSURVEYED:
            problems.append(
                ("schemes.unsurveyed", f"{self.unsurveyed!r} is unknown", "use verify or include")
            )
        heating: object = self.heating_zone  # YAML may give anything
        if heating is not None and not isinstance(heating, bool):
            problems.append(
                (
                    "schemes.heating_zone",
                    f"{self.heating_zone!r} is not yes/no",
                    "write true or false",
                )
            )
        for code, items in (self.gap_items or {}).items():
            problems += [
                (f"schemes.gap_items.{code}", f"{v!r} is not an item number", "write 1–36")
                for v in tuple(items)
                if not _is_item(v)
            ]
        both = sorted(set(self.include) & set(self.exclude), key=str)
        if both:
            problems.append(
                (
                    "schemes.include/exclude",
                    f"item(s) {', '.join(map(str, both))} both included and excluded",
                    "keep each item in one list",
                )
            )
        if problems:
            raise ScenarioError(
                "\n".join(f"SchemeOptions.{k.split('.', 1)[1]}: {p}; {f}" for k, p, f in problems),
                problems,
            )
        object.__setattr__(self, "include", tuple(int(v) for v in self.include))
        object.__setattr__(self, "exclude", tuple(int(v) for v in self.exclude))
        object.__setattr__(self, "classes", tuple(self.classes))
        if self.gap_items is not None:
            frozen = {k: tuple(int(x) for x in v) for k, v in self.gap_items.items()}
            object.__setattr__(self, "gap_items", FrozenMap(frozen))


# --------------------------------------------------------------------------- schemes


def _valid_range(items: pd.Index) -> str:
    numbers = sorted(int(i) for i in items)
    if numbers == list(range(numbers[0], numbers[-1] + 1)):
        return f"{numbers[0]}–{numbers[-1]}"
    return ", ".join(map(str, numbers))


def _check_option_items(options: SchemeOptions, catalogue: pd.DataFrame) -> None:
    known = {int(i) for i in catalogue.index}
    valid = _valid_range(catalogue.index)
    problems = [
        (f"schemes.{key}", f"item {v} is not in the catalogue", f"valid items: {valid}")
        for key, values in (("include", options.include), ("exclude", options.exclude))
        for v in values
        if v not in known
    ]
    if options.gap_items is not None:
        problems += [
            (
                f"schemes.gap_items.{code}",
                f"item {v} is not in the catalogue",
                f"valid items: {valid}",
            )
            for code, values in options.gap_items.items()
            for v in values
            if v not in known
        ]
    if problems:
        raise ScenarioError("\n".join(f"{k}: {p}; {f}" for k, p, f in problems), problems)


def _needs(value: object) -> tuple[object, ...]:
    """Return a ``needs`` cell as a tuple (a list layer column, or text like ``1、2、12``)."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ()
    if isinstance(value, str):
        parts = [p for p in _LIST_SPLIT.split(value.strip()) if p]
        return tuple(int(float(p)) if _item_number(p) is not None else p for p in parts)
    if isinstance(value, (int, np.integer)):
        return (int(value),)
    if isinstance(value, (list, tuple, set, frozenset, np.ndarray, pd.Series)):
        return tuple(value)
    return (value,)


def _community_items(
    communities: pd.DataFrame, column: str, known: set[int], valid: str
) -> list[list[int]]:
    """Item numbers of a list column per community (``needs``, survey lists); checked."""
    if column not in communities.columns:
        return [[] for _ in range(len(communities))]
    out: list[list[int]] = []
    problems: list[str] = []
    for cid, cell in zip(communities["community_id"], communities[column], strict=True):
        items: list[int] = []
        for v in _needs(cell):
            if _is_item(v) and int(v) in known:  # type: ignore[call-overload]
                items.append(int(v))  # type: ignore[call-overload]
            else:
                problems.append(f"community {printable(cid)}: item {printable(v)}")
        out.append(items)
    if problems:
        raise LayerError(
            f"communities: column '{column}' names items not in the catalogue: "
            + "; ".join(problems[:10])
            + (f" and {len(problems) - 10} more" if len(problems) > 10 else "")  # noqa: PLR2004
            + f"; valid items: {valid}"
        )
    return out


def _community_flags(communities: pd.DataFrame, column: str) -> list[bool | None]:
    """Return a yes/no column per community: ``True``, ``False`` or ``None`` (blank)."""
    if column not in communities.columns:
        return [None] * len(communities)
    values = communities[column].astype("boolean")
    return [None if pd.isna(v) else bool(v) for v in values]


def _gap_item_map(
    options: SchemeOptions, catalogue: pd.DataFrame, standard: pd.DataFrame | None
) -> Mapping[str, tuple[int, ...]]:
    """Facility code → items a gap proposes: the option, else matched by ``gap_service``."""
    if options.gap_items is not None:
        return options.gap_items
    by_service: dict[str, list[int]] = {}
    for item, service in zip(catalogue.index, catalogue["gap_service"], strict=True):
        if service:
            by_service.setdefault(str(service), []).append(int(item))
    return {
        code: tuple(by_service[service])
        for code, service in gap_services(standard).items()
        if service in by_service
    }


@dataclass(frozen=True, slots=True)
class _Gap:
    """An uncovered life-circle type of one community that an item answers."""

    code: str
    text: str


def _gap_reasons(
    gaps: pd.DataFrame | None, gap_items: Mapping[str, tuple[int, ...]], known: set[int]
) -> dict[tuple[str, int], list[_Gap]]:
    """Return ``(community_id, item) -> uncovered types`` the item would answer."""
    if gaps is None:
        return {}
    missing = [c for c in ("community_id", "type", "covered") if c not in gaps.columns]
    if missing:
        raise SchemaError(
            f"gaps: column(s) {', '.join(repr(c) for c in missing)} missing; pass the table "
            "returned by gisplan.gaps.gap_table (community_id, type, covered)"
        )
    out: dict[tuple[str, int], list[_Gap]] = {}
    covered = gaps["covered"].astype("boolean")
    for pos in np.flatnonzero((covered == False).fillna(value=False).to_numpy()):  # noqa: E712
        row = gaps.iloc[pos]
        code = str(row["type"])
        items = tuple(i for i in gap_items.get(code, ()) if i in known)
        label = cell_text(row["type_zh"]) if "type_zh" in gaps.columns else ""
        radius = pd.to_numeric(pd.Series([row.get("radius_m")]), errors="coerce").iloc[0]
        where = f"{radius:g} m 内" if pd.notna(radius) else "步行可达范围内"
        gap = _Gap(code=code, text=f"生活圈缺口：{where}无{label or code}")
        for item in items:
            found = out.setdefault((str(row["community_id"]), item), [])
            if gap not in found:
                found.append(gap)
    return out


def _sited(sites_chosen: pd.DataFrame | None) -> dict[tuple[str, str], str]:
    """``(community_id, facility code) -> site`` the siting step proposes for that gap."""
    if sites_chosen is None or not len(sites_chosen):
        return {}
    out: dict[tuple[str, str], str] = {}
    for site, code, ids in zip(
        sites_chosen["site_id"],
        sites_chosen["type"],
        sites_chosen["newly_covered_ids"],
        strict=True,
    ):
        for cid in str(ids or "").split("、"):
            if cid:
                out.setdefault((cid, str(code)), str(site))
    return out


def _survey_value(communities: pd.DataFrame, pos: int, column: str) -> float:
    if not column:
        return 1.0
    if column not in communities.columns:
        return math.nan
    value = pd.to_numeric(pd.Series([communities[column].iloc[pos]]), errors="coerce").iloc[0]
    return float(value) if pd.notna(value) else math.nan


_SCHEME_COLUMNS = [
    "community_id",
    "item",
    "class",
    "name_zh",
    "menu",
    "menu_zh",
    "quantity",
    "unit",
    "unit_cost_yuan",
    "cost_yuan",
    "cost_wan_yuan",
    "payer",
    "safety",
    "floor_area_m2",
    "reason",
]
_REVIEW_COLUMNS = [
    "community_id",
    "item",
    "class",
    "name_zh",
    "menu",
    "menu_zh",
    "decision",
    "decision_zh",
    "quantity",
    "unit",
    "cost_yuan",
    "cost_wan_yuan",
    "reason",
]
#: Priority of the roles when an item has several: the first names the row's ``menu``.
_ROLE_ORDER = ("forced", "required", "conditional", "requested")
#: An item already centrally subsidised may be done again, never with central money.
_SUBSIDISED_NOTE = (
    "已获中央补助：同一改造内容不重复使用中央补助资金（临夏2020 三(一)；资金测算不计中央补助）"
)
_SEP = "；"


@dataclass(slots=True)
class _Entry:
    """What one community's survey, requests and gaps say of one item."""

    roles: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    verify: str = ""
    blocked: str = ""

    def add(self, role: str, reason: str) -> None:
        self.roles.append(role)
        self.reasons.append(reason)

    @property
    def listed(self) -> bool:
        return bool(self.roles or self.verify or self.blocked)

    @property
    def decision(self) -> str:
        if self.blocked:
            return "exclude"
        return "verify" if self.verify else "include"


@dataclass(frozen=True, slots=True)
class _Survey:
    """One community's survey lists and flags."""

    cid: str
    needs: list[int]
    deficient: list[int]
    sound: list[int]
    no_repeat: list[int]
    subsidised: list[int]
    space: bool | None
    heritage: bool | None
    old_trees: bool | None


def _menu_entry(
    item: int,
    row: pd.Series[Any],
    survey: _Survey,
    *,
    options: SchemeOptions,
    gaps: list[_Gap],
    sited: dict[tuple[str, str], str],
) -> _Entry:
    """Decide one item for one community (一小区一方案, 菜单式: 必选 + 可选 + 有条件的提升)."""
    entry = _Entry()
    cls = str(row["class"])
    if item in options.include:
        entry.add("forced", "强制纳入（schemes.include）")
    if cls in options.classes:
        entry.add("forced", f"{CLASSES_ZH[cls]}全部纳入（schemes.classes）")
    if cls == "basic":
        if item in survey.deficient:
            entry.add("required", "摸底排查存在问题（基础类，必选）")
        elif item not in survey.sound and item not in survey.needs and not entry.roles:
            if options.unsurveyed == "include":
                entry.add("required", "摸底排查未涉及此项：按估算纳入（schemes.unsurveyed）")
            else:
                entry.verify = "摸底排查未涉及此项：待核实（不计入造价）"
    if gaps or (cls == "improve" and row["gap_service"]):
        _conditional(entry, item, survey, gaps=gaps, sited=sited)
    elif item in survey.needs:
        entry.add("requested", "居民申请（可选）")
    if entry.listed:
        _block(entry, item, row, survey, options=options)
    return entry


def _conditional(
    entry: _Entry,
    item: int,
    survey: _Survey,
    *,
    gaps: list[_Gap],
    sited: dict[tuple[str, str], str],
) -> None:
    """提升类 is 有条件的: a life-circle gap, available space and residents who want it."""
    wanted = item in survey.needs
    if not gaps:
        if wanted:
            entry.roles.append("requested")
            entry.blocked = "居民申请，但生活圈无此缺口（提升类为有条件的，不纳入）"
        return
    entry.roles.append("conditional")  # the role it is listed under, kept out or not
    open_gaps = [g for g in gaps if (survey.cid, g.code) not in sited]
    if not open_gaps:
        sites = sorted({sited[survey.cid, g.code] for g in gaps})
        asked = "居民申请，" if wanted else ""
        entry.blocked = f"{asked}由新增设施选址解决（{'、'.join(sites)}），不重复计入改造方案"
        return
    gap_text = "、".join(g.text for g in open_gaps)
    missing = [
        text
        for ok, text in (
            (survey.space is True, "无可利用空间" if survey.space is False else "可利用空间未调查"),
            (wanted, "居民未申请"),
        )
        if not ok
    ]
    if missing:
        asked = "，居民已申请" if wanted else ""
        entry.blocked = f"{gap_text}{asked}，但{'、'.join(missing)}（提升类为有条件的，不纳入）"
    else:
        entry.add("conditional", f"{gap_text}；有可利用空间；居民申请（提升类，有条件的）")


def _block(
    entry: _Entry, item: int, row: pd.Series[Any], survey: _Survey, *, options: SchemeOptions
) -> None:
    """Rules that keep a listed item out of the scheme, each with its reason and source."""
    if item in options.exclude:
        entry.blocked = entry.blocked or (
            "不纳入（schemes.exclude）" + ("，居民已申请" if item in survey.needs else "")
        )
    if row["needs_appraisal"] and entry.roles and "forced" not in entry.roles and not entry.blocked:
        entry.verify = "须以单元或幢为单位评估后决定（有条件的）：待核实"
    if survey.heritage is True and row["affects"] == "demolition":
        entry.blocked = "小区涉及历史建筑：不得拆除（住建部2021 底线(二)；临夏2020 六(四)）"
    if row["heating_zone_only"] and options.heating_zone is False:
        entry.blocked = _OUTSIDE_HEATING_ZONE
    elif row["heating_zone_only"] and options.heating_zone is None and not entry.blocked:
        entry.verify = entry.verify or "是否北方采暖地区未设定（schemes.heating_zone）：待核实"
    if item in survey.no_repeat:
        entry.blocked = "已实施过同一内容：不得重复建设（利通2023 三(一)）"
    if item in survey.subsidised and not entry.blocked:
        entry.reasons.append(_SUBSIDISED_NOTE)
    if survey.old_trees is True and row["affects"] == "trees" and not entry.blocked:
        entry.reasons.append("施工不得砍伐古树名木（住建部2021 底线(二)）")


def _menu_row(
    communities: pd.DataFrame, pos: int, row: pd.Series[Any], item: int, entry: _Entry
) -> dict[str, Any]:
    """One listed item: quantity from the survey field, cost, role, decision and reasons."""
    quantity_field = str(row["quantity_field"])
    quantity = _survey_value(communities, pos, quantity_field)
    texts = list(dict.fromkeys(entry.reasons))
    texts += [t for t in (entry.verify, entry.blocked) if t]
    if math.isnan(quantity):
        field = column_label(quantity_field, layer="communities")
        texts.append(f"工程量未知：缺少调查字段「{field}」")
    cost = quantity * float(row["unit_cost_yuan"])
    role = next((r for r in _ROLE_ORDER if r in entry.roles), "required")
    return {
        "community_id": communities["community_id"].iloc[pos],
        "item": item,
        "class": row["class"],
        "name_zh": row["name_zh"],
        "menu": role,
        "menu_zh": MENU_ROLE_ZH[role],
        "decision": entry.decision,
        "decision_zh": DECISION_ZH[entry.decision],
        "quantity": quantity,
        "unit": COST_BASES[str(row["cost_basis"])][1],
        "unit_cost_yuan": float(row["unit_cost_yuan"]),
        "cost_yuan": round(cost, 2) if not math.isnan(cost) else math.nan,
        "cost_wan_yuan": round(cost / 1e4, 2) if not math.isnan(cost) else math.nan,
        "payer": row["payer"],
        "safety": bool(row["safety"]),
        "floor_area_m2": _survey_value(communities, pos, "floor_area_m2"),
        "reason": _SEP.join(texts),
    }


def _surveys(communities: pd.DataFrame, known: set[int], valid: str) -> list[_Survey]:
    lists = {
        column: _community_items(communities, column, known, valid)
        for column in (
            "needs",
            "deficient_items",
            "sound_items",
            "no_repeat_items",
            "subsidised_items",
        )
    }
    flags = {
        c: _community_flags(communities, c) for c in ("space_available", "heritage", "old_trees")
    }
    return [
        _Survey(
            cid=str(cid),
            needs=lists["needs"][pos],
            deficient=lists["deficient_items"][pos],
            sound=lists["sound_items"][pos],
            no_repeat=lists["no_repeat_items"][pos],
            subsidised=lists["subsidised_items"][pos],
            space=flags["space_available"][pos],
            heritage=flags["heritage"][pos],
            old_trees=flags["old_trees"][pos],
        )
        for pos, cid in enumerate(communities["community_id"])
    ]


def _typed(records: list[dict[str, Any]], columns: list[str], ids: pd.Series[Any]) -> pd.DataFrame:
    out = pd.DataFrame.from_records(records, columns=columns)
    if not records:
        out["community_id"] = out["community_id"].astype(ids.dtype)
    out["item"] = out["item"].astype("int64")
    for col in ("quantity", "unit_cost_yuan", "cost_yuan", "cost_wan_yuan", "floor_area_m2"):
        if col in out.columns:
            out[col] = out[col].astype("float64")
    if "safety" in out.columns:
        out["safety"] = out["safety"].astype(bool)
    table: pd.DataFrame = out
    return table


def build_menu(
    communities: pd.DataFrame,
    *,
    catalogue: pd.DataFrame | None = None,
    gaps: pd.DataFrame | None = None,
    options: SchemeOptions | None = None,
    standard: pd.DataFrame | None = None,
    sites_chosen: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Build one scheme per community from the catalogue menu (一小区一方案, 菜单式).

    The seeds ask for schemes drawn up with the residents, not one package for all:
    "清单+标准"、"必选+可选" (Linyi 2020 二(一)2), 菜单式 (Tongnan 2021 三(一)), 不搞"一刀切"
    (Linxia 2020 三(二); MOHURD 2021 底线(二)), and 提升类 is "有条件的" (Linyi 附件2). So an
    item of the catalogue enters a community's scheme when

    * **必选** — it is 基础类 and the survey found the system deficient (``deficient_items``);
      a 基础类 item the survey says nothing about (neither there nor in ``sound_items``) is
      **待核实** — listed, never assumed (``options.unsurveyed="include"`` costs it as an
      estimate instead, labelled so);
    * **可选** — the residents asked for it (``needs``);
    * **有条件的提升** — it answers a life-circle gap of the community (``gaps``; its
      ``gap_service``) AND the community has space (``space_available``) AND the residents
      asked for it — and the siting step does not already propose a new facility for that
      gap (``sites_chosen``: one or the other, never both);
    * or it is forced in (``options.include``, every item of ``options.classes``).

    Items that need a building appraisal first (``needs_appraisal``: lifts — 有条件的，以单元
    或幢为单位增设电梯 —, seismic retrofit) are 待核实 when asked for. Items that something
    keeps out are listed with the reason, never dropped silently: ``options.exclude``,
    demolition where the community has historic buildings (``heritage``; MOHURD 2021
    底线(二), Linxia 2020 六(四)), heating and energy retrofit outside the northern heating
    zone (``options.heating_zone``; our reading of MOHURD 2021 底线(五)), items already
    done that may not be repeated (``no_repeat_items``, from
    :func:`gisplan.eligibility.assess` under Litong's 不得重复建设). An item already
    centrally subsidised (``subsidised_items``) stays on the menu with the note that it
    takes no central money again (Linxia 2020 三(一): 在同一改造内容不重复使用中央补助资金
    的前提下，纳入改造计划; :mod:`gisplan.finance` leaves it out of the central share).
    Road and parking works in a community with old trees (``old_trees``) carry the note that
    no old tree may be felled.

    Parameters
    ----------
    communities
        ``community_id`` (unique); optional ``needs``, ``deficient_items``,
        ``sound_items``, ``no_repeat_items``, ``subsidised_items`` (item numbers: tuples or
        text such as ``"1、2、12"``), ``space_available``, ``heritage``, ``old_trees`` (yes/no),
        ``floor_area_m2``, ``households``, ``buildings`` and any ``quantity_field`` of the
        catalogue.
    catalogue
        Table from :func:`load_catalogue`; ``None`` uses the packaged Linyi catalogue.
    gaps
        Table from :func:`gisplan.gaps.gap_table` (``community_id, type, covered``;
        ``type_zh`` and ``radius_m`` are used for the reason when present).
    options
        :class:`SchemeOptions`; ``None`` uses the defaults.
    standard
        Life-circle standards table (its ``gap_service`` column says which service a gap of
        each type calls for); ``None``: the packaged one.
    sites_chosen
        The ``sites_chosen`` table of :func:`gisplan.siting.propose` (``site_id, type,
        newly_covered_ids``): a gap a proposed facility closes is not answered again here.

    Returns
    -------
    schemes, review : pandas.DataFrame
        ``schemes``: the items in the schemes — ``community_id, item, class, name_zh, menu``
        (``forced``, ``required``, ``conditional``, ``requested``), ``menu_zh``,
        ``quantity, unit, unit_cost_yuan, cost_yuan, cost_wan_yuan, payer, safety,
        floor_area_m2, reason`` (why it is there, Chinese). ``review``: the items listed but
        not in a scheme, with ``decision`` (``verify`` 待核实 or ``exclude`` 不纳入),
        ``decision_zh``, the estimated cost and the reason. Both in input order of the
        communities, then basic → complete → improve, then item ("先雪中送炭、再锦上添花").

    Raises
    ------
    SchemaError
        If ``community_id`` (or a gaps column) is missing, or the catalogue is invalid.
    LayerError
        If ids repeat or a list column names an item not in the catalogue.
    ScenarioError
        If an option names an item not in the catalogue (the valid range is listed).

    Examples
    --------
    >>> comm = pd.DataFrame({"community_id": ["c1"], "households": [100], "needs": [(22,)],
    ...                      "deficient_items": [(4,)], "sound_items": [tuple(range(5, 20))]})
    >>> schemes, review = build_menu(comm)
    >>> schemes[["item", "menu", "cost_yuan"]].values.tolist()
    [[4, 'required', 120000.0], [22, 'requested', 150000.0]]
    >>> schemes["reason"].tolist()
    ['摸底排查存在问题（基础类，必选）', '居民申请（可选）']
    >>> review[["item", "decision"]].values.tolist()
    [[1, 'verify'], [2, 'verify'], [3, 'verify']]
    """
    options = options if options is not None else SchemeOptions()
    table = _catalogue(catalogue)
    if "community_id" not in communities.columns:
        raise SchemaError(
            "communities: column 'community_id' missing; read the layer with "
            "gisplan.read_layer (maps 小区编号) or add the column"
        )
    ids = communities["community_id"]
    dup = ids[ids.duplicated()].unique()
    if len(dup):
        raise LayerError(
            f"communities: community_id not unique: {', '.join(map(printable, dup[:10]))}; "
            "keep one row per community"
        )
    _check_option_items(options, table)
    known = {int(i) for i in table.index}
    surveys = _surveys(communities, known, _valid_range(table.index))
    gap_reasons = _gap_reasons(gaps, _gap_item_map(options, table, standard), known)
    sited = _sited(sites_chosen)
    included: list[dict[str, Any]] = []
    review: list[dict[str, Any]] = []
    for pos, survey in enumerate(surveys):
        for item, row in table.iterrows():
            entry = _menu_entry(
                int(item),  # type: ignore[call-overload]
                row,
                survey,
                options=options,
                gaps=gap_reasons.get((survey.cid, int(item)), []),  # type: ignore[call-overload]
                sited=sited,
            )
            if entry.listed:
                record = _menu_row(communities, pos, row, int(item), entry)  # type: ignore[call-overload]
                (included if entry.decision == "include" else review).append(record)
    schemes = _typed(included, _SCHEME_COLUMNS, ids)
    checked = _typed(review, _REVIEW_COLUMNS, ids)
    counts = schemes.groupby("community_id").size()
    logger.info(
        "schemes: %d communities, %d items in schemes (%s per scheme), %d to verify, "
        "%d kept out with a reason",
        len(ids),
        len(schemes),
        "–".join(str(int(v)) for v in (counts.min(), counts.max())) if len(counts) else "0",
        int((checked["decision"] == "verify").sum()),
        int((checked["decision"] == "exclude").sum()),
    )
    return schemes, checked


def build_schemes(
    communities: pd.DataFrame,
    *,
    catalogue: pd.DataFrame | None = None,
    gaps: pd.DataFrame | None = None,
    options: SchemeOptions | None = None,
    standard: pd.DataFrame | None = None,
    sites_chosen: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Return the items of each community's scheme (the first table of :func:`build_menu`).

    Examples
    --------
    >>> comm = pd.DataFrame({"community_id": ["c1"], "households": [100], "needs": [(4,)]})
    >>> s = build_schemes(comm, options=SchemeOptions(include=(13,)))
    >>> s[["item", "menu", "cost_yuan"]].values.tolist()
    [[4, 'requested', 120000.0], [13, 'forced', 30000.0]]
    """
    schemes, _ = build_menu(
        communities,
        catalogue=catalogue,
        gaps=gaps,
        options=options,
        standard=standard,
        sites_chosen=sites_chosen,
    )
    return schemes


# --------------------------------------------------------------------------- costs


def scheme_costs(schemes: pd.DataFrame, review: pd.DataFrame | None = None) -> pd.DataFrame:
    """Return the cost of each community's scheme, by class and in total.

    Items without a quantity (NaN cost) are left out of the sums and counted in
    ``n_unpriced``; ``note`` names them, so an incomplete total never passes unnoticed.

    Parameters
    ----------
    schemes
        Table from :func:`build_schemes` (the first of :func:`build_menu`).
    review
        The second table of :func:`build_menu`: adds ``n_verify`` (items 待核实) and
        ``verify_wan_yuan`` (their estimated cost, not in the total).

    Returns
    -------
    pandas.DataFrame
        One row per community (order of first appearance; with ``review``, the
        communities with no item decided yet follow, 0 items), RangeIndex: ``community_id,
        basic_yuan, complete_yuan, improve_yuan, cost_yuan, basic_wan_yuan,
        complete_wan_yuan, improve_wan_yuan, cost_wan_yuan`` (two decimals),
        ``floor_area_m2, cost_per_m2_yuan`` (NaN without floor area), ``n_items,
        n_unpriced, note``; with ``review`` also ``n_verify, verify_wan_yuan``.

    Raises
    ------
    SchemaError
        If a column of :func:`build_schemes` is missing.

    Examples
    --------
    >>> comm = pd.DataFrame({"community_id": ["c1"], "households": [100],
    ...                      "floor_area_m2": [8000.0]})
    >>> only = SchemeOptions(include=(4, 31), unsurveyed="include", classes=())
    >>> costs = scheme_costs(build_schemes(comm.assign(sound_items=[tuple(range(1, 20))]),
    ...                                    options=only))
    >>> cols = ["basic_wan_yuan", "improve_wan_yuan", "cost_wan_yuan", "cost_per_m2_yuan"]
    >>> costs[cols].to_numpy().tolist()
    [[12.0, 30.0, 42.0, 52.5]]
    """
    needed = ["community_id", "item", "class", "cost_yuan", "floor_area_m2"]
    missing = [c for c in needed if c not in schemes.columns]
    if missing:
        raise SchemaError(
            f"schemes: column(s) {', '.join(repr(c) for c in missing)} missing; pass the "
            "table returned by gisplan.catalogue.build_schemes"
        )
    rows: list[dict[str, Any]] = []
    parts = list(schemes.groupby("community_id", sort=False, dropna=False))
    if review is not None:  # nothing decided yet (all 待核实 or 不纳入) is a scheme of 0 items
        seen = set(schemes["community_id"])
        empty = schemes.iloc[0:0]
        parts += [(cid, empty) for cid in dict.fromkeys(review["community_id"]) if cid not in seen]
    for cid, part in parts:
        row: dict[str, Any] = {"community_id": cid}
        cost = part["cost_yuan"].astype("float64")
        for cls in CLASSES:
            row[f"{cls}_yuan"] = round(float(cost[part["class"] == cls].sum()), 2)
        row["cost_yuan"] = round(float(cost.sum()), 2)
        for cls in (*CLASSES, "cost"):
            key = f"{cls}_yuan"
            row[f"{cls}_wan_yuan"] = round(row[key] / 1e4, 2)
        area = pd.to_numeric(part["floor_area_m2"], errors="coerce").dropna()
        floor = float(area.iloc[0]) if len(area) else math.nan
        row["floor_area_m2"] = floor
        row["cost_per_m2_yuan"] = round(row["cost_yuan"] / floor, 2) if floor > 0 else math.nan
        row["n_items"] = len(part)
        unpriced = part.loc[cost.isna(), "item"].tolist()
        row["n_unpriced"] = len(unpriced)
        row["note"] = (
            f"未计价（缺少调查字段）：第{'、'.join(map(str, unpriced))}项"
            if unpriced
            else ("方案内容待核实（尚无确定的改造内容）" if part.empty else "")
        )
        rows.append(row)
    columns = [
        "community_id",
        *(f"{c}_yuan" for c in CLASSES),
        "cost_yuan",
        *(f"{c}_wan_yuan" for c in CLASSES),
        "cost_wan_yuan",
        "floor_area_m2",
        "cost_per_m2_yuan",
        "n_items",
        "n_unpriced",
        "note",
    ]
    out = pd.DataFrame.from_records(rows, columns=columns)
    for col in ("n_items", "n_unpriced"):
        out[col] = out[col].astype("int64")
    if review is not None:
        pending = review[review["decision"] == "verify"].groupby("community_id")
        ids = out["community_id"]
        out["n_verify"] = ids.map(pending.size()).fillna(0).astype("int64").to_numpy()
        money = pending["cost_yuan"].sum(min_count=1) / 1e4
        out["verify_wan_yuan"] = ids.map(money).fillna(0.0).round(2).to_numpy(float)
    result: pd.DataFrame = out
    return result
