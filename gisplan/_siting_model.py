"""The 0/1 covering programs of :func:`gisplan.siting.propose`, built and solved with HiGHS.

Private: the data of one facility type (:class:`TypeData`), a sparse program built block by
block (:class:`Program`), the covering rows of distance and capacity-aware types
(:func:`build`), the solve of one block of types under the chosen model
(:func:`solve_block`), the grouping of types into blocks (:func:`blocks`), and coverage
under capacities before and after (:func:`capacity_cover`, :func:`capacity_after`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint

from gisplan._milp import quiet_milp, solver_status

if TYPE_CHECKING:
    import pandas as pd
    from numpy.typing import NDArray

    from gisplan.siting import SitingOptions

__all__ = [
    "Built",
    "Program",
    "TypeData",
    "blocks",
    "build",
    "capacity_after",
    "capacity_cover",
    "solve_block",
]

#: Sum of all cost tie-break terms, in units of demand weight (persons): less than half a
#: person, so cost only decides between proposals covering the same demand.
_COST_TIE = 0.5
#: Sum of all "fewer sites" tie-break terms in an LSCP, in 万元.
_COUNT_TIE = 1e-3


@dataclass
class TypeData:
    """One facility type to site: demand, coverage today, candidates and catchments.

    Communities are positions in the community order, candidates rows of the candidate
    table; the ``exist*`` and ``expand*`` fields are set for capacity-aware types only.
    """

    code: str
    radius: float
    capacity: float | None
    limit: int | None
    w: NDArray[np.float64]  # weight per community (community order)
    covered: NDArray[np.bool_]  # covered before (distance rule, or capacity rule)
    cand: NDArray[np.int64]  # candidate rows of this type
    pair_i: NDArray[np.int64]  # (community, candidate) within radius
    pair_c: NDArray[np.int64]
    pair_d: NDArray[np.float64]
    exist_cap: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    exist_ids: NDArray[np.object_] = field(default_factory=lambda: np.zeros(0, dtype=object))
    epair_i: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    epair_k: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    expand_cap: float = 0.0
    expand_cost: float | None = None


@dataclass
class Program:
    """A 0/1 program built column by column and row by row (sparse)."""

    lb: list[float] = field(default_factory=list)
    ub: list[float] = field(default_factory=list)
    integer: list[int] = field(default_factory=list)
    r: list[NDArray[np.int64]] = field(default_factory=list)
    c: list[NDArray[np.int64]] = field(default_factory=list)
    v: list[NDArray[np.float64]] = field(default_factory=list)
    lo: list[float] = field(default_factory=list)
    hi: list[float] = field(default_factory=list)

    def columns(
        self, n: int, *, integer: bool = True, lb: float = 0.0, ub: float = 1.0
    ) -> NDArray[np.int64]:
        """Add ``n`` columns with bounds ``lb``..``ub``; return their positions."""
        start = len(self.lb)
        self.lb += [lb] * n
        self.ub += [ub] * n
        self.integer += [1 if integer else 0] * n
        return np.arange(start, start + n, dtype=np.int64)

    def rows(  # noqa: PLR0917 - one row block: entries, bounds, count
        self,
        row: NDArray[np.int64],
        col: NDArray[np.int64],
        val: NDArray[np.float64],
        lo: NDArray[np.float64] | float,
        hi: NDArray[np.float64] | float,
        n_rows: int,
    ) -> None:
        """Add ``n_rows`` rows; entry k is at local row ``row[k]``, column ``col[k]``."""
        base = len(self.lo)
        self.r.append(np.asarray(row, dtype=np.int64) + base)
        self.c.append(np.asarray(col, dtype=np.int64))
        self.v.append(np.asarray(val, dtype=float))
        self.lo += list(np.broadcast_to(np.asarray(lo, dtype=float), (n_rows,)))
        self.hi += list(np.broadcast_to(np.asarray(hi, dtype=float), (n_rows,)))

    def solve(
        self, cost: NDArray[np.float64], options: SitingOptions
    ) -> tuple[NDArray[np.float64] | None, dict[str, Any]]:
        """Minimise ``cost @ x``; return the solution (``None``: none found) and solver facts."""
        t0 = time.perf_counter()
        n = len(self.lb)
        constraints = []
        if self.lo:
            a = sp.csr_array(
                (np.concatenate(self.v), (np.concatenate(self.r), np.concatenate(self.c))),
                shape=(len(self.lo), n),
            )
            constraints.append(LinearConstraint(a, np.asarray(self.lo), np.asarray(self.hi)))
        res = quiet_milp(
            cost,
            integrality=np.asarray(self.integer),
            bounds=Bounds(np.asarray(self.lb), np.asarray(self.ub)),
            constraints=constraints,
            options={
                "time_limit": float(options.time_limit_s),
                "mip_rel_gap": float(options.mip_rel_gap),
                "disp": False,
            },
        )
        status = solver_status(res)
        if res.x is None and int(res.status) == 1:
            status = "limit reached without a solution"
        gap = getattr(res, "mip_gap", None)
        return (None if res.x is None else np.asarray(res.x, dtype=float)), {
            "status": status,
            "mip_gap": None if gap is None or res.x is None else float(gap),
            "time_s": time.perf_counter() - t0,
            "message": str(res.message),
        }


@dataclass
class Built:
    """A built program and where its columns are: per type and per site."""

    prog: Program
    s: NDArray[np.int64]  # site columns (block sites order)
    sites: NDArray[np.int64]  # site rows
    y: dict[str, NDArray[np.int64]]  # type -> columns of its candidates
    z: dict[str, tuple[NDArray[np.int64], NDArray[np.int64]]]  # type -> (communities, cols)
    e: dict[str, tuple[NDArray[np.int64], NDArray[np.int64]]]  # type -> (existing, cols)
    x_new: dict[str, NDArray[np.int64]]  # type -> assignment columns of pairs
    x_old: dict[str, NDArray[np.int64]]  # type -> assignment columns of existing pairs


def build(
    block: list[TypeData],
    cand_site: NDArray[np.int64],
    area: NDArray[np.float64],
    options: SitingOptions,
    *,
    with_new: bool = True,
    prune: bool = False,
) -> Built:
    """Build the covering program of a block of types (see :func:`gisplan.siting.propose`).

    A site with one candidate in the block is its candidate's column; a site with several
    gets its own "used" column (its cost is paid once). Communities of a distance type with
    the same candidates in reach share one cover column (their demand summed); with
    ``prune`` (set covering: every one must be covered) a community whose candidates include
    all of another's needs no row of its own.
    """
    prog = Program()
    none = np.zeros(0, dtype=np.int64)
    cands = np.concatenate([d.cand for d in block]) if with_new else none
    y_cat = prog.columns(len(cands))
    col_of = np.full(int(cands.max()) + 1 if len(cands) else 0, -1, dtype=np.int64)
    col_of[cands] = y_cat
    sites, first, count = np.unique(cand_site[cands], return_index=True, return_counts=True)
    multi = count > 1
    s = y_cat[first].copy()
    s[multi] = prog.columns(int(multi.sum()))
    built = Built(prog, s, sites, {}, {}, {}, {}, {})
    local = np.searchsorted(sites, cand_site[cands])
    shared = multi[local]
    if shared.any():
        # a type at a site only where the site is used
        k = int(shared.sum())
        prog.rows(
            np.repeat(np.arange(k), 2),
            np.column_stack([y_cat[shared], s[local[shared]]]).ravel(),
            np.tile([1.0, -1.0], k),
            -np.inf,
            0.0,
            k,
        )
        row = np.cumsum(multi) - 1
        if not options.allow_multiple_types_per_site:
            prog.rows(row[local[shared]], y_cat[shared], np.ones(k), -np.inf, 1.0, int(multi.sum()))
        elif options.min_area_m2:
            need = np.concatenate(
                [np.full(len(d.cand), options.min_area_m2.get(d.code, 0.0)) for d in block]
            )
            prog.rows(
                row[local[shared]],
                y_cat[shared],
                need[shared],
                -np.inf,
                area[sites[multi]],
                int(multi.sum()),
            )
    for d in block:
        y = col_of[d.cand] if with_new else none
        built.y[d.code] = y
        if d.limit is not None and len(y):
            prog.rows(
                np.zeros(len(y), dtype=np.int64), y, np.ones(len(y)), -np.inf, float(d.limit), 1
            )
        pi = d.pair_i if with_new else none
        pc = col_of[d.pair_c] if with_new else none
        if d.capacity is None:
            _cover_rows(prog, built, d, pi, pc, prune=prune)
        else:
            _capacity_rows(prog, built, d, pi, pc, options=options, with_new=with_new)
    return built


def _cover_rows(
    prog: Program,
    built: Built,
    d: TypeData,
    pi: NDArray[np.int64],
    pc: NDArray[np.int64],
    *,
    prune: bool,
) -> None:
    """Cover columns of a distance type: ``z_g <= sum of y over the group's candidates``."""
    none = np.zeros(0, dtype=np.int64)
    built.e[d.code] = (none, none)
    ok = ~d.covered[pi]
    pi, pc = pi[ok], pc[ok]
    order = np.lexsort((pc, pi))
    pi, pc = pi[order], pc[order]
    demand, start = np.unique(pi, return_index=True)
    sets = [tuple(x) for x in np.split(pc, start[1:])] if len(pi) else []
    keys: dict[tuple[int, ...], int] = {}
    group = np.asarray([keys.setdefault(k, len(keys)) for k in sets], dtype=np.int64)
    zc = prog.columns(len(keys))
    built.z[d.code] = (demand, zc[group] if len(group) else none)
    members = list(keys)
    rows_of = np.arange(len(members))
    if prune and len(members) > 1:
        ncol = len(prog.lb)
        a = sp.csr_array(
            (
                np.ones(sum(map(len, members))),
                (np.repeat(rows_of, [len(m) for m in members]), np.concatenate(members)),
            ),
            shape=(len(members), ncol),
        )
        inter = (a @ a.T).tocoo()
        size = np.asarray([len(m) for m in members])
        # group r is implied by group q when q's candidates are a subset of r's
        sub = (inter.row != inter.col) & (inter.data == size[inter.row])
        q, r = inter.row[sub], inter.col[sub]
        strict = size[q] < size[r]
        implied = np.zeros(len(members), dtype=bool)
        implied[r[strict]] = True
        rows_of = np.flatnonzero(~implied)
    if not len(rows_of):
        return
    lengths = np.asarray([len(members[g]) for g in rows_of])
    prog.rows(
        np.concatenate([np.arange(len(rows_of)), np.repeat(np.arange(len(rows_of)), lengths)]),
        np.concatenate([zc[rows_of], np.concatenate([members[g] for g in rows_of])]),
        np.concatenate([np.ones(len(rows_of)), -np.ones(int(lengths.sum()))]),
        -np.inf,
        0.0,
        len(rows_of),
    )


