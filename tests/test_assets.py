"""Offline web assets: manifest, fetch (offline, from a fake tarball), inline, tags, browser."""

from __future__ import annotations

import base64
import hashlib
import io
import re
import tarfile
from pathlib import Path

import folium
import pytest
from _browser import browser_fixture
from folium import plugins

from gisplan import assets
from gisplan.errors import GisplanError

browser = browser_fixture()

PLUGINS = (plugins.Fullscreen, plugins.MeasureControl, plugins.MiniMap)


def _folium_urls() -> list[str]:
    links = [*folium.folium._default_js, *folium.folium._default_css]
    for plugin in PLUGINS:
        links += [*plugin.default_js, *plugin.default_css]
    return [url for _, url in links]


def _map_html() -> str:
    m = folium.Map(location=[35.0, 118.0], zoom_start=14, tiles=None)
    plugins.Fullscreen().add_to(m)
    plugins.MeasureControl().add_to(m)
    folium.Marker(
        [35.0, 118.0], icon=folium.Icon(icon="school", prefix="fa"), popup="幼儿园"
    ).add_to(m)
    folium.Marker([35.001, 118.002], popup="默认图标").add_to(m)
    folium.GeoJson(
        {
            "type": "Polygon",
            "coordinates": [[[118.0, 35.0], [118.004, 35.0], [118.004, 35.003], [118.0, 35.0]]],
        }
    ).add_to(m)
    html: str = m.get_root().render()
    return html


def test_manifest_covers_every_cdn_address_folium_emits() -> None:
    manifest = assets.load_manifest()
    urls = _folium_urls()
    assert len(urls) == 16  # 4 + 6 folium defaults, 2 each for the three plugins
    assert [u for u in urls if u not in manifest.urls and u not in manifest.dropped] == []
    # pins: folium 0.20 loads leaflet 1.9.3, and the manifest carries the registry's sha512
    pkg = {p.name: p for p in manifest.packages}
    assert pkg["leaflet"].version == "1.9.3"
    assert all(p.integrity.startswith("sha512-") for p in manifest.packages)
    assert all(len(base64.b64decode(p.integrity[7:])) == 64 for p in manifest.packages)


@pytest.mark.assets
def test_everything_is_fetched() -> None:
    # tests/install.sh runs `python -m gisplan.assets fetch`; without it offline maps fail
    assert assets.missing_files() == [], assets.FETCH_HINT
    assert assets.main(["check"]) == 0


@pytest.mark.assets
def test_inline_leaves_no_remote_asset() -> None:
    html = _map_html()
    assert len(assets.remote_urls(html)) == 14  # folium's 4 + 6, two plugins' 2 + 2
    out = assets.inline(html)
    assert assets.remote_urls(out) == []
    assert not re.search(r"<(script|link)[^>]+(src|href)=\"https?:", out)
    # fonts and images travel as data: URIs; the two dropped stylesheets leave a comment
    assert out.count("data:font/woff2;base64,") == 2  # FA solid + regular, each once
    assert "data:image/png;base64," in out
    assert out.count("<!-- gisplan: dropped https://") == 2
    # Leaflet's default marker icon points at data URIs, not ./marker-icon.png
    assert "L.Icon.Default.imagePath=''" in out
    # idempotent: an inlined page has nothing left to embed
    assert assets.inline(out) == out


def test_inline_names_an_unknown_remote_asset() -> None:
    html = '<script src="https://cdn.example.org/x@1/x.js"></script>'
    with pytest.raises(assets.AssetError, match=r"https://cdn\.example\.org/x@1/x\.js.*manifest"):
        assets.inline(html)
    assert issubclass(assets.AssetError, GisplanError)


def test_inline_without_fetched_files_says_how_to_fetch(tmp_path: Path) -> None:
    with pytest.raises(assets.AssetError, match=r"assets not fetched — run `python -m gisplan"):
        assets.inline(_map_html(), vendor=tmp_path)
    with pytest.raises(assets.AssetError, match="assets not fetched"):
        assets.script_tags(["leaflet"], vendor=tmp_path)


def test_local_and_relative_links_are_kept() -> None:
    html = '<link rel="stylesheet" href="site.css"><script src="./app.js"></script>'
    assert assets.inline(html) == html


@pytest.mark.assets
def test_tags_by_name() -> None:
    js = assets.script_tags(["leaflet"])
    css = assets.css_tags(["leaflet", "fontawesome"])
    assert js.startswith("<script>/* leaflet/dist/leaflet.js */")
    assert js.count("<script>") == 1
    assert js.count("</script>") == 1  # nothing inside can close the tag early
    assert css.count("<style>") == 4  # leaflet.css, fontawesome + solid + regular
    assert "url(images/" not in css
    assert assets.css_tags(["jquery"]) == ""  # jQuery has no stylesheet
    with pytest.raises(assets.AssetError, match=r"unknown asset names \['leafet'\]"):
        assets.script_tags(["leafet"])


