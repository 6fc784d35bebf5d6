"""Area-wide financing bundles: 大片区统筹平衡 and 跨片区组合平衡 (POLICY.md §4).

Most old communities cannot pay for their own renovation. The "4+N" financing modes let a
city bundle them with revenue projects (old factory, urban village, shantytown, dangerous
housing, building conversion, land parcels):

* :func:`adjacency` — a networkx graph over communities and projects: an edge when two
  polygons touch or lie within ``tolerance_m`` (default 30 m: communities are usually
  separated by streets), found with a spatial index; optionally only within one 街道 or
  district (``group_by``) and never across a barrier line (river, major road);
* :func:`large_area` — 大片区统筹平衡: connected bundles, each holding at least one old
  community and at least one project, whose revenue minus cost (community need plus project
  cost) is at least a margin, every unit in at most one bundle, under size limits (members,
  area, diameter). Maximises the community need that gets funded, then prefers fewer, then
  more compact bundles. Exact integer program with flow-based connectivity (HiGHS through
  :func:`scipy.optimize.milp`) for small and medium parts of the graph, a greedy growth with
  local improvement for large ones; both are compared against an upper bound and the gap is
  reported. Every emitted bundle is checked to balance and to be connected;
* :func:`cross_area` — 跨片区组合平衡: communities still in deficit matched to the remaining
  surplus of projects that may fund non-adjacent communities (a transport integer program:
  each community funded in full or not at all; small costs for distance and for crossing a
  district line);
* :func:`plan_financing` — the modes in a chosen order (default: self-balance, large-area,
  cross-area, government-led), each on what the previous ones left; one financing mode per
  community and totals per mode.

Money is in 万元 (``*_wan_yuan``), distances in metres, areas in m². Every function that
measures needs a projected CRS in metres. :data:`COLUMN_LABELS_ZH` gives a Chinese header for
every output column. No function modifies its inputs; outputs are sorted deterministically.
"""

from __future__ import annotations

import logging
import math
import time
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, linprog, milp
from scipy.sparse.csgraph import maximum_flow, minimum_spanning_tree

from gisplan._milp import solver_status
from gisplan._text import is_blank, is_number, is_whole, printable
from gisplan.crs import require_metric_crs
from gisplan.errors import CRSError, LayerError, ScenarioError, SchemaError

if TYPE_CHECKING:
    from collections.abc import Collection, Iterable, Mapping, Sequence

    from numpy.typing import NDArray

__all__ = [
    "COLUMN_LABELS_ZH",
    "MODES",
    "MODE_ZH",
    "BundleOptions",
    "BundleResult",
    "CrossOptions",
    "CrossResult",
    "FinancingPlan",
    "adjacency",
    "cross_area",
    "large_area",
    "plan_financing",
]

logger = logging.getLogger(__name__)

#: Financing modes of :func:`plan_financing`, in the default order.
MODES: tuple[str, ...] = ("self_balance", "large_area", "cross_area", "government_led")

#: Chinese name of every mode (POLICY.md §4).
MODE_ZH: dict[str, str] = {
    "self_balance": "小区内自求平衡",
    "large_area": "大片区统筹平衡",
    "cross_area": "跨片区组合平衡",
    "government_led": "政府引导多元投入",
}

#: Chinese header (with units) of every column the functions of this module return.
COLUMN_LABELS_ZH: dict[str, str] = {
    "bundle_id": "片区编号",
    "geometry": "范围",
    "communities": "小区（编号或个数）",
    "projects": "平衡项目",
    "n_communities": "小区数（个）",
    "n_projects": "项目数（个）",
    "n_members": "单元数（个）",
    "funded_wan_yuan": "统筹小区改造资金（万元）",
    "cost_wan_yuan": "总成本（万元）",
    "revenue_wan_yuan": "总收益（万元）",
    "balance_wan_yuan": "收支结余（万元）",
    "margin_wan_yuan": "要求结余（万元）",
    "area_m2": "面积（m²）",
    "diameter_m": "最大跨度（m）",
    "mode": "模式代码",
    "mode_zh": "资金平衡模式",
    "unit_id": "单元编号",
    "kind": "单元类型",
    "amount_wan_yuan": "收支（万元，正为结余）",
    "community_id": "小区编号",
    "project_id": "项目编号",
    "distance_m": "距离（m）",
    "crosses_district": "是否跨区",
    "need_wan_yuan": "资金需求（万元）",
    "bundle_covered_wan_yuan": "大片区统筹资金（万元）",
    "cross_covered_wan_yuan": "跨片区组合资金（万元）",
    "project_ids": "资金来源项目",
    "covered_wan_yuan": "已落实资金（万元）",
}

_COMMUNITY = "community"
_PROJECT = "project"
_MAX_LISTED = 10
#: Money tolerance when checking that a bundle balances: one fen (0.01 元) in 万元.
_FEN = 1e-6
#: Objective unit of the integer programs: 0.01 万元 (100 元).
_OBJ_SCALE = 100.0
#: Convex hulls with more vertices are replaced by their minimum rotated rectangle.
_MAX_HULL = 32
_LARGE_PART = 5000
_LP_MAX_PAIRS = 20_000
_CROSS_GAP = 1e-4
#: 0/1 rounding threshold of solver values.
_HALF = 0.5
#: Smallest share of a need counted as paid.
_TINY = 1e-9
_METHODS = ("auto", "exact", "heuristic")
_BUNDLE_COLUMNS = [
    "bundle_id",
    "communities",
    "projects",
    "n_communities",
    "n_projects",
    "n_members",
    "funded_wan_yuan",
    "cost_wan_yuan",
    "revenue_wan_yuan",
    "balance_wan_yuan",
    "margin_wan_yuan",
    "area_m2",
    "diameter_m",
    "mode",
    "geometry",
]
_MEMBER_COLUMNS = ["bundle_id", "unit_id", "kind", "amount_wan_yuan"]
_TEXT = "object"
#: Column types, so that empty results keep them.
_BUNDLE_TYPES = {
    "bundle_id": _TEXT,
    "communities": _TEXT,
    "projects": _TEXT,
    "n_communities": "int64",
    "n_projects": "int64",
    "n_members": "int64",
    "funded_wan_yuan": "float64",
    "cost_wan_yuan": "float64",
    "revenue_wan_yuan": "float64",
    "balance_wan_yuan": "float64",
    "margin_wan_yuan": "float64",
    "area_m2": "float64",
    "diameter_m": "float64",
    "mode": _TEXT,
}
_MEMBER_TYPES = {"bundle_id": _TEXT, "unit_id": _TEXT, "kind": _TEXT, "amount_wan_yuan": "float64"}
_PAIR_TYPES = {
    "community_id": _TEXT,
    "project_id": _TEXT,
    "amount_wan_yuan": "float64",
    "distance_m": "float64",
    "crosses_district": "bool",
}
_PAIR_COLUMNS = ["community_id", "project_id", "amount_wan_yuan", "distance_m", "crosses_district"]
_MODE_COLUMNS = [
    "community_id",
    "mode",
    "mode_zh",
    "need_wan_yuan",
    "bundle_covered_wan_yuan",
    "cross_covered_wan_yuan",
    "bundle_id",
    "project_ids",
]
_TOTAL_COLUMNS = ["mode", "mode_zh", "communities", "need_wan_yuan", "covered_wan_yuan"]


def _listed(values: Iterable[object]) -> str:
    items = [printable(v) for v in values]
    more = f" and {len(items) - _MAX_LISTED} more" if len(items) > _MAX_LISTED else ""
    return ", ".join(items[:_MAX_LISTED]) + more


def _finite_at_least(value: object, low: float, *, strict: bool = False) -> bool:
    if not is_number(value) or not math.isfinite(float(value)):  # type: ignore[arg-type]
        return False
    return float(value) > low if strict else float(value) >= low  # type: ignore[arg-type]


# --------------------------------------------------------------------------- options


@dataclass(frozen=True, kw_only=True, slots=True)
class BundleOptions:
    """Limits and solver settings of :func:`large_area` (大片区统筹平衡).

    Parameters
    ----------
    margin_wan_yuan
        Required surplus of every bundle: revenue minus cost must be at least this (万元,
        default 0: the bundle pays for itself).
    max_members
        Most units (communities plus projects) in one bundle. Default 12.
    max_area_m2
        Largest summed polygon area of one bundle. Default 3 km² (3,000,000 m²).
    max_diameter_m
        Largest span of one bundle: the greatest distance between two points of its member
        polygons (measured between the vertices of their convex hulls, which is exact; a hull
        of more than 32 vertices is replaced by its minimum rotated rectangle, which can only
        overstate the span). Default 2,000 m, about the diameter of a 15-minute life circle.
    method
        ``"exact"`` (integer program on every connected part), ``"heuristic"`` (beam and path
        growth with local improvement) or ``"auto"`` (default): the heuristic first, then the
        integer program on parts of at most ``exact_max_units`` units where the heuristic is
        more than ``auto_gap`` below the upper bound.
    exact_max_units
        Largest connected part (communities in need plus projects) that ``"auto"`` solves
        exactly. Default 250.
    auto_gap
        ``"auto"`` keeps the heuristic's bundles without the integer program when they fund
        at least ``1 - auto_gap`` of the upper bound (default 0.01: within 1 %).
    time_limit_s
        Time limit of each integer program in seconds (default 60). When it is reached, the
        better of the solver's incumbent and the heuristic is kept and the status says so.
    seed
        Seed of the heuristic's randomised restarts (default 0); the same seed gives the same
        bundles.
    restarts
        Randomised restarts of the heuristic after its deterministic first pass (default 2;
        only on parts of at most 5,000 units); the best result is kept.
    beam_width
        States kept per step of the heuristic's beam search (default 6).
    mip_gap
        Relative gap at which HiGHS stops (default 1e-4); 0 asks for a proof of optimality.
    node_limit
        Branch-and-bound nodes HiGHS may explore per integer program (default 20,000;
        ``None``: no limit). Unlike the time limit it does not depend on the machine, so a
        run stopped by it gives the same bundles every time; ``time_limit_s`` is the safety
        net (a run stopped by the clock may differ from run to run).

    Raises
    ------
    ScenarioError
        If a value is out of range (every problem listed).

    Examples
    --------
    >>> BundleOptions(margin_wan_yuan=100).max_members
    12
    >>> BundleOptions(max_members=1)
    Traceback (most recent call last):
    ...
    gisplan.errors.ScenarioError: BundleOptions.max_members = 1 is not a whole number >= 2; ...
    """

    margin_wan_yuan: float = 0.0
    max_members: int = 12
    max_area_m2: float = 3_000_000.0
    max_diameter_m: float = 2_000.0
    method: str = "auto"
    exact_max_units: int = 250
    time_limit_s: float = 60.0
    seed: int = 0
    restarts: int = 2
    beam_width: int = 6
    mip_gap: float = 1e-4
    auto_gap: float = 0.01
    node_limit: int | None = 20_000

    def __post_init__(self) -> None:
        """Check every field; raise once listing all problems."""
        problems: list[tuple[str, str, str]] = []
        if not _finite_at_least(self.margin_wan_yuan, 0.0):
            problems.append(
                ("margin_wan_yuan", f"{self.margin_wan_yuan!r} is not 万元 >= 0", "write e.g. 0")
            )
        if not (is_whole(self.max_members) and self.max_members >= 2):  # noqa: PLR2004
            problems.append(
                (
                    "max_members",
                    f"{self.max_members!r} is not a whole number >= 2",
                    "a bundle needs a community and a project; write e.g. 12",
                )
            )
        for key, fix in (
            ("max_area_m2", "write m² such as 3000000"),
            ("max_diameter_m", "write metres such as 2000"),
            ("time_limit_s", "write seconds such as 60"),
        ):
            if not _finite_at_least(getattr(self, key), 0.0, strict=True):
                problems.append((key, f"{getattr(self, key)!r} is not a number > 0", fix))
        if self.method not in _METHODS:
            problems.append(
                ("method", f"{self.method!r} is not a method", f"write one of {_METHODS}")
            )
        problems.extend(
            (key, f"{getattr(self, key)!r} is not a fraction in [0, 1)", "write e.g. 0.0001")
            for key in ("mip_gap", "auto_gap")
            if not (_finite_at_least(getattr(self, key), 0.0) and float(getattr(self, key)) < 1)
        )
        if not (is_whole(self.beam_width) and self.beam_width >= 1):
            problems.append(
                ("beam_width", f"{self.beam_width!r} is not a whole number >= 1", "write e.g. 6")
            )
        if self.node_limit is not None and not (is_whole(self.node_limit) and self.node_limit >= 1):
            problems.append(
                (
                    "node_limit",
                    f"{self.node_limit!r} is not a whole number >= 1",
                    "write e.g. 20000, or null for no limit",
                )
            )
        for key in ("exact_max_units", "seed", "restarts"):
            value = getattr(self, key)
            if not (is_whole(value) and value >= 0):
                problems.append((key, f"{value!r} is not a whole number >= 0", "write e.g. 0"))
        ScenarioError.check("BundleOptions", "bundles", problems)


