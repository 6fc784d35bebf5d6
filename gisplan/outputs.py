"""The output folder of a run: its file names, the registry of result tables, writers, reader.

A finished run folder holds::

    results.gpkg            every validated input layer (in the run's metric CRS) and result
    results.xlsx            the result tables for people: Chinese sheets, headers, units, 合计
    tables/<key>.csv        every result table, UTF-8 with BOM (Excel shows Chinese)
    validation_issues.csv   every warning found in the inputs
    run.log, run.json       the log; inputs' SHA-256, parameters, versions, timings, outputs
    maps/, site/            the maps and the 公示 site, when the scenario asks for them

:func:`result_tables` is the registry of result tables (``gisplan/data/tables.csv``): key,
the step that makes it, whether it is a layer (has geometry) or a table, its Chinese sheet
name (none: GeoPackage and CSV only), the columns its 合计 row adds up, the rates it
weights there, and a description. The workbook opens on a 目录 (index) sheet and shows
Chinese values only (:func:`for_people`); every row keyed by a community shows its name
and 街道 beside its id (the GeoPackage and the CSV tables keep their columns).
Column headers come from :mod:`gisplan.vocabulary`. :func:`write_results` writes the
GeoPackage, the workbook and the CSV tables; :func:`read_run` is the one reader of a
finished folder — the maps, the 公示 site and the command line all read through it, and it
reads a layer only when it is first used.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import json
import logging
import platform
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from importlib import metadata, resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import geopandas as gpd
import pandas as pd
import pyogrio
import pyproj

from gisplan import standards
from gisplan._atomic import FolderLock, atomic_write, check_replaceable, file_sha256
from gisplan._version import __version__
from gisplan.errors import LayerError, OutputError
from gisplan.layers import LAYER_KINDS
from gisplan.report import FORMULA_PREFIXES, csv_safe, write_csv_tables, write_workbook
from gisplan.validation import ValidationReport
from gisplan.vocabulary import column_label, labels

if TYPE_CHECKING:
    from gisplan.scenario import Scenario

__all__ = [
    "GPKG_NAME",
    "INDEX_SHEET",
    "ISSUES_CSV",
    "MAPS_DIR",
    "RUN_JSON",
    "RUN_LOG",
    "SITE_DIR",
    "TABLES_DIR",
    "XLSX_NAME",
    "RunResult",
    "TableSpec",
    "check_out",
    "for_people",
    "info_table",
    "prepare_out",
    "read_run",
    "record_outputs",
    "result_tables",
    "run_record_sha256",
    "write_results",
    "write_run_json",
]

logger = logging.getLogger(__name__)

#: File and folder names inside a run folder.
GPKG_NAME = "results.gpkg"
XLSX_NAME = "results.xlsx"
RUN_JSON = "run.json"
RUN_LOG = "run.log"
ISSUES_CSV = "validation_issues.csv"
TABLES_DIR = "tables"
MAPS_DIR = "maps"
SITE_DIR = "site"
FIGURES_DIR = "figures"  # the Gantt charts and key maps of the documents (static PNG)
OFFICIAL_NAME = "报送表格.xlsx"  # the official tables a bureau hands in

#: Fixed GeoPackage timestamp, so the same inputs give byte-identical files.
_GPKG_DATE = "2000-01-01T00:00:00.000Z"
#: The packaged life-circle table, hashed into run.json when the scenario names none.
_PACKAGED_STANDARD = "life_circle_standard.csv"
#: Libraries whose versions run.json records (all are dependencies).
_VERSIONED = ("geopandas", "shapely", "pyproj", "pandas", "numpy", "pyogrio", "scipy", "pydantic")


# --------------------------------------------------------------------------- the registry


@dataclass(frozen=True, kw_only=True, slots=True)
class TableSpec:
    """One result table of a run.

    Attributes
    ----------
    key
        Name in ``results.gpkg``, ``tables/<key>.csv`` and :attr:`RunResult.results`.
    step
        Scenario step that makes it (``access``, ``siting``, ``eligibility``, ``schemes``,
        ``finance``, ``plan``).
    kind
        ``"layer"`` (has geometry) or ``"table"``.
    sheet_zh
        Chinese sheet name in ``results.xlsx``; ``None`` for tables kept out of the workbook
        (too long or only for maps).
    totals
        Columns the sheet's 合计 row adds up (money, areas, counts; never rates or shares).
    weighted
        Rate columns the 合计 row shows as a weighted figure, ``(rate, numerator,
        denominator)``: the sum of the numerator over the sum of the denominator (元/m² =
        total cost ÷ total floor area), never the sum of the rates.
    description_zh
        What the table holds, in one Chinese sentence.
    """

    key: str
    step: str
    kind: Literal["layer", "table"]
    sheet_zh: str | None
    totals: tuple[str, ...]
    weighted: tuple[tuple[str, str, str], ...]
    description_zh: str


def _weighted(spec: str) -> tuple[str, str, str]:
    """``"rate=numerator/denominator"`` → ``(rate, numerator, denominator)``."""
    rate, _, ratio = spec.partition("=")
    numerator, _, denominator = ratio.partition("/")
    return rate, numerator, denominator


@functools.cache
def result_tables() -> Mapping[str, TableSpec]:
    """Return the registry of result tables, in workbook order (``data/tables.csv``).

    Examples
    --------
    >>> spec = gisplan.outputs.result_tables()["scheme_costs"]
    >>> spec.sheet_zh, "cost_per_m2_yuan" in spec.totals
    ('改造方案造价', False)
    """
    text = (
        resources.files("gisplan")
        .joinpath("data")
        .joinpath("tables.csv")
        .read_text(encoding="utf-8")
    )
    specs = {}
    for row in csv.DictReader(text.splitlines()):
        kind: Literal["layer", "table"] = "layer" if row["kind"] == "layer" else "table"
        specs[row["key"]] = TableSpec(
            key=row["key"],
            step=row["step"],
            kind=kind,
            sheet_zh=row["sheet_zh"] or None,
            totals=tuple(row["totals"].split()),
            weighted=tuple(_weighted(spec) for spec in row["weighted"].split()),
            description_zh=row["description_zh"],
        )
    return specs


# --------------------------------------------------------------------------- run result


@dataclass(frozen=True, kw_only=True)
class RunResult:
    """What a run produced: fresh from :func:`gisplan.run_scenario`, or read by :func:`read_run`.

    Attributes
    ----------
    scenario
        The validated scenario; ``None`` when the run was read back from its folder (its
        parameters are in ``parameters``).
    crs
        The metric CRS every output layer is in.
    layers
        The validated input layers, in ``crs``, keyed by kind.
    report
        Every issue found (warnings only: a run with fatal issues raises instead).
    results
        Result tables and layers of the steps run, keyed as in :func:`result_tables`.
    out_dir
        The output folder, or ``None`` when nothing was written.
    timings_s
        Seconds spent per step.
    parameters
        The scenario as recorded in ``run.json`` (plain JSON values).
    """

    scenario: Scenario | None
    crs: pyproj.CRS
    layers: Mapping[str, gpd.GeoDataFrame]
    report: ValidationReport
    results: Mapping[str, pd.DataFrame] = field(default_factory=dict)
    out_dir: Path | None = None
    timings_s: Mapping[str, float] = field(default_factory=dict)
    parameters: Mapping[str, Any] = field(default_factory=dict)

    @property
    def title(self) -> str:
        """The scenario's title, else its name, else the folder's name."""
        title = self.parameters.get("title") or self.parameters.get("name")
        if not title and self.out_dir is not None:
            title = self.out_dir.name
        return str(title or "gisplan")

    def frames(self) -> Mapping[str, pd.DataFrame]:
        """Return every result and input layer by name (a result wins over a layer of its name).

        Nothing is read from disk until a frame is used.
        """
        return _Chain(self.results, self.layers)

    def section(self, key: str) -> dict[str, Any]:
        """Return the scenario section ``key`` as recorded (``{}`` when the run had none)."""
        value = self.parameters.get(key)
        return dict(value) if isinstance(value, Mapping) else {}


# --------------------------------------------------------------------------- writers


def info_table(info: Mapping[str, object]) -> pd.DataFrame:
    """Return solver or run facts as a two-column ``key, value`` table (values as text).

    Examples
    --------
    >>> gisplan.outputs.info_table({"status": "optimal", "gap": 0.0}).values.tolist()
    [['status', 'optimal'], ['gap', '0.0']]
    """
    table: pd.DataFrame = pd.DataFrame(
        {"key": list(info), "value": [str(v) for v in info.values()]}
    )
    return table


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


def _write_gpkg(frames: Mapping[str, pd.DataFrame], path: Path) -> None:
    previous = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": _GPKG_DATE})
    try:
        for name, frame in frames.items():
            pyogrio.write_dataframe(_writable(frame), path, layer=name, driver="GPKG")
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as err:
        raise OutputError(
            f"writing {path} failed ({err}); check that the drive has free space and the "
            "folder is writable, or choose another folder with --out"
        ) from err
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": previous})


#: Code columns whose Chinese twin is not named ``<code>_zh``: the workbook shows the twin only.
_CODE_TWINS = {
    "reason_codes": "reasons_zh",
    "selection_code": "selection_reason",
    "target": "description_zh",
    "uncovered_reason_code": "uncovered_reason",
}
#: Code columns without a Chinese twin: the workbook shows their codes' vocabulary labels.
_VALUE_DOMAINS = {
    "class": "scheme_class",
    "payer": "payer",
    "kind": "site_kind",
    "mode": "financing_mode",
    "status": "eligibility_status",
    "data_status": "data_status",
    "severity": "severity",
    "unit_kind": "unit_kind",
    "level": "life_circle_level",
    "radius_source": "radius_source",
    "cover_rule": "cover_rule",
    "model": "siting_model",
    "solver_status": "solver_status",
    "plan_status": "solver_status",
}
#: Columns of facility type codes (one code, or several joined by 、) without a Chinese twin.
_TYPE_COLUMNS = ("type", "solved_with")
#: Keys of an information table whose header is another column's (``status`` of a solve).
_INFO_KEYS = {"status": "solver_status"}
#: Values of an information table: the vocabulary domains tried in order.
_INFO_DOMAINS = ("solver_status", "solve_method", "financing_mode")
#: Keys of an information table left out of the workbook: the solver's own English message
#: (its status is the row above, in Chinese); the GeoPackage and CSV keep it.
_INFO_HIDDEN = frozenset({"solver_message"})
#: The index sheet, first in the workbook: each sheet, what it holds, its rows.
INDEX_SHEET = "目录"
_INDEX_LABELS = {"sheet_zh": "工作表", "description_zh": "内容说明", "rows": "行数"}


def _value_domain(column: str) -> str | None:
    """Return the vocabulary domain of a code column's values (``rule_*``: rule outcomes)."""
    return "rule_outcome" if column.startswith("rule_") else _VALUE_DOMAINS.get(column)


