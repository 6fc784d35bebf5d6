"""Command line: ``gisplan run | validate | map | publish | init``.

Thin by design: parse arguments, configure logging, call the library, and turn a
:class:`~gisplan.errors.GisplanError` into a short message and exit code 2 (traceback
only with ``--debug``). ``gisplan validate`` exits 1 when a fatal problem is found.
"""

from __future__ import annotations

import logging
import sys
import time
from collections import defaultdict
from pathlib import Path  # noqa: TC003 - typer reads annotations at run time
from typing import TYPE_CHECKING, Annotated, Any

import typer

from gisplan._text import display_width
from gisplan._version import __version__
from gisplan.errors import GisplanError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["app", "main"]

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    help="gisplan — 城镇老旧小区改造规划 (renovation planning for old residential communities).",
)

_state = {"debug": False}

EXIT_INVALID = 1
EXIT_ERROR = 2


def _version(value: bool) -> None:
    if value:
        typer.echo(f"gisplan {__version__}")
        raise typer.Exit


@app.callback()
def _main(
    verbose: Annotated[
        int, typer.Option("--verbose", "-v", count=True, help="More log output (-vv: debug).")
    ] = 0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only errors.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """Configure logging for the whole command (the only place gisplan does so)."""
    del version
    _state["debug"] = debug
    level = logging.WARNING
    if quiet:
        level = logging.ERROR
    elif verbose == 1:
        level = logging.INFO
    elif verbose >= 2 or debug:  # noqa: PLR2004 - -vv
        level = logging.DEBUG
    handler = logging.StreamHandler()
    handler.setLevel(level)  # the run log may lower gisplan's logger level; the terminal stays
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    logging.captureWarnings(capture=True)


@app.command()
def run(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file.")],
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Output folder (default outputs/<name>/).")
    ] = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace an existing output folder gisplan wrote.")
    ] = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="With --overwrite: replace it even if it holds files its run.json does not list.",
        ),
    ] = False,
    progress: Annotated[
        bool, typer.Option("--progress/--no-progress", help="Show progress bars.")
    ] = True,
) -> None:
    """Run a scenario and write its outputs (GeoPackage, run.json, log)."""
    from gisplan.runner import run_scenario  # noqa: PLC0415 - keeps --help fast

    t0 = time.perf_counter()
    result = run_scenario(scenario, out=out, overwrite=overwrite, force=force, progress=progress)
    name, title = result.parameters.get("name"), result.parameters.get("title")
    typer.echo(f"方案 scenario: {name}  ({title or ''})".rstrip())
    typer.echo(f"坐标系 metric CRS: {result.crs.to_string()} — {result.crs.name}")
    for kind, gdf in result.layers.items():
        typer.echo(f"  {kind:<12} {len(gdf):>6} rows")
    if "coverage" in result.results:
        _echo_coverage(result.results["coverage"])
    if "siting_coverage" in result.results:
        _echo_siting(result.results["sites_chosen"], result.results["siting_coverage"])
    if "eligibility" in result.results:
        counts = result.results["eligibility"]["status_zh"].value_counts(sort=False)
        typer.echo("改造资格 eligibility: " + "，".join(f"{k} {v}" for k, v in counts.items()))
    if "scheme_costs" in result.results:
        costs = result.results["scheme_costs"]
        total = float(costs["cost_wan_yuan"].sum())
        line = f"改造方案 schemes: {len(costs)} 个小区，估算总投资 {total:,.2f} 万元"
        if "n_verify" in costs.columns:
            empty = int((costs["n_items"] == 0).sum())
            line += (
                f"；待核实内容 {int(costs['n_verify'].sum())} 项"
                f"（估算 {float(costs['verify_wan_yuan'].sum()):,.2f} 万元，未计入）"
                + (f"，{empty} 个小区尚无确定内容" if empty else "")
            )
        typer.echo(line)
    if "financing_totals" in result.results:
        _echo_financing(result.results["financing_totals"], result.results["bundles"])
    if "funding_modes" in result.results:
        _echo_funding(
            result.results["funding_modes"],
            result.results.get("debt_check"),
            result.results.get("funding_summary"),
        )
    if "plan_info" in result.results:
        info = dict(result.results["plan_info"].to_numpy().tolist())
        _echo_plan(info, result.results.get("targets"))
    _echo_documents(result.results.get("publicity"), result.out_dir)
    typer.echo(f"警告 warnings: {len(result.report.warnings)} (see validation_issues.csv)")
    typer.echo(f"输出 outputs: {result.out_dir}  ({time.perf_counter() - t0:.1f} s)")


