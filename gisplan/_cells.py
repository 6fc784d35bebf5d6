"""Layer cells as planners type them: trimmed text, numbers with units, words for "no value".

Private, shared by the readers (:mod:`gisplan._readers`, coordinates of tables) and the checks
of :mod:`gisplan.layers` (coercion of every column).
"""

from __future__ import annotations

import math
import re
import unicodedata

import numpy as np
import pandas as pd

__all__ = ["BLANKS", "is_missing", "parse_number", "trimmed_text"]

#: Cells meaning "no value" in numeric, year, rate and enum columns.
BLANKS = frozenset({"", "-", "--", "—", "——", "/", "nan", "null", "none", "n/a", "na", "#n/a"})
#: Unit words a planner may type after a number (``320户``, ``21500平方米``).
_UNIT_SUFFIX = re.compile(r"(平方米|万元|元|户|人|栋|幢|座|个|张|床|所|m2|m²|㎡|米|m)$")


def is_missing(value: object) -> bool:
    """Return whether a cell is ``None``, NA, NaT or a float NaN."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def trimmed_text(value: object) -> str | None:
    """Return a cell as trimmed half-width text; ``None`` when empty (``1995.0`` -> ``1995``)."""
    if is_missing(value):
        return None
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        value = int(value)
    text = unicodedata.normalize("NFKC", str(value)).strip()
    return text or None


def parse_number(value: object) -> tuple[float, bool]:
    """Parse a number: ``(value or nan, had a percent sign)``.

    Accepts ``"1,200"``, ``" 320 "``, ``"85%"``, full-width digits and a unit word after the
    number (``"320户"``, ``"21500㎡"``).
    """
    if isinstance(value, (bool, np.bool_)):
        return math.nan, False
    if isinstance(value, (int, float, np.integer, np.floating)):
        return float(value), False
    text = trimmed_text(value)
    if text is None or text.lower() in BLANKS:
        return math.nan, False
    text = re.sub(r"[,\s_']", "", text)
    percent = text.endswith("%")
    text = text.rstrip("%")
    text = _UNIT_SUFFIX.sub("", text)
    try:
        number = float(text)
    except ValueError:
        return math.nan, percent
    return (number if math.isfinite(number) else math.nan), percent
