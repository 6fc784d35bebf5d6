"""Benchmark: the whole life-circle gap run on a seeded synthetic city of ~1,000,000 nodes.

The city: a jittered street grid (80 m blocks, +-12 m jitter at every crossing), 7 % of the
street segments removed, a diagonal street through 6 % of the blocks and a kink (a middle
vertex) in a quarter of the segments; communities are 40-66 m squares inside blocks drawn
with a Gaussian density around the centre (a dense core, a thin edge), so their edges come
within ~7-20 m of the streets and entrances get derived; 12 facility types with a few hundred
to a few thousand points each (scaled with the city), 80 % of them within a few hundred
metres of a community (services follow people), 20 % anywhere. EPSG:4548.

Stages timed (time.perf_counter), after the data are generated (not timed):

1. graph: ``gisplan.network.build_graph`` on the street lines;
2. origins: ``gisplan.access.community_origins`` (derived entrances);
3. distances: ``gisplan.access.nearest_facilities`` for all 12 types;
4. gaps: ``gisplan.gaps.gap_table`` + ``coverage_by_type``.

Each size runs in its own ``spawn`` subprocess, so the peak memory (``ru_maxrss``) is that
size's own; "after data" is the peak once the inputs exist. Without ``--no-growth`` the run is
repeated at 1 % and 10 % of ``--nodes`` to show the growth (time per node).

Run by hand: ``python benchmarks/bench_scale.py [--nodes 1000000] [--communities 100000]
[--seed 0] [--repeat 3]``; results go to benchmarks/README.md. Targets (issue 4): < 60 s,
< 4 GB.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import pickle
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

CRS = "EPSG:4548"
X0, Y0 = 420_000.0, 3_300_000.0
BLOCK_M = 80.0
JITTER_M = 12.0
#: facility type -> count at 1,000,000 nodes (scaled with the city)
FACILITIES = {
    "primary_school": 600,
    "kindergarten": 1_500,
    "nursery": 800,
    "community_health_station": 1_200,
    "elderly_day_care": 900,
    "community_service_station": 1_800,
    "fresh_market": 1_000,
    "small_sports_field": 2_500,
    "outdoor_fitness": 3_000,
    "bus_stop": 5_000,
    "pharmacy": 2_000,
    "convenience_store": 4_000,
}
REMOVED, DIAGONAL, KINKED = 0.07, 0.06, 0.25  # shares of segments / blocks
NEAR_COMMUNITIES = 0.8  # share of facilities placed near a community (sd 250 m)
STAGES = ("graph", "origins", "distances", "gaps")

Result = dict[str, Any]


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_city(
    n_nodes: int, n_communities: int, seed: int
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Streets, communities and facilities of a seeded synthetic city (see module docstring)."""
    rng = np.random.default_rng(seed)
    side = round(np.sqrt(n_nodes))
    jx = rng.uniform(-JITTER_M, JITTER_M, (side, side))
    jy = rng.uniform(-JITTER_M, JITTER_M, (side, side))
    ii, jj = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    px = X0 + ii * BLOCK_M + jx
    py = Y0 + jj * BLOCK_M + jy
    node = ii * side + jj
    flat_x, flat_y = px.ravel(), py.ravel()
    horiz = np.c_[node[:-1, :].ravel(), node[1:, :].ravel()]
    vert = np.c_[node[:, :-1].ravel(), node[:, 1:].ravel()]
    pairs = np.r_[horiz, vert]
    pairs = pairs[rng.random(len(pairs)) >= REMOVED]  # removed segments
    cells = node[:-1, :-1].ravel()
    diag_cells = cells[rng.random(len(cells)) < DIAGONAL]
    pairs = np.r_[pairs, np.c_[diag_cells, diag_cells + side + 1]]  # diagonals
    a = np.c_[flat_x[pairs[:, 0]], flat_y[pairs[:, 0]]]
    b = np.c_[flat_x[pairs[:, 1]], flat_y[pairs[:, 1]]]
    mid = (a + b) / 2 + rng.uniform(-4, 4, a.shape)
    kinked = rng.random(len(pairs)) < KINKED
    straight = shapely.linestrings(np.stack([a, b], axis=1)[~kinked])
    bent = shapely.linestrings(np.stack([a, mid, b], axis=1)[kinked])
    lines = np.empty(len(pairs), dtype=object)
    lines[~kinked], lines[kinked] = straight, bent
    streets = gpd.GeoDataFrame(
        {"highway": rng.choice(["residential", "footway", "service", "tertiary"], len(pairs))},
        geometry=lines,
        crs=CRS,
    )

    # communities: blocks drawn with a Gaussian density around the centre (sd = side / 8), without
    # replacement via the Gumbel top-k trick; 1 - 2 % of the blocks at the edge, most in the core
    ci, cj = np.divmod(np.arange(len(cells)), side - 1)
    r2 = ((ci - side / 2) ** 2 + (cj - side / 2) ** 2) / (side / 8) ** 2
    keys = -r2 / 2 + rng.gumbel(size=len(cells))
    chosen = np.sort(np.argpartition(-keys, min(n_communities, len(cells)) - 1)[:n_communities])
    ci, cj = chosen // (side - 1), chosen % (side - 1)
    cx = X0 + (ci + 0.5) * BLOCK_M + rng.uniform(-4, 4, len(chosen))
    cy = Y0 + (cj + 0.5) * BLOCK_M + rng.uniform(-4, 4, len(chosen))
    half = rng.uniform(20, 33, len(chosen))
    households = rng.integers(40, 1500, len(chosen))
    communities = gpd.GeoDataFrame(
        {
            "community_id": [f"C{k:07d}" for k in range(len(chosen))],
            "name": [f"小区{k}" for k in range(len(chosen))],
            "households": households,
            "population": (households * rng.uniform(2.2, 3.1, len(chosen))).round().astype(int),
        },
        geometry=shapely.box(cx - half, cy - half, cx + half, cy + half),
        crs=CRS,
    )

    scale = n_nodes / 1_000_000
    types = np.repeat(list(FACILITIES), [max(10, round(c * scale)) for c in FACILITIES.values()])
    extent = (side - 1) * BLOCK_M
    near = rng.random(len(types)) < NEAR_COMMUNITIES  # the rest anywhere in the city
    host = rng.integers(0, len(chosen), len(types))
    fx = np.where(
        near, cx[host] + rng.normal(0, 250, len(types)), X0 + rng.uniform(0, extent, len(types))
    )
    fy = np.where(
        near, cy[host] + rng.normal(0, 250, len(types)), Y0 + rng.uniform(0, extent, len(types))
    )
    facilities = gpd.GeoDataFrame(
        {"facility_id": [f"F{k:06d}" for k in range(len(types))], "type": types},
        geometry=shapely.points(fx, fy),
        crs=CRS,
    )
    return streets, communities, facilities


