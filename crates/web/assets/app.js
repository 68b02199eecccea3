// Small enhancements; every page works without this script.
"use strict";
// With the script running, reference pickers search by name, so the raw id box can hide.
document.documentElement.classList.add("js");
document.addEventListener("submit", function (e) {
  var msg = e.target.getAttribute && e.target.getAttribute("data-confirm");
  if (msg && !window.confirm(msg)) { e.preventDefault(); }
}, true);

// Times are shown and read by the server in the user's own time zone. Someone who has not chosen
// one is offered the browser's on the settings page, preselected but not saved until they save.
document.querySelectorAll("select[data-suggest-browser-zone]").forEach(function (select) {
  var zone = "";
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (err) { return; }
  var option = Array.prototype.find.call(select.options, function (o) { return o.value === zone; });
  // The instance's own zone is what "default" already gives: nothing to suggest.
  if (!option || select.getAttribute("data-default") === zone) { return; }
  select.value = zone;
  var hint = document.getElementById("time-zone-suggested");
  if (hint) { hint.hidden = false; }
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

// The navigation column: on a phone a drawer the menu button opens and closes; on a wide screen
// the button hides and shows it, and the choice is remembered.
(function () {
  var toggle = document.getElementById("nav-toggle");
  if (!toggle) { return; }
  var body = document.body;
  var phone = function () { return window.matchMedia("(max-width: 760px)").matches; };
  var sync = function () {
    var open = phone() ? body.classList.contains("nav-open") : !body.classList.contains("nav-collapsed");
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
  };
  try { if (localStorage.getItem("guanxi.nav") === "collapsed") { body.classList.add("nav-collapsed"); } } catch (e) {}
  sync();
  toggle.addEventListener("click", function () {
    if (phone()) {
      body.classList.toggle("nav-open");
    } else {
      body.classList.toggle("nav-collapsed");
      try { localStorage.setItem("guanxi.nav", body.classList.contains("nav-collapsed") ? "collapsed" : "open"); } catch (e) {}
    }
    sync();
  });
  // A tap outside the open drawer closes it.
  document.addEventListener("click", function (e) {
    if (body.classList.contains("nav-open") && !e.target.closest("#sidebar") && !e.target.closest("#nav-toggle")) {
      body.classList.remove("nav-open");
      sync();
    }
  });
})();

// "Back" on the error page goes back where there is somewhere to go back to.
document.querySelectorAll("a[data-back]").forEach(function (a) {
  if (window.history.length > 1) {
    a.addEventListener("click", function (e) { e.preventDefault(); window.history.back(); });
  }
});

// Menus (<details>) close when the user clicks elsewhere or presses Escape.
document.addEventListener("click", function (e) {
  document.querySelectorAll("details.menu[open], details.save-view[open]").forEach(function (d) {
    if (!d.contains(e.target)) { d.removeAttribute("open"); }
  });
});

// What the navigation knows of each entity: its list's address and its name, for labelling
// search results and palette entries.
var gxEntities = (function () {
  var map = {};
  document.querySelectorAll("#sidebar a[data-entity]").forEach(function (a) {
    map[a.getAttribute("data-entity")] = { href: a.getAttribute("href"), label: a.textContent.trim(), newHref: a.getAttribute("data-new"), newLabel: a.getAttribute("data-new-label") };
  });
  return map;
})();

function gxSearch(q, limit) {
  return fetch("/api/v1/search?limit=" + limit + "&q=" + encodeURIComponent(q), { credentials: "same-origin", headers: { "Accept": "application/json" } })
    .then(function (r) { return r.ok ? r.json() : { data: [] }; })
    .then(function (body) { return body.data || []; })
    .catch(function () { return []; });
}

function gxHitLink(hit) {
  var e = gxEntities[hit.entity] || { href: "/" + hit.entity, label: hit.entity };
  var a = document.createElement("a");
  a.href = e.href + "/" + hit.id;
  var title = document.createElement("span");
  title.textContent = hit.title;
  a.appendChild(title);
  if (hit.hint) {
    var sub = document.createElement("span");
    sub.className = "sub";
    sub.textContent = hit.hint;
    a.appendChild(sub);
  }
  return a;
}

// Search as you type: results grouped by entity under the box, with what tells two 张三 apart;
// arrows move, Enter opens, Enter with nothing chosen shows every result.
(function () {
  var input = document.getElementById("global-search");
  var box = document.getElementById("search-suggest");
  if (!input || !box) { return; }
  var timer = null, seq = 0;
  var close = function () { box.hidden = true; input.setAttribute("aria-expanded", "false"); };
  var links = function () { return Array.prototype.slice.call(box.querySelectorAll("a")); };
  input.addEventListener("input", function () {
    clearTimeout(timer);
    var q = input.value.trim();
    if (!q) { close(); return; }
    timer = setTimeout(function () {
      var mine = ++seq;
      gxSearch(q, 12).then(function (hits) {
        if (mine !== seq) { return; }
        box.textContent = "";
        if (!hits.length) {
          var p = document.createElement("p");
          p.textContent = input.getAttribute("data-none");
          box.appendChild(p);
        }
        var groups = {};
        var order = [];
        hits.forEach(function (h) {
          if (!groups[h.entity]) { groups[h.entity] = []; order.push(h.entity); }
          groups[h.entity].push(h);
        });
        order.forEach(function (ent) {
          var h3 = document.createElement("h3");
          h3.textContent = (gxEntities[ent] || { label: ent }).label;
          box.appendChild(h3);
          groups[ent].forEach(function (h) {
            var a = gxHitLink(h);
            a.setAttribute("role", "option");
            box.appendChild(a);
          });
        });
        var all = document.createElement("a");
        all.href = "/search?q=" + encodeURIComponent(q);
        all.textContent = input.getAttribute("data-all");
        all.className = "all";
        box.appendChild(all);
        box.hidden = false;
        input.setAttribute("aria-expanded", "true");
      });
    }, 150);
  });
  input.addEventListener("keydown", function (e) {
    var ls = links();
    var i = ls.findIndex(function (a) { return a.classList.contains("active"); });
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      if (box.hidden || !ls.length) { return; }
      e.preventDefault();
      if (i >= 0) { ls[i].classList.remove("active"); }
      i = e.key === "ArrowDown" ? (i + 1) % ls.length : (i <= 0 ? ls.length - 1 : i - 1);
      ls[i].classList.add("active");
      ls[i].scrollIntoView({ block: "nearest" });
    } else if (e.key === "Enter" && i >= 0 && !box.hidden) {
      e.preventDefault();
      window.location.href = ls[i].href;
    } else if (e.key === "Escape") {
      close();
    }
  });
  document.addEventListener("click", function (e) { if (!e.target.closest("#search-form")) { close(); } });
})();

// The command palette (Ctrl-K or ⌘-K): jump to any page or record, or start a new record.
(function () {
  var dialog = document.getElementById("palette");
  var input = document.getElementById("palette-input");
  var list = document.getElementById("palette-list");
  if (!dialog || !input || !list || !dialog.showModal) { return; }
  var pages = [];
  document.querySelectorAll("#sidebar a").forEach(function (a) {
    pages.push({ label: a.textContent.trim(), href: a.getAttribute("href"), kind: dialog.getAttribute("data-go") });
    if (a.getAttribute("data-new")) {
      pages.push({ label: a.getAttribute("data-new-label"), href: a.getAttribute("data-new"), kind: dialog.getAttribute("data-new") });
    }
  });
  document.querySelectorAll("#user-menu a").forEach(function (a) {
    pages.push({ label: a.textContent.trim(), href: a.getAttribute("href"), kind: dialog.getAttribute("data-go") });
  });
  var seq = 0;
  var item = function (label, href, kind, sub) {
    var li = document.createElement("li");
    var a = document.createElement("a");
    a.href = href;
    a.setAttribute("role", "option");
    var t = document.createElement("span");
    t.textContent = label;
    if (sub) {
      var s = document.createElement("span");
      s.className = "sub";
      s.textContent = " · " + sub;
      t.appendChild(s);
    }
    var k = document.createElement("span");
    k.className = "kind";
    k.textContent = kind;
    a.appendChild(t);
    a.appendChild(k);
    li.appendChild(a);
    return li;
  };
  var draw = function () {
    var q = input.value.trim().toLowerCase();
    list.textContent = "";
    pages.filter(function (p) { return !q || p.label.toLowerCase().indexOf(q) >= 0; }).slice(0, 8).forEach(function (p) {
      list.appendChild(item(p.label, p.href, p.kind));
    });
    var first = list.querySelector("a");
    if (first) { first.classList.add("active"); }
    if (!q) { return; }
    var mine = ++seq;
    gxSearch(q, 8).then(function (hits) {
      if (mine !== seq) { return; }
      hits.forEach(function (h) {
        var e = gxEntities[h.entity] || { href: "/" + h.entity, label: h.entity };
        list.appendChild(item(h.title, e.href + "/" + h.id, e.label, h.hint));
      });
      if (!list.querySelector("a.active")) {
        var f = list.querySelector("a");
        if (f) { f.classList.add("active"); }
      }
    });
  };
  var open = function () {
    input.value = "";
    draw();
    dialog.showModal();
    input.focus();
  };
  document.addEventListener("keydown", function (e) {
    if ((e.ctrlKey || e.metaKey) && (e.key === "k" || e.key === "K")) {
      e.preventDefault();
      if (dialog.open) { dialog.close(); } else { open(); }
    }
  });
  input.addEventListener("input", draw);
  input.addEventListener("keydown", function (e) {
    var ls = Array.prototype.slice.call(list.querySelectorAll("a"));
    var i = ls.findIndex(function (a) { return a.classList.contains("active"); });
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      if (!ls.length) { return; }
      if (i >= 0) { ls[i].classList.remove("active"); }
      i = e.key === "ArrowDown" ? (i + 1) % ls.length : (i <= 0 ? ls.length - 1 : i - 1);
      ls[i].classList.add("active");
      ls[i].scrollIntoView({ block: "nearest" });
    } else if (e.key === "Enter" && i >= 0) {
      e.preventDefault();
      window.location.href = ls[i].href;
    }
  });
  dialog.addEventListener("click", function (e) { if (e.target === dialog) { dialog.close(); } });
})();

