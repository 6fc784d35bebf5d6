"""Cross-area pairs, 跨片区组合平衡 (:func:`gisplan.bundles.cross_area`).

Communities still in deficit matched to the remaining surplus of projects by a transport
integer program.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gisplan._milp import solver_status
from gisplan._text import is_blank
from gisplan.bundles._common import (
    _FEN,
    _HALF,
    _OBJ_SCALE,
    CrossOptions,
    _check_layer,
    _listed,
    _Model,
    _need,
    _pairs_frame,
    _units,
)
from gisplan.errors import LayerError, SchemaError

if TYPE_CHECKING:
    from collections.abc import Collection, Sequence

    from numpy.typing import NDArray

    from gisplan.bundles._common import _Units

logger = logging.getLogger(__name__)

_CROSS_GAP = 1e-4
#: Smallest share of a need counted as paid.
_TINY = 1e-9


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
        info["reason"] = "没有仍有资金缺口的小区"
    elif not data.payers:
        info["reason"] = (
            "没有尚有结余、可资助不相邻小区的项目（仅限相邻的项目和已用于大片区统筹的项目不计）"
        )
    elif not data.allowed.any():
        info["reason"] = (
            f"{opts.max_distance_m:g} m内" if opts.max_distance_m is not None else ""
        ) + "没有结余足以弥补一个小区全部资金缺口的项目"
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
