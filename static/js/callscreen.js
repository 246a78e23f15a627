// The call screen's keyboard: 1-9 pick the outcome, Ctrl+Enter saves and moves on, N skips, R reveals the
// number. Objection tabs show their rebuttals; "Used" fills the objection and rebuttal fields. The save
// button disables itself on submit so a double click cannot send twice (the server refuses a second copy).
(function () {
  "use strict";

  function typing(target) {
    var tag = (target.tagName || "").toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select";
  }

  function form() { return document.querySelector("[data-call-form]"); }

  function onKey(event) {
    var f = form();
    if (!f) return;
    if ((event.ctrlKey || event.metaKey) && event.key === "Enter") {
      event.preventDefault();
      var save = f.querySelector("[data-save]");
      if (save && !save.disabled) { f.requestSubmit(save); }
      return;
    }
    if (typing(event.target) || event.altKey || event.ctrlKey || event.metaKey) return;
    var radio = f.querySelector('input[name="outcome"][data-key="' + event.key + '"]');
    if (radio) { event.preventDefault(); radio.checked = true; radio.focus(); return; }
    var shortcut = document.querySelector('[data-shortcut="' + event.key.toLowerCase() + '"]');
    if (shortcut) {
      event.preventDefault();
      if (shortcut.tagName.toLowerCase() === "a") { window.location = shortcut.href; } else { shortcut.click(); }
    }
  }

  function onClick(event) {
    var tab = event.target.closest("[data-objection-tab]");
    if (tab) {
      var code = tab.dataset.objectionTab;
      document.querySelectorAll("[data-objection-pane]").forEach(function (pane) {
        pane.classList.toggle("d-none", pane.dataset.objectionPane !== code);
      });
      document.querySelectorAll("[data-objection-tab]").forEach(function (b) {
        b.classList.toggle("active", b === tab);
      });
      var select = document.getElementById("id_objection");
      if (select) { select.value = code; }
      return;
    }
    var use = event.target.closest("[data-use-rebuttal]");
    if (use) {
      document.getElementById("id_objection").value = use.dataset.objection;
      document.getElementById("id_rebuttal").value = use.dataset.useRebuttal;
      use.classList.add("active");
    }
  }

  function onSubmit(event) {
    var f = event.target;
    if (!f.matches || !f.matches("[data-call-form]")) return;
    var save = f.querySelector("[data-save]");
    if (save) { setTimeout(function () { save.disabled = true; }, 0); }
  }

  document.addEventListener("keydown", onKey);
  document.addEventListener("click", onClick);
  document.addEventListener("submit", onSubmit);
})();
