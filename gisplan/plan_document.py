"""The drafted implementation plan: ``实施方案（草案）.docx`` written from a finished run.

The chapters follow the seeds' implementation plans (``linyi_2020_implementation_plan.txt``
一 总体要求 … 五 保障措施; ``litong_2023_implementation_plan_draft.txt`` 一 总体要求, 三 改造范围与
内容, 四 资金来源计划, 五 实施步骤, 六 组织保障): 一、总体要求; 二、改造范围与对象; 三、改造内容;
四、年度计划; 五、资金筹措; 六、实施步骤与时间安排; 七、保障措施; 附件. Every number comes from
the run's tables; policy prose the run cannot know (指导思想, 基本原则, 保障措施) is left as
【待填写：…】 for the bureau. Money the run assumed rather than found committed is labelled
测算（假设）.

:func:`key_map_figures` draws two static maps (plan status of every community, new facility
sites) with matplotlib for the 附件. Both files are deterministic: the same run gives the
same bytes.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import math
import re
from typing import TYPE_CHECKING, Any

import docx
import pandas as pd
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_COLOR_INDEX
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from gisplan._atomic import atomic_write
from gisplan._text import CJK_FONT_FAMILIES, display_width
from gisplan.eligibility import PRESETS, RULE_SOURCES
from gisplan.errors import OutputError
from gisplan.outputs import RUN_JSON
from gisplan.report import fixed_dates
from gisplan.vocabulary import column_label, labels

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path

    from docx.document import Document
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    from gisplan.outputs import RunResult

__all__ = ["CHAPTERS", "DOCX_NAME", "PLACEHOLDER", "key_map_figures", "write_implementation_plan"]

logger = logging.getLogger(__name__)

#: File name of the drafted plan.
DOCX_NAME = "实施方案（草案）.docx"
#: Mark of every part the bureau fills in.
PLACEHOLDER = "【待填写"

#: Chapter headings, in order.
CHAPTERS = (
    "一、总体要求",
    "二、改造范围与对象",
    "三、改造内容",
    "四、年度计划",
    "五、资金筹措",
    "六、实施步骤与时间安排",
    "七、保障措施",
    "附件",
)

_BODY_FONT = "仿宋"
_HEADING_FONT = "黑体"
_TITLE_FONT = "宋体"
_LATIN_FONT = "Times New Roman"
_WIDE_COLUMNS = 7  # more columns than this: the table goes in a landscape section
_VERY_WIDE_COLUMNS = 14  # more than this: a landscape A3 section
_SHORT_UNITS = 12  # a column whose values are at most this wide is sized to them, not shared
_MIN_TEXT_CM = 2.5  # a 改造内容 or name column is never narrower than this
_PAD_CM = 0.45  # a table cell's left and right padding (0.19 cm each in Word and LibreOffice)
#: The seeds by the short Chinese names the project cites them with (calendar.csv, reasons).
_SEED_NAMES = {
    "linyi_2020_implementation_plan.txt": "临沂2020",
    "linxia_2020_implementation_plan.txt": "临夏2020",
    "tongnan_2021_implementation_plan.txt": "潼南2021",
    "litong_2023_implementation_plan_draft.txt": "利通区2023",
    "mohurd_2021_requirements_notice.txt": "住建部2021",
}
_SEEDS = {"linyi": "临沂2020", "litong": "利通区2023"}
_SEED_FILE = re.compile("|".join(re.escape(name) for name in _SEED_NAMES))
#: A parenthesis or clause with no Chinese in it (e.g. "(hard)", "(counted)"): a code note.
_ASCII_NOTE = re.compile(r"\s*[(（][^()（）]*[A-Za-z]{3,}[^()（）]*[)）]")
#: "→ national": the preset a rule falls back to (a code).
_FALLBACK = re.compile(r"\s*→\s*[a-z_]+$")


def _cite_zh(source: str) -> str:
    """Return a rule's citation for people: seeds by their Chinese short names, no code notes.

    The eligibility rules cite their seed by file name with notes for programmers
    (``RULE_SOURCES``); a reader of the plan sees e.g. ``临夏2020 三(一)：…``, and a rule a
    preset's own seed lacks is said to be taken from another seed.

    Examples
    --------
    >>> _cite_zh("linxia_2020_implementation_plan.txt 三(一): 重点改造2000年底前建成 (priority)")
    '临夏2020 三(一)：重点改造2000年底前建成'
    >>> _cite_zh("not in this seed; kept from linxia_2020_implementation_plan.txt 三(一) (abc)")
    '本地方案未作规定，沿用临夏2020 三(一)'
    """
    borrowed = source.startswith("not in this seed")
    text = _SEED_FILE.sub(lambda m: _SEED_NAMES[m.group(0)], source)
    if borrowed:
        found = _SEED_FILE.search(source)
        kept = re.search(r"kept from (.+?)(?: —|$)", text)
        where = kept.group(1) if kept else (_SEED_NAMES[found.group(0)] if found else "")
        where = where.replace("Linyi", "临沂2020")
        return "本地方案未作规定，沿用" + _ASCII_NOTE.sub("", where).strip()
    text = _FALLBACK.sub("", _ASCII_NOTE.sub("", text))
    text = re.sub(r"\s*\(not a seed\)", "", text)
    text = re.sub(r", as quoted by ", "，见", text)
    text = re.sub(r" and (?=\S+20\d\d)", "、", text)
    text = re.sub(r"\s+definition:?.*$", "（定义）", text)
    text = re.sub(r":\s*(priority|counted|hard)\b.*$", "", text)
    return text.replace(": ", "：").strip()


# --------------------------------------------------------------------------- formatting


def _wan(value: Any) -> str:  # noqa: ANN401 - a number from a frame
    """万元 with two decimals, no thousands separator (as the seeds write money)."""
    return f"{float(value):.2f}"


def _int(value: Any) -> str:  # noqa: ANN401 - a number from a frame
    return str(round(float(value)))


def _wan_m2(value: Any) -> str:  # noqa: ANN401 - a number from a frame
    """m² as 万平方米 with two decimals (litong 三(二): 16.02万平方米)."""
    return f"{float(value) / 10_000:.2f}"


def _pct(value: Any) -> str:  # noqa: ANN401 - a number from a frame
    return f"{float(value) * 100:.1f}%"


def _cell_text(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


# --------------------------------------------------------------------------- docx helpers


def _set_fonts(element: Any, east_asia: str, latin: str = _LATIN_FONT) -> None:  # noqa: ANN401
    """Set ``w:rFonts`` on a style's or run's ``rPr``: Word and WPS read ``w:eastAsia``."""
    rpr = element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for theme in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(theme), None)
    fonts.set(qn("w:ascii"), latin)
    fonts.set(qn("w:hAnsi"), latin)
    fonts.set(qn("w:eastAsia"), east_asia)
    fonts.set(qn("w:cs"), latin)


def _styles(document: Document) -> None:
    normal = document.styles["Normal"]
    normal.font.size = Pt(14)
    _set_fonts(normal.element, _BODY_FONT)
    normal.paragraph_format.line_spacing = 1.25
    normal.paragraph_format.space_after = Pt(0)
    for level, size in ((1, 16), (2, 14)):
        style = document.styles[f"Heading {level}"]
        style.font.size = Pt(size)
        style.font.bold = level == 1
        style.font.italic = False
        style.font.color.rgb = RGBColor(0, 0, 0)
        _set_fonts(style.element, _HEADING_FONT if level == 1 else "楷体")
        style.paragraph_format.space_before = Pt(12 if level == 1 else 6)
        style.paragraph_format.space_after = Pt(6 if level == 1 else 3)
    for name, size in (("Title", 22), ("Caption", 11)):
        style = document.styles[name]
        style.font.size = Pt(size)
        style.font.color.rgb = RGBColor(0, 0, 0)
        style.font.italic = False
        _set_fonts(style.element, _TITLE_FONT if name == "Title" else _HEADING_FONT)
    title_borders = document.styles["Title"].element.pPr
    if title_borders is not None:  # the default template underlines the title: drop it
        for border in title_borders.findall(qn("w:pBdr")):
            title_borders.remove(border)


def _a4(section: Any, *, landscape: bool = False, a3: bool = False) -> None:  # noqa: ANN401
    """A4 with the margins of GB/T 9704 (top 37 mm, bottom 35, left 28, right 26); or A3."""
    width, height = (Cm(29.7), Cm(42.0)) if a3 else (Cm(21.0), Cm(29.7))
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = (height, width) if landscape else (width, height)
    if landscape:
        section.top_margin, section.bottom_margin = Cm(2.6), Cm(2.6)
        section.left_margin, section.right_margin = Cm(2.8), Cm(2.6)
    else:
        section.top_margin, section.bottom_margin = Cm(3.7), Cm(3.5)
        section.left_margin, section.right_margin = Cm(2.8), Cm(2.6)


def _page_numbers(section: Any) -> None:  # noqa: ANN401
    paragraph = section.footer.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    paragraph.add_run("— ")
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    field.append(run)
    paragraph._p.append(field)  # noqa: SLF001 - python-docx has no field API
    paragraph.add_run(" —")


def _para(document: Document, text: str, *, indent: bool = True) -> Paragraph:
    paragraph = document.add_paragraph(text)
    if indent:
        paragraph.paragraph_format.first_line_indent = Pt(28)
    return paragraph


def _placeholder(document: Document, what: str) -> Paragraph:
    paragraph = _para(document, f"{PLACEHOLDER}：{what}】")
    for run in paragraph.runs:
        run.font.highlight_color = WD_COLOR_INDEX.YELLOW
    return paragraph


def _source(document: Document, text: str) -> Paragraph:
    paragraph = _para(document, f"依据：{text}")
    for run in paragraph.runs:
        run.font.size = Pt(10.5)
    return paragraph


def _column_widths_cm(
    headers: list[str], texts: list[list[str]], *, size: float, width_cm: float
) -> list[float]:
    """Return each column's width in cm for a table ``width_cm`` wide at font ``size`` pt.

    A short column (counts, money, dates; its header wrapped over ~3 characters) gets what
    its longest value needs; the long text columns (名称, 改造内容) share the rest by their
    length. A Chinese character is two digits wide.
    """
    unit_cm = size * 0.5 * 0.03528  # half an em, in cm
    needed = [
        max([min(display_width(h), 6), 4, *(display_width(row[i]) for row in texts)])
        for i, h in enumerate(headers)
    ]
    short = [n <= _SHORT_UNITS for n in needed]
    fits = [n * unit_cm + _PAD_CM for n in needed]
    fixed = sum(w for w, s_ in zip(fits, short, strict=True) if s_)
    long_units = sum(min(n, 60) for n, s_ in zip(needed, short, strict=True) if not s_)
    n_long = len(short) - sum(short)
    # the text columns keep at least _MIN_TEXT_CM each; the short ones shrink to make room
    room = max(width_cm - fixed, _MIN_TEXT_CM * n_long)
    shrink = min(1.0, (width_cm - room) / fixed) if fixed else 1.0
    return [
        w * shrink if s_ or long_units == 0 else room * min(n, 60) / long_units
        for w, n, s_ in zip(fits, needed, short, strict=True)
    ]


def _table(
    document: Document, frame: pd.DataFrame, *, size: float = 10.5, width_cm: float = 15.6
) -> Table:
    headers = [column_label(str(c)) for c in frame.columns]
    texts = [[_cell_text(v) for v in values] for values in frame.itertuples(index=False)]
    table: Table = document.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    for cell, header in zip(table.rows[0].cells, headers, strict=True):
        cell.text = header
    for values in texts:
        cells = table.add_row().cells  # type: ignore[no-untyped-call]  # python-docx 1.2
        for cell, text in zip(cells, values, strict=True):
            cell.text = text
    widths = _column_widths_cm(headers, texts, size=size, width_cm=width_cm)
    for column, cm in zip(table.columns, widths, strict=True):
        width = Cm(cm)
        column.width = width  # the table grid (LibreOffice and WPS lay out by it)
        for cell in column.cells:
            cell.width = width  # each cell (Word lays out by these)
    for i, row in enumerate(table.rows):
        for cell in row.cells:
            for paragraph in cell.paragraphs:
                paragraph.paragraph_format.first_line_indent = Pt(0)
                paragraph.paragraph_format.line_spacing = 1.0
                for run in paragraph.runs:
                    run.font.size = Pt(size)
                    run.font.bold = i == 0
    return table


def _caption(document: Document, text: str) -> None:
    paragraph = document.add_paragraph(text, style="Caption")
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER


# --------------------------------------------------------------------------- run facts


def _record(run: RunResult) -> dict[str, Any]:
    if run.out_dir is None or not (run.out_dir / RUN_JSON).is_file():
        return {}
    record = json.loads((run.out_dir / RUN_JSON).read_text(encoding="utf-8"))
    return record if isinstance(record, dict) else {}


def _plan_info(frames: Mapping[str, pd.DataFrame]) -> dict[str, str]:
    if "plan_info" not in frames:
        return {}
    info = frames["plan_info"]
    return dict(zip(info["key"].astype(str), info["value"].astype(str), strict=True))


def _selected(frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Return the plan year's communities with their survey facts and cost (plan order)."""
    plan = frames["plan"]
    chosen = plan.loc[plan["selected"].astype(bool), ["community_id"]]
    communities = pd.DataFrame(frames["communities"]).drop(columns="geometry", errors="ignore")
    keep = [
        c
        for c in ("community_id", "name", "street", "built_year", "buildings", "households")
        if c in communities
    ]
    costs = frames["scheme_costs"][["community_id", "cost_wan_yuan", "floor_area_m2"]]
    out: pd.DataFrame = chosen.merge(communities[keep], on="community_id", how="left").merge(
        costs, on="community_id", how="left"
    )
    out["cost_wan_yuan"] = out["cost_wan_yuan"].fillna(0.0)
    return out


