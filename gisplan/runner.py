"""Run a scenario end to end and write its outputs atomically.

The runner only wires steps together: each step is a function of :mod:`gisplan`
that a notebook user can call on its own. Outputs go to a temporary folder beside
the target and are renamed into place only when the whole run succeeded, so a
failed run never leaves a half-written output folder.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import logging
import platform
import time
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from importlib import metadata
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd
import pyogrio
import pyproj
from tqdm.auto import tqdm

from gisplan import crs as gcrs
from gisplan._atomic import atomic_dir
from gisplan._version import __version__
from gisplan.errors import OutputError, ScenarioError, StandardsError
from gisplan.layers import validate_layer
from gisplan.report import write_csv_tables, write_workbook
from gisplan.scenario import Scenario, load_scenario
from gisplan.standards import load_standard
from gisplan.validation import ValidationReport

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from gisplan.network import WalkGraph

__all__ = [
    "RunResult",
    "load_layers",
    "plan_candidates",
    "run_access",
    "run_plan",
    "run_scenario",
    "run_schemes",
    "validate_scenario",
]

logger = logging.getLogger(__name__)

#: File names inside an output folder.
GPKG_NAME = "results.gpkg"
RUN_JSON = "run.json"
RUN_LOG = "run.log"
XLSX_NAME = "results.xlsx"
SITE_DIR = "site"

#: Result tables shown in the Excel workbook, with their Chinese sheet names.
_EXCEL_SHEETS = {
    "eligibility": "改造资格",
    "scheme_costs": "改造方案造价",
    "schemes": "改造方案明细",
    "funding_modes": "资金平衡模式",
    "funding": "资金来源",
    "financing_totals": "资金平衡方式汇总",
    "financing_modes": "资金平衡方式",
    "bundles": "大片区统筹项目",
    "bundle_members": "片区项目成员",
    "cross_area": "跨片区组合平衡",
    "bundles_info": "片区统筹求解信息",
    "plan": "年度计划",
    "plan_info": "年度计划求解信息",
    "rollout_years": "分年度推进",
    "rollout": "小区推进安排",
    "publicity": "公示安排",
    "coverage": "覆盖率",
    "community_gaps": "小区缺口",
    "gaps": "缺口明细",
    "accessibility_2sfca": "设施容量可达性",
    "building_access": "楼栋人口加权距离",
    "sites_chosen": "新增设施选址",
    "siting_coverage": "选址前后覆盖率",
    "siting_uncoverable": "选址后仍未覆盖",
    "siting_info": "选址求解信息",
}
ISSUES_CSV = "validation_issues.csv"

#: The packaged life-circle table, hashed into run.json when the scenario names none.
_PACKAGED_STANDARD = "life_circle_standard.csv"

#: Fixed GeoPackage timestamp, so the same inputs give byte-identical files.
_GPKG_DATE = "2000-01-01T00:00:00.000Z"


@dataclass(frozen=True, kw_only=True)
class RunResult:
    """What a run produced.

    Attributes
    ----------
    scenario
        The validated scenario.
    crs
        The metric CRS every output layer is in.
    layers
        The validated input layers, in ``crs``, keyed by kind.
    report
        Every issue found (warnings only: a run with fatal issues raises instead).
    results
        Result tables and layers of the steps run, e.g. ``gaps``, ``coverage``,
        ``community_gaps`` (access step), keyed by output name.
    out_dir
        The output folder, or ``None`` when nothing was written.
    timings_s
        Seconds spent per step.
    """

    scenario: Scenario
    crs: pyproj.CRS
    layers: dict[str, gpd.GeoDataFrame]
    report: ValidationReport
    results: dict[str, pd.DataFrame] = field(default_factory=dict)
    out_dir: Path | None = None
    timings_s: dict[str, float] = field(default_factory=dict)


def _as_scenario(scenario: Scenario | str | Path) -> Scenario:
    return scenario if isinstance(scenario, Scenario) else load_scenario(scenario)


def _check_layers(
    scenario: Scenario, *, progress: bool = False
) -> tuple[dict[str, gpd.GeoDataFrame], ValidationReport]:
    """Read and check every layer; never raises for data problems."""
    report = ValidationReport()
    try:
        standard = load_standard(scenario.standards)
    except StandardsError as err:  # reported like any layer problem; checks go on
        report.add("standards", str(err), "correct the standards table named in the scenario")
        standard = load_standard()
    layers: dict[str, gpd.GeoDataFrame] = {}
    items = scenario.layers.items()
    disable = None if progress else True  # None: only on a terminal
    for kind, source in tqdm(items, desc="读取图层 layers", unit="layer", disable=disable):
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
        report.extend(layer_report)
        if gdf is not None:
            layers[kind] = gdf
    _check_references(layers, report)
    return layers, report


def _check_references(layers: dict[str, gpd.GeoDataFrame], report: ValidationReport) -> None:
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


def load_layers(
    scenario: Scenario | str | Path, *, progress: bool = False
) -> tuple[dict[str, gpd.GeoDataFrame], pyproj.CRS, ValidationReport]:
    """Read, validate and project every layer of a scenario into one metric CRS.

    Parameters
    ----------
    scenario
        A :class:`~gisplan.scenario.Scenario` or the path of its YAML file.
    progress
        Show a progress bar.

    Returns
    -------
    layers, crs, report
        Layers keyed by kind (in ``crs``), the metric CRS chosen, and the warnings found.

    Raises
    ------
    ValidationError
        Listing every fatal problem of every layer at once.
    """
    scenario = _as_scenario(scenario)
    layers, report = _check_layers(scenario, progress=progress)
    report.raise_if_fatal()
    if scenario.metric_crs == "auto":
        metric = gcrs.choose_metric_crs(layers["communities"])
    else:
        metric = gcrs.parse_datum(scenario.metric_crs).crs
    logger.info("metric CRS for the run: %s (%s)", metric.to_string(), metric.name)
    projected = {kind: gcrs.to_metric(gdf, target=metric) for kind, gdf in layers.items()}
    return projected, metric, report


def run_access(
    scenario: Scenario,
    layers: dict[str, gpd.GeoDataFrame],
    report: ValidationReport,
    *,
    graph: WalkGraph | None = None,
) -> dict[str, pd.DataFrame]:
    """Run the life-circle step of a scenario: distances, gaps and coverage.

    Parameters
    ----------
    scenario
        A scenario with an ``access:`` section.
    layers
        Its validated layers in the run's metric CRS (see :func:`load_layers`).
    report
        Network warnings (disconnected pieces, dropped edges) are added to it.
    graph
        The walking graph of ``layers["network"]`` when already built (the runner builds it
        once for access and siting); ``None`` builds it here.

    Returns
    -------
    dict of str to DataFrame
        ``origins``, ``gaps`` (community × type), ``community_gaps`` (polygons),
        ``coverage`` (per type), and ``accessibility_2sfca`` / ``service_areas`` when asked for
        or when facilities carry a capacity.
    """
    from gisplan import access, gaps, network  # noqa: PLC0415 - only runs that ask for it

    section = scenario.access
    if section is None:
        return {}
    standard = load_standard(scenario.standards)
    if section.types == "all":
        types = [
            str(code)
            for code, level in standard["level"].items()
            if section.levels is None or level in section.levels
        ]
    else:
        types = list(section.types)
    options = access.AccessOptions(
        max_snap_m=section.max_snap_m,
        limit_m=section.limit_m,
        straight_line_factor=section.straight_line_factor,
    )
    gap_options = gaps.GapOptions(radius_overrides=section.radius_m, weights=section.weights)
    communities, facilities = layers["communities"], layers["facilities"]
    given, graph = graph, None  # graph stays None when distances are straight-line estimates
    if section.straight_line_factor is not None:
        origins = gpd.GeoDataFrame(
            {
                "community_id": communities["community_id"],
                "origin_id": communities["community_id"].astype(str) + "-c",
                "origin_source": "centroid",
            },
            geometry=communities.representative_point(),
            crs=communities.crs,
        )
        logger.info(
            "access: straight-line distances x %s (no network)", options.straight_line_factor
        )
        distances = access.straight_line_nearest(
            origins, facilities, factor=section.straight_line_factor, types=types
        )
    else:
        graph = given if given is not None else network.build_graph(layers["network"])
        report.extend(graph.report)
        origins = access.community_origins(
            communities, graph, entrances=layers.get("entrances"), options=options
        )
        distances = access.nearest_facilities(
            graph, origins, facilities, types=types, options=options
        )
    gap = gaps.gap_table(distances, communities, standard=standard, options=gap_options)
    results: dict[str, pd.DataFrame] = {
        "origins": origins,
        "gaps": gap,
        "community_gaps": gaps.community_gaps(gap, communities, options=gap_options),
        "coverage": gaps.coverage_by_type(gap),
    }
    first_radius = gap.groupby("type", sort=False)["radius_m"].first()
    radius = {str(code): float(r) for code, r in first_radius.items()}
    # capacity-aware accessibility (2SFCA) for the types whose facilities carry a capacity
    if "capacity" in facilities.columns:
        have = set(facilities.loc[facilities["capacity"].notna(), "type"])
    else:
        have = set()
    capacity_types = [t for t in radius if t in have]
    if graph is not None and capacity_types:
        capacity_radius = {t: radius[t] for t in capacity_types}
        chosen = facilities[facilities["type"].isin(capacity_types)]
        catchments = access.facility_catchments(
            graph, origins, chosen, radius_m=capacity_radius, options=options
        )
        results["accessibility_2sfca"] = gaps.two_step_fca(catchments, communities, chosen)
    if graph is not None and "buildings" in layers:
        buildings = layers["buildings"]
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
    if graph is not None and section.service_areas:
        chosen = facilities[facilities["type"].isin(types)]
        results["service_areas"] = access.service_areas(
            graph, chosen, radius_m=radius, options=options
        )
    return results


def run_siting(
    scenario: Scenario,
    layers: dict[str, gpd.GeoDataFrame],
    results: dict[str, pd.DataFrame],
    *,
    graph: WalkGraph | None = None,
) -> dict[str, pd.DataFrame]:
    """Propose new facilities on the candidate sites to close life-circle gaps.

    Uses the access step's origins (community gates) and radius overrides; the siting
    section's own ``radius_m`` wins for the codes it names. ``graph``: the walking graph
    when already built (else built here).

    Returns
    -------
    dict of str to DataFrame
        ``sites_chosen`` (layer), ``siting_coverage`` (before/after per type),
        ``gaps_after``, ``siting_uncoverable``, ``siting_info`` (solver facts per type).
    """
    from gisplan import network  # noqa: PLC0415
    from gisplan.siting import propose  # noqa: PLC0415

    section, access_section = scenario.siting, scenario.access
    if section is None or access_section is None:
        return {}
    options = section.options(max_snap_m=access_section.max_snap_m)
    options = replace(options, radius_m={**access_section.radius_m, **section.radius_m})
    result = propose(
        layers["communities"],
        layers.get("facilities"),
        layers["sites"],
        options=options,
        standard=load_standard(scenario.standards),
        graph=graph if graph is not None else network.build_graph(layers["network"]),
        origins=results.get("origins"),
    )
    for note in result.notes:
        logger.info("siting: %s", note)
    for row in result.info.itertuples(index=False):
        logger.info("siting %s: %s, %.3f s", row.type, row.status, row.time_s)
    return {
        "sites_chosen": result.sites_chosen,
        "siting_coverage": result.coverage,
        "gaps_after": result.gaps_after,
        "siting_uncoverable": result.uncoverable,
        # solve times go to run.log: the tables stay byte-identical run to run
        "siting_info": result.info.drop(columns="time_s"),
    }


def run_schemes(
    scenario: Scenario,
    communities: gpd.GeoDataFrame,
    results: dict[str, pd.DataFrame],
) -> dict[str, pd.DataFrame]:
    """Build and cost one scheme per community (一小区一方案).

    Communities found not eligible by an earlier ``eligibility`` step get no scheme; with
    ``use_gaps`` and an ``access`` step, uncovered life-circle types propose 提升类 items.

    Returns
    -------
    dict of str to DataFrame
        ``schemes`` (community × item) and ``scheme_costs`` (per community, by class).
    """
    from gisplan.catalogue import build_schemes, load_catalogue, scheme_costs  # noqa: PLC0415

    section = scenario.schemes
    if section is None:
        return {}
    chosen = communities
    if "eligibility" in results:
        status = results["eligibility"].set_index("community_id")["status"]
        keep = communities["community_id"].map(status).ne("not_eligible").to_numpy()
        logger.info("schemes: %d of %d communities are not eligible", (~keep).sum(), len(keep))
        chosen = communities[keep]
    schemes = build_schemes(
        chosen,
        catalogue=load_catalogue(section.catalogue),
        gaps=results.get("gaps") if section.use_gaps else None,
        options=section.options(),
    )
    return {"schemes": schemes, "scheme_costs": scheme_costs(schemes)}


def plan_candidates(
    communities: gpd.GeoDataFrame, results: dict[str, pd.DataFrame]
) -> pd.DataFrame:
    """Assemble the candidates table of the annual plan from the earlier steps.

    ``status`` from eligibility, ``gap_score`` from the life-circle step (0 without it),
    ``safety_items`` (scheme items flagged as safety hazards: gas, drainage, fire …) and
    ``government_cost_wan_yuan`` (scheme items the government pays) from the schemes —
    less, when the funding step ran, what revenue projects pay (大片区统筹 / 跨片区组合) and
    all of it for a community that balances itself (小区内自求平衡).
    """
    from gisplan.finance import AREA_SOURCES  # noqa: PLC0415

    schemes = results["schemes"]
    gov = schemes[schemes["payer"] == "government"].groupby("community_id")["cost_yuan"].sum()
    if "funding" in results:
        funding = results["funding"]
        area = funding[funding["source"].isin(AREA_SOURCES)]
        gov = gov.sub(area.groupby("community_id")["amount_yuan"].sum(), fill_value=0.0)
        gov[gov.index.isin(funding.loc[funding["mode"] == "self_balance", "community_id"])] = 0.0
        gov = gov.clip(lower=0.0)
    safety = schemes[schemes["safety"].astype(bool)].groupby("community_id")["item"].nunique()
    columns = ["community_id", "built_year", "households", "floor_area_m2", "buildings"]
    columns += ["participation_rate", "approval_rate"]
    table = pd.DataFrame(communities[[c for c in columns if c in communities.columns]])
    ids = table["community_id"].astype(str)
    status = results["eligibility"].set_index("community_id")["status"]
    table["status"] = ids.map(status).to_numpy()
    if "community_gaps" in results:
        score = results["community_gaps"].set_index("community_id")["gap_score"]
        table["gap_score"] = ids.map(score).to_numpy()
    table["safety_items"] = ids.map(safety).fillna(0).astype(int).to_numpy()
    table["government_cost_wan_yuan"] = (ids.map(gov) / 10_000).round(2).to_numpy()
    has_scheme = ids.isin(set(schemes["community_id"].astype(str))).to_numpy()
    keep = has_scheme | (table["status"] != "eligible").to_numpy()
    candidates: pd.DataFrame = table[keep].reset_index(drop=True)
    return candidates


def run_plan(
    scenario: Scenario, communities: gpd.GeoDataFrame, results: dict[str, pd.DataFrame]
) -> dict[str, pd.DataFrame]:
    """Choose the plan year's communities within budget; roll out later years; 公示 dates.

    Returns
    -------
    dict of str to DataFrame
        ``plan`` (every candidate, selected or why not, with its priority), ``plan_info``
        (solver status, objective, MIP gap, budget used), and with ``rollout_years``
        ``rollout`` / ``rollout_years``, with ``publicity_start`` ``publicity``.
    """
    from gisplan.plan import PlanLimits, PriorityWeights, annual_plan, rollout  # noqa: PLC0415
    from gisplan.publicity import publicity_schedule  # noqa: PLC0415

    section, eligibility = scenario.plan, scenario.eligibility
    if section is None or eligibility is None:
        return {}
    candidates = plan_candidates(communities, results)
    limits = PlanLimits(
        budget_wan_yuan=section.budget_wan_yuan,
        max_communities=section.max_communities,
        max_floor_area_m2=section.max_floor_area_m2,
        require_consent=section.require_consent,
    )
    weights = PriorityWeights(**section.weights)
    table, info = annual_plan(
        candidates, limits=limits, weights=weights, plan_year=eligibility.plan_year
    )
    logger.info("plan %s: %s", eligibility.plan_year, info)
    out = {
        "plan": table,
        "plan_info": pd.DataFrame({"key": list(info), "value": [str(v) for v in info.values()]}),
    }
    if section.rollout_years:
        by_community, per_year = rollout(
            candidates,
            years=section.rollout_years,
            limits_per_year=limits,
            build_years=section.build_years,
            weights=weights,
            targets=section.targets or None,
        )
        out["rollout"] = by_community
        out["rollout_years"] = per_year
    if section.publicity_start is not None:
        chosen = table.loc[table["selected"], "community_id"]
        out["publicity"] = publicity_schedule(
            chosen, section.publicity_start, working_days=section.publicity_working_days
        )
    return out


def _eligibility_step(scenario: Scenario, communities: pd.DataFrame) -> dict[str, pd.DataFrame]:
    from gisplan.eligibility import assess  # noqa: PLC0415

    rules = scenario.eligibility.rules() if scenario.eligibility is not None else None
    return {} if rules is None else {"eligibility": assess(communities, rules=rules)}


def run_bundles(
    scenario: Scenario,
    layers: dict[str, gpd.GeoDataFrame],
    schemes: pd.DataFrame,
    funding: pd.DataFrame,
) -> tuple[dict[str, dict[str, float]], bool, dict[str, pd.DataFrame]]:
    """Bundle communities with revenue projects (大片区统筹平衡, 跨片区组合平衡).

    The money each community needs is its public cost (scheme items the government pays)
    when the bundles come before government-led funding in ``bundles.order`` (the default),
    else what government-led funding left short.

    Returns
    -------
    tuple
        ``(area_funding, area_first, tables)``: project money per community and source in 元
        for :func:`gisplan.finance.fund`, whether it is taken before the capped sources, and
        the tables ``bundles`` (layer), ``bundle_members``, ``cross_area``,
        ``financing_modes``, ``financing_totals``, ``bundles_info``.
    """
    from gisplan.bundles import adjacency, plan_financing  # noqa: PLC0415
    from gisplan.finance import modes  # noqa: PLC0415

    section = scenario.bundles
    if section is None:
        return {}, True, {}
    order = list(section.order)
    bundling = [order.index(m) for m in ("large_area", "cross_area") if m in order]
    area_first = "government_led" not in order or min(bundling, default=0) < order.index(
        "government_led"
    )
    by_community = modes(funding).set_index("community_id")
    if area_first:
        public = schemes[schemes["payer"] == "government"].groupby("community_id")["cost_yuan"]
        need = public.sum() / 1e4
    else:
        need = by_community["shortfall_yuan"] / 1e4
    self_balanced = by_community.index[by_community["mode"] == "self_balance"]
    need = need[(need > 0) & ~need.index.isin(self_balanced)]
    communities, projects = layers["communities"], layers["projects"]
    barriers = layers.get("barriers") if section.use_barriers else None
    graph = adjacency(
        communities,
        projects,
        tolerance_m=section.tolerance_m,
        group_by=section.group_by,
        barriers=barriers,
    )
    plan = plan_financing(
        communities,
        projects,
        need,
        self_balanced=tuple(self_balanced),
        order=tuple(order),
        bundle_options=section.bundle_options(),
        cross_options=section.cross_options(),
        graph=graph,
    )
    money = plan.modes[["community_id", "bundle_covered_wan_yuan", "cross_covered_wan_yuan"]]
    area = {
        str(cid): {"large_area_project": bundle * 1e4, "cross_area_project": cross * 1e4}
        for cid, bundle, cross in money.itertuples(index=False)
        if bundle or cross
    }
    info = {k: v for k, v in plan.info.items() if not k.endswith("time_s")}
    tables = {
        "bundles": plan.bundles,
        "bundle_members": plan.members,
        "cross_area": plan.cross_area,
        "financing_modes": plan.modes,
        "financing_totals": plan.totals,
        "bundles_info": pd.DataFrame({"key": list(info), "value": [str(v) for v in info.values()]}),
    }
    return area, area_first, tables


def _finance_step(
    scenario: Scenario, layers: dict[str, gpd.GeoDataFrame], results: dict[str, pd.DataFrame]
) -> dict[str, pd.DataFrame]:
    from gisplan.finance import fund, modes  # noqa: PLC0415

    if scenario.finance is None:
        return {}
    communities = layers["communities"]
    priced = results["schemes"][results["schemes"]["cost_yuan"].notna()]
    rules = scenario.finance.funding_rules()
    funding = fund(priced, communities, rules=rules)
    tables: dict[str, pd.DataFrame] = {}
    if scenario.bundles is not None:
        area, area_first, tables = run_bundles(scenario, layers, priced, funding)
        funding = fund(priced, communities, rules=rules, area_funding=area, area_first=area_first)
    funding_modes = modes(funding)
    if "financing_totals" in tables:
        tables["financing_totals"] = _government_led_covered(
            tables["financing_totals"], tables["financing_modes"], funding_modes
        )
    return {"funding": funding, "funding_modes": funding_modes, **tables}


def _government_led_covered(
    totals: pd.DataFrame, planned: pd.DataFrame, funded: pd.DataFrame
) -> pd.DataFrame:
    """Fill the government-led row's covered money (its need less what stayed short); 0.01 万元."""
    led = planned.loc[planned["mode"] == "government_led", "community_id"]
    short = funded.loc[funded["community_id"].isin(led), "shortfall_wan_yuan"].sum()
    out: pd.DataFrame = totals.copy()
    row = out["mode"] == "government_led"
    out.loc[row, "covered_wan_yuan"] = out.loc[row, "need_wan_yuan"] - short
    money = ["need_wan_yuan", "covered_wan_yuan"]
    out[money] = out[money].astype(float).round(2)
    return out


