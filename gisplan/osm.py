"""Read an OpenStreetMap extract (``.osm`` XML or ``.osm.pbf``) into gisplan layers.

Three layers come out of one file, all in EPSG:4326 (OSM is WGS84, not GCJ-02):

- :func:`read_osm_network`: walkable ways split into segments between junctions;
- :func:`read_osm_facilities`: points of the facility types of the life-circle table
  (:func:`gisplan.standards.match_osm`);
- :func:`read_osm_communities`: a skeleton of residential communities (小区) for the survey
  to fill in.

:func:`read_osm` reads the file once and returns all three. Reading uses pyosmium only;
there is no network access. OSM in Chinese cities is incomplete: a missing facility type
may mean missing data, not a missing facility.
"""

from __future__ import annotations

import itertools
import logging
import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import osmium
import pandas as pd
import shapely
from shapely.geometry import LineString, MultiPolygon, Point, Polygon

from gisplan.crs import choose_metric_crs
from gisplan.errors import LayerError
from gisplan.standards import OsmRule, load_osm_rules, osm_matcher, osm_rules, osm_tag_keys

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Iterator, Mapping, Sequence

    from shapely.geometry.base import BaseGeometry

    Matcher = Callable[[Mapping[str, str]], str | None]
    Tags = dict[str, str]

__all__ = [
    "RESIDENTIAL_BUILDINGS",
    "WALKABLE_HIGHWAYS",
    "OsmLayers",
    "read_osm",
    "read_osm_communities",
    "read_osm_entrances",
    "read_osm_facilities",
    "read_osm_network",
]

logger = logging.getLogger(__name__)

#: ``highway`` values walkable without further conditions.
WALKABLE_HIGHWAYS: frozenset[str] = frozenset(
    {
        "footway",
        "path",
        "pedestrian",
        "living_street",
        "residential",
        "service",
        "unclassified",
        "tertiary",
        "tertiary_link",
        "secondary",
        "secondary_link",
        "primary",
        "primary_link",
        "steps",
        "track",
        "corridor",
        "crossing",
        "road",
    }
)
#: ``highway`` values walkable only with ``foot`` in :data:`_CYCLEWAY_FOOT`.
_CYCLEWAYS = frozenset({"cycleway"})
_CYCLEWAY_FOOT = frozenset({"yes", "designated", "permissive"})
#: ``highway`` values walkable only with ``foot`` in :data:`_TRUNK_FOOT`.
_TRUNKS = frozenset({"trunk", "trunk_link"})
_TRUNK_FOOT = frozenset({"yes", "designated"})
#: ``highway`` values of roads not (or no longer) built.
_LIFECYCLE = frozenset({"construction", "proposed", "abandoned"})
#: ``foot`` values that forbid walking.
_FOOT_NO = frozenset({"no", "private", "use_sidepath"})
#: ``access`` values that forbid walking unless ``foot`` says otherwise.
_ACCESS_NO = frozenset({"private", "no"})
#: ``foot`` values that override ``access=private/no``.
_FOOT_OVERRIDE = frozenset({"yes", "designated", "permissive"})

#: ``building`` values counted as residential (``building=yes`` is not).
RESIDENTIAL_BUILDINGS: frozenset[str] = frozenset(
    {"residential", "apartments", "house", "dormitory"}
)

_WGS84 = "EPSG:4326"
_NETWORK_COLUMNS = ["osm_way_id", "u", "v", "highway", "name", "foot", "access"]
_FACILITY_COLUMNS = ["facility_id", "type", "name", "osm_kind"]
_COMMUNITY_COLUMNS = [
    "community_id",
    "name",
    "source",
    "n_buildings",
    "built_year",
    "households",
]
_ENTRANCE_COLUMNS = ["community_id", "entrance_id", "name"]
_OSM_LAYERS = ("communities", "facilities", "network")
#: Tags that make a node a gate of the area whose outline it lies on.
_GATE_KEYS = frozenset({"entrance", "barrier"})
#: A gate node lies on an outline when it is this close to it (degrees; ~1 mm).
_ON_OUTLINE_DEG = 1e-8
#: Tags read besides the facility rules' keys: walkability, names, community skeleton.
_READ_KEYS = frozenset({"highway", "foot", "access", "area", "name", "landuse", "building"})
_KIND_NAMES = {"n": "node", "w": "way", "r": "relation"}


@dataclass(frozen=True, slots=True)
class OsmLayers:
    """The layers read from one OSM file (all EPSG:4326); ``None`` for a layer not asked for.

    Attributes
    ----------
    communities
        See :func:`read_osm_communities`.
    facilities
        See :func:`read_osm_facilities`.
    network
        See :func:`read_osm_network`.

    entrances
        See :func:`read_osm_entrances`; read with the communities.
    """

    communities: gpd.GeoDataFrame | None
    facilities: gpd.GeoDataFrame | None
    network: gpd.GeoDataFrame | None
    entrances: gpd.GeoDataFrame | None = None


