"""Generate the SYNTHETIC demo district ``layers/demo.gpkg`` (示范县城关片区, not a real place).

A plausible county town of about 4 x 3 km in CGCS2000 / 3-degree Gauss-Kruger CM 117E
(EPSG:4548), centred near E117.9 N35.1: a walking network on a jittered street grid, a
meandering river crossed by three bridges, ~150 old residential communities (小区), life-circle
facilities with deliberate gaps, revenue projects, candidate sites and community gates.

Run from the repository root::

    python layers/make_demo.py                 # seed 20261123, writes layers/demo.gpkg
    python layers/make_demo.py --seed 7 --out /tmp/other.gpkg

All randomness comes from ``np.random.default_rng(seed)``; the same seed gives the same file.
The street grid is built in a straight "grid space" (x, v) with the river along v = 0 and then
bent by a smooth map so that streets near the river follow its meanders.
"""

from __future__ import annotations

import argparse
import math
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import Transformer
from shapely import ops
from shapely.geometry import LineString, Point, Polygon, box
from shapely.strtree import STRtree

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

CRS = "EPSG:4548"
CENTRE_LONLAT = (117.9, 35.1)
WIDTH_M, HEIGHT_M = 4000.0, 3000.0
V_SOUTH, V_NORTH = -1000.0, 2000.0
RIVER_ROAD_V = 70.0  # riverside roads run at v = +-70 m; the river half-width is <= 48 m
CORE = (1500.0, 2600.0, RIVER_ROAD_V, 750.0)  # old core (老城区) in grid space: x0, x1, v0, v1
NEW_AREA_X = 3000.0  # east of this, north of the river: the new area (新区)
KG_CORE_CLEARANCE_M = 380.0  # kindergartens kept at least this far from the old core
DEFAULT_SEED = 20261123
STREETS_ZH = ("城关街道", "东城街道", "滨河街道", "西关街道")
FIXED_DATE = "2026-01-01T00:00:00Z"
MIN_SITE_AREA_M2 = 800.0
GeomT = TypeVar("GeomT", bound=shapely.Geometry)

HIGHWAY_RANK = {
    "trunk": 0,
    "primary": 1,
    "secondary": 2,
    "tertiary": 3,
    "residential": 4,
    "service": 5,
    "footway": 6,
}

NS_NAMES = [
    "西环路",
    "振兴路",
    "育才路",
    "文化路",
    "解放路",
    "人民路",
    "建设路",
    "青年路",
    "东风路",
    "工业路",
    "东环路",
    "开发路",
    "新兴路",
]
EW_SOUTH_NAMES = ["南环路", "胜利街", "和平街", "光明街", "滨河南路"]
EW_NORTH_NAMES = ["滨河北路", "新华街", "民主街", "泰山路", "健康街", "幸福街", "北环路", "迎宾路"]
LANE_WORDS = "槐树 柳树 枣树 石榴 井台 后街 前街 钟楼 鼓楼 书院 文庙 马家 王家 李家 张家 刘家 "
LANE_WORDS += "赵家 陈家 孙家 周家 吴家 郑家 油坊 磨坊 染坊 粮店 盐店 仓库 北门 南门 东门 西门"
UNITS = [
    "纺织厂",
    "粮食局",
    "供销社",
    "棉纺厂",
    "化肥厂",
    "机械厂",
    "农机站",
    "水利局",
    "交通局",
    "税务局",
    "人民医院",
    "第一中学",
    "实验小学",
    "电业局",
    "邮电局",
    "食品公司",
    "百货公司",
    "酒厂",
    "印刷厂",
    "造纸厂",
    "建筑公司",
    "物资局",
    "商业局",
    "卫生局",
    "教育局",
    "公安局",
    "法院",
    "检察院",
    "农业局",
    "林业局",
    "氮肥厂",
    "糖厂",
    "玻璃厂",
    "水泥厂",
    "面粉厂",
    "油棉厂",
    "县委",
    "县政府",
    "自来水公司",
    "运输公司",
    "汽车站",
    "棉麻公司",
    "烟草公司",
    "外贸公司",
    "二轻局",
    "磷肥厂",
    "陶瓷厂",
]
ESTATE_WORDS = [
    "幸福",
    "和平",
    "阳光",
    "文化",
    "锦绣",
    "金色",
    "翠苑",
    "御景",
    "东方",
    "滨河",
    "泰和",
    "兴华",
    "福泰",
    "安居",
    "康乐",
    "康居",
    "鑫源",
    "盛世",
    "华府",
    "怡和",
    "瑞祥",
    "丰泽",
    "润园",
    "紫荆",
    "桂花",
    "玉兰",
    "银河",
    "明珠",
    "龙湾",
    "凤凰",
    "新城",
    "广厦",
    "祥和",
    "德馨",
    "嘉禾",
    "春晖",
    "景苑",
    "富源",
    "荣华",
    "金桥",
]
ESTATE_SUFFIX = ("里小区", "苑", "花园", "家园", "新村", "小区", "公寓", "嘉园", "名居", "雅居")


@dataclass
class River:
    """Meander and width of the river, as smooth functions of x (grid space, metres)."""

    phases: np.ndarray

    def centre(self, x: np.ndarray) -> np.ndarray:
        """Return the river centre-line offset (m) at ``x``."""
        p = self.phases
        return 60.0 * np.sin(2 * math.pi * x / 1700.0 + p[0]) + 25.0 * np.sin(
            2 * math.pi * x / 900.0 + p[1]
        )

    def width(self, x: np.ndarray) -> np.ndarray:
        """Return the river width (m, measured along v) at ``x``; between 72 and 96 m."""
        return 84.0 + 12.0 * np.sin(2 * math.pi * x / 1300.0 + self.phases[2])


@dataclass
class Town:
    """Everything generated in grid space, before it is bent and written."""

    river: River
    origin: tuple[float, float]
    lines: list[dict[str, Any]] = field(default_factory=list)
    blocks: list[dict[str, Any]] = field(default_factory=list)

    def to_world(self, geom: GeomT) -> GeomT:
        """Bend a grid-space geometry into EPSG:4548 coordinates rounded to 0.01 m."""
        river = self.river
        ox, oy = self.origin

        def fn(xy: np.ndarray) -> np.ndarray:
            x, v = xy[:, 0], xy[:, 1]
            fade = np.clip(1.0 - (np.abs(v) - 150.0) / 750.0, 0.0, 1.0)
            y = v + river.centre(x) * fade - V_SOUTH
            return np.round(np.column_stack([x + ox, y + oy]), 2)

        return shapely.transform(shapely.segmentize(geom, 20.0), fn)


def region_of(x: float, v: float) -> str:
    """Name the part of town a grid-space point is in."""
    x0, x1, v0, v1 = CORE
    if x0 <= x <= x1 and v0 <= v <= v1:
        return "core"
    if v < 0:
        return "south"
    if x >= NEW_AREA_X:
        return "new"
    if x < 1200:  # noqa: PLR2004 - western edge of the middle ring
        return "west"
    return "middle"


def street_office(x: float, v: float) -> str:
    """Return the 街道 (sub-district) of a grid-space point."""
    if v < 0:
        return "滨河街道"
    if x < 1200:  # noqa: PLR2004
        return "西关街道"
    if x >= 2800:  # noqa: PLR2004
        return "东城街道"
    return "城关街道"


def steps(rng: np.random.Generator, start: float, stop: float, lo: float, hi: float) -> list[float]:
    """Return positions from ``start`` towards ``stop`` with random steps in ``[lo, hi]``."""
    sign = 1.0 if stop > start else -1.0
    out = [start]
    while abs(stop - out[-1]) > hi + lo / 2:
        out.append(out[-1] + sign * float(rng.uniform(lo, hi)))
    out.append(stop)
    return out