def _step_names(scenario: Scenario) -> list[str]:
    """Return the steps a scenario asks for, in the order they run."""
    named = ("access", "siting", "eligibility", "schemes", "finance", "plan")
    return [name for name in named if getattr(scenario, name) is not None]


def _run_steps(
    scenario: Scenario,
    layers: dict[str, gpd.GeoDataFrame],
    report: ValidationReport,
    timings: dict[str, float],
) -> dict[str, pd.DataFrame]:
    """Run every step the scenario asks for, in order; each sees the results before it."""
    results: dict[str, pd.DataFrame] = {}
    communities = layers["communities"]

    @functools.cache
    def graph() -> WalkGraph | None:  # built once, for access and siting
        from gisplan.network import build_graph  # noqa: PLC0415

        return build_graph(layers["network"]) if "network" in layers else None

    def access_graph() -> WalkGraph | None:  # straight-line estimates need no graph
        straight = scenario.access is not None and scenario.access.straight_line_factor is not None
        return None if straight else graph()

    steps: dict[str, Callable[[], dict[str, pd.DataFrame]]] = {
        "access": lambda: run_access(scenario, layers, report, graph=access_graph()),
        "siting": lambda: run_siting(scenario, layers, results, graph=graph()),
        "eligibility": lambda: _eligibility_step(scenario, communities),
        "schemes": lambda: run_schemes(scenario, communities, results),
        "finance": lambda: _finance_step(scenario, layers, results),
        "plan": lambda: run_plan(scenario, communities, results),
    }
    for name in _step_names(scenario):
        t = time.perf_counter()
        results.update(steps[name]())
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
    return _check_layers(scenario)[1]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _input_files(path: Path) -> list[Path]:
    """Return the file itself, plus a shapefile's sidecar files."""
    if path.suffix.lower() != ".shp":
        return [path]
    return sorted(p for p in path.parent.glob(path.stem + ".*") if p.is_file())