# --------------------------------------------------------------------------- reading


def _osm_file(path: str | Path) -> osmium.io.File:
    """Return an osmium file handle; raise LayerError if the file is missing."""
    p = Path(path)
    if not p.is_file():
        raise LayerError(f"{p}: OSM file not found; check the path (.osm XML or .osm.pbf)")
    name = p.name.lower()
    known = (".osm", ".pbf", ".osm.gz", ".osm.bz2", ".osc", ".o5m", ".opl")
    if name.endswith(known):
        return osmium.io.File(str(p))
    with p.open("rb") as f:
        head = f.read(64).lstrip(b"\xef\xbb\xbf \t\r\n")
    return osmium.io.File(str(p), "osm" if head.startswith(b"<") else "pbf")


def _objects(path: str | Path, *, areas: bool, keys: Collection[str]) -> Iterator[object]:
    """Yield the objects of an OSM file that carry one of ``keys``.

    Node locations are added to ways, and areas assembled if asked; the key filter runs in
    C++, so Python never sees the other objects.
    """
    processor = osmium.FileProcessor(_osm_file(path))
    processor = processor.with_areas() if areas else processor.with_locations()
    processor = processor.with_filter(osmium.filter.KeyFilter(*sorted(keys)))
    it = iter(processor)
    while True:
        try:
            obj = next(it)
        except StopIteration:
            return
        except RuntimeError as err:
            raise LayerError(
                f"cannot read {path} as OSM XML/PBF ({err}); check that the file is a "
                "complete .osm or .osm.pbf export"
            ) from err
        yield obj


def _runs(way: osmium.osm.Way) -> list[list[tuple[int, float, float]]]:
    """Split a way's nodes into runs with known locations: ``[(ref, lon, lat), ...]``."""
    runs: list[list[tuple[int, float, float]]] = [[]]
    for node in way.nodes:
        if node.location.valid():
            if not runs[-1] or runs[-1][-1][0] != node.ref:  # skip repeated node
                runs[-1].append((node.ref, node.lon, node.lat))
        elif runs[-1]:
            runs.append([])
    return [r for r in runs if len(r) >= 2]  # noqa: PLR2004 - a line needs two nodes


def _polygon(coords: list[tuple[float, float]]) -> BaseGeometry | None:
    """Return the valid polygonal geometry of a closed ring, or ``None``."""
    if len(coords) < 4 or coords[0] != coords[-1]:  # noqa: PLR2004 - a ring needs 4 points
        return None
    return _polygonal(Polygon(coords))


def _polygonal(geom: BaseGeometry) -> BaseGeometry | None:
    """Return the polygonal part of ``geom`` made valid (Polygon if single), or ``None``."""
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    parts = [g for g in getattr(geom, "geoms", [geom]) if isinstance(g, (Polygon, MultiPolygon))]
    polys = [p for g in parts for p in getattr(g, "geoms", [g]) if not p.is_empty]
    if not polys:
        return None
    return polys[0] if len(polys) == 1 else MultiPolygon(polys)


def _walk_rule(tags: Mapping[str, str]) -> str | None:  # noqa: PLR0911 - one return per rule
    """Return why a way with a ``highway`` tag is not walkable, or ``None`` if it is."""
    parts = [p.strip().lower() for p in tags["highway"].split(";") if p.strip()]
    foot = tags.get("foot", "").strip().lower()
    access = tags.get("access", "").strip().lower()
    if tags.get("area", "").strip().lower() == "yes":
        return "area=yes"
    if any(p in _LIFECYCLE for p in parts):
        return "construction/proposed/abandoned"
    if foot in _FOOT_NO:
        return f"foot={foot}"
    if access in _ACCESS_NO and foot not in _FOOT_OVERRIDE:
        return f"access={access}"
    for part in parts:
        if (
            part in WALKABLE_HIGHWAYS
            or (part in _CYCLEWAYS and foot in _CYCLEWAY_FOOT)
            or (part in _TRUNKS and foot in _TRUNK_FOOT)
        ):
            return None
    first = parts[0] if parts else ""
    if first in _CYCLEWAYS:
        return "cycleway without foot=yes/designated/permissive"
    if first in _TRUNKS:
        return "trunk without foot=yes"
    return f"highway={tags['highway']} not walkable"


