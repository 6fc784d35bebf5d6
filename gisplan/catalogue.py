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
from dataclasses import dataclass
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
from gisplan.vocabulary import codes, labels

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "CLASSES",
    "CLASSES_ZH",
    "COST_BASES",
    "DEFAULT_EXCLUDE",
    "PAYERS",
    "UTILITY_KINDS",
    "SchemeOptions",
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

#: Items no scheme takes unless asked (:attr:`SchemeOptions.exclude`): 28 增设电梯 and 30 抗震加固
#: need a building survey before they can be costed (our assumption, not a seed rule).
DEFAULT_EXCLUDE: tuple[int, ...] = (28, 30)

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
)
#: What an item may touch that a community flag protects: ``demolition`` (forbidden where
#: the community has historic buildings, 历史建筑) and ``trees`` (noted where it has old and
#: famous trees, 古树名木: 严禁…砍伐老树, MOHURD 2021 底线(二); Linxia 六(四)).
AFFECTS: tuple[str, ...] = ("demolition", "trees")
#: Packaged catalogues by seed city (file in ``gisplan/data``); see ``CATALOGUE_NOTE.md``.
PACKAGED_CATALOGUES: dict[str, str] = {
    "linyi": "renovation_catalogue.csv",
    "linxia": "renovation_catalogue_linxia.csv",
    "tongnan": "renovation_catalogue_tongnan.csv",
    "national": "renovation_catalogue_national.csv",
}
_COLUMNS = REQUIRED_COLUMNS[1:] + OPTIONAL_COLUMNS
_TRUE = frozenset({"yes", "true", "是", "1"})
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
    elif column in {"safety", "heating_zone_only"} and text.lower() not in _TRUE | _FALSE:
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
    for col in ("safety", "heating_zone_only"):
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
        Items taken out of every scheme, whatever proposed them. Default ``(28, 30)``:
        lifts (增设电梯, "有条件的") and seismic retrofit (抗震加固) need a building survey
        before they can be costed — our assumption, not a seed rule; a community's ``needs``
        asking for an excluded item is logged, not silently dropped. To include one, pass
        ``exclude=()`` (or the items to keep out) with it.
    classes
        Classes whose every item enters each scheme (default basic + complete, the "必选"
        floor of a typical scheme); ``()`` keeps only needs, gaps and forced items.
    gap_items
        Facility code of the life-circle standard → items proposed when that type is not
        covered. Default ``None``: the items of the catalogue whose ``gap_service`` is the
        type's (the standards table's ``gap_service`` column: 养老 types → the catalogue's
        养老 items, 托育 → 抚幼 …), whatever the catalogue's numbering.

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
    exclude: tuple[int, ...] = DEFAULT_EXCLUDE
    classes: tuple[str, ...] = ("basic", "complete")
    gap_items: Mapping[str, tuple[int, ...]] | None = None

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
                    (
                        "keep each item in one list (28 and 30 are excluded by default: set "
                        "exclude to the items to keep out, e.g. [] or [30])"
                    ),
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
        if v not in known and not (key == "exclude" and options.exclude == DEFAULT_EXCLUDE)
    ]  # the default exclusion names Linyi items: another catalogue may lack them
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


def _community_needs(communities: pd.DataFrame, known: set[int], valid: str) -> list[list[int]]:
    if "needs" not in communities.columns:
        return [[] for _ in range(len(communities))]
    out: list[list[int]] = []
    problems: list[str] = []
    for cid, cell in zip(communities["community_id"], communities["needs"], strict=True):
        items: list[int] = []
        for v in _needs(cell):
            if _is_item(v) and int(v) in known:  # type: ignore[call-overload]
                items.append(int(v))  # type: ignore[call-overload]
            else:
                problems.append(f"community {printable(cid)}: need {printable(v)}")
        out.append(items)
    if problems:
        raise LayerError(
            "communities: column 'needs' names items not in the catalogue: "
            + "; ".join(problems[:10])
            + (f" and {len(problems) - 10} more" if len(problems) > 10 else "")  # noqa: PLR2004
            + f"; valid items: {valid}"
        )
    return out


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