def _versions() -> dict[str, str]:
    names = ["geopandas", "shapely", "pyproj", "pandas", "numpy", "pyogrio", "scipy", "pydantic"]
    out = {"python": platform.python_version(), "gisplan": __version__}
    out.update({name: metadata.version(name) for name in names})  # all are dependencies
    out["GDAL"] = pyogrio.__gdal_version_string__
    out["PROJ"] = pyproj.proj_version_str
    return out


def _writable(frame: pd.DataFrame) -> pd.DataFrame:
    """Copy with list-valued cells joined as text (GeoPackage has no list type)."""
    out: pd.DataFrame = frame.copy()
    geometry = out.geometry.name if isinstance(out, gpd.GeoDataFrame) else None
    for col in out.columns:
        if col == geometry or out[col].dtype != object:
            continue
        if out[col].map(lambda v: isinstance(v, (tuple, list))).any():
            out[col] = out[col].map(
                lambda v: "、".join(map(str, v)) if isinstance(v, (tuple, list)) else v
            )
    return out


def _summable(column: str) -> bool:
    """Whether a 合计 row should add up this column (money, areas, counts; not shares)."""
    units = ("_yuan", "_m2", "_started", "_completed")
    return column.endswith(units) or column in {"n_items", "n_unpriced", "floor_area_m2"}


