"""Scenario files: one YAML file = one reproducible run.

A scenario names the input layers (paths relative to the YAML file), the datum they are
written in, and the options of each step. :func:`load_scenario` checks the whole file and
reports **every** problem at once (key path, what is wrong, allowed values, "did you mean");
:func:`run_scenario` runs the steps it asks for and writes ``outputs/<name>/`` atomically.

Example scenario::

    name: demo
    title: 示范县城关片区（合成数据）
    datum: CGCS2000            # default for layers whose file has no CRS
    metric_crs: auto           # or EPSG:4548
    layers:
      communities: ../layers/demo.gpkg        # short form; layer name = kind
      facilities: {path: ../layers/demo.gpkg, layer: facilities}
      network: ../layers/demo.gpkg
    outputs:
      dir: null                # default outputs/<name>/ (relative to the working folder)
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import functools
import importlib
import itertools
import logging
import re
import reprlib
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeVar, get_args, get_origin

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic import ValidationError as PydanticValidationError

from gisplan._readers import is_osm, remote_problem
from gisplan.errors import CRSError, GisplanError, ScenarioError, StandardsError
from gisplan.layers import LAYER_KINDS, TABLE_KINDS
from gisplan.standards import LevelDistances

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    import pandas as pd

    from gisplan.access import AccessOptions
    from gisplan.bundles import BundleOptions, CrossOptions
    from gisplan.catalogue import SchemeOptions
    from gisplan.eligibility import EligibilityRules
    from gisplan.finance import FinancingOptions, FundingRules
    from gisplan.gaps import GapOptions
    from gisplan.maps import MapOptions
    from gisplan.plan import PlanLimits, PriorityWeights
    from gisplan.publish import PublishOptions
    from gisplan.siting import SitingOptions

__all__ = [
    "AccessSection",
    "BundlesSection",
    "DocumentsSection",
    "EligibilitySection",
    "FinanceSection",
    "LayerSource",
    "Layers",
    "MapsSection",
    "Outputs",
    "PlanSection",
    "PublishSection",
    "Scenario",
    "SchemesSection",
    "SitingSection",
    "load_scenario",
    "scenario_from_dict",
    "section_from_dict",
]

logger = logging.getLogger(__name__)

_T = TypeVar("_T")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _base_dir(info: ValidationInfo) -> Path:
    context = info.context or {}
    base = context.get("base_dir")
    return Path(base) if base is not None else Path.cwd()


def _resolve_existing(value: Path, info: ValidationInfo) -> Path:
    path = value if value.is_absolute() else _base_dir(info) / value
    path = path.resolve()
    if not path.exists():
        msg = (
            f"file not found: {path} (paths are relative to the scenario file's folder "
            f"{_base_dir(info)}); check the spelling or give an absolute path"
        )
        raise ValueError(msg)
    return path


def _check_datum(value: str | None) -> str | None:
    if value is None:
        return None
    from gisplan.crs import parse_datum  # noqa: PLC0415 - keeps crs optional at import

    try:
        parse_datum(value)
    except CRSError as err:
        raise ValueError(str(err)) from err
    return value


class LayerSource(_Model):
    """Where one input layer comes from and how to read it."""

    path: Path = Field(description="File path, relative to the scenario file.")
    layer: str | None = Field(
        default=None, description="GeoPackage layer or Excel sheet name (default: the kind)."
    )
    datum: str | None = Field(
        default=None, description="Datum of the coordinates: WGS84, CGCS2000, GCJ-02, BD-09, EPSG."
    )
    columns: dict[str, str] = Field(
        default_factory=dict, description="Your column name -> gisplan column name."
    )
    encoding: str | None = Field(default=None, description="Text encoding of CSV/shapefile.")
    x: str | None = Field(default=None, description="CSV/Excel column with x or longitude.")
    y: str | None = Field(default=None, description="CSV/Excel column with y or latitude.")

    @field_validator("path", mode="before")
    @classmethod
    def _not_a_url(cls, value: object) -> object:
        if isinstance(value, str) and (problem := remote_problem(value, sniff=False)):
            raise ValueError(problem)
        return value

    @field_validator("path")
    @classmethod
    def _path_exists(cls, value: Path, info: ValidationInfo) -> Path:
        path = _resolve_existing(value, info)
        problem = remote_problem(path)
        if problem is not None:
            raise ValueError(problem)
        return path

    @field_validator("datum")
    @classmethod
    def _datum_known(cls, value: str | None) -> str | None:
        return _check_datum(value)


def _short_form(value: object) -> object:
    """Allow ``communities: file.gpkg`` as well as ``communities: {path: file.gpkg}``."""
    if isinstance(value, (str, Path)):
        return {"path": value}
    return value


class Layers(_Model):
    """The input layers of a run. Only ``communities`` is required.

    ``commitments`` and ``revenues`` are tables (:data:`gisplan.layers.TABLE_KINDS`): a CSV,
    an Excel sheet or a GeoPackage attribute table, with no coordinates (no ``datum``, ``x``
    or ``y``); the run keeps them as pandas DataFrames, never reprojected.
    """

    communities: LayerSource
    facilities: LayerSource | None = None
    network: LayerSource | None = None
    projects: LayerSource | None = None
    sites: LayerSource | None = None
    entrances: LayerSource | None = None
    buildings: LayerSource | None = None
    barriers: LayerSource | None = None
    commitments: LayerSource | None = Field(
        default=None, description="Committed money (资金落实): a table, no geometry."
    )
    revenues: LayerSource | None = Field(
        default=None, description="Revenue facilities (经营性设施): a table, no geometry."
    )

    @model_validator(mode="before")
    @classmethod
    def _expand_short_forms(cls, data: object) -> object:
        if isinstance(data, dict):
            return {key: _short_form(value) for key, value in data.items()}
        return data

    @field_validator("commitments", "revenues", mode="before")
    @classmethod
    def _table_has_no_coordinates(cls, value: object) -> object:
        given = [k for k in ("datum", "x", "y") if isinstance(value, dict) and value.get(k)]
        if given:
            msg = (
                f"{' and '.join(given)} given for a table without coordinates; remove "
                f"{'it' if len(given) == 1 else 'them'} (a table needs path, and layer for a "
                "sheet or GeoPackage table)"
            )
            raise ValueError(msg)
        return value

    def items(self) -> list[tuple[str, LayerSource]]:
        """Return ``(kind, source)`` pairs for the layers given, in :data:`LAYER_KINDS` order."""
        return [(k, s) for k in LAYER_KINDS if (s := getattr(self, k)) is not None]


# --------------------------------------------------------------------------- options links


@dataclasses.dataclass(frozen=True, slots=True)
class OptionsLink:
    """How a scenario section reaches the fields of one options dataclass.

    Attributes
    ----------
    owner
        ``"module:Class"`` of the options dataclass (imported when first needed, so loading a
        scenario never imports the steps it does not use).
    via
        ``"fields"``: each option is a section field of the same name (or the name in
        ``rename``) whose default IS the option's default (:func:`_option`);
        ``"mapping:<key>"``: the options are the keys of the section's mapping ``<key>``
        (unset keys keep the option's default); ``"overrides"``: each option is a section
        field defaulting to ``None``, which keeps the value of the section's preset.
    rename
        Option name → section field name, where the YAML name differs.
    exempt
        Options a scenario cannot set, with the reason (shown in the docs and the test).
    """

    owner: str
    via: str = "fields"
    rename: Mapping[str, str] = dataclasses.field(default_factory=dict)
    exempt: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def options_class(self) -> type:
        """Return the options dataclass (imported on first use)."""
        return _options_class(self.owner)


@functools.cache
def _options_class(owner: str) -> type:
    module, _, name = owner.partition(":")
    cls: type = getattr(importlib.import_module(module), name)
    return cls


def _option_default(owner: str, name: str) -> Any:  # noqa: ANN401 - any option's value
    """Return the default of field ``name`` of the options dataclass ``owner``."""
    spec = next(f for f in dataclasses.fields(_options_class(owner)) if f.name == name)
    if spec.default is not dataclasses.MISSING:
        return spec.default
    if spec.default_factory is not dataclasses.MISSING:
        return spec.default_factory()
    msg = f"{owner}.{name} has no default"  # a required option is a required section field
    raise TypeError(msg)


def _option(owner: str, name: str, **field: Any) -> Any:  # noqa: ANN401 - a pydantic Field
    """Return a section field whose default is option ``name`` of ``owner`` (one source)."""
    return Field(default_factory=functools.partial(_option_default, owner, name), **field)


def _build(section: BaseModel, link: OptionsLink, **given: Any) -> Any:  # noqa: ANN401
    """Build ``link``'s options from a section's fields (``given`` wins); checks run there."""
    cls = link.options_class()
    names = type(section).model_fields
    values = {
        f.name: getattr(section, link.rename.get(f.name, f.name))
        for f in dataclasses.fields(cls)
        if f.name not in given and link.rename.get(f.name, f.name) in names
    }
    return cls(**values, **given)


def _dataclass_options(cls: Callable[..., _T], values: dict[str, Any], what: str) -> _T:
    """Build an options dataclass from a scenario mapping; bad keys or values → ValueError."""
    known = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
    unknown = [k for k in values if k not in known]
    if unknown:
        hints = {k: difflib.get_close_matches(k, known, n=1) for k in unknown}
        said = ", ".join(
            f"'{k}'" + (f" (did you mean '{h[0]}'?)" if h else "") for k, h in hints.items()
        )
        msg = f"unknown {what} {said}; allowed: {', '.join(known)}"
        raise ValueError(msg)
    converted: dict[str, Any] = {
        k: tuple(v) if isinstance(v, list) else v for k, v in values.items()
    }
    try:
        return cls(**converted)
    except (ScenarioError, TypeError) as err:
        raise ValueError(str(err)) from err


def _mapping_options(owner: str, values: dict[str, Any], what: str) -> Any:  # noqa: ANN401
    return _dataclass_options(_options_class(owner), values, what)


def _options_valid(build: Callable[[], object]) -> None:
    """Build a section's options once, turning their ScenarioError into a field error."""
    try:
        build()
    except (ScenarioError, StandardsError) as err:
        raise ValueError(str(err)) from err


# --------------------------------------------------------------------------- sections

_ACCESS = "gisplan.access:AccessOptions"
_GAPS = "gisplan.gaps:GapOptions"


class AccessSection(_Model):
    """Options of the 15-minute life-circle step (``access:``).

    Besides ``types``, ``levels``, ``service_areas`` and ``boundary`` (the study area's
    polygon layer for edge-effect flags, read like a layer), every field is one of
    :class:`gisplan.access.AccessOptions` or :class:`gisplan.gaps.GapOptions` (``radius_m``
    is ``GapOptions.radius_overrides``, ``level_distances`` is ``GapOptions.levels``), with
    the default of that class.
    """

    links: ClassVar[tuple[OptionsLink, ...]] = (
        OptionsLink(_ACCESS),
        OptionsLink(_GAPS, rename={"radius_overrides": "radius_m", "levels": "level_distances"}),
    )

    types: Literal["all"] | list[str] = Field(
        default="all", description="'all' (the standard table) or a list of facility codes."
    )
    levels: list[Literal["15min", "10min", "5min", "neighbourhood"]] | None = Field(
        default=None, description="Keep only types of these life-circle levels (default: all)."
    )
    service_areas: bool = Field(default=False, description="Also write network service areas.")
    radius_m: dict[str, float] = _option(_GAPS, "radius_overrides")
    weights: dict[str, float] | None = _option(_GAPS, "weights")
    level_distances: LevelDistances = _option(_GAPS, "levels")
    max_snap_m: float = _option(_ACCESS, "max_snap_m", gt=0)
    snap_tolerance_m: float = _option(_ACCESS, "snap_tolerance_m", ge=0)
    polygon_boundary: bool = _option(_ACCESS, "polygon_boundary")
    limit_m: float | None = _option(_ACCESS, "limit_m", gt=0)
    entrance_near_m: float = _option(_ACCESS, "entrance_near_m", ge=0)
    max_entrances: int = _option(_ACCESS, "max_entrances", ge=1)
    straight_line_factor: float | None = _option(_ACCESS, "straight_line_factor", ge=1.0)
    data_complete: bool = _option(_GAPS, "data_complete")
    boundary: LayerSource | None = Field(
        default=None,
        description=(
            "Polygon layer of the study area where the data are complete (edge effects); "
            "default: an OSM file's <bounds>, else the hull of the facilities."
        ),
    )

    @field_validator("boundary", mode="before")
    @classmethod
    def _boundary_short_form(cls, value: object) -> object:
        return _short_form(value)

    @field_validator("radius_m")
    @classmethod
    def _positive_radius(cls, value: dict[str, float]) -> dict[str, float]:
        bad = {k: v for k, v in value.items() if not v > 0}
        if bad:
            msg = f"radii must be positive metres: {', '.join(bad)}; fix or remove them"
            raise ValueError(msg)
        return value

    @field_validator("weights")
    @classmethod
    def _non_negative_weights(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        bad = {k: v for k, v in (value or {}).items() if v < 0}
        if bad:
            msg = f"weights must be zero or more: {', '.join(bad)}; fix or remove them"
            raise ValueError(msg)
        return value

    @model_validator(mode="after")
    def _valid(self) -> AccessSection:
        _options_valid(self.access_options)
        return self

    def facility_types(self, standard: pd.DataFrame) -> list[str]:
        """Return the facility codes to check: ``types``, or every code of ``levels``."""
        if self.types != "all":
            return list(self.types)
        levels = standard["level"]
        return [str(c) for c, lv in levels.items() if self.levels is None or lv in self.levels]

    def access_options(self) -> AccessOptions:
        """Return the :class:`~gisplan.access.AccessOptions` of this section."""
        options: AccessOptions = _build(self, self.links[0])
        return options

    def gap_options(self) -> GapOptions:
        """Return the :class:`~gisplan.gaps.GapOptions` of this section."""
        options: GapOptions = _build(self, self.links[1])
        return options

    def codes(self) -> list[str]:
        """Return every facility code the section names (types, radius and weight keys)."""
        named = [] if self.types == "all" else list(self.types)
        return list(dict.fromkeys([*named, *self.radius_m, *(self.weights or {})]))


def _rate(value: float | None) -> float | None:
    if value is not None and not 0 < value <= 1:
        msg = f"a rate must be a fraction in (0, 1]; write 0.67, not 67; got {value}"
        raise ValueError(msg)
    return value


class EligibilitySection(_Model):
    """Options of the eligibility step (``eligibility:``): a preset, then overrides.

    Every field but ``preset`` and ``plan_year`` overrides the field of the same name of the
    preset's :class:`gisplan.eligibility.EligibilityRules`; left out (``None``), the preset's
    value holds. Consent thresholds take a fraction, read exactly (``2/3``: 双三分之二, 200 of
    300 owners pass), or a decimal taken as written (``0.67`` is 67/100: 200 of 300 fail).
    Each value is checked by ``EligibilityRules`` itself, so the messages (with "did you
    mean") are the same in YAML and in Python.
    """

    links: ClassVar[tuple[OptionsLink, ...]] = (
        OptionsLink(
            "gisplan.eligibility:EligibilityRules",
            via="overrides",
            exempt={"source_zh": "the policy the preset cites; it comes with the preset"},
        ),
    )

    preset: str = Field(
        default="national",
        description="national | linxia | tongnan | linyi | litong (seed cities).",
    )
    plan_year: int = Field(ge=2000, le=2100, description="Year the plan is made for.")
    cutoff: dt.date | None = Field(
        default=None, description="Build-year cut-off (overrides the preset)."
    )
    cutoff_mode: Literal["hard", "priority"] | None = Field(
        default=None,
        description="hard: built after the cut-off is excluded; priority: ranked last (later).",
    )
    tier2_cutoff: dt.date | None = Field(
        default=None, description="Second tier up to this date (Tongnan: 2005-12-31)."
    )
    tier2_conditions: tuple[str, ...] | None = Field(
        default=None, description="Conditions of the second tier, e.g. [poor_conditions]."
    )
    conditions: tuple[str, ...] | None = Field(
        default=None, description="Qualifying conditions counted in conditions_met."
    )
    conditions_all: tuple[str, ...] | None = Field(
        default=None, description="Conditions that must all hold (blank: unknown)."
    )
    conditions_any: tuple[str, ...] | None = Field(
        default=None, description="Conditions of which at least one must hold."
    )
    expropriation_within_years: int | Literal["any"] | None = Field(
        default=None, description="Years after the plan year, or 'any' planned expropriation."
    )
    min_participation: float | str | None = Field(
        default=None, description="Fraction 0–1: 2/3 (exact) or a decimal (0.67 = 67/100)."
    )
    min_approval: float | str | None = Field(
        default=None, description="Fraction 0–1: 2/3 (exact) or a decimal (0.67 = 67/100)."
    )
    consent_by_area: bool | None = Field(
        default=None, description="Consent by floor area too (双三分之二)."
    )
    require_state_land: bool | None = None
    require_mgmt_consensus: bool | None = Field(
        default=None, description="长效管理 consensus gates the plan (national notice 八)."
    )
    repeat_subsidised: Literal["no_central_money", "not_again"] | None = Field(
        default=None, description="Community in an earlier central plan (subsidy_year)."
    )
    repeat_other_programs: Literal["no_central_money", "not_again"] | None = Field(
        default=None, description="Items already done by 三供一业 etc. (other_program_items)."
    )
    repeat_conditions: tuple[str, ...] | None = Field(
        default=None, description="Conditions a community renovated before must still meet."
    )
    no_real_estate: bool | None = Field(
        default=None, description="Flag: 不得变相搞房地产开发 (Litong), for later steps."
    )

    @field_validator("preset")
    @classmethod
    def _known_preset(cls, value: str) -> str:
        from gisplan.eligibility import preset  # noqa: PLC0415

        try:
            preset(value)
        except ScenarioError as err:
            raise ValueError(str(err)) from err
        return value

    @field_validator(
        "cutoff_mode",
        "tier2_conditions",
        "conditions",
        "conditions_all",
        "conditions_any",
        "expropriation_within_years",
        "min_participation",
        "min_approval",
        "repeat_subsidised",
        "repeat_other_programs",
        "repeat_conditions",
        mode="before",
    )
    @classmethod
    def _checked_by_the_rules(cls, value: object, info: ValidationInfo) -> object:
        """Check one override as ``EligibilityRules`` does (its problem and fix)."""
        from gisplan.eligibility import EligibilityRules  # noqa: PLC0415

        if value is None:
            return value
        given: dict[str, Any] = {str(info.field_name): value}
        try:
            EligibilityRules(**given)
        except ScenarioError as err:
            _, problem, fix = err.problems[0]
            raise ValueError(f"{problem}; {fix}") from err
        except TypeError as err:  # e.g. a list where a number belongs
            raise ValueError(f"{value!r} cannot be read; {err}") from err
        return value

    @model_validator(mode="after")
    def _valid(self) -> EligibilitySection:
        _options_valid(self.rules)
        return self

    def rules(self) -> EligibilityRules:
        """Return the preset's rules with this section's overrides and plan year."""
        from gisplan.eligibility import preset  # noqa: PLC0415

        fields = set(type(self).model_fields) - {"preset"}
        overrides = {k: getattr(self, k) for k in fields if getattr(self, k) is not None}
        return dataclasses.replace(preset(self.preset), **overrides)


SchemeClass = Literal["basic", "complete", "improve"]
_SCHEMES = "gisplan.catalogue:SchemeOptions"


class SchemesSection(_Model):
    """Options of the one-scheme-per-community step (``schemes:``), 一小区一方案.

    ``include``, ``exclude``, ``classes``, ``gap_items``, ``unsurveyed`` and ``heating_zone``
    are the fields of
    :class:`gisplan.catalogue.SchemeOptions`, with its defaults.
    """

    links: ClassVar[tuple[OptionsLink, ...]] = (OptionsLink(_SCHEMES),)

    classes: tuple[SchemeClass, ...] = _option(_SCHEMES, "classes")
    include: tuple[int, ...] = _option(_SCHEMES, "include")
    exclude: tuple[int, ...] = _option(_SCHEMES, "exclude")
    gap_items: dict[str, tuple[int, ...]] | None = _option(_SCHEMES, "gap_items")
    unsurveyed: Literal["verify", "include"] = _option(_SCHEMES, "unsurveyed")
    heating_zone: bool | None = _option(_SCHEMES, "heating_zone")
    use_gaps: bool = Field(
        default=True, description="Propose 提升类 items for life-circle gaps (needs access:)."
    )
    catalogue: str | None = Field(
        default=None,
        description="A packaged catalogue (linyi, linxia, tongnan, national) or your own "
        "catalogue CSV (default: linyi).",
    )

    @field_validator("catalogue")
    @classmethod
    def _catalogue_exists(cls, value: str | None, info: ValidationInfo) -> str | None:
        from gisplan.catalogue import PACKAGED_CATALOGUES  # noqa: PLC0415

        if value is None or value in PACKAGED_CATALOGUES:
            return value
        return str(_resolve_existing(Path(value), info))

    @model_validator(mode="after")
    def _items_known(self) -> SchemesSection:
        from gisplan.catalogue import load_catalogue  # noqa: PLC0415

        try:
            self.options()
            items = [int(i) for i in load_catalogue(self.catalogue).index]
        except GisplanError as err:
            raise ValueError(str(err)) from err
        unknown = sorted((set(self.include) | set(self.exclude)) - set(items))
        if unknown:
            msg = (
                f"schemes: items not in the catalogue: {', '.join(map(str, unknown))}; "
                f"use item numbers {min(items)}–{max(items)}"
            )
            raise ValueError(msg)
        return self

    def options(self) -> SchemeOptions:
        """Return the :class:`~gisplan.catalogue.SchemeOptions` of this section.

        Without ``heating_zone``, a packaged catalogue named by ``catalogue`` gives its city's
        (:data:`gisplan.catalogue.HEATING_ZONES`: Linyi and Linxia yes, Tongnan no).
        """
        from gisplan.catalogue import HEATING_ZONES  # noqa: PLC0415

        heating = self.heating_zone
        if heating is None and self.catalogue in HEATING_ZONES:
            heating = HEATING_ZONES[self.catalogue]
        options: SchemeOptions = _build(self, self.links[0], heating_zone=heating)
        return options


_FUNDING = "gisplan.finance:FundingRules"


class FinanceSection(_Model):
    """Funding rules (``finance:``): any field of :class:`gisplan.finance.FundingRules`.

    The seed policies name the sources but give no shares or amounts, so the defaults are
    placeholders: state your city's figures here.
    """

    links: ClassVar[tuple[OptionsLink, ...]] = (OptionsLink(_FUNDING, via="mapping:rules"),)

    rules: dict[str, Any] = Field(
        default_factory=dict, description="FundingRules fields, e.g. {local_share: 0.3}."
    )

    @field_validator("rules")
    @classmethod
    def _rules_valid(cls, value: dict[str, Any]) -> dict[str, Any]:
        _mapping_options(_FUNDING, value, "funding rule(s)")
        return value

    def funding_rules(self) -> FundingRules:
        """Return the :class:`~gisplan.finance.FundingRules` of this section."""
        rules: FundingRules = _mapping_options(_FUNDING, self.rules, "funding rule(s)")
        return rules


_FINANCING = "gisplan.finance:FinancingOptions"
_BUNDLE = "gisplan.bundles:BundleOptions"
_CROSS = "gisplan.bundles:CrossOptions"


class BundlesSection(_Model):
    """Area-wide financing (``bundles:``): 大片区统筹平衡 and 跨片区组合平衡 (needs finance).

    The fields are those of :class:`gisplan.finance.FinancingOptions`: communities still short
    of money after the modes before them are bundled with ADJACENT revenue projects
    (``large_area``, options of :class:`gisplan.bundles.BundleOptions`) or paired with
    NON-adjacent projects' surpluses (``cross_area``, options of
    :class:`gisplan.bundles.CrossOptions`); the project money then enters the funding table.
    """

    links: ClassVar[tuple[OptionsLink, ...]] = (
        OptionsLink(_FINANCING, exempt={}),
        OptionsLink(_BUNDLE, via="mapping:large_area"),
        OptionsLink(_CROSS, via="mapping:cross_area"),
    )

    order: tuple[str, ...] = _option(_FINANCING, "order")
    tolerance_m: float = _option(_FINANCING, "tolerance_m", ge=0)
    group_by: str | None = _option(_FINANCING, "group_by")
    use_barriers: bool = _option(_FINANCING, "use_barriers")
    large_area: dict[str, Any] = Field(
        default_factory=dict, description="BundleOptions fields, e.g. {margin_wan_yuan: 100}."
    )
    cross_area: dict[str, Any] = Field(
        default_factory=dict, description="CrossOptions fields, e.g. {allow_split: true}."
    )

    @field_validator("order")
    @classmethod
    def _known_modes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        _options_valid(lambda: _options_class(_FINANCING)(order=value))
        return value

    @field_validator("large_area")
    @classmethod
    def _bundle_options_valid(cls, value: dict[str, Any]) -> dict[str, Any]:
        _mapping_options(_BUNDLE, value, "large_area option(s)")
        return value

    @field_validator("cross_area")
    @classmethod
    def _cross_options_valid(cls, value: dict[str, Any]) -> dict[str, Any]:
        _mapping_options(_CROSS, value, "cross_area option(s)")
        return value

    def bundle_options(self) -> BundleOptions:
        """Return the :class:`~gisplan.bundles.BundleOptions` of ``large_area``."""
        options: BundleOptions = _mapping_options(_BUNDLE, self.large_area, "large_area")
        return options

    def cross_options(self) -> CrossOptions:
        """Return the :class:`~gisplan.bundles.CrossOptions` of ``cross_area``."""
        options: CrossOptions = _mapping_options(_CROSS, self.cross_area, "cross_area")
        return options

    def financing_options(self) -> FinancingOptions:
        """Return the :class:`~gisplan.finance.FinancingOptions` of this section."""
        options: FinancingOptions = _build(
            self,
            self.links[0],
            large_area=self.bundle_options(),
            cross_area=self.cross_options(),
        )
        return options


_LIMITS = "gisplan.plan:PlanLimits"
_WEIGHTS = "gisplan.plan:PriorityWeights"


class PlanSection(_Model):
    """The annual plan and multi-year rollout (``plan:``).

    ``budget_wan_yuan`` (optional overall cap on public money), ``max_communities``,
    ``max_floor_area_m2``, ``require_consent``, ``allow_gap`` and ``sequence_built_before``
    are :class:`gisplan.plan.PlanLimits`; ``weights`` holds
    :class:`gisplan.plan.PriorityWeights`. The money of each pool source per year
    (``PlanLimits.pools``) is not set here: it comes from the finance step's
    ``funding_pools`` table (the commitments), carried over from year to year.
    ``targets`` are those of :func:`gisplan.plan.rollout` (built-by shares, and ``yearly``
    counts and m²) and need ``rollout_years``.
    """

    links: ClassVar[tuple[OptionsLink, ...]] = (
        OptionsLink(
            _LIMITS,
            exempt={
                "pools": "from the finance step's funding_pools table (pool commitments by "
                "year; unused money carries over)"
            },
        ),
        OptionsLink(_WEIGHTS, via="mapping:weights"),
    )

    budget_wan_yuan: float | None = _option(
        _LIMITS,
        "budget_wan_yuan",
        ge=0,
        description="Optional cap on the public money of a plan year, 万元 (none: no cap).",
    )
    max_communities: int | None = _option(_LIMITS, "max_communities", ge=0)
    max_floor_area_m2: float | None = _option(_LIMITS, "max_floor_area_m2", ge=0)
    require_consent: bool = _option(_LIMITS, "require_consent")
    require_ready: bool = _option(
        _LIMITS,
        "require_ready",
        description="Only communities 就绪 in the 项目储备库 (plan.register_file) enter.",
    )
    allow_gap: bool = _option(
        _LIMITS,
        "allow_gap",
        description="Let communities with a money gap enter the plan (flagged).",
    )
    sequence_built_before: int | None = _option(
        _LIMITS,
        "sequence_built_before",
        description="Plan communities built by this year first (Linyi 2020 一(三): 2000).",
    )
    weights: dict[str, float] = Field(
        default_factory=dict, description="PriorityWeights fields (age, safety, gap, ...)."
    )
    rollout_years: list[int] = Field(
        default_factory=list, description="Years of the multi-year rollout (same limits)."
    )
    build_years: int = Field(default=1, ge=1, description="Years from start to completion.")
    targets: dict[str, Any] = Field(
        default_factory=dict, description="e.g. {all_built_before: 2000, by_year: 2025}."
    )
    publicity_start: dt.date | None = Field(
        default=None, description="First day the schemes can be publicised (公示)."
    )
    publicity_working_days: int = Field(default=5, ge=1)
    calendar: Path | None = Field(
        default=None,
        description="Your own programme calendar CSV (columns of gisplan/data/calendar.csv); "
        "default: the packaged calendar of the eligibility preset.",
    )

    register_file: Path | None = Field(
        default=None,
        description="Last year's 项目储备库.xlsx (or CSV/GeoPackage table): its statuses, "
        "years, votes and readiness are applied to the communities before the run.",
    )

    @field_validator("calendar", "register_file")
    @classmethod
    def _calendar_exists(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        return None if value is None else _resolve_existing(value, info)

    @field_validator("weights")
    @classmethod
    def _weights_valid(cls, value: dict[str, Any]) -> dict[str, Any]:
        _mapping_options(_WEIGHTS, value, "priority weight(s)")
        return value

    @model_validator(mode="after")
    def _ready_needs_register(self) -> PlanSection:
        if self.require_ready and self.register_file is None:
            msg = (
                "plan.require_ready: readiness comes from last year's 项目储备库; name it in "
                "plan.register_file, or set require_ready: false"
            )
            raise ValueError(msg)
        return self

    @model_validator(mode="after")
    def _targets_need_rollout(self) -> PlanSection:
        if self.targets and not self.rollout_years:
            msg = "plan.targets: need rollout_years (targets are checked on the rollout); add them"
            raise ValueError(msg)
        return self

    def limits(self) -> PlanLimits:
        """Return the :class:`~gisplan.plan.PlanLimits` of this section."""
        limits: PlanLimits = _build(self, self.links[0])
        return limits

    def priority_weights(self) -> PriorityWeights:
        """Return the :class:`~gisplan.plan.PriorityWeights` of this section."""
        weights: PriorityWeights = _mapping_options(_WEIGHTS, self.weights, "plan.weights")
        return weights


_SITING = "gisplan.siting:SitingOptions"


class SitingSection(_Model):
    """New facilities on inefficient land and idle buildings (``siting:``).

    Every field is the one of :class:`gisplan.siting.SitingOptions` of the same name, with its
    default; the network snapping distance is the access section's ``max_snap_m``.
    """

    links: ClassVar[tuple[OptionsLink, ...]] = (
        OptionsLink(_SITING, exempt={"max_snap_m": "the access section's max_snap_m"}),
    )

    types: tuple[str, ...] | None = _option(_SITING, "types")
    model: Literal["mclp", "lscp"] = _option(_SITING, "model")
    n_new: int | dict[str, int] | None = _option(_SITING, "n_new")
    budget_wan_yuan: float | None = _option(_SITING, "budget_wan_yuan", ge=0)
    weight: Literal["population", "households", "one_old_one_young"] = _option(_SITING, "weight")
    radius_m: dict[str, float] = _option(_SITING, "radius_m")
    allow_multiple_types_per_site: bool = _option(_SITING, "allow_multiple_types_per_site")
    min_area_m2: dict[str, float] = _option(_SITING, "min_area_m2")
    capacities: dict[str, float] = _option(_SITING, "capacities")
    expand_existing: bool = _option(_SITING, "expand_existing")
    expansion_capacity: dict[str, float] = _option(_SITING, "expansion_capacity")
    expansion_cost_wan_yuan: dict[str, float] = _option(_SITING, "expansion_cost_wan_yuan")
    time_limit_s: float = _option(_SITING, "time_limit_s", gt=0)
    mip_rel_gap: float = _option(_SITING, "mip_rel_gap", ge=0, lt=1)

    @model_validator(mode="after")
    def _valid(self) -> SitingSection:
        _options_valid(self.options)
        return self

    def options(self, *, max_snap_m: float = 200.0) -> SitingOptions:
        """Return the :class:`~gisplan.siting.SitingOptions` of this section."""
        options: SitingOptions = _build(self, self.links[0], max_snap_m=max_snap_m)
        return options


_MAPS = "gisplan.maps:MapOptions"


class MapsSection(_Model):
    """Interactive maps written to ``maps/<theme>.html`` of the output folder (``maps:``).

    Fields are those of :class:`gisplan.maps.MapOptions`, with its defaults. A 天地图 key is
    never written in a scenario: it is read from the environment variable
    ``tianditu_key_env``.
    """

    links: ClassVar[tuple[OptionsLink, ...]] = (
        OptionsLink(
            _MAPS,
            exempt={"tianditu_key": "a secret: read from the variable named by tianditu_key_env"},
        ),
    )

    themes: tuple[str, ...] = _option(_MAPS, "themes")
    basemap: str = _option(_MAPS, "basemap")
    offline: bool = _option(_MAPS, "offline")
    tianditu_key_env: str = _option(_MAPS, "tianditu_key_env")
    simplify_m: float = _option(_MAPS, "simplify_m", ge=0)
    service_area_simplify_m: float = _option(_MAPS, "service_area_simplify_m", ge=0)
    precision: int = _option(_MAPS, "precision")
    canvas_threshold: int = _option(_MAPS, "canvas_threshold", ge=0)

    @model_validator(mode="after")
    def _valid(self) -> MapsSection:
        _options_valid(self.options)
        return self

    def options(self) -> MapOptions:
        """Return the :class:`~gisplan.maps.MapOptions` of this section."""
        options: MapOptions = _build(self, self.links[0])
        return options


_PUBLISH = "gisplan.publish:PublishOptions"


class PublishSection(_Model):
    """The public-consultation site (公示) written to ``site/`` (``publish:``).

    Fields are those of :class:`gisplan.publish.PublishOptions`, with its defaults;
    ``gisplan publish`` reads them from the run too.
    """

    links: ClassVar[tuple[OptionsLink, ...]] = (OptionsLink(_PUBLISH),)

    title: str | None = _option(_PUBLISH, "title")
    contact_address: str = _option(_PUBLISH, "contact_address")
    contact_phone: str = _option(_PUBLISH, "contact_phone")
    contact_email: str = _option(_PUBLISH, "contact_email")
    basemap: str = _option(_PUBLISH, "basemap")
    offline: bool = _option(_PUBLISH, "offline")
    communities: str = _option(_PUBLISH, "communities")
    synthetic: bool | None = _option(_PUBLISH, "synthetic")

    @model_validator(mode="after")
    def _valid(self) -> PublishSection:
        _options_valid(self.options)
        return self

    def options(self) -> PublishOptions:
        """Return the :class:`~gisplan.publish.PublishOptions` of this section."""
        options: PublishOptions = _build(self, self.links[0])
        return options


class DocumentsSection(_Model):
    """The documents a bureau hands in (``documents:``).

    Official tables (报送表格.xlsx), the drafted implementation plan
    (实施方案（草案）.docx), the Gantt charts of the programme calendar
    and the 项目储备库 register. Needs the plan section.
    """

    project_package: Literal["street", "bundle"] = Field(
        default="street",
        description="How communities are packaged into 立项 projects for approval and tender "
        "(Linxia 2020 打捆): one project per street, or per financing bundle.",
    )
    district: str | None = Field(
        default=None,
        description="县区 name for communities without a district column (default: the title).",
    )
    layouts: Path | None = Field(
        default=None,
        description="Folder of your province's table layouts (CSV files named like those in "
        "gisplan/data/layouts/); default: the packaged layouts.",
    )
    implementation_plan: bool = Field(
        default=True, description="Write the drafted 实施方案（草案）.docx."
    )
    project_register: bool = Field(default=True, description="Write the 项目储备库 register.")

    @field_validator("layouts")
    @classmethod
    def _layouts_exist(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        return None if value is None else _resolve_existing(value, info)


class Outputs(_Model):
    """What the run writes and where."""

    dir: Path | None = Field(
        default=None,
        description="Output folder, relative to the scenario file; "
        "default outputs/<name>/ under the folder gisplan is run from.",
    )

    @field_validator("dir")
    @classmethod
    def _relative_to_file(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        if value is None or value.is_absolute():
            return value
        return (_base_dir(info) / value).resolve()


#: Characters a scenario name may not hold: it names the folder outputs/<name>/ on any system.
_NOT_IN_NAMES = '/\\:*?"<>|'


class Scenario(_Model):
    """A validated, frozen scenario."""

    name: str = Field(
        min_length=1,
        description="Scenario name; outputs go to outputs/<name>/.",
    )
    title: str | None = None
    description: str | None = None
    datum: str | None = Field(
        default=None, description="Default datum for layers without their own CRS."
    )
    metric_crs: str = Field(
        default="auto", description="'auto' (CGCS2000 3° Gauss-Krüger zone) or an EPSG code."
    )
    layers: Layers
    standards: Path | None = Field(
        default=None, description="Your own life-circle standards CSV (default: packaged table)."
    )
    access: AccessSection | None = Field(
        default=None, description="15-minute life-circle distances and service gaps."
    )
    eligibility: EligibilitySection | None = Field(
        default=None, description="Who qualifies for renovation, with a reason per rule."
    )
    schemes: SchemesSection | None = Field(
        default=None, description="One renovation scheme per community, costed."
    )
    finance: FinanceSection | None = Field(
        default=None, description="Who pays: sources, self-balance, shortfall (needs schemes)."
    )
    bundles: BundlesSection | None = Field(
        default=None,
        description="Area-wide bundles with revenue projects (needs finance and projects).",
    )
    plan: PlanSection | None = Field(
        default=None, description="Annual plan within budget and rollout (needs eligibility)."
    )
    siting: SitingSection | None = Field(
        default=None,
        description="New facilities on candidate sites to close life-circle gaps (needs access).",
    )
    maps: MapsSection | None = Field(
        default=None, description="Interactive maps of the results (maps/<theme>.html)."
    )
    publish: PublishSection | None = Field(
        default=None, description="Public-consultation site of the plan (site/)."
    )
    documents: DocumentsSection | None = Field(
        default=None,
        description="Official tables, the drafted implementation plan and the register "
        "(needs plan).",
    )
    outputs: Outputs = Field(default_factory=Outputs)
    source: Path | None = Field(default=None, description="The YAML file (set by load_scenario).")

    @field_validator("datum")
    @classmethod
    def _datum_known(cls, value: str | None) -> str | None:
        return _check_datum(value)

    @field_validator("name")
    @classmethod
    def _name_is_a_folder_name(cls, value: str) -> str:
        bad = sorted(set(value) & set(_NOT_IN_NAMES))
        if bad:
            msg = (
                f"{value!r} cannot name the output folder outputs/<name>/ (it holds "
                f"{' '.join(bad)}); use letters, digits, - or _, e.g. name: demo-2025"
            )
            raise ValueError(msg)
        if value.strip(". ") == "" or value != value.strip() or value.endswith("."):
            msg = (
                f"{value!r} cannot name the output folder outputs/<name>/ (dots or spaces only, "
                "or a leading/trailing space or trailing dot); use letters, digits, - or _, "
                "e.g. name: demo-2025"
            )
            raise ValueError(msg)
        if any(unicodedata.category(c) in {"Cc", "Cf", "Zl", "Zp"} for c in value):
            msg = (
                f"{value!r} holds control or invisible characters; retype the name "
                "with letters, digits, - or _"
            )
            raise ValueError(msg)
        return value

    @field_validator("metric_crs")
    @classmethod
    def _metric_crs_ok(cls, value: str) -> str:
        if value.strip().lower() == "auto":
            return "auto"
        from gisplan.crs import distance_crs_problem, is_metric, parse_datum  # noqa: PLC0415

        try:
            datum = parse_datum(value)
        except CRSError as err:
            raise ValueError(str(err)) from err
        if datum.offset is not None or not is_metric(datum.crs):
            msg = f"{value!r} is not a projected CRS in metres; use 'auto' or e.g. EPSG:4548"
            raise ValueError(msg)
        problem = distance_crs_problem(datum.crs)
        if problem is not None:
            msg = (
                f"{value!r} refused for distances: {problem}; use 'auto' (the CGCS2000 "
                "3-degree Gauss-Kruger zone of the data) or a UTM/Gauss-Kruger EPSG code "
                "such as EPSG:4548"
            )
            raise ValueError(msg)
        return value

    @field_validator("standards")
    @classmethod
    def _standards_exists(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        return None if value is None else _resolve_existing(value, info)

    @model_validator(mode="after")
    def _access_codes_known(self) -> Scenario:
        if self.access is None:
            return self
        from gisplan.standards import load_standard, suggest_codes  # noqa: PLC0415

        try:
            table = load_standard(self.standards)
        except StandardsError:  # reported by the layer checks, with its own fix
            return self
        sections: list[tuple[str, list[str]]] = [("access", self.access.codes())]
        if self.siting is not None:
            sections.append(("siting", self.siting.options().codes()))
        for key, codes in sections:
            unknown = [c for c in codes if c not in table.index]
            if unknown:
                names = ", ".join(f"'{c}'" for c in unknown)
                hints = ", ".join(
                    f"{c} → {' / '.join(suggest_codes(c, table)) or '(no close code)'}"
                    for c in unknown
                )
                msg = f"{key}: facility codes not in the standards table: {names}; closest: {hints}"
                raise ValueError(msg)
        if self.layers.facilities is None:
            msg = "access: needs a facilities layer; add layers.facilities"
            raise ValueError(msg)
        if self.layers.network is None and self.access.straight_line_factor is None:
            msg = (
                "access: needs a network layer; add layers.network (or, only if there is no "
                "network, state access.straight_line_factor, e.g. 1.3)"
            )
            raise ValueError(msg)
        return self

    @model_validator(mode="after")
    def _steps_have_inputs(self) -> Scenario:
        if self.finance is not None and self.schemes is None:
            msg = "finance: needs a schemes section (the costs to fund); add schemes: {}"
            raise ValueError(msg)
        if self.plan is not None and (self.schemes is None or self.eligibility is None):
            msg = "plan: needs eligibility and schemes sections; add them"
            raise ValueError(msg)
        if self.siting is not None and (self.access is None or self.layers.sites is None):
            msg = (
                "siting: needs an access section and a sites layer; add access: {} and layers.sites"
            )
            raise ValueError(msg)
        if self.bundles is not None and (self.finance is None or self.layers.projects is None):
            msg = "bundles: needs a finance section and a projects layer; add them"
            raise ValueError(msg)
        if self.documents is not None and self.plan is None:
            msg = (
                "documents: the official tables and the implementation plan are those of the "
                "annual plan; add a plan section"
            )
            raise ValueError(msg)
        if self.siting is not None and self.layers.network is None:
            msg = (
                "siting: needs walking distances (straight-line estimates are not used to "
                "site facilities); add layers.network"
            )
            raise ValueError(msg)
        return self

    def input_paths(self) -> list[Path]:
        """Return the files a run reads: the scenario, its standards table and every layer."""
        named = [self.source, self.standards, *(s.path for _, s in self.layers.items())]
        if self.access is not None and self.access.boundary is not None:
            named.append(self.access.boundary.path)
        if self.plan is not None:
            named.extend([self.plan.calendar, self.plan.register_file])
        if self.documents is not None and self.documents.layouts is not None:
            named.extend(sorted(self.documents.layouts.glob("*.csv")))
        return [p for p in named if p is not None]

    def layer_datum(self, kind: str) -> str | None:
        """Return the datum stated for ``kind`` (its own, else the scenario's; tables: None).

        The scenario-wide datum does not apply to an OpenStreetMap extract (WGS84 by
        definition); a datum stated on the OSM layer itself is returned, and refused when read.
        """
        if kind in TABLE_KINDS:
            return None
        source: LayerSource | None = getattr(self.layers, kind)
        if source is not None and source.datum is not None:
            return source.datum
        if source is not None and is_osm(Path(source.path)):
            return None
        return self.datum

    def output_dir(self, out: str | Path | None = None) -> Path:
        """Return the output folder: ``out``, else ``outputs.dir``, else ``outputs/<name>``.

        ``outputs.dir`` is relative to the scenario file; the default ``outputs/<name>`` and
        ``out`` are relative to the current folder (where ``gisplan run`` is started).
        """
        if out is not None:
            return Path(out)
        if self.outputs.dir is not None:
            return self.outputs.dir
        return Path("outputs") / self.name


def _allowed_keys(loc: tuple[str | int, ...]) -> list[str]:
    """Field names of the model reached by following ``loc`` from :class:`Scenario`."""
    model: Any = Scenario
    for part in loc:
        is_model = isinstance(model, type) and issubclass(model, BaseModel)
        if not isinstance(part, str) or not is_model:
            return []
        field = model.model_fields.get(part)
        if field is None:
            return []
        annotation = field.annotation
        candidates = [annotation, *get_args(annotation)] if get_origin(annotation) else [annotation]
        model = next(
            (c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None
        )
    if isinstance(model, type) and issubclass(model, BaseModel):
        return [k for k in model.model_fields if k != "source"]
    return []


class _ShortRepr(reprlib.Repr):
    """``reprlib`` bounds, but a mapping keeps its keys in the order the YAML gave them."""

    def repr_dict(self, x: dict[Any, Any], level: int) -> str:
        if not x:
            return "{}"
        if level <= 0:
            return "{...}"
        pieces = [
            f"{self.repr1(k, level - 1)}: {self.repr1(v, level - 1)}"
            for k, v in itertools.islice(x.items(), self.maxdict)
        ]
        if len(x) > self.maxdict:
            pieces.append("...")
        return "{" + ", ".join(pieces) + "}"


_SHORT = _ShortRepr()
_SHORT.maxstring = _SHORT.maxother = 200
_SHORT.maxlist = _SHORT.maxtuple = _SHORT.maxdict = _SHORT.maxset = 8
_SHORT.maxlevel = 3


def _short(value: object) -> str:
    """``repr`` of a value as given, bounded: a message never spells out a huge YAML value."""
    return _SHORT.repr(value)


def _problems(
    err: PydanticValidationError, *, prefix: tuple[str, ...] = ()
) -> list[tuple[str, str, str]]:
    """Turn pydantic's errors into ``(key path, problem, fix)`` triples.

    ``prefix``: where the validated model sits in a scenario (for the allowed keys).
    """
    problems = []
    suggested: set[str] = set()
    for e in err.errors():
        loc = tuple(p for p in e["loc"] if p not in {"function-before", "function-after"})
        key = ".".join(str(p) for p in loc) or "(top level)"
        if e["type"] == "extra_forbidden":
            allowed = _allowed_keys((*prefix, *loc[:-1]))
            hint = difflib.get_close_matches(str(loc[-1]), allowed, n=1, cutoff=0.6)
            did_you_mean = f"did you mean '{hint[0]}'? " if hint else ""
            suggested.update(".".join(map(str, (*loc[:-1], h))) for h in hint)
            problems.append(
                (key, "unknown key", f"{did_you_mean}allowed here: {', '.join(allowed)}")
            )
        elif e["type"] == "missing":
            problems.append((key, "required key is missing", "add it to the scenario"))
        else:
            msg = str(e["msg"]).removeprefix("Value error, ")
            if not loc and (m := re.match(r"^([a-z_.]+): (.*)$", msg, flags=re.DOTALL)):
                key, msg = m.groups()  # a whole-scenario check names its key in front
            problem, _, fix = msg.rpartition("; ") if "; " in msg else (msg, "", "")
            got = f" (got {_short(e.get('input'))})" if loc and "input" in e else ""
            problems.append((key, problem + got, fix or "correct the value"))
    # a misspelt required key is one problem, not two
    return [p for p in problems if not (p[1] == "required key is missing" and p[0] in suggested)]


def section_from_dict(key: str, data: dict[str, Any]) -> Any:  # noqa: ANN401 - the section model
    """Validate one scenario section (e.g. ``"publish"``) given as a mapping.

    Used by commands that take a section's options outside a scenario (``gisplan publish``).

    Raises
    ------
    ScenarioError
        Listing every problem, each with its key path (``publish.basemap`` …).
    """
    field = Scenario.model_fields[key]
    model = next(
        c for c in get_args(field.annotation) if isinstance(c, type) and issubclass(c, BaseModel)
    )
    try:
        return model.model_validate(data)
    except PydanticValidationError as err:
        problems = [
            (f"{key}.{k}" if k != "(top level)" else key, problem, fix)
            for k, problem, fix in _problems(err, prefix=(key,))
        ]
        lines = [f"  - {k}: {problem} → {fix}" for k, problem, fix in problems]
        raise ScenarioError(
            "\n".join([f"{key}: {len(problems)} problem(s):", *lines]), problems
        ) from None


def scenario_from_dict(
    data: dict[str, Any], *, base_dir: str | Path | None = None, source: Path | None = None
) -> Scenario:
    """Validate a scenario given as a mapping (as parsed from YAML).

    Parameters
    ----------
    data
        The scenario mapping.
    base_dir
        Folder that relative paths are resolved against (default: current folder).
    source
        The YAML file the mapping came from, for messages and ``run.json``.

    Returns
    -------
    Scenario
        The frozen, validated scenario; paths are absolute.

    Raises
    ------
    ScenarioError
        Listing every problem at once, each with its key path.
    """
    where = str(source) if source is not None else "scenario"
    if not isinstance(data, dict):
        raise ScenarioError(
            f"{where}: a scenario must be a YAML mapping of keys, got {_short(data)}; "
            "start from: layers: {communities: file.gpkg}"
        )
    data = dict(data)
    if source is not None:
        data.setdefault("name", source.stem)
        data["source"] = source
    context = {"base_dir": Path(base_dir) if base_dir is not None else Path.cwd()}
    try:
        return Scenario.model_validate(data, context=context)
    except PydanticValidationError as err:
        problems = _problems(err)
        lines = [f"  - {key}: {problem} → {fix}" for key, problem, fix in problems]
        head = f"{where}: {len(problems)} problem(s) in the scenario:"
        raise ScenarioError("\n".join([head, *lines]), problems) from None


#: Largest scenario file read, in bytes (a scenario is a few kB).
MAX_SCENARIO_BYTES = 1_000_000
#: Most values a scenario may hold once its aliases (``*name``) are expanded.
MAX_SCENARIO_VALUES = 100_000


def _load_yaml(text: str, path: Path) -> Any:  # noqa: ANN401 - any YAML document
    """Parse one YAML document safely: no Python objects, aliases expanded within limits.

    The document is composed first (aliases still shared), its expanded size counted, and
    only then built — a billion-laughs document fails in milliseconds, not after minutes.
    """
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_expansion(node, path)
        return loader.construct_document(node)
    except RecursionError as err:
        raise ScenarioError(
            f"{path}: the YAML is nested too deeply to read; a scenario needs a few levels "
            "of keys: write it out flat"
        ) from err
    finally:
        loader.dispose()


def _check_expansion(root: yaml.Node, path: Path) -> None:
    """Raise when the document expands to more than :data:`MAX_SCENARIO_VALUES` values.

    Counts nodes as if every alias were written out (a shared node counts at each use), and
    refuses an alias inside its own anchor (a loop), without building anything.
    """
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        children: list[yaml.Node] = []
        if isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        elif isinstance(node, yaml.MappingNode):
            children = [part for pair in node.value for part in pair]
        if done:
            open_nodes.discard(key)
            sizes[key] = 1 + sum(sizes[id(c)] for c in children)
            if sizes[key] > MAX_SCENARIO_VALUES:
                raise ScenarioError(
                    f"{path}: its aliases (*name) expand to more than {MAX_SCENARIO_VALUES:,} "
                    f"values (near line {node.start_mark.line + 1}), far more than a scenario "
                    "holds (an 'alias bomb'?); write the values out instead of repeating "
                    "anchors (&name) through aliases"
                )
            continue
        if key in sizes:
            continue
        if key in open_nodes:
            raise ScenarioError(
                f"{path}: line {node.start_mark.line + 1}: an alias (*name) refers to the "
                "anchor (&name) it sits in, a loop; write the value out"
            )
        open_nodes.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in children if id(c) not in sizes)


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario YAML file.

    Parameters
    ----------
    path
        The ``.yaml`` file. Relative paths inside it are resolved against its folder;
        ``name`` defaults to the file name without extension.

    Returns
    -------
    Scenario
        The frozen, validated scenario.

    Raises
    ------
    ScenarioError
        If the file is missing, larger than :data:`MAX_SCENARIO_BYTES`, not valid YAML, its
        aliases expand beyond :data:`MAX_SCENARIO_VALUES` values, or it has any unknown key
        or bad value (all problems listed at once).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "a.gpkg").write_bytes(b"")
    >>> _ = (d / "x.yaml").write_text("layers: {communities: a.gpkg}", encoding="utf-8")
    >>> gisplan.load_scenario(d / "x.yaml").name
    'x'
    """
    path = Path(path).resolve()
    if not path.is_file():
        what = "is a folder, not a file" if path.is_dir() else "not found"
        raise ScenarioError(f"scenario file {what}: {path}; give the path of the .yaml file")
    size = path.stat().st_size
    if size > MAX_SCENARIO_BYTES:
        raise ScenarioError(
            f"{path}: {size:,} bytes, too large for a scenario (at most "
            f"{MAX_SCENARIO_BYTES:,}); a scenario names its layer files and options, the data "
            "go in the layer files"
        )
    try:
        data = _load_yaml(path.read_text(encoding="utf-8"), path)
    except UnicodeDecodeError as err:
        raise ScenarioError(f"{path}: not UTF-8 text ({err}); save the file as UTF-8") from err
    except yaml.YAMLError as err:
        raise ScenarioError(f"{path}: not valid YAML: {err}") from err
    if data is None:
        raise ScenarioError(
            f"{path}: the scenario file is empty",
            [("", "the scenario file is empty", "add at least: layers: {communities: file.gpkg}")],
        )
    return scenario_from_dict(data, base_dir=path.parent, source=path)