def _echo_documents(publicity: pd.DataFrame | None, out_dir: Path | None) -> None:
    """Print the 公示 dates and name the documents a bureau hands in, when the run has them."""
    if publicity is not None and len(publicity):
        first = publicity.iloc[0]
        typer.echo(
            f"公示 publicity: {first['publicity_start']} 至 {first['publicity_end']}"
            f"（{int(first['working_days'])}个工作日；进度节点见 实施进度安排）"
        )
    if out_dir is None:
        return
    from gisplan.outputs import FIGURES_DIR, OFFICIAL_NAME  # noqa: PLC0415
    from gisplan.plan_document import DOCX_NAME  # noqa: PLC0415
    from gisplan.register import REGISTER_NAME  # noqa: PLC0415

    names = [n for n in (OFFICIAL_NAME, DOCX_NAME, REGISTER_NAME) if (out_dir / n).is_file()]
    figures = sorted((out_dir / FIGURES_DIR).glob("*.png"))
    if names or figures:
        shown = "、".join([*names, f"{FIGURES_DIR}/（{len(figures)} 张图）"])
        typer.echo(f"报送材料 documents: {shown}")


def _pct(value: object) -> str:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "–"
    return "–" if number != number else f"{number:6.1%}"  # noqa: PLR0124 - NaN check


def _pad(text: str, width: int, *, right: bool = False) -> str:
    """Pad to a terminal width, counting CJK characters as two columns."""
    fill = " " * max(width - display_width(text), 0)
    return fill + text if right else text + fill


def _echo_coverage(coverage: pd.DataFrame) -> None:
    """Print the per-type coverage summary: share of communities, households, residents."""
    typer.echo("15分钟生活圈覆盖 life-circle coverage (share within the standard distance):")
    head = ["半径 m", "小区", "户数", "人口"]
    typer.echo("  " + _pad("设施类型 type", 44) + "".join(_pad(h, 9, right=True) for h in head))
    for row in coverage.itertuples(index=False):
        cells = [
            f"{row.radius_m:.0f}",
            _pct(row.share_communities),
            _pct(row.share_households),
            _pct(row.share_population),
        ]
        label = f"{row.type_zh} {row.type}"
        typer.echo("  " + _pad(label, 44) + "".join(_pad(c.strip(), 9, right=True) for c in cells))


def _echo_financing(totals: pd.DataFrame, bundles: pd.DataFrame) -> None:
    """Print the communities and money per financing mode, and the bundles' balance."""
    typer.echo(
        f"片区统筹 bundles: {len(bundles)} 个大片区项目，"
        f"项目收益减成本合计 {bundles['balance_wan_yuan'].to_numpy(float).sum():,.2f} 万元"
        "（每个片区均平衡）"
        if len(bundles)
        else "片区统筹 bundles: 没有能平衡的大片区组合（见 bundles_info）"
    )
    columns = ["mode_zh", "communities", "need_wan_yuan", "covered_wan_yuan"]
    for mode_zh, count, need, covered in totals[columns].itertuples(index=False):
        typer.echo(
            f"  {_pad(str(mode_zh), 24)}{count:>5} 个小区  "
            f"需筹 {need:>12,.2f} 万元  安排 {covered:>12,.2f} 万元"
        )


