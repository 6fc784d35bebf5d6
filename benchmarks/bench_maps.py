"""Benchmark: offline gisplan map vs ``GeoDataFrame.explore()`` — file size and build time.

Seeded synthetic layers in EPSG:4548 (CGCS2000 3° GK, near 117°E 35°N):

- **5k**: 5,000 community polygons (Voronoi cells of seeded random points, clipped to a
  10 km square, so neighbours share boundaries) with an eligibility status, a gap score and a
  name, plus 2,000 facilities of ten types;
- **50k**: 50,000 community polygons the same way (the map switches to canvas rendering).

For each case, one run, same layer(s):

- **gisplan**: ``maps.explore(layers, "overview", basemap="osm")`` + ``maps.save(offline=True)``
  (one HTML file with every asset embedded);
- **geopandas**: ``communities.explore(column="status")`` with the facilities added by
  ``facilities.explore(m=...)``, saved with ``Map.save`` (assets stay on CDNs: the file is not
  offline; a fair offline comparison would add the same ~0.9 MB of assets to it).

Time is wall time of build + write, best of ``--repeat`` runs; size is the file on disk.
Run by hand: ``python benchmarks/bench_maps.py [--repeat 3] [--cases 5k,50k]``; figures go
to the issue note. No network access.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gisplan import maps

X0, Y0 = 500_000.0, 3_875_000.0
SIDE = 10_000.0
TYPES = (
    "kindergarten", "primary_school", "bus_stop", "convenience_store", "public_toilet",
    "community_health_station", "elderly_day_care", "fresh_market", "outdoor_fitness",
    "garbage_collection_point",
)  # fmt: skip
STATUS = ("eligible", "eligible_waiting_consent", "not_eligible", "unknown")


def synthetic(n_communities: int, n_facilities: int, seed: int = 0) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    pts = shapely.points(
        rng.uniform(X0, X0 + SIDE, n_communities), rng.uniform(Y0, Y0 + SIDE, n_communities)
    )
    frame = shapely.box(X0, Y0, X0 + SIDE, Y0 + SIDE)
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(pts), extend_to=frame))
    cells = shapely.intersection(cells, frame)
    cells = cells[
        np.argsort(
            shapely.get_x(shapely.centroid(cells)) * 1e6 + shapely.get_y(shapely.centroid(cells))
        )
    ]
    ids = [f"C{i:05d}" for i in range(len(cells))]
    communities = gpd.GeoDataFrame(
        {"community_id": ids, "name": [f"幸福里{i}号院" for i in range(len(cells))],
         "households": rng.integers(50, 900, len(cells))},
        geometry=cells, crs=4548,
    )  # fmt: skip
    facilities = gpd.GeoDataFrame(
        {"facility_id": [f"F{i:05d}" for i in range(n_facilities)],
         "type": rng.choice(TYPES, n_facilities),
         "name": [f"设施{i}" for i in range(n_facilities)]},
        geometry=shapely.points(rng.uniform(0, SIDE, (n_facilities, 2)) + np.array([X0, Y0])),
        crs=4548,
    )  # fmt: skip
    eligibility = pd.DataFrame({"community_id": ids, "status": rng.choice(STATUS, len(ids))})
    gaps = pd.DataFrame({"community_id": ids, "gap_score": rng.uniform(0, 1, len(ids)).round(3)})
    return {"communities": communities, "facilities": facilities, "eligibility": eligibility,
            "community_gaps": gaps}  # fmt: skip


def run_gisplan(layers: dict[str, pd.DataFrame], out: Path) -> float:
    start = time.perf_counter()
    m = maps.explore(layers, "overview", basemap="osm")
    maps.save(m, out, offline=True)
    return time.perf_counter() - start


def run_geopandas(layers: dict[str, pd.DataFrame], out: Path) -> float:
    start = time.perf_counter()
    comm = layers["communities"].merge(layers["eligibility"], on="community_id")
    m = comm.explore(column="status", tooltip=["community_id", "name", "status"])
    layers["facilities"].explore(m=m, color="black")
    m.save(str(out))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cases", default="5k,50k")
    args = parser.parse_args()
    cases = {"5k": (5_000, 2_000), "50k": (50_000, 2_000)}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for case in args.cases.split(","):
            n_comm, n_fac = cases[case]
            layers = synthetic(n_comm, n_fac)
            figures = {}
            for tool, fn in (("gisplan", run_gisplan), ("geopandas", run_geopandas)):
                out = Path(tmp) / f"{case}_{tool}.html"
                best = min(fn(layers, out) for _ in range(args.repeat))
                figures[tool] = (best, out.stat().st_size)
            (tg, sg), (tp, sp) = figures["gisplan"], figures["geopandas"]
            rows.append((case, n_comm, n_fac, tg, sg, tp, sp))
    print(
        "| case | communities | facilities | gisplan s | gisplan MB (offline) "
        "| explore() s | explore() MB (CDN assets) | time ratio | size ratio |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for case, n_comm, n_fac, tg, sg, tp, sp in rows:
        print(f"| {case} | {n_comm:,} | {n_fac:,} | {tg:.2f} | {sg / 1e6:.2f} | {tp:.2f} "
              f"| {sp / 1e6:.2f} | {tg / tp:.2f} | {sg / sp:.2f} |")  # fmt: skip


if __name__ == "__main__":
    main()
