"""Read layer files as they are: formats, text encodings and what goes wrong.

Private: :func:`read_file` (public as :func:`gisplan.layers.read_file`) reads

* GeoPackage, GeoJSON, Shapefile (with its ``.shx``/``.dbf`` beside it) and the other vector
  formats GDAL knows, through pyogrio; a GeoPackage of several layers needs the layer named,
  unless only one of them is spatial;
* CSV/TXT/TSV tables and XLSX/XLSM workbooks (openpyxl), old XLS workbooks (python-calamine),
  as text cells, with point geometry from coordinate columns or a WKT column.

:func:`read_table` reads the same files without geometry (the table kinds: commitments,
revenues): a CSV, a workbook sheet, or a GeoPackage attribute table (a spatial layer's
attributes, its geometry left out).

Text encodings: the ``encoding`` given wins; else a Shapefile's ``.cpg`` (GDAL honours it),
then UTF-8 when the text is valid UTF-8, then GB18030 (a superset of GBK); a CSV is read as
UTF-8 (with or without BOM), then GB18030. A guessed encoding is logged.

Only local files are read: a URL, a GDAL ``/vsicurl/``-style path or a file that makes GDAL
fetch data over the network (a VRT, a WFS/WMS service description) is refused before it is
opened (:func:`remote_problem`) — a run reads, and ``run.json`` hashes, exactly the files given.

Every failure raises :class:`~gisplan.errors.LayerError` naming the file and saying how to fix
it: a missing file or sidecar, a folder, a remote source, an unknown layer or sheet, undecodable
text (a wrong ``.cpg``), a ragged CSV row, a two-row (merged) workbook header, a layer with no
features, no coordinate columns, a damaged file. Nothing here renames columns or checks values
(that is :func:`gisplan.layers.check_layer`).
"""

from __future__ import annotations

import csv
import io
import logging
import re
import unicodedata
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from openpyxl.utils.exceptions import InvalidFileException

from gisplan import crs as gcrs
from gisplan._cells import parse_number, trimmed_text
from gisplan._text import csv_problem, printable
from gisplan.errors import LayerError

if TYPE_CHECKING:
    from collections.abc import Hashable

    import numpy.typing as npt
    import pyproj

__all__ = [
    "TABLE_SUFFIXES",
    "DatumLike",
    "column_list",
    "is_osm",
    "missing_file",
    "read_file",
    "read_table",
    "remote_problem",
]

# read_file is public in gisplan.layers: its messages keep that module's logger
logger = logging.getLogger("gisplan.layers")

#: Anything :func:`gisplan.crs.parse_datum` accepts: a name, an EPSG code, a CRS or a Datum.
DatumLike: TypeAlias = "str | int | pyproj.CRS | gcrs.Datum"

TABLE_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".xls")
_EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls")
_OSM_SUFFIXES = (".osm", ".pbf")

#: Columns recognised as coordinates in tables (compared after trimming, case-insensitive).
_LON_NAMES = ("lon", "lng", "long", "longitude", "经度")
_LAT_NAMES = ("lat", "latitude", "纬度")
_X_NAMES = ("x", "x坐标", "东坐标", "横坐标")
_Y_NAMES = ("y", "y坐标", "北坐标", "纵坐标")
_WKT_NAMES = ("wkt", "geometry", "geom", "几何", "几何图形")


def missing_file(path: Path) -> LayerError:
    """Return the error for a layer file that is not there."""
    return LayerError(
        f"{path}: file not found; check the path in the scenario "
        "(relative paths start from the scenario file's folder)"
    )


#: GDAL virtual file systems that fetch over the network (``/vsicurl/``, cloud buckets ...).
_REMOTE_VSI = re.compile(
    r"/vsi(curl|curl_streaming|s3|s3_streaming|gs|gs_streaming|az|az_streaming|adls|oss|"
    r"oss_streaming|swift|swift_streaming|webhdfs|hdfs)\b",
    flags=re.IGNORECASE,
)
#: A URL (``http://``, ``https://``, ``ftp://``, ``s3://`` ...) or a GDAL connection string
#: (``WFS:http...``, ``PG:...``, ``ESRIJSON:http...``).
_URL = re.compile(
    r"^(?:[a-z][a-z0-9+.-]*:/+|(?:wfs|wms|oapif|esrijson|pg|mysql|mssql):)", re.IGNORECASE
)
_DRIVE = re.compile(r"^[a-z]:[\\/]", re.IGNORECASE)
#: Root elements of XML files with which GDAL reads other sources, possibly over the network.
_REMOTE_XML = re.compile(
    rb"^\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<\s*(OGRVRTDataSource|VRTDataset|"
    rb"OGRWFSDataSource|GDAL_WMS|WCS_GDAL|GDAL_WCS|OGRAPISDataSource|WFS_Capabilities|"
    rb"WMS_Capabilities|WMT_MS_Capabilities)\b",
    flags=re.DOTALL,
)
_SNIFF_BYTES = 4096
_LISTED = 5  # files of a folder named in a message


