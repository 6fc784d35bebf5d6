"""Faults while writing: a kill, a full disk, a read-only folder, two runs at once, a damaged
results.gpkg. Each must leave the previous output intact, no temporary folder after the next
run, and a clear message (exit code 2, no traceback) on the command line."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import gisplan._atomic
import gisplan.outputs
import gisplan.runner
from gisplan import run_scenario
from gisplan.cli import main

from _fixtures import write_project

#: A run whose writer stops after writing results.gpkg into the temporary folder: it marks
#: the folder with WRITING, then waits (up to a minute) for the file GO beside the output.
_SLOW_RUN = """
import sys, time
from pathlib import Path
import gisplan.runner

scenario, out, overwrite = sys.argv[1], Path(sys.argv[2]), sys.argv[3] == "1"
write = gisplan.runner.write_results

def slow(folder, *args):
    write(folder, *args)
    (folder / "WRITING").write_text("x")
    for _ in range(600):
        if (out.parent / "GO").exists():
            return
        time.sleep(0.1)

gisplan.runner.write_results = slow
gisplan.run_scenario(scenario, out=out, overwrite=overwrite)
"""


def _cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    with pytest.raises(SystemExit) as info:
        main(argv)
    code = info.value.code
    return (code if isinstance(code, int) else 0), capsys.readouterr().err


def _tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def _start_slow_run(yaml_path: Path, out: Path, *, overwrite: bool) -> subprocess.Popen[bytes]:
    tests = str(Path(__file__).parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([tests, os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", _SLOW_RUN, str(yaml_path), str(out), "1" if overwrite else "0"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 180
    while not list(out.parent.glob(f".{out.name}.tmp-*/WRITING")):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            _, err = proc.communicate()
            pytest.fail(f"the slow run did not reach its write phase: {err.decode()[-2000:]}")
        time.sleep(0.1)
    return proc


@pytest.fixture
def previous(tmp_path: Path) -> tuple[Path, Path, dict[str, bytes]]:
    """A scenario, its finished output folder and that folder's bytes."""
    yaml_path = write_project(tmp_path / "in")
    out = tmp_path / "work" / "out"
    run_scenario(yaml_path, out=out)
    return yaml_path, out, _tree(out)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_kill_during_the_write_keeps_the_previous_output(
    previous: tuple[Path, Path, dict[str, bytes]], sig: signal.Signals
) -> None:
    yaml_path, out, before = previous
    proc = _start_slow_run(yaml_path, out, overwrite=True)
    proc.send_signal(sig)
    proc.communicate(timeout=60)
    assert proc.returncode != 0
    assert _tree(out) == before
    if sig == signal.SIGTERM:  # cleaned up on the way out
        assert _hidden(out.parent) == []
    else:  # nothing runs after SIGKILL: the next run cleans up
        assert any(".out.tmp-" in name for name in _hidden(out.parent))
    run_scenario(yaml_path, out=out, overwrite=True)
    assert _hidden(out.parent) == []
    assert (out / "results.gpkg").is_file()


def test_concurrent_run_gets_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    yaml_path = write_project(tmp_path / "in")
    out = tmp_path / "work" / "out"
    first = _start_slow_run(yaml_path, out, overwrite=False)
    try:
        code, err = _cli(["run", str(yaml_path), "--out", str(out), "--no-progress"], capsys)
        assert code == 2
        assert "another gisplan process is writing to" in err
        assert "Traceback" not in err
        # the second run's failure leaves the first one's temporary folder and lock alone
        assert any(".out.tmp-" in name for name in _hidden(out.parent))
    finally:
        (out.parent / "GO").touch()
        _, stderr = first.communicate(timeout=120)
    assert first.returncode == 0, stderr.decode()[-2000:]
    assert (out / "results.gpkg").is_file()
    assert _hidden(out.parent) == []


