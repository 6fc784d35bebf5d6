"""Static public-consultation site (公示网站) for the communities of a finished run.

:func:`publish` reads the output folder of :func:`gisplan.runner.run_scenario` (``run.json``
and ``results.gpkg``) and writes a static site that residents open on a phone, from a plain
file server or straight from disk, and that prints on A4 (一小区一方案):

* ``index.html`` — an overview map of the communities, a search box (substring search on
  community names, Chinese included, in plain JavaScript without a server), the list of
  communities with links, the publicity period (公示期) and how to send comments;
* ``c/<community_id>.html`` — one page per community: name, street, built year, households;
  the scheme items by class (基础类/完善类/提升类) with their cost, the total in 万元,
  funding by source, the financing mode, its own map, the publicity period (start, end,
  working days) and where to send comments;
* ``assets/`` — Leaflet and the site's CSS and JavaScript, relative to the pages, so that no
  request leaves the page (``offline=True``); only basemap tiles, if chosen, need a network;
* ``site.json`` — the manifest (source run, options, SHA-256 of every file) that marks the
  folder as a gisplan site, so that ``overwrite=True`` never replaces anything else.

Every text taken from the data is HTML-escaped (templates render with autoescaping and map
labels are set as text, never as HTML). The same run and options give byte-identical files.
The site is written to a temporary folder beside the target and renamed into place, so a
failure never leaves a half-written site.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import math
import posixpath
import re
import unicodedata
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any

import shapely
from jinja2 import Environment, FunctionLoader, StrictUndefined
from markupsafe import Markup

from gisplan._atomic import atomic_dir, check_replaceable, file_sha256
from gisplan._text import is_blank
from gisplan._version import __version__
from gisplan.assets import FETCH_HINT, AssetError, load_manifest, vendor_dir
from gisplan.errors import CRSError, LayerError, OutputError, ScenarioError, SchemaError
from gisplan.outputs import GPKG_NAME, RUN_JSON, RunResult, read_run, run_record_sha256
from gisplan.vocabulary import labels

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    import geopandas as gpd
    import pandas as pd

__all__ = ["BASEMAPS", "COMMUNITY_SETS", "PAYER_ZH", "SITE_JSON", "PublishOptions", "publish"]

logger = logging.getLogger(__name__)

#: Name of the manifest that marks a folder as a gisplan site.
SITE_JSON = "site.json"

#: Basemaps a site can show under its polygons: ``"none"`` (no tiles, fully offline) or
#: ``"osm"`` (OpenStreetMap tiles, loaded from the network when there is one).
BASEMAPS: tuple[str, ...] = ("none", "osm")

#: Which communities get a page: ``"plan"`` — the ones selected in the annual plan (the
#: communities publicised this year); ``"schemed"`` — every community with a costed scheme.
COMMUNITY_SETS: tuple[str, ...] = ("plan", "schemed")

#: Chinese name of the payer of a scheme item (``schemes.payer``).
PAYER_ZH: Mapping[str, str] = labels("payer")
_CLASSES_ZH = labels("scheme_class")
_SOURCES_ZH = labels("funding_source")
_MODE_ZH = labels("financing_mode")
_STATUS_ZH = labels("funding_status")

_SITE_KIND = "城镇老旧小区改造方案公示"
_GENERATOR = "gisplan publish"
_PAGES_DIR = "c"
_ASSETS_DIR = "assets"
_SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
_WINDOWS_RESERVED = frozenset(
    {"con", "prn", "aux", "nul"} | {f"{p}{i}" for p in ("com", "lpt") for i in range(1, 10)}
)
_SYNTHETIC_MARKERS = ("合成数据", "synthetic")
_WEEKDAYS_ZH = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")
_COORD_DECIMALS = 6  # ~0.1 m: polygons stay valid, size stays small
_EMAIL = re.compile(r"[^@\s<>\"']+@[^@\s<>\"']+\.[^@\s<>\"']+")
_SITE_FILES = ("site.css", "site.js")
_TEMPLATES = ("base.html", "index.html", "community.html", "contact.html")


@dataclass(frozen=True, kw_only=True, slots=True)
class PublishOptions:
    """What the consultation site shows.

    Parameters
    ----------
    title
        Site title; default: the scenario's ``title`` in ``run.json`` (else its ``name``).
    contact_address
        Where to hand in or post written comments (e.g. 城关街道办事处 2 楼 201 室).
    contact_phone
        Telephone number for comments.
    contact_email
        E-mail address for comments (shown as a ``mailto:`` link).
    basemap
        ``"none"`` (default: polygons on a plain background, nothing loaded from a network)
        or ``"osm"`` (OpenStreetMap tiles under the polygons, when online).
    offline
        ``True`` (default): Leaflet is written to ``assets/`` beside the pages, so the site
        works with no network; ``False``: the pages load Leaflet from its pinned CDN address.
    communities
        ``"plan"`` (default): a page for every community selected in the run's annual plan;
        ``"schemed"``: a page for every community with a costed scheme.
    synthetic
        Label every page as built from synthetic data; ``None`` (default) decides from the
        run: its title, name or description mentions 合成数据 or "synthetic".

    Raises
    ------
    ScenarioError
        If a field has the wrong type or an unknown value (every problem listed).

    Examples
    --------
    >>> PublishOptions(basemap="osm", contact_phone="0539-1234567").communities
    'plan'
    """

    title: str | None = None
    contact_address: str = ""
    contact_phone: str = ""
    contact_email: str = ""
    basemap: str = "none"
    offline: bool = True
    communities: str = "plan"
    synthetic: bool | None = None

    def __post_init__(self) -> None:
        """Check every field; raise one :class:`ScenarioError` listing all problems."""
        problems: list[tuple[str, str, str]] = []
        title: object = self.title
        if title is not None and (not isinstance(title, str) or not title.strip()):
            problems.append(("title", f"{title!r} is not a non-empty text", "write a title"))
        for name in ("contact_address", "contact_phone", "contact_email"):
            value: object = getattr(self, name)
            if not isinstance(value, str):
                problems.append((name, f"{value!r} is not text", "write it in quotes"))
        email: object = self.contact_email
        if isinstance(email, str) and email.strip() and not _EMAIL.fullmatch(email.strip()):
            problems.append(
                ("contact_email", f"{email!r} is not an e-mail address", "write e.g. a@b.cn")
            )
        if self.basemap not in BASEMAPS:
            problems.append(
                ("basemap", f"{self.basemap!r} is not known", f"write one of {', '.join(BASEMAPS)}")
            )
        if self.communities not in COMMUNITY_SETS:
            problems.append(
                (
                    "communities",
                    f"{self.communities!r} is not known",
                    f"write one of {', '.join(COMMUNITY_SETS)}",
                )
            )
        for name in ("offline", "synthetic"):
            flag: object = getattr(self, name)
            if not (isinstance(flag, bool) or (name == "synthetic" and flag is None)):
                problems.append((name, f"{flag!r} is not true/false", "write true or false"))
        ScenarioError.check("PublishOptions", "publish", problems)


_DEFAULT_OPTIONS = PublishOptions()


# --------------------------------------------------------------------------- reading a run


@dataclass(frozen=True, slots=True)
class _Run:
    """The tables of a finished run that the site shows."""

    folder: Path
    parameters: dict[str, Any]
    run_sha256: str
    results_sha256: str
    communities: gpd.GeoDataFrame
    schemes: pd.DataFrame
    scheme_costs: pd.DataFrame
    funding: pd.DataFrame | None
    modes: pd.DataFrame | None
    plan: pd.DataFrame | None
    plan_year: int | None
    publicity: pd.DataFrame | None


_REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "communities": ("community_id", "name"),
    "schemes": ("community_id", "item", "class", "name_zh", "quantity", "unit", "cost_yuan"),
    "scheme_costs": ("community_id", "cost_yuan"),
    "funding": ("community_id", "source", "amount_yuan"),
    "funding_modes": ("community_id", "mode"),
    "plan": ("community_id", "selected"),
    "publicity": ("community_id", "publicity_start", "publicity_end", "working_days"),
}


_SCHEME_TABLES = ("schemes", "scheme_costs")
_PLAN_TABLES = ("plan", "publicity")
_OPTIONAL_TABLES = ("funding", "funding_modes", *_PLAN_TABLES)


def _read_table(run: RunResult, gpkg: Path, layer: str, *, why: str) -> pd.DataFrame:
    if layer not in run.results:
        raise LayerError(
            f"{gpkg}: table '{layer}' missing ({why}); run the scenario with that step "
            "(gisplan run SCENARIO --out FOLDER --overwrite) and publish its output folder"
        )
    frame = run.results[layer]
    _require_columns(gpkg, layer, frame)
    return frame


def _require_columns(gpkg: Path, layer: str, frame: pd.DataFrame) -> None:
    missing = [c for c in _REQUIRED_COLUMNS[layer] if c not in frame.columns]
    if missing:
        raise SchemaError(
            f"{gpkg}: table '{layer}' lacks column(s) {', '.join(map(repr, missing))}; it was "
            "not written by this gisplan version: re-run the scenario to refresh the outputs"
        )


def _read_run(out_dir: Path, options: PublishOptions) -> _Run:
    run = read_run(out_dir)
    gpkg = out_dir / GPKG_NAME
    if "communities" not in run.layers:
        raise LayerError(
            f"{gpkg}: layer 'communities' missing; publish the output folder of a gisplan run"
        )
    communities: gpd.GeoDataFrame = run.layers["communities"]
    _require_columns(gpkg, "communities", communities)
    why = "the scenario has no schemes: step"
    tables = {name: _read_table(run, gpkg, name, why=why) for name in _SCHEME_TABLES}
    why = "the scenario has no plan: step; add one, or publish with communities='schemed'"
    for name in _OPTIONAL_TABLES:
        needed = options.communities == "plan" and name in _PLAN_TABLES
        if needed or name in run.results:
            tables[name] = _read_table(run, gpkg, name, why=why)
    return _Run(
        folder=out_dir,
        parameters=dict(run.parameters),
        run_sha256=run_record_sha256(out_dir / RUN_JSON),  # without its clock: reproducible
        results_sha256=file_sha256(gpkg),
        communities=communities,
        schemes=tables["schemes"],
        scheme_costs=tables["scheme_costs"],
        funding=tables.get("funding"),
        modes=tables.get("funding_modes"),
        plan=tables.get("plan"),
        plan_year=_plan_year(run),
        publicity=tables.get("publicity"),
    )


def _plan_year(run: RunResult) -> int | None:
    if "plan_info" in run.results:
        info = run.results["plan_info"]
        if {"key", "value"} <= set(info.columns):
            values = info.loc[info["key"] == "plan_year", "value"].tolist()
            if values and str(values[0]).strip().isdigit():
                return int(str(values[0]).strip())
    eligibility = run.parameters.get("eligibility")
    if isinstance(eligibility, dict) and isinstance(eligibility.get("plan_year"), int):
        return int(eligibility["plan_year"])
    return None


# --------------------------------------------------------------------------- formatting


def _text(value: object) -> str:
    """Return a cell as display text: blank/NaN give ``""``, everything else ``str``."""
    if is_blank(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _money(value: float) -> str:
    """Format an amount in 万元 with two decimals and thousands separators."""
    return f"{value:,.2f}"


def _number(value: object, unit: str = "") -> str:
    if is_blank(value) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return "—"
    text = f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{text} {unit}".strip()


def _date_zh(iso: str) -> str:
    day = dt.date.fromisoformat(iso)
    return f"{day.year}年{day.month}月{day.day}日（{_WEEKDAYS_ZH[day.weekday()]}）"


def _period_zh(start: str, end: str, working_days: int, calendar_days: int | None) -> str:
    span = f"，共 {calendar_days} 天" if calendar_days else ""
    return f"{_date_zh(start)} 至 {_date_zh(end)}（{working_days} 个工作日{span}）"


def _search_key(*parts: str) -> str:
    """Return the text the search box matches: NFKC, lower case, no spaces (as site.js)."""
    return "".join(unicodedata.normalize("NFKC", " ".join(parts)).lower().split())


def _script_json(data: object) -> Markup:
    """Return JSON safe inside ``<script type="application/json">`` (no ``</script>``)."""
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)  # noqa: S704 - every < > & is escaped above


def _file_names(ids: Sequence[str]) -> dict[str, str]:
    """Return a page file name per community id, safe on every file system and in a URL.

    Plain ids (``C001``, ``c-12``) keep their name; ids with other characters, Windows device
    names or ids equal up to case get ``c-<first 12 hex of SHA-256>``.
    """
    folded: dict[str, int] = {}
    for cid in ids:
        folded[cid.casefold()] = folded.get(cid.casefold(), 0) + 1
    names: dict[str, str] = {}
    for cid in ids:
        plain = (
            _SAFE_ID.fullmatch(cid)
            and cid.casefold() not in _WINDOWS_RESERVED
            and folded[cid.casefold()] == 1
            and not cid.startswith("c-")
        )
        stem = cid if plain else "c-" + hashlib.sha256(cid.encode("utf-8")).hexdigest()[:12]
        names[cid] = f"{stem}.html"
    return names


def _is_synthetic(parameters: Mapping[str, Any], options: PublishOptions) -> bool:
    if options.synthetic is not None:
        return options.synthetic
    text = " ".join(_text(parameters.get(k)) for k in ("title", "name", "description"))
    return any(m in text.casefold() for m in _SYNTHETIC_MARKERS)


# --------------------------------------------------------------------------- page content


@dataclass(frozen=True, slots=True)
class _Community:
    id: str
    name: str
    file: str
    row: dict[str, Any]
    geometry: shapely.Geometry | None


def _selected_ids(run: _Run, options: PublishOptions) -> list[str]:
    costs_ids = set(run.scheme_costs["community_id"].astype(str))
    if options.communities == "schemed":
        return sorted(costs_ids)
    assert run.plan is not None  # noqa: S101 - _read_run reads the plan for this set
    plan = run.plan
    selected = plan.loc[plan["selected"].astype(bool), "community_id"].astype(str).tolist()
    unschemed = sorted(set(selected) - costs_ids)
    if unschemed:
        raise LayerError(
            f"{run.folder / GPKG_NAME}: plan selects {', '.join(unschemed)} but scheme_costs has "
            "no row for them; the outputs are inconsistent: re-run the scenario"
        )
    return sorted(selected)


def _communities(run: _Run, ids: Sequence[str]) -> list[_Community]:
    frame = run.communities
    frame = frame.assign(community_id=frame["community_id"].astype(str))
    unknown = sorted(set(ids) - set(frame["community_id"]))
    if unknown:
        raise LayerError(
            f"{run.folder / GPKG_NAME}: communities layer has no row for {', '.join(unknown)} "
            "(they have schemes); re-run the scenario"
        )
    if ids and frame.crs is None:
        raise CRSError(
            f"{run.folder / GPKG_NAME}: layer 'communities' has no CRS; re-run the scenario "
            "(gisplan writes its metric CRS)"
        )
    frame = frame[frame["community_id"].isin(ids)].drop_duplicates("community_id")
    if len(frame):
        frame = frame.to_crs(4326)  # a copy: the one reprojection, at the web-map edge
    names = _file_names(list(ids))
    rows = {str(r["community_id"]): r for r in frame.to_dict("records")}
    out = []
    for cid in ids:
        row = rows[cid]
        geom = row.pop("geometry", None)
        name = _text(row.get("name")) or cid
        out.append(_Community(cid, name, names[cid], row, geom))
    return out


def _feature(c: _Community, href: str | None) -> dict[str, Any] | None:
    geom = c.geometry
    if geom is None or shapely.is_empty(geom):
        return None
    rounded = shapely.transform(geom, lambda xy: xy.round(_COORD_DECIMALS))
    return {
        "type": "Feature",
        "properties": {"id": c.id, "name": c.name, "href": href},
        "geometry": json.loads(shapely.to_geojson(rounded)),
    }


def _map_json(features: Iterable[dict[str, Any] | None], options: PublishOptions) -> Markup:
    return _script_json(
        {"basemap": options.basemap, "features": [f for f in features if f is not None]}
    )


def _publicity(run: _Run) -> dict[str, tuple[str, str, int, int | None]]:
    if run.publicity is None:
        return {}
    out: dict[str, tuple[str, str, int, int | None]] = {}
    for r in run.publicity.to_dict("records"):
        start, end = _text(r["publicity_start"]), _text(r["publicity_end"])
        if not start or not end:
            continue
        calendar: object = r.get("calendar_days")
        out[str(r["community_id"])] = (
            start,
            end,
            int(r["working_days"]),
            int(calendar)
            if isinstance(calendar, (int, float)) and not is_blank(calendar)
            else None,
        )
    return out


def _comment(options: PublishOptions, street: str, deadline: str | None) -> dict[str, Any]:
    lines: list[tuple[str, str, str | None]] = []
    if options.contact_address.strip():
        lines.append(("书面意见送达地址", options.contact_address.strip(), None))
    if options.contact_phone.strip():
        phone = options.contact_phone.strip()
        digits = re.sub(r"[^0-9+]", "", phone)
        lines.append(("电话", phone, f"tel:{digits}" if digits else None))
    if options.contact_email.strip():
        email = options.contact_email.strip()
        lines.append(("电子邮箱", email, f"mailto:{email}"))
    until = f"请于 {deadline} 前" if deadline else "请在公示期内"
    lead = f"对改造方案有意见或建议的居民，{until}通过以下方式书面反馈，请注明小区名称。"
    if not lines:
        office = f"{street}办事处" if street and street.endswith("街道") else "所在街道办事处"
        lead = (
            f"对改造方案有意见或建议的居民，{until}向{office}或所在社区居民委员会书面反馈，"
            "请注明小区名称。"
        )
    note = "公示期满后，将根据居民意见完善改造方案，并按程序报批。"
    return {"lead": lead, "lines": lines, "note": note}


def _classes(items: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Group a community's items by class (基础类, 完善类, 提升类, then others by name)."""
    order = {k: i for i, k in enumerate(_CLASSES_ZH)}
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for r in items:
        groups.setdefault(_text(r["class"]), []).append(r)
    out = []
    for key in sorted(groups, key=lambda k: (order.get(k, len(order)), k)):
        rows = []
        costs = []
        for r in sorted(groups[key], key=lambda r: _sort_number(r["item"])):
            cost = r["cost_yuan"]
            priced = not is_blank(cost)
            costs.append(float(cost) if priced else 0.0)
            rows.append(
                {
                    "no": _text(r["item"]),
                    "name": _text(r["name_zh"]),
                    "quantity": _number(r["quantity"], _text(r["unit"])) if priced else "待核实",
                    "cost_wan": _money(float(cost) / 1e4) if priced else "待核实",
                    "payer": PAYER_ZH.get(_text(r.get("payer")), _text(r.get("payer"))),
                }
            )
        out.append(
            {
                "key": key,
                "label": _CLASSES_ZH.get(key, key),
                "rows": rows,
                "subtotal_wan": _money(math.fsum(costs) / 1e4),
            }
        )
    return out


