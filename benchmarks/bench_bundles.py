"""Benchmark: large-area bundles (大片区统筹平衡), gisplan vs spopt max-p vs the exact MILP.

Seeded synthetic districts of 200, 2,000 and 20,000 units: random points in a square, their
Voronoi cells (shapely ``voronoi_polygons``) clipped to it and shrunk by 5 m, so neighbours
are 10 m apart (a street) and the default 30 m adjacency tolerance links them; units about
200 m across, like old residential communities. 12 % of the units are revenue projects
(cost 1,000-8,000 万元, surplus = revenue - cost drawn from N(700, 600) 万元, so about one in
eight loses money), the rest communities in deficit (need lognormal around 120 万元). Positive
surplus falls short of total need, as money does in a real county (by how much varies with
the draw: about 80 % of need at 2,000 units, a third at 200).

Same question for every tool, one run, one adjacency graph (``gisplan.bundles.adjacency``):
group units into connected bundles, each balancing (revenue >= cost), funding as much community
need as possible.

- **gisplan** ``large_area`` with default options (``method="auto"``: the beam/path heuristic
  with improvement, then the exact integer program on parts of at most 250 units where the
  heuristic is more than 1 % below the bound; 12 members, 3 km², 2,000 m span, margin 0);
- **heuristic** (where the exact MILP runs): ``large_area(method="heuristic")``, to compare
  the heuristic alone with the proven optimum;
- **exact**: ``large_area(method="exact")`` — the flow-based integer program on the whole
  instance (HiGHS, relative gap 1e-4, ``--exact-limit`` seconds); run where it can finish;
- **spopt max-p** (``MaxPHeuristic``): the closest off-the-shelf regionalisation. Max-p can
  only ask that a region's sum of one non-negative attribute reach a threshold; "revenue >=
  cost" is a signed sum and cannot be written that way. The fairest translation we found:
  attribute = a project's positive surplus (0 for communities), threshold = the mean positive
  project surplus, so every region gets about one project's worth of money while max-p makes
  as many (compact, by centroid x/y) regions as it can and assigns every unit to one. A region
  counts as funding its communities only if it balances (surplus >= need). Max-p has no size
  limits. Its construction and annealing iterations are set by ``--maxp-iterations`` (spopt's
  defaults, 99 and 10, take minutes already at 200 units) and it runs in a subprocess killed
  after ``--maxp-cap`` seconds.

Reported per tool: time (s), bundles/regions holding communities, share of them that balance,
share of the total community need funded (only balanced bundles count), and the gap to the
upper bound (the smallest of gisplan's LP / maximum-flow bound and the exact MILP's dual bound):
``1 - funded / bound``. Where the exact MILP proves optimality the heuristic is also compared
with the proven optimum. Imports and instance generation are outside the timings; adjacency is
built once and timed separately.

Run by hand: ``python benchmarks/bench_bundles.py [--sizes 200,2000,20000] [--exact-sizes 60,200]
[--maxp-sizes 200,2000] [--maxp-iterations 3,1] [--maxp-cap 1800] [--exact-limit 300]``.
No network access.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing as mp
import time
import warnings
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import box

if TYPE_CHECKING:
    import networkx as nx

CRS = "EPSG:4548"
X0, Y0 = 500_000.0, 3_875_000.0
SPACING_M = 200.0
STREET_M = 10.0
SHARE_PROJECTS = 0.12
TOL = 1e-9


def instance(n: int, seed: int = 0) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, pd.Series]:
    """Communities, projects and needs of a seeded Voronoi district of ``n`` units."""
    rng = np.random.default_rng(seed)
    side = SPACING_M * math.sqrt(n)
    pts = rng.uniform(0, side, (n, 2)) + np.array([X0, Y0])
    frame = box(X0, Y0, X0 + side, Y0 + side)
    cells = np.asarray(
        shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(pts), extend_to=frame))
    )
    # voronoi_polygons returns the cells in its own order: match each to its point
    point_idx, cell_idx = shapely.STRtree(cells).query(shapely.points(pts), predicate="within")
    order = np.empty(n, dtype=int)
    order[point_idx] = cell_idx
    polys = shapely.buffer(
        shapely.intersection(cells[order], frame), -STREET_M / 2, join_style="mitre"
    )
    is_project = rng.uniform(size=n) < SHARE_PROJECTS
    n_com, n_pro = int((~is_project).sum()), int(is_project.sum())
    need = np.round(rng.lognormal(math.log(120), 0.6, n_com), 2)
    cost = np.round(rng.uniform(1000, 8000, n_pro), 2)
    revenue = np.round(np.maximum(cost + rng.normal(700, 600, n_pro), 0), 2)
    com = gpd.GeoDataFrame(
        {"community_id": [f"C{i:05d}" for i in range(n_com)]},
        geometry=polys[~is_project],
        crs=CRS,
    )
    pro = gpd.GeoDataFrame(
        {
            "project_id": [f"P{i:05d}" for i in range(n_pro)],
            "cost_wan_yuan": cost,
            "revenue_wan_yuan": revenue,
        },
        geometry=polys[is_project],
        crs=CRS,
    )
    return com, pro, pd.Series(need, index=com["community_id"])


def score_regions(
    regions: list[list[str]], need: pd.Series, surplus: dict[str, float]
) -> dict[str, float]:
    """Balanced share and funded need of a partition into regions (unit ids)."""
    with_comm = [r for r in regions if any(u in need.index for u in r)]
    balanced = [
        r
        for r in with_comm
        if sum(surplus.get(u, 0.0) for u in r) - sum(float(need.get(u, 0.0)) for u in r) >= -TOL
    ]
    funded = sum(float(need.get(u, 0.0)) for r in balanced for u in r)
    return {
        "bundles": len(with_comm),
        "balanced_share": len(balanced) / len(with_comm) if with_comm else float("nan"),
        "funded_wan_yuan": funded,
    }


def run_gisplan(
    com: gpd.GeoDataFrame,
    pro: gpd.GeoDataFrame,
    need: pd.Series,
    graph: nx.Graph,
    surplus: dict[str, float],
    *,
    method: str,
    time_limit: float,
) -> dict[str, Any]:
    from gisplan.bundles import BundleOptions, large_area  # noqa: PLC0415

    options = BundleOptions(method=method, time_limit_s=time_limit)
    started = time.perf_counter()
    result = large_area(com, pro, need, graph=graph, options=options)
    elapsed = time.perf_counter() - started
    regions = [
        [*c.split(","), *p.split(",")]
        for c, p in zip(result.bundles["community_ids"], result.bundles["project_ids"], strict=True)
    ]
    out = score_regions(regions, need, surplus)
    out.update(
        time_s=elapsed,
        bound_wan_yuan=result.info["bound_wan_yuan"],
        status=result.info["status"],
        method=result.info["method"],
    )
    return out


def _maxp_child(
    com: gpd.GeoDataFrame,
    pro: gpd.GeoDataFrame,
    edges: list[tuple[str, str]],
    iterations: tuple[int, int],
    queue: Any,  # noqa: ANN401
) -> None:
    warnings.filterwarnings("ignore")
    import libpysal  # noqa: PLC0415
    from spopt.region import MaxPHeuristic  # noqa: PLC0415

    units = pd.concat(
        [
            com.assign(unit_id=com["community_id"], money=0.0),
            pro.assign(
                unit_id=pro["project_id"],
                money=(pro["revenue_wan_yuan"] - pro["cost_wan_yuan"]).clip(lower=0),
            ),
        ],
        ignore_index=True,
    )
    units = gpd.GeoDataFrame(units, geometry="geometry", crs=com.crs)
    units["x"] = units.geometry.centroid.x
    units["y"] = units.geometry.centroid.y
    index = {u: i for i, u in enumerate(units["unit_id"])}
    neighbours: dict[int, list[int]] = {i: [] for i in range(len(units))}
    for a, b in edges:
        neighbours[index[a]].append(index[b])
        neighbours[index[b]].append(index[a])
    weights = libpysal.weights.W(neighbours, silence_warnings=True)
    threshold = float(units.loc[units["money"] > 0, "money"].mean())
    started = time.perf_counter()
    model = MaxPHeuristic(
        units,
        weights,
        ["x", "y"],
        "money",
        threshold,
        top_n=2,
        max_iterations_construction=iterations[0],
        max_iterations_sa=iterations[1],
    )
    model.solve()
    elapsed = time.perf_counter() - started
    labels = np.asarray(model.labels_)
    regions: dict[int, list[str]] = {}
    for unit, label in zip(units["unit_id"], labels, strict=True):
        regions.setdefault(int(label), []).append(str(unit))
    queue.put({"time_s": elapsed, "regions": list(regions.values()), "threshold": threshold})


def run_maxp(
    com: gpd.GeoDataFrame,
    pro: gpd.GeoDataFrame,
    graph: nx.Graph,
    iterations: tuple[int, int],
    cap_s: float,
) -> dict[str, Any] | None:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    edges = [(str(a), str(b)) for a, b in graph.edges]
    child = ctx.Process(target=_maxp_child, args=(com, pro, edges, iterations, queue))
    child.start()
    child.join(cap_s)
    if child.is_alive():
        child.terminate()
        child.join()
        return None
    return queue.get() if not queue.empty() else None


def _fmt(value: object, spec: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return format(value, spec)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="200,2000,20000")
    parser.add_argument("--exact-sizes", default="60,200")
    parser.add_argument("--maxp-sizes", default="200,2000")
    parser.add_argument("--maxp-iterations", default="3,1", help="construction,annealing")
    parser.add_argument("--maxp-cap", type=float, default=1800.0)
    parser.add_argument("--exact-limit", type=float, default=300.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    from gisplan.bundles import adjacency  # noqa: PLC0415

    sizes = sorted(
        {int(s) for s in args.sizes.split(",") if s}
        | {int(s) for s in args.exact_sizes.split(",") if s}
    )
    exact_sizes = {int(s) for s in args.exact_sizes.split(",") if s}
    maxp_sizes = {int(s) for s in args.maxp_sizes.split(",") if s}
    iterations = tuple(int(i) for i in args.maxp_iterations.split(","))
    rows: list[dict[str, Any]] = []
    for n in sizes:
        com, pro, need = instance(n, args.seed)
        surplus = dict(
            zip(pro["project_id"], pro["revenue_wan_yuan"] - pro["cost_wan_yuan"], strict=True)
        )
        started = time.perf_counter()
        graph = adjacency(com, pro)
        adj_s = time.perf_counter() - started
        total_need = float(need.sum())
        print(
            f"n={n}: {len(com)} communities, {len(pro)} projects, {graph.number_of_edges()} "
            f"edges (adjacency {adj_s:.2f} s); need {total_need:,.0f} 万元, positive surplus "
            f"{sum(max(s, 0) for s in surplus.values()):,.0f} 万元",
            flush=True,
        )
        results: dict[str, dict[str, Any] | None] = {}
        results["gisplan"] = run_gisplan(
            com, pro, need, graph, surplus, method="auto", time_limit=60.0
        )
        if n in exact_sizes:
            results["heuristic"] = run_gisplan(
                com, pro, need, graph, surplus, method="heuristic", time_limit=60.0
            )
            results["exact"] = run_gisplan(
                com, pro, need, graph, surplus, method="exact", time_limit=args.exact_limit
            )
        if n in maxp_sizes:
            results["maxp"] = run_maxp(com, pro, graph, iterations, args.maxp_cap)
            if results["maxp"] is not None:
                results["maxp"].update(score_regions(results["maxp"]["regions"], need, surplus))
        bound = min(r["bound_wan_yuan"] for r in results.values() if r and "bound_wan_yuan" in r)
        optimum = None
        exact = results.get("exact")
        if exact and exact["status"] == "optimal":
            optimum = exact["funded_wan_yuan"]
        for tool, r in results.items():
            row: dict[str, Any] = {"n": n, "seed": args.seed, "tool": tool}
            if r is None:
                row["note"] = f"not finished in {args.maxp_cap:g} s"
            else:
                row.update(
                    time_s=r["time_s"],
                    bundles=r["bundles"],
                    balanced=r["balanced_share"],
                    funded_share=r["funded_wan_yuan"] / total_need,
                    gap_to_bound=1 - r["funded_wan_yuan"] / bound if bound > 0 else 0.0,
                    vs_optimum=(r["funded_wan_yuan"] / optimum if optimum else None),
                    note=r.get("status", "") + (f" ({r['method']})" if "method" in r else ""),
                )
            rows.append(row)
            print(
                f"  {tool:8s} {_fmt(row.get('time_s'), '9.2f')} s  bundles "
                f"{_fmt(row.get('bundles'), '5d')}  balanced {_fmt(row.get('balanced'), '6.1%')}"
                f"  funded {_fmt(row.get('funded_share'), '6.1%')} of need  gap "
                f"{_fmt(row.get('gap_to_bound'), '6.2%')}  vs optimum "
                f"{_fmt(row.get('vs_optimum'), '7.2%')}  {row.get('note', '')}",
                flush=True,
            )
        if results.get("maxp"):
            ratio = results["maxp"]["time_s"] / results["gisplan"]["time_s"]
            print(f"  max-p / gisplan time: {ratio:.1f}x", flush=True)
    print()
    print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main()