def _echo_funding(
    modes: pd.DataFrame, debt: pd.DataFrame | None, summary: pd.DataFrame | None = None
) -> None:
    """Print the modes, the money committed, assumed and missing, pools short, debt tests."""
    counts = modes["mode_zh"].value_counts(sort=False)
    committed = float(modes["committed_wan_yuan"].sum())
    assumed = float(modes["assumed_wan_yuan"].sum())
    gap = float(modes["shortfall_wan_yuan"].sum())
    typer.echo(
        "资金 funding: "
        + "，".join(f"{k} {v}" for k, v in counts.items())
        + f"；已落实 {committed:,.2f} 万元，测算 {assumed:,.2f} 万元，资金缺口合计 {gap:,.2f} 万元"
    )
    if summary is not None and "pool_wan_yuan" in summary.columns:
        short = summary[summary["pool_drawn_wan_yuan"] > summary["pool_wan_yuan"].fillna(0.0)]
        for row in short.fillna({"pool_wan_yuan": 0.0}).itertuples(index=False):
            typer.echo(
                f"  资金池 {row.source_zh}: 各小区按规则分摊 {float(row.pool_drawn_wan_yuan):,.2f}"
                f" 万元，资金池已落实 {float(row.pool_wan_yuan):,.2f} 万元"
                "（年度计划按年安排，其余顺延）"
            )
    if debt is not None and len(debt):
        refused = debt.loc[~debt["passed"].astype(bool), "unit_id"].astype(str).tolist()
        typer.echo(
            f"  债务测试 debt check: {len(debt)} 项，"
            + (f"否决 {len(refused)} 项（{'、'.join(refused)}）" if refused else "全部通过")
        )


def _echo_plan(info: dict[str, Any], targets: pd.DataFrame | None) -> None:
    """Print the plan year's line, the money of each pool, the binding limits, the targets."""
    from gisplan.vocabulary import labels  # noqa: PLC0415 - keeps --help fast

    used = float(info["budget_used_wan_yuan"])
    budget = str(info.get("budget_wan_yuan", "None"))
    money = f"{used:,.2f} / {float(budget):,.2f}" if budget != "None" else f"{used:,.2f}"
    typer.echo(
        f"年度计划 plan {info['plan_year']}: {info['chosen']} 个小区，"
        f"公共资金 {money} 万元 "
        f"({info['status']}, MIP gap {info['mip_gap']})"
    )
    labels_zh = labels("funding_source")
    for key, available in info.items():
        if key.startswith("pool_") and key.endswith("_available_wan_yuan"):
            source = key.removeprefix("pool_").removesuffix("_available_wan_yuan")
            pool_used = float(info[f"pool_{source}_used_wan_yuan"])
            typer.echo(
                f"  资金池 {labels_zh.get(source, source)}: 已用 {pool_used:,.2f} / "
                f"可用 {float(available):,.2f} 万元"
            )
    if binding := str(info.get("binding", "")):
        typer.echo(f"  用尽的限额 binding: {binding}")
    if limiting := str(info.get("limiting", "")):
        typer.echo(f"  因限额未选入 limiting: {limiting}")
    if targets is not None:
        _echo_targets(targets)


def _echo_targets(targets: pd.DataFrame) -> None:
    """Print each target: met or not, and what is missing."""
    typer.echo("改造目标 targets:")
    for row in targets.itertuples(index=False):
        verdict = "达成" if str(row.met) in {"True", "true", "1"} else "未达成"
        typer.echo(f"  [{verdict}] {row.description_zh}：{row.missing_zh}")


def _echo_siting(chosen: pd.DataFrame, coverage: pd.DataFrame) -> None:
    """Print the siting proposal: sites, cost, and residents covered before → after per type."""
    cost = float(chosen["cost_wan_yuan"].sum())
    typer.echo(
        f"设施补短板 siting: {chosen['site_id'].nunique()} 处用地，新增设施 {len(chosen)} 个，"
        f"费用 {cost:,.2f} 万元；人口覆盖率 before → after:"
    )
    for row in coverage.itertuples(index=False):
        label = f"{row.type_zh} {row.type}"
        change = f"{_pct(row.share_before).strip()} → {_pct(row.share_after).strip()}"
        typer.echo(f"  {_pad(label, 44)}{change:>17}  +{row.added} 个小区")


