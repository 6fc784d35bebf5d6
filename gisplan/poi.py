"""POI exports of map providers (高德/Amap, 百度/Baidu, 腾讯/Tencent) as facilities.

Most bureaus and researchers start from a provider's POI export (CSV or Excel) rather
than from OpenStreetMap. Such an export is in the provider's datum — GCJ-02 for Gaode and
Tencent, BD-09 for Baidu — and classifies POIs by the provider's own codes: Gaode's 6-digit
typecodes, Baidu's and Tencent's 一级/二级 categories. :func:`read_poi`

* reads the columns it finds (name/名称; typecode/type/类型/分类/tag/category; location
  ``"lng,lat"`` or lng/lat/经度/纬度/x/y);
* removes the datum offset exactly (:func:`gisplan.crs.gcj02_to_wgs84`,
  :func:`gisplan.crs.bd09_to_wgs84`) and returns WGS84 points;
* maps each POI to a life-circle type by the packaged table
  ``gisplan/data/poi_typecodes.csv`` (:func:`load_poi_typecodes`): a code or category,
  optionally with a name pattern for the types a code cannot separate (社区卫生服务中心 in
  综合医院, 日间照料, 助餐 …). Codes the table does not know are never guessed: their rows
  are left out and listed in one warning with their counts.

Most rows of the table were recalled, not read from the providers' published tables
(``verified = no``); check the mapping on a sample before relying on it.
"""

from __future__ import annotations

import functools
import logging
import math
import re
import warnings
from collections import Counter
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Literal, get_args

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gisplan._readers import read_table
from gisplan.crs import bd09_to_wgs84, gcj02_to_wgs84, out_of_china
from gisplan.errors import GisplanWarning, LayerError, StandardsError
from gisplan.standards import load_standard

if TYPE_CHECKING:
    from collections.abc import Hashable, Sequence

__all__ = [
    "PROVIDERS",
    "PoiRule",
    "Provider",
    "load_poi_typecodes",
    "map_poi_type",
    "read_poi",
]

logger = logging.getLogger(__name__)

Provider = Literal["gaode", "baidu", "tencent"]
#: Providers :func:`read_poi` knows, and the datum of their coordinates.
PROVIDERS: dict[str, str] = {"gaode": "GCJ-02", "baidu": "BD-09", "tencent": "GCJ-02"}
#: ``facility_type`` of a row that is known but no life-circle type (skipped, not warned).
SKIP = "-"
_TABLE = "poi_typecodes.csv"
_WGS84 = "EPSG:4326"

# Column names looked for, in order (compared trimmed and case-insensitive).
_NAME_COLUMNS = ("name", "名称", "poi名称", "名字", "title", "设施名称")
_CODE_COLUMNS = ("typecode", "type_code", "类型编码", "分类编码", "类型代码")
_TEXT_COLUMNS = ("type", "类型", "分类", "tag", "标签", "category", "行业分类", "类别")
_LEVEL_COLUMNS = (("一级分类", "大类", "一级行业"), ("二级分类", "中类", "二级行业"))
_LOCATION_COLUMNS = ("location", "坐标", "经纬度", "lnglat", "lng_lat")
_LON_COLUMNS = ("lng", "lon", "longitude", "经度", "x", "wgs84_lng")
_LAT_COLUMNS = ("lat", "latitude", "纬度", "y", "wgs84_lat")
_ID_COLUMNS = ("id", "poi_id", "uid", "poiid", "编号")
_ADDRESS_COLUMNS = ("address", "地址")
_SEPARATORS = re.compile(r"\s*[;:；：>/]\s*")
_GAODE_CODE = re.compile(r"\d{6}")


