// Region map: the node's children (or the node itself) as polygons; click one to open it.
// No basemap unless a tile URL is configured: intranet deployments have no internet tiles.
(function () {
  "use strict";
  var el = document.getElementById("map");
  if (!el || typeof L === "undefined") return;
  var map = L.map(el, { zoomSnap: 0.25, attributionControl: !!el.dataset.tileUrl });
  if (el.dataset.tileUrl) {
    L.tileLayer(el.dataset.tileUrl, { attribution: el.dataset.tileAttribution || "", maxZoom: 19 }).addTo(map);
  }
  var palette = ["#2f6fb3", "#3a9d6a", "#c7862f", "#8a5cb8", "#c24f4f", "#2a9aa3", "#7a8a2f", "#b35c8a"];
  function style(feature) {
    var n = 0, code = feature.properties.code || "";
    for (var i = 0; i < code.length; i++) n = (n * 31 + code.charCodeAt(i)) % 9973;
    var c = palette[n % palette.length];
    return { color: "#ffffff", weight: 1, fillColor: c, fillOpacity: 0.55 };
  }
  function load(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (r) {
      if (!r.ok) throw new Error(r.status);
      return r.json();
    });
  }
  var detailUrl = el.dataset.detailUrl;
  Promise.all([load(el.dataset.self), load(el.dataset.geojson)]).then(function (res) {
    var outline = L.geoJSON(res[0], { style: { color: "#1d2b3a", weight: 2, fill: false } }).addTo(map);
    var layer = L.geoJSON(res[1], {
      style: style,
      onEachFeature: function (f, l) {
        var p = f.properties;
        l.bindTooltip(p.name + "<br><small>" + p.code + " · " + (p.households || 0) + " 户</small>", { sticky: true });
        l.on("click", function () { window.location.href = detailUrl.replace("CODE", p.code); });
        l.on("mouseover", function () { l.setStyle({ fillOpacity: 0.8 }); });
        l.on("mouseout", function () { layer.resetStyle(l); });
      },
    }).addTo(map);
    var bounds = outline.getBounds().isValid() ? outline.getBounds() : layer.getBounds();
    if (bounds.isValid()) map.fitBounds(bounds, { padding: [10, 10] });
    else map.setView([30.16, 120.27], 10);
  }).catch(function () {
    el.classList.add("map-error");
    el.textContent = el.dataset.errorText || "地图数据加载失败";
  });
})();
