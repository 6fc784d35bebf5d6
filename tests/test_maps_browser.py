"""Maps opened in headless Chromium with the network unplugged, as a person would use them."""

from __future__ import annotations

from pathlib import Path

import pytest
from _browser import browser_fixture
from test_maps import XSS, run_layers

from gisplan import maps

browser = browser_fixture()

#: Every test here opens maps or pages that embed the fetched map scripts.
pytestmark = pytest.mark.assets


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("maps")
    layers = run_layers()
    return {
        "overview_osm": maps.save(
            maps.explore(layers, "overview", basemap="osm"), folder / "o.html"
        ),
        "eligibility": maps.save(
            maps.explore(layers, "eligibility", basemap="none"), folder / "e.html"
        ),
        "canvas": maps.save(
            maps.explore(
                layers, "gaps", options=maps.MapOptions(basemap="none", canvas_threshold=2)
            ),
            folder / "c.html",
        ),
    }


def test_polygons_draw_and_popups_work_offline(browser, pages) -> None:
    with browser.open(pages["eligibility"], viewport=(900, 600)) as (page, log):
        page.wait_for_selector("path.leaflet-interactive")
        # three community squares drawn as SVG paths, and the Leaflet layer knows three
        assert page.locator("path.leaflet-interactive").count() == 3
        assert page.evaluate("gisplan.views['小区：改造资格'].getLayers().length") == 3
        # the legend counts: 2 eligible, 1 not
        legend = page.inner_text(".gp-legend")
        assert "符合条件" in legend
        assert "2 个" in legend
        assert "1 个" in legend
        # click the community named with HTML: its popup shows the characters, runs nothing
        page.evaluate(
            "(() => { const g = gisplan.views['小区：改造资格'];"
            " g.getLayers().find(l => l.feature.id === 1).openPopup(); })()"
        )
        popup = page.locator(".leaflet-popup-content")
        assert popup.locator(".gp-popup-title").inner_text() == XSS
        assert popup.locator("img").count() == 0
        assert "符合条件" in popup.inner_text()
        assert "户数（户）" in popup.inner_text()
        browser.screenshot(page, "maps_eligibility_popup")
        # clicking a polygon with the mouse opens its popup too
        page.evaluate("Object.values(window).find(v => v instanceof L.Map).closePopup()")
        page.wait_for_function("document.querySelectorAll('.gp-popup-title').length === 0")
        page.locator("path.leaflet-interactive").nth(0).click()
        assert page.locator(".gp-popup-title").inner_text() == "幸福里小区"
    assert log.dialogs == []
    assert log.errors == []
    assert log.requests == [pages["eligibility"].as_uri()]  # nothing but the page itself


def test_chinese_glyphs_render(browser, pages) -> None:
    with browser.open(pages["eligibility"], viewport=(900, 600)) as (page, _):
        page.wait_for_selector(".gp-legend")
        assert page.evaluate("document.fonts.check('14px \"Noto Sans CJK SC\"', '符合条件')")
        # a CJK glyph is wider than a Latin one in the legend font: text is not tofu/blank
        widths = page.evaluate(
            "(() => { const c = document.createElement('canvas').getContext('2d');"
            " c.font = '14px \"Noto Sans CJK SC\"';"
            " return [c.measureText('资').width, c.measureText('i').width]; })()"
        )
        assert widths[0] > 2 * widths[1]
        path = browser.screenshot(page, "maps_chinese_legend")
    assert path.stat().st_size > 10_000


def test_overview_osm_only_asks_for_tiles(browser, pages) -> None:
    with browser.open(pages["overview_osm"], viewport=(900, 600)) as (page, log):
        page.wait_for_selector("path.leaflet-interactive")
        assert page.locator(".leaflet-control-layers").count() == 1
        assert page.locator(".leaflet-control-zoom-fullscreen").count() == 1  # fullscreen
        assert page.locator(".leaflet-control-measure").count() == 1  # measure
        assert page.locator(".leaflet-control-minimap").count() == 1  # minimap
        assert page.locator(".leaflet-control-scale-line").count() == 1  # scale
        # switch on the facilities layer: two awesome markers with Font Awesome glyphs
        page.evaluate(
            "(() => { const m = Object.values(window).find(v => v instanceof L.Map);"
            " gisplan.views['现状公共服务设施'].addTo(m); })()"
        )
        assert page.locator(".awesome-marker-icon-blue").count() == 2
        assert page.locator(".awesome-marker i.fa-child").count() == 1  # kindergarten
        assert page.locator(".awesome-marker i.fa-school").count() == 1  # primary school
        glyph = page.evaluate(
            "getComputedStyle(document.querySelector('.awesome-marker i.fa-child'), '::before')"
            ".fontFamily"
        )
        assert "Font Awesome 6 Free" in glyph
        browser.screenshot(page, "maps_overview_offline")
    assert log.errors == []
    hosts = {u.split("/")[2] for u in log.blocked}
    assert hosts == {"tile.openstreetmap.org"}  # only basemap tiles wanted the network


def test_canvas_mode_draws_and_clicks(browser, pages) -> None:
    with browser.open(pages["canvas"], viewport=(900, 600)) as (page, log):
        page.wait_for_selector("canvas.leaflet-zoom-animated")
        assert page.locator("path.leaflet-interactive").count() == 0  # nothing as SVG
        assert page.evaluate("gisplan.views['小区：配套设施缺口指数'].getLayers().length") == 3
        point = page.evaluate(
            "(() => { const m = Object.values(window).find(v => v instanceof L.Map);"
            " const l = gisplan.views['小区：配套设施缺口指数'].getLayers()[2];"
            " const p = m.latLngToContainerPoint(l.getBounds().getCenter());"
            " const r = m.getContainer().getBoundingClientRect();"
            " return [p.x + r.left, p.y + r.top]; })()"
        )
        page.mouse.click(point[0], point[1])
        page.wait_for_selector(".gp-popup-title")
        assert page.inner_text(".gp-popup-title") == "He said \"hi\" & 'bye'"
        assert "Canvas" in page.inner_text(".gp-note")
        browser.screenshot(page, "maps_canvas_mode")
    assert log.errors == []
    assert log.dialogs == []
    assert log.outgoing == []