# --------------------------------------------------------------------------- chapters


def _chapter_requirements(document: Document, frames: Mapping[str, pd.DataFrame]) -> None:
    document.add_heading(CHAPTERS[0], level=1)
    document.add_heading("（一）指导思想", level=2)
    _placeholder(document, "指导思想（依据的上级文件和本地工作部署）")
    document.add_heading("（二）基本原则", level=2)
    _placeholder(document, "基本原则（如居民自愿、因地制宜、多元投入、建管并重）")
    document.add_heading("（三）改造目标", level=2)
    if "targets" in frames and len(frames["targets"]):
        for number, text in enumerate(frames["targets"]["description_zh"], start=1):
            _para(document, f"{number}. {text}。")
        _source(document, f"{_SEEDS['linyi']} 一(三) 改造目标；完成情况测算见第四章")
    else:
        _placeholder(document, "改造目标")


def _chapter_scope(document: Document, run: RunResult, frames: Mapping[str, pd.DataFrame]) -> None:
    document.add_heading(CHAPTERS[1], level=1)
    section = run.section("eligibility")
    preset = str(section.get("preset") or "national")
    rules = PRESETS.get(preset, PRESETS["national"])
    document.add_heading("（一）改造范围", level=2)
    cutoff_text = section.get("cutoff")
    cutoff = dt.date.fromisoformat(str(cutoff_text)) if cutoff_text else rules.cutoff
    _para(
        document,
        f"按照{rules.source_zh}确定的改造范围，"
        f"{cutoff.year}年{cutoff.month}月{cutoff.day}日前建成的住宅小区纳入改造范围，"
        "并逐项核对以下条件：",
    )
    for number, (column, source) in enumerate(RULE_SOURCES.get(preset, {}).items(), start=1):
        paragraph = _para(document, f"{number}. {column_label(column)}")
        paragraph.add_run(f"（依据：{_cite_zh(source)}）").font.size = Pt(10.5)
    document.add_heading("（二）改造对象", level=2)
    eligibility = frames["eligibility"]
    counts = eligibility["status"].value_counts()
    status_zh = labels("eligibility_status")
    parts = [
        f"{status_zh.get(code, code)}{int(counts.get(code, 0))}个"
        for code in ("eligible", "eligible_waiting_consent", "not_eligible", "unknown")
        if int(counts.get(code, 0))
    ]
    _para(
        document,
        f"本次摸底调查小区{len(eligibility)}个，其中{'，'.join(parts)}。"
        "待居民同意的小区，居民参与率、同意率达到规定比例后方可纳入改造计划。",
    )
    _source(
        document,
        _cite_zh(RULE_SOURCES.get(preset, {}).get("rule_consent", "住建部2021 底线要求(七)")),
    )
    plan = frames["plan"]
    under_way = plan.loc[plan["selection_code"] == "under_way", "project_status"].value_counts()
    if len(under_way):
        listed = "，".join(f"{k}{int(v)}个" for k, v in sorted(under_way.items()))
        _para(document, f"已纳入以往计划的小区（{listed}）不再重复纳入本年度计划。")


