"""项目储备库: the register of renovation projects a bureau keeps from one year to the next.

A county does not plan from scratch every year. It keeps a database of its old communities
(临沂 二(一): 建立老旧小区数据库，合理确定改造项目和时序，逐级生成……分年度计划) and works
"实施一批，谋划一批，储备一批" and "成熟一个、改造一个" (利通 五(二)): a project is started
when it is ready, so money waits for ready projects, not projects for money. A project is
ready when its scheme has been drafted, publicised and voted by residents (住建部2021 底线(七):
改造方案应经法定比例以上居民书面（线上）表决同意后，方可开工改造), the residents have agreed
the property management and its fee (底线(八)), the scheme has passed the joint review that
is the basis of 立项 and the other approvals (临夏 五(一)), the money is committed and the
approvals are done.

* :func:`build_register` makes the register after a run: one row per community that is
  eligible or already in the programme (新开工/在建/竣工), with what the run knows (status,
  years, priority, cost, committed money, gap, financing mode, the residents' vote) and the
  readiness fields the bureau fills in; last year's register keeps what the bureau entered.
* :func:`write_register` writes it as ``项目储备库.xlsx`` (Chinese headers, 是/否, same bytes
  for the same register); :func:`read_register` reads it back (xlsx, CSV or GeoPackage table,
  Chinese headers and their aliases as for every layer).
* :func:`apply_register` starts next year's run from it: statuses and years go back into the
  communities layer (a community the register says 新开工 is not planned again), the vote and
  the fee agreement too, and a ``ready`` column says which communities are ready.

The columns are the ``register`` rows of ``gisplan/data/layer_schema.csv``.
"""

from __future__ import annotations

import logging
import math
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from gisplan.errors import GisplanWarning, LayerError, SchemaError
from gisplan.layers import check_layer, layer_schema, validate_layer
from gisplan.report import write_workbook
from gisplan.vocabulary import column_label

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

__all__ = [
    "READINESS",
    "REGISTER_NAME",
    "REGISTER_SHEET",
    "apply_register",
    "build_register",
    "read_register",
    "write_register",
]

logger = logging.getLogger(__name__)

#: File name of the register in a run's output folder.
REGISTER_NAME = "项目储备库.xlsx"
#: Sheet of the register in the workbook.
REGISTER_SHEET = "项目储备库"
#: Readiness fields: a project is ready (就绪) when every one of them is 是.
READINESS: tuple[str, ...] = (
    "scheme_drafted",
    "publicised",
    "voted",
    "fee_agreed",
    "reviewed",
    "funds_committed",
    "approvals",
)
#: Fields the bureau keeps: a previous register's non-blank values are never overwritten.
_BUREAU: tuple[str, ...] = (*READINESS, "readiness_note", "updated")
#: Eligibility statuses that put a community in the register.
_ELIGIBLE = frozenset({"eligible", "eligible_waiting_consent"})
#: Project statuses of a renovation already in the programme.
_UNDER_WAY = frozenset({"新开工", "在建", "竣工"})
#: Readiness a started renovation must have had (底线(七) vote on a scheme, 底线(八) fee).
_IMPLIED_BY_START: tuple[str, ...] = ("scheme_drafted", "voted", "fee_agreed")
#: Register column → communities column that :func:`apply_register` updates.
_TO_COMMUNITIES: dict[str, str] = {
    "status": "status",
    "planned_year": "planned_year",
    "start_year": "start_year",
    "completion_year": "completion_year",
    "voted": "scheme_vote_passed",
    "fee_agreed": "property_fee_agreed",
}
#: Readiness fields whose 否 means "not yet", not an outcome: only 是 reaches the communities.
#: A vote that failed is recorded in the communities layer (改造方案表决通过 = 否), where the
#: plan reads it as 方案表决未通过; a register row still waiting must not say the same.
_ONLY_YES = frozenset({"voted", "fee_agreed"})
#: pandas type of a blank column of each schema type (as check_layer coerces it).
_PANDAS_TYPES: dict[str, str] = {
    "str": "string",
    "enum": "string",
    "year": "Int64",
    "int": "Int64",
    "float": "Float64",
    "bool": "boolean",
    "date": "datetime64[ns]",
}
_CENT = 0.005  # 万元: committed money within half a 百元 of the cost covers it
_MAX_LISTED = 20


