"""Siting new community facilities on inefficient land and idle buildings (低效用地、闲置建筑).

Land freed by redeveloping inefficient land within a community's 15-minute life circle goes
first to community service facilities (Linyi plan 四(二)); the national notice asks for idle
buildings and vacant land to be found first, and for what residents need most (一老一小,
meals, parking, sport) to be added (POLICY.md §5). :func:`propose` answers "which candidate
sites, for which facility types, close the most gaps for the money?" in one call:

1. **Before.** Each community's walking distance to the nearest existing facility of each type
   (:func:`gisplan.access.nearest_facilities`) and its coverage by the rule of
   :func:`gisplan.gaps.gap_table`: covered when the distance is at most the type's radius
   (scenario override > the standard's ``service_radius_m`` > the level distance).
2. **Candidates.** Every site of the sites layer (points or polygons) for every type it allows
   (``allowed_types``), when its area reaches ``min_area_m2`` of the type; optional cost
   ``cost_wan_yuan``. Network distances site → community origins come from
   :func:`gisplan.access.facility_catchments`: sparse, only pairs within the radius.
3. **Models**, solved exactly as 0/1 integer programs with HiGHS
   (:func:`scipy.optimize.milp`), status and MIP gap reported as HiGHS gives them:

   * ``"mclp"`` (maximal covering): cover the most demand (residents, households or
     一老一小) with at most ``n_new`` new facilities per type and/or within
     ``budget_wan_yuan``; among proposals covering the same demand (to half a person) the
     cheapest;
   * ``"lscp"`` (location set covering): cover **every** community that some candidate can
     reach at least cost (fewest sites when a candidate has no cost). With limits
     (``n_new``, budget) or capacities that cannot cover them all, first the most demand is
     covered, then at least cost;
   * **capacity-aware** for the types given in ``capacities``: a community counts as covered
     only when the facilities within its radius have room for its demand (demand may be
     split between facilities); existing facilities use their ``capacity`` column (blank:
     unlimited) and, with ``expand_existing``, can be enlarged once at a cost.

   Types that compete for the same site (one type per site) or the same budget are solved
   together in one program; the others one by one.
4. **After.** The chosen sites are added as facilities and :func:`gisplan.gaps.gap_table` is
   run again (``gaps_after``); before/after per type in ``coverage``; communities still
   uncovered are named with the reason in ``uncoverable``.

Chinese headers (with units) of the output columns come from :mod:`gisplan.vocabulary`.
No function modifies its inputs; outputs are sorted deterministically.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from gisplan import access, gaps
from gisplan import standards as gstandards
from gisplan._frozen import FrozenMap
from gisplan._siting_model import (
    TypeData,
    blocks,
    capacity_after,
    capacity_cover,
    solve_block,
)
from gisplan._text import cell_text, is_blank, is_number
from gisplan.crs import require_metric_crs
from gisplan.errors import CRSError, LayerError, ScenarioError, SchemaError, StandardsError
from gisplan.network import WalkGraph, build_graph
from gisplan.vocabulary import labels

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from numpy.typing import NDArray

__all__ = [
    "MODELS",
    "WEIGHTS",
    "SitingOptions",
    "SitingResult",
    "propose",
]

logger = logging.getLogger(__name__)

#: Siting models: maximal covering, location set covering.
MODELS: tuple[str, ...] = ("mclp", "lscp")
#: Demand weights of a community.
WEIGHTS: tuple[str, ...] = ("population", "households", "one_old_one_young")

_MAX_LISTED = 10


# --------------------------------------------------------------------------- options


def _mapping_problems(
    name: str, value: object, *, integer: bool = False, allow_zero: bool = False
) -> list[tuple[str, str, str]]:
    if not isinstance(value, Mapping):
        return [(name, f"{value!r} is not a mapping of facility code to number", "write {code: n}")]
    problems: list[tuple[str, str, str]] = []
    for key, v in value.items():
        ok = is_number(v) and math.isfinite(float(v))
        ok = ok and (float(v) >= 0 if allow_zero else float(v) > 0)
        if integer:
            ok = ok and isinstance(v, (int, np.integer))
        if not isinstance(key, str) or not ok:
            what = "whole number" if integer else "number"
            bound = ">= 0" if allow_zero else "> 0"
            problems.append((f"{name}.{key}", f"{v!r} is not a {what} {bound}", f"write a {what}"))
    return problems


@dataclass(frozen=True, kw_only=True, slots=True)
class SitingOptions:
    """Options of :func:`propose`.

    Parameters
    ----------
    types
        Facility codes to site. ``None``: every type of the standard that some site allows
        and that leaves at least one community uncovered today.
    model
        ``"lscp"`` (default: cover every reachable uncovered community at least cost) or
        ``"mclp"`` (maximal covering; needs ``n_new`` and/or ``budget_wan_yuan``).
    n_new
        At most this many new facilities **per type**: one number for every type, or a
        number per code (types not listed: no limit).
    budget_wan_yuan
        Total budget in 万元 for all sites (and expansions) together; sites without
        ``cost_wan_yuan`` are left out when a budget is set.
    weight
        Demand of a community: ``"population"`` (residents; a blank row is estimated as
        households x the median residents per household, a missing column falls back to
        households), ``"households"``, or ``"one_old_one_young"`` (一老一小): elderly
        residents for the ``elderly`` group of the standards table, children for the
        ``children`` group, both for other types. Read per community: counts ``elderly`` /
        ``children`` if given, else shares ``elderly_share`` / ``child_share`` (0–1) x
        residents; rows with neither fall back to residents (logged and noted).
    radius_m
        Radius in metres per facility code, replacing the standard's radius (as the access
        step's ``radius_m``).
    allow_multiple_types_per_site
        ``False`` (default): a site hosts at most one new facility. ``True``: a site may host
        several of its allowed types (e.g. an idle building becoming a 综合服务站) as long as
        their ``min_area_m2`` add up to at most its area; its cost is paid once.
    min_area_m2
        Least site area (m²) a facility of a type needs; smaller sites are not candidates
        for it (sites of unknown area neither, when the type has a minimum).
    capacities
        Capacity of one new facility per type, in the units of ``weight`` (e.g. 3000
        residents). Types listed are sited capacity-aware (see :func:`propose`).
    expand_existing
        For capacity-aware types: existing facilities with a ``capacity`` can be enlarged
        once by ``expansion_capacity`` at ``expansion_cost_wan_yuan``.
    expansion_capacity
        Capacity added by one expansion, per type (default: ``capacities`` of the type).
    expansion_cost_wan_yuan
        Cost of one expansion in 万元, per type (required for every capacity-aware type
        when ``expand_existing``).
    max_snap_m
        Points farther than this from the network are unreachable.
    time_limit_s
        Time limit of each HiGHS solve, seconds.
    mip_rel_gap
        Relative MIP gap at which HiGHS may stop (0: prove optimality).

    Raises
    ------
    ScenarioError
        Listing every bad field (codes are checked against the standard by
        :func:`propose`).

    Examples
    --------
    >>> SitingOptions().model, SitingOptions(model="mclp", n_new=2).limit_for("nursery")
    ('lscp', 2)
    >>> SitingOptions(model="pmedian")
    Traceback (most recent call last):
    ...
    gisplan.errors.ScenarioError: SitingOptions.model = 'pmedian' is not a model; ...
    """

    types: tuple[str, ...] | None = None
    model: str = "lscp"
    n_new: int | Mapping[str, int] | None = None
    budget_wan_yuan: float | None = None
    weight: str = "population"
    radius_m: Mapping[str, float] = field(default_factory=dict)
    allow_multiple_types_per_site: bool = False
    min_area_m2: Mapping[str, float] = field(default_factory=dict)
    capacities: Mapping[str, float] = field(default_factory=dict)
    expand_existing: bool = False
    expansion_capacity: Mapping[str, float] = field(default_factory=dict)
    expansion_cost_wan_yuan: Mapping[str, float] = field(default_factory=dict)
    max_snap_m: float = 200.0
    time_limit_s: float = 60.0
    mip_rel_gap: float = 0.0

    def __post_init__(self) -> None:  # noqa: C901, PLR0912 - one check per field
        """Check every field; raise once listing all problems; store read-only copies."""
        problems: list[tuple[str, str, str]] = []
        if self.types is not None:
            given: object = self.types
            types = (given,) if isinstance(given, str) else tuple(self.types)
            if not all(isinstance(t, str) for t in types):
                problems.append(("types", f"{self.types!r} is not a list of codes", "list codes"))
            else:
                object.__setattr__(self, "types", tuple(dict.fromkeys(types)))
        if self.model not in MODELS:
            problems.append(("model", f"{self.model!r} is not a model", "write mclp or lscp"))
        if self.weight not in WEIGHTS:
            problems.append(
                ("weight", f"{self.weight!r} is not a weight", f"write one of {', '.join(WEIGHTS)}")
            )
        n_new = self.n_new
        if isinstance(n_new, Mapping):
            problems += _mapping_problems("n_new", n_new, integer=True, allow_zero=True)
        elif n_new is not None and not (
            isinstance(n_new, (int, np.integer)) and not isinstance(n_new, bool) and n_new >= 0
        ):
            problems.append(("n_new", f"{n_new!r} is not a whole number >= 0", "write e.g. 2"))
        budget = self.budget_wan_yuan
        if budget is not None and not (
            is_number(budget) and math.isfinite(float(budget)) and float(budget) >= 0
        ):
            problems.append(("budget_wan_yuan", f"{budget!r} is not >= 0", "write 万元, e.g. 500"))
        if self.model == "mclp" and n_new is None and budget is None:
            problems.append(
                ("n_new", "mclp needs a limit", "set n_new or budget_wan_yuan, or use lscp")
            )
        for name in ("radius_m", "capacities", "expansion_capacity"):
            problems += _mapping_problems(name, getattr(self, name))
        problems += _mapping_problems("min_area_m2", self.min_area_m2, allow_zero=True)
        problems += _mapping_problems(
            "expansion_cost_wan_yuan", self.expansion_cost_wan_yuan, allow_zero=True
        )
        for name in ("allow_multiple_types_per_site", "expand_existing"):
            if not isinstance(getattr(self, name), bool):
                problems.append((name, f"{getattr(self, name)!r} is not true/false", "fix it"))
        if self.expand_existing and isinstance(self.expansion_cost_wan_yuan, Mapping):
            missing = [t for t in self.capacities if t not in self.expansion_cost_wan_yuan]
            if missing:
                problems.append(
                    (
                        "expansion_cost_wan_yuan",
                        f"no cost for {', '.join(missing)}",
                        "give the cost of one expansion per capacity-aware type",
                    )
                )
        for name, low in (("max_snap_m", 0.0), ("time_limit_s", 0.0)):
            v = getattr(self, name)
            if not (is_number(v) and math.isfinite(float(v)) and float(v) > low):
                problems.append((name, f"{v!r} is not a number > 0", "fix it"))
        gap = self.mip_rel_gap
        if not (is_number(gap) and 0 <= float(gap) < 1):
            problems.append(("mip_rel_gap", f"{gap!r} is not in [0, 1)", "write e.g. 0 or 0.01"))
        ScenarioError.check("SitingOptions", "siting", problems)
        for name in (
            "radius_m",
            "min_area_m2",
            "capacities",
            "expansion_capacity",
            "expansion_cost_wan_yuan",
        ):
            object.__setattr__(
                self, name, FrozenMap({k: float(v) for k, v in getattr(self, name).items()})
            )
        if isinstance(n_new, Mapping):
            object.__setattr__(self, "n_new", FrozenMap({k: int(v) for k, v in n_new.items()}))

    def limit_for(self, code: str) -> int | None:
        """Return the most new facilities of type ``code`` (``None``: no limit)."""
        if isinstance(self.n_new, Mapping):
            value = self.n_new.get(code)
            return None if value is None else int(value)
        return None if self.n_new is None else int(self.n_new)

    def codes(self) -> list[str]:
        """Return every facility code the options name (to check against the standard)."""
        named = list(self.types or ())
        for name in ("radius_m", "min_area_m2", "capacities"):
            named += list(getattr(self, name))
        named += list(self.expansion_capacity) + list(self.expansion_cost_wan_yuan)
        if isinstance(self.n_new, Mapping):
            named += list(self.n_new)
        return list(dict.fromkeys(named))


# --------------------------------------------------------------------------- result


@dataclass(frozen=True, kw_only=True)
class SitingResult:
    """What :func:`propose` found.

    Attributes
    ----------
    sites_chosen
        One row per new facility (and expansion): ``site_id, type, type_zh, kind``
        (``inefficient_land``, ``idle_building``, ``expansion``, …), ``cost_wan_yuan`` (a
        site hosting several types splits its cost equally), ``area_m2``,
        ``communities_newly_covered, households_newly_covered, residents_newly_covered,
        weight_newly_covered`` (communities newly covered, each counted once: at its nearest
        chosen site, or for capacity-aware types the one serving most of it),
        ``newly_covered_ids``, ``note``,
        ``geometry``; sorted by site_id then type.
    coverage
        Before/after per type: ``type, type_zh, radius_m, cover_rule`` (``distance`` or
        ``distance+capacity``), ``communities, communities_before, communities_after,
        households_before, households_after, residents_before, residents_after,
        share_before, share_after`` (residents covered / residents, 0–1), ``added``
        (communities), ``new_facilities``.
    gaps_before, gaps_after
        :func:`gisplan.gaps.gap_table` for the sited types without / with the proposal.
    uncoverable
        Communities still uncovered after the proposal: ``type, community_id,
        uncovered_reason_code`` (``no_candidate_in_radius``, ``left_out``, ``not_solved``),
        ``uncovered_reason``.
    info
        Per type: ``type, model, solver_status`` (HiGHS's, of the program the type was solved
        in), ``objective`` (the type's part: demand newly covered for mclp; cost in 万元,
        or the number of sites when costs are missing, for lscp), ``mip_gap, time_s`` (of
        that program), ``candidates, demand, chosen, cost_wan_yuan, solved_with`` (types
        solved in the same program; empty when alone), ``note``.
    notes
        General remarks (empty sites layer, fallbacks of weights, sites left out).
    """

    sites_chosen: gpd.GeoDataFrame
    coverage: pd.DataFrame
    gaps_before: pd.DataFrame
    gaps_after: pd.DataFrame
    uncoverable: pd.DataFrame
    info: pd.DataFrame
    notes: tuple[str, ...] = ()


# --------------------------------------------------------------------------- inputs


def _frame(data: pd.DataFrame | dict[str, Any]) -> pd.DataFrame:
    """``pd.DataFrame(data)``, typed."""
    frame: pd.DataFrame = pd.DataFrame(data)
    return frame


def _listed(values: Iterable[object]) -> str:
    items = [str(v) for v in values]
    more = f" and {len(items) - _MAX_LISTED} more" if len(items) > _MAX_LISTED else ""
    return ", ".join(items[:_MAX_LISTED]) + more


def _unknown(code: str, table: pd.DataFrame) -> str:
    close = gstandards.suggest_codes(code, table)
    return (
        f"did you mean {' or '.join(close)}?" if close else "see gisplan.standards.facility_codes"
    )


def _check_codes(codes: Sequence[str], table: pd.DataFrame) -> None:
    known = {str(c) for c in table.index}
    bad = [
        f"siting options: {code!r} is not a facility code of the standard; {_unknown(code, table)}"
        for code in codes
        if code not in known
    ]
    if bad:
        raise StandardsError("\n".join(bad))


def _allowed(value: object) -> list[str]:
    if isinstance(value, (tuple, list, np.ndarray)):
        return [cell_text(v) for v in value if cell_text(v)]
    if is_blank(value):
        return []
    text = cell_text(value)
    return [s for s in pd.Series([text]).str.split(r"[,，、;；\s]+", regex=True).iloc[0] if s]


def _numeric(frame: pd.DataFrame, column: str, what: str) -> NDArray[np.float64]:
    if column not in frame.columns:
        return np.full(len(frame), np.nan)
    raw = frame[column]
    values = pd.to_numeric(raw, errors="coerce").astype("float64")
    bad = (values.isna() & raw.notna()) | (values < 0)
    if bad.any():
        rows = [f"row {p + 1}" for p in np.flatnonzero(bad.to_numpy(bool))]
        raise LayerError(
            f"{what}: {column} is not a number >= 0 in {_listed(rows)}; write a number or "
            "leave the cell empty"
        )
    return np.array(values.to_numpy(float), dtype=float)


def _candidate_sites(sites: gpd.GeoDataFrame, table: pd.DataFrame) -> pd.DataFrame:
    """Return ``site_id, kind, area_m2, cost_wan_yuan, allowed, geometry`` (checked)."""
    if "site_id" not in sites.columns:
        raise SchemaError(
            f"sites: column 'site_id' missing (columns: {', '.join(map(str, sites.columns))}); "
            "read the layer with gisplan.read_layer (maps 地块编号) or add the column"
        )
    ids = sites["site_id"].map(cell_text)
    dup = sorted(set(ids[ids.duplicated()]))
    if dup or (ids == "").any():
        raise LayerError(
            f"sites: site_id missing or not unique ({_listed(dup) or 'blank'}); "
            "give every site its own id"
        )
    problems: list[str] = []
    allowed: list[tuple[str, ...]] = []
    column = sites["allowed_types"] if "allowed_types" in sites.columns else None
    for pos, sid in enumerate(ids):
        codes: list[str] = []
        for item in _allowed(None if column is None else column.iloc[pos]):
            code = gstandards.resolve_type(item, table=table)
            if code is None:
                problems.append(
                    f"sites: row {pos + 1} (site_id {sid!r}): allowed_types {item!r} is not a "
                    f"facility code of the standard; {_unknown(item, table)}"
                )
            else:
                codes.append(code)
        allowed.append(tuple(dict.fromkeys(codes)))
    if problems:
        raise StandardsError("\n".join(problems))
    geoms = np.asarray(sites.geometry.array, dtype=object)
    area = _numeric(sites, "area_m2", "sites")
    polygonal = np.isin(shapely.get_type_id(geoms), [3, 6])  # Polygon, MultiPolygon
    fill = np.isnan(area) & polygonal
    area[fill] = shapely.area(geoms[fill])
    kind = (
        sites["kind"].map(cell_text).to_numpy(dtype=object)
        if "kind" in sites.columns
        else np.full(len(sites), "", dtype=object)
    )
    return _frame(
        {
            "site_id": ids.to_numpy(dtype=object),
            "kind": kind,
            "area_m2": area,
            "cost_wan_yuan": _numeric(sites, "cost_wan_yuan", "sites"),
            "allowed": allowed,
            "geometry": geoms,
        }
    )


def _est_population(comm: pd.DataFrame, notes: list[str]) -> NDArray[np.float64]:
    households = pd.to_numeric(comm["households"], errors="coerce").to_numpy(float)
    if "population" not in comm.columns:
        notes.append("communities have no population column: residents are households")
        return households
    pop = pd.to_numeric(comm["population"], errors="coerce").to_numpy(float)
    blank = np.isnan(pop)
    if blank.any():
        known = ~blank & (households > 0)
        ratio = float(np.median(pop[known] / households[known])) if known.any() else 1.0
        pop = np.where(blank, households * ratio, pop)
        notes.append(
            f"{int(blank.sum())} communities without population: estimated as households x "
            f"{ratio:.2f} (median residents per household)"
        )
    return pop


def _weights(
    comm: pd.DataFrame, how: str, code: str, table: pd.DataFrame, notes: list[str]
) -> NDArray[np.float64]:
    """Demand of each community for ``code`` (see :class:`SitingOptions` ``weight``)."""
    if how == "households":
        return pd.to_numeric(comm["households"], errors="coerce").fillna(0).to_numpy(float)
    pop = _est_population(comm, [])
    if how == "population":
        return pop
    groups = []
    if code not in gstandards.group_codes("children", table):
        groups.append(("elderly", "elderly_share"))
    if code not in gstandards.group_codes("elderly", table):
        groups.append(("children", "child_share"))
    total = np.zeros(len(comm))
    known = np.ones(len(comm), dtype=bool)
    for count_col, share_col in groups:
        count = _numeric(comm, count_col, "communities")
        share = _numeric(comm, share_col, "communities")
        if np.any(share > 1):
            raise LayerError(f"communities: {share_col} above 1; write fractions 0–1 (0.2, not 20)")
        value = np.where(np.isnan(count), share * pop, count)
        known &= ~np.isnan(value)
        total += np.nan_to_num(value)
    if not known.all():
        msg = (
            f"weight one_old_one_young for {code}: {int((~known).sum())} communities have no "
            "elderly/children count or share (columns elderly, children, elderly_share, "
            "child_share): weighted by residents"
        )
        logger.info("%s", msg)
        notes.append(msg)
    return np.where(known, total, pop)


# --------------------------------------------------------------------------- propose


def _facilities(facilities: gpd.GeoDataFrame | None, crs: pyproj.CRS) -> gpd.GeoDataFrame:
    if facilities is None:
        return gpd.GeoDataFrame(
            {"facility_id": pd.Series(dtype=str), "type": pd.Series(dtype=str)},
            geometry=gpd.GeoSeries([], crs=crs),
        )
    missing = [c for c in ("facility_id", "type") if c not in facilities.columns]
    if missing:
        raise SchemaError(
            f"facilities: column(s) {', '.join(map(repr, missing))} missing; read the layer "
            "with gisplan.read_layer or add them"
        )
    cols = ["facility_id", "type"] + (["capacity"] if "capacity" in facilities.columns else [])
    out = gpd.GeoDataFrame(
        facilities[cols].copy(), geometry=facilities.geometry.to_numpy(), crs=facilities.crs
    )
    out["facility_id"] = out["facility_id"].astype(str)
    out["type"] = out["type"].astype(str)
    return out


def _positions(ids: NDArray[np.object_], values: pd.Series[Any]) -> NDArray[np.int64]:
    return np.asarray(np.searchsorted(ids, values.astype(str).to_numpy(dtype=object)), np.int64)


def _empty_result(
    comm_ids: NDArray[np.object_], crs: pyproj.CRS | None, notes: list[str]
) -> SitingResult:
    del comm_ids
    for note in notes:
        logger.info("siting: %s", note)
    return SitingResult(
        sites_chosen=gpd.GeoDataFrame(
            {c: pd.Series(dtype=object) for c in _CHOSEN_COLUMNS[:-1]},
            geometry=gpd.GeoSeries([], crs=crs),
        ),
        coverage=pd.DataFrame({c: pd.Series(dtype=object) for c in _COVERAGE_COLUMNS}),
        gaps_before=pd.DataFrame(),
        gaps_after=pd.DataFrame(),
        uncoverable=pd.DataFrame({c: pd.Series(dtype=object) for c in _UNCOVERABLE_COLUMNS}),
        info=pd.DataFrame({c: pd.Series(dtype=object) for c in _INFO_COLUMNS}),
        notes=tuple(notes),
    )


_CHOSEN_COLUMNS = [
    "site_id", "type", "type_zh", "kind", "cost_wan_yuan", "area_m2",
    "communities_newly_covered", "households_newly_covered", "residents_newly_covered",
    "weight_newly_covered", "newly_covered_ids", "note", "geometry",
]  # fmt: skip
_COVERAGE_COLUMNS = [
    "type", "type_zh", "radius_m", "cover_rule", "communities", "communities_before",
    "communities_after", "households_before", "households_after", "residents_before",
    "residents_after", "share_before", "share_after", "added", "new_facilities",
]  # fmt: skip
_UNCOVERABLE_COLUMNS = ["type", "community_id", "uncovered_reason_code", "uncovered_reason"]
_INFO_COLUMNS = [
    "type", "model", "solver_status", "objective", "mip_gap", "time_s", "candidates", "demand",
    "chosen", "cost_wan_yuan", "solved_with", "note",
]  # fmt: skip


_DEFAULT_OPTIONS = SitingOptions()


def propose(
    communities: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame | None,
    sites: gpd.GeoDataFrame | None,
    network: gpd.GeoDataFrame | None = None,
    *,
    options: SitingOptions = _DEFAULT_OPTIONS,
    standard: pd.DataFrame | None = None,
    graph: WalkGraph | None = None,
    origins: gpd.GeoDataFrame | None = None,
) -> SitingResult:
    """Propose new facilities on candidate sites to close life-circle gaps.

    Parameters
    ----------
    communities
        Polygons with ``community_id`` (unique) and ``households``; ``population`` and the
        一老一小 columns (see :class:`SitingOptions`) are used when present.
    facilities
        Existing facilities: points with ``facility_id, type`` (``capacity`` for
        capacity-aware types); ``None`` for none.
    sites
        Candidate sites (points or polygons): ``site_id``, ``allowed_types`` (codes or
        Chinese names, a tuple or text such as ``"elderly_day_care、nursery"``), and
        ``area_m2`` (polygon area when missing), ``kind``, ``cost_wan_yuan`` when known.
    network
        Walkable lines; not needed when ``graph`` is given.
    options
        :class:`SitingOptions` (default: set covering of every type with a gap).
    standard
        Standards table (:func:`gisplan.standards.load_standard`); ``None``: the packaged one.
    graph
        A :class:`~gisplan.network.WalkGraph` already built from ``network``.
    origins
        Community origins (:func:`gisplan.access.community_origins`), e.g. those of the
        access step; derived from ``communities`` when ``None``.

    Returns
    -------
    SitingResult
        The chosen sites, coverage before/after, gap tables, uncoverable communities and
        solver facts per type.

    Raises
    ------
    LayerError
        If there is no sites layer (``None``), site ids repeat or costs are negative.
    CRSError
        If a layer is not in a metric CRS, or not in the network's.
    StandardsError
        If ``allowed_types`` or an option names an unknown code (with suggestions).
    SchemaError
        If a required column is missing.

    Examples
    --------
    >>> from shapely.geometry import LineString
    >>> net = gpd.GeoDataFrame(geometry=[LineString([(0, 0), (1000, 0)])], crs=4548)
    >>> comm = gpd.GeoDataFrame({"community_id": ["C1", "C2"], "households": [100, 200]},
    ...                         geometry=[box(0, 5, 50, 50), box(600, 5, 650, 50)], crs=4548)
    >>> sites = gpd.GeoDataFrame({"site_id": ["S1", "S2"], "allowed_types": ["nursery"] * 2},
    ...                          geometry=[Point(100, 0), Point(620, 0)], crs=4548)
    >>> opts = gisplan.siting.SitingOptions(model="mclp", n_new=1, weight="households")
    >>> r = gisplan.siting.propose(comm, None, sites, net, options=opts)
    >>> r.sites_chosen[["site_id", "type", "communities_newly_covered"]].values.tolist()
    [['S2', 'nursery', 1]]
    """
    inputs = _check_inputs(
        communities,
        facilities,
        sites,
        network,
        options=options,
        standard=standard,
        graph=graph,
        origins=origins,
    )
    before = _types_before(inputs, options)
    if not before.types:
        return _empty_result(inputs.ids, inputs.sites_crs, list(before.notes))
    cands = _candidates(inputs, before.radius, options)
    demand = _type_data(inputs, before, cands, options)
    notes = list(dict.fromkeys(before.notes + cands.notes + demand.notes))
    solution = _solve(demand.data, cands, options)
    after = _after(inputs, before.types, cands, demand.data, solution, options=options)
    return _result(
        inputs,
        before,
        cands=cands,
        data=demand.data,
        solution=solution,
        after=after,
        notes=notes,
        options=options,
    )


# --------------------------------------------------------------------------- propose: phases


@dataclass(frozen=True, kw_only=True, slots=True)
class _Inputs:
    """The checked inputs of :func:`propose` (phase 1)."""

    table: pd.DataFrame  # standards table
    sites: pd.DataFrame  # :func:`_candidate_sites`, in the layer's order
    sites_crs: pyproj.CRS | None  # the sites layer's CRS, as given
    graph: WalkGraph
    acc: access.AccessOptions
    comm: pd.DataFrame  # communities without geometry, sorted by community_id
    ids: NDArray[np.object_]  # community ids (str), sorted: the community order
    origins: gpd.GeoDataFrame
    fac: gpd.GeoDataFrame  # existing facilities (:func:`_facilities`)


def _check_inputs(
    communities: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame | None,
    sites: gpd.GeoDataFrame | None,
    network: gpd.GeoDataFrame | None,
    *,
    options: SitingOptions,
    standard: pd.DataFrame | None,
    graph: WalkGraph | None,
    origins: gpd.GeoDataFrame | None,
) -> _Inputs:
    """Check the layers and options, and prepare the walking graph and community origins.

    Raises what :func:`propose` documents, in this order: no sites layer, a layer not in a
    metric CRS, community columns missing, unknown codes in the options, bad sites, no
    network, sites not in the network's CRS, facility columns missing. The graph is built
    from ``network`` and the origins derived from ``communities`` unless given; communities
    are sorted by id (their order from here on).
    """
    if sites is None:
        raise LayerError(
            "siting: no sites layer; add a 'sites' layer (低效用地/闲置建筑: site_id, area_m2, "
            "allowed_types, cost_wan_yuan) to the scenario's layers"
        )
    require_metric_crs(sites, what="siting: sites")
    require_metric_crs(communities, what="siting: communities")
    if facilities is not None:
        require_metric_crs(facilities, what="siting: facilities")
    if "community_id" not in communities.columns or "households" not in communities.columns:
        raise SchemaError(
            "communities: columns 'community_id' and 'households' are needed; read the layer "
            "with gisplan.read_layer (maps 小区编号/户数) or add them"
        )
    table = gstandards.standard_table(standard)
    _check_codes(options.codes(), table)
    site_table = _candidate_sites(sites, table)
    if graph is None:
        if network is None:
            raise LayerError("siting: no network; pass the network layer or graph=")
        graph = build_graph(network)
    if not pyproj.CRS.from_user_input(sites.crs).equals(graph.crs):
        raise CRSError(
            f"sites: CRS {sites.crs} differs from the network's {graph.crs}; project both into "
            "the run's metric CRS with gisplan.crs.to_metric"
        )
    acc = access.AccessOptions(max_snap_m=options.max_snap_m)
    comm = pd.DataFrame(communities.drop(columns=communities.geometry.name)).copy()
    comm["community_id"] = comm["community_id"].astype(str)
    comm = comm.sort_values("community_id", kind="stable").reset_index(drop=True)
    if origins is None:
        with_id = communities.copy()
        with_id["community_id"] = with_id["community_id"].astype(str)
        origins = access.community_origins(with_id, graph, options=acc)
    return _Inputs(
        table=table,
        sites=site_table,
        sites_crs=sites.crs,
        graph=graph,
        acc=acc,
        comm=comm,
        ids=comm["community_id"].to_numpy(dtype=object),
        origins=origins,
        fac=_facilities(facilities, graph.crs),
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class _Before:
    """The types to site and their coverage today (phase 2 of :func:`propose`)."""

    types: list[str]  # in the standard's order; empty: nothing to site
    gaps: pd.DataFrame  # gisplan.gaps.gap_table of the types, existing facilities only
    radius: dict[str, float]  # type -> service radius, m
    type_zh: dict[str, str]  # type -> Chinese name
    notes: tuple[str, ...]


def _types_before(inputs: _Inputs, options: SitingOptions) -> _Before:
    """Choose the types to site and measure their coverage by the existing facilities.

    The types are ``options.types``, or else every type some site allows that leaves a
    community uncovered today (or is capacity-aware), in the standard's order. Coverage is
    :func:`gisplan.gaps.gap_table` over walking distances to the nearest existing facility.
    No types (no sites, no site allowing any, every type covered) leaves ``types`` empty
    and says why in ``notes``.
    """
    notes: list[str] = []
    order = {str(c): i for i, c in enumerate(inputs.table.index)}
    if len(inputs.sites) == 0:
        notes.append("the sites layer has no candidate sites (低效用地/闲置建筑): nothing proposed")
    allowed_any = sorted({t for a in inputs.sites["allowed"] for t in a}, key=order.__getitem__)
    check = list(options.types) if options.types is not None else allowed_any
    if not check:
        if len(inputs.sites):
            notes.append("no site allows any facility type (allowed_types empty): nothing proposed")
        return _Before(types=[], gaps=pd.DataFrame(), radius={}, type_zh={}, notes=tuple(notes))
    dist = access.nearest_facilities(
        inputs.graph, inputs.origins, inputs.fac, types=check, options=inputs.acc
    )
    gaps_all = _gap_table(dist, inputs, options)
    if options.types is None:
        uncovered = gaps_all.loc[~gaps_all["covered"].astype(bool), "type"].unique()
        types = [t for t in check if t in set(uncovered) or t in options.capacities]
        left = [t for t in check if t not in types]
        if left:
            notes.append(f"already covered everywhere, not sited: {', '.join(left)}")
    else:
        types = check
    gaps_before = gaps_all[gaps_all["type"].isin(types)].reset_index(drop=True)
    by_type = gaps_before.groupby("type", sort=False)
    return _Before(
        types=types,
        gaps=gaps_before,
        radius=by_type["radius_m"].first().astype(float).to_dict(),
        type_zh=by_type["type_zh"].first().to_dict(),
        notes=tuple(notes),
    )


def _gap_table(dist: pd.DataFrame, inputs: _Inputs, options: SitingOptions) -> pd.DataFrame:
    """:func:`gisplan.gaps.gap_table` of ``dist`` with the options' radius overrides."""
    gap_options = gaps.GapOptions(radius_overrides=dict(options.radius_m))
    return gaps.gap_table(
        dist, _gap_communities(inputs.comm), standard=inputs.table, options=gap_options
    )