def _chapter_content(document: Document, frames: Mapping[str, pd.DataFrame]) -> None:
    document.add_heading(CHAPTERS[2], level=1)
    chosen = set(_selected(frames)["community_id"])
    schemes = frames["schemes"]
    items = schemes[schemes["community_id"].isin(chosen)]
    costs = frames["scheme_costs"]
    costs = costs[costs["community_id"].isin(chosen)]
    _para(
        document,
        f"按照“一小区一方案”，本年度计划{len(chosen)}个小区的改造内容分为基础类、完善类、"
        "提升类3类：",
    )
    classes = labels("scheme_class")
    for number, (code, name) in enumerate(classes.items(), start=1):
        rows = items[items["class"] == code]
        names = "、".join(dict.fromkeys(rows["name_zh"].astype(str)))
        wan = float(costs[f"{code}_wan_yuan"].sum()) if f"{code}_wan_yuan" in costs else 0.0
        text = f"{number}. {name}：{len(rows)}项，{_wan(wan)}万元"
        _para(document, text + (f"，主要包括{names}。" if names else "。"))
    _source(document, f"{_SEEDS['litong']} 三(二) 基础类、完善类、提升类")


def _chapter_year(document: Document, frames: Mapping[str, pd.DataFrame], plan_year: int) -> None:
    document.add_heading(CHAPTERS[3], level=1)
    chosen = _selected(frames)
    document.add_heading(f"（一）{plan_year}年改造计划", level=2)
    names = "、".join(chosen["name"].astype(str)) if "name" in chosen else ""
    total = float(chosen["cost_wan_yuan"].sum())
    _para(
        document,
        f"{plan_year}年计划改造老旧小区{len(chosen)}个，"
        f"涉及{_int(chosen['buildings'].sum())}栋楼{_wan_m2(chosen['floor_area_m2'].sum())}"
        f"万平方米，{_int(chosen['households'].sum())}户居民直接受益，"
        f"总投资{_wan(total)}万元" + (f"，分别为：{names}。" if names else "。"),
    )
    rollout = frames.get("rollout")
    column = f"status_{plan_year}"
    if rollout is not None and column in rollout:
        states = rollout.loc[rollout["community_id"].isin(chosen["community_id"]), column]
        listed = "，".join(f"{k}{int(v)}个" for k, v in states.value_counts().sort_index().items())
        _para(document, f"其中{plan_year}年底状态：{listed}。")
    table = chosen.copy()
    table.insert(0, "序号", [str(i) for i in range(1, len(table) + 1)])
    table = table.drop(columns="community_id")
    total_row: dict[str, object] = dict.fromkeys(table.columns, "")
    total_row["序号"] = "合计"
    for c in ("buildings", "households", "floor_area_m2", "cost_wan_yuan"):
        total_row[c] = table[c].sum()
    table = pd.concat([table, pd.DataFrame([total_row])], ignore_index=True)
    for c in ("built_year", "buildings", "households"):
        table[c] = table[c].map(lambda v: "" if v == "" or pd.isna(v) else _int(float(v)))
    table = table.rename(columns={"cost_wan_yuan": "总投资（万元）"})
    _caption(document, f"表1 {plan_year}年改造计划小区")
    _table(document, table, size=10)

    document.add_heading("（二）分年度推进", level=2)
    years = frames["rollout_years"]
    for row in years.itertuples(index=False):
        text = (
            f"{row.year}年：新开工{_int(row.communities_started)}个小区"
            f"{_int(row.buildings_started)}栋{_int(row.households_started)}户"
            f"{_wan_m2(row.floor_area_m2_started)}万平方米，"
            f"竣工{_int(row.communities_completed)}个小区"
        )
        if str(row.plan_status) != "optimal":
            status = labels("solver_status").get(str(row.plan_status), str(row.plan_status))
            text += f"（该年度计划求解状态：{status}）"
        _para(document, text + "。")
    document.add_heading("（三）目标完成情况测算", level=2)
    targets = frames.get("targets")
    if targets is None or not len(targets):
        _placeholder(document, "目标完成情况")
        return
    for row in targets.itertuples(index=False):
        verdict = "可达成" if bool(row.met) else "未达成"
        text = f"{row.description_zh}：按计划测算完成{_pct(row.achieved)}，{verdict}"
        if not bool(row.met) and str(row.missing_zh):
            text += f"（{row.missing_zh}）"
        _para(document, text + "。")