def test_disk_full_while_writing_results_gpkg(
    previous: tuple[Path, Path, dict[str, bytes]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    yaml_path, out, before = previous

    def full(frames: object, path: Path) -> None:
        path.write_bytes(b"SQLite format 3\0")  # a part of the file, then the disk is full
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(gisplan.outputs, "_write_gpkg", full)
    code, err = _cli(["run", str(yaml_path), "--out", str(out), "--overwrite"], capsys)
    assert code == 2
    assert "cannot write the folder" in err
    assert "No space left on device" in err
    assert "results.gpkg" in err
    assert "free some disk space" in err
    assert "Traceback" not in err
    assert _tree(out) == before
    assert _hidden(out.parent) == []


def test_read_only_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    yaml_path = write_project(tmp_path / "in")
    parent = tmp_path / "shared"
    parent.mkdir()
    if os.geteuid() != 0:  # root writes anywhere: then the refusal is simulated
        parent.chmod(0o555)
    else:

        def refused(*args: object, **kwargs: object) -> int:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(parent))

        monkeypatch.setattr(gisplan._atomic.os, "open", refused)
    try:
        code, err = _cli(["run", str(yaml_path), "--out", str(parent / "out")], capsys)
    finally:
        parent.chmod(0o755)
    assert code == 2
    assert "Permission denied" in err
    assert "make the folder writable, or choose another folder with --out" in err
    assert "Traceback" not in err
    assert list(parent.iterdir()) == []


def test_out_under_a_file_fails_before_the_computation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    yaml_path = write_project(tmp_path / "in")
    (tmp_path / "report.pdf").write_bytes(b"%PDF")

    def never(*args: object, **kwargs: object) -> None:
        pytest.fail("the steps ran although the output folder cannot be made")

    monkeypatch.setattr(gisplan.runner, "load_context", never)
    code, err = _cli(["run", str(yaml_path), "--out", str(tmp_path / "report.pdf" / "out")], capsys)
    assert code == 2
    assert "a file stands where a folder is needed" in err
    assert "Traceback" not in err
    assert (tmp_path / "report.pdf").read_bytes() == b"%PDF"


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # GDAL's own notes on the damage
def test_damaged_results_gpkg_given_to_map(
    previous: tuple[Path, Path, dict[str, bytes]], capsys: pytest.CaptureFixture[str]
) -> None:
    _, out, before = previous
    data = before["results.gpkg"]
    pages = len(data) // 4096
    for page in range(1, pages):  # every 4 kB page of the file damaged in turn
        bad = data[: page * 4096] + b"\xff" * 4096 + data[(page + 1) * 4096 :]
        (out / "results.gpkg").write_bytes(bad)
        try:
            main(["-q", "map", str(out), "--online", "--theme", "overview"])
            code = 0
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 0
        assert code in {0, 2}, page
        err = capsys.readouterr().err
        assert "Traceback" not in err
        if code:  # a damaged page of data or of the CRS table: one line saying what and where
            assert "错误 error: " in err
            assert "results.gpkg" in err or "has no CRS" in err
    assert _hidden(out) == []
    assert not list(out.glob("maps/.*"))


def test_redraw_replaces_maps_whole_and_keeps_the_folder_replaceable(
    previous: tuple[Path, Path, dict[str, bytes]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    yaml_path, out, _ = previous
    code, _ = _cli(["-q", "map", str(out), "--online", "--theme", "overview"], capsys)
    assert code == 0
    drawn = (out / "maps" / "overview.html").read_bytes()

    with monkeypatch.context() as patch:
        patch.setattr(gisplan._atomic.os, "fdopen", lambda fd, _mode: _Full(fd))
        code, err = _cli(["-q", "map", str(out), "--online", "--theme", "overview"], capsys)
    assert code == 2
    assert "No space left on device" in err
    assert "overview.html" in err
    assert (out / "maps" / "overview.html").read_bytes() == drawn  # not truncated
    assert sorted(p.name for p in (out / "maps").iterdir()) == ["overview.html"]
    assert _hidden(out.parent) == []
    # run.json knows the redrawn map: --overwrite needs no --force
    run_scenario(yaml_path, out=out, overwrite=True)


class _Full:
    """A file object whose writes fail as on a full disk."""

    def __init__(self, fd: int) -> None:
        self._fd = fd

    def __enter__(self) -> _Full:  # noqa: PYI034
        return self

    def __exit__(self, *exc: object) -> None:
        os.close(self._fd)

    def write(self, _data: bytes) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
