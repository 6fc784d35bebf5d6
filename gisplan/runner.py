"""Run a scenario end to end and write its outputs atomically.

The runner only wires steps together: each step is a function of :mod:`gisplan`
that a notebook user can call on its own. Outputs go to a temporary folder beside
the target and are renamed into place only when the whole run succeeded, so a
failed run never leaves a half-written output folder.
"""

from __future__ import annotations

import functools
import io
import logging
import time
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd
from pyogrio.errors import DataLayerError, DataSourceError
from pyproj.exceptions import ProjError
from shapely.errors import ShapelyError
from tqdm.auto import tqdm

from gisplan import crs as gcrs
from gisplan._atomic import FolderLock, atomic_dir
from gisplan._version import __version__
from gisplan.errors import GisplanError, ScenarioError, StandardsError
from gisplan.layers import TABLE_KINDS, layer_schema, validate_layer
from gisplan.outputs import (
    FIGURES_DIR,
    OFFICIAL_NAME,
    RUN_JSON,
    RUN_LOG,
    SITE_DIR,
    RunResult,
    check_out,
    info_table,
    prepare_out,
    write_results,
    write_run_json,
)
from gisplan.scenario import Scenario, load_scenario
from gisplan.standards import load_standard
from gisplan.validation import Severity, ValidationReport, warnings_once

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping, Sequence
    from pathlib import Path

    import pyproj

    from gisplan.network import WalkGraph

__all__ = [
    "RunContext",
    "RunResult",
    "load_context",
    "load_layers",
    "run_scenario",
    "run_steps",
    "validate_scenario",
]

logger = logging.getLogger(__name__)


def _as_scenario(scenario: Scenario | str | Path) -> Scenario:
    return scenario if isinstance(scenario, Scenario) else load_scenario(scenario)


def _check_layers(
    scenario: Scenario, *, progress: bool = False
) -> tuple[dict[str, gpd.GeoDataFrame | pd.DataFrame], ValidationReport, pd.DataFrame]:
    """Read and check every layer; never raises for data problems. Also returns the standard.

    Table kinds (commitments, revenues) come back as pandas DataFrames under their kind.
    """
    report = ValidationReport()
    try:
        standard = load_standard(scenario.standards)
    except StandardsError as err:  # reported like any layer problem; checks go on
        report.add("standards", str(err), "correct the standards table named in the scenario")
        standard = load_standard()
    layers: dict[str, gpd.GeoDataFrame | pd.DataFrame] = {}
    items = scenario.layers.items()
    disable = None if progress else True  # None: only on a terminal
    for kind, source in tqdm(items, desc="读取图层 layers", unit="layer", disable=disable):
        try:
            gdf, layer_report = validate_layer(
                source.path,
                kind,
                layer=source.layer,
                datum=scenario.layer_datum(kind),
                columns=source.columns or None,
                encoding=source.encoding,
                x=source.x,
                y=source.y,
                standard=standard,
                name=kind,
            )
        except _READ_FAULTS as err:  # never raise for data: the fault becomes a report line
            _report_fault(report, kind, f"{source.path}: the layer could not be checked", err)
            continue
        report.extend(layer_report)
        if gdf is not None:
            layers[kind] = gdf
    _apply_register(scenario, layers, report)
    try:
        _check_references(layers, report)
        _check_study_area(scenario, layers, report)
        _check_step_inputs(scenario, layers, report)
    except _READ_FAULTS as err:
        _report_fault(report, "layers", "the layers could not be checked together", err)
    _check_budgets(scenario, report)
    return layers, report, standard


def _apply_register(
    scenario: Scenario,
    layers: dict[str, gpd.GeoDataFrame | pd.DataFrame],
    report: ValidationReport,
) -> None:
    """Start from last year's 项目储备库 (``plan.register_file``), if the scenario names one.

    Its statuses, years, votes and readiness replace those of the communities layer
    (:func:`gisplan.register.apply_register`); a bad register is a report line.
    """
    path = scenario.plan.register_file if scenario.plan is not None else None
    if path is None or "communities" not in layers:
        return
    from gisplan.register import apply_register, read_register  # noqa: PLC0415

    try:
        register = read_register(path)
        layers["communities"] = apply_register(layers["communities"], register)
    except GisplanError as err:
        report.add("register", str(err), f"correct the register {path} (plan.register_file)")
        return
    logger.info("register %s: %d communities applied", path, len(register))


#: A scenario budget above this (万元; 100 亿元) is more than any county's renovation money.
_MAX_PLAUSIBLE_BUDGET_WAN_YUAN = 1e6


def _check_budgets(scenario: Scenario, report: ValidationReport) -> None:
    """Warn about budgets that look like 元 written where 万元 is asked (100 亿元 and more)."""
    budgets = {
        "siting.budget_wan_yuan": getattr(scenario.siting, "budget_wan_yuan", None),
        "plan.budget_wan_yuan": getattr(scenario.plan, "budget_wan_yuan", None),
    }
    for key, budget in budgets.items():
        if budget is not None and budget > _MAX_PLAUSIBLE_BUDGET_WAN_YUAN:
            report.add(
                "scenario",
                f"{key} = {budget:,.10g} 万元 ({budget / 10_000:,.4g} 亿元) is implausibly "
                "large: it looks like 元, not 万元",
                f"write the budget in 万元 (divide by 10,000: {budget / 10_000:,.10g})",
                severity="warning",
                column=key,
            )