def _chapter_money(document: Document, frames: Mapping[str, pd.DataFrame]) -> None:
    document.add_heading(CHAPTERS[4], level=1)
    summary = frames["funding_summary"]
    committed = float(summary["committed_wan_yuan"].sum())
    assumed = float(summary["assumed_wan_yuan"].sum())
    gap = float(summary["gap_wan_yuan"].sum())
    funded = frames["funding"]["community_id"].nunique() if "funding" in frames else 0
    document.add_heading("（一）资金来源", level=2)
    _para(
        document,
        f"纳入资金测算的{funded}个小区共需资金{_wan(committed + assumed + gap)}万元，"
        f"其中已落实{_wan(committed)}万元，测算（假设）{_wan(assumed)}万元，"
        f"资金缺口{_wan(gap)}万元。测算（假设）资金为按筹资规则推算的金额，"
        "尚无协议或文件落实，须逐项核实。",
    )
    table = summary[["source_zh", "committed_wan_yuan", "assumed_wan_yuan", "gap_wan_yuan"]]
    table = table.rename(
        columns={
            "source_zh": "资金渠道",
            "committed_wan_yuan": "已落实（万元）",
            "assumed_wan_yuan": "测算（假设）（万元）",
            "gap_wan_yuan": "缺口（万元）",
        }
    )
    table = pd.concat(
        [
            table,
            pd.DataFrame(
                [
                    {
                        "资金渠道": "合计",
                        "已落实（万元）": committed,
                        "测算（假设）（万元）": assumed,
                        "缺口（万元）": gap,
                    }
                ]
            ),
        ],
        ignore_index=True,
    )
    _caption(document, "表2 资金来源")
    _table(document, table)
    document.add_heading("（二）融资模式", level=2)
    if "financing_totals" in frames:
        for row in frames["financing_totals"].itertuples(index=False):
            _para(
                document,
                f"{row.mode_zh}：{_int(row.communities)}个小区，需筹资金{_wan(row.need_wan_yuan)}"
                f"万元，已筹{_wan(row.covered_wan_yuan)}万元。",
            )
        _source(document, f"{_SEEDS['linyi']} 三(一)至(四) 创新改造方式和融资模式")
    else:
        _placeholder(document, "融资模式")


