"""Official tables a bureau hands in: the annual plan, the central-subsidy table, summaries.

城镇老旧小区改造上报表格。:func:`official_tables` turns a run's result tables and the
communities layer into the tables a county bureau submits — 年度改造计划表,
中央补助支持计划表, 资金筹措表, 实物工作量表, 目标完成情况表 and the summaries by street,
county and project package — and :func:`write_official_workbook` writes them as one
printable workbook (title row, 填报单位 line, header, data, 合计, notes).

The columns of each table are data, not code: one CSV per table in ``gisplan/data/layouts/``
(``key, header_zh, unit, source, total``). ``source`` names how a cell is computed (a
community field, a scheme class's items, ``funding:<source>+<source>`` for the money of those
channels, ``funding@committed:…`` / ``funding@assumed:…`` for one status), ``total`` says what
the 合计 row does: ``sum``, ``weighted`` (a rate: total numerator ÷ total denominator, never a
sum of rates) or ``none``. Physical quantities come from ``gisplan/data/indicators.csv``;
factors there that are our assumption say so in the table.

Seeds: the 4月 start / 10月 completion months are the Litong 2023 draft's 四(四) stages
(“按照4月份启动，10月底前竣工的目标”); the central-subsidy table is only named in that draft
(附件：2023年中央补助支持城镇老旧小区改造计划表), so its columns are reconstructed; project
packages follow Linxia 2020 四(五) (“做好基础类、完善类、提升类相关建设项目打捆发包”), 五(二)
(纳入年度计划的项目 for 立项 approval) and 六(四) (以改造小区为基本单元，整合推进片域改造).
"""

from __future__ import annotations

import csv
import io
import logging
import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter

from gisplan._text import display_width
from gisplan.errors import ScenarioError
from gisplan.report import cell_value, fixed_dates
from gisplan.vocabulary import column_label, labels

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "LAYOUT_FILES",
    "PACKAGES",
    "official_tables",
    "physical_indicators",
    "read_layout",
    "write_official_workbook",
]

logger = logging.getLogger(__name__)

#: Sheet name → layout file (in ``gisplan/data/layouts/`` or the folder passed as ``layouts``).
LAYOUT_FILES: dict[str, str] = {
    "年度改造计划表": "annual_plan.csv",
    "中央补助支持计划表": "central_subsidy.csv",
    "资金筹措表": "funding.csv",
    "实物工作量表": "physical.csv",
    "目标完成情况表": "targets.csv",
    "分街道汇总": "by_street.csv",
    "分县区汇总": "by_district.csv",
    "分项目汇总": "by_package.csv",
}
#: How the plan's communities are packaged for 立项 (``project_package``).
PACKAGES = ("street", "bundle")

_LAYOUT_COLUMNS = ("key", "header_zh", "unit", "source", "total")
_TOTALS = ("sum", "weighted", "none")
_TOTAL = "合计"
#: Month of 计划开工 / 计划竣工: Litong 2023 draft 四(四) “按照4月份启动，10月底前竣工的目标”.
_START_MONTH, _COMPLETION_MONTH = 4, 10
_CLASSES = {"items_basic": "basic", "items_complete": "complete", "items_improve": "improve"}

#: The money columns every community row and every summary row has.
_MONEY = (
    "cost_wan_yuan",
    "cost_per_m2_yuan",
    "committed_wan_yuan",
    "assumed_wan_yuan",
    "gap_wan_yuan",
)
_COMMUNITY_SOURCES = frozenset(
    {
        "seq",
        "district",
        "street",
        "name",
        "community_id",
        "built_year",
        "buildings",
        "households",
        "floor_area_m2",
        "floor_area_wan_m2",
        *_CLASSES,
        *_MONEY,
        "start",
        "completion",
    }
)
_GROUP_SOURCES = frozenset(
    {
        "seq",
        "group",
        "members",
        "n_communities",
        "buildings",
        "households",
        "floor_area_m2",
        "floor_area_wan_m2",
        *_MONEY,
    }
)
_KIND_SOURCES: dict[str, frozenset[str]] = {
    "community": _COMMUNITY_SOURCES,
    "group": _GROUP_SOURCES,
    "physical": frozenset({"seq", "indicator_zh", "unit", "value", "how_zh", "assumed_zh", "note"}),
    "targets": frozenset(
        {
            "seq",
            "description_zh",
            "communities",
            "completed",
            "required_pct",
            "achieved_pct",
            "met_zh",
            "missing_zh",
        }
    ),
}
_SHEET_KIND = {
    "年度改造计划表": "community",
    "中央补助支持计划表": "community",
    "资金筹措表": "community",
    "实物工作量表": "physical",
    "目标完成情况表": "targets",
    "分街道汇总": "group",
    "分县区汇总": "group",
    "分项目汇总": "group",
}
#: Weighted rates: rate → (numerator, denominator, multiplier): 元/m² = 万元 × 10000 ÷ m².
_RATES = {"cost_per_m2_yuan": ("cost_wan_yuan", "floor_area_m2", 10_000.0)}
_HOW_ZH = {
    "quantity": "清单工程量",
    "quantity*factor": "清单工程量×系数",
    "count_communities": "含该项的小区数",
    "sites": "补短板选址个数",
    "community_field": "计划小区合计",
    "count_plan": "计划小区个数",
}
_INDICATOR_COLUMNS = ("indicator", "indicator_zh", "unit", "catalogue", "items", "how", "factor")
_CATALOGUES = ("linyi", "linxia", "tongnan", "national")


