// Command centre: child-region polygons coloured by warning level, open-case markers and a heat
// layer on a Leaflet map (no basemap unless a tile URL is configured), the 30-day trend with
// ECharts, a clock on the big screen. Data comes from /api/v1/dashboard (rollups); the map is
// recoloured every minute. No inline script anywhere: the CSP allows files under /static/ only.
(function () {
  "use strict";
  var COLOURS = { green: "#2e9d5b", yellow: "#d99a1e", red: "#cf3a3a", "": "#8a96a3" };
  var REFRESH_MS = 60000;

  function load(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (r) {
      if (!r.ok) throw new Error(String(r.status));
      return r.json();
    });
  }

  function escapeHtml(s) {
    return String(s == null ? "" : s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  // --- map -------------------------------------------------------------------------------------
  var el = document.getElementById("dash-map");
  if (el && typeof L !== "undefined") {
    var dark = document.body.classList.contains("screen");
    var map = L.map(el, { zoomSnap: 0.25, attributionControl: !!el.dataset.tileUrl, preferCanvas: true });
    if (el.dataset.tileUrl) {
      L.tileLayer(el.dataset.tileUrl, { attribution: el.dataset.tileAttribution || "", maxZoom: 19 }).addTo(map);
    }
    var levels = {};
    var stats = {};
    var regions = null;
    var markerLayer = L.layerGroup().addTo(map);
    var heatLayer = L.layerGroup();
    var overlays = {};
    overlays[el.dataset.labelCases || "cases"] = markerLayer;
    overlays[el.dataset.labelHeat || "heat"] = heatLayer;
    L.control.layers(null, overlays, { collapsed: false }).addTo(map);

    var style = function (feature) {
      var level = levels[feature.properties.code] || "green";
      return { color: dark ? "#0b1a2e" : "#ffffff", weight: 1, fillColor: COLOURS[level], fillOpacity: dark ? 0.5 : 0.45 };
    };
    var tooltip = function (p) {
      var s = stats[p.code] || {};
      return "<b>" + escapeHtml(p.name) + "</b><br>在办 " + (s.open || 0) + " · 超期 " + (s.red || 0) + " · 临期 " + (s.yellow || 0);
    };

    var refreshSummary = function () {
      return load(el.dataset.summary).then(function (data) {
        data.children.forEach(function (c) { levels[c.code] = c.level; stats[c.code] = c; });
        if (regions) {
          regions.setStyle(style);
          regions.eachLayer(function (l) { l.setTooltipContent(tooltip(l.feature.properties)); });
        }
        return data;
      });
    };

    var refreshMarkers = function () {
      return load(el.dataset.markers).then(function (data) {
        markerLayer.clearLayers();
        heatLayer.clearLayers();
        data.markers.forEach(function (m) {
          L.circleMarker([m.lat, m.lng], {
            radius: m.c === "red" ? 6 : 4, color: COLOURS[m.c], weight: 1, fillColor: COLOURS[m.c], fillOpacity: 0.9,
          }).bindTooltip(escapeHtml(m.n) + " · " + escapeHtml(m.cat)).addTo(markerLayer);
          L.circle([m.lat, m.lng], { radius: 600, stroke: false, fillColor: "#ff5a36", fillOpacity: 0.12 }).addTo(heatLayer);
        });
      });
    };

    Promise.all([load(el.dataset.self), load(el.dataset.geojson), refreshSummary()]).then(function (res) {
      var outline = L.geoJSON(res[0], { style: { color: dark ? "#5fb4ff" : "#1d2b3a", weight: 2, fill: false } }).addTo(map);
      regions = L.geoJSON(res[1], {
        style: style,
        onEachFeature: function (f, l) {
          l.bindTooltip(tooltip(f.properties), { sticky: true });
          if (el.dataset.canDrill) {
            l.on("click", function () { window.location.href = el.dataset.drillUrl.replace("CODE", encodeURIComponent(f.properties.code)); });
          }
          l.on("mouseover", function () { l.setStyle({ fillOpacity: 0.75 }); });
          l.on("mouseout", function () { regions.resetStyle(l); });
        },
      }).addTo(map);
      regions.bringToBack();
      var bounds = outline.getBounds().isValid() ? outline.getBounds() : regions.getBounds();
      if (bounds.isValid()) map.fitBounds(bounds, { padding: [8, 8] });
      else map.setView([30.16, 120.27], 10);
      return refreshMarkers();
    }).catch(function () {
      el.classList.add("map-error");
      el.textContent = el.dataset.errorText || "地图数据加载失败";
    });
    window.setInterval(function () { refreshSummary().then(refreshMarkers).catch(function () {}); }, REFRESH_MS);
  }

  // --- trend -----------------------------------------------------------------------------------
  var chartEl = document.getElementById("dash-trend");
  if (chartEl && typeof echarts !== "undefined") {
    var isDark = !!chartEl.dataset.dark;
    var chart = echarts.init(chartEl, isDark ? "dark" : null, { renderer: "canvas" });
    var draw = function (t) {
      chart.setOption({
        backgroundColor: "transparent",
        tooltip: { trigger: "axis" },
        legend: { top: 0 },
        grid: { left: 40, right: 48, top: 32, bottom: 28 },
        xAxis: { type: "category", data: t.days },
        yAxis: [{ type: "value", minInterval: 1 }, { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } }],
        series: [
          { name: chartEl.dataset.labelReported, type: "bar", data: t.reported, itemStyle: { color: "#2f6fb3" } },
          { name: chartEl.dataset.labelClosed, type: "bar", data: t.closed, itemStyle: { color: "#2e9d5b" } },
          { name: chartEl.dataset.labelOnTime, type: "line", yAxisIndex: 1, data: t.on_time, connectNulls: true, itemStyle: { color: "#d99a1e" } },
        ],
      });
    };
    var refreshTrend = function () { return load(chartEl.dataset.summary).then(function (d) { draw(d.trend); }); };
    refreshTrend().catch(function () {});
    window.addEventListener("resize", function () { chart.resize(); });
    window.setInterval(function () { refreshTrend().catch(function () {}); }, REFRESH_MS);
  }

  // --- big-screen clock ---------------------------------------------------------------------------
  var clockEl = document.getElementById("screen-clock");
  if (clockEl) {
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    var tick = function () {
      var d = new Date();
      clockEl.textContent = d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " + pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds());
    };
    tick();
    window.setInterval(tick, 1000);
  }
})();
