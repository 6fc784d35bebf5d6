"""Read input layers in every common format, map Chinese column names, validate everything at once.

The layer kinds (:data:`LAYER_KINDS`) and their columns are described by one table,
``gisplan/data/layer_schema.csv`` (:func:`layer_schema`). Most kinds are spatial layers
(GeoDataFrames); the :data:`TABLE_KINDS` (``commitments``: money a bureau has committed,
``revenues``: revenue facilities of a community) are plain tables without geometry, read from
a CSV, an XLSX sheet or a GeoPackage attribute table and returned as a pandas ``DataFrame``
(never reprojected, no datum needed). Reading happens in two steps:

* :func:`read_file` reads a GeoPackage, GeoJSON, Shapefile, CSV or XLSX file as it is
  (no renaming, no checks) and copes with Chinese encodings;
* :func:`check_layer` maps column aliases (``建成年代`` → ``built_year``), coerces types,
  checks ranges, ids, geometry and coordinates, and collects *every* problem into a
  :class:`~gisplan.validation.ValidationReport`. It never raises for data problems.

:func:`read_layer` does both and raises :class:`~gisplan.errors.ValidationError` when the
layer has fatal problems; :func:`validate_layer` does both and never raises for data problems
(``gisplan validate``).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import math
import re
import unicodedata
import warnings
from collections import Counter
from dataclasses import dataclass, field
from functools import cache, partial
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from gisplan import crs as gcrs
from gisplan import osm as gosm
from gisplan import standards as gstandards
from gisplan._cells import (
    BLANKS,
    UNIT_FACTORS,
    is_missing,
    parse_number,
    parse_quantity,
    trimmed_text,
    unit_family,
)
from gisplan._readers import (
    TABLE_SUFFIXES,
    DatumLike,
    column_list,
    is_osm,
    missing_file,
    read_file,
    read_table,
    remote_problem,
)
from gisplan._text import printable
from gisplan.errors import CRSError, GisplanWarning, LayerError, StandardsError
from gisplan.validation import ValidationReport
from gisplan.vocabulary import labels

if TYPE_CHECKING:
    from collections.abc import Callable, Hashable, Mapping

    import numpy.typing as npt
    import pyproj
    from shapely.geometry.base import BaseGeometry

__all__ = [
    "LAYER_KINDS",
    "TABLE_KINDS",
    "ColumnSpec",
    "LayerSchema",
    "check_layer",
    "layer_schema",
    "read_file",
    "read_layer",
    "validate_layer",
]

logger = logging.getLogger(__name__)

#: The kinds of input layer a scenario can name.
LAYER_KINDS: tuple[str, ...] = (
    "communities",
    "facilities",
    "network",
    "projects",
    "sites",
    "entrances",
    "buildings",
    "barriers",
    "commitments",
    "revenues",
)
#: The layer kinds that are plain tables (no geometry): read as pandas DataFrames.
TABLE_KINDS: tuple[str, ...] = ("commitments", "revenues")
#: Tables gisplan writes and reads back that are not scenario layers: the 项目储备库
#: (:mod:`gisplan.register`). They have a schema (headers, aliases, 是/否) like the table kinds.
RECORD_KINDS: tuple[str, ...] = ("register",)

GeometryKind = Literal["polygon", "point", "line", "point_or_polygon", "line_or_polygon", "table"]

_GEOMETRY: dict[str, GeometryKind] = {
    "communities": "polygon",
    "facilities": "point_or_polygon",
    "network": "line",
    "projects": "polygon",
    "sites": "point_or_polygon",
    "entrances": "point",
    "buildings": "polygon",
    "barriers": "line_or_polygon",
    "commitments": "table",
    "revenues": "table",
    "register": "table",
}
_ID_COLUMN: dict[str, str | None] = {
    "communities": "community_id",
    "facilities": "facility_id",
    "network": None,
    "projects": "project_id",
    "sites": "site_id",
    "entrances": None,
    "buildings": None,
    "barriers": None,
    "commitments": "commitment_id",
    "revenues": "revenue_id",
    "register": "community_id",
}
#: What one feature of each kind is called in Chinese (used in fix hints).
_FEATURE_ZH: dict[str, str] = {
    "communities": "小区",
    "facilities": "设施",
    "network": "道路",
    "projects": "片区项目",
    "sites": "备选用地",
    "entrances": "出入口",
    "buildings": "楼栋",
    "barriers": "障碍（河流、铁路、快速路）",
    "commitments": "资金落实记录",
    "revenues": "经营性设施",
    "register": "储备库小区",
}
#: Enum columns whose values are the codes of a vocabulary domain (its Chinese labels are
#: accepted too and mapped to the code): (kind, column) -> domain.
_VOCABULARY_ENUMS: dict[tuple[str, str], str] = {
    ("commitments", "source"): "funding_source",
    ("revenues", "kind"): "revenue_kind",
}
#: Codes of a vocabulary domain that a column refuses, with why (shown in the error).
_REFUSED_CODES: dict[tuple[str, str], dict[str, str]] = {
    ("commitments", "source"): {
        "shortfall": "a gap is what gisplan computes (need - committed), not money anyone commits",
        "large_area_project": "project revenue of a bundle is computed from the projects layer",
        "cross_area_project": "project revenue of a bundle is computed from the projects layer",
        "central_subsidy": "中央补助 is two channels: 中央预算内投资 or 中央财政专项资金",
    },
}
_DTYPES = ("str", "int", "float", "year", "date", "rate", "bool", "list", "enum")

_TRUE = frozenset({"是", "yes", "y", "true", "t", "1", "有", "√", "✓"})
_FALSE = frozenset({"否", "no", "n", "false", "f", "0", "无", "×", "✗"})
_LIST_SPLIT = re.compile(r"[,，、;；\s]+")
_BRACKETS = re.compile(r"[(\[【<《].*?[)\]】>》]")
_YEAR = re.compile(r"^(\d{4})(?:[年\-/.].*)?$")

#: Limits used by the checks (years relative to today; area per household in m²).
_FIRST_YEAR = 1900
_FUTURE_EXPROPRIATION_YEARS = 30
_MAX_M2_PER_HOUSEHOLD = 1000.0
_MIN_M2_PER_HOUSEHOLD = 10.0
_MAX_LISTED_ROWS = 20
_DBF_NAME_LEN = 10
_PERCENT = 100.0
_OVERLAP_M2 = 1.0
_OVERLAP_SHARE = 0.01

#: Numeric columns that must not be negative.
_NON_NEGATIVE = frozenset(
    {
        "households",
        "population",
        "floor_area_m2",
        "buildings",
        "capacity",
        "cost_wan_yuan",
        "revenue_wan_yuan",
        "area_m2",
        "maintenance_fund_wan_yuan",
        "amount_wan_yuan",
        "build_cost_wan_yuan",
    }
)
#: Money columns in 万元 (checked for values entered in 元) end with this.
_WAN_YUAN_SUFFIX = "_wan_yuan"
#: A value this many times the median of the column's other positive values looks like 元.
_YUAN_RATIO = 10_000.0
#: A money column whose median is above this (万元; 10 亿元 a row) looks like it is in 元.
_YUAN_MEDIAN_WAN_YUAN = 1e5
#: Years in which money or revenue can plausibly arrive (relative to today).
_FUTURE_MONEY_YEARS = 50


# --------------------------------------------------------------------------------------------
# Schema
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class ColumnSpec:
    """One column of a layer, as described in ``gisplan/data/layer_schema.csv``.

    Parameters
    ----------
    name
        Canonical English snake_case name (``built_year``).
    dtype
        One of ``str``, ``int``, ``float``, ``year``, ``rate``, ``bool``, ``list``, ``enum``.
    required
        Whether the layer is unusable without it.
    label_zh
        Chinese label shown to planners (``建成年份``).
    unit
        Unit of the values (``m²``, ``户`` ...), empty when none.
    allowed
        Allowed values (enum columns; ``是|否`` for booleans).
    aliases
        Other column names accepted for it (Chinese and English).
    description_zh
        One-line Chinese description for templates.
    example
        Example value for templates.
    vocabulary
        For an enum column whose values are codes of a :mod:`gisplan.vocabulary` domain
        (``funding_source``, ``revenue_kind``), that domain: its Chinese labels are accepted
        and mapped to the codes. Empty otherwise.
    """

    name: str
    dtype: str
    required: bool
    label_zh: str
    unit: str = ""
    allowed: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    description_zh: str = ""
    example: str = ""
    vocabulary: str = ""

    @property
    def choices(self) -> tuple[str, ...]:
        """Values offered to planners (drop-downs): the Chinese labels of a vocabulary column.

        Examples
        --------
        >>> gisplan.layers.layer_schema("revenues").column("kind").choices[:3]
        ('停车', '电梯', '商铺')
        """
        if not self.vocabulary:
            return self.allowed
        names = labels(self.vocabulary)
        return tuple(names.get(code, code) for code in self.allowed)


@dataclass(frozen=True, kw_only=True, slots=True)
class LayerSchema:
    """The expected shape of one layer kind.

    Parameters
    ----------
    kind
        One of :data:`LAYER_KINDS`.
    geometry
        ``polygon``, ``point``, ``line``, ``point_or_polygon`` or ``line_or_polygon``;
        ``table`` for the :data:`TABLE_KINDS` (no geometry).
    id_column
        Column holding a unique id per row, or ``None`` (network, entrances).
    columns
        Column specifications in schema order (required and optional).
    """

    kind: str
    geometry: GeometryKind
    id_column: str | None
    columns: tuple[ColumnSpec, ...]

    def column(self, name: str) -> ColumnSpec:
        """Return the specification of column ``name`` (``KeyError`` if unknown)."""
        for spec in self.columns:
            if spec.name == name:
                return spec
        raise KeyError(name)

    @property
    def names(self) -> tuple[str, ...]:
        """Canonical column names in schema order."""
        return tuple(spec.name for spec in self.columns)

    @property
    def is_table(self) -> bool:
        """Whether the kind is a plain table (no geometry, read as a pandas DataFrame)."""
        return self.geometry == "table"


def _split(value: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in value.split("|") if v.strip())


@cache
def _schema_table() -> dict[str, LayerSchema]:
    text = resources.files("gisplan").joinpath("data/layer_schema.csv").read_text("utf-8")
    columns: dict[str, list[ColumnSpec]] = {kind: [] for kind in (*LAYER_KINDS, *RECORD_KINDS)}
    reader = csv.DictReader(io.StringIO(text))
    for rec in reader:
        if None in rec or None in rec.values():  # more or fewer cells than the header
            msg = (
                f"layer_schema.csv: line {reader.line_num} does not have one cell per column; "
                "the installed gisplan is damaged: reinstall it (pip install --force-reinstall "
                "gisplan)"
            )
            raise LayerError(msg)
        kind = rec["kind"].strip()
        if kind not in columns:
            msg = f"layer_schema.csv: unknown kind {kind!r}"
            raise LayerError(msg)
        dtype = rec["dtype"].strip()
        if dtype not in _DTYPES:
            msg = f"layer_schema.csv: column {rec['column']!r} has unknown dtype {dtype!r}"
            raise LayerError(msg)
        columns[kind].append(
            ColumnSpec(
                name=rec["column"].strip(),
                dtype=dtype,
                required=rec["required"].strip().lower() in {"yes", "true", "1", "是"},
                label_zh=rec["label_zh"].strip(),
                unit=rec["unit"].strip(),
                allowed=_split(rec["allowed"]),
                aliases=_split(rec["aliases"]),
                description_zh=rec["description_zh"].strip(),
                example=rec["example"].strip(),
                vocabulary=_VOCABULARY_ENUMS.get((kind, rec["column"].strip()), ""),
            )
        )
    return {
        kind: LayerSchema(
            kind=kind,
            geometry=_GEOMETRY[kind],
            id_column=_ID_COLUMN[kind],
            columns=tuple(specs),
        )
        for kind, specs in columns.items()
    }


def layer_schema(kind: str) -> LayerSchema:
    """Return the schema of one layer kind, read from ``gisplan/data/layer_schema.csv``.

    Parameters
    ----------
    kind
        One of :data:`LAYER_KINDS`.

    Returns
    -------
    LayerSchema
        Geometry type, id column and column specifications.

    Raises
    ------
    LayerError
        If ``kind`` is not a layer kind.

    Examples
    --------
    >>> schema = gisplan.layers.layer_schema("communities")
    >>> schema.geometry, schema.id_column, schema.column("built_year").label_zh
    ('polygon', 'community_id', '建成年份')
    """
    table = _schema_table()
    if kind not in table:
        raise LayerError(f"unknown layer kind {kind!r}; use one of: {', '.join(LAYER_KINDS)}")
    return table[kind]


@cache
def _value_aliases() -> dict[tuple[str, str], dict[str, str]]:
    """``(kind, column) -> {normalised alias: canonical value}`` from value_aliases.csv."""
    text = resources.files("gisplan").joinpath("data/value_aliases.csv").read_text("utf-8")
    out: dict[tuple[str, str], dict[str, str]] = {}
    for rec in csv.DictReader(text.splitlines()):
        key = (rec["kind"].strip(), rec["column"].strip())
        value = rec["value"].strip()
        for alias in (value, *_split(rec["alias"])):
            out.setdefault(key, {})[_norm_value(alias)] = value
    return out


def _norm_value(value: str) -> str:
    return unicodedata.normalize("NFKC", value).strip().lower()


def _norm_column(name: object) -> str:
    """Normalise a column name for alias matching.

    Full-width → half-width, lower case, no spaces, units in brackets and ``*`` removed:
    ``"建筑面积（m²）"``, ``"建筑面积(㎡)"`` and ``" 建筑面积 "`` all become ``"建筑面积"``.
    """
    text = unicodedata.normalize("NFKC", str(name)).lower()
    stripped = _BRACKETS.sub("", text)
    text = stripped if stripped.strip() else text
    return re.sub(r"[\s*※]+", "", text)


@cache
def _alias_index(kind: str) -> dict[str, str]:
    """``{normalised alias or label: canonical column}`` for one kind (first entry wins)."""
    index: dict[str, str] = {}
    for spec in layer_schema(kind).columns:
        # a Shapefile cuts names to 10 characters: community_id -> community_
        for alias in (spec.label_zh, *spec.aliases, spec.name[:_DBF_NAME_LEN]):
            index.setdefault(_norm_column(alias), spec.name)
    return index


# --------------------------------------------------------------------------------------------
# Cell coercion
# --------------------------------------------------------------------------------------------


def _blank(value: object) -> bool:
    text = trimmed_text(value)
    return text is None or text.lower() in BLANKS


Bad = list[tuple[int, object, str]]  # (position, raw value, why)


def _coerce_str(values: pd.Series[Any]) -> tuple[pd.Series[Any], Bad]:
    out = [trimmed_text(v) for v in values]
    return pd.Series(out, index=values.index, dtype="string"), []


def _coerce_int(values: pd.Series[Any], *, year: bool = False) -> tuple[pd.Series[Any], Bad]:
    out: list[object] = []
    bad: Bad = []
    for pos, raw in enumerate(values):
        if _blank(raw):
            out.append(pd.NA)
            continue
        number = _year(raw) if year else parse_number(raw)[0]
        if math.isnan(number) or not float(number).is_integer():
            why = "not a year" if year else "not a whole number"
            bad.append((pos, raw, why))
            out.append(pd.NA)
        else:
            out.append(int(number))
    return pd.Series(out, index=values.index, dtype="Int64"), bad


_DATE = re.compile(r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*$")


def _date(value: object) -> dt.date | None:
    """Return the date of a date cell or of text such as 2026-10-09, 2026/10/9, 2026年10月9日."""
    if isinstance(value, (dt.datetime, pd.Timestamp)):
        return value.date()
    if isinstance(value, dt.date):
        return value
    match = _DATE.match(str(value))
    if match is None:
        return None
    try:
        return dt.date(*(int(g) for g in match.groups()))
    except ValueError:
        return None


def _coerce_date(values: pd.Series[Any]) -> tuple[pd.Series[Any], Bad]:
    out: list[object] = []
    bad: Bad = []
    for pos, raw in enumerate(values):
        if _blank(raw):
            out.append(pd.NaT)
            continue
        day = _date(raw)
        if day is None:
            bad.append((pos, raw, "not a date"))
            out.append(pd.NaT)
        else:
            out.append(pd.Timestamp(day))
    return pd.Series(out, index=values.index, dtype="datetime64[ns]"), bad


def _year(value: object) -> float:
    if isinstance(value, (dt.date, pd.Timestamp)):
        return float(value.year)
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        number = float(value)
        return number if number.is_integer() and 1000 <= number <= 9999 else math.nan  # noqa: PLR2004
    text = trimmed_text(value) or ""
    match = _YEAR.match(text)
    return float(match.group(1)) if match else math.nan


def _coerce_float(values: pd.Series[Any]) -> tuple[pd.Series[Any], Bad]:
    out: list[object] = []
    bad: Bad = []
    for pos, raw in enumerate(values):
        if _blank(raw):
            out.append(pd.NA)
            continue
        number = parse_number(raw)[0]
        if math.isnan(number):
            bad.append((pos, raw, "not a number"))
            out.append(pd.NA)
        else:
            out.append(number)
    return pd.Series(out, index=values.index, dtype="Float64"), bad


def _coerce_bool(values: pd.Series[Any]) -> tuple[pd.Series[Any], Bad]:
    out: list[object] = []
    bad: Bad = []
    for pos, raw in enumerate(values):
        if isinstance(raw, (bool, np.bool_)):
            out.append(bool(raw))
            continue
        text = trimmed_text(raw)
        if text is None:
            out.append(pd.NA)
        elif text.lower() in _TRUE:
            out.append(True)
        elif text.lower() in _FALSE:
            out.append(False)
        else:
            bad.append((pos, raw, "not yes/no (是/否)"))
            out.append(pd.NA)
    return pd.Series(out, index=values.index, dtype="boolean"), bad


def _coerce_list(values: pd.Series[Any]) -> tuple[pd.Series[Any], Bad]:
    out: list[tuple[int | str, ...]] = []
    for raw in values:
        text = trimmed_text(raw)
        if text is None or text.lower() in BLANKS:
            out.append(())
            continue
        items = [item for item in _LIST_SPLIT.split(text) if item]
        if all(re.fullmatch(r"\d+(\.0+)?", item) for item in items):
            out.append(tuple(int(float(item)) for item in items))
        else:
            out.append(tuple(items))
    return pd.Series(out, index=values.index, dtype=object), []


def _enum_lookup(spec: ColumnSpec, kind: str) -> tuple[dict[str, str], dict[str, str]]:
    """Return ``({normalised value: code}, {normalised refused value: why})`` of a column.

    Codes, the vocabulary's Chinese labels and ``value_aliases.csv`` are accepted; codes the
    column refuses (``_REFUSED_CODES``) are recognised by code and label to say why.
    """
    lookup = {_norm_value(v): v for v in spec.allowed}
    refused: dict[str, str] = {}
    if spec.vocabulary:
        names = labels(spec.vocabulary)
        lookup.update({_norm_value(names[c]): c for c in spec.allowed if c in names})
        for code, why in _REFUSED_CODES.get((kind, spec.name), {}).items():
            refused[_norm_value(code)] = why
            if code in names:
                refused[_norm_value(names[code])] = why
    lookup.update(_value_aliases().get((kind, spec.name), {}))
    return lookup, refused


def _choices_text(spec: ColumnSpec) -> str:
    """Return the allowed values for a message (``停车 (parking) / 电梯 (lift)`` …)."""
    if not spec.vocabulary:
        return " / ".join(spec.allowed)
    return " / ".join(
        f"{label} ({code})" for label, code in zip(spec.choices, spec.allowed, strict=True)
    )


def _coerce_enum(values: pd.Series[Any], spec: ColumnSpec, kind: str) -> tuple[pd.Series[Any], Bad]:
    lookup, refused = _enum_lookup(spec, kind)
    out: list[object] = []
    bad: Bad = []
    for pos, raw in enumerate(values):
        if _blank(raw):
            out.append(pd.NA)
            continue
        key = _norm_value(str(raw))
        value = lookup.get(key)
        if value is None:
            if key in refused:
                why = f"not allowed here: {refused[key]}"
            elif spec.vocabulary:
                why = f"not a known {spec.label_zh} (neither a Chinese name nor a code)"
            else:
                why = f"not one of {_choices_text(spec)}"
            bad.append((pos, raw, why))
            out.append(pd.NA)
        else:
            out.append(value)
    return pd.Series(out, index=values.index, dtype="string"), bad


def _coerce_rate(values: pd.Series[Any]) -> tuple[pd.Series[Any], Bad, bool]:
    """Rates as fractions 0–1; returns (values, bad cells, column was in percent)."""
    numbers: list[float] = []
    explicit: list[bool] = []
    bad: Bad = []
    for pos, raw in enumerate(values):
        number, percent = (math.nan, False) if _blank(raw) else parse_number(raw)
        if math.isnan(number) and not _blank(raw):
            bad.append((pos, raw, "not a rate"))
        numbers.append(number)
        explicit.append(percent)
    arr = np.array(numbers, dtype=float)
    pct = np.array(explicit, dtype=bool)
    arr[pct] /= 100.0
    bare = arr[~pct & ~np.isnan(arr)]
    in_percent = bool((bare > 1).any())
    if in_percent:
        arr[~pct] /= _PERCENT
    return pd.Series(arr, index=values.index, dtype="float64"), bad, in_percent


# --------------------------------------------------------------------------------------------
# check_layer
# --------------------------------------------------------------------------------------------


@dataclass(kw_only=True, slots=True)
class _Ctx:
    """What the checks share: the frame being cleaned, the report and row labels."""

    kind: str
    label: str
    schema: LayerSchema
    report: ValidationReport
    rows: list[str]
    #: Positions of cells that could not be coerced, per canonical column.
    bad: dict[str, set[int]] = field(default_factory=dict)
    #: Unit named in brackets in the source column's header (``总投资（元）``), per column.
    header_units: dict[str, str] = field(default_factory=dict)

    def add(
        self,
        problem: str,
        fix: str,
        *,
        severity: Literal["error", "warning"] = "error",
        pos: int | None = None,
        column: str | None = None,
        row: str | None = None,
    ) -> None:
        """Record an issue; user text in it is escaped so junk cells cannot garble a terminal."""
        if pos is not None:
            row = self.rows[pos]
        self.report.add(
            printable(self.label),
            printable(problem),
            printable(fix),
            severity=severity,
            row=None if row is None else printable(row),
            column=None if column is None else printable(column),
        )


def check_layer(
    gdf: gpd.GeoDataFrame | pd.DataFrame,
    kind: str,
    *,
    name: str | None = None,
    datum: DatumLike | None = None,
    columns: Mapping[str, str] | None = None,
    standard: pd.DataFrame | None = None,
    from_table: bool = False,
) -> tuple[gpd.GeoDataFrame | pd.DataFrame, ValidationReport]:
    """Map column names, coerce types and check a layer; collect every problem found.

    Pure: ``gdf`` is never modified. Nothing is raised for data problems; they are
    returned as issues (``error``: fatal, ``warning``: repaired or suspicious).

    Parameters
    ----------
    gdf
        The layer as read by :func:`read_file` (or built in a notebook); for a table kind
        (:data:`TABLE_KINDS`) any DataFrame (a GeoDataFrame's geometry is dropped).
    kind
        One of :data:`LAYER_KINDS`.
    name
        Label of the layer in the report (default: ``kind``).
    datum
        Datum of the coordinates when the frame has no CRS (``"CGCS2000"``, ``"WGS84"``,
        ``"GCJ-02"``, ``"BD-09"``, ``"EPSG:4547"`` ...). GCJ-02 and BD-09 coordinates are
        converted to WGS84. Ignored for table kinds.
    columns
        User mapping ``{source column: canonical name}``, applied before the built-in aliases.
    standard
        Standards table for facility types (default: the packaged one).
    from_table
        The frame came from a CSV/XLSX table (community points are then a warning, not an
        error).

    Returns
    -------
    tuple of (geopandas.GeoDataFrame or pandas.DataFrame, ValidationReport)
        The cleaned copy (canonical columns first in schema order, then other columns, then
        geometry; index and row order kept) and every issue found. A table kind gives a
        plain pandas DataFrame (no geometry, no CRS).

    Raises
    ------
    LayerError
        Only if ``kind`` is unknown.

    Examples
    --------
    >>> gdf = gpd.GeoDataFrame({"编号": ["C1"], "小区名称": ["幸福里"], "建成年代": ["1995年"],
    ...     "户数": ["1,200"]}, geometry=[box(5e5, 35e5, 5e5 + 100, 35e5 + 100)], crs=4548)
    >>> clean, report = gisplan.layers.check_layer(gdf, "communities")
    >>> report.ok, clean.columns.tolist(), int(clean.loc[0, "households"])
    (True, ['community_id', 'name', 'built_year', 'households', 'geometry'], 1200)
    >>> table = pd.DataFrame({"编号": ["ZJ1"], "资金来源": ["中央预算内投资"],
    ...     "出资单位": ["县发改局"], "金额（万元）": ["80"], "到位年份": ["2026年"],
    ...     "文号": ["示发改〔2026〕3号"]})
    >>> clean, report = gisplan.layers.check_layer(table, "commitments")
    >>> report.ok, clean.loc[0, "source"], float(clean.loc[0, "amount_wan_yuan"])
    (True, 'central_budget_investment', 80.0)
    """
    schema = layer_schema(kind)
    report = ValidationReport()
    label = name or kind
    ctx = _Ctx(kind=kind, label=label, schema=schema, report=report, rows=[])
    out: gpd.GeoDataFrame | pd.DataFrame
    if schema.is_table:
        table = _check_attributes(_as_table(gdf, ctx), ctx, columns, standard)
        out = _order_columns(table, schema)
    else:
        if not isinstance(gdf, gpd.GeoDataFrame) or gdf._geometry_column_name not in gdf.columns:  # noqa: SLF001
            report.add(
                printable(label),
                "the layer has no geometry column",
                "read it with gisplan.layers.read_file or build a GeoDataFrame with geometry",
            )
            frame = gpd.GeoDataFrame(
                pd.DataFrame(gdf).copy(), geometry=[None] * len(gdf), crs=getattr(gdf, "crs", None)
            )
        else:
            frame = gdf.copy(deep=True)
        frame = _check_attributes(frame, ctx, columns, standard)
        frame = _check_geometry(frame, ctx, from_table=from_table)
        frame = _check_crs(frame, ctx, datum)
        if schema.geometry == "polygon" and kind == "communities":
            _check_overlaps(frame, ctx)
        out = _order_columns(frame, schema)
    logger.info(
        "%s: %d rows checked, %d error(s), %d warning(s)",
        label,
        len(out),
        len(report.errors),
        len(report.warnings),
    )
    return out, report


def _check_attributes(
    frame: pd.DataFrame,
    ctx: _Ctx,
    columns: Mapping[str, str] | None,
    standard: pd.DataFrame | None,
) -> pd.DataFrame:
    """Run the checks of every kind: names, required columns, types, ids, ranges, codes."""
    frame = _map_columns(frame, ctx, columns or {})
    ctx.rows = _row_labels(frame, ctx.schema)
    _check_case_clashes(frame, ctx)
    _check_required(frame, ctx)
    _check_not_empty(frame, ctx)
    frame = _coerce_columns(frame, ctx)
    ctx.rows = _row_labels(frame, ctx.schema)
    _check_ids(frame, ctx)
    _check_template_example(frame, ctx)
    _check_required_values(frame, ctx)
    _check_ranges(frame, ctx)
    out: pd.DataFrame = _check_types(frame, ctx, standard)
    return out


def _as_table(data: pd.DataFrame, ctx: _Ctx) -> pd.DataFrame:
    """Return a plain DataFrame copy of a table kind (a GeoDataFrame's geometry is dropped)."""
    frame: pd.DataFrame = pd.DataFrame(data).copy(deep=True)
    geometry = _geometry_name(data)
    if geometry is not None:
        geoms = np.asarray(data[geometry], dtype=object)
        if (~(shapely.is_missing(geoms) | shapely.is_empty(geoms))).any():
            ctx.add(
                f"{ctx.kind} is a table: the geometry of its rows is ignored",
                "nothing to do, or give the table without geometry (CSV, Excel sheet or a "
                "GeoPackage attribute table)",
                severity="warning",
                column="geometry",
            )
        frame = frame.drop(columns=geometry)
    return frame


def _geometry_name(frame: pd.DataFrame) -> str | None:
    """Return the active geometry column of a GeoDataFrame that has one, else ``None``."""
    if not isinstance(frame, gpd.GeoDataFrame):
        return None
    name = frame._geometry_column_name  # noqa: SLF001 - .geometry raises when it is not set
    return str(name) if name is not None and name in frame.columns else None


def _map_columns(frame: gpd.GeoDataFrame, ctx: _Ctx, user: Mapping[str, str]) -> gpd.GeoDataFrame:
    """Rename source columns to canonical names.

    When several columns mean the same canonical column, the first of these wins: the
    canonical name itself, the user's mapping, the Chinese label, other aliases (file order).
    A canonical name or a user mapping settles it (warning, the others stay as extra
    columns); two aliases alone are an error: only the user knows which one is right.
    """
    user_norm = {str(k).strip(): v for k, v in user.items()}
    _check_user_columns(frame, ctx, user_norm)
    claims: dict[str, list[tuple[int, int, Hashable]]] = {}
    geometry = _geometry_name(frame)
    for order, col in enumerate(frame.columns):
        if col == geometry:
            continue
        match = _match_column(str(col).strip(), ctx, user_norm)
        if match is not None:
            claims.setdefault(match[1], []).append((match[0], order, col))
    rename: dict[Hashable, str] = {}
    for target, sources in claims.items():
        ranked = sorted(sources, key=lambda s: (s[0], s[1]))
        best, chosen = ranked[0][0], ranked[0][2]
        if len(ranked) > 1:
            _report_competing(ctx, target, ranked, settled=best <= _PRIORITY_USER)
        if chosen != target:
            rename[chosen] = target
            logger.info("%s: column %r -> %s", ctx.label, str(chosen), target)
            unit = _header_unit(str(chosen))
            if unit is not None:
                ctx.header_units[target] = unit
    return frame.rename(columns=rename)


#: Ranks of a column claiming a canonical name (lower wins).
_PRIORITY_CANONICAL = 0  # the canonical name itself
_PRIORITY_CANONICAL_CASE = 1  # the canonical name in other case (NAME in a Shapefile)
_PRIORITY_USER = 2  # mapped under 'columns:'
_PRIORITY_LABEL = 3  # the Chinese label (小区编号)
_PRIORITY_ALIAS = 4  # any other alias


def _report_competing(
    ctx: _Ctx, target: str, ranked: list[tuple[int, int, Hashable]], *, settled: bool
) -> None:
    label_zh = ctx.schema.column(target).label_zh
    best, _, chosen = ranked[0]
    if settled:
        how = " (mapped under 'columns:')" if best == _PRIORITY_USER else ""
        for _, _, other in ranked[1:]:
            ctx.add(
                f"column {str(other)!r} also means {target!r} ({label_zh}); {str(chosen)!r} is "
                f"used{how} and {str(other)!r} is kept as an extra column",
                f"nothing to do if {str(chosen)!r} is the right one; otherwise remove or rename "
                f"{str(chosen)!r}",
                severity="warning",
                column=target,
            )
        return
    in_file = [repr(str(c)) for _, _, c in sorted(ranked, key=lambda s: s[1])]
    names = ", ".join(in_file[:-1]) + " and " + in_file[-1]
    ctx.add(
        f"columns {names} {'both' if len(in_file) == 2 else 'all'} mean {target!r} "  # noqa: PLR2004
        f"({label_zh}); which one is it?",
        "rename or remove the other(s), or name the right one under 'columns:' in the "
        f"scenario (e.g. columns: {{{in_file[0]}: {target}}})",
        column=target,
    )


def _match_column(name: str, ctx: _Ctx, user: Mapping[str, str]) -> tuple[int, str] | None:
    """Return ``(priority, canonical name)`` of a source column (see ``_PRIORITY_*``), or None."""
    if name in ctx.schema.names:
        return _PRIORITY_CANONICAL, name
    canonical = {n.lower(): n for n in ctx.schema.names}
    if name.lower() in canonical:
        return _PRIORITY_CANONICAL_CASE, canonical[name.lower()]
    if name in user and user[name] in ctx.schema.names:
        return _PRIORITY_USER, user[name]
    key = _norm_column(name)
    for spec in ctx.schema.columns:
        if key == _norm_column(spec.label_zh):
            return _PRIORITY_LABEL, spec.name
    aliases = _alias_index(ctx.kind)
    return (_PRIORITY_ALIAS, aliases[key]) if key in aliases else None


def _check_user_columns(frame: pd.DataFrame, ctx: _Ctx, user: Mapping[str, str]) -> None:
    """Check that the scenario's ``columns:`` map file columns to canonical names."""
    present = {str(c).strip() for c in frame.columns}
    for source, target in user.items():
        if target not in ctx.schema.names:
            ctx.add(
                f"'columns:' maps {source!r} to {target!r}, which is not a column of {ctx.kind}",
                f"map it to one of: {', '.join(ctx.schema.names)}",
                column=target,
            )
        elif source not in present:
            ctx.add(
                f"'columns:' names {source!r}, which is not in the file",
                f"use one of the file's columns: {column_list(frame)}",
                severity="warning",
                column=target,
            )


_HEADER_UNIT = re.compile(r"[(\[【]\s*([^()\[\]【】]+?)\s*[)\]】]\s*$")


def _header_unit(name: str) -> str | None:
    """Return the unit in brackets at the end of a column name (``总投资（元）`` -> ``元``)."""
    match = _HEADER_UNIT.search(unicodedata.normalize("NFKC", name))
    return None if match is None else re.sub(r"\s+", "", match.group(1))


def _ascii_lower(name: str) -> str:
    return "".join(c.lower() if c.isascii() else c for c in name)


def _check_case_clashes(frame: gpd.GeoDataFrame, ctx: _Ctx) -> None:
    """GeoPackage and Shapefile column names ignore (ASCII) case: 'Note' and 'note' clash."""
    groups: dict[str, list[str]] = {}
    geometry = _geometry_name(frame)
    for col in frame.columns:
        if col != geometry:
            groups.setdefault(_ascii_lower(str(col)), []).append(str(col))
    for names in groups.values():
        if len(names) > 1:
            shown = " and ".join(repr(n) for n in names)
            ctx.add(
                f"columns {shown} differ only in case; a GeoPackage or Shapefile cannot hold "
                "both, because its column names ignore case",
                f"rename one of them (e.g. {names[-1]!r} to '{names[-1]}_2'), or remove it",
                column=names[0],
            )


def _check_not_empty(frame: pd.DataFrame, ctx: _Ctx) -> None:
    if len(frame):
        return
    feature = _FEATURE_ZH[ctx.kind]
    ctx.add(
        "the layer has no rows",
        f"check that this is the right file (and layer or sheet) and that it holds the "
        f"{feature} data, one row per {feature}",
        severity="error" if ctx.kind == "communities" else "warning",
    )


#: Besides the id, the column whose example value marks the template's example row.
_EXAMPLE_KEY = {"commitments": "payer_name"}


def _check_template_example(frame: pd.DataFrame, ctx: _Ctx) -> None:
    """Warn about the example row of the ``gisplan init`` survey template left in the data."""
    id_col = ctx.schema.id_column
    other = _EXAMPLE_KEY.get(ctx.kind, "name")
    if id_col is None or id_col not in frame.columns or other not in frame.columns:
        return
    example_id = ctx.schema.column(id_col).example
    example_name = ctx.schema.column(other).example
    for pos, (rid, rname) in enumerate(zip(frame[id_col], frame[other], strict=True)):
        if trimmed_text(rid) == example_id and trimmed_text(rname) == example_name:
            ctx.add(
                f"this is the survey template's example row ({example_id} {example_name})",
                "delete it unless it is really one of yours",
                severity="warning",
                pos=pos,
            )


def _row_labels(frame: pd.DataFrame, schema: LayerSchema) -> list[str]:
    labels = [f"row {i + 1}" for i in range(len(frame))]
    if schema.id_column and schema.id_column in frame.columns:
        texts = [trimmed_text(value) for value in frame[schema.id_column]]
        counts = Counter(texts)
        for pos, text in enumerate(texts):
            if text is not None:  # a duplicated id alone would not say which row
                labels[pos] = text if counts[text] == 1 else f"{text} (row {pos + 1})"
    return labels


def _aliases_hint(spec: ColumnSpec) -> str:
    names = [spec.label_zh, *(a for a in spec.aliases if a != spec.label_zh)]
    return ", ".join(names[:6]) + (", …" if len(names) > 6 else "")  # noqa: PLR2004


def _check_required(frame: pd.DataFrame, ctx: _Ctx) -> None:
    for spec in ctx.schema.columns:
        if spec.required and spec.name not in frame.columns:
            ctx.add(
                f"column {spec.name!r} ({spec.label_zh}) missing",
                "add it or map your column under 'columns:' in the scenario "
                f"(aliases accepted: {_aliases_hint(spec)})",
                column=spec.name,
            )


def _check_required_values(frame: pd.DataFrame, ctx: _Ctx) -> None:
    """Empty cells in required columns: one warning per column (ids and types are errors).

    In a table kind (a commitment, a revenue facility) every required cell is needed to use
    the row at all: each empty one is an error naming the row.
    """
    skip = {ctx.schema.id_column, "type"}
    for spec in ctx.schema.columns:
        if not spec.required or spec.name in skip or spec.name not in frame.columns:
            continue
        bad = sorted(ctx.bad.get(spec.name, ()))  # already reported as not a year, number ...
        empty = np.setdiff1d(np.flatnonzero(frame[spec.name].isna().to_numpy()), bad)
        if not len(empty):
            continue
        if ctx.schema.is_table:
            for pos in empty:
                ctx.add(
                    f"{spec.name} ({spec.label_zh}) empty",
                    f"fill it in: every {_FEATURE_ZH[ctx.kind]} needs "
                    f"{', '.join(s.label_zh for s in ctx.schema.columns if s.required)}",
                    pos=int(pos),
                    column=spec.name,
                )
            continue
        shown = ", ".join(ctx.rows[p] for p in empty[:_MAX_LISTED_ROWS])
        more = ", …" if len(empty) > _MAX_LISTED_ROWS else ""
        ctx.add(
            f"{spec.name} ({spec.label_zh}) empty in {len(empty)} row(s): {shown}{more}",
            "fill it in; steps that need it cannot use these rows",
            severity="warning",
            column=spec.name,
        )


def _show(value: object) -> str:
    return repr(value if isinstance(value, str) else trimmed_text(value))


def _coerce_columns(frame: gpd.GeoDataFrame, ctx: _Ctx) -> gpd.GeoDataFrame:
    coercers: dict[str, Callable[[pd.Series[Any]], tuple[pd.Series[Any], Bad]]] = {
        "str": _coerce_str,
        "int": _coerce_int,
        "year": partial(_coerce_int, year=True),
        "float": _coerce_float,
        "bool": _coerce_bool,
        "list": _coerce_list,
        "date": _coerce_date,
    }
    for spec in ctx.schema.columns:
        if spec.name not in frame.columns:
            continue
        raw = frame[spec.name]
        bad: Bad
        if spec.dtype == "enum":
            values, bad = _coerce_enum(raw, spec, ctx.kind)
        elif spec.dtype in {"int", "float"} and spec.unit in UNIT_FACTORS:
            values, bad = _coerce_quantity(raw, spec, ctx)
        elif spec.dtype == "rate":
            values, bad = _coerce_rate_column(raw, spec, ctx)
        else:
            values, bad = coercers[spec.dtype](raw)
        ctx.bad[spec.name] = ctx.bad.get(spec.name, set()) | {pos for pos, _, _ in bad}
        for pos, value, why in bad:
            ctx.add(
                f"{spec.name} {_show(value)} is {why}",
                _coerce_fix(spec),
                pos=pos,
                column=spec.name,
            )
        frame[spec.name] = values
    return frame


#: The units accepted (and converted) in a column of each schema unit, as shown in fixes.
_UNITS_SHOWN: dict[str, str] = {
    "万元": "元, 万元 (or 万), 亿元",
    "m²": "m², ㎡, 平方米, 平米, 万m², 公顷, 亩",
    "户": "户, 万户",
    "人": "人, 万人",
    "栋": "栋, 幢, 座",
    "年": "年",
}


def _header_factor(spec: ColumnSpec, ctx: _Ctx) -> tuple[float, str | None]:
    """``(factor, unit)`` of numbers without a unit: the unit in the column's header, if any.

    A header unit of another kind (``户数（人）``) is an error on the column.
    """
    header = ctx.header_units.get(spec.name)
    factors = UNIT_FACTORS[spec.unit]
    if header is None or header == spec.unit:
        return 1.0, None
    if header in factors:
        return factors[header], header
    if unit_family(header) is not None:
        ctx.add(
            f"the header of {spec.name} ({spec.label_zh}) says {header}, which is not a unit of "
            f"{spec.label_zh} ({spec.unit})",
            f"check that the column is the right one; write {spec.label_zh} in {spec.unit} "
            f"(accepted: {_UNITS_SHOWN[spec.unit]}) and correct the header",
            column=spec.name,
        )
    return 1.0, None


def _unit_fix(spec: ColumnSpec, unit: str, ctx: _Ctx) -> str:
    """Fix for a value typed with a unit that does not belong to its column."""
    fix = (
        f"write {spec.label_zh} in {spec.unit} (a bare number, or with one of "
        f"{_UNITS_SHOWN[spec.unit]}, converted to {spec.unit})"
    )
    family = unit_family(unit)
    other = [
        s
        for s in ctx.schema.columns
        if family is not None and s.unit == family and s.name != spec.name
    ]
    if other:
        fix += f"; a number in {unit} belongs in {other[0].name} ({other[0].label_zh})"
    return fix


def _coerce_quantity(
    raw: pd.Series[Any], spec: ColumnSpec, ctx: _Ctx
) -> tuple[pd.Series[Any], Bad]:
    """Numbers of a column with a unit: units typed in a cell (or its header) are converted.

    ``15000000元`` in a 万元 column is 1500 万元, ``2.15万㎡`` is 21500 m²; a unit of another
    kind (``1200人`` in households) is an error naming the row. Conversions are logged once
    per column and unit, with their count.
    """
    factors = UNIT_FACTORS[spec.unit]
    default, header = _header_factor(spec, ctx)
    out: list[object] = []
    bad: Bad = []
    converted: Counter[str] = Counter()
    for pos, cell in enumerate(raw):
        if _blank(cell):
            out.append(pd.NA)
            continue
        number, unit = parse_quantity(cell)
        if math.isnan(number):
            bad.append((pos, cell, "not a number"))
            out.append(pd.NA)
            continue
        factor = default if unit is None else factors.get(unit)
        if factor is None and unit_family(str(unit)) is None and not str(unit).isalpha():
            bad.append((pos, cell, "not a whole number" if spec.dtype == "int" else "not a number"))
            out.append(pd.NA)
            continue
        if factor is None:
            ctx.add(
                f"{spec.name} ({spec.label_zh}) {_show(cell)} is in {unit}, not {spec.unit}",
                _unit_fix(spec, str(unit), ctx),
                pos=pos,
                column=spec.name,
            )
            ctx.bad.setdefault(spec.name, set()).add(pos)
            out.append(pd.NA)
            continue
        if factor != 1.0:
            converted[str(unit or header)] += 1
        # divide by 10,000 rather than multiply by 1e-4: 15000000元 is exactly 1500 万元
        value = number * factor if factor >= 1 else number / round(1 / factor)
        if spec.dtype == "int":
            if abs(value - round(value)) > 1e-6:  # noqa: PLR2004
                bad.append((pos, cell, "not a whole number"))
                out.append(pd.NA)
                continue
            value = round(value)
        out.append(value)
    for unit, count in sorted(converted.items()):
        logger.info(
            "%s: %s: %d value(s) in %s converted to %s",
            ctx.label,
            spec.name,
            count,
            unit,
            spec.unit,
        )
    dtype = "Int64" if spec.dtype == "int" else "Float64"
    return pd.Series(out, index=raw.index, dtype=dtype), bad


def _coerce_rate_column(
    raw: pd.Series[Any], spec: ColumnSpec, ctx: _Ctx
) -> tuple[pd.Series[Any], Bad]:
    values, bad, in_percent = _coerce_rate(raw)
    if in_percent:  # both forms are valid input; only a small bare number in % is doubtful
        logger.info("%s: %s is in percent (0–100); converted to 0–1", ctx.label, spec.name)
        small = np.flatnonzero((values > 0) & (values <= 0.01))  # noqa: PLR2004 - bare ≤ 1
        for pos in map(int, small):
            raw_text, value = str(raw.iloc[pos]).strip(), values.iloc[pos]
            if not raw_text.endswith("%"):
                ctx.add(
                    f"{spec.name} {raw_text} was read as {raw_text} % because the other "
                    "values of the column are percentages",
                    f"if you meant {value * 10_000:g} %, write {value * 10_000:g}",
                    severity="warning",
                    pos=pos,
                    column=spec.name,
                )
    for pos, value in enumerate(values):
        if not math.isnan(value) and not 0 <= value <= 1:
            ctx.add(
                f"{spec.name} {_show(raw.iloc[pos])} is outside 0–100 %",
                "write a rate between 0 and 100 % (or 0 and 1)",
                pos=pos,
                column=spec.name,
            )
    return values, bad


def _coerce_fix(spec: ColumnSpec) -> str:
    return {
        "year": f"write a 4-digit year such as {spec.example or 1995}",
        "date": "write a date such as 2026-10-09 (or 2026年10月9日)",
        "int": f"write a whole number{f' ({spec.unit})' if spec.unit else ''} such as "
        f"{spec.example or 320}",
        "float": f"write a number{f' in {spec.unit}' if spec.unit else ''} such as "
        f"{spec.example or 1800}",
        "rate": "write a percentage such as 75 or 75% (or a fraction such as 0.75)",
        "bool": "write 是 or 否 (yes/no)",
        "enum": f"write one of: {_choices_text(spec)}",
    }.get(spec.dtype, "correct the value")


def _check_ids(frame: pd.DataFrame, ctx: _Ctx) -> None:
    id_col = ctx.schema.id_column
    if id_col is None or id_col not in frame.columns:
        return
    values = frame[id_col]
    for pos in np.flatnonzero(values.isna().to_numpy()):
        ctx.add(
            f"{id_col} missing",
            f"give every {_FEATURE_ZH[ctx.kind]} a unique {id_col}",
            pos=int(pos),
            column=id_col,
        )
    positions: dict[str, list[int]] = {}
    for row, value in enumerate(values.tolist()):
        if not is_missing(value):
            positions.setdefault(str(value), []).append(row)
    for value, where in positions.items():
        if len(where) > 1:
            rows = ", ".join(str(p + 1) for p in where)
            ctx.add(
                f"{id_col} {value!r} appears {len(where)} times (rows {rows})",
                f"give each {_FEATURE_ZH[ctx.kind]} its own {id_col}",
                row=value,
                column=id_col,
            )
    _check_leading_zeros(list(positions), ctx, id_col)


def _check_leading_zeros(ids: list[str], ctx: _Ctx, id_col: str) -> None:
    """Warn about numeric ids equal but for leading zeros (``001`` and ``1``).

    Excel and many tables drop the zeros of ``001`` when a column is read as numbers, so the
    two may be one feature read twice, or ids that no longer match another layer's.
    """
    groups: dict[int, list[str]] = {}
    for value in ids:
        if value.isdecimal() and value.isascii():
            groups.setdefault(int(value), []).append(value)
    for same in groups.values():
        if len(same) > 1:
            ordered = sorted(same, key=lambda v: (len(v), v))
            names = " and ".join(repr(v) for v in ordered)
            ctx.add(
                f"{id_col} {names} differ only by leading zeros: they may be the same id read "
                "differently (编号前导零)",
                "if they are one feature, keep one row; otherwise give ids that differ by more "
                "than leading zeros, and store ids as text (Excel drops the zeros of 001)",
                severity="warning",
                row=ordered[0],
                column=id_col,
            )


def _check_ranges(frame: pd.DataFrame, ctx: _Ctx) -> None:
    _check_years(frame, ctx)
    _check_project_years(frame, ctx)
    _check_non_negative(frame, ctx)
    _check_at_least_one(frame, ctx)
    _check_area_per_household(frame, ctx)
    _check_wan_yuan(frame, ctx)
    _check_zero_households(frame, ctx)


#: Year columns saying when money or revenue arrives, per kind.
_MONEY_YEARS: dict[str, tuple[str, ...]] = {
    "commitments": ("year",),
    "revenues": ("start_year",),
    "projects": ("revenue_year",),
}


def _check_years(frame: pd.DataFrame, ctx: _Ctx) -> None:
    this_year = dt.datetime.now(tz=dt.timezone.utc).year
    limits = {
        "built_year": (_FIRST_YEAR, this_year),
        "planned_expropriation_year": (_FIRST_YEAR, this_year + _FUTURE_EXPROPRIATION_YEARS),
    }
    for column in _MONEY_YEARS.get(ctx.kind, ()):
        limits[column] = (_FIRST_YEAR, this_year + _FUTURE_MONEY_YEARS)
    for column, (low, high) in limits.items():
        if column not in frame.columns:
            continue
        for pos, value in enumerate(frame[column]):
            if is_missing(value) or low <= value <= high:
                continue
            when = f"is in the future (after {high})" if value > high else f"is before {low}"
            ctx.add(
                f"{column} {value} {when}",
                "correct the year (a 4-digit year such as 1995)",
                pos=pos,
                column=column,
            )


def _check_project_years(frame: pd.DataFrame, ctx: _Ctx) -> None:
    """Check that a renovation completes after it starts, and that 储备 has no completion."""
    if {"start_year", "completion_year"} <= set(frame.columns):
        for pos, (start, done) in enumerate(
            zip(frame["start_year"], frame["completion_year"], strict=True)
        ):
            if not (is_missing(start) or is_missing(done)) and done < start:
                ctx.add(
                    f"completion_year {done} is before start_year {start}",
                    "correct the years of the renovation (开工 then 竣工)",
                    pos=pos,
                    column="completion_year",
                )
    if {"status", "completion_year"} <= set(frame.columns):
        for pos, (state, done) in enumerate(
            zip(frame["status"], frame["completion_year"], strict=True)
        ):
            if not is_missing(state) and str(state) == "储备" and not is_missing(done):
                ctx.add(
                    f"status 储备 but completion_year {done}",
                    "a renovation with a completion year is 竣工 (or 在建): correct the status",
                    pos=pos,
                    column="status",
                    severity="warning",
                )


def _check_zero_households(frame: pd.DataFrame, ctx: _Ctx) -> None:
    """Warn (once, naming the rows) about communities with 0 households: a typo or a blank."""
    if ctx.kind != "communities" or "households" not in frame.columns:
        return
    zero = np.flatnonzero(frame["households"].fillna(-1).to_numpy(float) == 0)
    if not len(zero):
        return
    shown = ", ".join(ctx.rows[p] for p in zero[:_MAX_LISTED_ROWS])
    more = ", …" if len(zero) > _MAX_LISTED_ROWS else ""
    ctx.add(
        f"households (户数) = 0 in {len(zero)} row(s): {shown}{more} — a community with no "
        "households? (小区户数为 0)",
        "check the number of households (户数); leave the cell empty if it is unknown",
        severity="warning",
        column="households",
    )


def _check_non_negative(frame: pd.DataFrame, ctx: _Ctx) -> None:
    for column in sorted(_NON_NEGATIVE & set(frame.columns)):
        strict = column == "area_m2"
        spec = ctx.schema.column(column)
        for pos, value in enumerate(frame[column]):
            if is_missing(value) or value > 0 or (value == 0 and not strict):
                continue
            ctx.add(
                f"{column} ({spec.label_zh}) is {value:g}; it must be "
                f"{'greater than 0' if strict else 'zero or more'}",
                "correct the value (remove a stray minus sign)",
                pos=pos,
                column=column,
            )


def _check_at_least_one(frame: pd.DataFrame, ctx: _Ctx) -> None:
    """Check counts that must be 1 or more: a revenue facility earns for a year at least."""
    if ctx.kind != "revenues" or "years" not in frame.columns:
        return
    spec = ctx.schema.column("years")
    for pos, value in enumerate(frame["years"]):
        if not is_missing(value) and value < 1:
            ctx.add(
                f"years ({spec.label_zh}) is {value}; it must be 1 or more",
                "write the number of years the facility earns income (such as 15)",
                pos=pos,
                column="years",
            )


def _check_wan_yuan(frame: pd.DataFrame, ctx: _Ctx) -> None:
    """Warn about money in 元 where 万元 is expected (every ``*_wan_yuan`` column).

    A column whose (lower) median is above ``_YUAN_MEDIAN_WAN_YUAN`` (10⁵ 万元, 10 亿元 a row)
    is flagged as a whole; so is a value at least ``_YUAN_RATIO`` (10,000) times the median of
    the column's *other* positive values (a column needs two positive values to compare).
    """
    for spec in ctx.schema.columns:
        if not spec.name.endswith(_WAN_YUAN_SUFFIX) or spec.name not in frame.columns:
            continue
        values = pd.to_numeric(frame[spec.name], errors="coerce").astype("float64").to_numpy()
        positive = values[np.isfinite(values) & (values > 0)]
        # the lower median: half the rows at least are this large (one of two is not enough)
        median = float(np.quantile(positive, 0.5, method="lower")) if len(positive) else 0.0
        if median > _YUAN_MEDIAN_WAN_YUAN:
            ctx.add(
                f"{spec.name} ({spec.label_zh}): the median of the column is {median:,.10g} 万元 "
                f"({median / 10_000:,.4g} 亿元 a row): it looks like 元, not 万元",
                f"divide the column by 10,000 (write {median / 10_000:,.10g} for "
                f"{median:,.10g}), or write the unit in each cell (元) or in the header "
                f"({spec.label_zh}（元）) and gisplan converts it",
                severity="warning",
                column=spec.name,
            )
        for pos, median in _others_median(values):
            value = values[pos]
            if value >= _YUAN_RATIO * median:
                with np.errstate(over="ignore", divide="ignore"):  # a subnormal median
                    ratio = np.float64(value) / np.float64(median)
                ctx.add(
                    f"{spec.name} ({spec.label_zh}) {value:,.10g} is {ratio:,.0f} times "
                    f"the median of the column's other values ({median:,.10g}): it looks like 元, "
                    "not 万元",
                    f"divide by 10,000 (write {value / 10_000:,.10g} 万元)",
                    severity="warning",
                    pos=int(pos),
                    column=spec.name,
                )


def _others_median(values: npt.NDArray[np.float64]) -> list[tuple[int, float]]:
    """``(position, median of the other positive values)`` for each positive value.

    Leaving one value out of n sorted values shifts the middle by at most one place, so
    each median is read from the sorted array in constant time.
    """
    positive = np.flatnonzero(np.isfinite(values) & (values > 0))
    n = len(positive)
    if n < 2:  # noqa: PLR2004 - one other value at least
        return []
    order = positive[np.argsort(values[positive], kind="stable")]
    ranked = values[order]
    m = n - 1  # the others

    def kth(k: int, left_out: int) -> float:
        return float(ranked[k if k < left_out else k + 1])

    out = []
    for rank, pos in enumerate(order):
        low, high = kth((m - 1) // 2, rank), kth(m // 2, rank)
        out.append((int(pos), (low + high) / 2))
    return sorted(out)


def _check_area_per_household(frame: pd.DataFrame, ctx: _Ctx) -> None:
    if not {"floor_area_m2", "households"} <= set(frame.columns):
        return
    pairs = zip(frame["floor_area_m2"], frame["households"], strict=True)
    for pos, (area, households) in enumerate(pairs):
        if is_missing(area) or is_missing(households) or households <= 0 or area <= 0:
            continue
        per = float(area) / float(households)
        if not _MIN_M2_PER_HOUSEHOLD <= per <= _MAX_M2_PER_HOUSEHOLD:
            ctx.add(
                f"floor_area_m2 {float(area):g} m² for {households} households is "
                f"{per:.1f} m² per household, which is implausible",
                "check the floor area (m², not 万m²) and the number of households",
                severity="warning",
                pos=pos,
                column="floor_area_m2",
            )


def _did_you_mean(value: str, standard: pd.DataFrame | None) -> str:
    codes = gstandards.suggest_codes(value, table=standard, n=3)
    return f"did you mean {' or '.join(codes)}?" if codes else "use a code of the standards table"


def _check_types(
    frame: gpd.GeoDataFrame, ctx: _Ctx, standard: pd.DataFrame | None
) -> gpd.GeoDataFrame:
    """Facility ``type`` and site ``allowed_types`` must be codes of the standards table."""
    try:
        if ctx.kind == "facilities" and "type" in frame.columns:
            frame["type"] = _facility_types(frame["type"], ctx, standard)
        if ctx.kind == "sites" and "allowed_types" in frame.columns:
            frame["allowed_types"] = _allowed_types(frame["allowed_types"], ctx, standard)
    except StandardsError as err:
        ctx.add(f"cannot check facility types: {err}", "fix the standards table")
    return frame


def _facility_types(
    values: pd.Series[Any], ctx: _Ctx, standard: pd.DataFrame | None
) -> pd.Series[Any]:
    out: list[object] = []
    for pos, value in enumerate(values):
        if is_missing(value):
            ctx.add(
                "type missing",
                "write the facility type (a code or Chinese name of the standards table)",
                pos=pos,
                column="type",
            )
            out.append(pd.NA)
            continue
        code = gstandards.resolve_type(str(value), table=standard)
        if code is None:
            ctx.add(
                f"type {str(value)!r} is not in the standards table; "
                f"{_did_you_mean(str(value), standard)}",
                "use a code (or the Chinese name) of the standards table",
                pos=pos,
                column="type",
            )
        out.append(value if code is None else code)
    return pd.Series(out, index=values.index, dtype="string")


def _allowed_types(
    values: pd.Series[Any], ctx: _Ctx, standard: pd.DataFrame | None
) -> pd.Series[Any]:
    lists: list[tuple[int | str, ...]] = []
    for pos, items in enumerate(values):
        codes: list[int | str] = []
        for item in items:
            code = gstandards.resolve_type(str(item), table=standard)
            if code is None:
                ctx.add(
                    f"allowed_types {str(item)!r} is not in the standards table; "
                    f"{_did_you_mean(str(item), standard)}",
                    "use codes (or Chinese names) of the standards table",
                    pos=pos,
                    column="allowed_types",
                )
            codes.append(item if code is None else code)
        lists.append(tuple(codes))
    return pd.Series(lists, index=values.index, dtype=object)


_POLYGONAL = frozenset({"Polygon", "MultiPolygon"})
_EXPECTED: dict[str, frozenset[str]] = {
    "polygon": _POLYGONAL,
    "point": frozenset({"Point"}),
    "line": frozenset({"LineString", "MultiLineString"}),
    "point_or_polygon": frozenset({"Point"}) | _POLYGONAL,
    "line_or_polygon": frozenset({"LineString", "MultiLineString"}) | _POLYGONAL,
}
_SHAPE_ZH = {
    "polygon": "a polygon",
    "point": "a point",
    "line": "a line",
    "line_or_polygon": "a line or polygon",
}


def _polygonal_part(geom: BaseGeometry | None) -> BaseGeometry | None:
    """Return the polygons of a (repaired) geometry, as a Polygon or MultiPolygon; None if none."""
    if geom is None or geom.is_empty:
        return None
    if geom.geom_type in _POLYGONAL:
        return geom
    parts = [
        p
        for g in shapely.get_parts(geom)
        for p in (shapely.get_parts(g) if g.geom_type == "MultiPolygon" else [g])
        if p.geom_type == "Polygon" and not p.is_empty
    ]
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)


def _metric(crs: pyproj.CRS | None) -> bool:
    return crs is not None and bool(gcrs.is_metric(crs))


def _check_geometry(frame: gpd.GeoDataFrame, ctx: _Ctx, *, from_table: bool) -> gpd.GeoDataFrame:
    feature = _FEATURE_ZH[ctx.kind]
    geoms = np.array(frame.geometry.array, dtype=object)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    for pos in np.flatnonzero(missing):
        ctx.add(
            "geometry missing or empty",
            f"draw the {feature} or delete the row"
            + (" (check its coordinate cells)" if from_table else ""),
            pos=int(pos),
        )
    changed = _drop_non_finite(geoms, ~missing, ctx, from_table=from_table)
    missing |= shapely.is_missing(geoms)
    changed |= _repair_invalid(geoms, ~missing, ctx, metric=_metric(frame.crs))
    changed |= _check_geometry_types(geoms, ~missing, ctx, from_table=from_table)
    if changed:
        frame[frame.geometry.name] = gpd.GeoSeries(geoms, index=frame.index, crs=frame.crs)
    return frame


def _drop_non_finite(
    geoms: npt.NDArray[np.object_], present: npt.NDArray[np.bool_], ctx: _Ctx, *, from_table: bool
) -> bool:
    """Report geometries with NaN or infinite x/y and blank them in place (GEOS cannot use them).

    The row is a fatal error either way; blanking keeps later checks (repair, datum,
    extent) from tripping over coordinates no library can handle.
    """
    feature = _FEATURE_ZH[ctx.kind]
    rows = np.flatnonzero(present)
    if not len(rows):
        return False
    coords, owner = shapely.get_coordinates(geoms[rows], return_index=True)
    bad = np.unique(owner[~np.isfinite(coords).all(axis=1)])
    for pos in rows[bad]:
        ctx.add(
            "coordinates are not numbers (NaN or Infinity)",
            f"correct the {feature}'s coordinates"
            + (" (its x/y or WKT cells)" if from_table else " or redraw it")
            + ", or delete the row",
            pos=int(pos),
            column="geometry",
        )
        geoms[pos] = None
    return bool(len(bad))


def _repair_invalid(
    geoms: npt.NDArray[np.object_], present: npt.NDArray[np.bool_], ctx: _Ctx, *, metric: bool
) -> bool:
    """Repair invalid geometries in place (warning per row); return whether any changed."""
    feature = _FEATURE_ZH[ctx.kind]
    changed = False
    for pos in np.flatnonzero(present & ~shapely.is_valid(geoms)):
        geom = geoms[pos]
        reason = shapely.is_valid_reason(geom)
        repaired: BaseGeometry | None = shapely.make_valid(geom)
        if ctx.schema.geometry == "polygon" or geom.geom_type in _POLYGONAL:
            repaired = _polygonal_part(repaired)
        if repaired is None or repaired.is_empty:
            ctx.add(
                f"invalid geometry ({reason}) cannot be repaired",
                f"redraw the {feature}",
                pos=int(pos),
            )
            continue
        what = "self-intersecting polygon" if "Self-intersection" in reason else "invalid geometry"
        area = (
            f": area {geom.area:.1f} -> {repaired.area:.1f} m²"
            if metric and geom.geom_type in _POLYGONAL
            else ""
        )
        ctx.add(
            f"{what} repaired{area} ({reason})",
            f"check the {feature} boundary and redraw it if the repair is wrong",
            severity="warning",
            pos=int(pos),
        )
        geoms[pos] = repaired
        changed = True
    return changed


def _check_geometry_types(
    geoms: npt.NDArray[np.object_], present: npt.NDArray[np.bool_], ctx: _Ctx, *, from_table: bool
) -> bool:
    """Check geometry types in place (points from polygons); return whether any changed."""
    expected = ctx.schema.geometry
    feature = _FEATURE_ZH[ctx.kind]
    changed = False
    for pos in np.flatnonzero(present):
        geom = geoms[pos]
        gtype = geom.geom_type
        if geom is None or gtype in _EXPECTED[expected]:
            continue
        if expected == "polygon" and gtype == "Point" and from_table and ctx.kind == "communities":
            ctx.add(
                "community given as a point; draw the boundary for accurate entrances",
                "add a WKT boundary column or provide the 小区 boundaries as a GeoPackage",
                severity="warning",
                pos=int(pos),
            )
        elif expected == "point" and gtype in _POLYGONAL:
            geoms[pos] = geom.representative_point()
            changed = True
            ctx.add(
                f"{feature} given as a {gtype}; its representative point is used",
                "nothing to do, or give the layer as points",
                severity="warning",
                pos=int(pos),
            )
        else:
            ctx.add(
                f"{gtype} where {_SHAPE_ZH.get(expected, 'a point or polygon')} is expected",
                _shape_fix(expected, feature, gtype),
                pos=int(pos),
            )
    return changed


def _shape_fix(expected: str, feature: str, gtype: str) -> str:
    if gtype.startswith("Multi") and expected == "point":
        return f"split it into one {feature} per row (one point each)"
    return {
        "polygon": f"draw the {feature} boundary as a polygon",
        "point": f"draw each {feature} as a point",
        "line": f"draw each {feature} as a line",
        "line_or_polygon": f"draw each {feature} as a line or polygon",
    }.get(expected, f"draw the {feature} as a point or polygon")


def _check_crs(frame: gpd.GeoDataFrame, ctx: _Ctx, datum: DatumLike | None) -> gpd.GeoDataFrame:
    try:
        parsed = None if datum is None else gcrs.parse_datum(datum)
    except CRSError as err:
        ctx.add(str(err), "use WGS84, CGCS2000, GCJ-02, BD-09 or EPSG:xxxx", column="datum")
        return frame
    if frame.crs is None and parsed is None:
        ctx.add(
            "no coordinate system: the file does not say which datum its coordinates use",
            "state the datum: add `datum: CGCS2000` (or WGS84, GCJ-02, BD-09, EPSG:xxxx) to "
            "this layer in the scenario",
            column="datum",
        )
        return frame
    frame, effective, usable = _apply_datum(frame, ctx, parsed)
    if not usable:
        return frame
    try:
        bad = np.asarray(gcrs.implausible_rows(frame, datum=effective, what=ctx.label), dtype=int)
    except CRSError as err:
        ctx.add(str(err), "check the datum of this layer", column="datum")
        return frame
    if effective is not None:
        where = effective.name
    elif parsed is not None and parsed.crs.equals(frame.crs):
        where = parsed.name
    else:
        where = _crs_name(frame.crs)
    _report_implausible(bad, ctx, where)
    if effective is not None and effective.offset is not None and not len(bad):
        try:
            frame = gcrs.to_wgs84(frame, datum=effective, what=ctx.label)
        except CRSError as err:
            ctx.add(str(err), "check the datum of this layer", column="datum")
        else:
            logger.info("%s: %s coordinates converted to WGS84", ctx.label, effective.name)
    return frame


def _apply_datum(
    frame: gpd.GeoDataFrame, ctx: _Ctx, parsed: gcrs.Datum | None
) -> tuple[gpd.GeoDataFrame, gcrs.Datum | None, bool]:
    """Return (frame with a CRS, the datum its coordinates are in if not its own CRS, usable).

    A stated datum labels a frame without CRS. A frame with a CRS keeps it (the scenario's
    datum is the default for files without one), except that a GCJ-02/BD-09 datum marks
    lon/lat coordinates as offset.
    """
    if parsed is None:
        return frame, None, True
    if frame.crs is None:
        return frame.set_crs(parsed.crs), parsed, True
    if parsed.offset is not None:
        if frame.crs.is_projected:
            ctx.add(
                f"the file's CRS {_crs_name(frame.crs)} is projected, but the stated datum "
                f"{parsed.name} is a lon/lat offset datum",
                "remove 'datum:' for this layer, or give GCJ-02/BD-09 data as lon/lat",
                column="datum",
            )
            return frame, None, False
        return frame, parsed, True
    if not _same_datum(frame.crs, parsed.crs):
        ctx.add(
            f"the file says its CRS is {_crs_name(frame.crs)}, but the scenario states "
            f"{parsed.name}; the file's CRS is used",
            "remove 'datum:' for this layer or correct the file's CRS (.prj)",
            severity="warning",
            column="datum",
        )
    return frame, None, True


def _report_implausible(bad: npt.NDArray[np.int_], ctx: _Ctx, where: str) -> None:
    fix = "check the coordinates: x and y (lon/lat) may be swapped, or the datum is wrong"
    for pos in bad[:_MAX_LISTED_ROWS]:
        ctx.add(
            f"coordinates outside the plausible area of {where}",
            fix,
            pos=int(pos),
            column="geometry",
        )
    if len(bad) > _MAX_LISTED_ROWS:
        ctx.add(
            f"{len(bad) - _MAX_LISTED_ROWS} more rows ({len(bad)} in all) have coordinates "
            f"outside the plausible area of {where}",
            fix,
            column="geometry",
        )


def _crs_name(crs: pyproj.CRS) -> str:
    epsg = crs.to_epsg()
    return f"EPSG:{epsg}" if epsg is not None else str(crs.name)


def _same_datum(a: pyproj.CRS, b: pyproj.CRS) -> bool:
    if a == b:
        return True
    geo_a, geo_b = a.geodetic_crs, b.geodetic_crs
    return geo_a is not None and geo_b is not None and bool(geo_a == geo_b)


def _check_overlaps(frame: gpd.GeoDataFrame, ctx: _Ctx) -> None:
    geoms = np.array(frame.geometry.array, dtype=object)
    polygonal = np.array(
        [g is not None and g.geom_type in _POLYGONAL and g.is_valid for g in geoms], dtype=bool
    )
    if polygonal.sum() < 2:  # noqa: PLR2004
        return
    idx = np.flatnonzero(polygonal)
    sub = gpd.GeoSeries(geoms[idx], crs=frame.crs)
    left, right = sub.sindex.query(sub.to_numpy(), predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    if not len(left):
        return
    a, b = sub.to_numpy()[left], sub.to_numpy()[right]
    overlap = shapely.area(shapely.intersection(a, b))
    metric = _metric(frame.crs)
    smaller = np.minimum(shapely.area(a), shapely.area(b))
    flagged = overlap > _OVERLAP_M2 if metric else overlap > _OVERLAP_SHARE * smaller
    for i, j, area, small in zip(
        left[flagged], right[flagged], overlap[flagged], smaller[flagged], strict=True
    ):
        pi, pj = int(idx[i]), int(idx[j])
        size = f"{area:.1f} m²" if metric else f"{100 * area / small:.0f}% of the smaller"
        ctx.add(
            f"communities {ctx.rows[pi]} and {ctx.rows[pj]} overlap by {size}",
            "correct the boundaries so that each building belongs to one 小区",
            severity="warning",
            pos=pi,
        )


def _order_columns(frame: pd.DataFrame, schema: LayerSchema) -> pd.DataFrame:
    """Put canonical columns in schema order, then the others, then the geometry (if any)."""
    geometry = _geometry_name(frame)
    first = [n for n in schema.names if n in frame.columns and n != geometry]
    extras = [c for c in frame.columns if c not in first and c != geometry]
    out: pd.DataFrame = frame[[*first, *extras, *([geometry] if geometry is not None else [])]]
    return out


# --------------------------------------------------------------------------------------------
# read_layer / validate_layer
# --------------------------------------------------------------------------------------------


_OSM_KINDS = ("network", "facilities", "communities")
#: Sheet or GeoPackage table read for a table kind when 'layer:' is not given (the first the
#: file holds): the kind, then its sheet in the ``gisplan init`` workbook.
_TABLE_NAMES: dict[str, tuple[str, ...]] = {
    "commitments": ("commitments", "资金落实"),
    "revenues": ("revenues", "经营性设施"),
    "register": ("register", "项目储备库"),
}


def _read_source(
    path: str | Path,
    kind: str,
    *,
    layer: str | None,
    encoding: str | None,
    x: str | None,
    y: str | None,
    datum: DatumLike | None,
    standard: pd.DataFrame | None,
) -> tuple[gpd.GeoDataFrame | pd.DataFrame, bool]:
    """Read a file of any supported format (OSM by kind); returns (frame, came from a table).

    A table kind comes back as a plain DataFrame (no geometry).
    """
    path = Path(path)
    if layer_schema(kind).is_table:
        return _read_table_kind(path, kind, layer=layer, encoding=encoding), True
    if is_osm(path):
        if not path.exists():
            raise missing_file(path)
        if kind not in _OSM_KINDS:
            raise LayerError(
                f"{path}: an OpenStreetMap extract can give the network, facilities or "
                f"communities layer, not {kind}; give {kind} as a GeoPackage, Shapefile or table"
            )
        try:
            if kind == "network":
                gdf = gosm.read_osm_network(path)
            elif kind == "facilities":
                gdf = gosm.read_osm_facilities(path, standard=standard)
            else:
                gdf = gosm.read_osm_communities(path)
        except LayerError:
            raise
        except (RuntimeError, OSError, ValueError) as err:
            raise LayerError(f"cannot read the OpenStreetMap extract {path}: {err}") from err
        return gdf, False
    if layer is None and path.suffix.lower() == ".gpkg":
        layer = _layer_named(path, kind)
    gdf = read_file(path, layer=layer, encoding=encoding, x=x, y=y, datum=datum)
    return gdf, path.suffix.lower() in TABLE_SUFFIXES


def _read_table_kind(
    path: Path, kind: str, *, layer: str | None, encoding: str | None
) -> pd.DataFrame:
    """Read a table kind: a CSV, a workbook sheet or a GeoPackage table (no geometry)."""
    if is_osm(path):
        raise LayerError(
            f"{path}: {kind} is a table; give it as a CSV, an Excel sheet or a GeoPackage "
            "table, not an OpenStreetMap extract"
        )
    return read_table(path, layer=layer, encoding=encoding, default_layers=_TABLE_NAMES[kind])


def _layer_named(path: Path, kind: str) -> str | None:
    """In a GeoPackage of several layers, the one named like the kind is the default."""
    if remote_problem(path) is not None:  # read_file refuses it; GDAL must not open it first
        return None
    try:
        names = [str(name) for name in pyogrio.list_layers(path)[:, 0]]
    except (RuntimeError, OSError, ValueError):  # read_file reports the unreadable file
        return None
    return kind if kind in names else None


def _emit_warnings(report: ValidationReport, label: str) -> None:
    shown = report.warnings
    for issue in shown:
        logger.warning("%s", issue.format())
    if shown:
        lines = "\n".join(f"  {i.format()}" for i in shown)
        warnings.warn(f"{label}: {len(shown)} warning(s)\n{lines}", GisplanWarning, stacklevel=3)


def _read_checked(
    path: str | Path,
    kind: str,
    *,
    layer: str | None,
    datum: DatumLike | None,
    columns: Mapping[str, str] | None,
    encoding: str | None,
    x: str | None,
    y: str | None,
    standard: pd.DataFrame | None,
    name: str | None,
) -> tuple[gpd.GeoDataFrame | pd.DataFrame, ValidationReport]:
    """Read any supported file and check it (raises only when the file cannot be read)."""
    if datum is not None and is_osm(Path(path)) and gcrs.parse_datum(datum).name != "WGS84":
        raise LayerError(
            f"{path}: datum {gcrs.parse_datum(datum).name} stated for an OpenStreetMap extract; "
            "OSM data is WGS84 by definition (a GCJ-02 or BD-09 datum would move every point "
            "by ~500 m) — remove datum for this layer"
        )
    gdf, from_table = _read_source(
        path, kind, layer=layer, encoding=encoding, x=x, y=y, datum=datum, standard=standard
    )
    return check_layer(
        gdf,
        kind,
        name=name,
        datum=datum,
        columns=columns,
        standard=standard,
        from_table=from_table,
    )


def read_layer(
    path: str | Path,
    kind: str,
    *,
    layer: str | None = None,
    datum: DatumLike | None = None,
    columns: Mapping[str, str] | None = None,
    encoding: str | None = None,
    x: str | None = None,
    y: str | None = None,
    standard: pd.DataFrame | None = None,
    name: str | None = None,
    target_crs: str | int | pyproj.CRS | None = None,
) -> gpd.GeoDataFrame | pd.DataFrame:
    """Read, map and check one layer; raise if it has fatal problems.

    Parameters
    ----------
    path
        Layer file (see :func:`read_file`), or an OpenStreetMap extract (``.osm``,
        ``.osm.pbf``) for the network, facilities or communities layer. A table kind
        (:data:`TABLE_KINDS`) is a CSV, an XLSX sheet or a GeoPackage attribute table.
    kind
        One of :data:`LAYER_KINDS`.
    layer, encoding, x, y
        Passed to :func:`read_file`. For a table kind ``layer`` is the sheet or GeoPackage
        table (default: the one named like the kind, or its sheet of the ``gisplan init``
        workbook: 资金落实 / 经营性设施; else the first sheet or only table); ``x``, ``y``
        are ignored.
    datum, columns, standard, name
        Passed to :func:`check_layer`.
    target_crs
        If given, the result is projected with :func:`gisplan.crs.to_metric` (table kinds
        are never projected).

    Returns
    -------
    geopandas.GeoDataFrame or pandas.DataFrame
        The cleaned layer: a GeoDataFrame, or a plain DataFrame for a table kind. Warnings
        are logged and emitted as one :class:`~gisplan.errors.GisplanWarning`.

    Raises
    ------
    LayerError
        If the file is missing or unreadable.
    ValidationError
        If the layer has fatal problems (``err.report`` lists every issue).
    CRSError
        If ``target_crs`` is not usable.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "设施.gpkg"
    >>> gpd.GeoDataFrame({"设施编号": ["F1"], "设施类型": ["kindergarten"]},
    ...     geometry=[Point(500_050, 3_500_050)], crs=4548).to_file(path)
    >>> gisplan.layers.read_layer(path, "facilities").loc[0, ["facility_id", "type"]].tolist()
    ['F1', 'kindergarten']
    """
    clean, report = _read_checked(
        path, kind, layer=layer, datum=datum, columns=columns, encoding=encoding, x=x, y=y,
        standard=standard, name=name,
    )  # fmt: skip
    report.raise_if_fatal()
    _emit_warnings(report, name or kind)
    if target_crs is not None and not layer_schema(kind).is_table:
        clean = gcrs.to_metric(clean, target=target_crs)
    return clean


def validate_layer(
    path: str | Path,
    kind: str,
    *,
    layer: str | None = None,
    datum: DatumLike | None = None,
    columns: Mapping[str, str] | None = None,
    encoding: str | None = None,
    x: str | None = None,
    y: str | None = None,
    standard: pd.DataFrame | None = None,
    name: str | None = None,
    target_crs: str | int | pyproj.CRS | None = None,
) -> tuple[gpd.GeoDataFrame | pd.DataFrame | None, ValidationReport]:
    """Read and check one layer without raising for data problems.

    Same options as :func:`read_layer`. A missing or unreadable file becomes an error in
    the report and ``None`` instead of a frame.

    Returns
    -------
    tuple of (geopandas.GeoDataFrame, pandas.DataFrame or None; ValidationReport)
        The cleaned layer (projected to ``target_crs`` when given and the layer has no
        fatal problem; a plain DataFrame, never projected, for a table kind) and every
        issue found.

    Examples
    --------
    >>> gdf, report = gisplan.layers.validate_layer("no/such/小区.gpkg", "communities")
    >>> gdf is None, report.errors[0].problem.endswith("file not found")
    (True, True)
    """
    label = name or kind
    try:
        clean, report = _read_checked(
            path, kind, layer=layer, datum=datum, columns=columns, encoding=encoding, x=x, y=y,
            standard=standard, name=name,
        )  # fmt: skip
    except (LayerError, CRSError) as err:
        problem, _, fix = str(err).partition("; ")
        report = ValidationReport()
        report.add(printable(label), printable(problem), printable(fix or "check the file"))
        return None, report
    if target_crs is not None and report.ok and not layer_schema(kind).is_table:
        try:
            clean = gcrs.to_metric(clean, target=target_crs)
        except CRSError as err:
            report.add(label, str(err), "check the target CRS", column="crs")
    return clean, report