def _check_plan_budget(ctx: RunContext, schemes: pd.DataFrame) -> None:
    """Warn when the plan's budget is more than all the costed schemes together."""
    budget = getattr(ctx.scenario.plan, "budget_wan_yuan", None)
    if budget is None or "cost_yuan" not in schemes.columns:
        return
    total = float(pd.to_numeric(schemes["cost_yuan"], errors="coerce").sum()) / 10_000
    if budget > total:
        ctx.report.add(
            "scenario",
            f"plan.budget_wan_yuan = {budget:,.10g} 万元 is more than all the schemes together "
            f"({total:,.2f} 万元 for {schemes['community_id'].nunique()} communities): the "
            "budget does not limit the plan",
            "check the budget is in 万元 (not 元) and is the year's cap; leave it out if there "
            "is no cap",
            severity="warning",
            column="plan.budget_wan_yuan",
        )


#: What reading or checking a layer may raise besides gisplan's own errors: GEOS, GDAL
#: (pyogrio), PROJ, the file system and pandas/numpy (ValueError, TypeError).
_READ_FAULTS = (
    GisplanError,
    ShapelyError,
    DataSourceError,
    DataLayerError,
    ProjError,
    OSError,
    ValueError,
    TypeError,
)


def _report_fault(report: ValidationReport, layer: str, what: str, err: Exception) -> None:
    """Add an unexpected reading fault to the report as an error (traceback at DEBUG)."""
    logger.debug("%s: %s", layer, what, exc_info=err)
    detail = str(err).strip() or "no details"
    if not isinstance(err, GisplanError):
        detail = f"{type(err).__name__}: {detail}"
    report.add(
        layer,
        f"{what} ({detail})",
        "check that the file opens in QGIS and its coordinates and cells are plain values; "
        "if it does, report this message",
    )


#: Far features listed one by one per layer in the report; the rest are counted.
_MAX_FAR_LISTED = 10


def _check_study_area(
    scenario: Scenario,
    layers: Mapping[str, gpd.GeoDataFrame | pd.DataFrame],
    report: ValidationReport,
) -> None:
    """Flag features far from the communities' median centre; check metric_crs there.

    A community that far is an error (it would also move the run's CRS); other layers'
    features a warning. The distance is :data:`gisplan.crs.STUDY_AREA_RADIUS_M`.
    """
    communities = layers.get("communities")
    if not isinstance(communities, gpd.GeoDataFrame):
        return
    centre = gcrs.study_centre(communities)
    if centre is None:
        return
    limit_km = gcrs.STUDY_AREA_RADIUS_M / 1000.0
    for kind, frame in layers.items():
        if kind in TABLE_KINDS or not isinstance(frame, gpd.GeoDataFrame):
            continue
        rows, dist = gcrs.far_rows(frame, centre=centre)
        id_col = layer_schema(kind).id_column
        ids = frame[id_col].to_numpy() if id_col in frame.columns else None
        severity: Severity = "error" if kind == "communities" else "warning"
        fix = (
            "check its coordinates and the layer's datum (swapped lon/lat, a typo, another "
            "city's data), or delete the row"
        )
        for pos, d in zip(rows[:_MAX_FAR_LISTED], dist[:_MAX_FAR_LISTED], strict=True):
            label = ids[pos] if ids is not None and pd.notna(ids[pos]) else f"row {pos + 1}"
            report.add(
                kind,
                f"{d / 1000.0:.0f} km from the centre of the communities "
                f"({centre[0]:.4f}E, {centre[1]:.4f}N); features more than {limit_km:.0f} km "
                "from it are taken as misplaced",
                fix,
                severity=severity,
                row=label,
                column="geometry",
            )
        if len(rows) > _MAX_FAR_LISTED:
            report.add(
                kind,
                f"{len(rows) - _MAX_FAR_LISTED} more rows ({len(rows)} in all) are more than "
                f"{limit_km:.0f} km from the centre of the communities",
                fix,
                severity=severity,
                column="geometry",
            )
    if scenario.metric_crs != "auto":
        problem = gcrs.distance_crs_problem(scenario.metric_crs, at=centre)
        if problem is not None:
            report.add(
                "scenario",
                f"metric_crs {scenario.metric_crs} refused: {problem}",
                "use metric_crs: auto (the CGCS2000 3-degree Gauss-Kruger zone of the data) "
                "or the UTM/Gauss-Kruger zone of the study area",
                column="metric_crs",
            )


