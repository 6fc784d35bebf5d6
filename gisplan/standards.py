"""Life-circle standards (生活圈): facility types, their levels, service radii and OSM tags.

The packaged table ``gisplan/data/life_circle_standard.csv`` holds one row per facility type
(GB 50180-2018, TD/T 1062-2021; see ``gisplan/data/LIFE_CIRCLE_NOTE.md``: most rows are
**unverified**). A city may supply its own table with the same columns; it is checked with
:func:`validate_standard` and every problem is reported at once.

Walking distances per level are parameters (:class:`LevelDistances`), never literals: a row
without ``service_radius_m`` falls back to its level's distance.
"""

from __future__ import annotations

import difflib
import functools
import logging
import math
import re
import warnings
from dataclasses import dataclass, fields
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from gisplan._text import cell_text, printable, read_text_table
from gisplan.errors import GisplanWarning, StandardsError
from gisplan.validation import ValidationReport
from gisplan.vocabulary import codes

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

__all__ = [
    "GROUPS",
    "LEVELS",
    "TRAIT_COLUMNS",
    "LevelDistances",
    "OsmRule",
    "facility_codes",
    "gap_services",
    "group_codes",
    "load_osm_rules",
    "load_standard",
    "match_osm",
    "osm_matcher",
    "osm_rules",
    "osm_tag_keys",
    "resolve_type",
    "short_name",
    "standard_table",
    "suggest_codes",
    "validate_standard",
]

logger = logging.getLogger(__name__)

#: Life-circle levels, largest first (GB 50180-2018 Table 3.0.4; 居住街坊 = ``neighbourhood``).
LEVELS: tuple[str, ...] = ("15min", "10min", "5min", "neighbourhood")

#: Columns a standards table must have.
REQUIRED_COLUMNS: tuple[str, ...] = ("facility_code", "name_zh", "level", "service_radius_m")
#: Columns that may be left out (filled with empty text, ``verified`` with ``False``; the
#: facility traits of :data:`TRAIT_COLUMNS` from the packaged table, for its codes).
OPTIONAL_COLUMNS: tuple[str, ...] = (
    "osm_tags",
    "source",
    "verified",
    "note",
    "group",
    "icon",
    "colour",
    "gap_service",
)
#: Facility traits, one place for them all: ``group`` (``elderly`` 一老 / ``children`` 一小:
#: weighted up in the gap score, weighted by elderly residents or children when siting;
#: ``administrative``: one per 街道, noted in the gap table; see the ``facility_group``
#: domain of :mod:`gisplan.vocabulary`), ``icon`` and ``colour`` (Font Awesome icon and
#: marker colour on maps) and ``gap_service`` (the service a gap of the type calls for —
#: ``gap_service`` domain of :mod:`gisplan.vocabulary`; a catalogue's items of that service
#: are proposed for the gap, whatever the catalogue's numbering).
TRAIT_COLUMNS: tuple[str, ...] = ("group", "icon", "colour", "gap_service")
#: Values of the ``group`` column.
GROUPS: tuple[str, ...] = ("elderly", "children", "administrative")
#: Columns :func:`load_standard` adds (ignored when a loaded table is validated again).
DERIVED_COLUMNS: tuple[str, ...] = ("radius_m", "radius_source")

_TRUE = frozenset({"yes", "true", "是"})
_FALSE = frozenset({"no", "false", "否"})
_TEXT_COLUMNS = (
    "name_zh",
    "level",
    "osm_tags",
    "source",
    "note",
    "group",
    "icon",
    "colour",
    "gap_service",
)
_PACKAGED = "life_circle_standard.csv"
_PACKAGED_OSM_RULES = "osm_rules.csv"
#: Actions of the OSM review rules (``osm_rules.csv``).
OSM_RULE_ACTIONS: tuple[str, ...] = ("type", "exclude", "not_community")

#: One parsed OSM condition: ``(key, op, value)`` with ``op`` ``"="`` (equal) or ``"~"`` (regex).
OsmCondition = tuple[str, str, str]


