"""Offline web assets: pinned npm packages embedded into single-file HTML maps and pages.

folium links Leaflet, jQuery, Bootstrap, Leaflet.awesome-markers, Font Awesome and the
plugins (fullscreen, measure, minimap) from CDNs, so a saved map is blank without internet.
This module replaces those links with the files themselves:

* ``gisplan/data/vendor/manifest.json`` pins each npm package (name, version, the registry's
  sha512 ``integrity``, tarball, licence, the files used) and maps every CDN address folium
  emits to the embedded file(s); ``LICENSES.md`` next to it records the licences.
* :func:`fetch` (``python -m gisplan.assets fetch``) is the install step: it downloads each
  tarball from the npm registry, checks its sha512 against the manifest and extracts only the
  listed files into ``gisplan/data/vendor/<package>/`` (not committed). It is idempotent.
* :func:`inline` rewrites an HTML page: every ``<script src>`` / ``<link rel=stylesheet>``
  pointing at a known CDN address becomes an inline ``<script>`` / ``<style>``, and every
  ``url(...)`` inside the CSS (images, fonts) becomes a ``data:`` URI, so no request leaves
  the page except basemap tiles.
* :func:`script_tags` / :func:`css_tags` give the same inline tags by asset name
  (``"leaflet"``, ``"fontawesome"``, ...) for pages gisplan writes itself.

Font Awesome: folium links ``all.min.css``; gisplan embeds ``fontawesome.min.css`` +
``solid.min.css`` + ``regular.min.css`` (the same icon classes, each font once). Brand icons,
the v4/v5 compatibility fonts and the TrueType fallbacks are left out: their CSS sources become
``local()`` names, which never cause a request. Two folium stylesheets are dropped on purpose
(listed with the reason under ``dropped`` in the manifest): the Bootstrap 3 glyphicon font and
folium's icon-rotation CSS; gisplan draws icons with Font Awesome and never rotates them.
"""

from __future__ import annotations

import argparse
import base64
import functools
import hashlib
import io
import json
import logging
import posixpath
import re
import sys
import tarfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from gisplan.errors import AssetError

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

__all__ = [
    "AssetError",
    "Manifest",
    "NpmPackage",
    "asset_names",
    "css_tags",
    "fetch",
    "inline",
    "licences_markdown",
    "load_manifest",
    "missing_files",
    "remote_urls",
    "script_tags",
    "vendor_dir",
]

logger = logging.getLogger(__name__)

FETCH_HINT = "assets not fetched — run `python -m gisplan.assets fetch`"
_STAMP = ".gisplan-fetched"
_NPM_REGISTRY = "https://registry.npmjs.org/"
_MIME = {
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".gif": "image/gif",
    ".jpg": "image/jpeg",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
}
_LEAFLET_JS = "leaflet/dist/leaflet.js"
_LEAFLET_IMAGES = "leaflet/dist/images"
_FONT_EXT = (".ttf", ".woff", ".woff2", ".eot", ".otf")
# <script ... src="X" ...></script> and <link ... href="X" ...>
_SCRIPT_RE = re.compile(
    r"<script\b[^>]*?\bsrc\s*=\s*([\"'])(?P<url>[^\"']+)\1[^>]*>\s*</script\s*>", re.IGNORECASE
)
_LINK_RE = re.compile(r"<link\b[^>]*?>", re.IGNORECASE)
_HREF_RE = re.compile(r"\bhref\s*=\s*([\"'])(?P<url>[^\"']+)\1", re.IGNORECASE)
_REL_CSS_RE = re.compile(r"\brel\s*=\s*([\"'])?\s*stylesheet\b", re.IGNORECASE)
# url(x), url("x"), url('x'), optionally followed by format("...")
_CSS_URL_RE = re.compile(
    r"url\(\s*(?:\"(?P<dq>[^\"]*)\"|'(?P<sq>[^']*)'|(?P<bare>[^)\s'\"]*))\s*\)"
    r"(?P<fmt>\s*format\([^)]*\))?"
)
_CSS_IMPORT_RE = re.compile(r"@import\b", re.IGNORECASE)