@dataclass
class _Scan:
    """Everything collected in one pass over an OSM file."""

    review_rules: bool = True

    ways: list[tuple[int, dict[str, str], list[list[tuple[int, float, float]]]]] = field(
        default_factory=list
    )
    excluded: Counter[str] = field(default_factory=Counter)
    # a node's point, a closed way's or a multipolygon's area, an open way's representative point
    facilities: list[tuple[str, str, str | None, str, BaseGeometry, Tags]] = field(
        default_factory=list
    )
    facility_relations: set[int] = field(default_factory=set)
    facility_areas: set[int] = field(default_factory=set)
    landuse: list[tuple[str, str | None, BaseGeometry, Tags]] = field(default_factory=list)
    buildings: list[tuple[tuple[int, int], str, BaseGeometry, Tags]] = field(default_factory=list)
    #: Areas some review rule looks into (campuses, residential areas): (id, tags, polygon).
    contexts: list[tuple[str, Tags, BaseGeometry]] = field(default_factory=list)
    #: Gate nodes (``entrance=*``, ``barrier=gate``): (node id, name, point).
    gates: list[tuple[int, str | None, Point]] = field(default_factory=list)


def _way_geometry(way: osmium.osm.Way) -> tuple[BaseGeometry | None, BaseGeometry | None]:
    """Return ``(polygon or None, line or point or None)`` of a way from its node locations."""
    runs = _runs(way)
    if len(runs) != 1:
        return None, None
    coords = [(lon, lat) for _, lon, lat in runs[0]]
    polygon = _polygon(coords) if way.nodes.is_closed() else None
    return polygon, LineString(coords)


def _no_match(tags: Mapping[str, str]) -> str | None:  # noqa: ARG001 - facilities not asked for
    return None


@dataclass(frozen=True)
class _Wanted:
    """What one pass looks for, and how it tells facilities and community parts apart."""

    network: bool
    facilities: bool
    communities: bool
    rule_keys: frozenset[str]
    match: Matcher
    read: tuple[str, ...]  # the tag keys read from each object
    context_tags: tuple[str, ...]  # within/unless_within conditions of the review rules

    def tags(self, obj: osmium.osm.OSMObject) -> dict[str, str]:  # type: ignore[type-arg]
        """Return the object's tags among the keys some layer reads."""
        return {k: v for k in self.read if (v := obj.tags.get(k)) is not None}

    def facility(self, tags: Mapping[str, str]) -> str | None:
        """Return the facility code of an object, if facilities are read and it is one."""
        if not self.facilities or not self.rule_keys & tags.keys():
            return None
        return self.match(tags)

    def community_part(self, tags: Mapping[str, str]) -> tuple[bool, bool]:
        """Return (is residential landuse, is a residential building)."""
        if not self.communities:
            return False, False
        return tags.get("landuse") == "residential", tags.get("building") in RESIDENTIAL_BUILDINGS

    def context(self, tags: Mapping[str, str]) -> bool:
        """Return whether an area is one some review rule looks into (e.g. a campus)."""
        return any(_holds(tags, text) for text in self.context_tags)

    def gate(self, tags: Mapping[str, str]) -> bool:
        """Return whether a node is an entrance or a gate (communities only)."""
        return self.communities and ("entrance" in tags or tags.get("barrier") == "gate")


def _holds(tags: Mapping[str, str], text: str) -> bool:
    """Return whether ``tags`` meet a non-empty ``osm_tags``-style condition text."""
    return bool(text) and OsmRule("", "", (), text, "", "", "").tags_match(tags)


def _rules(scan: _Scan, action: str) -> list[OsmRule]:
    return [r for r in load_osm_rules() if r.action == action] if scan.review_rules else []


def _scan(
    path: str | Path,
    *,
    network: bool,
    facilities: bool,
    communities: bool,
    standard: pd.DataFrame | None,
    review_rules: bool = True,
) -> _Scan:
    scan = _Scan(review_rules=review_rules)
    review = [
        r
        for r in (load_osm_rules() if review_rules else ())
        if (facilities and r.action in ("type", "exclude"))
        or (communities and r.action == "not_community")
    ]
    rule_keys = {k for _, alt in osm_rules(standard) for k, _, _ in alt} if facilities else set()
    rule_keys |= {k for r in review if r.action == "type" for k in osm_tag_keys(r.osm_tags)}
    context_tags = tuple(sorted({t for r in review for t in (r.within, r.unless_within) if t}))
    review_keys = {k for r in review for k in osm_tag_keys(r.osm_tags)}
    review_keys |= {k for t in context_tags for k in osm_tag_keys(t)}
    keys = rule_keys | ({"highway"} if network else set())
    keys |= {"landuse", "building", *_GATE_KEYS} if communities else set()
    keys |= {k for t in context_tags for k in osm_tag_keys(t)}
    want = _Wanted(
        network=network,
        facilities=facilities,
        communities=communities,
        rule_keys=frozenset(rule_keys),
        match=osm_matcher(standard, review_rules=review_rules) if facilities else _no_match,
        read=tuple(sorted(keys | review_keys | _READ_KEYS)),
        context_tags=context_tags,
    )
    wkb = osmium.geom.WKBFactory()
    for obj in _objects(path, areas=facilities or communities, keys=keys):
        if isinstance(obj, osmium.osm.Node):
            if len(obj.tags) and obj.location.valid():
                tags = want.tags(obj)
                point = Point(obj.location.lon, obj.location.lat)
                if code := want.facility(tags):
                    fid = f"osm:n{obj.id}"
                    scan.facilities.append((fid, code, tags.get("name"), "n", point, tags))
                if want.gate(tags):
                    scan.gates.append((obj.id, tags.get("name"), point))
        elif isinstance(obj, osmium.osm.Way):
            _scan_way(scan, obj, want)
        elif isinstance(obj, osmium.osm.Relation):
            if facilities and len(obj.tags) and want.facility(want.tags(obj)):
                scan.facility_relations.add(obj.id)
        elif isinstance(obj, osmium.osm.Area) and not obj.from_way():
            _scan_area(scan, obj, wkb, want)
    return scan