def _positive(value: object) -> bool:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value > 0
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class LevelDistances:
    """Walking distance (metres) per life-circle level, used when a row has no radius.

    Defaults follow LIFE_CIRCLE.md §2: 15-min 1000 m (800 m strict variant), 10-min 500 m,
    5-min 300 m; the neighbourhood (居住街坊) 300 m is a project assumption, not a standard figure.

    Parameters
    ----------
    min15_m, min15_strict_m, min10_m, min5_m, neighbourhood_m
        Distances in metres, each finite and > 0.

    Examples
    --------
    >>> LevelDistances().for_level("10min")
    500.0
    >>> LevelDistances(min15_m=800.0).for_level("15min")
    800.0
    """

    min15_m: float = 1000.0
    min15_strict_m: float = 800.0
    min10_m: float = 500.0
    min5_m: float = 300.0
    neighbourhood_m: float = 300.0

    def __post_init__(self) -> None:
        """Check that every distance is a finite positive number."""
        bad = [
            f"{f.name}={getattr(self, f.name)!r}"
            for f in fields(self)
            if not _positive(getattr(self, f.name))
        ]
        if bad:
            raise StandardsError(
                f"LevelDistances: {', '.join(bad)}; every distance must be a number of metres > 0"
            )

    def for_level(self, level: str) -> float:
        """Return the walking distance of ``level`` (one of :data:`LEVELS`).

        Raises
        ------
        StandardsError
            If ``level`` is not a known level.
        """
        distances = {
            "15min": self.min15_m,
            "10min": self.min10_m,
            "5min": self.min5_m,
            "neighbourhood": self.neighbourhood_m,
        }
        try:
            return float(distances[level])
        except KeyError:
            raise StandardsError(
                f"unknown life-circle level {level!r}; use one of {', '.join(LEVELS)}"
            ) from None


_DEFAULT_LEVELS = LevelDistances()


# --------------------------------------------------------------------------- OSM tag rules


def _parse_osm_tags(text: str) -> list[list[OsmCondition]]:
    """Parse an ``osm_tags`` cell: ``;`` separates alternatives, ``+`` joins conditions.

    Raises
    ------
    ValueError
        On a condition without ``=``/``~``, an empty key or value, or a bad regex.
    """
    alternatives: list[list[OsmCondition]] = []
    for alt_text in text.split(";"):
        if not alt_text.strip():
            continue
        conditions: list[OsmCondition] = []
        for cond_text in alt_text.split("+"):
            cond = cond_text.strip()
            positions = [i for i in (cond.find("="), cond.find("~")) if i >= 0]
            if not positions:
                raise ValueError(f"condition {cond!r} has neither '=' nor '~'")
            i = min(positions)
            key, op, value = cond[:i].strip(), cond[i], cond[i + 1 :].strip()
            if not key or not value:
                raise ValueError(f"condition {cond!r} needs a key and a value")
            if op == "~":
                try:
                    re.compile(value)
                except re.error as err:
                    raise ValueError(f"condition {cond!r}: bad regular expression ({err})") from err
            conditions.append((key, op, value))
        alternatives.append(conditions)
    return alternatives


@functools.lru_cache(maxsize=32)
def _sorted_rules(
    key: tuple[tuple[str, str], ...],
) -> tuple[tuple[str, tuple[tuple[str, str, str | re.Pattern[str]], ...]], ...]:
    """Compile rules (code, osm_tags pairs): most conditions first, then table order."""
    flat: list[tuple[str, list[OsmCondition]]] = []
    for code, text in key:
        flat.extend((code, alt) for alt in _parse_osm_tags(text))
    order = sorted(range(len(flat)), key=lambda i: (-len(flat[i][1]), i))
    return tuple(
        (
            flat[i][0],
            tuple((k, op, re.compile(v) if op == "~" else v) for k, op, v in flat[i][1]),
        )
        for i in order
    )


def _rule_key(table: pd.DataFrame) -> tuple[tuple[str, str], ...]:
    tags = table["osm_tags"] if "osm_tags" in table.columns else pd.Series("", index=table.index)
    return tuple(
        (str(code), "" if pd.isna(text) else str(text))
        for code, text in zip(table.index, tags, strict=True)
    )