// A select that completes its form's step submits on change (without the script, its button).
document.addEventListener("change", function (e) {
  if (e.target.matches && e.target.matches("select[data-autosubmit]") && e.target.value) {
    e.target.form.submit();
  }
});
// Pop-over panels close on a click elsewhere.
document.addEventListener("click", function (e) {
  document.querySelectorAll("details.pop[open]").forEach(function (d) {
    if (!d.contains(e.target)) { d.removeAttribute("open"); }
  });
});

// Chinese addresses: province → city → district as cascading choices from the national
// division list while the country is China (or blank), free text otherwise; an address pasted
// on one line is split into its parts. (Without the script the parts are text boxes, and the
// server splits a one-line address when the parts are left empty.)
document.querySelectorAll("[data-address]").forEach(function (group) {
  var part = function (p) { return group.querySelector("input[data-part=" + p + "]"); };
  var country = part("country"), prov = part("province"), city = part("city"), dist = part("district"), street = part("street");
  var line = group.querySelector(".address-line");
  var note = group.querySelector(".address-note");
  if (!country || !prov || !city || !dist) { return; }
  var inChina = function () {
    var c = country.value.trim().toLowerCase();
    return c === "" || c === "中国" || c === "cn" || c === "china" || c === "中华人民共和国" || c === "中国大陆";
  };
  var load = function (parent) {
    return fetch("/api/v1/divisions" + (parent ? "?parent=" + encodeURIComponent(parent) : ""), { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : { data: [] }; })
      .then(function (b) { return b.data || []; })
      .catch(function () { return []; });
  };
  var select = function (input) {
    var s = document.createElement("select");
    s.className = "division";
    s.setAttribute("aria-label", input.getAttribute("aria-label"));
    input.parentNode.insertBefore(s, input);
    return s;
  };
  var sp = select(prov), sc = select(city), sd = select(dist);
  var fill = function (s, input, items) {
    s.textContent = "";
    var first = document.createElement("option");
    first.value = "";
    first.textContent = input.getAttribute("placeholder");
    s.appendChild(first);
    var found = null;
    items.forEach(function (it) {
      var o = document.createElement("option");
      o.value = it.name;
      o.setAttribute("data-code", it.code);
      o.textContent = it.name;
      if (it.name === input.value) { o.selected = true; found = it; }
      s.appendChild(o);
    });
    // A value from before (or from elsewhere) that the list does not hold is kept, not lost.
    if (input.value && !found) {
      var keep = document.createElement("option");
      keep.value = input.value;
      keep.textContent = input.value;
      keep.selected = true;
      s.appendChild(keep);
    }
    // A municipality has one city, itself: chosen for the user.
    if (!input.value && items.length === 1) {
      input.value = items[0].name;
      s.value = items[0].name;
      found = items[0];
    }
    s.disabled = items.length === 0 && !input.value;
    return found;
  };
  var codeOf = function (s) {
    var o = s.options[s.selectedIndex];
    return o ? o.getAttribute("data-code") : null;
  };
  var cascade = function () {
    return load(null).then(function (ps) {
      var p = fill(sp, prov, ps);
      return p ? load(p.code) : [];
    }).then(function (cs) {
      var c = fill(sc, city, cs);
      return c ? load(c.code) : [];
    }).then(function (ds) { fill(sd, dist, ds); });
  };
  var mode = function () {
    var on = inChina();
    [sp, sc, sd].forEach(function (s) { s.hidden = !on; });
    [prov, city, dist].forEach(function (i) { i.hidden = on; });
  };
  sp.addEventListener("change", function () {
    prov.value = sp.value; city.value = ""; dist.value = "";
    fill(sd, dist, []);
    var code = codeOf(sp);
    (code ? load(code) : Promise.resolve([])).then(function (cs) {
      var c = fill(sc, city, cs);
      return c ? load(c.code) : [];
    }).then(function (ds) { fill(sd, dist, ds); });
  });
  sc.addEventListener("change", function () {
    city.value = sc.value; dist.value = "";
    var code = codeOf(sc);
    (code ? load(code) : Promise.resolve([])).then(function (ds) { fill(sd, dist, ds); });
  });
  sd.addEventListener("change", function () { dist.value = sd.value; });
  country.addEventListener("input", mode);
  var split = function () {
    var text = line.value.trim();
    if (!text) { return; }
    fetch("/api/v1/divisions/split?line=" + encodeURIComponent(text), { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (parts) {
        if (!parts || !parts.province) {
          if (note) { note.textContent = group.getAttribute("data-not-recognized"); }
          return;
        }
        if (note) { note.textContent = ""; }
        if (!country.value) { country.value = "中国"; }
        prov.value = parts.province; city.value = parts.city || ""; dist.value = parts.district || "";
        if (street) { street.value = parts.street || ""; }
        line.value = "";
        mode();
        cascade();
      })
      .catch(function () {});
  };
  line.addEventListener("change", split);
  line.addEventListener("keydown", function (e) { if (e.key === "Enter") { e.preventDefault(); split(); } });
  mode();
  cascade();
});

// Phones and e-mails: "add another" copies the last empty pair of boxes with the next number.
// (Without the script the form always offers two empty pairs.)
document.querySelectorAll(".group.list[data-list]").forEach(function (group) {
  var button = group.querySelector(".add-item");
  if (!button) { return; }
  button.hidden = false;
  button.addEventListener("click", function () {
    var items = group.querySelectorAll(".item");
    var last = items[items.length - 1];
    var copy = last.cloneNode(true);
    var n = items.length;
    copy.querySelectorAll("input").forEach(function (input) {
      input.value = "";
      input.removeAttribute("id");
      input.name = input.name.replace(/\.\d+\./, "." + n + ".");
      var label = input.getAttribute("aria-label");
      if (label) { input.setAttribute("aria-label", label.replace(/\d+/, String(n + 1))); }
    });
    group.insertBefore(copy, button);
    copy.querySelector("input").focus();
    // The server reads twenty at most.
    if (n + 1 >= 20) { button.hidden = true; }
  });
});

// Editing a field in place on a record page: its inputs come from the record's edit form, so
// each kind edits as it does there; saved alone, then the page shows the new value and says so.
(function () {
  var fields = document.getElementById("fields");
  if (!fields) { return; }
  var editUrl = fields.getAttribute("data-edit-url");
  var saveUrl = fields.getAttribute("data-save-url");
  var formPage = null;
  var page = function () {
    if (!formPage) {
      formPage = fetch(editUrl, { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : ""; })
        .then(function (html) { return new DOMParser().parseFromString(html, "text/html"); });
    }
    return formPage;
  };
  fields.querySelectorAll("dd[data-edit]").forEach(function (dd) {
    var button = dd.querySelector(".edit-in-place");
    if (!button) { return; }
    button.hidden = false;
    var name = dd.getAttribute("data-edit");
    button.addEventListener("click", function () {
      page().then(function (doc) {
        var source = doc.querySelector('.field[data-field="f.' + name + '"]');
        if (!source) { window.location.href = editUrl; return; }
        var form = document.createElement("form");
        form.className = "edit-here";
        Array.prototype.slice.call(source.children).forEach(function (child) {
          if (child.tagName === "LABEL" || child.classList.contains("field-error")) { return; }
          form.appendChild(document.importNode(child, true));
        });
        // The control keeps the field's label for people who cannot see the layout.
        var control = form.querySelector("input, select, textarea");
        if (control && !control.getAttribute("aria-label")) {
          var dt = dd.previousElementSibling;
          control.setAttribute("aria-label", dt ? dt.textContent.trim() : name);
        }
        var message = document.createElement("p");
        message.className = "field-error";
        message.setAttribute("role", "alert");
        var save = document.createElement("button");
        save.className = "primary small";
        save.textContent = fields.getAttribute("data-save");
        var cancel = document.createElement("button");
        cancel.type = "button";
        cancel.className = "small";
        cancel.textContent = fields.getAttribute("data-cancel");
        var bar = document.createElement("span");
        bar.className = "edit-buttons";
        bar.appendChild(save);
        bar.appendChild(cancel);
        form.appendChild(bar);
        form.appendChild(message);
        var value = dd.querySelector(".value");
        value.hidden = true;
        button.hidden = true;
        dd.appendChild(form);
        if (control) { control.focus(); }
        cancel.addEventListener("click", function () {
          form.remove();
          value.hidden = false;
          button.hidden = false;
        });
        form.addEventListener("keydown", function (e) { if (e.key === "Escape") { cancel.click(); } });
        form.addEventListener("submit", function (e) {
          e.preventDefault();
          var body = new URLSearchParams(new FormData(form));
          body.set("_csrf", fields.getAttribute("data-csrf"));
          body.set("version", fields.getAttribute("data-version"));
          body.set("field", name);
          save.disabled = true;
          fetch(saveUrl, { method: "POST", credentials: "same-origin", body: body })
            .then(function (r) { return r.json().then(function (j) { return { ok: r.ok, body: j }; }); })
            .then(function (res) {
              if (res.ok && res.body.reload) { window.location.href = res.body.reload; return; }
              message.textContent = res.body.message || "";
              save.disabled = false;
            })
            .catch(function () { save.disabled = false; });
        });
      });
    });
  });
})();

// 查重 while a record is typed: after a pause, the form asks which records it may duplicate and
// lists them above the fields (a link to each the user may read, the owner's name for the
// others), with "save anyway" where the rules only warn.
(function () {
  var form = document.querySelector("form[data-dedupe]");
  if (!form) { return; }
  var box = document.getElementById("duplicates");
  var heading = box.querySelector(".dups-heading");
  var list = box.querySelector(".dups-lines");
  var override = box.querySelector(".dups-override");
  var keys = /^f\.(name|tax_id|website|family_name|given_name|phones\.\d+\.number|emails\.\d+\.address)$/;
  var timer = null, seq = 0;
  var ask = function () {
    var mine = ++seq;
    fetch(form.getAttribute("data-dedupe"), { method: "POST", credentials: "same-origin", body: new URLSearchParams(new FormData(form)) })
      .then(function (r) { return r.ok ? r.json() : { lines: [] }; })
      .then(function (res) {
        if (mine !== seq) { return; }
        list.textContent = "";
        if (!res.lines || !res.lines.length) { box.hidden = true; return; }
        heading.textContent = res.heading;
        res.lines.forEach(function (l) {
          var li = document.createElement("li");
          if (l.href) {
            var a = document.createElement("a");
            a.href = l.href;
            a.target = "_blank";
            a.rel = "noopener";
            a.textContent = l.text;
            li.appendChild(a);
          } else {
            li.textContent = l.text;
          }
          list.appendChild(li);
        });
        override.hidden = !res.can_override;
        box.hidden = false;
      })
      .catch(function () {});
  };
  form.addEventListener("input", function (e) {
    if (!e.target.name || !keys.test(e.target.name)) { return; }
    clearTimeout(timer);
    timer = setTimeout(ask, 400);
  });
})();

// Pickers of people, and lists too long to scan: a search box over the select narrows its
// options as you type, by name or by pinyin (`zhouting`, `zt` for 周婷, from each option's
// data-keys), and picks the first that fits. The box sits after the select in the page, so a
// label wrapped around the select still names the select, and is drawn above it. Enter in the
// box does not submit the form: the choice is confirmed by the form's own button.
document.querySelectorAll("select[data-search]").forEach(function (select) {
  var wrap = document.createElement("span");
  wrap.className = "picker-search";
  select.parentNode.insertBefore(wrap, select);
  wrap.appendChild(select);
  var box = document.createElement("input");
  box.type = "search";
  box.className = "select-search";
  box.placeholder = select.getAttribute("data-search");
  var named = select.labels && select.labels.length ? select.labels[0].textContent.trim() : (select.getAttribute("aria-label") || "");
  box.setAttribute("aria-label", (named ? named + " · " : "") + box.placeholder);
  if (select.id) { box.id = select.id + "-search"; box.setAttribute("aria-controls", select.id); }
  wrap.appendChild(box);
  var none = document.createElement("span");
  none.className = "select-none";
  none.setAttribute("role", "status");
  none.hidden = true;
  none.textContent = select.getAttribute("data-search-none");
  wrap.appendChild(none);
  var options = Array.prototype.slice.call(select.options);
  var squash = function (s) { return s.toLowerCase().replace(/\s+/g, ""); };
  box.addEventListener("input", function () {
    var q = squash(box.value);
    var first = null;
    options.forEach(function (o) {
      var fits = !q || (o.value !== "" && squash(o.text + (o.getAttribute("data-keys") || "")).indexOf(q) >= 0);
      o.hidden = !fits;
      if (fits && q && !first) { first = o; }
    });
    if (first) { select.value = first.value; select.dispatchEvent(new Event("change", { bubbles: true })); }
    none.hidden = !q || !!first;
  });
  box.addEventListener("keydown", function (e) {
    if (e.key === "Enter") { e.preventDefault(); select.focus(); }
  });
});

// Boards: drag a card to another column to move it. Pointer events, so a mouse, a pen, a finger
// (by the card's grip) and WebDriver's actions all drag. A card's move link (a page asking where
// to, without the script) opens a menu of the columns instead, for keyboards and phones. Either
// posts the board's one move form with the card's id and version, and shows the board the
// server answers: its counts and sums, or why the move was refused, with the card back where
// it was.
(function () {
  var area = document.getElementById("board-area");
  if (!area) { return; }
  var drag = null;

  function columnAt(x, y) {
    var el = document.elementFromPoint(x, y);
    return el && el.closest ? el.closest(".board-col") : null;
  }
  function mark(col) {
    document.querySelectorAll(".board-col.drop").forEach(function (c) { if (c !== col) { c.classList.remove("drop"); } });
    if (col) { col.classList.add("drop"); }
  }
  // A card dropped on a column, shown there until the server answers: where it came from, so
  // that a cancelled close puts it back.
  var placed = null;
  var dialog = null;
  function putBack() {
    if (placed && placed.list) { placed.list.insertBefore(placed.card, placed.next); }
    placed = null;
  }
  function closeDialog() {
    // Called once the card is where the server says (placed is null): nothing to put back.
    if (dialog && dialog.open) { dialog.close(); }
  }
  // A move that asks for more (closing as lost asks why): the server's form, in a dialog over
  // the board, focus on its first field; Esc or Cancel puts the card back.
  function ask(section) {
    if (!dialog) {
      dialog = document.createElement("dialog");
      dialog.className = "board-dialog";
      dialog.id = "board-dialog";
      document.body.appendChild(dialog);
      dialog.addEventListener("close", function () {
        putBack();
        dialog.innerHTML = "";
      });
      dialog.addEventListener("click", function (e) {
        if (e.target.closest && e.target.closest("#board-close-cancel")) { e.preventDefault(); dialog.close(); }
      });
      dialog.addEventListener("submit", function (e) {
        var form = e.target.closest && e.target.closest(".board-close-form");
        if (!form) { return; }
        e.preventDefault();
        send(form);
      });
    }
    dialog.innerHTML = "";
    dialog.setAttribute("aria-labelledby", "board-close-title");
    dialog.appendChild(document.adoptNode(section));
    if (!dialog.open) {
      if (dialog.showModal) { dialog.showModal(); } else { dialog.setAttribute("open", ""); }
    }
    var first = dialog.querySelector(".action-field.invalid select, .action-field.invalid input, .action-field.invalid textarea") ||
      dialog.querySelector("select, textarea, input:not([type=hidden])");
    if (first) { first.focus(); }
  }
  function show(html) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var fresh = doc.getElementById("board-area");
    var board = document.getElementById("board");
    var asked = fresh && fresh.querySelector("#board-close");
    if (asked) {
      if (board) { board.classList.remove("busy"); }
      ask(asked);
      return;
    }
    placed = null;
    closeDialog();
    if (fresh) { area.innerHTML = fresh.innerHTML; }
    var notice = document.getElementById("notice");
    var freshNotice = doc.getElementById("notice");
    if (notice) { notice.remove(); }
    if (freshNotice) { area.parentNode.insertBefore(freshNotice, area.parentNode.firstChild); }
    var problem = document.getElementById("board-problem");
    if (problem) { problem.setAttribute("tabindex", "-1"); problem.focus(); }
  }
  function send(form) {
    var board = document.getElementById("board");
    if (board) { board.classList.add("busy"); }
    return fetch(form.action, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(new FormData(form)).toString()
    }).then(function (r) { return r.text(); })
      .then(show)
      .catch(function () { form.submit(); });
  }

  // Moves `card` to column `to` through the board's move form.
  function move(card, to) {
    var form = document.getElementById("board-move");
    var link = card.querySelector(".card-move");
    if (!form || !link) { return; }
    form.action = link.pathname;
    form.elements.version.value = card.getAttribute("data-version") || "";
    form.elements.to.value = to;
    send(form);
  }

  // The move link: a menu of the other columns, named as their headings name them.
  var menu = null;
  function openMenu(card, link) {
    if (!menu) {
      menu = document.createElement("dialog");
      menu.className = "board-menu";
      menu.id = "board-menu";
      document.body.appendChild(menu);
      menu.addEventListener("click", function (e) {
        var b = e.target.closest && e.target.closest("button");
        if (!b) { return; }
        var chosen = menu.card;
        menu.close();
        if (b.hasAttribute("data-to") && chosen) { move(chosen, b.getAttribute("data-to")); }
      });
    }
    menu.card = card;
    menu.innerHTML = "";
    var title = document.createElement("h2");
    title.id = "board-menu-title";
    title.textContent = link.getAttribute("aria-label");
    menu.setAttribute("aria-labelledby", title.id);
    menu.appendChild(title);
    var list = document.createElement("div");
    list.className = "board-menu-list";
    var from = card.closest(".board-col");
    document.querySelectorAll("#board .board-col").forEach(function (col) {
      if (col === from) { return; }
      var b = document.createElement("button");
      b.type = "button";
      b.setAttribute("data-to", col.getAttribute("data-column"));
      b.className = "board-menu-to " + (col.getAttribute("data-state") || "");
      var h = col.querySelector("h2");
      b.textContent = h ? h.textContent : "";
      list.appendChild(b);
    });
    menu.appendChild(list);
    var cancel = document.createElement("button");
    cancel.type = "button";
    cancel.className = "board-menu-cancel";
    cancel.textContent = area.getAttribute("data-cancel") || "×";
    menu.appendChild(cancel);
    if (menu.showModal) { menu.showModal(); } else { menu.setAttribute("open", ""); }
    var first = list.querySelector("button");
    if (first) { first.focus(); }
  }
  area.addEventListener("click", function (e) {
    var link = e.target.closest && e.target.closest(".card-move");
    if (!link || e.ctrlKey || e.metaKey || e.shiftKey) { return; }
    var card = link.closest(".board-card");
    if (!card) { return; }
    e.preventDefault();
    openMenu(card, link);
  });

  area.addEventListener("pointerdown", function (e) {
    var card = e.target.closest && e.target.closest(".board-card");
    if (!card || !card.querySelector(".card-move") || e.button !== 0) { return; }
    // Links, the select and the button keep their own clicks; a finger drags by the grip, so
    // the page still scrolls under it.
    if (e.target.closest("a, select, button, input")) { return; }
    if (e.pointerType === "touch" && !e.target.closest(".grip")) { return; }
    drag = { card: card, from: card.closest(".board-col"), x: e.clientX, y: e.clientY, ghost: null, id: e.pointerId };
  });

  document.addEventListener("pointermove", function (e) {
    if (!drag || e.pointerId !== drag.id) { return; }
    if (!drag.ghost) {
      if (Math.abs(e.clientX - drag.x) + Math.abs(e.clientY - drag.y) < 6) { return; }
      var rect = drag.card.getBoundingClientRect();
      drag.dx = drag.x - rect.left;
      drag.dy = drag.y - rect.top;
      drag.ghost = drag.card.cloneNode(true);
      drag.ghost.classList.add("board-ghost");
      drag.ghost.removeAttribute("data-id");
      drag.ghost.style.width = rect.width + "px";
      document.body.appendChild(drag.ghost);
      document.body.classList.add("board-dragging");
      drag.card.classList.add("dragging");
    }
    e.preventDefault();
    drag.ghost.style.left = (e.clientX - drag.dx) + "px";
    drag.ghost.style.top = (e.clientY - drag.dy) + "px";
    mark(columnAt(e.clientX, e.clientY));
  });

  function end(e, cancelled) {
    if (!drag || e.pointerId !== drag.id) { return; }
    var d = drag;
    drag = null;
    mark(null);
    if (!d.ghost) { return; }
    d.ghost.remove();
    document.body.classList.remove("board-dragging");
    d.card.classList.remove("dragging");
    var to = cancelled ? null : columnAt(e.clientX, e.clientY);
    if (!to || to === d.from) { return; }
    // The card shows in its new column at once; the server's board replaces it either way.
    var list = to.querySelector(".board-cards");
    if (list) {
      placed = { card: d.card, list: d.card.parentNode, next: d.card.nextSibling };
      list.insertBefore(d.card, list.firstChild);
    }
    move(d.card, to.getAttribute("data-column"));
  }
  document.addEventListener("pointerup", function (e) { end(e, false); });
  document.addEventListener("pointercancel", function (e) { end(e, true); });
  // A drag that moved must not also open the card's link.
  area.addEventListener("click", function (e) {
    if (e.target.closest && e.target.closest(".board-card.dragging")) { e.preventDefault(); }
  }, true);
  // Text is not selected while a card is dragged.
  area.addEventListener("dragstart", function (e) { if (drag) { e.preventDefault(); } });
})();

