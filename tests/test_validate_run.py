"""validate ⇔ run: a scenario ``validate_scenario`` passes is one ``run_scenario`` accepts.

Each bad input goes through both; they must agree (issue 16: OSM communities without
households passed validate and failed run with 0-based row positions).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from gisplan import GisplanError, run_scenario, validate_scenario
from tests import _fixtures as fx

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    import geopandas as gpd


def _households(values: list[object]) -> Callable[[gpd.GeoDataFrame], gpd.GeoDataFrame]:
    def edit(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        gdf["households"] = values
        return gdf

    return edit


def _population(values: list[object]) -> Callable[[gpd.GeoDataFrame], gpd.GeoDataFrame]:
    def edit(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        gdf["population"] = values
        return gdf

    return edit


def _drop_households(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return gdf.drop(columns="households")


def _keep(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return gdf


#: (case, edit of the three communities, access step?, both reject?, text the error shows)
CASES = [
    ("good", _keep, True, False, ""),
    ("households empty, access", _households([120, None, 80]), True, True, "c2"),
    ("households all empty, access", _households([None, None, None]), True, True, "c1, c2, c3"),
    ("households empty, no access", _households([120, None, 80]), False, False, ""),
    ("households not whole", _households([120, 30.5, 80]), True, True, "c2"),
    ("households negative", _households([120, -3, 80]), True, True, "c2"),
    ("households column absent", _drop_households, True, True, "households"),
    ("population negative", _population([300, -1, 200]), True, True, "c2"),
]


def _project(
    tmp_path: Path, edit: Callable[[gpd.GeoDataFrame], gpd.GeoDataFrame], access: bool
) -> Path:
    yaml_path = fx.write_access_project(tmp_path)
    edit(fx.communities()).to_file(tmp_path / "小区.gpkg", layer="communities")
    if not access:
        text = yaml_path.read_text(encoding="utf-8")
        yaml_path.write_text(text.split("access:")[0], encoding="utf-8")
    return yaml_path


@pytest.mark.parametrize(
    ("edit", "access", "rejected", "shown"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_validate_and_run_agree(
    tmp_path: Path,
    edit: Callable[[gpd.GeoDataFrame], gpd.GeoDataFrame],
    access: bool,
    rejected: bool,
    shown: str,
) -> None:
    yaml_path = _project(tmp_path, edit, access)
    report = validate_scenario(yaml_path)
    run_error: GisplanError | None = None
    try:
        run_scenario(yaml_path, write=False)
    except GisplanError as err:
        run_error = err
    assert report.ok is not rejected, report.format()
    assert (run_error is not None) is rejected, run_error
    if rejected:
        assert shown in report.format(fatal_only=True)
        assert shown in str(run_error)


def test_missing_households_name_community_ids_not_row_positions(tmp_path: Path) -> None:
    yaml_path = _project(tmp_path, _households([None, 300, None]), access=True)
    text = validate_scenario(yaml_path).format(fatal_only=True)
    assert "households missing in rows c1, c3" in text
    assert "rows 0" not in text
    assert "gisplan init" in text  # the fix names the estimate route