def _capacity_rows(
    prog: Program,
    built: Built,
    d: TypeData,
    pi: NDArray[np.int64],
    pc: NDArray[np.int64],
    *,
    options: SitingOptions,
    with_new: bool,
) -> None:
    """Demand split over the facilities in reach, within their capacities."""
    unlimited = np.isinf(d.exist_cap)
    free = np.zeros(len(d.w), dtype=bool)
    free[d.epair_i[unlimited[d.epair_k]]] = True  # in reach of an unlimited facility
    lim = ~unlimited[d.epair_k] & ~free[d.epair_i]
    ei, ek = d.epair_i[lim], d.epair_k[lim]
    keep = ~free[pi]
    pi, pc = pi[keep], pc[keep]
    demand = np.unique(np.concatenate([pi, ei]))
    zc = prog.columns(len(demand))
    built.z[d.code] = (demand, zc)
    xn = prog.columns(len(pi), integer=False)
    xo = prog.columns(len(ei), integer=False)
    built.x_new[d.code], built.x_old[d.code] = xn, xo
    w = d.w
    # sum_f x_if - z_i = 0
    prog.rows(
        np.concatenate(
            [np.searchsorted(demand, pi), np.searchsorted(demand, ei), np.arange(len(demand))]
        ),
        np.concatenate([xn, xo, zc]),
        np.concatenate([np.ones(len(xn) + len(xo)), -np.ones(len(demand))]),
        0.0,
        0.0,
        len(demand),
    )
    if len(pi):
        # sum_i w_i x_ic - capacity y_c <= 0, and x_ic <= y_c
        ycols, local = np.unique(pc, return_inverse=True)
        prog.rows(
            np.concatenate([local, np.arange(len(ycols))]),
            np.concatenate([xn, ycols]),
            np.concatenate([w[pi], np.full(len(ycols), -float(d.capacity or 0.0))]),
            -np.inf,
            0.0,
            len(ycols),
        )
        prog.rows(
            np.repeat(np.arange(len(xn)), 2),
            np.column_stack([xn, pc]).ravel(),
            np.tile([1.0, -1.0], len(xn)),
            -np.inf,
            0.0,
            len(xn),
        )
    ks, local = np.unique(ek, return_inverse=True)
    expandable = with_new and options.expand_existing and d.expand_cost is not None
    e = prog.columns(len(ks) if expandable else 0)
    built.e[d.code] = (ks if expandable else ks[:0], e)
    if len(ks):
        # sum_i w_i x_ik - expansion e_k <= capacity_k
        rows, cols, vals = [local], [xo], [w[ei]]
        if expandable:
            rows.append(np.arange(len(ks)))
            cols.append(e)
            vals.append(np.full(len(ks), -d.expand_cap))
        prog.rows(
            np.concatenate(rows),
            np.concatenate(cols),
            np.concatenate(vals),
            -np.inf,
            d.exist_cap[ks],
            len(ks),
        )


