"""Plain-text helpers shared by the readers: CSV shape checks and escaping user text."""

from __future__ import annotations

import csv
import io
import logging
import math
import unicodedata
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from pathlib import Path

    from gisplan.errors import GisplanError

logger = logging.getLogger(__name__)

__all__ = [
    "CJK_FONT_FAMILIES",
    "cell_text",
    "csv_problem",
    "display_width",
    "is_blank",
    "is_number",
    "is_whole",
    "printable",
    "read_text_table",
]

#: Font families with Chinese glyphs, in the order the figures try them (Debian's
#: fonts-noto-cjk gives the first).
CJK_FONT_FAMILIES = ("Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Zen Hei", "SimHei")


#: Unicode categories shown escaped in messages: control, format (zero-width ...), surrogate,
#: private use, unassigned, line and paragraph separators.
_UNPRINTABLE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
_SEP_NAMES = {",": "comma", "\t": "tab", ";": "semicolon"}


def printable(text: object) -> str:
    r"""Return ``text`` with control and other invisible characters escaped as in ``repr``.

    Chinese text and ordinary spaces are kept; ``"C1\x00"`` is shown as ``C1\x00`` so that a
    junk cell cannot garble the terminal.

    Examples
    --------
    >>> print(printable("幸福里\x00\x1b[2J\t"))
    幸福里\x00\x1b[2J\t
    """
    return "".join(
        repr(c)[1:-1] if unicodedata.category(c) in _UNPRINTABLE else c for c in str(text)
    )


def csv_problem(text: str, *, sep: str = ",", strict: bool = True) -> str | None:
    """Return what makes ``text`` unreadable as a table, or ``None`` if its rows are fine.

    Finds the first line with more cells than the header (pandas would shift or refuse it) and
    a quote that is never closed. Lines count from 1 and include the header.
    """
    reader = csv.reader(io.StringIO(text), delimiter=sep, strict=strict)
    header: int | None = None
    last_line = 0
    try:
        for row in reader:
            start, last_line = last_line + 1, reader.line_num
            if not row:
                continue
            if header is None:
                header = len(row)
            elif len(row) > header:
                return (
                    f"line {start} has {len(row)} cells but the header has {header}: look for a "
                    f"stray or unquoted {_SEP_NAMES.get(sep, repr(sep))} (e.g. inside a name), "
                    "or quote that cell"
                )
    except csv.Error as err:
        if "end of data" not in str(err):  # a quote inside a cell: read leniently, as pandas
            return csv_problem(text, sep=sep, strict=False)
        return (
            f'line {last_line + 1} opens a quote (") that is never closed: '
            'close the quote or remove the stray " from that line'
        )
    return None


def display_width(text: object) -> int:
    """Return how many terminal/spreadsheet columns ``text`` takes: CJK characters count two.

    Examples
    --------
    >>> display_width("幼儿园 kindergarten")
    19
    """
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in str(text))


def is_number(value: object) -> bool:
    """Return whether ``value`` is a real number (booleans are not).

    Examples
    --------
    >>> is_number(3), is_number(2.5), is_number(True), is_number("3")
    (True, True, False, False)
    """
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)
    )


def is_whole(value: object) -> bool:
    """Return whether ``value`` is an integer (booleans are not; ``2.0`` is not).

    Examples
    --------
    >>> is_whole(3), is_whole(np.int64(3)), is_whole(2.0), is_whole(True)
    (True, True, False, False)
    """
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def is_blank(value: object) -> bool:
    """Return whether a cell is empty: ``None``, NaN/NA, or text of spaces only.

    Examples
    --------
    >>> is_blank(None), is_blank(" "), is_blank(float("nan")), is_blank(0)
    (True, True, True, False)
    """
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    try:
        return bool(pd.isna(value))  # type: ignore[call-overload]
    except (TypeError, ValueError):  # list-likes
        return False


def cell_text(value: object) -> str:
    """Return a table cell as stripped text: empty for missing, ``true``/``false``, ``3`` for 3.0.

    Examples
    --------
    >>> cell_text(None), cell_text(3.0), cell_text(" a "), cell_text(True)
    ('', '3', 'a', 'true')
    """
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value).strip()


def read_text_table(
    source: Path, label: str, *, error: type[GisplanError], what: str, fix: str = ""
) -> pd.DataFrame:
    """Read a small CSV table as text cells (UTF-8, else GBK), refusing a malformed one.

    Parameters
    ----------
    source
        The CSV file.
    label
        Name used in messages (usually the file name).
    error
        The :class:`~gisplan.errors.GisplanError` subclass to raise.
    what
        What one row is, for the advice ("item", "type").
    fix
        Advice replacing the usual one (e.g. for a packaged table: reinstall).

    Raises
    ------
    GisplanError
        Of class ``error``: undecodable text, a ragged row or an unclosed quote (with the line).
    """
    raw = source.read_bytes()
    for encoding in ("utf-8-sig", "gbk"):
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        if encoding != "utf-8-sig":
            logger.info("%s: read with encoding %s", label, encoding)
        problem = csv_problem(text)
        if problem is not None:
            raise error(f"{label}: {problem}" + (f"; {fix}" if fix else ""))
        try:
            return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error) as err:
            advice = fix or f"save it as a UTF-8 CSV with one header line and one row per {what}"
            raise error(f"{label}: cannot read the table ({printable(err)}); {advice}") from err
    raise error(f"{label}: cannot decode the file as UTF-8 or GBK; save it as UTF-8 CSV")
