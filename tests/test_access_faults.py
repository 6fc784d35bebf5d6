"""Faults in access and layer reading: facilities off the network, NaN/Infinity coordinates,
and validate_scenario's promise never to raise (issue 15, items 2 and 4)."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal
from pyogrio.errors import DataSourceError
from shapely.geometry import LineString, Point

from gisplan import runner
from gisplan.access import service_areas
from gisplan.errors import LayerError
from gisplan.layers import check_layer, validate_layer
from gisplan.network import build_graph
from gisplan.runner import run_scenario, validate_scenario

from _fixtures import CRS, X0, Y0, communities, write_project

if TYPE_CHECKING:
    from pathlib import Path


def _street() -> gpd.GeoDataFrame:
    xs = list(range(-1000, 1001, 100))
    return gpd.GeoDataFrame(
        geometry=[LineString([(X0 + a, Y0), (X0 + b, Y0)]) for a, b in itertools.pairwise(xs)],
        crs=CRS,
    )


# --------------------------------------------------------------------------- item 2


def test_service_areas_skip_a_facility_off_the_network_before_others() -> None:
    # F0 sorts first and is 5 km off the street: it owns no street piece, so the owners of
    # the pieces are 1, 2 (not 0, 1) -- shapely refused such gaps ("Index 0 is missing")
    graph = build_graph(_street())
    f = gpd.GeoDataFrame(
        {"facility_id": ["F0", "F1", "F2"], "type": ["park", "park", "park"]},
        geometry=[Point(X0, Y0 + 5000), Point(X0, Y0), Point(X0 + 500, Y0 + 10)],
        crs=CRS,
    )
    before = f.copy()
    a = service_areas(graph, f, radius_m=300, buffer_m=20)
    assert a["facility_id"].tolist() == ["F0", "F1", "F2"]
    assert a.geometry.iloc[0].is_empty
    want = LineString([(X0 - 300, Y0), (X0 + 300, Y0)]).buffer(20, quad_segs=4)
    assert a.geometry.iloc[1].area == pytest.approx(want.area, rel=1e-3)
    want2 = LineString([(X0 + 210, Y0), (X0 + 790, Y0)]).buffer(20, quad_segs=4)
    assert a.geometry.iloc[2].area == pytest.approx(want2.area, rel=1e-3)
    assert_geodataframe_equal(f, before)


def test_service_areas_gap_in_the_middle_and_all_off() -> None:
    graph = build_graph(_street())
    f = gpd.GeoDataFrame(
        {"facility_id": ["F1", "F2", "F3"], "type": ["park"] * 3},
        geometry=[Point(X0, Y0), Point(X0, Y0 - 3000), Point(X0 + 500, Y0)],
        crs=CRS,
    )
    a = service_areas(graph, f, radius_m=100)
    assert a.geometry.is_empty.tolist() == [False, True, False]
    off = f.assign(geometry=[Point(X0, Y0 + 4000 + i) for i in range(3)])
    assert service_areas(graph, off, radius_m=100).geometry.is_empty.all()


# --------------------------------------------------------------------------- item 4


def _wkt(text: str) -> object:
    """A geometry with NaN/inf coordinates, as GDAL or a WKT cell gives it."""
    with np.errstate(invalid="ignore", over="ignore"):  # numpy flags NaN/overflow in GEOS
        return shapely.from_wkt(text)


@pytest.mark.parametrize(
    "bad", ["POINT (500050 inf)", "LINESTRING (500000 3875000, NaN 3875010)", "POINT (1e999 0)"]
)
def test_non_finite_coordinates_are_a_row_error_not_a_geos_crash(bad: str) -> None:
    f = gpd.GeoDataFrame(
        {"facility_id": ["F1", "F2"], "type": ["kindergarten", "kindergarten"]},
        geometry=[Point(X0 + 10, Y0 + 10), _wkt(bad)],
        crs=CRS,
    )
    _, report = check_layer(f, "facilities")
    assert [(i.row, i.column) for i in report.errors] == [("F2", "geometry")]
    assert "NaN or Infinity" in report.errors[0].problem


def test_nan_vertex_in_a_community_polygon() -> None:
    c = communities()
    c.loc[1, "geometry"] = _wkt(
        "POLYGON ((500200 3875000, 500300 3875000, NaN 3875100, 500200 3875000))"
    )
    _, report = check_layer(c, "communities")
    assert [i.row for i in report.errors] == ["c2"]
    assert "NaN or Infinity" in report.errors[0].problem


def _nan_project(tmp_path: Path) -> Path:
    yaml_path = write_project(tmp_path)
    gpd.GeoDataFrame(
        {"facility_id": ["f1", "f9"], "type": ["kindergarten", "primary_school"]},
        geometry=[_wkt("POINT (500050 3875050)"), _wkt("POINT (500050 inf)")],
        crs=CRS,
    ).to_file(tmp_path / "小区.gpkg", layer="facilities")
    return yaml_path


def test_validate_scenario_and_run_report_nan_rows(tmp_path: Path) -> None:
    yaml_path = _nan_project(tmp_path)
    report = validate_scenario(yaml_path)
    assert [(i.layer, i.row) for i in report.errors] == [("facilities", "f9")]
    with pytest.raises(LayerError, match=r"facilities · f9 · geometry: coordinates are not"):
        run_scenario(yaml_path, write=False)


@pytest.mark.parametrize(
    "fault",
    [
        shapely.errors.GEOSException("UnsupportedOperationException: "),
        DataSourceError("broken.gpkg: not recognized as a supported file format"),
        ValueError("could not convert string to float: 'x'"),
    ],
)
def test_validate_scenario_never_raises_on_reading_faults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fault: Exception
) -> None:
    yaml_path = write_project(tmp_path)
    real = validate_layer

    def failing(path: object, kind: str, **kwargs: object) -> object:
        if kind == "facilities":
            raise fault
        return real(path, kind, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(runner, "validate_layer", failing)
    report = validate_scenario(yaml_path)
    assert [i.layer for i in report.errors] == ["facilities"]
    assert type(fault).__name__ in report.errors[0].problem
    assert "could not be checked" in report.errors[0].problem