def _day(value: object) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):  # type: ignore[call-overload]
        return ""
    day = pd.Timestamp(str(value)).date()
    return f"{day.year}年{day.month}月{day.day}日"


def _yes(value: object) -> bool:
    """Return whether a calendar's ``assumed`` cell says yes (True, yes, 是, true, 1)."""
    return value is True or str(value).strip().lower() in {"yes", "true", "是", "1", "1.0"}


def _milestones(document: Document, calendar: pd.DataFrame, plan_year: int) -> None:
    """One paragraph per milestone: its span over the plan year's communities, its source.

    ``calendar`` is :func:`gisplan.schedule.programme_calendar`'s table (``milestone_zh``,
    ``seq``, ``start``, ``end``, ``source``, ``assumed``; per community and start year) or any
    table with ``milestone_zh`` (or ``step``) and ``start_date``.
    """
    table = calendar.copy()
    if "start_year" in table and (table["start_year"] == plan_year).any():
        table = table[table["start_year"] == plan_year]
    name = "milestone_zh" if "milestone_zh" in table else "step"
    order = "seq" if "seq" in table else name
    for column in ("end_date", "basis", "assumed"):
        if column not in table:
            table[column] = None
    table["start_date"] = pd.to_datetime(table["start_date"].astype(str))
    table["end_date"] = pd.to_datetime(table["end_date"], errors="coerce")
    spans = (
        table.groupby([order, name], sort=True)
        .agg(
            start=("start_date", "min"),
            end=("end_date", "max"),
            source=("basis", "first"),
            assumed=("assumed", lambda s: bool(s.map(_yes).any())),
        )
        .reset_index()
    )
    for number, row in enumerate(spans.itertuples(index=False), start=1):
        start, end = _day(row.start), _day(row.end)
        when = f"{start}起" if not end else start if end == start else f"{start}至{end}"
        paragraph = _para(document, f"（{_chinese_number(number)}）{getattr(row, name)}：{when}。")
        cited = [str(row.source)] if isinstance(row.source, str) and row.source else []
        if bool(row.assumed):
            cited.append("时间为参照安排（假设），须核定")
        if cited:
            paragraph.add_run(f"（依据：{'；'.join(cited)}）").font.size = Pt(10.5)