def remote_problem(path: str | Path, *, sniff: bool = True) -> str | None:
    """Return why ``path`` would make GDAL read over the network, ``None`` for a local file.

    Looks only at the path and (with ``sniff``) the first bytes of the file: nothing is
    opened with GDAL.

    Examples
    --------
    >>> remote_problem("https://example.org/communities.geojson")[:38]
    'https://example.org/communities.geojso'
    >>> remote_problem("no such file.gpkg") is None
    True
    """
    text = str(path)
    if _URL.match(text) and not _DRIVE.match(text):  # C:\ or C:/ on Windows is local
        return (
            f"{text} is a URL or a database connection; gisplan reads local files only, "
            "so that a run reads (and run.json hashes) exactly the data it used: download the "
            "data and give the local file, e.g. ogr2ogr out.gpkg <source>"
        )
    if _REMOTE_VSI.search(text):
        return (
            f"{text} is a GDAL network path; gisplan reads local files only: download the data "
            "and give the local file, e.g. ogr2ogr out.gpkg <source>"
        )
    path = Path(path)
    kind = "a GDAL virtual dataset (.vrt)" if path.suffix.lower() == ".vrt" else None
    if sniff and path.is_file():
        try:
            with path.open("rb") as handle:
                head = handle.read(_SNIFF_BYTES)
        except OSError:
            return None  # the reader reports the unreadable file
        match = _REMOTE_XML.match(head.removeprefix(b"\xef\xbb\xbf"))
        if match is not None:
            kind = f"a GDAL <{match.group(1).decode('ascii')}> description"
    if kind is None:
        return None
    return (
        f"{path} is {kind}: GDAL reads the data it points to, possibly over the network, and "
        "run.json could only hash the description; gisplan reads local data files only: "
        f"convert it to a GeoPackage (ogr2ogr out.gpkg {path.name}) and give that file"
    )


def _refuse_remote(path: str | Path) -> None:
    problem = remote_problem(path)
    if problem is not None:
        raise LayerError(problem)


def _check_not_folder(path: Path) -> None:
    """Refuse a folder, unless GDAL reads it as one dataset (FileGDB, a folder of shapefiles)."""
    if not path.is_dir():
        return
    if path.suffix.lower() == ".gdb" or any(
        p.suffix.lower() == ".shp" for p in path.iterdir() if p.is_file()
    ):
        return
    inside = sorted(p.name for p in path.iterdir() if p.is_file())
    more = ", …" if len(inside) > _LISTED else ""
    listed = f" (it holds: {', '.join(map(printable, inside[:_LISTED]))}{more})"
    raise LayerError(
        f"{path} is a folder, not a layer file{listed if inside else ' (it is empty)'}; "
        "give the file itself, e.g. folder/communities.gpkg or folder/小区.shp"
    )


def _unreadable(path: Path, err: BaseException) -> LayerError:
    cause = str(err).split(";")[0].strip().rstrip(".")  # drop GDAL's "It might help ..." advice
    return LayerError(
        f"cannot read {path} ({cause}); check that it is an undamaged GeoPackage, GeoJSON, "
        "Shapefile, CSV or XLSX file, or export it again from your GIS"
    )


def is_osm(path: Path) -> bool:
    """Return whether ``path`` is an OpenStreetMap extract (``.osm``, ``.pbf``)."""
    return path.suffix.lower() in _OSM_SUFFIXES


