// Field work: fill hidden lat/lng/accuracy inputs of <form data-geo> from the browser's
// geolocation, and show the status in [data-geo-status]. Loaded as a static file: the
// Content-Security-Policy forbids inline scripts.
(function () {
  "use strict";
  function locate(form) {
    var status = form.querySelector("[data-geo-status]");
    function say(text, cls) {
      if (!status) return;
      status.textContent = text;
      status.className = "fw-geo " + (cls || "");
    }
    if (!navigator.geolocation) {
      say(status ? status.getAttribute("data-none") || "此设备不支持定位" : "", "bad");
      return;
    }
    say(status ? status.getAttribute("data-wait") || "正在定位…" : "", "");
    navigator.geolocation.getCurrentPosition(
      function (pos) {
        var c = pos.coords;
        form.querySelector("input[name=lat]").value = c.latitude.toFixed(6);
        form.querySelector("input[name=lng]").value = c.longitude.toFixed(6);
        var acc = form.querySelector("input[name=accuracy]");
        if (acc) acc.value = Math.round(c.accuracy);
        say((status.getAttribute("data-ok") || "已定位") + " " + c.latitude.toFixed(5) + ", " + c.longitude.toFixed(5) + " ±" + Math.round(c.accuracy) + "m", "ok");
      },
      function (err) {
        say((status ? status.getAttribute("data-fail") || "定位失败" : "") + "（" + err.message + "）", "bad");
      },
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 30000 }
    );
  }
  document.querySelectorAll("form[data-geo]").forEach(function (form) {
    if (!form.querySelector("input[name=lat]").value) locate(form);
    var again = form.querySelector("[data-geo-again]");
    if (again) again.addEventListener("click", function () { locate(form); });
  });
  // A "fail" verdict reveals the hazard details of that checklist item.
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (!el || !el.matches || !el.matches("input[data-verdict]")) return;
    var detail = document.getElementById(el.getAttribute("data-verdict"));
    if (detail) detail.hidden = el.value !== "fail";
  });
  // Buttons that open a <dialog>: <button data-open="id">, closed by [data-close] inside it.
  document.addEventListener("click", function (event) {
    var t = event.target && event.target.closest ? event.target.closest("[data-fw-open]") : null;
    if (t) {
      var d = document.getElementById(t.getAttribute("data-fw-open"));
      if (d && d.showModal) d.showModal();
    }
  });
})();