def solve_block(
    block: list[TypeData],
    cand_site: NDArray[np.int64],
    unit_cost: NDArray[np.float64],
    area: NDArray[np.float64],
    *,
    options: SitingOptions,
    real_cost: bool,
) -> tuple[Built, NDArray[np.float64] | None, dict[str, Any]]:
    """Build and solve one block; return the program, its solution and solver facts."""
    direct = (
        options.model == "lscp"
        and len(block) == 1
        and block[0].capacity is None
        and block[0].limit is None
        and options.budget_wan_yuan is None
    )
    built = build(block, cand_site, area, options, prune=direct)
    prog = built.prog
    n = len(prog.lb)
    cost = np.zeros(n)
    cost[built.s] = unit_cost[built.sites]
    weight = np.zeros(n)
    for d in block:
        demand, zc = built.z[d.code]
        np.add.at(weight, zc, d.w[demand])
        _, e = built.e[d.code]
        cost[e] = d.expand_cost if real_cost and d.expand_cost is not None else 1.0
    if options.budget_wan_yuan is not None and np.any(cost > 0):
        nz = np.flatnonzero(cost)
        prog.rows(
            np.zeros(len(nz), dtype=np.int64),
            nz,
            cost[nz],
            -np.inf,
            float(options.budget_wan_yuan),
            1,
        )
    count = np.zeros(n)
    count[built.s] = 1.0
    tie_count = _COUNT_TIE / (len(built.s) + 1) if real_cost else 0.0
    if options.model == "mclp":
        x, facts = prog.solve(-weight + _COST_TIE / (float(cost.sum()) + 1.0) * cost, options)
        facts["objective"] = None if x is None else float(weight @ x)
        return built, x, facts
    if direct:
        _, zc = built.z[block[0].code]
        for j in set(zc.tolist()):
            prog.lb[j] = 1.0
        x, facts = prog.solve(cost + tie_count * count, options)
        facts["objective"] = None if x is None else float(cost @ x)
        return built, x, facts
    # lscp with limits or capacities: the most demand first, then the least cost for it
    xa, first = prog.solve(-weight, options)
    if xa is None:
        first["objective"] = None
        return built, None, first
    covered = float(weight @ xa)
    nz = np.flatnonzero(weight)
    if len(nz):
        tol = 1e-9 * max(1.0, covered) + 1e-6
        prog.rows(np.zeros(len(nz), dtype=np.int64), nz, weight[nz], covered - tol, np.inf, 1)
    x, facts = prog.solve(cost + tie_count * count, options)
    worst = first["status"] if first["status"] != "optimal" else facts["status"]
    facts.update(
        status=worst,
        time_s=first["time_s"] + facts["time_s"],
        objective=None if x is None else float(cost @ x),
        stages=f"coverage {covered:.6g}, then least cost",
    )
    return built, x, facts