def read_file(
    path: str | Path,
    *,
    layer: str | None = None,
    encoding: str | None = None,
    x: str | None = None,
    y: str | None = None,
    datum: DatumLike | None = None,
) -> gpd.GeoDataFrame:
    r"""Read a layer file as it is: no column renaming, no validation.

    Parameters
    ----------
    path
        A GeoPackage, GeoJSON, Shapefile (``.shp`` with its ``.dbf``/``.shx``/``.prj``),
        CSV or XLSX file (old ``.xls`` workbooks too). Chinese file and folder names are fine.
    layer
        Layer of a multi-layer GeoPackage, or sheet of an XLSX workbook (default: the
        only spatial layer / the first sheet).
    encoding
        Text encoding of a Shapefile or CSV. Default for Shapefiles: the ``.cpg`` file;
        without one, UTF-8 if the text is valid UTF-8, else GB18030 (a superset of GBK).
        Default for CSV: UTF-8 (with or without BOM), else GB18030.
    x, y
        Coordinate columns of a CSV/XLSX table. Default: a recognised pair
        (``lon/lat``, ``lng/lat``, ``经度/纬度``, ``x/y``, ``X坐标/Y坐标``, ``东坐标/北坐标``)
        or a WKT column (``wkt``, ``geometry``, ``几何``).
    datum
        Datum of a table's coordinates (``"CGCS2000"``, ``"EPSG:4547"`` ...). Tables carry no
        CRS: without a datum (or with GCJ-02/BD-09, which
        :func:`gisplan.layers.check_layer` converts) the frame is returned without CRS.
        Ignored for files that carry their own CRS.

    Returns
    -------
    geopandas.GeoDataFrame
        The file's columns as read (table cells stay text) and its geometry.

    Raises
    ------
    LayerError
        If the file is missing or cannot be read, is a folder, would be read over the network
        (a URL, a VRT), has no features, a GeoPackage holds several layers and none is named,
        or a table has no coordinate columns.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "设施.csv").write_text("编号,经度,纬度\nF1,116.3,39.9\n", encoding="utf-8")
    >>> gdf = gisplan.layers.read_file(folder / "设施.csv")
    >>> gdf["编号"].tolist(), gdf.geometry.iloc[0].wkt, gdf.crs
    (['F1'], 'POINT (116.3 39.9)', None)
    """
    _refuse_remote(path)
    path = Path(path)
    if not path.exists():
        raise missing_file(path)
    _check_not_folder(path)
    suffix = path.suffix.lower()
    if is_osm(path):
        raise LayerError(
            f"{path}: an OpenStreetMap extract holds several kinds of data; "
            "read it with gisplan.layers.read_layer(path, kind) "
            "(kind: network, facilities or communities)"
        )
    if suffix in TABLE_SUFFIXES:
        frame = (
            _read_excel(path, sheet=layer)
            if suffix in _EXCEL_SUFFIXES
            else _read_csv(path, encoding=encoding)
        )
        return _table_to_gdf(frame, path=path, x=x, y=y, datum=datum)
    return _read_spatial(path, layer=layer, encoding=encoding)


def read_table(
    path: str | Path,
    *,
    layer: str | None = None,
    encoding: str | None = None,
    default_layers: tuple[str, ...] = (),
) -> pd.DataFrame:
    """Read a table without geometry, as it is: a CSV, a workbook sheet or a GeoPackage table.

    Parameters
    ----------
    path
        A CSV/TXT/TSV file, an XLSX/XLSM/XLS workbook, or a GeoPackage (or any file GDAL
        reads: its attributes are read, its geometry is left out).
    layer
        Sheet of a workbook or layer (attribute table) of a GeoPackage. Default: the first of
        ``default_layers`` the file holds, else the first sheet / the only layer.
    encoding
        Text encoding of a CSV (default: UTF-8, else GB18030).
    default_layers
        Sheet or layer names to look for when ``layer`` is not given.

    Returns
    -------
    pandas.DataFrame
        The file's columns as read (names trimmed; table cells stay text).

    Raises
    ------
    LayerError
        If the file is missing or unreadable, is a folder, would be read over the network
        (a URL, a VRT), the layer or sheet does not exist, or a GeoPackage holds several
        layers and none is named.
    """
    _refuse_remote(path)
    path = Path(path)
    if not path.exists():
        raise missing_file(path)
    _check_not_folder(path)
    suffix = path.suffix.lower()
    frame: pd.DataFrame
    if suffix in _EXCEL_SUFFIXES:
        sheet = layer if layer is not None else _first_sheet_named(path, default_layers)
        frame = _read_excel(path, sheet=sheet)
    elif suffix in TABLE_SUFFIXES:
        frame = _read_csv(path, encoding=encoding)
    else:
        frame = _read_attributes(path, layer=layer, encoding=encoding, default=default_layers)
    out: pd.DataFrame = frame.rename(columns=lambda c: str(c).strip())
    logger.info("read %s: %d rows (a table, no geometry)", path, len(out))
    return out


