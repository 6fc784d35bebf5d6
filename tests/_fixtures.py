"""Small hand-checkable layers shared by the scenario, runner and CLI tests."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
from shapely.geometry import LineString, Point, box

#: CGCS2000 / 3-degree Gauss-Kruger CM 117E; x offset 500 km, a point near 117E 35N.
CRS = "EPSG:4548"
X0, Y0 = 500_000.0, 3_875_000.0


def communities() -> gpd.GeoDataFrame:
    """Three 100 m squares at x = 0, 200, 400 (relative to X0, Y0)."""
    return gpd.GeoDataFrame(
        {
            "community_id": ["c1", "c2", "c3"],
            "name": ["幸福里小区", "纺织厂宿舍", "建设路12号院"],
            "built_year": [1985, 1998, 2003],
            "households": [120, 300, 80],
        },
        geometry=[box(X0 + x, Y0, X0 + x + 100, Y0 + 100) for x in (0, 200, 400)],
        crs=CRS,
    )


def facilities() -> gpd.GeoDataFrame:
    """A kindergarten at (50, 50) and a primary school at (450, 150)."""
    return gpd.GeoDataFrame(
        {"facility_id": ["f1", "f2"], "type": ["kindergarten", "primary_school"]},
        geometry=[Point(X0 + 50, Y0 + 50), Point(X0 + 450, Y0 + 150)],
        crs=CRS,
    )


def write_project(folder: Path, *, communities_gdf: gpd.GeoDataFrame | None = None) -> Path:
    """Write a GeoPackage with both layers and a scenario YAML; return the YAML path."""
    folder.mkdir(parents=True, exist_ok=True)
    gpkg = folder / "小区.gpkg"
    (communities() if communities_gdf is None else communities_gdf).to_file(
        gpkg, layer="communities"
    )
    facilities().to_file(gpkg, layer="facilities")
    yaml_path = folder / "t.yaml"
    yaml_path.write_text(
        "name: t\n"
        "layers:\n"
        "  communities: 小区.gpkg\n"
        "  facilities: {path: 小区.gpkg, layer: facilities}\n",
        encoding="utf-8",
    )
    return yaml_path


def write_access_project(folder: Path) -> Path:
    """The three squares, a street 10 m south of them, one gate each on the south side."""
    yaml_path = write_project(folder)
    gpkg = folder / "小区.gpkg"
    x0, y0 = X0, Y0
    gpd.GeoDataFrame(
        {"highway": ["residential"]},
        geometry=[LineString([(x0 - 100, y0 - 10), (x0 + 600, y0 - 10)])],
        crs="EPSG:4548",
    ).to_file(gpkg, layer="network")
    gpd.GeoDataFrame(
        {"community_id": ["c1", "c2", "c3"]},
        geometry=[Point(x0 + 50, y0), Point(x0 + 250, y0), Point(x0 + 450, y0)],
        crs="EPSG:4548",
    ).to_file(gpkg, layer="entrances")
    yaml_path.write_text(
        "name: t\nlayers:\n  communities: 小区.gpkg\n  facilities: 小区.gpkg\n"
        "  network: 小区.gpkg\n  entrances: 小区.gpkg\n"
        "access: {types: [kindergarten, primary_school]}\n",
        encoding="utf-8",
    )
    return yaml_path


# --------------------------------------------------------------------------- bundles


def boxes(xs: list[float], width: float = 100.0) -> list[object]:
    return [box(X0 + x, Y0, X0 + x + width, Y0 + 100) for x in xs]


def bundle_layers(
    communities: dict[str, float],
    projects: dict[str, tuple[float, float]],
    xs: dict[str, float],
    *,
    adjacent_only: dict[str, bool] | None = None,
    extra: dict[str, dict[str, object]] | None = None,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, pd.Series]:
    """Communities (id -> need) and projects (id -> (cost, revenue)) as 100 m squares at xs."""
    cids, pids = list(communities), list(projects)
    com = gpd.GeoDataFrame(
        {"community_id": cids, **{k: [v[c] for c in cids] for k, v in (extra or {}).items()}},
        geometry=boxes([xs[c] for c in cids]),
        crs=CRS,
    )
    pro = gpd.GeoDataFrame(
        {
            "project_id": pids,
            "cost_wan_yuan": [projects[p][0] for p in pids],
            "revenue_wan_yuan": [projects[p][1] for p in pids],
            "adjacent_only": [(adjacent_only or {}).get(p, False) for p in pids],
            **{k: [v.get(p) for p in pids] for k, v in (extra or {}).items()},
        },
        geometry=boxes([xs[p] for p in pids]),
        crs=CRS,
    )
    return com, pro, pd.Series(communities, dtype="float64")


def line_layers() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, pd.Series]:
    """C1 - P1 - C2 - C3 - P2 in a row, 20 m streets between the 100 m squares.

    Needs C1 50, C2 30, C3 40; surpluses P1 160 - 100 = 60, P2 55 - 10 = 45.
    """
    xs = {"C1": 0, "P1": 120, "C2": 240, "C3": 360, "P2": 480}
    return bundle_layers(
        {"C1": 50.0, "C2": 30.0, "C3": 40.0}, {"P1": (100.0, 160.0), "P2": (10.0, 55.0)}, xs
    )