def _scan_way(scan: _Scan, way: osmium.osm.Way, want: _Wanted) -> None:  # noqa: C901 - one branch per layer
    if not len(way.tags):
        return
    tags = want.tags(way)
    if want.network and "highway" in tags:
        reason = _walk_rule(tags)
        if reason is None:
            runs = _runs(way)
            if runs:
                scan.ways.append((way.id, tags, runs))
            else:
                scan.excluded["no node locations in the file"] += 1
        else:
            scan.excluded[reason] += 1
    code = want.facility(tags)
    is_landuse, is_building = want.community_part(tags)
    is_context = want.context(tags)
    if not (code or is_landuse or is_building or is_context):
        return
    polygon, line = _way_geometry(way)
    wid = f"osm:w{way.id}"
    if code and (polygon or line):
        shape = polygon or line.representative_point()  # type: ignore[union-attr]
        scan.facilities.append((wid, code, tags.get("name"), "w", shape, tags))
    if polygon is None:
        return
    if is_landuse:
        scan.landuse.append((wid, tags.get("name"), polygon, tags))
    if is_building:
        scan.buildings.append(((0, way.id), wid, polygon, tags))
    if is_context:
        scan.contexts.append((wid, tags, polygon))


def _scan_area(
    scan: _Scan, area: osmium.osm.Area, wkb: osmium.geom.WKBFactory, want: _Wanted
) -> None:
    """Handle a multipolygon relation assembled by osmium (ways are read directly)."""
    if not len(area.tags):
        return
    tags = want.tags(area)
    rel = area.orig_id()
    code = want.facility(tags)
    is_landuse, is_building = want.community_part(tags)
    is_context = want.context(tags)
    if not (code or is_landuse or is_building or is_context):
        return
    try:
        geom = _polygonal(shapely.from_wkb(wkb.create_multipolygon(area)))
    except RuntimeError:
        logger.debug("relation %d: cannot build its polygon; skipped", rel)
        return
    if geom is None:
        return
    if code:
        scan.facility_areas.add(rel)
        scan.facilities.append((f"osm:r{rel}", code, tags.get("name"), "r", geom, tags))
    if is_landuse:
        scan.landuse.append((f"osm:r{rel}", tags.get("name"), geom, tags))
    if is_building:
        scan.buildings.append(((1, rel), f"osm:r{rel}", geom, tags))
    if is_context:
        scan.contexts.append((f"osm:r{rel}", tags, geom))


# --------------------------------------------------------------------------- network


def _network_frame(scan: _Scan, path: str | Path) -> gpd.GeoDataFrame:
    ways = sorted(scan.ways, key=lambda w: w[0])
    used: dict[int, set[int]] = {}
    for way_id, _, runs in ways:
        for run in runs:
            for ref, _, _ in run:
                used.setdefault(ref, set()).add(way_id)
    rows: list[tuple[object, ...]] = []
    for way_id, tags, runs in ways:
        for run in runs:
            refs = [r for r, _, _ in run]
            counts = Counter(refs)
            cuts = [
                i
                for i, ref in enumerate(refs)
                if i in (0, len(refs) - 1) or len(used[ref]) > 1 or counts[ref] > 1
            ]
            for a, b in itertools.pairwise(cuts):
                line = LineString([(lon, lat) for _, lon, lat in run[a : b + 1]])
                rows.append(
                    (
                        way_id,
                        refs[a],
                        refs[b],
                        tags.get("highway"),
                        tags.get("name"),
                        tags.get("foot"),
                        tags.get("access"),
                        line,
                    )
                )
    excluded = sum(scan.excluded.values())
    logger.info(
        "%s: kept %d walkable ways (%d segments), excluded %d: %s",
        path,
        len(ways),
        len(rows),
        excluded,
        ", ".join(f"{k} {v}" for k, v in sorted(scan.excluded.items())) or "none",
    )
    frame = pd.DataFrame(rows, columns=[*_NETWORK_COLUMNS, "geometry"])
    for col in ("osm_way_id", "u", "v"):
        frame[col] = frame[col].astype("int64")
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=_WGS84)