def run_size(n_nodes: int, n_communities: int, seed: int) -> Result:
    import logging  # noqa: PLC0415

    from gisplan import access, gaps, network  # noqa: PLC0415

    logging.disable(logging.INFO)
    t = time.perf_counter()
    streets, communities, facilities = make_city(n_nodes, n_communities, seed)
    gen_s = time.perf_counter() - t
    after_data = rss_mb()
    times: dict[str, float] = {}

    t = time.perf_counter()
    graph = network.build_graph(streets)
    times["graph"] = time.perf_counter() - t

    t = time.perf_counter()
    origins = access.community_origins(communities, graph)
    times["origins"] = time.perf_counter() - t

    t = time.perf_counter()
    dist = access.nearest_facilities(graph, origins, facilities)
    times["distances"] = time.perf_counter() - t

    t = time.perf_counter()
    table = gaps.gap_table(dist, communities)
    coverage = gaps.coverage_by_type(table)
    times["gaps"] = time.perf_counter() - t

    return {
        "nodes": graph.n_nodes,
        "edges": graph.n_edges,
        "components": int(graph.component.max()) + 1,
        "streets": len(streets),
        "communities": len(communities),
        "origins": len(origins),
        "origin_sources": origins["origin_source"].value_counts().to_dict(),
        "facilities": len(facilities),
        "rows": len(table),
        "unreachable": int(dist["dist_m"].isna().sum()),
        "coverage": coverage[["type", "radius_m", "share_communities", "share_population"]],
        "gen_s": gen_s,
        "after_data_mb": after_data,
        "times": times,
    }


