"""Tests for gisplan.crs: stated datums, GCJ-02/BD-09 offsets, metric CRS choice and guards."""

from __future__ import annotations

import dataclasses
import logging
import math

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal, assert_geoseries_equal
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import (
    GeometryCollection,
    LineString,
    MultiLineString,
    MultiPolygon,
    Point,
    Polygon,
    box,
)

from gisplan import crs
from gisplan.errors import CRSError

GEOD = pyproj.Geod(ellps="WGS84")

TIANANMEN_WGS84 = (116.391263, 39.907577)
HELSINKI = (24.9384, 60.1699)
LONDON = (-0.1276, 51.5072)


def dist_m(lon1, lat1, lon2, lat2) -> np.ndarray:
    """Geodesic distance in metres (vectorised)."""
    return np.asarray(GEOD.inv(lon1, lat1, lon2, lat2)[2])


# --- an independent scalar reference, written from the published formulas -------------

REF_A = 6378245.0
REF_EE = 0.00669342162296594323
REF_X_PI = math.pi * 3000.0 / 180.0


def ref_out_of_china(lon: float, lat: float) -> bool:
    return not (72.004 <= lon <= 137.8347 and 0.8293 <= lat <= 55.8271)


def ref_wgs84_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    if ref_out_of_china(lon, lat):
        return lon, lat
    x, y = lon - 105.0, lat - 35.0
    pi = math.pi
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    dlat += (20.0 * math.sin(6.0 * x * pi) + 20.0 * math.sin(2.0 * x * pi)) * 2.0 / 3.0
    dlat += (20.0 * math.sin(y * pi) + 40.0 * math.sin(y / 3.0 * pi)) * 2.0 / 3.0
    dlat += (160.0 * math.sin(y / 12.0 * pi) + 320.0 * math.sin(y * pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    dlon += (20.0 * math.sin(6.0 * x * pi) + 20.0 * math.sin(2.0 * x * pi)) * 2.0 / 3.0
    dlon += (20.0 * math.sin(x * pi) + 40.0 * math.sin(x / 3.0 * pi)) * 2.0 / 3.0
    dlon += (150.0 * math.sin(x / 12.0 * pi) + 300.0 * math.sin(x / 30.0 * pi)) * 2.0 / 3.0
    radlat = lat / 180.0 * pi
    magic = 1.0 - REF_EE * math.sin(radlat) ** 2
    sqrtmagic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((REF_A * (1.0 - REF_EE)) / (magic * sqrtmagic) * pi)
    dlon = (dlon * 180.0) / (REF_A / sqrtmagic * math.cos(radlat) * pi)
    return lon + dlon, lat + dlat


def ref_gcj02_to_bd09(lon: float, lat: float) -> tuple[float, float]:
    z = math.sqrt(lon * lon + lat * lat) + 0.00002 * math.sin(lat * REF_X_PI)
    theta = math.atan2(lat, lon) + 0.000003 * math.cos(lon * REF_X_PI)
    return z * math.cos(theta) + 0.0065, z * math.sin(theta) + 0.006


def ref_bd09_to_gcj02_closed_form(lon: float, lat: float) -> tuple[float, float]:
    x, y = lon - 0.0065, lat - 0.006
    z = math.sqrt(x * x + y * y) - 0.00002 * math.sin(y * REF_X_PI)
    theta = math.atan2(y, x) - 0.000003 * math.cos(x * REF_X_PI)
    return z * math.cos(theta), z * math.sin(theta)


# Points well inside China's rectangle (the offset is not continuous at its edges).
china_lon = st.floats(min_value=73.7, max_value=135.0, allow_nan=False)
china_lat = st.floats(min_value=3.9, max_value=53.5, allow_nan=False)


# --- the offset formulas --------------------------------------------------------------


def test_tiananmen_gcj02_matches_reference_and_known_offset():
    lon, lat = TIANANMEN_WGS84
    got = crs.wgs84_to_gcj02(lon, lat)
    ref = ref_wgs84_to_gcj02(lon, lat)
    assert dist_m(float(got[0]), float(got[1]), *ref) < 1.0
    assert float(got[0]) == pytest.approx(116.397504, abs=1e-6)
    assert float(got[1]) == pytest.approx(39.908978, abs=1e-6)
    # the GCJ-02 offset in Beijing is a few hundred metres, mostly eastwards
    offset = float(dist_m(lon, lat, float(got[0]), float(got[1])))
    assert 300.0 < offset < 700.0
    assert float(got[0]) > lon


def test_tiananmen_bd09_matches_reference():
    lon, lat = TIANANMEN_WGS84
    got = crs.wgs84_to_bd09(lon, lat)
    ref = ref_gcj02_to_bd09(*ref_wgs84_to_gcj02(lon, lat))
    assert dist_m(float(got[0]), float(got[1]), *ref) < 1.0
    # BD-09 lies roughly a further kilometre north-east of GCJ-02
    assert 500.0 < float(dist_m(lon, lat, float(got[0]), float(got[1]))) < 2000.0


def test_vectorised_forward_equals_reference_over_china():
    lon, lat = np.meshgrid(np.linspace(74.0, 134.0, 25), np.linspace(4.0, 53.0, 20))
    lon, lat = lon.ravel(), lat.ravel()
    got_lon, got_lat = crs.wgs84_to_gcj02(lon, lat)
    ref = np.array([ref_wgs84_to_gcj02(x, y) for x, y in zip(lon, lat, strict=True)])
    np.testing.assert_allclose(got_lon, ref[:, 0], rtol=0, atol=1e-10)
    np.testing.assert_allclose(got_lat, ref[:, 1], rtol=0, atol=1e-10)
    bd_lon, bd_lat = crs.gcj02_to_bd09(got_lon, got_lat)
    ref_bd = np.array([ref_gcj02_to_bd09(x, y) for x, y in ref])
    np.testing.assert_allclose(bd_lon, ref_bd[:, 0], rtol=0, atol=1e-10)
    np.testing.assert_allclose(bd_lat, ref_bd[:, 1], rtol=0, atol=1e-10)


@settings(max_examples=300, deadline=None)
@given(lon=china_lon, lat=china_lat)
def test_round_trip_wgs84_gcj02_below_1cm(lon, lat):
    back = crs.gcj02_to_wgs84(*crs.wgs84_to_gcj02(lon, lat))
    assert float(dist_m(lon, lat, float(back[0]), float(back[1]))) < 0.01


@settings(max_examples=300, deadline=None)
@given(lon=china_lon, lat=china_lat)
def test_round_trip_wgs84_bd09_below_1cm(lon, lat):
    back = crs.bd09_to_wgs84(*crs.wgs84_to_bd09(lon, lat))
    assert float(dist_m(lon, lat, float(back[0]), float(back[1]))) < 0.01


@settings(max_examples=300, deadline=None)
@given(lon=china_lon, lat=china_lat)
def test_round_trip_gcj02_bd09_below_1cm_both_ways(lon, lat):
    back = crs.bd09_to_gcj02(*crs.gcj02_to_bd09(lon, lat))
    assert float(dist_m(lon, lat, float(back[0]), float(back[1]))) < 0.01
    fwd = crs.gcj02_to_bd09(*crs.bd09_to_gcj02(lon, lat))
    assert float(dist_m(lon, lat, float(fwd[0]), float(fwd[1]))) < 0.01
    fwd = crs.wgs84_to_gcj02(*crs.gcj02_to_wgs84(lon, lat))
    assert float(dist_m(lon, lat, float(fwd[0]), float(fwd[1]))) < 0.01


def test_bd09_closed_form_residual_is_small_and_removed_by_iteration():
    rng = np.random.default_rng(0)
    gcj_lon, gcj_lat = rng.uniform(74.0, 134.0, 2000), rng.uniform(4.0, 53.0, 2000)
    bd_lon, bd_lat = crs.gcj02_to_bd09(gcj_lon, gcj_lat)
    closed = np.array(
        [ref_bd09_to_gcj02_closed_form(x, y) for x, y in zip(bd_lon, bd_lat, strict=True)]
    )
    residual = dist_m(gcj_lon, gcj_lat, closed[:, 0], closed[:, 1])
    assert residual.max() < 0.3  # the documented residual of the published formula
    assert residual.max() > 0.01  # ... which is why bd09_to_gcj02 iterates
    exact = crs.bd09_to_gcj02(bd_lon, bd_lat)
    assert dist_m(gcj_lon, gcj_lat, *exact).max() < 0.001


@pytest.mark.parametrize(("lon", "lat"), [HELSINKI, LONDON, (-74.006, 40.7128)])
def test_identity_outside_china(lon, lat):
    assert bool(crs.out_of_china(lon, lat))
    for func in (crs.wgs84_to_gcj02, crs.gcj02_to_wgs84):
        got = func(lon, lat)
        assert (float(got[0]), float(got[1])) == (lon, lat)


def test_out_of_china_rectangle():
    lon = np.array([116.39, 72.0, 72.004, 137.8347, 137.84, 100.0, 100.0, np.nan])
    lat = np.array([39.91, 30.0, 30.0, 30.0, 30.0, 0.82, 55.83, 30.0])
    expected = [False, True, False, False, True, True, True, True]
    assert crs.out_of_china(lon, lat).tolist() == expected


def test_offset_functions_keep_shape_nan_and_inputs():
    lon = np.array([[116.39, np.nan], [121.47, 24.94]])
    lat = np.array([[39.91, 31.0], [31.23, 60.17]])
    lon_before, lat_before = lon.copy(), lat.copy()
    for func in (
        crs.wgs84_to_gcj02,
        crs.gcj02_to_wgs84,
        crs.gcj02_to_bd09,
        crs.bd09_to_gcj02,
        crs.wgs84_to_bd09,
        crs.bd09_to_wgs84,
    ):
        out_lon, out_lat = func(lon, lat)
        assert out_lon.shape == out_lat.shape == (2, 2)
        assert np.isnan(out_lon[0, 1])
        assert np.isfinite(out_lon[1, 0])
        np.testing.assert_array_equal(lon, lon_before)
        np.testing.assert_array_equal(lat, lat_before)
    scalar = crs.gcj02_to_wgs84(116.4, 39.9)
    assert scalar[0].shape == ()


# --- convert_offset ----------------------------------------------------------------------


@pytest.fixture
def mixed_layer() -> gpd.GeoDataFrame:
    shell = [(116.30, 39.90), (116.40, 39.90), (116.40, 40.00), (116.30, 40.00)]
    hole = [(116.33, 39.93), (116.36, 39.93), (116.36, 39.96), (116.33, 39.96)]
    lines = MultiLineString([[(116.1, 39.8), (116.2, 39.85)], [(116.3, 39.9), (116.31, 39.95)]])
    geoms = [
        Polygon(shell, [hole]),
        lines,
        Point(116.391263, 39.907577),
        MultiPolygon([box(116.0, 39.0, 116.1, 39.1), box(116.2, 39.0, 116.3, 39.1)]),
        GeometryCollection([Point(116.5, 39.5), LineString([(116.5, 39.5), (116.6, 39.6)])]),
        Polygon(),
        None,
        Point(116.4, 39.9, 55.0),
    ]
    return gpd.GeoDataFrame(
        {"name": [f"g{i}" for i in range(len(geoms))]},
        geometry=geoms,
        index=[f"c{i}" for i in range(len(geoms))],
        crs=4326,
    )


def test_convert_offset_keeps_types_rows_and_input(mixed_layer):
    before = mixed_layer.copy()
    out = crs.convert_offset(mixed_layer, src="wgs84", dst="gcj02")
    assert_geodataframe_equal(mixed_layer, before)
    assert isinstance(out, gpd.GeoDataFrame)
    assert out is not mixed_layer
    assert list(out.index) == list(mixed_layer.index)
    assert list(out["name"]) == list(mixed_layer["name"])
    assert out.crs == mixed_layer.crs
    assert out.geom_type.tolist() == mixed_layer.geom_type.tolist()
    assert out.geometry.isna().tolist() == mixed_layer.geometry.isna().tolist()
    assert out.geometry.is_empty.tolist() == mixed_layer.geometry.is_empty.tolist()
    # the hole survives, and every vertex moved exactly as the point formula says
    poly = out.geometry.loc["c0"]
    assert len(poly.interiors) == 1
    src_xy = shapely.get_coordinates(mixed_layer.geometry.to_numpy())
    out_xy = shapely.get_coordinates(out.geometry.to_numpy())
    exp_lon, exp_lat = crs.wgs84_to_gcj02(src_xy[:, 0], src_xy[:, 1])
    np.testing.assert_allclose(out_xy[:, 0], exp_lon, rtol=0, atol=1e-12)
    np.testing.assert_allclose(out_xy[:, 1], exp_lat, rtol=0, atol=1e-12)
    # Z is kept
    assert out.geometry.loc["c7"].has_z
    assert out.geometry.loc["c7"].z == 55.0


def test_convert_offset_round_trip_and_geoseries(mixed_layer):
    series = mixed_layer.geometry
    before = series.copy()
    bd = crs.convert_offset(series, src="wgs84", dst="bd09")
    assert isinstance(bd, gpd.GeoSeries)
    assert_geoseries_equal(series, before)
    back = crs.convert_offset(bd, src="bd09", dst="wgs84")
    a = shapely.get_coordinates(series.to_numpy())
    b = shapely.get_coordinates(back.to_numpy())
    assert dist_m(a[:, 0], a[:, 1], b[:, 0], b[:, 1]).max() < 0.01
    assert back.name == series.name
    assert back.crs == series.crs


def test_convert_offset_same_system_is_a_copy(mixed_layer):
    out = crs.convert_offset(mixed_layer, src="gcj02", dst="gcj02")
    assert out is not mixed_layer
    assert_geodataframe_equal(out, mixed_layer)


def test_convert_offset_refuses_projected_and_unknown():
    gdf = gpd.GeoDataFrame(geometry=[Point(500000, 4400000)], crs=4548)
    with pytest.raises(CRSError, match="lon/lat"):
        crs.convert_offset(gdf, src="gcj02", dst="wgs84")
    with pytest.raises(CRSError, match="src="):
        crs.convert_offset(gdf.set_crs(4326, allow_override=True), src="gcj", dst="wgs84")  # type: ignore[arg-type]


# --- parse_datum / Datum ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "name", "epsg", "offset"),
    [
        ("WGS84", "WGS84", 4326, None),
        ("wgs 84", "WGS84", 4326, None),
        ("EPSG:4326", "WGS84", 4326, None),
        (4326, "WGS84", 4326, None),
        ("CGCS2000", "CGCS2000", 4490, None),
        ("cgcs-2000", "CGCS2000", 4490, None),
        ("EPSG:4490", "CGCS2000", 4490, None),
        ("GCJ-02", "GCJ-02", 4326, "gcj02"),
        ("gcj02", "GCJ-02", 4326, "gcj02"),
        ("GCJ", "GCJ-02", 4326, "gcj02"),
        ("gaode", "GCJ-02", 4326, "gcj02"),
        ("AMap", "GCJ-02", 4326, "gcj02"),
        ("tencent", "GCJ-02", 4326, "gcj02"),
        ("高德", "GCJ-02", 4326, "gcj02"),
        ("火星坐标", "GCJ-02", 4326, "gcj02"),
        ("BD-09", "BD-09", 4326, "bd09"),
        ("bd09", "BD-09", 4326, "bd09"),
        (" Baidu ", "BD-09", 4326, "bd09"),
        ("百度", "BD-09", 4326, "bd09"),
        ("EPSG:4548", "EPSG:4548", 4548, None),
        ("epsg:4548", "EPSG:4548", 4548, None),
        (4548, "EPSG:4548", 4548, None),
        ("4548", "EPSG:4548", 4548, None),
        (pyproj.CRS.from_epsg(32650), "EPSG:32650", 32650, None),
        ("+proj=utm +zone=50 +datum=WGS84 +units=m +no_defs", "EPSG:32650", 32650, None),
        (pyproj.CRS.from_epsg(4549).to_wkt(), "EPSG:4549", 4549, None),
    ],
)
def test_parse_datum_aliases(value, name, epsg, offset):
    datum = crs.parse_datum(value)
    assert datum.name == name
    assert datum.crs.to_epsg() == epsg
    assert datum.offset == offset


def test_parse_datum_passes_datum_through_and_all_names_parse():
    datum = crs.parse_datum("gcj02")
    assert crs.parse_datum(datum) is datum
    assert str(datum) == "GCJ-02"
    for name in crs.DATUM_NAMES:
        assert crs.parse_datum(name).crs.is_geographic
    assert {"WGS84", "CGCS2000", "GCJ-02", "BD-09", "高德", "百度"} <= set(crs.DATUM_NAMES)


@pytest.mark.parametrize("value", ["Mars", "GCJ-03", "", "EPSG:999999", 999999, True, 4.5])
def test_parse_datum_unknown(value):
    with pytest.raises(CRSError, match="unknown datum") as info:
        crs.parse_datum(value)
    message = str(info.value)
    assert repr(value) in message or str(value) in message
    for accepted in ("WGS84", "CGCS2000", "GCJ-02", "BD-09", "EPSG:4548"):
        assert accepted in message


def test_datum_is_frozen_and_checked():
    datum = crs.parse_datum("WGS84")
    with pytest.raises(dataclasses.FrozenInstanceError):
        datum.name = "x"  # type: ignore[misc]
    with pytest.raises(CRSError, match="unknown offset"):
        crs.Datum(name="x", crs=pyproj.CRS.from_epsg(4326), offset="mars")  # type: ignore[arg-type]
    with pytest.raises(CRSError, match="geographic"):
        crs.Datum(name="x", crs=pyproj.CRS.from_epsg(4548), offset="gcj02")


# --- to_wgs84 -----------------------------------------------------------------------------


def test_to_wgs84_without_crs_or_datum_raises():
    gdf = gpd.GeoDataFrame(geometry=[Point(116.4, 39.9)])
    with pytest.raises(CRSError, match="datum") as info:
        crs.to_wgs84(gdf, what="communities.gpkg")
    assert str(info.value).startswith("communities.gpkg: no coordinate system")
    assert "datum: CGCS2000" in str(info.value)


def test_to_wgs84_removes_gcj02_offset_and_keeps_input():
    gcj = crs.wgs84_to_gcj02(*TIANANMEN_WGS84)
    gdf = gpd.GeoDataFrame(
        {"name": ["天安门"]}, geometry=[Point(float(gcj[0]), float(gcj[1]))], index=["t"]
    )
    before = gdf.copy()
    out = crs.to_wgs84(gdf, datum="高德")
    assert_geodataframe_equal(gdf, before)
    assert out.crs.equals(pyproj.CRS.from_epsg(4326))
    assert list(out.index) == ["t"]
    assert out.loc["t", "name"] == "天安门"
    point = out.geometry.loc["t"]
    assert float(dist_m(point.x, point.y, *TIANANMEN_WGS84)) < 0.01


def test_to_wgs84_removes_bd09_offset_on_geographic_file_crs():
    bd = crs.wgs84_to_bd09(*TIANANMEN_WGS84)
    gdf = gpd.GeoDataFrame(geometry=[Point(float(bd[0]), float(bd[1]))], crs=4326)
    out = crs.to_wgs84(gdf, datum="BD-09")
    point = out.geometry.iloc[0]
    assert float(dist_m(point.x, point.y, *TIANANMEN_WGS84)) < 0.01


def test_to_wgs84_offset_datum_on_projected_file_raises():
    gdf = gpd.GeoDataFrame(geometry=[Point(500000, 4417000)], crs=4548)
    with pytest.raises(CRSError, match="projected"):
        crs.to_wgs84(gdf, datum="GCJ-02")


def test_to_wgs84_uses_file_crs_when_no_datum():
    # on the central meridian of EPSG:4548 (117E) the easting is exactly 500 000 m
    gdf = gpd.GeoDataFrame(geometry=[Point(500000.0, 4417000.0)], crs=4548)
    out = crs.to_wgs84(gdf)
    assert out.crs.to_epsg() == 4326
    assert out.geometry.iloc[0].x == pytest.approx(117.0, abs=1e-9)
    assert 39.0 < out.geometry.iloc[0].y < 40.5


def test_to_wgs84_stated_datum_overrides_file_crs_with_warning(caplog):
    gdf = gpd.GeoDataFrame(geometry=[Point(500000.0, 4417000.0)], crs=3857)
    with caplog.at_level(logging.WARNING, logger="gisplan.crs"):
        out = crs.to_wgs84(gdf, datum="EPSG:4548", what="roads.shp")
    assert out.geometry.iloc[0].x == pytest.approx(117.0, abs=1e-9)
    assert any(
        "roads.shp" in r.getMessage() and "overrides" in r.getMessage() for r in caplog.records
    )


def test_to_wgs84_equivalent_stated_datum_does_not_warn(caplog):
    gdf = gpd.GeoDataFrame(geometry=[Point(116.4, 39.9)], crs="OGC:CRS84")
    with caplog.at_level(logging.WARNING, logger="gisplan.crs"):
        out = crs.to_wgs84(gdf, datum="WGS84")
    assert not caplog.records
    assert out.geometry.iloc[0].equals(Point(116.4, 39.9))


def test_to_wgs84_esri_wkt_of_the_stated_crs_does_not_warn(caplog):
    esri = pyproj.CRS(pyproj.CRS.from_epsg(4548).to_wkt("WKT1_ESRI"))  # as in a shapefile .prj
    gdf = gpd.GeoDataFrame(geometry=[Point(500000.0, 4417000.0)], crs=esri)
    with caplog.at_level(logging.WARNING, logger="gisplan.crs"):
        out = crs.to_wgs84(gdf, datum="EPSG:4548")
        kept = crs.to_metric(gdf, target=4548)
    assert not caplog.records
    assert out.geometry.iloc[0].x == pytest.approx(117.0, abs=1e-9)
    assert kept.crs.equals(pyproj.CRS.from_epsg(4548))
    assert kept.geometry.iloc[0].equals(gdf.geometry.iloc[0])


def test_to_wgs84_cgcs2000_is_within_a_metre_of_wgs84():
    gdf = gpd.GeoDataFrame(geometry=[Point(116.4, 39.9)])
    out = crs.to_wgs84(gdf, datum="CGCS2000")
    point = out.geometry.iloc[0]
    assert float(dist_m(point.x, point.y, 116.4, 39.9)) < 1.0


# --- choose_metric_crs / to_metric ---------------------------------------------------------


@pytest.mark.parametrize(
    ("bounds", "epsg"),
    [
        ((116.30, 39.85, 116.50, 39.95), 4548),  # Beijing: CM 117E
        ((118.70, 32.00, 118.90, 32.10), 4549),  # Nanjing 118.8E: 3*round(39.6) = 120E
        ((87.50, 43.75, 87.70, 43.85), 4538),  # Urumqi 87.6E: CM 87E
        ((121.40, 31.20, 121.50, 31.30), 4549),  # Shanghai: CM 120E
        ((73.90, 39.40, 74.00, 39.50), 4534),  # far west: clamped to CM 75E
        ((24.90, 60.10, 25.00, 60.20), 32635),  # Helsinki: UTM 35N
        ((151.10, -33.95, 151.30, -33.80), 32756),  # Sydney: UTM 56S
    ],
)
def test_choose_metric_crs_from_bounds(bounds, epsg):
    chosen = crs.choose_metric_crs(bounds)
    assert chosen.to_epsg() == epsg
    assert crs.is_metric(chosen)


def test_choose_metric_crs_from_frames_in_other_crs(caplog):
    gdf = gpd.GeoDataFrame(geometry=[box(116.3, 39.85, 116.5, 39.95)], crs=4326)
    web = gdf.to_crs(3857)
    with caplog.at_level(logging.INFO, logger="gisplan.crs"):
        assert crs.choose_metric_crs(web).to_epsg() == 4548
    assert any("4548" in r.getMessage() for r in caplog.records)
    assert crs.choose_metric_crs(web.geometry).to_epsg() == 4548
    assert crs.choose_metric_crs(tuple(web.total_bounds), crs=3857).to_epsg() == 4548
    nanjing = gpd.GeoDataFrame(geometry=[Point(118.8, 32.05)])
    assert crs.choose_metric_crs(nanjing, crs="GCJ-02").to_epsg() == 4549


def test_choose_metric_crs_errors():
    with pytest.raises(CRSError, match="datum"):
        crs.choose_metric_crs(gpd.GeoDataFrame(geometry=[Point(116.4, 39.9)]))
    with pytest.raises(CRSError, match="empty"):
        crs.choose_metric_crs(gpd.GeoDataFrame(geometry=[], crs=4326))


def test_to_metric_from_gcj02():
    gcj = crs.wgs84_to_gcj02(*TIANANMEN_WGS84)
    gdf = gpd.GeoDataFrame(geometry=[Point(float(gcj[0]), float(gcj[1]))], index=["t"])
    before = gdf.copy()
    out = crs.to_metric(gdf, datum="GCJ-02")
    assert_geodataframe_equal(gdf, before)
    assert out.crs.to_epsg() == 4548
    expected = pyproj.Transformer.from_crs(4326, 4548, always_xy=True).transform(*TIANANMEN_WGS84)
    point = out.geometry.loc["t"]
    assert math.hypot(point.x - expected[0], point.y - expected[1]) < 0.01


def test_to_metric_with_target_and_bad_target():
    gdf = gpd.GeoDataFrame(geometry=[Point(117.0, 39.9)], crs=4490)
    out = crs.to_metric(gdf, target="EPSG:4549")
    assert out.crs.to_epsg() == 4549
    assert out.geometry.iloc[0].x < 500000.0  # west of the 120E central meridian
    with pytest.raises(CRSError, match="projected CRS in metres"):
        crs.to_metric(gdf, target="WGS84")
    with pytest.raises(CRSError, match="projected CRS in metres"):
        crs.to_metric(gdf, target="GCJ-02")


def test_to_metric_keeps_metric_data_unchanged():
    gdf = gpd.GeoDataFrame({"v": [1]}, geometry=[box(0, 0, 100, 100)], crs=4547)
    for kwargs in ({}, {"target": 4547}, {"datum": "EPSG:4547"}):
        out = crs.to_metric(gdf, **kwargs)
        assert out is not gdf
        assert_geodataframe_equal(out, gdf)
    moved = crs.to_metric(gdf, target=4548)
    assert moved.crs.to_epsg() == 4548


def test_to_metric_without_crs_raises():
    with pytest.raises(CRSError, match="datum"):
        crs.to_metric(gpd.GeoDataFrame(geometry=[Point(116.4, 39.9)]))


# --- is_metric / require_metric_crs ----------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (4548, True),
        ("EPSG:32650", True),
        (3857, True),
        (4326, False),
        ("GCJ-02", False),
        (None, False),
        ("+proj=utm +zone=50 +datum=WGS84 +units=us-ft", False),
    ],
)
def test_is_metric(value, expected):
    assert crs.is_metric(value) is expected


