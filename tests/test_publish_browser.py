"""The consultation site in headless Chromium, as a resident would use it.

The site is published once from the hand-built run of ``test_publish.make_run``: two plan
communities, c1 幸福里小区 and c3 named ``<img src=x onerror=alert(1)>``. Pages are opened
from disk (``file://``) with every non-local request aborted, and once from a loopback file
server. Screenshots and the A4 PDF go to ``tests/artifacts/``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from _browser import ARTIFACTS, browser_fixture, serve
from test_publish import XSS, make_run

from gisplan.publish import PublishOptions, publish

browser = browser_fixture()

PHONE = (390, 844)

#: Every test here opens maps or pages that embed the fetched map scripts.
pytestmark = pytest.mark.assets


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("publish")
    return publish(make_run(root / "运行结果"), root / "公示网站")


def visible_names(page: Any) -> list[str]:
    items = page.locator("#community-list li:not([hidden]) .c-name")
    return [items.nth(i).inner_text() for i in range(items.count())]


def test_search_box_finds_a_chinese_name(browser: Any, site: Path) -> None:
    with browser.open(site / "index.html") as (page, log):
        page.wait_for_selector("path.leaflet-interactive")
        assert visible_names(page) == ["幸福里小区", XSS]
        page.locator("#search").press_sequentially("幸福")
        assert visible_names(page) == ["幸福里小区"]
        assert page.locator("#search-count").inner_text() == "找到 1 个小区"
        # on the map the match keeps its colour, the other community is greyed out
        fills = page.locator("path.leaflet-interactive").evaluate_all(
            "ps => ps.map(p => p.getAttribute('fill'))"
        )
        assert fills == ["#e5534b", "#afb8c1"]
        page.locator("#search").fill("纺织厂")  # c2 is not in the plan: nothing found
        assert visible_names(page) == []
        assert page.locator("#search-empty").inner_text() == (
            "没有找到与“纺织厂”相符的小区，请换个写法再试。"
        )
        page.locator("#search").fill("onerror")  # ASCII substring of the hostile name
        assert visible_names(page) == [XSS]
        page.locator("#search").fill("")
        assert page.locator("#search-count").inner_text() == "共 2 个小区"
        browser.screenshot(page, "publish_index", full_page=True)
    assert log.outgoing == []
    assert log.errors == []
    assert log.dialogs == []


def test_community_page_offline_draws_its_polygon(browser: Any, site: Path) -> None:
    with browser.open(site / "c" / "c1.html") as (page, log):
        page.wait_for_selector("path.leaflet-interactive")
        assert page.locator("path.leaflet-interactive").count() == 1
        box = page.locator("#map path.leaflet-interactive").bounding_box()
        assert box["width"] > 50  # fitted to the map, not a dot
        assert box["height"] > 50
        assert page.locator("h1").inner_text() == "幸福里小区"
        assert page.locator("#total-wan").inner_text() == "200.00"
        assert page.locator("#funding-total").inner_text() == "200.00"
    assert log.outgoing == []
    assert log.blocked == []
    assert log.errors == []
    assert all(u.startswith("file:") for u in log.requests)


def test_hostile_name_renders_as_text(browser: Any, site: Path) -> None:
    with browser.open(site / "c" / "c3.html") as (page, log):
        page.wait_for_selector("path.leaflet-interactive")
        assert page.locator("h1").inner_text() == XSS
        assert page.locator("main img").count() == 0
        page.locator("path.leaflet-interactive").hover()
        tooltip = page.locator(".leaflet-tooltip")
        tooltip.wait_for()
        assert tooltip.inner_text() == XSS
        assert tooltip.locator("img").count() == 0
    assert log.dialogs == []
    assert log.errors == []
    assert not any(u.endswith("/x") for u in log.requests)


def test_phone_screenshot_and_a4_pdf(browser: Any, site: Path) -> None:
    with browser.open(site / "c" / "c1.html", viewport=PHONE) as (page, log):
        page.wait_for_selector("path.leaflet-interactive")
        # nothing wider than the phone: no sideways scrolling
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE[0]
        # the quantity and payer columns fold under the item name on a phone
        assert not page.locator("table.items th.wide").first.is_visible()
        assert page.locator(".item-meta").first.inner_text() == "120 户 · 专营单位"
        shot = browser.screenshot(page, "publish_community_phone")
        assert shot.stat().st_size > 10_000
        # what a browser does when the user prints: beforeprint, then the print layout
        page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
        page.emulate_media(media="print")
        assert not page.locator(".back").is_visible()  # navigation is not printed
        # the map takes its paper size and the polygon is fitted to it (centred)
        map_box = page.locator("#map").bounding_box()
        assert (map_box["width"], map_box["height"]) == (680, 300)
        poly = page.locator("#map path.leaflet-interactive").bounding_box()
        centre = poly["x"] + poly["width"] / 2 - map_box["x"]
        assert centre == pytest.approx(340, abs=3)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        pdf = ARTIFACTS / "publish_community_a4.pdf"
        page.pdf(path=str(pdf), format="A4", print_background=True)
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    # A4 is 210 x 297 mm = 595 x 842 pt: the MediaBox of every page
    boxes = {
        tuple(float(v) for v in m.split()) for m in re.findall(rb"/MediaBox \[([^\]]*)\]", data)
    }
    assert len(boxes) == 1
    (x0, y0, x1, y1) = boxes.pop()
    assert (x0, y0) == (0, 0)
    assert (x1, y1) == (pytest.approx(595, abs=1.5), pytest.approx(842, abs=1.5))
    assert log.errors == []


def test_served_index_map_links_to_the_community_page(browser: Any, site: Path) -> None:
    with serve(site) as base, browser.open(base + "index.html") as (page, log):
        page.wait_for_selector("path.leaflet-interactive")
        assert page.locator("path.leaflet-interactive").count() == 2
        box = page.locator("path.leaflet-interactive").first.bounding_box()
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.wait_for_url("**/c/c1.html")
        assert page.locator("h1").inner_text() == "幸福里小区"
    assert log.outgoing == []
    assert log.errors == []


def test_osm_basemap_offline_only_tiles_are_missing(
    browser: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    root = tmp_path_factory.mktemp("osm")
    site = publish(make_run(root / "run"), root / "site", options=PublishOptions(basemap="osm"))
    with browser.open(site / "c" / "c1.html") as (page, log):
        page.wait_for_selector("path.leaflet-interactive")
        page.wait_for_timeout(200)
    assert log.blocked
    assert all(u.startswith("https://tile.openstreetmap.org/") for u in log.blocked)
    assert log.errors == []