def osm_rules(table: pd.DataFrame | None = None) -> list[tuple[str, list[tuple[str, str, str]]]]:
    """Return the parsed ``osm_tags`` rules, one entry per alternative, in table order.

    Each entry is ``(facility_code, conditions)``; a code with several ``;``-separated
    alternatives appears several times. A condition is ``(key, op, value)`` with ``op``
    ``"="`` (the tag equals ``value``) or ``"~"`` (``value`` is a regex searched in the tag).

    Parameters
    ----------
    table
        A table from :func:`load_standard`; ``None`` uses the packaged table.

    Returns
    -------
    list of (str, list of (str, str, str))

    Raises
    ------
    StandardsError
        If an ``osm_tags`` cell cannot be parsed.

    Examples
    --------
    >>> [r for r in osm_rules() if r[0] == "primary_school"]  # doctest: +NORMALIZE_WHITESPACE
    [('primary_school', [('amenity', '=', 'school'), ('isced:level', '=', '1')]),
     ('primary_school', [('amenity', '=', 'school'), ('name', '~', '小学')])]
    """
    try:
        return [
            (code, alt) for code, text in _rule_key(_table(table)) for alt in _parse_osm_tags(text)
        ]
    except ValueError as err:
        raise StandardsError(f"osm_tags cannot be parsed: {err}") from err


def _condition_holds(tags: Mapping[str, str], key: str, value: str | re.Pattern[str]) -> bool:
    found = tags.get(key)
    if found is None:
        return False
    if isinstance(value, re.Pattern):
        return value.search(found) is not None
    return found == value or value in (part.strip() for part in found.split(";"))


def _index_rules(
    rules: tuple[tuple[str, tuple[tuple[str, str, str | re.Pattern[str]], ...]], ...],
) -> tuple[dict[tuple[str, str], list[int]], dict[str, list[int]]]:
    """Index rule ranks by their first condition: ``(key, value)`` for ``=``, key for ``~``."""
    by_value: dict[tuple[str, str], list[int]] = {}
    by_key: dict[str, list[int]] = {}
    for rank, (_, conditions) in enumerate(rules):
        if conditions:
            key, op, value = conditions[0]
            if op == "=":
                by_value.setdefault((key, str(value)), []).append(rank)
            else:
                by_key.setdefault(key, []).append(rank)
    return by_value, by_key


@dataclass(frozen=True, slots=True)
class OsmRule:
    """One row of the packaged OSM review rules (``gisplan/data/osm_rules.csv``).

    Attributes
    ----------
    rule_id
        Short name, used in log lines.
    action
        ``type``: objects matching ``osm_tags`` are of facility type ``codes[0]``;
        ``exclude``: facilities of one of ``codes`` are dropped when they match;
        ``not_community``: residential landuse/buildings that match are no 小区.
    codes
        Facility codes the rule gives (``type``) or applies to (``exclude``).
    osm_tags
        Conditions on the object's own tags, as in the standard's ``osm_tags`` column
        (empty: any object).
    within
        Conditions on an area the object lies in (empty: no area needed).
    unless_within
        Conditions on an area that, when the object lies in one, cancels the rule.
    note
        Why: OSM practice in China and its source.
    """

    rule_id: str
    action: str
    codes: tuple[str, ...]
    osm_tags: str
    within: str
    unless_within: str
    note: str

    def tags_match(self, tags: Mapping[str, str]) -> bool:
        """Return whether ``tags`` meet :attr:`osm_tags` (always true when it is empty)."""
        return _alternatives_hold(tags, self.osm_tags)


def _alternatives_hold(tags: Mapping[str, str], text: str) -> bool:
    """Return whether ``tags`` meet one alternative of an ``osm_tags``-style cell (or none)."""
    alternatives = _compiled_alternatives(text)
    if not alternatives:
        return True
    return any(all(_condition_holds(tags, k, v) for k, v in alt) for alt in alternatives)


@functools.lru_cache(maxsize=64)
def _compiled_alternatives(
    text: str,
) -> tuple[tuple[tuple[str, str | re.Pattern[str]], ...], ...]:
    return tuple(
        tuple((k, re.compile(v) if op == "~" else v) for k, op, v in alt)
        for alt in _parse_osm_tags(text)
    )


def osm_tag_keys(text: str) -> set[str]:
    """Return the tag keys an ``osm_tags``-style cell reads."""
    return {k for alt in _parse_osm_tags(text) for k, _, _ in alt}


