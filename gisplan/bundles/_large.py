"""Large-area bundles, 大片区统筹平衡 (:func:`gisplan.bundles.large_area`).

Splits the adjacency graph into connected parts, solves each with the heuristic search and,
where asked, the exact program, checks every bundle and builds the output tables.
"""

from __future__ import annotations

import logging
import math
import time
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.sparse.csgraph import minimum_spanning_tree

from gisplan.bundles._adjacency import adjacency
from gisplan.bundles._common import (
    _BUNDLE_COLUMNS,
    _BUNDLE_TYPES,
    _COMMUNITY,
    _DEFAULT_OPTIONS,
    _FEN,
    _PROJECT,
    _listed,
    _members_frame,
    _need,
    _units,
)
from gisplan.bundles._exact import _exact
from gisplan.bundles._instance import (
    _connected,
    _far,
    _far_matrix,
    _Inst,
    _padded_hulls,
    _reach,
    _usable,
)
from gisplan.bundles._search import _flow_bound, _heuristic, _lp_bound, _pairs, _score, _tidy
from gisplan.errors import LayerError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from numpy.typing import NDArray

    from gisplan.bundles._common import BundleOptions, _Units

logger = logging.getLogger(__name__)

_LP_MAX_PAIRS = 20_000


@dataclass(frozen=True, slots=True)
class BundleResult:
    """Result of :func:`large_area`.

    Attributes
    ----------
    bundles
        One row per bundle, sorted by ``bundle_id`` (B001, B002 … in the order of each
        bundle's first project id): ``bundle_id``, ``community_ids`` and ``project_ids`` (ids joined
        by commas, in id order), ``n_communities``, ``n_projects``, ``n_members``,
        ``funded_wan_yuan`` (community need funded), ``cost_wan_yuan`` (community need plus
        project cost), ``revenue_wan_yuan``, ``balance_wan_yuan`` (revenue minus cost, at
        least the margin), ``margin_wan_yuan``, ``area_m2``, ``diameter_m``,
        ``mode`` (``"large_area"``) and ``geometry`` (the members' polygons dissolved into
        one outline, the streets between them closed; see ``_outline``).
    members
        One row per bundled unit: ``bundle_id``, ``unit_id``, ``unit_kind`` (``"community"`` or
        ``"project"``), ``net_wan_yuan`` (its revenue minus cost: a project's surplus,
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


def _value(inst: _Inst, v: int) -> float:
    return float(inst.surplus[v] - inst.need[v])


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
        return "没有资金需求大于0的小区"
    if not inst.is_project.any():
        return "没有可平衡小区资金需求的项目"
    if not (inst.surplus[inst.is_project] > 0).any():
        return "没有收益高于成本的项目，任何片区都无法平衡资金需求"
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
            f"要求结余{opts.margin_wan_yuan:g}万元超过任何片区所能保留的结余：资助一个小区后"
            f"最多{max(best, 0.0):.2f}万元（项目最大结余{top:.2f}万元）；"
            "请调低 bundles.margin_wan_yuan"
        )
    if not reached:
        lonely = f"（{len(isolated)}个小区没有任何相邻单元）" if isolated else ""
        return (
            f"在规模限制内没有与有结余项目相邻的待改造小区{lonely}；"
            "请放宽相邻判定容差或调高 max_diameter_m"
        )
    return (
        "在规模限制内没有能实现资金平衡的相连小区和项目组合；"
        "请调高 max_members、max_area_m2 或 max_diameter_m，或调低要求结余"
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
                "community_ids": ",".join(inst.ids[v] for v in comms),
                "project_ids": ",".join(inst.ids[v] for v in projs),
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
                "unit_kind": _PROJECT if inst.is_project[v] else _COMMUNITY,
                "net_wan_yuan": _value(inst, v),
            }
            for v in b
        )
    frame = pd.DataFrame(rows, columns=_BUNDLE_COLUMNS).astype(_BUNDLE_TYPES)
    table = gpd.GeoDataFrame(frame, geometry="geometry", crs=units.crs)
    return table, _members_frame(members)


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
    >>> r.bundles[["bundle_id", "community_ids", "balance_wan_yuan"]].values.tolist()
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