def _check_references(
    layers: dict[str, gpd.GeoDataFrame | pd.DataFrame], report: ValidationReport
) -> None:
    """Cross-layer checks: entrances must point at existing communities."""
    if "entrances" in layers and "communities" in layers:
        known = set(layers["communities"]["community_id"].dropna().astype(str))
        for pos, cid in enumerate(layers["entrances"]["community_id"]):
            if pd.notna(cid) and str(cid) not in known:  # a missing id is reported by the layer
                report.add(
                    "entrances",
                    f"community_id '{cid}' is not in the communities layer",
                    "correct the id or add the community",
                    row=f"row {pos + 1}",
                    column="community_id",
                )


def _check_step_inputs(
    scenario: Scenario, layers: dict[str, gpd.GeoDataFrame | pd.DataFrame], report: ValidationReport
) -> None:
    """Report what the steps asked for would reject, before they run.

    ``validate`` and ``run`` both come here (through :func:`_check_layers`), so a scenario
    ``validate`` passes is one ``run`` accepts. The checks are the steps' own: the access step
    reads households and population with :func:`gisplan.gaps.gap_table`'s reader, given the
    communities indexed by ``community_id`` so its message names ids, not row positions.
    """
    communities = layers.get("communities")
    if scenario.access is None or communities is None:
        return
    if "community_id" not in communities.columns or "households" not in communities.columns:
        return  # a missing required column is already an error of the layer
    from gisplan import gaps  # noqa: PLC0415 - only scenarios with an access step

    by_id = pd.DataFrame(communities.drop(columns=communities.geometry.name))
    by_id.index = pd.Index(by_id["community_id"].astype(str), name=None)
    try:
        gaps._community_attributes(by_id)  # noqa: SLF001 - the step's own check, not a copy
    except GisplanError as err:
        report.add(
            "communities",
            str(err),
            "the access step (access:) weighs gaps by households: fill in 户数 from the survey, "
            "or estimate them from building footprints with gisplan init DIR --from-osm FILE "
            "(marked 估算), or remove access: from the scenario",
            column="households",
        )


@dataclass(frozen=True, kw_only=True)
class RunContext:
    """What every step of one run shares, loaded once: layers, CRS, standard, graph, catalogue.

    Attributes
    ----------
    scenario
        The validated scenario.
    layers
        Its validated layers in the run's metric CRS (see :func:`load_layers`), keyed by
        kind; the table kinds (``commitments``, ``revenues``: :data:`~gisplan.layers.TABLE_KINDS`)
        are plain pandas DataFrames, never reprojected.
    crs
        The run's metric CRS.
    report
        Warnings found so far; steps add theirs (network pieces, dropped edges).
    standard
        The life-circle standard table (the scenario's, else the packaged one).
    """

    scenario: Scenario
    layers: Mapping[str, gpd.GeoDataFrame | pd.DataFrame]
    crs: pyproj.CRS
    report: ValidationReport
    standard: pd.DataFrame

    @functools.cached_property
    def graph(self) -> WalkGraph | None:
        """The walking graph of the network layer, built on first use (``None`` without one)."""
        from gisplan.network import build_graph  # noqa: PLC0415 - only runs that walk

        return build_graph(self.layers["network"]) if "network" in self.layers else None

    @functools.cached_property
    def catalogue(self) -> pd.DataFrame:
        """The renovation catalogue of the ``schemes:`` section (else the packaged one)."""
        from gisplan.catalogue import load_catalogue  # noqa: PLC0415

        section = self.scenario.schemes
        return load_catalogue(section.catalogue if section is not None else None)


def load_context(scenario: Scenario | str | Path, *, progress: bool = False) -> RunContext:
    """Read, validate and project every layer of a scenario; load its standard once.

    Parameters
    ----------
    scenario
        A :class:`~gisplan.scenario.Scenario` or the path of its YAML file.
    progress
        Show a progress bar.

    Returns
    -------
    RunContext
        Layers in one metric CRS, the warnings found, the standard table; the walking graph
        and the catalogue are loaded when a step first asks for them.

    Raises
    ------
    ValidationError
        Listing every fatal problem of every layer at once.
    """
    scenario = _as_scenario(scenario)
    layers, report, standard = _check_layers(scenario, progress=progress)
    report.raise_if_fatal()
    if scenario.metric_crs == "auto":
        metric = gcrs.choose_metric_crs(layers["communities"])
    else:
        metric = gcrs.parse_datum(scenario.metric_crs).crs
    logger.info("metric CRS for the run: %s (%s)", metric.to_string(), metric.name)
    projected = {
        kind: gdf if kind in TABLE_KINDS else gcrs.to_metric(gdf, target=metric)
        for kind, gdf in layers.items()
    }
    return RunContext(
        scenario=scenario, layers=projected, crs=metric, report=report, standard=standard
    )