@functools.lru_cache(maxsize=1)
def load_osm_rules() -> tuple[OsmRule, ...]:
    """Return the packaged OSM review rules, in table order.

    Each rule is one row of ``gisplan/data/osm_rules.csv`` with a note saying why: name
    patterns for 社区卫生服务中心/站 and 公交场站, parking not open to residents, dormitories and
    campus housing that are no 小区, school and campus pitches. :func:`osm_matcher` applies
    the ``type`` rules; :mod:`gisplan.osm` the others.

    Returns
    -------
    tuple of OsmRule

    Raises
    ------
    StandardsError
        If the packaged table is damaged (unknown action, unparseable conditions).

    Examples
    --------
    >>> [r.rule_id for r in load_osm_rules() if r.action == "not_community"]
    ['dormitory', 'student_housing_by_name', 'campus_buildings']
    """
    with resources.as_file(resources.files("gisplan") / "data" / _PACKAGED_OSM_RULES) as path:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    rules: list[OsmRule] = []
    problems: list[str] = []
    for row in raw.itertuples(index=False):
        rule = OsmRule(
            rule_id=str(row.rule_id),
            action=str(row.action),
            codes=tuple(c.strip() for c in str(row.facility_code).split("|") if c.strip()),
            osm_tags=str(row.osm_tags),
            within=str(row.within),
            unless_within=str(row.unless_within),
            note=str(row.note),
        )
        if rule.action not in OSM_RULE_ACTIONS:
            problems.append(f"{rule.rule_id}: action {rule.action!r} not one of {OSM_RULE_ACTIONS}")
        if rule.action != "not_community" and not rule.codes:
            problems.append(f"{rule.rule_id}: facility_code needed for action {rule.action}")
        for column in ("osm_tags", "within", "unless_within"):
            try:
                _parse_osm_tags(getattr(rule, column))
            except ValueError as err:  # noqa: PERF203 - a few rows, read once
                problems.append(f"{rule.rule_id}: {column}: {err}")
        rules.append(rule)
    if problems:  # pragma: no cover - guarded by tests of the packaged table
        raise StandardsError(
            f"packaged {_PACKAGED_OSM_RULES} is broken: {'; '.join(problems)}; reinstall gisplan"
        )
    return tuple(rules)


def osm_matcher(
    table: pd.DataFrame | None = None, *, review_rules: bool = True
) -> Callable[[Mapping[str, str]], str | None]:
    """Return a function ``tags -> facility code or None`` with the rules parsed once.

    Use it when matching many OSM objects (an extract has millions): the rules of ``table``
    are parsed, ordered (see :func:`match_osm`) and indexed by tag key a single time, and
    each object is tested only against the rules whose first key it carries.

    With ``review_rules`` the ``type`` rules of the packaged OSM review table
    (:func:`load_osm_rules`) come first, for the codes ``table`` has: on a tie in the number
    of conditions they win over the table's own rules.

    Raises
    ------
    StandardsError
        If an ``osm_tags`` cell cannot be parsed.

    Examples
    --------
    >>> match = osm_matcher()
    >>> match({"amenity": "kindergarten"}), match({"highway": "footway"})
    ('kindergarten', None)
    """
    try:
        standard = _table(table)
        review = tuple(
            (code, rule.osm_tags)
            for rule in (load_osm_rules() if review_rules else ())
            if rule.action == "type"
            for code in rule.codes
            if code in standard.index
        )
        rules = _sorted_rules(review + _rule_key(standard))
    except ValueError as err:
        raise StandardsError(f"osm_tags cannot be parsed: {err}") from err
    by_value, by_key = _index_rules(rules)

    def match(tags: Mapping[str, str]) -> str | None:
        candidates: set[int] = set()
        for key, value in tags.items():
            candidates.update(by_key.get(key, ()))
            candidates.update(by_value.get((key, value), ()))
            if ";" in value:  # "amenity=school;kindergarten" matches either part
                for part in value.split(";"):
                    candidates.update(by_value.get((key, part.strip()), ()))
        for rank in sorted(candidates):
            code, conditions = rules[rank]
            if all(_condition_holds(tags, k, v) for k, _, v in conditions):
                return code
        return None

    return match