def _chapter_steps(
    document: Document,
    run: RunResult,
    frames: Mapping[str, pd.DataFrame],
    calendar: pd.DataFrame | None,
    plan_year: int,
) -> None:
    document.add_heading(CHAPTERS[5], level=1)
    if calendar is not None and len(calendar):
        _milestones(document, calendar, plan_year)
        return
    publicity = frames.get("publicity")
    if publicity is not None and len(publicity):
        groups = (
            publicity.groupby(["publicity_start", "publicity_end", "working_days"], sort=True)
            .size()
            .reset_index(name="n")
        )
        for start, end, days, n in groups.itertuples(index=False, name=None):
            _para(
                document,
                f"方案公示：{_day(start)}至{_day(end)}（{days}个工作日），涉及{int(n)}个小区。",
            )
    plan = run.section("plan")
    if plan.get("build_years"):
        _para(document, f"工程实施：每个小区建设周期按{plan['build_years']}年安排。")
    _placeholder(document, "摸底调查、确定小区、前期工作、全面改造、竣工验收、长效管理各阶段时间")
    _source(document, f"{_SEEDS['litong']} 五 实施步骤")


def _chinese_number(n: int) -> str:
    digits = "零一二三四五六七八九"
    if n < 10:  # noqa: PLR2004 - one digit
        return digits[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else digits[tens]) + "十" + (digits[ones] if ones else "")


def _chapter_safeguards(document: Document) -> None:
    document.add_heading(CHAPTERS[6], level=1)
    for number, what in enumerate(
        ("加强组织领导", "明确职责分工", "健全推进机制", "加强监督检查"), start=1
    ):
        document.add_heading(f"（{_chinese_number(number)}）{what}", level=2)
        _placeholder(document, what)
    _source(document, f"{_SEEDS['litong']} 六 组织保障、七 工作要求；{_SEEDS['linyi']} 五 保障措施")


def _annexes(
    document: Document,
    tables: Mapping[str, pd.DataFrame],
    figures: Sequence[tuple[Path, str]],
) -> None:
    document.add_heading(CHAPTERS[7], level=1)
    if not tables and not figures:
        _para(document, "无。")
        return
    number = 0
    for name, frame in tables.items():
        number += 1
        wide = len(frame.columns) > _WIDE_COLUMNS
        a3 = len(frame.columns) > _VERY_WIDE_COLUMNS  # 年度改造计划表: an A3 board, as printed
        if wide:
            _a4(document.add_section(WD_SECTION.NEW_PAGE), landscape=True, a3=a3)
        _caption(document, f"附件{number} {name}")
        width_cm = 36.6 if a3 else 24.3 if wide else 15.6
        _table(document, frame, size=8 if a3 else 9 if wide else 10.5, width_cm=width_cm)
        if wide:
            _a4(document.add_section(WD_SECTION.NEW_PAGE))
    for path, caption in figures:
        number += 1
        document.add_picture(str(path), width=Cm(15.5))
        document.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
        _caption(document, f"附件{number} {caption}")


# --------------------------------------------------------------------------- public


