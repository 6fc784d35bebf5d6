"""Names injected into doctests (``pytest --doctest-modules gisplan``)."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, box

import gisplan


@pytest.fixture(autouse=True)
def _doctest_names(doctest_namespace: dict[str, Any]) -> None:
    doctest_namespace.update(gpd=gpd, pd=pd, box=box, Point=Point, gisplan=gisplan)