def _first_sheet_named(path: Path, names: tuple[str, ...]) -> str | None:
    """Return the first of ``names`` that is a sheet of the workbook (``None``: none is)."""
    if not names or path.suffix.lower() == ".xls":
        return None
    try:
        with pd.ExcelFile(path, engine="openpyxl") as book:
            sheets = [str(n) for n in book.sheet_names]
    except (ValueError, OSError, KeyError, zipfile.BadZipFile, InvalidFileException):
        return None  # _read_excel reports the unreadable file
    return next((n for n in names if n in sheets), None)


def _read_attributes(
    path: Path, *, layer: str | None, encoding: str | None, default: tuple[str, ...]
) -> pd.DataFrame:
    """Read the attributes of a GeoPackage table or layer (any GDAL format), no geometry."""
    try:
        layer = _existing_layer(path, layer) if layer is not None else _table_layer(path, default)
        frame = pyogrio.read_dataframe(path, layer=layer, encoding=encoding, read_geometry=False)
    except LayerError:
        raise
    except (RuntimeError, OSError, ValueError, UnicodeError) as err:
        raise _unreadable(path, err) from err
    out: pd.DataFrame = pd.DataFrame(frame)
    return out


def _table_layer(path: Path, default: tuple[str, ...]) -> str | None:
    """Return the first of ``default`` the file holds, ``None`` for its only layer; else raise."""
    names = [str(name) for name in pyogrio.list_layers(path)[:, 0]]
    layer = next((n for n in default if n in names), None)
    if layer is None and len(names) > 1:
        example = default[0] if default else names[0]
        raise LayerError(
            f"{path} holds {len(names)} layers ({', '.join(map(printable, names))}); "
            f"set 'layer:' to the table to read (e.g. layer: {example})"
        )
    return layer


def _read_spatial(path: Path, *, layer: str | None, encoding: str | None) -> gpd.GeoDataFrame:
    """Read a GeoPackage, GeoJSON, Shapefile or any other format GDAL knows."""
    if path.suffix.lower() == ".shp":
        _check_sidecars(path)
    given = encoding
    try:
        layer = _only_layer(path) if layer is None else _existing_layer(path, layer)
        if encoding is None and path.suffix.lower() == ".shp":
            encoding = _shapefile_encoding(path)
        gdf = pyogrio.read_dataframe(path, layer=layer, encoding=encoding)
    except LayerError:
        raise
    except UnicodeError as err:
        raise _undecodable(path, given, err) from err
    except (RuntimeError, OSError, ValueError) as err:
        raise _unreadable(path, err) from err
    if not isinstance(gdf, gpd.GeoDataFrame):  # a GeoPackage attribute table has no geometry
        gdf = gpd.GeoDataFrame(gdf, geometry=gpd.GeoSeries([None] * len(gdf), index=gdf.index))
    if gdf.empty and len(gdf.columns) <= 1:  # nothing but (empty) geometry: no fields either
        where = f" (layer {printable(layer)!r})" if layer is not None else ""
        raise LayerError(
            f"{path}{where} has no features (0 rows) and no columns; export the layer again "
            "with its features (in QGIS: Export → Save Features As), or remove it from the "
            "scenario"
        )
    logger.info("read %s: %d rows, CRS %s", path, len(gdf), gdf.crs)
    return gdf


def _check_sidecars(path: Path) -> None:
    """Check that a Shapefile's .dbf (attributes) and .shx (index) lie beside it."""
    missing = [
        str(path.with_suffix(suffix))
        for suffix in (".dbf", ".shx")
        if not any(path.with_suffix(s).exists() for s in (suffix, suffix.upper()))
    ]
    if missing:
        raise LayerError(
            f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} missing: a "
            "shapefile needs .shp, .shx and .dbf side by side (and .prj for its CRS); "
            "copy all of them"
        )