def write_implementation_plan(
    run: RunResult,
    path: Path,
    *,
    plan_year: int,
    tables: Mapping[str, pd.DataFrame] | None = None,
    figures: Sequence[tuple[Path, str]] = (),
    calendar: pd.DataFrame | None = None,
) -> Path:
    """Write the drafted implementation plan (实施方案（草案）) of a finished run as .docx.

    Parameters
    ----------
    run
        A finished run with eligibility, schemes, finance and plan steps.
    path
        The .docx to write, or a folder (then :data:`DOCX_NAME` inside it).
    plan_year
        The plan's year; must be the year the run planned (``plan_info``).
    tables
        Annex tables by caption (sheet name), written as given (headers through the
        vocabulary, 合计 rows as given); wider than 7 columns: a landscape page.
    figures
        ``(png, caption)`` pairs for the annex (e.g. :func:`key_map_figures`).
    calendar
        Dated milestones: :func:`gisplan.schedule.programme_calendar`'s table (the plan
        year's rows are used), or any table with ``milestone_zh`` (or ``step``), ``start_date`` and
        optional ``end_date``, ``seq``, ``basis``, ``assumed``; without it the publicity dates
        are listed and the other steps left 【待填写】.

    Returns
    -------
    Path
        The file written (same run and arguments: same bytes).

    Raises
    ------
    OutputError
        The run has no plan, or planned another year.
    """
    frames = run.frames()
    missing = [
        k
        for k in ("plan", "rollout_years", "schemes", "scheme_costs", "funding_summary")
        if k not in frames
    ]
    if missing:
        raise OutputError(
            f"{run.out_dir}: no {', '.join(missing)} in the run; run the scenario with the "
            "eligibility, schemes, finance and plan steps to draft an implementation plan"
        )
    planned = _plan_info(frames).get("plan_year")
    if planned and planned != "None" and int(float(planned)) != plan_year:
        raise OutputError(
            f"{run.out_dir}: the run planned {int(float(planned))}, not {plan_year}; pass "
            f"plan_year={int(float(planned))} or re-run with eligibility.plan_year: {plan_year}"
        )
    version = str(_record(run).get("gisplan_version", "?"))

    document = docx.Document()
    _styles(document)
    _a4(document.sections[0])
    _page_numbers(document.sections[0])
    core = document.core_properties
    title = f"{run.title}{plan_year}年城镇老旧小区改造实施方案（草案）"
    core.title = title
    core.author = core.last_modified_by = "gisplan"
    core.created = core.modified = dt.datetime(2000, 1, 1)  # noqa: DTZ001 - fixed_dates sets it too
    core.revision = 1

    heading = document.add_paragraph(title, style="Title")
    heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
    note = document.add_paragraph(
        f"本草案由 gisplan {version} 根据“{run.title}”的运行结果自动生成，"
        "数字均取自该次运行；"
        "标注【待填写】的部分由主管部门填写。"
    )
    note.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for r in note.runs:
        r.font.size = Pt(10.5)

    _chapter_requirements(document, frames)
    _chapter_scope(document, run, frames)
    _chapter_content(document, frames)
    _chapter_year(document, frames, plan_year)
    _chapter_money(document, frames)
    _chapter_steps(document, run, frames, calendar, plan_year)
    _chapter_safeguards(document)
    _annexes(document, tables or {}, figures)

    target = path / DOCX_NAME if path.is_dir() else path
    buffer = io.BytesIO()
    document.save(buffer)
    atomic_write(target, fixed_dates(buffer.getvalue()))
    logger.info("implementation plan written: %s", target)
    return target


# --------------------------------------------------------------------------- figures

#: Plan status of a community on the key map: (label, colour), in legend order.
_MAP_STATUS = {
    "selected": ("纳入本年度计划", "#d95f02"),
    "under_way": ("已在建/已竣工", "#7570b3"),
    "reserve": ("储备（符合条件未纳入）", "#1b9e77"),
    "not_eligible": ("不符合条件", "#bdbdbd"),
}


def _cjk_font() -> Any:  # noqa: ANN401 - a matplotlib FontProperties
    from matplotlib import font_manager  # noqa: PLC0415 - matplotlib only for figures

    for family in CJK_FONT_FAMILIES:
        try:
            path = font_manager.findfont(
                font_manager.FontProperties(family=family), fallback_to_default=False
            )
        except ValueError:
            continue
        return font_manager.FontProperties(fname=path)
    raise OutputError(
        "no Chinese font found for the key maps; install fonts-noto-cjk (apt) or Noto Sans CJK SC"
    )


def _nice_length(span: float) -> float:
    raw = span / 5
    power = 10 ** math.floor(math.log10(raw))
    return float(max(m * power for m in (1, 2, 5) if m * power <= raw))


