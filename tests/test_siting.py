"""Tests of gisplan.siting on a straight street checked by hand, and on the demo district.

The street runs 2,000 m east from (X0, Y0). Communities have one gate on the street at
x = 100 (A), 500 (B), 900 (C), 1300 (D), 1900 (E), with 1000, 800, 600, 500, 300 residents.
An existing nursery sits at x = 0; candidate sites at x = 700 (S1, 100 万元), 1100 (S2, 80),
1500 (S3, 50), 500 (S4, 30). The nursery radius is 300 m (standard), so walking distances
are |x_gate - x_site| and:

* today only A is covered (100 m); E (400 m from S3) can never be;
* S1 reaches B, C (200 m each); S2 reaches C, D; S3 reaches D; S4 reaches B (0 m).
"""

from __future__ import annotations

import itertools
import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pandas.testing import assert_frame_equal
from shapely.geometry import LineString, Point, box

from gisplan import access
from gisplan.errors import CRSError, LayerError, ScenarioError, StandardsError
from gisplan.network import build_graph
from gisplan.siting import SitingOptions, SitingResult, propose

from _fixtures import CRS, X0, Y0

GATES = {"A": 100, "B": 500, "C": 900, "D": 1300, "E": 1900}
RESIDENTS = {"A": 1000, "B": 800, "C": 600, "D": 500, "E": 300}
SITES = {"S1": (700, 100.0), "S2": (1100, 80.0), "S3": (1500, 50.0), "S4": (500, 30.0)}


def street() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(geometry=[LineString([(X0, Y0), (X0 + 2000, Y0)])], crs=CRS)


def communities() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "community_id": list(GATES),
            "households": [r // 2 for r in RESIDENTS.values()],
            "population": list(RESIDENTS.values()),
        },
        geometry=[box(X0 + x - 20, Y0 + 10, X0 + x + 20, Y0 + 50) for x in GATES.values()],
        crs=CRS,
    )


def origins() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"community_id": list(GATES), "origin_id": [f"{c}-E1" for c in GATES]},
        geometry=[Point(X0 + x, Y0) for x in GATES.values()],
        crs=CRS,
    )


def facilities(capacity: float | None = None) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"facility_id": ["F1"], "type": ["nursery"], "capacity": [capacity]},
        geometry=[Point(X0, Y0)],
        crs=CRS,
    )


def sites(allowed: str = "nursery", **extra: list[object]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "site_id": list(SITES),
            "area_m2": [500.0] * 4,
            "kind": "idle_building",
            "cost_wan_yuan": [c for _, c in SITES.values()],
            "allowed_types": [allowed] * 4,
            **extra,
        },
        geometry=[Point(X0 + x, Y0) for x, _ in SITES.values()],
        crs=CRS,
    )


def run(
    site_layer: gpd.GeoDataFrame | None = None,
    fac: gpd.GeoDataFrame | None = None,
    comm: gpd.GeoDataFrame | None = None,
    **options: object,
) -> SitingResult:
    options.setdefault("types", ("nursery",))
    return propose(
        communities() if comm is None else comm,
        facilities() if fac is None else fac,
        sites() if site_layer is None else site_layer,
        street(),
        origins=origins(),
        options=SitingOptions(**options),  # type: ignore[arg-type]
    )


def chosen(result: SitingResult) -> list[str]:
    return result.sites_chosen["site_id"].tolist()


# --------------------------------------------------------------------------- models


def test_lscp_picks_the_cheapest_full_cover() -> None:
    # B, C, D need cover. Covers: S1+S2 = 180, S1+S3 = 150, S4+S2 = 110 (cheapest).
    r = run(model="lscp")
    assert chosen(r) == ["S2", "S4"]
    table = r.sites_chosen.set_index("site_id")
    assert table.loc["S2", "newly_covered_ids"] == "C、D"  # C is 200 m from S2 and 400 m from S4
    assert table.loc["S4", "newly_covered_ids"] == "B"
    assert table["cost_wan_yuan"].sum() == pytest.approx(110.0)
    info = r.info.iloc[0]
    assert (info["solver_status"], info["objective"], info["mip_gap"]) == ("optimal", 110.0, 0.0)
    assert (info["candidates"], info["demand"], info["chosen"]) == (4, 3, 2)
    # before: A (1000 residents of 3200); after: A-D (2900 of 3200)
    cov = r.coverage.iloc[0]
    assert (cov["communities_before"], cov["communities_after"], cov["added"]) == (1, 4, 3)
    assert (cov["residents_before"], cov["residents_after"]) == (1000.0, 2900.0)
    assert (cov["households_before"], cov["households_after"]) == (500, 1450)
    assert cov["share_before"] == pytest.approx(1000 / 3200)
    assert cov["share_after"] == pytest.approx(2900 / 3200)
    assert r.uncoverable[["community_id", "uncovered_reason_code"]].to_numpy().tolist() == [
        ["E", "no_candidate_in_radius"]
    ]
    assert "服务半径300 m内" in r.uncoverable.iloc[0]["uncovered_reason"]