def _sort_number(value: object) -> tuple[float, str]:
    """Sort key of an item number: numerically when it is one, else by its text."""
    if isinstance(value, (int, float)) and not is_blank(value):
        return (float(value), "")
    return (math.inf, _text(value))


def _funding(
    rows: Sequence[Mapping[str, Any]] | None, cost_yuan: float
) -> tuple[list[dict[str, Any]], str]:
    if rows is None:
        return [], ""
    order = {k: i for i, k in enumerate(_SOURCES_ZH)}
    statuses = {k: i for i, k in enumerate(_STATUS_ZH)}
    out = []
    amounts = []
    for r in sorted(
        rows,
        key=lambda r: (
            order.get(_text(r["source"]), len(order)),
            statuses.get(_text(r.get("funding_status")), len(statuses)),
            _text(r["source"]),
        ),
    ):
        amount = 0.0 if is_blank(r["amount_yuan"]) else float(r["amount_yuan"])
        if round(amount, 2) == 0:
            continue
        amounts.append(amount)
        source = _text(r["source"])
        status = _text(r.get("funding_status"))
        label = _SOURCES_ZH.get(source) or _text(r.get("source_zh")) or source
        if source == "shortfall":
            label = f"{label}（待落实）"
        out.append(
            {
                "label": label,
                "status": "" if status in ("", "gap") else _STATUS_ZH.get(status, status),
                "amount_wan": _money(amount / 1e4),
                "share": f"{amount / cost_yuan:.1%}" if cost_yuan > 0 else "—",
                "shortfall": source == "shortfall",
            }
        )
    return out, _money(math.fsum(amounts) / 1e4)