def for_people(table: pd.DataFrame, *, type_names: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Return a result table as the workbook shows it: Chinese values, no code twins.

    A code column with a Chinese twin (``x`` and ``x_zh``, or one of the pairs of
    ``_CODE_TWINS``) is left out; codes of a vocabulary domain (rule outcomes, scheme
    classes, payers, financing modes, solver statuses, life-circle levels …) become their
    labels; facility type codes without a ``type_zh`` twin become the names of
    ``type_names`` (code → name, e.g. from the life-circle standard). An information table
    (``key, value``) gets Chinese keys (``columns.csv``) and values. Booleans become 是/否
    when the workbook is written. The GeoPackage and the CSV tables keep the codes.

    Examples
    --------
    >>> t = pd.DataFrame({"mode": ["large_area"], "status": ["x"], "status_zh": ["某"]})
    >>> gisplan.outputs.for_people(t).to_numpy().tolist()
    [['大片区统筹平衡', '某']]
    """
    columns = [str(c) for c in table.columns]
    if columns == ["key", "value"]:
        return _info_for_people(table)
    twins = {c for c in columns if f"{c}_zh" in columns or _CODE_TWINS.get(c) in columns}
    out: pd.DataFrame = table.drop(columns=sorted(twins))
    for column in out.columns:
        domain = _value_domain(str(column))
        if domain is not None:
            out[column] = out[column].map(functools.partial(_label, labels(domain)))
        elif column in _TYPE_COLUMNS and (type_names is not None or column == "solved_with"):
            names = type_names or {}
            out[column] = out[column].map(functools.partial(_type_label, names))
    return out


def _label(names: Mapping[str, str], value: object) -> object:
    """Return the label of a code (a text that is no code of the domain stays as it is)."""
    return names.get(value, value) if isinstance(value, str) else value


def _type_label(names: Mapping[str, str], value: object) -> object:
    """Return the facility type names of a code, or of codes joined by 、."""
    if not isinstance(value, str):
        return value
    return "、".join(names.get(code, code) for code in value.split("、"))


def _info_value(value: object) -> object:
    """Return a value of an information table for people: 是/否, blanks, labels."""
    text = str(value)
    if text in {"True", "False"}:
        return "是" if text == "True" else "否"
    if text in {"None", "nan", "[]", "{}"}:
        return ""
    for domain in _INFO_DOMAINS:
        names = labels(domain)
        parts = [p.strip() for p in text.split(",")]
        if text in names:
            return names[text]
        if len(parts) > 1 and all(p in names for p in parts):
            return "、".join(names[p] for p in parts)
    return value


def _info_key(key: str) -> str:
    """Return the Chinese name of an information key (``pool_<source>_…``: by source)."""
    for end, what in (("_available_wan_yuan", "可用资金"), ("_used_wan_yuan", "已用资金")):
        source = key.removeprefix("pool_").removesuffix(end)
        if key.startswith("pool_") and key.endswith(end) and source in labels("funding_source"):
            return f"资金池{labels('funding_source')[source]}{what}（万元）"
    return column_label(_INFO_KEYS.get(key, key))


def _info_for_people(table: pd.DataFrame) -> pd.DataFrame:
    """Return an information table (``key, value``) with Chinese keys and values."""
    kept: pd.DataFrame = table[~table["key"].isin(_INFO_HIDDEN)]
    out: pd.DataFrame = pd.DataFrame(
        {
            "key": [_info_key(str(k)) for k in kept["key"]],
            "value": [_info_value(v) for v in kept["value"]],
        }
    )
    return out


def _header(column: str) -> str:
    """Header of a workbook column; a translated code column takes its Chinese twin's label."""
    if _value_domain(column) is not None:
        twin = column_label(f"{column}_zh")
        if twin != f"{column}_zh":
            return twin
    return column_label(column)


def _lookup(layer: pd.DataFrame | None, key: str, column: str) -> dict[str, str]:
    """``key`` → ``column`` of an input layer, as text (missing layer or column: empty)."""
    if layer is None or key not in layer.columns or column not in layer.columns:
        return {}
    pairs = layer[[key, column]].dropna()
    return {str(k): str(v) for k, v in zip(pairs[key], pairs[column], strict=True)}


def _with_names(table: pd.DataFrame, layers: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Put the name and 街道 right after the id of a table keyed by community (or unit).

    ``community_id`` gets ``community_name`` and ``street`` from the communities layer (a
    ``name`` column copied from it is replaced: a ``name``/``name_zh`` pair would read as a
    code and its twin); ``unit_id``
    (a bundle member or a debt-tested unit: a community or a project) gets ``unit_name``,
    the community's or else the project's name, and the community's ``street`` (a project
    has none: blank).
    """
    key = next((c for c in ("community_id", "unit_id") if c in table.columns), None)
    if key is None:
        return table
    communities, projects = layers.get("communities"), layers.get("projects")
    names = _lookup(communities, "community_id", "name")
    if key == "unit_id":
        names = {**_lookup(projects, "project_id", "name"), **names}
    streets = _lookup(communities, "community_id", "street")
    name_col = "community_name" if key == "community_id" else "unit_name"
    copied = ("name", name_col, "street")  # ``name`` of a community table: its copied name
    out: pd.DataFrame = table.drop(columns=[c for c in copied if c in table])
    ids = out[key].map(lambda v: str(v) if pd.notna(v) else "")
    at = list(out.columns).index(key) + 1
    out.insert(at, name_col, ids.map(lambda v: names.get(v, "")))
    out.insert(at + 1, "street", ids.map(lambda v: streets.get(v, "")))
    return out


def _type_names(results: Mapping[str, pd.DataFrame]) -> dict[str, str]:
    """Facility type code → Chinese name: the life-circle standard, then the run's own names.

    A run with its own standard table carries its names in the ``type``/``type_zh`` columns
    of its results; those win over the packaged table's.
    """
    names = {
        str(code): str(name) for code, name in standards.standard_table(None)["name_zh"].items()
    }
    for table in results.values():
        if {"type", "type_zh"} <= set(table.columns):
            pairs = table[["type", "type_zh"]].dropna().drop_duplicates()
            names.update(zip(pairs["type"].astype(str), pairs["type_zh"].astype(str), strict=True))
    return names


def _write_workbook(
    results: Mapping[str, pd.DataFrame],
    path: Path,
    layers: Mapping[str, pd.DataFrame] | None = None,
) -> None:
    """Write the 目录 sheet, then one sheet per registered table that has a sheet name.

    Rows keyed by community (or bundle unit) show its name and 街道 from ``layers``
    (the communities and projects layers), in the workbook only.
    """
    specs = [s for s in result_tables().values() if s.sheet_zh and s.key in results]
    names = _type_names(results)
    tables = {
        str(s.sheet_zh): for_people(_with_names(results[s.key], layers or {}), type_names=names)
        for s in specs
    }
    index = pd.DataFrame(
        {
            "sheet_zh": [str(s.sheet_zh) for s in specs],
            "description_zh": [s.description_zh for s in specs],
            "rows": [len(results[s.key]) for s in specs],
        }
    )
    sheets = {INDEX_SHEET: index, **tables}
    headers = {name: {str(c): _header(str(c)) for c in t.columns} for name, t in tables.items()}
    totals = {
        str(s.sheet_zh): [c for c in s.totals if c in tables[str(s.sheet_zh)].columns]
        for s in specs
        if s.totals
    }
    weighted = {
        str(s.sheet_zh): {rate: (num, den) for rate, num, den in s.weighted}
        for s in specs
        if s.weighted
    }
    write_workbook(
        path,
        sheets,
        labels={INDEX_SHEET: _INDEX_LABELS, **headers},
        totals=totals,
        weighted=weighted,
    )


def write_results(
    folder: Path,
    layers: Mapping[str, pd.DataFrame],
    results: Mapping[str, pd.DataFrame],
    report: ValidationReport,
) -> None:
    """Write ``results.gpkg``, ``validation_issues.csv``, ``results.xlsx`` and ``tables/``.

    The GeoPackage holds the layers, then the results, in the order given (the file's bytes
    depend on it); the workbook and the CSV files hold the results only.
    """
    _write_gpkg({**layers, **results}, folder / GPKG_NAME)
    report.to_frame().map(csv_safe).to_csv(folder / ISSUES_CSV, index=False, encoding="utf-8-sig")
    if results:
        _write_workbook(results, folder / XLSX_NAME, layers)
        write_csv_tables(folder / TABLES_DIR, results)


def _is_run_record(record: object) -> bool:
    """Whether a parsed ``run.json`` has the keys gisplan writes (a hand-made ``{}`` has not)."""
    if not isinstance(record, dict):
        return False
    scenario, outputs = record.get("scenario"), record.get("outputs")
    return (
        isinstance(record.get("gisplan_version"), str)
        and isinstance(scenario, dict)
        and isinstance(scenario.get("parameters"), dict)
        and isinstance(record.get("inputs"), list)
        and isinstance(outputs, dict)
        and all(isinstance(k, str) and isinstance(v, str) for k, v in outputs.items())
    )


def _run_record(folder: Path) -> dict[str, Any] | None:
    try:
        record = json.loads((folder / RUN_JSON).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if _is_run_record(record) else None


def _unexpected(folder: Path) -> list[str]:
    """Files of a run folder that its ``run.json`` does not list, or that changed since."""
    record = _run_record(folder)
    listed: dict[str, str] = record["outputs"] if record else {}
    found = []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if rel in {RUN_JSON, RUN_LOG} or path.is_dir():
            continue
        if rel not in listed:
            found.append(rel)
        elif not path.is_file() or file_sha256(path) != listed[rel]:
            found.append(f"{rel} (changed)")
    return found


def check_out(out: Path, inputs: list[Path], *, overwrite: bool, force: bool = False) -> None:
    """Refuse an output folder that exists (unless overwriting a gisplan output) or holds inputs.

    A folder is gisplan's when its ``run.json`` has the keys gisplan writes; it is replaced
    only if every other file in it is one ``run.json`` lists, unchanged (SHA-256), or with
    ``force``.

    Raises
    ------
    OutputError
        ``out`` is a file; it exists and ``overwrite`` is false; it holds one of ``inputs``;
        it was not written by gisplan; or it holds files gisplan did not write (without
        ``force``), listed in the message.
    """
    inside = sorted({p for p in inputs if p.resolve().is_relative_to(out)})
    if inside and overwrite:
        raise OutputError(
            f"output folder {out} holds inputs of the run ({', '.join(p.name for p in inside)}); "
            "--overwrite would delete them: choose another folder with --out"
        )
    check_replaceable(
        out,
        overwrite=overwrite,
        ours=lambda folder: _run_record(folder) is not None,
        kind="output",
        flag="--out",
        mark=f"{RUN_JSON} written by gisplan",
        unexpected=_unexpected,
        force=force,
    )


def prepare_out(
    out: Path, inputs: list[Path], *, overwrite: bool, force: bool = False
) -> FolderLock:
    """Lock the output folder for this run, then check it may be written (:func:`check_out`).

    Call it before the run's computation: a second run to the same folder, or a folder
    that cannot be written, fails at once. Give the lock to
    :func:`gisplan._atomic.atomic_dir` and release it when the run ends.

    Raises
    ------
    OutputError
        Another gisplan process writes ``out``; it cannot be made; or :func:`check_out`
        refuses it.
    """
    lock = FolderLock(out).acquire()
    try:
        check_out(out, inputs, overwrite=overwrite, force=force)
    except BaseException:
        lock.release()
        raise
    return lock


#: Keys of ``run.json`` that differ between two runs of the same inputs (the clock).
_CLOCK_KEYS = ("started_utc", "timings_s")


def run_record_sha256(path: Path) -> str:
    """Return the SHA-256 of a ``run.json`` without its clock (start time, timings).

    Two runs of the same inputs give the same value, so a site that cites its run stays
    byte-identical run to run.

    Raises
    ------
    OutputError
        The file cannot be read or is not JSON.
    """
    record = _read_json(path)
    kept = {k: v for k, v in record.items() if k not in _CLOCK_KEYS}
    text = json.dumps(kept, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def record_outputs(folder: Path, files: list[Path]) -> None:
    """Record the SHA-256 of ``files`` (rewritten inside a run folder) in its ``run.json``.

    ``gisplan map`` calls it after redrawing, so ``--overwrite`` still knows the files as
    gisplan's. A folder without a gisplan ``run.json`` is left alone.
    """
    record = _run_record(folder)
    if record is None:
        return
    outputs = dict(record["outputs"])
    for path in files:
        outputs[path.relative_to(folder).as_posix()] = file_sha256(path)
    record["outputs"] = dict(sorted(outputs.items()))
    text = json.dumps(record, ensure_ascii=False, indent=2) + "\n"
    atomic_write(folder / RUN_JSON, text.encode("utf-8"))


def _input_files(path: Path) -> list[Path]:
    """Return the file itself, plus a shapefile's sidecar files."""
    if path.suffix.lower() != ".shp":
        return [path]
    return sorted(p for p in path.parent.glob(path.stem + ".*") if p.is_file())


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version(), "gisplan": __version__}
    out.update({name: metadata.version(name) for name in _VERSIONED})
    out["GDAL"] = pyogrio.__gdal_version_string__
    out["PROJ"] = pyproj.proj_version_str
    return out


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Return a table's rows as plain JSON values (``null`` for missing)."""
    records: list[dict[str, Any]] = json.loads(frame.to_json(orient="records", force_ascii=False))
    return records


