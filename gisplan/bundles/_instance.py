"""One bundling instance (:class:`_Inst`) and its geometry: hulls, spans, reach in the graph.

Shared by the heuristic search, the exact program, :func:`gisplan.bundles.large_area` and
:func:`gisplan.finance.plan_financing`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely

if TYPE_CHECKING:
    from collections.abc import Collection, Sequence

    from numpy.typing import NDArray

    from gisplan.bundles._common import BundleOptions

#: Convex hulls with more vertices are replaced by their minimum rotated rectangle.
_MAX_HULL = 32


def _hull_points(geom: shapely.Geometry) -> NDArray[np.float64]:
    """Return the vertices of the convex hull (or its rotated rectangle if large)."""
    hull = shapely.convex_hull(geom)
    coords = shapely.get_coordinates(hull)
    if len(coords) > _MAX_HULL:
        coords = shapely.get_coordinates(shapely.oriented_envelope(geom))
    if len(coords) > 1 and np.array_equal(coords[0], coords[-1]):
        coords = coords[:-1]
    return np.asarray(coords, dtype=float)


def _padded_hulls(geoms: Sequence[Any]) -> NDArray[np.float64]:
    """Return hull vertices as an (n, K, 2) array, short hulls padded by repeating a vertex."""
    hulls = [_hull_points(g) for g in geoms]
    width = max((len(h) for h in hulls), default=1)
    out = np.empty((len(hulls), width, 2), dtype=float)
    for i, h in enumerate(hulls):
        out[i, : len(h)] = h
        out[i, len(h) :] = h[0]
    return out


def _far(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    """Farthest distance between hull sets: a (K, 2) against b (m, K, 2) -> (m,)."""
    diff = b[:, :, None, :] - a[None, None, :, :]
    out: NDArray[np.float64] = np.sqrt((diff**2).sum(axis=-1).max(axis=(1, 2)))
    return out


@dataclass(slots=True)
class _Inst:
    """One bundling instance: communities in need and projects, indexed 0..n-1."""

    ids: list[str]
    is_project: NDArray[np.bool_]
    need: NDArray[np.float64]
    surplus: NDArray[np.float64]
    area: NDArray[np.float64]
    xy: NDArray[np.float64]
    hull: NDArray[np.float64]
    own: NDArray[np.float64]
    rad: NDArray[np.float64]
    nbrs: list[list[int]]

    @property
    def n(self) -> int:
        return len(self.ids)

    def sub(self, index: Sequence[int]) -> _Inst:
        where = {g: i for i, g in enumerate(index)}
        idx = np.asarray(index, dtype=np.intp)
        return _Inst(
            ids=[self.ids[g] for g in index],
            is_project=self.is_project[idx],
            need=self.need[idx],
            surplus=self.surplus[idx],
            area=self.area[idx],
            xy=self.xy[idx],
            hull=self.hull[idx],
            own=self.own[idx],
            rad=self.rad[idx],
            nbrs=[sorted(where[w] for w in self.nbrs[g] if w in where) for g in index],
        )


def _usable(inst: _Inst, opts: BundleOptions) -> NDArray[np.bool_]:
    """Units that fit in a bundle on their own (span and area)."""
    return (inst.own <= opts.max_diameter_m) & (inst.area <= opts.max_area_m2)


def _connected(members: Collection[int], nbrs: Sequence[Sequence[int]]) -> bool:
    items = set(members)
    if not items:
        return False
    start = min(items)
    seen = {start}
    todo = [start]
    while todo:
        v = todo.pop()
        for w in nbrs[v]:
            if w in items and w not in seen:
                seen.add(w)
                todo.append(w)
    return len(seen) == len(items)


def _reach(
    inst: _Inst,
    root: int,
    allowed: NDArray[np.bool_],
    *,
    hops: int,
    exact_span: float | None,
    centroid_span: float | None,
) -> list[int]:
    """Units reachable from ``root`` through ``allowed`` units within ``hops`` steps.

    Units farther than the span from the root (exact hull span, or centroid distance — a lower
    bound of it) are neither reached nor passed through.
    """
    return [
        v
        for v, _ in _reach_hops(
            inst, root, allowed, hops=hops, exact_span=exact_span, centroid_span=centroid_span
        )
    ]


def _reach_hops(
    inst: _Inst,
    root: int,
    allowed: NDArray[np.bool_],
    *,
    hops: int,
    exact_span: float | None,
    centroid_span: float | None,
) -> list[tuple[int, int]]:
    """As :func:`_reach`, with each unit's number of steps from the root."""
    seen = {root}
    layer = [root]
    out = [(root, 0)]
    for step in range(1, hops + 1):
        nxt = sorted({w for v in layer for w in inst.nbrs[v] if allowed[w] and w not in seen})
        if not nxt:
            break
        arr = np.asarray(nxt, dtype=np.intp)
        ok = np.ones(len(arr), dtype=bool)
        if centroid_span is not None:
            ok &= np.hypot(*(inst.xy[arr] - inst.xy[root]).T) <= centroid_span
        if exact_span is not None and ok.any():
            ok[ok] = _far(inst.hull[root], inst.hull[arr[ok]]) <= exact_span
        seen.update(nxt)
        layer = arr[ok].tolist()
        out.extend((v, step) for v in layer)
    return out


def _far_matrix(hull: NDArray[np.float64]) -> NDArray[np.float64]:
    """Pairwise farthest distances of (n, K, 2) hulls, in row chunks."""
    n, k = hull.shape[0], hull.shape[1]
    out = np.empty((n, n), dtype=float)
    step = max(1, int(2_000_000 // max(1, n * k * k)))
    for start in range(0, n, step):
        block = hull[start : start + step]
        diff = block[:, None, :, None, :] - hull[None, :, None, :, :]
        out[start : start + step] = np.sqrt((diff**2).sum(axis=-1).max(axis=(2, 3)))
    return out


def _empty_inst() -> _Inst:
    return _Inst(
        ids=[],
        is_project=np.zeros(0, dtype=bool),
        need=np.zeros(0),
        surplus=np.zeros(0),
        area=np.zeros(0),
        xy=np.zeros((0, 2)),
        hull=np.zeros((0, 1, 2)),
        own=np.zeros(0),
        rad=np.zeros(0),
        nbrs=[],
    )