@app.command()
def validate(scenario: Annotated[Path, typer.Argument(help="Scenario YAML file.")]) -> None:
    """Check a scenario and all its layers; print every problem at once."""
    from gisplan.runner import validate_scenario  # noqa: PLC0415

    report = validate_scenario(scenario)
    by_layer = defaultdict(list)
    for issue in report:
        by_layer[issue.layer].append(issue)
    for layer, issues in by_layer.items():
        typer.echo(f"{layer}:")
        for issue in issues:
            where = " · ".join(p for p in (issue.row, issue.column) if p)
            where = f"{where}: " if where else ""
            typer.echo(f"  [{issue.severity}] {where}{issue.problem}\n      → {issue.fix}")
    verdict = "OK" if report.ok else "FAILED"
    typer.echo(f"{verdict}: {len(report.errors)} error(s), {len(report.warnings)} warning(s)")
    if not report.ok:
        raise typer.Exit(EXIT_INVALID)


def _run_section(out_dir: Path, key: str) -> dict[str, Any]:
    """Return the scenario section ``key`` recorded by a finished run (``{}`` if it had none)."""
    from gisplan.outputs import read_run  # noqa: PLC0415

    return read_run(out_dir).section(key)


def _given(**values: object) -> dict[str, object]:
    return {k: v for k, v in values.items() if v is not None}


@app.command("map")
def map_(
    output_dir: Annotated[Path, typer.Argument(help="Output folder of a finished run.")],
    theme: Annotated[
        list[str] | None,
        typer.Option(
            "--theme",
            "-t",
            help="Theme to draw (repeatable): overview, eligibility, gaps, funding, plan, "
            "bundles, sites. Default: the run's maps section, else all.",
        ),
    ] = None,
    basemap: Annotated[
        str | None,
        typer.Option(help="osm, tianditu, tianditu_img, gaode, gaode_img or none."),
    ] = None,
    offline: Annotated[
        bool | None,
        typer.Option("--offline/--online", help="Embed scripts and styles (default offline)."),
    ] = None,
) -> None:
    """Redraw the interactive maps of a finished run into OUTPUT_DIR/maps/."""
    from gisplan.maps import redraw  # noqa: PLC0415
    from gisplan.scenario import section_from_dict  # noqa: PLC0415

    values = {**_run_section(output_dir, "maps"), **_given(basemap=basemap, offline=offline)}
    if theme:
        values["themes"] = theme
    options = section_from_dict("maps", values).options()
    for path in redraw(output_dir, options):
        typer.echo(f"  {path}")