def add_line(town: Town, coords: list[tuple[float, float]], highway: str, **tags: str) -> None:
    """Record a source street line in grid space with its OSM-like tags."""
    town.lines.append(
        {
            "geometry": LineString(coords),
            "highway": highway,
            "name": tags.get("name"),
            "foot": tags.get("foot"),
            "access": tags.get("access"),
        }
    )


def build_main_grid(town: Town, rng: np.random.Generator) -> list[Polygon]:  # noqa: C901, PLR0912
    """Lay out the jittered grid of main streets and bridges; return the superblocks."""
    xs = steps(rng, 0.0, WIDTH_M, 330.0, 470.0)
    south = steps(rng, -RIVER_ROAD_V, V_SOUTH, 280.0, 380.0)[::-1]
    north = steps(rng, RIVER_ROAD_V, V_NORTH, 260.0, 360.0)
    vs = south + north
    j_s, j_n = len(south) - 1, len(south)
    nx, nv = len(xs), len(vs)
    jx = rng.uniform(-25.0, 25.0, (nx, nv))
    jv = rng.uniform(-20.0, 20.0, (nx, nv))
    jx[[0, -1], :] = 0.0
    jv[:, [0, j_s, j_n, -1]] = 0.0
    node = np.empty((nx, nv, 2))
    for i in range(nx):
        for j in range(nv):
            node[i, j] = (xs[i] + jx[i, j], vs[j] + jv[i, j])
    bridges = sorted({int(np.argmin(np.abs(np.array(xs) - bx))) for bx in (1150, 2150, 3300)})
    bridge_names = dict(zip(bridges, ("西关桥", "人民桥", "东城桥"), strict=True))
    ns_names = NS_NAMES[:nx]
    for i in range(nx):
        col = [tuple(node[i, j]) for j in range(nv)]
        if i in (0, nx - 1):
            hw = "secondary"
        elif i in bridges:
            hw = "primary"
        else:
            hw = ("secondary", "tertiary")[i % 2]
        if i in bridges:
            add_line(town, col[: j_s + 1], hw, name=ns_names[i])
            add_line(town, col[j_s : j_n + 1], hw, name=bridge_names[i])
            add_line(town, col[j_n:], hw, name=ns_names[i])
        else:
            add_line(town, col[: j_s + 1], hw, name=ns_names[i])
            add_line(town, col[j_n:], hw, name=ns_names[i])
    ew_names = EW_SOUTH_NAMES[-len(south) :] + EW_NORTH_NAMES[: len(north)]
    trunk_from = int(np.argmin(np.abs(np.array(xs) - 2500.0)))
    for j in range(nv):
        row = [tuple(node[i, j]) for i in range(nx)]
        if j == 0:  # southern ring: its eastern part is an expressway closed to pedestrians
            add_line(town, row[: trunk_from + 1], "secondary", name=ew_names[j])
            add_line(town, row[trunk_from:], "trunk", name="南外环快速路", foot="no")
            continue
        if j in (j_s, j_n):
            hw = "secondary"
        elif j == j_n + 2:
            hw = "primary"
        else:
            hw = ("tertiary", "secondary")[j % 2]
        add_line(town, row, hw, name=ew_names[j])
    superblocks = []
    for i in range(nx - 1):
        for j in range(nv - 1):
            if j == j_s:
                continue
            quad = [node[i, j], node[i + 1, j], node[i + 1, j + 1], node[i, j + 1]]
            superblocks.append(Polygon([tuple(p) for p in quad]))
    return superblocks


def split_once(
    poly: Polygon, rng: np.random.Generator, *, crooked: bool
) -> tuple[list[Polygon], LineString] | None:
    """Split a block across its longer side by a (possibly crooked) street; None if it fails."""
    minx, miny, maxx, maxy = poly.bounds
    t = float(rng.uniform(0.38, 0.62))
    n_mid = 2 if crooked else 0
    wobble = 9.0 if crooked else 0.0
    if maxx - minx >= maxy - miny:
        xm = minx + t * (maxx - minx)
        ys = np.linspace(miny - 20, maxy + 20, n_mid + 2)
        xs = xm + rng.uniform(-12.0, 12.0, n_mid + 2) * (1 if crooked else 0.6)
        xs[1:-1] += rng.uniform(-wobble, wobble, n_mid)
        cut = LineString(np.column_stack([xs, ys]))
    else:
        vm = miny + t * (maxy - miny)
        xs = np.linspace(minx - 20, maxx + 20, n_mid + 2)
        ys = vm + rng.uniform(-12.0, 12.0, n_mid + 2) * (1 if crooked else 0.6)
        ys[1:-1] += rng.uniform(-wobble, wobble, n_mid)
        cut = LineString(np.column_stack([xs, ys]))
    pieces = [g for g in shapely.get_parts(ops.split(poly, cut)) if g.geom_type == "Polygon"]
    inner = cut.intersection(poly)
    if len(pieces) != 2 or inner.geom_type != "LineString":  # noqa: PLR2004
        return None
    if min(p.area for p in pieces) < 0.3 * poly.area:
        return None
    return pieces, inner


def subdivide(
    town: Town, superblock: Polygon, rng: np.random.Generator, lane_names: list[str]
) -> None:
    """Cut a superblock into blocks by residential streets, alleys and old-core lanes."""
    c = superblock.centroid
    region = region_of(c.x, c.y)
    target = {"core": 13000.0, "middle": 60000.0, "west": 70000.0, "south": 66000.0}.get(
        region, 80000.0
    )
    stack = [(superblock, 0)]
    while stack:
        poly, level = stack.pop()
        pc = poly.centroid
        reg = region_of(pc.x, pc.y)
        if poly.area < target * float(rng.uniform(0.9, 1.7)) or level > 4:  # noqa: PLR2004
            town.blocks.append({"geom": poly, "region": reg, "x": pc.x, "v": pc.y})
            continue
        res = split_once(poly, rng, crooked=reg == "core")
        if res is None:
            town.blocks.append({"geom": poly, "region": reg, "x": pc.x, "v": pc.y})
            continue
        pieces, street = res
        coords = list(street.coords)
        if reg == "core":
            hw = "residential" if level == 0 else "footway"
            name = lane_names.pop() if lane_names else None
            add_line(town, coords, hw, name=name)
        elif level == 0:
            add_line(town, coords, "residential", name=lane_names.pop() if lane_names else None)
        else:
            add_line(town, coords, ("residential", "service")[int(rng.integers(0, 2))])
        stack.extend((p, level + 1) for p in pieces)


def long_edges(poly: Polygon) -> list[tuple[np.ndarray, np.ndarray]]:
    """Return the exterior edges of a block longer than 40 m, longest first."""
    pts = np.asarray(poly.exterior.coords)
    edges = [(pts[k], pts[k + 1]) for k in range(len(pts) - 1)]
    edges = [e for e in edges if np.hypot(*(e[1] - e[0])) > 40]  # noqa: PLR2004
    return sorted(edges, key=lambda e: -float(np.hypot(*(e[1] - e[0]))))


def add_internal_roads(town: Town, block: dict[str, Any], rng: np.random.Generator) -> None:
    """Add compound roads: dead-end service roads from the street inward, a through path."""
    poly: Polygon = block["geom"]
    edges = long_edges(poly)
    if not edges:
        return
    cen = np.array([poly.centroid.x, poly.centroid.y])
    n_dead = 1 + int(poly.area > 15000) + int(poly.area > 40000) + int(rng.random() < 0.4)  # noqa: PLR2004
    core = block["region"] == "core"
    for k in range(min(n_dead, len(edges))):
        a, b = edges[k]
        start = a + float(rng.uniform(0.3, 0.7)) * (b - a)
        end = start + float(rng.uniform(0.35, 0.55)) * (cen - start)
        end = end + rng.uniform(-8.0, 8.0, 2)
        mid = (start + end) / 2 + rng.uniform(-4.0, 4.0, 2)
        hw = "footway" if core and rng.random() < 0.6 else "service"  # noqa: PLR2004
        add_line(town, [tuple(start), tuple(mid), tuple(end)], hw)
    if poly.area > 25000 and len(edges) >= 2:  # noqa: PLR2004 - a path through big compounds
        a, b = edges[0]
        p = a + 0.5 * (b - a)
        far = max(edges[1:], key=lambda e: float(np.hypot(*((e[0] + e[1]) / 2 - p))))
        q = far[0] + float(rng.uniform(0.4, 0.6)) * (far[1] - far[0])
        inner = LineString([tuple(p), tuple(q)])
        if inner.within(poly.buffer(0.05)):
            add_line(
                town, [tuple(p), tuple((p + q) / 2 + rng.uniform(-6, 6, 2)), tuple(q)], "footway"
            )


