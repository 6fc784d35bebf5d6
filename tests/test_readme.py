"""The README's Python example runs as written (from the repository root)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest


def test_readme_python_example_runs(
    repo_root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (repo_root / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)
    assert len(blocks) == 1
    monkeypatch.chdir(repo_root)
    namespace: dict[str, object] = {}
    exec(blocks[0], namespace)  # noqa: S102 - our own README
    out = capsys.readouterr().out
    assert "0 error(s), 0 warning(s)" in out
    assert "CGCS2000 / 3-degree Gauss-Kruger CM 117E 150" in out
    assert len(namespace["kindergartens"]) == 14  # type: ignore[arg-type]
    lon, lat = namespace["lon"], namespace["lat"]
    assert 116.397 < float(lon) < 116.399  # type: ignore[arg-type]
    assert 39.908 < float(lat) < 39.910  # type: ignore[arg-type]
