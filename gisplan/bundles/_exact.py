"""The exact bundling integer program (HiGHS through :func:`scipy.optimize.milp`)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from gisplan._milp import solver_status
from gisplan.bundles._common import _HALF, _OBJ_SCALE, _Model
from gisplan.bundles._instance import _far_matrix, _reach_hops, _usable

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from numpy.typing import NDArray

    from gisplan.bundles._common import BundleOptions
    from gisplan.bundles._instance import _Inst


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