def _gap_reasons(
    gaps: pd.DataFrame | None, gap_items: Mapping[str, tuple[int, ...]], known: set[int]
) -> dict[tuple[object, int], list[str]]:
    """Return ``(community_id, item) -> reasons`` for uncovered gap types."""
    if gaps is None:
        return {}
    missing = [c for c in ("community_id", "type", "covered") if c not in gaps.columns]
    if missing:
        raise SchemaError(
            f"gaps: column(s) {', '.join(repr(c) for c in missing)} missing; pass the table "
            "returned by gisplan.gaps.gap_table (community_id, type, covered)"
        )
    out: dict[tuple[object, int], list[str]] = {}
    covered = gaps["covered"].astype("boolean")
    for pos in np.flatnonzero((covered == False).fillna(value=False).to_numpy()):  # noqa: E712
        row = gaps.iloc[pos]
        code = str(row["type"])
        items = tuple(i for i in gap_items.get(code, ()) if i in known)
        if not items:
            continue
        label = cell_text(row["type_zh"]) if "type_zh" in gaps.columns else ""
        radius = pd.to_numeric(pd.Series([row.get("radius_m")]), errors="coerce").iloc[0]
        text = f"life-circle gap: {label or code} not within " + (
            f"{radius:g} m" if pd.notna(radius) else "reach"
        )
        for item in items:
            reasons = out.setdefault((row["community_id"], item), [])
            if text not in reasons:
                reasons.append(text)
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


def _item_reasons(
    cid: object,
    needs: list[int],
    by_class: dict[str, list[int]],
    gap_reasons: dict[tuple[object, int], list[str]],
    include: tuple[int, ...],
) -> dict[int, list[str]]:
    """Return ``item -> reasons`` for one community, in the order needs, class, gap, forced."""
    reasons: dict[int, list[str]] = {}
    for item in needs:
        reasons.setdefault(item, []).append("needs list")
    for cls, items in by_class.items():
        for item in items:
            reasons.setdefault(item, []).append(f"{cls} class")
    for (gid, item), texts in gap_reasons.items():
        if gid == cid:
            reasons.setdefault(item, []).extend(texts)
    for item in include:
        reasons.setdefault(item, []).append("forced in")
    return reasons


def _scheme_row(
    communities: pd.DataFrame, pos: int, row: pd.Series[Any], item: int, reasons: list[str]
) -> dict[str, Any]:
    """Return one scheme row: quantity from the survey field, cost, reasons."""
    quantity_field = str(row["quantity_field"])
    quantity = _survey_value(communities, pos, quantity_field)
    texts = list(dict.fromkeys(reasons))
    if math.isnan(quantity):
        texts.append(f"quantity unknown: survey field {quantity_field} missing")
    cost = quantity * float(row["unit_cost_yuan"])
    return {
        "community_id": communities["community_id"].iloc[pos],
        "item": item,
        "class": row["class"],
        "name_zh": row["name_zh"],
        "quantity": quantity,
        "unit": COST_BASES[str(row["cost_basis"])][1],
        "unit_cost_yuan": float(row["unit_cost_yuan"]),
        "cost_yuan": round(cost, 2) if not math.isnan(cost) else math.nan,
        "cost_wan_yuan": round(cost / 1e4, 2) if not math.isnan(cost) else math.nan,
        "payer": row["payer"],
        "safety": bool(row["safety"]),
        "floor_area_m2": _survey_value(communities, pos, "floor_area_m2"),
        "reason": "; ".join(texts),
    }