@dataclass(frozen=True, kw_only=True, slots=True)
class NpmPackage:
    """One pinned npm package and the files gisplan takes from it.

    Parameters
    ----------
    name, version : str
        npm name (``@scope/name`` allowed) and exact version.
    integrity : str
        The registry's ``dist.integrity``: ``"sha512-"`` + base64 digest of the tarball.
    tarball : str
        Registry address of the tarball.
    license : str
        SPDX expression from the package.
    licence_file : str or None
        Licence file inside the package, if it ships one.
    homepage, note : str
        Where the project lives; why files are left out or renamed.
    files : tuple of str
        Paths inside the package (without the tarball's top folder) to extract.
    """

    name: str
    version: str
    integrity: str
    tarball: str
    license: str
    licence_file: str | None
    homepage: str
    note: str
    files: tuple[str, ...]

    @property
    def directory(self) -> str:
        """Folder under the vendor directory: the npm name (``@scope/name`` keeps its slash)."""
        return self.name


@dataclass(frozen=True, kw_only=True, slots=True)
class Manifest:
    """The pinned packages, named assets and the CDN addresses they replace.

    ``assets`` maps a name to ``(js files, css files)``; ``urls`` maps a CDN address to the
    vendor files that replace it; ``dropped`` maps a CDN address removed on purpose to why.
    Vendor file paths are ``<package name>/<path in package>``.
    """

    packages: tuple[NpmPackage, ...]
    assets: dict[str, tuple[tuple[str, ...], tuple[str, ...]]]
    urls: dict[str, tuple[str, ...]]
    dropped: dict[str, str]

    def package_of(self, vendor_path: str) -> NpmPackage:
        """Return the package a vendor path belongs to."""
        for pkg in self.packages:
            if vendor_path.startswith(pkg.directory + "/"):
                return pkg
        raise AssetError(
            f"vendor manifest: file {vendor_path!r} belongs to no listed package; "
            "add the package to gisplan/data/vendor/manifest.json"
        )


def vendor_dir() -> Path:
    """Return the folder holding ``manifest.json`` and the fetched packages."""
    return Path(__file__).resolve().parent / "data" / "vendor"


@functools.cache
def _manifest_cached(path: str) -> Manifest:
    raw = json.loads(Path(path).read_text(encoding="utf-8"))
    packages = tuple(
        NpmPackage(
            name=p["name"],
            version=p["version"],
            integrity=p["integrity"],
            tarball=p["tarball"],
            license=p["license"],
            licence_file=p.get("licence_file"),
            homepage=p.get("homepage", ""),
            note=p.get("note", ""),
            files=tuple(p["files"]),
        )
        for p in raw["packages"]
    )
    assets = {
        name: (tuple(spec.get("js", ())), tuple(spec.get("css", ())))
        for name, spec in raw["assets"].items()
    }
    urls = {url: tuple(files) for url, files in raw["urls"].items()}
    manifest = Manifest(packages=packages, assets=assets, urls=urls, dropped=dict(raw["dropped"]))
    listed = {f"{p.directory}/{f}" for p in packages for f in p.files}
    used = {f for js, css in assets.values() for f in (*js, *css)} | {
        f for files in urls.values() for f in files
    }
    if used - listed:
        raise AssetError(
            f"vendor manifest {path}: files {sorted(used - listed)} are used but not listed "
            "under their package's 'files'; list them there"
        )
    return manifest


def load_manifest(path: Path | None = None) -> Manifest:
    """Read the vendor manifest (default: the packaged ``manifest.json``).

    Examples
    --------
    >>> m = gisplan.assets.load_manifest()
    >>> [p.version for p in m.packages if p.name == "leaflet"]
    ['1.9.3']
    """
    return _manifest_cached(str((path or vendor_dir() / "manifest.json").resolve()))