@pytest.mark.parametrize(
    "value",
    [
        4326,
        None,
        gpd.GeoDataFrame(geometry=[Point(116.4, 39.9)], crs=4326),
        gpd.GeoDataFrame(geometry=[Point(116.4, 39.9)]),
    ],
)
def test_require_metric_crs_raises(value):
    with pytest.raises(CRSError, match="projected") as info:
        crs.require_metric_crs(value, what="walk catchment")
    message = str(info.value)
    assert message.startswith("walk catchment: need a projected CRS in metres, got ")
    assert "gisplan.crs.to_metric(gdf, datum=...)" in message


def test_require_metric_crs_passes_metric():
    gdf = gpd.GeoDataFrame(geometry=[box(0, 0, 100, 100)], crs=4547)
    crs.require_metric_crs(gdf, what="area")
    crs.require_metric_crs(gdf.geometry, what="area")
    crs.require_metric_crs(pyproj.CRS.from_epsg(4548), what="area")
    assert crs.require_metric is crs.require_metric_crs


# --- implausible_rows --------------------------------------------------------------------


def test_implausible_rows_finds_swapped_lon_lat():
    gdf = gpd.GeoDataFrame(
        geometry=[Point(116.31, 39.99), Point(39.99, 116.31), Polygon(), None],
        index=["ok", "swapped", "empty", "missing"],
    )
    before = gdf.copy()
    for datum in ("CGCS2000", "WGS84", "GCJ-02", "BD-09"):
        rows = crs.implausible_rows(gdf, datum=datum)
        assert rows.tolist() == [1]
        assert rows.dtype.kind == "i"
    assert_geodataframe_equal(gdf, before)


