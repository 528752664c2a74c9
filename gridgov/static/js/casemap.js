// Case screens: pick a location on the report forms, show the case on its detail page, open the
// dispatch dialog, and apply a suggested category. No basemap unless a tile URL is configured.
(function () {
  "use strict";
  function baseMap(el, lat, lng, zoom) {
    var map = L.map(el, { attributionControl: !!el.dataset.tileUrl });
    if (el.dataset.tileUrl) L.tileLayer(el.dataset.tileUrl, { maxZoom: 19 }).addTo(map);
    map.setView([lat, lng], zoom);
    return map;
  }
  var pick = document.getElementById("pickmap");
  if (pick && typeof L !== "undefined") {
    var lat0 = parseFloat(pick.dataset.lat) || 30.16, lng0 = parseFloat(pick.dataset.lng) || 120.27;
    var map = baseMap(pick, lat0, lng0, pick.dataset.lat ? 15 : 11);
    // The reporter's grid (or jurisdiction) outline, passed as JSON by the page (json_script):
    // it orients people on a map without tiles, and the map opens fitted to it.
    var outlineEl = document.getElementById("grid-outline"), outline = null;
    try { outline = outlineEl ? JSON.parse(outlineEl.textContent) : null; } catch (err) { outline = null; }
    if (outline && outline.geometry) {
      var shape = L.geoJSON(outline, { style: { color: "#b8322a", weight: 2, fillOpacity: 0.06 }, interactive: false }).addTo(map);
      var bounds = shape.getBounds();
      if (bounds.isValid()) map.fitBounds(bounds, { padding: [12, 12] });
    }
    var latIn = document.getElementById("id_lat"), lngIn = document.getElementById("id_lng");
    var label = document.getElementById("picked"), marker = null;
    var set = function (lat, lng) {
      latIn.value = lat.toFixed(6); lngIn.value = lng.toFixed(6);
      if (marker) marker.setLatLng([lat, lng]); else marker = L.marker([lat, lng]).addTo(map);
      if (label) label.textContent = "已定位：" + lat.toFixed(5) + ", " + lng.toFixed(5);
      document.body.dispatchEvent(new Event("located"));
    };
    if (latIn.value && lngIn.value) { set(parseFloat(latIn.value), parseFloat(lngIn.value)); map.setView([latIn.value, lngIn.value], 16); }
    map.on("click", function (e) { set(e.latlng.lat, e.latlng.lng); });
    var gps = document.getElementById("use-gps");
    if (gps && navigator.geolocation) {
      gps.addEventListener("click", function () {
        navigator.geolocation.getCurrentPosition(function (p) {
          set(p.coords.latitude, p.coords.longitude); map.setView([p.coords.latitude, p.coords.longitude], 17);
        }, function () { if (label) label.textContent = "无法获取当前位置，请在地图上点选"; });
      });
    } else if (gps) { gps.hidden = true; }
  }
  var show = document.getElementById("casemap");
  if (show && typeof L !== "undefined") {
    var lat = parseFloat(show.dataset.lat), lng = parseFloat(show.dataset.lng);
    var m = baseMap(show, lat, lng, 16);
    L.marker([lat, lng]).addTo(m);
    if (show.dataset.region) {
      fetch(show.dataset.region, { credentials: "same-origin" }).then(function (r) { return r.ok ? r.json() : null; })
        .then(function (gj) { if (gj) L.geoJSON(gj, { style: { color: "#b8322a", weight: 2, fillOpacity: 0.08 } }).addTo(m); })
        .catch(function () {});
    }
  }
  document.addEventListener("click", function (e) {
    var t = e.target.closest ? e.target.closest("[data-open],[data-close],.chip[data-category]") : null;
    if (!t) return;
    if (t.dataset.open) { var d = document.getElementById(t.dataset.open); if (d && d.showModal) d.showModal(); }
    if (t.hasAttribute("data-close")) { var dlg = t.closest("dialog"); if (dlg) dlg.close(); }
    if (t.dataset.category) {
      var sel = document.getElementById("id_category");
      if (sel) { sel.value = t.dataset.category; sel.dispatchEvent(new Event("change", { bubbles: true })); }
    }
  });
})();