def _mode(rows: Sequence[Mapping[str, Any]]) -> str:
    if not rows:
        return ""
    mode = _text(rows[0]["mode"])
    text = _MODE_ZH.get(mode) or _text(rows[0].get("mode_zh")) or mode
    bundle = _text(rows[0].get("bundle_mode"))
    if bundle:
        text = f"{text}（{_MODE_ZH.get(bundle, bundle)}）"
    return text


def _facts(c: _Community) -> list[tuple[str, str]]:
    row = c.row
    facts = [("小区名称", c.name), ("小区编号", c.id)]
    for column, label, unit in (
        ("street", "所属街道", ""),
        ("address", "地址", ""),
        ("built_year", "建成年份", "年"),
        ("households", "户数", "户"),
        ("buildings", "楼栋数", "栋"),
        ("floor_area_m2", "建筑面积", "m²"),
    ):
        value = row.get(column)
        if is_blank(value):
            continue
        if column == "built_year":
            facts.append((label, f"{_text(value)} 年"))
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            facts.append((label, _number(value, unit)))
        else:
            facts.append((label, _text(value)))
    return facts


def _by_id(frame: pd.DataFrame | None) -> dict[str, list[dict[str, Any]]]:
    """Split a table into its rows per community id (once, not once per page)."""
    out: dict[str, list[dict[str, Any]]] = {}
    if frame is None:
        return out
    for r in frame.to_dict("records"):
        out.setdefault(str(r["community_id"]), []).append({str(k): v for k, v in r.items()})
    return out