def node_network(town: Town) -> gpd.GeoDataFrame:
    """Split every street at its intersections, carry tags over and bend into EPSG:4548."""
    src = [ln["geometry"] for ln in town.lines]
    parts = shapely.get_parts(shapely.union_all(src, grid_size=0.01))
    tree = STRtree(src)
    rows = []
    for part in parts:
        probe = part.interpolate(0.5, normalized=True)
        hits = tree.query(probe, predicate="dwithin", distance=0.05)
        if len(hits) == 0:
            hits = np.array([int(tree.nearest(probe))])
        best = min(hits, key=lambda h: (HIGHWAY_RANK[town.lines[h]["highway"]], h))
        tags = town.lines[int(best)]
        geom = shapely.simplify(town.to_world(part), 0.02)
        rows.append(
            {k: tags[k] for k in ("highway", "name", "foot", "access")} | {"geometry": geom}
        )
    gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs=CRS)
    mid = gdf.geometry.interpolate(0.5, normalized=True)
    gdf = gdf.assign(_x=mid.x.round(2), _y=mid.y.round(2))
    return (
        gdf.sort_values(["_y", "_x"], kind="stable")
        .drop(columns=["_x", "_y"])
        .reset_index(drop=True)
    )


def unique_name(make: Callable[[], str], used: set[str]) -> str:
    """Draw names from ``make()`` until one is not in ``used``."""
    for _ in range(200):
        name = make()
        if name not in used:
            used.add(name)
            return str(name)
    msg = "could not draw a unique name"
    raise RuntimeError(msg)


def pick(rng: np.random.Generator, seq: Sequence[str]) -> str:
    """Pick one element of ``seq``."""
    return seq[int(rng.integers(0, len(seq)))]


def rect(cx: float, cy: float, w: float, h: float) -> Polygon:
    """Axis-aligned rectangle centred on (cx, cy), coordinates rounded to 0.01 m."""
    return box(
        round(cx - w / 2, 2), round(cy - h / 2, 2), round(cx + w / 2, 2), round(cy + h / 2, 2)
    )


def random_point_in(poly: shapely.Geometry, rng: np.random.Generator) -> Point:
    """Uniform random point inside a polygon (rejection sampling)."""
    minx, miny, maxx, maxy = poly.bounds
    for _ in range(1000):
        p = Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
        if poly.contains(p):
            return p
    return poly.representative_point()