def read_osm_network(path: str | Path) -> gpd.GeoDataFrame:
    """Read the walkable ways of an OSM file, split into segments between junctions.

    A way is walkable when one part of its ``highway`` value (``a;b`` is split) is in
    :data:`WALKABLE_HIGHWAYS`, or is ``cycleway`` with ``foot=yes/designated/permissive``, or
    ``trunk``/``trunk_link`` with ``foot=yes`` (or ``designated``). Excluded whatever the
    ``highway``: ``area=yes``; ``highway`` construction/proposed/abandoned; ``foot=no`` (also
    ``private``, ``use_sidepath``); ``access=private/no`` unless ``foot`` is
    yes/designated/permissive. Counts per rule are logged at INFO.

    Each way is split at its ends, at every node it shares with another walkable way, and at
    a node it passes twice; a way with nodes missing from the file is cut at the gap.

    Parameters
    ----------
    path
        An ``.osm`` XML or ``.osm.pbf`` file.

    Returns
    -------
    geopandas.GeoDataFrame
        One LineString per segment, in way-id then along-way order, EPSG:4326; columns
        ``osm_way_id, u, v`` (int64 OSM ids of the way and of the segment's end nodes),
        ``highway, name, foot, access`` (tag values, missing when untagged). Lengths are
        left to the network step (they need a metric CRS).

    Raises
    ------
    LayerError
        If the file is missing or cannot be read as OSM XML/PBF.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> xml = ('<osm version="0.6"><node id="1" lat="40" lon="116"/>'
    ...        '<node id="2" lat="40" lon="116.001"/><way id="9"><nd ref="1"/><nd ref="2"/>'
    ...        '<tag k="highway" v="footway"/></way></osm>')
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "tiny.osm"
    >>> _ = path.write_text(xml, encoding="utf-8")
    >>> gisplan.osm.read_osm_network(path)[["osm_way_id", "u", "v"]].values.tolist()
    [[9, 1, 2]]
    """
    scan = _scan(path, network=True, facilities=False, communities=False, standard=None)
    return _network_frame(scan, path)


# --------------------------------------------------------------------------- review rules


def _in_areas(scan: _Scan, text: str, points: list[BaseGeometry]) -> list[bool]:
    """Return, per point, whether it lies in an area whose tags meet ``text``."""
    areas = [g for _, tags, g in scan.contexts if _holds(tags, text)]
    if not areas or not points:
        return [False] * len(points)
    return [bool(v) for v in shapely.intersects(shapely.union_all(areas), points)]


def _rule_hits(
    scan: _Scan,
    rules: list[OsmRule],
    objects: Sequence[tuple[str | None, Tags, BaseGeometry]],
) -> dict[int, str]:
    """Return ``{object index: rule_id}`` of the first rule each object meets.

    ``objects`` are ``(facility code or None, tags, point)``; a rule with codes applies only
    to objects of those codes.
    """
    hits: dict[int, str] = {}
    points = [p for _, _, p in objects]
    for rule in rules:
        inside = _in_areas(scan, rule.within, points) if rule.within else None
        cancel = _in_areas(scan, rule.unless_within, points) if rule.unless_within else None
        for i, (code, tags, _) in enumerate(objects):
            if i in hits or (rule.codes and code not in rule.codes):
                continue
            if not rule.tags_match(tags):
                continue
            if (inside is not None and not inside[i]) or (cancel is not None and cancel[i]):
                continue
            hits[i] = rule.rule_id
    return hits


def _log_excluded(path: str | Path, what: str, hits: dict[int, str], labels: list[str]) -> None:
    if not hits:
        return
    by_rule: dict[str, list[str]] = {}
    for i in sorted(hits):
        by_rule.setdefault(hits[i], []).append(labels[i])
    logger.info(
        "%s: %d %s excluded by the OSM review rules (gisplan/data/osm_rules.csv): %s",
        path,
        len(hits),
        what,
        "; ".join(f"{rule} {len(v)}: {', '.join(v)}" for rule, v in sorted(by_rule.items())),
    )


def _label(oid: str, name: str | None) -> str:
    return f"{oid} {name}" if name else oid


# --------------------------------------------------------------------------- facilities