// The calendar: drag an entry to another time or day (pointer events, so mouse, touch and
// pen alike). The drop posts the calendar's move form; the server moves it through the same
// rules as an edit and the page comes back saying what happened. Without the script, an
// entry's edit form moves it.
(function () {
  var form = document.getElementById("cal-move");
  if (!form) { return; }
  var drag = null;
  var justDragged = false;
  var pad = function (n) { return (n < 10 ? "0" : "") + n; };
  var dropAt = function (x, y) {
    var el = document.elementFromPoint(x, y);
    return el && el.closest ? el.closest(".cal-col, .cal-cell") : null;
  };
  var startFor = function (target, y) {
    var day = target.getAttribute("data-day");
    if (target.classList.contains("cal-cell")) {
      return day + "T" + drag.entry.getAttribute("data-time");
    }
    var first = parseInt(target.getAttribute("data-first-hour") || "0", 10);
    var rect = target.getBoundingClientRect();
    var top = y - rect.top - drag.grabY;
    var minutes = first * 60 + Math.round(top / 24 * 30 / 15) * 15;
    minutes = Math.max(0, Math.min(minutes, 24 * 60 - 15));
    return day + "T" + pad(Math.floor(minutes / 60)) + ":" + pad(minutes % 60);
  };
  var clearDrop = function () {
    document.querySelectorAll(".cal-col.drop, .cal-cell.drop").forEach(function (d) { d.classList.remove("drop"); });
  };
  document.addEventListener("pointerdown", function (e) {
    var entry = e.target.closest && e.target.closest(".cal-entry[data-movable]");
    if (!entry || e.button !== 0) { return; }
    // On a phone the week is a list by day, which scrolls rather than drags.
    var col = entry.closest(".cal-col");
    if (col && getComputedStyle(col).display !== "grid") { return; }
    // No text selection or link drag of the browser's own while the entry is held.
    e.preventDefault();
    var rect = entry.getBoundingClientRect();
    drag = { entry: entry, x: e.clientX, y: e.clientY, grabY: e.clientY - rect.top, moving: false, id: e.pointerId };
  });
  document.addEventListener("pointermove", function (e) {
    if (!drag || e.pointerId !== drag.id) { return; }
    var dx = e.clientX - drag.x;
    var dy = e.clientY - drag.y;
    if (!drag.moving && Math.abs(dx) + Math.abs(dy) < 6) { return; }
    if (!drag.moving) {
      drag.moving = true;
      drag.entry.classList.add("dragging");
    }
    e.preventDefault();
    drag.entry.style.transform = "translate(" + dx + "px," + dy + "px)";
    drag.entry.style.pointerEvents = "none";
    clearDrop();
    var target = dropAt(e.clientX, e.clientY);
    if (target) { target.classList.add("drop"); }
  });
  var end = function (e) {
    if (!drag || e.pointerId !== drag.id) { return; }
    var d = drag;
    drag = null;
    clearDrop();
    if (!d.moving) { return; }
    justDragged = true;
    setTimeout(function () { justDragged = false; }, 400);
    var target = e.type === "pointerup" ? dropAt(e.clientX, e.clientY) : null;
    d.entry.style.pointerEvents = "";
    if (!target) {
      d.entry.style.transform = "";
      d.entry.classList.remove("dragging");
      return;
    }
    drag = d;
    var start = startFor(target, e.clientY);
    drag = null;
    form.action = form.getAttribute("data-action-base") + d.entry.getAttribute("data-id") + "/reschedule";
    form.elements.version.value = d.entry.getAttribute("data-version");
    form.elements.start.value = start;
    form.submit();
  };
  document.addEventListener("pointerup", end);
  document.addEventListener("pointercancel", end);
  // A link's own drag (its address) would take the pointer away.
  document.addEventListener("dragstart", function (e) {
    if (e.target.closest && e.target.closest(".cal-entry")) { e.preventDefault(); }
  });
  // The click that ends a drag does not open the entry.
  document.addEventListener("click", function (e) {
    if (justDragged && e.target.closest && e.target.closest(".cal-entry")) {
      e.preventDefault();
      e.stopPropagation();
    }
  }, true);
})();

