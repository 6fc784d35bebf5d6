"""Benchmark: facility siting (LSCP, MCLP), gisplan vs spopt with its default solver (PuLP CBC).

Two instances, each tool end to end from the same inputs (street lines, demand points or
community polygons, candidate sites), one process, best of ``--repeat`` runs, side by side:

- **synthetic** (seeded): a jittered 6 km x 6 km street grid (100 m blocks, 10 % of the
  segments dropped), 2,000 demand points (residents 200–3,000) and 300 candidate sites, radius
  1,000 m, no existing facility. LSCP: fewest sites covering every point that can be covered
  (sites carry no cost, so gisplan also minimises the count); MCLP: p = 20 sites, most
  residents covered;
- **demo**: ``layers/demo.gpkg`` (150 communities, 25 sites), nurseries (radius 300 m):
  communities not covered by today's 3 nurseries; LSCP and MCLP with p = 2.

**gisplan**: ``network.build_graph`` + ``siting.propose`` (snapping, sparse catchments from
the access engine, coverage before/after, the exact HiGHS program, gap tables after).
**spopt** 0.7 has no network distances, so its pipeline is the one a user would write: the
same ``build_graph`` and origins, the before-coverage (demo), the catchments from gisplan's
access engine turned into the **dense** cost matrix spopt takes (pairs beyond the radius get
a large cost; demand points no site can reach are dropped, or its LSCP is infeasible), then
``LSCP/MCLP.from_cost_matrix(...).solve(pulp.PULP_CBC_CMD(msg=False, timeLimit=...))`` (the
default CBC has no limit; ``--cbc-time-limit``, 600 s, keeps a run finite). Both tools thus
answer on the same matrix; the timing covers everything from the layers to the answer.

Optimality is checked, not taken from the status: gisplan's HiGHS status and MIP gap, and
each tool's objective compared with the other's (HiGHS proves its bound with gap 0; CBC's
``Optimal`` is reported as PuLP gives it).

Run by hand: ``python benchmarks/bench_siting.py [--repeat 1] [--seed 0]
[--cbc-time-limit 600]``. Needs spopt and
PuLP (``pip install spopt``); no network access.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import LineString, Point

from gisplan import access, gaps
from gisplan.network import build_graph
from gisplan.siting import SitingOptions, propose

if TYPE_CHECKING:
    from collections.abc import Callable

CRS = "EPSG:4548"
X0, Y0 = 500_000.0, 3_875_000.0
BIG = 1e9
ORIGIN = np.array([X0, Y0])
REPO = Path(__file__).resolve().parents[1]


def synthetic(seed: int, n_demand: int, n_sites: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    n, step = 61, 100.0
    jitter = rng.uniform(-15, 15, size=(n, n, 2))
    xy = np.stack(np.meshgrid(np.arange(n) * step, np.arange(n) * step, indexing="ij"), -1)
    xy = xy + jitter + ORIGIN
    lines = []
    for i in range(n):
        for j in range(n):
            for di, dj in ((1, 0), (0, 1)):
                if i + di < n and j + dj < n and rng.random() > 0.1:  # noqa: PLR2004
                    lines.append(LineString([xy[i, j], xy[i + di, j + dj]]))
    net = gpd.GeoDataFrame({"highway": ["residential"] * len(lines)}, geometry=lines, crs=CRS)
    span = (n - 1) * step
    pts = rng.uniform(0, span, size=(n_demand, 2)) + ORIGIN
    ids = [f"D{i:04d}" for i in range(n_demand)]
    pop = rng.integers(200, 3001, size=n_demand)
    demand = gpd.GeoDataFrame(
        {"community_id": ids, "households": pop // 3, "population": pop},
        geometry=[Point(p) for p in pts],
        crs=CRS,
    )
    origins = gpd.GeoDataFrame(
        {"community_id": ids, "origin_id": [f"{i}-c" for i in ids]},
        geometry=demand.geometry.to_numpy(),
        crs=CRS,
    )
    spts = rng.uniform(0, span, size=(n_sites, 2)) + ORIGIN
    sites = gpd.GeoDataFrame(
        {"site_id": [f"S{i:03d}" for i in range(n_sites)], "allowed_types": "nursery"},
        geometry=[Point(p) for p in spts],
        crs=CRS,
    )
    return {"network": net, "communities": demand, "origins": origins, "sites": sites}


def demo() -> dict[str, Any]:
    from gisplan.runner import load_layers  # noqa: PLC0415

    layers, _, _ = load_layers(REPO / "scenarios" / "demo.yaml")
    return {
        "network": layers["network"],
        "communities": layers["communities"],
        "facilities": layers["facilities"],
        # no costs: gisplan's set covering then minimises the count, as spopt's LSCP does
        "sites": layers["sites"].drop(columns="cost_wan_yuan"),
        "origins": None,
    }


# --------------------------------------------------------------------------- tools


def run_gisplan(inst: dict[str, Any], model: str, radius: float, p: int | None) -> dict[str, Any]:
    graph = build_graph(inst["network"])
    opts = SitingOptions(
        types=("nursery",), model=model, n_new=p, radius_m={"nursery": radius}, time_limit_s=600
    )
    r = propose(
        inst["communities"],
        inst.get("facilities"),
        inst["sites"],
        None,
        graph=graph,
        origins=inst["origins"],
        options=opts,
    )
    info = r.info.iloc[0]
    covered = float(r.sites_chosen["weight_newly_covered"].sum())  # demand newly covered
    return {
        "sites": len(r.sites_chosen),
        "covered": covered,
        "status": info["solver_status"],
        "gap": info["mip_gap"],
        "solve_s": float(info["time_s"]),
    }


def run_spopt(
    inst: dict[str, Any], model: str, radius: float, p: int | None, limit_s: float
) -> dict[str, Any]:
    import pulp  # noqa: PLC0415
    from spopt.locate import LSCP, MCLP  # noqa: PLC0415

    graph = build_graph(inst["network"])
    origins = inst["origins"]
    if origins is None:
        origins = access.community_origins(inst["communities"], graph)
    comm = inst["communities"].sort_values("community_id")
    ids = comm["community_id"].astype(str).to_numpy()
    need = np.ones(len(ids), dtype=bool)
    if inst.get("facilities") is not None:  # the demand: communities not covered today
        dist = access.nearest_facilities(graph, origins, inst["facilities"], types=["nursery"])
        table = gaps.gap_table(
            dist,
            comm[["community_id", "households", "population"]],
            options=gaps.GapOptions(radius_overrides={"nursery": radius}),
        )
        need = ~table.set_index("community_id").loc[ids, "covered"].to_numpy(bool)
    sites = inst["sites"].sort_values("site_id")
    sites = sites[sites["allowed_types"].map(lambda a: "nursery" in a)]
    cand = sites.assign(facility_id=sites["site_id"], type="nursery")
    pairs = access.facility_catchments(graph, origins, cand, radius_m=radius)
    row = pd.Index(ids).get_indexer(pairs["community_id"])
    col = pd.Index(sites["site_id"]).get_indexer(pairs["facility_id"])
    cost = np.full((len(ids), len(sites)), BIG)
    cost[row, col] = pairs["dist_m"].to_numpy()
    keep = need & (cost <= radius).any(axis=1)
    cost = cost[keep]
    pop = pd.to_numeric(comm["population"], errors="coerce").astype(float)
    households = comm["households"].astype(float)
    ratio = float(np.median((pop / households).dropna()))
    weights = pop.fillna(households * ratio).to_numpy(float)[keep]
    t = time.perf_counter()
    if model == "lscp":
        m = LSCP.from_cost_matrix(cost, service_radius=radius)
    else:
        m = MCLP.from_cost_matrix(cost, weights, service_radius=radius, p_facilities=p)
    m = m.solve(pulp.PULP_CBC_CMD(msg=False, timeLimit=limit_s))
    solve_s = time.perf_counter() - t
    status = pulp.LpStatus[m.problem.status]
    if solve_s >= 0.98 * limit_s:  # CBC says "Optimal" for its best solution at the limit
        status += f" (stopped at {limit_s:g} s limit)"
    chosen = np.array([v.varValue is not None and v.varValue > 0.5 for v in m.fac_vars])  # noqa: PLR2004
    covered = float(weights[(cost[:, chosen] <= radius).any(axis=1)].sum())
    return {
        "sites": int(chosen.sum()),
        "covered": covered,
        "status": status,
        "gap": None,
        "solve_s": solve_s,
    }


def timed(fn: Callable[[], dict[str, Any]], repeat: int) -> dict[str, Any]:
    best: dict[str, Any] = {}
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        out["total_s"] = time.perf_counter() - t
        if not best or out["total_s"] < best["total_s"]:
            best = out
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--demand", type=int, default=2000)
    parser.add_argument("--sites", type=int, default=300)
    parser.add_argument("--p", type=int, default=20)
    parser.add_argument("--cbc-time-limit", type=float, default=600.0)
    parser.add_argument("--only", choices=["synthetic", "demo"], default=None)
    args = parser.parse_args()
    cases = []
    if args.only in {None, "synthetic"}:
        cases.append(("synthetic", synthetic(args.seed, args.demand, args.sites), 1000.0, args.p))
    if args.only in {None, "demo"}:
        cases.append(("demo", demo(), 300.0, 2))
    head = (
        f"{'instance':10} {'model':5} {'tool':8} {'total s':>8} {'solve s':>8} {'sites':>5} "
        f"{'covered':>12} {'status':34} {'gap':>5}"
    )
    print(head)
    for name, inst, radius, p in cases:
        for model in ("lscp", "mclp"):
            pp = p if model == "mclp" else None
            g = timed(lambda: run_gisplan(inst, model, radius, pp), args.repeat)  # noqa: B023
            s = timed(
                lambda: run_spopt(inst, model, radius, pp, args.cbc_time_limit),  # noqa: B023
                args.repeat,
            )
            for tool, res in (("gisplan", g), ("spopt", s)):
                gap = "" if res["gap"] is None else f"{res['gap']:.0e}"
                print(
                    f"{name:10} {model:5} {tool:8} {res['total_s']:8.3f} {res['solve_s']:8.3f} "
                    f"{res['sites']:5d} {res['covered']:12.1f} {res['status']:34} {gap:>5}"
                )
            better = "equal" if np.isclose(g["covered"], s["covered"]) else "differs"
            if model == "lscp":
                better = (
                    "equal" if g["sites"] == s["sites"] else f"{g['sites']} vs {s['sites']} sites"
                )
            print(
                f"{'':10} {model:5} spopt/gisplan time ratio {s['total_s'] / g['total_s']:.1f}x, "
                f"objective {better}"
            )


if __name__ == "__main__":
    main()