def load_layers(
    scenario: Scenario | str | Path, *, progress: bool = False
) -> tuple[dict[str, gpd.GeoDataFrame | pd.DataFrame], pyproj.CRS, ValidationReport]:
    """Read, validate and project every layer of a scenario into one metric CRS.

    Returns
    -------
    layers, crs, report
        Layers keyed by kind (in ``crs``; table kinds as pandas DataFrames), the metric CRS
        chosen, and the warnings found
        (:func:`load_context` also gives the standard, graph and catalogue).

    Raises
    ------
    ValidationError
        Listing every fatal problem of every layer at once.
    """
    ctx = load_context(scenario, progress=progress)
    return dict(ctx.layers), ctx.crs, ctx.report


def _access(ctx: RunContext, _: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Find life-circle gaps: origins, distances, gaps, coverage; 2SFCA, buildings, areas."""
    from gisplan import access, gaps  # noqa: PLC0415 - only runs that ask for it
    from gisplan.network import network_pieces  # noqa: PLC0415

    section = ctx.scenario.access
    if section is None:
        return {}
    types = section.facility_types(ctx.standard)
    options = section.access_options()
    gap_options = section.gap_options()
    communities, facilities = ctx.layers["communities"], ctx.layers["facilities"]
    graph = None if options.straight_line_factor is not None else ctx.graph
    if graph is not None:
        ctx.report.extend(graph.report)
    origins = access.community_origins(
        communities, graph, entrances=ctx.layers.get("entrances"), options=options
    )
    if graph is None:
        distances = access.straight_line_nearest(
            origins, facilities, factor=float(options.straight_line_factor or 1.0), types=types
        )
    else:
        distances = access.nearest_facilities(
            graph, origins, facilities, types=types, options=options
        )
    status = gaps.data_coverage(
        facilities, communities, types=types, standard=ctx.standard, options=gap_options
    )
    gap = gaps.gap_table(
        distances,
        communities,
        standard=ctx.standard,
        options=gap_options,
        data_status=dict(zip(status["type"], status["data_status"], strict=True)),
    )
    edges = _edge_effects(ctx, status["radius_m"].max())
    results: dict[str, pd.DataFrame] = {
        "origins": origins,
        "gaps": gaps.with_edge_effect(gap, edges),
        "community_gaps": gaps.with_edge_effect(
            gaps.with_pieces(
                gaps.community_gaps(gap, communities, options=gap_options, standard=ctx.standard),
                origins,
            ),
            edges,
        ),
        "coverage": gaps.coverage_by_type(gap),
    }
    if graph is None:
        return results
    results["network_pieces"] = network_pieces(graph)
    first = gap.groupby("type", sort=False)["radius_m"].first()
    radius = {str(t): float(r) for t, r in first.items()}
    # capacity-aware accessibility (2SFCA) for the types whose facilities carry a capacity
    has = facilities["capacity"].notna() if "capacity" in facilities.columns else None
    with_capacity = set(facilities.loc[has, "type"]) if has is not None else set()
    capacity_types = [t for t in radius if t in with_capacity]
    if capacity_types:
        chosen = facilities[facilities["type"].isin(capacity_types)]
        catchments = access.facility_catchments(
            graph,
            origins,
            chosen,
            radius_m={t: radius[t] for t in capacity_types},
            options=options,
        )
        results["accessibility_2sfca"] = gaps.two_step_fca(catchments, communities, chosen)
    if "buildings" in ctx.layers:
        buildings = ctx.layers["buildings"]
        weight = next((c for c in ("population", "households") if c in buildings.columns), None)
        results["building_access"] = access.building_distances(
            graph,
            buildings,
            communities,
            facilities,
            weight=weight,
            radius_m=radius,
            types=types,
            options=options,
        )
    if section.service_areas:
        chosen = facilities[facilities["type"].isin(types)]
        results["service_areas"] = access.service_areas(
            graph, chosen, radius_m=radius, options=options
        )
    return results


def _edge_effects(ctx: RunContext, buffer_m: float) -> pd.DataFrame:
    """Flag communities whose catchment crosses the data extent (access: boundary, OSM, hull)."""
    from gisplan import gaps  # noqa: PLC0415 - only runs that ask for it
    from gisplan._extent import data_extent  # noqa: PLC0415
    from gisplan.errors import LayerError  # noqa: PLC0415
    from gisplan.layers import read_file  # noqa: PLC0415

    section, layers = ctx.scenario.access, ctx.scenario.layers
    stated = section.boundary if section is not None else None
    boundary = None
    if stated is not None:
        boundary = read_file(stated.path, layer=stated.layer, encoding=stated.encoding)
        datum = stated.datum or ctx.scenario.datum
        if boundary.crs is None and datum is None:
            msg = (
                f"access.boundary: {stated.path.name} has no CRS; state its datum "
                "(boundary: {path: ..., datum: CGCS2000}) or the scenario's datum:"
            )
            raise LayerError(msg)
        if datum is not None:
            boundary = gcrs.to_metric(boundary, datum=datum, target=ctx.crs, what="boundary")
    source = layers.facilities
    extent, origin = data_extent(
        ctx.layers["facilities"],
        target=ctx.crs,
        boundary=boundary,
        facilities_path=source.path if source is not None else None,
    )
    if extent is None:
        logger.info(
            "study-area edge: not checked (no access: boundary and no OSM extract); state "
            "the study area with access: boundary: to flag communities near the data's edge"
        )
    else:
        logger.info("study-area edge: data extent from %s, buffer %.0f m", origin, buffer_m)
    return gaps.edge_effects(ctx.layers["communities"], extent, buffer_m=buffer_m)


def _siting(ctx: RunContext, results: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Propose new facilities on the candidate sites, with coverage before and after."""
    from gisplan.siting import propose  # noqa: PLC0415

    section, access_section = ctx.scenario.siting, ctx.scenario.access
    if section is None or access_section is None:
        return {}
    options = section.options(max_snap_m=access_section.max_snap_m)
    options = replace(options, radius_m={**access_section.radius_m, **section.radius_m})
    result = propose(
        ctx.layers["communities"],
        ctx.layers.get("facilities"),
        ctx.layers["sites"],
        options=options,
        standard=ctx.standard,
        graph=ctx.graph,
        origins=results.get("origins"),
    )
    for note in result.notes:
        logger.info("siting: %s", note)
    for row in result.info.itertuples(index=False):
        logger.info("siting %s: %s, %.3f s", row.type, row.solver_status, row.time_s)
    return {
        "sites_chosen": result.sites_chosen,
        "siting_coverage": result.coverage,
        "gaps_after": result.gaps_after,
        "siting_uncoverable": result.uncoverable,
        # solve times go to run.log: the tables stay byte-identical run to run
        "siting_info": result.info.drop(columns="time_s"),
    }


def _eligibility(ctx: RunContext, _: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Who qualifies, rule by rule (preset of the ``eligibility:`` section)."""
    from gisplan.eligibility import assess  # noqa: PLC0415

    section = ctx.scenario.eligibility
    if section is None:
        return {}
    return {"eligibility": assess(ctx.layers["communities"], rules=section.rules())}


def _schemes(ctx: RunContext, results: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """One costed scheme per community not found ineligible (一小区一方案)."""
    from gisplan.catalogue import build_menu, scheme_costs  # noqa: PLC0415

    section = ctx.scenario.schemes
    if section is None:
        return {}
    communities = ctx.layers["communities"]
    if "eligibility" in results:
        status = results["eligibility"].set_index("community_id")["status"]
        keep = communities["community_id"].map(status).ne("not_eligible").to_numpy()
        logger.info("schemes: %d of %d communities are not eligible", (~keep).sum(), len(keep))
        communities = communities[keep]
    if "eligibility" in results and "no_repeat_items" in results["eligibility"].columns:
        repeat = results["eligibility"].set_index("community_id")["no_repeat_items"]
        communities = communities.assign(no_repeat_items=communities["community_id"].map(repeat))
    schemes, review = build_menu(
        communities,
        catalogue=ctx.catalogue,
        gaps=results.get("gaps") if section.use_gaps else None,
        options=section.options(),
        standard=ctx.standard,
        sites_chosen=results.get("sites_chosen"),
    )
    return {
        "schemes": schemes,
        "scheme_costs": scheme_costs(schemes, review),
        "scheme_review": review,
    }


def _finance(ctx: RunContext, results: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Fund the schemes by the financing modes in order (the money chain)."""
    from gisplan.finance import fund_by_modes  # noqa: PLC0415

    section = ctx.scenario.finance
    if section is None:
        return {}
    bundles = ctx.scenario.bundles
    return fund_by_modes(
        results["schemes"],
        ctx.layers["communities"],
        rules=section.funding_rules(),
        projects=ctx.layers.get("projects"),
        barriers=ctx.layers.get("barriers"),
        options=bundles.financing_options() if bundles is not None else None,
        commitments=ctx.layers.get("commitments"),
        revenues=ctx.layers.get("revenues"),
        catalogue=ctx.catalogue,
        plan_years=_plan_years(ctx.scenario),
    )


def _plan_years(scenario: Scenario) -> tuple[int, int] | None:
    """First and last year of the plan period: the plan year to the last rollout year."""
    if scenario.eligibility is None:
        return None
    first = int(scenario.eligibility.plan_year)
    rollout = scenario.plan.rollout_years if scenario.plan is not None else []
    return first, max([first, *rollout])


def _plan(ctx: RunContext, results: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Choose the plan year within the money, roll out over the years, check the targets.

    The pool money comes from the finance step's ``funding_pools`` table when it made one
    (the plan year gets the commitments dated up to it; the rollout carries unused money
    over); without it, no per-source cap applies (only ``plan.budget_wan_yuan``, if set).
    """
    from gisplan.plan import (  # noqa: PLC0415
        annual_plan,
        candidates,
        limit_label,
        pool_money,
        rollout,
        targets_table,
    )
    from gisplan.publicity import PUBLICITY_COLUMNS, publicity_schedule  # noqa: PLC0415

    section, eligibility = ctx.scenario.plan, ctx.scenario.eligibility
    if section is None or eligibility is None:
        return {}
    _check_plan_budget(ctx, results["schemes"])
    if "floor_area_m2" not in ctx.layers["communities"].columns:
        ctx.report.add(
            "communities",
            "floor_area_m2 (建筑面积) absent: the plan's floor areas (m² started and completed, "
            "m² targets) are unknown",
            "add 建筑面积 (m²) to the communities layer for the plan's m² figures",
            severity="warning",
            column="floor_area_m2",
        )
    funding_pools = results.get("funding_pools")
    chosen = candidates(
        ctx.layers["communities"],
        eligibility=results["eligibility"],
        schemes=results["schemes"],
        community_gaps=results.get("community_gaps"),
        funding=results.get("funding"),
        pools=None if funding_pools is None else funding_pools["source"].astype(str).tolist(),
    )
    limits, weights = section.limits(), section.priority_weights()
    year = eligibility.plan_year
    year_limits = limits
    if funding_pools is not None:
        year_limits = replace(limits, pools=pool_money(funding_pools, [year])[year])
    table, info = annual_plan(chosen, limits=year_limits, weights=weights, plan_year=year)
    logger.info("plan %s: %s", year, info)
    flat = {k: v for k, v in info.items() if k not in {"pools", "binding", "limiting"}}
    binding: Sequence[str] = info["binding"]  # type: ignore[assignment]
    limiting: Mapping[str, int] = info["limiting"]  # type: ignore[assignment]
    flat["binding"] = "、".join(limit_label(name) for name in binding)
    flat["limiting"] = "、".join(f"{limit_label(k)} {n} 个小区" for k, n in limiting.items())
    pools: Mapping[str, Mapping[str, float]] = info["pools"]  # type: ignore[assignment]
    for source, money in pools.items():
        flat[f"pool_{source}_available_wan_yuan"] = money["available_wan_yuan"]
        flat[f"pool_{source}_used_wan_yuan"] = money["used_wan_yuan"]
    out = {"plan": table, "plan_info": info_table(flat)}
    if section.rollout_years:
        out["rollout"], out["rollout_years"] = rollout(
            chosen,
            years=section.rollout_years,
            limits_per_year=limits,
            build_years=section.build_years,
            weights=weights,
            targets=section.targets or None,
            funding_pools=funding_pools,
        )
        if section.targets:
            out["targets"] = targets_table(out["rollout_years"])
        if "pools" in out["rollout_years"].attrs:
            out["rollout_pools"] = pd.DataFrame.from_records(out["rollout_years"].attrs["pools"])
    selected = table.loc[table["selected"], "community_id"]
    out["calendar"] = calendar = _calendar(ctx, selected, out.get("rollout"))
    # 公示 from the calendar (ending by the submission deadline) unless the scenario dates it
    scheduled = calendar.loc[
        calendar["milestone"].eq("publicity") & calendar["start_year"].eq(year), "start_date"
    ]
    start = section.publicity_start or (min(scheduled) if len(scheduled) else None)
    out["publicity"] = (
        publicity_schedule(selected, start, working_days=section.publicity_working_days)
        if start is not None
        else pd.DataFrame(columns=list(PUBLICITY_COLUMNS))  # an empty plan publicises nothing
    )
    return out


def _calendar(
    ctx: RunContext, selected: pd.Series, rollout_table: pd.DataFrame | None
) -> pd.DataFrame:
    """Return the programme calendar of every community this plan starts.

    The plan year's communities, then the rollout's later starts; milestones from the
    preset's packaged calendar or ``plan.calendar``. A working-day milestone of the plan
    year in a year without an official holiday schedule is an error (raised); for a later
    rollout year it is a warning and that year has no calendar yet.
    """
    from gisplan.schedule import programme_calendar  # noqa: PLC0415

    section, eligibility = ctx.scenario.plan, ctx.scenario.eligibility
    assert section is not None  # noqa: S101 - checked by _plan
    assert eligibility is not None  # noqa: S101
    year = int(eligibility.plan_year)
    groups = [pd.DataFrame({"community_id": selected.astype(str), "start_year": year})]
    if rollout_table is not None and "start_year" in rollout_table.columns:
        later = rollout_table.loc[
            rollout_table["start_year"].gt(year) & ~rollout_table["community_id"].isin(selected),
            ["community_id", "start_year"],
        ].astype({"start_year": int})
        groups.extend(group for _, group in later.groupby("start_year", sort=True))
    tables = []
    for group in groups:
        start_year = int(group["start_year"].iloc[0]) if len(group) else year
        try:
            tables.append(
                programme_calendar(
                    group,
                    preset=eligibility.preset,
                    calendar=section.calendar,
                    publicity_start=section.publicity_start if start_year == year else None,
                    publicity_working_days=section.publicity_working_days,
                    build_years=section.build_years,
                )
            )
        except ScenarioError as err:
            if start_year == year:
                raise
            ctx.report.add(
                "plan",
                f"no programme calendar yet for the {len(group)} communities starting in "
                f"{start_year}: {err}",
                "re-run once the chinesecalendar package covers that year",
                severity="warning",
            )
    calendar: pd.DataFrame = pd.concat(tables, ignore_index=True)
    return calendar


#: The steps of a run, in order: each sees the results of the steps before it.
_STEPS: dict[str, Callable[[RunContext, Mapping[str, pd.DataFrame]], dict[str, pd.DataFrame]]] = {
    "access": _access,
    "siting": _siting,
    "eligibility": _eligibility,
    "schemes": _schemes,
    "finance": _finance,
    "plan": _plan,
}


def _step_names(scenario: Scenario) -> list[str]:
    """Return the steps a scenario asks for, in the order they run."""
    return [name for name in _STEPS if getattr(scenario, name) is not None]


def run_steps(
    ctx: RunContext, *, timings: dict[str, float] | None = None
) -> dict[str, pd.DataFrame]:
    """Run every step the context's scenario asks for, in order; return all their tables.

    ``timings`` (if given) receives the seconds each step took.
    """
    results: dict[str, pd.DataFrame] = {}
    for name in _step_names(ctx.scenario):
        t = time.perf_counter()
        results.update(_STEPS[name](ctx, results))
        if timings is not None:
            timings[name] = time.perf_counter() - t
    return results


def validate_scenario(scenario: Scenario | str | Path) -> ValidationReport:
    """Check a scenario and all its layers; return every problem found.

    Never raises for problems in the scenario or the data: they are all in the report
    (``report.ok`` is ``False`` when any is fatal).
    """
    try:
        scenario = _as_scenario(scenario)
    except ScenarioError as err:
        report = ValidationReport()
        for key, problem, fix in err.problems or [("", str(err), "correct the scenario file")]:
            report.add("scenario", problem, fix, column=key or None)
        return report
    except GisplanError as err:
        report = ValidationReport()
        report.add("scenario", str(err), "correct the scenario file")
        return report
    return _check_layers(scenario)[1]


@contextmanager
def _capture_log() -> Iterator[io.StringIO]:
    """Collect the ``gisplan`` logger's INFO records for ``run.log`` while the run lasts."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setLevel(logging.INFO)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    package = logging.getLogger("gisplan")
    old_level = package.level
    if package.getEffectiveLevel() > logging.INFO:
        package.setLevel(logging.INFO)
    package.addHandler(handler)
    try:
        yield stream
    finally:
        package.removeHandler(handler)
        package.setLevel(old_level)


def run_scenario(
    scenario: Scenario | str | Path,
    *,
    out: str | Path | None = None,
    overwrite: bool = False,
    force: bool = False,
    progress: bool = False,
    write: bool = True,
) -> RunResult:
    """Run every step a scenario asks for and write ``outputs/<name>/``.

    Parameters
    ----------
    scenario
        A :class:`~gisplan.scenario.Scenario` or the path of its YAML file.
    out
        Output folder (default: ``outputs.dir`` of the scenario, else ``outputs/<name>``).
    overwrite
        Replace an existing output folder (only once the new run has succeeded).
    force
        With ``overwrite``, replace it even if it holds files its ``run.json`` does not list.
    progress
        Show progress bars.
    write
        Write the output folder; ``False`` only computes (for notebooks).

    Returns
    -------
    RunResult
        The layers in the run's metric CRS, the warnings and the output folder.

    Raises
    ------
    ScenarioError, ValidationError, CRSError
        Bad scenario or data; nothing is written.
    OutputError
        The output folder exists and ``overwrite`` is false, is being written by another
        run, or cannot be written.
    """
    t0 = time.perf_counter()
    scenario = _as_scenario(scenario)
    out_dir = scenario.output_dir(out).resolve() if write else None
    # The folder is locked from here until its rename: a second run to it fails at once.
    lock = (
        prepare_out(out_dir, scenario.input_paths(), overwrite=overwrite, force=force)
        if out_dir is not None
        else None
    )
    try:
        return _run_and_write(
            scenario, out_dir, lock, overwrite=overwrite, force=force, progress=progress, t0=t0
        )
    finally:
        if lock is not None:
            lock.release()


def _run_and_write(
    scenario: Scenario,
    out_dir: Path | None,
    lock: FolderLock | None,
    *,
    overwrite: bool,
    force: bool,
    progress: bool,
    t0: float,
) -> RunResult:
    """Run the steps, then write ``out_dir`` (if any) under ``lock``."""
    started = datetime.now(timezone.utc).isoformat(timespec="seconds")
    timings: dict[str, float] = {}
    with _capture_log() as log, warnings_once():
        logger.info("gisplan %s: scenario %s", __version__, scenario.source or scenario.name)
        t = time.perf_counter()
        ctx = load_context(scenario, progress=progress)
        timings["layers"] = time.perf_counter() - t
        results = run_steps(ctx, timings=timings)
        for issue in ctx.report:
            logger.info("%s", issue.format())
        result = RunResult(
            scenario=scenario,
            crs=ctx.crs,
            layers=ctx.layers,
            report=ctx.report,
            results=results,
            out_dir=out_dir,
            timings_s=timings,
            parameters=scenario.model_dump(mode="json"),
        )
        if out_dir is None:
            return result
        logger.info("writing outputs to %s", out_dir)
    # Nothing but the lock touches the disk before every step has succeeded.
    inputs = scenario.input_paths()
    with atomic_dir(
        out_dir,
        lock=lock,  # a run that finished meanwhile is not replaced without --overwrite
        check=lambda: check_out(out_dir, inputs, overwrite=overwrite, force=force),
    ) as tmp:
        t = time.perf_counter()
        write_results(tmp, ctx.layers, results, ctx.report)
        timings["write"] = time.perf_counter() - t
        steps = _step_names(scenario)
        write_run_json(tmp / RUN_JSON, scenario, result, started=started, steps=steps)
        _write_views(scenario, result, tmp, timings)
        timings["total"] = time.perf_counter() - t0
        write_run_json(tmp / RUN_JSON, scenario, result, started=started, steps=steps)
        (tmp / RUN_LOG).write_text(log.getvalue(), encoding="utf-8")
    return result


def _write_views(
    scenario: Scenario, result: RunResult, folder: Path, timings: dict[str, float]
) -> None:
    """Write the maps and the consultation site a scenario asks for into the run's folder.

    The site reads the folder like ``gisplan publish`` does, so ``run.json`` and the
    tables are written first.
    """
    if scenario.maps is not None:
        from gisplan.maps import write_maps  # noqa: PLC0415

        t = time.perf_counter()
        written = write_maps(result, folder, scenario.maps.options())
        logger.info("maps: %s", ", ".join(p.name for p in written))
        timings["maps"] = time.perf_counter() - t
    if scenario.publish is not None:
        from gisplan.publish import publish  # noqa: PLC0415

        t = time.perf_counter()
        publish(folder, folder / SITE_DIR, options=scenario.publish.options())
        timings["publish"] = time.perf_counter() - t
    if scenario.documents is not None:
        t = time.perf_counter()
        written = write_documents(scenario, result, folder)
        logger.info("documents: %s", ", ".join(str(p.relative_to(folder)) for p in written))
        timings["documents"] = time.perf_counter() - t


def write_documents(scenario: Scenario, result: RunResult, folder: Path) -> list[Path]:
    """Write the documents a bureau hands in into a run's folder; return the files written.

    ``报送表格.xlsx`` (the official tables), ``figures/`` (the programme's Gantt chart per
    year and the key maps), ``实施方案（草案）.docx`` and ``项目储备库.xlsx``. The run's
    tables are read back from ``folder`` (as ``gisplan publish`` does), so the documents
    show what the folder holds.
    """
    from gisplan.documents import official_tables, write_official_workbook  # noqa: PLC0415
    from gisplan.outputs import read_run  # noqa: PLC0415
    from gisplan.plan_document import (  # noqa: PLC0415
        DOCX_NAME,
        key_map_figures,
        write_implementation_plan,
    )
    from gisplan.register import REGISTER_NAME, build_register, read_register, write_register  # noqa: PLC0415
    from gisplan.schedule import gantt_figure  # noqa: PLC0415

    section, eligibility = scenario.documents, scenario.eligibility
    assert section is not None  # noqa: S101 - scenario checks
    assert eligibility is not None  # noqa: S101
    run = read_run(folder)
    frames = run.frames()
    communities = result.layers["communities"]
    year = int(eligibility.plan_year)
    title = run.title
    catalogue = scenario.schemes.catalogue if scenario.schemes is not None else "linyi"
    tables = official_tables(
        frames,
        communities,
        plan_year=year,
        title=title,
        district=section.district or title,
        project_package=section.project_package,
        catalogue=str(catalogue),
        layouts=section.layouts,
    )
    written = [folder / OFFICIAL_NAME]
    write_official_workbook(tables, written[0], title=f"{title}{year}年城镇老旧小区")
    figures_dir = folder / FIGURES_DIR
    figures_dir.mkdir(exist_ok=True)
    figures: list[tuple[Path, str]] = []
    calendar = frames.get("calendar")
    if calendar is not None and len(calendar):
        for start_year in sorted({int(y) for y in calendar["start_year"]}):
            caption = f"{start_year}年开工小区进度计划"
            path = gantt_figure(
                calendar,
                start_year,
                figures_dir / f"进度计划_{start_year}.png",
                title=f"{title} {caption}",
            )
            figures.append((path, caption))
    figures.extend(key_map_figures(run, figures_dir))
    written.extend(path for path, _ in figures)
    if section.implementation_plan:
        written.append(
            write_implementation_plan(
                run,
                folder / DOCX_NAME,
                plan_year=year,
                tables=tables,
                figures=figures,
                calendar=calendar,
            )
        )
    if section.project_register:
        previous_path = scenario.plan.register_file if scenario.plan is not None else None
        previous = None if previous_path is None else read_register(previous_path)
        register = build_register(communities, frames, previous=previous)
        written.append(folder / REGISTER_NAME)
        write_register(register, written[-1])
    return written