def _facility_frame(scan: _Scan, path: str | Path) -> gpd.GeoDataFrame:
    skipped = scan.facility_relations - scan.facility_areas
    if skipped:
        logger.info(
            "%s: %d facility relation(s) are not multipolygons (or are incomplete) and were "
            "skipped: %s",
            path,
            len(skipped),
            ", ".join(f"r{r}" for r in sorted(skipped)),
        )
    hits = _rule_hits(
        scan,
        _rules(scan, "exclude"),
        [(code, tags, g.representative_point()) for _, code, _, _, g, tags in scan.facilities],
    )
    _log_excluded(
        path, "facilities", hits, [_label(f[0], f[2]) + f" ({f[1]})" for f in scan.facilities]
    )
    rows = [
        (fid, code, name, _KIND_NAMES[kind], shape)
        for i, (fid, code, name, kind, shape, _) in enumerate(scan.facilities)
        if i not in hits
    ]
    frame = pd.DataFrame(rows, columns=[*_FACILITY_COLUMNS, "geometry"])
    frame = frame.sort_values("facility_id", kind="stable").reset_index(drop=True)
    logger.info(
        "%s: %d facilities: %s",
        path,
        len(frame),
        ", ".join(f"{k} {v}" for k, v in sorted(Counter(frame["type"]).items())) or "none",
    )
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=_WGS84)


def read_osm_facilities(
    path: str | Path, *, standard: pd.DataFrame | None = None, review_rules: bool = True
) -> gpd.GeoDataFrame:
    """Read the facilities of an OSM file whose tags match a facility type.

    Nodes give their location, closed ways their polygon, open ways the representative point
    of their line, multipolygon relations their area (a school campus stays a polygon, so that
    ``access: polygon_boundary`` can measure it from its boundary). Other
    relations matching a type (e.g. ``type=site``) are skipped and logged. A facility mapped
    twice (a node and a polygon) appears twice.

    Parameters
    ----------
    path
        An ``.osm`` XML or ``.osm.pbf`` file.
    standard
        Table from :func:`gisplan.standards.load_standard`; ``None`` uses the packaged one.
    review_rules
        Apply the OSM review rules of :func:`gisplan.standards.load_osm_rules` (name
        patterns for 社区卫生服务中心/站 and 公交场站; parking not open to residents and school or
        campus pitches dropped, each listed at INFO). ``False``: the standard's tags only.

    Returns
    -------
    geopandas.GeoDataFrame
        Points and (Multi)Polygons, EPSG:4326, sorted by ``facility_id`` (``osm:n123``,
        ``osm:w456``, ``osm:r789``); columns ``facility_id, type`` (facility code), ``name``
        (OSM ``name``), ``osm_kind`` (``node``/``way``/``relation``).

    Raises
    ------
    LayerError
        If the file is missing or cannot be read as OSM XML/PBF.
    """
    scan = _scan(
        path,
        network=False,
        facilities=True,
        communities=False,
        standard=standard,
        review_rules=review_rules,
    )
    return _facility_frame(scan, path)


# --------------------------------------------------------------------------- communities


def _not_communities(scan: _Scan, path: str | Path) -> tuple[list[int], list[int]]:
    """Apply the ``not_community`` rules; return the kept landuse and building indexes."""
    rules = _rules(scan, "not_community")
    objects = [(None, t, g.representative_point()) for _, _, g, t in scan.landuse]
    land_hits = _rule_hits(scan, rules, objects)
    objects = [(None, t, g.representative_point()) for _, _, g, t in scan.buildings]
    building_hits = _rule_hits(scan, rules, objects)
    _log_excluded(
        path,
        "landuse=residential areas",
        land_hits,
        [_label(cid, name) for cid, name, _, _ in scan.landuse],
    )
    _log_excluded(
        path,
        "residential buildings",
        building_hits,
        [_label(bid, t.get("name")) for _, bid, _, t in scan.buildings],
    )
    return (
        [i for i in range(len(scan.landuse)) if i not in land_hits],
        [i for i in range(len(scan.buildings)) if i not in building_hits],
    )


def _community_frame(scan: _Scan, path: str | Path, group_distance_m: float) -> gpd.GeoDataFrame:
    keep_land, keep_buildings = _not_communities(scan, path)
    kept_land = [scan.landuse[i] for i in keep_land]
    kept_buildings = [scan.buildings[i] for i in keep_buildings]
    landuse = gpd.GeoDataFrame(
        pd.DataFrame(
            [(cid, name) for cid, name, _, _ in kept_land], columns=["community_id", "name"]
        ),
        geometry=[g for _, _, g, _ in kept_land],
        crs=_WGS84,
    ).sort_values("community_id", kind="stable")
    buildings = gpd.GeoDataFrame(
        {
            "key": [k for k, _, _, _ in kept_buildings],
            "building_id": [b for _, b, _, _ in kept_buildings],
        },
        geometry=[g for _, _, g, _ in kept_buildings],
        crs=_WGS84,
    )
    points = gpd.GeoDataFrame(
        buildings[["building_id"]], geometry=buildings.representative_point(), crs=_WGS84
    )
    hits = gpd.sjoin(points, landuse[["community_id", "geometry"]], predicate="within")
    counts = hits.groupby("community_id").size()
    landuse["source"] = "landuse=residential"
    landuse["n_buildings"] = landuse["community_id"].map(counts).fillna(0).astype("int64")
    outside = buildings[~buildings["building_id"].isin(hits["building_id"])]
    groups = _building_groups(outside, group_distance_m)
    logger.info(
        "%s: %d landuse=residential polygons, %d residential buildings (%d outside them) "
        "in %d building groups",
        path,
        len(landuse),
        len(buildings),
        len(outside),
        len(groups),
    )
    frame = pd.concat([landuse, groups], ignore_index=True)
    frame["name"] = pd.Series(
        [v if isinstance(v, str) else None for v in frame["name"]], index=frame.index, dtype=object
    )
    frame["n_buildings"] = frame["n_buildings"].astype("int64")
    frame["built_year"] = pd.array([pd.NA] * len(frame), dtype="Int64")
    frame["households"] = pd.array([pd.NA] * len(frame), dtype="Int64")
    return gpd.GeoDataFrame(
        frame[[*_COMMUNITY_COLUMNS, "geometry"]], geometry="geometry", crs=_WGS84
    )


