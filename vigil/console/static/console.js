// The review console's keyboard flow and claim renewal. No inline scripts anywhere (the CSP forbids them).
(function () {
  "use strict";
  var body = document.body;
  var meta = document.querySelector('meta[name="csrf-token"]');
  var csrf = meta ? meta.getAttribute("content") : "";

  function typing(target) {
    return target && target.closest && target.closest("input, textarea, select, [contenteditable]");
  }

  function hint(text) {
    var box = document.getElementById("key-hint");
    if (!box) {
      box = document.createElement("p");
      box.id = "key-hint";
      box.className = "banner notice";
      box.setAttribute("role", "status");
      var main = document.querySelector("main");
      main.insertBefore(box, main.firstChild);
    }
    box.textContent = text;
  }

  function openEvidence() {
    var opened = false;
    ["flagged-evidence", "full-text", "other-evidence"].forEach(function (id) {
      var details = document.getElementById(id);
      if (details) { details.open = true; opened = true; }
    });
    var section = document.getElementById("evidence");
    if (opened && section) { section.scrollIntoView({block: "start"}); }
  }

  function documentPage() {
    var form = document.getElementById("decision-form");
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && typing(event.target)) { event.target.blur(); return; }
      if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) { return; }
      var key = event.key;
      if (key === "j" && body.dataset.nextUrl) { event.preventDefault(); location.assign(body.dataset.nextUrl); return; }
      if (key === "k" && body.dataset.prevUrl) { event.preventDefault(); location.assign(body.dataset.prevUrl); return; }
      if (key === "o") { event.preventDefault(); openEvidence(); return; }
      if (!form) { return; }
      if (key === "r") {  // the reason menu: arrows or the first letters choose, Esc comes back to the keys
        var menu = document.getElementById("reason");
        if (menu && !menu.disabled) { event.preventDefault(); menu.focus(); }
        return;
      }
      var button = form.querySelector('button[data-key="' + key + '"]');
      if (!button) { return; }
      event.preventDefault();
      if (button.matches(":disabled")) { hint("Another reviewer holds this item: take the next one (j)."); return; }
      if (!button.formNoValidate && !form.checkValidity()) {
        var reason = document.getElementById("reason");
        hint("Choose a reason first (arrows in the menu), then Esc and " + key + " again.");
        if (reason) { reason.focus(); }
        return;
      }
      form.requestSubmit(button);
    });

    var docId = body.dataset.docId;
    var lease = parseInt(body.dataset.leaseS || "600", 10);
    if (docId && body.dataset.claimed === "yes") {
      var every = Math.max(5, Math.floor(lease / 3)) * 1000;
      window.setInterval(function () {
        fetch("/api/claims/" + encodeURIComponent(docId), {
          method: "POST", credentials: "same-origin", headers: {"X-CSRF-Token": csrf}
        }).then(function (response) {
          if (response.status === 409) { hint("Your claim on this item lapsed and another reviewer took it."); }
          else if (response.status === 401) { hint("Your session ended: log in again."); }
        }).catch(function () { /* offline for a moment: the next renewal tries again */ });
      }, every);
    }
  }

  function queuePage() {
    var all = document.getElementById("select-all");
    if (all) {
      all.addEventListener("change", function () {
        document.querySelectorAll('input[name="ids"]').forEach(function (box) {
          if (!box.disabled) { box.checked = all.checked; }
        });
      });
    }
    var links = Array.prototype.slice.call(document.querySelectorAll("#items a.open"));
    var start = document.getElementById("start");
    var current = -1;
    document.addEventListener("keydown", function (event) {
      if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target) && event.target.type !== "checkbox") { return; }
      if (event.key === "s" && start) { event.preventDefault(); location.assign(start.href); return; }
      if (!links.length) { return; }
      if (event.key === "j" || event.key === "k") {
        event.preventDefault();
        current = Math.max(0, Math.min(links.length - 1, current + (event.key === "j" ? 1 : -1)));
        links[current].focus();
      } else if (event.key === "x" && current >= 0) {
        event.preventDefault();
        var box = links[current].closest("tr").querySelector('input[name="ids"]');
        if (box && !box.disabled) { box.checked = !box.checked; }
      } else if (event.key === "o" && current >= 0) {
        event.preventDefault();
        location.assign(links[current].href);
      }
    });
  }

  if (body.dataset.page === "document") { documentPage(); }
  if (body.dataset.page === "queue") { queuePage(); }
})();