def blocks(
    types: list[TypeData], cand_site: NDArray[np.int64], *, budget: bool
) -> list[list[TypeData]]:
    """Group types that must be solved together: shared sites, or one budget for all."""
    with_cand = [d for d in types if len(d.cand) or len(d.epair_i)]
    if budget:
        return [with_cand] if with_cand else []
    parent = list(range(len(with_cand)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[int, int] = {}
    for i, d in enumerate(with_cand):
        for j in np.unique(cand_site[d.cand]).tolist():
            if j in owner:
                parent[root(i)] = root(owner[j])
            else:
                owner[j] = i
    groups: dict[int, list[TypeData]] = {}
    for i, d in enumerate(with_cand):
        groups.setdefault(root(i), []).append(d)
    return list(groups.values())


def capacity_cover(
    d: TypeData, cand_site: NDArray[np.int64], site_table: pd.DataFrame, options: SitingOptions
) -> tuple[NDArray[np.bool_], dict[str, Any]]:
    """Communities covered today under capacities (existing facilities only)."""
    free = np.zeros(len(d.w), dtype=bool)
    unlimited = np.isinf(d.exist_cap)
    free[d.epair_i[unlimited[d.epair_k]]] = True
    if not (~unlimited[d.epair_k]).any():
        return free, {}
    built = build([d], cand_site, site_table["area_m2"].to_numpy(float), options, with_new=False)
    demand, zc = built.z[d.code]
    cost = np.zeros(len(built.prog.lb))
    cost[zc] = -d.w[demand]
    x, facts = built.prog.solve(cost, options)
    if x is not None:
        free[demand[x[zc] > 0.5]] = True  # noqa: PLR2004 - 0/1 rounding
    return free, facts


def capacity_after(
    d: TypeData, built: Built, x: NDArray[np.float64], cand: pd.DataFrame
) -> tuple[NDArray[np.bool_], dict[int, tuple[float, str]]]:
    """Covered after, and per newly served community the facility serving most of it."""
    out = np.zeros(len(d.w), dtype=bool)
    unlimited = np.isinf(d.exist_cap)
    out[d.epair_i[unlimited[d.epair_k]]] = True
    demand, zc = built.z[d.code]
    out[demand[x[zc] > 0.5]] = True  # noqa: PLR2004 - 0/1 rounding
    best: dict[int, tuple[float, str]] = {}
    free = out.copy()
    free[:] = False
    free[d.epair_i[unlimited[d.epair_k]]] = True
    keep = ~free[d.pair_i]
    pi, pc = d.pair_i[keep], d.pair_c[keep]
    lim = ~unlimited[d.epair_k] & ~free[d.epair_i]
    ei, ek = d.epair_i[lim], d.epair_k[lim]
    share = np.concatenate([x[built.x_new[d.code]], x[built.x_old[d.code]]])
    who = np.concatenate(
        [cand["site_id"].to_numpy(dtype=object)[pc], "existing:" + d.exist_ids[ek].astype(str)]
    )
    comm = np.concatenate([pi, ei])
    for i, s, w in sorted(zip(comm.tolist(), share.tolist(), who.tolist(), strict=True)):
        if s > 1e-9 and (i not in best or s > best[i][0] + 1e-9):  # noqa: PLR2004
            best[i] = (s, w)
    return out, best
