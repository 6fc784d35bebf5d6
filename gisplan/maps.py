"""Interactive maps of a finished run: eligibility, gaps, funding, plan years, bundles, sites.

:func:`explore` draws one theme (or ``"overview"``: every theme as a layer to switch on and
off) of a run as a :class:`folium.Map`, shown inline in Jupyter; :func:`save` writes it,
by default as one offline HTML file (every script, style, icon font and image embedded by
:func:`gisplan.assets.inline`; only basemap tiles come from the network).
:func:`write_maps` writes ``<out>/maps/<theme>.html`` for the runner's ``maps:`` section and
:func:`redraw` does the same from a finished output folder (``gisplan map OUTPUT_DIR``).

What the maps show
------------------
* communities coloured by eligibility status, gap score (five classes of 0.2), financing
  mode or plan start year; a legend per layer with the count of each class;
* facilities by type, each type with its own Font Awesome icon and colour; service areas
  (off at first); bundles (dissolved outlines, coloured by whether their balance is ≥ 0);
  chosen sites and candidate sites;
* a tooltip (name and class) and a popup (every known field with Chinese label and unit)
  on every feature; layer control, fullscreen, scale bar, measuring tool and minimap.

Every text that comes from the data is put on the page with ``textContent`` (never as HTML)
and the embedded JSON escapes ``<``, so a community called ``<img src=x onerror=alert(1)>``
is shown as those characters.

Basemaps
--------
``"osm"`` (OpenStreetMap), ``"tianditu"`` / ``"tianditu_img"`` (天地图 vector or imagery
with the Chinese annotation layer; CGCS2000 is taken as WGS84 at map scale; the key comes
from ``tianditu_key=`` or the ``TIANDITU_KEY`` environment variable and ends up inside the
saved HTML, so do not publish files made with a private key), ``"gaode"`` / ``"amap"`` /
``"gaode_img"`` (高德, whose tiles are in GCJ-02: every overlay is shifted from WGS84 to
GCJ-02 with :func:`gisplan.crs.convert_offset`) and ``"none"``. The minimap needs tiles
and is left out with ``"none"``.

Size and speed
--------------
Geometry is reprojected to EPSG:4326 on a copy, community polygons are simplified with
``shapely.coverage_simplify`` (shared boundaries stay shared; other layers with
``simplify(preserve_topology=True)``), coordinates are rounded to ``precision`` decimals of
a degree (5 ≈ 1 m) and written once per layer as compact JSON; the attributes travel as
arrays, not repeated keys. Above ``canvas_threshold`` features (default 20,000) the map
switches to canvas rendering (points become circle markers) and says so in a note on the
map and in the log.

Bad input
---------
A layer with no rows or no usable geometry is left out and named in a note on the map; a
theme whose layers are all missing raises :class:`~gisplan.errors.LayerError`. Layers with
mixed geometry types are drawn as they are: polygons and lines styled by class, points as
markers. Rows without geometry are dropped and counted in the note.
"""

from __future__ import annotations

import difflib
import itertools
import json
import logging
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from gisplan import assets, vocabulary
from gisplan._atomic import FolderLock, atomic_write
from gisplan.crs import convert_offset
from gisplan.eligibility import STATUS_ZH
from gisplan.errors import CRSError, LayerError, ScenarioError
from gisplan.finance import MODE_ZH
from gisplan.outputs import RunResult, read_run, record_outputs
from gisplan.standards import load_standard, short_name
from gisplan.vocabulary import column_label, labels

if TYPE_CHECKING:
    import folium

__all__ = [
    "BASEMAPS",
    "THEMES",
    "MapOptions",
    "explore",
    "redraw",
    "save",
    "write_maps",
]

logger = logging.getLogger(__name__)

#: Map themes; ``overview`` holds every other theme as a layer.
THEMES: tuple[str, ...] = ("overview", "eligibility", "gaps", "funding", "plan", "bundles", "sites")

#: Basemap names (aliases: ``amap`` → ``gaode``, ``amap_img`` → ``gaode_img``,
#: ``tianditu_vec`` → ``tianditu``, ``openstreetmap`` → ``osm``).
BASEMAPS: tuple[str, ...] = ("osm", "tianditu", "tianditu_img", "gaode", "gaode_img", "none")
_ALIASES = {
    "amap": "gaode",
    "amap_img": "gaode_img",
    "tianditu_vec": "tianditu",
    "openstreetmap": "osm",
}

#: Chinese names of the themes (page titles, layer names), from :mod:`gisplan.vocabulary`.
THEME_ZH: Mapping[str, str] = labels("map_theme")

# (column, decimals or None for text, thousands separator)
_Field = tuple[str, "int | None", bool]
_COMMUNITY_FIELDS: tuple[_Field, ...] = (
    ("community_id", None, False),
    ("name", None, False),
    ("street", None, False),
    ("built_year", 0, False),
    ("households", 0, True),
    ("floor_area_m2", 0, True),
    ("status_zh", None, False),
    ("reasons_zh", None, False),
    ("gap_score", 2, False),
    ("n_missing", 0, False),
    ("cost_wan_yuan", 2, True),
    ("mode_zh", None, False),
    ("committed_wan_yuan", 2, True),
    ("assumed_wan_yuan", 2, True),
    ("shortfall_wan_yuan", 2, True),
    ("newly_covered_zh", None, False),
    ("start_year", 0, False),
    ("completion_year", 0, False),
    ("publicity_start", None, False),
    ("publicity_end", None, False),
)
_FACILITY_FIELDS: tuple[_Field, ...] = (
    ("facility_id", None, False),
    ("name", None, False),
    ("type_zh", None, False),
    ("capacity", 0, True),
)
_SERVICE_FIELDS: tuple[_Field, ...] = (
    ("facility_id", None, False),
    ("type_zh", None, False),
    ("radius_m", 0, True),
)
_BUNDLE_FIELDS: tuple[_Field, ...] = (
    ("bundle_id", None, False),
    ("community_ids", None, False),
    ("project_ids", None, False),
    ("cost_wan_yuan", 2, True),
    ("revenue_wan_yuan", 2, True),
    ("balance_wan_yuan", 2, True),
    ("mode_zh", None, False),
)
_CHOSEN_FIELDS: tuple[_Field, ...] = (
    ("site_id", None, False),
    ("type_zh", None, False),
    ("kind", None, False),
    ("cost_wan_yuan", 2, True),
    ("households_newly_covered", 0, True),
    ("residents_newly_covered", 0, True),
)
_SITE_FIELDS: tuple[_Field, ...] = (
    ("site_id", None, False),
    ("kind", None, False),
    ("area_m2", 0, True),
    ("cost_wan_yuan", 2, True),
)

# awesome-markers colour names and the CSS colour used for legends and circle markers
_MARKER_CSS = {
    "red": "#d63e2a",
    "darkred": "#a23336",
    "orange": "#f69730",
    "green": "#72b026",
    "darkgreen": "#728224",
    "blue": "#38aadd",
    "darkblue": "#0067a3",
    "purple": "#d252b9",
    "darkpurple": "#5b396b",
    "cadetblue": "#436978",
    "gray": "#575757",
    "black": "#303030",
}
_OTHER_ICON = ("circle-info", "gray")