def asset_names() -> list[str]:
    """Return the names accepted by :func:`script_tags` and :func:`css_tags`.

    Examples
    --------
    >>> gisplan.assets.asset_names()[:3]
    ['awesome_markers', 'bootstrap', 'fontawesome']
    """
    return sorted(load_manifest().assets)


def missing_files(vendor: Path | None = None) -> list[str]:
    """Return the vendor files (``<package>/<path>``) that are not fetched yet, sorted."""
    root = vendor or vendor_dir()
    return sorted(
        f"{p.directory}/{f}"
        for p in load_manifest().packages
        for f in p.files
        if not (root / p.directory / f).is_file()
    )


# --- fetch --------------------------------------------------------------------------------


def _check_integrity(data: bytes, pkg: NpmPackage) -> None:
    algo, _, expected = pkg.integrity.partition("-")
    if algo != "sha512":
        raise AssetError(
            f"vendor manifest: {pkg.name}@{pkg.version} integrity {pkg.integrity!r} is not "
            "sha512; copy dist.integrity from `npm view NAME@VERSION dist.integrity`"
        )
    got = base64.b64encode(hashlib.sha512(data).digest()).decode("ascii")
    if got != expected:
        raise AssetError(
            f"{pkg.name}@{pkg.version}: the downloaded tarball's sha512 is {got}, the manifest "
            f"pins {expected}; the download was altered or the registry mirror serves another "
            "file — fetch again from https://registry.npmjs.org/"
        )