def test_lscp_without_costs_uses_fewest_sites() -> None:
    # every pair covering B, C, D has two sites; S1 alone misses D, so two are needed
    r = run(site_layer=sites(cost_wan_yuan=[None] * 4), model="lscp")
    assert len(chosen(r)) == 2
    assert r.info.iloc[0]["objective"] == 2.0
    assert any("fewest sites" in n for n in r.notes)
    assert r.coverage.iloc[0]["communities_after"] == 4


def test_mclp_one_site_covers_most_residents() -> None:
    # p = 1: S1 covers B + C = 1400, S2 C + D = 1100, S4 B = 800, S3 D = 500
    r = run(model="mclp", n_new=1)
    assert chosen(r) == ["S1"]
    assert r.info.iloc[0]["objective"] == 1400.0
    assert r.sites_chosen.iloc[0]["residents_newly_covered"] == 1400.0
    assert r.sites_chosen.iloc[0]["households_newly_covered"] == 700
    left = r.uncoverable.set_index("community_id")["uncovered_reason_code"].to_dict()
    assert left == {"D": "left_out", "E": "no_candidate_in_radius"}


def test_mclp_two_sites_ties_go_to_the_cheapest() -> None:
    # p = 2: S1+S2, S1+S3 and S2+S4 all cover B, C, D (1900); S2+S4 costs least (110)
    r = run(model="mclp", n_new=2)
    assert chosen(r) == ["S2", "S4"]
    assert r.info.iloc[0]["objective"] == 1900.0


def test_mclp_budget() -> None:
    # 100 万元: S1 (1400) beats S3+S4 (80 万元, 1300) and S2 (1100)
    r = run(model="mclp", budget_wan_yuan=100)
    assert chosen(r) == ["S1"]
    assert r.coverage.iloc[0]["communities_after"] == 3


def test_budget_below_every_site_gives_an_explained_empty_proposal() -> None:
    r = run(model="mclp", budget_wan_yuan=20)
    assert r.sites_chosen.empty
    assert any("below the cheapest candidate site (30 万元)" in n for n in r.notes)
    assert r.coverage.iloc[0]["communities_after"] == 1
    assert sorted(r.uncoverable["community_id"]) == ["B", "C", "D", "E"]
    assert "预算20万元" in r.uncoverable.iloc[0]["uncovered_reason"]


def test_capacity_limits_what_one_site_covers() -> None:
    # capacity 1000 residents per new nursery; the existing F1 (capacity 500) cannot hold A
    # (1000), so nothing is covered today under capacities. p = 1: S1 can hold B (800) or
    # C (600) but not both; S4 holds B (800) as well and is cheaper -> S4, 800.
    r = run(model="mclp", n_new=1, capacities={"nursery": 1000}, fac=facilities(500.0))
    assert chosen(r) == ["S4"]
    assert r.info.iloc[0]["model"] == "mclp+capacity"
    cov = r.coverage.iloc[0]
    assert (cov["cover_rule"], cov["communities_before"], cov["communities_after"]) == (
        "distance+capacity",
        0,
        1,
    )
    assert cov["residents_before"] == 0.0
    # the distance-only gap table still says A is covered
    assert r.gaps_after.set_index("community_id").loc["A", "covered"]


def test_capacity_with_expansion_of_an_existing_facility() -> None:
    # budget 40: enlarge F1 by 600 (10 万元) so it holds A (1000 <= 1100), plus S4 (30) for B
    r = run(
        model="mclp",
        budget_wan_yuan=40,
        capacities={"nursery": 1000},
        expand_existing=True,
        expansion_capacity={"nursery": 600},
        expansion_cost_wan_yuan={"nursery": 10},
        fac=facilities(500.0),
    )
    table = r.sites_chosen.set_index("site_id")
    assert table.index.tolist() == ["F1", "S4"]
    assert table.loc["F1", "kind"] == "expansion"
    assert table.loc["F1", "newly_covered_ids"] == "A"
    assert table.loc["S4", "newly_covered_ids"] == "B"
    assert r.info.iloc[0]["objective"] == 1800.0
    assert r.info.iloc[0]["cost_wan_yuan"] == 40.0