@pytest.mark.assets
def test_omitted_fonts_become_local_names() -> None:
    css = assets.css_tags(["fontawesome"])
    assert ".ttf" not in re.sub(r'local\("[^"]*"\)', "", css)
    assert css.count('local("gisplan omitted fa-solid-900.ttf")') == 1


def _tarball(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _fake_manifest(data: bytes, files: tuple[str, ...]) -> assets.Manifest:
    integrity = "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()
    pkg = assets.NpmPackage(
        name="@demo/pkg",
        version="1.0.0",
        integrity=integrity,
        tarball="https://registry.npmjs.org/@demo/pkg/-/pkg-1.0.0.tgz",
        license="MIT",
        licence_file="LICENSE",
        homepage="",
        note="",
        files=files,
    )
    return assets.Manifest(packages=(pkg,), assets={}, urls={}, dropped={})


def test_fetch_verifies_extracts_and_is_idempotent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = _tarball({"LICENSE": b"MIT", "dist/a.js": b"var a=1;", "src/unused.js": b"x"})
    monkeypatch.setattr(
        assets, "load_manifest", lambda: _fake_manifest(data, ("LICENSE", "dist/a.js"))
    )
    calls: list[str] = []

    def download(url: str, *, timeout: float) -> bytes:
        calls.append(url)
        return data

    monkeypatch.setattr(assets, "_download", download)
    written = assets.fetch(dest=tmp_path, registry="https://registry.npmmirror.com")
    assert [p.relative_to(tmp_path).as_posix() for p in written] == [
        "@demo/pkg/LICENSE",
        "@demo/pkg/dist/a.js",
    ]
    assert calls == ["https://registry.npmmirror.com/@demo/pkg/-/pkg-1.0.0.tgz"]
    assert not (tmp_path / "@demo/pkg/src/unused.js").exists()  # only listed files
    assert (tmp_path / "@demo/pkg/dist/a.js").read_bytes() == b"var a=1;"
    assert assets.fetch(dest=tmp_path) == []  # already there: no download
    assert len(calls) == 1
    assert len(assets.fetch(dest=tmp_path, force=True)) == 2
    (tmp_path / "@demo/pkg/dist/a.js").unlink()  # a lost file is fetched again
    assert len(assets.fetch(dest=tmp_path)) == 2


def test_fetch_rejects_a_tampered_tarball(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    good = _tarball({"LICENSE": b"MIT"})
    bad = _tarball({"LICENSE": b"MIT, changed"})
    monkeypatch.setattr(assets, "load_manifest", lambda: _fake_manifest(good, ("LICENSE",)))
    monkeypatch.setattr(assets, "_download", lambda _url, *, timeout: bad)  # noqa: ARG005
    with pytest.raises(
        assets.AssetError, match=r"@demo/pkg@1\.0\.0: the downloaded tarball's sha512"
    ):
        assets.fetch(dest=tmp_path)
    assert not (tmp_path / "@demo").exists()


def test_fetch_names_a_file_missing_from_the_tarball(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = _tarball({"LICENSE": b"MIT"})
    monkeypatch.setattr(
        assets, "load_manifest", lambda: _fake_manifest(data, ("LICENSE", "dist/b.js"))
    )
    monkeypatch.setattr(assets, "_download", lambda _url, *, timeout: data)  # noqa: ARG005
    with pytest.raises(assets.AssetError, match=r"\['dist/b\.js'\] are not in the tarball"):
        assets.fetch(dest=tmp_path)


@pytest.mark.assets
def test_licences_file_is_current() -> None:
    committed = (assets.vendor_dir() / "LICENSES.md").read_text(encoding="utf-8")
    assert committed == assets.licences_markdown()
    assert committed.count("\n## ") == len(assets.load_manifest().packages)


def test_cli_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert assets.main(["list"]) == 0
    assert "leaflet@1.9.3\tBSD-2-Clause" in capsys.readouterr().out


@pytest.mark.assets
def test_inlined_map_works_with_the_network_unplugged(browser, tmp_path: Path) -> None:
    page_path = tmp_path / "map.html"
    page_path.write_text(assets.inline(_map_html()), encoding="utf-8")
    with browser.open(page_path, offline=True) as (page, log):
        page.wait_for_selector("path.leaflet-interactive")
        assert page.locator("path.leaflet-interactive").count() == 1
        assert page.evaluate("typeof L.control.fullscreen") == "function"
        assert page.locator(".leaflet-control-measure").count() == 1
        page.evaluate("document.fonts.ready.then(() => true)")
        assert page.evaluate("document.fonts.check('900 16px \"Font Awesome 6 Free\"')")
        page.click(".awesome-marker-icon-blue")
        assert page.inner_text(".leaflet-popup-content") == "幼儿园"
        icons = page.evaluate(
            "Array.from(document.querySelectorAll('img.leaflet-marker-icon')).map(i => i.src)"
        )
        assert len(icons) == 1
        assert icons[0].startswith("data:image/png;base64,")
        browser.screenshot(page, "assets_offline_map")
    assert log.requests == [page_path.as_uri()]  # the page itself, nothing else
    assert log.blocked == []
    assert log.errors == []