def _facility_icons() -> dict[str, tuple[str, str]]:
    """Font Awesome 6 (solid) icon and marker colour per facility type, in standard order.

    From the ``icon`` and ``colour`` columns of the packaged standards table; a colour that
    is not an awesome-markers colour becomes gray.
    """
    table = load_standard()
    return {
        str(code): (icon or _OTHER_ICON[0], colour if colour in _MARKER_CSS else _OTHER_ICON[1])
        for code, icon, colour in zip(table.index, table["icon"], table["colour"], strict=True)
    }


_NO_DATA = "#f0f0f0"
_GAP_BREAKS = (0.2, 0.4, 0.6, 0.8)
_GAP_COLOURS = ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026")
_YEAR_COLOURS = ("#08519c", "#3182bd", "#6baed6", "#9ecae1", "#c6dbef")
_PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)
_DEG_PER_M = 1.0 / 111_320.0
_TILE_SUBDOMAINS = {"tianditu": "01234567", "gaode": "1234"}


@dataclass(frozen=True, kw_only=True, slots=True)
class MapOptions:
    """How maps are drawn and which ones :func:`write_maps` writes.

    Parameters
    ----------
    themes : tuple of str
        Themes :func:`write_maps` writes (default all of :data:`THEMES`); themes whose
        layers the run lacks are skipped with a log line.
    basemap : str
        One of :data:`BASEMAPS` (or an alias).
    offline : bool
        Embed every script, style and font (:func:`save`); only tiles need a network.
    tianditu_key : str, optional
        天地图 key; when ``None`` it is read from the variable named ``tianditu_key_env``.
    tianditu_key_env : str
        Environment variable holding the 天地图 key.
    simplify_m : float
        Simplification tolerance in metres (0 keeps every vertex); service areas use at
        least ``service_area_simplify_m``.
    service_area_simplify_m : float
        Minimum tolerance for service-area outlines (network shapes have many vertices).
    precision : int
        Decimals of a degree kept in coordinates (5 ≈ 1 m).
    canvas_threshold : int
        Above this many features the map draws on canvas with circle markers.
    """

    themes: tuple[str, ...] = THEMES
    basemap: str = "osm"
    offline: bool = True
    tianditu_key: str | None = field(default=None, repr=False)
    tianditu_key_env: str = "TIANDITU_KEY"
    simplify_m: float = 1.0
    service_area_simplify_m: float = 25.0
    precision: int = 5
    canvas_threshold: int = 20_000

    def __post_init__(self) -> None:
        """Check every field; one error lists all problems."""
        problems: list[tuple[str, str, str]] = []
        bad = [t for t in self.themes if t not in THEMES]
        if bad or not self.themes:
            problems.append(
                (
                    "themes",
                    repr(self.themes),
                    f"choose from {', '.join(THEMES)}{_did_you_mean(bad, THEMES)}",
                )
            )
        try:
            _basemap_name(self.basemap)
        except ScenarioError as err:
            problems.append(("basemap", repr(self.basemap), str(err)))
        for name in ("simplify_m", "service_area_simplify_m"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
                problems.append((name, repr(value), "give metres ≥ 0"))
        if not (isinstance(self.precision, int) and 3 <= self.precision <= 8):  # noqa: PLR2004
            problems.append(("precision", repr(self.precision), "give 3–8 decimals (5 ≈ 1 m)"))
        if not (isinstance(self.canvas_threshold, int) and self.canvas_threshold >= 0):
            problems.append(("canvas_threshold", repr(self.canvas_threshold), "give a count ≥ 0"))
        if not self.tianditu_key_env:
            problems.append(("tianditu_key_env", "''", "name an environment variable"))
        ScenarioError.check("MapOptions", "maps", problems)


def _did_you_mean(bad: list[str], choices: tuple[str, ...]) -> str:
    hints = [m for b in bad for m in difflib.get_close_matches(str(b), choices, n=1)]
    return f" (did you mean {', '.join(repr(h) for h in hints)}?)" if hints else ""


def _basemap_name(name: str) -> str:
    key = str(name).strip().lower()
    key = _ALIASES.get(key, key)
    if key not in BASEMAPS:
        choices = BASEMAPS + tuple(_ALIASES)
        raise ScenarioError(
            f"unknown basemap {name!r}; choose from {', '.join(BASEMAPS)}"
            f"{_did_you_mean([key], choices)}",
            [("maps.basemap", repr(name), f"choose from {', '.join(BASEMAPS)}")],
        )
    return key


# --- run data --------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class _RunView:
    """What maps need of a run: its title, the CRS and every layer and table by name."""

    title: str
    crs: pyproj.CRS | None
    layers: Mapping[str, pd.DataFrame]


def _layers_crs(layers: Mapping[str, pd.DataFrame]) -> pyproj.CRS | None:
    for frame in layers.values():
        if isinstance(frame, gpd.GeoDataFrame) and frame.crs is not None:
            return pyproj.CRS.from_user_input(frame.crs)
    return None


def _as_run_data(result: object) -> _RunView:
    """Accept a RunResult (fresh or read back), an output folder or a dict of frames."""
    if isinstance(result, _RunView):
        return result
    if isinstance(result, (str, Path)):
        result = read_run(result)
    if isinstance(result, RunResult):
        return _RunView(title=result.title, crs=result.crs, layers=result.frames())
    if isinstance(result, Mapping):
        frames = {str(k): v for k, v in result.items()}
        bad = [k for k, v in frames.items() if not isinstance(v, pd.DataFrame)]
        if bad:
            raise LayerError(f"maps: {bad} are not tables; pass a dict of (Geo)DataFrames")
        return _RunView(title="gisplan", crs=_layers_crs(frames), layers=frames)
    raise LayerError(
        f"maps: cannot draw a {type(result).__name__}; pass a RunResult, an output folder "
        "or a dict of (Geo)DataFrames"
    )


# --- preparing layers --------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class _Dataset:
    key: str
    geoms_json: str
    scale: int
    rows: list[list[object]]
    fields: list[dict[str, object]]
    title_index: int
    frame: pd.DataFrame  # attributes, aligned with geometries
    bounds: tuple[float, float, float, float]  # lon/lat of the drawn geometry


@dataclass(frozen=True, kw_only=True)
class _View:
    label: str
    data: str
    cls: list[int]
    classes: list[dict[str, object]]
    counts: list[int]
    count_unit: str
    show: bool
    weight: float = 1.0
    fill_opacity: float = 0.6


def _geo(layers: Mapping[str, pd.DataFrame], name: str) -> gpd.GeoDataFrame | None:
    frame = layers.get(name)
    if isinstance(frame, gpd.GeoDataFrame):
        return frame
    return None


def _table(layers: Mapping[str, pd.DataFrame], name: str) -> pd.DataFrame | None:
    frame = layers.get(name)
    return frame if isinstance(frame, pd.DataFrame) and "community_id" in frame.columns else None


def _communities(layers: Mapping[str, pd.DataFrame]) -> gpd.GeoDataFrame | None:
    base = _geo(layers, "communities")
    if base is None:
        base = _geo(layers, "community_gaps")
    if base is None:
        return None
    out = base.copy()
    if "community_id" not in out.columns:
        return out
    joins: tuple[tuple[str, tuple[str, ...]], ...] = (
        ("eligibility", ("status", "status_zh", "reasons_zh")),
        ("community_gaps", ("gap_score", "n_missing")),
        ("scheme_costs", ("cost_wan_yuan",)),
        (
            "funding_modes",
            ("mode", "mode_zh", "committed_wan_yuan", "assumed_wan_yuan", "shortfall_wan_yuan"),
        ),
        ("rollout", ("start_year", "completion_year")),
        ("publicity", ("publicity_start", "publicity_end")),
    )
    for name, columns in joins:
        table = _table(layers, name)
        if table is None:
            continue
        keep = [c for c in columns if c in table.columns]
        if not keep:
            continue
        right = pd.DataFrame(table[["community_id", *keep]]).drop_duplicates("community_id")
        out = out.drop(columns=[c for c in keep if c in out.columns])
        merged = pd.DataFrame(out.drop(columns=out.geometry.name)).merge(
            right, on="community_id", how="left", sort=False
        )
        merged.index = out.index
        for column in keep:
            out[column] = merged[column]
    chosen = layers.get("sites_chosen")
    if isinstance(chosen, pd.DataFrame) and "newly_covered_ids" in chosen.columns:
        out["newly_covered_zh"] = _newly_covered(out["community_id"], chosen)
    return out


def _newly_covered(ids: pd.Series, chosen: pd.DataFrame) -> pd.Series:
    """Facility types (Chinese) a community gains within the standard distance by the proposal."""
    gained: dict[str, list[str]] = {}
    names = chosen["type_zh"] if "type_zh" in chosen.columns else chosen["type"]
    for covered, name in zip(chosen["newly_covered_ids"], names, strict=True):
        for cid in re.split(r"[、,，\s]+", str(covered if isinstance(covered, str) else "")):
            if cid and str(name) not in gained.setdefault(cid, []):
                gained[cid].append(str(name))
    return ids.astype(str).map(lambda c: "、".join(gained.get(c, [])) or None)


def _type_zh(frame: pd.DataFrame) -> pd.Series:
    if "type_zh" in frame.columns:
        zh = frame["type_zh"].tolist()
        codes = frame["type"].tolist() if "type" in frame.columns else [""] * len(zh)
        merged: pd.Series = pd.Series(
            [c if pd.isna(z) else z for z, c in zip(zh, codes, strict=True)],
            index=frame.index,
            dtype=object,
        )
        return merged

    names = {str(code): short_name(n) for code, n in load_standard()["name_zh"].items()}
    types = frame["type"] if "type" in frame.columns else pd.Series("", index=frame.index)
    out: pd.Series = pd.Series(
        [names.get(str(t), str(t)) for t in types], index=frame.index, dtype=object
    )
    return out


def _with_type_zh(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    out = frame.copy()
    out["type_zh"] = _type_zh(frame)
    return out


def _to_lonlat(
    frame: gpd.GeoDataFrame,
    *,
    name: str,
    tolerance_m: float,
    coverage: bool,
    gcj02: bool,
    precision: int,
) -> tuple[gpd.GeoDataFrame, int]:
    """Drop empty geometries, simplify, reproject (on a copy), shift to GCJ-02, round."""
    if frame.crs is None:
        raise CRSError(
            f"maps: layer {name!r} has no CRS; set it (gdf.set_crs(...)) or read it from a run"
        )
    geoms = frame.geometry.to_numpy()
    keep = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    dropped = int((~keep).sum())
    out = frame.loc[keep].copy()
    if len(out) == 0:
        return gpd.GeoDataFrame(out, geometry=out.geometry.name, crs=frame.crs), dropped
    crs = pyproj.CRS.from_user_input(frame.crs)
    tolerance = tolerance_m if crs.is_projected else tolerance_m * _DEG_PER_M
    values = out.geometry.to_numpy()
    if tolerance > 0:
        polygonal = bool(np.all(np.isin(shapely.get_type_id(values), (3, 6))))
        if coverage and polygonal:
            values = shapely.coverage_simplify(values, tolerance, simplify_boundary=True)
        else:
            values = shapely.simplify(values, tolerance, preserve_topology=True)
    lonlat = gpd.GeoSeries(values, index=out.index, crs=crs).to_crs(4326)
    if gcj02:
        lonlat = convert_offset(lonlat, src="wgs84", dst="gcj02")
    rounded = shapely.transform(lonlat.to_numpy(), lambda c: np.round(c, precision))
    out = gpd.GeoDataFrame(
        pd.DataFrame(out.drop(columns=out.geometry.name)),
        geometry=gpd.GeoSeries(rounded, index=out.index, crs=4326),
    )
    return out, dropped


# shapely type id -> (name, code in the page's decoder); 2 (LinearRing) and 7 (collections)
# are refused with a clear error
_GEOM_NAMES = {0: "Point", 1: "LineString", 3: "Polygon", 4: "MultiPoint",
               5: "MultiLineString", 6: "MultiPolygon"}  # fmt: skip
_FAMILIES = {0: 0, 4: 0, 1: 1, 5: 1, 3: 2, 6: 2}  # points, lines, polygons


def _flat(ints: np.ndarray[Any, Any], start: int, stop: int) -> str:
    """Delta-code positions ``start:stop`` (first absolute) as a flat JSON list of ints."""
    part = ints[start:stop]
    deltas = np.diff(part, axis=0, prepend=np.zeros((1, 2), dtype=np.int64))
    return "[" + ",".join(map(str, deltas.ravel().tolist())) + "]"


def _spans(offsets: np.ndarray[Any, Any]) -> list[tuple[int, int]]:
    return list(itertools.pairwise(offsets.tolist()))


def _encode_family(geoms: np.ndarray[Any, Any], scale: float) -> list[str]:
    """Compact codes for geometries of one family (points, lines or polygons).

    ``[1,x,y]`` for a point (integers of ``1/scale`` degree); other types ``[code, parts]``
    where every ring or line is a flat list ``[x0,y0,dx1,dy1,...]`` (polygon rings without
    their closing vertex). The page's ``decode`` turns them back into GeoJSON.
    """
    kind, coords, offsets = shapely.to_ragged_array(geoms, include_z=False)
    ints = np.rint(np.asarray(coords) * scale).astype(np.int64)
    code = int(kind) + (1 if int(kind) < 2 else 0)  # noqa: PLR2004 - codes 1..6 skip LinearRing
    if code == 1:
        return [f"[1,{x},{y}]" for x, y in ints.tolist()]
    closed = 1 if code in {3, 6} else 0
    parts = [_flat(ints, a, b - closed) for a, b in _spans(np.asarray(offsets[0]))]
    for level in range(1, len(offsets)):
        parts = ["[" + ",".join(parts[a:b]) + "]" for a, b in _spans(np.asarray(offsets[level]))]
    return [f"[{code},{p}]" for p in parts]


def _encode(geoms: np.ndarray[Any, Any], *, precision: int, layer: str) -> list[str]:
    """Encode each geometry for the page; mixed types are split by family, order kept."""
    types = shapely.get_type_id(geoms)
    bad = sorted({int(t) for t in types.tolist()} - set(_GEOM_NAMES))
    if bad:
        raise LayerError(
            f"maps: layer {layer!r} holds "
            f"{', '.join(shapely.GeometryType(t).name for t in bad)} geometries; make them "
            "simple points, lines or polygons first (gdf.explode(index_parts=False))"
        )
    families = np.array([_FAMILIES[int(t)] for t in types.tolist()], dtype=np.int64)
    scale = float(10**precision)
    out: list[str] = [""] * len(geoms)
    for family in np.unique(families).tolist():
        where = np.flatnonzero(families == family)
        for i, text in zip(where.tolist(), _encode_family(geoms[where], scale), strict=True):
            out[i] = text
    return out


def _cell(value: object, decimals: int | None) -> object:
    """Return the JSON value of a popup cell: rounded number, text, "是"/"否" or null."""
    out: object
    if isinstance(value, (bool, np.bool_)):
        out = "是" if value else "否"
    elif isinstance(value, (int, float, np.integer, np.floating)):
        number = float(value)
        if not math.isfinite(number):
            out = None
        elif decimals is None:
            out = str(value)
        else:
            out = round(number) if decimals == 0 else round(number, decimals)
    elif isinstance(value, pd.Timestamp):
        out = value.strftime("%Y-%m-%d")
    else:
        out = None if value is None or value is pd.NA else (str(value) or None)
    return out


def _dataset(
    key: str, frame: gpd.GeoDataFrame, fields: tuple[_Field, ...], *, precision: int
) -> _Dataset:
    present = [f for f in fields if f[0] in frame.columns and frame[f[0]].notna().any()]
    if not present:
        present = [("geometry_type", None, False)]
        frame = frame.assign(geometry_type=frame.geom_type)
    rows = (
        [
            list(r)
            for r in zip(
                *[[_cell(v, d) for v in frame[c].tolist()] for c, d, _ in present], strict=True
            )
        ]
        if len(frame)
        else []
    )
    title_col = next(
        (
            c
            for c in ("name", "bundle_id", "site_id", "facility_id")
            if c in {f[0] for f in present}
        ),
        present[0][0],
    )
    geoms = _encode(frame.geometry.to_numpy(), precision=precision, layer=key)
    return _Dataset(
        key=key,
        geoms_json="[" + ",".join(geoms) + "]",
        scale=10**precision,
        rows=rows,
        fields=[{"l": column_label(c, layer=key), "d": d, "g": g} for c, d, g in present],
        title_index=[f[0] for f in present].index(title_col),
        frame=pd.DataFrame(frame.drop(columns=frame.geometry.name)),
        bounds=tuple(float(b) for b in frame.total_bounds),  # type: ignore[arg-type]
    )


def _categorical(
    values: pd.Series,
    order: Mapping[str, tuple[str, str]],
    *,
    missing: str,
    extra_colours: tuple[str, ...] = _PALETTE,
) -> tuple[list[int], list[dict[str, object]], list[int]]:
    """Class index per row: known keys in ``order`` (label, colour), then others, then missing."""
    keys = list(order)
    text = values.astype(object).where(values.notna(), None)
    others = sorted({str(v) for v in text if v is not None and str(v) not in order})
    classes: list[dict[str, object]] = [{"label": order[k][0], "color": order[k][1]} for k in keys]
    classes += [
        {"label": o, "color": extra_colours[i % len(extra_colours)]} for i, o in enumerate(others)
    ]
    index = {k: i for i, k in enumerate(keys + others)}
    cls = [index[str(v)] if v is not None else len(classes) for v in text]
    if any(c == len(classes) for c in cls):
        classes.append({"label": missing, "color": _NO_DATA})
    counts = [cls.count(i) for i in range(len(classes))]
    return cls, classes, counts


def _drop_empty_classes(
    cls: list[int], classes: list[dict[str, object]], counts: list[int]
) -> tuple[list[int], list[dict[str, object]], list[int]]:
    keep = [i for i, n in enumerate(counts) if n > 0]
    remap = {old: new for new, old in enumerate(keep)}
    return [remap[c] for c in cls], [classes[i] for i in keep], [counts[i] for i in keep]


def _community_views(data: _Dataset, theme: str) -> _View:
    frame = data.frame
    empty = pd.Series([None] * len(frame), index=frame.index, dtype=object)
    if theme == "eligibility":
        colours = vocabulary.colours("eligibility_status")
        order = {k: (STATUS_ZH[k], colours[k]) for k in STATUS_ZH}
        cls, classes, counts = _categorical(frame.get("status", empty), order, missing="无资格数据")
        label = "小区：改造资格"
    elif theme == "gaps":
        score = pd.to_numeric(frame.get("gap_score", empty), errors="coerce")
        labels = ["0–0.2", "0.2–0.4", "0.4–0.6", "0.6–0.8", "0.8–1"]
        bins = np.digitize(score.astype("float64").fillna(-1.0).to_numpy(), _GAP_BREAKS)
        keys = pd.Series(
            [None if pd.isna(s) else labels[b] for b, s in zip(bins, score, strict=True)],
            index=frame.index,
            dtype=object,
        )
        order = {
            lab: (f"缺口指数 {lab}", col) for lab, col in zip(labels, _GAP_COLOURS, strict=True)
        }
        cls, classes, counts = _categorical(keys, order, missing="无缺口数据")
        label = "小区：配套设施缺口指数"
    elif theme == "funding":
        colours = vocabulary.colours("financing_mode")
        order = {k: (MODE_ZH[k], colours[k]) for k in MODE_ZH}
        cls, classes, counts = _categorical(frame.get("mode", empty), order, missing="未测算资金")
        label = "小区：资金平衡模式"
    elif theme == "siting":
        gained = frame.get("newly_covered_zh", empty)
        n = gained.map(lambda v: 0 if v is None or pd.isna(v) else len(str(v).split("、")))
        keys = n.map(lambda k: None if k == 0 else ("1" if k == 1 else "2+"))
        order = {
            "1": ("新增 1 类设施覆盖", "#74c476"),
            "2+": ("新增 2 类及以上设施覆盖", "#238b45"),
        }
        cls, classes, counts = _categorical(keys, order, missing="选址后未新增覆盖")
        label = "小区：选址后新增覆盖"
    else:  # plan
        years = pd.to_numeric(frame.get("start_year", empty), errors="coerce")
        distinct = sorted({int(y) for y in years.dropna()})
        order = {
            str(y): (f"{y}年开工", _YEAR_COLOURS[min(i, len(_YEAR_COLOURS) - 1)])
            for i, y in enumerate(distinct)
        }
        keys = pd.Series(
            [None if pd.isna(y) else str(int(y)) for y in years], index=frame.index, dtype=object
        )
        cls, classes, counts = _categorical(keys, order, missing="未纳入计划")
        label = "小区：计划开工年份"
    cls, classes, counts = _drop_empty_classes(cls, classes, counts)
    return _View(
        label=label,
        data=data.key,
        cls=cls,
        classes=classes,
        counts=counts,
        count_unit="个",
        show=True,
    )


def _type_view(
    data: _Dataset,
    label: str,
    *,
    icons: bool,
    show: bool,
    marker: str | None = None,
    count_unit: str = "处",
    fill_opacity: float = 0.6,
    weight: float = 1.0,
) -> _View:
    frame = data.frame
    types = frame["type"] if "type" in frame.columns else pd.Series("", index=frame.index)
    type_zh = frame["type_zh"] if "type_zh" in frame.columns else types
    icons_of = _facility_icons()
    rank = {code: i for i, code in enumerate(icons_of)}
    pairs = sorted(
        {(str(t), str(z)) for t, z in zip(types, type_zh, strict=True)},
        key=lambda p: (rank.get(p[0], len(rank)), p),
    )
    index = {t: i for i, (t, _) in enumerate(pairs)}
    classes: list[dict[str, object]] = []
    for i, (code, zh) in enumerate(pairs):
        icon, colour = icons_of.get(code, _OTHER_ICON)
        colour = marker or colour
        entry: dict[str, object] = {
            "label": zh,
            "color": _MARKER_CSS.get(colour, _PALETTE[i % len(_PALETTE)])
            if icons
            else _PALETTE[i % len(_PALETTE)],
        }
        if icons:
            entry |= {"icon": icon, "marker": colour}
        classes.append(entry)
    cls = [index[str(t)] for t in types]
    counts = [cls.count(i) for i in range(len(classes))]
    return _View(
        label=label,
        data=data.key,
        cls=cls,
        classes=classes,
        counts=counts,
        count_unit=count_unit,
        show=show,
        fill_opacity=fill_opacity,
        weight=weight,
    )


def _balance_view(data: _Dataset, *, show: bool) -> _View:
    column = "balance_wan_yuan"
    raw = (
        data.frame[column] if column in data.frame.columns else pd.Series(np.nan, data.frame.index)
    )
    balance = pd.to_numeric(raw, errors="coerce")
    keys = pd.Series(
        [None if pd.isna(b) else ("surplus" if b >= 0 else "deficit") for b in balance],
        index=balance.index,
        dtype=object,
    )
    order = {"surplus": ("收支结余 ≥ 0", "#1a9641"), "deficit": ("收支结余 < 0", "#d7191c")}
    cls, classes, counts = _drop_empty_classes(*_categorical(keys, order, missing="未测算收支"))
    return _View(
        label="统筹片区：收支平衡",
        data=data.key,
        cls=cls,
        classes=classes,
        counts=counts,
        count_unit="片",
        show=show,
        fill_opacity=0.15,
        weight=3.0,
    )


def _kind_view(data: _Dataset, *, show: bool) -> _View:
    kinds = data.frame.get("kind", pd.Series([None] * len(data.frame), dtype=object))
    colours = vocabulary.colours("site_kind")
    order = {k: (label, colours[k]) for k, label in vocabulary.labels("site_kind").items()}
    cls, classes, counts = _categorical(kinds, order, missing="未注明类型")
    cls, classes, counts = _drop_empty_classes(cls, classes, counts)
    return _View(
        label="候选地块",
        data=data.key,
        cls=cls,
        classes=classes,
        counts=counts,
        count_unit="块",
        show=show,
        fill_opacity=0.3,
        weight=1.0,
    )


# --- page parts -------------------------------------------------------------------------

_RUNTIME_JS = r"""
(function () {
  if (window.gisplan) { return; }
  var gp = window.gisplan = {data: {}, views: {}, canvas: null};
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = text; }
    return e;
  }
  function fmt(v, f) {
    if (v === null || v === undefined || v === '') { return '—'; }
    if (typeof v === 'number') {
      return v.toLocaleString('zh-CN', {maximumFractionDigits: f.d === null ? 6 : f.d,
                                        useGrouping: !!f.g});
    }
    return String(v);
  }
  function title(d, i) {
    var v = d.rows[i][d.title];
    return v === null || v === undefined ? '' : String(v);
  }
  function popup(d, i, spec) {
    var box = el('div', 'gp-popup');
    box.appendChild(el('div', 'gp-popup-title', title(d, i)));
    box.appendChild(el('div', 'gp-popup-class', spec.classes[spec.cls[i]].label));
    var t = el('table', 'gp-popup-table');
    d.fields.forEach(function (f, j) {
      var v = d.rows[i][j];
      if (v === null || v === undefined || v === '') { return; }
      var tr = el('tr');
      tr.appendChild(el('th', null, f.l));
      tr.appendChild(el('td', null, fmt(d.rows[i][j], f)));
      t.appendChild(tr);
    });
    box.appendChild(t);
    return box;
  }
  function line(a, s) {
    var out = [], x = 0, y = 0;
    for (var i = 0; i < a.length; i += 2) { x += a[i]; y += a[i + 1]; out.push([x / s, y / s]); }
    return out;
  }
  function lines(a, s) { return a.map(function (r) { return line(r, s); }); }
  var TYPES = [null, 'Point', 'LineString', 'Polygon', 'MultiPoint', 'MultiLineString',
               'MultiPolygon'];
  function decode(g, s) {
    var t = g[0], c;
    if (t === 1) { c = [g[1] / s, g[2] / s]; }
    else if (t === 2 || t === 4) { c = line(g[1], s); }
    else if (t === 3 || t === 5) { c = lines(g[1], s); }
    else { c = g[1].map(function (p) { return lines(p, s); }); }
    return {type: TYPES[t], coordinates: c};
  }
  gp.decode = decode;
  gp.addData = function (key, geoms, scale, rows, fields, titleIndex) {
    gp.data[key] = {raw: geoms, scale: scale, geoms: null, rows: rows, fields: fields,
                    title: titleIndex};
  };
  function geomsOf(d) {
    if (!d.geoms) {
      d.geoms = d.raw.map(function (g) { return decode(g, d.scale); });
      d.raw = null;
    }
    return d.geoms;
  }
  gp.view = function (spec) {
    var d = gp.data[spec.data];
    var renderer;
    if (spec.canvas) { renderer = gp.canvas || (gp.canvas = L.canvas({padding: 0.5})); }
    var icons = spec.classes.map(function (c) {
      return c.icon && !spec.canvas && L.AwesomeMarkers ? L.AwesomeMarkers.icon(
        {icon: c.icon, prefix: 'fa', markerColor: c.marker, iconColor: 'white'}) : null;
    });
    var features = [];
    geomsOf(d).forEach(function (g, i) {
      if (spec.cls[i] >= 0) {
        features.push({type: 'Feature', id: i, properties: null, geometry: g});
      }
    });
    var group = L.geoJSON({type: 'FeatureCollection', features: features}, {
      renderer: renderer,
      style: function (f) {
        var c = spec.classes[spec.cls[f.id]];
        return {color: spec.fillOpacity > 0.2 ? '#555555' : c.color, weight: spec.weight,
                opacity: 0.9, fillColor: c.color, fillOpacity: spec.fillOpacity};
      },
      pointToLayer: function (f, ll) {
        var k = spec.cls[f.id];
        if (icons[k]) { return L.marker(ll, {icon: icons[k]}); }
        return L.circleMarker(ll, {renderer: renderer, radius: 5});
      },
      onEachFeature: function (f, layer) {
        var i = f.id;
        layer.bindTooltip(function () {
          return el('span', 'gp-tip', title(d, i) + ' · ' + spec.classes[spec.cls[i]].label);
        }, {sticky: true});
        layer.bindPopup(function () { return popup(d, i, spec); }, {maxWidth: 360});
      }
    });
    group.gpSpec = spec;
    group.gpCount = features.length;
    gp.views[spec.label] = group;
    return group;
  };
  gp.legend = function (map) {
    var ctl = L.control({position: 'bottomright'});
    ctl.onAdd = function () {
      var box = el('div', 'gp-legend');
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      return box;
    };
    ctl.addTo(map);
    function draw() {
      var box = ctl.getContainer();
      box.textContent = '';
      Object.keys(gp.views).forEach(function (name) {
        var g = gp.views[name];
        if (!map.hasLayer(g)) { return; }
        var s = g.gpSpec;
        var block = el('div', 'gp-legend-block');
        block.appendChild(el('div', 'gp-legend-title', s.label));
        s.classes.forEach(function (c, k) {
          var row = el('div', 'gp-legend-row');
          var icon = c.icon && !s.canvas;
          var sw = el('span', icon ? 'gp-swatch gp-swatch-icon' : 'gp-swatch');
          sw.style.background = c.color;
          if (icon) { sw.appendChild(el('i', 'fa fa-' + c.icon)); }
          row.appendChild(sw);
          row.appendChild(el('span', 'gp-legend-label', c.label));
          row.appendChild(el('span', 'gp-legend-count', s.counts[k] + ' ' + s.countUnit));
          block.appendChild(row);
        });
        box.appendChild(block);
      });
      box.style.display = box.childNodes.length ? '' : 'none';
    }
    map.on('overlayadd overlayremove', draw);
    draw();
    gp.redrawLegend = draw;
  };
  gp.panel = function (map, cls, position, lines) {
    var ctl = L.control({position: position});
    ctl.onAdd = function () {
      var box = el('div', cls);
      lines.forEach(function (t) { box.appendChild(el('div', null, t)); });
      return box;
    };
    ctl.addTo(map);
  };
})();
"""

_CSS = """
<style>
.leaflet-container { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC",
  "Microsoft YaHei", sans-serif; }
.gp-legend { background: rgba(255,255,255,0.92); padding: 6px 8px; border-radius: 4px;
  box-shadow: 0 1px 4px rgba(0,0,0,0.3); font-size: 12px; line-height: 18px;
  max-height: 45vh; overflow-y: auto; }
.gp-legend-title { font-weight: bold; margin-top: 4px; }
.gp-legend-row { display: flex; align-items: center; gap: 6px; }
.gp-swatch { display: inline-block; width: 16px; height: 14px; border: 1px solid #777;
  text-align: center; flex: none; }
.gp-swatch-icon { border-radius: 50%; border: none; color: white; font-size: 9px;
  line-height: 14px; }
.gp-legend-label { flex: 1; }
.gp-legend-count { color: #555; margin-left: 8px; }
.gp-title { background: rgba(255,255,255,0.92); padding: 4px 10px; border-radius: 4px;
  font-size: 15px; font-weight: bold; box-shadow: 0 1px 4px rgba(0,0,0,0.3); }
.gp-note { background: rgba(255,250,230,0.95); padding: 4px 8px; border-radius: 4px;
  font-size: 12px; max-width: 360px; box-shadow: 0 1px 4px rgba(0,0,0,0.3); }
.gp-popup { max-height: 320px; overflow-y: auto; }
.gp-popup-title { font-weight: bold; font-size: 14px; }
.gp-popup-class { color: #444; margin-bottom: 4px; }
.gp-popup-table th { text-align: left; padding-right: 8px; font-weight: normal;
  color: #555; white-space: nowrap; vertical-align: top; }
.gp-popup-table td { word-break: break-all; }
</style>
"""


def _js_json(value: object) -> str:
    """Compact JSON safe inside a <script> element."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return _script_safe(text)


def _script_safe(text: str) -> str:
    return text.replace("<", "\\u003c").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _elements() -> tuple[type, type]:
    """Build the folium element classes (folium imported lazily, only for maps)."""
    from branca.element import MacroElement  # noqa: PLC0415
    from folium.map import Layer  # noqa: PLC0415
    from jinja2 import Template  # noqa: PLC0415

    class Script(MacroElement):
        """Raw JavaScript run with the map's other scripts."""

        _template = Template("{% macro script(this, kwargs) %}{{ this.code }}{% endmacro %}")

        def __init__(self, code: str) -> None:
            super().__init__()  # type: ignore[no-untyped-call]
            self._name = "GisplanScript"
            self.code = code

    class ViewLayer(Layer):
        """One gisplan view (a styled GeoJSON of a dataset) as a folium layer."""

        _template = Template(
            "{% macro script(this, kwargs) %}"
            "var {{ this.get_name() }} = gisplan.view({{ this.spec }});"
            "{% endmacro %}"
        )

        def __init__(self, spec: str, *, name: str, show: bool) -> None:
            super().__init__(name=name, overlay=True, control=True, show=show)
            self._name = "GisplanView"
            self.spec = spec

    return Script, ViewLayer


def _tiles(basemap: str, key: str | None) -> list[tuple[str, str, str, bool]]:
    """Return (url, attribution, name, overlay) tile layers for a basemap."""
    if basemap == "osm":
        return [
            (
                "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
                '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>',
                "OpenStreetMap",
                False,
            )
        ]
    if basemap in {"tianditu", "tianditu_img"}:
        base, notes = ("vec", "cva") if basemap == "tianditu" else ("img", "cia")
        url = (
            "https://t{s}.tianditu.gov.cn/%s_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
            "&LAYER=%s&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}"
            "&TILECOL={x}&tk=" + str(key)
        )
        attribution = '&copy; <a href="https://www.tianditu.gov.cn/">天地图</a>'
        name = "天地图矢量" if base == "vec" else "天地图影像"
        return [
            (url % (base, base), attribution, name, False),
            (url % (notes, notes), attribution, "天地图注记", True),
        ]
    if basemap == "gaode":
        return [
            (
                (
                    "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1"
                    "&style=8&x={x}&y={y}&z={z}"
                ),
                "&copy; 高德地图",
                "高德地图",
                False,
            )
        ]
    if basemap == "gaode_img":
        return [
            (
                "https://webst0{s}.is.autonavi.com/appmaptile?style=6&x={x}&y={y}&z={z}",
                "&copy; 高德地图",
                "高德影像",
                False,
            ),
            (
                "https://webst0{s}.is.autonavi.com/appmaptile?style=8&x={x}&y={y}&z={z}",
                "&copy; 高德地图",
                "高德注记",
                True,
            ),
        ]
    return []


def _tianditu_key(options: MapOptions) -> str:
    key = options.tianditu_key or os.environ.get(options.tianditu_key_env, "").strip()
    if not key:
        raise ScenarioError(
            f"basemap {options.basemap!r} needs a 天地图 key: set the environment variable "
            f"{options.tianditu_key_env} (or pass tianditu_key=...); get one at "
            "https://console.tianditu.gov.cn/ — never commit it",
            [("maps.tianditu_key", "missing", f"set {options.tianditu_key_env}")],
        )
    return key


def _theme_layers(theme: str) -> tuple[str, ...]:
    return {
        "overview": (
            "communities",
            "facilities",
            "service_areas",
            "bundles",
            "sites_chosen",
            "sites",
        ),
        "eligibility": ("communities",),
        "gaps": ("communities", "facilities", "service_areas"),
        "funding": ("communities", "bundles"),
        "plan": ("communities",),
        "bundles": ("bundles", "communities"),
        "sites": ("sites_chosen", "sites", "facilities", "communities"),
    }[theme]


def _required(theme: str) -> str:
    return {"bundles": "bundles", "sites": "sites_chosen"}.get(theme, "communities")


def _source(
    run: _RunView, key: str, options: MapOptions
) -> tuple[gpd.GeoDataFrame | None, tuple[_Field, ...], float]:
    """Return the frame, popup fields and simplification tolerance of one map layer."""
    if key == "communities":
        return _communities(run.layers), _COMMUNITY_FIELDS, options.simplify_m
    frame = _geo(run.layers, key)
    if frame is not None and key in {"facilities", "sites_chosen", "service_areas"}:
        frame = _with_type_zh(frame)
    if frame is not None and key == "bundles" and "mode_zh" not in frame.columns:
        modes = frame.get("mode", pd.Series([None] * len(frame), index=frame.index))
        frame = frame.assign(mode_zh=modes.map(lambda m: MODE_ZH.get(str(m), m)))
    fields = {
        "facilities": _FACILITY_FIELDS,
        "sites_chosen": _CHOSEN_FIELDS,
        "service_areas": _SERVICE_FIELDS,
        "bundles": _BUNDLE_FIELDS,
        "sites": _SITE_FIELDS,
    }[key]
    tolerance = options.simplify_m
    if key == "service_areas":
        tolerance = max(tolerance, options.service_area_simplify_m)
    return frame, fields, tolerance


def _datasets(
    run: _RunView, theme: str, options: MapOptions, *, gcj02: bool
) -> tuple[dict[str, _Dataset], list[str]]:
    notes: list[str] = []
    out: dict[str, _Dataset] = {}
    for key in _theme_layers(theme):
        frame, fields, tolerance = _source(run, key, options)
        if frame is None:
            continue
        lonlat, dropped = _to_lonlat(
            frame,
            name=key,
            tolerance_m=tolerance,
            coverage=key == "communities",
            gcj02=gcj02,
            precision=options.precision,
        )
        if dropped:
            notes.append(f"图层 {key}：{dropped} 个要素没有几何，未绘制")
        if len(lonlat) == 0:
            notes.append(f"图层 {key} 为空（0 个要素），未绘制")
            logger.info("maps: layer %s is empty; left out", key)
            continue
        out[key] = _dataset(key, lonlat, fields, precision=options.precision)
    required = _required(theme)
    if theme != "overview" and required not in out:
        raise LayerError(
            f"maps: theme {theme!r} needs the {required!r} layer with geometry, which this "
            f"run lacks or which is empty; run the step that makes it or choose another theme "
            f"({', '.join(THEMES)})"
        )
    if not out:
        raise LayerError(
            "maps: no layer with geometry to draw (communities, facilities, bundles, sites); "
            "give a finished run"
        )
    return out, notes


def _views(theme: str, data: Mapping[str, _Dataset]) -> list[_View]:
    views: list[_View] = []
    if "communities" in data:
        community_themes = {
            "overview": ("eligibility", "gaps", "funding", "plan"),
            "eligibility": ("eligibility",),
            "gaps": ("gaps",),
            "funding": ("funding",),
            "plan": ("plan",),
            "bundles": ("funding",),
            "sites": ("siting", "gaps")
            if "newly_covered_zh" in data["communities"].frame
            else ("gaps",),
        }[theme]
        for i, sub in enumerate(community_themes):
            view = _community_views(data["communities"], sub)
            show = i == 0 and (theme != "bundles" and (theme != "sites" or sub == "siting"))
            views.append(_View(**{**view.__dict__, "show": show}))
    if "service_areas" in data:
        views.append(
            _type_view(
                data["service_areas"],
                "设施服务范围",
                icons=False,
                show=False,
                fill_opacity=0.06,
                weight=1.0,
            )
        )
    if "bundles" in data:
        views.append(_balance_view(data["bundles"], show=theme in {"bundles", "funding"}))
    if "sites" in data:
        views.append(_kind_view(data["sites"], show=theme == "sites"))
    if "facilities" in data:
        views.append(
            _type_view(
                data["facilities"],
                "现状公共服务设施",
                icons=True,
                show=theme == "gaps",
            )
        )
    if "sites_chosen" in data:
        views.append(
            _type_view(
                data["sites_chosen"],
                "新增设施选址",
                icons=True,
                marker="red",
                show=theme == "sites",
                fill_opacity=0.5,
                weight=2.0,
            )
        )
    return views


def explore(
    result: object,
    theme: str = "overview",
    *,
    basemap: str | None = None,
    offline: bool | None = None,
    tianditu_key: str | None = None,
    options: MapOptions | None = None,
) -> folium.Map:
    """Draw one theme of a run as an interactive map.

    Parameters
    ----------
    result : RunResult, path or dict of frames
        A finished run: :class:`gisplan.outputs.RunResult` (fresh, or read back with
        :func:`gisplan.outputs.read_run`), its output folder, or a dict of layers by name
        (``communities``, ``eligibility``, ``community_gaps``, ``funding_modes``,
        ``rollout``, ``facilities``, ``service_areas``, ``bundles``, ``sites_chosen``,
        ``sites``, ...).
    theme : str
        One of :data:`THEMES`: ``eligibility``, ``gaps``, ``funding``, ``plan``,
        ``bundles``, ``sites`` or ``overview`` (all of them as layers).
    basemap, offline, tianditu_key : optional
        Override the fields of ``options`` of the same name.
    options : MapOptions, optional
        Drawing options; defaults as in :class:`MapOptions`, except that ``offline`` only
        matters for :func:`save` (the map in Jupyter loads assets like any folium map).

    Returns
    -------
    folium.Map
        Display it in Jupyter or write it with :func:`save`.

    Raises
    ------
    ScenarioError
        For an unknown theme or basemap (with a did-you-mean), or 天地图 without a key.
    LayerError
        When the run has none of the layers the theme draws.
    CRSError
        For a layer without CRS.

    Examples
    --------
    >>> comm = gpd.GeoDataFrame({"community_id": ["C1", "C2"], "name": ["甲", "<b>乙</b>"]},
    ...     geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100)], crs=4548)
    >>> elig = pd.DataFrame({"community_id": ["C1", "C2"], "status": ["eligible", "not_eligible"]})
    >>> m = gisplan.maps.explore({"communities": comm, "eligibility": elig}, "eligibility")
    >>> "符合条件" in m.get_root().render() and "<b>乙</b>" not in m.get_root().render()
    True
    """
    import folium  # noqa: PLC0415 - maps only

    base = options or MapOptions()
    changes: dict[str, Any] = {}
    if basemap is not None:
        changes["basemap"] = basemap
    if offline is not None:
        changes["offline"] = offline
    if tianditu_key is not None:
        changes["tianditu_key"] = tianditu_key
    opts = MapOptions(**{**{f: getattr(base, f) for f in base.__dataclass_fields__}, **changes})
    if theme not in THEMES:
        raise ScenarioError(
            f"unknown map theme {theme!r}; choose from {', '.join(THEMES)}"
            f"{_did_you_mean([theme], THEMES)}",
            [("maps.themes", repr(theme), f"choose from {', '.join(THEMES)}")],
        )
    name = _basemap_name(opts.basemap)
    key = _tianditu_key(opts) if name.startswith("tianditu") else None
    run = _as_run_data(result)
    data, notes = _datasets(run, theme, opts, gcj02=name.startswith("gaode"))
    n_features = sum(len(d.rows) for d in data.values())
    canvas = n_features > opts.canvas_threshold
    if canvas:
        logger.info(
            "maps: %d features > canvas_threshold %d: drawing on canvas, points as circles",
            n_features,
            opts.canvas_threshold,
        )
        notes.insert(0, f"要素较多（{n_features:,} 个），已切换为 Canvas 渲染（点位显示为圆点）")
    if name.startswith("gaode"):
        notes.append("高德底图为 GCJ-02 坐标，图层已由 WGS84 偏移至 GCJ-02")
    tiles = _tiles(name, key)
    m = folium.Map(
        location=None, tiles=None, control_scale=False, prefer_canvas=canvas, zoom_start=14
    )
    m._id = _element_id(0)  # noqa: SLF001 - its name is written into the scripts below
    # Bootstrap and glyphicons are not used by gisplan maps: leave them out (≈ 270 kB)
    m.default_js = [(n, u) for n, u in m.default_js if n != "bootstrap"]
    m.default_css = [
        (n, u)
        for n, u in m.default_css
        if n not in {"bootstrap_css", "glyphicons_css", "awesome_rotate_css"}
    ]
    for url, attribution, tile_name, overlay in tiles:
        folium.TileLayer(
            tiles=url,
            attr=attribution,
            name=tile_name,
            overlay=overlay,
            control=not overlay,
            subdomains=_subdomains(url),
            max_zoom=18,
        ).add_to(m)
    _add_layers(m, data, _views(theme, data), canvas=canvas)
    _add_controls(m, tiles, title=f"{run.title} · {THEME_ZH[theme]}", notes=notes)
    m.fit_bounds(_bounds(data))
    _number_elements(m)
    return m


def _element_id(number: int) -> str:
    return f"{number:032x}"


def _number_elements(m: folium.Map) -> None:
    """Give every element of ``m`` an id from a counter, in drawing order (``m`` keeps 0).

    folium names elements by random ids (``urandom``), so two saves of the same map would
    differ; numbered ids make the HTML depend only on the map. Nothing global is changed.
    """
    from branca.element import Element  # noqa: PLC0415

    counter = itertools.count(1)
    seen: set[int] = set()

    def visit(element: Any) -> None:  # noqa: ANN401 - a branca Element
        children: dict[str, Any] = {}
        for key, child in element._children.items():  # noqa: SLF001
            old = child.get_name()
            if id(child) not in seen:
                seen.add(id(child))
                if child is not m:
                    child._id = _element_id(next(counter))  # noqa: SLF001
                visit(child)
            children[child.get_name() if key == old else key] = child
        element._children = type(element._children)(children)  # noqa: SLF001
        for name, value in sorted(vars(element).items()):  # e.g. a mini map's tile layer
            if isinstance(value, Element) and name != "_parent" and id(value) not in seen:
                seen.add(id(value))
                value._id = _element_id(next(counter))  # noqa: SLF001
                visit(value)

    root = m.get_root()
    seen.add(id(root))
    root._id = _element_id(next(counter))  # noqa: SLF001
    visit(root)


def _subdomains(url: str) -> str:
    if "{s}" not in url:
        return "abc"
    return _TILE_SUBDOMAINS["tianditu" if "tianditu" in url else "gaode"]


def _add_layers(
    m: folium.Map, data: Mapping[str, _Dataset], views: list[_View], *, canvas: bool
) -> None:
    """Add the runtime, the datasets (once each) and one switchable layer per view."""
    import folium  # noqa: PLC0415

    script_cls, view_cls = _elements()
    root: Any = m.get_root()
    root.header.add_child(folium.Element(_CSS), name="gisplan_css")
    code = [_RUNTIME_JS]
    code += [
        f"gisplan.addData({_js_json(d.key)},{d.geoms_json},{d.scale},{_js_json(d.rows)},"
        f"{_js_json(d.fields)},{d.title_index});"
        for d in data.values()
    ]
    m.add_child(script_cls("\n".join(code)))
    for view in views:
        spec = {
            "label": view.label,
            "data": view.data,
            "cls": view.cls,
            "classes": view.classes,
            "counts": view.counts,
            "countUnit": view.count_unit,
            "canvas": canvas,
            "weight": view.weight,
            "fillOpacity": view.fill_opacity,
        }
        m.add_child(view_cls(_js_json(spec), name=view.label, show=view.show))


def _add_controls(
    m: folium.Map, tiles: list[tuple[str, str, str, bool]], *, title: str, notes: list[str]
) -> None:
    """Scale, legend, title, notes, layer control, fullscreen, measure and minimap."""
    import folium  # noqa: PLC0415
    from folium import plugins  # noqa: PLC0415

    script_cls, _ = _elements()
    var = m.get_name()
    code = (
        f"L.control.scale({{imperial: false}}).addTo({var});gisplan.legend({var});"
        f"gisplan.panel({var},'gp-title','topright',{_js_json([title])});"
    )
    if notes:
        code += f"gisplan.panel({var},'gp-note','bottomleft',{_js_json(notes)});"
    m.add_child(script_cls(code))
    folium.LayerControl(collapsed=True, position="topright").add_to(m)
    plugins.Fullscreen(position="topleft", title="全屏", title_cancel="退出全屏").add_to(m)  # type: ignore[no-untyped-call]
    plugins.MeasureControl(  # type: ignore[no-untyped-call]
        position="topleft",
        primary_length_unit="meters",
        secondary_length_unit="kilometers",
        primary_area_unit="sqmeters",
        secondary_area_unit="hectares",
        localization="cn",
    ).add_to(m)
    if tiles:
        url, attribution, _, _ = tiles[0]
        mini = folium.TileLayer(tiles=url, attr=attribution, subdomains=_subdomains(url))
        plugins.MiniMap(tile_layer=mini, position="bottomleft", toggle_display=True).add_to(m)  # type: ignore[no-untyped-call]


def _bounds(data: Mapping[str, _Dataset]) -> list[list[float]]:
    arr = np.array([d.bounds for d in data.values()])
    return [
        [float(arr[:, 1].min()), float(arr[:, 0].min())],
        [float(arr[:, 3].max()), float(arr[:, 2].max())],
    ]


def save(m: folium.Map, path: str | Path, *, offline: bool = True) -> Path:
    """Write ``m`` as one HTML file (UTF-8); ``offline=True`` embeds every asset.

    Raises
    ------
    AssetError
        When ``offline`` and the assets are not fetched (``python -m gisplan.assets fetch``)
        or a plugin's asset is not in the manifest.
    OutputError
        When the file cannot be written.
    """
    target = Path(path)
    html = m.get_root().render()
    if offline:
        html = assets.inline(html)
    atomic_write(target, html.encode("utf-8"))  # never half a map: a new file renamed over it
    logger.info("maps: wrote %s (%.1f kB)", target, len(html.encode("utf-8")) / 1000)
    return target


def write_maps(
    result: object, out_dir: str | Path, options: MapOptions | None = None
) -> list[Path]:
    """Write ``<out_dir>/maps/<theme>.html`` for every theme in ``options.themes``.

    Themes whose layers the run lacks (``bundles`` without a bundles step, ...) are skipped
    with a log line; the other errors of :func:`explore` propagate.

    Returns
    -------
    list of Path
        The files written, in theme order.
    """
    opts = options or MapOptions()
    run = _as_run_data(result)
    folder = Path(out_dir) / "maps"
    written: list[Path] = []
    for theme in opts.themes:
        try:
            m = explore(run, theme, options=opts)
        except LayerError as err:
            if theme == "overview":
                raise
            logger.info("maps: theme %s skipped: %s", theme, err)
            continue
        written.append(save(m, folder / f"{theme}.html", offline=opts.offline))
    return written


def redraw(out_dir: str | Path, options: MapOptions | None = None) -> list[Path]:
    """Redraw the maps of a finished run folder (``gisplan map OUTPUT_DIR``).

    Each map file is replaced whole (written beside it, then renamed over it), while the run
    folder is locked against a run writing it; ``run.json`` then records the new files.

    Raises
    ------
    OutputError
        The folder is not a finished run, a run is writing it, or a map cannot be written.
    """
    folder = Path(out_dir)
    run = read_run(folder)
    with FolderLock(folder.resolve(), flag="OUTPUT_DIR"):
        maps = folder / "maps"
        for stale in sorted(maps.glob(".*.html.tmp-*")) if maps.is_dir() else []:
            stale.unlink(missing_ok=True)  # left by a redraw that was killed
        written = write_maps(run, folder, options)
        record_outputs(folder, written)
    return written