def _write_excel(results: dict[str, pd.DataFrame], path: Path) -> None:
    from gisplan import (  # noqa: PLC0415
        access,
        bundles,
        catalogue,
        eligibility,
        finance,
        gaps,
        plan,
        siting,
    )

    sheets = {zh: results[key] for key, zh in _EXCEL_SHEETS.items() if key in results}
    # each sheet takes the Chinese headers of the module that made it (names can repeat)
    module_labels = {
        "eligibility": eligibility.COLUMN_LABELS_ZH,
        "scheme_costs": catalogue.COLUMN_LABELS_ZH,
        "schemes": catalogue.COLUMN_LABELS_ZH,
        "funding_modes": finance.COLUMN_LABELS_ZH,
        "funding": finance.COLUMN_LABELS_ZH,
        "building_access": {**gaps.COLUMN_LABELS_ZH, **access.COLUMN_LABELS_ZH},
    }
    for key in ("plan", "plan_info", "rollout_years", "rollout", "publicity"):
        module_labels[key] = plan.COLUMN_LABELS_ZH
    for key in ("financing_totals", "financing_modes", "bundles", "bundle_members", "cross_area"):
        module_labels[key] = {**finance.COLUMN_LABELS_ZH, **bundles.COLUMN_LABELS_ZH}
    module_labels["bundles_info"] = plan.COLUMN_LABELS_ZH
    for key in ("sites_chosen", "siting_coverage", "siting_uncoverable", "siting_info"):
        module_labels[key] = {**gaps.COLUMN_LABELS_ZH, **siting.COLUMN_LABELS_ZH}
    labels = {
        zh: module_labels.get(key, gaps.COLUMN_LABELS_ZH)
        for key, zh in _EXCEL_SHEETS.items()
        if key in results
    }
    totals = {
        _EXCEL_SHEETS[key]: [c for c in results[key].columns if _summable(str(c))]
        for key in ("scheme_costs", "funding_modes", "rollout_years", "financing_totals", "bundles")
        if key in results
    }
    if "sites_chosen" in results:  # a site hosting several types repeats its area: cost only
        totals[_EXCEL_SHEETS["sites_chosen"]] = ["cost_wan_yuan"]
    write_workbook(path, sheets, labels=labels, totals=totals)
    write_csv_tables(path.parent / "tables", results)


