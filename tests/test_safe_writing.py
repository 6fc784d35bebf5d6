"""Safe writing: formula text stays text, one writer per folder, --overwrite keeps what is not ours,
interrupted runs are cleaned up, and a run folder's bytes depend only on its inputs."""

from __future__ import annotations

import csv
import json
import shutil
import time
from pathlib import Path

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest
from shapely.geometry import box

import gisplan.runner
from gisplan import maps, run_scenario
from gisplan._atomic import FolderLock, atomic_dir
from gisplan.errors import OutputError
from gisplan.report import write_csv_tables, write_workbook

from _fixtures import write_project

HOSTILE = ['=HYPERLINK("http://x","点我")', "+1+2", "-3+4", "@SUM(A1)", "\tTAB", "幸福里"]


def _table() -> pd.DataFrame:
    return pd.DataFrame(
        {"community_id": ["=1+1", "c2", "c3", "c4", "c5", "c6"], "name": HOSTILE, "n": range(-3, 3)}
    )


def test_workbook_writes_formula_text_as_text(tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    write_workbook(path, {"表": _table()})
    ws = openpyxl.load_workbook(path)["表"]
    assert ws["A2"].value == "=1+1"
    assert ws["A2"].data_type == "s"
    names = [ws.cell(row=r, column=2) for r in range(2, 8)]
    assert [c.value for c in names] == HOSTILE
    assert all(c.data_type == "s" for c in names)  # never "f" (a formula)
    assert [ws.cell(row=r, column=3).value for r in range(2, 8)] == [-3, -2, -1, 0, 1, 2]


def test_csv_prefixes_formula_text_with_an_apostrophe(tmp_path: Path) -> None:
    (path,) = write_csv_tables(tmp_path, {"t": _table()})
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    assert [r[0] for r in rows[1:3]] == ["'=1+1", "c2"]
    assert [r[1] for r in rows[1:]] == ["'" + v for v in HOSTILE[:5]] + ["幸福里"]
    assert [r[2] for r in rows[1:]] == ["-3", "-2", "-1", "0", "1", "2"]  # numbers stay numbers


def test_workbook_bytes_do_not_depend_on_the_clock(tmp_path: Path) -> None:
    write_workbook(tmp_path / "a.xlsx", {"表": _table()})
    time.sleep(2.1)  # zip entry times have two-second steps
    write_workbook(tmp_path / "b.xlsx", {"表": _table()})
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()
    props = openpyxl.load_workbook(tmp_path / "a.xlsx").properties
    assert props.created is not None
    assert props.created.year == 2000


def test_map_html_does_not_depend_on_random_ids() -> None:
    comm = gpd.GeoDataFrame(
        {"community_id": ["C1", "C2"], "name": ["甲", "乙"]},
        geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100)],
        crs=4548,
    )
    elig = pd.DataFrame({"community_id": ["C1", "C2"], "status": ["eligible", "not_eligible"]})
    layers = {"communities": comm, "eligibility": elig}
    one = maps.explore(layers, "overview", basemap="osm").get_root().render()
    two = maps.explore(layers, "overview", basemap="osm").get_root().render()
    assert one == two


# --------------------------------------------------------------------------- one writer


def test_second_run_to_a_locked_folder_fails_at_once(tmp_path: Path) -> None:
    yaml_path = write_project(tmp_path / "in")
    out = tmp_path / "out"
    with (
        FolderLock(out),
        pytest.raises(OutputError, match=r"another gisplan process is writing to .*out"),
    ):
        run_scenario(yaml_path, out=out)
    assert not out.exists()
    run_scenario(yaml_path, out=out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "out"]  # no lock file left