def match_osm(
    tags: Mapping[str, str], table: pd.DataFrame | None = None, *, review_rules: bool = True
) -> str | None:
    """Return the facility code whose OSM rule matches ``tags``, or ``None``.

    Rules with more conditions are tried first, across the whole table, so that
    ``amenity=school + name~小学`` wins over a plain one-tag rule; ties go to table order
    (deterministic). ``=`` also matches one part of a ``;``-joined tag value
    (``amenity=school;kindergarten``); ``~`` searches the regex anywhere in the value.
    For many objects use :func:`osm_matcher`, which parses the rules once.

    Parameters
    ----------
    tags
        OSM tags of one object.
    table
        A table from :func:`load_standard`; ``None`` uses the packaged table.
    review_rules
        Apply the ``type`` rules of :func:`load_osm_rules` first (see :func:`osm_matcher`).

    Returns
    -------
    str or None

    Examples
    --------
    >>> match_osm({"amenity": "school", "name": "北京市海淀区第二实验小学"})
    'primary_school'
    >>> match_osm({"amenity": "school", "name": "清华附小"}) is None  # no rule for bare schools
    True
    >>> match_osm({"amenity": "kindergarten", "name": "阳光托儿所"})
    'nursery'
    """
    return osm_matcher(table, review_rules=review_rules)(tags)


# --------------------------------------------------------------------------- validation


def _as_columns(df: pd.DataFrame) -> pd.DataFrame:
    """Return ``df`` with ``facility_code`` as a column (a loaded table has it as index)."""
    if "facility_code" not in df.columns and df.index.name == "facility_code":
        reset: pd.DataFrame = df.reset_index()
        return reset
    return df


def _check_columns(df: pd.DataFrame, name: str, report: ValidationReport) -> None:
    known = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
    for col in REQUIRED_COLUMNS:
        if col not in df.columns:
            report.add(
                name,
                f"required column '{col}' is missing",
                f"add a '{col}' column (columns: {', '.join(known)})",
                column=col,
            )
    for col in df.columns:
        if col not in known + DERIVED_COLUMNS:
            report.add(
                name,
                f"column '{printable(col)}' is not used",
                "rename it to a known column or remove it",
                severity="warning",
                column=printable(col),
            )
    if "verified" not in df.columns:
        report.add(
            name,
            "no 'verified' column: every row is treated as unverified",
            "add a 'verified' column with yes/no",
            severity="warning",
            column="verified",
        )


def _trait_problem(column: str, text: str) -> tuple[str, str] | None:
    """Return ``(problem, fix)`` for a facility-trait cell, or ``None`` if it is fine."""
    if column == "group" and text and text not in GROUPS:
        return f"unknown group '{text}'", f"use one of {', '.join(GROUPS)}, or leave it empty"
    services = codes("gap_service")
    if column == "gap_service" and text and text not in services:
        return (
            f"unknown gap_service '{text}'",
            f"use one of {', '.join(services)}, or leave it empty",
        )
    return None