def _columns() -> tuple[str, ...]:
    return layer_schema("register").names


def _blank_column(column: str, index: pd.Index[Any]) -> pd.Series[Any]:
    dtype = _PANDAS_TYPES[layer_schema("register").column(column).dtype]
    blank: pd.Series[Any] = pd.Series(
        pd.NA if dtype != "datetime64[ns]" else pd.NaT, index=index, dtype=dtype
    )
    return blank


def _labelled(columns: Iterable[str]) -> str:
    """``方案已编制 (scheme_drafted)、方案已公示 (publicised)`` for a message."""
    schema = layer_schema("register")
    return "、".join(f"{schema.column(c).label_zh} ({c})" for c in columns)


def _listed(ids: Iterable[str]) -> str:
    shown = sorted(ids)
    more = f" …（共 {len(shown)} 个）" if len(shown) > _MAX_LISTED else ""
    return "、".join(shown[:_MAX_LISTED]) + more


def _by_id(frame: pd.DataFrame | None, column: str) -> pd.Series[Any]:
    """Column of a run table indexed by community id (empty when table or column is absent)."""
    if frame is None or column not in frame.columns or "community_id" not in frame.columns:
        return pd.Series(dtype=object)
    table = frame.drop_duplicates("community_id", keep="first")
    out: pd.Series[Any] = pd.Series(
        table[column].to_numpy(dtype=object), index=table["community_id"].astype(str)
    )
    return out


def _known(value: object) -> bool:
    return not (value is None or value is pd.NA or value is pd.NaT) and not (
        isinstance(value, float) and math.isnan(value)
    )


def _flag(value: object) -> object:
    """Return a yes/no cell as True/False, ``pd.NA`` when blank (1.0 from a GeoPackage: True)."""
    if not _known(value):
        return pd.NA
    if isinstance(value, str):
        text = value.strip()
        return True if text == "是" else (False if text == "否" else pd.NA)
    return bool(value)


def _conform(frame: pd.DataFrame, label: str) -> pd.DataFrame:
    """Coerce a register to the schema's types (as :func:`read_register` returns it)."""
    clean, report = check_layer(frame, "register", name=label)
    report.raise_if_fatal()
    out = pd.DataFrame(clean).copy()
    for column in _columns():  # an optional column left out is blank
        if column not in out.columns:
            out[column] = _blank_column(column, out.index)
    out = out[list(_columns())]
    readiness = out[list(READINESS)].fillna(value=False).astype(bool)
    out["ready"] = pd.array(readiness.all(axis=1).to_numpy(), dtype="boolean")
    conformed: pd.DataFrame = out.reset_index(drop=True)
    return conformed


def _unknown_ids(register_ids: Iterable[str], communities: pd.DataFrame, what: str) -> None:
    known = set(communities["community_id"].astype(str))
    unknown = {i for i in register_ids if i not in known}
    if unknown:
        raise LayerError(
            f"{what}: 小区编号 {_listed(unknown)} 不在 communities 图层中 (community ids not in "
            "the communities layer); 在 communities 图层补上这些小区，或从储备库删去这些行 "
            "(add them to the communities layer or delete their rows from the register)"
        )


