// Small behaviours that would otherwise be inline handlers. The Content-Security-Policy allows
// scripts only from files under /static/ (script-src 'self'), so nothing here may be inline.
(function () {
  "use strict";
  // <select data-autosubmit>: submit its form on change (the language switcher).
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el && el.matches && el.matches("select[data-autosubmit]") && el.form) el.form.submit();
  });
  // Region tree: a toggle that has loaded its children is marked expanded and disabled.
  document.addEventListener("htmx:afterRequest", function (event) {
    var el = event.detail && event.detail.elt;
    if (el && el.classList && el.classList.contains("tree-toggle") && event.detail.successful) {
      el.setAttribute("aria-expanded", "true");
      el.disabled = true;
    }
  });
  // Copy buttons (API token, 2FA secret): <button data-copy="#selector">.
  document.addEventListener("click", function (event) {
    var btn = event.target && event.target.closest ? event.target.closest("[data-copy]") : null;
    if (!btn || !navigator.clipboard) return;
    var source = document.querySelector(btn.getAttribute("data-copy"));
    if (!source) return;
    navigator.clipboard.writeText(source.textContent.trim()).then(function () {
      btn.textContent = btn.getAttribute("data-copied") || "已复制";
    });
  });
})();
