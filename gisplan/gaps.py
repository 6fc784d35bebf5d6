"""Life-circle service gaps (生活圈服务缺口): coverage per community and type, scores, 2SFCA.

Pure pandas on the tables of :mod:`gisplan.access`; no graph is needed:

* :func:`gap_table` — one row per community x facility type: walking distance, the radius
  tested (override > standard's ``service_radius_m`` > level distance), covered or not,
  shortfall in metres, households and residents affected;
* :func:`community_gaps` — per community: how many types are missing, which (in Chinese),
  and a weighted gap score (一老一小 types count double by default);
* :func:`coverage_by_type` — per type: shares (0–1) of communities, households and
  residents within the radius;
* :func:`two_step_fca` — capacity-aware accessibility, classic two-step floating catchment
  (Luo & Wang 2003) on the catchment pairs of ``access.facility_catchments``;
* :func:`data_coverage` — per type, whether the data hold it at all near the study area
  (``present`` / ``absent_within_buffer`` / ``absent_in_data``): a type with no object in
  the data is "数据缺失 — 需核实", not a service gap, and is left out of the gap score
  unless ``GapOptions.data_complete``;
* :func:`edge_effects` — communities whose catchment crosses the edge of the data extent
  (边缘效应: facilities just outside the data are unknown, so their gaps may be overstated);
  :func:`with_edge_effect` adds the flags to a table.

Radii are **planning targets** (服务半径 "不宜大于", LIFE_CIRCLE.md §2), not legal limits.
Administrative types (group ``administrative`` of the standards table: 街道办事处, 派出所,
社区服务中心) are one per 街道 and should be checked for existence within the sub-district
(LIFE_CIRCLE.md §3); they are still measured by walking distance here, and their rows carry
the note
``"行政管理设施：按街道核实是否设置"``.

Residents (``population``) may be unknown for some communities: population-based figures
then leave those communities out of both numerator and denominator, and
:func:`coverage_by_type` says how many were left out (``communities_population_unknown``).
Households are required.

Chinese headers (with units) of the output columns, for exports to planners, come from
:mod:`gisplan.vocabulary`. No function modifies its inputs; outputs are sorted deterministically.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gisplan import standards as gstandards
from gisplan import vocabulary
from gisplan._frozen import FrozenMap
from gisplan._text import is_number
from gisplan.crs import require_metric
from gisplan.errors import LayerError, SchemaError, StandardsError
from gisplan.standards import LevelDistances, short_name

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from shapely.geometry.base import BaseGeometry

__all__ = [
    "ADMINISTRATIVE_NOTE",
    "DATA_STATUSES",
    "DEFAULT_WEIGHT",
    "ONE_OLD_ONE_YOUNG_WEIGHT",
    "GapOptions",
    "community_gaps",
    "coverage_by_type",
    "data_coverage",
    "edge_effects",
    "gap_table",
    "two_step_fca",
    "with_edge_effect",
    "with_pieces",
]

logger = logging.getLogger(__name__)

#: Default gap-score weight of a "一老一小" type (groups ``elderly`` and ``children`` of the
#: standards table: elderly care, childcare).
ONE_OLD_ONE_YOUNG_WEIGHT = 2.0
#: Default gap-score weight of every other type.
DEFAULT_WEIGHT = 1.0

#: Note added to every row of an administrative type (one per 街道, LIFE_CIRCLE.md §3:
#: existence within the sub-district matters, not walking).
ADMINISTRATIVE_NOTE = "行政管理设施：按街道核实是否设置"

#: Data-coverage codes of a facility type (vocabulary domain ``data_status``): at least one
#: facility within the study area + the type's radius; objects of the type in the data but
#: none that near; no object of the type in the data at all; not checked.
DATA_STATUSES = ("present", "absent_within_buffer", "absent_in_data", "not_checked")

_GAP_COLUMNS = [
    "community_id",
    "name",
    "type",
    "type_zh",
    "level",
    "radius_m",
    "radius_source",
    "dist_m",
    "facility_id",
    "covered",
    "shortfall_m",
    "households",
    "population",
    "households_affected",
    "population_affected",
    "data_status",
    "note",
]
_MAX_LISTED = 10


# --------------------------------------------------------------------------- options


@dataclass(frozen=True, kw_only=True, slots=True)
class GapOptions:
    """Options of the gap step.

    Parameters
    ----------
    radius_overrides
        Radius in metres per facility code, replacing the standard's radius (each > 0).
    weights
        Gap-score weight per facility code (each >= 0). Types not listed (or all, when
        ``None``) get :data:`ONE_OLD_ONE_YOUNG_WEIGHT` (2.0) for 一老一小 types
        types and :data:`DEFAULT_WEIGHT` (1.0) otherwise.
    levels
        Level distances used for types whose standard row has no ``service_radius_m``.
    data_complete
        ``False`` (default): a type with no object at all in the facilities layer
        (``data_status`` ``absent_in_data``) is missing data, not a service gap, and is
        left out of the gap score and ``n_missing`` (listed in ``types_no_data``). ``True``:
        the data are complete, so such a type counts as a gap everywhere.

    Raises
    ------
    StandardsError
        If a radius is not a number of metres > 0 or a weight is negative (every problem
        listed). Codes are checked against the standards table by :func:`gap_table`.

    Examples
    --------
    >>> GapOptions(radius_overrides={"kindergarten": 500}).radius_overrides["kindergarten"]
    500.0
    >>> GapOptions(radius_overrides={"kindergarten": -5})
    Traceback (most recent call last):
    ...
    gisplan.errors.StandardsError: GapOptions.radius_overrides: 'kindergarten' = -5 ...
    """

    radius_overrides: Mapping[str, float] = field(default_factory=dict)
    weights: Mapping[str, float] | None = None
    levels: LevelDistances = field(default_factory=LevelDistances)
    data_complete: bool = False

    def __post_init__(self) -> None:
        """Check radii (> 0) and weights (>= 0); store read-only copies."""
        problems = [
            f"GapOptions.radius_overrides: {k!r} = {v!r} is not a radius; "
            "write a number of metres > 0 (or remove it to use the standard's radius)"
            for k, v in self.radius_overrides.items()
            if not (is_number(v) and math.isfinite(float(v)) and float(v) > 0)
        ]
        problems += [
            f"GapOptions.weights: {k!r} = {v!r} is not a weight; write a number >= 0"
            for k, v in (self.weights or {}).items()
            if not (is_number(v) and math.isfinite(float(v)) and float(v) >= 0)
        ]
        problems += [
            f"GapOptions: facility code {k!r} is not text; write the code, e.g. 'kindergarten'"
            for k in [*self.radius_overrides, *(self.weights or {})]
            if not isinstance(k, str)
        ]
        problems += [
            f"GapOptions.data_complete = {v!r}; write true or false"
            for v in [self.data_complete]
            if type(v) is not bool
        ]
        if problems:
            raise StandardsError("\n".join(problems))
        object.__setattr__(
            self,
            "radius_overrides",
            FrozenMap({k: float(v) for k, v in self.radius_overrides.items()}),
        )
        if self.weights is not None:
            object.__setattr__(
                self, "weights", FrozenMap({k: float(v) for k, v in self.weights.items()})
            )


def _weight(code: str, options: GapOptions, favoured: frozenset[str]) -> float:
    if options.weights is not None and code in options.weights:
        return float(options.weights[code])
    return ONE_OLD_ONE_YOUNG_WEIGHT if code in favoured else DEFAULT_WEIGHT


def _one_old_one_young(standard: pd.DataFrame | None) -> frozenset[str]:
    """Return the 一老一小 codes: groups ``elderly`` and ``children`` of the standards table."""
    table = gstandards.standard_table(standard)
    return frozenset(
        gstandards.group_codes("elderly", table) + gstandards.group_codes("children", table)
    )


# --------------------------------------------------------------------------- input checks


def _listed(values: Iterable[object]) -> str:
    items = [str(v) for v in values]
    more = f" and {len(items) - _MAX_LISTED} more" if len(items) > _MAX_LISTED else ""
    return ", ".join(items[:_MAX_LISTED]) + more


def _require_columns(frame: pd.DataFrame, columns: Sequence[str], *, what: str, fix: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise SchemaError(
            f"{what}: column(s) {', '.join(repr(c) for c in missing)} missing "
            f"(columns: {', '.join(map(str, frame.columns))}); {fix}"
        )


def _unique_ids(ids: pd.Series[Any], *, what: str, column: str) -> None:
    dup = ids[ids.duplicated()].unique()
    if len(dup):
        raise LayerError(f"{what}: {column} not unique: {_listed(dup)}; keep one row per id")


def _counts(values: pd.Series[Any], *, what: str, column: str, required: bool) -> pd.Series[Any]:
    """Return a non-negative whole-number column as ``Int64`` (``<NA>`` where missing)."""
    numbers = pd.to_numeric(values, errors="coerce").astype("Float64")
    problems = []
    missing = numbers.isna() & values.notna()
    if missing.any():
        problems.append(f"not a number in rows {_listed(values.index[missing])}")
    if required and values.isna().any():
        problems.append(f"missing in rows {_listed(values.index[values.isna()])}")
    bad = (numbers < 0).fillna(value=False) | (numbers % 1 != 0).fillna(value=False)
    if bad.any():
        problems.append(f"negative or not whole in rows {_listed(values.index[bad])}")
    if problems:
        raise SchemaError(
            f"{what}: {column} {'; '.join(problems)}; write whole numbers >= 0"
            + ("" if required else " or leave the cell empty")
        )
    return numbers.astype("Int64")


def _community_attributes(communities: pd.DataFrame) -> pd.DataFrame:
    """Return ``community_id, name, households, population`` (counts as ``Int64``)."""
    what = "communities"
    _require_columns(
        communities,
        ["community_id", "households"],
        what=what,
        fix="read the layer with gisplan.read_layer (maps 小区编号/户数) or add the columns",
    )
    _unique_ids(communities["community_id"], what=what, column="community_id")
    out: pd.DataFrame = pd.DataFrame(index=communities.index)
    out["community_id"] = communities["community_id"]
    out["name"] = communities["name"] if "name" in communities.columns else pd.NA
    out["households"] = _counts(
        communities["households"], what=what, column="households", required=True
    )
    population = communities["population"] if "population" in communities.columns else None
    if population is None:
        out["population"] = pd.Series(pd.NA, index=communities.index, dtype="Int64")
    else:
        out["population"] = _counts(population, what=what, column="population", required=False)
    return out


def _unknown_codes(table: pd.DataFrame, codes: Iterable[str], *, where: str) -> list[str]:
    known = set(map(str, table.index))
    problems = []
    for code in dict.fromkeys(codes):
        if code not in known:
            close = gstandards.suggest_codes(str(code), table)
            hint = f"did you mean {' or '.join(close)}?" if close else "no close code"
            problems.append(f"{where} {code!r} is not a facility code of the standard; {hint}")
    return problems


def _type_order(types: Iterable[str], table: pd.DataFrame) -> list[str]:
    rank = {str(c): i for i, c in enumerate(table.index)}
    present = set(types)
    return [c for c in rank if c in present]


def _join_notes(*parts: pd.Series[Any]) -> pd.Series[Any]:
    """Join text columns (same index) with ``"；"``, skipping empty parts."""
    index = parts[0].index
    arrays = [p.to_numpy(dtype=object) for p in parts]
    has_text = np.zeros(len(index), dtype=bool)
    for array in arrays:
        has_text |= array != ""
    out = np.full(len(index), "", dtype=object)
    rows = np.flatnonzero(has_text)
    out[rows] = ["；".join(str(a[i]) for a in arrays if a[i]) for i in rows]
    joined: pd.Series[Any] = pd.Series(out, index=index, dtype=str)
    return joined


# --------------------------------------------------------------------------- gap table


def _radii(table: pd.DataFrame, types: Sequence[str], options: GapOptions) -> pd.DataFrame:
    """Radius and its source per type: override > ``service_radius_m`` > level distance."""
    rows = []
    for code in types:
        row = table.loc[code]
        service = pd.to_numeric(pd.Series([row["service_radius_m"]]), errors="coerce").iloc[0]
        if code in options.radius_overrides:
            radius, source = float(options.radius_overrides[code]), "override"
        elif pd.notna(service):
            radius, source = float(service), "standard"
        else:
            radius, source = options.levels.for_level(str(row["level"])), "level"
        rows.append(
            {
                "type": code,
                "type_zh": short_name(row["name_zh"]),
                "level": str(row["level"]),
                "radius_m": radius,
                "radius_source": source,
            }
        )
    radii: pd.DataFrame = pd.DataFrame(
        rows, columns=["type", "type_zh", "level", "radius_m", "radius_source"]
    )
    radii["radius_m"] = radii["radius_m"].astype("float64")
    return radii


def gap_table(
    distances: pd.DataFrame,
    communities: gpd.GeoDataFrame,
    *,
    standard: pd.DataFrame | None = None,
    options: GapOptions = GapOptions(),
    data_status: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Return coverage per community and facility type.

    Parameters
    ----------
    distances
        Long table of :func:`gisplan.access.nearest_facilities`: ``community_id, type,
        dist_m`` (NaN = unreachable) and optionally ``facility_id, note, method``.
    communities
        Communities with ``community_id`` (unique) and ``households`` (whole numbers);
        ``name`` and ``population`` (may be missing per row) are used when present.
    standard
        Standards table from :func:`gisplan.standards.load_standard`; ``None`` loads the
        packaged one.
    options
        Radius overrides, weights and level distances.
    data_status
        Data-coverage code per type (:func:`data_coverage`'s ``data_status``); types not
        given (all, when ``None``) are ``"not_checked"``.

    Returns
    -------
    pandas.DataFrame
        One row per community x type present in ``distances`` (a community with no row for
        a type gets ``dist_m`` NaN and a note), RangeIndex, sorted by ``community_id`` then
        by type in **standard table order**. Columns ``community_id, name, type, type_zh``
        (Chinese name before its first bracket), ``level, radius_m, radius_source``
        (``"override" | "standard" | "level"``), ``dist_m, facility_id, covered`` (boolean;
        unreachable -> False), ``shortfall_m`` (``max(dist_m - radius_m, 0)``; NaN when
        unreachable), ``households, population, households_affected, population_affected``
        (Int64; 0 when covered, ``<NA>`` when the population is unknown), ``data_status``
        (see :data:`DATA_STATUSES`) and ``note`` (why a distance is missing, straight-line
        estimates, administrative types, "数据缺失 — 需核实" for a type absent in the data).

    Raises
    ------
    StandardsError
        If a type, radius override or weight code is not in the standards table (with
        suggestions).
    SchemaError
        If a required column is missing or households are missing or not whole numbers.
    LayerError
        If ids are duplicated or ``distances`` names communities not in ``communities``.

    Examples
    --------
    >>> d = pd.DataFrame({"community_id": ["c1", "c2"], "type": "kindergarten",
    ...                   "dist_m": [250.0, 400.0]})
    >>> c = pd.DataFrame({"community_id": ["c1", "c2"], "households": [120, 300]})
    >>> gap_table(d, c)[["community_id", "covered", "shortfall_m", "households_affected"]]
      community_id  covered  shortfall_m  households_affected
    0           c1     True          0.0                    0
    1           c2    False        100.0                  300
    """
    _require_columns(
        distances,
        ["community_id", "type", "dist_m"],
        what="distances",
        fix="pass the table returned by gisplan.access.nearest_facilities",
    )
    table = gstandards.standard_table(standard)
    comm = _community_attributes(communities)

    dist = distances.copy()
    dist["type"] = dist["type"].astype(str)
    dist["dist_m"] = pd.to_numeric(dist["dist_m"], errors="coerce").astype("float64")
    problems = _unknown_codes(table, dist["type"].unique(), where="distances: type")
    problems += _unknown_codes(table, options.radius_overrides, where="radius override")
    problems += [
        *_unknown_codes(table, options.weights or {}, where="weight"),
        *_bad_statuses(data_status),
    ]
    if problems:
        raise StandardsError(
            "\n".join(problems) + "\n(codes: gisplan.standards.facility_codes(standard))"
        )
    if dist.duplicated(["community_id", "type"]).any():
        dup = dist.loc[dist.duplicated(["community_id", "type"]), ["community_id", "type"]]
        raise LayerError(
            f"distances: more than one row for {_listed(map(tuple, dup.to_numpy()))}; "
            "keep one row per community and type (nearest_facilities returns that)"
        )
    strangers = dist.loc[~dist["community_id"].isin(comm["community_id"]), "community_id"]
    if len(strangers):
        raise LayerError(
            f"distances: communities not in the communities layer: {_listed(strangers.unique())}; "
            "compute distances from the same communities"
        )
    if (dist["dist_m"] < 0).any():
        raise LayerError("distances: negative dist_m; distances must be metres >= 0")

    types = _type_order(dist["type"].unique(), table)
    radii = _radii(table, types, options)
    ids = comm["community_id"].sort_values(kind="stable").to_numpy()
    grid = pd.DataFrame(
        {
            "community_id": np.repeat(ids, len(types)),
            "type": np.tile(np.asarray(types, dtype=object), len(ids)),
        }
    )
    grid["community_id"] = grid["community_id"].astype(comm["community_id"].dtype)
    keep = [
        c for c in ("community_id", "type", "dist_m", "facility_id", "note", "method") if c in dist
    ]
    out = grid.merge(dist[keep], on=["community_id", "type"], how="left", indicator=True)
    out = out.merge(radii, on="type", how="left").merge(comm, on="community_id", how="left")
    out["community_id"] = out["community_id"].astype(comm["community_id"].dtype)

    if "facility_id" not in out.columns:
        out["facility_id"] = pd.NA
    reachable = out["dist_m"].notna()
    out["covered"] = (reachable & (out["dist_m"] <= out["radius_m"])).astype("boolean")
    out["shortfall_m"] = (out["dist_m"] - out["radius_m"]).clip(lower=0.0)
    not_covered = ~out["covered"]
    out["households_affected"] = out["households"].where(not_covered, 0).astype("Int64")
    out["population_affected"] = out["population"].where(not_covered, 0).astype("Int64")

    dist_note = out["note"].fillna("").astype(str) if "note" in out else _blank_text(out)
    method = out["method"].fillna("network").astype(str) if "method" in out else None
    method_note = (
        ("estimated: " + method).where(method != "network", "")
        if method is not None
        else _blank_text(out)
    )
    no_row = pd.Series(
        np.where(out["_merge"] == "left_only", "该小区无此类设施的步行距离", ""),
        index=out.index,
        dtype=str,
    )
    admin_codes = gstandards.group_codes("administrative", table)
    admin = pd.Series(
        np.where(out["type"].isin(admin_codes), ADMINISTRATIVE_NOTE, ""),
        index=out.index,
        dtype=str,
    )
    out["data_status"] = [(data_status or {}).get(t, "not_checked") for t in out["type"]]
    out["note"] = _join_notes(dist_note, method_note, no_row, admin, _no_data_note(out))

    result: pd.DataFrame = out[_GAP_COLUMNS]
    n_unknown = int(comm["population"].isna().sum())
    if n_unknown:
        logger.info(
            "gaps: %d of %d communities have no population; population figures leave them out",
            n_unknown,
            len(comm),
        )
    logger.info(
        "gaps: %d communities x %d types, %d community-type pairs not covered",
        len(ids),
        len(types),
        int(not_covered.sum()),
    )
    return result