def _existing_layer(path: Path, layer: str) -> str:
    """Return ``layer`` if the file holds it; ``LayerError`` listing the layers if not."""
    names = [str(name) for name in pyogrio.list_layers(path)[:, 0]]
    if layer in names:
        return layer
    folded = [n for n in names if n.casefold() == layer.casefold()]
    if len(folded) == 1:
        return folded[0]
    raise LayerError(
        f"{path} has no layer {printable(layer)!r}; its layers are: "
        f"{', '.join(printable(n) for n in names)} (set 'layer:' to one of them)"
    )


def _only_layer(path: Path) -> str | None:
    """Return the layer to read when none is named; ``LayerError`` listing them if ambiguous."""
    layers = pyogrio.list_layers(path)
    if len(layers) <= 1:
        return None
    spatial = [str(name) for name, geom in layers if geom is not None]
    if len(spatial) == 1:  # e.g. a GeoPackage with QGIS's layer_styles table
        return spatial[0]
    names = ", ".join(str(name) for name in layers[:, 0])
    raise LayerError(
        f"{path} holds {len(layers)} layers ({names}); "
        "pass layer=... (in the scenario: 'layer:' under this layer) to choose one"
    )


def _cpg_file(path: Path) -> Path | None:
    """Return a Shapefile's ``.cpg`` (its declared text encoding), if it has one."""
    return next((c for s in (".cpg", ".CPG") if (c := path.with_suffix(s)).exists()), None)


def _dbf_text(path: Path) -> bytes | None:
    """Return the text bytes of a Shapefile's DBF (field names and records), if readable."""
    dbf = next(
        (p for p in (path.with_suffix(".dbf"), path.with_suffix(".DBF")) if p.exists()), None
    )
    if dbf is None:
        return None
    raw = dbf.read_bytes()
    if len(raw) < 32:  # noqa: PLR2004 - the DBF header is 32 bytes
        return None
    header_len = int.from_bytes(raw[8:10], "little")
    names = b"".join(raw[i : i + 11] for i in range(32, max(32, header_len - 1), 32))
    return names + raw[header_len:]


def _undecodable(path: Path, given: str | None, err: UnicodeError) -> LayerError:
    """Return the error for text GDAL cannot decode: a wrong ``encoding:`` or ``.cpg``."""
    cause = printable(str(err))
    if given is not None:
        return LayerError(
            f"{path}: the text is not {given!r}, the encoding given under 'encoding:' in the "
            f"scenario ({cause}); correct 'encoding:' (e.g. gbk or utf-8) or remove it"
        )
    cpg = _cpg_file(path) if path.suffix.lower() == ".shp" else None
    if cpg is None:
        return LayerError(
            f"{path}: the text cannot be decoded ({cause}); state its encoding under "
            "'encoding:' for this layer in the scenario (e.g. encoding: gbk)"
        )
    declared = printable(cpg.read_text(encoding="ascii", errors="replace").strip())
    text = _dbf_text(path) or b""
    works = next((e for e in ("utf-8", "gb18030") if _decodes(text, e)), None)
    hint = f"; the text decodes as {works.upper()}" if works else ""
    example = "gbk" if works == "gb18030" else (works or "gbk")
    return LayerError(
        f"{path}: the text does not decode as {declared!r}, the encoding its .cpg file "
        f"{cpg.name} declares ({cause}){hint}; the .cpg encoding looks wrong: set "
        f"'encoding: {example}' under this layer in the scenario, or correct the .cpg file "
        f"(write {example.upper()} in it)"
    )


def _decodes(raw: bytes, encoding: str) -> bool:
    try:
        raw.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def _shapefile_encoding(path: Path) -> str | None:
    """Return the encoding of a Shapefile's DBF: ``None`` when a .cpg exists (GDAL honours it)."""
    if _cpg_file(path) is not None:
        return None
    text = _dbf_text(path)
    if text is None:
        return None
    try:
        text.decode("utf-8")
    except UnicodeDecodeError:
        logger.info(
            "%s: no .cpg file and the text is not UTF-8; decoding it as GB18030 (GBK)", path
        )
        return "gb18030"
    logger.info("%s: no .cpg file; the text is valid UTF-8, decoding it as UTF-8", path)
    return "utf-8"


