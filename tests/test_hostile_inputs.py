"""Hostile inputs: every case fails cleanly through the CLI and the API (issue 15).

Each case of :data:`CASES` writes a small project (the three squares of ``_fixtures``) and
spoils one thing: the scenario YAML, a layer file or a value. It then goes through

* ``gisplan validate`` (exit 1 or 2, a message, no traceback),
* ``gisplan run`` (exit 2, a message, no traceback, no output folder),
* :func:`gisplan.run_scenario` (raises a :class:`~gisplan.errors.GisplanError`),
* :func:`gisplan.validate_scenario` (never raises; the report has errors).

Cases marked ``"warning"`` are recoverable oddities: validate reports them as warnings (exit 0)
and the run goes on. Counts when written (issue 15): 53 cases, 51 clear errors, 2 warnings
(:func:`test_summary` checks them).

The items of issue 15 this file owns (12: no network, 13: YAML alias bomb, 14: unclear
messages) also have tests of their own below the harness.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import geopandas as gpd
import numpy as np
import pytest
from openpyxl import Workbook
from shapely.geometry import Point

import gisplan
from gisplan import GisplanError
from gisplan._readers import read_table
from gisplan.cli import main
from gisplan.layers import read_file
from gisplan.scenario import scenario_from_dict

from _fixtures import X0, Y0, communities, facilities, write_access_project, write_project

if TYPE_CHECKING:
    from collections.abc import Callable

Expect = Literal["error", "warning"]
FAC = "  facilities: {path: 小区.gpkg, layer: facilities}\n"

# --------------------------------------------------------------------------- writers


def _yaml(folder: Path, text: str) -> Path:
    path = write_project(folder)
    path.write_text(text, encoding="utf-8")
    return path


def _with_communities(folder: Path, file_name: str, *, extra: str = "") -> Path:
    """A scenario reading communities from ``file_name`` (written by the caller)."""
    return _yaml(folder, f"name: t\n{extra}layers:\n  communities: {file_name}\n{FAC}")


def _changed(folder: Path, column: str, values: list[object]) -> Path:
    gdf = communities()
    gdf[column] = values
    return write_project(folder, communities_gdf=gdf)


def _billion_laughs() -> str:
    text = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    for name, prev in zip("bcdefghi", "abcdefgh", strict=True):
        text += f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]\n"
    return text + "title: *i\nlayers: {communities: 小区.gpkg}\n"


def _remote_vrt(folder: Path) -> Path:
    path = _with_communities(folder, "c.vrt")
    (folder / "c.vrt").write_text(
        '<OGRVRTDataSource><OGRVRTLayer name="c">'
        "<SrcDataSource>/vsicurl/http://127.0.0.1:9/communities.geojson</SrcDataSource>"
        "</OGRVRTLayer></OGRVRTDataSource>",
        encoding="utf-8",
    )
    return path


def _merged_header(folder: Path) -> Path:
    path = _with_communities(folder, "小区.xlsx", extra="datum: CGCS2000\n")
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["小区信息", None, None, None, "坐标", None])
    sheet.append(["小区编号", "小区名称", "建成年份", "户数", "经度", "纬度"])
    sheet.append(["c1", "幸福里", 1985, 120, 117.0, 35.0])
    sheet.merge_cells("A1:D1")
    sheet.merge_cells("E1:F1")
    book.save(folder / "小区.xlsx")
    return path


def _title_row(folder: Path) -> Path:
    path = _with_communities(folder, "小区.xlsx", extra="datum: CGCS2000\n")
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["2025年老旧小区摸底表"])
    sheet.append(["小区编号", "小区名称", "建成年份", "户数", "经度", "纬度"])
    sheet.append(["c1", "幸福里", 1985, 120, 117.0, 35.0])
    book.save(folder / "小区.xlsx")
    return path


def _empty_geojson(folder: Path) -> Path:
    path = _with_communities(folder, "c.geojson")
    (folder / "c.geojson").write_text(
        '{"type": "FeatureCollection", "features": []}', encoding="utf-8"
    )
    return path


def _gbk_shapefile(folder: Path, cpg: str | None) -> Path:
    path = _with_communities(folder, "c.shp")
    gdf = communities().rename(columns={"community_id": "小区编号", "built_year": "建成年份"})
    gdf.to_file(folder / "c.shp", encoding="gbk")
    (folder / "c.cpg").unlink(missing_ok=True)
    if cpg is not None:
        (folder / "c.cpg").write_text(cpg, encoding="ascii")
    return path


def _folder(folder: Path) -> Path:
    path = _with_communities(folder, "小区数据")
    (folder / "小区数据").mkdir()
    (folder / "小区数据" / "readme.txt").write_text("见附件", encoding="utf-8")
    return path


def _file(folder: Path, name: str, data: bytes) -> Path:
    path = _with_communities(folder, name)
    (folder / name).write_bytes(data)
    return path


def _csv(folder: Path, text: str, *, extra: str = "datum: CGCS2000\n") -> Path:
    path = _with_communities(folder, "小区.csv", extra=extra)
    (folder / "小区.csv").write_text(text, encoding="utf-8")
    return path


def _no_dbf(folder: Path) -> Path:
    path = _with_communities(folder, "c.shp")
    communities().rename(columns={"community_id": "id"}).to_file(folder / "c.shp")
    (folder / "c.dbf").unlink()
    return path


def _no_crs(folder: Path) -> Path:
    gdf = communities().set_crs(None, allow_override=True)
    with pytest.warns(UserWarning, match="'crs' was not provided"):
        return write_project(folder, communities_gdf=gdf)


def _big_yaml(folder: Path) -> Path:
    path = write_project(folder)
    comment = "# " + "x" * 98 + "\n"
    path.write_text(path.read_text(encoding="utf-8") + comment * 11_000, encoding="utf-8")
    return path


def _gbk_yaml(folder: Path) -> Path:
    path = write_project(folder)
    path.write_bytes("name: t\ntitle: 城关片区\nlayers: {communities: 小区.gpkg}\n".encode("gbk"))
    return path


def _duplicated_ids(folder: Path) -> Path:
    return _changed(folder, "community_id", ["c1", "c1", "c3"])


CASES: dict[str, tuple[Expect, Callable[[Path], Path]]] = {
    # the scenario file
    "scenario file missing": ("error", lambda d: d / "nowhere.yaml"),
    "scenario file is a folder": ("error", lambda d: write_project(d).parent),
    "scenario empty": ("error", lambda d: _yaml(d, "")),
    "scenario only a comment": ("error", lambda d: _yaml(d, "# 方案\n")),
    "malformed YAML": ("error", lambda d: _yaml(d, "layers: [communities: ,\n")),
    "tab indentation": ("error", lambda d: _yaml(d, "layers:\n\tcommunities: 小区.gpkg\n")),
    "YAML list, not mapping": ("error", lambda d: _yaml(d, "- 小区.gpkg\n- 设施.gpkg\n")),
    "YAML scalar": ("error", lambda d: _yaml(d, "just words\n")),
    "scenario not UTF-8": ("error", _gbk_yaml),
    "scenario over 1 MB": ("error", _big_yaml),
    "YAML alias bomb": ("error", lambda d: _yaml(d, _billion_laughs())),
    "YAML alias loop": (
        "error",
        lambda d: _yaml(d, "title: &a [*a]\nlayers: {communities: 小区.gpkg}\n"),
    ),
    "YAML python tag": (
        "error",
        lambda d: _yaml(d, "title: !!python/object/apply:os.system ['echo hi']\nlayers: {}\n"),
    ),
    "deeply nested YAML": ("error", lambda d: _yaml(d, "title: " + "[" * 5000 + "]" * 5000 + "\n")),
    "unknown top key": ("error", lambda d: _yaml(d, "name: t\nlayerz: {communities: 小区.gpkg}\n")),
    "unknown layer key": (
        "error",
        lambda d: _yaml(
            d, "layers:\n  communities: {path: 小区.gpkg, colums: {编号: community_id}}\n"
        ),
    ),
    "unknown layer kind": (
        "error",
        lambda d: _yaml(d, "layers: {communities: 小区.gpkg, shops: 小区.gpkg}\n"),
    ),
    "communities missing": ("error", lambda d: _yaml(d, f"name: t\nlayers:\n{FAC}")),
    "layers a list": ("error", lambda d: _yaml(d, "layers: [小区.gpkg]\n")),
    "access a string": (
        "error",
        lambda d: _yaml(d, "layers: {communities: 小区.gpkg}\naccess: yes please\n"),
    ),
    "walk speed negative": (
        "error",
        lambda d: _yaml(d, "layers: {communities: 小区.gpkg}\naccess: {speed_m_per_min: -80}\n"),
    ),
    "walk speed NaN": (
        "error",
        lambda d: _yaml(d, "layers: {communities: 小区.gpkg}\naccess: {speed_m_per_min: .nan}\n"),
    ),
    "unknown datum": (
        "error",
        lambda d: _yaml(d, "datum: CGCS2001\nlayers: {communities: 小区.gpkg}\n"),
    ),
    "metric_crs garbage": (
        "error",
        lambda d: _yaml(d, "metric_crs: EPSG:99999999\nlayers: {communities: 小区.gpkg}\n"),
    ),
    "name '..'": ("error", lambda d: _yaml(d, "name: '..'\nlayers: {communities: 小区.gpkg}\n")),
    "name with /": ("error", lambda d: _yaml(d, "name: a/b\nlayers: {communities: 小区.gpkg}\n")),
    "name with backslash": (
        "error",
        lambda d: _yaml(d, "name: 'a\\b'\nlayers: {communities: 小区.gpkg}\n"),
    ),
    "name with zero-width space": (
        "error",
        lambda d: _yaml(d, 'name: "城关\\u200b片区"\nlayers: {communities: 小区.gpkg}\n'),
    ),
    # layer files
    "layer file missing": ("error", lambda d: _with_communities(d, "无此文件.gpkg")),
    "layer is a folder": ("error", _folder),
    "layer is a URL": ("error", lambda d: _with_communities(d, "https://example.org/c.geojson")),
    "layer is /vsicurl/": ("error", lambda d: _with_communities(d, "/vsicurl/http://x.org/c.gpkg")),
    "layer is a remote VRT": ("error", _remote_vrt),
    "GeoJSON with 0 features": ("error", _empty_geojson),
    "empty CSV": ("error", lambda d: _csv(d, "")),
    "binary garbage as CSV": ("error", lambda d: _file(d, "小区.csv", bytes(range(256)) * 8)),
    "binary garbage as GeoPackage": ("error", lambda d: _file(d, "小区2.gpkg", os.urandom(4096))),
    "CSV without coordinates": ("error", lambda d: _csv(d, "小区编号,小区名称\nc1,幸福里\n")),
    "CSV ragged row": ("error", lambda d: _csv(d, "小区编号,经度,纬度\nc1,117,35,多余\n")),
    "shapefile without .dbf": ("error", _no_dbf),
    "wrong .cpg": ("error", lambda d: _gbk_shapefile(d, "UTF-8")),
    "merged two-row Excel header": ("error", _merged_header),
    "Excel title row": ("error", _title_row),
    "unknown GeoPackage layer": (
        "error",
        lambda d: _yaml(d, "layers: {communities: {path: 小区.gpkg, layer: 小区}}\n"),
    ),
    # values
    "negative households": ("error", lambda d: _changed(d, "households", [120, -3, 80])),
    "built_year in the future": ("error", lambda d: _changed(d, "built_year", [1985, 2999, 2003])),
    "duplicated ids": ("error", _duplicated_ids),
    "households NaN": ("warning", lambda d: _changed(d, "households", [120, np.nan, 80])),
    "Chinese and emoji names": (
        "warning",
        lambda d: _changed(d, "name", ["幸福里😀", "纺织厂\u3000宿舍", "Ω\u0301 建设路"]),
    ),
    "no CRS, no datum": ("error", _no_crs),
    # cases other items of issue 15 fixed (units, coordinates, CRS plausibility)
    "NaN and Infinity coordinates": (
        "error",
        lambda d: _csv(
            d, "小区编号,小区名称,建成年份,户数,经度,纬度\nc1,幸福里,1985,120,nan,inf\n"
        ),
    ),
    "metric_crs Web Mercator": (
        "error",
        lambda d: _yaml(d, "metric_crs: EPSG:3857\nlayers: {communities: 小区.gpkg}\n"),
    ),
    "households given in 人": (
        "error",
        lambda d: _changed(d, "households", ["120", "1200人", "80"]),
    ),
}


def _cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    with pytest.raises(SystemExit) as info:
        main(argv)
    captured = capsys.readouterr()
    code = info.value.code
    return (code if isinstance(code, int) else 0), captured.out + captured.err


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_input_fails_cleanly(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    expect, build = CASES[case]
    folder = tmp_path / "in"
    folder.mkdir()
    scenario = build(folder)
    t0 = time.perf_counter()

    report = gisplan.validate_scenario(scenario)  # never raises
    code, text = _cli(["validate", str(scenario)], capsys)
    assert "Traceback" not in text
    if expect == "warning":
        assert report.ok, report.format()
        assert code == 0, text
        return
    assert not report.ok, f"{case}: validate_scenario found no error"
    assert all(i.problem.strip() and i.fix.strip() for i in report.errors), report.format()
    assert code in {1, 2}, text
    assert text.strip()

    out = tmp_path / "out"
    code, text = _cli(["run", str(scenario), "--out", str(out), "--no-progress"], capsys)
    assert code == 2, text
    assert "Traceback" not in text
    assert text.strip()
    assert not out.exists()

    with pytest.raises(GisplanError) as info:
        gisplan.run_scenario(scenario, out=tmp_path / "api")
    assert str(info.value).strip()
    assert len(str(info.value)) < 5000, f"{case}: message of {len(str(info.value))} characters"
    assert time.perf_counter() - t0 < 60


def test_summary() -> None:
    """The counts the module docstring states (and the issue note reports)."""
    expects = [expect for expect, _ in CASES.values()]
    assert len(expects) >= 30
    assert (len(expects), expects.count("error"), expects.count("warning")) == (53, 51, 2)


# --------------------------------------------------------------------------- item 12


def test_remote_vrt_is_refused_before_gdal_opens_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _remote_vrt(tmp_path)

    def no_gdal(*_: object, **__: object) -> None:
        pytest.fail("GDAL opened the VRT")

    monkeypatch.setattr("pyogrio.read_dataframe", no_gdal)
    monkeypatch.setattr("pyogrio.list_layers", no_gdal)
    with pytest.raises(gisplan.LayerError, match=r"ogr2ogr out\.gpkg c\.vrt"):
        read_file(tmp_path / "c.vrt")
    with pytest.raises(gisplan.LayerError, match="GeoPackage"):
        read_table(tmp_path / "c.vrt")
    # a VRT under another name is recognised by its content
    (tmp_path / "c.vrt").rename(tmp_path / "c.gpkg")
    with pytest.raises(gisplan.LayerError, match="OGRVRTDataSource"):
        read_file(tmp_path / "c.gpkg")
    # through the API's layer reader too: it looks for a layer named like the kind first
    with pytest.raises(gisplan.LayerError, match="OGRVRTDataSource"):
        gisplan.layers.read_layer(tmp_path / "c.gpkg", "communities")
    report = gisplan.validate_scenario(_yaml(tmp_path, f"layers:\n  communities: c.gpkg\n{FAC}"))
    assert "OGRVRTDataSource" in report.format()


@pytest.mark.parametrize(
    "path",
    [
        "https://example.org/c.geojson",
        "http://example.org/c.gpkg",
        "ftp://example.org/c.shp",
        "/vsicurl/https://example.org/c.gpkg",
        "/vsis3/bucket/c.gpkg",
        "/vsizip//vsicurl/https://example.org/c.zip",
        "WFS:https://example.org/wfs",
    ],
)
def test_urls_are_refused(path: str) -> None:
    with pytest.raises(gisplan.LayerError, match="local files only"):
        read_file(path)


# --------------------------------------------------------------------------- item 13


def test_alias_bomb_fails_fast(tmp_path: Path) -> None:
    scenario = _yaml(tmp_path, _billion_laughs())
    t0 = time.perf_counter()
    with pytest.raises(gisplan.ScenarioError, match=r"bomb.*write the values out") as info:
        gisplan.load_scenario(scenario)
    assert time.perf_counter() - t0 < 2
    assert str(scenario) in str(info.value)


def test_modest_aliases_still_work(tmp_path: Path) -> None:
    scenario = _yaml(tmp_path, "x: &l 小区.gpkg\nlayers: {communities: *l}\nname: t\n")
    with pytest.raises(gisplan.ScenarioError, match="x: unknown key"):
        gisplan.load_scenario(scenario)  # the alias expanded; only the helper key is wrong
    scenario.write_text("layers: {communities: &l 小区.gpkg, facilities: *l}\n", encoding="utf-8")
    assert gisplan.load_scenario(scenario).layers.facilities is not None


def test_scenario_size_cap(tmp_path: Path) -> None:
    with pytest.raises(gisplan.ScenarioError, match="too large for a scenario"):
        gisplan.load_scenario(_big_yaml(tmp_path))


# --------------------------------------------------------------------------- item 14


def test_merged_excel_header_is_named(tmp_path: Path) -> None:
    _merged_header(tmp_path)
    with pytest.raises(gisplan.LayerError, match=r"header has two rows or merged cells \(A1:D1"):
        read_file(tmp_path / "小区.xlsx")
    _title_row(tmp_path)
    with pytest.raises(gisplan.LayerError, match="row 1 names only 1 of 6 columns"):
        read_file(tmp_path / "小区.xlsx")


def test_empty_geojson_has_no_features(tmp_path: Path) -> None:
    report = gisplan.validate_scenario(_empty_geojson(tmp_path))
    assert [i.problem for i in report.errors] == [
        f"{tmp_path / 'c.geojson'} has no features (0 rows) and no columns"
    ]


def test_wrong_cpg_is_named_not_damage(tmp_path: Path) -> None:
    _gbk_shapefile(tmp_path, "UTF-8")
    with pytest.raises(gisplan.LayerError) as info:
        read_file(tmp_path / "c.shp")
    message = str(info.value)
    assert "the .cpg encoding looks wrong" in message
    assert "decodes as GB18030" in message
    assert "encoding: gbk" in message
    assert "undamaged" not in message
    # the fix works: the encoding under the layer wins over the .cpg
    assert read_file(tmp_path / "c.shp", encoding="gbk")["name"].tolist()[0] == "幸福里小区"


def test_wrong_encoding_given_is_named(tmp_path: Path) -> None:
    _gbk_shapefile(tmp_path, None)
    with pytest.raises(gisplan.LayerError, match="the encoding given under 'encoding:'"):
        read_file(tmp_path / "c.shp", encoding="utf-8")


def test_folder_is_not_a_file(tmp_path: Path) -> None:
    _folder(tmp_path)
    with pytest.raises(gisplan.LayerError, match=r"is a folder, not a layer file \(it holds"):
        read_file(tmp_path / "小区数据")
    with pytest.raises(gisplan.LayerError, match="is a folder, not a layer file"):
        read_table(tmp_path / "小区数据")


def test_folder_of_shapefiles_still_reads(tmp_path: Path) -> None:
    folder = tmp_path / "shp"
    folder.mkdir()
    facilities().rename(columns={"facility_id": "id"}).to_file(folder / "facilities.shp")
    assert read_file(folder)["id"].tolist() == ["f1", "f2"]


@pytest.mark.parametrize("name", ["..", ".", "a/b", "a\\b", "../x", " x", "x.", "a\x00b"])
def test_bad_run_names(tmp_path: Path, name: str) -> None:
    yaml_path = write_project(tmp_path)
    data = {"name": name, "layers": {"communities": str(tmp_path / "小区.gpkg")}}
    with pytest.raises(gisplan.ScenarioError, match="name: "):
        scenario_from_dict(data, base_dir=yaml_path.parent)


def test_good_run_names(tmp_path: Path) -> None:
    yaml_path = write_project(tmp_path)
    for name in ["demo", "城关片区-2025", "v1.2", "a b"]:
        data = {"name": name, "layers": {"communities": str(tmp_path / "小区.gpkg")}}
        assert scenario_from_dict(data, base_dir=yaml_path.parent).name == name


def test_one_warning_once_per_run(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A facility far from the network is snapped by access, gaps and siting: one warning."""
    yaml_path = write_access_project(tmp_path / "in")
    gpkg = tmp_path / "in" / "小区.gpkg"
    far = facilities()
    far.loc[0, "geometry"] = Point(X0 + 5000, Y0 + 5000)
    far.to_file(gpkg, layer="facilities")
    gpd.GeoDataFrame(
        {"site_id": ["s1"], "area_m2": [1800.0], "cost_wan_yuan": [100.0]},
        geometry=[Point(X0 + 250, Y0 - 5)],
        crs="EPSG:4548",
    ).to_file(gpkg, layer="sites")
    yaml_path.write_text(
        yaml_path.read_text(encoding="utf-8").replace(
            "  entrances: 小区.gpkg\n", "  entrances: 小区.gpkg\n  sites: 小区.gpkg\n"
        )
        + "siting: {types: [kindergarten]}\n",
        encoding="utf-8",
    )
    for _ in range(2):  # the next run warns afresh
        caplog.clear()
        gisplan.run_scenario(yaml_path, write=False)
        far_lines = [r.getMessage() for r in caplog.records if "max_snap_m" in r.getMessage()]
        assert len(far_lines) == 1, far_lines
        assert "f1 (6,668 m)" in far_lines[0]