def test_a_run_that_finished_meanwhile_is_not_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    yaml_path = write_project(tmp_path / "in")
    first = tmp_path / "first"
    run_scenario(yaml_path, out=first)
    out = tmp_path / "out"
    write = gisplan.runner.write_results

    def finished_meanwhile(folder: Path, *args: object) -> None:
        shutil.copytree(first, out)  # another run renamed its folder into place meanwhile
        write(folder, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(gisplan.runner, "write_results", finished_meanwhile)
    with pytest.raises(OutputError, match="already exists; pass --overwrite"):
        run_scenario(yaml_path, out=out)
    assert json.loads((out / "run.json").read_text(encoding="utf-8")) == json.loads(
        (first / "run.json").read_text(encoding="utf-8")
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["first", "in", "out"]


# --------------------------------------------------------------------------- --overwrite


def test_overwrite_needs_a_run_json_gisplan_wrote(tmp_path: Path) -> None:
    yaml_path = write_project(tmp_path / "in")
    out = tmp_path / "out"
    out.mkdir()
    (out / "run.json").write_text("{}", encoding="utf-8")
    (out / "notes.docx").write_text("mine", encoding="utf-8")
    with pytest.raises(OutputError, match="not a gisplan output"):
        run_scenario(yaml_path, out=out, overwrite=True)
    assert (out / "notes.docx").read_text(encoding="utf-8") == "mine"


def test_overwrite_lists_added_and_changed_files(tmp_path: Path) -> None:
    yaml_path = write_project(tmp_path / "in")
    out = tmp_path / "out"
    run_scenario(yaml_path, out=out)
    run_scenario(yaml_path, out=out, overwrite=True)  # an untouched run folder is replaced
    (out / "notes").mkdir()
    (out / "notes" / "批注.txt").write_text("mine", encoding="utf-8")
    (out / "validation_issues.csv").write_bytes(b"edited by hand")
    with pytest.raises(OutputError) as info:
        run_scenario(yaml_path, out=out, overwrite=True)
    message = str(info.value)
    assert "2 file(s)" in message
    assert "validation_issues.csv (changed)" in message
    assert "notes/批注.txt" in message
    assert "--force" in message
    assert (out / "notes" / "批注.txt").is_file()
    run_scenario(yaml_path, out=out, overwrite=True, force=True)
    assert not (out / "notes").exists()


# --------------------------------------------------------------------------- interrupted


def test_temp_folders_of_killed_runs_are_removed_by_the_next(tmp_path: Path) -> None:
    yaml_path = write_project(tmp_path / "in")
    out = tmp_path / "out"
    for left in (".out.tmp-k9x2", ".out.old-3hq1"):
        (tmp_path / left).mkdir()
        (tmp_path / left / "results.gpkg").write_bytes(b"half")
    (tmp_path / ".other.tmp-1").mkdir()  # another target's: not ours to remove
    run_scenario(yaml_path, out=out)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".other.tmp-1", "in", "out"]


def test_failed_block_leaves_no_temp_and_no_lock(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "out"

    def write_then_fail() -> None:
        with atomic_dir(target) as tmp:
            (tmp / "x").write_text("x", encoding="utf-8")
            raise OSError(28, "No space left on device", str(tmp / "x"))

    with pytest.raises(OutputError, match="No space left"):
        write_then_fail()
    assert list(tmp_path.iterdir()) == []  # the parents it made are gone too


# --------------------------------------------------------------------------- determinism


@pytest.mark.assets
def test_demo_run_folder_is_byte_identical_run_to_run(repo_root: Path, tmp_path: Path) -> None:
    demo = repo_root / "scenarios" / "demo.yaml"
    run_scenario(demo, out=tmp_path / "a")
    run_scenario(demo, out=tmp_path / "b")
    files = sorted(
        p.relative_to(tmp_path / "a").as_posix() for p in (tmp_path / "a").rglob("*") if p.is_file()
    )
    assert {"results.gpkg", "results.xlsx", "maps/overview.html", "site/index.html"} <= set(files)
    assert files == sorted(
        p.relative_to(tmp_path / "b").as_posix() for p in (tmp_path / "b").rglob("*") if p.is_file()
    )
    # run.json holds the start time and timings, run.log the time of each line
    differ = [
        f
        for f in files
        if f not in {"run.json", "run.log"}
        and (tmp_path / "a" / f).read_bytes() != (tmp_path / "b" / f).read_bytes()
    ]
    assert differ == []
    a, b = (json.loads((tmp_path / d / "run.json").read_text(encoding="utf-8")) for d in "ab")
    assert a["outputs"] == b["outputs"]