def _read_csv(path: Path, *, encoding: str | None) -> pd.DataFrame:
    """Read a CSV as text cells, trying UTF-8 (with or without BOM) then GB18030.

    The delimiter is the most frequent of ``,``, tab and ``;`` in the header line.
    """
    candidates = [encoding] if encoding else ["utf-8-sig", "gb18030"]
    raw = path.read_bytes()
    if not raw.strip():
        raise LayerError(
            f"{path}: the file is empty (no header row, 0 rows); export the table again "
            "with a header row and its data"
        )
    last: UnicodeDecodeError | None = None
    for enc in candidates:
        try:
            text = raw.decode(enc)
        except UnicodeDecodeError as err:
            last = err
            continue
        except LookupError as err:
            raise LayerError(
                f"{path}: unknown encoding {enc!r}; use e.g. utf-8, gbk or gb18030"
            ) from err
        if not encoding and enc != candidates[0]:
            logger.info("%s: not UTF-8; decoded as %s (GBK)", path, enc)
        header = text.lstrip("\ufeff").split("\n", 1)[0]
        sep = max((",", "\t", ";"), key=header.count)
        problem = csv_problem(text, sep=sep)
        if problem is not None:
            raise LayerError(f"{path}: {problem}")
        try:
            return pd.read_csv(io.StringIO(text), sep=sep, dtype=str, skipinitialspace=True)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error) as err:
            raise _unreadable(path, err) from err
    raise LayerError(
        f"cannot read {path}: the text is not {' or '.join(candidates)} ({last}); "
        "save it as UTF-8 or state its encoding under 'encoding:' in the scenario"
    ) from last


def _read_excel(path: Path, *, sheet: str | None) -> pd.DataFrame:
    """Read one sheet of a workbook (the first unless ``sheet`` names one).

    ``.xlsx``/``.xlsm`` are read with openpyxl, old ``.xls`` workbooks with python-calamine.
    """
    if path.suffix.lower() == ".xls":
        return _read_xls(path, sheet=sheet)
    try:
        book = pd.ExcelFile(path, engine="openpyxl")
    except (ValueError, OSError, KeyError, zipfile.BadZipFile, InvalidFileException) as err:
        raise _unreadable(path, err) from err
    with book:
        return _read_sheet(book, path, sheet)


def _read_sheet(book: pd.ExcelFile, path: Path, sheet: str | None) -> pd.DataFrame:
    names = [str(n) for n in book.sheet_names]
    if sheet is not None and sheet not in names:
        raise LayerError(f"{path} has no sheet {sheet!r}; its sheets are: {', '.join(names)}")
    frame = pd.read_excel(book, sheet_name=sheet if sheet is not None else 0, dtype=object)
    out: pd.DataFrame = frame.dropna(how="all")
    unnamed = [str(c) for c in out.columns if str(c).startswith("Unnamed:")]
    if unnamed and path.suffix.lower() != ".xls":
        _check_header(path, sheet if sheet is not None else names[0], out, unnamed)
    return out


def _check_header(path: Path, sheet: str, frame: pd.DataFrame, unnamed: list[str]) -> None:
    """Refuse a header of two rows: merged cells in rows 1–2, or a title row above it."""
    import openpyxl  # noqa: PLC0415 - only a suspicious header needs the full workbook

    try:
        book = openpyxl.load_workbook(path, read_only=False, data_only=True)
    except (ValueError, OSError, KeyError, zipfile.BadZipFile, InvalidFileException):
        return  # read once already: nothing more to learn
    try:
        merged = [str(r) for r in book[sheet].merged_cells.ranges if r.min_row <= 2]  # noqa: PLR2004
    finally:
        book.close()
    fix = (
        "gisplan needs one header row with one column name per column: unmerge the cells, "
        "delete the extra row and put each column's name in row 1 (e.g. 小区编号, 小区名称, "
        "经度, 纬度)"
    )
    if merged:
        raise LayerError(
            f"{path} (sheet {printable(sheet)!r}): the header has two rows or merged cells "
            f"({', '.join(merged[:6])}); {fix}"
        )
    if len(unnamed) * 2 >= len(frame.columns) > 1:
        raise LayerError(
            f"{path} (sheet {printable(sheet)!r}): row 1 names only "
            f"{len(frame.columns) - len(unnamed)} of {len(frame.columns)} columns; it looks "
            f"like a title or a two-row header; {fix}"
        )


