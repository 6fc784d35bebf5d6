"""Shared fixtures: paths to the real OSM extracts (skipped cleanly when absent).

Tests marked ``assets`` open maps or pages that embed the map scripts fetched by
``python -m gisplan.assets fetch`` (the README's install step); where they are absent those
tests are skipped with the fix in the reason, instead of failing on an AssetError.
"""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_OSM = REPO.parent / "shared" / "data" / "osm"


@pytest.fixture(scope="session")
def osm_dir() -> Path:
    """Folder holding ``beijing_wudaokou_2017/map.osm`` and ``nanjing_xinjiekou_2021/map.osm``."""
    if not (SHARED_OSM / "beijing_wudaokou_2017" / "map.osm").is_file():
        pytest.skip(f"real OSM extracts not found at {SHARED_OSM}")
    return SHARED_OSM


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """Root of the gisplan repository (holds layers/ and scenarios/)."""
    return REPO


@pytest.fixture(scope="session")
def demo(repo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Output folder of the bundled demo scenario, run once per session (it takes ~30 s).

    Tests using it open maps the demo writes: mark them ``assets``.
    """
    from gisplan import run_scenario  # noqa: PLC0415 - only sessions that use the demo pay

    out = tmp_path_factory.mktemp("demo") / "out"
    run_scenario(repo_root / "scenarios" / "demo.yaml", out=out)
    return out


def assets_missing_reason() -> str | None:
    """Why tests that embed the map scripts cannot run here (``None``: they can)."""
    from gisplan.assets import missing_files  # noqa: PLC0415 - read once per session

    missing = missing_files()
    if not missing:
        return None
    return (
        f"map assets not fetched ({len(missing)} files missing, e.g. {missing[0]}): "
        "run `python -m gisplan.assets fetch`"
    )


#: Notebooks that save offline maps or the 公示 site (they embed the fetched scripts).
NOTEBOOKS_WITH_ASSETS = frozenset({"06_maps_and_publishing.ipynb"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Skip the ``assets`` tests, with the fix as reason, when the map scripts are absent."""
    reason = assets_missing_reason()
    if reason is None:
        return
    for item in items:
        if item.get_closest_marker("assets") or item.path.name in NOTEBOOKS_WITH_ASSETS:
            item.add_marker(pytest.mark.skip(reason=reason))
