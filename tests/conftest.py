"""Shared fixtures: paths to the real OSM extracts (skipped cleanly when absent)."""

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
