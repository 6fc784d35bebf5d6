"""Heuristic search for large-area bundles, with its upper bounds (maximum flow, LP).

The beam and path growth with local improvement (:class:`_Search`), its restarts and
tie-breaks, and the two upper bounds on the need any set of bundles funds that
:func:`gisplan.bundles.large_area` compares its bundles against.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from scipy import sparse
from scipy.optimize import linprog
from scipy.sparse.csgraph import maximum_flow

from gisplan.bundles._common import _OBJ_SCALE
from gisplan.bundles._instance import _connected, _reach, _usable

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from gisplan.bundles._common import BundleOptions
    from gisplan.bundles._instance import _Inst

_LARGE_PART = 5000


def _pairs(inst: _Inst, opts: BundleOptions) -> tuple[list[int], list[tuple[int, int]]]:
    """Projects with a surplus and the communities each could share a bundle with.

    c is listed for p when it lies within ``max_members - 1`` steps of p through usable
    units and within ``max_diameter_m`` of it (true of every pair in one bundle).
    """
    usable = _usable(inst, opts)
    positive = [
        p for p in range(inst.n) if inst.is_project[p] and inst.surplus[p] > 0 and usable[p]
    ]
    pairs: list[tuple[int, int]] = []
    exact = opts.max_diameter_m if inst.n <= _LARGE_PART else None
    for p in positive:
        reach = _reach(
            inst,
            p,
            usable,
            hops=opts.max_members - 1,
            exact_span=exact,
            centroid_span=opts.max_diameter_m,
        )
        pairs.extend((p, c) for c in reach if not inst.is_project[c])
    return positive, pairs


def _flow_bound(inst: _Inst, positive: Sequence[int], pairs: Sequence[tuple[int, int]]) -> float:
    """Upper bound on the need any set of bundles can fund (万元), as a maximum flow.

    Each project pays at most its surplus, each community receives at most its need, and
    money flows only along ``pairs``. Connectivity, the margin and the size limits are
    relaxed, so no set of bundles funds more.
    """
    if not pairs:
        return 0.0
    comms = sorted({c for _, c in pairs})
    total = float(inst.need[comms].sum()) + float(inst.surplus[list(positive)].sum())
    # integer capacities (scipy's maximum_flow), rounded up so the bound stays a bound
    unit = max(1.0 / _OBJ_SCALE, total / 1e9)
    pnode = {p: 1 + i for i, p in enumerate(positive)}
    cnode = {c: 1 + len(positive) + i for i, c in enumerate(comms)}
    sink = 1 + len(positive) + len(comms)
    cap_c = {c: math.ceil(inst.need[c] / unit) for c in comms}
    rows = [0] * len(positive) + [pnode[p] for p, _ in pairs] + [cnode[c] for c in comms]
    cols = [pnode[p] for p in positive] + [cnode[c] for _, c in pairs] + [sink] * len(comms)
    caps = (
        [math.ceil(inst.surplus[p] / unit) for p in positive]
        + [cap_c[c] for _, c in pairs]
        + [cap_c[c] for c in comms]
    )
    graph = sparse.csr_matrix(
        (np.asarray(caps, dtype=np.int32), (rows, cols)), shape=(sink + 1, sink + 1)
    )
    flow = maximum_flow(graph, 0, sink, method="dinic")
    return float(flow.flow_value) * unit


def _lp_bound(
    inst: _Inst, opts: BundleOptions, positive: Sequence[int], pairs: Sequence[tuple[int, int]]
) -> float | None:
    """Tighter upper bound (万元) from a linear program; ``None`` if HiGHS gives none.

    Share ``z[c, p]`` of community c paid by project p: each community at most once,
    project p pays at most its surplus, takes at most ``max_members - 1`` communities and
    ``max_area_m2`` minus its own area. Any set of bundles gives such shares (split each
    bundle's communities over its projects in proportion to their surplus), so the optimum
    of this program bounds the need any set of bundles funds.
    """
    if not pairs:
        return 0.0
    n_pairs = len(pairs)
    pidx = {p: i for i, p in enumerate(positive)}
    comms = sorted({c for _, c in pairs})
    cidx = {c: i for i, c in enumerate(comms)}
    need = np.asarray([float(inst.need[c]) for _, c in pairs])
    area = np.asarray([float(inst.area[c]) for _, c in pairs])
    prow = np.asarray([pidx[p] for p, _ in pairs])
    crow = np.asarray([cidx[c] for _, c in pairs])
    cols = np.arange(n_pairs)
    n_p = len(positive)
    blocks = [
        sparse.csr_matrix((np.ones(n_pairs), (crow, cols)), shape=(len(comms), n_pairs)),
        sparse.csr_matrix((need, (prow, cols)), shape=(n_p, n_pairs)),
        sparse.csr_matrix((np.ones(n_pairs), (prow, cols)), shape=(n_p, n_pairs)),
        sparse.csr_matrix((area, (prow, cols)), shape=(n_p, n_pairs)),
    ]
    upper = np.concatenate(
        [
            np.ones(len(comms)),
            [float(inst.surplus[p]) for p in positive],
            np.full(n_p, float(opts.max_members - 1)),
            [max(0.0, float(opts.max_area_m2 - inst.area[p])) for p in positive],
        ]
    )
    res = linprog(
        -need,
        A_ub=sparse.vstack(blocks).tocsr(),
        b_ub=upper,
        bounds=(0.0, 1.0),
        method="highs",
    )
    if res.status != 0 or res.fun is None:
        return None
    # HiGHS stops within a relative tolerance of 1e-7; widen the bound by that much
    return float(-res.fun) * (1.0 + 1e-7) + 1e-6


#: A beam-search state: funded, compactness, members, balance, area, reach from the root.
_State = tuple[float, float, tuple[int, ...], float, float, float]


class _Search:
    """Beam-search growth of bundles from projects, then local improvement.

    Works on plain Python lists (faster than numpy for the many small steps).
    """

    def __init__(self, inst: _Inst, opts: BundleOptions, rng: np.random.Generator | None) -> None:
        self.n = inst.n
        self.need: list[float] = inst.need.tolist()
        self.surplus: list[float] = inst.surplus.tolist()
        self.value: list[float] = (inst.surplus - inst.need).tolist()
        self.area: list[float] = inst.area.tolist()
        self.cx: list[float] = inst.xy[:, 0].tolist()
        self.cy: list[float] = inst.xy[:, 1].tolist()
        self.rad: list[float] = inst.rad.tolist()
        self.hull = inst.hull
        self.nbrs = inst.nbrs
        self.proj: list[bool] = inst.is_project.tolist()
        self.usable: list[bool] = _usable(inst, opts).tolist()
        self.max_members = opts.max_members
        self.max_area = float(opts.max_area_m2)
        self.span = float(opts.max_diameter_m)
        self.margin = float(opts.margin_wan_yuan)
        self.width = opts.beam_width
        self.owner = [-1] * inst.n
        self.bundles: dict[int, list[int]] = {}
        self.next_key = 0
        self.noise: list[float] = (
            rng.uniform(0.0, 1.0, inst.n).tolist() if rng is not None else [0.0] * inst.n
        )

    # -- checks
    def span_ok(self, members: Sequence[int], v: int) -> bool:
        """Whether v keeps the bundle within the span limit (quick circle tests first)."""
        cx, cy, rad, limit = self.cx, self.cy, self.rad, self.span
        x, y = cx[v], cy[v]
        high = 0.0
        for u in members:
            d = math.hypot(cx[u] - x, cy[u] - y)
            if d > limit:
                return False
            high = max(high, d + rad[u])
        if high + rad[v] <= limit:
            return True
        pts = np.concatenate([self.hull[u] for u in members])
        diff = pts[:, None, :] - self.hull[v][None, :, :]
        return float(np.sqrt((diff * diff).sum(axis=-1).max())) <= limit

    def funded(self, members: Iterable[int]) -> float:
        return math.fsum(self.need[v] for v in members)

    def score(self, members: Sequence[int]) -> tuple[float, int, float]:
        root = min(v for v in members if self.proj[v])
        compact = math.fsum(
            math.hypot(self.cx[v] - self.cx[root], self.cy[v] - self.cy[root]) for v in members
        )
        return (round(self.funded(members), 6), -len(members), -compact)

    def front(self, members: Sequence[int]) -> list[int]:
        """Free usable communities next to the members, in index order."""
        owner, usable, proj, nbrs = self.owner, self.usable, self.proj, self.nbrs
        inside = set(members)
        return sorted(
            {
                w
                for u in members
                for w in nbrs[u]
                if owner[w] == -1 and not proj[w] and usable[w] and w not in inside
            }
        )

    # -- growth
    def beam(self, base: list[int]) -> list[int] | None:
        """Best connected extension of ``base`` by free communities (beam search).

        States grow one community at a time; each round keeps the ``beam_width`` states
        funding most (then the most compact), and the best state seen is returned.
        """
        value, area, proj = self.value, self.area, self.proj
        root = base[0]
        rx, ry = self.cx[root], self.cy[root]
        bal0 = math.fsum(value[u] for u in base)
        if bal0 < self.margin - 1e-9:
            return None
        compact0 = math.fsum(math.hypot(self.cx[u] - rx, self.cy[u] - ry) for u in base)
        reach0 = max(math.hypot(self.cx[u] - rx, self.cy[u] - ry) + self.rad[u] for u in base)
        beam = [(0.0, compact0, tuple(base), bal0, math.fsum(area[u] for u in base), reach0)]
        best: tuple[float, float, tuple[int, ...]] | None = None
        if any(not proj[u] for u in base):
            best = (round(self.funded(base), 6), compact0, tuple(base))
        seen: set[frozenset[int]] = set()
        while beam:
            children: dict[frozenset[int], _State] = {}
            for state in beam:
                self.expand(state, rx, ry, seen, children)
            if not children:
                break
            seen.update(children)
            ranked = sorted(children.values(), key=lambda s: (-round(s[0], 6), s[1], s[2]))
            beam = ranked[: self.width]
            top = beam[0]
            cand = (round(top[0], 6), top[1], top[2])
            if best is None or (cand[0], -cand[1]) > (best[0], -best[1]):
                best = cand
        return None if best is None else list(best[2])

    def expand(
        self,
        state: _State,
        rx: float,
        ry: float,
        seen: set[frozenset[int]],
        children: dict[frozenset[int], _State],
    ) -> None:
        """Add every one-community extension of ``state`` that keeps the limits."""
        funded, compact, members, bal, ar, reach = state
        if len(members) >= self.max_members:
            return
        need, value, area, rad = self.need, self.value, self.area, self.rad
        for c in self.front(members):
            if ar + area[c] > self.max_area or bal + value[c] < self.margin - 1e-9:
                continue
            key = frozenset((*members, c))
            if key in children or key in seen:
                continue
            d = math.hypot(self.cx[c] - rx, self.cy[c] - ry)
            # every member lies within `reach` of the root's centroid: a quick pass
            if d + rad[c] + reach > self.span and not self.span_ok(members, c):
                continue
            children[key] = (
                funded + need[c],
                compact + d + self.noise[c],
                (*members, c),
                bal + value[c],
                ar + area[c],
                max(reach, d + rad[c]),
            )

    def paths(self, base: list[int]) -> list[int] | None:
        """Extension of ``base`` by whole paths of free communities (best need per member).

        Each step looks up to the free slots deep (breadth-first from the members, keeping
        along every shortest path the one with most need) and adds the path with the highest
        need per member that still balances, so a rich cluster behind poor neighbours is
        reached — which one community at a time never sees.
        """
        members = list(base)
        bal = math.fsum(self.value[u] for u in members)
        if bal < self.margin - 1e-9:
            return None
        blocked: set[int] = set()
        while len(members) < self.max_members:
            path = self.best_path(members, bal - self.margin, blocked)
            if path is None:
                break
            ok = True
            for c in path:
                if not self.span_ok(members, c):
                    blocked.add(c)
                    ok = False
                    break
            if not ok:
                continue
            area = math.fsum(self.area[u] for u in (*members, *path))
            if area > self.max_area:
                blocked.add(path[-1])
                continue
            members.extend(path)
            bal += math.fsum(self.value[c] for c in path)
        return members if any(not self.proj[u] for u in members) else None

    def best_path(self, members: list[int], budget: float, blocked: set[int]) -> list[int] | None:
        """Path of free communities from the members with the most need per member."""
        inside = set(members)
        best_sum: dict[int, float] = dict.fromkeys(members, 0.0)
        parent: dict[int, int] = {}
        layer = list(members)
        top: tuple[float, float, int] | None = None
        for d in range(1, self.max_members - len(members) + 1):
            nxt = self.path_layer(layer, best_sum, parent, budget, blocked)
            if not nxt:
                break
            for w, total in nxt.items():
                best_sum[w] = total
                key = (total / d, -float(d), -w)
                if top is None or key > top:
                    top = key
            layer = sorted(nxt)
        if top is None:
            return None
        path = [-top[2]]
        while parent[path[-1]] not in inside:
            path.append(parent[path[-1]])
        return path[::-1]

    def path_layer(
        self,
        layer: Sequence[int],
        best_sum: dict[int, float],
        parent: dict[int, int],
        budget: float,
        blocked: set[int],
    ) -> dict[int, float]:
        """Next breadth-first layer: the most need along a shortest path to each unit."""
        nxt: dict[int, float] = {}
        for u in layer:
            for w in self.nbrs[u]:
                if w in best_sum or w in blocked or not self.is_free(w):
                    continue
                total = best_sum[u] + self.need[w]
                if total <= budget + 1e-9 and (w not in nxt or total > nxt[w]):
                    nxt[w] = total
                    parent[w] = u
        return nxt

    def is_free(self, w: int) -> bool:
        """Whether w is a usable community that no bundle holds."""
        return self.owner[w] == -1 and not self.proj[w] and self.usable[w]

    def grow(self, root: int) -> list[int] | None:
        """Bundle grown from ``root``: beam search, then more projects while that helps."""
        best = self.extend([root])
        tried: set[int] = set()
        for _ in range(self.max_members):
            members = best if best is not None else [root]
            if len(members) + 2 > self.max_members or not self.short_of_money(members):
                break
            step = self.next_project(members, tried)
            if step is None:
                break
            tried.add(step[-1])
            trial = self.extend([*members, *step])
            if trial is not None and (
                best is None or self.funded(trial) > self.funded(best) + 1e-9
            ):
                best = trial
        if best is None:
            return None
        return self.prune(best)

    def extend(self, base: list[int]) -> list[int] | None:
        """Return the better of the beam-search and the path extension of ``base``."""
        best = self.beam(base)
        other = self.paths(base)
        if other is not None and (best is None or self.score(other) > self.score(best)):
            best = other
        return best

    def next_project(self, members: list[int], tried: set[int]) -> list[int] | None:
        """Find a free project with a surplus next to the members or behind one free community.

        Returns the units to add (``[q]`` or ``[c, q]``), the richest project first.
        """
        inside = set(members)
        area = math.fsum(self.area[u] for u in members)

        def usable_project(w: int) -> bool:
            return (
                w not in inside
                and w not in tried
                and self.owner[w] == -1
                and self.proj[w]
                and self.usable[w]
                and self.surplus[w] > 0
            )

        steps: dict[int, list[int]] = {}
        for u in members:
            for w in self.nbrs[u]:
                if usable_project(w):
                    steps[w] = [w]
        for c in self.front(members):
            for w in self.nbrs[c]:
                if usable_project(w) and w not in steps:
                    steps[w] = [c, w]
        ranked = sorted(steps, key=lambda w: (-self.surplus[w] * (1.0 + 0.3 * self.noise[w]), w))
        for w in ranked:
            step = steps[w]
            if area + math.fsum(self.area[v] for v in step) <= self.max_area and all(
                self.span_ok([*members, *step[:k]], v) for k, v in enumerate(step)
            ):
                return step
        return None

    def short_of_money(self, members: Sequence[int]) -> bool:
        """Whether a free neighbouring community is left out for want of money alone."""
        inside = set(members)
        budget = math.fsum(self.value[v] for v in members) - self.margin
        area = math.fsum(self.area[v] for v in members)
        return any(
            self.need[w] > budget + 1e-9
            and area + self.area[w] <= self.max_area
            and self.span_ok(members, w)
            for u in members
            for w in self.nbrs[u]
            if w not in inside and self.owner[w] == -1 and not self.proj[w] and self.usable[w]
        )

    def prune(self, members: list[int]) -> list[int]:
        """Drop projects the bundle does not need (keeps it balanced and connected)."""
        out = list(members)
        for q in sorted((v for v in members if self.proj[v]), key=lambda v: (self.surplus[v], v)):
            rest = [v for v in out if v != q]
            if (
                any(self.proj[v] for v in rest)
                and math.fsum(self.value[v] for v in rest) >= self.margin - 1e-9
                and _connected(rest, self.nbrs)
            ):
                out = rest
        return out

    # -- bookkeeping
    def claim(self, key: int | None, members: list[int]) -> int:
        if key is None:
            key = self.next_key
            self.next_key += 1
        self.bundles[key] = members
        for v in members:
            self.owner[v] = key
        return key

    def release(self, key: int) -> list[int]:
        members = self.bundles.pop(key)
        for v in members:
            self.owner[v] = -1
        return members

    def seeds(self) -> list[int]:
        out = [p for p in range(self.n) if self.proj[p] and self.usable[p] and self.surplus[p] > 0]
        out.sort(key=lambda p: (-self.surplus[p] * (1.0 + 0.3 * self.noise[p]), p))
        return out

    def construct(self) -> bool:
        grown = False
        for p in self.seeds():
            if self.owner[p] != -1:
                continue
            members = self.grow(p)
            if members is not None:
                self.claim(None, members)
                grown = True
        return grown

    def construct_rr(self) -> bool:
        """Grow all bundles at once, one community per bundle per round (round robin)."""
        order = [p for p in self.seeds() if self.owner[p] == -1]
        live: list[tuple[int, int]] = []
        live.extend((self.claim(None, [p]), p) for p in order)
        while live:
            still: list[tuple[int, int]] = []
            for key, root in live:
                members = self.bundles[key]
                pick = self.best_step(members)
                if (
                    pick is None
                    and len(members) + 2 <= self.max_members
                    and self.short_of_money(members)
                ):
                    pick = self.best_project(members)
                if pick is None:
                    continue
                members.append(pick)
                self.owner[pick] = key
                still.append((key, root))
            live = still
        grown = False
        for key in sorted(self.bundles):
            members = self.bundles[key]
            if not any(not self.proj[v] for v in members):
                self.release(key)
                continue
            pruned = self.prune(members)
            if len(pruned) != len(members):
                self.release(key)
                self.claim(key, pruned)
            grown = True
        return grown

    def best_step(self, members: list[int]) -> int | None:
        """Return the free neighbouring community with the largest need that fits."""
        inside = set(members)
        bal = math.fsum(self.value[v] for v in members)
        area = math.fsum(self.area[v] for v in members)
        if len(members) >= self.max_members:
            return None
        root = members[0]
        cands = sorted(
            {
                w
                for u in members
                for w in self.nbrs[u]
                if w not in inside
                and self.owner[w] == -1
                and not self.proj[w]
                and self.usable[w]
                and bal + self.value[w] >= self.margin - 1e-9
                and area + self.area[w] <= self.max_area
            },
            key=lambda w: (
                -self.need[w],
                math.hypot(self.cx[w] - self.cx[root], self.cy[w] - self.cy[root]) + self.noise[w],
                w,
            ),
        )
        return next((w for w in cands if self.span_ok(members, w)), None)

    def best_project(self, members: list[int]) -> int | None:
        inside = set(members)
        area = math.fsum(self.area[v] for v in members)
        cands = sorted(
            {
                w
                for u in members
                for w in self.nbrs[u]
                if w not in inside
                and self.owner[w] == -1
                and self.proj[w]
                and self.usable[w]
                and self.surplus[w] > 0
                and area + self.area[w] <= self.max_area
            },
            key=lambda w: (-self.surplus[w] * (1.0 + 0.3 * self.noise[w]), w),
        )
        return next((w for w in cands if self.span_ok(members, w)), None)

    def total(self) -> float:
        return math.fsum(self.funded(m) for m in self.bundles.values())

    # -- improvement
    def regrow(self, key: int) -> bool:
        old = self.release(key)
        root = min(v for v in old if self.proj[v])
        new = self.grow(root)
        if new is not None and self.score(new) > self.score(old):
            self.claim(key, new)
            return True
        self.claim(key, old)
        return False

    def pair(self, a: int, b: int) -> bool:
        """Re-grow two neighbouring bundles in both orders; keep the better pair."""
        old_a, old_b = self.release(a), self.release(b)
        before = self.funded(old_a) + self.funded(old_b)
        ra = min(v for v in old_a if self.proj[v])
        rb = min(v for v in old_b if self.proj[v])
        best: list[list[int]] | None = None
        best_val = before + 1e-9
        for first, second in ((rb, ra), (ra, rb)):
            got: list[list[int]] = []
            one = self.grow(first)
            if one is not None:
                self.claim(-2, one)
                got.append(one)
            two = self.grow(second) if self.owner[second] == -1 else None
            if one is not None:
                self.release(-2)
            if two is not None:
                got.append(two)
            val = math.fsum(self.funded(m) for m in got)
            if val > best_val:
                best, best_val = got, val
        if best is None:
            self.claim(a, old_a)
            self.claim(b, old_b)
            return False
        for members in best:
            self.claim(None, members)
        return True

    def neighbours(self, key: int) -> list[int]:
        return sorted(
            {
                self.owner[w]
                for v in self.bundles[key]
                for w in self.nbrs[v]
                if self.owner[w] >= 0 and self.owner[w] != key
            }
        )

    def merge(self) -> None:
        """Merge neighbouring bundles within the limits (fewer bundles), then refill."""
        for key in sorted(self.bundles):
            if key not in self.bundles:
                continue
            for other in self.neighbours(key):
                if other not in self.bundles or key not in self.bundles:
                    continue
                a, b = self.bundles[key], self.bundles[other]
                if (
                    len(a) + len(b) <= self.max_members
                    and math.fsum(self.area[v] for v in (*a, *b)) <= self.max_area
                    and all(self.span_ok(a, v) for v in b)
                ):
                    self.release(other)
                    self.release(key)
                    merged = self.beam([*a, *b]) or [*a, *b]
                    self.claim(key, merged)

    def run(self, *, pairs: bool) -> list[list[int]]:
        self.construct_rr()
        for _ in range(3):
            changed = False
            for key in sorted(self.bundles):
                if key in self.bundles:
                    changed |= self.regrow(key)
            if pairs:
                for key in sorted(self.bundles):
                    for other in self.neighbours(key) if key in self.bundles else []:
                        if other > key and other in self.bundles and key in self.bundles:
                            changed |= self.pair(key, other)
            changed |= self.construct()
            if not changed:
                break
        self.merge()
        return [sorted(m) for _, m in sorted(self.bundles.items())]


def _compactness(inst: _Inst, bundles: Sequence[Sequence[int]]) -> float:
    total = 0.0
    for b in bundles:
        root = min(v for v in b if inst.is_project[v])
        total += float(np.hypot(*(inst.xy[list(b)] - inst.xy[root]).T).sum())
    return total


def _score(inst: _Inst, bundles: Sequence[Sequence[int]]) -> tuple[float, int, float]:
    """Sort key, larger is better: funded (to 1 元), fewer bundles, more compact."""
    funded = math.fsum(float(inst.need[v]) for b in bundles for v in b)
    return (round(funded, 4), -len(bundles), -_compactness(inst, bundles))


def _heuristic(inst: _Inst, opts: BundleOptions) -> list[list[int]]:
    best = _Search(inst, opts, None).run(pairs=True)
    rng = np.random.default_rng(opts.seed)
    for _ in range(opts.restarts if inst.n <= _LARGE_PART else 0):
        trial = _Search(inst, opts, rng).run(pairs=True)
        if _score(inst, trial) > _score(inst, best):
            best = trial
    return best


def _tidy(inst: _Inst, opts: BundleOptions, bundles: Sequence[Sequence[int]]) -> list[list[int]]:
    """Tie-breaks on a solution: drop projects a bundle does not need, merge neighbours."""
    search = _Search(inst, opts, None)
    for b in bundles:
        search.claim(None, search.prune(list(b)))
    search.merge()
    return [sorted(m) for _, m in sorted(search.bundles.items())]
