"""Shared pieces of :mod:`gisplan.bundles`: options, constants, output columns, input checks.

:class:`BundleOptions` and :class:`CrossOptions`, the column lists
of every output; the checks of the community and project layers and of the need; the builder
of the integer programs (used by the exact bundling program and the cross-area transport).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint

from gisplan._milp import quiet_milp
from gisplan._text import is_blank, is_number, is_whole, printable
from gisplan.crs import require_metric_crs
from gisplan.errors import CRSError, LayerError, ScenarioError, SchemaError

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from numpy.typing import NDArray


_COMMUNITY = "community"
_PROJECT = "project"
_MAX_LISTED = 10
#: Money tolerance when checking that a bundle balances: one fen (0.01 元) in 万元.
_FEN = 1e-6
#: Objective unit of the integer programs: 0.01 万元 (100 元).
_OBJ_SCALE = 100.0
#: 0/1 rounding threshold of solver values.
_HALF = 0.5
_METHODS = ("auto", "exact", "heuristic")
_BUNDLE_COLUMNS = [
    "bundle_id",
    "community_ids",
    "project_ids",
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
_MEMBER_COLUMNS = ["bundle_id", "unit_id", "unit_kind", "net_wan_yuan"]
_TEXT = "object"
#: Column types, so that empty results keep them.
_BUNDLE_TYPES = {
    "bundle_id": _TEXT,
    "community_ids": _TEXT,
    "project_ids": _TEXT,
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
_MEMBER_TYPES = {
    "bundle_id": _TEXT,
    "unit_id": _TEXT,
    "unit_kind": _TEXT,
    "net_wan_yuan": "float64",
}
_PAIR_TYPES = {
    "community_id": _TEXT,
    "project_id": _TEXT,
    "amount_wan_yuan": "float64",
    "distance_m": "float64",
    "crosses_district": "bool",
}
_PAIR_COLUMNS = ["community_id", "project_id", "amount_wan_yuan", "distance_m", "crosses_district"]


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
        return quiet_milp(
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


def _members_frame(rows: Sequence[Mapping[str, Any]] = ()) -> pd.DataFrame:
    frame: pd.DataFrame = pd.DataFrame(list(rows), columns=_MEMBER_COLUMNS)
    typed: pd.DataFrame = frame.astype(_MEMBER_TYPES)
    return typed


def _pairs_frame(rows: Sequence[Mapping[str, Any]] = ()) -> pd.DataFrame:
    frame: pd.DataFrame = pd.DataFrame(list(rows), columns=_PAIR_COLUMNS)
    typed: pd.DataFrame = frame.astype(_PAIR_TYPES)
    return typed