@dataclass(frozen=True, kw_only=True, slots=True)
class CrossOptions:
    """Settings of :func:`cross_area` (跨片区组合平衡).

    Parameters
    ----------
    allow_split
        ``False`` (default): each community is funded in full by one project, or not at all.
        ``True``: several projects may share a community's need (still in full or not at all).
    distance_cost_per_km
        Penalty in 万元 per km between a community and its funding project, per pairing
        (weighted by the share of the need the project pays). Default 0.01: a tie-break that
        prefers near projects without giving up any deficit; raise it to trade coverage for
        distance.
    district_column
        Column present in the communities and the projects (e.g. ``"district"``); a pairing
        across two different non-blank values pays ``district_penalty``. ``None``: no penalty.
    district_penalty
        Penalty in 万元 per pairing across a district line. Default 0.1.
    max_distance_m
        Pair only within this distance (m); ``None`` (default): no limit.
    time_limit_s
        Time limit of the integer program in seconds. Default 60.

    Raises
    ------
    ScenarioError
        If a value is out of range (every problem listed).

    Examples
    --------
    >>> CrossOptions(allow_split=True).distance_cost_per_km
    0.01
    """

    allow_split: bool = False
    distance_cost_per_km: float = 0.01
    district_column: str | None = None
    district_penalty: float = 0.1
    max_distance_m: float | None = None
    time_limit_s: float = 60.0

    def __post_init__(self) -> None:
        """Check every field; raise once listing all problems."""
        problems: list[tuple[str, str, str]] = []
        split: object = self.allow_split
        if not isinstance(split, bool):
            problems.append(("allow_split", f"{split!r} is not true/false", "write true or false"))
        problems.extend(
            (key, f"{getattr(self, key)!r} is not 万元 >= 0", "write e.g. 0")
            for key in ("distance_cost_per_km", "district_penalty")
            if not _finite_at_least(getattr(self, key), 0.0)
        )
        column: object = self.district_column
        if column is not None and not (isinstance(column, str) and column.strip()):
            problems.append(
                ("district_column", f"{column!r} is not a column name", "write e.g. district")
            )
        if self.max_distance_m is not None and not _finite_at_least(
            self.max_distance_m, 0.0, strict=True
        ):
            problems.append(
                (
                    "max_distance_m",
                    f"{self.max_distance_m!r} is not metres > 0",
                    "write e.g. 5000, or leave it out for no limit",
                )
            )
        if not _finite_at_least(self.time_limit_s, 0.0, strict=True):
            problems.append(
                ("time_limit_s", f"{self.time_limit_s!r} is not a number > 0", "write e.g. 60")
            )
        ScenarioError.check("CrossOptions", "bundles.cross_area", problems)


_DEFAULT_OPTIONS = BundleOptions()
_DEFAULT_CROSS = CrossOptions()


# --------------------------------------------------------------------------- input checks


def _require_columns(frame: pd.DataFrame, what: str, columns: Sequence[str], fix: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise SchemaError(
            f"{what}: column(s) {', '.join(map(repr, missing))} missing (columns: "
            f"{_listed(map(str, frame.columns))}); {fix}"
        )


def _ids(frame: pd.DataFrame, what: str, column: str) -> list[str]:
    raw = frame[column]
    blank = [i for i, v in zip(frame.index, raw, strict=True) if is_blank(v)]
    if blank:
        raise LayerError(f"{what}: {column} blank in rows {_listed(blank)}; give every row an id")
    ids = [str(v).strip() for v in raw]
    seen: set[str] = set()
    dup = sorted({i for i in ids if i in seen or seen.add(i)})  # type: ignore[func-returns-value]
    if dup:
        raise SchemaError(f"{what}: {column} not unique: {_listed(dup)}; keep one row per id")
    return ids


def _geometries(frame: gpd.GeoDataFrame, what: str, ids: Sequence[str]) -> NDArray[Any]:
    geoms = np.asarray(frame.geometry.array, dtype=object)
    bad = [i for i, g in zip(ids, geoms, strict=True) if g is None or shapely.is_empty(g)]
    if bad:
        raise LayerError(f"{what}: geometry missing or empty for {_listed(bad)}; draw the outline")
    return geoms


def _check_layer(frame: object, what: str) -> gpd.GeoDataFrame:
    if not isinstance(frame, gpd.GeoDataFrame):
        raise LayerError(
            f"{what}: expected a GeoDataFrame, got {type(frame).__name__}; "
            "read the layer with gisplan.read_layer"
        )
    require_metric_crs(frame, what=f"{what} (bundles measure distances and areas)")
    return frame


@dataclass(frozen=True, slots=True)
class _Units:
    """Communities then projects, each in id order, with what bundling needs."""

    ids: list[str]
    is_project: NDArray[np.bool_]
    cost: NDArray[np.float64]
    revenue: NDArray[np.float64]
    adjacent_only: NDArray[np.bool_]
    geometry: NDArray[Any]
    crs: Any
    n_communities: int
    names: list[str]

    def index(self) -> dict[str, int]:
        return {u: i for i, u in enumerate(self.ids)}


def _project_numbers(projects: pd.DataFrame, ids: Sequence[str]) -> tuple[Any, Any, Any]:
    problems: list[str] = []
    values = {}
    for column in ("cost_wan_yuan", "revenue_wan_yuan"):
        raw = projects[column]
        numbers = pd.to_numeric(raw, errors="coerce").astype("float64").to_numpy()
        bad = [
            f"{pid} ({printable(v)})"
            for pid, v, x in zip(ids, raw, numbers, strict=True)
            if not (math.isfinite(x) and x >= 0)
        ]
        if bad:
            problems.append(f"{column} not a number >= 0 for {_listed(bad)}")
        values[column] = numbers
    if "adjacent_only" in projects.columns:
        flags = []
        for pid, v in zip(ids, projects["adjacent_only"], strict=True):
            if is_blank(v):
                flags.append(False)
            elif isinstance(v, (bool, np.bool_)) or (is_number(v) and float(v) in (0.0, 1.0)):
                flags.append(bool(v))
            else:
                problems.append(f"adjacent_only not true/false for {pid} ({printable(v)})")
                flags.append(False)
        adjacent = np.asarray(flags, dtype=bool)
    else:
        adjacent = np.zeros(len(ids), dtype=bool)
    if problems:
        raise LayerError(
            "projects: bad values:\n  "
            + "\n  ".join(problems)
            + "\n  write costs and revenues in 万元 >= 0 (a loss-making project has cost > "
            "revenue, not a negative revenue) and adjacent_only as true/false"
        )
    return values["cost_wan_yuan"], values["revenue_wan_yuan"], adjacent


def _units(communities: object, projects: object) -> _Units:
    com = _check_layer(communities, "communities")
    pro = _check_layer(projects, "projects")
    if pro.crs != com.crs:
        raise CRSError(
            f"projects are in {pro.crs}, communities in {com.crs}; "
            "bring both to one metric CRS with gisplan.crs.to_metric"
        )
    _require_columns(
        com,
        "communities",
        ["community_id"],
        "add it or read the layer with gisplan.read_layer (maps 小区编号)",
    )
    _require_columns(
        pro,
        "projects",
        ["project_id", "cost_wan_yuan", "revenue_wan_yuan"],
        "add them (project_id, cost_wan_yuan and revenue_wan_yuan in 万元)",
    )
    cids = _ids(com, "communities", "community_id")
    pids = _ids(pro, "projects", "project_id")
    both = sorted(set(cids) & set(pids))
    if both:
        raise SchemaError(
            f"ids {_listed(both)} are both a community_id and a project_id; bundles mix the two "
            "kinds, so give projects their own ids (e.g. P01)"
        )
    cgeom = _geometries(com, "communities", cids)
    pgeom = _geometries(pro, "projects", pids)
    cost, revenue, adjacent = _project_numbers(pro, pids)
    corder = sorted(range(len(cids)), key=lambda i: cids[i])
    porder = sorted(range(len(pids)), key=lambda i: pids[i])
    cname = com["name"].tolist() if "name" in com.columns else [""] * len(cids)
    pname = pro["name"].tolist() if "name" in pro.columns else [""] * len(pids)
    nc, npj = len(cids), len(pids)
    return _Units(
        ids=[cids[i] for i in corder] + [pids[i] for i in porder],
        is_project=np.r_[np.zeros(nc, bool), np.ones(npj, bool)],
        cost=np.r_[np.zeros(nc), cost[porder]],
        revenue=np.r_[np.zeros(nc), revenue[porder]],
        adjacent_only=np.r_[np.zeros(nc, bool), adjacent[porder]],
        geometry=np.r_[cgeom[corder], pgeom[porder]],
        crs=com.crs,
        n_communities=nc,
        names=[_cell_name(cname[i]) for i in corder] + [_cell_name(pname[i]) for i in porder],
    )


def _cell_name(value: object) -> str:
    """Return a name cell as text (empty when blank)."""
    return "" if is_blank(value) else str(value).strip()


def _groups(
    communities: gpd.GeoDataFrame, projects: gpd.GeoDataFrame, units: _Units, group_by: str
) -> list[str | None]:
    if group_by not in communities.columns:
        raise SchemaError(
            f"communities: column {group_by!r} (group_by) missing; add it (e.g. 街道 as "
            "'street') or leave group_by out"
        )
    values: dict[str, str | None] = {}
    for frame, column in ((communities, "community_id"), (projects, "project_id")):
        if group_by not in frame.columns:
            continue
        for uid, v in zip(frame[column], frame[group_by], strict=True):
            values[str(uid).strip()] = None if is_blank(v) else str(v).strip()
    return [values.get(u) for u in units.ids]


# --------------------------------------------------------------------------- adjacency


def _edges(
    units: _Units,
    *,
    tolerance_m: float,
    groups: Sequence[str | None] | None,
    barriers: gpd.GeoDataFrame | None,
) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.float64], dict[str, int]]:
    geoms = units.geometry
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="dwithin", distance=float(tolerance_m))
    keep = left < right
    left, right = left[keep], right[keep]
    order = np.lexsort((right, left))
    left, right = left[order], right[order]
    dropped = {"group": 0, "barrier": 0}
    if groups is not None and len(left):
        g = np.asarray(groups, dtype=object)
        differ = np.asarray(
            [
                a is not None and b is not None and a != b
                for a, b in zip(g[left], g[right], strict=True)
            ],
            dtype=bool,
        )
        dropped["group"] = int(differ.sum())
        left, right = left[~differ], right[~differ]
    if barriers is not None and len(left):
        lines = np.asarray(barriers.geometry.array, dtype=object)
        lines = lines[[g is not None and not shapely.is_empty(g) for g in lines]]
        if len(lines):
            segments = shapely.shortest_line(geoms[left], geoms[right])
            hit, _ = shapely.STRtree(lines).query(segments, predicate="intersects")
            cut = np.zeros(len(left), dtype=bool)
            cut[hit] = True
            dropped["barrier"] = int(cut.sum())
            left, right = left[~cut], right[~cut]
    gap = shapely.distance(geoms[left], geoms[right]).astype(float)
    return left, right, gap, dropped


def adjacency(
    communities: gpd.GeoDataFrame,
    projects: gpd.GeoDataFrame,
    *,
    tolerance_m: float = 30.0,
    group_by: str | None = None,
    barriers: gpd.GeoDataFrame | None = None,
) -> nx.Graph:
    """Return the adjacency graph of communities and projects (who may share a bundle).

    Two units are adjacent when their polygons touch or lie within ``tolerance_m`` of each
    other (found with a spatial index, ``dwithin``), unless ``group_by`` puts them in two
    different groups or the straight segment between their nearest points (shapely
    ``shortest_line``; a single point when they touch) meets a barrier line.

    Parameters
    ----------
    communities
        ``community_id`` (unique) and polygons, in a projected CRS in metres.
    projects
        ``project_id`` (unique, different from every community id), ``cost_wan_yuan`` and
        ``revenue_wan_yuan`` (万元, >= 0), optional ``adjacent_only`` and ``name``; polygons in
        the same CRS as the communities.
    tolerance_m
        Largest gap between two adjacent polygons in metres (default 30 m: communities are
        usually separated by a street). 0 means touching only.
    group_by
        A column of the communities (e.g. ``"street"`` for the 街道): no edge between two
        different values. Projects take their own value when the projects layer has the column;
        a project without it, and any blank value, joins every group.
    barriers
        Lines (rivers, major roads) in the same CRS: no edge across them.

    Returns
    -------
    networkx.Graph
        Nodes are the unit ids, communities first, each kind in id order, with attributes
        ``kind`` (``"community"`` or ``"project"``), ``name``, ``cost_wan_yuan`` and
        ``revenue_wan_yuan`` (0 for communities: their need is given to :func:`large_area`),
        ``surplus_wan_yuan`` (revenue minus cost), ``area_m2`` and ``adjacent_only``. Edges
        carry ``gap_m`` (0 when touching). ``graph.graph`` holds the settings and how many
        edges ``group_by`` and ``barriers`` removed.

    Raises
    ------
    CRSError
        If a layer is not in a projected CRS in metres (a tolerance in degrees), or the two
        layers' CRS differ.
    SchemaError
        If a required column is missing or ids repeat, also across communities and projects.
    LayerError
        If a geometry is missing, or a cost or revenue is negative or not a number.
    ScenarioError
        If ``tolerance_m`` is negative or not a number.

    Examples
    --------
    >>> com = gpd.GeoDataFrame({"community_id": ["C1", "C2"]},
    ...                        geometry=[box(0, 0, 100, 100), box(300, 0, 400, 100)], crs=4548)
    >>> pro = gpd.GeoDataFrame({"project_id": ["P1"], "cost_wan_yuan": [50.0],
    ...                         "revenue_wan_yuan": [90.0]}, geometry=[box(120, 0, 280, 100)],
    ...                        crs=4548)
    >>> sorted(gisplan.bundles.adjacency(com, pro).edges)
    [('C1', 'P1'), ('C2', 'P1')]
    """
    if not _finite_at_least(tolerance_m, 0.0):
        raise ScenarioError(
            f"adjacency: tolerance_m = {tolerance_m!r} is not metres >= 0; write e.g. 30",
            [("bundles.tolerance_m", f"{tolerance_m!r} is not metres >= 0", "write e.g. 30")],
        )
    units = _units(communities, projects)
    groups = None if group_by is None else _groups(communities, projects, units, group_by)
    if barriers is not None:
        _check_layer(barriers, "barriers")
        if barriers.crs != units.crs:
            raise CRSError(
                f"barriers are in {barriers.crs}, communities in {units.crs}; "
                "bring both to one metric CRS with gisplan.crs.to_metric"
            )
    left, right, gap, dropped = _edges(
        units, tolerance_m=float(tolerance_m), groups=groups, barriers=barriers
    )
    graph = nx.Graph(
        tolerance_m=float(tolerance_m),
        group_by=group_by,
        crs=str(units.crs),
        removed_by_group=dropped["group"],
        removed_by_barrier=dropped["barrier"],
    )
    areas = shapely.area(units.geometry)
    for i, uid in enumerate(units.ids):
        graph.add_node(
            uid,
            kind=_PROJECT if units.is_project[i] else _COMMUNITY,
            name=units.names[i],
            cost_wan_yuan=float(units.cost[i]),
            revenue_wan_yuan=float(units.revenue[i]),
            surplus_wan_yuan=float(units.revenue[i] - units.cost[i]),
            area_m2=float(areas[i]),
            adjacent_only=bool(units.adjacent_only[i]),
        )
    graph.add_edges_from(
        (units.ids[a], units.ids[b], {"gap_m": float(g)})
        for a, b, g in zip(left.tolist(), right.tolist(), gap.tolist(), strict=True)
    )
    logger.info(
        "adjacency: %d communities, %d projects, %d edges (tolerance %.1f m; %d cut by group, "
        "%d by barriers)",
        units.n_communities,
        len(units.ids) - units.n_communities,
        graph.number_of_edges(),
        tolerance_m,
        dropped["group"],
        dropped["barrier"],
    )
    return graph