def _decorate(ax: Any, font: Any, title: str) -> None:  # noqa: ANN401
    ax.set_title(title, fontproperties=font, fontsize=13)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.annotate(
        "N",
        xy=(0.95, 0.97),
        xytext=(0.95, 0.86),
        xycoords="axes fraction",
        ha="center",
        va="center",
        fontsize=12,
        fontweight="bold",
        arrowprops={"arrowstyle": "-|>", "color": "black", "lw": 1.5},
    )
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    length = _nice_length(x1 - x0)
    bx, by = x0 + (x1 - x0) * 0.04, y0 + (y1 - y0) * 0.04
    ax.plot([bx, bx + length], [by, by], color="black", lw=3, solid_capstyle="butt")
    label = f"{length / 1000:g} 千米" if length >= 1000 else f"{length:g} 米"  # noqa: PLR2004
    ax.text(
        bx + length / 2,
        by + (y1 - y0) * 0.015,
        label,
        ha="center",
        va="bottom",
        fontproperties=font,
        fontsize=9,
    )


def _background(ax: Any, frames: Mapping[str, pd.DataFrame]) -> None:  # noqa: ANN401
    for name, colour, width in (("network", "#cccccc", 0.4), ("barriers", "#9ecae1", 0.8)):
        if name in frames:
            layer = frames[name]
            if hasattr(layer, "geometry") and len(layer):
                layer.plot(ax=ax, color=colour, linewidth=width, zorder=1)


def _finish(fig: Any, ax: Any, font: Any, handles: list[Any], *, title: str, path: Path) -> Path:  # noqa: ANN401
    """Put the legend under the map, the title, north arrow and scale bar; save a stable PNG."""
    ax.legend(
        handles=handles,
        prop=font,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.01),
        ncol=2,
        fontsize=9,
        frameon=False,
    )
    _decorate(ax, font, title)
    fig.savefig(path, dpi=150, bbox_inches="tight", metadata={"Software": None})
    return path


def key_map_figures(run: RunResult, out_dir: Path) -> list[tuple[Path, str]]:
    """Draw the plan's two key maps as PNG (plan status of communities; new facility sites).

    Parameters
    ----------
    run
        A finished run with the plan step (and siting for the second map).
    out_dir
        Folder for ``图1_改造计划.png`` and ``图2_新增设施选址.png``.

    Returns
    -------
    list of (Path, str)
        ``(png, caption)`` pairs for :func:`write_implementation_plan`; no sites chosen: one.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415
    from matplotlib.figure import Figure  # noqa: PLC0415
    from matplotlib.patches import Patch  # noqa: PLC0415

    frames = run.frames()
    font = _cjk_font()
    out_dir.mkdir(parents=True, exist_ok=True)
    communities = frames["communities"][["community_id", "geometry"]]
    plan = frames["plan"].set_index("community_id")
    eligibility = frames["eligibility"].set_index("community_id")["status"]

    def status(cid: str) -> str:
        if cid in plan.index and bool(plan.loc[cid, "selected"]):
            return "selected"
        if cid in plan.index and plan.loc[cid, "selection_code"] == "under_way":
            return "under_way"
        if eligibility.get(cid) == "not_eligible":
            return "not_eligible"
        return "reserve"

    coloured = communities.assign(map_status=communities["community_id"].map(status))
    year = _plan_info(frames).get("plan_year", "")
    figures: list[tuple[Path, str]] = []

    fig = Figure(figsize=(8, 8))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    _background(ax, frames)
    handles = []
    for code, (label, colour) in _MAP_STATUS.items():
        part = coloured[coloured["map_status"] == code]
        if len(part):
            part.plot(ax=ax, color=colour, edgecolor="#555555", linewidth=0.3, zorder=2)
        handles.append(
            Patch(facecolor=colour, edgecolor="#555555", label=f"{label}（{len(part)}）")
        )
    title = f"{run.title} {year}年老旧小区改造计划"
    path = _finish(fig, ax, font, handles, title=title, path=out_dir / "图1_改造计划.png")
    figures.append((path, f"{year}年老旧小区改造计划分布图"))

    sites = frames.get("sites_chosen")
    if sites is None or not len(sites):
        return figures
    fig = Figure(figsize=(8, 8))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    _background(ax, frames)
    communities.plot(ax=ax, facecolor="#f0f0f0", edgecolor="#999999", linewidth=0.3, zorder=2)
    unique = sites.drop_duplicates("site_id").sort_values("site_id", kind="stable")
    unique.plot(ax=ax, color="#e41a1c", edgecolor="black", linewidth=0.6, zorder=3)
    for row in unique.itertuples(index=False):
        point = row.geometry.representative_point()
        ax.text(
            point.x,
            point.y,
            str(row.site_id),
            fontsize=7,
            ha="left",
            va="bottom",
            fontproperties=font,
            zorder=4,
        )
    handles = [
        Patch(facecolor="#e41a1c", edgecolor="black", label=f"新增设施选址（{len(unique)}处）"),
        Patch(facecolor="#f0f0f0", edgecolor="#999999", label="小区"),
    ]
    title = f"{run.title} 新增公共服务设施选址"
    path = _finish(fig, ax, font, handles, title=title, path=out_dir / "图2_新增设施选址.png")
    figures.append((path, f"新增公共服务设施选址图（{len(unique)}处，设施{len(sites)}项）"))
    return figures