def _community_page(
    c: _Community,
    options: PublishOptions,
    period: tuple[str, str, int, int | None] | tuple[()],
    tables: Mapping[str, Mapping[str, list[dict[str, Any]]]],
    *,
    has_funding: bool,
) -> dict[str, Any]:
    cost_yuan = float(tables["scheme_costs"][c.id][0]["cost_yuan"])
    items = tables["schemes"].get(c.id, [])  # a scheme may have no item (all excluded)
    funding_rows = tables["funding"].get(c.id) if has_funding else None
    funding, funding_total = _funding(funding_rows, cost_yuan)
    unpriced = sum(1 for r in items if is_blank(r["cost_yuan"]))
    floor_area = c.row.get("floor_area_m2")
    per_m2 = ""
    if isinstance(floor_area, (int, float)) and not is_blank(floor_area) and floor_area > 0:
        per_m2 = _money(cost_yuan / float(floor_area))
    street = _text(c.row.get("street"))
    deadline = _date_zh(period[1]) if period else None
    return {
        "id": c.id,
        "name": c.name,
        "facts": _facts(c),
        "total_wan": _money(cost_yuan / 1e4),
        "per_m2": per_m2,
        "n_items": len(items),
        "unpriced_note": (
            f"另有 {unpriced} 项工程量待核实，暂未计入估算总投资。" if unpriced else ""
        ),
        "classes": _classes(items),
        "funding": funding,
        "funding_total_wan": funding_total,
        "no_funding": "本次测算未包含资金来源（运行情景时未设置 finance: 部分）。",
        "mode": _mode(tables["funding_modes"].get(c.id, [])),
        "publicity": _period_zh(*period) if period else "",
        "deadline": deadline or "",
        "no_publicity": "该小区未纳入本年度改造计划，本网站仅供了解改造方案，暂不安排公示。",
        "comment": _comment(options, street, deadline),
    }