def _write_gpkg(layers: dict[str, pd.DataFrame], path: Path) -> None:
    previous = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": _GPKG_DATE})
    try:
        for kind, gdf in layers.items():
            pyogrio.write_dataframe(_writable(gdf), path, layer=kind, driver="GPKG")
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": previous})


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


def _prepare_out(out: Path, scenario: Scenario, *, overwrite: bool) -> None:
    """Refuse an output folder that exists (unless overwriting a gisplan output) or holds inputs."""
    if not out.exists():
        return
    if not out.is_dir():
        raise OutputError(f"output path {out} exists and is not a folder; choose another --out")
    if not overwrite:
        raise OutputError(
            f"output folder {out} already exists; pass --overwrite (overwrite=True) to replace "
            "it, or choose another folder with --out"
        )
    inputs = [scenario.source, scenario.standards, *(s.path for _, s in scenario.layers.items())]
    inside = sorted({p for p in inputs if p is not None and p.resolve().is_relative_to(out)})
    if inside:
        raise OutputError(
            f"output folder {out} holds inputs of the run ({', '.join(p.name for p in inside)}); "
            "--overwrite would delete them: choose another folder with --out"
        )
    if not (out / RUN_JSON).is_file():
        raise OutputError(
            f"output folder {out} is not a gisplan output (it has no {RUN_JSON}); gisplan "
            "replaces only its own output folders: choose a new folder with --out"
        )