def make_town(seed: int) -> dict[str, gpd.GeoDataFrame | pd.DataFrame]:  # noqa: C901, PLR0912, PLR0915
    """Generate every layer of the demo district for ``seed``."""
    rng = np.random.default_rng(seed)
    to_gk = Transformer.from_crs("EPSG:4490", CRS, always_xy=True)
    cx, cy = to_gk.transform(*CENTRE_LONLAT)
    town = Town(
        river=River(rng.uniform(0, 2 * math.pi, 3)),
        origin=(round(cx - WIDTH_M / 2, 2), round(cy - HEIGHT_M / 2, 2)),
    )
    lane_names = [w + s for w in LANE_WORDS.split() for s in ("胡同", "巷")]
    rng.shuffle(lane_names)
    for sb in build_main_grid(town, rng):
        subdivide(town, sb, rng, lane_names)
    town.blocks.sort(key=lambda b: (round(b["v"], 1), round(b["x"], 1)))

    # ---- river polygon ------------------------------------------------------------------
    xr = np.arange(-60.0, WIDTH_M + 61.0, 10.0)
    half = town.river.width(xr) / 2
    ring = [(x, h) for x, h in zip(xr, half, strict=True)]
    ring += [(x, -h) for x, h in zip(xr[::-1], half[::-1], strict=True)]
    river_world = town.to_world(Polygon(ring))
    river_world = shapely.simplify(river_world, 0.2)

    # ---- block uses: projects, public/vacant land, communities ------------------------------
    project_specs = [
        ("old_factory", (2780.0, 450.0), "县纺织厂旧厂区更新", 16800, 24500, False),
        ("shantytown", (1700.0, 150.0), "老城滨河棚户区改造", 9200, 11800, False),
        ("urban_village", (300.0, 1700.0), "王庄城中村改造", 21500, 29800, False),
        ("land_parcel", (4350.0, 1300.0), "东部新区经营性地块出让", 3500, 18600, False),
        ("building_conversion", (2300.0, 600.0), "老百货大楼改造", 2600, 3100, True),
        ("old_factory", (1500.0, -300.0), "县机械厂旧址开发", 12400, 17900, False),
        ("land_parcel", (3000.0, -1480.0), "南部片区商住地块", 4100, 15200, False),
        ("urban_village", (900.0, 1900.0), "李家庄城中村改造", 18300, 16900, False),
        ("land_parcel", (2200.0, 2330.0), "北部商业地块出让", 2800, 9600, False),
        ("shantytown", (350.0, -750.0), "西南棚户区改造", 7600, 6900, True),
    ]
    used: set[int] = set()
    block_xy = np.array([[b["x"], b["v"]] for b in town.blocks])
    projects: list[dict[str, Any]] = []
    for k, (kind, (px, pv), name, cost, revenue, adj) in enumerate(project_specs, start=1):
        row: dict[str, Any] = {
            "project_id": f"P{k:02d}",
            "kind": kind,
            "cost_wan_yuan": float(cost),
            "revenue_wan_yuan": float(revenue),
            "name": name,
            "adjacent_only": adj,
        }
        if not (0 <= px <= WIDTH_M and V_SOUTH <= pv <= V_NORTH):
            # far away: a parcel outside the district (cross-area pairing, 跨片区组合平衡)
            w, h = rng.uniform(200.0, 300.0, 2)
            j = rng.uniform(-10.0, 10.0, 4)
            quad = [
                (px, pv),
                (px + w, pv + j[0]),
                (px + w + j[1], pv + h),
                (px + j[2], pv + h + j[3]),
            ]
            row["geometry"] = shapely.set_precision(town.to_world(Polygon(quad)), 0.01)
        else:
            order = np.argsort(np.hypot(block_xy[:, 0] - px, block_xy[:, 1] - pv), kind="stable")
            bi = next(int(b) for b in order if int(b) not in used)
            used.add(bi)
            town.blocks[bi]["use"] = "project"
            row["block"] = bi
        projects.append(row)
    free = [i for i in range(len(town.blocks)) if i not in used]
    core_free = [i for i in free if town.blocks[i]["region"] == "core"]
    vacant = set(rng.choice(core_free, size=2, replace=False).tolist())
    others = [i for i in free if i not in vacant and town.blocks[i]["region"] != "core"]
    n_target = 150
    n_other = max(len(free) - len(vacant) - n_target, 12)
    vacant |= set(rng.choice(others, size=min(n_other, len(others)), replace=False).tolist())
    for i in free:
        town.blocks[i]["use"] = "vacant" if i in vacant else "community"
    # one community shares its boundary with a dangerous-housing project (touching)
    touching_block = next(
        i
        for i in free
        if town.blocks[i]["use"] == "community" and town.blocks[i]["region"] == "core"
    )

    for block in town.blocks:
        if block["use"] == "community":
            add_internal_roads(town, block, rng)
        elif block["use"] == "vacant" and block["geom"].area > 30000 and rng.random() < 0.5:  # noqa: PLR2004
            add_internal_roads(town, block, rng)  # park paths
    # a few cul-de-sacs and one private road through a compound
    network = node_network(town)
    network["foot"] = network["foot"].astype(object)
    network["access"] = network["access"].astype(object)

    # ---- communities ------------------------------------------------------------------------
    used_names: set[str] = set()
    main_streets = network[network["highway"].isin(["primary", "secondary", "tertiary"])]
    main_tree = STRtree(main_streets.geometry.to_numpy())
    comm_rows: list[dict[str, Any]] = []
    project_geoms: dict[int, Any] = {}
    for bi, block in enumerate(town.blocks):
        world = town.to_world(block["geom"])
        inset = float(rng.uniform(5.0, 9.0))
        poly = shapely.simplify(world.buffer(-inset, join_style="mitre"), 0.05)
        poly = shapely.set_precision(poly, 0.01)
        block["world"] = poly
        if block["use"] == "project":
            project_geoms[bi] = poly
            continue
        if block["use"] != "community":
            continue
        if bi == touching_block:
            a, b = poly.bounds[0], poly.bounds[2]
            cut_x = a + 0.62 * (b - a)
            left = shapely.set_precision(poly.intersection(box(a - 1, -1e9, cut_x, 1e9)), 0.01)
            right = shapely.set_precision(poly.difference(left), 0.01)
            poly = left
            projects.append(
                {
                    "project_id": "",
                    "kind": "dangerous_housing",
                    "cost_wan_yuan": 3900.0,
                    "revenue_wan_yuan": 3300.0,
                    "name": "钟楼街危旧房改造",
                    "adjacent_only": True,
                    "geometry": right,
                }
            )
        x, v, region = block["x"], block["v"], block["region"]
        dist_core = math.hypot(x - (CORE[0] + CORE[1]) / 2, max(v, 0) - RIVER_ROAD_V)
        if region == "core":
            year = int(rng.integers(1975, 1993))
        elif region == "new":
            year = int(rng.integers(2002, 2016))
        elif dist_core < 1300:  # noqa: PLR2004
            year = int(rng.integers(1982, 2004))
        else:
            year = int(rng.integers(1992, 2016))
        far = {"core": (0.7, 1.4)}.get(region, (0.7, 1.4) if year < 2000 else (1.0, 1.9))  # noqa: PLR2004
        area = poly.area
        households = int(np.clip(area * rng.uniform(*far) / rng.uniform(85, 110), 40, 1500))
        if region == "core" and rng.random() < 0.35:  # noqa: PLR2004 - single-building yards
            households = int(rng.integers(40, 120))
        floor_area = round(households * float(rng.uniform(55, 95)), 2)
        population = round(households * float(rng.uniform(2.3, 3.1)))
        buildings = max(1, round(floor_area / float(rng.uniform(2500, 6000))))
        owner = None
        r = rng.random()
        if year < 2000 and r < 0.45:  # noqa: PLR2004
            unit = pick(rng, UNITS)
            name = unique_name(
                lambda u=unit: u + pick(rng, ("宿舍", "家属院", "家属楼", "宿舍楼")), used_names
            )
            owner = unit if unit.startswith("县") else "县" + unit
        elif r < 0.6:  # noqa: PLR2004
            near = main_tree.nearest(Point(world.centroid))
            street = main_streets.iloc[int(near)]["name"] or "人民路"
            street = street.removesuffix("桥")
            name = unique_name(lambda s=street: f"{s}{int(rng.integers(1, 200))}号院", used_names)
        else:
            name = unique_name(
                lambda: pick(rng, ESTATE_WORDS) + pick(rng, ESTATE_SUFFIX), used_names
            )
        status = pick(rng, ["储备"] * 14 + ["新开工"] * 2 + ["在建"] * 2 + ["竣工"] * 2)
        needs = None
        if rng.random() < 0.45:  # noqa: PLR2004
            items = sorted(
                rng.choice(np.arange(1, 37), size=int(rng.integers(2, 7)), replace=False)
            )
            needs = "、".join(str(int(i)) for i in items)
        comm_rows.append(
            {
                "name": name,
                "built_year": year,
                "households": households,
                "population": population,
                "floor_area_m2": floor_area,
                "buildings": buildings,
                "street": street_office(x, v),
                "land_tenure": "国有",
                "owner_unit": owner,
                "planned_expropriation_year": None,
                "demolition_planned": False,
                "shantytown_renovated": False,
                "subsidised_items": None,
                "participation_rate": round(float(np.clip(rng.normal(70.0, 11.0), 40, 100)), 1),
                "approval_rate": round(float(np.clip(rng.normal(72.0, 11.0), 40, 100)), 1),
                "property_mgmt_agreed": bool(rng.random() < 0.45),  # noqa: PLR2004
                "needs": needs,
                "status": status,
                "_region": region,
                "geometry": poly,
            }
        )
    comm = gpd.GeoDataFrame(comm_rows, geometry="geometry", crs=CRS)
    comm = comm.assign(
        _y=comm.geometry.centroid.y.round(1), _x=comm.geometry.centroid.x.round(1)
    ).sort_values(["_y", "_x"], ascending=[False, True], kind="stable")
    comm = comm.drop(columns=["_x", "_y"]).reset_index(drop=True)
    comm.insert(0, "community_id", [f"C{k:03d}" for k in range(1, len(comm) + 1)])
    n = len(comm)
    periph = comm.index[comm["_region"].isin(["west", "south"])].to_numpy()
    comm.loc[rng.choice(periph, size=5, replace=False), "land_tenure"] = "集体"
    comm.loc[int(rng.choice(periph)), "land_tenure"] = "其他"
    old = comm.index[comm["built_year"] < 2000].to_numpy()  # noqa: PLR2004
    special = rng.choice(old, size=12, replace=False)
    exp_years = [2027, 2028, 2030, 2033, 2036]
    comm["planned_expropriation_year"] = pd.array([None] * n, dtype="Int64")
    for idx, yr in zip(special[:5], exp_years, strict=True):
        comm.loc[idx, "planned_expropriation_year"] = yr
    comm.loc[special[5:8], "demolition_planned"] = True
    comm.loc[special[8:12], "shantytown_renovated"] = True
    comm["subsidised_items"] = comm["subsidised_items"].astype(object)
    for idx, items in zip(
        rng.choice(old, size=5, replace=False), ["1、3", "9", "2、5、7", "1", "18、19"], strict=True
    ):
        comm.loc[idx, "subsidised_items"] = items
    blanks = rng.choice(n, size=6, replace=False)
    comm["population"] = pd.array(comm["population"], dtype="Int64")
    comm.loc[blanks[:3], "population"] = pd.NA
    comm.loc[blanks[3:], "floor_area_m2"] = np.nan
    comm["status"] = np.where(comm["built_year"] >= 2005, "储备", comm["status"])  # noqa: PLR2004

    # ---- entrances (bigger communities) --------------------------------------------------------
    walk = network[~network["highway"].isin(["trunk"])]
    walk_tree = STRtree(walk.geometry.to_numpy())
    big = comm.sort_values("households", ascending=False, kind="stable").head(round(n / 3))
    ent_rows = []
    for cid, hh, poly in zip(big["community_id"], big["households"], big.geometry, strict=True):
        want = 2 + int(hh > 600) + int(hh > 1000)  # noqa: PLR2004
        cands = []
        hits = walk_tree.query(poly.exterior, predicate="intersects")
        for h in sorted(int(x) for x in hits):
            inter = poly.exterior.intersection(walk.geometry.iloc[h])
            cands.extend(shapely.get_parts(inter))
        ext = np.asarray(poly.exterior.coords)
        edges = sorted(
            ((ext[k], ext[k + 1]) for k in range(len(ext) - 1)),
            key=lambda e: -float(np.hypot(*(e[1] - e[0]))),
        )
        cands.extend(Point((a + b) / 2) for a, b in edges[:4])
        chosen: list[Point] = []
        for p in cands:
            if p.geom_type == "Point" and all(p.distance(q) > 40 for q in chosen):  # noqa: PLR2004
                chosen.append(p)
            if len(chosen) == want:
                break
        cen = poly.centroid
        names_used: dict[str, int] = {}
        for k, p in enumerate(chosen, start=1):
            ang = math.degrees(math.atan2(p.y - cen.y, p.x - cen.x)) % 360
            side = "东北西南"[int(((ang + 45) % 360) // 90)]
            names_used[side] = names_used.get(side, 0) + 1
            label = (
                f"{side}门"
                if names_used[side] == 1
                else f"{side}{'二三四'[names_used[side] - 2]}门"
            )
            ent_rows.append(
                {
                    "community_id": cid,
                    "entrance_id": f"{cid}-E{k}",
                    "name": label,
                    "geometry": Point(round(p.x, 2), round(p.y, 2)),
                }
            )
    entrances = gpd.GeoDataFrame(ent_rows, geometry="geometry", crs=CRS)
    entrances = entrances.sort_values("entrance_id", kind="stable").reset_index(drop=True)

    # ---- projects ----------------------------------------------------------------------------
    for p in projects:
        if "block" in p:
            p["geometry"] = project_geoms[p.pop("block")]
    proj = gpd.GeoDataFrame(projects, geometry="geometry", crs=CRS)
    proj["project_id"] = [f"P{k:02d}" for k in range(1, len(proj) + 1)]

    # ---- facilities --------------------------------------------------------------------------
    core_world = town.to_world(box(CORE[0], CORE[2], CORE[1], CORE[3]))
    river_zone = river_world.buffer(25)
    fac_streets = network[
        ~network["highway"].isin(["trunk"]) & ~network["name"].fillna("").str.endswith("桥")
    ]
    fac_tree = STRtree(fac_streets.geometry.to_numpy())

    def near_street(xw: float, yw: float) -> Point:
        target = Point(xw, yw)
        seg = fac_streets.geometry.iloc[int(fac_tree.nearest(target))]
        on = seg.interpolate(seg.project(target))
        d = np.array([xw - on.x, yw - on.y])
        norm = float(np.hypot(*d)) or 1.0
        off = float(rng.uniform(10, 18))
        for sign in (1.0, -1.0):
            p = Point(on.x + sign * off * d[0] / norm, on.y + sign * off * d[1] / norm)
            if not river_zone.contains(p):
                break
        return Point(round(p.x, 2), round(p.y, 2))

    def sample(region: tuple[float, float, float, float], *, avoid_core: float = 0.0) -> Point:
        for _ in range(2000):
            gx, gv = rng.uniform(region[0], region[1]), rng.uniform(region[2], region[3])
            if abs(gv) < RIVER_ROAD_V + 15:
                continue
            w = town.to_world(Point(gx, gv))
            p = near_street(w.x, w.y)
            if avoid_core and p.distance(core_world) < avoid_core:
                continue
            return p
        msg = "could not place a facility"
        raise RuntimeError(msg)

    whole = (60.0, WIDTH_M - 60.0, V_SOUTH + 60, V_NORTH - 60)
    new_area = (NEW_AREA_X + 100, WIDTH_M - 100, 200.0, 1600.0)
    plan: list[tuple[str, int, Any]] = [
        (
            "middle_school",
            3,
            [(700, 1300, 400, 900), (2600, 3100, 1000, 1500), (1800, 2600, -700, -200)],
        ),
        ("primary_school", 6, None),
        ("kindergarten", 14, "avoid_core"),
        ("nursery", 3, "avoid_core"),
        ("community_health_center", 2, [(1800, 2400, 800, 1100), (2200, 3000, -600, -200)]),
        ("community_health_station", 7, None),
        ("nursing_home", 2, [(200, 900, -900, -300), (3300, 3900, 1300, 1900)]),
        ("elderly_care_home", 1, [(3400, 3900, 200, 700)]),
        ("community_service_center", 4, None),
        ("community_service_station", 10, None),
        ("elderly_day_care", 2, [(3200, 3700, 900, 1300), (800, 1300, -700, -300)]),
        ("cultural_activity_center", 2, [(1900, 2500, 900, 1200), (3200, 3700, 500, 900)]),
        ("cultural_activity_station", 5, None),
        ("fresh_market", 5, [new_area]),
        ("large_sports_field", 1, [(2900, 3400, 1300, 1800)]),
        ("medium_sports_field", 3, None),
        ("small_sports_field", 6, None),
        ("outdoor_fitness", 10, None),
        ("bus_terminal", 2, [(100, 400, 800, 1200), (3700, 3950, 600, 1000)]),
        ("bus_stop", 24, None),
        ("metro_station", 1, [(3500, 3900, -500, -200)]),
        ("garbage_collection_point", 25, None),
        ("sub_district_office", 4, None),
        ("police_station", 2, [(1800, 2300, 850, 1100), (3300, 3700, 300, 700)]),
        ("community_canteen", 1, [(3100, 3600, 700, 1100)]),
        ("convenience_store", 20, None),
        ("pharmacy", 8, None),
        ("parcel_delivery", 10, None),
        ("car_parking", 8, None),
        ("bicycle_parking", 6, None),
        ("public_toilet", 10, None),
    ]
    office_regions = {
        "城关街道": (1800, 2300, 300, 700),
        "东城街道": (3100, 3600, 300, 800),
        "滨河街道": (1500, 2200, -500, -200),
        "西关街道": (400, 900, 400, 900),
    }
    fac_rows: list[dict[str, Any]] = []
    for code, count, where in plan:
        for k in range(count):
            if code == "sub_district_office":
                office = STREETS_ZH[k]
                p = sample(office_regions[office])
            elif code == "primary_school":
                col, row = k % 3, k // 3
                p = sample(
                    (200 + col * 1300, 1100 + col * 1300, [-800, 500][row], [-200, 1500][row])
                )
            elif where == "avoid_core":
                p = sample(whole, avoid_core=KG_CORE_CLEARANCE_M)
            elif where is None:
                p = sample(whole)
            else:
                p = sample(where[k % len(where)])
            fac_rows.append({"type": code, "geometry": p})
    fac = gpd.GeoDataFrame(fac_rows, geometry="geometry", crs=CRS)
    fac = fac.assign(_y=fac.geometry.y, _x=fac.geometry.x).sort_values(
        ["_y", "_x"], ascending=[False, True], kind="stable"
    )
    fac = fac.drop(columns=["_x", "_y"]).reset_index(drop=True)
    fac.insert(0, "facility_id", [f"F{k:03d}" for k in range(1, len(fac) + 1)])
    fac["name"] = name_facilities(fac, town, rng)
    fac["capacity"] = capacities(fac["type"], rng)
    fac = fac[["facility_id", "type", "name", "capacity", "geometry"]]

    # ---- candidate sites ---------------------------------------------------------------------
    site_rows = []
    land_types = [
        "kindergarten",
        "nursery",
        "elderly_day_care",
        "community_canteen",
        "small_sports_field",
        "outdoor_fitness",
        "car_parking",
        "fresh_market",
        "community_health_station",
    ]
    bldg_types = [
        "elderly_day_care",
        "nursery",
        "community_canteen",
        "community_service_station",
        "cultural_activity_station",
        "community_health_station",
    ]
    vac_blocks = [b for b in town.blocks if b["use"] == "vacant"]
    vac_core = [b for b in vac_blocks if b["region"] == "core"]
    vac_rest = [b for b in vac_blocks if b["region"] != "core"]
    vac_blocks = vac_core + [vac_rest[int(i)] for i in rng.permutation(len(vac_rest))]
    comm_core = comm[comm["_region"] == "core"]
    comm_other = comm[comm["_region"] != "core"]
    for k in range(15):
        b = vac_blocks[k % len(vac_blocks)]
        inner = b["world"].buffer(-15)
        for _ in range(50):
            c = random_point_in(inner, rng)
            g = rect(c.x, c.y, float(rng.uniform(40, 90)), float(rng.uniform(30, 70))).intersection(
                inner
            )
            g = shapely.set_precision(g, 0.01)
            if (
                g.geom_type == "Polygon"
                and g.area > MIN_SITE_AREA_M2
                and not any(g.intersects(s["geometry"]) for s in site_rows)
            ):
                break
        types = ["kindergarten", "nursery"] if b["region"] == "core" else []
        extra = rng.choice(land_types, size=int(rng.integers(2, 4)), replace=False).tolist()
        types += [t for t in extra if t not in types]
        site_rows.append(
            {"kind": "inefficient_land", "geometry": g, "_types": types, "_rate": (0.06, 0.12)}
        )
    idle_hosts = list(comm_core.index[:5]) + list(
        rng.choice(comm_other.index, size=5, replace=False)
    )
    for ci in idle_hosts:
        inner = comm.geometry.loc[ci].buffer(-10)
        c = random_point_in(inner, rng)
        g = shapely.set_precision(
            rect(c.x, c.y, float(rng.uniform(15, 35)), float(rng.uniform(12, 25))).intersection(
                inner
            ),
            0.01,
        )
        types = rng.choice(bldg_types, size=int(rng.integers(2, 4)), replace=False).tolist()
        site_rows.append(
            {"kind": "idle_building", "geometry": g, "_types": types, "_rate": (0.18, 0.35)}
        )
    sites = gpd.GeoDataFrame(site_rows, geometry="geometry", crs=CRS)
    sites = sites.assign(
        _y=sites.geometry.centroid.y.round(1), _x=sites.geometry.centroid.x.round(1)
    )
    sites = sites.sort_values(["_y", "_x"], ascending=[False, True], kind="stable").reset_index(
        drop=True
    )
    sites.insert(0, "site_id", [f"S{k:02d}" for k in range(1, len(sites) + 1)])
    sites["area_m2"] = sites.geometry.area.round(2)
    sites["cost_wan_yuan"] = [
        round(a * float(rng.uniform(*r)), 1)
        for a, r in zip(sites["area_m2"], sites["_rate"], strict=True)
    ]
    sites["allowed_types"] = ["、".join(t) for t in sites["_types"]]
    sites = sites[["site_id", "area_m2", "kind", "cost_wan_yuan", "allowed_types", "geometry"]]

    # ---- tidy --------------------------------------------------------------------------------
    comm = survey(comm.drop(columns=["_region"]), seed)
    for col in ("built_year", "households", "buildings"):
        comm[col] = comm[col].astype("int64")
    river = gpd.GeoDataFrame({"name": ["示范河"]}, geometry=[river_world], crs=CRS)
    network["foot"] = network["foot"].where(network["foot"].notna(), None)
    # one private road: the longest residential street inside the old core
    in_core = network.geometry.intersects(core_world) & (network["highway"] == "residential")
    priv = network[in_core].geometry.length.idxmax()
    network.loc[priv, ["highway", "access", "name"]] = ["service", "private", "县委大院内部道路"]
    comm, proj, commitments, revenues = money(comm, proj, seed)
    return {
        "network": network,
        "river": river,
        "communities": comm,
        "facilities": fac,
        "projects": proj,
        "sites": sites,
        "entrances": entrances,
        "commitments": commitments,
        "revenues": revenues,
    }


#: Plan period of the demo scenario (plan year 2027, rollout to 2030).
PLAN_YEARS = (2027, 2028, 2029, 2030)
#: When each project's revenue (land sale, sales, rents) arrives. P05's comes a year late and
#: is thin: bridging its bundle fails the debt test. P03's comes in 2029 and passes it.
REVENUE_YEARS = {
    "P01": 2026, "P02": 2027, "P03": 2029, "P04": 2027, "P05": 2028, "P06": 2027,
    "P07": 2028, "P08": 2029, "P09": 2027, "P10": 2030, "P11": 2028,
}  # fmt: skip
#: Projects whose revenue is under contract (land-transfer contracts signed): committed.
CONTRACTS = {
    "P01": ("示范县自然资源局", "国有建设用地使用权出让合同 示范出让〔2026〕3号"),
    "P04": ("示范县自然资源局", "国有建设用地使用权出让合同 示范出让〔2026〕7号"),
    "P09": ("示范县自然资源局", "国有建设用地使用权出让合同 示范出让〔2026〕9号"),
    "P07": ("示范县城市更新投资有限公司", "片区更新项目投资协议 示范更新〔2026〕2号"),
}
#: County-wide money of each plan year (万元): allocations, budgets, framework agreements.
POOLS = (
    ("central_special_fund", "财政部、住房和城乡建设部", "财综〔{y0}〕老旧小区改造补助", 600.0),
    ("central_budget_investment", "国家发展和改革委员会", "发改投资〔{y0}〕配套基础设施", 300.0),
    ("provincial_budget", "省财政厅", "省财〔{y0}〕老旧小区改造省级补助", 200.0),
    ("local_budget", "示范县财政局", "示范县{y}年财政预算（县人大批准）", 800.0),
    ("land_transfer", "示范县财政局", "示范县{y}年土地出让收入计提", 150.0),
    ("utility", "国网示范县供电公司", "专营设施同步改造框架协议 示范电〔{y0}〕", 400.0),
    ("utility", "示范县水务集团", "专营设施同步改造框架协议 示范水〔{y0}〕", 300.0),
    ("utility", "示范县燃气公司", "专营设施同步改造框架协议 示范气〔{y0}〕", 200.0),
    ("utility", "中国电信示范分公司", "弱电线路入地框架协议 示范信〔{y0}〕", 100.0),
    ("social_capital", "示范县城市更新投资有限公司", "社会资本参与改造合作协议", 150.0),
)
#: Every reference of the demo says it is synthetic.
SYNTHETIC = "（合成数据）"


def money(
    comm: gpd.GeoDataFrame, proj: gpd.GeoDataFrame, seed: int
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, pd.DataFrame, pd.DataFrame]:
    """Add the money of issue 14: revenue years, maintenance funds, commitments, revenues.

    Drawn from a third generator (``seed + 2``), so every value of issue 13 stays. The
    commitments are what a county finance office would hold in 2026: the year's allocations,
    budget and framework agreements (county-wide pools), three land-transfer contracts, an
    owner unit's donation, residents' money already collected, a parking operator's
    pre-financing of the whole public cost of C150's scheme (1,216,795 元 at the Linyi
    catalogue's prices) against its revenue (C150 balances itself) and a special bond asked for a
    community with no revenue to service it (C065: the debt test refuses it).
    """
    rng = np.random.default_rng(seed + 2)
    comm = comm.copy()
    proj = proj.copy()
    proj["revenue_year"] = proj["project_id"].map(REVENUE_YEARS).astype("int64")
    has_fund = rng.random(len(comm)) < 0.3  # noqa: PLR2004
    balance = np.round(rng.uniform(5, 60, len(comm)), 1)
    comm["maintenance_fund_wan_yuan"] = np.where(has_fund, balance, np.nan)
    # 专营设施产权: where the networks are not yet the utilities' (not handed over), Linyi's
    # rule has the government reward part of their cost (以奖代补, 临沂2020 四(五))
    comm["utility_network_owned"] = rng.random(len(comm)) < 0.6  # noqa: PLR2004
    rows: list[dict[str, object]] = []
    for y in PLAN_YEARS:
        for k, (source, payer, ref, amount) in enumerate(POOLS, start=1):
            rows.append(
                {
                    "commitment_id": f"K{y}-{k:02d}",
                    "source": source,
                    "payer_name": payer,
                    "amount_wan_yuan": amount,
                    "year": y,
                    "reference": ref.format(y=y, y0=y - 1) + SYNTHETIC,
                    "community_id": None,
                    "project_id": None,
                    "items": None,
                }
            )
    revenue = dict(zip(proj["project_id"], proj["revenue_wan_yuan"], strict=True))
    for pid, (payer, ref) in CONTRACTS.items():
        rows.append(
            {
                "commitment_id": f"H-{pid}",
                "source": "land_transfer",
                "payer_name": payer,
                "amount_wan_yuan": float(revenue[pid]),
                "year": max(REVENUE_YEARS[pid], PLAN_YEARS[0]),
                "reference": ref + SYNTHETIC,
                "community_id": None,
                "project_id": pid,
                "items": None,
            }
        )
    one = [
        ("C089", "owner_unit", "县化肥厂", 20.0, "捐资承诺书 化肥〔2026〕12号"),
        ("C114", "residents", "C114 业主大会", 8.0, "业主大会决议：居民出资已收取"),
        ("C150", "community_revenue", "示范县城投停车管理有限公司", 121.6795, "停车特许经营协议"),
        ("C065", "special_bonds", "省财政厅（地方政府专项债券）", 150.0, "示范债〔2027〕2号"),
    ]
    for k, (cid, source, payer, amount, ref) in enumerate(one, start=1):
        rows.append(
            {
                "commitment_id": f"D-{k:02d}",
                "source": source,
                "payer_name": payer,
                "amount_wan_yuan": amount,
                "year": PLAN_YEARS[0],
                "reference": ref + SYNTHETIC,
                "community_id": cid,
                "project_id": None,
                "items": None,
            }
        )
    commitments = pd.DataFrame(rows)
    commitments["year"] = commitments["year"].astype("int64")
    revenues = pd.DataFrame(
        [
            {
                "revenue_id": "R01",
                "community_id": "C150",
                "kind": "parking",
                "name": "C150 地下停车库（120个车位）",
                "build_cost_wan_yuan": 40.0,
                "annual_net_income_wan_yuan": 19.0,
                "start_year": 2028,
                "years": 15,
                "operator": "示范县城投停车管理有限公司",
            },
            {
                "revenue_id": "R02",
                "community_id": "C150",
                "kind": "lift",
                "name": "C150 加装电梯有偿使用费（2部）",
                "build_cost_wan_yuan": 0.0,
                "annual_net_income_wan_yuan": 4.0,
                "start_year": 2028,
                "years": 15,
                "operator": "示范县城投停车管理有限公司",
            },
        ]
    )
    for col in ("start_year", "years"):
        revenues[col] = revenues[col].astype("int64")
    return comm, proj, commitments, revenues


#: Today (the survey year): the demo plans 2027, so the survey was made in 2026.
SURVEY_YEAR = 2026
#: 基础类 items of the Linyi catalogue (1–19) the survey checks, system by system.
BASIC_ITEMS = tuple(range(1, 20))


def survey(comm: gpd.GeoDataFrame, seed: int) -> gpd.GeoDataFrame:  # noqa: PLR0915
    """Add the survey of issue 13: project years, conditions, consent, vote, systems.

    Drawn from a second generator (``seed + 1``), so the geometry and every other layer stay
    exactly as before. A few rows are set by hand so that the demo shows each rule at work:
    a 在建 community, historic buildings, consent that passes on headcount but not on floor
    area, a 2003 community with poor living conditions (Tongnan's second tier), a scheme vote
    that failed, and communities the survey has not reached yet.
    """
    rng = np.random.default_rng(seed + 1)
    out = comm.copy()
    n = len(out)
    built = out["built_year"].to_numpy(int)
    status = out["status"].to_numpy(object)
    # where each renovation under way stands: started, planned and subsidised years
    start = np.full(n, np.nan)
    done = np.full(n, np.nan)
    for i, state in enumerate(status):
        if state == "新开工":
            start[i] = SURVEY_YEAR
        elif state == "在建":
            start[i] = SURVEY_YEAR - int(rng.integers(0, 2))
            done[i] = start[i] + 2
        elif state == "竣工":
            start[i] = int(rng.integers(2020, SURVEY_YEAR - 1))
            done[i] = start[i] + 1
    out["start_year"] = pd.array(start, dtype="Float64").astype("Int64")
    out["completion_year"] = pd.array(done, dtype="Float64").astype("Int64")
    out["planned_year"] = out["start_year"]
    out["subsidy_year"] = out["start_year"]  # each got central subsidy in its plan year
    out["other_program_items"] = None
    # the qualifying conditions of the seeds' scope sentences
    old = built < 2000  # noqa: PLR2004
    out["neglected"] = rng.random(n) < np.where(old, 0.85, 0.45)
    out["utilities_deficient"] = rng.random(n) < np.where(old, 0.8, 0.5)
    out["services_deficient"] = rng.random(n) < 0.6  # noqa: PLR2004
    out["residents_willing"] = rng.random(n) < 0.85  # noqa: PLR2004
    out["management_deficient"] = rng.random(n) < 0.5  # noqa: PLR2004
    tier2 = (built > 2000) & (built <= 2005)  # noqa: PLR2004
    poor = rng.random(n) < 0.5  # noqa: PLR2004
    out["poor_conditions"] = pd.array(tier2 & poor, dtype="boolean")
    out["heritage"] = False
    out["old_trees"] = rng.random(n) < 0.04  # noqa: PLR2004
    # consent by owners and by floor area (双三分之二), consistent with the rates
    owners = out["households"].to_numpy(int)
    part_share = out["participation_rate"].to_numpy(float) / 100
    appr_share = out["approval_rate"].to_numpy(float) / 100
    part = np.minimum(owners, np.round(owners * part_share)).astype(int)
    appr = np.minimum(part, np.round(part * appr_share)).astype(int)
    area = out["floor_area_m2"].to_numpy(float)
    area_share = np.clip(part_share + rng.normal(0, 0.03, n), 0.3, 1.0)
    part_area = np.floor(area * area_share * 10) / 10  # down: never above the floor area
    agree = np.clip(appr_share + rng.normal(0, 0.03, n), 0.3, 1.0)
    appr_area = np.floor(part_area * agree * 10) / 10
    out["owners"] = owners
    out["participating_owners"] = part
    out["participating_area_m2"] = part_area
    out["approving_owners"] = appr
    out["approving_area_m2"] = appr_area
    out["property_mgmt_agreed"] = rng.random(n) < 0.7  # noqa: PLR2004
    # the pre-works scheme vote, held by some communities that are ready
    voted = rng.random(n) < 0.55  # noqa: PLR2004
    passed = voted & (rng.random(n) < 0.93)  # noqa: PLR2004
    days = rng.integers(0, 240, n)
    out["scheme_vote_date"] = [
        pd.Timestamp(SURVEY_YEAR, 3, 1) + pd.Timedelta(days=int(d)) if v else pd.NaT
        for v, d in zip(voted, days, strict=True)
    ]
    out["scheme_vote_date"] = out["scheme_vote_date"].astype("datetime64[ms]")
    out["scheme_vote_method"] = [
        ("线上" if rng.random() < 0.3 else "书面") if v else None  # noqa: PLR2004
        for v in voted
    ]
    out["scheme_vote_passed"] = pd.array(
        [bool(p) if v else None for v, p in zip(voted, passed, strict=True)], dtype="boolean"
    )
    # the survey of the 基础类 systems: deficient, sound, or not reached yet
    age = np.clip((SURVEY_YEAR - built) / 40.0, 0.1, 1.0)
    deficient, sound = [], []
    reached = rng.random(n) < 0.9  # noqa: PLR2004
    for i in range(n):
        bad, fine = [], []
        for item in BASIC_ITEMS:
            r = rng.random()
            if not reached[i] or r < 0.06:  # noqa: PLR2004 - not surveyed yet
                continue
            (bad if r < 0.06 + 0.7 * age[i] else fine).append(item)
        deficient.append("、".join(map(str, bad)) or None)
        sound.append("、".join(map(str, fine)) or None)
    out["deficient_items"] = deficient
    out["sound_items"] = sound
    out["space_available"] = rng.random(n) < 0.4  # noqa: PLR2004
    # rows that show a rule at work
    core = np.flatnonzero(old & (status == "储备"))
    out.loc[core[0], ["heritage", "old_trees"]] = [True, True]
    out.loc[core[1], "heritage"] = True
    area_case = core[2]  # passes on headcount (75 %), fails on floor area (60 %); 90 % agree
    taking_part = round(owners[area_case] * 0.75)
    part_m2 = float(np.floor(area[area_case] * 6) / 10)
    out.loc[area_case, ["participating_owners", "participating_area_m2"]] = [taking_part, part_m2]
    out.loc[area_case, ["approving_owners", "approving_area_m2"]] = [
        round(taking_part * 0.9),
        float(np.floor(part_m2 * 9) / 10),
    ]
    out.loc[area_case, "property_mgmt_agreed"] = True
    out.loc[core[3], ["scheme_vote_passed", "scheme_vote_method"]] = [False, "书面"]
    out.loc[core[3], "scheme_vote_date"] = pd.Timestamp(SURVEY_YEAR, 9, 15)
    tier2_rows = np.flatnonzero(built == 2003)  # noqa: PLR2004
    if len(tier2_rows):
        out.loc[tier2_rows[0], "poor_conditions"] = True
    out.loc[core[4], "other_program_items"] = "1、2"  # 三供一业 already renewed water, power
    # drawn last so that every value above stays as it was: the written confirmation of the
    # property management model and fees (底线(八)), given by most that agreed on 长效管理
    confirmed = rng.random(n) < 0.75  # noqa: PLR2004
    out["property_fee_agreed"] = out["property_mgmt_agreed"].to_numpy(bool) & confirmed
    return out


FAC_NAME = {
    "middle_school": "{p}第{n}中学",
    "primary_school": "{p}第{n}小学",
    "kindergarten": "{p}第{n}幼儿园",
    "nursery": "{p}{n}号托育园",
    "community_health_center": "{p}社区卫生服务中心",
    "community_health_station": "{p}{n}号社区卫生服务站",
    "nursing_home": "{p}养老院",
    "elderly_care_home": "县老年养护院",
    "community_service_center": "{p}社区服务中心",
    "community_service_station": "{p}{n}号社区服务站",
    "elderly_day_care": "{p}日间照料中心",
    "cultural_activity_center": "{p}文化活动中心",
    "cultural_activity_station": "{p}{n}号文化活动站",
    "fresh_market": "{p}农贸市场{n}",
    "large_sports_field": "县全民健身中心",
    "medium_sports_field": "{p}{n}号体育场",
    "small_sports_field": "{p}{n}号球场",
    "outdoor_fitness": "{p}健身广场{n}",
    "bus_terminal": "{p}公交首末站",
    "bus_stop": "{s}站",
    "metro_station": "示范县站（城际铁路）",
    "garbage_collection_point": "{p}垃圾收集点{n}",
    "sub_district_office": "{p}街道办事处",
    "police_station": "{p}派出所",
    "community_canteen": "{p}社区长者食堂",
    "convenience_store": "{p}便利店{n}",
    "pharmacy": "{p}大药房{n}",
    "parcel_delivery": "{p}快递驿站{n}",
    "car_parking": "{p}停车场{n}",
    "bicycle_parking": "{p}非机动车棚{n}",
    "public_toilet": "{p}公厕{n}",
}
CAPACITY = {
    "middle_school": (1200, 2400),
    "primary_school": (600, 1800),
    "kindergarten": (180, 360),
    "nursery": (40, 90),
    "nursing_home": (80, 200),
    "elderly_care_home": (150, 250),
    "elderly_day_care": (20, 40),
    "community_canteen": (60, 120),
    "car_parking": (40, 200),
}


def name_facilities(fac: gpd.GeoDataFrame, town: Town, rng: np.random.Generator) -> list[str]:
    """Chinese facility names: street-office prefix, running number, nearby street for stops."""
    counters: dict[tuple[str, str], int] = {}
    names: list[str] = []
    used: set[str] = set()
    for code, p in zip(fac["type"], fac.geometry, strict=True):
        gx = p.x - town.origin[0]
        gv = p.y - town.origin[1] + V_SOUTH
        office = street_office(gx, gv)
        prefix = office.removesuffix("街道")
        key = (code, prefix)
        counters[key] = counters.get(key, 0) + 1
        n = counters[key]
        nums = "一二三四五六七八九十"
        template = FAC_NAME[code]
        stop = f"{pick(rng, NS_NAMES[:8])}{pick(rng, ('口', '中段', '北', '南'))}"
        name = template.format(p=prefix, n=nums[n - 1] if "第" in template else n, s=stop)
        while name in used:
            name += "（分部）" if code != "bus_stop" else "（对面）"
        used.add(name)
        names.append(name)
    return names


def capacities(types: pd.Series, rng: np.random.Generator) -> list[float | None]:
    """Capacity (pupils, children, beds, spaces) for the facility types that have one."""
    out: list[float | None] = []
    for t in types:
        lo_hi = CAPACITY.get(t)
        out.append(
            None if lo_hi is None else float(int(rng.integers(lo_hi[0], lo_hi[1]) // 10 * 10))
        )
    return out


def write(layers: dict[str, gpd.GeoDataFrame | pd.DataFrame], out: Path) -> None:
    """Write all layers into one GeoPackage atomically, with a fixed timestamp."""
    out.parent.mkdir(parents=True, exist_ok=True)
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": FIXED_DATE})
    fd, tmp_name = tempfile.mkstemp(suffix=".gpkg", dir=out.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()
    try:
        for name, gdf in layers.items():
            if isinstance(gdf, gpd.GeoDataFrame):
                gdf.to_file(tmp, layer=name, driver="GPKG", engine="pyogrio")
            else:  # an attribute table (commitments, revenues)
                pyogrio.write_dataframe(gdf, tmp, layer=name, driver="GPKG")
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)


def summary(layers: dict[str, gpd.GeoDataFrame | pd.DataFrame], out: Path) -> str:
    """Return the counts per layer and the facts behind the deliberate gaps."""
    comm = layers["communities"]
    fac = layers["facilities"]
    net = layers["network"]
    lines = [f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB, {CRS})"]
    lines += [f"  {k:<12} {len(v):>5} rows" for k, v in layers.items()]
    lines.append(
        "  network highway: "
        + ", ".join(f"{k}={v}" for k, v in net["highway"].value_counts().items())
    )
    kg = fac[fac["type"] == "kindergarten"].geometry.union_all()
    no_kg = comm[comm.geometry.distance(kg) > 300].community_id.tolist()  # noqa: PLR2004
    lines.append(f"  communities with no kindergarten within 300 m: {len(no_kg)}")
    lines.append(
        "  facilities: elderly_day_care={}, community_canteen={}, fresh_market={}".format(
            *(
                int((fac["type"] == t).sum())
                for t in ("elderly_day_care", "community_canteen", "fresh_market")
            )
        )
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Command line: ``python layers/make_demo.py [--seed N] [--out PATH]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help="random seed (default %(default)s)"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(__file__).resolve().parent / "demo.gpkg",
        help="output GeoPackage (default layers/demo.gpkg)",
    )
    args = parser.parse_args(argv)
    layers = make_town(args.seed)
    write(layers, args.out)
    print(summary(layers, args.out))


if __name__ == "__main__":
    main()
