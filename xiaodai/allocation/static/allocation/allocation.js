// Claim and allocation pages. A header checkbox with data-check-all="<name>" ticks every checkbox of that
// name in its form; an allocation form shows the people or the teams list as its target choice says.
(function () {
  "use strict";

  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el && el.dataset && el.dataset.checkAll && el.form) {
      el.form.querySelectorAll('input[type="checkbox"][name="' + el.dataset.checkAll + '"]').forEach(function (box) {
        box.checked = el.checked;
      });
    }
    if (el && el.name === "target") { showTargets(); }
  });

  function showTargets() {
    var chosen = document.querySelector('input[name="target"]:checked');
    document.querySelectorAll("[data-target-list]").forEach(function (box) {
      box.hidden = chosen ? box.dataset.targetList !== chosen.value : false;
    });
  }

  // A button with data-confirm asks before it submits (the form's other buttons do not).
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button[data-confirm]") : null;
    if (button && !window.confirm(button.dataset.confirm)) { event.preventDefault(); }
  });

  document.addEventListener("DOMContentLoaded", showTargets);
})();
