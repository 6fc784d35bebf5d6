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

__all__ = [
    "BLANKS",
    "UNIT_FACTORS",
    "is_missing",
    "parse_number",
    "parse_quantity",
    "trimmed_text",
    "unit_family",
]

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


def _scaled(symbols: dict[str, float], *prefixes: str) -> dict[str, float]:
    """Add ``万``/``亿``/``千``-prefixed forms of unit symbols (``万户``, ``万m2``)."""
    scale = {"千": 1e3, "万": 1e4, "亿": 1e8}
    out = dict(symbols)
    for prefix in prefixes:
        out.update({prefix + unit: scale[prefix] * f for unit, f in symbols.items()})
    return out


#: Units a value may carry, per unit of the schema table: ``{unit as typed: factor}``, where
#: value × factor is the value in the schema's unit. Keys are NFKC-normalised, as
#: :func:`trimmed_text` leaves them (``㎡`` and ``m²`` become ``m2``). In a money column a
#: bare ``万`` or ``亿`` means 万元 or 亿元.
UNIT_FACTORS: dict[str, dict[str, float]] = {
    "万元": {**_scaled({"元": 1e-4}, "千", "万", "亿"), "万": 1.0, "亿": 1e4},
    "m²": {
        **_scaled({"m2": 1.0, "平方米": 1.0, "平米": 1.0}, "万"),
        "公顷": 1e4,
        "ha": 1e4,
        "亩": 1e4 / 15,
    },
    "户": _scaled({"户": 1.0}, "万"),
    "人": _scaled({"人": 1.0}, "万"),
    "栋": {"栋": 1.0, "幢": 1.0, "座": 1.0},
    "年": {"年": 1.0},
}
_NUMBER_UNIT = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?)([^\d.+-].*)?$", re.IGNORECASE)


def unit_family(unit: str) -> str | None:
    """Return the schema unit a typed unit belongs to (``"元"`` -> ``"万元"``), else ``None``."""
    for family, factors in UNIT_FACTORS.items():
        if unit in factors:
            return family
    return None


def parse_quantity(value: object) -> tuple[float, str | None]:
    """Parse a number that may carry a unit: ``(value or nan, unit as typed or None)``.

    The unit is returned as typed (NFKC-normalised: ``㎡`` -> ``m2``), not converted; see
    :data:`UNIT_FACTORS` for the factors. Thousands separators and spaces are dropped.

    Examples
    --------
    >>> from gisplan._cells import parse_quantity
    >>> parse_quantity("1,500万"), parse_quantity("21500㎡"), parse_quantity(320)
    ((1500.0, '万'), (21500.0, 'm2'), (320.0, None))
    """
    if isinstance(value, (bool, np.bool_)):
        return math.nan, None
    if isinstance(value, (int, float, np.integer, np.floating)):
        return float(value), None
    text = trimmed_text(value)
    if text is None or text.lower() in BLANKS:
        return math.nan, None
    match = _NUMBER_UNIT.match(re.sub(r"[,\s_']", "", text))
    if match is None:
        return math.nan, None
    number = float(match.group(1))
    unit = match.group(2) or None
    return (number if math.isfinite(number) else math.nan), unit