def run_scenario(
    scenario: Scenario | str | Path,
    *,
    out: str | Path | None = None,
    overwrite: bool = False,
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
        The output folder exists and ``overwrite`` is false.
    """
    t0 = time.perf_counter()
    started = datetime.now(timezone.utc).isoformat(timespec="seconds")
    scenario = _as_scenario(scenario)
    out_dir = scenario.output_dir(out).resolve() if write else None
    if out_dir is not None:
        _prepare_out(out_dir, scenario, overwrite=overwrite)
    timings: dict[str, float] = {}
    with _capture_log() as log:
        logger.info("gisplan %s: scenario %s", __version__, scenario.source or scenario.name)
        t = time.perf_counter()
        layers, metric, report = load_layers(scenario, progress=progress)
        timings["layers"] = time.perf_counter() - t
        results = _run_steps(scenario, layers, report, timings)
        for issue in report:
            logger.info("%s", issue.format())
        result = RunResult(
            scenario=scenario,
            crs=metric,
            layers=layers,
            report=report,
            results=results,
            out_dir=out_dir,
            timings_s=timings,
        )
        if out_dir is None:
            return result
        logger.info("writing outputs to %s", out_dir)
    # Nothing touches the disk before every step has succeeded.
    with atomic_dir(out_dir) as tmp:
        t = time.perf_counter()
        _write_gpkg({**layers, **results}, tmp / GPKG_NAME)
        report.to_frame().to_csv(tmp / ISSUES_CSV, index=False, encoding="utf-8-sig")
        if results:
            _write_excel(results, tmp / XLSX_NAME)
        timings["write"] = time.perf_counter() - t
        _write_run_json(tmp / RUN_JSON, scenario, result, started=started)
        _write_views(scenario, result, tmp, timings)
        timings["total"] = time.perf_counter() - t0
        _write_run_json(tmp / RUN_JSON, scenario, result, started=started)
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


def _write_run_json(path: Path, scenario: Scenario, result: RunResult, *, started: str) -> None:
    sha256 = functools.cache(_sha256)  # a GeoPackage often holds several layers: hash it once
    inputs: list[dict[str, Any]] = []
    for kind, source in scenario.layers.items():
        inputs.extend(
            {
                "kind": kind,
                "path": str(f),
                "layer": source.layer,
                "datum": scenario.layer_datum(kind),
                "sha256": sha256(f),
                "bytes": f.stat().st_size,
                "rows": len(result.layers.get(kind, ())),
            }
            for f in _input_files(source.path)
        )
    standards = scenario.standards or Path(str(files("gisplan") / "data" / _PACKAGED_STANDARD))
    inputs.append({"kind": "standards", "path": str(standards), "sha256": _sha256(standards)})
    record = {
        "gisplan_version": __version__,
        "started_utc": started,
        "scenario": {
            "file": str(scenario.source) if scenario.source else None,
            "sha256": _sha256(scenario.source) if scenario.source else None,
            "parameters": scenario.model_dump(mode="json"),
        },
        "inputs": inputs,
        "crs": {
            "metric": result.crs.to_string(),
            "name": result.crs.name,
            "chosen": scenario.metric_crs,
        },
        "steps": ["layers", *_step_names(scenario)],
        "layers": {kind: len(gdf) for kind, gdf in result.layers.items()},
        "outputs": {
            f.relative_to(path.parent).as_posix(): _sha256(f)
            for f in sorted(path.parent.rglob("*"))
            if f.is_file() and f != path
        },
        "issues": {"errors": len(result.report.errors), "warnings": len(result.report.warnings)},
        "versions": _versions(),
        "timings_s": {k: round(v, 3) for k, v in result.timings_s.items()},
    }
    path.write_text(json.dumps(record, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
