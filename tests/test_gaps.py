"""Tests for gisplan.gaps: gap table, per-community gaps, coverage per type and 2SFCA.

Distance tables are built by hand in the shape of ``access.nearest_facilities`` and
``access.facility_catchments``; every expected number is checked on paper.
"""

from __future__ import annotations

import logging
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from geopandas.testing import assert_geodataframe_equal
from hypothesis import given, settings
from hypothesis import strategies as st
from pandas.testing import assert_frame_equal
from shapely.geometry import box

from gisplan import gaps
from gisplan.errors import LayerError, SchemaError, StandardsError
from gisplan.gaps import (
    ADMINISTRATIVE_NOTE,
    GapOptions,
    community_gaps,
    coverage_by_type,
    gap_table,
    two_step_fca,
)
from gisplan.standards import LevelDistances, load_standard
from gisplan.vocabulary import column_label

import _fixtures

KG, SD = "kindergarten", "sub_district_office"


def _communities(population: list[float | None] | None = None) -> gpd.GeoDataFrame:
    """c1/c2/c3 of the shared fixtures: 120, 300 and 80 households."""
    comm = _fixtures.communities()
    if population is not None:
        comm["population"] = pd.array(population, dtype="Int64")
    return comm


def _distances(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    """A long table shaped like ``access.nearest_facilities`` (one row per community x type)."""
    frame = pd.DataFrame(rows, columns=["community_id", "type", "dist_m"])
    reachable = frame["dist_m"].notna()
    frame["facility_id"] = np.where(reachable, "f-" + frame["type"], None)
    frame["origin_id"] = frame["community_id"] + "-c"
    frame["origin_snap_m"] = 5.0
    frame["facility_snap_m"] = 5.0
    frame["method"] = "network"
    frame["note"] = np.where(reachable, "", "数据中无此类设施")
    return frame


# 3 communities x 2 types; kindergarten radius 300 m (standard), bus_stop 500 m (standard).
TOY = [
    ("c1", KG, 250.0),
    ("c2", KG, 400.0),
    ("c3", KG, math.nan),
    ("c1", "bus_stop", 600.0),
    ("c2", "bus_stop", 100.0),
    ("c3", "bus_stop", 500.0),
]


@pytest.fixture
def toy() -> pd.DataFrame:
    return gap_table(_distances(TOY), _communities([300, None, 200]))


# --------------------------------------------------------------------------- gap_table


def test_gap_table_covered_shortfall_affected(toy: pd.DataFrame) -> None:
    kg = toy[toy["type"] == KG].set_index("community_id")
    assert kg["covered"].tolist() == [True, False, False]
    assert kg.loc["c1", "shortfall_m"] == 0.0
    assert kg.loc["c2", "shortfall_m"] == pytest.approx(100.0)
    assert math.isnan(kg.loc["c3", "shortfall_m"])
    assert kg["households_affected"].tolist() == [0, 300, 80]
    # c2's population is unknown: its affected residents are unknown too
    assert kg["population_affected"].astype(object).tolist() == [0, pd.NA, 200]
    assert kg.loc["c3", "note"] == "数据中无此类设施"
    assert (kg["radius_m"] == 300.0).all()
    assert (kg["radius_source"] == "standard").all()
    assert kg["type_zh"].unique().tolist() == ["幼儿园"]
    bus = toy[toy["type"] == "bus_stop"].set_index("community_id")
    assert bus["covered"].tolist() == [False, True, True]  # 500 m on the radius counts
    assert bus["shortfall_m"].tolist() == [100.0, 0.0, 0.0]


def test_gap_table_columns_order_and_dtypes(toy: pd.DataFrame) -> None:
    assert toy.columns.tolist() == [
        "community_id",
        "name",
        "type",
        "type_zh",
        "level",
        "radius_m",
        "radius_source",
        "dist_m",
        "facility_id",
        "covered",
        "shortfall_m",
        "households",
        "population",
        "households_affected",
        "population_affected",
        "data_status",
        "note",
    ]
    # sorted by community_id, then standard order (kindergarten before bus_stop)
    assert list(zip(toy["community_id"], toy["type"], strict=True)) == [
        ("c1", KG),
        ("c1", "bus_stop"),
        ("c2", KG),
        ("c2", "bus_stop"),
        ("c3", KG),
        ("c3", "bus_stop"),
    ]
    assert toy.index.equals(pd.RangeIndex(6))
    assert toy["covered"].dtype == "boolean"
    for col in ("households", "population", "households_affected", "population_affected"):
        assert toy[col].dtype == "Int64", col
    assert toy["dist_m"].dtype == "float64"
    assert toy["shortfall_m"].dtype == "float64"
    assert toy.loc[0, "name"] == "幸福里小区"


def test_gap_table_is_deterministic_and_independent_of_input_order() -> None:
    dist = _distances(TOY)
    comm = _communities([300, None, 200])
    first = gap_table(dist, comm)
    shuffled = gap_table(dist.sample(frac=1.0, random_state=3), comm.iloc[[2, 0, 1]])
    assert_frame_equal(first, shuffled)


def test_gap_table_does_not_mutate_inputs() -> None:
    dist = _distances(TOY)
    comm = _communities([300, None, 200])
    options = GapOptions(radius_overrides={KG: 450.0})
    dist_copy, comm_copy = dist.copy(), comm.copy()
    gap_table(dist, comm, options=options)
    assert_frame_equal(dist, dist_copy)
    assert_geodataframe_equal(comm, comm_copy)


def test_radius_override_beats_standard_and_level() -> None:
    rows = [("c1", KG, 400.0), ("c1", "fresh_market", 450.0), ("c1", "bus_stop", 450.0)]
    options = GapOptions(radius_overrides={KG: 450.0}, levels=LevelDistances(min10_m=400.0))
    out = gap_table(_distances(rows), _communities(), options=options)
    out = out[out["community_id"] == "c1"].set_index("type")
    assert out.loc[KG, ["radius_m", "radius_source"]].tolist() == [450.0, "override"]
    assert bool(out.loc[KG, "covered"])
    # fresh_market has no service_radius_m: 10-min level distance from the options
    assert out.loc["fresh_market", ["radius_m", "radius_source"]].tolist() == [400.0, "level"]
    assert out.loc["fresh_market", "shortfall_m"] == pytest.approx(50.0)
    assert out.loc["bus_stop", ["radius_m", "radius_source"]].tolist() == [500.0, "standard"]


def test_custom_standard_table_with_code_column() -> None:
    table = load_standard().reset_index()
    table.loc[table["facility_code"] == KG, "service_radius_m"] = 200.0
    out = gap_table(_distances([("c1", KG, 250.0)]), _communities(), standard=table)
    assert out.loc[0, "radius_m"] == 200.0
    assert out.loc[0, "shortfall_m"] == pytest.approx(50.0)


def test_administrative_types_get_a_note() -> None:
    rows = [("c1", SD, 900.0), ("c1", "police_station", math.nan), ("c1", KG, 100.0)]
    out = gap_table(_distances(rows), _communities())
    out = out[out["community_id"] == "c1"].set_index("type")
    assert out.loc[SD, "note"] == ADMINISTRATIVE_NOTE
    assert out.loc["police_station", "note"] == f"数据中无此类设施；{ADMINISTRATIVE_NOTE}"
    assert out.loc[KG, "note"] == ""
    # still measured by walking distance against the 15-min level distance
    assert out.loc[SD, ["radius_m", "radius_source"]].tolist() == [1000.0, "level"]
    assert bool(out.loc[SD, "covered"])


def test_straight_line_rows_are_flagged() -> None:
    dist = _distances([("c1", KG, 250.0)])
    dist["method"] = "straight line x1.30"
    out = gap_table(dist, _communities())
    assert out.loc[0, "note"] == "estimated: straight line x1.30"


def test_community_without_a_distance_row_is_uncovered_with_note() -> None:
    out = gap_table(_distances([("c1", KG, 100.0), ("c2", KG, 100.0)]), _communities())
    c3 = out.set_index("community_id").loc["c3"]
    assert not bool(c3["covered"])
    assert math.isnan(c3["dist_m"])
    assert c3["note"] == "该小区无此类设施的步行距离"
    assert c3["households_affected"] == 80


def test_minimal_distance_table_and_no_population_column() -> None:
    dist = pd.DataFrame({"community_id": ["c1"], "type": [KG], "dist_m": [100.0]})
    out = gap_table(dist, _communities())
    assert out["facility_id"].isna().all()
    assert out["population"].isna().all()
    assert out["note"].tolist() == ["", *["该小区无此类设施的步行距离"] * 2]


def test_empty_distance_table_gives_empty_result() -> None:
    dist = _distances([])
    out = gap_table(dist, _communities())
    assert out.empty
    assert "covered" in out.columns


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize("value", [-5.0, 0.0, math.nan, math.inf, "300"])
def test_bad_radius_override_names_type_and_value(value: object) -> None:
    with pytest.raises(StandardsError, match=r"radius_overrides: 'kindergarten' = .*metres > 0"):
        GapOptions(radius_overrides={KG: value})  # type: ignore[dict-item]


def test_negative_radius_error_shows_the_value() -> None:
    with pytest.raises(StandardsError, match=r"'kindergarten' = -5"):
        GapOptions(radius_overrides={KG: -5})


def test_negative_weight_is_an_error() -> None:
    with pytest.raises(StandardsError, match=r"weights: 'nursery' = -1.0"):
        GapOptions(weights={"nursery": -1.0})


def test_unknown_override_code_suggests_codes() -> None:
    options = GapOptions(radius_overrides={"kindergarden": 300.0})
    with pytest.raises(StandardsError, match=r"'kindergarden'.*did you mean kindergarten"):
        gap_table(_distances(TOY), _communities(), options=options)


def test_unknown_weight_code_suggests_codes() -> None:
    options = GapOptions(weights={"nursry": 3.0})
    with pytest.raises(StandardsError, match=r"weight 'nursry'.*did you mean nursery"):
        gap_table(_distances(TOY), _communities(), options=options)


def test_unknown_type_in_distances_suggests_codes() -> None:
    with pytest.raises(StandardsError, match=r"type '幼儿'.*did you mean kindergarten"):
        gap_table(_distances([("c1", "幼儿", 100.0)]), _communities())


def test_every_unknown_code_is_listed_at_once() -> None:
    options = GapOptions(radius_overrides={"kindergarden": 300.0}, weights={"xyzzy": 1.0})
    with pytest.raises(StandardsError, match=r"(?s)kindergarden.*xyzzy.*no close code"):
        gap_table(_distances(TOY), _communities(), options=options)


def test_missing_households_column_is_a_schema_error() -> None:
    comm = _communities().drop(columns="households")
    with pytest.raises(SchemaError, match=r"'households' missing"):
        gap_table(_distances(TOY), comm)


def test_missing_household_values_are_a_schema_error() -> None:
    comm = _communities()
    comm["households"] = pd.array([120, None, 80], dtype="Int64")
    with pytest.raises(SchemaError, match=r"households missing in rows 1"):
        gap_table(_distances(TOY), comm)


def test_fractional_households_are_a_schema_error() -> None:
    comm = _communities()
    comm["households"] = [120.5, 300.0, 80.0]
    with pytest.raises(SchemaError, match=r"households negative or not whole in rows 0"):
        gap_table(_distances(TOY), comm)


def test_missing_distance_columns_are_a_schema_error() -> None:
    with pytest.raises(SchemaError, match=r"distances: column\(s\) 'dist_m' missing"):
        gap_table(_distances(TOY).drop(columns="dist_m"), _communities())


def test_distances_for_unknown_community_is_a_layer_error() -> None:
    with pytest.raises(LayerError, match=r"not in the communities layer: c9"):
        gap_table(_distances([("c9", KG, 100.0)]), _communities())


def test_duplicate_distance_rows_are_a_layer_error() -> None:
    with pytest.raises(LayerError, match=r"more than one row for \('c1', 'kindergarten'\)"):
        gap_table(_distances([("c1", KG, 100.0), ("c1", KG, 200.0)]), _communities())


def test_duplicate_community_ids_are_a_layer_error() -> None:
    comm = _communities()
    comm["community_id"] = ["c1", "c1", "c3"]
    with pytest.raises(LayerError, match=r"community_id not unique: c1"):
        gap_table(_distances([("c1", KG, 100.0)]), comm)


# --------------------------------------------------------------------------- options


def test_options_are_hashable_and_copy_their_mappings() -> None:
    radii = {KG: 400.0}
    options = GapOptions(radius_overrides=radii, weights={"nursery": 3.0})
    radii[KG] = 1.0
    assert options.radius_overrides[KG] == 400.0
    assert hash(options) == hash(GapOptions(radius_overrides={KG: 400}, weights={"nursery": 3}))
    assert options == GapOptions(radius_overrides={KG: 400.0}, weights={"nursery": 3.0})
    assert options.radius_overrides == {KG: 400.0}
    assert hash(GapOptions()) == hash(GapOptions())


# --------------------------------------------------------------------------- community_gaps


def test_community_gaps_scores_and_names(toy: pd.DataFrame) -> None:
    comm = _communities([300, None, 200])
    out = community_gaps(toy, comm).set_index("community_id")
    # kindergarten weighs 2 (一老一小), bus_stop 1: checked weight 3 everywhere
    assert out["n_types"].tolist() == [2, 2, 2]
    assert out["n_missing"].tolist() == [1, 1, 1]
    assert out["missing_types"].tolist() == ["公交车站", "幼儿园", "幼儿园"]
    assert out["gap_score"].tolist() == pytest.approx([1 / 3, 2 / 3, 2 / 3])
    assert out["households"].tolist() == [120, 300, 80]
    assert out["population"].astype(object).tolist() == [300, pd.NA, 200]


def test_community_gaps_keeps_index_order_geometry_and_dtypes(toy: pd.DataFrame) -> None:
    comm = _communities().iloc[[2, 0, 1]]
    comm.index = pd.Index(["x", "y", "z"])
    out = community_gaps(toy, comm)
    assert isinstance(out, gpd.GeoDataFrame)
    assert out.index.tolist() == ["x", "y", "z"]
    assert out["community_id"].tolist() == ["c3", "c1", "c2"]
    assert out.crs == comm.crs
    assert out.geometry.equals(comm.geometry)
    assert out.columns.tolist() == [
        "community_id",
        "name",
        "n_types",
        "n_missing",
        "missing_types",
        "types_no_data",
        "gap_score",
        "households",
        "population",
        "geometry",
    ]
    assert out["n_types"].dtype == "Int64"
    assert out["n_missing"].dtype == "Int64"


def test_missing_types_follow_standard_order() -> None:
    # given in reverse order; the standard lists middle_school, primary_school, kindergarten
    rows = [("c1", KG, math.nan), ("c1", "primary_school", 900.0), ("c1", "middle_school", 2000.0)]
    gap = gap_table(_distances(rows[::-1]), _communities())
    out = community_gaps(gap, _communities())
    assert out.loc[0, "missing_types"] == "初中、小学、幼儿园"
    assert out.loc[0, "gap_score"] == pytest.approx(1.0)
    assert out.loc[1, "missing_types"] == "初中、小学、幼儿园"  # no row at all: uncovered


def test_type_zh_drops_bracketed_notes() -> None:
    rows = [("c1", "elderly_day_care", math.nan), ("c1", "community_service_station", math.nan)]
    gap = gap_table(_distances(rows), _communities())
    assert gap["type_zh"].unique().tolist() == ["社区服务站", "老年人日间照料中心/社区日间照料中心"]
    out = community_gaps(gap, _communities())
    assert out.loc[0, "missing_types"] == "社区服务站、老年人日间照料中心/社区日间照料中心"


def test_custom_weights_and_zero_weights(toy: pd.DataFrame) -> None:
    comm = _communities()
    out = community_gaps(toy, comm, options=GapOptions(weights={KG: 1.0, "bus_stop": 3.0}))
    assert out["gap_score"].tolist() == pytest.approx([3 / 4, 1 / 4, 1 / 4])
    zero = community_gaps(toy, comm, options=GapOptions(weights={KG: 0.0, "bus_stop": 0.0}))
    assert zero["gap_score"].isna().all()
    # a partial mapping keeps the defaults for other types
    partial = community_gaps(toy, comm, options=GapOptions(weights={"bus_stop": 2.0}))
    assert partial["gap_score"].tolist() == pytest.approx([0.5, 0.5, 0.5])


def test_community_gaps_community_without_rows() -> None:
    gap = gap_table(_distances([("c1", KG, 100.0)]), _communities())
    out = community_gaps(gap[gap["community_id"] == "c1"], _communities())
    assert out["n_types"].tolist() == [1, 0, 0]
    assert out["missing_types"].tolist() == ["", "", ""]
    assert out.loc[0, "gap_score"] == 0.0
    assert out["gap_score"].iloc[1:].isna().all()


def test_community_gaps_does_not_mutate_inputs(toy: pd.DataFrame) -> None:
    comm = _communities([300, None, 200])
    toy_copy, comm_copy = toy.copy(), comm.copy()
    community_gaps(toy, comm)
    assert_frame_equal(toy, toy_copy)
    assert_geodataframe_equal(comm, comm_copy)


def test_community_gaps_unknown_community_is_a_layer_error(toy: pd.DataFrame) -> None:
    with pytest.raises(LayerError, match=r"not in the communities layer: c3"):
        community_gaps(toy, _communities().iloc[:2])


# --------------------------------------------------------------------------- coverage_by_type


def test_coverage_by_type_hand_numbers(toy: pd.DataFrame) -> None:
    cov = coverage_by_type(toy).set_index("type")
    assert cov.index.tolist() == [KG, "bus_stop"]  # standard order
    kg = cov.loc[KG]
    assert kg["type_zh"] == "幼儿园"
    assert kg["radius_m"] == 300.0
    assert (kg["communities"], kg["communities_covered"]) == (3, 1)
    assert kg["share_communities"] == pytest.approx(1 / 3)
    assert (kg["households"], kg["households_covered"]) == (500, 120)
    assert kg["share_households"] == pytest.approx(120 / 500)
    # c2's population is unknown: left out of numerator and denominator
    assert (kg["population"], kg["population_covered"]) == (500, 300)
    assert kg["share_population"] == pytest.approx(300 / 500)
    assert kg["communities_population_unknown"] == 1
    bus = cov.loc["bus_stop"]
    assert bus["share_communities"] == pytest.approx(2 / 3)
    assert bus["share_households"] == pytest.approx(380 / 500)
    assert bus["share_population"] == pytest.approx(200 / 500)


def test_coverage_by_type_dtypes_and_columns(toy: pd.DataFrame) -> None:
    cov = coverage_by_type(toy)
    for col in cov.columns:
        if col.startswith(("share_", "radius")):
            assert cov[col].dtype == "float64", col
        elif col.startswith(("communities", "households", "population")):
            assert cov[col].dtype == "Int64", col
    assert cov.index.equals(pd.RangeIndex(2))


def test_coverage_without_any_population() -> None:
    gap = gap_table(_distances(TOY), _communities())
    cov = coverage_by_type(gap)
    assert cov["population"].isna().all()
    assert cov["share_population"].isna().all()
    assert cov["communities_population_unknown"].tolist() == [3, 3]
    assert cov["share_households"].tolist() == pytest.approx([120 / 500, 380 / 500])


def test_coverage_of_a_type_without_facilities_is_zero() -> None:
    rows = [(c, "nursery", math.nan) for c in ("c1", "c2", "c3")]
    cov = coverage_by_type(gap_table(_distances(rows), _communities([1, 2, 3])))
    assert cov[["share_communities", "share_households", "share_population"]].iloc[0].tolist() == [
        0.0,
        0.0,
        0.0,
    ]


def test_coverage_by_type_does_not_mutate(toy: pd.DataFrame) -> None:
    copy = toy.copy()
    coverage_by_type(toy)
    assert_frame_equal(toy, copy)


# --------------------------------------------------------------------------- 2SFCA


def _fca_toy() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """f1 (capacity 100) reaches c1, c2; f2 (50) reaches c2, c3; c4 reaches nothing.

    Populations 100, 300, 100, 50: R1 = 100/400 = 0.25, R2 = 50/400 = 0.125;
    A1 = 0.25, A2 = 0.375, A3 = 0.125, A4 = 0.
    """
    pairs = pd.DataFrame(
        {
            "community_id": ["c1", "c2", "c2", "c3"],
            "facility_id": ["f1", "f1", "f2", "f2"],
            "type": KG,
            "dist_m": [100.0, 250.0, 200.0, 50.0],
        }
    )
    comm = pd.DataFrame(
        {"community_id": ["c1", "c2", "c3", "c4"], "population": [100, 300, 100, 50]}
    )
    fac = pd.DataFrame({"facility_id": ["f1", "f2"], "type": KG, "capacity": [100.0, 50.0]})
    return pairs, comm, fac


def test_two_step_fca_known_answer() -> None:
    pairs, comm, fac = _fca_toy()
    out = two_step_fca(pairs, comm, fac)
    assert out.columns.tolist() == [
        "community_id",
        "type",
        "accessibility",
        "n_facilities_within",
        "n_facilities_without_capacity",
        "note",
    ]
    assert out["community_id"].tolist() == ["c1", "c2", "c3", "c4"]
    assert out["accessibility"].tolist() == pytest.approx([0.25, 0.375, 0.125, 0.0])
    assert out["n_facilities_within"].tolist() == [1, 2, 1, 0]
    assert out["n_facilities_without_capacity"].tolist() == [0, 0, 0, 0]
    assert out["n_facilities_within"].dtype == "Int64"
    # every place is shared out: sum(A_i * P_i) equals the capacity that has demand
    assert float((out["accessibility"] * comm["population"]).sum()) == pytest.approx(150.0)


def test_two_step_fca_facility_without_capacity(caplog: pytest.LogCaptureFixture) -> None:
    pairs, comm, fac = _fca_toy()
    fac.loc[1, "capacity"] = math.nan
    with caplog.at_level(logging.WARNING, logger="gisplan.gaps"):
        out = two_step_fca(pairs, comm, fac)
    assert "1 facilities without capacity left out: f2" in caplog.text
    # only f1 counts: R1 = 0.25 for c1 and c2; c3 has nothing left
    assert out["accessibility"].tolist() == pytest.approx([0.25, 0.25, 0.0, 0.0])
    assert out["n_facilities_within"].tolist() == [1, 1, 0, 0]
    assert out["n_facilities_without_capacity"].tolist() == [0, 1, 1, 0]
    assert out.loc[2, "note"] == "facilities without capacity left out"


def test_two_step_fca_unknown_population(caplog: pytest.LogCaptureFixture) -> None:
    pairs, comm, fac = _fca_toy()
    comm["population"] = pd.array([100, None, 100, 50], dtype="Int64")
    with caplog.at_level(logging.WARNING, logger="gisplan.gaps"):
        out = two_step_fca(pairs, comm, fac)
    assert "unknown population" in caplog.text
    # c2 left out of the ratios: R1 = 100/100 = 1, R2 = 50/100 = 0.5; c2 still reaches both
    assert out["accessibility"].tolist() == pytest.approx([1.0, 1.5, 0.5, 0.0])
    assert out.loc[1, "note"] == "人口未知：不计入设施容量比"


def test_two_step_fca_several_types_and_households_fallback() -> None:
    pairs, comm, fac = _fca_toy()
    pairs = pd.concat(
        [pairs, pd.DataFrame({"community_id": ["c4"], "facility_id": ["n1"], "type": "nursery"})]
    )
    fac = pd.concat(
        [fac, pd.DataFrame({"facility_id": ["n1"], "type": ["nursery"], "capacity": [10.0]})]
    )
    comm = comm.rename(columns={"population": "households"})
    out = two_step_fca(pairs, comm, fac)
    assert list(zip(out["community_id"], out["type"], strict=True))[:2] == [
        ("c1", KG),
        ("c1", "nursery"),
    ]
    assert len(out) == 8
    nursery = out[out["type"] == "nursery"]["accessibility"].tolist()
    assert nursery == pytest.approx([0.0, 0.0, 0.0, 10 / 50])


def test_two_step_fca_zero_demand_adds_nothing() -> None:
    pairs, comm, fac = _fca_toy()
    comm["population"] = [0, 0, 100, 50]
    out = two_step_fca(pairs, comm, fac)
    # f1 serves nobody (no ratio); f2: 50 / 100
    assert out["accessibility"].tolist() == pytest.approx([0.0, 0.5, 0.5, 0.0])


def test_two_step_fca_does_not_mutate() -> None:
    pairs, comm, fac = _fca_toy()
    copies = (pairs.copy(), comm.copy(), fac.copy())
    two_step_fca(pairs, comm, fac)
    for frame, copy in zip((pairs, comm, fac), copies, strict=True):
        assert_frame_equal(frame, copy)


def test_two_step_fca_errors() -> None:
    pairs, comm, fac = _fca_toy()
    with pytest.raises(SchemaError, match=r"facilities: column\(s\) 'capacity' missing"):
        two_step_fca(pairs, comm, fac.drop(columns="capacity"))
    with pytest.raises(SchemaError, match=r"'households' missing"):
        two_step_fca(pairs, comm.drop(columns="population"), fac)
    with pytest.raises(LayerError, match=r"unknown facility_id f9"):
        two_step_fca(pairs.replace({"facility_id": {"f2": "f9"}}), comm, fac)
    with pytest.raises(LayerError, match=r"listed twice"):
        two_step_fca(pd.concat([pairs, pairs]), comm, fac)
    with pytest.raises(LayerError, match=r">= 0"):
        two_step_fca(pairs, comm, fac.assign(capacity=-1.0))


# --------------------------------------------------------------------------- labels


def test_every_output_column_has_a_chinese_label(toy: pd.DataFrame) -> None:
    pairs, comm, fac = _fca_toy()
    outputs = [
        toy,
        community_gaps(toy, _communities()),
        coverage_by_type(toy),
        two_step_fca(pairs, comm, fac),
    ]
    for frame in outputs:
        missing = [c for c in frame.columns if column_label(c) == c]
        assert not missing
    assert column_label("dist_m") == "步行距离（m）"
    assert column_label("shortfall_m") == "超出距离（m）"
    assert column_label("covered") == "是否覆盖"
    assert column_label("share_households") == "覆盖户数比例"


def test_public_names() -> None:
    assert set(gaps.__all__) >= {
        "ONE_OLD_ONE_YOUNG_WEIGHT",
        "GapOptions",
        "gap_table",
        "community_gaps",
        "coverage_by_type",
        "two_step_fca",
    }
    assert not hasattr(gaps, "ONE_OLD_ONE_YOUNG")  # the standards table's group column says


def test_one_old_one_young_comes_from_the_standard_table() -> None:
    """The 一老一小 weighting follows the ``group`` column, including a city's own table."""
    table = load_standard()
    g = pd.DataFrame(
        {
            "community_id": ["c1", "c1"],
            "type": ["nursery", "bus_stop"],
            "type_zh": ["托儿所", "公交车站"],
            "covered": [False, True],
        }
    )
    c = gpd.GeoDataFrame(
        {"community_id": ["c1"], "households": [10]}, geometry=[box(0, 0, 1, 1)], crs=4548
    )
    assert float(community_gaps(g, c, standard=table).loc[0, "gap_score"]) == pytest.approx(2 / 3)
    plain = table.assign(group=table["group"].replace({"children": ""}))
    assert float(community_gaps(g, c, standard=plain).loc[0, "gap_score"]) == pytest.approx(1 / 2)


# --------------------------------------------------------------------------- properties

_dist = st.one_of(st.none(), st.floats(min_value=0.0, max_value=3000.0))


@settings(max_examples=60, deadline=None)
@given(
    dists=st.lists(_dist, min_size=3, max_size=3),
    radius=st.floats(min_value=1.0, max_value=2000.0),
    extra=st.floats(min_value=0.0, max_value=2000.0),
)
def test_coverage_never_falls_as_the_radius_grows(
    dists: list[float | None], radius: float, extra: float
) -> None:
    rows = [
        (c, KG, math.nan if d is None else d)
        for c, d in zip(("c1", "c2", "c3"), dists, strict=True)
    ]
    dist = _distances(rows)
    comm = _communities([10, None, 30])
    small = gap_table(dist, comm, options=GapOptions(radius_overrides={KG: radius}))
    large = gap_table(dist, comm, options=GapOptions(radius_overrides={KG: radius + extra}))
    assert (small["covered"] <= large["covered"]).all()
    a, b = coverage_by_type(small).iloc[0], coverage_by_type(large).iloc[0]
    for share in ("share_communities", "share_households"):
        assert a[share] <= b[share]
    if not math.isnan(a["share_population"]):
        assert a["share_population"] <= b["share_population"]
    assert (small["shortfall_m"].fillna(0) >= large["shortfall_m"].fillna(0)).all()


_types = ["middle_school", KG, "nursery", "bus_stop", SD]


@settings(max_examples=60, deadline=None)
@given(
    dists=st.lists(_dist, min_size=len(_types) * 3, max_size=len(_types) * 3),
    weights=st.dictionaries(
        st.sampled_from(_types), st.floats(min_value=0.01, max_value=10.0), max_size=5
    ),
)
def test_gap_score_in_unit_interval(dists: list[float | None], weights: dict[str, float]) -> None:
    rows = [
        (c, t, math.nan if d is None else d)
        for (c, t), d in zip(
            [(c, t) for c in ("c1", "c2", "c3") for t in _types], dists, strict=True
        )
    ]
    options = GapOptions(weights=weights)
    gap = gap_table(_distances(rows), _communities(), options=options)
    out = community_gaps(gap, _communities(), options=options)
    assert out["gap_score"].between(0.0, 1.0).all()
    assert ((out["gap_score"] == 0.0) == (out["n_missing"] == 0)).all()
    assert ((out["gap_score"] == 1.0) == (out["n_missing"] == out["n_types"])).all()
    assert (out["n_missing"] == out["missing_types"].str.count("、") + (out["n_missing"] > 0)).all()


@settings(max_examples=40, deadline=None)
@given(
    capacity=st.lists(st.floats(min_value=0.0, max_value=500.0), min_size=2, max_size=2),
    population=st.lists(st.integers(min_value=1, max_value=1000), min_size=4, max_size=4),
)
def test_two_step_fca_shares_out_all_capacity(capacity: list[float], population: list[int]) -> None:
    pairs, comm, fac = _fca_toy()
    comm["population"] = population
    fac["capacity"] = capacity
    out = two_step_fca(pairs, comm, fac)
    assert (out["accessibility"] >= 0).all()
    assert float((out["accessibility"] * comm["population"]).sum()) == pytest.approx(sum(capacity))


def test_id_dtype_of_the_communities_layer_is_kept() -> None:
    comm = _communities()
    comm["community_id"] = comm["community_id"].astype("string")  # as read_layer returns it
    gap = gap_table(_distances(TOY), comm)
    assert gap["community_id"].dtype == "string"
    assert community_gaps(gap, comm)["community_id"].dtype == "string"
    pairs, _, fac = _fca_toy()
    fca_comm = pd.DataFrame(
        {"community_id": pd.array(["c1", "c2", "c3", "c4"], dtype="string"), "households": 1}
    )
    assert two_step_fca(pairs, fca_comm, fac)["community_id"].dtype == "string"