def _cell_problem(column: str, text: str) -> tuple[str, str] | None:
    """Return ``(problem, fix)`` for one cell of a standards table, or ``None`` if it is fine."""
    if column in TRAIT_COLUMNS:
        return _trait_problem(column, text)
    if column == "level" and text not in LEVELS:
        close = difflib.get_close_matches(text, LEVELS, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        return f"unknown level '{text}'{hint}", f"use one of {', '.join(LEVELS)}"
    if column == "service_radius_m" and text:
        try:
            ok = _positive(float(text))
        except ValueError:
            ok = False
        if not ok:
            return (
                f"service_radius_m '{text}' is not a number of metres > 0",
                "write a positive number, or leave it empty to use the level distance",
            )
    if column == "verified" and text.lower() not in _TRUE | _FALSE:
        return (
            f"verified '{text}' is not yes/no",
            "write yes (checked against the standard text) or no",
        )
    if column == "osm_tags":
        try:
            _parse_osm_tags(text)
        except ValueError as err:
            return (
                f"osm_tags: {err}",
                "write key=value or key~regex, '+' to join, ';' between alternatives",
            )
    return None


def validate_standard(df: pd.DataFrame, *, name: str = "standards") -> ValidationReport:
    """Check a standards table and return every problem found.

    Checks: required columns (``facility_code, name_zh, level, service_radius_m``); codes
    present and unique (case-insensitive); ``level`` one of :data:`LEVELS`; radius empty or a
    number > 0; ``verified`` one of yes/no/true/false (是/否); ``osm_tags`` parseable. Rows
    are named ``row N (code)``, counting data rows from 1 (the CSV header is not a row).

    Parameters
    ----------
    df
        Raw table (text cells) or a table from :func:`load_standard`.
    name
        Label of the table in the report (file name).

    Returns
    -------
    ValidationReport

    Examples
    --------
    >>> raw = pd.DataFrame({"facility_code": ["a", "a"], "name_zh": ["甲", "乙"],
    ...                     "level": ["5min", "5 min"], "service_radius_m": ["300", "-1"]})
    >>> [(i.row, i.column) for i in validate_standard(raw).errors]
    [('row 2 (a)', 'facility_code'), ('row 2 (a)', 'level'), ('row 2 (a)', 'service_radius_m')]
    """
    report = ValidationReport()
    df = _as_columns(df)
    _check_columns(df, name, report)
    cells = ("level", "service_radius_m", "verified", "osm_tags", "group", "gap_service")
    checked = [c for c in cells if c in df.columns]
    has_code = "facility_code" in df.columns
    seen: dict[str, int] = {}
    for n, row in enumerate(df.to_dict("records"), start=1):
        code = cell_text(row["facility_code"]) if has_code else ""
        where = f"row {n} ({printable(code)})" if code else f"row {n}"
        if has_code and not code:
            report.add(
                name,
                "facility_code is empty",
                "give the row a unique code",
                row=where,
                column="facility_code",
            )
        elif has_code and code.lower() in seen:
            report.add(
                name,
                f"duplicate facility_code '{printable(code)}' (rows {seen[code.lower()]} and {n})",
                "keep one row per facility type",
                row=where,
                column="facility_code",
            )
        elif has_code:
            seen[code.lower()] = n
        for column in checked:
            found = _cell_problem(column, cell_text(row[column]))
            if found is not None:
                report.add(name, printable(found[0]), found[1], row=where, column=column)
    return report


# --------------------------------------------------------------------------- loading


def _build(raw: pd.DataFrame, levels: LevelDistances) -> pd.DataFrame:
    """Turn a validated raw table (text cells) into the typed standards table."""
    raw = _as_columns(raw)
    out = pd.DataFrame(
        index=pd.Index([cell_text(c) for c in raw["facility_code"]], name="facility_code")
    )
    for col in _TEXT_COLUMNS:
        values = raw[col] if col in raw.columns else [""] * len(raw)
        out[col] = [cell_text(v) for v in values]
    out["service_radius_m"] = [
        float(t) if (t := cell_text(v)) else math.nan for v in raw["service_radius_m"]
    ]
    flags = raw["verified"] if "verified" in raw.columns else ["no"] * len(raw)
    out["verified"] = [cell_text(v).lower() in _TRUE for v in flags]
    has_radius = out["service_radius_m"].notna()
    fallback = [levels.for_level(lvl) for lvl in out["level"]]
    out["radius_m"] = out["service_radius_m"].where(
        has_radius, pd.Series(fallback, index=out.index)
    )
    out["radius_source"] = ["standard" if h else "level" for h in has_radius]
    columns = [
        "name_zh",
        "level",
        "service_radius_m",
        "osm_tags",
        "source",
        "verified",
        "note",
        *TRAIT_COLUMNS,
        "radius_m",
        "radius_source",
    ]
    result: pd.DataFrame = out[columns]
    return result


def _read_csv(source: Path, label: str, *, fix: str = "") -> pd.DataFrame:
    """Read a standards CSV as text cells (UTF-8, else GBK); ``StandardsError`` if malformed.

    ``fix`` replaces the usual advice (edit the file) for the packaged table.
    """
    return read_text_table(source, label, error=StandardsError, what="type", fix=fix)


@functools.lru_cache(maxsize=8)
def _packaged(levels: LevelDistances) -> pd.DataFrame:
    """Load (once per ``levels``) the packaged table; callers must not mutate the result."""
    with resources.as_file(resources.files("gisplan") / "data" / _PACKAGED) as path:
        raw = _read_csv(
            Path(path),
            f"packaged {_PACKAGED}",
            fix="the installed gisplan is damaged: reinstall it (pip install --force-reinstall "
            "gisplan), or pass your own table to load_standard(path)",
        )
    report = validate_standard(raw, name=_PACKAGED)
    if not report.ok:  # pragma: no cover - guarded by tests of the packaged table
        raise StandardsError(f"packaged {_PACKAGED} is broken:\n{report.format(fatal_only=True)}")
    return _build(raw, levels)


def _table(table: pd.DataFrame | None) -> pd.DataFrame:
    if table is None:
        return _packaged(_DEFAULT_LEVELS)
    if "facility_code" in table.columns:
        indexed: pd.DataFrame = table.set_index("facility_code")
        return indexed
    return table


def standard_table(standard: pd.DataFrame | None) -> pd.DataFrame:
    """Return a standards table indexed by ``facility_code`` (``None``: the packaged one).

    Accepts the table of :func:`load_standard` or the same with ``facility_code`` as a column.
    """
    if standard is None:
        packaged: pd.DataFrame = load_standard()
        return packaged
    if "facility_code" in standard.columns:
        indexed: pd.DataFrame = standard.set_index("facility_code")
        return indexed
    return standard


def load_standard(
    path: str | Path | None = None, *, levels: LevelDistances = _DEFAULT_LEVELS
) -> pd.DataFrame:
    """Load the life-circle standards table.

    Parameters
    ----------
    path
        A CSV with the packaged table's columns (UTF-8, else GBK); ``None`` loads the packaged
        table (``gisplan/data/life_circle_standard.csv``; most rows unverified, see
        ``LIFE_CIRCLE_NOTE.md``).
    levels
        Level distances used where ``service_radius_m`` is empty.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``facility_code`` (str), table order kept; columns ``name_zh, level,
        service_radius_m`` (float, NaN when empty), ``osm_tags, source, verified`` (bool),
        ``note``, the traits ``group, icon, colour, gap_service`` (text), ``radius_m``
        (effective radius: ``service_radius_m``, else the level distance) and
        ``radius_source`` (``"standard"`` or ``"level"``). A table without
        trait columns takes them from the packaged table for the codes it shares.

    Raises
    ------
    StandardsError
        If the file is missing or unreadable, or lists every problem of an invalid table.

    Examples
    --------
    >>> table = load_standard()
    >>> len(table), [float(table.loc[c, "radius_m"]) for c in ("kindergarten", "fresh_market")]
    (31, [300.0, 500.0])
    >>> table.loc[["kindergarten", "fresh_market"], "radius_source"].tolist()
    ['standard', 'level']
    """
    if path is None:
        packaged: pd.DataFrame = _packaged(levels).copy()
        return packaged
    path = Path(path)
    if not path.is_file():
        raise StandardsError(f"{path}: standards table not found; check the path")
    raw = _read_csv(path, str(path))
    report = validate_standard(raw, name=path.name)
    if not report.ok:
        raise StandardsError(
            f"{path}: the standards table has problems; fix every line below and load again\n"
            + report.format(fatal_only=True)
        )
    for issue in report.warnings:
        warnings.warn(f"{path}: {issue.format()}", GisplanWarning, stacklevel=2)
    table = _build(raw, levels)
    missing = [c for c in TRAIT_COLUMNS if c not in _as_columns(raw).columns]
    if missing:  # a city's own radii keep the traits of the packaged types
        packaged = _packaged(levels)
        known = table.index.intersection(packaged.index)
        for column in missing:
            table.loc[known, column] = packaged.loc[known, column]
        logger.info("standards %s: %s taken from the packaged table", path, ", ".join(missing))
    logger.info("loaded %d facility types from %s", len(table), path)
    return table


# --------------------------------------------------------------------------- lookups


def group_codes(group: str, table: pd.DataFrame | None = None) -> tuple[str, ...]:
    """Return the facility codes of a group (:data:`GROUPS`), in table order.

    Examples
    --------
    >>> group_codes("children")
    ('kindergarten', 'nursery')
    """
    frame = _table(table)
    if "group" not in frame.columns:
        return ()
    return tuple(str(c) for c in frame.index[frame["group"] == group])


def gap_services(table: pd.DataFrame | None = None) -> dict[str, str]:
    """Return facility code → the service a gap of that type calls for (non-empty only).

    Examples
    --------
    >>> gap_services()["nursery"]
    'childcare'
    """
    frame = _table(table)
    if "gap_service" not in frame.columns:
        return {}
    return {str(c): str(v) for c, v in frame["gap_service"].items() if v}


def facility_codes(table: pd.DataFrame | None = None) -> list[str]:
    """Return the facility codes in table order.

    Examples
    --------
    >>> facility_codes()[:3]
    ['middle_school', 'primary_school', 'kindergarten']
    """
    return [str(c) for c in _table(table).index]


def _before_bracket(name: str) -> str:
    """Return the part of a Chinese name before its first bracket (full-width or ASCII)."""
    return re.split("[\uff08(]", name, maxsplit=1)[0].strip()


def short_name(name: object) -> str:
    """Return a facility's Chinese name without its bracketed notes, for labels.

    Examples
    --------
    >>> short_name("小型多功能运动（球类）场地"), short_name("社区服务站（含居委会）")
    ('小型多功能运动场地', '社区服务站')
    """
    if name is None or (isinstance(name, float) and math.isnan(name)):
        return ""
    return re.sub(r"\s*[\uff08(][^\uff08\uff09()]*[\uff09)]", "", str(name)).strip()


def resolve_type(value: str, table: pd.DataFrame | None = None) -> str | None:
    """Return the facility code meant by ``value``, or ``None``.

    ``value`` may be a code (case-insensitive, surrounding spaces ignored), an exact Chinese
    ``name_zh``, or the part of ``name_zh`` before its first
    (full-width) bracket, e.g. ``社区服务中心``.

    Examples
    --------
    >>> resolve_type(" Kindergarten "), resolve_type("幼儿园"), resolve_type("社区服务中心")
    ('kindergarten', 'kindergarten', 'community_service_center')
    >>> resolve_type("kindergarden") is None
    True
    """
    text = value.strip()
    if not text:
        return None
    t = _table(table)
    codes = [str(c) for c in t.index]
    names = [cell_text(n) for n in t["name_zh"]] if "name_zh" in t.columns else [""] * len(codes)
    by_lower = {c.lower(): c for c in reversed(codes)}
    if text.lower() in by_lower:
        return by_lower[text.lower()]
    for code, name in zip(codes, names, strict=True):
        if name == text:
            return code
    for code, name in zip(codes, names, strict=True):
        if text in {_before_bracket(name), short_name(name)}:
            return code
    return None


def suggest_codes(value: str, table: pd.DataFrame | None = None, n: int = 3) -> list[str]:
    """Return up to ``n`` facility codes closest to ``value``, best first.

    Similarity is difflib's ratio against the code, the Chinese name and its short form; a
    value contained in one of them counts as a close match (``幼儿`` → ``kindergarten``).
    Ties keep table order; matches below 0.5 are dropped.

    Examples
    --------
    >>> suggest_codes("kindergarden")[0], suggest_codes("幼儿")
    ('kindergarten', ['kindergarten'])
    """
    text = value.strip().lower()
    if not text or n <= 0:
        return []
    t = _table(table)
    names = [cell_text(x) for x in t["name_zh"]] if "name_zh" in t.columns else [""] * len(t)
    scored: list[tuple[float, int, str]] = []
    for i, (code, name) in enumerate(zip(t.index, names, strict=True)):
        best = 0.0
        for cand in {str(code).lower(), name.lower(), _before_bracket(name).lower()}:
            if not cand:
                continue
            ratio = difflib.SequenceMatcher(None, text, cand).ratio()
            if text in cand:
                ratio = max(ratio, 0.8)
            best = max(best, ratio)
        if best >= 0.5:  # noqa: PLR2004 - difflib's usual cut-off, slightly relaxed
            scored.append((-best, i, str(code)))
    return [code for _, _, code in sorted(scored)[:n]]