// The week and day views: each empty half hour of a day's column is a link to a new meeting at
// that time. They are drawn here rather than sent with the page (a week holds three hundred);
// without the script, each day's "+" opens a meeting at the day's first hour.
(function () {
  var grid = document.getElementById("cal-grid");
  if (!grid || !grid.hasAttribute("data-new")) { return; }
  var base = grid.getAttribute("data-new");
  var startName = grid.getAttribute("data-start");
  var endName = grid.getAttribute("data-end");
  var label = grid.getAttribute("data-label");
  var rows = parseInt(grid.getAttribute("data-rows") || "0", 10);
  var pad = function (n) { return (n < 10 ? "0" : "") + n; };
  // A local time as the form's parameter, `2026-12-07T16%3A30`; days counted in UTC so that no
  // zone of the browser moves them.
  var at = function (day, minutes) {
    var t = new Date(Date.parse(day + "T00:00:00Z") + minutes * 60000);
    return t.getUTCFullYear() + "-" + pad(t.getUTCMonth() + 1) + "-" + pad(t.getUTCDate()) +
      "T" + pad(t.getUTCHours()) + "%3A" + pad(t.getUTCMinutes());
  };
  grid.querySelectorAll(".cal-col").forEach(function (col) {
    var day = col.getAttribute("data-day");
    var weekday = col.getAttribute("data-weekday") || "";
    var first = parseInt(col.getAttribute("data-first-hour") || "0", 10);
    var slots = document.createDocumentFragment();
    for (var n = 0; n < rows; n++) {
      var minutes = first * 60 + n * 30;
      var a = document.createElement("a");
      a.className = "cal-slot r" + (1 + n * 2) + " s2";
      a.href = base + "&" + startName + "=" + at(day, minutes) + "&" + endName + "=" + at(day, minutes + 60);
      var words = label.replace("\uE000", weekday + " " + pad(Math.floor(minutes / 60)) + ":" + pad(minutes % 60));
      a.setAttribute("aria-label", words);
      a.title = words;
      slots.appendChild(a);
    }
    col.insertBefore(slots, col.firstChild);
  });
})();

