"""One vocabulary: the Chinese label of every code and every result column, from data files.

Codes (``"government_led"``, ``"eligible"``, ``"basic"`` …) stay in data and in code; what a
planner or resident reads comes from two packaged tables, so one concept has one label
everywhere — sheet, CSV, map legend, popup, 公示 page and command line:

* ``gisplan/data/vocabulary.csv`` — ``domain, code, label_zh, colour, note``: financing modes,
  funding sources, payers, catalogue classes, eligibility statuses and rule outcomes, site
  kinds, facility groups, map themes, severities. :func:`labels` gives one domain as a
  read-only mapping in file order; :func:`colours` the map colours of a domain.
* ``gisplan/data/columns.csv`` — ``column, label_zh, unit, note``: the header of every result
  column, its unit written after it (``费用（万元）``); columns of an input layer take the
  label of the input schema (``layer_schema.csv``) when the layer is named. A column name
  means one thing: where two tables meant different things by one name, one of them was
  renamed. ``status_{year}`` style rows label columns made per year (a placeholder stands
  for digits).

Facility-type traits (group, icon, colour, catalogue items proposed for a gap) are columns of
the life-circle standard table instead (:mod:`gisplan.standards`).

The tables are read on first use, never at import.

Examples
--------
>>> gisplan.vocabulary.labels("financing_mode")["government_led"]
'政府引导的多元化投入'
>>> gisplan.vocabulary.column_label("cost_wan_yuan")
'费用（万元）'
>>> gisplan.vocabulary.column_label("status_2027")
'2027年状态'
"""

from __future__ import annotations

import csv
import functools
import re
from collections.abc import Iterator, Mapping
from importlib import resources

__all__ = ["DOMAINS", "codes", "colours", "column_label", "column_labels", "labels"]

#: The domains of ``vocabulary.csv``.
DOMAINS: tuple[str, ...] = (
    "financing_mode",
    "funding_source",
    "funding_status",
    "revenue_kind",
    "payer",
    "scheme_class",
    "eligibility_status",
    "eligibility_scope",
    "eligibility_condition",
    "rule_outcome",
    "site_kind",
    "facility_group",
    "gap_service",
    "menu_role",
    "scheme_decision",
    "map_theme",
    "severity",
    "data_status",
    "study_area_edge",
    "unit_kind",
    "life_circle_level",
    "radius_source",
    "cover_rule",
    "siting_model",
    "solver_status",
    "solve_method",
    "catalogue",
)

_PATTERN = re.compile(r"\{(\w+)\}")


def _rows(name: str) -> list[dict[str, str]]:
    text = resources.files("gisplan").joinpath("data").joinpath(name).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


@functools.cache
def _vocabulary() -> dict[str, dict[str, tuple[str, str]]]:
    """Domain → code → (label, colour), in file order."""
    out: dict[str, dict[str, tuple[str, str]]] = {d: {} for d in DOMAINS}
    for row in _rows("vocabulary.csv"):
        out[row["domain"]][row["code"]] = (row["label_zh"], row["colour"])
    return out


@functools.cache
def _columns() -> tuple[dict[str, str], tuple[tuple[re.Pattern[str], str], ...]]:
    """Column → header (label with its unit), and the per-year patterns."""
    fixed: dict[str, str] = {}
    patterns: list[tuple[re.Pattern[str], str]] = []
    for row in _rows("columns.csv"):
        header = f"{row['label_zh']}（{row['unit']}）" if row["unit"] else row["label_zh"]
        name = row["column"]
        parts = _PATTERN.split(name)  # literal, placeholder, literal, …
        if len(parts) == 1:
            fixed[name] = header
            continue
        regex = "".join(
            re.escape(part) if i % 2 == 0 else f"(?P<{part}>[0-9]+)" for i, part in enumerate(parts)
        )
        patterns.append((re.compile(f"^{regex}$"), header))
    return fixed, tuple(patterns)


def _domain(domain: str) -> dict[str, tuple[str, str]]:
    table = _vocabulary()
    if domain not in table:
        msg = f"vocabulary: unknown domain {domain!r}; use one of {', '.join(DOMAINS)}"
        raise KeyError(msg)
    return table[domain]


class _Labels(Mapping[str, str]):
    """Read-only code → label mapping of one domain, read from the table on first use."""

    __slots__ = ("_colour", "_domain")

    def __init__(self, domain: str, *, colour: bool = False) -> None:
        self._domain = domain
        self._colour = colour

    def _data(self) -> dict[str, str]:
        index = 1 if self._colour else 0
        return {code: pair[index] for code, pair in _domain(self._domain).items()}

    def __getitem__(self, code: str) -> str:
        return self._data()[code]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data())

    def __len__(self) -> int:
        return len(self._data())

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._domain!r})"


class _ColumnLabels(Mapping[str, str]):
    """Read-only column → header mapping of ``columns.csv`` (fixed names only)."""

    def __getitem__(self, column: str) -> str:
        return _columns()[0][column]

    def __iter__(self) -> Iterator[str]:
        return iter(_columns()[0])

    def __len__(self) -> int:
        return len(_columns()[0])


def labels(domain: str) -> Mapping[str, str]:
    """Return the code → Chinese label mapping of a vocabulary domain (in file order).

    The mapping reads the table on first use; it is safe to keep at module level.

    Raises
    ------
    KeyError
        On first use, if ``domain`` is not one of :data:`DOMAINS`.
    """
    return _Labels(domain)


def colours(domain: str) -> Mapping[str, str]:
    """Return the code → map colour (``#rrggbb``, or ``""``) mapping of a domain."""
    return _Labels(domain, colour=True)


def codes(domain: str) -> tuple[str, ...]:
    """Return the codes of a domain in file order."""
    return tuple(_domain(domain))


@functools.cache
def _layer_columns() -> dict[tuple[str, str], str]:
    """(input layer kind, column) → header, from the input schema (``layer_schema.csv``)."""
    out = {}
    for row in _rows("layer_schema.csv"):
        label, unit = row["label_zh"], row["unit"]
        shown = unit and unit not in {"%", "年"}  # rates are fractions; a year needs no unit
        out[row["kind"], row["column"]] = f"{label}（{unit}）" if shown else label
    return out


def column_label(column: str, *, layer: str | None = None) -> str:
    """Return the Chinese header of a column, with its unit; the name if unknown.

    Parameters
    ----------
    column
        A column name.
    layer
        The input layer kind the column belongs to (``facilities`` …): its own label from the
        input schema wins (``name`` is 设施名称 there, 小区名称 in result tables).

    Examples
    --------
    >>> gisplan.vocabulary.column_label("done_share_built_by_2000")
    '2000年前建成小区完成比例'
    >>> gisplan.vocabulary.column_label("name", layer="facilities")
    '设施名称'
    >>> gisplan.vocabulary.column_label("no_such_column")
    'no_such_column'
    """
    if layer is not None and (layer, column) in _layer_columns():
        return _layer_columns()[layer, column]
    fixed, patterns = _columns()
    if column in fixed:
        return fixed[column]
    for pattern, header in patterns:
        match = pattern.match(column)
        if match:
            return header.format(**match.groupdict())
    return column


def column_labels() -> Mapping[str, str]:
    """Return every fixed column → header pair of ``columns.csv`` (read-only)."""
    return _ColumnLabels()
