/* xsell rules console (docs/rules.md): list, create, preview and delete merchant rules through
 * /dashboard/rules/*.json, which the dashboard's session cookie authenticates (no key in the
 * page). The API's 400s and 404s are shown as they come: {"error": reason}. */
(function () {
  "use strict";
  var form = document.getElementById("rule-form");
  var previewForm = document.getElementById("preview-form");

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function showError(text) {
    var box = document.getElementById("error");
    box.textContent = text || "";
    box.hidden = !text;
  }

  // a JSON call; rejects with the API's reason (a 401 goes to the sign-in page)
  function call(method, url, body) {
    var init = { method: method, credentials: "same-origin", headers: {} };
    if (body !== undefined) {
      init.headers["content-type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(url, init).then(function (answer) {
      if (answer.status === 401) { window.location = "/dashboard/login"; }
      return answer.json().catch(function () { return {}; }).then(function (data) {
        if (!answer.ok) {
          throw new Error(answer.status + ": " + (data.error || data.detail || answer.statusText));
        }
        return data;
      });
    });
  }

  function names(text) {
    return (text || "").split(/[,\s]+/).filter(function (s) { return s.length; });
  }

  function checked(name) {
    return Array.prototype.map.call(
      form.querySelectorAll("input[name=" + name + "]:checked"), function (i) { return i.value; });
  }

  // the rule of the fields: absent fields left out (an empty list is refused by the API)
  function ruleOfFields() {
    var f = form.elements;
    var when = {}, then = {};
    var lists = { placements: checked("placements"), items: names(f.items.value),
                  categories: names(f.categories.value), segments: names(f.segments.value),
                  dayparts: checked("dayparts") };
    Object.keys(lists).forEach(function (k) { if (lists[k].length) { when[k] = lists[k]; } });
    ["starts_at", "ends_at"].forEach(function (k) {
      if (f[k].value.trim()) { when[k] = f[k].value.trim(); }
    });
    ["pin", "hide", "hide_categories"].forEach(function (k) {
      var v = names(f[k].value);
      if (v.length) { then[k] = v; }
    });
    var only = names(f.only_categories.value);
    if (only.length) { then.only_categories = only; }
    var boosts = [];
    document.querySelectorAll("#boosts .boost").forEach(function (row) {
      var what = row.querySelector("select").value;
      var value = row.querySelector("input[name=boost_value]").value.trim();
      var factor = row.querySelector("input[name=boost_factor]").value;
      if (value) {
        var b = { factor: factor === "" ? null : Number(factor) };
        b[what] = value;
        boosts.push(b);
      }
    });
    if (boosts.length) { then.boost = boosts; }
    if (f.promote_tag.value.trim()) {
      then.promote = { tag: f.promote_tag.value.trim(), slots: Number(f.promote_slots.value || 1) };
    }
    if (f.max_price_ratio.value !== "") { then.max_price_ratio = Number(f.max_price_ratio.value); }
    var rule = { name: f.name.value, priority: Number(f.priority.value || 0), then: then };
    if (Object.keys(when).length) { rule.when = when; }
    return rule;
  }

  // the rule to save or preview: the JSON box when it holds something, else the fields
  function theRule() {
    var text = form.elements.json.value.trim();
    if (!text) { return ruleOfFields(); }
    try { return JSON.parse(text); } catch (err) {
      throw new Error("the rule's JSON does not parse: " + err.message);
    }
  }

  function addBoost() {
    var row = el("div", "boost");
    var what = el("select");
    ["tag", "item"].forEach(function (k) { what.appendChild(el("option", null, k)); });
    var value = el("input");
    value.name = "boost_value"; value.placeholder = "overstock";
    var factor = el("input");
    factor.name = "boost_factor"; factor.type = "number"; factor.step = "any";
    factor.value = "1.5"; factor.title = "factor in (0, 100]; below 1 demotes";
    var remove = el("button", "plain", "remove");
    remove.type = "button";
    remove.addEventListener("click", function () { row.remove(); });
    row.appendChild(el("span", null, "boost"));
    [what, value, el("span", null, "x"), factor, remove].forEach(function (n) { row.appendChild(n); });
    document.getElementById("boosts").appendChild(row);
  }

  function compact(obj) {
    return obj && Object.keys(obj).length ? JSON.stringify(obj) : "any";
  }

  function draw(list) {
    document.getElementById("version").textContent = "(version " + list.version + ")";
    var body = document.querySelector("#rules tbody");
    body.textContent = "";
    list.rules.slice().sort(function (a, b) {
      return b.priority - a.priority || (a.rule_id < b.rule_id ? -1 : 1);
    }).forEach(function (r) {
      var tr = body.appendChild(el("tr"));
      tr.dataset.ruleId = r.rule_id;
      tr.appendChild(el("td", null, r.name));
      tr.appendChild(el("td", null, String(r.priority)));
      tr.appendChild(el("td", "code", compact(withoutNulls(r.when))));
      tr.appendChild(el("td", "code", compact(withoutNulls(r.then))));
      tr.appendChild(el("td", "code", r.rule_id));
      var cell = tr.appendChild(el("td"));
      var del = cell.appendChild(el("button", "delete", "Delete"));
      del.addEventListener("click", function () { remove(r); });
    });
    document.getElementById("no-rules").hidden = list.rules.length > 0;
  }

  // a stored rule's fields that say something (no nulls, no empty lists), at every depth
  function withoutNulls(obj) {
    if (Array.isArray(obj)) { return obj.map(withoutNulls); }
    if (obj === null || typeof obj !== "object") { return obj; }
    var out = {};
    Object.keys(obj).forEach(function (k) {
      var v = obj[k];
      if (v === null || (Array.isArray(v) && !v.length)) { return; }
      out[k] = withoutNulls(v);
    });
    return out;
  }

  function load() {
    return call("GET", "/dashboard/rules/list.json").then(function (list) {
      draw(list);
      document.getElementById("status").textContent =
        "updated " + new Date().toLocaleTimeString();
      document.body.setAttribute("data-ready", "1");
    }).catch(function (err) { showError(err.message); });
  }

  function remove(rule) {
    if (!window.confirm("Delete the rule \"" + rule.name + "\"?")) { return; }
    call("DELETE", "/dashboard/rules/list.json/" + encodeURIComponent(rule.rule_id))
      .then(function () { showError(""); return load(); })
      .catch(function (err) { showError(err.message); });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var rule;
    try { rule = theRule(); } catch (err) { showError(err.message); return; }
    call("POST", "/dashboard/rules/list.json", rule).then(function (made) {
      showError("");
      document.getElementById("status").textContent =
        "saved " + made.rule_id + " (version " + made.version + ")";
      form.reset();
      document.getElementById("boosts").textContent = "";
      return load();
    }).catch(function (err) { showError(err.message); });
  });

  function offers(id, list) {
    var root = document.getElementById(id);
    root.textContent = "";
    list.forEach(function (o) {
      var li = root.appendChild(el("li"));
      li.dataset.itemId = o.item_id;
      li.appendChild(el("span", "item", o.item_id));
      li.appendChild(el("span", "note", " " + o.kind + " " + Number(o.score).toFixed(3)));
      var rule = o.because && o.because.rule_id;
      if (rule) { li.appendChild(el("span", "rule", " rule " + rule)); }
    });
    if (!list.length) { root.appendChild(el("li", "note", "no offers")); }
  }

  previewForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var f = previewForm.elements;
    var body = { item_ids: names(f.item_ids.value), placement: f.placement.value };
    if (f.segment.value.trim()) { body.segment = f.segment.value.trim(); }
    if (f.user_id.value.trim()) { body.user_id = f.user_id.value.trim(); }
    var rule = null;
    if (f.with_form.checked && (form.elements.name.value.trim() || form.elements.json.value.trim())) {
      try { rule = theRule(); } catch (err) { showError(err.message); return; }
    }
    var formColumn = document.getElementById("with-form");
    formColumn.textContent = "";
    if (!rule) { formColumn.appendChild(el("li", "note", "no unsaved rule in the form")); }
    call("POST", "/dashboard/rules/preview.json", body).then(function (got) {
      offers("without", got.without_rules);
      offers("with", got.with_rules);
      if (!rule) { return null; }
      return call("POST", "/dashboard/rules/preview.json",
                  Object.assign({}, body, { rule: rule })).then(function (more) {
        offers("with-form", more.with_rules);
      });
    }).then(function () {
      showError("");
      document.body.setAttribute("data-previewed", String(Date.now()));
    }).catch(function (err) { showError(err.message); });
  });

  document.getElementById("add-boost").addEventListener("click", addBoost);
  document.getElementById("to-json").addEventListener("click", function () {
    form.elements.json.value = JSON.stringify(ruleOfFields(), null, 2);
  });
  load();
})();