// Groups of fields that belong to some values of a choice only (a call's outcome, to calls):
// each shows while the choice holds one of them, or while it holds a field the server refused.
// A hidden group is out of sight and out of the tab order; what it holds is still sent, so
// nothing typed is lost. (Without the script every group shows, headed by the values it is for.)
(function () {
  var apply = function (form) {
    form.querySelectorAll("fieldset[data-shown-by]").forEach(function (group) {
      var by = form.elements.namedItem(group.getAttribute("data-shown-by"));
      var value = by && by.value !== undefined ? by.value : "";
      var values = (group.getAttribute("data-shown-when") || "").split(" ");
      group.hidden = !(value === "" || values.indexOf(value) >= 0 || group.querySelector(".invalid"));
    });
  };
  var forms = [];
  document.querySelectorAll("fieldset[data-shown-by]").forEach(function (group) {
    var form = group.closest("form");
    if (form && forms.indexOf(form) < 0) { forms.push(form); }
  });
  forms.forEach(function (form) {
    apply(form);
    form.addEventListener("change", function (e) {
      var name = e.target && e.target.name;
      if (name && form.querySelector('fieldset[data-shown-by="' + name + '"]')) { apply(form); }
    });
  });
})();

// The timeline's quick box on a phone: only what the chosen kind needs (its subject, a task's
// due time: `data-essential-for` lists the kinds each field is essential to) shows until
// "More details" is pressed; the rest then opens below the button, so what it opens never moves
// the button itself from under the finger. Hidden fields keep what was typed and are sent
// with the rest. On a wide screen every field shows as it always did, and without the script
// the button stays hidden and every field shows.
(function () {
  var form = document.getElementById("quick-log");
  var more = document.getElementById("quick-more");
  var save = document.getElementById("quick-log-save");
  if (!form || !more || !save) { return; }
  var fields = Array.prototype.slice.call(form.querySelectorAll(".quick-field[data-essential-for]"));
  var phone = window.matchMedia("(max-width: 640px)");
  var kind = function () {
    var checked = form.querySelector("input[name=kind]:checked");
    return checked ? checked.value : "";
  };
  var essential = function (field) {
    return (" " + field.getAttribute("data-essential-for") + " ").indexOf(" " + kind() + " ") >= 0;
  };
  var holds = function (field) {
    var input = field.querySelector("input, textarea, select");
    return !!(input && input.value);
  };
  // Opened already when a detail holds something (a form the browser restored).
  var open = fields.some(function (f) { return !essential(f) && holds(f); });
  var arrange = function () {
    var focused = document.activeElement;
    var details = 0;
    fields.forEach(function (f) {
      var needed = essential(f);
      f.classList.toggle("essential", needed);
      if (!needed) { details += 1; }
      // On a phone the essentials come before the button and the details after it; on a wide
      // screen every field keeps its place.
      form.insertBefore(f, phone.matches && !needed ? save : more);
    });
    if (focused && focused !== document.activeElement && form.contains(focused)) { focused.focus(); }
    form.classList.toggle("collapsed", !open);
    more.hidden = details === 0;
    more.setAttribute("aria-expanded", open ? "true" : "false");
    more.textContent = form.getAttribute(open ? "data-less" : "data-more");
  };
  more.addEventListener("click", function () {
    open = !open;
    arrange();
  });
  form.addEventListener("change", function (e) {
    if (e.target && e.target.name === "kind") { arrange(); }
  });
  if (phone.addEventListener) { phone.addEventListener("change", arrange); }
  arrange();
})();

