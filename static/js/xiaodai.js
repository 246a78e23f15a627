// xiaodai front-end glue. No inline scripts (the CSP forbids them): pages put chart options in a
// <script type="application/json"> island next to an element with data-chart="<island id>".
(function () {
  "use strict";

  function renderCharts(root) {
    if (typeof echarts === "undefined") return;
    root.querySelectorAll("[data-chart]").forEach(function (el) {
      var island = document.getElementById(el.dataset.chart);
      if (!island || el.dataset.rendered) return;
      var option = JSON.parse(island.textContent);
      // A bar for one sub-branch or one day would otherwise fill the whole width.
      (Array.isArray(option.series) ? option.series : []).forEach(function (s) {
        if (s.type === "bar" && s.barMaxWidth === undefined) s.barMaxWidth = 56;
      });
      var chart = echarts.init(el, null, { renderer: "canvas" });
      chart.setOption(option);
      el.dataset.rendered = "1";
      window.addEventListener("resize", function () { chart.resize(); });
    });
  }

  // Keyboard: "/" jumps to the search box; "j"/"k" move through table rows; Enter opens the row.
  function onKey(event) {
    var tag = (event.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select") return;
    if (event.key === "/") {
      var search = document.querySelector("[data-search]");
      if (search) { event.preventDefault(); search.focus(); search.select(); }
      return;
    }
    var rows = Array.prototype.slice.call(document.querySelectorAll("tr[data-href]"));
    if (!rows.length) return;
    var current = rows.findIndex(function (r) { return r.classList.contains("table-active"); });
    if (event.key === "j" || event.key === "k") {
      var next = event.key === "j" ? Math.min(current + 1, rows.length - 1) : Math.max(current - 1, 0);
      rows.forEach(function (r) { r.classList.remove("table-active"); });
      rows[next].classList.add("table-active");
      rows[next].scrollIntoView({ block: "nearest" });
    } else if (event.key === "Enter" && current >= 0) {
      window.location = rows[current].dataset.href;
    }
  }

  // Forms with data-confirm="question" ask before they submit (e.g. rolling back an import run).
  function onSubmit(event) {
    var form = event.target;
    if (form && form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  }

  // A <select data-autosubmit> submits its form on change (the pool chooser of the inventory page).
  function onChange(event) {
    var el = event.target;
    if (el && el.matches && el.matches("select[data-autosubmit]") && el.form) { el.form.requestSubmit(); }
  }

  document.addEventListener("DOMContentLoaded", function () { renderCharts(document); });
  document.addEventListener("submit", onSubmit);
  document.addEventListener("change", onChange);
  document.addEventListener("htmx:afterSwap", function (e) { renderCharts(e.target); });
  document.addEventListener("keydown", onKey);
})();