@dataclass(frozen=True, slots=True)
class PoiRule:
    """One row of ``gisplan/data/poi_typecodes.csv``.

    Attributes
    ----------
    provider
        ``gaode``, ``baidu``, ``tencent`` or ``*`` (any provider).
    code
        A Gaode typecode or its leading digits (``0901`` = every ``0901xx``), a category
        path (``教育培训;幼儿园``, or its first level ``医疗``), or ``*`` (any code).
    name_pattern
        Regular expression searched in the POI name; empty: any name.
    facility_type
        A ``facility_code`` of the life-circle standard, or ``-``: known, no life-circle
        type (skipped without a warning).
    verified
        ``yes``/``no``: code checked against the provider's published table; ``n/a``: a
        name-only rule.
    note
        Where the row comes from and why.
    """

    provider: str
    code: str
    name_pattern: str
    facility_type: str
    verified: str
    note: str

    def matches(self, name: str) -> bool:
        """Return whether the POI name satisfies this rule's name pattern (empty: always)."""
        return not self.name_pattern or re.search(self.name_pattern, name) is not None


@functools.lru_cache(maxsize=1)
def load_poi_typecodes() -> tuple[PoiRule, ...]:
    """Return the packaged POI type rules, in table order.

    Returns
    -------
    tuple of PoiRule

    Raises
    ------
    StandardsError
        If the packaged table names a type the life-circle standard does not have, an
        unknown provider, or a name pattern that is no regular expression.

    Examples
    --------
    >>> [r.facility_type for r in load_poi_typecodes() if r.code == "141204"]
    ['nursery', 'kindergarten']
    """
    with resources.as_file(resources.files("gisplan") / "data" / _TABLE) as path:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    known = set(load_standard().index.astype(str)) | {SKIP}
    rules: list[PoiRule] = []
    problems: list[str] = []
    for number, row in enumerate(raw.itertuples(index=False), start=2):
        rule = PoiRule(*(str(v).strip() for v in row))
        if rule.provider not in {*PROVIDERS, "*"}:
            problems.append(f"line {number}: unknown provider {rule.provider!r}")
        if rule.facility_type not in known:
            problems.append(f"line {number}: {rule.facility_type!r} is no life-circle type")
        try:
            re.compile(rule.name_pattern)
        except re.error as err:
            problems.append(f"line {number}: name_pattern {rule.name_pattern!r}: {err}")
        rules.append(rule)
    if problems:
        raise StandardsError(
            f"gisplan/data/{_TABLE}: " + "; ".join(problems) + "; correct the packaged table"
        )
    return tuple(rules)


def _keys(code: str) -> list[str]:
    """Return the table keys of a code, most specific first (``141204`` → 141204, 1412, 14)."""
    if _GAODE_CODE.fullmatch(code):
        return [code, code[:4], code[:2]]
    parts = [p for p in _SEPARATORS.split(code) if p]
    return [";".join(parts[:n]) for n in range(len(parts), 0, -1)]


def map_poi_type(provider: str, code: str, name: str) -> str | None:
    """Return the life-circle type of one POI, ``"-"`` (known, none) or ``None`` (unknown).

    Rules with a name pattern go first (the POI's own code, then its parent codes, then
    the any-code rules), then rules without one (own code, then parents). A Gaode
    ``typecode`` with several codes (``141204|141203``) takes the first code that maps.

    Parameters
    ----------
    provider
        ``gaode``, ``baidu`` or ``tencent``.
    code
        The typecode or category path (``科教文化服务;学校;幼儿园``, ``教育学校:中学``).
    name
        The POI name.

    Returns
    -------
    str or None

    Examples
    --------
    >>> map_poi_type("gaode", "141204", "城关幼儿园")
    'kindergarten'
    >>> map_poi_type("gaode", "090100", "东城区社区卫生服务中心")
    'community_health_center'
    >>> map_poi_type("baidu", "美食;中餐厅", "幸福里老年食堂")
    'community_canteen'
    >>> map_poi_type("gaode", "050000", "饭馆") is None
    True
    """
    rules = [r for r in load_poi_typecodes() if r.provider in {provider, "*"}]
    for one in (c.strip() for c in code.split("|")):
        keys = _keys(one) if one else []
        for key in [*keys, "*"]:
            for rule in rules:
                if rule.code == key and rule.name_pattern and rule.matches(name):
                    return rule.facility_type
        for key in keys:
            for rule in rules:
                if rule.code == key and not rule.name_pattern:
                    return rule.facility_type
    return None


def _column(frame: pd.DataFrame, names: Sequence[str]) -> Hashable | None:
    lowered = {str(c).strip().lower(): c for c in frame.columns}
    for name in names:
        if name in lowered:
            return lowered[name]
    return None


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


