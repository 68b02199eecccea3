// Small enhancements; every page works without this script.
"use strict";
// With the script running, reference pickers search by name, so the raw id box can hide.
document.documentElement.classList.add("js");
document.addEventListener("submit", function (e) {
  var msg = e.target.getAttribute && e.target.getAttribute("data-confirm");
  if (msg && !window.confirm(msg)) { e.preventDefault(); }
}, true);

// A date-time input has no zone. The page gives it in UTC; shown in the browser's time instead,
// and sent back with the browser's offset from UTC for that date. (Without this script both
// stay UTC.)
document.querySelectorAll("input[type=datetime-local][data-utc]").forEach(function (input) {
  var utc = input.getAttribute("data-utc");
  if (!utc) { return; }
  var t = new Date(utc + ":00Z");
  if (isNaN(t.getTime())) { return; }
  var two = function (n) { return String(n).padStart(2, "0"); };
  input.value = t.getFullYear() + "-" + two(t.getMonth() + 1) + "-" + two(t.getDate()) +
    "T" + two(t.getHours()) + ":" + two(t.getMinutes());
});
// Times the page gives in UTC, shown in the browser's own time (without the script, UTC).
document.querySelectorAll("time[data-local][datetime]").forEach(function (el) {
  var t = new Date(el.getAttribute("datetime"));
  if (isNaN(t.getTime())) { return; }
  var two = function (n) { return String(n).padStart(2, "0"); };
  el.textContent = t.getFullYear() + "-" + two(t.getMonth() + 1) + "-" + two(t.getDate()) +
    " " + two(t.getHours()) + ":" + two(t.getMinutes());
  el.title = el.getAttribute("datetime");
});
document.addEventListener("submit", function (e) {
  e.target.querySelectorAll("input.tz-offset").forEach(function (o) {
    var input = o.previousElementSibling;
    if (input && input.value) { o.value = String(-new Date(input.value).getTimezoneOffset()); }
  });
});

document.addEventListener("change", function (e) {
  if (e.target.classList.contains("select-all")) {
    var table = e.target.closest("table");
    table.querySelectorAll("tbody input[type=checkbox]").forEach(function (c) { c.checked = e.target.checked; });
  }
});

// Reference pickers: type part of a name, pick a record, its id goes into the field.
document.querySelectorAll(".ref").forEach(function (group) {
  var search = group.querySelector(".ref-search");
  var id = group.querySelector(".ref-id");
  var results = group.querySelector(".ref-results");
  // The search API takes an entity's singular or plural code alike. A "regarding" picker
  // names the entity in a select of its own.
  var kind = group.querySelector(".ref-entity");
  var entity = function () { return kind ? kind.value : group.getAttribute("data-ref"); };
  var timer = null;
  if (kind) {
    kind.addEventListener("change", function () { id.value = ""; search.value = ""; results.textContent = ""; });
  }
  search.addEventListener("input", function () {
    clearTimeout(timer);
    var q = search.value.trim();
    if (!q) { results.textContent = ""; id.value = ""; return; }
    timer = setTimeout(function () {
      fetch("/api/v1/search?entity=" + encodeURIComponent(entity()) + "&limit=8&q=" + encodeURIComponent(q), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : { data: [] }; })
        .then(function (body) {
          results.textContent = "";
          (body.data || []).forEach(function (hit) {
            var b = document.createElement("button");
            b.type = "button";
            b.className = "link";
            b.textContent = hit.title;
            b.addEventListener("click", function () { id.value = hit.id; search.value = hit.title; results.textContent = ""; });
            results.appendChild(b);
          });
        });
    }, 200);
  });
});

// The bell's unread count, now and every 20 seconds, so a notice that falls due shows without a
// reload. (Without this script the bell is a plain link to the notifications page.)
(function () {
  var count = document.getElementById("bell-count");
  if (!count) { return; }
  var refresh = function () {
    fetch("/api/v1/notifications/unread-count", { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) {
        if (!body) { return; }
        var n = body.unread || 0;
        count.textContent = n > 99 ? "99+" : String(n);
        count.hidden = n === 0;
      })
      .catch(function () {});
  };
  refresh();
  setInterval(refresh, 20000);
})();