# --------------------------------------------------------------------------- assets


def _site_file(name: str) -> str:
    return (files("gisplan") / "data" / "site" / name).read_text(encoding="utf-8")


def _environment() -> Environment:
    return Environment(
        loader=FunctionLoader(lambda name: _site_file(name) if name in _TEMPLATES else None),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _leaflet(options: PublishOptions) -> tuple[dict[str, bytes], list[str], list[str]]:
    """Return Leaflet's files for ``assets/`` and its CSS and JS addresses (relative or CDN).

    Offline, the pinned npm files (:mod:`gisplan.assets`) are copied beside the pages: the
    script, the stylesheet with the images it refers to (same relative paths) and the
    licence. Online, the pages link the CDN addresses that the same manifest pins.
    """
    manifest = load_manifest()
    js_files, css_files = manifest.assets["leaflet"]
    if not options.offline:
        cdn = {files[0]: url for url, files in sorted(manifest.urls.items()) if len(files) == 1}
        return {}, [cdn[f] for f in css_files], [cdn[f] for f in js_files]
    package = manifest.package_of(js_files[0])
    root = vendor_dir()
    wanted: dict[str, str] = {}  # name under assets/ -> vendor path
    for vendor_path in (*css_files, *js_files):
        wanted[posixpath.basename(vendor_path)] = vendor_path
    for vendor_path in css_files:
        folder = posixpath.dirname(vendor_path) + "/"
        for f in package.files:
            full = f"{package.directory}/{f}"
            if full.startswith(folder) and full not in css_files and not f.endswith(".js"):
                wanted[full.removeprefix(folder)] = full
    if package.licence_file:
        wanted[f"LICENSE-{package.name}.txt"] = f"{package.directory}/{package.licence_file}"
    absent = sorted(v for v in wanted.values() if not (root / v).is_file())
    if absent:
        raise AssetError(f"{FETCH_HINT} (missing {', '.join(absent)} in {root})")
    files_out = {name: (root / v).read_bytes() for name, v in sorted(wanted.items())}
    css = [posixpath.basename(f) for f in css_files]
    js = [posixpath.basename(f) for f in js_files]
    return files_out, css, js


def _assets(options: PublishOptions) -> tuple[dict[str, bytes], list[str], list[str]]:
    """Return the files under ``assets/`` (name → bytes) and the CSS and JS addresses."""
    assets, css, js = _leaflet(options)
    for name in _SITE_FILES:
        assets[name] = _site_file(name).encode("utf-8")
    return assets, [*css, "site.css"], [*js, "site.js"]


def _href(name: str, root: str) -> str:
    return name if "://" in name else f"{root}{_ASSETS_DIR}/{name}"


def _css_tag(name: str, root: str) -> Markup:
    return Markup('<link rel="stylesheet" href="{}">').format(_href(name, root))


def _js_tag(name: str, root: str) -> Markup:
    return Markup('<script src="{}"></script>').format(_href(name, root))


# --------------------------------------------------------------------------- writing


def _render_site(run: _Run, options: PublishOptions) -> dict[str, bytes]:
    """Return every file of the site (relative POSIX path → bytes), manifest last."""
    env = _environment()
    ids = _selected_ids(run, options)
    comms = _communities(run, ids)
    periods = _publicity(run)
    assets, css, js = _assets(options)
    title = options.title or _text(run.parameters.get("title")) or _text(run.parameters.get("name"))
    year = f"{run.plan_year}年度" if run.plan_year and options.communities == "plan" else ""
    site = {
        "title": title,
        "kind": _SITE_KIND,
        "heading": f"{title}{year}城镇老旧小区改造方案公示",
        "synthetic": _is_synthetic(run.parameters, options),
        "synthetic_note": (
            "示例数据：本网站由合成（虚构）数据生成，仅用于演示软件功能，不是真实的改造方案公示。"
        ),
        "footer": (
            f"本网站由 gisplan {__version__} 根据改造方案测算结果生成（情景 "
            f"{_text(run.parameters.get('name'))}，结果文件 SHA-256 {run.results_sha256[:12]}）。"
            "估算费用以批复的实施方案为准。"
        ),
    }
    map_note = (
        "底图：© OpenStreetMap 贡献者（需联网显示）。"
        if options.basemap == "osm"
        else "图中只显示小区范围，不含底图。"
    )

    def tags(root: str) -> dict[str, list[Markup]]:
        return {
            "css_tags": [_css_tag(name, root) for name in css],
            "js_tags": [_js_tag(name, root) for name in js],
        }

    out: dict[str, bytes] = {}
    index_rows = []
    tables = {
        "schemes": _by_id(run.schemes),
        "scheme_costs": _by_id(run.scheme_costs),
        "funding": _by_id(run.funding),
        "funding_modes": _by_id(run.modes),
    }
    for c in comms:
        href = f"{_PAGES_DIR}/{c.file}"
        page = _community_page(
            c, options, periods.get(c.id, ()), tables, has_funding=run.funding is not None
        )
        html = env.get_template("community.html").render(
            version=__version__,
            page_title=f"{c.name} — {site['heading']}",
            root="../",
            site=site,
            c=page,
            map_note=map_note,
            map_json=_map_json([_feature(c, None)], options),
            **tags("../"),
        )
        out[href] = html.encode("utf-8")
        index_rows.append(
            {
                "id": c.id,
                "name": c.name,
                "href": href,
                "street": _text(c.row.get("street")),
                "households": _number(c.row.get("households")),
                "total_wan": page["total_wan"],
                "search": _search_key(c.name, c.id, _text(c.row.get("street"))),
            }
        )
    index_period = _index_period([periods[c.id] for c in comms if c.id in periods])
    ends = [periods[c.id][1] for c in comms if c.id in periods]
    deadline = _date_zh(max(ends)) if ends else None
    html = env.get_template("index.html").render(
        version=__version__,
        page_title=site["heading"],
        root="",
        site=site,
        summary=_summary(run, comms, options),
        publicity=index_period,
        communities=index_rows,
        empty_note=(
            "本年度改造计划中暂无小区，目前没有需要公示的改造方案。"
            if options.communities == "plan"
            else "本次测算没有形成改造方案的小区。"
        ),
        map_note=map_note,
        map_json=_map_json((_feature(c, f"{_PAGES_DIR}/{c.file}") for c in comms), options),
        comment=_comment(options, "", deadline),
        **tags(""),
    )
    out["index.html"] = html.encode("utf-8")
    for name, data in assets.items():
        out[f"{_ASSETS_DIR}/{name}"] = data
    out[SITE_JSON] = _manifest(run, options, out, ids)
    return out


def _index_period(periods: Sequence[tuple[str, str, int, int | None]]) -> str:
    if not periods:
        return ""
    distinct = sorted(set(periods))
    if len(distinct) == 1:
        return _period_zh(*distinct[0])
    start = min(p[0] for p in periods)
    end = max(p[1] for p in periods)
    return f"{_date_zh(start)} 至 {_date_zh(end)} 之间，各小区公示期不同，见各小区页面"


def _summary(run: _Run, comms: Sequence[_Community], options: PublishOptions) -> str:
    costs = run.scheme_costs.assign(community_id=run.scheme_costs["community_id"].astype(str))
    ids = {c.id for c in comms}
    total = float(costs.loc[costs["community_id"].isin(ids), "cost_yuan"].sum())
    households = sum(
        int(c.row["households"]) for c in comms if not is_blank(c.row.get("households"))
    )
    which = "纳入年度改造计划" if options.communities == "plan" else "形成改造方案"
    return (
        f"本次公示{which}的小区共 {len(comms)} 个，涉及居民 {households:,} 户，"
        f"估算总投资 {_money(total / 1e4)} 万元。"
        "每个小区的改造内容、费用和资金来源见各小区页面（一小区一方案）。"
    )


def _manifest(
    run: _Run, options: PublishOptions, out: Mapping[str, bytes], ids: Sequence[str]
) -> bytes:
    manifest = {
        "generator": _GENERATOR,
        "gisplan_version": __version__,
        "run": {
            "name": run.parameters.get("name"),
            "title": run.parameters.get("title"),
            "run_record_sha256": run.run_sha256,
            "results_sha256": run.results_sha256,
            "plan_year": run.plan_year,
        },
        "options": {
            "title": options.title,
            "contact_address": options.contact_address,
            "contact_phone": options.contact_phone,
            "contact_email": options.contact_email,
            "basemap": options.basemap,
            "offline": options.offline,
            "communities": options.communities,
            "synthetic": options.synthetic,
        },
        "communities": list(ids),
        "files": {k: hashlib.sha256(v).hexdigest() for k, v in sorted(out.items())},
    }
    return (json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode()


def _is_site(folder: Path) -> bool:
    try:
        manifest = json.loads((folder / SITE_JSON).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and manifest.get("generator") == _GENERATOR


def _prepare_to(to: Path, out_dir: Path, *, overwrite: bool) -> None:
    """Refuse a target that exists (unless overwriting a gisplan site) or holds the run."""
    if out_dir.resolve().is_relative_to(to.resolve()):
        raise OutputError(
            f"site folder {to} holds the run folder {out_dir}; writing the site there would "
            "replace the run: choose another folder with --to"
        )
    check_replaceable(
        to,
        overwrite=overwrite,
        ours=_is_site,
        kind="site",
        flag="--to",
        mark=f"{SITE_JSON} written by {_GENERATOR}",
    )


def publish(
    out_dir: str | Path,
    to: str | Path,
    *,
    options: PublishOptions = _DEFAULT_OPTIONS,
    overwrite: bool = False,
) -> Path:
    """Write the public-consultation site (公示网站) of a finished run.

    Parameters
    ----------
    out_dir
        Output folder of ``gisplan run`` (holds ``run.json`` and ``results.gpkg``).
    to
        Folder of the site; created, or replaced with ``overwrite=True`` when it is a site
        gisplan wrote before (it has ``site.json``).
    options
        What the site shows (:class:`PublishOptions`).
    overwrite
        Replace an existing site folder (only once the new site is complete).

    Returns
    -------
    Path
        The site folder; open ``index.html`` in a browser.

    Raises
    ------
    OutputError
        If ``out_dir`` is not a gisplan run folder, or ``to`` exists (without
        ``overwrite``), is not a gisplan site, or holds ``out_dir``.
    LayerError
        If a table the site needs is missing from ``results.gpkg`` (e.g. no ``plan`` table
        for ``communities="plan"``), or the tables disagree.
    SchemaError
        If such a table lacks a column.

    Examples
    --------
    >>> from gisplan.publish import publish
    >>> publish("no-such-run", "site")
    Traceback (most recent call last):
    ...
    gisplan.errors.OutputError: run folder no-such-run does not exist or is not a folder; ...
    """
    out_dir, to = Path(out_dir), Path(to)
    run = _read_run(out_dir, options)
    _prepare_to(to, out_dir, overwrite=overwrite)
    site = _render_site(run, options)
    with atomic_dir(to) as tmp:
        for rel, data in site.items():
            path = tmp / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
    pages = sum(1 for rel in site if rel.startswith(f"{_PAGES_DIR}/"))
    logger.info("site written to %s: index.html and %d community pages", to, pages)
    return to