def _blank_text(frame: pd.DataFrame) -> pd.Series[Any]:
    return pd.Series("", index=frame.index, dtype=str)


def _bad_statuses(data_status: Mapping[str, str] | None) -> list[str]:
    return [
        f"data_status: {code!r} = {value!r} is not one of {', '.join(DATA_STATUSES)}; "
        "pass the data_status column of gisplan.gaps.data_coverage"
        for code, value in (data_status or {}).items()
        if value not in DATA_STATUSES
    ]


def _no_data_note(out: pd.DataFrame) -> pd.Series[Any]:
    """Return "数据缺失 — 需核实" on the rows of types absent in the data, else ""."""
    label = str(vocabulary.labels("data_status")["absent_in_data"])
    absent = out["data_status"].astype(str).to_numpy() == "absent_in_data"
    note: pd.Series[Any] = pd.Series(np.where(absent, label, ""), index=out.index, dtype=str)
    return note


# --------------------------------------------------------------------------- per community


def _first_seen_rank(types: pd.Series[Any]) -> pd.Series[Any]:
    """Rank of each type by first appearance (gap_table rows follow the standard order)."""
    order = {t: i for i, t in enumerate(pd.unique(types))}
    return types.map(order)


def community_gaps(
    gaps: pd.DataFrame,
    communities: gpd.GeoDataFrame,
    *,
    options: GapOptions = GapOptions(),
    standard: pd.DataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Return the missing facility types and a weighted gap score per community.

    Parameters
    ----------
    gaps
        Table from :func:`gap_table` (``community_id, type, covered``; ``type_zh`` used for
        the Chinese list when present).
    communities
        Communities with ``community_id`` and ``households`` (``name``, ``population``
        optional); its index, row order, geometry and CRS are kept.
    options
        Gap-score weights and ``data_complete`` (see :class:`GapOptions`).
    standard
        Standards table (its ``group`` column names the 一老一小 types); ``None``: the
        packaged one.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``community_id, name, n_types`` (types checked, Int64), ``n_missing``
        (types not covered, Int64), ``missing_types`` (Chinese names joined with "、", in
        the order types first appear in ``gaps``: standard order for :func:`gap_table`),
        ``types_no_data`` (types whose ``data_status`` in ``gaps`` is ``absent_in_data``,
        joined with "、": missing data, left out of ``n_types``, ``n_missing``,
        ``missing_types`` and the score unless ``options.data_complete``; then empty),
        ``gap_score`` (sum of weights of missing types / sum of weights checked, 0–1; NaN
        when no type was checked or all weights are 0), ``households, population,
        geometry``.

    Raises
    ------
    SchemaError, LayerError
        On missing columns, duplicate ids, or ``gaps`` rows for unknown communities.

    Examples
    --------
    >>> g = pd.DataFrame({"community_id": ["c1", "c1"], "type": ["kindergarten", "bus_stop"],
    ...                   "type_zh": ["幼儿园", "公交车站"], "covered": [False, True]})
    >>> c = gpd.GeoDataFrame({"community_id": ["c1"], "households": [120]},
    ...                      geometry=[box(0, 0, 100, 100)], crs=4548)
    >>> out = community_gaps(g, c)
    >>> int(out.loc[0, "n_missing"]), out.loc[0, "missing_types"], float(out.loc[0, "gap_score"])
    (1, '幼儿园', 0.6666666666666666)
    """
    _require_columns(
        gaps,
        ["community_id", "type", "covered"],
        what="gaps",
        fix="pass the table returned by gisplan.gaps.gap_table",
    )
    comm = _community_attributes(communities)
    strangers = gaps.loc[~gaps["community_id"].isin(comm["community_id"]), "community_id"]
    if len(strangers):
        raise LayerError(
            f"gaps: communities not in the communities layer: {_listed(strangers.unique())}; "
            "pass the communities the gap table was built from"
        )
    g = pd.DataFrame(
        {
            "community_id": gaps["community_id"].to_numpy(),
            "type": gaps["type"].astype(str).to_numpy(),
            "type_zh": (gaps["type_zh"] if "type_zh" in gaps.columns else gaps["type"]).to_numpy(),
            "missing": ~gaps["covered"].astype("boolean").fillna(value=False).to_numpy(bool),
        }
    )
    no_data = (
        gaps["data_status"].astype(str).to_numpy() == "absent_in_data"
        if "data_status" in gaps.columns and not options.data_complete
        else np.zeros(len(g), dtype=bool)
    )
    left_out = g[no_data]
    g = g[~no_data]
    favoured = _one_old_one_young(standard)
    weights = {code: _weight(code, options, favoured) for code in g["type"].unique()}
    g["weight"] = g["type"].map(weights).astype("float64")
    g["weight_missing"] = g["weight"].where(g["missing"], 0.0)
    g["rank"] = _first_seen_rank(g["type"])
    g = g.sort_values("rank", kind="stable")
    per = g.groupby("community_id", sort=False).agg(
        n_types=("type", "size"),
        n_missing=("missing", "sum"),
        weight=("weight", "sum"),
        weight_missing=("weight_missing", "sum"),
    )
    listed: dict[Any, list[str]] = {}
    missing = g[g["missing"]]
    for cid, name in zip(missing["community_id"], missing["type_zh"], strict=True):
        listed.setdefault(cid, []).append(str(name))
    key = comm["community_id"]
    out = pd.DataFrame(index=comm.index)
    out["community_id"] = key
    out["name"] = comm["name"]
    out["n_types"] = key.map(per["n_types"]).fillna(0).astype("Int64")
    out["n_missing"] = key.map(per["n_missing"]).fillna(0).astype("Int64")
    out["missing_types"] = pd.Series(
        ["、".join(listed.get(k, ())) for k in key], index=key.index, dtype=str
    )
    unlisted: dict[Any, list[str]] = {}
    for cid, name in zip(left_out["community_id"], left_out["type_zh"], strict=True):
        unlisted.setdefault(cid, []).append(str(name))
    out["types_no_data"] = pd.Series(
        ["、".join(unlisted.get(k, ())) for k in key], index=key.index, dtype=str
    )
    weight = key.map(per["weight"]).astype("float64")
    score = key.map(per["weight_missing"]).astype("float64") / weight.where(weight > 0)
    out["gap_score"] = score.astype("float64")
    out["households"] = comm["households"]
    out["population"] = comm["population"]
    if isinstance(communities, gpd.GeoDataFrame) and communities.geometry.name in communities:
        return gpd.GeoDataFrame(out, geometry=communities.geometry.copy(), crs=communities.crs)
    return gpd.GeoDataFrame(out)


# --------------------------------------------------------------------------- per type


def coverage_by_type(gaps: pd.DataFrame) -> pd.DataFrame:
    """Return coverage shares (0–1) per facility type.

    Parameters
    ----------
    gaps
        Table from :func:`gap_table` (``community_id, type, covered, households``;
        ``population`` may hold ``<NA>``; ``type_zh, radius_m`` used when present).

    Returns
    -------
    pandas.DataFrame
        One row per type, in the order types first appear in ``gaps`` (standard order for
        :func:`gap_table`), RangeIndex. Columns ``type, type_zh, radius_m, communities,
        communities_covered, share_communities, households, households_covered,
        share_households, population, population_covered, share_population,
        communities_population_unknown``. Counts are Int64, shares float 0–1 (NaN when the
        denominator is 0). Population figures leave out communities whose population is
        unknown (counted in ``communities_population_unknown``); ``population`` is
        ``<NA>`` when no community of the type has one. When ``gaps`` has ``data_status``
        (:func:`gap_table`), two more columns: ``data_status`` and ``data_status_zh``
        (Chinese label; "数据缺失 — 需核实" for a type with no object in the data, whose
        0 % is missing data, not a finding).

    Examples
    --------
    >>> g = pd.DataFrame({"community_id": ["c1", "c2", "c3"], "type": "kindergarten",
    ...                   "covered": [True, False, False], "households": [100, 200, 100],
    ...                   "population": [300, None, 200]})
    >>> cov = coverage_by_type(g)
    >>> cov[["share_communities", "share_households", "share_population"]].iloc[0].tolist()
    [0.3333333333333333, 0.25, 0.6]
    """
    _require_columns(
        gaps,
        ["community_id", "type", "covered", "households"],
        what="gaps",
        fix="pass the table returned by gisplan.gaps.gap_table",
    )
    covered = gaps["covered"].astype("boolean").fillna(value=False).to_numpy(bool)
    households = pd.to_numeric(gaps["households"], errors="coerce").astype("Float64")
    population = (
        pd.to_numeric(gaps["population"], errors="coerce").astype("Float64")
        if "population" in gaps.columns
        else pd.Series(pd.NA, index=gaps.index, dtype="Float64")
    )
    g = pd.DataFrame(
        {
            "type": gaps["type"].astype(str).to_numpy(),
            "type_zh": (gaps["type_zh"] if "type_zh" in gaps.columns else gaps["type"]).to_numpy(),
            "radius_m": (
                pd.to_numeric(gaps["radius_m"], errors="coerce")
                if "radius_m" in gaps.columns
                else pd.Series(np.nan, index=gaps.index)
            ).to_numpy(float),
            "covered": covered,
            "households": households.to_numpy(),
            "households_covered": households.where(covered, 0).to_numpy(),
            "population": population.to_numpy(),
            "population_covered": population.where(covered, 0).to_numpy(),
            "population_unknown": population.isna().to_numpy(bool),
        }
    )
    per = g.groupby("type", sort=False).agg(
        type_zh=("type_zh", "first"),
        radius_m=("radius_m", "first"),
        communities=("covered", "size"),
        communities_covered=("covered", "sum"),
        households=("households", "sum"),
        households_covered=("households_covered", "sum"),
        population=("population", lambda s: s.sum(min_count=1)),
        population_covered=("population_covered", lambda s: s.sum(min_count=1)),
        communities_population_unknown=("population_unknown", "sum"),
    )
    out = per.reset_index()
    for col in (
        "communities",
        "communities_covered",
        "households",
        "households_covered",
        "population",
        "population_covered",
        "communities_population_unknown",
    ):
        out[col] = out[col].astype("Float64").round().astype("Int64")
    out["radius_m"] = out["radius_m"].astype("float64")
    for share, total in (
        ("share_communities", "communities"),
        ("share_households", "households"),
        ("share_population", "population"),
    ):
        num = out[f"{total}_covered"].astype("float64")
        den = out[total].astype("Float64").where(out[total] > 0).astype("float64")
        out[share] = (num / den).astype("float64")
    columns = [
        "type",
        "type_zh",
        "radius_m",
        "communities",
        "communities_covered",
        "share_communities",
        "households",
        "households_covered",
        "share_households",
        "population",
        "population_covered",
        "share_population",
        "communities_population_unknown",
    ]
    if "data_status" in gaps.columns:
        first = pd.Series(gaps["data_status"].astype(str).to_numpy(), index=g["type"])
        status = out["type"].map(first.groupby(level=0, sort=False).first())
        out["data_status"] = status.astype(str)
        out["data_status_zh"] = status.map(dict(vocabulary.labels("data_status"))).astype(str)
        columns += ["data_status", "data_status_zh"]
    result: pd.DataFrame = out[columns]
    return result


# --------------------------------------------------------------------------- data coverage


def data_coverage(
    facilities: gpd.GeoDataFrame,
    communities: gpd.GeoDataFrame,
    *,
    types: Sequence[str],
    standard: pd.DataFrame | None = None,
    options: GapOptions = GapOptions(),
) -> pd.DataFrame:
    """Return, per facility type, whether the data hold it near the study area.

    The study area is the convex hull of the communities. A type is ``present`` when at
    least one facility of it lies within the type's radius (as :func:`gap_table` picks it)
    of the study area, straight line; ``absent_within_buffer`` when the facilities layer
    holds the type but none that near; ``absent_in_data`` when it holds no object of the
    type at all: "数据缺失 — 需核实", to be verified on site, not a service gap. The
    absent-in-data types are logged once as a warning.

    Parameters
    ----------
    facilities
        Facilities with ``type`` and geometry, in a metric CRS.
    communities
        Communities (geometry only is used), in the same CRS.
    types
        Facility codes asked for.
    standard, options
        Standards table and gap options (radius overrides, level distances).

    Returns
    -------
    pandas.DataFrame
        One row per type (standard order), RangeIndex: ``type, type_zh, radius_m,
        n_facilities`` (in the layer, Int64), ``n_facilities_near`` (within the study area
        + radius, Int64), ``data_status, data_status_zh``.

    Raises
    ------
    CRSError
        If a layer is not in a metric CRS.
    SchemaError
        If the facilities have no ``type`` column.
    StandardsError
        If a type is not in the standards table.

    Examples
    --------
    >>> c = gpd.GeoDataFrame(geometry=[box(0, 0, 100, 100)], crs=4547)
    >>> f = gpd.GeoDataFrame({"type": ["kindergarten"]}, geometry=[box(900, 0, 910, 10)],
    ...                      crs=4547)
    >>> data_coverage(f, c, types=["kindergarten", "bus_stop"])["data_status"].tolist()
    ['absent_within_buffer', 'absent_in_data']
    """
    require_metric(facilities, what="data_coverage: facilities")
    require_metric(communities, what="data_coverage: communities")
    _require_columns(
        facilities,
        ["type"],
        what="facilities",
        fix="read the layer with gisplan.read_layer (maps 设施类型) or add the column",
    )
    table = gstandards.standard_table(standard)
    problems = _unknown_codes(table, types, where="types:")
    if problems:
        raise StandardsError("\n".join(problems))
    radii = _radii(table, _type_order(types, table), options)
    area = shapely.union_all(communities.geometry.dropna().to_numpy()).convex_hull
    kind = facilities["type"].astype(str).to_numpy()
    gap_m = facilities.geometry.distance(area).to_numpy(float)
    rows = []
    for code, radius in zip(radii["type"], radii["radius_m"], strict=True):
        of_type = kind == code
        near = of_type & (gap_m <= radius)
        status = (
            "present"
            if near.any()
            else "absent_within_buffer"
            if of_type.any()
            else "absent_in_data"
        )
        rows.append((int(of_type.sum()), int(near.sum()), status))
    out = radii[["type", "type_zh", "radius_m"]].copy()
    out["n_facilities"] = pd.array([r[0] for r in rows], dtype="Int64")
    out["n_facilities_near"] = pd.array([r[1] for r in rows], dtype="Int64")
    out["data_status"] = [r[2] for r in rows]
    out["data_status_zh"] = out["data_status"].map(dict(vocabulary.labels("data_status")))
    absent = out.loc[out["data_status"] == "absent_in_data", "type_zh"]
    if len(absent):
        logger.warning(
            "data coverage: %d of %d types have no object at all in the facilities layer "
            "(数据缺失 — 需核实; left out of the gap score unless access: data_complete: true): %s",
            len(absent),
            len(out),
            "、".join(map(str, absent)),
        )
    result: pd.DataFrame = out
    return result


# --------------------------------------------------------------------------- study-area edge


def edge_effects(
    communities: gpd.GeoDataFrame, extent: BaseGeometry | None, *, buffer_m: float
) -> pd.DataFrame:
    """Flag communities whose catchment crosses the edge of the data extent (边缘效应).

    The catchment is the community geometry buffered by ``buffer_m`` (the largest radius
    of the types checked); where it reaches beyond ``extent``, facilities that exist just
    outside the data are unknown, so the community's gaps may be overstated. The count of
    flagged communities is logged as a warning.

    Parameters
    ----------
    communities
        Communities with ``community_id``, in a metric CRS.
    extent
        The data extent (a polygon in the same CRS), e.g. from an OSM file's ``<bounds>``;
        ``None`` when it is unknown (no community is flagged).
    buffer_m
        Catchment radius in metres (>= 0).

    Returns
    -------
    pandas.DataFrame
        Index and order of ``communities``: ``community_id``, ``edge_effect`` (bool) and
        ``edge_effect_zh`` ("边缘效应" or empty).

    Raises
    ------
    CRSError
        If the communities are not in a metric CRS.
    LayerError
        If ``buffer_m`` is not a number >= 0.

    Examples
    --------
    >>> c = gpd.GeoDataFrame({"community_id": ["c1", "c2"]},
    ...                      geometry=[box(0, 0, 100, 100), box(800, 0, 900, 100)], crs=4547)
    >>> edge_effects(c, box(-500, -500, 1000, 600), buffer_m=300)["edge_effect"].tolist()
    [False, True]
    """
    require_metric(communities, what="edge_effects: communities")
    _require_columns(communities, ["community_id"], what="communities", fix="add community_id")
    if not (is_number(buffer_m) and math.isfinite(float(buffer_m)) and float(buffer_m) >= 0):
        msg = f"edge_effects: buffer_m = {buffer_m!r}; write a number of metres >= 0"
        raise LayerError(msg)
    if extent is None:
        flag = np.zeros(len(communities), dtype=bool)
    else:
        flag = ~communities.geometry.buffer(float(buffer_m)).within(extent).to_numpy(bool)
    label = str(vocabulary.labels("study_area_edge")["edge_effect"])
    out: pd.DataFrame = pd.DataFrame(
        {
            "community_id": communities["community_id"].to_numpy(),
            "edge_effect": flag,
            "edge_effect_zh": np.where(flag, label, ""),
        },
        index=communities.index,
    )
    if flag.any():
        logger.warning(
            "study-area edge: %d of %d communities have a catchment (%.0f m) crossing the data "
            "extent's edge (边缘效应: facilities just outside the data are unknown, their gaps "
            "may be overstated): %s",
            int(flag.sum()),
            len(flag),
            float(buffer_m),
            _listed(out.loc[flag, "community_id"]),
        )
    return out


def with_edge_effect(table: pd.DataFrame, edges: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of ``table`` with ``edge_effect`` and ``edge_effect_zh`` by community.

    Parameters
    ----------
    table
        Any table with ``community_id`` (a GeoDataFrame stays one).
    edges
        Table of :func:`edge_effects`.

    Returns
    -------
    pandas.DataFrame
        ``table`` with the two columns added before ``geometry`` / ``note`` when present
        (communities not in ``edges``: ``False`` and empty); index and order kept.

    Examples
    --------
    >>> e = pd.DataFrame({"community_id": ["c1"], "edge_effect": [True],
    ...                   "edge_effect_zh": ["边缘效应"]})
    >>> with_edge_effect(pd.DataFrame({"community_id": ["c1", "c2"]}), e)["edge_effect"].tolist()
    [True, False]
    """
    by_id = edges.set_index("community_id")
    out = table.copy()
    flag = out["community_id"].map(by_id["edge_effect"]).fillna(value=False).astype(bool)
    label = out["community_id"].map(by_id["edge_effect_zh"]).fillna("").astype(str)
    at = next((c for c in ("note", "geometry") if c in out.columns), None)
    position = list(out.columns).index(at) if at is not None else len(out.columns)
    out.insert(position, "edge_effect", flag)
    out.insert(position + 1, "edge_effect_zh", label)
    result: pd.DataFrame = out
    return result


def with_pieces(table: pd.DataFrame, origins: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of ``table`` with the network ``piece`` and ``snap_m`` of each community.

    A community's piece is the main piece (0) when any of its origins is snapped to it, else
    the lowest (longest) minor piece its origins are on: a community on a minor piece reaches
    only what that piece reaches. ``snap_m`` is the smallest snap distance of its origins.

    Parameters
    ----------
    table
        Any table with ``community_id`` (a GeoDataFrame stays one).
    origins
        Table of :func:`gisplan.access.community_origins` (``community_id, piece, snap_m``).

    Returns
    -------
    pandas.DataFrame
        ``table`` with ``piece`` (nullable integer; missing when no origin was snapped, e.g.
        straight-line distances) and ``snap_m`` added before ``edge_effect`` / ``note`` /
        ``geometry`` when present; index and order kept.

    Examples
    --------
    >>> o = pd.DataFrame({"community_id": ["c1", "c1", "c2"], "piece": [3, 0, 2],
    ...                   "snap_m": [4.0, 9.0, 60.0]})
    >>> t = with_pieces(pd.DataFrame({"community_id": ["c1", "c2"]}), o)
    >>> t["piece"].tolist(), t["snap_m"].tolist()
    ([0, 2], [4.0, 60.0])
    """
    piece = pd.to_numeric(origins["piece"], errors="coerce")
    by_community = pd.DataFrame(
        {
            "community_id": origins["community_id"].to_numpy(),
            "piece": piece.to_numpy(dtype=float, na_value=np.nan),
            "snap_m": pd.to_numeric(origins["snap_m"], errors="coerce").to_numpy(dtype=float),
        }
    ).groupby("community_id", sort=False)
    lowest = by_community["piece"].min()
    out = table.copy()
    at = next((c for c in ("edge_effect", "note", "geometry") if c in out.columns), None)
    position = list(out.columns).index(at) if at is not None else len(out.columns)
    out.insert(position, "piece", out["community_id"].map(lowest).astype("Int64"))
    out.insert(position + 1, "snap_m", out["community_id"].map(by_community["snap_m"].min()))
    result: pd.DataFrame = out
    return result


# --------------------------------------------------------------------------- 2SFCA


def _fca_pairs(
    catchments: pd.DataFrame, communities: pd.DataFrame, facilities: pd.DataFrame, demand: str
) -> pd.DataFrame:
    """Return the checked catchment pairs with ``capacity`` and ``demand`` columns."""
    _unique_ids(communities["community_id"], what="communities", column="community_id")
    _unique_ids(facilities["facility_id"], what="facilities", column="facility_id")
    pairs: pd.DataFrame = catchments[["community_id", "facility_id", "type"]].copy()
    pairs["type"] = pairs["type"].astype(str)
    if pairs.duplicated(["community_id", "facility_id"]).any():
        raise LayerError("catchments: a community-facility pair is listed twice; keep one row")
    unknown = []
    for frame, id_col in ((communities, "community_id"), (facilities, "facility_id")):
        strangers = pairs.loc[~pairs[id_col].isin(frame[id_col]), id_col]
        if len(strangers):
            unknown.append(f"{id_col} {_listed(strangers.unique())}")
    if unknown:
        raise LayerError(
            f"catchments: unknown {'; '.join(unknown)}; use the layers the catchments came from"
        )
    capacity = pd.to_numeric(facilities["capacity"], errors="coerce").astype("float64")
    need = pd.to_numeric(communities[demand], errors="coerce").astype("float64")
    if (capacity < 0).any() or (need < 0).any():
        raise LayerError("2SFCA: capacity and demand must be >= 0; fix the negative values")
    pairs["capacity"] = pairs["facility_id"].map(
        pd.Series(capacity.to_numpy(), index=facilities["facility_id"].to_numpy())
    )
    pairs["demand"] = pairs["community_id"].map(
        pd.Series(need.to_numpy(), index=communities["community_id"].to_numpy())
    )
    return pairs


def _fca_ratios(pairs: pd.DataFrame, demand: str) -> pd.DataFrame:
    """Return the pairs of facilities with a capacity, with ``R_j`` as ``ratio`` (step 1)."""
    no_cap = pairs["capacity"].isna()
    if no_cap.any():
        ids = pairs.loc[no_cap, "facility_id"].drop_duplicates().sort_values(kind="stable")
        logger.warning("2SFCA: %d facilities without capacity left out: %s", len(ids), _listed(ids))
    used = pairs[~no_cap]
    unknown_demand = used["demand"].isna()
    if unknown_demand.any():
        ids = used.loc[unknown_demand, "community_id"].drop_duplicates().sort_values(kind="stable")
        logger.warning(
            "2SFCA: %d communities with unknown %s left out of facility ratios: %s",
            len(ids),
            demand,
            _listed(ids),
        )
    load = used.groupby("facility_id", sort=True)["demand"].sum(min_count=1)
    ratio = used["facility_id"].map(used.groupby("facility_id")["capacity"].first() / load)
    with_ratio: pd.DataFrame = used.assign(ratio=ratio.where(np.isfinite(ratio), 0.0).fillna(0.0))
    return with_ratio


def two_step_fca(
    catchments: pd.DataFrame,
    communities: pd.DataFrame,
    facilities: pd.DataFrame,
    *,
    demand: str | None = None,
) -> pd.DataFrame:
    """Return capacity-aware accessibility by the classic two-step floating catchment.

    Step 1, per facility ``j``: ``R_j = capacity_j / sum(demand_k)`` over the communities
    ``k`` within its radius. Step 2, per community ``i`` and type: ``A_i = sum(R_j)`` over
    the facilities ``j`` of the type within reach (Luo & Wang 2003; no distance decay).
    Every pair in ``catchments`` counts as within the radius.

    Facilities without a capacity (NaN) are left out, with a logged warning and a count
    per row (``n_facilities_without_capacity``). Communities with unknown demand (NaN)
    are left out of the facility ratios (warning) but still get ``A_i``. A facility whose
    catchment holds no demand at all adds nothing.

    Parameters
    ----------
    catchments
        Pairs of :func:`gisplan.access.facility_catchments`: ``community_id, facility_id,
        type`` (``dist_m`` is not used).
    communities
        ``community_id`` (unique) and the ``demand`` column.
    facilities
        ``facility_id`` (unique) and ``capacity`` (NaN = unknown, else >= 0).
    demand
        Column of ``communities`` holding the demand. ``None``: ``population`` when that
        column exists and holds a value, else ``households`` (logged).

    Returns
    -------
    pandas.DataFrame
        One row per community x type (types of ``catchments``), sorted by ``community_id``
        then ``type``, RangeIndex: ``community_id, type, accessibility`` (capacity per unit
        of demand; 0 with no facility within reach), ``n_facilities_within`` (facilities
        with a capacity, Int64), ``n_facilities_without_capacity`` (Int64), ``note``.

    Raises
    ------
    SchemaError
        If a required column is missing (including ``capacity`` and ``demand``).
    LayerError
        On duplicate ids, negative capacities or demand, duplicate pairs, or pairs naming
        unknown communities or facilities.

    Examples
    --------
    >>> pairs = pd.DataFrame({"community_id": ["c1", "c2"], "facility_id": "f1",
    ...                       "type": "kindergarten"})
    >>> comm = pd.DataFrame({"community_id": ["c1", "c2"], "population": [100, 300]})
    >>> fac = pd.DataFrame({"facility_id": ["f1"], "capacity": [80.0]})
    >>> two_step_fca(pairs, comm, fac)["accessibility"].tolist()
    [0.2, 0.2]
    """
    _require_columns(
        catchments,
        ["community_id", "facility_id", "type"],
        what="catchments",
        fix="pass the table returned by gisplan.access.facility_catchments",
    )
    if demand is None:
        has_population = (
            "population" in communities.columns and communities["population"].notna().any()
        )
        demand = "population" if has_population else "households"
        if not has_population:
            logger.info("2SFCA: no population given; demand is households")
    _require_columns(
        communities,
        ["community_id", demand],
        what="communities",
        fix="add the demand column or choose another with demand=... (e.g. 'households')",
    )
    _require_columns(
        facilities,
        ["facility_id", "capacity"],
        what="facilities",
        fix="2SFCA needs a capacity per facility (规模: places, beds, ...)",
    )
    pairs = _fca_pairs(catchments, communities, facilities, demand)
    no_cap = pairs["capacity"].isna()
    used = _fca_ratios(pairs, demand)
    known_types = [*pairs["type"]]
    if "type" in facilities.columns:
        known_types += [str(t) for t in facilities["type"].dropna()]
    types = sorted(set(known_types))
    ids_sorted = pd.Series(communities["community_id"]).sort_values(kind="stable").to_numpy()
    grid = pd.DataFrame(
        {
            "community_id": np.repeat(ids_sorted, len(types)),
            "type": np.tile(np.asarray(types, dtype=object), len(ids_sorted)),
        }
    )
    grid["community_id"] = grid["community_id"].astype(communities["community_id"].dtype)
    key = ["community_id", "type"]
    a = used.groupby(key, sort=False).agg(
        accessibility=("ratio", "sum"), n_facilities_within=("ratio", "size")
    )
    b = pairs[no_cap].groupby(key, sort=False).size().rename("n_facilities_without_capacity")
    out = grid.merge(a, on=key, how="left").merge(b, on=key, how="left")
    out["community_id"] = out["community_id"].astype(communities["community_id"].dtype)
    out["accessibility"] = out["accessibility"].fillna(0.0).astype("float64")
    for col in ("n_facilities_within", "n_facilities_without_capacity"):
        out[col] = out[col].fillna(0).astype("Int64")
    need = pd.to_numeric(communities[demand], errors="coerce")
    demand_zh = vocabulary.column_label(demand, layer="communities").split("（")[0]
    demand_unknown = out["community_id"].map(
        pd.Series(need.isna().to_numpy(), index=communities["community_id"].to_numpy())
    )
    out["note"] = _join_notes(
        pd.Series(
            np.where(
                demand_unknown,
                f"{demand_zh}未知：不计入设施容量比",
                "",
            ),
            index=out.index,
            dtype=str,
        ),
        pd.Series(
            np.where(
                out["n_facilities_without_capacity"] > 0,
                "facilities without capacity left out",
                "",
            ),
            index=out.index,
            dtype=str,
        ),
    )
    result: pd.DataFrame = out[
        [
            "community_id",
            "type",
            "accessibility",
            "n_facilities_within",
            "n_facilities_without_capacity",
            "note",
        ]
    ]
    return result
