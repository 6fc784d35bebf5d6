"""Plain-text helpers shared by the readers: CSV shape checks and escaping user text."""

from __future__ import annotations

import csv
import io
import unicodedata

__all__ = ["csv_problem", "display_width", "printable"]


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