def test_implausible_rows_china_datums_reject_points_abroad():
    gdf = gpd.GeoDataFrame(geometry=[Point(*HELSINKI), Point(116.4, 39.9)], crs=4326)
    assert crs.implausible_rows(gdf).tolist() == []
    assert crs.implausible_rows(gdf, datum="GCJ-02").tolist() == [0]
    assert crs.implausible_rows(gdf, datum="CGCS2000").tolist() == [0]


def test_implausible_rows_gauss_kruger_outside_zone():
    gdf = gpd.GeoDataFrame(
        geometry=[
            Point(441000.0, 4428000.0),  # Beijing in CM 117E
            Point(39441000.0, 4428000.0),  # same point with the zone number 39 prefixed
            Point(2000000.0, 4428000.0),  # 1 500 km east of the central meridian
            LineString([(441000.0, 4428000.0), (441000.0, 9_500_000.0)]),  # runs off north
        ],
        crs=4548,
    )
    assert crs.implausible_rows(gdf).tolist() == [1, 2, 3]
    assert crs.implausible_rows(gdf, datum=4548).tolist() == [1, 2, 3]


def test_implausible_rows_flags_non_finite_and_needs_crs():
    gdf = gpd.GeoDataFrame(geometry=[Point(116.4, 39.9), Point(np.inf, 39.9)], crs=4326)
    assert crs.implausible_rows(gdf).tolist() == [1]
    with pytest.raises(CRSError, match="datum"):
        crs.implausible_rows(gdf.set_crs(None, allow_override=True))