def _download(url: str, *, timeout: float) -> bytes:
    if not url.startswith(("https://", "http://")):
        raise AssetError(f"vendor manifest: tarball {url!r} is not an http(s) address")
    request = urllib.request.Request(url, headers={"User-Agent": "gisplan-assets"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
        data: bytes = response.read()
    return data


def _extract(data: bytes, pkg: NpmPackage, dest: Path) -> list[Path]:
    wanted = set(pkg.files)
    written: list[Path] = []
    target = dest / pkg.directory
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for member in tar.getmembers():
            # npm tarballs hold one top folder (usually "package/"); strip it
            inner = member.name.split("/", 1)[1] if "/" in member.name else member.name
            if inner not in wanted or not member.isfile():
                continue
            handle = tar.extractfile(member)
            if handle is None:  # pragma: no cover - isfile() members always have data
                continue
            out = target / inner
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(handle.read())
            written.append(out)
            wanted.discard(inner)
    if wanted:
        raise AssetError(
            f"{pkg.name}@{pkg.version}: files {sorted(wanted)} are not in the tarball; "
            "fix their paths under 'files' in gisplan/data/vendor/manifest.json"
        )
    (target / _STAMP).write_text(pkg.integrity + "\n", encoding="utf-8")
    return sorted(written)


def _is_fetched(pkg: NpmPackage, dest: Path) -> bool:
    stamp = dest / pkg.directory / _STAMP
    if not stamp.is_file() or stamp.read_text(encoding="utf-8").strip() != pkg.integrity:
        return False
    return all((dest / pkg.directory / f).is_file() for f in pkg.files)


def fetch(
    *,
    dest: Path | None = None,
    registry: str | None = None,
    force: bool = False,
    timeout: float = 60.0,
) -> list[Path]:
    """Download, verify and extract every pinned package that is not fetched yet.

    Parameters
    ----------
    dest : Path, optional
        Vendor folder; default :func:`vendor_dir`.
    registry : str, optional
        Base address of an npm registry mirror (e.g. ``https://registry.npmmirror.com/``)
        used instead of ``https://registry.npmjs.org/``; the sha512 check still applies.
    force : bool
        Download again even when a package is already there.
    timeout : float
        Seconds per download.

    Returns
    -------
    list of Path
        The files written (empty when everything was already fetched).

    Raises
    ------
    AssetError
        If a tarball fails its sha512 check or lacks a listed file.
    """
    root = dest or vendor_dir()
    written: list[Path] = []
    for pkg in load_manifest().packages:
        if not force and _is_fetched(pkg, root):
            logger.debug("%s@%s already fetched", pkg.name, pkg.version)
            continue
        url = pkg.tarball
        if registry:
            url = registry.rstrip("/") + "/" + url.removeprefix(_NPM_REGISTRY)
        logger.info("fetching %s@%s from %s", pkg.name, pkg.version, url)
        data = _download(url, timeout=timeout)
        _check_integrity(data, pkg)
        written.extend(_extract(data, pkg, root))
    return written


# --- embedding ----------------------------------------------------------------------------


def _read_vendor(vendor_path: str, root: Path) -> bytes:
    path = root / vendor_path
    try:
        return path.read_bytes()
    except FileNotFoundError as err:
        raise AssetError(f"{FETCH_HINT} (missing {path})") from err


def _data_uri(data: bytes, name: str) -> str:
    mime = _MIME.get(posixpath.splitext(name)[1].lower(), "application/octet-stream")
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _css_with_data_uris(vendor_path: str, root: Path) -> str:
    manifest = load_manifest()
    pkg = manifest.package_of(vendor_path)
    listed = {f"{pkg.directory}/{f}" for f in pkg.files}
    css = _read_vendor(vendor_path, root).decode("utf-8")
    if _CSS_IMPORT_RE.search(css):
        raise AssetError(f"{vendor_path}: @import is not supported in embedded CSS")
    base = posixpath.dirname(vendor_path)

    def replace(match: re.Match[str]) -> str:
        target = match.group("dq") or match.group("sq") or match.group("bare") or ""
        if target.startswith(("data:", "#")) or not target:
            return match.group(0)
        if "://" in target or target.startswith("//"):
            raise AssetError(
                f"{vendor_path}: CSS loads {target} from the network; list that file in "
                "the manifest or drop the rule"
            )
        clean = target.split("?", 1)[0].split("#", 1)[0]
        resolved = posixpath.normpath(posixpath.join(base, clean))
        if resolved in listed:
            uri = _data_uri(_read_vendor(resolved, root), resolved)
            return f'url("{uri}"){match.group("fmt") or ""}'
        if clean.lower().endswith(_FONT_EXT):
            # a font left out on purpose: a local() name is valid in src and makes no request
            return f'local("gisplan omitted {posixpath.basename(clean)}")'
        raise AssetError(
            f"{vendor_path}: CSS needs {resolved}, which is not under 'files' of "
            f"{pkg.name} in gisplan/data/vendor/manifest.json; add it and run fetch"
        )

    return _CSS_URL_RE.sub(replace, css)


@functools.lru_cache(maxsize=64)
def _style_cached(vendor_path: str, root: str, mtime_ns: int) -> str:
    del mtime_ns  # part of the cache key only: a re-fetched file is read again
    css = _css_with_data_uris(vendor_path, Path(root)).replace("</style", "<\\/style")
    return f"<style>/* {vendor_path} */\n{css}\n</style>"


def _leaflet_icon_fix(root: Path) -> str:
    """Point Leaflet's default marker icon at data URIs.

    Leaflet guesses the icon folder from the ``leaflet.css`` URL; embedded CSS has none, so
    without this the default marker would be requested from ``./marker-icon.png``.
    """
    urls = {
        key: _data_uri(_read_vendor(f"{_LEAFLET_IMAGES}/{name}", root), name)
        for key, name in (
            ("iconUrl", "marker-icon.png"),
            ("iconRetinaUrl", "marker-icon-2x.png"),
            ("shadowUrl", "marker-shadow.png"),
        )
    }
    return f"L.Icon.Default.imagePath='';L.Icon.Default.mergeOptions({json.dumps(urls)});"


@functools.lru_cache(maxsize=64)
def _script_cached(vendor_path: str, root: str, mtime_ns: int) -> str:
    del mtime_ns
    js = _read_vendor(vendor_path, Path(root)).decode("utf-8")
    if vendor_path == _LEAFLET_JS:
        js += "\n" + _leaflet_icon_fix(Path(root))
    js = js.replace("</script", "<\\/script")
    return f"<script>/* {vendor_path} */\n{js}\n</script>"


def _mtime(vendor_path: str, root: Path) -> int:
    try:
        return (root / vendor_path).stat().st_mtime_ns
    except FileNotFoundError as err:
        raise AssetError(f"{FETCH_HINT} (missing {root / vendor_path})") from err


def _style(vendor_path: str, root: Path) -> str:
    return _style_cached(vendor_path, str(root), _mtime(vendor_path, root))


def _script(vendor_path: str, root: Path) -> str:
    return _script_cached(vendor_path, str(root), _mtime(vendor_path, root))


def _named(names: Iterable[str], kind: int) -> list[str]:
    assets = load_manifest().assets
    unknown = [n for n in names if n not in assets]
    if unknown:
        raise AssetError(f"unknown asset names {unknown}; choose from {sorted(assets)}")
    return [f for n in names for f in assets[n][kind]]


def script_tags(names: Sequence[str], *, vendor: Path | None = None) -> str:
    """Return inline ``<script>`` tags for the named assets, in the order given.

    Parameters
    ----------
    names : sequence of str
        Asset names from :func:`asset_names`, e.g. ``["leaflet"]``.
    vendor : Path, optional
        Vendor folder; default :func:`vendor_dir`.

    Raises
    ------
    AssetError
        For an unknown name, or when the files are not fetched.
    """
    root = vendor or vendor_dir()
    return "\n".join(_script(f, root) for f in _named(names, 0))


def css_tags(names: Sequence[str], *, vendor: Path | None = None) -> str:
    """Return inline ``<style>`` tags (images and fonts as ``data:`` URIs) for the named assets.

    Parameters
    ----------
    names : sequence of str
        Asset names from :func:`asset_names`, e.g. ``["leaflet"]``.
    vendor : Path, optional
        Vendor folder; default :func:`vendor_dir`.

    Raises
    ------
    AssetError
        For an unknown name, or when the files are not fetched.
    """
    root = vendor or vendor_dir()
    return "\n".join(_style(f, root) for f in _named(names, 1))


def _is_remote(url: str) -> bool:
    return url.startswith(("http://", "https://", "//"))


def remote_urls(html: str) -> list[str]:
    """Return the remote addresses of ``<script src>`` and stylesheet ``<link>`` tags, in order.

    Examples
    --------
    >>> gisplan.assets.remote_urls('<script src="https://x.org/a.js"></script><p>hi</p>')
    ['https://x.org/a.js']
    """
    found = [m.group("url") for m in _SCRIPT_RE.finditer(html)]
    for tag in _LINK_RE.finditer(html):
        href = _HREF_RE.search(tag.group(0))
        if href and _REL_CSS_RE.search(tag.group(0)):
            found.append(href.group("url"))
    return [u for u in found if _is_remote(u)]


def inline(html: str, *, vendor: Path | None = None) -> str:
    """Replace every CDN script and stylesheet in ``html`` with the embedded file.

    Each ``<script src=URL></script>`` and ``<link rel="stylesheet" href=URL>`` whose URL is
    listed in the manifest becomes inline ``<script>``/``<style>`` (CSS images and fonts as
    ``data:`` URIs); URLs listed under ``dropped`` are removed. Local and relative links are
    kept. Tile URLs inside scripts are not touched.

    Parameters
    ----------
    html : str
        A page, e.g. ``folium.Map.get_root().render()``.
    vendor : Path, optional
        Vendor folder; default :func:`vendor_dir`.

    Returns
    -------
    str
        The page with no remote script or stylesheet left.

    Raises
    ------
    AssetError
        Naming every remote asset that is not in the manifest, or saying the files are not
        fetched (run ``python -m gisplan.assets fetch``).

    Examples
    --------
    >>> gisplan.assets.inline("<p>no assets</p>")
    '<p>no assets</p>'
    """
    manifest = load_manifest()
    root = vendor or vendor_dir()
    unknown = [u for u in remote_urls(html) if u not in manifest.urls and u not in manifest.dropped]
    if unknown:
        raise AssetError(
            "cannot embed remote assets "
            + ", ".join(unknown)
            + ": they are not in gisplan/data/vendor/manifest.json; add the npm package "
            "(name, version, integrity, files) and the address under 'urls', then run "
            "`python -m gisplan.assets fetch` — or remove the plugin from the map"
        )
    absent = [
        f for u in remote_urls(html) for f in manifest.urls.get(u, ()) if not (root / f).is_file()
    ]
    if absent:
        raise AssetError(f"{FETCH_HINT} (missing {', '.join(sorted(set(absent)))} in {root})")

    def embed(url: str) -> str | None:
        if url in manifest.dropped:
            return f"<!-- gisplan: dropped {url}: {manifest.dropped[url]} -->"
        files = manifest.urls.get(url)
        if files is None:
            return None
        return "\n".join(_style(f, root) if f.endswith(".css") else _script(f, root) for f in files)

    def script(match: re.Match[str]) -> str:
        return embed(match.group("url")) or match.group(0)

    def link(match: re.Match[str]) -> str:
        tag = match.group(0)
        href = _HREF_RE.search(tag)
        if href is None or not _REL_CSS_RE.search(tag):
            return tag
        return embed(href.group("url")) or tag

    return _LINK_RE.sub(link, _SCRIPT_RE.sub(script, html))


def licences_markdown(vendor: Path | None = None) -> str:
    """Return ``LICENSES.md``: one row per pinned package, then each shipped licence text.

    Raises
    ------
    AssetError
        When the licence files are not fetched.
    """
    root = vendor or vendor_dir()
    manifest = load_manifest()
    lines = [
        "# Licences of the embedded web assets",
        "",
        "Generated by `python -m gisplan.assets licences` from `manifest.json` and the fetched",
        "npm tarballs; offline maps and pages embed these files.",
        "",
        "| package | version | licence | homepage | note |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {p.name} | {p.version} | {p.license} | {p.homepage} | {p.note} |"
        for p in manifest.packages
    ]
    for pkg in manifest.packages:
        lines += ["", f"## {pkg.name} {pkg.version}", ""]
        if pkg.licence_file is None:
            lines.append(
                f"The package ships no licence file; its package.json states {pkg.license}."
            )
            continue
        text = _read_vendor(f"{pkg.directory}/{pkg.licence_file}", root).decode("utf-8")
        lines += ["```text", *(line.rstrip() for line in text.strip().splitlines()), "```"]
    return "\n".join(lines) + "\n"


# --- command line -------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``python -m gisplan.assets fetch|check|list``; return the exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m gisplan.assets", description="Offline web assets for gisplan maps."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    cmd_fetch = sub.add_parser("fetch", help="download, verify and extract the pinned packages")
    cmd_fetch.add_argument("--registry", help="npm registry mirror base address")
    cmd_fetch.add_argument("--force", action="store_true", help="download again")
    sub.add_parser("check", help="exit 1 when files are missing")
    sub.add_parser("list", help="list the pinned packages and their licences")
    sub.add_parser("licences", help="print LICENSES.md (package table and licence texts)")
    args = parser.parse_args(argv)
    out = sys.stdout
    if args.command == "fetch":
        logging.basicConfig(level=logging.INFO, format="%(message)s")
        try:
            written = fetch(registry=args.registry, force=args.force)
        except (AssetError, OSError) as err:
            sys.stderr.write(f"error: {err}\n")
            return 2
        out.write(f"{len(written)} files written to {vendor_dir()}\n")
        return 0
    if args.command == "check":
        missing = missing_files()
        if missing:
            sys.stderr.write(f"{FETCH_HINT}; missing: {', '.join(missing)}\n")
            return 1
        out.write("all vendor files present\n")
        return 0
    if args.command == "licences":
        out.write(licences_markdown())
        return 0
    for pkg in load_manifest().packages:
        out.write(f"{pkg.name}@{pkg.version}\t{pkg.license}\t{pkg.homepage}\n")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
