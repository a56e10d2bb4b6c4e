// recert: the little the pages do in the browser. Everything works without it; with it,
// a refused form is summarised at the top and irreversible actions ask first.
(function () {
  "use strict";
  // GOV.UK "error summary": when a form came back with messages beside its fields, list
  // them at the top of the page, each linking to its field, move focus there, and say
  // "Error:" in the title so screen readers announce it.
  function summarise() {
    var errors = document.querySelectorAll(".field .error");
    var main = document.getElementById("main");
    if (!errors.length || !main || document.getElementById("error-summary")) return;
    var box = document.createElement("div");
    box.className = "alert error-summary";
    box.id = "error-summary";
    box.setAttribute("role", "alert");
    box.tabIndex = -1;
    var h = document.createElement("h2");
    h.textContent = "There is a problem";
    box.appendChild(h);
    var list = document.createElement("ul");
    errors.forEach(function (e) {
      var field = e.closest(".field");
      var input = field && field.querySelector("input, select, textarea");
      var label = field && field.querySelector("label");
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.href = "#" + (input ? input.id : "");
      link.textContent = (label ? label.textContent.trim() + ": " : "") + e.textContent.trim();
      item.appendChild(link);
      list.appendChild(item);
    });
    box.appendChild(list);
    main.insertBefore(box, main.firstChild);
    if (document.title.indexOf("Error: ") !== 0) document.title = "Error: " + document.title;
    box.focus();
  }
  // One confirmation for every irreversible action: a form with `data-confirm` asks it.
  document.addEventListener("submit", function (ev) {
    var msg = ev.target && ev.target.dataset ? ev.target.dataset.confirm : null;
    if (msg && !window.confirm(msg)) ev.preventDefault();
  });
  // Instants in the viewer's own time zone, to the minute, with the zone: the server
  // writes them in UTC (still right without this script).
  function localTimes() {
    if (!window.Intl || !Intl.DateTimeFormat) return;
    var fmt = new Intl.DateTimeFormat(undefined, {
      year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", timeZoneName: "short"
    });
    document.querySelectorAll("time[data-local]").forEach(function (t) {
      var d = new Date(t.getAttribute("datetime"));
      if (!isNaN(d.getTime())) {
        t.title = t.textContent;
        t.textContent = fmt.format(d);
      }
    });
  }
  function ready() {
    summarise();
    localTimes();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
})();
