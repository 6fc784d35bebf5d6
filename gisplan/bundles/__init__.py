"""Area-wide financing bundles: 大片区统筹平衡 and 跨片区组合平衡 (POLICY.md §4).

Most old communities cannot pay for their own renovation. The "4+N" financing modes let a
city bundle them with revenue projects (old factory, urban village, shantytown, dangerous
housing, building conversion, land parcels):

* :func:`adjacency` — a networkx graph over communities and projects: an edge when two
  polygons touch or lie within ``tolerance_m`` (default 30 m: communities are usually
  separated by streets), found with a spatial index; optionally only within one 街道 or
  district (``group_by``) and never across a barrier line (river, major road);
* :func:`large_area` — 大片区统筹平衡: connected bundles, each holding at least one old
  community and at least one project, whose revenue minus cost (community need plus project
  cost) is at least a margin, every unit in at most one bundle, under size limits (members,
  area, diameter). Maximises the community need that gets funded, then prefers fewer, then
  more compact bundles. Exact integer program with flow-based connectivity (HiGHS through
  :func:`scipy.optimize.milp`) for small and medium parts of the graph, a greedy growth with
  local improvement for large ones; both are compared against an upper bound and the gap is
  reported. Every emitted bundle is checked to balance and to be connected;
* :func:`cross_area` — 跨片区组合平衡: communities still in deficit matched to the remaining
  surplus of projects that may fund non-adjacent communities (a transport integer program:
  each community funded in full or not at all; small costs for distance and for crossing a
  district line);

The financing modes themselves — their order, one mode per community, the money — belong to
:mod:`gisplan.finance` (:func:`~gisplan.finance.plan_financing`,
:func:`~gisplan.finance.fund_by_modes`), which calls the two bundling algorithms here.

Money is in 万元 (``*_wan_yuan``), distances in metres, areas in m². Every function that
measures needs a projected CRS in metres; Chinese headers of the output columns come from
:mod:`gisplan.vocabulary`. No function modifies its inputs; outputs are sorted deterministically.
"""

from __future__ import annotations

from gisplan.bundles._adjacency import adjacency
from gisplan.bundles._common import BundleOptions, CrossOptions
from gisplan.bundles._cross import CrossResult, cross_area
from gisplan.bundles._large import BundleResult, large_area

__all__ = [
    "BundleOptions",
    "BundleResult",
    "CrossOptions",
    "CrossResult",
    "adjacency",
    "cross_area",
    "large_area",
]