@dataclass(frozen=True, kw_only=True, slots=True)
class _Column:
    """One column of an official table, as its layout file gives it."""

    key: str
    header: str
    source: str
    total: str


def _funding_sources() -> frozenset[str]:
    """Funding channels a layout may name (the vocabulary's, without the retired code)."""
    return frozenset(labels("funding_source")) - {"central_subsidy"}


def _check_source(source: str, kind: str) -> str | None:
    """Why ``source`` is not a source of a ``kind`` table (``None``: it is)."""
    if source in _KIND_SOURCES[kind]:
        return None
    if kind == "community" and source.startswith("funding"):
        head, _, channels = source.partition(":")
        if head not in {"funding", "funding@committed", "funding@assumed"} or not channels:
            return f"unknown funding source {source!r} (write funding:<code>+<code>)"
        unknown = sorted(set(channels.split("+")) - _funding_sources())
        if unknown:
            return f"unknown funding channel(s) {', '.join(unknown)} in {source!r}"
        return None
    return f"unknown source {source!r} (known: {', '.join(sorted(_KIND_SOURCES[kind]))})"


def read_layout(sheet: str, *, layouts: str | Path | None = None) -> list[_Column]:
    """Return the columns of an official table from its layout CSV.

    Parameters
    ----------
    sheet
        Sheet name, a key of :data:`LAYOUT_FILES`.
    layouts
        Folder with the layout files; default the packaged ``gisplan/data/layouts/``.

    Returns
    -------
    list
        The columns in order, each with its header (unit in full-width brackets).

    Raises
    ------
    ScenarioError
        The file is missing, lacks a column, or a row names an unknown source or total rule;
        every problem is listed, with the file, row and column.

    Examples
    --------
    >>> [c.header for c in read_layout("分街道汇总")][:3]
    ['序号', '街道/乡镇', '小区数（个）']
    """
    if sheet not in LAYOUT_FILES:
        raise ScenarioError(f"no official table {sheet!r}; known: {', '.join(LAYOUT_FILES)}")
    name = LAYOUT_FILES[sheet]
    if layouts is None:
        text = resources.files("gisplan").joinpath(f"data/layouts/{name}").read_text("utf-8")
        where = f"gisplan/data/layouts/{name}"
    else:
        path = Path(layouts) / name
        if not path.is_file():
            raise ScenarioError(f"{path}: layout of {sheet} not found; copy it from the package")
        text = path.read_text(encoding="utf-8-sig")
        where = str(path)
    rows = list(csv.DictReader(io.StringIO(text)))
    header = list(rows[0]) if rows else next(csv.reader(io.StringIO(text)), [])
    missing = [c for c in _LAYOUT_COLUMNS if c not in header]
    if missing:
        raise ScenarioError(
            f"{where}: column(s) {', '.join(missing)} missing; a layout has the columns "
            f"{', '.join(_LAYOUT_COLUMNS)}"
        )
    problems, columns = [], []
    for number, row in enumerate(rows, start=2):
        source, total = (row["source"] or "").strip(), (row["total"] or "").strip()
        why = _check_source(source, _SHEET_KIND[sheet])
        if why:
            problems.append(f"row {number} column 'source': {why}")
        if total not in _TOTALS:
            problems.append(
                f"row {number} column 'total': {total!r} is not one of sum|weighted|none"
            )
        if total == "weighted" and source not in _RATES:
            problems.append(f"row {number} column 'total': {source!r} is no rate to weight")
        unit = (row["unit"] or "").strip()
        head = (row["header_zh"] or "").strip()
        columns.append(
            _Column(
                key=(row["key"] or "").strip(),
                header=f"{head}（{unit}）" if unit else head,
                source=source,
                total=total,
            )
        )
    if problems:
        raise ScenarioError(f"{where}: " + "; ".join(problems))
    return columns