def _building_groups(buildings: gpd.GeoDataFrame, group_distance_m: float) -> gpd.GeoDataFrame:
    """Group buildings closer than ``group_distance_m``; one dissolved-buffer polygon each."""
    columns = ["community_id", "name", "source", "n_buildings"]
    if buildings.empty:
        return gpd.GeoDataFrame(
            pd.DataFrame(columns=columns), geometry=gpd.GeoSeries([], crs=_WGS84), crs=_WGS84
        )
    metric = buildings.to_crs(choose_metric_crs(buildings))
    merged = metric.buffer(group_distance_m / 2.0).union_all()
    blobs = gpd.GeoDataFrame(geometry=list(getattr(merged, "geoms", [merged])), crs=metric.crs)
    points = gpd.GeoDataFrame(
        metric[["key"]], geometry=metric.representative_point(), crs=metric.crs
    )
    member = gpd.sjoin(points, blobs, predicate="within")
    first = member.groupby("index_right")["key"].min()
    size = member.groupby("index_right").size()
    order = sorted(first.index, key=lambda i: first[i])
    rows = [
        (f"osm:bg{n}", None, "building group", int(size[i]), blobs.geometry.iloc[i])
        for n, i in enumerate(order, start=1)
    ]
    out = gpd.GeoDataFrame(
        pd.DataFrame([r[:4] for r in rows], columns=columns),
        geometry=[r[4] for r in rows],
        crs=metric.crs,
    )
    return out.to_crs(_WGS84)


def _check_distance(group_distance_m: float) -> None:
    if not (isinstance(group_distance_m, (int, float)) and math.isfinite(group_distance_m)) or (
        group_distance_m < 0
    ):
        raise LayerError(f"group_distance_m={group_distance_m!r}: must be a number of metres >= 0")


def read_osm_communities(
    path: str | Path, *, group_distance_m: float = 25.0, review_rules: bool = True
) -> gpd.GeoDataFrame:
    """Read a skeleton of residential communities (小区) from an OSM file.

    Two sources, in this order:

    1. ``landuse=residential`` polygons (closed ways and multipolygon relations),
       ``community_id`` ``osm:w…``/``osm:r…``, sorted by id, ``name`` where tagged.
    2. Residential buildings (``building`` in :data:`RESIDENTIAL_BUILDINGS`; ``building=yes``
       does not count) whose representative point lies in no such polygon, grouped by
       proximity: each is buffered by ``group_distance_m / 2`` in a metric CRS
       (:func:`gisplan.crs.choose_metric_crs`), the buffers are unioned and split into parts.
       Each part is one community whose polygon is **the dissolved buffer** (so groups never
       overlap; it reaches ``group_distance_m / 2`` beyond the outer buildings).
       ``community_id`` is ``osm:bg1``, ``osm:bg2`` … ordered by the smallest OSM id among a
       group's buildings (ways before relations); ``name`` is empty.

    Parameters
    ----------
    path
        An ``.osm`` XML or ``.osm.pbf`` file.
    group_distance_m
        Buildings closer than this (metres) fall in one group; 0 groups touching buildings.
    review_rules
        Apply the ``not_community`` rules of :func:`gisplan.standards.load_osm_rules`:
        dormitories, student housing by name and residential buildings on a university
        campus outside any residential area are no 小区 (listed at INFO).

    Returns
    -------
    geopandas.GeoDataFrame
        Polygons, EPSG:4326; columns ``community_id, name, source`` (``landuse=residential``
        or ``building group``), ``n_buildings`` (residential buildings inside), and
        ``built_year``, ``households`` (nullable Int64, all empty: to be filled by the survey).

    Raises
    ------
    LayerError
        If the file is missing or unreadable, or ``group_distance_m`` is negative.
    """
    return _communities_scanned(path, group_distance_m, review_rules=review_rules)[1]