def _run_rows(communities: pd.DataFrame, frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Return the run's view of every community, by community id (all register columns)."""
    comm = communities.drop_duplicates("community_id", keep="first")
    ids = comm["community_id"].astype(str)
    rows = pd.DataFrame(index=pd.Index(ids.to_numpy(), name="community_id"))
    for column in ("name", "street"):
        rows[column] = comm[column].to_numpy(dtype=object) if column in comm else None
    status = _by_id(comm, "status").reindex(rows.index)
    rows["status"] = status.where(status.map(lambda s: s in _UNDER_WAY), "储备")
    under_way = rows["status"].isin(_UNDER_WAY)
    rollout = frames.get("rollout")
    start = _by_id(rollout, "start_year").reindex(rows.index)
    given_start = _by_id(comm, "start_year").reindex(rows.index)
    start = start.where(start.map(_known), given_start)
    done = _by_id(rollout, "completion_year").reindex(rows.index)
    done = done.where(done.map(_known), _by_id(comm, "completion_year").reindex(rows.index))
    planned = _by_id(comm, "planned_year").reindex(rows.index)
    # the year given, else the roll-out's start: a 储备 community's planned year (it has no
    # start or completion yet), a started one's start year
    rows["planned_year"] = planned.where(planned.map(_known), start)
    rows["start_year"] = start.where(under_way)
    rows["completion_year"] = done.where(under_way)
    priority = _by_id(frames.get("plan"), "priority").reindex(rows.index)
    rows["priority"] = priority.where(
        priority.map(_known), _by_id(rollout, "priority").reindex(rows.index)
    ).map(lambda v: round(float(v), 3) if _known(v) else None)
    money = frames.get("funding_modes")
    cost = _by_id(money, "cost_wan_yuan").reindex(rows.index)
    cost = cost.where(
        cost.map(_known), _by_id(frames.get("scheme_costs"), "cost_wan_yuan").reindex(rows.index)
    )
    committed = _by_id(money, "committed_wan_yuan").reindex(rows.index)
    for column, values in (
        ("cost_wan_yuan", cost),
        ("committed_wan_yuan", committed),
        ("assumed_wan_yuan", _by_id(money, "assumed_wan_yuan").reindex(rows.index)),
        ("gap_wan_yuan", _by_id(money, "shortfall_wan_yuan").reindex(rows.index)),
    ):
        rows[column] = values.map(lambda v: round(float(v), 2) if _known(v) else None)
    rows["financing_mode"] = _by_id(frames.get("financing_modes"), "mode_zh").reindex(rows.index)
    for column in READINESS:
        rows[column] = pd.NA
    rows["voted"] = _by_id(comm, "scheme_vote_passed").reindex(rows.index).map(_flag)
    rows["fee_agreed"] = _by_id(comm, "property_fee_agreed").reindex(rows.index).map(_flag)
    rows["funds_committed"] = [
        (float(m) >= float(c) - _CENT) if _known(c) and _known(m) else pd.NA
        for c, m in zip(cost, committed, strict=True)
    ]
    for column in _IMPLIED_BY_START:  # works started: the vote and the fee were agreed (七)(八)
        rows[column] = rows[column].where(~(under_way & rows[column].isna()), True)  # noqa: FBT003
    rows["ready"] = pd.NA
    rows["readiness_note"] = None
    rows["updated"] = None
    out: pd.DataFrame = rows
    return out


def build_register(
    communities: pd.DataFrame,
    frames: Mapping[str, pd.DataFrame],
    *,
    previous: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Build the 项目储备库 from a run: one row per eligible or started community.

    Parameters
    ----------
    communities
        The communities layer of the run (``community_id``, ``name``, ``street``,
        ``status``, ``start_year``, ``completion_year``, ``planned_year``,
        ``scheme_vote_passed``, ``property_fee_agreed`` are used when present).
    frames
        The run's result tables by name (:meth:`gisplan.RunResult.frames`): ``eligibility``
        (required: who is eligible), and when present ``rollout`` (years), ``plan``
        (priority), ``funding_modes`` (cost, committed, assumed money and the gap),
        ``scheme_costs`` (cost when no funding row) and ``financing_modes`` (mode).
    previous
        Last year's register (:func:`read_register`). Its rows stay in the register, and what
        the bureau entered in the readiness fields, ``readiness_note`` and ``updated`` is kept;
        the run only fills blanks there. Status, years and money come from this run.

    Returns
    -------
    pandas.DataFrame
        The register columns of ``layer_schema("register")`` in schema order, one row per
        community, sorted by ``community_id``. A started renovation (新开工/在建/竣工) has
        方案已编制, 方案已表决通过 and 物业费已书面确认 filled with 是 when blank (it could not
        start otherwise: 住建部2021 底线(七)(八)); 资金已落实 is 是 when committed money covers
        the cost; ``ready`` (就绪) is True when every readiness field is 是.

    Raises
    ------
    LayerError
        If ``frames`` has no ``eligibility`` table, or ``previous`` names communities the
        communities layer does not have.
    ValidationError
        If ``previous`` has bad values (a 是/否 cell saying 也许, a duplicated id …).

    Examples
    --------
    >>> comm = pd.DataFrame({"community_id": ["C1", "C2"], "status": ["储备", "在建"]})
    >>> elig = pd.DataFrame({"community_id": ["C1", "C2"], "status": ["eligible", "not_eligible"]})
    >>> reg = gisplan.register.build_register(comm, {"eligibility": elig})
    >>> reg[["community_id", "status", "voted"]].to_numpy().tolist()
    [['C1', '储备', <NA>], ['C2', '在建', True]]
    """
    if "eligibility" not in frames:
        raise LayerError(
            "build_register: 缺少 eligibility 结果表 (the run's eligibility table is missing); "
            "pass the run's tables, e.g. gisplan.read_run(out_dir).frames()"
        )
    rows = _run_rows(communities, frames)
    status = _by_id(frames["eligibility"], "status").reindex(rows.index)
    keep = status.isin(_ELIGIBLE) | rows["status"].isin(_UNDER_WAY)
    old: pd.DataFrame | None = None
    if previous is not None:
        old = _conform(previous, "previous register").set_index("community_id")
        _unknown_ids(old.index, communities, "previous register")
        keep |= rows.index.isin(old.index)
    table = rows[keep.to_numpy()].copy()
    if old is not None:
        old = old.reindex(table.index)
        for column in _BUREAU:
            kept = old[column].astype(object)
            table[column] = kept.where(kept.map(_known), table[column].astype(object))
    table = table.reset_index().sort_values("community_id", kind="stable")
    logger.info(
        "项目储备库: %d communities (%d started)",
        len(table),
        int(table["status"].isin(_UNDER_WAY).sum()),
    )
    return _conform(pd.DataFrame(table), "register")


def _missing_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in READINESS if c not in frame.columns]


def write_register(register: pd.DataFrame, path: Path) -> None:
    """Write the register as an Excel workbook: one sheet 项目储备库, Chinese headers, 是/否.

    The bytes depend only on the register (no save time inside), so the same register gives
    the same file.

    Parameters
    ----------
    register
        A register (:func:`build_register` or :func:`read_register`).
    path
        The ``.xlsx`` file (e.g. ``out / REGISTER_NAME``), replaced if it exists.

    Raises
    ------
    SchemaError
        If the register lacks readiness columns.
    """
    missing = _missing_columns(register)
    if missing:
        raise SchemaError(
            f"{path.name}: 储备库缺少就绪事项列 {_labelled(missing)} (readiness columns "
            "missing); 用 gisplan.register.build_register 生成储备库 (build it with "
            "build_register)"
        )
    table = _conform(register, "register")
    table["updated"] = table["updated"].map(lambda d: d.date() if _known(d) else None)
    headers = {c: column_label(c, layer="register") for c in table.columns}
    write_workbook(path, {REGISTER_SHEET: table}, labels={REGISTER_SHEET: headers})
    logger.info("wrote %s: %d rows", path, len(table))


def read_register(path: str | Path) -> pd.DataFrame:
    """Read a 项目储备库 the bureau kept: an xlsx (sheet 项目储备库), a CSV or a GeoPackage table.

    Headers may be the Chinese labels, their aliases or the codes (as for every layer);
    是/否 cells become True/False. ``ready`` (就绪) is computed again from the readiness
    fields, whatever the file says.

    Parameters
    ----------
    path
        The register file.

    Returns
    -------
    pandas.DataFrame
        The register, as :func:`build_register` returns it.

    Raises
    ------
    ValidationError
        If the file is missing or unreadable, or has fatal problems: readiness columns
        missing (a register from an older gisplan), a duplicated or empty 小区编号, a cell of a
        是/否 column saying anything else, a status other than 储备/新开工/在建/竣工 … every
        problem in one message.
    """
    path = Path(path)
    clean, report = validate_layer(path, "register", name=path.name)
    if clean is not None:
        missing = _missing_columns(clean)
        if missing:
            report.add(
                path.name,
                f"缺少就绪事项列 {_labelled(missing)} (readiness columns missing: a register "
                "from an older gisplan)",
                "用本版 gisplan 重新导出储备库，或在表中补上这些列（值填 是/否，未办的留空）"
                " (re-export it with this version, or add these columns: 是/否, blank if not "
                "done)",
                column=",".join(missing),
            )
    report.raise_if_fatal()
    if report.warnings:
        lines = "\n".join(f"  {i.format()}" for i in report.warnings)
        warnings.warn(
            f"{path.name}: {len(report.warnings)} warning(s)\n{lines}", GisplanWarning, stacklevel=2
        )
    assert clean is not None  # noqa: S101 - raise_if_fatal raised when the file was unreadable
    return _conform(pd.DataFrame(clean), path.name)


def apply_register(communities: pd.DataFrame, register: pd.DataFrame) -> pd.DataFrame:
    """Start a run from the register: its statuses, years and readiness go into the communities.

    For every community in the register, the non-blank 项目状态, 纳入改造计划年份, 改造开工年份
    and 改造竣工年份 replace the communities layer's (a community the register says 新开工 in
    2027 is not planned again), 方案已表决通过 = 是 sets ``scheme_vote_passed`` and
    物业管理模式和物业费已书面确认 = 是 ``property_fee_agreed`` (否 there means "not yet" and
    leaves the layer's value: a failed vote is recorded in the communities layer). A
    ``ready`` column (bool) says which communities are ready (就绪: every readiness field
    是; False when not in the register).

    Parameters
    ----------
    communities
        The communities layer (not modified; a copy is returned, index and order kept).
    register
        The register (:func:`read_register`).

    Returns
    -------
    pandas.DataFrame
        The updated copy of ``communities`` (a GeoDataFrame stays one).

    Raises
    ------
    LayerError
        If the register names communities the layer does not have, or a 小区编号 twice.

    Examples
    --------
    >>> comm = pd.DataFrame({"community_id": ["C1", "C2"], "status": ["储备", "储备"]})
    >>> reg = pd.DataFrame({"community_id": ["C2"], "status": ["新开工"], "start_year": [2027]})
    >>> out = gisplan.register.apply_register(comm, reg)
    >>> out[["status", "ready"]].to_numpy().tolist()
    [['储备', False], ['新开工', False]]
    """
    if "community_id" not in register.columns:
        raise SchemaError(
            "register: 缺少 小区编号 (community_id) 列; 用 read_register 读取储备库 "
            "(read the register with read_register)"
        )
    ids = register["community_id"].astype(str)
    twice = set(ids[ids.duplicated()])
    if twice:
        raise LayerError(
            f"register: 小区编号 {_listed(twice)} 出现多次 (community ids appear more than "
            "once); 每个小区只保留一行 (keep one row per community)"
        )
    _unknown_ids(ids, communities, "register")
    out = communities.copy()
    reg = register.set_index(ids)
    keys = out["community_id"].astype(str)
    for source, target in _TO_COMMUNITIES.items():
        if source not in reg.columns:
            continue
        new = keys.map(reg[source].astype(object))
        new = new.where(new.map(_known), None)
        if source in _ONLY_YES:
            new = new.where(new.map(lambda v: _flag(v) is True), None)
        if target not in out.columns:
            out[target] = new.to_numpy()
            continue
        given = out[target].astype(object)
        merged = given.where(~new.map(_known), new)
        try:
            out[target] = merged.astype(out[target].dtype)
        except (TypeError, ValueError):
            out[target] = merged
    readiness = reg.reindex(columns=list(READINESS)).astype(object)
    ready = readiness.map(lambda v: _flag(v) is True).all(axis=1)
    out["ready"] = keys.map(ready).fillna(value=False).astype(bool).to_numpy()
    started = int(keys.map(reg["status"]).isin(_UNDER_WAY).sum()) if "status" in reg else 0
    logger.info(
        "register applied: %d communities updated (%d started), %d ready",
        int(keys.isin(reg.index).sum()),
        started,
        int(out["ready"].sum()),
    )
    result: pd.DataFrame = out
    return result