def write_run_json(
    path: Path, scenario: Scenario, result: RunResult, *, started: str, steps: list[str]
) -> None:
    """Write ``run.json``: inputs' SHA-256, parameters, CRS, steps, versions, timings, outputs.

    ``outputs`` holds the SHA-256 of every file already in the folder (``run.json`` aside);
    ``targets`` the rows of the plan's targets table (met or not, what is missing), when the
    run checked targets.
    """
    sha256 = functools.cache(file_sha256)  # a GeoPackage often holds several layers: hash it once
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
    packaged = Path(str(resources.files("gisplan") / "data" / _PACKAGED_STANDARD))
    standards = scenario.standards or packaged
    inputs.append({"kind": "standards", "path": str(standards), "sha256": file_sha256(standards)})
    record = {
        "gisplan_version": __version__,
        "started_utc": started,
        "scenario": {
            "file": str(scenario.source) if scenario.source else None,
            "sha256": file_sha256(scenario.source) if scenario.source else None,
            "parameters": scenario.model_dump(mode="json"),
        },
        "inputs": inputs,
        "crs": {
            "metric": result.crs.to_string(),
            "name": result.crs.name,
            "chosen": scenario.metric_crs,
        },
        "steps": ["layers", *steps],
        "layers": {kind: len(gdf) for kind, gdf in result.layers.items()},
        "outputs": {
            f.relative_to(path.parent).as_posix(): file_sha256(f)
            for f in sorted(path.parent.rglob("*"))
            if f.is_file() and f != path
        },
        "issues": {"errors": len(result.report.errors), "warnings": len(result.report.warnings)},
        **({"targets": _records(result.results["targets"])} if "targets" in result.results else {}),
        "versions": _versions(),
        "timings_s": {k: round(v, 3) for k, v in result.timings_s.items()},
    }
    path.write_text(json.dumps(record, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


# --------------------------------------------------------------------------- the reader


class _Chain(Mapping[str, Any]):
    """Read-only union of mappings; the first that has a key wins."""

    def __init__(self, *maps: Mapping[str, Any]) -> None:
        self._maps = maps

    def __getitem__(self, key: str) -> Any:  # noqa: ANN401 - a DataFrame or GeoDataFrame
        for mapping in self._maps:
            if key in mapping:
                return mapping[key]
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys(k for m in self._maps for k in m))

    def __len__(self) -> int:
        return sum(1 for _ in self)


class _Frames(Mapping[str, Any]):
    """Layers of a GeoPackage, read on first access and kept."""

    def __init__(self, gpkg: Path, names: dict[str, bool]) -> None:
        self._gpkg = gpkg
        self._names = names  # name → has geometry
        self._read: dict[str, pd.DataFrame] = {}

    def __getitem__(self, name: str) -> Any:  # noqa: ANN401 - a DataFrame or GeoDataFrame
        if name not in self._names:
            raise KeyError(name)
        if name not in self._read:
            try:
                if self._names[name]:
                    frame = gpd.read_file(self._gpkg, layer=name, engine="pyogrio")
                else:
                    frame = pyogrio.read_dataframe(self._gpkg, layer=name, read_geometry=False)
            except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as err:
                raise LayerError(
                    f"{self._gpkg}: layer '{name}' cannot be read ({err}); the file is damaged "
                    "or incomplete: re-run the scenario to rewrite the output folder"
                ) from err
            self._read[name] = frame
        return self._read[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __repr__(self) -> str:
        return f"<{len(self)} layers of {self._gpkg}>"


def _read_json(path: Path) -> dict[str, Any]:
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(record, dict) or not isinstance(record["scenario"]["parameters"], dict):
            raise TypeError("not a run record")  # noqa: TRY301 - one message below
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise OutputError(
            f"{path}: cannot read the scenario parameters ({err!r}); the file is damaged or "
            "not from gisplan: re-run the scenario to rewrite it"
        ) from err
    return record


def _read_issues(path: Path) -> ValidationReport:
    report = ValidationReport()
    if not path.is_file():
        return report
    frame = pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False).map(
        lambda v: v[1:] if v.startswith("'") and v[1:].startswith(FORMULA_PREFIXES) else v
    )
    for layer, row, column, severity, problem, fix in frame[
        ["layer", "row", "column", "severity", "problem", "fix"]
    ].itertuples(index=False):
        report.add(
            str(layer),
            str(problem),
            str(fix),
            severity="error" if severity == "error" else "warning",
            row=str(row) or None,
            column=str(column) or None,
        )
    return report


def _gpkg_crs(gpkg: Path, listed: Mapping[str, bool]) -> str | None:
    """Return the CRS of the first spatial layer of a GeoPackage (a run.json without one)."""
    for name, spatial in listed.items():
        crs = pyogrio.read_info(gpkg, layer=name)["crs"] if spatial else None
        if crs:
            return str(crs)
    return None


def read_run(out_dir: str | Path) -> RunResult:
    """Read a finished run folder back (the one reader of run folders).

    Layers and tables are read from ``results.gpkg`` when first used; the parameters, CRS
    and timings come from ``run.json``, the warnings from ``validation_issues.csv``.

    Raises
    ------
    OutputError
        The folder does not exist, or ``results.gpkg`` or ``run.json`` is missing or broken.
    LayerError
        ``results.gpkg`` cannot be opened.

    Examples
    --------
    >>> gisplan.outputs.read_run("no/such/folder")
    Traceback (most recent call last):
    ...
    gisplan.errors.OutputError: run folder no/such/folder does not exist ...
    """
    folder = Path(out_dir)
    if not folder.is_dir():
        raise OutputError(
            f"run folder {folder} does not exist or is not a folder; pass the output folder "
            "of `gisplan run` (it holds run.json and results.gpkg)"
        )
    missing = [n for n in (RUN_JSON, GPKG_NAME) if not (folder / n).is_file()]
    if missing:
        raise OutputError(
            f"{folder} is not a gisplan run folder: {' and '.join(missing)} missing; pass the "
            f"folder written by `gisplan run SCENARIO --out {folder}` (run it first)"
        )
    record = _read_json(folder / RUN_JSON)
    gpkg = folder / GPKG_NAME
    try:
        listed = {str(name): geometry is not None for name, geometry in pyogrio.list_layers(gpkg)}
    except pyogrio.errors.DataSourceError as err:
        raise LayerError(
            f"{gpkg}: not a readable GeoPackage ({err}); re-run the scenario to rewrite it"
        ) from err
    crs_text = record.get("crs", {}).get("metric") or _gpkg_crs(gpkg, listed)
    if not crs_text:
        raise OutputError(
            f"{folder / RUN_JSON}: no metric CRS recorded and no layer has one; re-run the "
            "scenario to rewrite the folder"
        )
    kinds = set(LAYER_KINDS)
    return RunResult(
        scenario=None,
        crs=pyproj.CRS.from_user_input(crs_text),
        layers=_Frames(gpkg, {k: v for k, v in listed.items() if k in kinds}),
        report=_read_issues(folder / ISSUES_CSV),
        results=_Frames(gpkg, {k: v for k, v in listed.items() if k not in kinds}),
        out_dir=folder,
        timings_s=dict(record.get("timings_s", {})),
        parameters=record["scenario"]["parameters"],
    )