def build_schemes(
    communities: pd.DataFrame,
    *,
    catalogue: pd.DataFrame | None = None,
    gaps: pd.DataFrame | None = None,
    options: SchemeOptions | None = None,
    standard: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Return one scheme per community (一小区一方案): one row per community x item.

    An item enters a community's scheme when it is in the community's ``needs`` list
    (reason ``"needs list"``), belongs to one of ``options.classes`` (``"basic class"``,
    ``"complete class"``, ...), answers an uncovered life-circle type in ``gaps``
    (``"life-circle gap: 幼儿园 not within 300 m"``) or is in ``options.include``
    (``"forced in"``); several reasons are joined with ``"; "``. Items in
    ``options.exclude`` are dropped. Quantity comes from the item's ``quantity_field``
    (``floor_area_m2``, ``households``, ``buildings``, or e.g. ``lift_units``); a lump sum
    counts 1. A missing field or cell gives a NaN quantity and cost, and the reason says
    which survey field is missing — never a silent 0.

    Parameters
    ----------
    communities
        ``community_id`` (unique); optional ``needs`` (tuple of item numbers, or text such
        as ``"1、2、12"``), ``floor_area_m2``, ``households``, ``buildings`` and any
        ``quantity_field`` of the catalogue.
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

    Returns
    -------
    pandas.DataFrame
        RangeIndex; columns ``community_id, item, class, name_zh, quantity, unit,
        unit_cost_yuan, cost_yuan, cost_wan_yuan, payer, safety, floor_area_m2, reason``.
        Communities in input order; within one, basic → complete → improve, then item
        ("先雪中送炭、再锦上添花").

    Raises
    ------
    SchemaError
        If ``community_id`` (or a gaps column) is missing, or the catalogue is invalid.
    LayerError
        If ids repeat or a ``needs`` list names an item not in the catalogue.
    ScenarioError
        If an option names an item not in the catalogue (the valid range is listed).

    Examples
    --------
    >>> comm = pd.DataFrame({"community_id": ["c1"], "households": [100], "needs": [(4,)]})
    >>> s = build_schemes(comm, options=SchemeOptions(classes=(), include=(13,)))
    >>> s[["item", "quantity", "cost_yuan", "reason"]].values.tolist()
    [[4, 100.0, 120000.0, 'needs list'], [13, 1.0, 30000.0, 'forced in']]
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
    needs = _community_needs(communities, known, _valid_range(table.index))
    gap_reasons = _gap_reasons(gaps, _gap_item_map(options, table, standard), known)
    by_class = {c: [int(i) for i in table.index[table["class"] == c]] for c in options.classes}
    records: list[dict[str, Any]] = []
    asked = {
        i: [str(c) for c, n in zip(ids, needs, strict=True) if i in n] for i in options.exclude
    }
    for item, who in asked.items():
        if who:
            logger.info(
                "schemes: item %d is excluded (schemes.exclude) though %d communities ask for "
                "it in their needs: %s",
                item,
                len(who),
                ", ".join(who[:10]),
            )
    for pos, cid in enumerate(ids):
        reasons = _item_reasons(cid, needs[pos], by_class, gap_reasons, options.include)
        records.extend(
            _scheme_row(communities, pos, table.loc[item], int(item), reasons[item])
            for item in table.index
            if item in reasons and item not in options.exclude
        )
    out = pd.DataFrame.from_records(records, columns=_SCHEME_COLUMNS)
    if not records:
        out["community_id"] = out["community_id"].astype(ids.dtype)
    out["item"] = out["item"].astype("int64")
    for col in ("quantity", "unit_cost_yuan", "cost_yuan", "cost_wan_yuan", "floor_area_m2"):
        out[col] = out[col].astype("float64")
    out["safety"] = out["safety"].astype(bool)
    logger.info(
        "schemes: %d communities, %d items, %d without quantity",
        len(ids),
        len(out),
        int(out["quantity"].isna().sum()),
    )
    result: pd.DataFrame = out
    return result


# --------------------------------------------------------------------------- costs


def scheme_costs(schemes: pd.DataFrame) -> pd.DataFrame:
    """Return the cost of each community's scheme, by class and in total.

    Items without a quantity (NaN cost) are left out of the sums and counted in
    ``n_unpriced``; ``note`` names them, so an incomplete total never passes unnoticed.

    Parameters
    ----------
    schemes
        Table from :func:`build_schemes`.

    Returns
    -------
    pandas.DataFrame
        One row per community (order of first appearance), RangeIndex: ``community_id,
        basic_yuan, complete_yuan, improve_yuan, cost_yuan, basic_wan_yuan,
        complete_wan_yuan, improve_wan_yuan, cost_wan_yuan`` (two decimals),
        ``floor_area_m2, cost_per_m2_yuan`` (NaN without floor area), ``n_items,
        n_unpriced, note``.

    Raises
    ------
    SchemaError
        If a column of :func:`build_schemes` is missing.

    Examples
    --------
    >>> comm = pd.DataFrame({"community_id": ["c1"], "households": [100],
    ...                      "floor_area_m2": [8000.0]})
    >>> costs = scheme_costs(build_schemes(comm, options=SchemeOptions(include=(4, 31),
    ...                                                                 classes=())))
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
    for cid, part in schemes.groupby("community_id", sort=False, dropna=False):
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
            f"unpriced (survey field missing): items {', '.join(map(str, unpriced))}"
            if unpriced
            else ""
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
    result: pd.DataFrame = out
    return result