def test_highs_printing_stays_off_stdout(
    capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from scipy.optimize import Bounds, milp  # noqa: PLC0415

    from gisplan._milp import quiet_milp  # noqa: PLC0415 - the helper under test

    def chatty(*args: object, **kwargs: object) -> object:
        os.write(1, b"HighsMipSolverData::transformNewIntegerFeasibleSolution tmpSolver.run();\n")
        return milp(*args, **kwargs)

    monkeypatch.setattr("gisplan._milp.milp", chatty)
    res = quiet_milp(np.array([-1.0]), integrality=np.array([1]), bounds=Bounds(0, 2.5))
    assert float(res.x[0]) == 2.0
    print("after")  # noqa: T201 - standard output works again
    out = capfd.readouterr().out
    assert out == "after\n"


def test_every_solver_call_is_quiet() -> None:
    """plan, siting and bundles call HiGHS through quiet_milp only."""
    package = Path(gisplan.__path__[0])
    callers = []
    for path in sorted(package.rglob("*.py")):
        if path.name == "_milp.py":
            continue
        text = path.read_text(encoding="utf-8")
        if "quiet_milp(" in text:
            callers.append(path.name)
        assert " milp(" not in text.replace("quiet_milp(", ""), path
        assert "import Bounds, LinearConstraint, milp" not in text, path
    assert sorted(callers) == ["_common.py", "_siting_model.py", "plan.py"]