def _text(value: object, default: str) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)) or str(value).strip() == "":
        return default
    return str(value)


def _plan_ids(frames: Mapping[str, pd.DataFrame], plan_year: int) -> list[str]:
    """Return the plan year's communities: ``plan`` selects them or ``rollout`` starts them."""
    ids: set[str] = set()
    plan = frames.get("plan")
    if plan is not None and len(plan):
        ids |= set(plan.loc[plan["selected"].astype(bool), "community_id"].astype(str))
    rollout = frames.get("rollout")
    if rollout is not None and len(rollout):
        start = pd.to_numeric(rollout["start_year"], errors="coerce")
        ids |= set(rollout.loc[start == plan_year, "community_id"].astype(str))
    return sorted(ids)


def _year_month(year: object, month: int) -> str:
    number = pd.to_numeric(pd.Series([year]), errors="coerce").iloc[0]
    return "" if pd.isna(number) else f"{int(number)}年{month}月"


def _community_base(
    frames: Mapping[str, pd.DataFrame],
    communities: pd.DataFrame,
    ids: list[str],
    *,
    plan_year: int,
    district: str | None,
) -> pd.DataFrame:
    """One row per planned community, with every community source of the layouts."""
    layer = pd.DataFrame(communities.drop(columns=["geometry"], errors="ignore")).copy()
    layer["community_id"] = layer["community_id"].astype(str)
    layer = layer.drop_duplicates("community_id").set_index("community_id")
    unknown = [c for c in ids if c not in layer.index]
    if unknown:
        raise ScenarioError(
            f"communities layer: plan communities {', '.join(unknown)} not found in column "
            "'community_id'; pass the run's communities layer"
        )
    base = pd.DataFrame({"community_id": ids})
    for field in ("built_year", "buildings", "households", "floor_area_m2"):
        values = layer[field] if field in layer.columns else pd.Series(dtype=float)
        base[field] = pd.to_numeric(base["community_id"].map(values), errors="coerce")
    base["name"] = [_text(layer.get("name", pd.Series(dtype=str)).get(c), c) for c in ids]
    base["street"] = [
        _text(layer.get("street", pd.Series(dtype=str)).get(c), "（未填街道）") for c in ids
    ]
    fallback = district or "（未填县区）"
    base["district"] = [
        _text(layer.get("district", pd.Series(dtype=str)).get(c), fallback) for c in ids
    ]
    base["floor_area_wan_m2"] = base["floor_area_m2"] / 10_000
    schemes = frames.get(
        "schemes", pd.DataFrame(columns=["community_id", "item", "class", "name_zh"])
    )
    schemes = schemes.assign(community_id=schemes["community_id"].astype(str))
    for key, klass in _CLASSES.items():
        rows = schemes[schemes["class"] == klass].sort_values(
            ["community_id", "item"], kind="stable"
        )
        joined = rows.groupby("community_id")["name_zh"].agg(lambda s: "、".join(map(str, s)))
        base[key] = [str(joined.get(c, "")) for c in base["community_id"]]
    costs = frames.get("scheme_costs", pd.DataFrame(columns=["community_id", "cost_wan_yuan"]))
    cost = costs.assign(community_id=costs["community_id"].astype(str)).set_index("community_id")
    base["cost_wan_yuan"] = (
        base["community_id"].map(cost["cost_wan_yuan"]).astype(float).fillna(0.0)
    )
    base["cost_per_m2_yuan"] = (base["cost_wan_yuan"] * 10_000 / base["floor_area_m2"]).round(2)
    funding = _funding_long(frames)
    for status in ("committed", "assumed", "gap"):
        amount = (
            funding[funding["funding_status"] == status].groupby("community_id")["amount"].sum()
        )
        base[f"{status}_wan_yuan"] = base["community_id"].map(amount).fillna(0.0)
    rollout = frames.get(
        "rollout", pd.DataFrame(columns=["community_id", "start_year", "completion_year"])
    )
    rollout = rollout.assign(community_id=rollout["community_id"].astype(str)).set_index(
        "community_id"
    )
    start = base["community_id"].map(pd.to_numeric(rollout["start_year"], errors="coerce"))
    end = base["community_id"].map(pd.to_numeric(rollout["completion_year"], errors="coerce"))
    base["start"] = [_year_month(y if pd.notna(y) else plan_year, _START_MONTH) for y in start]
    base["completion"] = [_year_month(y, _COMPLETION_MONTH) for y in end]
    # the programme calendar's 施工 span, where the run has one: the same dates as the Gantt
    calendar = frames.get("calendar")
    if calendar is not None and len(calendar):
        works = calendar[calendar["milestone"].astype(str) == "construction"]
        works = works.assign(community_id=works["community_id"].astype(str))
        works = works.drop_duplicates("community_id").set_index("community_id")
        for column, date in (("start", "start_date"), ("completion", "end_date")):
            dated = base["community_id"].map(works[date])
            shown = [
                _year_month(str(d)[:4], int(str(d)[5:7])) if pd.notna(d) else None for d in dated
            ]
            base[column] = [new or old for new, old in zip(shown, base[column], strict=True)]
    order = ["district", "street", "community_id"]
    ordered: pd.DataFrame = base.sort_values(order, kind="stable", ignore_index=True)
    return ordered