def _read_xls(path: Path, *, sheet: str | None) -> pd.DataFrame:
    """Read an old Excel 97-2003 workbook with python-calamine."""
    try:
        from python_calamine import CalamineError  # noqa: PLC0415 - only .xls needs it
    except ImportError as err:
        raise LayerError(
            f"{path}: reading .xls needs the python-calamine package "
            "(pip install python-calamine); or save the workbook as .xlsx"
        ) from err
    try:
        with pd.ExcelFile(path, engine="calamine") as book:
            return _read_sheet(book, path, sheet)
    except LayerError:
        raise
    except (CalamineError, ValueError, OSError, KeyError) as err:
        cause = printable(str(err).strip().rstrip("."))
        raise LayerError(
            f"cannot read {path} ({cause}); save it as .xlsx (Excel or WPS: File → Save As → "
            "Excel Workbook) and use that file"
        ) from err


def column_list(frame: pd.DataFrame) -> str:
    """Return the frame's column names for a message, invisible characters escaped."""
    return ", ".join(printable(c) for c in frame.columns)


def _find_column(frame: pd.DataFrame, candidates: tuple[str, ...]) -> Hashable | None:
    wanted = {c.lower() for c in candidates}
    for col in frame.columns:
        if unicodedata.normalize("NFKC", str(col)).strip().lower() in wanted:
            return col
    return None


def _table_to_gdf(
    frame: pd.DataFrame, *, path: Path, x: str | None, y: str | None, datum: DatumLike | None
) -> gpd.GeoDataFrame:
    """Build point (or WKT) geometry from a table's coordinate columns."""
    frame = frame.rename(columns=lambda c: str(c).strip())
    geometry: Any
    used: list[Hashable]
    if x is not None or y is not None:
        missing = [c for c in (x, y) if c is None or c not in frame.columns]
        if missing:
            raise LayerError(
                f"{path}: coordinate column(s) {', '.join(map(repr, missing))} not found "
                f"(x={x!r}, y={y!r}); the columns are: {column_list(frame)}"
            )
        used = [x, y]
        geometry = _points(frame[x], frame[y])
    else:
        pair = next(
            (
                (cx, cy)
                for names_x, names_y in ((_LON_NAMES, _LAT_NAMES), (_X_NAMES, _Y_NAMES))
                if (cx := _find_column(frame, names_x)) is not None
                and (cy := _find_column(frame, names_y)) is not None
            ),
            None,
        )
        wkt = _find_column(frame, _WKT_NAMES)
        if pair is None and wkt is None:
            raise LayerError(
                f"{path}: no coordinates found; add lon/lat (经度/纬度) or x/y columns or a WKT "
                "column, or name the columns with x: and y: in the scenario; "
                f"the columns are: {column_list(frame)}"
            )
        used = [c for c in (wkt, *(pair or ())) if c is not None]
        geometry = np.full(len(frame), None, dtype=object)
        if wkt is not None:  # a drawn outline (WKT) wins; coordinates fill the rows without one
            values = [trimmed_text(v) for v in frame[wkt]]
            geometry = shapely.from_wkt(np.array(values, dtype=object), on_invalid="ignore")
        if pair is not None:
            points = _points(frame[pair[0]], frame[pair[1]])
            missing = pd.isna(geometry)
            geometry[missing] = points[missing]
    logger.info("%s: geometry from column(s) %s", path, ", ".join(map(str, used)))
    crs = None
    if datum is not None:
        parsed = gcrs.parse_datum(datum)
        if parsed.offset is None:
            crs = parsed.crs
    gdf = gpd.GeoDataFrame(frame.drop(columns=used), geometry=geometry, crs=crs)
    gdf.index = frame.index
    logger.info("read %s: %d rows", path, len(gdf))
    return gdf


def _points(xs: pd.Series[Any], ys: pd.Series[Any]) -> npt.NDArray[np.object_]:
    """Points from two columns of (possibly text) numbers; ``None`` where either is unusable."""
    xv = np.array([parse_number(v)[0] for v in xs], dtype=float)
    yv = np.array([parse_number(v)[0] for v in ys], dtype=float)
    pts = np.asarray(shapely.points(xv, yv), dtype=object)
    pts[~(np.isfinite(xv) & np.isfinite(yv))] = None
    return pts
