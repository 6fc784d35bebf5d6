"""Tables for people: Excel workbooks with Chinese headers, units and number formats.

Bureaus exchange results as Excel files. :func:`write_workbook` writes one sheet per table
with Chinese column headers (units in the header), a bold frozen header row, sensible
column widths and number formats (percentages for ``share_*``, thousands separators for
counts, whole metres for ``*_m``), booleans as 是/否, a 合计 row that sums amounts and
weights rates (never sums them), and A4-landscape print set-up one page wide with the
header row repeated on every page. Geometry columns are left out.

Both writers are safe to open: text that starts like a formula (``=``, ``+``, ``-``, ``@``,
tab, carriage return — OWASP's CSV-injection list) is written as a text cell in the
workbook and behind a leading apostrophe in CSV files, so a community named ``=HYPERLINK(…)``
stays a name. The workbook's bytes depend only on its content: its document dates and the
dates of its zip entries are fixed.
"""

from __future__ import annotations

import io
import math
import re
import zipfile
from typing import TYPE_CHECKING, Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from gisplan._text import display_width

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path

__all__ = [
    "FORMULA_PREFIXES",
    "cell_value",
    "csv_safe",
    "fixed_dates",
    "is_rate",
    "number_format",
    "write_csv_tables",
    "write_workbook",
]

#: First characters that make a spreadsheet read a cell as a formula (OWASP CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
#: Fixed date of the workbook's properties and zip entries (as results.gpkg's).
_FIXED_DATE = (2000, 1, 1, 0, 0, 0)
_CORE_DATES = re.compile(
    rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:(?:created|modified)>)"
)

_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_MAX_WIDTH = 48


def number_format(column: str) -> str | None:
    """Return the Excel number format for a column, chosen by its unit suffix.

    Examples
    --------
    >>> [number_format(c) for c in ("share_households", "dist_m", "households", "name")]
    ['0.0%', '#,##0', '#,##0', None]
    """
    if column.startswith("share_") or column.endswith("_share"):
        return "0.0%"
    if column.endswith(("_m", "_m2")):
        return "#,##0"
    if column.endswith(("_yuan", "_wan_yuan")):
        return "#,##0.00"
    if column in {"households", "population", "buildings"} or column.startswith(
        ("n_", "households", "population", "communities")
    ):
        return "#,##0"
    if column in {"gap_score", "accessibility"}:
        return "0.000"
    return None


def cell_value(value: object) -> object:
    """Excel-safe value: NA → empty, tuples → joined text, numpy scalars → Python."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, (tuple, list)):
        return "、".join(map(str, value))
    item = getattr(value, "item", None)
    return item() if callable(item) else value


def _shown(value: object) -> object:
    """Workbook cell: as :func:`cell_value`, booleans as 是/否 (a reader sees no TRUE/FALSE)."""
    value = cell_value(value)
    if isinstance(value, bool):
        return "是" if value else "否"
    return value


def is_rate(column: str) -> bool:
    """Whether a column is a rate or a share, which a 合计 row must never add up.

    Examples
    --------
    >>> [is_rate(c) for c in ("cost_per_m2_yuan", "share_households", "cost_yuan")]
    [True, True, False]
    """
    return (
        "_per_" in column
        or column.startswith("share_")
        or column.endswith(("_share", "_ratio"))
        or "_share_" in column
    )


def _weighted_totals(
    table: pd.DataFrame, rates: Mapping[str, tuple[str, str]]
) -> dict[str, float | None]:
    """Rate → sum of its numerator ÷ sum of its denominator (None without both or with 0)."""
    out: dict[str, float | None] = {}
    for rate, (numerator, denominator) in rates.items():
        if rate not in table.columns:
            continue
        if numerator not in table.columns or denominator not in table.columns:
            out[rate] = None
            continue
        below = float(pd.to_numeric(table[denominator]).sum())
        above = float(pd.to_numeric(table[numerator]).sum())
        out[rate] = round(above / below, 2) if below else None
    return out


def csv_safe(value: object) -> object:
    """Return a CSV cell that no spreadsheet runs as a formula (text only; numbers unchanged).

    Examples
    --------
    >>> [csv_safe(v) for v in ("=1+1", "@SUM(A1)", "-2+3", "小区", -5, "")]
    ["'=1+1", "'@SUM(A1)", "'-2+3", '小区', -5, '']
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def fixed_dates(data: bytes) -> bytes:
    """Rewrite an Office zip (``.xlsx``, ``.docx``) so its bytes depend only on its content.

    The document properties and every zip entry get one fixed date (2000-01-01), not the
    time of saving.
    """
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            body = src.read(info)
            if info.filename == "docProps/core.xml":
                body = _CORE_DATES.sub(rb"\g<1>2000-01-01T00:00:00Z\g<2>", body)
            entry = zipfile.ZipInfo(info.filename, date_time=_FIXED_DATE)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = info.external_attr
            dst.writestr(entry, body)
    return out.getvalue()