def _covered_by_type(
    gap_table: pd.DataFrame, ids: NDArray[np.object_]
) -> dict[str, pd.Series[bool]]:
    """Per type of ``gap_table``: covered or not, per community in ``ids`` order."""
    return {
        str(t): g.set_index("community_id")["covered"].astype(bool).reindex(ids).fillna(value=False)
        for t, g in gap_table.groupby("type", sort=False)
    }


@dataclass(frozen=True, kw_only=True, slots=True)
class _Candidates:
    """The candidates: one per usable site and type it allows (phase 3 of :func:`propose`)."""

    sites: pd.DataFrame  # the candidate sites, sorted by site_id
    cand: pd.DataFrame  # site (row of ``sites``), type, site_id; one row per candidate
    cand_site: NDArray[np.int64]  # cand["site"]
    unit_cost: NDArray[np.float64]  # per row of ``sites``: cost, or 1 when costs are missing
    real_cost: bool  # every usable site has a cost
    notes: tuple[str, ...]


def _candidates(
    inputs: _Inputs, radius: Mapping[str, float], options: SitingOptions
) -> _Candidates:
    """List the candidates: each usable site for each type to site it allows.

    A site is usable with a geometry and, under a budget, a cost; a (site, type) pair needs
    the type's ``min_area_m2``. When a usable site has no cost, every site costs 1 (the
    fewest sites). Sites left out, and a budget below the cheapest site, go to ``notes``.
    """
    notes: list[str] = []
    site_table = inputs.sites.sort_values("site_id", kind="stable").reset_index(drop=True)
    usable = ~(shapely.is_missing(site_table["geometry"].to_numpy()))
    usable &= ~shapely.is_empty(site_table["geometry"].to_numpy())
    if (~usable).any():
        notes.append(f"sites without geometry left out: {_listed(site_table['site_id'][~usable])}")
    no_cost = site_table["cost_wan_yuan"].isna().to_numpy()
    if options.budget_wan_yuan is not None and (no_cost & usable).any():
        notes.append(
            "budget set: sites without cost_wan_yuan left out: "
            + _listed(site_table["site_id"][no_cost & usable])
        )
        usable &= ~no_cost
    real_cost = not (no_cost & usable).any()
    if not real_cost:
        notes.append(
            "some sites have no cost_wan_yuan: every site counts as 1 (the fewest sites), "
            "not by cost"
        )
    rows, too_small = _site_types(site_table, usable, radius, options.min_area_m2)
    if too_small:
        notes.append(f"sites below min_area_m2 of a type: {_listed(too_small)}")
    cand = pd.DataFrame(rows, columns=["site", "type"])
    cand["site_id"] = site_table["site_id"].to_numpy(dtype=object)[cand["site"].to_numpy(int)]
    cand_site = cand["site"].to_numpy(dtype=np.int64)
    unit_cost = (
        site_table["cost_wan_yuan"].to_numpy(float) if real_cost else np.ones(len(site_table))
    )
    if options.budget_wan_yuan is not None and len(cand):
        cheapest = float(np.min(unit_cost[np.unique(cand_site)]))
        if cheapest > float(options.budget_wan_yuan):
            notes.append(
                f"budget {options.budget_wan_yuan:g} 万元 is below the cheapest candidate site "
                f"({cheapest:g} 万元): nothing can be built"
            )
    return _Candidates(
        sites=site_table,
        cand=cand,
        cand_site=cand_site,
        unit_cost=unit_cost,
        real_cost=real_cost,
        notes=tuple(notes),
    )