def _funding_long(frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    funding = frames.get("funding")
    if funding is None or not len(funding):
        empty: pd.DataFrame = pd.DataFrame(
            columns=["community_id", "source", "funding_status", "amount"]
        )
        return empty
    long: pd.DataFrame = pd.DataFrame(
        {
            "community_id": funding["community_id"].astype(str),
            "source": funding["source"].astype(str),
            "funding_status": funding["funding_status"].astype(str),
            "amount": pd.to_numeric(funding["amount_wan_yuan"], errors="coerce").fillna(0.0),
        }
    )
    return long


def _funding_column(frames: Mapping[str, pd.DataFrame], ids: pd.Series, source: str) -> pd.Series:
    """Money of the channels of ``funding[@status]:a+b`` per community (gap rows never)."""
    head, _, channels = source.partition(":")
    statuses = {"committed", "assumed"} if head == "funding" else {head.split("@")[1]}
    funding = _funding_long(frames)
    rows = funding[
        funding["source"].isin(channels.split("+")) & funding["funding_status"].isin(statuses)
    ]
    return ids.map(rows.groupby("community_id")["amount"].sum()).fillna(0.0).round(2)


def _total_row(table: pd.DataFrame, columns: list[_Column], base: pd.DataFrame) -> list[object]:
    """合计 row: sums, weighted rates (never a sum of rates), blanks for ``none``."""
    row: list[object] = []
    for column in columns:
        if column.total == "sum":
            numbers = pd.to_numeric(table[column.header]).fillna(0.0)
            money = "wan_yuan" in column.source or column.source.startswith("funding")
            summed = round(float(numbers.sum()), 2)
            whole = not money and bool((numbers == numbers.round()).all())
            row.append(int(summed) if whole else summed)
        elif column.total == "weighted":
            numerator, denominator, scale = _RATES[column.source]
            below = float(pd.to_numeric(base[denominator]).sum())
            above = float(pd.to_numeric(base[numerator]).sum())
            row.append(round(above * scale / below, 2) if below else None)
        else:
            row.append(None)
    row[0] = _TOTAL
    return row


def _lay_out(
    base: pd.DataFrame,
    columns: list[_Column],
    frames: Mapping[str, pd.DataFrame],
    notes: list[str],
) -> pd.DataFrame:
    """Table in layout order with Chinese headers and a closing 合计 row."""
    data: dict[str, object] = {}
    for column in columns:
        if column.source == "seq":
            data[column.header] = list(range(1, len(base) + 1))
        elif column.source.startswith("funding"):
            data[column.header] = _funding_column(
                frames, base["community_id"], column.source
            ).tolist()
        else:
            data[column.header] = base[column.source].tolist()
    table = pd.DataFrame(data, columns=[c.header for c in columns])
    total = pd.DataFrame([_total_row(table, columns, base)], columns=table.columns)
    out: pd.DataFrame = pd.concat([table.astype(object), total.astype(object)], ignore_index=True)
    out.attrs["notes"] = notes
    return out


def _package_of(
    frames: Mapping[str, pd.DataFrame], base: pd.DataFrame, project_package: str
) -> pd.Series:
    """Package of each planned community: its street, or its financing bundle (else street)."""
    if project_package == "street":
        return base["street"]
    members = frames.get(
        "bundle_members", pd.DataFrame(columns=["bundle_id", "unit_id", "unit_kind"])
    )
    members = members[members["unit_kind"].astype(str) == "community"]
    bundle = members.set_index(members["unit_id"].astype(str))["bundle_id"].astype(str)
    bundle = bundle[~bundle.index.duplicated()]
    mapped = base["community_id"].map(bundle)
    package: pd.Series = mapped.where(mapped.notna(), base["street"] + "（未打捆）").astype(str)
    return package


def _group_base(base: pd.DataFrame, by: pd.Series) -> pd.DataFrame:
    sums = ["buildings", "households", "floor_area_m2", "floor_area_wan_m2", "cost_wan_yuan"]
    sums += ["committed_wan_yuan", "assumed_wan_yuan", "gap_wan_yuan"]
    frame = base.assign(group=by.to_numpy())
    grouped = frame.groupby("group", sort=True)
    out: pd.DataFrame = grouped[sums].sum(min_count=1).reset_index()
    out["n_communities"] = grouped.size().to_numpy()
    out["members"] = grouped["name"].agg("、".join).to_numpy()
    out["cost_per_m2_yuan"] = (out["cost_wan_yuan"] * 10_000 / out["floor_area_m2"]).round(2)
    out["community_id"] = out["group"]
    return out


def _read_indicators() -> pd.DataFrame:
    text = resources.files("gisplan").joinpath("data/indicators.csv").read_text("utf-8")
    table = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    missing = [c for c in _INDICATOR_COLUMNS if c not in table.columns]
    if missing:  # pragma: no cover - packaged data, checked by the tests
        raise ScenarioError(f"gisplan/data/indicators.csv: column(s) {', '.join(missing)} missing")
    return table


def physical_indicators(
    schemes: pd.DataFrame,
    communities: pd.DataFrame,
    *,
    catalogue: str = "linyi",
    sites_chosen: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Return the physical work of the plan (实物工作量) from scheme quantities.

    Parameters
    ----------
    schemes
        The plan's scheme rows (``community_id, item, quantity``).
    communities
        The plan's communities (``buildings, households, floor_area_m2``).
    catalogue
        Catalogue the schemes were drawn from: ``linyi``, ``linxia``, ``tongnan``, ``national``.
    sites_chosen
        Sited new facilities (``type``), counted for the 养老/托育/助餐 indicator.

    Returns
    -------
    pandas.DataFrame
        One row per indicator: ``indicator, indicator_zh, unit, value, how_zh, assumed_zh,
        note`` (``assumed_zh`` 是 where a factor of ``indicators.csv`` is our assumption).

    Raises
    ------
    ScenarioError
        ``catalogue`` is none of the packaged catalogues.

    Examples
    --------
    >>> s = pd.DataFrame({"community_id": ["a"], "item": [28], "quantity": [2.0]})
    >>> c = pd.DataFrame({"community_id": ["a"], "buildings": [3], "households": [60]})
    >>> t = physical_indicators(s, c).set_index("indicator")
    >>> float(t.loc["lifts", "value"]), float(t.loc["households", "value"])
    (2.0, 60.0)
    """
    if catalogue not in _CATALOGUES:
        raise ScenarioError(
            f"catalogue {catalogue!r}: the physical indicators (gisplan/data/indicators.csv) "
            f"map the items of {', '.join(_CATALOGUES)} only; name one of them"
        )
    spec = _read_indicators()
    spec = spec[spec["catalogue"].isin([catalogue, "*"])]
    item = pd.to_numeric(schemes["item"], errors="coerce")
    quantity = pd.to_numeric(schemes["quantity"], errors="coerce").fillna(0.0)
    rows = []
    for indicator, part in spec.groupby("indicator", sort=False):
        value, hows, notes = 0.0, [], []
        for rule in part.itertuples(index=False):
            factor = float(rule.factor)
            wanted = [x for x in str(rule.items).split("|") if x]
            if rule.how in {"quantity", "quantity*factor", "count_communities"}:
                hit = item.isin([int(x) for x in wanted])
                if rule.how == "count_communities":
                    counted = schemes.loc[hit, ["community_id", "item"]].drop_duplicates()
                    value += len(counted) * factor
                else:
                    value += float(quantity[hit].sum()) * factor
                hows.append(f"{_HOW_ZH[rule.how]}（清单第{'、'.join(wanted)}项，系数{factor:g}）")
            elif rule.how == "sites":
                sited = sites_chosen if sites_chosen is not None else pd.DataFrame(columns=["type"])
                value += float(sited["type"].isin(wanted).sum()) * factor
                hows.append(_HOW_ZH["sites"])
            elif rule.how == "community_field":
                field = wanted[0]
                numbers = pd.to_numeric(communities.get(field, pd.Series(dtype=float)))
                value += float(numbers.sum()) * factor
                hows.append(f"{_HOW_ZH['community_field']}（{column_label(field)}×{factor:g}）")
            else:
                value += len(communities) * factor
                hows.append(_HOW_ZH["count_plan"])
            notes.append(rule.note)
        first = part.iloc[0]
        rows.append(
            {
                "indicator": indicator,
                "indicator_zh": first["indicator_zh"],
                "unit": first["unit"],
                "value": round(value, 2),
                "how_zh": "；".join(hows),
                "assumed_zh": "是" if (part["assumed"] == "yes").any() else "否",
                "note": "；".join(dict.fromkeys(notes)),
            }
        )
    indicators: pd.DataFrame = pd.DataFrame(rows)
    return indicators


def _targets_base(frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    targets = frames.get("targets")
    if targets is None or not len(targets):
        empty: pd.DataFrame = pd.DataFrame(columns=sorted(_KIND_SOURCES["targets"] - {"seq"}))
        return empty
    base: pd.DataFrame = pd.DataFrame(
        {
            "description_zh": targets["description_zh"].astype(str),
            "communities": targets["communities"],
            "completed": targets["completed"],
            "required_pct": (pd.to_numeric(targets["required"]) * 100).round(1),
            "achieved_pct": (pd.to_numeric(targets["achieved"]) * 100).round(1),
            "met_zh": ["是" if bool(m) else "否" for m in targets["met"]],
            "missing_zh": targets["missing_zh"].fillna("").astype(str),
        }
    )
    return base


def _catalogue_zh(catalogue: str) -> str:
    """Return a catalogue's Chinese name (a packaged one), else the file or name given."""
    return labels("catalogue").get(catalogue, catalogue)


def official_tables(
    frames: Mapping[str, pd.DataFrame],
    communities: pd.DataFrame,
    *,
    plan_year: int,
    title: str,
    district: str | None = None,
    project_package: str = "street",
    catalogue: str = "linyi",
    layouts: str | Path | None = None,
) -> dict[str, pd.DataFrame]:
    """Return the official tables of a plan year, keyed by sheet name.

    Parameters
    ----------
    frames
        A run's result tables (``gisplan.read_run(out).frames()``): ``plan``, ``rollout``,
        ``schemes``, ``scheme_costs``, ``funding``, ``targets``, ``bundle_members``,
        ``sites_chosen``; absent ones give empty columns.
    communities
        The communities layer (``community_id, name, street, built_year, buildings,
        households, floor_area_m2`` and optionally ``district`` 县区).
    plan_year
        The year of the annual plan: its communities are those ``plan`` selects and those
        ``rollout`` starts that year.
    title
        Area named in the notes (e.g. 示范县城关片区).
    district
        县区 of communities whose layer has no ``district`` value.
    project_package
        ``street``: one 立项 package per street; ``bundle``: one per financing bundle
        (``bundle_members``), communities outside any bundle grouped by street
        (“<街道>（未打捆）”).
    catalogue
        Catalogue of the schemes, for the physical indicators.
    layouts
        Folder with layout CSV files replacing the packaged ones.

    Returns
    -------
    dict
        Sheet name → table (Chinese headers with units, last row 合计); each table's
        ``attrs["notes"]`` lists its assumptions and seed citations.

    Raises
    ------
    ScenarioError
        A layout file is missing, lacks a column or names an unknown source; a plan
        community is not in ``communities``; ``project_package`` or ``catalogue`` unknown.

    Examples
    --------
    >>> f = {"plan": pd.DataFrame({"community_id": ["c1"], "selected": [True]}),
    ...      "scheme_costs": pd.DataFrame({"community_id": ["c1"], "cost_wan_yuan": [50.0]})}
    >>> c = pd.DataFrame({"community_id": ["c1"], "name": ["甲小区"], "households": [10]})
    >>> t = official_tables(f, c, plan_year=2027, title="示范县")["年度改造计划表"]
    >>> t.iloc[-1]["总投资（万元）"], t.iloc[0]["小区名称"]
    (50.0, '甲小区')
    """
    if project_package not in PACKAGES:
        raise ScenarioError(
            f"project_package {project_package!r}: use one of {', '.join(PACKAGES)}"
        )
    layout = {sheet: read_layout(sheet, layouts=layouts) for sheet in LAYOUT_FILES}
    ids = _plan_ids(frames, plan_year)
    base = _community_base(frames, communities, ids, plan_year=plan_year, district=district)
    logger.info("official tables %s %s: %d communities", title, plan_year, len(base))
    month_note = (
        "计划开工/竣工取自实施进度安排的施工节点（与进度计划图一致）；无进度安排时，"
        f"年份取自分年度推进（小区推进安排表），月份（{_START_MONTH}月开工、"
        f"{_COMPLETION_MONTH}月竣工）取自利通区2023方案（征求意见稿）四(四)“按照4月份启动，"
        "10月底前竣工”，其他地区为本工具假设，请按当地安排调整。"
    )
    money_note = (
        "资金来源按资金筹措结果（资金来源表）分渠道汇总：已落实为有出资主体、文件和年度的资金；"
        "测算为按筹资规则估算、尚未落实的资金"
        "（分担比例为本工具示例假设，见场景文件 finance.rules）。"
    )
    area_note = (
        "建筑面积单位为平方米（m²）；单方造价合计为总投资÷总建筑面积，不是各小区单方造价之和。"
    )
    tables: dict[str, pd.DataFrame] = {}
    tables["年度改造计划表"] = _lay_out(
        base, layout["年度改造计划表"], frames, [area_note, money_note, month_note]
    )
    tables["中央补助支持计划表"] = _lay_out(
        base,
        layout["中央补助支持计划表"],
        frames,
        [
            (
                "本表栏目为重构：利通区2023方案（征求意见稿）仅列出附件名称“2023年中央补助支持"
                "城镇老旧小区改造计划表”，未附表样，栏目按常见上报表格整理，请按上级通知核对。"
            ),
            "申请中央补助资金＝中央预算内投资＋中央财政专项资金（资金筹措结果，含测算）。",
            money_note,
            month_note,
        ],
    )
    tables["资金筹措表"] = _lay_out(
        base,
        layout["资金筹措表"],
        frames,
        [money_note, "资金缺口＝总投资−已落实资金；测算资金不计入已落实，不能弥补缺口。"],
    )
    plan_schemes = frames.get("schemes", pd.DataFrame(columns=["community_id", "item", "quantity"]))
    plan_schemes = plan_schemes[plan_schemes["community_id"].astype(str).isin(ids)]
    physical = physical_indicators(
        plan_schemes, base, catalogue=catalogue, sites_chosen=frames.get("sites_chosen")
    ).assign(seq=0)
    tables["实物工作量表"] = _lay_out(
        physical.assign(community_id=physical["indicator"]),
        layout["实物工作量表"],
        frames,
        [
            (
                f"按改造清单（{_catalogue_zh(catalogue)}）的工程量计算，系数见指标换算表"
                "（gisplan 数据文件 indicators.csv）；"
                "“含本工具假设”为是的指标，其系数为本工具假设，需以设计图纸核定。"
            ),
            "各指标单位不同，合计行不求和。",
        ],
    )
    tables["目标完成情况表"] = _lay_out(
        _targets_base(frames).assign(community_id=""),
        layout["目标完成情况表"],
        frames,
        ["比例为小区个数比例；各目标的小区相互重叠，合计行不求和。"],
    )
    package_note = (
        "项目包：按街道打捆时（情景 documents.project_package: street）每个街道为一个立项"
        "项目包；按片区打捆时（bundle）按片区统筹资金平衡单元（片区项目成员表）打捆，未入任何平衡单元的小区按街道归为“<街道>（未打捆）”。"
        "依据：临夏2020方案 四(五)“做好基础类、完善类、提升类相关建设项目打捆发包”，"
        "五(二)纳入年度计划的项目可合并审批可行性研究报告，六(四)以改造小区为基本单元整合推进片域改造。"
    )
    for sheet, by in (
        ("分街道汇总", base["street"]),
        ("分县区汇总", base["district"]),
        ("分项目汇总", _package_of(frames, base, project_package)),
    ):
        notes = [area_note, money_note] + ([package_note] if sheet == "分项目汇总" else [])
        tables[sheet] = _lay_out(_group_base(base, by), layout[sheet], frames, notes)
    return tables


_THIN = Side(style="thin")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_FONT = "宋体"
_WRAP = Alignment(vertical="center", wrap_text=True)
_MAX_WIDTH = 24  # a long 改造内容 list wraps inside this many character widths
_HEADER_WIDTH = 10  # headers wrap over lines of about this width
#: Widths (Excel character units, 11 pt) that fit the printable width of a landscape page at
#: 100 %: a wider sheet goes on A3 (provinces' 年度计划 tables are A3 boards) so the print
#: scale stays readable (> 70 %), not shrunk to a quarter of A4.
_A4_UNITS, _A3_UNITS = 135.0, 195.0
_LINE_PT = 14.5  # one line of 11 pt 宋体


def _column_widths(table: pd.DataFrame) -> list[float]:
    """Width of each column (character units): its data, its header wrapped, within bounds."""
    widths = []
    for column in table.columns:
        sample = [display_width(str(cell_value(v) or "")) for v in table[column].head(200)]
        header = display_width(str(column))
        wanted = max([min(header, _HEADER_WIDTH), *sample]) + 2
        widths.append(float(min(max(wanted, 6), _MAX_WIDTH)))
    return widths


def _row_heights(ws: Any, widths: list[float], *, first: int, last: int) -> None:  # noqa: ANN401
    """Set the height of the header and data rows to the lines their wrapped text takes.

    Spreadsheet programs do not grow a row for wrapped text they did not lay out themselves
    (LibreOffice prints the first line only), so the rows are sized here.
    """
    for row in range(first, last + 1):
        lines = 1
        for col, chars in enumerate(widths, start=1):
            value = ws.cell(row=row, column=col).value
            if isinstance(value, str) and value:
                lines = max(lines, math.ceil(display_width(value) / max(chars - 1.5, 1.0)))
        ws.row_dimensions[row].height = round(lines * _LINE_PT + 3, 1)


def write_official_workbook(
    tables: Mapping[str, pd.DataFrame],
    path: Path,
    *,
    title: str,
    notes: Mapping[str, list[str]] | None = None,
    unit: str = "",
) -> None:
    """Write the official tables to one printable workbook, one sheet each.

    Each sheet has a title row (``title`` + sheet name, e.g.
    示范县城关片区2027年城镇老旧小区改造年度改造计划表), a 填报单位 line, the header, the
    data with its 合计 row in bold, and the notes (the table's ``attrs["notes"]`` and
    ``notes[sheet]``) under it. Landscape, one page wide, header rows repeated on every
    page (A3 when the table is too wide for A4 at a readable scale), rows as tall as their
    wrapped text. The bytes depend only on the content (fixed document dates).

    Parameters
    ----------
    tables
        Sheet name → table, as :func:`official_tables` returns.
    path
        The ``.xlsx`` file to write (replaced if it exists).
    title
        Title prefix, e.g. ``示范县城关片区2027年城镇老旧小区改造``.
    notes
        Extra notes per sheet.
    unit
        填报单位 (reporting unit) printed on the second row.
    """
    notes = notes or {}
    book = Workbook()
    default = book.active
    if default is not None:
        book.remove(default)
    for sheet, table in tables.items():
        ws = book.create_sheet(sheet[:31])
        width = max(len(table.columns), 1)
        ws.append([f"{title}{sheet}"])
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
        ws.cell(row=1, column=1).font = Font(name=_FONT, size=16, bold=True)
        ws.cell(row=1, column=1).alignment = Alignment(horizontal="center")
        ws.append(
            [f"填报单位：{unit}", *([""] * (width - 2)), "金额单位：万元；面积单位：m²"][:width]
        )
        ws.append([str(c) for c in table.columns])
        for row in table.itertuples(index=False):
            values = [cell_value(v) for v in row]
            ws.append(values)
            bold = values and values[0] == _TOTAL
            for cell in ws[ws.max_row]:
                cell.border = _BORDER
                cell.font = Font(name=_FONT, size=11, bold=bool(bold))
                cell.alignment = _WRAP  # long item lists wrap inside the capped column width
                if isinstance(cell.value, float):
                    cell.number_format = "#,##0.00"
        for cell in ws[3]:
            cell.font = Font(name=_FONT, size=11, bold=True)
            cell.border = _BORDER
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        lines = [*table.attrs.get("notes", []), *notes.get(sheet, [])]
        if lines:
            ws.append([])
            ws.append(["说明："])
            for number, line in enumerate(lines, start=1):
                ws.append([f"{number}. {line}"])
        widths = _column_widths(table)
        for col, chars in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(col)].width = chars
        _row_heights(ws, widths, first=3, last=3 + len(table))
        ws.page_setup.orientation = ws.ORIENTATION_LANDSCAPE
        wide = sum(widths) > _A4_UNITS / 0.75
        ws.page_setup.paperSize = ws.PAPERSIZE_A3 if wide else ws.PAPERSIZE_A4
        ws.page_setup.scale = None
        ws.page_margins.left = ws.page_margins.right = 0.4
        ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.print_title_rows = "1:3"
    buffer = io.BytesIO()
    book.save(buffer)
    path.write_bytes(fixed_dates(buffer.getvalue()))
