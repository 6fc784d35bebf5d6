"""Errors and warnings raised by gisplan.

Every error a planner can cause with their data or scenario derives from
:class:`GisplanError`, so a caller (and the command line) can catch one class.
Each also derives from a builtin, so ``except ValueError`` keeps working::

    GisplanError
    ├── LayerError(ValueError)          bad file, geometry or column
    │   ├── SchemaError                 required column missing or mistyped
    │   └── ValidationError             a layer has fatal problems (carries the report)
    ├── CRSError(ValueError)            no CRS, geographic CRS, unknown datum
    ├── StandardsError(ValueError)      unknown facility type or life-circle level
    ├── ScenarioError(ValueError)       YAML keys/values (lists every problem at once)
    ├── OutputError(OSError)            output folder exists or cannot be written
    ├── AssetError(RuntimeError)        map scripts not fetched, unknown or failing checksum
    └── InfeasibleError(RuntimeError)   bundles/siting: no solution under the constraints
    GisplanWarning(UserWarning)         recoverable data oddities

Messages say what is wrong, where (file, layer, row or key) and how to fix it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from gisplan.validation import ValidationReport

__all__ = [
    "AssetError",
    "CRSError",
    "GisplanError",
    "GisplanWarning",
    "InfeasibleError",
    "LayerError",
    "OutputError",
    "ScenarioError",
    "SchemaError",
    "StandardsError",
    "ValidationError",
]


class GisplanError(Exception):
    """Root of every error gisplan raises on purpose."""


class LayerError(GisplanError, ValueError):
    """A layer file cannot be read, or its geometry or columns are unusable."""


class SchemaError(LayerError):
    """A required column is missing or has the wrong type."""


class ValidationError(LayerError):
    """Validation found fatal problems; ``report`` lists every one of them."""

    def __init__(self, report: ValidationReport) -> None:
        self.report = report
        super().__init__(report.format(fatal_only=True))


class CRSError(GisplanError, ValueError):
    """A coordinate reference system is missing, unknown, or not metric where metres are needed."""


class StandardsError(GisplanError, ValueError):
    """A facility type or life-circle level is not in the standards table."""


class ScenarioError(GisplanError, ValueError):
    """A scenario file has unknown keys, bad values or missing paths.

    ``problems`` holds one ``(key path, problem, fix)`` triple per problem found.
    """

    def __init__(self, message: str, problems: Sequence[tuple[str, str, str]] = ()) -> None:
        self.problems = list(problems)
        super().__init__(message)

    @classmethod
    def check(cls, owner: str, section: str, problems: Sequence[tuple[str, str, str]]) -> None:
        """Raise one error listing every ``(field, problem, fix)`` of an options object, if any.

        ``owner`` names the object in the message (``FundingRules``), ``section`` the scenario
        key the fields live under (``finance``), for the key paths in ``problems``.
        """
        if problems:
            raise cls(
                "\n".join(f"{owner}.{k} = {p}; {fix}" for k, p, fix in problems),
                [(f"{section}.{k}", p, fix) for k, p, fix in problems],
            )


class OutputError(GisplanError, OSError):
    """An output folder already exists (without ``overwrite``) or cannot be written."""


class InfeasibleError(GisplanError, RuntimeError):
    """An optimisation step has no solution under the given constraints."""


class GisplanWarning(UserWarning):
    """A recoverable oddity in the data (repaired geometry, overlapping polygons, ...)."""


class AssetError(GisplanError, RuntimeError):
    """An asset a page needs is not in the manifest, not fetched, or fails its checksum."""