def child(n_nodes: int, n_communities: int, seed: int, out: str) -> None:
    result = run_size(n_nodes, n_communities, seed)
    result["peak_mb"] = rss_mb()
    Path(out).write_bytes(pickle.dumps(result))


def isolated(n_nodes: int, n_communities: int, seed: int, tmp: str) -> Result:
    out = str(Path(tmp) / f"{n_nodes}.pkl")
    proc = mp.get_context("spawn").Process(target=child, args=(n_nodes, n_communities, seed, out))
    proc.start()
    proc.join()
    if proc.exitcode != 0:
        return {"error": f"exit code {proc.exitcode}"}
    result: Result = pickle.loads(Path(out).read_bytes())  # noqa: S301 - our own file
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", type=int, default=1_000_000)
    parser.add_argument("--communities", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-growth", action="store_true", help="only the full size")
    parser.add_argument("--repeat", type=int, default=1, help="best of N runs per size")
    args = parser.parse_args()

    sizes = [args.nodes] if args.no_growth else [args.nodes // 100, args.nodes // 10, args.nodes]
    ratio = args.communities / args.nodes
    results: list[Result] = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            runs = [
                isolated(n, max(10, round(n * ratio)), args.seed, tmp) for _ in range(args.repeat)
            ]
            ok_runs = [r for r in runs if "error" not in r]
            r = min(ok_runs, key=lambda r: sum(r["times"].values())) if ok_runs else runs[0]
            results.append(r)
            if "error" in r:
                print(f"{n:,} nodes: {r['error']}")
                continue
            total = sum(r["times"].values())
            print(
                f"{r['nodes']:,} nodes, {r['edges']:,} edges ({r['components']:,} components), "
                f"{r['communities']:,} communities -> {r['origins']:,} origins "
                f"{r['origin_sources']}, {r['facilities']:,} facilities of 12 types, "
                f"{r['rows']:,} gap rows ({r['unreachable']:,} unreachable)"
            )
            print(
                "  "
                + "  ".join(f"{s} {r['times'][s]:6.2f} s" for s in STAGES)
                + f"  | total {total:6.2f} s  peak {r['peak_mb']:,.0f} MB"
                f" (after data {r['after_data_mb']:,.0f} MB; generating {r['gen_s']:.1f} s)"
            )
    print()
    print(f"best of {args.repeat} per size (least total time), each run in a fresh process")
    print(f"{'nodes':>10}" + "".join(f"{s:>11}" for s in STAGES) + f"{'total':>9}{'µs/node':>9}")
    for r in results:
        if "error" in r:
            continue
        total = sum(r["times"].values())
        cells = "".join(f"{r['times'][s]:10.2f}s" for s in STAGES)
        print(f"{r['nodes']:>10,}{cells}{total:8.2f}s{total / r['nodes'] * 1e6:9.1f}")
    ok = [r for r in results if "error" not in r]
    if not ok:
        return
    big = ok[-1]
    print()
    print("coverage at the largest size (share of communities / residents within the radius):")
    print(big["coverage"].to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    total = sum(big["times"].values())
    per_node = [sum(r["times"].values()) / r["nodes"] * 1e6 for r in ok]
    growth = f" growth_us_per_node={'/'.join(f'{v:.1f}' for v in per_node)}" if len(ok) > 1 else ""
    print()
    print(
        f"nodes={big['nodes']} communities={big['communities']} total_s={total:.1f} "
        + " ".join(f"{s}_s={big['times'][s]:.1f}" for s in STAGES)
        + f" peak_mb={big['peak_mb']:.0f}{growth}"
    )


if __name__ == "__main__":
    main()