# --------------------------------------------------------------------------- bundling core


def _hull_points(geom: shapely.Geometry) -> NDArray[np.float64]:
    """Return the vertices of the convex hull (or its rotated rectangle if large)."""
    hull = shapely.convex_hull(geom)
    coords = shapely.get_coordinates(hull)
    if len(coords) > _MAX_HULL:
        coords = shapely.get_coordinates(shapely.oriented_envelope(geom))
    if len(coords) > 1 and np.array_equal(coords[0], coords[-1]):
        coords = coords[:-1]
    return np.asarray(coords, dtype=float)


def _padded_hulls(geoms: Sequence[Any]) -> NDArray[np.float64]:
    """Return hull vertices as an (n, K, 2) array, short hulls padded by repeating a vertex."""
    hulls = [_hull_points(g) for g in geoms]
    width = max((len(h) for h in hulls), default=1)
    out = np.empty((len(hulls), width, 2), dtype=float)
    for i, h in enumerate(hulls):
        out[i, : len(h)] = h
        out[i, len(h) :] = h[0]
    return out


def _far(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    """Farthest distance between hull sets: a (K, 2) against b (m, K, 2) -> (m,)."""
    diff = b[:, :, None, :] - a[None, None, :, :]
    out: NDArray[np.float64] = np.sqrt((diff**2).sum(axis=-1).max(axis=(1, 2)))
    return out


@dataclass(slots=True)
class _Inst:
    """One bundling instance: communities in need and projects, indexed 0..n-1."""

    ids: list[str]
    is_project: NDArray[np.bool_]
    need: NDArray[np.float64]
    surplus: NDArray[np.float64]
    area: NDArray[np.float64]
    xy: NDArray[np.float64]
    hull: NDArray[np.float64]
    own: NDArray[np.float64]
    rad: NDArray[np.float64]
    nbrs: list[list[int]]

    @property
    def n(self) -> int:
        return len(self.ids)

    def sub(self, index: Sequence[int]) -> _Inst:
        where = {g: i for i, g in enumerate(index)}
        idx = np.asarray(index, dtype=np.intp)
        return _Inst(
            ids=[self.ids[g] for g in index],
            is_project=self.is_project[idx],
            need=self.need[idx],
            surplus=self.surplus[idx],
            area=self.area[idx],
            xy=self.xy[idx],
            hull=self.hull[idx],
            own=self.own[idx],
            rad=self.rad[idx],
            nbrs=[sorted(where[w] for w in self.nbrs[g] if w in where) for g in index],
        )


def _usable(inst: _Inst, opts: BundleOptions) -> NDArray[np.bool_]:
    """Units that fit in a bundle on their own (span and area)."""
    return (inst.own <= opts.max_diameter_m) & (inst.area <= opts.max_area_m2)


def _connected(members: Collection[int], nbrs: Sequence[Sequence[int]]) -> bool:
    items = set(members)
    if not items:
        return False
    start = min(items)
    seen = {start}
    todo = [start]
    while todo:
        v = todo.pop()
        for w in nbrs[v]:
            if w in items and w not in seen:
                seen.add(w)
                todo.append(w)
    return len(seen) == len(items)


def _reach(
    inst: _Inst,
    root: int,
    allowed: NDArray[np.bool_],
    *,
    hops: int,
    exact_span: float | None,
    centroid_span: float | None,
) -> list[int]:
    """Units reachable from ``root`` through ``allowed`` units within ``hops`` steps.

    Units farther than the span from the root (exact hull span, or centroid distance — a lower
    bound of it) are neither reached nor passed through.
    """
    return [
        v
        for v, _ in _reach_hops(
            inst, root, allowed, hops=hops, exact_span=exact_span, centroid_span=centroid_span
        )
    ]


def _reach_hops(
    inst: _Inst,
    root: int,
    allowed: NDArray[np.bool_],
    *,
    hops: int,
    exact_span: float | None,
    centroid_span: float | None,
) -> list[tuple[int, int]]:
    """As :func:`_reach`, with each unit's number of steps from the root."""
    seen = {root}
    layer = [root]
    out = [(root, 0)]
    for step in range(1, hops + 1):
        nxt = sorted({w for v in layer for w in inst.nbrs[v] if allowed[w] and w not in seen})
        if not nxt:
            break
        arr = np.asarray(nxt, dtype=np.intp)
        ok = np.ones(len(arr), dtype=bool)
        if centroid_span is not None:
            ok &= np.hypot(*(inst.xy[arr] - inst.xy[root]).T) <= centroid_span
        if exact_span is not None and ok.any():
            ok[ok] = _far(inst.hull[root], inst.hull[arr[ok]]) <= exact_span
        seen.update(nxt)
        layer = arr[ok].tolist()
        out.extend((v, step) for v in layer)
    return out


def _pairs(inst: _Inst, opts: BundleOptions) -> tuple[list[int], list[tuple[int, int]]]:
    """Projects with a surplus and the communities each could share a bundle with.

    c is listed for p when it lies within ``max_members - 1`` steps of p through usable
    units and within ``max_diameter_m`` of it (true of every pair in one bundle).
    """
    usable = _usable(inst, opts)
    positive = [
        p for p in range(inst.n) if inst.is_project[p] and inst.surplus[p] > 0 and usable[p]
    ]
    pairs: list[tuple[int, int]] = []
    exact = opts.max_diameter_m if inst.n <= _LARGE_PART else None
    for p in positive:
        reach = _reach(
            inst,
            p,
            usable,
            hops=opts.max_members - 1,
            exact_span=exact,
            centroid_span=opts.max_diameter_m,
        )
        pairs.extend((p, c) for c in reach if not inst.is_project[c])
    return positive, pairs


def _flow_bound(inst: _Inst, positive: Sequence[int], pairs: Sequence[tuple[int, int]]) -> float:
    """Upper bound on the need any set of bundles can fund (万元), as a maximum flow.

    Each project pays at most its surplus, each community receives at most its need, and
    money flows only along ``pairs``. Connectivity, the margin and the size limits are
    relaxed, so no set of bundles funds more.
    """
    if not pairs:
        return 0.0
    comms = sorted({c for _, c in pairs})
    total = float(inst.need[comms].sum()) + float(inst.surplus[list(positive)].sum())
    # integer capacities (scipy's maximum_flow), rounded up so the bound stays a bound
    unit = max(1.0 / _OBJ_SCALE, total / 1e9)
    pnode = {p: 1 + i for i, p in enumerate(positive)}
    cnode = {c: 1 + len(positive) + i for i, c in enumerate(comms)}
    sink = 1 + len(positive) + len(comms)
    cap_c = {c: math.ceil(inst.need[c] / unit) for c in comms}
    rows = [0] * len(positive) + [pnode[p] for p, _ in pairs] + [cnode[c] for c in comms]
    cols = [pnode[p] for p in positive] + [cnode[c] for _, c in pairs] + [sink] * len(comms)
    caps = (
        [math.ceil(inst.surplus[p] / unit) for p in positive]
        + [cap_c[c] for _, c in pairs]
        + [cap_c[c] for c in comms]
    )
    graph = sparse.csr_matrix(
        (np.asarray(caps, dtype=np.int32), (rows, cols)), shape=(sink + 1, sink + 1)
    )
    flow = maximum_flow(graph, 0, sink, method="dinic")
    return float(flow.flow_value) * unit


def _lp_bound(
    inst: _Inst, opts: BundleOptions, positive: Sequence[int], pairs: Sequence[tuple[int, int]]
) -> float | None:
    """Tighter upper bound (万元) from a linear program; ``None`` if HiGHS gives none.

    Share ``z[c, p]`` of community c paid by project p: each community at most once,
    project p pays at most its surplus, takes at most ``max_members - 1`` communities and
    ``max_area_m2`` minus its own area. Any set of bundles gives such shares (split each
    bundle's communities over its projects in proportion to their surplus), so the optimum
    of this program bounds the need any set of bundles funds.
    """
    if not pairs:
        return 0.0
    n_pairs = len(pairs)
    pidx = {p: i for i, p in enumerate(positive)}
    comms = sorted({c for _, c in pairs})
    cidx = {c: i for i, c in enumerate(comms)}
    need = np.asarray([float(inst.need[c]) for _, c in pairs])
    area = np.asarray([float(inst.area[c]) for _, c in pairs])
    prow = np.asarray([pidx[p] for p, _ in pairs])
    crow = np.asarray([cidx[c] for _, c in pairs])
    cols = np.arange(n_pairs)
    n_p = len(positive)
    blocks = [
        sparse.csr_matrix((np.ones(n_pairs), (crow, cols)), shape=(len(comms), n_pairs)),
        sparse.csr_matrix((need, (prow, cols)), shape=(n_p, n_pairs)),
        sparse.csr_matrix((np.ones(n_pairs), (prow, cols)), shape=(n_p, n_pairs)),
        sparse.csr_matrix((area, (prow, cols)), shape=(n_p, n_pairs)),
    ]
    upper = np.concatenate(
        [
            np.ones(len(comms)),
            [float(inst.surplus[p]) for p in positive],
            np.full(n_p, float(opts.max_members - 1)),
            [max(0.0, float(opts.max_area_m2 - inst.area[p])) for p in positive],
        ]
    )
    res = linprog(
        -need,
        A_ub=sparse.vstack(blocks).tocsr(),
        b_ub=upper,
        bounds=(0.0, 1.0),
        method="highs",
    )
    if res.status != 0 or res.fun is None:
        return None
    # HiGHS stops within a relative tolerance of 1e-7; widen the bound by that much
    return float(-res.fun) * (1.0 + 1e-7) + 1e-6


def _value(inst: _Inst, v: int) -> float:
    return float(inst.surplus[v] - inst.need[v])


#: A beam-search state: funded, compactness, members, balance, area, reach from the root.
_State = tuple[float, float, tuple[int, ...], float, float, float]


class _Search:
    """Beam-search growth of bundles from projects, then local improvement.

    Works on plain Python lists (faster than numpy for the many small steps).
    """

    def __init__(self, inst: _Inst, opts: BundleOptions, rng: np.random.Generator | None) -> None:
        self.n = inst.n
        self.need: list[float] = inst.need.tolist()
        self.surplus: list[float] = inst.surplus.tolist()
        self.value: list[float] = (inst.surplus - inst.need).tolist()
        self.area: list[float] = inst.area.tolist()
        self.cx: list[float] = inst.xy[:, 0].tolist()
        self.cy: list[float] = inst.xy[:, 1].tolist()
        self.rad: list[float] = inst.rad.tolist()
        self.hull = inst.hull
        self.nbrs = inst.nbrs
        self.proj: list[bool] = inst.is_project.tolist()
        self.usable: list[bool] = _usable(inst, opts).tolist()
        self.max_members = opts.max_members
        self.max_area = float(opts.max_area_m2)
        self.span = float(opts.max_diameter_m)
        self.margin = float(opts.margin_wan_yuan)
        self.width = opts.beam_width
        self.owner = [-1] * inst.n
        self.bundles: dict[int, list[int]] = {}
        self.next_key = 0
        self.noise: list[float] = (
            rng.uniform(0.0, 1.0, inst.n).tolist() if rng is not None else [0.0] * inst.n
        )

    # -- checks
    def span_ok(self, members: Sequence[int], v: int) -> bool:
        """Whether v keeps the bundle within the span limit (quick circle tests first)."""
        cx, cy, rad, limit = self.cx, self.cy, self.rad, self.span
        x, y = cx[v], cy[v]
        high = 0.0
        for u in members:
            d = math.hypot(cx[u] - x, cy[u] - y)
            if d > limit:
                return False
            high = max(high, d + rad[u])
        if high + rad[v] <= limit:
            return True
        pts = np.concatenate([self.hull[u] for u in members])
        diff = pts[:, None, :] - self.hull[v][None, :, :]
        return float(np.sqrt((diff * diff).sum(axis=-1).max())) <= limit

    def funded(self, members: Iterable[int]) -> float:
        return math.fsum(self.need[v] for v in members)

    def score(self, members: Sequence[int]) -> tuple[float, int, float]:
        root = min(v for v in members if self.proj[v])
        compact = math.fsum(
            math.hypot(self.cx[v] - self.cx[root], self.cy[v] - self.cy[root]) for v in members
        )
        return (round(self.funded(members), 6), -len(members), -compact)

    def front(self, members: Sequence[int]) -> list[int]:
        """Free usable communities next to the members, in index order."""
        owner, usable, proj, nbrs = self.owner, self.usable, self.proj, self.nbrs
        inside = set(members)
        return sorted(
            {
                w
                for u in members
                for w in nbrs[u]
                if owner[w] == -1 and not proj[w] and usable[w] and w not in inside
            }
        )

    # -- growth
    def beam(self, base: list[int]) -> list[int] | None:
        """Best connected extension of ``base`` by free communities (beam search).

        States grow one community at a time; each round keeps the ``beam_width`` states
        funding most (then the most compact), and the best state seen is returned.
        """
        value, area, proj = self.value, self.area, self.proj
        root = base[0]
        rx, ry = self.cx[root], self.cy[root]
        bal0 = math.fsum(value[u] for u in base)
        if bal0 < self.margin - 1e-9:
            return None
        compact0 = math.fsum(math.hypot(self.cx[u] - rx, self.cy[u] - ry) for u in base)
        reach0 = max(math.hypot(self.cx[u] - rx, self.cy[u] - ry) + self.rad[u] for u in base)
        beam = [(0.0, compact0, tuple(base), bal0, math.fsum(area[u] for u in base), reach0)]
        best: tuple[float, float, tuple[int, ...]] | None = None
        if any(not proj[u] for u in base):
            best = (round(self.funded(base), 6), compact0, tuple(base))
        seen: set[frozenset[int]] = set()
        while beam:
            children: dict[frozenset[int], _State] = {}
            for state in beam:
                self.expand(state, rx, ry, seen, children)
            if not children:
                break
            seen.update(children)
            ranked = sorted(children.values(), key=lambda s: (-round(s[0], 6), s[1], s[2]))
            beam = ranked[: self.width]
            top = beam[0]
            cand = (round(top[0], 6), top[1], top[2])
            if best is None or (cand[0], -cand[1]) > (best[0], -best[1]):
                best = cand
        return None if best is None else list(best[2])

    def expand(
        self,
        state: _State,
        rx: float,
        ry: float,
        seen: set[frozenset[int]],
        children: dict[frozenset[int], _State],
    ) -> None:
        """Add every one-community extension of ``state`` that keeps the limits."""
        funded, compact, members, bal, ar, reach = state
        if len(members) >= self.max_members:
            return
        need, value, area, rad = self.need, self.value, self.area, self.rad
        for c in self.front(members):
            if ar + area[c] > self.max_area or bal + value[c] < self.margin - 1e-9:
                continue
            key = frozenset((*members, c))
            if key in children or key in seen:
                continue
            d = math.hypot(self.cx[c] - rx, self.cy[c] - ry)
            # every member lies within `reach` of the root's centroid: a quick pass
            if d + rad[c] + reach > self.span and not self.span_ok(members, c):
                continue
            children[key] = (
                funded + need[c],
                compact + d + self.noise[c],
                (*members, c),
                bal + value[c],
                ar + area[c],
                max(reach, d + rad[c]),
            )

    def paths(self, base: list[int]) -> list[int] | None:
        """Extension of ``base`` by whole paths of free communities (best need per member).

        Each step looks up to the free slots deep (breadth-first from the members, keeping
        along every shortest path the one with most need) and adds the path with the highest
        need per member that still balances, so a rich cluster behind poor neighbours is
        reached — which one community at a time never sees.
        """
        members = list(base)
        bal = math.fsum(self.value[u] for u in members)
        if bal < self.margin - 1e-9:
            return None
        blocked: set[int] = set()
        while len(members) < self.max_members:
            path = self.best_path(members, bal - self.margin, blocked)
            if path is None:
                break
            ok = True
            for c in path:
                if not self.span_ok(members, c):
                    blocked.add(c)
                    ok = False
                    break
            if not ok:
                continue
            area = math.fsum(self.area[u] for u in (*members, *path))
            if area > self.max_area:
                blocked.add(path[-1])
                continue
            members.extend(path)
            bal += math.fsum(self.value[c] for c in path)
        return members if any(not self.proj[u] for u in members) else None

    def best_path(self, members: list[int], budget: float, blocked: set[int]) -> list[int] | None:
        """Path of free communities from the members with the most need per member."""
        inside = set(members)
        best_sum: dict[int, float] = dict.fromkeys(members, 0.0)
        parent: dict[int, int] = {}
        layer = list(members)
        top: tuple[float, float, int] | None = None
        for d in range(1, self.max_members - len(members) + 1):
            nxt = self.path_layer(layer, best_sum, parent, budget, blocked)
            if not nxt:
                break
            for w, total in nxt.items():
                best_sum[w] = total
                key = (total / d, -float(d), -w)
                if top is None or key > top:
                    top = key
            layer = sorted(nxt)
        if top is None:
            return None
        path = [-top[2]]
        while parent[path[-1]] not in inside:
            path.append(parent[path[-1]])
        return path[::-1]

    def path_layer(
        self,
        layer: Sequence[int],
        best_sum: dict[int, float],
        parent: dict[int, int],
        budget: float,
        blocked: set[int],
    ) -> dict[int, float]:
        """Next breadth-first layer: the most need along a shortest path to each unit."""
        nxt: dict[int, float] = {}
        for u in layer:
            for w in self.nbrs[u]:
                if w in best_sum or w in blocked or not self.is_free(w):
                    continue
                total = best_sum[u] + self.need[w]
                if total <= budget + 1e-9 and (w not in nxt or total > nxt[w]):
                    nxt[w] = total
                    parent[w] = u
        return nxt

    def is_free(self, w: int) -> bool:
        """Whether w is a usable community that no bundle holds."""
        return self.owner[w] == -1 and not self.proj[w] and self.usable[w]

    def grow(self, root: int) -> list[int] | None:
        """Bundle grown from ``root``: beam search, then more projects while that helps."""
        best = self.extend([root])
        tried: set[int] = set()
        for _ in range(self.max_members):
            members = best if best is not None else [root]
            if len(members) + 2 > self.max_members or not self.short_of_money(members):
                break
            step = self.next_project(members, tried)
            if step is None:
                break
            tried.add(step[-1])
            trial = self.extend([*members, *step])
            if trial is not None and (
                best is None or self.funded(trial) > self.funded(best) + 1e-9
            ):
                best = trial
        if best is None:
            return None
        return self.prune(best)

    def extend(self, base: list[int]) -> list[int] | None:
        """Return the better of the beam-search and the path extension of ``base``."""
        best = self.beam(base)
        other = self.paths(base)
        if other is not None and (best is None or self.score(other) > self.score(best)):
            best = other
        return best

    def next_project(self, members: list[int], tried: set[int]) -> list[int] | None:
        """Find a free project with a surplus next to the members or behind one free community.

        Returns the units to add (``[q]`` or ``[c, q]``), the richest project first.
        """
        inside = set(members)
        area = math.fsum(self.area[u] for u in members)

        def usable_project(w: int) -> bool:
            return (
                w not in inside
                and w not in tried
                and self.owner[w] == -1
                and self.proj[w]
                and self.usable[w]
                and self.surplus[w] > 0
            )

        steps: dict[int, list[int]] = {}
        for u in members:
            for w in self.nbrs[u]:
                if usable_project(w):
                    steps[w] = [w]
        for c in self.front(members):
            for w in self.nbrs[c]:
                if usable_project(w) and w not in steps:
                    steps[w] = [c, w]
        ranked = sorted(steps, key=lambda w: (-self.surplus[w] * (1.0 + 0.3 * self.noise[w]), w))
        for w in ranked:
            step = steps[w]
            if area + math.fsum(self.area[v] for v in step) <= self.max_area and all(
                self.span_ok([*members, *step[:k]], v) for k, v in enumerate(step)
            ):
                return step
        return None

    def short_of_money(self, members: Sequence[int]) -> bool:
        """Whether a free neighbouring community is left out for want of money alone."""
        inside = set(members)
        budget = math.fsum(self.value[v] for v in members) - self.margin
        area = math.fsum(self.area[v] for v in members)
        return any(
            self.need[w] > budget + 1e-9
            and area + self.area[w] <= self.max_area
            and self.span_ok(members, w)
            for u in members
            for w in self.nbrs[u]
            if w not in inside and self.owner[w] == -1 and not self.proj[w] and self.usable[w]
        )

    def prune(self, members: list[int]) -> list[int]:
        """Drop projects the bundle does not need (keeps it balanced and connected)."""
        out = list(members)
        for q in sorted((v for v in members if self.proj[v]), key=lambda v: (self.surplus[v], v)):
            rest = [v for v in out if v != q]
            if (
                any(self.proj[v] for v in rest)
                and math.fsum(self.value[v] for v in rest) >= self.margin - 1e-9
                and _connected(rest, self.nbrs)
            ):
                out = rest
        return out

    # -- bookkeeping
    def claim(self, key: int | None, members: list[int]) -> int:
        if key is None:
            key = self.next_key
            self.next_key += 1
        self.bundles[key] = members
        for v in members:
            self.owner[v] = key
        return key

    def release(self, key: int) -> list[int]:
        members = self.bundles.pop(key)
        for v in members:
            self.owner[v] = -1
        return members

    def seeds(self) -> list[int]:
        out = [p for p in range(self.n) if self.proj[p] and self.usable[p] and self.surplus[p] > 0]
        out.sort(key=lambda p: (-self.surplus[p] * (1.0 + 0.3 * self.noise[p]), p))
        return out

    def construct(self) -> bool:
        grown = False
        for p in self.seeds():
            if self.owner[p] != -1:
                continue
            members = self.grow(p)
            if members is not None:
                self.claim(None, members)
                grown = True
        return grown

    def construct_rr(self) -> bool:
        """Grow all bundles at once, one community per bundle per round (round robin)."""
        order = [p for p in self.seeds() if self.owner[p] == -1]
        live: list[tuple[int, int]] = []
        live.extend((self.claim(None, [p]), p) for p in order)
        while live:
            still: list[tuple[int, int]] = []
            for key, root in live:
                members = self.bundles[key]
                pick = self.best_step(members)
                if (
                    pick is None
                    and len(members) + 2 <= self.max_members
                    and self.short_of_money(members)
                ):
                    pick = self.best_project(members)
                if pick is None:
                    continue
                members.append(pick)
                self.owner[pick] = key
                still.append((key, root))
            live = still
        grown = False
        for key in sorted(self.bundles):
            members = self.bundles[key]
            if not any(not self.proj[v] for v in members):
                self.release(key)
                continue
            pruned = self.prune(members)
            if len(pruned) != len(members):
                self.release(key)
                self.claim(key, pruned)
            grown = True
        return grown

    def best_step(self, members: list[int]) -> int | None:
        """Return the free neighbouring community with the largest need that fits."""
        inside = set(members)
        bal = math.fsum(self.value[v] for v in members)
        area = math.fsum(self.area[v] for v in members)
        if len(members) >= self.max_members:
            return None
        root = members[0]
        cands = sorted(
            {
                w
                for u in members
                for w in self.nbrs[u]
                if w not in inside
                and self.owner[w] == -1
                and not self.proj[w]
                and self.usable[w]
                and bal + self.value[w] >= self.margin - 1e-9
                and area + self.area[w] <= self.max_area
            },
            key=lambda w: (
                -self.need[w],
                math.hypot(self.cx[w] - self.cx[root], self.cy[w] - self.cy[root]) + self.noise[w],
                w,
            ),
        )
        return next((w for w in cands if self.span_ok(members, w)), None)

    def best_project(self, members: list[int]) -> int | None:
        inside = set(members)
        area = math.fsum(self.area[v] for v in members)
        cands = sorted(
            {
                w
                for u in members
                for w in self.nbrs[u]
                if w not in inside
                and self.owner[w] == -1
                and self.proj[w]
                and self.usable[w]
                and self.surplus[w] > 0
                and area + self.area[w] <= self.max_area
            },
            key=lambda w: (-self.surplus[w] * (1.0 + 0.3 * self.noise[w]), w),
        )
        return next((w for w in cands if self.span_ok(members, w)), None)

    def total(self) -> float:
        return math.fsum(self.funded(m) for m in self.bundles.values())

    # -- improvement
    def regrow(self, key: int) -> bool:
        old = self.release(key)
        root = min(v for v in old if self.proj[v])
        new = self.grow(root)
        if new is not None and self.score(new) > self.score(old):
            self.claim(key, new)
            return True
        self.claim(key, old)
        return False

    def pair(self, a: int, b: int) -> bool:
        """Re-grow two neighbouring bundles in both orders; keep the better pair."""
        old_a, old_b = self.release(a), self.release(b)
        before = self.funded(old_a) + self.funded(old_b)
        ra = min(v for v in old_a if self.proj[v])
        rb = min(v for v in old_b if self.proj[v])
        best: list[list[int]] | None = None
        best_val = before + 1e-9
        for first, second in ((rb, ra), (ra, rb)):
            got: list[list[int]] = []
            one = self.grow(first)
            if one is not None:
                self.claim(-2, one)
                got.append(one)
            two = self.grow(second) if self.owner[second] == -1 else None
            if one is not None:
                self.release(-2)
            if two is not None:
                got.append(two)
            val = math.fsum(self.funded(m) for m in got)
            if val > best_val:
                best, best_val = got, val
        if best is None:
            self.claim(a, old_a)
            self.claim(b, old_b)
            return False
        for members in best:
            self.claim(None, members)
        return True

    def neighbours(self, key: int) -> list[int]:
        return sorted(
            {
                self.owner[w]
                for v in self.bundles[key]
                for w in self.nbrs[v]
                if self.owner[w] >= 0 and self.owner[w] != key
            }
        )

    def merge(self) -> None:
        """Merge neighbouring bundles within the limits (fewer bundles), then refill."""
        for key in sorted(self.bundles):
            if key not in self.bundles:
                continue
            for other in self.neighbours(key):
                if other not in self.bundles or key not in self.bundles:
                    continue
                a, b = self.bundles[key], self.bundles[other]
                if (
                    len(a) + len(b) <= self.max_members
                    and math.fsum(self.area[v] for v in (*a, *b)) <= self.max_area
                    and all(self.span_ok(a, v) for v in b)
                ):
                    self.release(other)
                    self.release(key)
                    merged = self.beam([*a, *b]) or [*a, *b]
                    self.claim(key, merged)

    def run(self, *, pairs: bool) -> list[list[int]]:
        self.construct_rr()
        for _ in range(3):
            changed = False
            for key in sorted(self.bundles):
                if key in self.bundles:
                    changed |= self.regrow(key)
            if pairs:
                for key in sorted(self.bundles):
                    for other in self.neighbours(key) if key in self.bundles else []:
                        if other > key and other in self.bundles and key in self.bundles:
                            changed |= self.pair(key, other)
            changed |= self.construct()
            if not changed:
                break
        self.merge()
        return [sorted(m) for _, m in sorted(self.bundles.items())]


def _far_matrix(hull: NDArray[np.float64]) -> NDArray[np.float64]:
    """Pairwise farthest distances of (n, K, 2) hulls, in row chunks."""
    n, k = hull.shape[0], hull.shape[1]
    out = np.empty((n, n), dtype=float)
    step = max(1, int(2_000_000 // max(1, n * k * k)))
    for start in range(0, n, step):
        block = hull[start : start + step]
        diff = block[:, None, :, None, :] - hull[None, :, None, :, :]
        out[start : start + step] = np.sqrt((diff**2).sum(axis=-1).max(axis=(2, 3)))
    return out


@dataclass(slots=True)
class _Model:
    """Column and row builders of the bundling integer program."""

    cost: list[float] = field(default_factory=list)
    upper: list[float] = field(default_factory=list)
    integer: list[int] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)
    cols: list[int] = field(default_factory=list)
    vals: list[float] = field(default_factory=list)
    lower_b: list[float] = field(default_factory=list)
    upper_b: list[float] = field(default_factory=list)

    def var(self, cost: float, upper: float, *, integer: bool) -> int:
        self.cost.append(cost)
        self.upper.append(upper)
        self.integer.append(1 if integer else 0)
        return len(self.cost) - 1

    def row(self, terms: Iterable[tuple[int, float]], low: float, high: float) -> None:
        r = len(self.lower_b)
        for col, val in terms:
            self.rows.append(r)
            self.cols.append(col)
            self.vals.append(val)
        self.lower_b.append(low)
        self.upper_b.append(high)

    def solve(self, time_limit: float, gap: float, node_limit: int | None = None) -> Any:  # noqa: ANN401 — scipy's result
        a = sparse.csr_matrix(
            (self.vals, (self.rows, self.cols)), shape=(len(self.lower_b), len(self.cost))
        )
        return milp(
            np.asarray(self.cost),
            integrality=np.asarray(self.integer),
            bounds=Bounds(0.0, np.asarray(self.upper)),
            constraints=[LinearConstraint(a, self.lower_b, self.upper_b)],
            options={
                "time_limit": float(time_limit),
                "mip_rel_gap": float(gap),
                **({} if node_limit is None else {"node_limit": int(node_limit)}),
            },
        )


def _roots(inst: _Inst, opts: BundleOptions) -> list[tuple[int, dict[int, int]]]:
    """Candidate units (with steps from the root) of every bundle root.

    A bundle's root is its first project in index (id) order, so a root's candidates are
    communities and later projects within ``max_members - 1`` steps and ``max_diameter_m``.
    """
    usable = _usable(inst, opts)
    order = np.arange(inst.n)
    out: list[tuple[int, dict[int, int]]] = []
    for r in range(inst.n):
        if not (inst.is_project[r] and usable[r]):
            continue
        allowed = usable & (~inst.is_project | (order > r))
        cand = dict(
            _reach_hops(
                inst,
                r,
                allowed,
                hops=opts.max_members - 1,
                exact_span=opts.max_diameter_m,
                centroid_span=None,
            )
        )
        comms = [v for v in cand if not inst.is_project[v]]
        if not comms:
            continue
        money = float(np.clip(inst.surplus[list(cand)], 0.0, None).sum())
        if money - opts.margin_wan_yuan < float(inst.need[comms].min()) - 1e-9:
            continue
        out.append((r, cand))
    return out


def _objective(need: NDArray[np.float64]) -> tuple[NDArray[np.float64], float]:
    """Objective weights (0.01 万元 units) and the bound slack their rounding allows."""
    scaled: NDArray[np.float64] = need * _OBJ_SCALE
    rounded: NDArray[np.float64] = np.round(scaled)
    if np.all(np.abs(scaled - rounded) <= 1e-6 * np.maximum(1.0, np.abs(scaled))):
        # whole 0.01 万元: an integral objective, which HiGHS uses to prune
        return rounded, float(np.abs(scaled - rounded).sum()) / _OBJ_SCALE
    return scaled, 0.0


@dataclass(slots=True)
class _Program:
    """The bundling integer program under construction (see :func:`_exact`)."""

    inst: _Inst
    opts: BundleOptions
    span: NDArray[np.float64]
    model: _Model = field(default_factory=_Model)
    xcol: dict[tuple[int, int], int] = field(default_factory=dict)
    per_unit: dict[int, list[int]] = field(default_factory=dict)
    funded: list[tuple[int, float]] = field(default_factory=list)

    def add_root(self, r: int, cand: Mapping[int, int], weight: NDArray[np.float64]) -> None:
        inst, model, xcol = self.inst, self.model, self.xcol
        for v in cand:
            xcol[v, r] = model.var(-float(weight[v]), 1.0, integer=True)
            self.per_unit.setdefault(v, []).append(xcol[v, r])
            if not inst.is_project[v]:
                self.funded.append((xcol[v, r], float(inst.need[v])))
        self.add_flow(r, cand)
        members = list(cand)
        root = xcol[r, r]
        for v in members:
            if v == r:
                continue
            x = xcol[v, r]
            model.row([(x, 1.0), (root, -1.0)], -np.inf, 0.0)
            near = [xcol[w, r] for w in inst.nbrs[v] if w in cand]
            model.row([(x, 1.0), *((c, -1.0) for c in near)], -np.inf, 0.0)
        self.add_limits(r, members)

    def add_flow(self, r: int, cand: Mapping[int, int]) -> None:
        """Single-commodity flow from the root: one unit to each other member."""
        inst, model, xcol = self.inst, self.model, self.xcol
        inflow: dict[int, list[int]] = {v: [] for v in cand}
        outflow: dict[int, list[int]] = {v: [] for v in cand}
        for u, steps in cand.items():
            cap = float(self.opts.max_members - 1 - steps)
            if cap <= 0:
                continue
            for w in inst.nbrs[u]:
                if w in cand and w != r:
                    f = model.var(0.0, cap, integer=False)
                    outflow[u].append(f)
                    inflow[w].append(f)
                    model.row([(f, 1.0), (xcol[w, r], -cap)], -np.inf, 0.0)
        for v in cand:
            if v != r:
                terms = [(f, 1.0) for f in inflow[v]] + [(f, -1.0) for f in outflow[v]]
                model.row([*terms, (xcol[v, r], -1.0)], 0.0, 0.0)

    def add_limits(self, r: int, members: Sequence[int]) -> None:
        """Balance, a community, members, area and span of the bundle rooted at r."""
        inst, opts, model, xcol = self.inst, self.opts, self.model, self.xcol
        root = xcol[r, r]
        value = [(xcol[v, r], float(inst.surplus[v] - inst.need[v])) for v in members]
        model.row([*value, (root, -float(opts.margin_wan_yuan))], 0.0, np.inf)
        comms = [xcol[v, r] for v in members if not inst.is_project[v]]
        model.row([*((c, 1.0) for c in comms), (root, -1.0)], 0.0, np.inf)
        if len(members) > opts.max_members:
            count = [(xcol[v, r], 1.0) for v in members]
            model.row([*count, (root, -float(opts.max_members))], -np.inf, 0.0)
        area = [(xcol[v, r], float(inst.area[v]) / opts.max_area_m2) for v in members]
        if math.fsum(a for _, a in area) > 1.0:
            model.row([*area, (root, -1.0)], -np.inf, 0.0)
        far = self.span[np.ix_(members, members)] > opts.max_diameter_m
        for i, u in enumerate(members):
            away = [members[int(j)] for j in np.flatnonzero(far[i])]
            if away:
                k = float(len(away))
                model.row([*((xcol[v, r], 1.0) for v in away), (xcol[u, r], k)], -np.inf, k)

    def add_once(self) -> None:
        """Each unit in at most one bundle."""
        for cols in self.per_unit.values():
            if len(cols) > 1:
                self.model.row(((c, 1.0) for c in cols), -np.inf, 1.0)


def _exact(
    inst: _Inst, opts: BundleOptions, floor_wan_yuan: float = 0.0
) -> tuple[list[list[int]] | None, dict[str, Any]]:
    """Solve one part exactly; return its bundles (``None``: no solution found) and status.

    Variables ``x[v, r]`` put unit v in the bundle rooted at project r, the bundle's first
    project in id order (so each bundle has exactly one root); ``x[r, r]`` opens it. A
    single-commodity flow from the root keeps every bundle connected: each member other than
    the root consumes one unit, and flow enters only members,
    ``f[u, w, r] <= (max_members - 1 - steps(u)) x[w, r]`` (a member ``steps(u)`` steps from
    the root has at least that many members above it). Rows: each unit in at most one
    bundle; members only in open bundles; balance ``sum (surplus - need) x >= margin x[r, r]``;
    at least one community; members, area and span limits (a member excludes every unit
    farther than ``max_diameter_m`` from it); every member next to another member. The
    objective is the need funded; ``floor_wan_yuan`` (a heuristic's result) is added as a
    lower limit on it, which lets HiGHS prune early.
    """
    roots = _roots(inst, opts)
    if not roots:
        return [], {"status": "optimal", "bound": 0.0, "message": "no bundle can balance"}
    weight, slack = _objective(inst.need)
    program = _Program(inst=inst, opts=opts, span=_far_matrix(inst.hull))
    for r, cand in roots:
        program.add_root(r, cand, weight)
    program.add_once()
    if floor_wan_yuan > 0:
        program.model.row(program.funded, floor_wan_yuan - 1e-6, np.inf)
    res = program.model.solve(opts.time_limit_s, opts.mip_gap, opts.node_limit)
    status = solver_status(res)
    dual = getattr(res, "mip_dual_bound", None)
    bound = (
        max(0.0, -float(dual) / _OBJ_SCALE + slack)
        if dual is not None and math.isfinite(float(dual))
        else math.inf
    )
    info: dict[str, Any] = {"status": status, "bound": bound, "message": str(res.message)}
    if res.x is None:
        return None, info
    x = np.asarray(res.x)
    xcol = program.xcol
    bundles = [
        sorted(v for v in cand if x[xcol[v, r]] > _HALF)
        for r, cand in roots
        if x[xcol[r, r]] > _HALF
    ]
    return bundles, info


# --------------------------------------------------------------------------- large area


@dataclass(frozen=True, slots=True)
class BundleResult:
    """Result of :func:`large_area`.

    Attributes
    ----------
    bundles
        One row per bundle, sorted by ``bundle_id`` (B001, B002 … in the order of each
        bundle's first project id): ``bundle_id``, ``communities`` and ``projects`` (ids joined
        by commas, in id order), ``n_communities``, ``n_projects``, ``n_members``,
        ``funded_wan_yuan`` (community need funded), ``cost_wan_yuan`` (community need plus
        project cost), ``revenue_wan_yuan``, ``balance_wan_yuan`` (revenue minus cost, at
        least the margin), ``margin_wan_yuan``, ``area_m2``, ``diameter_m``,
        ``mode`` (``"large_area"``) and ``geometry`` (the members' polygons dissolved into
        one outline, the streets between them closed; see ``_outline``).
    members
        One row per bundled unit: ``bundle_id``, ``unit_id``, ``kind`` (``"community"`` or
        ``"project"``), ``amount_wan_yuan`` (its revenue minus cost: a project's surplus,
        minus a community's need; a bundle's amounts add up to its balance).
    info
        ``method`` (how the parts were solved), ``status`` (``"optimal"``, ``"heuristic"``,
        ``"limit reached (not proven optimal)"`` or ``"empty"``), ``funded_wan_yuan``,
        ``bound_wan_yuan`` (no set of bundles funds more), ``gap`` (relative to the bound),
        ``time_s``, ``n_units`` (communities in need plus projects), ``n_bundles``,
        ``parts`` (one dict per connected part that could hold a bundle), ``isolated``
        (communities in need with no neighbour in the graph), ``reason`` (why the result is
        empty, else ``""``).
    """

    bundles: gpd.GeoDataFrame
    members: pd.DataFrame
    info: dict[str, Any]


def _need(need_wan_yuan: object, units: _Units) -> NDArray[np.float64]:
    """Return the need per unit (0 for projects and communities not listed)."""
    if not isinstance(need_wan_yuan, pd.Series):
        raise LayerError(
            f"need_wan_yuan: expected a pandas Series indexed by community_id, got "
            f"{type(need_wan_yuan).__name__}"
        )
    keys = [str(k).strip() for k in need_wan_yuan.index]
    values = pd.to_numeric(need_wan_yuan, errors="coerce").astype("float64").to_numpy()
    index = units.index()
    problems: list[str] = []
    seen: set[str] = set()
    dup = sorted({k for k in keys if k in seen or seen.add(k)})  # type: ignore[func-returns-value]
    if dup:
        problems.append(f"community_id listed twice: {_listed(dup)}")
    unknown = [k for k in keys if k not in index or units.is_project[index[k]]]
    if unknown:
        problems.append(f"not a community_id of the communities layer: {_listed(unknown)}")
    bad = [
        f"{k} ({printable(v)})"
        for k, v, x in zip(keys, need_wan_yuan, values, strict=True)
        if not (math.isfinite(x) and x >= 0)
    ]
    if bad:
        problems.append(f"not 万元 >= 0: {_listed(bad)}")
    if problems:
        raise LayerError(
            "need_wan_yuan: " + "; ".join(problems) + "; give each community's unfunded public "
            "cost in 万元 (0 or leave it out when nothing is needed)"
        )
    out = np.zeros(len(units.ids), dtype=float)
    for k, x in zip(keys, values, strict=True):
        out[index[k]] = float(x)
    return out


def _graph_neighbours(graph: object, units: _Units) -> list[list[int]]:
    if not isinstance(graph, nx.Graph):
        raise LayerError(
            f"graph: expected a networkx.Graph from gisplan.bundles.adjacency, got "
            f"{type(graph).__name__}"
        )
    index = units.index()
    unknown = sorted(str(v) for v in graph.nodes if str(v) not in index)
    if unknown:
        raise LayerError(
            f"graph: nodes {_listed(unknown)} are neither communities nor projects; build the "
            "graph from the same layers with gisplan.bundles.adjacency"
        )
    nbrs: list[set[int]] = [set() for _ in units.ids]
    for a, b in graph.edges:
        i, j = index[str(a)], index[str(b)]
        if i != j:
            nbrs[i].add(j)
            nbrs[j].add(i)
    return [sorted(s) for s in nbrs]


def _components(nbrs: Sequence[Sequence[int]]) -> list[list[int]]:
    seen = [False] * len(nbrs)
    out: list[list[int]] = []
    for start in range(len(nbrs)):
        if seen[start]:
            continue
        seen[start] = True
        comp = [start]
        todo = deque([start])
        while todo:
            v = todo.popleft()
            for w in nbrs[v]:
                if not seen[w]:
                    seen[w] = True
                    comp.append(w)
                    todo.append(w)
        out.append(sorted(comp))
    return out


def _compactness(inst: _Inst, bundles: Sequence[Sequence[int]]) -> float:
    total = 0.0
    for b in bundles:
        root = min(v for v in b if inst.is_project[v])
        total += float(np.hypot(*(inst.xy[list(b)] - inst.xy[root]).T).sum())
    return total


def _score(inst: _Inst, bundles: Sequence[Sequence[int]]) -> tuple[float, int, float]:
    """Sort key, larger is better: funded (to 1 元), fewer bundles, more compact."""
    funded = math.fsum(float(inst.need[v]) for b in bundles for v in b)
    return (round(funded, 4), -len(bundles), -_compactness(inst, bundles))


def _heuristic(inst: _Inst, opts: BundleOptions) -> list[list[int]]:
    best = _Search(inst, opts, None).run(pairs=True)
    rng = np.random.default_rng(opts.seed)
    for _ in range(opts.restarts if inst.n <= _LARGE_PART else 0):
        trial = _Search(inst, opts, rng).run(pairs=True)
        if _score(inst, trial) > _score(inst, best):
            best = trial
    return best


def _tidy(inst: _Inst, opts: BundleOptions, bundles: Sequence[Sequence[int]]) -> list[list[int]]:
    """Tie-breaks on a solution: drop projects a bundle does not need, merge neighbours."""
    search = _Search(inst, opts, None)
    for b in bundles:
        search.claim(None, search.prune(list(b)))
    search.merge()
    return [sorted(m) for _, m in sorted(search.bundles.items())]


def _solve_part(inst: _Inst, opts: BundleOptions) -> tuple[list[list[int]], dict[str, Any]]:
    """Bundle one connected part with the method the options ask for."""
    exact = opts.method == "exact" or (opts.method == "auto" and inst.n <= opts.exact_max_units)
    positive, pairs = _pairs(inst, opts)
    bound = _flow_bound(inst, positive, pairs)
    if len(pairs) <= _LP_MAX_PAIRS:
        lp = _lp_bound(inst, opts, positive, pairs)
        if lp is not None:
            bound = min(bound, lp)
    part: dict[str, Any] = {"n_units": inst.n, "first_unit": inst.ids[0]}
    bundles = _heuristic(inst, opts)
    funded = math.fsum(float(inst.need[v]) for b in bundles for v in b)
    if not exact:
        part.update(method="heuristic", status="heuristic", solver_message="")
    elif funded >= bound * (1.0 - 1e-6) - 1e-6:
        part.update(method="heuristic, proven by the bound", status="optimal", solver_message="")
    elif opts.method == "auto" and funded >= bound * (1.0 - opts.auto_gap):
        part.update(
            method="heuristic, within auto_gap of the bound", status="heuristic", solver_message=""
        )
    else:
        # ask only for bundles that beat the heuristic by more than mip_gap: if there are
        # none (HiGHS proves it infeasible), the heuristic is within mip_gap of the optimum
        floor = funded * (1.0 + opts.mip_gap) + 1e-6 if funded > 0 else 0.0
        found, solved = _exact(inst, opts, floor_wan_yuan=floor)
        if solved["status"] == "infeasible":
            solved.update(status="optimal", bound=min(float(solved["bound"]), floor))
        part.update(method="exact", status=solved["status"], solver_message=solved["message"])
        bound = min(bound, float(solved["bound"]))
        if found is not None and _score(inst, found) > _score(inst, bundles):
            bundles = _tidy(inst, opts, found)
        else:
            part["method"] = "exact, heuristic kept"
    funded = math.fsum(float(inst.need[v]) for b in bundles for v in b)
    bound = max(bound, funded)
    part.update(funded_wan_yuan=funded, bound_wan_yuan=bound, n_bundles=len(bundles))
    return bundles, part


def _empty_reason(inst: _Inst, opts: BundleOptions, isolated: Sequence[str]) -> str:
    if not (~inst.is_project).any():
        return "no community has a need > 0"
    if not inst.is_project.any():
        return "there are no projects to balance the communities' needs"
    if not (inst.surplus[inst.is_project] > 0).any():
        return "no project has revenue above cost, so no bundle can balance a positive need"
    usable = _usable(inst, opts)
    best: float | None = None
    reached = False
    for p in np.flatnonzero(inst.is_project & (inst.surplus > 0) & usable):
        cand = _reach(
            inst,
            int(p),
            usable,
            hops=opts.max_members - 1,
            exact_span=opts.max_diameter_m,
            centroid_span=None,
        )
        comms = [v for v in cand if not inst.is_project[v]]
        if not comms:
            continue
        reached = True
        money = float(np.clip(inst.surplus[cand], 0.0, None).sum()) - float(inst.need[comms].min())
        best = money if best is None else max(best, money)
    top = float(inst.surplus[inst.is_project].max())
    if best is not None and best < opts.margin_wan_yuan:
        return (
            f"margin {opts.margin_wan_yuan:g} 万元 exceeds what any bundle can keep: at most "
            f"{max(best, 0.0):.2f} 万元 after funding one community (largest project surplus "
            f"{top:.2f} 万元); lower bundles.margin_wan_yuan"
        )
    if not reached:
        lonely = f" ({len(isolated)} communities have no neighbour at all)" if isolated else ""
        return (
            "no community in need lies next to a project with a surplus within the size limits"
            f"{lonely}; raise the adjacency tolerance or max_diameter_m"
        )
    return (
        "no connected group of communities and projects balances under the size limits; "
        "raise max_members, max_area_m2 or max_diameter_m, or lower the margin"
    )


def _check_bundle(inst: _Inst, members: Sequence[int], opts: BundleOptions, span: float) -> None:
    """Raise an internal error unless the bundle meets every rule (never expected)."""
    value = math.fsum(_value(inst, v) for v in members)
    problems = []
    if value < opts.margin_wan_yuan - _FEN:
        problems.append(f"balance {value:.6f} below margin {opts.margin_wan_yuan:g}")
    if not _connected(members, inst.nbrs):
        problems.append("not connected")
    if not any(inst.is_project[v] for v in members) or all(inst.is_project[v] for v in members):
        problems.append("needs a community and a project")
    if len(members) > opts.max_members:
        problems.append(f"{len(members)} members")
    if float(inst.area[list(members)].sum()) > opts.max_area_m2 * (1 + 1e-9):
        problems.append("area over the limit")
    if span > opts.max_diameter_m + 1e-6:
        problems.append(f"span {span:.1f} m over the limit")
    if problems:
        ids = ",".join(inst.ids[v] for v in members)
        msg = f"internal error: bundle {ids} breaks the rules ({'; '.join(problems)})"
        raise RuntimeError(msg + "; please report this with the input data")


def _base_instance(
    units: _Units, need: NDArray[np.float64], nbrs: Sequence[Sequence[int]]
) -> tuple[_Inst, list[int]]:
    eligible = [i for i in range(len(units.ids)) if units.is_project[i] or need[i] > 0]
    where = {g: i for i, g in enumerate(eligible)}
    geoms = units.geometry[eligible]
    hull = _padded_hulls(list(geoms))
    own = np.asarray([_far(h, h[None, :, :])[0] for h in hull]) if len(hull) else np.zeros(0)
    cent = shapely.centroid(geoms)
    inst = _Inst(
        ids=[units.ids[g] for g in eligible],
        is_project=units.is_project[eligible],
        need=need[eligible],
        surplus=(units.revenue - units.cost)[eligible],
        area=shapely.area(geoms).astype(float),
        xy=np.c_[shapely.get_x(cent), shapely.get_y(cent)].astype(float),
        hull=hull,
        own=own,
        rad=np.sqrt(
            ((hull - np.c_[shapely.get_x(cent), shapely.get_y(cent)][:, None, :]) ** 2).sum(axis=-1)
        ).max(axis=1)
        if len(hull)
        else np.zeros(0),
        nbrs=[sorted(where[w] for w in nbrs[g] if w in where) for g in eligible],
    )
    return inst, eligible


def _outline(geoms: Sequence[Any]) -> Any:  # noqa: ANN401 - a shapely geometry
    """Dissolve member polygons into one outline, closing the streets between them.

    The gap closed is the widest edge of the members' minimum spanning tree (by polygon
    distance): every tree edge gets a bridge as wide as that gap, then buffering out by half
    of it and back in with mitred corners fills the streets without rounding the blocks'
    corners. Members that touch give their plain union.
    """
    union = shapely.union_all(geoms)
    if len(geoms) < 2:  # noqa: PLR2004
        return union
    arr = np.asarray(geoms, dtype=object)
    dist = np.maximum(shapely.distance(arr[:, None], arr[None, :]).astype(float), 1e-9)
    np.fill_diagonal(dist, 0.0)  # a tiny floor keeps touching members as edges; 0 = no edge
    tree = minimum_spanning_tree(sparse.csr_matrix(dist))
    half = float(tree.data.max()) / 2
    if half < 0.01:  # noqa: PLR2004 - centimetres: the members touch
        return union
    half += 0.01
    # a bridge across every tree edge keeps corner-to-corner neighbours joined after closing
    rows, cols = tree.nonzero()
    apart = shapely.distance(arr[rows], arr[cols]) > 0
    rows, cols = rows[apart], cols[apart]
    lines = shapely.buffer(shapely.shortest_line(arr[rows], arr[cols]), half, cap_style="flat")
    # kept inside the pair's convex hull, so a bridge never sticks out past the blocks
    hulls = shapely.convex_hull(shapely.union(arr[rows], arr[cols]))
    joined = shapely.union_all([union, *shapely.intersection(lines, hulls)])
    closed = joined.buffer(half, join_style="mitre").buffer(-half, join_style="mitre")
    return shapely.union_all([closed, union])


def _bundle_tables(
    units: _Units,
    inst: _Inst,
    found: Sequence[Sequence[int]],
    opts: BundleOptions,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    index = units.index()
    keyed = sorted(
        (sorted(b, key=lambda v: inst.ids[v]) for b in found),
        key=lambda b: min(inst.ids[v] for v in b if inst.is_project[v]),
    )
    used = [v for b in keyed for v in b]
    if len(used) != len(set(used)):
        twice = sorted({inst.ids[v] for v in used if used.count(v) > 1})
        msg = f"internal error: units {_listed(twice)} are in two bundles; please report this"
        raise RuntimeError(msg)
    rows: list[dict[str, Any]] = []
    members: list[dict[str, Any]] = []
    for k, b in enumerate(keyed, start=1):
        bid = f"B{k:03d}"
        span = float(_far_matrix(inst.hull[b]).max())
        _check_bundle(inst, b, opts, span)
        comms = [v for v in b if not inst.is_project[v]]
        projs = [v for v in b if inst.is_project[v]]
        funded = math.fsum(float(inst.need[v]) for v in comms)
        cost = funded + math.fsum(float(units.cost[index[inst.ids[v]]]) for v in projs)
        revenue = math.fsum(float(units.revenue[index[inst.ids[v]]]) for v in projs)
        rows.append(
            {
                "bundle_id": bid,
                "communities": ",".join(inst.ids[v] for v in comms),
                "projects": ",".join(inst.ids[v] for v in projs),
                "n_communities": len(comms),
                "n_projects": len(projs),
                "n_members": len(b),
                "funded_wan_yuan": funded,
                "cost_wan_yuan": cost,
                "revenue_wan_yuan": revenue,
                "balance_wan_yuan": revenue - cost,
                "margin_wan_yuan": float(opts.margin_wan_yuan),
                "area_m2": float(inst.area[b].sum()),
                "diameter_m": span,
                "mode": "large_area",
                "geometry": _outline(list(units.geometry[[index[inst.ids[v]] for v in b]])),
            }
        )
        members.extend(
            {
                "bundle_id": bid,
                "unit_id": inst.ids[v],
                "kind": _PROJECT if inst.is_project[v] else _COMMUNITY,
                "amount_wan_yuan": _value(inst, v),
            }
            for v in b
        )
    frame = pd.DataFrame(rows, columns=_BUNDLE_COLUMNS).astype(_BUNDLE_TYPES)
    table = gpd.GeoDataFrame(frame, geometry="geometry", crs=units.crs)
    return table, _members_frame(members)


def _members_frame(rows: Sequence[Mapping[str, Any]] = ()) -> pd.DataFrame:
    frame: pd.DataFrame = pd.DataFrame(list(rows), columns=_MEMBER_COLUMNS)
    typed: pd.DataFrame = frame.astype(_MEMBER_TYPES)
    return typed


def _pairs_frame(rows: Sequence[Mapping[str, Any]] = ()) -> pd.DataFrame:
    frame: pd.DataFrame = pd.DataFrame(list(rows), columns=_PAIR_COLUMNS)
    typed: pd.DataFrame = frame.astype(_PAIR_TYPES)
    return typed


def large_area(
    communities: gpd.GeoDataFrame,
    projects: gpd.GeoDataFrame,
    need_wan_yuan: pd.Series[float],
    *,
    graph: nx.Graph | None = None,
    options: BundleOptions = _DEFAULT_OPTIONS,
) -> BundleResult:
    """Bundle old communities with adjacent revenue projects (大片区统筹平衡).

    Chooses bundles — connected groups in the adjacency graph, each with at least one
    community in need and at least one project — such that each bundle's revenue minus cost
    (community need plus project cost) is at least ``options.margin_wan_yuan``, every
    community and project is in at most one bundle, and no bundle exceeds
    ``max_members``, ``max_area_m2`` or ``max_diameter_m``. The objective is the community
    need funded; among equal totals fewer bundles and fewer projects are preferred (merging
    and pruning after the solve; the heuristic also prefers members near the bundle's first
    project), without a proof that no plan with fewer bundles funds as much.

    Only communities with a need > 0 take part (each funded in full when bundled). A project
    with cost above revenue may join a bundle that still balances. The graph is split into
    connected parts, each solved on its own:

    * heuristic (always first): grow bundles from all projects at once, one community per
      bundle per round (largest need that still balances); then re-grow each bundle from its
      first project by beam search (``beam_width`` states per step) or by whole paths of
      communities (most need per member, which reaches a rich cluster behind poor
      neighbours), taking in a further project (next to it or behind one community) when
      money runs short; re-grow neighbouring pairs of bundles in both orders; drop projects
      a bundle does not need; start bundles from projects left free; merge neighbouring
      bundles within the limits; keep the best of the deterministic pass and ``restarts``
      seeded randomised passes (parts of at most 5,000 units);
    * exact (``method="exact"``, or ``"auto"`` on parts of at most ``exact_max_units`` units
      when the heuristic is more than ``auto_gap`` below the bound): a 0/1 integer program,
      bundles rooted at their first project, connectivity by a single-commodity flow from
      the root, solved by HiGHS (relative gap ``mip_gap``, time limit ``time_limit_s``),
      asked only for solutions better than the heuristic's. Ties after the solve are broken
      by dropping unneeded projects and merging neighbouring bundles.

    The upper bound is the smallest of: a transport relaxation solved as a maximum flow (each
    project pays at most its surplus to communities it could share a bundle with), its linear
    program with the member and area limits (parts with at most 20,000 project-community
    pairs) and the integer program's dual bound; ``gap`` is measured against it.

    Every emitted bundle is checked to balance (to one fen), to be connected and within the
    limits; a violation raises an internal error.

    Parameters
    ----------
    communities
        ``community_id`` and polygons (projected CRS in metres).
    projects
        ``project_id``, ``cost_wan_yuan``, ``revenue_wan_yuan`` (万元, >= 0) and polygons.
    need_wan_yuan
        Money each community needs (万元, >= 0), indexed by ``community_id``: its public
        renovation cost not paid by utilities, residents or self-balance. A community with
        need 0 or not listed is not bundled.
    graph
        Adjacency graph from :func:`adjacency`; built with its defaults when ``None``.
    options
        Margin, size limits and solver settings.

    Returns
    -------
    BundleResult
        The bundles (GeoDataFrame), their members and solver information. When nothing can
        balance the bundles are empty (with every column) and ``info["reason"]`` says why.

    Raises
    ------
    CRSError, SchemaError, LayerError
        As :func:`adjacency`; :class:`LayerError` also for a bad need (negative, not a
        number, an unknown community) or a graph over other units.

    Examples
    --------
    >>> com = gpd.GeoDataFrame({"community_id": ["C1", "C2"]},
    ...                        geometry=[box(0, 0, 100, 100), box(300, 0, 400, 100)], crs=4548)
    >>> pro = gpd.GeoDataFrame({"project_id": ["P1"], "cost_wan_yuan": [50.0],
    ...                         "revenue_wan_yuan": [90.0]}, geometry=[box(120, 0, 280, 100)],
    ...                        crs=4548)
    >>> need = pd.Series({"C1": 30.0, "C2": 25.0})
    >>> r = gisplan.bundles.large_area(com, pro, need)
    >>> r.bundles[["bundle_id", "communities", "balance_wan_yuan"]].values.tolist()
    [['B001', 'C1', 10.0]]
    """
    started = time.perf_counter()
    units = _units(communities, projects)
    need = _need(need_wan_yuan, units)
    if graph is None:
        graph = adjacency(communities, projects)
    nbrs = _graph_neighbours(graph, units)
    inst, _ = _base_instance(units, need, nbrs)
    isolated = [inst.ids[v] for v in range(inst.n) if not inst.is_project[v] and not inst.nbrs[v]]
    if isolated:
        logger.info(
            "large area: %d communities in need have no neighbour and cannot be bundled: %s",
            len(isolated),
            _listed(isolated),
        )
    found: list[list[int]] = []
    parts: list[dict[str, Any]] = []
    for comp in _components(inst.nbrs):
        sub = inst.sub(comp)
        has_money = bool((sub.is_project & (sub.surplus > 0)).any())
        if not (has_money and (~sub.is_project).any()):
            continue
        bundles, part = _solve_part(sub, options)
        parts.append(part)
        found.extend([comp[v] for v in b] for b in bundles)
    table, members = _bundle_tables(units, inst, found, options)
    funded = float(table["funded_wan_yuan"].sum()) if len(table) else 0.0
    bound = math.fsum(p["bound_wan_yuan"] for p in parts)
    methods = sorted({p["method"] for p in parts})
    statuses = {p["status"] for p in parts}
    if not parts:
        status = "empty"
    elif statuses == {"optimal"}:
        status = "optimal"
    elif "limit reached (not proven optimal)" in statuses:
        status = "limit reached (not proven optimal)"
    else:
        status = "heuristic"
    reason = "" if len(table) else _empty_reason(inst, options, isolated)
    info: dict[str, Any] = {
        "method": ", ".join(methods) if methods else "none",
        "status": status if len(table) else "empty",
        "funded_wan_yuan": funded,
        "bound_wan_yuan": bound,
        "gap": (bound - funded) / bound if bound > 0 else 0.0,
        "time_s": time.perf_counter() - started,
        "n_units": inst.n,
        "n_bundles": len(table),
        "parts": parts,
        "isolated": isolated,
        "reason": reason,
    }
    if reason:
        logger.info("large area: no bundle: %s", reason)
    else:
        logger.info(
            "large area: %d bundles fund %.2f 万元 (bound %.2f, gap %.2f%%, %s)",
            len(table),
            funded,
            bound,
            100 * info["gap"],
            info["method"],
        )
    return BundleResult(bundles=table, members=members, info=info)


# --------------------------------------------------------------------------- cross area


@dataclass(frozen=True, slots=True)
class CrossResult:
    """Result of :func:`cross_area`.

    Attributes
    ----------
    pairs
        One row per community and funding project, sorted by ``community_id`` then
        ``project_id``: ``community_id``, ``project_id``, ``amount_wan_yuan`` (money the
        project pays the community), ``distance_m`` (between the polygons, NaN without
        community outlines) and ``crosses_district``.
    info
        ``status`` (solver status, or ``"empty"``), ``covered_wan_yuan`` (deficit covered),
        ``objective_wan_yuan`` (covered minus the distance and district penalties),
        ``bound_wan_yuan`` (no pairing has a larger objective), ``gap`` (relative),
        ``time_s``, ``n_communities`` and ``n_projects`` (those that took part), ``reason``
        (why nothing was paired, else ``""``).
    """

    pairs: pd.DataFrame
    info: dict[str, Any]


def _surpluses(
    units: _Units,
    surplus_wan_yuan: pd.Series[float] | None,
) -> dict[str, float]:
    pids = [u for u, p in zip(units.ids, units.is_project, strict=True) if p]
    index = units.index()
    if surplus_wan_yuan is None:
        return {u: float(units.revenue[index[u]] - units.cost[index[u]]) for u in pids}
    keys = [str(k).strip() for k in surplus_wan_yuan.index]
    values = pd.to_numeric(surplus_wan_yuan, errors="coerce").astype("float64").to_numpy()
    unknown = [k for k in keys if k not in index or not units.is_project[index[k]]]
    bad = [k for k, x in zip(keys, values, strict=True) if not math.isfinite(x)]
    if unknown or bad:
        raise LayerError(
            "surplus_wan_yuan: "
            + (f"not a project_id of the projects layer: {_listed(unknown)}; " if unknown else "")
            + (f"not a number for {_listed(bad)}; " if bad else "")
            + "give each project's remaining surplus in 万元, indexed by project_id"
        )
    given = dict(zip(keys, values.tolist(), strict=True))
    return {u: float(given.get(u, 0.0)) for u in pids}


def _district_values(frame: pd.DataFrame, id_column: str, column: str, what: str) -> dict[str, Any]:
    if column not in frame.columns:
        raise SchemaError(
            f"{what}: column {column!r} (district_column) missing; add it to both the "
            "communities and the projects, or leave district_column out"
        )
    return {
        str(i).strip(): (None if is_blank(v) else str(v).strip())
        for i, v in zip(frame[id_column], frame[column], strict=True)
    }


def cross_area(
    need_wan_yuan: pd.Series[float],
    projects: gpd.GeoDataFrame,
    *,
    communities: gpd.GeoDataFrame | None = None,
    exclude: Collection[str] = (),
    surplus_wan_yuan: pd.Series[float] | None = None,
    allow_split: bool = False,
    distance_cost_per_km: float = 0.01,
    district_column: str | None = None,
    district_penalty: float = 0.1,
    max_distance_m: float | None = None,
    time_limit_s: float = 60.0,
) -> CrossResult:
    """Pair communities in deficit with surpluses of non-adjacent projects (跨片区组合平衡).

    A transport integer program (HiGHS via :func:`scipy.optimize.milp`, relative gap 1e-4)::

        maximise   sum_c need_c u_c - sum_(c,p) penalty_cp z_cp
        subject to sum_p z_cp = u_c                (u_c: community c is funded, 0/1)
                   sum_c need_c z_cp <= surplus_p  (each project pays at most its surplus)

    with ``z_cp`` the share of c's need that p pays: 0/1 (one project pays all of it) unless
    ``allow_split``, when several projects may share it (c is still funded in full or not at
    all). ``penalty_cp = distance_cost_per_km * km + district_penalty`` (the latter only
    across two different districts), in 万元.

    Parameters
    ----------
    need_wan_yuan
        Deficit per community (万元, >= 0), indexed by ``community_id``; 0 is left out.
    projects
        ``project_id``, ``cost_wan_yuan``, ``revenue_wan_yuan``, optional ``adjacent_only``
        (such projects may only fund adjacent communities, never here) and polygons.
    communities
        Community polygons (``community_id``), needed for distances, ``max_distance_m`` and
        ``district_column``; without them every distance counts as 0.
    exclude
        Project ids that may not pay (e.g. those used by :func:`large_area`).
    surplus_wan_yuan
        Remaining surplus per project (万元, indexed by ``project_id``; projects not listed
        have none). Default: revenue minus cost.
    allow_split, distance_cost_per_km, district_column, district_penalty
        As :class:`CrossOptions`.
    max_distance_m, time_limit_s
        As :class:`CrossOptions`.

    Returns
    -------
    CrossResult
        The pairs and solver information.

    Raises
    ------
    ScenarioError
        If an option is out of range.
    SchemaError, LayerError, CRSError
        For a missing column, a bad need or surplus, or communities not in a metric CRS.

    Examples
    --------
    >>> pro = gpd.GeoDataFrame({"project_id": ["P1", "P2"], "cost_wan_yuan": [10.0, 10.0],
    ...                         "revenue_wan_yuan": [90.0, 40.0]},
    ...                        geometry=[box(0, 0, 10, 10), box(50, 0, 60, 10)], crs=4548)
    >>> need = pd.Series({"C1": 70.0, "C2": 30.0, "C3": 20.0})
    >>> r = gisplan.bundles.cross_area(need, pro)
    >>> r.pairs[["community_id", "project_id", "amount_wan_yuan"]].values.tolist()
    [['C1', 'P1', 70.0], ['C2', 'P2', 30.0]]
    """
    started = time.perf_counter()
    opts = CrossOptions(
        allow_split=allow_split,
        distance_cost_per_km=distance_cost_per_km,
        district_column=district_column,
        district_penalty=district_penalty,
        max_distance_m=max_distance_m,
        time_limit_s=time_limit_s,
    )
    data = _cross_input(
        need_wan_yuan,
        projects,
        communities=communities,
        exclude=exclude,
        surplus_wan_yuan=surplus_wan_yuan,
        opts=opts,
    )
    info: dict[str, Any] = {
        "status": "empty",
        "covered_wan_yuan": 0.0,
        "objective_wan_yuan": 0.0,
        "bound_wan_yuan": 0.0,
        "gap": 0.0,
        "time_s": 0.0,
        "n_communities": len(data.takers),
        "n_projects": len(data.payers),
        "reason": "",
    }
    rows: list[dict[str, Any]] = []
    if not data.takers:
        info["reason"] = "no community has a deficit left"
    elif not data.payers:
        info["reason"] = (
            "no project has a surplus left that may fund non-adjacent communities "
            "(adjacent_only projects and those used by large-area bundles are excluded)"
        )
    elif not data.allowed.any():
        info["reason"] = "no project's surplus covers a whole community's deficit" + (
            f" within {opts.max_distance_m:g} m" if opts.max_distance_m is not None else ""
        )
    else:
        rows, solved = _transport(data, opts)
        info.update(solved)
    info["time_s"] = time.perf_counter() - started
    pairs = _pairs_frame(rows)
    pairs = pairs.sort_values(["community_id", "project_id"], kind="stable").reset_index(drop=True)
    logger.info(
        "cross area: %d pairs cover %.2f 万元 (%s)",
        len(pairs),
        info["covered_wan_yuan"],
        info["reason"] or info["status"],
    )
    return CrossResult(pairs=pairs, info=info)


@dataclass(frozen=True, slots=True)
class _CrossInput:
    """Communities in deficit (takers), projects with surplus (payers) and their pairs."""

    takers: list[str]
    payers: list[str]
    needs: NDArray[np.float64]
    surplus: NDArray[np.float64]
    penalty: NDArray[np.float64]
    allowed: NDArray[np.bool_]
    dist: NDArray[np.float64]
    cross: NDArray[np.bool_]


def _cross_input(
    need_wan_yuan: pd.Series[float],
    projects: gpd.GeoDataFrame,
    *,
    communities: gpd.GeoDataFrame | None,
    exclude: Collection[str],
    surplus_wan_yuan: pd.Series[float] | None,
    opts: CrossOptions,
) -> _CrossInput:
    pro = _check_layer(projects, "projects")
    if communities is None:
        if opts.district_column is not None or opts.max_distance_m is not None:
            raise LayerError(
                "cross_area: district_column and max_distance_m need the communities' "
                "outlines; pass communities=..."
            )
        ids = [str(k).strip() for k in need_wan_yuan.index]
        points = [shapely.Point(0, 0)] * len(ids)
        units = _units(gpd.GeoDataFrame({"community_id": ids}, geometry=points, crs=pro.crs), pro)
    else:
        units = _units(communities, pro)
    need = _need(need_wan_yuan, units)
    surplus = _surpluses(units, surplus_wan_yuan)
    index = units.index()
    excluded = {str(e).strip() for e in exclude}
    payers = [
        u
        for u, s in surplus.items()
        if s > 0 and u not in excluded and not units.adjacent_only[index[u]]
    ]
    takers = [u for u in units.ids if not units.is_project[index[u]] and need[index[u]] > 0]
    shape = (len(takers), len(payers))
    dist = np.zeros(shape)
    if communities is not None and takers and payers:
        cg = units.geometry[[index[u] for u in takers]]
        pg = units.geometry[[index[u] for u in payers]]
        dist = shapely.distance(cg[:, None], pg[None, :]).astype(float)
    cross = np.zeros(shape, dtype=bool)
    if opts.district_column is not None and communities is not None:
        cval = _district_values(communities, "community_id", opts.district_column, "communities")
        pval = _district_values(pro, "project_id", opts.district_column, "projects")
        a = np.asarray([cval.get(c) for c in takers], dtype=object)[:, None]
        b = np.asarray([pval.get(p) for p in payers], dtype=object)[None, :]
        cross = (a != None) & (b != None) & (a != b)  # noqa: E711 — elementwise on objects
    penalty = opts.distance_cost_per_km * dist / 1000.0 + opts.district_penalty * cross
    needs = np.asarray([need[index[c]] for c in takers], dtype=float)
    money = np.asarray([surplus[p] for p in payers], dtype=float)
    # a pairing that costs more than it covers is never worth it
    allowed = needs[:, None] - penalty > 0
    if opts.max_distance_m is not None:
        allowed &= dist <= opts.max_distance_m
    if not opts.allow_split:
        allowed &= needs[:, None] <= money[None, :] + 1e-9
    return _CrossInput(takers, payers, needs, money, penalty, allowed, dist, cross)


def _transport(
    data: _CrossInput, opts: CrossOptions
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Solve the cross-area transport program; return the pairs and the solver's figures."""
    model = _Model()
    zcol: dict[tuple[int, int], int] = {}
    ucol: dict[int, int] = {}
    needs, penalty = data.needs, data.penalty
    for i in range(len(data.takers)):
        cols = np.flatnonzero(data.allowed[i]).tolist()
        if not cols:
            continue
        if opts.allow_split:
            ucol[i] = model.var(-_OBJ_SCALE * float(needs[i]), 1.0, integer=True)
        gain = 0.0 if opts.allow_split else float(needs[i])
        for j in cols:
            cost = -_OBJ_SCALE * (gain - float(penalty[i, j]))
            zcol[i, j] = model.var(cost, 1.0, integer=not opts.allow_split)
        terms = [(zcol[i, j], 1.0) for j in cols]
        if opts.allow_split:
            model.row([*terms, (ucol[i], -1.0)], 0.0, 0.0)
        else:
            model.row(terms, -np.inf, 1.0)
    for j in range(len(data.payers)):
        rows = np.flatnonzero(data.allowed[:, j]).tolist()
        if rows:
            model.row([(zcol[i, j], float(needs[i])) for i in rows], -np.inf, data.surplus[j])
    res = model.solve(opts.time_limit_s, _CROSS_GAP)
    status = solver_status(res)
    dual = getattr(res, "mip_dual_bound", None)
    bound = -float(dual) / _OBJ_SCALE if dual is not None and math.isfinite(float(dual)) else 0.0
    if res.x is None:
        return [], {"status": status, "reason": f"no pairing found: {res.message}"}
    x = np.asarray(res.x)
    chosen = [
        (i, j, float(x[col]))
        for (i, j), col in sorted(zcol.items())
        if (
            float(x[ucol[i]]) > _HALF and float(x[col]) > _TINY
            if opts.allow_split
            else float(x[col]) > _HALF
        )
    ]
    out = _cross_rows(data, chosen)
    covered = math.fsum(float(needs[i]) for i in {i for i, _, _ in chosen})
    objective = covered - math.fsum(float(penalty[i, j]) * z for i, j, z in chosen)
    top = max(bound, objective)
    return out, {
        "status": status,
        "covered_wan_yuan": covered,
        "objective_wan_yuan": objective,
        "bound_wan_yuan": top,
        "gap": (top - objective) / top if top > 0 else 0.0,
    }


def _cross_rows(
    data: _CrossInput, chosen: Sequence[tuple[int, int, float]]
) -> list[dict[str, Any]]:
    """Pairs with amounts: each funded community gets its need, split by the shares."""
    total: dict[int, float] = {}
    for i, _, z in chosen:
        total[i] = total.get(i, 0.0) + z
    out: list[dict[str, Any]] = []
    paid = np.zeros(len(data.payers))
    for i, j, z in chosen:
        amount = float(data.needs[i]) * z / total[i]
        paid[j] += amount
        out.append(
            {
                "community_id": data.takers[i],
                "project_id": data.payers[j],
                "amount_wan_yuan": amount,
                "distance_m": float(data.dist[i, j]),
                "crosses_district": bool(data.cross[i, j]),
            }
        )
    over = [
        data.payers[j] for j in np.flatnonzero(paid > data.surplus + 1e-7 * data.surplus + _FEN)
    ]
    if over:
        msg = f"internal error: projects {_listed(over)} pay more than their surplus; please report"
        raise RuntimeError(msg)
    return out


# --------------------------------------------------------------------------- combined plan


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
        ``community_id``: ``mode`` (one of :data:`MODES`), ``mode_zh``, ``need_wan_yuan``,
        ``bundle_covered_wan_yuan``, ``cross_covered_wan_yuan``, ``bundle_id`` and
        ``project_ids`` (the projects paying it, comma-separated; ``""`` if none).
    totals
        One row per mode in :data:`MODES` order: ``mode``, ``mode_zh``, ``communities``
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


def _check_order(order: Sequence[str]) -> tuple[str, ...]:
    items = [str(m) for m in order]
    problems: list[tuple[str, str, str]] = []
    unknown = [m for m in items if m not in MODES]
    if unknown:
        problems.append(
            ("order", f"{_listed(unknown)} not a financing mode", f"use {', '.join(MODES)}")
        )
    twice = sorted({m for m in items if items.count(m) > 1})
    if twice:
        problems.append(("order", f"{_listed(twice)} listed twice", "name each mode once"))
    ScenarioError.check("plan_financing", "bundles", problems)
    return tuple(items)


def plan_financing(
    communities: gpd.GeoDataFrame,
    projects: gpd.GeoDataFrame,
    need_wan_yuan: pd.Series[float],
    *,
    self_balanced: Collection[str] = (),
    order: Sequence[str] = MODES,
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
        The modes, first to last; default :data:`MODES`.
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
    >>> plan = gisplan.bundles.plan_financing(com, pro, need)
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
            f"self_balanced: {_listed(unknown)} not a community_id of the communities layer"
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
            result.bundles["communities"],
            result.bundles["projects"],
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
            columns=_MODE_COLUMNS,
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
                for m in MODES
            ],
            columns=_TOTAL_COLUMNS,
        )
        return table, totals


def _empty_inst() -> _Inst:
    return _Inst(
        ids=[],
        is_project=np.zeros(0, dtype=bool),
        need=np.zeros(0),
        surplus=np.zeros(0),
        area=np.zeros(0),
        xy=np.zeros((0, 2)),
        hull=np.zeros((0, 1, 2)),
        own=np.zeros(0),
        rad=np.zeros(0),
        nbrs=[],
    )
