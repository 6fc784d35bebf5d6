"""gisplan: planning the renovation of old urban residential communities in China.

城镇老旧小区改造规划工具。Load community polygons, facilities and a walking network,
check them, and run a scenario file end to end::

    import gisplan
    result = gisplan.run_scenario("scenarios/demo.yaml", write=False)
    result.layers["communities"].explore()

Each step is also a plain function: :func:`read_layer`, :func:`check_layer`,
:func:`load_scenario`, :func:`choose_metric_crs`, :func:`to_metric`, ...
"""

import importlib
from types import ModuleType

from gisplan._version import __version__
from gisplan.crs import choose_metric_crs, parse_datum, require_metric_crs, to_metric, to_wgs84
from gisplan.errors import (
    AssetError,
    CRSError,
    GisplanError,
    GisplanWarning,
    InfeasibleError,
    LayerError,
    OutputError,
    ScenarioError,
    SchemaError,
    StandardsError,
    ValidationError,
)
from gisplan.layers import LAYER_KINDS, check_layer, read_layer, validate_layer
from gisplan.osm import read_osm
from gisplan.outputs import RunResult, read_run
from gisplan.runner import load_layers, run_scenario, validate_scenario
from gisplan.scenario import Scenario, load_scenario
from gisplan.standards import load_standard
from gisplan.validation import Issue, ValidationReport

__all__ = [
    "LAYER_KINDS",
    "AssetError",
    "CRSError",
    "GisplanError",
    "GisplanWarning",
    "InfeasibleError",
    "Issue",
    "LayerError",
    "OutputError",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "SchemaError",
    "StandardsError",
    "ValidationError",
    "ValidationReport",
    "__version__",
    "check_layer",
    "choose_metric_crs",
    "load_layers",
    "load_scenario",
    "load_standard",
    "parse_datum",
    "read_layer",
    "read_osm",
    "read_run",
    "require_metric_crs",
    "run_scenario",
    "to_metric",
    "to_wgs84",
    "validate_layer",
    "validate_scenario",
]

#: Modules reachable as ``gisplan.<name>`` without importing them first; each is imported on
#: first use, so ``import gisplan`` stays light (the solvers, Folium and Jinja load when used).
SUBMODULES: tuple[str, ...] = (
    "access",
    "assets",
    "bundles",
    "catalogue",
    "cli",
    "crs",
    "documents",
    "eligibility",
    "errors",
    "finance",
    "gaps",
    "layers",
    "maps",
    "network",
    "osm",
    "outputs",
    "plan",
    "plan_document",
    "publicity",
    "publish",
    "register",
    "report",
    "runner",
    "scenario",
    "schedule",
    "siting",
    "standards",
    "templates",
    "validation",
    "vocabulary",
)


def __getattr__(name: str) -> ModuleType:
    """Import a submodule on first access: ``gisplan.access`` works after ``import gisplan``."""
    if name in SUBMODULES:
        return importlib.import_module(f"gisplan.{name}")
    raise AttributeError(f"module 'gisplan' has no attribute {name!r}")


def __dir__() -> list[str]:
    """List the public names and the submodules."""
    return sorted({*__all__, *SUBMODULES})