def _append_text_safe(ws: Any, values: list[object]) -> None:  # noqa: ANN401
    """Append a row; text that openpyxl would take for a formula stays a text cell."""
    ws.append(values)
    # openpyxl takes text starting with "=" for a formula; look only at those cells (reading a
    # whole row back through ws[ws.max_row] scans the sheet: quadratic in its size)
    formulas = [j for j, v in enumerate(values, 1) if isinstance(v, str) and v.startswith("=")]
    if formulas:
        row = ws.max_row
        for j in formulas:
            cell = ws.cell(row=row, column=j)
            if cell.data_type == "f":  # a name like "=HYPERLINK(...)" is data, never a formula
                cell.data_type = "s"


def write_workbook(
    path: Path,
    sheets: Mapping[str, pd.DataFrame],
    *,
    labels: Mapping[str, str] | Mapping[str, Mapping[str, str]] | None = None,
    totals: Mapping[str, Sequence[str]] | None = None,
    weighted: Mapping[str, Mapping[str, tuple[str, str]]] | None = None,
) -> None:
    """Write tables to one Excel workbook, one sheet each.

    Parameters
    ----------
    path
        The ``.xlsx`` file to write (replaced if it exists).
    sheets
        Sheet name (Chinese is fine, ≤ 31 characters) → table. A ``geometry`` column is
        dropped.
    labels
        Column name → header text (e.g. ``{"dist_m": "步行距离（m）"}``), or sheet name → such
        a mapping (the same column can need another header on another sheet); unlabelled
        columns keep their name.
    totals
        Sheet name → columns summed in a bold 合计 (total) row under the table. A rate
        (``*_per_*``, ``share_*``, ``*_share``, ``*_ratio``) is never summed: its cell stays
        empty unless ``weighted`` gives it.
    weighted
        Sheet name → rate column → ``(numerator, denominator)``: the 合计 row shows the sum
        of the numerator over the sum of the denominator (元/m² = total cost ÷ total floor
        area), empty when the denominator sums to zero.

    True and False are written as 是 and 否.
    """
    labels = labels or {}
    totals = totals or {}
    weighted = weighted or {}
    book = Workbook()
    default = book.active
    if default is not None:
        book.remove(default)
    for name, frame in sheets.items():
        table = pd.DataFrame(frame.drop(columns=["geometry"], errors="ignore"))
        ws = book.create_sheet(name[:31])
        sheet_labels = labels.get(name) if isinstance(labels.get(name), dict) else labels
        headers = [str(sheet_labels.get(str(c), str(c))) for c in table.columns]  # type: ignore[union-attr]
        ws.append(headers)
        for row in table.itertuples(index=False):
            _append_text_safe(ws, [_shown(v) for v in row])
        if name in totals and len(table):
            summed: dict[str, float | None] = {
                c: round(float(pd.to_numeric(table[c]).sum()), 2)
                for c in totals[name]
                if not is_rate(c)
            }
            summed.update(_weighted_totals(table, weighted.get(name, {})))
            ws.append(["合计", *(summed.get(str(c)) for c in table.columns[1:])])
            for cell in ws[ws.max_row]:
                cell.font = _HEADER_FONT
        for col, (column, header) in enumerate(zip(table.columns, headers, strict=True), start=1):
            head = ws.cell(row=1, column=col)
            head.font, head.fill = _HEADER_FONT, _HEADER_FILL
            head.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
            fmt = number_format(str(column))
            if fmt is not None:
                for (cell,) in ws.iter_rows(min_row=2, min_col=col, max_col=col):
                    cell.number_format = fmt
            sample = table[column].head(200)
            widths = (display_width(cell_value(v) or "") for v in sample)
            longest = max([display_width(header), *widths])
            ws.column_dimensions[get_column_letter(col)].width = min(
                max(longest + 2, 8), _MAX_WIDTH
            )
        ws.freeze_panes = "A2"
        ws.auto_filter.ref = ws.dimensions
        ws.page_setup.orientation = ws.ORIENTATION_LANDSCAPE  # printed: A4 landscape, one page wide
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.print_title_rows = "1:1"
    buffer = io.BytesIO()
    book.save(buffer)
    path.write_bytes(fixed_dates(buffer.getvalue()))


def write_csv_tables(folder: Path, tables: Mapping[str, pd.DataFrame]) -> list[Path]:
    """Write each table as ``<name>.csv`` in UTF-8 with BOM (so Excel shows Chinese).

    List cells are joined with "、"; a ``geometry`` column is left out; text that starts
    like a formula gets a leading apostrophe (:func:`csv_safe`).

    Returns
    -------
    list of Path
        The files written.
    """
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in tables.items():
        table = pd.DataFrame(frame.drop(columns=["geometry"], errors="ignore"))
        table = table.map(cell_value).map(csv_safe)
        path = folder / f"{name}.csv"
        table.to_csv(path, index=False, encoding="utf-8-sig", lineterminator="\n")
        written.append(path)
    return written
