"""Tests of gisplan.bundles: adjacency, large-area bundles, cross-area pairs, combined plan."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
from geopandas.testing import assert_geodataframe_equal
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, box

from gisplan import bundles, finance
from gisplan.bundles import BundleOptions, CrossOptions
from gisplan.errors import CRSError, LayerError, ScenarioError, SchemaError

from _fixtures import CRS, X0, Y0, bundle_layers, line_layers

EXACT = BundleOptions(method="exact", mip_gap=0.0)
HEURISTIC = BundleOptions(method="heuristic")


# --------------------------------------------------------------------------- brute force


def _brute_force(
    com: gpd.GeoDataFrame, pro: gpd.GeoDataFrame, need: pd.Series, opts: BundleOptions
) -> float:
    """Most need any packing of valid bundles funds, by enumerating every unit subset."""
    graph = bundles.adjacency(com, pro)
    value = {c: -float(need.get(c, 0.0)) for c in com["community_id"]}
    value.update(
        {
            p: float(r - c)
            for p, c, r in zip(
                pro["project_id"], pro["cost_wan_yuan"], pro["revenue_wan_yuan"], strict=True
            )
        }
    )
    geom = dict(zip(com["community_id"], com.geometry, strict=True))
    geom.update(zip(pro["project_id"], pro.geometry, strict=True))
    units = [u for u in graph.nodes if graph.nodes[u]["kind"] == "project" or value[u] < 0]

    def ok(group: tuple[str, ...]) -> bool:
        pts = np.vstack([np.asarray(geom[u].exterior.coords) for u in group])
        return (
            {graph.nodes[u]["kind"] for u in group} == {"community", "project"}
            and sum(value[u] for u in group) >= opts.margin_wan_yuan - 1e-9
            and nx.is_connected(graph.subgraph(group))
            and sum(geom[u].area for u in group) <= opts.max_area_m2
            and float(np.sqrt(((pts[:, None] - pts[None]) ** 2).sum(-1)).max())
            <= opts.max_diameter_m
        )

    valid = [
        (
            frozenset(group),
            -sum(value[u] for u in group if graph.nodes[u]["kind"] == "community"),
        )
        for k in range(2, min(len(units), opts.max_members) + 1)
        for group in itertools.combinations(units, k)
        if ok(group)
    ]

    def best(start: int, used: frozenset[str]) -> float:
        top = 0.0
        for i in range(start, len(valid)):
            group, funded = valid[i]
            if not group & used:
                top = max(top, funded + best(i + 1, used | group))
        return top

    return best(0, frozenset())


def _check_result(result: bundles.BundleResult, need: pd.Series, opts: BundleOptions) -> None:
    """Every bundle balances, has both kinds, keeps the limits; no unit twice."""
    table = result.bundles
    assert (table["balance_wan_yuan"] >= opts.margin_wan_yuan - 1e-6).all()
    assert (table["n_members"] <= opts.max_members).all()
    assert (table["diameter_m"] <= opts.max_diameter_m + 1e-6).all()
    assert (table["n_communities"] >= 1).all()
    assert (table["n_projects"] >= 1).all()
    assert not result.members["unit_id"].duplicated().any()
    sums = result.members.groupby("bundle_id")["net_wan_yuan"].sum()
    assert np.allclose(
        sums.to_numpy(), table.set_index("bundle_id")["balance_wan_yuan"][sums.index]
    )
    funded = sum(need[c] for cs in table["community_ids"] for c in cs.split(","))
    assert result.info["funded_wan_yuan"] == pytest.approx(funded)
    assert result.info["funded_wan_yuan"] <= result.info["bound_wan_yuan"] + 1e-6


# --------------------------------------------------------------------------- adjacency


def test_adjacency_tolerance_and_attributes() -> None:
    # squares at x = 0, 120 (20 m gap), 270 (50 m gap): tolerance 30 links only the first two
    com, pro, _ = bundle_layers(
        {"C1": 1.0, "C2": 1.0}, {"P1": (5.0, 9.0)}, {"C1": 0, "C2": 120, "P1": 270}
    )
    graph = bundles.adjacency(com, pro)
    assert sorted(graph.edges) == [("C1", "C2")]
    assert graph.edges["C1", "C2"]["gap_m"] == pytest.approx(20.0)
    assert graph.nodes["P1"]["surplus_wan_yuan"] == pytest.approx(4.0)
    assert graph.nodes["C1"]["area_m2"] == pytest.approx(10_000.0)
    wide = bundles.adjacency(com, pro, tolerance_m=50.0)
    assert sorted(wide.edges) == [("C1", "C2"), ("C2", "P1")]
    assert list(bundles.adjacency(com, pro, tolerance_m=0.0).edges) == []


def test_adjacency_group_by_and_barriers() -> None:
    xs = {"C1": 0, "C2": 120, "P1": 240, "C3": 360}
    extra = {"street": {"C1": "东城", "C2": "西关", "C3": "西关"}}
    com, pro, _ = bundle_layers(
        {"C1": 1.0, "C2": 1.0, "C3": 1.0}, {"P1": (1.0, 2.0)}, xs, extra=extra
    )
    grouped = bundles.adjacency(com, pro, group_by="street")
    # P1 has no street (blank): it joins every group; C1-C2 cross two streets
    assert sorted(grouped.edges) == [("C2", "P1"), ("C3", "P1")]
    assert grouped.graph["removed_by_group"] == 1
    river = gpd.GeoDataFrame(
        geometry=[LineString([(X0 + 230, Y0 - 50), (X0 + 230, Y0 + 150)])], crs=CRS
    )
    cut = bundles.adjacency(com, pro, barriers=river)
    assert sorted(cut.edges) == [("C1", "C2"), ("C3", "P1")]
    assert cut.graph["removed_by_barrier"] == 1
    with pytest.raises(SchemaError, match="'district'"):
        bundles.adjacency(com, pro, group_by="district")


def test_adjacency_bad_input() -> None:
    com, pro, _ = line_layers()
    with pytest.raises(CRSError, match="projected"):
        bundles.adjacency(com.to_crs(4326), pro.to_crs(4326))
    with pytest.raises(ScenarioError, match="tolerance_m"):
        bundles.adjacency(com, pro, tolerance_m=-1.0)
    clash = pro.assign(project_id=["C1", "P2"])
    with pytest.raises(SchemaError, match=r"C1 are both a community_id and a project_id"):
        bundles.adjacency(com, clash)
    loss = pro.assign(revenue_wan_yuan=[160.0, -5.0])
    with pytest.raises(LayerError, match=r"revenue_wan_yuan not a number >= 0 for P2 \(-5.0\)"):
        bundles.adjacency(com, loss)
    with pytest.raises(SchemaError, match="cost_wan_yuan"):
        bundles.adjacency(com, pro.drop(columns="cost_wan_yuan"))
    with pytest.raises(CRSError, match="projects are in"):
        bundles.adjacency(com, pro.set_crs(4547, allow_override=True))


# --------------------------------------------------------------------------- large area


def test_large_area_hand_instance() -> None:
    # valid bundles: {C1,P1} 50 (60-50=10 left), {P1,C2} 30, {C3,P2} 40 (5 left),
    # {P1,C2,C3,P2} 70 (105-70=35 left); {C1,P1,C2} needs 80 > 60. Best: {C1,P1}+{C3,P2} = 90
    com, pro, need = line_layers()
    for opts in (EXACT, HEURISTIC):
        result = bundles.large_area(com, pro, need, options=opts)
        table = result.bundles
        assert table[["bundle_id", "community_ids", "project_ids"]].to_numpy().tolist() == [
            ["B001", "C1", "P1"],
            ["B002", "C3", "P2"],
        ]
        assert table["funded_wan_yuan"].tolist() == [50.0, 40.0]
        assert table["cost_wan_yuan"].tolist() == [150.0, 50.0]  # need + project cost
        assert table["revenue_wan_yuan"].tolist() == [160.0, 55.0]
        assert table["balance_wan_yuan"].tolist() == [10.0, 5.0]
        assert set(table["mode"]) == {"large_area"}
        assert result.info["funded_wan_yuan"] == pytest.approx(90.0)
        _check_result(result, need, opts)
    members = bundles.large_area(com, pro, need, options=EXACT).members
    assert members.to_numpy().tolist() == [
        ["B001", "C1", "community", -50.0],
        ["B001", "P1", "project", 60.0],
        ["B002", "C3", "community", -40.0],
        ["B002", "P2", "project", 45.0],
    ]
    assert _brute_force(com, pro, need, EXACT) == pytest.approx(90.0)


def test_large_area_margin_changes_the_optimum_and_can_empty_it() -> None:
    # margin 6: {C3,P2} keeps only 5, so the best is the single bundle {P1,C2,C3,P2} = 70
    com, pro, need = line_layers()
    opts = BundleOptions(method="exact", mip_gap=0.0, margin_wan_yuan=6.0)
    result = bundles.large_area(com, pro, need, options=opts)
    assert result.bundles["community_ids"].tolist() == ["C2,C3"]
    assert result.bundles["project_ids"].tolist() == ["P1,P2"]
    assert result.bundles["balance_wan_yuan"].tolist() == [35.0]
    assert _brute_force(com, pro, need, opts) == pytest.approx(70.0)
    empty = bundles.large_area(com, pro, need, options=BundleOptions(margin_wan_yuan=5000))
    assert len(empty.bundles) == 0
    assert list(empty.bundles.columns) == list(result.bundles.columns)
    assert empty.bundles.crs == com.crs
    assert empty.info["status"] == "empty"
    assert "要求结余5000万元超过" in empty.info["reason"]
    assert "项目最大结余60.00万元" in empty.info["reason"]


def test_large_area_size_limits() -> None:
    com, pro, need = line_layers()
    # two members at most: {C1,P1} and {C3,P2} still fit
    pair = BundleOptions(method="exact", mip_gap=0.0, max_members=2)
    assert bundles.large_area(com, pro, need, options=pair).info["funded_wan_yuan"] == 90.0
    # span 250 m: {C1,P1} spans 220 m (x 0..220), {C3,P2} 220 m; the 4-unit bundle 340 m
    short = BundleOptions(method="exact", mip_gap=0.0, max_diameter_m=250, margin_wan_yuan=6)
    assert len(bundles.large_area(com, pro, need, options=short).bundles) == 1
    assert bundles.large_area(com, pro, need, options=short).bundles["community_ids"].tolist() == [
        "C1"
    ]
    # area 15,000 m²: no two 10,000 m² squares fit together
    small = BundleOptions(max_area_m2=15_000)
    assert len(bundles.large_area(com, pro, need, options=small).bundles) == 0


def test_large_area_prefers_fewer_bundles() -> None:
    # C1 - P1 - P2 - C2: {C1,P1}+{P2,C2} or one bundle of all four fund the same 20
    xs = {"C1": 0, "P1": 120, "P2": 240, "C2": 360}
    com, pro, need = bundle_layers(
        {"C1": 10.0, "C2": 10.0}, {"P1": (0.0, 15.0), "P2": (0.0, 15.0)}, xs
    )
    for opts in (EXACT, HEURISTIC):
        one = bundles.large_area(com, pro, need, options=opts).bundles
        assert one["community_ids"].tolist() == ["C1,C2"]
    two = bundles.large_area(com, pro, need, options=BundleOptions(max_members=3)).bundles
    assert two["community_ids"].tolist() == ["C1", "C2"]


def test_large_area_isolated_community_and_zero_need() -> None:
    xs = {"C1": 0, "P1": 120, "C2": 2000, "C3": 240}
    com, pro, need = bundle_layers({"C1": 10.0, "C2": 10.0, "C3": 0.0}, {"P1": (0.0, 100.0)}, xs)
    result = bundles.large_area(com, pro, need)
    assert result.info["isolated"] == ["C2"]
    assert result.bundles["community_ids"].tolist() == ["C1"]  # C3 needs nothing: not bundled
    with pytest.raises(LayerError, match=r"not 万元 >= 0: C1 \(-1.0\)"):
        bundles.large_area(com, pro, need.replace(10.0, -1.0))
    with pytest.raises(LayerError, match="not a community_id of the communities layer: C9"):
        bundles.large_area(com, pro, pd.Series({"C9": 1.0}))


def test_large_area_several_projects_pay_for_one_community() -> None:
    # P1 - C1 - P2: neither surplus (30, 40) covers C1's 60 alone, together they do
    xs = {"P1": 0, "C1": 120, "P2": 240}
    com, pro, need = bundle_layers({"C1": 60.0}, {"P1": (0.0, 30.0), "P2": (0.0, 40.0)}, xs)
    for opts in (EXACT, HEURISTIC):
        table = bundles.large_area(com, pro, need, options=opts).bundles
        assert table["project_ids"].tolist() == ["P1,P2"]
        assert table["balance_wan_yuan"].tolist() == [10.0]


def test_large_area_deterministic_and_inputs_unchanged() -> None:
    com, pro, need = _grid(seed=3, side=4)
    saved = (com.copy(), pro.copy(), need.copy())
    first = bundles.large_area(com, pro, need, options=HEURISTIC)
    second = bundles.large_area(com, pro, need, options=HEURISTIC)
    assert_geodataframe_equal(first.bundles, second.bundles)
    pd.testing.assert_frame_equal(first.members, second.members)
    assert_geodataframe_equal(com, saved[0])
    assert_geodataframe_equal(pro, saved[1])
    pd.testing.assert_series_equal(need, saved[2])


def test_large_area_graph_from_other_layers_refused() -> None:
    com, pro, need = line_layers()
    graph = nx.Graph([("C1", "X9")])
    with pytest.raises(LayerError, match="X9"):
        bundles.large_area(com, pro, need, graph=graph)


# --------------------------------------------------------------------------- random instances


def _grid(seed: int, side: int = 3) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, pd.Series]:
    """side x side squares (100 m, 20 m streets); a seeded third of them projects."""
    rng = np.random.default_rng(seed)
    n = side * side
    kinds = rng.permutation(n) < max(1, n // 3)
    cids = [f"C{i}" for i in range(n) if not kinds[i]]
    pids = [f"P{i}" for i in range(n) if kinds[i]]
    cells = [
        box(
            X0 + 120 * (i % side),
            Y0 + 120 * (i // side),
            X0 + 120 * (i % side) + 100,
            Y0 + 120 * (i // side) + 100,
        )
        for i in range(n)
    ]
    need = pd.Series(np.round(rng.uniform(10, 60, len(cids)), 2), index=cids)
    cost = np.round(rng.uniform(0, 50, len(pids)), 2)
    revenue = np.round(cost + rng.uniform(-10, 90, len(pids)), 2).clip(0)
    com = gpd.GeoDataFrame(
        {"community_id": cids}, geometry=[cells[i] for i in range(n) if not kinds[i]], crs=CRS
    )
    pro = gpd.GeoDataFrame(
        {"project_id": pids, "cost_wan_yuan": cost, "revenue_wan_yuan": revenue},
        geometry=[cells[i] for i in range(n) if kinds[i]],
        crs=CRS,
    )
    return com, pro, need


@pytest.mark.parametrize("seed", range(6))
def test_exact_matches_brute_force_and_heuristic_stays_below(seed: int) -> None:
    com, pro, need = _grid(seed)
    opts = BundleOptions(method="exact", mip_gap=0.0, max_members=4)
    exact = bundles.large_area(com, pro, need, options=opts)
    best = _brute_force(com, pro, need, opts)
    assert exact.info["funded_wan_yuan"] == pytest.approx(best, abs=1e-6)
    assert exact.info["status"] == "optimal"
    _check_result(exact, need, opts)
    heuristic = bundles.large_area(
        com, pro, need, options=BundleOptions(method="heuristic", max_members=4)
    )
    _check_result(heuristic, need, opts)
    assert heuristic.info["funded_wan_yuan"] <= best + 1e-6
    assert heuristic.info["funded_wan_yuan"] >= 0.8 * best


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
@given(
    seed=st.integers(0, 10_000),
    margin=st.sampled_from([0.0, 5.0, 20.0]),
    members=st.integers(2, 6),
    method=st.sampled_from(["exact", "heuristic"]),
)
@example(seed=999, margin=0.0, members=2, method="exact")  # nothing balances: empty, typed
def test_every_bundle_balances(seed: int, margin: float, members: int, method: str) -> None:
    com, pro, need = _grid(seed, side=3)
    opts = BundleOptions(method=method, margin_wan_yuan=margin, max_members=members)
    result = bundles.large_area(com, pro, need, options=opts)
    _check_result(result, need, opts)
    graph = bundles.adjacency(com, pro)
    for row in result.bundles.itertuples():
        ids = [*row.community_ids.split(","), *row.project_ids.split(",")]
        assert nx.is_connected(graph.subgraph(ids))


# --------------------------------------------------------------------------- cross area


def _cross_layers() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, pd.Series]:
    xs = {"C1": 0, "C2": 1000, "C3": 3000, "P1": 500, "P2": 4000, "P3": 2000}
    extra = {"district": {"C1": "A", "C2": "A", "C3": "B", "P1": "A", "P2": "B", "P3": "A"}}
    return bundle_layers(
        {"C1": 70.0, "C2": 30.0, "C3": 20.0},
        {"P1": (20.0, 100.0), "P2": (10.0, 50.0), "P3": (0.0, 500.0)},
        xs,
        adjacent_only={"P3": True},
        extra=extra,
    )


def test_cross_area_hand_instance() -> None:
    # surpluses P1 80, P2 40 (P3 only adjacent): C1 70 -> P1, C2 30 -> P2 covers 100;
    # C3 (20) fits neither remainder (10, 10); C1 -> P1, C3 -> P2 would cover only 90
    com, pro, need = _cross_layers()
    result = bundles.cross_area(need, pro, communities=com)
    assert result.pairs[["community_id", "project_id", "amount_wan_yuan"]].to_numpy().tolist() == [
        ["C1", "P1", 70.0],
        ["C2", "P2", 30.0],
    ]
    # C1 [0,100] to P1 [500,600]: 400 m; C2 [1000,1100] to P2 [4000,4100]: 2,900 m
    assert result.pairs["distance_m"].tolist() == [400.0, 2900.0]
    assert result.info["covered_wan_yuan"] == pytest.approx(100.0)
    # penalties 0.01 万元/km: 0.004 + 0.029
    assert result.info["objective_wan_yuan"] == pytest.approx(100.0 - 0.033)
    assert result.info["status"] == "optimal"


def test_cross_area_split_exclude_distance_and_districts() -> None:
    com, pro, need = _cross_layers()
    # sharing: 80 + 40 = 120 pays all three (C1 70, C2 30, C3 20) when needs may be split
    split = bundles.cross_area(need, pro, communities=com, allow_split=True)
    assert split.info["covered_wan_yuan"] == pytest.approx(120.0)
    assert split.pairs.groupby("community_id")["amount_wan_yuan"].sum().to_dict() == {
        "C1": 70.0,
        "C2": 30.0,
        "C3": 20.0,
    }
    without_p1 = bundles.cross_area(need, pro, communities=com, exclude=["P1"])
    assert without_p1.pairs["project_id"].tolist() == ["P2"]
    # within 1 km: C1-P1 400 m, C2-P1 400 m, C3-P2 900 m (C2-P2 2,900 m is too far);
    # P1 pays C1 (70 of 80), so C2 goes unpaid
    near = bundles.cross_area(need, pro, communities=com, max_distance_m=1000)
    assert near.pairs[["community_id", "project_id"]].to_numpy().tolist() == [
        ["C1", "P1"],
        ["C3", "P2"],
    ]
    # C2 (district A) can take P1 (A, 0 m... 400 m) or P2 (B): with a heavy district
    # penalty and C1 excluded, C2 goes to P1 in its own district
    crossing = bundles.cross_area(
        need.drop("C1"), pro, communities=com, district_column="district", district_penalty=5.0
    )
    pairs = crossing.pairs.set_index("community_id")
    assert pairs.loc["C2", "project_id"] == "P1"
    assert not pairs.loc["C2", "crosses_district"]
    assert pairs.loc["C3", "project_id"] == "P2"
    remaining = bundles.cross_area(need, pro, surplus_wan_yuan=pd.Series({"P1": 35.0}))
    assert remaining.pairs[["community_id", "project_id"]].to_numpy().tolist() == [["C2", "P1"]]
    assert math.isnan(remaining.pairs["distance_m"].iloc[0]) is False


def test_cross_area_empty_and_bad_options() -> None:
    _com, pro, need = _cross_layers()
    nothing = bundles.cross_area(need * 0, pro)
    assert nothing.pairs.empty
    assert nothing.info["reason"] == "没有仍有资金缺口的小区"
    none_left = bundles.cross_area(need, pro, exclude=["P1", "P2"])
    assert "没有尚有结余" in none_left.info["reason"]
    with pytest.raises(ScenarioError, match="distance_cost_per_km"):
        bundles.cross_area(need, pro, distance_cost_per_km=-1)
    with pytest.raises(LayerError, match="need the communities' outlines"):
        bundles.cross_area(need, pro, max_distance_m=10)
    with pytest.raises(ScenarioError, match=r"CrossOptions.max_distance_m = 0 is not metres > 0"):
        CrossOptions(max_distance_m=0)
    with pytest.raises(ScenarioError, match=r"BundleOptions.method = 'fast' is not a method"):
        BundleOptions(method="fast")


# --------------------------------------------------------------------------- demo


def test_demo_district(repo_root: Path) -> None:
    gpkg = repo_root / "layers" / "demo.gpkg"
    com = gpd.read_file(gpkg, layer="communities")
    pro = gpd.read_file(gpkg, layer="projects")
    # a simple rule for the public cost still to find: 0.25 万元 per household
    need = pd.Series(0.25 * com["households"].to_numpy(float), index=com["community_id"])
    opts = BundleOptions(time_limit_s=20)
    result = bundles.large_area(com, pro, need, options=opts)
    _check_result(result, need, opts)
    assert len(result.bundles) >= 3
    assert result.info["gap"] <= 0.05
    # projects that may only balance adjacent communities are never paired across areas
    plan = finance.plan_financing(com, pro, need, bundle_options=opts)
    adjacent_only = set(pro.loc[pro["adjacent_only"], "project_id"])
    assert not set(plan.cross_area["project_id"]) & adjacent_only
    bundled = set(plan.bundles["project_ids"].str.split(",").explode())
    assert not set(plan.cross_area["project_id"]) & bundled
    assert plan.totals["communities"].sum() == len(com)


def test_bundle_outline_closes_the_street_between_members() -> None:
    from gisplan.bundles._large import _outline  # noqa: PLC0415

    # two 100 m blocks 20 m apart → one 220 x 100 m outline; a third 30 m further east joins too
    west, east = box(X0, Y0, X0 + 100, Y0 + 100), box(X0 + 120, Y0, X0 + 220, Y0 + 100)
    outline = _outline([west, east])
    assert outline.geom_type == "Polygon"
    assert outline.area == pytest.approx(220 * 100, rel=1e-6)
    far = box(X0 + 250, Y0, X0 + 350, Y0 + 100)
    assert _outline([west, east, far]).geom_type == "Polygon"
    assert _outline([west]).equals(west)
    touching = box(X0 + 100, Y0, X0 + 200, Y0 + 100)
    assert _outline([west, touching]).area == pytest.approx(200 * 100)


def test_bundle_outline_joins_corner_to_corner_neighbours() -> None:
    from gisplan.bundles._large import _outline  # noqa: PLC0415

    # blocks touching only diagonally across a 20 m x 20 m crossing stay one outline
    sw, ne = box(X0, Y0, X0 + 100, Y0 + 100), box(X0 + 120, Y0 + 120, X0 + 220, Y0 + 220)
    assert _outline([sw, ne]).geom_type == "Polygon"