def test_unlimited_existing_capacity_covers_its_catchment() -> None:
    # F1 without a capacity is unlimited: A is covered before and after
    r = run(model="lscp", capacities={"nursery": 5000})
    assert r.coverage.iloc[0]["communities_before"] == 1
    assert r.coverage.iloc[0]["communities_after"] == 4


# --------------------------------------------------------------------------- several types


def two_types() -> gpd.GeoDataFrame:
    return sites(allowed="nursery、elderly_day_care")


def test_one_type_per_site_by_default() -> None:
    # both types uncovered at B..D (no day care anywhere: A too). With one site each per type
    # and one type per site, the two types must use different sites.
    r = run(site_layer=two_types(), types=("nursery", "elderly_day_care"), n_new=1)
    assert len(r.sites_chosen) == 2
    assert r.sites_chosen["site_id"].is_unique
    assert set(r.info["solved_with"]) == {"nursery、elderly_day_care"}


def test_several_types_per_site_when_allowed_and_area_suffices() -> None:
    both = run(
        site_layer=two_types(),
        types=("nursery", "elderly_day_care"),
        n_new=1,
        allow_multiple_types_per_site=True,
    )
    # S1 is best for both (B + C): it hosts both, its 100 万元 split equally
    assert both.sites_chosen[["site_id", "type", "cost_wan_yuan"]].to_numpy().tolist() == [
        ["S1", "nursery", 50.0],
        ["S1", "elderly_day_care", 50.0],
    ]
    assert "2类设施共用此地块" in both.sites_chosen.iloc[0]["note"]
    # 300 + 300 m² > 500 m²: S1 cannot hold both any more
    small = run(
        site_layer=two_types(),
        types=("nursery", "elderly_day_care"),
        n_new=1,
        allow_multiple_types_per_site=True,
        min_area_m2={"nursery": 300, "elderly_day_care": 300},
    )
    assert small.sites_chosen["site_id"].is_unique


def test_min_area_removes_small_sites() -> None:
    layer = sites(area_m2=[500.0, 500.0, 500.0, 100.0])  # S4 too small for 200 m²
    r = run(site_layer=layer, model="lscp", min_area_m2={"nursery": 200})
    # without S4, B is only reached by S1: S1 + S2 (180) or S1 + S3 (150)
    assert chosen(r) == ["S1", "S3"]
    assert any("S4 (nursery)" in n for n in r.notes)


def test_types_default_to_gaps_that_some_site_allows() -> None:
    layer = sites(allowed="nursery、kindergarten")
    fac = pd.concat(
        [
            facilities(),
            gpd.GeoDataFrame(  # kindergartens at every gate: no kindergarten gap
                {"facility_id": [f"K{i}" for i in range(5)], "type": "kindergarten"},
                geometry=[Point(X0 + x, Y0) for x in GATES.values()],
                crs=CRS,
            ),
        ],
        ignore_index=True,
    )
    r = run(site_layer=layer, fac=gpd.GeoDataFrame(fac, crs=CRS), types=None, model="lscp")
    assert r.coverage["type"].tolist() == ["nursery"]
    assert any("kindergarten" in n for n in r.notes)


def test_one_old_one_young_weights() -> None:
    comm = communities()
    comm["children"] = [10, 50, 400, 300, 20]  # C + D have the most children
    r = run(comm=comm, model="mclp", n_new=1, weight="one_old_one_young")
    # S2 reaches C + D = 700 children; S1 B + C = 450; S4 B = 50
    assert chosen(r) == ["S2"]
    assert r.info.iloc[0]["objective"] == 700.0
    assert r.sites_chosen.iloc[0]["weight_newly_covered"] == 700.0


def test_one_old_one_young_falls_back_to_residents(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="gisplan.siting"):
        r = run(model="mclp", n_new=1, weight="one_old_one_young")
    assert chosen(r) == ["S1"]  # residents, as with weight="population"
    assert any("weighted by residents" in n for n in r.notes)
    assert "weighted by residents" in caplog.text