def _site_types(
    site_table: pd.DataFrame,
    usable: NDArray[np.bool_],
    radius: Mapping[str, float],
    min_area_m2: Mapping[str, float],
) -> tuple[list[tuple[int, str]], list[str]]:
    """(site row, type) of each usable site and type to site it allows, and those too small."""
    rows: list[tuple[int, str]] = []
    too_small: list[str] = []
    site_ids = site_table["site_id"].to_numpy(dtype=object)
    site_area = site_table["area_m2"].to_numpy(float)
    site_allowed = site_table["allowed"].to_numpy(dtype=object)
    for pos in np.flatnonzero(usable):
        for t in site_allowed[pos]:
            if t not in radius:
                continue
            need = min_area_m2.get(t)
            if need is not None and not site_area[pos] >= need:
                too_small.append(f"{site_ids[pos]} ({t})")
                continue
            rows.append((int(pos), t))
    return rows, too_small


def _site_facilities(cands: _Candidates, rows: list[int], crs: pyproj.CRS) -> gpd.GeoDataFrame:
    """Candidates ``rows`` as facilities: ``facility_id`` (the site id), ``type``, geometry."""
    return gpd.GeoDataFrame(
        {
            "facility_id": cands.cand["site_id"].to_numpy(dtype=object)[rows],
            "type": cands.cand["type"].to_numpy(dtype=object)[rows],
        },
        geometry=cands.sites["geometry"].to_numpy()[cands.cand_site[rows]] if len(rows) else [],
        crs=crs,
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class _Demand:
    """Per type: demand, coverage today and catchments (phase 4 of :func:`propose`)."""

    data: list[TypeData]  # in the order of the types
    notes: tuple[str, ...]


def _type_data(
    inputs: _Inputs, before: _Before, cands: _Candidates, options: SitingOptions
) -> _Demand:
    """Build the walking catchments and gather what the programs need per type.

    The catchments are the (community, candidate) pairs within the type's radius on the
    network, and for capacity-aware types the (community, existing facility) pairs; each
    type gets its communities' demand (``options.weight``), coverage today (by distance, or
    under the capacities of the existing facilities) and its candidates.
    """
    notes: list[str] = []
    graph, origins, acc, ids = inputs.graph, inputs.origins, inputs.acc, inputs.ids
    radius = before.radius
    cand_gdf = _site_facilities(cands, list(range(len(cands.cand))), graph.crs)
    pairs = access.facility_catchments(graph, origins, cand_gdf, radius_m=radius, options=acc)
    cand = cands.cand
    key = {(s, t): i for i, (s, t) in enumerate(zip(cand["site_id"], cand["type"], strict=True))}
    pair_c = np.asarray(
        [key[(s, t)] for s, t in zip(pairs["facility_id"], pairs["type"], strict=True)],
        dtype=np.int64,
    )
    pair_i = _positions(ids, pairs["community_id"])
    pair_d = pairs["dist_m"].to_numpy(float)
    pair_t = pairs["type"].to_numpy(dtype=object)
    covered_dist = _covered_by_type(before.gaps, ids)
    cap_types = [t for t in before.types if t in options.capacities]
    exist_pairs = pd.DataFrame(columns=["community_id", "facility_id", "type", "dist_m"])
    exist = inputs.fac[inputs.fac["type"].isin(cap_types)].sort_values("facility_id", kind="stable")
    if cap_types and len(exist):
        exist_pairs = access.facility_catchments(
            graph, origins, exist, radius_m={t: radius[t] for t in cap_types}, options=acc
        )
    data: list[TypeData] = []
    for t in before.types:
        sel = pair_t == t
        d = TypeData(
            code=t,
            radius=float(radius[t]),
            capacity=options.capacities.get(t),
            limit=options.limit_for(t),
            w=_weights(inputs.comm, options.weight, t, inputs.table, notes),
            covered=covered_dist[t].to_numpy(bool),
            cand=np.flatnonzero(cand["type"].to_numpy() == t).astype(np.int64),
            pair_i=pair_i[sel],
            pair_c=pair_c[sel],
            pair_d=pair_d[sel],
        )
        if d.capacity is not None:
            ex = exist[exist["type"] == t]
            cap = (
                pd.to_numeric(ex["capacity"], errors="coerce").to_numpy(float)
                if "capacity" in ex.columns
                else np.full(len(ex), np.nan)
            )
            d.exist_ids = ex["facility_id"].to_numpy(dtype=object)
            d.exist_cap = np.where(np.isnan(cap), np.inf, cap)
            ep = exist_pairs[exist_pairs["type"] == t]
            d.epair_i = _positions(ids, ep["community_id"])
            d.epair_k = np.asarray(np.searchsorted(d.exist_ids, ep["facility_id"]), np.int64)
            d.expand_cap = float(options.expansion_capacity.get(t, d.capacity))
            d.expand_cost = options.expansion_cost_wan_yuan.get(t)
            before_cap, _ = capacity_cover(d, cands.cand_site, cands.sites, options)
            d.covered = before_cap
        data.append(d)
    if options.weight == "population" and "population" not in inputs.comm.columns:
        notes.append("weight population: no population column, weighted by households")
    return _Demand(data=data, notes=tuple(notes))


@dataclass(frozen=True, kw_only=True, slots=True)
class _Solution:
    """What the programs chose (phase 5 of :func:`propose`)."""

    chosen: list[int]  # candidate rows, sorted
    expansions: list[tuple[str, int]]  # (type, existing facility of the type's exist_ids)
    after: dict[str, NDArray[np.bool_]]  # covered after, capacity-aware types solved
    serve: dict[str, dict[int, tuple[float, str]]]  # who serves whom, the same types
    facts: dict[str, dict[str, Any]]  # solver facts per type solved


def _solve(data: list[TypeData], cands: _Candidates, options: SitingOptions) -> _Solution:
    """Build and solve the programs, one per block of types solved together.

    A block is the types that share candidate sites or, with a budget, all types (see
    :func:`blocks`); each is solved by :func:`solve_block`. A block without a solution
    chooses nothing; its solver facts are kept for ``info`` and ``uncoverable``.
    """
    chosen_c: list[int] = []
    expansions: list[tuple[str, int]] = []
    after: dict[str, NDArray[np.bool_]] = {}
    serve: dict[str, dict[int, tuple[float, str]]] = {}
    facts: dict[str, dict[str, Any]] = {}
    area = cands.sites["area_m2"].to_numpy(float)
    for block in blocks(data, cands.cand_site, budget=options.budget_wan_yuan is not None):
        built, x, f = solve_block(
            block,
            cands.cand_site,
            cands.unit_cost,
            area,
            options=options,
            real_cost=cands.real_cost,
        )
        joint = "、".join(d.code for d in block)
        for d in block:
            facts[d.code] = {**f, "solved_with": joint if len(block) > 1 else ""}
        if x is None:
            continue
        for d in block:
            y = built.y[d.code]
            picked = d.cand[x[y] > 0.5]  # noqa: PLR2004 - 0/1 rounding
            chosen_c += picked.tolist()
            ks, e = built.e[d.code]
            expansions += [(d.code, int(k)) for k in ks[x[e] > 0.5]]  # noqa: PLR2004
            if d.capacity is not None:
                after[d.code], serve[d.code] = capacity_after(d, built, x, cands.cand)
    return _Solution(
        chosen=sorted(set(chosen_c)),
        expansions=expansions,
        after=after,
        serve=serve,
        facts=facts,
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class _After:
    """Coverage with the proposal (phase 6 of :func:`propose`)."""

    gaps: pd.DataFrame  # gisplan.gaps.gap_table with the new facilities added
    covered: dict[str, NDArray[np.bool_]]  # type -> covered after, per community
    serve: dict[str, dict[int, tuple[float, str]]]  # type -> community -> (_, serving site)


def _after(
    inputs: _Inputs,
    types: list[str],
    cands: _Candidates,
    data: list[TypeData],
    solution: _Solution,
    *,
    options: SitingOptions,
) -> _After:
    """Measure coverage again with the chosen sites added as facilities.

    Distance types are covered by the rule of :func:`gisplan.gaps.gap_table`, each newly
    covered community served by its nearest chosen site; capacity-aware types keep what
    their program found (today's coverage when it had no solution).
    """
    graph = inputs.graph
    new_fac = _site_facilities(cands, solution.chosen, graph.crs)
    fac_after = pd.concat(
        [inputs.fac[["facility_id", "type", "geometry"]], new_fac], ignore_index=True
    )
    fac_after = gpd.GeoDataFrame(fac_after, geometry="geometry", crs=graph.crs)
    dist_after = access.nearest_facilities(
        graph, inputs.origins, fac_after, types=types, options=inputs.acc
    )
    gaps_after = _gap_table(dist_after, inputs, options)
    covered_after = _covered_by_type(gaps_after, inputs.ids)
    after = dict(solution.after)
    serve = dict(solution.serve)
    chosen_set = set(solution.chosen)
    for d in data:
        if d.capacity is None:
            after[d.code] = covered_after[d.code].to_numpy(bool)
            serve[d.code] = _nearest_serving(d, chosen_set, cands.cand)
        else:
            after.setdefault(d.code, d.covered.copy())
            serve.setdefault(d.code, {})
    return _After(gaps=gaps_after, covered=after, serve=serve)


def _result(
    inputs: _Inputs,
    before: _Before,
    *,
    cands: _Candidates,
    data: list[TypeData],
    solution: _Solution,
    after: _After,
    notes: list[str],
    options: SitingOptions,
) -> SitingResult:
    """Assemble the result tables, and log the notes and what was proposed.

    ``sites_chosen`` (:func:`_sites_chosen`), ``coverage`` before/after, the gap tables,
    ``uncoverable`` communities with their reasons and the solver ``info`` per type.
    """
    sites_chosen = _sites_chosen(
        solution.chosen,
        expansions=solution.expansions,
        cand=cands.cand,
        site_table=cands.sites,
        data=data,
        after=after.covered,
        serve=after.serve,
        comm=inputs.comm,
        type_zh=before.type_zh,
        fac=inputs.fac,
    )
    coverage = _coverage(data, after.covered, inputs.comm, before.type_zh, sites_chosen)
    uncoverable = _uncoverable(data, after.covered, inputs.ids, solution.facts, options)
    info = _info(
        data, solution.facts, sites_chosen, options, after=after.covered, real_cost=cands.real_cost
    )
    for note in notes:
        logger.info("siting: %s", note)
    logger.info(
        "siting (%s): %d new facilities, %d expansions for %d types",
        options.model,
        len(solution.chosen),
        len(solution.expansions),
        len(before.types),
    )
    return SitingResult(
        sites_chosen=sites_chosen,
        coverage=coverage,
        gaps_before=before.gaps,
        gaps_after=after.gaps.reset_index(drop=True),
        uncoverable=uncoverable,
        info=info,
        notes=tuple(notes),
    )


def _gap_communities(comm: pd.DataFrame) -> pd.DataFrame:
    """Columns :func:`gisplan.gaps.gap_table` reads (the rest may hold lists)."""
    cols = [c for c in ("community_id", "name", "households", "population") if c in comm.columns]
    return _frame(comm[cols])


def _nearest_serving(
    d: TypeData, chosen: set[int], cand: pd.DataFrame
) -> dict[int, tuple[float, str]]:
    """Per community, the nearest chosen site of the type (ties: lowest site id)."""
    ok = np.isin(d.pair_c, np.fromiter(chosen, dtype=np.int64, count=len(chosen)))
    site = cand["site_id"].to_numpy(dtype=object)[d.pair_c[ok]]
    best: dict[int, tuple[float, str]] = {}
    for i, dist, s in sorted(
        zip(d.pair_i[ok].tolist(), d.pair_d[ok].tolist(), site.tolist(), strict=True)
    ):
        best.setdefault(i, (dist, s))
    return best


def _people(comm: pd.DataFrame, mask: NDArray[np.bool_]) -> tuple[int, float]:
    """Households and residents (known populations only; NaN when none known) of ``mask``."""
    hh = pd.to_numeric(comm["households"], errors="coerce").to_numpy(float)
    pop = (
        pd.to_numeric(comm["population"], errors="coerce").to_numpy(float)
        if "population" in comm.columns
        else np.full(len(comm), np.nan)
    )
    known = mask & ~np.isnan(pop)
    any_known = bool((~np.isnan(pop)).any())
    return int(np.nansum(hh[mask])), float(pop[known].sum()) if any_known else math.nan


def _sites_chosen(
    chosen: list[int],
    *,
    expansions: list[tuple[str, int]],
    cand: pd.DataFrame,
    site_table: pd.DataFrame,
    data: list[TypeData],
    after: dict[str, NDArray[np.bool_]],
    serve: dict[str, dict[int, tuple[float, str]]],
    comm: pd.DataFrame,
    type_zh: dict[str, str],
    fac: gpd.GeoDataFrame,
) -> gpd.GeoDataFrame:
    by_type = {d.code: d for d in data}
    ids = comm["community_id"].to_numpy(dtype=object)
    per_site = pd.Series(cand["site"].to_numpy()[chosen]).value_counts().to_dict()
    records: list[dict[str, Any]] = []

    def newly(code: str, who: str) -> dict[str, Any]:
        d = by_type[code]
        new = after[code] & ~d.covered
        mine = np.zeros(len(ids), dtype=bool)
        for i, (_, w) in serve[code].items():
            mine[i] = new[i] and w == who
        households, residents = _people(comm, mine)
        return {
            "communities_newly_covered": int(mine.sum()),
            "households_newly_covered": households,
            "residents_newly_covered": residents,
            "weight_newly_covered": float(d.w[mine].sum()),
            "newly_covered_ids": "、".join(ids[mine].tolist()),
        }

    cand_pos = cand["site"].to_numpy(dtype=np.int64)
    cand_type = cand["type"].to_numpy(dtype=object)
    cost = site_table["cost_wan_yuan"].to_numpy(float)
    area = site_table["area_m2"].to_numpy(float)
    kind = site_table["kind"].to_numpy(dtype=object)
    site_geom = site_table["geometry"].to_numpy(dtype=object)
    site_id = site_table["site_id"].to_numpy(dtype=object)
    for c in chosen:
        j = int(cand_pos[c])
        code = str(cand_type[c])
        sid = str(site_id[j])
        shared = int(per_site[j])
        records.append(
            {
                "site_id": sid,
                "type": code,
                "type_zh": type_zh.get(code, code),
                "kind": kind[j],
                "cost_wan_yuan": float(cost[j]) / shared,
                "area_m2": float(area[j]),
                **newly(code, sid),
                "note": f"{shared}类设施共用此地块，费用平均分摊" if shared > 1 else "",
                "geometry": site_geom[j],
            }
        )
    geoms = fac.set_index("facility_id").geometry
    for code, k in expansions:
        d = by_type[code]
        fid = str(d.exist_ids[k])
        records.append(
            {
                "site_id": fid,
                "type": code,
                "type_zh": type_zh.get(code, code),
                "kind": "expansion",
                "cost_wan_yuan": float(d.expand_cost or 0.0),
                "area_m2": math.nan,
                **newly(code, "existing:" + fid),
                "note": f"existing facility enlarged by {d.expand_cap:g}",
                "geometry": geoms.loc[fid],
            }
        )
    if not records:
        return gpd.GeoDataFrame(
            {c: pd.Series(dtype=object) for c in _CHOSEN_COLUMNS[:-1]},
            geometry=gpd.GeoSeries([], crs=fac.crs),
        )
    out = pd.DataFrame(records)
    rank = {d.code: i for i, d in enumerate(data)}
    out["_rank"] = out["type"].map(rank)
    out = out.sort_values(["site_id", "_rank"], kind="stable").drop(columns="_rank")
    return gpd.GeoDataFrame(out[_CHOSEN_COLUMNS].reset_index(drop=True), crs=fac.crs)


def _coverage(
    data: list[TypeData],
    after: dict[str, NDArray[np.bool_]],
    comm: pd.DataFrame,
    type_zh: dict[str, str],
    chosen: gpd.GeoDataFrame,
) -> pd.DataFrame:
    everyone = np.ones(len(comm), dtype=bool)
    _, residents = _people(comm, everyone)
    rows = []
    for d in data:
        hb, rb = _people(comm, d.covered)
        ha, ra = _people(comm, after[d.code])
        new = chosen[(chosen["type"] == d.code) & (chosen["kind"] != "expansion")]
        rows.append(
            {
                "type": d.code,
                "type_zh": type_zh.get(d.code, d.code),
                "radius_m": d.radius,
                "cover_rule": "distance" if d.capacity is None else "distance+capacity",
                "communities": len(comm),
                "communities_before": int(d.covered.sum()),
                "communities_after": int(after[d.code].sum()),
                "households_before": hb,
                "households_after": ha,
                "residents_before": rb,
                "residents_after": ra,
                "share_before": rb / residents if residents > 0 else math.nan,
                "share_after": ra / residents if residents > 0 else math.nan,
                "added": int(after[d.code].sum() - d.covered.sum()),
                "new_facilities": len(new),
            }
        )
    return _frame(pd.DataFrame(rows, columns=_COVERAGE_COLUMNS))


def _status_zh(status: object) -> str:
    """Return a solver status for people (``solver_status`` labels; unknown: as given)."""
    return labels("solver_status").get(str(status), str(status))


def _uncoverable(
    data: list[TypeData],
    after: dict[str, NDArray[np.bool_]],
    ids: NDArray[np.object_],
    facts: dict[str, dict[str, Any]],
    options: SitingOptions,
) -> pd.DataFrame:
    limits = []
    if options.n_new is not None:
        limits.append(f"新增设施数上限{options.n_new}个")
    if options.budget_wan_yuan is not None:
        limits.append(f"预算{options.budget_wan_yuan:g}万元")
    rows = []
    for d in data:
        reach = np.zeros(len(ids), dtype=bool)
        reach[d.pair_i] = True
        if d.capacity is not None:
            reach[d.epair_i] = True
        solved = facts.get(d.code, {}).get("objective") is not None
        for i in np.flatnonzero(~after[d.code]):
            if not reach[i]:
                code = "no_candidate_in_radius"
                reason = f"服务半径{d.radius:,.0f} m内没有可建此类设施的备选用地"
                if d.capacity is not None:
                    reason += "，也没有可达的现有设施"
            elif not solved:
                code = "not_solved"
                reason = f"模型未求解（{_status_zh(facts[d.code]['status'])}）"
            else:
                code = "left_out"
                what = "和".join(limits) or "模型"
                reason = f"受{what}限制未选中" + (
                    "，或受设施容量限制" if d.capacity is not None else ""
                )
            rows.append(
                {
                    "type": d.code,
                    "community_id": ids[i],
                    "uncovered_reason_code": code,
                    "uncovered_reason": reason,
                }
            )
    return _frame(pd.DataFrame(rows, columns=_UNCOVERABLE_COLUMNS))


def _info(
    data: list[TypeData],
    facts: dict[str, dict[str, Any]],
    chosen: gpd.GeoDataFrame,
    options: SitingOptions,
    *,
    after: dict[str, NDArray[np.bool_]],
    real_cost: bool,
) -> pd.DataFrame:
    rows = []
    for d in data:
        f = facts.get(d.code)
        mine = chosen[chosen["type"] == d.code]
        uncovered = ~d.covered
        in_reach = np.zeros(len(d.w), dtype=bool)
        in_reach[d.pair_i] = True
        if d.capacity is not None:
            in_reach[d.epair_i] = True
        if options.model == "mclp":
            newly = after[d.code] & ~d.covered
            objective = round(float(d.w[newly].sum()), 6)
        else:
            objective = round(float(pd.to_numeric(mine["cost_wan_yuan"]).sum()), 6)
            if not real_cost:
                objective = float(len(mine))
        note = ""
        if not len(d.cand):
            note = "没有可建此类设施的备选用地"
        elif not (in_reach & uncovered).any():
            note = f"未覆盖小区服务半径{d.radius:,.0f} m内没有备选用地"
        rows.append(
            {
                "type": d.code,
                "model": options.model + ("+capacity" if d.capacity is not None else ""),
                "solver_status": f["status"] if f else "not solved: nothing to choose",
                "objective": None if not f or f.get("objective") is None else objective,
                "mip_gap": None if not f else f.get("mip_gap"),
                "time_s": 0.0 if not f else round(float(f["time_s"]), 3),
                "candidates": len(d.cand),
                "demand": int((in_reach & (uncovered | (d.capacity is not None))).sum()),
                "chosen": len(mine),
                "cost_wan_yuan": float(pd.to_numeric(mine["cost_wan_yuan"]).sum()),
                "solved_with": "" if not f else f["solved_with"],
                "note": note,
            }
        )
    return _frame(pd.DataFrame(rows, columns=_INFO_COLUMNS))