@app.command()
def publish(
    output_dir: Annotated[Path, typer.Argument(help="Output folder of a finished run.")],
    to: Annotated[Path, typer.Option("--to", help="Folder to write the site to.")],
    *,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace an existing site gisplan wrote.")
    ] = False,
    title: Annotated[str | None, typer.Option(help="Site title.")] = None,
    contact_address: Annotated[
        str | None, typer.Option(help="Where to hand in written comments.")
    ] = None,
    contact_phone: Annotated[str | None, typer.Option(help="Telephone for comments.")] = None,
    contact_email: Annotated[str | None, typer.Option(help="E-mail for comments.")] = None,
    basemap: Annotated[str | None, typer.Option(help="none or osm.")] = None,
    communities: Annotated[
        str | None, typer.Option(help="plan (default) or schemed: which communities get a page.")
    ] = None,
) -> None:
    """Write the public-consultation site (公示) of a finished run: search, one page per community.

    Options not given come from the run's publish section, if it had one.
    """
    from gisplan.publish import publish as write_site  # noqa: PLC0415
    from gisplan.scenario import section_from_dict  # noqa: PLC0415

    given = _given(
        title=title,
        contact_address=contact_address,
        contact_phone=contact_phone,
        contact_email=contact_email,
        basemap=basemap,
        communities=communities,
    )
    options = section_from_dict(
        "publish", {**_run_section(output_dir, "publish"), **given}
    ).options()
    site = write_site(output_dir, to, options=options, overwrite=overwrite)
    typer.echo(f"公示网站 site: {site / 'index.html'}")


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="Folder to create the templates in.")],
    *,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace an existing non-empty folder.")
    ] = False,
    from_osm: Annotated[
        Path | None,
        typer.Option(
            "--from-osm",
            help="An .osm/.osm.pbf file: write a ready scenario with households estimated (估算).",
        ),
    ] = None,
    default_levels: Annotated[
        int, typer.Option(help="With --from-osm: levels of a building without building:levels.")
    ] = 6,
    area_per_household: Annotated[
        float, typer.Option(help="With --from-osm: floor area per household (m²).")
    ] = 90.0,
    persons_per_household: Annotated[
        float, typer.Option(help="With --from-osm: persons per household.")
    ] = 2.62,
    from_poi: Annotated[
        Path | None,
        typer.Option(
            "--from-poi",
            help="A Gaode/Baidu/Tencent POI export (CSV/Excel): facilities from it; "
            "communities and network from --from-osm, or yours to supply.",
        ),
    ] = None,
    provider: Annotated[
        str, typer.Option(help="With --from-poi: gaode (GCJ-02), baidu (BD-09) or tencent.")
    ] = "gaode",
) -> None:
    """Write a commented scenario and survey templates (Excel, GeoPackage) to fill in.

    With --from-osm, write a ready scenario from an OpenStreetMap file instead: communities
    with households and residents ESTIMATED from building footprints x levels (marked 估算),
    and a workbook to replace the estimates with the survey's figures.

    With --from-poi, write facilities.gpkg from a map provider's POI export (converted to
    WGS84, typed by gisplan/data/poi_typecodes.csv) and the templates for the communities
    and the walking network, which a POI export does not hold. With both --from-osm and
    --from-poi, communities and the network come from the OSM file and the facilities
    from the POI export: a ready scenario.
    """
    if from_poi is not None and from_osm is None:
        _init_poi(directory, from_poi, provider, overwrite=overwrite)
        return
    if from_osm is not None:
        from gisplan.estimate import EstimateAssumptions  # noqa: PLC0415
        from gisplan.templates import write_osm_scenario  # noqa: PLC0415

        if from_poi is not None:
            _check_provider(provider)
        rules = EstimateAssumptions(
            default_levels=default_levels,
            floor_area_per_household_m2=area_per_household,
            persons_per_household=persons_per_household,
        )
        for path in write_osm_scenario(
            directory,
            from_osm,
            assumptions=rules,
            poi_path=from_poi,
            provider=provider,  # type: ignore[arg-type]
            overwrite=overwrite,
        ):
            typer.echo(f"  {path}")
        if from_poi is not None:
            typer.echo(f"设施来自 POI（{from_poi.name} → WGS84），小区和步行路网来自 OSM；")
        typer.echo(f"户数、人口为估算（{rules.text_zh()}），不是调查数据；")
        typer.echo(f"Run it: gisplan run {directory / 'scenario.yaml'}")
        return
    from gisplan.templates import write_templates  # noqa: PLC0415

    for path in write_templates(directory, overwrite=overwrite):
        typer.echo(f"  {path}")
    typer.echo(f"Fill in the templates, then: gisplan validate {directory / 'scenario.yaml'}")


def _check_provider(provider: str) -> None:
    from gisplan.errors import LayerError  # noqa: PLC0415
    from gisplan.poi import PROVIDERS  # noqa: PLC0415

    if provider not in PROVIDERS:
        raise LayerError(f"--provider {provider!r} unknown; use one of {', '.join(PROVIDERS)}")


def _init_poi(directory: Path, poi: Path, provider: str, *, overwrite: bool) -> None:
    from gisplan.poi import PROVIDERS  # noqa: PLC0415
    from gisplan.templates import write_poi_scenario  # noqa: PLC0415

    _check_provider(provider)
    for path in write_poi_scenario(directory, poi, provider=provider, overwrite=overwrite):  # type: ignore[arg-type]
        typer.echo(f"  {path}")
    typer.echo(f"设施来自 POI（{PROVIDERS[provider]} → WGS84）；小区和步行路网须自行提供：")
    typer.echo("  communities and the walking network are NOT in a POI export — fill in")
    typer.echo(f"  {directory / 'survey_template.xlsx'} (sheet 小区) and draw the network in")
    typer.echo(
        f"  {directory / 'layers_template.gpkg'}, then: gisplan validate "
        f"{directory / 'scenario.yaml'}"
    )


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``gisplan`` console script."""
    try:
        app(args=argv, prog_name="gisplan")
    except GisplanError as err:
        if _state["debug"]:
            raise
        typer.echo(f"错误 error: {err}", err=True)
        sys.exit(EXIT_ERROR)