def _six(match: re.Match[str]) -> str:
    return match.group(1).zfill(6)


def _codes(frame: pd.DataFrame, provider: str, path: Path) -> pd.Series:
    """Return the code or category path of every row, from whichever columns the file has."""
    column = _column(frame, _CODE_COLUMNS) if provider == "gaode" else None
    column = column if column is not None else _column(frame, _TEXT_COLUMNS)
    if column is not None:
        codes: pd.Series = frame[column].map(_text)
        # Excel turns 060200 into 60200(.0): restore the six digits
        return codes.str.replace(r"^(\d{5}|\d{6})(\.0)?$", _six, regex=True)
    levels = [_column(frame, names) for names in _LEVEL_COLUMNS]
    if levels[0] is not None:
        parts = [frame[c].map(_text) for c in levels if c is not None]
        joined: pd.Series = parts[0]
        for part in parts[1:]:
            joined = joined.str.cat(part, sep=";").str.strip(";")
        return joined
    wanted = _CODE_COLUMNS + _TEXT_COLUMNS if provider == "gaode" else _TEXT_COLUMNS
    raise LayerError(
        f"{path}: no type column (looked for {', '.join(wanted)}, or 一级分类/二级分类); "
        "export the POIs with their typecode or category, or rename the column"
    )


def _coordinates(frame: pd.DataFrame, path: Path, names: pd.Series) -> np.ndarray:
    """Return an (n, 2) array of lon/lat; a LayerError names every unreadable row."""
    location = _column(frame, _LOCATION_COLUMNS)
    lon_col, lat_col = _column(frame, _LON_COLUMNS), _column(frame, _LAT_COLUMNS)
    if location is None and (lon_col is None or lat_col is None):
        raise LayerError(
            f"{path}: no coordinates (looked for a 'lng,lat' column {', '.join(_LOCATION_COLUMNS)}"
            f", or lng/lat, 经度/纬度, x/y); export the POIs with their location"
        )
    if location is not None:
        cells = [_text(v) for v in frame[location]]
        pairs = [c.replace("，", ",").split(",") for c in cells]
        raw = [p if len(p) == 2 else ["", ""] for p in pairs]  # noqa: PLR2004 - lng,lat
        what = f"column {location!s} ('lng,lat')"
    else:
        raw = [[_text(a), _text(b)] for a, b in zip(frame[lon_col], frame[lat_col], strict=True)]
        cells = [",".join(r) for r in raw]
        what = f"columns {lon_col!s}/{lat_col!s}"
    values = (
        np.column_stack(
            [
                pd.to_numeric(
                    pd.Series([r[k] for r in raw], dtype=object), errors="coerce"
                ).to_numpy(dtype=float)
                for k in (0, 1)
            ]
        )
        if raw
        else np.empty((0, 2))
    )
    filled = np.nan_to_num(values)
    swapped = out_of_china(filled[:, 0], filled[:, 1]) & ~out_of_china(filled[:, 1], filled[:, 0])
    if swapped.any():
        rows = ", ".join(
            f"row {i + 1} ({names.iloc[i] or 'no name'})" for i in np.flatnonzero(swapped)[:10]
        )
        raise LayerError(
            f"{path}: {rows}: latitude and longitude look swapped ({what}); "
            "the export should hold longitude first ('lng,lat')"
        )
    ok = np.isfinite(values).all(axis=1)
    ok &= (np.abs(values[:, 0]) <= 180) & (np.abs(values[:, 1]) <= 90)  # noqa: PLR2004
    bad = np.flatnonzero(~ok)
    if len(bad):
        shown = "; ".join(
            f"row {i + 1} ({names.iloc[i] or 'no name'}): {cells[i] or 'empty'!r}" for i in bad[:10]
        )
        more = f" and {len(bad) - 10} more" if len(bad) > 10 else ""  # noqa: PLR2004
        raise LayerError(
            f"{path}: {what} not a longitude,latitude pair in degrees in {shown}{more}; "
            "correct or delete these rows (rows counted from 1 below the header)"
        )
    return values