def test_shares_times_residents() -> None:
    comm = communities()
    comm["child_share"] = [0.1, 0.1, 0.1, 0.9, 0.1]  # D: 450 children
    comm["elderly_share"] = 0.5  # not read for a nursery (一小 only)
    r = run(comm=comm, model="mclp", n_new=1, weight="one_old_one_young")
    # S2: C 60 + D 450 = 510; S1: B 80 + C 60 = 140; S3: D 450
    assert chosen(r) == ["S2"]
    assert r.info.iloc[0]["objective"] == pytest.approx(510.0)


# --------------------------------------------------------------------------- bad input


def test_no_sites_layer_is_an_error() -> None:
    with pytest.raises(LayerError, match="no sites layer"):
        propose(communities(), facilities(), None, street(), options=SitingOptions(model="lscp"))


def test_empty_sites_give_an_empty_explained_proposal() -> None:
    r = run(site_layer=sites().iloc[:0], types=None, model="lscp")
    assert r.sites_chosen.empty
    assert r.info.empty
    assert any("no candidate sites" in n for n in r.notes)


def test_sites_in_degrees() -> None:
    with pytest.raises(CRSError, match="projected"):
        run(site_layer=sites().to_crs(4326), model="lscp")


def test_unknown_allowed_type_names_row_code_and_suggestion() -> None:
    layer = sites()
    layer.loc[2, "allowed_types"] = "nursry"
    with pytest.raises(StandardsError, match=r"row 3 \(site_id 'S3'\).*'nursry'.*nursery"):
        run(site_layer=layer, model="lscp")


def test_unknown_option_code() -> None:
    with pytest.raises(StandardsError, match=r"kindergarden.*kindergarten"):
        run(model="lscp", types=("kindergarden",))


def test_candidates_all_outside_the_radius() -> None:
    # 50 m off the street at x = 1600: 350 m from D's and E's gates, the nearest ones
    far = gpd.GeoDataFrame(
        {"site_id": ["S9"], "allowed_types": ["nursery"], "cost_wan_yuan": [10.0]},
        geometry=[Point(X0 + 1600, Y0 + 50)],
        crs=CRS,
    )
    r = run(site_layer=far, model="lscp")
    assert r.sites_chosen.empty
    assert r.coverage.iloc[0]["added"] == 0
    assert set(r.uncoverable["uncovered_reason_code"]) == {"no_candidate_in_radius"}
    assert r.info.iloc[0]["note"] == "未覆盖小区服务半径300 m内没有备选用地"


def test_option_checks() -> None:
    with pytest.raises(ScenarioError, match=r"n_new.*mclp needs a limit"):
        SitingOptions(model="mclp")
    with pytest.raises(ScenarioError) as err:
        SitingOptions(model="lscp", weight="cars", budget_wan_yuan=-1, mip_rel_gap=2)
    keys = [k for k, _, _ in err.value.problems]
    assert keys == ["siting.weight", "siting.budget_wan_yuan", "siting.mip_rel_gap"]
    with pytest.raises(ScenarioError, match="expansion_cost_wan_yuan"):
        SitingOptions(model="lscp", capacities={"nursery": 10}, expand_existing=True)
    assert SitingOptions(model="mclp", n_new={"nursery": 2}).limit_for("nursery") == 2
    assert hash(SitingOptions(model="lscp", radius_m={"nursery": 250}))


# --------------------------------------------------------------------------- properties


def test_polygon_sites_and_radius_override() -> None:
    layer = sites()
    layer = layer.set_geometry(
        [box(p.x - 10, p.y - 10, p.x + 10, p.y + 10) for p in layer.geometry]
    )
    # radius 450 m: S1 reaches B, C; S2 C, D; S3 D, E (400 m); S4 B, C (400 m). E needs S3
    # (50), which also covers D; B and C then cost least with S4 (30): S3 + S4 = 80 万元
    r = run(site_layer=layer, model="lscp", radius_m={"nursery": 450})
    assert r.coverage.iloc[0]["radius_m"] == 450.0
    assert chosen(r) == ["S3", "S4"]
    assert r.uncoverable.empty


def test_deterministic_and_inputs_unchanged() -> None:
    comm, fac, layer = communities(), facilities(), two_types()
    saved = (comm.copy(), fac.copy(), layer.copy())
    opts = SitingOptions(types=("nursery", "elderly_day_care"), model="mclp", n_new=2)
    first = propose(comm, fac, layer, street(), options=opts, origins=origins())
    second = propose(comm, fac, layer, street(), options=opts, origins=origins())
    assert_frame_equal(first.sites_chosen, second.sites_chosen)
    assert_frame_equal(first.coverage, second.coverage)
    assert_frame_equal(first.gaps_after, second.gaps_after)
    for before, now in zip(saved, (comm, fac, layer), strict=True):
        assert_frame_equal(before, now)


