"""Benchmark: reading + validating a city-sized communities layer, and GCJ-02 conversion.

Anchors, measured in the same run:
- ``geopandas.read_file`` of the same GeoPackage (what a planner does without gisplan), so the
  ratio is the price of gisplan's full validation (aliases, dtypes, ranges, ids, geometry
  repair, CRS plausibility, overlaps);
- ``pyproj`` WGS84 → CGCS2000 GK reprojection of the same points, for the GCJ-02 round trip.

Run by hand: ``python benchmarks/bench_layers.py [--n 100000]``; results go to
benchmarks/README.md. Data are synthetic and seeded.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pyproj
from shapely import box

import gisplan
from gisplan import crs as gcrs

if TYPE_CHECKING:
    from collections.abc import Callable


def make_communities(n: int, seed: int = 0) -> gpd.GeoDataFrame:
    """``n`` 80 m squares on a 100 m grid (EPSG:4548), Chinese headers, a few bad rows."""
    rng = np.random.default_rng(seed)
    side = int(np.ceil(np.sqrt(n)))
    i = np.arange(n)
    x0 = 560_000 + (i % side) * 100.0
    y0 = 3_860_000 + (i // side) * 100.0
    households = rng.integers(40, 1500, n)
    return gpd.GeoDataFrame(
        {
            "小区编号": [f"C{k:06d}" for k in i],
            "小区名称": [f"小区{k}" for k in i],
            "建成年代": rng.integers(1975, 2016, n),
            "户数": households,
            "建筑面积（m²）": households * rng.uniform(55, 95, n),
            "居民参与率": rng.uniform(40, 100, n).round(1),
        },
        geometry=box(x0, y0, x0 + 80, y0 + 80),
        crs="EPSG:4548",
    )


def timed(fn: Callable[[], object], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--points", type=int, default=1_000_000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "communities.gpkg"
        make_communities(args.n).to_file(path, layer="communities")
        t_anchor = timed(lambda: gpd.read_file(path))
        t_gisplan = timed(lambda: gisplan.read_layer(path, "communities"))
    print(f"communities: {args.n:,} polygons")
    print(f"  geopandas.read_file        {t_anchor:7.2f} s")
    print(f"  gisplan.read_layer (valid) {t_gisplan:7.2f} s   ratio {t_gisplan / t_anchor:.2f}x")

    rng = np.random.default_rng(1)
    lon = rng.uniform(110, 122, args.points)
    lat = rng.uniform(25, 40, args.points)
    to_gk = pyproj.Transformer.from_crs(4326, 4548, always_xy=True)
    t_proj = timed(lambda: to_gk.transform(lon, lat))
    t_fwd = timed(lambda: gcrs.wgs84_to_gcj02(lon, lat))
    glon, glat = gcrs.wgs84_to_gcj02(lon, lat)
    t_inv = timed(lambda: gcrs.gcj02_to_wgs84(glon, glat))
    back = gcrs.gcj02_to_wgs84(glon, glat)
    err_m = float(np.max(np.hypot((back[0] - lon) * 111_320 * np.cos(np.radians(lat)),
                                  (back[1] - lat) * 110_950)))  # fmt: skip
    print(f"GCJ-02: {args.points:,} points")
    print(f"  pyproj WGS84 -> EPSG:4548  {t_proj:7.2f} s")
    print(f"  wgs84_to_gcj02             {t_fwd:7.2f} s   ratio {t_fwd / t_proj:.2f}x")
    print(f"  gcj02_to_wgs84 (iterated)  {t_inv:7.2f} s   ratio {t_inv / t_proj:.2f}x")
    print(f"  round-trip error max       {err_m * 1000:7.3f} mm")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory {peak_mb:,.0f} MB")


if __name__ == "__main__":
    main()