def read_poi(
    path: str | Path,
    provider: Provider = "gaode",
    *,
    sheet: str | None = None,
    encoding: str | None = None,
) -> gpd.GeoDataFrame:
    """Read a provider's POI export (CSV or Excel) as life-circle facilities in WGS84.

    Parameters
    ----------
    path
        A CSV/TXT or XLSX/XLS export, one POI per row.
    provider
        ``gaode`` (高德, GCJ-02), ``baidu`` (百度, BD-09) or ``tencent`` (腾讯, GCJ-02): the
        datum removed and the code table used.
    sheet
        Workbook sheet (default: the first).
    encoding
        CSV text encoding (default: UTF-8, else GB18030/GBK).

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326 points of the POIs whose code maps to a life-circle type: ``facility_id``
        (``<provider>:<id>`` with the export's id column, else ``<provider>:<row>``),
        ``type``, ``name``, ``provider_code`` (the code or category read) and ``address``
        when the export has one. Rows whose code the table does not know are left out and
        listed in one :class:`~gisplan.errors.GisplanWarning` with their counts; rows of
        known codes without a life-circle type (综合医院, 高中 …) are left out silently
        (logged).

    Raises
    ------
    LayerError
        If the file is unreadable, has no type or coordinate column, or a row's coordinates
        are not a longitude/latitude pair (the message names the rows).
    """
    if provider not in get_args(Provider):
        raise LayerError(
            f"{path}: unknown POI provider {provider!r}; use one of {', '.join(PROVIDERS)}"
        )
    source = Path(path)
    frame = read_table(source, layer=sheet, encoding=encoding)
    name_col = _column(frame, _NAME_COLUMNS)
    names = (
        frame[name_col].map(_text) if name_col is not None else pd.Series([""] * len(frame))
    ).reset_index(drop=True)
    codes = _codes(frame, provider, source).reset_index(drop=True)
    lonlat = _coordinates(frame, source, names)
    convert = bd09_to_wgs84 if provider == "baidu" else gcj02_to_wgs84
    lon, lat = convert(lonlat[:, 0], lonlat[:, 1])
    types = [map_poi_type(provider, c, n) for c, n in zip(codes, names, strict=True)]
    unknown = Counter(c or "(empty)" for c, t in zip(codes, types, strict=True) if t is None)
    if unknown:
        listed = ", ".join(f"{c} ×{n}" for c, n in unknown.most_common())
        warnings.warn(
            f"{source}: {sum(unknown.values())} POI row(s) skipped, their {provider} code is not "
            f"in gisplan/data/{_TABLE}: {listed}; add a row for a code that is a life-circle "
            "facility (or map these POIs by hand)",
            GisplanWarning,
            stacklevel=2,
        )
    skipped = Counter(c for c, t in zip(codes, types, strict=True) if t == SKIP)
    if skipped:
        logger.info(
            "%s: %d POI row(s) of no life-circle type: %s",
            source,
            sum(skipped.values()),
            dict(skipped),
        )
    keep = np.array([t not in {None, SKIP} for t in types], dtype=bool)
    id_col = _column(frame, _ID_COLUMNS)
    ids = frame[id_col].map(_text).reset_index(drop=True) if id_col is not None else None
    if ids is None or ids.eq("").any() or ids.duplicated().any():
        ids = pd.Series([str(i + 1) for i in range(len(frame))])
    data: dict[str, object] = {
        "facility_id": [f"{provider}:{i}" for i in ids[keep]],
        "type": [t for t, k in zip(types, keep, strict=True) if k],
        "name": names[keep].tolist(),
        "provider_code": codes[keep].tolist(),
    }
    address = _column(frame, _ADDRESS_COLUMNS)
    if address is not None:
        data["address"] = frame[address].map(_text).reset_index(drop=True)[keep].tolist()
    out = gpd.GeoDataFrame(data, geometry=shapely.points(lon[keep], lat[keep]), crs=_WGS84)
    logger.info(
        "%s: %d of %d %s POIs mapped to life-circle types (%s → WGS84)",
        source,
        len(out),
        len(frame),
        provider,
        PROVIDERS[provider],
    )
    return out