def test_graph_and_derived_origins() -> None:
    graph = build_graph(street())
    r = propose(
        communities(),
        facilities(),
        sites(),
        None,
        graph=graph,
        options=SitingOptions(types=("nursery",), model="lscp"),
    )
    # derived gates sit on the squares' south sides, 10 m from the street: same answer
    assert chosen(r) == ["S2", "S4"]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    xs=st.lists(st.integers(0, 40), min_size=2, max_size=5, unique=True),
    costs=st.lists(st.integers(1, 9), min_size=5, max_size=5),
    p=st.integers(1, 2),
)
def test_mclp_matches_brute_force(xs: list[int], costs: list[int], p: int) -> None:
    layer = gpd.GeoDataFrame(
        {
            "site_id": [f"S{i}" for i in range(len(xs))],
            "allowed_types": "nursery",
            "cost_wan_yuan": [float(c) for c in costs[: len(xs)]],
        },
        geometry=[Point(X0 + 50 * x, Y0) for x in xs],
        crs=CRS,
    )
    r = run(site_layer=layer, model="mclp", n_new=p)
    # brute force over every set of at most p sites, on the same catchment pairs
    pairs = access.facility_catchments(
        build_graph(street()),
        origins(),
        layer.assign(facility_id=layer["site_id"], type="nursery"),
        radius_m=300,
    )
    need = {c for c in GATES if c != "A"}
    reach = pairs.groupby("facility_id")["community_id"].agg(lambda s: set(s) & need)
    best = 0
    for k in range(p + 1):
        for combo in itertools.combinations(reach.index, k):
            got = set().union(*(reach[s] for s in combo)) if combo else set()
            best = max(best, sum(RESIDENTS[c] for c in got))
    assert r.info.iloc[0]["objective"] == best
    assert r.coverage.iloc[0]["communities_after"] >= r.coverage.iloc[0]["communities_before"]


# --------------------------------------------------------------------------- demo


@pytest.fixture(scope="module")
def demo(repo_root: object) -> dict[str, gpd.GeoDataFrame]:
    from gisplan.runner import load_layers  # noqa: PLC0415

    layers, _, _ = load_layers(f"{repo_root}/scenarios/demo.yaml")
    return layers


def test_demo_district(demo: dict[str, gpd.GeoDataFrame]) -> None:
    opts = SitingOptions(types=("elderly_day_care", "nursery"), model="mclp", n_new=2)
    r = propose(
        demo["communities"], demo["facilities"], demo["sites"], demo["network"], options=opts
    )
    assert r.sites_chosen[["site_id", "type"]].to_numpy().tolist() == DEMO_CHOSEN
    cov = r.coverage.set_index("type")
    assert cov.loc["elderly_day_care", ["communities_before", "communities_after"]].tolist() == [
        6,
        DEMO_DAY_CARE_AFTER,
    ]
    assert cov.loc["nursery", ["communities_before", "communities_after"]].tolist() == [
        3,
        DEMO_NURSERY_AFTER,
    ]
    assert set(r.info["solver_status"]) == {"optimal"}
    assert r.info["objective"].sum() == pytest.approx(27052.896104)
    assert cov["residents_after"].sum() - cov["residents_before"].sum() == 26776.0
    # the after-gaps agree with the coverage table, and no community lost coverage
    after = r.gaps_after.groupby("type")["covered"].sum()
    assert after["nursery"] == DEMO_NURSERY_AFTER
    before = r.gaps_before.set_index(["community_id", "type"])["covered"]
    now = r.gaps_after.set_index(["community_id", "type"])["covered"]
    assert not (before & ~now).any()
    assert np.isclose(
        r.sites_chosen["residents_newly_covered"].sum(),
        (cov["residents_after"] - cov["residents_before"]).sum(),
    )


#: Checked by enumerating every choice of <= 2 day-care and <= 2 nursery sites (one type per
#: site) on the catchment pairs: best demand 27,052.9 (day care 13,797 + nursery 13,255.9,
#: residents; blank populations estimated from households), S06+S10 / S13+S22.
DEMO_CHOSEN = [
    ["S06", "elderly_day_care"],
    ["S10", "elderly_day_care"],
    ["S13", "nursery"],
    ["S22", "nursery"],
]
DEMO_DAY_CARE_AFTER = 13
DEMO_NURSERY_AFTER = 16