def _communities_scanned(
    path: str | Path, group_distance_m: float, *, review_rules: bool
) -> tuple[_Scan, gpd.GeoDataFrame]:
    """Scan ``path`` for communities only; return the scan and the communities frame."""
    _check_distance(group_distance_m)
    scan = _scan(
        path,
        network=False,
        facilities=False,
        communities=True,
        standard=None,
        review_rules=review_rules,
    )
    return scan, _community_frame(scan, path, group_distance_m)


def _entrance_frame(
    scan: _Scan, communities: gpd.GeoDataFrame, path: str | Path
) -> gpd.GeoDataFrame:
    """Gate nodes lying on the outline of a ``landuse=residential`` community."""
    areas = communities[communities["source"] == "landuse=residential"]
    rows: list[tuple[str, str, str | None, Point]] = []
    if scan.gates and not areas.empty:
        outlines = areas.geometry.boundary.to_numpy()
        for node_id, name, point in sorted(scan.gates, key=lambda g: g[0]):
            near = shapely.dwithin(outlines, point, _ON_OUTLINE_DEG)
            rows.extend(
                (cid, f"osm:n{node_id}", name, point)
                for cid in areas["community_id"].to_numpy()[near]
            )
    rows.sort(key=lambda r: (r[0], r[1]))
    logger.info(
        "%s: %d gate/entrance nodes, %d on a residential area's outline (community gates)",
        path,
        len(scan.gates),
        len(rows),
    )
    frame = pd.DataFrame([r[:3] for r in rows], columns=_ENTRANCE_COLUMNS, dtype=object)
    return gpd.GeoDataFrame(
        frame, geometry=gpd.GeoSeries([r[3] for r in rows], crs=_WGS84), crs=_WGS84
    )


def read_osm_entrances(
    path: str | Path, *, group_distance_m: float = 25.0, review_rules: bool = True
) -> gpd.GeoDataFrame:
    """Read the gates of the OSM communities: entrance nodes on a residential area's outline.

    A node tagged ``entrance=*`` or ``barrier=gate`` that is a vertex of (lies on) the outline
    of a ``landuse=residential`` community of :func:`read_osm_communities` is one of its
    gates; a node on the shared outline of two communities is a gate of both. Building groups
    have no mapped outline, hence no gates.

    Parameters
    ----------
    path
        An ``.osm`` XML or ``.osm.pbf`` file.
    group_distance_m
        As for :func:`read_osm_communities` (only ``landuse`` communities get gates).
    review_rules
        As for :func:`read_osm_communities`.

    Returns
    -------
    geopandas.GeoDataFrame
        Points, EPSG:4326, in the ``entrances`` layer schema, sorted by community then
        entrance: ``community_id``, ``entrance_id`` (``osm:n123``), ``name`` (OSM ``name``).

    Raises
    ------
    LayerError
        If the file is missing or unreadable, or ``group_distance_m`` is negative.
    """
    scan, communities = _communities_scanned(path, group_distance_m, review_rules=review_rules)
    return _entrance_frame(scan, communities, path)


def read_osm(
    path: str | Path,
    *,
    standard: pd.DataFrame | None = None,
    group_distance_m: float = 25.0,
    layers: Collection[str] = ("communities", "facilities", "network"),
    review_rules: bool = True,
) -> OsmLayers:
    """Read communities, facilities and the walking network from one OSM file in one pass.

    Parameters
    ----------
    path
        An ``.osm`` XML or ``.osm.pbf`` file.
    layers
        Which of ``communities``, ``facilities``, ``network`` to read (the others are
        ``None``); fewer layers read faster.
    standard
        Facility table for :func:`read_osm_facilities`; ``None`` uses the packaged one.
    group_distance_m
        Building grouping distance for :func:`read_osm_communities`.
    review_rules
        Apply the OSM review rules (see :func:`read_osm_facilities`).

    Returns
    -------
    OsmLayers
        The same frames as the three ``read_osm_*`` functions, and with the communities
        their gates (``entrances``, :func:`read_osm_entrances`).

    Raises
    ------
    LayerError
        If the file is missing or cannot be read as OSM XML/PBF.
    """
    _check_distance(group_distance_m)
    unknown = set(layers) - set(_OSM_LAYERS)
    if unknown:
        raise LayerError(
            f"read_osm: unknown layer(s) {sorted(unknown)}; choose from {', '.join(_OSM_LAYERS)}"
        )
    want = {name: name in layers for name in _OSM_LAYERS}
    scan = _scan(path, **want, standard=standard, review_rules=review_rules)
    communities = _community_frame(scan, path, group_distance_m) if want["communities"] else None
    return OsmLayers(
        communities=communities,
        facilities=_facility_frame(scan, path) if want["facilities"] else None,
        network=_network_frame(scan, path) if want["network"] else None,
        entrances=None if communities is None else _entrance_frame(scan, communities, path),
    )