// Import wizard: a changed column, policy or sheet previews again; the run's page follows its
// progress without reloading, says where it stands (stopping, then its result), and reloads
// once the import is done to show its links.
document.addEventListener("change", function (e) {
  var el = e.target;
  if (!el.matches || !el.matches("#import-mapping [data-repreview]")) return;
  var form = el.form;
  var again = document.getElementById("import-repreview");
  if (form && again) {
    form.classList.add("busy");
    if (form.requestSubmit) form.requestSubmit(again); else again.click();
  }
});
(function () {
  var box = document.getElementById("import-run");
  if (!box || box.getAttribute("data-live") !== "1") return;
  var url = box.getAttribute("data-progress");
  function tick() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (p) {
        if (!p) return;
        var bar = document.getElementById("import-progress");
        if (bar) { bar.value = p.percent; bar.textContent = p.percent + "%"; }
        var text = document.getElementById("import-progress-text");
        if (text) text.textContent = p.progress_text;
        var status = document.getElementById("import-status");
        if (status) status.textContent = p.status_text;
        ["created", "updated", "skipped", "failed", "already"].forEach(function (k) {
          var dd = box.querySelector('[data-count="' + k + '"]');
          if (dd) dd.textContent = p[k];
        });
        var notice = document.getElementById("notice");
        if (notice && p.notice) { notice.textContent = "✓ " + p.notice; notice.hidden = false; }
        else if (notice && !p.live) notice.hidden = true;
        if (p.live) setTimeout(tick, 1500);
        // Once it ended, the page shows its result and links (not the "started" it came with).
        else window.location.replace(window.location.pathname);
      })
      .catch(function () { setTimeout(tick, 5000); });
  }
  setTimeout(tick, 1000);
})();
