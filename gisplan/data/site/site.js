/* gisplan public-consultation site: community search and maps. No network, no eval. */
(function () {
  "use strict";

  function norm(s) {
    s = String(s || "");
    if (s.normalize) { s = s.normalize("NFKC"); }
    return s.toLowerCase().replace(/\s+/g, "");
  }

  var highlight = null;

  function drawMap() {
    var holder = document.getElementById("map");
    var source = document.getElementById("map-data");
    if (!holder || !source || typeof L === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    var map = L.map(holder, { scrollWheelZoom: false, zoomSnap: 0.25 });
    if (data.basemap === "osm") {
      L.tileLayer("https://tile.openstreetmap.org/{z}/{x}/{y}.png", {
        maxZoom: 19,
        attribution: "&copy; OpenStreetMap contributors"
      }).addTo(map);
    }
    var base = { color: "#a61b1b", weight: 2, fillColor: "#e5534b", fillOpacity: 0.35 };
    var dim = { color: "#8c959f", weight: 1, fillColor: "#afb8c1", fillOpacity: 0.15 };
    var byId = {};
    var layer = L.geoJSON(data.features, {
      style: function () { return base; },
      onEachFeature: function (feature, item) {
        var p = feature.properties;
        var tip = document.createElement("span");
        tip.textContent = p.name;
        item.bindTooltip(tip, { sticky: true });
        if (p.href) {
          item.on("click", function () { window.location.href = p.href; });
        }
        byId[p.id] = item;
      }
    }).addTo(map);
    function fit() {
      map.invalidateSize({ animate: false });
      if (layer.getLayers().length) {
        map.fitBounds(layer.getBounds(), { padding: [16, 16], maxZoom: 17, animate: false });
      } else {
        map.setView([35, 105], 4, { animate: false });
      }
    }
    fit();
    // Printed on A4 the map has a fixed size (site.css, html.printing): take that size
    // before the browser lays out the print, fit the polygons, and go back afterwards.
    var root = document.documentElement;
    window.addEventListener("beforeprint", function () {
      root.classList.add("printing");
      fit();
    });
    window.addEventListener("afterprint", function () {
      root.classList.remove("printing");
      fit();
    });
    L.control.scale({ imperial: false }).addTo(map);
    highlight = function (ids) {
      var hits = [];
      Object.keys(byId).forEach(function (id) {
        var hit = ids === null || ids[id];
        byId[id].setStyle(hit ? base : dim);
        if (hit) { hits.push(byId[id]); }
      });
      // show the communities found (all of them when the box is cleared)
      if (hits.length) {
        map.fitBounds(L.featureGroup(hits).getBounds(), { padding: [16, 16], maxZoom: 17 });
      }
    };
  }

  function wireSearch() {
    var box = document.getElementById("search");
    var list = document.getElementById("community-list");
    if (!box || !list) { return; }
    var items = Array.prototype.slice.call(list.querySelectorAll("li[data-search]"));
    var count = document.getElementById("search-count");
    var empty = document.getElementById("search-empty");
    function run() {
      var q = norm(box.value);
      var shown = 0;
      var ids = q ? {} : null;
      items.forEach(function (li) {
        var hit = !q || li.getAttribute("data-search").indexOf(q) !== -1;
        li.hidden = !hit;
        if (hit) {
          shown += 1;
          if (ids) { ids[li.getAttribute("data-id")] = true; }
        }
      });
      count.textContent = q ? "找到 " + shown + " 个小区" : "共 " + items.length + " 个小区";
      empty.hidden = shown !== 0;
      empty.textContent = shown === 0 ? "没有找到与“" + box.value + "”相符的小区，请换个写法再试。" : "";
      if (highlight) { highlight(ids); }
    }
    box.addEventListener("input", run);
    if (box.value) { run(); }
  }

  drawMap();
  wireSearch();
}());
