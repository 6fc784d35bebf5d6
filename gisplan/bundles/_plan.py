"""The combined financing plan: one mode per community (:func:`gisplan.bundles.plan_financing`)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from gisplan.bundles._common import (
    _DEFAULT_CROSS,
    _DEFAULT_OPTIONS,
    _MODE_COLUMNS,
    _TOTAL_COLUMNS,
    MODE_ZH,
    MODES,
    _listed,
    _members_frame,
    _need,
    _pairs_frame,
    _units,
)
from gisplan.bundles._cross import cross_area
from gisplan.bundles._instance import _empty_inst
from gisplan.bundles._large import _bundle_tables, large_area
from gisplan.errors import LayerError, ScenarioError

if TYPE_CHECKING:
    from collections.abc import Collection, Sequence

    import geopandas as gpd
    import networkx as nx

    from gisplan.bundles._common import BundleOptions, CrossOptions
    from gisplan.bundles._cross import CrossResult
    from gisplan.bundles._large import BundleResult

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class FinancingPlan:
    """Result of :func:`plan_financing`.

    Attributes
    ----------
    bundles, members
        As :class:`BundleResult` (empty when ``"large_area"`` is not in the order).
    cross_area
        As :attr:`CrossResult.pairs` (empty when ``"cross_area"`` is not in the order).
    modes
        One row per community of ``need_wan_yuan`` (and every self-balanced one), sorted by
        ``community_id``: ``mode`` (one of :data:`MODES`), ``mode_zh``, ``need_wan_yuan``,
        ``bundle_covered_wan_yuan``, ``cross_covered_wan_yuan``, ``bundle_id`` and
        ``project_ids`` (the projects paying it, comma-separated; ``""`` if none).
    totals
        One row per mode in :data:`MODES` order: ``mode``, ``mode_zh``, ``communities``
        (count), ``need_wan_yuan``, ``covered_wan_yuan`` (project money; 0 for self-balance,
        whose money is the community's own, and for government-led, which the finance step
        fills).
    info
        Flat: ``order``, ``large_area_*`` and ``cross_area_*`` (method, status, funded or
        covered, bound, gap, reason, time_s) of the steps that ran.
    """

    bundles: gpd.GeoDataFrame
    members: pd.DataFrame
    cross_area: pd.DataFrame
    modes: pd.DataFrame
    totals: pd.DataFrame
    info: dict[str, Any]


def _check_order(order: Sequence[str]) -> tuple[str, ...]:
    items = [str(m) for m in order]
    problems: list[tuple[str, str, str]] = []
    unknown = [m for m in items if m not in MODES]
    if unknown:
        problems.append(
            ("order", f"{_listed(unknown)} not a financing mode", f"use {', '.join(MODES)}")
        )
    twice = sorted({m for m in items if items.count(m) > 1})
    if twice:
        problems.append(("order", f"{_listed(twice)} listed twice", "name each mode once"))
    ScenarioError.check("plan_financing", "bundles", problems)
    return tuple(items)


def plan_financing(
    communities: gpd.GeoDataFrame,
    projects: gpd.GeoDataFrame,
    need_wan_yuan: pd.Series[float],
    *,
    self_balanced: Collection[str] = (),
    order: Sequence[str] = MODES,
    bundle_options: BundleOptions = _DEFAULT_OPTIONS,
    cross_options: CrossOptions = _DEFAULT_CROSS,
    graph: nx.Graph | None = None,
) -> FinancingPlan:
    """Give every community one financing mode, trying the modes in ``order``.

    Each mode works on the communities the earlier ones left:

    * ``"self_balance"`` — the ``self_balanced`` communities (decided by
      :func:`gisplan.finance.self_balance`) keep 小区内自求平衡;
    * ``"large_area"`` — :func:`large_area` bundles the rest with adjacent projects (after
      a cross-area step, with the revenue its pairs took off each project);
    * ``"cross_area"`` — :func:`cross_area` pairs the rest with the surplus of projects not
      in a bundle and not ``adjacent_only``;
    * ``"government_led"`` — 政府引导多元投入: every community no other mode took, wherever
      it stands in ``order`` (its position only tells the caller which need to pass: the
      public cost when the bundling modes come first, or what government-led funding left
      short when it comes before them).

    A mode left out of ``order`` is not used (self-balanced communities are then treated like
    the others).

    Parameters
    ----------
    communities, projects
        As :func:`large_area`.
    need_wan_yuan
        Money each community needs (万元, >= 0), indexed by ``community_id``.
    self_balanced
        Community ids that balance themselves (小区内自求平衡).
    order
        The modes, first to last; default :data:`MODES`.
    bundle_options
        Options of :func:`large_area`.
    cross_options
        Options of :func:`cross_area`.
    graph
        Adjacency graph (:func:`adjacency`); built with its defaults when ``None``.

    Returns
    -------
    FinancingPlan
        Bundles, cross-area pairs, one mode per community and totals per mode.

    Raises
    ------
    ScenarioError
        If ``order`` names an unknown mode or one twice.
    CRSError, SchemaError, LayerError
        As :func:`large_area`, and for a self-balanced id that is not a community.

    Examples
    --------
    >>> com = gpd.GeoDataFrame({"community_id": ["C1", "C2", "C3"]},
    ...                        geometry=[box(0, 0, 100, 100), box(300, 0, 400, 100),
    ...                                  box(2000, 0, 2100, 100)], crs=4548)
    >>> pro = gpd.GeoDataFrame({"project_id": ["P1"], "cost_wan_yuan": [50.0],
    ...                         "revenue_wan_yuan": [120.0]}, geometry=[box(120, 0, 280, 100)],
    ...                        crs=4548)
    >>> need = pd.Series({"C1": 30.0, "C2": 25.0, "C3": 10.0})
    >>> plan = gisplan.bundles.plan_financing(com, pro, need)
    >>> plan.modes[["community_id", "mode"]].values.tolist()
    [['C1', 'large_area'], ['C2', 'large_area'], ['C3', 'government_led']]
    """
    steps = _check_order(order)
    units = _units(communities, projects)
    need = _need(need_wan_yuan, units)
    index = units.index()
    balanced = sorted({str(c).strip() for c in self_balanced})
    unknown = [c for c in balanced if c not in index or units.is_project[index[c]]]
    if unknown:
        raise LayerError(
            f"self_balanced: {_listed(unknown)} not a community_id of the communities layer"
        )
    rows = sorted({str(k).strip() for k in need_wan_yuan.index} | set(balanced))
    book = _Ledger(
        rows=rows,
        need={c: float(need[index[c]]) for c in rows},
        info={"order": ",".join(steps)},
        bundles=_bundle_tables(units, _empty_inst(), [], bundle_options)[0],
    )
    for step in steps:
        if step == "self_balance":
            for c in balanced:
                book.mode.setdefault(c, "self_balance")
        elif step == "large_area":
            book.take_bundles(
                large_area(
                    communities,
                    book.remaining(projects),
                    book.pool(),
                    graph=graph,
                    options=bundle_options,
                )
            )
        elif step == "cross_area":
            book.take_pairs(
                cross_area(
                    book.pool(),
                    projects,
                    communities=communities,
                    exclude=sorted(book.used_projects),
                    allow_split=cross_options.allow_split,
                    distance_cost_per_km=cross_options.distance_cost_per_km,
                    district_column=cross_options.district_column,
                    district_penalty=cross_options.district_penalty,
                    max_distance_m=cross_options.max_distance_m,
                    time_limit_s=cross_options.time_limit_s,
                )
            )
    table, totals = book.tables()
    logger.info(
        "financing: %s",
        ", ".join(f"{m} {n}" for m, n in zip(totals["mode"], totals["communities"], strict=True)),
    )
    return FinancingPlan(
        bundles=book.bundles,
        members=book.members,
        cross_area=book.pairs,
        modes=table,
        totals=totals,
        info=book.info,
    )


@dataclass(slots=True)
class _Ledger:
    """What :func:`plan_financing` has decided so far, per community."""

    rows: list[str]
    need: dict[str, float]
    info: dict[str, Any]
    bundles: gpd.GeoDataFrame
    members: pd.DataFrame = field(default_factory=_members_frame)
    pairs: pd.DataFrame = field(default_factory=_pairs_frame)
    mode: dict[str, str] = field(default_factory=dict)
    bundle_of: dict[str, str] = field(default_factory=dict)
    payers: dict[str, list[str]] = field(default_factory=dict)
    bundle_cover: dict[str, float] = field(default_factory=dict)
    cross_cover: dict[str, float] = field(default_factory=dict)
    used_projects: set[str] = field(default_factory=set)

    def pool(self) -> pd.Series[float]:
        """Need of the communities no mode has taken yet."""
        left = [c for c in self.rows if c not in self.mode and self.need[c] > 0]
        return pd.Series([self.need[c] for c in left], index=left, dtype="float64")

    def take_bundles(self, result: BundleResult) -> None:
        self.bundles, self.members = result.bundles, result.members
        for key in ("method", "status", "funded_wan_yuan", "bound_wan_yuan", "gap", "n_bundles"):
            self.info[f"large_area_{key}"] = result.info[key]
        self.info["large_area_isolated"] = len(result.info["isolated"])
        self.info["large_area_reason"] = result.info["reason"]
        self.info["large_area_time_s"] = result.info["time_s"]
        for bid, comms, projs in zip(
            result.bundles["bundle_id"],
            result.bundles["community_ids"],
            result.bundles["project_ids"],
            strict=True,
        ):
            ids = str(projs).split(",")
            self.used_projects.update(ids)
            for c in str(comms).split(","):
                self.mode[c] = "large_area"
                self.bundle_of[c] = str(bid)
                self.bundle_cover[c] = self.need[c]
                self.payers[c] = ids

    def remaining(self, projects: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        """Projects with what cross-area pairs already took off their revenue."""
        if self.pairs.empty:
            return projects
        paid = self.pairs.groupby("project_id")["amount_wan_yuan"].sum()
        out = projects.copy()
        ids = out["project_id"].astype(str).str.strip()
        out["revenue_wan_yuan"] = pd.to_numeric(out["revenue_wan_yuan"]) - ids.map(paid).fillna(
            0.0
        ).to_numpy(float)
        return out

    def take_pairs(self, result: CrossResult) -> None:
        self.pairs = result.pairs
        for key in ("status", "covered_wan_yuan", "objective_wan_yuan", "bound_wan_yuan", "gap"):
            self.info[f"cross_area_{key}"] = result.info[key]
        self.info["cross_area_reason"] = result.info["reason"]
        self.info["cross_area_time_s"] = result.info["time_s"]
        for c, p, amount in zip(
            result.pairs["community_id"].astype(str),
            result.pairs["project_id"].astype(str),
            result.pairs["amount_wan_yuan"].to_numpy(float),
            strict=True,
        ):
            self.mode[c] = "cross_area"
            self.cross_cover[c] = self.cross_cover.get(c, 0.0) + float(amount)
            self.payers[c] = [*self.payers.get(c, []), p]

    def tables(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        table = pd.DataFrame(
            [
                {
                    "community_id": c,
                    "mode": self.mode.get(c, "government_led"),
                    "mode_zh": MODE_ZH[self.mode.get(c, "government_led")],
                    "need_wan_yuan": self.need[c],
                    "bundle_covered_wan_yuan": self.bundle_cover.get(c, 0.0),
                    "cross_covered_wan_yuan": self.cross_cover.get(c, 0.0),
                    "bundle_id": self.bundle_of.get(c, ""),
                    "project_ids": ",".join(self.payers.get(c, [])),
                }
                for c in self.rows
            ],
            columns=_MODE_COLUMNS,
        )
        covered = table["bundle_covered_wan_yuan"] + table["cross_covered_wan_yuan"]
        totals = pd.DataFrame(
            [
                {
                    "mode": m,
                    "mode_zh": MODE_ZH[m],
                    "communities": int((table["mode"] == m).sum()),
                    "need_wan_yuan": float(table.loc[table["mode"] == m, "need_wan_yuan"].sum()),
                    "covered_wan_yuan": float(covered[table["mode"] == m].sum()),
                }
                for m in MODES
            ],
            columns=_TOTAL_COLUMNS,
        )
        return table, totals
